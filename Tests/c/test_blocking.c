/*
 * test_blocking.c — handlers that block (issue 11, part 1 and 2): long turns
 * reported, a blocked scheduler routed around, blocking processes, stop and
 * call timeouts as deadlines.
 *
 * Functions covered: swerl_runtime_set_long_turn, swerl_runtime_set_blocking_threads,
 * swerl_set_blocking, SWERL_SPAWN_BLOCKING, swerl_call and swerl_wait_exit
 * inside blocking processes, swerl_runtime_stop with a handler that never
 * returns, call deadlines (swerl_call, swerl_call_async, swerl_call_notify).
 *
 * Handlers that "block" here wait for a gate the test opens (an event), so
 * no check depends on how long anything takes; the one exception says why.
 */
#include "check.h"

/* ------------------------------------------------------------------------ */
/* A gate handlers block on, and the log lines the runtime reports           */
/* ------------------------------------------------------------------------ */

static int g_gate_open;       /* blocked handlers return once it is 1 */
static int g_blocked;         /* handlers blocked at the gate now */

static void gate_wait(void)
{
    AT_ADD(&g_blocked, 1);
    while (!AT_LOAD(&g_gate_open)) check_sleep_ms(1);
    AT_ADD(&g_blocked, -1);
}

#define LOG_MAX 256
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *g_log[LOG_MAX];
static int g_log_n;

static void on_log(void *user, int level, const char *message, size_t len)
{
    (void)user;
    (void)level;
    pthread_mutex_lock(&g_log_mu);
    if (g_log_n < LOG_MAX) {
        char *copy = (char *)malloc(len + 1);
        memcpy(copy, message, len);
        copy[len] = 0;
        g_log[g_log_n++] = copy;
    }
    pthread_mutex_unlock(&g_log_mu);
}

/* How many log lines contain every one of the (NULL-ended) words. */
static int log_count(const char *a, const char *b, const char *c)
{
    int n = 0, i;
    pthread_mutex_lock(&g_log_mu);
    for (i = 0; i < g_log_n; i++) {
        if (strstr(g_log[i], a) && (!b || strstr(g_log[i], b)) && (!c || strstr(g_log[i], c))) n++;
    }
    pthread_mutex_unlock(&g_log_mu);
    return n;
}

static void log_print(void)
{
    int i;
    pthread_mutex_lock(&g_log_mu);
    for (i = 0; i < g_log_n; i++) printf("    log: %.300s\n", g_log[i]);
    pthread_mutex_unlock(&g_log_mu);
}

static long g_round_trips, g_ticks;

/* A runtime for one section, and a fresh start for what sections share
   (they run in one process under SWERL_TEST_NOFORK=1, as under ASan). */
static swerl_runtime *start_rt(uint32_t schedulers)
{
    swerl_config cfg;
    swerl_runtime *rt = NULL;
    int i;
    pthread_mutex_lock(&g_log_mu);
    for (i = 0; i < g_log_n; i++) free(g_log[i]);
    g_log_n = 0;
    pthread_mutex_unlock(&g_log_mu);
    AT_STORE(&g_round_trips, 0);
    AT_STORE(&g_ticks, 0);
    AT_STORE(&g_gate_open, 0);
    swerl_config_init(&cfg);
    cfg.schedulers = schedulers;
    cfg.on_log = on_log;
    if (swerl_runtime_start(&cfg, &rt) != 0) return NULL;
    return rt;
}

static void pid_text(swerl_pid pid, char *buf, size_t cap)
{
    swerl_pid_format(pid, buf, cap);
}

/* ------------------------------------------------------------------------ */
/* Behaviours                                                                */
/* ------------------------------------------------------------------------ */

/* Blocks at the gate on any message. */
static int h_blocker(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx; (void)msg; (void)state;
    gate_wait();
    return SWERL_CONTINUE;
}

/* Ping-pong: "ping" bounces every message back to its sender and counts. */
static int h_bouncer(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    swerl_pid peer = msg->from;
    (void)state;
    if (msg->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    if (msg->len == 8) memcpy(&peer, msg->data, 8);  /* the kick names the peer */
    if (state) AT_ADD(&g_round_trips, 1);
    swerl_send(swerl_ctx_runtime(ctx), peer, "b", 1);
    return SWERL_CONTINUE;
}

/* A 10 ms periodic timer: re-arms itself and counts. */
static int h_ticker(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    swerl_ref ref;
    (void)msg; (void)state;
    AT_ADD(&g_ticks, 1);
    swerl_send_after(swerl_ctx_runtime(ctx), swerl_self(ctx), 10, "t", 1, &ref);
    return SWERL_CONTINUE;
}

/* Answers every CALL with its request. */
static int h_echo(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)state;
    if (msg->kind == SWERL_CALL) swerl_reply(swerl_ctx_runtime(ctx), msg->ref, msg->data, msg->len);
    return SWERL_CONTINUE;
}

