/*
 * test_bad_input.c — "bad input returns a documented error and changes
 * nothing" (swerl.h, conventions), for every exported function: NULL
 * pointers, zero and huge sizes, max_message_size + 1, pid 0, dead, stale and
 * forged pids, unknown refs, a ctx used outside its callback, calls inside a
 * callback that are not allowed there, calls after swerl_runtime_stop.
 *
 * Functions covered (all 35 of swerl.h): swerl_version, swerl_version_string,
 *   swerl_strerror, swerl_err_name, swerl_config_init, swerl_runtime_start,
 *   swerl_runtime_stop, swerl_runtime_free, swerl_runtime_stats,
 *   swerl_spawn_opts_init, swerl_spawn, swerl_self, swerl_ctx_runtime,
 *   swerl_fail, swerl_send, swerl_send_named, swerl_receive_timeout,
 *   swerl_link, swerl_unlink, swerl_trap_exit, swerl_exit, swerl_monitor,
 *   swerl_demonitor, swerl_register, swerl_unregister, swerl_whereis,
 *   swerl_registered, swerl_send_after, swerl_cancel_timer, swerl_call,
 *   swerl_call_async, swerl_reply, swerl_buffer_free,
 *   swerl_process_get_info, swerl_processes.
 * Codes covered as results: EINVAL, ENOPROC, ENAMETAKEN, EHASNAME, ENONAME,
 *   ETOOBIG, ENOMEM, ESTOPPED, ECTX, EREF, ECALLSELF, EINPROC, ETIMEDOUT.
 *   (ENOTSUP: no 1.0 function documents it; test_api checks its strings.)
 * OTP statements: OTP-2 (a stale pid never reaches another process),
 *   OTP-17/25/30/37/57 for pid 0 and dead pids.
 */
#include "check.h"
#include "agent_pool.h"

#include <stddef.h>

#define info_field(p, w) info_field_rt(g_rt, (p), (w))

static swerl_runtime *rt_begin_cfg(uint32_t max_processes, uint64_t max_message_size)
{
    swerl_config cfg;
    swerl_runtime *rt = NULL;
    g_nagents = 0;
    swerl_config_init(&cfg);
    cfg.schedulers = 4;
    cfg.max_processes = max_processes;
    cfg.max_message_size = max_message_size;
    if (!CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), 0)) rt = NULL;
    g_rt = rt;
    return rt;
}
static swerl_runtime *rt_begin(void) { return rt_begin_cfg(0, 0); }

static void rt_end(void)
{
    if (g_rt) swerl_runtime_free(g_rt);
    g_rt = NULL;
    agents_free_all();
}


static swerl_stats stats_now(void)
{
    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(g_rt, &st), 0);
    return st;
}

/* a ref that names nothing: a fresh monitor's ref, demonitored, is known
   not to be a timer or a call; we also use plain numbers */
static const swerl_ref k_bogus_refs[] = {1, 2, 42, 0x7fffffffffffffffull, UINT64_MAX};
#define N_BOGUS (sizeof k_bogus_refs / sizeof k_bogus_refs[0])

/* A dead pid: spawned, stopped, and seen dead. */
static swerl_pid dead_pid(agent *w)
{
    agent *d = spawn_new("dead");
    swerl_ref ref = agent_monitor(w, d->pid);
    check_event e;
    CHECK_EQ_INT(agent_send_cmd(d, cmd_stop(0, NULL)), 0);
    agent_down(w, ref, &e);
    CHECK_WAIT(!check_alive(g_rt, d->pid));
    return d->pid;
}

/* ------------------------------------------------------------------------ */
/* NULL everything                                                           */
/* ------------------------------------------------------------------------ */

static void t_null_runtime(void)
{
    swerl_behavior b = agent_behavior();
    swerl_pid pid = 0;
    swerl_ref ref = 0;
    swerl_buffer buf;
    size_t count = 0;
    uint32_t rem = 0;
    swerl_stats st;
    swerl_process_info in;
    swerl_pid pids[4];
    buf.data = NULL;
    buf.len = 0;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    memset(&in, 0, sizeof in);
    in.size = (uint32_t)sizeof in;

    CHECK_EQ_INT(swerl_runtime_stop(NULL, 0), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_runtime_stats(NULL, &st), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_spawn(NULL, &b, NULL, NULL, &pid), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send(NULL, 1, "x", 1), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send_named(NULL, "n", "x", 1), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_exit(NULL, 1, SWERL_REASON_KILL, NULL, 0), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_register(NULL, "n", 1), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_unregister(NULL, "n"), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_whereis(NULL, "n", &pid), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_registered(NULL, &buf, &count), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send_after(NULL, 1, 10, "x", 1, &ref), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_cancel_timer(NULL, 1, &rem), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_call(NULL, 1, "x", 1, 10, &buf), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_reply(NULL, 1, "x", 1), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_process_get_info(NULL, 1, &in), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_processes(NULL, pids, 4, &count), SWERL_EINVAL);
    CHECK(buf.data == NULL && buf.len == 0);

    /* the no-ops */
    swerl_runtime_free(NULL);
    swerl_buffer_free(NULL);
    swerl_buffer_free(&buf);
    CHECK(buf.data == NULL && buf.len == 0);
    swerl_config_init(NULL);
    swerl_spawn_opts_init(NULL);
    CHECK_REACHED();
    /* strings for anything */
    CHECK(swerl_strerror(INT32_MIN) != NULL);
    CHECK(swerl_err_name(INT32_MAX) != NULL);
    CHECK(swerl_version_string() != NULL);
    CHECK(swerl_version() != 0);
}

static void t_null_ctx(void)
{
    int64_t v[CTX_PROBE_N];
    ctx_probe(NULL, 1, v);
    CTX_PROBE_CHECK(v, "NULL ctx");
}

