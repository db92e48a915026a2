
/*
 * libFuzzer target for the article parser: every input goes through meta()
 * and render() as .txt and as .md, against a small fixed link index, and
 * once more with an allocator that fails part way.  Memory comes from an
 * arena that takes it all back after each input.
 *
 * The link index is built once, in LLVMFuzzerInitialize(), like the module
 * builds it once per folder scan: its entries are constant, so rebuilding
 * it for every input only cost time.  The failing render still starts by
 * building an index under the failing allocator whenever the failure falls
 * inside links_create(), so failures there are fuzzed as before.
 *
 * The arena hands out memory from chunks it keeps from one input to the
 * next, with a poisoned redzone around every allocation as wide as
 * AddressSanitizer's own, so an overflow is reported as with malloc();
 * everything handed out is poisoned again when the input is done, so a
 * pointer kept into a later input is reported as a use after poison.
 * What it saves is malloc() and free() under AddressSanitizer, a stack
 * trace each and a 256 MB quarantine that keeps every allocation cache
 * cold.  Allocations larger than a chunk's quarter use malloc() itself.
 *
 * Beyond "no crash, no leak, no UB" it checks what the parser promises,
 * with code of its own rather than the parser's: every output string is
 * NUL-terminated valid UTF-8; the HTML is well nested, uses only the tags
 * and attributes the parser emits, escapes every "&", "<", ">" and quote,
 * has no <h1>, and every href/src has no scheme or an allowed one.  The
 * checks and the arena are left out of the coverage instrumentation
 * (FUZZ_NOCOV): they are not the code under test, and their branches only
 * followed the parser's own while costing a callback on every compare.
 *
 *   make fuzz && build/fuzz/fuzz_article -max_total_time=120 CORPUS_DIR
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "ngx_http_clinic_article.h"


#define FUZZ_CHUNK      (256 * 1024)
#define FUZZ_BIG        (FUZZ_CHUNK / 4)
#define FUZZ_ALIGN      16
#define FUZZ_FILL       0xbe            /* what ASan's malloc() fills with */
#define FUZZ_FILL_MAX   4096

#define FUZZ_NOCOV      __attribute__((no_sanitize("coverage")))

#define fuzz_align(n)   (((n) + FUZZ_ALIGN - 1) & ~(size_t) (FUZZ_ALIGN - 1))


#define fuzz_check(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz_article.c:%d: check failed: %s\n",          \
                    __LINE__, #cond);                                         \
            abort();                                                          \
        }                                                                     \
    } while (0)


typedef struct {
    size_t         len;
    const char    *name;
} fuzz_name_t;


typedef struct fuzz_block_s  fuzz_block_t;

/* a chunk, or one large allocation; the memory follows, aligned */
struct fuzz_block_s {
    fuzz_block_t  *next;
    size_t         size;
};


typedef struct {
    fuzz_block_t  *chunks;              /* kept across inputs */
    fuzz_block_t  *chunk;               /* the one being carved */
    u_char        *pos;
    fuzz_block_t  *big;                 /* freed after each input */
    long           fail_after;          /* < 0: never */
    long           nalloc;
} fuzz_arena_t;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ngx_http_clinic_article_links_t *fuzz_links(
    const ngx_http_clinic_alloc_t *a);
static void *fuzz_alloc(void *ctx, size_t size);
static size_t fuzz_redzone(size_t size);
static u_char *fuzz_chunk_start(fuzz_block_t *b);
static void fuzz_free(fuzz_arena_t *ar);
static void fuzz_str(const ngx_http_clinic_article_str_t *s);
static void fuzz_article(const ngx_http_clinic_article_t *art, int rendered);
static void fuzz_html(const u_char *p, size_t n);
static size_t fuzz_tag(const u_char *p, size_t n, const char **name,
    int *closing);
static int fuzz_entity(const u_char *p, size_t n);
static void fuzz_url(const u_char *p, size_t n);


/* the index every input is rendered against, and its allocations */
static fuzz_arena_t                      fuzz_links_arena;
static fuzz_arena_t                      fuzz_arena;
static ngx_http_clinic_article_links_t  *fuzz_links_index;
static long                              fuzz_links_nalloc;


#define T(s)  { sizeof(s) - 1, s }

static const fuzz_name_t  fuzz_tags[] = {
    T("p"), T("h2"), T("h3"), T("h4"), T("h5"), T("h6"), T("a"), T("em"),
    T("strong"), T("code"), T("pre"), T("ul"), T("ol"), T("li"),
    T("blockquote"), T("hr"), T("br"), T("img"), T("table"), T("thead"),
    T("tbody"), T("tr"), T("th"), T("td"), T("del"), { 0, NULL }
};

