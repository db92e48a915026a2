
/*
 * The spool's files (see the invariants in ngx_http_clinic_spool.c):
 * this worker's own files, one per spool lane, created locked and
 * appended to durably; orphans adopted by their lock, in replay order;
 * stale ".spool.new" files; the recount of the folder for
 * clinic_spool_depth; reading records back, line by line; and the end of
 * a file once its every record is in Redis.  The file I/O is blocking,
 * and that is accepted: appends happen only while Redis cannot take
 * submissions, and a replay reads a local file in 64 KB chunks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <sys/file.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_spool_int.h"


#define NGX_HTTP_CLINIC_SPOOL_ORPHANS      16       /* adopted files at once */
#define NGX_HTTP_CLINIC_SPOOL_CHUNK        65536
#define NGX_HTTP_CLINIC_SPOOL_STALE        60       /* s, a crashed ".new" */

#define NGX_HTTP_CLINIC_SPOOL_SUFFIX       ".spool"
#define NGX_HTTP_CLINIC_SPOOL_NEW          ".spool.new"


static ngx_int_t ngx_http_clinic_spool_open_own(ngx_http_clinic_spool_t *sp,
    ngx_uint_t lane);
static ngx_int_t ngx_http_clinic_spool_sync_dir(ngx_http_clinic_spool_t *sp);
static ngx_http_clinic_spool_file_t *ngx_http_clinic_spool_file(
    ngx_http_clinic_spool_t *sp, ngx_fd_t fd, u_char *name, size_t len,
    ngx_uint_t own);
static ngx_int_t ngx_http_clinic_spool_known(ngx_http_clinic_spool_t *sp,
    u_char *name, size_t len);
static void ngx_http_clinic_spool_adopt(ngx_http_clinic_spool_t *sp,
    u_char *name, size_t len);
static void ngx_http_clinic_spool_stale(ngx_http_clinic_spool_t *sp);
static void ngx_http_clinic_spool_recount(ngx_http_clinic_spool_t *sp);
static ssize_t ngx_http_clinic_spool_pread(ngx_fd_t fd, u_char *buf,
    size_t size, off_t off);
static ngx_int_t ngx_http_clinic_spool_same(ngx_http_clinic_spool_file_t *f);
static void ngx_http_clinic_spool_close(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f);


ngx_http_clinic_stats_hdr_t *
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
 * This worker's file for a lane, created on first use.  A file
 * removed by hand is still readable through its descriptor, so it is
 * replayed from there, but nothing new may go into it.
 */

ngx_http_clinic_spool_file_t *
ngx_http_clinic_spool_own(ngx_http_clinic_spool_t *sp, ngx_uint_t lane,
    ngx_log_t *log)
{
    ngx_file_info_t                fi;
    ngx_http_clinic_spool_file_t  *own;

    own = sp->own[lane];

    if (own
        && ngx_fd_info(own->fd, &fi) != NGX_FILE_ERROR
        && fi.st_nlink == 0)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "clinic: the spool file \"%s\" was removed while in "
                      "use; its records are replayed from the open file, "
                      "new ones go to a new file", own->path);
        own->retired = 1;
        sp->own[lane] = NULL;
        own = NULL;
    }

    if (own == NULL) {
        if (ngx_http_clinic_spool_open_own(sp, lane) != NGX_OK) {
            return NULL;
        }

        own = sp->own[lane];
    }

    return own;
}


/*
 * Creates this worker's file locked, under a name the scan ignores, and
 * only then gives it its ".spool" name; link() rather than rename() so an
 * existing file is never replaced.
 */

static ngx_int_t
ngx_http_clinic_spool_open_own(ngx_http_clinic_spool_t *sp, ngx_uint_t lane)
{
    u_char                        *p, *last;
    size_t                         len;
    ngx_fd_t                       fd;
    ngx_err_t                      err;
    ngx_uint_t                     n;
    u_char                         tmp[NGX_MAX_PATH + 1];
    ngx_http_clinic_spool_file_t  *f;

    /* a cluster's lanes may each open a file within the same second */

    for (n = 0; n < 8 + sp->nown; n++) {
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
        f->lane = lane;
        sp->own[lane] = f;

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

ngx_int_t
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

    if (f->retired && f->own && sp->own[f->lane] == f) {
        ngx_log_error(NGX_LOG_CRIT, sp->log, 0,
                      "clinic: the spool file \"%s\" takes no more "
                      "submissions; it is replayed, then removed", f->path);
        sp->own[f->lane] = NULL;
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


/*
 * Publishes when this worker's oldest record still to replay was queued,
 * for clinic_spool_oldest_seconds: an operator sees a spool that does not
 * drain, whichever worker holds it.
 */

void
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


/*
 * Looks for orphans to adopt and stale temporary files; worker 0 also
 * recounts the records of the whole folder for clinic_spool_depth.
 */

void
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

    if (ngx_http_clinic_spool_buffer(sp) != NGX_OK) {
        return;
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


/* the read buffer, allocated once: a chunk, grown for a long record */

ngx_int_t
ngx_http_clinic_spool_buffer(ngx_http_clinic_spool_t *sp)
{
    if (sp->buf) {
        return NGX_OK;
    }

    sp->buf = ngx_alloc(NGX_HTTP_CLINIC_SPOOL_CHUNK, sp->log);
    if (sp->buf == NULL) {
        return NGX_ERROR;
    }

    sp->buf_size = NGX_HTTP_CLINIC_SPOOL_CHUNK;

    return NGX_OK;
}


/*
 * The line of f that starts at off, read through one buffer that grows up
 * to the record limit.  *next is where the following line starts (LINE,
 * LONG) or the end of the data (TORN).
 */

ngx_int_t
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
 * A file whose every record is in Redis: the worker's current file is
 * emptied (nothing is appended between the check and the ftruncate: this
 * runs in one event handler), any other is removed; a file with rejected
 * lines is kept as "*.spool.bad" for a human to look at.
 */

void
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

    if (f->own && sp->own[f->lane] == f && !f->bad) {
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

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, sp->log, 0,
                       "clinic spool: \"%s\" replayed, emptied", f->path);

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

    if (f->own && sp->own[f->lane] == f) {
        sp->own[f->lane] = NULL;
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


/*
 * Closing a file drops its lock: whatever is left in it is picked up by a
 * sibling worker or by the next nginx as an orphan.
 */

void
ngx_http_clinic_spool_close_all(ngx_http_clinic_spool_t *sp)
{
    ngx_queue_t                   *q;
    ngx_http_clinic_spool_file_t  *f;

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

    if (sp->buf) {
        ngx_free(sp->buf);
        sp->buf = NULL;
    }
}
