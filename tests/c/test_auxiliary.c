/* The auxiliary session from C: argument and state errors and the SIGPIPE
 * disposition always; with a real ACP agent (the Python test peer, named by
 * $AGS_TEST_PEER) prompts, titles, improvement, follow-ups, queued-message
 * titles, a crash and shutdown. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "check.h"

static void errors_without_agent(void) {
    char *out = NULL;
    CHECK_STATUS(ags_auxiliary_prompt("hello", 5, &out), AGS_AUXILIARY_NOT_INITIALIZED);
    CHECK_STATUS(ags_auxiliary_generate_title("hello", &out), AGS_AUXILIARY_NOT_INITIALIZED);
    CHECK(out == NULL);
    CHECK_STATUS(ags_auxiliary_initialize("", NULL), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_auxiliary_initialize("agent 'unclosed", NULL), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_auxiliary_initialize("agent", "/nonexistent/dir"), AGS_IO);
    CHECK_STATUS(ags_auxiliary_initialize(NULL, NULL), AGS_NULL_PARAMETER);
    CHECK_STATUS(ags_auxiliary_set_default_timeout(0), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_auxiliary_set_default_timeout(-1), AGS_INVALID_ARGUMENT);
    CHECK_STATUS(ags_auxiliary_set_default_timeout(NAN), AGS_INVALID_ARGUMENT);
    double timeout = 0;
    CHECK_OK(ags_auxiliary_default_timeout(&timeout));
    CHECK(timeout == 30.0);

    bool started = true;
    uint32_t pid = 1;
    CHECK_OK(ags_auxiliary_is_started(&started));
    CHECK_OK(ags_auxiliary_pid(&pid));
    CHECK(!started && pid == 0);

    CHECK_OK(ags_auxiliary_initialize("/nonexistent/agent --acp", "/"));
    /* Under valgrind, posix_spawn cannot report the failed exec: the child
     * exits with status 127 instead, which the session reports as such. */
    ags_status missing = ags_auxiliary_prompt("hello", 5, &out);
    CHECK(ags_last_error() != NULL);
    if (getenv("AGS_TEST_UNDER_VALGRIND") != NULL && missing == AGS_AUXILIARY_EXITED) {
        CHECK_ERROR_MENTIONS("exit status: 127");
    } else {
        CHECK(missing == AGS_AUXILIARY_START_FAILED);
        CHECK_ERROR_MENTIONS("/nonexistent/agent");
    }
    CHECK_STATUS(ags_auxiliary_prompt("hello", 0, &out), AGS_INVALID_ARGUMENT);
    CHECK(out == NULL);
    CHECK_OK(ags_auxiliary_shutdown());
    CHECK_OK(ags_auxiliary_shutdown());
}

static void on_sigpipe(int sig) {
    (void)sig;
}

/* SIGPIPE's handler now. */
static void (*sigpipe_handler(void))(int) {
    struct sigaction now;
    CHECK(sigaction(SIGPIPE, NULL, &now) == 0);
    return now.sa_handler;
}

static void set_sigpipe(void (*handler)(int)) {
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    CHECK(sigaction(SIGPIPE, &act, NULL) == 0);
}

/* Initializing sets SIGPIPE from "terminate" to "ignore" (an agent that
 * exits early must not kill the host) and leaves a host's handler alone. */
