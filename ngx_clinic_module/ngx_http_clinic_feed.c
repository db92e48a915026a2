
/*
 * clinic_sitemap and clinic_feed (docs/directives.md).
 *
 * Both list the articles of the server's first clinic_articles location,
 * the one every canonical link points into, with that location's content
 * folder and settings (clinic_base_url, clinic_name): a URL here is byte
 * for byte the canonical link of its page.  nginx -t has made sure the
 * location exists and that an absolute base is known.
 *
 * They are built from the worker's in-memory index on every request, with
 * no file read, no Redis and no page cache: a few hundred bytes per
 * article.  What the index leaves out is left out here too: removed
 * files, old slugs and files that cannot be served.  A strong ETag (the
 * MD5 of the body) and Last-Modified (the newest article) let nginx's
 * not_modified filter answer 304.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_cache.h"
#include "ngx_http_clinic_content.h"
#include "ngx_http_clinic_render.h"
#include "ngx_http_clinic_site.h"
#include "ngx_http_clinic_feed.h"


static ngx_int_t ngx_http_clinic_findable(ngx_http_request_t *r,
    ngx_uint_t feed);
static ngx_int_t ngx_http_clinic_findable_body(ngx_http_request_t *r,
    ngx_uint_t feed, ngx_http_clinic_page_t *page);
static int ngx_libc_cdecl ngx_http_clinic_newest_cmp(const void *a,
    const void *b);


ngx_int_t
ngx_http_clinic_sitemap_handler(ngx_http_request_t *r)
{
    return ngx_http_clinic_findable(r, 0);
}


ngx_int_t
ngx_http_clinic_feed_handler(ngx_http_request_t *r)
{
    return ngx_http_clinic_findable(r, 1);
}


static ngx_int_t
ngx_http_clinic_findable(ngx_http_request_t *r, ngx_uint_t feed)
{
    ngx_int_t                  rc;
    ngx_http_clinic_page_t     page;
    ngx_http_core_loc_conf_t  *core;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_clinic_not_allowed(r, "GET, HEAD");
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* "location /sitemap.xml" answers that path, not every one below it */

    core = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (!core->named
#if (NGX_PCRE)
        && core->regex == NULL
#endif
        && (r->uri.len != core->name.len
            || ngx_strncmp(r->uri.data, core->name.data, r->uri.len) != 0))
    {
        return NGX_HTTP_NOT_FOUND;
    }

    ngx_memzero(&page, sizeof(ngx_http_clinic_page_t));

    if (ngx_http_clinic_findable_body(r, feed, &page) != NGX_OK
        || ngx_http_clinic_site_etag(r->pool, &page) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clinic_site_send(r, &page, NULL, NULL);
}


static ngx_int_t
ngx_http_clinic_findable_body(ngx_http_request_t *r, ngx_uint_t feed,
    ngx_http_clinic_page_t *page)
{
    ngx_str_t                        empty;
    ngx_uint_t                       i;
    ngx_http_clinic_index_t         *index;
    ngx_http_clinic_content_t       *content;
    ngx_http_clinic_loc_conf_t      *acf;
    ngx_http_clinic_srv_conf_t      *cscf;
    ngx_http_clinic_xml_view_t       xml;
    ngx_http_clinic_feed_view_t      view;
    ngx_http_clinic_list_item_t      list, *items;
    ngx_http_clinic_article_info_t  *a;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);
    acf = cscf->articles_conf;
    content = acf->content;

    index = ngx_http_clinic_content_index(content, acf->revalidate,
                                          r->connection->log);
    if (index == NULL) {
        return NGX_ERROR;
    }

    items = ngx_pcalloc(r->pool, (index->narticles + 1)
                                 * sizeof(ngx_http_clinic_list_item_t));
    if (items == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < index->narticles; i++) {
        a = &index->articles[i];

        items[i].slug = a->slug;
        items[i].title = a->title;
        items[i].summary = a->summary;
        items[i].updated = a->mtime;

        if (ngx_http_clinic_site_conf_url(r->pool, acf, cscf, NULL, &a->slug,
                                          &items[i].url)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    ngx_memzero(&list, sizeof(ngx_http_clinic_list_item_t));
    ngx_str_null(&empty);

    list.updated = index->last_modified;

    if (ngx_http_clinic_site_conf_url(r->pool, acf, cscf, NULL, &empty,
                                      &list.url)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    page->status = NGX_HTTP_OK;
    page->last_modified = index->last_modified;

    xml.feed = NULL;
    xml.list = &list;
    xml.items = items;
    xml.n = index->narticles;

    if (!feed) {
        page->type = NGX_HTTP_CLINIC_TYPE_XML;

        return ngx_http_clinic_render_xml(r->pool, &xml, &page->body);
    }

    ngx_qsort(items, index->narticles, sizeof(ngx_http_clinic_list_item_t),
              ngx_http_clinic_newest_cmp);

    view.id = list.url;
    view.alternate = list.url;
    view.title = acf->clinic_name.len ? acf->clinic_name : cscf->tenant;

    /* a feed of no articles was last updated when its folder changed */

    view.updated = index->last_modified ? index->last_modified
                                        : content->dir_sec;

    if (ngx_http_clinic_site_conf_url(r->pool, acf, cscf, &r->uri, &empty,
                                      &view.self)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    page->type = NGX_HTTP_CLINIC_TYPE_ATOM;
    xml.feed = &view;

    return ngx_http_clinic_render_xml(r->pool, &xml, &page->body);
}


/* newest first; equal times by slug, so the order never flickers */

static int ngx_libc_cdecl
ngx_http_clinic_newest_cmp(const void *a, const void *b)
{
    const ngx_http_clinic_list_item_t  *x = a, *y = b;

    if (x->updated != y->updated) {
        return (x->updated > y->updated) ? -1 : 1;
    }

    return (int) ngx_memn2cmp(x->slug.data, y->slug.data, x->slug.len,
                              y->slug.len);
}
