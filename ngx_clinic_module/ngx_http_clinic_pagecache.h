
/*
 * Middle layer: the page cache in Redis (L2), shared by every node.  It
 * owns the page keys, reads and writes pages, purges a tenant's pages
 * (with the L1 zone of this node), and polls the purge generation that
 * tells the other nodes' workers about a purge.
 */


#ifndef _NGX_HTTP_CLINIC_PAGECACHE_H_INCLUDED_
#define _NGX_HTTP_CLINIC_PAGECACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"


/*
 * Called once per accepted read: blob is the cached page, in memory of the
 * pool given to the read, or NULL (not cached, Redis failed).
 */
typedef void (*ngx_http_clinic_pagecache_read_pt)(void *data,
    ngx_str_t *blob);

/* Called once per accepted purge: the new generation, or -1 on failure */
typedef void (*ngx_http_clinic_pagecache_purge_pt)(void *data,
    int64_t generation);


/* clinic:{T}:page:KIND:LOCATION:SLUG, the same key in L1 and L2 */
ngx_int_t ngx_http_clinic_pagecache_key(ngx_pool_t *pool,
    ngx_http_clinic_srv_conf_t *cscf, const char *kind, ngx_str_t *location,
    ngx_str_t *slug, ngx_str_t *key);

/*
 * NGX_OK: handler runs once, unless pool is destroyed first;
 * NGX_DECLINED: Redis is down, handler never runs; NGX_ERROR: no memory.
 */
ngx_int_t ngx_http_clinic_pagecache_read(ngx_http_clinic_srv_conf_t *cscf,
    ngx_pool_t *pool, ngx_str_t *key,
    ngx_http_clinic_pagecache_read_pt handler, void *data);

/* in the background: nobody waits for Redis' answer */
void ngx_http_clinic_pagecache_write(ngx_http_clinic_srv_conf_t *cscf,
    ngx_pool_t *pool, ngx_str_t *key, ngx_str_t *blob, time_t ttl);

/*
 * Drops the tenant's pages from this node's L1 at once (*purged of them)
 * and from Redis, and bumps the purge generation; the same returns as
 * for a read.
 */
ngx_int_t ngx_http_clinic_pagecache_purge(ngx_http_clinic_main_conf_t *cmcf,
    ngx_http_clinic_srv_conf_t *cscf, ngx_pool_t *pool, ngx_uint_t *purged,
    ngx_http_clinic_pagecache_purge_pt handler, void *data);

/*
 * Learns of purges on any node: reads the endpoint's purge log at most
 * once per interval per node, in the background
 */
void ngx_http_clinic_pagecache_poll(ngx_http_clinic_srv_conf_t *cscf,
    ngx_pool_t *pool, ngx_msec_t interval);

/* the tenant's purge generation as this node knows it; 0 until known */
uint64_t ngx_http_clinic_pagecache_generation(
    ngx_http_clinic_srv_conf_t *cscf);


#endif /* _NGX_HTTP_CLINIC_PAGECACHE_H_INCLUDED_ */
