
/*
 * A tenant's content folder and page template, as each worker sees them:
 * an index of the articles (slugs, titles, aliases, summaries, times) kept
 * in memory and looked at again when the kernel says the folder changed
 * (inotify), or, where it cannot, at most once per interval, so that
 * requests never scan the folder.
 */


#ifndef _NGX_HTTP_CLINIC_CONTENT_H_INCLUDED_
#define _NGX_HTTP_CLINIC_CONTENT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_article.h"
#include "ngx_http_clinic_render.h"
#include "ngx_http_clinic_watch.h"


typedef struct {
    ngx_str_t                        slug;
    ngx_str_t                        title;
    ngx_str_t                        summary;
    ngx_http_clinic_article_str_t   *aliases;
    size_t                           naliases;
    ngx_http_clinic_article_str_t   *redirect_from;
    size_t                           nredirect_from;
    ngx_http_clinic_article_str_t   *warnings;
    size_t                           nwarnings;
    ngx_str_t                        file;       /* name in the folder */
    ngx_uint_t                       format;
    time_t                           mtime;

    /* what revalidation compares; ctime catches size- and mtime-keeping
     * rewrites (cp -p, rsync --inplace, tar) */
    time_t                           mtim_sec;
    long                             mtim_nsec;
    time_t                           ctim_sec;
    long                             ctim_nsec;
    off_t                            size;
    ngx_file_uniq_t                  uniq;
} ngx_http_clinic_article_info_t;


/*
 * a file of the folder that is not served, or a redirect_from of it that
 * does not work, and why (for lint)
 */
typedef struct {
    ngx_str_t                        file;
    ngx_str_t                        reason;
} ngx_http_clinic_problem_t;


/* an old slug of an article (redirect_from) */
typedef struct {
    ngx_str_t                        from;
    ngx_http_clinic_article_info_t  *to;
} ngx_http_clinic_redirect_t;


typedef struct {
    ngx_pool_t                      *pool;       /* a private index's */
    ngx_http_clinic_article_info_t  *articles;   /* sorted by slug */
    ngx_uint_t                       narticles;
    ngx_http_clinic_article_info_t **by_title;   /* sorted by title */
    ngx_http_clinic_problem_t       *problems;
    ngx_uint_t                       nproblems;
    ngx_http_clinic_redirect_t      *redirects;  /* sorted by from */
    ngx_uint_t                       nredirects;
    ngx_http_clinic_article_info_t  *gone;       /* "removed: yes", by slug */
    ngx_uint_t                       ngone;
    uint64_t                         version;
    time_t                           last_modified;
} ngx_http_clinic_index_t;


/* one per clinic_content directive; the state below it is per worker */
typedef struct {
    ngx_str_t                        path;
    ngx_http_clinic_index_t         *index;      /* in image, or private */
    void                            *image;      /* the node's, or NULL */
    void                            *own;        /* the worker's, or NULL */
    uint64_t                         serial;     /* image's, when taken */
    ngx_msec_t                       checked;
    ngx_http_clinic_watch_t          watch;      /* of the folder */
    time_t                           dir_sec;
    long                             dir_nsec;
    unsigned                         loaded:1;
} ngx_http_clinic_content_t;


/* one per clinic_template directive; the state below it is per worker */
typedef struct {
    ngx_str_t                        path;
    ngx_str_t                        dir;        /* its folder, watched */
    ngx_pool_t                      *pool;
    ngx_http_clinic_template_t      *tpl;
    ngx_msec_t                       checked;
    ngx_http_clinic_watch_t          watch;
    time_t                           mtim_sec;
    long                             mtim_nsec;
    time_t                           ctim_sec;
    long                             ctim_nsec;
    off_t                            size;
    uint64_t                         version;
    unsigned                         logged:1;
} ngx_http_clinic_tpl_t;


ngx_http_clinic_content_t *ngx_http_clinic_content_create(ngx_conf_t *cf,
    ngx_str_t *path);
ngx_http_clinic_index_t *ngx_http_clinic_content_index(
    ngx_http_clinic_content_t *content, ngx_msec_t interval, ngx_log_t *log);
ngx_http_clinic_article_links_t *ngx_http_clinic_index_links(
    ngx_http_clinic_index_t *index, ngx_pool_t *pool);
ngx_http_clinic_article_info_t *ngx_http_clinic_index_find(
    ngx_http_clinic_index_t *index, ngx_str_t *slug);

/*
 * What a slug that is not an article's names: the article it was renamed
 * to (redirect_from), else NULL with *gone set when a file says
 * "removed: yes", else NULL with *gone 0 (unknown).
 */
ngx_http_clinic_article_info_t *ngx_http_clinic_index_moved(
    ngx_http_clinic_index_t *index, ngx_str_t *slug, ngx_uint_t *gone);
ngx_int_t ngx_http_clinic_content_read(ngx_http_clinic_content_t *content,
    ngx_http_clinic_article_info_t *info, ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *src);

ngx_http_clinic_tpl_t *ngx_http_clinic_tpl_create(ngx_conf_t *cf,
    ngx_str_t *path);
ngx_http_clinic_template_t *ngx_http_clinic_tpl_get(ngx_http_clinic_tpl_t *t,
    ngx_msec_t interval, ngx_log_t *log, uint64_t *version);

uint64_t ngx_http_clinic_hash(uint64_t h, const void *data, size_t len);

/* adapts a pool to the pure parsers' allocator */
void ngx_http_clinic_pool_alloc(ngx_pool_t *pool,
    ngx_http_clinic_alloc_t *a);


#endif /* _NGX_HTTP_CLINIC_CONTENT_H_INCLUDED_ */
