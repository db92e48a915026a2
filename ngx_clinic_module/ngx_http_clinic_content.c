
/*
 * Content folders and templates, per worker.
 *
 * Revalidation (at most once per clinic_revalidate interval, on a request)
 * stats the folder and every indexed file; any difference in the folder's
 * mtime (an article added, removed or renamed) or in a file's mtime, size
 * or inode (an article edited or replaced) rebuilds the whole index.  The
 * index's version hashes exactly those facts, so it changes whenever a page
 * could render differently: cached pages carry the version they were
 * rendered from and are not served across a change.
 *
 * A file that says "removed: yes" is not an article: it is indexed apart
 * (gone), stat'ed by revalidation like one, and only answers 410.  The
 * old slugs of redirect_from are indexed after the articles, because an
 * article's own slug always beats another's old slug.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_cache.h"
#include "ngx_http_clinic_content.h"


#define NGX_HTTP_CLINIC_FNV_OFFSET  0xcbf29ce484222325ULL
#define NGX_HTTP_CLINIC_FNV_PRIME   0x100000001b3ULL


static ngx_int_t ngx_http_clinic_content_fresh(
    ngx_http_clinic_watch_t *watch, u_char *dir, ngx_uint_t loaded,
    ngx_msec_t *checked, ngx_msec_t interval, ngx_log_t *log);
static void ngx_http_clinic_content_cleanup(void *data);
static void ngx_http_clinic_tpl_cleanup(void *data);
static ngx_int_t ngx_http_clinic_content_changed(
    ngx_http_clinic_content_t *content, ngx_log_t *log);
static ngx_http_clinic_index_t *ngx_http_clinic_content_build(
    ngx_http_clinic_content_t *content, ngx_log_t *log);
static ngx_pool_t *ngx_http_clinic_content_pool(ngx_pool_t **pool);


/* the worker's pool for reading files, reset after each file */
static ngx_pool_t  *ngx_http_clinic_content_tmp;

/*
 * The worker's pool for building an index, reset after each build: the
 * index is copied out (into the zone, or one block of the worker's)
 */
static ngx_pool_t  *ngx_http_clinic_content_scratch;



static ngx_int_t ngx_http_clinic_content_finish(
    ngx_http_clinic_index_t *index, ngx_array_t *articles,
    ngx_array_t *gone, ngx_array_t *problems);
static ngx_int_t ngx_http_clinic_content_key(ngx_pool_t *pool,
    ngx_http_clinic_content_t *content, ngx_str_t *key);
static void ngx_http_clinic_content_current(
    ngx_http_clinic_content_t *content, ngx_log_t *log);
static ngx_int_t ngx_http_clinic_content_adopt(
    ngx_http_clinic_content_t *content, ngx_log_t *log);
static void ngx_http_clinic_content_set(ngx_http_clinic_content_t *content,
    ngx_http_clinic_index_t *index, time_t dir_sec, long dir_nsec,
    ngx_log_t *log);
static void ngx_http_clinic_content_take(ngx_http_clinic_content_t *content,
    void *image);
static size_t ngx_http_clinic_content_image_size(
    ngx_http_clinic_index_t *index);
static void ngx_http_clinic_content_image_copy(
    ngx_http_clinic_index_t *dst, ngx_http_clinic_index_t *src, u_char *p);
static ngx_int_t ngx_http_clinic_content_keep(ngx_pool_t *pool,
    ngx_http_clinic_article_str_t **list, size_t n);
static ngx_int_t ngx_http_clinic_content_add(ngx_pool_t *tmp,
    ngx_http_clinic_content_t *content, ngx_http_clinic_index_t *index,
    ngx_array_t *articles, ngx_array_t *gone, ngx_array_t *problems,
    ngx_str_t *name, ngx_log_t *log);
static ngx_int_t ngx_http_clinic_content_stale(
    ngx_http_clinic_content_t *content, ngx_http_clinic_article_info_t *a,
    ngx_uint_t n);
static ngx_int_t ngx_http_clinic_content_redirects(
    ngx_http_clinic_index_t *index, ngx_array_t *problems);
static ngx_http_clinic_article_info_t *ngx_http_clinic_content_search(
    ngx_http_clinic_article_info_t *a, ngx_uint_t n, ngx_str_t *slug);
static ngx_int_t ngx_http_clinic_content_problem(ngx_pool_t *pool,
    ngx_array_t *problems, ngx_str_t *name, const char *reason, size_t len);
static ngx_int_t ngx_http_clinic_content_open(ngx_pool_t *pool,
    ngx_str_t *dir, ngx_str_t *name, ngx_fd_t *fd, ngx_file_info_t *fi);
static ngx_int_t ngx_http_clinic_content_slurp(ngx_pool_t *pool,
    ngx_fd_t fd, ngx_file_info_t *fi, ngx_str_t *out);
static int ngx_libc_cdecl ngx_http_clinic_slug_cmp(const void *a,
    const void *b);
static int ngx_libc_cdecl ngx_http_clinic_title_cmp(const void *a,
    const void *b);
static int ngx_libc_cdecl ngx_http_clinic_redirect_cmp(const void *a,
    const void *b);


/* FNV-1a: a dozen lines, stable across nodes and restarts */

uint64_t
ngx_http_clinic_hash(uint64_t h, const void *data, size_t len)
{
    size_t         i;
    const u_char  *p = data;

    if (h == 0) {
        h = NGX_HTTP_CLINIC_FNV_OFFSET;
    }

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= NGX_HTTP_CLINIC_FNV_PRIME;
    }

    return h;
}


ngx_http_clinic_content_t *
ngx_http_clinic_content_create(ngx_conf_t *cf, ngx_str_t *path)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_clinic_content_t    *content;
    ngx_http_clinic_main_conf_t  *cmcf;

    /* written by the worker: with the other tenants', off the conf pages */

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_clinic_module);

    content = ngx_pcalloc(cmcf->state, sizeof(ngx_http_clinic_content_t));
    if (content == NULL) {
        return NULL;
    }

    content->path = *path;

    /* a worker's index lives as long as the cycle: it goes with it */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_clinic_content_cleanup;
    cln->data = content;

    return content;
}


static void
ngx_http_clinic_content_cleanup(void *data)
{
    ngx_http_clinic_content_t  *content = data;

    /* an image is the node's, in the zone: only a private index is freed */

    if (content->own) {
        ngx_free(content->own);
        content->own = NULL;
    }

    content->index = NULL;
    content->image = NULL;
    content->loaded = 0;
}


/*
 * The current index of the folder, revalidated when interval has passed
 * since the last check.  Never NULL after the first successful build: a
 * failed rebuild keeps serving the previous index.
 */

