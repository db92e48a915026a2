
/*
 * The memory a configuration frees, kept allocated in the master until
 * the next configuration is read.
 *
 * nginx reads its configuration with a temporary pool beside the cycle's
 * and destroys it once the configuration is in.  With thousands of server
 * blocks the two pools grow side by side, so destroying the temporary one
 * leaves a free 16 KB hole in the heap between every few blocks the
 * configuration keeps: about 2 KB per tenant, 20 MB at 10,000 tenants.  A
 * reload does the same on a larger scale: once the new configuration is
 * in, the master destroys the old one, and the new workers are forked over
 * its free memory.  A worker's heap is the master's, shared for as long as
 * nobody writes to it, but the worker's malloc() hands those holes out
 * again, a different one for each new size a request asks for, and the
 * first write into each copies its page: a worker that had served every
 * tenant had written into nearly every hole, 3.6 times plain nginx's
 * private memory at 10,000 tenants (docs/benchmarks.md, "The inherited
 * heap"), and more after a reload.
 *
 * So the blocks and large allocations of the temporary pool, and of the
 * configuration a reload replaces, are taken off their pools as these are
 * destroyed, and stay allocated and untouched: the workers' malloc() never
 * sees them, and they stay shared.  They cost the node no memory it did not
 * use before: those pages were written, and free holes in the middle of a
 * heap stay resident all the same.  The next http{} gives them back as it
 * starts, and its own parse reuses them: a master keeps one temporary pool
 * and one old configuration at a time, as it held both during a reload
 * anyway.  In a worker nothing changes: its configuration is freed at the
 * exit as before.
 *
 * A reload that drops the module's load_module gives everything back
 * before the module is unloaded (no newer http{} has read the module);
 * after a failed reload, one that drops it leaves the old configuration
 * allocated until nginx restarts.  This reads two fields of ngx_pool_t
 * (d.next and the large list), which ngx_destroy_pool() walks after the
 * pool's cleanup handlers have run.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_clinic_mem.h"


/* what the master keeps: pool blocks chained by d.next, large allocations */
typedef struct {
    ngx_pool_t                 *blocks;
    void                      **large;
    ngx_uint_t                  nlarge;
} ngx_http_clinic_mem_kept_t;


/* the data of a cycle pool's cleanup */
typedef struct {
    ngx_pool_t                 *pool;
    ngx_uint_t                  generation;
} ngx_http_clinic_mem_cycle_t;


static void ngx_http_clinic_mem_keep_cycle(void *data);
static void ngx_http_clinic_mem_take(void *data);
static void ngx_http_clinic_mem_release(void);


/* the master's: a worker inherits them and never reads them */
static ngx_http_clinic_mem_kept_t  ngx_http_clinic_mem_kept;

/* of the newest http{} this module read */
static ngx_uint_t                  ngx_http_clinic_mem_generation;


/* called when http{} starts */

ngx_int_t
ngx_http_clinic_mem_keep(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_clinic_mem_cycle_t  *mc;

    ngx_http_clinic_mem_release();

    cln = ngx_pool_cleanup_add(cf->temp_pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_clinic_mem_take;
    cln->data = cf->temp_pool;

    cln = ngx_pool_cleanup_add(cf->cycle->pool,
                               sizeof(ngx_http_clinic_mem_cycle_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    mc = cln->data;
    mc->pool = cf->cycle->pool;
    mc->generation = ++ngx_http_clinic_mem_generation;

    cln->handler = ngx_http_clinic_mem_keep_cycle;

    return NGX_OK;
}


/*
 * A configuration is destroyed: in the master, the old one once a reload's
 * is in (or a reload's that failed); in a worker, its own as it exits.
 */

static void
ngx_http_clinic_mem_keep_cycle(void *data)
{
    ngx_http_clinic_mem_cycle_t *mc = data;

    /* an exiting worker or helper: nginx frees it all, as it always did */

    if (ngx_process == NGX_PROCESS_WORKER
        || ngx_process == NGX_PROCESS_HELPER)
    {
        return;
    }

    /*
     * No newer http{} has read this module (nginx is exiting, or the
     * reload that was to replace this configuration failed): the module
     * may be unloaded after this, so nothing stays kept.
     */

    if (mc->generation == ngx_http_clinic_mem_generation) {
        ngx_http_clinic_mem_release();
        return;
    }

    ngx_http_clinic_mem_take(mc->pool);
}


/*
 * The temporary pool's cleanup handler, and the cycle pool's in the master
 * once a newer configuration is in.  ngx_destroy_pool() runs the cleanup
 * handlers first, then frees the large allocations still linked to the
 * pool and the chain of its blocks after the first, the ngx_pool_t itself.
 * A cleanup that runs after this one and allocates from the pool allocates
 * in kept blocks, or chains a new block to them: kept too, walked when
 * they are freed.
 */

static void
ngx_http_clinic_mem_take(void *data)
{
    ngx_pool_t *pool = data;

    void              **large;
    ngx_uint_t          n;
    ngx_pool_t         *p;
    ngx_pool_large_t   *l;

    n = 0;

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            n++;
        }
    }

    if (n) {
        large = ngx_alloc((ngx_http_clinic_mem_kept.nlarge + n)
                          * sizeof(void *), pool->log);

        /* out of memory: nginx frees this pool's, as it always did */

        if (large == NULL) {
            return;
        }

        if (ngx_http_clinic_mem_kept.nlarge) {
            ngx_memcpy(large, ngx_http_clinic_mem_kept.large,
                       ngx_http_clinic_mem_kept.nlarge * sizeof(void *));
            ngx_free(ngx_http_clinic_mem_kept.large);
        }

        n = ngx_http_clinic_mem_kept.nlarge;

        for (l = pool->large; l; l = l->next) {
            if (l->alloc) {
                large[n++] = l->alloc;
                l->alloc = NULL;
            }
        }

        ngx_http_clinic_mem_kept.large = large;
        ngx_http_clinic_mem_kept.nlarge = n;
    }

    if (pool->d.next == NULL) {
        return;
    }

    for (p = pool->d.next; p->d.next; p = p->d.next) { /* void */ }

    p->d.next = ngx_http_clinic_mem_kept.blocks;
    ngx_http_clinic_mem_kept.blocks = pool->d.next;

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
