
/*
 * Unit tests for ngx_http_clinic_text.c, the text rules shared by the
 * whole module: UTF-8 check and count, HTML escaping, the slug rule, the
 * byte order of strings.  Run by t/unit/text.t with
 * CMOCKA_MESSAGE_OUTPUT=TAP.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ngx_http_clinic_text.h"


#define U(s)  ((const u_char *) (s))


static size_t ref_utf8_check(const u_char *p, size_t n);


/*
 * The rule written out byte by byte, without the eight-byte fast path:
 * the code under test must agree with it everywhere.
 */

static size_t
ref_utf8_check(const u_char *p, size_t n)
{
    size_t    i, need, k;
    uint32_t  cp;

    for (i = 0; i < n; i += need + 1) {

        if (p[i] == 0) {
            return i;
        }

        if (p[i] < 0x80) {
            need = 0;
            continue;
        }

        if ((p[i] & 0xe0) == 0xc0) {
            need = 1;
            cp = p[i] & 0x1f;

        } else if ((p[i] & 0xf0) == 0xe0) {
            need = 2;
            cp = p[i] & 0x0f;

        } else if ((p[i] & 0xf8) == 0xf0) {
            need = 3;
            cp = p[i] & 0x07;

        } else {
            return i;
        }

        if (n - i <= need) {
            return i;
        }

        for (k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return i;
            }

            cp = (cp << 6) | (p[i + k] & 0x3f);
        }

        if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800)
            || (need == 3 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff))
        {
            return i;
        }
    }

    return n;
}


static void
test_utf8_valid(void **state)
{
    static const char  s[] = "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e"
                             "\xf4\x8f\xbf\xbf\xef\xbf\xbf\xee\x80\x80";

    (void) state;

    /* é, €, 𝄞, U+10FFFF, U+FFFF, U+E000 */
    assert_int_equal(ngx_http_clinic_text_utf8_check(U(s), 19), 19);
    assert_int_equal(ngx_http_clinic_text_utf8_chars(U(s), 19), 6);

    assert_int_equal(ngx_http_clinic_text_utf8_check(U("abc"), 3), 3);
    assert_int_equal(ngx_http_clinic_text_utf8_chars(U("abc"), 3), 3);
    assert_int_equal(ngx_http_clinic_text_utf8_check(U(""), 0), 0);
    assert_int_equal(ngx_http_clinic_text_utf8_chars(U(""), 0), 0);
}


static void
test_utf8_invalid(void **state)
{
    (void) state;

#define BAD(s, at)                                                            \
    assert_int_equal(ngx_http_clinic_text_utf8_check(U(s), sizeof(s) - 1),   \
                     at)

    BAD("\xc0\xaf", 0);                 /* overlong "/" */
    BAD("\xc1\xbf", 0);
    BAD("\xe0\x80\xaf", 0);             /* overlong, 3 bytes */
    BAD("\xe0\x9f\xbf", 0);
    BAD("\xf0\x80\x80\xaf", 0);         /* overlong, 4 bytes */
    BAD("\xf0\x8f\xbf\xbf", 0);
    BAD("\xed\xa0\x80", 0);             /* U+D800 */
    BAD("\xed\xbf\xbf", 0);             /* U+DFFF */
    BAD("\xf4\x90\x80\x80", 0);         /* U+110000 */
    BAD("\xf5\x80\x80\x80", 0);
    BAD("\xff", 0);
    BAD("\x80", 0);                     /* stray continuation */
    BAD("a\xe2\x82", 1);                /* truncated */
    BAD("\xe2\x82z", 0);
    BAD("\xf0\x9d\x84", 0);
    BAD("\xc3", 0);
    BAD("ok \xc3\xa9 then \xff", 11);

    /* NUL stops the check: the callers decide what it means */
    BAD("ab\0c", 2);
    BAD("abcdefgh\0", 8);
    BAD("abcdefghij\0", 10);

#undef BAD
}


/*
 * Every bad sequence and a NUL at every offset of a run longer than the
 * eight-byte fast path, and every truncation: the check agrees with the
 * byte-at-a-time rule.
 */

static void
test_utf8_every_offset(void **state)
{
    u_char             buf[64];
    size_t             off, k, len, cut;
    static const char  text[] = "plain ASCII words, long enough for words";
    static const struct {
        const char    *bytes;
        size_t         len;
    } seq[] = {
        { "\xff", 1 }, { "\x80", 1 }, { "\xc0\xaf", 2 },
        { "\xed\xa0\x80", 3 }, { "\xf4\x90\x80\x80", 4 }, { "\0", 1 },
        { "\xc3\xa9", 2 }, { "\xe2\x80\x99", 3 }, { "\xf0\x9f\x98\x80", 4 },
    };

    (void) state;

    for (off = 0; off + 1 < sizeof(text); off++) {
        for (k = 0; k < sizeof(seq) / sizeof(seq[0]); k++) {
            memcpy(buf, text, off);
            memcpy(buf + off, seq[k].bytes, seq[k].len);
            memcpy(buf + off + seq[k].len, text + off,
                   sizeof(text) - 1 - off);
            len = sizeof(text) - 1 + seq[k].len;

            assert_int_equal(ngx_http_clinic_text_utf8_check(buf, len),
                             ref_utf8_check(buf, len));

            for (cut = 0; cut <= len; cut++) {
                assert_int_equal(ngx_http_clinic_text_utf8_check(buf, cut),
                                 ref_utf8_check(buf, cut));
            }
        }
    }
}


