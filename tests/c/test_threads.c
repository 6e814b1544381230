/* Several threads append to one session and queue messages in it, each
 * through its own store, recorder and queue handles: seqs must come out
 * unique and contiguous, and every queued message must be there once.
 * The last error is per thread. */
#include <pthread.h>
#include <stdint.h>

#include "check.h"

#define THREADS 4
#define EVENTS_PER_THREAD 40
#define MESSAGES_PER_THREAD 10

struct worker {
    const char *base;
    int index;
    uint64_t seqs[EVENTS_PER_THREAD];
};

static void *work(void *arg) {
    struct worker *w = arg;
    ags_store *store = NULL;
    ags_recorder *rec = NULL;
    ags_queue *queue = NULL;
    CHECK_OK(ags_store_open(w->base, &store));
    CHECK_OK(ags_recorder_new(store, "shared", &rec));
    CHECK_OK(ags_recorder_resume(rec, NULL));
    CHECK_OK(ags_store_queue(store, "shared", &queue));
    char data[64];
    for (int i = 0; i < EVENTS_PER_THREAD; i++) {
        snprintf(data, sizeof data, "{\"text\":\"t%d-%d\"}", w->index, i);
        if (i % 2 == 0) {
            CHECK_OK(ags_store_append_event(store, "shared", "agent_message", data, NULL, &w->seqs[i]));
        } else {
            CHECK_OK(ags_recorder_record(rec, "agent_message", data, &w->seqs[i]));
        }
        if (i < MESSAGES_PER_THREAD) {
            snprintf(data, sizeof data, "m%d-%d", w->index, i);
            CHECK_OK(ags_queue_add(queue, data, NULL, NULL, 0, NULL));
        }
    }
    /* An error here is not seen by the other threads. */
    bool b;
    CHECK_STATUS(ags_store_exists(store, "..", &b), AGS_INVALID_ARGUMENT);
    ags_queue_free(queue);
    ags_recorder_free(rec);
    ags_store_free(store);
    return NULL;
}

int main(int argc, char **argv) {
    char base[512];
    join_path(base, sizeof base, scratch_dir(argc, argv), "store");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK_OK(ags_store_create(store, "{\"session_id\":\"shared\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}",
                              NULL));

    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t].base = base;
        workers[t].index = t;
        CHECK(pthread_create(&threads[t], NULL, work, &workers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], NULL) == 0);
    CHECK(ags_last_error() == NULL);

    /* Every seq 1..N handed out exactly once, increasing within each thread. */
    const int total = THREADS * EVENTS_PER_THREAD;
    int seen[THREADS * EVENTS_PER_THREAD + 1] = {0};
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < EVENTS_PER_THREAD; i++) {
            uint64_t s = workers[t].seqs[i];
            CHECK(s >= 1 && s <= (uint64_t)total);
            CHECK(i == 0 || s > workers[t].seqs[i - 1]);
            seen[s]++;
        }
    }
    for (int s = 1; s <= total; s++) CHECK(seen[s] == 1);

    char *events = NULL, *meta = NULL;
    CHECK_OK(ags_store_events(store, "shared", 0, true, &events));
    CHECK(count_occurrences(events, "\"seq\":") == total);
    char last[32];
    snprintf(last, sizeof last, "{\"seq\":%d,", total);
    CHECK_CONTAINS(events, last);
    ags_string_free(events);
    CHECK_OK(ags_store_metadata(store, "shared", &meta));
    snprintf(last, sizeof last, "\"event_count\":%d", total);
    CHECK_CONTAINS(meta, last);
    ags_string_free(meta);

    /* Every queued message exactly once, each thread's in its order. */
    ags_queue *queue = NULL;
    CHECK_OK(ags_store_queue(store, "shared", &queue));
    size_t len = 0;
    CHECK_OK(ags_queue_len(queue, &len));
    CHECK(len == THREADS * MESSAGES_PER_THREAD);
    char *list = NULL;
    CHECK_OK(ags_queue_list(queue, &list));
    for (int t = 0; t < THREADS; t++) {
        const char *prev = list;
        for (int i = 0; i < MESSAGES_PER_THREAD; i++) {
            char text[32];
            snprintf(text, sizeof text, "\"m%d-%d\"", t, i);
            CHECK(count_occurrences(list, text) == 1);
            const char *at = strstr(list, text);
            CHECK(at > prev);
            prev = at;
        }
    }
    ags_string_free(list);
    ags_queue_free(queue);
    ags_store_free(store);
    printf("test_threads: %d threads x (%d events + %d queued): ok\n", THREADS, EVENTS_PER_THREAD,
           MESSAGES_PER_THREAD);
    return 0;
}
