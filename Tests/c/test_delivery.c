/*
 * test_delivery.c — exactly once, in order, or accounted for: ten million
 * messages from foreign threads and from processes (spread over every
 * scheduler) into receivers that are killed mid-stream and replaced.
 *
 * Each message carries (sender, receiver incarnation, sequence). A sender
 * numbers its messages per receiver incarnation, counting only the sends
 * that returned 0, so an incarnation must see from each sender exactly
 * 0, 1, 2, ... : a duplicate, a loss in the middle or a reordering breaks
 * the run (OTP-7). A killed incarnation sees a prefix of that sequence; the
 * rest was accepted but still queued when it died.
 *
 * What is observable, and how the accounts close:
 *   - senders know, per incarnation, how many sends returned 0 (accepted)
 *     and how many returned ENOPROC;
 *   - receivers know how many they handled from each sender (a live one at
 *     once, a dead one as it was at its terminate callback);
 *   - the runtime counts a dead letter for every ENOPROC and for every
 *     accepted message that was never handled because its receiver died
 *     (dropped from the mailbox at the exit, or arriving at the dying or
 *     dead process). It does not say which process a dead letter was for:
 *     the count of messages queued at one incarnation's death is only the
 *     difference accepted - handled, and only the total is checked against
 *     the runtime:  dead_letters = ENOPROC + sum(accepted - handled)  and
 *     messages_sent = every send of the program that returned 0.
 *   - process_info's message_queue_len is a live snapshot only: there is no
 *     "queue length at death".
 *
 * Churn: a spawner process (trapping exits) starts every receiver with
 * spawn_link + spawn_monitor, plus a linked short-lived process each time;
 * a churn thread retires incarnations, round after round, all positions at
 * once, by swerl_exit KILL, by swerl_exit with a user reason, or by a message
 * that makes the handler crash (messages behind it stay queued), and has the
 * spawner start the replacements. Senders hold a credit of in-flight messages per incarnation,
 * so mailboxes stay bounded whatever the scheduling.
 *
 * Shared binaries (since 1.4): every SHARE_EVERY-th send of each sender is
 * a swerl_send_binary of a new binary holding the same record and a
 * payload, whose reference the sender releases right after the send. The
 * receiver checks the record as any message's and the payload's bytes;
 * some it keeps (swerl_binary_keep) past the handler, checks again and
 * releases at a later message or in its terminate, so kept references
 * outlive the sender's, meet every way an incarnation dies, and, in the
 * live incarnations, outlive the sender threads themselves (joined before
 * the stop runs the terminates). Whether
 * each binary is freed exactly once is seen through the memory ceiling
 * (set far above anything the run holds, so that it never refuses): a
 * binary is charged once, at its first send, and refunded when its last
 * reference goes. When everything is handled, what is charged is exactly
 * the kept binaries of the live incarnations (a binary never freed would
 * stay charged); after the stop, which runs their terminates, nothing.
 * A binary freed twice is ASan's to see (make test-c-asan).
 *
 * Functions covered: swerl_send (threads, processes), swerl_spawn (LINK,
 *   MONITOR inside a handler), swerl_exit, swerl_trap_exit, swerl_fail,
 *   swerl_runtime_stats, swerl_process_get_info, swerl_runtime_set_max_memory,
 *   swerl_binary_new, swerl_send_binary, swerl_binary_keep,
 *   swerl_binary_data, swerl_binary_size, swerl_binary_release.
 * Statements: OTP-7 (per-sender order, one sender to one receiver),
 *   OTP-2 (a message addressed to one incarnation never reaches the next),
 *   OTP-16/20/21b/e/h (the spawner's EXITs), OTP-24 (DOWN with the real
 *   reason), OTP-37 (dead incarnations: ENOPROC).
 *
 * SWERL_TEST_SCALE divides the 10,000,000 messages.
 */
#include "check.h"

#include <sched.h>

#define LONG_WAIT_MS 900000u

enum {
    THREAD_SENDERS = 4,
    PROC_SENDERS = 8,
    SENDERS = THREAD_SENDERS + PROC_SENDERS,
    POSITIONS = 16,              /* receivers alive at any time */
    MAX_INC = 1 << 15,           /* receiver incarnations in all */
    CREDIT = 128,                /* in-flight messages per sender and incarnation */
    BATCH = 256,                 /* sends per handler call of a sender process */
    SHARE_EVERY = 16,            /* every 16th send of a sender is a shared binary */
    KEEP_EVERY = 4,              /* a receiver keeps every 4th binary it gets ... */
    KEPT_MAX = 4                 /* ... holding at most this many at once */
};

