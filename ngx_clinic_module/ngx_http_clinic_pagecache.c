
/*
 * The page cache in Redis (L2); see the header.  Every page key of a
 * tenant is also in the set clinic:{T}:pages, so that a purge finds them
 * all without a SCAN; clinic:{T}:purge holds the purge generation.
 *
 * Every purge is also written to the endpoint's purge log: the stream
 * clinic:purges, whose entries carry a sequence number (clinic:purges:seq),
 * the tenant and its new generation.  A node reads the log once per
 * interval, whichever worker's request comes first (a lease in shared
 * memory), and keeps each tenant's generation in the stats zone for all
 * its workers: one poll per interval per node and endpoint, whatever the
 * number of tenants.  A tenant's generation is asked for once (GET) when
 * the node does not know it: after a start, or after a gap in the log.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_cache.h"
#include "ngx_http_clinic_pagecache.h"


/* the shortest interval between two reads of a purge log by one node */
#define NGX_HTTP_CLINIC_PURGE_POLL_MIN  100


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
static void ngx_http_clinic_pagecache_log_poll(
    ngx_http_clinic_srv_conf_t *cscf, ngx_msec_t interval);
static void ngx_http_clinic_pagecache_log_reply(void *data,
    redisReply *reply);
static ngx_int_t ngx_http_clinic_pagecache_log_apply(
    ngx_http_clinic_redis_endpoint_t *ep, redisReply *reply,
    ngx_atomic_uint_t from);
static void ngx_http_clinic_pagecache_log_reset(
    ngx_http_clinic_redis_endpoint_t *ep);
static void ngx_http_clinic_pagecache_log_append(
    ngx_http_clinic_srv_conf_t *cscf, long long gen);
static ngx_http_clinic_tenant_stats_t *ngx_http_clinic_pagecache_slot(
    ngx_http_clinic_srv_conf_t *cscf);


/*
 * Drops the tenant's pages from Redis, bumps its purge generation and
 * writes the purge to the log: KEYS pages set, generation, log sequence,
 * log; ARGV the tenant.
 */
static const char  ngx_http_clinic_pagecache_purge_script[] =
    "local keys = redis.call('SMEMBERS', KEYS[1])\n"
    "for i = 1, #keys, 500 do\n"
    "  redis.call('UNLINK', unpack(keys, i, math.min(i + 499, #keys)))\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "local gen = redis.call('INCR', KEYS[2])\n"
    "local seq = redis.call('INCR', KEYS[3])\n"
    "redis.call('XADD', KEYS[4], 'MAXLEN', '~', 10000, '*',\n"
    "           's', seq, 't', ARGV[1], 'g', gen)\n"
    "return gen\n";


/*
 * The log after the node's place: KEYS sequence, log; ARGV the place, -1
 * for none yet.  Returns {seq} alone when there is nothing to read, or
 * when the place is unknown, ahead of the log or too far behind it; else
 * {seq, s1, t1, g1, s2, ...}, the entries after the place, oldest first.
 */
static const char  ngx_http_clinic_pagecache_log_script[] =
    "local seq = tonumber(redis.call('GET', KEYS[1]) or 0)\n"
    "local from = tonumber(ARGV[1])\n"
    "if from < 0 or seq <= from or seq - from > 1000 then\n"
    "  return {seq}\n"
    "end\n"
    "local e = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT',\n"
    "                     seq - from)\n"
    "local out = {seq}\n"
    "for i = #e, 1, -1 do\n"
    "  local f = e[i][2]\n"
    "  out[#out + 1] = f[2]\n"
    "  out[#out + 1] = f[4]\n"
    "  out[#out + 1] = f[6]\n"
    "end\n"
    "return out\n";


/*
 * In a Redis Cluster, a script's keys must share a slot: the tenant's part
 * of a purge (its pages and generation) and the log are two scripts, the
 * log's keys tagged to share a slot of their own.  "~" is in no tenant
 * name.
 */
static const char  ngx_http_clinic_pagecache_tenant_script[] =
    "local keys = redis.call('SMEMBERS', KEYS[1])\n"
    "for i = 1, #keys, 500 do\n"
    "  redis.call('UNLINK', unpack(keys, i, math.min(i + 499, #keys)))\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return redis.call('INCR', KEYS[2])\n";

static const char  ngx_http_clinic_pagecache_append_script[] =
    "local seq = redis.call('INCR', KEYS[1])\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*',\n"
    "           's', seq, 't', ARGV[1], 'g', ARGV[2])\n"
    "return seq\n";