static void t_null_args(void)
{
    check_event e;
    swerl_buffer buf;
    size_t count = 0;
    swerl_pid pid = 0;
    swerl_ref ref = 0;
    if (!rt_begin()) return;
    buf.data = NULL;
    buf.len = 0;
    {
        agent *a = spawn_new("a");
        swerl_process_info in;
        swerl_stats s0 = stats_now(), s1;

        CHECK_EQ_INT(swerl_send(g_rt, a->pid, NULL, 1), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_send_named(g_rt, NULL, "x", 1), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_register(g_rt, "bad.a", a->pid), 0);
        CHECK_EQ_INT(swerl_send_named(g_rt, "bad.a", NULL, 3), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_exit(g_rt, a->pid, SWERL_REASON_USER, NULL, 3), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_register(g_rt, NULL, a->pid), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_unregister(g_rt, NULL), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_whereis(g_rt, NULL, &pid), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_whereis(g_rt, "bad.a", NULL), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_registered(g_rt, NULL, &count), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_registered(g_rt, &buf, NULL), SWERL_EINVAL);
        CHECK(buf.data == NULL && buf.len == 0);
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 10, "x", 1, NULL), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 10, NULL, 1, &ref), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, SWERL_INFINITY, "x", 1, &ref), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_call(g_rt, a->pid, "x", 1, 100, NULL), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_call(g_rt, a->pid, NULL, 1, 100, &buf), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_reply(g_rt, 1, NULL, 1), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_process_get_info(g_rt, a->pid, NULL), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_processes(g_rt, NULL, 4, &count), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_processes(g_rt, &pid, 1, NULL), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_processes(g_rt, NULL, 0, NULL), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_runtime_stats(g_rt, NULL), SWERL_EINVAL);

        /* info: the size field */
        {
            struct { swerl_process_info in; unsigned char tail[16]; } big;
            int k;
            memset(&in, 0, sizeof in);
            in.size = 0;
            CHECK_EQ_INT(swerl_process_get_info(g_rt, a->pid, &in), SWERL_EINVAL);
            in.size = 4;
            CHECK_EQ_INT(swerl_process_get_info(g_rt, a->pid, &in), SWERL_EINVAL);
            in.size = (uint32_t)sizeof in - 1;
            CHECK_EQ_INT(swerl_process_get_info(g_rt, a->pid, &in), SWERL_EINVAL);
            memset(&big, 0x5A, sizeof big);
            big.in.size = (uint32_t)sizeof big;                  /* a future, larger struct */
            CHECK_EQ_INT(swerl_process_get_info(g_rt, a->pid, &big.in), 0);
            for (k = 0; k < 16; k++) CHECK_EQ_INT(big.tail[k], 0x5A);
            CHECK(memchr(big.in.name, 0, sizeof big.in.name) != NULL);
            CHECK_STR(big.in.name, "bad.a");
        }

        /* inside a callback: NULL outs, NULL data */
        {
            agent_cmd c = cmd_p(OP_MONITOR, a->pid);
            c.i1 = 1;                                             /* out NULL */
            CHECK_EQ_INT(agent_do(a, c).rc, SWERL_EINVAL);
            c = cmd_p(OP_CALL_ASYNC, 0);
            c.i1 = 1;                                             /* out NULL */
            c.u1 = 100;
            CHECK_EQ_INT(agent_do(a, c).rc, SWERL_EINVAL);
            c = cmd_i(OP_FAIL, SWERL_REASON_USER);
            c.i2 = 1;                                             /* detail NULL */
            c.u1 = 5;                                             /* len 5 */
            CHECK_EQ_INT(agent_do(a, c).rc, SWERL_EINVAL);
            c = cmd_demonitor(12345, 4u);                         /* unknown flag */
            CHECK_EQ_INT(agent_do(a, c).rc, SWERL_EINVAL);
            c = cmd_demonitor(12345, 0xffffffffu);
            CHECK_EQ_INT(agent_do(a, c).rc, SWERL_EINVAL);
        }
        /* nothing changed: no message was accepted, a is fine */
        s1 = stats_now();
        CHECK_EQ_INT(s1.spawned, s0.spawned);
        CHECK_EQ_INT(agent_ping(a), 0);
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, -1), 0);
        CHECK_EQ_INT(mbox_count(&a->mb, EV_TERMINATE, -1), 0);
        CHECK(check_alive(g_rt, a->pid));
        (void)e;
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* swerl_spawn's EINVAL list, ENAMETAKEN                                     */
/* ------------------------------------------------------------------------ */

static void t_spawn_bad(void)
{
    swerl_behavior b = agent_behavior(), bad;
    swerl_spawn_opts o;
    swerl_pid pid = 0;
    swerl_stats s0, s1;
    agent *dummy;
    char longname[SWERL_NAME_MAX + 2];
    if (!rt_begin()) return;
    dummy = mk("never-spawned");
    s0 = stats_now();

    CHECK_EQ_INT(swerl_spawn(g_rt, NULL, dummy, NULL, &pid), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, NULL, NULL), SWERL_EINVAL);
    bad = b;
    bad.handle = NULL;
    CHECK_EQ_INT(swerl_spawn(g_rt, &bad, dummy, NULL, &pid), SWERL_EINVAL);
    bad = b;
    bad.size = 0;
    CHECK_EQ_INT(swerl_spawn(g_rt, &bad, dummy, NULL, &pid), SWERL_EINVAL);
    bad.size = (uint32_t)offsetof(swerl_behavior, handle);
    CHECK_EQ_INT(swerl_spawn(g_rt, &bad, dummy, NULL, &pid), SWERL_EINVAL);

    swerl_spawn_opts_init(&o);
    o.size = 0;
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, &o, &pid), SWERL_EINVAL);
    o.size = (uint32_t)offsetof(swerl_spawn_opts, flags);
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, &o, &pid), SWERL_EINVAL);
    swerl_spawn_opts_init(&o);
    o.flags = 1u << 7;                                            /* unknown flag */
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, &o, &pid), SWERL_EINVAL);
    o.flags = 0x80000000u;
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, &o, &pid), SWERL_EINVAL);
    swerl_spawn_opts_init(&o);
    o.overflow = 3;                                               /* unknown overflow */
    o.mailbox_limit = 4;
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, &o, &pid), SWERL_EINVAL);
    o.overflow = UINT32_MAX;
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, &o, &pid), SWERL_EINVAL);
    swerl_spawn_opts_init(&o);
    o.flags = SWERL_SPAWN_LINK;                                   /* outside a handler */
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, &o, &pid), SWERL_EINVAL);
    {
        swerl_ref ref = 0;
        o.flags = SWERL_SPAWN_MONITOR;
        o.monitor_ref = &ref;
        CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, &o, &pid), SWERL_EINVAL);
    }
    swerl_spawn_opts_init(&o);
    o.name = "";
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, &o, &pid), SWERL_EINVAL);
    memset(longname, 'x', sizeof longname);
    longname[SWERL_NAME_MAX + 1] = 0;                             /* 256 bytes */
    o.name = longname;
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, dummy, &o, &pid), SWERL_EINVAL);

    s1 = stats_now();
    CHECK_EQ_INT(s1.spawned, s0.spawned);                         /* nothing was spawned */
    CHECK_EQ_INT(s1.processes, s0.processes);
    CHECK_EQ_INT(mbox_count(&dummy->mb, EV_INIT, -1), 0);

    /* 255 bytes is fine; the same name again: ENAMETAKEN, nothing spawned */
    {
        agent *a = mk("longname"), *a2 = mk("longname2");
        longname[SWERL_NAME_MAX] = 0;
        swerl_spawn_opts_init(&o);
        o.name = longname;
        CHECK_EQ_INT(agent_spawn(a, &o), 0);
        s0 = stats_now();
        CHECK_EQ_INT(agent_spawn(a2, &o), SWERL_ENAMETAKEN);
        s1 = stats_now();
        CHECK_EQ_INT(s1.spawned, s0.spawned);
        CHECK_EQ_INT(s1.processes, s0.processes);
    }

    /* inside a handler: MONITOR without monitor_ref */
    {
        agent *p = spawn_new("parent");
        agent *c = mk("child");
        agent_cmd cmd = cmd_spawn(c, SWERL_SPAWN_MONITOR);
        check_event r;
        cmd.i1 = 1;                                               /* monitor_ref NULL */
        s0 = stats_now();
        r = agent_do(p, cmd);
        CHECK_EQ_INT(r.rc, SWERL_EINVAL);
        cmd = cmd_spawn(c, 1u << 9);
        r = agent_do(p, cmd);
        CHECK_EQ_INT(r.rc, SWERL_EINVAL);
        s1 = stats_now();
        CHECK_EQ_INT(s1.spawned, s0.spawned);
        CHECK_EQ_INT(LINKS(p->pid), 0);
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Sizes: zero, huge, max_message_size + 1                                   */
/* ------------------------------------------------------------------------ */

#define SMALL_MAX 1000u

static void t_sizes_default(void)
{
    static const char byte = 'b';
    swerl_buffer buf;
    swerl_ref ref = 0;
    check_event e;
    if (!rt_begin()) return;
    buf.data = NULL;
    buf.len = 0;
    {
        agent *a = mk("a");
        agent *s = mk("server");
        a->init_trap = 1;
        s->call_mode = CALL_DEFER;
        up_opts(a, NULL);
        up_opts(s, NULL);
        CHECK_EQ_INT(swerl_register(g_rt, "bad.size", a->pid), 0);
        /* SIZE_MAX (the data pointer is valid for 1 byte: the size is checked first) */
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, &byte, SIZE_MAX), SWERL_ETOOBIG);
        CHECK_EQ_INT(swerl_send_named(g_rt, "bad.size", &byte, SIZE_MAX), SWERL_ETOOBIG);
        CHECK_EQ_INT(swerl_exit(g_rt, a->pid, SWERL_REASON_USER, &byte, SIZE_MAX), SWERL_ETOOBIG);
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 1, &byte, SIZE_MAX, &ref), SWERL_ETOOBIG);
        CHECK_EQ_INT(swerl_call(g_rt, s->pid, &byte, SIZE_MAX, 100, &buf), SWERL_ETOOBIG);
        /* 64 MiB + 1 (the default limit) */
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, &byte, 64u * 1024 * 1024 + 1), SWERL_ETOOBIG);
        {
            agent_cmd c = cmd_i(OP_FAIL, SWERL_REASON_USER);
            c.u1 = SIZE_MAX;
            CHECK_EQ_INT(agent_do(a, c).rc, SWERL_ETOOBIG);
        }
        /* nothing was delivered */
        CHECK_EQ_INT(agent_ping(a), 0);
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, -1), 0);
        CHECK_EQ_INT(mbox_count(&s->mb, EV_MSG, -1), 0);
        (void)e;
    }
    rt_end();
}

