
/*
 * Ground layer, pure C: the shared text rules (see the .c file).
 */


#ifndef NGX_HTTP_CLINIC_TEXT_H
#define NGX_HTTP_CLINIC_TEXT_H


#include <stddef.h>
#include <sys/types.h>


#define NGX_HTTP_CLINIC_TEXT_SLUG_MAX  128


size_t ngx_http_clinic_text_escape_html(u_char *dst, const u_char *src,
    size_t len);
size_t ngx_http_clinic_text_escape_xml(u_char *dst, const u_char *src,
    size_t len);
size_t ngx_http_clinic_text_utf8_check(const u_char *p, size_t n);
size_t ngx_http_clinic_text_utf8_chars(const u_char *p, size_t n);
int ngx_http_clinic_text_slug_valid(const u_char *p, size_t n);
int ngx_http_clinic_text_cmp(const u_char *a, size_t alen, const u_char *b,
    size_t blen);


#endif /* NGX_HTTP_CLINIC_TEXT_H */
