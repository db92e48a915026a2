
/*
 * The article parser's context, pure C: memory from the caller's allocator
 * (buffers that grow, arrays, copies), the output of body text to the HTML
 * and to the plain text captured for headings and the summary, warnings,
 * the quote rules and the summary cut.  The bottom of the parser: it calls
 * only text.c.
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ngx_http_clinic_article_ctx.h"


/*
 * One table lookup instead of up to eight compares a byte: the classes
 * of ngx_http_clinic_article_ctx.h.
 */

const u_char  ngx_http_clinic_article_ctype[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0,     /* HT LF VT FF CR */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 2, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 4, 2, 0,     /* SP ! ( ) , - . */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 2,     /* : ; ? */
    0, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,     /* A-O */
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 0, 0, 0, 0, 0,     /* P-Z */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};


/* memory */

void *
ngx_http_clinic_article_alloc(ngx_http_clinic_article_ctx_t *ctx, size_t size)
{
    void  *p;

    if (ctx->nomem) {
        return NULL;
    }

    p = ctx->alloc->alloc(ctx->alloc->ctx, size ? size : 1);
    if (p == NULL) {
        ctx->nomem = 1;
    }

    return p;
}


/* room for n more bytes and a NUL; NULL (and nomem) when out of memory */

u_char *
ngx_http_clinic_article_reserve(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_buf_t *b, size_t n)
{
    size_t   size;
    u_char  *d;

    if (ctx->nomem) {
        return NULL;
    }

    if (b->len + n + 1 <= b->size) {
        return b->data + b->len;
    }

    size = b->size ? b->size : 256;

    while (size < b->len + n + 1) {
        size *= 2;
    }

    d = ngx_http_clinic_article_alloc(ctx, size);
    if (d == NULL) {
        return NULL;
    }

    if (b->len) {
        memcpy(d, b->data, b->len);
    }

    b->data = d;
    b->size = size;

    return d + b->len;
}


void
ngx_http_clinic_article_append(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_buf_t *b, const u_char *p, size_t n)
{
    u_char  *d;

    if (n == 0) {
        return;
    }

    d = ngx_http_clinic_article_reserve(ctx, b, n);
    if (d == NULL) {
        return;
    }

    memcpy(d, p, n);
    b->len += n;
}


void
ngx_http_clinic_article_append_escaped(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_buf_t *b, const u_char *p, size_t n)
{
    size_t   need;
    u_char  *d;

    need = ngx_http_clinic_text_escape_html(NULL, p, n);

    d = ngx_http_clinic_article_reserve(ctx, b, need);
    if (d == NULL) {
        return;
    }

    if (need == n) {
        if (n) {
            memcpy(d, p, n);
            b->len += n;
        }

        return;
    }

    b->len += ngx_http_clinic_text_escape_html(d, p, n);
}


void
ngx_http_clinic_article_html(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t n)
{
    if (ctx->render) {
        ngx_http_clinic_article_append(ctx, &ctx->html, p, n);
    }
}


void *
ngx_http_clinic_article_push(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_array_t *arr, size_t size)
{
    size_t   n;
    u_char  *d;

    if (ctx->nomem) {
        return NULL;
    }

    if (arr->nelts == arr->nalloc) {
        n = arr->nalloc ? 2 * arr->nalloc : 8;

        d = ngx_http_clinic_article_alloc(ctx, n * size);
        if (d == NULL) {
            return NULL;
        }

        if (arr->nelts) {
            memcpy(d, arr->elts, arr->nelts * size);
        }

        arr->elts = d;
        arr->nalloc = n;
    }

    d = (u_char *) arr->elts + arr->nelts++ * size;
    memset(d, 0, size);

    return d;
}


void
ngx_http_clinic_article_dup(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_str_t *dst, const u_char *p, size_t n)
{
    u_char  *d;

    d = ngx_http_clinic_article_alloc(ctx, n + 1);
    if (d == NULL) {
        dst->len = 0;
        dst->data = NULL;
        return;
    }

    if (n) {
        memcpy(d, p, n);
    }

    d[n] = '\0';
    dst->len = n;
    dst->data = d;
}


/* a copy with whitespace runs as one space, trimmed; extra bytes of room */

void
ngx_http_clinic_article_collapse(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_str_t *dst, const u_char *p, size_t n,
    size_t extra)
{
    size_t   i, len;
    u_char  *d;
    int      space;

    dst->len = 0;
    dst->data = NULL;

    d = ngx_http_clinic_article_alloc(ctx, n + extra + 1);
    if (d == NULL) {
        return;
    }

    len = 0;
    space = 0;

    for (i = 0; i < n; i++) {
        if (ngx_http_clinic_article_space(p[i])) {
            space = 1;
            continue;
        }

        if (space && len) {
            d[len++] = ' ';
        }

        space = 0;
        d[len++] = p[i];
    }

    d[len] = '\0';
    dst->len = len;
    dst->data = d;
}


/*
 * Formats into a buffer on the stack first: warnings quote at most EXCERPT
 * bytes of the article, so nearly all fit and are formatted only once.
 */

