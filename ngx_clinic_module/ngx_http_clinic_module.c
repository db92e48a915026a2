
/*
 * ngx_http_clinic_module: directives, configuration and process hooks.
 *
 * Tenancy lives in the server conf (one server block is one clinic);
 * handlers are switched on in the location conf.  Everything that can be
 * checked at nginx -t is checked here.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_clinic_module.h"
#include "ngx_http_clinic_mem.h"
#include "ngx_http_clinic_util.h"
#include "ngx_http_clinic_stats.h"
#include "ngx_http_clinic_redis.h"
#include "ngx_http_clinic_cache.h"
#include "ngx_http_clinic_content.h"
#include "ngx_http_clinic_limit.h"
#include "ngx_http_clinic_store.h"
#include "ngx_http_clinic_spool.h"
#include "ngx_http_clinic_notify.h"
#include "ngx_http_clinic_contact.h"
#include "ngx_http_clinic_site.h"
#include "ngx_http_clinic_pages.h"
#include "ngx_http_clinic_feed.h"
#include "ngx_http_clinic_admin.h"
#include "ngx_http_clinic_status.h"
#include "ngx_http_clinic_watch.h"


static void *ngx_http_clinic_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_clinic_init_main_conf(ngx_conf_t *cf, void *conf);
static void ngx_http_clinic_destroy_state(void *data);
static void *ngx_http_clinic_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_clinic_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void *ngx_http_clinic_create_loc_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_clinic_contact_error_page(ngx_conf_t *cf);
static char *ngx_http_clinic_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_clinic_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_clinic_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_clinic_check_findable(ngx_conf_t *cf,
    ngx_http_clinic_main_conf_t *cmcf);
static ngx_int_t ngx_http_clinic_init_process(ngx_cycle_t *cycle);
static void ngx_http_clinic_exit_process(ngx_cycle_t *cycle);

static void ngx_http_clinic_mark_tenant(ngx_conf_t *cf);
static ngx_int_t ngx_http_clinic_tenant_name(ngx_conf_t *cf,
    ngx_http_clinic_srv_conf_t *conf);
static ngx_int_t ngx_http_clinic_valid_tenant(ngx_str_t *name);

static char *ngx_http_clinic_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_tenant(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_content(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_template(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_handler(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_field(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_redirect(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_honeypot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_retention(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_contact_notify(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_clinic_spool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_admin_token_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_clinic_parse_rate(ngx_str_t *value,
    ngx_http_clinic_limit_t *limit);
static ngx_int_t ngx_http_clinic_valid_field_name(ngx_str_t *name);
static char *ngx_http_clinic_header_value(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_clinic_phone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clinic_base_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#define NGX_HTTP_CLINIC_TOKEN_MIN   16
#define NGX_HTTP_CLINIC_PHONE_MAX   40


static ngx_conf_num_bounds_t  ngx_http_clinic_revalidate_bounds = {
    ngx_conf_check_num_bounds, 1, 3600000
};


static ngx_conf_enum_t  ngx_http_clinic_field_types[] = {
    { ngx_string("text"), NGX_HTTP_CLINIC_FIELD_TEXT },
    { ngx_string("email"), NGX_HTTP_CLINIC_FIELD_EMAIL },
    { ngx_string("phone"), NGX_HTTP_CLINIC_FIELD_PHONE },
    { ngx_null_string, 0 }
};


/* stored beside the form fields of every submission (docs/api.md) */
static ngx_str_t  ngx_http_clinic_reserved_fields[] = {
    ngx_string("received"),
    ngx_string("ip"),
    ngx_string("user_agent"),
    ngx_string("page"),
    ngx_null_string
};


