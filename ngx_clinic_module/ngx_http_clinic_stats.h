
/*
 * Counters shared by all workers of a node, in one small shared memory
 * zone, updated with atomic adds and read by clinic_status; beside them,
 * the node's purge state of each tenant and endpoint, which moves with
 * the counters through a reload.  Ground layer:
 * the Redis layer counts through it, so it calls nothing above itself.
 */


#ifndef _NGX_HTTP_CLINIC_STATS_H_INCLUDED_
#define _NGX_HTTP_CLINIC_STATS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"


#define NGX_HTTP_CLINIC_LATENCY_BUCKETS  8

/*
 * Workers are told apart by ngx_worker in the per-worker gauges; workers
 * past the last slot share it.
 */
#define NGX_HTTP_CLINIC_WORKER_SLOTS     64


enum {
    NGX_HTTP_CLINIC_STAT_COMMANDS = 0,
    NGX_HTTP_CLINIC_STAT_ERRORS,
    NGX_HTTP_CLINIC_STAT_TIMEOUTS,
    NGX_HTTP_CLINIC_STAT_RECONNECTS,
    NGX_HTTP_CLINIC_STAT_MOVED,
    NGX_HTTP_CLINIC_STAT_ASK,
    NGX_HTTP_CLINIC_STAT_TRYAGAIN,
    NGX_HTTP_CLINIC_STAT_MASTER_CHANGES,
    NGX_HTTP_CLINIC_STAT_REDIS_LAST
};


/* per tenant counters; the names are in ngx_http_clinic_status.c */
enum {
    NGX_HTTP_CLINIC_T_CACHE_HIT = 0,
    NGX_HTTP_CLINIC_T_CACHE_REDIS,
    NGX_HTTP_CLINIC_T_CACHE_MISS,
    NGX_HTTP_CLINIC_T_CACHE_STALE,
    NGX_HTTP_CLINIC_T_RENDERS,
    NGX_HTTP_CLINIC_T_STORED,
    NGX_HTTP_CLINIC_T_SPOOLED,
    NGX_HTTP_CLINIC_T_REJECTED,
    NGX_HTTP_CLINIC_T_SPAM,
    NGX_HTTP_CLINIC_T_LIMITED,
    NGX_HTTP_CLINIC_T_NOTIFY_SENT,
    NGX_HTTP_CLINIC_T_NOTIFY_FAILED,
    NGX_HTTP_CLINIC_T_LAST
};


#define NGX_HTTP_CLINIC_HANDLERS   8    /* ngx_http_clinic_handler_e */
#define NGX_HTTP_CLINIC_CLASSES    5    /* 1xx..5xx */


/* a cluster's or a sentinel set's nodes, as the workers meet them */
#define NGX_HTTP_CLINIC_REDIS_NODES      16
#define NGX_HTTP_CLINIC_NODE_NAME_LEN    56

typedef struct {
    ngx_atomic_t                     state;      /* 0 free, 1 taken, 2 named */
    ngx_atomic_t                     down;       /* a bit per worker */
    ngx_atomic_t                     seen;       /* a bit per worker */
    ngx_atomic_t                     role;       /* 1 master, 2 sentinel */
    ngx_atomic_t                     len;
    u_char                           name[NGX_HTTP_CLINIC_NODE_NAME_LEN];
} ngx_http_clinic_redis_node_stats_t;


typedef struct {
    ngx_atomic_t                     down;       /* a bit per worker */
    ngx_atomic_t                     counter[NGX_HTTP_CLINIC_STAT_REDIS_LAST];
    ngx_atomic_t                     latency_us;
    ngx_atomic_t                     bucket[NGX_HTTP_CLINIC_LATENCY_BUCKETS];

    /* the node's place in the endpoint's purge log (pagecache.c) */
    ngx_atomic_t                     purge_seq;
    ngx_atomic_t                     purge_ready; /* purge_seq is known */
    ngx_atomic_t                     purge_polled; /* ngx_current_msec */

    ngx_http_clinic_redis_node_stats_t  node[NGX_HTTP_CLINIC_REDIS_NODES];
} ngx_http_clinic_redis_stats_t;


typedef struct {
    ngx_atomic_t                     counter[NGX_HTTP_CLINIC_T_LAST];
    ngx_atomic_t                     requests[NGX_HTTP_CLINIC_HANDLERS]
                                             [NGX_HTTP_CLINIC_CLASSES];

    /* the tenant's purge generation + 1, as this node knows it; 0: not */
    ngx_atomic_t                     purge_gen;
} ngx_http_clinic_tenant_stats_t;


typedef struct {
    uint32_t                         layout;     /* crc of the names */
    ngx_atomic_t                     spool_depth;
    ngx_atomic_t                     spool_replayed;
    ngx_atomic_t                     spool_errors;
    /* per worker: when its oldest record still to replay was queued */
    ngx_atomic_t                     spool_oldest[NGX_HTTP_CLINIC_WORKER_SLOTS];
} ngx_http_clinic_stats_hdr_t;


struct ngx_http_clinic_stats_s {
    ngx_http_clinic_stats_hdr_t     *hdr;
    ngx_http_clinic_redis_stats_t   *redis;
    ngx_http_clinic_tenant_stats_t  *tenant;
    ngx_uint_t                       nredis;
    ngx_uint_t                       ntenants;
    ngx_str_t                       *tenant_names;  /* of this cycle */
    ngx_str_t                       *redis_labels;
    uint32_t                         layout;     /* names and format */
    uint32_t                         format;     /* the structures' sizes */
    size_t                           size;
};


extern const double  ngx_http_clinic_latency_le[];


ngx_int_t ngx_http_clinic_stats_init_conf(ngx_conf_t *cf,
    ngx_http_clinic_main_conf_t *cmcf, ngx_str_t *labels);
void ngx_http_clinic_stats_redis_up(void *stats, ngx_uint_t up);
void *ngx_http_clinic_stats_redis_node(void *stats, ngx_str_t *name,
    ngx_uint_t role);
void ngx_http_clinic_stats_redis_node_up(void *node, ngx_uint_t up);
void ngx_http_clinic_stats_redis_node_used(void *node, ngx_uint_t used);
void ngx_http_clinic_stats_redis_nodes_reset(void *stats);
ngx_uint_t ngx_http_clinic_stats_worker_slot(void);
void ngx_http_clinic_stats_redis_count(void *stats, ngx_uint_t which);
void ngx_http_clinic_stats_redis_latency(void *stats, uint64_t usec,
    ngx_uint_t error);
void ngx_http_clinic_stats_tenant_count(ngx_http_request_t *r,
    ngx_uint_t which);
ngx_int_t ngx_http_clinic_stats_log_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_CLINIC_STATS_H_INCLUDED_ */