ngx_http_clinic_index_t *
ngx_http_clinic_content_index(ngx_http_clinic_content_t *content,
    ngx_msec_t interval, ngx_log_t *log)
{
    time_t                    dir_sec;
    long                      dir_nsec;
    ngx_int_t                 rc;
    ngx_http_clinic_index_t  *index;

    rc = ngx_http_clinic_content_fresh(&content->watch, content->path.data,
                                       content->loaded, &content->checked,
                                       interval, log);

    if (rc == NGX_OK) {
        /* another worker may have read a change into a newer image */
        ngx_http_clinic_content_current(content, log);

        if (content->loaded) {
            return content->index;
        }
    }

    /*
     * Told by the kernel, the folder is read again: even a change the
     * index cannot see (a file that was not served, fixed in place)
     */

    if (rc == NGX_DECLINED && content->loaded) {
        ngx_http_clinic_content_current(content, log);

        if (content->loaded
            && ngx_http_clinic_content_changed(content, log) != NGX_OK)
        {
            return content->index;
        }
    }

    /*
     * First use, or a change: the node's image, if another worker (or
     * the workers before a reload) read the folder as the disk still has
     * it (stat, no reads)
     */

    if (ngx_http_clinic_content_adopt(content, log) == NGX_OK) {
        return content->index;
    }

    index = ngx_http_clinic_content_build(content, log);

    if (index == NULL) {
        return content->index;
    }

    dir_sec = content->dir_sec;
    dir_nsec = content->dir_nsec;

    ngx_http_clinic_content_set(content, index, dir_sec, dir_nsec, log);

    return content->index;
}


/*
 * Whether what was read from the disk may be served as it is (NGX_OK):
 * nothing changed in the watched folder, or, unwatched, the interval has
 * not passed.  Otherwise the caller looks at the disk: NGX_AGAIN when the
 * kernel said the folder changed, NGX_DECLINED when it may have.  The
 * folder is watched from then on if the kernel can (clinic_watch), before
 * the caller looks, so that no change falls between the two.
 */

static ngx_int_t
ngx_http_clinic_content_fresh(ngx_http_clinic_watch_t *watch, u_char *dir,
    ngx_uint_t loaded, ngx_msec_t *checked, ngx_msec_t interval,
    ngx_log_t *log)
{
    ngx_int_t                     rc;
    ngx_http_clinic_main_conf_t  *cmcf;

    /* dirty: a change, or the watch lost (the folder removed, renamed) */

    if (loaded && !watch->dirty
        && (watch->active || ngx_current_msec - *checked < interval))
    {
        return NGX_OK;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "clinic: \"%s\" is looked at on disk (%s)", dir,
                   !loaded ? "first use" : watch->dirty ? "changed"
                                                        : "interval");

    rc = watch->dirty ? NGX_AGAIN : NGX_DECLINED;

    *checked = ngx_current_msec;
    watch->dirty = 0;

    if (!watch->active) {
        cmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                   ngx_http_clinic_module);

        if (cmcf && cmcf->watch) {
            (void) ngx_http_clinic_watch_add(watch, dir, log);
        }
    }

    return rc;
}


/* NGX_OK when something changed on disk since the index was built */

