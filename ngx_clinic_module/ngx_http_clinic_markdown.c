
/*
 * The Markdown format (docs/content-format.md), pure C: an adapter from
 * md4c's parse events to the parser's own HTML, with URLs and entities
 * decoded and checked, spans md4c leaves open closed, and text runs
 * handed to the [LINK] resolver.  Calls ngx_http_clinic_links.c and the
 * parse context.
 */


#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <md4c.h>

#include "ngx_http_clinic_markdown.h"
#include "ngx_http_clinic_links.h"


/*
 * md4c 0.4.8 reads past the end of its input ("[](" at the end of a file):
 * it gets a copy followed by this many newlines, and text it reports must
 * lie inside that copy, except its own short constant strings.
 */
#define NGX_HTTP_CLINIC_ARTICLE_MD_PAD       16
#define NGX_HTTP_CLINIC_ARTICLE_MD_CONST     16

/* CommonMark plus tables and ~~strikethrough~~; raw HTML stays text */
#define NGX_HTTP_CLINIC_ARTICLE_MD_FLAGS                                      \
    (MD_FLAG_NOHTML | MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH)


typedef struct {
    const char                      *name;
    const char                      *utf8;
} ngx_http_clinic_article_entity_t;


/* an open Markdown span and whether its closing tag is due */
typedef struct {
    u_char                           type;
    u_char                           emitted;
} ngx_http_clinic_article_span_t;


static size_t ngx_http_clinic_article_utf8_encode(u_char *dst, uint32_t cp);
static int ngx_http_clinic_article_md_enter_block(MD_BLOCKTYPE type,
    void *detail, void *data);
static int ngx_http_clinic_article_md_leave_block(MD_BLOCKTYPE type,
    void *detail, void *data);
static int ngx_http_clinic_article_md_enter_span(MD_SPANTYPE type,
    void *detail, void *data);
static int ngx_http_clinic_article_md_leave_span(MD_SPANTYPE type,
    void *detail, void *data);
static int ngx_http_clinic_article_md_text(MD_TEXTTYPE type,
    const MD_CHAR *text, MD_SIZE size, void *data);
static int ngx_http_clinic_article_md_inside(
    ngx_http_clinic_article_ctx_t *ctx, const MD_CHAR *text, size_t size);
static void ngx_http_clinic_article_md_flush(
    ngx_http_clinic_article_ctx_t *ctx);
static void ngx_http_clinic_article_md_block(
    ngx_http_clinic_article_ctx_t *ctx);
static void ngx_http_clinic_article_md_close(
    ngx_http_clinic_article_ctx_t *ctx, size_t keep);
static void ngx_http_clinic_article_md_heading(
    ngx_http_clinic_article_ctx_t *ctx);
static void ngx_http_clinic_article_md_image(
    ngx_http_clinic_article_ctx_t *ctx);
static int ngx_http_clinic_article_md_url(ngx_http_clinic_article_ctx_t *ctx,
    const MD_ATTRIBUTE *attr, const char *what,
    ngx_http_clinic_article_str_t *url);
static void ngx_http_clinic_article_md_attr(ngx_http_clinic_article_ctx_t *ctx,
    const MD_ATTRIBUTE *attr, ngx_http_clinic_article_str_t *out);
static void ngx_http_clinic_article_md_entity(
    ngx_http_clinic_article_ctx_t *ctx, ngx_http_clinic_article_buf_t *b,
    const u_char *p, size_t n);
static int ngx_http_clinic_article_scheme_allowed(const u_char *p, size_t n);
static void ngx_http_clinic_article_html_url(ngx_http_clinic_article_ctx_t *ctx,
    const ngx_http_clinic_article_str_t *url);


