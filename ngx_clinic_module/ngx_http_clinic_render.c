
/*
 * Rendering: page templates, the article page, the listing, the contact
 * form and its notices, JSON-LD and the JSON content API bodies
 * (docs/api.md).  Nothing here does I/O.
 *
 * Every output lives in the caller's pool.  jansson's objects and the
 * strings it mallocs are released before a function returns, on every
 * path, so nothing outlives the call but pool memory.
 *
 * Decisions:
 *
 *   escaping   every page value but content, jsonld and
 *              clinic_phone_link (built here, its parts escaped) is
 *              escaped for HTML text and attribute values: & < > " '.
 *
 *   updated    ISO 8601 UTC, "2026-11-26T10:00:00Z"; a time of 0 or less
 *              (unknown) renders as nothing, and as null in the API.
 *
 *   jsonld     an article page gets a MedicalWebPage; any other page with
 *              a canonical URL (the listing) a plain WebPage; a contact
 *              page a ContactPage; the 404 page (not_found) nothing,
 *              though it links the listing.  Empty values are left out
 *              of the object.  < > & are written as \u003c \u003e
 *              \u0026 so that no value can end the <script> element.
 *
 *   form       the contact form's markup is a contract (docs/api.md, "The
 *              contact page"): ids, names, labels, error text linked to
 *              its field.  Its small stylesheet travels with it, so that
 *              a clinic's own template gets a usable form on a phone too.
 *
 *   API        compact JSON and a final newline, like every other JSON
 *              answer of the module.
 *
 *   XML        the sitemap and the Atom feed are UTF-8, escaped for XML
 *              (the HTML escaper's five, and the characters XML 1.0 does
 *              not allow replaced), one element a line; an unknown time
 *              leaves out <lastmod>, an empty summary <summary>.
 *
 *   feed_link  an Atom <link rel="alternate"> for the head and a newline,
 *              or nothing when the server has no clinic_feed: a template
 *              without a feed renders byte for byte as before.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_render.h"
#include "ngx_http_clinic_text.h"
#include "ngx_http_clinic_util.h"


/* "-2147481748-12-31T23:59:59Z" and then some */
#define NGX_HTTP_CLINIC_ISO_LEN     32

/* how much of a bad placeholder an error message quotes */
#define NGX_HTTP_CLINIC_QUOTE_MAX   40

/* a field name as a label; a text field longer than a line: a textarea */
#define NGX_HTTP_CLINIC_LABEL_MAX   128
#define NGX_HTTP_CLINIC_LINE_MAX    500


typedef enum {
    NGX_HTTP_CLINIC_SEG_LITERAL = 0,
    NGX_HTTP_CLINIC_SEG_TITLE,
    NGX_HTTP_CLINIC_SEG_SUMMARY,
    NGX_HTTP_CLINIC_SEG_CONTENT,
    NGX_HTTP_CLINIC_SEG_SLUG,
    NGX_HTTP_CLINIC_SEG_TENANT,
    NGX_HTTP_CLINIC_SEG_CLINIC_NAME,
    NGX_HTTP_CLINIC_SEG_CANONICAL,
    NGX_HTTP_CLINIC_SEG_CONTACT_URL,
    NGX_HTTP_CLINIC_SEG_LIST_URL,
    NGX_HTTP_CLINIC_SEG_UPDATED,
    NGX_HTTP_CLINIC_SEG_JSONLD,
    NGX_HTTP_CLINIC_SEG_PHONE,
    NGX_HTTP_CLINIC_SEG_PHONE_LINK,
    NGX_HTTP_CLINIC_SEG_ARTICLES_URL,
    NGX_HTTP_CLINIC_SEG_FEED_LINK,
    NGX_HTTP_CLINIC_SEG_N
} ngx_http_clinic_segment_e;


/* a run of literal template text, or one placeholder */
typedef struct {
    ngx_uint_t                       type;       /* segment_e */
    ngx_str_t                        text;       /* LITERAL only */
} ngx_http_clinic_segment_t;


/*
 * Where markup goes: measured first (p NULL, only len counts), then
 * written into exactly len bytes by the same code.
 */
typedef struct {
    u_char                          *p;
    size_t                           len;
} ngx_http_clinic_out_t;


/* writes markup into o; called twice by ngx_http_clinic_render_twice() */
typedef void (*ngx_http_clinic_write_pt)(ngx_http_clinic_out_t *o,
    void *data);


/* an escaper of ngx_http_clinic_text.h: dst NULL only measures */
typedef size_t (*ngx_http_clinic_escape_pt)(u_char *dst, const u_char *src,
    size_t len);


struct ngx_http_clinic_template_s {
    ngx_http_clinic_segment_t       *segs;
    ngx_uint_t                       nsegs;
    unsigned                         jsonld:1;   /* worth building */
};


static ngx_int_t ngx_http_clinic_template_push(ngx_array_t *segs,
    ngx_uint_t type, u_char *start, u_char *end);
static u_char *ngx_http_clinic_template_find(u_char *p, u_char *last,
    u_char c);
static ngx_uint_t ngx_http_clinic_template_lookup(u_char *name, size_t len);
static void ngx_http_clinic_template_error(ngx_pool_t *pool, ngx_str_t *err,
    ngx_str_t *text, u_char *start, u_char *end);
static size_t ngx_http_clinic_iso_time(u_char *buf, time_t t);
static ngx_int_t ngx_http_clinic_render_phone_link(ngx_pool_t *pool,
    ngx_str_t *phone, ngx_str_t *out);
static ngx_int_t ngx_http_clinic_render_feed_link(ngx_pool_t *pool,
    ngx_http_clinic_page_vars_t *vars, ngx_str_t *out);
static void ngx_http_clinic_feed_link_write(ngx_http_clinic_out_t *o,
    void *data);
static ngx_int_t ngx_http_clinic_render_twice(ngx_pool_t *pool,
    ngx_http_clinic_write_pt write, void *data, ngx_str_t *out);
static void ngx_http_clinic_sitemap_write(ngx_http_clinic_out_t *o,
    void *data);
static void ngx_http_clinic_feed_write(ngx_http_clinic_out_t *o, void *data);
static void ngx_http_clinic_out_xml(ngx_http_clinic_out_t *o, ngx_str_t *s);
static void ngx_http_clinic_out_escaped(ngx_http_clinic_out_t *o,
    ngx_http_clinic_escape_pt escape, ngx_str_t *s);
static void ngx_http_clinic_out_time(ngx_http_clinic_out_t *o, time_t t);
static void ngx_http_clinic_out_elt(ngx_http_clinic_out_t *o,
    const char *name, ngx_str_t *s);
static void ngx_http_clinic_out(ngx_http_clinic_out_t *o, const char *s);
static void ngx_http_clinic_out_str(ngx_http_clinic_out_t *o, u_char *data,
    size_t len);
static void ngx_http_clinic_out_esc(ngx_http_clinic_out_t *o, ngx_str_t *s);
static void ngx_http_clinic_out_uint(ngx_http_clinic_out_t *o, ngx_uint_t n);
static void ngx_http_clinic_out_label(ngx_http_clinic_out_t *o,
    ngx_str_t *name);
