
/*
 * One connection to one Redis node; see the header and
 * docs/architecture.md, "The Redis layer".
 *
 * The worker owns the socket, on nginx's event loop: a non-blocking
 * connect, nginx read/write events and nginx timers.  hiredis only formats
 * commands (redisFormatCommandArgv) and parses replies (redisReader); it
 * never touches the socket.  Commands are appended to one output buffer,
 * flushed once per event loop iteration, and matched to their replies by a
 * FIFO of operations.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <time.h>

#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_redis_link.h"


#define NGX_HTTP_CLINIC_REDIS_BACKOFF_MIN   50
#define NGX_HTTP_CLINIC_REDIS_BACKOFF_MAX   2000
#define NGX_HTTP_CLINIC_REDIS_FREE_OPS      128
#define NGX_HTTP_CLINIC_REDIS_READ_SIZE     65536
#define NGX_HTTP_CLINIC_REDIS_READER_KEEP   (1024 * 1024)
#define NGX_HTTP_CLINIC_REDIS_DNS_MIN       1000


static ngx_int_t ngx_http_clinic_redis_link_resolve(
    ngx_http_clinic_redis_link_t *link);
static void ngx_http_clinic_redis_link_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_clinic_redis_link_dns_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_clinic_redis_link_open(
    ngx_http_clinic_redis_link_t *link);
static void ngx_http_clinic_redis_link_connected(
    ngx_http_clinic_redis_link_t *link);
#if (NGX_SSL)
static ngx_int_t ngx_http_clinic_redis_link_tls(
    ngx_http_clinic_redis_link_t *link);
static void ngx_http_clinic_redis_link_tls_done(ngx_connection_t *c);
static ngx_int_t ngx_http_clinic_redis_link_check_name(ngx_connection_t *c,
    ngx_http_clinic_redis_link_t *link);
#endif
static ngx_int_t ngx_http_clinic_redis_link_handshake(
    ngx_http_clinic_redis_link_t *link);
static void ngx_http_clinic_redis_link_setup_reply(void *data,
    redisReply *reply);
static void ngx_http_clinic_redis_link_role_reply(void *data,
    redisReply *reply);
static void ngx_http_clinic_redis_link_ping_reply(void *data,
    redisReply *reply);
static void ngx_http_clinic_redis_link_flush_handler(ngx_event_t *ev);
static void ngx_http_clinic_redis_link_reconnect_handler(ngx_event_t *ev);
static void ngx_http_clinic_redis_op_timeout(ngx_event_t *ev);
static void ngx_http_clinic_redis_link_write_handler(ngx_event_t *wev);
static void ngx_http_clinic_redis_link_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_clinic_redis_link_test_connect(ngx_connection_t *c);
static void ngx_http_clinic_redis_link_send(
    ngx_http_clinic_redis_link_t *link);
static ngx_int_t ngx_http_clinic_redis_link_process(
    ngx_http_clinic_redis_link_t *link, ngx_connection_t *c);
static ngx_int_t ngx_http_clinic_redis_link_wait(
    ngx_http_clinic_redis_link_t *link, ngx_http_clinic_redis_op_t *op,
    redisReply *reply);
static void ngx_http_clinic_redis_link_wait_reply(void *data,
    redisReply *reply);
static void ngx_http_clinic_redis_link_set_state(
    ngx_http_clinic_redis_link_t *link, ngx_uint_t up);
static uint64_t ngx_http_clinic_redis_usec(void);


/*
 * addr: an address known now (an IP literal, a unix socket, or a name
 * resolved at configuration time); host: a name to resolve through the
 * resolver before each connect, and again at its TTL.  Per worker memory.
 */

ngx_http_clinic_redis_link_t *
ngx_http_clinic_redis_link_create(ngx_http_clinic_redis_opts_t *opts,
    ngx_uint_t kind, ngx_str_t *name, ngx_addr_t *addr, ngx_str_t *host,
    in_port_t port)
{
    ngx_http_clinic_redis_link_t  *link;

    link = ngx_calloc(sizeof(ngx_http_clinic_redis_link_t) + name->len
                      + (host ? host->len : 0), opts->log);
    if (link == NULL) {
        return NULL;
    }

    link->opts = opts;
    link->kind = kind;

    link->name.data = (u_char *) &link[1];
    link->name.len = name->len;
    ngx_memcpy(link->name.data, name->data, name->len);

    if (host && host->len && opts->resolver) {
        link->host.data = link->name.data + name->len;
        link->host.len = host->len;
        ngx_memcpy(link->host.data, host->data, host->len);
    }

    link->port = port;

    if (addr) {
        ngx_http_clinic_redis_link_set_addr(link, addr->sockaddr,
                                            addr->socklen);
    }

    ngx_queue_init(&link->pending);
    ngx_queue_init(&link->held);

    link->flush.handler = ngx_http_clinic_redis_link_flush_handler;
    link->flush.data = link;
    link->flush.log = opts->log;

    link->reconnect.handler = ngx_http_clinic_redis_link_reconnect_handler;
    link->reconnect.data = link;
    link->reconnect.log = opts->log;
    link->reconnect.cancelable = 1;

    link->dns.handler = ngx_http_clinic_redis_link_dns_handler;
    link->dns.data = link;
    link->dns.log = opts->log;
    link->dns.cancelable = 1;

    link->backoff = NGX_HTTP_CLINIC_REDIS_BACKOFF_MIN;

    return link;
}


void
ngx_http_clinic_redis_link_set_addr(ngx_http_clinic_redis_link_t *link,
    struct sockaddr *sa, socklen_t socklen)
{
    size_t  n;

