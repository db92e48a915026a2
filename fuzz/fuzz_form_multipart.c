
/*
 * libFuzzer target: Content-Type classification and multipart bodies
 * through the parser, the validator, the 422 body and the fingerprint
 * (fuzz_form_common.h).
 *
 * Data: a Content-Type value up to the first LF, then the body; without a
 * LF, or when the value is not multipart with a boundary, the boundary is
 * "b".
 */


#include "fuzz_form_common.h"


static ngx_http_clinic_form_err_t fuzz_parse_multipart(const uint8_t *data,
    size_t size, const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *pairs);


static ngx_http_clinic_form_err_t
fuzz_parse_multipart(const uint8_t *data, size_t size,
    const ngx_http_clinic_form_limits_t *limits,
    const ngx_http_clinic_alloc_t *a, ngx_http_clinic_form_pairs_t *pairs)
{
    const uint8_t                 *nl;
    ngx_http_clinic_form_ctype_t   ct;

    ct.type = NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED;
    nl = memchr(data, '\n', size);

    if (nl) {
        (void) ngx_http_clinic_form_content_type(data, nl - data, &ct);

        if (ct.boundary.len
            && (ct.type != NGX_HTTP_CLINIC_FORM_CT_MULTIPART
                || ct.boundary.len > NGX_HTTP_CLINIC_FORM_MAX_BOUNDARY
                || ct.boundary.data < data
                || ct.boundary.data + ct.boundary.len > nl))
        {
            abort();
        }

        size -= nl + 1 - data;
        data = nl + 1;
    }

    if (ct.type != NGX_HTTP_CLINIC_FORM_CT_MULTIPART) {
        ct.type = NGX_HTTP_CLINIC_FORM_CT_MULTIPART;
        ct.boundary.data = (u_char *) "b";
        ct.boundary.len = 1;
    }

    return ngx_http_clinic_form_parse(&ct, data, size, limits, a, pairs);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_form_run(data, size, fuzz_parse_multipart);
}
