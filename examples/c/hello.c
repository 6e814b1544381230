/* Records a tiny conversation and reads it back.
 * Build: cc -std=c11 hello.c $(pkg-config --cflags --libs agentsession)
 * Run:   ./a.out DIR   (the store is created under DIR) */
#include <stdio.h>

#include <agentsession.h>

/* Prints the failure and returns 1 when `s` is not AGS_OK. */
static int failed(ags_status s) {
    if (s == AGS_OK) return 0;
    fprintf(stderr, "error %d (%s): %s\n", (int)s, ags_status_message((int)s), ags_last_error());
    return 1;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "sessions";
    ags_store *store = NULL;
    ags_recorder *rec = NULL;
    char *events = NULL, *reply = NULL;
    int rc = failed(ags_store_open(dir, &store)) ||
             failed(ags_recorder_new(store, "hello", &rec)) ||
             failed(ags_recorder_start(rec, "example-agent", "/tmp", NULL, NULL)) ||
             failed(ags_recorder_record_user_prompt(rec, "Say hello", NULL, NULL)) ||
             failed(ags_recorder_record_agent_message(rec, "Hello from C!", NULL)) ||
             failed(ags_recorder_end(rec, "done")) ||
             failed(ags_store_events(store, "hello", 0, false, &events)) ||
             failed(ags_last_agent_message(events, &reply));
    if (rc == 0) printf("events: %s\nreply: %s\n", events, reply);
    ags_string_free(reply);
    ags_string_free(events);
    ags_recorder_free(rec);
    ags_store_free(store);
    return rc;
}
