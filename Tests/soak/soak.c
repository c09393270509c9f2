/*
 * soak.c — a long run of mixed load on one Swerl runtime, through the C ABI
 * (swerl.h) only, that watches for what short tests cannot see: slow memory
 * growth, processes or names that never go away, counters that stop adding
 * up, a runtime that stalls. Not part of CI; see README.md.
 *
 *     soak [--minutes M | --seconds S] [--schedulers K] [--out DIR]
 *          [--interval S] [--load F] [--storm-s S] [--seed N]
 *
 * The load, all at once on one runtime (sizes scale with --load):
 *   - ping-pong pairs in rallies paced by timers, payloads 8 B .. 64 KiB;
 *   - a broadcaster fanning out to 200 monitored subscribers, one of which
 *     quits (normally or not) every tick and is replaced;
 *   - a bounded mailbox (limit 64, DROP_OLDEST) fed in bursts by a foreign
 *     thread faster than it drains;
 *   - a churner (trapping exits) spawning short-lived children linked,
 *     monitored or both, some spawning linked grandchildren, some named and
 *     killed; it sends to the pids it has seen die (dead letters);
 *   - a supervision tree: one_for_all, rest_for_one, a nested tree, a
 *     simple_one_for_one with dynamic children, call servers, all with
 *     workers that crash at a steady rate; and a "doomed" supervisor whose
 *     worker is made to crash three times in a row every --storm-s seconds,
 *     so it gives up on purpose (the only escalations the run expects);
 *   - a timer process arming send_after timers and cancelling half of them;
 *   - swerl_call from two foreign threads (some deferred, some meant to time
 *     out), swerl_call_async from a process;
 *   - name churn (register, whereis, send_named, unregister) from a foreign
 *     thread, and a foreign thread sending to a sink.
 *
 * Every --interval seconds one CSV row (DIR/soak-<timestamp>.csv): RSS,
 * VmHWM, the runtime's counters and the soak's own. At the end the load
 * stops, the runtime is let settle, the invariants are checked (see
 * README.md), the runtime is stopped and freed, and one line
 * `RESULT {json}` goes to stdout. Exit status 0 only if every check passed.
 */
#define _GNU_SOURCE
#include <swerl.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

static struct {
    double seconds;         /* length of the load phase */
    unsigned schedulers;    /* 0: one per CPU */
    const char *out;        /* CSV directory */
    double interval;        /* seconds between samples */
    double load;            /* multiplier of every per-tick amount */
    double storm_s;         /* seconds between designed escalations; 0: none */
    uint64_t seed;
    unsigned mix;           /* W_* bits: the workloads that run */
} opt = {600.0, 0, "Tests/soak/results", 1.0, 1.0, 60.0, 0x5eed, 0};

/* The workloads, each of which --mix can leave out (to find which one a
   finding comes from). calls and names need tree: they use its servers and
   its simple_one_for_one. */
#define SOAK_WORKLOADS(XX) \
    XX(pingpong) XX(fanout) XX(bounded) XX(sink) XX(churn) XX(tree) XX(timers) XX(calls) XX(names)
enum {
#define SOAK_WBIT_(name) WB_##name,
    SOAK_WORKLOADS(SOAK_WBIT_)
#undef SOAK_WBIT_
    WB_COUNT
};
#define W(name) (1u << WB_##name)
#define W_ALL ((1u << WB_COUNT) - 1)
static const char *const workload_names[WB_COUNT] = {
#define SOAK_WNAME_(name) #name,
    SOAK_WORKLOADS(SOAK_WNAME_)
#undef SOAK_WNAME_
};
static int on(unsigned w) { return (opt.mix & w) != 0; }

/* Sizes of the standing population. */
enum {
    PAIRS = 4,              /* ping-pong pairs */
    SUBSCRIBERS = 200,      /* fan-out subscribers */
    SERVERS = 4,            /* call servers (in the supervision tree) */
    DYN_TARGET = 16,        /* simple_one_for_one children kept alive */
    BOUNDED_LIMIT = 64,     /* the bounded mailbox */
    DEAD_RING = 256         /* pids of dead churn children, for dead letters */
};

/* The RSS check: the least-squares slope of RSS over the last half of the
   load phase must stay under this share of that half's mean RSS per 10
   minutes. README.md says why 1%. Runs shorter than RSS_MIN_SECONDS are
   too short for a slope to mean anything: the check is reported, not
   enforced. */
#define RSS_MAX_PCT_PER_10MIN 1.0
#define RSS_MIN_SECONDS 120.0
/* Heap still allocated after swerl_runtime_free, over what it was before
   swerl_runtime_start: a fixed amount (README.md) whatever the length of
   the run; a leak grows with it. */
#define HEAP_KEPT_MAX_KIB 1024
/* A blocking call may return this much later than its timeout on a loaded
   machine before it counts as overdue. */
#define CALL_SLACK_MS 2000.0
/* No handler call in any soak process for this long during the load: a
   stall. (Handler calls, not messages_sent: timers and exit signals do
   not count as sends, and some mixes send nothing.) */
#define STALL_SECONDS 5.0
/* The settle phase after the load gives up after this long. */
#define SETTLE_MAX_SECONDS 60.0

/* ------------------------------------------------------------------------ */
/* Counters: one table, used for the atomics, the CSV header and the JSON     */
/* ------------------------------------------------------------------------ */

#define SOAK_COUNTERS(XX)                                                    \
    XX(msgs_handled)      /* handler calls of every soak process */          \
    XX(pingpong)          /* round trips */                                  \
    XX(fan_sent)          XX(fan_recv)          XX(subs_replaced)            \
    XX(bm_sent)           XX(bm_handled)        /* bounded mailbox */        \
    XX(churn_spawned)     XX(churn_expected)    XX(churn_seen)               \
    XX(grandchildren)     XX(churn_killed)                                   \
    XX(crashes)           XX(storms)            XX(storm_crashes)            \
    XX(timers_armed)      XX(timers_cancelled)  XX(timers_late)              \
    XX(timers_fired)                                                         \
    XX(calls)             XX(calls_ok)          XX(calls_timeout)            \
    XX(calls_exited)      XX(calls_noproc)      XX(calls_other)              \
    XX(calls_noname)      XX(calls_overdue)     XX(slow_calls_ok)            \
    XX(late_replies)      XX(late_replies_taken)                             \
    XX(async_calls)       XX(async_ok)          XX(async_timeout)            \
    XX(async_exited)      XX(async_noproc)      XX(async_other)              \
    XX(names_registered)  XX(names_unregistered) XX(name_sends)              \
    XX(dead_sends)        XX(dead_not_enoproc)                               \
    XX(foreign_sent)      XX(sink_handled)                                   \
    XX(dyn_started)       XX(dyn_stopped)       XX(trees_rendered)           \
    XX(unexpected)

enum {
#define SOAK_ENUM_(name) C_##name,
    SOAK_COUNTERS(SOAK_ENUM_)
#undef SOAK_ENUM_
    C_COUNT
};

static const char *const counter_names[C_COUNT] = {
#define SOAK_NAME_(name) #name,
    SOAK_COUNTERS(SOAK_NAME_)
#undef SOAK_NAME_
};

/* Relaxed: each counter is a tally read by the sampler; no other memory is
   published through it. The settle phase waits for quiet before comparing. */
static _Atomic uint64_t counters[C_COUNT];
#define COUNT(name) atomic_fetch_add_explicit(&counters[C_##name], 1, memory_order_relaxed)
#define GET(name) atomic_load_explicit(&counters[C_##name], memory_order_relaxed)

static _Atomic uint64_t max_call_over_ms;   /* worst lateness of a timed-out call */
static atomic_int stopping;                 /* the load phase is over */
static atomic_int storm_left;               /* bomb incarnations still to crash */
static _Atomic uint64_t log_counts[3];      /* on_log by level */

/* The first few surprises, for the report. */
static pthread_mutex_t note_mu = PTHREAD_MUTEX_INITIALIZER;
static char notes[8][160];
static int n_notes;

static void unexpected(const char *what, int rc)
{
    COUNT(unexpected);
    pthread_mutex_lock(&note_mu);
    if (n_notes < 8)
        snprintf(notes[n_notes++], sizeof notes[0], "%s: %s", what, rc ? swerl_err_name(rc) : "mismatch");
    pthread_mutex_unlock(&note_mu);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "soak: %s: %s (%s)\n", what, swerl_strerror(rc), swerl_err_name(rc));
    exit(2);
}

