
/*
 * Treatment articles: front matter, the copywriter's plain-text format, the
 * Markdown format and [LINK] resolution (docs/content-format.md).
 *
 * Pure C, no nginx headers, so that it can be unit tested and fuzzed on its
 * own.  All memory comes from the caller's allocator (the request pool) and
 * is never freed piecemeal; every output is independent of the input buffer.
 * No mutable global state: all functions are reentrant.  md4c mallocs and
 * frees its own working memory inside md_parse().
 *
 * The parser is four files (ngx_http_clinic_article_ctx.h lists them and
 * the order in which they call each other); this header is its whole API.
 *
 * Every output string is (len, data) and also NUL-terminated.  title,
 * summary, aliases, headings, link texts, unresolved phrases and warnings
 * are plain UTF-8 text, NOT escaped; html is HTML.
 *
 * Decisions (docs/content-format.md has the user-facing version):
 *
 *   input         at most NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE bytes; must be
 *                 UTF-8 (no overlongs, surrogates or NUL), a BOM is
 *                 skipped; CRLF and lone CR become LF.  Anything else is
 *                 INVALID with a message in art->error.
 *
 *   front matter  a first line "---", then "key: value" lines (blank lines
 *                 allowed), then "---".  Keys are case-insensitive: title,
 *                 summary, aliases (comma separated), slug (ignored; a
 *                 warning when it differs from the file name),
 *                 redirect_from (comma separated old slugs, like aliases;
 *                 one that is not a valid slug is left out with a
 *                 warning), removed (yes/no, true/false, 1/0; anything else
 *                 is a warning and counts as no).  Values are
 *                 trimmed and lose one pair of surrounding quotes.  Unknown
 *                 or repeated keys are warnings (the last one wins).  When
 *                 the closing "---" is missing, the front matter ends at
 *                 the first line that is not "key: value", with a warning.
 *
 *   title         front matter, else for .txt the first non-empty line, for
 *                 .md the first "#" heading; else the slug, with a warning.
 *                 [LINK] is not resolved in a .txt title line.
 *
 *   summary       front matter, else the first body paragraph as plain text
 *                 (markup and markers removed, whitespace collapsed) cut at
 *                 a word boundary to at most 160 characters plus U+2026.
 *
 *   .txt          the line after the title or after the front matter counts
 *                 as following a blank line, so a short line right there can
 *                 be a heading.  A heading line may end in a closing quote
 *                 or bracket: the punctuation rule looks through them
 *                 ("(Call us today.)" is a paragraph).  A line left empty
 *                 once its unresolved markers are removed is left out.
 *
 *   .md           CommonMark with the tables and strikethrough extensions;
 *                 raw HTML is text.  Link and image URLs are decoded
 *                 (backslash escapes, numeric entities and a short list of
 *                 named ones), stripped of TAB/CR/LF and of leading and
 *                 trailing controls and spaces like a browser does, and
 *                 dropped unless the scheme is http, https, mailto or tel or
 *                 there is none (relative); a dropped link keeps its text,
 *                 a dropped image disappears; both are warnings.  The first
 *                 "#" heading is not rendered when it equals the title; any
 *                 other h1 becomes h2.  md4c 0.4.8 is not trusted with
 *                 structure or bounds: it parses a padded copy (it reads
 *                 past the end on "[](" at EOF), spans it leaves open are
 *                 closed at the next block, and text it reports outside
 *                 the document is ignored with a warning.
 *
 *   [LINK]        resolved in body text of both formats, never in code; text
 *                 inside an existing link is not linked.  The phrase is
 *                 plain text: emphasis, code or a link ends the look-back
 *                 just like ".,;:!?()".  Leading and trailing quotes of the
 *                 phrase stay outside the link.  Comparison folds ASCII case
 *                 only, treats "-", whitespace and U+00A0 alike and
 *                 collapses runs.  An article never links to itself.  An
 *                 unresolved marker is reported with the words before it
 *                 (or, when there are none, "[LINK]" and at most 64 bytes
 *                 of the words after).  Work is linear in the input: a
 *                 marker looks back only to the previous one, and a title
 *                 is indexed by its first 6 words at most.
 */

#ifndef NGX_HTTP_CLINIC_ARTICLE_H
#define NGX_HTTP_CLINIC_ARTICLE_H


#include <stddef.h>
#include <sys/types.h>

#include "ngx_http_clinic_alloc.h"
#include "ngx_http_clinic_text.h"


#define NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE     (1024 * 1024)
#define NGX_HTTP_CLINIC_ARTICLE_SLUG_MAX     NGX_HTTP_CLINIC_TEXT_SLUG_MAX
#define NGX_HTTP_CLINIC_ARTICLE_SUMMARY_MAX  160
#define NGX_HTTP_CLINIC_ARTICLE_HEADING_MAX  120
#define NGX_HTTP_CLINIC_ARTICLE_LINK_WORDS   6


