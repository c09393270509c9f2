/*
 * test_semantics.c — Erlang/OTP semantics through the C ABI. Each check names
 * the statement of docs/OTP-SEMANTICS.md it verifies (OTP-n).
 *
 * Functions covered: swerl_spawn (opts: LINK, MONITOR, TRAP_EXIT, name,
 *   mailbox_limit/overflow), swerl_self, swerl_ctx_runtime, swerl_fail,
 *   swerl_send, swerl_send_named, swerl_receive_timeout, swerl_link,
 *   swerl_unlink, swerl_trap_exit, swerl_exit, swerl_monitor,
 *   swerl_demonitor (FLUSH, INFO), swerl_register, swerl_unregister,
 *   swerl_whereis, swerl_registered, swerl_send_after, swerl_cancel_timer,
 *   swerl_call, swerl_call_async, swerl_reply, swerl_buffer_free,
 *   swerl_process_get_info, swerl_processes, swerl_runtime_stats,
 *   swerl_spawn_opts_init, swerl_runtime_start/stop/free.
 * Codes covered as results: ENOPROC, ETIMEDOUT, ENAMETAKEN, EHASNAME, ENONAME,
 *   EFULL, EREF, ECALLSELF, EEXITED, EINVAL.
 * Statements: OTP-1..5, 7..11, 13, 15..38 (those that apply), 54..57.
 *
 * Every negative check ("nothing arrives") is closed by an ordered event
 * (OTP-7: a later signal from the same sender, or a ping) rather than a sleep.
 */
#include "check.h"
#include "agent_pool.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */


static swerl_runtime *rt_begin(void)
{
    g_nagents = 0;
    g_rt = check_start_rt(4, 0);
    return g_rt;
}

static void rt_end(void)
{
    if (g_rt) swerl_runtime_free(g_rt);
    g_rt = NULL;
    agents_free_all();
}

static agent *up(agent *a) { return up_opts(a, NULL); }

static agent *spawn_trapping(const char *label)
{
    agent *a = mk(label);
    a->init_trap = 1;
    return up(a);
}

/* Q stays alive and handled no EXIT: a ping round trip, then the mailbox. */
#define CHECK_SURVIVED(q) check_survived_((q), __FILE__, __LINE__)
static void check_survived_(agent *q, const char *file, int line)
{
    CHECK_MSG(agent_ping(q) == 0, "%s:%d agent %s does not answer", file, line, q->label);
    CHECK_MSG(mbox_count(&q->mb, EV_TERMINATE, -1) == 0, "%s:%d agent %s terminated", file, line,
              q->label);
    CHECK_MSG(mbox_count(&q->mb, EV_MSG, SWERL_EXIT) == 0, "%s:%d agent %s got an EXIT message",
              file, line, q->label);
    CHECK_MSG(check_alive(g_rt, q->pid), "%s:%d agent %s is not alive", file, line, q->label);
}

static swerl_process_info info_of(swerl_pid pid, int *rc)
{
    swerl_process_info in;
    memset(&in, 0, sizeof in);
    in.size = (uint32_t)sizeof in;
    *rc = swerl_process_get_info(g_rt, pid, &in);
    return in;
}

#define info_field(p, w) info_field_rt(g_rt, (p), (w))

static swerl_stats stats_now(void)
{
    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(g_rt, &st), 0);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Lifecycle: spawn, init, handle, terminate (OTP-1, 2, 4, 5)                */
/* ------------------------------------------------------------------------ */

static check_mailbox g_life_mb;
static int g_alt_state;

static int life_init(swerl_ctx *ctx, void *arg, void **state)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = EV_INIT;
    e.self = swerl_self(ctx);
    e.u1 = (uint64_t)(uintptr_t)arg;
    e.u2 = *state == arg;              /* *state starts as arg */
    e.u3 = swerl_ctx_runtime(ctx) == g_rt;
    *state = &g_alt_state;             /* init sets the state */
    mbox_post(&g_life_mb, &e);
    return 0;
}

static int life_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = EV_MSG;
    e.self = swerl_self(ctx);
    e.kind = m->kind;
    e.from = m->from;
    e.u1 = (uint64_t)(uintptr_t)state;
    check_event_set_data(&e, m->data, m->len);
    mbox_post(&g_life_mb, &e);
    if (m->len == 4 && memcmp(m->data, "stop", 4) == 0) return SWERL_STOP;
    if (m->len == 5 && memcmp(m->data, "crash", 5) == 0) return -7;
    return SWERL_CONTINUE;
}

static void life_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = EV_TERMINATE;
    e.self = swerl_self(ctx);
    e.reason = reason;
    e.u1 = (uint64_t)(uintptr_t)state;
    mbox_post(&g_life_mb, &e);
}

static int g_stop_on_any_count;
static int stop_on_any(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx; (void)m; (void)state;
    AT_ADD(&g_stop_on_any_count, 1);
    return SWERL_STOP;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void t_lifecycle(void)
{
    swerl_behavior b;
    swerl_pid pid = 0, pid2 = 0;
    check_event e;
    int arg_cookie = 0;
    int i;
    if (!rt_begin()) return;
    mbox_init(&g_life_mb);

    memset(&b, 0, sizeof b);
    b.size = (uint32_t)sizeof b;
    b.init = life_init;
    b.handle = life_handle;
    b.terminate = life_terminate;

    /* OTP-1: spawn returns a new pid at once; init runs first, before any message */
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, &arg_cookie, NULL, &pid), 0);
    CHECK(pid != 0);
    CHECK_EQ_INT(swerl_send(g_rt, pid, "m1", 2), 0);  /* sent before init may have run */
    if (mbox_take(&g_life_mb, EV_ANY, -1, &e, CHECK_WAIT_MS)) {
        CHECK_EQ_INT(e.type, EV_INIT);                 /* OTP-1: init before any message */
        CHECK_EQ_U64(e.self, pid);                     /* OTP-2: self() is the spawned pid */
        CHECK_EQ_U64(e.u1, (uintptr_t)&arg_cookie);    /* init gets arg as is */
        CHECK_EQ_INT(e.u2, 1);                         /* *state starts as arg */
        CHECK_EQ_INT(e.u3, 1);                         /* ctx_runtime is the runtime */
    } else CHECK_MSG(0, "no init event");
    if (mbox_take(&g_life_mb, EV_ANY, -1, &e, CHECK_WAIT_MS)) {
        CHECK_EQ_INT(e.type, EV_MSG);
        CHECK_EQ_INT(e.kind, SWERL_MESSAGE);
        CHECK_EQ_U64(e.from, 0);                       /* sent from outside any process */
        CHECK_EQ_U64(e.u1, (uintptr_t)&g_alt_state);  /* handle gets the state init set */
        CHECK_MEM(e.data, e.len, "m1", 2);
    } else CHECK_MSG(0, "no message event");
    /* STOP: reason NORMAL; terminate last, with the state */
    CHECK_EQ_INT(swerl_send(g_rt, pid, "stop", 4), 0);
    mbox_take(&g_life_mb, EV_MSG, -1, &e, CHECK_WAIT_MS);
    if (mbox_take(&g_life_mb, EV_ANY, -1, &e, CHECK_WAIT_MS)) {
        CHECK_EQ_INT(e.type, EV_TERMINATE);
        CHECK_EQ_INT(e.reason, SWERL_REASON_NORMAL);   /* OTP-1: returns -> normal */
        CHECK_EQ_U64(e.u1, (uintptr_t)&g_alt_state);
        CHECK_EQ_U64(e.self, pid);
    } else CHECK_MSG(0, "no terminate event");
    CHECK_WAIT(!check_alive(g_rt, pid));
    CHECK_EQ_INT(swerl_send(g_rt, pid, "late", 4), SWERL_ENOPROC); /* Swerl: ENOPROC, not silent */

    /* a handler returning a negative value crashes: terminate(ERROR) (OTP-5) */
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, NULL, NULL, &pid2), 0);
    CHECK(pid2 != pid);
    CHECK_EQ_INT(swerl_send(g_rt, pid2, "crash", 5), 0);
    mbox_take(&g_life_mb, EV_INIT, -1, &e, CHECK_WAIT_MS);
    mbox_take(&g_life_mb, EV_MSG, -1, &e, CHECK_WAIT_MS);
    if (CHECK(mbox_take(&g_life_mb, EV_TERMINATE, -1, &e, CHECK_WAIT_MS)))
        CHECK_EQ_INT(e.reason, SWERL_REASON_ERROR);

    /* init NULL: state = arg; terminate NULL: nothing */
    {
        swerl_behavior b2;
        memset(&b2, 0, sizeof b2);
        b2.size = (uint32_t)sizeof b2;
        b2.handle = life_handle;
        CHECK_EQ_INT(swerl_spawn(g_rt, &b2, &arg_cookie, NULL, &pid), 0);
        CHECK_EQ_INT(swerl_send(g_rt, pid, "x", 1), 0);
        if (CHECK(mbox_take(&g_life_mb, EV_MSG, -1, &e, CHECK_WAIT_MS)))
            CHECK_EQ_U64(e.u1, (uintptr_t)&arg_cookie);
        CHECK_EQ_INT(swerl_send(g_rt, pid, "stop", 4), 0);
        mbox_take(&g_life_mb, EV_MSG, -1, &e, CHECK_WAIT_MS);
        CHECK_WAIT(!check_alive(g_rt, pid));
        CHECK_EQ_INT(mbox_count(&g_life_mb, EV_TERMINATE, -1), 0);
    }

    /* the behavior struct is copied: a temporary is fine */
    {
        swerl_behavior *tmp = (swerl_behavior *)malloc(sizeof *tmp);
        *tmp = b;
        CHECK_EQ_INT(swerl_spawn(g_rt, tmp, NULL, NULL, &pid), 0);
        memset(tmp, 0, sizeof *tmp);
        free(tmp);
        CHECK_EQ_INT(swerl_send(g_rt, pid, "stop", 4), 0);
        CHECK(mbox_take(&g_life_mb, EV_INIT, -1, &e, CHECK_WAIT_MS));
        CHECK(mbox_take(&g_life_mb, EV_TERMINATE, -1, &e, CHECK_WAIT_MS));
        mbox_take(&g_life_mb, EV_MSG, -1, &e, CHECK_WAIT_MS);
    }

    /* OTP-2: pids are unique, never 0 */
    {
        enum { N = 1000 };
        static uint64_t pids[N];
        swerl_behavior b3;
        uint64_t base = check_stat_processes(g_rt);
        memset(&b3, 0, sizeof b3);
        b3.size = (uint32_t)sizeof b3;
        b3.handle = stop_on_any;
        CHECK_WAIT(!check_alive(g_rt, pid) && !check_alive(g_rt, pid2)); /* the earlier ones are gone */
        /* Not alive (its pid word says so) comes a few steps before its exit
           leaves the count, so `base` may still count the last of them: the
           check below is that the count comes back to at most `base`. */
        base = check_stat_processes(g_rt);
        for (i = 0; i < N; i++) {
            pids[i] = 0;
            CHECK_EQ_INT(swerl_spawn(g_rt, &b3, NULL, NULL, &pids[i]), 0);
        }
        for (i = 0; i < N; i++) CHECK_EQ_INT(swerl_send(g_rt, pids[i], "q", 1), 0);
        qsort(pids, N, sizeof pids[0], cmp_u64);
        CHECK(pids[0] != 0);
        for (i = 1; i < N; i++)
            if (!CHECK_MSG(pids[i] != pids[i - 1], "duplicate pid %llu", (unsigned long long)pids[i]))
                break;
        CHECK_WAIT(AT_LOAD(&g_stop_on_any_count) == N);
        CHECK_WAIT(check_stat_processes(g_rt) <= base);
    }

    /* failed init (return nonzero): reason ERROR, no terminate, no message handled;
       OTP-4: spawn_monitor sees the real reason, never NOPROC */
    {
        agent *parent = spawn_new("parent");
        agent *c1 = mk("init-fails"), *c2 = mk("init-fails-reason");
        check_event r;
        c1->init_rc = 1;
        c2->init_rc = -3;
        c2->init_fail_reason = SWERL_REASON_USER + 1;
        c2->init_fail_detail = "why";
        r = agent_do(parent, cmd_spawn(c1, SWERL_SPAWN_MONITOR));
        CHECK_EQ_INT(r.rc, 0);
        CHECK(r.u2 != 0);
        if (agent_take(parent, em_ref(EV_MSG, SWERL_DOWN, r.u2), &e)) {
            CHECK_EQ_INT(e.reason, SWERL_REASON_ERROR);          /* OTP-4 */
            CHECK_EQ_U64(e.from, r.u1);
        }
        r = agent_do(parent, cmd_spawn(c2, SWERL_SPAWN_MONITOR));
        CHECK_EQ_INT(r.rc, 0);
        if (agent_take(parent, em_ref(EV_MSG, SWERL_DOWN, r.u2), &e)) {
            CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 1);       /* OTP-4: real reason */
            CHECK_MEM(e.data, e.len, "why", 3);                    /* detail reaches monitors */
            CHECK_EQ_U64(e.from, r.u1);
        }
        CHECK(agent_take(c2, em(EV_INIT, -1), &e));
        CHECK_EQ_INT(e.reason, 0);                                 /* swerl_fail in init: 0 */
        CHECK_EQ_INT(agent_ping(parent), 0);
        CHECK_EQ_INT(mbox_count(&c1->mb, EV_TERMINATE, -1), 0);   /* no terminate after a failed init */
        CHECK_EQ_INT(mbox_count(&c2->mb, EV_TERMINATE, -1), 0);
    }

    /* init returning SWERL_IGNORE: the process exits NORMAL at once (OTP-42's
       ignore); links and monitors see NORMAL; it handles nothing */
    {
        agent *parent = spawn_trapping("parent-ign"), *plain = spawn_new("parent-ign2");
        agent *c3 = mk("ignore-mon"), *c4 = mk("ignore-link"), *c5 = mk("ignore-link2");
        check_event r;
        c3->init_rc = SWERL_IGNORE;
        c4->init_rc = SWERL_IGNORE;
        c5->init_rc = SWERL_IGNORE;
        r = agent_do(parent, cmd_spawn(c3, SWERL_SPAWN_MONITOR));
        CHECK_EQ_INT(r.rc, 0);
        if (agent_take(parent, em_ref(EV_MSG, SWERL_DOWN, r.u2), &e))
            CHECK_EQ_INT(e.reason, SWERL_REASON_NORMAL);
        r = agent_do(parent, cmd_spawn(c4, SWERL_SPAWN_LINK));
        CHECK_EQ_INT(r.rc, 0);
        if (agent_take(parent, em(EV_MSG, SWERL_EXIT), &e)) {
            CHECK_EQ_INT(e.reason, SWERL_REASON_NORMAL);
            CHECK_EQ_U64(e.from, r.u1);
        }
        r = agent_do(plain, cmd_spawn(c5, SWERL_SPAWN_LINK | SWERL_SPAWN_MONITOR));
        CHECK_EQ_INT(r.rc, 0);
        if (agent_take(plain, em_ref(EV_MSG, SWERL_DOWN, r.u2), &e))
            CHECK_EQ_INT(e.reason, SWERL_REASON_NORMAL);
        CHECK_SURVIVED(plain);                                    /* OTP-21b: normal via link */
        CHECK_SURVIVED(parent);
        CHECK_WAIT(!check_alive(g_rt, c3->pid) && !check_alive(g_rt, c4->pid) &&
                   !check_alive(g_rt, c5->pid));
        CHECK_EQ_INT(mbox_count(&c3->mb, EV_MSG, -1), 0);
    }

    /* exit reasons seen by terminate and by a monitor (OTP-5, OTP-24) */
    {
        struct { const char *label; agent_cmd cmd; int32_t reason; const char *detail; } cases[4];
        int k;
        agent *w = spawn_new("watcher");
        cases[0].label = "stop";     cases[0].cmd = cmd_stop(0, NULL); cases[0].cmd.i2 = 1;
        cases[0].reason = SWERL_REASON_NORMAL; cases[0].detail = NULL;
        cases[1].label = "stop+fail"; cases[1].cmd = cmd_stop(SWERL_REASON_USER + 2, "bye");
        cases[1].reason = SWERL_REASON_USER + 2; cases[1].detail = "bye";
        cases[2].label = "crash";    cases[2].cmd = cmd_new(OP_CRASH); cases[2].cmd.i2 = -5;
        cases[2].reason = SWERL_REASON_ERROR; cases[2].detail = NULL;
        cases[3].label = "crash+fail"; cases[3].cmd = cmd_new(OP_CRASH);
        cases[3].cmd.i1 = SWERL_REASON_USER + 3; cmd_str(&cases[3].cmd, "boom");
        cases[3].reason = SWERL_REASON_USER + 3; cases[3].detail = "boom";
        for (k = 0; k < 4; k++) {
            agent *p = spawn_new(cases[k].label);
            swerl_ref ref = agent_monitor(w, p->pid);
            CHECK_EQ_INT(agent_send_cmd(p, cases[k].cmd), 0);
            if (agent_take(p, em(EV_TERMINATE, -1), &e))
                CHECK_MSG(e.reason == cases[k].reason, "%s: terminate reason %d, expected %d",
                          cases[k].label, e.reason, cases[k].reason);
            if (agent_down(w, ref, &e)) {
                CHECK_MSG(e.reason == cases[k].reason, "%s: DOWN reason %d, expected %d",
                          cases[k].label, e.reason, cases[k].reason);
                CHECK_EQ_U64(e.from, p->pid);
                if (cases[k].detail)
                    CHECK_MEM(e.data, e.len, cases[k].detail, strlen(cases[k].detail));
            }
        }
        /* swerl_fail alone does not end the process (it sets the reason of a later exit) */
        {
            agent *p = spawn_new("fail-continue");
            agent_cmd c = cmd_i(OP_FAIL, SWERL_REASON_USER + 4);
            cmd_str(&c, "later");
            CHECK_EQ_INT(agent_do(p, c).rc, 0);
            CHECK_SURVIVED(p);
        }
    }
    rt_end();
    mbox_destroy(&g_life_mb);
}

