
/*
 * Treatment articles: see ngx_http_clinic_article.h for the rules and the
 * decisions taken where SPEC 4 leaves room.
 */


#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <md4c.h>

#include "ngx_http_clinic_article.h"
#include "ngx_http_clinic_text.h"


#define NGX_HTTP_CLINIC_ARTICLE_MARKER       "[LINK]"
#define NGX_HTTP_CLINIC_ARTICLE_MARKER_LEN   (sizeof("[LINK]") - 1)
#define NGX_HTTP_CLINIC_ARTICLE_EXCERPT      64
#define NGX_HTTP_CLINIC_ARTICLE_WARN_LEN     256

#define NGX_HTTP_CLINIC_ARTICLE_PRIO_SLUG    0
#define NGX_HTTP_CLINIC_ARTICLE_PRIO_ALIAS   1
#define NGX_HTTP_CLINIC_ARTICLE_PRIO_TITLE   2
#define NGX_HTTP_CLINIC_ARTICLE_PRIO_WORDS   3
#define NGX_HTTP_CLINIC_ARTICLE_PRIO_NONE    4

#define NGX_HTTP_CLINIC_ARTICLE_FM_TITLE     0x01
#define NGX_HTTP_CLINIC_ARTICLE_FM_SUMMARY   0x02
#define NGX_HTTP_CLINIC_ARTICLE_FM_ALIASES   0x04
#define NGX_HTTP_CLINIC_ARTICLE_FM_SLUG      0x08

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
    unsigned                         prio;
    size_t                           article;
} ngx_http_clinic_article_cand_t;


/* a normalized phrase and the two best distinct articles it names */
typedef struct {
    u_char                          *key;       /* NULL: free slot */
    size_t                           len;
    uint32_t                         hash;
    ngx_http_clinic_article_cand_t   cand[2];
} ngx_http_clinic_article_key_t;


struct ngx_http_clinic_article_links_s {
    ngx_http_clinic_article_str_t   *slugs;
    ngx_http_clinic_article_key_t   *keys;
    size_t                           mask;
};


typedef struct {
    const char                      *name;
    const char                      *utf8;
} ngx_http_clinic_article_entity_t;


typedef struct {
    const u_char                    *start;
    const u_char                    *end;
} ngx_http_clinic_article_word_t;


/* an open Markdown span and whether its closing tag is due */
typedef struct {
    u_char                           type;
    u_char                           emitted;
} ngx_http_clinic_article_span_t;


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

static void *ngx_http_clinic_article_alloc(ngx_http_clinic_article_ctx_t *ctx,
    size_t size);
static u_char *ngx_http_clinic_article_reserve(
    ngx_http_clinic_article_ctx_t *ctx, ngx_http_clinic_article_buf_t *b,
    size_t n);
static void ngx_http_clinic_article_append(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_buf_t *b, const u_char *p, size_t n);
static void ngx_http_clinic_article_append_escaped(
    ngx_http_clinic_article_ctx_t *ctx, ngx_http_clinic_article_buf_t *b,
    const u_char *p, size_t n);
static void ngx_http_clinic_article_html(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t n);
static void *ngx_http_clinic_article_push(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_array_t *arr, size_t size);
static void ngx_http_clinic_article_dup(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_str_t *dst, const u_char *p, size_t n);
static void ngx_http_clinic_article_collapse(
    ngx_http_clinic_article_ctx_t *ctx, ngx_http_clinic_article_str_t *dst,
    const u_char *p, size_t n, size_t extra);
