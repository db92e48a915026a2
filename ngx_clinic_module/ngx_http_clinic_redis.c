
/*
 * The Redis layer's endpoints: what `clinic_redis` names, and where each
 * command goes.  An endpoint is one of:
 *
 *   - one node (host:port or unix:), one link per worker;
 *   - a master found through Sentinel: one link to the master, one to a
 *     sentinel at a time, subscribed to +switch-master;
 *   - a Redis Cluster: a link per master node and worker, a slot map from
 *     CLUSTER SLOTS, each command sent to the node owning the slot of its
 *     first key (every key of a tenant carries its {tenant} hash tag, so
 *     one tenant's commands all go to one node); MOVED and ASK followed.
 *
 * The links themselves (socket, TLS, handshake, pipeline) are in
 * ngx_http_clinic_redis_link.c.  See docs/architecture.md.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_redis_link.h"
#include "ngx_http_clinic_redis.h"


#define NGX_HTTP_CLINIC_REDIS_MAX_REDIRECTS  5
#define NGX_HTTP_CLINIC_REDIS_MAX_TRYAGAIN   20
#define NGX_HTTP_CLINIC_REDIS_TRYAGAIN_WAIT  25
#define NGX_HTTP_CLINIC_REDIS_REFRESH_MIN    100
#define NGX_HTTP_CLINIC_REDIS_REFRESH_MAX    2000
#define NGX_HTTP_CLINIC_REDIS_MAX_NODES      256


typedef struct {
    ngx_http_clinic_redis_op_t      *op;
} ngx_http_clinic_redis_ref_t;


static ngx_int_t ngx_http_clinic_redis_param(ngx_str_t *arg,
    const char *name, size_t max, ngx_str_t *value);
static ngx_uint_t ngx_http_clinic_redis_same(ngx_str_t *a, ngx_str_t *b);
static ngx_int_t ngx_http_clinic_redis_parse_addr(ngx_conf_t *cf,
    ngx_http_clinic_redis_endpoint_t *ep, ngx_str_t *text);
static ngx_int_t ngx_http_clinic_redis_parse_list(ngx_conf_t *cf,
    ngx_http_clinic_redis_endpoint_t *ep, ngx_str_t *list);
static ngx_int_t ngx_http_clinic_redis_tls_conf(ngx_conf_t *cf,
    ngx_http_clinic_redis_endpoint_t *ep, ngx_str_t *ca, ngx_uint_t verify);
static void ngx_http_clinic_redis_ref_cleanup(void *data);
static ngx_http_clinic_redis_link_t *ngx_http_clinic_redis_new_link(
    ngx_http_clinic_redis_endpoint_t *ep, ngx_uint_t kind,
    ngx_http_clinic_redis_addr_t *a);
static void ngx_http_clinic_redis_set_up(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_uint_t up);
static void ngx_http_clinic_redis_single_state(
    ngx_http_clinic_redis_link_t *link, ngx_uint_t state);

static void ngx_http_clinic_redis_sentinel_state(
    ngx_http_clinic_redis_link_t *link, ngx_uint_t state);
static ngx_uint_t ngx_http_clinic_redis_sentinel_ask(
    ngx_http_clinic_redis_endpoint_t *ep);
static ngx_int_t ngx_http_clinic_redis_ip(ngx_http_clinic_redis_endpoint_t *ep,
    u_char *ip, size_t len, ngx_int_t port, ngx_addr_t *addr);
static void ngx_http_clinic_redis_sentinel_reply(void *data,
    redisReply *reply);
static void ngx_http_clinic_redis_subscribed(void *data, redisReply *reply);
static void ngx_http_clinic_redis_sentinel_push(
    ngx_http_clinic_redis_link_t *link, redisReply *reply);
static void ngx_http_clinic_redis_master_at(
    ngx_http_clinic_redis_endpoint_t *ep, u_char *ip, size_t iplen,
    u_char *port, size_t portlen);
static void ngx_http_clinic_redis_master_state(
    ngx_http_clinic_redis_link_t *link, ngx_uint_t state);
static ngx_int_t ngx_http_clinic_redis_master_error(
    ngx_http_clinic_redis_link_t *link, ngx_http_clinic_redis_op_t *op,
    redisReply *reply);

static ngx_int_t ngx_http_clinic_redis_key_slot(int argc, const char **argv,
    const size_t *argvlen);
static ngx_uint_t ngx_http_clinic_redis_hash_slot(const u_char *key,
    size_t len);
static uint16_t ngx_http_clinic_redis_crc16(const u_char *p, size_t len);
static ngx_http_clinic_redis_link_t *ngx_http_clinic_redis_node(
    ngx_http_clinic_redis_endpoint_t *ep, u_char *host, size_t hostlen,
    ngx_int_t port);
static void ngx_http_clinic_redis_cluster_refresh(
    ngx_http_clinic_redis_endpoint_t *ep);
static void ngx_http_clinic_redis_refresh_handler(ngx_event_t *ev);
static void ngx_http_clinic_redis_refresh_later(
    ngx_http_clinic_redis_endpoint_t *ep, ngx_msec_t delay);
static void ngx_http_clinic_redis_slots_reply(void *data, redisReply *reply);
static void ngx_http_clinic_redis_cluster_update(
    ngx_http_clinic_redis_endpoint_t *ep);
static void ngx_http_clinic_redis_cluster_state(
    ngx_http_clinic_redis_link_t *link, ngx_uint_t state);
static ngx_int_t ngx_http_clinic_redis_redirect(
    ngx_http_clinic_redis_link_t *link, ngx_http_clinic_redis_op_t *op,
    redisReply *reply);
static void ngx_http_clinic_redis_tryagain_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_clinic_redis_resend(
    ngx_http_clinic_redis_link_t *link, ngx_http_clinic_redis_op_t *op);


#define ngx_http_clinic_redis_ep(o)                                           \
    ((ngx_http_clinic_redis_endpoint_t *)                                     \
         ((u_char *) (o) - offsetof(ngx_http_clinic_redis_endpoint_t, opts)))


/* ------------------------------------------------------------------------
 * Configuration
 */


/*
 * args[0] is the address (host:port, unix:path, cluster=LIST or
 * sentinel=LIST), the rest its parameters.  Two lines that say the same
 * thing share an endpoint, and so its connections.
 */

