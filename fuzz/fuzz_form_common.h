
/*
 * What the three form fuzzers share: an arena allocator with failure
 * injection, the validation and 422/fingerprint checks on parsed pairs,
 * and the driver.  Each target supplies only its parse call.
 *
 * Input: one control byte (limits, allocation failure injection), then the
 * target's data.  Invariants are checked with abort(), so that a wrong
 * result is a crash as well as any sanitizer report.
 */


#ifndef FUZZ_FORM_COMMON_H
#define FUZZ_FORM_COMMON_H


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_http_clinic_form.h"
#include "ngx_http_clinic_text.h"


typedef struct {
    void   **blocks;
    size_t   n;
    size_t   cap;
    long     fail_after;
} fuzz_arena_t;


static void *
fuzz_alloc(void *ctx, size_t size)
{
    void          *p, **nb;
    fuzz_arena_t  *ar;

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
            abort();
        }
        ar->blocks = nb;
    }

    p = malloc(size);
    if (p == NULL) {
        abort();
    }

    ar->blocks[ar->n++] = p;

    return p;
}


static void
fuzz_arena_free(fuzz_arena_t *ar)
{
    size_t  i;

    for (i = 0; i < ar->n; i++) {
        free(ar->blocks[i]);
    }

    free(ar->blocks);
}


static int
fuzz_match_digits(void *ctx, const u_char *s, size_t len)
{
    size_t  i;

    (void) ctx;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}


/* validation, the 422 body and the fingerprint, with invariant checks */

static void
fuzz_validate(const ngx_http_clinic_form_pairs_t *pairs,
    const ngx_http_clinic_alloc_t *a, size_t max_fields, size_t max_name)
{
    size_t                          i;
    json_t                         *j;
    ngx_http_clinic_form_str_t      out;
    ngx_http_clinic_form_field_t    fields[NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS
                                           + 1];
    ngx_http_clinic_form_result_t   res;

    if (pairs->nelts > max_fields) {
        abort();
    }

    for (i = 0; i < pairs->nelts; i++) {
        if (pairs->elts[i].name.len == 0
            || pairs->elts[i].name.len > max_name)
        {
            abort();
        }
    }

    memcpy(fields, ngx_http_clinic_form_default_fields,
           sizeof(ngx_http_clinic_form_default_fields));

    memset(&fields[NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS], 0,
           sizeof(fields[0]));
    fields[NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS].name.data = (u_char *) "n";
    fields[NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS].name.len = 1;
    fields[NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS].max = 8;
    fields[NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS].match = fuzz_match_digits;

    (void) ngx_http_clinic_form_filled(pairs, (u_char *) "hp", 2);

    if (ngx_http_clinic_form_validate(fields,
                                      NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS + 1,
                                      pairs, a, &res)
        != NGX_HTTP_CLINIC_FORM_OK)
    {
        return;
    }

    if (res.nvalues != NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS + 1
        || res.nfailures > res.nvalues)
    {
        abort();
    }

    for (i = 0; i < res.nvalues; i++) {
        if (res.values[i].value.len == 0) {
            continue;
        }

        if (ngx_http_clinic_text_utf8_check(res.values[i].value.data,
                                            res.values[i].value.len)
            != res.values[i].value.len
            || ngx_http_clinic_text_utf8_chars(res.values[i].value.data,
                                               res.values[i].value.len)
               != res.values[i].chars
            || (fields[i].max && res.values[i].chars > fields[i].max)
            || res.values[i].value.data[0] == ' '
            || memchr(res.values[i].value.data, '\r',
                      res.values[i].value.len) != NULL)
        {
            abort();
        }
    }

    if (ngx_http_clinic_form_failures_json(&res, a, &out)
        == NGX_HTTP_CLINIC_FORM_OK)
    {
        j = json_loadb((const char *) out.data, out.len, 0, NULL);
        if (j == NULL) {
            abort();
        }
        json_decref(j);
    }

    (void) ngx_http_clinic_form_fingerprint(&res, a, &out);
}


typedef ngx_http_clinic_form_err_t (*fuzz_parse_pt)(const uint8_t *data,
    size_t size, const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *pairs);


static int
fuzz_form_run(const uint8_t *data, size_t size, fuzz_parse_pt parse)
{
    uint8_t                         ctl;
    fuzz_arena_t                    ar;
    ngx_http_clinic_alloc_t         a;
    ngx_http_clinic_form_err_t      rc;
    ngx_http_clinic_form_pairs_t    pairs;
    ngx_http_clinic_form_limits_t   limits;

    if (size == 0) {
        return 0;
    }

    ctl = data[0];
    data++;
    size--;

    memset(&ar, 0, sizeof(ar));
    ar.fail_after = (ctl & 0x80) ? (ctl & 0x0f) : -1;
    a.alloc = fuzz_alloc;
    a.ctx = &ar;

    limits.max_fields = (ctl & 0x40) ? 4 : 0;
    limits.max_name_len = (ctl & 0x20) ? 8 : 0;

    rc = parse(data, size, &limits, &a, &pairs);

    if (rc == NGX_HTTP_CLINIC_FORM_OK) {
        fuzz_validate(&pairs, &a, limits.max_fields ? 4 : 64,
                      limits.max_name_len ? 8 : 128);

    } else if (ngx_http_clinic_form_err_status(rc) < 400) {
        abort();
    }

    fuzz_arena_free(&ar);

    return 0;
}


#endif /* FUZZ_FORM_COMMON_H */
