
/*
 * clinic_contact: the contact form (SPEC 5).
 *
 * The request body is parsed and validated by the pure form parser; a
 * valid submission goes to Redis in one atomic script that applies the
 * rate limits, drops a duplicate and adds the stream entry.  When Redis
 * cannot take it, the submission is appended to the spool and fsync'd
 * before the client hears "queued"; only when that fails too is the answer
 * 503.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_md5.h>
#include <ngx_sha1.h>
#include <jansson.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_text.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_form.h"
#include "ngx_http_clinic_limit.h"
#include "ngx_http_clinic_contact.h"


#define NGX_HTTP_CLINIC_UA_MAX       512
#define NGX_HTTP_CLINIC_PAGE_MAX     2048
#define NGX_HTTP_CLINIC_DEDUPE_TTL   "86400"
#define NGX_HTTP_CLINIC_WAIT_MAX     4096   /* submissions behind a backlog */
#define NGX_HTTP_CLINIC_WAIT_STEP    2      /* ms between looks at it */


typedef struct {
    ngx_http_request_t              *r;
    ngx_http_clinic_submission_t     sub;
    ngx_queue_t                      queue;      /* in cmcf->waiting */
    ngx_msec_t                       since;      /* began to wait */
    unsigned                         json:1;
    unsigned                         honeypot:1;
    unsigned                         waiting:1;
} ngx_http_clinic_contact_ctx_t;


typedef struct {
    ngx_http_clinic_store_pt         handler;
    void                            *data;

    /* kept to send the script itself when Redis does not know its hash */
    ngx_http_clinic_redis_endpoint_t *ep;
    ngx_pool_t                      *pool;
    int                              argc;
    const char                     **argv;
    size_t                          *lens;
    unsigned                         retried:1;
} ngx_http_clinic_store_ctx_t;


static void ngx_http_clinic_contact_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_clinic_contact_process(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx);
static ngx_int_t ngx_http_clinic_contact_read_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_clinic_contact_origin(ngx_http_request_t *r);
static ngx_int_t ngx_http_clinic_contact_host_allowed(ngx_http_request_t *r,
    ngx_str_t *url);
static ngx_int_t ngx_http_clinic_contact_wants_json(ngx_http_request_t *r,
    ngx_uint_t json_body);
static ngx_int_t ngx_http_clinic_contact_submission(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, ngx_http_clinic_form_result_t *res);
static void ngx_http_clinic_contact_stored(void *data,
    ngx_http_clinic_store_result_t *result);
static ngx_int_t ngx_http_clinic_contact_store_now(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx);
static ngx_int_t ngx_http_clinic_contact_wait(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx);
static void ngx_http_clinic_contact_wait_handler(ngx_event_t *ev);
static void ngx_http_clinic_contact_wait_cleanup(void *data);
static void ngx_http_clinic_contact_resume(ngx_http_clinic_contact_ctx_t *ctx,
    ngx_int_t rc);
static ngx_int_t ngx_http_clinic_contact_spool(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx);
static ngx_int_t ngx_http_clinic_contact_accepted(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, ngx_uint_t status, ngx_str_t *id);
static ngx_int_t ngx_http_clinic_contact_error(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, ngx_uint_t status,
    const char *message);
static ngx_int_t ngx_http_clinic_contact_html(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *text);
static void ngx_http_clinic_store_reply(void *data, redisReply *reply);
static ngx_http_clinic_form_field_t *ngx_http_clinic_contact_fields(
    ngx_http_request_t *r, ngx_uint_t *n);
static int ngx_http_clinic_contact_match(void *ctx, const u_char *s,
    size_t len);
static ngx_table_elt_t *ngx_http_clinic_find_header(ngx_http_request_t *r,
    const char *name, size_t len);


/*
 * KEYS: stream, dedupe key, client limit key ("" for none), tenant limit
 * key.  ARGV: retention ms, client limit, client period, tenant limit,
 * tenant period, honeypot, then the entry's field/value pairs.
 * Returns {0, id} added, {1, id} duplicate, {2, seconds} limited,
 * {3, ""} honeypot counted.  A client over its own limit is not counted
 * against the tenant's, so one client cannot use up the tenant's.  With
 * retention off the stream never expires (PERSIST undoes an earlier one).
 */

