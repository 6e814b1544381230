/* The lock race between processes, driven from C: each round forks
 * CHILDREN processes that wait at a barrier (a pipe the parent closes) and
 * then all try to acquire the same session; exactly one must win. The
 * winner holds the lock until every loser has answered, then releases it. */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 3
#define CHILDREN 6

/* One contender: waits for the start, tries, reports W (won), L (locked)
 * or E (anything else), and if it won holds the lock until told. */
static void contend(const char *base, int go, int results, int release) {
    char byte;
    ags_store *store = NULL;
    ags_lock *lock = NULL;
    char verdict = 'E';
    if (ags_store_open(base, &store) == AGS_OK) {
        if (read(go, &byte, 1) != 0) _exit(2); /* the barrier: EOF for everyone at once */
        ags_status s = ags_store_try_acquire_lock(store, "race", "contender", &lock);
        verdict = s == AGS_OK ? 'W' : s == AGS_SESSION_LOCKED ? 'L' : 'E';
    }
    if (write(results, &verdict, 1) != 1) _exit(2);
    if (verdict == 'W') {
        if (read(release, &byte, 1) != 0) _exit(2);
        ags_lock_free(lock);
    }
    ags_store_free(store);
    ags_shutdown();
    _exit(0);
}

int main(int argc, char **argv) {
    char base[512];
    join_path(base, sizeof base, scratch_dir(argc, argv), "store");
    ags_store *store = NULL;
    CHECK_OK(ags_store_open(base, &store));
    CHECK_OK(ags_store_create(store, "{\"session_id\":\"race\",\"acp_server\":\"a\",\"working_dir\":\"/w\"}", NULL));

    for (int round = 0; round < ROUNDS; round++) {
        int go[2], results[2], release[2];
        CHECK(pipe(go) == 0 && pipe(results) == 0 && pipe(release) == 0);
        pid_t pids[CHILDREN];
        for (int i = 0; i < CHILDREN; i++) {
            pids[i] = fork();
            CHECK(pids[i] >= 0);
            if (pids[i] == 0) {
                close(go[1]);
                close(results[0]);
                close(release[1]);
                contend(base, go[0], results[1], release[0]);
            }
        }
        close(go[0]);
        close(results[1]);
        close(release[0]);
        close(go[1]); /* start */

        int won = 0, lost = 0, other = 0;
        for (int got = 0; got < CHILDREN;) {
            struct pollfd p = {results[0], POLLIN, 0};
            CHECK(poll(&p, 1, 60000) == 1);
            char verdicts[CHILDREN];
            ssize_t n = read(results[0], verdicts, sizeof verdicts);
            CHECK(n > 0);
            for (ssize_t k = 0; k < n; k++) {
                won += verdicts[k] == 'W';
                lost += verdicts[k] == 'L';
                other += verdicts[k] == 'E';
            }
            got += (int)n;
        }
        /* Everyone has tried while the winner still holds the lock. */
        bool locked = false;
        CHECK_OK(ags_store_is_locked(store, "race", &locked));
        CHECK(locked);
        close(release[1]);
        close(results[0]);
        for (int i = 0; i < CHILDREN; i++) {
            int status = 0;
            CHECK(waitpid(pids[i], &status, 0) == pids[i]);
        }
        printf("round %d: %d won, %d locked out, %d failed\n", round + 1, won, lost, other);
        CHECK(won == 1 && lost == CHILDREN - 1 && other == 0);
        CHECK_OK(ags_store_is_locked(store, "race", &locked));
        CHECK(!locked);
    }
    ags_store_free(store);
    printf("test_lock_race: ok\n");
    return 0;
}
