/*
 * test_notify.c — outcomes told by callback, and waiting from outside
 * processes (since 1.2): swerl_call_notify, swerl_watch_exit,
 * swerl_cancel_notify, swerl_wait_exit; timers to a name looked up at
 * expiry (swerl_send_after_named, OTP-35); a reply to a departed caller
 * counted as a dead letter; swerl_call telling why its server died.
 */
#include "check.h"

static check_mailbox g_done;

/* done callbacks post what they got; `user` is the event's u1. */
static void on_call(void *user, int code, const void *data, size_t len)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = EV_NOTE;
    e.op = 1;
    e.rc = code;
    e.u1 = (uint64_t)(uintptr_t)user;
    check_event_set_data(&e, data, len);
    mbox_post(&g_done, &e);
}

static void on_exit_watch(void *user, int32_t reason, const void *detail, size_t len)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = EV_NOTE;
    e.op = 2;
    e.reason = reason;
    e.u1 = (uint64_t)(uintptr_t)user;
    check_event_set_data(&e, detail, len);
    mbox_post(&g_done, &e);
}

/* CALL: "echo" replies at once, "die" crashes, "hold" keeps the ref for
   later (posted). MESSAGE "exit" stops with reason USER+9 and a detail. */
static int h_server(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)state;
    if (msg->kind == SWERL_CALL) {
        if (msg->len == 3 && memcmp(msg->data, "die", 3) == 0) {
            swerl_fail(ctx, SWERL_REASON_ERROR, "died during the call", 20);
            return -1;
        }
        if (msg->len == 4 && memcmp(msg->data, "hold", 4) == 0) {
            check_event e;
            memset(&e, 0, sizeof e);
            e.type = EV_NOTE;
            e.op = 3;
            e.ref = msg->ref;
            mbox_post(&g_done, &e);
            return SWERL_CONTINUE;
        }
        swerl_reply(swerl_ctx_runtime(ctx), msg->ref, msg->data, msg->len);
    } else if (msg->kind == SWERL_MESSAGE && msg->len == 4 && memcmp(msg->data, "exit", 4) == 0) {
        swerl_fail(ctx, SWERL_REASON_USER + 9, "bye", 3);
        return SWERL_STOP;
    }
    return SWERL_CONTINUE;
}
static const swerl_behavior b_server = { sizeof(swerl_behavior), NULL, h_server, NULL };

/* Counts what it gets. */
static int g_messages;
static int h_count(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx; (void)state;
    if (msg->kind == SWERL_MESSAGE) AT_ADD(&g_messages, 1);
    return SWERL_CONTINUE;
}
static const swerl_behavior b_count = { sizeof(swerl_behavior), NULL, h_count, NULL };

static swerl_pid spawn_one(swerl_runtime *rt, const swerl_behavior *b)
{
    swerl_pid pid = 0;
    CHECK_EQ_INT(swerl_spawn(rt, b, NULL, NULL, &pid), 0);
    return pid;
}

static void t_call_notify(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid server;
    swerl_ref ref = 0, held;
    check_event e;
    if (!CHECK(rt != NULL)) return;
    mbox_init(&g_done);
    server = spawn_one(rt, &b_server);
    CHECK_EQ_INT(swerl_call_notify(NULL, server, "x", 1, 1000, on_call, NULL, &ref), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_call_notify(rt, server, "x", 1, 1000, NULL, NULL, &ref), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_call_notify(rt, server, NULL, 1, 1000, on_call, NULL, &ref), SWERL_EINVAL);
    /* A reply. */
    CHECK_EQ_INT(swerl_call_notify(rt, server, "echo", 4, 5000, on_call, (void *)1, &ref), 0);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 1, &e, CHECK_WAIT_MS))) {
        CHECK_EQ_INT(e.rc, 0);
        CHECK_MEM(e.data, e.len, "echo", 4);
        CHECK_EQ_U64(e.u1, 1);
    }
    /* The server dies during the call: EEXITED with its detail. */
    CHECK_EQ_INT(swerl_call_notify(rt, server, "die", 3, 5000, on_call, (void *)2, &ref), 0);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 1, &e, CHECK_WAIT_MS))) {
        CHECK_EQ_INT(e.rc, SWERL_EEXITED);
        CHECK_MEM(e.data, e.len, "died during the call", 20);
    }
    /* An absent server: ENOPROC at once, and done never runs. */
    CHECK_EQ_INT(swerl_call_notify(rt, server, "echo", 4, 5000, on_call, (void *)3, &ref), SWERL_ENOPROC);
    /* Cancelled before the answer: done never runs, the reply is refused. */
    server = spawn_one(rt, &b_server);
    CHECK_EQ_INT(swerl_call_notify(rt, server, "hold", 4, SWERL_INFINITY, on_call, (void *)4, &ref), 0);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 3, &e, CHECK_WAIT_MS))) {
        held = e.ref;
        CHECK_EQ_U64(held, ref);                                  /* *out was set before anything could run */
        CHECK_EQ_INT(swerl_cancel_notify(rt, ref), 0);
        CHECK_EQ_INT(swerl_cancel_notify(rt, ref), SWERL_EREF);   /* once */
        CHECK_EQ_INT(swerl_reply(rt, held, "late", 4), SWERL_EREF);
    }
    /* The runtime stops with a call pending: done gets ESTOPPED. */
    CHECK_EQ_INT(swerl_call_notify(rt, server, "hold", 4, SWERL_INFINITY, on_call, (void *)5, &ref), 0);
    CHECK(mbox_take(&g_done, EV_NOTE, 3, &e, CHECK_WAIT_MS));
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 1, &e, CHECK_WAIT_MS))) {
        CHECK_EQ_INT(e.rc, SWERL_ESTOPPED);
        CHECK_EQ_U64(e.u1, 5);
    }
    CHECK_EQ_INT(mbox_count(&g_done, EV_NOTE, 1), 0);             /* nothing for 3 and 4 */
    CHECK_EQ_INT(swerl_call_notify(rt, server, "x", 1, 10, on_call, NULL, &ref), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_cancel_notify(rt, ref), SWERL_ESTOPPED);
    swerl_runtime_free(rt);
    mbox_destroy(&g_done);
}