static const char  ngx_http_clinic_store_script[] =
    "local function over(key, limit, period)\n"
    "  if tonumber(limit) == 0 then return 0 end\n"
    "  local n = redis.call('INCR', key)\n"
    "  if n == 1 then redis.call('EXPIRE', key, period) end\n"
    "  if n > tonumber(limit) then\n"
    "    local ttl = redis.call('TTL', key)\n"
    "    if ttl < 1 then ttl = 1 end\n"
    "    return ttl\n"
    "  end\n"
    "  return 0\n"
    "end\n"
    "if KEYS[3] ~= '' then\n"
    "  local c = over(KEYS[3], ARGV[2], ARGV[3])\n"
    "  if c > 0 then return {2, tostring(c)} end\n"
    "  local t = over(KEYS[4], ARGV[4], ARGV[5])\n"
    "  if t > 0 then return {2, tostring(t)} end\n"
    "  if ARGV[6] == '1' then return {3, ''} end\n"
    "end\n"
    "local prev = redis.call('GET', KEYS[2])\n"
    "if prev then return {1, prev} end\n"
    "local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 7))\n"
    "redis.call('SET', KEYS[2], id, 'EX', " NGX_HTTP_CLINIC_DEDUPE_TTL ")\n"
    "local keep = tonumber(ARGV[1])\n"
    "if keep > 0 then\n"
    "  local now = redis.call('TIME')\n"
    "  local ms = now[1] * 1000 + math.floor(now[2] / 1000)\n"
    "  redis.call('XTRIM', KEYS[1], 'MINID', tostring(ms - keep))\n"
    "  redis.call('PEXPIRE', KEYS[1], keep)\n"
    "else\n"
    "  redis.call('PERSIST', KEYS[1])\n"
    "end\n"
    "return {0, id}\n";


