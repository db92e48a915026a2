
/*
 * Ground layer, pure C (no nginx header): the text rules every part of the
 * module shares, each defined once here.  UTF-8 validation and counting,
 * HTML and XML escaping, the slug rule, and the byte order of strings.  The
 * article and form parsers, the renderer and the handlers all call these.
 */


#include <stdint.h>
#include <string.h>

#include "ngx_http_clinic_text.h"


/* how many bytes each byte grows by when escaped for HTML */
static const u_char  ngx_http_clinic_text_escape_extra[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 5, 0, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0,     /*  "   &'  */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 3, 0,     /* <  >    */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
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


/*
 * & < > " ' for HTML text and attributes; dst NULL only measures.
 * Returns the escaped length.
 */

size_t
ngx_http_clinic_text_escape_html(u_char *dst, const u_char *src,
    size_t len)
{
    size_t  i, n, run;

    if (dst == NULL) {
        n = len;

        for (i = 0; i < len; i++) {
            n += ngx_http_clinic_text_escape_extra[src[i]];
        }

        return n;
    }

    n = 0;
    i = 0;

    while (i < len) {

        /* the run of bytes that need no escape is copied at once */

        for (run = i;
             i < len && ngx_http_clinic_text_escape_extra[src[i]] == 0;
             i++)
        {
            /* void */
        }

        if (i > run) {
            memcpy(dst + n, src + run, i - run);
            n += i - run;
        }

        if (i == len) {
            break;
        }

        switch (src[i++]) {

        case '&':
            memcpy(dst + n, "&amp;", 5);
            n += 5;
            break;

        case '<':
            memcpy(dst + n, "&lt;", 4);
            n += 4;
            break;

        case '>':
            memcpy(dst + n, "&gt;", 4);
            n += 4;
            break;

        case '"':
            memcpy(dst + n, "&quot;", 6);
            n += 6;
            break;

        default: /* '\'' */
            memcpy(dst + n, "&#39;", 5);
            n += 5;
            break;
        }
    }

    return n;
}


/*
 * The same for XML 1.0 text and attributes, of valid UTF-8: the C0
 * controls XML does not allow (all but TAB, LF and CR) become spaces, and
 * U+FFFE and U+FFFF, which it does not allow either, U+FFFD.  A feed
 * reader refuses a whole feed over one such character.  dst NULL only
 * measures.
 */

size_t
ngx_http_clinic_text_escape_xml(u_char *dst, const u_char *src, size_t len)
{
    u_char  c;
    size_t  i, n, run;

    n = 0;
    i = 0;

    while (i < len) {

        for (run = i; i < len; i++) {
            c = src[i];

            if (ngx_http_clinic_text_escape_extra[c]
                || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                || (c == 0xef && i + 2 < len && src[i + 1] == 0xbf
                    && (src[i + 2] == 0xbe || src[i + 2] == 0xbf)))
            {
                break;
            }
        }

        if (i > run) {
            if (dst) {
                memcpy(dst + n, src + run, i - run);
            }

            n += i - run;
        }

        if (i == len) {
            break;
        }

        c = src[i];

        if (c == 0xef) {
            if (dst) {
                memcpy(dst + n, "\xef\xbf\xbd", 3);
            }

            n += 3;
            i += 3;

        } else if (c < 0x20) {
            if (dst) {
                dst[n] = ' ';
            }

            n++;
            i++;

        } else {
            n += ngx_http_clinic_text_escape_html(dst ? dst + n : NULL,
                                                  src + i, 1);
            i++;
        }
    }

    return n;
}


/* the offset of the first invalid byte or NUL, n when there is none */

size_t
ngx_http_clinic_text_utf8_check(const u_char *p, size_t n)
{
    size_t    i, need, k;
    u_char    c, lo, hi;
    uint64_t  w;

    i = 0;

    while (i < n) {

        /* eight bytes at a time while they are ASCII without a NUL */

        while (n - i >= 8) {
            memcpy(&w, p + i, 8);

            if ((w & 0x8080808080808080ULL)
                || ((w - 0x0101010101010101ULL) & 0x8080808080808080ULL))
            {
                break;
            }

            i += 8;
        }

        if (i == n) {
            break;
        }

        c = p[i];

        if (c < 0x80) {
            if (c == 0) {
                return i;
            }

            i++;
            continue;
        }

        lo = 0x80;
        hi = 0xbf;

        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;

        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            lo = (c == 0xe0) ? 0xa0 : 0x80;
            hi = (c == 0xed) ? 0x9f : 0xbf;

        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            lo = (c == 0xf0) ? 0x90 : 0x80;
            hi = (c == 0xf4) ? 0x8f : 0xbf;

        } else {
            return i;
        }

        if (n - i <= need) {
            return i;
        }

        if (p[i + 1] < lo || p[i + 1] > hi) {
            return i;
        }

        for (k = 2; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return i;
            }
        }

        i += need + 1;
    }

    return n;
}


/* characters, not bytes, of valid UTF-8 */

size_t
ngx_http_clinic_text_utf8_chars(const u_char *p, size_t n)
{
    size_t  i, chars;

    chars = 0;

    for (i = 0; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            chars++;
        }
    }

    return chars;
}


/*
 * [a-z0-9][a-z0-9-]{0,127}: the names of the articles, the only strings
 * that can name a file of a content folder.
 */

int
ngx_http_clinic_text_slug_valid(const u_char *p, size_t n)
{
    size_t  i;
    u_char  ch;

    if (n == 0 || n > NGX_HTTP_CLINIC_TEXT_SLUG_MAX) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        ch = p[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
            || (ch == '-' && i > 0))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


/*
 * The order of slugs and field names: bytewise, a prefix before the
 * longer string; <0, 0 or >0 like memcmp().
 */

int
ngx_http_clinic_text_cmp(const u_char *a, size_t alen, const u_char *b,
    size_t blen)
{
    int  rc;

    rc = memcmp(a, b, alen < blen ? alen : blen);

    if (rc != 0) {
        return rc;
    }

    return (alen > blen) - (alen < blen);
}
