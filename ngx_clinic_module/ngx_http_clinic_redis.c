
/*
 * The Redis layer.
 *
 * Each worker owns one socket per endpoint, on nginx's event loop: a
 * non-blocking connect, nginx read/write events and nginx timers.  hiredis
 * only formats commands (redisFormatCommandArgv) and parses replies
 * (redisReader); it never touches the socket.  Commands from every tenant
 * and request that use the endpoint are appended to one output buffer,
 * flushed once per event loop iteration, and matched to their replies by a
 * FIFO of operations.  See docs/architecture.md for why.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <time.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_redis.h"


#define NGX_HTTP_CLINIC_REDIS_BACKOFF_MIN   50
#define NGX_HTTP_CLINIC_REDIS_BACKOFF_MAX   2000
#define NGX_HTTP_CLINIC_REDIS_FREE_OPS      128
#define NGX_HTTP_CLINIC_REDIS_READ_SIZE     65536
#define NGX_HTTP_CLINIC_REDIS_READER_KEEP   (1024 * 1024)


typedef struct {
    ngx_http_clinic_redis_op_t      *op;
} ngx_http_clinic_redis_ref_t;


struct ngx_http_clinic_redis_op_s {
    ngx_queue_t                      queue;
    ngx_http_clinic_redis_endpoint_t *ep;
    ngx_http_clinic_redis_handler_pt handler;
    void                            *data;
    ngx_http_clinic_redis_ref_t     *ref;
    ngx_event_t                      timer;
    uint64_t                         start;      /* usec, monotonic */
    unsigned                         done:1;
};


static ngx_int_t ngx_http_clinic_redis_connect(
    ngx_http_clinic_redis_endpoint_t *ep);
static ngx_int_t ngx_http_clinic_redis_handshake(
    ngx_http_clinic_redis_endpoint_t *ep);
static void ngx_http_clinic_redis_handshake_handler(void *data,
    redisReply *reply);
static void ngx_http_clinic_redis_ping_handler(void *data,
    redisReply *reply);
static ngx_int_t ngx_http_clinic_redis_enqueue(
    ngx_http_clinic_redis_endpoint_t *ep, int argc, const char **argv,
    const size_t *argvlen, ngx_http_clinic_redis_handler_pt handler,
    void *data, ngx_http_clinic_redis_op_t **opp);
static ngx_http_clinic_redis_op_t *ngx_http_clinic_redis_op_get(
    ngx_http_clinic_redis_endpoint_t *ep);
static void ngx_http_clinic_redis_op_complete(ngx_http_clinic_redis_op_t *op,
    redisReply *reply);
static void ngx_http_clinic_redis_op_free(ngx_http_clinic_redis_op_t *op);
static void ngx_http_clinic_redis_op_timeout(ngx_event_t *ev);
static void ngx_http_clinic_redis_flush_handler(ngx_event_t *ev);
static void ngx_http_clinic_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_clinic_redis_write_handler(ngx_event_t *wev);
static void ngx_http_clinic_redis_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_clinic_redis_test_connect(ngx_connection_t *c);
static void ngx_http_clinic_redis_send_buffer(
    ngx_http_clinic_redis_endpoint_t *ep);
static ngx_int_t ngx_http_clinic_redis_process(
    ngx_http_clinic_redis_endpoint_t *ep, ngx_connection_t *c);
static void ngx_http_clinic_redis_fail(ngx_http_clinic_redis_endpoint_t *ep,
    const char *reason);
static void ngx_http_clinic_redis_close(ngx_http_clinic_redis_endpoint_t *ep);
static void ngx_http_clinic_redis_ref_cleanup(void *data);
static uint64_t ngx_http_clinic_redis_usec(void);