ngx_int_t
ngx_http_clinic_contact_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_clinic_contact_ctx_t  *ctx;
    ngx_http_clinic_form_ctype_t    ct;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_clinic_contact_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->r = r;

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_clinic_not_allowed(r, "POST");
    }

    if (r->headers_in.content_type == NULL
        || ngx_http_clinic_form_content_type(
               r->headers_in.content_type->value.data,
               r->headers_in.content_type->value.len, &ct)
           == NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED)
    {
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_REJECTED);
        return ngx_http_clinic_send_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                   "send the form as application/x-www-form-urlencoded, "
                   "multipart/form-data or application/json");
    }

    ctx->json = ngx_http_clinic_contact_wants_json(r,
                                   ct.type == NGX_HTTP_CLINIC_FORM_CT_JSON);

    if (ngx_http_clinic_contact_origin(r) != NGX_OK) {
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_REJECTED);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clinic: contact form posted from another site");
        return ngx_http_clinic_contact_error(r, ctx, NGX_HTTP_FORBIDDEN,
                   "this form can only be sent from the clinic's own site");
    }

    ngx_http_set_ctx(r, ctx, ngx_http_clinic_module);

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_clinic_contact_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            ngx_http_clinic_stats_tenant_count(r,
                                               NGX_HTTP_CLINIC_T_REJECTED);
        }

        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_clinic_contact_body(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_clinic_contact_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_clinic_module);

    rc = ngx_http_clinic_contact_process(r, ctx);

    if (rc == NGX_DONE) {
        /* waiting for Redis: the store handler finalizes */
        return;
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_clinic_contact_process(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx)
{
    size_t                           n;
    ngx_str_t                        body;
    ngx_uint_t                       nfields;
    ngx_http_clinic_alloc_t          alloc;
    ngx_http_clinic_form_str_t       errors;
    ngx_http_clinic_form_err_t       err;
    ngx_http_clinic_form_ctype_t     ct;
    ngx_http_clinic_form_pairs_t     pairs;
    ngx_http_clinic_form_field_t    *fields;
    ngx_http_clinic_form_result_t    res;
    ngx_http_clinic_loc_conf_t      *clcf;
    ngx_http_clinic_srv_conf_t      *cscf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);

    if (ngx_http_clinic_contact_read_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    (void) ngx_http_clinic_form_content_type(
               r->headers_in.content_type->value.data,
               r->headers_in.content_type->value.len, &ct);

    ngx_http_clinic_pool_alloc(r->pool, &alloc);

    err = ngx_http_clinic_form_parse(&ct, body.data, body.len, NULL, &alloc,
                                     &pairs);

    if (err != NGX_HTTP_CLINIC_FORM_OK) {
        if (err == NGX_HTTP_CLINIC_FORM_ENOMEM) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_REJECTED);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clinic: contact body refused: %s",
                      ngx_http_clinic_form_err_message(err));

        return ngx_http_clinic_contact_error(r, ctx,
                                     ngx_http_clinic_form_err_status(err),
                                     ngx_http_clinic_form_err_message(err));
    }

    ctx->honeypot = clcf->honeypot.len
                    && ngx_http_clinic_form_filled(&pairs,
                                                   clcf->honeypot.data,
                                                   clcf->honeypot.len);

    fields = ngx_http_clinic_contact_fields(r, &nfields);
    if (fields == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_clinic_form_validate(fields, nfields, &pairs, &alloc, &res)
        != NGX_HTTP_CLINIC_FORM_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (res.nfailures && !ctx->honeypot) {
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_REJECTED);

        if (!ctx->json) {
            errors.len = 0;

            for (n = 0; n < res.nfailures; n++) {
                errors.len += res.failures[n].field->name.len
                              + res.failures[n].message.len + 2;
            }

            errors.data = ngx_pnalloc(r->pool, errors.len);
            if (errors.data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            errors.len = 0;

            for (n = 0; n < res.nfailures; n++) {
                errors.len = ngx_sprintf(errors.data + errors.len, "%*s %*s\n",
                                 res.failures[n].field->name.len,
                                 res.failures[n].field->name.data,
                                 res.failures[n].message.len,
                                 res.failures[n].message.data)
                             - errors.data;
            }

            return ngx_http_clinic_contact_html(r, 422,
                       "Please check the form", (ngx_str_t *) &errors);
        }

        if (ngx_http_clinic_form_failures_json(&res, &alloc, &errors)
            != NGX_HTTP_CLINIC_FORM_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clinic_contact_html(r, 0, NULL,
                                            (ngx_str_t *) &errors);
    }

    if (ngx_http_clinic_contact_submission(r, ctx, &res) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A worker with a spool backlog keeps the order: the submission waits
     * in memory until the backlog is in Redis, which then takes it as
     * usual.  Spooling it would keep the backlog from ever draining under
     * steady load.
     */

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    if (!ctx->honeypot && cscf->redis
        && ngx_http_clinic_spool_pending(cscf->redis))
    {
        return ngx_http_clinic_contact_wait(r, ctx);
    }

    return ngx_http_clinic_contact_store_now(r, ctx);
}


/* the store script with the limits; NGX_DONE while Redis has it */

static ngx_int_t
ngx_http_clinic_contact_store_now(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx)
{
    ngx_int_t                        rc;
    ngx_http_clinic_loc_conf_t      *clcf;
    ngx_http_clinic_srv_conf_t      *cscf;
    ngx_http_clinic_store_limits_t   limits;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    ngx_memzero(&limits, sizeof(ngx_http_clinic_store_limits_t));

    limits.honeypot = ctx->honeypot;
    limits.client_count = clcf->limit_client.count;
    limits.client_period = clcf->limit_client.period;
    limits.tenant_count = clcf->limit_tenant.count;
    limits.tenant_period = clcf->limit_tenant.period;

    if (ngx_http_clinic_key(r->pool, cscf, "limit:client:",
                            &r->connection->addr_text, &limits.client_key)
        != NGX_OK
        || ngx_http_clinic_key(r->pool, cscf, "limit:tenant", NULL,
                               &limits.tenant_key)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_clinic_contact_store(cscf->redis, r->pool, &ctx->sub,
                                       &limits, ngx_http_clinic_contact_stored,
                                       ctx);

    if (rc == NGX_OK) {
        r->read_event_handler = ngx_http_test_reading;
        return NGX_DONE;
    }

    if (ctx->honeypot) {
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_SPAM);
        return ngx_http_clinic_contact_accepted(r, ctx, NGX_HTTP_CREATED,
                                                NULL);
    }

    return ngx_http_clinic_contact_spool(r, ctx);
}


/*
 * Waits behind this worker's spool backlog: FIFO, at most
 * NGX_HTTP_CLINIC_WAIT_MAX submissions, each for at most the Redis timeout;
 * past either bound, or when Redis goes down, a submission is spooled as
 * before.  NGX_DONE while it waits.
 */

static ngx_int_t
ngx_http_clinic_contact_wait(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_clinic_srv_conf_t   *cscf;
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    if (cmcf->waiting.next == NULL) {
        ngx_queue_init(&cmcf->waiting);

        cmcf->wait_event.handler = ngx_http_clinic_contact_wait_handler;
        cmcf->wait_event.data = cmcf;
        cmcf->wait_event.log = ngx_cycle->log;
    }

    if (cscf->redis == NULL
        || !ngx_http_clinic_redis_is_up(cscf->redis)
        || cmcf->nwaiting >= NGX_HTTP_CLINIC_WAIT_MAX)
    {
        return ngx_http_clinic_contact_spool(r, ctx);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_clinic_contact_wait_cleanup;
    cln->data = ctx;

    ctx->since = ngx_current_msec;
    ctx->waiting = 1;
    ngx_queue_insert_tail(&cmcf->waiting, &ctx->queue);
    cmcf->nwaiting++;

    r->read_event_handler = ngx_http_test_reading;

    ngx_http_clinic_spool_kick();

    if (!cmcf->wait_event.timer_set) {
        ngx_add_timer(&cmcf->wait_event, NGX_HTTP_CLINIC_WAIT_STEP);
    }

    return NGX_DONE;
}


/*
 * Releases the waiting submissions in their order: those whose endpoint
 * has no backlog left go to Redis (one pipelined connection per endpoint
 * keeps their order), those that waited out the timeout to the spool.
 * Each endpoint has its own backlog: one shard that is down holds up no
 * other.
 */

static void
ngx_http_clinic_contact_wait_handler(ngx_event_t *ev)
{
    ngx_http_clinic_main_conf_t *cmcf = ev->data;

    ngx_queue_t                    *q, *next;
    ngx_http_request_t             *r;
    ngx_http_clinic_srv_conf_t     *cscf;
    ngx_http_clinic_contact_ctx_t  *ctx;

    /*
     * Releasing one does not change whether its endpoint has a backlog,
     * spooling one does: those behind it then keep waiting, in order
     */

    for (q = ngx_queue_head(&cmcf->waiting);
         q != ngx_queue_sentinel(&cmcf->waiting);
         q = next)
    {
        next = ngx_queue_next(q);
        ctx = ngx_queue_data(q, ngx_http_clinic_contact_ctx_t, queue);
        r = ctx->r;
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

        if (!ngx_http_clinic_spool_pending(cscf->redis)) {
            ngx_queue_remove(q);
            cmcf->nwaiting--;
            ctx->waiting = 0;

            ngx_http_clinic_contact_resume(ctx,
                                   ngx_http_clinic_contact_store_now(r, ctx));
            continue;
        }

        if (ngx_current_msec - ctx->since < cscf->redis->timeout
            && ngx_http_clinic_redis_is_up(cscf->redis)
            && !ngx_exiting)
        {
            continue;
        }

        ngx_queue_remove(q);
        cmcf->nwaiting--;
        ctx->waiting = 0;

        ngx_http_clinic_contact_resume(ctx,
                                       ngx_http_clinic_contact_spool(r, ctx));
    }

    if (!ngx_queue_empty(&cmcf->waiting)) {
        ngx_add_timer(ev, NGX_HTTP_CLINIC_WAIT_STEP);
    }
}


static void
ngx_http_clinic_contact_resume(ngx_http_clinic_contact_ctx_t *ctx,
    ngx_int_t rc)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (rc == NGX_DONE) {
        /* Redis has it now: the store handler finalizes */
        return;
    }

    r = ctx->r;
    c = r->connection;

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* a request that goes away while waiting leaves the queue */

static void
ngx_http_clinic_contact_wait_cleanup(void *data)
{
    ngx_http_clinic_contact_ctx_t *ctx = data;

    ngx_http_clinic_main_conf_t  *cmcf;

    if (!ctx->waiting) {
        return;
    }

    cmcf = ngx_http_get_module_main_conf(ctx->r, ngx_http_clinic_module);

    ngx_queue_remove(&ctx->queue);
    cmcf->nwaiting--;
    ctx->waiting = 0;
}


/* the body in one piece, in memory or read back from its temporary file */

static ngx_int_t
ngx_http_clinic_contact_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    size_t        len;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NGX_ERROR;
            }

            p += n;
            continue;
        }

        if (b->last != b->pos) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    *p = '\0';
    body->len = p - body->data;

    return NGX_OK;
}


