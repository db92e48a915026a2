
/*
 * The contact form: body parsers (urlencoded, multipart, JSON) and the field
 * validator.  Pure C; the decisions are listed in ngx_http_clinic_form.h.
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ngx_http_clinic_form.h"
#include "ngx_http_clinic_text.h"


typedef struct {
    const u_char                  *name;
    size_t                         name_len;
    const u_char                  *value;
    size_t                         value_len;
    unsigned                       quoted;
    unsigned                       escaped;
} ngx_http_clinic_form_param_t;


typedef struct {
    ngx_http_clinic_form_pairs_t  *pairs;
    size_t                         nalloc;
    size_t                         max_fields;
    size_t                         max_name_len;
    const ngx_http_clinic_alloc_t *a;
} ngx_http_clinic_form_array_t;


static void *ngx_http_clinic_form_palloc(const ngx_http_clinic_alloc_t *a,
    size_t size);
static void ngx_http_clinic_form_get_limits(
    const ngx_http_clinic_form_limits_t *limits, size_t *max_fields,
    size_t *max_name_len);
static int ngx_http_clinic_form_hex(u_char c);
static int ngx_http_clinic_form_is_tchar(u_char c);
static int ngx_http_clinic_form_is_bchar(u_char c);
static int ngx_http_clinic_form_is_ws(u_char c);
static int ngx_http_clinic_form_caseeq(const u_char *p, size_t len,
    const char *lit);
static const u_char *ngx_http_clinic_form_skip_ows(const u_char *p,
    const u_char *end);
static int ngx_http_clinic_form_next_param(const u_char **pos,
    const u_char *end, ngx_http_clinic_form_param_t *prm);
static size_t ngx_http_clinic_form_unescape(u_char *dst, const u_char *src,
    size_t len);
static int ngx_http_clinic_form_valid_boundary(const u_char *p, size_t len);
static ngx_http_clinic_form_err_t ngx_http_clinic_form_decode(
    const u_char *p, const u_char *end, u_char **dst);
static ngx_http_clinic_form_err_t ngx_http_clinic_form_push(
    ngx_http_clinic_form_array_t *arr, const ngx_http_clinic_form_param_t *name,
    const u_char *value, size_t value_len);
static const u_char *ngx_http_clinic_form_delimiter(const u_char *q,
    const u_char *end, const u_char *bnd, size_t blen, const u_char **next,
    int *last);
static ngx_http_clinic_form_err_t ngx_http_clinic_form_part_headers(
    const u_char *s, const u_char *end, const u_char **content,
    ngx_http_clinic_form_param_t *name);
static ngx_http_clinic_form_err_t ngx_http_clinic_form_disposition(
    const u_char *p, const u_char *end, ngx_http_clinic_form_param_t *name);
static ngx_http_clinic_form_err_t ngx_http_clinic_form_json_scan(
    const u_char *p, size_t len, size_t max_fields);
static ngx_http_clinic_form_err_t ngx_http_clinic_form_clean(
    const ngx_http_clinic_alloc_t *a, const u_char *p, size_t len,
    ngx_http_clinic_form_value_t *v, ngx_http_clinic_form_reason_t *reason);
static ngx_http_clinic_form_reason_t ngx_http_clinic_form_check(
    const ngx_http_clinic_form_field_t *f,
    const ngx_http_clinic_form_value_t *v);
static int ngx_http_clinic_form_is_email(const u_char *p, size_t len);
static int ngx_http_clinic_form_is_phone(const u_char *p, size_t len);
static ngx_http_clinic_form_err_t ngx_http_clinic_form_fail(
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_result_t *res,
    const ngx_http_clinic_form_field_t *f,
    ngx_http_clinic_form_reason_t reason);
static u_char *ngx_http_clinic_form_put_len(u_char *d, size_t n);


#define ngx_http_clinic_form_str(s)  { sizeof(s) - 1, (u_char *) s }


const ngx_http_clinic_form_field_t
    ngx_http_clinic_form_default_fields[NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS] =
{
    { ngx_http_clinic_form_str("name"), 1, 200,
      NGX_HTTP_CLINIC_FORM_TEXT, NULL, NULL },
    { ngx_http_clinic_form_str("email"), 1, 254,
      NGX_HTTP_CLINIC_FORM_EMAIL, NULL, NULL },
    { ngx_http_clinic_form_str("phone"), 0, 32,
      NGX_HTTP_CLINIC_FORM_PHONE, NULL, NULL },
    { ngx_http_clinic_form_str("message"), 1, 5000,
      NGX_HTTP_CLINIC_FORM_TEXT, NULL, NULL }
};


static const struct {
    int          status;
    const char  *message;
} ngx_http_clinic_form_errors[NGX_HTTP_CLINIC_FORM_NERR] = {
    { 200, "ok" },
    { 500, "internal error" },
    { 415, "unsupported content type" },
    { 415, "file uploads are not accepted" },
    { 413, "too many fields" },
    { 400, "field name too long" },
    { 400, "malformed percent-encoding" },
    { 400, "missing or invalid multipart boundary" },
    { 400, "truncated multipart body" },
    { 400, "malformed multipart body" },
    { 400, "malformed JSON" },
    { 400, "JSON body must be an object" },
    { 400, "JSON values must not be objects or arrays" },
    { 400, "JSON values must be strings" },
    { 400, "duplicate JSON key" }
};


int
ngx_http_clinic_form_err_status(ngx_http_clinic_form_err_t err)
{
    if ((unsigned) err >= NGX_HTTP_CLINIC_FORM_NERR) {
        return 500;
    }

    return ngx_http_clinic_form_errors[err].status;
}


const char *
ngx_http_clinic_form_err_message(ngx_http_clinic_form_err_t err)
{
    if ((unsigned) err >= NGX_HTTP_CLINIC_FORM_NERR) {
        return "internal error";
    }

    return ngx_http_clinic_form_errors[err].message;
}


/* never asks the caller's allocator for 0 bytes (malloc may return NULL) */

