
/*
 * The article parser's working state, pure C: the parse context its files
 * share (ngx_http_clinic_article.c, _links.c, _markdown.c), the character
 * classes, and the context's own operations (see the .c file).  Internal:
 * nothing outside the parser includes it.
 *
 * The parser's files, each calling only those below it:
 *
 *   ngx_http_clinic_article.c      public API, input checks, front matter,
 *                                  the plain-text format
 *   ngx_http_clinic_markdown.c     the Markdown format (md4c adapter)
 *   ngx_http_clinic_links.c        [LINK] resolution and the link index
 *   ngx_http_clinic_article_ctx.c  this context: memory, output, warnings,
 *                                  quotes, the summary
 *   ngx_http_clinic_text.c         the ground: UTF-8, HTML escaping, slugs
 */


#ifndef NGX_HTTP_CLINIC_ARTICLE_CTX_H
#define NGX_HTTP_CLINIC_ARTICLE_CTX_H


#include <stdint.h>

#include "ngx_http_clinic_article.h"
#include "ngx_http_clinic_text.h"


#define NGX_HTTP_CLINIC_ARTICLE_EXCERPT      64
#define NGX_HTTP_CLINIC_ARTICLE_WARN_LEN     256

/* classes in ngx_http_clinic_article_ctype[] */
#define NGX_HTTP_CLINIC_ARTICLE_C_SPACE      0x01   /* SP HT LF VT FF CR */
#define NGX_HTTP_CLINIC_ARTICLE_C_BOUNDARY   0x02   /* . , ; : ! ? ( ) */
#define NGX_HTTP_CLINIC_ARTICLE_C_DASH       0x04   /* - */
#define NGX_HTTP_CLINIC_ARTICLE_C_UPPER      0x08   /* A-Z */

/*
 * One table lookup instead of up to eight compares a byte: these run on
 * every byte of the text, several times, and under the fuzzer every
 * compare is also a call.
 */
#define ngx_http_clinic_article_ctype_is(c, cls)                              \
    (ngx_http_clinic_article_ctype[(u_char) (c)] & (cls))

#define ngx_http_clinic_article_space(c)                                      \
    ngx_http_clinic_article_ctype_is(c, NGX_HTTP_CLINIC_ARTICLE_C_SPACE)

#define ngx_http_clinic_article_boundary(c)                                   \
    ngx_http_clinic_article_ctype_is(c, NGX_HTTP_CLINIC_ARTICLE_C_BOUNDARY)

#define ngx_http_clinic_article_alpha(c)                                      \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))

#define ngx_http_clinic_article_digit(c)  ((c) >= '0' && (c) <= '9')

#define ngx_http_clinic_article_lower(c)                                      \
    (u_char) (ngx_http_clinic_article_ctype_is(c,                             \
                                        NGX_HTTP_CLINIC_ARTICLE_C_UPPER)      \
              ? ((c) | 0x20) : (c))

#define ngx_http_clinic_article_html_lit(ctx, s)                              \
    ngx_http_clinic_article_html(ctx, (const u_char *) s, sizeof(s) - 1)


/* grows by alloc + copy; the old block stays in the pool */
typedef struct {
    u_char                          *data;
    size_t                           len;
    size_t                           size;
} ngx_http_clinic_article_buf_t;


typedef struct {
    void                            *elts;
    size_t                           nelts;
    size_t                           nalloc;
} ngx_http_clinic_article_array_t;


typedef struct {
    const ngx_http_clinic_alloc_t          *alloc;
    ngx_http_clinic_article_t              *art;

    const ngx_http_clinic_article_links_t  *links;
    const ngx_http_clinic_article_str_t    *slug;
    const ngx_http_clinic_article_str_t    *prefix;

    ngx_http_clinic_article_buf_t           html;
    ngx_http_clinic_article_buf_t           plain;  /* captured text */
    ngx_http_clinic_article_buf_t           run;    /* md: pending text */
    ngx_http_clinic_article_buf_t           key;    /* normalized phrase */
    ngx_http_clinic_article_buf_t           alt;    /* md: image alt */

    ngx_http_clinic_article_array_t         aliases;
    ngx_http_clinic_article_array_t         redirect_from;
    ngx_http_clinic_article_array_t         warnings;
    ngx_http_clinic_article_array_t         headings;
    ngx_http_clinic_article_array_t         links_out;
    ngx_http_clinic_article_array_t         unresolved;
    ngx_http_clinic_article_array_t         spans;    /* md: open spans */
    size_t                                  in_link;  /* md: open <a>s */

    unsigned                                fm_seen;

    /* md: the open heading */
    unsigned                                level;
    unsigned                                src_level;
    size_t                                  h_html;
    size_t                                  h_links;
    size_t                                  h_unresolved;

    /* md: the padded copy md4c parses */
    const u_char                           *md_start;
    size_t                                  md_size;

    /* md: the open image */
    unsigned                                img_depth;
    ngx_http_clinic_article_str_t           img_src;
    ngx_http_clinic_article_str_t           img_title;

    unsigned                                render:1;
    unsigned                                nomem:1;
    unsigned                                has_title:1;
    unsigned                                has_summary:1;
    unsigned                                capture:1;
    unsigned                                summary_p:1;
    unsigned                                in_code:1;
    unsigned                                seen_h1:1;
    unsigned                                img_ok:1;
    unsigned                                md_bogus:1;
} ngx_http_clinic_article_ctx_t;


extern const u_char  ngx_http_clinic_article_ctype[256];


void *ngx_http_clinic_article_alloc(ngx_http_clinic_article_ctx_t *ctx,
    size_t size);
u_char *ngx_http_clinic_article_reserve(
    ngx_http_clinic_article_ctx_t *ctx, ngx_http_clinic_article_buf_t *b,
    size_t n);
void ngx_http_clinic_article_append(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_buf_t *b, const u_char *p, size_t n);
void ngx_http_clinic_article_append_escaped(
    ngx_http_clinic_article_ctx_t *ctx, ngx_http_clinic_article_buf_t *b,
    const u_char *p, size_t n);
void ngx_http_clinic_article_html(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t n);
void *ngx_http_clinic_article_push(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_array_t *arr, size_t size);
void ngx_http_clinic_article_dup(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_str_t *dst, const u_char *p, size_t n);
void ngx_http_clinic_article_collapse(
    ngx_http_clinic_article_ctx_t *ctx, ngx_http_clinic_article_str_t *dst,
    const u_char *p, size_t n, size_t extra);
void ngx_http_clinic_article_warn(ngx_http_clinic_article_ctx_t *ctx,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

int ngx_http_clinic_article_excerpt(const u_char *p, size_t n);
size_t ngx_http_clinic_article_quote_after(const u_char *p,
    const u_char *end);
size_t ngx_http_clinic_article_quote_before(const u_char *start,
    const u_char *p, unsigned closers);

void ngx_http_clinic_article_summary_end(
    ngx_http_clinic_article_ctx_t *ctx);
void ngx_http_clinic_article_emit_text(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *p, size_t n);
void ngx_http_clinic_article_cut(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_str_t *out, const u_char *p, size_t n);


#endif /* NGX_HTTP_CLINIC_ARTICLE_CTX_H */
