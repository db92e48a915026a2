
/*
 * Ground layer: small helpers every other file may use, calling nothing of
 * the module's above them.  JSON answers and JSON into pool memory, the
 * prefix of a tenant's Redis keys, secrets read at nginx -t, the pure
 * parsers' allocator on a pool, constant-time token comparison.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"


#define NGX_HTTP_CLINIC_SECRET_MAX  512
#define NGX_HTTP_CLINIC_TOKENS_MAX  65536


static ngx_fd_t ngx_http_clinic_open_conf_file(ngx_conf_t *cf,
    ngx_str_t *name, const char *what, ngx_str_t *path);
static ngx_int_t ngx_http_clinic_copy_secret(ngx_conf_t *cf, ngx_str_t *path,
    u_char *buf, ssize_t n, ngx_str_t *value, size_t min);
static ngx_int_t ngx_http_clinic_parse_tokens(ngx_conf_t *cf,
    ngx_str_t *path, u_char *buf, size_t n, ngx_array_t *tokens, size_t min);
static void *ngx_http_clinic_pool_alloc_fn(void *ctx, size_t size);


/*
 * The node's tenants by name, in a hash table of the names' crc32 with a
 * bucket for every server block at least, made when http{} has been read
 * and before the server blocks are merged into tenants: a name is found
 * in O(1) at configuration time (duplicates), by clinic_status (?tenant=)
 * and by the purge log.
 */

ngx_int_t
ngx_http_clinic_tenant_table(ngx_conf_t *cf,
    ngx_http_clinic_main_conf_t *cmcf, ngx_uint_t nservers)
{
    ngx_uint_t  n;

    for (n = 64; n < nservers; n <<= 1) { /* void */ }

    cmcf->tenant_buckets = ngx_pcalloc(cf->pool, n * sizeof(void *));
    if (cmcf->tenant_buckets == NULL) {
        return NGX_ERROR;
    }

    cmcf->tenant_mask = n - 1;

    return NGX_OK;
}


ngx_http_clinic_srv_conf_t *
ngx_http_clinic_tenant_find(ngx_http_clinic_main_conf_t *cmcf,
    ngx_str_t *name)
{
    uint32_t                     hash;
    ngx_http_clinic_srv_conf_t  *cscf;

    hash = ngx_crc32_long(name->data, name->len);

    for (cscf = cmcf->tenant_buckets[hash & cmcf->tenant_mask];
         cscf;
         cscf = cscf->tenant_next)
    {
        if (cscf->tenant_hash == hash
            && cscf->tenant.len == name->len
            && ngx_memcmp(cscf->tenant.data, name->data, name->len) == 0)
        {
            return cscf;
        }
    }

    return NULL;
}


/* only for a name not found */

void
ngx_http_clinic_tenant_insert(ngx_http_clinic_main_conf_t *cmcf,
    ngx_http_clinic_srv_conf_t *cscf)
{
    void  **bucket;

    cscf->tenant_hash = ngx_crc32_long(cscf->tenant.data, cscf->tenant.len);

    bucket = &cmcf->tenant_buckets[cscf->tenant_hash & cmcf->tenant_mask];

    cscf->tenant_next = *bucket;
    *bucket = cscf;
}


/* sends the header, then b as the whole body (not for a header-only answer) */

ngx_int_t
ngx_http_clinic_send_body(ngx_http_request_t *r, ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* adds a response header; name and value must outlive the request */

ngx_int_t
ngx_http_clinic_set_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}


/* sends json (a json_t *) and releases it with the request's pool */

ngx_int_t
ngx_http_clinic_send_json(ngx_http_request_t *r, ngx_uint_t status,
    void *json)
{
    ngx_buf_t  *b;
    ngx_str_t   text;

    if (ngx_http_clinic_json_dump(r->pool, json, &text) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = text.data;
    b->last = text.data + text.len;
    b->memory = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = text.len;
    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");
    r->headers_out.content_type_len = sizeof("application/json") - 1;
    r->headers_out.content_type_lowcase = NULL;

    if (status == NGX_HTTP_NO_CONTENT) {
        r->header_only = 1;
        r->headers_out.content_length_n = -1;
        ngx_str_null(&r->headers_out.content_type);
    }

    return ngx_http_clinic_send_body(r, b);
}


/*
 * The one way JSON becomes bytes here: compact, with a final newline, in
 * pool memory; json (a json_t *) is released whatever happens.
 */

ngx_int_t
ngx_http_clinic_json_dump(ngx_pool_t *pool, void *json, ngx_str_t *out)
{
    size_t  size;

    size = json_dumpb(json, NULL, 0, JSON_COMPACT);

    if (size == 0) {
        json_decref(json);
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, size + 1);

    if (out->data == NULL
        || json_dumpb(json, (char *) out->data, size, JSON_COMPACT) != size)
    {
        json_decref(json);
        return NGX_ERROR;
    }

    json_decref(json);

    out->data[size] = '\n';
    out->len = size + 1;

    return NGX_OK;
}


/* {"error":{"status":N,"message":"..."}}; message is ours, never input */

ngx_int_t
ngx_http_clinic_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *message)
{
    json_t  *json;

    json = json_pack("{s:{s:i,s:s}}", "error", "status", (int) status,
                     "message", message);
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clinic_send_json(r, status, json);
}