ngx_http_clinic_redis_endpoint_t *
ngx_http_clinic_redis_add(ngx_conf_t *cf, ngx_array_t *endpoints,
    ngx_str_t *addr, ngx_msec_t timeout, ngx_str_t *password_file,
    ngx_str_t *user, ngx_int_t db)
{
    u_char                            *p;
    ngx_url_t                          u;
    ngx_uint_t                         i;
    ngx_http_clinic_redis_endpoint_t  *ep, **epp;

    epp = endpoints->elts;

    for (i = 0; i < endpoints->nelts; i++) {
        ep = epp[i];

        if (ep->name.len == addr->len
            && ngx_strncmp(ep->name.data, addr->data, addr->len) == 0
            && ep->timeout == timeout
            && ep->db == db
            && ep->password_file.len == password_file->len
            && (password_file->len == 0
                || ngx_strncmp(ep->password_file.data, password_file->data,
                               password_file->len) == 0)
            && ep->user.len == user->len
            && (user->len == 0
                || ngx_strncmp(ep->user.data, user->data, user->len) == 0))
        {
            return ep;
        }
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *addr;
    u.default_port = 6379;
    u.no_resolve = 0;

    /* resolved here, at configuration time: connect never needs DNS */

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in redis address \"%V\"", u.err, addr);
        }

        return NULL;
    }

    if (u.naddrs == 0 || (u.no_port && u.family != AF_UNIX)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redis address \"%V\"", addr);
        return NULL;
    }

    ep = ngx_pcalloc(cf->pool, sizeof(ngx_http_clinic_redis_endpoint_t));
    if (ep == NULL) {
        return NULL;
    }

    ep->name = *addr;
    ep->addr = u.addrs[0];

    /* two endpoints on one address differ in db, timeout or credentials */

    ep->label.data = ngx_pnalloc(cf->pool, addr->len + 64 + user->len);
    if (ep->label.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(ep->label.data, addr->data, addr->len);

    if (db) {
        p = ngx_sprintf(p, " db=%i", db);
    }

    if (timeout != NGX_HTTP_CLINIC_REDIS_TIMEOUT) {
        p = ngx_sprintf(p, " timeout=%Mms", timeout);
    }

    if (user->len) {
        p = ngx_sprintf(p, " user=%V", user);

    } else if (password_file->len) {
        p = ngx_cpymem(p, " auth", 5);
    }

    ep->label.len = p - ep->label.data;
    ep->timeout = timeout;
    ep->db = db;
    ep->password_file = *password_file;
    ep->user = *user;
    ep->index = endpoints->nelts;

    if (password_file->len
        && ngx_http_clinic_read_secret(cf, password_file, &ep->password, 1)
           != NGX_OK)
    {
        return NULL;
    }

    epp = ngx_array_push(endpoints);
    if (epp == NULL) {
        return NULL;
    }

    *epp = ep;

    return ep;
}


ngx_int_t
ngx_http_clinic_redis_init_process(ngx_cycle_t *cycle,
    ngx_array_t *endpoints)
{
    ngx_uint_t                         i;
    ngx_http_clinic_redis_endpoint_t  *ep, **epp;

    /*
     * The clock was last read before the configuration was parsed, which
     * takes seconds with thousands of tenants: timers armed from that old
     * reading would expire at once and report a spurious outage.
     */

    ngx_time_update();

    epp = endpoints->elts;

    for (i = 0; i < endpoints->nelts; i++) {
        ep = epp[i];

        ep->log = cycle->log;
        ngx_queue_init(&ep->pending);
        ngx_queue_init(&ep->free);

        ep->flush.handler = ngx_http_clinic_redis_flush_handler;
        ep->flush.data = ep;
        ep->flush.log = cycle->log;

        ep->reconnect.handler = ngx_http_clinic_redis_reconnect_handler;
        ep->reconnect.data = ep;
        ep->reconnect.log = cycle->log;
        ep->reconnect.cancelable = 1;

        ep->backoff = NGX_HTTP_CLINIC_REDIS_BACKOFF_MIN;
        ep->initialised = 1;

        /* not up for the metrics until this worker's PING is answered */
        ngx_http_clinic_stats_redis_up(ep->stats, 0);

        /* warm up now; a failure only marks the endpoint down */
        (void) ngx_http_clinic_redis_connect(ep);
    }

    return NGX_OK;
}