static ngx_str_t  ngx_http_clinic_pagecache_log_names[2][2] = {
    { ngx_string("clinic:purges:seq"), ngx_string("clinic:purges") },
    { ngx_string("clinic:{~purges}:seq"), ngx_string("clinic:{~purges}:log") }
};


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
    size_t                           lens[8];
    ngx_str_t                        prefix, pages, gen;
    const char                      *argv[8];
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
    argv[3] = (const char *) pages.data;
    lens[3] = pages.len;
    argv[4] = (const char *) gen.data;
    lens[4] = gen.len;

    if (ngx_http_clinic_redis_is_cluster(cscf->redis)) {
        /* the log is written once the generation is known */
        argv[1] = ngx_http_clinic_pagecache_tenant_script;
        lens[1] = sizeof(ngx_http_clinic_pagecache_tenant_script) - 1;
        argv[2] = "2";
        lens[2] = 1;

        return ngx_http_clinic_redis_send(cscf->redis, pool, 5, argv, lens,
                                        ngx_http_clinic_pagecache_purge_reply,
                                        op, NULL);
    }

    argv[1] = ngx_http_clinic_pagecache_purge_script;
    lens[1] = sizeof(ngx_http_clinic_pagecache_purge_script) - 1;
    argv[2] = "4";
    lens[2] = 1;
    argv[5] = (const char *) ngx_http_clinic_pagecache_log_names[0][0].data;
    lens[5] = ngx_http_clinic_pagecache_log_names[0][0].len;
    argv[6] = (const char *) ngx_http_clinic_pagecache_log_names[0][1].data;
    lens[6] = ngx_http_clinic_pagecache_log_names[0][1].len;
    argv[7] = (const char *) cscf->tenant.data;
    lens[7] = cscf->tenant.len;

    return ngx_http_clinic_redis_send(cscf->redis, pool, 8, argv, lens,
                                      ngx_http_clinic_pagecache_purge_reply,
                                      op, NULL);
}


/* a cluster's purge log entry, after the tenant's part of the purge */

static void
ngx_http_clinic_pagecache_log_append(ngx_http_clinic_srv_conf_t *cscf,
    long long gen)
{
    u_char       num[NGX_INT64_LEN];
    size_t       lens[7];
    const char  *argv[7];

    argv[0] = "EVAL";
    lens[0] = 4;
    argv[1] = ngx_http_clinic_pagecache_append_script;
    lens[1] = sizeof(ngx_http_clinic_pagecache_append_script) - 1;
    argv[2] = "2";
    lens[2] = 1;
    argv[3] = (const char *) ngx_http_clinic_pagecache_log_names[1][0].data;
    lens[3] = ngx_http_clinic_pagecache_log_names[1][0].len;
    argv[4] = (const char *) ngx_http_clinic_pagecache_log_names[1][1].data;
    lens[4] = ngx_http_clinic_pagecache_log_names[1][1].len;
    argv[5] = (const char *) cscf->tenant.data;
    lens[5] = cscf->tenant.len;
    argv[6] = (const char *) num;
    lens[6] = ngx_sprintf(num, "%L", (int64_t) gen) - num;

    (void) ngx_http_clinic_redis_send(cscf->redis, NULL, 7, argv, lens,
                                      NULL, NULL, NULL);
}


static void
ngx_http_clinic_pagecache_purge_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_pagecache_op_t *op = data;

    ngx_http_clinic_tenant_stats_t  *slot;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        op->purge(op->data, -1);
        return;
    }

    /* this node sees it at once, the others within the interval */

    slot = ngx_http_clinic_pagecache_slot(op->cscf);
    if (slot) {
        slot->purge_gen = (ngx_atomic_uint_t) reply->integer + 1;
    }

    if (ngx_http_clinic_redis_is_cluster(op->cscf->redis)) {
        ngx_http_clinic_pagecache_log_append(op->cscf, reply->integer);
    }

    op->purge(op->data, reply->integer);
}


/*
 * The tenant's purge generation as this node knows it, for the versions of
 * its pages; 0 until it is known.
 */

uint64_t
ngx_http_clinic_pagecache_generation(ngx_http_clinic_srv_conf_t *cscf)
{
    ngx_atomic_uint_t                gen;
    ngx_http_clinic_tenant_stats_t  *slot;

    slot = ngx_http_clinic_pagecache_slot(cscf);
    if (slot == NULL) {
        return 0;
    }

    gen = slot->purge_gen;

    return gen ? gen - 1 : 0;
}