ngx_http_clinic_redis_endpoint_t *
ngx_http_clinic_redis_add(ngx_conf_t *cf, ngx_array_t *endpoints,
    ngx_str_t *args, ngx_uint_t nargs)
{
    u_char                            *p;
    size_t                             len;
    ngx_int_t                          db, replicas, rc;
    ngx_str_t                          s, password_file, user, master, ca,
                                       tls_name, addr;
    ngx_msec_t                         timeout;
    ngx_uint_t                         i, k, type, tls, verify;
    ngx_http_clinic_redis_endpoint_t  *ep, **epp;

    /* the parameters that are a string: name, longest value, where */
    struct {
        const char                    *name;
        size_t                         max;
        ngx_str_t                     *value;
    } strings[] = {
        { "password_file=", NGX_MAX_SIZE_T_VALUE, &password_file },
        { "user=", 128, &user },
        { "master=", 128, &master },
        { "tls_ca=", NGX_MAX_SIZE_T_VALUE, &ca },
        { "tls_name=", 255, &tls_name }
    };

    timeout = NGX_HTTP_CLINIC_REDIS_TIMEOUT;
    db = 0;
    replicas = NGX_CONF_UNSET;
    tls = 0;
    verify = 1;
    ngx_str_null(&password_file);
    ngx_str_null(&user);
    ngx_str_null(&master);
    ngx_str_null(&ca);
    ngx_str_null(&tls_name);

    addr = args[0];
    type = NGX_HTTP_CLINIC_REDIS_SINGLE;

    if (addr.len > 8 && ngx_strncmp(addr.data, "cluster=", 8) == 0) {
        type = NGX_HTTP_CLINIC_REDIS_CLUSTER;

    } else if (addr.len > 9 && ngx_strncmp(addr.data, "sentinel=", 9) == 0) {
        type = NGX_HTTP_CLINIC_REDIS_SENTINEL;
    }

    for (i = 1; i < nargs; i++) {

        if (ngx_strncmp(args[i].data, "timeout=", 8) == 0) {
            s.len = args[i].len - 8;
            s.data = args[i].data + 8;

            timeout = ngx_parse_time(&s, 0);
            if (timeout == (ngx_msec_t) NGX_ERROR || timeout == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid timeout \"%V\"", &args[i]);
                return NULL;
            }

            continue;
        }

        rc = NGX_DECLINED;

        for (k = 0;
             rc == NGX_DECLINED && k < sizeof(strings) / sizeof(strings[0]);
             k++)
        {
            rc = ngx_http_clinic_redis_param(&args[i], strings[k].name,
                                             strings[k].max,
                                             strings[k].value);
        }

        if (rc == NGX_ERROR) {
            goto invalid;
        }

        if (rc == NGX_OK) {
            continue;
        }

        if (ngx_strncmp(args[i].data, "db=", 3) == 0) {
            db = ngx_atoi(args[i].data + 3, args[i].len - 3);
            if (db == NGX_ERROR || db > 65535) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid db \"%V\"", &args[i]);
                return NULL;
            }

            continue;
        }

        if (ngx_strncmp(args[i].data, "replicas=", 9) == 0) {
            replicas = ngx_atoi(args[i].data + 9, args[i].len - 9);
            if (replicas == NGX_ERROR || replicas > 16) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid replicas \"%V\": 0 to 16",
                                   &args[i]);
                return NULL;
            }

            continue;
        }

        if (args[i].len == 3 && ngx_strncmp(args[i].data, "tls", 3) == 0) {
            tls = 1;
            continue;
        }

        if (ngx_strncmp(args[i].data, "tls_verify=", 11) == 0) {
            s.len = args[i].len - 11;
            s.data = args[i].data + 11;

            if (s.len == 2 && ngx_strncmp(s.data, "on", 2) == 0) {
                verify = 1;

            } else if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                verify = 0;

            } else {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    /* an ACL user's password comes from a file too, never from here */

    if (user.len && password_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"user=%V\" needs \"password_file=\"", &user);
        return NULL;
    }

    if (type == NGX_HTTP_CLINIC_REDIS_SENTINEL && master.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs \"master=\", the name the "
                           "sentinels monitor", &addr);
        return NULL;
    }

    if (type != NGX_HTTP_CLINIC_REDIS_SENTINEL && master.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"master=\" is only for \"sentinel=\"");
        return NULL;
    }

    if (type == NGX_HTTP_CLINIC_REDIS_CLUSTER && db) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a Redis Cluster has only database 0: "
                           "\"db=%i\" cannot be used with \"cluster=\"", db);
        return NULL;
    }

    if (!tls && (ca.len || tls_name.len || !verify)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tls_ca=\", \"tls_name=\" and \"tls_verify=\" "
                           "need \"tls\"");
        return NULL;
    }

    /* the label: unique among endpoints, shown in the metrics */

    len = addr.len + master.len + user.len + 96;

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NULL;
    }

    s.data = p;
    p = ngx_cpymem(p, addr.data, addr.len);

    if (master.len) {
        p = ngx_sprintf(p, " master=%V", &master);
    }

    if (db) {
        p = ngx_sprintf(p, " db=%i", db);
    }

    if (timeout != NGX_HTTP_CLINIC_REDIS_TIMEOUT) {
        p = ngx_sprintf(p, " timeout=%Mms", timeout);
    }

    if (user.len) {
        p = ngx_sprintf(p, " user=%V", &user);

    } else if (password_file.len) {
        p = ngx_cpymem(p, " auth", 5);
    }

    if (tls) {
        p = ngx_cpymem(p, " tls", 4);
    }

    /*
     * Sentinel and Cluster exist for their replicas: a submission counts
     * as stored once one of them has it, unless replicas= says otherwise
     */

    if (replicas == NGX_CONF_UNSET) {
        replicas = (type == NGX_HTTP_CLINIC_REDIS_SINGLE) ? 0 : 1;

    } else {
        p = ngx_sprintf(p, " replicas=%i", replicas);
    }

    s.len = p - s.data;

    epp = endpoints->elts;

    for (i = 0; i < endpoints->nelts; i++) {
        ep = epp[i];

        if (ep->label.len != s.len
            || ngx_strncmp(ep->label.data, s.data, s.len) != 0
            || !ngx_http_clinic_redis_same(&ep->password_file,
                                           &password_file))
        {
            continue;
        }

        /* one label, one endpoint: its metrics must not be two */

        if (!ngx_http_clinic_redis_same(&ep->tls_ca, &ca)
            || !ngx_http_clinic_redis_same(&ep->opts.tls_name, &tls_name)
            || ep->opts.tls_verify != verify)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the redis endpoint \"%V\" is configured "
                               "again with other TLS parameters", &s);
            return NULL;
        }

        return ep;
    }

    ep = ngx_pcalloc(cf->pool, sizeof(ngx_http_clinic_redis_endpoint_t));
    if (ep == NULL) {
        return NULL;
    }

    ep->name = addr;
    ep->label = s;
    ep->type = type;
    ep->master = master;
    ep->timeout = timeout;
    ep->replicas = replicas;
    ep->password_file = password_file;
    ep->tls_ca = ca;
    ep->index = endpoints->nelts;
    ep->conf_file = cf->conf_file->file.name;
    ep->conf_line = cf->conf_file->line;

    ep->opts.timeout = timeout;
    ep->opts.db = db;
    ep->opts.user = user;
    ep->opts.tls_name = tls_name;
    ep->opts.tls_verify = verify;

    if (ngx_array_init(&ep->addrs, cf->pool, 3,
                       sizeof(ngx_http_clinic_redis_addr_t))
        != NGX_OK)
    {
        return NULL;
    }

    if (type == NGX_HTTP_CLINIC_REDIS_SINGLE) {
        if (ngx_http_clinic_redis_parse_addr(cf, ep, &addr) != NGX_OK) {
            return NULL;
        }

    } else {
        s.data = addr.data + (type == NGX_HTTP_CLINIC_REDIS_CLUSTER ? 8 : 9);
        s.len = addr.data + addr.len - s.data;

        if (ngx_http_clinic_redis_parse_list(cf, ep, &s) != NGX_OK) {
            return NULL;
        }
    }

    if (password_file.len
        && ngx_http_clinic_read_secret(cf, &password_file,
                                       &ep->opts.password, 1)
           != NGX_OK)
    {
        return NULL;
    }

    if (tls && ngx_http_clinic_redis_tls_conf(cf, ep, &ca, verify) != NGX_OK)
    {
        return NULL;
    }

    epp = ngx_array_push(endpoints);
    if (epp == NULL) {
        return NULL;
    }

    *epp = ep;

    return ep;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &args[i]);
    return NULL;
}


/*
 * "name=VALUE" into value: NGX_OK; NGX_ERROR when VALUE is empty or longer
 * than max; NGX_DECLINED when arg is another parameter
 */

static ngx_int_t
ngx_http_clinic_redis_param(ngx_str_t *arg, const char *name, size_t max,
    ngx_str_t *value)
{
    size_t  n;

    n = ngx_strlen(name);

    if (arg->len < n || ngx_strncmp(arg->data, name, n) != 0) {
        return NGX_DECLINED;
    }

    value->len = arg->len - n;
    value->data = arg->data + n;

    return (value->len == 0 || value->len > max) ? NGX_ERROR : NGX_OK;
}


static ngx_uint_t
ngx_http_clinic_redis_same(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_strncmp(a->data, b->data, a->len) == 0);
}


/*
 * host:port or unix:path.  IP addresses and sockets are known now; a host
 * name is resolved once the configuration is read: through nginx's
 * resolver at run time when http{} has one, else now.
 */

