
/*
 * clinic_admin: the tenant's inbox and admin API (docs/api.md).  Every
 * route but the inbox app's own files is authorised by one of the
 * tenant's bearer tokens and reads or changes only keys under the
 * tenant's prefix.  Every answer carries the strict headers of
 * ngx_http_clinic_admin_headers(): nothing is cached, framed or sniffed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_text.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_content.h"
#include "ngx_http_clinic_pagecache.h"
#include "ngx_http_clinic_store.h"
#include "ngx_http_clinic_inbox.h"
#include "ngx_http_clinic_admin.h"


#define NGX_HTTP_CLINIC_ADMIN_LIMIT      20
#define NGX_HTTP_CLINIC_ADMIN_LIMIT_MAX  100
#define NGX_HTTP_CLINIC_ID_MAX           41
#define NGX_HTTP_CLINIC_CSV_PAGE         100
#define NGX_HTTP_CLINIC_CSV_COLUMNS      64


typedef enum {
    NGX_HTTP_CLINIC_ADMIN_LIST = 0,
    NGX_HTTP_CLINIC_ADMIN_GET,
    NGX_HTTP_CLINIC_ADMIN_DELETE,
    NGX_HTTP_CLINIC_ADMIN_MARK,
    NGX_HTTP_CLINIC_ADMIN_CSV,
    NGX_HTTP_CLINIC_ADMIN_PURGE
} ngx_http_clinic_admin_action_e;


typedef struct {
    ngx_http_request_t              *r;
    ngx_uint_t                       action;
    ngx_uint_t                       limit;
    ngx_uint_t                       purged;     /* L1 entries, this node */
    const char                      *unavailable; /* the 503's message */

    /* the CSV export: two passes of pages, column names then rows */
    ngx_http_clinic_srv_conf_t      *cscf;
    ngx_str_t                        stream;
    ngx_str_t                        handled;
    ngx_array_t                     *columns;    /* ngx_str_t */
    u_char                           cursor[NGX_HTTP_CLINIC_ID_MAX + 1];
    size_t                           cursor_len;
    u_char                          *csv;        /* one page, reused */
    size_t                           csv_size;
    ngx_buf_t                       *buf;
    unsigned                         rows:1;     /* the second pass */
} ngx_http_clinic_admin_ctx_t;


/*
 * The inbox's view of the stream, in one atomic step.  KEYS: the stream,
 * the handled marks (scored by the id's milliseconds).  ARGV: XRANGE or
 * XREVRANGE, its two ends, the count.  Returns {page, a 0/1 mark per
 * entry, the stream's length, the marks of entries still in it}: marks
 * older than the oldest entry belong to entries retention trimmed.
 */

static const char  ngx_http_clinic_admin_list_script[] =
    "local page = redis.call(ARGV[1], KEYS[1], ARGV[2], ARGV[3],"
    " 'COUNT', ARGV[4])\n"
    "local marks = {}\n"
    "for i, e in ipairs(page) do\n"
    "  marks[i] = redis.call('ZSCORE', KEYS[2], e[1]) and 1 or 0\n"
    "end\n"
    "local handled = 0\n"
    "local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)\n"
    "if #first > 0 then\n"
    "  handled = redis.call('ZCOUNT', KEYS[2],"
    " string.match(first[1][1], '^%d+'), '+inf')\n"
    "end\n"
    "return {page, marks, redis.call('XLEN', KEYS[1]), handled}\n";


/*
 * Marks (ARGV[3] "1") or unmarks an entry that exists: 0 when it does
 * not.  ARGV: the id, its milliseconds.  Drops the marks of entries
 * retention trimmed on the way.
 */

static const char  ngx_http_clinic_admin_mark_script[] =
    "if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then\n"
    "  return 0\n"
    "end\n"
    "if ARGV[3] == '1' then\n"
    "  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
    "else\n"
    "  redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "end\n"
    "local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf',"
    " '(' .. string.match(first[1][1], '^%d+'))\n"
    "return 1\n";


/* erasure: the entry and its handled mark; the number of entries erased */

static const char  ngx_http_clinic_admin_erase_script[] =
    "local n = redis.call('XDEL', KEYS[1], ARGV[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "return n\n";


/* the headers of every answer, the inbox app's and the API's */

