
/*
 * Ground layer: helpers every other file may use (see the .c file).
 */


#ifndef _NGX_HTTP_CLINIC_UTIL_H_INCLUDED_
#define _NGX_HTTP_CLINIC_UTIL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_alloc.h"


ngx_int_t ngx_http_clinic_send_json(ngx_http_request_t *r, ngx_uint_t status,
    void *json);
ngx_int_t ngx_http_clinic_json_dump(ngx_pool_t *pool, void *json,
    ngx_str_t *out);
ngx_int_t ngx_http_clinic_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *message);
ngx_int_t ngx_http_clinic_not_allowed(ngx_http_request_t *r,
    const char *allow);
ngx_int_t ngx_http_clinic_send_body(ngx_http_request_t *r, ngx_buf_t *b);
ngx_int_t ngx_http_clinic_set_header(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
ngx_int_t ngx_http_clinic_key(ngx_pool_t *pool,
    ngx_http_clinic_srv_conf_t *cscf, const char *suffix, ngx_str_t *extra,
    ngx_str_t *key);
ngx_int_t ngx_http_clinic_tenant_table(ngx_conf_t *cf,
    ngx_http_clinic_main_conf_t *cmcf, ngx_uint_t nservers);
ngx_http_clinic_srv_conf_t *ngx_http_clinic_tenant_find(
    ngx_http_clinic_main_conf_t *cmcf, ngx_str_t *name);
void ngx_http_clinic_tenant_insert(ngx_http_clinic_main_conf_t *cmcf,
    ngx_http_clinic_srv_conf_t *cscf);
ngx_int_t ngx_http_clinic_token_equal(ngx_str_t *secret, u_char *given,
    size_t len);
ngx_int_t ngx_http_clinic_tokens_match(ngx_array_t *tokens, u_char *given,
    size_t len);
ngx_int_t ngx_http_clinic_read_tokens(ngx_conf_t *cf, ngx_str_t *name,
    ngx_array_t **tokens, size_t min);
ngx_int_t ngx_http_clinic_read_secret(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *value, size_t min);
void ngx_http_clinic_pool_alloc(ngx_pool_t *pool, ngx_http_clinic_alloc_t *a);


#endif /* _NGX_HTTP_CLINIC_UTIL_H_INCLUDED_ */
