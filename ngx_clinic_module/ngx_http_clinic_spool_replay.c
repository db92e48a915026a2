
/*
 * The spool's replay (see the invariants in ngx_http_clinic_spool.c): a
 * tick every second adopts orphans and builds a batch of up to 100
 * records from the files in replay order (orphans oldest first, then the
 * worker's own files, each endpoint's in the order they were written),
 * judges each record, sends the batch pipelined through the submission
 * store, and once every store has answered confirms each file as a
 * prefix: a record leaves the spool only after Redis took it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_store.h"
#include "ngx_http_clinic_notify.h"
#include "ngx_http_clinic_spool_int.h"


#define NGX_HTTP_CLINIC_SPOOL_INTERVAL     1000     /* ms between ticks */
#define NGX_HTTP_CLINIC_SPOOL_AGAIN        1        /* ms, after a full batch */
#define NGX_HTTP_CLINIC_SPOOL_BATCH        100      /* records per batch */
#define NGX_HTTP_CLINIC_SPOOL_FAILURES     3        /* then logged */


/* the state of one entry of a batch */
typedef enum {
    NGX_HTTP_CLINIC_SPOOL_SENT = 0,      /* waiting for Redis */
    NGX_HTTP_CLINIC_SPOOL_DONE,          /* in Redis */
    NGX_HTTP_CLINIC_SPOOL_SKIP,          /* a rejected line, passed over */
    NGX_HTTP_CLINIC_SPOOL_FAILED         /* not in Redis: retried later */
} ngx_http_clinic_spool_state_e;


typedef struct {
    ngx_http_clinic_spool_batch_t   *batch;
    ngx_http_clinic_spool_file_t    *file;
    off_t                            off;        /* where its line starts */
    off_t                            end;        /* just after its line */
    ngx_uint_t                       state;
    ngx_http_clinic_redis_endpoint_t *ep;
    ngx_http_clinic_srv_conf_t      *cscf;       /* its tenant */
    ngx_http_clinic_submission_t     sub;
} ngx_http_clinic_spool_rec_t;


struct ngx_http_clinic_spool_batch_s {
    ngx_pool_t                      *pool;
    ngx_http_clinic_spool_t         *spool;
    ngx_uint_t                       nrec;
    ngx_uint_t                       outstanding;
    unsigned                         sending:1;
    unsigned                         failed:1;
    ngx_http_clinic_spool_rec_t      rec[NGX_HTTP_CLINIC_SPOOL_BATCH];
};


static void ngx_http_clinic_spool_tick(ngx_event_t *ev);
static void ngx_http_clinic_spool_start(ngx_http_clinic_spool_t *sp);
static ngx_uint_t ngx_http_clinic_spool_held(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f);
static ngx_int_t ngx_http_clinic_spool_fill(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_batch_t *batch, ngx_http_clinic_spool_file_t *f);
static ngx_int_t ngx_http_clinic_spool_judge(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_batch_t *batch, ngx_http_clinic_spool_file_t *f,
    u_char *line, size_t len, ngx_http_clinic_spool_rec_t *rec);
static void ngx_http_clinic_spool_reject(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f, off_t off, off_t next,
    const char *why);
static ngx_http_clinic_srv_conf_t *ngx_http_clinic_spool_tenant(
    ngx_http_clinic_spool_t *sp, ngx_str_t *name);
static int ngx_libc_cdecl ngx_http_clinic_spool_cmp_tenants(const void *one,
    const void *two);
static void ngx_http_clinic_spool_stored(void *data,
    ngx_http_clinic_store_result_t *result);
static void ngx_http_clinic_spool_done_handler(ngx_event_t *ev);
static void ngx_http_clinic_spool_complete(ngx_http_clinic_spool_t *sp);
static void ngx_http_clinic_spool_depth_sub(ngx_http_clinic_stats_hdr_t *hdr,
    ngx_atomic_uint_t n);


/* the tick every second, and the event that closes a batch */

