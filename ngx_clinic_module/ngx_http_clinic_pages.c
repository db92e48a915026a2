
/*
 * clinic_articles and clinic_api: article pages, the listing and the JSON
 * content API, served through the page cache (docs/caching.md).
 *
 * A cached response is looked up in L1 (shared memory), then in L2
 * (Redis), and rendered from the folder only when neither holds it for the
 * tenant's current content version.  On an L1 miss the request claims the
 * key, so that a burst of requests for one uncached page renders it once
 * per node: the others wait on a short timer and then find it in L1.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_text.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_cache.h"
#include "ngx_http_clinic_content.h"
#include "ngx_http_clinic_render.h"
#include "ngx_http_clinic_pagecache.h"
#include "ngx_http_clinic_site.h"
#include "ngx_http_clinic_notify.h"
#include "ngx_http_clinic_pages.h"


#define NGX_HTTP_CLINIC_WAIT_STEP   5
#define NGX_HTTP_CLINIC_SENT        1      /* not an nginx code */
#define NGX_HTTP_CLINIC_API_LIMIT   20
#define NGX_HTTP_CLINIC_API_MAX     100
#define NGX_HTTP_CLINIC_GONE        410    /* nginx names no 410 */


typedef enum {
    NGX_HTTP_CLINIC_KIND_PAGE = 0,      /* an article page */
    NGX_HTTP_CLINIC_KIND_LIST,          /* the listing page */
    NGX_HTTP_CLINIC_KIND_RECORD         /* an API article record */
} ngx_http_clinic_kind_e;


typedef struct {
    ngx_http_request_t              *r;
    ngx_uint_t                       kind;
    ngx_str_t                        slug;
    ngx_str_t                        key;
    uint64_t                         version;
    ngx_str_t                        old;        /* an older blob, if any */
    ngx_event_t                      wait;
    ngx_msec_t                       wait_start;
    unsigned                         claimed:1;
    unsigned                         async:1;
} ngx_http_clinic_articles_ctx_t;


static ngx_int_t ngx_http_clinic_articles_start(ngx_http_request_t *r,
    ngx_uint_t kind, ngx_str_t *slug);
static ngx_int_t ngx_http_clinic_articles_lookup(
    ngx_http_clinic_articles_ctx_t *ctx);
static void ngx_http_clinic_articles_wait_handler(ngx_event_t *ev);
static void ngx_http_clinic_articles_l2_reply(void *data, ngx_str_t *blob);
static void ngx_http_clinic_articles_resume(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_clinic_articles_render(
    ngx_http_clinic_articles_ctx_t *ctx);
static ngx_int_t ngx_http_clinic_articles_build(
    ngx_http_clinic_articles_ctx_t *ctx, ngx_http_clinic_page_t *page);
static ngx_int_t ngx_http_clinic_articles_build_page(ngx_http_request_t *r,
    ngx_http_clinic_index_t *index, ngx_http_clinic_article_info_t *info,
    ngx_http_clinic_article_t *art, ngx_http_clinic_page_t *page);
static ngx_int_t ngx_http_clinic_articles_build_list(ngx_http_request_t *r,
    ngx_http_clinic_index_t *index, ngx_http_clinic_page_t *page);
static ngx_int_t ngx_http_clinic_articles_build_record(ngx_http_request_t *r,
    ngx_http_clinic_article_info_t *info, ngx_http_clinic_article_t *art,
    ngx_http_clinic_page_t *page);
static ngx_int_t ngx_http_clinic_articles_not_found(ngx_http_request_t *r,
    ngx_uint_t api);
static ngx_int_t ngx_http_clinic_articles_missing(
    ngx_http_clinic_articles_ctx_t *ctx);
static ngx_int_t ngx_http_clinic_articles_moved(ngx_http_request_t *r,
    ngx_uint_t api, ngx_str_t *slug);
static ngx_int_t ngx_http_clinic_articles_gone(ngx_http_request_t *r,
    ngx_uint_t api);
static ngx_int_t ngx_http_clinic_articles_error_page(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_clinic_page_vars_t *vars);
static ngx_int_t ngx_http_clinic_api_list(ngx_http_request_t *r);
static ngx_http_clinic_index_t *ngx_http_clinic_articles_index(
    ngx_http_request_t *r, uint64_t *version,
    ngx_http_clinic_template_t **tpl);
static void ngx_http_clinic_articles_cleanup(void *data);
static ngx_int_t ngx_http_clinic_pages_method(ngx_http_request_t *r);
static ngx_http_clinic_list_item_t *ngx_http_clinic_articles_items(
    ngx_http_request_t *r, ngx_http_clinic_index_t *index, ngx_uint_t from,
    ngx_uint_t n);


static const char  *ngx_http_clinic_kind_names[] = { "page", "list", "api" };


/*
 * Both handlers answer GET and HEAD only, and read no body.  NGX_OK: go
 * on; anything else is what the handler returns.
 */

static ngx_int_t
ngx_http_clinic_pages_method(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        rc = ngx_http_clinic_not_allowed(r, "GET, HEAD");

        /* the 405 is sent: the handler must not go on */
        return (rc == NGX_OK) ? NGX_HTTP_CLINIC_SENT : rc;
    }

    return ngx_http_discard_request_body(r);
}


