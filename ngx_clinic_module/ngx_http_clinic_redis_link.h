
/*
 * One connection to one Redis node (a link), on the worker's event loop:
 * its address (resolved through nginx's resolver when it is a name), the
 * non-blocking connect, TLS through nginx's OpenSSL code, the handshake
 * (AUTH, SELECT, ROLE, PING), one pipelined output buffer, the reply
 * reader and the FIFO of operations waiting for their replies, timeouts
 * and reconnects with backoff.  hiredis is used for the protocol only.
 *
 * A link knows nothing of endpoints, slots or sentinels: its owner
 * (ngx_http_clinic_redis.c) is told through the callbacks below when the
 * link comes up or goes down, and may take over a reply before the
 * operation's handler sees it (a cluster redirect).
 */


#ifndef _NGX_HTTP_CLINIC_REDIS_LINK_H_INCLUDED_
#define _NGX_HTTP_CLINIC_REDIS_LINK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <hiredis/hiredis.h>


#define NGX_HTTP_CLINIC_REDIS_LINK_DATA      0
#define NGX_HTTP_CLINIC_REDIS_LINK_MASTER    1   /* checked with ROLE */
#define NGX_HTTP_CLINIC_REDIS_LINK_SENTINEL  2

/* what a link tells its owner */
#define NGX_HTTP_CLINIC_REDIS_LINK_DOWN      0
#define NGX_HTTP_CLINIC_REDIS_LINK_UP        1
#define NGX_HTTP_CLINIC_REDIS_LINK_RETRY     2   /* about to reconnect */


typedef struct ngx_http_clinic_redis_link_s  ngx_http_clinic_redis_link_t;
typedef struct ngx_http_clinic_redis_op_s    ngx_http_clinic_redis_op_t;

/*
 * Called exactly once per accepted operation, unless the operation was
 * detached first.  reply is NULL when the operation failed (timeout,
 * connection lost); it may be a REDIS_REPLY_ERROR.  The reply is freed
 * when the handler returns.
 */
typedef void (*ngx_http_clinic_redis_handler_pt)(void *data,
    redisReply *reply);

/* the link came up (its PING answered) or went down */
typedef void (*ngx_http_clinic_redis_link_state_pt)(
    ngx_http_clinic_redis_link_t *link, ngx_uint_t up);

/*
 * An error reply, before the operation's handler sees it: NGX_OK when
 * the owner took the operation over (it was queued again elsewhere).
 */
typedef ngx_int_t (*ngx_http_clinic_redis_link_redirect_pt)(
    ngx_http_clinic_redis_link_t *link, ngx_http_clinic_redis_op_t *op,
    redisReply *reply);

/* a message on a subscribed link */
typedef void (*ngx_http_clinic_redis_link_push_pt)(
    ngx_http_clinic_redis_link_t *link, redisReply *reply);


/* what every link of one endpoint shares; per worker once running */
typedef struct {
    ngx_msec_t                       timeout;
    ngx_str_t                        password;
    ngx_str_t                        user;       /* Redis 6 ACL; or none */
    ngx_int_t                        db;

#if (NGX_SSL)
    ngx_ssl_t                       *ssl;        /* NULL: plain TCP */
#else
    void                            *ssl;
#endif
    ngx_str_t                        tls_name;   /* SNI and the name checked */
    ngx_uint_t                       tls_verify;

    ngx_resolver_t                  *resolver;   /* NULL: names resolved at
                                                    configuration time */
    ngx_msec_t                       resolver_timeout;

    /* per worker */
    ngx_log_t                       *log;
    ngx_queue_t                      free;       /* recycled operations */
    ngx_uint_t                       nfree;
    ngx_uint_t                       exiting;
} ngx_http_clinic_redis_opts_t;


struct ngx_http_clinic_redis_op_s {
    ngx_queue_t                      queue;
    ngx_http_clinic_redis_opts_t    *opts;
    ngx_http_clinic_redis_link_t    *link;       /* where it waits, or NULL */
    ngx_http_clinic_redis_handler_pt handler;
    void                            *data;
    void                            *ref;
    ngx_event_t                      timer;
    uint64_t                         start;      /* usec, monotonic */

    /* kept for a cluster, which may have to send it again elsewhere */
    char                            *cmd;
    size_t                           cmd_len;
    ngx_int_t                        slot;
    ngx_uint_t                       redirects;

