
/*
 * clinic_status: the node's counters (ngx_http_clinic_stats.c) in
 * Prometheus text format.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_cache.h"
#include "ngx_http_clinic_status.h"


/*
 * The page is written in buffers of a fixed size as the client takes it,
 * a few tenants at a time: a scrape of 10,000 tenants holds two or three
 * buffers, not the whole page.  The parts, in order: the Redis series and
 * the page cache zone, one part per family of per-tenant series (each
 * family's lines together, as the text format asks), the spool.
 */

#define NGX_HTTP_CLINIC_STATUS_BUF       65536

/* the most one tenant's lines of one family take, besides its name */
#define NGX_HTTP_CLINIC_STATUS_LINES     32
#define NGX_HTTP_CLINIC_STATUS_LINE      160


typedef u_char *(*ngx_http_clinic_status_family_pt)(u_char *p, u_char *end,
    ngx_str_t *tenant, ngx_http_clinic_tenant_stats_t *t);


typedef struct {
    const char                         *help;
    ngx_http_clinic_status_family_pt    write;
} ngx_http_clinic_status_family_t;


typedef struct {
    ngx_http_clinic_stats_t            *st;
    ngx_http_clinic_main_conf_t        *cmcf;
    ngx_http_clinic_srv_conf_t        **tenants;
    ngx_uint_t                          ntenants;
    ngx_http_clinic_srv_conf_t         *one;     /* a list of one tenant */
    ngx_http_clinic_redis_endpoint_t   *only;
    size_t                              size;    /* of a buffer */
    ngx_uint_t                          part;    /* the next to write */
    ngx_uint_t                          next;    /* its next tenant */
    ngx_chain_t                        *out;
    ngx_chain_t                        *free;
    ngx_chain_t                        *busy;
    unsigned                            sum:1;   /* tenants=off */
    unsigned                            done:1;
} ngx_http_clinic_status_ctx_t;


static ngx_int_t ngx_http_clinic_status_select(ngx_http_request_t *r,
    ngx_http_clinic_status_ctx_t *ctx, ngx_http_clinic_srv_conf_t *cscf);
static void ngx_http_clinic_status_send(ngx_http_request_t *r);
static void ngx_http_clinic_status_write_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_clinic_status_fill(
    ngx_http_clinic_status_ctx_t *ctx, ngx_buf_t *b);
static u_char *ngx_http_clinic_status_family(
    ngx_http_clinic_status_ctx_t *ctx, u_char *p, u_char *end,
    ngx_uint_t f);
static u_char *ngx_http_clinic_status_head(u_char *p, u_char *end,
    ngx_http_clinic_status_ctx_t *ctx);
static u_char *ngx_http_clinic_status_spool(u_char *p, u_char *end,
    ngx_http_clinic_stats_t *st);
static u_char *ngx_http_clinic_status_zone(u_char *p, u_char *end,
    ngx_http_clinic_main_conf_t *cmcf);
static u_char *ngx_http_clinic_status_nodes(u_char *p, u_char *end,
    ngx_http_clinic_main_conf_t *cmcf, ngx_http_clinic_stats_t *st,
    ngx_http_clinic_redis_endpoint_t *only, ngx_atomic_uint_t mask);
static u_char *ngx_http_clinic_status_redis(u_char *p, u_char *end,
    ngx_http_clinic_main_conf_t *cmcf, ngx_http_clinic_stats_t *st,
    ngx_http_clinic_redis_endpoint_t *only);
static u_char *ngx_http_clinic_status_series(u_char *p, u_char *end,
    const char *name, ngx_str_t *tenant, u_char *labels,
    ngx_atomic_uint_t value);
static u_char *ngx_http_clinic_status_requests(u_char *p, u_char *end,
    ngx_str_t *tenant, ngx_http_clinic_tenant_stats_t *t);
static u_char *ngx_http_clinic_status_cache(u_char *p, u_char *end,
    ngx_str_t *tenant, ngx_http_clinic_tenant_stats_t *t);
static u_char *ngx_http_clinic_status_renders(u_char *p, u_char *end,
    ngx_str_t *tenant, ngx_http_clinic_tenant_stats_t *t);
static u_char *ngx_http_clinic_status_submissions(u_char *p, u_char *end,
    ngx_str_t *tenant, ngx_http_clinic_tenant_stats_t *t);