void
ngx_http_clinic_redis_exit_process(ngx_array_t *endpoints)
{
    ngx_uint_t                         i;
    ngx_queue_t                       *q;
    ngx_http_clinic_redis_endpoint_t  *ep, **epp;

    epp = endpoints->elts;

    for (i = 0; i < endpoints->nelts; i++) {
        ep = epp[i];

        if (!ep->initialised) {
            continue;
        }

        ep->exiting = 1;

        if (ep->reconnect.timer_set) {
            ngx_del_timer(&ep->reconnect);
        }

        ngx_http_clinic_redis_close(ep);

        /* nobody is called back: the worker is going away */

        while (!ngx_queue_empty(&ep->pending)) {
            q = ngx_queue_head(&ep->pending);
            ngx_queue_remove(q);
            ngx_http_clinic_redis_op_free(ngx_queue_data(q,
                                          ngx_http_clinic_redis_op_t, queue));
        }

        while (!ngx_queue_empty(&ep->free)) {
            q = ngx_queue_head(&ep->free);
            ngx_queue_remove(q);
            ngx_free(ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue));
        }

        if (ep->out) {
            ngx_free(ep->out);
            ep->out = NULL;
        }
    }
}


ngx_uint_t
ngx_http_clinic_redis_is_up(ngx_http_clinic_redis_endpoint_t *ep)
{
    return ep->initialised && !ep->down && ep->connected;
}


ngx_int_t
ngx_http_clinic_redis_send(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_pool_t *pool, int argc, const char **argv, const size_t *argvlen,
    ngx_http_clinic_redis_handler_pt handler, void *data,
    ngx_http_clinic_redis_op_t **opp)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_clinic_redis_op_t   *op;
    ngx_http_clinic_redis_ref_t  *ref;

    if (!ep->initialised || ep->down) {
        return NGX_DECLINED;
    }

    cln = NULL;

    if (pool) {
        cln = ngx_pool_cleanup_add(pool, sizeof(ngx_http_clinic_redis_ref_t));
        if (cln == NULL) {
            return NGX_ERROR;
        }
    }

    if (ep->conn == NULL && ngx_http_clinic_redis_connect(ep) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ngx_http_clinic_redis_enqueue(ep, argc, argv, argvlen, handler, data,
                                      &op)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (handler == NULL) {
        /* fire and forget: the reply is counted and dropped */
        op->done = 1;
    }

    if (cln) {
        ref = cln->data;
        ref->op = op;
        op->ref = ref;
        cln->handler = ngx_http_clinic_redis_ref_cleanup;
    }

    if (opp) {
        *opp = op;
    }

    return NGX_OK;
}


void
ngx_http_clinic_redis_detach(ngx_http_clinic_redis_op_t *op)
{
    /* the reply, if one comes, is dropped; the timer stays as a watchdog */

    op->done = 1;
    op->handler = NULL;
    op->data = NULL;

    if (op->ref) {
        op->ref->op = NULL;
        op->ref = NULL;
    }
}


static void
ngx_http_clinic_redis_ref_cleanup(void *data)
{
    ngx_http_clinic_redis_ref_t  *ref = data;

    if (ref->op) {
        ngx_http_clinic_redis_detach(ref->op);
    }
}


static ngx_int_t
ngx_http_clinic_redis_enqueue(ngx_http_clinic_redis_endpoint_t *ep,
    int argc, const char **argv, const size_t *argvlen,
    ngx_http_clinic_redis_handler_pt handler, void *data,
    ngx_http_clinic_redis_op_t **opp)
{
    int                          len;
    char                        *cmd;
    size_t                       size;
    u_char                      *out;
    ngx_http_clinic_redis_op_t  *op;

    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return NGX_ERROR;
    }

    if (ep->out_len + len > ep->out_size) {
        size = ngx_max(ep->out_size * 2, ep->out_len + len);
        size = ngx_max(size, 4096);

        out = ngx_alloc(size, ep->log);
        if (out == NULL) {
            redisFreeCommand(cmd);
            return NGX_ERROR;
        }

        if (ep->out) {
            ngx_memcpy(out, ep->out + ep->out_pos, ep->out_len - ep->out_pos);
            ngx_free(ep->out);
        }

        ep->out_len -= ep->out_pos;
        ep->out_pos = 0;
        ep->out = out;
        ep->out_size = size;
    }

    op = ngx_http_clinic_redis_op_get(ep);
    if (op == NULL) {
        redisFreeCommand(cmd);
        return NGX_ERROR;
    }

    ngx_memcpy(ep->out + ep->out_len, cmd, len);
    ep->out_len += len;
    redisFreeCommand(cmd);

    op->handler = handler;
    op->data = data;
    op->start = ngx_http_clinic_redis_usec();

    ngx_queue_insert_tail(&ep->pending, &op->queue);
    ngx_add_timer(&op->timer, ep->timeout);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ep->log, 0,
                   "clinic redis \"%V\": queued %*s, %uz bytes",
                   &ep->name, argvlen[0], argv[0], (size_t) len);

    if (ep->connected && !ep->flush.posted) {
        ngx_post_event(&ep->flush, &ngx_posted_events);
    }

    *opp = op;

    return NGX_OK;
}


