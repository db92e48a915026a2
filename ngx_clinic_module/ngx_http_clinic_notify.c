
/*
 * The notification of a new submission (clinic_contact_notify).
 *
 * A notification is an nginx request of its own, detached from any
 * client: a request on a connection of its own, made the way nginx makes
 * one for a client (ngx_http_create_request, ngx_http_process_request),
 * marked internal, for "GET <URI>" in the tenant's server.  nginx runs it
 * like an internal redirect, from the server's rewrite phase: its
 * location proxies, mails or logs it, its access_log logs it, and nginx
 * finalizes, logs and closes it as any request.  So:
 *
 *   - the client is never kept waiting: the notification is posted, and
 *     starts after the client's answer is handed to nginx; it is never a
 *     subrequest, so it does not hold the client's connection (a
 *     background subrequest would delay its next keepalive request) and
 *     inherits none of its headers or body (a Referer or a form body is
 *     health data);
 *   - a spool replay, which has no client request, notifies the same way;
 *   - its connection is a socketpair(): nginx's event code may add it to
 *     the event loop (the upstream module does), and closes it with the
 *     request.  Its peer stays open and silent, so nginx never sees the
 *     "client" go away.  What the location answers is discarded (the
 *     request is header_only: an upstream is finalized once its status is
 *     in), and the status is read in the request pool's cleanup: below 400
 *     is "sent", anything else "failed", counted per tenant and logged;
 *   - the connection's log is the cycle's, the server's error_log as for
 *     any request; the notification's pool is the connection's, destroyed
 *     with it.
 *
 * At most once: one attempt per new entry, never retried; a duplicate of
 * an entry (a replay after a crash) does not notify again.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_store.h"
#include "ngx_http_clinic_notify.h"


#define NGX_HTTP_CLINIC_NOTIFY_POOL  1024


typedef struct {
    ngx_pool_t                      *pool;       /* the connection's */
    ngx_event_t                      event;      /* posted: starts it */
    ngx_http_clinic_notify_conf_t   *conf;
    ngx_str_t                        id;
    ngx_str_t                        received;
    ngx_socket_t                     peer;       /* socketpair's other end */
    ngx_connection_t                *connection;
    ngx_http_request_t              *request;
    struct sockaddr_in               sin;        /* 127.0.0.1 */
} ngx_http_clinic_notify_t;


static void ngx_http_clinic_notify_start(ngx_event_t *ev);
static ngx_int_t ngx_http_clinic_notify_connection(
    ngx_http_clinic_notify_t *n);
static ngx_int_t ngx_http_clinic_notify_prepare(ngx_http_clinic_notify_t *n,
    ngx_http_request_t *r);
static void ngx_http_clinic_notify_done(void *data);
static void ngx_http_clinic_notify_close_peer(void *data);
static void ngx_http_clinic_notify_failed(ngx_http_clinic_notify_t *n,
    ngx_err_t err, const char *what);
static ngx_chain_t *ngx_http_clinic_notify_send_chain(ngx_connection_t *c,
    ngx_chain_t *in, off_t limit);
static u_char *ngx_http_clinic_notify_log_error(ngx_log_t *log, u_char *buf,
    size_t len);
static ngx_int_t ngx_http_clinic_notify_received(
    ngx_http_clinic_submission_t *sub, ngx_str_t *value);