static ngx_str_t  ngx_http_clinic_admin_csp = ngx_string(
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'");
static ngx_str_t  ngx_http_clinic_admin_no_store = ngx_string("no-store");
static ngx_str_t  ngx_http_clinic_admin_deny = ngx_string("DENY");
static ngx_str_t  ngx_http_clinic_admin_no_referrer =
    ngx_string("no-referrer");
static ngx_str_t  ngx_http_clinic_admin_nosniff = ngx_string("nosniff");
static ngx_str_t  ngx_http_clinic_admin_csv_name =
    ngx_string("attachment; filename=\"submissions.csv\"");


static ngx_int_t ngx_http_clinic_admin_headers(ngx_http_request_t *r);
static ngx_int_t ngx_http_clinic_admin_app(ngx_http_request_t *r,
    ngx_str_t *path);
static ngx_int_t ngx_http_clinic_admin_authorized(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf);
static ngx_int_t ngx_http_clinic_admin_submissions(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *id);
static ngx_int_t ngx_http_clinic_admin_range(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, const char **argv, size_t *lens,
    const char **error);
static ngx_int_t ngx_http_clinic_admin_cursor(ngx_http_request_t *r,
    const char *name, ngx_uint_t first, const char **arg, size_t *len);
static ngx_int_t ngx_http_clinic_valid_id(ngx_str_t *id);
static void ngx_http_clinic_admin_reply(void *data, redisReply *reply);
static ngx_int_t ngx_http_clinic_admin_list(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, redisReply *reply);
static ngx_int_t ngx_http_clinic_admin_view(redisReply *reply);
static json_t *ngx_http_clinic_admin_entry(redisReply *entry,
    ngx_uint_t handled);
static ngx_int_t ngx_http_clinic_admin_csv(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf);
static ngx_int_t ngx_http_clinic_admin_csv_next(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx);
static void ngx_http_clinic_admin_csv_reply(void *data, redisReply *reply);
static ngx_int_t ngx_http_clinic_admin_csv_page(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, redisReply *reply);
static ngx_int_t ngx_http_clinic_admin_csv_names(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, redisReply *page);
static ngx_int_t ngx_http_clinic_admin_csv_rows(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, redisReply *page, redisReply *marks,
    ngx_uint_t header);
static u_char *ngx_http_clinic_csv_cell(u_char *p, u_char *s, size_t len,
    ngx_uint_t guard);
static void ngx_http_clinic_admin_csv_writer(ngx_http_request_t *r);
static json_t *ngx_http_clinic_json_string(const char *s, size_t len);
static ngx_int_t ngx_http_clinic_admin_purge(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *slug);
static void ngx_http_clinic_admin_purged(void *data, int64_t generation);
static ngx_int_t ngx_http_clinic_admin_lint(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf);
static ngx_int_t ngx_http_clinic_admin_send(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf, ngx_http_clinic_admin_ctx_t *ctx,
    int argc, const char **argv, size_t *lens);
static ngx_int_t ngx_http_clinic_admin_wait(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, ngx_int_t rc);
static void ngx_http_clinic_admin_done(ngx_http_request_t *r, ngx_int_t rc);
static json_t *ngx_http_clinic_json_strings(ngx_http_clinic_article_str_t *a,
    size_t n);


ngx_int_t
ngx_http_clinic_admin_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                    path, id;
    ngx_http_core_loc_conf_t    *core;
    ngx_http_clinic_srv_conf_t  *cscf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);
    core = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_clinic_admin_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->uri.len < core->name.len
        || ngx_strncmp(r->uri.data, core->name.data, core->name.len) != 0)
    {
        path.len = 0;
        path.data = NULL;
        rc = NGX_DECLINED;

    } else {
        path.data = r->uri.data + core->name.len;
        path.len = r->uri.len - core->name.len;

        /* the app's own files hold no data: they need no token */

        rc = ngx_http_clinic_admin_app(r, &path);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        rc = NGX_OK;
    }

    if (!ngx_http_clinic_admin_authorized(r, cscf)) {
        r->headers_out.www_authenticate =
                                     ngx_list_push(&r->headers_out.headers);
        if (r->headers_out.www_authenticate == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.www_authenticate->hash = 1;
        ngx_str_set(&r->headers_out.www_authenticate->key,
                    "WWW-Authenticate");
        ngx_str_set(&r->headers_out.www_authenticate->value,
                    "Bearer realm=\"clinic admin\"");

        return ngx_http_clinic_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                          "a valid bearer token is required");
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "no such admin resource");
    }

    if (path.len == 15 && ngx_strncmp(path.data, "submissions.csv", 15) == 0)
    {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_clinic_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_clinic_admin_csv(r, cscf);
    }

    if (path.len >= 11
        && ngx_strncmp(path.data, "submissions", 11) == 0
        && (path.len == 11 || path.data[11] == '/'))
    {
        id.data = path.data + 12;
        id.len = path.len > 12 ? path.len - 12 : 0;

        return ngx_http_clinic_admin_submissions(r, cscf, &id);
    }

    if (path.len == 4 && ngx_strncmp(path.data, "lint", 4) == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_clinic_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_clinic_admin_lint(r, cscf);
    }

    if (path.len >= 5 && ngx_strncmp(path.data, "purge", 5) == 0
        && (path.len == 5 || path.data[5] == '/'))
    {
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_clinic_not_allowed(r, "POST");
        }

        id.data = path.data + 6;
        id.len = path.len > 6 ? path.len - 6 : 0;

        return ngx_http_clinic_admin_purge(r, cscf, &id);
    }

    return ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                      "no such admin resource");
}


/*
 * Every answer: nothing cached (submission data), framed, sniffed or
 * leaked in a Referer; a CSP that lets the app load its own files only.
 */