#define MUST(call)                        \
    do {                                  \
        int rc_ = (call);                 \
        if (rc_ < 0) die(#call, rc_);     \
    } while (0)

static int is_stopping(void) { return atomic_load_explicit(&stopping, memory_order_acquire); }

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* xorshift64, one state per thread (scheduler threads included). */
static _Thread_local uint64_t rng;

static uint64_t rnd(void)
{
    if (!rng) rng = (opt.seed ^ ((uint64_t)(uintptr_t)&rng * 0x9E3779B97F4A7C15ull)) | 1;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint32_t below(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }

static uint32_t scaled(double n)
{
    double v = n * opt.load;
    return v < 1.0 ? 1u : (uint32_t)v;
}

/* Every message starts with this header; a payload may follow. */
typedef struct {
    uint32_t tag, aux;
    uint64_t val;
} wire;

enum {
    T_TICK = 1, T_PING, T_PONG, T_EXTRA, T_BCAST, T_QUIT, T_CRASH, T_FIRE,
    T_DEFERRED, T_LATE, T_REQ, T_SINK, T_BOUNDED, T_NOISE
};
enum { REQ_FAST, REQ_DEFER, REQ_SLOW };   /* call kinds (wire.aux of T_REQ) */
#define SLOW_REPLY_MS 100u                /* a SLOW request is answered this late */
#define SLOW_TIMEOUT_MS 50u               /* ... and called with this timeout */
#define CALL_TIMEOUT_MS 1000u             /* FAST and DEFER calls */

static wire rd(const swerl_message *m)
{
    wire w = {0, 0, 0};
    if (m->kind == SWERL_MESSAGE || m->kind == SWERL_CALL) {
        if (m->len >= sizeof w) memcpy(&w, m->data, sizeof w);
    }
    return w;
}

#define PAD_MAX 65536
static _Thread_local unsigned char padbuf[sizeof(wire) + PAD_MAX];

static int send_wire(swerl_runtime *rt, swerl_pid to, uint32_t tag, uint32_t aux, uint64_t val,
                     size_t pad)
{
    wire w = {tag, aux, val};
    if (pad > PAD_MAX) pad = PAD_MAX;
    memcpy(padbuf, &w, sizeof w);
    return swerl_send(rt, to, padbuf, sizeof w + pad);
}

static int after(swerl_runtime *rt, swerl_pid to, uint32_t ms, uint32_t tag, uint64_t val,
                 swerl_ref *ref)
{
    wire w = {tag, 0, val};
    swerl_ref r = 0;
    return swerl_send_after(rt, to, ms, &w, sizeof w, ref ? ref : &r);
}

static swerl_behavior behavior(swerl_init_fn init, swerl_handle_fn handle, swerl_terminate_fn term)
{
    swerl_behavior b = {sizeof(swerl_behavior), init, handle, term};
    return b;
}

static void free_state(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx;
    (void)reason;
    free(state);
}

static int handled(void)
{
    COUNT(msgs_handled);
    return 0;
}

static swerl_runtime *rt_of(swerl_ctx *ctx) { return swerl_ctx_runtime(ctx); }

static void name_of(char *buf, size_t cap, const char *kind, unsigned i)
{
    snprintf(buf, cap, "soak.%s.%u", kind, i);
}

/* ------------------------------------------------------------------------ */
/* Ping-pong pairs                                                           */
/* ------------------------------------------------------------------------ */

typedef struct {
    swerl_pid pong;
    uint32_t left;
    uint64_t n;
} ping_state;

static int ping_send(swerl_ctx *ctx, ping_state *s)
{
    static const size_t sizes[4] = {0, 56, 504, 4088};
    size_t pad = (++s->n % 1000 == 0) ? PAD_MAX : sizes[s->n % 4];
    int rc = send_wire(rt_of(ctx), s->pong, T_PING, 0, s->n, pad);
    if (rc < 0) unexpected("ping send", rc);
    return SWERL_CONTINUE;
}

static int ping_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    ping_state *s = state;
    wire w = rd(m);
    handled();
    if (w.tag == T_TICK) {
        if (is_stopping()) return SWERL_CONTINUE;   /* idle from now on */
        s->left = scaled(100);
        return ping_send(ctx, s);
    }
    if (w.tag == T_PONG) {
        COUNT(pingpong);
        if (--s->left > 0) return ping_send(ctx, s);
        int rc = after(rt_of(ctx), swerl_self(ctx), 10, T_TICK, 0, NULL);
        if (rc < 0) unexpected("ping tick", rc);
    }
    return SWERL_CONTINUE;
}

static int pong_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    wire w = rd(m);
    handled();
    if (w.tag == T_PING) {
        int rc = send_wire(rt_of(ctx), m->from, T_PONG, 0, w.val, m->len - sizeof w);
        if (rc < 0) unexpected("pong send", rc);
    }
    return SWERL_CONTINUE;   /* T_EXTRA from the foreign sender: counted only */
}

/* ------------------------------------------------------------------------ */
/* Fan-out: a broadcaster and its monitored subscribers                      */
/* ------------------------------------------------------------------------ */

typedef struct {
    swerl_pid subs[SUBSCRIBERS];
    int started;
} bcast_state;

static int sub_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    wire w = rd(m);
    handled();
    if (w.tag == T_BCAST) COUNT(fan_recv);
    if (w.tag == T_QUIT) {
        if (w.aux) {
            swerl_fail(ctx, SWERL_REASON_USER + 1, "subscriber quits", 16);
            return -1;
        }
        return SWERL_STOP;
    }
    return SWERL_CONTINUE;
}

static swerl_pid spawn_sub(swerl_ctx *ctx)
{
    swerl_behavior b = behavior(NULL, sub_handle, NULL);
    swerl_spawn_opts o;
    swerl_ref ref = 0;
    swerl_pid pid = 0;
    swerl_spawn_opts_init(&o);
    o.flags = SWERL_SPAWN_MONITOR;
    o.monitor_ref = &ref;
    int rc = swerl_spawn(rt_of(ctx), &b, NULL, &o, &pid);
    if (rc < 0) unexpected("subscriber spawn", rc);
    return pid;
}

static int bcast_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    bcast_state *s = state;
    swerl_runtime *rt = rt_of(ctx);
    wire w = rd(m);
    handled();
    if (m->kind == SWERL_DOWN) {   /* a subscriber left: replace it */
        for (int i = 0; i < SUBSCRIBERS; i++) {
            if (s->subs[i] == m->from) {
                s->subs[i] = spawn_sub(ctx);
                COUNT(subs_replaced);
                break;
            }
        }
        return SWERL_CONTINUE;
    }
    if (w.tag != T_TICK) return SWERL_CONTINUE;
    if (!s->started) {
        for (int i = 0; i < SUBSCRIBERS; i++) s->subs[i] = spawn_sub(ctx);
        s->started = 1;
    }
    if (is_stopping()) return SWERL_CONTINUE;
    for (int i = 0; i < SUBSCRIBERS; i++) {
        int rc = send_wire(rt, s->subs[i], T_BCAST, 0, 0, 120);
        if (rc == 0) COUNT(fan_sent);
        else if (rc != SWERL_ENOPROC) unexpected("broadcast", rc);   /* ENOPROC: it just quit */
    }
    int rc = send_wire(rt, s->subs[below(SUBSCRIBERS)], T_QUIT, below(2), 0, 0);
    if (rc < 0 && rc != SWERL_ENOPROC) unexpected("quit", rc);
    rc = after(rt, swerl_self(ctx), 20, T_TICK, 0, NULL);
    if (rc < 0) unexpected("broadcast tick", rc);
    return SWERL_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* The bounded mailbox and the sink (both fed by a foreign thread)           */
/* ------------------------------------------------------------------------ */

static int bounded_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)state;
    handled();
    if (rd(m).tag == T_BOUNDED) {
        volatile double x = 1.0;   /* a slow consumer: a few microseconds a message */
        for (int i = 0; i < 2000; i++) x = x * 1.0000001 + 1e-9;
        COUNT(bm_handled);
    }
    return SWERL_CONTINUE;
}

static int sink_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)state;
    handled();
    if (rd(m).tag == T_SINK) COUNT(sink_handled);
    return SWERL_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* Churn: short-lived children, links, monitors, names, dead letters          */
/* ------------------------------------------------------------------------ */

enum { K_LINK_NORMAL, K_MONITOR_CRASH, K_BOTH_GRANDCHILD, K_NAMED_KILLED, K_WATCHER, K_KINDS };

typedef struct {
    int kind;
    swerl_pid peer;       /* K_WATCHER: a process to monitor and demonitor */
} child_state;

typedef struct {
    swerl_pid dead[DEAD_RING];
    uint32_t n_dead;
    swerl_pid to_kill[64];
    uint32_t n_kill;
    uint64_t seq;
    swerl_pid peer;       /* given to watchers */
} churn_state;

static int grandchild_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)m;
    (void)state;
    handled();
    return SWERL_CONTINUE;   /* waits until its linked parent's crash kills it */
}

static int child_init(swerl_ctx *ctx, void *arg, void **state)
{
    child_state *c = arg;
    *state = c;
    if (c->kind != K_NAMED_KILLED) swerl_receive_timeout(ctx, below(30));
    return 0;
}

static int child_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    child_state *c = state;
    handled();
    if (m->kind != SWERL_TIMEOUT) return SWERL_CONTINUE;
    switch (c->kind) {
    case K_MONITOR_CRASH:
        swerl_fail(ctx, SWERL_REASON_USER + 7, "churn crash", 11);
        return -1;
    case K_BOTH_GRANDCHILD: {
        swerl_behavior b = behavior(NULL, grandchild_handle, NULL);
        swerl_spawn_opts o;
        swerl_pid g = 0;
        swerl_spawn_opts_init(&o);
        o.flags = SWERL_SPAWN_LINK;
        int rc = swerl_spawn(rt_of(ctx), &b, NULL, &o, &g);
        if (rc < 0) unexpected("grandchild spawn", rc);
        else COUNT(grandchildren);
        return -1;   /* reason ERROR: the link takes the grandchild along */
    }
    case K_WATCHER: {
        swerl_ref ref = 0;
        if (c->peer) {   /* no peer without the pingpong workload */
            int rc = swerl_monitor(ctx, c->peer, &ref);
            if (rc < 0) unexpected("watcher monitor", rc);
            else if ((rc = swerl_demonitor(ctx, ref, SWERL_DEMONITOR_FLUSH | SWERL_DEMONITOR_INFO)) < 0)
                unexpected("watcher demonitor", rc);
        }
        swerl_trap_exit(ctx, 1);
        return SWERL_STOP;
    }
    default:
        return SWERL_STOP;
    }
}

static void dead_push(churn_state *s, swerl_pid pid)
{
    s->dead[s->n_dead++ % DEAD_RING] = pid;
}