static const swerl_behavior b_blocker = { sizeof(swerl_behavior), NULL, h_blocker, NULL };
static const swerl_behavior b_bouncer = { sizeof(swerl_behavior), NULL, h_bouncer, NULL };
static const swerl_behavior b_ticker = { sizeof(swerl_behavior), NULL, h_ticker, NULL };
static const swerl_behavior b_echo = { sizeof(swerl_behavior), NULL, h_echo, NULL };

static swerl_pid spawn_named(swerl_runtime *rt, const swerl_behavior *b, void *arg, const char *name,
                             uint32_t flags)
{
    swerl_spawn_opts opts;
    swerl_pid pid = 0;
    swerl_spawn_opts_init(&opts);
    opts.name = name;
    opts.flags = flags;
    CHECK_EQ_INT(swerl_spawn(rt, b, arg, &opts, &pid), 0);
    return pid;
}

/* Starts a ping-pong pair and a 10 ms ticker on `rt`. */
static void start_traffic(swerl_runtime *rt)
{
    static int counting = 1;
    swerl_pid ping = spawn_named(rt, &b_bouncer, &counting, NULL, 0);
    swerl_pid pong = spawn_named(rt, &b_bouncer, NULL, NULL, 0);
    swerl_pid ticker = spawn_named(rt, &b_ticker, NULL, NULL, 0);
    CHECK_EQ_INT(swerl_send(rt, ping, &pong, 8), 0);
    CHECK_EQ_INT(swerl_send(rt, ticker, "t", 1), 0);
}

/* ------------------------------------------------------------------------ */
/* Long turns: reported, and routed around                                   */
/* ------------------------------------------------------------------------ */

static void t_route_around(void)
{
    swerl_runtime *rt = start_rt(1);   /* one scheduler: everything shares the blocked one */
    swerl_pid sleeper;
    char text[SWERL_PID_FORMAT_MAX];
    if (!CHECK(rt != NULL)) return;
    AT_STORE(&g_gate_open, 0);
    sleeper = spawn_named(rt, &b_blocker, NULL, "sleeper", 0);
    CHECK_EQ_INT(swerl_send(rt, sleeper, "block", 5), 0);
    CHECK_WAIT(AT_LOAD(&g_blocked) == 1);
    /* While its handler blocks, a ping-pong and a 10 ms timer on the same
       scheduler go on: the scheduler went to another thread. */
    start_traffic(rt);
    CHECK_WAIT(AT_LOAD(&g_round_trips) >= 10000 && AT_LOAD(&g_ticks) >= 20);
    CHECK_EQ_INT(AT_LOAD(&g_blocked), 1);                 /* all of it while blocked */
    /* Reported as a long turn, with the pid and the name (the default limit
       is 100 ms, and 20 ticks of 10 ms passed). */
    pid_text(sleeper, text, sizeof text);
    CHECK_WAIT(log_count("long turn", text, "'sleeper'") >= 1);
    AT_STORE(&g_gate_open, 1);
    CHECK_WAIT(log_count("long turn", text, "returned after") == 1);
    /* Back to normal: the sleeper handles messages again. */
    AT_STORE(&g_gate_open, 0);
    CHECK_EQ_INT(swerl_send(rt, sleeper, "again", 5), 0);
    CHECK_WAIT(AT_LOAD(&g_blocked) == 1);
    AT_STORE(&g_gate_open, 1);
    CHECK_WAIT(AT_LOAD(&g_blocked) == 0);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
    if (check_failed_) log_print();
}

/* A long turn is reported also when nothing else runs (the other threads
   sleep: the monitor still watches the turn). */