static void ngx_http_clinic_article_warn(ngx_http_clinic_article_ctx_t *ctx,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static size_t ngx_http_clinic_article_utf8_encode(u_char *dst, uint32_t cp);
static int ngx_http_clinic_article_excerpt(const u_char *p, size_t n);
static size_t ngx_http_clinic_article_quote_after(const u_char *p,
    const u_char *end);
static size_t ngx_http_clinic_article_quote_before(const u_char *start,
    const u_char *p, unsigned closers);

static const u_char *ngx_http_clinic_article_eol(const u_char *p,
    const u_char *end, const u_char **next);
static void ngx_http_clinic_article_trim(const u_char **s, const u_char **e);
static int ngx_http_clinic_article_blank(const u_char *p, const u_char *end);
static size_t ngx_http_clinic_article_front_matter(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *p, size_t len);
static void ngx_http_clinic_article_fm_value(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *key, size_t klen, const u_char *v, size_t vlen,
    size_t line);
static void ngx_http_clinic_article_fm_aliases(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *v, size_t vlen);

static void ngx_http_clinic_article_txt(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t len);
static void ngx_http_clinic_article_txt_line(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *s, const u_char *e,
    unsigned heading);
static int ngx_http_clinic_article_txt_heading(const u_char *s,
    const u_char *e);
static void ngx_http_clinic_article_summary_end(
    ngx_http_clinic_article_ctx_t *ctx);

static void ngx_http_clinic_article_text(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t n, unsigned linkable);
static void ngx_http_clinic_article_marker(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *seg, const u_char *pre, const u_char *after,
    const u_char *end, unsigned linkable);
static void ngx_http_clinic_article_unresolved(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *start,
    const u_char *stop, const u_char *after, const u_char *end);
static void ngx_http_clinic_article_emit_text(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *p, size_t n);
static void ngx_http_clinic_article_emit_link(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *p, size_t n,
    const ngx_http_clinic_article_str_t *slug);

static void ngx_http_clinic_article_normalize(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *p, size_t n);
static int ngx_http_clinic_article_same(ngx_http_clinic_article_ctx_t *ctx,
    const ngx_http_clinic_article_str_t *a,
    const ngx_http_clinic_article_str_t *b);
static uint32_t ngx_http_clinic_article_hash(const u_char *p, size_t n);
static ngx_http_clinic_article_key_t *ngx_http_clinic_article_slot(
    const ngx_http_clinic_article_links_t *links, const u_char *key,
    size_t len, uint32_t hash);
static int ngx_http_clinic_article_better(
    const ngx_http_clinic_article_links_t *links, unsigned pa, size_t a,
    unsigned pb, size_t b);
static void ngx_http_clinic_article_insert(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_links_t *links, unsigned prio, size_t article);
static const ngx_http_clinic_article_str_t *ngx_http_clinic_article_lookup(
    ngx_http_clinic_article_ctx_t *ctx);
static int ngx_http_clinic_article_slugcmp(
    const ngx_http_clinic_article_str_t *a,
    const ngx_http_clinic_article_str_t *b);

static void ngx_http_clinic_article_cut(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_str_t *out, const u_char *p, size_t n);

static void ngx_http_clinic_article_md(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t len);
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


static const u_char  ngx_http_clinic_article_ctype[256] = {
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
    art->warnings = ctx->warnings.elts;
    art->nwarnings = ctx->warnings.nelts;
    art->headings = ctx->headings.elts;
    art->nheadings = ctx->headings.nelts;
    art->links = ctx->links_out.elts;
    art->nlinks = ctx->links_out.nelts;
    art->unresolved = ctx->unresolved.elts;
    art->nunresolved = ctx->unresolved.nelts;
}


/* memory */

static void *
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

static u_char *
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


static void
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


static void
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


static void
ngx_http_clinic_article_html(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t n)
{
    if (ctx->render) {
        ngx_http_clinic_article_append(ctx, &ctx->html, p, n);
    }
}


static void *
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


static void
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

static void
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

static void
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


/* UTF-8 */

/* the offset of the first invalid byte or NUL, n when there is none */





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


/* how much of a value to quote in a warning, on a character boundary */

static int
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

static size_t
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

static size_t
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
    u_char                      name[8];
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
        ngx_http_clinic_article_fm_aliases(ctx, v, vlen);
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


static void
ngx_http_clinic_article_fm_aliases(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *v, size_t vlen)
{
    const u_char                   *end, *s, *e;
    ngx_http_clinic_article_str_t  *alias;

    ctx->aliases.nelts = 0;
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

        alias = ngx_http_clinic_article_push(ctx, &ctx->aliases,
                                       sizeof(ngx_http_clinic_article_str_t));
        if (alias == NULL) {
            return;
        }

        ngx_http_clinic_article_dup(ctx, alias, s, e - s);
    }
}


/* the copywriter's format (SPEC 4.2) */

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


/* the first paragraph with text becomes the summary */

