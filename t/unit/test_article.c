
/*
 * Unit tests for the article parser (docs/content-format.md): run by t/unit/article.t
 * with CMOCKA_MESSAGE_OUTPUT=TAP.  Fixtures are found next to this file
 * (t/unit/fixtures), or in $CLINIC_FIXTURES.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include "ngx_http_clinic_article.h"


#define TXT  NGX_HTTP_CLINIC_ARTICLE_TXT
#define MD   NGX_HTTP_CLINIC_ARTICLE_MD
#define OK   NGX_HTTP_CLINIC_ARTICLE_OK

#define MAX_ARTICLES  16


/* an arena: every block is freed in teardown; fail_after simulates OOM */
typedef struct block_s  block_t;

struct block_s {
    block_t  *next;
};

typedef struct {
    block_t                   *blocks;
    long                       fail_after;     /* < 0: never */
    ngx_http_clinic_alloc_t    a;
} arena_t;


/* a test index entry: "alias, alias" */
typedef struct {
    const char  *slug;
    const char  *title;
    const char  *aliases;
} entry_t;


/* a scanned fixture folder */
typedef struct {
    size_t                             n;
    char                               name[MAX_ARTICLES][256];
    u_char                            *src[MAX_ARTICLES];
    size_t                             len[MAX_ARTICLES];
    ngx_http_clinic_article_format_t   format[MAX_ARTICLES];
    ngx_http_clinic_article_t          meta[MAX_ARTICLES];
    ngx_http_clinic_article_entry_t    entries[MAX_ARTICLES];
    ngx_http_clinic_article_links_t   *links;
} clinic_t;


static void *
arena_alloc(void *ctx, size_t size)
{
    arena_t  *ar = ctx;
    block_t  *b;

    if (ar->fail_after == 0) {
        return NULL;
    }

    if (ar->fail_after > 0) {
        ar->fail_after--;
    }

    b = malloc(sizeof(block_t) + size);
    assert_non_null(b);

    b->next = ar->blocks;
    ar->blocks = b;

    return b + 1;
}


static int
setup(void **state)
{
    arena_t  *ar;

    ar = calloc(1, sizeof(arena_t));
    if (ar == NULL) {
        return -1;
    }

    ar->fail_after = -1;
    ar->a.alloc = arena_alloc;
    ar->a.ctx = ar;
    *state = ar;

    return 0;
}


static int
teardown(void **state)
{
    arena_t  *ar = *state;
    block_t  *b, *next;

    for (b = ar->blocks; b; b = next) {
        next = b->next;
        free(b);
    }

    free(ar);

    return 0;
}


static ngx_http_clinic_article_str_t
s(const char *p)
{
    ngx_http_clinic_article_str_t  str;

    str.len = p ? strlen(p) : 0;
    str.data = (u_char *) p;

    return str;
}


/* builds a link index from {slug, title, "alias, alias"} */

static ngx_http_clinic_article_links_t *
index_of(arena_t *ar, const entry_t *in, size_t n)
{
    size_t                              i, k;
    char                               *copy, *tok;
    ngx_http_clinic_article_entry_t    *e;
    ngx_http_clinic_article_links_t    *links;

    e = arena_alloc(ar, n * sizeof(ngx_http_clinic_article_entry_t) + 1);

    for (i = 0; i < n; i++) {
        e[i].slug = s(in[i].slug);
        e[i].title = s(in[i].title);
        e[i].naliases = 0;
        e[i].aliases = arena_alloc(ar, 8 * sizeof(
                                            ngx_http_clinic_article_str_t));

        if (in[i].aliases == NULL) {
            continue;
        }

        copy = arena_alloc(ar, strlen(in[i].aliases) + 1);
        strcpy(copy, in[i].aliases);

        for (tok = strtok(copy, ","), k = 0; tok && k < 8;
             tok = strtok(NULL, ","), k++)
        {
            while (*tok == ' ') {
                tok++;
            }

            e[i].aliases[k] = s(tok);
            e[i].naliases++;
        }
    }

    links = ngx_http_clinic_article_links_create(e, n, &ar->a);
    assert_non_null(links);

    return links;
}


static ngx_http_clinic_article_t *
render(arena_t *ar, const char *src, ngx_http_clinic_article_format_t format,
    const char *self, ngx_http_clinic_article_links_t *links)
{
    ngx_http_clinic_article_t      *art;
    ngx_http_clinic_article_str_t   slug, prefix;

    art = arena_alloc(ar, sizeof(ngx_http_clinic_article_t));
    slug = s(self);
    prefix = s("/treatments/");

    assert_int_equal(ngx_http_clinic_article_render((u_char *) src,
                                                    strlen(src), format,
                                                    self ? &slug : NULL,
                                                    links, &prefix, &ar->a,
                                                    art),
                     OK);

    /* outputs are NUL-terminated and their lengths agree */
    assert_non_null(art->html.data);
    assert_int_equal(strlen((char *) art->html.data), art->html.len);
    assert_int_equal(strlen((char *) art->title.data), art->title.len);
    assert_int_equal(strlen((char *) art->summary.data), art->summary.len);

    /* never an h1 in the body: the template prints the title */
    assert_null(strstr((char *) art->html.data, "<h1"));

    return art;
}


static ngx_http_clinic_article_t *
meta(arena_t *ar, const char *src, size_t len,
    ngx_http_clinic_article_format_t format, const char *self)
{
    ngx_http_clinic_article_t      *art;
    ngx_http_clinic_article_str_t   slug;

    art = arena_alloc(ar, sizeof(ngx_http_clinic_article_t));
    slug = s(self);

    assert_int_equal(ngx_http_clinic_article_meta((u_char *) src, len,
                                                  format,
                                                  self ? &slug : NULL,
                                                  &ar->a, art),
                     OK);

    return art;
}


static void
assert_contains(const u_char *hay, const char *needle)
{
    if (strstr((const char *) hay, needle) == NULL) {
        fail_msg("missing \"%s\" in:\n%s", needle, hay);
    }
}


static void
assert_lacks(const u_char *hay, const char *needle)
{
    if (strstr((const char *) hay, needle) != NULL) {
        fail_msg("unexpected \"%s\" in:\n%s", needle, hay);
    }
}


static int
has_warning(const ngx_http_clinic_article_t *art, const char *needle)
{
    size_t  i;

    for (i = 0; i < art->nwarnings; i++) {
        if (strstr((char *) art->warnings[i].data, needle)) {
            return 1;
        }
    }

    return 0;
}


/* the folder next to this source file, unless $CLINIC_FIXTURES says */

static void
fixture_path(char *buf, size_t size, const char *name)
{
    const char  *env, *slash;

    env = getenv("CLINIC_FIXTURES");

    if (env) {
        snprintf(buf, size, "%s/%s", env, name);
        return;
    }

    slash = strrchr(__FILE__, '/');

    if (slash == NULL) {
        snprintf(buf, size, "fixtures/%s", name);
        return;
    }

    snprintf(buf, size, "%.*s/fixtures/%s", (int) (slash - __FILE__),
             __FILE__, name);
}


static u_char *
slurp(arena_t *ar, const char *path, size_t *len)
{
    FILE    *f;
    u_char  *buf;

    f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open fixture %s (run from the repository root or "
                 "set CLINIC_FIXTURES)", path);
    }

    buf = arena_alloc(ar, NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE + 1);
    *len = fread(buf, 1, NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE + 1, f);
    fclose(f);

    return buf;
}


static int
name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}


/* what the module does when it scans a clinic_content folder */

static clinic_t *
scan(arena_t *ar, const char *folder)
{
    DIR                            *dir;
    char                            path[512], rel[512];
    char                            names[MAX_ARTICLES][256];
    size_t                          i, n;
    clinic_t                       *c;
    struct dirent                  *de;
    ngx_http_clinic_article_str_t   slug;

    c = arena_alloc(ar, sizeof(clinic_t));
    memset(c, 0, sizeof(clinic_t));

    fixture_path(path, sizeof(path), folder);

    dir = opendir(path);
    if (dir == NULL) {
        fail_msg("cannot open fixture folder %s", path);
    }

    n = 0;

    while ((de = readdir(dir)) != NULL) {
        if (ngx_http_clinic_article_name((u_char *) de->d_name,
                                         strlen(de->d_name), &slug)
            != NGX_HTTP_CLINIC_ARTICLE_UNKNOWN)
        {
            assert_true(n < MAX_ARTICLES);
            snprintf(names[n++], 256, "%s", de->d_name);
        }
    }

    closedir(dir);

    qsort(names, n, 256, name_cmp);

    for (i = 0; i < n; i++) {
        memcpy(c->name[i], names[i], 256);

        snprintf(rel, sizeof(rel), "%s/%s", folder, names[i]);
        fixture_path(path, sizeof(path), rel);

        c->src[i] = slurp(ar, path, &c->len[i]);
        c->format[i] = ngx_http_clinic_article_name((u_char *) c->name[i],
                                                    strlen(c->name[i]),
                                                    &slug);

        assert_int_equal(ngx_http_clinic_article_meta(c->src[i], c->len[i],
                                                      c->format[i], &slug,
                                                      &ar->a, &c->meta[i]),
                         OK);

        c->entries[i].slug = slug;
        c->entries[i].title = c->meta[i].title;
        c->entries[i].aliases = c->meta[i].aliases;
        c->entries[i].naliases = c->meta[i].naliases;
    }

    c->n = n;
    c->links = ngx_http_clinic_article_links_create(c->entries, n, &ar->a);
    assert_non_null(c->links);

    return c;
}