#define FUZZ_TAG_HR   15
#define FUZZ_TAG_BR   16
#define FUZZ_TAG_IMG  17


static const fuzz_name_t  fuzz_ents[] = {
    T("&amp;"), T("&lt;"), T("&gt;"), T("&quot;"), T("&#39;"), { 0, NULL }
};

#undef T


static FUZZ_NOCOV void *
fuzz_alloc(void *ctx, size_t size)
{
    size_t         rz, need;
    u_char        *p;
    fuzz_arena_t  *ar = ctx;
    fuzz_block_t  *b;

    if (ar->fail_after == 0) {
        return NULL;
    }

    if (ar->fail_after > 0) {
        ar->fail_after--;
    }

    ar->nalloc++;

    if (size > FUZZ_BIG) {
        b = malloc(fuzz_align(sizeof(fuzz_block_t)) + size);
        fuzz_check(b != NULL);

        b->next = ar->big;
        b->size = size;
        ar->big = b;

        return fuzz_chunk_start(b);
    }

    rz = fuzz_redzone(size);
    need = rz + fuzz_align(size) + rz;

    if (ar->chunk == NULL
        || (size_t) (fuzz_chunk_start(ar->chunk) + FUZZ_CHUNK - ar->pos)
           < need)
    {
        b = ar->chunk ? ar->chunk->next : ar->chunks;

        if (b == NULL) {
            b = malloc(fuzz_align(sizeof(fuzz_block_t)) + FUZZ_CHUNK);
            fuzz_check(b != NULL);

            b->next = NULL;
            b->size = FUZZ_CHUNK;
            ASAN_POISON_MEMORY_REGION(fuzz_chunk_start(b), FUZZ_CHUNK);

            if (ar->chunk) {
                ar->chunk->next = b;

            } else {
                ar->chunks = b;
            }
        }

        ar->chunk = b;
        ar->pos = fuzz_chunk_start(b);
    }

    p = ar->pos + rz;
    ar->pos = p + fuzz_align(size) + rz;

    ASAN_UNPOISON_MEMORY_REGION(p, size);
    memset(p, FUZZ_FILL, size < FUZZ_FILL_MAX ? size : FUZZ_FILL_MAX);

    return p;
}


/* the redzone AddressSanitizer's allocator puts around size bytes */

static FUZZ_NOCOV size_t
fuzz_redzone(size_t size)
{
    return size <= 64 - 16 ? 16
           : size <= 128 - 32 ? 32
           : size <= 512 - 64 ? 64
           : size <= 4096 - 128 ? 128
           : size <= (1 << 14) - 256 ? 256
           : size <= (1 << 15) - 512 ? 512
           : size <= (1 << 16) - 1024 ? 1024 : 2048;
}


static FUZZ_NOCOV u_char *
fuzz_chunk_start(fuzz_block_t *b)
{
    return (u_char *) b + fuzz_align(sizeof(fuzz_block_t));
}


/* the input is done: everything it was given is freed or poisoned */

static FUZZ_NOCOV void
fuzz_free(fuzz_arena_t *ar)
{
    fuzz_block_t  *b, *next;

    for (b = ar->big; b; b = next) {
        next = b->next;
        free(b);
    }

    ar->big = NULL;

    for (b = ar->chunks; b; b = b->next) {
        ASAN_POISON_MEMORY_REGION(fuzz_chunk_start(b), FUZZ_CHUNK);

        if (b == ar->chunk) {
            break;
        }
    }

    ar->chunk = NULL;
    ar->pos = NULL;
}


/* NUL-terminated, valid UTF-8 without NUL */

static FUZZ_NOCOV void
fuzz_str(const ngx_http_clinic_article_str_t *s)
{
    size_t   i, k, need;
    u_char   c;

    fuzz_check(s->data != NULL);
    fuzz_check(s->data[s->len] == '\0');

    for (i = 0; i < s->len; i += need + 1) {
        c = s->data[i];

        if (c < 0x80) {
            /* most of the text: one test a byte */
            fuzz_check(c != 0);
            need = 0;
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;

        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;

        } else {
            fuzz_check(c >= 0xf0 && c <= 0xf4);
            need = 3;
        }

        fuzz_check(s->len - i > need);

        for (k = 1; k <= need; k++) {
            fuzz_check((s->data[i + k] & 0xc0) == 0x80);
        }

        /* no overlongs, surrogates or values above U+10FFFF */
        fuzz_check(!(c == 0xe0 && s->data[i + 1] < 0xa0));
        fuzz_check(!(c == 0xed && s->data[i + 1] > 0x9f));
        fuzz_check(!(c == 0xf0 && s->data[i + 1] < 0x90));
        fuzz_check(!(c == 0xf4 && s->data[i + 1] > 0x8f));
    }
}