static ngx_int_t
ngx_http_clinic_admin_headers(ngx_http_request_t *r)
{
    if (ngx_http_clinic_set_header(r, "Content-Security-Policy",
                                   &ngx_http_clinic_admin_csp)
            != NGX_OK
        || ngx_http_clinic_set_header(r, "Cache-Control",
                                      &ngx_http_clinic_admin_no_store)
            != NGX_OK
        || ngx_http_clinic_set_header(r, "X-Frame-Options",
                                      &ngx_http_clinic_admin_deny)
            != NGX_OK
        || ngx_http_clinic_set_header(r, "Referrer-Policy",
                                      &ngx_http_clinic_admin_no_referrer)
            != NGX_OK
        || ngx_http_clinic_set_header(r, "X-Content-Type-Options",
                                      &ngx_http_clinic_admin_nosniff)
            != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the inbox app: the page, its script and its style; NGX_DECLINED: none */

static ngx_int_t
ngx_http_clinic_admin_app(ngx_http_request_t *r, ngx_str_t *path)
{
    ngx_buf_t  *b;
    ngx_str_t   type, body;

    if (ngx_http_clinic_inbox_file(path, &type, &body) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_clinic_not_allowed(r, "GET, HEAD");
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body.data;
    b->last = body.data + body.len;
    b->memory = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = body.len;
    r->headers_out.content_type = type;
    r->headers_out.content_type_len = ngx_strlchr(type.data,
                                                  type.data + type.len, ';')
                                      - type.data;
    r->headers_out.content_type_lowcase = NULL;

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    return ngx_http_clinic_send_body(r, b);
}


static ngx_int_t
ngx_http_clinic_admin_authorized(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf)
{
    ngx_str_t  *auth;

    if (r->headers_in.authorization == NULL || cscf->admin_tokens == NULL) {
        return 0;
    }

    auth = &r->headers_in.authorization->value;

    if (auth->len < 7 || ngx_strncasecmp(auth->data, (u_char *) "Bearer ", 7))
    {
        return 0;
    }

    return ngx_http_clinic_tokens_match(cscf->admin_tokens, auth->data + 7,
                                        auth->len - 7);
}


/*
 * submissions (the list), submissions/<id> (one, or its erasure) and
 * submissions/<id>/handled (its mark): each one script, run atomically
 */

static ngx_int_t
ngx_http_clinic_admin_submissions(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *id)
{
    int                           argc;
    u_char                       *dash;
    size_t                        lens[10];
    ngx_int_t                     rc;
    ngx_str_t                     suffix;
    const char                   *argv[10], *error;
    ngx_http_clinic_admin_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_clinic_admin_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->r = r;
    ctx->unavailable = "submissions are temporarily unavailable, "
                       "try again shortly";

    if (ngx_http_clinic_store_stream_key(r->pool, cscf, &ctx->stream)
        != NGX_OK
        || ngx_http_clinic_store_handled_key(r->pool, cscf, &ctx->handled)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "EVAL";
    lens[0] = 4;
    argv[2] = "2";
    lens[2] = 1;
    argv[3] = (const char *) ctx->stream.data;
    lens[3] = ctx->stream.len;
    argv[4] = (const char *) ctx->handled.data;
    lens[4] = ctx->handled.len;

    if (id->len == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_clinic_not_allowed(r, "GET, HEAD");
        }

        ctx->action = NGX_HTTP_CLINIC_ADMIN_LIST;

        rc = ngx_http_clinic_admin_range(r, ctx, argv, lens, &error);

        if (rc == NGX_DECLINED) {
            return ngx_http_clinic_send_error(r, NGX_HTTP_BAD_REQUEST, error);
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clinic_admin_send(r, cscf, ctx, 9, argv, lens);
    }

    /* <id> or <id>/handled */

    suffix.data = ngx_strlchr(id->data, id->data + id->len, '/');
    suffix.len = 0;

    if (suffix.data) {
        suffix.len = id->data + id->len - suffix.data;
        id->len = suffix.data - id->data;

        if (suffix.len != 8 || ngx_strncmp(suffix.data, "/handled", 8) != 0)
        {
            return ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                              "no such admin resource");
        }
    }

    switch (ngx_http_clinic_valid_id(id)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        return ngx_http_clinic_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "a submission id is two numbers of at most 64 bits");

    default:
        return ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "no such submission");
    }

    if (suffix.len) {
        if (r->method != NGX_HTTP_POST && r->method != NGX_HTTP_DELETE) {
            return ngx_http_clinic_not_allowed(r, "POST, DELETE");
        }

        dash = ngx_strlchr(id->data, id->data + id->len, '-');

        ctx->action = NGX_HTTP_CLINIC_ADMIN_MARK;
        argv[1] = ngx_http_clinic_admin_mark_script;
        lens[1] = sizeof(ngx_http_clinic_admin_mark_script) - 1;
        argv[5] = (const char *) id->data;
        lens[5] = id->len;
        argv[6] = (const char *) id->data;      /* the score: milliseconds */
        lens[6] = dash - id->data;
        argv[7] = (r->method == NGX_HTTP_POST) ? "1" : "0";
        lens[7] = 1;
        argc = 8;

    } else if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        ctx->action = NGX_HTTP_CLINIC_ADMIN_GET;
        argv[1] = ngx_http_clinic_admin_list_script;
        lens[1] = sizeof(ngx_http_clinic_admin_list_script) - 1;
        argv[5] = "XRANGE";
        lens[5] = 6;
        argv[6] = (const char *) id->data;
        lens[6] = id->len;
        argv[7] = (const char *) id->data;
        lens[7] = id->len;
        argv[8] = "1";
        lens[8] = 1;
        argc = 9;

    } else if (r->method == NGX_HTTP_DELETE) {
        ctx->action = NGX_HTTP_CLINIC_ADMIN_DELETE;
        argv[1] = ngx_http_clinic_admin_erase_script;
        lens[1] = sizeof(ngx_http_clinic_admin_erase_script) - 1;
        argv[5] = (const char *) id->data;
        lens[5] = id->len;
        argc = 6;

    } else {
        return ngx_http_clinic_not_allowed(r, "GET, HEAD, DELETE");
    }

    return ngx_http_clinic_admin_send(r, cscf, ctx, argc, argv, lens);
}


/*
 * The list's parameters into the list script's ARGV (argv[5] to [8]):
 * order (asc, the default, or desc), after and before (exclusive ends),
 * limit.  One more than the limit is asked for, to know whether a page
 * follows.  NGX_DECLINED: a bad parameter, *error says which.
 */

static ngx_int_t
ngx_http_clinic_admin_range(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, const char **argv, size_t *lens,
    const char **error)
{
    u_char      *count;
    size_t       after_len, before_len;
    ngx_int_t    n, desc;
    ngx_str_t    arg;
    const char  *after, *before;

    ctx->limit = NGX_HTTP_CLINIC_ADMIN_LIMIT;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &arg) == NGX_OK) {
        n = ngx_atoi(arg.data, arg.len);
        if (n == NGX_ERROR || n < 1 || n > NGX_HTTP_CLINIC_ADMIN_LIMIT_MAX) {
            *error = "limit must be a number from 1 to 100";
            return NGX_DECLINED;
        }

        ctx->limit = n;
    }

    desc = 0;

    if (ngx_http_arg(r, (u_char *) "order", 5, &arg) == NGX_OK) {
        if (arg.len == 4 && ngx_strncmp(arg.data, "desc", 4) == 0) {
            desc = 1;

        } else if (arg.len != 3 || ngx_strncmp(arg.data, "asc", 3) != 0) {
            *error = "order must be asc or desc";
            return NGX_DECLINED;
        }
    }

    after = "-";
    after_len = 1;
    before = "+";
    before_len = 1;

    n = ngx_http_clinic_admin_cursor(r, "after", 1, &after, &after_len);
    if (n == NGX_DECLINED) {
        *error = "after must be a submission id";
        return NGX_DECLINED;
    }

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    n = ngx_http_clinic_admin_cursor(r, "before", 0, &before, &before_len);
    if (n == NGX_DECLINED) {
        *error = "before must be a submission id";
        return NGX_DECLINED;
    }

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    count = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (count == NULL) {
        return NGX_ERROR;
    }

    argv[1] = ngx_http_clinic_admin_list_script;
    lens[1] = sizeof(ngx_http_clinic_admin_list_script) - 1;

    if (desc) {
        argv[5] = "XREVRANGE";
        lens[5] = 9;
        argv[6] = before;
        lens[6] = before_len;
        argv[7] = after;
        lens[7] = after_len;

    } else {
        argv[5] = "XRANGE";
        lens[5] = 6;
        argv[6] = after;
        lens[6] = after_len;
        argv[7] = before;
        lens[7] = before_len;
    }

    argv[8] = (const char *) count;
    lens[8] = ngx_sprintf(count, "%ui", ctx->limit + 1) - count;

    return NGX_OK;
}


