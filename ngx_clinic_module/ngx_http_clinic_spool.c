
/*
 * The spool: submissions Redis could not take in time, kept on local disk
 * and replayed into Redis when it is back.
 *
 * Ownership.  Each worker appends to files of its own, one per Redis
 * endpoint so that a shard that is down holds up no other's records,
 * "<pid>-<time>[-<n>].spool", and holds flock(LOCK_EX) on each for its
 * whole life; the kernel drops the
 * lock when the process dies, a crash included.  A process reads, empties,
 * renames or removes a spool file only while it holds that lock, so:
 *
 *   - a file whose lock can be taken with LOCK_NB has no live owner, and
 *     nobody else is replaying it: it is an orphan (a crashed worker, the
 *     workers of an nginx that was reloaded or restarted) and the taker
 *     keeps the lock until the file is replayed and removed;
 *   - a worker creates its file under a name the scan ignores and gives it
 *     the ".spool" name only once it holds the lock, so no other worker
 *     can take a new file for an orphan;
 *   - a file removed between our readdir() and our flock() shows
 *     st_nlink == 0 and is left alone, and a file is renamed or removed
 *     only while its name still leads to the inode we locked.
 *
 * Durability.  A record is one line, "<crc32> <json>\n", written whole and
 * fdatasync'd before the client is told "queued".  A failed append is cut
 * off again with ftruncate(), or the file is retired, so a torn line can
 * only end a file whose writer died before acknowledging it.
 *
 * Exactly once.  A record leaves the spool only after Redis confirmed it
 * (added, or already there).  The store script's dedupe key makes a second
 * store of the same submission a no-op, which covers a crash between the
 * answer of Redis and the bookkeeping here.
 *
 * The file I/O here is blocking, and that is accepted: appends happen only
 * while Redis cannot take submissions, and a replay reads a local file in
 * 64 KB chunks, at most one batch per tick.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <sys/file.h>
#include <jansson.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_store.h"
#include "ngx_http_clinic_spool.h"


#define NGX_HTTP_CLINIC_SPOOL_INTERVAL     1000     /* ms between ticks */
#define NGX_HTTP_CLINIC_SPOOL_AGAIN        1        /* ms, after a full batch */
#define NGX_HTTP_CLINIC_SPOOL_BATCH        100      /* records per batch */
#define NGX_HTTP_CLINIC_SPOOL_ORPHANS      16       /* adopted files at once */
#define NGX_HTTP_CLINIC_SPOOL_CHUNK        65536
#define NGX_HTTP_CLINIC_SPOOL_RECORD_MAX   (1024 * 1024)   /* with "\n" */
#define NGX_HTTP_CLINIC_SPOOL_STALE        60       /* s, a crashed ".new" */
#define NGX_HTTP_CLINIC_SPOOL_FAILURES     3        /* then logged */
#define NGX_HTTP_CLINIC_SPOOL_VERSION      1

#define NGX_HTTP_CLINIC_SPOOL_SUFFIX       ".spool"
#define NGX_HTTP_CLINIC_SPOOL_NEW          ".spool.new"
#define NGX_HTTP_CLINIC_SPOOL_BAD          ".bad"


/* what the line reader found at an offset */
typedef enum {
    NGX_HTTP_CLINIC_SPOOL_LINE = 0,      /* a whole line */
    NGX_HTTP_CLINIC_SPOOL_END,           /* nothing more */
    NGX_HTTP_CLINIC_SPOOL_TORN,          /* bytes without a final "\n" */
    NGX_HTTP_CLINIC_SPOOL_LONG,          /* a line over the record limit */
    NGX_HTTP_CLINIC_SPOOL_EIO            /* the read failed */
} ngx_http_clinic_spool_read_e;


/* the state of one entry of a batch */
typedef enum {
    NGX_HTTP_CLINIC_SPOOL_SENT = 0,      /* waiting for Redis */
    NGX_HTTP_CLINIC_SPOOL_DONE,          /* in Redis */
    NGX_HTTP_CLINIC_SPOOL_SKIP,          /* a rejected line, passed over */
    NGX_HTTP_CLINIC_SPOOL_FAILED         /* not in Redis: retried later */
} ngx_http_clinic_spool_state_e;


typedef struct ngx_http_clinic_spool_s        ngx_http_clinic_spool_t;
typedef struct ngx_http_clinic_spool_batch_s  ngx_http_clinic_spool_batch_t;


/* one spool file this worker holds the lock of */
typedef struct {
    ngx_queue_t                      queue;
    ngx_fd_t                         fd;
    dev_t                            dev;
    ino_t                            ino;
    off_t                            confirmed;  /* all before it is done */
    off_t                            checked;    /* lines before it judged */
    off_t                            size;       /* own: acknowledged end */
    off_t                            end;        /* where the last read ended */
    ngx_uint_t                       failures;   /* failed batches in a row */
    ngx_uint_t                       ep;         /* own: the endpoint's index */
    time_t                           created;    /* from the name */
    time_t                           oldest;     /* first record to replay */
    u_char                          *path;       /* "\0" terminated */
    u_char                          *name;       /* in path */
    unsigned                         own:1;      /* written by this worker */
    unsigned                         retired:1;  /* own, no longer written */
    unsigned                         at_end:1;   /* end is the end of data */
    unsigned                         blocked:1;  /* unknown tenant */
    unsigned                         bad:1;      /* has rejected lines */
    unsigned                         stopped:1;  /* batch bookkeeping */
    unsigned                         held:1;     /* own: stopped this batch */
    unsigned                         dir_synced:1;
    unsigned                         logged_bad:1;
    unsigned                         logged_torn:1;
    unsigned                         logged_read:1;
} ngx_http_clinic_spool_file_t;


