/* ags_recorder (every record call, start/suspend/resume/end, prune limits),
 * ags_player (navigation, filters) and the history helpers. */
#include <stdint.h>

#include "check.h"

static void record_conversation(ags_store *store) {
    ags_recorder *rec = NULL;
    CHECK_OK(ags_recorder_new(store, "conv", &rec));
    char *id = NULL;
    CHECK_OK(ags_recorder_session_id(rec, &id));
    CHECK(strcmp(id, "conv") == 0);
    ags_string_free(id);

    bool started = true;
    CHECK_OK(ags_recorder_is_started(rec, &started));
    CHECK(!started);
    CHECK_STATUS(ags_recorder_record_agent_message(rec, "too early", NULL), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("not started");

    char *meta = NULL;
    CHECK_OK(ags_recorder_start(rec, "claude", "/work", "claude --acp", &meta));
    CHECK_CONTAINS(meta, "\"acp_command\":\"claude --acp\"");
    ags_string_free(meta);
    CHECK_OK(ags_recorder_is_started(rec, &started));
    CHECK(started);
    CHECK_STATUS(ags_recorder_start(rec, "claude", "/work", NULL, NULL), AGS_INVALID_ARGUMENT);

    uint64_t seq = 0;
    CHECK_OK(ags_recorder_record_user_prompt(rec, "Fix the parser", NULL, &seq));
    CHECK(seq == 2);
    CHECK_OK(ags_recorder_record_agent_thought(rec, "thinking", &seq));
    CHECK_OK(ags_recorder_record_agent_message(rec, "Looking ", &seq));
    CHECK_OK(ags_recorder_record_tool_call(rec, "call-1", "Read parser.c", "pending", "read",
                                           "{\"path\":\"parser.c\"}", NULL, &seq));
    CHECK_OK(ags_recorder_record_tool_call(rec, "call-2", "Run tests", "pending", NULL, NULL, "\"ok\"", NULL));
    CHECK_OK(ags_recorder_record_tool_call_update(rec, "call-1", "completed", NULL, &seq));
    CHECK_OK(ags_recorder_record_plan(rec,
                                      "[{\"id\":\"1\",\"title\":\"Read\",\"status\":\"done\"},"
                                      "{\"id\":\"2\",\"title\":\"Fix\",\"status\":\"pending\","
                                      "\"priority\":\"high\"}]",
                                      &seq));
    CHECK_OK(ags_recorder_record_permission(rec, "Write parser.c", "allow_once", "approved", &seq));
    CHECK_STATUS(ags_recorder_record_permission(rec, "x", "y", "maybe", &seq), AGS_INVALID_ARGUMENT);
    CHECK_OK(ags_recorder_record_file_read(rec, "parser.c", 1200, &seq));
    CHECK_OK(ags_recorder_record_file_write(rec, "parser.c", 1300, &seq));
    CHECK_OK(ags_recorder_record_error(rec, "lint failed", 2, &seq));
    CHECK_OK(ags_recorder_record(rec, "ui_prompt_answer", "{\"answer\":1}", &seq));
    CHECK_OK(ags_recorder_record_agent_message(rec, "it is fixed.", &seq));
    CHECK(seq == 14);
    CHECK_STATUS(ags_recorder_record_tool_call(rec, "", "t", "s", NULL, NULL, NULL, NULL), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_recorder_record_plan(rec, "{\"entries\":1}", NULL), AGS_INVALID_ARGUMENT);

    uint64_t count = 0;
    CHECK_OK(ags_recorder_event_count(rec, &count));
    CHECK(count == 14);

    CHECK_OK(ags_recorder_suspend(rec));
    CHECK_STATUS(ags_recorder_suspend(rec), AGS_INVALID_ARGUMENT);
    CHECK_OK(ags_recorder_resume(rec, &meta));
    CHECK_CONTAINS(meta, "\"event_count\":14");
    ags_string_free(meta);
    CHECK_OK(ags_recorder_record_user_prompt(rec, "Thanks", "[{\"id\":\"img_001_a.png\",\"mime_type\":\"image/png\"}]",
                                             &seq));
    CHECK_OK(ags_recorder_record_agent_message(rec, "You're welcome", &seq));
    CHECK_OK(ags_recorder_end(rec, "user_quit"));
    CHECK_OK(ags_recorder_is_started(rec, &started));
    CHECK(!started);
    CHECK_OK(ags_store_metadata(store, "conv", &meta));
    CHECK_CONTAINS(meta, "\"status\":\"completed\"");
    CHECK_CONTAINS(meta, "\"event_count\":17");
    ags_string_free(meta);
    ags_recorder_free(rec);

    /* A generated id, and prune limits applied after each append. */
    CHECK_OK(ags_recorder_new(store, NULL, &rec));
    CHECK_OK(ags_recorder_session_id(rec, &id));
    CHECK(strlen(id) == 24);
    CHECK_OK(ags_recorder_set_prune_limits(rec, 3, 0));
    CHECK_OK(ags_recorder_start(rec, "a", "/w", NULL, NULL));
    for (int i = 0; i < 6; i++) CHECK_OK(ags_recorder_record_agent_message(rec, "x", NULL));
    CHECK_OK(ags_recorder_event_count(rec, &count));
    CHECK(count == 3);
    ags_string_free(id);
    ags_recorder_free(rec);
}

static void play(ags_store *store) {
    ags_player *p = NULL;
    CHECK_OK(ags_player_open(store, "conv", &p));
    CHECK(ags_last_warning() == NULL);
    size_t n = 0, pos = 99;
    CHECK_OK(ags_player_len(p, &n));
    CHECK(n == 17);
    CHECK_OK(ags_player_position(p, &pos));
    CHECK(pos == 0);

    char *ev = NULL;
    CHECK_OK(ags_player_peek(p, &ev));
    CHECK_CONTAINS(ev, "\"type\":\"session_start\"");
    ags_string_free(ev);
    CHECK_OK(ags_player_next(p, &ev));
    CHECK_CONTAINS(ev, "{\"seq\":1,\"type\":\"session_start\"");
    ags_string_free(ev);
    CHECK_OK(ags_player_next(p, &ev));
    CHECK_CONTAINS(ev, "\"message\":\"Fix the parser\"");
    ags_string_free(ev);
    CHECK_OK(ags_player_position(p, &pos));
    CHECK(pos == 2);

    CHECK_OK(ags_player_seek(p, 17));
    bool more = true;
    CHECK_OK(ags_player_has_next(p, &more));
    CHECK(!more);
    ev = (char *)"sentinel";
    CHECK_OK(ags_player_next(p, &ev));
    CHECK(ev == NULL);
    ev = (char *)"sentinel";
    CHECK_OK(ags_player_peek(p, &ev));
    CHECK(ev == NULL);
    CHECK_STATUS(ags_player_seek(p, 18), AGS_INVALID_ARGUMENT);
    CHECK_OK(ags_player_reset(p));
    CHECK_OK(ags_player_has_next(p, &more));
    CHECK(more);

    char *json = NULL;
    CHECK_OK(ags_player_events_of_type(p, "agent_message", &json));
    CHECK(count_occurrences(json, "\"type\":\"agent_message\"") == 3);
    ags_string_free(json);
    CHECK_OK(ags_player_events_of_type(p, "no_such_type", &json));
    CHECK(strcmp(json, "[]") == 0);
    ags_string_free(json);
    CHECK_OK(ags_player_metadata(p, &json));
    CHECK_CONTAINS(json, "\"session_id\":\"conv\"");
    ags_string_free(json);
    CHECK_OK(ags_player_skipped(p, &json));
    CHECK(strcmp(json, "[]") == 0);
    ags_string_free(json);

    char *events = NULL;
    CHECK_OK(ags_player_events(p, &events));
    CHECK(count_occurrences(events, "\"seq\":") == 17);
    CHECK_CONTAINS(events, "\"raw_input\":{\"path\":\"parser.c\"}");
    CHECK_CONTAINS(events, "\"raw_output\":\"ok\"");
    CHECK_CONTAINS(events, "\"priority\":\"high\"");
    CHECK_CONTAINS(events, "\"images\":[{\"id\":\"img_001_a.png\",\"mime_type\":\"image/png\"}]");

    char *history = NULL;
    CHECK_OK(ags_build_conversation_history(events, 0, &history));
    CHECK_CONTAINS(history, "USER: Fix the parser");
    CHECK_CONTAINS(history, "ASSISTANT: Looking it is fixed.");
    CHECK_CONTAINS(history, "--- Turn 2 ---");
    ags_string_free(history);
    CHECK_OK(ags_build_conversation_history(events, 1, &history));
    CHECK(strstr(history, "Fix the parser") == NULL);
    CHECK_CONTAINS(history, "USER: Thanks");
    ags_string_free(history);
    CHECK_OK(ags_build_conversation_history("[]", 0, &history));
    CHECK(strcmp(history, "") == 0);
    ags_string_free(history);

    char *reply = NULL;
    CHECK_OK(ags_last_agent_message(events, &reply));
    CHECK(strcmp(reply, "You're welcome") == 0);
    ags_string_free(reply);
    ags_string_free(events);
    CHECK_STATUS(ags_last_agent_message("[{\"type\":\"user_prompt\"}]", &reply), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("seq");
    ags_player_free(p);

    CHECK_STATUS(ags_player_open(store, "missing", &p), AGS_SESSION_NOT_FOUND);
}

int main(int argc, char **argv) {
    char base[512];
    join_path(base, sizeof base, scratch_dir(argc, argv), "store");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open(base, &store));
    record_conversation(store);
    play(store);
    ags_store_free(store);
    printf("test_recorder_player: ok\n");
    return 0;
}
