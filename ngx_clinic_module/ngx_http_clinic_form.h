
/*
 * The contact form: request body parsing and field validation.
 *
 * Pure C, no nginx headers, so that it can be unit tested and fuzzed on its
 * own.  All memory comes from the caller's allocator (the request pool) and
 * is never freed piecemeal; every output is independent of the input buffer,
 * which may be released once parsing returns.  No mutable global state: all
 * functions are reentrant.  jansson objects used internally are released
 * before each function returns.
 *
 * Decisions (see docs/ for the user-facing version):
 *
 *   Content-Type  the media type is matched case-insensitively and must be
 *                 exactly application/x-www-form-urlencoded,
 *                 multipart/form-data or application/json; a charset
 *                 parameter, when present, must be utf-8, utf8 or us-ascii
 *                 (for multipart it is ignored); a parameter list that does
 *                 not parse makes the type unsupported (415).  multipart
 *                 without a valid boundary (1-70 RFC 2046 characters) is a
 *                 malformed body (400).
 *
 *   names         empty names are ignored; names longer than the limit are an
 *                 error (400); at most max_fields named pairs (JSON: object
 *                 members) are accepted, beyond that the parse stops with
 *                 ETOOMANY (413) before any huge array is built.  Names
 *                 are compared bytewise (case-sensitive).
 *
 *   duplicates    urlencoded and multipart keep every pair in order; the
 *                 validator and ngx_http_clinic_form_find() use the FIRST
 *                 occurrence of a name.  Because a bot could send a honeypot
 *                 twice ("hp=&hp=spam"), ngx_http_clinic_form_filled() looks
 *                 at every occurrence.  A JSON object with a duplicate key is
 *                 an error (400).
 *
 *   urlencoded    "&" separates pairs (";" does not), "+" is a space, %XX is
 *                 decoded (either case); "%" not followed by two hex digits
 *                 anywhere in the body is an error (400); a pair without "="
 *                 has an empty value.
 *
 *   multipart     RFC 7578.  CRLF line endings; a bare LF is tolerated
 *                 everywhere (header lines and the line break before a
 *                 delimiter).  Preamble and epilogue are ignored.  Each part
 *                 needs "Content-Disposition: form-data; name=..." (token or
 *                 quoted-string with backslash escapes); a part with a
 *                 filename or filename* parameter is a file upload and is
 *                 refused (EFILE, 415).  Folded header lines, a part without
 *                 a name, a Content-Transfer-Encoding other than 7bit, 8bit
 *                 or binary are malformed (400).  A body that ends before the
 *                 close delimiter "--boundary--" is truncated (400).
 *
 *   JSON          one flat object.  Values must be strings; null means the
 *                 field was not sent; numbers, booleans, objects and arrays
 *                 are refused (400): a number's original text is lost by the
 *                 parser (1e2, 0123 as a phone number), so it is better to
 *                 make clients send strings.  "\u0000" and invalid UTF-8 are
 *                 refused by jansson (400).  Nesting is detected by a
 *                 pre-scan before jansson runs, so any depth is rejected in
 *                 linear time without recursion.
 *
 *   values        must be valid UTF-8 (no overlongs, no surrogates, nothing
 *                 above U+10FFFF); the C0 controls other than TAB, CR and LF
 *                 and DEL are refused ("contains characters that are not
 *                 allowed").  Values are trimmed of ASCII whitespace and
 *                 U+00A0, and CRLF and lone CR become LF (a browser sends
 *                 textarea line breaks as CRLF, while its maxlength counts
 *                 them as one character).  After trimming, an empty value is
 *                 missing.  max counts code points of the cleaned value.
 *
 *   email         pragmatic: at most 254 bytes, exactly one "@", a local part
 *                 of 1-64 bytes without spaces, controls or any of
 *                 ()<>[]\,;:" and without a leading, trailing or doubled dot;
 *                 a domain of dot-separated labels of 1-63 letters, digits,
 *                 hyphens (not at either end) or non-ASCII UTF-8, with at
 *                 least two labels and a last label of at least 2 characters.
 *
 *   phone         at most 32 bytes of digits, spaces and + ( ) - . /, a "+"
 *                 only as the first character, and at least 6 digits.
 *
 *   pattern       the callback gets the cleaned value; > 0 is a match,
 *                 0 no match, < 0 (e.g. a PCRE2 match limit) is treated as no
 *                 match.  The module should compile patterns anchored at both
 *                 ends.  A pattern is not applied to an empty optional value.
 *
 *   failures      one per failing field (the first check it fails, in the
 *                 order utf-8, characters, required, max, type, pattern), all
 *                 fields reported together, in declaration order.
 */

