/* Every error path: NULL pointers, bad ids, bad JSON, invalid UTF-8, a
 * closed store, untouched out-parameters, status messages, _free(NULL). */
#include <math.h>
#include <stdint.h>

#include "check.h"

#define OPTS(id) "{\"session_id\":\"" id "\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}"

static void null_parameters(ags_store *store) {
    char *s = (char *)"untouched";
    ags_store *st = (ags_store *)&s;
    uint64_t seq = 42;
    bool b = true;
    size_t n = 7;

    CHECK_STATUS(ags_store_open(NULL, &st), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("path");
    CHECK(st == (ags_store *)&s);
    CHECK_STATUS(ags_store_open("/tmp", NULL), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("out");
    CHECK_STATUS(ags_store_metadata(NULL, "x", &s), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("store");
    CHECK_STATUS(ags_store_metadata(store, NULL, &s), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("session_id");
    CHECK_STATUS(ags_store_metadata(store, "s", NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_append_event(store, "s", NULL, "{}", NULL, &seq), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("event_type");
    CHECK_STATUS(ags_store_append_event(store, "s", "t", NULL, NULL, &seq), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_exists(store, "s", NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_create(store, NULL, NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_list(store, NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_close(NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_default_dir(NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_recorder_new(NULL, "s", (ags_recorder **)&st), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_recorder_record_agent_message(NULL, "x", &seq), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("recorder");
    CHECK_STATUS(ags_player_open(store, "s", NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_player_len(NULL, &n), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("player");
    CHECK_STATUS(ags_player_has_next(NULL, &b), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_search_next(NULL, &s), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_follow_next(NULL, &s), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_follow_stop(NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_last_agent_message(NULL, &s), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_save_image(store, "s", NULL, 1, NULL, NULL, NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_queue(store, "s", NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_queue_len(NULL, &n), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("queue");
    CHECK_STATUS(ags_queue_add(NULL, "m", NULL, NULL, 0, NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_action_buttons(NULL, "s", (ags_action_buttons **)&st), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_action_buttons_get(NULL, &s), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("buttons");
    CHECK(strcmp(s, "untouched") == 0 && seq == 42 && b && n == 7);

    /* Every _free accepts NULL. */
    ags_store_free(NULL);
    ags_recorder_free(NULL);
    ags_player_free(NULL);
    ags_search_free(NULL);
    ags_follow_free(NULL);
    ags_queue_free(NULL);
    ags_action_buttons_free(NULL);
    ags_string_free(NULL);
}

static void bad_ids(ags_store *store) {
    const char *bad[] = {"", ".", "..", "a/b", "../escape", ".lock", "a\\b", "tab\there"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool exists = true;
        char *out = NULL;
        uint64_t seq = 0;
        ags_recorder *rec = NULL;
        ags_player *p = NULL;
        CHECK_STATUS(ags_store_exists(store, bad[i], &exists), AGS_INVALID_ARGUMENT);
        CHECK_ERROR_MENTIONS("session id");
        CHECK_STATUS(ags_store_metadata(store, bad[i], &out), AGS_INVALID_ARGUMENT);
        CHECK_STATUS(ags_store_append_event(store, bad[i], "x", "{}", NULL, &seq), AGS_INVALID_ARGUMENT);
        CHECK_STATUS(ags_store_delete(store, bad[i]), AGS_INVALID_ARGUMENT);
        CHECK_STATUS(ags_recorder_new(store, bad[i], &rec), AGS_INVALID_ARGUMENT);
        CHECK_STATUS(ags_player_open(store, bad[i], &p), AGS_INVALID_ARGUMENT);
        CHECK(exists && out == NULL && seq == 0 && rec == NULL && p == NULL);
    }
    CHECK_STATUS(ags_store_create(store, "{\"session_id\":\"../x\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", NULL),
                 AGS_INVALID_ARGUMENT);
    char *out = NULL;
    CHECK_STATUS(ags_store_metadata(store, "missing", &out), AGS_SESSION_NOT_FOUND);
    CHECK_ERROR_MENTIONS("missing");
    CHECK_STATUS(ags_store_append_event(store, "missing", "x", "{}", NULL, NULL), AGS_SESSION_NOT_FOUND);
    CHECK_STATUS(ags_store_events(store, "missing", 0, false, &out), AGS_SESSION_NOT_FOUND);
    CHECK_STATUS(ags_store_image_path(store, "ok", "..", &out), AGS_INVALID_ARGUMENT);
    CHECK(out == NULL);
}

static void bad_json(ags_store *store) {
    char *out = NULL;
    uint64_t seq = 0;
    const char *bad_options[] = {"{", "[]", "null", "{\"acp_server\":\"a\"}",
                                 "{\"acp_server\":\"a\",\"working_dir\":\"/w\",\"colour\":1}",
                                 "{\"acp_server\":7,\"working_dir\":\"/w\"}"};
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        CHECK_STATUS(ags_store_create(store, bad_options[i], &out), AGS_INVALID_ARGUMENT);
        CHECK_ERROR_MENTIONS("options_json");
    }
    CHECK_STATUS(ags_store_append_event(store, "ok", "agent_message", "{\"text\":", NULL, &seq),
                 AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("data_json");
    CHECK_STATUS(ags_store_append_event(store, "ok", "agent_message", "[1]", NULL, &seq), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("JSON object");
    CHECK_STATUS(ags_store_append_event(store, "ok", "x", "{}", "yesterday", &seq), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("RFC 3339");
    CHECK_STATUS(ags_store_append_event(store, "ok", "", "{}", NULL, &seq), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_store_append_events(store, "ok", "{\"type\":\"x\"}", &out), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_store_append_events(store, "ok", "[{\"type\":\"x\"}]", &out), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("data");
    CHECK_STATUS(ags_store_update_metadata(store, "ok", "[1]", &out), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_build_conversation_history("nope", 0, &out), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_last_agent_message("{}", &out), AGS_INVALID_ARGUMENT);
    CHECK(out == NULL && seq == 0);

    ags_recorder *rec = NULL;
    CHECK_OK(ags_recorder_new(store, "ok", &rec));
    CHECK_OK(ags_recorder_resume(rec, NULL));
    CHECK_STATUS(ags_recorder_record(rec, "x", "{{", &seq), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_recorder_record_user_prompt(rec, "m", "[{\"id\":3}]", &seq), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("images_json");
    CHECK_STATUS(ags_recorder_record_tool_call(rec, "c", "t", "s", NULL, "{", NULL, &seq), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("raw_input_json");
    CHECK_STATUS(ags_recorder_record_plan(rec, "[{\"title\":1}]", &seq), AGS_INVALID_ARGUMENT);
    CHECK(seq == 0);
    ags_recorder_free(rec);

    ags_search *search = NULL;
    CHECK_STATUS(ags_store_search(store, "{\"text\":\"\"}", NULL, NULL, &search), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_store_search(store, "{\"text\":\"(\",\"regex\":true}", NULL, NULL, &search), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("pattern");
    CHECK_STATUS(ags_store_search(store, "{\"text\":\"a\",\"since\":\"soon\"}", NULL, NULL, &search),
                 AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_store_search(store, "{\"txt\":\"a\"}", NULL, NULL, &search), AGS_INVALID_ARGUMENT);
    CHECK(search == NULL);
    ags_follow *follow = NULL;
    CHECK_STATUS(ags_store_follow(store, "ok", 0, NAN, &follow), AGS_INVALID_ARGUMENT);
    CHECK(follow == NULL);
}

static void invalid_utf8(ags_store *store, const char *dir) {
    char *out = NULL;
    uint64_t seq = 0;
    bool exists = false;
    ags_store *st = NULL;
    char path[600];
    join_path(path, sizeof path, dir, "bad\xff");
    CHECK_STATUS(ags_store_open(path, &st), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("UTF-8");
    CHECK_STATUS(ags_store_exists(store, "s\xc3\x28", &exists), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("session_id is not valid UTF-8");
    CHECK_STATUS(ags_store_append_event(store, "ok", "agent_message", "{\"text\":\"\xff\"}", NULL, &seq),
                 AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_store_append_event(store, "ok", "agent\xe2\x82", "{}", NULL, &seq), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_store_create(store, "{\"acp_server\":\"\xfe\",\"working_dir\":\"/w\"}", &out),
                 AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_last_agent_message("[\xff]", &out), AGS_INVALID_ARGUMENT);
    CHECK(st == NULL && out == NULL && seq == 0);

    /* A NUL inside JSON text cannot come back as a C string: a clear error. */
    CHECK_OK(ags_store_append_event(store, "ok", "user_prompt", "{\"message\":\"q\"}", NULL, NULL));
    CHECK_OK(ags_store_append_event(store, "ok", "agent_message", "{\"text\":\"a\\u0000b\"}", NULL, NULL));
    char *events = NULL;
    CHECK_OK(ags_store_events(store, "ok", 0, true, &events));
    CHECK_STATUS(ags_last_agent_message(events, &out), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("NUL");
    CHECK(out == NULL);
    ags_string_free(events);
}

static void closed_store(const char *dir) {
    char base[600];
    join_path(base, sizeof base, dir, "closing");
    ags_store *store = NULL, *twin = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK_OK(ags_store_create(store, OPTS("c"), NULL));
    ags_recorder *rec = NULL;
    CHECK_OK(ags_recorder_new(store, "c", &rec));
    CHECK_OK(ags_recorder_resume(rec, NULL));
    ags_queue *queue = NULL;
    CHECK_OK(ags_store_queue(store, "c", &queue));
    ags_action_buttons *ab = NULL;
    CHECK_OK(ags_store_action_buttons(store, "c", &ab));
    CHECK_OK(ags_store_close(store));

    char *out = NULL;
    bool b = false;
    uint64_t seq = 0;
    ags_player *p = NULL;
    ags_search *search = NULL;
    ags_follow *follow = NULL;
    CHECK_STATUS(ags_store_metadata(store, "c", &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_events(store, "c", 0, false, &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_events_last(store, "c", 3, 0, false, &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_list(store, &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_create(store, OPTS("d"), &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_append_event(store, "c", "x", "{}", NULL, &seq), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_append_events(store, "c", "[]", &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_update_metadata(store, "c", "{}", &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_exists(store, "c", &b), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_delete(store, "c"), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_flush(store), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_list_images(store, "c", &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_prune_if_needed(store, "c", 1, 0, &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_session_dir(store, "c", &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_recorder_record_agent_message(rec, "x", &seq), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_player_open(store, "c", &p), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_search(store, "{\"text\":\"x\"}", NULL, NULL, &search), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_store_follow(store, "c", 0, 0, &follow), AGS_STORE_CLOSED);
    size_t n = 0;
    CHECK_STATUS(ags_queue_add(queue, "m", NULL, NULL, 0, &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_queue_len(queue, &n), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_action_buttons_get(ab, &out), AGS_STORE_CLOSED);
    CHECK_STATUS(ags_action_buttons_set(ab, "[]", 0, &out), AGS_STORE_CLOSED);
    ags_queue *q2 = NULL;
    CHECK_STATUS(ags_store_queue(store, "c", &q2), AGS_STORE_CLOSED);
    CHECK(out == NULL && seq == 0 && !b && n == 0 && p == NULL && search == NULL && follow == NULL && q2 == NULL);
    ags_action_buttons_free(ab);
    ags_queue_free(queue);
    ags_recorder_free(rec);
    ags_store_free(store);

    /* A new handle on the same directory is open. */
    CHECK_OK(ags_store_open(base, &twin));
    CHECK_OK(ags_store_exists(twin, "c", &b));
    CHECK(b);
    ags_store_free(twin);
}

static void statuses_and_messages(void) {
    CHECK(strcmp(ags_status_message(AGS_OK), "success") == 0);
    CHECK(strcmp(ags_status_message(AGS_SESSION_NOT_FOUND), "session not found") == 0);
    CHECK(strcmp(ags_status_message(AGS_NULL_PARAMETER), "NULL parameter") == 0);
    CHECK(strcmp(ags_status_message(AGS_PANIC), "internal error (panic)") == 0);
    CHECK(strcmp(ags_status_message(-5), "unknown status code") == 0);
    CHECK(strcmp(ags_status_message(1000), "unknown status code") == 0);
    int known = 0;
    for (int code = 0; code < 100; code++) {
        const char *m = ags_status_message(code);
        CHECK(m != NULL);
        if (strcmp(m, "unknown status code") != 0) known++;
    }
    CHECK(known == 27);
    /* The stable numbers. */
    CHECK(AGS_OK == 0 && AGS_SESSION_LOCKED == 2 && AGS_STORE_CLOSED == 6 && AGS_QUEUE_FULL == 8 &&
          AGS_INVALID_ARGUMENT == 15 && AGS_IO == 17 && AGS_AUXILIARY_TIMEOUT == 23 &&
          AGS_NULL_PARAMETER == 90 && AGS_PANIC == 91 && AGS_OTHER == 99);

    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", AGS_VERSION_MAJOR, AGS_VERSION_MINOR, AGS_VERSION_PATCH);
    CHECK(strcmp(ags_version(), version) == 0);
}

static void last_error_lifecycle(ags_store *store) {
    bool b;
    CHECK_STATUS(ags_store_exists(store, "..", &b), AGS_INVALID_ARGUMENT);
    CHECK(ags_last_error() != NULL);
    /* Functions that return no status leave it alone; a success clears it. */
    ags_string_free(NULL);
    CHECK(ags_status_message(0) != NULL);
    CHECK(ags_last_error() != NULL);
    CHECK_OK(ags_store_exists(store, "ok", &b));
    CHECK(ags_last_error() == NULL);
    CHECK(ags_last_warning() == NULL);
}

int main(int argc, char **argv) {
    const char *dir = scratch_dir(argc, argv);
    char base[512];
    join_path(base, sizeof base, dir, "store");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK_OK(ags_store_create(store, OPTS("ok"), NULL));
    null_parameters(store);
    bad_ids(store);
    bad_json(store);
    invalid_utf8(store, dir);
    closed_store(dir);
    statuses_and_messages();
    last_error_lifecycle(store);
    ags_store_free(store);
    printf("test_errors: ok\n");
    return 0;
}