    socklen = ngx_min(socklen, (socklen_t) NGX_SOCKADDRLEN);

    ngx_memcpy(link->sockaddr, sa, socklen);
    link->addr.sockaddr = (struct sockaddr *) link->sockaddr;
    link->addr.socklen = socklen;

    if (link->port && sa->sa_family != AF_UNIX) {
        ngx_inet_set_port(link->addr.sockaddr, link->port);
    }

    n = ngx_sock_ntop(link->addr.sockaddr, link->addr.socklen,
                      link->addr_text, NGX_SOCKADDR_STRLEN, 1);

    link->addr.name.data = link->addr_text;
    link->addr.name.len = n;
    link->has_addr = 1;
}


ngx_uint_t
ngx_http_clinic_redis_link_is_up(ngx_http_clinic_redis_link_t *link)
{
    return link->conn && link->ready && !link->down;
}


/*
 * Starts a connection: resolves the name first when it has one (and the
 * answer is not fresh), else connects at once.  A failure marks the link
 * down and arms the reconnect.
 */

ngx_int_t
ngx_http_clinic_redis_link_connect(ngx_http_clinic_redis_link_t *link)
{
    if (link->conn || link->resolving || link->opts->exiting) {
        return NGX_OK;
    }

    link->idle = 0;

    if (link->host.len) {
        return ngx_http_clinic_redis_link_resolve(link);
    }

    if (!link->has_addr) {
        ngx_http_clinic_redis_link_fail(link, "no address");
        return NGX_DECLINED;
    }

    return ngx_http_clinic_redis_link_open(link);
}


/*
 * nginx's resolver answers from its cache while the answer is valid
 * (its TTL, or the resolver's valid=), so a name is asked for on every
 * connect and costs a query only when it may have changed.
 */

static ngx_int_t
ngx_http_clinic_redis_link_resolve(ngx_http_clinic_redis_link_t *link)
{
    ngx_resolver_ctx_t  *ctx;

    ctx = ngx_resolve_start(link->opts->resolver, NULL);

    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        ngx_http_clinic_redis_link_fail(link, "no resolver");
        return NGX_DECLINED;
    }

    ctx->name = link->host;
    ctx->handler = ngx_http_clinic_redis_link_resolved;
    ctx->data = link;
    ctx->timeout = link->opts->resolver_timeout;

    link->resolving = ctx;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, link->opts->log, 0,
                   "clinic redis \"%V\": resolving", &link->name);

    if (ngx_resolve_name(ctx) != NGX_OK) {
        link->resolving = NULL;
        ngx_http_clinic_redis_link_fail(link, "resolver error");
        return NGX_DECLINED;
    }

    /* the handler may have run already, from the resolver's cache */

    return NGX_OK;
}


static void
ngx_http_clinic_redis_link_resolved(ngx_resolver_ctx_t *ctx)
{
    ngx_http_clinic_redis_link_t *link = ctx->data;

    time_t       valid;
    ngx_uint_t   i, same, reconnect, level;
    ngx_msec_t   ttl;

    link->resolving = NULL;

    if (ctx->state || ctx->naddrs == 0) {
        level = link->logged_down ? NGX_LOG_INFO : NGX_LOG_ERR;

        ngx_log_error(level, link->opts->log, 0,
                      "clinic: redis \"%V\": \"%V\" could not be resolved "
                      "(%i: %s)", &link->name, &ctx->name, ctx->state,
                      ngx_resolver_strerror(ctx->state));

        ngx_resolve_name_done(ctx);

        if (link->conn == NULL) {
            ngx_http_clinic_redis_link_fail(link, "name not resolved");
        }

        /* connected: keep the address in use, ask again later */

        if (link->conn && !link->dns.timer_set && !link->opts->exiting) {
            ngx_add_timer(&link->dns, NGX_HTTP_CLINIC_REDIS_DNS_MIN);
        }

        return;
    }

    /* the address in use stays while the name still points to it */

    same = 0;

    if (link->has_addr) {
        for (i = 0; i < ctx->naddrs; i++) {
            ngx_inet_set_port(ctx->addrs[i].sockaddr, link->port);

            if (ngx_cmp_sockaddr(ctx->addrs[i].sockaddr,
                                 ctx->addrs[i].socklen,
                                 link->addr.sockaddr, link->addr.socklen, 1)
                == NGX_OK)
            {
                same = 1;
                break;
            }
        }
    }

    reconnect = 0;

    if (!same) {
        if (link->has_addr) {
            ngx_log_error(NGX_LOG_NOTICE, link->opts->log, 0,
                          "clinic: redis \"%V\" moved from %V",
                          &link->name, &link->addr.name);
            reconnect = (link->conn != NULL);
        }

        ngx_http_clinic_redis_link_set_addr(link, ctx->addrs[0].sockaddr,
                                            ctx->addrs[0].socklen);

        ngx_log_error(NGX_LOG_NOTICE, link->opts->log, 0,
                      "clinic: redis \"%V\" is at %V", &link->name,
                      &link->addr.name);
    }

    valid = ctx->valid;

    ngx_resolve_name_done(ctx);

    /* asked again when the answer expires: a name that moves is followed */

    ttl = (valid > ngx_time()) ? (ngx_msec_t) (valid - ngx_time()) * 1000
                               : 0;
    ttl = ngx_max(ttl, NGX_HTTP_CLINIC_REDIS_DNS_MIN);

    if (link->dns.timer_set) {
        ngx_del_timer(&link->dns);
    }

    if (!link->opts->exiting) {
        ngx_add_timer(&link->dns, ttl);
    }

    if (reconnect) {
        /* what was sent to the old address fails once; new ones go on */
        ngx_http_clinic_redis_link_fail(link, "moved");

        if (link->reconnect.timer_set) {
            ngx_del_timer(&link->reconnect);
        }
    }

    if (link->conn == NULL) {
        (void) ngx_http_clinic_redis_link_open(link);
    }
}


