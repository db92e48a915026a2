
/*
 * A tenant's site as its pages show it: the settings every page carries
 * (name, phone, contact and articles addresses), absolute URLs, the
 * location's template, and sending a page.  Shared by the article pages
 * and the contact pages, which must not call each other.
 */


#ifndef _NGX_HTTP_CLINIC_SITE_H_INCLUDED_
#define _NGX_HTTP_CLINIC_SITE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_render.h"
#include "ngx_http_clinic_cache.h"


/* the settings every page of the location shows */
void ngx_http_clinic_site_vars(ngx_http_request_t *r,
    ngx_http_clinic_page_vars_t *vars);

/* h, hashed with every setting ngx_http_clinic_site_vars() and URLs use */
uint64_t ngx_http_clinic_site_hash(ngx_http_request_t *r, uint64_t h);

/*
 * An absolute URL: clinic_base_url (or https:// and the first
 * server_name), then path (NULL: the articles prefix), then slug.
 */
ngx_int_t ngx_http_clinic_site_url(ngx_http_request_t *r, ngx_str_t *path,
    ngx_str_t *slug, ngx_str_t *url);

/* the same, as a location's settings (clcf) make it */
ngx_int_t ngx_http_clinic_site_conf_url(ngx_pool_t *pool,
    ngx_http_clinic_loc_conf_t *clcf, ngx_http_clinic_srv_conf_t *cscf,
    ngx_str_t *path, ngx_str_t *slug, ngx_str_t *url);

/*
 * What absolute URLs start with: clinic_base_url, else https:// and the
 * first plain server_name; empty when neither is known (a wildcard name)
 */
ngx_int_t ngx_http_clinic_site_base(ngx_pool_t *pool,
    ngx_http_clinic_loc_conf_t *clcf, ngx_http_clinic_srv_conf_t *cscf,
    ngx_str_t *base);

/*
 * The location's template, else the built-in one (form: the contact
 * pages' variant), into *tpl unless tpl is NULL (then only the version
 * is asked for, and nothing is compiled); *version changes with the
 * template.
 */
ngx_int_t ngx_http_clinic_site_template(ngx_http_request_t *r,
    ngx_uint_t form, uint64_t *version, ngx_http_clinic_template_t **tpl);

/* a strong ETag: the MD5 of the body */
ngx_int_t ngx_http_clinic_site_etag(ngx_pool_t *pool,
    ngx_http_clinic_page_t *page);

/*
 * Sends the page; layer (HIT, MISS...) goes into X-Clinic-Cache, cc into
 * Cache-Control (NULL: clinic_cache_control).
 */
ngx_int_t ngx_http_clinic_site_send(ngx_http_request_t *r,
    ngx_http_clinic_page_t *page, const char *layer, ngx_str_t *cc);


#endif /* _NGX_HTTP_CLINIC_SITE_H_INCLUDED_ */
