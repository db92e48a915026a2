
/*
 * The Redis layer: one pipelined, non-blocking connection per worker and
 * endpoint, driven by nginx's own events and timers.  hiredis is used for
 * the protocol only (command formatting and the reply reader).
 */


#ifndef _NGX_HTTP_CLINIC_REDIS_H_INCLUDED_
#define _NGX_HTTP_CLINIC_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <hiredis/hiredis.h>


typedef struct ngx_http_clinic_redis_op_s  ngx_http_clinic_redis_op_t;

/*
 * Called exactly once per accepted operation, unless the operation was
 * detached first.  reply is NULL when the operation failed (timeout,
 * connection lost); it may be a REDIS_REPLY_ERROR.  The reply is freed
 * when the handler returns.
 */
typedef void (*ngx_http_clinic_redis_handler_pt)(void *data,
    redisReply *reply);


struct ngx_http_clinic_redis_endpoint_s {
    ngx_str_t                        name;       /* as configured */
    ngx_str_t                        label;      /* unique, for metrics */
    ngx_addr_t                       addr;
    ngx_msec_t                       timeout;
    ngx_str_t                        password;
    ngx_str_t                        password_file;
    ngx_str_t                        user;       /* Redis 6 ACL; or none */
    ngx_int_t                        db;
    ngx_uint_t                       index;      /* in main conf endpoints */

    /* per worker state below; zero at configuration time */
    void                            *stats;      /* in the stats zone */
    ngx_log_t                       *log;
    ngx_connection_t                *conn;
    void                            *reader;     /* redisReader */
    ngx_queue_t                      pending;    /* ops, oldest first */
    ngx_queue_t                      free;       /* recycled ops */
    ngx_uint_t                       nfree;
    u_char                          *out;
    size_t                           out_len;
    size_t                           out_pos;
    size_t                           out_size;
    ngx_event_t                      flush;
    ngx_event_t                      reconnect;
    ngx_msec_t                       backoff;
    ngx_msec_t                       down_since;
    unsigned                         initialised:1;
    unsigned                         down:1;
    unsigned                         connected:1;
    unsigned                         logged_down:1;
    unsigned                         exiting:1;
};


ngx_http_clinic_redis_endpoint_t *ngx_http_clinic_redis_add(ngx_conf_t *cf,
    ngx_array_t *endpoints, ngx_str_t *addr, ngx_msec_t timeout,
    ngx_str_t *password_file, ngx_str_t *user, ngx_int_t db);
ngx_int_t ngx_http_clinic_redis_init_process(ngx_cycle_t *cycle,
    ngx_array_t *endpoints);
void ngx_http_clinic_redis_exit_process(ngx_array_t *endpoints);

/*
 * Queues one command.  NGX_OK: the handler will run exactly once (or never,
 * if detached).  NGX_DECLINED: the endpoint is known to be down and the
 * handler will never run.  NGX_ERROR: out of memory.  When pool is given,
 * the operation is detached automatically when that pool is destroyed.
 * handler may be NULL for a command whose reply nobody needs.
 */
ngx_int_t ngx_http_clinic_redis_send(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_pool_t *pool, int argc, const char **argv, const size_t *argvlen,
    ngx_http_clinic_redis_handler_pt handler, void *data,
    ngx_http_clinic_redis_op_t **opp);
void ngx_http_clinic_redis_detach(ngx_http_clinic_redis_op_t *op);
ngx_uint_t ngx_http_clinic_redis_is_up(ngx_http_clinic_redis_endpoint_t *ep);


#endif /* _NGX_HTTP_CLINIC_REDIS_H_INCLUDED_ */