static void
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


/* [LINK] markers (SPEC 4.3) */

/*
 * Emits body text, resolving or removing its markers.  Each marker looks
 * back only as far as the previous one, so the work is linear in n.
 */

static void
ngx_http_clinic_article_text(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t n, unsigned linkable)
{
    const u_char  *seg, *end, *m, *pre;

    seg = p;
    end = p + n;

    for ( ;; ) {
        m = seg;

        for ( ;; ) {
            m = memchr(m, '[', end - m);

            if (m == NULL
                || (size_t) (end - m) < NGX_HTTP_CLINIC_ARTICLE_MARKER_LEN)
            {
                m = NULL;
                break;
            }

            if (memcmp(m, NGX_HTTP_CLINIC_ARTICLE_MARKER,
                       NGX_HTTP_CLINIC_ARTICLE_MARKER_LEN) == 0)
            {
                break;
            }

            m++;
        }

        if (m == NULL) {
            break;
        }

        pre = m;

        if (pre > seg && ngx_http_clinic_article_space(pre[-1])) {
            pre--;
        }

        ngx_http_clinic_article_marker(ctx, seg, pre,
                                       m + NGX_HTTP_CLINIC_ARTICLE_MARKER_LEN,
                                       end, linkable);

        seg = m + NGX_HTTP_CLINIC_ARTICLE_MARKER_LEN;
    }

    ngx_http_clinic_article_emit_text(ctx, seg, end - seg);
}


/*
 * One marker: [seg, pre) is the text before it (without the space that
 * goes with the marker), [after, end) the text after it.
 */

static void
ngx_http_clinic_article_marker(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *seg, const u_char *pre, const u_char *after,
    const u_char *end, unsigned linkable)
{
    size_t                                n, k, q;
    const u_char                         *p, *w, *ps, *pe;
    const ngx_http_clinic_article_str_t  *slug;
    ngx_http_clinic_article_word_t
                                 words[NGX_HTTP_CLINIC_ARTICLE_LINK_WORDS];

    /* the words of the clause before the marker, the nearest first */

    n = 0;
    p = pre;

    while (n < NGX_HTTP_CLINIC_ARTICLE_LINK_WORDS) {

        while (p > seg && ngx_http_clinic_article_space(p[-1])) {
            p--;
        }

        w = p;

        while (p > seg && !ngx_http_clinic_article_space(p[-1])
               && !ngx_http_clinic_article_boundary(p[-1]))
        {
            p--;
        }

        if (p < w) {
            words[n].start = p;
            words[n].end = w;
            n++;
        }

        if (p == seg || ngx_http_clinic_article_boundary(p[-1])) {
            break;
        }
    }

    /* the longest run that names an article */

    for (k = n; linkable && ctx->links && k > 0; k--) {
        ps = words[k - 1].start;
        pe = words[0].end;

        while ((q = ngx_http_clinic_article_quote_after(ps, pe)) != 0) {
            ps += q;
        }

        while (pe > ps
               && (q = ngx_http_clinic_article_quote_before(ps, pe, 0)) != 0)
        {
            pe -= q;
        }

        ngx_http_clinic_article_normalize(ctx, ps, pe - ps);

        slug = ngx_http_clinic_article_lookup(ctx);
        if (slug == NULL) {
            continue;
        }

        ngx_http_clinic_article_emit_text(ctx, seg, ps - seg);
        ngx_http_clinic_article_emit_link(ctx, ps, pe - ps, slug);
        ngx_http_clinic_article_emit_text(ctx, pe, pre - pe);

        return;
    }

    ngx_http_clinic_article_emit_text(ctx, seg, pre - seg);

    if (ctx->render) {
        ngx_http_clinic_article_unresolved(ctx, n ? words[n - 1].start : NULL,
                                           n ? words[0].end : NULL,
                                           after, end);
    }
}


/*
 * Reports the words before an unresolved marker, or when there are none,
 * the marker and up to six words after it, at most EXCERPT bytes of them
 * so that a run of markers stays linear.
 */