static u_char *ngx_http_clinic_status_notifications(u_char *p, u_char *end,
    ngx_str_t *tenant, ngx_http_clinic_tenant_stats_t *t);
static u_char *ngx_http_clinic_status_label(u_char *p, u_char *end,
    ngx_str_t *value);
static ngx_atomic_uint_t ngx_http_clinic_status_workers_mask(void);
static ngx_uint_t ngx_http_clinic_status_popcount(ngx_atomic_uint_t v);
static time_t ngx_http_clinic_status_spool_oldest(
    ngx_http_clinic_stats_hdr_t *hdr);


/* the bounds of ngx_http_clinic_latency_le[], as docs/directives.md has them */
static const char  *ngx_http_clinic_latency_labels[] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.05", "0.25", "1"
};


static const char  *ngx_http_clinic_handler_names[] = {
    "none", "articles", "api", "contact", "admin", "status", "sitemap",
    "feed"
};


static ngx_http_clinic_status_family_t  ngx_http_clinic_status_families[] = {

    { "# HELP clinic_requests_total Requests answered by the module.\n"
      "# TYPE clinic_requests_total counter\n",
      ngx_http_clinic_status_requests },

    { "# HELP clinic_cache_total Article responses by cache layer.\n"
      "# TYPE clinic_cache_total counter\n",
      ngx_http_clinic_status_cache },

    { "# HELP clinic_renders_total Articles rendered from the folder.\n"
      "# TYPE clinic_renders_total counter\n",
      ngx_http_clinic_status_renders },

    { "# HELP clinic_submissions_total Contact submissions by outcome.\n"
      "# TYPE clinic_submissions_total counter\n",
      ngx_http_clinic_status_submissions },

    { "# HELP clinic_notifications_total Notifications of new submissions "
      "(clinic_contact_notify) by outcome.\n"
      "# TYPE clinic_notifications_total counter\n",
      ngx_http_clinic_status_notifications }
};

#define NGX_HTTP_CLINIC_STATUS_FAMILIES                                       \
    (sizeof(ngx_http_clinic_status_families)                                  \
     / sizeof(ngx_http_clinic_status_family_t))

/* parts: the head, the families, the spool */
#define NGX_HTTP_CLINIC_STATUS_PARTS  (NGX_HTTP_CLINIC_STATUS_FAMILIES + 2)


/*
 * In a tenant's server block the page shows that tenant only; in a server
 * block of the operator's (no tenant) it shows every tenant of the node,
 * or the one of ?tenant=, or (clinic_status tenants=off) the node's sums.
 */

ngx_int_t
ngx_http_clinic_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_clinic_srv_conf_t    *cscf;
    ngx_http_clinic_loc_conf_t    *clcf;
    ngx_http_clinic_main_conf_t   *cmcf;
    ngx_http_clinic_status_ctx_t  *ctx;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_clinic_not_allowed(r, "GET, HEAD");
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);

    if (cmcf->stats_zone == NULL || cmcf->stats_zone->data == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_clinic_status_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->cmcf = cmcf;
    ctx->st = cmcf->stats_zone->data;
    ctx->sum = clcf->status_sum;

    /* a tenant sees its own endpoint only: another's shard is not its to see */

    ctx->only = cscf->is_tenant ? cscf->redis : NULL;

    rc = ngx_http_clinic_status_select(r, ctx, cscf);

    if (rc == NGX_DECLINED) {
        return ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "no such tenant on this node");
    }

    if (rc != NGX_OK) {
        return rc;
    }

    /* the Redis part is written whole: room for every endpoint's lines */

    ctx->size = ngx_max(NGX_HTTP_CLINIC_STATUS_BUF,
                        8192 + ctx->st->nredis * 8192);

    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_clinic_module);

    r->main->count++;

    ngx_http_clinic_status_send(r);

    return NGX_DONE;
}


/*
 * The tenants the page shows; ?tenant= names one, found in O(log n).
 * NGX_DECLINED: no such tenant.
 */

