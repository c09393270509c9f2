/*
 * worker_pool.c — a pool of supervised workers; some jobs are poison.
 *
 *   usage: worker_pool
 *
 * The pieces:
 *   - K workers, children of a one_for_one supervisor (swerl_supervisor_start).
 *     Each gets its number through its child spec's `arg`, which the
 *     supervisor owns once it has started (it calls arg_free at the end).
 *   - A queue process, registered as "pool_queue", that holds the jobs. Work
 *     is pulled, not pushed: a worker announces itself from its init, gets
 *     one job, and gets the next one when it sends the result back. So a
 *     crash loses only the job the worker had in hand, never jobs waiting
 *     behind it in its mailbox.
 *   - The queue monitors every worker (swerl_monitor). A DOWN message tells
 *     it that the job in hand was fatal; the supervisor, meanwhile, restarts
 *     the worker, whose init announces the new pid to the queue.
 *   - main submits jobs with swerl_send, then waits with one swerl_call
 *     ("drain") that the queue answers only once every job is settled and
 *     every worker is back: a deferred swerl_reply, no sleeping.
 *   - Restarts are counted through swerl_supervisor_which_children, checked
 *     against swerl_runtime_stats, and reported live through the on_log hook.
 *
 * Output: the lines starting with "jobs", "answers", "restarts" and
 * "workers" are the same on every run; which worker swallowed which poison
 * job (the per-worker lines and the log lines) depends on scheduling.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swerl.h>

#define POOL_WORKERS 4
#define POOL_JOBS 24
#define POISON_EVERY 8                     /* jobs 8, 16, 24 are poison */
#define QUEUE_NAME "pool_queue"
#define DRAIN_TIMEOUT_MS 30000u
#define REASON_POISONED (SWERL_REASON_USER + 1)

/* ------------------------------------------------------------------------ */
/* The protocol: one fixed-size message type, tagged                         */
/* ------------------------------------------------------------------------ */

enum {
    MSG_SUBMIT = 1,   /* main -> queue: a new job */
    MSG_READY,        /* worker -> queue, from its init: "I take jobs" */
    MSG_JOB,          /* queue -> worker: do this job */
    MSG_RESULT        /* worker -> queue: the job's answer (and "I am free") */
};

typedef struct job {
    uint32_t id;
    uint32_t poison;  /* nonzero: the worker that takes it crashes */
    uint64_t input;   /* RESULT: the answer instead */
} job;

typedef struct pool_msg {
    uint32_t tag;     /* MSG_* */
    job job;
} pool_msg;

/* The answer to "drain". */
typedef struct pool_summary {
    uint32_t answered;
    uint32_t crashed;
    uint64_t checksum;  /* sum of all answers */
} pool_summary;

/* The work itself: the number of steps of n's Collatz sequence to 1. */
static uint64_t collatz_steps(uint64_t n)
{
    uint64_t steps = 0;
    while (n > 1) {
        n = (n % 2 == 0) ? n / 2 : 3 * n + 1;
        steps++;
    }
    return steps;
}

/* Messages are bytes without alignment: copy them out rather than cast. */
static int pool_msg_read(const swerl_message *msg, pool_msg *out)
{
    if (msg->kind != SWERL_MESSAGE || msg->len != sizeof *out)
        return -1;
    memcpy(out, msg->data, sizeof *out);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The worker                                                                */
/* ------------------------------------------------------------------------ */

typedef struct worker_config {
    unsigned number;  /* 1..POOL_WORKERS, for messages */
} worker_config;

/* Runs at every (re)start: find the queue and announce this new pid. */
static int worker_init(swerl_ctx *ctx, void *arg, void **state)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    pool_msg ready;
    swerl_pid queue;
    int rc;

    *state = arg; /* the worker_config, owned by the supervisor */
    rc = swerl_whereis(rt, QUEUE_NAME, &queue);
    if (rc == 0) {
        memset(&ready, 0, sizeof ready);
        ready.tag = MSG_READY;
        rc = swerl_send(rt, queue, &ready, sizeof ready);
    }
    if (rc != 0) {
        fprintf(stderr, "worker: cannot reach the queue: %s\n", swerl_strerror(rc));
        return -1; /* the start fails; the supervisor reports it */
    }
    return 0;
}

