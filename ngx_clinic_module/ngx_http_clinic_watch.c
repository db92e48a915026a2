
/*
 * The worker's inotify instance: one descriptor on the event loop, one
 * kernel watch per folder (the kernel gives a folder watched twice the same
 * watch descriptor: its watches are chained), a table from watch
 * descriptor to watches.  See the header.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <sys/inotify.h>
#include <sys/vfs.h>

#include "ngx_http_clinic_watch.h"


/* what makes a folder's listing or a file in it change */
#define NGX_HTTP_CLINIC_WATCH_EVENTS                                          \
    (IN_CREATE|IN_DELETE|IN_MODIFY|IN_CLOSE_WRITE|IN_MOVED_FROM|IN_MOVED_TO  \
     |IN_ATTRIB|IN_DELETE_SELF|IN_MOVE_SELF|IN_ONLYDIR)


static ngx_int_t ngx_http_clinic_watch_init(ngx_log_t *log);
static ngx_int_t ngx_http_clinic_watch_local(u_char *dir, ngx_log_t *log);
static void ngx_http_clinic_watch_read(ngx_event_t *rev);
static void ngx_http_clinic_watch_event(struct inotify_event *e);
static void ngx_http_clinic_watch_all(ngx_uint_t off);


static ngx_connection_t  *ngx_http_clinic_watch_conn;
static ngx_array_t       *ngx_http_clinic_watch_wds; /* watch_t * by wd */
static ngx_uint_t         ngx_http_clinic_watch_broken;
static ngx_uint_t         ngx_http_clinic_watch_full_logged;


/*
 * File systems whose changes on another machine the local kernel never
 * sees: there, the folder is polled.
 */
static const unsigned long  ngx_http_clinic_watch_remote[] = {
    0x6969,        /* NFS */
    0x517b,        /* SMB */
    0xfe534d42,    /* SMB2 */
    0xff534d42,    /* CIFS */
    0x65735546,    /* FUSE (sshfs, glusterfs, s3fs...) */
    0x00c36400,    /* Ceph */
    0x01021997,    /* 9P */
    0x5346414f,    /* AFS */
    0x6b414653,    /* kAFS */
    0x47504653,    /* GPFS */
    0x0bd00bd0,    /* Lustre */
    0x013111a8     /* IBRIX */
};


ngx_int_t
ngx_http_clinic_watch_add(ngx_http_clinic_watch_t *w, u_char *dir,
    ngx_log_t *log)
{
    int                        wd;
    ngx_err_t                  err;
    ngx_http_clinic_watch_t  **slot;

    w->active = 0;
    w->wd = -1;
    w->next = NULL;

    if (ngx_http_clinic_watch_broken
        || ngx_http_clinic_watch_local(dir, log) != NGX_OK
        || ngx_http_clinic_watch_init(log) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    wd = inotify_add_watch(ngx_http_clinic_watch_conn->fd, (char *) dir,
                           NGX_HTTP_CLINIC_WATCH_EVENTS);

    if (wd == -1) {
        err = ngx_errno;

        if (err == NGX_ENOSPC) {
            if (!ngx_http_clinic_watch_full_logged) {
                ngx_http_clinic_watch_full_logged = 1;
                ngx_log_error(NGX_LOG_WARN, log, err,
                              "clinic: the kernel watches no more folders "
                              "for this user (sysctl fs.inotify."
                              "max_user_watches): folders from \"%s\" on "
                              "are checked every clinic_revalidate interval",
                              dir);
            }

        } else {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, err,
                           "clinic watch: \"%s\" not watched, wd %d",
                           dir, wd);
        }

        return NGX_DECLINED;
    }

    while (ngx_http_clinic_watch_wds->nelts <= (ngx_uint_t) wd) {
        slot = ngx_array_push(ngx_http_clinic_watch_wds);
        if (slot == NULL) {
            return NGX_DECLINED;
        }

        *slot = NULL;
    }

    slot = ngx_http_clinic_watch_wds->elts;

    w->next = slot[wd];
    slot[wd] = w;
    w->wd = wd;
    w->dirty = 0;
    w->active = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "clinic watch: \"%s\" watched, wd %d", dir, wd);

    return NGX_OK;
}


void
ngx_http_clinic_watch_exit(void)
{
    if (ngx_http_clinic_watch_conn) {
        ngx_close_connection(ngx_http_clinic_watch_conn);
        ngx_http_clinic_watch_conn = NULL;
    }
}


/* the worker's inotify descriptor on its event loop, made once */