/*
 * The argument name, an id, as an exclusive end of a range: "(<id>".
 * NGX_DECLINED: not an id Redis takes as one (unless first, the first id,
 * 0-0, cannot be an exclusive end); NGX_OK also without the argument.
 */

static ngx_int_t
ngx_http_clinic_admin_cursor(ngx_http_request_t *r, const char *name,
    ngx_uint_t first, const char **arg, size_t *len)
{
    u_char     *p;
    size_t      i;
    ngx_str_t   value;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &value) != NGX_OK) {
        return NGX_OK;
    }

    if (ngx_http_clinic_valid_id(&value) != NGX_OK) {
        return NGX_DECLINED;
    }

    for (i = 0; i < value.len; i++) {
        if (value.data[i] != '0' && value.data[i] != '-') {
            break;
        }
    }

    if (i == value.len && !first) {
        return NGX_DECLINED;
    }

    /* "(" makes the end exclusive (Redis 6.2 and later) */

    p = ngx_pnalloc(r->pool, value.len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p[0] = '(';
    ngx_memcpy(p + 1, value.data, value.len);

    *arg = (const char *) p;
    *len = value.len + 1;

    return NGX_OK;
}


/* queues the command; the reply handler answers, or 503 when Redis is down */

static ngx_int_t
ngx_http_clinic_admin_send(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf, ngx_http_clinic_admin_ctx_t *ctx,
    int argc, const char **argv, size_t *lens)
{
    ngx_int_t  rc;

    rc = ngx_http_clinic_redis_send(cscf->redis, r->pool, argc, argv, lens,
                                    ngx_http_clinic_admin_reply, ctx, NULL);

    return ngx_http_clinic_admin_wait(r, ctx, rc);
}


/*
 * After a command was handed to Redis (rc of the send): the request waits
 * for the reply handler, or is answered 503 at once while Redis is down.
 */

static ngx_int_t
ngx_http_clinic_admin_wait(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, ngx_int_t rc)
{
    if (rc == NGX_DECLINED) {
        return ngx_http_clinic_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          ctx->unavailable);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->main->count++;

    return NGX_DONE;
}


/* the reply handlers' end: the answer is rc */

static void
ngx_http_clinic_admin_done(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/*
 * A stream id: MS-SEQ, both decimal.  NGX_DECLINED: shaped like one, but
 * a part is over 64 bits (or it is the very last id, which nothing can
 * come after), so Redis would answer an error; NGX_ERROR: not an id.
 */

static ngx_int_t
ngx_http_clinic_valid_id(ngx_str_t *id)
{
    size_t      i, dash;
    uint64_t    v, part[2];
    ngx_uint_t  n, big;

    if (id->len == 0 || id->len > NGX_HTTP_CLINIC_ID_MAX) {
        return NGX_ERROR;
    }

    dash = 0;
    n = 0;
    v = 0;
    big = 0;

    for (i = 0; i < id->len; i++) {
        if (id->data[i] >= '0' && id->data[i] <= '9') {
            if (v > (UINT64_MAX - (id->data[i] - '0')) / 10) {
                big = 1;
            }

            v = v * 10 + (id->data[i] - '0');
            continue;
        }

        if (id->data[i] == '-' && dash == 0 && i > 0 && i + 1 < id->len) {
            dash = i;
            part[n++] = v;
            v = 0;
            continue;
        }

        return NGX_ERROR;
    }

    if (!dash) {
        return NGX_ERROR;
    }

    part[n] = v;

    if (big || (part[0] == UINT64_MAX && part[1] == UINT64_MAX)) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_clinic_admin_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_admin_ctx_t *ctx = data;

    json_t              *json;
    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->r;
    c = r->connection;

    r->read_event_handler = ngx_http_block_reading;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply) {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "clinic: redis error: %*s",
                          (size_t) ngx_min(reply->len, 200), reply->str);
        }

        rc = ngx_http_clinic_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        ctx->unavailable);
        goto done;
    }

    switch (ctx->action) {

    case NGX_HTTP_CLINIC_ADMIN_LIST:
        rc = ngx_http_clinic_admin_list(r, ctx, reply);
        break;

    case NGX_HTTP_CLINIC_ADMIN_GET:
        if (ngx_http_clinic_admin_view(reply) != NGX_OK) {
            rc = ngx_http_clinic_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "unexpected storage reply");
            break;
        }

        if (reply->element[0]->elements == 0) {
            rc = ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "no such submission");
            break;
        }

        json = ngx_http_clinic_admin_entry(reply->element[0]->element[0],
                                           reply->element[1]->element[0]
                                               ->integer);
        if (json == NULL) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        rc = ngx_http_clinic_send_json(r, NGX_HTTP_OK, json);
        break;

    default: /* NGX_HTTP_CLINIC_ADMIN_DELETE, NGX_HTTP_CLINIC_ADMIN_MARK */
        if (reply->type != REDIS_REPLY_INTEGER || reply->integer == 0) {
            rc = ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "no such submission");
            break;
        }

        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->header_only = 1;
        r->headers_out.content_length_n = 0;
        rc = ngx_http_send_header(r);
        break;
    }