typedef struct {
    ngx_http_clinic_spool_batch_t   *batch;
    ngx_http_clinic_spool_file_t    *file;
    off_t                            end;        /* just after its line */
    ngx_uint_t                       state;
    ngx_http_clinic_redis_endpoint_t *ep;
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


/* the spool of one worker process */
struct ngx_http_clinic_spool_s {
    ngx_http_clinic_main_conf_t     *cmcf;
    ngx_log_t                       *log;
    ngx_str_t                        dir;        /* "\0" terminated */
    u_char                          *path;       /* dir + "/" + NAME_MAX */
    ngx_queue_t                      files;      /* in replay order */
    ngx_http_clinic_spool_file_t   **own;        /* appended to, by endpoint */
    ngx_uint_t                       nown;
    ngx_uint_t                       norphans;
    ngx_uint_t                       seq;        /* for spool ids */
    ngx_event_t                      timer;
    ngx_event_t                      done;       /* posted: batch complete */
    ngx_http_clinic_spool_batch_t   *batch;

    u_char                          *buf;
    size_t                           buf_size;
    size_t                           buf_len;
    off_t                            buf_off;
    ngx_http_clinic_spool_file_t    *buf_file;

    ngx_http_clinic_srv_conf_t     **tenants;    /* sorted by name */
    ngx_uint_t                       ntenants;

    ngx_msec_t                       last_scan;
    ngx_msec_t                       next_count; /* throttles recount */
    off_t                            size;       /* of the files, counted */
    uint32_t                         signature;  /* of the folder */
    ngx_atomic_uint_t                depth;      /* as last counted */
    time_t                           open_logged;
    unsigned                         scanned:1;
    unsigned                         counted:1;
    unsigned                         logged_dir:1;
};


static ngx_http_clinic_stats_hdr_t *ngx_http_clinic_spool_stats(
    ngx_http_clinic_main_conf_t *cmcf);
static ngx_int_t ngx_http_clinic_spool_record(ngx_http_request_t *r,
    ngx_str_t *id, ngx_str_t *tenant, ngx_http_clinic_submission_t *sub,
    ngx_str_t *line);
static json_t *ngx_http_clinic_spool_json_value(ngx_pool_t *pool,
    ngx_str_t *value);
static ngx_int_t ngx_http_clinic_spool_open_own(ngx_http_clinic_spool_t *sp,
    ngx_uint_t ep);
static ngx_uint_t ngx_http_clinic_spool_held(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f);
static ngx_int_t ngx_http_clinic_spool_write(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f, u_char *data, size_t len);
static ngx_int_t ngx_http_clinic_spool_sync_dir(ngx_http_clinic_spool_t *sp);
static ngx_http_clinic_spool_file_t *ngx_http_clinic_spool_file(
    ngx_http_clinic_spool_t *sp, ngx_fd_t fd, u_char *name, size_t len,
    ngx_uint_t own);
static time_t ngx_http_clinic_spool_name_time(u_char *name, size_t len);
static void ngx_http_clinic_spool_oldest(ngx_http_clinic_spool_t *sp);
static void ngx_http_clinic_spool_tick(ngx_event_t *ev);
static void ngx_http_clinic_spool_scan(ngx_http_clinic_spool_t *sp);
static ngx_int_t ngx_http_clinic_spool_known(ngx_http_clinic_spool_t *sp,
    u_char *name, size_t len);
static void ngx_http_clinic_spool_adopt(ngx_http_clinic_spool_t *sp,
    u_char *name, size_t len);
static void ngx_http_clinic_spool_stale(ngx_http_clinic_spool_t *sp);
static void ngx_http_clinic_spool_recount(ngx_http_clinic_spool_t *sp);
static void ngx_http_clinic_spool_depth_sub(ngx_http_clinic_stats_hdr_t *hdr,
    ngx_atomic_uint_t n);
static void ngx_http_clinic_spool_start(ngx_http_clinic_spool_t *sp);
static ngx_int_t ngx_http_clinic_spool_fill(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_batch_t *batch, ngx_http_clinic_spool_file_t *f);
static ngx_int_t ngx_http_clinic_spool_judge(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_batch_t *batch, ngx_http_clinic_spool_file_t *f,
    u_char *line, size_t len, ngx_http_clinic_spool_rec_t *rec);
static void ngx_http_clinic_spool_reject(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f, off_t off, off_t next,
    const char *why);
static ngx_int_t ngx_http_clinic_spool_parse(ngx_pool_t *pool, u_char *line,
    size_t len, ngx_str_t *tenant, ngx_http_clinic_submission_t *sub,
    time_t *queued, const char **why);
static ngx_int_t ngx_http_clinic_spool_json_str(ngx_pool_t *pool,
    json_t *value, ngx_uint_t binary, ngx_str_t *s);
static ngx_http_clinic_srv_conf_t *ngx_http_clinic_spool_tenant(
    ngx_http_clinic_spool_t *sp, ngx_str_t *name);
static int ngx_libc_cdecl ngx_http_clinic_spool_cmp_tenants(const void *one,
    const void *two);
static ngx_int_t ngx_http_clinic_spool_read(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f, off_t off, u_char **line, size_t *len,
    off_t *next);
static ssize_t ngx_http_clinic_spool_pread(ngx_fd_t fd, u_char *buf,
    size_t size, off_t off);
static void ngx_http_clinic_spool_stored(void *data,
    ngx_http_clinic_store_result_t *result);
static void ngx_http_clinic_spool_done_handler(ngx_event_t *ev);
static void ngx_http_clinic_spool_complete(ngx_http_clinic_spool_t *sp);
static void ngx_http_clinic_spool_finish(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f);
static ngx_int_t ngx_http_clinic_spool_same(ngx_http_clinic_spool_file_t *f);
static void ngx_http_clinic_spool_close(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f);


/*
 * Per worker process, like nginx's own timer tree: set up in
 * init_process, torn down in exit_process, NULL when no clinic_spool is
 * configured.
 */
static ngx_http_clinic_spool_t  *ngx_http_clinic_spool_worker;


ngx_int_t
ngx_http_clinic_spool_append(ngx_http_request_t *r,
    ngx_http_clinic_submission_t *sub, ngx_str_t *id)
{
    ngx_str_t                      line;
    ngx_uint_t                     ep;
    ngx_file_info_t                fi;
    ngx_http_clinic_spool_t       *sp;
    ngx_http_clinic_stats_hdr_t   *hdr;
    ngx_http_clinic_srv_conf_t    *cscf;
    ngx_http_clinic_spool_file_t  *own;

    sp = ngx_http_clinic_spool_worker;
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    if (sp == NULL || cscf->redis == NULL || cscf->redis->index >= sp->nown) {
        return NGX_ERROR;
    }

    /*
     * One file per Redis endpoint: a shard that is down holds up the
     * replay of its own records only, never another shard's
     */

    ep = cscf->redis->index;
    hdr = ngx_http_clinic_spool_stats(sp->cmcf);

    ngx_str_null(&line);

    id->data = ngx_pnalloc(r->pool, NGX_INT64_LEN * 3 + 2);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    id->len = ngx_sprintf(id->data, "%P-%T-%ui", ngx_pid, ngx_time(),
                          sp->seq++)
              - id->data;

    switch (ngx_http_clinic_spool_record(r, id, &cscf->tenant, sub, &line)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clinic: a submission of %uz bytes is too large "
                      "for the spool", line.len);
        goto failed;

    default:
        goto failed;
    }

    /*
     * A file removed by hand is still readable through its descriptor, so
     * it is replayed from there, but nothing new may go into it.
     */

    own = sp->own[ep];

    if (own
        && ngx_fd_info(own->fd, &fi) != NGX_FILE_ERROR
        && fi.st_nlink == 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "clinic: the spool file \"%s\" was removed while in "
                      "use; its records are replayed from the open file, "
                      "new ones go to a new file", own->path);
        own->retired = 1;
        sp->own[ep] = NULL;
        own = NULL;
    }

    if (own == NULL) {
        if (ngx_http_clinic_spool_open_own(sp, ep) != NGX_OK) {
            goto failed;
        }

        own = sp->own[ep];
    }

    if (own->confirmed >= own->size) {
        own->oldest = ngx_time();
    }

    if (ngx_http_clinic_spool_write(sp, own, line.data, line.len) != NGX_OK) {
        goto failed;
    }

    ngx_http_clinic_spool_oldest(sp);

    if (hdr) {
        (void) ngx_atomic_fetch_add(&hdr->spool_depth, 1);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "clinic spool: queued \"%V\" in \"%s\"", id, own->path);

    return NGX_OK;

failed:

    if (hdr) {
        (void) ngx_atomic_fetch_add(&hdr->spool_errors, 1);
    }

    return NGX_ERROR;
}


