
/*
 * ngx_http_clinic_module: types shared by the module's files.
 */


#ifndef _NGX_HTTP_CLINIC_MODULE_H_INCLUDED_
#define _NGX_HTTP_CLINIC_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_CLINIC_TENANT_MAX          64
#define NGX_HTTP_CLINIC_REDIS_TIMEOUT       200


typedef struct ngx_http_clinic_redis_endpoint_s
    ngx_http_clinic_redis_endpoint_t;
typedef struct ngx_http_clinic_stats_s  ngx_http_clinic_stats_t;



/* clinic_contact_notify: a local URI, run in its tenant's server */
typedef struct {
    ngx_str_t                        uri;
    ngx_str_t                        args;
    ngx_http_conf_ctx_t             *ctx;        /* the server's */
} ngx_http_clinic_notify_conf_t;


typedef enum {
    NGX_HTTP_CLINIC_NONE = 0,
    NGX_HTTP_CLINIC_ARTICLES,
    NGX_HTTP_CLINIC_API,
    NGX_HTTP_CLINIC_CONTACT,
    NGX_HTTP_CLINIC_ADMIN,
    NGX_HTTP_CLINIC_STATUS,
    NGX_HTTP_CLINIC_SITEMAP,
    NGX_HTTP_CLINIC_FEED
} ngx_http_clinic_handler_e;


typedef enum {
    NGX_HTTP_CLINIC_FIELD_TEXT = 0,
    NGX_HTTP_CLINIC_FIELD_EMAIL,
    NGX_HTTP_CLINIC_FIELD_PHONE
} ngx_http_clinic_field_type_e;


/* one clinic_contact_field, the pattern compiled at nginx -t */
typedef struct {
    ngx_str_t                        name;
    ngx_uint_t                       max;
    ngx_uint_t                       type;
    ngx_regex_t                     *pattern;
    ngx_str_t                        pattern_src;
    unsigned                         required:1;
} ngx_http_clinic_field_conf_t;


typedef struct {
    ngx_uint_t                       count;
    time_t                           period;
} ngx_http_clinic_limit_t;


/* a tenant's purge generation being asked for, by one worker */
typedef struct {
    ngx_msec_t                       checked;
    ngx_uint_t                       polling;    /* unsigned  polling:1; */
} ngx_http_clinic_purge_state_t;


typedef struct {
    ngx_array_t                      endpoints;  /* redis_endpoint_t * */
    ngx_uint_t                       nlanes;     /* spool lanes, all */
    ngx_array_t                      tenants;    /* clinic_srv_conf_t * */
    /* the tenants by the crc32 of their names, chained by tenant_next */
    void                           **tenant_buckets;
    ngx_uint_t                       tenant_mask; /* buckets - 1 */
    ngx_shm_zone_t                  *cache_zone;
    ssize_t                          cache_size;
    ngx_shm_zone_t                  *stats_zone;
    ngx_shm_zone_t                  *limit_zone; /* with clinic_spool */
    ngx_flag_t                       watch;      /* clinic_watch */

    /*
     * What a worker writes per tenant (content indexes, templates, purge
     * state) is allocated here, packed together, and not among the
     * configuration's structures: a write would give the worker its own
     * copy of each configuration page it touches, some KB per tenant.
     */
    ngx_pool_t                      *state;
    ngx_str_t                        spool;
    u_char                           store_sha[40];

    /* per worker: contact submissions waiting behind the spool's backlog */
    ngx_queue_t                      waiting;
    ngx_uint_t                       nwaiting;
    ngx_event_t                      wait_event;

    /* $clinic_submission_id, $clinic_submission_received; -1: unused */
    ngx_int_t                        var_submission_id;
    ngx_int_t                        var_submission_received;
    ngx_int_t                        var_cache;
    ngx_int_t                        var_article;

    unsigned                         status:1;
} ngx_http_clinic_main_conf_t;


/* a tenant: one server block */
typedef struct {
    ngx_str_t                        tenant;
    uint32_t                         tenant_hash; /* crc32 of tenant */
    void                            *tenant_next; /* in tenant_buckets */
    ngx_uint_t                       index;      /* in main conf tenants */
    ngx_http_clinic_redis_endpoint_t *redis;
    ngx_array_t                     *admin_tokens; /* ngx_str_t */
    ngx_str_t                        key_prefix; /* "clinic:{T}:" */
    ngx_uint_t                       redis_slot; /* of its hash tag */
    ngx_uint_t                       spool_lane; /* its order domain */

    /* where the tenant was first seen, for errors reported at merge */
    ngx_str_t                        conf_file;
    ngx_uint_t                       conf_line;

    ngx_array_t                     *server_names; /* ngx_str_t, lower */
    ngx_str_t                        articles_prefix;
    void                            *articles_conf; /* its loc_conf_t */
    ngx_str_t                        feed_prefix; /* first clinic_feed */
    void                            *findable_conf; /* first clinic_sitemap
                                                      or clinic_feed */
    ngx_str_t                        contact_prefix; /* first clinic_contact */
    ngx_str_t                        phone;      /* clinic_phone */
    void                            *content;    /* of clinic_articles */
    ngx_str_t                        admin_prefix; /* of clinic_admin */

    /* for replays: the server's clinic_contact_notify, else a contact's */
    ngx_http_clinic_notify_conf_t   *notify;

    /* per worker, kept off the configuration's pages (see state) */
    ngx_http_clinic_purge_state_t   *purge;

    unsigned                         is_tenant:1;
    unsigned                         regex_names:1;
} ngx_http_clinic_srv_conf_t;


typedef struct {
    ngx_uint_t                       handler;
    ngx_str_t                        handler_file;
    ngx_uint_t                       handler_line;
    ngx_str_t                        content_path;
    void                            *content;    /* clinic_content_t */
    void                            *tpl;        /* clinic_tpl_t */
    time_t                           cache_ttl;
    ngx_msec_t                       revalidate;
    ngx_str_t                        cache_control;
    ngx_str_t                        clinic_name;
    ngx_str_t                        base_url;
    ngx_str_t                        contact_url;

    ngx_array_t                     *fields;     /* field_conf_t */
    ngx_str_t                        redirect;
    ngx_str_t                        honeypot;
    ngx_str_t                        honeypot_file;
    ngx_uint_t                       honeypot_line;
    ngx_http_clinic_limit_t          limit_client;
    ngx_http_clinic_limit_t          limit_tenant;
    time_t                           retention;
    ngx_flag_t                       store_ip;
    ngx_uint_t                       limit_set;  /* unsigned: conf seen */
    ngx_http_clinic_notify_conf_t   *notify;     /* NULL: none */
    ngx_uint_t                       status_sum; /* tenants=off */
} ngx_http_clinic_loc_conf_t;


extern ngx_module_t  ngx_http_clinic_module;


#endif /* _NGX_HTTP_CLINIC_MODULE_H_INCLUDED_ */
