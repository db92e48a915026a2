
/*
 * [LINK] resolution (docs/content-format.md), pure C: the tenant's link
 * index (phrases normalized into an open-addressing table, the best two
 * articles a phrase names) and the markers of body text, resolved against it by
 * looking back over the words before them.  Emits through the parse
 * context; calls only ngx_http_clinic_article_ctx.c.
 */


#include <string.h>

#include "ngx_http_clinic_links.h"


#define NGX_HTTP_CLINIC_ARTICLE_MARKER       "[LINK]"
#define NGX_HTTP_CLINIC_ARTICLE_MARKER_LEN   (sizeof("[LINK]") - 1)

#define NGX_HTTP_CLINIC_ARTICLE_PRIO_SLUG    0
#define NGX_HTTP_CLINIC_ARTICLE_PRIO_ALIAS   1
#define NGX_HTTP_CLINIC_ARTICLE_PRIO_TITLE   2
#define NGX_HTTP_CLINIC_ARTICLE_PRIO_WORDS   3
#define NGX_HTTP_CLINIC_ARTICLE_PRIO_NONE    4


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
    const u_char                    *start;
    const u_char                    *end;
} ngx_http_clinic_article_word_t;


static void ngx_http_clinic_article_marker(ngx_http_clinic_article_ctx_t *ctx,
    const u_char *seg, const u_char *pre, const u_char *after,
    const u_char *end, unsigned linkable);
static void ngx_http_clinic_article_unresolved(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *start,
    const u_char *stop, const u_char *after, const u_char *end);
static void ngx_http_clinic_article_emit_link(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *p, size_t n,
    const ngx_http_clinic_article_str_t *slug);

static void ngx_http_clinic_article_normalize(
    ngx_http_clinic_article_ctx_t *ctx, const u_char *p, size_t n);
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


/* [LINK] markers */

/*
 * Emits body text, resolving or removing its markers.  Each marker looks
 * back only as far as the previous one, so the work is linear in n.
 */

void
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

    /* open addressing, at most three quarters full */

    size = 8;

    while (size * 3 < count * 4) {
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


int
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

    return ngx_http_clinic_text_cmp(links->slugs[a].data, links->slugs[a].len,
                                    links->slugs[b].data, links->slugs[b].len)
           < 0;
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
            || ngx_http_clinic_text_cmp(slug->data, slug->len,
                                        ctx->slug->data, ctx->slug->len)
               != 0)
        {
            return slug;
        }
    }

    return NULL;
}