static ngx_int_t
ngx_http_clinic_status_select(ngx_http_request_t *r,
    ngx_http_clinic_status_ctx_t *ctx, ngx_http_clinic_srv_conf_t *cscf)
{
    u_char                       *dst, *src;
    ngx_str_t                     arg, name;
    ngx_http_clinic_srv_conf_t   *found;
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ctx->cmcf;

    if (ngx_http_arg(r, (u_char *) "tenant", 6, &arg) != NGX_OK) {

        if (cscf->is_tenant) {
            ctx->one = cscf;
            ctx->tenants = &ctx->one;
            ctx->ntenants = 1;

        } else {
            ctx->tenants = cmcf->tenants.elts;
            ctx->ntenants = cmcf->tenants.nelts;
        }

        return NGX_OK;
    }

    name.data = ngx_pnalloc(r->pool, arg.len);
    if (name.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dst = name.data;
    src = arg.data;
    ngx_unescape_uri(&dst, &src, arg.len, NGX_UNESCAPE_URI);
    name.len = dst - name.data;

    /* in a tenant's server, any other name is as unknown as a made-up one */

    if (cscf->is_tenant) {
        found = (name.len == cscf->tenant.len
                 && ngx_strncmp(name.data, cscf->tenant.data, name.len) == 0)
                ? cscf : NULL;

    } else {
        found = ngx_http_clinic_tenant_find(cmcf, &name);
    }

    if (found == NULL) {
        return NGX_DECLINED;
    }

    ctx->one = found;
    ctx->tenants = &ctx->one;
    ctx->ntenants = 1;
    ctx->sum = 0;

    return NGX_OK;
}


/* writes buffers while the client takes them; finalizes when all is out */

static void
ngx_http_clinic_status_send(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_buf_t                     *b;
    ngx_chain_t                   *cl;
    ngx_event_t                   *wev;
    ngx_http_core_loc_conf_t      *core;
    ngx_http_clinic_status_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_clinic_module);
    wev = r->connection->write;

    for ( ;; ) {

        if (!ctx->done && ctx->busy == NULL) {
            cl = ngx_chain_get_free_buf(r->pool, &ctx->free);
            if (cl == NULL) {
                ngx_http_finalize_request(r, NGX_ERROR);
                return;
            }

            b = cl->buf;

            if (b->start == NULL) {
                b->start = ngx_palloc(r->pool, ctx->size);
                if (b->start == NULL) {
                    ngx_http_finalize_request(r, NGX_ERROR);
                    return;
                }

                b->end = b->start + ctx->size;
                b->temporary = 1;
                b->tag = (ngx_buf_tag_t) &ngx_http_clinic_status_handler;
            }

            b->pos = b->start;
            b->last = b->start;

            if (ngx_http_clinic_status_fill(ctx, b) == NGX_DONE) {
                ctx->done = 1;
                b->last_buf = (r == r->main) ? 1 : 0;
                b->last_in_chain = 1;
            }

            ctx->out = cl;
        }

        rc = ngx_http_output_filter(r, ctx->out);

        if (rc == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        ngx_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &ctx->out,
                                (ngx_buf_tag_t)
                                &ngx_http_clinic_status_handler);

        if (ctx->done) {
            r->write_event_handler = ngx_http_request_empty_handler;
            ngx_http_finalize_request(r, rc);
            return;
        }

        if (ctx->busy == NULL) {
            continue;
        }

        /* the client has not taken the last buffer yet: wait for it */

        r->write_event_handler = ngx_http_clinic_status_write_handler;

        core = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        if (!wev->delayed) {
            ngx_add_timer(wev, core->send_timeout);
        }

        if (ngx_handle_write_event(wev, core->send_lowat) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_ERROR);
        }

        return;
    }
}


static void
ngx_http_clinic_status_write_handler(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    wev = r->connection->write;

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, NGX_ETIMEDOUT,
                      "client timed out");
        r->connection->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (wev->delayed) {
        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_ERROR);
        }

        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    ngx_http_clinic_status_send(r);
}


/* fills b with the next parts; NGX_DONE when the page is complete */