ngx_int_t
ngx_http_clinic_articles_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_str_t                  path;
    ngx_http_core_loc_conf_t  *core;

    rc = ngx_http_clinic_pages_method(r);
    if (rc != NGX_OK) {
        return (rc == NGX_HTTP_CLINIC_SENT) ? NGX_OK : rc;
    }

    core = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->uri.len < core->name.len
        || ngx_strncmp(r->uri.data, core->name.data, core->name.len) != 0)
    {
        return ngx_http_clinic_articles_not_found(r, 0);
    }

    path.data = r->uri.data + core->name.len;
    path.len = r->uri.len - core->name.len;

    if (path.len == 0) {
        return ngx_http_clinic_articles_start(r, NGX_HTTP_CLINIC_KIND_LIST,
                                              &path);
    }

    if (!ngx_http_clinic_text_slug_valid(path.data, path.len)) {
        return ngx_http_clinic_articles_not_found(r, 0);
    }

    return ngx_http_clinic_articles_start(r, NGX_HTTP_CLINIC_KIND_PAGE,
                                          &path);
}


ngx_int_t
ngx_http_clinic_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_str_t                  path, slug;
    ngx_http_core_loc_conf_t  *core;

    rc = ngx_http_clinic_pages_method(r);
    if (rc != NGX_OK) {
        return (rc == NGX_HTTP_CLINIC_SENT) ? NGX_OK : rc;
    }

    core = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->uri.len < core->name.len + 8
        || ngx_strncmp(r->uri.data, core->name.data, core->name.len) != 0
        || ngx_strncmp(r->uri.data + core->name.len, "articles", 8) != 0)
    {
        return ngx_http_clinic_articles_not_found(r, 1);
    }

    path.data = r->uri.data + core->name.len + 8;
    path.len = r->uri.len - core->name.len - 8;

    if (path.len == 0) {
        return ngx_http_clinic_api_list(r);
    }

    if (path.data[0] != '/') {
        return ngx_http_clinic_articles_not_found(r, 1);
    }

    slug.data = path.data + 1;
    slug.len = path.len - 1;

    if (!ngx_http_clinic_text_slug_valid(slug.data, slug.len)) {
        return ngx_http_clinic_articles_not_found(r, 1);
    }

    return ngx_http_clinic_articles_start(r, NGX_HTTP_CLINIC_KIND_RECORD,
                                          &slug);
}


/*
 * The folder's index and template for this location, revalidated; version
 * covers the articles, the template and the settings a page shows.
 */

static ngx_http_clinic_index_t *
ngx_http_clinic_articles_index(ngx_http_request_t *r, uint64_t *version,
    ngx_http_clinic_template_t **tpl)
{
    uint64_t                     h, tv, gen;
    ngx_http_clinic_index_t     *index;
    ngx_http_clinic_template_t  *t;
    ngx_http_clinic_loc_conf_t  *clcf;
    ngx_http_clinic_srv_conf_t  *cscf;
    ngx_http_core_loc_conf_t    *core;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);
    core = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    index = ngx_http_clinic_content_index(clcf->content, clcf->revalidate,
                                          r->connection->log);
    if (index == NULL) {
        return NULL;
    }

    /* the template is part of every page's version, asked for or not */

    tv = 0;
    t = NULL;

    if (clcf->tpl) {
        t = ngx_http_clinic_tpl_get(clcf->tpl, clcf->revalidate,
                                    r->connection->log, &tv);
    }

    if (tpl) {
        /* without a clinic_template of its own, the built-in layout */

        if (t == NULL) {
            t = ngx_http_clinic_template_default(r->pool, 0);
            if (t == NULL) {
                return NULL;
            }
        }

        *tpl = t;
    }

    ngx_http_clinic_pagecache_poll(cscf, r->pool, clcf->revalidate);

    h = ngx_http_clinic_hash(index->version, &tv, sizeof(uint64_t));
    gen = ngx_http_clinic_pagecache_generation(cscf);
    h = ngx_http_clinic_hash(h, &gen, sizeof(uint64_t));
    h = ngx_http_clinic_hash(h, core->name.data, core->name.len);
    h = ngx_http_clinic_site_hash(r, h);

    *version = h;

    return index;
}


