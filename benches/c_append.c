/* One round of ags_store_append_event in the default mode (metadata
 * consistent after every append), 200-byte events, for benches/faces.rs.
 * Usage: c_append STORE_DIR SESSION_ID N DATA_JSON
 * Creates the session, appends once untimed, then times N appends of
 * DATA_JSON and prints the µs per append. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "agentsession.h"

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int append(ags_store *store, const char *id, const char *data) {
    uint64_t seq;
    if (ags_store_append_event(store, id, "agent_message", data, NULL, &seq) != AGS_OK) {
        fprintf(stderr, "append: %s\n", ags_last_error());
        return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s STORE_DIR SESSION_ID N DATA_JSON\n", argv[0]);
        return 2;
    }
    const char *id = argv[2], *data = argv[4];
    int n = atoi(argv[3]);
    ags_store *store = NULL;
    if (ags_store_open(argv[1], &store) != AGS_OK) {
        fprintf(stderr, "open: %s\n", ags_last_error());
        return 1;
    }
    char opts[256];
    snprintf(opts, sizeof opts, "{\"session_id\":\"%s\",\"acp_server\":\"bench\",\"working_dir\":\"/bench\"}", id);
    char *meta = NULL;
    if (ags_store_create(store, opts, &meta) != AGS_OK) {
        fprintf(stderr, "create: %s\n", ags_last_error());
        return 1;
    }
    ags_string_free(meta);
    if (!append(store, id, data)) return 1;
    double t0 = now_us();
    for (int i = 0; i < n; i++)
        if (!append(store, id, data)) return 1;
    printf("%.3f\n", (now_us() - t0) / n);
    ags_store_free(store);
    return 0;
}