static void
ngx_http_clinic_redis_link_dns_handler(ngx_event_t *ev)
{
    ngx_http_clinic_redis_link_t *link = ev->data;

    if (link->opts->exiting || link->resolving || link->host.len == 0) {
        return;
    }

    if (link->conn == NULL) {
        /* the next connect asks anyway */
        return;
    }

    (void) ngx_http_clinic_redis_link_resolve(link);
}


static ngx_int_t
ngx_http_clinic_redis_link_open(ngx_http_clinic_redis_link_t *link)
{
    ngx_int_t                      rc;
    ngx_connection_t              *c;
    ngx_peer_connection_t          pc;
#if (NGX_HAVE_UNIX_DOMAIN)
    ngx_file_info_t                fi;

    /*
     * nginx logs a failed connect() to a missing socket at "crit" on each
     * attempt; the outage is ours to log, once
     */

    if (link->addr.sockaddr->sa_family == AF_UNIX
        && ngx_file_info(
               ((struct sockaddr_un *) link->addr.sockaddr)->sun_path, &fi)
           == NGX_FILE_ERROR)
    {
        ngx_http_clinic_redis_link_fail(link, "no socket");
        return NGX_DECLINED;
    }
#endif

    ngx_memzero(&pc, sizeof(ngx_peer_connection_t));

    pc.sockaddr = link->addr.sockaddr;
    pc.socklen = link->addr.socklen;
    pc.name = &link->name;
    pc.get = ngx_event_get_peer;
    pc.log = link->opts->log;
    /* the outage itself is logged once, by ngx_http_clinic_redis_link_fail */
    pc.log_error = NGX_ERROR_INFO;

    link->reader = redisReaderCreate();
    if (link->reader == NULL) {
        return NGX_ERROR;
    }

    /*
     * hiredis frees its input buffer whenever it is empty and over 16 KB;
     * cached pages are bigger than that, so keep up to 1 MB between replies
     */

    ((redisReader *) link->reader)->maxbuf = NGX_HTTP_CLINIC_REDIS_READER_KEEP;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, link->opts->log, 0,
                   "clinic redis \"%V\": connecting to %V", &link->name,
                   &link->addr.name);

    rc = ngx_event_connect_peer(&pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        if (pc.connection) {
            ngx_close_connection(pc.connection);
        }

        redisReaderFree(link->reader);
        link->reader = NULL;

        ngx_http_clinic_redis_link_fail(link, "connect failed");
        return NGX_DECLINED;
    }

    c = pc.connection;
    c->data = link;
    c->log = link->opts->log;
    c->read->log = c->log;
    c->write->log = c->log;
    c->read->handler = ngx_http_clinic_redis_link_read_handler;
    c->write->handler = ngx_http_clinic_redis_link_write_handler;
    c->log_error = NGX_ERROR_INFO;

    link->conn = c;
    link->connected = 0;
    link->ready = 0;
    link->subscribed = 0;
    link->out_len = 0;
    link->out_pos = 0;

    if (ngx_http_clinic_redis_link_handshake(link) != NGX_OK) {
        ngx_http_clinic_redis_link_fail(link, "out of memory");
        return NGX_DECLINED;
    }

    if (rc == NGX_OK) {
        ngx_http_clinic_redis_link_connected(link);
    }

    return NGX_OK;
}


/* the TCP connection is up: TLS first when configured, then the commands */

static void
ngx_http_clinic_redis_link_connected(ngx_http_clinic_redis_link_t *link)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, link->opts->log, 0,
                   "clinic redis \"%V\": connected", &link->name);

#if (NGX_SSL)
    if (link->opts->ssl && link->conn->ssl == NULL) {
        if (ngx_http_clinic_redis_link_tls(link) != NGX_OK) {
            ngx_http_clinic_redis_link_fail(link, "TLS failed");
        }

        return;
    }
#endif

    link->connected = 1;

    if (!link->flush.posted) {
        ngx_post_event(&link->flush, &ngx_posted_events);
    }
}


#if (NGX_SSL)

static ngx_int_t
ngx_http_clinic_redis_link_tls(ngx_http_clinic_redis_link_t *link)
{
    u_char            *name;
    ngx_int_t          rc;
    ngx_str_t         *sni;
    ngx_connection_t  *c;

    c = link->conn;

    /* OpenSSL's connection lives in a pool of the connection's own */

    c->pool = ngx_create_pool(1024, c->log);
    if (c->pool == NULL) {
        return NGX_ERROR;
    }

    if (ngx_ssl_create_connection(link->opts->ssl, c, NGX_SSL_CLIENT)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* SNI: the configured name, else the host of the address, unless IP */

    sni = link->opts->tls_name.len ? &link->opts->tls_name : &link->host;

    if (sni->len && ngx_inet_addr(sni->data, sni->len) == INADDR_NONE) {
        name = ngx_alloc(sni->len + 1, c->log);
        if (name == NULL) {
            return NGX_ERROR;
        }

        (void) ngx_cpystrn(name, sni->data, sni->len + 1);

        if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) name)
            == 0)
        {
            ngx_ssl_error(NGX_LOG_ERR, c->log, 0,
                          "SSL_set_tlsext_host_name(\"%s\") failed", name);
            ngx_free(name);
            return NGX_ERROR;
        }

        ngx_free(name);
    }

    link->tls_pending = 1;

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_clinic_redis_link_tls_done;
        return NGX_OK;
    }

    ngx_http_clinic_redis_link_tls_done(c);

    return NGX_OK;
}