/*
 * The Origin (or, without one, the Referer) must name one of the tenant's
 * server names; a request with neither is left to the other defences.
 */

static ngx_int_t
ngx_http_clinic_contact_origin(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *o;

    h = ngx_http_clinic_find_header(r, "Origin", 6);

    /* a request is from one site: Origin headers that disagree are forged */

    part = &r->headers_in.headers.part;
    o = part->elts;

    for (i = 0; h; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            o = part->elts;
            i = 0;
        }

        if (o[i].key.len == 6
            && ngx_strncasecmp(o[i].key.data, (u_char *) "Origin", 6) == 0
            && (o[i].value.len != h->value.len
                || ngx_strncmp(o[i].value.data, h->value.data,
                               h->value.len) != 0))
        {
            return NGX_ERROR;
        }
    }

    if (h && !(h->value.len == 4
               && ngx_strncmp(h->value.data, "null", 4) == 0))
    {
        return ngx_http_clinic_contact_host_allowed(r, &h->value);
    }

    if (r->headers_in.referer) {
        return ngx_http_clinic_contact_host_allowed(r,
                                             &r->headers_in.referer->value);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_clinic_contact_host_allowed(ngx_http_request_t *r, ngx_str_t *url)
{
    u_char                      *p, *last, *host;
    size_t                       len;
    ngx_str_t                   *names;
    ngx_uint_t                   i;
    ngx_http_clinic_srv_conf_t  *cscf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    p = url->data;
    last = url->data + url->len;

    p = ngx_strlcasestrn(p, last, (u_char *) "://", 3 - 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    host = p + 3;

    for (p = host; p < last && *p != '/' && *p != ':' && *p != '?'
                   && *p != '#'; p++)
    {
        /* void */
    }

    len = p - host;

    if (len == 0 || cscf->server_names == NULL) {
        return NGX_ERROR;
    }

    if (cscf->regex_names) {
        /* names given as regexes cannot be checked here: other defences */
        return NGX_OK;
    }

    names = cscf->server_names->elts;

    for (i = 0; i < cscf->server_names->nelts; i++) {

        if (names[i].len == len
            && ngx_strncasecmp(names[i].data, host, len) == 0)
        {
            return NGX_OK;
        }

        /* "*.example.com" and ".example.com" cover the subdomains */

        if (names[i].len > 1
            && (names[i].data[0] == '.'
                || (names[i].data[0] == '*' && names[i].data[1] == '.')))
        {
            p = names[i].data + (names[i].data[0] == '*');

            if (len > (size_t) (names[i].data + names[i].len - p)
                && ngx_strncasecmp(host + len - (names[i].data
                                                 + names[i].len - p),
                                   p, names[i].data + names[i].len - p)
                   == 0)
            {
                return NGX_OK;
            }

            if (names[i].data[0] == '.'
                && len == names[i].len - 1
                && ngx_strncasecmp(host, names[i].data + 1, len) == 0)
            {
                return NGX_OK;
            }
        }
    }

    return NGX_ERROR;
}


/* a JSON body, or an Accept that asks for JSON rather than HTML */

static ngx_int_t
ngx_http_clinic_contact_wants_json(ngx_http_request_t *r,
    ngx_uint_t json_body)
{
    ngx_table_elt_t  *h;

    if (json_body) {
        return 1;
    }

    h = ngx_http_clinic_find_header(r, "Accept", 6);

    if (h == NULL) {
        return 0;
    }

    return ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                            (u_char *) "application/json", 16 - 1) != NULL
           && ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                               (u_char *) "text/html", 9 - 1) == NULL;
}


