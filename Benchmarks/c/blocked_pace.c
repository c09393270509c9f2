/*
 * blocked_pace: does a ping-pong and a 10 ms timer keep their pace while
 * another process sleeps for 2 s in its handler? (issue 11's measure)
 *
 *     blocked_pace [schedulers] [seconds]
 *
 * For each case, one runtime with `schedulers` threads (default 1: the
 * sleeper shares the one scheduler), a ping-pong pair bouncing a message and
 * a ticker re-arming a 10 ms timer, measured for `seconds` (default 2):
 *   idle      nothing else runs (the baseline);
 *   sleeper   a third process calls sleep() in its handler for the whole window;
 *   blocking  the same sleeper, spawned as a blocking process (since 1.2).
 * Prints, per case, round trips per second, timer ticks and the longest gap
 * between two ticks, and each case's round-trip rate as a ratio of idle's.
 */
#define _GNU_SOURCE
#include <swerl.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static atomic_long g_trips;
static atomic_long g_ticks;
static atomic_int g_measuring;
static double g_last_tick, g_max_gap;   /* written by the ticker only */
static unsigned g_sleep_ms;

static int h_bounce(swerl_ctx *ctx, const swerl_message *msg, void *counting)
{
    swerl_pid peer = msg->from;
    if (msg->len == 8) memcpy(&peer, msg->data, 8);
    if (counting && atomic_load(&g_measuring)) atomic_fetch_add(&g_trips, 1);
    swerl_send(swerl_ctx_runtime(ctx), peer, "b", 1);
    return SWERL_CONTINUE;
}

static int h_tick(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    swerl_ref ref;
    double now = now_ms();
    (void)msg; (void)state;
    if (atomic_load(&g_measuring)) {
        if (g_last_tick > 0 && now - g_last_tick > g_max_gap) g_max_gap = now - g_last_tick;
        g_last_tick = now;
        atomic_fetch_add(&g_ticks, 1);
    }
    swerl_send_after(swerl_ctx_runtime(ctx), swerl_self(ctx), 10, "t", 1, &ref);
    return SWERL_CONTINUE;
}

static int h_sleep(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx; (void)msg; (void)state;
    usleep(g_sleep_ms * 1000u);
    return SWERL_CONTINUE;
}

static void run_case(const char *name, uint32_t schedulers, unsigned seconds, int sleeper_flags,
                     int with_sleeper, double *idle_rate)
{
    static const swerl_behavior bounce = { sizeof(swerl_behavior), NULL, h_bounce, NULL };
    static const swerl_behavior tick = { sizeof(swerl_behavior), NULL, h_tick, NULL };
    static const swerl_behavior sleep_b = { sizeof(swerl_behavior), NULL, h_sleep, NULL };
    static int counting = 1;
    swerl_config cfg;
    swerl_runtime *rt;
    swerl_spawn_opts opts;
    swerl_pid ping, pong, ticker, sleeper;
    double start, took, rate;
    swerl_config_init(&cfg);
    cfg.schedulers = schedulers;
    if (swerl_runtime_start(&cfg, &rt) != 0) { fprintf(stderr, "runtime_start failed\n"); exit(1); }
    swerl_spawn(rt, &bounce, &counting, NULL, &ping);
    swerl_spawn(rt, &bounce, NULL, NULL, &pong);
    swerl_spawn(rt, &tick, NULL, NULL, &ticker);
    swerl_send(rt, ping, &pong, 8);
    swerl_send(rt, ticker, "t", 1);
    usleep(100000);                                   /* warm up */
    atomic_store(&g_trips, 0);
    atomic_store(&g_ticks, 0);
    g_last_tick = 0;
    g_max_gap = 0;
    g_sleep_ms = seconds * 1000u;
    atomic_store(&g_measuring, 1);
    start = now_ms();
    if (with_sleeper) {
        swerl_spawn_opts_init(&opts);
        opts.flags = (uint32_t)sleeper_flags;
        swerl_spawn(rt, &sleep_b, NULL, &opts, &sleeper);
        swerl_send(rt, sleeper, "sleep", 5);
    }
    usleep(seconds * 1000000u);
    atomic_store(&g_measuring, 0);
    took = now_ms() - start;
    rate = (double)atomic_load(&g_trips) / (took / 1e3);
    if (!with_sleeper) *idle_rate = rate;
    printf("%-9s schedulers=%u  %10.0f round trips/s (%.2fx idle)  %4ld ticks of 10 ms  longest gap %6.1f ms\n",
           name, schedulers, rate, *idle_rate > 0 ? rate / *idle_rate : 0.0, atomic_load(&g_ticks), g_max_gap);
    fflush(stdout);
    swerl_runtime_stop(rt, 10000);
    swerl_runtime_free(rt);
}

int main(int argc, char **argv)
{
    uint32_t schedulers = argc > 1 ? (uint32_t)atoi(argv[1]) : 1;
    unsigned seconds = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
    double idle = 0;
    printf("libswerl %s\n", swerl_version_string());
    run_case("idle", schedulers, seconds, 0, 0, &idle);
    run_case("sleeper", schedulers, seconds, 0, 1, &idle);
#if SWERL_VERSION_MAJOR > 1 || SWERL_VERSION_MINOR >= 2
    run_case("blocking", schedulers, seconds, SWERL_SPAWN_BLOCKING, 1, &idle);
#endif
    return 0;
}