static ngx_http_clinic_article_t *
render_file(arena_t *ar, clinic_t *c, const char *slug)
{
    size_t                          i;
    ngx_http_clinic_article_t      *art;
    ngx_http_clinic_article_str_t   prefix;

    for (i = 0; i < c->n; i++) {
        if (c->entries[i].slug.len == strlen(slug)
            && memcmp(c->entries[i].slug.data, slug, strlen(slug)) == 0)
        {
            break;
        }
    }

    assert_true(i < c->n);

    art = arena_alloc(ar, sizeof(ngx_http_clinic_article_t));
    prefix = s("/treatments/");

    assert_int_equal(ngx_http_clinic_article_render(c->src[i], c->len[i],
                                                    c->format[i],
                                                    &c->entries[i].slug,
                                                    c->links, &prefix,
                                                    &ar->a, art),
                     OK);
    assert_null(strstr((char *) art->html.data, "<h1"));

    return art;
}


/* the copywriter's format */

static void
test_txt_title_is_first_line(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "\n  \n  Joint Manipulation  \n\nBody line.\n", TXT,
                 NULL, NULL);

    assert_string_equal(art->title.data, "Joint Manipulation");
    assert_string_equal(art->html.data, "<p>Body line.</p>\n");
    assert_int_equal(art->nwarnings, 0);
}


static void
test_txt_paragraph_per_line(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "T\n\nLine one.\nLine two,\n   Line three  \n", TXT,
                 NULL, NULL);

    assert_string_equal(art->html.data,
                        "<p>Line one.</p>\n<p>Line two,</p>\n"
                        "<p>Line three</p>\n");
    assert_int_equal(art->nheadings, 0);
}


static void
test_txt_heading_question(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "Massage\n\nIntro.\n\nHow Often Should I Get "
                 "Massaged?\n\nOnce a month.\n", TXT, NULL, NULL);

    assert_string_equal(art->html.data,
                        "<p>Intro.</p>\n"
                        "<h2>How Often Should I Get Massaged?</h2>\n"
                        "<p>Once a month.</p>\n");
    assert_int_equal(art->nheadings, 1);
    assert_int_equal(art->headings[0].level, 2);
    assert_string_equal(art->headings[0].text.data,
                        "How Often Should I Get Massaged?");
}


static void
test_txt_heading_length(void **state)
{
    int                         i;
    char                        src[2048], line[1024];
    ngx_http_clinic_article_t  *art;

    /* 120 characters (240 bytes): a heading */
    line[0] = '\0';
    for (i = 0; i < 120; i++) {
        strcat(line, "\xc3\xa9");
    }

    snprintf(src, sizeof(src), "T\n\n%s\n\nx.\n", line);
    art = render(*state, src, TXT, NULL, NULL);
    assert_int_equal(art->nheadings, 1);
    assert_true(strncmp((char *) art->html.data, "<h2>", 4) == 0);

    /* 121 characters: a paragraph */
    memset(line, 'a', 121);
    line[121] = '\0';
    snprintf(src, sizeof(src), "T\n\n%s\n\nx.\n", line);
    art = render(*state, src, TXT, NULL, NULL);
    assert_int_equal(art->nheadings, 0);
    assert_true(strncmp((char *) art->html.data, "<p>", 3) == 0);

    /* exactly 120 ASCII characters: a heading */
    line[120] = '\0';
    snprintf(src, sizeof(src), "T\n\n%s\n\nx.\n", line);
    art = render(*state, src, TXT, NULL, NULL);
    assert_int_equal(art->nheadings, 1);
}


static void
test_txt_heading_punctuation(void **state)
{
    size_t                      i;
    char                        src[256];
    const char                 *ends = ".!,;:";
    ngx_http_clinic_article_t  *art;

    for (i = 0; ends[i]; i++) {
        snprintf(src, sizeof(src), "T\n\nHere is how%c\n\nx.\n", ends[i]);
        art = render(*state, src, TXT, NULL, NULL);
        assert_int_equal(art->nheadings, 0);
        assert_true(strncmp((char *) art->html.data, "<p>Here is how", 14)
                    == 0);
    }

    /* the rule looks through closing quotes and brackets */
    art = render(*state, "T\n\n(Call us today.)\n\n"
                 "\xe2\x80\x9cStop.\xe2\x80\x9d\n\n"
                 "Why \xe2\x80\x9c" "Cracking\xe2\x80\x9d?\n", TXT, NULL, NULL);
    assert_int_equal(art->nheadings, 1);
    assert_string_equal(art->headings[0].text.data,
                        "Why \xe2\x80\x9c" "Cracking\xe2\x80\x9d?");
}


static void
test_txt_heading_needs_blank_lines(void **state)
{
    ngx_http_clinic_article_t  *art;

    /* between non-blank lines, after a blank only, before a blank only */
    art = render(*state, "T\n\nFirst.\nMiddle Line\nLast.\n\nAfter Blank\n"
                 "Next.\n\nPrevious.\nBefore Blank\n\nEnd Of File", TXT,
                 NULL, NULL);

    assert_string_equal(art->html.data,
                        "<p>First.</p>\n<p>Middle Line</p>\n<p>Last.</p>\n"
                        "<p>After Blank</p>\n<p>Next.</p>\n"
                        "<p>Previous.</p>\n<p>Before Blank</p>\n"
                        "<h2>End Of File</h2>\n");
}


static void
test_txt_heading_after_title(void **state)
{
    ngx_http_clinic_article_t  *art;

    /* the start of the body counts as a blank line */
    art = render(*state, "Title\nA Short Subtitle\n\nText.\n", TXT, NULL,
                 NULL);
    assert_string_equal(art->html.data,
                        "<h2>A Short Subtitle</h2>\n<p>Text.</p>\n");

    art = render(*state, "---\ntitle: X\n---\nStraight After\n\nText.\n", TXT,
                 NULL, NULL);
    assert_string_equal(art->html.data,
                        "<h2>Straight After</h2>\n<p>Text.</p>\n");
}


static void
test_txt_escaping(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "A <b> & \"c\"\n\n<script>alert('x') & \"y\""
                 "</script>\nEnd.\n", TXT, NULL, NULL);

    /* the title is plain text: the template escapes it */
    assert_string_equal(art->title.data, "A <b> & \"c\"");
    assert_string_equal(art->html.data,
                        "<p>&lt;script&gt;alert(&#39;x&#39;) &amp; "
                        "&quot;y&quot;&lt;/script&gt;</p>\n<p>End.</p>\n");
}


static void
test_txt_typographic(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "T\n\nWe\xe2\x80\x99ll \xe2\x80\x9cquote\xe2\x80\x9d"
                 " 9\xe2\x80\x93" "5, caf\xc3\xa9.\n", TXT, NULL, NULL);

    assert_string_equal(art->html.data,
                        "<p>We\xe2\x80\x99ll \xe2\x80\x9cquote\xe2\x80\x9d"
                        " 9\xe2\x80\x93" "5, caf\xc3\xa9.</p>\n");
}


static void
test_bom_and_crlf(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "\xef\xbb\xbfTitle\r\n\r\nLine one.\r\nLine two."
                 "\r\n\r\nA Heading\r\n\r\nOld Mac.\rLone CR.\r", TXT, NULL,
                 NULL);

    assert_string_equal(art->title.data, "Title");
    assert_string_equal(art->html.data,
                        "<p>Line one.</p>\n<p>Line two.</p>\n"
                        "<h2>A Heading</h2>\n"
                        "<p>Old Mac.</p>\n<p>Lone CR.</p>\n");

    art = render(*state, "\xef\xbb\xbf---\r\ntitle: Md\r\n---\r\n\r\n"
                 "one\r\ntwo\r\n", MD, NULL, NULL);
    assert_string_equal(art->title.data, "Md");
    assert_string_equal(art->html.data, "<p>one\ntwo</p>\n");
}


/* front matter */

static void
test_front_matter_keys(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state,
                 "---\n"
                 "Title:   Gentle Joint Mobilisation  \n"
                 "summary: \"Slow, low-force joint work.\"\n"
                 "\n"
                 "aliases:  joint mobilisation , mobilisation,, \n"
                 "slug: joint-manipulation\n"
                 "---\n"
                 "First line of the body.\n",
                 TXT, "joint-manipulation", NULL);

    assert_string_equal(art->title.data, "Gentle Joint Mobilisation");
    assert_string_equal(art->summary.data, "Slow, low-force joint work.");
    assert_int_equal(art->naliases, 2);
    assert_string_equal(art->aliases[0].data, "joint mobilisation");
    assert_string_equal(art->aliases[1].data, "mobilisation");
    assert_int_equal(art->nwarnings, 0);
    assert_string_equal(art->html.data, "<p>First line of the body.</p>\n");
}


static void
test_front_matter_warnings(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state,
                 "---\n"
                 "title: One\n"
                 "title: Two\n"
                 "colour: blue\n"
                 "slug: other-name\n"
                 "summary:\n"
                 "---\n"
                 "Body.\n",
                 TXT, "my-slug", NULL);

    assert_string_equal(art->title.data, "Two");
    assert_true(has_warning(art, "line 3: repeated front matter key "
                                 "\"title\""));
    assert_true(has_warning(art, "line 4: unknown front matter key "
                                 "\"colour\""));
    assert_true(has_warning(art, "slug \"other-name\" is ignored, the file "
                                 "name gives \"my-slug\""));
    assert_true(has_warning(art, "line 6: empty summary"));
    assert_int_equal(art->nwarnings, 4);

    /* the summary falls back to the first paragraph */
    assert_string_equal(art->summary.data, "Body.");
}