static ngx_command_t  ngx_http_clinic_commands[] = {

    { ngx_string("clinic_redis"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_clinic_redis,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_tenant"),
      NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_tenant,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_content"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_content,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_template"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_template,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_watch"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_clinic_main_conf_t, watch),
      NULL },

    { ngx_string("clinic_revalidate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_clinic_loc_conf_t, revalidate),
      &ngx_http_clinic_revalidate_bounds },

    { ngx_string("clinic_cache_control"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_header_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_clinic_loc_conf_t, cache_control),
      NULL },

    { ngx_string("clinic_name"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_header_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_clinic_loc_conf_t, clinic_name),
      NULL },

    { ngx_string("clinic_base_url"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_base_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_clinic_loc_conf_t, base_url),
      NULL },

    { ngx_string("clinic_contact_url"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_header_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_clinic_loc_conf_t, contact_url),
      NULL },

    { ngx_string("clinic_phone"),
      NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_phone,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clinic_srv_conf_t, phone),
      NULL },

    { ngx_string("clinic_cache_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_clinic_loc_conf_t, cache_ttl),
      NULL },

    { ngx_string("clinic_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_cache_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_articles"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clinic_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLINIC_ARTICLES,
      NULL },

    { ngx_string("clinic_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clinic_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLINIC_API,
      NULL },

    { ngx_string("clinic_sitemap"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clinic_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLINIC_SITEMAP,
      NULL },

    { ngx_string("clinic_feed"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clinic_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLINIC_FEED,
      NULL },

    { ngx_string("clinic_contact"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clinic_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLINIC_CONTACT,
      NULL },

    { ngx_string("clinic_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clinic_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLINIC_ADMIN,
      NULL },

    { ngx_string("clinic_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_clinic_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLINIC_STATUS,
      NULL },

    { ngx_string("clinic_contact_field"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_clinic_field,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_contact_redirect"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_redirect,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_contact_honeypot"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_honeypot,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_contact_limit"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_clinic_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_contact_retention"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_retention,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_contact_store_ip"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_clinic_loc_conf_t, store_ip),
      NULL },

    { ngx_string("clinic_contact_notify"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_contact_notify,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_spool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_spool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clinic_admin_token_file"),
      NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_clinic_admin_token_file,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_clinic_module_ctx = {
    ngx_http_clinic_preconfiguration,      /* preconfiguration */
    ngx_http_clinic_postconfiguration,     /* postconfiguration */

    ngx_http_clinic_create_main_conf,      /* create main configuration */
    ngx_http_clinic_init_main_conf,        /* init main configuration */

    ngx_http_clinic_create_srv_conf,       /* create server configuration */
    ngx_http_clinic_merge_srv_conf,        /* merge server configuration */

    ngx_http_clinic_create_loc_conf,       /* create location configuration */
    ngx_http_clinic_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_clinic_module = {
    NGX_MODULE_V1,
    &ngx_http_clinic_module_ctx,           /* module context */
    ngx_http_clinic_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_clinic_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_clinic_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_clinic_create_main_conf(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_clinic_main_conf_t  *cmcf;

    if (ngx_http_clinic_mem_keep(cf) != NGX_OK) {
        return NULL;
    }

    cmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_clinic_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cmcf->cache_zone = NULL;
     *     cmcf->stats_zone = NULL;
     *     cmcf->spool = { 0, NULL };
     *     cmcf->default_redis = NULL;
     */

    if (ngx_array_init(&cmcf->endpoints, cf->pool, 4,
                       sizeof(ngx_http_clinic_redis_endpoint_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&cmcf->tenants, cf->pool, 16,
                       sizeof(ngx_http_clinic_srv_conf_t *))
        != NGX_OK)
    {
        return NULL;
    }

    cmcf->cache_size = NGX_CONF_UNSET;
    cmcf->watch = NGX_CONF_UNSET;

    /* cf->log is the old cycle's during a reload: the new cycle's own */

    cmcf->state = ngx_create_pool(16384, &cf->cycle->new_log);
    if (cmcf->state == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_destroy_pool(cmcf->state);
        return NULL;
    }

    cln->handler = ngx_http_clinic_destroy_state;
    cln->data = cmcf->state;

    return cmcf;
}


/* the server blocks are all read, none merged into a tenant yet */

static char *
ngx_http_clinic_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_clinic_main_conf_t *cmcf = conf;

    ngx_http_core_main_conf_t  *hcmcf;

    hcmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (ngx_http_clinic_tenant_table(cf, cmcf, hcmcf->servers.nelts)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_clinic_destroy_state(void *data)
{
    ngx_pool_t  *pool = data;

    ngx_destroy_pool(pool);
}


static void *
ngx_http_clinic_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_clinic_srv_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_clinic_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->tenant = { 0, NULL };
     *     conf->admin_tokens = NULL;
     *     conf->key_prefix = { 0, NULL };
     *     conf->server_names = NULL;
     *     conf->is_tenant = 0;
     */

    conf->redis = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_clinic_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_clinic_srv_conf_t *prev = parent;
    ngx_http_clinic_srv_conf_t *conf = child;

    ngx_str_t                     addr;
    ngx_http_clinic_srv_conf_t  **tp, *first;
    ngx_http_clinic_main_conf_t  *cmcf;

    ngx_conf_merge_ptr_value(conf->redis, prev->redis, NULL);

    if (!conf->is_tenant) {
        return NGX_CONF_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_clinic_module);

    if (conf->redis == NULL) {
        ngx_str_set(&addr, "127.0.0.1:6379");

        conf->redis = ngx_http_clinic_redis_add(cf, &cmcf->endpoints, &addr,
                                                1);
        if (conf->redis == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_clinic_tenant_name(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    first = ngx_http_clinic_tenant_find(cmcf, &conf->tenant);

    if (first != NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "duplicate clinic tenant \"%V\" in %V:%ui, "
                      "already used in %V:%ui", &conf->tenant,
                      &conf->conf_file, conf->conf_line,
                      &first->conf_file, first->conf_line);
        return NGX_CONF_ERROR;
    }

    ngx_http_clinic_tenant_insert(cmcf, conf);

    conf->key_prefix.len = sizeof("clinic:{}:") - 1 + conf->tenant.len;
    conf->key_prefix.data = ngx_pnalloc(cf->pool, conf->key_prefix.len);
    if (conf->key_prefix.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(conf->key_prefix.data, "clinic:{%V}:", &conf->tenant);

    conf->index = cmcf->tenants.nelts;

    conf->purge = ngx_pcalloc(cmcf->state,
                              sizeof(ngx_http_clinic_purge_state_t));
    if (conf->purge == NULL) {
        return NGX_CONF_ERROR;
    }

    tp = ngx_array_push(&cmcf->tenants);
    if (tp == NULL) {
        return NGX_CONF_ERROR;
    }

    *tp = conf;

    return NGX_CONF_OK;
}


/*
 * The default tenant name is the block's first server_name, lowercased;
 * a wildcard, regex or empty name cannot name a tenant.
 */

static ngx_int_t
ngx_http_clinic_tenant_name(ngx_conf_t *cf, ngx_http_clinic_srv_conf_t *conf)
{
    ngx_str_t                 *name;
    ngx_uint_t                 i;
    ngx_http_server_name_t    *sn;
    ngx_http_core_srv_conf_t  *cscf;

    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);
    sn = cscf->server_names.elts;

    /*
     * nginx keeps server_names in the temporary pool, gone after start:
     * the names pages and Origin checks need are copied, regexes left out
     */

    conf->server_names = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
    if (conf->server_names == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < cscf->server_names.nelts; i++) {
#if (NGX_PCRE)
        if (sn[i].regex) {
            conf->regex_names = 1;
            continue;
        }
#endif
        if (sn[i].name.len == 0) {
            continue;
        }

        name = ngx_array_push(conf->server_names);
        if (name == NULL) {
            return NGX_ERROR;
        }

        name->len = sn[i].name.len;
        name->data = ngx_pnalloc(cf->pool, name->len);
        if (name->data == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(name->data, sn[i].name.data, name->len);
    }

    if (conf->tenant.len) {
        return NGX_OK;
    }

    if (cscf->server_names.nelts == 0
        || sn[0].name.len == 0
#if (NGX_PCRE)
        || sn[0].regex
#endif
        || ngx_strlchr(sn[0].name.data, sn[0].name.data + sn[0].name.len,
                       '*')
        || sn[0].name.data[0] == '.')
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"clinic_tenant\" must name the tenant of a server "
                      "block whose first server_name is empty, a wildcard "
                      "or a regex in %V:%ui",
                      &conf->conf_file, conf->conf_line);
        return NGX_ERROR;
    }

    conf->tenant.len = sn[0].name.len;
    conf->tenant.data = ngx_pnalloc(cf->pool, sn[0].name.len);
    if (conf->tenant.data == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(conf->tenant.data, sn[0].name.data, sn[0].name.len);

    if (ngx_http_clinic_valid_tenant(&conf->tenant) != NGX_OK) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "server_name \"%V\" is not a valid tenant name "
                      "([a-z0-9._-]{1,64}); set \"clinic_tenant\" "
                      "in %V:%ui", &sn[0].name,
                      &conf->conf_file, conf->conf_line);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_clinic_valid_tenant(ngx_str_t *name)
{
    size_t  i;
    u_char  ch;

    if (name->len == 0 || name->len > NGX_HTTP_CLINIC_TENANT_MAX) {
        return NGX_ERROR;
    }

    for (i = 0; i < name->len; i++) {
        ch = name->data[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
            || ch == '.' || ch == '_' || ch == '-')
        {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


static void *
ngx_http_clinic_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_clinic_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_clinic_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->handler = NGX_HTTP_CLINIC_NONE;
     *     conf->content_path = { 0, NULL };
     *     conf->cache_control = { 0, NULL };
     *     conf->clinic_name = { 0, NULL };
     *     conf->base_url = { 0, NULL };
     *     conf->contact_url = { 0, NULL };
     *     conf->redirect = { 0, NULL };
     *     conf->honeypot = { 0, NULL };
     *     conf->limit_set = 0;
     */

    conf->cache_ttl = NGX_CONF_UNSET;
    conf->revalidate = NGX_CONF_UNSET_MSEC;
    conf->content = NGX_CONF_UNSET_PTR;
    conf->tpl = NGX_CONF_UNSET_PTR;
    conf->fields = NGX_CONF_UNSET_PTR;
    conf->retention = NGX_CONF_UNSET;
    conf->store_ip = NGX_CONF_UNSET;
    conf->limit_client.count = NGX_CONF_UNSET_UINT;
    conf->limit_tenant.count = NGX_CONF_UNSET_UINT;
    conf->notify = NGX_CONF_UNSET_PTR;

    return conf;
}


/*
 * nginx answers a body over client_max_body_size itself, before the
 * handler runs: a contact location sends that 413 to itself (as a GET,
 * with the 413 kept), so the patient gets the form's own "Message too
 * long" page and a JSON client JSON.  An error_page 413 of the
 * operator's, in the location or inherited, is left alone.  Runs after
 * the core module's merge, so error_pages holds what is inherited.
 */

static ngx_int_t
ngx_http_clinic_contact_error_page(ngx_conf_t *cf)
{
    ngx_uint_t                 i, n;
    ngx_array_t               *pages;
    ngx_http_err_page_t       *err, *old;
    ngx_http_core_loc_conf_t  *core;

    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (core->named || core->name.len == 0 || core->name.data[0] != '/'
#if (NGX_PCRE)
        || core->regex
#endif
       )
    {
        return NGX_OK;
    }

    n = core->error_pages ? core->error_pages->nelts : 0;
    old = n ? core->error_pages->elts : NULL;

    for (i = 0; i < n; i++) {
        if (old[i].status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            return NGX_OK;
        }
    }

    /* a copy: the array may be the server's, shared by its locations */

    pages = ngx_array_create(cf->pool, n + 1, sizeof(ngx_http_err_page_t));
    if (pages == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        err = ngx_array_push(pages);
        *err = old[i];
    }

    err = ngx_array_push(pages);
    ngx_memzero(err, sizeof(ngx_http_err_page_t));

    err->status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    err->overwrite = -1;
    err->value.value = core->name;

    core->error_pages = pages;

    return NGX_OK;
}


static char *
ngx_http_clinic_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_clinic_loc_conf_t *prev = parent;
    ngx_http_clinic_loc_conf_t *conf = child;

    ngx_uint_t                     i;
    ngx_http_clinic_srv_conf_t    *cscf;
    ngx_http_clinic_field_conf_t  *f;

    ngx_conf_merge_ptr_value(conf->content, prev->content, NULL);
    ngx_conf_merge_ptr_value(conf->tpl, prev->tpl, NULL);
    ngx_conf_merge_sec_value(conf->cache_ttl, prev->cache_ttl, 3600);
    ngx_conf_merge_msec_value(conf->revalidate, prev->revalidate, 1000);
    ngx_conf_merge_str_value(conf->cache_control, prev->cache_control,
                             "public, no-cache");
    ngx_conf_merge_str_value(conf->clinic_name, prev->clinic_name, "");
    ngx_conf_merge_str_value(conf->base_url, prev->base_url, "");

    if (conf->contact_url.data == NULL) {
        conf->contact_url = prev->contact_url;
    }

    if (conf->contact_url.data == NULL) {
        /* the server's own contact page, else the conventional path */
        cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clinic_module);

        if (cscf->contact_prefix.len) {
            conf->contact_url = cscf->contact_prefix;

        } else {
            ngx_str_set(&conf->contact_url, "/contact");
        }
    }

    ngx_conf_merge_ptr_value(conf->fields, prev->fields, NULL);
    ngx_conf_merge_str_value(conf->redirect, prev->redirect, "");
    if (conf->honeypot.data == NULL) {
        conf->honeypot = prev->honeypot;
        conf->honeypot_file = prev->honeypot_file;
        conf->honeypot_line = prev->honeypot_line;
    }
    ngx_conf_merge_sec_value(conf->retention, prev->retention, 0);
    ngx_conf_merge_value(conf->store_ip, prev->store_ip, 1);
    ngx_conf_merge_ptr_value(conf->notify, prev->notify, NULL);

    if (conf->limit_client.count == NGX_CONF_UNSET_UINT) {
        conf->limit_client = prev->limit_client;
    }

    if (conf->limit_tenant.count == NGX_CONF_UNSET_UINT) {
        conf->limit_tenant = prev->limit_tenant;
    }

    /* "client=5/10m tenant=200/1h"; a count of 0 switches a layer off */

    if (conf->limit_client.count == NGX_CONF_UNSET_UINT) {
        conf->limit_client.count = 5;
        conf->limit_client.period = 600;
    }

    if (conf->limit_tenant.count == NGX_CONF_UNSET_UINT) {
        conf->limit_tenant.count = 200;
        conf->limit_tenant.period = 3600;
    }

    if ((conf->handler == NGX_HTTP_CLINIC_ARTICLES
         || conf->handler == NGX_HTTP_CLINIC_API)
        && conf->content == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"clinic_articles\" and \"clinic_api\" need "
                      "\"clinic_content\" in their server or location "
                      "in %V:%ui", &conf->handler_file, conf->handler_line);
        return NGX_CONF_ERROR;
    }

    if (conf->honeypot.len && conf->fields) {
        f = conf->fields->elts;

        for (i = 0; i < conf->fields->nelts; i++) {
            if (f[i].name.len == conf->honeypot.len
                && ngx_strncmp(f[i].name.data, conf->honeypot.data,
                               conf->honeypot.len) == 0)
            {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "honeypot \"%V\" is also a declared "
                              "clinic_contact_field in %V:%ui",
                              &conf->honeypot, &conf->honeypot_file,
                              conf->honeypot_line);
                return NGX_CONF_ERROR;
            }
        }
    }

    if ((conf->handler == NGX_HTTP_CLINIC_ARTICLES
         || conf->handler == NGX_HTTP_CLINIC_API)
        && conf->content)
    {
        /* the admin API's lint reads the folder the pages come from */
        cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clinic_module);

        if (cscf->content == NULL
            || conf->handler == NGX_HTTP_CLINIC_ARTICLES)
        {
            cscf->content = conf->content;
        }
    }

    if (conf->handler == NGX_HTTP_CLINIC_CONTACT
        && ngx_http_clinic_contact_error_page(cf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->handler == NGX_HTTP_CLINIC_CONTACT && conf->notify) {
        /* a replay has no location: the server's, else the first one */
        cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clinic_module);

        if (cscf->notify == NULL) {
            cscf->notify = conf->notify;
        }
    }

    if (conf->handler == NGX_HTTP_CLINIC_ADMIN) {
        cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clinic_module);

        if (cscf->admin_tokens == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"clinic_admin\" needs "
                          "\"clinic_admin_token_file\" in its server "
                          "in %V:%ui", &conf->handler_file,
                          conf->handler_line);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_clinic_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_clinic_notify_add_variables(cf);
}


static ngx_int_t
ngx_http_clinic_postconfiguration(ngx_conf_t *cf)
{
    ngx_str_t                          *labels;
    ngx_uint_t                          i;
    ngx_http_handler_pt                *h;
    ngx_http_clinic_srv_conf_t        **tenants;
    ngx_http_core_main_conf_t          *cmcf;
    ngx_http_clinic_main_conf_t        *ccmf;
    ngx_http_clinic_redis_endpoint_t  **eps;

    ccmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_clinic_module);

    ngx_conf_init_value(ccmf->watch, 1);

    if (ngx_http_clinic_check_findable(cf, ccmf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* a configuration without tenants or endpoints costs nothing */

    if (ccmf->tenants.nelts == 0 && ccmf->endpoints.nelts == 0
        && !ccmf->status)
    {
        return NGX_OK;
    }

    if (ngx_http_clinic_redis_init_conf(cf, &ccmf->endpoints) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the spool's order domains: a lane per endpoint, a cluster's many */

    eps = ccmf->endpoints.elts;
    ccmf->nlanes = 0;

    for (i = 0; i < ccmf->endpoints.nelts; i++) {
        eps[i]->lane = ccmf->nlanes;
        ccmf->nlanes += ngx_http_clinic_redis_lanes(eps[i]);
    }

    tenants = ccmf->tenants.elts;

    for (i = 0; i < ccmf->tenants.nelts; i++) {
        tenants[i]->redis_slot = ngx_http_clinic_redis_slot(
                                                   &tenants[i]->key_prefix);
        tenants[i]->spool_lane = tenants[i]->redis->lane
                                 + ngx_http_clinic_redis_lane(
                                       tenants[i]->redis,
                                       tenants[i]->redis_slot);
    }

    labels = ngx_palloc(cf->pool, (ccmf->endpoints.nelts + 1)
                                  * sizeof(ngx_str_t));
    if (labels == NULL) {
        return NGX_ERROR;
    }

    eps = ccmf->endpoints.elts;

    for (i = 0; i < ccmf->endpoints.nelts; i++) {
        labels[i] = eps[i]->label;
    }

    if (ngx_http_clinic_stats_init_conf(cf, ccmf, labels) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_clinic_store_init_conf(ccmf);

    if (ngx_http_clinic_notify_init_conf(cf, ccmf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ccmf->spool.len) {
        ccmf->limit_zone = ngx_http_clinic_limit_add_zone(cf,
                                                     &ngx_http_clinic_module);
        if (ccmf->limit_zone == NULL) {
            return NGX_ERROR;
        }
    }

    if (ccmf->cache_size == NGX_CONF_UNSET) {
        ccmf->cache_size = 32 * 1024 * 1024;
    }

    if (ccmf->cache_size && ccmf->tenants.nelts) {
        ccmf->cache_zone = ngx_http_clinic_cache_add_zone(cf,
                                                          ccmf->cache_size);
        if (ccmf->cache_zone == NULL) {
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_clinic_stats_log_handler;

    return NGX_OK;
}


/*
 * clinic_sitemap and clinic_feed list the server's clinic_articles
 * location (the first, which canonical links point into) under an
 * absolute base.  Checked once every location is merged: the articles
 * location may come after them.
 */

static ngx_int_t
ngx_http_clinic_check_findable(ngx_conf_t *cf,
    ngx_http_clinic_main_conf_t *cmcf)
{
    char                         *why;
    ngx_str_t                     base;
    ngx_uint_t                    i;
    ngx_http_clinic_loc_conf_t   *fcf;
    ngx_http_clinic_srv_conf_t  **tp;

    tp = cmcf->tenants.elts;

    for (i = 0; i < cmcf->tenants.nelts; i++) {
        fcf = tp[i]->findable_conf;

        if (fcf == NULL) {
            continue;
        }

        if (tp[i]->articles_conf == NULL) {
            why = "needs a \"clinic_articles\" location in its server";

        } else {
            if (ngx_http_clinic_site_base(cf->pool, tp[i]->articles_conf,
                                          tp[i], &base)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (base.len) {
                continue;
            }

            why = "needs absolute URLs: set \"clinic_base_url\", or a "
                  "first server_name that is not a wildcard,";
        }

        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "\"%s\" %s in %V:%ui",
                      fcf->handler == NGX_HTTP_CLINIC_FEED
                      ? "clinic_feed" : "clinic_sitemap",
                      why, &fcf->handler_file, fcf->handler_line);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_clinic_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                          i;
    ngx_http_clinic_stats_t            *st;
    ngx_http_clinic_main_conf_t        *cmcf;
    ngx_http_clinic_redis_endpoint_t  **eps;

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_clinic_module);

    if (cmcf == NULL || cmcf->endpoints.nelts == 0) {
        return NGX_OK;
    }

    if (cmcf->stats_zone && cmcf->stats_zone->data) {
        st = cmcf->stats_zone->data;
        eps = cmcf->endpoints.elts;

        for (i = 0; i < cmcf->endpoints.nelts && i < st->nredis; i++) {
            eps[i]->stats = &st->redis[i];
        }
    }

    if (ngx_http_clinic_redis_init_process(cycle, &cmcf->endpoints)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_clinic_spool_init_process(cycle);
}


static void
ngx_http_clinic_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_clinic_main_conf_t  *cmcf;

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_clinic_module);

    if (cmcf == NULL) {
        return;
    }

    ngx_http_clinic_watch_exit();
    ngx_http_clinic_spool_exit_process(cycle);
    ngx_http_clinic_redis_exit_process(&cmcf->endpoints);
}


/* remembers where a server block first became a tenant, for errors */

static void
ngx_http_clinic_mark_tenant(ngx_conf_t *cf)
{
    ngx_http_clinic_srv_conf_t  *cscf;

    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clinic_module);

    if (cscf->is_tenant) {
        return;
    }

    cscf->is_tenant = 1;
    cscf->conf_file = cf->conf_file->file.name;
    cscf->conf_line = cf->conf_file->line;
}


static char *
ngx_http_clinic_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_srv_conf_t *cscf = conf;

    ngx_str_t                    *value;
    ngx_http_clinic_main_conf_t  *cmcf;

    if (cscf->redis != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_clinic_module);

    cscf->redis = ngx_http_clinic_redis_add(cf, &cmcf->endpoints, &value[1],
                                            cf->args->nelts - 1);
    if (cscf->redis == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_clinic_tenant(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_srv_conf_t *cscf = conf;

    ngx_str_t  *value;

    if (cscf->tenant.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_clinic_valid_tenant(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid tenant name \"%V\": use 1 to 64 of "
                           "a-z, 0-9, \".\", \"_\" and \"-\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    cscf->tenant = value[1];

    ngx_http_clinic_mark_tenant(cf);

    return NGX_CONF_OK;
}


static char *
ngx_http_clinic_content(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_loc_conf_t *clcf = conf;

    ngx_str_t        *value, path;
    ngx_file_info_t   fi;

    if (clcf->content != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* strip a trailing slash so paths are built one way */

    while (path.len > 1 && path.data[path.len - 1] == '/') {
        path.data[--path.len] = '\0';
    }

    /* the folder is opened here so that a typo fails nginx -t */

    if (ngx_file_info(path.data, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "clinic_content folder \"%V\" cannot be opened",
                           &path);
        return NGX_CONF_ERROR;
    }

    if (!ngx_is_dir(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clinic_content \"%V\" is not a folder", &path);
        return NGX_CONF_ERROR;
    }

    clcf->content_path = path;
    clcf->content = ngx_http_clinic_content_create(cf, &path);
    if (clcf->content == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_http_clinic_mark_tenant(cf);

    return NGX_CONF_OK;
}


static char *
ngx_http_clinic_template(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_loc_conf_t *clcf = conf;

    ssize_t            n;
    ngx_fd_t           fd;
    ngx_str_t         *value, path, text, err;
    ngx_file_info_t    fi;

    if (clcf->tpl != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* compiled here so that a broken template fails nginx -t */

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "clinic_template \"%V\" cannot be opened", &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 1024 * 1024)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clinic_template \"%V\" is not a file of at "
                           "most 1 MB", &path);
        return NGX_CONF_ERROR;
    }

    text.len = ngx_file_size(&fi);
    text.data = ngx_pnalloc(cf->temp_pool, text.len + 1);
    if (text.data == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, text.data, text.len);
    ngx_close_file(fd);

    if (n != (ssize_t) text.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "clinic_template \"%V\" cannot be read", &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_clinic_template_compile(cf->temp_pool, &text, &err)
        == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clinic_template \"%V\": %V", &path, &err);
        return NGX_CONF_ERROR;
    }

    clcf->tpl = ngx_http_clinic_tpl_create(cf, &path);
    if (clcf->tpl == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a value that goes into a header or a page: one line, no controls */

static char *
ngx_http_clinic_header_value(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    size_t      i;
    ngx_str_t  *value;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = (ngx_str_t *) ((char *) conf + cmd->offset);

    for (i = 0; i < value->len; i++) {
        if (value->data[i] < 0x20 || value->data[i] == 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\": control characters "
                               "are not allowed", value);
            return NGX_CONF_ERROR;
        }
    }

    if (value->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty value");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a number people can dial: digits, spaces and + ( ) - . / */

static char *
ngx_http_clinic_phone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char        *rv;
    size_t       i, digits;
    ngx_str_t   *value;

    rv = ngx_http_clinic_header_value(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = (ngx_str_t *) ((char *) conf + cmd->offset);
    digits = 0;

    for (i = 0; i < value->len; i++) {
        if (value->data[i] >= '0' && value->data[i] <= '9') {
            digits++;
            continue;
        }

        if ((value->data[i] == '+' && i == 0)
            || ngx_strchr(" ()-./", value->data[i]) != NULL)
        {
            continue;
        }

        digits = 0;
        break;
    }

    if (digits < 3 || value->len > NGX_HTTP_CLINIC_PHONE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid clinic_phone \"%V\": use at least 3 "
                           "digits, spaces and + ( ) - . / (a \"+\" only "
                           "first), at most %d characters", value,
                           NGX_HTTP_CLINIC_PHONE_MAX);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * http(s)://host[:port], nothing after it but one "/", which is dropped:
 * every path the module prints (canonical links, [LINK]s, the listing,
 * the contact page, the sitemap) is a location's, from the site's root.
 */

static char *
ngx_http_clinic_base_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    u_char     *host, *last;
    ngx_str_t  *value, given;

    rv = ngx_http_clinic_header_value(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = (ngx_str_t *) ((char *) conf + cmd->offset);
    given = *value;

    if (value->len && value->data[value->len - 1] == '/') {
        value->len--;
    }

    last = value->data + value->len;

    if (value->len > 7
        && ngx_strncasecmp(value->data, (u_char *) "http://", 7) == 0)
    {
        host = value->data + 7;

    } else if (value->len > 8
               && ngx_strncasecmp(value->data, (u_char *) "https://", 8) == 0)
    {
        host = value->data + 8;

    } else {
        host = NULL;
    }

    if (host == NULL || host == last
        || ngx_strlchr(value->data, last, ' ')
        || ngx_strlchr(value->data, last, '"'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid clinic_base_url \"%V\": use "
                           "http(s)://host[:port]", &given);
        return NGX_CONF_ERROR;
    }

    if (ngx_strlchr(host, last, '/')
        || ngx_strlchr(host, last, '?')
        || ngx_strlchr(host, last, '#'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clinic_base_url \"%V\" has a path: use "
                           "http(s)://host[:port], the site is served from "
                           "its root", &given);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_clinic_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_main_conf_t *cmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (cmcf->cache_size != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        cmcf->cache_size = 0;
        return NGX_CONF_OK;
    }

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid clinic_cache_zone size \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (64 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clinic_cache_zone \"%V\" is too small, "
                           "at least %uzk is needed", &value[1],
                           64 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    cmcf->cache_size = size;

    return NGX_CONF_OK;
}


static char *
ngx_http_clinic_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_loc_conf_t *clcf = conf;

    ngx_str_t                    *value;
    ngx_http_core_loc_conf_t     *core;
    ngx_http_clinic_srv_conf_t   *cscf;
    ngx_http_clinic_main_conf_t  *cmcf;

    if (clcf->handler != NGX_HTTP_CLINIC_NONE) {
        return clcf->handler == cmd->offset
               ? "is duplicate"
               : "conflicts with another clinic handler in this location";
    }

    clcf->handler = cmd->offset;
    clcf->handler_file = cf->conf_file->file.name;
    clcf->handler_line = cf->conf_file->line;

    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    switch (clcf->handler) {

    case NGX_HTTP_CLINIC_STATUS:
        core->handler = ngx_http_clinic_status_handler;

        if (cf->args->nelts == 2) {
            value = cf->args->elts;

            if (ngx_strcmp(value[1].data, "tenants=off") == 0) {
                clcf->status_sum = 1;

            } else if (ngx_strcmp(value[1].data, "tenants=on") != 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid clinic_status parameter \"%V\": "
                                   "use tenants=on or tenants=off",
                                   &value[1]);
                return NGX_CONF_ERROR;
            }
        }

        /* the stats zone is needed even on a node without tenants */
        cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_clinic_module);
        cmcf->status = 1;
        return NGX_CONF_OK;

    case NGX_HTTP_CLINIC_ADMIN:
        core->handler = ngx_http_clinic_admin_handler;

        /* $clinic_inbox_url points into the first admin location */
        cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clinic_module);

        if (cscf->admin_prefix.len == 0) {
            cscf->admin_prefix = core->name;
        }

        break;

    case NGX_HTTP_CLINIC_ARTICLES:
        core->handler = ngx_http_clinic_articles_handler;

        /*
         * [LINK]s, API urls, the sitemap and the feed point into the
         * first articles location
         */
        cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clinic_module);

        if (cscf->articles_conf == NULL) {
            cscf->articles_prefix = core->name;
            cscf->articles_conf = clcf;
        }

        break;

    case NGX_HTTP_CLINIC_SITEMAP:
    case NGX_HTTP_CLINIC_FEED:
        core->handler = (clcf->handler == NGX_HTTP_CLINIC_SITEMAP)
                        ? ngx_http_clinic_sitemap_handler
                        : ngx_http_clinic_feed_handler;

        cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clinic_module);

        if (cscf->findable_conf == NULL) {
            cscf->findable_conf = clcf;
        }

        /* pages advertise the first feed that has a path of its own */

        if (clcf->handler == NGX_HTTP_CLINIC_FEED
            && cscf->feed_prefix.len == 0 && !core->named
#if (NGX_PCRE)
            && core->regex == NULL
#endif
           )
        {
            cscf->feed_prefix = core->name;
        }

        break;

    case NGX_HTTP_CLINIC_API:
        core->handler = ngx_http_clinic_api_handler;
        break;

    default: /* NGX_HTTP_CLINIC_CONTACT */
        core->handler = ngx_http_clinic_contact_handler;

        /* {{contact_url}} defaults to the first contact page by path */
        cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clinic_module);

        if (cscf->contact_prefix.len == 0 && !core->named
#if (NGX_PCRE)
            && core->regex == NULL
#endif
           )
        {
            cscf->contact_prefix = core->name;
        }

        break;
    }

    ngx_http_clinic_mark_tenant(cf);

    return NGX_CONF_OK;
}


static char *
ngx_http_clinic_field(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_loc_conf_t *clcf = conf;

    u_char                         errstr[NGX_MAX_CONF_ERRSTR];
    ngx_int_t                      n;
    ngx_str_t                     *value, s;
    ngx_uint_t                     i, j;
    ngx_regex_compile_t            rc;
    ngx_http_clinic_field_conf_t  *f;

    value = cf->args->elts;

    if (ngx_http_clinic_valid_field_name(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid field name \"%V\": use 1 to 64 of "
                           "A-Z, a-z, 0-9, \"_\" and \"-\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 0; ngx_http_clinic_reserved_fields[i].len; i++) {
        if (ngx_http_clinic_reserved_fields[i].len == value[1].len
            && ngx_strncmp(ngx_http_clinic_reserved_fields[i].data,
                           value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field name \"%V\" is reserved for the "
                               "submission's own data", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (clcf->fields == NGX_CONF_UNSET_PTR) {
        clcf->fields = ngx_array_create(cf->pool, 8,
                                        sizeof(ngx_http_clinic_field_conf_t));
        if (clcf->fields == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    f = clcf->fields->elts;

    for (i = 0; i < clcf->fields->nelts; i++) {
        if (f[i].name.len == value[1].len
            && ngx_strncmp(f[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\" is declared twice", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    f = ngx_array_push(clcf->fields);
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(f, sizeof(ngx_http_clinic_field_conf_t));

    f->name = value[1];
    f->max = 1000;
    f->type = NGX_HTTP_CLINIC_FIELD_TEXT;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "required") == 0) {
            f->required = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max=", 4) == 0) {
            n = ngx_atoi(value[i].data + 4, value[i].len - 4);
            if (n == NGX_ERROR || n == 0 || n > 65536) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max \"%V\": use 1 to 65536 "
                                   "characters", &value[i]);
                return NGX_CONF_ERROR;
            }

            f->max = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "type=", 5) == 0) {
            s.len = value[i].len - 5;
            s.data = value[i].data + 5;

            for (j = 0; ngx_http_clinic_field_types[j].name.len; j++) {
                if (ngx_http_clinic_field_types[j].name.len == s.len
                    && ngx_strncmp(ngx_http_clinic_field_types[j].name.data,
                                   s.data, s.len) == 0)
                {
                    break;
                }
            }

            if (ngx_http_clinic_field_types[j].name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unknown field type \"%V\": use text, "
                                   "email or phone", &s);
                return NGX_CONF_ERROR;
            }

            f->type = ngx_http_clinic_field_types[j].value;
            continue;
        }

        if (ngx_strncmp(value[i].data, "pattern=", 8) == 0) {
            ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

            s.len = value[i].len - 8;
            s.data = value[i].data + 8;

            /* the whole value must match: anchored at both ends, UTF-8 */

            rc.pattern.len = sizeof("(*UTF)\\A(?:)\\z") - 1 + s.len;
            rc.pattern.data = ngx_pnalloc(cf->pool, rc.pattern.len);
            if (rc.pattern.data == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_sprintf(rc.pattern.data, "(*UTF)\\A(?:%V)\\z", &s);

            rc.pool = cf->pool;
            rc.err.len = NGX_MAX_CONF_ERRSTR;
            rc.err.data = errstr;
            rc.options = 0;

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "empty pattern in \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (ngx_regex_compile(&rc) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid pattern for field \"%V\": %V",
                                   &f->name, &rc.err);
                return NGX_CONF_ERROR;
            }

            f->pattern = rc.regex;
            f->pattern_src = s;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_clinic_valid_field_name(ngx_str_t *name)
{
    size_t  i;
    u_char  ch;

    if (name->len == 0 || name->len > 64) {
        return NGX_ERROR;
    }

    for (i = 0; i < name->len; i++) {
        ch = name->data[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
            || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')
        {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


static char *
ngx_http_clinic_redirect(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_loc_conf_t *clcf = conf;

    ngx_str_t  *value;

    if (clcf->redirect.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* a local path or an absolute http(s) URL, nothing a header can break */

    if (!(value[1].data[0] == '/'
          || ngx_strncasecmp(value[1].data, (u_char *) "http://", 7) == 0
          || ngx_strncasecmp(value[1].data, (u_char *) "https://", 8) == 0)
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '\r')
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '\n')
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, ' '))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid clinic_contact_redirect \"%V\": use a "
                           "path starting with \"/\" or an http(s) URL",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    clcf->redirect = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_clinic_honeypot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_loc_conf_t *clcf = conf;

    ngx_str_t  *value;

    if (clcf->honeypot.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_clinic_valid_field_name(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid honeypot field name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    clcf->honeypot = value[1];
    clcf->honeypot_file = cf->conf_file->file.name;
    clcf->honeypot_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static char *
ngx_http_clinic_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_loc_conf_t *clcf = conf;

    ngx_str_t                *value, s;
    ngx_uint_t                i;
    ngx_http_clinic_limit_t  *limit;

    if (clcf->limit_set) {
        return "is duplicate";
    }

    clcf->limit_set = 1;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "client=", 7) == 0) {
            limit = &clcf->limit_client;
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

        } else if (ngx_strncmp(value[i].data, "tenant=", 7) == 0) {
            limit = &clcf->limit_tenant;
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_clinic_parse_rate(&s, limit) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid rate \"%V\": use N/TIME, "
                               "as in client=5/10m, or off", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* "N/TIME" (5/10m) or "off" (count 0) */

static ngx_int_t
ngx_http_clinic_parse_rate(ngx_str_t *value, ngx_http_clinic_limit_t *limit)
{
    u_char     *slash;
    ngx_int_t   n;
    ngx_str_t   t;
    time_t      period;

    if (value->len == 3 && ngx_strncmp(value->data, "off", 3) == 0) {
        limit->count = 0;
        limit->period = 0;
        return NGX_OK;
    }

    slash = ngx_strlchr(value->data, value->data + value->len, '/');
    if (slash == NULL) {
        return NGX_ERROR;
    }

    n = ngx_atoi(value->data, slash - value->data);
    if (n == NGX_ERROR || n == 0 || n > 1000000000) {
        return NGX_ERROR;
    }

    t.data = slash + 1;
    t.len = value->data + value->len - t.data;

    period = ngx_parse_time(&t, 1);
    if (period == (time_t) NGX_ERROR || period == 0) {
        return NGX_ERROR;
    }

    limit->count = n;
    limit->period = period;

    return NGX_OK;
}


static char *
ngx_http_clinic_retention(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_loc_conf_t *clcf = conf;

    ngx_str_t  *value;

    if (clcf->retention != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        clcf->retention = 0;
        return NGX_CONF_OK;
    }

    clcf->retention = ngx_parse_time(&value[1], 1);

    if (clcf->retention == (time_t) NGX_ERROR || clcf->retention == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid clinic_contact_retention \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * clinic_contact_notify URI | off: in a location, for its submissions; in
 * a server, also for those replayed from the spool (which have no
 * location)
 */

static char *
ngx_http_clinic_contact_notify(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_clinic_loc_conf_t *clcf = conf;

    ngx_str_t                      *value;
    ngx_http_core_srv_conf_t       *core;
    ngx_http_clinic_srv_conf_t     *cscf;
    ngx_http_clinic_notify_conf_t  *nc;

    if (clcf->notify != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        clcf->notify = NULL;
        return NGX_CONF_OK;
    }

    nc = ngx_pcalloc(cf->pool, sizeof(ngx_http_clinic_notify_conf_t));
    if (nc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_clinic_notify_parse(cf, &value[1], nc) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    /* the notification runs in this server, as an internal redirect */
    core = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);
    nc->ctx = core->ctx;

    clcf->notify = nc;

    if (cf->cmd_type == NGX_HTTP_SRV_CONF) {
        cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clinic_module);
        cscf->notify = nc;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_clinic_spool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clinic_main_conf_t *cmcf = conf;

    ngx_str_t        *value;
    ngx_file_info_t   fi;

    if (cmcf->spool.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    cmcf->spool = value[1];

    if (ngx_conf_full_name(cf->cycle, &cmcf->spool, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_file_info(cmcf->spool.data, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "clinic_spool folder \"%V\" cannot be opened",
                           &cmcf->spool);
        return NGX_CONF_ERROR;
    }

    if (!ngx_is_dir(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clinic_spool \"%V\" is not a folder",
                           &cmcf->spool);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_clinic_admin_token_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_clinic_srv_conf_t *cscf = conf;

    ngx_str_t  *value;

    if (cscf->admin_tokens) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_clinic_read_tokens(cf, &value[1], &cscf->admin_tokens,
                                    NGX_HTTP_CLINIC_TOKEN_MIN)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_http_clinic_mark_tenant(cf);

    return NGX_CONF_OK;
}
