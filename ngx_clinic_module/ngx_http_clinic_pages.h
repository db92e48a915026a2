
/*
 * clinic_articles and clinic_api: article pages, the listing and the JSON
 * content API, through the page cache.
 */


#ifndef _NGX_HTTP_CLINIC_PAGES_H_INCLUDED_
#define _NGX_HTTP_CLINIC_PAGES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_clinic_articles_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_clinic_api_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_CLINIC_PAGES_H_INCLUDED_ */