static int churn_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    churn_state *s = state;
    swerl_runtime *rt = rt_of(ctx);
    handled();
    if (m->kind == SWERL_EXIT && m->reason == SWERL_REASON_SHUTDOWN)
        return SWERL_STOP;   /* swerl_runtime_stop: a trapping process is expected to go */
    if (m->kind == SWERL_EXIT || m->kind == SWERL_DOWN) {
        COUNT(churn_seen);
        dead_push(s, m->from);
        return SWERL_CONTINUE;
    }
    if (rd(m).tag != T_TICK) return SWERL_CONTINUE;

    for (uint32_t i = 0; i < s->n_kill; i++) {   /* last tick's named children */
        int rc = swerl_exit(rt, s->to_kill[i], SWERL_REASON_KILL, NULL, 0);
        if (rc == 0) COUNT(churn_killed);
        else unexpected("kill named child", rc);
    }
    s->n_kill = 0;
    if (is_stopping()) return SWERL_CONTINUE;

    /* A dead pid never reaches anyone: every send must be a dead letter. */
    uint32_t known = s->n_dead < DEAD_RING ? s->n_dead : DEAD_RING;
    for (uint32_t i = 0; i < 5 && known; i++) {
        int rc = send_wire(rt, s->dead[below(known)], T_NOISE, 0, 0, 0);
        COUNT(dead_sends);
        if (rc != SWERL_ENOPROC) COUNT(dead_not_enoproc);
    }

    uint32_t n = scaled(10);
    for (uint32_t i = 0; i < n; i++) {
        child_state *c = malloc(sizeof *c);
        if (!c) die("malloc", SWERL_ENOMEM);
        c->kind = (int)below(K_KINDS);
        c->peer = s->peer;
        swerl_behavior b = behavior(child_init, child_handle, free_state);
        swerl_spawn_opts o;
        swerl_ref ref = 0;
        char name[64];
        uint32_t notes_expected = 1;
        swerl_spawn_opts_init(&o);
        o.monitor_ref = &ref;
        switch (c->kind) {
        case K_LINK_NORMAL: o.flags = SWERL_SPAWN_LINK; break;
        case K_BOTH_GRANDCHILD: o.flags = SWERL_SPAWN_LINK | SWERL_SPAWN_MONITOR; notes_expected = 2; break;
        case K_NAMED_KILLED:
            name_of(name, sizeof name, "churn", (unsigned)(s->seq++ % 100000));
            o.name = name;
            o.flags = SWERL_SPAWN_MONITOR;
            break;
        case K_WATCHER: o.flags = SWERL_SPAWN_MONITOR | SWERL_SPAWN_TRAP_EXIT; break;
        default: o.flags = SWERL_SPAWN_MONITOR; break;
        }
        swerl_pid pid = 0;
        int rc = swerl_spawn(rt, &b, c, &o, &pid);
        if (rc < 0) {
            unexpected("churn spawn", rc);
            free(c);
            continue;
        }
        COUNT(churn_spawned);
        for (uint32_t k = 0; k < notes_expected; k++) COUNT(churn_expected);
        if (c->kind == K_NAMED_KILLED && s->n_kill < 64) s->to_kill[s->n_kill++] = pid;
        else if (c->kind == K_NAMED_KILLED) swerl_exit(rt, pid, SWERL_REASON_KILL, NULL, 0);
    }
    int rc = after(rt, swerl_self(ctx), 10, T_TICK, 0, NULL);
    if (rc < 0) unexpected("churn tick", rc);
    return SWERL_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* Timers                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    swerl_ref refs[512];
    uint32_t n;
} timer_state;

/* Cancel a timer; either it had not fired (cancelled) or it already had
   (EREF: its message is or will be counted as fired). */
static void cancel_one(swerl_runtime *rt, swerl_ref ref)
{
    int rc = swerl_cancel_timer(rt, ref, NULL);
    if (rc == 0) COUNT(timers_cancelled);
    else if (rc == SWERL_EREF) COUNT(timers_late);
    else unexpected("cancel timer", rc);
}

static int timers_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    timer_state *s = state;
    swerl_runtime *rt = rt_of(ctx);
    wire w = rd(m);
    handled();
    if (w.tag == T_FIRE) {
        COUNT(timers_fired);
        return SWERL_CONTINUE;
    }
    if (w.tag != T_TICK || is_stopping()) return SWERL_CONTINUE;
    uint32_t n = scaled(20);
    for (uint32_t i = 0; i < n; i++) {
        swerl_ref ref = 0;
        int rc = after(rt, swerl_self(ctx), 1 + below(300), T_FIRE, 0, &ref);
        if (rc < 0) {
            unexpected("send_after", rc);
            continue;
        }
        COUNT(timers_armed);
        if (s->n < 512) s->refs[s->n++] = ref;
        else s->refs[below(512)] = ref;   /* forgotten: it will fire */
    }
    for (uint32_t i = 0; i < n / 2 && s->n; i++) {
        uint32_t k = below(s->n);
        cancel_one(rt, s->refs[k]);
        s->refs[k] = s->refs[--s->n];
    }
    int rc = after(rt, swerl_self(ctx), 10, T_TICK, 0, NULL);
    if (rc < 0) unexpected("timer tick", rc);
    return SWERL_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* The supervision tree: crashing workers, call servers, the bomb            */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint32_t mean_ms;      /* a worker crashes after mean/2 .. 3*mean/2 ms */
} crash_cfg;

static void arm_crash(swerl_ctx *ctx, uint32_t mean_ms)
{
    if (is_stopping()) return;
    int rc = after(rt_of(ctx), swerl_self(ctx), mean_ms / 2 + below(mean_ms), T_CRASH, 0, NULL);
    if (rc < 0) unexpected("arm crash", rc);
}

static int planned_crash(swerl_ctx *ctx)
{
    if (is_stopping()) return SWERL_CONTINUE;   /* the tree settles at the end */
    COUNT(crashes);
    swerl_fail(ctx, SWERL_REASON_USER + 2, "planned crash", 13);
    return -1;
}

static int crashy_init(swerl_ctx *ctx, void *arg, void **state)
{
    const crash_cfg *c = arg;
    uint64_t *st = malloc(sizeof *st);   /* a state to free: terminate must run */
    if (!st) return -1;
    *st = 0;
    *state = st;
    arm_crash(ctx, c->mean_ms);
    return 0;
}

static int crashy_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    uint64_t *st = state;
    handled();
    ++*st;
    if (rd(m).tag == T_CRASH) return planned_crash(ctx);
    return SWERL_CONTINUE;   /* T_NOISE from the admin thread */
}

typedef struct {
    unsigned index;
    uint32_t crash_mean_ms;
} server_cfg;

static int server_init(swerl_ctx *ctx, void *arg, void **state)
{
    const server_cfg *c = arg;
    char name[64];
    name_of(name, sizeof name, "server", c->index);
    int rc = swerl_register(rt_of(ctx), name, swerl_self(ctx));
    if (rc < 0) unexpected("server register", rc);
    *state = arg;
    arm_crash(ctx, c->crash_mean_ms);
    return 0;
}

static int server_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    swerl_runtime *rt = rt_of(ctx);
    wire w = rd(m);
    handled();
    if (m->kind == SWERL_CALL) {
        int rc = 0;
        switch (w.aux) {
        case REQ_FAST: rc = swerl_reply(rt, m->ref, m->data, m->len); break;
        case REQ_DEFER: rc = after(rt, swerl_self(ctx), 5, T_DEFERRED, m->ref, NULL); break;
        default: rc = after(rt, swerl_self(ctx), SLOW_REPLY_MS, T_LATE, m->ref, NULL); break;
        }
        /* EREF on a FAST reply: an async caller's timeout beat us. */
        if (rc < 0 && rc != SWERL_EREF) unexpected("server reply", rc);
        return SWERL_CONTINUE;
    }
    if (w.tag == T_DEFERRED || w.tag == T_LATE) {
        int rc = swerl_reply(rt, w.val, &w, sizeof w);
        if (rc == SWERL_EREF) COUNT(late_replies);          /* the caller gave up: discarded */
        else if (rc < 0) unexpected("deferred reply", rc);
        else if (w.tag == T_LATE) COUNT(late_replies_taken); /* the caller had not timed out yet */
        return SWERL_CONTINUE;
    }
    if (w.tag == T_CRASH) return planned_crash(ctx);
    return SWERL_CONTINUE;
}

/* The bomb: the doomed supervisor's only worker. A storm makes it crash in
   its next incarnations too, so its supervisor (intensity 2) gives up. */
static int bomb_init(swerl_ctx *ctx, void *arg, void **state)
{
    (void)arg;
    *state = NULL;
    int rc = swerl_register(rt_of(ctx), "soak.bomb", swerl_self(ctx));
    if (rc < 0) unexpected("bomb register", rc);
    int left = atomic_load(&storm_left);
    while (left > 0 && !atomic_compare_exchange_weak(&storm_left, &left, left - 1)) {}
    if (left > 0) {
        wire w = {T_CRASH, 0, 0};
        rc = swerl_send(rt_of(ctx), swerl_self(ctx), &w, sizeof w);
        if (rc < 0) unexpected("bomb self-send", rc);
    }
    return 0;
}

static int bomb_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    handled();
    if (rd(m).tag != T_CRASH) return SWERL_CONTINUE;
    COUNT(storm_crashes);
    swerl_fail(ctx, SWERL_REASON_USER + 3, "storm", 5);
    return -1;
}

static const crash_cfg CRASH_FAST = {3000}, CRASH_MID = {4000}, CRASH_SLOW = {6000};
static server_cfg server_cfgs[SERVERS];

/* The tree (22 processes):
     root one_for_one 100000/1s
       ofa    one_for_all  1000/1s: 3 crashy workers
       rfo    rest_for_one 1000/1s: 4 crashy workers
       nest   one_for_one  1000/1s: nest2 (one_for_all: 2 workers), 1 worker
       dyn    simple_one_for_one 1000/1s: transient crashy template
       doomed one_for_one  2/5s: the bomb
       server.0..3 (permanent, rarely crash) */
enum { TREE_PROCESSES = 1 + (1 + 3) + (1 + 4) + (1 + (1 + 2) + 1) + 1 + (1 + 1) + SERVERS };

static swerl_child_spec worker_spec(const char *id, const swerl_behavior *b, const void *arg,
                                    uint32_t restart)
{
    swerl_child_spec c;
    swerl_child_spec_init(&c);
    c.id = id;
    c.behavior = b;
    c.arg = (void *)arg;
    c.restart = restart;
    c.shutdown_ms = 1000;
    return c;
}

static swerl_child_spec sup_spec(const char *id, const swerl_supervisor_spec *s)
{
    swerl_child_spec c;
    swerl_child_spec_init(&c);
    c.id = id;
    c.type = SWERL_SUPERVISOR;
    c.shutdown_ms = SWERL_INFINITY;
    c.supervisor = s;
    return c;
}

static swerl_supervisor_spec sup_of(uint32_t strategy, uint32_t intensity, uint32_t period_ms,
                                    const swerl_child_spec *children, size_t n)
{
    swerl_supervisor_spec s;
    swerl_supervisor_spec_init(&s);
    s.strategy = strategy;
    s.intensity = intensity;
    s.period_ms = period_ms;
    s.children = children;
    s.n_children = n;
    return s;
}

