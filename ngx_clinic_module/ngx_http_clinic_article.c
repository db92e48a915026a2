
/*
 * Treatment articles: see ngx_http_clinic_article.h for the rules, and
 * docs/content-format.md.  This file is the public API, the input checks,
 * the front matter and the copywriter's plain-text format; the Markdown
 * format is in ngx_http_clinic_markdown.c, [LINK] resolution in
 * ngx_http_clinic_links.c, the shared parse context in
 * ngx_http_clinic_article_ctx.c.
 */


#include <stdio.h>
#include <string.h>

#include "ngx_http_clinic_article.h"
#include "ngx_http_clinic_article_ctx.h"
#include "ngx_http_clinic_links.h"
#include "ngx_http_clinic_markdown.h"


#define NGX_HTTP_CLINIC_ARTICLE_FM_TITLE     0x01
#define NGX_HTTP_CLINIC_ARTICLE_FM_SUMMARY   0x02
#define NGX_HTTP_CLINIC_ARTICLE_FM_ALIASES   0x04
#define NGX_HTTP_CLINIC_ARTICLE_FM_SLUG      0x08
#define NGX_HTTP_CLINIC_ARTICLE_FM_REDIRECT  0x10
#define NGX_HTTP_CLINIC_ARTICLE_FM_REMOVED   0x20

/* the longest front matter key, "redirect_from", and its NUL */
#define NGX_HTTP_CLINIC_ARTICLE_FM_KEY_MAX   14


static ngx_http_clinic_article_err_t ngx_http_clinic_article_parse(
    const u_char *src, size_t len, ngx_http_clinic_article_format_t format,
    const ngx_http_clinic_article_str_t *slug,
    const ngx_http_clinic_article_links_t *links,
    const ngx_http_clinic_article_str_t *prefix,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_article_t *art,
    unsigned render);
static ngx_http_clinic_article_err_t ngx_http_clinic_article_prepare(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *src, size_t len,
    const u_char **body, size_t *blen);
static void ngx_http_clinic_article_finish(ngx_http_clinic_article_ctx_t *ctx);

static const u_char *ngx_http_clinic_article_eol(const u_char *p,
    const u_char *end, const u_char **next);
static void ngx_http_clinic_article_trim(const u_char **s, const u_char **e);
static int ngx_http_clinic_article_blank(const u_char *p, const u_char *end);
static size_t ngx_http_clinic_article_front_matter(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *p, size_t len);
static void ngx_http_clinic_article_fm_value(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *key, size_t klen, const u_char *v, size_t vlen,
    size_t line);
static void ngx_http_clinic_article_fm_list(
    ngx_http_clinic_article_ctx_t *ctx, ngx_http_clinic_article_array_t *arr,
    const u_char *v, size_t vlen, size_t line);
static void ngx_http_clinic_article_fm_removed(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *v, size_t vlen,
    size_t line);

static void ngx_http_clinic_article_txt(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t len);
static void ngx_http_clinic_article_txt_line(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *s, const u_char *e,
    unsigned heading);
static int ngx_http_clinic_article_txt_heading(const u_char *s,
    const u_char *e);


ngx_http_clinic_article_format_t
ngx_http_clinic_article_name(const u_char *name, size_t len,
    ngx_http_clinic_article_str_t *slug)
{
    size_t                            n;
    ngx_http_clinic_article_format_t  format;

    if (len > 4 && memcmp(name + len - 4, ".txt", 4) == 0) {
        format = NGX_HTTP_CLINIC_ARTICLE_TXT;
        n = len - 4;

    } else if (len > 3 && memcmp(name + len - 3, ".md", 3) == 0) {
        format = NGX_HTTP_CLINIC_ARTICLE_MD;
        n = len - 3;

    } else {
        return NGX_HTTP_CLINIC_ARTICLE_UNKNOWN;
    }

    if (!ngx_http_clinic_text_slug_valid(name, n)) {
        return NGX_HTTP_CLINIC_ARTICLE_UNKNOWN;
    }

    slug->len = n;
    slug->data = (u_char *) name;

    return format;
}