ngx_uint_t
ngx_http_clinic_spool_pending(ngx_http_clinic_redis_endpoint_t *ep)
{
    ngx_queue_t                   *q;
    ngx_http_clinic_spool_t       *sp;
    ngx_http_clinic_spool_file_t  *f;

    sp = ngx_http_clinic_spool_worker;

    if (sp == NULL) {
        return 0;
    }

    for (q = ngx_queue_head(&sp->files);
         q != ngx_queue_sentinel(&sp->files);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_clinic_spool_file_t, queue);

        if (f->own && f->ep == ep->index && f->confirmed < f->size) {
            return 1;
        }
    }

    return 0;
}


/* replays the backlog now, not at the next tick: submissions wait for it */

void
ngx_http_clinic_spool_kick(void)
{
    ngx_http_clinic_spool_t  *sp;

    sp = ngx_http_clinic_spool_worker;

    if (sp == NULL || sp->batch || ngx_exiting) {
        return;
    }

    /* nginx keeps a timer that is due within 300 ms: move it explicitly */

    if (sp->timer.timer_set) {
        ngx_del_timer(&sp->timer);
    }

    ngx_add_timer(&sp->timer, NGX_HTTP_CLINIC_SPOOL_AGAIN);
}


ngx_int_t
ngx_http_clinic_spool_init_process(ngx_cycle_t *cycle)
{
    ngx_http_clinic_spool_t      *sp;
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_clinic_module);

    if (cmcf == NULL || cmcf->spool.len == 0) {
        return NGX_OK;
    }

    sp = ngx_pcalloc(cycle->pool, sizeof(ngx_http_clinic_spool_t));
    if (sp == NULL) {
        return NGX_ERROR;
    }

    sp->cmcf = cmcf;
    sp->log = cycle->log;

    sp->dir.len = cmcf->spool.len;

    while (sp->dir.len > 1 && cmcf->spool.data[sp->dir.len - 1] == '/') {
        sp->dir.len--;
    }

    sp->dir.data = ngx_pnalloc(cycle->pool, sp->dir.len + 1);
    sp->path = ngx_pnalloc(cycle->pool, sp->dir.len + 1 + NGX_MAX_PATH + 1);

    if (sp->dir.data == NULL || sp->path == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(sp->dir.data, cmcf->spool.data, sp->dir.len + 1);

    ngx_queue_init(&sp->files);

    sp->nown = cmcf->endpoints.nelts;
    sp->own = ngx_pcalloc(cycle->pool, (sp->nown ? sp->nown : 1)
                                       * sizeof(ngx_http_clinic_spool_file_t *));
    if (sp->own == NULL) {
        return NGX_ERROR;
    }

    sp->timer.handler = ngx_http_clinic_spool_tick;
    sp->timer.data = sp;
    sp->timer.log = cycle->log;
    sp->timer.cancelable = 1;

    sp->done.handler = ngx_http_clinic_spool_done_handler;
    sp->done.data = sp;
    sp->done.log = cycle->log;

    /* nginx -t ran as root: say now if the workers cannot use the folder */

    if (access((char *) sp->dir.data, R_OK|W_OK|X_OK) == -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                      "clinic: the worker cannot use the clinic_spool "
                      "folder \"%s\": submissions that Redis cannot take "
                      "will be answered with 503", sp->dir.data);
    }

    ngx_add_timer(&sp->timer, NGX_HTTP_CLINIC_SPOOL_INTERVAL);

    ngx_http_clinic_spool_worker = sp;

    ngx_http_clinic_spool_oldest(sp);

    return NGX_OK;
}


/*
 * Closing a file drops its lock: whatever is left in it is picked up by a
 * sibling worker or by the next nginx as an orphan.
 */

void
ngx_http_clinic_spool_exit_process(ngx_cycle_t *cycle)
{
    ngx_queue_t                   *q;
    ngx_http_clinic_spool_t       *sp;
    ngx_http_clinic_spool_file_t  *f;

    sp = ngx_http_clinic_spool_worker;

    if (sp == NULL) {
        return;
    }

    if (sp->timer.timer_set) {
        ngx_del_timer(&sp->timer);
    }

    if (sp->done.posted) {
        ngx_delete_posted_event(&sp->done);
    }

    if (sp->batch) {
        /* detaches the stores still in flight */
        ngx_destroy_pool(sp->batch->pool);
        sp->batch = NULL;
    }

    while (!ngx_queue_empty(&sp->files)) {
        q = ngx_queue_head(&sp->files);
        f = ngx_queue_data(q, ngx_http_clinic_spool_file_t, queue);

        /* an own file with nothing left to replay goes away with us */

        if (f->own && !f->bad && f->confirmed >= f->size
            && ngx_http_clinic_spool_same(f) == NGX_OK
            && unlink((char *) f->path) == -1)
        {
            ngx_log_error(NGX_LOG_ERR, sp->log, ngx_errno,
                          "clinic: unlink(\"%s\") failed", f->path);
        }

        ngx_http_clinic_spool_close(sp, f);
    }

    if (sp->buf) {
        ngx_free(sp->buf);
        sp->buf = NULL;
    }

    if (sp->tenants) {
        ngx_free(sp->tenants);
        sp->tenants = NULL;
    }

    /* what is left is an orphan now: its adopter reports its age */
    ngx_http_clinic_spool_oldest(sp);

    ngx_http_clinic_spool_worker = NULL;
}


static ngx_http_clinic_stats_hdr_t *
ngx_http_clinic_spool_stats(ngx_http_clinic_main_conf_t *cmcf)
{
    ngx_http_clinic_stats_t  *st;

    if (cmcf->stats_zone == NULL || cmcf->stats_zone->data == NULL) {
        return NULL;
    }

    st = cmcf->stats_zone->data;

    return st->hdr;
}


/*
 * Builds "<crc32> <json>\n" in r->pool.  NGX_DECLINED: the line would be
 * over the record limit (line->len says how long).
 */