static swerl_pid start_tree(swerl_runtime *rt, swerl_pid *dyn)
{
    static const swerl_behavior crashy = {sizeof(swerl_behavior), crashy_init, crashy_handle, free_state};
    static const swerl_behavior server = {sizeof(swerl_behavior), server_init, server_handle, NULL};
    static const swerl_behavior bomb = {sizeof(swerl_behavior), bomb_init, bomb_handle, NULL};
    swerl_child_spec ofa_c[3], rfo_c[4], nest2_c[2], nest_c[2], dyn_c[1], doomed_c[1];
    swerl_child_spec root_c[5 + SERVERS];
    static const char *const ids[] = {"w0", "w1", "w2", "w3"};
    for (int i = 0; i < 3; i++) ofa_c[i] = worker_spec(ids[i], &crashy, &CRASH_FAST, SWERL_PERMANENT);
    for (int i = 0; i < 4; i++) rfo_c[i] = worker_spec(ids[i], &crashy, &CRASH_MID, SWERL_PERMANENT);
    for (int i = 0; i < 2; i++) nest2_c[i] = worker_spec(ids[i], &crashy, &CRASH_FAST, SWERL_PERMANENT);
    swerl_supervisor_spec nest2 = sup_of(SWERL_ONE_FOR_ALL, 1000, 1000, nest2_c, 2);
    nest_c[0] = sup_spec("nest2", &nest2);
    nest_c[1] = worker_spec("w", &crashy, &CRASH_MID, SWERL_PERMANENT);
    dyn_c[0] = worker_spec("t", &crashy, &CRASH_SLOW, SWERL_TRANSIENT);
    doomed_c[0] = worker_spec("bomb", &bomb, NULL, SWERL_PERMANENT);
    swerl_supervisor_spec ofa = sup_of(SWERL_ONE_FOR_ALL, 1000, 1000, ofa_c, 3);
    swerl_supervisor_spec rfo = sup_of(SWERL_REST_FOR_ONE, 1000, 1000, rfo_c, 4);
    swerl_supervisor_spec nest = sup_of(SWERL_ONE_FOR_ONE, 1000, 1000, nest_c, 2);
    swerl_supervisor_spec dyns = sup_of(SWERL_SIMPLE_ONE_FOR_ONE, 1000, 1000, dyn_c, 1);
    swerl_supervisor_spec doomed = sup_of(SWERL_ONE_FOR_ONE, 2, 5000, doomed_c, 1);
    root_c[0] = sup_spec("ofa", &ofa);
    root_c[1] = sup_spec("rfo", &rfo);
    root_c[2] = sup_spec("nest", &nest);
    root_c[3] = sup_spec("dyn", &dyns);
    root_c[4] = sup_spec("doomed", &doomed);
    static char server_ids[SERVERS][16];
    for (unsigned i = 0; i < SERVERS; i++) {
        server_cfgs[i].index = i;
        server_cfgs[i].crash_mean_ms = 20000;
        snprintf(server_ids[i], sizeof server_ids[i], "server%u", i);
        root_c[5 + i] = worker_spec(server_ids[i], &server, &server_cfgs[i], SWERL_PERMANENT);
    }
    swerl_supervisor_spec root = sup_of(SWERL_ONE_FOR_ONE, 100000, 1000, root_c, 5 + SERVERS);
    swerl_pid pid = 0;
    MUST(swerl_supervisor_start(rt, &root, NULL, &pid));

    swerl_child_info info[5 + SERVERS];
    size_t count = 0;
    info[0].size = sizeof info[0];
    MUST(swerl_supervisor_which_children(rt, pid, info, 5 + SERVERS, &count));
    *dyn = info[3].pid;
    if (count != 5 + SERVERS || strcmp(info[3].id, "dyn") != 0 || !*dyn) die("which_children(root)", SWERL_EINVAL);
    return pid;
}

/* ------------------------------------------------------------------------ */
/* Calls: an async caller process and blocking callers on foreign threads     */
/* ------------------------------------------------------------------------ */

static uint32_t pick_request(void)
{
    uint32_t r = below(100);
    return r < 85 ? REQ_FAST : r < 95 ? REQ_DEFER : REQ_SLOW;
}

static int server_pid(swerl_runtime *rt, unsigned i, swerl_pid *out)
{
    char name[64];
    name_of(name, sizeof name, "server", i);
    return swerl_whereis(rt, name, out);
}

static int async_caller_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    swerl_runtime *rt = rt_of(ctx);
    handled();
    if (m->kind == SWERL_REPLY) {
        switch (m->reason) {
        case 0: COUNT(async_ok); break;
        case SWERL_ETIMEDOUT: COUNT(async_timeout); break;
        case SWERL_EEXITED: COUNT(async_exited); break;
        case SWERL_ENOPROC: COUNT(async_noproc); break;
        default: COUNT(async_other); unexpected("async reply", m->reason); break;
        }
        return SWERL_CONTINUE;
    }
    if (rd(m).tag != T_TICK || is_stopping()) return SWERL_CONTINUE;
    uint32_t n = scaled(10);
    for (uint32_t i = 0; i < n; i++) {
        swerl_pid to = 0;
        if (server_pid(rt, below(SERVERS), &to) < 0) continue;   /* restarting */
        uint32_t kind = pick_request();
        wire w = {T_REQ, kind, i};
        swerl_ref ref = 0;
        int rc = swerl_call_async(ctx, to, &w, sizeof w,
                                  kind == REQ_SLOW ? SLOW_TIMEOUT_MS : CALL_TIMEOUT_MS, &ref);
        if (rc == 0) COUNT(async_calls);
        else unexpected("call_async", rc);
    }
    int rc = after(rt, swerl_self(ctx), 10, T_TICK, 0, NULL);
    if (rc < 0) unexpected("async tick", rc);
    return SWERL_CONTINUE;
}

static swerl_runtime *the_rt;
static double load_t0;   /* when the load started (now_s) */

static void atomic_max(_Atomic uint64_t *p, uint64_t v)
{
    uint64_t cur = atomic_load(p);
    while (v > cur && !atomic_compare_exchange_weak(p, &cur, v)) {}
}