static void *
ngx_http_clinic_form_palloc(const ngx_http_clinic_alloc_t *a, size_t size)
{
    return a->alloc(a->ctx, size ? size : 1);
}


static void
ngx_http_clinic_form_get_limits(const ngx_http_clinic_form_limits_t *limits,
    size_t *max_fields, size_t *max_name_len)
{
    *max_fields = NGX_HTTP_CLINIC_FORM_MAX_FIELDS;
    *max_name_len = NGX_HTTP_CLINIC_FORM_MAX_NAME;

    if (limits == NULL) {
        return;
    }

    if (limits->max_fields) {
        *max_fields = limits->max_fields;
    }

    if (limits->max_name_len) {
        *max_name_len = limits->max_name_len;
    }
}


static int
ngx_http_clinic_form_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* RFC 9110 tchar */

static int
ngx_http_clinic_form_is_tchar(u_char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z'))
    {
        return 1;
    }

    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


/* RFC 2046 bcharsnospace */

static int
ngx_http_clinic_form_is_bchar(u_char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z'))
    {
        return 1;
    }

    return c != '\0' && strchr("'()+_,-./:=?", c) != NULL;
}


static int
ngx_http_clinic_form_is_ws(u_char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/* lit is lowercase ASCII */

static int
ngx_http_clinic_form_caseeq(const u_char *p, size_t len, const char *lit)
{
    size_t  i;
    u_char  c;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (lit[i] == '\0' || c != (u_char) lit[i]) {
            return 0;
        }
    }

    return lit[len] == '\0';
}


static const u_char *
ngx_http_clinic_form_skip_ows(const u_char *p, const u_char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return p;
}


/*
 * Parses the next "; name=value" of a header value.  Returns 1 with prm set
 * (a quoted value without its quotes, escapes still in place), 0 at the end,
 * -1 on a syntax error.
 */

static int
ngx_http_clinic_form_next_param(const u_char **pos, const u_char *end,
    ngx_http_clinic_form_param_t *prm)
{
    u_char         c;
    const u_char  *p;

    p = ngx_http_clinic_form_skip_ows(*pos, end);

    if (p == end) {
        *pos = p;
        return 0;
    }

    if (*p != ';') {
        return -1;
    }

    p = ngx_http_clinic_form_skip_ows(p + 1, end);

    if (p == end) {
        /* a trailing ";" */
        *pos = p;
        return 0;
    }

    prm->name = p;

    while (p < end && ngx_http_clinic_form_is_tchar(*p)) {
        p++;
    }

    prm->name_len = p - prm->name;

    if (prm->name_len == 0) {
        return -1;
    }

    p = ngx_http_clinic_form_skip_ows(p, end);

    if (p == end || *p != '=') {
        return -1;
    }

    p = ngx_http_clinic_form_skip_ows(p + 1, end);

    if (p == end) {
        return -1;
    }

    prm->quoted = 0;
    prm->escaped = 0;

    if (*p == '"') {
        p++;
        prm->value = p;

        for ( ;; ) {
            if (p == end) {
                return -1;
            }

            c = *p;

            if (c == '"') {
                break;
            }

            if (c == '\\') {
                prm->escaped = 1;

                if (++p == end) {
                    return -1;
                }

                c = *p;
            }

            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return -1;
            }

            p++;
        }

        prm->value_len = p - prm->value;
        prm->quoted = 1;
        p++;

    } else {
        prm->value = p;

        while (p < end && ngx_http_clinic_form_is_tchar(*p)) {
            p++;
        }

        prm->value_len = p - prm->value;

        if (prm->value_len == 0) {
            return -1;
        }
    }

    *pos = p;

    return 1;
}


/* src is a quoted-string body checked by next_param(): no dangling "\" */

static size_t
ngx_http_clinic_form_unescape(u_char *dst, const u_char *src, size_t len)
{
    size_t   i;
    u_char  *d;

    d = dst;

    for (i = 0; i < len; i++) {
        if (src[i] == '\\' && i + 1 < len) {
            i++;
        }

        *d++ = src[i];
    }

    return d - dst;
}


static int
ngx_http_clinic_form_valid_boundary(const u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > NGX_HTTP_CLINIC_FORM_MAX_BOUNDARY
        || p[len - 1] == ' ')
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (p[i] != ' ' && !ngx_http_clinic_form_is_bchar(p[i])) {
            return 0;
        }
    }

    return 1;
}


ngx_http_clinic_form_ctype_type_t
ngx_http_clinic_form_content_type(const u_char *value, size_t len,
    ngx_http_clinic_form_ctype_t *ct)
{
    int                                 rc, bad_charset, nboundary;
    const u_char                       *p, *end, *t;
    ngx_http_clinic_form_param_t        prm, bnd;
    ngx_http_clinic_form_ctype_type_t   type;

    ct->type = NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED;
    ct->boundary.len = 0;
    ct->boundary.data = NULL;

    if (value == NULL) {
        return ct->type;
    }

    end = value + len;
    p = ngx_http_clinic_form_skip_ows(value, end);
    t = p;

    while (p < end && ngx_http_clinic_form_is_tchar(*p)) {
        p++;
    }

    if (p == t || p == end || *p != '/') {
        return ct->type;
    }

    p++;

    while (p < end && ngx_http_clinic_form_is_tchar(*p)) {
        p++;
    }

    if (ngx_http_clinic_form_caseeq(t, p - t,
                                    "application/x-www-form-urlencoded"))
    {
        type = NGX_HTTP_CLINIC_FORM_CT_URLENCODED;

    } else if (ngx_http_clinic_form_caseeq(t, p - t, "multipart/form-data")) {
        type = NGX_HTTP_CLINIC_FORM_CT_MULTIPART;

    } else if (ngx_http_clinic_form_caseeq(t, p - t, "application/json")) {
        type = NGX_HTTP_CLINIC_FORM_CT_JSON;

    } else {
        return ct->type;
    }

    bad_charset = 0;
    nboundary = 0;
    memset(&bnd, 0, sizeof(bnd));

    for ( ;; ) {
        rc = ngx_http_clinic_form_next_param(&p, end, &prm);

        if (rc == 0) {
            break;
        }

        if (rc < 0) {
            return ct->type;
        }

        if (ngx_http_clinic_form_caseeq(prm.name, prm.name_len, "charset")) {
            if (prm.escaped
                || !(ngx_http_clinic_form_caseeq(prm.value, prm.value_len,
                                                 "utf-8")
                     || ngx_http_clinic_form_caseeq(prm.value, prm.value_len,
                                                    "utf8")
                     || ngx_http_clinic_form_caseeq(prm.value, prm.value_len,
                                                    "us-ascii")))
            {
                bad_charset = 1;
            }

        } else if (ngx_http_clinic_form_caseeq(prm.name, prm.name_len,
                                               "boundary"))
        {
            nboundary++;
            bnd = prm;
        }
    }

    if (type != NGX_HTTP_CLINIC_FORM_CT_MULTIPART && bad_charset) {
        return ct->type;
    }

    if (type == NGX_HTTP_CLINIC_FORM_CT_MULTIPART
        && nboundary == 1
        && !bnd.escaped
        && ngx_http_clinic_form_valid_boundary(bnd.value, bnd.value_len))
    {
        ct->boundary.len = bnd.value_len;
        ct->boundary.data = (u_char *) bnd.value;
    }

    ct->type = type;

    return type;
}


