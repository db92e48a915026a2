
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


#include "ngx_http_clinic_redis_link.h"


#define NGX_HTTP_CLINIC_REDIS_SINGLE    0
#define NGX_HTTP_CLINIC_REDIS_SENTINEL  1
#define NGX_HTTP_CLINIC_REDIS_CLUSTER   2

#define NGX_HTTP_CLINIC_REDIS_SLOTS     16384

/* a cluster's submissions are spooled in lanes of 256 slots each */
#define NGX_HTTP_CLINIC_REDIS_LANES     64


/* an address of the configuration: a seed, a sentinel, or the one node */
typedef struct {
    ngx_str_t                        name;       /* host:port as written */
    ngx_str_t                        host;       /* a name to resolve */
    in_port_t                        port;
    ngx_addr_t                      *addrs;      /* at configuration time */
    ngx_uint_t                       naddrs;
    ngx_uint_t                       resolve;    /* by the resolver */
} ngx_http_clinic_redis_addr_t;


struct ngx_http_clinic_redis_endpoint_s {
    ngx_str_t                        name;       /* as configured */
    ngx_str_t                        label;      /* unique, for metrics */
    ngx_str_t                        key;        /* label and secrets */
    ngx_uint_t                       type;
    ngx_array_t                      addrs;      /* redis_addr_t */
    ngx_str_t                        master;     /* Sentinel's master name */
    ngx_msec_t                       timeout;
    ngx_uint_t                       replicas;   /* WAIT for stores */
    ngx_str_t                        password_file;
    ngx_str_t                        tls_ca;
    ngx_uint_t                       index;      /* in main conf endpoints */
    ngx_uint_t                       lane;       /* its first spool lane */
    ngx_str_t                        conf_file;
    ngx_uint_t                       conf_line;
    ngx_http_clinic_redis_opts_t     opts;       /* shared by its links */

    /* per worker state below; zero at configuration time */
    void                            *stats;      /* in the stats zone */
    ngx_http_clinic_redis_link_t    *main;       /* single, sentinel */
    ngx_http_clinic_redis_link_t    *sentinel;   /* the one asked */
    ngx_uint_t                       next_sentinel;
    ngx_http_clinic_redis_link_t   **links;      /* cluster: the nodes */
    ngx_uint_t                       nlinks;
    ngx_uint_t                       nalloc;
    uint16_t                        *slots;      /* link index + 1, or 0 */
    ngx_event_t                      refresh;    /* the slot map */
    ngx_msec_t                       refresh_backoff;
    ngx_uint_t                       seed;
    u_char                           sockaddr[NGX_SOCKADDRLEN];
    unsigned                         initialised:1;
    unsigned                         refreshing:1;
    unsigned                         map_ready:1;
    unsigned                         up:1;
};


ngx_http_clinic_redis_endpoint_t *ngx_http_clinic_redis_add(ngx_conf_t *cf,
    ngx_array_t *endpoints, ngx_str_t *args, ngx_uint_t nargs);
ngx_int_t ngx_http_clinic_redis_init_conf(ngx_conf_t *cf,
    ngx_array_t *endpoints);
ngx_int_t ngx_http_clinic_redis_init_process(ngx_cycle_t *cycle,
    ngx_array_t *endpoints);
void ngx_http_clinic_redis_exit_process(ngx_array_t *endpoints);

/*
 * Queues one command.  NGX_OK: the handler will run exactly once (or never,
 * if detached).  NGX_DECLINED: the endpoint (or, in a cluster, the node
 * owning the command's key) is known to be down and the handler will
 * never run.  NGX_ERROR: out of memory.  When pool is given, the operation
 * is detached automatically when that pool is destroyed.  handler may be
 * NULL for a command whose reply nobody needs.
 */
ngx_int_t ngx_http_clinic_redis_send(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_pool_t *pool, int argc, const char **argv, const size_t *argvlen,
    ngx_http_clinic_redis_handler_pt handler, void *data,
    ngx_http_clinic_redis_op_t **opp);
void ngx_http_clinic_redis_detach(ngx_http_clinic_redis_op_t *op);
void ngx_http_clinic_redis_replicated(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_http_clinic_redis_op_t *op);
ngx_uint_t ngx_http_clinic_redis_is_up(ngx_http_clinic_redis_endpoint_t *ep);
ngx_uint_t ngx_http_clinic_redis_is_cluster(
    ngx_http_clinic_redis_endpoint_t *ep);
ngx_uint_t ngx_http_clinic_redis_slot(ngx_str_t *key);
ngx_uint_t ngx_http_clinic_redis_is_up_slot(
    ngx_http_clinic_redis_endpoint_t *ep, ngx_uint_t slot);
ngx_uint_t ngx_http_clinic_redis_lanes(ngx_http_clinic_redis_endpoint_t *ep);
ngx_uint_t ngx_http_clinic_redis_lane(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_uint_t slot);


#endif /* _NGX_HTTP_CLINIC_REDIS_H_INCLUDED_ */