static FUZZ_NOCOV void
fuzz_article(const ngx_http_clinic_article_t *art, int rendered)
{
    size_t  i;

    fuzz_str(&art->title);
    fuzz_str(&art->summary);

    for (i = 0; i < art->naliases; i++) {
        fuzz_str(&art->aliases[i]);
        fuzz_check(art->aliases[i].len > 0);
    }

    for (i = 0; i < art->nwarnings; i++) {
        fuzz_str(&art->warnings[i]);
    }

    if (!rendered) {
        fuzz_check(art->html.data == NULL && art->nlinks == 0);
        return;
    }

    fuzz_str(&art->html);
    fuzz_html(art->html.data, art->html.len);

    for (i = 0; i < art->nheadings; i++) {
        fuzz_check(art->headings[i].level == 2
                   || art->headings[i].level == 3);
        fuzz_str(&art->headings[i].text);
    }

    for (i = 0; i < art->nlinks; i++) {
        fuzz_str(&art->links[i].text);
        fuzz_str(&art->links[i].slug);
        fuzz_check(art->links[i].slug.len > 0);

        /* never a link to the page itself */
        fuzz_check(strcmp((char *) art->links[i].slug.data,
                          "joint-manipulation") != 0);
    }

    for (i = 0; i < art->nunresolved; i++) {
        fuzz_str(&art->unresolved[i]);
    }
}


/* the HTML the parser emits: a small, strict grammar */

static FUZZ_NOCOV void
fuzz_html(const u_char *p, size_t n)
{
    int           closing;
    size_t        i, len, depth;
    const char   *name, *local[256];
    const char  **stack;

    /* an open tag takes at least 3 bytes */
    if (n / 3 + 1 <= sizeof(local) / sizeof(local[0])) {
        stack = local;

    } else {
        stack = malloc((n / 3 + 1) * sizeof(char *));
        fuzz_check(stack != NULL);
    }

    depth = 0;

    for (i = 0; i < n; /* void */ ) {

        switch (p[i]) {

        case '<':
            len = fuzz_tag(p + i, n - i, &name, &closing);
            fuzz_check(len > 0);
            i += len;

            if (name == fuzz_tags[FUZZ_TAG_HR].name
                || name == fuzz_tags[FUZZ_TAG_BR].name
                || name == fuzz_tags[FUZZ_TAG_IMG].name)
            {
                fuzz_check(!closing);

            } else if (closing) {
                fuzz_check(depth > 0 && stack[depth - 1] == name);
                depth--;

            } else {
                stack[depth++] = name;
            }

            break;

        case '&':
            len = fuzz_entity(p + i, n - i);
            fuzz_check(len > 0);
            i += len;
            break;

        default:
            fuzz_check(p[i] != '>' && p[i] != '"' && p[i] != '\'');
            i++;
            break;
        }
    }

    fuzz_check(depth == 0);

    if (stack != local) {
        free(stack);
    }
}


/* a tag; returns its length, 0 if it is not one the parser may emit */

static FUZZ_NOCOV size_t
fuzz_tag(const u_char *p, size_t n, const char **name, int *closing)
{
    size_t              i, start, k, vstart;
    const fuzz_name_t  *t;

    i = 1;
    *closing = (i < n && p[i] == '/');
    i += *closing;

    start = i;

    while (i < n && ((p[i] >= 'a' && p[i] <= 'z')
                     || (p[i] >= '0' && p[i] <= '9')))
    {
        i++;
    }

    *name = NULL;

    for (t = fuzz_tags; t->name; t++) {
        if (t->len == i - start && memcmp(t->name, p + start, t->len) == 0) {
            *name = t->name;
            break;
        }
    }

    if (*name == NULL) {
        return 0;
    }

    while (i < n && p[i] == ' ' && !*closing) {
        i++;
        k = i;

        while (i < n && p[i] >= 'a' && p[i] <= 'z') {
            i++;
        }

        if (i + 1 >= n || p[i] != '=' || p[i + 1] != '"') {
            return 0;
        }

        /* only the attributes the parser writes */
        if (!((i - k == 4 && memcmp(p + k, "href", 4) == 0
               && strcmp(*name, "a") == 0)
              || (i - k == 3 && memcmp(p + k, "src", 3) == 0
                  && strcmp(*name, "img") == 0)
              || (i - k == 3 && memcmp(p + k, "alt", 3) == 0
                  && strcmp(*name, "img") == 0)
              || (i - k == 5 && memcmp(p + k, "title", 5) == 0
                  && (strcmp(*name, "a") == 0 || strcmp(*name, "img") == 0))
              || (i - k == 5 && memcmp(p + k, "start", 5) == 0
                  && strcmp(*name, "ol") == 0)
              || (i - k == 5 && memcmp(p + k, "align", 5) == 0
                  && (strcmp(*name, "th") == 0 || strcmp(*name, "td") == 0))))
        {
            return 0;
        }

        i += 2;
        vstart = i;

        while (i < n && p[i] != '"') {
            if (p[i] == '<' || p[i] == '>' || p[i] == '\'') {
                return 0;
            }

            if (p[i] == '&') {
                if (fuzz_entity(p + i, n - i) == 0) {
                    return 0;
                }
            }

            i++;
        }

        if (i == n) {
            return 0;
        }

        if (p[k] == 'h' || p[k] == 's') {
            /* href or src */
            fuzz_url(p + vstart, i - vstart);
        }

        i++;
    }

    if (i >= n || p[i] != '>') {
        return 0;
    }

    return i + 1;
}