ngx_http_clinic_form_err_t
ngx_http_clinic_form_parse(const ngx_http_clinic_form_ctype_t *ct,
    const u_char *body, size_t len, const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *out)
{
    out->elts = NULL;
    out->nelts = 0;

    switch (ct->type) {

    case NGX_HTTP_CLINIC_FORM_CT_URLENCODED:
        return ngx_http_clinic_form_parse_urlencoded(body, len, limits, a, out);

    case NGX_HTTP_CLINIC_FORM_CT_MULTIPART:
        return ngx_http_clinic_form_parse_multipart(ct->boundary.data,
                                                    ct->boundary.len,
                                                    body, len, limits, a, out);

    case NGX_HTTP_CLINIC_FORM_CT_JSON:
        return ngx_http_clinic_form_parse_json(body, len, limits, a, out);

    default:
        return NGX_HTTP_CLINIC_FORM_EUNSUPPORTED;
    }
}


static ngx_http_clinic_form_err_t
ngx_http_clinic_form_decode(const u_char *p, const u_char *end, u_char **dst)
{
    int      hi, lo;
    u_char  *d;

    d = *dst;

    while (p < end) {

        if (*p == '+') {
            *d++ = ' ';
            p++;
            continue;
        }

        if (*p != '%') {
            *d++ = *p++;
            continue;
        }

        if (end - p < 3) {
            return NGX_HTTP_CLINIC_FORM_EPERCENT;
        }

        hi = ngx_http_clinic_form_hex(p[1]);
        lo = ngx_http_clinic_form_hex(p[2]);

        if (hi < 0 || lo < 0) {
            return NGX_HTTP_CLINIC_FORM_EPERCENT;
        }

        *d++ = (u_char) (hi << 4 | lo);
        p += 3;
    }

    *dst = d;

    return NGX_HTTP_CLINIC_FORM_OK;
}


/*
 * Pairs are counted before anything is decoded or allocated, so a body of
 * 100k fields fails in one memchr() pass.  Decoding only shrinks, so one
 * buffer of the body's size holds every decoded name and value.
 */

ngx_http_clinic_form_err_t
ngx_http_clinic_form_parse_urlencoded(const u_char *body, size_t len,
    const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *out)
{
    size_t                        n, max_fields, max_name_len;
    u_char                       *d, *name, *value;
    const u_char                 *p, *q, *eq, *end;
    ngx_http_clinic_form_err_t    rc;
    ngx_http_clinic_form_pair_t  *pair;

    out->elts = NULL;
    out->nelts = 0;

    if (len == 0) {
        return NGX_HTTP_CLINIC_FORM_OK;
    }

    ngx_http_clinic_form_get_limits(limits, &max_fields, &max_name_len);

    end = body + len;
    n = 0;

    for (p = body; p < end; p = q + 1) {
        q = memchr(p, '&', end - p);

        if (q == NULL) {
            q = end;
        }

        if (q > p && *p != '=' && ++n > max_fields) {
            return NGX_HTTP_CLINIC_FORM_ETOOMANY;
        }

        if (q == end) {
            break;
        }
    }

    if (n) {
        out->elts = ngx_http_clinic_form_palloc(a, n * sizeof(*pair));
        if (out->elts == NULL) {
            return NGX_HTTP_CLINIC_FORM_ENOMEM;
        }
    }

    d = ngx_http_clinic_form_palloc(a, len);
    if (d == NULL) {
        return NGX_HTTP_CLINIC_FORM_ENOMEM;
    }

    for (p = body; p < end; p = q + 1) {
        q = memchr(p, '&', end - p);

        if (q == NULL) {
            q = end;
        }

        eq = memchr(p, '=', q - p);

        name = d;
        rc = ngx_http_clinic_form_decode(p, eq ? eq : q, &d);
        if (rc != NGX_HTTP_CLINIC_FORM_OK) {
            return rc;
        }

        value = d;

        if (eq) {
            rc = ngx_http_clinic_form_decode(eq + 1, q, &d);
            if (rc != NGX_HTTP_CLINIC_FORM_OK) {
                return rc;
            }
        }

        if (value > name) {
            if ((size_t) (value - name) > max_name_len) {
                return NGX_HTTP_CLINIC_FORM_ENAME;
            }

            pair = &out->elts[out->nelts++];
            pair->name.data = name;
            pair->name.len = value - name;
            pair->value.data = value;
            pair->value.len = d - value;
        }

        if (q == end) {
            break;
        }
    }

    return NGX_HTTP_CLINIC_FORM_OK;
}


/* copies a multipart pair; an empty name is ignored, not counted */