/* the stream entry: declared fields, then received, ip, user_agent, page */

static ngx_int_t
ngx_http_clinic_contact_submission(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, ngx_http_clinic_form_result_t *res)
{
    u_char                       *p, md5[16];
    size_t                        i, n;
    ngx_md5_t                     md5ctx;
    ngx_str_t                    *pairs, key, hex;
    ngx_tm_t                      tm;
    ngx_table_elt_t              *idem;
    ngx_http_clinic_alloc_t       alloc;
    ngx_http_clinic_form_str_t    fp;
    ngx_http_clinic_loc_conf_t   *clcf;
    ngx_http_clinic_srv_conf_t   *cscf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    pairs = ngx_palloc(r->pool, (res->nvalues + 4) * 2 * sizeof(ngx_str_t));
    if (pairs == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < res->nvalues; i++) {
        if (res->values[i].value.len == 0) {
            continue;
        }

        pairs[n].data = res->values[i].field->name.data;
        pairs[n++].len = res->values[i].field->name.len;
        pairs[n].data = res->values[i].value.data;
        pairs[n++].len = res->values[i].value.len;
    }

    ngx_str_set(&pairs[n], "received");
    n++;

    pairs[n].data = ngx_pnalloc(r->pool, sizeof("1970-01-01T00:00:00Z"));
    if (pairs[n].data == NULL) {
        return NGX_ERROR;
    }

    ngx_gmtime(ngx_time(), &tm);
    pairs[n].len = ngx_sprintf(pairs[n].data, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                               tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                               tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec)
                   - pairs[n].data;
    n++;

    if (clcf->store_ip) {
        ngx_str_set(&pairs[n], "ip");
        n++;
        pairs[n++] = r->connection->addr_text;
    }

    if (r->headers_in.user_agent && r->headers_in.user_agent->value.len) {
        ngx_str_set(&pairs[n], "user_agent");
        n++;
        pairs[n] = r->headers_in.user_agent->value;
        pairs[n].len = ngx_min(pairs[n].len, NGX_HTTP_CLINIC_UA_MAX);
        n++;
    }

    if (r->headers_in.referer && r->headers_in.referer->value.len) {
        ngx_str_set(&pairs[n], "page");
        n++;
        pairs[n] = r->headers_in.referer->value;
        pairs[n].len = ngx_min(pairs[n].len, NGX_HTTP_CLINIC_PAGE_MAX);
        n++;
    }

    ctx->sub.pairs = pairs;
    ctx->sub.npairs = n;
    ctx->sub.retention = clcf->retention;

    if (ngx_http_clinic_key(r->pool, cscf, "submissions", NULL,
                            &ctx->sub.stream)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * The dedupe key: the Idempotency-Key when the client sends one, else
     * the submission's own fields, so a double click is stored once.
     */

    ngx_md5_init(&md5ctx);

    idem = ngx_http_clinic_find_header(r, "Idempotency-Key", 15);

    if (idem && idem->value.len) {
        ngx_md5_update(&md5ctx, "idempotency-key\n", 16);
        ngx_md5_update(&md5ctx, idem->value.data,
                       ngx_min(idem->value.len, 256));

    } else {
        ngx_http_clinic_pool_alloc(r->pool, &alloc);

        if (ngx_http_clinic_form_fingerprint(res, &alloc, &fp)
            != NGX_HTTP_CLINIC_FORM_OK)
        {
            return NGX_ERROR;
        }

        ngx_md5_update(&md5ctx, fp.data, fp.len);
    }

    ngx_md5_final(md5, &md5ctx);

    hex.data = ngx_pnalloc(r->pool, 32);
    if (hex.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_hex_dump(hex.data, md5, 16);
    hex.len = p - hex.data;

    if (ngx_http_clinic_key(r->pool, cscf, "dedupe:", &hex, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->sub.dedupe = key;

    return NGX_OK;
}


static void
ngx_http_clinic_contact_stored(void *data,
    ngx_http_clinic_store_result_t *result)
{
    ngx_http_clinic_contact_ctx_t *ctx = data;

    u_char              *p;
    ngx_int_t            rc;
    ngx_str_t            value;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->r;
    c = r->connection;

    r->read_event_handler = ngx_http_block_reading;

    switch (result->outcome) {

    case NGX_HTTP_CLINIC_STORE_ADDED:
    case NGX_HTTP_CLINIC_STORE_DUPLICATE:
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_STORED);
        rc = ngx_http_clinic_contact_accepted(r, ctx, NGX_HTTP_CREATED,
                                              &result->id);
        break;

    case NGX_HTTP_CLINIC_STORE_COUNTED:
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_SPAM);
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "clinic: honeypot filled, submission dropped");
        rc = ngx_http_clinic_contact_accepted(r, ctx, NGX_HTTP_CREATED, NULL);
        break;

    case NGX_HTTP_CLINIC_STORE_LIMITED:
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_LIMITED);

        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (p == NULL) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        value.data = p;
        value.len = ngx_sprintf(p, "%T", result->retry_after) - p;

        if (ngx_http_clinic_set_header(r, "Retry-After", &value) != NGX_OK) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "clinic: contact form rate limit reached");

        rc = ngx_http_clinic_contact_error(r, ctx, NGX_HTTP_TOO_MANY_REQUESTS,
                   "too many messages were sent, please try again later "
                   "or call the clinic");
        break;

    default: /* NGX_HTTP_CLINIC_STORE_FAILED */
        rc = ctx->honeypot
             ? ngx_http_clinic_contact_accepted(r, ctx, NGX_HTTP_CREATED,
                                                NULL)
             : ngx_http_clinic_contact_spool(r, ctx);
        break;
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_clinic_contact_spool(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx)
{
    u_char                       *p;
    time_t                        retry;
    ngx_str_t                     id, value;
    ngx_http_clinic_loc_conf_t   *clcf;
    ngx_http_clinic_srv_conf_t   *cscf;
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    /*
     * The limits live in Redis, which is out of reach: this node counts
     * them itself meanwhile, so a flood during an outage is still refused
     */

    if (ngx_http_clinic_limit_take(cmcf->limit_zone, &cscf->tenant,
                                   &r->connection->addr_text,
                                   clcf->limit_client.count,
                                   clcf->limit_client.period,
                                   clcf->limit_tenant.count,
                                   clcf->limit_tenant.period, &retry)
        == NGX_BUSY)
    {
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_LIMITED);

        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        value.data = p;
        value.len = ngx_sprintf(p, "%T", retry) - p;

        if (ngx_http_clinic_set_header(r, "Retry-After", &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "clinic: contact form rate limit reached (counted "
                      "on this node while Redis is unavailable)");

        return ngx_http_clinic_contact_error(r, ctx,
                   NGX_HTTP_TOO_MANY_REQUESTS,
                   "too many messages were sent, please try again later "
                   "or call the clinic");
    }

    if (cmcf->spool.len
        && ngx_http_clinic_spool_append(r, &ctx->sub, &id) == NGX_OK)
    {
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_SPOOLED);
        return ngx_http_clinic_contact_accepted(r, ctx, NGX_HTTP_ACCEPTED,
                                                &id);
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "clinic: a contact submission could not be stored: "
                  "redis is unavailable and %s",
                  cmcf->spool.len ? "the spool failed" : "no clinic_spool "
                                                         "is configured");

    return ngx_http_clinic_contact_error(r, ctx,
                   NGX_HTTP_SERVICE_UNAVAILABLE,
                   "your message could not be sent right now; please call "
                   "the clinic instead");
}