/* redirect_from: slugs like aliases; removed: yes/no and its aliases */

static void
test_front_matter_redirect_removed(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state,
                 "---\n"
                 "REDIRECT_FROM:  old-name , Not A Slug,,-dash, older-2 \n"
                 "removed: No\n"
                 "---\n"
                 "Title\n",
                 TXT, "new-name", NULL);

    assert_int_equal(art->nredirect_from, 2);
    assert_string_equal(art->redirect_from[0].data, "old-name");
    assert_string_equal(art->redirect_from[1].data, "older-2");
    assert_int_equal(art->removed, 0);
    assert_true(has_warning(art, "line 2: redirect_from \"Not A Slug\" is "
                                 "not a slug"));
    assert_true(has_warning(art, "line 2: redirect_from \"-dash\" is not "
                                 "a slug"));
    assert_int_equal(art->nwarnings, 2);
    assert_int_equal(art->naliases, 0);

    art = render(*state, "---\nremoved: YES\n---\n", TXT, "gone", NULL);
    assert_int_equal(art->removed, 1);

    art = render(*state, "---\nremoved: true\nremoved: 0\n---\nT\n", MD,
                 "back", NULL);
    assert_int_equal(art->removed, 0);

    art = render(*state, "---\nremoved: perhaps\n---\nT\n", TXT, "odd",
                 NULL);
    assert_int_equal(art->removed, 0);
    assert_true(has_warning(art, "line 2: removed \"perhaps\" is neither "
                                 "yes nor no, the article is not removed"));
}


static void
test_front_matter_unclosed(void **state)
{
    ngx_http_clinic_article_t  *art;

    /* ends at the first line that is not "key: value" */
    art = render(*state, "---\ntitle: Open\nsummary: S\nThe body starts "
                 "here.\nSecond line.\n", TXT, NULL, NULL);

    assert_string_equal(art->title.data, "Open");
    assert_string_equal(art->summary.data, "S");
    assert_true(has_warning(art, "line 4: front matter is not closed by "
                                 "\"---\""));
    assert_string_equal(art->html.data,
                        "<p>The body starts here.</p>\n"
                        "<p>Second line.</p>\n");

    /* or at the end of the file */
    art = render(*state, "---\ntitle: Only\n", MD, "only", NULL);
    assert_string_equal(art->title.data, "Only");
    assert_string_equal(art->html.data, "");
    assert_true(has_warning(art, "front matter is not closed"));

    /* "---" that is not the first line is not front matter */
    art = render(*state, "Title\n---\ntitle: x\n---\n", TXT, NULL, NULL);
    assert_string_equal(art->title.data, "Title");
    assert_int_equal(art->nwarnings, 0);
    assert_contains(art->html.data, "<p>title: x</p>");
}


static void
test_no_title(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "", TXT, "empty-one", NULL);
    assert_string_equal(art->title.data, "empty-one");
    assert_true(has_warning(art, "no title"));

    art = render(*state, "Just a paragraph.\n", MD, NULL, NULL);
    assert_string_equal(art->title.data, "");
    assert_true(has_warning(art, "no title"));
    assert_string_equal(art->summary.data, "Just a paragraph.");
}


static void
test_invalid_input(void **state)
{
    arena_t                        *ar = *state;
    size_t                          i;
    u_char                         *big;
    ngx_http_clinic_article_t       art;
    static const struct {
        const char  *src;
        size_t       len;
        const char  *error;
    } bad[] = {
        { "Title\n\nbad \xff byte", 16, "invalid UTF-8 at byte 11" },
        { "T\xc0\xaf", 3, "invalid UTF-8 at byte 1" },        /* overlong */
        { "T\xed\xa0\x80", 4, "invalid UTF-8 at byte 1" },    /* surrogate */
        { "T\xf4\x90\x80\x80", 5, "invalid UTF-8 at byte 1" },/* > 10FFFF */
        { "T\xe2\x80", 3, "invalid UTF-8 at byte 1" },        /* truncated */
        { "\xef\xbb\xbfT\0x", 5, "NUL character at byte 4" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ngx_http_clinic_article_meta((u_char *) bad[i].src,
                                                      bad[i].len, TXT, NULL,
                                                      &ar->a, &art),
                         NGX_HTTP_CLINIC_ARTICLE_EINVALID);
        assert_string_equal(art.error.data, bad[i].error);

        assert_int_equal(ngx_http_clinic_article_render((u_char *) bad[i].src,
                                                        bad[i].len, MD, NULL,
                                                        NULL, NULL, &ar->a,
                                                        &art),
                         NGX_HTTP_CLINIC_ARTICLE_EINVALID);
    }

    big = arena_alloc(ar, NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE + 1);
    memset(big, 'a', NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE + 1);

    assert_int_equal(ngx_http_clinic_article_meta(big,
                                       NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE + 1,
                                       TXT, NULL, &ar->a, &art),
                     NGX_HTTP_CLINIC_ARTICLE_EINVALID);
    assert_string_equal(art.error.data, "file is larger than 1048576 bytes");

    assert_int_equal(ngx_http_clinic_article_meta(big,
                                       NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE,
                                       TXT, NULL, &ar->a, &art),
                     OK);
}


/* Markdown */

static void
test_md_title_from_heading(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "Intro *before*.\n\n# Hello `World`\n\nText.\n\n"
                 "# Hello World\n", MD, NULL, NULL);

    /* the first # heading is the title and is not repeated */
    assert_string_equal(art->title.data, "Hello World");
    assert_string_equal(art->html.data,
                        "<p>Intro <em>before</em>.</p>\n<p>Text.</p>\n"
                        "<h2>Hello World</h2>\n");
    assert_string_equal(art->summary.data, "Intro before.");

    /* meta() agrees */
    art = meta(*state, "Setext *Title*\n===\n\nBody.\n",
               strlen("Setext *Title*\n===\n\nBody.\n"), MD, NULL);
    assert_string_equal(art->title.data, "Setext Title");
    assert_string_equal(art->summary.data, "Body.");
    assert_null(art->html.data);
}


static void
test_md_h1_dedup_and_demotion(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "---\ntitle: Sports Massage & Recovery\n---\n\n"
                 "# sports   massage &amp; recovery\n\nText.\n\n"
                 "# Another Top Heading\n\n## Sub\n\n### Subsub\n\n"
                 "#### Deep\n", MD, NULL, NULL);

    assert_string_equal(art->html.data,
                        "<p>Text.</p>\n<h2>Another Top Heading</h2>\n"
                        "<h2>Sub</h2>\n<h3>Subsub</h3>\n<h4>Deep</h4>\n");
    assert_int_equal(art->nheadings, 3);
    assert_string_equal(art->headings[0].text.data, "Another Top Heading");
    assert_int_equal(art->headings[2].level, 3);

    /* an opening # heading that differs from the title is demoted */
    art = render(*state, "---\ntitle: One\n---\n# Two\n", MD, NULL, NULL);
    assert_string_equal(art->html.data, "<h2>Two</h2>\n");
}


static void
test_md_raw_html_escaped(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "# T\n\n<script>alert(\"x\")</script>\n\n"
                 "Inline <b onclick=\"x()\">bold</b> &lt;i&gt; &copy; &#60;"
                 " &#x3C; &bogus;\n\n<!-- comment -->\n", MD, NULL, NULL);

    assert_lacks(art->html.data, "<script");
    assert_lacks(art->html.data, "<b ");
    assert_lacks(art->html.data, "<!--");
    assert_contains(art->html.data,
                    "<p>&lt;script&gt;alert(&quot;x&quot;)"
                    "&lt;/script&gt;</p>");
    assert_contains(art->html.data,
                    "<p>Inline &lt;b onclick=&quot;x()&quot;&gt;bold"
                    "&lt;/b&gt; &lt;i&gt; \xc2\xa9 &lt; &lt; &amp;bogus;</p>");
}


static void
test_md_unsafe_urls_dropped(void **state)
{
    size_t                      i;
    char                        src[256];
    ngx_http_clinic_article_t  *art;
    static const char          *urls[] = {
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "<java\tscript:alert(1)>",
        "java&#10;script:alert(1)",
        "java&#13;script:alert(1)",
        "java&#9;script:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript:alert(1)",
        "<  javascript:alert(1)>",
        "&#1;javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://example.com/",
    };

    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        snprintf(src, sizeof(src), "# T\n\nSee [the text](%s) now.\n",
                 urls[i]);
        art = render(*state, src, MD, NULL, NULL);

        assert_string_equal(art->html.data, "<p>See the text now.</p>\n");
        assert_true(has_warning(art, "link \""));
        assert_true(has_warning(art, "dropped"));

        snprintf(src, sizeof(src), "# T\n\nA ![picture](%s) B\n", urls[i]);
        art = render(*state, src, MD, NULL, NULL);

        assert_string_equal(art->html.data, "<p>A  B</p>\n");
        assert_true(has_warning(art, "image \""));
    }

    /* an autolink is a link too */
    art = render(*state, "# T\n\n<javascript:alert(1)>\n", MD, NULL, NULL);
    assert_string_equal(art->html.data, "<p>javascript:alert(1)</p>\n");

    /* an unknown entity stays literal, so the browser sees no scheme */
    art = render(*state, "# T\n\n[x](javascript&colon;alert(1))\n", MD, NULL,
                 NULL);
    assert_string_equal(art->html.data,
                        "<p><a href=\"javascript&amp;colon;alert(1)\">x</a>"
                        "</p>\n");
}