void
ngx_http_clinic_article_warn(ngx_http_clinic_article_ctx_t *ctx,
    const char *fmt, ...)
{
    int                             n;
    char                            buf[NGX_HTTP_CLINIC_ARTICLE_WARN_LEN];
    va_list                         args;
    ngx_http_clinic_article_str_t  *w;

    va_start(args, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    if (n < 0) {
        return;
    }

    w = ngx_http_clinic_article_push(ctx, &ctx->warnings,
                                     sizeof(ngx_http_clinic_article_str_t));
    if (w == NULL) {
        return;
    }

    w->data = ngx_http_clinic_article_alloc(ctx, (size_t) n + 1);
    if (w->data == NULL) {
        return;
    }

    if ((size_t) n < sizeof(buf)) {
        memcpy(w->data, buf, (size_t) n + 1);

    } else {
        va_start(args, fmt);
        vsnprintf((char *) w->data, (size_t) n + 1, fmt, args);
        va_end(args);
    }

    w->len = n;
}


/* how much of a value to quote in a warning, on a character boundary */

int
ngx_http_clinic_article_excerpt(const u_char *p, size_t n)
{
    if (n <= NGX_HTTP_CLINIC_ARTICLE_EXCERPT) {
        return (int) n;
    }

    n = NGX_HTTP_CLINIC_ARTICLE_EXCERPT;

    while (n && (p[n] & 0xc0) == 0x80) {
        n--;
    }

    return (int) n;
}


/* the length of an opening or closing quote at p, or 0 */

size_t
ngx_http_clinic_article_quote_after(const u_char *p, const u_char *end)
{
    if (p < end && (*p == '"' || *p == '\'')) {
        return 1;
    }

    if (end - p >= 3 && p[0] == 0xe2 && p[1] == 0x80
        && p[2] >= 0x98 && p[2] <= 0x9d && p[2] != 0x9a && p[2] != 0x9b)
    {
        /* U+2018 U+2019 U+201C U+201D */
        return 3;
    }

    if (end - p >= 2 && p[0] == 0xc2 && (p[1] == 0xab || p[1] == 0xbb)) {
        return 2;
    }

    return 0;
}


/* the length of a quote (and, with closers, a ")" or "]") ending at p */

size_t
ngx_http_clinic_article_quote_before(const u_char *start, const u_char *p,
    unsigned closers)
{
    if (p - start >= 1) {
        if (p[-1] == '"' || p[-1] == '\'') {
            return 1;
        }

        if (closers && (p[-1] == ')' || p[-1] == ']')) {
            return 1;
        }
    }

    if (p - start >= 3
        && ngx_http_clinic_article_quote_after(p - 3, p) == 3)
    {
        return 3;
    }

    if (p - start >= 2
        && ngx_http_clinic_article_quote_after(p - 2, p) == 2)
    {
        return 2;
    }

    return 0;
}


/* the first paragraph with text becomes the summary */

void
ngx_http_clinic_article_summary_end(ngx_http_clinic_article_ctx_t *ctx)
{
    size_t  i;

    if (!ctx->summary_p) {
        return;
    }

    ctx->summary_p = 0;
    ctx->capture = 0;

    for (i = 0; i < ctx->plain.len; i++) {
        if (!ngx_http_clinic_article_space(ctx->plain.data[i])) {
            ngx_http_clinic_article_cut(ctx, &ctx->art->summary,
                                        ctx->plain.data, ctx->plain.len);
            ctx->has_summary = 1;
            return;
        }
    }
}

void
ngx_http_clinic_article_emit_text(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t n)
{
    if (ctx->render) {
        ngx_http_clinic_article_append_escaped(ctx, &ctx->html, p, n);
    }

    if (ctx->capture) {
        ngx_http_clinic_article_append(ctx, &ctx->plain, p, n);
    }
}


/* the summary */

void
ngx_http_clinic_article_cut(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_str_t *out, const u_char *p, size_t n)
{
    size_t   lim, cut, i, chars;
    u_char  *d, c;

    /* 3 spare bytes for the ellipsis */
    ngx_http_clinic_article_collapse(ctx, out, p, n, 3);

    d = out->data;

    if (d == NULL
        || ngx_http_clinic_text_utf8_chars(d, out->len)
           <= NGX_HTTP_CLINIC_ARTICLE_SUMMARY_MAX)
    {
        return;
    }

    /* lim: where the character after the first SUMMARY_MAX starts */

    chars = 0;

    for (lim = 0; lim < out->len; lim++) {
        if ((d[lim] & 0xc0) != 0x80
            && chars++ == NGX_HTTP_CLINIC_ARTICLE_SUMMARY_MAX)
        {
            break;
        }
    }

    cut = lim;

    if (d[lim] != ' ') {

        for (i = lim; i > 0 && d[i - 1] != ' '; i--) {
            /* void */
        }

        /* a word boundary, unless it would lose more than half */

        if (i > 0
            && ngx_http_clinic_text_utf8_chars(d, i - 1)
               >= NGX_HTTP_CLINIC_ARTICLE_SUMMARY_MAX / 2)
        {
            cut = i - 1;
        }
    }

    while (cut > 0) {
        c = d[cut - 1];

        if (c == ' ' || c == ',' || c == ';' || c == ':' || c == '.'
            || c == '-')
        {
            cut--;

        } else if (cut >= 3 && d[cut - 3] == 0xe2 && d[cut - 2] == 0x80
                   && (d[cut - 1] == 0x93 || d[cut - 1] == 0x94))
        {
            /* U+2013, U+2014 */
            cut -= 3;

        } else {
            break;
        }
    }

    if (cut == 0) {
        cut = lim;
    }

    memcpy(d + cut, "\xe2\x80\xa6", 3);
    out->len = cut + 3;
    d[out->len] = '\0';
}