/* named entities decoded in Markdown; others are shown as written */
static const ngx_http_clinic_article_entity_t
    ngx_http_clinic_article_entities[] =
{
    { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
    { "apos", "'" }, { "nbsp", "\xc2\xa0" }, { "shy", "\xc2\xad" },
    { "ndash", "\xe2\x80\x93" }, { "mdash", "\xe2\x80\x94" },
    { "hellip", "\xe2\x80\xa6" }, { "lsquo", "\xe2\x80\x98" },
    { "rsquo", "\xe2\x80\x99" }, { "ldquo", "\xe2\x80\x9c" },
    { "rdquo", "\xe2\x80\x9d" }, { "sbquo", "\xe2\x80\x9a" },
    { "bdquo", "\xe2\x80\x9e" }, { "laquo", "\xc2\xab" },
    { "raquo", "\xc2\xbb" }, { "bull", "\xe2\x80\xa2" },
    { "middot", "\xc2\xb7" }, { "copy", "\xc2\xa9" }, { "reg", "\xc2\xae" },
    { "trade", "\xe2\x84\xa2" }, { "deg", "\xc2\xb0" },
    { "plusmn", "\xc2\xb1" }, { "times", "\xc3\x97" },
    { "divide", "\xc3\xb7" }, { "minus", "\xe2\x88\x92" },
    { "frac12", "\xc2\xbd" }, { "frac14", "\xc2\xbc" },
    { "frac34", "\xc2\xbe" }, { "micro", "\xc2\xb5" }, { "para", "\xc2\xb6" },
    { "sect", "\xc2\xa7" }, { "euro", "\xe2\x82\xac" },
    { "pound", "\xc2\xa3" }, { "cent", "\xc2\xa2" }, { "yen", "\xc2\xa5" },
    { "aacute", "\xc3\xa1" }, { "agrave", "\xc3\xa0" },
    { "acirc", "\xc3\xa2" }, { "auml", "\xc3\xa4" }, { "aring", "\xc3\xa5" },
    { "ccedil", "\xc3\xa7" }, { "eacute", "\xc3\xa9" },
    { "egrave", "\xc3\xa8" }, { "ecirc", "\xc3\xaa" }, { "euml", "\xc3\xab" },
    { "iacute", "\xc3\xad" }, { "iuml", "\xc3\xaf" },
    { "ntilde", "\xc3\xb1" }, { "oacute", "\xc3\xb3" },
    { "ouml", "\xc3\xb6" }, { "oslash", "\xc3\xb8" },
    { "uacute", "\xc3\xba" }, { "uuml", "\xc3\xbc" }, { "szlig", "\xc3\x9f" },
    { "Auml", "\xc3\x84" }, { "Eacute", "\xc3\x89" }, { "Ouml", "\xc3\x96" },
    { "Uuml", "\xc3\x9c" },
    { NULL, NULL }
};


static size_t
ngx_http_clinic_article_utf8_encode(u_char *dst, uint32_t cp)
{
    if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
        cp = 0xfffd;
    }

    if (cp < 0x80) {
        dst[0] = (u_char) cp;
        return 1;
    }

    if (cp < 0x800) {
        dst[0] = (u_char) (0xc0 | (cp >> 6));
        dst[1] = (u_char) (0x80 | (cp & 0x3f));
        return 2;
    }

    if (cp < 0x10000) {
        dst[0] = (u_char) (0xe0 | (cp >> 12));
        dst[1] = (u_char) (0x80 | ((cp >> 6) & 0x3f));
        dst[2] = (u_char) (0x80 | (cp & 0x3f));
        return 3;
    }

    dst[0] = (u_char) (0xf0 | (cp >> 18));
    dst[1] = (u_char) (0x80 | ((cp >> 12) & 0x3f));
    dst[2] = (u_char) (0x80 | ((cp >> 6) & 0x3f));
    dst[3] = (u_char) (0x80 | (cp & 0x3f));
    return 4;
}

/*
 * Markdown.  md4c's own HTML renderer (md4c-html) is not used: it passes
 * javascript: URLs through and cannot resolve [LINK].
 */

void
ngx_http_clinic_article_md(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t len)
{
    u_char     *copy;
    MD_PARSER   parser;

    copy = ngx_http_clinic_article_alloc(ctx,
                                         len + NGX_HTTP_CLINIC_ARTICLE_MD_PAD);
    if (copy == NULL) {
        return;
    }

    if (len) {
        memcpy(copy, p, len);
    }

    memset(copy + len, '\n', NGX_HTTP_CLINIC_ARTICLE_MD_PAD);

    ctx->md_start = copy;
    ctx->md_size = len + NGX_HTTP_CLINIC_ARTICLE_MD_PAD;

    memset(&parser, 0, sizeof(MD_PARSER));

    parser.flags = NGX_HTTP_CLINIC_ARTICLE_MD_FLAGS;
    parser.enter_block = ngx_http_clinic_article_md_enter_block;
    parser.leave_block = ngx_http_clinic_article_md_leave_block;
    parser.enter_span = ngx_http_clinic_article_md_enter_span;
    parser.leave_span = ngx_http_clinic_article_md_leave_span;
    parser.text = ngx_http_clinic_article_md_text;

    /* non-zero: md4c's own malloc() failed, or a callback saw nomem */
    if (md_parse((const MD_CHAR *) copy, (MD_SIZE) len, &parser, ctx) != 0) {
        ctx->nomem = 1;
    }
}


