
/*
 * Folders watched by the kernel (inotify), on the worker's event loop: a
 * change in a watched folder sets the watch's dirty flag within
 * milliseconds, so that its owner looks at the disk then and only then.
 * Where the kernel cannot watch (no inotify, its limits reached, a
 * network file system, clinic_watch off) the owner revalidates on a timer
 * as before.  Ground layer: it knows nothing of articles or templates.
 */


#ifndef _NGX_HTTP_CLINIC_WATCH_H_INCLUDED_
#define _NGX_HTTP_CLINIC_WATCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_http_clinic_watch_s  ngx_http_clinic_watch_t;

struct ngx_http_clinic_watch_s {
    ngx_http_clinic_watch_t         *next;       /* on the same folder */
    ngx_int_t                        wd;         /* -1: not watched */
    unsigned                         dirty:1;    /* changed since cleared */
    unsigned                         active:1;   /* the kernel watches */
};


/*
 * Watches the folder dir (a NUL-terminated path) for w, in this worker:
 * NGX_OK and w->active set, or NGX_DECLINED when the kernel cannot watch
 * it (the caller polls).  w must live as long as the worker.
 */
ngx_int_t ngx_http_clinic_watch_add(ngx_http_clinic_watch_t *w,
    u_char *dir, ngx_log_t *log);

/* stops the worker's watches; from exit_process */
void ngx_http_clinic_watch_exit(void);


#endif /* _NGX_HTTP_CLINIC_WATCH_H_INCLUDED_ */