static ngx_http_clinic_redis_op_t *
ngx_http_clinic_redis_op_get(ngx_http_clinic_redis_endpoint_t *ep)
{
    ngx_queue_t                 *q;
    ngx_http_clinic_redis_op_t  *op;

    if (!ngx_queue_empty(&ep->free)) {
        q = ngx_queue_head(&ep->free);
        ngx_queue_remove(q);
        ep->nfree--;
        op = ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue);

    } else {
        op = ngx_alloc(sizeof(ngx_http_clinic_redis_op_t), ep->log);
        if (op == NULL) {
            return NULL;
        }
    }

    ngx_memzero(op, sizeof(ngx_http_clinic_redis_op_t));

    op->ep = ep;
    op->timer.handler = ngx_http_clinic_redis_op_timeout;
    op->timer.data = op;
    op->timer.log = ep->log;

    return op;
}


/* the operation's one call back, unless it was detached; then recycled */

static void
ngx_http_clinic_redis_op_complete(ngx_http_clinic_redis_op_t *op,
    redisReply *reply)
{
    if (op->timer.timer_set) {
        ngx_del_timer(&op->timer);
    }

    if (!op->done) {
        op->done = 1;

        if (op->ref) {
            op->ref->op = NULL;
            op->ref = NULL;
        }

        op->handler(op->data, reply);
    }

    ngx_http_clinic_redis_op_free(op);
}


static void
ngx_http_clinic_redis_op_free(ngx_http_clinic_redis_op_t *op)
{
    ngx_http_clinic_redis_endpoint_t  *ep;

    ep = op->ep;

    if (op->timer.timer_set) {
        ngx_del_timer(&op->timer);
    }

    if (op->ref) {
        op->ref->op = NULL;
    }

    if (ep->nfree < NGX_HTTP_CLINIC_REDIS_FREE_OPS) {
        ngx_queue_insert_head(&ep->free, &op->queue);
        ep->nfree++;
        return;
    }

    ngx_free(op);
}


