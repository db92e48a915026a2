
/*
 * The local rate limit (see the header).  A fixed table of counters in
 * one shared memory zone, like the windows of the store script: a window
 * opens at a key's first submission and lasts the period.  Keys are 64-bit
 * hashes of the tenant and the client address; a key looks at a few slots
 * from its hash and, when all hold live windows of other keys, takes the
 * one that opened first.  So a flood of addresses can only ever make the
 * limit forget an old window (more lenient), never refuse a stranger.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_murmurhash.h>

#include "ngx_http_clinic_limit.h"


#define NGX_HTTP_CLINIC_LIMIT_SIZE    (1024 * 1024)
#define NGX_HTTP_CLINIC_LIMIT_PROBES  8


typedef struct {
    uint64_t                         key;
    time_t                           start;
    time_t                           expires;
    ngx_uint_t                       count;
} ngx_http_clinic_limit_slot_t;


typedef struct {
    ngx_uint_t                       nslots;
    ngx_http_clinic_limit_slot_t     slot[1];
} ngx_http_clinic_limit_table_t;


static ngx_int_t ngx_http_clinic_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static uint64_t ngx_http_clinic_limit_key(ngx_str_t *tenant,
    ngx_str_t *client);
static ngx_http_clinic_limit_slot_t *ngx_http_clinic_limit_slot_locked(
    ngx_http_clinic_limit_table_t *t, uint64_t key, time_t now,
    time_t period);


static ngx_str_t  ngx_http_clinic_limit_zone_name =
    ngx_string("ngx_http_clinic_limits");


ngx_shm_zone_t *
ngx_http_clinic_limit_add_zone(ngx_conf_t *cf, void *tag)
{
    ngx_shm_zone_t  *zone;

    zone = ngx_shared_memory_add(cf, &ngx_http_clinic_limit_zone_name,
                                 NGX_HTTP_CLINIC_LIMIT_SIZE, tag);
    if (zone == NULL) {
        return NULL;
    }

    zone->init = ngx_http_clinic_limit_init_zone;

    return zone;
}


/* the windows survive a reload, as the counters in Redis would */

static ngx_int_t
ngx_http_clinic_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                          size;
    ngx_slab_pool_t                *shpool;
    ngx_http_clinic_limit_table_t  *t;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data || shpool->data) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    size = shm_zone->shm.size / 2;

    t = ngx_slab_calloc(shpool, size);
    if (t == NULL) {
        return NGX_ERROR;
    }

    t->nslots = (size - sizeof(ngx_http_clinic_limit_table_t))
                / sizeof(ngx_http_clinic_limit_slot_t) + 1;

    shpool->data = t;
    shm_zone->data = t;

    return NGX_OK;
}


ngx_int_t
ngx_http_clinic_limit_take(ngx_shm_zone_t *zone, ngx_str_t *tenant,
    ngx_str_t *client, ngx_uint_t client_count, time_t client_period,
    ngx_uint_t tenant_count, time_t tenant_period, time_t *retry_after)
{
    time_t                          now;
    ngx_int_t                       rc;
    ngx_slab_pool_t                *shpool;
    ngx_http_clinic_limit_slot_t   *cs, *ts;
    ngx_http_clinic_limit_table_t  *t;

    if (zone == NULL || zone->data == NULL
        || (client_count == 0 && tenant_count == 0))
    {
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    t = zone->data;
    now = ngx_time();
    rc = NGX_OK;

    ngx_shmtx_lock(&shpool->mutex);

    if (client_count) {
        cs = ngx_http_clinic_limit_slot_locked(t,
                 ngx_http_clinic_limit_key(tenant, client), now,
                 client_period);

        if (cs->count >= client_count) {
            *retry_after = ngx_max(cs->expires - now, 1);
            rc = NGX_BUSY;
            goto done;
        }

        cs->count++;
    }

    if (tenant_count) {
        ts = ngx_http_clinic_limit_slot_locked(t,
                 ngx_http_clinic_limit_key(tenant, NULL), now,
                 tenant_period);

        if (ts->count >= tenant_count) {
            *retry_after = ngx_max(ts->expires - now, 1);
            rc = NGX_BUSY;
            goto done;
        }

        ts->count++;
    }

done:

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


static uint64_t
ngx_http_clinic_limit_key(ngx_str_t *tenant, ngx_str_t *client)
{
    uint32_t  h1, h2;

    /* two murmur hashes of different inputs: 64 bits, no rare collisions */

    h1 = ngx_murmur_hash2(tenant->data, tenant->len);
    h2 = client ? ngx_murmur_hash2(client->data, client->len)
                : 0x9e3779b9;

    h2 ^= h1 * 0x01000193;

    return ((uint64_t) h1 << 32 | h2) | 1;
}


/* called with the zone mutex held; the slot of key, its window open */

static ngx_http_clinic_limit_slot_t *
ngx_http_clinic_limit_slot_locked(ngx_http_clinic_limit_table_t *t,
    uint64_t key, time_t now, time_t period)
{
    ngx_uint_t                     i;
    ngx_http_clinic_limit_slot_t  *s, *free, *oldest, *take;

    free = NULL;
    oldest = NULL;

    for (i = 0; i < NGX_HTTP_CLINIC_LIMIT_PROBES; i++) {
        s = &t->slot[(key + i) % t->nslots];

        if (s->key == key) {
            if (s->expires <= now) {
                s->start = now;
                s->expires = now + period;
                s->count = 0;
            }

            return s;
        }

        if (s->key == 0 || s->expires <= now) {
            if (free == NULL) {
                free = s;
            }

        } else if (oldest == NULL || s->start < oldest->start) {
            oldest = s;
        }
    }

    take = free ? free : oldest;

    take->key = key;
    take->start = now;
    take->expires = now + period;
    take->count = 0;

    return take;
}
