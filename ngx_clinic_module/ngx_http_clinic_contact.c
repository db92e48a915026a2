
/*
 * clinic_contact: the contact form, and the page that shows it.
 *
 * GET and HEAD render the form into the tenant's template; the page is
 * kept in the L1 zone, its version covering the template, the settings
 * it shows and the declared fields.  Browsers get every answer to a POST
 * as a page of the same template (the form again with each mistake next
 * to its field, a thank-you page, or why not); JSON clients get JSON.
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
#include <jansson.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_text.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_form.h"
#include "ngx_http_clinic_limit.h"
#include "ngx_http_clinic_store.h"
#include "ngx_http_clinic_spool.h"
#include "ngx_http_clinic_notify.h"
#include "ngx_http_clinic_render.h"
#include "ngx_http_clinic_cache.h"
#include "ngx_http_clinic_pagecache.h"
#include "ngx_http_clinic_content.h"
#include "ngx_http_clinic_site.h"
#include "ngx_http_clinic_contact.h"


#define NGX_HTTP_CLINIC_UA_MAX       512
#define NGX_HTTP_CLINIC_PAGE_MAX     2048
#define NGX_HTTP_CLINIC_WAIT_MAX     4096   /* submissions behind a backlog */
#define NGX_HTTP_CLINIC_WAIT_STEP    2      /* ms between looks at it */
#define NGX_HTTP_CLINIC_FORM_MARKUP  1      /* bump when the markup changes */


typedef struct {
    ngx_http_request_t              *r;
    ngx_http_clinic_submission_t     sub;
    ngx_queue_t                      queue;      /* in cmcf->waiting */
    ngx_msec_t                       since;      /* began to wait */
    unsigned                         json:1;
    unsigned                         honeypot:1;
    unsigned                         waiting:1;
} ngx_http_clinic_contact_ctx_t;


/* what a browser reads instead of a JSON answer (docs/api.md) */
typedef struct {
    ngx_uint_t                       status;     /* 0: any other */
    const char                      *title;
    const char                      *id;
    const char                      *text;
    ngx_uint_t                       call;       /* "please call us on" */
    ngx_uint_t                       back;       /* a link to the form */
} ngx_http_clinic_notice_t;


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
static ngx_int_t ngx_http_clinic_contact_limited(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, time_t retry_after,
    const char *where);
static ngx_int_t ngx_http_clinic_contact_accepted(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, ngx_uint_t status, ngx_str_t *id);
static ngx_int_t ngx_http_clinic_contact_error(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, ngx_uint_t status,
    const char *message);
static ngx_int_t ngx_http_clinic_contact_json_text(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *text);
static ngx_int_t ngx_http_clinic_contact_get(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx);
static uint64_t ngx_http_clinic_contact_version(ngx_http_request_t *r,
    uint64_t h);
static ngx_int_t ngx_http_clinic_contact_invalid(ngx_http_request_t *r,
    ngx_http_clinic_form_field_t *fields, ngx_uint_t nfields,
    ngx_http_clinic_form_pairs_t *pairs, ngx_http_clinic_form_result_t *res);
static ngx_int_t ngx_http_clinic_contact_form(ngx_http_request_t *r,
    ngx_http_clinic_form_field_t *fields, ngx_uint_t nfields,
    ngx_http_clinic_form_pairs_t *pairs, ngx_http_clinic_form_result_t *res,
    ngx_str_t *out);
static ngx_int_t ngx_http_clinic_contact_notice(ngx_http_request_t *r,
    ngx_uint_t status);
static ngx_int_t ngx_http_clinic_contact_build(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *content,
    ngx_http_clinic_page_t *page);
static void ngx_http_clinic_contact_action(ngx_http_request_t *r,
    ngx_str_t *action);
static ngx_http_clinic_form_field_t *ngx_http_clinic_contact_fields(
    ngx_http_request_t *r, ngx_uint_t *n);
static int ngx_http_clinic_contact_match(void *ctx, const u_char *s,
    size_t len);
static ngx_table_elt_t *ngx_http_clinic_find_header(ngx_http_request_t *r,
    const char *name, size_t len);


static ngx_str_t  ngx_http_clinic_no_store = ngx_string("no-store");


