/* Time of ags_store_append_event in the default mode (metadata consistent
 * after every append), 200-byte events: the C face's cost over the core's.
 * Usage: c_append STORE_DIR N ; prints the best-of-3 µs per append. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentsession.h"

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s STORE_DIR N\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[2]);
    ags_store *store = NULL;
    if (ags_store_open(argv[1], &store) != AGS_OK) {
        fprintf(stderr, "open: %s\n", ags_last_error());
        return 1;
    }
    char data[256];
    char text[100];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    snprintf(data, sizeof data, "{\"text\":\"%s\"}", text);
    double best = 1e300;
    for (int round = 0; round < 3; round++) {
        char opts[128];
        snprintf(opts, sizeof opts, "{\"session_id\":\"c%d\",\"acp_server\":\"bench\",\"working_dir\":\"/bench\"}", round);
        char *meta = NULL;
        if (ags_store_create(store, opts, &meta) != AGS_OK) {
            fprintf(stderr, "create: %s\n", ags_last_error());
            return 1;
        }
        ags_string_free(meta);
        char id[16];
        snprintf(id, sizeof id, "c%d", round);
        double t0 = now_us();
        for (int i = 0; i < n; i++) {
            uint64_t seq;
            if (ags_store_append_event(store, id, "agent_message", data, NULL, &seq) != AGS_OK) {
                fprintf(stderr, "append: %s\n", ags_last_error());
                return 1;
            }
        }
        double per = (now_us() - t0) / n;
        if (per < best) best = per;
    }
    printf("%.3f\n", best);
    ags_store_free(store);
    return 0;
}
