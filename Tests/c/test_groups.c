/*
 * test_groups.c — turn groups (swerl.h, "Turn groups"): processes whose
 * turns a thread of the program runs instead of a scheduler.
 *
 * Functions covered: swerl_group_create, swerl_group_spawn, swerl_set_group,
 *   swerl_group_run, swerl_group_take, swerl_group_finish, swerl_group_next,
 *   swerl_group_fd, swerl_group_wake, swerl_group_set_batch_min,
 *   swerl_turn_suspend, swerl_turn_resume; inside a batch: swerl_self,
 *   swerl_ctx_runtime, swerl_send, swerl_link, swerl_monitor,
 *   swerl_demonitor (FLUSH), swerl_trap_exit, swerl_fail,
 *   swerl_receive_timeout; swerl_runtime_stop with groups nobody drives,
 *   and while a batch is suspended.
 * Codes covered as results: EINVAL, ECTX, EINPROC, ESTOPPED, ELIMIT.
 *
 * The driving thread is each section's main thread: every callback of a
 * group process records whether it ran there (pthread_equal with g_main).
 * Main drives with a bounded wait (swerl_group_run with a short timeout, in
 * a loop with a deadline) until the event it waits for has been posted;
 * nothing sleeps and hopes, and nothing checks how long anything took.
 */
#include "check.h"

/* ------------------------------------------------------------------------ */
/* What every section shares                                                 */
/* ------------------------------------------------------------------------ */

static swerl_runtime *g_rt;
static swerl_group *g_group;      /* the section's group */
static check_mailbox g_mb;        /* every process posts its events here */
static pthread_t g_main;          /* the section's main thread: the driving one */
static long g_batch_handle_calls; /* handle() of a process driven in batches */
static int g_in_take;             /* main is inside swerl_group_take / _next now */
static swerl_turn *g_suspended;   /* a batch set aside (swerl_turn_suspend) */

static int on_main(void) { return pthread_equal(pthread_self(), g_main) != 0; }

static swerl_runtime *rt_begin(void)
{
    g_main = pthread_self();
    mbox_init(&g_mb);
    AT_STORE(&g_batch_handle_calls, 0);
    AT_STORE(&g_in_take, 0);
    g_suspended = NULL;
    g_group = NULL;
    g_rt = check_start_rt(2, 0);
    if (g_rt && !CHECK_EQ_INT(swerl_group_create(g_rt, "test", &g_group), 0)) g_group = NULL;
    return g_group ? g_rt : NULL;
}

static void rt_end(void)
{
    if (g_rt) swerl_runtime_free(g_rt);
    g_rt = NULL;
    g_group = NULL;
    mbox_destroy(&g_mb);
}

/* An event from a callback: the message's fields when m is given, else rc
   and reason; `self`, u3: whether it runs on the driving thread, and u2:
   whether that thread is inside a swerl_group_take / _next call of main's
   (take_marked, next_marked). */
static void post(int type, int op, swerl_ctx *ctx, const swerl_message *m, int rc, int32_t reason)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.op = op;
    e.rc = rc;
    e.reason = reason;
    e.self = swerl_self(ctx);
    e.u3 = (uint64_t)on_main();
    e.u2 = (uint64_t)AT_LOAD(&g_in_take);
    if (m) {
        e.kind = m->kind;
        e.reason = m->reason;
        e.from = m->from;
        e.ref = m->ref;
        check_event_set_data(&e, m->data, m->len);
    }
    mbox_post(&g_mb, &e);
}

static int is_text(const swerl_message *m, const char *text)
{
    size_t n = strlen(text);
    return m->kind == SWERL_MESSAGE && m->len == n && memcmp(m->data, text, n) == 0;
}

static int is_batch_text(const swerl_turn *t, uint32_t i, const char *text)
{
    return i < t->count && is_text(&t->messages[i], text);
}

static int send_text(swerl_pid to, const char *text)
{
    return swerl_send(g_rt, to, text, strlen(text));
}

/* The event of type/sub posted by `self` (EV_ANY: any type), waited for. */
static int take_from(int type, int sub, swerl_pid self, check_event *e)
{
    double deadline = check_now_ms() + CHECK_WAIT_MS;
    for (;;) {
        size_t i;
        int found = 0;
        pthread_mutex_lock(&g_mb.mu);
        for (i = 0; i < g_mb.n; i++) {
            check_event *c = &g_mb.ev[i];
            ev_match m = em(type, sub);
            if (ev_matches(c, &m) && c->self == self) {
                *e = *c;
                memmove(c, c + 1, (g_mb.n - i - 1) * sizeof *c);
                g_mb.n--;
                found = 1;
                break;
            }
        }
        pthread_mutex_unlock(&g_mb.mu);
        if (found) return 1;
        if (check_now_ms() > deadline) {
            memset(e, 0, sizeof *e);
            return CHECK_MSG(0, "no event type %d sub %d from pid %llu", type, sub, (unsigned long long)self);
        }
        check_sleep_ms(1);
    }
}

static size_t count_from(int type, int sub, swerl_pid self)
{
    size_t i, n = 0;
    ev_match m = em(type, sub);
    pthread_mutex_lock(&g_mb.mu);
    for (i = 0; i < g_mb.n; i++) n += ev_matches(&g_mb.ev[i], &m) && g_mb.ev[i].self == self;
    pthread_mutex_unlock(&g_mb.mu);
    return n;
}

/* Drive the group with its callbacks until `cond` (at most CHECK_WAIT_MS). */
#define DRIVE_UNTIL(cond)                                                              \
    do {                                                                               \
        double drive_dl_ = check_now_ms() + CHECK_WAIT_MS;                             \
        while (!(cond) && check_now_ms() < drive_dl_) {                                \
            int drive_rc_ = swerl_group_run(g_group, 64, 10);                          \
            if (drive_rc_ < 0) { CHECK_EQ_INT(drive_rc_, 0); break; }                  \
        }                                                                              \
        CHECK_MSG((cond), "DRIVE_UNTIL(%s): still false after %u ms", #cond, CHECK_WAIT_MS); \
    } while (0)

/* Take the next batch, waiting for it; it must be `pid`'s. NULL after a
   failed check. */
static swerl_turn *take_of(swerl_pid pid, uint32_t max)
{
    swerl_turn *t = NULL;
    if (!CHECK_EQ_INT(swerl_group_take(g_group, max, CHECK_WAIT_MS, &t), 1)) return NULL;
    if (!CHECK(t != NULL)) return NULL;
    if (!CHECK_EQ_U64(t->pid, pid)) {
        swerl_group_finish(t, 0);
        return NULL;
    }
    return t;
}

/* Accept every message of the batch (what a handler returning CONTINUE does). */
static void accept_all(swerl_turn *t)
{
    uint32_t i;
    for (i = 0; i < t->count; i++) {
        t->current = i;
        t->results[i] = SWERL_CONTINUE;
    }
    CHECK_EQ_INT(swerl_group_finish(t, t->count), 0);
}

/* Nothing is left to run in the group now. */
static void check_group_empty(void)
{
    swerl_turn *t = NULL;
    CHECK_EQ_INT(swerl_group_take(g_group, 16, 0, &t), 0);
}

/* The end of a batch-mode section: nothing left queued, the library ran
   no handle of its own (every turn came as a batch), a clean stop. */
static void batch_section_done(void)
{
    check_group_empty();
    CHECK_EQ_INT(AT_LOAD(&g_batch_handle_calls), 0);
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
}

static uint64_t queue_len(swerl_pid pid)
{
    swerl_process_info in;
    memset(&in, 0, sizeof in);
    in.size = (uint32_t)sizeof in;
    if (swerl_process_get_info(g_rt, pid, &in) != 0) return UINT64_MAX;
    return in.message_queue_len;
}

/* ------------------------------------------------------------------------ */
/* A group process driven with callbacks: reports everything it does         */
/* ------------------------------------------------------------------------ */

enum { OP_NESTED = 1, OP_SET_GROUP, OP_CMD, OP_WATCH, OP_RESUME, OP_RESUMED, OP_GO };

/* What a group process's init does (its arg; NULL: nothing). */
typedef struct gp_conf {
    swerl_pid link_to;     /* swerl_link in init (EV_INIT rc) */
    swerl_group *group;    /* swerl_set_group in init (EV_INIT reason) */
} gp_conf;

static int gp_init(swerl_ctx *ctx, void *arg, void **state)
{
    const gp_conf *c = (const gp_conf *)arg;
    int link_rc = 0, group_rc = 0;
    if (c && c->link_to) link_rc = swerl_link(ctx, c->link_to);
    if (c && c->group) group_rc = swerl_set_group(ctx, c->group);
    post(EV_INIT, 0, ctx, NULL, link_rc, group_rc);
    *state = arg;
    return 0;
}

static int gp_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    post(EV_MSG, 0, ctx, m, 0, 0);
    if (is_text(m, "crash")) return -1;
    if (is_text(m, "stop")) return SWERL_STOP;
    if (is_text(m, "nested")) {
        swerl_turn *t = NULL;
        int run = swerl_group_run(g_group, 1, 0);
        int take = swerl_group_take(g_group, 1, 0, &t);
        post(EV_RESULT, OP_NESTED, ctx, NULL, run, take);
    }
    if (is_text(m, "leave")) post(EV_NOTE, OP_SET_GROUP, ctx, NULL, swerl_set_group(ctx, NULL), 0);
    if (is_text(m, "join")) post(EV_NOTE, OP_SET_GROUP, ctx, NULL, swerl_set_group(ctx, g_group), 0);
    if (is_text(m, "resume")) post(EV_RESULT, OP_RESUME, ctx, NULL, swerl_turn_resume(g_suspended), 0);
    return SWERL_CONTINUE;
}

static void gp_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)state;
    post(EV_TERMINATE, 0, ctx, NULL, 0, reason);
}

static const swerl_behavior b_gp = { sizeof(swerl_behavior), gp_init, gp_handle, gp_terminate };

/* A process driven in batches: its handle must never be called. */
static int bp_init(swerl_ctx *ctx, void *arg, void **state)
{
    post(EV_INIT, 0, ctx, NULL, 0, 0);
    *state = arg;
    return 0;
}

static int bp_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx; (void)m; (void)state;
    AT_ADD(&g_batch_handle_calls, 1);
    return -1;
}

static const swerl_behavior b_bp = { sizeof(swerl_behavior), bp_init, bp_handle, gp_terminate };

static swerl_pid group_spawn(const swerl_behavior *b, void *arg)
{
    swerl_pid pid = 0;
    CHECK_EQ_INT(swerl_group_spawn(g_group, b, arg, NULL, &pid), 0);
    return pid;
}

/* ------------------------------------------------------------------------ */
/* A scheduler process (swerl_spawn): runs commands, reports the rest        */
/* ------------------------------------------------------------------------ */

