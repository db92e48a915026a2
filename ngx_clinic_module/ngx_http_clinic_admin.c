
/*
 * clinic_admin: the tenant's admin API (docs/api.md).  Every route is
 * authorised by the tenant's own bearer token and reads or changes only
 * keys under the tenant's prefix.
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
#include "ngx_http_clinic_admin.h"


#define NGX_HTTP_CLINIC_ADMIN_LIMIT      20
#define NGX_HTTP_CLINIC_ADMIN_LIMIT_MAX  100
#define NGX_HTTP_CLINIC_ID_MAX           41


typedef enum {
    NGX_HTTP_CLINIC_ADMIN_LIST = 0,
    NGX_HTTP_CLINIC_ADMIN_GET,
    NGX_HTTP_CLINIC_ADMIN_DELETE,
    NGX_HTTP_CLINIC_ADMIN_PURGE
} ngx_http_clinic_admin_action_e;


typedef struct {
    ngx_http_request_t              *r;
    ngx_uint_t                       action;
    ngx_uint_t                       limit;
    ngx_uint_t                       purged;     /* L1 entries, this node */
    const char                      *unavailable; /* the 503's message */
} ngx_http_clinic_admin_ctx_t;


static ngx_int_t ngx_http_clinic_admin_authorized(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf);
static ngx_int_t ngx_http_clinic_admin_submissions(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *id);
static ngx_int_t ngx_http_clinic_valid_id(ngx_str_t *id);
static void ngx_http_clinic_admin_reply(void *data, redisReply *reply);
static ngx_int_t ngx_http_clinic_admin_list(ngx_http_request_t *r,
    ngx_http_clinic_admin_ctx_t *ctx, redisReply *reply);
static json_t *ngx_http_clinic_admin_entry(redisReply *entry);
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

    if (r->uri.len < core->name.len
        || ngx_strncmp(r->uri.data, core->name.data, core->name.len) != 0)
    {
        return ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "no such admin resource");
    }

    path.data = r->uri.data + core->name.len;
    path.len = r->uri.len - core->name.len;

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


static ngx_int_t
ngx_http_clinic_admin_authorized(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf)
{
    ngx_str_t  *auth;

    if (r->headers_in.authorization == NULL || cscf->admin_token.len == 0) {
        return 0;
    }

    auth = &r->headers_in.authorization->value;

    if (auth->len < 7 || ngx_strncasecmp(auth->data, (u_char *) "Bearer ", 7))
    {
        return 0;
    }

    return ngx_http_clinic_token_equal(&cscf->admin_token, auth->data + 7,
                                       auth->len - 7);
}


