
/*
 * A tenant's site as its pages show it (see the header).
 *
 * URLs are never built from the request's Host, which a client could set
 * to anything and which would then sit in the shared page cache.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_md5.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_render.h"
#include "ngx_http_clinic_cache.h"
#include "ngx_http_clinic_content.h"
#include "ngx_http_clinic_notify.h"
#include "ngx_http_clinic_site.h"


void
ngx_http_clinic_site_vars(ngx_http_request_t *r,
    ngx_http_clinic_page_vars_t *vars)
{
    ngx_http_clinic_loc_conf_t  *clcf;
    ngx_http_clinic_srv_conf_t  *cscf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    vars->tenant = cscf->tenant;
    vars->clinic_name = clcf->clinic_name.len ? clcf->clinic_name
                                              : cscf->tenant;
    vars->contact_url = clcf->contact_url;
    vars->phone = cscf->phone;

    if (cscf->articles_prefix.len) {
        vars->list_url = cscf->articles_prefix;

    } else {
        ngx_str_set(&vars->list_url, "/");
    }

    vars->feed_url = cscf->feed_prefix;
}


uint64_t
ngx_http_clinic_site_hash(ngx_http_request_t *r, uint64_t h)
{
    ngx_str_t                   *sn;
    ngx_http_clinic_loc_conf_t  *clcf;
    ngx_http_clinic_srv_conf_t  *cscf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    /* each value ends with a NUL: "ab" + "c" differs from "a" + "bc" */

    h = ngx_http_clinic_hash(h, cscf->articles_prefix.data,
                             cscf->articles_prefix.len);
    h = ngx_http_clinic_hash(h, "", 1);
    h = ngx_http_clinic_hash(h, clcf->clinic_name.data,
                             clcf->clinic_name.len);
    h = ngx_http_clinic_hash(h, "", 1);
    h = ngx_http_clinic_hash(h, clcf->base_url.data, clcf->base_url.len);
    h = ngx_http_clinic_hash(h, "", 1);
    h = ngx_http_clinic_hash(h, clcf->contact_url.data,
                             clcf->contact_url.len);
    h = ngx_http_clinic_hash(h, "", 1);
    h = ngx_http_clinic_hash(h, cscf->phone.data, cscf->phone.len);
    h = ngx_http_clinic_hash(h, "", 1);
    h = ngx_http_clinic_hash(h, cscf->feed_prefix.data, cscf->feed_prefix.len);
    h = ngx_http_clinic_hash(h, "", 1);

    if (cscf->server_names && cscf->server_names->nelts) {
        sn = cscf->server_names->elts;
        h = ngx_http_clinic_hash(h, sn[0].data, sn[0].len);
    }

    return h;
}


/* clinic_base_url, else https:// and the first plain server_name, or none */

