/* ags_store: every call, batched mode, default and mitto locations, and
 * the warning for corrupt lines. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

static void test_create_append_read(const char *dir) {
    char base[512];
    join_path(base, sizeof base, dir, "store");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK(store != NULL);

    char *s = NULL;
    CHECK_OK(ags_store_base_dir(store, &s));
    CHECK(strcmp(s, base) == 0);
    ags_string_free(s);

    char *meta = NULL;
    CHECK_OK(ags_store_create(store,
                              "{\"session_id\":\"s1\",\"acp_server\":\"claude\","
                              "\"working_dir\":\"/w\",\"name\":\"First\"}",
                              &meta));
    CHECK_CONTAINS(meta, "\"session_id\":\"s1\"");
    CHECK_CONTAINS(meta, "\"name\":\"First\"");
    CHECK_CONTAINS(meta, "\"last_user_message_at\":\"0001-01-01T00:00:00Z\"");
    CHECK_CONTAINS(meta, "\"event_count\":0");
    ags_string_free(meta);

    /* A generated id. */
    meta = NULL;
    CHECK_OK(ags_store_create(store, "{\"acp_server\":\"a\",\"working_dir\":\"/w\"}", &meta));
    CHECK_CONTAINS(meta, "\"session_id\":\"2");
    ags_string_free(meta);
    CHECK_STATUS(ags_store_create(store, "{\"session_id\":\"s1\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", NULL),
                 AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("already exists");

    uint64_t seq = 0;
    CHECK_OK(ags_store_append_event(store, "s1", "user_prompt", "{\"message\":\"hi\"}", NULL, &seq));
    CHECK(seq == 1);
    CHECK_OK(ags_store_append_event(store, "s1", "agent_message", "{\"text\":\"hello\"}",
                                    "2026-02-01T12:00:00.5+01:00", &seq));
    CHECK(seq == 2);
    CHECK_OK(ags_store_append_event(store, "s1", "ui_prompt_answer", "[1,2]", NULL, NULL));

    char *seqs = NULL;
    CHECK_OK(ags_store_append_events(store, "s1",
                                     "[{\"type\":\"agent_thought\",\"data\":{\"text\":\"t\"}},"
                                     "{\"type\":\"agent_message\",\"data\":{\"text\":\" there\"},"
                                     "\"timestamp\":\"2026-02-01T12:00:01Z\"}]",
                                     &seqs));
    CHECK(strcmp(seqs, "[4,5]") == 0);
    ags_string_free(seqs);
    CHECK_OK(ags_store_append_events(store, "s1", "[]", NULL));

    char *events = NULL;
    CHECK_OK(ags_store_events(store, "s1", 0, false, &events));
    CHECK(ags_last_warning() == NULL);
    CHECK(count_occurrences(events, "\"seq\":") == 5);
    CHECK_CONTAINS(events, "{\"seq\":1,\"type\":\"user_prompt\",\"timestamp\":\"");
    CHECK_CONTAINS(events, "\"timestamp\":\"2026-02-01T12:00:00.5+01:00\",\"data\":{\"text\":\"hello\"}");
    CHECK_CONTAINS(events, "\"type\":\"ui_prompt_answer\"");
    CHECK_CONTAINS(events, "\"data\":[1,2]");
    ags_string_free(events);

    CHECK_OK(ags_store_events(store, "s1", 3, true, &events));
    CHECK(count_occurrences(events, "\"seq\":") == 2);
    CHECK_CONTAINS(events, "\"seq\":4");
    ags_string_free(events);

    CHECK_OK(ags_store_events_last(store, "s1", 2, 0, false, &events));
    CHECK(strstr(events, "\"seq\":4") < strstr(events, "\"seq\":5"));
    CHECK(count_occurrences(events, "\"seq\":") == 2);
    ags_string_free(events);
    CHECK_OK(ags_store_events_last(store, "s1", 2, 5, true, &events));
    CHECK(strstr(events, "\"seq\":4") < strstr(events, "\"seq\":3"));
    ags_string_free(events);

    CHECK_OK(ags_store_metadata(store, "s1", &meta));
    CHECK_CONTAINS(meta, "\"event_count\":5");
    CHECK(strstr(meta, "0001-01-01T00:00:00Z") == NULL);
    ags_string_free(meta);

    CHECK_OK(ags_store_update_metadata(store, "s1",
                                       "{\"name\":\"Renamed\",\"status\":\"completed\","
                                       "\"archived\":true}",
                                       &meta));
    CHECK_CONTAINS(meta, "\"name\":\"Renamed\"");
    CHECK_CONTAINS(meta, "\"archived\":true");
    ags_string_free(meta);
    CHECK_OK(ags_store_update_metadata(store, "s1", "{\"archived\":null}", NULL));
    CHECK_OK(ags_store_metadata(store, "s1", &meta));
    CHECK(strstr(meta, "archived") == NULL);
    ags_string_free(meta);
    CHECK_STATUS(ags_store_update_metadata(store, "s1", "{\"status\":\"sleeping\"}", NULL),
                 AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_store_update_metadata(store, "s1", "{\"event_count\":3}", NULL),
                 AGS_INVALID_ARGUMENT);

    char *list = NULL;
    CHECK_OK(ags_store_list(store, &list));
    CHECK(count_occurrences(list, "\"session_id\":") == 2);
    CHECK_CONTAINS(list, "\"session_id\":\"s1\"");
    ags_string_free(list);

    bool exists = false;
    CHECK_OK(ags_store_exists(store, "s1", &exists));
    CHECK(exists);
    CHECK_OK(ags_store_exists(store, "nope", &exists));
    CHECK(!exists);

    CHECK_OK(ags_store_session_dir(store, "s1", &s));
    CHECK_CONTAINS(s, "/store/s1");
    ags_string_free(s);

    CHECK_OK(ags_store_delete(store, "s1"));
    CHECK_OK(ags_store_exists(store, "s1", &exists));
    CHECK(!exists);
    CHECK_STATUS(ags_store_delete(store, "s1"), AGS_SESSION_NOT_FOUND);

    bool flag = true;
    CHECK_OK(ags_store_is_batched(store, &flag));
    CHECK(!flag);
    CHECK_OK(ags_store_is_closed(store, &flag));
    CHECK(!flag);
    CHECK_OK(ags_store_flush(store));
    CHECK_OK(ags_store_close(store));
    CHECK_OK(ags_store_close(store));
    CHECK_OK(ags_store_is_closed(store, &flag));
    CHECK(flag);
    ags_store_free(store);
}

