/*
 * test_api.c — the library's surface: version, errors, config and options,
 * runtime lifecycle (start, stop in OTP's order, free), thread hooks, stats,
 * the process limit.
 *
 * Functions covered: swerl_version, swerl_version_string, swerl_strerror,
 *   swerl_err_name, swerl_config_init, swerl_spawn_opts_init,
 *   swerl_runtime_start, swerl_runtime_stop, swerl_runtime_free,
 *   swerl_runtime_stats (and, through agent.h: swerl_spawn, swerl_send,
 *   swerl_self, swerl_ctx_runtime, swerl_fail, swerl_trap_exit,
 *   swerl_monitor, swerl_call, swerl_reply, swerl_buffer_free).
 * Codes covered: every SWERL_E* (-1..-27) through swerl_strerror and
 *   swerl_err_name (ENOTSUP only there: no 1.0 function documents returning
 *   it; the supervisor codes as results are in test_supervisor.c), and as
 *   results: EINVAL (runtime_start, stats), ELIMIT (spawn at max_processes),
 *   ESTOPPED (after stop, stop twice, a swerl_call blocked during stop),
 *   ETIMEDOUT (runtime_stop with a handler that does not return), ENOPROC
 *   (dead letters).
 * OTP statements: the runtime stop order (shutdown, then kill) follows
 *   OTP-45/46's shutdown protocol, applied by swerl_runtime_stop; OTP-21e
 *   (the kill after the timeout gives KILLED; terminate still runs, with
 *   KILLED: swerl.h's terminate contract, unlike gen_server).
 */
#include "check.h"
#include "agent.h"

#include <stddef.h>

/* ------------------------------------------------------------------------ */

static void t_version(void)
{
    char buf[64];
    unsigned v = swerl_version();
    const char *s = swerl_version_string();
    CHECK_EQ_INT(v, SWERL_VERSION_HEX);
    CHECK_EQ_INT(v >> 16, SWERL_VERSION_MAJOR); /* same major: same ABI */
    CHECK_EQ_INT(SWERL_VERSION_HEX, 0x010400);
    CHECK(s != NULL);
    snprintf(buf, sizeof buf, "%u.%u.%u", (v >> 16) & 0xffu, (v >> 8) & 0xffu, v & 0xffu);
    CHECK_STR(s, buf);
    CHECK(swerl_version_string() == s || strcmp(swerl_version_string(), s) == 0);
}

/* ------------------------------------------------------------------------ */

struct code_row { int code; const char *name; const char *text; };

static const struct code_row k_codes[] = {
#define ROW_(name, code, text) {code, #name, text},
    SWERL_ERRNO_MAP(ROW_)
#undef ROW_
};
#define N_CODES (sizeof k_codes / sizeof k_codes[0])