static ngx_int_t
ngx_http_clinic_redis_parse_addr(ngx_conf_t *cf,
    ngx_http_clinic_redis_endpoint_t *ep, ngx_str_t *text)
{
    ngx_url_t                      u;
    ngx_http_clinic_redis_addr_t  *a;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *text;
    u.default_port = 6379;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in redis address \"%V\"", u.err, text);
        }

        return NGX_ERROR;
    }

    if (u.no_port && u.family != AF_UNIX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redis address \"%V\"", text);
        return NGX_ERROR;
    }

    if (u.family == AF_UNIX && ep->type != NGX_HTTP_CLINIC_REDIS_SINGLE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a cluster or sentinel address must be "
                           "host:port, not \"%V\"", text);
        return NGX_ERROR;
    }

    a = ngx_array_push(&ep->addrs);
    if (a == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(a, sizeof(ngx_http_clinic_redis_addr_t));

    a->name = *text;
    a->port = u.port;

    if (u.naddrs) {
        a->addrs = u.addrs;
        a->naddrs = u.naddrs;
        return NGX_OK;
    }

    if (ngx_inet_addr(u.host.data, u.host.len) != INADDR_NONE) {
        /* an IPv4 literal: no DNS involved */

        u.no_resolve = 0;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid redis address \"%V\"", text);
            return NGX_ERROR;
        }

        a->addrs = u.addrs;
        a->naddrs = u.naddrs;
        return NGX_OK;
    }

    a->host = u.host;

    return NGX_OK;
}


static ngx_int_t
ngx_http_clinic_redis_parse_list(ngx_conf_t *cf,
    ngx_http_clinic_redis_endpoint_t *ep, ngx_str_t *list)
{
    u_char     *p, *last, *comma;
    ngx_str_t   one;

    p = list->data;
    last = list->data + list->len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        one.data = p;
        one.len = comma - p;

        if (one.len == 0
            || ngx_http_clinic_redis_parse_addr(cf, ep, &one) != NGX_OK)
        {
            if (one.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "empty address in \"%V\"", &ep->name);
            }

            return NGX_ERROR;
        }

        p = comma + 1;
    }

    if (ep->addrs.nelts == 0 || ep->addrs.nelts > 64) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs 1 to 64 addresses", &ep->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_clinic_redis_tls_conf(ngx_conf_t *cf,
    ngx_http_clinic_redis_endpoint_t *ep, ngx_str_t *ca, ngx_uint_t verify)
{
#if (NGX_SSL)
    ngx_ssl_t           *ssl;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (ssl == NULL) {
        return NGX_ERROR;
    }

    ssl->log = cf->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2 | NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    if (verify) {
        if (ca->len) {
            if (ngx_conf_full_name(cf->cycle, ca, 1) != NGX_OK) {
                return NGX_ERROR;
            }

            if (ngx_file_info(ca->data, &fi) == NGX_FILE_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                                   "cannot read tls_ca \"%V\"", ca);
                return NGX_ERROR;
            }

            if (ngx_ssl_trusted_certificate(cf, ssl, ca, 9) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "tls_ca \"%V\" holds no certificate "
                                   "OpenSSL can use", ca);
                return NGX_ERROR;
            }

        } else if (SSL_CTX_set_default_verify_paths(ssl->ctx) != 1) {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "SSL_CTX_set_default_verify_paths() failed");
            return NGX_ERROR;
        }
    }

    ep->opts.ssl = ssl;

    return NGX_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"tls\" needs nginx built with OpenSSL");
    return NGX_ERROR;

#endif
}


/*
 * Once http{} is read: with a resolver there, names are resolved by the
 * workers (and followed when they change); without one, here, once.
 */

ngx_int_t
ngx_http_clinic_redis_init_conf(ngx_conf_t *cf, ngx_array_t *endpoints)
{
    ngx_url_t                          u;
    ngx_uint_t                         i, j, runtime;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_clinic_redis_addr_t      *a;
    ngx_http_clinic_redis_endpoint_t  *ep, **epp;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    runtime = (clcf->resolver && clcf->resolver->connections.nelts);

    epp = endpoints->elts;

    for (i = 0; i < endpoints->nelts; i++) {
        ep = epp[i];

        if (runtime) {
            ep->opts.resolver = clcf->resolver;
            /* http{}'s own block is not merged: nginx's default then */
            ep->opts.resolver_timeout =
                (clcf->resolver_timeout == NGX_CONF_UNSET_MSEC)
                ? 30000 : clcf->resolver_timeout;
        }

        a = ep->addrs.elts;

        for (j = 0; j < ep->addrs.nelts; j++) {
            if (a[j].host.len == 0) {
                continue;
            }

            if (runtime) {
                a[j].resolve = 1;
                continue;
            }

            ngx_memzero(&u, sizeof(ngx_url_t));

            u.url = a[j].name;
            u.default_port = 6379;

            if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "%s in redis address \"%V\" (a \"resolver\" "
                              "in http{} would resolve it at run time) "
                              "in %V:%ui",
                              u.err ? u.err : "host not found", &a[j].name,
                              &ep->conf_file, ep->conf_line);
                return NGX_ERROR;
            }

            a[j].addrs = u.addrs;
            a[j].naddrs = u.naddrs;
        }
    }

    return NGX_OK;
}


/* ------------------------------------------------------------------------
 * Worker start and exit
 */


ngx_int_t
ngx_http_clinic_redis_init_process(ngx_cycle_t *cycle,
    ngx_array_t *endpoints)
{
    ngx_uint_t                         i, j;
    ngx_http_clinic_redis_addr_t      *a;
    ngx_http_clinic_redis_link_t      *link;
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

        ep->opts.log = cycle->log;
        ngx_queue_init(&ep->opts.free);

        ep->refresh.handler = ngx_http_clinic_redis_refresh_handler;
        ep->refresh.data = ep;
        ep->refresh.log = cycle->log;
        ep->refresh.cancelable = 1;
        ep->refresh_backoff = NGX_HTTP_CLINIC_REDIS_REFRESH_MIN;

        /* not up for the metrics until this worker's PING is answered */
        ngx_http_clinic_stats_redis_up(ep->stats, 0);

        /* the nodes a worker of the last cycle met are this one's to say */
        ngx_http_clinic_stats_redis_nodes_reset(ep->stats);

        a = ep->addrs.elts;

        switch (ep->type) {

        case NGX_HTTP_CLINIC_REDIS_SINGLE:
            ep->main = ngx_http_clinic_redis_new_link(ep,
                                         NGX_HTTP_CLINIC_REDIS_LINK_DATA, a);
            if (ep->main == NULL) {
                return NGX_ERROR;
            }

            ep->main->state = ngx_http_clinic_redis_single_state;
            ep->initialised = 1;

            /* warm up now; a failure only marks the endpoint down */
            (void) ngx_http_clinic_redis_link_connect(ep->main);
            break;

        case NGX_HTTP_CLINIC_REDIS_SENTINEL:
            ep->links = ngx_alloc(ep->addrs.nelts * sizeof(void *),
                                  cycle->log);
            if (ep->links == NULL) {
                return NGX_ERROR;
            }

            for (j = 0; j < ep->addrs.nelts; j++) {
                link = ngx_http_clinic_redis_new_link(ep,
                                   NGX_HTTP_CLINIC_REDIS_LINK_SENTINEL, &a[j]);
                if (link == NULL) {
                    return NGX_ERROR;
                }

                link->state = ngx_http_clinic_redis_sentinel_state;
                link->push = ngx_http_clinic_redis_sentinel_push;
                link->idle = 1;
                link->index = j;
                link->node_stats = ngx_http_clinic_stats_redis_node(ep->stats,
                                                      &link->name, 2);

                /* shown while it is the one asked */
                ngx_http_clinic_stats_redis_node_used(link->node_stats,
                                                      j == 0);
                ep->links[j] = link;
                ep->nlinks++;
            }

            ep->main = ngx_http_clinic_redis_new_link(ep,
                                      NGX_HTTP_CLINIC_REDIS_LINK_MASTER, NULL);
            if (ep->main == NULL) {
                return NGX_ERROR;
            }

            ep->main->state = ngx_http_clinic_redis_master_state;
            ep->main->redirect = ngx_http_clinic_redis_master_error;
            ep->main->idle = 1;
            ep->initialised = 1;

            ep->sentinel = ep->links[0];
            (void) ngx_http_clinic_redis_link_connect(ep->sentinel);
            break;

        default: /* NGX_HTTP_CLINIC_REDIS_CLUSTER */
            ep->nalloc = ngx_max(16, ep->addrs.nelts * 2);
            ep->links = ngx_alloc(ep->nalloc * sizeof(void *), cycle->log);
            ep->slots = ngx_calloc(NGX_HTTP_CLINIC_REDIS_SLOTS
                                   * sizeof(uint16_t), cycle->log);
            if (ep->links == NULL || ep->slots == NULL) {
                return NGX_ERROR;
            }

            for (j = 0; j < ep->addrs.nelts; j++) {
                link = ngx_http_clinic_redis_new_link(ep,
                                       NGX_HTTP_CLINIC_REDIS_LINK_DATA, &a[j]);
                if (link == NULL) {
                    return NGX_ERROR;
                }

                link->state = ngx_http_clinic_redis_cluster_state;
                link->redirect = ngx_http_clinic_redis_redirect;
                link->idle = 1;
                link->index = j;
                ep->links[j] = link;
                ep->nlinks++;
            }

            ep->initialised = 1;

            ngx_http_clinic_redis_cluster_refresh(ep);
            break;
        }
    }

    return NGX_OK;
}


