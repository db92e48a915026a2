
/*
 * The page cache's first layer (L1): one slab zone per node, shared by every
 * worker and tenant.  Entries sit in a hash table of chains keyed by the
 * crc32 of the key (full key comparison on collision; a bucket per 8 KB of
 * zone, so chains stay a node or two long however many pages there are) and
 * in an LRU queue, most recently used first; an allocation that fails
 * evicts from the tail of the queue until it fits.  The zone, and so every
 * entry, survives a reload.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_cache.h"


#define NGX_HTTP_CLINIC_PAGE_MAGIC      "CP1\n"
#define NGX_HTTP_CLINIC_PAGE_MAGIC_LEN  4

/* magic, version, last_modified, status, type, etag length */
#define NGX_HTTP_CLINIC_PAGE_HEADER     (4 + 8 + 8 + 2 + 1 + 1)


/*
 * An entry: the node and its key in one slab allocation, the blob in
 * another, so that replacing a blob leaves the node where it is in its bucket
 * and the queue.  blob == NULL makes the entry a pending marker alone; the
 * zone never holds an entry with neither a blob nor the pending flag.
 */

typedef struct ngx_http_clinic_cache_node_s  ngx_http_clinic_cache_node_t;

struct ngx_http_clinic_cache_node_s {
    ngx_http_clinic_cache_node_t    *next;       /* in its bucket */
    uint32_t                         hash;
    ngx_str_t                        key;        /* after the node */
    ngx_queue_t                      queue;      /* LRU, head most recent */
    uint64_t                         version;
    u_char                          *blob;
    size_t                           blob_len;
    ngx_msec_t                       claimed;    /* when pending was set */
    ngx_uint_t                       pending;    /* unsigned  pending:1; */
    ngx_uint_t                       image;      /* pinned: not in the LRU */
};


/* the bytes of zone a bucket of the table is made for */
#define NGX_HTTP_CLINIC_CACHE_BUCKET_BYTES  8192


typedef struct {
    ngx_http_clinic_cache_node_t   **buckets;
    ngx_uint_t                       mask;       /* buckets - 1 */
    ngx_queue_t                      queue;
    ngx_uint_t                       entries;
    size_t                           bytes;      /* blobs only */
    ngx_uint_t                       evictions;
    uint64_t                         serial;     /* of the last image */
    ngx_http_clinic_image_t         *retired;    /* oldest last */
} ngx_http_clinic_cache_sh_t;


static ngx_int_t ngx_http_clinic_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_clinic_cache_node_t *ngx_http_clinic_cache_lookup_locked(
    ngx_shm_zone_t *zone, ngx_str_t *key);
static ngx_http_clinic_cache_node_t *ngx_http_clinic_cache_create_locked(
    ngx_shm_zone_t *zone, ngx_str_t *key, ngx_uint_t *evicted);
static void ngx_http_clinic_cache_touch_locked(ngx_shm_zone_t *zone,
    ngx_http_clinic_cache_node_t *cn);
static void ngx_http_clinic_cache_delete_locked(ngx_shm_zone_t *zone,
    ngx_http_clinic_cache_node_t *cn);
static void *ngx_http_clinic_cache_alloc_locked(ngx_shm_zone_t *zone,
    size_t size, ngx_http_clinic_cache_node_t *keep, ngx_uint_t *evicted);
static ngx_int_t ngx_http_clinic_cache_evict_locked(ngx_shm_zone_t *zone,
    ngx_http_clinic_cache_node_t *keep);
static ngx_int_t ngx_http_clinic_cache_copy(ngx_http_clinic_cache_node_t *cn,
    ngx_pool_t *pool, ngx_str_t *blob);
static ngx_int_t ngx_http_clinic_page_check(ngx_uint_t status,
    ngx_uint_t type, u_char *etag, size_t len);
static u_char *ngx_http_clinic_page_write_uint(u_char *p, uint64_t value,
    size_t n);
static uint64_t ngx_http_clinic_page_read_uint(u_char *p, size_t n);
static void ngx_http_clinic_cache_image_gc_locked(ngx_shm_zone_t *zone);


static ngx_str_t  ngx_http_clinic_cache_zone_name =
    ngx_string("ngx_http_clinic_cache");