static void t_errors(void)
{
    size_t i, j;
    static const int unknown[] = {1, 2, 3, 17, 27, -37, -38, -100, -1000, 1000, INT32_MAX, INT32_MIN};
    CHECK_EQ_INT(N_CODES, 36);
    /* numbers: -1 .. -36, in order, never renumbered */
    for (i = 0; i < N_CODES; i++) CHECK_EQ_INT(k_codes[i].code, -(int)(i + 1));
    CHECK_EQ_INT(SWERL_EINVAL, -1);
    CHECK_EQ_INT(SWERL_ENOPROC, -2);
    CHECK_EQ_INT(SWERL_ETIMEDOUT, -3);
    CHECK_EQ_INT(SWERL_ENAMETAKEN, -4);
    CHECK_EQ_INT(SWERL_EHASNAME, -5);
    CHECK_EQ_INT(SWERL_ENONAME, -6);
    CHECK_EQ_INT(SWERL_EFULL, -7);
    CHECK_EQ_INT(SWERL_ETOOBIG, -8);
    CHECK_EQ_INT(SWERL_ENOMEM, -9);
    CHECK_EQ_INT(SWERL_ESTOPPED, -10);
    CHECK_EQ_INT(SWERL_ECTX, -11);
    CHECK_EQ_INT(SWERL_EREF, -12);
    CHECK_EQ_INT(SWERL_ECALLSELF, -13);
    CHECK_EQ_INT(SWERL_EEXITED, -14);
    CHECK_EQ_INT(SWERL_ELIMIT, -15);
    CHECK_EQ_INT(SWERL_EINPROC, -16);
    CHECK_EQ_INT(SWERL_ENOTSUP, -17);
    CHECK_EQ_INT(SWERL_ENOTSUPERVISOR, -18);
    CHECK_EQ_INT(SWERL_EDUPLICATE, -19);
    CHECK_EQ_INT(SWERL_EBADSPEC, -20);
    CHECK_EQ_INT(SWERL_ESTART, -21);
    CHECK_EQ_INT(SWERL_ENOTFOUND, -22);
    CHECK_EQ_INT(SWERL_EPRESENT, -23);
    CHECK_EQ_INT(SWERL_ESTARTED, -24);
    CHECK_EQ_INT(SWERL_ERUNNING, -25);
    CHECK_EQ_INT(SWERL_ERESTARTING, -26);
    CHECK_EQ_INT(SWERL_ESIMPLE, -27);
    CHECK_EQ_INT(SWERL_EMEMLIMIT, -28);
    CHECK_EQ_INT(SWERL_ENOSOCKET, -29);
    CHECK_EQ_INT(SWERL_ENOTOWNER, -30);
    CHECK_EQ_INT(SWERL_EAGAIN, -31);
    CHECK_EQ_INT(SWERL_EADDRINUSE, -32);
    CHECK_EQ_INT(SWERL_ECONNREFUSED, -33);
    CHECK_EQ_INT(SWERL_ECONNRESET, -34);
    CHECK_EQ_INT(SWERL_EFRAME, -35);
    CHECK_EQ_INT(SWERL_ENET, -36);
    CHECK_EQ_INT(SWERL_OK, 0);

    for (i = 0; i < N_CODES; i++) {
        const char *t = swerl_strerror(k_codes[i].code);
        const char *n = swerl_err_name(k_codes[i].code);
        CHECK_MSG(t != NULL, "swerl_strerror(%d) is NULL", k_codes[i].code);
        CHECK_MSG(n != NULL, "swerl_err_name(%d) is NULL", k_codes[i].code);
        if (!t || !n) continue;
        CHECK_STR(t, k_codes[i].text);            /* the table's text */
        CHECK_STR(n, k_codes[i].name);            /* the name without SWERL_ */
        CHECK_MSG(strcmp(t, "unknown error") != 0, "swerl_strerror(%d) is \"unknown error\"",
                  k_codes[i].code);
        CHECK_MSG(strcmp(n, "UNKNOWN") != 0, "swerl_err_name(%d) is \"UNKNOWN\"", k_codes[i].code);
        for (j = 0; j < i; j++) {
            CHECK_MSG(strcmp(t, swerl_strerror(k_codes[j].code)) != 0,
                      "swerl_strerror(%d) == swerl_strerror(%d)", k_codes[i].code, k_codes[j].code);
            CHECK_MSG(strcmp(n, swerl_err_name(k_codes[j].code)) != 0,
                      "swerl_err_name(%d) == swerl_err_name(%d)", k_codes[i].code, k_codes[j].code);
        }
    }
    /* 0 */
    CHECK(swerl_strerror(0) != NULL);
    if (swerl_strerror(0)) {
        CHECK(strcmp(swerl_strerror(0), "unknown error") != 0);
        for (i = 0; i < N_CODES; i++) CHECK(strcmp(swerl_strerror(0), k_codes[i].text) != 0);
    }
    CHECK_STR(swerl_err_name(0), "OK");
    /* codes this version does not know */
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK_STR(swerl_strerror(unknown[i]), "unknown error");
        CHECK_STR(swerl_err_name(unknown[i]), "UNKNOWN");
    }
}

/* ------------------------------------------------------------------------ */