void
ngx_http_clinic_redis_exit_process(ngx_array_t *endpoints)
{
    ngx_uint_t                         i, j;
    ngx_http_clinic_redis_endpoint_t  *ep, **epp;

    epp = endpoints->elts;

    for (i = 0; i < endpoints->nelts; i++) {
        ep = epp[i];

        if (!ep->initialised) {
            continue;
        }

        ep->opts.exiting = 1;

        if (ep->refresh.timer_set) {
            ngx_del_timer(&ep->refresh);
        }

        if (ep->main) {
            ngx_http_clinic_redis_link_destroy(ep->main);
            ep->main = NULL;
        }

        for (j = 0; j < ep->nlinks; j++) {
            ngx_http_clinic_redis_link_destroy(ep->links[j]);
        }

        ep->nlinks = 0;

        if (ep->links) {
            ngx_free(ep->links);
            ep->links = NULL;
        }

        if (ep->slots) {
            ngx_free(ep->slots);
            ep->slots = NULL;
        }

        ngx_http_clinic_redis_opts_exit(&ep->opts);
    }
}


static ngx_http_clinic_redis_link_t *
ngx_http_clinic_redis_new_link(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_uint_t kind, ngx_http_clinic_redis_addr_t *a)
{
    ngx_str_t                      name;
    ngx_http_clinic_redis_link_t  *link;

    if (a == NULL) {
        /* the master a sentinel names: no address yet */
        name = ep->master;
        link = ngx_http_clinic_redis_link_create(&ep->opts, kind, &name,
                                                 NULL, NULL, 0);

    } else {
        link = ngx_http_clinic_redis_link_create(&ep->opts, kind, &a->name,
                                                 a->naddrs ? &a->addrs[0]
                                                           : NULL,
                                                 a->resolve ? &a->host
                                                            : NULL,
                                                 a->port);
    }

    if (link == NULL) {
        return NULL;
    }

    link->owner = ep;
    link->stats = ep->stats;

    return link;
}


/* ------------------------------------------------------------------------
 * Sending
 */


ngx_uint_t
ngx_http_clinic_redis_is_up(ngx_http_clinic_redis_endpoint_t *ep)
{
    return ep->initialised && ep->up;
}


ngx_uint_t
ngx_http_clinic_redis_is_cluster(ngx_http_clinic_redis_endpoint_t *ep)
{
    return ep->type == NGX_HTTP_CLINIC_REDIS_CLUSTER;
}


/*
 * Whether a command on a key of this hash slot would be sent now: the
 * endpoint is up, or, in a cluster, the master of the slot answers (a
 * cluster is down for the metrics while any master is, but its other
 * slots work).
 */

ngx_uint_t
ngx_http_clinic_redis_is_up_slot(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_uint_t slot)
{
    ngx_uint_t  idx;

    if (ep->type != NGX_HTTP_CLINIC_REDIS_CLUSTER) {
        return ngx_http_clinic_redis_is_up(ep);
    }

    if (!ep->initialised || !ep->map_ready) {
        return 0;
    }

    idx = ep->slots[slot];

    return idx && ngx_http_clinic_redis_link_is_up(ep->links[idx - 1]);
}


/*
 * The spool keeps submissions in order per lane: an endpoint is one lane,
 * a cluster NGX_HTTP_CLINIC_REDIS_LANES of contiguous slots, so that a
 * master that is down (its slots, usually contiguous) holds up the replay
 * of its own tenants, not the others'.  A tenant always has the same lane.
 */

ngx_uint_t
ngx_http_clinic_redis_lanes(ngx_http_clinic_redis_endpoint_t *ep)
{
    return (ep->type == NGX_HTTP_CLINIC_REDIS_CLUSTER)
           ? NGX_HTTP_CLINIC_REDIS_LANES : 1;
}


ngx_uint_t
ngx_http_clinic_redis_lane(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_uint_t slot)
{
    if (ep->type != NGX_HTTP_CLINIC_REDIS_CLUSTER) {
        return 0;
    }

    return slot * NGX_HTTP_CLINIC_REDIS_LANES / NGX_HTTP_CLINIC_REDIS_SLOTS;
}


/* the Redis Cluster hash slot of a key */

ngx_uint_t
ngx_http_clinic_redis_slot(ngx_str_t *key)
{
    return ngx_http_clinic_redis_hash_slot(key->data, key->len);
}


ngx_int_t
ngx_http_clinic_redis_send(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_pool_t *pool, int argc, const char **argv, const size_t *argvlen,
    ngx_http_clinic_redis_handler_pt handler, void *data,
    ngx_http_clinic_redis_op_t **opp)
{
    int                            len;
    char                          *cmd;
    ngx_int_t                      slot, rc;
    ngx_uint_t                     idx;
    ngx_pool_cleanup_t            *cln;
    ngx_http_clinic_redis_op_t    *op;
    ngx_http_clinic_redis_ref_t   *ref;
    ngx_http_clinic_redis_link_t  *link;

    if (!ep->initialised) {
        return NGX_DECLINED;
    }

    slot = -1;

    if (ep->type == NGX_HTTP_CLINIC_REDIS_CLUSTER) {
        slot = ngx_http_clinic_redis_key_slot(argc, argv, argvlen);

        if (!ep->map_ready) {
            ngx_http_clinic_redis_cluster_refresh(ep);
            return NGX_DECLINED;
        }

        link = NULL;

        if (slot >= 0) {
            idx = ep->slots[slot];
            link = idx ? ep->links[idx - 1] : NULL;

        } else {
            for (idx = 0; idx < ep->nlinks; idx++) {
                if (ep->links[idx]->nslots
                    && ngx_http_clinic_redis_link_is_up(ep->links[idx]))
                {
                    link = ep->links[idx];
                    break;
                }
            }
        }

        if (link == NULL) {
            /* not sooner: every request to a lost slot comes here */
            ngx_http_clinic_redis_refresh_later(ep,
                                            NGX_HTTP_CLINIC_REDIS_REFRESH_MIN);
            return NGX_DECLINED;
        }

    } else {
        link = ep->main;

        if (!link->has_addr && link->host.len == 0) {
            /* no master known yet */
            return NGX_DECLINED;
        }
    }

    if (link->down) {
        return NGX_DECLINED;
    }

    cln = NULL;

    if (pool) {
        cln = ngx_pool_cleanup_add(pool, sizeof(ngx_http_clinic_redis_ref_t));
        if (cln == NULL) {
            return NGX_ERROR;
        }
    }

    if (link->conn == NULL && link->resolving == NULL
        && ngx_http_clinic_redis_link_connect(link) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (link->down) {
        return NGX_DECLINED;
    }

    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return NGX_ERROR;
    }

    op = ngx_http_clinic_redis_op_get(&ep->opts);
    if (op == NULL) {
        redisFreeCommand(cmd);
        return NGX_ERROR;
    }

    op->handler = handler;
    op->data = data;
    op->slot = slot;

    if (handler == NULL) {
        /* fire and forget: the reply is counted and dropped */
        op->done = 1;
    }

    rc = ngx_http_clinic_redis_link_queue(link, op, cmd, len);

    if (rc != NGX_OK) {
        redisFreeCommand(cmd);
        ngx_http_clinic_redis_op_free(op);
        return NGX_ERROR;
    }

    if (ep->type == NGX_HTTP_CLINIC_REDIS_CLUSTER) {
        /* kept: a redirect sends it again */
        op->cmd = cmd;
        op->cmd_len = len;

    } else {
        redisFreeCommand(cmd);
    }

    if (cln) {
        ref = cln->data;
        ref->op = op;
        op->ref = &ref->op;
        cln->handler = ngx_http_clinic_redis_ref_cleanup;
    }

    if (opp) {
        *opp = op;
    }

    return NGX_OK;
}