/*
 * Called by each page request, costs nothing most of the time: reads the
 * endpoint's purge log when this node has not for an interval, and asks
 * for the tenant's generation when the node does not know it (and knows
 * its place in the log, so that a purge after the answer is in the log).
 */

void
ngx_http_clinic_pagecache_poll(ngx_http_clinic_srv_conf_t *cscf,
    ngx_pool_t *pool, ngx_msec_t interval)
{
    size_t                           lens[2];
    ngx_str_t                        key;
    const char                      *argv[2];
    ngx_http_clinic_redis_stats_t   *es;
    ngx_http_clinic_tenant_stats_t  *slot;

    ngx_http_clinic_pagecache_log_poll(cscf, interval);

    slot = ngx_http_clinic_pagecache_slot(cscf);
    es = cscf->redis->stats;

    if (slot == NULL || es == NULL || slot->purge_gen || !es->purge_ready
        || cscf->purge->polling
        || (cscf->purge->checked
            && ngx_current_msec - cscf->purge->checked < interval))
    {
        return;
    }

    if (ngx_http_clinic_key(pool, cscf, "purge", NULL, &key) != NGX_OK) {
        return;
    }

    cscf->purge->checked = ngx_current_msec;

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
        cscf->purge->polling = 1;
    }
}


static void
ngx_http_clinic_pagecache_poll_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_srv_conf_t *cscf = data;

    ngx_int_t                        n;
    ngx_http_clinic_tenant_stats_t  *slot;

    cscf->purge->polling = 0;

    slot = ngx_http_clinic_pagecache_slot(cscf);
    if (slot == NULL || reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_STRING) {
        n = ngx_atoi((u_char *) reply->str, reply->len);
        if (n == NGX_ERROR) {
            return;
        }

    } else if (reply->type == REDIS_REPLY_NIL) {
        n = 0;

    } else {
        return;
    }

    /* the log may have told the node a newer generation meanwhile */

    (void) ngx_atomic_cmp_set(&slot->purge_gen, 0, (ngx_atomic_uint_t) n + 1);
}


/* one worker of the node, once per interval: the lease is a CAS */

static void
ngx_http_clinic_pagecache_log_poll(ngx_http_clinic_srv_conf_t *cscf,
    ngx_msec_t interval)
{
    u_char                          from[NGX_INT64_LEN + 1], *p;
    size_t                          lens[6];
    ngx_str_t                      *names;
    const char                     *argv[6];
    ngx_atomic_uint_t               polled;
    ngx_http_clinic_redis_stats_t  *es;

    es = cscf->redis->stats;
    if (es == NULL) {
        return;
    }

    /* clinic_revalidate 0 checks the files on each request, not Redis */

    interval = ngx_max(interval, NGX_HTTP_CLINIC_PURGE_POLL_MIN);
    polled = es->purge_polled;

    if ((polled && (ngx_msec_t) (ngx_current_msec - polled) < interval)
        || !ngx_atomic_cmp_set(&es->purge_polled, polled,
                               ngx_current_msec ? ngx_current_msec : 1))
    {
        return;
    }

    if (es->purge_ready) {
        p = ngx_sprintf(from, "%uA", es->purge_seq);

    } else {
        p = ngx_cpymem(from, "-1", 2);
    }

    argv[0] = "EVAL";
    lens[0] = 4;
    argv[1] = ngx_http_clinic_pagecache_log_script;
    lens[1] = sizeof(ngx_http_clinic_pagecache_log_script) - 1;
    argv[2] = "2";
    lens[2] = 1;
    names = ngx_http_clinic_pagecache_log_names[
                                 ngx_http_clinic_redis_is_cluster(cscf->redis)];

    argv[3] = (const char *) names[0].data;
    lens[3] = names[0].len;
    argv[4] = (const char *) names[1].data;
    lens[4] = names[1].len;
    argv[5] = (const char *) from;
    lens[5] = p - from;

    /* the endpoint outlives any request: it is the reply's context */

    (void) ngx_http_clinic_redis_send(cscf->redis, NULL, 6, argv, lens,
                                      ngx_http_clinic_pagecache_log_reply,
                                      cscf->redis, NULL);
}