static void t_init_functions(void)
{
    swerl_config cfg;
    swerl_spawn_opts o;
    memset(&cfg, 0xAB, sizeof cfg);
    swerl_config_init(&cfg);
    CHECK_EQ_INT(cfg.size, sizeof(swerl_config));
    CHECK(cfg.on_thread_start == NULL);
    CHECK(cfg.on_thread_stop == NULL);
    CHECK(cfg.thread_user == NULL);
    CHECK(cfg.on_log == NULL);
    CHECK(cfg.log_user == NULL);
    CHECK(cfg.schedulers < 4096);                                     /* 0 or a CPU count */
    CHECK(cfg.max_processes == 0 || cfg.max_processes == 4194304u);   /* the default */
    CHECK(cfg.max_message_size == 0 || cfg.max_message_size == 64ull * 1024 * 1024);
    swerl_config_init(NULL); /* a no-op */
    CHECK_REACHED();

    memset(&o, 0xAB, sizeof o);
    swerl_spawn_opts_init(&o);
    CHECK_EQ_INT(o.size, sizeof(swerl_spawn_opts));
    CHECK_EQ_INT(o.flags, 0);
    CHECK(o.name == NULL);
    CHECK_EQ_INT(o.mailbox_limit, 0);
    CHECK_EQ_INT(o.overflow, SWERL_OVERFLOW_REJECT);
    CHECK(o.monitor_ref == NULL);
    swerl_spawn_opts_init(NULL);
    CHECK_REACHED();
}

/* ------------------------------------------------------------------------ */
/* Lifecycle, thread hooks                                                   */
/* ------------------------------------------------------------------------ */

#define MAX_HOOK_THREADS 64
static pthread_t g_start_threads[MAX_HOOK_THREADS];
static pthread_t g_stop_threads[MAX_HOOK_THREADS];
static int g_start_n, g_stop_n, g_hook_bad_user;
static int g_hook_cookie;

static void hook_start(void *user)
{
    int i = AT_ADD(&g_start_n, 1) - 1;
    if (user != &g_hook_cookie) AT_ADD(&g_hook_bad_user, 1);
    if (i < MAX_HOOK_THREADS) g_start_threads[i] = pthread_self();
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void hook_stop(void *user)
{
    int i = AT_ADD(&g_stop_n, 1) - 1;
    if (user != &g_hook_cookie) AT_ADD(&g_hook_bad_user, 1);
    if (i < MAX_HOOK_THREADS) g_stop_threads[i] = pthread_self();
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static int g_handler_ran, g_handler_on_hooked_thread;

static int hook_probe_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    int i, n = AT_LOAD(&g_start_n), found = 0;
    (void)ctx; (void)m; (void)state;
    for (i = 0; i < n && i < MAX_HOOK_THREADS; i++)
        if (pthread_equal(g_start_threads[i], pthread_self())) found = 1;
    AT_STORE(&g_handler_on_hooked_thread, found);
    AT_STORE(&g_handler_ran, 1);
    return SWERL_CONTINUE;
}

static void t_lifecycle_hooks(void)
{
    swerl_config cfg;
    swerl_runtime *rt = NULL;
    swerl_stats st;
    swerl_behavior b;
    swerl_pid pid = 0;
    int i, j;

    swerl_config_init(&cfg);
    cfg.schedulers = 3;
    cfg.on_thread_start = hook_start;
    cfg.on_thread_stop = hook_stop;
    cfg.thread_user = &g_hook_cookie;
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), 0);
    if (!rt) return;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(rt, &st), 0);
    CHECK_EQ_INT(st.schedulers, 3);
    CHECK_EQ_INT(st.processes, 0);
    CHECK_EQ_INT(st.spawned, 0);
    CHECK_EQ_INT(st.exited, 0);
    CHECK_EQ_INT(st.messages_sent, 0);
    CHECK_EQ_INT(st.dead_letters, 0);
    CHECK_EQ_INT(st.messages_dropped, 0);
    CHECK_EQ_INT(st.restarts, 0);
    CHECK_EQ_INT(st.escalations, 0);
    /* one on_thread_start per scheduler thread, on distinct threads, none of them main */
    CHECK_WAIT(AT_LOAD(&g_start_n) == 3);
    for (i = 0; i < 3; i++) {
        CHECK(!pthread_equal(g_start_threads[i], pthread_self()));
        for (j = 0; j < i; j++) CHECK(!pthread_equal(g_start_threads[i], g_start_threads[j]));
    }
    CHECK_EQ_INT(AT_LOAD(&g_stop_n), 0);

    /* handlers run on those threads, after their start hook */
    memset(&b, 0, sizeof b);
    b.size = (uint32_t)sizeof b;
    b.handle = hook_probe_handle;
    CHECK_EQ_INT(swerl_spawn(rt, &b, NULL, NULL, &pid), 0);
    CHECK(pid != 0);
    CHECK_EQ_INT(swerl_send(rt, pid, "x", 1), 0);
    CHECK_WAIT(AT_LOAD(&g_handler_ran) == 1);
    CHECK_EQ_INT(AT_LOAD(&g_handler_on_hooked_thread), 1);

    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    /* on_thread_stop: once per scheduler thread, last */
    CHECK_WAIT(AT_LOAD(&g_stop_n) == 3);
    for (i = 0; i < 3; i++) {
        int found = 0;
        for (j = 0; j < 3; j++) found |= pthread_equal(g_stop_threads[i], g_start_threads[j]) != 0;
        CHECK_MSG(found, "on_thread_stop #%d ran on a thread that never ran on_thread_start", i);
    }
    CHECK_EQ_INT(AT_LOAD(&g_hook_bad_user), 0);
    /* stats work after stop */
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(rt, &st), 0);
    CHECK_EQ_INT(st.processes, 0);
    CHECK_EQ_INT(st.spawned, 1);
    CHECK_EQ_INT(st.exited, 1);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_send(rt, pid, "x", 1), SWERL_ESTOPPED);
    swerl_runtime_free(rt);
    CHECK_EQ_INT(AT_LOAD(&g_stop_n), 3);
    CHECK_EQ_INT(AT_LOAD(&g_start_n), 3);
}