/* the operation's reply counts once the endpoint's replicas= have it */

void
ngx_http_clinic_redis_replicated(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_http_clinic_redis_op_t *op)
{
    op->replicas = ep->replicas;
}


void
ngx_http_clinic_redis_detach(ngx_http_clinic_redis_op_t *op)
{
    void  **ref;

    /* the reply, if one comes, is dropped; the timer stays as a watchdog */

    op->done = 1;
    op->handler = NULL;
    op->data = NULL;

    if (op->ref) {
        ref = op->ref;
        *ref = NULL;
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


static void
ngx_http_clinic_redis_set_up(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_uint_t up)
{
    ep->up = up;
    ngx_http_clinic_stats_redis_up(ep->stats, up);
}


static void
ngx_http_clinic_redis_single_state(ngx_http_clinic_redis_link_t *link,
    ngx_uint_t state)
{
    if (state != NGX_HTTP_CLINIC_REDIS_LINK_RETRY) {
        ngx_http_clinic_redis_set_up(link->owner,
                                     state == NGX_HTTP_CLINIC_REDIS_LINK_UP);
    }
}


/* ------------------------------------------------------------------------
 * Sentinel
 *
 * One sentinel at a time is asked for the master's address, then the link
 * subscribes to +switch-master.  The master is asked again when its link
 * fails or answers READONLY, and when its ROLE is not master; a sentinel
 * that fails gives way to the next one.
 */


static void
ngx_http_clinic_redis_sentinel_state(ngx_http_clinic_redis_link_t *link,
    ngx_uint_t state)
{
    ngx_http_clinic_redis_endpoint_t *ep = link->owner;

    size_t                         lens[3];
    const char                    *argv[3];
    ngx_http_clinic_redis_link_t  *next;

    if (state == NGX_HTTP_CLINIC_REDIS_LINK_UP) {
        argv[0] = "SENTINEL";
        lens[0] = 8;
        argv[1] = "get-master-addr-by-name";
        lens[1] = 23;
        argv[2] = (const char *) ep->master.data;
        lens[2] = ep->master.len;

        if (ngx_http_clinic_redis_link_command(link, 3, argv, lens,
                                       ngx_http_clinic_redis_sentinel_reply,
                                       ep)
            != NGX_OK)
        {
            ngx_http_clinic_redis_link_fail(link, "out of memory");
            return;
        }

        argv[0] = "SUBSCRIBE";
        lens[0] = 9;
        argv[1] = "+switch-master";
        lens[1] = 14;

        if (ngx_http_clinic_redis_link_command(link, 2, argv, lens,
                                       ngx_http_clinic_redis_subscribed, link)
            != NGX_OK)
        {
            ngx_http_clinic_redis_link_fail(link, "out of memory");
        }

        return;
    }

    if (state != NGX_HTTP_CLINIC_REDIS_LINK_DOWN || link != ep->sentinel) {
        return;
    }

    /* the next sentinel, after its own backoff */

    link->idle = 1;

    if (link->reconnect.timer_set) {
        ngx_del_timer(&link->reconnect);
    }

    next = ep->links[(link->index + 1) % ep->nlinks];
    ep->sentinel = next;
    next->idle = 0;

    if (next != link) {
        ngx_http_clinic_stats_redis_node_used(link->node_stats, 0);
        next->node_stats = ngx_http_clinic_stats_redis_node(ep->stats,
                                                            &next->name, 2);
    }

    if (!next->reconnect.timer_set && next->conn == NULL) {
        ngx_add_timer(&next->reconnect, next->backoff);
    }
}


/*
 * Asks the sentinel again: its link is subscribed, so it starts anew.
 * 0: it cannot be asked now (connecting, or busy): ask later.
 */

static ngx_uint_t
ngx_http_clinic_redis_sentinel_ask(ngx_http_clinic_redis_endpoint_t *ep)
{
    ngx_http_clinic_redis_link_t  *s;

    s = ep->sentinel;

    if (s->conn == NULL || !s->ready || !ngx_queue_empty(&s->pending)) {
        return 0;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ep->opts.log, 0,
                   "clinic redis \"%V\": asking the sentinel again",
                   &ep->name);

    ngx_http_clinic_redis_link_close(s);
    (void) ngx_http_clinic_redis_link_connect(s);

    return 1;
}


static void
ngx_http_clinic_redis_sentinel_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_redis_endpoint_t *ep = data;

    if (reply == NULL || ep->sentinel == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_ERR, ep->opts.log, 0,
                      "clinic: redis \"%V\": the sentinel at %V does not "
                      "know the master \"%V\"", &ep->name,
                      &ep->sentinel->name, &ep->master);

        ngx_http_clinic_redis_link_fail(ep->sentinel, "master unknown");
        return;
    }

    ngx_http_clinic_redis_master_at(ep,
                                    (u_char *) reply->element[0]->str,
                                    reply->element[0]->len,
                                    (u_char *) reply->element[1]->str,
                                    reply->element[1]->len);
}


static void
ngx_http_clinic_redis_subscribed(void *data, redisReply *reply)
{
    ngx_http_clinic_redis_link_t  *link = data;

    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        link->subscribed = 1;
    }
}


/* "+switch-master": NAME OLD-IP OLD-PORT NEW-IP NEW-PORT */

static void
ngx_http_clinic_redis_sentinel_push(ngx_http_clinic_redis_link_t *link,
    redisReply *reply)
{
    ngx_http_clinic_redis_endpoint_t *ep = link->owner;

    u_char      *p, *last, *f[5];
    size_t       n[5];
    ngx_uint_t   i;
    redisReply  *msg;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
        return;
    }

    msg = reply->element[2];

    if (msg->type != REDIS_REPLY_STRING) {
        return;
    }

    p = (u_char *) msg->str;
    last = p + msg->len;

    for (i = 0; i < 5; i++) {
        f[i] = p;

        while (p < last && *p != ' ') {
            p++;
        }

        n[i] = p - f[i];

        if (p < last) {
            p++;
        }
    }

    if (n[0] != ep->master.len
        || ngx_strncmp(f[0], ep->master.data, n[0]) != 0
        || n[3] == 0 || n[4] == 0)
    {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, ep->opts.log, 0,
                  "clinic: redis \"%V\": the sentinel at %V says the master "
                  "is now %*s:%*s", &ep->name, &link->name, n[3], f[3],
                  n[4], f[4]);

    ngx_http_clinic_redis_master_at(ep, f[3], n[3], f[4], n[4]);
}


/* the master is at ip:port: connect there, leaving the old one */

