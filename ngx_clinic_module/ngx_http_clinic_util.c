
/*
 * Small helpers shared by the handlers: JSON answers, tenant keys,
 * client abort detection and constant-time token comparison.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_redis.h"


static void ngx_http_clinic_json_cleanup(void *data);
static void ngx_http_clinic_purge_reply(void *data, redisReply *reply);


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
    char                *text;
    size_t               len;
    ngx_buf_t           *b;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_clinic_json_cleanup;
    cln->data = json;

    text = json_dumps(json, JSON_COMPACT);
    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(text);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        free(text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, text, len);
    *b->last++ = '\n';
    free(text);

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
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


static void
ngx_http_clinic_json_cleanup(void *data)
{
    json_decref(data);
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


/*
 * A read event handler for requests that wait on Redis: when the client
 * goes away the request is finalized, and its pool cleanup detaches the
 * Redis operation so the late reply is dropped.
 */

void
ngx_http_clinic_check_broken(ngx_http_request_t *r)
{
    int                n;
    char               buf[1];
    ngx_err_t          err;
    ngx_event_t       *rev;
    ngx_connection_t  *c;

    c = r->connection;
    rev = c->read;

    if (c->error) {
        return;
    }

#if (NGX_HTTP_V2)
    if (r->stream) {
        return;
    }
#endif

    n = recv(c->fd, buf, 1, MSG_PEEK);
    err = ngx_socket_errno;

    if (n > 0) {
        /* pipelined data: leave it for later */
        if ((ngx_event_flags & NGX_USE_LEVEL_EVENT) && rev->active) {
            (void) ngx_del_event(rev, NGX_READ_EVENT, 0);
        }

        return;
    }

    if (n == -1 && err == NGX_EAGAIN) {
        return;
    }

    rev->eof = 1;
    c->error = 1;

    ngx_log_error(NGX_LOG_INFO, c->log, err,
                  "clinic: client closed the connection while waiting "
                  "for redis");

    ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
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
 * Learns the tenant's purge generation (clinic:{T}:purge) at most once per
 * interval, in the background: the request does not wait, and a purge on
 * another node reaches this worker's pages within the interval.
 */

void
ngx_http_clinic_purge_poll(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf, ngx_msec_t interval)
{
    size_t      lens[2];
    ngx_str_t   key;
    const char *argv[2];

    if (cscf->purge_polling
        || (cscf->purge_checked
            && ngx_current_msec - cscf->purge_checked < interval))
    {
        return;
    }

    if (ngx_http_clinic_key(r->pool, cscf, "purge", NULL, &key) != NGX_OK) {
        return;
    }

    cscf->purge_checked = ngx_current_msec;

    argv[0] = "GET";
    lens[0] = 3;
    argv[1] = (const char *) key.data;
    lens[1] = key.len;

    /* the key is copied into the command: no request memory is kept */

    if (ngx_http_clinic_redis_send(cscf->redis, NULL, 2, argv, lens,
                                   ngx_http_clinic_purge_reply, cscf, NULL)
        == NGX_OK)
    {
        cscf->purge_polling = 1;
    }
}


static void
ngx_http_clinic_purge_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_srv_conf_t *cscf = data;

    ngx_int_t  n;

    cscf->purge_polling = 0;

    if (reply && reply->type == REDIS_REPLY_STRING) {
        n = ngx_atoi((u_char *) reply->str, reply->len);

        if (n > 0) {
            cscf->purge_gen = n;
        }
    }
}