static void
ngx_http_clinic_redis_link_tls_done(ngx_connection_t *c)
{
    long                           rc;
    ngx_uint_t                     level;
    ngx_http_clinic_redis_link_t  *link;

    link = c->data;
    link->tls_pending = 0;

    /* every retry fails the same way: said once, then at "info" */
    level = link->logged_down ? NGX_LOG_INFO : NGX_LOG_ERR;

    c->read->handler = ngx_http_clinic_redis_link_read_handler;
    c->write->handler = ngx_http_clinic_redis_link_write_handler;

    if (!c->ssl->handshaked) {
        ngx_http_clinic_redis_link_fail(link, "TLS handshake failed");
        return;
    }

    if (link->opts->tls_verify) {
        rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK) {
            ngx_log_error(level, c->log, 0,
                          "clinic: redis \"%V\": certificate verify error: "
                          "(%l:%s)", &link->name, rc,
                          X509_verify_cert_error_string(rc));
            ngx_http_clinic_redis_link_fail(link, "certificate not trusted");
            return;
        }

        if (ngx_http_clinic_redis_link_check_name(c, link) != NGX_OK) {
            ngx_http_clinic_redis_link_fail(link, "certificate mismatch");
            return;
        }
    }

    link->connected = 1;

    if (!link->flush.posted) {
        ngx_post_event(&link->flush, &ngx_posted_events);
    }

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }
}


/*
 * The certificate must name tls_name=, else the host name of the address,
 * else its IP address (a subjectAltName of type IP).
 */

static ngx_int_t
ngx_http_clinic_redis_link_check_name(ngx_connection_t *c,
    ngx_http_clinic_redis_link_t *link)
{
    int         rc;
    X509       *cert;
    size_t      len;
    ngx_str_t  *name;
    ngx_uint_t  level;
    u_char      buf[NGX_SOCKADDR_STRLEN + 1];
    u_char      host[256];

    name = link->opts->tls_name.len ? &link->opts->tls_name : &link->host;

    cert = SSL_get_peer_certificate(c->ssl->connection);
    if (cert == NULL) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "clinic: redis \"%V\" sent no certificate",
                      &link->name);
        return NGX_ERROR;
    }

    if (name->len) {
        len = ngx_min(name->len, sizeof(host) - 1);
        ngx_memcpy(host, name->data, len);
        host[len] = '\0';

        rc = X509_check_host(cert, (char *) host, len, 0, NULL);

        if (rc != 1) {
            rc = X509_check_ip_asc(cert, (char *) host, 0);
        }

    } else {
        len = ngx_sock_ntop(link->addr.sockaddr, link->addr.socklen, buf,
                            NGX_SOCKADDR_STRLEN, 0);
        buf[len] = '\0';

        ngx_memcpy(host, buf, len + 1);

        rc = X509_check_ip_asc(cert, (char *) host, 0);
    }

    X509_free(cert);

    level = link->logged_down ? NGX_LOG_INFO : NGX_LOG_ERR;

    if (rc != 1) {
        ngx_log_error(level, c->log, 0,
                      "clinic: redis \"%V\": the certificate does not "
                      "match \"%s\"", &link->name, host);
        return NGX_ERROR;
    }

    return NGX_OK;
}

#endif


/*
 * AUTH and SELECT go first on every new connection, then ROLE for a
 * master found through Sentinel; the PING after them decides when the
 * link counts as up.
 */