static void t_watch_exit(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid server, other;
    swerl_ref ref = 0, ref2 = 0;
    check_event e;
    if (!CHECK(rt != NULL)) return;
    mbox_init(&g_done);
    server = spawn_one(rt, &b_server);
    other = spawn_one(rt, &b_server);
    CHECK_EQ_INT(swerl_watch_exit(rt, server, NULL, NULL, &ref), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_watch_exit(rt, server, on_exit_watch, (void *)1, &ref), 0);
    CHECK_EQ_INT(swerl_watch_exit(rt, other, on_exit_watch, (void *)2, &ref2), 0);
    CHECK_EQ_INT(swerl_cancel_notify(rt, ref2), 0);               /* watched no more */
    CHECK_EQ_INT(swerl_send(rt, server, "exit", 4), 0);
    CHECK_EQ_INT(swerl_exit(rt, other, SWERL_REASON_KILL, NULL, 0), 0);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 2, &e, CHECK_WAIT_MS))) {
        CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 9);
        CHECK_MEM(e.data, e.len, "bye", 3);
        CHECK_EQ_U64(e.u1, 1);
    }
    CHECK_WAIT(check_stat_processes(rt) == 0);
    /* Not alive: NOPROC, in the call itself (OTP-25). */
    CHECK_EQ_INT(swerl_watch_exit(rt, server, on_exit_watch, (void *)3, &ref), 0);
    CHECK_EQ_INT(mbox_count(&g_done, EV_NOTE, 2), 1);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 2, &e, 0))) {
        CHECK_EQ_INT(e.reason, SWERL_REASON_NOPROC);
        CHECK_EQ_U64(e.u1, 3);
    }
    CHECK_EQ_INT(mbox_count(&g_done, EV_NOTE, 2), 0);             /* the cancelled watch said nothing */
    swerl_runtime_free(rt);
    mbox_destroy(&g_done);
}

/* A process that waits for an exit from inside a callback: refused unless
   it is a blocking process. */
static int h_waiter(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    check_event e;
    swerl_pid target = 0;
    int32_t reason = -1;
    (void)state;
    if (msg->kind != SWERL_MESSAGE || msg->len != 8) return SWERL_CONTINUE;
    memcpy(&target, msg->data, 8);
    memset(&e, 0, sizeof e);
    e.type = EV_NOTE;
    e.op = 4;
    e.rc = swerl_wait_exit(swerl_ctx_runtime(ctx), target, 10000, &reason);
    e.reason = reason;
    mbox_post(&g_done, &e);
    return SWERL_CONTINUE;
}
static const swerl_behavior b_waiter = { sizeof(swerl_behavior), NULL, h_waiter, NULL };

