
/*
 * The local rate limit: the contact form's limits, counted in shared
 * memory on this node, for submissions that cannot reach Redis (where the
 * limits normally live) and go to the spool instead.
 */


#ifndef _NGX_HTTP_CLINIC_LIMIT_H_INCLUDED_
#define _NGX_HTTP_CLINIC_LIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


ngx_shm_zone_t *ngx_http_clinic_limit_add_zone(ngx_conf_t *cf, void *tag);

/*
 * Counts one submission of client for tenant against the two limits (a
 * count of 0 is no limit).  NGX_OK: within both; NGX_BUSY: over one, and
 * *retry_after is set.  A client over its own limit is not counted against
 * the tenant, as in Redis.
 */
ngx_int_t ngx_http_clinic_limit_take(ngx_shm_zone_t *zone, ngx_str_t *tenant,
    ngx_str_t *client, ngx_uint_t client_count, time_t client_period,
    ngx_uint_t tenant_count, time_t tenant_period, time_t *retry_after);


#endif /* _NGX_HTTP_CLINIC_LIMIT_H_INCLUDED_ */