static void t_long_turn_alone(void)
{
    swerl_runtime *rt = start_rt(1);
    swerl_pid sleeper;
    char text[SWERL_PID_FORMAT_MAX];
    if (!CHECK(rt != NULL)) return;
    sleeper = spawn_named(rt, &b_blocker, NULL, "alone", 0);
    CHECK_EQ_INT(swerl_send(rt, sleeper, "block", 5), 0);
    pid_text(sleeper, text, sizeof text);
    CHECK_WAIT(log_count("long turn", text, "'alone'") == 1);
    AT_STORE(&g_gate_open, 1);
    CHECK_WAIT(log_count("long turn", text, "returned after") == 1);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

/* Every scheduler blocked at once (two of two), and more: each gets a
   thread of its own, and the rest of the runtime goes on. */
static void t_all_schedulers_blocked(void)
{
    swerl_runtime *rt = start_rt(2);
    long before;
    int i;
    if (!CHECK(rt != NULL)) return;
    AT_STORE(&g_gate_open, 0);
    for (i = 0; i < 4; i++) {
        swerl_pid p = spawn_named(rt, &b_blocker, NULL, NULL, 0);
        CHECK_EQ_INT(swerl_send(rt, p, "block", 5), 0);
        CHECK_WAIT(AT_LOAD(&g_blocked) == i + 1);
    }
    start_traffic(rt);
    before = AT_LOAD(&g_round_trips);
    CHECK_WAIT(AT_LOAD(&g_round_trips) >= before + 10000 && AT_LOAD(&g_ticks) >= 10);
    AT_STORE(&g_gate_open, 1);
    CHECK_WAIT(AT_LOAD(&g_blocked) == 0);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

static void t_long_turn_limit(void)
{
    swerl_runtime *rt = start_rt(1);
    swerl_pid p;
    if (!CHECK(rt != NULL)) return;
    CHECK_EQ_INT(swerl_runtime_set_long_turn(NULL, 10), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_runtime_set_long_turn(rt, 0), 0);      /* no reports */
    AT_STORE(&g_gate_open, 0);
    p = spawn_named(rt, &b_blocker, NULL, "quiet", 0);
    CHECK_EQ_INT(swerl_send(rt, p, "block", 5), 0);
    CHECK_WAIT(AT_LOAD(&g_blocked) == 1);
    /* Still routed around, without a report. */
    start_traffic(rt);
    CHECK_WAIT(AT_LOAD(&g_ticks) >= 20);
    CHECK_EQ_INT(log_count("long turn", NULL, NULL), 0);
    AT_STORE(&g_gate_open, 1);
    CHECK_WAIT(AT_LOAD(&g_blocked) == 0);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    CHECK_EQ_INT(swerl_runtime_set_long_turn(rt, 10), SWERL_ESTOPPED);
    swerl_runtime_free(rt);
}

/* ------------------------------------------------------------------------ */
/* Blocking processes                                                        */
/* ------------------------------------------------------------------------ */

/* A blocking process: waits at the gate, then calls the server named in its
   message (a synchronous call from inside a process) and waits for a
   process's exit; posts what it got. */
static check_mailbox g_results;
static int h_blocking_caller(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    check_event e;
    swerl_buffer reply;
    swerl_pid server = 0, watched = 0;
    int32_t reason = -1;
    (void)state;
    if (msg->kind != SWERL_MESSAGE || msg->len != 16) return SWERL_CONTINUE;
    memcpy(&server, msg->data, 8);
    memcpy(&watched, (const char *)msg->data + 8, 8);
    gate_wait();
    memset(&e, 0, sizeof e);
    e.type = EV_RESULT;
    e.self = swerl_self(ctx);
    reply.data = NULL;
    reply.len = 0;
    e.rc = swerl_call(rt, server, "hello", 5, 5000, &reply);
    check_event_set_data(&e, reply.data, reply.len);
    swerl_buffer_free(&reply);
    e.u1 = (uint64_t)(int64_t)swerl_wait_exit(rt, watched, 5000, &reason);
    e.u2 = (uint64_t)(int64_t)reason;
    mbox_post(&g_results, &e);
    return SWERL_CONTINUE;
}

/* A scheduled process trying the same: refused, with words. */
static int h_scheduled_caller(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    check_event e;
    swerl_buffer reply;
    int32_t reason = 0;
    swerl_pid server = 0;
    (void)state;
    if (msg->kind != SWERL_MESSAGE || msg->len != 8) return SWERL_CONTINUE;
    memcpy(&server, msg->data, 8);
    memset(&e, 0, sizeof e);
    e.type = EV_NOTE;
    reply.data = NULL;
    reply.len = 0;
    e.rc = swerl_call(swerl_ctx_runtime(ctx), server, "x", 1, 1000, &reply);
    check_event_set_data(&e, swerl_last_error_detail(), strlen(swerl_last_error_detail()));
    e.u1 = (uint64_t)(int64_t)swerl_wait_exit(swerl_ctx_runtime(ctx), server, 1000, &reason);
    mbox_post(&g_results, &e);
    return SWERL_CONTINUE;
}

static const swerl_behavior b_blocking_caller = { sizeof(swerl_behavior), NULL, h_blocking_caller, NULL };
static const swerl_behavior b_scheduled_caller = { sizeof(swerl_behavior), NULL, h_scheduled_caller, NULL };

static void t_blocking_processes(void)
{
    swerl_runtime *rt = start_rt(1);
    swerl_pid server, doomed, callers[3], plain;
    check_event e;
    int i;
    if (!CHECK(rt != NULL)) return;
    mbox_init(&g_results);
    AT_STORE(&g_gate_open, 0);
    CHECK_EQ_INT(swerl_runtime_set_blocking_threads(rt, 0), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_runtime_set_blocking_threads(rt, 8), 0);
    server = spawn_named(rt, &b_echo, NULL, "echo", 0);
    doomed = spawn_named(rt, &b_echo, NULL, NULL, 0);
    for (i = 0; i < 3; i++) {
        uint64_t what[2];
        what[0] = server;
        what[1] = doomed;
        callers[i] = spawn_named(rt, &b_blocking_caller, NULL, NULL, SWERL_SPAWN_BLOCKING);
        CHECK_EQ_INT(swerl_send(rt, callers[i], what, 16), 0);
    }
    CHECK_WAIT(AT_LOAD(&g_blocked) == 3);
    /* Three blocked blocking processes take no scheduler: the one scheduler
       keeps running the rest, and no long turn is reported for them. */
    start_traffic(rt);
    CHECK_WAIT(AT_LOAD(&g_round_trips) >= 10000 && AT_LOAD(&g_ticks) >= 15);
    for (i = 0; i < 3; i++) {
        char text[SWERL_PID_FORMAT_MAX];
        pid_text(callers[i], text, sizeof text);
        CHECK_EQ_INT(log_count("long turn", text, NULL), 0);
    }
    /* A scheduled process may not block: EINPROC, saying what to do. */
    plain = spawn_named(rt, &b_scheduled_caller, NULL, NULL, 0);
    CHECK_EQ_INT(swerl_send(rt, plain, &server, 8), 0);
    if (CHECK(mbox_take(&g_results, EV_NOTE, -1, &e, CHECK_WAIT_MS))) {
        CHECK_EQ_INT(e.rc, SWERL_EINPROC);
        CHECK_EQ_INT((int64_t)e.u1, SWERL_EINPROC);
        CHECK_MSG(e.len > 0 && strstr((const char *)e.data, "SWERL_SPAWN_BLOCKING") != NULL,
                  "the detail names the way out: %.*s", (int)e.len, (const char *)e.data);
    }
    /* Released: each calls the server and waits for `doomed` to exit. */
    AT_STORE(&g_gate_open, 1);
    CHECK_EQ_INT(swerl_exit(rt, doomed, SWERL_REASON_USER + 7, NULL, 0), 0);
    for (i = 0; i < 3; i++) {
        if (!CHECK(mbox_take(&g_results, EV_RESULT, -1, &e, CHECK_WAIT_MS))) break;
        CHECK_EQ_INT(e.rc, 0);
        CHECK_MEM(e.data, e.len, "hello", 5);
        CHECK_EQ_INT((int64_t)e.u1, 0);
        CHECK(e.u2 == (uint64_t)(SWERL_REASON_USER + 7) || e.u2 == (uint64_t)SWERL_REASON_NOPROC);
    }
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
    mbox_destroy(&g_results);
}

/* swerl_set_blocking: a supervised child becomes a blocking process in its
   init; its blocking handler then stops no scheduler. */
static int init_goes_blocking(swerl_ctx *ctx, void *arg, void **state)
{
    (void)arg; (void)state;
    CHECK_EQ_INT(swerl_set_blocking(ctx, 1), 0);   /* was not blocking */
    CHECK_EQ_INT(swerl_set_blocking(ctx, 1), 1);
    return 0;
}
static const swerl_behavior b_supervised_blocker = { sizeof(swerl_behavior), init_goes_blocking, h_blocker, NULL };

static void t_set_blocking_supervised(void)
{
    swerl_runtime *rt = start_rt(1);
    swerl_child_spec child;
    swerl_supervisor_spec spec;
    swerl_pid sup = 0, worker;
    long before;
    if (!CHECK(rt != NULL)) return;
    AT_STORE(&g_gate_open, 0);
    CHECK_EQ_INT(swerl_set_blocking(NULL, 1), SWERL_ECTX);
    swerl_child_spec_init(&child);
    child.id = "slow";
    child.behavior = &b_supervised_blocker;
    spec = check_sup_spec(SWERL_ONE_FOR_ONE, 1, 5000, &child, 1);
    CHECK_EQ_INT(swerl_supervisor_start(rt, &spec, NULL, &sup), 0);
    worker = check_child_pid(rt, sup, "slow");
    CHECK(worker != 0);
    start_traffic(rt);
    CHECK_EQ_INT(swerl_send(rt, worker, "block", 5), 0);
    CHECK_WAIT(AT_LOAD(&g_blocked) == 1);
    before = AT_LOAD(&g_round_trips);
    CHECK_WAIT(AT_LOAD(&g_round_trips) >= before + 10000);
    {
        char text[SWERL_PID_FORMAT_MAX];
        pid_text(worker, text, sizeof text);
        CHECK_EQ_INT(log_count("long turn", text, NULL), 0);   /* not a scheduler's long turn */
    }
    AT_STORE(&g_gate_open, 1);
    CHECK_WAIT(AT_LOAD(&g_blocked) == 0);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

/* ------------------------------------------------------------------------ */
/* Stop with a handler that never returns                                    */
/* ------------------------------------------------------------------------ */

static void t_stop_deadline(void)
{
    swerl_runtime *rt = start_rt(2);
    swerl_pid stuck;
    char text[SWERL_PID_FORMAT_MAX];
    double start, took;
    if (!CHECK(rt != NULL)) return;
    AT_STORE(&g_gate_open, 0);
    stuck = spawn_named(rt, &b_blocker, NULL, "stuck", 0);
    start_traffic(rt);
    CHECK_EQ_INT(swerl_send(rt, stuck, "block", 5), 0);
    CHECK_WAIT(AT_LOAD(&g_blocked) == 1);
    start = check_now_ms();
    CHECK_EQ_INT(swerl_runtime_stop(rt, 200), SWERL_ETIMEDOUT);
    took = check_now_ms() - start;
    /* The timeout is a deadline: the stop returns at it, not 5 s later. The
       bound is generous (a slow machine, a sanitizer); 1.1 took 5.2 s. */
    CHECK_MSG(took < 3000.0, "swerl_runtime_stop(rt, 200) took %.0f ms", took);
    pid_text(stuck, text, sizeof text);
    CHECK_MSG(strstr(swerl_last_error_detail(), text) && strstr(swerl_last_error_detail(), "'stuck'"),
              "the detail names the stuck process: %s", swerl_last_error_detail());
    CHECK_WAIT(log_count("stop:", text, "did not return") == 1);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 200), SWERL_ESTOPPED);
    /* free waits for the handler; it returns once let go. */
    AT_STORE(&g_gate_open, 1);
    swerl_runtime_free(rt);
    CHECK_REACHED();
}

/* ------------------------------------------------------------------------ */
/* Call timeouts are deadlines                                               */
/* ------------------------------------------------------------------------ */

/* Answers a CALL after its caller's deadline: sleeps past it first (the one
   sleep here: it is what the test is about), then replies and posts what
   swerl_reply said. */
static int h_late_server(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    check_event e;
    (void)state;
    if (msg->kind != SWERL_CALL) return SWERL_CONTINUE;
    check_sleep_ms(150);                                    /* the deadline is 50 ms */
    memset(&e, 0, sizeof e);
    e.type = EV_NOTE;
    e.op = 1;
    e.rc = swerl_reply(swerl_ctx_runtime(ctx), msg->ref, "late", 4);
    mbox_post(&g_results, &e);
    return SWERL_CONTINUE;
}

/* Calls its target with a 50 ms timeout; posts the REPLY it gets. */
static int h_async_caller(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    check_event e;
    swerl_ref ref;
    (void)state;
    if (msg->kind == SWERL_MESSAGE && msg->len == 8) {
        swerl_pid server;
        memcpy(&server, msg->data, 8);
        CHECK_EQ_INT(swerl_call_async(ctx, server, "q", 1, 50, &ref), 0);
    } else if (msg->kind == SWERL_REPLY) {
        memset(&e, 0, sizeof e);
        e.type = EV_MSG;
        e.kind = msg->kind;
        e.reason = msg->reason;
        check_event_set_data(&e, msg->data, msg->len);
        mbox_post(&g_results, &e);
    }
    return SWERL_CONTINUE;
}

static const swerl_behavior b_late_server = { sizeof(swerl_behavior), NULL, h_late_server, NULL };
static const swerl_behavior b_async_caller = { sizeof(swerl_behavior), NULL, h_async_caller, NULL };

static int g_notified;
static int g_notify_code;
static void on_call_done(void *user, int code, const void *data, size_t len)
{
    (void)user; (void)data; (void)len;
    AT_STORE(&g_notify_code, code);
    AT_ADD(&g_notified, 1);
}

static void t_call_deadlines(void)
{
    swerl_runtime *rt = start_rt(1);   /* caller and server share the scheduler */
    swerl_pid server, caller;
    swerl_buffer reply;
    swerl_ref ref = 0;
    check_event e;
    swerl_stats before, after;
    if (!CHECK(rt != NULL)) return;
    mbox_init(&g_results);
    server = spawn_named(rt, &b_late_server, NULL, NULL, 0);
    caller = spawn_named(rt, &b_async_caller, NULL, NULL, 0);
    before = check_stats(rt);
    /* swerl_call_async: the REPLY says ETIMEDOUT, the late reply is dropped. */
    CHECK_EQ_INT(swerl_send(rt, caller, &server, 8), 0);
    if (CHECK(mbox_take(&g_results, EV_MSG, SWERL_REPLY, &e, CHECK_WAIT_MS))) {
        CHECK_EQ_INT(e.reason, SWERL_ETIMEDOUT);
        CHECK_EQ_INT(e.len, 0);
    }
    if (CHECK(mbox_take(&g_results, EV_NOTE, -1, &e, CHECK_WAIT_MS))) CHECK_EQ_INT(e.rc, SWERL_EREF);
    after = check_stats(rt);
    CHECK(after.dead_letters >= before.dead_letters + 1);   /* the late reply */
    CHECK_EQ_INT(mbox_count(&g_results, EV_MSG, SWERL_REPLY), 0);   /* exactly one REPLY */
    /* swerl_call from outside. */
    reply.data = NULL;
    reply.len = 0;
    CHECK_EQ_INT(swerl_call(rt, server, "q", 1, 50, &reply), SWERL_ETIMEDOUT);
    CHECK(reply.data == NULL);
    if (CHECK(mbox_take(&g_results, EV_NOTE, -1, &e, CHECK_WAIT_MS))) CHECK_EQ_INT(e.rc, SWERL_EREF);
    /* swerl_call_notify. */
    CHECK_EQ_INT(swerl_call_notify(rt, server, "q", 1, 50, on_call_done, NULL, &ref), 0);
    CHECK(ref != 0);
    CHECK_WAIT(AT_LOAD(&g_notified) == 1);
    CHECK_EQ_INT(AT_LOAD(&g_notify_code), SWERL_ETIMEDOUT);
    if (CHECK(mbox_take(&g_results, EV_NOTE, -1, &e, CHECK_WAIT_MS))) CHECK_EQ_INT(e.rc, SWERL_EREF);
    CHECK_EQ_INT(AT_LOAD(&g_notified), 1);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
    mbox_destroy(&g_results);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("long turn: reported, and a ping-pong and a 10 ms timer go on meanwhile", t_route_around, 120);
    check_section("long turn: reported with nothing else to run", t_long_turn_alone, 120);
    check_section("every scheduler blocked at once", t_all_schedulers_blocked, 120);
    check_section("long turn: the report limit, 0 = off", t_long_turn_limit, 120);
    check_section("blocking processes: blocking calls allowed, no scheduler taken", t_blocking_processes, 120);
    check_section("swerl_set_blocking in a supervised child's init", t_set_blocking_supervised, 120);
    check_section("stop: the timeout is a deadline; the stuck process is named", t_stop_deadline, 120);
    check_section("call timeouts are deadlines: late replies are timeouts", t_call_deadlines, 120);
    return check_summary();
}