static void ngx_http_clinic_out_tel(ngx_http_clinic_out_t *o,
    ngx_str_t *phone);
static void ngx_http_clinic_out_call(ngx_http_clinic_out_t *o,
    ngx_str_t *phone);
static void ngx_http_clinic_form_write(ngx_http_clinic_out_t *o,
    ngx_http_clinic_form_view_t *view);
static void ngx_http_clinic_form_write_field(ngx_http_clinic_out_t *o,
    ngx_http_clinic_field_view_t *f, ngx_uint_t focus);
static void ngx_http_clinic_notice_write(ngx_http_clinic_out_t *o,
    ngx_http_clinic_notice_view_t *view);
static ngx_int_t ngx_http_clinic_render_jsonld(ngx_pool_t *pool,
    ngx_http_clinic_page_vars_t *vars, ngx_str_t *updated, ngx_str_t *out);
static ngx_int_t ngx_http_clinic_render_script(ngx_pool_t *pool,
    json_t *json, ngx_str_t *out);
static json_t *ngx_http_clinic_render_api_item(
    ngx_http_clinic_list_item_t *item);
static json_t *ngx_http_clinic_render_strings(ngx_str_t *s, ngx_uint_t n);
static ngx_int_t ngx_http_clinic_json_set(json_t *obj, const char *key,
    ngx_str_t *value);
static ngx_int_t ngx_http_clinic_json_set_nonempty(json_t *obj,
    const char *key, ngx_str_t *value);
static json_t *ngx_http_clinic_json_str(ngx_str_t *value);
static json_t *ngx_http_clinic_json_time(time_t t);


/* indexed by segment_e */
static ngx_str_t  ngx_http_clinic_placeholders[] = {
    ngx_null_string,
    ngx_string("title"),
    ngx_string("summary"),
    ngx_string("content"),
    ngx_string("slug"),
    ngx_string("tenant"),
    ngx_string("clinic_name"),
    ngx_string("canonical"),
    ngx_string("contact_url"),
    ngx_string("list_url"),
    ngx_string("updated"),
    ngx_string("jsonld"),
    ngx_string("clinic_phone"),
    ngx_string("clinic_phone_link"),
    ngx_string("articles_url"),
    ngx_string("feed_link")
};


/*
 * The built-in layout: one <h1>, a skip link, a readable measure, system
 * fonts, contrast of at least 7:1 for text (AAA), a visible focus ring, a
 * header with the clinic's name, a "Contact us" link and its phone that
 * wraps on a narrow phone.  The contact pages use it without the call to
 * action at the end.  The en dash in <title> is UTF-8, written as escapes
 * to keep this file ASCII.
 */
#define NGX_HTTP_CLINIC_TPL_HEAD                                              \
"<!DOCTYPE html>\n"                                                          \
"<html lang=\"en\">\n"                                                       \
"<head>\n"                                                                   \
"<meta charset=\"utf-8\">\n"                                                 \
"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" \
"<title>{{title}} \xe2\x80\x93 {{clinic_name}}</title>\n"                     \
"<meta name=\"description\" content=\"{{summary}}\">\n"                      \
"<link rel=\"canonical\" href=\"{{canonical}}\">\n"                          \
"{{feed_link}}{{jsonld}}\n"                                                  \
"<style>\n"                                                                  \
"body{margin:0;color:#1c2630;background:#fff;font:1.0625rem/1.6 system-ui,"  \
"-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif}\n"                      \
".w{max-width:70ch;margin:0 auto;padding:0 1rem}\n"                          \
"a{color:#0a4a85}\n"                                                         \
"a:focus-visible{outline:3px solid #c25e00;outline-offset:2px}\n"            \
".skip{position:absolute;left:-100vw}\n"                                     \
".skip:focus{left:1rem;top:1rem;padding:.5rem 1rem;background:#fff}\n"       \
"header,footer{background:#eef3f7}\n"                                        \
"header .w{display:flex;flex-wrap:wrap;align-items:center;"                  \
"justify-content:space-between;gap:.25rem 1.25rem;padding:1rem}\n"           \
"header .home{color:#102a43;font-weight:700;font-size:1.2rem;"               \
"text-decoration:none}\n"                                                    \
"header nav{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}\n"               \
"header nav a{font-weight:600}\n"                                            \
"main{padding-top:1rem;padding-bottom:2rem}\n"                               \
"h1,h2{line-height:1.25}\n"                                                  \
"img{max-width:100%;height:auto}\n"                                          \
".cta{margin:2.5rem 0 0;padding:1.25rem;border-radius:.5rem;"                \
"background:#eef3f7}\n"                                                      \
".cta h2{margin-top:0}\n"                                                    \
".btn{display:inline-block;padding:.75rem 1.5rem;border-radius:.4rem;"       \
"background:#0a4a85;color:#fff;font-weight:700;text-decoration:none}\n"      \
".btn:hover{background:#083a69}\n"                                           \
"footer{padding:1rem 0;font-size:.9rem;color:#33414e}\n"                     \
"</style>\n"                                                                 \
"</head>\n"                                                                  \
"<body>\n"                                                                   \
"<a class=\"skip\" href=\"#main\">Skip to content</a>\n"                     \
"<header><div class=\"w\"><a class=\"home\" href=\"{{list_url}}\">"          \
"{{clinic_name}}</a>\n"                                                      \
"<nav aria-label=\"Contact\"><a id=\"contact-link\" "                        \
"href=\"{{contact_url}}\">Contact us</a>{{clinic_phone_link}}</nav>"         \
"</div></header>\n"                                                          \
"<main id=\"main\" class=\"w\" tabindex=\"-1\">\n"                           \
"<h1>{{title}}</h1>\n"                                                       \
"{{content}}\n"

#define NGX_HTTP_CLINIC_TPL_CTA                                               \
"<aside class=\"cta\" aria-labelledby=\"cta\">\n"                            \
"<h2 id=\"cta\">Book an appointment</h2>\n"                                  \
"<p>Have a question, or ready to book? Our team is happy to help.</p>\n"     \
"<p><a class=\"btn\" href=\"{{contact_url}}\">Contact us</a></p>\n"          \
"</aside>\n"

#define NGX_HTTP_CLINIC_TPL_TAIL                                              \
"</main>\n"                                                                  \
"<footer><div class=\"w\"><p>&copy; {{clinic_name}} &middot; "               \
"<a href=\"{{list_url}}\">All treatments</a></p></div></footer>\n"           \
"</body>\n"                                                                  \
"</html>\n"


static ngx_str_t  ngx_http_clinic_default_template = ngx_string(
    NGX_HTTP_CLINIC_TPL_HEAD NGX_HTTP_CLINIC_TPL_CTA NGX_HTTP_CLINIC_TPL_TAIL);

static ngx_str_t  ngx_http_clinic_default_form_template = ngx_string(
    NGX_HTTP_CLINIC_TPL_HEAD NGX_HTTP_CLINIC_TPL_TAIL);


/* segments point into text; an error leaves a message in *err */