/* A thread doing swerl_call, for a pending call to answer (or not). */
struct pending_call {
    swerl_runtime *rt;
    swerl_pid to;
    uint32_t timeout;
    int rc;
    size_t reply_len;
    unsigned char first;
    pthread_t th;
};

static void *pending_call_thread(void *p)
{
    struct pending_call *pc = (struct pending_call *)p;
    swerl_buffer buf;
    buf.data = NULL;
    buf.len = 0;
    pc->rc = swerl_call(pc->rt, pc->to, "req", 3, pc->timeout, &buf);
    pc->reply_len = buf.len;
    pc->first = buf.len ? ((unsigned char *)buf.data)[0] : 0;
    swerl_buffer_free(&buf);
    return NULL;
}

static void pending_call_start(struct pending_call *pc, swerl_pid to, uint32_t timeout)
{
    memset(pc, 0, sizeof *pc);
    pc->rt = g_rt;
    pc->to = to;
    pc->timeout = timeout;
    pthread_create(&pc->th, NULL, pending_call_thread, pc);
}

static void t_sizes_small_max(void)
{
    unsigned char *big;
    swerl_buffer buf;
    swerl_ref ref = 0;
    check_event e, r;
    if (!rt_begin_cfg(0, SMALL_MAX)) return;
    big = (unsigned char *)calloc(1, SMALL_MAX + 1);
    memset(big, 'B', SMALL_MAX + 1);
    buf.data = NULL;
    buf.len = 0;
    {
        agent *a = mk("a"), *s = mk("server"), *c = spawn_new("client");
        a->init_trap = 1;
        up_opts(a, NULL);
        up_opts(s, NULL);
        CHECK_EQ_INT(swerl_register(g_rt, "bad.small", a->pid), 0);

        /* exactly max_message_size: fine */
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, big, SMALL_MAX), 0);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_EQ_INT(e.len, SMALL_MAX);
        /* max + 1: ETOOBIG everywhere, nothing delivered */
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, big, SMALL_MAX + 1), SWERL_ETOOBIG);
        CHECK_EQ_INT(swerl_send_named(g_rt, "bad.small", big, SMALL_MAX + 1), SWERL_ETOOBIG);
        CHECK_EQ_INT(swerl_send_named(g_rt, "bad.small", big, SMALL_MAX), 0);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_EQ_INT(e.len, SMALL_MAX);
        CHECK_EQ_INT(swerl_exit(g_rt, a->pid, SWERL_REASON_USER, big, SMALL_MAX + 1), SWERL_ETOOBIG);
        CHECK_EQ_INT(swerl_exit(g_rt, a->pid, SWERL_REASON_USER, big, SMALL_MAX), 0);
        if (agent_take(a, em(EV_MSG, SWERL_EXIT), &e)) CHECK_EQ_INT(e.len, SMALL_MAX);
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 0, big, SMALL_MAX + 1, &ref), SWERL_ETOOBIG);
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 0, big, SMALL_MAX, &ref), 0);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_EQ_INT(e.len, SMALL_MAX);
        CHECK_EQ_INT(swerl_call(g_rt, s->pid, big, SMALL_MAX + 1, 1000, &buf), SWERL_ETOOBIG);
        CHECK_EQ_INT(swerl_call(g_rt, s->pid, big, SMALL_MAX, 5000, &buf), 0);  /* echo */
        CHECK_EQ_INT(buf.len, SMALL_MAX);
        swerl_buffer_free(&buf);
        agent_take(s, em(EV_MSG, SWERL_CALL), &e);
        /* inside handlers: send, fail, call_async */
        {
            agent_cmd cmd = cmd_p(OP_SEND_BIG, a->pid);
            cmd.u1 = SMALL_MAX + 1;
            CHECK_EQ_INT(agent_do(c, cmd).rc, SWERL_ETOOBIG);
            cmd = cmd_i(OP_FAIL, SWERL_REASON_USER);
            cmd.u1 = SMALL_MAX + 1;                                 /* from the 320-byte data: len checked first */
            CHECK_EQ_INT(agent_do(c, cmd).rc, SWERL_ETOOBIG);
            cmd = cmd_i(OP_FAIL, SWERL_REASON_USER);
            cmd_str(&cmd, "small");
            CHECK_EQ_INT(agent_do(c, cmd).rc, 0);
        }
        /* reply: max + 1 refused and the call still pending; then answered */
        {
            struct pending_call pc;
            CHECK_EQ_INT(agent_do(s, cmd_i(OP_CALL_MODE, CALL_DEFER)).rc, 0);
            pending_call_start(&pc, s->pid, 10000);
            if (agent_take(s, em(EV_MSG, SWERL_CALL), &e)) {
                CHECK_EQ_INT(swerl_reply(g_rt, e.ref, big, SMALL_MAX + 1), SWERL_ETOOBIG);
                CHECK_EQ_INT(swerl_reply(g_rt, e.ref, big, SIZE_MAX), SWERL_ETOOBIG);
                CHECK_EQ_INT(swerl_reply(g_rt, e.ref, big, SMALL_MAX), 0);   /* changed nothing */
            }
            pthread_join(pc.th, NULL);
            CHECK_EQ_INT(pc.rc, 0);
            CHECK_EQ_INT(pc.reply_len, SMALL_MAX);
            CHECK_EQ_INT(pc.first, 'B');
        }
        /* call_async max + 1 (the agent's data holds 320 bytes: use a dedicated
           server; ETOOBIG must come from the size, before any copy) */
        {
            agent_cmd cmd = cmd_p(OP_CALL_ASYNC, s->pid);
            cmd.u1 = 1000;
            cmd_str(&cmd, "ok");
            r = agent_do(c, cmd);
            CHECK_EQ_INT(r.rc, 0);
            agent_take(s, em(EV_MSG, SWERL_CALL), &e);
            CHECK_EQ_INT(swerl_reply(g_rt, e.ref, "fine", 4), 0);
            agent_take(c, em(EV_MSG, SWERL_REPLY), &e);
        }
        /* zero sizes with NULL data are fine everywhere */
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, NULL, 0), 0);
        CHECK_EQ_INT(swerl_send_named(g_rt, "bad.small", NULL, 0), 0);
        CHECK_EQ_INT(swerl_exit(g_rt, a->pid, SWERL_REASON_USER + 1, NULL, 0), 0);
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 0, NULL, 0, &ref), 0);
        CHECK_EQ_INT(agent_ping(a), 0);
        {
            int k, msgs = 0, exits = 0;
            for (k = 0; k < 4; k++) {
                if (!agent_take(a, em(EV_MSG, -1), &e)) break;
                CHECK_EQ_INT(e.len, 0);
                CHECK_EQ_INT(e.data_null, 1);
                msgs += e.kind == SWERL_MESSAGE;
                exits += e.kind == SWERL_EXIT;
            }
            CHECK_EQ_INT(msgs, 3);
            CHECK_EQ_INT(exits, 1);
        }
        CHECK_EQ_INT(swerl_call(g_rt, s->pid, NULL, 0, 100, &buf), SWERL_ETIMEDOUT); /* deferred, never answered */
        agent_take(s, em(EV_MSG, SWERL_CALL), &e);
        CHECK_EQ_INT(e.len, 0);
        CHECK_EQ_INT(swerl_reply(g_rt, e.ref, NULL, 0), SWERL_EREF);  /* the caller gave up */
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, -1), 0);
    }
    free(big);
    rt_end();
}