static int
ngx_http_clinic_article_md_enter_block(MD_BLOCKTYPE type, void *detail,
    void *data)
{
    int                             n;
    char                            buf[64];
    const char                     *align;
    MD_BLOCK_TD_DETAIL             *td;
    ngx_http_clinic_article_ctx_t  *ctx;

    ctx = data;

    ngx_http_clinic_article_md_block(ctx);

    switch (type) {

    case MD_BLOCK_QUOTE:
        ngx_http_clinic_article_html_lit(ctx, "<blockquote>\n");
        break;

    case MD_BLOCK_UL:
        ngx_http_clinic_article_html_lit(ctx, "<ul>\n");
        break;

    case MD_BLOCK_OL:
        n = snprintf(buf, sizeof(buf), "<ol start=\"%u\">\n",
                     ((MD_BLOCK_OL_DETAIL *) detail)->start);

        if (((MD_BLOCK_OL_DETAIL *) detail)->start == 1) {
            ngx_http_clinic_article_html_lit(ctx, "<ol>\n");

        } else if (n > 0 && (size_t) n < sizeof(buf)) {
            ngx_http_clinic_article_html(ctx, (u_char *) buf, n);
        }

        break;

    case MD_BLOCK_LI:
        ngx_http_clinic_article_html_lit(ctx, "<li>");
        break;

    case MD_BLOCK_HR:
        ngx_http_clinic_article_html_lit(ctx, "<hr>\n");
        break;

    case MD_BLOCK_H:
        ctx->src_level = ((MD_BLOCK_H_DETAIL *) detail)->level;
        ctx->level = ctx->src_level < 2 ? 2
                     : (ctx->src_level > 6 ? 6 : ctx->src_level);

        ctx->h_html = ctx->html.len;
        ctx->h_links = ctx->links_out.nelts;
        ctx->h_unresolved = ctx->unresolved.nelts;

        ctx->capture = 1;
        ctx->summary_p = 0;
        ctx->plain.len = 0;

        buf[0] = '<';
        buf[1] = 'h';
        buf[2] = (char) ('0' + ctx->level);
        buf[3] = '>';
        ngx_http_clinic_article_html(ctx, (u_char *) buf, 4);
        break;

    case MD_BLOCK_CODE:
    case MD_BLOCK_HTML:
        ngx_http_clinic_article_html_lit(ctx, "<pre><code>");
        ctx->in_code = 1;
        break;

    case MD_BLOCK_P:
        ngx_http_clinic_article_html_lit(ctx, "<p>");

        if (!ctx->has_summary && !ctx->capture) {
            ctx->capture = 1;
            ctx->summary_p = 1;
            ctx->plain.len = 0;
        }

        break;

    case MD_BLOCK_TABLE:
        ngx_http_clinic_article_html_lit(ctx, "<table>\n");
        break;

    case MD_BLOCK_THEAD:
        ngx_http_clinic_article_html_lit(ctx, "<thead>\n");
        break;

    case MD_BLOCK_TBODY:
        ngx_http_clinic_article_html_lit(ctx, "<tbody>\n");
        break;

    case MD_BLOCK_TR:
        ngx_http_clinic_article_html_lit(ctx, "<tr>\n");
        break;

    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
        td = detail;

        switch (td->align) {
        case MD_ALIGN_LEFT:   align = " align=\"left\">";   break;
        case MD_ALIGN_CENTER: align = " align=\"center\">"; break;
        case MD_ALIGN_RIGHT:  align = " align=\"right\">";  break;
        default:              align = ">";                  break;
        }

        if (type == MD_BLOCK_TH) {
            ngx_http_clinic_article_html_lit(ctx, "<th");

        } else {
            ngx_http_clinic_article_html_lit(ctx, "<td");
        }

        ngx_http_clinic_article_html(ctx, (const u_char *) align,
                                     strlen(align));
        break;

    default: /* MD_BLOCK_DOC */
        break;
    }

    return ctx->nomem;
}