static ngx_int_t
ngx_http_clinic_status_fill(ngx_http_clinic_status_ctx_t *ctx, ngx_buf_t *b)
{
    while (ctx->part < NGX_HTTP_CLINIC_STATUS_PARTS) {

        if (ctx->part == 0) {
            b->last = ngx_http_clinic_status_head(b->last, b->end, ctx);
            ctx->part++;
            return NGX_OK;
        }

        if (ctx->part == NGX_HTTP_CLINIC_STATUS_PARTS - 1) {
            b->last = ngx_http_clinic_status_spool(b->last, b->end, ctx->st);
            ctx->part++;
            break;
        }

        b->last = ngx_http_clinic_status_family(ctx, b->last, b->end,
                                                ctx->part - 1);

        if (ctx->next < ctx->ntenants) {
            /* the buffer is full; the family goes on in the next one */
            return NGX_OK;
        }

        ctx->part++;
        ctx->next = 0;
    }

    return NGX_DONE;
}


/*
 * One family's lines from ctx->next on, as many tenants as surely fit; the
 * family's HELP and TYPE first.  With tenants=off, one set of lines summed
 * over the tenants.
 */

static u_char *
ngx_http_clinic_status_family(ngx_http_clinic_status_ctx_t *ctx, u_char *p,
    u_char *end, ngx_uint_t f)
{
    size_t                            need;
    ngx_uint_t                        i, k, h, c;
    ngx_http_clinic_srv_conf_t       *t;
    ngx_http_clinic_tenant_stats_t    sum, *ts;
    ngx_http_clinic_status_family_t  *family;

    family = &ngx_http_clinic_status_families[f];

    if (ctx->next == 0) {
        p = ngx_slprintf(p, end, "%s", family->help);
    }

    if (ctx->sum) {
        ngx_memzero(&sum, sizeof(ngx_http_clinic_tenant_stats_t));

        for (i = 0; i < ctx->ntenants; i++) {
            if (ctx->tenants[i]->index >= ctx->st->ntenants) {
                continue;
            }

            ts = &ctx->st->tenant[ctx->tenants[i]->index];

            for (k = 0; k < NGX_HTTP_CLINIC_T_LAST; k++) {
                sum.counter[k] += ts->counter[k];
            }

            for (h = 0; h < NGX_HTTP_CLINIC_HANDLERS; h++) {
                for (c = 0; c < NGX_HTTP_CLINIC_CLASSES; c++) {
                    sum.requests[h][c] += ts->requests[h][c];
                }
            }
        }

        ctx->next = ctx->ntenants;

        return family->write(p, end, NULL, &sum);
    }

    for ( /* void */ ; ctx->next < ctx->ntenants; ctx->next++) {
        t = ctx->tenants[ctx->next];

        need = NGX_HTTP_CLINIC_STATUS_LINES
               * (NGX_HTTP_CLINIC_STATUS_LINE + t->tenant.len);

        if ((size_t) (end - p) < need) {
            break;
        }

        if (t->index >= ctx->st->ntenants) {
            continue;
        }

        p = family->write(p, end, &t->tenant, &ctx->st->tenant[t->index]);
    }

    return p;
}


static u_char *
ngx_http_clinic_status_head(u_char *p, u_char *end,
    ngx_http_clinic_status_ctx_t *ctx)
{
    p = ngx_http_clinic_status_redis(p, end, ctx->cmcf, ctx->st, ctx->only);

    /* the zone is the node's, shared by every tenant: the operator's view */

    if (ctx->only == NULL) {
        p = ngx_http_clinic_status_zone(p, end, ctx->cmcf);
    }

    return p;
}


static u_char *
ngx_http_clinic_status_spool(u_char *p, u_char *end,
    ngx_http_clinic_stats_t *st)
{
    time_t  oldest;

    p = ngx_slprintf(p, end,
                     "# HELP clinic_spool_depth Submissions waiting in "
                     "the spool for Redis.\n"
                     "# TYPE clinic_spool_depth gauge\n"
                     "clinic_spool_depth %uA\n"
                     "# HELP clinic_spool_replayed_total Spooled "
                     "submissions written to Redis.\n"
                     "# TYPE clinic_spool_replayed_total counter\n"
                     "clinic_spool_replayed_total %uA\n"
                     "# HELP clinic_spool_errors_total Spool writes "
                     "or replays that failed.\n"
                     "# TYPE clinic_spool_errors_total counter\n"
                     "clinic_spool_errors_total %uA\n",
                     st->hdr->spool_depth, st->hdr->spool_replayed,
                     st->hdr->spool_errors);

    oldest = ngx_http_clinic_status_spool_oldest(st->hdr);

    return ngx_slprintf(p, end,
                        "# HELP clinic_spool_oldest_seconds Age of the "
                        "oldest submission still waiting in a worker's "
                        "spool, 0 when none waits.\n"
                        "# TYPE clinic_spool_oldest_seconds gauge\n"
                        "clinic_spool_oldest_seconds %T\n",
                        oldest ? ngx_max(ngx_time() - oldest, 0) : 0);
}