static ngx_int_t
ngx_http_clinic_watch_init(ngx_log_t *log)
{
    int                fd;
    ngx_connection_t  *c;

    if (ngx_http_clinic_watch_conn) {
        return NGX_OK;
    }

    fd = inotify_init1(IN_NONBLOCK|IN_CLOEXEC);

    if (fd == -1) {
        ngx_http_clinic_watch_broken = 1;
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "clinic: inotify_init1() failed: folders are checked "
                      "every clinic_revalidate interval");
        return NGX_DECLINED;
    }

    ngx_http_clinic_watch_wds = ngx_array_create(ngx_cycle->pool, 64,
                                        sizeof(ngx_http_clinic_watch_t *));
    if (ngx_http_clinic_watch_wds == NULL) {
        (void) close(fd);
        ngx_http_clinic_watch_broken = 1;
        return NGX_DECLINED;
    }

    c = ngx_get_connection(fd, ngx_cycle->log);
    if (c == NULL) {
        (void) close(fd);
        ngx_http_clinic_watch_broken = 1;
        return NGX_DECLINED;
    }

    c->read->handler = ngx_http_clinic_watch_read;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_close_connection(c);
        ngx_http_clinic_watch_broken = 1;
        return NGX_DECLINED;
    }

    ngx_http_clinic_watch_conn = c;

    return NGX_OK;
}


/* NGX_DECLINED for a folder on a file system shared over the network */

static ngx_int_t
ngx_http_clinic_watch_local(u_char *dir, ngx_log_t *log)
{
    ngx_uint_t     i;
    struct statfs  fs;

    if (statfs((char *) dir, &fs) == -1) {
        return NGX_DECLINED;
    }

    for (i = 0; i < sizeof(ngx_http_clinic_watch_remote)
                    / sizeof(ngx_http_clinic_watch_remote[0]); i++)
    {
        if ((unsigned long) fs.f_type == ngx_http_clinic_watch_remote[i]) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                           "clinic watch: \"%s\" is on a network file "
                           "system (%xl): polled", dir,
                           (unsigned long) fs.f_type);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static void
ngx_http_clinic_watch_read(ngx_event_t *rev)
{
    u_char                 *p;
    ssize_t                 n;
    ngx_err_t               err;
    struct inotify_event   *e;

    /* as inotify(7) has it: aligned for the events read into it */
    u_char                  buf[4096]
        __attribute__ ((aligned(__alignof__(struct inotify_event))));

    for ( ;; ) {
        n = read(ngx_http_clinic_watch_conn->fd, buf, sizeof(buf));

        if (n == -1) {
            err = ngx_errno;

            if (err != NGX_EAGAIN && err != NGX_EINTR) {
                ngx_log_error(NGX_LOG_ALERT, rev->log, err,
                              "clinic: read() of inotify failed: folders "
                              "are checked every clinic_revalidate "
                              "interval");
                ngx_http_clinic_watch_all(1);
                ngx_http_clinic_watch_broken = 1;
                return;
            }

            if (err == NGX_EINTR) {
                continue;
            }

            break;
        }

        if (n == 0) {
            break;
        }

        for (p = buf; p < buf + n; p += sizeof(struct inotify_event) + e->len) {
            e = (struct inotify_event *) p;
            ngx_http_clinic_watch_event(e);
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, rev->log, 0,
                      "clinic: inotify is off the event loop: folders are "
                      "checked every clinic_revalidate interval");
        ngx_http_clinic_watch_all(1);
        ngx_http_clinic_watch_broken = 1;
    }
}


static void
ngx_http_clinic_watch_event(struct inotify_event *e)
{
    ngx_http_clinic_watch_t  *w, **slot;

    if (e->mask & IN_Q_OVERFLOW) {
        /* events were lost: every folder may have changed */
        ngx_http_clinic_watch_all(0);
        return;
    }

    if (e->wd < 0 || (ngx_uint_t) e->wd >= ngx_http_clinic_watch_wds->nelts) {
        return;
    }

    slot = ngx_http_clinic_watch_wds->elts;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "clinic watch: wd %d, mask %xD, \"%s\"", e->wd, e->mask,
                   e->len ? e->name : "");

    for (w = slot[e->wd]; w; w = w->next) {
        w->dirty = 1;
    }

    if (e->mask & IN_MOVE_SELF) {
        /* the folder was renamed: its path names something else now */
        (void) inotify_rm_watch(ngx_http_clinic_watch_conn->fd, e->wd);
    }

    if (e->mask & IN_IGNORED) {
        /* the watch is gone (folder removed, renamed, unmounted) */

        for (w = slot[e->wd]; w; w = w->next) {
            w->active = 0;
            w->wd = -1;
        }

        slot[e->wd] = NULL;
    }
}


/* every watch dirty; off: and no longer active (their owners poll) */

static void
ngx_http_clinic_watch_all(ngx_uint_t off)
{
    ngx_uint_t                 i;
    ngx_http_clinic_watch_t   *w, **slot;

    slot = ngx_http_clinic_watch_wds->elts;

    for (i = 0; i < ngx_http_clinic_watch_wds->nelts; i++) {
        for (w = slot[i]; w; w = w->next) {
            w->dirty = 1;

            if (off) {
                w->active = 0;
                w->wd = -1;
            }
        }

        if (off) {
            slot[i] = NULL;
        }
    }
}
