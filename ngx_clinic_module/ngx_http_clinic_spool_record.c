
/*
 * The spool's record format: one line per submission,
 *
 *     <crc32> <json>\n
 *
 * the CRC32 of the JSON in eight lowercase hex digits, then the JSON
 * object {"v", "id", "tenant", "stream", "dedupe", "retention", "pairs"}.
 * A value that is not UTF-8 is kept as {"b64":"..."}.  A record is at most
 * NGX_HTTP_CLINIC_SPOOL_RECORD_MAX bytes with its "\n".  This part reads
 * and writes no file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_store.h"
#include "ngx_http_clinic_spool_int.h"


#define NGX_HTTP_CLINIC_SPOOL_VERSION      1


static json_t *ngx_http_clinic_spool_json_value(ngx_pool_t *pool,
    ngx_str_t *value);
static ngx_int_t ngx_http_clinic_spool_json_str(ngx_pool_t *pool,
    json_t *value, ngx_uint_t binary, ngx_str_t *s);


/*
 * Builds "<crc32> <json>\n" in pool.  NGX_DECLINED: the line would be
 * over the record limit (line->len says how long).
 */

ngx_int_t
ngx_http_clinic_spool_record_encode(ngx_pool_t *pool, ngx_str_t *id,
    ngx_str_t *tenant, ngx_http_clinic_submission_t *sub, ngx_str_t *line)
{
    int          n;
    u_char      *p;
    json_t      *json, *pairs;
    uint32_t     crc;
    ngx_int_t    rc;
    ngx_str_t    text;
    ngx_uint_t   i;

    /* json is released before returning, on every path */

    rc = NGX_ERROR;
    pairs = NULL;

    json = json_object();
    if (json == NULL) {
        return NGX_ERROR;
    }

    if (json_object_set_new(json, "v",
                            json_integer(NGX_HTTP_CLINIC_SPOOL_VERSION))
        || json_object_set_new(json, "id",
                               json_stringn((char *) id->data, id->len))
        || json_object_set_new(json, "tenant",
                               json_stringn((char *) tenant->data,
                                            tenant->len))
        || json_object_set_new(json, "stream",
                               json_stringn((char *) sub->stream.data,
                                            sub->stream.len))
        || json_object_set_new(json, "dedupe",
                               json_stringn((char *) sub->dedupe.data,
                                            sub->dedupe.len))
        || json_object_set_new(json, "retention",
                               json_integer((json_int_t) sub->retention)))
    {
        goto done;
    }

    pairs = json_array();
    if (pairs == NULL) {
        goto done;
    }

    for (i = 0; i < sub->npairs; i++) {
        if (json_array_append_new(pairs,
                   ngx_http_clinic_spool_json_value(pool, &sub->pairs[i]))
            != 0)
        {
            goto done;
        }
    }

    /* set_new takes pairs over, even when it fails */

    n = json_object_set_new(json, "pairs", pairs);
    pairs = NULL;

    if (n != 0) {
        goto done;
    }

    /* the JSON with its final newline; json is released by the dump */

    n = ngx_http_clinic_json_dump(pool, json, &text);
    json = NULL;

    if (n != NGX_OK) {
        goto done;
    }

    line->len = sizeof("01234567 ") - 1 + text.len;

    if (line->len > NGX_HTTP_CLINIC_SPOOL_RECORD_MAX) {
        rc = NGX_DECLINED;
        goto done;
    }

    line->data = ngx_pnalloc(pool, line->len);
    if (line->data == NULL) {
        goto done;
    }

    crc = ngx_crc32_long(text.data, text.len - 1);

    p = ngx_sprintf(line->data, "%08xD ", crc);
    ngx_memcpy(p, text.data, text.len);

    rc = NGX_OK;

done:

    if (pairs) {
        json_decref(pairs);
    }

    if (json) {
        json_decref(json);
    }

    return rc;
}


/*
 * A value as a JSON string; one that is not UTF-8 (a User-Agent or a
 * Referer may hold any bytes) as {"b64":"..."} instead.  NULL: no memory.
 */

static json_t *
ngx_http_clinic_spool_json_value(ngx_pool_t *pool, ngx_str_t *value)
{
    json_t     *s, *o;
    ngx_str_t   b64;

    s = json_stringn(value->len ? (char *) value->data : "", value->len);
    if (s) {
        return s;
    }

    b64.len = ngx_base64_encoded_length(value->len);
    b64.data = ngx_pnalloc(pool, b64.len);
    if (b64.data == NULL) {
        return NULL;
    }

    ngx_encode_base64(&b64, value);

    s = json_stringn((char *) b64.data, b64.len);
    if (s == NULL) {
        return NULL;
    }

    o = json_object();
    if (o == NULL) {
        json_decref(s);
        return NULL;
    }

    if (json_object_set_new(o, "b64", s) != 0) {
        json_decref(o);
        return NULL;
    }

    return o;
}


/*
 * Checks one line and converts it into a submission allocated in pool.
 * NGX_DECLINED: not a valid record, *why says why.
 */