done:

    ngx_http_clinic_admin_done(r, rc);
}


static ngx_int_t
ngx_http_clinic_admin_list(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, redisReply *reply)
{
    size_t       i, n;
    json_t      *json, *list, *entry, *next;
    int64_t      unread;
    redisReply  *page, *last;

    if (ngx_http_clinic_admin_view(reply) != NGX_OK) {
        return ngx_http_clinic_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "unexpected storage reply");
    }

    page = reply->element[0];

    list = json_array();
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = ngx_min(page->elements, ctx->limit);

    for (i = 0; i < n; i++) {
        entry = ngx_http_clinic_admin_entry(page->element[i],
                                       reply->element[1]->element[i]->integer);
        if (entry == NULL || json_array_append_new(list, entry) != 0) {
            json_decref(list);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* one more than asked for was fetched to know whether a page follows */

    next = json_null();

    if (page->elements > ctx->limit) {
        last = page->element[n - 1];
        json_decref(next);
        next = ngx_http_clinic_json_string(last->element[0]->str,
                                           last->element[0]->len);
    }

    unread = reply->element[2]->integer - reply->element[3]->integer;

    json = json_pack("{s:o,s:o,s:I,s:I}", "submissions", list, "next", next,
                     "total", (json_int_t) reply->element[2]->integer,
                     "unread", (json_int_t) ngx_max(unread, 0));
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clinic_send_json(r, NGX_HTTP_OK, json);
}


/*
 * NGX_OK when reply has the list script's shape: {page, marks, length,
 * handled}, a mark for every entry, every entry [id, [k1, v1, ...]]
 */

static ngx_int_t
ngx_http_clinic_admin_view(redisReply *reply)
{
    size_t       i;
    redisReply  *page, *marks, *e;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4
        || reply->element[0]->type != REDIS_REPLY_ARRAY
        || reply->element[1]->type != REDIS_REPLY_ARRAY
        || reply->element[2]->type != REDIS_REPLY_INTEGER
        || reply->element[3]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->elements != reply->element[0]->elements)
    {
        return NGX_ERROR;
    }

    page = reply->element[0];
    marks = reply->element[1];

    for (i = 0; i < page->elements; i++) {
        e = page->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
            || e->element[0]->type != REDIS_REPLY_STRING
            || e->element[1]->type != REDIS_REPLY_ARRAY
            || marks->element[i]->type != REDIS_REPLY_INTEGER)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* [id, [k1, v1, ...]] -> {"id","received","handled","fields":{...}} */

static json_t *
ngx_http_clinic_admin_entry(redisReply *entry, ngx_uint_t handled)
{
    size_t       i;
    json_t      *obj, *fields, *value;
    redisReply  *kv, *k, *v;

    obj = json_object();
    fields = json_object();

    if (obj == NULL || fields == NULL) {
        json_decref(obj);
        json_decref(fields);
        return NULL;
    }

    json_object_set_new(obj, "id",
                        ngx_http_clinic_json_string(entry->element[0]->str,
                                                    entry->element[0]->len));
    json_object_set_new(obj, "received", json_null());
    json_object_set_new(obj, "handled", json_boolean(handled));

    kv = entry->element[1];

    for (i = 0; i + 1 < kv->elements; i += 2) {
        k = kv->element[i];
        v = kv->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        value = ngx_http_clinic_json_string(v->str, v->len);

        if (k->len == 8 && ngx_strncmp(k->str, "received", 8) == 0) {
            json_object_set_new(obj, "received", value);
            continue;
        }

        /* keys are field names checked on the way in; NUL would cut them */

        if (memchr(k->str, '\0', k->len) != NULL) {
            json_decref(value);
            continue;
        }

        /* on failure (a key that is not UTF-8) jansson drops value itself */
        (void) json_object_setn_new(fields, k->str, k->len, value);
    }

    json_object_set_new(obj, "fields", fields);

    return obj;
}


static json_t *
ngx_http_clinic_json_string(const char *s, size_t len)
{
    json_t  *j;

    j = json_stringn(s, len);

    if (j == NULL) {
        /* not UTF-8: only something written around the module does that */
        j = json_string("\xef\xbf\xbd");
    }

    return j;
}


/*
 * The CSV export, in bounded memory: a first pass over the stream, a page
 * at a time, collects the column names (the fields in the order first
 * seen, at most NGX_HTTP_CLINIC_CSV_COLUMNS); the second writes the rows
 * a page at a time and asks Redis for the next page only once the client
 * has taken the last one.  A field first seen after the first pass (the
 * form changed meanwhile) is not exported.
 */

static ngx_int_t
ngx_http_clinic_admin_csv(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf)
{
    ngx_int_t                     rc;
    ngx_http_clinic_admin_ctx_t  *ctx;

    if (r->method == NGX_HTTP_HEAD) {
        r->headers_out.status = NGX_HTTP_OK;
        ngx_str_set(&r->headers_out.content_type, "text/csv; charset=utf-8");
        r->headers_out.content_type_len = sizeof("text/csv") - 1;
        r->header_only = 1;

        if (ngx_http_clinic_set_header(r, "Content-Disposition",
                                       &ngx_http_clinic_admin_csv_name)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_send_header(r);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_clinic_admin_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->r = r;
    ctx->cscf = cscf;
    ctx->action = NGX_HTTP_CLINIC_ADMIN_CSV;
    ctx->unavailable = "submissions are temporarily unavailable, "
                       "try again shortly";

    ctx->columns = ngx_array_create(r->pool, 8, sizeof(ngx_str_t));
    ctx->buf = ngx_calloc_buf(r->pool);

    if (ctx->columns == NULL || ctx->buf == NULL
        || ngx_http_clinic_store_stream_key(r->pool, cscf, &ctx->stream)
           != NGX_OK
        || ngx_http_clinic_store_handled_key(r->pool, cscf, &ctx->handled)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_clinic_module);

    rc = ngx_http_clinic_admin_csv_next(r, ctx);

    return ngx_http_clinic_admin_wait(r, ctx, rc);
}


/* asks for the page after the cursor; the rc of the send */

static ngx_int_t
ngx_http_clinic_admin_csv_next(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx)
{
    u_char       start[NGX_HTTP_CLINIC_ID_MAX + 2], count[NGX_INT_T_LEN];
    size_t       lens[9];
    const char  *argv[9];

    argv[0] = "EVAL";
    lens[0] = 4;
    argv[1] = ngx_http_clinic_admin_list_script;
    lens[1] = sizeof(ngx_http_clinic_admin_list_script) - 1;
    argv[2] = "2";
    lens[2] = 1;
    argv[3] = (const char *) ctx->stream.data;
    lens[3] = ctx->stream.len;
    argv[4] = (const char *) ctx->handled.data;
    lens[4] = ctx->handled.len;
    argv[5] = "XRANGE";
    lens[5] = 6;

    if (ctx->cursor_len) {
        start[0] = '(';
        ngx_memcpy(start + 1, ctx->cursor, ctx->cursor_len);
        argv[6] = (const char *) start;
        lens[6] = ctx->cursor_len + 1;

    } else {
        argv[6] = "-";
        lens[6] = 1;
    }

    argv[7] = "+";
    lens[7] = 1;
    argv[8] = (const char *) count;
    lens[8] = ngx_sprintf(count, "%d", NGX_HTTP_CLINIC_CSV_PAGE) - count;

    /* while Redis answers, a write event (limit_rate's timer) waits too */

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return ngx_http_clinic_redis_send(ctx->cscf->redis, r->pool, 9, argv,
                                      lens, ngx_http_clinic_admin_csv_reply,
                                      ctx, NULL);
}


static void
ngx_http_clinic_admin_csv_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_admin_ctx_t *ctx = data;

    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = ctx->r;

    r->read_event_handler = ngx_http_block_reading;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR
        || ngx_http_clinic_admin_view(reply) != NGX_OK)
    {
        if (reply) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "clinic: redis error: %*s",
                          (size_t) ngx_min(reply->len, 200), reply->str);
        }

        if (r->header_sent) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "clinic: CSV export cut short");
            rc = NGX_ERROR;

        } else {
            rc = ngx_http_clinic_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            ctx->unavailable);
        }

        ngx_http_clinic_admin_done(r, rc);
        return;
    }

    rc = ngx_http_clinic_admin_csv_page(r, ctx, reply);

    if (rc != NGX_DONE) {
        ngx_http_clinic_admin_done(r, rc);
    }
}