/* the page cache's zone: what it holds and what it has left */

static u_char *
ngx_http_clinic_status_zone(u_char *p, u_char *end,
    ngx_http_clinic_main_conf_t *cmcf)
{
    ngx_http_clinic_cache_usage_t  u;

    if (cmcf->cache_zone == NULL
        || ngx_http_clinic_cache_usage(cmcf->cache_zone, &u) != NGX_OK)
    {
        return p;
    }

    return ngx_slprintf(p, end,
                        "# HELP clinic_cache_zone_bytes The page cache's "
                        "shared memory zone: its size, and the part of it "
                        "no page holds yet.\n"
                        "# TYPE clinic_cache_zone_bytes gauge\n"
                        "clinic_cache_zone_bytes{state=\"size\"} %uz\n"
                        "clinic_cache_zone_bytes{state=\"free\"} %uz\n"
                        "# HELP clinic_cache_entries Entries held in the "
                        "zone: pages, API records, folders' indexes.\n"
                        "# TYPE clinic_cache_entries gauge\n"
                        "clinic_cache_entries %ui\n"
                        "# HELP clinic_cache_entry_bytes Bytes of the "
                        "entries held, as served (without the zone's "
                        "overhead).\n"
                        "# TYPE clinic_cache_entry_bytes gauge\n"
                        "clinic_cache_entry_bytes %uz\n"
                        "# HELP clinic_cache_evictions_total Entries "
                        "evicted to make room for others.\n"
                        "# TYPE clinic_cache_evictions_total counter\n"
                        "clinic_cache_evictions_total %ui\n",
                        u.size, u.free, u.pages, u.page_bytes, u.evictions);
}