static void *caller_thread(void *unused)
{
    (void)unused;
    swerl_runtime *rt = the_rt;
    uint64_t n = 0;
    while (!is_stopping()) {
        swerl_pid to = 0;
        if (server_pid(rt, below(SERVERS), &to) < 0) {
            COUNT(calls_noname);   /* between a crash and the restart */
            sleep_ms(1);
            continue;
        }
        uint32_t kind = pick_request();
        uint32_t timeout = kind == REQ_SLOW ? SLOW_TIMEOUT_MS : CALL_TIMEOUT_MS;
        wire w = {T_REQ, kind, ++n};
        swerl_buffer reply = {NULL, 0};
        double t0 = now_s();
        int rc = swerl_call(rt, to, &w, sizeof w, timeout, &reply);
        double ms = (now_s() - t0) * 1000.0;
        COUNT(calls);
        switch (rc) {
        case 0:
            COUNT(calls_ok);
            if (kind == REQ_SLOW) COUNT(slow_calls_ok);
            if (kind == REQ_FAST && (reply.len != sizeof w || memcmp(reply.data, &w, sizeof w) != 0))
                unexpected("call reply content", 0);
            break;
        case SWERL_ETIMEDOUT:
            COUNT(calls_timeout);
            if (ms > timeout) atomic_max(&max_call_over_ms, (uint64_t)(ms - timeout));
            break;
        case SWERL_EEXITED: COUNT(calls_exited); break;
        case SWERL_ENOPROC: COUNT(calls_noproc); break;
        default: COUNT(calls_other); unexpected("call", rc); break;
        }
        if (ms > timeout + CALL_SLACK_MS) {
            COUNT(calls_overdue);
            fprintf(stderr, "soak: t=%.1f s: a call (kind %u, timeout %u ms) returned %s after %.0f ms\n",
                    now_s() - load_t0, kind, timeout, swerl_err_name(rc), ms);
        }
        swerl_buffer_free(&reply);
        if (n % 10 == 0) sleep_ms(2);
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Foreign senders: the sink, the bounded mailbox, the pongs by name          */
/* ------------------------------------------------------------------------ */

static swerl_pid sink_pid, bounded_pid;

static void *sender_thread(void *unused)
{
    (void)unused;
    swerl_runtime *rt = the_rt;
    for (uint64_t it = 0; !is_stopping(); it++) {
        uint32_t n = on(W(sink)) ? scaled(200) : 0;
        for (uint32_t i = 0; i < n; i++) {
            int rc = send_wire(rt, sink_pid, T_SINK, 0, i, i % 64);
            if (rc == 0) COUNT(foreign_sent);
            else unexpected("sink send", rc);
        }
        if (on(W(bounded)) && it % 10 == 0) {   /* a burst far above what the bounded mailbox drains */
            uint32_t burst = scaled(500);
            for (uint32_t i = 0; i < burst; i++) {
                int rc = send_wire(rt, bounded_pid, T_BOUNDED, 0, i, 0);
                if (rc == 0) COUNT(bm_sent);
                else unexpected("bounded send", rc);
            }
        }
        for (uint32_t i = 0; on(W(pingpong)) && i < 20; i++) {
            char name[64];
            name_of(name, sizeof name, "pong", below(PAIRS));
            wire w = {T_EXTRA, 0, i};
            int rc = swerl_send_named(rt, name, &w, sizeof w);
            if (rc == 0) COUNT(name_sends);
            else unexpected("send_named pong", rc);
        }
        sleep_ms(10);
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The admin thread: dynamic children, names, foreign timers, trees, storms   */
/* ------------------------------------------------------------------------ */

static swerl_pid root_pid, dyn_pid, timers_pid;

static size_t dyn_children(swerl_runtime *rt, swerl_child_info *buf, size_t cap)
{
    size_t count = 0;
    buf[0].size = sizeof buf[0];
    int rc = swerl_supervisor_which_children(rt, dyn_pid, buf, cap, &count);
    if (rc < 0) {
        unexpected("which_children(dyn)", rc);
        return 0;
    }
    return count < cap ? count : cap;
}

static void dyn_stop(swerl_runtime *rt, swerl_pid pid)
{
    int rc = swerl_supervisor_terminate_pid(rt, dyn_pid, pid);
    if (rc == SWERL_ENOTFOUND) return;   /* it crashed; its restart has another pid */
    if (rc < 0) {
        unexpected("terminate_pid", rc);
        return;
    }
    COUNT(dyn_stopped);
    rc = send_wire(rt, pid, T_NOISE, 0, 0, 0);   /* terminated: a dead letter */
    COUNT(dead_sends);
    if (rc != SWERL_ENOPROC) COUNT(dead_not_enoproc);
}

static void names_round(swerl_runtime *rt, swerl_pid pid, uint64_t seq)
{
    char name[64];
    swerl_pid found = 0;
    name_of(name, sizeof name, "dyn", (unsigned)(seq % 1000));
    int rc = swerl_register(rt, name, pid);
    if (rc == SWERL_EHASNAME || rc == SWERL_ENOPROC || rc == SWERL_ENAMETAKEN) return;
    if (rc < 0) {
        unexpected("register", rc);
        return;
    }
    COUNT(names_registered);
    rc = swerl_whereis(rt, name, &found);
    if (rc == 0 && found != pid) unexpected("whereis gave another pid", 0);
    else if (rc < 0 && rc != SWERL_ENONAME) unexpected("whereis", rc);
    wire w = {T_NOISE, 0, seq};
    rc = swerl_send_named(rt, name, &w, sizeof w);
    if (rc == 0) COUNT(name_sends);
    else if (rc != SWERL_ENONAME && rc != SWERL_ENOPROC) unexpected("send_named", rc);
    if (seq % 2) {
        rc = swerl_unregister(rt, name);
        if (rc == 0) COUNT(names_unregistered);
        else if (rc != SWERL_ENONAME) unexpected("unregister", rc);
    }
}

static void *admin_thread(void *unused)
{
    (void)unused;
    swerl_runtime *rt = the_rt;
    swerl_child_info kids[64];
    swerl_ref foreign_timers[16];
    uint32_t n_ft = 0;
    double last_storm = now_s();
    for (uint64_t it = 0; !is_stopping(); it++) {
        size_t n = on(W(tree)) ? dyn_children(rt, kids, 64) : 0;
        if (n >= DYN_TARGET) {
            swerl_pid victim = kids[below((uint32_t)n)].pid;
            if (victim) dyn_stop(rt, victim);
        }
        swerl_pid pid = 0;
        int rc = 0;
        if (on(W(tree))) {
            rc = swerl_supervisor_spawn_child(rt, dyn_pid, NULL, &pid);
            if (rc == 0) COUNT(dyn_started);
            else unexpected("spawn_child", rc);
            if (rc == 0 && pid && on(W(names))) names_round(rt, pid, it);
        }

        for (uint32_t i = 0; on(W(timers)) && i < 5; i++) {   /* timers from outside any process */
            swerl_ref ref = 0;
            rc = after(rt, timers_pid, 1 + below(200), T_FIRE, 0, &ref);
            if (rc < 0) {
                unexpected("foreign send_after", rc);
                continue;
            }
            COUNT(timers_armed);
            if (n_ft == 16) {
                cancel_one(rt, foreign_timers[0]);
                memmove(foreign_timers, foreign_timers + 1, sizeof foreign_timers[0] * 15);
                n_ft--;
            }
            foreign_timers[n_ft++] = ref;
        }

        if (on(W(tree)) && it % 50 == 0) {   /* about once a second */
            swerl_buffer tree = {NULL, 0};
            rc = swerl_supervisor_tree(rt, root_pid, (it / 50) % 2 ? SWERL_TREE_DOT : SWERL_TREE_JSON, &tree);
            if (rc == 0 && tree.len > 0) COUNT(trees_rendered);
            else unexpected("supervisor_tree", rc);
            swerl_buffer_free(&tree);
            swerl_child_counts cc;
            cc.size = sizeof cc;
            rc = swerl_supervisor_count_children(rt, root_pid, &cc);
            if (rc < 0) unexpected("count_children", rc);
            else if (cc.specs != 5 + SERVERS) unexpected("root lost a child spec", 0);
        }

        if (on(W(tree)) && opt.storm_s > 0 && now_s() - last_storm >= opt.storm_s) {
            swerl_pid bomb = 0;
            if (atomic_load(&storm_left) == 0 && swerl_whereis(rt, "soak.bomb", &bomb) == 0) {
                atomic_store(&storm_left, 2);   /* this crash and the next two incarnations' */
                wire w = {T_CRASH, 0, 0};
                rc = swerl_send(rt, bomb, &w, sizeof w);
                if (rc == 0) {
                    COUNT(storms);
                    last_storm = now_s();
                } else {
                    atomic_store(&storm_left, 0);
                    if (rc != SWERL_ENOPROC) unexpected("storm", rc);
                }
            }
        }
        sleep_ms(20);
    }
    /* The end: the dynamic children go; the steady population stays. */
    for (int round = 0; on(W(tree)) && round < 100; round++) {
        size_t n = dyn_children(rt, kids, 64);
        if (n == 0) break;
        for (size_t i = 0; i < n; i++)
            if (kids[i].pid) dyn_stop(rt, kids[i].pid);
        sleep_ms(10);
    }
    for (uint32_t i = 0; i < n_ft; i++) cancel_one(rt, foreign_timers[i]);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Sampling                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
    double t;
    uint64_t rss_kib, hwm_kib;
    uint64_t anon_kib;              /* RSS without file-backed and shared pages: what the slope is fitted to */
    uint64_t heap_kib;              /* malloc's bytes in use (mallinfo2 uordblks + hblkhd) */
    double load1;
    double cpu_user_s, cpu_sys_s;   /* this process, since it started */
    double steal_pct;               /* the machine's CPU time stolen by the hypervisor since the last sample */
    swerl_stats st;
    uint64_t c[C_COUNT];
} sample;

/* What the checks need of each sample, kept in memory for the whole run
   (the rest goes to the CSV). Small, and touched in full before the load
   starts: a buffer whose pages the run touched one by one (a calloc'd array
   of whole samples, 560 bytes a second) raised RSS by 330 KiB per 10
   minutes by itself, a slope the rss_flat check would blame on the runtime. */
typedef struct {
    double t;
    uint64_t rss_kib, anon_kib, heap_kib;
} point;

/* RSS from /proc/self/statm (resident pages), and in *anon the part not
   backed by files or shared memory (resident - shared). The file-backed
   part, mostly the library's 12 MB of code, comes and goes with the
   machine's page cache: when other work squeezes memory, the kernel drops
   those pages and RSS falls, then rises as they fault back in. Anonymous
   memory is what a leak grows. */
static uint64_t rss_kib_anon(uint64_t *anon)
{
    unsigned long size = 0, resident = 0, shared = 0;
    uint64_t page_kib = (uint64_t)sysconf(_SC_PAGESIZE) / 1024u;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu %lu %lu", &size, &resident, &shared) != 3) resident = shared = 0;
        fclose(f);
    }
    if (anon) *anon = (uint64_t)(resident - (shared < resident ? shared : resident)) * page_kib;
    return (uint64_t)resident * page_kib;
}

static uint64_t rss_kib(void) { return rss_kib_anon(NULL); }

/* Bytes handed out by malloc and not freed, all arenas. RSS can rise
   while this stays flat (fragmentation, freed pages not returned); a leak
   raises both, and survives swerl_runtime_free. */
static uint64_t heap_kib(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)(mi.uordblks + mi.hblkhd) / 1024u;
}

static uint64_t hwm_kib(void)
{
    char line[256];
    unsigned long v = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lu", &v) == 1) break;
    fclose(f);
    return v;
}

static void loadavg(double out[3])
{
    out[0] = out[1] = out[2] = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f) return;
    if (fscanf(f, "%lf %lf %lf", &out[0], &out[1], &out[2]) != 3) out[0] = out[1] = out[2] = -1;
    fclose(f);
}

/* Whether a gap in the samples is the machine's (no CPU for anyone) or
   the soak's own: the process's CPU time and the hypervisor's steal. */
static void cpu_times(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static double steal_pct(void)
{
    static unsigned long long last_total, last_steal;
    unsigned long long v[8] = {0}, total = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    int k = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]);
    fclose(f);
    if (k != 8) return -1;
    for (int i = 0; i < 8; i++) total += v[i];
    double pct = total > last_total ? 100.0 * (double)(v[7] - last_steal) / (double)(total - last_total) : 0;
    last_total = total;
    last_steal = v[7];
    return pct;
}

static swerl_stats stats_of(swerl_runtime *rt)
{
    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    MUST(swerl_runtime_stats(rt, &st));
    return st;
}

static sample take(swerl_runtime *rt, double t0)
{
    sample s;
    double la[3];
    s.t = now_s() - t0;
    s.rss_kib = rss_kib_anon(&s.anon_kib);
    s.hwm_kib = hwm_kib();
    s.heap_kib = heap_kib();
    loadavg(la);
    s.load1 = la[0];
    cpu_times(&s.cpu_user_s, &s.cpu_sys_s);
    s.steal_pct = steal_pct();
    s.st = stats_of(rt);
    for (int i = 0; i < C_COUNT; i++) s.c[i] = atomic_load_explicit(&counters[i], memory_order_relaxed);
    return s;
}

static void csv_header(FILE *f)
{
    fprintf(f, "t_s,rss_kib,anon_kib,hwm_kib,heap_kib,load1,cpu_user_s,cpu_sys_s,steal_pct,processes,spawned,exited,messages_sent,dead_letters,"
               "messages_dropped,restarts,escalations");
    for (int i = 0; i < C_COUNT; i++) fprintf(f, ",%s", counter_names[i]);
    fprintf(f, ",phase\n");
}

/* phase: "load" for the samples of the load phase, "settled" for the one
   taken after the load stopped and the runtime settled. */
static void csv_row(FILE *f, const sample *s, const char *phase)
{
    fprintf(f, "%.3f,%llu,%llu,%llu,%llu,%.2f,%.2f,%.2f,%.1f,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu", s->t,
            (unsigned long long)s->rss_kib, (unsigned long long)s->anon_kib, (unsigned long long)s->hwm_kib, (unsigned long long)s->heap_kib,
            s->load1, s->cpu_user_s,
            s->cpu_sys_s, s->steal_pct,
            (unsigned long long)s->st.processes, (unsigned long long)s->st.spawned,
            (unsigned long long)s->st.exited, (unsigned long long)s->st.messages_sent,
            (unsigned long long)s->st.dead_letters, (unsigned long long)s->st.messages_dropped,
            (unsigned long long)s->st.restarts, (unsigned long long)s->st.escalations);
    for (int i = 0; i < C_COUNT; i++) fprintf(f, ",%llu", (unsigned long long)s->c[i]);
    fprintf(f, ",%s\n", phase);
    fflush(f);
}