/*
 * Success: 201 {"id"} (202 with "status":"queued" when spooled) for JSON
 * clients; a 303 to clinic_contact_redirect, or a thank-you page, for
 * HTML forms.  id NULL: a honeypot hit, answered like a success.
 */

static ngx_int_t
ngx_http_clinic_contact_accepted(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, ngx_uint_t status, ngx_str_t *id)
{
    u_char                      *p;
    json_t                      *json;
    ngx_str_t                    fake, text;
    ngx_http_clinic_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);

    if (id == NULL) {
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 3);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        fake.data = p;
        fake.len = ngx_sprintf(p, "%M-0", (ngx_msec_t) ngx_time() * 1000
                                          + ngx_cached_time->msec)
                   - p;
        id = &fake;
    }

    if (!ctx->json) {
        if (clcf->redirect.len) {
            r->headers_out.location = ngx_list_push(&r->headers_out.headers);
            if (r->headers_out.location == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            r->headers_out.location->hash = 1;
            ngx_str_set(&r->headers_out.location->key, "Location");
            r->headers_out.location->value = clcf->redirect;

            return NGX_HTTP_SEE_OTHER;
        }

        ngx_str_set(&text, "Thank you, we have received your message and "
                           "will get back to you soon.");

        return ngx_http_clinic_contact_html(r, NGX_HTTP_OK, "Message sent",
                                            &text);
    }

    if (status == NGX_HTTP_ACCEPTED) {
        json = json_pack("{s:s%,s:s}", "id", id->data, id->len,
                         "status", "queued");

    } else {
        json = json_pack("{s:s%}", "id", id->data, id->len);
    }

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clinic_send_json(r, status, json);
}


static ngx_int_t
ngx_http_clinic_contact_error(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, ngx_uint_t status,
    const char *message)
{
    ngx_str_t  text;

    if (ctx->json) {
        return ngx_http_clinic_send_error(r, status, message);
    }

    text.data = (u_char *) message;
    text.len = ngx_strlen(message);

    return ngx_http_clinic_contact_html(r, status, "Message not sent", &text);
}