static void
ngx_http_clinic_article_unresolved(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *start, const u_char *stop, const u_char *after,
    const u_char *end)
{
    size_t                          n;
    ngx_http_clinic_article_str_t  *u;

    if (start == NULL) {
        start = after - NGX_HTTP_CLINIC_ARTICLE_MARKER_LEN;
        stop = after;

        if (end - after > NGX_HTTP_CLINIC_ARTICLE_EXCERPT) {
            end = after + ngx_http_clinic_article_excerpt(after, end - after);
        }

        for (n = 0; n < NGX_HTTP_CLINIC_ARTICLE_LINK_WORDS; n++) {

            while (stop < end && ngx_http_clinic_article_space(*stop)) {
                stop++;
            }

            if (stop == end) {
                break;
            }

            while (stop < end && !ngx_http_clinic_article_space(*stop)) {
                stop++;
            }
        }
    }

    u = ngx_http_clinic_article_push(ctx, &ctx->unresolved,
                                     sizeof(ngx_http_clinic_article_str_t));
    if (u == NULL) {
        return;
    }

    ngx_http_clinic_article_collapse(ctx, u, start, stop - start, 0);
}


static void
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


static void
ngx_http_clinic_article_emit_link(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t n, const ngx_http_clinic_article_str_t *slug)
{
    ngx_http_clinic_article_link_t  *link;

    if (ctx->capture) {
        ngx_http_clinic_article_append(ctx, &ctx->plain, p, n);
    }

    if (!ctx->render) {
        return;
    }

    ngx_http_clinic_article_html_lit(ctx, "<a href=\"");

    if (ctx->prefix) {
        ngx_http_clinic_article_append_escaped(ctx, &ctx->html,
                                               ctx->prefix->data,
                                               ctx->prefix->len);
    }

    ngx_http_clinic_article_append_escaped(ctx, &ctx->html, slug->data,
                                           slug->len);
    ngx_http_clinic_article_html_lit(ctx, "\">");
    ngx_http_clinic_article_append_escaped(ctx, &ctx->html, p, n);
    ngx_http_clinic_article_html_lit(ctx, "</a>");

    link = ngx_http_clinic_article_push(ctx, &ctx->links_out,
                                      sizeof(ngx_http_clinic_article_link_t));
    if (link == NULL) {
        return;
    }

    ngx_http_clinic_article_collapse(ctx, &link->text, p, n, 0);
    ngx_http_clinic_article_dup(ctx, &link->slug, slug->data, slug->len);
}


/* the link index */

ngx_http_clinic_article_links_t *
ngx_http_clinic_article_links_create(
    const ngx_http_clinic_article_entry_t *entries, size_t n,
    const ngx_http_clinic_alloc_t *a)
{
    size_t                                  i, j, k, count, size, len;
    ngx_http_clinic_article_ctx_t           ctx;
    ngx_http_clinic_article_links_t        *links;
    const ngx_http_clinic_article_entry_t  *e;

    memset(&ctx, 0, sizeof(ngx_http_clinic_article_ctx_t));
    ctx.alloc = a;

    count = 0;

    /* slug, title, aliases and at most LINK_WORDS title prefixes */
    count = n * (2 + NGX_HTTP_CLINIC_ARTICLE_LINK_WORDS);

    for (i = 0; i < n; i++) {
        count += entries[i].naliases;
    }

    size = 8;

    while (size < 2 * count) {
        size *= 2;
    }

    links = ngx_http_clinic_article_alloc(&ctx,
                                     sizeof(ngx_http_clinic_article_links_t));
    if (links == NULL) {
        return NULL;
    }

    links->keys = ngx_http_clinic_article_alloc(&ctx,
                                size * sizeof(ngx_http_clinic_article_key_t));
    links->slugs = ngx_http_clinic_article_alloc(&ctx,
                                n * sizeof(ngx_http_clinic_article_str_t));
    if (ctx.nomem) {
        return NULL;
    }

    memset(links->keys, 0, size * sizeof(ngx_http_clinic_article_key_t));
    links->mask = size - 1;

    for (i = 0; i < n; i++) {
        e = &entries[i];

        ngx_http_clinic_article_dup(&ctx, &links->slugs[i], e->slug.data,
                                    e->slug.len);

        ngx_http_clinic_article_normalize(&ctx, e->slug.data, e->slug.len);
        ngx_http_clinic_article_insert(&ctx, links,
                                       NGX_HTTP_CLINIC_ARTICLE_PRIO_SLUG, i);

        for (j = 0; j < e->naliases; j++) {
            ngx_http_clinic_article_normalize(&ctx, e->aliases[j].data,
                                              e->aliases[j].len);
            ngx_http_clinic_article_insert(&ctx, links,
                                       NGX_HTTP_CLINIC_ARTICLE_PRIO_ALIAS, i);
        }

        ngx_http_clinic_article_normalize(&ctx, e->title.data, e->title.len);
        ngx_http_clinic_article_insert(&ctx, links,
                                       NGX_HTTP_CLINIC_ARTICLE_PRIO_TITLE, i);

        /*
         * the first words of the title: every prefix ending before a space,
         * up to the longest phrase a marker can take
         */

        len = ctx.key.len;

        for (j = 0, k = 0; j < len && k < NGX_HTTP_CLINIC_ARTICLE_LINK_WORDS;
             j++)
        {
            if (ctx.key.data[j] == ' ') {
                ctx.key.len = j;
                ngx_http_clinic_article_insert(&ctx, links,
                                       NGX_HTTP_CLINIC_ARTICLE_PRIO_WORDS, i);
                ctx.key.len = len;
                k++;
            }
        }
    }

    return ctx.nomem ? NULL : links;
}