void
ngx_http_clinic_spool_replay_init(ngx_http_clinic_spool_t *sp, ngx_log_t *log)
{
    sp->timer.handler = ngx_http_clinic_spool_tick;
    sp->timer.data = sp;
    sp->timer.log = log;
    sp->timer.cancelable = 1;

    sp->done.handler = ngx_http_clinic_spool_done_handler;
    sp->done.data = sp;
    sp->done.log = log;

    ngx_add_timer(&sp->timer, NGX_HTTP_CLINIC_SPOOL_INTERVAL);
}


/* the next tick at once, unless a batch is in flight */

void
ngx_http_clinic_spool_replay_kick(ngx_http_clinic_spool_t *sp)
{
    if (sp->batch || ngx_exiting) {
        return;
    }

    /* nginx keeps a timer that is due within 300 ms: move it explicitly */

    if (sp->timer.timer_set) {
        ngx_del_timer(&sp->timer);
    }

    ngx_add_timer(&sp->timer, NGX_HTTP_CLINIC_SPOOL_AGAIN);
}


/* stops the ticks; the stores still in flight are detached */

void
ngx_http_clinic_spool_replay_stop(ngx_http_clinic_spool_t *sp)
{
    if (sp->timer.timer_set) {
        ngx_del_timer(&sp->timer);
    }

    if (sp->done.posted) {
        ngx_delete_posted_event(&sp->done);
    }

    if (sp->batch) {
        ngx_destroy_pool(sp->batch->pool);
        sp->batch = NULL;
    }

    if (sp->tenants) {
        ngx_free(sp->tenants);
        sp->tenants = NULL;
    }
}


static void
ngx_http_clinic_spool_tick(ngx_event_t *ev)
{
    ngx_http_clinic_spool_t  *sp = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        /* what is left is taken over once our locks are gone */
        return;
    }

    if (sp->batch == NULL) {
        if (!sp->scanned
            || ngx_current_msec - sp->last_scan
               >= NGX_HTTP_CLINIC_SPOOL_INTERVAL)
        {
            sp->scanned = 1;
            sp->last_scan = ngx_current_msec;

            ngx_http_clinic_spool_scan(sp);
        }

        ngx_http_clinic_spool_start(sp);
    }

    ngx_http_clinic_spool_oldest(sp);

    if (!ev->timer_set) {
        ngx_add_timer(ev, NGX_HTTP_CLINIC_SPOOL_INTERVAL);
    }
}


/*
 * Builds one batch from the files in order and sends it, pipelined.  Own
 * files come in the order they were written; a later own file waits until
 * the earlier ones are through, so a worker's records keep their order.
 */