static void
test_md_safe_urls_kept(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state,
                 "# T\n\n"
                 "[a](https://example.com/a?b=1&c=\"2\" \"Title & co\") "
                 "[b](HTTP://EXAMPLE.COM) [c](mailto:desk@example.com) "
                 "[d](tel:+44-1234) [e](/contact) [f](page.html#top) "
                 "[g](#anchor) [h](//cdn.example.com/x) [i](<a b>) "
                 "[j](?q=1) <https://example.org/x> [k]()\n",
                 MD, NULL, NULL);

    assert_string_equal(art->html.data,
        "<p><a href=\"https://example.com/a?b=1&amp;c=&quot;2&quot;\" "
        "title=\"Title &amp; co\">a</a> "
        "<a href=\"HTTP://EXAMPLE.COM\">b</a> "
        "<a href=\"mailto:desk@example.com\">c</a> "
        "<a href=\"tel:+44-1234\">d</a> "
        "<a href=\"/contact\">e</a> "
        "<a href=\"page.html#top\">f</a> "
        "<a href=\"#anchor\">g</a> "
        "<a href=\"//cdn.example.com/x\">h</a> "
        "<a href=\"a%20b\">i</a> "
        "<a href=\"?q=1\">j</a> "
        "<a href=\"https://example.org/x\">https://example.org/x</a> "
        "<a href=\"\">k</a></p>\n");
    assert_int_equal(art->nwarnings, 0);
}


static void
test_md_images(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "# T\n\n![a *small* \"cup\" ![in](x.png)](/img/cup.png"
                 " \"The <cup>\")\n\n[![logo](/l.png)](/home)\n", MD, NULL,
                 NULL);

    assert_string_equal(art->html.data,
                        "<p><img src=\"/img/cup.png\" alt=\"a small &quot;cup"
                        "&quot; in\" title=\"The &lt;cup&gt;\"></p>\n"
                        "<p><a href=\"/home\"><img src=\"/l.png\" alt=\"logo\">"
                        "</a></p>\n");
}


static void
test_md_blocks(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "# T\n\n> quoted\n\n- a\n- b\n\n3. c\n4. d\n\n---\n\n"
                 "```c\nint x < 1;\n```\n\n    indented\n\n"
                 "| A | B |\n|:--|--:|\n| 1 | ~~2~~ |\n\nline  \nbreak\n",
                 MD, NULL, NULL);

    assert_string_equal(art->html.data,
                        "<blockquote>\n<p>quoted</p>\n</blockquote>\n"
                        "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"
                        "<ol start=\"3\">\n<li>c</li>\n<li>d</li>\n</ol>\n"
                        "<hr>\n"
                        "<pre><code>int x &lt; 1;\n</code></pre>\n"
                        "<pre><code>indented\n</code></pre>\n"
                        "<table>\n<thead>\n<tr>\n<th align=\"left\">A</th>\n"
                        "<th align=\"right\">B</th>\n</tr>\n</thead>\n"
                        "<tbody>\n<tr>\n<td align=\"left\">1</td>\n"
                        "<td align=\"right\"><del>2</del></td>\n</tr>\n"
                        "</tbody>\n</table>\n"
                        "<p>line<br>\nbreak</p>\n");
}


static void
test_md4c_defects(void **state)
{
    ngx_http_clinic_article_t  *art;

    /* md4c 0.4.8 enters <em> here and never leaves it */
    art = render(*state, "# T\n\n*a [r](J*a)\n\n- *b\n", MD, NULL, NULL);
    assert_string_equal(art->html.data,
                        "<p><em>a <a href=\"J*a\">r</a></em></p>\n"
                        "<ul>\n<li>*b</li>\n</ul>\n");

    /* and reads past the end of its input on "[](" at the very end */
    art = render(*state, "# T\n\nx [](", MD, NULL, NULL);
    assert_string_equal(art->html.data, "<p>x [](</p>\n");
    art = render(*state, "[](", MD, NULL, NULL);
    assert_string_equal(art->html.data, "<p>[](</p>\n");
}


static void
test_md_code_not_linked(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "joint-manipulation", "Joint Manipulation", NULL },
    };

    links = index_of(ar, idx, 1);

    art = render(ar, "# T\n\nUse `joint manipulation [LINK]` here.\n\n"
                 "```\njoint manipulation [LINK]\n```\n", MD, NULL, links);

    assert_string_equal(art->html.data,
                        "<p>Use <code>joint manipulation [LINK]</code> "
                        "here.</p>\n"
                        "<pre><code>joint manipulation [LINK]\n"
                        "</code></pre>\n");
    assert_int_equal(art->nlinks, 0);
    assert_int_equal(art->nunresolved, 0);
}


static void
test_md_existing_links_not_relinked(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "joint-manipulation", "Joint Manipulation", NULL },
    };

    links = index_of(ar, idx, 1);

    /* the words are inside a link, the marker outside */
    art = render(ar, "# T\n\nSee [joint manipulation](/x) [LINK].\n", MD,
                 NULL, links);
    assert_string_equal(art->html.data,
                        "<p>See <a href=\"/x\">joint manipulation</a>.</p>\n");
    assert_int_equal(art->nlinks, 0);
    assert_int_equal(art->nunresolved, 1);
    assert_string_equal(art->unresolved[0].data, "[LINK].");

    /* the marker inside the link: removed, reported */
    art = render(ar, "# T\n\nSee [joint manipulation [LINK]](/x).\n", MD,
                 NULL, links);
    assert_string_equal(art->html.data,
                        "<p>See <a href=\"/x\">joint manipulation</a>.</p>\n");
    assert_int_equal(art->nlinks, 0);
    assert_int_equal(art->nunresolved, 1);
    assert_string_equal(art->unresolved[0].data, "joint manipulation");
}


static void
test_md_marker_in_split_text(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "joint-manipulation", "Joint Manipulation", NULL },
    };

    links = index_of(ar, idx, 1);

    /* entities, a soft line break and "[" "]" split md4c's text */
    art = render(ar, "# T\n\nTry joint\nmanipulation&#32;[LINK] or "
                 "joint&nbsp;manipulation [LINK] then *more*.\n", MD, NULL,
                 links);

    assert_string_equal(art->html.data,
                        "<p>Try <a href=\"/treatments/joint-manipulation\">"
                        "joint\nmanipulation</a> or "
                        "<a href=\"/treatments/joint-manipulation\">"
                        "joint\xc2\xa0manipulation</a> then "
                        "<em>more</em>.</p>\n");
    assert_int_equal(art->nlinks, 2);
    assert_string_equal(art->links[0].text.data, "joint manipulation");

    /* markup ends the look-back */
    art = render(ar, "# T\n\n*joint manipulation* [LINK]\n", MD, NULL, links);
    assert_string_equal(art->html.data,
                        "<p><em>joint manipulation</em></p>\n");
    assert_int_equal(art->nunresolved, 1);
}


/* [LINK] */

static const entry_t  backcare[] = {
    { "joint-manipulation", "Joint Manipulation for Back and Neck Pain",
      NULL },
    { "spinal-decompression", "Spinal Decompression Therapy", NULL },
    { "sports-massage", "Sports Massage & Recovery",
      "sports massage, athletic massage" },
};


static void
test_link_spec_example(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;

    links = index_of(ar, backcare, 3);

    art = render(ar, "T\n\nThis is treated by something like joint "
                 "manipulation [LINK] or spinal decompression [LINK], but "
                 "not always.\n", TXT, NULL, links);

    assert_string_equal(art->html.data,
                        "<p>This is treated by something like "
                        "<a href=\"/treatments/joint-manipulation\">joint "
                        "manipulation</a> or "
                        "<a href=\"/treatments/spinal-decompression\">spinal "
                        "decompression</a>, but not always.</p>\n");

    assert_int_equal(art->nlinks, 2);
    assert_string_equal(art->links[0].text.data, "joint manipulation");
    assert_string_equal(art->links[0].slug.data, "joint-manipulation");
    assert_string_equal(art->links[1].text.data, "spinal decompression");
    assert_string_equal(art->links[1].slug.data, "spinal-decompression");
    assert_int_equal(art->nunresolved, 0);

    /* the same in Markdown */
    art = render(ar, "# T\n\nsomething like joint manipulation [LINK] or "
                 "spinal decompression [LINK], but\n", MD, NULL, links);
    assert_string_equal(art->html.data,
                        "<p>something like "
                        "<a href=\"/treatments/joint-manipulation\">joint "
                        "manipulation</a> or "
                        "<a href=\"/treatments/spinal-decompression\">spinal "
                        "decompression</a>, but</p>\n");
}


/* renders "<phrase> [LINK]" and returns the slug linked, or NULL */

static const char *
linked(arena_t *ar, ngx_http_clinic_article_links_t *links, const char *text,
    const char *self)
{
    char                        src[512];
    ngx_http_clinic_article_t  *art;

    snprintf(src, sizeof(src), "T\n\n%s\n", text);
    art = render(ar, src, TXT, self, links);

    assert_true(art->nlinks + art->nunresolved == 1);

    return art->nlinks ? (char *) art->links[0].slug.data : NULL;
}