static ngx_http_clinic_notice_t  ngx_http_clinic_notices[] = {

    { NGX_HTTP_OK, "Message sent", "thank-you",
      "Thank you, we have received your message and will get back to you "
      "soon.", 0, 0 },

    { NGX_HTTP_BAD_REQUEST, "Message not sent", "contact-error",
      "Your message could not be read. Please try again.", 0, 1 },

    { NGX_HTTP_FORBIDDEN, "Message not sent", "contact-error",
      "This form can only be sent from the clinic's own website.", 0, 1 },

    { NGX_HTTP_NOT_ALLOWED, "Contact us", "contact-error",
      "This address shows the contact form and takes the messages sent "
      "with it.", 0, 1 },

    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "Message too long", "contact-error",
      "Your message was too long to send. Please shorten it and try again.",
      0, 1 },

    { NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, "Message not sent", "contact-error",
      "Please send your message with the form on this page.", 0, 1 },

    { NGX_HTTP_TOO_MANY_REQUESTS, "Too many messages", "contact-error",
      "Too many messages were sent in a short time. Please try again "
      "later.", 1, 0 },

    { NGX_HTTP_SERVICE_UNAVAILABLE, "Message not sent", "contact-error",
      "Sorry, your message could not be sent right now.", 1, 0 },

    { 0, "Message not sent", "contact-error",
      "Sorry, something went wrong. Please try again.", 0, 1 }
};