static ngx_int_t
ngx_http_clinic_redis_connect(ngx_http_clinic_redis_endpoint_t *ep)
{
    ngx_int_t               rc;
    ngx_file_info_t         fi;
    ngx_connection_t       *c;
    ngx_peer_connection_t   pc;

#if (NGX_HAVE_UNIX_DOMAIN)
    /*
     * nginx logs a failed connect() to a missing socket at "crit" on each
     * attempt; the outage is ours to log, once
     */

    if (ep->addr.sockaddr->sa_family == AF_UNIX
        && ngx_file_info(((struct sockaddr_un *) ep->addr.sockaddr)->sun_path,
                         &fi) == NGX_FILE_ERROR)
    {
        ngx_http_clinic_redis_fail(ep, "no socket");
        return NGX_DECLINED;
    }
#endif

    ngx_memzero(&pc, sizeof(ngx_peer_connection_t));

    pc.sockaddr = ep->addr.sockaddr;
    pc.socklen = ep->addr.socklen;
    pc.name = &ep->name;
    pc.get = ngx_event_get_peer;
    pc.log = ep->log;
    /* the outage itself is logged once, by ngx_http_clinic_redis_fail() */
    pc.log_error = NGX_ERROR_INFO;

    ep->reader = redisReaderCreate();
    if (ep->reader == NULL) {
        return NGX_ERROR;
    }

    /*
     * hiredis frees its input buffer whenever it is empty and over 16 KB;
     * cached pages are bigger than that, so keep up to 1 MB between replies
     */

    ((redisReader *) ep->reader)->maxbuf = NGX_HTTP_CLINIC_REDIS_READER_KEEP;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ep->log, 0,
                   "clinic redis \"%V\": connecting", &ep->name);

    rc = ngx_event_connect_peer(&pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        if (pc.connection) {
            ngx_close_connection(pc.connection);
        }

        redisReaderFree(ep->reader);
        ep->reader = NULL;

        ngx_http_clinic_redis_fail(ep, "connect failed");
        return NGX_DECLINED;
    }

    c = pc.connection;
    c->data = ep;
    c->log = ep->log;
    c->read->log = ep->log;
    c->write->log = ep->log;
    c->read->handler = ngx_http_clinic_redis_read_handler;
    c->write->handler = ngx_http_clinic_redis_write_handler;
    c->log_error = NGX_ERROR_INFO;

    ep->conn = c;
    ep->connected = 0;
    ep->out_len = 0;
    ep->out_pos = 0;

    if (ngx_http_clinic_redis_handshake(ep) != NGX_OK) {
        ngx_http_clinic_redis_fail(ep, "out of memory");
        return NGX_DECLINED;
    }

    if (rc == NGX_OK) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ep->log, 0,
                       "clinic redis \"%V\": connected", &ep->name);

        ep->connected = 1;
        ngx_post_event(&ep->flush, &ngx_posted_events);
    }

    return NGX_OK;
}


/*
 * AUTH and SELECT go first on every new connection; the PING after them
 * decides when a reconnecting endpoint counts as up again.
 */

static ngx_int_t
ngx_http_clinic_redis_handshake(ngx_http_clinic_redis_endpoint_t *ep)
{
    u_char                       db[NGX_INT_T_LEN];
    size_t                       lens[3];
    int                          argc;
    const char                  *argv[3];
    ngx_http_clinic_redis_op_t  *op;

    if (ep->password.len) {

        /* AUTH password, or AUTH user password for a Redis 6 ACL user */

        argc = 0;
        argv[argc] = "AUTH";
        lens[argc++] = 4;

        if (ep->user.len) {
            argv[argc] = (const char *) ep->user.data;
            lens[argc++] = ep->user.len;
        }

        argv[argc] = (const char *) ep->password.data;
        lens[argc++] = ep->password.len;

        if (ngx_http_clinic_redis_enqueue(ep, argc, argv, lens,
                                    ngx_http_clinic_redis_handshake_handler,
                                    ep, &op)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ep->db) {
        argv[0] = "SELECT";
        lens[0] = 6;
        argv[1] = (const char *) db;
        lens[1] = ngx_sprintf(db, "%i", ep->db) - db;

        if (ngx_http_clinic_redis_enqueue(ep, 2, argv, lens,
                                    ngx_http_clinic_redis_handshake_handler,
                                    ep, &op)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    argv[0] = "PING";
    lens[0] = 4;

    return ngx_http_clinic_redis_enqueue(ep, 1, argv, lens,
                                         ngx_http_clinic_redis_ping_handler,
                                         ep, &op);
}


static void
ngx_http_clinic_redis_handshake_handler(void *data, redisReply *reply)
{
    ngx_http_clinic_redis_endpoint_t  *ep = data;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        return;
    }

    /* never log the password; the error text of AUTH/SELECT is safe */

    ngx_log_error(NGX_LOG_ERR, ep->log, 0,
                  "clinic: redis \"%V\" refused the connection setup: %*s",
                  &ep->name, (size_t) ngx_min(reply->len, 200), reply->str);

    ngx_http_clinic_redis_fail(ep, "setup refused");
}


static void
ngx_http_clinic_redis_ping_handler(void *data, redisReply *reply)
{
    ngx_http_clinic_redis_endpoint_t  *ep = data;

    if (reply == NULL) {
        /* the connection already failed, and the reconnect is armed */
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        /*
         * LOADING while Redis reads its dataset, BUSY while a script runs,
         * or any other refusal: this connection does not count as up, so
         * close it and come back after the backoff like any other failure
         */

        ngx_log_error(NGX_LOG_INFO, ep->log, 0,
                      "clinic: redis \"%V\" answered PING with: %*s",
                      &ep->name, (size_t) ngx_min(reply->len, 200),
                      reply->str);

        ngx_http_clinic_redis_fail(ep, "not ready");
        return;
    }

    if (ep->down && ep->logged_down) {
        ngx_log_error(NGX_LOG_NOTICE, ep->log, 0,
                      "clinic: redis \"%V\" is up again", &ep->name);
    }

    ep->down = 0;
    ep->logged_down = 0;
    ep->backoff = NGX_HTTP_CLINIC_REDIS_BACKOFF_MIN;

    ngx_http_clinic_stats_redis_up(ep->stats, 1);
}


static void
ngx_http_clinic_redis_flush_handler(ngx_event_t *ev)
{
    ngx_http_clinic_redis_endpoint_t  *ep = ev->data;

    if (ep->conn && ep->connected) {
        ngx_http_clinic_redis_send_buffer(ep);
    }
}


static void
ngx_http_clinic_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_clinic_redis_endpoint_t  *ep = ev->data;

    if (ep->exiting || ep->conn) {
        return;
    }

    ngx_http_clinic_stats_redis_count(ep->stats,
                                      NGX_HTTP_CLINIC_STAT_RECONNECTS);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ep->log, 0,
                   "clinic redis \"%V\": reconnecting, next backoff %Mms",
                   &ep->name, ep->backoff);

    (void) ngx_http_clinic_redis_connect(ep);
}