static ngx_http_clinic_form_err_t
ngx_http_clinic_form_push(ngx_http_clinic_form_array_t *arr,
    const ngx_http_clinic_form_param_t *name, const u_char *value,
    size_t value_len)
{
    size_t                        nlen, n;
    u_char                       *buf;
    ngx_http_clinic_form_pair_t  *elts, *pair;

    if (name->value_len == 0) {
        return NGX_HTTP_CLINIC_FORM_OK;
    }

    if (arr->pairs->nelts == arr->max_fields) {
        return NGX_HTTP_CLINIC_FORM_ETOOMANY;
    }

    if (arr->pairs->nelts == arr->nalloc) {
        n = arr->nalloc ? 2 * arr->nalloc : 8;

        if (n > arr->max_fields) {
            n = arr->max_fields;
        }

        elts = ngx_http_clinic_form_palloc(arr->a, n * sizeof(*elts));
        if (elts == NULL) {
            return NGX_HTTP_CLINIC_FORM_ENOMEM;
        }

        if (arr->pairs->nelts) {
            memcpy(elts, arr->pairs->elts,
                   arr->pairs->nelts * sizeof(*elts));
        }

        arr->pairs->elts = elts;
        arr->nalloc = n;
    }

    buf = ngx_http_clinic_form_palloc(arr->a, name->value_len + value_len);
    if (buf == NULL) {
        return NGX_HTTP_CLINIC_FORM_ENOMEM;
    }

    if (name->escaped) {
        nlen = ngx_http_clinic_form_unescape(buf, name->value,
                                             name->value_len);

    } else {
        nlen = name->value_len;
        memcpy(buf, name->value, nlen);
    }

    if (nlen > arr->max_name_len) {
        return NGX_HTTP_CLINIC_FORM_ENAME;
    }

    if (value_len) {
        memcpy(buf + nlen, value, value_len);
    }

    pair = &arr->pairs->elts[arr->pairs->nelts++];
    pair->name.data = buf;
    pair->name.len = nlen;
    pair->value.data = buf + nlen;
    pair->value.len = value_len;

    return NGX_HTTP_CLINIC_FORM_OK;
}


/*
 * Finds the next delimiter line "--boundary" at or after q, where q is at a
 * line start; returns its start and sets *next past its line, or NULL.
 * Candidates are only line starts, so the scan is linear in the body.
 */

static const u_char *
ngx_http_clinic_form_delimiter(const u_char *q, const u_char *end,
    const u_char *bnd, size_t blen, const u_char **next, int *last)
{
    const u_char  *p, *nl;

    for ( ;; ) {
        if ((size_t) (end - q) >= blen + 2
            && q[0] == '-' && q[1] == '-'
            && memcmp(q + 2, bnd, blen) == 0)
        {
            p = q + 2 + blen;

            if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
                /* the close delimiter: what follows is the epilogue */
                *last = 1;
                *next = end;
                return q;
            }

            /* transport padding, then the line break */

            p = ngx_http_clinic_form_skip_ows(p, end);

            if (p < end && *p == '\r') {
                p++;
            }

            if (p < end && *p == '\n') {
                *last = 0;
                *next = p + 1;
                return q;
            }

            /* "--boundary" followed by other text is content */
        }

        nl = memchr(q, '\n', end - q);

        if (nl == NULL) {
            return NULL;
        }

        q = nl + 1;
    }
}


static ngx_http_clinic_form_err_t
ngx_http_clinic_form_part_headers(const u_char *s, const u_char *end,
    const u_char **content, ngx_http_clinic_form_param_t *name)
{
    int                          have_cd;
    const u_char                *eol, *le, *colon, *hn, *v, *ve;
    ngx_http_clinic_form_err_t   rc;

    have_cd = 0;

    for ( ;; ) {
        eol = memchr(s, '\n', end - s);

        if (eol == NULL) {
            return NGX_HTTP_CLINIC_FORM_ETRUNCATED;
        }

        le = eol;

        if (le > s && le[-1] == '\r') {
            le--;
        }

        if (le == s) {
            *content = eol + 1;
            break;
        }

        if (*s == ' ' || *s == '\t') {
            /* obsolete line folding */
            return NGX_HTTP_CLINIC_FORM_EMULTIPART;
        }

        colon = memchr(s, ':', le - s);

        if (colon == NULL) {
            return NGX_HTTP_CLINIC_FORM_EMULTIPART;
        }

        hn = colon;

        while (hn > s && (hn[-1] == ' ' || hn[-1] == '\t')) {
            hn--;
        }

        v = ngx_http_clinic_form_skip_ows(colon + 1, le);
        ve = le;

        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
            ve--;
        }

        if (ngx_http_clinic_form_caseeq(s, hn - s, "content-disposition")) {

            if (have_cd) {
                return NGX_HTTP_CLINIC_FORM_EMULTIPART;
            }

            have_cd = 1;

            rc = ngx_http_clinic_form_disposition(v, ve, name);
            if (rc != NGX_HTTP_CLINIC_FORM_OK) {
                return rc;
            }

        } else if (ngx_http_clinic_form_caseeq(s, hn - s,
                                               "content-transfer-encoding"))
        {
            if (!ngx_http_clinic_form_caseeq(v, ve - v, "7bit")
                && !ngx_http_clinic_form_caseeq(v, ve - v, "8bit")
                && !ngx_http_clinic_form_caseeq(v, ve - v, "binary"))
            {
                return NGX_HTTP_CLINIC_FORM_EMULTIPART;
            }
        }

        s = eol + 1;
    }

    return have_cd ? NGX_HTTP_CLINIC_FORM_OK : NGX_HTTP_CLINIC_FORM_EMULTIPART;
}