static ngx_int_t
ngx_http_clinic_redis_link_handshake(ngx_http_clinic_redis_link_t *link)
{
    u_char                         db[NGX_INT_T_LEN];
    size_t                         lens[3];
    int                            argc;
    const char                    *argv[3];
    ngx_http_clinic_redis_opts_t  *opts;

    opts = link->opts;

    if (opts->password.len && link->kind != NGX_HTTP_CLINIC_REDIS_LINK_SENTINEL)
    {
        /* AUTH password, or AUTH user password for a Redis 6 ACL user */

        argc = 0;
        argv[argc] = "AUTH";
        lens[argc++] = 4;

        if (opts->user.len) {
            argv[argc] = (const char *) opts->user.data;
            lens[argc++] = opts->user.len;
        }

        argv[argc] = (const char *) opts->password.data;
        lens[argc++] = opts->password.len;

        if (ngx_http_clinic_redis_link_command(link, argc, argv, lens,
                                        ngx_http_clinic_redis_link_setup_reply,
                                        link)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (opts->db && link->kind != NGX_HTTP_CLINIC_REDIS_LINK_SENTINEL) {
        argv[0] = "SELECT";
        lens[0] = 6;
        argv[1] = (const char *) db;
        lens[1] = ngx_sprintf(db, "%i", opts->db) - db;

        if (ngx_http_clinic_redis_link_command(link, 2, argv, lens,
                                        ngx_http_clinic_redis_link_setup_reply,
                                        link)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (link->kind == NGX_HTTP_CLINIC_REDIS_LINK_MASTER) {
        argv[0] = "ROLE";
        lens[0] = 4;

        if (ngx_http_clinic_redis_link_command(link, 1, argv, lens,
                                         ngx_http_clinic_redis_link_role_reply,
                                         link)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    argv[0] = "PING";
    lens[0] = 4;

    return ngx_http_clinic_redis_link_command(link, 1, argv, lens,
                                         ngx_http_clinic_redis_link_ping_reply,
                                         link);
}


static void
ngx_http_clinic_redis_link_setup_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_redis_link_t  *link = data;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        return;
    }

    /* never log the password; the error text of AUTH/SELECT is safe */

    ngx_log_error(NGX_LOG_ERR, link->opts->log, 0,
                  "clinic: redis \"%V\" refused the connection setup: %*s",
                  &link->name, (size_t) ngx_min(reply->len, 200),
                  reply->str);

    ngx_http_clinic_redis_link_fail(link, "setup refused");
}


/* a master named by Sentinel must say so itself: else ask again */

static void
ngx_http_clinic_redis_link_role_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_redis_link_t  *link = data;

    redisReply  *role;

    if (reply == NULL) {
        return;
    }

    role = (reply->type == REDIS_REPLY_ARRAY && reply->elements)
           ? reply->element[0] : reply;

    if (role->type == REDIS_REPLY_STRING
        && role->len == 6 && ngx_strncmp(role->str, "master", 6) == 0)
    {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, link->opts->log, 0,
                  "clinic: redis \"%V\" at %V is not a master (%*s)",
                  &link->name, &link->addr.name,
                  (size_t) ngx_min(role->len, 40),
                  role->str ? role->str : "");

    ngx_http_clinic_redis_link_fail(link, "not a master");
}


static void
ngx_http_clinic_redis_link_ping_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_redis_link_t  *link = data;

    if (reply == NULL || link->conn == NULL) {
        /* the connection already failed, and the reconnect is armed */
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        /*
         * LOADING while Redis reads its dataset, BUSY while a script runs,
         * or any other refusal: this connection does not count as up, so
         * close it and come back after the backoff like any other failure
         */

        ngx_log_error(NGX_LOG_INFO, link->opts->log, 0,
                      "clinic: redis \"%V\" answered PING with: %*s",
                      &link->name, (size_t) ngx_min(reply->len, 200),
                      reply->str);

        ngx_http_clinic_redis_link_fail(link, "not ready");
        return;
    }

    if (link->down && link->logged_down) {
        ngx_log_error(NGX_LOG_NOTICE, link->opts->log, 0,
                      "clinic: redis \"%V\" is up again", &link->name);
    }

    link->down = 0;
    link->logged_down = 0;
    link->ready = 1;
    link->backoff = NGX_HTTP_CLINIC_REDIS_BACKOFF_MIN;

    ngx_http_clinic_redis_link_set_state(link, NGX_HTTP_CLINIC_REDIS_LINK_UP);
}


static void
ngx_http_clinic_redis_link_set_state(ngx_http_clinic_redis_link_t *link,
    ngx_uint_t up)
{
    ngx_http_clinic_stats_redis_node_up(link->node_stats, up);

    if (link->state) {
        link->state(link, up);
    }
}


/*
 * Queues one command on the link, formatted by hiredis from argv (never a
 * format string).  The operation is the link's own: it is not kept for a
 * resend.
 */

ngx_int_t
ngx_http_clinic_redis_link_command(ngx_http_clinic_redis_link_t *link,
    int argc, const char **argv, const size_t *argvlen,
    ngx_http_clinic_redis_handler_pt handler, void *data)
{
    int                          len;
    char                        *cmd;
    ngx_int_t                    rc;
    ngx_http_clinic_redis_op_t  *op;

    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return NGX_ERROR;
    }

    op = ngx_http_clinic_redis_op_get(link->opts);
    if (op == NULL) {
        redisFreeCommand(cmd);
        return NGX_ERROR;
    }

    op->handler = handler;
    op->data = data;
    op->slot = -1;

    if (handler == NULL) {
        op->done = 1;
    }

    rc = ngx_http_clinic_redis_link_queue(link, op, cmd, len);

    redisFreeCommand(cmd);

    if (rc != NGX_OK) {
        ngx_http_clinic_redis_op_free(op);
    }

    return rc;
}


/* appends cmd to the link's output and op to its FIFO, with its timer */

ngx_int_t
ngx_http_clinic_redis_link_queue(ngx_http_clinic_redis_link_t *link,
    ngx_http_clinic_redis_op_t *op, const char *cmd, size_t len)
{
    size_t   size;
    u_char  *out;

    if (link->out_len + len > link->out_size) {
        size = ngx_max(link->out_size * 2, link->out_len + len);
        size = ngx_max(size, 4096);

        out = ngx_alloc(size, link->opts->log);
        if (out == NULL) {
            return NGX_ERROR;
        }

        if (link->out) {
            ngx_memcpy(out, link->out + link->out_pos,
                       link->out_len - link->out_pos);
            ngx_free(link->out);
        }

        link->out_len -= link->out_pos;
        link->out_pos = 0;
        link->out = out;
        link->out_size = size;
    }

    ngx_memcpy(link->out + link->out_len, cmd, len);
    link->out_len += len;

    op->link = link;
    op->start = ngx_http_clinic_redis_usec();
    op->seq = ++link->seq;

    ngx_queue_insert_tail(&link->pending, &op->queue);

    if (op->timer.timer_set) {
        ngx_del_timer(&op->timer);
    }

    op->timer.handler = ngx_http_clinic_redis_op_timeout;
    ngx_add_timer(&op->timer, link->opts->timeout);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, link->opts->log, 0,
                   "clinic redis \"%V\": queued %uz bytes at %V",
                   &link->name, len, &link->addr.name);

    if (link->connected && !link->flush.posted) {
        ngx_post_event(&link->flush, &ngx_posted_events);
    }

    return NGX_OK;
}