static void
ngx_http_clinic_redis_master_at(ngx_http_clinic_redis_endpoint_t *ep,
    u_char *ip, size_t iplen, u_char *port, size_t portlen)
{
    ngx_int_t                      p;
    ngx_str_t                      name;
    ngx_addr_t                     addr;
    ngx_http_clinic_redis_link_t  *m;

    m = ep->main;

    p = ngx_atoi(port, portlen);

    if (ngx_http_clinic_redis_ip(ep, ip, iplen, p, &addr) != NGX_OK) {
        return;
    }

    m->port = (in_port_t) p;

    if (m->has_addr
        && ngx_cmp_sockaddr(addr.sockaddr, addr.socklen, m->addr.sockaddr,
                            m->addr.socklen, 1)
           == NGX_OK)
    {
        if (m->conn == NULL && m->resolving == NULL) {
            (void) ngx_http_clinic_redis_link_connect(m);
        }

        return;
    }

    if (m->has_addr) {
        ngx_http_clinic_stats_redis_count(ep->stats,
                                        NGX_HTTP_CLINIC_STAT_MASTER_CHANGES);

        ngx_log_error(NGX_LOG_NOTICE, ep->opts.log, 0,
                      "clinic: redis \"%V\": master \"%V\" moved from %V",
                      &ep->name, &ep->master, &m->addr.name);

        ngx_http_clinic_stats_redis_node_used(m->node_stats, 0);
    }

    ngx_http_clinic_redis_link_set_addr(m, addr.sockaddr, addr.socklen);

    name = m->addr.name;
    m->node_stats = ngx_http_clinic_stats_redis_node(ep->stats, &name, 1);

    ngx_log_error(NGX_LOG_INFO, ep->opts.log, 0,
                  "clinic: redis \"%V\": master \"%V\" is at %V",
                  &ep->name, &ep->master, &m->addr.name);

    if (m->conn) {
        /* what was sent to the old master fails once, and is spooled */
        ngx_http_clinic_redis_link_fail(m, "the master moved");
    }

    if (m->reconnect.timer_set) {
        ngx_del_timer(&m->reconnect);
    }

    (void) ngx_http_clinic_redis_link_connect(m);
}


static void
ngx_http_clinic_redis_master_state(ngx_http_clinic_redis_link_t *link,
    ngx_uint_t state)
{
    ngx_http_clinic_redis_endpoint_t *ep = link->owner;

    switch (state) {

    case NGX_HTTP_CLINIC_REDIS_LINK_UP:
        ngx_http_clinic_redis_set_up(ep, 1);
        break;

    case NGX_HTTP_CLINIC_REDIS_LINK_DOWN:
        ngx_http_clinic_redis_set_up(ep, 0);
        break;

    default: /* NGX_HTTP_CLINIC_REDIS_LINK_RETRY */

        /* not the old address again: the sentinel says where */
        link->idle = 1;

        if (!ngx_http_clinic_redis_sentinel_ask(ep)) {
            ngx_add_timer(&link->reconnect, link->backoff);
        }

        break;
    }
}


/* a master turned replica answers writes with READONLY: ask again */

static ngx_int_t
ngx_http_clinic_redis_master_error(ngx_http_clinic_redis_link_t *link,
    ngx_http_clinic_redis_op_t *op, redisReply *reply)
{
    if (reply->len >= 8 && ngx_strncmp(reply->str, "READONLY", 8) == 0) {
        ngx_http_clinic_redis_link_fail(link, "no longer the master");
    }

    /* the operation gets the error: a submission is spooled */

    return NGX_DECLINED;
}


/* ------------------------------------------------------------------------
 * Cluster
 */


/*
 * The slot of the command's first key: the key of EVAL and EVALSHA is
 * after the script and the number of keys, of any other command of the
 * module its first argument.  -1: no key (any node will do).
 */

static ngx_int_t
ngx_http_clinic_redis_key_slot(int argc, const char **argv,
    const size_t *argvlen)
{
    size_t         len;
    const u_char  *key;

    if (argc < 2) {
        return -1;
    }

    if ((argvlen[0] == 4 && ngx_strncasecmp((u_char *) argv[0],
                                            (u_char *) "EVAL", 4) == 0)
        || (argvlen[0] == 7 && ngx_strncasecmp((u_char *) argv[0],
                                               (u_char *) "EVALSHA", 7) == 0))
    {
        if (argc < 4 || argvlen[2] == 0
            || (argvlen[2] == 1 && argv[2][0] == '0'))
        {
            return -1;
        }

        key = (const u_char *) argv[3];
        len = argvlen[3];

    } else {
        key = (const u_char *) argv[1];
        len = argvlen[1];
    }

    return ngx_http_clinic_redis_hash_slot(key, len);
}


/*
 * CRC16 of the hash tag, what is between the first { and the next }, if
 * any, else of the whole key
 */

static ngx_uint_t
ngx_http_clinic_redis_hash_slot(const u_char *key, size_t len)
{
    const u_char  *open, *close;

    open = ngx_strlchr((u_char *) key, (u_char *) key + len, '{');

    if (open) {
        close = ngx_strlchr((u_char *) open + 1, (u_char *) key + len, '}');

        if (close && close > open + 1) {
            key = open + 1;
            len = close - key;
        }
    }

    return ngx_http_clinic_redis_crc16(key, len) & (NGX_HTTP_CLINIC_REDIS_SLOTS
                                                    - 1);
}


/*
 * CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with.
 * Neither hiredis 0.14 nor any Debian library exports it; the bitwise
 * form is enough for keys of a few dozen bytes.
 */

static uint16_t
ngx_http_clinic_redis_crc16(const u_char *p, size_t len)
{
    uint16_t    crc;
    ngx_uint_t  i;

    crc = 0;

    while (len--) {
        crc ^= (uint16_t) (*p++ << 8);

        for (i = 0; i < 8; i++) {
            crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                 : (uint16_t) (crc << 1);
        }
    }

    return crc;
}


/* the node's link, made on first sight */

static ngx_http_clinic_redis_link_t *
ngx_http_clinic_redis_node(ngx_http_clinic_redis_endpoint_t *ep,
    u_char *host, size_t hostlen, ngx_int_t port)
{
    ngx_str_t                       name;
    ngx_uint_t                      i;
    ngx_addr_t                      addr;
    ngx_http_clinic_redis_link_t   *link, **links;
    u_char                          buf[NGX_SOCKADDR_STRLEN];

    if (ngx_http_clinic_redis_ip(ep, host, hostlen, port, &addr) != NGX_OK) {
        return NULL;
    }

    for (i = 0; i < ep->nlinks; i++) {
        link = ep->links[i];

        if (link->has_addr
            && ngx_cmp_sockaddr(addr.sockaddr, addr.socklen,
                                link->addr.sockaddr, link->addr.socklen, 1)
               == NGX_OK)
        {
            return link;
        }
    }

    if (ep->nlinks == NGX_HTTP_CLINIC_REDIS_MAX_NODES) {
        return NULL;
    }

    if (ep->nlinks == ep->nalloc) {
        links = ngx_alloc(2 * ep->nalloc * sizeof(void *), ep->opts.log);
        if (links == NULL) {
            return NULL;
        }

        ngx_memcpy(links, ep->links, ep->nlinks * sizeof(void *));
        ngx_free(ep->links);
        ep->links = links;
        ep->nalloc *= 2;
    }

    name.data = buf;
    name.len = ngx_sock_ntop(addr.sockaddr, addr.socklen, buf,
                             NGX_SOCKADDR_STRLEN, 1);

    link = ngx_http_clinic_redis_link_create(&ep->opts,
                                             NGX_HTTP_CLINIC_REDIS_LINK_DATA,
                                             &name, &addr, NULL,
                                             (in_port_t) port);
    if (link == NULL) {
        return NULL;
    }

    link->owner = ep;
    link->stats = ep->stats;
    link->state = ngx_http_clinic_redis_cluster_state;
    link->redirect = ngx_http_clinic_redis_redirect;
    link->idle = 1;
    link->index = ep->nlinks;

    ep->links[ep->nlinks++] = link;

    return link;
}


