/* ags_action_buttons: get, set, clear, is_empty, delete, and changes made
 * through another handle. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <time.h>

#include "check.h"

int main(int argc, char **argv) {
    char base[512];
    join_path(base, sizeof base, scratch_dir(argc, argv), "store");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK_OK(ags_store_create(store, "{\"session_id\":\"ab\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", NULL));

    ags_action_buttons *ab = NULL;
    CHECK_OK(ags_store_action_buttons(store, "ab", &ab));
    char *s = NULL;
    CHECK_OK(ags_action_buttons_session_id(ab, &s));
    CHECK(strcmp(s, "ab") == 0);
    ags_string_free(s);
    CHECK_OK(ags_action_buttons_path(ab, &s));
    CHECK_CONTAINS(s, "/store/ab/action_buttons.json");
    char path[600];
    snprintf(path, sizeof path, "%s", s);
    ags_string_free(s);

    bool empty = false;
    CHECK_OK(ags_action_buttons_is_empty(ab, &empty));
    CHECK(empty);
    char *got = NULL;
    CHECK_OK(ags_action_buttons_get(ab, &got));
    CHECK(strcmp(got, "{\"buttons\":[],\"generated_at\":null,\"for_event_seq\":0}") == 0);
    ags_string_free(got);

    char *stored = NULL;
    CHECK_OK(ags_action_buttons_set(ab,
                                    "[{\"label\":\"Run tests\",\"response\":\"Please run the tests\"},"
                                    "{\"label\":\"Explain\",\"response\":\"Explain the change\",\"icon\":\"?\"}]",
                                    12, &stored));
    CHECK_CONTAINS(stored, "{\"buttons\":[{\"label\":\"Run tests\",\"response\":\"Please run the tests\"},");
    CHECK_CONTAINS(stored, "\"icon\":\"?\"");
    CHECK_CONTAINS(stored, "\"for_event_seq\":12");
    CHECK(strstr(stored, "\"generated_at\":\"") != NULL);
    ags_string_free(stored);

    /* Another handle on another store handle sees the same suggestions. */
    ags_store *store2 = NULL;
    ags_action_buttons *ab2 = NULL;
    CHECK_OK(ags_store_open(base, &store2));
    CHECK_OK(ags_store_action_buttons(store2, "ab", &ab2));
    CHECK_OK(ags_action_buttons_get(ab2, &got));
    CHECK(count_occurrences(got, "\"label\":") == 2);
    ags_string_free(got);
    CHECK_OK(ags_action_buttons_is_empty(ab2, &empty));
    CHECK(!empty);

    CHECK_STATUS(ags_action_buttons_set(ab, "[{\"label\":\"x\"}]", 0, NULL), AGS_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("buttons_json");
    CHECK_STATUS(ags_action_buttons_set(ab, "{", 0, NULL), AGS_INVALID_ARGUMENT);

    CHECK_OK(ags_action_buttons_clear(ab2));
    CHECK_OK(ags_action_buttons_is_empty(ab, &empty));
    CHECK(empty);
    FILE *f = fopen(path, "r");
    CHECK(f == NULL);
    CHECK_OK(ags_action_buttons_set(ab, "[]", 0, NULL));
    CHECK_OK(ags_action_buttons_delete(ab));
    CHECK_OK(ags_action_buttons_delete(ab));

    /* A file that does not parse. */
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("[not an object", f);
    fclose(f);
    /* Changes made behind the library's back are seen after a few ms. */
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    ags_action_buttons *fresh = NULL;
    CHECK_OK(ags_store_action_buttons(store2, "ab", &fresh));
    got = NULL;
    CHECK_STATUS(ags_action_buttons_get(fresh, &got), AGS_CORRUPT_DATA);
    CHECK_ERROR_MENTIONS("action_buttons.json");
    CHECK(got == NULL);
    CHECK_OK(ags_action_buttons_set(fresh, "[{\"label\":\"a\",\"response\":\"b\"}]", 0, NULL));
    CHECK_OK(ags_action_buttons_get(fresh, &got));
    CHECK_CONTAINS(got, "\"label\":\"a\"");
    ags_string_free(got);
    ags_action_buttons_free(fresh);

    ags_action_buttons *bad = NULL;
    CHECK_STATUS(ags_store_action_buttons(store, "", &bad), AGS_INVALID_ARGUMENT);
    CHECK_OK(ags_store_action_buttons(store, "absent", &bad));
    CHECK_STATUS(ags_action_buttons_set(bad, "[]", 0, NULL), AGS_SESSION_NOT_FOUND);
    ags_action_buttons_free(bad);

    ags_action_buttons_free(ab2);
    ags_store_free(store2);
    ags_action_buttons_free(ab);
    ags_store_free(store);
    printf("test_action_buttons: ok\n");
    return 0;
}