static ngx_int_t
ngx_http_clinic_articles_start(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *slug)
{
    ngx_int_t                        rc;
    ngx_pool_cleanup_t              *cln;
    ngx_http_core_loc_conf_t        *core;
    ngx_http_clinic_srv_conf_t      *cscf;
    ngx_http_clinic_articles_ctx_t  *ctx;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);
    core = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_clinic_articles_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_clinic_articles_cleanup;
    cln->data = ctx;

    ctx->r = r;
    ctx->kind = kind;
    ctx->slug = *slug;

    /* $clinic_article for the access log: the slug asked for, if any */

    if (slug->len
        && ngx_http_clinic_set_variable(r,
               ((ngx_http_clinic_main_conf_t *)
                ngx_http_get_module_main_conf(r, ngx_http_clinic_module))
               ->var_article, slug)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_clinic_pagecache_key(r->pool, cscf,
                                      ngx_http_clinic_kind_names[kind],
                                      &core->name, slug, &ctx->key)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->wait.handler = ngx_http_clinic_articles_wait_handler;
    ctx->wait.data = ctx;
    ctx->wait.log = r->connection->log;
    ctx->wait_start = ngx_current_msec;

    rc = ngx_http_clinic_articles_lookup(ctx);

    if (rc == NGX_DONE) {
        ctx->async = 1;
        r->main->count++;
    }

    return rc;
}


/*
 * One step of the lookup: L1, then (asynchronously) L2, then a render.
 * Returns NGX_DONE while the request waits, else what finalizes it.
 */

static ngx_int_t
ngx_http_clinic_articles_lookup(ngx_http_clinic_articles_ctx_t *ctx)
{
    ngx_int_t                         rc;
    ngx_str_t                         blob;
    ngx_http_request_t               *r;
    ngx_http_clinic_page_t            page;
    ngx_http_clinic_index_t          *index;
    ngx_http_clinic_srv_conf_t       *cscf;
    ngx_http_clinic_main_conf_t      *cmcf;
    ngx_http_clinic_cache_state_e     state;

    r = ctx->r;
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    index = ngx_http_clinic_articles_index(r, &ctx->version, NULL);
    if (index == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->kind != NGX_HTTP_CLINIC_KIND_LIST
        && ngx_http_clinic_index_find(index, &ctx->slug) == NULL)
    {
        return ngx_http_clinic_articles_missing(ctx);
    }

    if (cmcf->cache_zone == NULL) {
        goto l2;
    }

    /* past the single-flight window, stop waiting and render here */

    state = ngx_http_clinic_cache_get(cmcf->cache_zone, &ctx->key,
                ctx->version,
                ngx_current_msec - ctx->wait_start
                < NGX_HTTP_CLINIC_CACHE_PENDING_TTL,
                r->pool, &blob);

    switch (state) {

    case NGX_HTTP_CLINIC_CACHE_HIT:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "clinic page \"%V\": in shared memory", &ctx->key);

        if (ngx_http_clinic_page_decode(&blob, &page) == NGX_OK) {
            ngx_http_clinic_stats_tenant_count(r,
                                              NGX_HTTP_CLINIC_T_CACHE_HIT);
            return ngx_http_clinic_site_send(r, &page, "HIT", NULL);
        }

        break;

    case NGX_HTTP_CLINIC_CACHE_PENDING:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "clinic page \"%V\": another request renders it, "
                       "waiting", &ctx->key);

        ngx_add_timer(&ctx->wait, NGX_HTTP_CLINIC_WAIT_STEP);
        return NGX_DONE;

    case NGX_HTTP_CLINIC_CACHE_OLD:
        ctx->old = blob;
        ctx->claimed = 1;
        break;

    default: /* NGX_HTTP_CLINIC_CACHE_MISS */
        ctx->claimed = (ngx_current_msec - ctx->wait_start
                        < NGX_HTTP_CLINIC_CACHE_PENDING_TTL);
        break;
    }

