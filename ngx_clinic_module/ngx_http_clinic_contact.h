
/*
 * Contact submissions: what is stored, and how it gets into Redis exactly
 * once, whether straight from a request or replayed from the spool.
 */


#ifndef _NGX_HTTP_CLINIC_CONTACT_H_INCLUDED_
#define _NGX_HTTP_CLINIC_CONTACT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_redis.h"


/*
 * One submission as stored: the stream, the dedupe key that makes the
 * store idempotent, the retention, and the field/value pairs of the stream
 * entry (form fields, then received, ip, user_agent, page).
 */

typedef struct {
    ngx_str_t                        stream;     /* clinic:{T}:submissions */
    ngx_str_t                        dedupe;     /* clinic:{T}:dedupe:HEX */
    time_t                           retention;  /* seconds, 0: forever */
    ngx_str_t                       *pairs;      /* name, value, name, ... */
    ngx_uint_t                       npairs;     /* number of ngx_str_t */
} ngx_http_clinic_submission_t;


/* the outcome of a store, as the handler sees it */
typedef enum {
    NGX_HTTP_CLINIC_STORE_ADDED = 0,     /* id is the new stream id */
    NGX_HTTP_CLINIC_STORE_DUPLICATE,     /* id is the earlier entry's id */
    NGX_HTTP_CLINIC_STORE_LIMITED,       /* retry_after is set */
    NGX_HTTP_CLINIC_STORE_COUNTED,       /* honeypot: counted, not stored */
    NGX_HTTP_CLINIC_STORE_FAILED         /* Redis did not take it */
} ngx_http_clinic_store_e;


typedef struct {
    ngx_uint_t                       outcome;
    ngx_str_t                        id;         /* valid during the call */
    time_t                           retry_after;
} ngx_http_clinic_store_result_t;


typedef void (*ngx_http_clinic_store_pt)(void *data,
    ngx_http_clinic_store_result_t *result);


/* rate limits to apply with the store; NULL for spool replays */
typedef struct {
    ngx_str_t                        client_key;
    ngx_uint_t                       client_count;
    time_t                           client_period;
    ngx_str_t                        tenant_key;
    ngx_uint_t                       tenant_count;
    time_t                           tenant_period;
    unsigned                         honeypot:1;
} ngx_http_clinic_store_limits_t;


/*
 * Sends the one atomic Redis script that checks the limits, drops a
 * duplicate and adds the entry.  NGX_OK: handler runs exactly once (unless
 * pool is destroyed first, which detaches it).  NGX_DECLINED: Redis is
 * known to be down, handler will not run.
 */
ngx_int_t ngx_http_clinic_contact_store(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_pool_t *pool, ngx_http_clinic_submission_t *sub,
    ngx_http_clinic_store_limits_t *limits, ngx_http_clinic_store_pt handler,
    void *data);


/* ngx_http_clinic_spool.c */

/* appends the submission durably (written and fsync'd); id gets its id */
ngx_int_t ngx_http_clinic_spool_append(ngx_http_request_t *r,
    ngx_http_clinic_submission_t *sub, ngx_str_t *id);

/* whether this worker still has spooled submissions to replay */
ngx_int_t ngx_http_clinic_contact_handler(ngx_http_request_t *r);
void ngx_http_clinic_contact_init_conf(ngx_http_clinic_main_conf_t *cmcf);

ngx_uint_t ngx_http_clinic_spool_pending(
    ngx_http_clinic_redis_endpoint_t *ep);
void ngx_http_clinic_spool_kick(void);

ngx_int_t ngx_http_clinic_spool_init_process(ngx_cycle_t *cycle);
void ngx_http_clinic_spool_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_CLINIC_CONTACT_H_INCLUDED_ */