/* Least-squares slope of anonymous RSS (KiB per second) over samples with
   t >= from. */
static double rss_slope(const point *v, size_t n, double from, double *mean_out, size_t *used)
{
    double st = 0, sr = 0, stt = 0, str = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].t < from) continue;
        double t = v[i].t, r = (double)v[i].anon_kib;
        st += t; sr += r; stt += t * t; str += t * r;
        k++;
    }
    *used = k;
    *mean_out = k ? sr / (double)k : 0;
    double den = (double)k * stt - st * st;
    return (k >= 3 && den > 0) ? ((double)k * str - st * sr) / den : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Theil-Sen slope of malloc's bytes in use (KiB per second) over samples
   with t >= from: the median of the slopes between every pair, so that a
   few seconds of backlog (a spike of queued messages while the machine
   starved the process) do not tilt it the way they tilt a least-squares
   line. At most 1000 evenly spaced samples take part. */
static double heap_slope(const point *v, size_t n, double from, double *mean_out)
{
    size_t first = 0, k = 0;
    while (first < n && v[first].t < from) first++;
    size_t avail = n - first, stride = avail > 1000 ? avail / 1000 + 1 : 1;
    double *t = NULL, *y = NULL, *slopes = NULL, sum = 0;
    if (avail < 3) return *mean_out = 0, 0;
    t = malloc(avail * sizeof *t);
    y = malloc(avail * sizeof *y);
    if (!t || !y) die("malloc", SWERL_ENOMEM);
    for (size_t i = first; i < n; i += stride, k++) {
        t[k] = v[i].t;
        y[k] = (double)v[i].heap_kib;
        sum += y[k];
    }
    *mean_out = sum / (double)k;
    slopes = malloc(k * (k - 1) / 2 * sizeof *slopes);
    if (!slopes) die("malloc", SWERL_ENOMEM);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            if (t[j] > t[i]) slopes[m++] = (y[j] - y[i]) / (t[j] - t[i]);
    qsort(slopes, m, sizeof *slopes, cmp_double);
    double med = m ? (m % 2 ? slopes[m / 2] : 0.5 * (slopes[m / 2 - 1] + slopes[m / 2])) : 0;
    free(t);
    free(y);
    free(slopes);
    return med;
}

/* ------------------------------------------------------------------------ */
/* The watchdog: a run that hangs still ends with a RESULT line              */
/* ------------------------------------------------------------------------ */

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] =
        "RESULT {\"system\": \"swerl-c\", \"bench\": \"soak\", \"pass\": false, "
        "\"error\": \"watchdog: the run did not finish in time (hang)\"}\n";
    ssize_t w = write(1, msg, sizeof msg - 1);
    (void)w;
    _exit(3);
}

static void on_log(void *user, int level, const char *message, size_t len)
{
    (void)user;
    (void)message;
    (void)len;
    if (level >= 0 && level < 3) atomic_fetch_add_explicit(&log_counts[level], 1, memory_order_relaxed);
}

/* ------------------------------------------------------------------------ */
/* Checks and the report                                                     */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    int ok;         /* 1 pass, 0 fail, -1 not enforced */
    char detail[200];
} check;

static check checks[32];
static int n_checks;

static void add_check(const char *name, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_check(const char *name, int ok, const char *fmt, ...)
{
    check *c = &checks[n_checks++];
    va_list ap;
    c->name = name;
    c->ok = ok;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

static void json_stats(FILE *f, const swerl_stats *st)
{
    fprintf(f, "{\"processes\": %llu, \"spawned\": %llu, \"exited\": %llu, \"messages_sent\": %llu, "
               "\"dead_letters\": %llu, \"messages_dropped\": %llu, \"restarts\": %llu, \"escalations\": %llu}",
            (unsigned long long)st->processes, (unsigned long long)st->spawned,
            (unsigned long long)st->exited, (unsigned long long)st->messages_sent,
            (unsigned long long)st->dead_letters, (unsigned long long)st->messages_dropped,
            (unsigned long long)st->restarts, (unsigned long long)st->escalations);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: soak [--minutes M | --seconds S] [--schedulers K] [--out DIR]\n"
            "            [--interval S] [--load F] [--storm-s S] [--seed N] [--mix W,...]\n"
            "  --minutes/--seconds  length of the load phase (default 10 minutes)\n"
            "  --schedulers K       scheduler threads (default 0: one per CPU)\n"
            "  --out DIR            where soak-<timestamp>.csv goes (default Tests/soak/results)\n"
            "  --interval S         seconds between samples (default 1)\n"
            "  --load F             multiplier of the per-tick work (default 1)\n"
            "  --storm-s S          seconds between designed escalations (default 60; 0: none)\n"
            "  --seed N             random seed\n"
            "  --mix W,W,...        only these workloads (default all): pingpong, fanout,\n"
            "                       bounded, sink, churn, tree, timers, calls, names\n");
    exit(2);
}

static void parse(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage();
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--minutes")) opt.seconds = atof(v) * 60.0;
        else if (!strcmp(a, "--seconds")) opt.seconds = atof(v);
        else if (!strcmp(a, "--schedulers")) opt.schedulers = (unsigned)atoi(v);
        else if (!strcmp(a, "--out")) opt.out = v;
        else if (!strcmp(a, "--interval")) opt.interval = atof(v);
        else if (!strcmp(a, "--load")) opt.load = atof(v);
        else if (!strcmp(a, "--storm-s")) opt.storm_s = atof(v);
        else if (!strcmp(a, "--seed")) opt.seed = strtoull(v, NULL, 0) | 1;
        else if (!strcmp(a, "--mix")) {
            char buf[256], *save = NULL;
            snprintf(buf, sizeof buf, "%s", v);
            opt.mix = 0;
            for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                int k = 0;
                while (k < WB_COUNT && strcmp(w, workload_names[k]) != 0) k++;
                if (k == WB_COUNT) usage();
                opt.mix |= 1u << k;
            }
        } else usage();
    }
    if (!opt.mix) opt.mix = W_ALL;
    if (on(W(calls) | W(names)) && !on(W(tree))) {
        fprintf(stderr, "soak: --mix: calls and names need tree\n");
        exit(2);
    }
    if (opt.seconds <= 0 || opt.interval <= 0 || opt.load <= 0 || opt.storm_s < 0) usage();
}

static swerl_pid spawn_named(swerl_runtime *rt, swerl_handle_fn handle, void *arg, const char *name,
                             uint32_t limit)
{
    swerl_behavior b = behavior(NULL, handle, arg ? free_state : NULL);
    swerl_spawn_opts o;
    swerl_pid pid = 0;
    swerl_spawn_opts_init(&o);
    o.name = name;
    if (limit) {
        o.mailbox_limit = limit;
        o.overflow = SWERL_OVERFLOW_DROP_OLDEST;
    }
    MUST(swerl_spawn(rt, &b, arg, &o, &pid));
    return pid;
}

static void *zalloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p) die("calloc", SWERL_ENOMEM);
    return p;
}

/* The population that lives through the whole run. */
/* The population that lives through the whole run, counted as main
   starts it (the churn's, the dynamic children and the grandchildren come
   and go). */
static int steady_processes, steady_names;

static int all_settled(const sample *s)
{
    return s->st.processes == (uint64_t)steady_processes &&
           s->c[C_churn_seen] == s->c[C_churn_expected] &&
           s->c[C_timers_armed] == s->c[C_timers_fired] + s->c[C_timers_cancelled] &&
           s->c[C_async_calls] == s->c[C_async_ok] + s->c[C_async_timeout] + s->c[C_async_exited] +
                                      s->c[C_async_noproc] + s->c[C_async_other] &&
           s->c[C_foreign_sent] == s->c[C_sink_handled] &&
           s->c[C_bm_sent] == s->c[C_bm_handled] + s->st.messages_dropped &&
           s->st.escalations == s->c[C_storms] && atomic_load(&storm_left) == 0;
}

static int same_counts(const sample *a, const sample *b)
{
    return a->st.processes == b->st.processes && a->st.spawned == b->st.spawned &&
           a->st.exited == b->st.exited && a->st.messages_sent == b->st.messages_sent &&
           a->st.restarts == b->st.restarts && memcmp(a->c, b->c, sizeof a->c) == 0;
}