/* call_async ETOOBIG needs a > 320-byte request: a dedicated behaviour */
static int g_async_rc = 1, g_async_rc2 = 1, g_async_rc3 = 1;
static int async_big_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    static unsigned char big[SMALL_MAX + 1];
    swerl_ref ref = 0;
    (void)state;
    /* to the sender of "go"'s pid: it is alive, so only the size is wrong */
    AT_STORE(&g_async_rc2, swerl_call_async(ctx, m->from ? m->from : 1, big, SIZE_MAX, 100, &ref));
    AT_STORE(&g_async_rc3, swerl_call_async(ctx, 1, NULL, 3, 100, &ref));
    AT_STORE(&g_async_rc, swerl_call_async(ctx, 1, big, sizeof big, 100, &ref));
    return SWERL_CONTINUE;
}

static void t_call_async_too_big(void)
{
    swerl_behavior b;
    swerl_pid pid = 0;
    if (!rt_begin_cfg(0, SMALL_MAX)) return;
    memset(&b, 0, sizeof b);
    b.size = (uint32_t)sizeof b;
    b.handle = async_big_handle;
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, NULL, NULL, &pid), 0);
    CHECK_EQ_INT(swerl_send(g_rt, pid, "go", 2), 0);
    CHECK_WAIT(AT_LOAD(&g_async_rc) != 1);
    CHECK_EQ_INT(AT_LOAD(&g_async_rc), SWERL_ETOOBIG);   /* max_message_size + 1 */
    CHECK_EQ_INT(AT_LOAD(&g_async_rc2), SWERL_ETOOBIG);  /* SIZE_MAX */
    CHECK_EQ_INT(AT_LOAD(&g_async_rc3), SWERL_EINVAL);   /* req NULL, len 3 */
    rt_end();
}

/* ENOMEM: a limit that does not stop a huge size, an allocation that cannot
   succeed. INTPTR_MAX bytes is the largest size any allocator could be asked
   for; a message header on top of it must not overflow the arithmetic. */
static void t_enomem(void)
{
    static const char byte = 'm';
    swerl_ref ref = 0;
    if (!rt_begin_cfg(0, (uint64_t)INTPTR_MAX)) return;
    {
        agent *a = spawn_new("a");
        CHECK_EQ_INT(swerl_register(g_rt, "bad.nomem", a->pid), 0);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, &byte, (size_t)INTPTR_MAX - 4096), SWERL_ENOMEM);
        CHECK_EQ_INT(swerl_send_named(g_rt, "bad.nomem", &byte, (size_t)INTPTR_MAX - 4096), SWERL_ENOMEM);
        CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 1, &byte, (size_t)INTPTR_MAX - 4096, &ref), SWERL_ENOMEM);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, &byte, (size_t)INTPTR_MAX + 1), SWERL_ETOOBIG);
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, &byte, SIZE_MAX), SWERL_ETOOBIG);
        CHECK_EQ_INT(agent_ping(a), 0);
        CHECK_EQ_INT(mbox_count(&a->mb, EV_MSG, -1), 0);
        /* exactly the limit: not too big, and no room for a header: ENOMEM
           (last: a library that overflows here takes the section down) */
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, &byte, (size_t)INTPTR_MAX), SWERL_ENOMEM);
    }
    rt_end();
}

/* max_message_size above what the default allows: a message bigger than the
   default 64 MiB, but below the configured limit, is not "above
   max_message_size" */
