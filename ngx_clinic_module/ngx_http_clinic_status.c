
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
#include "ngx_http_clinic_status.h"


static u_char *ngx_http_clinic_status_redis(u_char *p, u_char *end,
    ngx_http_clinic_main_conf_t *cmcf, ngx_http_clinic_stats_t *st,
    ngx_http_clinic_redis_endpoint_t *only);
static u_char *ngx_http_clinic_status_tenants(u_char *p, u_char *end,
    ngx_http_clinic_srv_conf_t **tenants, ngx_uint_t n,
    ngx_http_clinic_stats_t *st);
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


/*
 * In a tenant's server block the page shows that tenant only; in a server
 * block of the operator's (no tenant) it shows every tenant of the node.
 */

ngx_int_t
ngx_http_clinic_status_handler(ngx_http_request_t *r)
{
    size_t                        size;
    time_t                        oldest;
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_uint_t                    n;
    ngx_http_clinic_stats_t      *st;
    ngx_http_clinic_srv_conf_t   *cscf, **tenants;
    ngx_http_clinic_main_conf_t  *cmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_clinic_not_allowed(r, "GET, HEAD");
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    if (cmcf->stats_zone == NULL || cmcf->stats_zone->data == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    st = cmcf->stats_zone->data;

    if (cscf->is_tenant) {
        tenants = &cscf;
        n = 1;

    } else {
        tenants = cmcf->tenants.elts;
        n = cmcf->tenants.nelts;
    }

    /* generous; every write below is bounded by b->end all the same */

    size = 8192 + st->nredis * 8192 + n * 4608;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a tenant sees its own endpoint only: another's shard is not its to see */

    b->last = ngx_http_clinic_status_redis(b->last, b->end, cmcf, st,
                                           cscf->is_tenant ? cscf->redis
                                                           : NULL);
    b->last = ngx_http_clinic_status_tenants(b->last, b->end, tenants, n, st);

    b->last = ngx_slprintf(b->last, b->end,
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

    b->last = ngx_slprintf(b->last, b->end,
                           "# HELP clinic_spool_oldest_seconds Age of the "
                           "oldest submission still waiting in a worker's "
                           "spool, 0 when none waits.\n"
                           "# TYPE clinic_spool_oldest_seconds gauge\n"
                           "clinic_spool_oldest_seconds %T\n",
                           oldest ? ngx_max(ngx_time() - oldest, 0) : 0);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    return ngx_http_clinic_send_body(r, b);
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

    for (j = 0; j < NGX_HTTP_CLINIC_STAT_REDIS_LAST; j++) {
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


/* each metric's lines stay together, as the text format asks */

static u_char *
ngx_http_clinic_status_tenants(u_char *p, u_char *end,
    ngx_http_clinic_srv_conf_t **tenants, ngx_uint_t n,
    ngx_http_clinic_stats_t *st)
{
    ngx_uint_t                       i, h, c;
    ngx_http_clinic_tenant_stats_t  *t;

    static const char  *layers[] = { "hit", "redis", "miss", "stale" };
    static const char  *outcomes[] = {
        "stored", "spooled", "rejected", "spam", "limited"
    };

    p = ngx_slprintf(p, end, "# HELP clinic_requests_total Requests "
                     "answered by the module.\n"
                     "# TYPE clinic_requests_total counter\n");

    for (i = 0; i < n; i++) {
        if (tenants[i]->index >= st->ntenants) {
            continue;
        }

        t = &st->tenant[tenants[i]->index];

        for (h = 1; h < NGX_HTTP_CLINIC_HANDLERS; h++) {
            for (c = 0; c < NGX_HTTP_CLINIC_CLASSES; c++) {
                if (t->requests[h][c] == 0) {
                    continue;
                }

                p = ngx_slprintf(p, end, "clinic_requests_total"
                                 "{tenant=\"%V\",handler=\"%s\","
                                 "code=\"%uixx\"} %uA\n",
                                 &tenants[i]->tenant,
                                 ngx_http_clinic_handler_names[h], c + 1,
                                 t->requests[h][c]);
            }
        }
    }

    p = ngx_slprintf(p, end, "# HELP clinic_cache_total Article responses "
                     "by cache layer.\n"
                     "# TYPE clinic_cache_total counter\n");

    for (i = 0; i < n; i++) {
        if (tenants[i]->index >= st->ntenants) {
            continue;
        }

        t = &st->tenant[tenants[i]->index];

        for (c = 0; c < 4; c++) {
            p = ngx_slprintf(p, end, "clinic_cache_total{tenant=\"%V\","
                             "layer=\"%s\"} %uA\n", &tenants[i]->tenant,
                             layers[c],
                             t->counter[NGX_HTTP_CLINIC_T_CACHE_HIT + c]);
        }
    }

    p = ngx_slprintf(p, end, "# HELP clinic_renders_total Articles rendered "
                     "from the folder.\n"
                     "# TYPE clinic_renders_total counter\n");

    for (i = 0; i < n; i++) {
        if (tenants[i]->index >= st->ntenants) {
            continue;
        }

        t = &st->tenant[tenants[i]->index];

        p = ngx_slprintf(p, end, "clinic_renders_total{tenant=\"%V\"} %uA\n",
                         &tenants[i]->tenant,
                         t->counter[NGX_HTTP_CLINIC_T_RENDERS]);
    }

    p = ngx_slprintf(p, end, "# HELP clinic_submissions_total Contact "
                     "submissions by outcome.\n"
                     "# TYPE clinic_submissions_total counter\n");

    for (i = 0; i < n; i++) {
        if (tenants[i]->index >= st->ntenants) {
            continue;
        }

        t = &st->tenant[tenants[i]->index];

        for (c = 0; c < 5; c++) {
            p = ngx_slprintf(p, end, "clinic_submissions_total"
                             "{tenant=\"%V\",outcome=\"%s\"} %uA\n",
                             &tenants[i]->tenant, outcomes[c],
                             t->counter[NGX_HTTP_CLINIC_T_STORED + c]);
        }
    }

    p = ngx_slprintf(p, end, "# HELP clinic_notifications_total "
                     "Notifications of new submissions (clinic_contact_"
                     "notify) by outcome.\n"
                     "# TYPE clinic_notifications_total counter\n");

    for (i = 0; i < n; i++) {
        if (tenants[i]->index >= st->ntenants) {
            continue;
        }

        t = &st->tenant[tenants[i]->index];

        p = ngx_slprintf(p, end, "clinic_notifications_total"
                         "{tenant=\"%V\",outcome=\"sent\"} %uA\n"
                         "clinic_notifications_total"
                         "{tenant=\"%V\",outcome=\"failed\"} %uA\n",
                         &tenants[i]->tenant,
                         t->counter[NGX_HTTP_CLINIC_T_NOTIFY_SENT],
                         &tenants[i]->tenant,
                         t->counter[NGX_HTTP_CLINIC_T_NOTIFY_FAILED]);
    }

    return p;
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