static ngx_http_clinic_form_err_t
ngx_http_clinic_form_disposition(const u_char *p, const u_char *end,
    ngx_http_clinic_form_param_t *name)
{
    int                           rc, have_name;
    const u_char                 *t;
    ngx_http_clinic_form_param_t  prm;

    t = p;

    while (p < end && ngx_http_clinic_form_is_tchar(*p)) {
        p++;
    }

    if (!ngx_http_clinic_form_caseeq(t, p - t, "form-data")) {
        return NGX_HTTP_CLINIC_FORM_EMULTIPART;
    }

    have_name = 0;

    for ( ;; ) {
        rc = ngx_http_clinic_form_next_param(&p, end, &prm);

        if (rc == 0) {
            break;
        }

        if (rc < 0) {
            return NGX_HTTP_CLINIC_FORM_EMULTIPART;
        }

        if (ngx_http_clinic_form_caseeq(prm.name, prm.name_len, "name")) {

            if (have_name) {
                return NGX_HTTP_CLINIC_FORM_EMULTIPART;
            }

            have_name = 1;
            *name = prm;

        } else if (ngx_http_clinic_form_caseeq(prm.name, prm.name_len,
                                               "filename")
                   || ngx_http_clinic_form_caseeq(prm.name, prm.name_len,
                                                  "filename*"))
        {
            return NGX_HTTP_CLINIC_FORM_EFILE;
        }
    }

    return have_name ? NGX_HTTP_CLINIC_FORM_OK
                     : NGX_HTTP_CLINIC_FORM_EMULTIPART;
}


ngx_http_clinic_form_err_t
ngx_http_clinic_form_parse_multipart(const u_char *boundary, size_t blen,
    const u_char *body, size_t len, const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *out)
{
    int                            last;
    const u_char                  *end, *q, *next, *c, *e;
    ngx_http_clinic_form_err_t     rc;
    ngx_http_clinic_form_param_t   name;
    ngx_http_clinic_form_array_t   arr;

    out->elts = NULL;
    out->nelts = 0;

    if (boundary == NULL
        || !ngx_http_clinic_form_valid_boundary(boundary, blen))
    {
        return NGX_HTTP_CLINIC_FORM_EBOUNDARY;
    }

    if (len == 0) {
        return NGX_HTTP_CLINIC_FORM_EMULTIPART;
    }

    arr.pairs = out;
    arr.nalloc = 0;
    arr.a = a;
    ngx_http_clinic_form_get_limits(limits, &arr.max_fields,
                                    &arr.max_name_len);

    end = body + len;
    last = 0;
    next = NULL;

    /* the preamble before the first delimiter is ignored */

    q = ngx_http_clinic_form_delimiter(body, end, boundary, blen, &next,
                                       &last);
    if (q == NULL) {
        return NGX_HTTP_CLINIC_FORM_EMULTIPART;
    }

    while (!last) {
        memset(&name, 0, sizeof(name));
        c = NULL;

        rc = ngx_http_clinic_form_part_headers(next, end, &c, &name);
        if (rc != NGX_HTTP_CLINIC_FORM_OK) {
            return rc;
        }

        q = ngx_http_clinic_form_delimiter(c, end, boundary, blen, &next,
                                           &last);
        if (q == NULL) {
            return NGX_HTTP_CLINIC_FORM_ETRUNCATED;
        }

        /* the line break before the delimiter belongs to it */

        e = q;

        if (e > c && e[-1] == '\n') {
            e--;

            if (e > c && e[-1] == '\r') {
                e--;
            }
        }

        rc = ngx_http_clinic_form_push(&arr, &name, c, e - c);
        if (rc != NGX_HTTP_CLINIC_FORM_OK) {
            return rc;
        }
    }

    return NGX_HTTP_CLINIC_FORM_OK;
}


/*
 * A linear pre-scan that refuses anything but a flat object before jansson
 * (which recurses) sees the body, and counts its members against the limit.
 * Strings are skipped so that brackets and colons inside them do not count.
 */

static ngx_http_clinic_form_err_t
ngx_http_clinic_form_json_scan(const u_char *p, size_t len,
    size_t max_fields)
{
    size_t  i, depth, members;
    int     instr;

    for (i = 0; i < len && ngx_http_clinic_form_is_ws(p[i]); i++) {
        /* void */
    }

    if (i == len) {
        return NGX_HTTP_CLINIC_FORM_EJSON;
    }

    if (p[i] != '{') {
        return NGX_HTTP_CLINIC_FORM_EJSON_NOT_OBJECT;
    }

    depth = 0;
    members = 0;
    instr = 0;

    for ( /* void */ ; i < len; i++) {

        if (instr) {
            if (p[i] == '\\') {
                i++;

            } else if (p[i] == '"') {
                instr = 0;
            }

            continue;
        }

        switch (p[i]) {

        case '"':
            instr = 1;
            break;

        case '{':
        case '[':
            if (++depth > 1) {
                return NGX_HTTP_CLINIC_FORM_EJSON_NESTED;
            }
            break;

        case '}':
        case ']':
            if (depth == 0) {
                return NGX_HTTP_CLINIC_FORM_EJSON;
            }
            depth--;
            break;

        case ':':
            if (depth == 1 && ++members > max_fields) {
                return NGX_HTTP_CLINIC_FORM_ETOOMANY;
            }
            break;

        default:
            break;
        }
    }

    return NGX_HTTP_CLINIC_FORM_OK;
}