ngx_http_clinic_article_err_t
ngx_http_clinic_article_meta(const u_char *src, size_t len,
    ngx_http_clinic_article_format_t format,
    const ngx_http_clinic_article_str_t *slug,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_article_t *art)
{
    return ngx_http_clinic_article_parse(src, len, format, slug, NULL, NULL,
                                         a, art, 0);
}


ngx_http_clinic_article_err_t
ngx_http_clinic_article_render(const u_char *src, size_t len,
    ngx_http_clinic_article_format_t format,
    const ngx_http_clinic_article_str_t *slug,
    const ngx_http_clinic_article_links_t *links,
    const ngx_http_clinic_article_str_t *prefix,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_article_t *art)
{
    return ngx_http_clinic_article_parse(src, len, format, slug, links,
                                         prefix, a, art, 1);
}


ngx_http_clinic_article_err_t
ngx_http_clinic_article_summary(const u_char *text, size_t len,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_article_str_t *out)
{
    ngx_http_clinic_article_ctx_t  ctx;

    memset(&ctx, 0, sizeof(ngx_http_clinic_article_ctx_t));
    ctx.alloc = a;

    ngx_http_clinic_article_cut(&ctx, out, text, len);

    return ctx.nomem ? NGX_HTTP_CLINIC_ARTICLE_ENOMEM
                     : NGX_HTTP_CLINIC_ARTICLE_OK;
}


static ngx_http_clinic_article_err_t
ngx_http_clinic_article_parse(const u_char *src, size_t len,
    ngx_http_clinic_article_format_t format,
    const ngx_http_clinic_article_str_t *slug,
    const ngx_http_clinic_article_links_t *links,
    const ngx_http_clinic_article_str_t *prefix,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_article_t *art,
    unsigned render)
{
    size_t                          blen, off;
    const u_char                   *body;
    ngx_http_clinic_article_ctx_t   ctx;
    ngx_http_clinic_article_err_t   rc;

    memset(art, 0, sizeof(ngx_http_clinic_article_t));
    memset(&ctx, 0, sizeof(ngx_http_clinic_article_ctx_t));

    ctx.alloc = a;
    ctx.art = art;
    ctx.render = render;
    ctx.links = links;
    ctx.slug = (slug && slug->len) ? slug : NULL;
    ctx.prefix = prefix;

    rc = ngx_http_clinic_article_prepare(&ctx, src, len, &body, &blen);
    if (rc != NGX_HTTP_CLINIC_ARTICLE_OK) {
        return rc;
    }

    off = ngx_http_clinic_article_front_matter(&ctx, body, blen);

    if (format == NGX_HTTP_CLINIC_ARTICLE_MD) {
        ngx_http_clinic_article_md(&ctx, body + off, blen - off);

    } else {
        ngx_http_clinic_article_txt(&ctx, body + off, blen - off);
    }

    ngx_http_clinic_article_finish(&ctx);

    return ctx.nomem ? NGX_HTTP_CLINIC_ARTICLE_ENOMEM
                     : NGX_HTTP_CLINIC_ARTICLE_OK;
}


/* bounds, BOM, UTF-8 and line endings: the rest sees valid UTF-8 and LF */