/*
 * One page of either pass.  NGX_DONE: the request waits, for Redis or
 * for the client to take what was written; else the request's end.
 */

static ngx_int_t
ngx_http_clinic_admin_csv_page(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, redisReply *reply)
{
    ngx_int_t                  rc;
    ngx_uint_t                 more, header;
    redisReply                *page, *last;
    ngx_chain_t                out;
    ngx_connection_t          *c;
    ngx_http_core_loc_conf_t  *clcf;

    c = r->connection;
    page = reply->element[0];
    more = (page->elements == NGX_HTTP_CLINIC_CSV_PAGE);
    header = (ctx->cursor_len == 0);

    if (page->elements) {
        last = page->element[page->elements - 1]->element[0];

        if (last->len > NGX_HTTP_CLINIC_ID_MAX) {
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->cursor, last->str, last->len);
        ctx->cursor_len = last->len;
    }

    if (!ctx->rows) {
        if (ngx_http_clinic_admin_csv_names(r, ctx, page) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (!more) {
            /* the second pass, from the start, after the header */

            ctx->rows = 1;
            ctx->cursor_len = 0;

            r->headers_out.status = NGX_HTTP_OK;
            r->headers_out.content_length_n = -1;
            ngx_str_set(&r->headers_out.content_type,
                        "text/csv; charset=utf-8");
            r->headers_out.content_type_len = sizeof("text/csv") - 1;

            if (ngx_http_clinic_set_header(r, "Content-Disposition",
                                           &ngx_http_clinic_admin_csv_name)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            rc = ngx_http_send_header(r);
            if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
                return rc;
            }
        }

        goto next;
    }

    if (ngx_http_clinic_admin_csv_rows(r, ctx, page, reply->element[1],
                                       header)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->buf->last_buf = !more;
    ctx->buf->last_in_chain = 1;
    ctx->buf->flush = 1;

    out.buf = ctx->buf;
    out.next = NULL;

    rc = ngx_http_output_filter(r, &out);

    if (rc == NGX_ERROR || !more) {
        return rc;
    }

    if (rc == NGX_AGAIN || r->buffered || c->buffered) {
        /* the next page once the client has taken this one */

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "clinic: CSV export waits for the client");

        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        r->write_event_handler = ngx_http_clinic_admin_csv_writer;
        r->read_event_handler = ngx_http_test_reading;

        if (!c->write->delayed) {
            ngx_add_timer(c->write, clcf->send_timeout);
        }

        if (ngx_handle_write_event(c->write, clcf->send_lowat) != NGX_OK) {
            return NGX_ERROR;
        }

        return NGX_DONE;
    }

next:

    rc = ngx_http_clinic_admin_csv_next(r, ctx);

    if (rc != NGX_OK) {
        if (r->header_sent) {
            return NGX_ERROR;
        }

        return rc == NGX_DECLINED
               ? ngx_http_clinic_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            ctx->unavailable)
               : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DONE;
}


/* the first pass: the field names not yet among the columns */

static ngx_int_t
ngx_http_clinic_admin_csv_names(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, redisReply *page)
{
    size_t       i, j, n;
    ngx_str_t   *col;
    redisReply  *kv, *k;

    for (i = 0; i < page->elements; i++) {
        kv = page->element[i]->element[1];

        for (j = 0; j + 1 < kv->elements; j += 2) {
            k = kv->element[j];

            if (k->type != REDIS_REPLY_STRING
                || (k->len == 8 && ngx_strncmp(k->str, "received", 8) == 0))
            {
                continue;
            }

            col = ctx->columns->elts;

            for (n = 0; n < ctx->columns->nelts; n++) {
                if (col[n].len == k->len
                    && ngx_strncmp(col[n].data, k->str, k->len) == 0)
                {
                    break;
                }
            }

            if (n < ctx->columns->nelts
                || ctx->columns->nelts == NGX_HTTP_CLINIC_CSV_COLUMNS)
            {
                continue;
            }

            col = ngx_array_push(ctx->columns);
            if (col == NULL) {
                return NGX_ERROR;
            }

            col->len = k->len;
            col->data = ngx_pnalloc(r->pool, k->len);
            if (col->data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(col->data, k->str, k->len);
        }
    }

    return NGX_OK;
}


/*
 * The second pass: a page of rows (after the header row on the first)
 * into ctx->buf, whose memory is reused: the client has taken the page
 * before.  Columns: id, received, status, then the fields.
 */

static ngx_int_t
ngx_http_clinic_admin_csv_rows(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, redisReply *page, redisReply *marks,
    ngx_uint_t header)
{
    size_t       i, j, m, n, size;
    u_char      *p;
    ngx_str_t   *col;
    redisReply  *kv, *k, *v, *id;

    col = ctx->columns->elts;
    n = ctx->columns->nelts;

    /* the worst case: every byte a quote, a guard, quotes and a comma */

    size = sizeof("\"id\",\"received\",\"status\"\r\n") - 1;

    for (j = 0; j < n; j++) {
        size += 2 * col[j].len + 4;
    }

    for (i = 0; i < page->elements; i++) {
        kv = page->element[i]->element[1];
        size += 2 * page->element[i]->element[0]->len + 4
                + sizeof("\"\",\"handled\",") + 2 + n * 4;

        for (j = 0; j + 1 < kv->elements; j += 2) {
            if (kv->element[j + 1]->type == REDIS_REPLY_STRING) {
                size += 2 * kv->element[j + 1]->len + 4;
            }
        }
    }

    if (size > ctx->csv_size) {
        if (ctx->csv) {
            (void) ngx_pfree(r->pool, ctx->csv);
        }

        size = ngx_max(size, 2 * ctx->csv_size);

        ctx->csv = ngx_palloc(r->pool, size);
        if (ctx->csv == NULL) {
            return NGX_ERROR;
        }

        ctx->csv_size = size;
    }

    p = ctx->csv;

    if (header) {
        p = ngx_cpymem(p, "\"id\",\"received\",\"status\"",
                       sizeof("\"id\",\"received\",\"status\"") - 1);

        for (j = 0; j < n; j++) {
            *p++ = ',';
            p = ngx_http_clinic_csv_cell(p, col[j].data, col[j].len, 0);
        }

        *p++ = CR;
        *p++ = LF;
    }

    for (i = 0; i < page->elements; i++) {
        id = page->element[i]->element[0];
        kv = page->element[i]->element[1];

        p = ngx_http_clinic_csv_cell(p, (u_char *) id->str, id->len, 0);
        *p++ = ',';

        /* received: found among the fields, else empty */

        v = NULL;

        for (j = 0; j + 1 < kv->elements; j += 2) {
            k = kv->element[j];

            if (k->type == REDIS_REPLY_STRING && k->len == 8
                && ngx_strncmp(k->str, "received", 8) == 0
                && kv->element[j + 1]->type == REDIS_REPLY_STRING)
            {
                v = kv->element[j + 1];
                break;
            }
        }

        p = v ? ngx_http_clinic_csv_cell(p, (u_char *) v->str, v->len, 0)
              : ngx_cpymem(p, "\"\"", 2);

        p = marks->element[i]->integer
            ? ngx_cpymem(p, ",\"handled\"", 10)
            : ngx_cpymem(p, ",\"unread\"", 9);

        for (j = 0; j < n; j++) {
            *p++ = ',';
            v = NULL;

            /* an entry has a handful of fields: a scan is cheap enough */

            for (m = 0; m + 1 < kv->elements; m += 2) {
                k = kv->element[m];

                if (k->type == REDIS_REPLY_STRING && k->len == col[j].len
                    && ngx_strncmp(k->str, col[j].data, k->len) == 0
                    && kv->element[m + 1]->type == REDIS_REPLY_STRING)
                {
                    v = kv->element[m + 1];
                    break;
                }
            }

            p = v ? ngx_http_clinic_csv_cell(p, (u_char *) v->str, v->len, 1)
                  : ngx_cpymem(p, "\"\"", 2);
        }

        *p++ = CR;
        *p++ = LF;
    }

    ngx_memzero(ctx->buf, sizeof(ngx_buf_t));

    /* a last page without rows is only the end: a buffer without memory */

    ctx->buf->pos = ctx->csv;
    ctx->buf->last = p;
    ctx->buf->memory = (p != ctx->csv);

    return NGX_OK;
}


/*
 * One quoted cell (RFC 4180: quotes doubled).  A value a spreadsheet
 * would run as a formula (= + - @, a tab or CR first) gets a leading "'".
 */

static u_char *
ngx_http_clinic_csv_cell(u_char *p, u_char *s, size_t len, ngx_uint_t guard)
{
    size_t  i;

    *p++ = '"';

    if (guard && len
        && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@'
            || s[0] == '\t' || s[0] == '\r'))
    {
        *p++ = '\'';
    }

    for (i = 0; i < len; i++) {
        if (s[i] == '"') {
            *p++ = '"';
        }

        *p++ = s[i];
    }

    *p++ = '"';

    return p;
}


/* the client took a page, or the send timed out */

static void
ngx_http_clinic_admin_csv_writer(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_event_t                  *wev;
    ngx_connection_t             *c;
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_clinic_admin_ctx_t  *ctx;

    c = r->connection;
    wev = c->write;
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "client timed out");
        c->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    rc = ngx_http_output_filter(r, NULL);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (r->buffered || r->postponed || c->buffered) {
        if (!wev->delayed) {
            ngx_add_timer(wev, clcf->send_timeout);
        }

        if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_ERROR);
        }

        return;
    }

    /* a delayed event's timer is limit_rate's, for the next write */

    if (wev->timer_set && !wev->delayed) {
        ngx_del_timer(wev);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_clinic_module);

    if (ngx_http_clinic_admin_csv_next(r, ctx) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_ERROR);
    }
}