static void
ngx_http_clinic_spool_start(ngx_http_clinic_spool_t *sp)
{
    ngx_int_t                       rc;
    ngx_uint_t                      i, work;
    ngx_pool_t                     *pool;
    ngx_queue_t                    *q;
    ngx_http_clinic_spool_rec_t    *rec;
    ngx_http_clinic_spool_file_t   *f;
    ngx_http_clinic_spool_batch_t  *batch;

    work = 0;

    for (q = ngx_queue_head(&sp->files);
         q != ngx_queue_sentinel(&sp->files);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_clinic_spool_file_t, queue);

        if (!f->blocked
            && !(f->own && sp->own[f->lane] == f && f->confirmed == f->size))
        {
            work = 1;
            break;
        }
    }

    if (!work) {
        return;
    }

    if (ngx_http_clinic_spool_buffer(sp) != NGX_OK) {
        return;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, sp->log);
    if (pool == NULL) {
        return;
    }

    batch = ngx_pcalloc(pool, sizeof(ngx_http_clinic_spool_batch_t));
    if (batch == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    batch->pool = pool;
    batch->spool = sp;
    sp->batch = batch;

    /* files may have grown or been emptied since the last batch */
    sp->buf_file = NULL;

    for (q = ngx_queue_head(&sp->files);
         q != ngx_queue_sentinel(&sp->files);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_clinic_spool_file_t, queue);
        f->held = 0;
        f->unsent = 0;
    }

    for (q = ngx_queue_head(&sp->files);
         q != ngx_queue_sentinel(&sp->files);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_clinic_spool_file_t, queue);

        f->at_end = 0;

        /* a newer own file of an endpoint waits for the older ones */

        if (f->blocked || (f->own && ngx_http_clinic_spool_held(sp, f))) {
            f->held = f->own;
            continue;
        }

        rc = ngx_http_clinic_spool_fill(sp, batch, f);

        if (rc == NGX_ERROR) {
            break;
        }

        if (f->own && rc != NGX_OK) {
            f->held = 1;
        }

        if (batch->nrec == NGX_HTTP_CLINIC_SPOOL_BATCH) {
            break;
        }
    }

    /*
     * Redis runs a connection's commands in order: once one of a file
     * could not be sent, nothing after it in that file is, so a file never
     * gets ahead of itself.  Another file (another lane: a shard, or other
     * slots of a cluster) goes on.
     */

    batch->sending = 1;

    for (i = 0; i < batch->nrec; i++) {
        rec = &batch->rec[i];

        if (rec->state != NGX_HTTP_CLINIC_SPOOL_SENT) {
            continue;
        }

        if (rec->file->unsent) {
            rec->state = NGX_HTTP_CLINIC_SPOOL_FAILED;
            continue;
        }

        batch->outstanding++;

        if (ngx_http_clinic_store_send(rec->ep, pool, &rec->sub, NULL,
                                       ngx_http_clinic_spool_stored, rec)
            != NGX_OK)
        {
            batch->outstanding--;
            batch->failed = 1;
            rec->state = NGX_HTTP_CLINIC_SPOOL_FAILED;
            rec->file->unsent = 1;

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sp->log, 0,
                           "clinic spool: record at %O of \"%s\" not sent, "
                           "the rest of the batch waits", rec->off,
                           rec->file->path);
        }
    }

    batch->sending = 0;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sp->log, 0,
                   "clinic spool: batch of %ui, %ui in flight",
                   batch->nrec, batch->outstanding);

    if (batch->outstanding == 0) {
        /* nothing in flight (all rejected, or empty files): close it now */
        ngx_http_clinic_spool_complete(sp);
    }
}


/* whether an older own file of f's endpoint stopped in this batch */

static ngx_uint_t
ngx_http_clinic_spool_held(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f)
{
    ngx_queue_t                   *q;
    ngx_http_clinic_spool_file_t  *g;

    for (q = ngx_queue_head(&sp->files);
         q != &f->queue;
         q = ngx_queue_next(q))
    {
        g = ngx_queue_data(q, ngx_http_clinic_spool_file_t, queue);

        if (g->own && g->lane == f->lane && g->held) {
            return 1;
        }
    }

    return 0;
}


/*
 * Adds the records of f from its confirmed offset.  NGX_OK: the file's end
 * was reached; NGX_AGAIN: stopped before (the batch is full, the tenant's
 * Redis is not up, the tenant is unknown, a read failed); NGX_ERROR: no
 * memory.
 */

