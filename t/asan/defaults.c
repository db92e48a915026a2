
/*
 * Linked into the sanitizer build of nginx (make asan, docs/testing.md,
 * "Sanitizers"), so that build/asan/nginx runs the suites as it is, with
 * no wrapper and no environment of its own.  ASAN_OPTIONS, LSAN_OPTIONS and
 * UBSAN_OPTIONS still override these defaults, option by option.
 */


#include <stddef.h>
#include <string.h>


const char *__asan_default_options(void);
const char *__lsan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *__ubsan_default_options(void);
void __lsan_disable(void);
int dlclose(void *handle);
static void clinic_asan_no_leak_check(int argc, char **argv, char **envp);


/*
 * detect_odr_violation=0   ngx_modules and ngx_module_names are defined in
 *                          nginx and again in every dynamic module
 * fast_unwind_on_malloc=0  the libraries (libc, jansson, hiredis, md4c,
 *                          PCRE2) have no frame pointers: without this an
 *                          allocation's stack stops at their first frame
 */

const char *
__asan_default_options(void)
{
    return "detect_odr_violation=0:fast_unwind_on_malloc=0:detect_leaks=1";
}


const char *
__lsan_default_options(void)
{
    return "print_suppressions=0";
}


/*
 * Only memory that nginx itself leaves to the exit belongs here: the suites
 * fail a block on any leak report at all.
 */

const char *
__lsan_default_suppressions(void)
{
    return
        /* the connections and events of a process, never freed */
        "leak:ngx_event_process_init\n"

        /* one PCRE2 compile context per process, kept in a static */
        "leak:pcre2_compile_context_create_8\n";
}


const char *
__ubsan_default_options(void)
{
    return "print_stacktrace=1:halt_on_error=1";
}


/*
 * nginx unloads the dynamic modules with the last cycle, before the exit;
 * LeakSanitizer runs at the exit, and could not name a frame in a module
 * any more ("<unknown module>").  So the modules stay mapped: this nginx
 * never unloads a shared object.
 */

int
dlclose(void *handle)
{
    (void) handle;

    return 0;
}


/*
 * "nginx -t" and the like return from main() with the cycle they built,
 * and nothing points at it any more by the time the leak check runs at
 * the exit: the whole configuration would be reported.  Only a serving
 * nginx is checked.  glibc calls constructors with main()'s arguments.
 */

__attribute__((constructor))
static void
clinic_asan_no_leak_check(int argc, char **argv, char **envp)
{
    int    i;
    char  *p;

    (void) envp;

    for (i = 1; i < argc; i++) {
        p = argv[i];

        if (*p++ != '-') {
            continue;
        }

        /* one or more flags, as nginx reads them: "-tq" is "-t -q" */

        for ( /* void */ ; *p; p++) {

            if (strchr("tTvVh?s", *p)) {
                __lsan_disable();
                return;
            }

            if (strchr("pcge", *p)) {
                /* the rest of the word, or the next one, is its value */

                if (p[1] == '\0') {
                    i++;
                }

                break;
            }
        }
    }
}