/*
 * A small HTML page for plain forms; title NULL sends text as the JSON
 * 422 body the form parser built.
 */

static ngx_int_t
ngx_http_clinic_contact_html(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *text)
{
    size_t        len;
    u_char       *p;
    ngx_buf_t    *b;

    if (title == NULL) {
        len = text->len;

    } else {
        len = sizeof("<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
                     "charset=\"utf-8\"><meta name=\"viewport\" content=\""
                     "width=device-width, initial-scale=1\"><title></title>"
                     "</head>\n<body><h1></h1>\n<p></p>\n<p><a href=\""
                     "javascript:history.back()\">Back</a></p></body>"
                     "</html>\n")
              + 2 * ngx_strlen(title)
              + ngx_http_clinic_text_escape_html(NULL, text->data,
                                                    text->len)
              + 8;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (title == NULL) {
        b->last = ngx_cpymem(b->last, text->data, text->len);
        *b->last++ = '\n';
        status = 422;
        ngx_str_set(&r->headers_out.content_type,
                    "application/json; charset=utf-8");
        r->headers_out.content_type_len = sizeof("application/json") - 1;

    } else {
        p = ngx_sprintf(b->last, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                        "<meta charset=\"utf-8\"><meta name=\"viewport\" "
                        "content=\"width=device-width, initial-scale=1\">"
                        "<title>%s</title></head>\n<body><h1>%s</h1>\n<p>",
                        title, title);
        p += ngx_http_clinic_text_escape_html(p, text->data, text->len);
        b->last = ngx_cpymem(p, "</p>\n<p><a href=\"javascript:history.back()"
                             "\">Back</a></p></body></html>\n",
                             sizeof("</p>\n<p><a href=\"javascript:history."
                                    "back()\">Back</a></p></body></html>\n")
                             - 1);
        ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
        r->headers_out.content_type_len = sizeof("text/html") - 1;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;

    return ngx_http_clinic_send_body(r, b);
}


ngx_int_t
ngx_http_clinic_contact_store(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_pool_t *pool, ngx_http_clinic_submission_t *sub,
    ngx_http_clinic_store_limits_t *limits, ngx_http_clinic_store_pt handler,
    void *data)
{
    int                           argc;
    u_char                       *p, *nums;
    size_t                       *lens;
    ngx_uint_t                    i;
    const char                  **argv;
    ngx_http_clinic_store_ctx_t  *sctx;
    ngx_http_clinic_main_conf_t  *cmcf;

    sctx = ngx_palloc(pool, sizeof(ngx_http_clinic_store_ctx_t));
    argc = 3 + 4 + 6 + sub->npairs;
    argv = ngx_palloc(pool, argc * sizeof(char *));
    lens = ngx_palloc(pool, argc * sizeof(size_t));
    nums = ngx_pnalloc(pool, 6 * (NGX_TIME_T_LEN + 1));

    if (sctx == NULL || argv == NULL || lens == NULL || nums == NULL) {
        return NGX_ERROR;
    }

    sctx->handler = handler;
    sctx->data = data;
    sctx->ep = ep;
    sctx->pool = pool;
    sctx->argc = argc;
    sctx->argv = argv;
    sctx->lens = lens;
    sctx->retried = 0;

    /* Redis keeps scripts by their SHA1: the 1 KB script is sent once */

    cmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_clinic_module);

#define ngx_http_clinic_arg(n, s, l)                                          \
    argv[n] = (const char *) (s); lens[n] = (l)

    ngx_http_clinic_arg(0, "EVALSHA", 7);
    ngx_http_clinic_arg(1, cmcf->store_sha, 40);
    ngx_http_clinic_arg(2, "4", 1);
    ngx_http_clinic_arg(3, sub->stream.data, sub->stream.len);
    ngx_http_clinic_arg(4, sub->dedupe.data, sub->dedupe.len);

    if (limits) {
        ngx_http_clinic_arg(5, limits->client_key.data,
                            limits->client_key.len);
        ngx_http_clinic_arg(6, limits->tenant_key.data,
                            limits->tenant_key.len);

    } else {
        /* replays were counted when they came in */
        ngx_http_clinic_arg(5, "", 0);
        ngx_http_clinic_arg(6, sub->stream.data, sub->stream.len);
    }

    p = nums;

    ngx_http_clinic_arg(7, p,
                        ngx_sprintf(p, "%T", sub->retention * 1000) - p);
    p += lens[7];
    ngx_http_clinic_arg(8, p, ngx_sprintf(p, "%ui",
                                 limits ? limits->client_count : 0) - p);
    p += lens[8];
    ngx_http_clinic_arg(9, p, ngx_sprintf(p, "%T",
                                 limits ? limits->client_period : 1) - p);
    p += lens[9];
    ngx_http_clinic_arg(10, p, ngx_sprintf(p, "%ui",
                                  limits ? limits->tenant_count : 0) - p);
    p += lens[10];
    ngx_http_clinic_arg(11, p, ngx_sprintf(p, "%T",
                                  limits ? limits->tenant_period : 1) - p);
    ngx_http_clinic_arg(12, (limits && limits->honeypot) ? "1" : "0", 1);

    for (i = 0; i < sub->npairs; i++) {
        ngx_http_clinic_arg(13 + i, sub->pairs[i].data, sub->pairs[i].len);
    }

#undef ngx_http_clinic_arg

    return ngx_http_clinic_redis_send(ep, pool, argc, argv, lens,
                                      ngx_http_clinic_store_reply, sctx,
                                      NULL);
}


static void
ngx_http_clinic_store_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_store_ctx_t *sctx = data;

    ngx_int_t                       n;
    redisReply                     *code, *value;
    ngx_http_clinic_store_result_t  result;

    ngx_memzero(&result, sizeof(ngx_http_clinic_store_result_t));
    result.outcome = NGX_HTTP_CLINIC_STORE_FAILED;

    if (reply && reply->type == REDIS_REPLY_ERROR && !sctx->retried
        && reply->len >= 8 && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        /* a restarted Redis: send the script itself, once */

        sctx->retried = 1;
        sctx->argv[0] = "EVAL";
        sctx->lens[0] = 4;
        sctx->argv[1] = ngx_http_clinic_store_script;
        sctx->lens[1] = sizeof(ngx_http_clinic_store_script) - 1;

        if (ngx_http_clinic_redis_send(sctx->ep, sctx->pool, sctx->argc,
                                       sctx->argv, sctx->lens,
                                       ngx_http_clinic_store_reply, sctx,
                                       NULL)
            == NGX_OK)
        {
            return;
        }
    }

    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
        code = reply->element[0];
        value = reply->element[1];

        if (code->type == REDIS_REPLY_INTEGER
            && value->type == REDIS_REPLY_STRING)
        {
            result.id.data = (u_char *) value->str;
            result.id.len = value->len;

            switch (code->integer) {
            case 0:
                result.outcome = NGX_HTTP_CLINIC_STORE_ADDED;
                break;
            case 1:
                result.outcome = NGX_HTTP_CLINIC_STORE_DUPLICATE;
                break;
            case 2:
                n = ngx_atoi(result.id.data, result.id.len);
                result.outcome = NGX_HTTP_CLINIC_STORE_LIMITED;
                result.retry_after = (n > 0) ? n : 1;
                break;
            case 3:
                result.outcome = NGX_HTTP_CLINIC_STORE_COUNTED;
                break;
            }
        }
    }

    sctx->handler(sctx->data, &result);
}