static ngx_int_t
ngx_http_clinic_content_changed(ngx_http_clinic_content_t *content,
    ngx_log_t *log)
{
    ngx_file_info_t  fi;

    if (ngx_file_info(content->path.data, &fi) == NGX_FILE_ERROR) {
        return NGX_OK;
    }

    if (fi.st_mtim.tv_sec != content->dir_sec
        || fi.st_mtim.tv_nsec != content->dir_nsec)
    {
        return NGX_OK;
    }

    if (ngx_http_clinic_content_stale(content, content->index->articles,
                                      content->index->narticles)
        == NGX_OK
        || ngx_http_clinic_content_stale(content, content->index->gone,
                                         content->index->ngone)
           == NGX_OK)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* NGX_OK when one of the n files changed on disk since it was indexed */

static ngx_int_t
ngx_http_clinic_content_stale(ngx_http_clinic_content_t *content,
    ngx_http_clinic_article_info_t *a, ngx_uint_t n)
{
    u_char           *p, path[NGX_MAX_PATH];
    ngx_uint_t        i;
    ngx_file_info_t   fi;

    for (i = 0; i < n; i++) {
        if (content->path.len + a[i].file.len + 2 > NGX_MAX_PATH) {
            return NGX_OK;
        }

        p = ngx_cpymem(path, content->path.data, content->path.len);
        *p++ = '/';
        p = ngx_cpymem(p, a[i].file.data, a[i].file.len);
        *p = '\0';

        if (ngx_link_info(path, &fi) == NGX_FILE_ERROR
            || fi.st_mtim.tv_sec != a[i].mtim_sec
            || fi.st_mtim.tv_nsec != a[i].mtim_nsec
            || fi.st_ctim.tv_sec != a[i].ctim_sec
            || fi.st_ctim.tv_nsec != a[i].ctim_nsec
            || ngx_file_size(&fi) != a[i].size
            || ngx_file_uniq(&fi) != a[i].uniq)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static ngx_http_clinic_index_t *
ngx_http_clinic_content_build(ngx_http_clinic_content_t *content,
    ngx_log_t *log)
{
    ngx_dir_t                        dir;
    ngx_str_t                        name;
    ngx_pool_t                      *pool, *tmp;
    ngx_array_t                      articles, gone, problems;
    ngx_file_info_t                  fi;
    ngx_http_clinic_index_t         *index;

    if (ngx_file_info(content->path.data, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "clinic: content folder \"%V\" cannot be read",
                      &content->path);
        ngx_memzero(&fi, sizeof(ngx_file_info_t));
    }

    /*
     * The index keeps what pages and links need, not the articles' text;
     * it is built in the worker's scratch pool and copied out (set())
     */

    pool = ngx_http_clinic_content_pool(&ngx_http_clinic_content_scratch);
    if (pool == NULL) {
        return NULL;
    }

    index = ngx_pcalloc(pool, sizeof(ngx_http_clinic_index_t));
    if (index == NULL
        || ngx_array_init(&articles, pool, 8,
                          sizeof(ngx_http_clinic_article_info_t)) != NGX_OK
        || ngx_array_init(&gone, pool, 2,
                          sizeof(ngx_http_clinic_article_info_t)) != NGX_OK
        || ngx_array_init(&problems, pool, 4,
                          sizeof(ngx_http_clinic_problem_t)) != NGX_OK)
    {
        ngx_reset_pool(pool);
        return NULL;
    }

    index->pool = pool;
    content->dir_sec = fi.st_mtim.tv_sec;
    content->dir_nsec = fi.st_mtim.tv_nsec;

    /* the files are read into the worker's pool for files, reset after each */

    tmp = ngx_http_clinic_content_pool(&ngx_http_clinic_content_tmp);
    if (tmp == NULL) {
        ngx_reset_pool(pool);
        return NULL;
    }

    if (ngx_open_dir(&content->path, &dir) == NGX_OK) {

        for ( ;; ) {
            ngx_set_errno(0);

            if (ngx_read_dir(&dir) == NGX_ERROR) {
                break;
            }

            name.data = ngx_de_name(&dir);
            name.len = ngx_de_namelen(&dir);

            if (ngx_http_clinic_content_add(tmp, content, index, &articles,
                                            &gone, &problems, &name, log)
                != NGX_OK)
            {
                (void) ngx_close_dir(&dir);
                ngx_reset_pool(tmp);
                ngx_reset_pool(pool);
                return NULL;
            }

            ngx_reset_pool(tmp);
        }

        (void) ngx_close_dir(&dir);
    }

    ngx_reset_pool(tmp);

    if (ngx_http_clinic_content_finish(index, &articles, &gone, &problems)
        != NGX_OK)
    {
        ngx_reset_pool(pool);
        return NULL;
    }

#if (NGX_DEBUG)
    {
    size_t             used, blocks;
    ngx_pool_t        *p;
    ngx_pool_large_t  *l;

    used = 0;
    blocks = 0;

    for (p = pool; p; p = p->d.next) {
        used += p->d.last - (u_char *) p;
        blocks += p->d.end - (u_char *) p;
    }

    for (l = pool->large; l; l = l->next) {
        blocks++;
    }

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, log, 0,
                   "clinic: indexed \"%V\": %ui articles, version %uL, "
                   "%uz bytes used of %uz", &content->path,
                   index->narticles, index->version, used, blocks);
    }
#endif

    return index;
}


/*
 * The index from the files' entries, as read from the folder or from a
 * snapshot: the articles by slug (one of "a.md" and "a.txt"), the old
 * slugs, by title, the link index's entries, the version.
 */

static ngx_int_t
ngx_http_clinic_content_finish(ngx_http_clinic_index_t *index,
    ngx_array_t *articles, ngx_array_t *gone, ngx_array_t *problems)
{
    size_t                           j;
    uint64_t                         h;
    ngx_uint_t                       i;
    ngx_pool_t                      *pool;
    ngx_http_clinic_article_info_t  *a;

    pool = index->pool;

    index->articles = articles->elts;
    index->narticles = articles->nelts;
    index->gone = gone->elts;
    index->ngone = gone->nelts;
    index->problems = problems->elts;
    index->nproblems = problems->nelts;

    ngx_qsort(index->articles, index->narticles,
              sizeof(ngx_http_clinic_article_info_t),
              ngx_http_clinic_slug_cmp);
    ngx_qsort(index->gone, index->ngone,
              sizeof(ngx_http_clinic_article_info_t),
              ngx_http_clinic_slug_cmp);

    /* "a.md" and "a.txt": one slug, one article; the .md wins */

    for (i = 1; i < index->narticles; i++) {
        a = index->articles;

        if (a[i].slug.len == a[i - 1].slug.len
            && ngx_strncmp(a[i].slug.data, a[i - 1].slug.data,
                           a[i].slug.len) == 0)
        {
            j = (a[i].format == NGX_HTTP_CLINIC_ARTICLE_MD) ? i - 1 : i;

            if (ngx_http_clinic_content_problem(pool, problems, &a[j].file,
                    "another file has the same slug; the .md one is served",
                    0)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            ngx_memmove(&a[j], &a[j + 1], (index->narticles - j - 1)
                        * sizeof(ngx_http_clinic_article_info_t));
            index->narticles--;
            i--;
        }
    }

    /* the articles stay where they are from here: redirects point in */

    if (ngx_http_clinic_content_redirects(index, problems) != NGX_OK) {
        return NGX_ERROR;
    }

    index->problems = problems->elts;
    index->nproblems = problems->nelts;

    index->by_title = ngx_palloc(pool, (index->narticles + 1)
                                  * sizeof(ngx_http_clinic_article_info_t *));
    if (index->by_title == NULL) {
        return NGX_ERROR;
    }

    h = 0;

    for (i = 0; i < index->narticles; i++) {
        a = &index->articles[i];
        index->by_title[i] = a;

        h = ngx_http_clinic_hash(h, a->file.data, a->file.len + 1);
        h = ngx_http_clinic_hash(h, &a->mtim_sec, sizeof(time_t));
        h = ngx_http_clinic_hash(h, &a->mtim_nsec, sizeof(long));
        h = ngx_http_clinic_hash(h, &a->ctim_sec, sizeof(time_t));
        h = ngx_http_clinic_hash(h, &a->ctim_nsec, sizeof(long));
        h = ngx_http_clinic_hash(h, &a->size, sizeof(off_t));
        h = ngx_http_clinic_hash(h, &a->uniq, sizeof(ngx_file_uniq_t));

        if (a->mtime > index->last_modified) {
            index->last_modified = a->mtime;
        }
    }

    index->version = h ? h : 1;

    ngx_qsort(index->by_title, index->narticles,
              sizeof(ngx_http_clinic_article_info_t *),
              ngx_http_clinic_title_cmp);

    /* the link index is made for each render (index_links) */

    return NGX_OK;
}


/*
 * The node's image of a folder's index: the whole index (articles,
 * titles, summaries, aliases, old slugs, problems) in one block of the page
 * cache's zone, pointers and all (a zone has the same address in every
 * worker), read in place by every worker of the node, and kept through a
 * reload.  A worker keeps only a pointer and the image's serial; a newer
 * image retires the old one, which the workers notice (serial, dead) and
 * leave for the new.  Without a zone, or without room, the index stays
 * the worker's own.
 */

typedef struct {
    ngx_http_clinic_image_t          header;
    time_t                           dir_sec;
    long                             dir_nsec;
    ngx_http_clinic_index_t          index;
} ngx_http_clinic_content_image_t;


/*
 * One of the worker's two reusable pools (files, scratch), made on first
 * use and reset after each use, never destroyed: pools made and destroyed
 * per build would leave holes in the heap between long-lived memory
 */

static ngx_pool_t *
ngx_http_clinic_content_pool(ngx_pool_t **pool)
{
    if (*pool == NULL) {
        *pool = ngx_create_pool(16384, ngx_cycle->log);
    }

    return *pool;
}


static ngx_int_t
ngx_http_clinic_content_key(ngx_pool_t *pool,
    ngx_http_clinic_content_t *content, ngx_str_t *key)
{
    key->len = sizeof("clinic:index:") - 1 + content->path.len;
    key->data = ngx_pnalloc(pool, key->len);

    if (key->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(key->data, "clinic:index:%V", &content->path);

    return NGX_OK;
}


static ngx_shm_zone_t *
ngx_http_clinic_content_zone(void)
{
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_clinic_module);

    return cmcf ? cmcf->cache_zone : NULL;
}


/* the key in the worker's pool for files, which the caller resets */

static ngx_http_clinic_image_t *
ngx_http_clinic_content_lookup(ngx_shm_zone_t *zone,
    ngx_http_clinic_content_t *content)
{
    ngx_str_t                 key;
    ngx_pool_t               *tmp;
    ngx_http_clinic_image_t  *image;

    tmp = ngx_http_clinic_content_pool(&ngx_http_clinic_content_tmp);

    if (tmp == NULL
        || ngx_http_clinic_content_key(tmp, content, &key) != NGX_OK)
    {
        return NULL;
    }

    image = ngx_http_clinic_cache_image_get(zone, &key);

    ngx_reset_pool(ngx_http_clinic_content_tmp);

    return image;
}


/* the worker's image, if it was retired: the key's newer one */

static void
ngx_http_clinic_content_current(ngx_http_clinic_content_t *content,
    ngx_log_t *log)
{
    ngx_shm_zone_t           *zone;
    ngx_http_clinic_image_t  *image, *now;

    image = content->image;

    if (image == NULL
        || (image->serial == content->serial && !image->dead))
    {
        return;
    }

    zone = ngx_http_clinic_content_zone();
    now = zone ? ngx_http_clinic_content_lookup(zone, content) : NULL;

    if (now == NULL) {
        /*
         * not possible while the zone lives; the retired image may be
         * freed: the folder is read again, nothing of it is used
         */
        content->index = NULL;
        content->image = NULL;
        content->loaded = 0;
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "clinic: index of \"%V\" from shared memory, serial %uL "
                   "(newer)", &content->path, now->serial);

    ngx_http_clinic_content_take(content, now);
}


/* NGX_OK: the key's image agrees with the disk, and is the worker's now */

static ngx_int_t
ngx_http_clinic_content_adopt(ngx_http_clinic_content_t *content,
    ngx_log_t *log)
{
    time_t                            dir_sec;
    long                              dir_nsec;
    ngx_shm_zone_t                   *zone;
    ngx_http_clinic_index_t          *index;
    ngx_http_clinic_content_image_t  *image;

    zone = ngx_http_clinic_content_zone();
    if (zone == NULL) {
        return NGX_DECLINED;
    }

    image = (ngx_http_clinic_content_image_t *)
                ngx_http_clinic_content_lookup(zone, content);

    if (image == NULL
        || (content->image == image
            && content->serial == image->header.serial))
    {
        /* none, or the one this worker found changed on disk */
        return NGX_DECLINED;
    }

    /*
     * A folder with a file that is not served is read on a worker's first
     * use: the file may have been fixed in place since, which a stat of
     * the served files would not show
     */

    if (!content->loaded && image->index.nproblems) {
        return NGX_DECLINED;
    }

    index = content->index;
    dir_sec = content->dir_sec;
    dir_nsec = content->dir_nsec;

    content->index = &image->index;
    content->dir_sec = image->dir_sec;
    content->dir_nsec = image->dir_nsec;

    if (image->header.dead
        || ngx_http_clinic_content_changed(content, log) == NGX_OK)
    {
        content->index = index;
        content->dir_sec = dir_sec;
        content->dir_nsec = dir_nsec;
        return NGX_DECLINED;
    }

    content->index = index;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "clinic: index of \"%V\" from shared memory, serial %uL",
                   &content->path, image->header.serial);

    ngx_http_clinic_content_take(content, image);

    return NGX_OK;
}


/* makes image the worker's index, freeing a private one it had */

static void
ngx_http_clinic_content_take(ngx_http_clinic_content_t *content, void *p)
{
    ngx_http_clinic_content_image_t  *image = p;

    if (content->own) {
        ngx_free(content->own);
        content->own = NULL;
    }

    content->image = image;
    content->serial = image->header.serial;
    content->index = &image->index;
    content->dir_sec = image->dir_sec;
    content->dir_nsec = image->dir_nsec;
    content->loaded = 1;
}


/* after a build: the node's new image, else the worker's own index */

static void
ngx_http_clinic_content_set(ngx_http_clinic_content_t *content,
    ngx_http_clinic_index_t *index, time_t dir_sec, long dir_nsec,
    ngx_log_t *log)
{
    size_t                            size;
    ngx_str_t                         key;
    ngx_shm_zone_t                   *zone;
    ngx_http_clinic_index_t          *own;
    ngx_http_clinic_content_image_t  *image;

    zone = ngx_http_clinic_content_zone();
    image = NULL;

    if (zone && ngx_http_clinic_content_tmp) {
        size = sizeof(ngx_http_clinic_content_image_t)
               + ngx_http_clinic_content_image_size(index);

        image = (ngx_http_clinic_content_image_t *)
                    ngx_http_clinic_cache_image_alloc(zone, size);
    }

    if (image) {
        image->dir_sec = dir_sec;
        image->dir_nsec = dir_nsec;

        ngx_http_clinic_content_image_copy(&image->index, index,
                                           (u_char *) (image + 1));

        if (ngx_http_clinic_content_key(ngx_http_clinic_content_tmp,
                                        content, &key)
               != NGX_OK
            || ngx_http_clinic_cache_image_publish(zone, &key,
                                                   &image->header)
               != NGX_OK)
        {
            ngx_http_clinic_cache_image_free(zone, &image->header);
            image = NULL;
        }

        ngx_reset_pool(ngx_http_clinic_content_tmp);
    }

    if (image == NULL) {
        /* the worker's own: the same image, in its memory */

        size = sizeof(ngx_http_clinic_index_t)
               + ngx_http_clinic_content_image_size(index);

        own = ngx_alloc(size, log);
        if (own == NULL) {
            ngx_reset_pool(index->pool);
            return;
        }

        ngx_http_clinic_content_image_copy(own, index, (u_char *) (own + 1));
        ngx_reset_pool(index->pool);

        if (content->own) {
            ngx_free(content->own);
        }

        content->own = own;
        content->image = NULL;
        content->index = own;
        content->dir_sec = dir_sec;
        content->dir_nsec = dir_nsec;
        content->loaded = 1;
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "clinic: index of \"%V\" published, serial %uL, %uz "
                   "bytes", &content->path, image->header.serial,
                   image->header.size);

    ngx_reset_pool(index->pool);
    ngx_http_clinic_content_take(content, image);
}


/* the bytes after the index that its arrays and strings take */

#define ngx_http_clinic_align8(n)  (((n) + 7) & ~((size_t) 7))


static size_t
ngx_http_clinic_content_strs_size(ngx_http_clinic_article_str_t *l, size_t n)
{
    size_t  i, size;

    size = ngx_http_clinic_align8(n * sizeof(ngx_http_clinic_article_str_t));

    for (i = 0; i < n; i++) {
        size += ngx_http_clinic_align8(l[i].len + 1);
    }

    return size;
}


static size_t
ngx_http_clinic_content_infos_size(ngx_http_clinic_article_info_t *a,
    ngx_uint_t n)
{
    size_t      size;
    ngx_uint_t  i;

    size = ngx_http_clinic_align8(n * sizeof(ngx_http_clinic_article_info_t));

    for (i = 0; i < n; i++) {
        size += ngx_http_clinic_align8(a[i].slug.len + 1)
                + ngx_http_clinic_align8(a[i].title.len + 1)
                + ngx_http_clinic_align8(a[i].summary.len + 1)
                + ngx_http_clinic_align8(a[i].file.len + 1)
                + ngx_http_clinic_content_strs_size(a[i].aliases,
                                                    a[i].naliases)
                + ngx_http_clinic_content_strs_size(a[i].redirect_from,
                                                    a[i].nredirect_from)
                + ngx_http_clinic_content_strs_size(a[i].warnings,
                                                    a[i].nwarnings);
    }

    return size;
}


static size_t
ngx_http_clinic_content_image_size(ngx_http_clinic_index_t *index)
{
    size_t      size;
    ngx_uint_t  i;

    size = ngx_http_clinic_content_infos_size(index->articles,
                                              index->narticles)
           + ngx_http_clinic_content_infos_size(index->gone, index->ngone)
           + ngx_http_clinic_align8((index->narticles + 1)
                               * sizeof(ngx_http_clinic_article_info_t *))
           + ngx_http_clinic_align8(index->nproblems
                                    * sizeof(ngx_http_clinic_problem_t))
           + ngx_http_clinic_align8(index->nredirects
                                    * sizeof(ngx_http_clinic_redirect_t));

    for (i = 0; i < index->nproblems; i++) {
        size += ngx_http_clinic_align8(index->problems[i].file.len + 1)
                + ngx_http_clinic_align8(index->problems[i].reason.len + 1);
    }

    for (i = 0; i < index->nredirects; i++) {
        size += ngx_http_clinic_align8(index->redirects[i].from.len + 1);
    }

    return size;
}


/* a string at *p, NUL-terminated; *p moves past it */

static void
ngx_http_clinic_content_copy_str(u_char **p, u_char **data, size_t len)
{
    u_char  *d;

    d = *p;

    if (len) {
        ngx_memcpy(d, *data, len);
    }

    d[len] = '\0';

    *data = d;
    *p += ngx_http_clinic_align8(len + 1);
}


static void
ngx_http_clinic_content_copy_strs(u_char **p,
    ngx_http_clinic_article_str_t **list, size_t n)
{
    size_t                          i;
    ngx_http_clinic_article_str_t  *l;

    if (n == 0) {
        *list = NULL;
        return;
    }

    l = (ngx_http_clinic_article_str_t *) *p;
    *p += ngx_http_clinic_align8(n * sizeof(ngx_http_clinic_article_str_t));

    for (i = 0; i < n; i++) {
        l[i] = (*list)[i];
        ngx_http_clinic_content_copy_str(p, &l[i].data, l[i].len);
    }

    *list = l;
}


static ngx_http_clinic_article_info_t *
ngx_http_clinic_content_copy_infos(u_char **p,
    ngx_http_clinic_article_info_t *src, ngx_uint_t n)
{
    ngx_uint_t                       i;
    ngx_http_clinic_article_info_t  *a;

    a = (ngx_http_clinic_article_info_t *) *p;
    *p += ngx_http_clinic_align8(n * sizeof(ngx_http_clinic_article_info_t));

    for (i = 0; i < n; i++) {
        a[i] = src[i];

        ngx_http_clinic_content_copy_str(p, &a[i].slug.data, a[i].slug.len);
        ngx_http_clinic_content_copy_str(p, &a[i].title.data,
                                         a[i].title.len);
        ngx_http_clinic_content_copy_str(p, &a[i].summary.data,
                                         a[i].summary.len);
        ngx_http_clinic_content_copy_str(p, &a[i].file.data, a[i].file.len);
        ngx_http_clinic_content_copy_strs(p, &a[i].aliases, a[i].naliases);
        ngx_http_clinic_content_copy_strs(p, &a[i].redirect_from,
                                          a[i].nredirect_from);
        ngx_http_clinic_content_copy_strs(p, &a[i].warnings,
                                          a[i].nwarnings);
    }

    return a;
}


/* src into dst and the bytes at p, its pointers moved to the copies */

static void
ngx_http_clinic_content_image_copy(ngx_http_clinic_index_t *dst,
    ngx_http_clinic_index_t *src, u_char *p)
{
    ngx_uint_t  i;

    *dst = *src;
    dst->pool = NULL;

    dst->articles = ngx_http_clinic_content_copy_infos(&p, src->articles,
                                                       src->narticles);
    dst->gone = ngx_http_clinic_content_copy_infos(&p, src->gone,
                                                   src->ngone);

    dst->by_title = (ngx_http_clinic_article_info_t **) p;
    p += ngx_http_clinic_align8((src->narticles + 1)
                                * sizeof(ngx_http_clinic_article_info_t *));

    for (i = 0; i < src->narticles; i++) {
        dst->by_title[i] = dst->articles
                           + (src->by_title[i] - src->articles);
    }

    dst->problems = (ngx_http_clinic_problem_t *) p;
    p += ngx_http_clinic_align8(src->nproblems
                                * sizeof(ngx_http_clinic_problem_t));

    for (i = 0; i < src->nproblems; i++) {
        dst->problems[i] = src->problems[i];
        ngx_http_clinic_content_copy_str(&p, &dst->problems[i].file.data,
                                         dst->problems[i].file.len);
        ngx_http_clinic_content_copy_str(&p, &dst->problems[i].reason.data,
                                         dst->problems[i].reason.len);
    }

    dst->redirects = (ngx_http_clinic_redirect_t *) p;
    p += ngx_http_clinic_align8(src->nredirects
                                * sizeof(ngx_http_clinic_redirect_t));

    for (i = 0; i < src->nredirects; i++) {
        dst->redirects[i] = src->redirects[i];
        dst->redirects[i].to = dst->articles
                               + (src->redirects[i].to - src->articles);
        ngx_http_clinic_content_copy_str(&p, &dst->redirects[i].from.data,
                                         dst->redirects[i].from.len);
    }
}


static ngx_int_t
ngx_http_clinic_content_add(ngx_pool_t *tmp,
    ngx_http_clinic_content_t *content, ngx_http_clinic_index_t *index,
    ngx_array_t *articles, ngx_array_t *gone, ngx_array_t *problems,
    ngx_str_t *name, ngx_log_t *log)
{
    ngx_fd_t                         fd;
    ngx_str_t                        src;
    ngx_uint_t                       format;
    ngx_file_info_t                  fi;
    ngx_http_clinic_alloc_t          alloc;
    ngx_http_clinic_article_t        art;
    ngx_http_clinic_article_str_t    slug, *title, *summary;
    ngx_http_clinic_article_info_t  *a;

    format = ngx_http_clinic_article_name(name->data, name->len, &slug);

    if (format == NGX_HTTP_CLINIC_ARTICLE_UNKNOWN) {
        /* not an article's name: other files are ignored, quietly */
        return NGX_OK;
    }

    switch (ngx_http_clinic_content_open(tmp, &content->path, name,
                                         &fd, &fi))
    {
    case NGX_OK:
        break;

    case NGX_DECLINED:
        return ngx_http_clinic_content_problem(index->pool, problems, name,
                   "not a regular file (symbolic links are not followed)",
                   0);

    default:
        return ngx_http_clinic_content_problem(index->pool, problems, name,
                                               "cannot be read", 0);
    }

    if (ngx_file_size(&fi) > NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE) {
        ngx_close_file(fd);
        return ngx_http_clinic_content_problem(index->pool, problems, name,
                                          "larger than 1 MB", 0);
    }

    if (ngx_http_clinic_content_slurp(tmp, fd, &fi, &src) != NGX_OK)
    {
        ngx_close_file(fd);
        return ngx_http_clinic_content_problem(index->pool, problems, name,
                                               "cannot be read", 0);
    }

    ngx_close_file(fd);

    ngx_http_clinic_pool_alloc(tmp, &alloc);

    switch (ngx_http_clinic_article_meta(src.data, src.len, format, &slug,
                                         &alloc, &art))
    {
    case NGX_HTTP_CLINIC_ARTICLE_OK:
        break;

    case NGX_HTTP_CLINIC_ARTICLE_EINVALID:
        return ngx_http_clinic_content_problem(index->pool, problems, name,
                                               (char *) art.error.data,
                                               art.error.len);

    default:
        return NGX_ERROR;
    }

    a = ngx_array_push(art.removed ? gone : articles);
    if (a == NULL) {
        return NGX_ERROR;
    }

    a->slug.data = ngx_pstrdup(index->pool, (ngx_str_t *) &slug);
    a->slug.len = slug.len;
    a->file.data = ngx_pnalloc(index->pool, name->len + 1);

    if (a->slug.data == NULL || a->file.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(a->file.data, name->data, name->len);
    a->file.data[name->len] = '\0';
    a->file.len = name->len;

    /* out of tmp, which the next file reuses */

    title = &art.title;
    summary = &art.summary;

    if (ngx_http_clinic_content_keep(index->pool, &title, 1) != NGX_OK
        || ngx_http_clinic_content_keep(index->pool, &summary, 1) != NGX_OK
        || ngx_http_clinic_content_keep(index->pool, &art.aliases,
                                        art.naliases) != NGX_OK
        || ngx_http_clinic_content_keep(index->pool, &art.redirect_from,
                                        art.nredirect_from) != NGX_OK
        || ngx_http_clinic_content_keep(index->pool, &art.warnings,
                                        art.nwarnings) != NGX_OK)
    {
        return NGX_ERROR;
    }

    a->title.data = title->data;
    a->title.len = title->len;
    a->summary.data = summary->data;
    a->summary.len = summary->len;
    a->aliases = art.aliases;
    a->naliases = art.naliases;
    a->redirect_from = art.redirect_from;
    a->nredirect_from = art.nredirect_from;
    a->warnings = art.warnings;
    a->nwarnings = art.nwarnings;
    a->format = format;
    a->mtime = ngx_file_mtime(&fi);
    a->mtim_sec = fi.st_mtim.tv_sec;
    a->mtim_nsec = fi.st_mtim.tv_nsec;
    a->ctim_sec = fi.st_ctim.tv_sec;
    a->ctim_nsec = fi.st_ctim.tv_nsec;
    a->size = ngx_file_size(&fi);
    a->uniq = ngx_file_uniq(&fi);

    return NGX_OK;
}


/*
 * Copies n strings at *list (a list, or one string when n is 1 and the
 * caller passes its address) into pool, and points *list at the copy.
 */

static ngx_int_t
ngx_http_clinic_content_keep(ngx_pool_t *pool,
    ngx_http_clinic_article_str_t **list, size_t n)
{
    size_t                          i;
    ngx_http_clinic_article_str_t  *copy;

    if (n == 0) {
        return NGX_OK;
    }

    copy = ngx_palloc(pool, n * sizeof(ngx_http_clinic_article_str_t));
    if (copy == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        copy[i].len = (*list)[i].len;
        copy[i].data = ngx_pnalloc(pool, copy[i].len + 1);

        if (copy[i].data == NULL) {
            return NGX_ERROR;
        }

        if (copy[i].len) {
            ngx_memcpy(copy[i].data, (*list)[i].data, copy[i].len);
        }

        copy[i].data[copy[i].len] = '\0';
    }

    *list = copy;

    return NGX_OK;
}


static ngx_int_t
ngx_http_clinic_content_problem(ngx_pool_t *pool, ngx_array_t *problems,
    ngx_str_t *name, const char *reason, size_t len)
{
    ngx_http_clinic_problem_t  *p;

    p = ngx_array_push(problems);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p->file.data = ngx_pstrdup(pool, name);
    p->file.len = name->len;
    p->reason.len = len ? len : ngx_strlen(reason);
    p->reason.data = ngx_pnalloc(pool, p->reason.len);

    if (p->file.data == NULL || p->reason.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p->reason.data, reason, p->reason.len);

    return NGX_OK;
}


/*
 * Opens dir/name without following a symbolic link, so a link pointing out
 * of the folder is never read.  NGX_DECLINED: not a regular file.
 */

static ngx_int_t
ngx_http_clinic_content_open(ngx_pool_t *pool, ngx_str_t *dir,
    ngx_str_t *name, ngx_fd_t *fd, ngx_file_info_t *fi)
{
    u_char  *p, path[NGX_MAX_PATH];

    if (dir->len + name->len + 2 > NGX_MAX_PATH) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(path, dir->data, dir->len);
    *p++ = '/';
    p = ngx_cpymem(p, name->data, name->len);
    *p = '\0';

    *fd = open((char *) path, O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC);

    if (*fd == NGX_INVALID_FILE) {
        return (ngx_errno == ELOOP) ? NGX_DECLINED : NGX_ERROR;
    }

    if (ngx_fd_info(*fd, fi) == NGX_FILE_ERROR) {
        ngx_close_file(*fd);
        return NGX_ERROR;
    }

    if (!ngx_is_file(fi)) {
        ngx_close_file(*fd);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_clinic_content_slurp(ngx_pool_t *pool, ngx_fd_t fd,
    ngx_file_info_t *fi, ngx_str_t *out)
{
    size_t   size;
    ssize_t  n;

    size = ngx_file_size(fi);

    out->data = ngx_pnalloc(pool, size + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = 0;

    while (out->len < size) {
        n = ngx_read_fd(fd, out->data + out->len, size - out->len);

        if (n <= 0) {
            return n == 0 ? NGX_OK : NGX_ERROR;
        }

        out->len += n;
    }

    out->data[out->len] = '\0';

    return NGX_OK;
}


/*
 * The index's link index, made in pool for a render: renders are rare (the
 * page cache holds the pages), and the index itself stays read-only, in
 * shared memory.  NULL: no memory.
 */

ngx_http_clinic_article_links_t *
ngx_http_clinic_index_links(ngx_http_clinic_index_t *index, ngx_pool_t *pool)
{
    ngx_uint_t                        i;
    ngx_http_clinic_alloc_t           alloc;
    ngx_http_clinic_article_info_t   *a;
    ngx_http_clinic_article_entry_t  *entries;

    entries = ngx_palloc(pool, (index->narticles + 1)
                               * sizeof(ngx_http_clinic_article_entry_t));
    if (entries == NULL) {
        return NULL;
    }

    for (i = 0; i < index->narticles; i++) {
        a = &index->articles[i];

        entries[i].slug.data = a->slug.data;
        entries[i].slug.len = a->slug.len;
        entries[i].title.data = a->title.data;
        entries[i].title.len = a->title.len;
        entries[i].aliases = a->aliases;
        entries[i].naliases = a->naliases;
    }

    ngx_http_clinic_pool_alloc(pool, &alloc);

    return ngx_http_clinic_article_links_create(entries, index->narticles,
                                                &alloc);
}


ngx_http_clinic_article_info_t *
ngx_http_clinic_index_find(ngx_http_clinic_index_t *index, ngx_str_t *slug)
{
    return ngx_http_clinic_content_search(index->articles, index->narticles,
                                          slug);
}


ngx_http_clinic_article_info_t *
ngx_http_clinic_index_moved(ngx_http_clinic_index_t *index, ngx_str_t *slug,
    ngx_uint_t *gone)
{
    ngx_int_t                    rc;
    ngx_uint_t                   lo, hi, mid;
    ngx_http_clinic_redirect_t  *rd;

    lo = 0;
    hi = index->nredirects;
    rd = index->redirects;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = ngx_memn2cmp(slug->data, rd[mid].from.data, slug->len,
                          rd[mid].from.len);

        if (rc == 0) {
            *gone = 0;
            return rd[mid].to;
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    *gone = (ngx_http_clinic_content_search(index->gone, index->ngone, slug)
             != NULL);

    return NULL;
}


/* binary search of n infos sorted by slug */

static ngx_http_clinic_article_info_t *
ngx_http_clinic_content_search(ngx_http_clinic_article_info_t *a,
    ngx_uint_t n, ngx_str_t *slug)
{
    ngx_int_t   rc;
    ngx_uint_t  lo, hi, mid;

    lo = 0;
    hi = n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = ngx_memn2cmp(slug->data, a[mid].slug.data, slug->len,
                          a[mid].slug.len);

        if (rc == 0) {
            return &a[mid];
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


/*
 * The old slugs of every article, sorted.  An old slug that is an
 * article's own is dropped (the article is served); one that two articles
 * claim goes to the alphabetically first of them.  Both are lint problems
 * of the file that loses.
 */

static ngx_int_t
ngx_http_clinic_content_redirects(ngx_http_clinic_index_t *index,
    ngx_array_t *problems)
{
    u_char                          *p;
    size_t                           j;
    ngx_str_t                        from;
    ngx_uint_t                       i, n, k;
    ngx_http_clinic_redirect_t      *rd;
    ngx_http_clinic_article_info_t  *a;

    n = 0;

    for (i = 0; i < index->narticles; i++) {
        n += index->articles[i].nredirect_from;
    }

    rd = ngx_palloc(index->pool, (n + 1) * sizeof(ngx_http_clinic_redirect_t));
    if (rd == NULL) {
        return NGX_ERROR;
    }

    k = 0;

    for (i = 0; i < index->narticles; i++) {
        a = &index->articles[i];

        for (j = 0; j < a->nredirect_from; j++) {
            rd[k].from.data = a->redirect_from[j].data;
            rd[k].from.len = a->redirect_from[j].len;
            rd[k].to = a;
            k++;
        }
    }

    ngx_qsort(rd, n, sizeof(ngx_http_clinic_redirect_t),
              ngx_http_clinic_redirect_cmp);

    k = 0;

    for (i = 0; i < n; i++) {
        from = rd[i].from;
        a = ngx_http_clinic_index_find(index, &from);

        if (a) {
            p = ngx_pnalloc(index->pool, sizeof("redirect_from \"\" is the "
                                  "slug of  and is ignored, the article is "
                                  "served") + from.len + a->file.len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            from.len = ngx_sprintf(p, "redirect_from \"%V\" is the slug of "
                                   "%V and is ignored, the article is served",
                                   &rd[i].from, &a->file) - p;
            from.data = p;

        } else if (k && rd[k - 1].from.len == from.len
                   && ngx_strncmp(rd[k - 1].from.data, from.data, from.len)
                      == 0)
        {
            if (rd[k - 1].to == rd[i].to) {
                continue;   /* the same old slug twice in one article */
            }

            a = rd[k - 1].to;

            p = ngx_pnalloc(index->pool, sizeof("redirect_from \"\" is also "
                                  "claimed by , which wins") + from.len
                                  + a->file.len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            from.len = ngx_sprintf(p, "redirect_from \"%V\" is also claimed "
                                   "by %V, which wins", &rd[i].from, &a->file)
                       - p;
            from.data = p;

        } else {
            rd[k++] = rd[i];
            continue;
        }

        if (ngx_http_clinic_content_problem(index->pool, problems,
                                            &rd[i].to->file,
                                            (char *) from.data, from.len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    index->redirects = rd;
    index->nredirects = k;

    return NGX_OK;
}


/* reads an article the index knows, again without following links */

ngx_int_t
ngx_http_clinic_content_read(ngx_http_clinic_content_t *content,
    ngx_http_clinic_article_info_t *info, ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *src)
{
    ngx_fd_t         fd;
    ngx_int_t        rc;
    ngx_file_info_t  fi;

    rc = ngx_http_clinic_content_open(pool, &content->path, &info->file, &fd,
                                      &fi);
    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "clinic: article \"%V\" in \"%V\" cannot be read",
                      &info->file, &content->path);
        return NGX_ERROR;
    }

    if (ngx_file_size(&fi) > NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    rc = ngx_http_clinic_content_slurp(pool, fd, &fi, src);

    ngx_close_file(fd);

    return rc;
}


static int ngx_libc_cdecl
ngx_http_clinic_slug_cmp(const void *a, const void *b)
{
    const ngx_http_clinic_article_info_t  *x = a, *y = b;

    return (int) ngx_memn2cmp(x->slug.data, y->slug.data, x->slug.len,
                              y->slug.len);
}


/* by old slug, then by the new slug: the first claim wins */

static int ngx_libc_cdecl
ngx_http_clinic_redirect_cmp(const void *a, const void *b)
{
    ngx_int_t                          rc;
    const ngx_http_clinic_redirect_t  *x = a, *y = b;

    rc = ngx_memn2cmp(x->from.data, y->from.data, x->from.len, y->from.len);

    if (rc == 0) {
        rc = ngx_memn2cmp(x->to->slug.data, y->to->slug.data,
                          x->to->slug.len, y->to->slug.len);
    }

    return (int) rc;
}


/* by title, case-insensitively; equal titles by slug, for a stable order */

static int ngx_libc_cdecl
ngx_http_clinic_title_cmp(const void *a, const void *b)
{
    ngx_int_t                              rc;
    const ngx_http_clinic_article_info_t  *x, *y;

    x = *(ngx_http_clinic_article_info_t **) a;
    y = *(ngx_http_clinic_article_info_t **) b;

    rc = ngx_strncasecmp(x->title.data, y->title.data,
                         ngx_min(x->title.len, y->title.len));

    if (rc == 0) {
        rc = (ngx_int_t) x->title.len - (ngx_int_t) y->title.len;
    }

    if (rc == 0) {
        rc = ngx_memn2cmp(x->slug.data, y->slug.data, x->slug.len,
                          y->slug.len);
    }

    return (int) rc;
}


ngx_http_clinic_tpl_t *
ngx_http_clinic_tpl_create(ngx_conf_t *cf, ngx_str_t *path)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_clinic_tpl_t        *t;
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_clinic_module);

    t = ngx_pcalloc(cmcf->state, sizeof(ngx_http_clinic_tpl_t));
    if (t == NULL) {
        return NULL;
    }

    t->path = *path;

    /* the template's folder is watched: editors replace files by renaming */

    t->dir.len = path->len;

    while (t->dir.len && path->data[t->dir.len - 1] != '/') {
        t->dir.len--;
    }

    if (t->dir.len > 1) {
        t->dir.len--;
    }

    t->dir.data = ngx_pnalloc(cf->pool, t->dir.len + 1);
    if (t->dir.data == NULL) {
        return NULL;
    }

    ngx_memcpy(t->dir.data, path->data, t->dir.len);
    t->dir.data[t->dir.len] = '\0';

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_clinic_tpl_cleanup;
    cln->data = t;

    return t;
}


static void
ngx_http_clinic_tpl_cleanup(void *data)
{
    ngx_http_clinic_tpl_t  *t = data;

    if (t->pool) {
        ngx_destroy_pool(t->pool);
        t->pool = NULL;
        t->tpl = NULL;
    }
}


/*
 * The compiled template, re-read when the file changed.  A template that
 * no longer compiles is logged once and the last good one (or the
 * built-in default) is kept.  *version changes with the file.
 */

ngx_http_clinic_template_t *
ngx_http_clinic_tpl_get(ngx_http_clinic_tpl_t *t, ngx_msec_t interval,
    ngx_log_t *log, uint64_t *version)
{
    ngx_fd_t                     fd;
    ngx_str_t                    text, err, name;
    ngx_pool_t                  *pool;
    ngx_file_info_t              fi;
    ngx_http_clinic_template_t  *tpl;

    if (ngx_http_clinic_content_fresh(&t->watch, t->dir.data,
                                      t->tpl != NULL, &t->checked, interval,
                                      log)
        == NGX_OK)
    {
        *version = t->version;
        return t->tpl;
    }

    if (t->tpl
        && ngx_file_info(t->path.data, &fi) != NGX_FILE_ERROR
        && fi.st_mtim.tv_sec == t->mtim_sec
        && fi.st_mtim.tv_nsec == t->mtim_nsec
        && fi.st_ctim.tv_sec == t->ctim_sec
        && fi.st_ctim.tv_nsec == t->ctim_nsec
        && ngx_file_size(&fi) == t->size)
    {
        *version = t->version;
        return t->tpl;
    }

    pool = ngx_create_pool(2048, ngx_cycle->log);
    if (pool == NULL) {
        goto keep;
    }

    fd = ngx_open_file(t->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "clinic: template \"%V\" cannot be opened", &t->path);
        goto failed;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE
        || ngx_http_clinic_content_slurp(pool, fd, &fi, &text) != NGX_OK)
    {
        ngx_close_file(fd);
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "clinic: template \"%V\" cannot be read", &t->path);
        goto failed;
    }

    ngx_close_file(fd);

    tpl = ngx_http_clinic_template_compile(pool, &text, &err);
    if (tpl == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "clinic: template \"%V\": %V; keeping the previous "
                      "one", &t->path, &err);
        goto failed;
    }

    if (t->pool) {
        ngx_destroy_pool(t->pool);
    }

    t->pool = pool;
    t->tpl = tpl;
    t->mtim_sec = fi.st_mtim.tv_sec;
    t->mtim_nsec = fi.st_mtim.tv_nsec;
    t->ctim_sec = fi.st_ctim.tv_sec;
    t->ctim_nsec = fi.st_ctim.tv_nsec;
    t->size = ngx_file_size(&fi);

    t->version = ngx_http_clinic_hash(0, text.data, text.len);
    *version = t->version;

    return tpl;

failed:

    ngx_destroy_pool(pool);

keep:

    if (t->tpl == NULL) {
        /* never worked on this worker: the built-in page, not an error */
        pool = ngx_create_pool(2048, ngx_cycle->log);
        if (pool == NULL) {
            return NULL;
        }

        t->pool = pool;
        t->tpl = ngx_http_clinic_template_default(pool, 0);
        ngx_str_set(&name, "default");
        t->version = ngx_http_clinic_hash(0, name.data, name.len);
    }

    *version = t->version;

    return t->tpl;
}
