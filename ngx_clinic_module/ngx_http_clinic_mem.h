
/*
 * Ground layer: the configuration's temporary memory, kept in the master
 * (see the .c file).
 */


#ifndef NGX_HTTP_CLINIC_MEM_H
#define NGX_HTTP_CLINIC_MEM_H


#include <ngx_config.h>
#include <ngx_core.h>


ngx_int_t ngx_http_clinic_mem_keep(ngx_conf_t *cf);


#endif /* NGX_HTTP_CLINIC_MEM_H */