/*
 * Purges the tenant's pages: from L1 on this node at once, from Redis,
 * and, through the purge generation every worker polls, from the L1 of
 * every node within the revalidation interval.  Links make pages depend
 * on one another, so purging one article purges all of the tenant's pages.
 */

static ngx_int_t
ngx_http_clinic_admin_purge(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *slug)
{
    ngx_int_t                     rc;
    ngx_http_clinic_admin_ctx_t  *ctx;
    ngx_http_clinic_main_conf_t  *cmcf;

    if (slug->len && !ngx_http_clinic_text_slug_valid(slug->data, slug->len)) {
        return ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "no such article");
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_clinic_admin_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->r = r;
    ctx->action = NGX_HTTP_CLINIC_ADMIN_PURGE;
    ctx->unavailable = "the pages were purged on this server only; "
                       "storage is temporarily unavailable";

    rc = ngx_http_clinic_pagecache_purge(cmcf, cscf, r->pool, &ctx->purged,
                                         ngx_http_clinic_admin_purged, ctx);

    return ngx_http_clinic_admin_wait(r, ctx, rc);
}


static void
ngx_http_clinic_admin_purged(void *data, int64_t generation)
{
    ngx_http_clinic_admin_ctx_t *ctx = data;

    json_t              *json;
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = ctx->r;

    r->read_event_handler = ngx_http_block_reading;

    if (generation < 0) {
        rc = ngx_http_clinic_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        ctx->unavailable);

    } else {
        json = json_pack("{s:I,s:I}", "purged", (json_int_t) ctx->purged,
                         "generation", (json_int_t) generation);

        rc = json ? ngx_http_clinic_send_json(r, NGX_HTTP_OK, json)
                  : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clinic_admin_done(r, rc);
}


