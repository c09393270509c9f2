/*
 * Open finding 10 (Tests/fuzz/README.md): swerl_cancel_notify stops any
 * pending waiter whose ref it is given, not only a swerl_call_notify's or a
 * swerl_watch_exit's: it returns 0 for the ref of a swerl_call_async (whose
 * REPLY then never arrives: swerl.h says "Exactly one REPLY arrives per
 * call") and for the ref of a swerl_call in progress (which a server sees
 * as the CALL's msg->ref): that caller is never woken. With SWERL_INFINITY
 * it blocks for ever, and swerl_runtime_stop, which fails every pending
 * call with ESTOPPED, no longer knows it; so neither stop nor free ends it.
 * (Engine.cancelNotify calls Waiters.abandon, which removes any waiter.)
 * swerl.h: swerl_cancel_notify "Stop[s] a swerl_call_notify or
 * swerl_watch_exit"; EREF when "`ref` is unknown".
 *
 * Expected: EREF for both refs; the caller returns (ESTOPPED at the stop).
 * Seen: 0 for both; the swerl_call(SWERL_INFINITY) caller is still blocked
 * after swerl_runtime_stop returned (the watchdog reports it).
 *
 *   cc -std=c99 -pthread -I include Tests/fuzz/open-findings/finding-10-cancel-notify-any-ref.c -L build/lib -lswerl \
 *      -Wl,-rpath,build/lib -o /tmp/finding-10 && /tmp/finding-10
 *
 * The fuzzer's input for the call_async case: finding-10-cancel-notify-any-ref.input
 * (SWERL_FUZZ_OPEN=1 build/fuzz/swerl_fuzz Tests/fuzz/open-findings/finding-10-cancel-notify-any-ref.input).
 */
#define _GNU_SOURCE 1
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <swerl.h>

static swerl_runtime *g_rt;
static swerl_ref g_held;            /* the CALL's ref the server keeps (atomic) */
static int g_call_rc = 1;           /* the blocked caller's result (atomic); 1: not returned */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A server that never answers: it keeps the CALL's ref. */
static int server(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)state;
    if (m->kind == SWERL_CALL) __atomic_store_n(&g_held, m->ref, __ATOMIC_SEQ_CST);
    return SWERL_CONTINUE;
}

/* A process that calls the server with swerl_call_async and reports its ref. */
static swerl_ref g_async_ref;
static int g_replies;
static int async_caller(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    swerl_pid to;
    swerl_ref ref = 0;
    (void)state;
    if (m->kind == SWERL_MESSAGE && m->len == sizeof to) {
        memcpy(&to, m->data, sizeof to);
        if (swerl_call_async(ctx, to, "q", 1, SWERL_INFINITY, &ref) == 0)
            __atomic_store_n(&g_async_ref, ref, __ATOMIC_SEQ_CST);
    } else if (m->kind == SWERL_REPLY) {
        __atomic_add_fetch(&g_replies, 1, __ATOMIC_SEQ_CST);
    }
    return SWERL_CONTINUE;
}

static const swerl_behavior b_server = {sizeof(swerl_behavior), NULL, server, NULL};
static const swerl_behavior b_async = {sizeof(swerl_behavior), NULL, async_caller, NULL};

static void *blocked_caller(void *arg)
{
    swerl_buffer reply = {NULL, 0};
    int rc = swerl_call(g_rt, *(swerl_pid *)arg, "q", 1, SWERL_INFINITY, &reply);
    swerl_buffer_free(&reply);
    __atomic_store_n(&g_call_rc, rc, __ATOMIC_SEQ_CST);
    return NULL;
}

int main(void)
{
    swerl_pid srv, caller;
    swerl_ref ref;
    pthread_t thread;
    int rc_async, rc_call, rc_stop, i, bad = 0;
    if (swerl_runtime_start(NULL, &g_rt) != 0) return 2;
    if (swerl_spawn(g_rt, &b_server, NULL, NULL, &srv) != 0 ||
        swerl_spawn(g_rt, &b_async, NULL, NULL, &caller) != 0) return 2;

    /* 1. A swerl_call_async's ref. */
    swerl_send(g_rt, caller, &srv, sizeof srv);
    for (i = 0; i < 1000 && !(ref = __atomic_load_n(&g_async_ref, __ATOMIC_SEQ_CST)); i++) sleep_ms(1);
    rc_async = swerl_cancel_notify(g_rt, ref);
    printf("swerl_cancel_notify(a swerl_call_async's ref) = %d (%s)\n", rc_async, swerl_err_name(rc_async));
    bad |= rc_async == 0;

    /* 2. The ref of a swerl_call in progress, as its server sees it. */
    __atomic_store_n(&g_held, (swerl_ref)0, __ATOMIC_SEQ_CST);
    pthread_create(&thread, NULL, blocked_caller, &srv);
    for (i = 0; i < 1000 && !(ref = __atomic_load_n(&g_held, __ATOMIC_SEQ_CST)); i++) sleep_ms(1);
    rc_call = swerl_cancel_notify(g_rt, ref);
    printf("swerl_cancel_notify(a swerl_call's ref) = %d (%s)\n", rc_call, swerl_err_name(rc_call));
    bad |= rc_call == 0;

    rc_stop = swerl_runtime_stop(g_rt, 1000);
    for (i = 0; i < 2000 && __atomic_load_n(&g_call_rc, __ATOMIC_SEQ_CST) == 1; i++) sleep_ms(1);
    if (__atomic_load_n(&g_call_rc, __ATOMIC_SEQ_CST) == 1) {
        printf("swerl_runtime_stop = %d; the swerl_call(SWERL_INFINITY) caller is still blocked 2 s later\n", rc_stop);
        printf("BUG: swerl_cancel_notify cancelled waiters that are not its own\n");
        return 1;                   /* the caller stays blocked: do not join it, do not free */
    }
    pthread_join(thread, NULL);
    printf("swerl_call returned %d (%s); REPLY messages: %d\n", g_call_rc, swerl_err_name(g_call_rc),
           __atomic_load_n(&g_replies, __ATOMIC_SEQ_CST));
    swerl_runtime_free(g_rt);
    printf("%s\n", bad ? "BUG: swerl_cancel_notify cancelled waiters that are not its own" : "ok");
    return bad;
}