int main(int argc, char **argv)
{
    parse(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)(opt.seconds + SETTLE_MAX_SECONDS + 120));

    /* The CSV file. */
    char stamp[32], path[4096];
    time_t wall = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&wall));
    mkdir(opt.out, 0777);
    snprintf(path, sizeof path, "%s/soak-%s.csv", opt.out, stamp);
    FILE *csv = fopen(path, "w");
    if (!csv) {
        fprintf(stderr, "soak: cannot write %s: %s\n", path, strerror(errno));
        return 2;
    }
    csv_header(csv);

    double la_start[3];
    loadavg(la_start);
    uint64_t rss_before = rss_kib(), heap_before = heap_kib();

    swerl_config cfg;
    swerl_config_init(&cfg);
    cfg.schedulers = opt.schedulers;
    cfg.on_log = on_log;
    swerl_runtime *rt = NULL;
    MUST(swerl_runtime_start(&cfg, &rt));
    the_rt = rt;
    swerl_stats st0 = stats_of(rt);
    fprintf(stderr, "soak: libswerl %s, %u schedulers, %.0f s of load, load x%.2f, CSV %s\n",
            swerl_version_string(), st0.schedulers, opt.seconds, opt.load, path);

    /* The steady population; each ticking process gets its first tick
       once all are there. */
    swerl_pid tickers[PAIRS + 4];
    size_t n_tickers = 0;
    swerl_pid peer = 0;
    if (on(W(pingpong))) {
        for (unsigned i = 0; i < PAIRS; i++) {
            char name[64];
            name_of(name, sizeof name, "pong", i);
            ping_state *ps = zalloc(sizeof *ps);
            ps->pong = spawn_named(rt, pong_handle, NULL, name, 0);
            tickers[n_tickers++] = spawn_named(rt, ping_handle, ps, NULL, 0);
        }
        peer = tickers[0];
        steady_processes += 2 * PAIRS;
        steady_names += PAIRS;
    }
    if (on(W(fanout))) {
        tickers[n_tickers++] = spawn_named(rt, bcast_handle, zalloc(sizeof(bcast_state)), NULL, 0);
        steady_processes += 1 + SUBSCRIBERS;
    }
    if (on(W(bounded))) {
        bounded_pid = spawn_named(rt, bounded_handle, NULL, "soak.bounded", BOUNDED_LIMIT);
        steady_processes++;
        steady_names++;
    }
    if (on(W(sink))) {
        sink_pid = spawn_named(rt, sink_handle, NULL, "soak.sink", 0);
        steady_processes++;
        steady_names++;
    }
    if (on(W(churn))) {
        churn_state *cs = zalloc(sizeof *cs);
        swerl_behavior b = behavior(NULL, churn_handle, free_state);
        swerl_spawn_opts o;
        cs->peer = peer;
        swerl_spawn_opts_init(&o);
        o.flags = SWERL_SPAWN_TRAP_EXIT;
        MUST(swerl_spawn(rt, &b, cs, &o, &tickers[n_tickers++]));
        steady_processes++;
    }
    if (on(W(timers))) {
        timers_pid = spawn_named(rt, timers_handle, zalloc(sizeof(timer_state)), NULL, 0);
        tickers[n_tickers++] = timers_pid;
        steady_processes++;
    }
    if (on(W(tree))) {
        root_pid = start_tree(rt, &dyn_pid);
        steady_processes += TREE_PROCESSES;
        steady_names += SERVERS + 1;   /* the servers, the bomb */
    }
    if (on(W(calls))) {
        tickers[n_tickers++] = spawn_named(rt, async_caller_handle, NULL, NULL, 0);
        steady_processes++;
    }

    /* The load starts. */
    for (size_t i = 0; i < n_tickers; i++) MUST(send_wire(rt, tickers[i], T_TICK, 0, 0, 0));
    load_t0 = now_s();
    pthread_t threads[4];
    int started[4] = {0, 0, 0, 0};
    void *(*const bodies[4])(void *) = {caller_thread, caller_thread, sender_thread, admin_thread};
    const int wanted[4] = {on(W(calls)), on(W(calls)), on(W(pingpong) | W(bounded) | W(sink)),
                           on(W(tree) | W(timers))};
    for (int i = 0; i < 4; i++) {
        if (!wanted[i]) continue;
        if (pthread_create(&threads[i], NULL, bodies[i], NULL) != 0) die("pthread_create", SWERL_ENOMEM);
        started[i] = 1;
    }

    /* The load phase: one sample per interval. */
    double t0 = load_t0;
    size_t cap = (size_t)(opt.seconds / opt.interval) + 16, n = 0;
    point *v = malloc(cap * sizeof *v);
    if (!v) die("malloc", SWERL_ENOMEM);
    memset(v, 0xff, cap * sizeof *v);   /* resident now, not page by page during the run */
    uint64_t proc_max = 0;
    double last_progress = 0, stall_since = -1, worst_stall = 0;
    uint64_t last_handled = 0;
    double worst_gap = 0, prev_t = 0;
    for (uint64_t k = 1;; k++) {
        double next = t0 + (double)k * opt.interval;
        if (now_s() > next + opt.interval) {   /* late (the machine or us): skip, do not catch up */
            k = (uint64_t)((now_s() - t0) / opt.interval) + 1;
            next = t0 + (double)k * opt.interval;
        }
        while (now_s() < next) {
            double d = next - now_s();
            if (d > 0) sleep_ms((unsigned)(d * 1000.0) + 1);
        }
        sample s = take(rt, t0);
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            if (!v) die("realloc", SWERL_ENOMEM);
        }
        v[n++] = (point){s.t, s.rss_kib, s.anon_kib, s.heap_kib};
        csv_row(csv, &s, "load");
        if (s.t - prev_t > worst_gap) worst_gap = s.t - prev_t;
        prev_t = s.t;
        if (s.st.processes > proc_max) proc_max = s.st.processes;
        if (s.c[C_msgs_handled] == last_handled) {
            if (stall_since < 0) stall_since = s.t;
            if (s.t - stall_since > worst_stall) worst_stall = s.t - stall_since;
        } else {
            stall_since = -1;
        }
        last_handled = s.c[C_msgs_handled];
        if (s.t - last_progress >= 60 || s.t >= opt.seconds) {
            last_progress = s.t;
            fprintf(stderr, "soak: %5.0f s  rss %llu KiB  processes %llu  sent %llu  restarts %llu  load %.2f\n",
                    s.t, (unsigned long long)s.rss_kib, (unsigned long long)s.st.processes,
                    (unsigned long long)s.st.messages_sent, (unsigned long long)s.st.restarts, s.load1);
        }
        if (s.t >= opt.seconds) break;
    }

    /* The end of the load: threads return, ticking processes go idle, the
       churn children and timers run out, the dynamic children are stopped. */
    atomic_store_explicit(&stopping, 1, memory_order_release);
    for (int i = 0; i < 4; i++)
        if (started[i]) pthread_join(threads[i], NULL);
    double settle0 = now_s();
    sample prev = take(rt, t0), cur = prev;
    double quiet_since = now_s();
    int settled = 0;
    while (now_s() - settle0 < SETTLE_MAX_SECONDS) {
        sleep_ms(100);
        cur = take(rt, t0);
        if (!same_counts(&cur, &prev)) quiet_since = now_s();
        prev = cur;
        if (all_settled(&cur) && now_s() - quiet_since >= 1.0) {
            settled = 1;
            break;
        }
        if (now_s() - quiet_since >= 3.0) break;   /* quiet but not settled: report it */
    }
    double settle_s = now_s() - settle0;
    csv_row(csv, &cur, "settled");
    fclose(csv);

    size_t n_names = 0;
    swerl_buffer names = {NULL, 0};
    MUST(swerl_registered(rt, &names, &n_names));
    swerl_buffer_free(&names);

    /* The invariants. */
    const uint64_t *c = cur.c;
    const swerl_stats *fs = &cur.st;
    add_check("settled", settled, "counters quiet and consistent %.1f s after the load stopped", settle_s);
    /* -1 (not enforced) for a check whose workload is not in the mix. */
