
/*
 * [LINK] resolution, pure C (see the .c file).  Internal to the article
 * parser; the index itself is built by ngx_http_clinic_article_links_create()
 * of the public header.
 */


#ifndef NGX_HTTP_CLINIC_LINKS_H
#define NGX_HTTP_CLINIC_LINKS_H


#include "ngx_http_clinic_article_ctx.h"


void ngx_http_clinic_article_text(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t n, unsigned linkable);
int ngx_http_clinic_article_same(ngx_http_clinic_article_ctx_t *ctx,
    const ngx_http_clinic_article_str_t *a,
    const ngx_http_clinic_article_str_t *b);


#endif /* NGX_HTTP_CLINIC_LINKS_H */
