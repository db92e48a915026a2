
/*
 * Unit tests for ngx_http_clinic_form.c: body parsers, Content-Type
 * classification, validation, the 422 body and the fingerprint.
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ngx_http_clinic_form.h"


/* a malloc arena freed after every test; it can fail on demand */

typedef struct {
    void   **blocks;
    size_t   n;
    size_t   cap;
    long     fail_after;    /* allocations that succeed; -1: all */
} test_arena_t;


static test_arena_t             arena;
static ngx_http_clinic_alloc_t  alloc;


static void *
test_alloc(void *ctx, size_t size)
{
    void          *p, **nb;
    test_arena_t  *ar;

    ar = ctx;

    if (ar->fail_after == 0) {
        return NULL;
    }

    if (ar->fail_after > 0) {
        ar->fail_after--;
    }

    if (ar->n == ar->cap) {
        ar->cap = ar->cap ? 2 * ar->cap : 64;
        nb = realloc(ar->blocks, ar->cap * sizeof(void *));
        if (nb == NULL) {
            return NULL;
        }
        ar->blocks = nb;
    }

    p = malloc(size);
    if (p == NULL) {
        return NULL;
    }

    /* poison: the code must not rely on zeroed memory */
    memset(p, 0xa5, size);

    ar->blocks[ar->n++] = p;

    return p;
}


static void
arena_free(void)
{
    size_t  i;

    for (i = 0; i < arena.n; i++) {
        free(arena.blocks[i]);
    }

    free(arena.blocks);
    memset(&arena, 0, sizeof(arena));
    arena.fail_after = -1;
}


static int
setup(void **state)
{
    (void) state;

    memset(&arena, 0, sizeof(arena));
    arena.fail_after = -1;
    alloc.alloc = test_alloc;
    alloc.ctx = &arena;

    return 0;
}


static int
teardown(void **state)
{
    (void) state;

    arena_free();

    return 0;
}


/* helpers */

#define U(s)  ((const u_char *) (s))


static ngx_http_clinic_form_err_t
ue(const char *s, ngx_http_clinic_form_pairs_t *pairs)
{
    return ngx_http_clinic_form_parse_urlencoded(U(s), strlen(s), NULL,
                                                 &alloc, pairs);
}


static ngx_http_clinic_form_err_t
mp(const char *bnd, const char *s, ngx_http_clinic_form_pairs_t *pairs)
{
    return ngx_http_clinic_form_parse_multipart(U(bnd), strlen(bnd), U(s),
                                                strlen(s), NULL, &alloc,
                                                pairs);
}


static ngx_http_clinic_form_err_t
js(const char *s, ngx_http_clinic_form_pairs_t *pairs)
{
    return ngx_http_clinic_form_parse_json(U(s), strlen(s), NULL, &alloc,
                                           pairs);
}


static void
assert_str(ngx_http_clinic_form_str_t s, const char *expect)
{
    size_t  n;

    n = strlen(expect);

    if (s.len != n || (n && memcmp(s.data, expect, n) != 0)) {
        fail_msg("got \"%.*s\" (%zu), expected \"%s\"", (int) s.len,
                 s.data ? (char *) s.data : "", s.len, expect);
    }
}


static void
assert_pair(const ngx_http_clinic_form_pairs_t *pairs, size_t i,
    const char *name, const char *value)
{
    assert_true(i < pairs->nelts);
    assert_str(pairs->elts[i].name, name);
    assert_str(pairs->elts[i].value, value);
}


static char *
repeat(const char *s, size_t times, const char *head, const char *tail)
{
    size_t   n, i;
    char    *buf, *p;

    n = strlen(s);
    buf = malloc(strlen(head) + n * times + strlen(tail) + 1);
    assert_non_null(buf);

    p = buf;
    p += sprintf(p, "%s", head);

    for (i = 0; i < times; i++) {
        memcpy(p, s, n);
        p += n;
    }

    strcpy(p, tail);

    return buf;
}


/* builds pairs from a NULL-terminated list of name, value */

static void
make_pairs(ngx_http_clinic_form_pairs_t *pairs,
    ngx_http_clinic_form_pair_t *elts, ...)
{
    va_list      ap;
    const char  *name, *value;

    pairs->elts = elts;
    pairs->nelts = 0;

    va_start(ap, elts);

    for ( ;; ) {
        name = va_arg(ap, const char *);
        if (name == NULL) {
            break;
        }
        value = va_arg(ap, const char *);

        elts[pairs->nelts].name.data = (u_char *) name;
        elts[pairs->nelts].name.len = strlen(name);
        elts[pairs->nelts].value.data = (u_char *) value;
        elts[pairs->nelts].value.len = strlen(value);
        pairs->nelts++;
    }

    va_end(ap);
}


static ngx_http_clinic_form_field_t
field(const char *name, unsigned required, size_t max,
    ngx_http_clinic_form_field_type_t type)
{
    ngx_http_clinic_form_field_t  f;

    memset(&f, 0, sizeof(f));
    f.name.data = (u_char *) name;
    f.name.len = strlen(name);
    f.required = required;
    f.max = max;
    f.type = type;

    return f;
}


/* validates one value against one field, returns the failure reason or 0 */

