/* ags_lock and the runtime: every acquisition mode and refusal, statuses,
 * lock info and status checks, stealing with the stolen callback, cleanup,
 * heartbeats, and release on SIGTERM in a child process. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define OPTS(id) "{\"session_id\":\"" id "\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}"

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* What the stolen callback saw (it may run on the heartbeat thread). */
struct stolen {
    pthread_mutex_t lock;
    int calls;
    char session_id[64];
};

static void on_stolen(const char *session_id, void *user_data) {
    struct stolen *s = user_data;
    pthread_mutex_lock(&s->lock);
    s->calls++;
    snprintf(s->session_id, sizeof s->session_id, "%s", session_id);
    pthread_mutex_unlock(&s->lock);
}

static int stolen_calls(struct stolen *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->calls;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void modes_and_statuses(ags_store *store) {
    ags_lock *first = NULL, *second = NULL, *third = NULL, *none = NULL;
    char *json = NULL;
    bool flag = false;
    size_t count = 0;

    CHECK_OK(ags_store_lock_info(store, "s", &json));
    CHECK(strcmp(json, "null") == 0);
    ags_string_free(json);
    CHECK_OK(ags_store_check_lock_status(store, "s", &json));
    CHECK_CONTAINS(json, "\"state\":\"unlocked\"");
    CHECK_CONTAINS(json, "\"can_resume\":true");
    ags_string_free(json);

    CHECK_OK(ags_store_try_acquire_lock(store, "s", "cli", &first));
    CHECK_OK(ags_store_is_locked(store, "s", &flag));
    CHECK(flag);
    CHECK_OK(ags_active_lock_count(&count));
    CHECK(count == 1);
    CHECK_OK(ags_store_lock_info(store, "s", &json));
    CHECK_CONTAINS(json, "\"client_type\":\"cli\"");
    CHECK_CONTAINS(json, "\"status\":\"idle\"");
    ags_string_free(json);
    char *id = NULL, *instance = NULL;
    CHECK_OK(ags_lock_session_id(first, &id));
    CHECK(strcmp(id, "s") == 0);
    CHECK_OK(ags_lock_instance_id(first, &instance));
    CHECK(strlen(instance) == 16);
    CHECK_OK(ags_lock_info(first, &json));
    CHECK_CONTAINS(json, instance);
    ags_string_free(json);

    /* A live holder refuses a plain acquisition. */
    CHECK_STATUS(ags_store_try_acquire_lock(store, "s", "web", &none), AGS_SESSION_LOCKED);
    CHECK_ERROR_MENTIONS("locked");
    /* Busy holders refuse a forced one. */
    CHECK_OK(ags_lock_set_processing(first, "thinking hard"));
    CHECK_OK(ags_store_check_lock_status(store, "s", &json));
    CHECK_CONTAINS(json, "\"state\":\"processing\"");
    CHECK_CONTAINS(json, "\"can_force\":false");
    CHECK_CONTAINS(json, "\"can_interrupt\":true");
    CHECK_CONTAINS(json, "\"status_message\":\"thinking hard\"");
    CHECK_CONTAINS(json, "\"message\":\"Session is locked by");
    ags_string_free(json);
    CHECK_STATUS(ags_store_force_acquire_lock(store, "s", "web", &none), AGS_SESSION_PROCESSING);
    CHECK_OK(ags_lock_set_waiting_permission(first, "Allow rm?"));
    CHECK_STATUS(ags_store_force_acquire_lock(store, "s", "web", &none), AGS_WAITING_FOR_PERMISSION);
    CHECK(none == NULL);

    /* An idle holder can be forced; the old handle learns it was stolen. */
    struct stolen stolen = {PTHREAD_MUTEX_INITIALIZER, 0, ""};
    CHECK_OK(ags_lock_on_stolen(first, on_stolen, &stolen));
    CHECK_OK(ags_lock_set_idle(first));
    CHECK_OK(ags_store_force_acquire_lock(store, "s", "web", &second));
    CHECK_OK(ags_lock_is_valid(first, &flag));
    CHECK(!flag);
    for (int i = 0; i < 200 && stolen_calls(&stolen) == 0; i++) sleep_ms(10);
    CHECK(stolen_calls(&stolen) == 1);
    CHECK(strcmp(stolen.session_id, "s") == 0);
    CHECK_STATUS(ags_lock_set_idle(first), AGS_LOCK_NOT_HELD);
    CHECK_STATUS(ags_lock_set_processing(first, "x"), AGS_LOCK_NOT_HELD);
    CHECK_OK(ags_lock_release(first)); /* stolen: nothing to do */
    CHECK_OK(ags_lock_is_valid(second, &flag));
    CHECK(flag);

    /* An interrupt takes a busy lock; NULL removes a stolen callback. */
    CHECK_OK(ags_lock_on_stolen(second, NULL, NULL));
    CHECK_OK(ags_lock_set_processing(second, "busy"));
    CHECK_OK(ags_store_force_interrupt_lock(store, "s", "ide", &third));
    CHECK_OK(ags_lock_is_valid(second, &flag));
    CHECK(!flag);
    CHECK_OK(ags_lock_release(third));
    CHECK_OK(ags_lock_release(third));
    CHECK_OK(ags_store_is_locked(store, "s", &flag));
    CHECK(!flag);

    /* Cleanup releases every lock of the process. */
    ags_lock *a = NULL, *b = NULL;
    CHECK_OK(ags_store_try_acquire_lock(store, "s", "cli", &a));
    CHECK_OK(ags_store_try_acquire_lock(store, "t", "cli", &b));
    CHECK_OK(ags_active_lock_count(&count));
    CHECK(count == 2);
    size_t released = 0;
    CHECK_OK(ags_cleanup_all_locks(&released));
    CHECK(released == 2);
    CHECK_OK(ags_lock_is_valid(a, &flag));
    CHECK(!flag);
    CHECK_OK(ags_store_is_locked(store, "t", &flag));
    CHECK(!flag);

    ags_lock_free(a);
    ags_lock_free(b);
    ags_lock_free(third);
    ags_lock_free(second);
    ags_lock_free(first);
    ags_lock_free(NULL);
    ags_string_free(instance);
    ags_string_free(id);

    /* Freeing a held lock releases it. */
    CHECK_OK(ags_store_try_acquire_lock(store, "s", "cli", &a));
    ags_lock_free(a);
    CHECK_OK(ags_store_is_locked(store, "s", &flag));
    CHECK(!flag);
}

static void errors(ags_store *store) {
    ags_lock *lock = NULL;
    char *json = NULL;
    bool flag = false;
    CHECK_STATUS(ags_store_try_acquire_lock(store, "absent", "cli", &lock), AGS_SESSION_NOT_FOUND);
    CHECK_STATUS(ags_store_try_acquire_lock(store, "../s", "cli", &lock), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_store_try_acquire_lock(store, "s", NULL, &lock), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_try_acquire_lock(store, "s", "cli", NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_force_interrupt_lock(NULL, "s", "cli", &lock), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_lock_set_idle(NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_lock_is_valid(NULL, &flag), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_lock_on_stolen(NULL, on_stolen, NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_lock_info(store, "absent", &json), AGS_SESSION_NOT_FOUND);
    CHECK_STATUS(ags_store_check_lock_status(store, "s\xff", &json), AGS_INVALID_ARGUMENT);
    CHECK(lock == NULL && json == NULL);

    /* A lock file that is not a lock: info says corrupt, acquisition takes it over. */
    char *dir = NULL;
    CHECK_OK(ags_store_session_dir(store, "s", &dir));
    char path[600];
    join_path(path, sizeof path, dir, ".lock");
    ags_string_free(dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("garbage", f);
    fclose(f);
    CHECK_STATUS(ags_store_lock_info(store, "s", &json), AGS_CORRUPT_DATA);
    CHECK_OK(ags_store_check_lock_status(store, "s", &json));
    CHECK_CONTAINS(json, "\"state\":\"corrupt\"");
    ags_string_free(json);
    CHECK_OK(ags_store_try_acquire_lock(store, "s", "cli", &lock));
    ags_lock_free(lock);
}

static void runtime_settings(void) {
    double interval = 0, stale = 0;
    CHECK_OK(ags_settings(&interval, &stale));
    CHECK(interval == 10.0 && stale == 60.0);
    CHECK_STATUS(ags_configure(0.001, 60), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_configure(1, 1.5), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_configure(-1, 60), AGS_INVALID_ARGUMENT);
    CHECK_OK(ags_configure(0.02, 5));
    CHECK_OK(ags_settings(&interval, NULL));
    CHECK(interval == 0.02);
    CHECK_OK(ags_reset_heartbeat_stats());
}

static void heartbeats(ags_store *store) {
    ags_lock *lock = NULL;
    char *before = NULL, *after = NULL, *stats = NULL;
    CHECK_OK(ags_store_try_acquire_lock(store, "s", "cli", &lock));
    CHECK_OK(ags_store_lock_info(store, "s", &before));
    sleep_ms(200);
    CHECK_OK(ags_store_lock_info(store, "s", &after));
    /* The heartbeat field moved on (the rest of the file is the same). */
    const char *hb_before = strstr(before, "\"heartbeat\":");
    const char *hb_after = strstr(after, "\"heartbeat\":");
    CHECK(hb_before && hb_after && strncmp(hb_before, hb_after, 48) != 0);
    CHECK_OK(ags_heartbeat_stats(&stats));
    CHECK_CONTAINS(stats, "\"heartbeats\":");
    CHECK(strstr(stats, "\"heartbeats\":0,") == NULL);
    CHECK_CONTAINS(stats, "\"lateness_p99_s\":");
    ags_string_free(stats);
    ags_string_free(after);
    ags_string_free(before);
    ags_lock_free(lock);
}

/* A child holding a lock after ags_release_locks_on_signals is ended by
 * SIGTERM as by default, and its lock is gone. */
static void release_on_sigterm(ags_store *store, const char *base) {
    if (getenv("AGS_TEST_UNDER_VALGRIND") != NULL) {
        /* Valgrind catches every signal itself: none is left at its default
         * action for the library to take over, and it says so. */
        char *signals = NULL;
        CHECK_OK(ags_release_locks_on_signals(&signals));
        CHECK(strcmp(signals, "[]") == 0);
        ags_string_free(signals);
        return;
    }
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        ags_store *own = NULL;
        ags_lock *lock = NULL;
        char *signals = NULL;
        if (ags_store_open(base, &own) != AGS_OK || ags_release_locks_on_signals(&signals) != AGS_OK ||
            strstr(signals, "15") == NULL || ags_store_try_acquire_lock(own, "s", "child", &lock) != AGS_OK) {
            _exit(3);
        }
        ags_string_free(signals);
        if (write(ready[1], "R", 1) != 1) _exit(4);
        for (;;) pause();
    }
    close(ready[1]);
    char byte = 0;
    CHECK(read(ready[0], &byte, 1) == 1 && byte == 'R');
    close(ready[0]);
    bool locked = false;
    CHECK_OK(ags_store_is_locked(store, "s", &locked));
    CHECK(locked);
    CHECK(kill(pid, SIGTERM) == 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) ||
          (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM));
    char *info = NULL;
    CHECK_OK(ags_store_lock_info(store, "s", &info));
    CHECK(strcmp(info, "null") == 0);
    ags_string_free(info);
}

int main(int argc, char **argv) {
    char base[512];
    join_path(base, sizeof base, scratch_dir(argc, argv), "store");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK_OK(ags_store_create(store, OPTS("s"), NULL));
    CHECK_OK(ags_store_create(store, OPTS("t"), NULL));
    /* Before anything starts the runtime's threads. */
    release_on_sigterm(store, base);
    runtime_settings();
    modes_and_statuses(store);
    errors(store);
    heartbeats(store);
    CHECK_OK(ags_shutdown());
    size_t count = 1;
    CHECK_OK(ags_active_lock_count(&count));
    CHECK(count == 0);
    ags_store_free(store);
    printf("test_lock: ok\n");
    return 0;
}