/* ------------------------------------------------------------------------ */
/* Messages: order, from, copies (OTP-7, 8, 9)                               */
/* ------------------------------------------------------------------------ */

static void t_send(void)
{
    agent *a, *b;
    check_event e;
    int i, ok = 1;
    char buf[32];
    if (!rt_begin()) return;
    a = spawn_new("a");
    b = spawn_new("b");

    /* OTP-7: one sender's messages arrive in the order sent; from is 0 outside processes */
    for (i = 0; i < 2000; i++) {
        int n = snprintf(buf, sizeof buf, "n%d", i);
        if (swerl_send(g_rt, a->pid, buf, (size_t)n) != 0) ok = 0;
    }
    CHECK(ok);
    for (i = 0; i < 2000 && ok; i++) {
        int n = snprintf(buf, sizeof buf, "n%d", i);
        if (!agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) { ok = 0; break; }
        if (e.len != (size_t)n || memcmp(e.data, buf, (size_t)n) != 0) {
            CHECK_MSG(0, "OTP-7: message %d arrived as \"%.*s\"", i, (int)e.len, (const char *)e.data);
            ok = 0;
        }
        if (e.from != 0 || e.ref != 0) {
            CHECK_MSG(0, "message from main: from=%llu ref=%llu, expected 0 0",
                      (unsigned long long)e.from, (unsigned long long)e.ref);
            ok = 0;
        }
    }
    CHECK(ok);

    /* every small length arrives whole (up to 16 bytes the copy is inline,
       in overlapping words) */
    for (i = 0; i <= 40; i++) {
        unsigned char bytes[40];
        for (int j = 0; j < i; j++) bytes[j] = (unsigned char)(i * 7 + j * 13 + 1);
        if (swerl_send(g_rt, a->pid, bytes, (size_t)i) != 0) ok = 0;
    }
    CHECK(ok);
    for (i = 0; i <= 40 && ok; i++) {
        unsigned char bytes[40];
        for (int j = 0; j < i; j++) bytes[j] = (unsigned char)(i * 7 + j * 13 + 1);
        if (!agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) { ok = 0; break; }
        if (!CHECK_MEM(e.data, e.len, bytes, (size_t)i)) ok = 0;
    }
    CHECK(ok);

    /* inside a handler, from is the sending process (OTP-7 between processes) */
    for (i = 0; i < 100; i++) {
        snprintf(buf, sizeof buf, "p%d", i);
        CHECK_EQ_INT(agent_send_cmd(a, cmd_send(b->pid, buf)), 0);
    }
    for (i = 0; i < 100; i++) {
        int n = snprintf(buf, sizeof buf, "p%d", i);
        if (!agent_take(b, em(EV_MSG, SWERL_MESSAGE), &e)) break;
        if (!CHECK_MEM(e.data, e.len, buf, (size_t)n)) break;       /* OTP-7 */
        if (!CHECK_EQ_U64(e.from, a->pid)) break;
        CHECK_EQ_U64(e.self, b->pid);
    }
    for (i = 0; i < 100; i++) {
        check_event r;
        if (!agent_take(a, em(EV_RESULT, OP_SEND), &r)) break;
        if (!CHECK_EQ_INT(r.rc, 0)) break;
    }

    /* empty messages: data NULL, len 0 */
    CHECK_EQ_INT(swerl_send(g_rt, a->pid, NULL, 0), 0);
    if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) {
        CHECK_EQ_INT(e.len, 0);
        CHECK_EQ_INT(e.data_null, 1);
    }
    CHECK_EQ_INT(swerl_send(g_rt, a->pid, "ignored", 0), 0);
    if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) {
        CHECK_EQ_INT(e.len, 0);
        CHECK_EQ_INT(e.data_null, 1);
    }

    /* messages are copies: the buffer is ours again when swerl_send returns */
    {
        char msg[8];
        memcpy(msg, "orig", 5);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, msg, 4), 0);
        memcpy(msg, "XXXX", 5);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "orig", 4);
    }
    /* a large message arrives intact */
    {
        size_t n = 1u << 20;
        unsigned char *big = (unsigned char *)malloc(n);
        for (i = 0; i < (int)n; i++) big[i] = (unsigned char)(i * 7 + 3);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, big, n), 0);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) {
            CHECK_EQ_INT(e.len, n);
            CHECK_MEM(e.data, CHECK_EVENT_DATA, big, CHECK_EVENT_DATA);
        }
        free(big);
    }

    /* OTP-8: P sends M to Q and dies: Q (monitoring, linked and trapping) gets M first */
    {
        agent *p = spawn_new("p8");
        agent *q = spawn_trapping("q8");
        check_event r;
        swerl_ref ref;
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_LINK, p->pid)).rc, 0);
        ref = agent_monitor(q, p->pid);
        CHECK_EQ_INT(agent_send_cmd(p, cmd_send(q->pid, "last")), 0);
        CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_USER + 8, "dead")), 0);
        /* q's next three events, in order: MSG last, then EXIT and DOWN */
        if (agent_take(q, em(EV_ANY, -1), &r)) {
            CHECK_EQ_INT(r.type, EV_MSG);
            CHECK_EQ_INT(r.kind, SWERL_MESSAGE);                   /* OTP-8: M before EXIT/DOWN */
            CHECK_MEM(r.data, r.len, "last", 4);
            CHECK_EQ_U64(r.from, p->pid);
        }
        if (agent_take(q, em(EV_MSG, SWERL_EXIT), &r)) {
            CHECK_EQ_U64(r.from, p->pid);
            CHECK_EQ_INT(r.reason, SWERL_REASON_USER + 8);
            CHECK_MEM(r.data, r.len, "dead", 4);
        }
        if (agent_take(q, em_ref(EV_MSG, SWERL_DOWN, ref), &r)) {
            CHECK_EQ_U64(r.from, p->pid);
            CHECK_EQ_INT(r.reason, SWERL_REASON_USER + 8);
        }
    }

    /* send_named: looked up at the call; from as for swerl_send */
    {
        CHECK_EQ_INT(swerl_register(g_rt, "sem.named", b->pid), 0);
        CHECK_EQ_INT(swerl_send_named(g_rt, "sem.named", "hi", 2), 0);
        if (agent_take(b, em(EV_MSG, SWERL_MESSAGE), &e)) {
            CHECK_MEM(e.data, e.len, "hi", 2);
            CHECK_EQ_U64(e.from, 0);
        }
        {
            agent_cmd c = cmd_new(OP_SEND_NAMED);
            cmd_str(&c, "sem.named");
            CHECK_EQ_INT(agent_do(a, c).rc, 0);
        }
        if (agent_take(b, em(EV_MSG, SWERL_MESSAGE), &e)) {
            CHECK_MEM(e.data, e.len, "named", 5);
            CHECK_EQ_U64(e.from, a->pid);
        }
        CHECK_EQ_INT(swerl_send_named(g_rt, "sem.nobody", "hi", 2), SWERL_ENONAME); /* OTP-6: badarg */
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Selective receive (OTP-11)                                                */
/* ------------------------------------------------------------------------ */

static void t_selective(void)
{
    agent *a;
    check_event e;
    agent_cmd c;
    const char *accepted_expected[4] = {"a1", "a2", "s1", "s2"};
    int i;
    if (!rt_begin()) return;
    a = spawn_new("sel");
    c = cmd_i(OP_SET_SKIP, 's');
    CHECK_EQ_INT(agent_do(a, c).rc, 0);

    CHECK_EQ_INT(swerl_send(g_rt, a->pid, "s1", 2), 0);
    CHECK_EQ_INT(swerl_send(g_rt, a->pid, "a1", 2), 0);
    CHECK_EQ_INT(swerl_send(g_rt, a->pid, "s2", 2), 0);
    CHECK_EQ_INT(swerl_send(g_rt, a->pid, "a2", 2), 0);
    CHECK_EQ_INT(agent_ping(a), 0);
    /* OTP-11: the skipped messages stay in the mailbox, in their place */
    CHECK_WAIT(QLEN(a->pid) == 2);
    /* a1, a2 accepted in order; s1, s2 only offered (skipped) */
    if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "a1", 2);
    if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "a2", 2);
    CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, SWERL_MESSAGE), 0);
    /* every skip was an 's' message, and s1 was offered before s2 the first time */
    {
        int first_s1 = -1, first_s2 = -1, k = 0;
        while (mbox_take(&a->mb, EV_SKIP, -1, &e, 0)) {
            CHECK_MSG(e.len == 2 && e.data[0] == 's', "skipped a non-'s' message \"%.*s\"",
                      (int)e.len, (const char *)e.data);
            if (e.data[1] == '1' && first_s1 < 0) first_s1 = k;
            if (e.data[1] == '2' && first_s2 < 0) first_s2 = k;
            k++;
        }
        CHECK(first_s1 >= 0 && first_s2 >= 0);
        CHECK(first_s1 < first_s2);                               /* OTP-11: offered oldest first */
    }
    /* stop skipping: the skipped ones come, oldest first (after a message is
       accepted, the next offer starts from the oldest) */
    CHECK_EQ_INT(agent_do(a, cmd_i(OP_SET_SKIP, 0)).rc, 0);
    for (i = 2; i < 4; i++)
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e))
            CHECK_MEM(e.data, e.len, accepted_expected[i], 2);  /* OTP-11 */
    CHECK_EQ_INT(agent_ping(a), 0);
    CHECK_WAIT(QLEN(a->pid) == 0);

    /* skipping a kind: a DOWN waits behind, in its place, while others pass (OTP-9, 11) */
    {
        agent *p = spawn_new("p");
        swerl_ref ref;
        c = cmd_new(OP_SET_SKIP);
        c.u1 = 1u << SWERL_DOWN;
        CHECK_EQ_INT(agent_do(a, c).rc, 0);
        ref = agent_monitor(a, p->pid);
        CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_USER, NULL)), 0);
        agent_take(a, em(EV_SKIP, SWERL_DOWN), &e);             /* offered, left in the mailbox */
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, "after-down", 10), 0);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "after-down", 10);
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, SWERL_DOWN), 0);
        CHECK_EQ_INT(agent_do(a, cmd_new(OP_SET_SKIP)).rc, 0);
        if (agent_take(a, em(EV_MSG, SWERL_DOWN), &e)) CHECK_EQ_U64(e.ref, ref);
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Receive timeout (OTP-13, OTP-14)                                          */
/* ------------------------------------------------------------------------ */

