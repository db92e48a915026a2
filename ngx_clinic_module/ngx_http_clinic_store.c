
/*
 * The submission store (see the header): the atomic Redis script, its
 * keys, the EVALSHA call with its NOSCRIPT fallback, and its reply.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_store.h"


#define NGX_HTTP_CLINIC_DEDUPE_TTL   "86400"


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


static void ngx_http_clinic_store_reply(void *data, redisReply *reply);


/*
 * KEYS: stream, dedupe key, client limit key, tenant limit key (all in
 * the tenant's hash slot: a replay, which is not limited, names the
 * stream twice and limits of 0).  ARGV: retention ms, client limit,
 * client period, tenant limit, tenant period, honeypot, then the entry's
 * field/value pairs.  Returns {0, id} added, {1, id} duplicate,
 * {2, seconds} limited, {3, ""} honeypot counted.  A client over its own
 * limit is not counted against the tenant's, so one client cannot use up
 * the tenant's.  With retention off the stream never expires (PERSIST
 * undoes an earlier one).
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
    "local c = over(KEYS[3], ARGV[2], ARGV[3])\n"
    "if c > 0 then return {2, tostring(c)} end\n"
    "local t = over(KEYS[4], ARGV[4], ARGV[5])\n"
    "if t > 0 then return {2, tostring(t)} end\n"
    "if ARGV[6] == '1' then return {3, ''} end\n"
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


/* the store script's SHA1 for EVALSHA, computed once at configuration */

void
ngx_http_clinic_store_init_conf(ngx_http_clinic_main_conf_t *cmcf)
{
    u_char      digest[20];
    ngx_sha1_t  sha1;

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, ngx_http_clinic_store_script,
                    sizeof(ngx_http_clinic_store_script) - 1);
    ngx_sha1_final(digest, &sha1);

    (void) ngx_hex_dump(cmcf->store_sha, digest, 20);
}


/* clinic:{T}:submissions, the tenant's stream: the admin API reads it */

ngx_int_t
ngx_http_clinic_store_stream_key(ngx_pool_t *pool,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *key)
{
    return ngx_http_clinic_key(pool, cscf, "submissions", NULL, key);
}


/*
 * clinic:{T}:handled, the inbox's handled marks: a sorted set of stream
 * ids, scored by their milliseconds
 */

ngx_int_t
ngx_http_clinic_store_handled_key(ngx_pool_t *pool,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *key)
{
    return ngx_http_clinic_key(pool, cscf, "handled", NULL, key);
}


ngx_int_t
ngx_http_clinic_store_keys(ngx_pool_t *pool, ngx_http_clinic_srv_conf_t *cscf,
    u_char *digest, ngx_http_clinic_submission_t *sub)
{
    u_char     hex[32];
    ngx_str_t  value;

    if (ngx_http_clinic_store_stream_key(pool, cscf, &sub->stream)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    value.data = hex;
    value.len = ngx_hex_dump(hex, digest, 16) - hex;

    return ngx_http_clinic_key(pool, cscf, "dedupe:", &value, &sub->dedupe);
}


ngx_int_t
ngx_http_clinic_store_limit_keys(ngx_pool_t *pool,
    ngx_http_clinic_srv_conf_t *cscf, ngx_str_t *client,
    ngx_http_clinic_store_limits_t *limits)
{
    if (ngx_http_clinic_key(pool, cscf, "limit:client:", client,
                            &limits->client_key)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_clinic_key(pool, cscf, "limit:tenant", NULL,
                               &limits->tenant_key);
}


ngx_int_t
ngx_http_clinic_store_tenant_keys(ngx_http_clinic_srv_conf_t *cscf,
    ngx_http_clinic_submission_t *sub)
{
    ngx_str_t  *prefix;

    prefix = &cscf->key_prefix;

    if (sub->stream.len <= prefix->len
        || sub->dedupe.len <= prefix->len
        || ngx_strncmp(sub->stream.data, prefix->data, prefix->len) != 0
        || ngx_strncmp(sub->dedupe.data, prefix->data, prefix->len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_clinic_store_send(ngx_http_clinic_redis_endpoint_t *ep,
    ngx_pool_t *pool, ngx_http_clinic_submission_t *sub,
    ngx_http_clinic_store_limits_t *limits, ngx_http_clinic_store_pt handler,
    void *data)
{
    int                           argc;
    u_char                       *p, *nums;
    ngx_int_t                     rc;
    ngx_http_clinic_redis_op_t   *op;
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
        /*
         * replays were counted when they came in: limits of 0, and keys
         * of the tenant's own slot, for a cluster
         */
        ngx_http_clinic_arg(5, sub->stream.data, sub->stream.len);
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

    rc = ngx_http_clinic_redis_send(ep, pool, argc, argv, lens,
                                    ngx_http_clinic_store_reply, sctx, &op);

    if (rc == NGX_OK) {
        /* stored once the endpoint's replicas have it, else spooled */
        ngx_http_clinic_redis_replicated(ep, op);
    }

    return rc;
}


static void
ngx_http_clinic_store_reply(void *data, redisReply *reply)
{
    ngx_http_clinic_store_ctx_t *sctx = data;

    ngx_int_t                       n;
    redisReply                     *code, *value;
    ngx_http_clinic_redis_op_t     *op;
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
                                       &op)
            == NGX_OK)
        {
            ngx_http_clinic_redis_replicated(sctx->ep, op);
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
