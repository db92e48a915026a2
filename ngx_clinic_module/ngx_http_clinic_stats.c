
/*
 * The node's counters: one small shared memory zone, updated with atomic
 * adds by every worker; clinic_status (ngx_http_clinic_status.c) shows them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_stats.h"


static ngx_int_t ngx_http_clinic_stats_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_clinic_stats_move(ngx_http_clinic_stats_t *ost,
    ngx_http_clinic_stats_t *st, u_char *p);
static ngx_int_t ngx_http_clinic_stats_find(ngx_str_t *names, ngx_uint_t n,
    ngx_str_t *name, ngx_uint_t hint);
static void ngx_http_clinic_stats_worker_bit(ngx_atomic_t *word,
    ngx_uint_t set);


const double  ngx_http_clinic_latency_le[NGX_HTTP_CLINIC_LATENCY_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0
};


static ngx_str_t  ngx_http_clinic_stats_zone_name =
    ngx_string("ngx_http_clinic_stats");


/* labels: the endpoints' metric labels, in the order of cmcf->endpoints */

ngx_int_t
ngx_http_clinic_stats_init_conf(ngx_conf_t *cf,
    ngx_http_clinic_main_conf_t *cmcf, ngx_str_t *labels)
{
    size_t                              size;
    uint32_t                            crc;
    ngx_uint_t                          i;
    ngx_http_clinic_stats_t            *st;
    ngx_http_clinic_srv_conf_t        **tenants;

    st = ngx_pcalloc(cf->pool, sizeof(ngx_http_clinic_stats_t));
    if (st == NULL) {
        return NGX_ERROR;
    }

    st->nredis = cmcf->endpoints.nelts;
    st->ntenants = cmcf->tenants.nelts;

    st->tenant_names = ngx_palloc(cf->pool,
                                  (st->ntenants + 1) * sizeof(ngx_str_t));
    if (st->tenant_names == NULL) {
        return NGX_ERROR;
    }

    st->redis_labels = labels;

    /* the counters' format: a build that lays them out otherwise resets */

    ngx_crc32_init(crc);

    size = sizeof(ngx_http_clinic_stats_hdr_t);
    ngx_crc32_update(&crc, (u_char *) &size, sizeof(size_t));
    size = sizeof(ngx_http_clinic_redis_stats_t);
    ngx_crc32_update(&crc, (u_char *) &size, sizeof(size_t));
    size = sizeof(ngx_http_clinic_tenant_stats_t);
    ngx_crc32_update(&crc, (u_char *) &size, sizeof(size_t));

    st->format = crc;

    /* the same names in the same places: the zone is used as it is */

    tenants = cmcf->tenants.elts;
    for (i = 0; i < st->ntenants; i++) {
        st->tenant_names[i] = tenants[i]->tenant;
        ngx_crc32_update(&crc, tenants[i]->tenant.data,
                         tenants[i]->tenant.len);
        ngx_crc32_update(&crc, (u_char *) "\n", 1);
    }

    for (i = 0; i < st->nredis; i++) {
        ngx_crc32_update(&crc, labels[i].data, labels[i].len);
        ngx_crc32_update(&crc, (u_char *) "\n", 1);
    }

    ngx_crc32_final(crc);
    st->layout = crc;

    st->size = sizeof(ngx_http_clinic_stats_hdr_t)
               + st->nredis * sizeof(ngx_http_clinic_redis_stats_t)
               + st->ntenants * sizeof(ngx_http_clinic_tenant_stats_t);

    /*
     * The zone keeps its size while tenants come and go (room for the next
     * multiple of 1024 tenants and 64 endpoints), so that a reload finds
     * the old counters; twice that, for the old and the new block side by
     * side while the counters move over, and the slab pool's own pages.
     */

    size = sizeof(ngx_http_clinic_stats_hdr_t)
           + ngx_align(st->nredis + 1, 64)
             * sizeof(ngx_http_clinic_redis_stats_t)
           + ngx_align(st->ntenants + 1, 1024)
             * sizeof(ngx_http_clinic_tenant_stats_t);

    size = 2 * ngx_align(size, ngx_pagesize) + 8 * ngx_pagesize;

    cmcf->stats_zone = ngx_shared_memory_add(cf,
                                             &ngx_http_clinic_stats_zone_name,
                                             size, &ngx_http_clinic_module);
    if (cmcf->stats_zone == NULL) {
        return NGX_ERROR;
    }

    cmcf->stats_zone->init = ngx_http_clinic_stats_init_zone;
    cmcf->stats_zone->data = st;

    return NGX_OK;
}