static void
ngx_http_clinic_redis_op_timeout(ngx_event_t *ev)
{
    ngx_http_clinic_redis_op_t        *op = ev->data;
    ngx_http_clinic_redis_endpoint_t  *ep;

    ep = op->ep;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ep->log, 0,
                   "clinic redis \"%V\": no reply within %Mms",
                   &ep->name, ep->timeout);

    ngx_http_clinic_stats_redis_count(ep->stats,
                                      NGX_HTTP_CLINIC_STAT_TIMEOUTS);

    /*
     * Replies come back in order: once one is late, everything queued
     * behind it is late too, so the connection is given up as a whole.
     */

    ngx_http_clinic_redis_fail(ep, "timed out");
}


static void
ngx_http_clinic_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t                  *c;
    ngx_http_clinic_redis_endpoint_t  *ep;

    c = wev->data;
    ep = c->data;

    if (!ep->connected) {
        if (ngx_http_clinic_redis_test_connect(c) != NGX_OK) {
            ngx_http_clinic_redis_fail(ep, "connect failed");
            return;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ep->log, 0,
                       "clinic redis \"%V\": connected", &ep->name);

        ep->connected = 1;
    }

    ngx_http_clinic_redis_send_buffer(ep);
}


static ngx_int_t
ngx_http_clinic_redis_test_connect(ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_log_error(NGX_LOG_INFO, c->log, err,
                      "clinic: connect() to redis failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_clinic_redis_send_buffer(ngx_http_clinic_redis_endpoint_t *ep)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = ep->conn;

    while (ep->out_pos < ep->out_len) {
        n = c->send(c, ep->out + ep->out_pos, ep->out_len - ep->out_pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            ngx_http_clinic_redis_fail(ep, "send failed");
            return;
        }

        ep->out_pos += n;
    }

    if (ep->out_pos == ep->out_len) {
        ep->out_pos = 0;
        ep->out_len = 0;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_http_clinic_redis_fail(ep, "event error");
    }
}


static void
ngx_http_clinic_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                            n;
    ngx_connection_t                  *c;
    ngx_http_clinic_redis_endpoint_t  *ep;
    u_char                             buf[NGX_HTTP_CLINIC_REDIS_READ_SIZE];

    c = rev->data;
    ep = c->data;

    /*
     * Drain the socket: with edge-triggered events a reply larger than one
     * read would otherwise wait for an event that never comes.
     */

    do {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_clinic_redis_fail(ep, "connection closed");
            return;
        }

        if (redisReaderFeed(ep->reader, (const char *) buf, n) != REDIS_OK) {
            ngx_http_clinic_redis_fail(ep, "out of memory");
            return;
        }

        if (ngx_http_clinic_redis_process(ep, c) != NGX_OK) {
            return;
        }

    } while (rev->ready);

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_clinic_redis_fail(ep, "event error");
    }
}