static void t_big_limit(void)
{
    size_t n = 65u * 1024 * 1024;
    unsigned char *big;
    check_event e;
    if (!rt_begin_cfg(0, UINT64_MAX)) return;
    big = (unsigned char *)malloc(n);
    memset(big, 'L', n);
    {
        agent *a = spawn_new("a");
        CHECK_EQ_INT(swerl_send(g_rt, a->pid, big, n), 0);
        if (agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e)) CHECK_EQ_INT(e.len, n);
    }
    free(big);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Pids: 0, dead, stale (slot reused), forged                                */
/* ------------------------------------------------------------------------ */

/* Counter processes: count what reaches them. */
static int g_sync, g_stray, g_other, g_terms;

static int counter_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)state;
    if (m->kind == SWERL_MESSAGE && m->len == 4 && memcmp(m->data, "sync", 4) == 0) {
        AT_ADD(&g_sync, 1);
        return SWERL_CONTINUE;
    }
    if (m->kind == SWERL_MESSAGE && m->len == 3 && memcmp(m->data, "die", 3) == 0) return SWERL_STOP;
    if (m->kind == SWERL_MESSAGE) AT_ADD(&g_stray, 1);
    else AT_ADD(&g_other, 1);
    return SWERL_CONTINUE;
}

static void counter_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx;
    (void)state;
    if (reason != SWERL_REASON_NORMAL) AT_ADD(&g_terms, 1);
}

static swerl_pid spawn_counter(void)
{
    swerl_behavior b;
    swerl_spawn_opts o;
    swerl_pid pid = 0;
    memset(&b, 0, sizeof b);
    b.size = (uint32_t)sizeof b;
    b.handle = counter_handle;
    b.terminate = counter_terminate;
    swerl_spawn_opts_init(&o);
    o.flags = SWERL_SPAWN_TRAP_EXIT;   /* a stray exit signal shows as an EXIT message */
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, NULL, &o, &pid), 0);
    return pid;
}

/* Every operation on a pid that is not alive gives its documented answer and
   reaches nobody. w is a live agent used for the ctx operations. */