static ngx_http_clinic_article_err_t
ngx_http_clinic_article_prepare(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *src, size_t len, const u_char **body, size_t *blen)
{
    char           msg[80];
    size_t         bom, bad, i;
    u_char        *d, *p;
    const u_char  *s;

    if (len > NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE) {
        snprintf(msg, sizeof(msg), "file is larger than %d bytes",
                 NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE);
        goto invalid;
    }

    bom = 0;

    if (len >= 3 && src[0] == 0xef && src[1] == 0xbb && src[2] == 0xbf) {
        bom = 3;
    }

    s = src + bom;
    len -= bom;

    bad = ngx_http_clinic_text_utf8_check(s, len);

    if (bad < len) {
        snprintf(msg, sizeof(msg), "%s at byte %lu",
                 s[bad] ? "invalid UTF-8" : "NUL character",
                 (unsigned long) (bad + bom));
        goto invalid;
    }

    if (len == 0 || memchr(s, '\r', len) == NULL) {
        *body = s;
        *blen = len;
        return NGX_HTTP_CLINIC_ARTICLE_OK;
    }

    d = ngx_http_clinic_article_alloc(ctx, len);
    if (d == NULL) {
        return NGX_HTTP_CLINIC_ARTICLE_ENOMEM;
    }

    p = d;

    for (i = 0; i < len; i++) {
        if (s[i] != '\r') {
            *p++ = s[i];
            continue;
        }

        *p++ = '\n';

        if (i + 1 < len && s[i + 1] == '\n') {
            i++;
        }
    }

    *body = d;
    *blen = p - d;

    return NGX_HTTP_CLINIC_ARTICLE_OK;

invalid:

    ngx_http_clinic_article_dup(ctx, &ctx->art->error, (u_char *) msg,
                                strlen(msg));

    return ctx->nomem ? NGX_HTTP_CLINIC_ARTICLE_ENOMEM
                      : NGX_HTTP_CLINIC_ARTICLE_EINVALID;
}


static void
ngx_http_clinic_article_finish(ngx_http_clinic_article_ctx_t *ctx)
{
    ngx_http_clinic_article_t  *art;

    art = ctx->art;

    if (!ctx->has_title) {
        if (ctx->slug) {
            ngx_http_clinic_article_warn(ctx, "no title, the slug is used");
            ngx_http_clinic_article_dup(ctx, &art->title, ctx->slug->data,
                                        ctx->slug->len);

        } else {
            ngx_http_clinic_article_warn(ctx, "no title");
        }
    }

    if (art->title.data == NULL) {
        ngx_http_clinic_article_dup(ctx, &art->title, NULL, 0);
    }

    if (art->summary.data == NULL) {
        ngx_http_clinic_article_dup(ctx, &art->summary, NULL, 0);
    }

    if (ctx->render) {

        if (ngx_http_clinic_article_reserve(ctx, &ctx->html, 0)) {
            ctx->html.data[ctx->html.len] = '\0';
            art->html.data = ctx->html.data;
            art->html.len = ctx->html.len;
        }
    }

    art->aliases = ctx->aliases.elts;
    art->naliases = ctx->aliases.nelts;
    art->redirect_from = ctx->redirect_from.elts;
    art->nredirect_from = ctx->redirect_from.nelts;
    art->warnings = ctx->warnings.elts;
    art->nwarnings = ctx->warnings.nelts;
    art->headings = ctx->headings.elts;
    art->nheadings = ctx->headings.nelts;
    art->links = ctx->links_out.elts;
    art->nlinks = ctx->links_out.nelts;
    art->unresolved = ctx->unresolved.elts;
    art->nunresolved = ctx->unresolved.nelts;
}


/* lines */

static const u_char *
ngx_http_clinic_article_eol(const u_char *p, const u_char *end,
    const u_char **next)
{
    const u_char  *eol;

    eol = memchr(p, '\n', end - p);

    if (eol == NULL) {
        *next = end;
        return end;
    }

    *next = eol + 1;
    return eol;
}


static void
ngx_http_clinic_article_trim(const u_char **s, const u_char **e)
{
    while (*s < *e && ngx_http_clinic_article_space(**s)) {
        (*s)++;
    }

    while (*e > *s && ngx_http_clinic_article_space((*e)[-1])) {
        (*e)--;
    }
}


/* 1 if the line starting at p is empty or whitespace */

static int
ngx_http_clinic_article_blank(const u_char *p, const u_char *end)
{
    for ( /* void */ ; p < end && *p != '\n'; p++) {
        if (!ngx_http_clinic_article_space(*p)) {
            return 0;
        }
    }

    return 1;
}


/* front matter: returns where the body starts */

