/*
 * ping_pong.c — two Swerl processes bounce a message back and forth.
 *
 *   usage: ping_pong [ROUNDS]        (default 100000)
 *
 * What it shows:
 *   - a behaviour (init / handle / terminate) whose state lives on the heap
 *     and is released in terminate;
 *   - swerl_send inside a handler: the receiver sees the sender in msg->from,
 *     so "pong" needs no configuration, it answers whoever wrote to it;
 *   - main waiting for the end of the game without sleeping: it asks "ping"
 *     to play with swerl_call, and ping keeps the call's ref and answers it
 *     with swerl_reply only when the last ball comes back (a deferred reply).
 *
 * Output: "round trips: N" (always N) and the time per round trip (which
 * depends on the machine).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <swerl.h>

#define DEFAULT_ROUNDS 100000u
/* A generous bound: a game that takes longer than this is a bug. */
#define GAME_TIMEOUT_MS 120000u

/* Main's request to ping: who to play with and how many round trips. */
typedef struct play_request {
    swerl_pid partner;
    uint64_t rounds;
} play_request;

/* The ball carries the number of its round; ping checks it comes back. */
typedef struct ball {
    uint64_t round;
} ball;

/* ------------------------------------------------------------------------ */
/* pong: sends every ball straight back to whoever sent it                   */
/* ------------------------------------------------------------------------ */

static int pong_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    int rc;

    (void)state;
    if (msg->kind != SWERL_MESSAGE)
        return SWERL_CONTINUE;
    rc = swerl_send(swerl_ctx_runtime(ctx), msg->from, msg->data, msg->len);
    if (rc != 0) {
        fprintf(stderr, "pong: swerl_send: %s\n", swerl_strerror(rc));
        return rc; /* negative: this process crashes (reason ERROR) */
    }
    return SWERL_CONTINUE;
}

/* pong has no state, so init and terminate are NULL. */
static const swerl_behavior pong_behavior = {
    sizeof(swerl_behavior), NULL, pong_handle, NULL
};

/* ------------------------------------------------------------------------ */
/* ping: serves one "play" call at a time and answers it when the game ends  */
/* ------------------------------------------------------------------------ */

typedef struct ping_state {
    swerl_pid partner;
    uint64_t rounds;      /* round trips asked for */
    uint64_t returned;    /* balls back so far */
    swerl_ref caller;     /* the "play" call to answer at the end; 0: idle */
} ping_state;

static int ping_init(swerl_ctx *ctx, void *arg, void **state)
{
    ping_state *s = calloc(1, sizeof *s);

    (void)ctx;
    (void)arg;
    if (s == NULL)
        return -1; /* a failed init: the process exits with reason ERROR */
    *state = s;
    return 0;
}

/* Answer the pending call with the number of round trips played. */
static int ping_finish(swerl_runtime *rt, ping_state *s)
{
    uint64_t played = s->returned;
    swerl_ref caller = s->caller;
    int rc;

    s->caller = 0;
    rc = swerl_reply(rt, caller, &played, sizeof played);
    if (rc != 0) /* EREF: the caller gave up (timed out) before the end */
        fprintf(stderr, "ping: swerl_reply: %s\n", swerl_strerror(rc));
    return SWERL_CONTINUE;
}