static int worker_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    const worker_config *cfg = state;
    pool_msg m;
    int rc;

    if (pool_msg_read(msg, &m) != 0 || m.tag != MSG_JOB)
        return SWERL_CONTINUE; /* not for us: ignore it */

    if (m.job.poison) {
        /* Crash on purpose, with a reason and a detail that the monitors
           (the queue) and the supervisor's report will carry. */
        char why[64];
        int n = snprintf(why, sizeof why, "worker-%u choked on job %" PRIu32,
                         cfg->number, m.job.id);
        rc = swerl_fail(ctx, REASON_POISONED, why, (size_t)n);
        if (rc != 0)
            fprintf(stderr, "worker: swerl_fail: %s\n", swerl_strerror(rc));
        return -1;
    }

    m.tag = MSG_RESULT;
    m.job.input = collatz_steps(m.job.input);
    rc = swerl_send(swerl_ctx_runtime(ctx), msg->from, &m, sizeof m);
    if (rc != 0) {
        fprintf(stderr, "worker: swerl_send: %s\n", swerl_strerror(rc));
        return rc;
    }
    return SWERL_CONTINUE;
}

/* The state is the config, which belongs to the supervisor: no terminate. */
static const swerl_behavior worker_behavior = {
    sizeof(swerl_behavior), worker_init, worker_handle, NULL
};

/* ------------------------------------------------------------------------ */
/* The queue                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct worker_slot {
    swerl_pid pid;       /* 0: free slot */
    swerl_ref monitor;
    int busy;            /* has `current` in hand */
    job current;
} worker_slot;

typedef struct queue_state {
    unsigned workers_expected;         /* the pool's size */
    worker_slot slots[POOL_WORKERS];
    job waiting[POOL_JOBS];            /* FIFO: waiting[head..tail) */
    size_t head, tail;
    pool_summary summary;
    swerl_ref drain_caller;            /* a pending "drain" call, or 0 */
} queue_state;

static int queue_init(swerl_ctx *ctx, void *arg, void **state)
{
    queue_state *q = calloc(1, sizeof *q);

    (void)ctx;
    if (q == NULL)
        return -1;
    q->workers_expected = *(const unsigned *)arg;
    *state = q;
    return 0;
}

static worker_slot *slot_of(queue_state *q, swerl_pid pid)
{
    size_t i;
    for (i = 0; i < POOL_WORKERS; i++)
        if (q->slots[i].pid == pid)
            return &q->slots[i];
    return NULL;
}

/* Hand waiting jobs to idle workers. */
static int queue_dispatch(swerl_runtime *rt, queue_state *q)
{
    size_t i;
    for (i = 0; i < POOL_WORKERS && q->head < q->tail; i++) {
        worker_slot *w = &q->slots[i];
        pool_msg m;
        int rc;
        if (w->pid == 0 || w->busy)
            continue;
        m.tag = MSG_JOB;
        m.job = q->waiting[q->head];
        rc = swerl_send(rt, w->pid, &m, sizeof m);
        if (rc == SWERL_ENOPROC)
            continue; /* it just died: its DOWN is on the way; try another */
        if (rc != 0) {
            fprintf(stderr, "queue: swerl_send: %s\n", swerl_strerror(rc));
            return rc;
        }
        w->busy = 1;
        w->current = m.job;
        q->head++;
    }
    return 0;
}

/* Answer "drain" once nothing is waiting or in hand and the pool is whole. */
static void queue_maybe_drained(swerl_runtime *rt, queue_state *q)
{
    unsigned alive = 0;
    size_t i;
    int rc;

    if (q->drain_caller == 0 || q->head < q->tail)
        return;
    for (i = 0; i < POOL_WORKERS; i++) {
        if (q->slots[i].busy)
            return;
        alive += q->slots[i].pid != 0;
    }
    if (alive < q->workers_expected)
        return; /* a restarted worker has yet to announce itself */
    rc = swerl_reply(rt, q->drain_caller, &q->summary, sizeof q->summary);
    if (rc != 0)
        fprintf(stderr, "queue: swerl_reply: %s\n", swerl_strerror(rc));
    q->drain_caller = 0;
}