static size_t
ngx_http_clinic_article_front_matter(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t len)
{
    size_t         lineno;
    const u_char  *end, *line, *next, *s, *e, *k, *v;

    end = p + len;

    s = p;
    e = ngx_http_clinic_article_eol(p, end, &next);

    while (e > s && ngx_http_clinic_article_space(e[-1])) {
        e--;
    }

    if (e - s != 3 || memcmp(s, "---", 3) != 0) {
        return 0;
    }

    lineno = 1;

    for (line = next; line < end; line = next) {
        lineno++;

        s = line;
        e = ngx_http_clinic_article_eol(line, end, &next);
        ngx_http_clinic_article_trim(&s, &e);

        if (e - s == 3 && memcmp(s, "---", 3) == 0) {
            return next - p;
        }

        if (s == e) {
            continue;
        }

        k = s;

        if (ngx_http_clinic_article_alpha(*s)) {
            while (s < e && (ngx_http_clinic_article_alpha(*s)
                             || ngx_http_clinic_article_digit(*s)
                             || *s == '_' || *s == '-'))
            {
                s++;
            }
        }

        v = s;

        while (v < e && (*v == ' ' || *v == '\t')) {
            v++;
        }

        if (s == k || v == e || *v != ':') {
            ngx_http_clinic_article_warn(ctx,
                             "line %lu: front matter is not closed by \"---\"",
                             (unsigned long) lineno);
            return line - p;
        }

        v++;

        while (v < e && (*v == ' ' || *v == '\t')) {
            v++;
        }

        ngx_http_clinic_article_fm_value(ctx, k, s - k, v, e - v, lineno);
    }

    ngx_http_clinic_article_warn(ctx, "front matter is not closed by \"---\"");

    return len;
}


static void
ngx_http_clinic_article_fm_value(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *key, size_t klen, const u_char *v, size_t vlen,
    size_t line)
{
    size_t                      i;
    u_char                      name[NGX_HTTP_CLINIC_ARTICLE_FM_KEY_MAX];
    unsigned                    bit;
    ngx_http_clinic_article_t  *art;

    art = ctx->art;

    if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
        v++;
        vlen -= 2;
    }

    bit = 0;

    if (klen < sizeof(name)) {
        for (i = 0; i < klen; i++) {
            name[i] = ngx_http_clinic_article_lower(key[i]);
        }

        name[klen] = '\0';

        if (strcmp((char *) name, "title") == 0) {
            bit = NGX_HTTP_CLINIC_ARTICLE_FM_TITLE;

        } else if (strcmp((char *) name, "summary") == 0) {
            bit = NGX_HTTP_CLINIC_ARTICLE_FM_SUMMARY;

        } else if (strcmp((char *) name, "aliases") == 0) {
            bit = NGX_HTTP_CLINIC_ARTICLE_FM_ALIASES;

        } else if (strcmp((char *) name, "slug") == 0) {
            bit = NGX_HTTP_CLINIC_ARTICLE_FM_SLUG;

        } else if (strcmp((char *) name, "redirect_from") == 0) {
            bit = NGX_HTTP_CLINIC_ARTICLE_FM_REDIRECT;

        } else if (strcmp((char *) name, "removed") == 0) {
            bit = NGX_HTTP_CLINIC_ARTICLE_FM_REMOVED;
        }
    }

    if (bit == 0) {
        ngx_http_clinic_article_warn(ctx,
                                "line %lu: unknown front matter key \"%.*s\"",
                                (unsigned long) line,
                                ngx_http_clinic_article_excerpt(key, klen),
                                key);
        return;
    }

    if (ctx->fm_seen & bit) {
        ngx_http_clinic_article_warn(ctx,
                 "line %lu: repeated front matter key \"%.*s\", the last wins",
                 (unsigned long) line, (int) klen, key);
    }

    ctx->fm_seen |= bit;

    switch (bit) {

    case NGX_HTTP_CLINIC_ARTICLE_FM_TITLE:
    case NGX_HTTP_CLINIC_ARTICLE_FM_SUMMARY:

        if (vlen == 0) {
            ngx_http_clinic_article_warn(ctx, "line %lu: empty %.*s",
                                         (unsigned long) line, (int) klen,
                                         key);
            return;
        }

        if (bit == NGX_HTTP_CLINIC_ARTICLE_FM_TITLE) {
            ngx_http_clinic_article_dup(ctx, &art->title, v, vlen);
            ctx->has_title = 1;

        } else {
            ngx_http_clinic_article_dup(ctx, &art->summary, v, vlen);
            ctx->has_summary = 1;
        }

        return;

    case NGX_HTTP_CLINIC_ARTICLE_FM_ALIASES:
        ngx_http_clinic_article_fm_list(ctx, &ctx->aliases, v, vlen, 0);
        return;

    case NGX_HTTP_CLINIC_ARTICLE_FM_REDIRECT:
        ngx_http_clinic_article_fm_list(ctx, &ctx->redirect_from, v, vlen,
                                        line);
        return;

    case NGX_HTTP_CLINIC_ARTICLE_FM_REMOVED:
        ngx_http_clinic_article_fm_removed(ctx, v, vlen, line);
        return;

    default: /* NGX_HTTP_CLINIC_ARTICLE_FM_SLUG */

        if (ctx->slug
            && (vlen != ctx->slug->len
                || memcmp(v, ctx->slug->data, vlen) != 0))
        {
            ngx_http_clinic_article_warn(ctx,
                         "line %lu: slug \"%.*s\" is ignored, the file name "
                         "gives \"%.*s\"", (unsigned long) line,
                         ngx_http_clinic_article_excerpt(v, vlen), v,
                         (int) ctx->slug->len, ctx->slug->data);
        }

        return;
    }
}


