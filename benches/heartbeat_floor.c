/* The floor of a heartbeat: the system calls one heartbeat of a held lock
 * makes (src/lock.rs, Held::beat), with no work between them, for every one
 * of DIRS session directories. Usage: heartbeat_floor BASE DIRS PASSES
 * Creates BASE/d00000... each with a .lock of a lock file's size, then per
 * pass and directory: open the directory; openat .lock.guard (O_CREAT) and
 * flock it; openat .lock, read it, close; openat .lock.next (O_CREAT),
 * pwrite the new content, close; renameat2(RENAME_EXCHANGE) .lock.next with
 * .lock; close the guard and the directory. Each pass takes a second, in
 * 100 groups 10 ms apart, as the heartbeat scheduler of DIRS locks at a 1 s
 * interval spreads its work (a tight loop would run warmer caches than a
 * heartbeat does). A first pass, untimed, creates the guard and .lock.next
 * files (as a lock's acquisition does). Prints the CPU µs (user + system)
 * per heartbeat of the timed passes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void must(int ok, const char *what) {
    if (!ok) {
        perror(what);
        exit(1);
    }
}

static double clock_us(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static double cpu_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s BASE DIRS PASSES\n", argv[0]);
        return 2;
    }
    int dirs = atoi(argv[2]), passes = atoi(argv[3]);
    char path[4096], lock[280], buf[1024];
    /* A lock file's size: the JSON of a lock (pid, host, instance, times, status). */
    memset(lock, ' ', sizeof lock);
    lock[0] = '{';
    lock[sizeof lock - 1] = '}';
    for (int i = 0; i < dirs; i++) {
        snprintf(path, sizeof path, "%s/d%05d", argv[1], i);
        must(mkdir(path, 0700) == 0, "mkdir");
        snprintf(path, sizeof path, "%s/d%05d/.lock", argv[1], i);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        must(fd >= 0 && write(fd, lock, sizeof lock) == (ssize_t)sizeof lock, "create .lock");
        close(fd);
    }
    double t0 = 0, start = clock_us(CLOCK_MONOTONIC);
    const int groups = 100;
    for (int p = 0; p <= passes; p++) {
        if (p == 1) t0 = cpu_us();
        for (int i = 0; i < dirs; i++) {
            if (i % ((dirs + groups - 1) / groups) == 0) {
                /* Sleep until this group's 10 ms slot. */
                start += 1e4;
                double wait = start - clock_us(CLOCK_MONOTONIC);
                if (wait > 0) usleep((useconds_t)wait);
            }
            snprintf(path, sizeof path, "%s/d%05d", argv[1], i);
            int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            must(dir >= 0, "open dir");
            int guard = openat(dir, ".lock.guard", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
            must(guard >= 0 && flock(guard, LOCK_EX) == 0, "guard");
            int cur = openat(dir, ".lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            must(cur >= 0 && read(cur, buf, sizeof buf) == (ssize_t)sizeof lock, "read .lock");
            close(cur);
            int next = openat(dir, ".lock.next", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
            must(next >= 0 && pwrite(next, lock, sizeof lock, 0) == (ssize_t)sizeof lock, "write .lock.next");
            close(next);
            must(renameat2(dir, ".lock.next", dir, ".lock", RENAME_EXCHANGE) == 0, "exchange");
            close(guard);
            close(dir);
        }
    }
    printf("%.3f\n", (cpu_us() - t0) / ((double)dirs * passes));
    return 0;
}