typedef struct cmd {
    char tag[16];
    uint64_t pid;
    uint64_t n;
} cmd;

static swerl_ctx *g_saved_ctx;        /* "savectx": a ctx kept past its callback */
static swerl_group *g_other_group;    /* "setgroup": a group of another runtime */

static int cmd_send(swerl_pid to, const char *tag, swerl_pid pid, uint64_t n)
{
    cmd c;
    memset(&c, 0, sizeof c);
    snprintf(c.tag, sizeof c.tag, "%s", tag);
    c.pid = pid;
    c.n = n;
    return swerl_send(g_rt, to, &c, sizeof c);
}

/* Runs a command inside the handler; EV_RESULT (op OP_CMD) with rc, reason
   and u1; -1: crash; SWERL_STOP: stop. */
static int sp_command(swerl_ctx *ctx, const cmd *c)
{
    check_event e;
    int rc = 0, rc2 = 0;
    uint64_t u1 = 0, i;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    if (strcmp(c->tag, "crash") == 0) return -1;
    if (strcmp(c->tag, "flushstop") == 0) {
        swerl_send(rt, c->pid, "flush", 5);
        return SWERL_STOP;
    }
    if (strcmp(c->tag, "monitor") == 0) rc = swerl_monitor(ctx, c->pid, &u1);
    else if (strcmp(c->tag, "link") == 0) rc = swerl_link(ctx, c->pid);
    else if (strcmp(c->tag, "trap") == 0) rc = swerl_trap_exit(ctx, 1);
    else if (strcmp(c->tag, "savectx") == 0) g_saved_ctx = ctx;
    else if (strcmp(c->tag, "setgroup") == 0) rc = swerl_set_group(ctx, g_other_group);
    else if (strcmp(c->tag, "resume") == 0) rc = swerl_turn_resume(g_suspended);
    else if (strcmp(c->tag, "nested") == 0) {
        swerl_turn *t = NULL;
        rc = swerl_group_run(g_group, 1, 0);
        rc2 = swerl_group_take(g_group, 1, 0, &t);
    } else if (strcmp(c->tag, "burst") == 0) {
        for (i = 1; i <= c->n; i++) {
            int r = swerl_send(rt, c->pid, &i, sizeof i);
            if (r != 0 && rc == 0) rc = r;
        }
    } else rc = SWERL_EINVAL;
    memset(&e, 0, sizeof e);
    e.type = EV_RESULT;
    e.op = OP_CMD;
    e.rc = rc;
    e.reason = rc2;
    e.u1 = u1;
    e.self = swerl_self(ctx);
    mbox_post(&g_mb, &e);
    return SWERL_CONTINUE;
}

static int sp_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    if (m->kind == SWERL_MESSAGE && m->len == sizeof(cmd)) {
        cmd c;
        memcpy(&c, m->data, sizeof c);
        c.tag[sizeof c.tag - 1] = 0;
        return sp_command(ctx, &c);
    }
    post(EV_MSG, 0, ctx, m, 0, 0);
    /* the runtime stops: a trapping process stops too (else it is killed
       at the deadline) */
    if (m->kind == SWERL_EXIT && m->reason == SWERL_REASON_SHUTDOWN) return SWERL_STOP;
    return SWERL_CONTINUE;
}

static const swerl_behavior b_sp = { sizeof(swerl_behavior), NULL, sp_handle, NULL };

static swerl_pid sched_spawn(void)
{
    swerl_pid pid = 0;
    CHECK_EQ_INT(swerl_spawn(g_rt, &b_sp, NULL, NULL, &pid), 0);
    return pid;
}

/* Run a command in scheduler process `sp` and wait for its result. */
static check_event sp_do(swerl_pid sp, const char *tag, swerl_pid pid, uint64_t n)
{
    check_event e;
    memset(&e, 0, sizeof e);
    if (CHECK_EQ_INT(cmd_send(sp, tag, pid, n), 0)) take_from(EV_RESULT, OP_CMD, sp, &e);
    return e;
}

/* swerl_watch_exit's callback: an EV_NOTE (op OP_WATCH) with the reason. */
static void on_exit_seen(void *user, int32_t reason, const void *detail, size_t len)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = EV_NOTE;
    e.op = OP_WATCH;
    e.self = (uint64_t)(uintptr_t)user;
    e.reason = reason;
    check_event_set_data(&e, detail, len);
    mbox_post(&g_mb, &e);
}

static void watch(swerl_pid pid)
{
    swerl_ref ref = 0;
    CHECK_EQ_INT(swerl_watch_exit(g_rt, pid, on_exit_seen, (void *)(uintptr_t)pid, &ref), 0);
}

/* ------------------------------------------------------------------------ */
/* Callback mode (swerl_group_run)                                           */
/* ------------------------------------------------------------------------ */

#define BURST 1000u

static void t_callbacks(void)
{
    swerl_pid gp, s1, s2, others[3];
    check_event e;
    uint64_t i, last[3] = {0, 0, 0}, init_seq = UINT64_MAX, first_seq = UINT64_MAX;
    long seen = 0, off_main = 0, out_of_order = 0;
    int k;
    if (!rt_begin()) { rt_end(); return; }

    CHECK_EQ_INT(swerl_group_run(g_group, 64, 0), 0);            /* nothing queued */
    gp = group_spawn(&b_gp, NULL);
    s1 = sched_spawn();
    s2 = sched_spawn();
    CHECK_EQ_INT(count_from(EV_INIT, -1, gp), 0);                 /* nobody drove yet */

    /* Two scheduler processes and main send BURST numbered messages each. */
    CHECK_EQ_INT(cmd_send(s1, "burst", gp, BURST), 0);
    CHECK_EQ_INT(cmd_send(s2, "burst", gp, BURST), 0);
    for (i = 1; i <= BURST; i++)
        if (!CHECK_EQ_INT(swerl_send(g_rt, gp, &i, sizeof i), 0)) break;
    DRIVE_UNTIL(count_from(EV_MSG, SWERL_MESSAGE, gp) == 3 * BURST);

    /* init ran first, on the driving thread */
    if (take_from(EV_INIT, -1, gp, &e)) {
        CHECK_EQ_INT(e.u3, 1);
        init_seq = e.seq;
    }
    /* every handle ran on the driving thread; each sender's messages in order */
    while (mbox_take_m(&g_mb, em(EV_MSG, SWERL_MESSAGE), &e, 0)) {
        int who = e.from == s1 ? 0 : e.from == s2 ? 1 : e.from == 0 ? 2 : -1;
        uint64_t seq = 0;
        seen++;
        off_main += !e.u3;
        if (e.seq < first_seq) first_seq = e.seq;
        if (who < 0 || e.len != sizeof seq) { out_of_order++; continue; }
        memcpy(&seq, e.data, sizeof seq);
        out_of_order += seq != last[who] + 1;
        last[who] = seq;
    }
    CHECK_EQ_INT(seen, 3 * BURST);
    CHECK(init_seq < first_seq);                                  /* init before any message */
    CHECK_EQ_INT(off_main, 0);
    CHECK_EQ_INT(out_of_order, 0);
    CHECK(last[0] == BURST && last[1] == BURST && last[2] == BURST);
    CHECK_EQ_INT(swerl_group_run(g_group, 64, 0), 0);            /* all done */

    /* The return value is the number of turns run: three idle processes,
       one message each, are three turns; max_turns bounds them. */
    for (k = 0; k < 3; k++) others[k] = group_spawn(&b_gp, NULL);
    DRIVE_UNTIL(count_from(EV_INIT, -1, others[0]) + count_from(EV_INIT, -1, others[1]) +
                count_from(EV_INIT, -1, others[2]) == 3);
    while (swerl_group_run(g_group, 64, 0) > 0) {}
    for (k = 0; k < 3; k++) CHECK_EQ_INT(send_text(others[k], "one"), 0);
    CHECK_EQ_INT(swerl_group_run(g_group, 2, 0), 2);
    CHECK_EQ_INT(swerl_group_run(g_group, 64, 0), 1);
    CHECK_EQ_INT(swerl_group_run(g_group, 64, 0), 0);
    for (k = 0; k < 3; k++) {
        CHECK_EQ_INT(count_from(EV_MSG, SWERL_MESSAGE, others[k]), 1);
        if (take_from(EV_MSG, SWERL_MESSAGE, others[k], &e)) CHECK_EQ_INT(e.u3, 1);
    }

    /* Out of the group and back (swerl_set_group): in between, a scheduler
       runs its handler, and main does not drive. */
    CHECK_EQ_INT(send_text(gp, "leave"), 0);
    DRIVE_UNTIL(count_from(EV_NOTE, OP_SET_GROUP, gp) == 1);
    if (take_from(EV_NOTE, OP_SET_GROUP, gp, &e)) {
        CHECK_EQ_INT(e.rc, 0);
        CHECK_EQ_INT(e.u3, 1);
    }
    CHECK_EQ_INT(send_text(gp, "join"), 0);
    if (take_from(EV_NOTE, OP_SET_GROUP, gp, &e)) {
        CHECK_EQ_INT(e.rc, 0);
        CHECK_EQ_INT(e.u3, 0);                                    /* on a scheduler */
    }
    CHECK_EQ_INT(send_text(gp, "back"), 0);
    DRIVE_UNTIL(count_from(EV_MSG, SWERL_MESSAGE, gp) == 3);      /* leave, join, back */
    while (mbox_take_m(&g_mb, em(EV_MSG, SWERL_MESSAGE), &e, 0))
        if (e.len == 4 && memcmp(e.data, "back", 4) == 0) CHECK_EQ_INT(e.u3, 1);

    /* STOP: terminate runs on the driving thread too */
    CHECK_EQ_INT(send_text(gp, "stop"), 0);
    DRIVE_UNTIL(count_from(EV_TERMINATE, -1, gp) == 1);
    if (take_from(EV_TERMINATE, -1, gp, &e)) {
        CHECK_EQ_INT(e.reason, SWERL_REASON_NORMAL);
        CHECK_EQ_INT(e.u3, 1);
    }
    CHECK_WAIT(!check_alive(g_rt, gp));
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Batch mode: order, handled < count, max_messages                          */
/* ------------------------------------------------------------------------ */

static void t_batch_order(void)
{
    swerl_pid p;
    swerl_turn *t;
    check_event e;
    if (!rt_begin()) { rt_end(); return; }
    p = group_spawn(&b_bp, NULL);
    CHECK_EQ_INT(send_text(p, "a"), 0);
    CHECK_EQ_INT(send_text(p, "b"), 0);
    CHECK_EQ_INT(send_text(p, "c"), 0);
    CHECK_EQ_INT(send_text(p, "d"), 0);

    /* One batch holds them all, in send order; init ran inside the take. */
    if ((t = take_of(p, 16)) != NULL) {
        if (take_from(EV_INIT, -1, p, &e)) CHECK_EQ_INT(e.u3, 1);
        CHECK_EQ_INT(t->count, 4);
        CHECK(is_batch_text(t, 0, "a") && is_batch_text(t, 1, "b") && is_batch_text(t, 2, "c") &&
              is_batch_text(t, 3, "d"));
        CHECK_EQ_U64(t->messages[0].from, 0);
        CHECK_EQ_U64(swerl_self(t->ctx), p);
        CHECK(swerl_ctx_runtime(t->ctx) == g_rt);
        CHECK(t->state == NULL);                                  /* init left it as arg */
        accept_all(t);
    }
    check_group_empty();

    /* handled < count: the rest come again, in order, in the next batch */
    CHECK_EQ_INT(send_text(p, "1"), 0);
    CHECK_EQ_INT(send_text(p, "2"), 0);
    CHECK_EQ_INT(send_text(p, "3"), 0);
    CHECK_EQ_INT(send_text(p, "4"), 0);
    CHECK_EQ_INT(send_text(p, "5"), 0);
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 5);
        t->current = 0;
        t->results[0] = SWERL_CONTINUE;
        t->current = 1;
        t->results[1] = SWERL_CONTINUE;
        CHECK_EQ_INT(swerl_group_finish(t, 2), 0);
    }
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 3);
        CHECK(is_batch_text(t, 0, "3") && is_batch_text(t, 1, "4") && is_batch_text(t, 2, "5"));
        CHECK_EQ_INT(swerl_group_finish(t, 0), 0);                /* none handled */
    }
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 3);
        CHECK(is_batch_text(t, 0, "3") && is_batch_text(t, 1, "4") && is_batch_text(t, 2, "5"));
        accept_all(t);
    }
    check_group_empty();

    /* max_messages bounds a batch; swerl_group_next finishes and takes */
    CHECK_EQ_INT(send_text(p, "x1"), 0);
    CHECK_EQ_INT(send_text(p, "x2"), 0);
    CHECK_EQ_INT(send_text(p, "x3"), 0);
    if ((t = take_of(p, 2)) != NULL) {
        swerl_turn *next = NULL;
        CHECK_EQ_INT(t->count, 2);
        CHECK(is_batch_text(t, 0, "x1") && is_batch_text(t, 1, "x2"));
        t->current = 0;
        t->results[0] = SWERL_CONTINUE;
        t->current = 1;
        t->results[1] = SWERL_CONTINUE;
        if (CHECK_EQ_INT(swerl_group_next(g_group, t, 2, 2, CHECK_WAIT_MS, &next), 1)) {
            CHECK_EQ_INT(next->count, 1);
            CHECK(is_batch_text(next, 0, "x3"));
            accept_all(next);
        }
    }
    batch_section_done();
    if (take_from(EV_TERMINATE, -1, p, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Batch mode: selective receive (SKIP)                                      */
/* ------------------------------------------------------------------------ */

static void t_batch_skip(void)
{
    swerl_pid p;
    swerl_turn *t;
    if (!rt_begin()) { rt_end(); return; }
    p = group_spawn(&b_bp, NULL);
    CHECK_EQ_INT(send_text(p, "x"), 0);
    CHECK_EQ_INT(send_text(p, "y"), 0);
    CHECK_EQ_INT(send_text(p, "z"), 0);

    /* skip x, accept y: stop there (an accept after a skip); x keeps its
       place, and the next batch starts again from it */
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 3);
        t->current = 0;
        t->results[0] = SWERL_SKIP;
        t->current = 1;
        t->results[1] = SWERL_CONTINUE;
        CHECK_EQ_INT(swerl_group_finish(t, 2), 0);
    }
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 2);
        CHECK(is_batch_text(t, 0, "x") && is_batch_text(t, 1, "z"));
        /* skip both: nothing is offered until a new message comes */
        t->current = 0;
        t->results[0] = SWERL_SKIP;
        t->current = 1;
        t->results[1] = SWERL_SKIP;
        CHECK_EQ_INT(swerl_group_finish(t, 2), 0);
    }
    check_group_empty();

    /* a new message is offered alone (after the skipped ones); accepting
       it offers the skipped ones again, oldest first, in their place */
    CHECK_EQ_INT(send_text(p, "w"), 0);
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 1);
        CHECK(is_batch_text(t, 0, "w"));
        accept_all(t);
    }
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 2);
        CHECK(is_batch_text(t, 0, "x") && is_batch_text(t, 1, "z"));
        t->current = 0;
        t->results[0] = SWERL_SKIP;
        t->current = 1;
        t->results[1] = SWERL_CONTINUE;                           /* take z, keep x */
        CHECK_EQ_INT(swerl_group_finish(t, 2), 0);
    }
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 1);
        CHECK(is_batch_text(t, 0, "x"));
        accept_all(t);
    }
    check_group_empty();
    CHECK_EQ_INT(queue_len(p), 0);
    CHECK_EQ_INT(AT_LOAD(&g_batch_handle_calls), 0);
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Batch mode: STOP and failures end the process                             */
/* ------------------------------------------------------------------------ */