/*
 * Asks a node that is up for the slot map; with none up, connects to the
 * next known node (a seed first), which asks once its PING is answered.
 */

static void
ngx_http_clinic_redis_cluster_refresh(ngx_http_clinic_redis_endpoint_t *ep)
{
    size_t                         lens[2];
    const char                    *argv[2];
    ngx_uint_t                     i;
    ngx_http_clinic_redis_link_t  *link;

    if (ep->refreshing || ep->opts.exiting || !ep->nlinks) {
        return;
    }

    link = NULL;

    for (i = 0; i < ep->nlinks; i++) {
        if (ngx_http_clinic_redis_link_is_up(ep->links[i])) {
            link = ep->links[i];
            break;
        }
    }

    if (link == NULL) {
        /* the next one in turn; its PING brings us back here */

        link = ep->links[ep->seed++ % ep->nlinks];

        if (link->conn == NULL && link->resolving == NULL) {
            link->idle = 0;
            (void) ngx_http_clinic_redis_link_connect(link);
        }

        ngx_http_clinic_redis_refresh_later(ep, ep->refresh_backoff);
        ep->refresh_backoff = ngx_min(ep->refresh_backoff * 2,
                                      NGX_HTTP_CLINIC_REDIS_REFRESH_MAX);
        return;
    }

    argv[0] = "CLUSTER";
    lens[0] = 7;
    argv[1] = "SLOTS";
    lens[1] = 5;

    if (ngx_http_clinic_redis_link_command(link, 2, argv, lens,
                                           ngx_http_clinic_redis_slots_reply,
                                           ep)
        == NGX_OK)
    {
        ep->refreshing = 1;
    }
}


static void
ngx_http_clinic_redis_refresh_handler(ngx_event_t *ev)
{
    ngx_http_clinic_redis_endpoint_t  *ep = ev->data;

    ngx_http_clinic_redis_cluster_refresh(ep);
}


static void
ngx_http_clinic_redis_refresh_later(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_msec_t delay)
{
    if (ep->opts.exiting || ep->type != NGX_HTTP_CLINIC_REDIS_CLUSTER) {
        return;
    }

    if (ep->refresh.timer_set) {
        if (delay) {
            return;
        }

        ngx_del_timer(&ep->refresh);
    }

    ngx_add_timer(&ep->refresh, delay ? delay : 1);
}


/*
 * CLUSTER SLOTS: [start, end, [ip, port, id], [replica...]...]... The
 * masters get links; a node that owns no slot any more is left idle.
 */

static void
ngx_http_clinic_redis_slots_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_redis_endpoint_t *ep = data;

    ngx_int_t                      start, end, s;
    ngx_uint_t                     i, covered;
    redisReply                    *r, *node;
    ngx_http_clinic_redis_link_t  *link;

    ep->refreshing = 0;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements == 0)
    {
        if (reply && reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, ep->opts.log, 0,
                          "clinic: redis \"%V\": CLUSTER SLOTS answered "
                          "%*s", &ep->name,
                          (size_t) ngx_min(reply->len, 200), reply->str);
        }

        ngx_http_clinic_redis_refresh_later(ep, ep->refresh_backoff);
        ep->refresh_backoff = ngx_min(ep->refresh_backoff * 2,
                                      NGX_HTTP_CLINIC_REDIS_REFRESH_MAX);
        return;
    }

    ngx_memzero(ep->slots, NGX_HTTP_CLINIC_REDIS_SLOTS * sizeof(uint16_t));

    for (i = 0; i < ep->nlinks; i++) {
        ep->links[i]->nslots = 0;
    }

    covered = 0;

    for (i = 0; i < reply->elements; i++) {
        r = reply->element[i];

        if (r->type != REDIS_REPLY_ARRAY || r->elements < 3
            || r->element[0]->type != REDIS_REPLY_INTEGER
            || r->element[1]->type != REDIS_REPLY_INTEGER
            || r->element[2]->type != REDIS_REPLY_ARRAY
            || r->element[2]->elements < 2)
        {
            continue;
        }

        start = r->element[0]->integer;
        end = r->element[1]->integer;
        node = r->element[2];

        if (start < 0 || end >= NGX_HTTP_CLINIC_REDIS_SLOTS || start > end
            || node->element[0]->type != REDIS_REPLY_STRING
            || node->element[1]->type != REDIS_REPLY_INTEGER)
        {
            continue;
        }

        link = ngx_http_clinic_redis_node(ep,
                                          (u_char *) node->element[0]->str,
                                          node->element[0]->len,
                                          node->element[1]->integer);
        if (link == NULL) {
            continue;
        }

        for (s = start; s <= end; s++) {
            ep->slots[s] = (uint16_t) (link->index + 1);
        }

        link->nslots += end - start + 1;
        covered += end - start + 1;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ep->opts.log, 0,
                   "clinic redis \"%V\": slot map of %ui slots",
                   &ep->name, covered);

    ep->map_ready = (covered > 0);
    ep->refresh_backoff = NGX_HTTP_CLINIC_REDIS_REFRESH_MIN;

    ngx_http_clinic_redis_cluster_update(ep);
}


/*
 * Connects to every master of the map, lets go of nodes that are not
 * masters any more, and says whether the endpoint is up: every slot's
 * master answered PING.  Until it is, the map is asked for again.
 */

static void
ngx_http_clinic_redis_cluster_update(ngx_http_clinic_redis_endpoint_t *ep)
{
    ngx_str_t                      name;
    ngx_uint_t                     i, up, owned;
    ngx_http_clinic_redis_link_t  *link;

    up = ep->map_ready;
    owned = 0;

    for (i = 0; i < ep->nlinks; i++) {
        link = ep->links[i];

        if (link->nslots == 0) {
            link->idle = 1;
            ngx_http_clinic_stats_redis_node_used(link->node_stats, 0);

            if (link->reconnect.timer_set) {
                ngx_del_timer(&link->reconnect);
            }

            continue;
        }

        owned += link->nslots;

        /* found by name each time: a row no worker used may be another's */

        name = link->addr.name;
        link->node_stats = ngx_http_clinic_stats_redis_node(ep->stats, &name,
                                                            1);
        ngx_http_clinic_stats_redis_node_up(link->node_stats,
                                    ngx_http_clinic_redis_link_is_up(link));

        link->idle = 0;

        if (link->conn == NULL && link->resolving == NULL
            && !link->reconnect.timer_set)
        {
            (void) ngx_http_clinic_redis_link_connect(link);
        }

        if (!ngx_http_clinic_redis_link_is_up(link)) {
            up = 0;
        }
    }

    if (owned < NGX_HTTP_CLINIC_REDIS_SLOTS) {
        up = 0;
    }

    if (!up && ep->map_ready) {
        ngx_http_clinic_redis_refresh_later(ep, ep->refresh_backoff);
    }

    if (up != ep->up) {
        ngx_log_error(NGX_LOG_NOTICE, ep->opts.log, 0,
                      "clinic: redis \"%V\": %s", &ep->name,
                      up ? "every slot's master answers"
                         : "a slot's master does not answer; submissions "
                           "are spooled until it does");
    }

    ngx_http_clinic_redis_set_up(ep, up);
}


static void
ngx_http_clinic_redis_cluster_state(ngx_http_clinic_redis_link_t *link,
    ngx_uint_t state)
{
    ngx_http_clinic_redis_endpoint_t *ep = link->owner;

    switch (state) {

    case NGX_HTTP_CLINIC_REDIS_LINK_UP:
        if (!ep->map_ready) {
            ngx_http_clinic_redis_cluster_refresh(ep);
            return;
        }

        ngx_http_clinic_redis_cluster_update(ep);
        return;

    case NGX_HTTP_CLINIC_REDIS_LINK_DOWN:
        if (ep->up && link->nslots) {
            ngx_http_clinic_redis_set_up(ep, 0);
        }

        if (link->nslots) {
            /* a replica may take over: ask for the map until it has */
            ngx_http_clinic_redis_refresh_later(ep,
                                            NGX_HTTP_CLINIC_REDIS_REFRESH_MIN);
        }

        return;

    default: /* NGX_HTTP_CLINIC_REDIS_LINK_RETRY */
        if (ep->map_ready && link->nslots == 0) {
            link->idle = 1;
        }

        return;
    }
}