static int ping_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    ping_state *s = state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    ball b;
    int rc;

    if (msg->kind == SWERL_CALL) {
        play_request req;
        if (msg->len != sizeof req || s->caller != 0) {
            static const char refused[] = "bad request, or already playing";
            rc = swerl_reply(rt, msg->ref, refused, sizeof refused - 1);
            if (rc != 0)
                fprintf(stderr, "ping: swerl_reply: %s\n", swerl_strerror(rc));
            return SWERL_CONTINUE;
        }
        /* Message bytes carry no alignment promise: copy, don't cast. */
        memcpy(&req, msg->data, sizeof req);
        s->partner = req.partner;
        s->rounds = req.rounds;
        s->returned = 0;
        s->caller = msg->ref; /* not answered now: see ping_finish */
        if (s->rounds == 0)
            return ping_finish(rt, s);
        b.round = 1;
    } else if (msg->kind == SWERL_MESSAGE && msg->len == sizeof b && s->caller != 0) {
        memcpy(&b, msg->data, sizeof b);
        if (b.round != s->returned + 1) {
            fprintf(stderr, "ping: ball %" PRIu64 " came back, expected %" PRIu64 "\n",
                    b.round, s->returned + 1);
            return -1;
        }
        s->returned++;
        if (s->returned == s->rounds)
            return ping_finish(rt, s);
        b.round++;
    } else {
        return SWERL_CONTINUE; /* nothing else is expected; ignore it */
    }

    rc = swerl_send(rt, s->partner, &b, sizeof b);
    if (rc != 0) {
        fprintf(stderr, "ping: swerl_send: %s\n", swerl_strerror(rc));
        return rc;
    }
    return SWERL_CONTINUE;
}

static void ping_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx;
    (void)reason;
    free(state);
}

static const swerl_behavior ping_behavior = {
    sizeof(swerl_behavior), ping_init, ping_handle, ping_terminate
};

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Print a failed call's error, e.g. "swerl_spawn: no such process (ENOPROC)". */
static void report(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, swerl_strerror(rc), swerl_err_name(rc));
}

static int parse_rounds(int argc, char **argv, uint64_t *rounds)
{
    char *end;
    unsigned long long v;

    if (argc < 2) {
        *rounds = DEFAULT_ROUNDS;
        return 0;
    }
    errno = 0;
    v = strtoull(argv[1], &end, 10);
    if (argc > 2 || errno != 0 || end == argv[1] || *end != '\0' || argv[1][0] == '-')
        return -1;
    *rounds = (uint64_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    swerl_runtime *rt = NULL;
    swerl_pid ping = 0, pong = 0;
    swerl_buffer reply = { NULL, 0 };
    play_request req;
    uint64_t played = 0;
    double t0, elapsed;
    int rc, status = 1;

    if (parse_rounds(argc, argv, &req.rounds) != 0) {
        fprintf(stderr, "usage: %s [ROUNDS]\n", argv[0]);
        return 2;
    }

    rc = swerl_runtime_start(NULL, &rt); /* NULL: default config */
    if (rc != 0) {
        report("swerl_runtime_start", rc);
        return 1;
    }
    rc = swerl_spawn(rt, &pong_behavior, NULL, NULL, &pong);
    if (rc != 0) {
        report("swerl_spawn(pong)", rc);
        goto out;
    }
    rc = swerl_spawn(rt, &ping_behavior, NULL, NULL, &ping);
    if (rc != 0) {
        report("swerl_spawn(ping)", rc);
        goto out;
    }

    /* The whole game is one call: it returns when ping answers it. */
    req.partner = pong;
    t0 = now_seconds();
    rc = swerl_call(rt, ping, &req, sizeof req, GAME_TIMEOUT_MS, &reply);
    elapsed = now_seconds() - t0;
    if (rc != 0) {
        report("swerl_call(ping)", rc);
        goto out;
    }
    if (reply.len != sizeof played) {
        fprintf(stderr, "ping refused: %.*s\n", (int)reply.len, (const char *)reply.data);
        goto out;
    }
    memcpy(&played, reply.data, sizeof played);

    printf("round trips: %" PRIu64 "\n", played);
    if (played > 0)
        printf("time per round trip: %.0f ns (%.3f s in all)\n",
               elapsed * 1e9 / (double)played, elapsed);
    status = played == req.rounds ? 0 : 1;

out:
    swerl_buffer_free(&reply);
    /* Stop every process (ping's terminate frees its state), then free. */
    rc = swerl_runtime_stop(rt, 5000);
    if (rc != 0) {
        report("swerl_runtime_stop", rc);
        status = 1;
    }
    swerl_runtime_free(rt);
    return status;
}