static agent_cmd cmd_timeout(uint32_t ms)
{
    agent_cmd c = cmd_new(OP_RECV_TIMEOUT);
    c.u1 = ms;
    return c;
}

/* A timer message to `a` as a sync point later than any shorter timeout. */
static void sync_by_timer(agent *a, uint32_t ms, const char *tag)
{
    swerl_ref ref = 0;
    check_event e;
    CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, ms, tag, strlen(tag), &ref), 0);
    agent_take(a, em_ref(EV_MSG, SWERL_MESSAGE, ref), &e);
}

static void t_receive_timeout(void)
{
    agent *a;
    check_event e, r;
    double t0;
    if (!rt_begin()) return;
    a = spawn_new("rt");

    /* OTP-13: no message within T: TIMEOUT, after at least T (1 ms: clock granularity) */
    t0 = check_now_ms();
    r = agent_do(a, cmd_timeout(80));
    CHECK_EQ_INT(r.rc, 0);
    if (agent_take(a, em(EV_MSG, SWERL_TIMEOUT), &e)) {
        CHECK_MSG(e.t_ms - t0 >= 79.0, "OTP-13: TIMEOUT after %.1f ms, expected >= 80", e.t_ms - t0);
        CHECK_EQ_U64(e.from, 0);
        CHECK_EQ_U64(e.ref, 0);
        CHECK_EQ_INT(e.len, 0);
    }
    /* accepting the TIMEOUT cleared it: only one */
    sync_by_timer(a, 300, "sync1");
    CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, SWERL_TIMEOUT), 0);

    /* OTP-13: T = 0 with an empty mailbox: TIMEOUT at once */
    CHECK_EQ_INT(agent_do(a, cmd_timeout(0)).rc, 0);
    CHECK(agent_take(a, em(EV_MSG, SWERL_TIMEOUT), &e));

    /* OTP-13: T = 0 with a message already waiting: the message, no TIMEOUT */
    {
        agent_cmd c = cmd_timeout(0);
        c.block_after = 1;
        CHECK_EQ_INT(agent_send_cmd(a, c), 0);
        agent_take(a, em(EV_RESULT, OP_RECV_TIMEOUT), &r);     /* inside the callback now */
        CHECK_EQ_INT(r.rc, 0);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, "waiting", 7), 0);   /* sent before the callback returns */
        agent_release(a);
        if (agent_take(a, em(EV_ANY, -1), &e)) {
            CHECK_EQ_INT(e.type, EV_MSG);
            CHECK_EQ_INT(e.kind, SWERL_MESSAGE);
            CHECK_MEM(e.data, e.len, "waiting", 7);
        }
        sync_by_timer(a, 200, "sync2");
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, SWERL_TIMEOUT), 0);
    }

    /* OTP-13: SWERL_INFINITY clears it (after infinity = no after) */
    {
        agent_cmd c = cmd_timeout(20);
        c.i1 = 1;
        c.p1 = SWERL_INFINITY;
        r = agent_do(a, c);
        CHECK_EQ_INT(r.rc, 0);
        CHECK_EQ_INT((int64_t)r.u1, 0);
        sync_by_timer(a, 250, "sync3");
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, SWERL_TIMEOUT), 0);
    }

    /* accepting a message clears it */
    {
        CHECK_EQ_INT(agent_send_cmd(a, cmd_timeout(150)), 0);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, "accept", 6), 0);   /* right behind it */
        agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e);
        sync_by_timer(a, 600, "sync4");
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, SWERL_TIMEOUT), 0);
        agent_take(a, em(EV_RESULT, OP_RECV_TIMEOUT), &r);
    }

    /* a skipped message is not accepted: the timeout still fires */
    {
        CHECK_EQ_INT(agent_do(a, cmd_i(OP_SET_SKIP, 's')).rc, 0);
        t0 = check_now_ms();
        CHECK_EQ_INT(agent_do(a, cmd_timeout(100)).rc, 0);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, "skipme", 6), 0);
        agent_take(a, em(EV_SKIP, SWERL_MESSAGE), &e);
        if (agent_take(a, em(EV_MSG, SWERL_TIMEOUT), &e))
            CHECK_MSG(e.t_ms - t0 >= 99.0, "TIMEOUT after %.1f ms, expected >= 100", e.t_ms - t0);
        CHECK_EQ_INT(agent_do(a, cmd_i(OP_SET_SKIP, 0)).rc, 0);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "skipme", 6);
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Links (OTP-3, 15, 16, 17, 18)                                             */
/* ------------------------------------------------------------------------ */

static void t_links(void)
{
    check_event e, r;
    if (!rt_begin()) return;

    /* OTP-15: bidirectional, at most one per pair, link(self) does nothing */
    {
        agent *p = spawn_new("p"), *q = spawn_new("q");
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_LINK, p->pid)).rc, 0);
        CHECK_WAIT(LINKS(p->pid) == 1);
        CHECK_EQ_INT(LINKS(q->pid), 1);
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_LINK, p->pid)).rc, 0);   /* again: no-op */
        CHECK_EQ_INT(agent_do(p, cmd_p(OP_LINK, q->pid)).rc, 0);   /* other side: same link */
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_LINK, q->pid)).rc, 0);   /* self: no-op */
        CHECK_EQ_INT(agent_ping(p), 0);
        CHECK_EQ_INT(LINKS(p->pid), 1);
        CHECK_EQ_INT(LINKS(q->pid), 1);
        /* OTP-15/16: either side's death reaches the other; here p dies, q (not
           trapping) dies with the same reason */
        {
            agent *w = spawn_new("w");
            swerl_ref rq = agent_monitor(w, q->pid);
            CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_USER + 15, "x15")), 0);
            if (agent_down(w, rq, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 15); /* OTP-21h */
            if (agent_take(q, em(EV_TERMINATE, -1), &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 15);
        }
        /* OTP-15: the unlink can come from either side */
        {
            agent *x = spawn_new("x"), *y = spawn_new("y");
            CHECK_EQ_INT(agent_do(x, cmd_p(OP_LINK, y->pid)).rc, 0);
            CHECK_WAIT(LINKS(y->pid) == 1);
            CHECK_EQ_INT(agent_do(y, cmd_p(OP_UNLINK, x->pid)).rc, 0);
            CHECK_WAIT(LINKS(x->pid) == 0);
            CHECK_EQ_INT(LINKS(y->pid), 0);
        }
    }

    /* OTP-16: a trapping partner gets EXIT with the reason and detail */
    {
        agent *p = spawn_new("p16"), *q = spawn_trapping("q16");
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_LINK, p->pid)).rc, 0);
        CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_USER + 16, "d16")), 0);
        if (agent_take(q, em(EV_MSG, SWERL_EXIT), &e)) {
            CHECK_EQ_U64(e.from, p->pid);
            CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 16);
            CHECK_MEM(e.data, e.len, "d16", 3);
        }
        CHECK_EQ_INT(agent_ping(q), 0);
        CHECK_WAIT(LINKS(q->pid) == 0);                          /* the link is gone with p */
    }

    /* OTP-17: link to a dead pid */
    {
        agent *dead = spawn_new("dead"), *w = spawn_new("w17");
        agent *q = spawn_new("q17"), *t = spawn_trapping("t17");
        swerl_ref ref = agent_monitor(w, dead->pid);
        CHECK_EQ_INT(agent_send_cmd(dead, cmd_stop(0, NULL)), 0);
        agent_down(w, ref, &e);
        r = agent_do(q, cmd_p(OP_LINK, dead->pid));
        CHECK_EQ_INT(r.rc, SWERL_ENOPROC);                       /* OTP-17: not trapping: noproc error */
        CHECK_EQ_INT(LINKS(q->pid), 0);                          /* nothing changes */
        CHECK_SURVIVED(q);
        r = agent_do(t, cmd_p(OP_LINK, dead->pid));
        CHECK_EQ_INT(r.rc, 0);                                   /* OTP-17: trapping: 0 and EXIT noproc */
        if (agent_take(t, em(EV_MSG, SWERL_EXIT), &e)) {
            CHECK_EQ_INT(e.reason, SWERL_REASON_NOPROC);
            CHECK_EQ_U64(e.from, dead->pid);
        }
        CHECK_EQ_INT(LINKS(t->pid), 0);
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_LINK, 0)).rc, SWERL_ENOPROC);  /* pid 0 */
    }

    /* OTP-18 / OTP-21a: after unlink, the partner's death has no effect */
    {
        agent *p = spawn_new("p18"), *q = spawn_new("q18"), *t = spawn_trapping("t18");
        swerl_ref rq, rt2;
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_LINK, p->pid)).rc, 0);
        CHECK_EQ_INT(agent_do(t, cmd_p(OP_LINK, p->pid)).rc, 0);
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_UNLINK, p->pid)).rc, 0);
        CHECK_EQ_INT(agent_do(t, cmd_p(OP_UNLINK, p->pid)).rc, 0);
        rq = agent_monitor(q, p->pid);
        rt2 = agent_monitor(t, p->pid);
        CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_USER + 18, NULL)), 0);
        agent_down(q, rq, &e);
        agent_down(t, rt2, &e);
        CHECK_SURVIVED(q);                                       /* OTP-21a, not trapping: dropped */
        CHECK_SURVIVED(t);                                       /* OTP-21a, trapping: no EXIT */
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_UNLINK, p->pid)).rc, 0); /* unlink a dead pid: 0 */
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_UNLINK, 0)).rc, 0);
    }

    /* OTP-3: spawn_link; a child that fails at once still reaches the parent */
    {
        agent *parent = spawn_trapping("parent3");
        agent *c1 = mk("c3");
        c1->init_rc = 1;
        c1->init_fail_reason = SWERL_REASON_USER + 3;
        c1->init_fail_detail = "early";
        r = agent_do(parent, cmd_spawn(c1, SWERL_SPAWN_LINK));
        CHECK_EQ_INT(r.rc, 0);
        if (agent_take(parent, em(EV_MSG, SWERL_EXIT), &e)) {
            CHECK_EQ_U64(e.from, r.u1);                           /* OTP-3: no unlinked window */
            CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 3);
            CHECK_MEM(e.data, e.len, "early", 5);
        }
        /* a live spawn_link child: linked both ways at once */
        {
            agent *c2 = mk("c3b");
            r = agent_do(parent, cmd_spawn(c2, SWERL_SPAWN_LINK));
            CHECK_EQ_INT(r.rc, 0);
            CHECK_EQ_INT(LINKS(c2->pid), 1);
            CHECK_EQ_INT(agent_send_cmd(c2, cmd_stop(SWERL_REASON_SHUTDOWN, NULL)), 0);
            if (agent_take(parent, em_from(EV_MSG, SWERL_EXIT, c2->pid), &e))
                CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
        }
        /* a non-trapping parent dies with its spawn_link child's reason */
        {
            agent *p2 = spawn_new("parent3b"), *w = spawn_new("w3");
            agent *c3 = mk("c3c");
            swerl_ref ref = agent_monitor(w, p2->pid);
            c3->init_rc = 1;
            c3->init_fail_reason = SWERL_REASON_USER + 33;
            CHECK_EQ_INT(agent_do(p2, cmd_spawn(c3, SWERL_SPAWN_LINK)).rc, 0);
            if (agent_down(w, ref, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 33);
        }
        /* SPAWN_TRAP_EXIT: the child traps from the start */
        {
            agent *c4 = mk("c3d");
            swerl_spawn_opts o;
            swerl_spawn_opts_init(&o);
            o.flags = SWERL_SPAWN_TRAP_EXIT;
            up_opts(c4, &o);
            CHECK_EQ_INT(TRAPS(c4->pid), 1);
            CHECK_EQ_INT(swerl_exit(g_rt, c4->pid, SWERL_REASON_USER + 34, NULL, 0), 0);
            if (agent_take(c4, em(EV_MSG, SWERL_EXIT), &e)) {
                CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 34);
                CHECK_EQ_U64(e.from, 0);                          /* exit/2 from outside: from 0 */
            }
        }
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* The exit-signal table (OTP-19, 20, 21a-h, 22)                             */
/* ------------------------------------------------------------------------ */