static int
checkn(const ngx_http_clinic_form_field_t *f, const char *value, size_t len,
    ngx_http_clinic_form_result_t *res)
{
    ngx_http_clinic_form_pair_t   elts[1];
    ngx_http_clinic_form_pairs_t  pairs;

    pairs.elts = elts;
    pairs.nelts = 1;
    elts[0].name = f->name;
    elts[0].value.data = (u_char *) value;
    elts[0].value.len = len;

    assert_int_equal(ngx_http_clinic_form_validate(f, 1, &pairs, &alloc, res),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(res->nvalues, 1);

    return res->nfailures ? (int) res->failures[0].reason : 0;
}


static int
check1(const ngx_http_clinic_form_field_t *f, const char *value,
    ngx_http_clinic_form_result_t *res)
{
    return checkn(f, value, strlen(value), res);
}


static double
elapsed(clock_t start)
{
    return (double) (clock() - start) / CLOCKS_PER_SEC;
}


/* urlencoded */

static void
test_ue_basic(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(ue("name=Alice&email=a%40b.example", &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 2);
    assert_pair(&pairs, 0, "name", "Alice");
    assert_pair(&pairs, 1, "email", "a@b.example");

    assert_int_equal(ue("", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 0);
}


static void
test_ue_plus_percent(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(ue("a=hello+world%21&b=%E2%82%AC&c=%2B&d=%c3%a9"
                        "&my+name=x%20y", &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 5);
    assert_pair(&pairs, 0, "a", "hello world!");
    assert_pair(&pairs, 1, "b", "\xe2\x82\xac");
    assert_pair(&pairs, 2, "c", "+");
    assert_pair(&pairs, 3, "d", "\xc3\xa9");
    assert_pair(&pairs, 4, "my name", "x y");

    /* %26 and %3D are data, not separators */
    assert_int_equal(ue("q=a%26b%3Dc", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 1);
    assert_pair(&pairs, 0, "q", "a&b=c");
}


static void
test_ue_bad_percent(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(ue("a=%G1", &pairs), NGX_HTTP_CLINIC_FORM_EPERCENT);
    assert_int_equal(ue("a=%1G", &pairs), NGX_HTTP_CLINIC_FORM_EPERCENT);
    assert_int_equal(ue("%G1=x", &pairs), NGX_HTTP_CLINIC_FORM_EPERCENT);
    assert_int_equal(ue("a=1&b=%%41", &pairs), NGX_HTTP_CLINIC_FORM_EPERCENT);
    /* even in a pair that would be ignored */
    assert_int_equal(ue("=%zz&a=1", &pairs), NGX_HTTP_CLINIC_FORM_EPERCENT);
    assert_int_equal(ngx_http_clinic_form_err_status(
                         NGX_HTTP_CLINIC_FORM_EPERCENT), 400);
}


static void
test_ue_truncated_percent(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(ue("a=%4", &pairs), NGX_HTTP_CLINIC_FORM_EPERCENT);
    assert_int_equal(ue("a=%", &pairs), NGX_HTTP_CLINIC_FORM_EPERCENT);
    assert_int_equal(ue("a=%4&b=1", &pairs), NGX_HTTP_CLINIC_FORM_EPERCENT);
    assert_int_equal(ue("a%=1", &pairs), NGX_HTTP_CLINIC_FORM_EPERCENT);
}


static void
test_ue_empty_pairs(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(ue("a=&&b=1", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 2);
    assert_pair(&pairs, 0, "a", "");
    assert_pair(&pairs, 1, "b", "1");

    assert_int_equal(ue("&&&", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 0);

    /* empty names are ignored */
    assert_int_equal(ue("=x&b=2&=&", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 1);
    assert_pair(&pairs, 0, "b", "2");
}


static void
test_ue_no_equals(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(ue("flag&b=2&c", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 3);
    assert_pair(&pairs, 0, "flag", "");
    assert_pair(&pairs, 1, "b", "2");
    assert_pair(&pairs, 2, "c", "");

    /* only the first "=" separates */
    assert_int_equal(ue("a=b=c", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_pair(&pairs, 0, "a", "b=c");

    /* ";" is not a separator */
    assert_int_equal(ue("a=1;b=2", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 1);
    assert_pair(&pairs, 0, "a", "1;b=2");
}


static void
test_ue_duplicates_first_wins(void **state)
{
    ngx_http_clinic_form_pairs_t        pairs;
    const ngx_http_clinic_form_pair_t  *p;

    (void) state;

    assert_int_equal(ue("a=1&a=2", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 2);

    p = ngx_http_clinic_form_find(&pairs, U("a"), 1);
    assert_non_null(p);
    assert_str(p->value, "1");
    assert_null(ngx_http_clinic_form_find(&pairs, U("b"), 1));
    assert_null(ngx_http_clinic_form_find(&pairs, U("aa"), 2));
}


static void
test_ue_field_limit(void **state)
{
    char                           *body;
    size_t                          nalloc;
    clock_t                         start;
    ngx_http_clinic_form_pairs_t    pairs;
    ngx_http_clinic_form_limits_t   limits;

    (void) state;

    /* exactly the default limit of 64 is fine, 65 is not */

    body = repeat("a=1&", 64, "", "");
    assert_int_equal(ue(body, &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 64);
    free(body);

    body = repeat("a=1&", 64, "", "b");
    assert_int_equal(ue(body, &pairs), NGX_HTTP_CLINIC_FORM_ETOOMANY);
    free(body);

    /* 100k fields fail fast and allocate nothing */

    body = repeat("field=value&", 100000, "", "");
    nalloc = arena.n;
    start = clock();
    assert_int_equal(ue(body, &pairs), NGX_HTTP_CLINIC_FORM_ETOOMANY);
    assert_true(elapsed(start) < 0.5);
    assert_int_equal(arena.n, nalloc);
    assert_int_equal(pairs.nelts, 0);
    free(body);

    assert_int_equal(ngx_http_clinic_form_err_status(
                         NGX_HTTP_CLINIC_FORM_ETOOMANY), 413);

    limits.max_fields = 2;
    limits.max_name_len = 0;
    assert_int_equal(ngx_http_clinic_form_parse_urlencoded(U("a=1&b=2&c=3"),
                                                           11, &limits,
                                                           &alloc, &pairs),
                     NGX_HTTP_CLINIC_FORM_ETOOMANY);
    assert_int_equal(ngx_http_clinic_form_parse_urlencoded(U("a=1&&b=2&=3"),
                                                           11, &limits,
                                                           &alloc, &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 2);
}


static void
test_ue_name_limit(void **state)
{
    char                           *body;
    ngx_http_clinic_form_pairs_t    pairs;
    ngx_http_clinic_form_limits_t   limits;

    (void) state;

    body = repeat("n", 128, "", "=v");
    assert_int_equal(ue(body, &pairs), NGX_HTTP_CLINIC_FORM_OK);
    free(body);

    body = repeat("n", 129, "", "=v");
    assert_int_equal(ue(body, &pairs), NGX_HTTP_CLINIC_FORM_ENAME);
    free(body);

    /* the limit applies to the decoded name */
    limits.max_fields = 0;
    limits.max_name_len = 3;
    assert_int_equal(ngx_http_clinic_form_parse_urlencoded(U("%41%42%43=1"),
                                                           11, &limits,
                                                           &alloc, &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_pair(&pairs, 0, "ABC", "1");
    assert_int_equal(ngx_http_clinic_form_parse_urlencoded(U("abcd=1"), 6,
                                                           &limits, &alloc,
                                                           &pairs),
                     NGX_HTTP_CLINIC_FORM_ENAME);
}


/* multipart */

#define BND  "----WebKitFormBoundary7MA4YWxkTrZu0gW"

static void
test_mp_basic(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(mp(BND,
        "--" BND "\r\n"
        "Content-Disposition: form-data; name=\"name\"\r\n"
        "\r\n"
        "Alice\r\n"
        "--" BND "\r\n"
        "Content-Disposition: form-data; name=\"message\"\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "line 1\r\nline 2\r\n\r\n"
        "--" BND "\r\n"
        "Content-Disposition: form-data; name=\"empty\"\r\n"
        "\r\n"
        "\r\n"
        "--" BND "--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_OK);

    assert_int_equal(pairs.nelts, 3);
    assert_pair(&pairs, 0, "name", "Alice");
    assert_pair(&pairs, 1, "message", "line 1\r\nline 2\r\n");
    assert_pair(&pairs, 2, "empty", "");
}


static void
test_mp_preamble_epilogue(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(mp("xyz",
        "This is the preamble.\r\n--xyz is not here\r\n"
        "--xyz  \t\r\n"
        "content-disposition: FORM-DATA; NAME=a\r\n"
        "X-Other: ignored\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "v\r\n--xyzz\r\n--xyz-\r\nstill v"
        "\r\n--xyz--"
        "this is the epilogue\r\n--xyz\r\ngarbage", &pairs),
        NGX_HTTP_CLINIC_FORM_OK);

    assert_int_equal(pairs.nelts, 1);
    assert_pair(&pairs, 0, "a", "v\r\n--xyzz\r\n--xyz-\r\nstill v");

    /* a form without fields */
    assert_int_equal(mp("xyz", "--xyz--\r\n", &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 0);
}


static void
test_mp_quoted_names(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; name=\"a \\\"q\\\" \\\\ b;c\"\r\n"
        "\r\n"
        "1\r\n"
        "--b\r\n"
        "Content-Disposition: form-data ; name = token_name \r\n"
        "\r\n"
        "2\r\n"
        "--b\r\n"
        "Content-Disposition: form-data; name=\"caf\xc3\xa9\"\r\n"
        "\r\n"
        "3\r\n"
        "--b\r\n"
        "Content-Disposition: form-data; name=\"\"\r\n"
        "\r\n"
        "ignored\r\n"
        "--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_OK);

    assert_int_equal(pairs.nelts, 3);
    assert_pair(&pairs, 0, "a \"q\" \\ b;c", "1");
    assert_pair(&pairs, 1, "token_name", "2");
    assert_pair(&pairs, 2, "caf\xc3\xa9", "3");
}


static void
test_mp_missing_final_boundary(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    /* cut after the content */
    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n"
        "\r\n"
        "value\r\n", &pairs), NGX_HTTP_CLINIC_FORM_ETRUNCATED);

    /* cut inside the headers */
    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n", &pairs),
        NGX_HTTP_CLINIC_FORM_ETRUNCATED);

    /* a delimiter, not the close delimiter, at the very end */
    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n"
        "\r\n"
        "value\r\n--b\r\n", &pairs), NGX_HTTP_CLINIC_FORM_ETRUNCATED);

    /* "--b" at the end with neither "--" nor a line break */
    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n"
        "\r\n"
        "value\r\n--b", &pairs), NGX_HTTP_CLINIC_FORM_ETRUNCATED);

    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n"
        "\r\n"
        "value\r\n--b-", &pairs), NGX_HTTP_CLINIC_FORM_ETRUNCATED);

    assert_int_equal(ngx_http_clinic_form_err_status(
                         NGX_HTTP_CLINIC_FORM_ETRUNCATED), 400);
}


static void
test_mp_file_part(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n"
        "\r\n"
        "1\r\n"
        "--b\r\n"
        "Content-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "file\r\n"
        "--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_EFILE);

    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; name=\"f\"; filename=\"\"\r\n"
        "\r\n"
        "\r\n"
        "--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_EFILE);

    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; filename*=UTF-8''x; name=f\r\n"
        "\r\n"
        "\r\n"
        "--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_EFILE);

    assert_int_equal(ngx_http_clinic_form_err_status(
                         NGX_HTTP_CLINIC_FORM_EFILE), 415);
}


static void
test_mp_boundary_from_content_type(void **state)
{
    const char                    *ctv, *body;
    ngx_http_clinic_form_pairs_t   pairs;
    ngx_http_clinic_form_ctype_t   ct;

    (void) state;

    ctv = "Multipart/Form-Data; charset=utf-8; boundary=\"a'b (c):d=e?\"";
    assert_int_equal(ngx_http_clinic_form_content_type(U(ctv), strlen(ctv),
                                                       &ct),
                     NGX_HTTP_CLINIC_FORM_CT_MULTIPART);
    assert_str(ct.boundary, "a'b (c):d=e?");

    body = "--a'b (c):d=e?\r\n"
           "Content-Disposition: form-data; name=\"x\"\r\n"
           "\r\n"
           "y\r\n"
           "--a'b (c):d=e?--\r\n";
    assert_int_equal(ngx_http_clinic_form_parse(&ct, U(body), strlen(body),
                                                NULL, &alloc, &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 1);
    assert_pair(&pairs, 0, "x", "y");

    ctv = "multipart/form-data;boundary=simple";
    ngx_http_clinic_form_content_type(U(ctv), strlen(ctv), &ct);
    assert_int_equal(ct.type, NGX_HTTP_CLINIC_FORM_CT_MULTIPART);
    assert_str(ct.boundary, "simple");
}


static void
test_mp_missing_boundary(void **state)
{
    const char                    *ctv;
    ngx_http_clinic_form_pairs_t   pairs;
    ngx_http_clinic_form_ctype_t   ct;
    char                          *longb;

    (void) state;

    ctv = "multipart/form-data";
    assert_int_equal(ngx_http_clinic_form_content_type(U(ctv), strlen(ctv),
                                                       &ct),
                     NGX_HTTP_CLINIC_FORM_CT_MULTIPART);
    assert_int_equal(ct.boundary.len, 0);
    assert_int_equal(ngx_http_clinic_form_parse(&ct, U("--x--\r\n"), 7, NULL,
                                                &alloc, &pairs),
                     NGX_HTTP_CLINIC_FORM_EBOUNDARY);
    assert_int_equal(ngx_http_clinic_form_err_status(
                         NGX_HTTP_CLINIC_FORM_EBOUNDARY), 400);

    /* invalid boundaries count as missing */

    ctv = "multipart/form-data; boundary=\"\"";
    ngx_http_clinic_form_content_type(U(ctv), strlen(ctv), &ct);
    assert_int_equal(ct.type, NGX_HTTP_CLINIC_FORM_CT_MULTIPART);
    assert_int_equal(ct.boundary.len, 0);

    ctv = "multipart/form-data; boundary=\"ends with space \"";
    ngx_http_clinic_form_content_type(U(ctv), strlen(ctv), &ct);
    assert_int_equal(ct.boundary.len, 0);

    ctv = "multipart/form-data; boundary=a; boundary=b";
    ngx_http_clinic_form_content_type(U(ctv), strlen(ctv), &ct);
    assert_int_equal(ct.boundary.len, 0);

    ctv = "multipart/form-data; boundary=\"a\\\"b\"";
    ngx_http_clinic_form_content_type(U(ctv), strlen(ctv), &ct);
    assert_int_equal(ct.boundary.len, 0);

    longb = repeat("b", 71, "multipart/form-data; boundary=", "");
    ngx_http_clinic_form_content_type(U(longb), strlen(longb), &ct);
    assert_int_equal(ct.boundary.len, 0);
    free(longb);

    longb = repeat("b", 70, "multipart/form-data; boundary=", "");
    ngx_http_clinic_form_content_type(U(longb), strlen(longb), &ct);
    assert_int_equal(ct.boundary.len, 70);
    free(longb);

    assert_int_equal(mp("", "--\r\n", &pairs),
                     NGX_HTTP_CLINIC_FORM_EBOUNDARY);
    assert_int_equal(mp("a\nb", "--a\nb--\r\n", &pairs),
                     NGX_HTTP_CLINIC_FORM_EBOUNDARY);
}


static void
test_mp_crlf_and_bare_lf(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    /* bare LF is tolerated everywhere */
    assert_int_equal(mp("b",
        "--b\n"
        "Content-Disposition: form-data; name=\"a\"\n"
        "\n"
        "one\n"
        "--b\n"
        "Content-Disposition: form-data; name=\"c\"\n"
        "\n"
        "two\r\nlines\n"
        "--b--\n", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 2);
    assert_pair(&pairs, 0, "a", "one");
    assert_pair(&pairs, 1, "c", "two\r\nlines");

    /* the CRLF before a delimiter is not content, one before it is */
    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n"
        "\r\n"
        "\r\n\r\n"
        "--b--", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_pair(&pairs, 0, "a", "\r\n");

    /* a lone CR is content, not a line break */
    assert_int_equal(mp("b",
        "--b\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n"
        "\r\n"
        "x\r--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_ETRUNCATED);
}


static void
test_mp_malformed(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    /* no delimiter at all */
    assert_int_equal(mp("b", "name=value", &pairs),
                     NGX_HTTP_CLINIC_FORM_EMULTIPART);
    assert_int_equal(mp("b", "", &pairs), NGX_HTTP_CLINIC_FORM_EMULTIPART);

    /* no Content-Disposition */
    assert_int_equal(mp("b",
        "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--\r\n", &pairs),
        NGX_HTTP_CLINIC_FORM_EMULTIPART);

    /* no name */
    assert_int_equal(mp("b",
        "--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--\r\n",
        &pairs), NGX_HTTP_CLINIC_FORM_EMULTIPART);

    /* not form-data */
    assert_int_equal(mp("b",
        "--b\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--b--\r\n",
        &pairs), NGX_HTTP_CLINIC_FORM_EMULTIPART);

    /* two names, two dispositions */
    assert_int_equal(mp("b",
        "--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n"
        "v\r\n--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_EMULTIPART);
    assert_int_equal(mp("b",
        "--b\r\nContent-Disposition: form-data; name=a\r\n"
        "Content-Disposition: form-data; name=b\r\n\r\n"
        "v\r\n--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_EMULTIPART);

    /* unterminated quoted name, header without colon, folding */
    assert_int_equal(mp("b",
        "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"
        "v\r\n--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_EMULTIPART);
    assert_int_equal(mp("b",
        "--b\r\nContent-Disposition form-data; name=a\r\n\r\n"
        "v\r\n--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_EMULTIPART);
    assert_int_equal(mp("b",
        "--b\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\n"
        "v\r\n--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_EMULTIPART);

    /* encodings other than the identity ones */
    assert_int_equal(mp("b",
        "--b\r\nContent-Disposition: form-data; name=a\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        "dg==\r\n--b--\r\n", &pairs), NGX_HTTP_CLINIC_FORM_EMULTIPART);
}


static void
test_mp_field_limit(void **state)
{
    char                          *body;
    clock_t                        start;
    ngx_http_clinic_form_pairs_t   pairs;

    (void) state;

    body = repeat("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n",
                  64, "", "--b--\r\n");
    assert_int_equal(mp("b", body, &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 64);
    free(body);

    body = repeat("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n",
                  100000, "", "--b--\r\n");
    start = clock();
    assert_int_equal(mp("b", body, &pairs), NGX_HTTP_CLINIC_FORM_ETOOMANY);
    assert_true(elapsed(start) < 0.5);
    free(body);

    body = repeat("n", 129, "--b\r\nContent-Disposition: form-data; name=",
                  "\r\n\r\nv\r\n--b--\r\n");
    assert_int_equal(mp("b", body, &pairs), NGX_HTTP_CLINIC_FORM_ENAME);
    free(body);
}


/* JSON */

static void
test_json_flat(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(js(" {\"name\":\"Alice\", \"zz\":\"last\", "
                        "\"email\":\"a@b.example\",\"skip\":null,"
                        "\"\":\"empty key\","
                        "\"msg\":\"caf\\u00e9 \\\"q\\\"\\n\","
                        "\"e\":\"\"}\n", &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);

    /* insertion order, null and empty keys dropped */
    assert_int_equal(pairs.nelts, 5);
    assert_pair(&pairs, 0, "name", "Alice");
    assert_pair(&pairs, 1, "zz", "last");
    assert_pair(&pairs, 2, "email", "a@b.example");
    assert_pair(&pairs, 3, "msg", "caf\xc3\xa9 \"q\"\n");
    assert_pair(&pairs, 4, "e", "");

    assert_int_equal(js("{}", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(pairs.nelts, 0);

    /* brackets and colons inside strings are data */
    assert_int_equal(js("{\"a:[{\":\"]}:{[\\\"\"}", &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_pair(&pairs, 0, "a:[{", "]}:{[\"");
}


static void
test_json_nested(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(js("{\"a\":{\"b\":\"c\"}}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_NESTED);
    assert_int_equal(js("{\"a\":[\"b\"]}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_NESTED);
    assert_int_equal(js("{\"a\":\"x\",\"b\":[]}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_NESTED);
    assert_int_equal(ngx_http_clinic_form_err_status(
                         NGX_HTTP_CLINIC_FORM_EJSON_NESTED), 400);
}


static void
test_json_not_object(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(js("[{\"a\":\"b\"}]", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_NOT_OBJECT);
    assert_int_equal(js("[]", &pairs), NGX_HTTP_CLINIC_FORM_EJSON_NOT_OBJECT);
    assert_int_equal(js("\"str\"", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_NOT_OBJECT);
    assert_int_equal(js("42", &pairs), NGX_HTTP_CLINIC_FORM_EJSON_NOT_OBJECT);
}


static void
test_json_duplicates(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(js("{\"a\":\"1\",\"a\":\"2\"}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_DUPLICATE);
    assert_int_equal(js("{\"a\":\"1\",\"\\u0061\":\"2\"}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_DUPLICATE);
}


static void
test_json_invalid(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(js("", &pairs), NGX_HTTP_CLINIC_FORM_EJSON);
    assert_int_equal(js("  \n", &pairs), NGX_HTTP_CLINIC_FORM_EJSON);
    assert_int_equal(js("{", &pairs), NGX_HTTP_CLINIC_FORM_EJSON);
    assert_int_equal(js("{\"a\":\"b\",}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON);
    assert_int_equal(js("{\"a\":\"b\"} x", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON);
    assert_int_equal(js("{\"a\":\"b\"}}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON);
    assert_int_equal(js("{'a':'b'}", &pairs), NGX_HTTP_CLINIC_FORM_EJSON);
    assert_int_equal(js("{\"a\":\"\\u0000\"}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON);
    assert_int_equal(js("{\"a\":\"\xc0\xaf\"}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON);
    assert_int_equal(js("{\"a\":\"\\ud800\"}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON);
    assert_int_equal(ngx_http_clinic_form_parse_json(U("{\"a\":\"b\"}\0"), 11,
                                                     NULL, &alloc, &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON);
}


static void
test_json_non_string_values(void **state)
{
    ngx_http_clinic_form_pairs_t  pairs;

    (void) state;

    assert_int_equal(js("{\"phone\":5551234}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_VALUE);
    assert_int_equal(js("{\"a\":1.5}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_VALUE);
    assert_int_equal(js("{\"a\":true}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_VALUE);
    assert_int_equal(js("{\"a\":false}", &pairs),
                     NGX_HTTP_CLINIC_FORM_EJSON_VALUE);
}


static void
test_json_deep_nesting(void **state)
{
    char                          *body;
    clock_t                        start;
    ngx_http_clinic_form_pairs_t   pairs;

    (void) state;

    start = clock();

    body = repeat("{\"a\":", 10000, "", "\"x\"");
    assert_int_equal(js(body, &pairs), NGX_HTTP_CLINIC_FORM_EJSON_NESTED);
    free(body);

    body = repeat("[", 10000, "", "");
    assert_int_equal(js(body, &pairs), NGX_HTTP_CLINIC_FORM_EJSON_NOT_OBJECT);
    free(body);

    body = repeat("[", 1000000, "{\"a\":", "");
    assert_int_equal(js(body, &pairs), NGX_HTTP_CLINIC_FORM_EJSON_NESTED);
    free(body);

    assert_true(elapsed(start) < 0.5);
}


static void
test_json_field_limit(void **state)
{
    char                          *body;
    clock_t                        start;
    ngx_http_clinic_form_pairs_t   pairs;

    (void) state;

    body = repeat("\"k\":\"v\",", 100000, "{", "\"z\":\"v\"}");
    start = clock();
    assert_int_equal(js(body, &pairs), NGX_HTTP_CLINIC_FORM_ETOOMANY);
    assert_true(elapsed(start) < 0.5);
    assert_int_equal(arena.n, 0);
    free(body);

    body = repeat("k", 129, "{\"", "\":\"v\"}");
    assert_int_equal(js(body, &pairs), NGX_HTTP_CLINIC_FORM_ENAME);
    free(body);
}


/* Content-Type */

static ngx_http_clinic_form_ctype_type_t
ct_of(const char *s)
{
    ngx_http_clinic_form_ctype_t  ct;

    return ngx_http_clinic_form_content_type(U(s), strlen(s), &ct);
}


static void
test_content_type(void **state)
{
    ngx_http_clinic_form_ctype_t  ct;

    (void) state;

    assert_int_equal(ct_of("application/x-www-form-urlencoded"),
                     NGX_HTTP_CLINIC_FORM_CT_URLENCODED);
    assert_int_equal(ct_of("Application/X-WWW-Form-URLEncoded; charset=UTF-8"),
                     NGX_HTTP_CLINIC_FORM_CT_URLENCODED);
    assert_int_equal(ct_of("  application/json "),
                     NGX_HTTP_CLINIC_FORM_CT_JSON);
    assert_int_equal(ct_of("application/json;charset=\"utf-8\""),
                     NGX_HTTP_CLINIC_FORM_CT_JSON);
    assert_int_equal(ct_of("application/json; charset=utf8;"),
                     NGX_HTTP_CLINIC_FORM_CT_JSON);
    assert_int_equal(ct_of("application/json; charset=us-ascii; v=1"),
                     NGX_HTTP_CLINIC_FORM_CT_JSON);
    assert_int_equal(ct_of("APPLICATION/JSON"), NGX_HTTP_CLINIC_FORM_CT_JSON);
    assert_int_equal(ct_of("multipart/form-data; boundary=x"),
                     NGX_HTTP_CLINIC_FORM_CT_MULTIPART);
    /* multipart ignores charset */
    assert_int_equal(ct_of("multipart/form-data; boundary=x; charset=latin1"),
                     NGX_HTTP_CLINIC_FORM_CT_MULTIPART);

    /* unsupported: 415 */
    assert_int_equal(ct_of(""), NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("text/plain"), NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("application/jsonx"),
                     NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("application/json-patch+json"),
                     NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("application"), NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("/json"), NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("multipart/mixed; boundary=x"),
                     NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("application/json; charset=iso-8859-1"),
                     NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("application/x-www-form-urlencoded;charset=latin1"),
                     NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("application/json garbage"),
                     NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("application/json; charset"),
                     NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct_of("application/json; charset=\"utf-8"),
                     NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);

    assert_int_equal(ngx_http_clinic_form_content_type(NULL, 0, &ct),
                     NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
    assert_int_equal(ct.type, NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED);
}


static void
test_parse_dispatch(void **state)
{
    const char                    *ctv;
    ngx_http_clinic_form_pairs_t   pairs;
    ngx_http_clinic_form_ctype_t   ct;

    (void) state;

    ctv = "text/plain";
    ngx_http_clinic_form_content_type(U(ctv), strlen(ctv), &ct);
    assert_int_equal(ngx_http_clinic_form_parse(&ct, U("a=1"), 3, NULL,
                                                &alloc, &pairs),
                     NGX_HTTP_CLINIC_FORM_EUNSUPPORTED);
    assert_int_equal(ngx_http_clinic_form_err_status(
                         NGX_HTTP_CLINIC_FORM_EUNSUPPORTED), 415);

    ctv = "application/x-www-form-urlencoded";
    ngx_http_clinic_form_content_type(U(ctv), strlen(ctv), &ct);
    assert_int_equal(ngx_http_clinic_form_parse(&ct, U("a=1"), 3, NULL,
                                                &alloc, &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_pair(&pairs, 0, "a", "1");

    ctv = "application/json";
    ngx_http_clinic_form_content_type(U(ctv), strlen(ctv), &ct);
    assert_int_equal(ngx_http_clinic_form_parse(&ct, U("{\"a\":\"1\"}"), 9,
                                                NULL, &alloc, &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_pair(&pairs, 0, "a", "1");
}


static void
test_err_messages(void **state)
{
    int  i;

    (void) state;

    for (i = 0; i < NGX_HTTP_CLINIC_FORM_NERR; i++) {
        assert_non_null(ngx_http_clinic_form_err_message(i));
        assert_true(ngx_http_clinic_form_err_status(i) >= 200);
    }

    assert_string_equal(ngx_http_clinic_form_err_message(
                            NGX_HTTP_CLINIC_FORM_EPERCENT),
                        "malformed percent-encoding");
    assert_int_equal(ngx_http_clinic_form_err_status(
                         NGX_HTTP_CLINIC_FORM_ENOMEM), 500);
    assert_int_equal(ngx_http_clinic_form_err_status(NGX_HTTP_CLINIC_FORM_NERR),
                     500);
    assert_int_equal(ngx_http_clinic_form_err_status(
                         NGX_HTTP_CLINIC_FORM_EJSON_DUPLICATE), 400);
}


/* validation */

static void
test_utf8(void **state)
{
    ngx_http_clinic_form_field_t   f;
    ngx_http_clinic_form_result_t  res;

    (void) state;

    /* the UTF-8 rule itself is text.c's, tested in test_text.c */

    f = field("name", 1, 200, NGX_HTTP_CLINIC_FORM_TEXT);

    assert_int_equal(check1(&f, "Ren\xc3\xa9", &res), 0);
    assert_str(res.values[0].value, "Ren\xc3\xa9");
    assert_int_equal(res.values[0].chars, 4);

    assert_int_equal(check1(&f, "Ren\xc3", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_UTF8);
    assert_str(res.failures[0].message, "is not valid UTF-8");
    assert_int_equal(res.values[0].value.len, 0);

    assert_int_equal(check1(&f, "\xed\xa0\x80", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_UTF8);
    assert_int_equal(check1(&f, "\xc0\xaf", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_UTF8);

    /* a NUL is a character: invalid UTF-8 after it is still found */
    assert_int_equal(checkn(&f, "a\0\xc3\xa9\0b\xff", 7, &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_UTF8);

    /* and without it, the NUL fails as a control character */
    assert_int_equal(checkn(&f, "a\0\xc3\xa9\0b\xff", 6, &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_CHARS);
}


static void
test_control_chars(void **state)
{
    ngx_http_clinic_form_field_t   f;
    ngx_http_clinic_form_result_t  res;

    (void) state;

    f = field("message", 0, 0, NGX_HTTP_CLINIC_FORM_TEXT);

    assert_int_equal(check1(&f, "a\tb\r\nc\nd", &res), 0);
    assert_str(res.values[0].value, "a\tb\nc\nd");

    assert_int_equal(check1(&f, "a\x01" "b", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_CHARS);
    assert_str(res.failures[0].message,
               "contains characters that are not allowed");
    assert_int_equal(check1(&f, "a\x7f", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_CHARS);
    assert_int_equal(check1(&f, "\x1b[31m", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_CHARS);
    assert_int_equal(check1(&f, "\f", &res), NGX_HTTP_CLINIC_FORM_FAIL_CHARS);

    /* NUL, e.g. from %00 */
    assert_int_equal(checkn(&f, "a\0b", 3, &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_CHARS);
}


static void
test_trimming(void **state)
{
    ngx_http_clinic_form_field_t   f;
    ngx_http_clinic_form_result_t  res;

    (void) state;

    f = field("name", 1, 0, NGX_HTTP_CLINIC_FORM_TEXT);

    assert_int_equal(check1(&f, "  Alice \t\r\n", &res), 0);
    assert_str(res.values[0].value, "Alice");

    /* U+00A0 is trimmed at the ends, kept inside */
    assert_int_equal(check1(&f, "\xc2\xa0 Ann\xc2\xa0Lee \xc2\xa0\xc2\xa0",
                            &res), 0);
    assert_str(res.values[0].value, "Ann\xc2\xa0Lee");
    assert_int_equal(res.values[0].chars, 7);

    /* other characters ending in A0 are not spaces */
    assert_int_equal(check1(&f, "x\xe2\x82\xa0", &res), 0);
    assert_str(res.values[0].value, "x\xe2\x82\xa0");

    /* CRLF and lone CR become LF */
    assert_int_equal(check1(&f, "a\r\nb\rc\n\nd", &res), 0);
    assert_str(res.values[0].value, "a\nb\nc\n\nd");

    /* whitespace only is missing */
    assert_int_equal(check1(&f, " \t\r\n\xc2\xa0 ", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_REQUIRED);
    assert_str(res.failures[0].message, "is required");
}


static void
test_required_and_max(void **state)
{
    char                           *s;
    ngx_http_clinic_form_field_t    f;
    ngx_http_clinic_form_pairs_t    pairs;
    ngx_http_clinic_form_result_t   res;

    (void) state;

    f = field("name", 1, 200, NGX_HTTP_CLINIC_FORM_TEXT);

    /* 200 "é" are 400 bytes but 200 characters */
    s = repeat("\xc3\xa9", 200, "", "");
    assert_int_equal(check1(&f, s, &res), 0);
    assert_int_equal(res.values[0].value.len, 400);
    assert_int_equal(res.values[0].chars, 200);
    free(s);

    s = repeat("\xc3\xa9", 201, "", "");
    assert_int_equal(check1(&f, s, &res), NGX_HTTP_CLINIC_FORM_FAIL_TOO_LONG);
    assert_str(res.failures[0].message, "must be at most 200 characters");
    free(s);

    /* the count is taken after trimming and CRLF folding */
    s = repeat("a\r\n", 100, "   ", "   ");
    assert_int_equal(check1(&f, s, &res), 0);
    assert_int_equal(res.values[0].chars, 199);
    free(s);

    /* absent and empty */
    pairs.elts = NULL;
    pairs.nelts = 0;
    assert_int_equal(ngx_http_clinic_form_validate(&f, 1, &pairs, &alloc,
                                                   &res),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(res.nfailures, 1);
    assert_int_equal(res.failures[0].reason,
                     NGX_HTTP_CLINIC_FORM_FAIL_REQUIRED);
    assert_int_equal(check1(&f, "", &res), NGX_HTTP_CLINIC_FORM_FAIL_REQUIRED);

    f.required = 0;
    assert_int_equal(check1(&f, "", &res), 0);
    assert_int_equal(res.values[0].value.len, 0);

    /* max 0: no limit */
    f.max = 0;
    s = repeat("x", 100000, "", "");
    assert_int_equal(check1(&f, s, &res), 0);
    free(s);
}


static void
test_email(void **state)
{
    size_t                          i;
    char                           *s;
    ngx_http_clinic_form_field_t    f;
    ngx_http_clinic_form_result_t   res;

    static const char  *good[] = {
        "a@b.co",
        "alice.smith+clinic@example.com",
        "  alice@example.com  ",
        "o'brien@mail.example.ie",
        "x_y-z@sub-domain.example.co.uk",
        "ren\xc3\xa9@exa\xc3\xa9mple.fr",
        "a@b.xn--p1ai",
        "1234@123.example",
    };

    static const char  *bad[] = {
        "plainaddress",
        "@example.com",
        "alice@",
        "alice@example",
        "alice@@example.com",
        "al@ice@example.com",
        "alice smith@example.com",
        "alice@exa mple.com",
        "alice@example.c",
        "alice@.example.com",
        "alice@example..com",
        "alice@example.com.",
        "alice@-example.com",
        "alice@example-.com",
        ".alice@example.com",
        "alice.@example.com",
        "al..ice@example.com",
        "\"alice\"@example.com",
        "alice<x>@example.com",
        "alice@example.com\nbcc@evil.example",
        "alice,bob@example.com",
        "alice@exam_ple.com",
        "alice@[127.0.0.1]",
    };

    (void) state;

    f = field("email", 1, 0, NGX_HTTP_CLINIC_FORM_EMAIL);

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (check1(&f, good[i], &res) != 0) {
            fail_msg("email \"%s\" refused", good[i]);
        }
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (check1(&f, bad[i], &res) != NGX_HTTP_CLINIC_FORM_FAIL_EMAIL) {
            fail_msg("email \"%s\" accepted", bad[i]);
        }
        assert_str(res.failures[0].message, "must be a valid email address");
    }

    /* lengths: 64-byte local part, 254 bytes in all */

    s = repeat("l", 64, "", "@example.com");
    assert_int_equal(check1(&f, s, &res), 0);
    free(s);

    s = repeat("l", 65, "", "@example.com");
    assert_int_equal(check1(&f, s, &res), NGX_HTTP_CLINIC_FORM_FAIL_EMAIL);
    free(s);

    s = repeat("abcdefghi.", 24, "local@", "example.com"); /* 257 bytes */
    assert_int_equal(check1(&f, s, &res), NGX_HTTP_CLINIC_FORM_FAIL_EMAIL);
    free(s);

    s = repeat("abcdefghi.", 24, "l@", "exampl.co"); /* 251 bytes */
    assert_int_equal(check1(&f, s, &res), 0);
    free(s);

    s = repeat("d", 64, "a@", ".com");
    assert_int_equal(check1(&f, s, &res), NGX_HTTP_CLINIC_FORM_FAIL_EMAIL);
    free(s);
}


static void
test_phone(void **state)
{
    size_t                          i;
    ngx_http_clinic_form_field_t    f;
    ngx_http_clinic_form_result_t   res;

    static const char  *good[] = {
        "555123",
        "+1 (555) 123-4567",
        "+44 20 7946 0958",
        "030/123.456-78",
        "  0612345678 ",
        "12345678901234567890123456789012",
    };

    static const char  *bad[] = {
        "12345",
        "+1 (555)",
        "555-CALL-NOW",
        "1+555123456",
        "++15551234567",
        "555 123 4567 ext 12",
        "555#1234567",
        "123456789012345678901234567890123",
        "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6",
    };

    (void) state;

    f = field("phone", 0, 0, NGX_HTTP_CLINIC_FORM_PHONE);

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (check1(&f, good[i], &res) != 0) {
            fail_msg("phone \"%s\" refused", good[i]);
        }
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (check1(&f, bad[i], &res) != NGX_HTTP_CLINIC_FORM_FAIL_PHONE) {
            fail_msg("phone \"%s\" accepted", bad[i]);
        }
        assert_str(res.failures[0].message, "must be a valid phone number");
    }

    /* optional: empty is fine */
    assert_int_equal(check1(&f, "   ", &res), 0);
}


typedef struct {
    pcre2_code        *re;
    pcre2_match_data  *md;
    int                calls;
    int                force;
} test_pattern_t;


static int
test_match(void *ctx, const u_char *s, size_t len)
{
    int              rc;
    test_pattern_t  *p;

    p = ctx;
    p->calls++;

    if (p->force) {
        return p->force;
    }

    rc = pcre2_match(p->re, s, len, 0, 0, p->md, NULL);

    return rc >= 0 ? 1 : (rc == PCRE2_ERROR_NOMATCH ? 0 : -1);
}


static void
test_pattern(void **state)
{
    int                             errcode;
    PCRE2_SIZE                      erroff;
    test_pattern_t                  pat;
    ngx_http_clinic_form_field_t    f;
    ngx_http_clinic_form_result_t   res;

    (void) state;

    memset(&pat, 0, sizeof(pat));
    pat.re = pcre2_compile(U("[A-Z]{2}[0-9]{4}"), PCRE2_ZERO_TERMINATED,
                           PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF,
                           &errcode, &erroff, NULL);
    assert_non_null(pat.re);
    pat.md = pcre2_match_data_create_from_pattern(pat.re, NULL);
    assert_non_null(pat.md);

    f = field("ref", 0, 10, NGX_HTTP_CLINIC_FORM_TEXT);
    f.match = test_match;
    f.match_ctx = &pat;

    assert_int_equal(check1(&f, "AB1234", &res), 0);
    /* the pattern sees the trimmed value */
    assert_int_equal(check1(&f, "  AB1234\n", &res), 0);
    assert_int_equal(check1(&f, "AB12345", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_PATTERN);
    assert_str(res.failures[0].message, "does not match the required format");
    assert_int_equal(check1(&f, "ab1234", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_PATTERN);
    assert_int_equal(pat.calls, 4);

    /* not called for an empty optional value, nor after max fails */
    assert_int_equal(check1(&f, "", &res), 0);
    assert_int_equal(check1(&f, "AB1234567890", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_TOO_LONG);
    assert_int_equal(pat.calls, 4);

    /* a matcher error is a failure */
    pat.force = -1;
    assert_int_equal(check1(&f, "AB1234", &res),
                     NGX_HTTP_CLINIC_FORM_FAIL_PATTERN);
    pat.force = 7;
    assert_int_equal(check1(&f, "anything", &res), 0);

    pcre2_match_data_free(pat.md);
    pcre2_code_free(pat.re);
}


static void
test_undeclared_dropped(void **state)
{
    ngx_http_clinic_form_field_t    fields[2];
    ngx_http_clinic_form_pair_t     elts[6];
    ngx_http_clinic_form_pairs_t    pairs;
    ngx_http_clinic_form_result_t   res;

    (void) state;

    fields[0] = field("name", 1, 0, NGX_HTTP_CLINIC_FORM_TEXT);
    fields[1] = field("note", 0, 0, NGX_HTTP_CLINIC_FORM_TEXT);

    make_pairs(&pairs, elts, "ssn", "123-45-6789", "name", " Bob ",
               "Name", "case differs", "name", "second", "x", "\xff", NULL);

    assert_int_equal(ngx_http_clinic_form_validate(fields, 2, &pairs, &alloc,
                                                   &res),
                     NGX_HTTP_CLINIC_FORM_OK);

    /* only declared fields, first occurrence, bad undeclared values moot */
    assert_int_equal(res.nfailures, 0);
    assert_int_equal(res.nvalues, 2);
    assert_ptr_equal(res.values[0].field, &fields[0]);
    assert_str(res.values[0].value, "Bob");
    assert_ptr_equal(res.values[1].field, &fields[1]);
    assert_int_equal(res.values[1].value.len, 0);

    /* no fields: nothing */
    assert_int_equal(ngx_http_clinic_form_validate(fields, 0, &pairs, &alloc,
                                                   &res),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(res.nvalues, 0);
    assert_int_equal(res.nfailures, 0);
}


static void
test_all_failures_reported(void **state)
{
    ngx_http_clinic_form_pair_t     elts[8];
    ngx_http_clinic_form_pairs_t    pairs;
    ngx_http_clinic_form_result_t   res;

    (void) state;

    make_pairs(&pairs, elts, "message", "hi\x01", "email", "not-an-email",
               "phone", "call me", NULL);

    assert_int_equal(ngx_http_clinic_form_validate(
                         ngx_http_clinic_form_default_fields,
                         NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS, &pairs, &alloc,
                         &res),
                     NGX_HTTP_CLINIC_FORM_OK);

    /* declaration order, one failure each */
    assert_int_equal(res.nfailures, 4);
    assert_str(res.failures[0].field->name, "name");
    assert_int_equal(res.failures[0].reason,
                     NGX_HTTP_CLINIC_FORM_FAIL_REQUIRED);
    assert_str(res.failures[1].field->name, "email");
    assert_int_equal(res.failures[1].reason, NGX_HTTP_CLINIC_FORM_FAIL_EMAIL);
    assert_str(res.failures[2].field->name, "phone");
    assert_int_equal(res.failures[2].reason, NGX_HTTP_CLINIC_FORM_FAIL_PHONE);
    assert_str(res.failures[3].field->name, "message");
    assert_int_equal(res.failures[3].reason, NGX_HTTP_CLINIC_FORM_FAIL_CHARS);
}


static void
test_failures_json(void **state)
{
    ngx_http_clinic_form_str_t      out;
    ngx_http_clinic_form_field_t    fields[2];
    ngx_http_clinic_form_pair_t     elts[4];
    ngx_http_clinic_form_pairs_t    pairs;
    ngx_http_clinic_form_result_t   res;

    (void) state;

    fields[0] = field("name", 1, 3, NGX_HTTP_CLINIC_FORM_TEXT);
    fields[1] = field("email", 1, 0, NGX_HTTP_CLINIC_FORM_EMAIL);

    make_pairs(&pairs, elts, "name", "Alice", "email", "nope", NULL);

    assert_int_equal(ngx_http_clinic_form_validate(fields, 2, &pairs, &alloc,
                                                   &res),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(ngx_http_clinic_form_failures_json(&res, &alloc, &out),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_str(out, "{\"error\":{\"status\":422,\"message\":"
                    "\"validation failed\",\"fields\":["
                    "{\"field\":\"name\","
                    "\"message\":\"must be at most 3 characters\"},"
                    "{\"field\":\"email\","
                    "\"message\":\"must be a valid email address\"}]}}");

    /* a field name that needs escaping is escaped */
    fields[0] = field("a\"b", 1, 0, NGX_HTTP_CLINIC_FORM_TEXT);
    pairs.nelts = 0;
    assert_int_equal(ngx_http_clinic_form_validate(fields, 1, &pairs, &alloc,
                                                   &res),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(ngx_http_clinic_form_failures_json(&res, &alloc, &out),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_str(out, "{\"error\":{\"status\":422,\"message\":"
                    "\"validation failed\",\"fields\":["
                    "{\"field\":\"a\\\"b\",\"message\":\"is required\"}]}}");
}


static void
test_default_fields(void **state)
{
    const ngx_http_clinic_form_field_t  *d;
    ngx_http_clinic_form_pairs_t         pairs;
    ngx_http_clinic_form_result_t        res;
    ngx_http_clinic_form_str_t           out;

    (void) state;

    d = ngx_http_clinic_form_default_fields;

    assert_int_equal(NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS, 4);
    assert_str(d[0].name, "name");
    assert_true(d[0].required);
    assert_int_equal(d[0].max, 200);
    assert_int_equal(d[0].type, NGX_HTTP_CLINIC_FORM_TEXT);
    assert_str(d[1].name, "email");
    assert_true(d[1].required);
    assert_int_equal(d[1].max, 254);
    assert_int_equal(d[1].type, NGX_HTTP_CLINIC_FORM_EMAIL);
    assert_str(d[2].name, "phone");
    assert_false(d[2].required);
    assert_int_equal(d[2].max, 32);
    assert_int_equal(d[2].type, NGX_HTTP_CLINIC_FORM_PHONE);
    assert_str(d[3].name, "message");
    assert_true(d[3].required);
    assert_int_equal(d[3].max, 5000);
    assert_int_equal(d[3].type, NGX_HTTP_CLINIC_FORM_TEXT);
    assert_null(d[0].match);

    /* a real browser submission, end to end */
    assert_int_equal(ue("name=Jane+Doe&email=jane%40example.com&phone="
                        "&message=I+would+like+an+appointment.%0D%0AThanks"
                        "&website=&submit=Send", &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(ngx_http_clinic_form_validate(d,
                         NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS, &pairs, &alloc,
                         &res),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(res.nfailures, 0);
    assert_int_equal(res.nvalues, 4);
    assert_str(res.values[0].value, "Jane Doe");
    assert_str(res.values[1].value, "jane@example.com");
    assert_str(res.values[2].value, "");
    assert_str(res.values[3].value, "I would like an appointment.\nThanks");

    /* an empty submission */
    pairs.nelts = 0;
    assert_int_equal(ngx_http_clinic_form_validate(d,
                         NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS, &pairs, &alloc,
                         &res),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(ngx_http_clinic_form_failures_json(&res, &alloc, &out),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_str(out, "{\"error\":{\"status\":422,\"message\":"
                    "\"validation failed\",\"fields\":["
                    "{\"field\":\"name\",\"message\":\"is required\"},"
                    "{\"field\":\"email\",\"message\":\"is required\"},"
                    "{\"field\":\"message\",\"message\":\"is required\"}]}}");
}


static void
test_find_and_filled(void **state)
{
    ngx_http_clinic_form_pairs_t        pairs;
    const ngx_http_clinic_form_pair_t  *p;

    (void) state;

    assert_int_equal(ue("hp=&name=x&hp=spam&blank=+%20%09", &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);

    p = ngx_http_clinic_form_find(&pairs, U("hp"), 2);
    assert_non_null(p);
    assert_str(p->value, "");

    /* the honeypot check looks at every occurrence */
    assert_true(ngx_http_clinic_form_filled(&pairs, U("hp"), 2));
    assert_true(ngx_http_clinic_form_filled(&pairs, U("name"), 4));
    assert_false(ngx_http_clinic_form_filled(&pairs, U("blank"), 5));
    assert_false(ngx_http_clinic_form_filled(&pairs, U("absent"), 6));

    assert_int_equal(ue("hp=", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_false(ngx_http_clinic_form_filled(&pairs, U("hp"), 2));
}


static void
test_fingerprint(void **state)
{
    ngx_http_clinic_form_str_t      fp1, fp2;
    ngx_http_clinic_form_pairs_t    pairs;
    ngx_http_clinic_form_result_t   res;

    (void) state;

    assert_int_equal(ue("name=Jane&message=Hi%0D%0Athere&email=j%40ex.com"
                        "&extra=1", &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(ngx_http_clinic_form_validate(
                         ngx_http_clinic_form_default_fields,
                         NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS, &pairs, &alloc,
                         &res),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(ngx_http_clinic_form_fingerprint(&res, &alloc, &fp1),
                     NGX_HTTP_CLINIC_FORM_OK);

    /* name-sorted, length-prefixed, empty fields left out */
    assert_str(fp1, "clinic-form-v1\n"
                    "5:email8:j@ex.com\n"
                    "7:message8:Hi\nthere\n"
                    "4:name4:Jane\n");

    /* the same submission in another order, spacing and encoding */
    assert_int_equal(js("{\"email\":\" j@ex.com\",\"message\":\"Hi\\nthere\","
                        "\"name\":\"Jane \",\"phone\":\"\"}", &pairs),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(ngx_http_clinic_form_validate(
                         ngx_http_clinic_form_default_fields,
                         NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS, &pairs, &alloc,
                         &res),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(ngx_http_clinic_form_fingerprint(&res, &alloc, &fp2),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(fp1.len, fp2.len);
    assert_memory_equal(fp1.data, fp2.data, fp1.len);

    /* length prefixes keep "ab"+"c" apart from "a"+"bc" */
    assert_int_equal(ue("name=Jane&message=Hi&email=j%40ex.com&phone=123456",
                        &pairs), NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(ngx_http_clinic_form_validate(
                         ngx_http_clinic_form_default_fields,
                         NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS, &pairs, &alloc,
                         &res),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_int_equal(ngx_http_clinic_form_fingerprint(&res, &alloc, &fp2),
                     NGX_HTTP_CLINIC_FORM_OK);
    assert_str(fp2, "clinic-form-v1\n"
                    "5:email8:j@ex.com\n"
                    "7:message2:Hi\n"
                    "4:name4:Jane\n"
                    "5:phone6:123456\n");
}


/* every allocation failure is reported, never a crash */

static void
test_enomem(void **state)
{
    long                            n;
    int                             done;
    ngx_http_clinic_form_err_t      rc;
    ngx_http_clinic_form_pairs_t    pairs;
    ngx_http_clinic_form_result_t   res;
    ngx_http_clinic_form_str_t      out;

    (void) state;

    for (n = 0, done = 0; !done; n++) {
        arena.fail_after = n;

        rc = ue("name=a&email=b&message=c", &pairs);
        if (rc == NGX_HTTP_CLINIC_FORM_ENOMEM) {
            continue;
        }
        assert_int_equal(rc, NGX_HTTP_CLINIC_FORM_OK);

        rc = mp("b", "--b\r\nContent-Disposition: form-data; name=x\r\n\r\n"
                "y\r\n--b--", &pairs);
        if (rc == NGX_HTTP_CLINIC_FORM_ENOMEM) {
            continue;
        }
        assert_int_equal(rc, NGX_HTTP_CLINIC_FORM_OK);

        rc = js("{\"name\":\"a\",\"email\":\"b\"}", &pairs);
        if (rc == NGX_HTTP_CLINIC_FORM_ENOMEM) {
            continue;
        }
        assert_int_equal(rc, NGX_HTTP_CLINIC_FORM_OK);

        rc = ngx_http_clinic_form_validate(
                 ngx_http_clinic_form_default_fields,
                 NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS, &pairs, &alloc, &res);
        if (rc == NGX_HTTP_CLINIC_FORM_ENOMEM) {
            continue;
        }
        assert_int_equal(rc, NGX_HTTP_CLINIC_FORM_OK);
        assert_int_equal(res.nfailures, 2);

        rc = ngx_http_clinic_form_failures_json(&res, &alloc, &out);
        if (rc == NGX_HTTP_CLINIC_FORM_ENOMEM) {
            continue;
        }
        assert_int_equal(rc, NGX_HTTP_CLINIC_FORM_OK);

        rc = ngx_http_clinic_form_fingerprint(&res, &alloc, &out);
        if (rc == NGX_HTTP_CLINIC_FORM_ENOMEM) {
            continue;
        }
        assert_int_equal(rc, NGX_HTTP_CLINIC_FORM_OK);

        done = 1;
    }

    assert_true(n > 10);
}


#define T(f)  cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest  tests[] = {
        T(test_ue_basic),
        T(test_ue_plus_percent),
        T(test_ue_bad_percent),
        T(test_ue_truncated_percent),
        T(test_ue_empty_pairs),
        T(test_ue_no_equals),
        T(test_ue_duplicates_first_wins),
        T(test_ue_field_limit),
        T(test_ue_name_limit),
        T(test_mp_basic),
        T(test_mp_preamble_epilogue),
        T(test_mp_quoted_names),
        T(test_mp_missing_final_boundary),
        T(test_mp_file_part),
        T(test_mp_boundary_from_content_type),
        T(test_mp_missing_boundary),
        T(test_mp_crlf_and_bare_lf),
        T(test_mp_malformed),
        T(test_mp_field_limit),
        T(test_json_flat),
        T(test_json_nested),
        T(test_json_not_object),
        T(test_json_duplicates),
        T(test_json_invalid),
        T(test_json_non_string_values),
        T(test_json_deep_nesting),
        T(test_json_field_limit),
        T(test_content_type),
        T(test_parse_dispatch),
        T(test_err_messages),
        T(test_utf8),
        T(test_control_chars),
        T(test_trimming),
        T(test_required_and_max),
        T(test_email),
        T(test_phone),
        T(test_pattern),
        T(test_undeclared_dropped),
        T(test_all_failures_reported),
        T(test_failures_json),
        T(test_default_fields),
        T(test_find_and_filled),
        T(test_fingerprint),
        T(test_enomem),
    };

    return cmocka_run_group_tests_name("form", tests, NULL, NULL);
}