l2:

    rc = ngx_http_clinic_pagecache_read(cscf, r->pool, &ctx->key,
                                        ngx_http_clinic_articles_l2_reply,
                                        ctx);

    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    /* Redis is down (logged once by the Redis layer): render directly */

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "clinic page \"%V\": Redis is down, rendering", &ctx->key);

    return ngx_http_clinic_articles_render(ctx);
}


static void
ngx_http_clinic_articles_wait_handler(ngx_event_t *ev)
{
    ngx_http_clinic_articles_ctx_t  *ctx = ev->data;

    ngx_http_clinic_articles_resume(ctx->r,
                                    ngx_http_clinic_articles_lookup(ctx));
}


static void
ngx_http_clinic_articles_l2_reply(void *data, ngx_str_t *blob)
{
    ngx_http_clinic_articles_ctx_t *ctx = data;

    ngx_int_t                     rc;
    ngx_http_request_t           *r;
    ngx_http_clinic_page_t        page;
    ngx_http_clinic_main_conf_t  *cmcf;

    r = ctx->r;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "clinic page \"%V\": %s in Redis", &ctx->key,
                   blob ? "found" : "not");

    if (blob
        && ngx_http_clinic_page_decode(blob, &page) == NGX_OK
        && page.version == ctx->version)
    {
        cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);

        if (cmcf->cache_zone
            && ngx_http_clinic_cache_put(cmcf->cache_zone, &ctx->key,
                                         ctx->version, blob)
               == NGX_OK)
        {
            ctx->claimed = 0;
        }

        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_CACHE_REDIS);

        rc = ngx_http_clinic_site_send(r, &page, "REDIS", NULL);
        ngx_http_clinic_articles_resume(r, rc);
        return;
    }

    ngx_http_clinic_articles_resume(r, ngx_http_clinic_articles_render(ctx));
}


static void
ngx_http_clinic_articles_resume(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    if (rc == NGX_DONE) {
        return;
    }

    c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/*
 * Renders from the folder, stores in L1 and L2 and sends.  When the render
 * fails and an older version is at hand, that is sent as STALE.
 */

static ngx_int_t
ngx_http_clinic_articles_render(ngx_http_clinic_articles_ctx_t *ctx)
{
    ngx_int_t                      rc;
    ngx_str_t                      blob;
    ngx_http_request_t            *r;
    ngx_http_clinic_page_t         page;
    ngx_http_clinic_loc_conf_t    *clcf;
    ngx_http_clinic_srv_conf_t    *cscf;
    ngx_http_clinic_main_conf_t   *cmcf;

    r = ctx->r;
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "clinic page \"%V\": rendering, claimed: %ui",
                   &ctx->key, (ngx_uint_t) ctx->claimed);

    rc = ngx_http_clinic_articles_build(ctx, &page);

    if (rc != NGX_OK) {
        if (ctx->claimed) {
            ngx_http_clinic_cache_release(cmcf->cache_zone, &ctx->key);
            ctx->claimed = 0;
        }

        if (rc == NGX_DECLINED) {
            return ngx_http_clinic_articles_missing(ctx);
        }

        if (ctx->old.len
            && ngx_http_clinic_page_decode(&ctx->old, &page) == NGX_OK)
        {
            ngx_http_clinic_stats_tenant_count(r,
                                             NGX_HTTP_CLINIC_T_CACHE_STALE);
            return ngx_http_clinic_site_send(r, &page, "STALE", NULL);
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_RENDERS);
    ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_CACHE_MISS);

    if (ngx_http_clinic_site_etag(r->pool, &page) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_clinic_page_encode(r->pool, &page, &blob) == NGX_OK) {

        if (cmcf->cache_zone) {
            if (ngx_http_clinic_cache_put(cmcf->cache_zone, &ctx->key,
                                          ctx->version, &blob)
                != NGX_OK && ctx->claimed)
            {
                ngx_http_clinic_cache_release(cmcf->cache_zone, &ctx->key);
            }

            ctx->claimed = 0;
        }

        /* L2 is written in the background: nobody waits for the reply */

        ngx_http_clinic_pagecache_write(cscf, r->pool, &ctx->key, &blob,
                                        clcf->cache_ttl);

    } else if (ctx->claimed && cmcf->cache_zone) {
        ngx_http_clinic_cache_release(cmcf->cache_zone, &ctx->key);
        ctx->claimed = 0;
    }

    return ngx_http_clinic_site_send(r, &page, "MISS", NULL);
}