static ngx_int_t
ngx_http_clinic_spool_fill(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_batch_t *batch, ngx_http_clinic_spool_file_t *f)
{
    off_t                         off, next;
    u_char                       *line;
    size_t                        len;
    ngx_int_t                     rc;
    ngx_http_clinic_spool_rec_t  *rec;

    off = f->confirmed;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sp->log, 0,
                   "clinic spool: replaying \"%s\" from offset %O",
                   f->path, off);

    while (batch->nrec < NGX_HTTP_CLINIC_SPOOL_BATCH) {

        /* an own file: only what clients were told is queued */

        if (f->own && off >= f->size) {
            f->end = off;
            f->at_end = 1;
            return NGX_OK;
        }

        rc = ngx_http_clinic_spool_read(sp, f, off, &line, &len, &next);

        switch (rc) {

        case NGX_HTTP_CLINIC_SPOOL_END:
            f->end = off;
            f->at_end = 1;
            return NGX_OK;

        case NGX_HTTP_CLINIC_SPOOL_TORN:
            if (!f->logged_torn) {
                ngx_log_error(NGX_LOG_NOTICE, sp->log, 0,
                              "clinic: the spool file \"%s\" ends with an "
                              "incomplete record of %O bytes, written by a "
                              "process that died before acknowledging it; "
                              "ignored", f->path, next - off);
                f->logged_torn = 1;
            }

            f->end = off;
            f->at_end = 1;
            return NGX_OK;

        case NGX_HTTP_CLINIC_SPOOL_EIO:
            if (!f->logged_read) {
                ngx_log_error(NGX_LOG_ERR, sp->log, ngx_errno,
                              "clinic: cannot read the spool file \"%s\"",
                              f->path);
                f->logged_read = 1;
            }

            return NGX_AGAIN;

        default:
            break;
        }

        f->logged_read = 0;

        rec = &batch->rec[batch->nrec];
        rec->batch = batch;
        rec->file = f;
        rec->off = off;
        rec->end = next;

        if (rc == NGX_HTTP_CLINIC_SPOOL_LONG) {
            ngx_http_clinic_spool_reject(sp, f, off, next,
                                         "longer than 1 MB");
            rec->state = NGX_HTTP_CLINIC_SPOOL_SKIP;

        } else {
            rc = ngx_http_clinic_spool_judge(sp, batch, f, line, len, rec);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_AGAIN) {
                return NGX_AGAIN;
            }

            if (rc == NGX_DECLINED) {
                rec->state = NGX_HTTP_CLINIC_SPOOL_SKIP;
            }
        }

        batch->nrec++;

        if (next > f->checked) {
            f->checked = next;
        }

        off = next;
    }

    return NGX_AGAIN;
}


/*
 * One line: NGX_OK, rec is ready to send; NGX_DECLINED, the line is
 * rejected (counted and logged); NGX_AGAIN, the file waits (tenant
 * unknown, or its Redis not up); NGX_ERROR, no memory.
 */

static ngx_int_t
ngx_http_clinic_spool_judge(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_batch_t *batch, ngx_http_clinic_spool_file_t *f,
    u_char *line, size_t len, ngx_http_clinic_spool_rec_t *rec)
{
    off_t                        off;
    time_t                       queued;
    ngx_int_t                    rc;
    ngx_str_t                    tenant;
    const char                  *why;
    ngx_http_clinic_srv_conf_t  *cscf;

    off = rec->end - len - 1;
    queued = 0;

    rc = ngx_http_clinic_spool_record_parse(batch->pool, line, len, &tenant,
                                            &rec->sub, &queued, &why);

    if (off == f->confirmed && queued) {
        f->oldest = queued;
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_clinic_spool_reject(sp, f, off, rec->end, why);
        return NGX_DECLINED;
    }

    cscf = ngx_http_clinic_spool_tenant(sp, &tenant);

    if (cscf == NULL || cscf->redis == NULL) {
        if (!f->blocked) {
            ngx_log_error(NGX_LOG_WARN, sp->log, 0,
                          "clinic: the spool file \"%s\" holds a submission "
                          "for the tenant \"%V\" at offset %O, and no such "
                          "tenant is configured; the file is kept until a "
                          "configuration has it", f->path, &tenant, off);
        }

        f->blocked = 1;
        return NGX_AGAIN;
    }

    /* a record can only ever reach its own tenant's keys */

    if (ngx_http_clinic_store_tenant_keys(cscf, &rec->sub) != NGX_OK) {
        ngx_http_clinic_spool_reject(sp, f, off, rec->end,
                                     "keys outside the tenant's prefix");
        return NGX_DECLINED;
    }

    if (!ngx_http_clinic_redis_is_up_slot(cscf->redis, cscf->redis_slot)) {
        return NGX_AGAIN;
    }

    rec->ep = cscf->redis;
    rec->cscf = cscf;
    rec->state = NGX_HTTP_CLINIC_SPOOL_SENT;

    return NGX_OK;
}


/* counted and logged once: a line is judged again after a failed batch */