ngx_int_t
ngx_http_clinic_site_base(ngx_pool_t *pool, ngx_http_clinic_loc_conf_t *clcf,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *base)
{
    ngx_str_t  *sn;

    *base = clcf->base_url;

    if (base->len || cscf->server_names == NULL
        || cscf->server_names->nelts == 0)
    {
        return NGX_OK;
    }

    sn = cscf->server_names->elts;

    if (sn[0].data[0] == '*' || sn[0].data[0] == '.'
        || sn[0].data[sn[0].len - 1] == '*')
    {
        return NGX_OK;
    }

    base->len = sizeof("https://") - 1 + sn[0].len;
    base->data = ngx_pnalloc(pool, base->len);
    if (base->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(base->data, "https://%V", &sn[0]);

    return NGX_OK;
}


ngx_int_t
ngx_http_clinic_site_url(ngx_http_request_t *r, ngx_str_t *path,
    ngx_str_t *slug, ngx_str_t *url)
{
    return ngx_http_clinic_site_conf_url(r->pool,
                       ngx_http_get_module_loc_conf(r, ngx_http_clinic_module),
                       ngx_http_get_module_srv_conf(r, ngx_http_clinic_module),
                       path, slug, url);
}


ngx_int_t
ngx_http_clinic_site_conf_url(ngx_pool_t *pool,
    ngx_http_clinic_loc_conf_t *clcf, ngx_http_clinic_srv_conf_t *cscf,
    ngx_str_t *path, ngx_str_t *slug, ngx_str_t *url)
{
    u_char     *p;
    ngx_str_t   base, prefix;

    if (path) {
        prefix = *path;

    } else {
        prefix = cscf->articles_prefix;

        if (prefix.len == 0) {
            ngx_str_set(&prefix, "/");
        }
    }

    if (ngx_http_clinic_site_base(pool, clcf, cscf, &base) != NGX_OK) {
        return NGX_ERROR;
    }

    url->len = base.len + prefix.len + slug->len;
    url->data = ngx_pnalloc(pool, url->len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    /* no base URL is a NULL data pointer: memcpy() must not see it */

    p = url->data;

    if (base.len) {
        p = ngx_cpymem(p, base.data, base.len);
    }

    if (prefix.len) {
        p = ngx_cpymem(p, prefix.data, prefix.len);
    }

    if (slug->len) {
        ngx_memcpy(p, slug->data, slug->len);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_clinic_site_template(ngx_http_request_t *r, ngx_uint_t form,
    uint64_t *version, ngx_http_clinic_template_t **tpl)
{
    ngx_str_t                    name;
    ngx_http_clinic_template_t  *t;
    ngx_http_clinic_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);

    if (clcf->tpl) {
        t = ngx_http_clinic_tpl_get(clcf->tpl, clcf->revalidate,
                                    r->connection->log, version);
        if (t) {
            if (tpl) {
                *tpl = t;
            }

            return NGX_OK;
        }
    }

    if (form) {
        ngx_str_set(&name, "default form");

    } else {
        ngx_str_set(&name, "default");
    }

    *version = ngx_http_clinic_hash(0, name.data, name.len);

    if (tpl == NULL) {
        return NGX_OK;
    }

    *tpl = ngx_http_clinic_template_default(r->pool, form);

    return (*tpl == NULL) ? NGX_ERROR : NGX_OK;
}


ngx_int_t
ngx_http_clinic_site_etag(ngx_pool_t *pool, ngx_http_clinic_page_t *page)
{
    u_char     *p, md5[16];
    ngx_md5_t   ctx;

    ngx_md5_init(&ctx);
    ngx_md5_update(&ctx, page->body.data, page->body.len);
    ngx_md5_final(md5, &ctx);

    p = ngx_pnalloc(pool, 34);
    if (p == NULL) {
        return NGX_ERROR;
    }

    page->etag.data = p;
    *p++ = '"';
    p = ngx_hex_dump(p, md5, 16);
    *p++ = '"';
    page->etag.len = p - page->etag.data;

    return NGX_OK;
}


ngx_int_t
ngx_http_clinic_site_send(ngx_http_request_t *r, ngx_http_clinic_page_t *page,
    const char *layer, ngx_str_t *cc)
{
    ngx_buf_t                    *b;
    ngx_str_t                     value;
    ngx_http_clinic_loc_conf_t   *clcf;
    ngx_http_clinic_main_conf_t  *cmcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);

    r->headers_out.status = page->status;
    r->headers_out.content_length_n = page->body.len;
    r->headers_out.last_modified_time = page->last_modified
                                        ? page->last_modified : -1;

    if (page->type == NGX_HTTP_CLINIC_TYPE_JSON) {
        ngx_str_set(&r->headers_out.content_type,
                    "application/json; charset=utf-8");
        r->headers_out.content_type_len = sizeof("application/json") - 1;

    } else if (page->type == NGX_HTTP_CLINIC_TYPE_XML) {
        ngx_str_set(&r->headers_out.content_type,
                    "application/xml; charset=utf-8");
        r->headers_out.content_type_len = sizeof("application/xml") - 1;

    } else if (page->type == NGX_HTTP_CLINIC_TYPE_ATOM) {
        ngx_str_set(&r->headers_out.content_type,
                    "application/atom+xml; charset=utf-8");
        r->headers_out.content_type_len = sizeof("application/atom+xml") - 1;

    } else {
        ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
        r->headers_out.content_type_len = sizeof("text/html") - 1;
    }

    if (page->etag.len) {
        r->headers_out.etag = ngx_list_push(&r->headers_out.headers);
        if (r->headers_out.etag == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.etag->hash = 1;
        ngx_str_set(&r->headers_out.etag->key, "ETag");
        r->headers_out.etag->value = page->etag;
    }

    if (layer) {
        value.data = (u_char *) layer;
        value.len = ngx_strlen(layer);

        /* the header, and $clinic_cache for the access log */

        if (ngx_http_clinic_set_header(r, "X-Clinic-Cache", &value)
            != NGX_OK
            || ngx_http_clinic_set_variable(r, cmcf->var_cache, &value)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_clinic_set_header(r, "Cache-Control",
                                   cc ? cc : &clcf->cache_control)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = page->body.data;
    b->last = page->body.data + page->body.len;
    b->memory = 1;

    /* If-None-Match and If-Modified-Since: nginx's not_modified filter */

    return ngx_http_clinic_send_body(r, b);
}