static void test_batched(const char *dir) {
    char base[512];
    join_path(base, sizeof base, dir, "batched");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open_batched(base, &store));
    bool batched = false;
    CHECK_OK(ags_store_is_batched(store, &batched));
    CHECK(batched);
    CHECK_OK(ags_store_create(store, "{\"session_id\":\"b\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", NULL));
    for (int i = 0; i < 20; i++) {
        CHECK_OK(ags_store_append_event(store, "b", "agent_message", "{\"text\":\"x\"}", NULL, NULL));
    }
    /* This handle sees its own deferred counters; flush writes them. */
    char *meta = NULL;
    CHECK_OK(ags_store_metadata(store, "b", &meta));
    CHECK_CONTAINS(meta, "\"event_count\":20");
    ags_string_free(meta);
    CHECK_OK(ags_store_flush(store));

    ags_store *other = NULL;
    CHECK_OK(ags_store_open(base, &other));
    CHECK_OK(ags_store_metadata(other, "b", &meta));
    CHECK_CONTAINS(meta, "\"event_count\":20");
    ags_string_free(meta);
    ags_store_free(other);
    ags_store_free(store);
}

static void test_default_and_mitto(const char *dir) {
    char path[512];
    join_path(path, sizeof path, dir, "default");
    CHECK(setenv("AGENTSESSION_DIR", path, 1) == 0);
    char *s = NULL;
    CHECK_OK(ags_store_default_dir(&s));
    CHECK(strcmp(s, path) == 0);
    ags_string_free(s);
    ags_store *store = NULL;
    CHECK_OK(ags_store_open_default(&store));
    CHECK_OK(ags_store_base_dir(store, &s));
    CHECK(strcmp(s, path) == 0);
    ags_string_free(s);
    ags_store_free(store);

    join_path(path, sizeof path, dir, "mitto");
    CHECK(setenv("MITTO_DIR", path, 1) == 0);
    CHECK_OK(ags_store_mitto_dir(&s));
    CHECK_CONTAINS(s, "/mitto/sessions");
    ags_string_free(s);
    CHECK_OK(ags_store_open_mitto(&store));
    CHECK_OK(ags_store_base_dir(store, &s));
    CHECK_CONTAINS(s, "/mitto/sessions");
    ags_string_free(s);
    ags_store_free(store);
}