static ngx_int_t
ngx_http_clinic_admin_submissions(ngx_http_request_t *r,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *id)
{
    int                           argc;
    size_t                        lens[6];
    u_char                        count[NGX_INT_T_LEN], *start;
    ngx_int_t                     n;
    ngx_str_t                     key, arg;
    const char                   *argv[6];
    ngx_http_clinic_admin_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_clinic_admin_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->r = r;

    if (ngx_http_clinic_store_stream_key(r->pool, cscf, &key) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (id->len == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_clinic_not_allowed(r, "GET, HEAD");
        }

        ctx->action = NGX_HTTP_CLINIC_ADMIN_LIST;
        ctx->limit = NGX_HTTP_CLINIC_ADMIN_LIMIT;

        if (ngx_http_arg(r, (u_char *) "limit", 5, &arg) == NGX_OK) {
            n = ngx_atoi(arg.data, arg.len);
            if (n == NGX_ERROR || n < 1 || n > NGX_HTTP_CLINIC_ADMIN_LIMIT_MAX)
            {
                return ngx_http_clinic_send_error(r, NGX_HTTP_BAD_REQUEST,
                                   "limit must be a number from 1 to 100");
            }

            ctx->limit = n;
        }

        argv[0] = "XRANGE";
        lens[0] = 6;
        argv[1] = (const char *) key.data;
        lens[1] = key.len;

        if (ngx_http_arg(r, (u_char *) "after", 5, &arg) == NGX_OK) {
            if (ngx_http_clinic_valid_id(&arg) != NGX_OK) {
                return ngx_http_clinic_send_error(r, NGX_HTTP_BAD_REQUEST,
                                   "after must be a submission id");
            }

            /* "(" makes the start exclusive (Redis 6.2 and later) */

            start = ngx_pnalloc(r->pool, arg.len + 1);
            if (start == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            start[0] = '(';
            ngx_memcpy(start + 1, arg.data, arg.len);

            argv[2] = (const char *) start;
            lens[2] = arg.len + 1;

        } else {
            argv[2] = "-";
            lens[2] = 1;
        }

        argv[3] = "+";
        lens[3] = 1;
        argv[4] = "COUNT";
        lens[4] = 5;
        argv[5] = (const char *) count;
        lens[5] = ngx_sprintf(count, "%ui", ctx->limit + 1) - count;
        argc = 6;

    } else {
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

        if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
            ctx->action = NGX_HTTP_CLINIC_ADMIN_GET;
            argv[0] = "XRANGE";
            lens[0] = 6;
            argv[3] = (const char *) id->data;
            lens[3] = id->len;
            argc = 4;

        } else if (r->method == NGX_HTTP_DELETE) {
            ctx->action = NGX_HTTP_CLINIC_ADMIN_DELETE;
            argv[0] = "XDEL";
            lens[0] = 4;
            argc = 3;

        } else {
            return ngx_http_clinic_not_allowed(r, "GET, HEAD, DELETE");
        }

        argv[1] = (const char *) key.data;
        lens[1] = key.len;
        argv[2] = (const char *) id->data;
        lens[2] = id->len;
    }

    ctx->unavailable = "submissions are temporarily unavailable, "
                       "try again shortly";

    return ngx_http_clinic_admin_send(r, cscf, ctx, argc, argv, lens);
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
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
            rc = ngx_http_clinic_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "no such submission");
            break;
        }

        json = ngx_http_clinic_admin_entry(reply->element[0]);
        if (json == NULL) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        rc = ngx_http_clinic_send_json(r, NGX_HTTP_OK, json);
        break;

    default: /* NGX_HTTP_CLINIC_ADMIN_DELETE */
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
    redisReply  *last;

    if (reply->type != REDIS_REPLY_ARRAY) {
        return ngx_http_clinic_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "unexpected storage reply");
    }

    list = json_array();
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = ngx_min(reply->elements, ctx->limit);

    for (i = 0; i < n; i++) {
        entry = ngx_http_clinic_admin_entry(reply->element[i]);
        if (entry == NULL || json_array_append_new(list, entry) != 0) {
            json_decref(list);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* one more than asked for was fetched to know whether a page follows */

    next = json_null();

    if (reply->elements > ctx->limit) {
        last = reply->element[n - 1];

        if (last->type == REDIS_REPLY_ARRAY && last->elements == 2
            && last->element[0]->type == REDIS_REPLY_STRING)
        {
            json_decref(next);
            next = ngx_http_clinic_json_string(last->element[0]->str,
                                               last->element[0]->len);
        }
    }

    json = json_pack("{s:o,s:o}", "submissions", list, "next", next);
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clinic_send_json(r, NGX_HTTP_OK, json);
}


/* [id, [k1, v1, ...]] -> {"id","received","fields":{...}} */

static json_t *
ngx_http_clinic_admin_entry(redisReply *entry)
{
    size_t       i;
    json_t      *obj, *fields, *value;
    redisReply  *kv, *k, *v;

    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2
        || entry->element[0]->type != REDIS_REPLY_STRING
        || entry->element[1]->type != REDIS_REPLY_ARRAY)
    {
        return NULL;
    }

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

    for (i = 0; i < index->narticles; i++) {
        info = &index->articles[i];

        if (ngx_http_clinic_content_read(content, info, r->pool,
                                         r->connection->log, &src)
            != NGX_OK
            || ngx_http_clinic_article_render(src.data, src.len,
                   info->format, (ngx_http_clinic_article_str_t *) &info->slug,
                   index->links,
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