/* 405 with the Allow header the status line promises */

ngx_int_t
ngx_http_clinic_not_allowed(ngx_http_request_t *r, const char *allow)
{
    ngx_str_t  value;

    value.data = (u_char *) allow;
    value.len = ngx_strlen(allow);

    if (ngx_http_clinic_set_header(r, "Allow", &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clinic_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                      "method not allowed");
}


/* "clinic:{T}:" suffix [extra] */

ngx_int_t
ngx_http_clinic_key(ngx_pool_t *pool, ngx_http_clinic_srv_conf_t *cscf,
    const char *suffix, ngx_str_t *extra, ngx_str_t *key)
{
    size_t   len;
    u_char  *p;

    len = cscf->key_prefix.len + ngx_strlen(suffix)
          + (extra ? extra->len : 0);

    key->data = ngx_pnalloc(pool, len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key->data, cscf->key_prefix.data, cscf->key_prefix.len);
    p = ngx_cpymem(p, suffix, ngx_strlen(suffix));

    if (extra) {
        p = ngx_cpymem(p, extra->data, extra->len);
    }

    key->len = p - key->data;

    return NGX_OK;
}


/* compares in time that depends on the secret's length only */

ngx_int_t
ngx_http_clinic_token_equal(ngx_str_t *secret, u_char *given, size_t len)
{
    size_t      i;
    ngx_uint_t  diff;

    diff = (secret->len != len);

    for (i = 0; i < secret->len; i++) {
        diff |= secret->data[i] ^ (i < len ? given[i] : 0);
    }

    return diff == 0;
}


/*
 * 1 when given is one of tokens (ngx_str_t).  Every token is compared,
 * whichever matches, so the time does not tell which one did.
 */

ngx_int_t
ngx_http_clinic_tokens_match(ngx_array_t *tokens, u_char *given, size_t len)
{
    ngx_str_t   *t;
    ngx_uint_t   i, match;

    t = tokens->elts;
    match = 0;

    for (i = 0; i < tokens->nelts; i++) {
        match |= ngx_http_clinic_token_equal(&t[i], given, len);
    }

    return match;
}


/*
 * Reads a file of tokens, one a line (ngx_str_t into *tokens, in cf->pool):
 * blank lines and lines starting with "#" are skipped, spaces, tabs and a
 * CR around a token are not part of it.  Errors name the file and line;
 * a file without a token is an error too.
 */

ngx_int_t
ngx_http_clinic_read_tokens(ngx_conf_t *cf, ngx_str_t *name,
    ngx_array_t **tokens, size_t min)
{
    size_t        size;
    u_char       *buf;
    ssize_t       n;
    ngx_fd_t      fd;
    ngx_int_t     rc;
    ngx_str_t     path;
    ngx_array_t  *a;

    fd = ngx_http_clinic_open_conf_file(cf, name, "token", &path);
    if (fd == NGX_INVALID_FILE) {
        return NGX_ERROR;
    }

    /* one byte more than allowed tells a file that is too big */

    buf = ngx_alloc(NGX_HTTP_CLINIC_TOKENS_MAX + 1, cf->log);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    size = 0;

    do {
        n = ngx_read_fd(fd, buf + size, NGX_HTTP_CLINIC_TOKENS_MAX + 1 - size);
        if (n > 0) {
            size += n;
        }
    } while (n > 0 && size <= NGX_HTTP_CLINIC_TOKENS_MAX);

    ngx_close_file(fd);

    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read token file \"%V\"", &path);
        rc = NGX_ERROR;

    } else if (size > NGX_HTTP_CLINIC_TOKENS_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "token file \"%V\" is over %uz bytes", &path,
                           (size_t) NGX_HTTP_CLINIC_TOKENS_MAX);
        rc = NGX_ERROR;

    } else {
        a = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));

        rc = (a == NULL) ? NGX_ERROR
             : ngx_http_clinic_parse_tokens(cf, &path, buf, size, a, min);

        if (rc == NGX_OK) {
            *tokens = a;
        }
    }

    ngx_explicit_memzero(buf, size);
    ngx_free(buf);

    return rc;
}