static ngx_int_t ngx_http_clinic_notify_tenant_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_clinic_notify_unset_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_clinic_notify_inbox_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_clinic_notify_vars[] = {

    { ngx_string("clinic_tenant"), NULL,
      ngx_http_clinic_notify_tenant_variable, 0, 0, 0 },

    /* set by the code that stores a submission, "not found" elsewhere */

    { ngx_string("clinic_submission_id"), NULL,
      ngx_http_clinic_notify_unset_variable, 0, 0, 0 },

    { ngx_string("clinic_submission_received"), NULL,
      ngx_http_clinic_notify_unset_variable, 0, 0, 0 },

    { ngx_string("clinic_inbox_url"), NULL,
      ngx_http_clinic_notify_inbox_variable, 0, 0, 0 },

    /* set by the page handlers: where a page came from, and its slug */

    { ngx_string("clinic_cache"), NULL,
      ngx_http_clinic_notify_unset_variable, 0, 0, 0 },

    { ngx_string("clinic_article"), NULL,
      ngx_http_clinic_notify_unset_variable, 0, 0, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_clinic_notify_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t          *var, *v;
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_clinic_module);

    /* not indexed unless the configuration has tenants */
    cmcf->var_submission_id = NGX_ERROR;
    cmcf->var_submission_received = NGX_ERROR;
    cmcf->var_cache = NGX_ERROR;
    cmcf->var_article = NGX_ERROR;

    for (v = ngx_http_clinic_notify_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * The submission's variables are indexed, so that a value set on a
 * request is what every reader of that request (and its subrequests,
 * which share the array) finds; only where the module has tenants, so a
 * configuration without any costs no slot.
 */

ngx_int_t
ngx_http_clinic_notify_init_conf(ngx_conf_t *cf,
    ngx_http_clinic_main_conf_t *cmcf)
{
    ngx_str_t  name;

    if (cmcf->tenants.nelts == 0) {
        return NGX_OK;
    }

    ngx_str_set(&name, "clinic_submission_id");

    cmcf->var_submission_id = ngx_http_get_variable_index(cf, &name);
    if (cmcf->var_submission_id == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_str_set(&name, "clinic_submission_received");

    cmcf->var_submission_received = ngx_http_get_variable_index(cf, &name);
    if (cmcf->var_submission_received == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_str_set(&name, "clinic_cache");

    cmcf->var_cache = ngx_http_get_variable_index(cf, &name);
    if (cmcf->var_cache == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_str_set(&name, "clinic_article");

    cmcf->var_article = ngx_http_get_variable_index(cf, &name);
    if (cmcf->var_article == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * "/path[?args]": a local URI, used as is (no variables, no escapes, no
 * dot segments), as a request line would bring it after decoding.
 */

char *
ngx_http_clinic_notify_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_clinic_notify_conf_t *nc)
{
    u_char  *p, *q, *end, *last;

    last = value->data + value->len;

    if (value->len == 0 || value->data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid clinic_contact_notify \"%V\": it "
                           "takes the URI of a location of this server, "
                           "such as \"/_notify\"", value);
        return NGX_CONF_ERROR;
    }

    q = ngx_strlchr(value->data, last, '?');
    end = q ? q : last;

    for (p = value->data; p < last; p++) {
        if (*p <= ' ' || *p == 0x7f || *p == '#'
            || (p < end && (*p == '%' || *p == '$' || *p == '\\')))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid clinic_contact_notify \"%V\": "
                               "the character at offset %uz is not "
                               "allowed (no spaces, escapes or variables)",
                               value, (size_t) (p - value->data));
            return NGX_CONF_ERROR;
        }
    }

    nc->uri.data = value->data;
    nc->uri.len = end - value->data;

    if (q) {
        nc->args.data = q + 1;
        nc->args.len = last - q - 1;
    }

    /* "/." and "/.." segments */

    for (p = value->data; p < end; p++) {
        if (*p != '/' || p + 1 == end || p[1] != '.') {
            continue;
        }

        q = p + 2;

        if (q < end && *q == '.') {
            q++;
        }

        if (q == end || *q == '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid clinic_contact_notify \"%V\": no "
                               "\".\" or \"..\" segments", value);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


void
ngx_http_clinic_notify_request(ngx_http_request_t *r, ngx_str_t *id,
    ngx_http_clinic_submission_t *sub, ngx_uint_t added)
{
    ngx_str_t                     value;
    ngx_http_clinic_loc_conf_t   *clcf;
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);

    /* the values only feed logs: a failure here changes no answer */

    (void) ngx_http_clinic_set_variable(r, cmcf->var_submission_id, id);

    if (ngx_http_clinic_notify_received(sub, &value) == NGX_OK) {
        (void) ngx_http_clinic_set_variable(r,
                                      cmcf->var_submission_received, &value);
    }

    if (added) {
        ngx_http_clinic_notify_send(clcf->notify, id, sub);
    }
}


void
ngx_http_clinic_notify_send(ngx_http_clinic_notify_conf_t *nc,
    ngx_str_t *id, ngx_http_clinic_submission_t *sub)
{
    ngx_str_t                  received;
    ngx_pool_t                *pool;
    ngx_http_clinic_notify_t  *n;

    if (nc == NULL) {
        return;
    }

    if (ngx_http_clinic_notify_received(sub, &received) != NGX_OK) {
        ngx_str_null(&received);
    }

    pool = ngx_create_pool(NGX_HTTP_CLINIC_NOTIFY_POOL, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    n = ngx_pcalloc(pool, sizeof(ngx_http_clinic_notify_t));
    if (n == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    n->pool = pool;
    n->conf = nc;
    n->peer = (ngx_socket_t) -1;

    n->id.data = ngx_pstrdup(pool, id);
    n->id.len = id->len;
    n->received.data = ngx_pstrdup(pool, &received);
    n->received.len = received.len;

    if ((id->len && n->id.data == NULL)
        || (received.len && n->received.data == NULL))
    {
        ngx_destroy_pool(pool);
        return;
    }

    n->event.handler = ngx_http_clinic_notify_start;
    n->event.data = n;
    n->event.log = ngx_cycle->log;

    ngx_post_event(&n->event, &ngx_posted_events);
}


/* the posted event: the connection, the request, and nginx runs it */

static void
ngx_http_clinic_notify_start(ngx_event_t *ev)
{
    ngx_http_clinic_notify_t *n = ev->data;

    ngx_connection_t    *c;
    ngx_pool_cleanup_t  *cln;
    ngx_http_request_t  *r;

    if (ngx_http_clinic_notify_connection(n) != NGX_OK) {
        return;
    }

    c = n->connection;

    r = ngx_http_create_request(c);
    if (r == NULL) {
        ngx_http_close_connection(c);
        return;
    }

    c->data = r;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_free_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        ngx_http_close_connection(c);
        return;
    }

    n->request = r;
    cln->handler = ngx_http_clinic_notify_done;
    cln->data = n;

    if (ngx_http_clinic_notify_prepare(n, r) != NGX_OK) {
        /* counted as failed by the cleanup */
        ngx_http_free_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        ngx_http_close_connection(c);
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "clinic notify: \"%V\" for the submission \"%V\" of %V",
                   &n->conf->uri, &n->id, &n->received);

    ngx_http_process_request(r);
    ngx_http_run_posted_requests(c);
}


/*
 * A connection as ngx_event_accept() and ngx_http_init_connection() would
 * make it, on one end of a socketpair, from 127.0.0.1; its pool is the
 * notification's.  On failure the notification is counted and its pool
 * gone.
 */

static ngx_int_t
ngx_http_clinic_notify_connection(ngx_http_clinic_notify_t *n)
{
    ngx_log_t               *log;
    ngx_socket_t             s[2];
    ngx_connection_t        *c;
    ngx_pool_cleanup_t      *cln;
    ngx_http_log_ctx_t      *ctx;
    ngx_http_connection_t   *hc;

    log = ngx_palloc(n->pool, sizeof(ngx_log_t));
    ctx = ngx_pcalloc(n->pool, sizeof(ngx_http_log_ctx_t));
    hc = ngx_pcalloc(n->pool, sizeof(ngx_http_connection_t));
    cln = ngx_pool_cleanup_add(n->pool, 0);

    if (log == NULL || ctx == NULL || hc == NULL || cln == NULL) {
        ngx_http_clinic_notify_failed(n, 0, "no memory");
        return NGX_ERROR;
    }

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) == -1) {
        ngx_http_clinic_notify_failed(n, ngx_socket_errno, "socketpair()");
        return NGX_ERROR;
    }

    n->peer = s[1];
    cln->handler = ngx_http_clinic_notify_close_peer;
    cln->data = n;

    if (ngx_nonblocking(s[0]) == -1) {
        ngx_close_socket(s[0]);
        ngx_http_clinic_notify_failed(n, ngx_socket_errno,
                                      ngx_nonblocking_n);
        return NGX_ERROR;
    }

    c = ngx_get_connection(s[0], ngx_cycle->log);
    if (c == NULL) {
        ngx_close_socket(s[0]);
        ngx_http_clinic_notify_failed(n, 0, "no free connection");
        return NGX_ERROR;
    }

#if (NGX_STAT_STUB)
    /* ngx_http_close_connection() takes it back */
    (void) ngx_atomic_fetch_add(ngx_stat_active, 1);
#endif

    *log = *ngx_cycle->log;

    c->pool = n->pool;
    c->log = log;
    c->read->log = log;
    c->write->log = log;

    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);
    c->start_time = ngx_current_msec;
    c->type = SOCK_STREAM;

    c->recv = ngx_recv;
    c->send = ngx_send;
    c->recv_chain = ngx_recv_chain;
    c->send_chain = ngx_http_clinic_notify_send_chain;

    n->sin.sin_family = AF_INET;
    n->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    c->sockaddr = (struct sockaddr *) &n->sin;
    c->socklen = sizeof(struct sockaddr_in);
    c->local_sockaddr = (struct sockaddr *) &n->sin;
    c->local_socklen = sizeof(struct sockaddr_in);
    ngx_str_set(&c->addr_text, "127.0.0.1");

    c->buffer = ngx_calloc_buf(n->pool);
    if (c->buffer == NULL) {
        ngx_http_close_connection(c);
        return NGX_ERROR;
    }

    ctx->connection = c;

    log->connection = c->number;
    log->handler = ngx_http_clinic_notify_log_error;
    log->data = ctx;
    log->action = "notifying";
    c->log_error = NGX_ERROR_INFO;

    hc->conf_ctx = n->conf->ctx;
    c->data = hc;

    n->connection = c;

    return NGX_OK;
}


/* what a request line and its headers would have set */

static ngx_int_t
ngx_http_clinic_notify_prepare(ngx_http_clinic_notify_t *n,
    ngx_http_request_t *r)
{
    u_char                       *p;
    size_t                        len;
    ngx_http_clinic_main_conf_t  *cmcf;

    if (ngx_list_init(&r->headers_in.headers, r->pool, 2,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    r->method = NGX_HTTP_GET;
    ngx_str_set(&r->method_name, "GET");
    ngx_str_set(&r->http_protocol, "HTTP/1.0");
    r->http_version = NGX_HTTP_VERSION_10;

    len = n->conf->uri.len + (n->conf->args.len ? 1 + n->conf->args.len : 0);

    r->request_line.data = ngx_pnalloc(r->pool, sizeof("GET ") - 1 + len
                                               + sizeof(" HTTP/1.0") - 1);
    if (r->request_line.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(r->request_line.data, "GET ", 4);

    r->unparsed_uri.data = p;
    r->unparsed_uri.len = len;

    r->uri.data = p;
    r->uri.len = n->conf->uri.len;
    p = ngx_cpymem(p, n->conf->uri.data, n->conf->uri.len);

    if (n->conf->args.len) {
        *p++ = '?';
        r->args.data = p;
        r->args.len = n->conf->args.len;
        p = ngx_cpymem(p, n->conf->args.data, n->conf->args.len);
    }

    p = ngx_cpymem(p, " HTTP/1.0", sizeof(" HTTP/1.0") - 1);
    r->request_line.len = p - r->request_line.data;

    ngx_http_set_exten(r);

    /* an internal location takes it; only the status line is wanted */
    r->internal = 1;
    r->header_only = 1;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);

    if (ngx_http_clinic_set_variable(r, cmcf->var_submission_id, &n->id)
        != NGX_OK
        || (n->received.len
            && ngx_http_clinic_set_variable(r,
                                    cmcf->var_submission_received,
                                    &n->received)
               != NGX_OK))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The request pool's cleanup: nginx has finalized and logged the request,
 * its status is final.  The connection, and the notification with it, go
 * right after.
 */

static void
ngx_http_clinic_notify_done(void *data)
{
    ngx_http_clinic_notify_t *n = data;

    ngx_uint_t                   status;
    ngx_http_request_t          *r;
    ngx_http_clinic_srv_conf_t  *cscf;

    r = n->request;
    status = r->headers_out.status;

    if (status && status < NGX_HTTP_BAD_REQUEST) {
        ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_NOTIFY_SENT);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "clinic notify: sent, status %ui", status);
        return;
    }

    ngx_http_clinic_stats_tenant_count(r, NGX_HTTP_CLINIC_T_NOTIFY_FAILED);

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    r->connection->log->action = NULL;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "clinic: the notification of the new submission \"%V\" "
                  "of the tenant \"%V\" through \"%V\" failed (status "
                  "%ui); the submission is stored, the notification is not "
                  "sent again", &n->id, &cscf->tenant, &n->conf->uri, status);
}


static void
ngx_http_clinic_notify_close_peer(void *data)
{
    ngx_http_clinic_notify_t *n = data;

    if (n->peer != (ngx_socket_t) -1) {
        (void) ngx_close_socket(n->peer);
        n->peer = (ngx_socket_t) -1;
    }
}


/* before any request exists: logged and counted in no tenant */

static void
ngx_http_clinic_notify_failed(ngx_http_clinic_notify_t *n, ngx_err_t err,
    const char *what)
{
    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, err,
                  "clinic: the notification of the new submission \"%V\" "
                  "through \"%V\" could not start: %s", &n->id,
                  &n->conf->uri, what);

    ngx_destroy_pool(n->pool);
}


/* what the location answers goes nowhere: there is nobody to read it */

static ngx_chain_t *
ngx_http_clinic_notify_send_chain(ngx_connection_t *c, ngx_chain_t *in,
    off_t limit)
{
    for ( /* void */ ; in; in = in->next) {

        if (ngx_buf_special(in->buf)) {
            continue;
        }

        c->sent += ngx_buf_size(in->buf);

        if (ngx_buf_in_memory(in->buf)) {
            in->buf->pos = in->buf->last;
        }

        if (in->buf->in_file) {
            in->buf->file_pos = in->buf->file_last;
        }
    }

    return NULL;
}


static u_char *
ngx_http_clinic_notify_log_error(ngx_log_t *log, u_char *buf, size_t len)
{
    u_char              *p;
    ngx_http_request_t  *r;
    ngx_http_log_ctx_t  *ctx;

    if (log->action) {
        p = ngx_snprintf(buf, len, " while %s", log->action);
        len -= p - buf;
        buf = p;
    }

    p = ngx_snprintf(buf, len, ", client: clinic notification");
    len -= p - buf;

    ctx = log->data;
    r = ctx->request;

    if (r) {
        return r->log_handler(r, ctx->current_request, p, len);
    }

    return p;
}


ngx_int_t
ngx_http_clinic_set_variable(ngx_http_request_t *r, ngx_int_t index,
    ngx_str_t *value)
{
    u_char                     *p;
    ngx_http_variable_value_t  *v;

    if (index == NGX_ERROR) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, value->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, value->data, value->len);

    v = &r->variables[index];

    v->data = p;
    v->len = value->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->escape = 0;

    return NGX_OK;
}