static int
ngx_http_clinic_article_md_leave_block(MD_BLOCKTYPE type, void *detail,
    void *data)
{
    ngx_http_clinic_article_ctx_t  *ctx;

    (void) detail;

    ctx = data;

    ngx_http_clinic_article_md_block(ctx);

    switch (type) {

    case MD_BLOCK_QUOTE:
        ngx_http_clinic_article_html_lit(ctx, "</blockquote>\n");
        break;

    case MD_BLOCK_UL:
        ngx_http_clinic_article_html_lit(ctx, "</ul>\n");
        break;

    case MD_BLOCK_OL:
        ngx_http_clinic_article_html_lit(ctx, "</ol>\n");
        break;

    case MD_BLOCK_LI:
        ngx_http_clinic_article_html_lit(ctx, "</li>\n");
        break;

    case MD_BLOCK_H:
        ngx_http_clinic_article_md_heading(ctx);
        break;

    case MD_BLOCK_CODE:
    case MD_BLOCK_HTML:
        ngx_http_clinic_article_html_lit(ctx, "</code></pre>\n");
        ctx->in_code = 0;
        break;

    case MD_BLOCK_P:
        ngx_http_clinic_article_html_lit(ctx, "</p>\n");
        ngx_http_clinic_article_summary_end(ctx);
        break;

    case MD_BLOCK_TABLE:
        ngx_http_clinic_article_html_lit(ctx, "</table>\n");
        break;

    case MD_BLOCK_THEAD:
        ngx_http_clinic_article_html_lit(ctx, "</thead>\n");
        break;

    case MD_BLOCK_TBODY:
        ngx_http_clinic_article_html_lit(ctx, "</tbody>\n");
        break;

    case MD_BLOCK_TR:
        ngx_http_clinic_article_html_lit(ctx, "</tr>\n");
        break;

    case MD_BLOCK_TH:
        ngx_http_clinic_article_html_lit(ctx, "</th>\n");
        break;

    case MD_BLOCK_TD:
        ngx_http_clinic_article_html_lit(ctx, "</td>\n");
        break;

    default: /* MD_BLOCK_DOC, MD_BLOCK_HR */
        break;
    }

    return ctx->nomem;
}


static int
ngx_http_clinic_article_md_enter_span(MD_SPANTYPE type, void *detail,
    void *data)
{
    MD_SPAN_A_DETAIL                *a;
    MD_SPAN_IMG_DETAIL              *img;
    ngx_http_clinic_article_str_t    url, title;
    ngx_http_clinic_article_ctx_t   *ctx;
    ngx_http_clinic_article_span_t  *span;

    ctx = data;

    if (ctx->img_depth) {
        /* an image's description is only its alt text */
        ctx->img_depth += (type == MD_SPAN_IMG);
        return ctx->nomem;
    }

    ngx_http_clinic_article_md_flush(ctx);

    if (type == MD_SPAN_IMG) {
        img = detail;

        ctx->img_depth = 1;
        ctx->alt.len = 0;
        ctx->img_ok = ngx_http_clinic_article_md_url(ctx, &img->src, "image",
                                                     &ctx->img_src);
        ctx->img_title.len = 0;

        if (ctx->img_ok && img->title.size) {
            ngx_http_clinic_article_md_attr(ctx, &img->title,
                                            &ctx->img_title);
        }

        return ctx->nomem;
    }

    span = ngx_http_clinic_article_push(ctx, &ctx->spans,
                                      sizeof(ngx_http_clinic_article_span_t));
    if (span == NULL) {
        return 1;
    }

    span->type = (u_char) type;
    span->emitted = 1;

    switch (type) {

    case MD_SPAN_EM:
        ngx_http_clinic_article_html_lit(ctx, "<em>");
        break;

    case MD_SPAN_STRONG:
        ngx_http_clinic_article_html_lit(ctx, "<strong>");
        break;

    case MD_SPAN_DEL:
        ngx_http_clinic_article_html_lit(ctx, "<del>");
        break;

    case MD_SPAN_CODE:
        ngx_http_clinic_article_html_lit(ctx, "<code>");
        break;

    case MD_SPAN_A:
        a = detail;

        ctx->in_link++;

        if (!ngx_http_clinic_article_md_url(ctx, &a->href, "link", &url)) {
            span->emitted = 0;
            break;
        }

        ngx_http_clinic_article_html_lit(ctx, "<a href=\"");
        ngx_http_clinic_article_html_url(ctx, &url);
        ngx_http_clinic_article_html_lit(ctx, "\"");

        if (a->title.size) {
            ngx_http_clinic_article_md_attr(ctx, &a->title, &title);
            ngx_http_clinic_article_html_lit(ctx, " title=\"");

            if (ctx->render) {
                ngx_http_clinic_article_append_escaped(ctx, &ctx->html,
                                                       title.data, title.len);
            }

            ngx_http_clinic_article_html_lit(ctx, "\"");
        }

        ngx_http_clinic_article_html_lit(ctx, ">");
        break;

    default:
        span->emitted = 0;
        break;
    }

    return ctx->nomem;
}