/* Far above what the run ever holds: the ceiling only counts. */
#define CEILING ((uint64_t)1 << 40)

enum { DIE_SENDER = 0xdead };    /* the churn thread's "crash now" message */
enum { R_EXIT = SWERL_REASON_USER + 3, R_DIE = SWERL_REASON_USER + 4 };
enum { HOW_KILL, HOW_EXIT, HOW_DIE, N_HOW };

typedef struct data_msg {
    uint32_t sender;             /* 0..SENDERS-1, or DIE_SENDER */
    uint32_t inc;                /* the incarnation it was addressed to */
    uint64_t seq;                /* per (sender, incarnation), accepted sends only */
    swerl_pid to;
} data_msg;

typedef struct incarnation {
    swerl_pid pid;               /* atomic: set by its init */
    uint32_t index, position;
    int how;                     /* how the churn retires it */
    uint64_t handled[SENDERS];   /* atomic: written by the receiver only */
    uint64_t accepted[SENDERS];  /* written by each sender in its own cell */
    uint64_t enoproc[SENDERS];   /* the same */
    uint64_t order_errors, strays;   /* atomic */
    int32_t reason;
    int inited, terminated;      /* atomic */
    /* Shared binaries: kept by the receiver (its callbacks only), and what
       they cost against the ceiling (atomic: read at the end). */
    swerl_binary *kept[KEPT_MAX];
    uint32_t n_kept;
    uint64_t kept_cost;
    uint64_t shared, bad_binaries;   /* atomic */
} incarnation;

static incarnation g_inc[MAX_INC];
static uint32_t g_ninc;                        /* atomic: incarnations made */
static incarnation *g_pos[POSITIONS];          /* atomic: each position's latest */
static swerl_pid g_sender_pid[SENDERS];        /* processes' pids (0 for threads) */
static swerl_runtime *g_rt;
static uint64_t g_per_sender;                  /* messages each sender sends */

/* Sends of the program that are not data, to close the accounts. */
static uint64_t g_other_ok, g_other_enoproc, g_other_failed;   /* atomic */
/* The spawner's view. */
static uint64_t g_exit_by_reason[4], g_down_by_reason[4], g_exit_other, g_down_other; /* atomic */
static uint64_t g_temp_exits, g_spawn_errors;                                          /* atomic */
static uint64_t g_send_errors;                 /* atomic: unexpected codes */
static int g_go, g_churn_stop;                 /* atomic */
static uint64_t g_senders_done;                /* atomic */
static uint64_t g_binaries, g_kept;            /* atomic: binaries made, references kept by receivers */

