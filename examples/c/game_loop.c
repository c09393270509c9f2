/*
 * game_loop.c — a program with a loop of its own that drives a turn group.
 *
 * A game loop ticks at a fixed step (60 Hz). Between its own work, each
 * tick it calls swerl_group_run(g, 64, 0): the turns queued for the group
 * since the last tick run right there, on the loop's thread. "world" is a
 * group process: it owns the game state and updates it as input events
 * arrive. Three "controller" processes run on the schedulers as usual
 * (swerl_spawn) and send the world one move every 2 ms from a timer.
 *
 * What it shows: the world's handler runs only inside swerl_group_run, so
 * it and the loop share the game state without a lock; swerl_runtime_stop
 * called while nobody drives the group runs the world's exit (terminate)
 * on the stopping thread.
 *
 * Output: the final positions (always the same) and where the world ran.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <swerl.h>

#define PLAYERS 3
#define MOVES 20                  /* per controller */
#define TICK_NS (1000000000L / 60)
#define MAX_TICKS 600             /* a safety net: the game ends in a few ticks */

typedef struct move { uint32_t player; int32_t dx; } move;

/* The game state: written by the world (inside swerl_group_run) and read by
   the loop, both on the loop's thread. No lock. */
static struct {
    int32_t position[PLAYERS];
    int moves, on_loop_thread, world_stopped;
    pthread_t loop;
} game;

static int on_loop(void) { return pthread_equal(pthread_self(), game.loop); }

/* world: a group process; applies each move to the game state. */
static int world_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    move m;
    (void)ctx; (void)state;
    if (msg->kind != SWERL_MESSAGE || msg->len != sizeof m) return SWERL_CONTINUE;
    memcpy(&m, msg->data, sizeof m);   /* message bytes carry no alignment */
    if (m.player >= PLAYERS) return SWERL_CONTINUE;
    game.position[m.player] += m.dx;
    game.moves++;
    game.on_loop_thread += on_loop();
    return SWERL_CONTINUE;
}

static void world_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx; (void)reason; (void)state;
    game.world_stopped = on_loop() ? 1 : -1;
}

static const swerl_behavior world_behavior = { sizeof(swerl_behavior), NULL, world_handle, world_terminate };

/* controller: a scheduler process; a timer every 2 ms sends one move. */
typedef struct controller { swerl_pid world; move m; int left; } controller;

static int controller_init(swerl_ctx *ctx, void *arg, void **state)
{
    swerl_ref timer;
    *state = arg;   /* main's record: it outlives the runtime */
    return swerl_send_after(swerl_ctx_runtime(ctx), swerl_self(ctx), 2, "t", 1, &timer);
}

static int controller_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    controller *c = (controller *)state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    swerl_ref timer;
    int rc;
    (void)msg;
    if ((rc = swerl_send(rt, c->world, &c->m, sizeof c->m)) != 0) return rc; /* < 0: a crash */
    if (--c->left == 0) return SWERL_STOP;           /* all sent: exit normally */
    return swerl_send_after(rt, swerl_self(ctx), 2, "t", 1, &timer); /* 0 is SWERL_CONTINUE */
}

static const swerl_behavior controller_behavior = { sizeof(swerl_behavior), controller_init, controller_handle, NULL };

static int failed(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, swerl_strerror(rc), swerl_err_name(rc));
    return 1;
}

int main(void)
{
    static controller controllers[PLAYERS];
    swerl_runtime *rt = NULL;
    swerl_group *g = NULL;
    swerl_pid world = 0, pid;
    struct timespec next;
    int rc, i, tick, status = 0;

    game.loop = pthread_self();
    if ((rc = swerl_runtime_start(NULL, &rt)) != 0) return failed("swerl_runtime_start", rc);
    if ((rc = swerl_group_create(rt, "game loop", &g)) != 0) { status = failed("swerl_group_create", rc); goto out; }
    /* world's callbacks will run on whichever thread drives g: this one */
    if ((rc = swerl_group_spawn(g, &world_behavior, NULL, NULL, &world)) != 0) {
        status = failed("swerl_group_spawn", rc);
        goto out;
    }
    for (i = 0; i < PLAYERS; i++) {
        controllers[i].world = world;
        controllers[i].m.player = (uint32_t)i;
        controllers[i].m.dx = i + 1;
        controllers[i].left = MOVES;
        if ((rc = swerl_spawn(rt, &controller_behavior, &controllers[i], NULL, &pid)) != 0) {
            status = failed("swerl_spawn(controller)", rc);
            goto out;
        }
    }
    printf("game loop: %d controllers on the schedulers, the world in a turn group\n", PLAYERS);

    clock_gettime(CLOCK_MONOTONIC, &next);
    for (tick = 0; tick < MAX_TICKS && game.moves < PLAYERS * MOVES; tick++) {
        /* 1. the processes' turns: what is queued now, at most 64 */
        if ((rc = swerl_group_run(g, 64, 0)) < 0) { status = failed("swerl_group_run", rc); goto out; }
        /* 2. the loop's own work (simulate, render) would go here; it may
           read and write `game` freely: no world turn runs meanwhile */
        /* 3. wait for the next tick, at a fixed step */
        next.tv_nsec += TICK_NS;
        if (next.tv_nsec >= 1000000000L) { next.tv_sec++; next.tv_nsec -= 1000000000L; }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    if (game.moves != PLAYERS * MOVES) status = failed("the game did not end in time", SWERL_ETIMEDOUT);
    printf("game over: %d moves applied, %d of them on the loop's thread\n", game.moves, game.on_loop_thread);
    for (i = 0; i < PLAYERS; i++) printf("player %d: position %d\n", i + 1, (int)game.position[i]);

out:
    /* Nobody drives g now: the stop itself runs world's exit, here. */
    if ((rc = swerl_runtime_stop(rt, 5000)) != 0) status = failed("swerl_runtime_stop", rc);
    if (world != 0) {
        printf("world stopped %s\n", game.world_stopped == 1 ? "on the stopping thread" : "elsewhere (wrong)");
        if (game.world_stopped != 1) status = 1;
    }
    swerl_runtime_free(rt);
    return status;
}