static int
ngx_http_clinic_article_md_leave_span(MD_SPANTYPE type, void *detail,
    void *data)
{
    size_t                           i;
    ngx_http_clinic_article_ctx_t   *ctx;
    ngx_http_clinic_article_span_t  *spans;

    (void) detail;

    ctx = data;

    if (ctx->img_depth) {
        if (type == MD_SPAN_IMG && --ctx->img_depth == 0) {
            ngx_http_clinic_article_md_image(ctx);
        }

        return ctx->nomem;
    }

    ngx_http_clinic_article_md_flush(ctx);

    /* closes the innermost span of this type and any left open inside it */

    spans = ctx->spans.elts;

    for (i = ctx->spans.nelts; i > 0; i--) {
        if (spans[i - 1].type == (u_char) type) {
            ngx_http_clinic_article_md_close(ctx, i - 1);
            break;
        }
    }

    return ctx->nomem;
}


/*
 * md4c 0.4.8 can leave a span open ("*a [r](J*a)" enters <em> and never
 * leaves it), so every block event first closes what is still open.
 */

static void
ngx_http_clinic_article_md_block(ngx_http_clinic_article_ctx_t *ctx)
{
    if (ctx->img_depth) {
        ctx->img_depth = 0;
        ngx_http_clinic_article_md_image(ctx);
    }

    ngx_http_clinic_article_md_flush(ctx);
    ngx_http_clinic_article_md_close(ctx, 0);
}


static void
ngx_http_clinic_article_md_close(ngx_http_clinic_article_ctx_t *ctx,
    size_t keep)
{
    ngx_http_clinic_article_span_t  *span;

    while (ctx->spans.nelts > keep) {
        span = (ngx_http_clinic_article_span_t *) ctx->spans.elts
               + --ctx->spans.nelts;

        if (span->type == MD_SPAN_A) {
            ctx->in_link--;
        }

        if (!span->emitted) {
            continue;
        }

        switch (span->type) {

        case MD_SPAN_EM:
            ngx_http_clinic_article_html_lit(ctx, "</em>");
            break;

        case MD_SPAN_STRONG:
            ngx_http_clinic_article_html_lit(ctx, "</strong>");
            break;

        case MD_SPAN_DEL:
            ngx_http_clinic_article_html_lit(ctx, "</del>");
            break;

        case MD_SPAN_CODE:
            ngx_http_clinic_article_html_lit(ctx, "</code>");
            break;

        default: /* MD_SPAN_A */
            ngx_http_clinic_article_html_lit(ctx, "</a>");
            break;
        }
    }
}