ngx_http_clinic_template_t *
ngx_http_clinic_template_compile(ngx_pool_t *pool, ngx_str_t *text,
    ngx_str_t *err)
{
    u_char                      *p, *last, *lbrace, *name, *end, *rbrace;
    ngx_str_t                    dummy;
    ngx_uint_t                   type, content;
    ngx_array_t                  segs;
    ngx_http_clinic_template_t  *tpl;

    if (err == NULL) {
        err = &dummy;
    }

    ngx_str_set(err, "out of memory");

    tpl = ngx_pcalloc(pool, sizeof(ngx_http_clinic_template_t));
    if (tpl == NULL) {
        return NULL;
    }

    if (ngx_array_init(&segs, pool, 32, sizeof(ngx_http_clinic_segment_t))
        != NGX_OK)
    {
        return NULL;
    }

    content = 0;
    p = text->data;
    last = text->data + text->len;

    while (p < last) {
        lbrace = ngx_http_clinic_template_find(p, last, '{');

        if (lbrace == NULL) {
            if (ngx_http_clinic_template_push(&segs,
                                              NGX_HTTP_CLINIC_SEG_LITERAL,
                                              p, last)
                != NGX_OK)
            {
                return NULL;
            }

            break;
        }

        if (lbrace > p
            && ngx_http_clinic_template_push(&segs,
                                             NGX_HTTP_CLINIC_SEG_LITERAL,
                                             p, lbrace)
               != NGX_OK)
        {
            return NULL;
        }

        rbrace = ngx_http_clinic_template_find(lbrace + 2, last, '}');

        if (rbrace == NULL) {
            ngx_http_clinic_template_error(pool, err, text, lbrace, NULL);
            return NULL;
        }

        name = lbrace + 2;
        end = rbrace;

        while (name < end && (*name == ' ' || *name == '\t')) {
            name++;
        }

        while (end > name && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }

        type = ngx_http_clinic_template_lookup(name, end - name);

        if (type == NGX_HTTP_CLINIC_SEG_LITERAL) {
            ngx_http_clinic_template_error(pool, err, text, lbrace,
                                           rbrace + 2);
            return NULL;
        }

        if (type == NGX_HTTP_CLINIC_SEG_CONTENT) {
            content = 1;

        } else if (type == NGX_HTTP_CLINIC_SEG_JSONLD) {
            tpl->jsonld = 1;
        }

        if (ngx_http_clinic_template_push(&segs, type, NULL, NULL) != NGX_OK)
        {
            return NULL;
        }

        p = rbrace + 2;
    }

    if (!content) {
        ngx_str_set(err, "no \"{{content}}\" placeholder");
        return NULL;
    }

    tpl->segs = segs.elts;
    tpl->nsegs = segs.nelts;

    ngx_str_null(err);

    return tpl;
}


static ngx_int_t
ngx_http_clinic_template_push(ngx_array_t *segs, ngx_uint_t type,
    u_char *start, u_char *end)
{
    ngx_http_clinic_segment_t  *seg;

    seg = ngx_array_push(segs);
    if (seg == NULL) {
        return NGX_ERROR;
    }

    seg->type = type;
    seg->text.data = start;
    seg->text.len = end - start;

    return NGX_OK;
}


/* the first of two c in a row in [p, last), or NULL */

static u_char *
ngx_http_clinic_template_find(u_char *p, u_char *last, u_char c)
{
    while (last - p >= 2) {
        p = ngx_strlchr(p, last - 1, c);
        if (p == NULL) {
            return NULL;
        }

        if (p[1] == c) {
            return p;
        }

        p++;
    }

    return NULL;
}


static ngx_uint_t
ngx_http_clinic_template_lookup(u_char *name, size_t len)
{
    ngx_uint_t  i;

    for (i = 1; i < NGX_HTTP_CLINIC_SEG_N; i++) {
        if (ngx_http_clinic_placeholders[i].len == len
            && ngx_strncmp(ngx_http_clinic_placeholders[i].data, name, len)
               == 0)
        {
            return i;
        }
    }

    return NGX_HTTP_CLINIC_SEG_LITERAL;
}


/* names the line, and quotes at most one line of the bad placeholder */

static void
ngx_http_clinic_template_error(ngx_pool_t *pool, ngx_str_t *err,
    ngx_str_t *text, u_char *start, u_char *end)
{
    u_char      *p, *q, *last;
    size_t       len;
    ngx_uint_t   line, cut;

    line = 1;

    for (p = text->data; p < start; p++) {
        if (*p == '\n') {
            line++;
        }
    }

    len = sizeof("unknown placeholder \"...\" at line ") - 1
          + NGX_HTTP_CLINIC_QUOTE_MAX + NGX_INT_T_LEN;

    err->data = ngx_pnalloc(pool, len);
    if (err->data == NULL) {
        ngx_str_set(err, "out of memory");
        return;
    }

    if (end == NULL) {
        last = ngx_sprintf(err->data, "unclosed \"{{\" at line %ui", line);
        err->len = last - err->data;
        return;
    }

    cut = 0;
    last = end;

    if (last - start > NGX_HTTP_CLINIC_QUOTE_MAX) {
        last = start + NGX_HTTP_CLINIC_QUOTE_MAX;
        cut = 1;
    }

    q = ngx_strlchr(start, last, '\n');
    if (q != NULL) {
        last = q;
        cut = 1;
    }

    last = ngx_sprintf(err->data, "unknown placeholder \"%*s%s\" at line %ui",
                       (size_t) (last - start), start, cut ? "..." : "",
                       line);
    err->len = last - err->data;
}


ngx_http_clinic_template_t *
ngx_http_clinic_template_default(ngx_pool_t *pool, ngx_uint_t form)
{
    ngx_str_t  err;

    return ngx_http_clinic_template_compile(pool,
                               form ? &ngx_http_clinic_default_form_template
                                    : &ngx_http_clinic_default_template,
                               &err);
}


/* measures, then writes: one allocation of the exact size */