ngx_shm_zone_t *
ngx_http_clinic_cache_add_zone(ngx_conf_t *cf, size_t size)
{
    ngx_shm_zone_t  *shm_zone;

    shm_zone = ngx_shared_memory_add(cf, &ngx_http_clinic_cache_zone_name,
                                     size, &ngx_http_clinic_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    /* shm_zone->data stays NULL until init points it into the zone */

    shm_zone->init = ngx_http_clinic_cache_init_zone;

    return shm_zone;
}


/*
 * shm_zone->data points to the zone's own header, in shared memory, so the
 * old cycle's data is still valid when a reload hands it over.
 */

static ngx_int_t
ngx_http_clinic_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                       len, n;
    ngx_slab_pool_t             *shpool;
    ngx_http_clinic_cache_sh_t  *sh;

    if (data) {
        /* a reload, same name and size: the entries stay */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        /* a process attaching to a zone the master set up (Windows) */
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_clinic_cache_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    /* a power of two of buckets, one per 8 KB of zone */

    n = 64;

    while (n * NGX_HTTP_CLINIC_CACHE_BUCKET_BYTES < shm_zone->shm.size) {
        n *= 2;
    }

    sh->buckets = ngx_slab_calloc(shpool,
                                  n * sizeof(ngx_http_clinic_cache_node_t *));
    if (sh->buckets == NULL) {
        return NGX_ERROR;
    }

    sh->mask = n - 1;
    ngx_queue_init(&sh->queue);

    shpool->data = sh;
    shm_zone->data = sh;

    len = sizeof(" in clinic cache zone \"\"") + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in clinic cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is normal: we evict, so "no memory" is not worth a line */
    shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * The zone's use: the slab allocator's free pages (a page partly used by
 * small allocations counts as used), the entries and their pages' bytes.
 */

ngx_int_t
ngx_http_clinic_cache_usage(ngx_shm_zone_t *zone,
    ngx_http_clinic_cache_usage_t *u)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_clinic_cache_sh_t  *sh;

    sh = zone->data;

    if (sh == NULL) {
        return NGX_DECLINED;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    u->size = zone->shm.size;
    u->free = shpool->pfree << ngx_pagesize_shift;
    u->pages = sh->entries;
    u->page_bytes = sh->bytes;
    u->evictions = sh->evictions;

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


/*
 * The states, decided under the zone mutex; "fresh" means the pending flag
 * was set less than NGX_HTTP_CLINIC_CACHE_PENDING_TTL ms ago:
 *
 *   entry                          claim == 0       claim == 1
 *   -----------------------------  ---------------  ----------------------
 *   none                           MISS             MISS, marker stored
 *   blob of this version           HIT              HIT
 *   fresh pending, other/no blob   PENDING          PENDING
 *   other blob, not fresh          OLD              OLD, pending set
 *   marker alone, not fresh        MISS, dropped    MISS, marker renewed
 *
 * *blob is always set: the entry's bytes on HIT and OLD, the old bytes (if
 * any) on PENDING so that the caller may serve them stale, len 0 otherwise.
 * HIT, OLD and PENDING move the entry to the front of the LRU.
 *
 * After a call with claim set the caller owes exactly one _put() or
 * _release() of the key when the answer is MISS or OLD, and nothing
 * otherwise.  Should the marker not fit or the pool fail, the answer is
 * still MISS and the debt the same: _release() of a key without a marker
 * does nothing.
 */

ngx_http_clinic_cache_state_e
ngx_http_clinic_cache_get(ngx_shm_zone_t *zone, ngx_str_t *key,
    uint64_t version, ngx_uint_t claim, ngx_pool_t *pool, ngx_str_t *blob)
{
    ngx_uint_t                      fresh, evicted;
    ngx_slab_pool_t                *shpool;
    ngx_http_clinic_cache_node_t   *cn;
    ngx_http_clinic_cache_state_e   state;

    blob->len = 0;
    blob->data = NULL;

    if (zone->data == NULL) {
        return NGX_HTTP_CLINIC_CACHE_MISS;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    evicted = 0;

    ngx_shmtx_lock(&shpool->mutex);

    cn = ngx_http_clinic_cache_lookup_locked(zone, key);

    if (cn == NULL) {
        if (claim) {
            cn = ngx_http_clinic_cache_create_locked(zone, key, &evicted);

            if (cn) {
                cn->pending = 1;
                cn->claimed = ngx_current_msec;
            }
        }

        state = NGX_HTTP_CLINIC_CACHE_MISS;
        goto done;
    }

    if (cn->blob && cn->version == version) {
        ngx_http_clinic_cache_touch_locked(zone, cn);

        state = (ngx_http_clinic_cache_copy(cn, pool, blob) == NGX_OK)
                ? NGX_HTTP_CLINIC_CACHE_HIT : NGX_HTTP_CLINIC_CACHE_MISS;
        goto done;
    }

    /* signed: another worker's cached clock may be a little ahead of ours */

    fresh = cn->pending
            && (ngx_msec_int_t) (ngx_current_msec - cn->claimed)
               < NGX_HTTP_CLINIC_CACHE_PENDING_TTL;

    if (fresh) {
        ngx_http_clinic_cache_touch_locked(zone, cn);

        /* the stale bytes are a courtesy: without them the caller waits */
        (void) ngx_http_clinic_cache_copy(cn, pool, blob);

        state = NGX_HTTP_CLINIC_CACHE_PENDING;
        goto done;
    }

    if (cn->blob == NULL && !claim) {
        /* the renderer went away without _put() or _release() */
        ngx_http_clinic_cache_delete_locked(zone, cn);

        state = NGX_HTTP_CLINIC_CACHE_MISS;
        goto done;
    }

    if (cn->blob && ngx_http_clinic_cache_copy(cn, pool, blob) != NGX_OK) {
        /* claim nothing: MISS without a marker leaves the zone as it was */
        state = NGX_HTTP_CLINIC_CACHE_MISS;
        goto done;
    }

    ngx_http_clinic_cache_touch_locked(zone, cn);

    if (claim) {
        cn->pending = 1;
        cn->claimed = ngx_current_msec;

    } else {
        cn->pending = 0;
    }

    state = cn->blob ? NGX_HTTP_CLINIC_CACHE_OLD : NGX_HTTP_CLINIC_CACHE_MISS;

done:

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                   "clinic cache get \"%V\" claim:%ui state:%d evicted:%ui",
                   key, claim, (int) state, evicted);

    return state;
}


/*
 * Always clears the pending flag, whatever it returns.  NGX_DECLINED means
 * the key is no longer in the zone: the blob was empty, larger than 1/8 of
 * the zone, or did not fit even after evicting everything else; the entry
 * the key held, now superseded, is dropped with it.
 */

ngx_int_t
ngx_http_clinic_cache_put(ngx_shm_zone_t *zone, ngx_str_t *key,
    uint64_t version, ngx_str_t *blob)
{
    u_char                        *p;
    ngx_int_t                      rc;
    ngx_uint_t                     evicted;
    ngx_slab_pool_t               *shpool;
    ngx_http_clinic_cache_sh_t    *sh;
    ngx_http_clinic_cache_node_t  *cn;

    if (zone->data == NULL) {
        return NGX_DECLINED;
    }

    sh = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    evicted = 0;

    ngx_shmtx_lock(&shpool->mutex);

    cn = ngx_http_clinic_cache_lookup_locked(zone, key);

    if (blob->len == 0 || blob->len > zone->shm.size / 8) {
        if (cn) {
            ngx_http_clinic_cache_delete_locked(zone, cn);
        }

        rc = NGX_DECLINED;
        goto done;
    }

    if (cn == NULL) {
        cn = ngx_http_clinic_cache_create_locked(zone, key, &evicted);
        if (cn == NULL) {
            rc = NGX_DECLINED;
            goto done;
        }

    } else {
        /* at the head, it is the last entry eviction would reach */
        ngx_http_clinic_cache_touch_locked(zone, cn);

        /* the old blob goes first: its room may be what the new one needs */
        if (cn->blob) {
            ngx_slab_free_locked(shpool, cn->blob);
            sh->bytes -= cn->blob_len;
            cn->blob = NULL;
            cn->blob_len = 0;
        }
    }

    cn->pending = 0;

    p = ngx_http_clinic_cache_alloc_locked(zone, blob->len, cn, &evicted);
    if (p == NULL) {
        /* neither blob nor pending: the entry must not stay */
        ngx_http_clinic_cache_delete_locked(zone, cn);

        rc = NGX_DECLINED;
        goto done;
    }

    ngx_memcpy(p, blob->data, blob->len);

    cn->blob = p;
    cn->blob_len = blob->len;
    cn->version = version;
    sh->bytes += blob->len;

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "clinic cache put \"%V\" %uz bytes rc:%i evicted:%ui",
                   key, blob->len, rc, evicted);

    return rc;
}


/* a blob stored meanwhile by someone else stays; a marker alone goes */

void
ngx_http_clinic_cache_release(ngx_shm_zone_t *zone, ngx_str_t *key)
{
    ngx_slab_pool_t               *shpool;
    ngx_http_clinic_cache_node_t  *cn;

    if (zone->data == NULL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    cn = ngx_http_clinic_cache_lookup_locked(zone, key);

    if (cn) {
        cn->pending = 0;

        if (cn->blob == NULL) {
            ngx_http_clinic_cache_delete_locked(zone, cn);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * Images: see the header.  The zone mutex guards the key's node, the
 * serial counter and the retired list; an image's bytes are the owner's
 * to fill before it is published, and read only afterwards.
 */

ngx_http_clinic_image_t *
ngx_http_clinic_cache_image_alloc(ngx_shm_zone_t *zone, size_t size)
{
    ngx_uint_t                    evicted;
    ngx_slab_pool_t              *shpool;
    ngx_http_clinic_image_t      *image;
    ngx_http_clinic_cache_sh_t   *sh;

    sh = zone->data;

    if (sh == NULL || size > zone->shm.size / 8) {
        return NULL;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    evicted = 0;

    ngx_shmtx_lock(&shpool->mutex);

    ngx_http_clinic_cache_image_gc_locked(zone);

    image = ngx_http_clinic_cache_alloc_locked(zone, size, NULL, &evicted);

    if (image) {
        image->retired_next = NULL;
        image->retired_at = 0;
        image->serial = ++sh->serial;
        image->dead = 0;
        image->size = size;
    }

    sh->evictions += evicted;

    ngx_shmtx_unlock(&shpool->mutex);

    return image;
}


void
ngx_http_clinic_cache_image_free(ngx_shm_zone_t *zone,
    ngx_http_clinic_image_t *image)
{
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    ngx_slab_free(shpool, image);
}


ngx_int_t
ngx_http_clinic_cache_image_publish(ngx_shm_zone_t *zone, ngx_str_t *key,
    ngx_http_clinic_image_t *image)
{
    ngx_uint_t                     evicted;
    ngx_slab_pool_t               *shpool;
    ngx_http_clinic_image_t       *old;
    ngx_http_clinic_cache_sh_t    *sh;
    ngx_http_clinic_cache_node_t  *cn;

    sh = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    evicted = 0;

    ngx_shmtx_lock(&shpool->mutex);

    cn = ngx_http_clinic_cache_lookup_locked(zone, key);

    if (cn == NULL) {
        cn = ngx_http_clinic_cache_create_locked(zone, key, &evicted);
        if (cn == NULL) {
            sh->evictions += evicted;
            ngx_shmtx_unlock(&shpool->mutex);
            return NGX_ERROR;
        }

        /* pinned: out of the LRU, so never evicted */

        ngx_queue_remove(&cn->queue);
        ngx_queue_init(&cn->queue);
        cn->image = 1;
    }

    old = (ngx_http_clinic_image_t *) cn->blob;

    cn->blob = (u_char *) image;
    cn->blob_len = image->size;
    sh->bytes += image->size;

    if (old) {
        sh->bytes -= old->size;
        old->dead = 1;
        old->retired_at = ngx_current_msec;
        old->retired_next = sh->retired;
        sh->retired = old;
    }

    sh->evictions += evicted;

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


ngx_http_clinic_image_t *
ngx_http_clinic_cache_image_get(ngx_shm_zone_t *zone, ngx_str_t *key)
{
    ngx_slab_pool_t               *shpool;
    ngx_http_clinic_image_t       *image;
    ngx_http_clinic_cache_node_t  *cn;

    if (zone->data == NULL) {
        return NULL;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    cn = ngx_http_clinic_cache_lookup_locked(zone, key);

    image = (cn && cn->image) ? (ngx_http_clinic_image_t *) cn->blob : NULL;

    ngx_shmtx_unlock(&shpool->mutex);

    return image;
}


/* frees the images retired longer ago than the grace; the list is short */

static void
ngx_http_clinic_cache_image_gc_locked(ngx_shm_zone_t *zone)
{
    ngx_slab_pool_t              *shpool;
    ngx_http_clinic_image_t     **pp, *image;
    ngx_http_clinic_cache_sh_t   *sh;

    sh = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    for (pp = &sh->retired; *pp; /* void */) {
        image = *pp;

        if ((ngx_msec_int_t) (ngx_current_msec - image->retired_at)
            < NGX_HTTP_CLINIC_IMAGE_GRACE)
        {
            pp = &image->retired_next;
            continue;
        }

        *pp = image->retired_next;
        ngx_slab_free_locked(shpool, image);
    }
}


/*
 * Walks the whole LRU under the mutex: purges are rare (admin requests) and
 * the hash table cannot find a prefix.  Pending markers go too;
 * their renderers' later _put() stores a new entry, _release() finds none.
 */

ngx_uint_t
ngx_http_clinic_cache_purge(ngx_shm_zone_t *zone, ngx_str_t *prefix)
{
    ngx_uint_t                     n;
    ngx_queue_t                   *q, *next;
    ngx_slab_pool_t               *shpool;
    ngx_http_clinic_cache_sh_t    *sh;
    ngx_http_clinic_cache_node_t  *cn;

    if (zone->data == NULL) {
        return 0;
    }

    sh = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    n = 0;

    ngx_shmtx_lock(&shpool->mutex);

    q = ngx_queue_head(&sh->queue);

    while (q != ngx_queue_sentinel(&sh->queue)) {

        /* read first: a debug build's ngx_queue_remove() clears the links */
        next = ngx_queue_next(q);

        cn = ngx_queue_data(q, ngx_http_clinic_cache_node_t, queue);

        if (cn->key.len >= prefix->len
            && (prefix->len == 0
                || ngx_memcmp(cn->key.data, prefix->data, prefix->len)
                   == 0))
        {
            ngx_http_clinic_cache_delete_locked(zone, cn);
            n++;
        }

        q = next;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "clinic cache purge \"%V\": %ui entries", prefix, n);

    return n;
}


/* called with the zone mutex held */

static ngx_http_clinic_cache_node_t *
ngx_http_clinic_cache_lookup_locked(ngx_shm_zone_t *zone, ngx_str_t *key)
{
    ngx_http_clinic_cache_sh_t  *sh = zone->data;

    uint32_t                       hash;
    ngx_http_clinic_cache_node_t  *cn;

    hash = ngx_crc32_short(key->data, key->len);

    for (cn = sh->buckets[hash & sh->mask]; cn; cn = cn->next) {
        if (cn->hash == hash
            && cn->key.len == key->len
            && ngx_memcmp(cn->key.data, key->data, key->len) == 0)
        {
            return cn;
        }
    }

    return NULL;
}


/*
 * Called with the zone mutex held.  Returns a new entry with neither blob
 * nor pending flag, in its bucket and at the head of the LRU: the caller must
 * give it one of the two (or delete it) before unlocking.
 */

static ngx_http_clinic_cache_node_t *
ngx_http_clinic_cache_create_locked(ngx_shm_zone_t *zone, ngx_str_t *key,
    ngx_uint_t *evicted)
{
    size_t                         size;
    ngx_http_clinic_cache_sh_t    *sh;
    ngx_http_clinic_cache_node_t  *cn;

    sh = zone->data;
    size = sizeof(ngx_http_clinic_cache_node_t) + key->len;

    /* an absurd key must not empty the zone before failing */
    if (size > zone->shm.size / 8) {
        return NULL;
    }

    cn = ngx_http_clinic_cache_alloc_locked(zone, size, NULL, evicted);
    if (cn == NULL) {
        return NULL;
    }

    cn->key.len = key->len;
    cn->key.data = (u_char *) cn + sizeof(ngx_http_clinic_cache_node_t);
    ngx_memcpy(cn->key.data, key->data, key->len);

    cn->hash = ngx_crc32_short(key->data, key->len);

    cn->version = 0;
    cn->blob = NULL;
    cn->blob_len = 0;
    cn->claimed = 0;
    cn->pending = 0;
    cn->image = 0;

    cn->next = sh->buckets[cn->hash & sh->mask];
    sh->buckets[cn->hash & sh->mask] = cn;

    ngx_queue_insert_head(&sh->queue, &cn->queue);
    sh->entries++;

    return cn;
}


/* called with the zone mutex held */

static void
ngx_http_clinic_cache_touch_locked(ngx_shm_zone_t *zone,
    ngx_http_clinic_cache_node_t *cn)
{
    ngx_http_clinic_cache_sh_t  *sh = zone->data;

    ngx_queue_remove(&cn->queue);
    ngx_queue_insert_head(&sh->queue, &cn->queue);
}


/* called with the zone mutex held; cn is invalid afterwards */

static void
ngx_http_clinic_cache_delete_locked(ngx_shm_zone_t *zone,
    ngx_http_clinic_cache_node_t *cn)
{
    ngx_slab_pool_t                *shpool;
    ngx_http_clinic_cache_sh_t     *sh;
    ngx_http_clinic_cache_node_t  **pp;

    sh = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    ngx_queue_remove(&cn->queue);

    for (pp = &sh->buckets[cn->hash & sh->mask]; *pp; pp = &(*pp)->next) {
        if (*pp == cn) {
            *pp = cn->next;
            break;
        }
    }

    if (cn->blob) {
        ngx_slab_free_locked(shpool, cn->blob);
        sh->bytes -= cn->blob_len;
    }

    sh->entries--;

    ngx_slab_free_locked(shpool, cn);
}


/*
 * Called with the zone mutex held.  Evicts from the LRU tail, sparing keep,
 * until the allocation succeeds or nothing else is left.  Ends: every turn
 * either returns or removes one of the finitely many entries.
 */

static void *
ngx_http_clinic_cache_alloc_locked(ngx_shm_zone_t *zone, size_t size,
    ngx_http_clinic_cache_node_t *keep, ngx_uint_t *evicted)
{
    void             *p;
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    for ( ;; ) {
        p = ngx_slab_alloc_locked(shpool, size);
        if (p) {
            return p;
        }

        if (ngx_http_clinic_cache_evict_locked(zone, keep) != NGX_OK) {
            return NULL;
        }

        (*evicted)++;
    }
}


/*
 * Called with the zone mutex held.  Removes the least recently used entry
 * other than keep, whatever it holds: a marker evicted under a renderer only
 * costs a second render.  NGX_DECLINED when there is none.
 */

static ngx_int_t
ngx_http_clinic_cache_evict_locked(ngx_shm_zone_t *zone,
    ngx_http_clinic_cache_node_t *keep)
{
    ngx_queue_t                   *q;
    ngx_http_clinic_cache_sh_t    *sh;
    ngx_http_clinic_cache_node_t  *cn;

    sh = zone->data;

    for (q = ngx_queue_last(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_prev(q))
    {
        cn = ngx_queue_data(q, ngx_http_clinic_cache_node_t, queue);

        if (cn == keep) {
            continue;
        }

        ngx_http_clinic_cache_delete_locked(zone, cn);
        sh->evictions++;

        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* called with the zone mutex held; a failed pool leaves blob->len 0 */

static ngx_int_t
ngx_http_clinic_cache_copy(ngx_http_clinic_cache_node_t *cn, ngx_pool_t *pool,
    ngx_str_t *blob)
{
    u_char  *p;

    if (cn->blob == NULL) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(pool, cn->blob_len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, cn->blob, cn->blob_len);

    blob->data = p;
    blob->len = cn->blob_len;

    return NGX_OK;
}


/* refuses any page that _decode() would refuse, so a round trip holds */

ngx_int_t
ngx_http_clinic_page_encode(ngx_pool_t *pool, ngx_http_clinic_page_t *page,
    ngx_str_t *blob)
{
    u_char  *p;
    size_t   len;

    if (ngx_http_clinic_page_check(page->status, page->type,
                                   page->etag.data, page->etag.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = NGX_HTTP_CLINIC_PAGE_HEADER + page->etag.len + page->body.len;

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    blob->data = p;
    blob->len = len;

    p = ngx_cpymem(p, NGX_HTTP_CLINIC_PAGE_MAGIC,
                   NGX_HTTP_CLINIC_PAGE_MAGIC_LEN);
    p = ngx_http_clinic_page_write_uint(p, page->version, 8);
    p = ngx_http_clinic_page_write_uint(p, (uint64_t) page->last_modified, 8);
    p = ngx_http_clinic_page_write_uint(p, page->status, 2);
    *p++ = (u_char) page->type;
    *p++ = (u_char) page->etag.len;

    /* memcpy() of an empty ngx_str_t's NULL is undefined: skip it */

    if (page->etag.len) {
        p = ngx_cpymem(p, page->etag.data, page->etag.len);
    }

    if (page->body.len) {
        ngx_memcpy(p, page->body.data, page->body.len);
    }

    return NGX_OK;
}


/*
 * A blob may come from Redis: untrusted.  Every length is checked against
 * blob->len before use, and the etag, which becomes a response header,
 * against header injection.  page->etag and page->body point into blob.
 */

ngx_int_t
ngx_http_clinic_page_decode(ngx_str_t *blob, ngx_http_clinic_page_t *page)
{
    u_char      *p;
    size_t       elen;
    int64_t      lm;
    ngx_uint_t   status, type;

    if (blob->len < NGX_HTTP_CLINIC_PAGE_HEADER
        || ngx_memcmp(blob->data, NGX_HTTP_CLINIC_PAGE_MAGIC,
                      NGX_HTTP_CLINIC_PAGE_MAGIC_LEN)
           != 0)
    {
        return NGX_ERROR;
    }

    p = blob->data + NGX_HTTP_CLINIC_PAGE_MAGIC_LEN;

    page->version = ngx_http_clinic_page_read_uint(p, 8);
    p += 8;

    lm = (int64_t) ngx_http_clinic_page_read_uint(p, 8);
    p += 8;

    /* a 32-bit time_t cannot hold every value */
    if ((int64_t) (time_t) lm != lm) {
        return NGX_ERROR;
    }

    status = (ngx_uint_t) ngx_http_clinic_page_read_uint(p, 2);
    p += 2;

    type = *p++;
    elen = *p++;

    if (elen > blob->len - NGX_HTTP_CLINIC_PAGE_HEADER) {
        return NGX_ERROR;
    }

    if (ngx_http_clinic_page_check(status, type, p, elen) != NGX_OK) {
        return NGX_ERROR;
    }

    page->last_modified = (time_t) lm;
    page->status = status;
    page->type = type;

    page->etag.data = p;
    page->etag.len = elen;

    page->body.data = p + elen;
    page->body.len = blob->len - NGX_HTTP_CLINIC_PAGE_HEADER - elen;

    return NGX_OK;
}


/* the etag: RFC 9110 etagc without obs-text, which rules out CR and LF */

static ngx_int_t
ngx_http_clinic_page_check(ngx_uint_t status, ngx_uint_t type, u_char *etag,
    size_t len)
{
    size_t  i;

    if (status < 100 || status > 599) {
        return NGX_ERROR;
    }

    if (type != NGX_HTTP_CLINIC_TYPE_HTML
        && type != NGX_HTTP_CLINIC_TYPE_JSON)
    {
        return NGX_ERROR;
    }

    if (len > 255) {
        return NGX_ERROR;
    }

    for (i = 0; i < len; i++) {
        if (etag[i] < 0x21 || etag[i] > 0x7e) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* little-endian, byte by byte: no alignment or host byte order assumed */

static u_char *
ngx_http_clinic_page_write_uint(u_char *p, uint64_t value, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        *p++ = (u_char) (value >> (8 * i));
    }

    return p;
}


static uint64_t
ngx_http_clinic_page_read_uint(u_char *p, size_t n)
{
    size_t    i;
    uint64_t  value;

    value = 0;

    for (i = 0; i < n; i++) {
        value |= (uint64_t) p[i] << (8 * i);
    }

    return value;
}