static int
ngx_http_clinic_article_md_text(MD_TEXTTYPE type, const MD_CHAR *text,
    MD_SIZE size, void *data)
{
    const u_char                   *p;
    ngx_http_clinic_article_buf_t  *b;
    ngx_http_clinic_article_ctx_t  *ctx;

    ctx = data;
    p = (const u_char *) text;

    if (!ngx_http_clinic_article_md_inside(ctx, text, size)) {
        return ctx->nomem;
    }

    if (ctx->img_depth) {
        b = &ctx->alt;

    } else if (ctx->in_code || type == MD_TEXT_CODE) {
        /* code is verbatim: no [LINK] */

        if (type == MD_TEXT_NULLCHAR) {
            p = (const u_char *) "\xef\xbf\xbd";
            size = 3;
        }

        ngx_http_clinic_article_emit_text(ctx, p, size);

        return ctx->nomem;

    } else if (type == MD_TEXT_BR) {
        ngx_http_clinic_article_md_flush(ctx);
        ngx_http_clinic_article_html_lit(ctx, "<br>\n");

        if (ctx->capture) {
            ngx_http_clinic_article_append(ctx, &ctx->plain,
                                           (u_char *) " ", 1);
        }

        return ctx->nomem;

    } else {
        b = &ctx->run;
    }

    switch (type) {

    case MD_TEXT_NULLCHAR:
        ngx_http_clinic_article_append(ctx, b, (u_char *) "\xef\xbf\xbd", 3);
        break;

    case MD_TEXT_BR:
    case MD_TEXT_SOFTBR:
        ngx_http_clinic_article_append(ctx, b, (u_char *) "\n", 1);
        break;

    case MD_TEXT_ENTITY:
        ngx_http_clinic_article_md_entity(ctx, b, p, size);
        break;

    default:
        ngx_http_clinic_article_append(ctx, b, p, size);
        break;
    }

    return ctx->nomem;
}


/*
 * 1 if md4c's text lies in the document (or is one of its short constant
 * strings); anything else is a parser bug and is ignored, with a warning.
 */

static int
ngx_http_clinic_article_md_inside(ngx_http_clinic_article_ctx_t *ctx,
    const MD_CHAR *text, size_t size)
{
    uintptr_t  start, p;

    start = (uintptr_t) ctx->md_start;
    p = (uintptr_t) text;

    if (size <= NGX_HTTP_CLINIC_ARTICLE_MD_CONST
        || (p >= start && size <= ctx->md_size
            && p - start <= ctx->md_size - size))
    {
        return 1;
    }

    if (!ctx->md_bogus) {
        ctx->md_bogus = 1;
        ngx_http_clinic_article_warn(ctx, "the Markdown parser reported text "
                                     "outside the document; ignored");
    }

    return 0;
}


/*
 * md4c may split one run of text over several callbacks; the run is
 * collected until the next span or block event and only then searched for
 * markers.
 */

static void
ngx_http_clinic_article_md_flush(ngx_http_clinic_article_ctx_t *ctx)
{
    size_t  n;

    n = ctx->run.len;

    if (n == 0) {
        return;
    }

    ctx->run.len = 0;

    ngx_http_clinic_article_text(ctx, ctx->run.data, n, ctx->in_link == 0);
}


static void
ngx_http_clinic_article_md_heading(ngx_http_clinic_article_ctx_t *ctx)
{
    int                                 drop;
    char                                buf[6];
    ngx_http_clinic_article_str_t       text;
    ngx_http_clinic_article_heading_t  *h;

    ngx_http_clinic_article_collapse(ctx, &text, ctx->plain.data,
                                     ctx->plain.len, 0);
    ctx->capture = 0;

    if (ctx->nomem) {
        return;
    }

    drop = 0;

    if (ctx->src_level == 1) {

        if (!ctx->has_title && text.len) {
            ctx->art->title = text;
            ctx->has_title = 1;
            drop = 1;

        } else if (!ctx->seen_h1 && ctx->has_title
                   && ngx_http_clinic_article_same(ctx, &text,
                                                   &ctx->art->title))
        {
            drop = 1;
        }

        ctx->seen_h1 = 1;
    }

    if (drop) {
        ctx->html.len = ctx->h_html;
        ctx->links_out.nelts = ctx->h_links;
        ctx->unresolved.nelts = ctx->h_unresolved;
        return;
    }

    buf[0] = '<';
    buf[1] = '/';
    buf[2] = 'h';
    buf[3] = (char) ('0' + ctx->level);
    buf[4] = '>';
    buf[5] = '\n';
    ngx_http_clinic_article_html(ctx, (u_char *) buf, 6);

    if (!ctx->render || ctx->level > 3) {
        return;
    }

    h = ngx_http_clinic_article_push(ctx, &ctx->headings,
                                   sizeof(ngx_http_clinic_article_heading_t));
    if (h) {
        h->level = ctx->level;
        h->text = text;
    }
}


