
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
 *
 * The parts, and which calls which, are listed in
 * ngx_http_clinic_spool_int.h; this one holds the worker's spool and the
 * API the contact handler uses.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_store.h"
#include "ngx_http_clinic_spool.h"
#include "ngx_http_clinic_spool_int.h"


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
    ngx_uint_t                     lane;
    ngx_http_clinic_spool_t       *sp;
    ngx_http_clinic_stats_hdr_t   *hdr;
    ngx_http_clinic_srv_conf_t    *cscf;
    ngx_http_clinic_spool_file_t  *own;

    sp = ngx_http_clinic_spool_worker;
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    if (sp == NULL || cscf->redis == NULL || cscf->spool_lane >= sp->nown) {
        return NGX_ERROR;
    }

    /*
     * One file per lane, a Redis endpoint or a part of a cluster's slots:
     * a shard that is down holds up the replay of its own records only,
     * never another shard's
     */

    lane = cscf->spool_lane;
    hdr = ngx_http_clinic_spool_stats(sp->cmcf);

    ngx_str_null(&line);

    id->data = ngx_pnalloc(r->pool, NGX_INT64_LEN * 3 + 2);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    id->len = ngx_sprintf(id->data, "%P-%T-%ui", ngx_pid, ngx_time(),
                          sp->seq++)
              - id->data;

    switch (ngx_http_clinic_spool_record_encode(r->pool, id, &cscf->tenant,
                                                sub, &line))
    {
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

    own = ngx_http_clinic_spool_own(sp, lane, r->connection->log);
    if (own == NULL) {
        goto failed;
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
ngx_http_clinic_spool_pending(ngx_http_clinic_srv_conf_t *cscf)
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

        if (f->own && f->lane == cscf->spool_lane && f->confirmed < f->size)
        {
            return 1;
        }
    }

    return 0;
}


void
ngx_http_clinic_spool_kick(void)
{
    ngx_http_clinic_spool_t  *sp;

    sp = ngx_http_clinic_spool_worker;

    if (sp) {
        ngx_http_clinic_spool_replay_kick(sp);
    }
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

    sp->nown = cmcf->nlanes;
    sp->own = ngx_pcalloc(cycle->pool,
                          (sp->nown ? sp->nown : 1)
                          * sizeof(ngx_http_clinic_spool_file_t *));
    if (sp->own == NULL) {
        return NGX_ERROR;
    }

    /* nginx -t ran as root: say now if the workers cannot use the folder */

    if (access((char *) sp->dir.data, R_OK|W_OK|X_OK) == -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                      "clinic: the worker cannot use the clinic_spool "
                      "folder \"%s\": submissions that Redis cannot take "
                      "will be answered with 503", sp->dir.data);
    }

    ngx_http_clinic_spool_replay_init(sp, cycle->log);

    ngx_http_clinic_spool_worker = sp;

    ngx_http_clinic_spool_oldest(sp);

    return NGX_OK;
}


/*
 * Closing the files drops their locks: whatever is left in them is picked
 * up by a sibling worker or by the next nginx as an orphan.
 */

void
ngx_http_clinic_spool_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_clinic_spool_t  *sp;

    sp = ngx_http_clinic_spool_worker;

    if (sp == NULL) {
        return;
    }

    ngx_http_clinic_spool_replay_stop(sp);
    ngx_http_clinic_spool_close_all(sp);

    /* what is left is an orphan now: its adopter reports its age */
    ngx_http_clinic_spool_oldest(sp);

    ngx_http_clinic_spool_worker = NULL;
}
