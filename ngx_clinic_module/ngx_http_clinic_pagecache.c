
/*
 * The page cache in Redis (L2); see the header.  Every page key of a
 * tenant is also in the set clinic:{T}:pages, so that a purge finds them
 * all without a SCAN; clinic:{T}:purge holds the purge generation.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_cache.h"
#include "ngx_http_clinic_pagecache.h"


typedef struct {
    ngx_pool_t                          *pool;
    ngx_http_clinic_srv_conf_t          *cscf;
    ngx_http_clinic_pagecache_read_pt    read;
    ngx_http_clinic_pagecache_purge_pt   purge;
    void                                *data;
} ngx_http_clinic_pagecache_op_t;


static void ngx_http_clinic_pagecache_read_reply(void *data,
    redisReply *reply);
static void ngx_http_clinic_pagecache_purge_reply(void *data,
    redisReply *reply);
static void ngx_http_clinic_pagecache_poll_reply(void *data,
    redisReply *reply);


/* drops the tenant's pages from Redis and bumps its purge generation */
static const char  ngx_http_clinic_pagecache_purge_script[] =
    "local keys = redis.call('SMEMBERS', KEYS[1])\n"
    "for i = 1, #keys, 500 do\n"
    "  redis.call('UNLINK', unpack(keys, i, math.min(i + 499, #keys)))\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return redis.call('INCR', KEYS[2])\n";


ngx_int_t
ngx_http_clinic_pagecache_key(ngx_pool_t *pool,
    ngx_http_clinic_srv_conf_t *cscf, const char *kind, ngx_str_t *location,
    ngx_str_t *slug, ngx_str_t *key)
{
    u_char  *p;

    key->len = cscf->key_prefix.len + sizeof("page:") - 1
               + ngx_strlen(kind) + 1 + location->len + 1 + slug->len;

    key->data = ngx_pnalloc(pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(key->data, "%Vpage:%s:%V:%V", &cscf->key_prefix, kind,
                    location, slug);
    key->len = p - key->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_clinic_pagecache_read(ngx_http_clinic_srv_conf_t *cscf,
    ngx_pool_t *pool, ngx_str_t *key,
    ngx_http_clinic_pagecache_read_pt handler, void *data)
{
    size_t                           lens[2];
    const char                      *argv[2];
    ngx_http_clinic_pagecache_op_t  *op;

    op = ngx_palloc(pool, sizeof(ngx_http_clinic_pagecache_op_t));
    if (op == NULL) {
        return NGX_ERROR;
    }

    op->pool = pool;
    op->read = handler;
    op->data = data;

    argv[0] = "GET";
    lens[0] = 3;
    argv[1] = (const char *) key->data;
    lens[1] = key->len;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "clinic page cache: GET \"%V\"", key);

    return ngx_http_clinic_redis_send(cscf->redis, pool, 2, argv, lens,
                                      ngx_http_clinic_pagecache_read_reply,
                                      op, NULL);
}


static void
ngx_http_clinic_pagecache_read_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_pagecache_op_t *op = data;

    ngx_str_t            blob;
    ngx_pool_cleanup_t  *cln;

    if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
        op->read(op->data, NULL);
        return;
    }

    /*
     * The reply is freed when this handler returns: its string is taken
     * over instead of copied (a page may be 100 KB), and freed with the
     * pool.
     */

    cln = ngx_pool_cleanup_add(op->pool, 0);
    if (cln == NULL) {
        op->read(op->data, NULL);
        return;
    }

    cln->handler = free;
    cln->data = reply->str;

    blob.data = (u_char *) reply->str;
    blob.len = reply->len;

    reply->str = NULL;
    reply->len = 0;

    op->read(op->data, &blob);
}


void
ngx_http_clinic_pagecache_write(ngx_http_clinic_srv_conf_t *cscf,
    ngx_pool_t *pool, ngx_str_t *key, ngx_str_t *blob, time_t ttl)
{
    int          argc;
    u_char       num[NGX_TIME_T_LEN];
    size_t       lens[5];
    ngx_str_t    pages;
    const char  *argv[5];

    argv[0] = "SET";
    lens[0] = 3;
    argv[1] = (const char *) key->data;
    lens[1] = key->len;
    argv[2] = (const char *) blob->data;
    lens[2] = blob->len;
    argc = 3;

    if (ttl > 0) {
        argv[3] = "EX";
        lens[3] = 2;
        argv[4] = (const char *) num;
        lens[4] = ngx_sprintf(num, "%T", ttl) - num;
        argc = 5;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "clinic page cache: SET \"%V\", %uz bytes", key,
                   blob->len);

    if (ngx_http_clinic_redis_send(cscf->redis, NULL, argc, argv, lens,
                                   NULL, NULL, NULL)
        != NGX_OK
        || ngx_http_clinic_key(pool, cscf, "pages", NULL, &pages) != NGX_OK)
    {
        return;
    }

    /* the tenant's page keys, so that a purge finds them all */

    argv[0] = "SADD";
    lens[0] = 4;
    argv[1] = (const char *) pages.data;
    lens[1] = pages.len;
    argv[2] = (const char *) key->data;
    lens[2] = key->len;

    (void) ngx_http_clinic_redis_send(cscf->redis, NULL, 3, argv, lens,
                                      NULL, NULL, NULL);
}