static u_char *
ngx_http_clinic_status_redis(u_char *p, u_char *end,
    ngx_http_clinic_main_conf_t *cmcf, ngx_http_clinic_stats_t *st,
    ngx_http_clinic_redis_endpoint_t *only)
{
    ngx_uint_t                          i, j, n;
    ngx_atomic_uint_t                   mask;
    ngx_http_clinic_redis_stats_t      *s;
    ngx_http_clinic_redis_endpoint_t  **eps;

    static const char  *names[] = {
        "clinic_redis_commands_total",
        "clinic_redis_errors_total",
        "clinic_redis_timeouts_total",
        "clinic_redis_reconnects_total"
    };

    static const char  *help[] = {
        "Replies received.",
        "Error replies and failed connections.",
        "Commands that waited out their timeout.",
        "Connection attempts after a failure."
    };

    eps = cmcf->endpoints.elts;
    mask = ngx_http_clinic_status_workers_mask();

    p = ngx_slprintf(p, end, "# HELP clinic_redis_up 1 while every worker's "
                     "connection to the endpoint answers, 0 while any "
                     "worker fails fast.\n"
                     "# TYPE clinic_redis_up gauge\n");

    for (i = 0; i < st->nredis; i++) {
        if (only && eps[i] != only) {
            continue;
        }

        p = ngx_slprintf(p, end, "clinic_redis_up{endpoint=\"");
        p = ngx_http_clinic_status_label(p, end, &eps[i]->label);
        p = ngx_slprintf(p, end, "\"} %d\n",
                         (st->redis[i].down & mask) == 0);
    }

    p = ngx_slprintf(p, end, "# HELP clinic_redis_workers_down Workers "
                     "whose connection to the endpoint is down.\n"
                     "# TYPE clinic_redis_workers_down gauge\n");

    for (i = 0; i < st->nredis; i++) {
        if (only && eps[i] != only) {
            continue;
        }

        p = ngx_slprintf(p, end, "clinic_redis_workers_down{endpoint=\"");
        p = ngx_http_clinic_status_label(p, end, &eps[i]->label);
        p = ngx_slprintf(p, end, "\"} %ui\n",
                         ngx_http_clinic_status_popcount(st->redis[i].down
                                                         & mask));
    }

    for (j = 0; j <= NGX_HTTP_CLINIC_STAT_RECONNECTS; j++) {
        p = ngx_slprintf(p, end, "# HELP %s %s\n# TYPE %s counter\n",
                         names[j], help[j], names[j]);

        for (i = 0; i < st->nredis; i++) {
            if (only && eps[i] != only) {
                continue;
            }

            p = ngx_slprintf(p, end, "%s{endpoint=\"", names[j]);
            p = ngx_http_clinic_status_label(p, end, &eps[i]->label);
            p = ngx_slprintf(p, end, "\"} %uA\n", st->redis[i].counter[j]);
        }
    }

    p = ngx_http_clinic_status_nodes(p, end, cmcf, st, only, mask);

    p = ngx_slprintf(p, end, "# HELP clinic_redis_latency_seconds Time from "
                     "queueing a command to its reply.\n"
                     "# TYPE clinic_redis_latency_seconds histogram\n");

    for (i = 0; i < st->nredis; i++) {
        if (only && eps[i] != only) {
            continue;
        }

        s = &st->redis[i];
        n = 0;

        for (j = 0; j < NGX_HTTP_CLINIC_LATENCY_BUCKETS; j++) {
            n += s->bucket[j];
            p = ngx_slprintf(p, end, "clinic_redis_latency_seconds_bucket"
                             "{endpoint=\"");
            p = ngx_http_clinic_status_label(p, end, &eps[i]->label);
            p = ngx_slprintf(p, end, "\",le=\"%s\"} %ui\n",
                             ngx_http_clinic_latency_labels[j], n);
        }

        p = ngx_slprintf(p, end, "clinic_redis_latency_seconds_bucket"
                         "{endpoint=\"");
        p = ngx_http_clinic_status_label(p, end, &eps[i]->label);
        p = ngx_slprintf(p, end, "\",le=\"+Inf\"} %uA\n",
                         s->counter[NGX_HTTP_CLINIC_STAT_COMMANDS]);

        p = ngx_slprintf(p, end, "clinic_redis_latency_seconds_sum"
                         "{endpoint=\"");
        p = ngx_http_clinic_status_label(p, end, &eps[i]->label);
        p = ngx_slprintf(p, end, "\"} %uA.%06uA\n", s->latency_us / 1000000,
                         s->latency_us % 1000000);

        p = ngx_slprintf(p, end, "clinic_redis_latency_seconds_count"
                         "{endpoint=\"");
        p = ngx_http_clinic_status_label(p, end, &eps[i]->label);
        p = ngx_slprintf(p, end, "\"} %uA\n",
                         s->counter[NGX_HTTP_CLINIC_STAT_COMMANDS]);
    }

    return p;
}


/*
 * A cluster's or a sentinel set's nodes as the workers meet them, and the
 * redirects and master changes they followed.
 */