#ifndef NGX_HTTP_CLINIC_FORM_H
#define NGX_HTTP_CLINIC_FORM_H


#include <stddef.h>
#include <sys/types.h>

#include "ngx_http_clinic_alloc.h"


#define NGX_HTTP_CLINIC_FORM_MAX_FIELDS      64
#define NGX_HTTP_CLINIC_FORM_MAX_NAME        128
#define NGX_HTTP_CLINIC_FORM_MAX_BOUNDARY    70

#define NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS 4


typedef struct {
    size_t       len;
    u_char      *data;
} ngx_http_clinic_form_str_t;


typedef enum {
    NGX_HTTP_CLINIC_FORM_OK = 0,
    NGX_HTTP_CLINIC_FORM_ENOMEM,            /* 500: allocator failed */
    NGX_HTTP_CLINIC_FORM_EUNSUPPORTED,      /* 415: unknown Content-Type */
    NGX_HTTP_CLINIC_FORM_EFILE,             /* 415: multipart file upload */
    NGX_HTTP_CLINIC_FORM_ETOOMANY,          /* 413: more than max_fields */
    NGX_HTTP_CLINIC_FORM_ENAME,             /* 400: name over max_name_len */
    NGX_HTTP_CLINIC_FORM_EPERCENT,          /* 400: bad %XX */
    NGX_HTTP_CLINIC_FORM_EBOUNDARY,         /* 400: no/invalid boundary */
    NGX_HTTP_CLINIC_FORM_ETRUNCATED,        /* 400: no close delimiter */
    NGX_HTTP_CLINIC_FORM_EMULTIPART,        /* 400: malformed part */
    NGX_HTTP_CLINIC_FORM_EJSON,             /* 400: not JSON */
    NGX_HTTP_CLINIC_FORM_EJSON_NOT_OBJECT,  /* 400: top level not object */
    NGX_HTTP_CLINIC_FORM_EJSON_NESTED,      /* 400: object/array value */
    NGX_HTTP_CLINIC_FORM_EJSON_VALUE,       /* 400: number/boolean value */
    NGX_HTTP_CLINIC_FORM_EJSON_DUPLICATE,   /* 400: repeated key */
    NGX_HTTP_CLINIC_FORM_NERR
} ngx_http_clinic_form_err_t;


typedef enum {
    NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED = 0,
    NGX_HTTP_CLINIC_FORM_CT_URLENCODED,
    NGX_HTTP_CLINIC_FORM_CT_MULTIPART,
    NGX_HTTP_CLINIC_FORM_CT_JSON
} ngx_http_clinic_form_ctype_type_t;


typedef struct {
    ngx_http_clinic_form_ctype_type_t  type;
    /* multipart only; points into the header value, len 0 if missing */
    ngx_http_clinic_form_str_t         boundary;
} ngx_http_clinic_form_ctype_t;


typedef struct {
    size_t       max_fields;     /* 0: NGX_HTTP_CLINIC_FORM_MAX_FIELDS */
    size_t       max_name_len;   /* 0: NGX_HTTP_CLINIC_FORM_MAX_NAME */
} ngx_http_clinic_form_limits_t;


typedef struct {
    ngx_http_clinic_form_str_t  name;
    ngx_http_clinic_form_str_t  value;
} ngx_http_clinic_form_pair_t;


typedef struct {
    ngx_http_clinic_form_pair_t  *elts;
    size_t                        nelts;
} ngx_http_clinic_form_pairs_t;


typedef enum {
    NGX_HTTP_CLINIC_FORM_TEXT = 0,
    NGX_HTTP_CLINIC_FORM_EMAIL,
    NGX_HTTP_CLINIC_FORM_PHONE
} ngx_http_clinic_form_field_type_t;


/* > 0 match, 0 no match, < 0 error (treated as no match) */
typedef int (*ngx_http_clinic_form_match_pt)(void *ctx, const u_char *s,
    size_t len);


typedef struct {
    ngx_http_clinic_form_str_t          name;
    unsigned                            required;
    size_t                              max;        /* code points, 0: none */
    ngx_http_clinic_form_field_type_t   type;
    ngx_http_clinic_form_match_pt       match;      /* NULL: no pattern */
    void                               *match_ctx;
} ngx_http_clinic_form_field_t;