/*
 * The comparison form of a phrase, into ctx->key: ASCII lowercase, "-",
 * whitespace and U+00A0 as one space, trimmed.  Never longer than n.
 */

static void
ngx_http_clinic_article_normalize(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *p, size_t n)
{
    size_t   i, len;
    u_char  *d, c;
    int      sep;

    ctx->key.len = 0;

    d = ngx_http_clinic_article_reserve(ctx, &ctx->key, n);
    if (d == NULL) {
        return;
    }

    len = 0;
    sep = 0;

    for (i = 0; i < n; i++) {
        c = p[i];

        if (ngx_http_clinic_article_ctype_is(c,
                                             NGX_HTTP_CLINIC_ARTICLE_C_SPACE
                                             | NGX_HTTP_CLINIC_ARTICLE_C_DASH))
        {
            sep = 1;
            continue;
        }

        if (c == 0xc2 && i + 1 < n && p[i + 1] == 0xa0) {
            sep = 1;
            i++;
            continue;
        }

        if (sep && len) {
            d[len++] = ' ';
        }

        sep = 0;
        d[len++] = ngx_http_clinic_article_lower(c);
    }

    ctx->key.len = len;
}


static int
ngx_http_clinic_article_same(ngx_http_clinic_article_ctx_t *ctx,
    const ngx_http_clinic_article_str_t *a,
    const ngx_http_clinic_article_str_t *b)
{
    ngx_http_clinic_article_str_t  na;

    ngx_http_clinic_article_normalize(ctx, a->data, a->len);
    ngx_http_clinic_article_dup(ctx, &na, ctx->key.data, ctx->key.len);
    ngx_http_clinic_article_normalize(ctx, b->data, b->len);

    return !ctx->nomem && na.len == ctx->key.len
           && memcmp(na.data, ctx->key.data, na.len) == 0;
}


static uint32_t
ngx_http_clinic_article_hash(const u_char *p, size_t n)
{
    uint32_t  h;

    h = 2166136261u;

    while (n--) {
        h ^= *p++;
        h *= 16777619u;
    }

    return h;
}


/* the slot holding the key, or the free slot where it would go */

static ngx_http_clinic_article_key_t *
ngx_http_clinic_article_slot(const ngx_http_clinic_article_links_t *links,
    const u_char *key, size_t len, uint32_t hash)
{
    size_t                          i;
    ngx_http_clinic_article_key_t  *k;

    for (i = hash & links->mask; /* void */ ; i = (i + 1) & links->mask) {
        k = &links->keys[i];

        if (k->key == NULL
            || (k->hash == hash && k->len == len
                && memcmp(k->key, key, len) == 0))
        {
            return k;
        }
    }
}


/* 1 if (pa, a) ranks before (pb, b) */