ngx_http_clinic_redis_op_t *
ngx_http_clinic_redis_op_get(ngx_http_clinic_redis_opts_t *opts)
{
    ngx_queue_t                 *q;
    ngx_http_clinic_redis_op_t  *op;

    if (!ngx_queue_empty(&opts->free)) {
        q = ngx_queue_head(&opts->free);
        ngx_queue_remove(q);
        opts->nfree--;
        op = ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue);

    } else {
        op = ngx_alloc(sizeof(ngx_http_clinic_redis_op_t), opts->log);
        if (op == NULL) {
            return NULL;
        }
    }

    ngx_memzero(op, sizeof(ngx_http_clinic_redis_op_t));

    op->opts = opts;
    op->timer.handler = ngx_http_clinic_redis_op_timeout;
    op->timer.data = op;
    op->timer.log = opts->log;

    return op;
}


/* the operation's one call back, unless it was detached; then recycled */

void
ngx_http_clinic_redis_op_complete(ngx_http_clinic_redis_op_t *op,
    redisReply *reply)
{
    void  **ref;

    if (op->timer.timer_set) {
        ngx_del_timer(&op->timer);
    }

    if (!op->done) {
        op->done = 1;

        if (op->ref) {
            ref = op->ref;
            *ref = NULL;
            op->ref = NULL;
        }

        op->handler(op->data, reply);
    }

    ngx_http_clinic_redis_op_free(op);
}


void
ngx_http_clinic_redis_op_free(ngx_http_clinic_redis_op_t *op)
{
    void                          **ref;
    ngx_http_clinic_redis_opts_t   *opts;

    opts = op->opts;

    if (op->timer.timer_set) {
        ngx_del_timer(&op->timer);
    }

    if (op->ref) {
        ref = op->ref;
        *ref = NULL;
        op->ref = NULL;
    }

    if (op->cmd) {
        ngx_free(op->cmd);
        op->cmd = NULL;
    }

    if (opts->nfree < NGX_HTTP_CLINIC_REDIS_FREE_OPS && !opts->exiting) {
        ngx_queue_insert_head(&opts->free, &op->queue);
        opts->nfree++;
        return;
    }

    ngx_free(op);
}


void
ngx_http_clinic_redis_opts_exit(ngx_http_clinic_redis_opts_t *opts)
{
    ngx_queue_t  *q;

    while (!ngx_queue_empty(&opts->free)) {
        q = ngx_queue_head(&opts->free);
        ngx_queue_remove(q);
        ngx_free(ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue));
    }

    opts->nfree = 0;
}


static void
ngx_http_clinic_redis_link_flush_handler(ngx_event_t *ev)
{
    ngx_http_clinic_redis_link_t  *link = ev->data;

    if (link->conn && link->connected) {
        ngx_http_clinic_redis_link_send(link);
    }
}


static void
ngx_http_clinic_redis_link_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_clinic_redis_link_t  *link = ev->data;

    if (link->opts->exiting || link->conn || link->resolving) {
        return;
    }

    ngx_http_clinic_stats_redis_count(link->stats,
                                      NGX_HTTP_CLINIC_STAT_RECONNECTS);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, link->opts->log, 0,
                   "clinic redis \"%V\": reconnecting, next backoff %Mms",
                   &link->name, link->backoff);

    /* the owner may have another idea first: a sentinel asked again */

    if (link->state) {
        link->state(link, NGX_HTTP_CLINIC_REDIS_LINK_RETRY);

        if (link->conn || link->idle || link->resolving) {
            return;
        }
    }

    (void) ngx_http_clinic_redis_link_connect(link);
}


static void
ngx_http_clinic_redis_op_timeout(ngx_event_t *ev)
{
    ngx_http_clinic_redis_op_t    *op = ev->data;
    ngx_http_clinic_redis_link_t  *link;

    link = op->link;

    if (link == NULL) {
        /* not queued anywhere (a cluster retry waiting): fails alone */
        ngx_http_clinic_redis_op_complete(op, NULL);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, link->opts->log, 0,
                   "clinic redis \"%V\": no reply within %Mms",
                   &link->name, link->opts->timeout);

    ngx_http_clinic_stats_redis_count(link->stats,
                                      NGX_HTTP_CLINIC_STAT_TIMEOUTS);

    /*
     * Replies come back in order: once one is late, everything queued
     * behind it is late too, so the connection is given up as a whole.
     */

    ngx_http_clinic_redis_link_fail(link, "timed out");
}


static void
ngx_http_clinic_redis_link_write_handler(ngx_event_t *wev)
{
    ngx_connection_t              *c;
    ngx_http_clinic_redis_link_t  *link;

    c = wev->data;
    link = c->data;

    if (!link->connected) {
        if (link->tls_pending) {
            return;
        }

        if (ngx_http_clinic_redis_link_test_connect(c) != NGX_OK) {
            ngx_http_clinic_redis_link_fail(link, "connect failed");
            return;
        }

        ngx_http_clinic_redis_link_connected(link);

        if (!link->connected) {
            /* the TLS handshake goes on, or failed */
            return;
        }
    }

    ngx_http_clinic_redis_link_send(link);
}


