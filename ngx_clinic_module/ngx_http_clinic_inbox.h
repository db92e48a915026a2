
/*
 * Middle layer: the inbox app's files (page, script, style), served by
 * clinic_admin on its prefix.
 */


#ifndef _NGX_HTTP_CLINIC_INBOX_H_INCLUDED_
#define _NGX_HTTP_CLINIC_INBOX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * The file at path, the part of the URI after the prefix ("" is the page,
 * then "inbox.js" and "inbox.css"): NGX_OK with its type and body (static
 * memory), NGX_DECLINED when the path is none of them.
 */
ngx_int_t ngx_http_clinic_inbox_file(ngx_str_t *path, ngx_str_t *type,
    ngx_str_t *body);


#endif /* _NGX_HTTP_CLINIC_INBOX_H_INCLUDED_ */