static int
ngx_http_clinic_article_better(const ngx_http_clinic_article_links_t *links,
    unsigned pa, size_t a, unsigned pb, size_t b)
{
    if (pa != pb) {
        return pa < pb;
    }

    return ngx_http_clinic_article_slugcmp(&links->slugs[a],
                                           &links->slugs[b]) < 0;
}


/*
 * Adds ctx->key for an article.  Each key keeps the best two distinct
 * articles, so that excluding the page's own article still leaves the best
 * of the others.
 */

static void
ngx_http_clinic_article_insert(ngx_http_clinic_article_ctx_t *ctx,
    ngx_http_clinic_article_links_t *links, unsigned prio, size_t article)
{
    uint32_t                         hash;
    ngx_http_clinic_article_key_t   *k;
    ngx_http_clinic_article_cand_t  *c, t;

    if (ctx->nomem || ctx->key.len == 0) {
        return;
    }

    hash = ngx_http_clinic_article_hash(ctx->key.data, ctx->key.len);
    k = ngx_http_clinic_article_slot(links, ctx->key.data, ctx->key.len,
                                     hash);

    if (k->key == NULL) {
        k->key = ngx_http_clinic_article_alloc(ctx, ctx->key.len);
        if (k->key == NULL) {
            return;
        }

        memcpy(k->key, ctx->key.data, ctx->key.len);
        k->len = ctx->key.len;
        k->hash = hash;
        k->cand[0].prio = prio;
        k->cand[0].article = article;
        k->cand[1].prio = NGX_HTTP_CLINIC_ARTICLE_PRIO_NONE;
        return;
    }

    c = k->cand;

    if (c[0].article == article) {
        if (prio < c[0].prio) {
            c[0].prio = prio;
        }

        return;
    }

    if (c[1].prio != NGX_HTTP_CLINIC_ARTICLE_PRIO_NONE
        && c[1].article == article)
    {
        if (prio < c[1].prio) {
            c[1].prio = prio;
        }

        if (ngx_http_clinic_article_better(links, c[1].prio, c[1].article,
                                           c[0].prio, c[0].article))
        {
            t = c[0];
            c[0] = c[1];
            c[1] = t;
        }

        return;
    }

    if (ngx_http_clinic_article_better(links, prio, article,
                                       c[0].prio, c[0].article))
    {
        c[1] = c[0];
        c[0].prio = prio;
        c[0].article = article;

    } else if (c[1].prio == NGX_HTTP_CLINIC_ARTICLE_PRIO_NONE
               || ngx_http_clinic_article_better(links, prio, article,
                                                 c[1].prio, c[1].article))
    {
        c[1].prio = prio;
        c[1].article = article;
    }
}


/* the slug ctx->key names, never the page's own; NULL when none */

static const ngx_http_clinic_article_str_t *
ngx_http_clinic_article_lookup(ngx_http_clinic_article_ctx_t *ctx)
{
    size_t                                i;
    ngx_http_clinic_article_key_t        *k;
    const ngx_http_clinic_article_str_t  *slug;

    if (ctx->nomem || ctx->key.len == 0) {
        return NULL;
    }

    k = ngx_http_clinic_article_slot(ctx->links, ctx->key.data, ctx->key.len,
                                     ngx_http_clinic_article_hash(
                                         ctx->key.data, ctx->key.len));
    if (k->key == NULL) {
        return NULL;
    }

    for (i = 0; i < 2; i++) {
        if (k->cand[i].prio == NGX_HTTP_CLINIC_ARTICLE_PRIO_NONE) {
            break;
        }

        slug = &ctx->links->slugs[k->cand[i].article];

        if (ctx->slug == NULL
            || ngx_http_clinic_article_slugcmp(slug, ctx->slug) != 0)
        {
            return slug;
        }
    }

    return NULL;
}


static int
ngx_http_clinic_article_slugcmp(const ngx_http_clinic_article_str_t *a,
    const ngx_http_clinic_article_str_t *b)
{
    int  rc;

    rc = memcmp(a->data, b->data, a->len < b->len ? a->len : b->len);

    if (rc != 0) {
        return rc;
    }

    return (a->len > b->len) - (a->len < b->len);
}


/* the summary */

static void
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


/*
 * Markdown.  md4c's own HTML renderer (md4c-html) is not used: it passes
 * javascript: URLs through and cannot resolve [LINK].
 */

static void
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
