/* ags_migrate: a store with sessions, images, a queue and follow-up
 * suggestions copied into another directory reads back the same; a second
 * copy copies nothing; bad parameters. */
#include <stdint.h>

#include "check.h"

static const uint8_t PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};

static const char *const IDS[] = {"m-one", "m-two", "m-three"};
#define SESSIONS (sizeof IDS / sizeof IDS[0])

struct progress {
    size_t calls, last_done, total;
};

static void on_progress(size_t done, size_t total, void *user_data) {
    struct progress *p = user_data;
    p->calls++;
    CHECK(done == p->last_done + 1);
    p->last_done = done;
    p->total = total;
}

/* Fills the source: three recorded sessions; the first has an image and a
 * queued message, the second follow-up suggestions. Returns the image id. */
static void fill(ags_store *store, char *image_id, size_t cap) {
    for (size_t i = 0; i < SESSIONS; i++) {
        ags_recorder *rec = NULL;
        CHECK_OK(ags_recorder_new(store, IDS[i], &rec));
        CHECK_OK(ags_recorder_start(rec, "agent", "/w", NULL, NULL));
        CHECK_OK(ags_recorder_record_user_prompt(rec, "hello", NULL, NULL));
        CHECK_OK(ags_recorder_record_agent_message(rec, "hi \xe2\x9c\x93", NULL));
        if (i == 2) CHECK_OK(ags_recorder_end(rec, "done"));
        ags_recorder_free(rec);
    }
    /* An event type this library does not know travels too. */
    CHECK_OK(ags_store_append_event(store, IDS[1], "future_type", "{\"x\":[1,2]}", NULL, NULL));

    char *info = NULL;
    CHECK_OK(ags_store_save_image(store, IDS[0], PNG, sizeof PNG, "image/png", "shot.png", &info));
    const char *p = strstr(info, "\"id\":\"");
    CHECK(p != NULL);
    p += 6;
    size_t n = strcspn(p, "\"");
    CHECK(n < cap);
    memcpy(image_id, p, n);
    image_id[n] = '\0';
    ags_string_free(info);

    ags_queue *queue = NULL;
    CHECK_OK(ags_store_queue(store, IDS[0], &queue));
    CHECK_OK(ags_queue_add(queue, "later, please", NULL, NULL, 0, NULL));
    ags_queue_free(queue);
    ags_action_buttons *buttons = NULL;
    CHECK_OK(ags_store_action_buttons(store, IDS[1], &buttons));
    CHECK_OK(ags_action_buttons_set(buttons, "[{\"label\":\"Yes\",\"response\":\"Yes, go on\"}]", 3, NULL));
    ags_action_buttons_free(buttons);
}

/* The same string from both stores. */
static void same(char *a, char *b) {
    CHECK(a != NULL && b != NULL);
    if (strcmp(a, b) != 0) {
        fprintf(stderr, "differ:\n  %s\n  %s\n", a, b);
        exit(1);
    }
    ags_string_free(a);
    ags_string_free(b);
}

static char *queue_of(const ags_store *store, const char *id) {
    ags_queue *queue = NULL;
    char *out = NULL;
    CHECK_OK(ags_store_queue(store, id, &queue));
    CHECK_OK(ags_queue_list(queue, &out));
    ags_queue_free(queue);
    return out;
}

static char *buttons_of(const ags_store *store, const char *id) {
    ags_action_buttons *buttons = NULL;
    char *out = NULL;
    CHECK_OK(ags_store_action_buttons(store, id, &buttons));
    CHECK_OK(ags_action_buttons_get(buttons, &out));
    ags_action_buttons_free(buttons);
    return out;
}

static void reads_back_equal(const ags_store *from, const ags_store *to, const char *image_id) {
    for (size_t i = 0; i < SESSIONS; i++) {
        char *a = NULL, *b = NULL;
        CHECK_OK(ags_store_metadata(from, IDS[i], &a));
        CHECK_OK(ags_store_metadata(to, IDS[i], &b));
        same(a, b);
        CHECK_OK(ags_store_events(from, IDS[i], 0, true, &a));
        CHECK_OK(ags_store_events(to, IDS[i], 0, true, &b));
        same(a, b);
        same(queue_of(from, IDS[i]), queue_of(to, IDS[i]));
        same(buttons_of(from, IDS[i]), buttons_of(to, IDS[i]));
    }
    uint8_t *data = NULL;
    size_t len = 0;
    CHECK_OK(ags_store_image_data(to, IDS[0], image_id, &data, &len));
    CHECK(len == sizeof PNG && memcmp(data, PNG, len) == 0);
    ags_bytes_free(data, len);
}

int main(int argc, char **argv) {
    const char *scratch = scratch_dir(argc, argv);
    char from_dir[512], to_dir[512];
    join_path(from_dir, sizeof from_dir, scratch, "from");
    join_path(to_dir, sizeof to_dir, scratch, "to");
    ags_store *from = NULL, *to = NULL;
    CHECK_OK(ags_store_open(from_dir, &from));
    CHECK_OK(ags_store_open(to_dir, &to));
    char image_id[64];
    fill(from, image_id, sizeof image_id);

    struct progress progress = {0, 0, 0};
    char *report = NULL;
    CHECK_OK(ags_migrate(from, to, on_progress, &progress, &report));
    CHECK(progress.calls == SESSIONS && progress.last_done == SESSIONS && progress.total == SESSIONS);
    /* Start, prompt and reply of each session, the third one's end, the unknown event. */
    CHECK_CONTAINS(report, "\"sessions\":3,\"sessions_created\":3,\"events_copied\":11,"
                           "\"images_copied\":1,\"documents_copied\":2,\"skipped\":[]");
    ags_string_free(report);
    reads_back_equal(from, to, image_id);

    /* Everything is there already: a second copy copies nothing. */
    CHECK_OK(ags_migrate(from, to, NULL, NULL, &report));
    CHECK_CONTAINS(report, "\"sessions\":3,\"sessions_created\":0,\"events_copied\":0,"
                           "\"images_copied\":0,\"documents_copied\":0,\"skipped\":[]");
    ags_string_free(report);
    reads_back_equal(from, to, image_id);

    /* What the source gains later follows on the next copy. */
    CHECK_OK(ags_store_append_event(from, IDS[0], "agent_message", "{\"text\":\"more\"}", NULL, NULL));
    CHECK_OK(ags_migrate(from, to, NULL, NULL, &report));
    CHECK_CONTAINS(report, "\"sessions_created\":0,\"events_copied\":1,");
    ags_string_free(report);
    reads_back_equal(from, to, image_id);

    CHECK_STATUS(ags_migrate(NULL, to, NULL, NULL, &report), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("from");
    CHECK_STATUS(ags_migrate(from, NULL, NULL, NULL, &report), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("to");
    CHECK_STATUS(ags_migrate(from, to, NULL, NULL, NULL), AGS_NULL_PARAMETER);
    CHECK_ERROR_MENTIONS("out_report_json");

    ags_store_free(from);
    ags_store_free(to);
    printf("test_migrate: ok\n");
    return 0;
}