static int other_send(swerl_runtime *rt, swerl_pid to, const void *d, size_t n)
{
    int rc = swerl_send(rt, to, d, n);
    if (rc == 0) AT_ADD(&g_other_ok, 1);
    else if (rc == SWERL_ENOPROC) AT_ADD(&g_other_enoproc, 1);
    else AT_ADD(&g_other_failed, 1);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Receivers                                                                 */
/* ------------------------------------------------------------------------ */

static int r_init(swerl_ctx *ctx, void *arg, void **state)
{
    incarnation *in = (incarnation *)arg;
    AT_STORE(&in->pid, swerl_self(ctx));
    AT_STORE(&in->inited, 1);
    AT_STORE(&g_pos[in->position], in);        /* senders switch to it now */
    *state = in;
    return 0;
}

/* A binary's payload: after the record, a pattern of its length and seq. */
static size_t binary_len(uint64_t seq) { return sizeof(data_msg) + 16 + (size_t)(seq % 8) * 16; }

static uint8_t payload_byte(const data_msg *d, size_t i)
{
    return (uint8_t)(d->seq * 7 + d->sender + i * 31);
}

/* A shared message's bytes: a record, then the payload of its seq. */
static int binary_intact(const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    data_msg d;
    size_t i;
    if (len < sizeof d) return 0;
    memcpy(&d, p, sizeof d);
    if (len != binary_len(d.seq)) return 0;
    for (i = sizeof d; i < len; i++)
        if (p[i] != payload_byte(&d, i)) return 0;
    return 1;
}

/* A binary kept since an earlier message: still the record this
   incarnation handled, its payload intact; then released. */
static void release_kept(incarnation *in, swerl_binary *b)
{
    data_msg d;
    const void *data = swerl_binary_data(b);
    size_t len = swerl_binary_size(b);
    if (!binary_intact(data, len)) {
        AT_ADD(&in->bad_binaries, 1);
    } else {
        memcpy(&d, data, sizeof d);
        if (d.inc != in->index || d.to != AT_LOAD(&in->pid) || d.sender >= SENDERS ||
            d.seq >= AT_LOAD(&in->handled[d.sender]))
            AT_ADD(&in->bad_binaries, 1);
    }
    AT_ADD(&in->kept_cost, -(uint64_t)(len + SWERL_BINARY_OVERHEAD));
    swerl_binary_release(b);
}

/* Keep every KEEP_EVERY-th shared message's binary past the handler (the
   oldest kept one is checked and released to make room). */
static void keep_binary(incarnation *in, const swerl_message *m)
{
    swerl_binary *b = NULL;
    if (AT_ADD(&in->shared, 1) % KEEP_EVERY != 1) return;
    if (swerl_binary_keep(m, &b) != 0 || swerl_binary_data(b) != m->data || swerl_binary_size(b) != m->len) {
        AT_ADD(&in->bad_binaries, 1);
        swerl_binary_release(b);
        return;
    }
    if (in->n_kept == KEPT_MAX) {
        release_kept(in, in->kept[0]);
        memmove(&in->kept[0], &in->kept[1], (KEPT_MAX - 1) * sizeof in->kept[0]);
        in->n_kept--;
    }
    in->kept[in->n_kept++] = b;
    AT_ADD(&in->kept_cost, (uint64_t)(m->len + SWERL_BINARY_OVERHEAD));
    AT_ADD(&g_kept, 1);
}

static int r_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    incarnation *in = (incarnation *)state;
    int shared = (m->flags & SWERL_MESSAGE_SHARED) != 0;
    data_msg d;
    if (m->kind != SWERL_MESSAGE || (shared ? !binary_intact(m->data, m->len) : m->len != sizeof d)) {
        AT_ADD(&in->strays, 1);
        return SWERL_CONTINUE;
    }
    memcpy(&d, m->data, sizeof d);
    if (d.to != swerl_self(ctx) || d.inc != in->index) {      /* OTP-2 */
        AT_ADD(&in->strays, 1);
        return SWERL_CONTINUE;
    }
    if (d.sender == DIE_SENDER) {
        swerl_fail(ctx, R_DIE, "die", 3);
        return -1;
    }
    if (d.sender >= SENDERS || m->from != g_sender_pid[d.sender]) {
        AT_ADD(&in->strays, 1);
        return SWERL_CONTINUE;
    }
    /* OTP-7: from one sender, 0, 1, 2, ... with nothing missing */
    if (d.seq != in->handled[d.sender]) AT_ADD(&in->order_errors, 1);
    AT_STORE(&in->handled[d.sender], d.seq + 1);
    if (shared) keep_binary(in, m);
    return SWERL_CONTINUE;
}

static void r_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    incarnation *in = (incarnation *)state;
    (void)ctx;
    while (in->n_kept > 0) release_kept(in, in->kept[--in->n_kept]);
    in->reason = reason;
    AT_STORE(&in->terminated, 1);
}

/* ------------------------------------------------------------------------ */
/* Senders                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct sender {
    uint32_t id;
    uint64_t sent;               /* messages sent so far (accepted or not) */
    uint32_t cursor;             /* next position to try */
    uint64_t ok, enoproc, yields;
} sender;

static sender g_senders[SENDERS];

/* swerl_send_binary of a new binary holding `d` and its payload; the
   sender's reference is released at once, whatever the send returned. */
static int send_binary(swerl_runtime *rt, swerl_pid to, const data_msg *d)
{
    size_t len = binary_len(d->seq), i;
    swerl_binary *b = NULL;
    void *data = NULL;
    uint8_t *bytes;
    int rc = swerl_binary_new(len, &b, &data);
    if (rc != 0) return rc;
    bytes = (uint8_t *)data;
    memcpy(bytes, d, sizeof *d);
    for (i = sizeof *d; i < len; i++) bytes[i] = payload_byte(d, i);
    AT_ADD(&g_binaries, 1);
    rc = swerl_send_binary(rt, to, b);
    swerl_binary_release(b);
    return rc;
}

