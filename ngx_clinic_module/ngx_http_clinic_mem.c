
/*
 * The configuration's temporary memory, kept in the master until the next
 * configuration is read.
 *
 * nginx reads its configuration with a temporary pool beside the cycle's
 * and destroys it once the configuration is in.  With thousands of server
 * blocks the two pools grow side by side, so destroying the temporary one
 * leaves a free 16 KB hole in the heap between every few blocks the
 * configuration keeps: about 2 KB per tenant, 20 MB at 10,000 tenants.
 * Every worker inherits that heap.  Its pages are shared with the master
 * for as long as nobody writes to them, but a worker's malloc() hands the
 * holes out again, a different one for each new size a request asks for,
 * and the first write into each copies its page: a worker that had served
 * every tenant had written into nearly every hole, 3.6 times plain nginx's
 * private memory at 10,000 tenants (docs/benchmarks.md, "The inherited
 * heap").  The first malloc() in a worker also sorts the free holes into
 * glibc's bins, which writes into each of them.
 *
 * So the temporary pool's blocks and large allocations are taken off the
 * pool as it is destroyed, and stay allocated and untouched: the workers'
 * malloc() never sees them, and they stay shared.  They cost the node no
 * memory it did not use before: the parse wrote those pages, and free
 * holes in the middle of the heap stay resident all the same.  The next
 * configuration (a reload) gives them back as it starts, and its own parse
 * reuses them: a master keeps one configuration's temporary memory at a
 * time.
 *
 * This reads two fields of ngx_pool_t (d.next and the large list), which
 * ngx_destroy_pool() walks after the pool's cleanup handlers have run.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_clinic_mem.h"


/* what the last configuration's temporary pool held */
typedef struct {
    ngx_pool_t   *blocks;
    void        **large;
    ngx_uint_t    nlarge;
} ngx_http_clinic_mem_kept_t;


static void ngx_http_clinic_mem_keep(void *data);
static void ngx_http_clinic_mem_release(void);


/* the master's: a worker inherits it and never reads it */
static ngx_http_clinic_mem_kept_t  ngx_http_clinic_mem_kept;


/* called when http{} starts */

ngx_int_t
ngx_http_clinic_mem_keep_temp_pool(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t  *cln;

    ngx_http_clinic_mem_release();

    cln = ngx_pool_cleanup_add(cf->temp_pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_clinic_mem_keep;
    cln->data = cf->temp_pool;

    return NGX_OK;
}


/*
 * A cleanup handler of the temporary pool: ngx_destroy_pool() runs them
 * first, then frees the large allocations still linked to the pool and the
 * chain of its blocks.
 */

static void
ngx_http_clinic_mem_keep(void *data)
{
    ngx_pool_t *pool = data;

    void              **large;
    ngx_uint_t          n;
    ngx_pool_large_t   *l;

    ngx_http_clinic_mem_release();

    n = 0;

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            n++;
        }
    }

    large = NULL;

    if (n) {
        large = ngx_alloc(n * sizeof(void *), pool->log);

        /* out of memory: nginx frees it all, as it always did */

        if (large == NULL) {
            return;
        }

        n = 0;

        for (l = pool->large; l; l = l->next) {
            if (l->alloc) {
                large[n++] = l->alloc;
                l->alloc = NULL;
            }
        }
    }

    /* the first block is the ngx_pool_t itself: nginx frees that one */

    ngx_http_clinic_mem_kept.blocks = pool->d.next;
    ngx_http_clinic_mem_kept.large = large;
    ngx_http_clinic_mem_kept.nlarge = n;

    pool->d.next = NULL;
}


static void
ngx_http_clinic_mem_release(void)
{
    ngx_uint_t   i;
    ngx_pool_t  *p, *next;

    for (i = 0; i < ngx_http_clinic_mem_kept.nlarge; i++) {
        ngx_free(ngx_http_clinic_mem_kept.large[i]);
    }

    if (ngx_http_clinic_mem_kept.large) {
        ngx_free(ngx_http_clinic_mem_kept.large);
    }

    for (p = ngx_http_clinic_mem_kept.blocks; p; p = next) {
        next = p->d.next;
        ngx_free(p);
    }

    ngx_http_clinic_mem_kept.blocks = NULL;
    ngx_http_clinic_mem_kept.large = NULL;
    ngx_http_clinic_mem_kept.nlarge = 0;
}