/* the entry's "received": the last one, after any form field's */

static ngx_int_t
ngx_http_clinic_notify_received(ngx_http_clinic_submission_t *sub,
    ngx_str_t *value)
{
    ngx_uint_t  i;

    for (i = sub->npairs & ~((ngx_uint_t) 1); i >= 2; i -= 2) {
        if (sub->pairs[i - 2].len == sizeof("received") - 1
            && ngx_strncmp(sub->pairs[i - 2].data, "received",
                           sizeof("received") - 1)
               == 0)
        {
            *value = sub->pairs[i - 1];
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_clinic_notify_tenant_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_clinic_srv_conf_t  *cscf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    if (cscf == NULL || !cscf->is_tenant || cscf->tenant.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = cscf->tenant.data;
    v->len = cscf->tenant.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_clinic_notify_unset_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    v->not_found = 1;

    return NGX_OK;
}


/*
 * clinic_base_url and the clinic_admin location's prefix; the prefix
 * alone without a base URL; not found without a clinic_admin location.
 */

static ngx_int_t
ngx_http_clinic_notify_inbox_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                      *p;
    ngx_http_clinic_srv_conf_t  *cscf;
    ngx_http_clinic_loc_conf_t  *clcf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);

    if (cscf == NULL || !cscf->is_tenant || cscf->admin_prefix.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, clcf->base_url.len + cscf->admin_prefix.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;
    p = ngx_cpymem(p, clcf->base_url.data, clcf->base_url.len);
    p = ngx_cpymem(p, cscf->admin_prefix.data, cscf->admin_prefix.len);

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