static ngx_int_t
ngx_http_clinic_spool_record(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *tenant, ngx_http_clinic_submission_t *sub, ngx_str_t *line)
{
    int          n;
    u_char      *p;
    size_t       size;
    json_t      *json, *pairs;
    uint32_t     crc;
    ngx_int_t    rc;
    ngx_uint_t   i;

    /* json is released before returning, on every path */

    rc = NGX_ERROR;
    pairs = NULL;

    json = json_object();
    if (json == NULL) {
        return NGX_ERROR;
    }

    if (json_object_set_new(json, "v",
                            json_integer(NGX_HTTP_CLINIC_SPOOL_VERSION))
        || json_object_set_new(json, "id",
                               json_stringn((char *) id->data, id->len))
        || json_object_set_new(json, "tenant",
                               json_stringn((char *) tenant->data,
                                            tenant->len))
        || json_object_set_new(json, "stream",
                               json_stringn((char *) sub->stream.data,
                                            sub->stream.len))
        || json_object_set_new(json, "dedupe",
                               json_stringn((char *) sub->dedupe.data,
                                            sub->dedupe.len))
        || json_object_set_new(json, "retention",
                               json_integer((json_int_t) sub->retention)))
    {
        goto done;
    }

    pairs = json_array();
    if (pairs == NULL) {
        goto done;
    }

    for (i = 0; i < sub->npairs; i++) {
        if (json_array_append_new(pairs,
                   ngx_http_clinic_spool_json_value(r->pool, &sub->pairs[i]))
            != 0)
        {
            goto done;
        }
    }

    /* set_new takes pairs over, even when it fails */

    n = json_object_set_new(json, "pairs", pairs);
    pairs = NULL;

    if (n != 0) {
        goto done;
    }

    size = json_dumpb(json, NULL, 0, JSON_COMPACT);
    if (size == 0) {
        goto done;
    }

    line->len = sizeof("01234567 ") - 1 + size + 1;

    if (line->len > NGX_HTTP_CLINIC_SPOOL_RECORD_MAX) {
        rc = NGX_DECLINED;
        goto done;
    }

    line->data = ngx_pnalloc(r->pool, line->len);
    if (line->data == NULL) {
        goto done;
    }

    p = line->data + sizeof("01234567 ") - 1;

    if (json_dumpb(json, (char *) p, size, JSON_COMPACT) != size) {
        goto done;
    }

    crc = ngx_crc32_long(p, size);

    (void) ngx_sprintf(line->data, "%08xD ", crc);
    line->data[line->len - 1] = '\n';

    rc = NGX_OK;

done:

    if (pairs) {
        json_decref(pairs);
    }

    json_decref(json);

    return rc;
}


/*
 * A value as a JSON string; one that is not UTF-8 (a User-Agent or a
 * Referer may hold any bytes) as {"b64":"..."} instead.  NULL: no memory.
 */

static json_t *
ngx_http_clinic_spool_json_value(ngx_pool_t *pool, ngx_str_t *value)
{
    json_t     *s, *o;
    ngx_str_t   b64;

    s = json_stringn(value->len ? (char *) value->data : "", value->len);
    if (s) {
        return s;
    }

    b64.len = ngx_base64_encoded_length(value->len);
    b64.data = ngx_pnalloc(pool, b64.len);
    if (b64.data == NULL) {
        return NULL;
    }

    ngx_encode_base64(&b64, value);

    s = json_stringn((char *) b64.data, b64.len);
    if (s == NULL) {
        return NULL;
    }

    o = json_object();
    if (o == NULL) {
        json_decref(s);
        return NULL;
    }

    if (json_object_set_new(o, "b64", s) != 0) {
        json_decref(o);
        return NULL;
    }

    return o;
}


/*
 * Creates this worker's file locked, under a name the scan ignores, and
 * only then gives it its ".spool" name; link() rather than rename() so an
 * existing file is never replaced.
 */

static ngx_int_t
ngx_http_clinic_spool_open_own(ngx_http_clinic_spool_t *sp, ngx_uint_t ep)
{
    u_char                        *p, *last;
    size_t                         len;
    ngx_fd_t                       fd;
    ngx_err_t                      err;
    ngx_uint_t                     n;
    u_char                         tmp[NGX_MAX_PATH + 1];
    ngx_http_clinic_spool_file_t  *f;

    for (n = 0; n < 8; n++) {
        p = ngx_cpymem(sp->path, sp->dir.data, sp->dir.len);
        last = sp->path + sp->dir.len + 1 + NGX_MAX_PATH;

        p = ngx_slprintf(p, last, "/%P-%T", ngx_pid, ngx_time());

        if (n) {
            p = ngx_slprintf(p, last, "-%ui", n);
        }

        p = ngx_slprintf(p, last, NGX_HTTP_CLINIC_SPOOL_SUFFIX "%Z");

        len = p - sp->path - 1;

        if (len + sizeof(".new") > sizeof(tmp)) {
            ngx_log_error(NGX_LOG_ALERT, sp->log, 0,
                          "clinic: the clinic_spool path \"%s\" is too long",
                          sp->dir.data);
            return NGX_ERROR;
        }

        (void) ngx_sprintf(tmp, "%s.new%Z", sp->path);

        fd = open((char *) tmp, O_RDWR|O_APPEND|O_CREAT|O_EXCL|O_CLOEXEC,
                  0600);

        if (fd == -1) {
            err = ngx_errno;

            if (err == NGX_EEXIST) {
                continue;
            }

            ngx_log_error(NGX_LOG_CRIT, sp->log, err,
                          "clinic: cannot create the spool file \"%s\"", tmp);
            return NGX_ERROR;
        }

        if (flock(fd, LOCK_EX|LOCK_NB) == -1) {
            ngx_log_error(NGX_LOG_CRIT, sp->log, ngx_errno,
                          "clinic: flock(\"%s\") failed", tmp);
            (void) unlink((char *) tmp);
            (void) close(fd);
            return NGX_ERROR;
        }

        if (link((char *) tmp, (char *) sp->path) == -1) {
            err = ngx_errno;

            (void) unlink((char *) tmp);
            (void) close(fd);

            if (err == NGX_EEXIST) {
                continue;
            }

            ngx_log_error(NGX_LOG_CRIT, sp->log, err,
                          "clinic: cannot create the spool file \"%s\"",
                          sp->path);
            return NGX_ERROR;
        }

        if (unlink((char *) tmp) == -1) {
            ngx_log_error(NGX_LOG_ERR, sp->log, ngx_errno,
                          "clinic: unlink(\"%s\") failed", tmp);
        }

        f = ngx_http_clinic_spool_file(sp, fd, sp->path + sp->dir.len + 1,
                                       len - sp->dir.len - 1, 1);
        if (f == NULL) {
            (void) unlink((char *) sp->path);
            (void) close(fd);
            return NGX_ERROR;
        }

        f->own = 1;
        f->ep = ep;
        sp->own[ep] = f;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, sp->log, 0,
                       "clinic spool: opened \"%s\"", f->path);

        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_CRIT, sp->log, 0,
                  "clinic: no free spool file name in \"%s\"", sp->dir.data);

    return NGX_ERROR;
}


/*
 * Appends one whole line and makes it durable: written, fdatasync'd and,
 * for a new file, its folder entry synced too.  On failure the file is cut
 * back to where it was, so it never keeps a torn line followed by good
 * ones; when that is not possible, or after a failed fsync (the kernel may
 * have dropped the dirty pages: a later fsync could succeed without them),
 * the file is retired and the next append starts a new one.
 */