#define IF_ON(w, cond) (on(w) ? (cond) : -1)
    add_check("escalations_as_designed", fs->escalations == c[C_storms],
              "escalations %llu, designed storms %llu", (unsigned long long)fs->escalations,
              (unsigned long long)c[C_storms]);
    add_check("processes_back_to_steady", fs->processes == (uint64_t)steady_processes,
              "processes %llu, steady population %d", (unsigned long long)fs->processes, steady_processes);
    add_check("names_back_to_steady", n_names == (size_t)steady_names, "registered %zu, steady %d", n_names,
              steady_names);
    uint64_t accounted = c[C_calls_ok] + c[C_calls_timeout] + c[C_calls_exited] + c[C_calls_noproc] +
                         c[C_calls_other];
    add_check("calls_answered_or_timed_out", IF_ON(W(calls), accounted == c[C_calls] && c[C_calls_other] == 0),
              "calls %llu = ok %llu + timeout %llu + exited %llu + noproc %llu + other %llu",
              (unsigned long long)c[C_calls], (unsigned long long)c[C_calls_ok],
              (unsigned long long)c[C_calls_timeout], (unsigned long long)c[C_calls_exited],
              (unsigned long long)c[C_calls_noproc], (unsigned long long)c[C_calls_other]);
    /* A call that returns long after its timeout is the runtime's fault only
       if the soak itself was running: when the sampler was late by as much,
       the whole process had no CPU (see steal_pct and cpu_*_s in the CSV). */
    int starved = worst_gap - opt.interval >= CALL_SLACK_MS / 1000.0;
    add_check("calls_return_near_timeout", IF_ON(W(calls), starved ? -1 : c[C_calls_overdue] == 0),
              "returned > timeout + %.0f ms: %llu; worst lateness of a timeout %llu ms%s", CALL_SLACK_MS,
              (unsigned long long)c[C_calls_overdue], (unsigned long long)atomic_load(&max_call_over_ms),
              starved ? "; not enforced: the sampler itself was late by more than that" : "");
    uint64_t async_acc = c[C_async_ok] + c[C_async_timeout] + c[C_async_exited] + c[C_async_noproc] +
                         c[C_async_other];
    add_check("async_calls_one_reply_each", IF_ON(W(calls), async_acc == c[C_async_calls] && c[C_async_other] == 0),
              "call_async %llu, REPLY messages %llu", (unsigned long long)c[C_async_calls],
              (unsigned long long)async_acc);
    add_check("timers_fired_or_cancelled",
              IF_ON(W(timers), c[C_timers_armed] == c[C_timers_fired] + c[C_timers_cancelled]),
              "armed %llu = fired %llu + cancelled %llu (cancel after firing: %llu)",
              (unsigned long long)c[C_timers_armed], (unsigned long long)c[C_timers_fired],
              (unsigned long long)c[C_timers_cancelled], (unsigned long long)c[C_timers_late]);
    add_check("churn_exits_observed", IF_ON(W(churn), c[C_churn_seen] == c[C_churn_expected]),
              "EXIT/DOWN expected %llu, seen %llu", (unsigned long long)c[C_churn_expected],
              (unsigned long long)c[C_churn_seen]);
    add_check("foreign_sends_delivered", IF_ON(W(sink), c[C_foreign_sent] == c[C_sink_handled]),
              "sent %llu, handled %llu", (unsigned long long)c[C_foreign_sent],
              (unsigned long long)c[C_sink_handled]);
    add_check("bounded_mailbox_conserves",
              IF_ON(W(bounded), c[C_bm_sent] == c[C_bm_handled] + fs->messages_dropped && fs->messages_dropped > 0),
              "sent %llu = handled %llu + dropped %llu", (unsigned long long)c[C_bm_sent],
              (unsigned long long)c[C_bm_handled], (unsigned long long)fs->messages_dropped);
    add_check("dead_letters", c[C_dead_not_enoproc] == 0 && fs->dead_letters >= c[C_dead_sends],
              "sends to dead pids %llu, not ENOPROC %llu, runtime dead_letters %llu",
              (unsigned long long)c[C_dead_sends], (unsigned long long)c[C_dead_not_enoproc],
              (unsigned long long)fs->dead_letters);
    add_check("crashes_restarted", IF_ON(W(tree), c[C_crashes] > 0 && fs->restarts >= c[C_crashes] / 2),
              "planned crashes %llu, restarts %llu", (unsigned long long)c[C_crashes],
              (unsigned long long)fs->restarts);
    add_check("no_unexpected_errors", c[C_unexpected] == 0, "%llu%s%s", (unsigned long long)c[C_unexpected],
              n_notes ? "; first: " : "", n_notes ? notes[0] : "");
    add_check("no_stall", worst_stall < STALL_SECONDS,
              "longest time without a handler call %.1f s; longest gap between samples %.1f s", worst_stall,
              worst_gap);

    /* RSS: the slope over the last half and (shown, not enforced) the last 20%. */
    double mean_half = 0, mean_tail = 0;
    size_t used_half = 0, used_tail = 0;
    double slope_half = rss_slope(v, n, opt.seconds * 0.5, &mean_half, &used_half);   /* KiB/s */
    double slope_tail = rss_slope(v, n, opt.seconds * 0.8, &mean_tail, &used_tail);
    double pct_half = mean_half > 0 ? slope_half * 600.0 / mean_half * 100.0 : 0;
    double pct_tail = mean_tail > 0 ? slope_tail * 600.0 / mean_tail * 100.0 : 0;
    uint64_t rmin = UINT64_MAX, rmax = 0, amin = UINT64_MAX, amax = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].rss_kib < rmin) rmin = v[i].rss_kib;
        if (v[i].rss_kib > rmax) rmax = v[i].rss_kib;
        if (v[i].anon_kib < amin) amin = v[i].anon_kib;
        if (v[i].anon_kib > amax) amax = v[i].anon_kib;
    }
    int rss_enforced = opt.seconds >= RSS_MIN_SECONDS;
    add_check("rss_flat", rss_enforced ? pct_half < RSS_MAX_PCT_PER_10MIN : -1,
              "anonymous RSS, slope over the last half %.1f KiB per 10 min (%.3f%% of %.0f KiB; limit %.1f%%)%s",
              slope_half * 600.0, pct_half, mean_half, RSS_MAX_PCT_PER_10MIN,
              rss_enforced ? "" : "; run too short: not enforced");
    /* RSS can rise with no more memory in use: malloc keeps the pages of a
       past peak, and fragments. malloc's bytes in use tell the two apart. */
    double heap_mean = 0, heap_rate = heap_slope(v, n, opt.seconds * 0.5, &heap_mean);   /* KiB/s */
    double heap_pct = heap_mean > 0 ? heap_rate * 600.0 / heap_mean * 100.0 : 0;
    add_check("heap_in_use_flat", rss_enforced ? heap_pct < RSS_MAX_PCT_PER_10MIN : -1,
              "malloc in use, median slope over the last half %.1f KiB per 10 min (%.3f%% of %.0f KiB; limit %.1f%%)%s",
              heap_rate * 600.0, heap_pct, heap_mean, RSS_MAX_PCT_PER_10MIN,
              rss_enforced ? "" : "; run too short: not enforced");
    uint64_t rss_first = n ? v[0].rss_kib : 0, heap_first = n ? v[0].heap_kib : 0;
    uint64_t anon_first = n ? v[0].anon_kib : 0;
    uint64_t heap_max = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].heap_kib > heap_max) heap_max = v[i].heap_kib;
    free(v);   /* before the heap is measured below */
    v = NULL;

    /* A clean stop, and the counts afterwards. */
    double ts = now_s();
    int stop_rc = swerl_runtime_stop(rt, 5000);
    double stop_s = now_s() - ts;
    swerl_stats after_stop = stats_of(rt);
    swerl_runtime_free(rt);
    uint64_t rss_after_free = rss_kib(), heap_after_free = heap_kib();
    malloc_trim(0);   /* what RSS the freed memory leaves once glibc returns it */
    uint64_t rss_after_trim = rss_kib();
    /* Everything the runtime allocated must be freed by swerl_runtime_free,
       whatever the length of the run: what stays is the Swift runtime's
       one-time metadata and the soak's own few buffers (README.md). */
    long heap_kept = (long)heap_after_free - (long)heap_before;
    add_check("heap_released_after_free", heap_kept < HEAP_KEPT_MAX_KIB,
              "malloc'd and not freed after swerl_runtime_free: %ld KiB (limit %d KiB); RSS after "
              "malloc_trim %llu KiB (before the runtime %llu KiB)",
              heap_kept, HEAP_KEPT_MAX_KIB, (unsigned long long)rss_after_trim,
              (unsigned long long)rss_before);
    add_check("clean_stop", stop_rc == 0 && after_stop.processes == 0 && after_stop.spawned == after_stop.exited,
              "swerl_runtime_stop %s in %.2f s; afterwards processes %llu, spawned %llu, exited %llu",
              swerl_err_name(stop_rc), stop_s, (unsigned long long)after_stop.processes,
              (unsigned long long)after_stop.spawned, (unsigned long long)after_stop.exited);

    int pass = 1;
    for (int i = 0; i < n_checks; i++) {
        if (checks[i].ok == 0) pass = 0;
        fprintf(stderr, "soak: %-28s %s  %s\n", checks[i].name,
                checks[i].ok > 0 ? "ok  " : checks[i].ok < 0 ? "n/a " : "FAIL", checks[i].detail);
    }
    for (int i = 0; i < n_notes; i++) fprintf(stderr, "soak: unexpected: %s\n", notes[i]);

    double la_end[3];
    loadavg(la_end);
    printf("RESULT {\"system\": \"swerl-c\", \"bench\": \"soak\", \"pass\": %s, \"version\": \"%s\", "
           "\"schedulers\": %u, \"load_seconds\": %.1f, \"interval_s\": %.2f, \"load\": %.2f, "
           "\"settle_s\": %.2f, \"csv\": \"%s\", \"samples\": %zu, \"worst_sample_gap_s\": %.2f, ",
           pass ? "true" : "false", swerl_version_string(), st0.schedulers, opt.seconds, opt.interval,
           opt.load, settle_s, path, n, worst_gap);
    printf("\"mix\": [");
    for (int i = 0, k = 0; i < WB_COUNT; i++)
        if (on(1u << i)) printf("%s\"%s\"", k++ ? ", " : "", workload_names[i]);
    printf("], ");
    if (n) {
        printf("\"cpu_s\": {\"user\": %.1f, \"sys\": %.1f}, ", cur.cpu_user_s, cur.cpu_sys_s);
    }
    printf("\"loadavg_start\": [%.2f, %.2f, %.2f], \"loadavg_end\": [%.2f, %.2f, %.2f], ", la_start[0],
           la_start[1], la_start[2], la_end[0], la_end[1], la_end[2]);
    printf("\"rss_kib\": {\"before_runtime\": %llu, \"start\": %llu, \"min\": %llu, \"max\": %llu, "
           "\"end\": %llu, \"hwm\": %llu, \"after_free\": %llu, \"after_free_and_trim\": %llu}, ",
           (unsigned long long)rss_before, (unsigned long long)rss_first, (unsigned long long)rmin,
           (unsigned long long)rmax, (unsigned long long)cur.rss_kib, (unsigned long long)cur.hwm_kib,
           (unsigned long long)rss_after_free, (unsigned long long)rss_after_trim);
    printf("\"anon_rss_kib\": {\"start\": %llu, \"min\": %llu, \"max\": %llu, \"end\": %llu}, ",
           (unsigned long long)anon_first, (unsigned long long)amin, (unsigned long long)amax,
           (unsigned long long)cur.anon_kib);
    printf("\"heap_kib\": {\"before_runtime\": %llu, \"start\": %llu, \"max\": %llu, \"end\": %llu, "
           "\"after_free\": %llu}, ",
           (unsigned long long)heap_before, (unsigned long long)heap_first, (unsigned long long)heap_max,
           (unsigned long long)cur.heap_kib, (unsigned long long)heap_after_free);
    printf("\"rss_slope\": {\"last_half_kib_per_10min\": %.1f, \"last_half_pct_per_10min\": %.3f, "
           "\"last_half_samples\": %zu, \"last_20pct_kib_per_10min\": %.1f, \"last_20pct_pct_per_10min\": %.3f, "
           "\"limit_pct_per_10min\": %.1f, \"enforced\": %s, \"heap_in_use_last_half_kib_per_10min\": %.1f, "
           "\"heap_in_use_last_half_pct_per_10min\": %.3f}, ",
           slope_half * 600.0, pct_half, used_half, slope_tail * 600.0, pct_tail, RSS_MAX_PCT_PER_10MIN,
           rss_enforced ? "true" : "false", heap_rate * 600.0, heap_pct);
    printf("\"processes\": {\"steady\": %d, \"max\": %llu, \"end\": %llu}, \"names_end\": %zu, ", steady_processes,
           (unsigned long long)proc_max, (unsigned long long)fs->processes, n_names);
    printf("\"stats_end\": ");
    json_stats(stdout, fs);
    printf(", \"stats_after_stop\": ");
    json_stats(stdout, &after_stop);
    printf(", \"on_log\": {\"error\": %llu, \"warning\": %llu, \"info\": %llu}, ",
           (unsigned long long)log_counts[0], (unsigned long long)log_counts[1],
           (unsigned long long)log_counts[2]);
    printf("\"counters\": {");
    for (int i = 0; i < C_COUNT; i++)
        printf("%s\"%s\": %llu", i ? ", " : "", counter_names[i], (unsigned long long)c[i]);
    printf(", \"max_call_over_ms\": %llu}, \"checks\": [", (unsigned long long)atomic_load(&max_call_over_ms));
    for (int i = 0; i < n_checks; i++)
        printf("%s{\"name\": \"%s\", \"ok\": %s, \"detail\": \"%s\"}", i ? ", " : "", checks[i].name,
               checks[i].ok > 0 ? "true" : checks[i].ok < 0 ? "null" : "false", checks[i].detail);
    printf("]}\n");
    return pass ? 0 : 1;
}