static ngx_int_t
ngx_http_clinic_parse_tokens(ngx_conf_t *cf, ngx_str_t *path, u_char *buf,
    size_t n, ngx_array_t *tokens, size_t min)
{
    u_char      *p, *q, *r, *eol, *end;
    ngx_str_t   *t;
    ngx_uint_t   line;

    end = buf + n;
    line = 0;

    for (p = buf; p < end; p = eol + 1) {
        line++;

        eol = ngx_strlchr(p, end, '\n');
        if (eol == NULL) {
            eol = end;
        }

        q = eol;

        while (p < q && (*p == ' ' || *p == '\t')) {
            p++;
        }

        while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) {
            q--;
        }

        if (p == q || *p == '#') {
            continue;
        }

        if ((size_t) (q - p) < min
            || q - p >= NGX_HTTP_CLINIC_SECRET_MAX)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "token in \"%V\" line %ui must be %uz to %uz "
                               "characters", path, line, min,
                               (size_t) NGX_HTTP_CLINIC_SECRET_MAX - 1);
            return NGX_ERROR;
        }

        for (r = p; r < q; r++) {
            if (*r <= 0x20 || *r >= 0x7f) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "token in \"%V\" line %ui must be "
                                   "printable characters without spaces",
                                   path, line);
                return NGX_ERROR;
            }
        }

        t = ngx_array_push(tokens);
        if (t == NULL) {
            return NGX_ERROR;
        }

        t->len = q - p;
        t->data = ngx_pnalloc(cf->pool, t->len);
        if (t->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(t->data, p, t->len);
    }

    if (tokens->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "token file \"%V\" holds no token", path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* reads a one-line secret; trailing whitespace is not part of it */

ngx_int_t
ngx_http_clinic_read_secret(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *value, size_t min)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_int_t        rc;
    ngx_str_t        path;
    u_char           buf[NGX_HTTP_CLINIC_SECRET_MAX];

    fd = ngx_http_clinic_open_conf_file(cf, name, "secret", &path);
    if (fd == NGX_INVALID_FILE) {
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));
    ngx_close_file(fd);

    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read secret file \"%V\"", &path);
        return NGX_ERROR;
    }

    rc = ngx_http_clinic_copy_secret(cf, &path, buf, n, value, min);

    ngx_explicit_memzero(buf, sizeof(buf));

    return rc;
}


static ngx_int_t
ngx_http_clinic_copy_secret(ngx_conf_t *cf, ngx_str_t *path, u_char *buf,
    ssize_t n, ngx_str_t *value, size_t min)
{
    size_t  i;

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'
                     || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
    {
        n--;
    }

    for (i = 0; i < (size_t) n; i++) {
        if (buf[i] <= 0x20 || buf[i] >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "secret file \"%V\" must hold one line of "
                               "printable characters", path);
            return NGX_ERROR;
        }
    }

    if ((size_t) n < min || n >= NGX_HTTP_CLINIC_SECRET_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "secret in \"%V\" must be %uz to %uz characters",
                           path, min, (size_t) NGX_HTTP_CLINIC_SECRET_MAX - 1);
        return NGX_ERROR;
    }

    value->data = ngx_pnalloc(cf->pool, n);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, buf, n);
    value->len = n;

    return NGX_OK;
}


/* the pure parsers' allocator, on an nginx pool */

void
ngx_http_clinic_pool_alloc(ngx_pool_t *pool, ngx_http_clinic_alloc_t *a)
{
    a->alloc = ngx_http_clinic_pool_alloc_fn;
    a->ctx = pool;
}


static void *
ngx_http_clinic_pool_alloc_fn(void *ctx, size_t size)
{
    return ngx_palloc(ctx, size);
}


/* a file named in the configuration, relative to the prefix; path is set */

static ngx_fd_t
ngx_http_clinic_open_conf_file(ngx_conf_t *cf, ngx_str_t *name,
    const char *what, ngx_str_t *path)
{
    ngx_fd_t  fd;

    *path = *name;

    if (ngx_conf_full_name(cf->cycle, path, 1) != NGX_OK) {
        return NGX_INVALID_FILE;
    }

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot open %s file \"%V\"", what, path);
    }

    return fd;
}
