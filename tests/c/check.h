/* Assertions shared by the C tests: each failure prints where, the status
 * and ags_last_error(), then exits non-zero. */
#ifndef AGS_TEST_CHECK_H
#define AGS_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <agentsession.h>

static inline void check_fail(const char *file, int line, const char *what, int status) {
    const char *err = ags_last_error();
    fprintf(stderr, "%s:%d: check failed: %s (status %d: %s; last error: %s)\n", file, line, what,
            status, ags_status_message(status), err ? err : "(none)");
    exit(1);
}

/* The call must succeed. */
#define CHECK_OK(call)                                                                             \
    do {                                                                                           \
        ags_status check_s_ = (call);                                                              \
        if (check_s_ != AGS_OK) check_fail(__FILE__, __LINE__, #call, (int)check_s_);              \
    } while (0)

/* The call must fail with `expected`, leaving a last-error message. */
#define CHECK_STATUS(call, expected)                                                               \
    do {                                                                                           \
        ags_status check_s_ = (call);                                                              \
        if (check_s_ != (expected)) check_fail(__FILE__, __LINE__, #call " -> " #expected, (int)check_s_); \
        if (ags_last_error() == NULL) check_fail(__FILE__, __LINE__, "last error set", (int)check_s_); \
    } while (0)

/* A plain condition. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) check_fail(__FILE__, __LINE__, #cond, 0);                                     \
    } while (0)

/* `haystack` contains `needle`. */
#define CHECK_CONTAINS(haystack, needle)                                                           \
    do {                                                                                           \
        const char *check_h_ = (haystack);                                                         \
        if (check_h_ == NULL || strstr(check_h_, (needle)) == NULL) {                              \
            fprintf(stderr, "%s:%d: %s does not contain %s: %s\n", __FILE__, __LINE__, #haystack,  \
                    (needle), check_h_ ? check_h_ : "(null)");                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* The last error mentions `needle`. */
#define CHECK_ERROR_MENTIONS(needle) CHECK_CONTAINS(ags_last_error(), needle)

/* Number of (non-overlapping) occurrences of `needle` in `s`. */
static inline int count_occurrences(const char *s, const char *needle) {
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = strstr(s, needle); p; p = strstr(p + len, needle)) n++;
    return n;
}

/* The scratch directory the runner passes as argv[1]. */
static inline const char *scratch_dir(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        exit(2);
    }
    return argv[1];
}

/* Writes `dir/name` into `out`. */
static inline void join_path(char *out, size_t cap, const char *dir, const char *name) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "path too long: %s/%s\n", dir, name);
        exit(2);
    }
}

#endif