static void test_corrupt_lines_warn(const char *dir) {
    char base[512], log[600];
    join_path(base, sizeof base, dir, "corrupt");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK_OK(ags_store_create(store, "{\"session_id\":\"c\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", NULL));
    CHECK_OK(ags_store_append_event(store, "c", "agent_message", "{\"text\":\"one\"}", NULL, NULL));
    join_path(log, sizeof log, base, "c/events.jsonl");
    FILE *f = fopen(log, "a");
    CHECK(f != NULL);
    fputs("{\"seq\":2,\"type\":\"agent_mes", f); /* a torn last line */
    fclose(f);

    char *events = NULL;
    CHECK_OK(ags_store_events(store, "c", 0, false, &events));
    CHECK(count_occurrences(events, "\"seq\":") == 1);
    CHECK_CONTAINS(ags_last_warning(), "events.jsonl line 2");
    ags_string_free(events);

    events = NULL;
    CHECK_STATUS(ags_store_events(store, "c", 0, true, &events), AGS_CORRUPT_DATA);
    CHECK(events == NULL);
    CHECK_ERROR_MENTIONS("line 2");
    CHECK(ags_last_warning() == NULL);

    ags_player *player = NULL;
    CHECK_OK(ags_player_open(store, "c", &player));
    CHECK_CONTAINS(ags_last_warning(), "events.jsonl");
    char *skipped = NULL;
    CHECK_OK(ags_player_skipped(player, &skipped));
    CHECK_CONTAINS(skipped, "\"line\":2");
    ags_string_free(skipped);
    ags_player_free(player);

    /* The next append repairs the torn tail. */
    uint64_t seq = 0;
    CHECK_OK(ags_store_append_event(store, "c", "agent_message", "{\"text\":\"two\"}", NULL, &seq));
    CHECK(seq == 2);
    CHECK_OK(ags_store_events(store, "c", 0, true, &events));
    CHECK(ags_last_warning() == NULL);
    CHECK(count_occurrences(events, "\"seq\":") == 2);
    ags_string_free(events);

    /* A session with unreadable metadata is left out of the list, with a warning. */
    char meta_path[600];
    join_path(meta_path, sizeof meta_path, base, "broken");
    CHECK_OK(ags_store_create(store, "{\"session_id\":\"broken\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", NULL));
    join_path(meta_path, sizeof meta_path, base, "broken/metadata.json");
    f = fopen(meta_path, "w");
    CHECK(f != NULL);
    fputs("{not json", f);
    fclose(f);
    char *list = NULL;
    CHECK_OK(ags_store_list(store, &list));
    CHECK(count_occurrences(list, "\"session_id\":") == 1);
    CHECK_CONTAINS(ags_last_warning(), "session broken skipped");
    ags_string_free(list);
    ags_store_free(store);
}

int main(int argc, char **argv) {
    const char *dir = scratch_dir(argc, argv);
    test_create_append_read(dir);
    test_batched(dir);
    test_default_and_mitto(dir);
    test_corrupt_lines_warn(dir);
    printf("test_store: ok\n");
    return 0;
}
