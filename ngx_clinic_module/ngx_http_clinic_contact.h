
/*
 * clinic_contact: the contact form handler.
 */


#ifndef _NGX_HTTP_CLINIC_CONTACT_H_INCLUDED_
#define _NGX_HTTP_CLINIC_CONTACT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_store.h"


ngx_int_t ngx_http_clinic_contact_handler(ngx_http_request_t *r);


/* ngx_http_clinic_spool.c */

/* appends the submission durably (written and fsync'd); id gets its id */
ngx_int_t ngx_http_clinic_spool_append(ngx_http_request_t *r,
    ngx_http_clinic_submission_t *sub, ngx_str_t *id);

/* whether this worker still has spooled submissions to replay */
ngx_uint_t ngx_http_clinic_spool_pending(
    ngx_http_clinic_redis_endpoint_t *ep);
void ngx_http_clinic_spool_kick(void);

ngx_int_t ngx_http_clinic_spool_init_process(ngx_cycle_t *cycle);
void ngx_http_clinic_spool_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_CLINIC_CONTACT_H_INCLUDED_ */