/* returns NGX_OK while the connection c is still the endpoint's own */

static ngx_int_t
ngx_http_clinic_redis_process(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_connection_t *c)
{
    void                        *reply;
    uint64_t                     usec;
    ngx_queue_t                 *q;
    redisReply                  *rr;
    ngx_http_clinic_redis_op_t  *op;

    for ( ;; ) {
        reply = NULL;

        if (redisReaderGetReply(ep->reader, &reply) != REDIS_OK) {
            ngx_http_clinic_redis_fail(ep, "protocol error");
            return NGX_ERROR;
        }

        if (reply == NULL) {
            return NGX_OK;
        }

        if (ngx_queue_empty(&ep->pending)) {
            freeReplyObject(reply);
            ngx_http_clinic_redis_fail(ep, "unexpected reply");
            return NGX_ERROR;
        }

        q = ngx_queue_head(&ep->pending);
        ngx_queue_remove(q);
        op = ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue);

        rr = reply;
        usec = ngx_http_clinic_redis_usec() - op->start;

        ngx_http_clinic_stats_redis_latency(ep->stats, usec,
                                         rr->type == REDIS_REPLY_ERROR);

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ep->log, 0,
                       "clinic redis \"%V\": reply of type %d after "
                       "%uLus%s", &ep->name, rr->type, usec,
                       op->done ? ", dropped (its request is gone)" : "");

        ngx_http_clinic_redis_op_complete(op, rr);
        freeReplyObject(reply);

        if (ep->conn != c) {
            return NGX_ERROR;
        }
    }
}


/*
 * Gives the connection up: every pending operation fails exactly once,
 * new ones fail at once until a reconnect (with backoff) answers PING.
 */

static void
ngx_http_clinic_redis_fail(ngx_http_clinic_redis_endpoint_t *ep,
    const char *reason)
{
    ngx_queue_t                 *q;
    ngx_http_clinic_redis_op_t  *op;

    if (!ep->logged_down) {
        ngx_log_error(NGX_LOG_ERR, ep->log, 0,
                      "clinic: redis \"%V\" is unavailable (%s); failing "
                      "fast until it answers again", &ep->name, reason);
        ep->logged_down = 1;
    }

    ngx_http_clinic_stats_redis_up(ep->stats, 0);
    ngx_http_clinic_stats_redis_count(ep->stats,
                                      NGX_HTTP_CLINIC_STAT_ERRORS);

    ep->down = 1;

    ngx_http_clinic_redis_close(ep);

    while (!ngx_queue_empty(&ep->pending)) {
        q = ngx_queue_head(&ep->pending);
        ngx_queue_remove(q);
        op = ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue);

        ngx_http_clinic_redis_op_complete(op, NULL);
    }

    if (!ep->exiting && !ep->reconnect.timer_set) {
        ngx_add_timer(&ep->reconnect, ep->backoff);
        ep->backoff = ngx_min(ep->backoff * 2,
                              NGX_HTTP_CLINIC_REDIS_BACKOFF_MAX);
    }
}


static void
ngx_http_clinic_redis_close(ngx_http_clinic_redis_endpoint_t *ep)
{
    if (ep->flush.posted) {
        ngx_delete_posted_event(&ep->flush);
    }

    if (ep->conn) {
        /* we own the socket: hiredis never saw it, so no double close */
        ngx_close_connection(ep->conn);
        ep->conn = NULL;
    }

    if (ep->reader) {
        redisReaderFree(ep->reader);
        ep->reader = NULL;
    }

    ep->connected = 0;
    ep->out_len = 0;
    ep->out_pos = 0;
}


static uint64_t
ngx_http_clinic_redis_usec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