/* one of the five escapes the parser writes; returns its length or 0 */

static FUZZ_NOCOV int
fuzz_entity(const u_char *p, size_t n)
{
    const fuzz_name_t  *e;

    for (e = fuzz_ents; e->name; e++) {
        if (n >= e->len && memcmp(p, e->name, e->len) == 0) {
            return (int) e->len;
        }
    }

    return 0;
}


/*
 * What a browser would make of the attribute: entities decoded, TAB/CR/LF
 * removed, C0 controls and spaces trimmed; the scheme, if any, must be
 * http, https, mailto or tel.
 */

static FUZZ_NOCOV void
fuzz_url(const u_char *p, size_t n)
{
    char          *u, local[256];
    size_t         i, j, s, e, len;
    int            k;

    if (n < sizeof(local)) {
        u = local;

    } else {
        u = malloc(n + 1);
        fuzz_check(u != NULL);
    }

    for (i = 0, j = 0; i < n; /* void */ ) {
        if (p[i] == '&') {
            k = fuzz_entity(p + i, n - i);

            u[j++] = (k == 5 && p[i + 1] == 'a') ? '&'
                     : (k == 4 && p[i + 1] == 'l') ? '<'
                     : (k == 4 && p[i + 1] == 'g') ? '>'
                     : (k == 6) ? '"' : '\'';
            i += k;
            continue;
        }

        if (p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
            u[j++] = (char) p[i];
        }

        i++;
    }

    for (s = 0; s < j && (u_char) u[s] <= 0x20; s++) { /* void */ }
    for (e = j; e > s && (u_char) u[e - 1] <= 0x20; e--) { /* void */ }

    /* the parser percent-encodes controls and spaces */
    fuzz_check(s == 0 && e == j);

    len = 0;

    if (s < e && ((u[s] | 0x20) >= 'a' && (u[s] | 0x20) <= 'z')) {
        for (i = s + 1; i < e; i++) {
            if (u[i] == ':') {
                len = i - s;
                break;
            }

            if (!((u[i] | 0x20) >= 'a' && (u[i] | 0x20) <= 'z')
                && !(u[i] >= '0' && u[i] <= '9')
                && u[i] != '+' && u[i] != '-' && u[i] != '.')
            {
                break;
            }
        }
    }

    if (len) {
        for (i = s; i < s + len; i++) {
            u[i] = (char) (u[i] | 0x20);
        }

        fuzz_check((len == 4 && memcmp(u + s, "http", 4) == 0)
                   || (len == 5 && memcmp(u + s, "https", 5) == 0)
                   || (len == 6 && memcmp(u + s, "mailto", 6) == 0)
                   || (len == 3 && memcmp(u + s, "tel", 3) == 0));
    }

    if (u != local) {
        free(u);
    }
}


/*
 * The page's own article and three others that compete with it: one has
 * the page's slug as an alias and its first title word as a title.
 */