static ngx_int_t
ngx_http_clinic_spool_write(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f, u_char *data, size_t len)
{
    size_t      written;
    ssize_t     n;
    ngx_err_t   err;
    const char *what;

    written = 0;

    while (written < len) {
        n = write(f->fd, data + written, len - written);

        if (n == -1) {
            err = ngx_errno;

            if (err == NGX_EINTR) {
                continue;
            }

            what = "write";
            goto failed;
        }

        if (n == 0) {
            err = 0;
            what = "write";
            goto failed;
        }

        written += n;
    }

    if (fdatasync(f->fd) == -1) {
        err = ngx_errno;
        what = "fdatasync";
        f->retired = 1;
        goto failed;
    }

    if (!f->dir_synced) {
        if (ngx_http_clinic_spool_sync_dir(sp) != NGX_OK) {
            err = ngx_errno;
            what = "fsync of the folder";
            goto failed;
        }

        f->dir_synced = 1;
    }

    f->size += len;

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_CRIT, sp->log, err,
                  "clinic: %s of the spool file \"%s\" failed; the "
                  "submission was not queued", what, f->path);

    if (written && ftruncate(f->fd, f->size) == -1) {
        ngx_log_error(NGX_LOG_CRIT, sp->log, ngx_errno,
                      "clinic: ftruncate(\"%s\") failed", f->path);
        f->retired = 1;
    }

    if (f->retired && f->own && sp->own[f->ep] == f) {
        ngx_log_error(NGX_LOG_CRIT, sp->log, 0,
                      "clinic: the spool file \"%s\" takes no more "
                      "submissions; it is replayed, then removed", f->path);
        sp->own[f->ep] = NULL;
    }

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_clinic_spool_sync_dir(ngx_http_clinic_spool_t *sp)
{
    ngx_fd_t   fd;
    ngx_err_t  err;

    fd = open((char *) sp->dir.data, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
    if (fd == -1) {
        return NGX_ERROR;
    }

    /* EINVAL: a file system that cannot sync a folder, nothing to do */

    if (fsync(fd) == -1 && ngx_errno != EINVAL) {
        err = ngx_errno;
        (void) close(fd);
        ngx_set_errno(err);
        return NGX_ERROR;
    }

    (void) close(fd);

    return NGX_OK;
}


/*
 * A locked file joins the worker's list; the path is built from name.
 * The list is the replay order: the files of processes that are gone,
 * oldest first (by the time in their names), then the worker's own files,
 * which are newer than any record of an orphan it adopts: a worker spools
 * nothing new while it has records to replay (see the contact handler).
 */

static ngx_http_clinic_spool_file_t *
ngx_http_clinic_spool_file(ngx_http_clinic_spool_t *sp, ngx_fd_t fd,
    u_char *name, size_t len, ngx_uint_t own)
{
    u_char                        *p;
    ngx_queue_t                   *q;
    ngx_file_info_t                fi;
    ngx_http_clinic_spool_file_t  *f, *g;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_CRIT, sp->log, ngx_errno,
                      "clinic: fstat() of a spool file failed");
        return NULL;
    }

    f = ngx_alloc(sizeof(ngx_http_clinic_spool_file_t) + sp->dir.len + 1
                  + len + 1, sp->log);
    if (f == NULL) {
        return NULL;
    }

    ngx_memzero(f, sizeof(ngx_http_clinic_spool_file_t));

    f->fd = fd;
    f->dev = fi.st_dev;
    f->ino = fi.st_ino;

    f->path = (u_char *) &f[1];
    p = ngx_cpymem(f->path, sp->dir.data, sp->dir.len);
    *p++ = '/';
    f->name = p;
    p = ngx_cpymem(p, name, len);
    *p = '\0';

    f->created = ngx_http_clinic_spool_name_time(name, len);

    if (own) {
        ngx_queue_insert_tail(&sp->files, &f->queue);
        return f;
    }

    /* until its first record is read, the file is as old as its name */
    f->oldest = f->created;

    for (q = ngx_queue_head(&sp->files);
         q != ngx_queue_sentinel(&sp->files);
         q = ngx_queue_next(q))
    {
        g = ngx_queue_data(q, ngx_http_clinic_spool_file_t, queue);

        if (g->own || g->created > f->created
            || (g->created == f->created
                && ngx_strcmp(g->name, f->name) > 0))
        {
            break;
        }
    }

    /* inserted before q, or at the tail when q is the sentinel */
    ngx_queue_insert_tail(q, &f->queue);

    return f;
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

        if (g->own && g->ep == f->ep && g->held) {
            return 1;
        }
    }

    return 0;
}


/* "<pid>-<time>[-<n>].spool": the time the file was created, 0 if none */

static time_t
ngx_http_clinic_spool_name_time(u_char *name, size_t len)
{
    u_char  *p, *last, *start;

    last = name + len;
    p = ngx_strlchr(name, last, '-');

    if (p == NULL) {
        return 0;
    }

    start = ++p;

    while (p < last && *p >= '0' && *p <= '9') {
        p++;
    }

    if (p == start) {
        return 0;
    }

    return ngx_max(ngx_atotm(start, p - start), 0);
}


/*
 * Publishes when this worker's oldest record still to replay was queued,
 * for clinic_spool_oldest_seconds: an operator sees a spool that does not
 * drain, whichever worker holds it.
 */

static void
ngx_http_clinic_spool_oldest(ngx_http_clinic_spool_t *sp)
{
    time_t                         oldest;
    ngx_queue_t                   *q;
    ngx_http_clinic_stats_hdr_t   *hdr;
    ngx_http_clinic_spool_file_t  *f;

    hdr = ngx_http_clinic_spool_stats(sp->cmcf);
    if (hdr == NULL) {
        return;
    }

    oldest = 0;

    for (q = ngx_queue_head(&sp->files);
         q != ngx_queue_sentinel(&sp->files);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_clinic_spool_file_t, queue);

        if (f->own && f->confirmed >= f->size) {
            f->oldest = 0;
        }

        if (f->oldest && (oldest == 0 || f->oldest < oldest)) {
            oldest = f->oldest;
        }
    }

    hdr->spool_oldest[ngx_http_clinic_stats_worker_slot()] = oldest;
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
 * Looks for orphans to adopt and stale temporary files; worker 0 also
 * recounts the records of the whole folder for clinic_spool_depth.
 */

static void
ngx_http_clinic_spool_scan(ngx_http_clinic_spool_t *sp)
{
    u_char     *name;
    size_t      len, slen, nlen;
    ngx_err_t   err;
    ngx_dir_t   dir;

    if (ngx_open_dir(&sp->dir, &dir) == NGX_ERROR) {
        if (!sp->logged_dir) {
            ngx_log_error(NGX_LOG_ERR, sp->log, ngx_errno,
                          "clinic: cannot read the clinic_spool folder "
                          "\"%s\"", sp->dir.data);
            sp->logged_dir = 1;
        }

        return;
    }

    sp->logged_dir = 0;

    slen = sizeof(NGX_HTTP_CLINIC_SPOOL_SUFFIX) - 1;
    nlen = sizeof(NGX_HTTP_CLINIC_SPOOL_NEW) - 1;

    for ( ;; ) {
        ngx_set_errno(0);

        if (ngx_read_dir(&dir) == NGX_ERROR) {
            err = ngx_errno;

            if (err != NGX_ENOMOREFILES) {
                ngx_log_error(NGX_LOG_ERR, sp->log, err,
                              "clinic: " ngx_read_dir_n " \"%s\" failed",
                              sp->dir.data);
            }

            break;
        }

        name = ngx_de_name(&dir);
        len = ngx_de_namelen(&dir);

        if (name[0] == '.' || len > NGX_MAX_PATH) {
            continue;
        }

        (void) ngx_sprintf(sp->path, "%V/%*s%Z", &sp->dir, len, name);

        if (len > slen
            && ngx_strncmp(name + len - slen, NGX_HTTP_CLINIC_SPOOL_SUFFIX,
                           slen) == 0)
        {
            if (sp->norphans < NGX_HTTP_CLINIC_SPOOL_ORPHANS
                && !ngx_http_clinic_spool_known(sp, name, len))
            {
                ngx_http_clinic_spool_adopt(sp, name, len);
            }

        } else if (len > nlen
                   && ngx_strncmp(name + len - nlen,
                                  NGX_HTTP_CLINIC_SPOOL_NEW, nlen) == 0)
        {
            ngx_http_clinic_spool_stale(sp);
        }
    }

    ngx_close_dir(&dir);

    if (ngx_worker == 0) {
        ngx_http_clinic_spool_recount(sp);
    }
}


