
/*
 * The spool's parts share these types; nothing outside the spool includes
 * this header.  The parts depend on each other one way only:
 *
 *   ngx_http_clinic_spool.c         the API: the worker's spool, appends
 *     -> ngx_http_clinic_spool_replay.c   ticks, batches, the store calls
 *       -> ngx_http_clinic_spool_file.c   ownership, writes, the folder
 *         -> ngx_http_clinic_spool_record.c   the record format
 *
 * (each may also call those further down, and the replay calls the
 * submission store).
 */


#ifndef _NGX_HTTP_CLINIC_SPOOL_INT_H_INCLUDED_
#define _NGX_HTTP_CLINIC_SPOOL_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_store.h"


#define NGX_HTTP_CLINIC_SPOOL_RECORD_MAX   (1024 * 1024)   /* with "\n" */
#define NGX_HTTP_CLINIC_SPOOL_BAD          ".bad"


/* what the line reader found at an offset */
typedef enum {
    NGX_HTTP_CLINIC_SPOOL_LINE = 0,      /* a whole line */
    NGX_HTTP_CLINIC_SPOOL_END,           /* nothing more */
    NGX_HTTP_CLINIC_SPOOL_TORN,          /* bytes without a final "\n" */
    NGX_HTTP_CLINIC_SPOOL_LONG,          /* a line over the record limit */
    NGX_HTTP_CLINIC_SPOOL_EIO            /* the read failed */
} ngx_http_clinic_spool_read_e;


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
    ngx_uint_t                       lane;       /* own: its spool lane */
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
    unsigned                         unsent:1;   /* a record not sent */
    unsigned                         dir_synced:1;
    unsigned                         logged_bad:1;
    unsigned                         logged_torn:1;
    unsigned                         logged_read:1;
} ngx_http_clinic_spool_file_t;


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

    /* the replay's */
    ngx_event_t                      timer;
    ngx_event_t                      done;       /* posted: batch complete */
    ngx_http_clinic_spool_batch_t   *batch;
    ngx_http_clinic_srv_conf_t     **tenants;    /* sorted by name */
    ngx_uint_t                       ntenants;

    /* one read buffer, for the replay and the recount */
    u_char                          *buf;
    size_t                           buf_size;
    size_t                           buf_len;
    off_t                            buf_off;
    ngx_http_clinic_spool_file_t    *buf_file;

    /* the scan of the folder */
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


/* ngx_http_clinic_spool_replay.c */

void ngx_http_clinic_spool_replay_init(ngx_http_clinic_spool_t *sp,
    ngx_log_t *log);
void ngx_http_clinic_spool_replay_kick(ngx_http_clinic_spool_t *sp);
void ngx_http_clinic_spool_replay_stop(ngx_http_clinic_spool_t *sp);


/* ngx_http_clinic_spool_file.c */

ngx_http_clinic_stats_hdr_t *ngx_http_clinic_spool_stats(
    ngx_http_clinic_main_conf_t *cmcf);
ngx_http_clinic_spool_file_t *ngx_http_clinic_spool_own(
    ngx_http_clinic_spool_t *sp, ngx_uint_t lane, ngx_log_t *log);
ngx_int_t ngx_http_clinic_spool_write(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f, u_char *data, size_t len);
void ngx_http_clinic_spool_oldest(ngx_http_clinic_spool_t *sp);
void ngx_http_clinic_spool_scan(ngx_http_clinic_spool_t *sp);
ngx_int_t ngx_http_clinic_spool_buffer(ngx_http_clinic_spool_t *sp);
ngx_int_t ngx_http_clinic_spool_read(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f, off_t off, u_char **line, size_t *len,
    off_t *next);
void ngx_http_clinic_spool_finish(ngx_http_clinic_spool_t *sp,
    ngx_http_clinic_spool_file_t *f);
void ngx_http_clinic_spool_close_all(ngx_http_clinic_spool_t *sp);


/* ngx_http_clinic_spool_record.c */

ngx_int_t ngx_http_clinic_spool_record_encode(ngx_pool_t *pool,
    ngx_str_t *id, ngx_str_t *tenant, ngx_http_clinic_submission_t *sub,
    ngx_str_t *line);
ngx_int_t ngx_http_clinic_spool_record_parse(ngx_pool_t *pool, u_char *line,
    size_t len, ngx_str_t *tenant, ngx_http_clinic_submission_t *sub,
    time_t *queued, const char **why);
time_t ngx_http_clinic_spool_name_time(u_char *name, size_t len);


#endif /* _NGX_HTTP_CLINIC_SPOOL_INT_H_INCLUDED_ */