static void
test_link_priorities(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        /* alphabetically first, so only the priority can beat them */
        { "aaa", "Deep Tissue", "cupping" },
        { "aab", "Cupping", NULL },
        { "aac", "Dry Needling Therapy", NULL },
        { "deep-tissue", "Something Else", NULL },
        { "zzz", "Dry Needling", "needles" },
        { "zzy", "Cupping Extra", "cupping" },
    };

    links = index_of(ar, idx, 6);

    /* exact slug beats title ("Deep Tissue") */
    assert_string_equal(linked(ar, links, "deep tissue [LINK]", NULL),
                        "deep-tissue");

    /* alias beats title ("Cupping"); two aliases: alphabetical */
    assert_string_equal(linked(ar, links, "cupping [LINK]", NULL), "aaa");

    /* title beats first words ("Dry Needling Therapy") */
    assert_string_equal(linked(ar, links, "dry needling [LINK]", NULL),
                        "zzz");

    /* first words, when nothing better */
    assert_string_equal(linked(ar, links, "dry [LINK]", NULL), "aac");
}


static void
test_link_priority_slug_over_alias(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "aaa", "Other", "hot stones" },
        { "hot-stones", "Hot Stone Massage", NULL },
    };

    links = index_of(ar, idx, 2);

    assert_string_equal(linked(ar, links, "HOT-stones [LINK]", NULL),
                        "hot-stones");
}


static void
test_link_alphabetical_tie(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "reflexology-b", "Reflexology", NULL },
        { "reflexology-c", "Reflexology", NULL },
        { "reflexology-a", "Reflexology", NULL },
    };

    links = index_of(ar, idx, 3);

    assert_string_equal(linked(ar, links, "reflexology [LINK]", NULL),
                        "reflexology-a");

    /* the page itself is skipped, the next one wins */
    assert_string_equal(linked(ar, links, "reflexology [LINK]",
                               "reflexology-a"),
                        "reflexology-b");
}


static void
test_link_longest_run(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "massage", "Massage", NULL },
        { "dtm", "Deep Tissue Massage Therapy", NULL },
    };

    links = index_of(ar, idx, 2);

    /* three words naming "dtm" by first words beat one naming a slug */
    art = render(ar, "T\n\nTry a deep tissue massage [LINK] today.\n", TXT,
                 NULL, links);
    assert_string_equal(art->html.data,
                        "<p>Try a <a href=\"/treatments/dtm\">deep tissue "
                        "massage</a> today.</p>\n");

    art = render(ar, "T\n\nTry a relaxing massage [LINK] today.\n", TXT,
                 NULL, links);
    assert_string_equal(art->html.data,
                        "<p>Try a relaxing <a href=\"/treatments/massage\">"
                        "massage</a> today.</p>\n");
}


static void
test_link_clause_boundaries(void **state)
{
    arena_t                          *ar = *state;
    size_t                            i;
    char                              src[128], html[128];
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;
    const char                       *stops = ".,;:!?()";
    static const entry_t              idx[] = {
        { "joint-manipulation", "Joint Manipulation", NULL },
    };

    links = index_of(ar, idx, 1);

    for (i = 0; stops[i]; i++) {
        snprintf(src, sizeof(src), "T\n\nTry joint%c manipulation [LINK] "
                 "now.\n", stops[i]);
        art = render(ar, src, TXT, NULL, links);

        snprintf(html, sizeof(html), "<p>Try joint%c manipulation now.</p>\n",
                 stops[i]);
        assert_string_equal(art->html.data, html);
        assert_int_equal(art->nlinks, 0);
        assert_int_equal(art->nunresolved, 1);
        assert_string_equal(art->unresolved[0].data, "manipulation");

        /* without a space after the stop, too */
        snprintf(src, sizeof(src), "T\n\nTry joint%cmanipulation [LINK]\n",
                 stops[i]);
        art = render(ar, src, TXT, NULL, links);
        assert_int_equal(art->nlinks, 0);
    }
}


static void
test_link_earlier_marker_bounds(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "sd", "SD", "spinal decompression" },
    };

    links = index_of(ar, idx, 1);

    art = render(ar, "T\n\nspinal [LINK] decompression [LINK] here.\n", TXT,
                 NULL, links);

    assert_string_equal(art->html.data,
                        "<p>spinal decompression here.</p>\n");
    assert_int_equal(art->nlinks, 0);
    assert_int_equal(art->nunresolved, 2);
    assert_string_equal(art->unresolved[0].data, "spinal");
    assert_string_equal(art->unresolved[1].data, "decompression");
}


static void
test_link_six_words(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "s6", "Alpha", "one two three four five six" },
        { "s7", "Beta", "one two three four five six seven" },
    };

    links = index_of(ar, idx, 2);

    art = render(ar, "T\n\nzero one two three four five six [LINK].\n",
                 TXT, NULL, links);
    assert_string_equal(art->html.data,
                        "<p>zero <a href=\"/treatments/s6\">one two three "
                        "four five six</a>.</p>\n");

    art = render(ar, "T\n\none two three four five six seven [LINK]\n", TXT,
                 NULL, links);
    assert_int_equal(art->nlinks, 0);
    assert_string_equal(art->unresolved[0].data,
                        "two three four five six seven");
}


static void
test_link_title_first_six_words(void **state)
{
    arena_t                          *ar = *state;
    size_t                            i, n;
    char                             *title;
    ngx_http_clinic_article_links_t  *links;
    entry_t                           idx[2] = {
        { "x7", "One Two Three Four Five Six Seven", NULL },
        { "huge", NULL, NULL },
    };

    /* a 1 MB title: only its first words are indexed, in linear time */
    n = NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE;
    title = arena_alloc(ar, n + 1);

    for (i = 0; i + 2 <= n; i += 2) {
        memcpy(title + i, "w ", 2);
    }

    title[i] = '\0';
    idx[1].title = title;

    links = index_of(ar, idx, 2);

    assert_string_equal(linked(ar, links, "one two three four five six "
                                          "[LINK]", NULL), "x7");
    assert_string_equal(linked(ar, links, "w w w w w w [LINK]", NULL),
                        "huge");
}


static void
test_link_unresolved_removed(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;

    links = index_of(ar, backcare, 3);

    art = render(ar, "T\n\nIf muscles, massage therapy [LINK] may help. "
                 "Tight [LINK]\nAlso [LINK]. [LINK] starts.\n", TXT, NULL,
                 links);

    /* the words stay, the marker and the space before it go */
    assert_string_equal(art->html.data,
                        "<p>If muscles, massage therapy may help. Tight</p>\n"
                        "<p>Also. starts.</p>\n");
    assert_int_equal(art->nunresolved, 4);
    assert_string_equal(art->unresolved[0].data, "massage therapy");
    assert_string_equal(art->unresolved[1].data, "Tight");
    assert_string_equal(art->unresolved[2].data, "Also");
    assert_string_equal(art->unresolved[3].data, "[LINK] starts.");

    /* without an index every marker is unresolved */
    art = render(ar, "T\n\njoint manipulation [LINK].\n", TXT, NULL, NULL);
    assert_string_equal(art->html.data, "<p>joint manipulation.</p>\n");
    assert_int_equal(art->nunresolved, 1);
}


static void
test_link_marker_at_start(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;

    links = index_of(ar, backcare, 3);

    art = render(ar, "T\n\n[LINK] joint manipulation helps.\n\n[LINK]\n", TXT,
                 NULL, links);

    /* a line that only held a marker is left out */
    assert_string_equal(art->html.data,
                        "<p> joint manipulation helps.</p>\n");
    assert_int_equal(art->nheadings, 0);
    assert_int_equal(art->nlinks, 0);
    assert_int_equal(art->nunresolved, 2);
    assert_string_equal(art->unresolved[0].data,
                        "[LINK] joint manipulation helps.");
    assert_string_equal(art->unresolved[1].data, "[LINK]");
}


static void
test_link_self_excluded(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "joint-manipulation", "Joint Manipulation", NULL },
        { "zzz", "Other", "joint manipulation" },
    };

    links = index_of(ar, backcare, 3);

    assert_null(linked(ar, links, "joint manipulation [LINK]",
                       "joint-manipulation"));
    assert_string_equal(linked(ar, links, "joint manipulation [LINK]",
                               "sports-massage"),
                        "joint-manipulation");

    /* excluding the best candidate leaves the next best */
    links = index_of(ar, idx, 2);
    assert_string_equal(linked(ar, links, "joint manipulation [LINK]",
                               "joint-manipulation"),
                        "zzz");
}


static void
test_link_normalization(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "joint-manipulation", "Joint Manipulation", NULL },
        { "therapie", "Th\xc3\xa9rapie Manuelle", NULL },
    };

    links = index_of(ar, idx, 2);

    /* case, hyphens, runs of whitespace; the text stays as written */
    art = render(ar, "T\n\nJOINT-\t Manipulation [LINK] and "
                 "\xe2\x80\x9cjoint manipulation\xe2\x80\x9d [LINK].\n",
                 TXT, NULL, links);
    assert_string_equal(art->html.data,
                        "<p><a href=\"/treatments/joint-manipulation\">JOINT-"
                        "\t Manipulation</a> and \xe2\x80\x9c"
                        "<a href=\"/treatments/joint-manipulation\">joint "
                        "manipulation</a>\xe2\x80\x9d.</p>\n");
    assert_string_equal(art->links[0].text.data, "JOINT- Manipulation");

    /* UTF-8 passes through; only ASCII letters fold */
    assert_string_equal(linked(ar, links,
                               "TH\xc3\xa9RAPIE manuelle [LINK]", NULL),
                        "therapie");
    assert_null(linked(ar, links, "TH\xc3\x89RAPIE manuelle [LINK]", NULL));
}


