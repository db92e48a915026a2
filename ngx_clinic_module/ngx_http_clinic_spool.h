
/*
 * The spool: contact submissions Redis could not take in time, kept on
 * local disk and replayed into Redis through the submission store.  It
 * sits below the contact handler and above the store; its invariants
 * (ownership by flock, durability before the answer, exactly once by the
 * dedupe key) are stated at the top of ngx_http_clinic_spool.c.
 */


#ifndef _NGX_HTTP_CLINIC_SPOOL_H_INCLUDED_
#define _NGX_HTTP_CLINIC_SPOOL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_store.h"


/*
 * Appends the submission durably (written and fdatasync'd) to this
 * worker's file for the tenant's Redis endpoint; id gets its spool id.
 * NGX_OK only once the record is on disk.
 */
ngx_int_t ngx_http_clinic_spool_append(ngx_http_request_t *r,
    ngx_http_clinic_submission_t *sub, ngx_str_t *id);

/* whether this worker still has spooled submissions for ep to replay */
ngx_uint_t ngx_http_clinic_spool_pending(ngx_http_clinic_srv_conf_t *cscf);

/* replays the backlog now, not at the next tick: submissions wait for it */
void ngx_http_clinic_spool_kick(void);

ngx_int_t ngx_http_clinic_spool_init_process(ngx_cycle_t *cycle);
void ngx_http_clinic_spool_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_CLINIC_SPOOL_H_INCLUDED_ */