static void t_start_defaults(void)
{
    swerl_runtime *rt = NULL;
    swerl_stats st;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int i;

    /* cfg NULL: defaults (one scheduler per CPU) */
    CHECK_EQ_INT(swerl_runtime_start(NULL, &rt), 0);
    CHECK(rt != NULL);
    if (!rt) return;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(rt, &st), 0);
    CHECK_EQ_INT(st.schedulers, ncpu);
    /* free without stop: stops and frees */
    swerl_runtime_free(rt);
    CHECK_REACHED();

    /* the largest process limit is accepted */
    {
        swerl_config cfg;
        swerl_config_init(&cfg);
        cfg.schedulers = 1;
        cfg.max_processes = 16777215u;
        rt = NULL;
        CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), 0);
        swerl_runtime_free(rt);
    }

    /* many short-lived runtimes: start, stop, free; start, free */
    for (i = 0; i < 20; i++) {
        swerl_config cfg;
        swerl_config_init(&cfg);
        cfg.schedulers = (uint32_t)(1 + i % 3);
        rt = NULL;
        if (!CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), 0)) break;
        if (i % 2 == 0) CHECK_EQ_INT(swerl_runtime_stop(rt, 1000), 0);
        swerl_runtime_free(rt);
    }
    /* two runtimes at once are independent */
    {
        swerl_runtime *a = check_start_rt(1, 0), *b2 = check_start_rt(1, 0);
        agent *x = agent_new(a, "x"), *y = agent_new(b2, "y");
        CHECK_EQ_INT(agent_spawn(x, NULL), 0);
        CHECK_EQ_INT(agent_spawn(y, NULL), 0);
        CHECK_EQ_INT(agent_ping(x), 0);
        CHECK_EQ_INT(agent_ping(y), 0);
        CHECK_EQ_INT(check_stat_processes(a), 1);
        CHECK_EQ_INT(check_stat_processes(b2), 1);
        CHECK_EQ_INT(swerl_runtime_stop(a, 5000), 0);
        CHECK_EQ_INT(agent_ping(y), 0); /* b2 still runs */
        swerl_runtime_free(a);
        swerl_runtime_free(b2);
        agent_free(x);
        agent_free(y);
    }
}