    /* the reply counts once this many replicas have the write (WAIT) */
    ngx_uint_t                       replicas;
    redisReply                      *held;
    uint64_t                         seq;        /* on its link */
    uint64_t                         wait_seq;   /* the WAIT covering it */

    unsigned                         done:1;
    unsigned                         asking:1;
};


struct ngx_http_clinic_redis_link_s {
    ngx_http_clinic_redis_opts_t    *opts;
    ngx_uint_t                       kind;

    ngx_str_t                        name;       /* host:port, for logs */
    ngx_str_t                        host;       /* to resolve, or none */
    in_port_t                        port;
    ngx_addr_t                       addr;       /* the address in use */
    u_char                           sockaddr[NGX_SOCKADDRLEN];
    u_char                           addr_text[NGX_SOCKADDR_STRLEN];

    void                            *owner;
    void                            *stats;      /* the endpoint's */
    void                            *node_stats; /* the node's, or NULL */
    ngx_http_clinic_redis_link_state_pt     state;
    ngx_http_clinic_redis_link_redirect_pt  redirect;
    ngx_http_clinic_redis_link_push_pt      push;

    ngx_connection_t                *conn;
    void                            *reader;     /* redisReader */
    ngx_queue_t                      pending;    /* ops, oldest first */
    u_char                          *out;
    size_t                           out_len;
    size_t                           out_pos;
    size_t                           out_size;
    ngx_event_t                      flush;
    ngx_event_t                      reconnect;
    ngx_event_t                      dns;        /* re-resolve at the TTL */
    ngx_msec_t                       backoff;
    ngx_resolver_ctx_t              *resolving;
    ngx_msec_t                       unreplicated; /* last WAIT short */
    uint64_t                         seq;        /* commands queued */
    uint64_t                         wait_seq;   /* the last WAIT's */
    ngx_uint_t                       wait_replicas;
    ngx_queue_t                      held;       /* writes in a WAIT */

    ngx_uint_t                       nslots;     /* cluster: owned slots */
    ngx_uint_t                       index;      /* in the owner's list */

    unsigned                         has_addr:1;
    unsigned                         down:1;     /* fail fast */
    unsigned                         connected:1;
    unsigned                         ready:1;    /* PING answered */
    unsigned                         logged_down:1;
    unsigned                         subscribed:1;
    unsigned                         idle:1;     /* no reconnect */
    unsigned                         tls_pending:1;
};


ngx_http_clinic_redis_link_t *ngx_http_clinic_redis_link_create(
    ngx_http_clinic_redis_opts_t *opts, ngx_uint_t kind, ngx_str_t *name,
    ngx_addr_t *addr, ngx_str_t *host, in_port_t port);
void ngx_http_clinic_redis_link_set_addr(ngx_http_clinic_redis_link_t *link,
    struct sockaddr *sa, socklen_t socklen);
ngx_int_t ngx_http_clinic_redis_link_connect(
    ngx_http_clinic_redis_link_t *link);
void ngx_http_clinic_redis_link_fail(ngx_http_clinic_redis_link_t *link,
    const char *reason);
void ngx_http_clinic_redis_link_close(ngx_http_clinic_redis_link_t *link);
void ngx_http_clinic_redis_link_destroy(ngx_http_clinic_redis_link_t *link);
ngx_uint_t ngx_http_clinic_redis_link_is_up(
    ngx_http_clinic_redis_link_t *link);

ngx_int_t ngx_http_clinic_redis_link_command(
    ngx_http_clinic_redis_link_t *link, int argc, const char **argv,
    const size_t *argvlen, ngx_http_clinic_redis_handler_pt handler,
    void *data);
ngx_int_t ngx_http_clinic_redis_link_queue(
    ngx_http_clinic_redis_link_t *link, ngx_http_clinic_redis_op_t *op,
    const char *cmd, size_t len);

ngx_http_clinic_redis_op_t *ngx_http_clinic_redis_op_get(
    ngx_http_clinic_redis_opts_t *opts);
void ngx_http_clinic_redis_op_complete(ngx_http_clinic_redis_op_t *op,
    redisReply *reply);
void ngx_http_clinic_redis_op_free(ngx_http_clinic_redis_op_t *op);
void ngx_http_clinic_redis_opts_exit(ngx_http_clinic_redis_opts_t *opts);


#endif /* _NGX_HTTP_CLINIC_REDIS_LINK_H_INCLUDED_ */