static ngx_int_t
ngx_http_clinic_stats_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_clinic_stats_t  *ost = data;

    u_char                   *p;
    ngx_slab_pool_t          *shpool;
    ngx_http_clinic_stats_t  *st;

    st = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (ost && ost->layout == st->layout && shpool->data) {
        p = shpool->data;

    } else {
        p = ngx_slab_calloc(shpool, st->size);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (shpool->data) {
            /* a tenant or endpoint came or went: the others keep theirs */

            if (ost && ost->format == st->format && ost->hdr) {
                ngx_http_clinic_stats_move(ost, st, p);
            }

            ngx_slab_free(shpool, shpool->data);
        }

        shpool->data = p;
    }

    st->hdr = (ngx_http_clinic_stats_hdr_t *) p;
    p += sizeof(ngx_http_clinic_stats_hdr_t);
    st->redis = (ngx_http_clinic_redis_stats_t *) p;
    p += st->nredis * sizeof(ngx_http_clinic_redis_stats_t);
    st->tenant = (ngx_http_clinic_tenant_stats_t *) p;

    st->hdr->layout = st->layout;

    return NGX_OK;
}


/*
 * Called in the master during a reload, while the old cycle (and its names)
 * still lives: copies the old block's counters into the new block p, by
 * tenant name and endpoint label, so that only what was removed is lost.
 */

static void
ngx_http_clinic_stats_move(ngx_http_clinic_stats_t *ost,
    ngx_http_clinic_stats_t *st, u_char *p)
{
    ngx_int_t                        j;
    ngx_uint_t                       i;
    ngx_http_clinic_redis_stats_t   *redis;
    ngx_http_clinic_tenant_stats_t  *tenant;

    ngx_memcpy(p, ost->hdr, sizeof(ngx_http_clinic_stats_hdr_t));

    p += sizeof(ngx_http_clinic_stats_hdr_t);
    redis = (ngx_http_clinic_redis_stats_t *) p;
    p += st->nredis * sizeof(ngx_http_clinic_redis_stats_t);
    tenant = (ngx_http_clinic_tenant_stats_t *) p;

    for (i = 0; i < st->nredis; i++) {
        j = ngx_http_clinic_stats_find(ost->redis_labels, ost->nredis,
                                       &st->redis_labels[i], i);
        if (j != NGX_ERROR) {
            redis[i] = ost->redis[j];
        }
    }

    for (i = 0; i < st->ntenants; i++) {
        j = ngx_http_clinic_stats_find(ost->tenant_names, ost->ntenants,
                                       &st->tenant_names[i], i);
        if (j != NGX_ERROR) {
            tenant[i] = ost->tenant[j];
        }
    }
}


/* name's index in names: where it was (hint, or a place off), else any */

static ngx_int_t
ngx_http_clinic_stats_find(ngx_str_t *names, ngx_uint_t n, ngx_str_t *name,
    ngx_uint_t hint)
{
    ngx_uint_t  i, k;

    for (k = 0; k < 3; k++) {
        i = hint + k - 1;

        if (hint + k >= 1 && i < n
            && names[i].len == name->len
            && ngx_strncmp(names[i].data, name->data, name->len) == 0)
        {
            return i;
        }
    }

    for (i = 0; i < n; i++) {
        if (names[i].len == name->len
            && ngx_strncmp(names[i].data, name->data, name->len) == 0)
        {
            return i;
        }
    }

    return NGX_ERROR;
}


ngx_uint_t
ngx_http_clinic_stats_worker_slot(void)
{
    return ngx_min(ngx_worker, NGX_HTTP_CLINIC_WORKER_SLOTS - 1);
}


/*
 * Each worker has its own connection to the endpoint, so each says for
 * itself whether it is up: one stuck worker must not hide behind another.
 */

void
ngx_http_clinic_stats_redis_up(void *stats, ngx_uint_t up)
{
    ngx_http_clinic_redis_stats_t  *s = stats;

    if (s) {
        ngx_http_clinic_stats_worker_bit(&s->down, !up);
    }
}


/*
 * The node's row for this endpoint, found by name or taken: a row is
 * taken with a compare-and-set and named before it is shown, so two
 * workers meeting a new node at once may make two rows only if both
 * find none named yet (the second then finds the first next time).
 * NULL when the rows are all taken.
 */

void *
ngx_http_clinic_stats_redis_node(void *stats, ngx_str_t *name,
    ngx_uint_t role)
{
    size_t                               len;
    ngx_uint_t                           i;
    ngx_http_clinic_redis_stats_t       *s = stats;
    ngx_http_clinic_redis_node_stats_t  *n;

    if (s == NULL) {
        return NULL;
    }

    len = ngx_min(name->len, NGX_HTTP_CLINIC_NODE_NAME_LEN);

    for (i = 0; i < NGX_HTTP_CLINIC_REDIS_NODES; i++) {
        n = &s->node[i];

        if (n->state == 2 && n->len == len && n->role == role
            && ngx_strncmp(n->name, name->data, len) == 0)
        {
            ngx_http_clinic_stats_worker_bit(&n->seen, 1);
            return n;
        }
    }

    /* a free row, else one no worker uses any more */

    for (i = 0; i < 2 * NGX_HTTP_CLINIC_REDIS_NODES; i++) {
        n = &s->node[i % NGX_HTTP_CLINIC_REDIS_NODES];

        if ((i < NGX_HTTP_CLINIC_REDIS_NODES
             && n->state == 0 && ngx_atomic_cmp_set(&n->state, 0, 1))
            || (i >= NGX_HTTP_CLINIC_REDIS_NODES
                && n->state == 2 && n->seen == 0
                && ngx_atomic_cmp_set(&n->state, 2, 1)))
        {
            ngx_memcpy(n->name, name->data, len);
            n->len = len;
            n->role = role;
            n->down = 0;
            n->seen = 0;
            ngx_memory_barrier();
            n->state = 2;

            ngx_http_clinic_stats_worker_bit(&n->seen, 1);
            return n;
        }
    }

    return NULL;
}