static u_char *
ngx_http_clinic_status_nodes(u_char *p, u_char *end,
    ngx_http_clinic_main_conf_t *cmcf, ngx_http_clinic_stats_t *st,
    ngx_http_clinic_redis_endpoint_t *only, ngx_atomic_uint_t mask)
{
    ngx_str_t                            name;
    ngx_uint_t                           i, j;
    ngx_http_clinic_redis_stats_t       *s;
    ngx_http_clinic_redis_node_stats_t  *n;
    ngx_http_clinic_redis_endpoint_t   **eps;

    static const char  *kinds[] = { "moved", "ask", "tryagain" };

    eps = cmcf->endpoints.elts;

    p = ngx_slprintf(p, end, "# HELP clinic_redis_redirects_total Cluster "
                     "redirects followed: MOVED, ASK, TRYAGAIN.\n"
                     "# TYPE clinic_redis_redirects_total counter\n");

    for (i = 0; i < st->nredis; i++) {
        if ((only && eps[i] != only)
            || eps[i]->type != NGX_HTTP_CLINIC_REDIS_CLUSTER)
        {
            continue;
        }

        for (j = 0; j < 3; j++) {
            p = ngx_slprintf(p, end, "clinic_redis_redirects_total"
                             "{endpoint=\"");
            p = ngx_http_clinic_status_label(p, end, &eps[i]->label);
            p = ngx_slprintf(p, end, "\",kind=\"%s\"} %uA\n", kinds[j],
                             st->redis[i].counter[NGX_HTTP_CLINIC_STAT_MOVED
                                                  + j]);
        }
    }

    p = ngx_slprintf(p, end, "# HELP clinic_redis_master_changes_total "
                     "Times a sentinel named another master.\n"
                     "# TYPE clinic_redis_master_changes_total counter\n");

    for (i = 0; i < st->nredis; i++) {
        if ((only && eps[i] != only)
            || eps[i]->type != NGX_HTTP_CLINIC_REDIS_SENTINEL)
        {
            continue;
        }

        p = ngx_slprintf(p, end, "clinic_redis_master_changes_total"
                         "{endpoint=\"");
        p = ngx_http_clinic_status_label(p, end, &eps[i]->label);
        p = ngx_slprintf(p, end, "\"} %uA\n",
                     st->redis[i].counter[NGX_HTTP_CLINIC_STAT_MASTER_CHANGES]);
    }

    p = ngx_slprintf(p, end, "# HELP clinic_redis_node_up 1 while every "
                     "worker that uses the node is connected to it.\n"
                     "# TYPE clinic_redis_node_up gauge\n");

    for (i = 0; i < st->nredis; i++) {
        if ((only && eps[i] != only)
            || eps[i]->type == NGX_HTTP_CLINIC_REDIS_SINGLE)
        {
            continue;
        }

        s = &st->redis[i];

        for (j = 0; j < NGX_HTTP_CLINIC_REDIS_NODES; j++) {
            n = &s->node[j];

            if (n->state != 2 || (n->seen & mask) == 0) {
                continue;
            }

            name.data = n->name;
            name.len = n->len;

            p = ngx_slprintf(p, end, "clinic_redis_node_up{endpoint=\"");
            p = ngx_http_clinic_status_label(p, end, &eps[i]->label);
            p = ngx_slprintf(p, end, "\",node=\"");
            p = ngx_http_clinic_status_label(p, end, &name);
            p = ngx_slprintf(p, end, "\",role=\"%s\"} %d\n",
                             n->role == 2 ? "sentinel" : "master",
                             (n->down & mask) == 0);
        }
    }

    return p;
}


/* "name{tenant="T",labels} value", or without the tenant, or bare */

static u_char *
ngx_http_clinic_status_series(u_char *p, u_char *end, const char *name,
    ngx_str_t *tenant, u_char *labels, ngx_atomic_uint_t value)
{
    p = ngx_slprintf(p, end, "%s", name);

    if (tenant) {
        p = ngx_slprintf(p, end, "{tenant=\"%V\"%s%s}", tenant,
                         labels ? "," : "", labels ? (char *) labels : "");

    } else if (labels) {
        p = ngx_slprintf(p, end, "{%s}", labels);
    }

    return ngx_slprintf(p, end, " %uA\n", value);
}


static u_char *
ngx_http_clinic_status_requests(u_char *p, u_char *end, ngx_str_t *tenant,
    ngx_http_clinic_tenant_stats_t *t)
{
    u_char      labels[64];
    ngx_uint_t  h, c;

    for (h = 1; h < NGX_HTTP_CLINIC_HANDLERS; h++) {
        for (c = 0; c < NGX_HTTP_CLINIC_CLASSES; c++) {
            if (t->requests[h][c] == 0) {
                continue;
            }

            *ngx_snprintf(labels, sizeof(labels) - 1,
                          "handler=\"%s\",code=\"%uixx\"",
                          ngx_http_clinic_handler_names[h], c + 1) = '\0';

            p = ngx_http_clinic_status_series(p, end, "clinic_requests_total",
                                              tenant, labels,
                                              t->requests[h][c]);
        }
    }

    return p;
}