static ngx_int_t
ngx_http_clinic_spool_known(ngx_http_clinic_spool_t *sp, u_char *name,
    size_t len)
{
    ngx_queue_t                   *q;
    ngx_http_clinic_spool_file_t  *f;

    for (q = ngx_queue_head(&sp->files);
         q != ngx_queue_sentinel(&sp->files);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_clinic_spool_file_t, queue);

        if (ngx_strlen(f->name) == len && ngx_strncmp(f->name, name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* sp->path holds the file's path; a file we cannot lock has a live owner */

static void
ngx_http_clinic_spool_adopt(ngx_http_clinic_spool_t *sp, u_char *name,
    size_t len)
{
    ngx_fd_t                       fd;
    ngx_err_t                      err;
    ngx_uint_t                     level;
    ngx_file_info_t                fi;
    ngx_http_clinic_spool_file_t  *f;

    fd = open((char *) sp->path,
              O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC);

    if (fd == -1) {
        err = ngx_errno;

        /* tried every second: said at most once a minute */

        if (err != NGX_ENOENT && ngx_time() - sp->open_logged >= 60) {
            ngx_log_error(NGX_LOG_ERR, sp->log, err,
                          "clinic: cannot open the spool file \"%s\"",
                          sp->path);
            sp->open_logged = ngx_time();
        }

        return;
    }

    if (flock(fd, LOCK_EX|LOCK_NB) == -1) {
        (void) close(fd);
        return;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || fi.st_nlink == 0
        || !S_ISREG(fi.st_mode))
    {
        (void) close(fd);
        return;
    }

    f = ngx_http_clinic_spool_file(sp, fd, name, len, 0);
    if (f == NULL) {
        (void) close(fd);
        return;
    }

    sp->norphans++;

    level = fi.st_size ? NGX_LOG_NOTICE : NGX_LOG_INFO;

    ngx_log_error(level, sp->log, 0,
                  "clinic: replaying the spool file \"%s\" (%O bytes) left "
                  "by a process that is gone", f->path, fi.st_size);
}


/* a ".spool.new" whose creator died before naming it: empty, unlocked */

static void
ngx_http_clinic_spool_stale(ngx_http_clinic_spool_t *sp)
{
    ngx_fd_t         fd;
    ngx_file_info_t  fi, li;

    fd = open((char *) sp->path, O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC);
    if (fd == -1) {
        return;
    }

    if (flock(fd, LOCK_EX|LOCK_NB) == 0
        && ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
        && fi.st_nlink > 0
        && fi.st_size == 0
        && ngx_time() - fi.st_mtime > NGX_HTTP_CLINIC_SPOOL_STALE
        && lstat((char *) sp->path, &li) == 0
        && li.st_ino == fi.st_ino
        && li.st_dev == fi.st_dev)
    {
        (void) unlink((char *) sp->path);
    }

    (void) close(fd);
}


/*
 * clinic_spool_depth: every complete record in every "*.spool" file of the
 * folder, live or orphaned.  Appends add to it and replays take from it as
 * they go; this recount puts it right (after a crash, a restart).  It reads
 * the files again only when one changed, which a signature of names, sizes
 * and modification times tells, and after reading B bytes waits B / 1 MB
 * seconds (at most a minute) before the next: a big spool costs worker 0
 * about a thousandth of its time.
 */

static void
ngx_http_clinic_spool_recount(ngx_http_clinic_spool_t *sp)
{
    u_char                       *name, *p, *last;
    size_t                        len, slen;
    ssize_t                       n;
    off_t                         off;
    uint32_t                      crc;
    ngx_fd_t                      fd;
    ngx_dir_t                     dir;
    off_t                         bytes, size;
    ngx_uint_t                    pass;
    struct stat                   st;
    ngx_atomic_uint_t             total;
    ngx_http_clinic_stats_hdr_t  *hdr;

    hdr = ngx_http_clinic_spool_stats(sp->cmcf);
    if (hdr == NULL) {
        return;
    }

    if (sp->buf == NULL) {
        sp->buf = ngx_alloc(NGX_HTTP_CLINIC_SPOOL_CHUNK, sp->log);
        if (sp->buf == NULL) {
            return;
        }

        sp->buf_size = NGX_HTTP_CLINIC_SPOOL_CHUNK;
    }

    slen = sizeof(NGX_HTTP_CLINIC_SPOOL_SUFFIX) - 1;
    size = 0;
    total = 0;
    bytes = 0;
    crc = 0;

    /* pass 0 computes the signature, pass 1 counts when it changed */

    for (pass = 0; pass < 2; pass++) {

        if (ngx_open_dir(&sp->dir, &dir) == NGX_ERROR) {
            return;
        }

        ngx_crc32_init(crc);

        for ( ;; ) {
            if (ngx_read_dir(&dir) == NGX_ERROR) {
                break;
            }

            name = ngx_de_name(&dir);
            len = ngx_de_namelen(&dir);

            if (name[0] == '.' || len <= slen || len > NGX_MAX_PATH
                || ngx_strncmp(name + len - slen,
                               NGX_HTTP_CLINIC_SPOOL_SUFFIX, slen) != 0)
            {
                continue;
            }

            (void) ngx_sprintf(sp->path, "%V/%*s%Z", &sp->dir, len, name);

            if (pass == 0) {
                if (stat((char *) sp->path, &st) == -1) {
                    continue;
                }

                ngx_crc32_update(&crc, name, len);
                ngx_crc32_update(&crc, (u_char *) &st.st_ino,
                                 sizeof(st.st_ino));
                ngx_crc32_update(&crc, (u_char *) &st.st_size,
                                 sizeof(st.st_size));
                ngx_crc32_update(&crc, (u_char *) &st.st_mtim,
                                 sizeof(st.st_mtim));
                size += st.st_size;
                continue;
            }

            fd = open((char *) sp->path,
                      O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC);
            if (fd == -1) {
                continue;
            }

            /* the replay buffer is free: no batch is being built */

            sp->buf_file = NULL;

            for (off = 0; /* void */; off += n) {
                n = ngx_http_clinic_spool_pread(fd, sp->buf, sp->buf_size,
                                                off);
                if (n <= 0) {
                    break;
                }

                bytes += n;
                last = sp->buf + n;

                for (p = sp->buf; p < last; p++) {
                    p = ngx_strlchr(p, last, '\n');
                    if (p == NULL) {
                        break;
                    }

                    total++;
                }
            }

            (void) close(fd);
        }

        ngx_close_dir(&dir);

        ngx_crc32_final(crc);

        /* the gauge moved without a change in the files: a race to fix */

        if (pass == 0) {
            if (sp->counted && crc == sp->signature
                && hdr->spool_depth == sp->depth)
            {
                return;
            }

            /*
             * Reading large files is paced, except when the files shrank:
             * a drained spool shows as 0 at once, not up to a minute late
             */

            if (sp->counted && size >= sp->size
                && (ngx_msec_int_t) (ngx_current_msec - sp->next_count) < 0)
            {
                return;
            }

            sp->signature = crc;
            sp->size = size;
        }
    }

    sp->counted = 1;
    sp->next_count = ngx_current_msec
                     + (ngx_msec_t) ngx_min(bytes / 1048576 * 1000, 60000);

    hdr->spool_depth = total;
    sp->depth = total;
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


/*
 * Builds one batch from the files in order and sends it, pipelined.  Own
 * files come in the order they were written; a later own file waits until
 * the earlier ones are through, so a worker's records keep their order.
 */

static void
ngx_http_clinic_spool_start(ngx_http_clinic_spool_t *sp)
{
    ngx_int_t                       rc;
    ngx_uint_t                      i, work, stop;
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
            && !(f->own && sp->own[f->ep] == f && f->confirmed == f->size))
        {
            work = 1;
            break;
        }
    }

    if (!work) {
        return;
    }

    if (sp->buf == NULL) {
        sp->buf = ngx_alloc(NGX_HTTP_CLINIC_SPOOL_CHUNK, sp->log);
        if (sp->buf == NULL) {
            return;
        }

        sp->buf_size = NGX_HTTP_CLINIC_SPOOL_CHUNK;
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
     * Redis runs a connection's commands in order: once one could not be
     * sent, nothing after it is, so a file never gets ahead of itself.
     */

    batch->sending = 1;
    stop = 0;

    for (i = 0; i < batch->nrec; i++) {
        rec = &batch->rec[i];

        if (rec->state != NGX_HTTP_CLINIC_SPOOL_SENT) {
            continue;
        }

        if (stop) {
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
            stop = 1;
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

    rc = ngx_http_clinic_spool_parse(batch->pool, line, len, &tenant,
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

    if (!ngx_http_clinic_redis_is_up(cscf->redis)) {
        return NGX_AGAIN;
    }

    rec->ep = cscf->redis;
    rec->state = NGX_HTTP_CLINIC_SPOOL_SENT;

    return NGX_OK;
}


/* counted and logged once: a line is judged again after a failed batch */

static void
ngx_http_clinic_spool_reject(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f, off_t off, off_t next, const char *why)
{
    ngx_http_clinic_stats_hdr_t  *hdr;

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


/*
 * Checks one line and converts it into a submission allocated in pool.
 * NGX_DECLINED: not a valid record, *why says why.
 */

static ngx_int_t
ngx_http_clinic_spool_parse(ngx_pool_t *pool, u_char *line, size_t len,
    ngx_str_t *tenant, ngx_http_clinic_submission_t *sub, time_t *queued,
    const char **why)
{
    size_t         i, n;
    json_t        *json, *v, *pairs;
    uint32_t       crc, want;
    ngx_int_t      rc, hex;
    json_int_t     retention;
    json_error_t   jerr;

    if (len < sizeof("01234567 {}") - 1 || line[8] != ' ') {
        *why = "malformed";
        return NGX_DECLINED;
    }

    want = 0;

    for (i = 0; i < 8; i++) {
        if (line[i] >= '0' && line[i] <= '9') {
            hex = line[i] - '0';

        } else if (line[i] >= 'a' && line[i] <= 'f') {
            hex = line[i] - 'a' + 10;

        } else {
            *why = "malformed";
            return NGX_DECLINED;
        }

        want = (want << 4) | (uint32_t) hex;
    }

    crc = ngx_crc32_long(line + 9, len - 9);

    if (crc != want) {
        *why = "checksum mismatch";
        return NGX_DECLINED;
    }

    json = json_loadb((char *) line + 9, len - 9,
                      JSON_ALLOW_NUL|JSON_REJECT_DUPLICATES, &jerr);
    if (json == NULL) {
        *why = "not JSON";
        return NGX_DECLINED;
    }

    /* json is released before returning, on every path */

    rc = NGX_DECLINED;
    *why = "missing or invalid fields";

    v = json_object_get(json, "v");

    if (!json_is_integer(v)
        || json_integer_value(v) != NGX_HTTP_CLINIC_SPOOL_VERSION)
    {
        *why = "unknown version";
        goto done;
    }

    v = json_object_get(json, "id");

    if (!json_is_string(v)) {
        goto done;
    }

    /* "<pid>-<time>-<seq>": when the record was queued */
    *queued = ngx_http_clinic_spool_name_time((u_char *) json_string_value(v),
                                              json_string_length(v));

    rc = ngx_http_clinic_spool_json_str(pool, json_object_get(json, "tenant"),
                                        0, tenant);
    if (rc != NGX_OK) {
        goto done;
    }

    rc = NGX_DECLINED;

    if (tenant->len == 0 || tenant->len > NGX_HTTP_CLINIC_TENANT_MAX) {
        goto done;
    }

    rc = ngx_http_clinic_spool_json_str(pool, json_object_get(json, "stream"),
                                        0, &sub->stream);
    if (rc != NGX_OK) {
        goto done;
    }

    rc = ngx_http_clinic_spool_json_str(pool, json_object_get(json, "dedupe"),
                                        0, &sub->dedupe);
    if (rc != NGX_OK) {
        goto done;
    }

    rc = NGX_DECLINED;

    v = json_object_get(json, "retention");

    if (!json_is_integer(v)) {
        goto done;
    }

    retention = json_integer_value(v);

    if (retention < 0 || retention > NGX_MAX_INT32_VALUE) {
        goto done;
    }

    sub->retention = (time_t) retention;

    pairs = json_object_get(json, "pairs");
    n = json_array_size(pairs);

    if (!json_is_array(pairs) || n == 0 || n % 2) {
        goto done;
    }

    sub->pairs = ngx_palloc(pool, n * sizeof(ngx_str_t));
    if (sub->pairs == NULL) {
        rc = NGX_ERROR;
        goto done;
    }

    sub->npairs = n;

    for (i = 0; i < n; i++) {
        rc = ngx_http_clinic_spool_json_str(pool, json_array_get(pairs, i), 1,
                                            &sub->pairs[i]);
        if (rc != NGX_OK) {
            goto done;
        }
    }

    rc = NGX_OK;

done:

    json_decref(json);

    return rc;
}


/*
 * Copies a JSON string into pool; with binary, {"b64":"..."} too.
 * NGX_DECLINED: not of that shape.
 */

static ngx_int_t
ngx_http_clinic_spool_json_str(ngx_pool_t *pool, json_t *value,
    ngx_uint_t binary, ngx_str_t *s)
{
    json_t     *b64;
    ngx_str_t   src;

    if (json_is_string(value)) {
        s->len = json_string_length(value);
        s->data = ngx_pnalloc(pool, s->len + 1);
        if (s->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(s->data, json_string_value(value), s->len);
        s->data[s->len] = '\0';

        return NGX_OK;
    }

    if (!binary || !json_is_object(value) || json_object_size(value) != 1) {
        return NGX_DECLINED;
    }

    b64 = json_object_get(value, "b64");

    if (!json_is_string(b64)) {
        return NGX_DECLINED;
    }

    src.len = json_string_length(b64);
    src.data = (u_char *) json_string_value(b64);

    s->data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len) + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64(s, &src) != NGX_OK) {
        return NGX_DECLINED;
    }

    s->data[s->len] = '\0';

    return NGX_OK;
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
 * The line of f that starts at off, read through one buffer that grows up
 * to the record limit.  *next is where the following line starts (LINE,
 * LONG) or the end of the data (TORN).
 */

static ngx_int_t
ngx_http_clinic_spool_read(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f, off_t off, u_char **line, size_t *len,
    off_t *next)
{
    u_char   *p, *nl, *buf;
    size_t    size;
    ssize_t   n;
    off_t     pos;

    if (sp->buf_file == f
        && off >= sp->buf_off
        && off < sp->buf_off + (off_t) sp->buf_len)
    {
        p = sp->buf + (off - sp->buf_off);
        nl = ngx_strlchr(p, sp->buf + sp->buf_len, '\n');

        if (nl) {
            *line = p;
            *len = nl - p;
            *next = off + (nl - p) + 1;
            return NGX_HTTP_CLINIC_SPOOL_LINE;
        }
    }

    for ( ;; ) {
        sp->buf_file = NULL;

        n = ngx_http_clinic_spool_pread(f->fd, sp->buf, sp->buf_size, off);
        if (n == -1) {
            return NGX_HTTP_CLINIC_SPOOL_EIO;
        }

        if (n == 0) {
            return NGX_HTTP_CLINIC_SPOOL_END;
        }

        sp->buf_file = f;
        sp->buf_off = off;
        sp->buf_len = n;

        nl = ngx_strlchr(sp->buf, sp->buf + n, '\n');

        if (nl) {
            *line = sp->buf;
            *len = nl - sp->buf;
            *next = off + (nl - sp->buf) + 1;
            return NGX_HTTP_CLINIC_SPOOL_LINE;
        }

        if ((size_t) n < sp->buf_size) {
            *next = off + n;
            return NGX_HTTP_CLINIC_SPOOL_TORN;
        }

        if (sp->buf_size >= NGX_HTTP_CLINIC_SPOOL_RECORD_MAX) {
            break;
        }

        size = ngx_min(sp->buf_size * 2, NGX_HTTP_CLINIC_SPOOL_RECORD_MAX);

        buf = ngx_alloc(size, sp->log);
        if (buf == NULL) {
            return NGX_HTTP_CLINIC_SPOOL_EIO;
        }

        ngx_free(sp->buf);
        sp->buf = buf;
        sp->buf_size = size;
    }

    /* a line over the limit: look for its end, chunk by chunk */

    sp->buf_file = NULL;

    for (pos = off + sp->buf_size; /* void */; pos += n) {
        n = ngx_http_clinic_spool_pread(f->fd, sp->buf, sp->buf_size, pos);
        if (n == -1) {
            return NGX_HTTP_CLINIC_SPOOL_EIO;
        }

        if (n == 0) {
            *next = pos;
            return NGX_HTTP_CLINIC_SPOOL_TORN;
        }

        nl = ngx_strlchr(sp->buf, sp->buf + n, '\n');

        if (nl) {
            *next = pos + (nl - sp->buf) + 1;
            return NGX_HTTP_CLINIC_SPOOL_LONG;
        }
    }
}


/* reads up to size bytes at off; fewer only at the end of the file */

static ssize_t
ngx_http_clinic_spool_pread(ngx_fd_t fd, u_char *buf, size_t size, off_t off)
{
    size_t   got;
    ssize_t  n;

    got = 0;

    while (got < size) {
        n = pread(fd, buf + got, size - got, off + got);

        if (n == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            return -1;
        }

        if (n == 0) {
            break;
        }

        got += n;
    }

    return got;
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

    } else {
        rec->state = NGX_HTTP_CLINIC_SPOOL_FAILED;
        batch->failed = 1;
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


/*
 * A file whose every record is in Redis: the worker's current file is
 * emptied (nothing is appended between the check and the ftruncate: this
 * runs in one event handler), any other is removed; a file with rejected
 * lines is kept as "*.spool.bad" for a human to look at.
 */

static void
ngx_http_clinic_spool_finish(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f)
{
    u_char  *bad;

    if (f->blocked) {
        return;
    }

    if (f->own) {
        if (f->confirmed < f->size) {
            return;
        }

    } else if (!f->at_end || f->confirmed != f->end) {
        return;
    }

    if (f->own && sp->own[f->ep] == f && !f->bad) {
        if (f->size == 0) {
            return;
        }

        if (ftruncate(f->fd, 0) == -1) {
            ngx_log_error(NGX_LOG_CRIT, sp->log, ngx_errno,
                          "clinic: ftruncate(\"%s\") failed", f->path);
            return;
        }

        f->size = 0;
        f->confirmed = 0;
        f->checked = 0;
        f->end = 0;
        f->at_end = 0;

        if (sp->buf_file == f) {
            sp->buf_file = NULL;
        }

        return;
    }

    if (ngx_http_clinic_spool_same(f) == NGX_OK) {

        if (f->bad) {
            bad = ngx_alloc(ngx_strlen(f->path) + sizeof(".bad"), sp->log);

            if (bad) {
                (void) ngx_sprintf(bad, "%s" NGX_HTTP_CLINIC_SPOOL_BAD "%Z",
                                   f->path);

                if (rename((char *) f->path, (char *) bad) == -1) {
                    ngx_log_error(NGX_LOG_CRIT, sp->log, ngx_errno,
                                  "clinic: rename(\"%s\", \"%s\") failed",
                                  f->path, bad);

                } else {
                    ngx_log_error(NGX_LOG_ERR, sp->log, 0,
                                  "clinic: the spool file \"%s\" is "
                                  "replayed but for the records it could "
                                  "not read; kept as \"%s\"", f->path, bad);
                }

                ngx_free(bad);
            }

        } else if (unlink((char *) f->path) == -1) {
            ngx_log_error(NGX_LOG_CRIT, sp->log, ngx_errno,
                          "clinic: unlink(\"%s\") failed", f->path);

        } else {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, sp->log, 0,
                           "clinic spool: \"%s\" replayed, removed",
                           f->path);
        }
    }

    ngx_http_clinic_spool_close(sp, f);
}


/* whether f's name still leads to the file we hold (not moved away) */

static ngx_int_t
ngx_http_clinic_spool_same(ngx_http_clinic_spool_file_t *f)
{
    struct stat  st;

    if (lstat((char *) f->path, &st) == -1
        || st.st_ino != f->ino
        || st.st_dev != f->dev)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* closing drops the lock; the name is removed, or left, before this */

static void
ngx_http_clinic_spool_close(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f)
{
    if (close(f->fd) == -1) {
        ngx_log_error(NGX_LOG_ALERT, sp->log, ngx_errno,
                      "clinic: close(\"%s\") failed", f->path);
    }

    if (f->own && sp->own[f->ep] == f) {
        sp->own[f->ep] = NULL;
    }

    if (!f->own) {
        sp->norphans--;
    }

    if (sp->buf_file == f) {
        sp->buf_file = NULL;
    }

    ngx_queue_remove(&f->queue);
    ngx_free(f);
}