static void
test_link_in_heading(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;

    links = index_of(ar, backcare, 3);

    art = render(ar, "T\n\nAbout Sports Massage [LINK]\n\nText.\n", TXT, NULL,
                 links);
    assert_string_equal(art->html.data,
                        "<h2>About <a href=\"/treatments/sports-massage\">"
                        "Sports Massage</a></h2>\n<p>Text.</p>\n");
    assert_string_equal(art->headings[0].text.data, "About Sports Massage");
}


static void
test_link_many_markers(void **state)
{
    arena_t                          *ar = *state;
    size_t                            i, n;
    char                             *src;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;

    links = index_of(ar, backcare, 3);

    /* 1 MB of markers and long words, both formats: linear time */
    n = NGX_HTTP_CLINIC_ARTICLE_MAX_SIZE;
    src = arena_alloc(ar, n + 1);

    memcpy(src, "T\n\n", 3);

    for (i = 3; i + 40 <= n; i += 40) {
        memcpy(src + i, "spinal decompression [LINK] [LINK] x\xc2\xa0y ", 40);
    }

    src[i] = '\0';

    art = render(ar, src, TXT, NULL, links);
    assert_int_equal(art->nlinks, (i - 3) / 40);
    assert_int_equal(art->nunresolved, (i - 3) / 40);

    art = render(ar, src, MD, NULL, links);
    assert_int_equal(art->nlinks, (i - 3) / 40);

    memset(src + 3, 'a', n - 4);
    memcpy(src + n - 10, " [LINK]", 7);
    src[n - 3] = '\0';
    art = render(ar, src, TXT, NULL, links);
    assert_int_equal(art->nunresolved, 1);

    /* markers only: each reports a bounded excerpt of what follows */
    for (i = 3; i + 6 <= n; i += 6) {
        memcpy(src + i, "[LINK]", 6);
    }

    src[i] = '\0';

    art = render(ar, src, MD, NULL, links);
    assert_int_equal(art->nunresolved, (i - 3) / 6);
    assert_true(art->unresolved[0].len <= 6 + 64);
    assert_string_equal(art->html.data, "<p>T</p>\n<p></p>\n");

    art = render(ar, src, TXT, NULL, links);
    assert_int_equal(art->nunresolved, (i - 3) / 6);
    assert_string_equal(art->html.data, "");
}


/* summary */

static void
test_summary_cut(void **state)
{
    arena_t                        *ar = *state;
    size_t                          i;
    char                            src[2048], expect[512];
    ngx_http_clinic_article_str_t   out;
    ngx_http_clinic_article_t      *art;

    /* 40 x "word " = 200 characters: cut after the 32nd word (159) */
    src[0] = '\0';
    for (i = 0; i < 40; i++) {
        strcat(src, "word ");
    }

    assert_int_equal(ngx_http_clinic_article_summary((u_char *) src,
                                                     strlen(src), &ar->a,
                                                     &out),
                     OK);
    expect[0] = '\0';
    for (i = 0; i < 32; i++) {
        strcat(expect, i ? " word" : "word");
    }
    strcat(expect, "\xe2\x80\xa6");
    assert_string_equal(out.data, expect);

    /* a word ending exactly at 160 is kept whole, trailing comma dropped */
    memset(src, 'a', 155);
    memcpy(src + 155, " bcd, efgh", 11);
    assert_int_equal(ngx_http_clinic_article_summary((u_char *) src,
                                                     strlen(src), &ar->a,
                                                     &out),
                     OK);
    assert_int_equal(out.len, 159 + 3);
    assert_string_equal((char *) out.data + 155, " bcd\xe2\x80\xa6");

    /* short text: whitespace collapsed, no ellipsis */
    assert_int_equal(ngx_http_clinic_article_summary((u_char *)
                                                     "  a \n\t b  ", 10,
                                                     &ar->a, &out),
                     OK);
    assert_string_equal(out.data, "a b");

    /* one long word of multibyte characters: cut at 160 characters */
    src[0] = '\0';
    for (i = 0; i < 300; i++) {
        strcat(src, "\xc3\xa9");
    }

    assert_int_equal(ngx_http_clinic_article_summary((u_char *) src,
                                                     strlen(src), &ar->a,
                                                     &out),
                     OK);
    assert_int_equal(out.len, 320 + 3);
    assert_memory_equal(out.data + 318, "\xc3\xa9\xe2\x80\xa6", 5);

    /* the default summary is the first paragraph, not a heading */
    art = render(ar, "T\n\nA Heading\n\nSecond [LINK] paragraph.\n", TXT,
                 NULL, NULL);
    assert_string_equal(art->summary.data, "Second paragraph.");

    art = render(ar, "# T\n\n## Sub\n\n- tight\n\nSome *emph*, `code`, "
                 "[a link](/x)\nand &amp; [LINK] more.\n\nNext.\n", MD, NULL,
                 NULL);
    assert_string_equal(art->summary.data,
                        "Some emph, code, a link and & more.");
}


/* the sample clinics */

static void
test_sample_backcare(void **state)
{
    arena_t                    *ar = *state;
    size_t                      i;
    clinic_t                   *c;
    ngx_http_clinic_article_t  *art;

    c = scan(ar, "backcare");

    assert_int_equal(c->n, 3);
    assert_string_equal(c->meta[0].title.data,
                        "Joint Manipulation for Back and Neck Pain");
    assert_string_equal(c->meta[1].title.data, "Spinal Decompression Therapy");
    assert_string_equal(c->meta[2].title.data, "Sports Massage & Recovery");
    assert_string_equal(c->meta[2].summary.data,
                        "Deep-tissue work that helps athletes recover faster "
                        "and train harder.");
    assert_int_equal(c->meta[2].naliases, 2);

    for (i = 0; i < c->n; i++) {
        assert_int_equal(c->meta[i].nwarnings, 0);
    }

    /* the summary starts the first paragraph, cut near 160 */
    assert_string_equal(c->meta[0].summary.data,
                        "When a joint in the spine stops moving the way it "
                        "should, the muscles around it tighten to protect it,"
                        " and the stiffness spreads. Joint manipulation is "
                        "a\xe2\x80\xa6");

    art = render_file(ar, c, "joint-manipulation");

    assert_int_equal(art->nunresolved, 1);
    assert_string_equal(art->unresolved[0].data, "massage therapy");
    assert_int_equal(art->nlinks, 1);
    assert_string_equal(art->links[0].slug.data, "spinal-decompression");
    assert_contains(art->html.data,
                    "inflamed muscles, massage therapy may be the better");
    assert_contains(art->html.data,
                    "pressing on a nerve, <a href=\"/treatments/"
                    "spinal-decompression\">spinal decompression</a> is "
                    "usually recommended");
    assert_contains(art->html.data,
                    "<h2>What Happens During Joint Manipulation?</h2>");
    assert_contains(art->html.data, "We\xe2\x80\x99ll tell you honestly");
    assert_lacks(art->html.data, "Joint Manipulation for Back");
    assert_lacks(art->html.data, "[LINK]");
    assert_int_equal(art->nheadings, 3);
    assert_string_equal(art->headings[1].text.data, "Who Is It For?");
    assert_string_equal(art->headings[2].text.data, "Book Your Assessment");

    art = render_file(ar, c, "spinal-decompression");
    assert_int_equal(art->nlinks, 1);
    assert_string_equal(art->links[0].slug.data, "joint-manipulation");
    assert_int_equal(art->nunresolved, 1);
    assert_string_equal(art->unresolved[0].data, "and massage therapy");
    assert_contains(art->html.data,
                    "<h2>How Many Sessions Will I Need?</h2>");

    art = render_file(ar, c, "sports-massage");
    assert_lacks(art->html.data, "Sports Massage &amp; Recovery");
    assert_contains(art->html.data,
                    "<p>Training breaks muscle fibres down; <strong>recovery"
                    "</strong> is where they rebuild.");
    assert_contains(art->html.data,
                    "pair this with <a href=\"/treatments/joint-manipulation"
                    "\">joint manipulation</a> for stiff hips");
    assert_contains(art->html.data,
                    "Use the <a href=\"/contact\">contact form</a>");
    assert_contains(art->html.data, "<li>Simple stretches to do at home "
                                    "between sessions</li>");
    assert_int_equal(art->nheadings, 2);
    assert_string_equal(art->headings[0].text.data, "What to Expect");
    assert_int_equal(art->nunresolved, 0);
}