/* the store script's SHA1 for EVALSHA, computed once at configuration */

void
ngx_http_clinic_contact_init_conf(ngx_http_clinic_main_conf_t *cmcf)
{
    u_char      digest[20];
    ngx_sha1_t  sha1;

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, ngx_http_clinic_store_script,
                    sizeof(ngx_http_clinic_store_script) - 1);
    ngx_sha1_final(digest, &sha1);

    (void) ngx_hex_dump(cmcf->store_sha, digest, 20);
}


/* the declared fields as the form parser wants them, built once */

static ngx_http_clinic_form_field_t *
ngx_http_clinic_contact_fields(ngx_http_request_t *r, ngx_uint_t *n)
{
    ngx_uint_t                     i;
    ngx_http_clinic_loc_conf_t    *clcf;
    ngx_http_clinic_field_conf_t  *f;
    ngx_http_clinic_form_field_t  *fields;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);

    if (clcf->fields == NULL) {
        *n = NGX_HTTP_CLINIC_FORM_NDEFAULT_FIELDS;
        return (ngx_http_clinic_form_field_t *)
                   ngx_http_clinic_form_default_fields;
    }

    f = clcf->fields->elts;
    *n = clcf->fields->nelts;

    fields = ngx_pcalloc(r->pool, (*n + 1)
                                  * sizeof(ngx_http_clinic_form_field_t));
    if (fields == NULL) {
        return NULL;
    }

    for (i = 0; i < *n; i++) {
        fields[i].name.data = f[i].name.data;
        fields[i].name.len = f[i].name.len;
        fields[i].required = f[i].required;
        fields[i].max = f[i].max;
        fields[i].type = (ngx_http_clinic_form_field_type_t) f[i].type;

        if (f[i].pattern) {
            fields[i].match = ngx_http_clinic_contact_match;
            fields[i].match_ctx = f[i].pattern;
        }
    }

    return fields;
}


/* patterns are compiled anchored at both ends: the whole value matches */

static int
ngx_http_clinic_contact_match(void *ctx, const u_char *s, size_t len)
{
    ngx_str_t   value;
    ngx_int_t   rc;

    value.data = (u_char *) s;
    value.len = len;

    rc = ngx_regex_exec((ngx_regex_t *) ctx, &value, NULL, 0);

    if (rc == NGX_REGEX_NO_MATCHED) {
        return 0;
    }

    return rc < 0 ? -1 : 1;
}


static ngx_table_elt_t *
ngx_http_clinic_find_header(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}