ngx_int_t
ngx_http_clinic_spool_record_parse(ngx_pool_t *pool, u_char *line,
    size_t len, ngx_str_t *tenant, ngx_http_clinic_submission_t *sub,
    time_t *queued, const char **why)
{
    size_t         i, n;
    json_t        *json, *v, *pairs;
    uint32_t       crc, want;
    ngx_int_t      rc, hex;
    json_int_t     retention;
    json_error_t   jerr;

    if (len < sizeof("01234567 {}") - 1 || line[8] != ' ') {
        *why = "malformed";
        return NGX_DECLINED;
    }

    want = 0;

    for (i = 0; i < 8; i++) {
        if (line[i] >= '0' && line[i] <= '9') {
            hex = line[i] - '0';

        } else if (line[i] >= 'a' && line[i] <= 'f') {
            hex = line[i] - 'a' + 10;

        } else {
            *why = "malformed";
            return NGX_DECLINED;
        }

        want = (want << 4) | (uint32_t) hex;
    }

    crc = ngx_crc32_long(line + 9, len - 9);

    if (crc != want) {
        *why = "checksum mismatch";
        return NGX_DECLINED;
    }

    json = json_loadb((char *) line + 9, len - 9,
                      JSON_ALLOW_NUL|JSON_REJECT_DUPLICATES, &jerr);
    if (json == NULL) {
        *why = "not JSON";
        return NGX_DECLINED;
    }

    /* json is released before returning, on every path */

    rc = NGX_DECLINED;
    *why = "missing or invalid fields";

    v = json_object_get(json, "v");

    if (!json_is_integer(v)
        || json_integer_value(v) != NGX_HTTP_CLINIC_SPOOL_VERSION)
    {
        *why = "unknown version";
        goto done;
    }

    v = json_object_get(json, "id");

    if (!json_is_string(v)) {
        goto done;
    }

    /* "<pid>-<time>-<seq>": when the record was queued */
    *queued = ngx_http_clinic_spool_name_time((u_char *) json_string_value(v),
                                              json_string_length(v));

    rc = ngx_http_clinic_spool_json_str(pool, json_object_get(json, "tenant"),
                                        0, tenant);
    if (rc != NGX_OK) {
        goto done;
    }

    rc = NGX_DECLINED;

    if (tenant->len == 0 || tenant->len > NGX_HTTP_CLINIC_TENANT_MAX) {
        goto done;
    }

    rc = ngx_http_clinic_spool_json_str(pool, json_object_get(json, "stream"),
                                        0, &sub->stream);
    if (rc != NGX_OK) {
        goto done;
    }

    rc = ngx_http_clinic_spool_json_str(pool, json_object_get(json, "dedupe"),
                                        0, &sub->dedupe);
    if (rc != NGX_OK) {
        goto done;
    }

    rc = NGX_DECLINED;

    v = json_object_get(json, "retention");

    if (!json_is_integer(v)) {
        goto done;
    }

    retention = json_integer_value(v);

    if (retention < 0 || retention > NGX_MAX_INT32_VALUE) {
        goto done;
    }

    sub->retention = (time_t) retention;

    pairs = json_object_get(json, "pairs");
    n = json_array_size(pairs);

    if (!json_is_array(pairs) || n == 0 || n % 2) {
        goto done;
    }

    sub->pairs = ngx_palloc(pool, n * sizeof(ngx_str_t));
    if (sub->pairs == NULL) {
        rc = NGX_ERROR;
        goto done;
    }

    sub->npairs = n;

    for (i = 0; i < n; i++) {
        rc = ngx_http_clinic_spool_json_str(pool, json_array_get(pairs, i), 1,
                                            &sub->pairs[i]);
        if (rc != NGX_OK) {
            goto done;
        }
    }

    rc = NGX_OK;

done:

    json_decref(json);

    return rc;
}


/*
 * Copies a JSON string into pool; with binary, {"b64":"..."} too.
 * NGX_DECLINED: not of that shape.
 */

static ngx_int_t
ngx_http_clinic_spool_json_str(ngx_pool_t *pool, json_t *value,
    ngx_uint_t binary, ngx_str_t *s)
{
    json_t     *b64;
    ngx_str_t   src;

    if (json_is_string(value)) {
        s->len = json_string_length(value);
        s->data = ngx_pnalloc(pool, s->len + 1);
        if (s->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(s->data, json_string_value(value), s->len);
        s->data[s->len] = '\0';

        return NGX_OK;
    }

    if (!binary || !json_is_object(value) || json_object_size(value) != 1) {
        return NGX_DECLINED;
    }

    b64 = json_object_get(value, "b64");

    if (!json_is_string(b64)) {
        return NGX_DECLINED;
    }

    src.len = json_string_length(b64);
    src.data = (u_char *) json_string_value(b64);

    s->data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len) + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64(s, &src) != NGX_OK) {
        return NGX_DECLINED;
    }

    s->data[s->len] = '\0';

    return NGX_OK;
}


/*
 * "<pid>-<time>[-<n>].spool", a file's name, or "<pid>-<time>-<n>", a
 * record's id: the time it was created, 0 if none.
 */

time_t
ngx_http_clinic_spool_name_time(u_char *name, size_t len)
{
    u_char  *p, *last, *start;

    last = name + len;
    p = ngx_strlchr(name, last, '-');

    if (p == NULL) {
        return 0;
    }

    start = ++p;

    while (p < last && *p >= '0' && *p <= '9') {
        p++;
    }

    if (p == start) {
        return 0;
    }

    return ngx_max(ngx_atotm(start, p - start), 0);
}
