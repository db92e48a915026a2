
/*
 * Middle layer: the submission store.  A contact submission gets into
 * Redis exactly once, whether straight from a request or replayed from
 * the spool, through one atomic script that applies the rate limits,
 * drops a duplicate (by the dedupe key) and adds the stream entry.  The
 * store owns the script, its keys and the reading of its reply; it calls
 * only the ground (util, stats, redis).
 */


#ifndef _NGX_HTTP_CLINIC_STORE_H_INCLUDED_
#define _NGX_HTTP_CLINIC_STORE_H_INCLUDED_


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


/* the outcome of a store, as the caller sees it */
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


/* the store script's SHA1 for EVALSHA, computed once at configuration */
void ngx_http_clinic_store_init_conf(ngx_http_clinic_main_conf_t *cmcf);

/* the tenant's submissions stream */
ngx_int_t ngx_http_clinic_store_stream_key(ngx_pool_t *pool,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *key);

/* the tenant's handled marks of the inbox (a sorted set of stream ids) */
ngx_int_t ngx_http_clinic_store_handled_key(ngx_pool_t *pool,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *key);

/*
 * The tenant's stream and dedupe keys for sub, in pool; digest is the 16
 * byte MD5 that tells one submission from another.
 */
ngx_int_t ngx_http_clinic_store_keys(ngx_pool_t *pool,
    ngx_http_clinic_srv_conf_t *cscf, u_char *digest,
    ngx_http_clinic_submission_t *sub);

/* the tenant's limit keys, the client's (by its address) and its own */
ngx_int_t ngx_http_clinic_store_limit_keys(ngx_pool_t *pool,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *client,
    ngx_http_clinic_store_limits_t *limits);

/*
 * NGX_OK when both keys of sub are the tenant's own (a replayed record
 * can only ever reach its own tenant's keys), else NGX_DECLINED.
 */
ngx_int_t ngx_http_clinic_store_tenant_keys(ngx_http_clinic_srv_conf_t *cscf,
    ngx_http_clinic_submission_t *sub);

/*
 * Sends the one atomic Redis script that checks the limits, drops a
 * duplicate and adds the entry.  NGX_OK: handler runs exactly once (unless
 * pool is destroyed first, which detaches it).  NGX_DECLINED: Redis is
 * known to be down, handler will not run.
 */
ngx_int_t ngx_http_clinic_store_send(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_pool_t *pool, ngx_http_clinic_submission_t *sub,
    ngx_http_clinic_store_limits_t *limits, ngx_http_clinic_store_pt handler,
    void *data);


#endif /* _NGX_HTTP_CLINIC_STORE_H_INCLUDED_ */
