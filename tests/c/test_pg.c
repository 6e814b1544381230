/* The PostgreSQL store from C: ags_store_open with the URL of the test
 * server (AGS_PG_URL) runs sessions, events, locks and the queue there; a
 * server store has no directories; bad URLs and wrong passwords give clear
 * errors that never show the password. Skipped (with a note) when no server
 * is configured, unless AGS_REQUIRE_PG=1. */
#include <stdint.h>
#include <unistd.h>

#include "check.h"

/* `url` with its password replaced by `password` (the TCP URL has the form
 * postgresql://user:pw@host:port/db). */
static void with_password(const char *url, const char *password, char *out, size_t cap) {
    const char *colon = strchr(url + strlen("postgresql://"), ':');
    const char *at = strchr(url, '@');
    CHECK(colon != NULL && at != NULL && colon < at);
    snprintf(out, cap, "%.*s:%s%s", (int)(colon - url), url, password, at);
}

int main(void) {
    const char *url = getenv("AGS_PG_URL");
    const char *tcp = getenv("AGS_PG_URL_TCP");
    if (url == NULL || *url == '\0' || tcp == NULL || *tcp == '\0') {
        const char *required = getenv("AGS_REQUIRE_PG");
        CHECK(required == NULL || strcmp(required, "1") != 0);
        printf("note: AGS_PG_URL not set; PostgreSQL test skipped\n");
        return 0;
    }

    ags_store *store = NULL;
    CHECK_OK(ags_store_open(url, &store));
    char *text = NULL;
    CHECK_OK(ags_store_location(store, &text));
    CHECK(strncmp(text, "postgresql://", 13) == 0);
    ags_string_free(text);
    CHECK_STATUS(ags_store_base_dir(store, &text), AGS_INVALID_ARGUMENT);

    char id[64], options[160];
    snprintf(id, sizeof id, "c-pg-%ld", (long)getpid());
    snprintf(options, sizeof options, "{\"session_id\":\"%s\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", id);
    CHECK_OK(ags_store_create(store, options, NULL));
    uint64_t seq = 0;
    CHECK_OK(ags_store_append_event(store, id, "agent_message", "{\"text\":\"one\"}", NULL, &seq));
    CHECK(seq == 1);
    CHECK_OK(ags_store_append_event(store, id, "future_type", "[1,{\"x\":null}]", NULL, &seq));
    CHECK(seq == 2);
    CHECK_OK(ags_store_events_last(store, id, 1, 0, false, &text));
    CHECK_CONTAINS(text, "\"type\":\"future_type\"");
    CHECK_CONTAINS(text, "[1,{\"x\":null}]");
    ags_string_free(text);
    CHECK_STATUS(ags_store_session_dir(store, id, &text), AGS_INVALID_ARGUMENT);

    ags_lock *lock = NULL;
    CHECK_OK(ags_store_try_acquire_lock(store, id, "c", &lock));
    ags_lock *second = NULL;
    CHECK_STATUS(ags_store_try_acquire_lock(store, id, "c", &second), AGS_SESSION_LOCKED);
    CHECK_OK(ags_lock_release(lock));
    ags_lock_free(lock);

    ags_queue *q = NULL;
    CHECK_OK(ags_store_queue(store, id, &q));
    CHECK_OK(ags_queue_add(q, "later", NULL, NULL, 0, NULL));
    CHECK_OK(ags_queue_pop(q, &text));
    CHECK_CONTAINS(text, "\"message\":\"later\"");
    ags_string_free(text);
    CHECK_STATUS(ags_queue_pop(q, &text), AGS_QUEUE_EMPTY);
    ags_queue_free(q);

    CHECK_OK(ags_store_delete(store, id));
    CHECK_STATUS(ags_store_metadata(store, id, &text), AGS_SESSION_NOT_FOUND);
    ags_store_free(store);

    ags_store *bad = NULL;
    CHECK_STATUS(ags_store_open("postgresql://ags:s3cret-word@127.0.0.1:notaport/db", &bad),
                 AGS_INVALID_ARGUMENT);
    CHECK(strstr(ags_last_error(), "s3cret-word") == NULL);
    char wrong[512];
    with_password(tcp, "not-the-s3cret", wrong, sizeof wrong);
    CHECK_STATUS(ags_store_open(wrong, &bad), AGS_IO);
    CHECK(strstr(ags_last_error(), "not-the-s3cret") == NULL);
    CHECK_ERROR_MENTIONS("127.0.0.1");
    return 0;
}