static void
test_sample_riverside(void **state)
{
    arena_t                    *ar = *state;
    clinic_t                   *c;
    ngx_http_clinic_article_t  *art;

    c = scan(ar, "riverside");

    assert_int_equal(c->n, 2);
    assert_string_equal(c->meta[1].title.data, "Gentle Joint Mobilisation");

    art = render_file(ar, c, "deep-tissue-massage");
    assert_int_equal(art->nlinks, 1);
    assert_string_equal(art->links[0].slug.data, "joint-manipulation");
    assert_string_equal(art->links[0].text.data, "joint mobilisation");
    assert_contains(art->html.data,
                    "ask us about <a href=\"/treatments/joint-manipulation\">"
                    "joint mobilisation</a>.</p>");
    assert_int_equal(art->nunresolved, 0);

    art = render_file(ar, c, "joint-manipulation");
    assert_contains(art->html.data,
                    "<p>At Riverside we use slow, low-force mobilisation");
    assert_contains(art->html.data, "being &quot;cracked&quot;.");
    assert_contains(art->html.data,
                    "a relaxing <a href=\"/treatments/deep-tissue-massage\">"
                    "deep tissue massage</a> at the end");
    assert_contains(art->html.data, "<h2>What Is Mobilisation?</h2>");
}


static void
test_sample_edge(void **state)
{
    arena_t                    *ar = *state;
    clinic_t                   *c;
    ngx_http_clinic_article_t  *art;

    /* Bad_Name.txt, Upper-Case.md and notes.html are not articles */
    c = scan(ar, "edge");

    assert_int_equal(c->n, 2);
    assert_string_equal(c->name[0], "cupping.txt");
    assert_string_equal(c->meta[0].title.data,
                        "Cupping \xe2\x80\x93 Old and New");

    art = render_file(ar, c, "cupping");
    assert_string_equal(art->html.data,
                        "<p>Cupping draws the skin up into a cup; it is often "
                        "combined with massage.</p>\n"
                        "<h2>Does It Hurt?</h2>\n"
                        "<p>No. Most people find it relaxing, like a deep "
                        "tissue massage.</p>\n");
    assert_int_equal(art->nunresolved, 2);

    art = render_file(ar, c, "everything");
    assert_string_equal(art->title.data, "Everything & More");
    assert_lacks(art->html.data, "<script");
    assert_lacks(art->html.data, "<b>");
    assert_lacks(art->html.data, "href=\"javascript");
    assert_contains(art->html.data, "<li>javascript:alert(1) and "
                                    "<a href=\"https://example.org\">");
    assert_lacks(art->html.data, "data:");
    assert_lacks(art->html.data, "vbscript");
    assert_lacks(art->html.data, "Everything &amp; more");
    assert_contains(art->html.data,
                    "<h2>A second top-level heading</h2>");
    assert_contains(art->html.data, "<code>code [LINK]</code>");
    assert_contains(art->html.data,
                    "<a href=\"/treatments/cupping\">Cupping therapy</a> is "
                    "linked; so is &quot;<a href=\"/treatments/cupping\">"
                    "cupping</a>&quot;.");
    assert_contains(art->html.data,
                    "<a href=\"https://example.com/a?b=1&amp;c=2\" "
                    "title=\"Example\">site</a>");
    assert_contains(art->html.data, "<li><a href=\"mailto:desk@example.com\">"
                                    "mail</a> and <a href=\"tel:"
                                    "+441234567890\">phone</a></li>");
    assert_contains(art->html.data, "<li>bad and worse</li>");
    assert_contains(art->html.data,
                    "<img src=\"/img/cup.png\" alt=\"a small cup\" "
                    "title=\"Cup\"> </p>");
    assert_contains(art->html.data,
                    "<pre><code>joint manipulation [LINK] stays in code "
                    "&lt;b&gt;\n</code></pre>");
    assert_int_equal(art->nwarnings, 8);
    assert_int_equal(art->nunresolved, 1);
    assert_string_equal(art->unresolved[0].data, "A quote mentioning deep "
                                                 "tissue massage");
}


/* robustness */

static void
test_out_of_memory(void **state)
{
    arena_t                          *ar = *state;
    long                              i;
    clinic_t                         *c;
    ngx_http_clinic_article_t         art;
    ngx_http_clinic_article_str_t     prefix, slug;
    ngx_http_clinic_article_err_t     rc;
    ngx_http_clinic_article_links_t  *links;
    int                               format, saw_ok;
    size_t                            k;

    c = scan(ar, "edge");
    prefix = s("/t/");

    for (k = 0; k < c->n; k++) {
        format = c->format[k];
        slug = c->entries[k].slug;
        saw_ok = 0;

        for (i = 0; i < 400 && !saw_ok; i++) {
            ar->fail_after = i;
            links = ngx_http_clinic_article_links_create(c->entries, c->n,
                                                         &ar->a);

            if (links == NULL) {
                continue;
            }

            rc = ngx_http_clinic_article_render(c->src[k], c->len[k], format,
                                                &slug, links, &prefix,
                                                &ar->a, &art);
            assert_true(rc == NGX_HTTP_CLINIC_ARTICLE_ENOMEM || rc == OK);
            saw_ok = (rc == OK);
        }

        ar->fail_after = -1;
        assert_true(saw_ok);
    }
}


static void
test_file_names(void **state)
{
    size_t                          i;
    ngx_http_clinic_article_str_t   slug;
    char                            longname[200];
    static const struct {
        const char                        *name;
        ngx_http_clinic_article_format_t   format;
        const char                        *slug;
    } names[] = {
        { "joint-manipulation.txt", TXT, "joint-manipulation" },
        { "a.md", MD, "a" },
        { "9-lives.md", MD, "9-lives" },
        { "x--y-.txt", TXT, "x--y-" },
        { "-x.txt", NGX_HTTP_CLINIC_ARTICLE_UNKNOWN, NULL },
        { "Upper.txt", NGX_HTTP_CLINIC_ARTICLE_UNKNOWN, NULL },
        { "a_b.md", NGX_HTTP_CLINIC_ARTICLE_UNKNOWN, NULL },
        { ".txt", NGX_HTTP_CLINIC_ARTICLE_UNKNOWN, NULL },
        { "a.TXT", NGX_HTTP_CLINIC_ARTICLE_UNKNOWN, NULL },
        { "a.markdown", NGX_HTTP_CLINIC_ARTICLE_UNKNOWN, NULL },
        { "a.txt~", NGX_HTTP_CLINIC_ARTICLE_UNKNOWN, NULL },
        { "a.b.md", NGX_HTTP_CLINIC_ARTICLE_UNKNOWN, NULL },
    };

    (void) state;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        slug.len = 0;
        assert_int_equal(ngx_http_clinic_article_name(
                             (u_char *) names[i].name, strlen(names[i].name),
                             &slug),
                         names[i].format);

        if (names[i].slug) {
            assert_int_equal(slug.len, strlen(names[i].slug));
            assert_memory_equal(slug.data, names[i].slug, slug.len);
        }
    }

    memset(longname, 'a', 128);
    strcpy(longname + 128, ".md");
    assert_int_equal(ngx_http_clinic_article_name((u_char *) longname, 131,
                                                  &slug), MD);

    memset(longname, 'a', 129);
    strcpy(longname + 129, ".md");
    assert_int_equal(ngx_http_clinic_article_name((u_char *) longname, 132,
                                                  &slug),
                     NGX_HTTP_CLINIC_ARTICLE_UNKNOWN);
}


static void
test_utf8_every_offset(void **state)
{
    arena_t                    *ar = *state;
    char                        src[128], want[64];
    size_t                      off, k, len, bom;
    ngx_http_clinic_article_t   art;
    static const char           text[] = "Title\n\nSome plain words [LINK] "
                                         "and more of them.\n";
    static const struct {
        const char  *bytes;
        size_t       len;
        const char  *error;             /* NULL: valid */
    } seq[] = {
        { "\xff", 1, "invalid UTF-8" },
        { "\x80", 1, "invalid UTF-8" },
        { "\xc0\xaf", 2, "invalid UTF-8" },
        { "\xed\xa0\x80", 3, "invalid UTF-8" },
        { "\xf4\x90\x80\x80", 4, "invalid UTF-8" },
        { "\0", 1, "NUL character" },
        { "\xc3\xa9", 2, NULL },
        { "\xe2\x80\x99", 3, NULL },
        { "\xf0\x9f\x98\x80", 4, NULL },
    };

    /* a bad sequence is found at its own byte wherever it starts */

    for (bom = 0; bom <= 3; bom += 3) {
        for (off = 0; off + 1 < sizeof(text); off++) {
            for (k = 0; k < sizeof(seq) / sizeof(seq[0]); k++) {
                memcpy(src, "\xef\xbb\xbf", bom);
                memcpy(src + bom, text, off);
                memcpy(src + bom + off, seq[k].bytes, seq[k].len);
                memcpy(src + bom + off + seq[k].len, text + off,
                       sizeof(text) - 1 - off);
                len = bom + sizeof(text) - 1 + seq[k].len;

                if (seq[k].error == NULL) {
                    assert_int_equal(ngx_http_clinic_article_meta(
                                         (u_char *) src, len, TXT, NULL,
                                         &ar->a, &art),
                                     OK);
                    continue;
                }

                assert_int_equal(ngx_http_clinic_article_meta(
                                     (u_char *) src, len, TXT, NULL,
                                     &ar->a, &art),
                                 NGX_HTTP_CLINIC_ARTICLE_EINVALID);

                snprintf(want, sizeof(want), "%s at byte %lu", seq[k].error,
                         (unsigned long) (bom + off));
                assert_string_equal(art.error.data, want);
            }
        }
    }

    /* a sequence cut short by the end of the file, at every length */

    for (len = 1; len < 20; len++) {
        memset(src, 'a', len);
        memcpy(src + len, "\xe2\x80", 2);
        assert_int_equal(ngx_http_clinic_article_meta((u_char *) src, len + 2,
                                                      TXT, NULL, &ar->a,
                                                      &art),
                         NGX_HTTP_CLINIC_ARTICLE_EINVALID);
        snprintf(want, sizeof(want), "invalid UTF-8 at byte %lu",
                 (unsigned long) len);
        assert_string_equal(art.error.data, want);
    }
}