static void
ngx_http_clinic_pagecache_log_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_redis_endpoint_t *ep = data;

    ngx_atomic_uint_t               from, seq;
    ngx_http_clinic_redis_stats_t  *es;

    es = ep->stats;

    if (es == NULL || reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements == 0 || (reply->elements - 1) % 3
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[0]->integer < 0)
    {
        return;
    }

    seq = (ngx_atomic_uint_t) reply->element[0]->integer;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "clinic page cache: purge log of \"%V\" at %uA, this "
                   "node at %uA, %uz entries", &ep->label, seq,
                   es->purge_seq, (reply->elements - 1) / 3);

    if (!es->purge_ready) {
        /* the node's place: what the tenants are asked for from now on */
        es->purge_seq = seq;
        es->purge_ready = 1;
        return;
    }

    from = es->purge_seq;

    if (seq == from) {
        return;
    }

    if (seq < from
        || ngx_http_clinic_pagecache_log_apply(ep, reply, from) != NGX_OK)
    {
        /* the log was lost or trimmed past the node's place */
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "clinic page cache: the purge log of \"%V\" is at "
                      "%uA, this node was at %uA: every tenant's purge "
                      "generation is asked for again", &ep->label, seq, from);

        ngx_http_clinic_pagecache_log_reset(ep);
    }

    es->purge_seq = seq;
}


/* NGX_DECLINED: the entries do not follow on from the node's place */

static ngx_int_t
ngx_http_clinic_pagecache_log_apply(ngx_http_clinic_redis_endpoint_t *ep,
    redisReply *reply, ngx_atomic_uint_t from)
{
    ngx_str_t                        name;
    ngx_int_t                        s, g;
    ngx_uint_t                       i;
    redisReply                     **e;
    ngx_http_clinic_srv_conf_t      *cscf;
    ngx_http_clinic_main_conf_t     *cmcf;
    ngx_http_clinic_tenant_stats_t  *slot;

    e = reply->element;

    if ((ngx_atomic_uint_t) (reply->elements - 1) / 3
        != (ngx_atomic_uint_t) e[0]->integer - from)
    {
        return NGX_DECLINED;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_clinic_module);

    for (i = 1; i < reply->elements; i += 3) {
        if (e[i]->type != REDIS_REPLY_STRING
            || e[i + 1]->type != REDIS_REPLY_STRING
            || e[i + 2]->type != REDIS_REPLY_STRING)
        {
            return NGX_DECLINED;
        }

        s = ngx_atoi((u_char *) e[i]->str, e[i]->len);
        g = ngx_atoi((u_char *) e[i + 2]->str, e[i + 2]->len);

        if (s == NGX_ERROR || g == NGX_ERROR
            || (ngx_atomic_uint_t) s != from + (i - 1) / 3 + 1)
        {
            return NGX_DECLINED;
        }

        /* a tenant of another node, or of this one on another endpoint */

        name.data = (u_char *) e[i + 1]->str;
        name.len = e[i + 1]->len;

        cscf = ngx_http_clinic_tenant_find(cmcf, &name);

        if (cscf == NULL || cscf->redis != ep) {
            continue;
        }

        slot = ngx_http_clinic_pagecache_slot(cscf);
        if (slot) {
            slot->purge_gen = (ngx_atomic_uint_t) g + 1;
        }
    }

    return NGX_OK;
}


static void
ngx_http_clinic_pagecache_log_reset(ngx_http_clinic_redis_endpoint_t *ep)
{
    ngx_uint_t                       i;
    ngx_http_clinic_srv_conf_t     **tenants;
    ngx_http_clinic_main_conf_t     *cmcf;
    ngx_http_clinic_tenant_stats_t  *slot;

    cmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_clinic_module);
    tenants = cmcf->tenants.elts;

    for (i = 0; i < cmcf->tenants.nelts; i++) {
        if (tenants[i]->redis != ep) {
            continue;
        }

        slot = ngx_http_clinic_pagecache_slot(tenants[i]);
        if (slot) {
            slot->purge_gen = 0;
        }
    }
}


/* the tenant's place in the stats zone, or NULL */

static ngx_http_clinic_tenant_stats_t *
ngx_http_clinic_pagecache_slot(ngx_http_clinic_srv_conf_t *cscf)
{
    ngx_http_clinic_stats_t      *st;
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_clinic_module);

    if (cmcf == NULL || cmcf->stats_zone == NULL) {
        return NULL;
    }

    st = cmcf->stats_zone->data;

    if (st == NULL || st->tenant == NULL || cscf->index >= st->ntenants) {
        return NULL;
    }

    return &st->tenant[cscf->index];
}
