
/*
 * clinic_sitemap and clinic_feed: the tenant's sitemap.xml and Atom feed,
 * built from the worker's index of its clinic_articles location.
 */


#ifndef _NGX_HTTP_CLINIC_FEED_H_INCLUDED_
#define _NGX_HTTP_CLINIC_FEED_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_clinic_sitemap_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_clinic_feed_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_CLINIC_FEED_H_INCLUDED_ */