/*
 * Links make pages depend on one another, so a purge drops all of the
 * tenant's pages: from this node's L1 at once, from Redis, and, through
 * the generation every worker polls, from the L1 of every node within the
 * revalidation interval.
 */

ngx_int_t
ngx_http_clinic_pagecache_purge(ngx_http_clinic_main_conf_t *cmcf,
    ngx_http_clinic_srv_conf_t *cscf, ngx_pool_t *pool, ngx_uint_t *purged,
    ngx_http_clinic_pagecache_purge_pt handler, void *data)
{
    size_t                           lens[5];
    ngx_str_t                        prefix, pages, gen;
    const char                      *argv[5];
    ngx_http_clinic_pagecache_op_t  *op;

    *purged = 0;

    op = ngx_palloc(pool, sizeof(ngx_http_clinic_pagecache_op_t));
    if (op == NULL
        || ngx_http_clinic_key(pool, cscf, "page:", NULL, &prefix) != NGX_OK
        || ngx_http_clinic_key(pool, cscf, "pages", NULL, &pages) != NGX_OK
        || ngx_http_clinic_key(pool, cscf, "purge", NULL, &gen) != NGX_OK)
    {
        return NGX_ERROR;
    }

    op->pool = pool;
    op->cscf = cscf;
    op->purge = handler;
    op->data = data;

    if (cmcf->cache_zone) {
        *purged = ngx_http_clinic_cache_purge(cmcf->cache_zone, &prefix);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "clinic page cache: purge of \"%V\", %ui pages of L1",
                   &cscf->tenant, *purged);

    argv[0] = "EVAL";
    lens[0] = 4;
    argv[1] = ngx_http_clinic_pagecache_purge_script;
    lens[1] = sizeof(ngx_http_clinic_pagecache_purge_script) - 1;
    argv[2] = "2";
    lens[2] = 1;
    argv[3] = (const char *) pages.data;
    lens[3] = pages.len;
    argv[4] = (const char *) gen.data;
    lens[4] = gen.len;

    return ngx_http_clinic_redis_send(cscf->redis, pool, 5, argv, lens,
                                      ngx_http_clinic_pagecache_purge_reply,
                                      op, NULL);
}


static void
ngx_http_clinic_pagecache_purge_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_pagecache_op_t *op = data;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        op->purge(op->data, -1);
        return;
    }

    /* this worker sees it at once, the others within the interval */
    op->cscf->purge_gen = reply->integer;

    op->purge(op->data, reply->integer);
}


/*
 * Learns the tenant's purge generation (clinic:{T}:purge) at most once per
 * interval, in the background: the request does not wait, and a purge on
 * another node reaches this worker's pages within the interval.  The
 * generation lives in the worker's copy of the server configuration.
 */

void
ngx_http_clinic_pagecache_poll(ngx_http_clinic_srv_conf_t *cscf,
    ngx_pool_t *pool, ngx_msec_t interval)
{
    size_t      lens[2];
    ngx_str_t   key;
    const char *argv[2];

    if (cscf->purge_polling
        || (cscf->purge_checked
            && ngx_current_msec - cscf->purge_checked < interval))
    {
        return;
    }

    if (ngx_http_clinic_key(pool, cscf, "purge", NULL, &key) != NGX_OK) {
        return;
    }

    cscf->purge_checked = ngx_current_msec;

    argv[0] = "GET";
    lens[0] = 3;
    argv[1] = (const char *) key.data;
    lens[1] = key.len;

    /* the key is copied into the command: no request memory is kept */

    if (ngx_http_clinic_redis_send(cscf->redis, NULL, 2, argv, lens,
                                   ngx_http_clinic_pagecache_poll_reply,
                                   cscf, NULL)
        == NGX_OK)
    {
        cscf->purge_polling = 1;
    }
}


static void
ngx_http_clinic_pagecache_poll_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_srv_conf_t *cscf = data;

    ngx_int_t  n;

    cscf->purge_polling = 0;

    if (reply && reply->type == REDIS_REPLY_STRING) {
        n = ngx_atoi((u_char *) reply->str, reply->len);

        if (n > 0) {
            cscf->purge_gen = n;
        }
    }
}