static void
ngx_http_clinic_article_md_image(ngx_http_clinic_article_ctx_t *ctx)
{
    if (!ctx->img_ok || !ctx->render) {
        return;
    }

    ngx_http_clinic_article_html_lit(ctx, "<img src=\"");
    ngx_http_clinic_article_html_url(ctx, &ctx->img_src);
    ngx_http_clinic_article_html_lit(ctx, "\" alt=\"");
    ngx_http_clinic_article_append_escaped(ctx, &ctx->html, ctx->alt.data,
                                           ctx->alt.len);
    ngx_http_clinic_article_html_lit(ctx, "\"");

    if (ctx->img_title.len) {
        ngx_http_clinic_article_html_lit(ctx, " title=\"");
        ngx_http_clinic_article_append_escaped(ctx, &ctx->html,
                                               ctx->img_title.data,
                                               ctx->img_title.len);
        ngx_http_clinic_article_html_lit(ctx, "\"");
    }

    ngx_http_clinic_article_html_lit(ctx, ">");
}


/*
 * Decodes a link or image URL and cleans it the way a browser's URL parser
 * does (TAB, CR and LF removed, leading and trailing C0 controls and spaces
 * stripped), so that the scheme checked is the scheme the browser sees.
 * Returns 1 if the URL may be used.
 */

static int
ngx_http_clinic_article_md_url(ngx_http_clinic_article_ctx_t *ctx,
    const MD_ATTRIBUTE *attr, const char *what,
    ngx_http_clinic_article_str_t *url)
{
    size_t                          i, j, s, e;
    ngx_http_clinic_article_str_t   raw;

    ngx_http_clinic_article_md_attr(ctx, attr, &raw);

    url->len = 0;
    url->data = raw.data;

    if (raw.data == NULL) {
        return 0;
    }

    j = 0;

    for (i = 0; i < raw.len; i++) {
        if (raw.data[i] != '\t' && raw.data[i] != '\n'
            && raw.data[i] != '\r')
        {
            raw.data[j++] = raw.data[i];
        }
    }

    for (s = 0; s < j && raw.data[s] <= 0x20; s++) {
        /* void */
    }

    for (e = j; e > s && raw.data[e - 1] <= 0x20; e--) {
        /* void */
    }

    raw.data[e] = '\0';
    url->data = raw.data + s;
    url->len = e - s;

    if (ngx_http_clinic_article_scheme_allowed(url->data, url->len)) {
        return 1;
    }

    ngx_http_clinic_article_warn(ctx, "%s \"%.*s\" dropped: only http:, "
                                 "https:, mailto:, tel: and relative URLs "
                                 "are allowed", what,
                                 ngx_http_clinic_article_excerpt(url->data,
                                                                 url->len),
                                 url->data);
    return 0;
}


/* an attribute's text with its entities decoded */

static void
ngx_http_clinic_article_md_attr(ngx_http_clinic_article_ctx_t *ctx,
    const MD_ATTRIBUTE *attr, ngx_http_clinic_article_str_t *out)
{
    size_t                          i, off, n;
    const u_char                   *p;
    ngx_http_clinic_article_buf_t   b;

    memset(&b, 0, sizeof(ngx_http_clinic_article_buf_t));

    /* decoding never makes an attribute longer than its source */
    if (attr->size > ctx->md_size) {
        (void) ngx_http_clinic_article_md_inside(ctx, attr->text, attr->size);
        goto done;
    }

    for (i = 0; attr->size && attr->substr_offsets[i] < attr->size; i++) {
        off = attr->substr_offsets[i];

        if (attr->substr_offsets[i + 1] < off
            || attr->substr_offsets[i + 1] > attr->size)
        {
            break;
        }

        n = attr->substr_offsets[i + 1] - off;
        p = (const u_char *) attr->text + off;

        switch (attr->substr_types[i]) {

        case MD_TEXT_NULLCHAR:
            ngx_http_clinic_article_append(ctx, &b,
                                           (u_char *) "\xef\xbf\xbd", 3);
            break;

        case MD_TEXT_ENTITY:
            ngx_http_clinic_article_md_entity(ctx, &b, p, n);
            break;

        default:
            ngx_http_clinic_article_append(ctx, &b, p, n);
            break;
        }
    }

done:

    if (ngx_http_clinic_article_reserve(ctx, &b, 0) == NULL) {
        out->len = 0;
        out->data = NULL;
        return;
    }

    b.data[b.len] = '\0';
    out->len = b.len;
    out->data = b.data;
}