ngx_http_clinic_form_err_t
ngx_http_clinic_form_parse_json(const u_char *body, size_t len,
    const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *out)
{
    size_t                        n, max_fields, max_name_len, klen, vlen;
    u_char                       *buf;
    json_t                       *root, *v;
    const char                   *key;
    json_error_t                  error;
    ngx_http_clinic_form_err_t    rc;
    ngx_http_clinic_form_pair_t  *pair;

    out->elts = NULL;
    out->nelts = 0;

    ngx_http_clinic_form_get_limits(limits, &max_fields, &max_name_len);

    rc = ngx_http_clinic_form_json_scan(body, len, max_fields);
    if (rc != NGX_HTTP_CLINIC_FORM_OK) {
        return rc;
    }

    root = json_loadb((const char *) body, len, JSON_REJECT_DUPLICATES,
                      &error);

    if (root == NULL) {
        return json_error_code(&error) == json_error_duplicate_key
               ? NGX_HTTP_CLINIC_FORM_EJSON_DUPLICATE
               : NGX_HTTP_CLINIC_FORM_EJSON;
    }

    rc = NGX_HTTP_CLINIC_FORM_OK;

    if (!json_is_object(root)) {
        rc = NGX_HTTP_CLINIC_FORM_EJSON_NOT_OBJECT;
        goto done;
    }

    n = json_object_size(root);

    if (n > max_fields) {
        rc = NGX_HTTP_CLINIC_FORM_ETOOMANY;
        goto done;
    }

    if (n == 0) {
        goto done;
    }

    out->elts = ngx_http_clinic_form_palloc(a, n * sizeof(*pair));
    if (out->elts == NULL) {
        rc = NGX_HTTP_CLINIC_FORM_ENOMEM;
        goto done;
    }

    json_object_keylen_foreach(root, key, klen, v) {

        if (json_is_null(v)) {
            continue;
        }

        if (json_is_object(v) || json_is_array(v)) {
            rc = NGX_HTTP_CLINIC_FORM_EJSON_NESTED;
            goto done;
        }

        if (!json_is_string(v)) {
            rc = NGX_HTTP_CLINIC_FORM_EJSON_VALUE;
            goto done;
        }

        if (klen == 0) {
            continue;
        }

        if (klen > max_name_len) {
            rc = NGX_HTTP_CLINIC_FORM_ENAME;
            goto done;
        }

        vlen = json_string_length(v);

        buf = ngx_http_clinic_form_palloc(a, klen + vlen);
        if (buf == NULL) {
            rc = NGX_HTTP_CLINIC_FORM_ENOMEM;
            goto done;
        }

        memcpy(buf, key, klen);

        if (vlen) {
            memcpy(buf + klen, json_string_value(v), vlen);
        }

        pair = &out->elts[out->nelts++];
        pair->name.data = buf;
        pair->name.len = klen;
        pair->value.data = buf + klen;
        pair->value.len = vlen;
    }

done:

    json_decref(root);

    return rc;
}


const ngx_http_clinic_form_pair_t *
ngx_http_clinic_form_find(const ngx_http_clinic_form_pairs_t *pairs,
    const u_char *name, size_t len)
{
    size_t                              i;
    const ngx_http_clinic_form_pair_t  *pair;

    for (i = 0; i < pairs->nelts; i++) {
        pair = &pairs->elts[i];

        if (pair->name.len == len && memcmp(pair->name.data, name, len) == 0) {
            return pair;
        }
    }

    return NULL;
}


int
ngx_http_clinic_form_filled(const ngx_http_clinic_form_pairs_t *pairs,
    const u_char *name, size_t len)
{
    size_t                              i, j;
    const ngx_http_clinic_form_pair_t  *pair;

    for (i = 0; i < pairs->nelts; i++) {
        pair = &pairs->elts[i];

        if (pair->name.len != len || memcmp(pair->name.data, name, len) != 0) {
            continue;
        }

        for (j = 0; j < pair->value.len; j++) {
            if (!ngx_http_clinic_form_is_ws(pair->value.data[j])) {
                return 1;
            }
        }
    }

    return 0;
}


/*
 * Checks encoding and characters, then trims and normalises line breaks
 * into a copy; sets *reason (and leaves v empty) if the raw value is bad.
 */

static ngx_http_clinic_form_err_t
ngx_http_clinic_form_clean(const ngx_http_clinic_alloc_t *a, const u_char *p,
    size_t len, ngx_http_clinic_form_value_t *v,
    ngx_http_clinic_form_reason_t *reason)
{
    size_t         i, bad;
    u_char         c, *d;
    const u_char  *s, *e, *q;

    /*
     * The check stops at a NUL too; here a NUL is a character, which fails
     * below as a control character unless the UTF-8 after it is invalid.
     */

    for (s = p, e = p + len; s < e; s += bad + 1) {
        bad = ngx_http_clinic_text_utf8_check(s, e - s);

        if (bad == (size_t) (e - s)) {
            break;
        }

        if (s[bad] != '\0') {
            *reason = NGX_HTTP_CLINIC_FORM_FAIL_UTF8;
            return NGX_HTTP_CLINIC_FORM_OK;
        }
    }

    for (i = 0; i < len; i++) {
        c = p[i];

        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) {
            *reason = NGX_HTTP_CLINIC_FORM_FAIL_CHARS;
            return NGX_HTTP_CLINIC_FORM_OK;
        }
    }

    s = p;
    e = p + len;

    for ( ;; ) {
        if (s < e && ngx_http_clinic_form_is_ws(*s)) {
            s++;

        } else if (e - s >= 2 && s[0] == 0xc2 && s[1] == 0xa0) {
            s += 2;

        } else {
            break;
        }
    }

    for ( ;; ) {
        /* valid UTF-8: a C2 before the end always starts the last char */

        if (e > s && ngx_http_clinic_form_is_ws(e[-1])) {
            e--;

        } else if (e - s >= 2 && e[-2] == 0xc2 && e[-1] == 0xa0) {
            e -= 2;

        } else {
            break;
        }
    }

    if (s == e) {
        return NGX_HTTP_CLINIC_FORM_OK;
    }

    d = ngx_http_clinic_form_palloc(a, e - s);
    if (d == NULL) {
        return NGX_HTTP_CLINIC_FORM_ENOMEM;
    }

    v->value.data = d;

    for (q = s; q < e; q++) {
        if (*q == '\r') {
            *d++ = '\n';

            if (q + 1 < e && q[1] == '\n') {
                q++;
            }

        } else {
            *d++ = *q;
        }
    }

    v->value.len = d - v->value.data;
    v->chars = ngx_http_clinic_text_utf8_chars(v->value.data, v->value.len);

    return NGX_HTTP_CLINIC_FORM_OK;
}