static u_char *
ngx_http_clinic_status_cache(u_char *p, u_char *end, ngx_str_t *tenant,
    ngx_http_clinic_tenant_stats_t *t)
{
    ngx_uint_t  c;

    static u_char  *layers[] = {
        (u_char *) "layer=\"hit\"", (u_char *) "layer=\"redis\"",
        (u_char *) "layer=\"miss\"", (u_char *) "layer=\"stale\""
    };

    for (c = 0; c < 4; c++) {
        p = ngx_http_clinic_status_series(p, end, "clinic_cache_total",
                                          tenant, layers[c],
                                          t->counter[NGX_HTTP_CLINIC_T_CACHE_HIT
                                                     + c]);
    }

    return p;
}


static u_char *
ngx_http_clinic_status_renders(u_char *p, u_char *end, ngx_str_t *tenant,
    ngx_http_clinic_tenant_stats_t *t)
{
    return ngx_http_clinic_status_series(p, end, "clinic_renders_total",
                                         tenant, NULL,
                                         t->counter[NGX_HTTP_CLINIC_T_RENDERS]);
}


static u_char *
ngx_http_clinic_status_submissions(u_char *p, u_char *end, ngx_str_t *tenant,
    ngx_http_clinic_tenant_stats_t *t)
{
    ngx_uint_t  c;

    static u_char  *outcomes[] = {
        (u_char *) "outcome=\"stored\"", (u_char *) "outcome=\"spooled\"",
        (u_char *) "outcome=\"rejected\"", (u_char *) "outcome=\"spam\"",
        (u_char *) "outcome=\"limited\""
    };

    for (c = 0; c < 5; c++) {
        p = ngx_http_clinic_status_series(p, end, "clinic_submissions_total",
                                          tenant, outcomes[c],
                                          t->counter[NGX_HTTP_CLINIC_T_STORED
                                                     + c]);
    }

    return p;
}


static u_char *
ngx_http_clinic_status_notifications(u_char *p, u_char *end,
    ngx_str_t *tenant, ngx_http_clinic_tenant_stats_t *t)
{
    p = ngx_http_clinic_status_series(p, end, "clinic_notifications_total",
                                      tenant, (u_char *) "outcome=\"sent\"",
                                      t->counter
                                          [NGX_HTTP_CLINIC_T_NOTIFY_SENT]);

    return ngx_http_clinic_status_series(p, end, "clinic_notifications_total",
                                         tenant,
                                         (u_char *) "outcome=\"failed\"",
                                         t->counter
                                             [NGX_HTTP_CLINIC_T_NOTIFY_FAILED]);
}


static u_char *
ngx_http_clinic_status_label(u_char *p, u_char *end, ngx_str_t *value)
{
    size_t  i;

    /* label values escape backslash, double quote and newline */

    for (i = 0; i < value->len && p + 2 < end; i++) {
        switch (value->data[i]) {
        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = value->data[i];
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        default:
            *p++ = value->data[i];
        }
    }

    return p;
}


/*
 * The slots of the workers this configuration runs: a worker of an older
 * configuration with a higher number has exited, whatever its bit says.
 */

static ngx_atomic_uint_t
ngx_http_clinic_status_workers_mask(void)
{
    ngx_uint_t        n;
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                           ngx_core_module);

    n = (ccf && ccf->worker_processes > 0) ? ccf->worker_processes : 1;

    if (n >= NGX_HTTP_CLINIC_WORKER_SLOTS) {
        return (ngx_atomic_uint_t) -1;
    }

    return ((ngx_atomic_uint_t) 1 << n) - 1;
}


static ngx_uint_t
ngx_http_clinic_status_popcount(ngx_atomic_uint_t v)
{
    ngx_uint_t  n;

    for (n = 0; v; v &= v - 1) {
        n++;
    }

    return n;
}


/* when the oldest record of any current worker's spool was queued; 0: none */

static time_t
ngx_http_clinic_status_spool_oldest(ngx_http_clinic_stats_hdr_t *hdr)
{
    time_t             oldest, t;
    ngx_uint_t         i;
    ngx_atomic_uint_t  mask;

    mask = ngx_http_clinic_status_workers_mask();
    oldest = 0;

    for (i = 0; i < NGX_HTTP_CLINIC_WORKER_SLOTS; i++) {
        if (!(mask & ((ngx_atomic_uint_t) 1 << i))) {
            continue;
        }

        t = (time_t) hdr->spool_oldest[i];

        if (t && (oldest == 0 || t < oldest)) {
            oldest = t;
        }
    }

    return oldest;
}
