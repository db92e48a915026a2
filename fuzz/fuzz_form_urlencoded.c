
/*
 * libFuzzer target: urlencoded bodies through the parser, the validator,
 * the 422 body and the fingerprint (fuzz_form_common.h).
 */


#include "fuzz_form_common.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_form_run(data, size, ngx_http_clinic_form_parse_urlencoded);
}