static void
ngx_http_clinic_spool_reject(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f, off_t off, off_t next, const char *why)
{
    ngx_http_clinic_stats_hdr_t  *hdr;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, sp->log, 0,
                   "clinic spool: record at %O of \"%s\" skipped (%s)",
                   off, f->path, why);

    f->bad = 1;

    if (off < f->checked) {
        return;
    }

    hdr = ngx_http_clinic_spool_stats(sp->cmcf);

    if (hdr) {
        (void) ngx_atomic_fetch_add(&hdr->spool_errors, 1);
    }

    if (f->logged_bad) {
        return;
    }

    f->logged_bad = 1;

    ngx_log_error(NGX_LOG_ERR, sp->log, 0,
                  "clinic: the spool file \"%s\" has a record that cannot "
                  "be replayed at offset %O (%O bytes, %s); it is skipped, "
                  "and the file is kept as \"%s" NGX_HTTP_CLINIC_SPOOL_BAD
                  "\" once the rest is replayed", f->path, off, next - off,
                  why, f->path);
}


/* the tenants sorted once, on the first replay, then found by bisection */

static ngx_http_clinic_srv_conf_t *
ngx_http_clinic_spool_tenant(ngx_http_clinic_spool_t *sp, ngx_str_t *name)
{
    size_t                        n;
    ngx_int_t                     rc;
    ngx_uint_t                    lo, hi, mid;
    ngx_http_clinic_srv_conf_t   *cscf;

    if (sp->tenants == NULL) {
        n = sp->cmcf->tenants.nelts;

        if (n == 0) {
            return NULL;
        }

        sp->tenants = ngx_alloc(n * sizeof(ngx_http_clinic_srv_conf_t *),
                                sp->log);
        if (sp->tenants == NULL) {
            return NULL;
        }

        ngx_memcpy(sp->tenants, sp->cmcf->tenants.elts,
                   n * sizeof(ngx_http_clinic_srv_conf_t *));

        ngx_qsort(sp->tenants, n, sizeof(ngx_http_clinic_srv_conf_t *),
                  ngx_http_clinic_spool_cmp_tenants);

        sp->ntenants = n;
    }

    lo = 0;
    hi = sp->ntenants;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        cscf = sp->tenants[mid];

        rc = ngx_memn2cmp(name->data, cscf->tenant.data, name->len,
                          cscf->tenant.len);

        if (rc == 0) {
            return cscf;
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


static int ngx_libc_cdecl
ngx_http_clinic_spool_cmp_tenants(const void *one, const void *two)
{
    ngx_http_clinic_srv_conf_t  *a, *b;

    a = *(ngx_http_clinic_srv_conf_t **) one;
    b = *(ngx_http_clinic_srv_conf_t **) two;

    return (int) ngx_memn2cmp(a->tenant.data, b->tenant.data, a->tenant.len,
                              b->tenant.len);
}


/*
 * The store handler: may run inside the Redis layer's own callbacks, so
 * the batch is closed from a posted event, never from here.
 */

static void
ngx_http_clinic_spool_stored(void *data,
    ngx_http_clinic_store_result_t *result)
{
    ngx_http_clinic_spool_rec_t  *rec = data;

    ngx_http_clinic_spool_batch_t  *batch;

    batch = rec->batch;

    if (result
        && (result->outcome == NGX_HTTP_CLINIC_STORE_ADDED
            || result->outcome == NGX_HTTP_CLINIC_STORE_DUPLICATE))
    {
        rec->state = NGX_HTTP_CLINIC_SPOOL_DONE;

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, batch->spool->log, 0,
                       "clinic spool: record at %O of \"%s\" is in Redis "
                       "as \"%V\"%s", rec->off, rec->file->path, &result->id,
                       result->outcome == NGX_HTTP_CLINIC_STORE_DUPLICATE
                       ? " (stored before)" : "");

        /*
         * A spooled submission was answered 202 and never notified: it is
         * now, stored by this replay or found stored (its store reached
         * Redis after its timeout).  A second notice after a crash beats
         * a lead nobody hears of.
         */

        ngx_http_clinic_notify_send(rec->cscf->notify, &result->id,
                                    &rec->sub);

    } else {
        rec->state = NGX_HTTP_CLINIC_SPOOL_FAILED;
        batch->failed = 1;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, batch->spool->log, 0,
                       "clinic spool: record at %O of \"%s\" not taken by "
                       "Redis, retried later", rec->off, rec->file->path);
    }

    batch->outstanding--;

    if (batch->outstanding == 0 && !batch->sending) {
        ngx_post_event(&batch->spool->done, &ngx_posted_events);
    }
}


