
/*
 * Middle layer: the notification of a new submission.  For every
 * submission the store answered "added" (from a request or from a spool
 * replay), an internal GET request runs, detached from any client, in
 * the location of clinic_contact_notify, so that nginx's own proxy, TLS
 * and upstreams deliver it.  It carries no field value: only the
 * $clinic_* variables of the tenant, the submission's id and time, and
 * the inbox URL.  At most once: one attempt, never retried, whose outcome
 * is counted and never reaches the submission.
 */


#ifndef _NGX_HTTP_CLINIC_NOTIFY_H_INCLUDED_
#define _NGX_HTTP_CLINIC_NOTIFY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_store.h"


/* the $clinic_* variables; at preconfiguration */
ngx_int_t ngx_http_clinic_notify_add_variables(ngx_conf_t *cf);

/* the indexes of the submission's variables; at postconfiguration */
ngx_int_t ngx_http_clinic_notify_init_conf(ngx_conf_t *cf,
    ngx_http_clinic_main_conf_t *cmcf);

/* checks a clinic_contact_notify URI at nginx -t; NULL or the error */
char *ngx_http_clinic_notify_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_clinic_notify_conf_t *nc);

/*
 * A submission stored from the request r: its id and time become r's
 * $clinic_submission_id and $clinic_submission_received; added (a new
 * entry, not a duplicate) fires the location's notification.
 */
void ngx_http_clinic_notify_request(ngx_http_request_t *r, ngx_str_t *id,
    ngx_http_clinic_submission_t *sub, ngx_uint_t added);

/*
 * Fires the notification of a new entry: posted, so it starts once the
 * caller (a Redis callback, a request being answered) is done; nothing of
 * it reaches the caller.  nc NULL: nothing to do.
 */
void ngx_http_clinic_notify_send(ngx_http_clinic_notify_conf_t *nc,
    ngx_str_t *id, ngx_http_clinic_submission_t *sub);


/* a value of an indexed $clinic_* variable for r (copied into r->pool) */
ngx_int_t ngx_http_clinic_set_variable(ngx_http_request_t *r, ngx_int_t index,
    ngx_str_t *value);


#endif /* _NGX_HTTP_CLINIC_NOTIFY_H_INCLUDED_ */