/* at a worker's start: what a worker of the same number said is past */

void
ngx_http_clinic_stats_redis_nodes_reset(void *stats)
{
    ngx_uint_t                      i;
    ngx_http_clinic_redis_stats_t  *s = stats;

    if (s == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_CLINIC_REDIS_NODES; i++) {
        ngx_http_clinic_stats_worker_bit(&s->node[i].seen, 0);
        ngx_http_clinic_stats_worker_bit(&s->node[i].down, 0);
    }
}


/* a node this worker no longer uses (no longer a master) is not shown */

void
ngx_http_clinic_stats_redis_node_used(void *node, ngx_uint_t used)
{
    ngx_http_clinic_redis_node_stats_t  *n = node;

    if (n) {
        ngx_http_clinic_stats_worker_bit(&n->seen, used);
    }
}


void
ngx_http_clinic_stats_redis_node_up(void *node, ngx_uint_t up)
{
    ngx_http_clinic_redis_node_stats_t  *n = node;

    if (n) {
        ngx_http_clinic_stats_worker_bit(&n->down, !up);
    }
}


/* sets or clears this worker's bit in a word of bits */

static void
ngx_http_clinic_stats_worker_bit(ngx_atomic_t *word, ngx_uint_t set)
{
    ngx_atomic_uint_t  bit, old, new;

    bit = (ngx_atomic_uint_t) 1 << ngx_http_clinic_stats_worker_slot();

    do {
        old = *word;
        new = set ? (old | bit) : (old & ~bit);

        if (new == old) {
            return;
        }

    } while (!ngx_atomic_cmp_set(word, old, new));
}


void
ngx_http_clinic_stats_redis_count(void *stats, ngx_uint_t which)
{
    ngx_http_clinic_redis_stats_t  *s = stats;

    if (s) {
        (void) ngx_atomic_fetch_add(&s->counter[which], 1);
    }
}


void
ngx_http_clinic_stats_redis_latency(void *stats, uint64_t usec,
    ngx_uint_t error)
{
    ngx_uint_t                      i;
    ngx_http_clinic_redis_stats_t  *s = stats;

    if (s == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&s->counter[NGX_HTTP_CLINIC_STAT_COMMANDS],
                                1);

    if (error) {
        (void) ngx_atomic_fetch_add(&s->counter[NGX_HTTP_CLINIC_STAT_ERRORS],
                                    1);
    }

    (void) ngx_atomic_fetch_add(&s->latency_us, (ngx_atomic_int_t) usec);

    for (i = 0; i < NGX_HTTP_CLINIC_LATENCY_BUCKETS; i++) {
        if ((double) usec <= ngx_http_clinic_latency_le[i] * 1e6) {
            (void) ngx_atomic_fetch_add(&s->bucket[i], 1);
            break;
        }
    }
}


void
ngx_http_clinic_stats_tenant_count(ngx_http_request_t *r, ngx_uint_t which)
{
    ngx_http_clinic_stats_t      *st;
    ngx_http_clinic_srv_conf_t   *cscf;
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);

    if (cmcf->stats_zone == NULL || !cscf->is_tenant) {
        return;
    }

    st = cmcf->stats_zone->data;

    if (st->tenant == NULL || cscf->index >= st->ntenants) {
        return;
    }

    (void) ngx_atomic_fetch_add(&st->tenant[cscf->index].counter[which], 1);
}


ngx_int_t
ngx_http_clinic_stats_log_handler(ngx_http_request_t *r)
{
    ngx_uint_t                    class;
    ngx_http_clinic_stats_t      *st;
    ngx_http_clinic_srv_conf_t   *cscf;
    ngx_http_clinic_loc_conf_t   *clcf;
    ngx_http_clinic_main_conf_t  *cmcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_clinic_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_clinic_module);
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_clinic_module);

    if (clcf->handler == NGX_HTTP_CLINIC_NONE || !cscf->is_tenant
        || cmcf->stats_zone == NULL)
    {
        return NGX_OK;
    }

    st = cmcf->stats_zone->data;

    if (st->tenant == NULL || cscf->index >= st->ntenants) {
        return NGX_OK;
    }

    class = r->headers_out.status / 100;

    if (class < 1 || class > NGX_HTTP_CLINIC_CLASSES) {
        class = 5;
    }

    (void) ngx_atomic_fetch_add(
               &st->tenant[cscf->index].requests[clcf->handler][class - 1], 1);

    return NGX_OK;
}
