/* Images and pruning through ags_store. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <time.h>

#include "check.h"

static const uint8_t PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
static const uint8_t GIF[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0};

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
    CHECK_OK(ags_store_create(store, "{\"session_id\":\"img\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", NULL));

    char *info = NULL;
    CHECK_OK(ags_store_save_image(store, "img", PNG, sizeof PNG, "image/png", "shot.png", &info));
    CHECK_CONTAINS(info, "\"name\":\"shot.png\"");
    CHECK_CONTAINS(info, "\"mime_type\":\"image/png\"");
    CHECK_CONTAINS(info, "\"size\":16");
    CHECK_CONTAINS(info, "\"id\":\"img_001_");
    char png_id[64];
    json_id(info, png_id, sizeof png_id);
    ags_string_free(info);
    /* The bytes decide when no type is declared. */
    CHECK_OK(ags_store_save_image(store, "img", GIF, sizeof GIF, NULL, NULL, &info));
    CHECK_CONTAINS(info, "\"mime_type\":\"image/gif\"");
    char gif_id[64];
    json_id(info, gif_id, sizeof gif_id);
    ags_string_free(info);

    CHECK_STATUS(ags_store_save_image(store, "img", PNG, sizeof PNG, "text/plain", NULL, NULL),
                 AGS_UNSUPPORTED_IMAGE_FORMAT);
    CHECK_STATUS(ags_store_save_image(store, "img", (const uint8_t *)"hello", 5, NULL, NULL, NULL),
                 AGS_UNSUPPORTED_IMAGE_FORMAT);
    size_t big_len = 10 * 1024 * 1024 + 1;
    uint8_t *big = calloc(big_len, 1);
    CHECK(big != NULL);
    memcpy(big, PNG, sizeof PNG);
    CHECK_STATUS(ags_store_save_image(store, "img", big, big_len, "image/png", NULL, NULL),
                 AGS_IMAGE_TOO_LARGE);
    free(big);
    CHECK_STATUS(ags_store_save_image(store, "img", NULL, 4, NULL, NULL, NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_save_image(store, "nope", PNG, sizeof PNG, NULL, NULL, NULL),
                 AGS_SESSION_NOT_FOUND);

    char *path = NULL;
    CHECK_OK(ags_store_image_path(store, "img", png_id, &path));
    CHECK_CONTAINS(path, "/store/img/images/img_001_");
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    fclose(f);
    ags_string_free(path);
    CHECK_STATUS(ags_store_image_path(store, "img", "img_999_00000000.png", &path), AGS_IMAGE_NOT_FOUND);

    uint8_t *data = NULL;
    size_t data_len = 0;
    CHECK_OK(ags_store_image_data(store, "img", png_id, &data, &data_len));
    CHECK(data_len == sizeof PNG && memcmp(data, PNG, sizeof PNG) == 0);
    ags_bytes_free(data, data_len);
    ags_bytes_free(NULL, 0);
    CHECK_STATUS(ags_store_image_data(store, "img", "img_999_00000000.png", &data, &data_len),
                 AGS_IMAGE_NOT_FOUND);
    CHECK_STATUS(ags_store_image_data(store, "img", png_id, NULL, &data_len), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_store_image_data(store, "img", png_id, &data, NULL), AGS_NULL_PARAMETER);

    char *location = NULL;
    CHECK_OK(ags_store_location(store, &location));
    CHECK_CONTAINS(location, "/store");
    ags_string_free(location);
    CHECK_STATUS(ags_store_image_path(store, "img", "../metadata.json", &path), AGS_INVALID_ARGUMENT);

    char *list = NULL;
    CHECK_OK(ags_store_list_images(store, "img", &list));
    CHECK(count_occurrences(list, "\"id\":") == 2);
    ags_string_free(list);
    CHECK_OK(ags_store_delete_image(store, "img", gif_id));
    CHECK_STATUS(ags_store_delete_image(store, "img", gif_id), AGS_IMAGE_NOT_FOUND);
    CHECK_OK(ags_store_list_images(store, "img", &list));
    CHECK(count_occurrences(list, "\"id\":") == 1);
    ags_string_free(list);

    /* Cleanup keeps images of recently updated sessions, removes old ones otherwise. */
    size_t removed = 99;
    CHECK_OK(ags_store_cleanup_old_images(store, 0, 3600, &removed));
    CHECK(removed == 0);
    CHECK_STATUS(ags_store_cleanup_old_images(store, -1, 0, &removed), AGS_INVALID_ARGUMENT);
    CHECK(removed == 0);

    /* A prompt referring to the PNG, then prune it away with its image. */
    char images_json[200];
    snprintf(images_json, sizeof images_json, "[{\"id\":\"%s\",\"mime_type\":\"image/png\"}]", png_id);
    ags_recorder *rec = NULL;
    CHECK_OK(ags_recorder_new(store, "img", &rec));
    CHECK_OK(ags_recorder_resume(rec, NULL));
    CHECK_OK(ags_recorder_record_user_prompt(rec, "look", images_json, NULL));
    for (int i = 0; i < 5; i++) CHECK_OK(ags_recorder_record_agent_message(rec, "ok", NULL));
    ags_recorder_free(rec);

    char *result = NULL;
    CHECK_OK(ags_store_prune_if_needed(store, "img", 100, 0, &result));
    CHECK(strcmp(result, "null") == 0);
    ags_string_free(result);
    CHECK_OK(ags_store_prune_if_needed(store, "img", 3, 0, &result));
    CHECK_CONTAINS(result, "\"events_removed\":3");
    CHECK_CONTAINS(result, "\"images_removed\":1");
    ags_string_free(result);
    char *events = NULL;
    CHECK_OK(ags_store_events(store, "img", 0, true, &events));
    CHECK(count_occurrences(events, "\"seq\":") == 3);
    CHECK_CONTAINS(events, "{\"seq\":1,");
    ags_string_free(events);
    CHECK_OK(ags_store_list_images(store, "img", &list));
    CHECK(strcmp(list, "[]") == 0);
    ags_string_free(list);

    /* With the session idle long enough (preserve 0 s), old images go. */
    CHECK_OK(ags_store_save_image(store, "img", GIF, sizeof GIF, NULL, NULL, NULL));
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK_OK(ags_store_cleanup_old_images(store, 0, 0, &removed));
    CHECK(removed == 1);

    ags_store_free(store);
    printf("test_images: ok\n");
    return 0;
}