/* A monitor from scheduler process `w` on `pid`: its ref. */
static swerl_ref monitor_from(swerl_pid w, swerl_pid pid)
{
    check_event e = sp_do(w, "monitor", pid, 0);
    CHECK_EQ_INT(e.rc, 0);
    return e.u1;
}

/* The DOWN `w` got for `pid`, checked against ref and reason. */
static void check_down(swerl_pid w, swerl_pid pid, swerl_ref ref, int32_t reason, const char *detail)
{
    check_event e;
    double deadline = check_now_ms() + CHECK_WAIT_MS;
    for (;;) {
        if (take_from(EV_MSG, SWERL_DOWN, w, &e) == 0) return;
        if (e.from == pid || check_now_ms() > deadline) break;
        mbox_post(&g_mb, &e);                                     /* another's: keep it */
    }
    CHECK_EQ_U64(e.from, pid);
    CHECK_EQ_U64(e.ref, ref);
    CHECK_EQ_INT(e.reason, reason);
    if (detail) CHECK_MEM(e.data, e.len, detail, strlen(detail));
}

static void t_batch_stop(void)
{
    swerl_pid w, p1, p2, p3;
    swerl_ref r1, r2, r3;
    swerl_turn *t;
    check_event e;
    if (!rt_begin()) { rt_end(); return; }
    w = sched_spawn();

    /* STOP: the rest of the batch is not handled; terminate runs inside the
       finish, on the driving thread; the monitor sees NORMAL */
    p1 = group_spawn(&b_bp, NULL);
    r1 = monitor_from(w, p1);
    CHECK_EQ_INT(send_text(p1, "m1"), 0);
    CHECK_EQ_INT(send_text(p1, "stop"), 0);
    CHECK_EQ_INT(send_text(p1, "m3"), 0);
    if ((t = take_of(p1, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 3);
        t->current = 0;
        t->results[0] = SWERL_CONTINUE;
        t->current = 1;
        t->results[1] = SWERL_STOP;
        CHECK_EQ_INT(count_from(EV_TERMINATE, -1, p1), 0);
        CHECK_EQ_INT(swerl_group_finish(t, 2), 0);
        CHECK_EQ_INT(count_from(EV_TERMINATE, -1, p1), 1);       /* it ran inside the finish */
        if (take_from(EV_TERMINATE, -1, p1, &e)) {
            CHECK_EQ_INT(e.reason, SWERL_REASON_NORMAL);
            CHECK_EQ_INT(e.u3, 1);
        }
    }
    check_down(w, p1, r1, SWERL_REASON_NORMAL, NULL);
    CHECK(!check_alive(g_rt, p1));

    /* STOP after swerl_fail: its reason and detail */
    p2 = group_spawn(&b_bp, NULL);
    r2 = monitor_from(w, p2);
    CHECK_EQ_INT(send_text(p2, "fail"), 0);
    if ((t = take_of(p2, 16)) != NULL) {
        t->current = 0;
        CHECK_EQ_INT(swerl_fail(t->ctx, SWERL_REASON_USER + 7, "why", 3), 0);
        t->results[0] = SWERL_STOP;
        CHECK_EQ_INT(swerl_group_finish(t, 1), 0);
        if (take_from(EV_TERMINATE, -1, p2, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 7);
    }
    check_down(w, p2, r2, SWERL_REASON_USER + 7, "why");

    /* a failure result: an abnormal exit (ERROR) */
    p3 = group_spawn(&b_bp, NULL);
    r3 = monitor_from(w, p3);
    CHECK_EQ_INT(send_text(p3, "ok"), 0);
    CHECK_EQ_INT(send_text(p3, "boom"), 0);
    if ((t = take_of(p3, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 2);
        t->current = 0;
        t->results[0] = SWERL_CONTINUE;
        t->current = 1;
        t->results[1] = -1;
        CHECK_EQ_INT(swerl_group_finish(t, 2), 0);
        if (take_from(EV_TERMINATE, -1, p3, &e)) {
            CHECK_EQ_INT(e.reason, SWERL_REASON_ERROR);
            CHECK_EQ_INT(e.u3, 1);
        }
    }
    check_down(w, p3, r3, SWERL_REASON_ERROR, NULL);
    CHECK(!check_alive(g_rt, p3));
    batch_section_done();
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Batch mode: receive timeout                                               */
/* ------------------------------------------------------------------------ */

static void t_batch_timeout(void)
{
    swerl_pid p;
    swerl_turn *t;
    if (!rt_begin()) { rt_end(); return; }
    p = group_spawn(&b_bp, NULL);
    CHECK_EQ_INT(send_text(p, "a"), 0);
    CHECK_EQ_INT(send_text(p, "b"), 0);
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 2);
        t->current = 0;
        t->results[0] = SWERL_CONTINUE;
        t->current = 1;                                           /* the last one sets it */
        CHECK_EQ_INT(swerl_receive_timeout(t->ctx, 20), 0);
        t->results[1] = SWERL_CONTINUE;
        CHECK_EQ_INT(swerl_group_finish(t, 2), 0);
    }
    /* the TIMEOUT comes later, as a batch of its own */
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 1);
        CHECK_EQ_INT(t->messages[0].kind, SWERL_TIMEOUT);
        CHECK_EQ_U64(t->messages[0].from, 0);
        accept_all(t);
    }
    check_group_empty();                                          /* once */
    /* a message is still handled normally afterwards */
    CHECK_EQ_INT(send_text(p, "c"), 0);
    if ((t = take_of(p, 16)) != NULL) {
        CHECK(is_batch_text(t, 0, "c"));
        accept_all(t);
    }
    CHECK_EQ_INT(AT_LOAD(&g_batch_handle_calls), 0);
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Batch mode: the ctx during a batch                                        */
/* ------------------------------------------------------------------------ */

static void t_batch_ctx(void)
{
    swerl_pid p, r, l, m, s;
    swerl_ref mref = 0, sref = 0;
    swerl_turn *t;
    check_event e;
    swerl_process_info in;
    int got_exit = 0, got_down = 0, rounds = 0;
    double deadline;
    if (!rt_begin()) { rt_end(); return; }
    p = group_spawn(&b_bp, NULL);
    r = sched_spawn();
    l = sched_spawn();
    m = sched_spawn();
    CHECK_EQ_INT(send_text(p, "do"), 0);
    if ((t = take_of(p, 16)) != NULL) {
        t->current = 0;
        CHECK_EQ_U64(swerl_self(t->ctx), t->pid);
        CHECK_EQ_INT(swerl_send(g_rt, r, "hi", 2), 0);            /* sent from p */
        CHECK_EQ_INT(swerl_trap_exit(t->ctx, 1), 0);              /* it was off */
        CHECK_EQ_INT(swerl_link(t->ctx, l), 0);
        CHECK_EQ_INT(swerl_monitor(t->ctx, m, &mref), 0);
        t->results[0] = SWERL_CONTINUE;
        CHECK_EQ_INT(swerl_group_finish(t, 1), 0);
    }
    if (take_from(EV_MSG, SWERL_MESSAGE, r, &e)) {
        CHECK_EQ_U64(e.from, p);
        CHECK_MEM(e.data, e.len, "hi", 2);
    }
    memset(&in, 0, sizeof in);
    in.size = (uint32_t)sizeof in;
    if (CHECK_EQ_INT(swerl_process_get_info(g_rt, p, &in), 0)) {
        CHECK_EQ_INT(in.links, 1);
        CHECK_EQ_INT(in.monitors, 1);
        CHECK_EQ_INT(in.trap_exit, 1);
    }

    /* its link and its monitor fire: an EXIT message (it traps) and a DOWN */
    CHECK_EQ_INT(swerl_exit(g_rt, l, SWERL_REASON_USER + 1, NULL, 0), 0);
    CHECK_EQ_INT(swerl_exit(g_rt, m, SWERL_REASON_USER + 2, NULL, 0), 0);
    while ((!got_exit || !got_down) && rounds++ < 10 && (t = take_of(p, 16)) != NULL) {
        uint32_t i;
        for (i = 0; i < t->count; i++) {
            const swerl_message *msg = &t->messages[i];
            if (msg->kind == SWERL_EXIT) {
                got_exit++;
                CHECK_EQ_U64(msg->from, l);
                CHECK_EQ_INT(msg->reason, SWERL_REASON_USER + 1);
            } else if (msg->kind == SWERL_DOWN) {
                got_down++;
                CHECK_EQ_U64(msg->from, m);
                CHECK_EQ_U64(msg->ref, mref);
                CHECK_EQ_INT(msg->reason, SWERL_REASON_USER + 2);
            } else CHECK_MSG(0, "unexpected kind %u", msg->kind);
        }
        accept_all(t);
    }
    CHECK_EQ_INT(got_exit, 1);
    CHECK_EQ_INT(got_down, 1);
    CHECK(check_alive(g_rt, p));                                  /* trapped: alive */

    /* a demonitor with FLUSH while handling message 0 withdraws the DOWN
       that comes later in the same batch (s sends "flush", then exits:
       per-pair order puts the DOWN after it) */
    s = sched_spawn();
    deadline = check_now_ms() + CHECK_WAIT_MS;
    CHECK_EQ_INT(send_text(p, "monitor"), 0);
    if ((t = take_of(p, 16)) != NULL) {
        t->current = 0;
        CHECK_EQ_INT(swerl_monitor(t->ctx, s, &sref), 0);
        t->results[0] = SWERL_CONTINUE;
        CHECK_EQ_INT(swerl_group_finish(t, 1), 0);
    }
    CHECK_EQ_INT(cmd_send(s, "flushstop", p, 0), 0);
    /* until the DOWN is there too, hand "flush" back unhandled (the DOWN
       is a signal until p's turn takes it in: message_queue_len does not
       count it, so only a take can tell) */
    t = take_of(p, 16);
    while (t && t->count < 2 && check_now_ms() < deadline && swerl_group_finish(t, 0) == 0) {
        check_sleep_ms(1);
        t = NULL;
        if (swerl_group_take(g_group, 16, CHECK_WAIT_MS, &t) != 1 || t->pid != p) break;
    }
    CHECK(t != NULL);
    if (t && CHECK_EQ_U64(t->pid, p) && CHECK_EQ_INT(t->count, 2)) {
        CHECK(is_batch_text(t, 0, "flush"));
        CHECK_EQ_INT(t->messages[1].kind, SWERL_DOWN);
        CHECK_EQ_U64(t->messages[1].ref, sref);
        CHECK_EQ_INT(t->messages[1].flags & SWERL_MESSAGE_WITHDRAWN, 0);
        t->current = 0;
        CHECK_EQ_INT(swerl_demonitor(t->ctx, sref, SWERL_DEMONITOR_FLUSH), 0);
        CHECK_EQ_INT(t->messages[1].flags & SWERL_MESSAGE_WITHDRAWN, SWERL_MESSAGE_WITHDRAWN);
        t->results[0] = SWERL_CONTINUE;
        CHECK_EQ_INT(swerl_group_finish(t, 2), 0);                /* results[1] is not read */
    } else if (t) {
        swerl_group_finish(t, 0);
    }
    check_group_empty();
    CHECK_EQ_INT(queue_len(p), 0);                                /* the DOWN is gone */
    CHECK_EQ_INT(AT_LOAD(&g_batch_handle_calls), 0);
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Links across: a group process and a scheduler process                     */
/* ------------------------------------------------------------------------ */

static void t_links(void)
{
    gp_conf c1, c2, c3;
    swerl_pid s1, g1, s2, g2, s3, g3;
    check_event e;
    if (!rt_begin()) { rt_end(); return; }

    /* the scheduler process crashes: the linked group process dies */
    s1 = sched_spawn();
    memset(&c1, 0, sizeof c1);
    c1.link_to = s1;
    g1 = group_spawn(&b_gp, &c1);
    DRIVE_UNTIL(count_from(EV_INIT, -1, g1) == 1);
    if (take_from(EV_INIT, -1, g1, &e)) CHECK_EQ_INT(e.rc, 0);    /* linked */
    watch(g1);
    CHECK_EQ_INT(cmd_send(s1, "crash", 0, 0), 0);
    DRIVE_UNTIL(count_from(EV_NOTE, OP_WATCH, g1) == 1);
    if (take_from(EV_NOTE, OP_WATCH, g1, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_ERROR);
    if (take_from(EV_TERMINATE, -1, g1, &e)) {
        CHECK_EQ_INT(e.reason, SWERL_REASON_ERROR);
        CHECK_EQ_INT(e.u3, 1);
    }

    /* the group process crashes: the linked scheduler process dies */
    s2 = sched_spawn();
    memset(&c2, 0, sizeof c2);
    c2.link_to = s2;
    g2 = group_spawn(&b_gp, &c2);
    DRIVE_UNTIL(count_from(EV_INIT, -1, g2) == 1);
    watch(s2);
    CHECK_EQ_INT(send_text(g2, "crash"), 0);
    DRIVE_UNTIL(count_from(EV_TERMINATE, -1, g2) == 1);
    if (take_from(EV_NOTE, OP_WATCH, s2, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_ERROR);
    CHECK(!check_alive(g_rt, s2));

    /* a scheduler process that traps gets the EXIT message, and lives */
    s3 = sched_spawn();
    CHECK_EQ_INT(sp_do(s3, "trap", 0, 0).rc, 0);
    memset(&c3, 0, sizeof c3);
    c3.link_to = s3;
    g3 = group_spawn(&b_gp, &c3);
    DRIVE_UNTIL(count_from(EV_INIT, -1, g3) == 1);
    CHECK_EQ_INT(send_text(g3, "crash"), 0);
    DRIVE_UNTIL(count_from(EV_MSG, SWERL_EXIT, s3) == 1);
    if (take_from(EV_MSG, SWERL_EXIT, s3, &e)) {
        CHECK_EQ_U64(e.from, g3);
        CHECK_EQ_INT(e.reason, SWERL_REASON_ERROR);
    }
    CHECK(check_alive(g_rt, s3));
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* A supervised child that moves into the group in its init                  */
/* ------------------------------------------------------------------------ */

static void t_supervisor(void)
{
    gp_conf conf;
    swerl_child_spec child;
    swerl_supervisor_spec spec;
    swerl_child_info ci;
    swerl_pid sup = 0, c1, c2 = 0;
    check_event e;
    double deadline;
    if (!rt_begin()) { rt_end(); return; }
    memset(&conf, 0, sizeof conf);
    conf.group = g_group;
    swerl_child_spec_init(&child);
    child.id = "grouped";
    child.behavior = &b_gp;
    child.arg = &conf;
    spec = check_sup_spec(SWERL_ONE_FOR_ONE, 3, 5000, &child, 1);
    if (!CHECK_EQ_INT(swerl_supervisor_start(g_rt, &spec, NULL, &sup), 0)) { rt_end(); return; }
    c1 = check_child_pid(g_rt, sup, "grouped");
    CHECK(c1 != 0);
    if (take_from(EV_INIT, -1, c1, &e)) CHECK_EQ_INT(e.reason, 0); /* swerl_set_group */

    CHECK_EQ_INT(send_text(c1, "hello"), 0);
    DRIVE_UNTIL(count_from(EV_MSG, SWERL_MESSAGE, c1) == 1);
    if (take_from(EV_MSG, SWERL_MESSAGE, c1, &e)) CHECK_EQ_INT(e.u3, 1);

    /* it crashes (in its handler, on the driving thread); the supervisor
       restarts it, and the new one is in the group too */
    CHECK_EQ_INT(send_text(c1, "crash"), 0);
    DRIVE_UNTIL(count_from(EV_TERMINATE, -1, c1) == 1);
    deadline = check_now_ms() + CHECK_WAIT_MS;
    while (check_now_ms() < deadline) {
        c2 = check_child_pid(g_rt, sup, "grouped");
        if (c2 != 0 && c2 != c1) break;
        swerl_group_run(g_group, 64, 10);
    }
    CHECK(c2 != 0 && c2 != c1);
    if (take_from(EV_INIT, -1, c2, &e)) CHECK_EQ_INT(e.reason, 0);
    CHECK_EQ_INT(send_text(c2, "hello again"), 0);
    DRIVE_UNTIL(count_from(EV_MSG, SWERL_MESSAGE, c2) == 1);
    if (take_from(EV_MSG, SWERL_MESSAGE, c2, &e)) {
        CHECK_EQ_INT(e.u3, 1);
        CHECK_MEM(e.data, e.len, "hello again", 11);
    }
    if (CHECK(check_child(g_rt, sup, "grouped", &ci))) CHECK_EQ_INT(ci.restarts, 1);
    /* stop from main, which does not drive: the child still exits */
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    if (take_from(EV_TERMINATE, -1, c2, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* swerl_group_fd and swerl_group_wake                                       */
/* ------------------------------------------------------------------------ */

static int readable(int fd, int timeout_ms)
{
    struct pollfd pfd;
    int r;
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    do r = poll(&pfd, 1, timeout_ms); while (r < 0 && errno == EINTR);
    return r == 1 && (pfd.revents & POLLIN);
}

/* Take and accept batches until nothing is left (take with timeout 0). */
static int drain_batches(void)
{
    swerl_turn *t = NULL;
    int n = 0, rc;
    while ((rc = swerl_group_take(g_group, 64, 0, &t)) == 1) {
        accept_all(t);
        n++;
    }
    CHECK_EQ_INT(rc, 0);
    return n;
}

static void t_fd(void)
{
    swerl_pid p;
    int fd, k;
    if (!rt_begin()) { rt_end(); return; }
    fd = swerl_group_fd(g_group);
    CHECK(fd >= 0);
    CHECK_EQ_INT(swerl_group_fd(g_group), fd);                    /* the same one */
    CHECK(!readable(fd, 0));                                      /* an empty group */
    p = group_spawn(&b_bp, NULL);
    CHECK(readable(fd, CHECK_WAIT_MS));                           /* its init is queued */
    drain_batches();
    CHECK(!readable(fd, 0));
    for (k = 0; k < 3; k++) {
        CHECK_EQ_INT(send_text(p, "ping"), 0);                    /* to an idle process */
        CHECK(readable(fd, CHECK_WAIT_MS));
        CHECK_EQ_INT(drain_batches(), 1);
        CHECK(!readable(fd, 0));
    }
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    rt_end();
}

static void *waker(void *arg)
{
    (void)arg;
    swerl_group_wake(g_group);
    return NULL;
}

static void t_wake(void)
{
    pthread_t th;
    swerl_turn *t = (swerl_turn *)&t;
    if (!rt_begin()) { rt_end(); return; }
    CHECK_EQ_INT(pthread_create(&th, NULL, waker, NULL), 0);
    CHECK_EQ_INT(swerl_group_take(g_group, 16, SWERL_INFINITY, &t), 0);
    CHECK(t == NULL);
    pthread_join(th, NULL);
    CHECK_EQ_INT(pthread_create(&th, NULL, waker, NULL), 0);
    CHECK_EQ_INT(swerl_group_run(g_group, 16, SWERL_INFINITY), 0);
    pthread_join(th, NULL);
    CHECK_EQ_INT(swerl_group_wake(g_group), 0);                  /* before: the next one returns */
    CHECK_EQ_INT(swerl_group_next(g_group, NULL, 0, 16, SWERL_INFINITY, &t), 0);
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Bad input                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct finisher_arg {
    swerl_turn *turn;
    int rc;
} finisher_arg;

static void *finisher(void *arg)
{
    finisher_arg *f = (finisher_arg *)arg;
    f->rc = swerl_group_finish(f->turn, 0);
    return NULL;
}

static void t_bad_input(void)
{
    swerl_group *g = NULL, *extra = NULL;
    swerl_turn *t = NULL, *t2 = NULL, fake;
    swerl_spawn_opts opts;
    swerl_runtime *rt2 = NULL;
    swerl_pid p = 0, sp;
    char long_name[SWERL_NAME_MAX + 2];
    check_event e;
    finisher_arg fa;
    pthread_t th;
    int k, rc = 0;
    if (!rt_begin()) { rt_end(); return; }

    /* NULLs and ranges */
    memset(long_name, 'n', sizeof long_name);
    long_name[SWERL_NAME_MAX + 1] = 0;
    CHECK_EQ_INT(swerl_group_create(NULL, "g", &g), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_create(g_rt, NULL, &g), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_create(g_rt, "", &g), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_create(g_rt, long_name, &g), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_create(g_rt, "g", NULL), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_run(NULL, 1, 0), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_take(NULL, 1, 0, &t), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_take(g_group, 1, 0, NULL), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_take(g_group, 0, 0, &t), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_take(g_group, 1025, 0, &t), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_take(g_group, 1024, 0, &t), 0);     /* the largest is fine */
    CHECK_EQ_INT(swerl_group_next(NULL, NULL, 0, 1, 0, &t), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_next(g_group, NULL, 0, 1, 0, NULL), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_next(g_group, NULL, 0, 0, 0, &t), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_finish(NULL, 0), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_fd(NULL), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_wake(NULL), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_spawn(NULL, &b_bp, NULL, NULL, &p), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_spawn(g_group, NULL, NULL, NULL, &p), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_spawn(g_group, &b_bp, NULL, NULL, NULL), SWERL_EINVAL);
    swerl_spawn_opts_init(&opts);
    opts.flags = SWERL_SPAWN_BLOCKING;
    CHECK_EQ_INT(swerl_group_spawn(g_group, &b_bp, NULL, &opts, &p), SWERL_EINVAL);

    /* finish of a turn this thread does not hold */
    memset(&fake, 0, sizeof fake);
    CHECK_EQ_INT(swerl_group_finish(&fake, 0), SWERL_EINVAL);
    p = group_spawn(&b_bp, NULL);
    CHECK_EQ_INT(send_text(p, "a"), 0);
    CHECK_EQ_INT(send_text(p, "b"), 0);
    if ((t = take_of(p, 16)) != NULL) {
        swerl_ctx *ctx = t->ctx;
        CHECK_EQ_INT(t->count, 2);
        CHECK_EQ_INT(swerl_group_finish(&fake, 0), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_group_finish(t, 3), SWERL_EINVAL);     /* handled > count */
        /* another take (or next without a finish) while holding it: EINVAL,
           as the header says (1.2.0's library answers EINPROC: its
           "inside a callback" check comes first) */
        CHECK_EQ_INT(swerl_group_take(g_group, 16, 0, &t2), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_group_next(g_group, NULL, 0, 16, 0, &t2), SWERL_EINVAL);
        /* another thread cannot finish it */
        fa.turn = t;
        fa.rc = 1;
        if (CHECK_EQ_INT(pthread_create(&th, NULL, finisher, &fa), 0)) {
            pthread_join(th, NULL);
            CHECK_EQ_INT(fa.rc, SWERL_EINVAL);
        }
        accept_all(t);                                            /* still held: fine */
        CHECK_EQ_INT(swerl_group_finish(t, 0), SWERL_EINVAL);     /* finished already */
        /* the batch's ctx is stale after the finish */
        CHECK_EQ_U64(swerl_self(ctx), 0);
        CHECK_EQ_INT(swerl_set_group(ctx, g_group), SWERL_ECTX);
    }

    /* swerl_set_group: a ctx kept past its callback; a group of another runtime */
    sp = sched_spawn();
    sp_do(sp, "savectx", 0, 0);
    CHECK_EQ_INT(swerl_set_group(g_saved_ctx, g_group), SWERL_ECTX);
    CHECK_EQ_INT(swerl_set_group(NULL, g_group), SWERL_ECTX);
    rt2 = check_start_rt(1, 0);
    if (rt2 && CHECK_EQ_INT(swerl_group_create(rt2, "other", &g_other_group), 0))
        CHECK_EQ_INT(sp_do(sp, "setgroup", 0, 0).rc, SWERL_EINVAL);

    /* inside callbacks: a scheduler process's, a group process's */
    e = sp_do(sp, "nested", 0, 0);
    CHECK_EQ_INT(e.rc, SWERL_EINPROC);                            /* swerl_group_run */
    CHECK_EQ_INT(e.reason, SWERL_EINPROC);                        /* swerl_group_take */
    {
        swerl_pid gp = group_spawn(&b_gp, NULL);
        CHECK_EQ_INT(send_text(gp, "nested"), 0);
        DRIVE_UNTIL(count_from(EV_RESULT, OP_NESTED, gp) == 1);
        if (take_from(EV_RESULT, OP_NESTED, gp, &e)) {
            CHECK_EQ_INT(e.rc, SWERL_EINPROC);
            CHECK_EQ_INT(e.reason, SWERL_EINPROC);
        }
    }

    /* 64 groups at most */
    for (k = 1; k < 64 && rc == 0; k++) rc = swerl_group_create(g_rt, "more", &extra);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(swerl_group_create(g_rt, "one too many", &extra), SWERL_ELIMIT);

    /* after stop */
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    CHECK_EQ_INT(swerl_group_take(g_group, 16, 0, &t), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_group_take(g_group, 16, SWERL_INFINITY, &t), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_group_run(g_group, 16, 0), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_group_run(g_group, 16, SWERL_INFINITY), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_group_next(g_group, NULL, 0, 16, 0, &t), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_group_spawn(g_group, &b_bp, NULL, NULL, &p), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_group_create(g_rt, "late", &g), SWERL_ESTOPPED);
    if (rt2) swerl_runtime_free(rt2);
    g_other_group = NULL;
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Stop with nobody driving                                                  */
/* ------------------------------------------------------------------------ */

static void t_stop_undriven(void)
{
    swerl_group *second = NULL;
    swerl_pid p, q;
    check_event e;
    if (!rt_begin()) { rt_end(); return; }
    CHECK_EQ_INT(swerl_group_create(g_rt, "second", &second), 0);
    p = group_spawn(&b_gp, NULL);
    DRIVE_UNTIL(count_from(EV_INIT, -1, p) == 1);                 /* init done: terminate is due */
    while (swerl_group_run(g_group, 64, 0) > 0) {}
    /* messages wait for a driver that never comes */
    CHECK_EQ_INT(send_text(p, "one"), 0);
    CHECK_EQ_INT(send_text(p, "two"), 0);
    /* a process of a group nobody ever drove (its init is still queued) */
    q = 0;
    if (second) CHECK_EQ_INT(swerl_group_spawn(second, &b_gp, NULL, NULL, &q), 0);
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    if (CHECK_EQ_INT(count_from(EV_TERMINATE, -1, p), 1) && take_from(EV_TERMINATE, -1, p, &e)) {
        CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
        CHECK_EQ_INT(e.u3, 1);                                    /* on the stopping thread */
    }
    /* the never-driven one: terminate ran if init did (both do today), and
       on the stopping thread */
    CHECK_EQ_INT(count_from(EV_TERMINATE, -1, q), count_from(EV_INIT, -1, q));
    if (count_from(EV_INIT, -1, q) && take_from(EV_INIT, -1, q, &e)) CHECK_EQ_INT(e.u3, 1);
    if (count_from(EV_TERMINATE, -1, q) && take_from(EV_TERMINATE, -1, q, &e)) {
        CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
        CHECK_EQ_INT(e.u3, 1);
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Volume: a token around a ring of 8, driven with swerl_group_next          */
/* ------------------------------------------------------------------------ */

#define RING 8

static void t_ring(void)
{
    swerl_pid ring[RING];
    uint64_t per[RING], total, hops, expect, handled = 0, wrong = 0, batches = 0;
    swerl_turn *t = NULL;
    int k, rc, done = 0;
    if (!rt_begin()) { rt_end(); return; }
    total = check_scaled(100000, 800) / RING * RING;
    for (k = 0; k < RING; k++) {
        ring[k] = group_spawn(&b_bp, (void *)(uintptr_t)k);
        per[k] = 0;
    }
    CHECK_EQ_INT(swerl_send(g_rt, ring[0], &total, sizeof total), 0);
    expect = total;
    rc = swerl_group_next(g_group, NULL, 0, 64, CHECK_WAIT_MS, &t);
    while (rc == 1) {
        uint32_t i;
        unsigned idx = (unsigned)(uintptr_t)t->state;
        batches++;
        for (i = 0; i < t->count && !done; i++) {
            const swerl_message *m = &t->messages[i];
            t->current = i;
            t->results[i] = SWERL_CONTINUE;
            if (idx >= RING || m->kind != SWERL_MESSAGE || m->len != sizeof hops) { wrong++; continue; }
            memcpy(&hops, m->data, sizeof hops);
            wrong += hops != expect;
            wrong += m->from != (hops == total ? 0 : ring[(idx + RING - 1) % RING]);
            expect = hops - 1;
            handled++;
            per[idx]++;
            if (hops > 1) {
                uint64_t left = hops - 1;
                if (swerl_send(g_rt, ring[(idx + 1) % RING], &left, sizeof left) != 0) wrong++;
            } else {
                done = 1;
            }
        }
        if (done) {
            CHECK_EQ_INT(swerl_group_finish(t, t->count), 0);
            break;
        }
        rc = swerl_group_next(g_group, t, t->count, 64, CHECK_WAIT_MS, &t);
    }
    CHECK(done);
    CHECK_EQ_U64(handled, total);
    CHECK_EQ_U64(wrong, 0);
    for (k = 0; k < RING; k++) CHECK_EQ_U64(per[k], total / RING);
    CHECK(batches > 0);
    batch_section_done();
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* swerl_group_set_batch_min: short turns run with handle, inside the take   */
/* ------------------------------------------------------------------------ */

/* swerl_group_take / _next with timeout 0, marked (g_in_take) so that a
   handle the library calls meanwhile records that it ran inside the call. */
static int take_marked(uint32_t max, swerl_turn **out)
{
    int rc;
    AT_STORE(&g_in_take, 1);
    rc = swerl_group_take(g_group, max, 0, out);
    AT_STORE(&g_in_take, 0);
    return rc;
}

static int next_marked(swerl_turn *done, uint32_t handled, uint32_t max, swerl_turn **out)
{
    int rc;
    AT_STORE(&g_in_take, 1);
    rc = swerl_group_next(g_group, done, handled, max, 0, out);
    AT_STORE(&g_in_take, 0);
    return rc;
}

/* The message `pid`'s handle accepted next: `text`, handled on the driving
   thread inside one of main's take/next calls. */
static void check_handled_inside(swerl_pid pid, const char *text)
{
    check_event e;
    if (!take_from(EV_MSG, SWERL_MESSAGE, pid, &e)) return;
    CHECK_MEM(e.data, e.len, text, strlen(text));
    CHECK_EQ_INT(e.u3, 1);                                        /* on the calling thread */
    CHECK_EQ_INT(e.u2, 1);                                        /* inside take / next */
}

#define MIN_BURST 1100u

static void t_batch_min(void)
{
    swerl_pid p, q;
    swerl_turn *t = NULL, *t2 = NULL;
    check_event e;
    char text[8];
    uint64_t i, expect = 0;
    long seen = 0, seen_q = 0, outside = 0, out_of_order = 0;
    int fd, k;
    if (!rt_begin()) { rt_end(); return; }
    fd = swerl_group_fd(g_group);
    CHECK(fd >= 0);
    p = group_spawn(&b_gp, NULL);
    q = group_spawn(&b_gp, NULL);
    CHECK(readable(fd, CHECK_WAIT_MS));
    CHECK_EQ_INT(drain_batches(), 0);                             /* their inits: no batch */
    CHECK_EQ_INT(count_from(EV_INIT, -1, p) + count_from(EV_INIT, -1, q), 2);

    CHECK_EQ_INT(swerl_group_set_batch_min(NULL, 2), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_set_batch_min(g_group, 0), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_set_batch_min(g_group, 1026), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_group_set_batch_min(g_group, 1025), 0);
    CHECK_EQ_INT(swerl_group_set_batch_min(g_group, 1), 0);
    CHECK_EQ_INT(swerl_group_set_batch_min(g_group, 2), 0);

    /* one queued message: take runs it with handle, on this thread, and
       returns 0 (nothing else is queued) */
    CHECK_EQ_INT(send_text(p, "lone"), 0);
    CHECK(readable(fd, CHECK_WAIT_MS));
    t = (swerl_turn *)&t;
    CHECK_EQ_INT(take_marked(16, &t), 0);
    CHECK(t == NULL);
    CHECK_EQ_INT(count_from(EV_MSG, SWERL_MESSAGE, p), 1);
    check_handled_inside(p, "lone");                              /* its ctx was p's */
    CHECK_EQ_INT(queue_len(p), 0);

    /* five queued: one batch of five; the library calls no handle */
    for (k = 1; k <= 5; k++) {
        snprintf(text, sizeof text, "m%d", k);
        CHECK_EQ_INT(send_text(p, text), 0);
    }
    CHECK(readable(fd, CHECK_WAIT_MS));
    t = NULL;
    if (CHECK_EQ_INT(take_marked(16, &t), 1) && CHECK(t != NULL)) {
        CHECK_EQ_U64(t->pid, p);
        CHECK_EQ_INT(t->count, 5);
        CHECK(is_batch_text(t, 0, "m1") && is_batch_text(t, 1, "m2") && is_batch_text(t, 2, "m3") &&
              is_batch_text(t, 3, "m4") && is_batch_text(t, 4, "m5"));
        CHECK_EQ_INT(count_from(EV_MSG, -1, p), 0);
        accept_all(t);
    }
    CHECK_EQ_INT(count_from(EV_MSG, -1, p), 0);
    check_group_empty();

    /* swerl_group_next: finishes a batch, then runs a lone turn itself */
    CHECK_EQ_INT(send_text(p, "n1"), 0);
    CHECK_EQ_INT(send_text(p, "n2"), 0);
    CHECK_EQ_INT(send_text(p, "n3"), 0);
    if ((t = take_of(p, 16)) != NULL) {
        uint32_t j;
        CHECK_EQ_INT(t->count, 3);
        CHECK_EQ_INT(send_text(q, "solo"), 0);                    /* queued behind p's turn */
        for (j = 0; j < t->count; j++) {
            t->current = j;
            t->results[j] = SWERL_CONTINUE;
        }
        t2 = (swerl_turn *)&t2;
        CHECK_EQ_INT(next_marked(t, 3, 16, &t2), 0);
        CHECK(t2 == NULL);
        CHECK_EQ_INT(count_from(EV_MSG, -1, q), 1);
        check_handled_inside(q, "solo");
    }
    CHECK_EQ_INT(count_from(EV_MSG, -1, p), 0);

    /* max_messages below the minimum: no turn can be a batch (each of the
       three is a batch of one: run with handle, in order, in one take) */
    CHECK_EQ_INT(send_text(p, "x1"), 0);
    CHECK_EQ_INT(send_text(p, "x2"), 0);
    CHECK_EQ_INT(send_text(p, "x3"), 0);
    CHECK_EQ_INT(take_marked(1, &t), 0);
    CHECK_EQ_INT(count_from(EV_MSG, -1, p), 3);
    check_handled_inside(p, "x1");
    check_handled_inside(p, "x2");
    check_handled_inside(p, "x3");

    /* 1025: never a batch, not even a full one of 1024 messages */
    CHECK_EQ_INT(swerl_group_set_batch_min(g_group, 1025), 0);
    for (i = 1; i <= MIN_BURST; i++)
        if (!CHECK_EQ_INT(swerl_send(g_rt, p, &i, sizeof i), 0)) break;
    CHECK_EQ_INT(send_text(q, "lone again"), 0);
    CHECK(readable(fd, CHECK_WAIT_MS));
    CHECK_EQ_INT(take_marked(1024, &t), 0);
    while (mbox_take_m(&g_mb, em(EV_MSG, SWERL_MESSAGE), &e, 0)) {
        if (e.self == q) {
            seen_q++;
            CHECK_MEM(e.data, e.len, "lone again", 10);
            outside += !e.u3 || !e.u2;
            continue;
        }
        seen++;
        outside += !e.u3 || !e.u2;
        if (e.self != p || e.len != sizeof i) { out_of_order++; continue; }
        memcpy(&i, e.data, sizeof i);
        out_of_order += i != ++expect;
    }
    CHECK_EQ_INT(seen, MIN_BURST);
    CHECK_EQ_INT(seen_q, 1);
    CHECK_EQ_INT(outside, 0);
    CHECK_EQ_INT(out_of_order, 0);
    CHECK_EQ_INT(send_text(p, "via next"), 0);
    CHECK_EQ_INT(next_marked(NULL, 0, 1024, &t), 0);
    check_handled_inside(p, "via next");

    /* back to 1: a lone message is a batch again */
    CHECK_EQ_INT(swerl_group_set_batch_min(g_group, 1), 0);
    CHECK_EQ_INT(send_text(p, "batch of one"), 0);
    if ((t = take_of(p, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 1);
        CHECK(is_batch_text(t, 0, "batch of one"));
        accept_all(t);
    }
    CHECK_EQ_INT(count_from(EV_MSG, -1, p), 0);
    check_group_empty();
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* swerl_turn_suspend / _resume                                              */
/* ------------------------------------------------------------------------ */

/* The next message scheduler process `r` got from `from`: `text`. */
static void check_got(swerl_pid r, swerl_pid from, const char *text)
{
    check_event e;
    if (!CHECK_MSG(mbox_take_m(&g_mb, em_from(EV_MSG, SWERL_MESSAGE, from), &e, CHECK_WAIT_MS),
                   "no message from %llu", (unsigned long long)from))
        return;
    CHECK_EQ_U64(e.self, r);
    CHECK_MEM(e.data, e.len, text, strlen(text));
}

/* Spawn two batch-driven processes and run their inits. */
static void spawn_two(swerl_pid *a, swerl_pid *b)
{
    *a = group_spawn(&b_bp, NULL);
    *b = group_spawn(&b_bp, NULL);
    CHECK(readable(swerl_group_fd(g_group), CHECK_WAIT_MS));
    CHECK_EQ_INT(drain_batches(), 0);
    CHECK_EQ_INT(count_from(EV_INIT, -1, *a) + count_from(EV_INIT, -1, *b), 2);
}

static void t_suspend(void)
{
    swerl_pid a, b, r;
    swerl_turn *ta, *tb, *t = NULL;
    int k;
    if (!rt_begin()) { rt_end(); return; }
    spawn_two(&a, &b);
    r = sched_spawn();
    CHECK_EQ_INT(send_text(a, "a1"), 0);
    CHECK_EQ_INT(send_text(a, "a2"), 0);
    if ((ta = take_of(a, 16)) == NULL) { rt_end(); return; }
    CHECK_EQ_INT(ta->count, 2);

    /* handle a1, then set the batch aside: the thread acts for nobody */
    ta->current = 0;
    CHECK(is_batch_text(ta, 0, "a1"));
    CHECK_EQ_INT(send_text(r, "a: before"), 0);
    ta->results[0] = SWERL_CONTINUE;
    CHECK_EQ_INT(swerl_turn_suspend(ta), 0);
    CHECK_EQ_U64(swerl_self(ta->ctx), 0);
    CHECK_EQ_INT(swerl_trap_exit(ta->ctx, 1), SWERL_ECTX);
    CHECK_EQ_INT(send_text(r, "main: meanwhile"), 0);             /* from nobody */
    CHECK_EQ_INT(swerl_turn_suspend(ta), SWERL_EINVAL);           /* not held now */
    CHECK_EQ_INT(swerl_group_finish(ta, 1), SWERL_EINVAL);        /* resume it first */

    /* meanwhile: B's batch on the same thread; A gets none (in its turn) */
    CHECK_EQ_INT(send_text(a, "a3"), 0);
    CHECK_EQ_INT(send_text(b, "b1"), 0);
    if ((tb = take_of(b, 16)) != NULL) {
        CHECK(tb != ta);
        CHECK_EQ_INT(tb->count, 1);
        CHECK(is_batch_text(tb, 0, "b1"));
        tb->current = 0;
        CHECK_EQ_U64(swerl_self(tb->ctx), b);
        CHECK_EQ_INT(send_text(r, "b: meanwhile"), 0);
        CHECK_EQ_INT(swerl_turn_resume(ta), SWERL_EINVAL);        /* this thread holds B's */
        tb->results[0] = SWERL_CONTINUE;
        CHECK_EQ_INT(swerl_group_finish(tb, 1), 0);
    }
    for (k = 0; k < 3; k++) {
        int rc = swerl_group_take(g_group, 16, 0, &t);
        CHECK_EQ_INT(rc, 0);
        if (rc == 1) {
            CHECK(t->pid != a);
            swerl_group_finish(t, 0);
        }
    }

    /* resume: the thread acts for A again; a2, then finish both */
    CHECK_EQ_INT(swerl_turn_resume(ta), 0);
    CHECK_EQ_INT(swerl_turn_resume(ta), SWERL_EINVAL);            /* not suspended now */
    CHECK_EQ_U64(swerl_self(ta->ctx), a);
    ta->current = 1;
    CHECK(is_batch_text(ta, 1, "a2"));
    CHECK_EQ_INT(send_text(r, "a: after"), 0);
    ta->results[1] = SWERL_CONTINUE;
    CHECK_EQ_INT(swerl_group_finish(ta, 2), 0);
    CHECK_EQ_INT(swerl_turn_suspend(ta), SWERL_EINVAL);           /* finished */
    CHECK_EQ_INT(swerl_turn_resume(ta), SWERL_EINVAL);

    check_got(r, a, "a: before");
    check_got(r, 0, "main: meanwhile");
    check_got(r, b, "b: meanwhile");
    check_got(r, a, "a: after");

    /* a3 waited for the turn to end: a batch of its own now */
    if ((t = take_of(a, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 1);
        CHECK(is_batch_text(t, 0, "a3"));
        accept_all(t);
    }
    check_group_empty();
    CHECK_EQ_INT(queue_len(a), 0);
    CHECK_EQ_INT(AT_LOAD(&g_batch_handle_calls), 0);
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    rt_end();
}

/* Resumes `turn` on a thread of its own, says so (EV_NOTE OP_RESUMED),
   waits for main's go (OP_GO on g_ctl), handles messages[1] and finishes. */
typedef struct resumer_arg {
    swerl_turn *turn;
    swerl_pid r;
    int resume_rc, send_rc, finish_rc, suspend_rc;
    uint64_t self;
} resumer_arg;

static check_mailbox g_ctl;           /* main -> a helper thread */

static void *resumer(void *arg)
{
    resumer_arg *ra = (resumer_arg *)arg;
    check_event e;
    ra->resume_rc = swerl_turn_resume(ra->turn);
    ra->self = swerl_self(ra->turn->ctx);
    memset(&e, 0, sizeof e);
    e.type = EV_NOTE;
    e.op = OP_RESUMED;
    mbox_post(&g_mb, &e);
    mbox_take(&g_ctl, EV_NOTE, OP_GO, &e, CHECK_WAIT_MS);
    ra->turn->current = 1;
    ra->send_rc = send_text(ra->r, "a: on the resumer");
    ra->turn->results[1] = SWERL_CONTINUE;
    ra->finish_rc = swerl_group_finish(ra->turn, 2);
    ra->suspend_rc = swerl_turn_suspend(ra->turn);                /* finished */
    return NULL;
}

static void t_suspend_thread(void)
{
    swerl_pid a, b, r;
    swerl_turn *ta, *t;
    resumer_arg ra;
    check_event e;
    pthread_t th;
    if (!rt_begin()) { rt_end(); return; }
    mbox_init(&g_ctl);
    spawn_two(&a, &b);
    r = sched_spawn();
    CHECK_EQ_INT(send_text(a, "t1"), 0);
    CHECK_EQ_INT(send_text(a, "t2"), 0);
    if ((ta = take_of(a, 16)) == NULL) { mbox_destroy(&g_ctl); rt_end(); return; }
    CHECK_EQ_INT(ta->count, 2);
    ta->current = 0;
    ta->results[0] = SWERL_CONTINUE;
    CHECK_EQ_INT(swerl_turn_suspend(ta), 0);

    memset(&ra, 0, sizeof ra);
    ra.turn = ta;
    ra.r = r;
    ra.resume_rc = ra.send_rc = ra.finish_rc = ra.suspend_rc = 1;
    if (!CHECK_EQ_INT(pthread_create(&th, NULL, resumer, &ra), 0)) {
        swerl_turn_resume(ta);
        swerl_group_finish(ta, 1);
    } else {
        /* while the other thread holds it, this one cannot finish, suspend
           or resume it */
        if (CHECK(mbox_take(&g_mb, EV_NOTE, OP_RESUMED, &e, CHECK_WAIT_MS))) {
            CHECK_EQ_INT(swerl_group_finish(ta, 2), SWERL_EINVAL);
            CHECK_EQ_INT(swerl_turn_suspend(ta), SWERL_EINVAL);
            CHECK_EQ_INT(swerl_turn_resume(ta), SWERL_EINVAL);
        }
        memset(&e, 0, sizeof e);
        e.type = EV_NOTE;
        e.op = OP_GO;
        mbox_post(&g_ctl, &e);
        pthread_join(th, NULL);
        CHECK_EQ_INT(ra.resume_rc, 0);
        CHECK_EQ_U64(ra.self, a);
        CHECK_EQ_INT(ra.send_rc, 0);
        CHECK_EQ_INT(ra.finish_rc, 0);
        CHECK_EQ_INT(ra.suspend_rc, SWERL_EINVAL);
        check_got(r, a, "a: on the resumer");
    }

    /* the process goes on on this thread */
    CHECK_EQ_INT(send_text(a, "t3"), 0);
    if ((t = take_of(a, 16)) != NULL) {
        CHECK_EQ_INT(t->count, 1);
        CHECK(is_batch_text(t, 0, "t3"));
        accept_all(t);
    }
    batch_section_done();
    mbox_destroy(&g_ctl);
    rt_end();
}

static void t_suspend_errors(void)
{
    swerl_pid a, b, gp, sp;
    swerl_turn *ta, *tb, fake;
    check_event e;
    if (!rt_begin()) { rt_end(); return; }
    CHECK_EQ_INT(swerl_turn_suspend(NULL), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_turn_resume(NULL), SWERL_EINVAL);
    memset(&fake, 0, sizeof fake);
    CHECK_EQ_INT(swerl_turn_suspend(&fake), SWERL_EINVAL);        /* not held */
    CHECK_EQ_INT(swerl_turn_resume(&fake), SWERL_EINVAL);         /* not suspended */
    spawn_two(&a, &b);
    gp = group_spawn(&b_gp, NULL);
    DRIVE_UNTIL(count_from(EV_INIT, -1, gp) == 1);
    sp = sched_spawn();

    CHECK_EQ_INT(send_text(a, "a1"), 0);
    if ((ta = take_of(a, 16)) == NULL) { rt_end(); return; }
    CHECK_EQ_INT(swerl_turn_resume(ta), SWERL_EINVAL);            /* held, not suspended */
    CHECK_EQ_INT(swerl_turn_suspend(&fake), SWERL_EINVAL);        /* holds another */
    CHECK_EQ_INT(swerl_turn_suspend(ta), 0);
    CHECK_EQ_INT(swerl_turn_suspend(ta), SWERL_EINVAL);           /* twice */
    g_suspended = ta;

    /* resume inside a callback: a scheduler process's, a group process's */
    CHECK_EQ_INT(sp_do(sp, "resume", 0, 0).rc, SWERL_EINPROC);
    CHECK_EQ_INT(send_text(gp, "resume"), 0);
    DRIVE_UNTIL(count_from(EV_RESULT, OP_RESUME, gp) == 1);
    if (take_from(EV_RESULT, OP_RESUME, gp, &e)) CHECK_EQ_INT(e.rc, SWERL_EINPROC);

    /* two suspended at once: each resumes while the thread holds no other
       (B's message only now: swerl_group_run above would have run it) */
    CHECK_EQ_INT(send_text(b, "b1"), 0);
    if ((tb = take_of(b, 16)) != NULL) {
        CHECK_EQ_INT(swerl_turn_resume(ta), SWERL_EINVAL);        /* B's is held */
        CHECK_EQ_INT(swerl_turn_suspend(tb), 0);
        CHECK_EQ_INT(swerl_turn_resume(ta), 0);
        CHECK_EQ_INT(swerl_turn_resume(tb), SWERL_EINVAL);        /* A's is held */
        CHECK_EQ_U64(swerl_self(ta->ctx), a);
        CHECK_EQ_U64(swerl_self(tb->ctx), 0);
        accept_all(ta);
        CHECK_EQ_INT(swerl_turn_resume(tb), 0);
        CHECK_EQ_U64(swerl_self(tb->ctx), b);
        accept_all(tb);
    } else {
        CHECK_EQ_INT(swerl_turn_resume(ta), 0);
        accept_all(ta);
    }
    g_suspended = NULL;
    CHECK_EQ_INT(swerl_turn_resume(ta), SWERL_EINVAL);            /* finished */
    CHECK_EQ_INT(swerl_turn_suspend(ta), SWERL_EINVAL);
    batch_section_done();
    rt_end();
}

/* swerl_runtime_stop while a batch is suspended. What 1.2's library does:
     - on the thread that holds a batch (resumed or never suspended):
       EINPROC at once, as inside a callback (checked below);
     - on another thread, with the batch resumed and finished before the
       stop's timeout: the process then exits (SHUTDOWN, terminate runs)
       and the stop returns 0 (checked below);
     - on the thread that suspended it, with nobody to resume it: the
       process cannot take the exit signal, so stop returns ETIMEDOUT at
       timeout_ms plus the 5 s it waits for killed processes; the batch
       can still be resumed and finished then, but its process never exits
       and swerl_runtime_free waits for it for ever (not run here: a hang;
       reported). */
typedef struct stopper_arg {
    int rc;
} stopper_arg;

static void *stopper(void *arg)
{
    ((stopper_arg *)arg)->rc = swerl_runtime_stop(g_rt, CHECK_WAIT_MS);
    return NULL;
}

static void t_suspend_stop(void)
{
    swerl_pid a, b, sp;
    swerl_turn *ta, *t = NULL;
    stopper_arg sa;
    check_event e;
    pthread_t th;
    if (!rt_begin()) { rt_end(); return; }
    spawn_two(&a, &b);
    sp = sched_spawn();
    CHECK_EQ_INT(sp_do(sp, "trap", 0, 0).rc, 0);                 /* it reports the stop */
    CHECK_EQ_INT(send_text(a, "s1"), 0);
    CHECK_EQ_INT(send_text(a, "s2"), 0);
    if ((ta = take_of(a, 16)) == NULL) { rt_end(); return; }
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 1000), SWERL_EINPROC);  /* holding a batch */
    ta->current = 0;
    ta->results[0] = SWERL_CONTINUE;
    CHECK_EQ_INT(swerl_turn_suspend(ta), 0);

    sa.rc = 1;
    if (!CHECK_EQ_INT(pthread_create(&th, NULL, stopper, &sa), 0)) {
        CHECK_EQ_INT(swerl_turn_resume(ta), 0);
        accept_all(ta);
        rt_end();
        return;
    }
    /* the stop has begun (a trapping process got its EXIT); A, in its
       suspended turn, has not exited */
    if (take_from(EV_MSG, SWERL_EXIT, sp, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
    CHECK_EQ_INT(count_from(EV_TERMINATE, -1, a), 0);
    CHECK_EQ_INT(swerl_turn_resume(ta), 0);
    CHECK_EQ_U64(swerl_self(ta->ctx), a);
    ta->current = 1;
    CHECK(is_batch_text(ta, 1, "s2"));
    ta->results[1] = SWERL_CONTINUE;
    CHECK_EQ_INT(swerl_group_finish(ta, 2), 0);
    pthread_join(th, NULL);
    CHECK_EQ_INT(sa.rc, 0);
    if (take_from(EV_TERMINATE, -1, a, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
    CHECK_EQ_INT(count_from(EV_TERMINATE, -1, a), 0);             /* once */
    if (take_from(EV_TERMINATE, -1, b, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
    CHECK_EQ_INT(swerl_group_take(g_group, 16, 0, &t), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_turn_resume(ta), SWERL_EINVAL);
    rt_end();
}

/* Fuzzer finding 11: a handler that the library runs inside a take (a turn
   shorter than the batch minimum) is given a finished batch's turn, which
   is the same driver's current one: finish and suspend must refuse it
   (EINVAL), not finish or set aside the batch the take is running. */
static swerl_turn *stale_turn;
static int stale_suspend;
static int stale_rc = 12345;

static int stale_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)state;
    if (m->kind == SWERL_MESSAGE && m->len == 2 && memcmp(m->data, "go", 2) == 0)
        stale_rc = stale_suspend ? swerl_turn_suspend(stale_turn) : swerl_group_finish(stale_turn, 0);
    return SWERL_CONTINUE;
}

static void stale_turn_case(int suspend)
{
    swerl_config cfg;
    swerl_runtime *r;
    swerl_group *g;
    swerl_behavior b;
    swerl_pid p;
    swerl_turn *t = NULL;
    memset(&b, 0, sizeof b);
    b.size = sizeof b;
    b.handle = stale_handle;
    stale_suspend = suspend;
    stale_rc = 12345;
    swerl_config_init(&cfg);
    cfg.schedulers = 1;
    if (!CHECK_EQ_INT(swerl_runtime_start(&cfg, &r), 0)) return;
    CHECK_EQ_INT(swerl_group_create(r, "g", &g), 0);
    CHECK_EQ_INT(swerl_group_spawn(g, &b, NULL, NULL, &p), 0);
    CHECK_EQ_INT(swerl_send(r, p, "a", 1), 0);
    if (CHECK_EQ_INT(swerl_group_take(g, 16, 5000, &t), 1)) {
        stale_turn = t;
        CHECK_EQ_INT(swerl_group_finish(t, t->count), 0);
        CHECK_EQ_INT(swerl_group_set_batch_min(g, 2), 0);
        CHECK_EQ_INT(swerl_send(r, p, "go", 2), 0);
        /* One message: handle runs inside the take, which then finds nothing. */
        CHECK_EQ_INT(swerl_group_take(g, 16, 100, &t), 0);
        CHECK_EQ_INT(stale_rc, SWERL_EINVAL);
    }
    CHECK_EQ_INT(swerl_runtime_stop(r, 5000), 0);
    swerl_runtime_free(r);
}

static void t_stale_turn(void)
{
    stale_turn_case(0);
    stale_turn_case(1);
}

/* ------------------------------------------------------------------------ */
/* Mail that reaches a group process after its exit; its slot reused         */
/* ------------------------------------------------------------------------ */

/* The group process's terminate sends to itself: the message arrives after
   the exit, while the exiting turn still holds the block. The library must
   bounce it there (a dead letter), not queue the dead block back in the
   group, where nobody drives it any more: the next spawn takes the same slot,
   and its init waited behind the old token for ever (a fuzz finding, a hang
   in swerl_supervisor_start). */
static swerl_runtime *late_rt;

static int late_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)state;
    if (m->kind == SWERL_CALL) swerl_reply(late_rt, m->ref, "ok", 2);
    return m->kind == SWERL_MESSAGE && m->len == 4 && memcmp(m->data, "stop", 4) == 0 ? SWERL_STOP
                                                                                       : SWERL_CONTINUE;
}

static void late_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)reason;
    (void)state;
    CHECK_EQ_INT(swerl_send(late_rt, swerl_self(ctx), "late", 4), 0);
}

static void t_late_mail(void)
{
    swerl_config cfg;
    swerl_group *g;
    swerl_behavior gb, sb;
    swerl_pid p, q;
    swerl_stats st;
    swerl_process_info info;
    swerl_buffer reply = { NULL, 0 };
    memset(&gb, 0, sizeof gb);
    gb.size = sizeof gb;
    gb.handle = late_handle;
    gb.terminate = late_terminate;
    memset(&sb, 0, sizeof sb);
    sb.size = sizeof sb;
    sb.handle = late_handle;
    swerl_config_init(&cfg);
    cfg.schedulers = 1;
    if (!CHECK_EQ_INT(swerl_runtime_start(&cfg, &late_rt), 0)) return;
    CHECK_EQ_INT(swerl_group_create(late_rt, "g", &g), 0);
    for (int round = 0; round < 3; round++) {
        CHECK_EQ_INT(swerl_group_spawn(g, &gb, NULL, NULL, &p), 0);
        CHECK_EQ_INT(swerl_send(late_rt, p, "stop", 4), 0);
        /* One turn (init, then "stop"): the exit and its terminate on this
           thread; then nobody drives the group. */
        CHECK_EQ_INT(swerl_group_run(g, 1, 5000), 1);
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        CHECK_EQ_INT(swerl_process_get_info(late_rt, p, &info), SWERL_ENOPROC);
        /* A scheduler process, most likely in the same slot, must run. */
        CHECK_EQ_INT(swerl_spawn(late_rt, &sb, NULL, NULL, &q), 0);
        CHECK_EQ_INT(swerl_call(late_rt, q, "hi", 2, 10000, &reply), 0);
        CHECK(reply.len == 2 && memcmp(reply.data, "ok", 2) == 0);
        swerl_buffer_free(&reply);
        CHECK_EQ_INT(swerl_exit(late_rt, q, SWERL_REASON_KILL, NULL, 0), 0);
    }
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(late_rt, &st), 0);
    CHECK(st.dead_letters >= 3); /* each "late" */
    CHECK_EQ_INT(swerl_runtime_stop(late_rt, 5000), 0);
    swerl_runtime_free(late_rt);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("callback mode: init and handle on the driving thread, per-sender order, turns",
                  t_callbacks, 120);
    check_section("batch: send order, handled < count, max_messages, next", t_batch_order, 60);
    check_section("batch: SKIP keeps its place (selective receive)", t_batch_skip, 60);
    check_section("batch: STOP, swerl_fail and failures end the process", t_batch_stop, 60);
    check_section("batch: a receive timeout set on the last message", t_batch_timeout, 60);
    check_section("batch: ctx calls (self, send, link, monitor, trap_exit, demonitor flush)",
                  t_batch_ctx, 60);
    check_section("links across a group and the schedulers", t_links, 60);
    check_section("supervised child moves into the group; restarted there", t_supervisor, 60);
    check_section("swerl_group_fd readable while turns are queued", t_fd, 60);
    check_section("swerl_group_wake ends an infinite wait", t_wake, 60);
    check_section("bad input: EINVAL, ECTX, EINPROC, ELIMIT, ESTOPPED", t_bad_input, 60);
    check_section("stop with nobody driving: the stopping thread runs the exits", t_stop_undriven, 60);
    check_section("volume: a token around a ring of 8, in batches", t_ring, 300);
    check_section("set_batch_min: short turns run with handle inside take/next, bursts are batches",
                  t_batch_min, 60);
    check_section("suspend/resume: A set aside, B taken meanwhile, A resumed and finished",
                  t_suspend, 60);
    check_section("suspend/resume: resumed and finished on another thread", t_suspend_thread, 60);
    check_section("suspend/resume bad input: EINVAL, EINPROC", t_suspend_errors, 60);
    check_section("suspend/resume: swerl_runtime_stop while a batch is suspended", t_suspend_stop, 60);
    check_section("a stale turn given to finish/suspend inside a take's own callback: EINVAL", t_stale_turn, 60);
    check_section("mail reaching a group process after its exit; the slot reused by a scheduler process",
                  t_late_mail, 60);
    return check_summary();
}