/* One send to the next position with credit; 0 if every position is full. */
static int send_one(swerl_runtime *rt, sender *s)
{
    uint32_t tries;
    for (tries = 0; tries < POSITIONS; tries++) {
        incarnation *in = AT_LOAD(&g_pos[s->cursor]);
        swerl_pid to;
        data_msg d;
        int rc;
        s->cursor = (s->cursor + 1) % POSITIONS;
        to = AT_LOAD(&in->pid);
        /* a dead incarnation gets one ENOPROC from each sender, then the
           sender waits for its replacement */
        if (in->enoproc[s->id] != 0) continue;
        if (in->accepted[s->id] - AT_LOAD(&in->handled[s->id]) >= CREDIT && !AT_LOAD(&in->terminated))
            continue;
        memset(&d, 0, sizeof d);
        d.sender = s->id;
        d.inc = in->index;
        d.seq = in->accepted[s->id];
        d.to = to;
        rc = s->sent % SHARE_EVERY == SHARE_EVERY - 1 ? send_binary(rt, to, &d) : swerl_send(rt, to, &d, sizeof d);
        if (rc == 0) {
            in->accepted[s->id]++;
            s->ok++;
        } else if (rc == SWERL_ENOPROC) {
            in->enoproc[s->id]++;
            s->enoproc++;
        } else {
            AT_ADD(&g_send_errors, 1);
        }
        s->sent++;
        return 1;
    }
    s->yields++;
    return 0;
}

static void *sender_thread(void *arg)
{
    sender *s = (sender *)arg;
    while (!AT_LOAD(&g_go)) sched_yield();
    while (s->sent < g_per_sender)
        if (!send_one(g_rt, s)) {
            struct timespec ts;   /* no credit anywhere: let the receivers run */
            ts.tv_sec = 0;
            ts.tv_nsec = 50000;
            nanosleep(&ts, NULL);
        }
    AT_ADD(&g_senders_done, 1);
    return NULL;
}

/* A sender process: BATCH sends per turn, then a message to itself to come
   back after the others had theirs (or a 1 ms receive timeout when no
   receiver has credit left). */
static int psender_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    sender *s = (sender *)state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    int i;
    (void)m;
    for (i = 0; i < BATCH && s->sent < g_per_sender; i++)
        if (!send_one(rt, s)) break;
    if (s->sent < g_per_sender) {
        if (i == BATCH) other_send(rt, swerl_self(ctx), "more", 4);
        else swerl_receive_timeout(ctx, 1);   /* no credit anywhere: come back in 1 ms */
        return SWERL_CONTINUE;
    }
    AT_ADD(&g_senders_done, 1);
    return SWERL_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* Churn                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct spawn_cmd { uint32_t index; } spawn_cmd;

static int temp_init(swerl_ctx *ctx, void *arg, void **state)
{
    (void)ctx;
    (void)arg;
    (void)state;
    return SWERL_IGNORE;         /* exits NORMAL at once */
}

static int temp_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)m;
    (void)state;
    return SWERL_STOP;
}

static int reason_slot(int32_t reason)
{
    switch (reason) {
    case SWERL_REASON_KILLED: return HOW_KILL;
    case R_EXIT: return HOW_EXIT;
    case R_DIE: return HOW_DIE;
    default: return 3;
    }
}

static int spawner_init(swerl_ctx *ctx, void *arg, void **state)
{
    (void)arg;
    (void)state;
    swerl_trap_exit(ctx, 1);
    return 0;
}

