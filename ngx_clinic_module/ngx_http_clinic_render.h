
/*
 * Rendering: page templates, the article page, the listing, the 404 page,
 * the contact form and its notices, JSON-LD and the JSON content API
 * bodies.  Nothing here does I/O.
 */


#ifndef _NGX_HTTP_CLINIC_RENDER_H_INCLUDED_
#define _NGX_HTTP_CLINIC_RENDER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct ngx_http_clinic_template_s  ngx_http_clinic_template_t;


/* what a page shows; every field but content and jsonld gets escaped */
typedef struct {
    ngx_str_t                        title;
    ngx_str_t                        summary;
    ngx_str_t                        content;    /* trusted HTML */
    ngx_str_t                        slug;
    ngx_str_t                        tenant;
    ngx_str_t                        clinic_name;
    ngx_str_t                        canonical;  /* absolute URL */
    ngx_str_t                        contact_url;
    ngx_str_t                        list_url;   /* the articles prefix */
    ngx_str_t                        phone;      /* clinic_phone */
    ngx_str_t                        feed_url;   /* the Atom feed, or none */
    time_t                           updated;
    unsigned                         article:1;  /* MedicalWebPage JSON-LD */
    unsigned                         contact:1;  /* ContactPage JSON-LD */
    unsigned                         not_found:1; /* no JSON-LD at all */
} ngx_http_clinic_page_vars_t;


/* one field of the contact form as the page shows it */
typedef struct {
    ngx_str_t                        name;
    ngx_uint_t                       type;       /* NGX_HTTP_CLINIC_FIELD_* */
    ngx_uint_t                       max;        /* characters, 0: none */
    ngx_str_t                        value;      /* kept on a re-render */
    ngx_str_t                        error;      /* "is required", or none */
    unsigned                         required:1;
} ngx_http_clinic_field_view_t;


/* the contact form (docs/api.md, "The contact page") */
typedef struct {
    ngx_str_t                        action;     /* the form's location */
    ngx_http_clinic_field_view_t    *fields;
    ngx_uint_t                       nfields;
    ngx_str_t                        honeypot;   /* a field name, or none */
    ngx_str_t                        phone;
} ngx_http_clinic_form_view_t;


/* a short page of the contact form: thank you, or why not */
typedef struct {
    const char                      *id;         /* of the notice, or NULL */
    ngx_str_t                        text;       /* a sentence, escaped */
    ngx_str_t                        phone;
    ngx_str_t                        back;       /* the form, or none */
    unsigned                         call:1;     /* a "call us" paragraph */
} ngx_http_clinic_notice_view_t;


/* one entry of a listing (HTML or JSON) */
typedef struct {
    ngx_str_t                        slug;
    ngx_str_t                        title;
    ngx_str_t                        summary;
    ngx_str_t                        url;        /* path, e.g. /treatments/x */
    time_t                           updated;
} ngx_http_clinic_list_item_t;


/* one resolved [LINK] of an article, for the API */
typedef struct {
    ngx_str_t                        text;
    ngx_str_t                        slug;
    ngx_str_t                        url;
} ngx_http_clinic_link_item_t;


/* the Atom feed's own elements (docs/directives.md, clinic_feed) */
typedef struct {
    ngx_str_t                        id;         /* the listing's URL */
    ngx_str_t                        title;      /* the clinic's name */
    ngx_str_t                        self;       /* the feed's URL */
    ngx_str_t                        alternate;  /* the listing's URL */
    time_t                           updated;
} ngx_http_clinic_feed_view_t;


/* the sitemap (feed NULL) or the feed */
typedef struct {
    ngx_http_clinic_feed_view_t     *feed;
    ngx_http_clinic_list_item_t     *list;       /* the listing's entry */
    ngx_http_clinic_list_item_t     *items;
    ngx_uint_t                       n;
} ngx_http_clinic_xml_view_t;


/* an article record of the API (docs/api.md) */
typedef struct {
    ngx_http_clinic_list_item_t      item;
    ngx_str_t                        html;
    ngx_str_t                       *headings;
    ngx_uint_t                       nheadings;
    ngx_http_clinic_link_item_t     *links;
    ngx_uint_t                       nlinks;
    ngx_str_t                       *unresolved;
    ngx_uint_t                       nunresolved;
} ngx_http_clinic_api_article_t;


/*
 * Compiles a template: {{name}} placeholders (title, summary, content,
 * slug, tenant, clinic_name, clinic_phone, clinic_phone_link, canonical,
 * contact_url, list_url, articles_url, updated, jsonld, feed_link); an unknown
 * placeholder is an error, *err says which.  The template must hold
 * {{content}}.  text is not copied: keep it alive.
 */
ngx_http_clinic_template_t *ngx_http_clinic_template_compile(ngx_pool_t *pool,
    ngx_str_t *text, ngx_str_t *err);

/*
 * the built-in default template, compiled on each call; form: the layout
 * of the contact pages, without the call to action that links to them
 */
ngx_http_clinic_template_t *ngx_http_clinic_template_default(
    ngx_pool_t *pool, ngx_uint_t form);

ngx_int_t ngx_http_clinic_render_page(ngx_pool_t *pool,
    ngx_http_clinic_template_t *tpl, ngx_http_clinic_page_vars_t *vars,
    ngx_str_t *out);

/* the listing's content HTML (to go into a page as vars.content) */
ngx_int_t ngx_http_clinic_render_list_html(ngx_pool_t *pool,
    ngx_http_clinic_list_item_t *items, ngx_uint_t n, ngx_str_t *out);

/* the contact form's content HTML, values and errors escaped */
ngx_int_t ngx_http_clinic_render_form(ngx_pool_t *pool,
    ngx_http_clinic_form_view_t *view, ngx_str_t *out);

/* a notice's content HTML: thank you, or why the message was not sent */
ngx_int_t ngx_http_clinic_render_notice(ngx_pool_t *pool,
    ngx_http_clinic_notice_view_t *view, ngx_str_t *out);

/* {"articles":[...],"total":N,"limit":L,"offset":O}, items already sorted */
ngx_int_t ngx_http_clinic_render_api_list(ngx_pool_t *pool,
    ngx_http_clinic_list_item_t *items, ngx_uint_t n, ngx_uint_t total,
    ngx_uint_t limit, ngx_uint_t offset, ngx_str_t *out);

ngx_int_t ngx_http_clinic_render_api_article(ngx_pool_t *pool,
    ngx_http_clinic_api_article_t *article, ngx_str_t *out);

/*
 * Without feed, the sitemap (sitemaps.org 0.9): the listing (list), then
 * the n items.  With feed, the Atom 1.0 feed (RFC 4287): the items are its
 * entries, in the order given.  URLs are taken as they are (absolute).
 */
ngx_int_t ngx_http_clinic_render_xml(ngx_pool_t *pool,
    ngx_http_clinic_xml_view_t *view, ngx_str_t *out);


#endif /* _NGX_HTTP_CLINIC_RENDER_H_INCLUDED_ */
