
/*
 * The allocator handed to the module's pure-C parts (article parser, form
 * parser).  In the module it wraps ngx_palloc() on the request pool; in the
 * unit tests and fuzzers it wraps malloc() with a list freed at the end.
 * Memory is never freed piecemeal: pool semantics.
 */

#ifndef NGX_HTTP_CLINIC_ALLOC_H
#define NGX_HTTP_CLINIC_ALLOC_H


#include <stddef.h>


typedef struct {
    void  *(*alloc)(void *ctx, size_t size);
    void   *ctx;
} ngx_http_clinic_alloc_t;


#endif /* NGX_HTTP_CLINIC_ALLOC_H */