/* "&...;" as md4c reports it: numeric, a known name, or kept as written */

static void
ngx_http_clinic_article_md_entity(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_buf_t *b, const u_char *p, size_t n)
{
    size_t                                   i, k;
    u_char                                   utf8[4], c;
    uint32_t                                 cp, base, d;
    const ngx_http_clinic_article_entity_t  *ent;

    if (n < 3 || p[0] != '&' || p[n - 1] != ';') {
        goto literal;
    }

    if (p[1] == '#') {
        i = 2;
        base = 10;

        if (i < n - 1 && (p[i] == 'x' || p[i] == 'X')) {
            i++;
            base = 16;
        }

        if (i == n - 1) {
            goto literal;
        }

        cp = 0;

        for ( /* void */ ; i < n - 1; i++) {
            c = ngx_http_clinic_article_lower(p[i]);

            if (ngx_http_clinic_article_digit(c)) {
                d = c - '0';

            } else if (base == 16 && c >= 'a' && c <= 'f') {
                d = c - 'a' + 10;

            } else {
                goto literal;
            }

            cp = cp * base + d;

            if (cp > 0x10ffff) {
                cp = 0x110000;
            }
        }

        k = ngx_http_clinic_article_utf8_encode(utf8, cp);
        ngx_http_clinic_article_append(ctx, b, utf8, k);
        return;
    }

    for (ent = ngx_http_clinic_article_entities; ent->name; ent++) {
        if (strlen(ent->name) == n - 2 && memcmp(ent->name, p + 1, n - 2) == 0)
        {
            ngx_http_clinic_article_append(ctx, b, (u_char *) ent->utf8,
                                           strlen(ent->utf8));
            return;
        }
    }

literal:

    ngx_http_clinic_article_append(ctx, b, p, n);
}


/* a URL without a scheme is relative; a scheme must be on the list */

static int
ngx_http_clinic_article_scheme_allowed(const u_char *p, size_t n)
{
    size_t                    i, j, k;
    static const char *const  allowed[] = {
        "http", "https", "mailto", "tel", NULL
    };

    if (n == 0 || !ngx_http_clinic_article_alpha(p[0])) {
        return 1;
    }

    for (i = 1; i < n && p[i] != ':'; i++) {
        if (!ngx_http_clinic_article_alpha(p[i])
            && !ngx_http_clinic_article_digit(p[i])
            && p[i] != '+' && p[i] != '-' && p[i] != '.')
        {
            return 1;
        }
    }

    if (i == n) {
        return 1;
    }

    /* p[0 .. i) is the scheme */

    for (k = 0; allowed[k]; k++) {

        for (j = 0; j < i; j++) {
            if (ngx_http_clinic_article_lower(p[j])
                != (u_char) allowed[k][j])
            {
                break;
            }
        }

        if (j == i && allowed[k][j] == '\0') {
            return 1;
        }
    }

    return 0;
}


/* a cleaned URL as an attribute value: spaces and controls %-encoded */

static void
ngx_http_clinic_article_html_url(ngx_http_clinic_article_ctx_t *ctx,
    const ngx_http_clinic_article_str_t *url)
{
    size_t                   i, start;
    u_char                   c, hex[3];
    static const char *const digits = "0123456789ABCDEF";

    if (!ctx->render) {
        return;
    }

    start = 0;

    for (i = 0; i < url->len; i++) {
        c = url->data[i];

        if (c > 0x20 && c != 0x7f) {
            continue;
        }

        ngx_http_clinic_article_append_escaped(ctx, &ctx->html,
                                               url->data + start, i - start);
        hex[0] = '%';
        hex[1] = (u_char) digits[c >> 4];
        hex[2] = (u_char) digits[c & 0x0f];
        ngx_http_clinic_article_append(ctx, &ctx->html, hex, 3);
        start = i + 1;
    }

    ngx_http_clinic_article_append_escaped(ctx, &ctx->html, url->data + start,
                                           url->len - start);
}
