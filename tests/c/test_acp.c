/* ACP traffic from C: session/update notifications recorded as events,
 * turn ends, warnings, replay as notifications, resume plans and usage. */
#include <stdint.h>

#include "check.h"

#define NOTE(update)                                                                               \
    "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{\"sessionId\":\"agent-1\","   \
    "\"update\":" update "}}"

static void record(ags_recorder *rec) {
    char *out = NULL;
    CHECK_OK(ags_recorder_record_acp_update(
        rec, NOTE("{\"sessionUpdate\":\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":\"Hel\"}}"),
        &out));
    /* A chunk waits for the rest of its message. */
    CHECK(strcmp(out, "{\"seqs\":[],\"warnings\":[]}") == 0);
    CHECK(ags_last_warning() == NULL);
    ags_string_free(out);
    CHECK_OK(ags_recorder_record_acp_update(
        rec, NOTE("{\"sessionUpdate\":\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":\"lo!\"}}"),
        NULL));
    /* Something else arrives: the message is written, then the tool call. */
    CHECK_OK(ags_recorder_record_acp_update(
        rec,
        NOTE("{\"sessionUpdate\":\"tool_call\",\"toolCallId\":\"t1\",\"title\":\"Read\",\"kind\":\"read\","
             "\"status\":\"pending\",\"rawInput\":{\"path\":\"a\"}}"),
        &out));
    CHECK(strcmp(out, "{\"seqs\":[3,4],\"warnings\":[]}") == 0);
    ags_string_free(out);
    CHECK_OK(ags_recorder_record_acp_update(
        rec, "{\"sessionId\":\"agent-1\",\"update\":{\"sessionUpdate\":\"usage_update\",\"used\":900,"
             "\"size\":10000,\"cost\":{\"amount\":0.25,\"currency\":\"EUR\"}}}",
        NULL));
    /* A tool call without its id is kept whole, with a warning. */
    CHECK_OK(ags_recorder_record_acp_update(rec, NOTE("{\"sessionUpdate\":\"tool_call\",\"title\":\"x\"}"), &out));
    CHECK_CONTAINS(out, "\"warnings\":[\"kept whole");
    CHECK_CONTAINS(ags_last_warning(), "toolCallId");
    ags_string_free(out);

    CHECK_OK(ags_recorder_record_turn_end(rec, "end_turn", &out));
    CHECK(strcmp(out, "[7]") == 0);
    ags_string_free(out);
    out = NULL;

    CHECK_STATUS(ags_recorder_record_acp_update(rec, "not json", &out), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("notification_json");
    CHECK_STATUS(ags_recorder_record_acp_update(rec, "{\"method\":\"session/prompt\",\"params\":{}}", &out),
                 AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_recorder_record_turn_end(rec, "", &out), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_recorder_record_acp_update(NULL, "{}", &out), AGS_NULL_PARAMETER);
    CHECK(out == NULL);
}

int main(int argc, char **argv) {
    char base[512];
    join_path(base, sizeof base, scratch_dir(argc, argv), "store");
    ags_store *store = NULL;
    ags_recorder *rec = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK_OK(ags_recorder_new(store, "acp", &rec));
    CHECK_OK(ags_recorder_start(rec, "agent", "/work/project", NULL, NULL));
    CHECK_OK(ags_recorder_record_user_prompt(rec, "Say hello", NULL, NULL));
    record(rec);
    ags_recorder_free(rec);

    char *events = NULL;
    CHECK_OK(ags_store_events(store, "acp", 0, true, &events));
    CHECK_CONTAINS(events, "\"type\":\"agent_message\",\"timestamp\"");
    CHECK_CONTAINS(events, "\"text\":\"Hello!\"");
    CHECK_CONTAINS(events, "\"type\":\"usage\"");
    CHECK_CONTAINS(events, "\"type\":\"acp_update\"");
    CHECK_CONTAINS(events, "{\"seq\":7,\"type\":\"turn_end\"");
    CHECK_CONTAINS(events, "\"stop_reason\":\"end_turn\"");
    char *meta = NULL;
    CHECK_OK(ags_store_metadata(store, "acp", &meta));
    CHECK_CONTAINS(meta, "\"acp_session_id\":\"agent-1\"");

    char *usage = NULL;
    CHECK_OK(ags_store_usage(store, "acp", &usage));
    CHECK_CONTAINS(usage, "\"used\":900");
    CHECK_CONTAINS(usage, "\"size\":10000");
    CHECK_CONTAINS(usage, "\"cost\":{\"EUR\":0.25}");
    ags_string_free(usage);
    CHECK_OK(ags_store_usage_summary(store, &usage));
    CHECK_CONTAINS(usage, "\"total\":{\"key\":\"total\",\"sessions\":1");
    CHECK_CONTAINS(usage, "\"by_agent\":[{\"key\":\"agent\"");
    ags_string_free(usage);
    CHECK_STATUS(ags_store_usage(store, "absent", &usage), AGS_SESSION_NOT_FOUND);

    ags_player *player = NULL;
    CHECK_OK(ags_player_open(store, "acp", &player));
    char *updates = NULL;
    CHECK_OK(ags_player_acp_updates(player, &updates));
    CHECK_CONTAINS(updates, "\"method\":\"session/update\"");
    CHECK_CONTAINS(updates, "\"sessionId\":\"agent-1\"");
    CHECK_CONTAINS(updates, "\"sessionUpdate\":\"agent_message_chunk\"");
    CHECK_CONTAINS(updates, "\"toolCallId\":\"t1\"");
    ags_string_free(updates);

    char *plan = NULL;
    CHECK_OK(ags_player_resume_plan(
        player, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":1,\"agentCapabilities\":{\"loadSession\":true}}}",
        &plan));
    CHECK_CONTAINS(plan, "\"method\":\"session/load\"");
    CHECK_CONTAINS(plan, "\"acp_session_id\":\"agent-1\"");
    ags_string_free(plan);
    CHECK_OK(ags_resume_plan(meta, events, "{\"protocolVersion\":1,\"agentCapabilities\":{}}", &plan));
    CHECK_CONTAINS(plan, "\"method\":\"session/new\"");
    CHECK_CONTAINS(plan, "USER: Say hello");
    CHECK_CONTAINS(plan, "ASSISTANT: Hello!");
    ags_string_free(plan);
    plan = NULL;
    CHECK_STATUS(ags_player_resume_plan(player, "{\"nope\":1}", &plan), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_resume_plan("{}", events, "{\"protocolVersion\":1}", &plan), AGS_INVALID_ARGUMENT);
    CHECK(plan == NULL);

    ags_player_free(player);
    ags_string_free(meta);
    ags_string_free(events);
    ags_store_free(store);
    printf("test_acp: ok\n");
    return 0;
}