static int queue_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    queue_state *q = state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    worker_slot *w;
    pool_msg m;
    int rc;

    switch (msg->kind) {
    case SWERL_CALL: /* "drain": answered by queue_maybe_drained, maybe later */
        if (q->drain_caller != 0) {
            rc = swerl_reply(rt, msg->ref, NULL, 0); /* one drain at a time */
            if (rc != 0)
                fprintf(stderr, "queue: swerl_reply: %s\n", swerl_strerror(rc));
            break;
        }
        q->drain_caller = msg->ref;
        break;

    case SWERL_DOWN: /* a worker died: the job in its hand was fatal */
        w = slot_of(q, msg->from);
        if (w == NULL)
            break;
        if (w->busy) {
            q->summary.crashed++;
            printf("queue: job %" PRIu32 " killed its worker: %.*s\n", w->current.id,
                   (int)msg->len, msg->data ? (const char *)msg->data : "");
        }
        memset(w, 0, sizeof *w);
        break;

    case SWERL_MESSAGE:
        if (pool_msg_read(msg, &m) != 0)
            break;
        if (m.tag == MSG_SUBMIT) {
            if (q->tail == POOL_JOBS) {
                fprintf(stderr, "queue: full, job %" PRIu32 " dropped\n", m.job.id);
                break;
            }
            q->waiting[q->tail++] = m.job;
        } else if (m.tag == MSG_READY) {
            /* A new worker (first start or restart): watch it, then use it. */
            w = slot_of(q, 0);
            if (w == NULL) {
                fprintf(stderr, "queue: more workers than slots\n");
                break;
            }
            w->pid = msg->from;
            rc = swerl_monitor(ctx, msg->from, &w->monitor);
            if (rc != 0) {
                fprintf(stderr, "queue: swerl_monitor: %s\n", swerl_strerror(rc));
                return rc;
            }
        } else if (m.tag == MSG_RESULT) {
            w = slot_of(q, msg->from);
            if (w == NULL || !w->busy)
                break;
            w->busy = 0;
            q->summary.answered++;
            q->summary.checksum += m.job.input;
        }
        break;

    default:
        break;
    }

    rc = queue_dispatch(rt, q);
    if (rc != 0)
        return rc;
    queue_maybe_drained(rt, q);
    return SWERL_CONTINUE;
}

static void queue_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx;
    (void)reason;
    free(state);
}

static const swerl_behavior queue_behavior = {
    sizeof(swerl_behavior), queue_init, queue_handle, queue_terminate
};

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

/* The runtime's reports: supervisor restarts among them. Called on a
   scheduler thread; the message is valid during the call only. */
static void on_log(void *user, int level, const char *message, size_t len)
{
    static const char *const levels[] = { "error", "warning", "info" };
    (void)user;
    printf("log [%s]: %.*s\n", level >= 0 && level <= 2 ? levels[level] : "?", (int)len, message);
}

static void report(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, swerl_strerror(rc), swerl_err_name(rc));
}

static const char *child_state_name(uint32_t state)
{
    switch (state) {
    case SWERL_CHILD_RUNNING: return "running";
    case SWERL_CHILD_RESTARTING: return "restarting";
    default: return "not running";
    }
}

/* Start the supervisor with POOL_WORKERS workers. On success it owns the
   worker_config args (and frees them with arg_free); on failure they are
   still ours. */
static int start_pool(swerl_runtime *rt, swerl_pid *sup)
{
    swerl_supervisor_spec spec;
    swerl_child_spec children[POOL_WORKERS];
    char ids[POOL_WORKERS][16];
    size_t i, made = 0;
    int rc = SWERL_ENOMEM;

    for (i = 0; i < POOL_WORKERS; i++) {
        worker_config *cfg = malloc(sizeof *cfg);
        if (cfg == NULL)
            goto out;
        cfg->number = (unsigned)i + 1;
        swerl_child_spec_init(&children[i]); /* permanent worker */
        snprintf(ids[i], sizeof ids[i], "worker-%u", cfg->number);
        children[i].id = ids[i]; /* copied by the supervisor */
        children[i].behavior = &worker_behavior;
        children[i].arg = cfg;
        children[i].arg_free = free;
        made++;
    }

    swerl_supervisor_spec_init(&spec); /* one_for_one */
    spec.strategy = SWERL_ONE_FOR_ONE;
    spec.intensity = 10;  /* OTP's default (1 in 5 s) would give up at the 2nd poison */
    spec.period_ms = 5000;
    spec.children = children;
    spec.n_children = POOL_WORKERS;
    rc = swerl_supervisor_start(rt, &spec, NULL, sup);

out:
    if (rc != 0)
        for (i = 0; i < made; i++)
            free(children[i].arg);
    return rc;
}