/* q receives; w watches q (and p); q traps or not. */
typedef struct trio { agent *p, *q, *w; swerl_ref wq, wp; } trio;

static trio mk_trio(const char *label, int trap, int link)
{
    trio t;
    t.p = spawn_new(label);
    t.q = trap ? spawn_trapping(label) : spawn_new(label);
    t.w = spawn_new("watcher");
    if (link) CHECK_EQ_INT(agent_do(t.q, cmd_p(OP_LINK, t.p->pid)).rc, 0);
    t.wq = agent_monitor(t.w, t.q->pid);
    t.wp = agent_monitor(t.w, t.p->pid);
    return t;
}

/* q died with `reason`: its DOWN at w, and its terminate with the same
   reason (swerl.h: terminate runs whatever the reason, KILLED included) */
#define CHECK_DIED(t, reason) check_died_(&(t), (reason), __FILE__, __LINE__)
static void check_died_(trio *t, int32_t reason, const char *file, int line)
{
    check_event e;
    if (agent_down(t->w, t->wq, &e))
        CHECK_MSG(e.reason == reason, "%s:%d %s: DOWN reason %d, expected %d", file, line,
                  t->q->label, e.reason, reason);
    if (agent_take(t->q, em(EV_TERMINATE, -1), &e)) {
        CHECK_MSG(e.reason == reason, "%s:%d %s: terminate reason %d, expected %d", file, line,
                  t->q->label, e.reason, reason);
    }
}

/* q, trapping, got EXIT(from, reason) and is alive */
#define CHECK_TRAPPED(t, from_, reason, detail) \
    check_trapped_(&(t), (from_), (reason), (detail), __FILE__, __LINE__)
static void check_trapped_(trio *t, swerl_pid from, int32_t reason, const char *detail,
                           const char *file, int line)
{
    check_event e;
    if (agent_take(t->q, em(EV_MSG, SWERL_EXIT), &e)) {
        CHECK_MSG(e.reason == reason, "%s:%d %s: EXIT reason %d, expected %d", file, line,
                  t->q->label, e.reason, reason);
        CHECK_MSG(e.from == from, "%s:%d %s: EXIT from %llu, expected %llu", file, line,
                  t->q->label, (unsigned long long)e.from, (unsigned long long)from);
        if (detail)
            CHECK_MSG(e.len == strlen(detail) && memcmp(e.data, detail, e.len) == 0,
                      "%s:%d %s: EXIT detail \"%.*s\", expected \"%s\"", file, line, t->q->label,
                      (int)e.len, (const char *)e.data, detail);
    }
    CHECK_EQ_INT(agent_ping(t->q), 0);
    CHECK_MSG(mbox_count(&t->q->mb, EV_TERMINATE, -1) == 0, "%s:%d %s terminated", file, line,
              t->q->label);
}