static void t_start_einval(void)
{
    swerl_config cfg;
    swerl_runtime *rt = NULL;
    CHECK_EQ_INT(swerl_runtime_start(NULL, NULL), SWERL_EINVAL);
    swerl_config_init(&cfg);
    CHECK_EQ_INT(swerl_runtime_start(&cfg, NULL), SWERL_EINVAL);
    cfg.size = 0;
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), SWERL_EINVAL);
    cfg.size = (uint32_t)sizeof(uint32_t);
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), SWERL_EINVAL);
    cfg.size = (uint32_t)offsetof(swerl_config, thread_user);   /* cuts a field every version had */
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), SWERL_EINVAL);
    swerl_config_init(&cfg);
    cfg.max_processes = 16777216u;
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), SWERL_EINVAL);
    cfg.max_processes = UINT32_MAX;
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), SWERL_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Stats                                                                     */
/* ------------------------------------------------------------------------ */

static swerl_stats stats_of(swerl_runtime *rt)
{
    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(rt, &st), 0);
    return st;
}

static void t_stats(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    agent *a, *b, *w;
    swerl_stats s0, s1;
    check_event e;
    swerl_spawn_opts o;
    int i;
    if (!rt) return;

    /* size: at least the 1.0 struct; a larger (future) struct is fine and
       the library writes only what it knows */
    {
        struct { swerl_stats st; unsigned char tail[32]; } big;
        memset(&big, 0x5A, sizeof big);
        big.st.size = (uint32_t)sizeof big;
        CHECK_EQ_INT(swerl_runtime_stats(rt, &big.st), 0);
        CHECK_EQ_INT(big.st.processes, 0);
        for (i = 0; i < 32; i++) CHECK_EQ_INT(big.tail[i], 0x5A);
        big.st.size = (uint32_t)offsetof(swerl_stats, messages_rejected) - 1;  /* below 1.0's */
        CHECK_EQ_INT(swerl_runtime_stats(rt, &big.st), SWERL_EINVAL);
        big.st.size = 0;
        CHECK_EQ_INT(swerl_runtime_stats(rt, &big.st), SWERL_EINVAL);
        big.st.size = (uint32_t)sizeof(swerl_stats);
        CHECK_EQ_INT(swerl_runtime_stats(NULL, &big.st), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_runtime_stats(rt, NULL), SWERL_EINVAL);
    }

    s0 = stats_of(rt);
    CHECK_EQ_INT(s0.schedulers, 2);
    a = agent_new(rt, "a");
    w = agent_new(rt, "w");
    CHECK_EQ_INT(agent_spawn(a, NULL), 0);
    CHECK_EQ_INT(agent_spawn(w, NULL), 0);
    agent_take(a, em(EV_INIT, -1), &e);
    agent_take(w, em(EV_INIT, -1), &e);
    s1 = stats_of(rt);
    CHECK_EQ_INT(s1.processes, 2);
    CHECK_EQ_INT(s1.spawned, 2);
    CHECK_EQ_INT(s1.exited, 0);

    /* messages_sent counts accepted sends */
    s0 = stats_of(rt);
    for (i = 0; i < 3; i++) CHECK_EQ_INT(swerl_send(rt, a->pid, "m", 1), 0);
    for (i = 0; i < 3; i++) agent_take(a, em(EV_MSG, SWERL_MESSAGE), &e);
    s1 = stats_of(rt);
    CHECK_EQ_INT(s1.messages_sent - s0.messages_sent, 3);
    CHECK_EQ_INT(s1.dead_letters, s0.dead_letters);

    /* exited, processes */
    {
        swerl_ref ref = agent_monitor(w, a->pid);
        CHECK_EQ_INT(agent_send_cmd(a, cmd_stop(SWERL_REASON_NORMAL, NULL)), 0);
        agent_down(w, ref, &e);
        CHECK_EQ_INT(e.reason, SWERL_REASON_NORMAL);
    }
    CHECK_WAIT(check_stat_processes(rt) == 1);
    s1 = stats_of(rt);
    CHECK_EQ_INT(s1.exited, 1);
    CHECK_EQ_INT(s1.spawned, 2);

    /* dead letters: sends to dead pids and pid 0; not counted as sent */
    s0 = stats_of(rt);
    CHECK_EQ_INT(swerl_send(rt, a->pid, "x", 1), SWERL_ENOPROC);
    CHECK_EQ_INT(swerl_send(rt, 0, "x", 1), SWERL_ENOPROC);
    s1 = stats_of(rt);
    CHECK_EQ_INT(s1.dead_letters - s0.dead_letters, 2);
    CHECK_EQ_INT(s1.messages_sent, s0.messages_sent);

    /* messages_dropped: a bounded DROP_OLDEST mailbox */
    b = agent_new(rt, "b");
    b->init_block = 1;                               /* busy in init: no message being handled */
    swerl_spawn_opts_init(&o);
    o.mailbox_limit = 2;
    o.overflow = SWERL_OVERFLOW_DROP_OLDEST;
    CHECK_EQ_INT(agent_spawn(b, &o), 0);
    agent_take(b, em(EV_INIT, -1), &e);
    s0 = stats_of(rt);
    CHECK_EQ_INT(swerl_send(rt, b->pid, "d1", 2), 0);
    CHECK_EQ_INT(swerl_send(rt, b->pid, "d2", 2), 0);
    CHECK_EQ_INT(swerl_send(rt, b->pid, "d3", 2), 0);
    CHECK_EQ_INT(swerl_send(rt, b->pid, "d4", 2), 0);
    /* "messages waiting at most" mailbox_limit: d1 and d2 are gone already */
    CHECK_WAIT(info_field_rt(rt, b->pid, 4) == 2);
    s1 = stats_of(rt);
    CHECK_EQ_INT(s1.messages_dropped - s0.messages_dropped, 2);   /* counted when dropped */
    agent_release(b);
    agent_take(b, em(EV_MSG, SWERL_MESSAGE), &e);
    CHECK_MEM(e.data, e.len, "d3", 2);
    agent_take(b, em(EV_MSG, SWERL_MESSAGE), &e);
    CHECK_MEM(e.data, e.len, "d4", 2);
    CHECK_EQ_INT(agent_ping(b), 0);
    CHECK_EQ_INT(mbox_count(&b->mb, EV_MSG, -1), 0);
    s1 = stats_of(rt);
    CHECK_EQ_INT(s1.messages_dropped - s0.messages_dropped, 2);   /* and counted once */

    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    s1 = stats_of(rt); /* works after stop */
    CHECK_EQ_INT(s1.processes, 0);
    CHECK_EQ_INT(s1.spawned, 3);
    CHECK_EQ_INT(s1.exited, 3);
    swerl_runtime_free(rt);
    CHECK_EQ_INT(AT_LOAD(&b->gate_timeouts), 0);
    agent_free(a);
    agent_free(b);
    agent_free(w);
}

