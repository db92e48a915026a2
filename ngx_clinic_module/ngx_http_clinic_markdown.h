
/*
 * The Markdown format, pure C (see the .c file).  Internal to the article
 * parser.
 */


#ifndef NGX_HTTP_CLINIC_MARKDOWN_H
#define NGX_HTTP_CLINIC_MARKDOWN_H


#include "ngx_http_clinic_article_ctx.h"


void ngx_http_clinic_article_md(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t len);


#endif /* NGX_HTTP_CLINIC_MARKDOWN_H */