/*
 * A comma-separated list: aliases (line 0), or redirect_from, whose items
 * must be slugs (line: for the warning about one that is not)
 */

static void
ngx_http_clinic_article_fm_list(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_array_t *arr, const u_char *v, size_t vlen,
    size_t line)
{
    const u_char                   *end, *s, *e;
    ngx_http_clinic_article_str_t  *item;

    arr->nelts = 0;
    end = v + vlen;

    while (v < end) {
        s = v;
        e = memchr(v, ',', end - v);

        if (e == NULL) {
            e = end;
        }

        v = (e < end) ? e + 1 : end;

        ngx_http_clinic_article_trim(&s, &e);

        if (s == e) {
            continue;
        }

        if (line && !ngx_http_clinic_text_slug_valid(s, e - s)) {
            ngx_http_clinic_article_warn(ctx,
                         "line %lu: redirect_from \"%.*s\" is not a slug "
                         "(a-z, 0-9 and \"-\"), left out",
                         (unsigned long) line,
                         ngx_http_clinic_article_excerpt(s, e - s), s);
            continue;
        }

        item = ngx_http_clinic_article_push(ctx, arr,
                                       sizeof(ngx_http_clinic_article_str_t));
        if (item == NULL) {
            return;
        }

        ngx_http_clinic_article_dup(ctx, item, s, e - s);
    }
}


/* "removed: yes": the article is gone (410), its other keys do not count */

static void
ngx_http_clinic_article_fm_removed(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *v, size_t vlen, size_t line)
{
    size_t         i;
    u_char         word[6];
    const char   **w;

    static const char  *yes[] = { "yes", "true", "1", NULL };
    static const char  *no[] = { "no", "false", "0", NULL };

    ctx->art->removed = 0;

    if (vlen < sizeof(word)) {
        for (i = 0; i < vlen; i++) {
            word[i] = ngx_http_clinic_article_lower(v[i]);
        }

        word[vlen] = '\0';

        for (w = yes; *w; w++) {
            if (strcmp((char *) word, *w) == 0) {
                ctx->art->removed = 1;
                return;
            }
        }

        for (w = no; *w; w++) {
            if (strcmp((char *) word, *w) == 0) {
                return;
            }
        }
    }

    ngx_http_clinic_article_warn(ctx,
                     "line %lu: removed \"%.*s\" is neither yes nor no, "
                     "the article is not removed", (unsigned long) line,
                     ngx_http_clinic_article_excerpt(v, vlen), v);
}