ngx_int_t
ngx_http_clinic_render_page(ngx_pool_t *pool,
    ngx_http_clinic_template_t *tpl, ngx_http_clinic_page_vars_t *vars,
    ngx_str_t *out)
{
    size_t                      len;
    u_char                     *p, iso[NGX_HTTP_CLINIC_ISO_LEN];
    ngx_str_t                   values[NGX_HTTP_CLINIC_SEG_N];
    ngx_uint_t                  i, type;
    ngx_http_clinic_segment_t  *seg;

    ngx_str_null(&values[NGX_HTTP_CLINIC_SEG_LITERAL]);
    values[NGX_HTTP_CLINIC_SEG_TITLE] = vars->title;
    values[NGX_HTTP_CLINIC_SEG_SUMMARY] = vars->summary;
    values[NGX_HTTP_CLINIC_SEG_CONTENT] = vars->content;
    values[NGX_HTTP_CLINIC_SEG_SLUG] = vars->slug;
    values[NGX_HTTP_CLINIC_SEG_TENANT] = vars->tenant;
    values[NGX_HTTP_CLINIC_SEG_CLINIC_NAME] = vars->clinic_name;
    values[NGX_HTTP_CLINIC_SEG_CANONICAL] = vars->canonical;
    values[NGX_HTTP_CLINIC_SEG_CONTACT_URL] = vars->contact_url;
    values[NGX_HTTP_CLINIC_SEG_LIST_URL] = vars->list_url;
    values[NGX_HTTP_CLINIC_SEG_ARTICLES_URL] = vars->list_url;
    values[NGX_HTTP_CLINIC_SEG_PHONE] = vars->phone;

    values[NGX_HTTP_CLINIC_SEG_UPDATED].data = iso;
    values[NGX_HTTP_CLINIC_SEG_UPDATED].len =
                                ngx_http_clinic_iso_time(iso, vars->updated);

    ngx_str_null(&values[NGX_HTTP_CLINIC_SEG_JSONLD]);

    if (ngx_http_clinic_render_phone_link(pool, &vars->phone,
                                    &values[NGX_HTTP_CLINIC_SEG_PHONE_LINK])
        != NGX_OK
        || ngx_http_clinic_render_feed_link(pool, vars,
                                     &values[NGX_HTTP_CLINIC_SEG_FEED_LINK])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (tpl->jsonld && !vars->not_found
        && ngx_http_clinic_render_jsonld(pool, vars,
                                         &values[NGX_HTTP_CLINIC_SEG_UPDATED],
                                         &values[NGX_HTTP_CLINIC_SEG_JSONLD])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = 0;
    seg = tpl->segs;

    for (i = 0; i < tpl->nsegs; i++) {
        type = seg[i].type;

        switch (type) {

        case NGX_HTTP_CLINIC_SEG_LITERAL:
            len += seg[i].text.len;
            break;

        case NGX_HTTP_CLINIC_SEG_CONTENT:
        case NGX_HTTP_CLINIC_SEG_JSONLD:
        case NGX_HTTP_CLINIC_SEG_PHONE_LINK:
        case NGX_HTTP_CLINIC_SEG_FEED_LINK:
            len += values[type].len;
            break;

        default:
            len += ngx_http_clinic_text_escape_html(NULL, values[type].data,
                                                    values[type].len);
        }
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (i = 0; i < tpl->nsegs; i++) {
        type = seg[i].type;

        switch (type) {

        case NGX_HTTP_CLINIC_SEG_LITERAL:
            p = ngx_cpymem(p, seg[i].text.data, seg[i].text.len);
            break;

        case NGX_HTTP_CLINIC_SEG_CONTENT:
        case NGX_HTTP_CLINIC_SEG_JSONLD:
        case NGX_HTTP_CLINIC_SEG_PHONE_LINK:
        case NGX_HTTP_CLINIC_SEG_FEED_LINK:
            /* an empty value may have NULL data: memcpy() must not see it */
            if (values[type].len) {
                p = ngx_cpymem(p, values[type].data, values[type].len);
            }

            break;

        default:
            p += ngx_http_clinic_text_escape_html(p, values[type].data,
                                                  values[type].len);
        }
    }

    out->len = p - out->data;

    return NGX_OK;
}


/* "2026-11-26T10:00:00Z", or nothing for an unknown (<= 0) time */

static size_t
ngx_http_clinic_iso_time(u_char *buf, time_t t)
{
    u_char    *p;
    ngx_tm_t   tm;

    if (t <= 0) {
        return 0;
    }

    ngx_gmtime(t, &tm);

    p = ngx_snprintf(buf, NGX_HTTP_CLINIC_ISO_LEN,
                     "%04d-%02d-%02dT%02d:%02d:%02dZ",
                     tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                     tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);

    return p - buf;
}


static ngx_int_t
ngx_http_clinic_render_jsonld(ngx_pool_t *pool,
    ngx_http_clinic_page_vars_t *vars, ngx_str_t *updated, ngx_str_t *out)
{
    json_t  *ld, *publisher;

    ngx_str_null(out);

    if (!vars->article && vars->canonical.len == 0) {
        return NGX_OK;
    }

    ld = json_object();
    if (ld == NULL) {
        return NGX_ERROR;
    }

    if (json_object_set_new(ld, "@context",
                            json_string("https://schema.org")) != 0
        || json_object_set_new(ld, "@type",
                               json_string(vars->article ? "MedicalWebPage"
                                           : vars->contact ? "ContactPage"
                                           : "WebPage")) != 0
        || ngx_http_clinic_json_set(ld, "name", &vars->title) != NGX_OK
        || (vars->article
            && ngx_http_clinic_json_set(ld, "headline", &vars->title)
               != NGX_OK)
        || ngx_http_clinic_json_set_nonempty(ld, "description",
                                             &vars->summary) != NGX_OK
        || ngx_http_clinic_json_set_nonempty(ld, "url", &vars->canonical)
           != NGX_OK
        || ngx_http_clinic_json_set_nonempty(ld, "dateModified", updated)
           != NGX_OK)
    {
        json_decref(ld);
        return NGX_ERROR;
    }

    if (vars->clinic_name.len) {
        publisher = json_object();

        /* a failed set_new releases the value it was given */

        if (json_object_set_new(ld, "publisher", publisher) != 0
            || json_object_set_new(publisher, "@type",
                                   json_string("MedicalClinic")) != 0
            || ngx_http_clinic_json_set(publisher, "name",
                                        &vars->clinic_name) != NGX_OK
            || ngx_http_clinic_json_set_nonempty(publisher, "telephone",
                                                 &vars->phone) != NGX_OK)
        {
            json_decref(ld);
            return NGX_ERROR;
        }
    }

    return ngx_http_clinic_render_script(pool, ld, out);
}


/*
 * <script type="application/ld+json">, with < > & as \u escapes;
 * releases json
 */

static ngx_int_t
ngx_http_clinic_render_script(ngx_pool_t *pool, json_t *json,
    ngx_str_t *out)
{
    size_t     len;
    u_char    *p, *s, *last;
    ngx_str_t  text;

    static u_char  head[] = "<script type=\"application/ld+json\">";
    static u_char  tail[] = "</script>";

    if (ngx_http_clinic_json_dump(pool, json, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    /* without the dump's final newline */
    last = text.data + text.len - 1;

    len = sizeof(head) - 1 + sizeof(tail) - 1;

    for (s = text.data; s < last; s++) {
        len += (*s == '<' || *s == '>' || *s == '&') ? 6 : 1;
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, head, sizeof(head) - 1);

    /* only inside strings: JSON itself has none of the three */

    for (s = text.data; s < last; s++) {

        switch (*s) {

        case '<':
            p = ngx_cpymem(p, "\\u003c", 6);
            break;

        case '>':
            p = ngx_cpymem(p, "\\u003e", 6);
            break;

        case '&':
            p = ngx_cpymem(p, "\\u0026", 6);
            break;

        default:
            *p++ = *s;
        }
    }

    p = ngx_cpymem(p, tail, sizeof(tail) - 1);

    out->len = p - out->data;

    return NGX_OK;
}


/* <a class="phone" href="tel:+441632960000">+44 1632 960000</a>, or none */

static ngx_int_t
ngx_http_clinic_render_phone_link(ngx_pool_t *pool, ngx_str_t *phone,
    ngx_str_t *out)
{
    ngx_http_clinic_out_t  o;

    ngx_str_null(out);

    if (phone->len == 0) {
        return NGX_OK;
    }

    o.p = NULL;
    o.len = 0;
    ngx_http_clinic_out_tel(&o, phone);

    out->data = ngx_pnalloc(pool, o.len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    o.p = out->data;
    ngx_http_clinic_out_tel(&o, phone);
    out->len = o.p - out->data;

    return NGX_OK;
}


/* <link rel="alternate" type="application/atom+xml" ...>, or nothing */

static ngx_int_t
ngx_http_clinic_render_feed_link(ngx_pool_t *pool,
    ngx_http_clinic_page_vars_t *vars, ngx_str_t *out)
{
    if (vars->feed_url.len == 0) {
        ngx_str_null(out);
        return NGX_OK;
    }

    return ngx_http_clinic_render_twice(pool, ngx_http_clinic_feed_link_write,
                                        vars, out);
}


static void
ngx_http_clinic_feed_link_write(ngx_http_clinic_out_t *o, void *data)
{
    ngx_http_clinic_page_vars_t  *vars = data;

    ngx_http_clinic_out(o, "<link rel=\"alternate\" "
                           "type=\"application/atom+xml\" title=\"");
    ngx_http_clinic_out_esc(o, &vars->clinic_name);
    ngx_http_clinic_out(o, "\" href=\"");
    ngx_http_clinic_out_esc(o, &vars->feed_url);
    ngx_http_clinic_out(o, "\">\n");
}


/* measures with write(), then writes into exactly that much pool memory */

static ngx_int_t
ngx_http_clinic_render_twice(ngx_pool_t *pool,
    ngx_http_clinic_write_pt write, void *data, ngx_str_t *out)
{
    ngx_http_clinic_out_t  o;

    o.p = NULL;
    o.len = 0;

    write(&o, data);

    out->data = ngx_pnalloc(pool, o.len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    o.p = out->data;
    o.len = 0;

    write(&o, data);

    out->len = o.len;

    return NGX_OK;
}


static void
ngx_http_clinic_out(ngx_http_clinic_out_t *o, const char *s)
{
    ngx_http_clinic_out_str(o, (u_char *) s, ngx_strlen(s));
}


static void
ngx_http_clinic_out_str(ngx_http_clinic_out_t *o, u_char *data, size_t len)
{
    o->len += len;

    if (o->p && len) {
        o->p = ngx_cpymem(o->p, data, len);
    }
}


static void
ngx_http_clinic_out_esc(ngx_http_clinic_out_t *o, ngx_str_t *s)
{
    ngx_http_clinic_out_escaped(o, ngx_http_clinic_text_escape_html, s);
}


static void
ngx_http_clinic_out_xml(ngx_http_clinic_out_t *o, ngx_str_t *s)
{
    ngx_http_clinic_out_escaped(o, ngx_http_clinic_text_escape_xml, s);
}


static void
ngx_http_clinic_out_escaped(ngx_http_clinic_out_t *o,
    ngx_http_clinic_escape_pt escape, ngx_str_t *s)
{
    size_t  n;

    n = escape(o->p, s->data, s->len);

    o->len += n;

    if (o->p) {
        o->p += n;
    }
}


static void
ngx_http_clinic_out_time(ngx_http_clinic_out_t *o, time_t t)
{
    u_char  iso[NGX_HTTP_CLINIC_ISO_LEN];

    ngx_http_clinic_out_str(o, iso, ngx_http_clinic_iso_time(iso, t));
}


/* <name>escaped s</name> and a newline */

static void
ngx_http_clinic_out_elt(ngx_http_clinic_out_t *o, const char *name,
    ngx_str_t *s)
{
    ngx_http_clinic_out(o, "<");
    ngx_http_clinic_out(o, name);
    ngx_http_clinic_out(o, ">");
    ngx_http_clinic_out_xml(o, s);
    ngx_http_clinic_out(o, "</");
    ngx_http_clinic_out(o, name);
    ngx_http_clinic_out(o, ">\n");
}


static void
ngx_http_clinic_out_uint(ngx_http_clinic_out_t *o, ngx_uint_t n)
{
    u_char  buf[NGX_INT_T_LEN];

    ngx_http_clinic_out_str(o, buf, ngx_sprintf(buf, "%ui", n) - buf);
}


/* "preferred_time" reads "Preferred time" */

static void
ngx_http_clinic_out_label(ngx_http_clinic_out_t *o, ngx_str_t *name)
{
    u_char     *p, buf[NGX_HTTP_CLINIC_LABEL_MAX];
    size_t      i;
    ngx_str_t   label;

    label.data = buf;
    label.len = ngx_min(name->len, NGX_HTTP_CLINIC_LABEL_MAX);

    for (i = 0, p = buf; i < label.len; i++) {
        *p = name->data[i];

        if (*p == '_' || *p == '-') {
            *p = ' ';
        }

        p++;
    }

    if (label.len && buf[0] >= 'a' && buf[0] <= 'z') {
        buf[0] -= 'a' - 'A';
    }

    ngx_http_clinic_out_esc(o, &label);
}


/*
 * A tel: link: its href only the digits and a leading +; in an
 * international number, what stands in parentheses is the trunk prefix
 * dialled at home only ("+44 (0)161" is dialled +44161)
 */

static void
ngx_http_clinic_out_tel(ngx_http_clinic_out_t *o, ngx_str_t *phone)
{
    size_t      i;
    ngx_uint_t  paren;

    ngx_http_clinic_out(o, "<a class=\"phone\" href=\"tel:");

    paren = 0;

    for (i = 0; i < phone->len; i++) {
        if (phone->data[i] == '(' || phone->data[i] == ')') {
            paren = (phone->data[i] == '(');
            continue;
        }

        if (paren && phone->data[0] == '+') {
            continue;
        }

        if ((phone->data[i] >= '0' && phone->data[i] <= '9')
            || (phone->data[i] == '+' && i == 0))
        {
            ngx_http_clinic_out_str(o, &phone->data[i], 1);
        }
    }

    ngx_http_clinic_out(o, "\">");
    ngx_http_clinic_out_esc(o, phone);
    ngx_http_clinic_out(o, "</a>");
}


/* "Please call us on <phone>." with the phone as a link, or without one */

static void
ngx_http_clinic_out_call(ngx_http_clinic_out_t *o, ngx_str_t *phone)
{
    ngx_http_clinic_out(o, "<p id=\"call-us\">");

    if (phone->len == 0) {
        ngx_http_clinic_out(o, "Please call the clinic.</p>\n");
        return;
    }

    ngx_http_clinic_out(o, "Please call us on ");
    ngx_http_clinic_out_tel(o, phone);
    ngx_http_clinic_out(o, ".</p>\n");
}


ngx_int_t
ngx_http_clinic_render_form(ngx_pool_t *pool,
    ngx_http_clinic_form_view_t *view, ngx_str_t *out)
{
    ngx_http_clinic_out_t  o;

    o.p = NULL;
    o.len = 0;
    ngx_http_clinic_form_write(&o, view);

    out->data = ngx_pnalloc(pool, o.len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    o.p = out->data;
    ngx_http_clinic_form_write(&o, view);
    out->len = o.p - out->data;

    return NGX_OK;
}


/*
 * The error summary (when a field failed), a line with the phone, the
 * form, the honeypot last: off screen, out of the tab order and hidden
 * from screen readers, so that only a bot fills it in.
 */

static void
ngx_http_clinic_form_write(ngx_http_clinic_out_t *o,
    ngx_http_clinic_form_view_t *view)
{
    ngx_uint_t                     i, errors;
    ngx_http_clinic_field_view_t  *f;

    ngx_http_clinic_out(o, "<style>\n"
        ".clinic-contact{max-width:40rem}\n"
        ".clinic-contact .field{margin:0 0 1.25rem}\n"
        ".clinic-contact label{display:block;font-weight:600;"
        "margin:0 0 .3rem}\n"
        ".clinic-contact .req{font-weight:400}\n"
        ".clinic-contact input,.clinic-contact textarea{box-sizing:"
        "border-box;width:100%;padding:.6rem .7rem;font:inherit;"
        "font-size:1rem;color:inherit;background:#fff;"
        "border:2px solid #4a5560;border-radius:.3rem}\n"
        ".clinic-contact textarea{min-height:9rem;resize:vertical}\n"
        ".clinic-contact input:focus,.clinic-contact textarea:focus,"
        ".clinic-contact button:focus,#error-summary:focus{"
        "outline:3px solid #c25e00;outline-offset:1px}\n"
        ".clinic-contact [aria-invalid=true]{border-color:#b00020}\n"
        ".clinic-contact .field-error{margin:.3rem 0 0;color:#b00020;"
        "font-weight:600}\n"
        "#error-summary{margin:0 0 1.5rem;padding:1rem;"
        "border:3px solid #b00020}\n"
        "#error-summary h2{margin:0 0 .5rem;font-size:1.2rem}\n"
        "#error-summary a{color:#b00020;font-weight:600}\n"
        ".clinic-contact button{min-height:44px;padding:.75rem 1.5rem;"
        "font:inherit;font-weight:700;color:#fff;background:#0a4a85;"
        "border:0;border-radius:.4rem;cursor:pointer}\n"
        ".clinic-contact .hp{position:absolute;left:-10000px;width:1px;"
        "height:1px;overflow:hidden}\n"
        "</style>\n"
        "<div class=\"clinic-contact\">\n");

    errors = 0;

    for (i = 0; i < view->nfields; i++) {
        if (view->fields[i].error.len) {
            errors++;
        }
    }

    if (errors) {
        ngx_http_clinic_out(o, "<div id=\"error-summary\" role=\"alert\" "
                               "tabindex=\"-1\">\n"
                               "<h2>Please check the form</h2>\n<ul>\n");

        for (i = 0; i < view->nfields; i++) {
            f = &view->fields[i];

            if (f->error.len == 0) {
                continue;
            }

            ngx_http_clinic_out(o, "<li><a href=\"#field-");
            ngx_http_clinic_out_esc(o, &f->name);
            ngx_http_clinic_out(o, "\">");
            ngx_http_clinic_out_label(o, &f->name);
            ngx_http_clinic_out(o, " ");
            ngx_http_clinic_out_esc(o, &f->error);
            ngx_http_clinic_out(o, "</a></li>\n");
        }

        ngx_http_clinic_out(o, "</ul>\n</div>\n");
    }

    ngx_http_clinic_out(o, "<p class=\"intro\">Send us a message and we "
                           "will get back to you soon.");

    if (view->phone.len) {
        ngx_http_clinic_out(o, " Prefer to talk? Call us on ");
        ngx_http_clinic_out_tel(o, &view->phone);
        ngx_http_clinic_out(o, ".");
    }

    ngx_http_clinic_out(o, "</p>\n<form id=\"contact-form\" method=\"post\" "
                           "action=\"");
    ngx_http_clinic_out_esc(o, &view->action);
    ngx_http_clinic_out(o, "\">\n");

    for (i = 0; i < view->nfields; i++) {
        f = &view->fields[i];

        /* keyboard users land on the first field to fix */
        ngx_http_clinic_form_write_field(o, f, f->error.len && errors);

        if (f->error.len) {
            errors = 0;
        }
    }

    if (view->honeypot.len) {
        ngx_http_clinic_out(o, "<div class=\"hp\" aria-hidden=\"true\">"
                               "<label for=\"hp-");
        ngx_http_clinic_out_esc(o, &view->honeypot);
        ngx_http_clinic_out(o, "\">Leave this field empty</label>"
                               "<input type=\"text\" name=\"");
        ngx_http_clinic_out_esc(o, &view->honeypot);
        ngx_http_clinic_out(o, "\" id=\"hp-");
        ngx_http_clinic_out_esc(o, &view->honeypot);
        ngx_http_clinic_out(o, "\" value=\"\" tabindex=\"-1\" "
                               "autocomplete=\"off\"></div>\n");
    }

    ngx_http_clinic_out(o, "<p><button type=\"submit\" id=\"contact-submit\">"
                           "Send message</button></p>\n</form>\n</div>\n");
}


/*
 * One field: its label, its input (a textarea for a message or long text),
 * and its error right after it, named by the input's aria-describedby.
 */

static void
ngx_http_clinic_form_write_field(ngx_http_clinic_out_t *o,
    ngx_http_clinic_field_view_t *f, ngx_uint_t focus)
{
    ngx_uint_t  area;

    area = f->type == NGX_HTTP_CLINIC_FIELD_TEXT
           && ((f->name.len == 7
                && ngx_strncmp(f->name.data, "message", 7) == 0)
               || f->max == 0 || f->max > NGX_HTTP_CLINIC_LINE_MAX);

    ngx_http_clinic_out(o, "<div class=\"field\">\n<label for=\"field-");
    ngx_http_clinic_out_esc(o, &f->name);
    ngx_http_clinic_out(o, "\">");
    ngx_http_clinic_out_label(o, &f->name);

    if (f->required) {
        ngx_http_clinic_out(o, " <span class=\"req\">(required)</span>");
    }

    ngx_http_clinic_out(o, area ? "</label>\n<textarea" : "</label>\n<input");

    if (!area) {
        ngx_http_clinic_out(o,
                   f->type == NGX_HTTP_CLINIC_FIELD_EMAIL ? " type=\"email\""
                   : f->type == NGX_HTTP_CLINIC_FIELD_PHONE ? " type=\"tel\""
                   : " type=\"text\"");
    }

    ngx_http_clinic_out(o, " name=\"");
    ngx_http_clinic_out_esc(o, &f->name);
    ngx_http_clinic_out(o, "\" id=\"field-");
    ngx_http_clinic_out_esc(o, &f->name);
    ngx_http_clinic_out(o, "\"");

    if (area) {
        ngx_http_clinic_out(o, " rows=\"6\"");
    }

    if (f->max) {
        ngx_http_clinic_out(o, " maxlength=\"");
        ngx_http_clinic_out_uint(o, f->max);
        ngx_http_clinic_out(o, "\"");
    }

    if (f->required) {
        ngx_http_clinic_out(o, " required");
    }

    if (f->type == NGX_HTTP_CLINIC_FIELD_EMAIL) {
        ngx_http_clinic_out(o, " autocomplete=\"email\"");

    } else if (f->type == NGX_HTTP_CLINIC_FIELD_PHONE) {
        ngx_http_clinic_out(o, " autocomplete=\"tel\"");

    } else if (f->name.len == 4 && ngx_strncmp(f->name.data, "name", 4) == 0)
    {
        ngx_http_clinic_out(o, " autocomplete=\"name\"");
    }

    if (f->error.len) {
        ngx_http_clinic_out(o, " aria-invalid=\"true\" "
                               "aria-describedby=\"error-");
        ngx_http_clinic_out_esc(o, &f->name);
        ngx_http_clinic_out(o, "\"");

        if (focus) {
            ngx_http_clinic_out(o, " autofocus");
        }
    }

    if (area) {
        ngx_http_clinic_out(o, ">");
        ngx_http_clinic_out_esc(o, &f->value);
        ngx_http_clinic_out(o, "</textarea>\n");

    } else {
        ngx_http_clinic_out(o, " value=\"");
        ngx_http_clinic_out_esc(o, &f->value);
        ngx_http_clinic_out(o, "\">\n");
    }

    if (f->error.len) {
        ngx_http_clinic_out(o, "<p id=\"error-");
        ngx_http_clinic_out_esc(o, &f->name);
        ngx_http_clinic_out(o, "\" class=\"field-error\">");
        ngx_http_clinic_out_label(o, &f->name);
        ngx_http_clinic_out(o, " ");
        ngx_http_clinic_out_esc(o, &f->error);
        ngx_http_clinic_out(o, "</p>\n");
    }

    ngx_http_clinic_out(o, "</div>\n");
}


ngx_int_t
ngx_http_clinic_render_notice(ngx_pool_t *pool,
    ngx_http_clinic_notice_view_t *view, ngx_str_t *out)
{
    ngx_http_clinic_out_t  o;

    o.p = NULL;
    o.len = 0;
    ngx_http_clinic_notice_write(&o, view);

    out->data = ngx_pnalloc(pool, o.len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    o.p = out->data;
    ngx_http_clinic_notice_write(&o, view);
    out->len = o.p - out->data;

    return NGX_OK;
}


static void
ngx_http_clinic_notice_write(ngx_http_clinic_out_t *o,
    ngx_http_clinic_notice_view_t *view)
{
    ngx_http_clinic_out(o, "<div class=\"clinic-notice\"");

    if (view->id) {
        ngx_http_clinic_out(o, " id=\"");
        ngx_http_clinic_out(o, view->id);
        ngx_http_clinic_out(o, "\"");
    }

    ngx_http_clinic_out(o, ">\n<p>");
    ngx_http_clinic_out_esc(o, &view->text);
    ngx_http_clinic_out(o, "</p>\n");

    if (view->call) {
        ngx_http_clinic_out_call(o, &view->phone);
    }

    if (view->back.len) {
        ngx_http_clinic_out(o, "<p><a href=\"");
        ngx_http_clinic_out_esc(o, &view->back);
        ngx_http_clinic_out(o, "\">Back to the contact form</a></p>\n");
    }

    ngx_http_clinic_out(o, "</div>\n");
}


/* the listing's <ul>: measured, then written, every value escaped */

ngx_int_t
ngx_http_clinic_render_list_html(ngx_pool_t *pool,
    ngx_http_clinic_list_item_t *items, ngx_uint_t n, ngx_str_t *out)
{
    size_t                        len;
    u_char                       *p;
    ngx_uint_t                    i;
    ngx_http_clinic_list_item_t  *it;

    static u_char  empty[] = "<p class=\"articles-empty\">No articles yet."
                             "</p>\n";
    static u_char  ul[] = "<ul class=\"articles\">\n";
    static u_char  li[] = "<li><a href=\"";
    static u_char  a[] = "\">";
    static u_char  a_end[] = "</a>";
    static u_char  para[] = "<p>";
    static u_char  para_end[] = "</p>";
    static u_char  li_end[] = "</li>\n";
    static u_char  ul_end[] = "</ul>\n";

    if (n == 0) {
        out->data = ngx_pnalloc(pool, sizeof(empty) - 1);
        if (out->data == NULL) {
            return NGX_ERROR;
        }

        out->len = ngx_cpymem(out->data, empty, sizeof(empty) - 1)
                   - out->data;
        return NGX_OK;
    }

    len = sizeof(ul) - 1 + sizeof(ul_end) - 1;

    for (i = 0; i < n; i++) {
        it = &items[i];

        len += sizeof(li) - 1 + sizeof(a) - 1 + sizeof(a_end) - 1
               + sizeof(li_end) - 1
               + ngx_http_clinic_text_escape_html(NULL, it->url.data,
                                                  it->url.len)
               + ngx_http_clinic_text_escape_html(NULL, it->title.data,
                                                  it->title.len);

        if (it->summary.len) {
            len += sizeof(para) - 1 + sizeof(para_end) - 1
                   + ngx_http_clinic_text_escape_html(NULL, it->summary.data,
                                                      it->summary.len);
        }
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, ul, sizeof(ul) - 1);

    for (i = 0; i < n; i++) {
        it = &items[i];

        p = ngx_cpymem(p, li, sizeof(li) - 1);
        p += ngx_http_clinic_text_escape_html(p, it->url.data, it->url.len);
        p = ngx_cpymem(p, a, sizeof(a) - 1);
        p += ngx_http_clinic_text_escape_html(p, it->title.data, it->title.len);
        p = ngx_cpymem(p, a_end, sizeof(a_end) - 1);

        if (it->summary.len) {
            p = ngx_cpymem(p, para, sizeof(para) - 1);
            p += ngx_http_clinic_text_escape_html(p, it->summary.data,
                                                  it->summary.len);
            p = ngx_cpymem(p, para_end, sizeof(para_end) - 1);
        }

        p = ngx_cpymem(p, li_end, sizeof(li_end) - 1);
    }

    p = ngx_cpymem(p, ul_end, sizeof(ul_end) - 1);

    out->len = p - out->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_clinic_render_api_list(ngx_pool_t *pool,
    ngx_http_clinic_list_item_t *items, ngx_uint_t n, ngx_uint_t total,
    ngx_uint_t limit, ngx_uint_t offset, ngx_str_t *out)
{
    json_t      *json, *list, *item;
    ngx_uint_t   i;

    json = json_object();
    if (json == NULL) {
        return NGX_ERROR;
    }

    /* list belongs to json from here on, even when the set fails */

    list = json_array();

    if (json_object_set_new(json, "articles", list) != 0) {
        json_decref(json);
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        item = ngx_http_clinic_render_api_item(&items[i]);

        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(json);
            return NGX_ERROR;
        }
    }

    if (json_object_set_new(json, "total", json_integer(total)) != 0
        || json_object_set_new(json, "limit", json_integer(limit)) != 0
        || json_object_set_new(json, "offset", json_integer(offset)) != 0)
    {
        json_decref(json);
        return NGX_ERROR;
    }

    return ngx_http_clinic_json_dump(pool, json, out);
}


ngx_int_t
ngx_http_clinic_render_api_article(ngx_pool_t *pool,
    ngx_http_clinic_api_article_t *article, ngx_str_t *out)
{
    json_t                       *json, *links, *link;
    ngx_uint_t                    i;
    ngx_http_clinic_link_item_t  *l;

    json = ngx_http_clinic_render_api_item(&article->item);
    if (json == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_clinic_json_set(json, "html", &article->html) != NGX_OK
        || json_object_set_new(json, "headings",
                               ngx_http_clinic_render_strings(
                                   article->headings, article->nheadings))
           != 0)
    {
        json_decref(json);
        return NGX_ERROR;
    }

    /* each new value belongs to its parent even when adding it fails */

    links = json_array();

    if (json_object_set_new(json, "links", links) != 0) {
        json_decref(json);
        return NGX_ERROR;
    }

    for (i = 0; i < article->nlinks; i++) {
        l = &article->links[i];

        link = json_object();

        if (json_array_append_new(links, link) != 0
            || ngx_http_clinic_json_set(link, "text", &l->text) != NGX_OK
            || ngx_http_clinic_json_set(link, "slug", &l->slug) != NGX_OK
            || ngx_http_clinic_json_set(link, "url", &l->url) != NGX_OK)
        {
            json_decref(json);
            return NGX_ERROR;
        }
    }

    if (json_object_set_new(json, "unresolved_links",
                            ngx_http_clinic_render_strings(
                                article->unresolved, article->nunresolved))
        != 0)
    {
        json_decref(json);
        return NGX_ERROR;
    }

    return ngx_http_clinic_json_dump(pool, json, out);
}


/* {"slug","title","summary","url","updated"}, or NULL */

static json_t *
ngx_http_clinic_render_api_item(ngx_http_clinic_list_item_t *item)
{
    json_t  *obj;

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }

    if (ngx_http_clinic_json_set(obj, "slug", &item->slug) != NGX_OK
        || ngx_http_clinic_json_set(obj, "title", &item->title) != NGX_OK
        || ngx_http_clinic_json_set(obj, "summary", &item->summary) != NGX_OK
        || ngx_http_clinic_json_set(obj, "url", &item->url) != NGX_OK
        || json_object_set_new(obj, "updated",
                               ngx_http_clinic_json_time(item->updated))
           != 0)
    {
        json_decref(obj);
        return NULL;
    }

    return obj;
}


/* an array of n strings, or NULL */

static json_t *
ngx_http_clinic_render_strings(ngx_str_t *s, ngx_uint_t n)
{
    json_t      *array;
    ngx_uint_t   i;

    array = json_array();
    if (array == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (json_array_append_new(array, ngx_http_clinic_json_str(&s[i]))
            != 0)
        {
            json_decref(array);
            return NULL;
        }
    }

    return array;
}


/* NGX_ERROR when value is not UTF-8 or memory runs out */

static ngx_int_t
ngx_http_clinic_json_set(json_t *obj, const char *key, ngx_str_t *value)
{
    if (json_object_set_new(obj, key, ngx_http_clinic_json_str(value)) != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_clinic_json_set_nonempty(json_t *obj, const char *key,
    ngx_str_t *value)
{
    if (value->len == 0) {
        return NGX_OK;
    }

    return ngx_http_clinic_json_set(obj, key, value);
}


/* an empty ngx_str_t may have NULL data, which json_stringn refuses */

static json_t *
ngx_http_clinic_json_str(ngx_str_t *value)
{
    if (value->len == 0) {
        return json_string("");
    }

    return json_stringn((const char *) value->data, value->len);
}


static json_t *
ngx_http_clinic_json_time(time_t t)
{
    size_t  len;
    u_char  iso[NGX_HTTP_CLINIC_ISO_LEN];

    len = ngx_http_clinic_iso_time(iso, t);

    if (len == 0) {
        return json_null();
    }

    return json_stringn((const char *) iso, len);
}


ngx_int_t
ngx_http_clinic_render_xml(ngx_pool_t *pool, ngx_http_clinic_xml_view_t *view,
    ngx_str_t *out)
{
    return ngx_http_clinic_render_twice(pool,
                                        view->feed
                                        ? ngx_http_clinic_feed_write
                                        : ngx_http_clinic_sitemap_write,
                                        view, out);
}


static void
ngx_http_clinic_sitemap_write(ngx_http_clinic_out_t *o, void *data)
{
    ngx_http_clinic_xml_view_t  *xml = data;

    ngx_uint_t                    i;
    ngx_http_clinic_list_item_t  *it;

    ngx_http_clinic_out(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<urlset xmlns=\"http://www.sitemaps.org/"
                           "schemas/sitemap/0.9\">\n");

    for (i = 0; i <= xml->n; i++) {
        it = (i == 0) ? xml->list : &xml->items[i - 1];

        ngx_http_clinic_out(o, "<url>\n");
        ngx_http_clinic_out_elt(o, "loc", &it->url);

        if (it->updated > 0) {
            ngx_http_clinic_out(o, "<lastmod>");
            ngx_http_clinic_out_time(o, it->updated);
            ngx_http_clinic_out(o, "</lastmod>\n");
        }

        ngx_http_clinic_out(o, "</url>\n");
    }

    ngx_http_clinic_out(o, "</urlset>\n");
}


static void
ngx_http_clinic_feed_write(ngx_http_clinic_out_t *o, void *data)
{
    ngx_http_clinic_xml_view_t  *xml = data;

    ngx_uint_t                    i;
    ngx_http_clinic_list_item_t  *it;
    ngx_http_clinic_feed_view_t  *feed;

    feed = xml->feed;

    ngx_http_clinic_out(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    ngx_http_clinic_out_elt(o, "id", &feed->id);
    ngx_http_clinic_out_elt(o, "title", &feed->title);
    ngx_http_clinic_out(o, "<updated>");
    ngx_http_clinic_out_time(o, feed->updated);
    ngx_http_clinic_out(o, "</updated>\n"
                           "<link rel=\"self\" type=\"application/atom+xml\" "
                           "href=\"");
    ngx_http_clinic_out_xml(o, &feed->self);
    ngx_http_clinic_out(o, "\"/>\n"
                           "<link rel=\"alternate\" type=\"text/html\" "
                           "href=\"");
    ngx_http_clinic_out_xml(o, &feed->alternate);
    ngx_http_clinic_out(o, "\"/>\n<author>");
    ngx_http_clinic_out_elt(o, "name", &feed->title);
    ngx_http_clinic_out(o, "</author>\n");

    for (i = 0; i < xml->n; i++) {
        it = &xml->items[i];

        ngx_http_clinic_out(o, "<entry>\n");
        ngx_http_clinic_out_elt(o, "id", &it->url);
        ngx_http_clinic_out_elt(o, "title", &it->title);
        ngx_http_clinic_out(o, "<link rel=\"alternate\" type=\"text/html\" "
                               "href=\"");
        ngx_http_clinic_out_xml(o, &it->url);
        ngx_http_clinic_out(o, "\"/>\n<updated>");
        ngx_http_clinic_out_time(o, it->updated);
        ngx_http_clinic_out(o, "</updated>\n");

        if (it->summary.len) {
            ngx_http_clinic_out_elt(o, "summary", &it->summary);
        }

        ngx_http_clinic_out(o, "</entry>\n");
    }

    ngx_http_clinic_out(o, "</feed>\n");
}