static void t_wait_exit(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid server, waiter, blocking_waiter;
    swerl_spawn_opts opts;
    int32_t reason = -1;
    check_event e;
    if (!CHECK(rt != NULL)) return;
    mbox_init(&g_done);
    server = spawn_one(rt, &b_server);
    CHECK_EQ_INT(swerl_wait_exit(NULL, server, 0, &reason), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_wait_exit(rt, server, 20, &reason), SWERL_ETIMEDOUT);
    /* Inside a scheduled process: refused. */
    waiter = spawn_one(rt, &b_waiter);
    CHECK_EQ_INT(swerl_send(rt, waiter, &server, 8), 0);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 4, &e, CHECK_WAIT_MS))) CHECK_EQ_INT(e.rc, SWERL_EINPROC);
    /* Inside a blocking process: allowed. */
    swerl_spawn_opts_init(&opts);
    opts.flags = SWERL_SPAWN_BLOCKING;
    CHECK_EQ_INT(swerl_spawn(rt, &b_waiter, NULL, &opts, &blocking_waiter), 0);
    CHECK_EQ_INT(swerl_send(rt, blocking_waiter, &server, 8), 0);
    CHECK_EQ_INT(swerl_send(rt, server, "exit", 4), 0);
    CHECK_EQ_INT(swerl_wait_exit(rt, server, SWERL_INFINITY, &reason), 0);
    CHECK(reason == SWERL_REASON_USER + 9 || reason == SWERL_REASON_NOPROC);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 4, &e, CHECK_WAIT_MS))) {
        CHECK_EQ_INT(e.rc, 0);
        CHECK(e.reason == SWERL_REASON_USER + 9 || e.reason == SWERL_REASON_NOPROC);
    }
    CHECK_EQ_INT(swerl_wait_exit(rt, server, 10, NULL), 0);       /* gone: NOPROC, no wait */
    CHECK_EQ_INT(swerl_wait_exit(rt, server, 10, &reason), 0);
    CHECK_EQ_INT(reason, SWERL_REASON_NOPROC);
    swerl_runtime_free(rt);
    mbox_destroy(&g_done);
}

static void t_send_after_named(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid first, second;
    swerl_ref ref = 0, dropped = 0, cancelled = 0;
    uint32_t left = 0;
    swerl_stats before, after;
    if (!CHECK(rt != NULL)) return;
    CHECK_EQ_INT(swerl_send_after_named(rt, "", 10, "x", 1, &ref), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send_after_named(rt, "target", SWERL_INFINITY, "x", 1, &ref), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send_after_named(rt, "target", 10, "x", 1, NULL), SWERL_EINVAL);
    /* Armed before anyone has the name: looked up at expiry. */
    CHECK_EQ_INT(swerl_send_after_named(rt, "target", 50, "x", 1, &ref), 0);
    first = spawn_one(rt, &b_count);
    CHECK_EQ_INT(swerl_register(rt, "target", first), 0);
    CHECK_WAIT(AT_LOAD(&g_messages) == 1);
    /* Not cancelled by the exit of the process that had the name: a new
       holder of the name gets it. */
    CHECK_EQ_INT(swerl_send_after_named(rt, "target", 100, "y", 1, &ref), 0);
    CHECK_EQ_INT(swerl_exit(rt, first, SWERL_REASON_KILL, NULL, 0), 0);
    CHECK_WAIT(swerl_whereis(rt, "target", &second) == SWERL_ENONAME);
    second = spawn_one(rt, &b_count);
    CHECK_EQ_INT(swerl_register(rt, "target", second), 0);
    CHECK_WAIT(AT_LOAD(&g_messages) == 2);
    /* Nobody has the name at expiry: dropped silently. */
    CHECK_EQ_INT(swerl_unregister(rt, "target"), 0);
    before = check_stats(rt);
    CHECK_EQ_INT(swerl_send_after_named(rt, "target", 1, "z", 1, &dropped), 0);
    CHECK_EQ_INT(swerl_send_after_named(rt, "target", 60000, "z", 1, &cancelled), 0);
    CHECK_EQ_INT(swerl_cancel_timer(rt, cancelled, &left), 0);
    CHECK(left > 50000);
    CHECK_WAIT(swerl_cancel_timer(rt, dropped, NULL) == SWERL_EREF);   /* it fired */
    after = check_stats(rt);
    CHECK_EQ_INT(AT_LOAD(&g_messages), 2);
    CHECK_EQ_U64(after.messages_sent, before.messages_sent);
    swerl_runtime_free(rt);
}

/* swerl_call to a server that dies: EEXITED, and the detail says why. */
static void t_call_exit_detail(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid server;
    swerl_buffer reply;
    char text[SWERL_PID_FORMAT_MAX];
    if (!CHECK(rt != NULL)) return;
    server = spawn_one(rt, &b_server);
    reply.data = NULL;
    reply.len = 0;
    CHECK_EQ_INT(swerl_call(rt, server, "die", 3, 5000, &reply), SWERL_EEXITED);
    CHECK(reply.data == NULL && reply.len == 0);
    swerl_pid_format(server, text, sizeof text);
    CHECK_MSG(strstr(swerl_last_error_detail(), text) && strstr(swerl_last_error_detail(), "ERROR")
              && strstr(swerl_last_error_detail(), "died during the call"),
              "swerl_call says why the server died: %s", swerl_last_error_detail());
    swerl_runtime_free(rt);
}