/* NGX_DECLINED: the article is gone; NGX_ERROR: it cannot be rendered */

static ngx_int_t
ngx_http_clinic_articles_build(ngx_http_clinic_articles_ctx_t *ctx,
    ngx_http_clinic_page_t *page)
{
    ngx_str_t                        src;
    ngx_http_request_t              *r;
    ngx_http_clinic_alloc_t          alloc;
    ngx_http_clinic_index_t         *index;
    ngx_http_clinic_article_t        art;
    ngx_http_clinic_loc_conf_t      *clcf;
    ngx_http_clinic_srv_conf_t      *cscf;
    ngx_http_clinic_article_info_t  *info;
    ngx_http_clinic_article_links_t *links;

    r = ctx->r;
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    /* the index may have changed while this request waited */

    index = ngx_http_clinic_articles_index(r, &ctx->version, NULL);
    if (index == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(page, sizeof(ngx_http_clinic_page_t));
    page->version = ctx->version;
    page->status = NGX_HTTP_OK;

    if (ctx->kind == NGX_HTTP_CLINIC_KIND_LIST) {
        return ngx_http_clinic_articles_build_list(r, index, page);
    }

    info = ngx_http_clinic_index_find(index, &ctx->slug);
    if (info == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_clinic_content_read(clcf->content, info, r->pool,
                                     r->connection->log, &src)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    links = ngx_http_clinic_index_links(index, r->pool);
    if (links == NULL) {
        return NGX_ERROR;
    }

    ngx_http_clinic_pool_alloc(r->pool, &alloc);

    switch (ngx_http_clinic_article_render(src.data, src.len, info->format,
                (ngx_http_clinic_article_str_t *) &info->slug, links,
                (ngx_http_clinic_article_str_t *) &cscf->articles_prefix,
                &alloc, &art))
    {
    case NGX_HTTP_CLINIC_ARTICLE_OK:
        break;

    case NGX_HTTP_CLINIC_ARTICLE_EINVALID:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "clinic: article \"%V\" of \"%V\" cannot be "
                      "rendered: %s", &info->file, &cscf->tenant,
                      art.error.data);
        return NGX_ERROR;

    default:
        return NGX_ERROR;
    }

    page->last_modified = info->mtime;

    if (ctx->kind == NGX_HTTP_CLINIC_KIND_RECORD) {
        return ngx_http_clinic_articles_build_record(r, info, &art, page);
    }

    return ngx_http_clinic_articles_build_page(r, index, info, &art, page);
}


static ngx_int_t
ngx_http_clinic_articles_build_page(ngx_http_request_t *r,
    ngx_http_clinic_index_t *index, ngx_http_clinic_article_info_t *info,
    ngx_http_clinic_article_t *art, ngx_http_clinic_page_t *page)
{
    uint64_t                      v;
    ngx_http_clinic_template_t   *tpl;
    ngx_http_clinic_page_vars_t   vars;

    if (ngx_http_clinic_articles_index(r, &v, &tpl) == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&vars, sizeof(ngx_http_clinic_page_vars_t));

    ngx_http_clinic_site_vars(r, &vars);

    if (ngx_http_clinic_site_url(r, NULL, &info->slug, &vars.canonical)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    vars.title.data = art->title.data;
    vars.title.len = art->title.len;
    vars.summary.data = art->summary.data;
    vars.summary.len = art->summary.len;
    vars.content.data = art->html.data;
    vars.content.len = art->html.len;
    vars.slug = info->slug;
    vars.updated = info->mtime;
    vars.article = 1;

    page->type = NGX_HTTP_CLINIC_TYPE_HTML;

    return ngx_http_clinic_render_page(r->pool, tpl, &vars, &page->body);
}


static ngx_int_t
ngx_http_clinic_articles_build_list(ngx_http_request_t *r,
    ngx_http_clinic_index_t *index, ngx_http_clinic_page_t *page)
{
    uint64_t                         v;
    ngx_str_t                        empty;
    ngx_http_clinic_template_t      *tpl;
    ngx_http_clinic_list_item_t     *items;
    ngx_http_clinic_page_vars_t      vars;

    if (ngx_http_clinic_articles_index(r, &v, &tpl) == NULL) {
        return NGX_ERROR;
    }

    items = ngx_http_clinic_articles_items(r, index, 0, index->narticles);
    if (items == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&vars, sizeof(ngx_http_clinic_page_vars_t));

    ngx_http_clinic_site_vars(r, &vars);

    ngx_str_null(&empty);

    if (ngx_http_clinic_site_url(r, NULL, &empty, &vars.canonical) != NGX_OK
        || ngx_http_clinic_render_list_html(r->pool, items,
                                            index->narticles, &vars.content)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&vars.title, "Treatments");
    vars.summary = vars.clinic_name;
    vars.updated = index->last_modified;

    page->type = NGX_HTTP_CLINIC_TYPE_HTML;
    page->last_modified = index->last_modified;

    return ngx_http_clinic_render_page(r->pool, tpl, &vars, &page->body);
}


static ngx_int_t
ngx_http_clinic_articles_build_record(ngx_http_request_t *r,
    ngx_http_clinic_article_info_t *info, ngx_http_clinic_article_t *art,
    ngx_http_clinic_page_t *page)
{
    size_t                          i;
    ngx_str_t                       slug;
    ngx_http_clinic_api_article_t   rec;

    ngx_memzero(&rec, sizeof(ngx_http_clinic_api_article_t));

    rec.item.slug = info->slug;
    rec.item.title.data = art->title.data;
    rec.item.title.len = art->title.len;
    rec.item.summary.data = art->summary.data;
    rec.item.summary.len = art->summary.len;
    rec.item.updated = info->mtime;
    rec.html.data = art->html.data;
    rec.html.len = art->html.len;

    if (ngx_http_clinic_site_url(r, NULL, &info->slug, &rec.item.url)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rec.headings = ngx_palloc(r->pool, (art->nheadings + 1)
                                       * sizeof(ngx_str_t));
    rec.links = ngx_palloc(r->pool, (art->nlinks + 1)
                                    * sizeof(ngx_http_clinic_link_item_t));
    rec.unresolved = ngx_palloc(r->pool, (art->nunresolved + 1)
                                         * sizeof(ngx_str_t));

    if (rec.headings == NULL || rec.links == NULL || rec.unresolved == NULL)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < art->nheadings; i++) {
        rec.headings[i].data = art->headings[i].text.data;
        rec.headings[i].len = art->headings[i].text.len;
    }

    rec.nheadings = art->nheadings;

    for (i = 0; i < art->nlinks; i++) {
        rec.links[i].text.data = art->links[i].text.data;
        rec.links[i].text.len = art->links[i].text.len;
        slug.data = art->links[i].slug.data;
        slug.len = art->links[i].slug.len;
        rec.links[i].slug = slug;

        if (ngx_http_clinic_site_url(r, NULL, &slug, &rec.links[i].url)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    rec.nlinks = art->nlinks;

    for (i = 0; i < art->nunresolved; i++) {
        rec.unresolved[i].data = art->unresolved[i].data;
        rec.unresolved[i].len = art->unresolved[i].len;
    }

    rec.nunresolved = art->nunresolved;

    page->type = NGX_HTTP_CLINIC_TYPE_JSON;

    return ngx_http_clinic_render_api_article(r->pool, &rec, &page->body);
}


/*
 * A slug that is no article: 301 to the article that names it in
 * redirect_from, 410 when its file says "removed: yes", else 404.  Asked
 * of the index on every request, before any cache: an old slug's answer
 * is never a cached page, and follows the folder at once.
 */

static ngx_int_t
ngx_http_clinic_articles_missing(ngx_http_clinic_articles_ctx_t *ctx)
{
    uint64_t                         v;
    ngx_uint_t                       api, gone;
    ngx_http_request_t              *r;
    ngx_http_clinic_index_t         *index;
    ngx_http_clinic_article_info_t  *to;

    r = ctx->r;
    api = (ctx->kind == NGX_HTTP_CLINIC_KIND_RECORD);

    index = ngx_http_clinic_articles_index(r, &v, NULL);

    if (index) {
        to = ngx_http_clinic_index_moved(index, &ctx->slug, &gone);

        if (to) {
            return ngx_http_clinic_articles_moved(r, api, &to->slug);
        }

        if (gone) {
            return ngx_http_clinic_articles_gone(r, api);
        }
    }

    return ngx_http_clinic_articles_not_found(r, api);
}


/*
 * 301 to the renamed article: its canonical URL, or for the API its
 * record's (absolute under clinic_base_url, like every URL the pages show)
 */

static ngx_int_t
ngx_http_clinic_articles_moved(ngx_http_request_t *r, ngx_uint_t api,
    ngx_str_t *slug)
{
    u_char                      *p;
    ngx_str_t                    url, path, *prefix;
    ngx_table_elt_t             *h;
    ngx_http_core_loc_conf_t    *core;
    ngx_http_clinic_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    prefix = NULL;

    if (api) {
        core = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        path.len = core->name.len + sizeof("articles/") - 1;
        path.data = ngx_pnalloc(r->pool, path.len);
        if (path.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_cpymem(path.data, core->name.data, core->name.len);
        ngx_memcpy(p, "articles/", sizeof("articles/") - 1);
        prefix = &path;
    }

    if (ngx_http_clinic_site_url(r, prefix, slug, &url) != NGX_OK
        || ngx_http_clinic_set_header(r, "Cache-Control",
                                      &clcf->cache_control)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value = url;

    ngx_http_clear_location(r);
    r->headers_out.location = h;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clinic: \"%V\" moved to \"%V\"", &r->uri, &url);

    if (api) {
        return ngx_http_clinic_send_error(r, NGX_HTTP_MOVED_PERMANENTLY,
                                          "this article has moved");
    }

    /* nginx's own 301 page, as for "return 301" */

    return NGX_HTTP_MOVED_PERMANENTLY;
}


/* 410: a page in the tenant's template saying so, or a JSON error */

static ngx_int_t
ngx_http_clinic_articles_gone(ngx_http_request_t *r, ngx_uint_t api)
{
    u_char                       *p;
    size_t                        len;
    ngx_http_clinic_page_vars_t   vars;

    static u_char  head[] = "<p>This article has been removed. Our "
                            "treatments are listed on the <a href=\"";
    static u_char  tail[] = "\">articles page</a>.</p>";

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clinic: the article at \"%V\" was removed", &r->uri);

    if (api) {
        return ngx_http_clinic_send_error(r, NGX_HTTP_CLINIC_GONE,
                                          "this article has been removed");
    }

    ngx_memzero(&vars, sizeof(ngx_http_clinic_page_vars_t));

    ngx_http_clinic_site_vars(r, &vars);

    len = sizeof(head) - 1 + sizeof(tail) - 1
          + ngx_http_clinic_text_escape_html(NULL, vars.list_url.data,
                                             vars.list_url.len);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_CLINIC_GONE;
    }

    vars.content.data = p;
    p = ngx_cpymem(p, head, sizeof(head) - 1);
    p += ngx_http_clinic_text_escape_html(p, vars.list_url.data,
                                          vars.list_url.len);
    p = ngx_cpymem(p, tail, sizeof(tail) - 1);
    vars.content.len = p - vars.content.data;

    ngx_str_set(&vars.title, "This article has been removed");
    ngx_str_set(&vars.summary, "This article has been removed.");

    return ngx_http_clinic_articles_error_page(r, NGX_HTTP_CLINIC_GONE, &vars);
}


/* a 404 page in the tenant's template, or a JSON error for the API */

static ngx_int_t
ngx_http_clinic_articles_not_found(ngx_http_request_t *r, ngx_uint_t api)
{
    ngx_http_clinic_page_vars_t  vars;

    if (api) {
        return ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "no such article");
    }

    ngx_memzero(&vars, sizeof(ngx_http_clinic_page_vars_t));

    ngx_http_clinic_site_vars(r, &vars);

    ngx_str_set(&vars.title, "Page not found");
    ngx_str_set(&vars.summary, "This page does not exist.");
    ngx_str_set(&vars.content,
                "<p>Sorry, we could not find that page. "
                "Our treatments are listed on the articles page.</p>");

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clinic: no article at \"%V\"", &r->uri);

    return ngx_http_clinic_articles_error_page(r, NGX_HTTP_NOT_FOUND, &vars);
}


/*
 * An error page (404, 410) in the tenant's template: the listing's
 * canonical link, no JSON-LD, never cached; a failure to render it still
 * answers the status, with nginx's own page.
 */

static ngx_int_t
ngx_http_clinic_articles_error_page(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_clinic_page_vars_t *vars)
{
    uint64_t                     v;
    ngx_str_t                    empty;
    ngx_http_clinic_page_t       page;
    ngx_http_clinic_template_t  *tpl;

    tpl = NULL;

    if (ngx_http_clinic_articles_index(r, &v, &tpl) == NULL || tpl == NULL) {
        tpl = ngx_http_clinic_template_default(r->pool, 0);
        if (tpl == NULL) {
            return status;
        }
    }

    ngx_memzero(&page, sizeof(ngx_http_clinic_page_t));
    ngx_str_null(&empty);

    if (ngx_http_clinic_site_url(r, NULL, &empty, &vars->canonical)
        != NGX_OK)
    {
        return status;
    }

    vars->not_found = 1;

    if (ngx_http_clinic_render_page(r->pool, tpl, vars, &page.body)
        != NGX_OK)
    {
        return status;
    }

    page.status = status;
    page.type = NGX_HTTP_CLINIC_TYPE_HTML;

    /* not cached by anyone and cannot be revalidated */

    r->headers_out.status = status;
    r->headers_out.content_length_n = page.body.len;
    ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/html") - 1;

    return ngx_http_clinic_site_send(r, &page, NULL, NULL);
}


static ngx_int_t
ngx_http_clinic_api_list(ngx_http_request_t *r)
{
    uint64_t                         v;
    ngx_int_t                        n;
    ngx_str_t                        arg;
    ngx_uint_t                       limit, offset, count;
    ngx_http_clinic_page_t           page;
    ngx_http_clinic_index_t         *index;
    ngx_http_clinic_list_item_t     *items;

    limit = NGX_HTTP_CLINIC_API_LIMIT;
    offset = 0;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &arg) == NGX_OK) {
        n = ngx_atoi(arg.data, arg.len);
        if (n == NGX_ERROR || n < 1 || n > NGX_HTTP_CLINIC_API_MAX) {
            return ngx_http_clinic_send_error(r, NGX_HTTP_BAD_REQUEST,
                                   "limit must be a number from 1 to 100");
        }

        limit = n;
    }

    if (ngx_http_arg(r, (u_char *) "offset", 6, &arg) == NGX_OK) {
        n = ngx_atoi(arg.data, arg.len);
        if (n == NGX_ERROR || n > 1000000) {
            return ngx_http_clinic_send_error(r, NGX_HTTP_BAD_REQUEST,
                                   "offset must be a number of 0 or more");
        }

        offset = n;
    }

    index = ngx_http_clinic_articles_index(r, &v, NULL);
    if (index == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    count = (offset < index->narticles)
            ? ngx_min(limit, index->narticles - offset) : 0;

    items = ngx_http_clinic_articles_items(r, index, offset, count);
    if (items == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&page, sizeof(ngx_http_clinic_page_t));

    if (ngx_http_clinic_render_api_list(r->pool, items, count,
                                        index->narticles, limit, offset,
                                        &page.body)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    page.status = NGX_HTTP_OK;
    page.type = NGX_HTTP_CLINIC_TYPE_JSON;
    page.last_modified = index->last_modified;

    if (ngx_http_clinic_site_etag(r->pool, &page) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* built from the in-memory index each time: no cache layer to name */

    return ngx_http_clinic_site_send(r, &page, NULL, NULL);
}


static void
ngx_http_clinic_articles_cleanup(void *data)
{
    ngx_http_clinic_articles_ctx_t  *ctx = data;

    ngx_http_clinic_main_conf_t  *cmcf;

    if (ctx->wait.timer_set) {
        ngx_del_timer(&ctx->wait);
    }

    if (ctx->claimed) {
        cmcf = ngx_http_get_module_main_conf(ctx->r, ngx_http_clinic_module);

        if (cmcf->cache_zone) {
            ngx_http_clinic_cache_release(cmcf->cache_zone, &ctx->key);
        }

        ctx->claimed = 0;
    }
}


/* the listing's items from..from+n of the articles by title, in r->pool */

static ngx_http_clinic_list_item_t *
ngx_http_clinic_articles_items(ngx_http_request_t *r,
    ngx_http_clinic_index_t *index, ngx_uint_t from, ngx_uint_t n)
{
    ngx_uint_t                       i;
    ngx_http_clinic_list_item_t     *items;
    ngx_http_clinic_article_info_t  *a;

    items = ngx_pcalloc(r->pool, (n + 1) * sizeof(ngx_http_clinic_list_item_t));
    if (items == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        a = index->by_title[from + i];

        items[i].slug = a->slug;
        items[i].title = a->title;
        items[i].summary = a->summary;
        items[i].updated = a->mtime;

        if (ngx_http_clinic_site_url(r, NULL, &a->slug, &items[i].url)
            != NGX_OK)
        {
            return NULL;
        }
    }

    return items;
}