static ngx_http_clinic_form_reason_t
ngx_http_clinic_form_check(const ngx_http_clinic_form_field_t *f,
    const ngx_http_clinic_form_value_t *v)
{
    if (v->value.len == 0) {
        return f->required ? NGX_HTTP_CLINIC_FORM_FAIL_REQUIRED : 0;
    }

    if (f->max && v->chars > f->max) {
        return NGX_HTTP_CLINIC_FORM_FAIL_TOO_LONG;
    }

    if (f->type == NGX_HTTP_CLINIC_FORM_EMAIL
        && !ngx_http_clinic_form_is_email(v->value.data, v->value.len))
    {
        return NGX_HTTP_CLINIC_FORM_FAIL_EMAIL;
    }

    if (f->type == NGX_HTTP_CLINIC_FORM_PHONE
        && !ngx_http_clinic_form_is_phone(v->value.data, v->value.len))
    {
        return NGX_HTTP_CLINIC_FORM_FAIL_PHONE;
    }

    if (f->match
        && f->match(f->match_ctx, v->value.data, v->value.len) <= 0)
    {
        return NGX_HTTP_CLINIC_FORM_FAIL_PATTERN;
    }

    return 0;
}


/* p is valid UTF-8 without controls (see clean()) */

static int
ngx_http_clinic_form_is_email(const u_char *p, size_t len)
{
    size_t         i, llen, label, chars;
    u_char         c;
    const u_char  *at, *q, *end, *lstart;

    if (len > 254) {
        return 0;
    }

    end = p + len;
    at = NULL;

    for (i = 0; i < len; i++) {
        if (p[i] == '@') {
            if (at) {
                return 0;
            }

            at = p + i;
        }
    }

    if (at == NULL) {
        return 0;
    }

    llen = at - p;

    if (llen == 0 || llen > 64 || p[0] == '.' || p[llen - 1] == '.') {
        return 0;
    }

    for (i = 0; i < llen; i++) {
        c = p[i];

        if (c <= 0x20 || c == 0x7f || strchr("()<>[]\\,;:\"", c) != NULL) {
            return 0;
        }

        if (c == '.' && p[i - 1] == '.') {
            return 0;
        }
    }

    label = 0;
    chars = 0;
    lstart = at + 1;

    for (q = lstart; /* void */ ; q++) {

        if (q == end || *q == '.') {
            if (q == lstart || q - lstart > 63
                || *lstart == '-' || q[-1] == '-')
            {
                return 0;
            }

            label++;

            if (q == end) {
                break;
            }

            lstart = q + 1;
            chars = 0;
            continue;
        }

        c = *q;

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z') || c == '-' || c >= 0x80))
        {
            return 0;
        }

        if ((c & 0xc0) != 0x80) {
            chars++;
        }
    }

    return label >= 2 && chars >= 2;
}


static int
ngx_http_clinic_form_is_phone(const u_char *p, size_t len)
{
    size_t  i, digits;
    u_char  c;

    if (len > 32) {
        return 0;
    }

    digits = 0;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            digits++;

        } else if (c == '+') {
            if (i != 0) {
                return 0;
            }

        } else if (c == '\0' || strchr(" ()-./", c) == NULL) {
            return 0;
        }
    }

    return digits >= 6;
}


static ngx_http_clinic_form_err_t
ngx_http_clinic_form_fail(const ngx_http_clinic_alloc_t *a,
    ngx_http_clinic_form_result_t *res, const ngx_http_clinic_form_field_t *f,
    ngx_http_clinic_form_reason_t reason)
{
    int                              n;
    const char                      *msg;
    ngx_http_clinic_form_failure_t  *fl;

    fl = &res->failures[res->nfailures];
    fl->field = f;
    fl->reason = reason;

    switch (reason) {

    case NGX_HTTP_CLINIC_FORM_FAIL_UTF8:
        msg = "is not valid UTF-8";
        break;

    case NGX_HTTP_CLINIC_FORM_FAIL_CHARS:
        msg = "contains characters that are not allowed";
        break;

    case NGX_HTTP_CLINIC_FORM_FAIL_REQUIRED:
        msg = "is required";
        break;

    case NGX_HTTP_CLINIC_FORM_FAIL_TOO_LONG:
        fl->message.data = ngx_http_clinic_form_palloc(a, 64);
        if (fl->message.data == NULL) {
            return NGX_HTTP_CLINIC_FORM_ENOMEM;
        }

        n = snprintf((char *) fl->message.data, 64,
                     "must be at most %zu characters", f->max);

        fl->message.len = (n > 0 && n < 64) ? (size_t) n : 0;
        res->nfailures++;
        return NGX_HTTP_CLINIC_FORM_OK;

    case NGX_HTTP_CLINIC_FORM_FAIL_EMAIL:
        msg = "must be a valid email address";
        break;

    case NGX_HTTP_CLINIC_FORM_FAIL_PHONE:
        msg = "must be a valid phone number";
        break;

    default:
        msg = "does not match the required format";
        break;
    }

    fl->message.data = (u_char *) msg;
    fl->message.len = strlen(msg);
    res->nfailures++;

    return NGX_HTTP_CLINIC_FORM_OK;
}