typedef enum {
    NGX_HTTP_CLINIC_ARTICLE_UNKNOWN = 0,
    NGX_HTTP_CLINIC_ARTICLE_TXT,
    NGX_HTTP_CLINIC_ARTICLE_MD
} ngx_http_clinic_article_format_t;


typedef enum {
    NGX_HTTP_CLINIC_ARTICLE_OK = 0,
    NGX_HTTP_CLINIC_ARTICLE_ENOMEM,        /* the allocator failed */
    NGX_HTTP_CLINIC_ARTICLE_EINVALID       /* see art->error */
} ngx_http_clinic_article_err_t;


/* layout-compatible with ngx_str_t */
typedef struct {
    size_t       len;
    u_char      *data;
} ngx_http_clinic_article_str_t;


/* one article of the tenant, as known from the folder scan */
typedef struct {
    ngx_http_clinic_article_str_t   slug;
    ngx_http_clinic_article_str_t   title;
    ngx_http_clinic_article_str_t  *aliases;
    size_t                          naliases;
} ngx_http_clinic_article_entry_t;


/* the tenant's link index, built once per scan; opaque */
typedef struct ngx_http_clinic_article_links_s  ngx_http_clinic_article_links_t;


typedef struct {
    unsigned                        level;      /* 2 or 3 */
    ngx_http_clinic_article_str_t   text;
} ngx_http_clinic_article_heading_t;


typedef struct {
    ngx_http_clinic_article_str_t   text;       /* the linked words */
    ngx_http_clinic_article_str_t   slug;
} ngx_http_clinic_article_link_t;


typedef struct {
    /* meta() and render() */
    ngx_http_clinic_article_str_t       title;
    ngx_http_clinic_article_str_t       summary;
    ngx_http_clinic_article_str_t      *aliases;
    size_t                              naliases;
    ngx_http_clinic_article_str_t      *warnings;
    size_t                              nwarnings;
    ngx_http_clinic_article_str_t      *redirect_from; /* valid slugs */
    size_t                              nredirect_from;
    unsigned                            removed;    /* "removed: yes" */
    ngx_http_clinic_article_str_t       error;      /* with EINVALID */

    /* render() only */
    ngx_http_clinic_article_str_t       html;       /* without the <h1> */
    ngx_http_clinic_article_heading_t  *headings;
    size_t                              nheadings;
    ngx_http_clinic_article_link_t     *links;
    size_t                              nlinks;
    ngx_http_clinic_article_str_t      *unresolved;
    size_t                              nunresolved;
} ngx_http_clinic_article_t;


/*
 * The format of a content folder entry "SLUG.txt" or "SLUG.md" with a slug
 * [a-z0-9][a-z0-9-]{0,127}; UNKNOWN for any other name.  slug points into
 * name.
 */
ngx_http_clinic_article_format_t ngx_http_clinic_article_name(
    const u_char *name, size_t len, ngx_http_clinic_article_str_t *slug);

/*
 * The index entry: title, summary, aliases, redirect_from, removed,
 * warnings.  slug (may be NULL)
 * is the file's slug, for the "slug:" check and the title fallback.
 */
ngx_http_clinic_article_err_t ngx_http_clinic_article_meta(const u_char *src,
    size_t len, ngx_http_clinic_article_format_t format,
    const ngx_http_clinic_article_str_t *slug,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_article_t *art);

/*
 * Builds the link index of a tenant.  The entries' strings are copied.
 * NULL when the allocator fails.
 */
ngx_http_clinic_article_links_t *ngx_http_clinic_article_links_create(
    const ngx_http_clinic_article_entry_t *entries, size_t n,
    const ngx_http_clinic_alloc_t *a);

/*
 * The whole article: everything meta() gives, plus the body HTML, its
 * headings, resolved links and unresolved markers.  links may be NULL (every
 * marker unresolved); prefix ("/treatments/") is put before a linked slug;
 * slug is the article's own slug, never linked to.
 */
ngx_http_clinic_article_err_t ngx_http_clinic_article_render(
    const u_char *src, size_t len, ngx_http_clinic_article_format_t format,
    const ngx_http_clinic_article_str_t *slug,
    const ngx_http_clinic_article_links_t *links,
    const ngx_http_clinic_article_str_t *prefix,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_article_t *art);

/*
 * Plain text to a summary: whitespace collapsed, cut at a word boundary to
 * at most NGX_HTTP_CLINIC_ARTICLE_SUMMARY_MAX characters plus U+2026.
 * text must be valid UTF-8.
 */
ngx_http_clinic_article_err_t ngx_http_clinic_article_summary(
    const u_char *text, size_t len, const ngx_http_clinic_alloc_t *a,
    ngx_http_clinic_article_str_t *out);



#endif /* NGX_HTTP_CLINIC_ARTICLE_H */