/* the copywriter's format */

static void
ngx_http_clinic_article_txt(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t len)
{
    unsigned       prev_blank, next_blank, heading;
    const u_char  *end, *line, *next, *s, *e;

    end = p + len;

    /* the start of the body counts as a blank line */
    prev_blank = 1;

    for (line = p; line < end && !ctx->nomem; line = next) {
        s = line;
        e = ngx_http_clinic_article_eol(line, end, &next);
        ngx_http_clinic_article_trim(&s, &e);

        if (s == e) {
            prev_blank = 1;
            continue;
        }

        if (!ctx->has_title) {
            ngx_http_clinic_article_dup(ctx, &ctx->art->title, s, e - s);
            ctx->has_title = 1;
            prev_blank = 1;
            continue;
        }

        /* meta() needs nothing more from the body */
        if (!ctx->render && ctx->has_summary) {
            break;
        }

        next_blank = ngx_http_clinic_article_blank(next, end);

        heading = prev_blank && next_blank
                  && ngx_http_clinic_article_txt_heading(s, e);

        prev_blank = 0;

        /* meta() only needs the first paragraph */
        if (!ctx->render && heading) {
            continue;
        }

        ngx_http_clinic_article_txt_line(ctx, s, e, heading);
    }
}


/* one line as <h2> or <p>; a line that only held markers is left out */

static void
ngx_http_clinic_article_txt_line(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *s, const u_char *e, unsigned heading)
{
    size_t                              open;
    ngx_http_clinic_article_heading_t  *h;

    open = ctx->html.len;

    if (heading) {
        ngx_http_clinic_article_html_lit(ctx, "<h2>");
        ctx->capture = 1;
        ctx->plain.len = 0;

    } else {
        ngx_http_clinic_article_html_lit(ctx, "<p>");

        if (!ctx->has_summary) {
            ctx->capture = 1;
            ctx->summary_p = 1;
            ctx->plain.len = 0;
        }
    }

    ngx_http_clinic_article_text(ctx, s, e - s, 1);

    if (ctx->render && ctx->html.len == open + (heading ? 4 : 3)) {
        ctx->html.len = open;
        ctx->capture = 0;
        ctx->summary_p = 0;
        return;
    }

    if (!heading) {
        ngx_http_clinic_article_html_lit(ctx, "</p>\n");
        ngx_http_clinic_article_summary_end(ctx);
        return;
    }

    ngx_http_clinic_article_html_lit(ctx, "</h2>\n");
    ctx->capture = 0;

    h = ngx_http_clinic_article_push(ctx, &ctx->headings,
                                   sizeof(ngx_http_clinic_article_heading_t));
    if (h) {
        h->level = 2;
        ngx_http_clinic_article_collapse(ctx, &h->text, ctx->plain.data,
                                         ctx->plain.len, 0);
    }
}


/* a line standing alone: short and not ending like a sentence or clause */

static int
ngx_http_clinic_article_txt_heading(const u_char *s, const u_char *e)
{
    size_t  n;

    /* a character takes 1 to 4 bytes: most lines need no counting */

    if ((size_t) (e - s) > 4 * NGX_HTTP_CLINIC_ARTICLE_HEADING_MAX) {
        return 0;
    }

    if ((size_t) (e - s) > NGX_HTTP_CLINIC_ARTICLE_HEADING_MAX
        && ngx_http_clinic_text_utf8_chars(s, e - s)
           > NGX_HTTP_CLINIC_ARTICLE_HEADING_MAX)
    {
        return 0;
    }

    while ((n = ngx_http_clinic_article_quote_before(s, e, 1)) != 0) {
        e -= n;
    }

    if (e == s) {
        return 1;
    }

    switch (e[-1]) {
    case '.':
    case '!':
    case ',':
    case ';':
    case ':':
        return 0;
    default:
        return 1;
    }
}
