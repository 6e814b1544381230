/* ags_search (filters, limit, progress callback) and ags_follow (events
 * appended by another thread, session_end, stop from another thread). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void record(ags_store *store, const char *id, const char *prompt, const char *reply, bool end) {
    ags_recorder *rec = NULL;
    CHECK_OK(ags_recorder_new(store, id, &rec));
    CHECK_OK(ags_recorder_start(rec, "agent", "/w", NULL, NULL));
    CHECK_OK(ags_recorder_record_user_prompt(rec, prompt, NULL, NULL));
    CHECK_OK(ags_recorder_record_agent_message(rec, reply, NULL));
    if (end) CHECK_OK(ags_recorder_end(rec, "done"));
    ags_recorder_free(rec);
}

struct progress {
    size_t calls, last_done, total;
};

static void on_progress(size_t done, size_t total, void *user_data) {
    struct progress *p = user_data;
    p->calls++;
    p->last_done = done;
    p->total = total;
}

/* Collects every hit of a search into one count; returns the number of hits. */
static int drain(ags_search *search, const char *must_contain) {
    int hits = 0;
    for (;;) {
        char *hit = NULL;
        CHECK_OK(ags_search_next(search, &hit));
        if (hit == NULL) break;
        if (must_contain) CHECK_CONTAINS(hit, must_contain);
        ags_string_free(hit);
        hits++;
    }
    return hits;
}

static void search(ags_store *store) {
    record(store, "s-old", "Explain the Parser", "The parser reads tokens.", true);
    record(store, "s-new", "Write a lexer", "Here is a LEXER and a parser hook.", false);

    struct progress progress = {0, 0, 0};
    ags_search *search = NULL;
    CHECK_OK(ags_store_search(store, "{\"text\":\"parser\"}", on_progress, &progress, &search));
    size_t sessions = 0;
    CHECK_OK(ags_search_session_count(search, &sessions));
    CHECK(sessions == 2);
    char *hit = NULL;
    CHECK_OK(ags_search_next(search, &hit));
    /* Newest session first; literal search ignores case. */
    CHECK_CONTAINS(hit, "\"session_id\":\"s-new\"");
    CHECK_CONTAINS(hit, "\"type\":\"agent_message\"");
    CHECK_CONTAINS(hit, "\"field\":\"text\"");
    CHECK_CONTAINS(hit, "\"snippet\":\"");
    ags_string_free(hit);
    CHECK(drain(search, NULL) == 2);
    CHECK(progress.calls == 2 && progress.last_done == 2 && progress.total == 2);
    ags_search_free(search);

    CHECK_OK(ags_store_search(store, "{\"text\":\"Pars\\\\w+\",\"regex\":true,\"types\":[\"user_prompt\"]}",
                              NULL, NULL, &search));
    CHECK(drain(search, "\"session_id\":\"s-old\"") == 1);
    ags_search_free(search);
    CHECK_OK(ags_store_search(store, "{\"text\":\"parser\",\"status\":\"completed\",\"limit\":1}", NULL, NULL,
                              &search));
    CHECK(drain(search, "\"session_id\":\"s-old\"") == 1);
    ags_search_free(search);
    CHECK_OK(ags_store_search(store, "{\"text\":\"parser\",\"status\":[\"error\"]}", NULL, NULL, &search));
    CHECK(drain(search, NULL) == 0);
    ags_search_free(search);
    CHECK_OK(ags_store_search(store, "{\"text\":\"parser\",\"since\":\"2999-01-01T00:00:00Z\"}", NULL, NULL,
                              &search));
    CHECK(drain(search, NULL) == 0);
    ags_search_free(search);
}

struct appender {
    ags_store *store;
    const char *id;
};

static void *append_later(void *arg) {
    struct appender *a = arg;
    ags_recorder *rec = NULL;
    CHECK_OK(ags_recorder_new(a->store, a->id, &rec));
    CHECK_OK(ags_recorder_resume(rec, NULL));
    for (int i = 0; i < 3; i++) {
        sleep_ms(30);
        CHECK_OK(ags_recorder_record_agent_message(rec, "more", NULL));
    }
    CHECK_OK(ags_recorder_end(rec, "finished"));
    ags_recorder_free(rec);
    return NULL;
}

static void *stop_later(void *arg) {
    sleep_ms(100);
    CHECK_OK(ags_follow_stop((ags_follow *)arg));
    return NULL;
}

static void follow(ags_store *store) {
    record(store, "live", "hello", "hi", false);
    ags_follow *f = NULL;
    CHECK_OK(ags_store_follow(store, "live", 1, 10.0, &f));
    struct appender a = {store, "live"};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, append_later, &a) == 0);
    uint64_t expect = 2;
    const char *last_type = "";
    for (;;) {
        char *ev = NULL;
        CHECK_OK(ags_follow_next(f, &ev));
        if (ev == NULL) break;
        char want[32];
        snprintf(want, sizeof want, "{\"seq\":%llu,", (unsigned long long)expect++);
        CHECK_CONTAINS(ev, want);
        last_type = strstr(ev, "\"type\":\"session_end\"") ? "session_end" : "other";
        ags_string_free(ev);
    }
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(expect == 8); /* seqs 2..7: prompt, reply, three messages, session_end */
    CHECK(strcmp(last_type, "session_end") == 0);
    ags_follow_free(f);

    /* Stopped from another thread while waiting; and the idle timeout. */
    record(store, "quiet", "hello", "hi", false);
    CHECK_OK(ags_store_follow(store, "quiet", 3, -1, &f));
    CHECK(pthread_create(&t, NULL, stop_later, f) == 0);
    char *ev = (char *)"sentinel";
    CHECK_OK(ags_follow_next(f, &ev));
    CHECK(ev == NULL);
    CHECK(pthread_join(t, NULL) == 0);
    ags_follow_free(f);
    CHECK_OK(ags_store_follow(store, "quiet", 3, 0.05, &f));
    ev = (char *)"sentinel";
    CHECK_OK(ags_follow_next(f, &ev));
    CHECK(ev == NULL);
    ags_follow_free(f);
    CHECK_STATUS(ags_store_follow(store, "absent", 0, 1, &f), AGS_SESSION_NOT_FOUND);
}

int main(int argc, char **argv) {
    char base[512];
    join_path(base, sizeof base, scratch_dir(argc, argv), "store");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open(base, &store));
    search(store);
    follow(store);
    ags_store_free(store);
    printf("test_insight: ok\n");
    return 0;
}