static void t_exit_table(void)
{
    check_event e;
    int trap;
    if (!rt_begin()) return;

    /* OTP-20: trap_exit returns the old value */
    {
        agent *a = spawn_new("trap20");
        CHECK_EQ_INT(agent_do(a, cmd_i(OP_TRAP, 1)).rc, 0);
        CHECK_EQ_INT(TRAPS(a->pid), 1);
        CHECK_EQ_INT(agent_do(a, cmd_i(OP_TRAP, 7)).rc, 1);     /* nonzero is on */
        CHECK_EQ_INT(agent_do(a, cmd_i(OP_TRAP, 0)).rc, 1);
        CHECK_EQ_INT(agent_do(a, cmd_i(OP_TRAP, 0)).rc, 0);
        CHECK_EQ_INT(TRAPS(a->pid), 0);
    }

    for (trap = 0; trap <= 1; trap++) {
        /* OTP-21b: normal via link: dropped / EXIT(normal) */
        {
            trio t = mk_trio("b", trap, 1);
            CHECK_EQ_INT(agent_send_cmd(t.p, cmd_stop(SWERL_REASON_NORMAL, NULL)), 0);
            agent_down(t.w, t.wp, &e);
            if (trap) CHECK_TRAPPED(t, t.p->pid, SWERL_REASON_NORMAL, NULL);   /* OTP-21b */
            else {
                swerl_ref r2 = agent_monitor(t.q, t.p->pid);    /* a DOWN after p's signals */
                agent_down(t.q, r2, &e);
                CHECK_SURVIVED(t.q);                             /* OTP-21b: receiver survives */
            }
        }
        /* OTP-19 / OTP-21c: exit(Q, normal) from another process: dropped / EXIT */
        {
            trio t = mk_trio("c", trap, 0);
            CHECK_EQ_INT(agent_do(t.p, cmd_exit(t.q->pid, SWERL_REASON_NORMAL, NULL)).rc, 0);
            CHECK_EQ_INT(agent_do(t.p, cmd_send(t.q->pid, "after")).rc, 0); /* OTP-7: after the signal */
            if (agent_take(t.q, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "after", 5);
            if (trap) CHECK_TRAPPED(t, t.p->pid, SWERL_REASON_NORMAL, NULL);   /* OTP-21c, OTP-19: from the caller */
            else CHECK_SURVIVED(t.q);                            /* OTP-21c */
            /* and from outside any process (from 0) */
            CHECK_EQ_INT(swerl_exit(g_rt, t.q->pid, SWERL_REASON_NORMAL, NULL, 0), 0);
            CHECK_EQ_INT(swerl_send(g_rt, t.q->pid, "after0", 6), 0);
            if (agent_take(t.q, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "after0", 6);
            if (trap) CHECK_TRAPPED(t, 0, SWERL_REASON_NORMAL, NULL);
            else CHECK_SURVIVED(t.q);
        }
        /* OTP-21d: exit(self(), normal): terminates / EXIT from self */
        {
            trio t = mk_trio("d", trap, 0);
            CHECK_EQ_INT(agent_do(t.q, cmd_exit(t.q->pid, SWERL_REASON_NORMAL, NULL)).rc, 0);
            if (trap) CHECK_TRAPPED(t, t.q->pid, SWERL_REASON_NORMAL, NULL);   /* OTP-21d */
            else CHECK_DIED(t, SWERL_REASON_NORMAL);             /* OTP-21d: receiver terminates */
        }
        /* OTP-21e: exit(Q, kill): untrappable, KILLED, from a process and from outside */
        {
            trio t = mk_trio("e", trap, 0);
            CHECK_EQ_INT(agent_do(t.p, cmd_exit(t.q->pid, SWERL_REASON_KILL, "k")).rc, 0);
            CHECK_DIED(t, SWERL_REASON_KILLED);                  /* OTP-21e */
            CHECK_EQ_INT(mbox_count(&t.q->mb, EV_MSG, SWERL_EXIT), 0);
        }
        {
            trio t = mk_trio("e0", trap, 0);
            CHECK_EQ_INT(swerl_exit(g_rt, t.q->pid, SWERL_REASON_KILL, NULL, 0), 0);
            CHECK_DIED(t, SWERL_REASON_KILLED);                  /* OTP-21e */
            CHECK_EQ_INT(mbox_count(&t.q->mb, EV_MSG, SWERL_EXIT), 0);
        }
        /* OTP-21f: the partner died with reason kill (exit(kill)): kill, not killed */
        {
            trio t = mk_trio("f", trap, 1);
            CHECK_EQ_INT(agent_send_cmd(t.p, cmd_stop(SWERL_REASON_KILL, NULL)), 0);
            if (agent_down(t.w, t.wp, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_KILL);
            if (trap) CHECK_TRAPPED(t, t.p->pid, SWERL_REASON_KILL, NULL);     /* OTP-21f */
            else CHECK_DIED(t, SWERL_REASON_KILL);               /* OTP-21f: kill, not converted */
        }
        /* OTP-21g: the partner was killed: killed */
        {
            trio t = mk_trio("g", trap, 1);
            CHECK_EQ_INT(swerl_exit(g_rt, t.p->pid, SWERL_REASON_KILL, NULL, 0), 0);
            if (agent_down(t.w, t.wp, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_KILLED);
            if (trap) CHECK_TRAPPED(t, t.p->pid, SWERL_REASON_KILLED, NULL);   /* OTP-21g */
            else CHECK_DIED(t, SWERL_REASON_KILLED);             /* OTP-21g */
        }
        /* OTP-21h: any other reason, by link and by exit/2, with detail */
        {
            static const int32_t reasons[4] = {SWERL_REASON_SHUTDOWN, SWERL_REASON_NOPROC,
                                               SWERL_REASON_ERROR, SWERL_REASON_USER + 21};
            int k;
            for (k = 0; k < 4; k++) {
                trio t = mk_trio("h-link", trap, 1);
                CHECK_EQ_INT(agent_send_cmd(t.p, cmd_stop(reasons[k], "why-h")), 0);
                if (trap) CHECK_TRAPPED(t, t.p->pid, reasons[k], "why-h");     /* OTP-21h */
                else CHECK_DIED(t, reasons[k]);                  /* OTP-21h: same reason */
            }
            for (k = 0; k < 4; k++) {
                trio t = mk_trio("h-exit", trap, 0);
                CHECK_EQ_INT(agent_do(t.p, cmd_exit(t.q->pid, reasons[k], "why-x")).rc, 0);
                if (trap) CHECK_TRAPPED(t, t.p->pid, reasons[k], "why-x");     /* OTP-21h, OTP-19 */
                else {
                    CHECK_DIED(t, reasons[k]);                   /* OTP-21h */
                    CHECK_SURVIVED(t.p);                         /* exit/2 has no link flag: sender unaffected */
                }
            }
        }
    }

    /* OTP-21h cascade: P - Q - R, none trapping: R dies with P's reason */
    {
        agent *p = spawn_new("cp"), *q = spawn_new("cq"), *r = spawn_new("cr"), *w = spawn_new("cw");
        swerl_ref ref;
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_LINK, p->pid)).rc, 0);
        CHECK_EQ_INT(agent_do(r, cmd_p(OP_LINK, q->pid)).rc, 0);
        ref = agent_monitor(w, r->pid);
        CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_USER + 22, NULL)), 0);
        if (agent_down(w, ref, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 22); /* OTP-21h cascades */
    }
    /* OTP-22: killed P emits killed: Q (not trapping) dies KILLED, R (trapping) sees EXIT(killed) from Q */
    {
        agent *p = spawn_new("kp"), *q = spawn_new("kq"), *r = spawn_trapping("kr");
        CHECK_EQ_INT(agent_do(q, cmd_p(OP_LINK, p->pid)).rc, 0);
        CHECK_EQ_INT(agent_do(r, cmd_p(OP_LINK, q->pid)).rc, 0);
        CHECK_EQ_INT(swerl_exit(g_rt, p->pid, SWERL_REASON_KILL, NULL, 0), 0);
        if (agent_take(r, em(EV_MSG, SWERL_EXIT), &e)) {
            CHECK_EQ_INT(e.reason, SWERL_REASON_KILLED);         /* OTP-22: row g, not row e */
            CHECK_EQ_U64(e.from, q->pid);
        }
        CHECK_EQ_INT(agent_ping(r), 0);                           /* r survives (trapping) */
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Monitors (OTP-4, 23..29)                                                  */
/* ------------------------------------------------------------------------ */

static void t_monitors(void)
{
    check_event e, r;
    if (!rt_begin()) return;

    /* OTP-23: unique refs, unidirectional; OTP-24: DOWN with the reason; OTP-26: N monitors, N DOWNs */
    {
        agent *p = spawn_new("p"), *w = spawn_new("w");
        swerl_ref r1 = agent_monitor(w, p->pid);
        swerl_ref r2, r3;
        CHECK(r1 != 0);
        CHECK_WAIT(MONITORED_BY(p->pid) == 1);
        CHECK_EQ_INT(MONITORS(w->pid), 1);
        CHECK_EQ_INT(MONITORS(p->pid), 0);                        /* OTP-23: unidirectional */
        CHECK_EQ_INT(LINKS(p->pid), 0);
        r2 = agent_monitor(w, p->pid);
        r3 = agent_monitor(w, p->pid);
        CHECK(r2 != 0 && r3 != 0 && r1 != r2 && r2 != r3 && r1 != r3); /* OTP-23/26: independent */
        CHECK_SURVIVED(p);                                        /* OTP-23: not affected */
        CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_USER + 24, "d24")), 0);
        {
            swerl_ref refs[3];
            int k;
            refs[0] = r1; refs[1] = r2; refs[2] = r3;
            for (k = 0; k < 3; k++)
                if (agent_down(w, refs[k], &e)) {                 /* OTP-26: one DOWN each */
                    CHECK_EQ_U64(e.from, p->pid);                 /* OTP-24 */
                    CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 24);
                    CHECK_MEM(e.data, e.len, "d24", 3);
                }
        }
        CHECK_EQ_INT(agent_ping(w), 0);
        CHECK_EQ_INT(mbox_count(&w->mb, EV_MSG, SWERL_DOWN), 0);  /* OTP-26: fires once */
        CHECK_WAIT(MONITORS(w->pid) == 0);                        /* removed after firing */
        CHECK_SURVIVED(w);                                        /* a DOWN never kills */
    }

    /* OTP-25: monitoring a dead pid (or pid 0): DOWN noproc at once, never an error */
    {
        agent *p = spawn_new("p25"), *w = spawn_new("w25");
        swerl_ref ref = agent_monitor(w, p->pid), r2;
        CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_NORMAL, NULL)), 0);
        agent_down(w, ref, &e);
        r = agent_do(w, cmd_p(OP_MONITOR, p->pid));
        CHECK_EQ_INT(r.rc, 0);                                    /* OTP-25: never raises */
        r2 = r.u1;
        CHECK(r2 != 0);
        if (agent_down(w, r2, &e)) {
            CHECK_EQ_INT(e.reason, SWERL_REASON_NOPROC);          /* OTP-25 */
            CHECK_EQ_U64(e.from, p->pid);
        }
        r = agent_do(w, cmd_p(OP_MONITOR, 0));
        CHECK_EQ_INT(r.rc, 0);
        if (agent_down(w, r.u1, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_NOPROC);
    }

    /* OTP-4: spawn_monitor: the DOWN carries the real reason, even for an immediate crash */
    {
        agent *parent = spawn_new("parent4"), *c = mk("c4");
        c->init_rc = 1;
        c->init_fail_reason = SWERL_REASON_USER + 4;
        r = agent_do(parent, cmd_spawn(c, SWERL_SPAWN_MONITOR));
        CHECK_EQ_INT(r.rc, 0);
        CHECK(r.u2 != 0);
        if (agent_down(parent, r.u2, &e)) {
            CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 4);        /* OTP-4: never noproc */
            CHECK_EQ_U64(e.from, r.u1);
        }
        /* a healthy spawn_monitor child: monitored at once */
        {
            agent *c2 = mk("c4b");
            r = agent_do(parent, cmd_spawn(c2, SWERL_SPAWN_MONITOR | SWERL_SPAWN_LINK));
            CHECK_EQ_INT(r.rc, 0);
            CHECK_EQ_INT(MONITORED_BY(c2->pid), 1);
            CHECK_EQ_INT(LINKS(c2->pid), 1);
        }
    }

    /* OTP-28: demonitor */
    {
        agent *p = spawn_new("p28"), *w = spawn_new("w28");
        swerl_ref r1 = agent_monitor(w, p->pid);
        swerl_ref r2 = agent_monitor(w, p->pid);
        swerl_ref r3 = agent_monitor(w, p->pid);
        CHECK_EQ_INT(agent_do(w, cmd_demonitor(r1, 0)).rc, 0);                      /* OTP-28: true */
        CHECK_EQ_INT(agent_do(w, cmd_demonitor(r2, SWERL_DEMONITOR_INFO)).rc, 1);   /* active */
        CHECK_EQ_INT(agent_do(w, cmd_demonitor(r2, SWERL_DEMONITOR_INFO)).rc, 0);   /* gone now */
        CHECK_EQ_INT(agent_do(w, cmd_demonitor(r1, 0)).rc, 0);                      /* again: 0 */
        CHECK_WAIT(MONITORED_BY(p->pid) == 1);
        CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_USER, NULL)), 0);
        agent_down(w, r3, &e);
        CHECK_EQ_INT(agent_ping(w), 0);
        CHECK_EQ_INT(mbox_count_m(&w->mb, em_ref(EV_MSG, SWERL_DOWN, r1)), 0);      /* OTP-28 */
        CHECK_EQ_INT(mbox_count_m(&w->mb, em_ref(EV_MSG, SWERL_DOWN, r2)), 0);
        /* after the DOWN was delivered: INFO says not found */
        CHECK_EQ_INT(agent_do(w, cmd_demonitor(r3, SWERL_DEMONITOR_INFO)).rc, 0);   /* OTP-28: false */
    }
    /* OTP-28: a DOWN already in the mailbox: FLUSH removes it; without FLUSH it stays */
    {
        int flush;
        for (flush = 0; flush <= 1; flush++) {
            agent *p = spawn_new("p28f"), *w = spawn_new(flush ? "w28-flush" : "w28-noflush");
            agent_cmd c = cmd_new(OP_SET_SKIP);
            swerl_ref ref;
            c.u1 = 1u << SWERL_DOWN;
            CHECK_EQ_INT(agent_do(w, c).rc, 0);                   /* w leaves DOWNs waiting */
            ref = agent_monitor(w, p->pid);
            CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_USER, NULL)), 0);
            agent_take(w, em_ref(EV_SKIP, SWERL_DOWN, ref), &e);  /* the DOWN is in w's mailbox */
            r = agent_do(w, cmd_demonitor(ref, SWERL_DEMONITOR_INFO |
                                                   (flush ? SWERL_DEMONITOR_FLUSH : 0u)));
            CHECK_EQ_INT(r.rc, 0);                                /* OTP-28 info: not active */
            CHECK_EQ_INT(agent_do(w, cmd_new(OP_SET_SKIP)).rc, 0); /* accept DOWNs again */
            CHECK_EQ_INT(agent_ping(w), 0);
            if (flush) {
                CHECK_EQ_INT(mbox_count(&w->mb, EV_MSG, SWERL_DOWN), 0);   /* OTP-28 flush */
                CHECK_WAIT(QLEN(w->pid) == 0);
            } else if (agent_down(w, ref, &e)) {
                CHECK_EQ_INT(e.reason, SWERL_REASON_USER);        /* OTP-28: may already be there */
            }
        }
        /* FLUSH alone returns 0 */
        {
            agent *p = spawn_new("p28g"), *w = spawn_new("w28g");
            swerl_ref ref = agent_monitor(w, p->pid);
            CHECK_EQ_INT(agent_do(w, cmd_demonitor(ref, SWERL_DEMONITOR_FLUSH)).rc, 0);
            CHECK_WAIT(MONITORED_BY(p->pid) == 0);
        }
    }
    /* OTP-29: a monitor owner that dies demonitors */
    {
        agent *p = spawn_new("p29"), *w = spawn_new("w29");
        agent_monitor(w, p->pid);
        agent_monitor(w, p->pid);
        CHECK_WAIT(MONITORED_BY(p->pid) >= 1);
        CHECK_EQ_INT(agent_send_cmd(w, cmd_stop(SWERL_REASON_NORMAL, NULL)), 0);
        CHECK_WAIT(MONITORED_BY(p->pid) == 0);                    /* OTP-29 */
        CHECK_SURVIVED(p);
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Names (OTP-10, 30..33)                                                    */
/* ------------------------------------------------------------------------ */

static int registered_has(const char *name, size_t *count_out)
{
    swerl_buffer buf;
    size_t count = 0, i, off = 0, total = 0;
    int found = 0;
    buf.data = NULL;
    buf.len = 0;
    if (!CHECK_EQ_INT(swerl_registered(g_rt, &buf, &count), 0)) return 0;
    for (i = 0; i < count && off < buf.len; i++) {
        const char *s = (const char *)buf.data + off;
        size_t n = strnlen(s, buf.len - off);
        if (!CHECK_MSG(n < buf.len - off, "swerl_registered: name %zu is not NUL-terminated", i)) break;
        if (strcmp(s, name) == 0) found = 1;
        off += n + 1;
        total++;
    }
    CHECK_EQ_INT(total, count);
    CHECK_EQ_INT(off, buf.len);                                    /* back to back, nothing else */
    swerl_buffer_free(&buf);
    CHECK(buf.data == NULL && buf.len == 0);
    if (count_out) *count_out = count;
    return found;
}

static void t_names(void)
{
    check_event e;
    swerl_pid out;
    size_t n0 = 0, n1 = 0;
    if (!rt_begin()) return;
    registered_has("", &n0);
    CHECK_EQ_INT(n0, 0);
    {
        agent *p = spawn_new("p"), *q = spawn_new("q");
        int rc;
        swerl_process_info in;
        /* OTP-30/31 */
        CHECK_EQ_INT(swerl_register(g_rt, "sem.p", p->pid), 0);
        out = 0;
        CHECK_EQ_INT(swerl_whereis(g_rt, "sem.p", &out), 0);
        CHECK_EQ_U64(out, p->pid);
        CHECK(registered_has("sem.p", &n1));                      /* OTP-31: registered() */
        CHECK_EQ_INT(n1, 1);
        in = info_of(p->pid, &rc);
        CHECK_EQ_INT(rc, 0);
        CHECK_STR(in.name, "sem.p");                              /* OTP-38 registered_name */
        in = info_of(q->pid, &rc);
        CHECK_STR(in.name, "");                                   /* OTP-37 quirk: no name -> empty */
        CHECK_EQ_INT(swerl_send_named(g_rt, "sem.p", "via", 3), 0);
        if (agent_take(p, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "via", 3);
        /* OTP-30: the four badargs */
        CHECK_EQ_INT(swerl_register(g_rt, "sem.p", q->pid), SWERL_ENAMETAKEN);    /* in use */
        CHECK_EQ_INT(swerl_register(g_rt, "sem.p2", p->pid), SWERL_EHASNAME);     /* has a name */
        CHECK_EQ_INT(swerl_register(g_rt, "sem.p", p->pid), SWERL_ENAMETAKEN);    /* itself, same name */
        CHECK_EQ_INT(swerl_register(g_rt, "sem.zero", 0), SWERL_ENOPROC);        /* not a process */
        CHECK_EQ_INT(swerl_register(g_rt, "", q->pid), SWERL_EINVAL);            /* the 'undefined' of C */
        CHECK_EQ_INT(swerl_register(g_rt, NULL, q->pid), SWERL_EINVAL);
        out = 0;
        CHECK_EQ_INT(swerl_whereis(g_rt, "sem.p2", &out), SWERL_ENONAME);
        /* the longest name */
        {
            char longest[SWERL_NAME_MAX + 2];
            memset(longest, 'n', sizeof longest);
            longest[SWERL_NAME_MAX + 1] = 0;
            CHECK_EQ_INT(swerl_register(g_rt, longest, q->pid), SWERL_EINVAL);  /* 256 bytes */
            longest[SWERL_NAME_MAX] = 0;
            CHECK_EQ_INT(swerl_register(g_rt, longest, q->pid), 0);             /* 255 bytes */
            in = info_of(q->pid, &rc);
            CHECK_STR(in.name, longest);
            CHECK_EQ_INT(swerl_whereis(g_rt, longest, &out), 0);
            CHECK_EQ_U64(out, q->pid);
            CHECK_EQ_INT(swerl_unregister(g_rt, longest), 0);
        }
        /* OTP-32: unregister */
        CHECK_EQ_INT(swerl_unregister(g_rt, "sem.p"), 0);
        out = 77;
        CHECK_EQ_INT(swerl_whereis(g_rt, "sem.p", &out), SWERL_ENONAME);          /* OTP-31: undefined */
        CHECK_EQ_U64(out, 0);
        CHECK_EQ_INT(swerl_unregister(g_rt, "sem.p"), SWERL_ENONAME);             /* OTP-32: badarg */
        CHECK_EQ_INT(swerl_send_named(g_rt, "sem.p", "x", 1), SWERL_ENONAME);
        CHECK(!registered_has("sem.p", &n1));
        CHECK_EQ_INT(n1, 0);
        in = info_of(p->pid, &rc);
        CHECK_STR(in.name, "");
        CHECK_EQ_INT(swerl_register(g_rt, "sem.p2", p->pid), 0);                 /* may take a new one */
        CHECK_EQ_INT(swerl_register(g_rt, "sem.p", q->pid), 0);                  /* the old one is free */
        CHECK(registered_has("sem.p2", &n1));
        CHECK_EQ_INT(n1, 2);
    }

    /* the name given at spawn is registered atomically; a taken name spawns nothing */
    {
        agent *a = mk("named"), *b = mk("named-dup");
        swerl_spawn_opts o;
        swerl_stats s0, s1;
        swerl_spawn_opts_init(&o);
        o.name = "sem.spawned";
        CHECK_EQ_INT(agent_spawn(a, &o), 0);
        CHECK_EQ_INT(swerl_whereis(g_rt, "sem.spawned", &out), 0);  /* at once, before init */
        CHECK_EQ_U64(out, a->pid);
        agent_take(a, em(EV_INIT, -1), &e);
        s0 = stats_now();
        CHECK_EQ_INT(agent_spawn(b, &o), SWERL_ENAMETAKEN);
        s1 = stats_now();
        CHECK_EQ_INT(s1.spawned, s0.spawned);                       /* nothing was spawned */
        CHECK_EQ_INT(s1.processes, s0.processes);
        CHECK_EQ_INT(mbox_count(&b->mb, EV_INIT, -1), 0);
        /* the name is copied */
        {
            char name[32];
            agent *c = mk("named-copy");
            strcpy(name, "sem.copied");
            o.name = name;
            CHECK_EQ_INT(agent_spawn(c, &o), 0);
            strcpy(name, "sem.XXXXXX");
            CHECK_EQ_INT(swerl_whereis(g_rt, "sem.copied", &out), 0);
            CHECK_EQ_U64(out, c->pid);
        }
    }

    /* OTP-10 / OTP-33: the name is released before links and monitors hear of the death */
    {
        agent *p = spawn_new("dying");
        agent *w = mk("w33"), *t = mk("t33");
        swerl_ref ref;
        w->probe_name = "sem.dying";
        t->probe_name = "sem.dying";
        t->init_trap = 1;
        up(w);
        up(t);
        CHECK_EQ_INT(swerl_register(g_rt, "sem.dying", p->pid), 0);
        ref = agent_monitor(w, p->pid);
        CHECK_EQ_INT(agent_do(t, cmd_p(OP_LINK, p->pid)).rc, 0);
        CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_USER + 33, NULL)), 0);
        if (agent_down(w, ref, &e)) {
            CHECK_EQ_INT((int64_t)e.u1, SWERL_ENONAME);           /* OTP-10: whereis in the DOWN handler */
            CHECK_EQ_U64(e.u2, 0);
        }
        if (agent_take(t, em(EV_MSG, SWERL_EXIT), &e)) {
            CHECK_EQ_INT((int64_t)e.u1, SWERL_ENONAME);           /* OTP-33: before the link's EXIT */
            CHECK_EQ_U64(e.u2, 0);
        }
        CHECK_EQ_INT(swerl_register(g_rt, "sem.dying", w->pid), 0);   /* free for another */
        CHECK_EQ_INT(swerl_register(g_rt, "sem.deadpid", p->pid), SWERL_ENOPROC); /* OTP-30 */
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Timers (OTP-34..36)                                                       */
/* ------------------------------------------------------------------------ */

static void t_timers(void)
{
    check_event e;
    swerl_ref ref = 0, ref2 = 0;
    uint32_t rem = 0;
    double t0;
    if (!rt_begin()) return;
    {
        agent *a = spawn_new("timers");

        /* OTP-34: delivered after at least T, as a MESSAGE from 0 with ref = the timer */
        t0 = check_now_ms();
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 60, "t60", 3, &ref), 0);
        CHECK(ref != 0);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) {
            CHECK_MEM(e.data, e.len, "t60", 3);
            CHECK_EQ_U64(e.from, 0);
            CHECK_EQ_U64(e.ref, ref);
            CHECK_MSG(e.t_ms - t0 >= 59.0, "OTP-34: delivered after %.1f ms, expected >= 60",
                      e.t_ms - t0);
        }
        /* OTP-36: a timer that fired: cancel gives EREF (false) */
        CHECK_EQ_INT(swerl_cancel_timer(g_rt, ref, &rem), SWERL_EREF);

        /* several timers: each after at least its time */
        {
            swerl_ref r[3];
            uint32_t ms[3] = {90, 30, 60};
            int k, got = 0;
            t0 = check_now_ms();
            for (k = 0; k < 3; k++) {
                char tag[8];
                snprintf(tag, sizeof tag, "m%u", ms[k]);
                CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, ms[k], tag, strlen(tag), &r[k]), 0);
            }
            CHECK(r[0] != r[1] && r[1] != r[2] && r[0] != r[2]);
            for (k = 0; k < 3; k++) {
                int j;
                if (!agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) break;
                for (j = 0; j < 3; j++)
                    if (e.ref == r[j]) {
                        got++;
                        CHECK_MSG(e.t_ms - t0 >= (double)ms[j] - 1.0, "OTP-34: %u ms timer after %.1f ms",
                                  ms[j], e.t_ms - t0);
                    }
            }
            CHECK_EQ_INT(got, 3);
        }

        /* ms = 0: delivered at once */
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 0, NULL, 0, &ref), 0);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) {
            CHECK_EQ_U64(e.ref, ref);
            CHECK_EQ_INT(e.len, 0);
        }

        /* OTP-36: cancel an active timer: 0 and the remaining ms; then EREF */
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 10000, "never", 5, &ref), 0);
        rem = 0;
        CHECK_EQ_INT(swerl_cancel_timer(g_rt, ref, &rem), 0);
        CHECK_MSG(rem > 8000 && rem <= 10000, "OTP-36: remaining %u ms, expected about 10000", rem);
        CHECK_EQ_INT(swerl_cancel_timer(g_rt, ref, &rem), SWERL_EREF);  /* already cancelled */
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 10000, "never2", 6, &ref2), 0);
        CHECK_EQ_INT(swerl_cancel_timer(g_rt, ref2, NULL), 0);            /* remaining may be NULL */
        CHECK_EQ_INT(swerl_cancel_timer(g_rt, 0, NULL), SWERL_EREF);       /* never existed */
        CHECK_EQ_INT(swerl_cancel_timer(g_rt, ref2 + 1000003, NULL), SWERL_EREF);

        /* OTP-36: cancelling does not remove a message already delivered */
        {
            CHECK_EQ_INT(agent_do(a, cmd_i(OP_SET_SKIP, 's')).rc, 0);
            CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 0, "s-timer", 7, &ref), 0);
            agent_take(a, em_ref(EV_SKIP, SWERL_MESSAGE, ref), &e);  /* delivered, waiting */
            CHECK_EQ_INT(swerl_cancel_timer(g_rt, ref, &rem), SWERL_EREF);
            CHECK_EQ_INT(agent_do(a, cmd_i(OP_SET_SKIP, 0)).rc, 0);
            if (agent_take(a, em_ref(EV_MSG, SWERL_MESSAGE, ref), &e))
                CHECK_MEM(e.data, e.len, "s-timer", 7);           /* OTP-36: still there */
        }
        /* a timer set from inside a handler: still from 0, ref = the timer */
        {
            agent_cmd c = cmd_p(OP_SEND_AFTER, a->pid);
            check_event r;
            c.u1 = 5;
            cmd_str(&c, "self-timer");
            r = agent_do(a, c);
            CHECK_EQ_INT(r.rc, 0);
            if (agent_take(a, em_ref(EV_MSG, SWERL_MESSAGE, r.u1), &e)) {
                CHECK_EQ_U64(e.from, 0);
                CHECK_MEM(e.data, e.len, "self-timer", 10);
            }
        }
    }

    /* OTP-35: the timer is cancelled when its target exits */
    {
        agent *p = spawn_new("p35"), *w = spawn_new("w35");
        swerl_ref wref = agent_monitor(w, p->pid);
        CHECK_EQ_INT(swerl_send_after(g_rt, p->pid, 10000, "x", 1, &ref), 0);
        CHECK_EQ_INT(agent_send_cmd(p, cmd_stop(SWERL_REASON_NORMAL, NULL)), 0);
        agent_down(w, wref, &e);
        CHECK_WAIT(!check_alive(g_rt, p->pid));
        CHECK_EQ_INT(swerl_cancel_timer(g_rt, ref, &rem), SWERL_EREF);   /* OTP-35/36 */
        /* to a process that is not alive: ENOPROC (OTP-35: not alive) */
        CHECK_EQ_INT(swerl_send_after(g_rt, p->pid, 10, "x", 1, &ref), SWERL_ENOPROC);
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* call / reply (OTP-54..57)                                                 */
/* ------------------------------------------------------------------------ */

struct call_job {
    swerl_runtime *rt;
    swerl_pid to;
    const char *req;
    uint32_t timeout;
    int rc;
    char reply[64];
    size_t reply_len;
    int done;
    double ms;
};

static void *call_thread(void *p)
{
    struct call_job *j = (struct call_job *)p;
    swerl_buffer buf;
    double t0 = check_now_ms();
    buf.data = NULL;
    buf.len = 0;
    j->rc = swerl_call(j->rt, j->to, j->req, strlen(j->req), j->timeout, &buf);
    j->ms = check_now_ms() - t0;
    j->reply_len = buf.len;
    if (buf.data && buf.len) memcpy(j->reply, buf.data, buf.len < 64 ? buf.len : 64);
    swerl_buffer_free(&buf);
    AT_STORE(&j->done, 1);
    return NULL;
}

static void start_call(struct call_job *j, pthread_t *th, swerl_pid to, const char *req, uint32_t timeout)
{
    memset(j, 0, sizeof *j);
    j->rt = g_rt;
    j->to = to;
    j->req = req;
    j->timeout = timeout;
    pthread_create(th, NULL, call_thread, j);
}

struct call_storm { swerl_runtime *rt; swerl_pid to; int id; int bad; };

static void *call_storm_thread(void *p)
{
    struct call_storm *s = (struct call_storm *)p;
    int i;
    for (i = 0; i < 500; i++) {
        char req[32];
        swerl_buffer buf;
        int n = snprintf(req, sizeof req, "t%d-%d", s->id, i);
        buf.data = NULL;
        buf.len = 0;
        if (swerl_call(s->rt, s->to, req, (size_t)n, 10000, &buf) != 0 || buf.len != (size_t)n ||
            memcmp(buf.data, req, (size_t)n) != 0)
            s->bad++;
        swerl_buffer_free(&buf);
    }
    return NULL;
}

static void t_call(void)
{
    check_event e;
    swerl_buffer buf;
    struct call_job j;
    pthread_t th;
    double t0;
    int rc;
    if (!rt_begin()) return;
    buf.data = NULL;
    buf.len = 0;
    {
        agent *s = spawn_new("server");
        agent *r = spawn_new("replier");

        /* OTP-54/59: an immediate reply */
        CHECK_EQ_INT(swerl_call(g_rt, s->pid, "ping", 4, 5000, &buf), 0);
        CHECK_MEM(buf.data, buf.len, "ping", 4);
        swerl_buffer_free(&buf);
        CHECK(buf.data == NULL && buf.len == 0);
        if (agent_take(s, em(EV_MSG, SWERL_CALL), &e)) {
            CHECK(e.ref != 0);
            CHECK_EQ_U64(e.from, 0);                              /* called from outside any process */
            CHECK_MEM(e.data, e.len, "ping", 4);
            CHECK_EQ_INT((int64_t)e.u1, 0);                       /* swerl_reply: 0 */
        }
        /* empty request, empty reply */
        CHECK_EQ_INT(swerl_call(g_rt, s->pid, NULL, 0, 5000, &buf), 0);
        CHECK_EQ_INT(buf.len, 0);
        swerl_buffer_free(&buf);
        agent_take(s, em(EV_MSG, SWERL_CALL), &e);

        /* OTP-59: a deferred reply, from another process */
        CHECK_EQ_INT(agent_do(s, cmd_i(OP_CALL_MODE, CALL_DEFER)).rc, 0);
        start_call(&j, &th, s->pid, "defer", 10000);
        if (agent_take(s, em(EV_MSG, SWERL_CALL), &e)) {
            agent_cmd c = cmd_p(OP_REPLY, e.ref);
            cmd_str(&c, "from-replier");
            CHECK_EQ_INT(agent_do(r, c).rc, 0);
            CHECK_EQ_INT(swerl_reply(g_rt, e.ref, "twice", 5), SWERL_EREF); /* already answered */
        }
        pthread_join(th, NULL);
        CHECK_EQ_INT(j.rc, 0);
        CHECK_MEM(j.reply, j.reply_len, "from-replier", 12);

        /* deferred, answered from a plain thread (main) */
        start_call(&j, &th, s->pid, "defer2", 10000);
        if (agent_take(s, em(EV_MSG, SWERL_CALL), &e)) CHECK_EQ_INT(swerl_reply(g_rt, e.ref, "main", 4), 0);
        pthread_join(th, NULL);
        CHECK_EQ_INT(j.rc, 0);
        CHECK_MEM(j.reply, j.reply_len, "main", 4);

        /* OTP-55/57 timeout; OTP-56: the late reply is discarded */
        t0 = check_now_ms();
        rc = swerl_call(g_rt, s->pid, "slow", 4, 100, &buf);
        CHECK_EQ_INT(rc, SWERL_ETIMEDOUT);
        CHECK_MSG(check_now_ms() - t0 >= 99.0, "swerl_call timed out after %.1f ms, expected >= 100",
                  check_now_ms() - t0);
        CHECK(buf.data == NULL || buf.len == 0);
        swerl_buffer_free(&buf);
        if (agent_take(s, em(EV_MSG, SWERL_CALL), &e)) {
            agent_cmd c = cmd_p(OP_REPLY, e.ref);
            cmd_str(&c, "too-late");
            CHECK_EQ_INT(swerl_reply(g_rt, e.ref, "too-late", 8), SWERL_EREF);  /* OTP-56 */
            CHECK_EQ_INT(agent_do(r, c).rc, SWERL_EREF);                       /* from a process too */
        }
        /* the next call gets its own reply, never the stale one (OTP-56) */
        CHECK_EQ_INT(agent_do(s, cmd_i(OP_CALL_MODE, CALL_ECHO)).rc, 0);
        CHECK_EQ_INT(swerl_call(g_rt, s->pid, "fresh", 5, 5000, &buf), 0);
        CHECK_MEM(buf.data, buf.len, "fresh", 5);
        swerl_buffer_free(&buf);
        agent_take(s, em(EV_MSG, SWERL_CALL), &e);
        CHECK_EQ_INT(mbox_count(&s->mb, EV_MSG, -1), 0);
        CHECK_EQ_INT(mbox_count(&r->mb, EV_MSG, -1), 0);           /* nothing arrived anywhere */

        /* many callers at once */
        {
            struct call_storm cs[4];
            pthread_t ths[4];
            int k;
            for (k = 0; k < 4; k++) {
                cs[k].rt = g_rt;
                cs[k].to = s->pid;
                cs[k].id = k;
                cs[k].bad = 0;
                pthread_create(&ths[k], NULL, call_storm_thread, &cs[k]);
            }
            for (k = 0; k < 4; k++) {
                pthread_join(ths[k], NULL);
                CHECK_EQ_INT(cs[k].bad, 0);
            }
            while (mbox_take(&s->mb, EV_MSG, SWERL_CALL, &e, 0)) {}
        }
    }

    /* OTP-57: noproc */
    {
        agent *d = spawn_new("dead-server"), *w = spawn_new("w");
        swerl_ref ref = agent_monitor(w, d->pid);
        CHECK_EQ_INT(agent_send_cmd(d, cmd_stop(0, NULL)), 0);
        agent_down(w, ref, &e);
        CHECK_EQ_INT(swerl_call(g_rt, d->pid, "x", 1, 1000, &buf), SWERL_ENOPROC);  /* OTP-57 noproc */
        CHECK_EQ_INT(swerl_call(g_rt, 0, "x", 1, 1000, &buf), SWERL_ENOPROC);
    }

    /* OTP-57: the server exits during the call: EEXITED (crash, normal stop, killed) */
    {
        agent *s1 = mk("crasher"), *s2 = mk("stopper"), *s3 = mk("killed");
        s1->call_mode = CALL_CRASH;
        s1->call_reason = SWERL_REASON_USER + 57;
        s2->call_mode = CALL_STOP;
        s3->call_mode = CALL_DEFER;
        up(s1);
        up(s2);
        up(s3);
        CHECK_EQ_INT(swerl_call(g_rt, s1->pid, "x", 1, 10000, &buf), SWERL_EEXITED);  /* crashed */
        CHECK_EQ_INT(swerl_call(g_rt, s2->pid, "x", 1, 10000, &buf), SWERL_EEXITED);  /* stopped normal */
        start_call(&j, &th, s3->pid, "x", 10000);
        agent_take(s3, em(EV_MSG, SWERL_CALL), &e);
        CHECK_EQ_INT(swerl_exit(g_rt, s3->pid, SWERL_REASON_KILL, NULL, 0), 0);
        pthread_join(th, NULL);
        CHECK_EQ_INT(j.rc, SWERL_EEXITED);                         /* killed while owing a reply */
        CHECK_EQ_INT(swerl_reply(g_rt, e.ref, "ghost", 5), SWERL_EREF);
    }
    rt_end();
}

/* call_async: the REPLY message */
static void t_call_async(void)
{
    check_event e, r;
    if (!rt_begin()) return;
    {
        agent *s = spawn_new("server"), *c = spawn_new("client");
        agent_cmd cmd;

        /* an immediate answer: REPLY, reason 0, the same ref */
        cmd = cmd_p(OP_CALL_ASYNC, s->pid);
        cmd.u1 = 5000;
        cmd_str(&cmd, "q1");
        r = agent_do(c, cmd);
        CHECK_EQ_INT(r.rc, 0);
        CHECK(r.u1 != 0);
        if (agent_take(s, em(EV_MSG, SWERL_CALL), &e)) {
            CHECK_EQ_U64(e.from, c->pid);                          /* the CALL comes from the caller */
            CHECK_MEM(e.data, e.len, "q1", 2);
        }
        if (agent_take(c, em(EV_MSG, SWERL_REPLY), &e)) {
            CHECK_EQ_U64(e.ref, r.u1);
            CHECK_EQ_INT(e.reason, 0);
            CHECK_MEM(e.data, e.len, "q1", 2);
        }
        CHECK_EQ_INT(agent_ping(c), 0);
        CHECK_EQ_INT(mbox_count(&c->mb, EV_MSG, SWERL_REPLY), 0);  /* exactly one REPLY */

        /* ECALLSELF (OTP-57 calling_self): nothing is sent */
        cmd = cmd_p(OP_CALL_ASYNC, c->pid);
        cmd.u1 = 5000;
        r = agent_do(c, cmd);
        CHECK_EQ_INT(r.rc, SWERL_ECALLSELF);
        CHECK_EQ_INT(agent_ping(c), 0);
        CHECK_EQ_INT(mbox_count(&c->mb, EV_MSG, -1), 0);

        /* a deferred answer within the timeout */
        CHECK_EQ_INT(agent_do(s, cmd_i(OP_CALL_MODE, CALL_DEFER)).rc, 0);
        cmd = cmd_p(OP_CALL_ASYNC, s->pid);
        cmd.u1 = 10000;
        cmd_str(&cmd, "q2");
        r = agent_do(c, cmd);
        CHECK_EQ_INT(r.rc, 0);
        if (agent_take(s, em(EV_MSG, SWERL_CALL), &e)) {
            CHECK_EQ_U64(e.ref, r.u1);                             /* one ref names the call */
            CHECK_EQ_INT(swerl_reply(g_rt, e.ref, "a2", 2), 0);
            CHECK_EQ_INT(swerl_reply(g_rt, e.ref, "a2", 2), SWERL_EREF);
        }
        if (agent_take(c, em(EV_MSG, SWERL_REPLY), &e)) {
            CHECK_EQ_U64(e.ref, r.u1);
            CHECK_EQ_INT(e.reason, 0);
            CHECK_MEM(e.data, e.len, "a2", 2);
        }

        /* OTP-55/56: a timeout: REPLY(ETIMEDOUT); the late reply is refused and never arrives */
        cmd = cmd_p(OP_CALL_ASYNC, s->pid);
        cmd.u1 = 50;
        cmd_str(&cmd, "q3");
        r = agent_do(c, cmd);
        CHECK_EQ_INT(r.rc, 0);
        agent_take(s, em(EV_MSG, SWERL_CALL), &e);
        {
            check_event rep;
            if (agent_take(c, em(EV_MSG, SWERL_REPLY), &rep)) {
                CHECK_EQ_U64(rep.ref, r.u1);
                CHECK_EQ_INT(rep.reason, SWERL_ETIMEDOUT);
            }
        }
        CHECK_EQ_INT(swerl_reply(g_rt, e.ref, "late", 4), SWERL_EREF);     /* OTP-56 */
        CHECK_EQ_INT(agent_ping(c), 0);
        CHECK_EQ_INT(mbox_count(&c->mb, EV_MSG, -1), 0);                   /* nothing arrives */

        /* ENOPROC as a REPLY (dead pid, pid 0) */
        {
            agent *d = spawn_new("dead"), *w = spawn_new("w");
            swerl_ref ref = agent_monitor(w, d->pid);
            CHECK_EQ_INT(agent_send_cmd(d, cmd_stop(0, NULL)), 0);
            agent_down(w, ref, &e);
            cmd = cmd_p(OP_CALL_ASYNC, d->pid);
            cmd.u1 = 5000;
            r = agent_do(c, cmd);
            CHECK_EQ_INT(r.rc, 0);
            if (agent_take(c, em(EV_MSG, SWERL_REPLY), &e)) {
                CHECK_EQ_U64(e.ref, r.u1);
                CHECK_EQ_INT(e.reason, SWERL_ENOPROC);             /* OTP-57 noproc */
            }
            cmd = cmd_p(OP_CALL_ASYNC, 0);
            cmd.u1 = 5000;
            r = agent_do(c, cmd);
            CHECK_EQ_INT(r.rc, 0);
            if (agent_take(c, em(EV_MSG, SWERL_REPLY), &e)) CHECK_EQ_INT(e.reason, SWERL_ENOPROC);
        }
        /* EEXITED: the server crashes; the REPLY's data holds its exit detail */
        {
            agent *x = mk("crasher");
            x->call_mode = CALL_CRASH;
            x->call_reason = SWERL_REASON_USER + 7;
            up(x);
            cmd = cmd_p(OP_CALL_ASYNC, x->pid);
            cmd.u1 = 10000;
            r = agent_do(c, cmd);
            CHECK_EQ_INT(r.rc, 0);
            if (agent_take(c, em(EV_MSG, SWERL_REPLY), &e)) {
                CHECK_EQ_U64(e.ref, r.u1);
                CHECK_EQ_INT(e.reason, SWERL_EEXITED);             /* OTP-57 */
                CHECK_MEM(e.data, e.len, "crash-detail", 12);
            }
            CHECK_EQ_INT(agent_ping(c), 0);
            CHECK_EQ_INT(mbox_count(&c->mb, EV_MSG, SWERL_REPLY), 0);
        }
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Introspection (OTP-37, 38)                                                */
/* ------------------------------------------------------------------------ */

static void t_info(void)
{
    check_event e;
    swerl_process_info in, in2;
    int rc, i;
    if (!rt_begin()) return;
    {
        agent *a = spawn_new("info"), *l = spawn_new("linked"), *m = spawn_new("monitored");
        agent *w = spawn_new("w");
        char payload[1000];
        agent_cmd c;

        CHECK_WAIT(STATUS(a->pid) == SWERL_STATUS_WAITING);
        in = info_of(a->pid, &rc);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(in.message_queue_len, 0);
        CHECK(in.memory > 0);
        CHECK_EQ_INT(in.links, 0);
        CHECK_EQ_INT(in.monitors, 0);
        CHECK_EQ_INT(in.monitored_by, 0);
        CHECK_EQ_INT(in.trap_exit, 0);
        CHECK_STR(in.name, "");

        /* OTP-38 status, message_queue_len, memory of a busy process: one whose
           init has not returned (no message is being handled, so every
           message sent to it is waiting under any reading) */
        {
            agent *busy = mk("busy");
            busy->init_block = 1;
            up_opts(busy, NULL);                                  /* init is running now */
            CHECK_EQ_INT(STATUS(busy->pid), SWERL_STATUS_RUNNING);
            memset(payload, 'p', sizeof payload);
            for (i = 0; i < 3; i++)
                CHECK_EQ_INT(swerl_send(g_rt, busy->pid, payload, sizeof payload), 0);
            CHECK_WAIT(QLEN(busy->pid) == 3);                     /* OTP-38: the number waiting */
            in2 = info_of(busy->pid, &rc);
            CHECK_MSG(in2.memory >= in.memory + 3 * sizeof payload,
                      "OTP-38: memory %llu with 3 x 1000 bytes waiting (an idle process: %llu)",
                      (unsigned long long)in2.memory, (unsigned long long)in.memory);
            agent_release(busy);
            for (i = 0; i < 3; i++) agent_take(busy, em(EV_MSG, SWERL_MESSAGE), &e);
            CHECK_WAIT(QLEN(busy->pid) == 0 && STATUS(busy->pid) == SWERL_STATUS_WAITING);
        }
        /* and of one inside a handler */
        c = cmd_new(OP_BLOCK);
        c.block_after = 1;
        CHECK_EQ_INT(agent_send_cmd(a, c), 0);
        agent_take(a, em(EV_RESULT, OP_BLOCK), &e);
        CHECK_EQ_INT(STATUS(a->pid), SWERL_STATUS_RUNNING);
        agent_release(a);
        for (i = 0; i < 3; i++) CHECK_EQ_INT(swerl_send(g_rt, a->pid, "h", 1), 0);
        for (i = 0; i < 3; i++) agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e);
        CHECK_WAIT(QLEN(a->pid) == 0 && STATUS(a->pid) == SWERL_STATUS_WAITING);
        in2 = info_of(a->pid, &rc);
        CHECK_MSG(in2.messages_handled >= in.messages_handled + 4,
                  "OTP-38 reductions: %llu handled, was %llu, 4 more callbacks ran",
                  (unsigned long long)in2.messages_handled, (unsigned long long)in.messages_handled);

        /* links, monitors, monitored_by, trap_exit, name */
        CHECK_EQ_INT(agent_do(a, cmd_p(OP_LINK, l->pid)).rc, 0);
        agent_monitor(a, m->pid);
        agent_monitor(w, a->pid);
        CHECK_EQ_INT(agent_do(a, cmd_i(OP_TRAP, 1)).rc, 0);
        CHECK_EQ_INT(swerl_register(g_rt, "sem.info", a->pid), 0);
        CHECK_WAIT(LINKS(a->pid) == 1 && MONITORED_BY(a->pid) == 1);
        in = info_of(a->pid, &rc);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(in.links, 1);
        CHECK_EQ_INT(in.monitors, 1);
        CHECK_EQ_INT(in.monitored_by, 1);
        CHECK_EQ_INT(in.trap_exit, 1);
        CHECK_STR(in.name, "sem.info");
        CHECK_EQ_INT(LINKS(l->pid), 1);
        CHECK_EQ_INT(MONITORED_BY(m->pid), 1);

        /* OTP-37: a dead process: ENOPROC (undefined) */
        {
            swerl_ref ref = agent_monitor(w, l->pid);
            CHECK_EQ_INT(agent_send_cmd(l, cmd_stop(0, NULL)), 0);
            agent_down(w, ref, &e);
            CHECK_WAIT(info_field(l->pid, 0) == 0xDEADu);
            in = info_of(l->pid, &rc);
            CHECK_EQ_INT(rc, SWERL_ENOPROC);
            CHECK_WAIT(LINKS(a->pid) == 0);
            in = info_of(0, &rc);
            CHECK_EQ_INT(rc, SWERL_ENOPROC);
        }
    }

    /* swerl_processes: the live pids */
    {
        swerl_pid pids[64], small[3];
        size_t count = 0, count2 = 0, k;
        uint64_t alive = check_stat_processes(g_rt);
        agent *extra = spawn_new("extra");
        CHECK_EQ_INT(swerl_processes(g_rt, NULL, 0, &count), 0);
        CHECK_EQ_INT(count, alive + 1);
        CHECK_EQ_INT(swerl_processes(g_rt, pids, 64, &count2), 0);
        CHECK_EQ_INT(count2, count);
        {
            int found = 0;
            for (k = 0; k < count2 && k < 64; k++) {
                CHECK(pids[k] != 0);
                if (pids[k] == extra->pid) found = 1;
                CHECK(check_alive(g_rt, pids[k]));
            }
            CHECK(found);
        }
        /* a buffer too small: count is the total, only cap pids are written */
        memset(small, 0, sizeof small);
        CHECK_EQ_INT(swerl_processes(g_rt, small, 2, &count2), 0);
        CHECK_EQ_INT(count2, count);
        CHECK(small[0] != 0 && small[1] != 0);
        CHECK_EQ_U64(small[2], 0);
        /* after an exit, one fewer */
        CHECK_EQ_INT(agent_send_cmd(extra, cmd_stop(0, NULL)), 0);
        CHECK_WAIT(swerl_processes(g_rt, NULL, 0, &count2) == 0 && count2 == count - 1);
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Bounded mailboxes (Swerl's deliberate difference; OTP-39 for the kill)    */
/* ------------------------------------------------------------------------ */

static void block_agent(agent *a)
{
    check_event e;
    agent_cmd c = cmd_new(OP_BLOCK);
    c.block_after = 1;
    CHECK_EQ_INT(agent_send_cmd(a, c), 0);
    agent_take(a, em(EV_RESULT, OP_BLOCK), &e);
}

static void t_mailbox_limits(void)
{
    check_event e;
    swerl_spawn_opts o;
    swerl_stats s0, s1;
    if (!rt_begin()) return;

    /* REJECT: the sender gets EFULL, nothing is queued. The receiver is busy
       in init, so no message is being handled: all sent ones are waiting. */
    {
        agent *a = mk("reject");
        a->init_block = 1;
        swerl_spawn_opts_init(&o);
        o.mailbox_limit = 2;
        o.overflow = SWERL_OVERFLOW_REJECT;
        up_opts(a, &o);
        s0 = stats_now();
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, "r1", 2), 0);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, "r2", 2), 0);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, "r3", 2), SWERL_EFULL);
        CHECK_WAIT(QLEN(a->pid) == 2);
        s1 = stats_now();
        CHECK_EQ_INT(s1.messages_sent - s0.messages_sent, 2);
        CHECK_EQ_INT(s1.messages_dropped, s0.messages_dropped);
        /* from a process too */
        {
            agent *snd = spawn_new("sender");
            CHECK_EQ_INT(agent_do(snd, cmd_send(a->pid, "p3")).rc, SWERL_EFULL);
        }
        agent_release(a);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "r1", 2);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "r2", 2);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, "r4", 2), 0);       /* room again */
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, "r4", 2);
        CHECK_EQ_INT(agent_ping(a), 0);
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, -1), 0);

        /* a message being handled is not waiting ("mailbox_limit: messages
           waiting at most"): while a handles one, 2 more are accepted */
        {
            int rc1, rc2;
            block_agent(a);
            rc1 = swerl_send(g_rt, a->pid, "h1", 2);
            rc2 = swerl_send(g_rt, a->pid, "h2", 2);
            CHECK_MSG(rc1 == 0 && rc2 == 0,
                      "limit 2 with a handler running: sending 2 more gave %s, %s (the message "
                      "being handled was counted as waiting)", swerl_err_name(rc1), swerl_err_name(rc2));
            agent_release(a);
            if (rc1 == 0) agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e);
            if (rc2 == 0) agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e);
            CHECK_EQ_INT(agent_ping(a), 0);
        }
    }
    /* DROP_OLDEST: the oldest waiting message goes, counted */
    {
        agent *a = mk("drop");
        int k;
        a->init_block = 1;
        swerl_spawn_opts_init(&o);
        o.mailbox_limit = 3;
        o.overflow = SWERL_OVERFLOW_DROP_OLDEST;
        up_opts(a, &o);
        s0 = stats_now();
        for (k = 0; k < 5; k++) {
            char m[4];
            snprintf(m, sizeof m, "o%d", k);
            CHECK_EQ_INT(swerl_send(g_rt, a->pid, m, 2), 0);     /* never rejected */
        }
        CHECK_WAIT(QLEN(a->pid) == 3);                            /* at most the limit waits */
        s1 = stats_now();
        CHECK_EQ_INT(s1.messages_dropped - s0.messages_dropped, 2);   /* counted when dropped */
        agent_release(a);
        for (k = 2; k < 5; k++) {
            char m[4];
            snprintf(m, sizeof m, "o%d", k);
            if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_MEM(e.data, e.len, m, 2);
        }
        CHECK_EQ_INT(agent_ping(a), 0);
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, -1), 0);
        s1 = stats_now();
        CHECK_EQ_INT(s1.messages_dropped - s0.messages_dropped, 2);
    }
    /* KILL: the receiver is killed with MAILBOX_FULL */
    {
        agent *a = mk("kill"), *w = spawn_new("w");
        swerl_ref ref;
        a->init_block = 1;
        swerl_spawn_opts_init(&o);
        o.mailbox_limit = 1;
        o.overflow = SWERL_OVERFLOW_KILL;
        CHECK_EQ_INT(agent_spawn(a, &o), 0);
        ref = agent_monitor(w, a->pid);
        agent_take(a, em(EV_INIT, -1), &e);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, "k1", 2), 0);
        swerl_send(g_rt, a->pid, "k2", 2);                          /* overflows */
        agent_release(a);
        if (agent_down(w, ref, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_MAILBOX_FULL);
        CHECK_WAIT(!check_alive(g_rt, a->pid));
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, -1), 0);          /* it handled nothing */
    }
    rt_end();
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("lifecycle: spawn, init, handle, terminate (OTP-1,2,4,5)", t_lifecycle, 120);
    check_section("send: order, from, copies, names (OTP-6,7,8,9)", t_send, 120);
    check_section("selective receive (OTP-11)", t_selective, 60);
    check_section("receive timeout (OTP-13)", t_receive_timeout, 60);
    check_section("links (OTP-3,15..18)", t_links, 60);
    check_section("exit signals (OTP-19..22)", t_exit_table, 120);
    check_section("monitors (OTP-4,23..29)", t_monitors, 60);
    check_section("names (OTP-10,30..33)", t_names, 60);
    check_section("timers (OTP-34..36)", t_timers, 60);
    check_section("call (OTP-54..57)", t_call, 120);
    check_section("call_async (OTP-54..57)", t_call_async, 60);
    check_section("process info, processes (OTP-37,38)", t_info, 60);
    check_section("bounded mailboxes", t_mailbox_limits, 60);
    return check_summary();
}