/*
 * The lint report: every article's parse warnings and unresolved links,
 * and every file of the folder that is not served, with the reason.
 */

static ngx_int_t
ngx_http_clinic_admin_lint(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf)
{
    ngx_str_t                        src;
    ngx_uint_t                       i, issues;
    json_t                          *json, *articles, *problems, *a;
    ngx_http_clinic_alloc_t          alloc;
    ngx_http_clinic_index_t         *index;
    ngx_http_clinic_article_t        art;
    ngx_http_clinic_content_t       *content;
    ngx_http_clinic_loc_conf_t      *clcf;
    ngx_http_clinic_article_info_t  *info;
    ngx_http_clinic_article_links_t *links;

    content = cscf->content;

    if (content == NULL) {
        return ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "this clinic serves no articles");
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);

    index = ngx_http_clinic_content_index(content, clcf->revalidate,
                                          r->connection->log);
    if (index == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    articles = json_array();
    problems = json_array();
    if (articles == NULL || problems == NULL) {
        json_decref(articles);
        json_decref(problems);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json = json_pack("{s:o,s:o}", "articles", articles, "problems", problems);
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    issues = 0;
    ngx_http_clinic_pool_alloc(r->pool, &alloc);

    links = ngx_http_clinic_index_links(index, r->pool);
    if (links == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < index->narticles; i++) {
        info = &index->articles[i];

        if (ngx_http_clinic_content_read(content, info, r->pool,
                                         r->connection->log, &src)
            != NGX_OK
            || ngx_http_clinic_article_render(src.data, src.len,
                   info->format, (ngx_http_clinic_article_str_t *) &info->slug,
                   links,
                   (ngx_http_clinic_article_str_t *) &cscf->articles_prefix,
                   &alloc, &art)
               != NGX_HTTP_CLINIC_ARTICLE_OK)
        {
            a = json_pack("{s:s%,s:s%,s:[s]}", "slug", info->slug.data,
                          info->slug.len, "file", info->file.data,
                          info->file.len, "warnings",
                          "the article cannot be rendered");
            issues++;

        } else {
            a = json_pack("{s:s%,s:s%,s:s%,s:o,s:o}",
                          "slug", info->slug.data, info->slug.len,
                          "file", info->file.data, info->file.len,
                          "title", art.title.data, art.title.len,
                          "warnings",
                          ngx_http_clinic_json_strings(art.warnings,
                                                       art.nwarnings),
                          "unresolved_links",
                          ngx_http_clinic_json_strings(art.unresolved,
                                                       art.nunresolved));
            issues += art.nwarnings + art.nunresolved;
        }

        if (a == NULL || json_array_append_new(articles, a) != 0) {
            json_decref(json);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    for (i = 0; i < index->nproblems; i++) {
        a = json_pack("{s:s%,s:s%}",
                      "file", index->problems[i].file.data,
                      index->problems[i].file.len,
                      "reason", index->problems[i].reason.data,
                      index->problems[i].reason.len);

        if (a == NULL || json_array_append_new(problems, a) != 0) {
            json_decref(json);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        issues++;
    }

    json_object_set_new(json, "ok", json_boolean(issues == 0));

    return ngx_http_clinic_send_json(r, NGX_HTTP_OK, json);
}


static json_t *
ngx_http_clinic_json_strings(ngx_http_clinic_article_str_t *a, size_t n)
{
    size_t   i;
    json_t  *list;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        (void) json_array_append_new(list,
                   ngx_http_clinic_json_string((char *) a[i].data,
                                               a[i].len));
    }

    return list;
}