#define CHECK_NOT_ALIVE_OPS(w, pid) check_not_alive_ops_((w), (pid), __FILE__, __LINE__)
static void check_not_alive_ops_(agent *w, swerl_pid pid, const char *file, int line)
{
    swerl_buffer buf;
    swerl_ref ref = 0;
    swerl_process_info in;
    check_event e, r;
    int rc;
    buf.data = NULL;
    buf.len = 0;
    memset(&in, 0, sizeof in);
    in.size = (uint32_t)sizeof in;
#define NA_CHECK(expr, want)                                                                   \
    do {                                                                                       \
        rc = (expr);                                                                           \
        CHECK_MSG(rc == (want), "%s:%d pid 0x%llx: %s = %d (%s), expected %s", file, line,    \
                  (unsigned long long)pid, #expr, rc, swerl_err_name(rc), #want);              \
    } while (0)
    NA_CHECK(swerl_send(g_rt, pid, "stale", 5), SWERL_ENOPROC);
    NA_CHECK(swerl_exit(g_rt, pid, SWERL_REASON_KILL, NULL, 0), SWERL_ENOPROC);
    NA_CHECK(swerl_exit(g_rt, pid, SWERL_REASON_USER, "d", 1), SWERL_ENOPROC);
    NA_CHECK(swerl_register(g_rt, "bad.stale", pid), SWERL_ENOPROC);
    NA_CHECK(swerl_process_get_info(g_rt, pid, &in), SWERL_ENOPROC);
    NA_CHECK(swerl_send_after(g_rt, pid, 0, "stale", 5, &ref), SWERL_ENOPROC);
    NA_CHECK(swerl_call(g_rt, pid, "stale", 5, 1000, &buf), SWERL_ENOPROC);
    swerl_buffer_free(&buf);
    r = agent_do(w, cmd_p(OP_LINK, pid));                        /* OTP-17: not trapping */
    NA_CHECK(r.rc, SWERL_ENOPROC);
    r = agent_do(w, cmd_p(OP_UNLINK, pid));
    NA_CHECK(r.rc, 0);
    r = agent_do(w, cmd_p(OP_MONITOR, pid));                     /* OTP-25 */
    NA_CHECK(r.rc, 0);
    if (agent_take(w, em_ref(EV_MSG, SWERL_DOWN, r.u1), &e)) {
        CHECK_MSG(e.reason == SWERL_REASON_NOPROC, "%s:%d DOWN reason %d, expected NOPROC", file,
                  line, e.reason);
        CHECK_MSG(e.from == pid, "%s:%d DOWN from 0x%llx, expected 0x%llx", file, line,
                  (unsigned long long)e.from, (unsigned long long)pid);
    }
    {
        agent_cmd c = cmd_p(OP_CALL_ASYNC, pid);                 /* OTP-57 noproc, as a REPLY */
        c.u1 = 5000;
        r = agent_do(w, c);
        NA_CHECK(r.rc, 0);
        if (agent_take(w, em_ref(EV_MSG, SWERL_REPLY, r.u1), &e))
            CHECK_MSG(e.reason == SWERL_ENOPROC, "%s:%d REPLY reason %d, expected ENOPROC", file,
                      line, e.reason);
    }
    r = agent_do(w, cmd_send(pid, "stale"));
    NA_CHECK(r.rc, SWERL_ENOPROC);
    r = agent_do(w, cmd_exit(pid, SWERL_REASON_KILL, NULL));
    NA_CHECK(r.rc, SWERL_ENOPROC);
#undef NA_CHECK
}

static int pid_in(swerl_pid p, const swerl_pid *set, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (set[i] == p) return 1;
    return 0;
}

static void t_pids(void)
{
    enum { LIVE = 8, CHURN = 300 };
    swerl_pid live[LIVE];
    static swerl_pid dead[CHURN + 1];
    size_t ndead = 0;
    int i, k, low_bits_reused = 0;
    agent *w;
    /* a small process table forces slot reuse */
    if (!rt_begin_cfg(16, 0)) return;
    w = spawn_new("w");

    /* pid 0 and all-ones */
    CHECK_NOT_ALIVE_OPS(w, 0);
    CHECK_NOT_ALIVE_OPS(w, UINT64_MAX);

    for (i = 0; i < LIVE; i++) live[i] = spawn_counter();
    dead[ndead++] = dead_pid(w);
    CHECK_NOT_ALIVE_OPS(w, dead[0]);

    /* churn: spawn, stop, repeat; every new pid differs from every dead one,
       and the dead pids reach nobody (OTP-2) */
    for (i = 0; i < CHURN; i++) {
        swerl_pid p = spawn_counter();
        if (!CHECK_MSG(!pid_in(p, dead, ndead), "OTP-2: a new process got the dead pid 0x%llx",
                       (unsigned long long)p))
            break;
        for (k = 0; k < (int)ndead; k++)
            if ((dead[k] & 0xffffffull) == (p & 0xffffffull)) low_bits_reused++;
        /* the last few dead pids, while p may sit in one of their slots */
        for (k = (int)ndead - 1; k >= 0 && k >= (int)ndead - 3; k--) {
            CHECK_EQ_INT(swerl_send(g_rt, dead[k], "stale", 5), SWERL_ENOPROC);
            CHECK_EQ_INT(swerl_exit(g_rt, dead[k], SWERL_REASON_USER, NULL, 0), SWERL_ENOPROC);
        }
        CHECK_EQ_INT(swerl_send(g_rt, p, "die", 3), 0);
        CHECK_WAIT(!check_alive(g_rt, p));
        dead[ndead++] = p;
    }
    /* the full battery on a few, while live counters may sit in their slots */
    {
        swerl_pid p1 = spawn_counter(), p2 = spawn_counter();
        CHECK_NOT_ALIVE_OPS(w, dead[ndead - 1]);
        CHECK_NOT_ALIVE_OPS(w, dead[ndead - 2]);
        CHECK_NOT_ALIVE_OPS(w, dead[0]);
        for (k = 0; k < (int)ndead; k++) {
            CHECK_EQ_INT(swerl_send(g_rt, dead[k], "stale", 5), SWERL_ENOPROC);
            CHECK_EQ_INT(swerl_exit(g_rt, dead[k], SWERL_REASON_KILL, NULL, 0), SWERL_ENOPROC);
        }
        /* forged pids: every single-bit variant of live pids that is not itself live */
        {
            swerl_pid all[64];
            size_t nall = 0;
            swerl_pid bases[3];
            int bi, bit, forged = 0;
            CHECK_EQ_INT(swerl_processes(g_rt, all, 64, &nall), 0);
            bases[0] = p1;
            bases[1] = live[0];
            bases[2] = w->pid;
            for (bi = 0; bi < 3; bi++)
                for (bit = 0; bit < 64; bit++) {
                    swerl_pid q = bases[bi] ^ (1ull << bit);
                    if (q == 0 || pid_in(q, all, nall < 64 ? nall : 64)) continue;
                    forged++;
                    CHECK_MSG(swerl_send(g_rt, q, "stale", 5) == SWERL_ENOPROC,
                              "forged pid 0x%llx (bit %d of 0x%llx) accepted a message",
                              (unsigned long long)q, bit, (unsigned long long)bases[bi]);
                    CHECK_MSG(swerl_exit(g_rt, q, SWERL_REASON_KILL, NULL, 0) == SWERL_ENOPROC,
                              "forged pid 0x%llx accepted an exit signal", (unsigned long long)q);
                }
            CHECK(forged > 100);
        }
        /* sync every live counter: main's sends are ordered (OTP-7), so anything
           stale that reached them arrived before "sync" */
        {
            int n = 0;
            for (i = 0; i < LIVE; i++, n++) CHECK_EQ_INT(swerl_send(g_rt, live[i], "sync", 4), 0);
            CHECK_EQ_INT(swerl_send(g_rt, p1, "sync", 4), 0);
            CHECK_EQ_INT(swerl_send(g_rt, p2, "sync", 4), 0);
            n += 2;
            CHECK_WAIT(AT_LOAD(&g_sync) == n);
        }
        CHECK_EQ_INT(AT_LOAD(&g_stray), 0);                       /* OTP-2: no stale message arrived */
        CHECK_EQ_INT(AT_LOAD(&g_other), 0);                       /* no stale exit signal arrived */
        CHECK_EQ_INT(AT_LOAD(&g_terms), 0);                       /* nobody was killed */
        CHECK_EQ_INT(agent_ping(w), 0);
        CHECK_EQ_INT(mbox_count(&w->mb, EV_MSG, SWERL_MESSAGE), 0);
        CHECK_EQ_INT(mbox_count(&w->mb, EV_MSG, SWERL_EXIT), 0);
    }
    printf("   (%d new pids shared the low 24 bits of a dead pid: slots were reused)\n",
           low_bits_reused);
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Unknown refs                                                              */
/* ------------------------------------------------------------------------ */

static void t_refs(void)
{
    size_t i;
    uint32_t rem = 12345;
    check_event e, r;
    if (!rt_begin()) return;
    {
        agent *a = spawn_new("a"), *p = spawn_new("p");
        swerl_ref mref, tref, cref;
        for (i = 0; i < N_BOGUS; i++) {
            CHECK_EQ_INT(swerl_cancel_timer(g_rt, k_bogus_refs[i], &rem), SWERL_EREF);
            CHECK_EQ_INT(swerl_reply(g_rt, k_bogus_refs[i], "x", 1), SWERL_EREF);
            CHECK_EQ_INT(agent_do(a, cmd_demonitor(k_bogus_refs[i], 0)).rc, 0);
            CHECK_EQ_INT(agent_do(a, cmd_demonitor(k_bogus_refs[i], SWERL_DEMONITOR_INFO)).rc, 0);
            CHECK_EQ_INT(agent_do(a, cmd_demonitor(k_bogus_refs[i], SWERL_DEMONITOR_FLUSH |
                                                                   SWERL_DEMONITOR_INFO)).rc, 0);
        }
        CHECK_EQ_INT(swerl_cancel_timer(g_rt, 0, NULL), SWERL_EREF);
        CHECK_EQ_INT(swerl_reply(g_rt, 0, NULL, 0), SWERL_EREF);
        CHECK_EQ_INT(rem, 12345);                                 /* untouched on error */

        /* refs of one kind are not refs of another */
        mref = agent_monitor(a, p->pid);
        CHECK_EQ_INT(swerl_send_after(g_rt, p->pid, 60000, "t", 1, &tref), 0);
        CHECK_EQ_INT(swerl_cancel_timer(g_rt, mref, NULL), SWERL_EREF);   /* a monitor is not a timer */
        CHECK_EQ_INT(swerl_reply(g_rt, mref, "x", 1), SWERL_EREF);         /* nor a call */
        CHECK_EQ_INT(swerl_reply(g_rt, tref, "x", 1), SWERL_EREF);         /* a timer is not a call */
        r = agent_do(a, cmd_demonitor(tref, SWERL_DEMONITOR_INFO));        /* nor a monitor */
        CHECK_EQ_INT(r.rc, 0);
        CHECK_EQ_INT(MONITORED_BY(p->pid), 1);                             /* the real monitor stays */
        {
            agent *s = mk("server");
            agent_cmd c;
            s->call_mode = CALL_DEFER;
            up_opts(s, NULL);
            c = cmd_p(OP_CALL_ASYNC, s->pid);
            c.u1 = 60000;
            r = agent_do(a, c);
            CHECK_EQ_INT(r.rc, 0);
            cref = r.u1;
            agent_take(s, em(EV_MSG, SWERL_CALL), &e);
            CHECK_EQ_U64(e.ref, cref);
            CHECK_EQ_INT(swerl_cancel_timer(g_rt, cref, NULL), SWERL_EREF); /* a call is not a timer */
            CHECK_EQ_INT(agent_do(a, cmd_demonitor(cref, SWERL_DEMONITOR_INFO)).rc, 0);
            CHECK_EQ_INT(swerl_reply(g_rt, cref, "ok", 2), 0);             /* still answerable */
            if (agent_take(a, em(EV_MSG, SWERL_REPLY), &e)) {
                CHECK_EQ_U64(e.ref, cref);
                CHECK_EQ_INT(e.reason, 0);
            }
        }
        CHECK_EQ_INT(swerl_cancel_timer(g_rt, tref, &rem), 0);            /* still cancellable */
        CHECK_EQ_INT(agent_do(a, cmd_demonitor(mref, SWERL_DEMONITOR_INFO)).rc, 1); /* still active */
        CHECK_EQ_INT(agent_ping(p), 0);
        CHECK_EQ_INT(mbox_count(&p->mb, EV_MSG, -1), 0);
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* A ctx outside its callback                                                */
/* ------------------------------------------------------------------------ */

static void t_stale_ctx(void)
{
    int64_t v[CTX_PROBE_N];
    check_event r;
    if (!rt_begin()) return;
    {
        agent *a = spawn_new("a"), *b = spawn_new("b"), *t = spawn_new("target");
        CHECK_EQ_INT(agent_do(a, cmd_new(OP_SAVE_CTX)).rc, 0);
        CHECK(a->saved_ctx != NULL);

        /* from main, after the callback returned */
        ctx_probe(a->saved_ctx, t->pid, v);
        CTX_PROBE_CHECK(v, "a's ctx used from main");

        /* from another process's callback, on a runtime thread */
        {
            agent_cmd c = cmd_p(OP_PROBE_CTX, t->pid);
            c.p2 = (uint64_t)(uintptr_t)a;
            r = agent_do(b, c);
            CHECK_EQ_INT(r.len, sizeof v);
            memcpy(v, r.data, sizeof v);
            CTX_PROBE_CHECK(v, "a's ctx used in b's callback");
            CHECK_EQ_U64(r.u1, b->pid);                            /* b's own ctx still works */
        }
        /* from a later callback of the same process */
        {
            agent_cmd c = cmd_p(OP_PROBE_CTX, t->pid);
            c.p2 = (uint64_t)(uintptr_t)a;
            r = agent_do(a, c);
            memcpy(v, r.data, sizeof v);
            CTX_PROBE_CHECK(v, "a's ctx used in a's next callback");
            CHECK_EQ_U64(r.u1, a->pid);
        }
        /* from a later callback of the same process in the same turn: both
           commands wait in the mailbox while a is busy, then run back to back */
        {
            agent_cmd blk = cmd_new(OP_BLOCK), c = cmd_p(OP_PROBE_CTX, t->pid);
            blk.block_after = 1;
            c.p2 = (uint64_t)(uintptr_t)a;
            CHECK_EQ_INT(agent_send_cmd(a, blk), 0);
            agent_take(a, em(EV_RESULT, OP_BLOCK), &r);
            CHECK_EQ_INT(agent_send_cmd(a, cmd_new(OP_SAVE_CTX)), 0);
            CHECK_EQ_INT(agent_send_cmd(a, c), 0);
            agent_release(a);
            agent_take(a, em(EV_RESULT, OP_SAVE_CTX), &r);
            if (agent_take(a, em(EV_RESULT, OP_PROBE_CTX), &r)) {
                memcpy(v, r.data, sizeof v);
                CTX_PROBE_CHECK(v, "a's ctx used in a's next callback of the same turn");
            }
        }
        /* after the process exited */
        {
            agent *w = spawn_new("w");
            swerl_ref ref = agent_monitor(w, a->pid);
            check_event e;
            CHECK_EQ_INT(agent_send_cmd(a, cmd_stop(0, NULL)), 0);
            agent_down(w, ref, &e);
            ctx_probe(a->saved_ctx, t->pid, v);
            CTX_PROBE_CHECK(v, "an exited process's ctx used from main");
        }
        /* none of it touched the target or b */
        CHECK_EQ_INT(LINKS(t->pid), 0);
        CHECK_EQ_INT(MONITORED_BY(t->pid), 0);
        CHECK_EQ_INT(TRAPS(b->pid), 0);
        CHECK_EQ_INT(agent_ping(t), 0);
        CHECK_EQ_INT(mbox_count(&t->mb, EV_MSG, -1), 0);
        CHECK_EQ_INT(mbox_count(&b->mb, EV_MSG, -1), 0);
        CHECK_EQ_INT(mbox_count(&b->mb, EV_TERMINATE, -1), 0);
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Calls not allowed inside a callback                                       */
/* ------------------------------------------------------------------------ */

static void t_in_callback(void)
{
    check_event r;
    if (!rt_begin()) return;
    {
        agent *a = spawn_new("a"), *s = spawn_new("server");
        r = agent_do(a, cmd_p(OP_CALL_SYNC, s->pid));
        CHECK_EQ_INT(r.rc, SWERL_EINPROC);                        /* swerl_call inside: use call_async */
        r = agent_do(a, cmd_new(OP_RT_STOP));
        CHECK_EQ_INT(r.rc, SWERL_EINPROC);                        /* would wait for itself */
        r = agent_do(a, cmd_new(OP_RT_FREE));                     /* ignored */
        CHECK_EQ_INT(r.rc, 0);
        /* the runtime still works */
        CHECK_EQ_INT(agent_ping(a), 0);
        CHECK_EQ_INT(agent_ping(s), 0);
        CHECK_EQ_INT(mbox_count(&s->mb, EV_MSG, SWERL_CALL), 0);  /* the refused call sent nothing */
        {
            swerl_buffer buf;
            buf.data = NULL;
            buf.len = 0;
            CHECK_EQ_INT(swerl_call(g_rt, s->pid, "x", 1, 5000, &buf), 0);
            swerl_buffer_free(&buf);
        }
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* Names: bad input                                                          */
/* ------------------------------------------------------------------------ */

static void t_names_bad(void)
{
    char longname[SWERL_NAME_MAX + 2];
    swerl_pid out = 99;
    if (!rt_begin()) return;
    {
        agent *a = spawn_new("a");
        memset(longname, 'y', sizeof longname);
        longname[SWERL_NAME_MAX + 1] = 0;
        CHECK_EQ_INT(swerl_register(g_rt, "", a->pid), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_register(g_rt, longname, a->pid), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_register(g_rt, "bad.n", 0), SWERL_ENOPROC);
        CHECK_EQ_INT(swerl_unregister(g_rt, "bad.none"), SWERL_ENONAME);
        CHECK_EQ_INT(swerl_whereis(g_rt, "bad.none", &out), SWERL_ENONAME);
        CHECK_EQ_U64(out, 0);
        CHECK_EQ_INT(swerl_send_named(g_rt, "bad.none", "x", 1), SWERL_ENONAME);
        CHECK_EQ_INT(swerl_register(g_rt, "bad.n", a->pid), 0);
        CHECK_EQ_INT(swerl_register(g_rt, "bad.n2", a->pid), SWERL_EHASNAME);
        CHECK_EQ_INT(swerl_register(g_rt, "bad.n", a->pid), SWERL_ENAMETAKEN);
        {
            size_t count = 0;
            swerl_buffer buf;
            buf.data = NULL;
            buf.len = 0;
            CHECK_EQ_INT(swerl_registered(g_rt, &buf, &count), 0);
            CHECK_EQ_INT(count, 1);
            CHECK_MEM(buf.data, buf.len, "bad.n", 6);
            swerl_buffer_free(&buf);
            swerl_buffer_free(&buf);                              /* twice: {NULL, 0} is a no-op */
            CHECK(buf.data == NULL && buf.len == 0);
        }
        CHECK_EQ_INT(agent_ping(a), 0);
    }
    rt_end();
}

/* ------------------------------------------------------------------------ */
/* After swerl_runtime_stop: ESTOPPED                                        */
/* ------------------------------------------------------------------------ */

static void t_after_stop(void)
{
    swerl_behavior b = agent_behavior();
    swerl_pid pid = 0, out = 0;
    swerl_ref tref = 0, ref = 0;
    swerl_buffer buf;
    size_t count = 0;
    swerl_process_info in;
    swerl_stats st;
    swerl_pid pids[4];
    agent *a;
    if (!rt_begin()) return;
    a = spawn_new("a");
    CHECK_EQ_INT(swerl_register(g_rt, "bad.stop", a->pid), 0);
    CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 60000, "t", 1, &tref), 0);
    CHECK_EQ_INT(agent_do(a, cmd_new(OP_SAVE_CTX)).rc, 0);
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);

    buf.data = NULL;
    buf.len = 0;
    memset(&in, 0, sizeof in);
    in.size = (uint32_t)sizeof in;
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 0), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, SWERL_INFINITY), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, a, NULL, &pid), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_send(g_rt, a->pid, "x", 1), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_send_named(g_rt, "bad.stop", "x", 1), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_exit(g_rt, a->pid, SWERL_REASON_KILL, NULL, 0), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_register(g_rt, "bad.stop2", a->pid), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_unregister(g_rt, "bad.stop"), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_whereis(g_rt, "bad.stop", &out), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_registered(g_rt, &buf, &count), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_send_after(g_rt, a->pid, 10, "x", 1, &ref), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_cancel_timer(g_rt, tref, NULL), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_call(g_rt, a->pid, "x", 1, 100, &buf), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_reply(g_rt, 1, "x", 1), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_process_get_info(g_rt, a->pid, &in), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_processes(g_rt, pids, 4, &count), SWERL_ESTOPPED);
    CHECK(buf.data == NULL && buf.len == 0);
    /* stats still work */
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(g_rt, &st), 0);
    CHECK_EQ_INT(st.processes, 0);
    /* a ctx saved before the stop */
    {
        int64_t v[CTX_PROBE_N];
        if (a->saved_ctx) {
            ctx_probe(a->saved_ctx, a->pid, v);
            CTX_PROBE_CHECK(v, "ctx after stop");
        }
    }
    rt_end();
}