typedef enum {
    NGX_HTTP_CLINIC_FORM_FAIL_UTF8 = 1,
    NGX_HTTP_CLINIC_FORM_FAIL_CHARS,
    NGX_HTTP_CLINIC_FORM_FAIL_REQUIRED,
    NGX_HTTP_CLINIC_FORM_FAIL_TOO_LONG,
    NGX_HTTP_CLINIC_FORM_FAIL_EMAIL,
    NGX_HTTP_CLINIC_FORM_FAIL_PHONE,
    NGX_HTTP_CLINIC_FORM_FAIL_PATTERN
} ngx_http_clinic_form_reason_t;


typedef struct {
    const ngx_http_clinic_form_field_t  *field;
    /* cleaned value; len 0 when absent, empty or failed */
    ngx_http_clinic_form_str_t           value;
    size_t                               chars;     /* code points */
} ngx_http_clinic_form_value_t;


typedef struct {
    const ngx_http_clinic_form_field_t  *field;
    ngx_http_clinic_form_reason_t        reason;
    ngx_http_clinic_form_str_t           message;   /* "is required" */
} ngx_http_clinic_form_failure_t;


typedef struct {
    ngx_http_clinic_form_value_t        *values;    /* one per field */
    size_t                               nvalues;
    ngx_http_clinic_form_failure_t      *failures;
    size_t                               nfailures;
} ngx_http_clinic_form_result_t;


/*
 * name required max=200; email required type=email max=254;
 * phone type=phone max=32; message required max=5000
 */
extern const ngx_http_clinic_form_field_t
    ngx_http_clinic_form_default_fields[NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS];


/* the HTTP status the module answers with for a parse error */
int ngx_http_clinic_form_err_status(ngx_http_clinic_form_err_t err);
/* a fixed, client-safe message ("malformed percent-encoding") */
const char *ngx_http_clinic_form_err_message(ngx_http_clinic_form_err_t err);

/* classifies a Content-Type header value; never fails */
ngx_http_clinic_form_ctype_type_t ngx_http_clinic_form_content_type(
    const u_char *value, size_t len, ngx_http_clinic_form_ctype_t *ct);

/* parses a body of the classified type (EUNSUPPORTED for unsupported) */
ngx_http_clinic_form_err_t ngx_http_clinic_form_parse(
    const ngx_http_clinic_form_ctype_t *ct, const u_char *body, size_t len,
    const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *out);

ngx_http_clinic_form_err_t ngx_http_clinic_form_parse_urlencoded(
    const u_char *body, size_t len, const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *out);
ngx_http_clinic_form_err_t ngx_http_clinic_form_parse_multipart(
    const u_char *boundary, size_t blen, const u_char *body, size_t len,
    const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *out);
ngx_http_clinic_form_err_t ngx_http_clinic_form_parse_json(
    const u_char *body, size_t len, const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *out);

/* the first pair with this name, or NULL */
const ngx_http_clinic_form_pair_t *ngx_http_clinic_form_find(
    const ngx_http_clinic_form_pairs_t *pairs, const u_char *name,
    size_t len);
/* 1 if any pair with this name has a value that is not all whitespace */
int ngx_http_clinic_form_filled(const ngx_http_clinic_form_pairs_t *pairs,
    const u_char *name, size_t len);

/*
 * Validates the declared fields against the parsed pairs.  Returns OK or
 * ENOMEM; the verdict is res->nfailures == 0.
 */
ngx_http_clinic_form_err_t ngx_http_clinic_form_validate(
    const ngx_http_clinic_form_field_t *fields, size_t nfields,
    const ngx_http_clinic_form_pairs_t *pairs,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_result_t *res);

/*
 * The 422 body:
 * {"error":{"status":422,"message":"validation failed",
 *  "fields":[{"field":"email","message":"must be a valid email address"}]}}
 */
ngx_http_clinic_form_err_t ngx_http_clinic_form_failures_json(
    const ngx_http_clinic_form_result_t *res,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_str_t *out);

/*
 * Canonical bytes of the cleaned non-empty values, for the module to hash
 * into an idempotency key: "clinic-form-v1\n" then, for every field sorted
 * by name (bytewise), "<name len>:<name><value len>:<value>\n".
 */
ngx_http_clinic_form_err_t ngx_http_clinic_form_fingerprint(
    const ngx_http_clinic_form_result_t *res,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_str_t *out);


#endif /* NGX_HTTP_CLINIC_FORM_H */
