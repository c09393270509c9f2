/*
 * Open finding 9 (Tests/fuzz/README.md): two crash reports at once on two
 * threads trap the process (Swift arithmetic overflow in
 * CrashReports.report, Sources/Swerl/Core/CrashReports.swift: `now` is read
 * before the window's lock, so a thread whose clock reading is older than
 * the window another thread just opened computes now - window.start < 0).
 *
 * Each round starts a runtime with two schedulers and a log hook, and
 * spawns processes whose init fails (each an unsupervised crash: a report)
 * from two threads at once; the first reports of a runtime open its window,
 * so every round has a chance. Expected: "ok" after all rounds. Seen: the
 * process dies of SIGILL, "Swift runtime failure: arithmetic overflow" at
 * CrashReports.swift:26 (gdb's backtrace).
 *
 * Against the ASan build (Tests/sanitizers/build-asan-lib.sh build/asan), with
 * the toolchain's clang, it traps within the first rounds:
 *
 *   $(dirname $(readlink -f $(which swift)))/clang -fsanitize=address -fuse-ld=lld -std=c99 -O1 -pthread \
 *      -I include Tests/fuzz/open-findings/finding-9-crash-report-race.c -L build/asan/lib -lswerl \
 *      -Wl,-rpath,build/asan/lib -o /tmp/finding-9 && /tmp/finding-9
 *
 * Against the release library (build/lib) the window is narrower: 20,000
 * rounds did not trap on this VM; the race is the same.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <swerl.h>

enum { ROUNDS = 5000, PER_THREAD = 4 };

static int init_fails(swerl_ctx *ctx, void *arg, void **state)
{
    (void)ctx;
    (void)arg;
    (void)state;
    return 1;
}

static int handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)m;
    (void)state;
    return SWERL_CONTINUE;
}

static const swerl_behavior failing = {sizeof(swerl_behavior), init_fails, handle, NULL};

static void on_log(void *user, int level, const char *message, size_t len)
{
    (void)user;
    (void)level;
    (void)message;
    (void)len;
}

static void *spawner(void *arg)
{
    swerl_runtime *rt = (swerl_runtime *)arg;
    swerl_pid pid;
    int i;
    for (i = 0; i < PER_THREAD; i++) swerl_spawn(rt, &failing, NULL, NULL, &pid);
    return NULL;
}

int main(void)
{
    int round;
    for (round = 0; round < ROUNDS; round++) {
        swerl_config cfg;
        swerl_runtime *rt = NULL;
        pthread_t a, b;
        swerl_config_init(&cfg);
        cfg.schedulers = 2;
        cfg.on_log = on_log;
        if (swerl_runtime_start(&cfg, &rt) != 0) {
            fprintf(stderr, "swerl_runtime_start failed\n");
            return 2;
        }
        pthread_create(&a, NULL, spawner, rt);
        pthread_create(&b, NULL, spawner, rt);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        swerl_runtime_free(rt);
    }
    printf("ok: %d rounds, no trap\n", ROUNDS);
    return 0;
}