/*
 * MOVED: the slot has a new owner for good; the map is asked for again,
 * and the command goes there now.  ASK: this one command goes to the
 * importing node, after ASKING.  TRYAGAIN (a multi-key command while its
 * slot migrates): sent again shortly.  All bounded.
 */

static ngx_int_t
ngx_http_clinic_redis_redirect(ngx_http_clinic_redis_link_t *link,
    ngx_http_clinic_redis_op_t *op, redisReply *reply)
{
    ngx_http_clinic_redis_endpoint_t *ep = link->owner;

    u_char                        *p, *last, *colon, *addr;
    size_t                         lens[1];
    ngx_int_t                      slot, port;
    ngx_uint_t                     ask;
    const char                    *argv[1];
    ngx_http_clinic_redis_link_t  *to;

    if (op->cmd == NULL) {
        /* one of the layer's own commands */
        return NGX_DECLINED;
    }

    p = (u_char *) reply->str;
    last = p + reply->len;

    if (reply->len >= 8 && ngx_strncmp(p, "TRYAGAIN", 8) == 0) {
        if (op->redirects++ >= NGX_HTTP_CLINIC_REDIS_MAX_TRYAGAIN) {
            return NGX_DECLINED;
        }

        ngx_http_clinic_stats_redis_count(ep->stats,
                                          NGX_HTTP_CLINIC_STAT_TRYAGAIN);

        if (op->timer.timer_set) {
            ngx_del_timer(&op->timer);
        }

        op->timer.handler = ngx_http_clinic_redis_tryagain_handler;
        ngx_add_timer(&op->timer, NGX_HTTP_CLINIC_REDIS_TRYAGAIN_WAIT);

        return NGX_OK;
    }

    if (reply->len >= 11 && ngx_strncmp(p, "CLUSTERDOWN", 11) == 0) {
        ngx_http_clinic_redis_refresh_later(ep, 0);
        return NGX_DECLINED;
    }

    if (reply->len > 6 && ngx_strncmp(p, "MOVED ", 6) == 0) {
        ask = 0;
        p += 6;

    } else if (reply->len > 4 && ngx_strncmp(p, "ASK ", 4) == 0) {
        ask = 1;
        p += 4;

    } else {
        return NGX_DECLINED;
    }

    if (op->redirects++ >= NGX_HTTP_CLINIC_REDIS_MAX_REDIRECTS
        || (ask && op->asking))
    {
        return NGX_DECLINED;
    }

    addr = ngx_strlchr(p, last, ' ');
    if (addr == NULL) {
        return NGX_DECLINED;
    }

    slot = ngx_atoi(p, addr - p);
    addr++;

    colon = NULL;

    for (p = last - 1; p > addr; p--) {
        if (*p == ':') {
            colon = p;
            break;
        }
    }

    if (slot < 0 || slot >= NGX_HTTP_CLINIC_REDIS_SLOTS || colon == NULL) {
        return NGX_DECLINED;
    }

    port = ngx_atoi(colon + 1, last - colon - 1);

    to = ngx_http_clinic_redis_node(ep, addr, colon - addr, port);
    if (to == NULL) {
        return NGX_DECLINED;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ep->opts.log, 0,
                   "clinic redis \"%V\": %s for slot %i, to %V",
                   &ep->name, ask ? "ASK" : "MOVED", slot, &to->name);

    ngx_http_clinic_stats_redis_count(ep->stats,
                                      ask ? NGX_HTTP_CLINIC_STAT_ASK
                                          : NGX_HTTP_CLINIC_STAT_MOVED);

    if (!ask) {
        if (ep->slots[slot] && ep->slots[slot] != to->index + 1) {
            link->nslots -= (link->nslots > 0);
        }

        if (ep->slots[slot] != to->index + 1) {
            to->nslots++;
        }

        ep->slots[slot] = (uint16_t) (to->index + 1);
        ngx_http_clinic_redis_refresh_later(ep, 0);
    }

    if (to->conn == NULL && to->resolving == NULL) {
        (void) ngx_http_clinic_redis_link_connect(to);
    }

    if (to->down) {
        return NGX_DECLINED;
    }

    if (ask) {
        /* ASKING, then the command, on the importing node's connection */

        argv[0] = "ASKING";
        lens[0] = 6;

        if (ngx_http_clinic_redis_link_command(to, 1, argv, lens, NULL, NULL)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        op->asking = 1;
    }

    return ngx_http_clinic_redis_link_queue(to, op, op->cmd, op->cmd_len);
}


static void
ngx_http_clinic_redis_tryagain_handler(ngx_event_t *ev)
{
    ngx_http_clinic_redis_op_t  *op = ev->data;

    ngx_uint_t                         idx;
    ngx_http_clinic_redis_link_t      *link;
    ngx_http_clinic_redis_endpoint_t  *ep;

    ep = ngx_http_clinic_redis_ep(op->opts);

    op->timer.handler = NULL;

    idx = (op->slot >= 0 && ep->slots) ? ep->slots[op->slot] : 0;
    link = idx ? ep->links[idx - 1] : NULL;

    if (link == NULL || link->down || ep->opts.exiting
        || ngx_http_clinic_redis_resend(link, op) != NGX_OK)
    {
        ngx_http_clinic_redis_op_complete(op, NULL);
    }
}


/*
 * Queues op again on link (a TRYAGAIN's retry), connecting it first when
 * it has no connection; NGX_DECLINED when the link is known to be down.
 */

static ngx_int_t
ngx_http_clinic_redis_resend(ngx_http_clinic_redis_link_t *link,
    ngx_http_clinic_redis_op_t *op)
{
    if (link->conn == NULL && link->resolving == NULL) {
        (void) ngx_http_clinic_redis_link_connect(link);
    }

    if (link->down) {
        return NGX_DECLINED;
    }

    return ngx_http_clinic_redis_link_queue(link, op, op->cmd, op->cmd_len);
}


/*
 * An IP address and port that Redis named (a sentinel, a cluster map or
 * redirect), into addr; the sockaddr is in a scratch buffer of the
 * endpoint's, valid until the next call.
 */

static ngx_int_t
ngx_http_clinic_redis_ip(ngx_http_clinic_redis_endpoint_t *ep, u_char *ip,
    size_t len, ngx_int_t port, ngx_addr_t *addr)
{
    u_char           text[NGX_SOCKADDR_STRLEN + 1];
    ngx_int_t        rc;
    ngx_pool_t      *pool;

    if (port < 1 || port > 65535 || len == 0 || len > NGX_SOCKADDR_STRLEN) {
        ngx_log_error(NGX_LOG_ERR, ep->opts.log, 0,
                      "clinic: redis \"%V\": Redis named a node at "
                      "\"%*s\" port %i, not an address", &ep->name,
                      ngx_min(len, 64), ip, port);
        return NGX_ERROR;
    }

    ngx_memcpy(text, ip, len);
    text[len] = '\0';

    pool = ngx_create_pool(512, ep->opts.log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_parse_addr(pool, addr, text, len);

    if (rc == NGX_OK) {
        ngx_memcpy(ep->sockaddr, addr->sockaddr, addr->socklen);
        addr->sockaddr = (struct sockaddr *) ep->sockaddr;
        ngx_inet_set_port(addr->sockaddr, (in_port_t) port);
    }

    ngx_destroy_pool(pool);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ep->opts.log, 0,
                      "clinic: redis \"%V\": Redis named a node at "
                      "\"%s\", not an IP address (host names from Redis "
                      "are not resolved)", &ep->name, text);
        return NGX_ERROR;
    }

    return NGX_OK;
}
