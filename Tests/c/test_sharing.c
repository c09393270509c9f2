/*
 * test_sharing.c — work queued behind long turns reaches a sleeping
 * scheduler.
 *
 * A scheduler that finds nothing to do asks the others for work as it goes
 * to sleep, then sleeps until something wakes it. Processes spawned by a
 * process start on that process's scheduler, and messages from outside the
 * runtime wake them there: before the turn monitor shared long turns, eight
 * workers that each computed for 20 ms ran one after another on one core
 * while the other scheduler slept (160 ms, one thread; 80 ms, two threads,
 * with it).
 *
 * What it asserts (no timing: which threads ran the handlers):
 *   - with two schedulers, eight turns of 20 ms (each seen by the turn
 *     monitor at two of its 5 ms ticks) run on both scheduler threads;
 *   - so do 64 turns of 1 ms (none seen twice: the monitor sees a thread
 *     busy with a few turns a tick);
 *   - every worker ran exactly once a round, and nothing was lost.
 *
 * Functions covered: swerl_spawn (inside a callback and from a thread),
 *   swerl_send, swerl_runtime_stop.
 */
#include "check.h"

#include <sys/syscall.h>

enum { WORKERS = 8, ROUNDS = 3, MAX_WORKERS = 64 };

typedef struct board {
    int count;                  /* workers */
    double turn_ms;             /* how long each handler computes */
    int runs;                   /* handlers that ran this round */
    long thread[MAX_WORKERS];   /* the thread each of them ran on */
    swerl_pid workers[MAX_WORKERS];
    int spawned;                /* set once the spawner made them all */
} board;

static board the_board;

/* Computes for turn_ms (wall clock: the point is to hold the scheduler). */
static int h_worker(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    double until = check_now_ms() + the_board.turn_ms;
    volatile uint64_t spins = 0;
    int slot;
    (void)ctx;
    (void)state;
    if (msg->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    while (check_now_ms() < until) spins++;
    slot = AT_ADD(&the_board.runs, 1) - 1;
    if (slot < MAX_WORKERS) AT_STORE(&the_board.thread[slot], (long)syscall(SYS_gettid));
    return SWERL_CONTINUE;
}
static const swerl_behavior b_worker = { sizeof(swerl_behavior), NULL, h_worker, NULL };

/* Spawns the workers from inside a process: they all start on its scheduler. */
static int h_spawner(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)state;
    if (msg->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    for (int i = 0; i < the_board.count; i++) {
        if (swerl_spawn(swerl_ctx_runtime(ctx), &b_worker, NULL, NULL, &the_board.workers[i]) != 0) return SWERL_STOP;
    }
    AT_STORE(&the_board.spawned, 1);
    return SWERL_CONTINUE;
}
static const swerl_behavior b_spawner = { sizeof(swerl_behavior), NULL, h_spawner, NULL };

static int distinct_threads(void)
{
    int distinct = 0;
    for (int i = 0; i < the_board.count; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= AT_LOAD(&the_board.thread[j]) == AT_LOAD(&the_board.thread[i]);
        distinct += !seen;
    }
    return distinct;
}

/* `count` workers, each computing `turn_ms` per message, spawned by a
   process and sent work from this thread, `ROUNDS` times. */
static void share_rounds(int count, double turn_ms)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid spawner;
    if (!CHECK(rt != NULL)) return;
    memset(&the_board, 0, sizeof the_board);
    the_board.count = count;
    the_board.turn_ms = turn_ms;
    CHECK_EQ_INT(swerl_spawn(rt, &b_spawner, NULL, NULL, &spawner), 0);
    CHECK_EQ_INT(swerl_send(rt, spawner, "go", 2), 0);
    CHECK_WAIT_MS_(AT_LOAD(&the_board.spawned) == 1, 30000u);
    if (!AT_LOAD(&the_board.spawned)) goto out;
    for (int round = 0; round < ROUNDS; round++) {
        int threads;
        AT_STORE(&the_board.runs, 0);
        for (int i = 0; i < count; i++) AT_STORE(&the_board.thread[i], 0L);
        for (int i = 0; i < count; i++) CHECK_EQ_INT(swerl_send(rt, the_board.workers[i], "work", 4), 0);
        CHECK_WAIT_MS_(AT_LOAD(&the_board.runs) == count, 60000u);
        if (AT_LOAD(&the_board.runs) != count) break;
        threads = distinct_threads();
        printf("figure: sharing round %d: %d workers of %g ms ran on %d threads\n", round, count, turn_ms, threads);
        CHECK_MSG(threads >= 2, "round %d: the %d turns of %g ms all ran on one thread: the other scheduler slept",
                  round, count, turn_ms);
    }
    CHECK_EQ_INT(AT_LOAD(&the_board.runs), count);
out:
    CHECK_EQ_INT(swerl_runtime_stop(rt, 10000), 0);
    swerl_runtime_free(rt);
}

/* Each turn is seen at two of the monitor's ticks. */
static void t_long_turns(void) { share_rounds(WORKERS, 20.0); }
/* No turn is seen twice, but the thread is busy with a few turns a tick. */
static void t_millisecond_turns(void) { share_rounds(MAX_WORKERS, 1.0); }

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("sharing: 20 ms turns queued on one scheduler reach the sleeping one", t_long_turns, 180);
    check_section("sharing: 1 ms turns queued on one scheduler reach the sleeping one", t_millisecond_turns, 180);
    return check_summary();
}