/* ------------------------------------------------------------------------ */
/* ELIMIT                                                                    */
/* ------------------------------------------------------------------------ */

static void t_process_limit(void)
{
    swerl_config cfg;
    swerl_runtime *rt = NULL;
    agent *ag[6];
    swerl_stats st;
    int i;
    swerl_config_init(&cfg);
    cfg.schedulers = 2;
    cfg.max_processes = 4;
    if (!CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), 0)) return;
    for (i = 0; i < 6; i++) ag[i] = agent_new(rt, "lim");
    for (i = 0; i < 4; i++) CHECK_EQ_INT(agent_spawn(ag[i], NULL), 0);
    CHECK_EQ_INT(agent_spawn(ag[4], NULL), SWERL_ELIMIT);
    st = stats_of(rt);
    CHECK_EQ_INT(st.spawned, 4);      /* nothing was spawned */
    CHECK_EQ_INT(st.processes, 4);
    /* one exits: room for one more */
    CHECK_EQ_INT(agent_send_cmd(ag[0], cmd_stop(SWERL_REASON_NORMAL, NULL)), 0);
    CHECK_WAIT(check_stat_processes(rt) == 3);
    CHECK_EQ_INT(agent_spawn(ag[4], NULL), 0);
    CHECK_EQ_INT(agent_spawn(ag[5], NULL), SWERL_ELIMIT);
    /* from inside a handler too */
    {
        check_event e = agent_do(ag[1], cmd_spawn(ag[5], 0));
        CHECK_EQ_INT(e.rc, SWERL_ELIMIT);
    }
    swerl_runtime_free(rt);
    for (i = 0; i < 6; i++) agent_free(ag[i]);
}