ngx_int_t
ngx_http_clinic_contact_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       allow;
    ngx_http_clinic_contact_ctx_t  *ctx;
    ngx_http_clinic_form_ctype_t    ct;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_clinic_contact_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->r = r;

    ct.type = NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED;

    if (r->headers_in.content_type) {
        (void) ngx_http_clinic_form_content_type(
                   r->headers_in.content_type->value.data,
                   r->headers_in.content_type->value.len, &ct);
    }

    ctx->json = ngx_http_clinic_contact_wants_json(r,
                                   ct.type == NGX_HTTP_CLINIC_FORM_CT_JSON);

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return ngx_http_clinic_contact_get(r, ctx);
    }

    if (r->method != NGX_HTTP_POST) {
        ngx_str_set(&allow, "GET, HEAD, POST");

        if (ngx_http_discard_request_body(r) != NGX_OK
            || ngx_http_clinic_set_header(r, "Allow", &allow) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clinic_contact_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                             "method not allowed");
    }

    if (ct.type == NGX_HTTP_CLINIC_FORM_CT_UNSUPPORTED) {
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_REJECTED);
        return ngx_http_clinic_contact_error(r, ctx,
                   NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                   "send the form as application/x-www-form-urlencoded, "
                   "multipart/form-data or application/json");
    }

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
            return ngx_http_clinic_contact_invalid(r, fields, nfields,
                                                   &pairs, &res);
        }

        if (ngx_http_clinic_form_failures_json(&res, &alloc, &errors)
            != NGX_HTTP_CLINIC_FORM_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_clinic_contact_json_text(r, 422,
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
        && ngx_http_clinic_spool_pending(cscf))
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

    if (ngx_http_clinic_store_limit_keys(r->pool, cscf,
                                         &r->connection->addr_text, &limits)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_clinic_store_send(cscf->redis, r->pool, &ctx->sub, &limits,
                                    ngx_http_clinic_contact_stored, ctx);

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
        || !ngx_http_clinic_redis_is_up_slot(cscf->redis, cscf->redis_slot)
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

        if (!ngx_http_clinic_spool_pending(cscf)) {
            ngx_queue_remove(q);
            cmcf->nwaiting--;
            ctx->waiting = 0;

            ngx_http_clinic_contact_resume(ctx,
                                   ngx_http_clinic_contact_store_now(r, ctx));
            continue;
        }

        if (ngx_current_msec - ctx->since < cscf->redis->timeout
            && ngx_http_clinic_redis_is_up_slot(cscf->redis,
                                                cscf->redis_slot)
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


/*
 * The stream entry: declared fields, then received, ip, user_agent, page;
 * the store names its keys.
 */

static ngx_int_t
ngx_http_clinic_contact_submission(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, ngx_http_clinic_form_result_t *res)
{
    u_char                        md5[16];
    size_t                        i, n;
    ngx_md5_t                     md5ctx;
    ngx_str_t                    *pairs;
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

    return ngx_http_clinic_store_keys(r->pool, cscf, md5, &ctx->sub);
}


static void
ngx_http_clinic_contact_stored(void *data,
    ngx_http_clinic_store_result_t *result)
{
    ngx_http_clinic_contact_ctx_t *ctx = data;

    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->r;
    c = r->connection;

    r->read_event_handler = ngx_http_block_reading;

    switch (result->outcome) {

    case NGX_HTTP_CLINIC_STORE_ADDED:
    case NGX_HTTP_CLINIC_STORE_DUPLICATE:
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_STORED);

        /* its $clinic_* variables; a new entry (not a duplicate) notifies */
        ngx_http_clinic_notify_request(r, &result->id, &ctx->sub,
                               result->outcome == NGX_HTTP_CLINIC_STORE_ADDED);

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
        rc = ngx_http_clinic_contact_limited(r, ctx, result->retry_after,
                                             "");
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


/* 429 with Retry-After, whether Redis or this node counted the limit */

static ngx_int_t
ngx_http_clinic_contact_limited(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx, time_t retry_after, const char *where)
{
    u_char     *p;
    ngx_str_t   value;

    ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_LIMITED);

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data = p;
    value.len = ngx_sprintf(p, "%T", retry_after) - p;

    if (ngx_http_clinic_set_header(r, "Retry-After", &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "clinic: contact form rate limit reached%s", where);

    return ngx_http_clinic_contact_error(r, ctx, NGX_HTTP_TOO_MANY_REQUESTS,
               "too many messages were sent, please try again later "
               "or call the clinic");
}


static ngx_int_t
ngx_http_clinic_contact_spool(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx)
{
    time_t                        retry;
    ngx_str_t                     id;
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
        return ngx_http_clinic_contact_limited(r, ctx, retry,
                   " (counted on this node while Redis is unavailable)");
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
    ngx_str_t                    fake;
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

        /* queued (202) or stored, the message is safe: the same page */
        return ngx_http_clinic_contact_notice(r, NGX_HTTP_OK);
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
    if (ctx->json) {
        return ngx_http_clinic_send_error(r, status, message);
    }

    return ngx_http_clinic_contact_notice(r, status);
}


/* a JSON body the form parser built, and the final newline */

static ngx_int_t
ngx_http_clinic_contact_json_text(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *text)
{
    ngx_buf_t  *b;

    b = ngx_create_temp_buf(r->pool, text->len + 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, text->data, text->len);
    *b->last++ = '\n';

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");
    r->headers_out.content_type_len = sizeof("application/json") - 1;

    return ngx_http_clinic_send_body(r, b);
}


/*
 * GET and HEAD: the empty form, from L1 while it holds this version, else
 * rendered and put there.  Reached through error_page (a body over
 * client_max_body_size, docs/directives.md), the page of that error.
 */

static ngx_int_t
ngx_http_clinic_contact_get(ngx_http_request_t *r,
    ngx_http_clinic_contact_ctx_t *ctx)
{
    uint64_t                       version;
    ngx_int_t                      rc;
    ngx_str_t                      key, blob, empty, content;
    ngx_uint_t                     nfields;
    ngx_http_clinic_page_t         page;
    ngx_http_core_loc_conf_t      *core;
    ngx_http_clinic_srv_conf_t    *cscf;
    ngx_http_clinic_main_conf_t   *cmcf;
    ngx_http_clinic_form_field_t  *fields;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (r->err_status >= NGX_HTTP_BAD_REQUEST) {
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_REJECTED);

        return ngx_http_clinic_contact_error(r, ctx, r->err_status,
                   r->err_status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
                   ? "request body too large" : "request failed");
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);
    core = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    version = ngx_http_clinic_contact_version(r, 0);

    ngx_str_null(&empty);
    ngx_str_null(&key);

    if (cmcf->cache_zone) {
        if (ngx_http_clinic_pagecache_key(r->pool, cscf, "contact",
                                          &core->name, &empty, &key)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_clinic_cache_get(cmcf->cache_zone, &key, version, 0,
                                      r->pool, &blob)
            == NGX_HTTP_CLINIC_CACHE_HIT
            && ngx_http_clinic_page_decode(&blob, &page) == NGX_OK)
        {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "clinic contact page \"%V\": in shared memory",
                           &key);

            return ngx_http_clinic_site_send(r, &page, "HIT", NULL);
        }
    }

    fields = ngx_http_clinic_contact_fields(r, &nfields);
    if (fields == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_clinic_contact_form(r, fields, nfields, NULL, NULL,
                                     &content)
        != NGX_OK
        || ngx_http_clinic_contact_build(r, NGX_HTTP_OK, "Contact us",
                                         &content, &page)
           != NGX_OK
        || ngx_http_clinic_site_etag(r->pool, &page) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    page.version = version;

    if (cmcf->cache_zone
        && ngx_http_clinic_page_encode(r->pool, &page, &blob) == NGX_OK)
    {
        (void) ngx_http_clinic_cache_put(cmcf->cache_zone, &key, version,
                                         &blob);
    }

    return ngx_http_clinic_site_send(r, &page,
                                     cmcf->cache_zone ? "MISS" : NULL, NULL);
}


/*
 * The version of the empty form's page: the template, the settings it
 * shows, the purge generation, the markup, the form's address, fields and
 * honeypot
 */

static uint64_t
ngx_http_clinic_contact_version(ngx_http_request_t *r, uint64_t h)
{
    uint64_t                       gen;
    ngx_str_t                      action;
    ngx_uint_t                     i, n, v[3];
    ngx_http_clinic_loc_conf_t    *clcf;
    ngx_http_clinic_srv_conf_t    *cscf;
    ngx_http_clinic_field_conf_t  *f;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    (void) ngx_http_clinic_site_template(r, 1, &h, NULL);

    h = ngx_http_clinic_site_hash(r, h);
    gen = ngx_http_clinic_pagecache_generation(cscf);
    h = ngx_http_clinic_hash(h, &gen, sizeof(uint64_t));

    v[0] = NGX_HTTP_CLINIC_FORM_MARKUP;
    h = ngx_http_clinic_hash(h, v, sizeof(ngx_uint_t));

    ngx_http_clinic_contact_action(r, &action);
    h = ngx_http_clinic_hash(h, action.data, action.len);
    h = ngx_http_clinic_hash(h, "", 1);
    h = ngx_http_clinic_hash(h, clcf->honeypot.data, clcf->honeypot.len);
    h = ngx_http_clinic_hash(h, "", 1);

    /* without declared fields the default set, the same every time */

    n = clcf->fields ? clcf->fields->nelts : 0;
    f = clcf->fields ? clcf->fields->elts : NULL;

    for (i = 0; i < n; i++) {
        v[0] = f[i].type;
        v[1] = f[i].max;
        v[2] = f[i].required;

        h = ngx_http_clinic_hash(h, f[i].name.data, f[i].name.len);
        h = ngx_http_clinic_hash(h, v, sizeof(v));
    }

    return h;
}


/* a 422 to a browser: the form again, values kept, each mistake shown */

static ngx_int_t
ngx_http_clinic_contact_invalid(ngx_http_request_t *r,
    ngx_http_clinic_form_field_t *fields, ngx_uint_t nfields,
    ngx_http_clinic_form_pairs_t *pairs, ngx_http_clinic_form_result_t *res)
{
    ngx_str_t               content;
    ngx_http_clinic_page_t  page;

    if (ngx_http_clinic_contact_form(r, fields, nfields, pairs, res,
                                     &content)
        != NGX_OK
        || ngx_http_clinic_contact_build(r, 422, "Contact us", &content,
                                         &page)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the patient's own words: no cache keeps them */
    return ngx_http_clinic_site_send(r, &page, NULL,
                                     &ngx_http_clinic_no_store);
}


/*
 * The form's content HTML.  With a result, every value is kept: a
 * valid one cleaned, a failed one as it was sent (unless it failed for
 * not being UTF-8 or for control characters, which no page shows).
 */

static ngx_int_t
ngx_http_clinic_contact_form(ngx_http_request_t *r,
    ngx_http_clinic_form_field_t *fields, ngx_uint_t nfields,
    ngx_http_clinic_form_pairs_t *pairs, ngx_http_clinic_form_result_t *res,
    ngx_str_t *out)
{
    size_t                                i, k;
    ngx_http_clinic_loc_conf_t           *clcf;
    ngx_http_clinic_srv_conf_t           *cscf;
    ngx_http_clinic_form_view_t           view;
    ngx_http_clinic_field_view_t         *v;
    const ngx_http_clinic_form_pair_t    *pair;
    ngx_http_clinic_form_failure_t       *fail;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    v = ngx_pcalloc(r->pool, (nfields + 1)
                             * sizeof(ngx_http_clinic_field_view_t));
    if (v == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < nfields; i++) {
        v[i].name.data = fields[i].name.data;
        v[i].name.len = fields[i].name.len;
        v[i].type = fields[i].type;
        v[i].max = fields[i].max;
        v[i].required = fields[i].required ? 1 : 0;
    }

    if (res) {
        for (i = 0; i < res->nvalues && i < nfields; i++) {
            v[i].value.data = res->values[i].value.data;
            v[i].value.len = res->values[i].value.len;
        }

        for (i = 0; i < res->nfailures; i++) {
            fail = &res->failures[i];
            k = fail->field - fields;

            if (k >= nfields) {
                continue;
            }

            v[k].error.data = fail->message.data;
            v[k].error.len = fail->message.len;

            if (fail->reason == NGX_HTTP_CLINIC_FORM_FAIL_UTF8
                || fail->reason == NGX_HTTP_CLINIC_FORM_FAIL_CHARS)
            {
                continue;
            }

            pair = ngx_http_clinic_form_find(pairs, fields[k].name.data,
                                             fields[k].name.len);
            if (pair) {
                v[k].value.data = pair->value.data;
                v[k].value.len = pair->value.len;
            }
        }
    }

    ngx_http_clinic_contact_action(r, &view.action);

    view.fields = v;
    view.nfields = nfields;
    view.honeypot = clcf->honeypot;
    view.phone = cscf->phone;

    return ngx_http_clinic_render_form(r->pool, &view, out);
}


/* a short page in the template: thank you, or why the message was not sent */

static ngx_int_t
ngx_http_clinic_contact_notice(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_str_t                       content;
    ngx_http_clinic_page_t          page;
    ngx_http_clinic_notice_t       *n;
    ngx_http_clinic_srv_conf_t     *cscf;
    ngx_http_clinic_notice_view_t   view;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    for (n = ngx_http_clinic_notices; n->status; n++) {
        if (n->status == status) {
            break;
        }
    }

    ngx_memzero(&view, sizeof(ngx_http_clinic_notice_view_t));

    view.id = n->id;
    view.text.data = (u_char *) n->text;
    view.text.len = ngx_strlen(n->text);
    view.phone = cscf->phone;
    view.call = n->call;

    if (n->back) {
        ngx_http_clinic_contact_action(r, &view.back);
    }

    if (ngx_http_clinic_render_notice(r->pool, &view, &content) != NGX_OK
        || ngx_http_clinic_contact_build(r, status, n->title, &content,
                                         &page)
           != NGX_OK)
    {
        return status >= NGX_HTTP_BAD_REQUEST
               ? (ngx_int_t) status : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_clinic_site_send(r, &page, NULL,
                                     &ngx_http_clinic_no_store);
}


/* a page of the contact location in the template: ContactPage JSON-LD */

static ngx_int_t
ngx_http_clinic_contact_build(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *content, ngx_http_clinic_page_t *page)
{
    u_char                       *p;
    uint64_t                      v;
    ngx_str_t                     action, empty;
    ngx_http_clinic_template_t   *tpl;
    ngx_http_clinic_page_vars_t   vars;

    if (ngx_http_clinic_site_template(r, 1, &v, &tpl) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&vars, sizeof(ngx_http_clinic_page_vars_t));
    ngx_memzero(page, sizeof(ngx_http_clinic_page_t));

    ngx_http_clinic_site_vars(r, &vars);
    ngx_http_clinic_contact_action(r, &action);
    ngx_str_null(&empty);

    if (ngx_http_clinic_site_url(r, &action, &empty, &vars.canonical)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof("Send a message to ") - 1
                             + vars.clinic_name.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    vars.summary.data = p;
    vars.summary.len = ngx_sprintf(p, "Send a message to %V",
                                   &vars.clinic_name)
                       - p;

    vars.title.data = (u_char *) title;
    vars.title.len = ngx_strlen(title);
    vars.content = *content;
    vars.contact = 1;

    page->status = status;
    page->type = NGX_HTTP_CLINIC_TYPE_HTML;

    return ngx_http_clinic_render_page(r->pool, tpl, &vars, &page->body);
}


/* the form posts to its own location */

static void
ngx_http_clinic_contact_action(ngx_http_request_t *r, ngx_str_t *action)
{
    ngx_http_core_loc_conf_t  *core;

    core = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    *action = core->name;

    if (core->named
#if (NGX_PCRE)
        || core->regex
#endif
       )
    {
        *action = r->uri;
    }
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