static int spawner_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    (void)state;
    if (m->kind == SWERL_EXIT) {                                  /* OTP-16/20 */
        if (m->from == 0 && m->reason == SWERL_REASON_SHUTDOWN) return SWERL_STOP;   /* runtime stop */
        if (m->reason == SWERL_REASON_NORMAL) AT_ADD(&g_temp_exits, 1);   /* OTP-21b */
        else {
            int k = reason_slot(m->reason);
            if (k < 3) AT_ADD(&g_exit_by_reason[k], 1);
            else AT_ADD(&g_exit_other, 1);
        }
        return SWERL_CONTINUE;
    }
    if (m->kind == SWERL_DOWN) {                                  /* OTP-24 */
        int k = reason_slot(m->reason);
        if (k < 3) AT_ADD(&g_down_by_reason[k], 1);
        else AT_ADD(&g_down_other, 1);
        return SWERL_CONTINUE;
    }
    if (m->kind == SWERL_MESSAGE && m->len == sizeof(spawn_cmd)) {
        spawn_cmd c;
        swerl_behavior rb, tb;
        swerl_spawn_opts o;
        swerl_ref ref = 0;
        swerl_pid p = 0;
        memcpy(&c, m->data, sizeof c);
        memset(&rb, 0, sizeof rb);
        rb.size = (uint32_t)sizeof rb;
        rb.init = r_init;
        rb.handle = r_handle;
        rb.terminate = r_terminate;
        tb = rb;
        tb.init = temp_init;
        tb.handle = temp_handle;
        tb.terminate = NULL;
        swerl_spawn_opts_init(&o);
        o.flags = SWERL_SPAWN_LINK | SWERL_SPAWN_MONITOR;
        o.monitor_ref = &ref;
        if (swerl_spawn(rt, &rb, &g_inc[c.index], &o, &p) != 0 || ref == 0) AT_ADD(&g_spawn_errors, 1);
        o.flags = SWERL_SPAWN_LINK;
        o.monitor_ref = NULL;
        if (swerl_spawn(rt, &tb, NULL, &o, &p) != 0) AT_ADD(&g_spawn_errors, 1);
        return SWERL_CONTINUE;
    }
    AT_ADD(&g_spawn_errors, 1);
    return SWERL_CONTINUE;
}

static swerl_pid g_spawner;

/* Ask the spawner for a new incarnation at `position`; its init publishes
   it there. NULL if the request could not be sent. */
static incarnation *request_incarnation(uint32_t position)
{
    uint32_t index = AT_ADD(&g_ninc, 1) - 1;
    incarnation *in = &g_inc[index];
    spawn_cmd c;
    in->index = index;
    in->position = position;
    in->how = (int)(index % N_HOW);
    c.index = index;
    return other_send(g_rt, g_spawner, &c, sizeof c) == 0 ? in : NULL;
}

static uint64_t g_retired;                     /* atomic */

/* Retire the incarnation at `position`: KILL, a user reason, or a message
   that makes it crash once it gets there (what is queued behind it stays). */
static void retire(incarnation *old)
{
    swerl_pid p = AT_LOAD(&old->pid);
    data_msg d;
    int rc;
    switch (old->how) {
    case HOW_KILL:
        rc = swerl_exit(g_rt, p, SWERL_REASON_KILL, NULL, 0);               /* OTP-21e */
        break;
    case HOW_EXIT:
        rc = swerl_exit(g_rt, p, R_EXIT, "churn", 5);                       /* OTP-21h */
        break;
    default:
        memset(&d, 0, sizeof d);
        d.sender = DIE_SENDER;
        d.inc = old->index;
        d.to = p;
        rc = other_send(g_rt, p, &d, sizeof d);
        break;
    }
    if (rc != 0) AT_ADD(&g_send_errors, 1);
}

/* Rounds: retire every position's incarnation and ask for its replacement
   at once, then wait until all the old ones terminated and the new ones
   run. */