static void sigpipe_disposition(void) {
    set_sigpipe(on_sigpipe);
    CHECK_OK(ags_auxiliary_initialize("agent", NULL));
    CHECK(sigpipe_handler() == on_sigpipe);
    set_sigpipe(SIG_DFL);
    CHECK_OK(ags_auxiliary_initialize("agent", NULL));
    CHECK(sigpipe_handler() == SIG_IGN);
    CHECK_OK(ags_auxiliary_shutdown());
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* What the update observer saw (it runs on the library's reader thread). */
struct seen {
    pthread_mutex_t lock;
    int chunks;
};

static void observe(const char *notification_json, void *user_data) {
    struct seen *seen = user_data;
    pthread_mutex_lock(&seen->lock);
    if (strstr(notification_json, "\"sessionUpdate\":\"agent_message_chunk\"") != NULL) seen->chunks++;
    pthread_mutex_unlock(&seen->lock);
}

static void with_agent(const char *peer, const char *dir) {
    CHECK_OK(ags_auxiliary_initialize(peer, dir));
    struct seen seen = {PTHREAD_MUTEX_INITIALIZER, 0};
    CHECK_OK(ags_auxiliary_set_update_observer(observe, &seen));
    CHECK_OK(ags_auxiliary_set_default_timeout(20));
    char *out = NULL;
    CHECK_OK(ags_auxiliary_prompt("@@reply:hello from the peer@@", 20, &out));
    CHECK(strcmp(out, "hello from the peer") == 0);
    ags_string_free(out);
    /* The peer sends every reply as at least two chunks, all seen by now. */
    pthread_mutex_lock(&seen.lock);
    CHECK(seen.chunks >= 2);
    pthread_mutex_unlock(&seen.lock);
    CHECK_OK(ags_auxiliary_set_update_observer(NULL, NULL));
    bool started = false;
    uint32_t pid = 0;
    CHECK_OK(ags_auxiliary_is_started(&started));
    CHECK_OK(ags_auxiliary_pid(&pid));
    CHECK(started && pid > 0);

    CHECK_OK(ags_auxiliary_generate_title("Title: \"fix the flaky parser tests please\"", &out));
    CHECK(strlen(out) > 0 && strlen(out) <= 50);
    ags_string_free(out);
    CHECK_OK(ags_auxiliary_generate_queued_message_title("@@reply:Run the tests@@", &out));
    CHECK(strcmp(out, "Run the tests") == 0);
    ags_string_free(out);
    CHECK_OK(ags_auxiliary_improve_prompt("@@reply:Add tests for the parser.@@ fix parser", &out));
    CHECK(strcmp(out, "Add tests for the parser.") == 0);
    ags_string_free(out);
    CHECK_OK(ags_auxiliary_analyze_follow_up_questions(
        "@@reply:Sure: [{\"label\": \"Yes\", \"value\": \"Yes, run them\"}, {\"label\": \"\", \"value\": \"x\"}]@@",
        &out));
    CHECK(strcmp(out, "[{\"label\":\"Yes\",\"value\":\"Yes, run them\"}]") == 0);
    ags_string_free(out);
    CHECK_OK(ags_auxiliary_analyze_follow_up_questions("@@reply:no suggestions here@@", &out));
    CHECK(strcmp(out, "[]") == 0);
    ags_string_free(out);

    /* The background worker titles a queued message. */
    char base[512];
    join_path(base, sizeof base, dir, "store");
    ags_store *store = NULL;
    ags_queue *queue = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK_OK(ags_store_create(store, "{\"session_id\":\"q\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", NULL));
    CHECK_OK(ags_store_queue(store, "q", &queue));
    char *msg = NULL;
    CHECK_OK(ags_queue_add(queue, "@@reply:Queued title@@", NULL, NULL, 0, &msg));
    const char *at = strstr(msg, "\"id\":\"") + 6;
    char id[64];
    size_t n = strcspn(at, "\"");
    CHECK(n < sizeof id);
    memcpy(id, at, n);
    id[n] = '\0';
    ags_string_free(msg);
    bool taken = false;
    CHECK_OK(ags_auxiliary_request_queued_message_title(queue, id, &taken));
    CHECK(taken);
    bool titled = false;
    for (int i = 0; i < 400 && !titled; i++) {
        CHECK_OK(ags_queue_get(queue, id, &msg));
        titled = strstr(msg, "\"title\":\"Queued title\"") != NULL;
        ags_string_free(msg);
        if (!titled) sleep_ms(50);
    }
    CHECK(titled);
    ags_queue_free(queue);
    ags_store_free(store);

    /* A crash is reported with the agent's words; the next request restarts it. */
    CHECK_STATUS(ags_auxiliary_prompt("@@crash@@", 20, &out), AGS_AUXILIARY_EXITED);
    CHECK_ERROR_MENTIONS("peer crashing on purpose");
    CHECK_OK(ags_auxiliary_prompt("@@count@@", 20, &out));
    CHECK(strcmp(out, "1") == 0);
    ags_string_free(out);

    CHECK_OK(ags_auxiliary_shutdown());
    CHECK_OK(ags_auxiliary_is_started(&started));
    CHECK(!started);
    CHECK_STATUS(ags_auxiliary_prompt("hello", 5, &out), AGS_AUXILIARY_NOT_INITIALIZED);
}

int main(int argc, char **argv) {
    const char *dir = scratch_dir(argc, argv);
    errors_without_agent();
    sigpipe_disposition();
    const char *peer = getenv("AGS_TEST_PEER");
    if (peer != NULL && peer[0] != '\0') {
        with_agent(peer, dir);
        printf("test_auxiliary: ok\n");
    } else {
        printf("test_auxiliary: ok (without an agent: AGS_TEST_PEER is not set)\n");
    }
    return 0;
}