ngx_http_clinic_form_err_t
ngx_http_clinic_form_validate(const ngx_http_clinic_form_field_t *fields,
    size_t nfields, const ngx_http_clinic_form_pairs_t *pairs,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_result_t *res)
{
    size_t                               i;
    ngx_http_clinic_form_err_t           rc;
    ngx_http_clinic_form_value_t        *v;
    ngx_http_clinic_form_reason_t        reason;
    const ngx_http_clinic_form_pair_t   *pair;
    const ngx_http_clinic_form_field_t  *f;

    res->values = NULL;
    res->nvalues = 0;
    res->failures = NULL;
    res->nfailures = 0;

    if (nfields == 0) {
        return NGX_HTTP_CLINIC_FORM_OK;
    }

    res->values = ngx_http_clinic_form_palloc(a, nfields * sizeof(*v));
    if (res->values == NULL) {
        return NGX_HTTP_CLINIC_FORM_ENOMEM;
    }

    res->failures = ngx_http_clinic_form_palloc(a,
                                        nfields * sizeof(*res->failures));
    if (res->failures == NULL) {
        return NGX_HTTP_CLINIC_FORM_ENOMEM;
    }

    for (i = 0; i < nfields; i++) {
        f = &fields[i];
        v = &res->values[i];

        v->field = f;
        v->value.len = 0;
        v->value.data = NULL;
        v->chars = 0;
        res->nvalues++;

        reason = 0;

        pair = ngx_http_clinic_form_find(pairs, f->name.data, f->name.len);

        if (pair) {
            rc = ngx_http_clinic_form_clean(a, pair->value.data,
                                            pair->value.len, v, &reason);
            if (rc != NGX_HTTP_CLINIC_FORM_OK) {
                return rc;
            }
        }

        if (reason == 0) {
            reason = ngx_http_clinic_form_check(f, v);
        }

        if (reason == 0) {
            continue;
        }

        /* a failed value is never handed on */

        v->value.len = 0;
        v->chars = 0;

        rc = ngx_http_clinic_form_fail(a, res, f, reason);
        if (rc != NGX_HTTP_CLINIC_FORM_OK) {
            return rc;
        }
    }

    return NGX_HTTP_CLINIC_FORM_OK;
}


ngx_http_clinic_form_err_t
ngx_http_clinic_form_failures_json(const ngx_http_clinic_form_result_t *res,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_str_t *out)
{
    size_t                                 i, size;
    json_t                                *root, *err, *fields, *item;
    const ngx_http_clinic_form_failure_t  *fl;

    out->len = 0;
    out->data = NULL;

    /* json_object_set_new() consumes its value even when it fails */

    root = json_object();
    if (root == NULL) {
        return NGX_HTTP_CLINIC_FORM_ENOMEM;
    }

    err = json_object();

    if (json_object_set_new(root, "error", err) != 0
        || json_object_set_new(err, "status", json_integer(422)) != 0
        || json_object_set_new(err, "message",
                               json_string("validation failed")) != 0)
    {
        goto failed;
    }

    fields = json_array();

    if (json_object_set_new(err, "fields", fields) != 0) {
        goto failed;
    }

    for (i = 0; i < res->nfailures; i++) {
        fl = &res->failures[i];

        item = json_object();

        if (json_array_append_new(fields, item) != 0
            || json_object_set_new(item, "field",
                                   json_stringn((char *) fl->field->name.data,
                                                fl->field->name.len)) != 0
            || json_object_set_new(item, "message",
                                   json_stringn((char *) fl->message.data,
                                                fl->message.len)) != 0)
        {
            goto failed;
        }
    }

    size = json_dumpb(root, NULL, 0, JSON_COMPACT);
    if (size == 0) {
        goto failed;
    }

    out->data = ngx_http_clinic_form_palloc(a, size);
    if (out->data == NULL) {
        goto failed;
    }

    if (json_dumpb(root, (char *) out->data, size, JSON_COMPACT) != size) {
        out->data = NULL;
        goto failed;
    }

    out->len = size;
    json_decref(root);

    return NGX_HTTP_CLINIC_FORM_OK;

failed:

    json_decref(root);

    return NGX_HTTP_CLINIC_FORM_ENOMEM;
}


#define NGX_HTTP_CLINIC_FORM_FP_HEAD  "clinic-form-v1\n"

/* writes "<n>:" */

static u_char *
ngx_http_clinic_form_put_len(u_char *d, size_t n)
{
    u_char  *t, tmp[24];

    t = tmp + sizeof(tmp);

    do {
        *--t = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    memcpy(d, t, tmp + sizeof(tmp) - t);
    d += tmp + sizeof(tmp) - t;
    *d++ = ':';

    return d;
}


ngx_http_clinic_form_err_t
ngx_http_clinic_form_fingerprint(const ngx_http_clinic_form_result_t *res,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_str_t *out)
{
    size_t                                i, j, size;
    u_char                               *d;
    const ngx_http_clinic_form_value_t  **sorted, *v;

    out->len = 0;
    out->data = NULL;

    size = sizeof(NGX_HTTP_CLINIC_FORM_FP_HEAD) - 1;

    for (i = 0; i < res->nvalues; i++) {
        v = &res->values[i];
        /* two lengths of at most 20 digits, ':' twice and '\n' */
        size += 43 + v->field->name.len + v->value.len;
    }

    sorted = ngx_http_clinic_form_palloc(a,
                                         res->nvalues * sizeof(*sorted));
    d = ngx_http_clinic_form_palloc(a, size);

    if (sorted == NULL || d == NULL) {
        return NGX_HTTP_CLINIC_FORM_ENOMEM;
    }

    /* insertion sort: few fields, stable for duplicate declarations */

    for (i = 0; i < res->nvalues; i++) {
        v = &res->values[i];

        for (j = i; j > 0; j--) {
            if (ngx_http_clinic_text_cmp(sorted[j - 1]->field->name.data,
                                         sorted[j - 1]->field->name.len,
                                         v->field->name.data,
                                         v->field->name.len)
                <= 0)
            {
                break;
            }

            sorted[j] = sorted[j - 1];
        }

        sorted[j] = v;
    }

    out->data = d;

    memcpy(d, NGX_HTTP_CLINIC_FORM_FP_HEAD,
           sizeof(NGX_HTTP_CLINIC_FORM_FP_HEAD) - 1);
    d += sizeof(NGX_HTTP_CLINIC_FORM_FP_HEAD) - 1;

    for (i = 0; i < res->nvalues; i++) {
        v = sorted[i];

        if (v->value.len == 0) {
            continue;
        }

        d = ngx_http_clinic_form_put_len(d, v->field->name.len);

        if (v->field->name.len) {
            memcpy(d, v->field->name.data, v->field->name.len);
            d += v->field->name.len;
        }

        d = ngx_http_clinic_form_put_len(d, v->value.len);
        memcpy(d, v->value.data, v->value.len);
        d += v->value.len;

        *d++ = '\n';
    }

    out->len = d - out->data;

    return NGX_HTTP_CLINIC_FORM_OK;
}