static void
test_utf8_chars(void **state)
{
    (void) state;

    assert_int_equal(ngx_http_clinic_text_utf8_chars(U("Ren\xc3\xa9"), 5), 4);
    assert_int_equal(ngx_http_clinic_text_utf8_chars(U("\xe2\x80\xa6"), 3),
                     1);
    assert_int_equal(ngx_http_clinic_text_utf8_chars(U("a\0b"), 3), 3);
}


static void
test_escape_html(void **state)
{
    u_char        buf[64];
    size_t        n;
    const char   *in = "a&<>\"'\xe2\x80\x99z";

    (void) state;

    n = ngx_http_clinic_text_escape_html(NULL, (u_char *) in, strlen(in));
    assert_int_equal(n, strlen("a&amp;&lt;&gt;&quot;&#39;\xe2\x80\x99z"));

    assert_int_equal(ngx_http_clinic_text_escape_html(buf, (u_char *) in,
                                                      strlen(in)),
                     n);
    assert_memory_equal(buf, "a&amp;&lt;&gt;&quot;&#39;\xe2\x80\x99z", n);
}


/*
 * Regression tests for the faster paths (issue 7): each compares with what
 * the byte-at-a-time code gave, at the edges where the fast path hands
 * over to the slow one.
 */

static void
test_escape_html_runs(void **state)
{
    u_char        buf[256];
    size_t        i, n;
    static const struct {
        const char  *in;
        const char  *out;
    } cases[] = {
        { "", "" },
        { "plain text, no escapes", "plain text, no escapes" },
        { "&", "&amp;" },
        { "<<>>", "&lt;&lt;&gt;&gt;" },
        { "''\"\"", "&#39;&#39;&quot;&quot;" },
        { "lead&mid<tail", "lead&amp;mid&lt;tail" },
        { "&start and end>", "&amp;start and end&gt;" },
        { "caf\xc3\xa9 & \xe2\x80\x9cq\xe2\x80\x9d",
          "caf\xc3\xa9 &amp; \xe2\x80\x9cq\xe2\x80\x9d" },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = ngx_http_clinic_text_escape_html(NULL, (u_char *) cases[i].in,
                                             strlen(cases[i].in));
        assert_int_equal(n, strlen(cases[i].out));

        memset(buf, 'X', sizeof(buf));
        assert_int_equal(ngx_http_clinic_text_escape_html(buf,
                                                (u_char *) cases[i].in,
                                                strlen(cases[i].in)),
                         n);
        assert_memory_equal(buf, cases[i].out, n);
        assert_int_equal(buf[n], 'X');
    }

    /* nothing is read or written for an empty string */
    assert_int_equal(ngx_http_clinic_text_escape_html(NULL, NULL, 0), 0);
    assert_int_equal(ngx_http_clinic_text_escape_html(buf, NULL, 0), 0);
}


static void
test_slug(void **state)
{
    char  s[NGX_HTTP_CLINIC_TEXT_SLUG_MAX + 2];

    (void) state;

#define SLUG(s)  ngx_http_clinic_text_slug_valid(U(s), sizeof(s) - 1)

    assert_true(SLUG("back-pain"));
    assert_true(SLUG("a"));
    assert_true(SLUG("0"));
    assert_true(SLUG("2024-update-"));
    assert_true(SLUG("a--b"));

    assert_false(SLUG(""));
    assert_false(SLUG("-back"));
    assert_false(SLUG("Back-pain"));
    assert_false(SLUG("back_pain"));
    assert_false(SLUG("back pain"));
    assert_false(SLUG("back.txt"));
    assert_false(SLUG("../etc"));
    assert_false(SLUG("caf\xc3\xa9"));
    assert_false(SLUG("a\0b"));

#undef SLUG

    memset(s, 'a', sizeof(s));

    assert_true(ngx_http_clinic_text_slug_valid(U(s),
                                                NGX_HTTP_CLINIC_TEXT_SLUG_MAX));
    assert_false(ngx_http_clinic_text_slug_valid(U(s),
                                         NGX_HTTP_CLINIC_TEXT_SLUG_MAX + 1));
}


static void
test_cmp(void **state)
{
    (void) state;

#define CMP(a, b)                                                             \
    ngx_http_clinic_text_cmp(U(a), sizeof(a) - 1, U(b), sizeof(b) - 1)

    assert_int_equal(CMP("", ""), 0);
    assert_int_equal(CMP("back", "back"), 0);
    assert_true(CMP("back", "back-pain") < 0);
    assert_true(CMP("back-pain", "back") > 0);
    assert_true(CMP("a", "b") < 0);
    assert_true(CMP("b", "a") > 0);
    assert_true(CMP("Z", "a") < 0);                 /* bytes, not letters */
    assert_true(CMP("\xc3\xa9", "z") > 0);
    assert_true(CMP("", "a") < 0);

#undef CMP
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_utf8_every_offset),
        cmocka_unit_test(test_utf8_chars),
        cmocka_unit_test(test_escape_html),
        cmocka_unit_test(test_escape_html_runs),
        cmocka_unit_test(test_slug),
        cmocka_unit_test(test_cmp),
    };

    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