static void
test_txt_heading_length_bytes(void **state)
{
    int                         i;
    char                        src[1024], line[600];
    ngx_http_clinic_article_t  *art;

    /* 120 four-byte characters, 480 bytes: still a heading */
    line[0] = '\0';
    for (i = 0; i < 120; i++) {
        strcat(line, "\xf0\x9f\x98\x80");
    }

    snprintf(src, sizeof(src), "T\n\n%s\n\nx.\n", line);
    art = render(*state, src, TXT, NULL, NULL);
    assert_int_equal(art->nheadings, 1);

    /* 121 of them, 484 bytes: a paragraph */
    strcat(line, "\xf0\x9f\x98\x80");
    snprintf(src, sizeof(src), "T\n\n%s\n\nx.\n", line);
    art = render(*state, src, TXT, NULL, NULL);
    assert_int_equal(art->nheadings, 0);

    /* 119 three-byte characters and one ASCII: 358 bytes, a heading */
    line[0] = '\0';
    for (i = 0; i < 119; i++) {
        strcat(line, "\xe2\x80\x93");
    }

    strcat(line, "a");
    snprintf(src, sizeof(src), "T\n\n%s\n\nx.\n", line);
    art = render(*state, src, TXT, NULL, NULL);
    assert_int_equal(art->nheadings, 1);

    /* 479 ASCII bytes: a paragraph */
    memset(line, 'a', 479);
    line[479] = '\0';
    snprintf(src, sizeof(src), "T\n\n%s\n\nx.\n", line);
    art = render(*state, src, TXT, NULL, NULL);
    assert_int_equal(art->nheadings, 0);
}


static void
test_long_warning(void **state)
{
    char                        slug[201], value[300], src[512], want[512];
    ngx_http_clinic_article_t  *art;

    /*
     * longer than the stack buffer the warning is formatted in first: the
     * caller's slug is quoted whole, and the API takes any length
     */
    memset(slug, 's', 200);
    slug[200] = '\0';
    memset(value, 'v', 200);
    value[200] = '\0';

    snprintf(src, sizeof(src), "---\nslug: %s\n---\nBody.\n", value);
    art = render(*state, src, TXT, slug, NULL);

    snprintf(want, sizeof(want), "line 2: slug \"%.64s\" is ignored, the "
             "file name gives \"%s\"", value, slug);
    assert_true(strlen(want) > 256);
    assert_int_equal(art->nwarnings, 1);
    assert_string_equal(art->warnings[0].data, want);
    assert_int_equal(art->warnings[0].len, strlen(want));
}


static void
test_meta_matches_render(void **state)
{
    size_t                      i, k, f;
    ngx_http_clinic_article_t  *m, *r;
    static const char          *srcs[] = {
        "Title\n\nFirst para [LINK] here.\n\nA Heading\n\nMore [LINK].\n",
        "Title\n\nA Heading First\n\nThen the summary.\n\nLater.\n",
        "\n\nTitle\n\n[LINK]\n\n[LINK] [LINK]\n\nReal summary.\nNext.\n",
        "---\nsummary: From front matter\naliases: a, b\n---\n\n"
        "Title Later\n\nBody.\n",
        "---\ntitle: T\nsummary: S\nx: y\n---\nBody [LINK].\n",
        "---\ntitle: T\ntitle: U\n---\nShort\n\nBody.\n",
        "Only a title\n",
        "# Md Title\n\nPara [LINK] one.\n\n[bad](javascript:x)\n",
    };

    for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
        for (f = TXT; f <= MD; f++) {
            m = meta(*state, srcs[i], strlen(srcs[i]), f, "self");
            r = render(*state, srcs[i], f, "self", NULL);

            assert_string_equal(m->title.data, r->title.data);
            assert_string_equal(m->summary.data, r->summary.data);
            assert_int_equal(m->naliases, r->naliases);

            for (k = 0; k < m->naliases; k++) {
                assert_string_equal(m->aliases[k].data, r->aliases[k].data);
            }

            assert_int_equal(m->nwarnings, r->nwarnings);

            for (k = 0; k < m->nwarnings; k++) {
                assert_string_equal(m->warnings[k].data,
                                    r->warnings[k].data);
            }
        }
    }
}


static void
test_md_heading_and_cell_tags(void **state)
{
    ngx_http_clinic_article_t  *art;

    art = render(*state, "# T\n\n##### Five\n\n###### Six\n\n"
                 "| A | B | C |\n|:-:|---|--:|\n| 1 | 2 | 3 |\n",
                 MD, NULL, NULL);

    assert_string_equal(art->html.data,
                        "<h5>Five</h5>\n<h6>Six</h6>\n"
                        "<table>\n<thead>\n<tr>\n"
                        "<th align=\"center\">A</th>\n<th>B</th>\n"
                        "<th align=\"right\">C</th>\n</tr>\n</thead>\n"
                        "<tbody>\n<tr>\n<td align=\"center\">1</td>\n"
                        "<td>2</td>\n<td align=\"right\">3</td>\n</tr>\n"
                        "</tbody>\n</table>\n");
    assert_int_equal(art->nheadings, 0);
}


static void
test_char_classes(void **state)
{
    arena_t                          *ar = *state;
    ngx_http_clinic_article_t        *art;
    ngx_http_clinic_article_links_t  *links;
    static const entry_t              idx[] = {
        { "joint-manipulation", "Joint Manipulation", NULL },
        { "grave", "x`y", NULL },             /* "`" is "@" | 0x20 */
        { "brace", "u{v", NULL },             /* "{" is "[" | 0x20 */
    };

    links = index_of(ar, idx, 3);

    /* VT and FF are whitespace, as SP, HT, LF and CR are */
    assert_string_equal(linked(ar, links, "joint\vmanipulation [LINK]", NULL),
                        "joint-manipulation");
    assert_string_equal(linked(ar, links, "joint\f-manipulation [LINK]",
                               NULL),
                        "joint-manipulation");

    /* only A-Z fold: the bytes next to them do not */
    assert_string_equal(linked(ar, links, "X`Y [LINK]", NULL), "grave");
    assert_null(linked(ar, links, "x@y [LINK]", NULL));
    assert_string_equal(linked(ar, links, "U{V [LINK]", NULL), "brace");
    assert_null(linked(ar, links, "u[v [LINK]", NULL));

    /* "-" joins words but is no clause boundary; "/" is neither */
    assert_string_equal(linked(ar, links, "joint-manipulation [LINK]", NULL),
                        "joint-manipulation");
    assert_null(linked(ar, links, "joint/manipulation [LINK]", NULL));

    /* a line of VT, FF and spaces is blank: the line before is a heading */
    art = render(ar, "T\n\nStands Alone\n\v\f \t\nText.\n", TXT, NULL, NULL);
    assert_string_equal(art->html.data,
                        "<h2>Stands Alone</h2>\n<p>Text.</p>\n");
}


#define T(name)  cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest  tests[] = {
        T(test_txt_title_is_first_line),
        T(test_txt_paragraph_per_line),
        T(test_txt_heading_question),
        T(test_txt_heading_length),
        T(test_txt_heading_punctuation),
        T(test_txt_heading_needs_blank_lines),
        T(test_txt_heading_after_title),
        T(test_txt_escaping),
        T(test_txt_typographic),
        T(test_bom_and_crlf),
        T(test_front_matter_keys),
        T(test_front_matter_warnings),
        T(test_front_matter_unclosed),
        T(test_front_matter_redirect_removed),
        T(test_no_title),
        T(test_invalid_input),
        T(test_md_title_from_heading),
        T(test_md_h1_dedup_and_demotion),
        T(test_md_raw_html_escaped),
        T(test_md_unsafe_urls_dropped),
        T(test_md_safe_urls_kept),
        T(test_md_images),
        T(test_md_blocks),
        T(test_md4c_defects),
        T(test_md_code_not_linked),
        T(test_md_existing_links_not_relinked),
        T(test_md_marker_in_split_text),
        T(test_link_spec_example),
        T(test_link_priorities),
        T(test_link_priority_slug_over_alias),
        T(test_link_alphabetical_tie),
        T(test_link_longest_run),
        T(test_link_clause_boundaries),
        T(test_link_earlier_marker_bounds),
        T(test_link_six_words),
        T(test_link_title_first_six_words),
        T(test_link_unresolved_removed),
        T(test_link_marker_at_start),
        T(test_link_self_excluded),
        T(test_link_normalization),
        T(test_link_in_heading),
        T(test_link_many_markers),
        T(test_summary_cut),
        T(test_sample_backcare),
        T(test_sample_riverside),
        T(test_sample_edge),
        T(test_out_of_memory),
        T(test_file_names),
        T(test_utf8_every_offset),
        T(test_txt_heading_length_bytes),
        T(test_long_warning),
        T(test_meta_matches_render),
        T(test_md_heading_and_cell_tags),
        T(test_char_classes),
    };

    return cmocka_run_group_tests_name("article", tests, NULL, NULL);
}