static ngx_int_t
ngx_http_clinic_redis_link_test_connect(ngx_connection_t *c)
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
ngx_http_clinic_redis_link_send(ngx_http_clinic_redis_link_t *link)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = link->conn;

    while (link->out_pos < link->out_len) {
        n = c->send(c, link->out + link->out_pos,
                    link->out_len - link->out_pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            ngx_http_clinic_redis_link_fail(link, "send failed");
            return;
        }

        link->out_pos += n;
    }

    if (link->out_pos == link->out_len) {
        link->out_pos = 0;
        link->out_len = 0;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_http_clinic_redis_link_fail(link, "event error");
    }
}


static void
ngx_http_clinic_redis_link_read_handler(ngx_event_t *rev)
{
    ssize_t                        n;
    ngx_connection_t              *c;
    ngx_http_clinic_redis_link_t  *link;
    u_char                         buf[NGX_HTTP_CLINIC_REDIS_READ_SIZE];

    c = rev->data;
    link = c->data;

    if (!link->connected) {
        /* the TLS handshake reads for itself */
        return;
    }

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
            ngx_http_clinic_redis_link_fail(link, "connection closed");
            return;
        }

        if (redisReaderFeed(link->reader, (const char *) buf, n)
            != REDIS_OK)
        {
            ngx_http_clinic_redis_link_fail(link, "out of memory");
            return;
        }

        if (ngx_http_clinic_redis_link_process(link, c) != NGX_OK) {
            return;
        }

    } while (rev->ready);

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_clinic_redis_link_fail(link, "event error");
    }
}


/* returns NGX_OK while the connection c is still the link's own */

static ngx_int_t
ngx_http_clinic_redis_link_process(ngx_http_clinic_redis_link_t *link,
    ngx_connection_t *c)
{
    void                        *reply;
    uint64_t                     usec;
    ngx_queue_t                 *q;
    redisReply                  *rr;
    ngx_http_clinic_redis_op_t  *op;

    for ( ;; ) {
        reply = NULL;

        if (redisReaderGetReply(link->reader, &reply) != REDIS_OK) {
            ngx_http_clinic_redis_link_fail(link, "protocol error");
            return NGX_ERROR;
        }

        if (reply == NULL) {
            return NGX_OK;
        }

        rr = reply;

        if (link->subscribed && ngx_queue_empty(&link->pending)) {
            /* a message of a channel the link subscribed to */

            if (link->push) {
                link->push(link, rr);
            }

            freeReplyObject(reply);

            if (link->conn != c) {
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_queue_empty(&link->pending)) {
            freeReplyObject(reply);
            ngx_http_clinic_redis_link_fail(link, "unexpected reply");
            return NGX_ERROR;
        }

        q = ngx_queue_head(&link->pending);
        ngx_queue_remove(q);
        op = ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue);
        op->link = NULL;

        usec = ngx_http_clinic_redis_usec() - op->start;

        ngx_http_clinic_stats_redis_latency(link->stats, usec,
                                            rr->type == REDIS_REPLY_ERROR);

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, link->opts->log, 0,
                       "clinic redis \"%V\": reply of type %d after "
                       "%uLus%s", &link->name, rr->type, usec,
                       op->done ? ", dropped (its request is gone)" : "");

        if (rr->type == REDIS_REPLY_ERROR && link->redirect
            && link->redirect(link, op, rr) == NGX_OK)
        {
            /* the owner sent it again elsewhere */
            freeReplyObject(reply);

        } else if (op->replicas && !op->done && rr->type != REDIS_REPLY_ERROR
                   && ngx_http_clinic_redis_link_wait(link, op, rr) == NGX_OK)
        {
            /* held until the replicas have it */

        } else {
            ngx_http_clinic_redis_op_complete(op, rr);
            freeReplyObject(reply);
        }

        if (link->conn != c) {
            return NGX_ERROR;
        }
    }
}


/*
 * A write that must reach op->replicas replicas before it counts: a WAIT
 * on the same connection, queued after it, covers it, and every write
 * queued before that WAIT; the writes whose replies come meanwhile join
 * the WAIT in flight instead of sending their own.  While the replicas
 * fall short, the next writes for a second fail at once instead of
 * holding the pipeline up for WAIT's timeout; their callers spool them,
 * and the spool tries again.  NGX_DECLINED: the reply was not held.
 */