/* A reply to a caller that gave up is refused and counted as a dead letter. */
static void t_reply_to_departed(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid server;
    swerl_ref ref = 0;
    swerl_buffer reply;
    check_event e;
    swerl_stats before, after;
    if (!CHECK(rt != NULL)) return;
    mbox_init(&g_done);
    server = spawn_one(rt, &b_server);
    reply.data = NULL;
    reply.len = 0;
    CHECK_EQ_INT(swerl_call(rt, server, "hold", 4, 20, &reply), SWERL_ETIMEDOUT);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 3, &e, CHECK_WAIT_MS))) ref = e.ref;
    before = check_stats(rt);
    CHECK_EQ_INT(swerl_reply(rt, ref, "late", 4), SWERL_EREF);
    after = check_stats(rt);
    CHECK_EQ_U64(after.dead_letters, before.dead_letters + 1);
    swerl_runtime_free(rt);
    mbox_destroy(&g_done);
}

/* Each ref kind is only for its own functions (fuzzer findings 7, 10):
   swerl_reply does not settle an exit watch, swerl_cancel_notify does not
   stop a swerl_call or a swerl_call_async. */
static void *call_on_thread(void *arg)
{
    swerl_runtime *rt = (swerl_runtime *)((void **)arg)[0];
    swerl_pid server = *(swerl_pid *)((void **)arg)[1];
    swerl_buffer reply;
    check_event e;
    reply.data = NULL;
    reply.len = 0;
    memset(&e, 0, sizeof e);
    e.type = EV_NOTE;
    e.op = 5;
    e.rc = swerl_call(rt, server, "hold", 4, SWERL_INFINITY, &reply);
    check_event_set_data(&e, reply.data, reply.len);
    swerl_buffer_free(&reply);
    mbox_post(&g_done, &e);
    return NULL;
}

static void t_refs_of_their_kind(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid server, watched;
    swerl_ref watch = 0;
    pthread_t caller;
    void *args[2];
    check_event e;
    if (!CHECK(rt != NULL)) return;
    mbox_init(&g_done);
    server = spawn_one(rt, &b_server);
    watched = spawn_one(rt, &b_server);
    CHECK_EQ_INT(swerl_watch_exit(rt, watched, on_exit_watch, (void *)7, &watch), 0);
    CHECK_EQ_INT(swerl_reply(rt, watch, "x", 1), SWERL_EREF);
    CHECK_EQ_INT(mbox_count(&g_done, EV_NOTE, 2), 0);            /* the watch did not fire */
    /* A blocked swerl_call cannot be cancelled by its ref: its server
       answers it as usual. */
    args[0] = rt;
    args[1] = &server;
    pthread_create(&caller, NULL, call_on_thread, args);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 3, &e, CHECK_WAIT_MS))) {
        CHECK_EQ_INT(swerl_cancel_notify(rt, e.ref), SWERL_EREF);
        CHECK_EQ_INT(swerl_reply(rt, e.ref, "answered", 8), 0);
    }
    if (CHECK(mbox_take(&g_done, EV_NOTE, 5, &e, CHECK_WAIT_MS))) {
        CHECK_EQ_INT(e.rc, 0);
        CHECK_MEM(e.data, e.len, "answered", 8);
    }
    pthread_join(caller, NULL);
    /* The watch still reports the real exit. */
    CHECK_EQ_INT(swerl_send(rt, watched, "exit", 4), 0);
    if (CHECK(mbox_take(&g_done, EV_NOTE, 2, &e, CHECK_WAIT_MS))) CHECK_EQ_INT(e.reason, SWERL_REASON_USER + 9);
    swerl_runtime_free(rt);
    mbox_destroy(&g_done);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("swerl_call_notify and swerl_cancel_notify", t_call_notify, 60);
    check_section("swerl_watch_exit", t_watch_exit, 60);
    check_section("swerl_wait_exit", t_wait_exit, 60);
    check_section("swerl_send_after_named: the name is looked up at expiry (OTP-35)", t_send_after_named, 60);
    check_section("swerl_call: EEXITED says why", t_call_exit_detail, 60);
    check_section("a reply to a departed caller is a dead letter", t_reply_to_departed, 60);
    check_section("refs only for their own functions (fuzzer findings 7, 10)", t_refs_of_their_kind, 60);
    return check_summary();
}
