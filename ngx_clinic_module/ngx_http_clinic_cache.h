
/*
 * The page cache's first layer (L1): one shared memory zone per node,
 * shared by every worker and tenant, LRU, surviving a reload.  Entries are
 * page blobs (below), the same bytes that the second layer keeps in Redis.
 */


#ifndef _NGX_HTTP_CLINIC_CACHE_H_INCLUDED_
#define _NGX_HTTP_CLINIC_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* how long a render in progress holds off other workers (single flight) */
#define NGX_HTTP_CLINIC_CACHE_PENDING_TTL  3000


typedef enum {
    NGX_HTTP_CLINIC_CACHE_MISS = 0,     /* nothing stored */
    NGX_HTTP_CLINIC_CACHE_HIT,          /* stored, same version */
    NGX_HTTP_CLINIC_CACHE_OLD,          /* stored, another version: blob set */
    NGX_HTTP_CLINIC_CACHE_PENDING       /* another request is rendering it */
} ngx_http_clinic_cache_state_e;


/*
 * A page blob, in L1 and in Redis alike:
 *
 *     "CP1\n" | version (8, LE) | last_modified (8, LE) | status (2, LE)
 *     | type (1) | etag length (1) | etag | body
 *
 * version is the tenant's content version the page was rendered from;
 * type is ngx_http_clinic_page_type_e.
 */

typedef enum {
    NGX_HTTP_CLINIC_TYPE_HTML = 0,
    NGX_HTTP_CLINIC_TYPE_JSON,
    NGX_HTTP_CLINIC_TYPE_XML,          /* sitemap.xml */
    NGX_HTTP_CLINIC_TYPE_ATOM          /* the Atom feed */
} ngx_http_clinic_page_type_e;


typedef struct {
    uint64_t                         version;
    time_t                           last_modified;
    ngx_uint_t                       status;
    ngx_uint_t                       type;
    ngx_str_t                        etag;       /* with the quotes */
    ngx_str_t                        body;
} ngx_http_clinic_page_t;


/* configuration: the zone named "ngx_http_clinic_cache" of size bytes */
/*
 * An image: a block of the zone that workers read in place (a content
 * folder's index), published under a key.  A new image of the key retires
 * the old one, which stays readable for NGX_HTTP_CLINIC_IMAGE_GRACE ms and
 * is then freed; a reader checks serial and dead before each use.  Images
 * are never evicted.  The owner's data follows the header.
 */

#define NGX_HTTP_CLINIC_IMAGE_GRACE  60000

typedef struct ngx_http_clinic_image_s  ngx_http_clinic_image_t;

struct ngx_http_clinic_image_s {
    ngx_http_clinic_image_t         *retired_next;
    ngx_msec_t                       retired_at;
    uint64_t                         serial;     /* unique in the zone */
    ngx_atomic_t                     dead;       /* retired */
    size_t                           size;       /* with the header */
};


/* what the zone holds, for clinic_status */
typedef struct {
    size_t                           size;
    size_t                           free;       /* pages no entry holds */
    ngx_uint_t                       pages;
    size_t                           page_bytes;
    ngx_uint_t                       evictions;
} ngx_http_clinic_cache_usage_t;


ngx_shm_zone_t *ngx_http_clinic_cache_add_zone(ngx_conf_t *cf, size_t size);
ngx_int_t ngx_http_clinic_cache_usage(ngx_shm_zone_t *zone,
    ngx_http_clinic_cache_usage_t *u);

/*
 * Looks key up.  On HIT and OLD the entry's blob is copied into pool (the
 * entry may be evicted as soon as the lock is released) and the entry
 * moves to the front of the LRU.  On MISS, when claim is set, a pending
 * marker is stored so that other workers wait instead of rendering too:
 * the caller then must ngx_http_clinic_cache_put() or _release() the key.
 * PENDING is returned while another request's fresh marker stands.
 */
ngx_http_clinic_cache_state_e ngx_http_clinic_cache_get(ngx_shm_zone_t *zone,
    ngx_str_t *key, uint64_t version, ngx_uint_t claim, ngx_pool_t *pool,
    ngx_str_t *blob);

/* stores (or replaces) the blob; evicts least recently used entries */
ngx_int_t ngx_http_clinic_cache_put(ngx_shm_zone_t *zone, ngx_str_t *key,
    uint64_t version, ngx_str_t *blob);

/* a new image of size bytes (header included), not yet published */
ngx_http_clinic_image_t *ngx_http_clinic_cache_image_alloc(
    ngx_shm_zone_t *zone, size_t size);
void ngx_http_clinic_cache_image_free(ngx_shm_zone_t *zone,
    ngx_http_clinic_image_t *image);

/* makes image the key's, retiring the one before */
ngx_int_t ngx_http_clinic_cache_image_publish(ngx_shm_zone_t *zone,
    ngx_str_t *key, ngx_http_clinic_image_t *image);

/* the key's image, or NULL */
ngx_http_clinic_image_t *ngx_http_clinic_cache_image_get(ngx_shm_zone_t *zone,
    ngx_str_t *key);

/* drops a pending marker that will not be followed by a put */
void ngx_http_clinic_cache_release(ngx_shm_zone_t *zone, ngx_str_t *key);

/* removes every entry whose key starts with prefix; returns the count */
ngx_uint_t ngx_http_clinic_cache_purge(ngx_shm_zone_t *zone,
    ngx_str_t *prefix);

/* blob <-> page; _decode points into blob, NGX_ERROR when malformed */
ngx_int_t ngx_http_clinic_page_encode(ngx_pool_t *pool,
    ngx_http_clinic_page_t *page, ngx_str_t *blob);
ngx_int_t ngx_http_clinic_page_decode(ngx_str_t *blob,
    ngx_http_clinic_page_t *page);


#endif /* _NGX_HTTP_CLINIC_CACHE_H_INCLUDED_ */