static ngx_int_t
ngx_http_clinic_redis_link_wait(ngx_http_clinic_redis_link_t *link,
    ngx_http_clinic_redis_op_t *op, redisReply *reply)
{
    u_char       n[NGX_INT_T_LEN], t[NGX_INT_T_LEN];
    size_t       lens[3];
    const char  *argv[3];

    if (op->timer.timer_set) {
        ngx_del_timer(&op->timer);
    }

    if (link->unreplicated
        && ngx_current_msec - link->unreplicated < 1000)
    {
        ngx_http_clinic_redis_op_complete(op, NULL);
        freeReplyObject(reply);
        return NGX_OK;
    }

    if (link->wait_seq == 0 || link->wait_seq < op->seq
        || link->wait_replicas < op->replicas)
    {
        argv[0] = "WAIT";
        lens[0] = 4;
        argv[1] = (const char *) n;
        lens[1] = ngx_sprintf(n, "%ui", op->replicas) - n;
        argv[2] = (const char *) t;
        lens[2] = ngx_sprintf(t, "%M",
                              ngx_max(link->opts->timeout / 2, 1)) - t;

        if (ngx_http_clinic_redis_link_command(link, 3, argv, lens,
                                      ngx_http_clinic_redis_link_wait_reply,
                                      link)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        link->wait_seq = link->seq;
        link->wait_replicas = op->replicas;
    }

    op->held = reply;
    op->link = link;
    op->wait_seq = link->wait_seq;

    ngx_queue_insert_tail(&link->held, &op->queue);

    return NGX_OK;
}


/* WAITs answer in order: the oldest held writes are the ones answered */

static void
ngx_http_clinic_redis_link_wait_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_redis_link_t  *link = data;

    uint64_t                     seq;
    ngx_uint_t                   ok, first;
    ngx_queue_t                 *q;
    redisReply                  *held;
    ngx_http_clinic_redis_op_t  *op;

    if (ngx_queue_empty(&link->held)) {
        return;
    }

    op = ngx_queue_data(ngx_queue_head(&link->held),
                        ngx_http_clinic_redis_op_t, queue);
    seq = op->wait_seq;

    if (link->wait_seq == seq) {
        link->wait_seq = 0;
    }

    first = 1;

    while (!ngx_queue_empty(&link->held)) {
        q = ngx_queue_head(&link->held);
        op = ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue);

        if (op->wait_seq != seq) {
            break;
        }

        ngx_queue_remove(q);

        held = op->held;
        op->held = NULL;
        op->link = NULL;

        ok = (reply && reply->type == REDIS_REPLY_INTEGER
              && reply->integer >= (long long) op->replicas);

        if (!ok && reply && first) {
            first = 0;

            ngx_log_error(NGX_LOG_WARN, link->opts->log, 0,
                          "clinic: redis \"%V\": a write reached %L of %ui "
                          "replicas in time; writes are spooled until "
                          "they do", &link->name,
                          reply->type == REDIS_REPLY_INTEGER
                          ? reply->integer : -1LL,
                          op->replicas);

            link->unreplicated = ngx_current_msec ? ngx_current_msec : 1;
        }

        ngx_http_clinic_redis_op_complete(op, ok ? held : NULL);
        freeReplyObject(held);
    }
}


/*
 * Gives the connection up: every pending operation fails exactly once,
 * new ones fail at once until a reconnect (with backoff) answers PING.
 */

void
ngx_http_clinic_redis_link_fail(ngx_http_clinic_redis_link_t *link,
    const char *reason)
{
    ngx_queue_t                 *q;
    ngx_http_clinic_redis_op_t  *op;

    if (!link->logged_down && !link->opts->exiting) {
        ngx_log_error(NGX_LOG_ERR, link->opts->log, 0,
                      "clinic: redis \"%V\" is unavailable (%s); failing "
                      "fast until it answers again", &link->name, reason);
        link->logged_down = 1;
    }

    ngx_http_clinic_stats_redis_count(link->stats,
                                      NGX_HTTP_CLINIC_STAT_ERRORS);

    link->down = 1;

    ngx_http_clinic_redis_link_close(link);

    while (!ngx_queue_empty(&link->pending)) {
        q = ngx_queue_head(&link->pending);
        ngx_queue_remove(q);
        op = ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue);
        op->link = NULL;

        ngx_http_clinic_redis_op_complete(op, NULL);
    }

    if (!link->opts->exiting && !link->idle && !link->reconnect.timer_set) {
        ngx_add_timer(&link->reconnect, link->backoff);
        link->backoff = ngx_min(link->backoff * 2,
                                NGX_HTTP_CLINIC_REDIS_BACKOFF_MAX);
    }

    if (!link->opts->exiting) {
        ngx_http_clinic_redis_link_set_state(link,
                                             NGX_HTTP_CLINIC_REDIS_LINK_DOWN);
    }
}


void
ngx_http_clinic_redis_link_close(ngx_http_clinic_redis_link_t *link)
{
    ngx_pool_t        *pool;
    ngx_connection_t  *c;

    if (link->flush.posted) {
        ngx_delete_posted_event(&link->flush);
    }

    if (link->resolving) {
        ngx_resolve_name_done(link->resolving);
        link->resolving = NULL;
    }

    c = link->conn;

    if (c) {
        link->conn = NULL;

#if (NGX_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif

        /* we own the socket: hiredis never saw it, so no double close */
        pool = c->pool;
        ngx_close_connection(c);

        if (pool) {
            ngx_destroy_pool(pool);
        }
    }

    if (link->reader) {
        redisReaderFree(link->reader);
        link->reader = NULL;
    }

    link->connected = 0;
    link->ready = 0;
    link->subscribed = 0;
    link->tls_pending = 0;
    link->wait_seq = 0;
    link->out_len = 0;
    link->out_pos = 0;
}


/* at worker exit: nobody is called back, the worker is going away */

void
ngx_http_clinic_redis_link_destroy(ngx_http_clinic_redis_link_t *link)
{
    ngx_queue_t                 *q;
    ngx_http_clinic_redis_op_t  *op;

    if (link->reconnect.timer_set) {
        ngx_del_timer(&link->reconnect);
    }

    if (link->dns.timer_set) {
        ngx_del_timer(&link->dns);
    }

    ngx_http_clinic_redis_link_close(link);

    while (!ngx_queue_empty(&link->pending)) {
        q = ngx_queue_head(&link->pending);
        ngx_queue_remove(q);
        op = ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue);

        ngx_http_clinic_redis_op_free(op);
    }

    while (!ngx_queue_empty(&link->held)) {
        q = ngx_queue_head(&link->held);
        ngx_queue_remove(q);
        op = ngx_queue_data(q, ngx_http_clinic_redis_op_t, queue);

        freeReplyObject(op->held);
        op->held = NULL;
        ngx_http_clinic_redis_op_free(op);
    }

    if (link->out) {
        ngx_free(link->out);
    }

    ngx_free(link);
}


static uint64_t
ngx_http_clinic_redis_usec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
