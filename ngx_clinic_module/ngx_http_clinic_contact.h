
/*
 * clinic_contact: the contact form.  It stores through the
 * submission store and spools what Redis cannot take in time.
 */


#ifndef _NGX_HTTP_CLINIC_CONTACT_H_INCLUDED_
#define _NGX_HTTP_CLINIC_CONTACT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_clinic_contact_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_CLINIC_CONTACT_H_INCLUDED_ */