static void *churn_thread(void *arg)
{
    (void)arg;
    while (!AT_LOAD(&g_churn_stop) && AT_LOAD(&g_ninc) + POSITIONS < MAX_INC) {
        incarnation *old[POSITIONS], *repl[POSITIONS];
        uint32_t p;
        int all;
        for (p = 0; p < POSITIONS; p++) {
            old[p] = AT_LOAD(&g_pos[p]);
            retire(old[p]);
            repl[p] = request_incarnation(p);
            if (!repl[p]) {
                AT_ADD(&g_send_errors, 1);
                return NULL;
            }
        }
        for (p = 0, all = 1; p < POSITIONS; p++) {
            WAIT_UNTIL_MS(AT_LOAD(&old[p]->terminated) && AT_LOAD(&repl[p]->inited), LONG_WAIT_MS);
            all = all && AT_LOAD(&old[p]->terminated) && AT_LOAD(&repl[p]->inited);
        }
        if (!all) {
            AT_ADD(&g_send_errors, 1);
            return NULL;
        }
        AT_ADD(&g_retired, POSITIONS);
        {
            struct timespec ts;   /* pace, not synchronization: let the new ones work a while */
            ts.tv_sec = 0;
            ts.tv_nsec = 20000000;
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The run                                                                   */
/* ------------------------------------------------------------------------ */

static swerl_stats stats_quiet(swerl_runtime *rt)
{
    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    (void)swerl_runtime_stats(rt, &st);
    return st;
}

static int drained(void)
{
    int p, s;
    for (p = 0; p < POSITIONS; p++) {
        incarnation *in = AT_LOAD(&g_pos[p]);
        for (s = 0; s < SENDERS; s++)
            if (AT_LOAD(&in->handled[s]) != in->accepted[s]) return 0;
    }
    return 1;
}

static int is_live_incarnation(const incarnation *in)
{
    return AT_LOAD(&g_pos[in->position]) == in;
}

static void t_delivery(void)
{
    swerl_runtime *rt = check_start_rt(0, 0);
    swerl_behavior sb, pb;
    swerl_stats s0, s1;
    pthread_t th[THREAD_SENDERS], churn;
    uint64_t total = check_scaled(10000000, 12000), other_ok0, other_enoproc0;
    uint64_t acc = 0, handled = 0, enoproc = 0, queued = 0, sent = 0, ok = 0, sender_enoproc = 0;
    uint64_t order_errors = 0, strays = 0, bad_reason = 0, bad_dead = 0, live_queued = 0;
    uint64_t more_than_accepted = 0, dead_with_queue = 0, max_queued = 0, expected_how[N_HOW] = {0, 0, 0};
    uint64_t kept_cost = 0, shared = 0, bad_binaries = 0;
    uint32_t n, i;
    double t0, ms;
    int s, p;
    if (!rt) return;
    g_rt = rt;
    CHECK_EQ_INT(swerl_runtime_set_max_memory(rt, CEILING), 0);
    g_per_sender = (total + SENDERS - 1) / SENDERS;
    total = g_per_sender * SENDERS;

    memset(&sb, 0, sizeof sb);
    sb.size = (uint32_t)sizeof sb;
    sb.init = spawner_init;
    sb.handle = spawner_handle;
    CHECK_EQ_INT(swerl_spawn(rt, &sb, NULL, NULL, &g_spawner), 0);
    for (p = 0; p < POSITIONS; p++) {
        incarnation *in = request_incarnation((uint32_t)p);
        if (!CHECK(in != NULL)) return;
        CHECK_WAIT(AT_LOAD(&in->inited));
    }

    /* sender processes, spawned from this thread: round robin over the
       schedulers */
    memset(&pb, 0, sizeof pb);
    pb.size = (uint32_t)sizeof pb;
    pb.handle = psender_handle;
    for (s = 0; s < SENDERS; s++) g_senders[s].id = (uint32_t)s;
    for (s = THREAD_SENDERS; s < SENDERS; s++) {
        swerl_pid pid = 0;
        CHECK_EQ_INT(swerl_spawn(rt, &pb, &g_senders[s], NULL, &pid), 0);
        AT_STORE(&g_sender_pid[s], pid);
    }
    for (s = 0; s < THREAD_SENDERS; s++)
        CHECK_EQ_INT(pthread_create(&th[s], NULL, sender_thread, &g_senders[s]), 0);

    s0 = check_stats(rt);
    other_ok0 = AT_LOAD(&g_other_ok);
    other_enoproc0 = AT_LOAD(&g_other_enoproc);
    t0 = check_now_ms();
    CHECK_EQ_INT(pthread_create(&churn, NULL, churn_thread, NULL), 0);
    AT_STORE(&g_go, 1);
    for (s = THREAD_SENDERS; s < SENDERS; s++) CHECK_EQ_INT(other_send(rt, g_sender_pid[s], "go", 2), 0);
    CHECK_WAIT_MS_(AT_LOAD(&g_senders_done) == SENDERS, LONG_WAIT_MS);
    ms = check_now_ms() - t0;
    AT_STORE(&g_churn_stop, 1);
    pthread_join(churn, NULL);
    for (s = 0; s < THREAD_SENDERS; s++) pthread_join(th[s], NULL);
    /* the live incarnations handle everything still queued for them */
    CHECK_WAIT_MS_(drained(), LONG_WAIT_MS);
    n = AT_LOAD(&g_ninc);
    CHECK_WAIT(AT_LOAD(&g_temp_exits) == n);
    CHECK_WAIT(AT_LOAD(&g_down_by_reason[0]) + AT_LOAD(&g_down_by_reason[1]) +
               AT_LOAD(&g_down_by_reason[2]) == AT_LOAD(&g_retired));
    CHECK_WAIT(AT_LOAD(&g_exit_by_reason[0]) + AT_LOAD(&g_exit_by_reason[1]) +
               AT_LOAD(&g_exit_by_reason[2]) == AT_LOAD(&g_retired));
    s1 = check_stats(rt);

    for (i = 0; i < n; i++) {
        incarnation *in = &g_inc[i];
        int live = is_live_incarnation(in);
        uint64_t q = 0;
        for (s = 0; s < SENDERS; s++) {
            uint64_t h = AT_LOAD(&in->handled[s]);
            if (h > in->accepted[s] && !more_than_accepted++)
                printf("   incarnation %u handled %llu from sender %d, %llu accepted\n",
                       i, (unsigned long long)h, s, (unsigned long long)in->accepted[s]);
            acc += in->accepted[s];
            handled += h;
            enoproc += in->enoproc[s];
            q += in->accepted[s] - h;
        }
        order_errors += AT_LOAD(&in->order_errors);
        strays += AT_LOAD(&in->strays);
        if (live) {
            live_queued += q;
        } else {
            int32_t want = in->how == HOW_KILL ? (int32_t)SWERL_REASON_KILLED
                           : in->how == HOW_EXIT ? (int32_t)R_EXIT : (int32_t)R_DIE;
            swerl_process_info info;
            queued += q;
            if (q) dead_with_queue++;
            if (q > max_queued) max_queued = q;
            expected_how[in->how]++;
            if (!AT_LOAD(&in->terminated) || in->reason != want) bad_reason++;
            memset(&info, 0, sizeof info);
            info.size = (uint32_t)sizeof info;
            if (swerl_process_get_info(rt, AT_LOAD(&in->pid), &info) != SWERL_ENOPROC) bad_dead++;   /* OTP-37 */
        }
    }
    for (s = 0; s < SENDERS; s++) {
        sent += g_senders[s].sent;
        ok += g_senders[s].ok;
        sender_enoproc += g_senders[s].enoproc;
    }
    CHECK_EQ_INT(sent, total);
    CHECK_EQ_INT(ok + sender_enoproc, total);
    CHECK_EQ_INT(ok, acc);
    CHECK_EQ_INT(sender_enoproc, enoproc);
    CHECK_EQ_INT(AT_LOAD(&g_send_errors), 0);
    CHECK_EQ_INT(AT_LOAD(&g_other_failed), 0);
    CHECK_EQ_INT(more_than_accepted, 0);                          /* never more than sent */
    CHECK_EQ_INT(order_errors, 0);                                /* OTP-7 */
    CHECK_EQ_INT(strays, 0);                                      /* OTP-2 */
    CHECK_EQ_INT(live_queued, 0);                                 /* exactly once to the living */
    CHECK_EQ_INT(bad_reason, 0);
    CHECK_EQ_INT(bad_dead, 0);
    /* the accounts close: accepted = handled + queued at a death */
    CHECK_EQ_INT(acc, handled + queued);
    /* the runtime counted every accepted send, and a dead letter for every
       ENOPROC and for every accepted message a death left unhandled */
    CHECK_EQ_INT(s1.messages_sent - s0.messages_sent, acc + (AT_LOAD(&g_other_ok) - other_ok0));
    /* the runtime counted a dead letter for every ENOPROC and (since 1.1)
       for every accepted message a death left unhandled; a message that
       reaches a dead slot's queue is counted when that queue is next
       drained, so wait for the count to settle */
    {
        uint64_t base = enoproc + (AT_LOAD(&g_other_enoproc) - other_enoproc0);
        if (swerl_version() >= 0x010100u) {
            WAIT_UNTIL(stats_quiet(rt).dead_letters - s0.dead_letters == base + queued);
            s1 = check_stats(rt);
            CHECK_EQ_INT(s1.dead_letters - s0.dead_letters, base + queued);
        } else {
            /* 1.0 counts only sends to dead pids and messages that reach a
               dying process, not a mailbox freed at the exit */
            CHECK(s1.dead_letters - s0.dead_letters >= base);
            CHECK(s1.dead_letters - s0.dead_letters <= base + queued);
        }
    }
    CHECK_EQ_INT(s1.messages_dropped, 0);
    CHECK_EQ_INT(s1.messages_rejected, 0);                        /* the ceiling never refused */
    /* every binary was freed but the live incarnations' kept ones, and each
       was charged once: the ceiling counts exactly those now */
    for (i = 0; i < n; i++) {
        kept_cost += AT_LOAD(&g_inc[i].kept_cost);        /* 0 for a dead one: its terminate released them */
        shared += AT_LOAD(&g_inc[i].shared);
        bad_binaries += AT_LOAD(&g_inc[i].bad_binaries);
    }
    WAIT_UNTIL(stats_quiet(rt).memory_used == kept_cost);
    s1 = check_stats(rt);
    CHECK_EQ_U64(s1.memory_used, kept_cost);
    CHECK_EQ_INT(bad_binaries, 0);
    CHECK(shared > 0 && AT_LOAD(&g_kept) > 0);
    /* the spawner saw each retirement once by its link and once by its
       monitor, with the real reason (OTP-16, OTP-24) */
    for (i = 0; i < N_HOW; i++) {
        CHECK_EQ_INT(AT_LOAD(&g_exit_by_reason[i]), expected_how[i]);
        CHECK_EQ_INT(AT_LOAD(&g_down_by_reason[i]), expected_how[i]);
    }
    CHECK_EQ_INT(AT_LOAD(&g_exit_other), 0);
    CHECK_EQ_INT(AT_LOAD(&g_down_other), 0);
    CHECK_EQ_INT(AT_LOAD(&g_spawn_errors), 0);
    CHECK_EQ_INT(AT_LOAD(&g_retired), n - POSITIONS);
    CHECK(AT_LOAD(&g_retired) > 0);
    CHECK_EQ_INT(s1.processes, (uint64_t)POSITIONS + PROC_SENDERS + 1);

    printf("figure: delivery messages=%llu ms=%.0f msgs_per_s=%.0f senders_threads=%d senders_processes=%d "
           "receivers=%d incarnations=%u retired=%llu\n",
           (unsigned long long)total, ms, (double)total / (ms / 1000.0), THREAD_SENDERS, PROC_SENDERS,
           POSITIONS, n, (unsigned long long)AT_LOAD(&g_retired));
    printf("figure: delivery accepted=%llu handled=%llu enoproc=%llu queued_at_death=%llu "
           "dead_incarnations_with_queue=%llu max_queued_at_one_death=%llu\n",
           (unsigned long long)acc, (unsigned long long)handled, (unsigned long long)enoproc,
           (unsigned long long)queued, (unsigned long long)dead_with_queue, (unsigned long long)max_queued);
    printf("figure: delivery stats_messages_sent=%llu stats_dead_letters=%llu other_sends_ok=%llu "
           "other_enoproc=%llu sender_yields=%llu\n",
           (unsigned long long)(s1.messages_sent - s0.messages_sent),
           (unsigned long long)(s1.dead_letters - s0.dead_letters),
           (unsigned long long)(AT_LOAD(&g_other_ok) - other_ok0),
           (unsigned long long)(AT_LOAD(&g_other_enoproc) - other_enoproc0),
           (unsigned long long)(g_senders[0].yields + g_senders[THREAD_SENDERS].yields));
    printf("figure: delivery binaries=%llu shared_handled=%llu kept=%llu kept_bytes_at_end=%llu\n",
           (unsigned long long)AT_LOAD(&g_binaries), (unsigned long long)shared,
           (unsigned long long)AT_LOAD(&g_kept), (unsigned long long)kept_cost);

    CHECK_EQ_INT(swerl_runtime_stop(rt, 30000), 0);
    for (p = 0; p < POSITIONS; p++) CHECK(AT_LOAD(&AT_LOAD(&g_pos[p])->terminated));
    /* the terminates released the last kept binaries: nothing is charged */
    s1 = check_stats(rt);
    CHECK_EQ_U64(s1.memory_used, 0);
    {
        data_msg d;
        memset(&d, 0, sizeof d);
        CHECK_EQ_INT(swerl_send(rt, AT_LOAD(&g_pos[0])->pid, &d, sizeof d), SWERL_ESTOPPED);
    }
    swerl_runtime_free(rt);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("10,000,000 messages from threads and processes into churning receivers (OTP-7)",
                  t_delivery, 3600);
    return check_summary();
}