/* swerl_runtime_free(B) inside a callback of another runtime A: it cannot
   wait there, so B is stopped in the background (its processes' terminate
   callbacks run) and then freed; B's threads stop running its processes. */
struct other_rt {
    swerl_runtime *b;
    long b_handled;      /* atomic */
    int b_terminated;    /* atomic */
    int freed;           /* atomic: swerl_runtime_free(B) returned in A */
};

static int busy_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    struct other_rt *o = (struct other_rt *)state;
    (void)m;
    AT_ADD(&o->b_handled, 1);
    swerl_send(swerl_ctx_runtime(ctx), swerl_self(ctx), "x", 1);  /* busy forever */
    return SWERL_CONTINUE;
}

static void busy_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx;
    (void)reason;
    AT_ADD(&((struct other_rt *)state)->b_terminated, 1);
}

static int free_other_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    struct other_rt *o = (struct other_rt *)state;
    (void)ctx;
    (void)m;
    swerl_runtime_free(o->b);
    AT_STORE(&o->freed, 1);
    return SWERL_CONTINUE;
}

static void t_free_other_in_callback(void)
{
    static struct other_rt o;
    swerl_runtime *a = check_start_rt(1, 0);
    swerl_behavior bb, ab;
    swerl_pid pa = 0, pb = 0;
    long settled;
    if (!a) return;
    memset(&o, 0, sizeof o);
    o.b = check_start_rt(1, 0);
    if (!o.b) return;
    memset(&bb, 0, sizeof bb);
    bb.size = (uint32_t)sizeof bb;
    bb.handle = busy_handle;
    bb.terminate = busy_terminate;
    ab = bb;
    ab.handle = free_other_handle;
    ab.terminate = NULL;
    CHECK_EQ_INT(swerl_spawn(o.b, &bb, &o, NULL, &pb), 0);
    CHECK_EQ_INT(swerl_send(o.b, pb, "x", 1), 0);
    CHECK_WAIT(AT_LOAD(&o.b_handled) > 100);
    CHECK_EQ_INT(swerl_spawn(a, &ab, &o, NULL, &pa), 0);
    CHECK_EQ_INT(swerl_send(a, pa, "go", 2), 0);
    CHECK_WAIT(AT_LOAD(&o.freed) == 1);
    CHECK_WAIT(AT_LOAD(&o.b_terminated) == 1);   /* B was stopped, not just released */
    settled = AT_LOAD(&o.b_handled);
    CHECK(check_alive(a, pa));                   /* A goes on */
    CHECK_EQ_INT(AT_LOAD(&o.b_handled), settled);  /* B's process no longer runs */
    swerl_runtime_free(a);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("NULL runtime, no-ops", t_null_runtime, 30);
    check_section("NULL ctx", t_null_ctx, 30);
    check_section("NULL arguments, sizes of info structs", t_null_args, 60);
    check_section("swerl_spawn bad input", t_spawn_bad, 60);
    check_section("sizes: SIZE_MAX, default limit", t_sizes_default, 60);
    check_section("sizes: max_message_size + 1, zero sizes", t_sizes_small_max, 60);
    check_section("sizes: call_async above the limit", t_call_async_too_big, 30);
    check_section("sizes: ENOMEM", t_enomem, 60);
    check_section("sizes: max_message_size UINT64_MAX", t_big_limit, 60);
    check_section("pids: 0, dead, stale, forged (OTP-2)", t_pids, 120);
    check_section("refs: unknown, of another kind", t_refs, 60);
    check_section("ctx outside its callback (ECTX)", t_stale_ctx, 60);
    check_section("inside a callback: EINPROC, free ignored", t_in_callback, 60);
    check_section("free of another runtime inside a callback: stopped, then freed", t_free_other_in_callback, 60);
    check_section("names: bad input", t_names_bad, 30);
    check_section("after swerl_runtime_stop: ESTOPPED", t_after_stop, 60);
    return check_summary();
}