static ngx_http_clinic_article_links_t *
fuzz_links(const ngx_http_clinic_alloc_t *a)
{
    ngx_http_clinic_article_entry_t  entries[4];
    ngx_http_clinic_article_str_t    aliases[3];

#define S(str)  { sizeof(str) - 1, (u_char *) str }

    static const ngx_http_clinic_article_str_t  strs[] = {
        S("joint-manipulation"), S("Joint Manipulation for Back Pain"),
        S("spinal-decompression"), S("Spinal Decompression Therapy"),
        S("sports-massage"), S("Sports Massage & Recovery"),
        S("sports massage"), S("athletic massage"), S("joint manipulation"),
        S("zzz"), S("Joint")
    };

#undef S

    entries[0].slug = strs[0];
    entries[0].title = strs[1];
    entries[0].aliases = NULL;
    entries[0].naliases = 0;
    entries[1].slug = strs[2];
    entries[1].title = strs[3];
    entries[1].aliases = NULL;
    entries[1].naliases = 0;
    entries[2].slug = strs[4];
    entries[2].title = strs[5];
    entries[2].aliases = aliases;
    entries[2].naliases = 2;
    entries[3].slug = strs[9];
    entries[3].title = strs[10];
    entries[3].aliases = &aliases[2];
    entries[3].naliases = 1;
    aliases[0] = strs[6];
    aliases[1] = strs[7];
    aliases[2] = strs[8];

    return ngx_http_clinic_article_links_create(entries, 4, a);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_http_clinic_alloc_t  a;

    (void) argc;
    (void) argv;

    fuzz_links_arena.fail_after = -1;
    a.alloc = fuzz_alloc;
    a.ctx = &fuzz_links_arena;

    /* kept for the whole run: reachable, so never reported as a leak */
    fuzz_links_index = fuzz_links(&a);
    fuzz_check(fuzz_links_index != NULL);

    fuzz_links_nalloc = fuzz_links_arena.nalloc;

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                                rc, f, oom;
    long                               nalloc[2];
    fuzz_arena_t                      *ar;
    ngx_http_clinic_alloc_t            a;
    ngx_http_clinic_article_t          art;
    ngx_http_clinic_article_str_t      slug, prefix;
    ngx_http_clinic_article_links_t   *links;
    ngx_http_clinic_article_format_t   formats[2] = {
        NGX_HTTP_CLINIC_ARTICLE_TXT, NGX_HTTP_CLINIC_ARTICLE_MD
    };

    ar = &fuzz_arena;
    ar->fail_after = -1;
    ar->nalloc = 0;
    a.alloc = fuzz_alloc;
    a.ctx = ar;

    slug.len = sizeof("joint-manipulation") - 1;
    slug.data = (u_char *) "joint-manipulation";
    prefix.len = sizeof("/treatments/") - 1;
    prefix.data = (u_char *) "/treatments/";

    links = fuzz_links_index;

    for (f = 0; f < 2; f++) {
        rc = ngx_http_clinic_article_meta(data, size, formats[f], &slug, &a,
                                          &art);
        fuzz_check(rc == NGX_HTTP_CLINIC_ARTICLE_OK
                   || rc == NGX_HTTP_CLINIC_ARTICLE_EINVALID);

        if (rc == NGX_HTTP_CLINIC_ARTICLE_OK) {
            fuzz_article(&art, 0);

        } else {
            fuzz_str(&art.error);
        }

        nalloc[f] = ar->nalloc;

        rc = ngx_http_clinic_article_render(data, size, formats[f], &slug,
                                            links, &prefix, &a, &art);
        fuzz_check(rc == NGX_HTTP_CLINIC_ARTICLE_OK
                   || rc == NGX_HTTP_CLINIC_ARTICLE_EINVALID);

        nalloc[f] = ar->nalloc - nalloc[f];

        if (rc == NGX_HTTP_CLINIC_ARTICLE_OK) {
            fuzz_article(&art, 1);
        }
    }

    /*
     * Out of memory part way: an error, never a crash or a leak.  The
     * first byte is the number of allocations that succeed, counted from
     * the start of links_create(), as if the index were built here.  When
     * the render gets all it needs it would only repeat the one above
     * (the parser is deterministic), so it is not run again.
     */

    ar->fail_after = size ? data[0] : 0;
    oom = size ? data[size - 1] & 1 : 0;

    if (ar->fail_after < fuzz_links_nalloc) {
        links = fuzz_links(&a);
        fuzz_check(links == NULL && ar->fail_after == 0);

    } else {
        ar->fail_after -= fuzz_links_nalloc;
    }

    if (ar->fail_after < nalloc[oom]) {
        rc = ngx_http_clinic_article_render(data, size, formats[oom], &slug,
                                            links, &prefix, &a, &art);
        fuzz_check(rc == NGX_HTTP_CLINIC_ARTICLE_OK
                   || rc == NGX_HTTP_CLINIC_ARTICLE_EINVALID
                   || rc == NGX_HTTP_CLINIC_ARTICLE_ENOMEM);
    }

    fuzz_free(ar);

    return 0;
}