static void
ngx_http_clinic_spool_done_handler(ngx_event_t *ev)
{
    ngx_http_clinic_spool_t  *sp = ev->data;

    if (sp->batch) {
        ngx_http_clinic_spool_complete(sp);
    }
}


/*
 * Moves each file's confirmed offset over the entries that are done, up
 * to its first one that is not: a file is only ever confirmed as a prefix.
 */

static void
ngx_http_clinic_spool_complete(ngx_http_clinic_spool_t *sp)
{
    ngx_uint_t                      i, n, gone, full;
    ngx_queue_t                    *q, *next;
    ngx_http_clinic_spool_rec_t    *rec;
    ngx_http_clinic_spool_file_t   *f;
    ngx_http_clinic_stats_hdr_t    *hdr;
    ngx_http_clinic_spool_batch_t  *batch;

    batch = sp->batch;
    n = 0;
    gone = 0;

    for (i = 0; i < batch->nrec; i++) {
        rec = &batch->rec[i];
        f = rec->file;

        if (f->stopped) {
            continue;
        }

        switch (rec->state) {

        case NGX_HTTP_CLINIC_SPOOL_DONE:
            n++;
            f->failures = 0;
            /* fall through */

        case NGX_HTTP_CLINIC_SPOOL_SKIP:
            f->confirmed = rec->end;
            gone++;
            break;

        default:
            f->stopped = 1;

            if (++f->failures == NGX_HTTP_CLINIC_SPOOL_FAILURES) {
                ngx_log_error(NGX_LOG_ERR, sp->log, 0,
                              "clinic: Redis keeps refusing the spooled "
                              "submission at offset %O of \"%s\" for \"%V\"; "
                              "retrying every second", f->confirmed,
                              f->path, &rec->sub.stream);
            }
        }
    }

    hdr = ngx_http_clinic_spool_stats(sp->cmcf);

    if (hdr) {
        (void) ngx_atomic_fetch_add(&hdr->spool_replayed,
                                    (ngx_atomic_int_t) n);
        ngx_http_clinic_spool_depth_sub(hdr, gone);

        if (batch->failed) {
            (void) ngx_atomic_fetch_add(&hdr->spool_errors, 1);
        }
    }

    full = (batch->nrec == NGX_HTTP_CLINIC_SPOOL_BATCH && !batch->failed);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sp->log, 0,
                   "clinic spool: batch done, %ui replayed, failed: %ui",
                   n, (ngx_uint_t) batch->failed);

    ngx_destroy_pool(batch->pool);
    sp->batch = NULL;

    for (q = ngx_queue_head(&sp->files);
         q != ngx_queue_sentinel(&sp->files);
         q = next)
    {
        next = ngx_queue_next(q);
        f = ngx_queue_data(q, ngx_http_clinic_spool_file_t, queue);

        f->stopped = 0;
        ngx_http_clinic_spool_finish(sp, f);
    }

    ngx_http_clinic_spool_oldest(sp);

    /* more is likely waiting: no need to wait a whole second for it */

    if (full && !ngx_exiting) {
        ngx_add_timer(&sp->timer, NGX_HTTP_CLINIC_SPOOL_AGAIN);
    }
}


/* the gauge never goes below zero, whatever the recount said meanwhile */

static void
ngx_http_clinic_spool_depth_sub(ngx_http_clinic_stats_hdr_t *hdr,
    ngx_atomic_uint_t n)
{
    ngx_atomic_uint_t  old, new;

    do {
        old = hdr->spool_depth;
        new = (old > n) ? old - n : 0;

    } while (!ngx_atomic_cmp_set(&hdr->spool_depth, old, new));
}