/* ------------------------------------------------------------------------ */
/* Stop: OTP's order                                                         */
/* ------------------------------------------------------------------------ */

struct caller_arg {
    swerl_runtime *rt;
    swerl_pid to;
    int rc;
    int done;
};

static void *caller_thread(void *p)
{
    struct caller_arg *c = (struct caller_arg *)p;
    swerl_buffer buf;
    buf.data = NULL;
    buf.len = 0;
    c->rc = swerl_call(c->rt, c->to, "wait", 4, SWERL_INFINITY, &buf);
    swerl_buffer_free(&buf);
    AT_STORE(&c->done, 1);
    return NULL;
}

static void t_stop_order(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    agent *plain, *trapper, *stubborn, *server;
    check_event e;
    struct caller_arg ca;
    pthread_t th;
    swerl_stats st;
    if (!rt) return;

    plain = agent_new(rt, "plain");
    trapper = agent_new(rt, "trapper");
    trapper->init_trap = 1;
    trapper->stop_on_exit = 1;       /* stops with the EXIT's reason */
    stubborn = agent_new(rt, "stubborn");
    stubborn->init_trap = 1;         /* traps and ignores the shutdown */
    server = agent_new(rt, "server");
    server->call_mode = CALL_DEFER;
    CHECK_EQ_INT(agent_spawn(plain, NULL), 0);
    CHECK_EQ_INT(agent_spawn(trapper, NULL), 0);
    CHECK_EQ_INT(agent_spawn(stubborn, NULL), 0);
    CHECK_EQ_INT(agent_spawn(server, NULL), 0);
    CHECK_EQ_INT(agent_ping(plain), 0);
    CHECK_EQ_INT(agent_ping(trapper), 0);
    CHECK_EQ_INT(agent_ping(stubborn), 0);
    CHECK_EQ_INT(agent_ping(server), 0);

    /* a thread blocked in swerl_call while the runtime stops */
    memset(&ca, 0, sizeof ca);
    ca.rt = rt;
    ca.to = server->pid;
    pthread_create(&th, NULL, caller_thread, &ca);
    agent_take(server, em(EV_MSG, SWERL_CALL), &e); /* the call is pending */

    CHECK_EQ_INT(swerl_runtime_stop(rt, 300), 0);
    pthread_join(th, NULL);
    CHECK_EQ_INT(ca.rc, SWERL_ESTOPPED); /* "blocked swerl_call callers return ESTOPPED" */

    /* a process that does not trap: terminated by the SHUTDOWN exit signal,
       its terminate runs with SHUTDOWN */
    if (agent_take(plain, em(EV_TERMINATE, -1), &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
    /* a trapping process sees EXIT(SHUTDOWN), stops, terminate runs */
    if (agent_take(trapper, em(EV_MSG, SWERL_EXIT), &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
    if (agent_take(trapper, em(EV_TERMINATE, -1), &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
    /* a trapping process that does not stop is killed after the timeout
       (OTP-21e: KILLED); swerl.h: terminate runs whatever the reason, KILLED
       included, so the state is always released */
    if (agent_take(stubborn, em(EV_MSG, SWERL_EXIT), &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
    if (agent_take(stubborn, em(EV_TERMINATE, -1), &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_KILLED);
    /* the server, not trapping, got SHUTDOWN too */
    if (agent_take(server, em(EV_TERMINATE, -1), &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);

    st = stats_of(rt);
    CHECK_EQ_INT(st.processes, 0);
    CHECK_EQ_INT(st.exited, 4);

    /* afterwards: ESTOPPED */
    {
        swerl_buffer buf;
        swerl_pid p = 0;
        swerl_behavior b = agent_behavior();
        buf.data = NULL;
        buf.len = 0;
        CHECK_EQ_INT(swerl_runtime_stop(rt, 0), SWERL_ESTOPPED);
        CHECK_EQ_INT(swerl_send(rt, plain->pid, "x", 1), SWERL_ESTOPPED);
        CHECK_EQ_INT(swerl_spawn(rt, &b, plain, NULL, &p), SWERL_ESTOPPED);
        CHECK_EQ_INT(swerl_call(rt, server->pid, "x", 1, 10, &buf), SWERL_ESTOPPED);
    }
    swerl_runtime_free(rt);
    CHECK_EQ_INT(mbox_count(&stubborn->mb, EV_TERMINATE, -1), 0);   /* terminate ran once */
    agent_free(plain);
    agent_free(trapper);
    agent_free(stubborn);
    agent_free(server);
}

static void t_stop_timeout(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    agent *blocker;
    check_event e;
    agent_cmd c;
    int rc;
    if (!rt) return;
    blocker = agent_new(rt, "blocker");
    blocker->block_limit_ms = 20000;
    blocker->init_trap = 1;    /* SHUTDOWN becomes a message: only the kill can end it */
    CHECK_EQ_INT(agent_spawn(blocker, NULL), 0);
    c = cmd_new(OP_BLOCK);
    c.block_after = 1;
    CHECK_EQ_INT(agent_send_cmd(blocker, c), 0);
    agent_take(blocker, em(EV_RESULT, OP_BLOCK), &e); /* inside its handler, not returning */
    /* the handler does not return even after the kill: ETIMEDOUT, threads left running */
    rc = swerl_runtime_stop(rt, 100);
    CHECK_EQ_INT(rc, SWERL_ETIMEDOUT);
    CHECK_EQ_INT(AT_LOAD(&blocker->gate_timeouts), 0); /* stop returned while it still blocked */
    agent_release(blocker);
    /* free waits for the threads */
    swerl_runtime_free(rt);
    CHECK_REACHED();
    /* killed once its handler returned (OTP-21e: KILLED): terminate(KILLED)
       (swerl.h: terminate runs whatever the reason), exactly once */
    if (mbox_take(&blocker->mb, EV_TERMINATE, -1, &e, 0)) CHECK_EQ_INT(e.reason, SWERL_REASON_KILLED);
    else CHECK_MSG(0, "the blocked process's terminate did not run");
    CHECK_EQ_INT(mbox_count(&blocker->mb, EV_TERMINATE, -1), 0);
    agent_free(blocker);
}

static void t_free_running(void)
{
    /* swerl_runtime_free of a running runtime stops it as swerl_runtime_stop would */
    swerl_runtime *rt = check_start_rt(2, 0);
    agent *a;
    check_event e;
    if (!rt) return;
    a = agent_new(rt, "a");
    CHECK_EQ_INT(agent_spawn(a, NULL), 0);
    CHECK_EQ_INT(agent_ping(a), 0);
    swerl_runtime_free(rt);
    if (agent_take(a, em(EV_TERMINATE, -1), &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_SHUTDOWN);
    agent_free(a);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("version", t_version, 30);
    check_section("errors", t_errors, 30);
    check_section("init functions", t_init_functions, 30);
    check_section("runtime start EINVAL", t_start_einval, 60);
    check_section("runtime lifecycle and thread hooks", t_lifecycle_hooks, 60);
    check_section("runtime defaults, cycles, two runtimes", t_start_defaults, 120);
    check_section("stats", t_stats, 60);
    check_section("process limit (ELIMIT)", t_process_limit, 60);
    check_section("stop: shutdown, kill, blocked callers", t_stop_order, 60);
    check_section("stop: ETIMEDOUT with a handler that never returns", t_stop_timeout, 90);
    check_section("free of a running runtime", t_free_running, 60);
    return check_summary();
}