int main(void)
{
    swerl_runtime *rt = NULL;
    swerl_config cfg;
    swerl_spawn_opts opts;
    swerl_pid queue = 0, sup = 0;
    swerl_buffer reply = { NULL, 0 };
    swerl_child_info info[POOL_WORKERS];
    swerl_child_counts counts;
    swerl_stats stats;
    pool_summary summary;
    unsigned workers = POOL_WORKERS;
    uint32_t expect_answered = 0, expect_crashed = 0;
    uint64_t expect_checksum = 0, restarts = 0;
    size_t i, n = 0;
    int rc, status = 1;

    setvbuf(stdout, NULL, _IOLBF, 0); /* scheduler threads print too */

    swerl_config_init(&cfg);
    cfg.on_log = on_log;
    rc = swerl_runtime_start(&cfg, &rt);
    if (rc != 0) {
        report("swerl_runtime_start", rc);
        return 1;
    }

    /* The queue first: workers look it up by name in their init. */
    swerl_spawn_opts_init(&opts);
    opts.name = QUEUE_NAME;
    rc = swerl_spawn(rt, &queue_behavior, &workers, &opts, &queue);
    if (rc != 0) {
        report("swerl_spawn(queue)", rc);
        goto out;
    }
    rc = start_pool(rt, &sup);
    if (rc != 0) {
        report("swerl_supervisor_start", rc);
        goto out;
    }
    printf("pool: %d workers under a one_for_one supervisor\n", POOL_WORKERS);

    for (i = 1; i <= POOL_JOBS; i++) {
        pool_msg m;
        memset(&m, 0, sizeof m);
        m.tag = MSG_SUBMIT;
        m.job.id = (uint32_t)i;
        m.job.poison = i % POISON_EVERY == 0;
        m.job.input = 1000 + 37 * (uint64_t)i;
        rc = swerl_send(rt, queue, &m, sizeof m);
        if (rc != 0) {
            report("swerl_send(queue)", rc);
            goto out;
        }
        if (m.job.poison) {
            expect_crashed++;
        } else {
            expect_answered++;
            expect_checksum += collatz_steps(m.job.input);
        }
    }
    printf("jobs submitted: %d (%" PRIu32 " poison)\n", POOL_JOBS, expect_crashed);

    /* Sends from one thread to one process keep their order, so the queue
       sees this call after every job. */
    rc = swerl_call(rt, queue, NULL, 0, DRAIN_TIMEOUT_MS, &reply);
    if (rc != 0) {
        report("swerl_call(queue, drain)", rc);
        goto out;
    }
    if (reply.len != sizeof summary) {
        fprintf(stderr, "drain: unexpected reply of %zu bytes\n", reply.len);
        goto out;
    }
    memcpy(&summary, reply.data, sizeof summary);
    printf("jobs answered: %" PRIu32 ", jobs that crashed a worker: %" PRIu32 "\n",
           summary.answered, summary.crashed);
    printf("answers checksum: %s\n", summary.answered == expect_answered &&
           summary.checksum == expect_checksum ? "ok" : "WRONG");

    /* Every worker is back (the drain waited for it): ask the supervisor. */
    info[0].size = (uint32_t)sizeof info[0];
    rc = swerl_supervisor_which_children(rt, sup, info, POOL_WORKERS, &n);
    if (rc != 0) {
        report("swerl_supervisor_which_children", rc);
        goto out;
    }
    for (i = 0; i < n && i < POOL_WORKERS; i++) {
        printf("  %s: %s, restarted %" PRIu64 " time(s)\n", info[i].id,
               child_state_name(info[i].state), info[i].restarts);
        restarts += info[i].restarts;
    }
    memset(&stats, 0, sizeof stats);
    stats.size = (uint32_t)sizeof stats;
    rc = swerl_runtime_stats(rt, &stats);
    if (rc != 0) {
        report("swerl_runtime_stats", rc);
        goto out;
    }
    printf("restarts: %" PRIu64 " (runtime stats: %" PRIu64 ")\n", restarts, stats.restarts);

    memset(&counts, 0, sizeof counts);
    counts.size = (uint32_t)sizeof counts;
    rc = swerl_supervisor_count_children(rt, sup, &counts);
    if (rc != 0) {
        report("swerl_supervisor_count_children", rc);
        goto out;
    }
    printf("workers running: %" PRIu32 " of %" PRIu32 "\n", counts.active, counts.specs);

    if (summary.answered == expect_answered && summary.crashed == expect_crashed &&
        summary.checksum == expect_checksum && restarts == expect_crashed &&
        stats.restarts == expect_crashed && counts.active == POOL_WORKERS)
        status = 0;

out:
    swerl_buffer_free(&reply);
    /* Stops the supervisor (which frees the worker configs) and the queue. */
    rc = swerl_runtime_stop(rt, 5000);
    if (rc != 0) {
        report("swerl_runtime_stop", rc);
        status = 1;
    }
    swerl_runtime_free(rt);
    return status;
}
