/* ags_queue: every call and error, and the file other handles see. */
#include <stdint.h>

#include "check.h"

/* Copies the value of "id" from a JSON object into `out`. */
static void json_id(const char *json, char *out, size_t cap) {
    const char *p = strstr(json, "\"id\":\"");
    CHECK(p != NULL);
    p += 6;
    size_t n = strcspn(p, "\"");
    CHECK(n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

int main(int argc, char **argv) {
    char base[512];
    join_path(base, sizeof base, scratch_dir(argc, argv), "store");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK_OK(ags_store_create(store, "{\"session_id\":\"q\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", NULL));

    ags_queue *q = NULL;
    CHECK_OK(ags_store_queue(store, "q", &q));
    char *s = NULL;
    CHECK_OK(ags_queue_session_id(q, &s));
    CHECK(strcmp(s, "q") == 0);
    ags_string_free(s);
    CHECK_OK(ags_queue_path(q, &s));
    CHECK_CONTAINS(s, "/store/q/queue.json");
    ags_string_free(s);

    size_t len = 99;
    bool empty = false;
    CHECK_OK(ags_queue_len(q, &len));
    CHECK(len == 0);
    CHECK_OK(ags_queue_is_empty(q, &empty));
    CHECK(empty);
    char *msg = NULL;
    CHECK_STATUS(ags_queue_pop(q, &msg), AGS_QUEUE_EMPTY);
    CHECK(msg == NULL);

    CHECK_OK(ags_queue_add(q, "first", NULL, NULL, AGS_QUEUE_DEFAULT_MAX_SIZE, &msg));
    CHECK_CONTAINS(msg, "\"id\":\"q-");
    CHECK_CONTAINS(msg, "\"message\":\"first\"");
    CHECK_CONTAINS(msg, "\"queued_at\":\"");
    CHECK(strstr(msg, "image_ids") == NULL && strstr(msg, "client_id") == NULL);
    char first[64];
    json_id(msg, first, sizeof first);
    ags_string_free(msg);
    CHECK_OK(ags_queue_add(q, "second", "[\"img_001_abcdef01.png\"]", "web-1", 0, &msg));
    CHECK_CONTAINS(msg, "\"image_ids\":[\"img_001_abcdef01.png\"]");
    CHECK_CONTAINS(msg, "\"client_id\":\"web-1\"");
    char second[64];
    json_id(msg, second, sizeof second);
    ags_string_free(msg);
    msg = NULL;
    CHECK_OK(ags_queue_add(q, "third", "[]", NULL, 3, NULL));
    CHECK_STATUS(ags_queue_add(q, "fourth", NULL, NULL, 3, &msg), AGS_QUEUE_FULL);
    CHECK_STATUS(ags_queue_add(q, "bad image", "[\"../x\"]", NULL, 0, &msg), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_queue_add(q, "bad json", "[1]", NULL, 0, &msg), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("image_ids_json");
    CHECK(msg == NULL);

    /* Another handle (from another store handle) sees the same queue. */
    ags_store *store2 = NULL;
    ags_queue *q2 = NULL;
    CHECK_OK(ags_store_open(base, &store2));
    CHECK_OK(ags_store_queue(store2, "q", &q2));
    CHECK_OK(ags_queue_len(q2, &len));
    CHECK(len == 3);

    char *list = NULL;
    CHECK_OK(ags_queue_list(q2, &list));
    CHECK(strstr(list, "\"first\"") < strstr(list, "\"second\"") &&
          strstr(list, "\"second\"") < strstr(list, "\"third\""));
    ags_string_free(list);

    CHECK_OK(ags_queue_get(q, second, &msg));
    CHECK_CONTAINS(msg, "\"message\":\"second\"");
    ags_string_free(msg);
    CHECK_STATUS(ags_queue_get(q, "q-1-deadbeef", &msg), AGS_MESSAGE_NOT_FOUND);
    CHECK_ERROR_MENTIONS("q-1-deadbeef");

    CHECK_OK(ags_queue_update_title(q, second, "Second title", &msg));
    CHECK_CONTAINS(msg, "\"title\":\"Second title\"");
    ags_string_free(msg);
    CHECK_OK(ags_queue_update_title(q, second, "", NULL));
    CHECK_OK(ags_queue_get(q2, second, &msg));
    CHECK(strstr(msg, "title") == NULL);
    ags_string_free(msg);
    CHECK_STATUS(ags_queue_update_title(q, "q-1-00000000", "t", NULL), AGS_MESSAGE_NOT_FOUND);

    CHECK_OK(ags_queue_move(q, second, "up", &list));
    CHECK(strstr(list, "\"second\"") < strstr(list, "\"first\""));
    ags_string_free(list);
    CHECK_OK(ags_queue_move(q, second, "up", NULL)); /* already at the front */
    CHECK_OK(ags_queue_move(q, second, "down", NULL));
    CHECK_STATUS(ags_queue_move(q, second, "sideways", &list), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("sideways");
    CHECK_STATUS(ags_queue_move(q, "q-1-00000000", "up", &list), AGS_MESSAGE_NOT_FOUND);

    CHECK_OK(ags_queue_pop(q, &msg));
    CHECK_CONTAINS(msg, first);
    ags_string_free(msg);
    CHECK_OK(ags_queue_remove(q, second, &msg));
    CHECK_CONTAINS(msg, "\"message\":\"second\"");
    ags_string_free(msg);
    CHECK_STATUS(ags_queue_remove(q, second, NULL), AGS_MESSAGE_NOT_FOUND);
    CHECK_OK(ags_queue_len(q, &len));
    CHECK(len == 1);
    CHECK_OK(ags_queue_clear(q));
    CHECK_OK(ags_queue_is_empty(q2, &empty));
    CHECK(empty);

    /* A corrupt file fails every call but delete. */
    CHECK_OK(ags_queue_path(q, &s));
    FILE *f = fopen(s, "w");
    CHECK(f != NULL);
    fputs("{\"messages\": [", f);
    fclose(f);
    CHECK_STATUS(ags_queue_len(q, &len), AGS_CORRUPT_DATA);
    CHECK_ERROR_MENTIONS("queue.json");
    CHECK_STATUS(ags_queue_add(q, "x", NULL, NULL, 0, NULL), AGS_CORRUPT_DATA);
    CHECK_OK(ags_queue_delete(q));
    CHECK_OK(ags_queue_delete(q));
    f = fopen(s, "r");
    CHECK(f == NULL);
    ags_string_free(s);
    CHECK_OK(ags_queue_len(q, &len));
    CHECK(len == 0);

    /* Bad and missing sessions. */
    ags_queue *bad = NULL;
    CHECK_STATUS(ags_store_queue(store, "../q", &bad), AGS_INVALID_ARGUMENT);
    CHECK_OK(ags_store_queue(store, "absent", &bad));
    CHECK_STATUS(ags_queue_len(bad, &len), AGS_SESSION_NOT_FOUND);
    CHECK_STATUS(ags_queue_add(bad, "x", NULL, NULL, 0, NULL), AGS_SESSION_NOT_FOUND);
    ags_queue_free(bad);

    ags_queue_free(q2);
    ags_store_free(store2);
    ags_queue_free(q);
    ags_store_free(store);
    printf("test_queue: ok\n");
    return 0;
}
