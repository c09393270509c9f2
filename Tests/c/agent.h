/*
 * agent.h — a scriptable Swerl process for the C tests.
 *
 * An agent is a process whose behaviour main drives with command messages
 * (sent from main, so `from` is 0, and ordered per OTP-7). Each command runs
 * inside the agent's handler, with its ctx: link, monitor, trap_exit,
 * send, exit, spawn, call_async, reply, fail... and its result comes back to
 * main as an EV_RESULT event in the agent's own check_mailbox. Every other
 * message the agent accepts becomes an EV_MSG event (every field copied);
 * skipped offers become EV_SKIP; init and terminate post EV_INIT and
 * EV_TERMINATE. Main takes events with mbox_take / agent_take.
 *
 * Include check.h first.
 */
#ifndef SWERL_TEST_AGENT_H
#define SWERL_TEST_AGENT_H

#include "check.h"

#define AGENT_MAGIC "SWRLCMD"  /* 8 bytes with the NUL */

enum {
    OP_PING = 1,         /* rc 0 */
    OP_SELF,             /* u1 = swerl_self, u2 = swerl_ctx_runtime(ctx) != NULL */
    OP_SEND,             /* rc = swerl_send(rt, p1, data) */
    OP_SEND_NAMED,       /* rc = swerl_send_named(rt, name = data, "named", 5) */
    OP_EXIT,             /* rc = swerl_exit(rt, p1, i1, data) */
    OP_LINK,             /* rc = swerl_link(ctx, p1) */
    OP_UNLINK,           /* rc = swerl_unlink(ctx, p1) */
    OP_TRAP,             /* rc = swerl_trap_exit(ctx, i1) */
    OP_MONITOR,          /* rc = swerl_monitor(ctx, p1, i1 ? NULL : &ref); u1 = ref */
    OP_DEMONITOR,        /* rc = swerl_demonitor(ctx, p1, u1) */
    OP_STOP,             /* rc = swerl_fail(ctx, i1, data) unless i2; then SWERL_STOP */
    OP_CRASH,            /* rc = swerl_fail(...) unless i2; then return i1 < 0 ? i1 : -1 ... see code */
    OP_FAIL,             /* rc = swerl_fail(ctx, i1, data, u1 ? u1 : dlen); then CONTINUE */
    OP_SPAWN,            /* child agent p2, flags u1, name = data; rc, u1 = pid, u2 = monitor ref */
    OP_CALL_ASYNC,       /* rc = swerl_call_async(ctx, p1, data, u1 timeout, i1 ? NULL : &ref); u1 = ref */
    OP_REPLY,            /* rc = swerl_reply(rt, p1, data) */
    OP_RECV_TIMEOUT,     /* rc = swerl_receive_timeout(ctx, u1) [then (ctx, p1) if i1] */
    OP_SET_SKIP,         /* skip MESSAGEs starting with byte i1 (0: none) and kinds in mask u1 */
    OP_SAVE_CTX,         /* remember this callback's ctx in the agent */
    OP_PROBE_CTX,        /* run ctx_probe on agent p2's saved ctx here; data = int64 values */
    OP_CALL_SYNC,        /* rc = swerl_call(rt, p1, ...) (EINPROC inside a callback) */
    OP_RT_STOP,          /* rc = swerl_runtime_stop(rt, 0) (EINPROC inside a callback) */
    OP_RT_FREE,          /* swerl_runtime_free(rt) (ignored inside a callback) */
    OP_CALL_MODE,        /* set the agent's call mode to i1 */
    OP_BLOCK,            /* only block (see block_after) */
    OP_SEND_BIG,         /* rc = swerl_send(rt, p1, buf, u1) with a buffer of u1 bytes */
    OP_SEND_AFTER,       /* rc = swerl_send_after(rt, p1, u1 ms, data, &ref); u1 = ref */
    OP_FN                /* rc = ((agent_fn)p2)(ctx, agent, cmd): anything, inside a callback */
};

/* What an agent does with a CALL message. */
enum {
    CALL_ECHO = 0,       /* reply with the request at once (u1 of the event: reply rc) */
    CALL_DEFER,          /* post it; main answers later */
    CALL_CRASH,          /* swerl_fail(ctx, call_reason, "crash-detail") and return -1 */
    CALL_STOP            /* stop NORMAL without replying */
};

typedef struct agent_cmd {
    char magic[8];
    int32_t op, i1, i2, block_after;   /* block_after: after posting, wait for agent_release */
    uint64_t p1, p2, u1;
    uint32_t dlen, pad;
    unsigned char data[CHECK_EVENT_DATA];
} agent_cmd;

struct agent;
struct agent_cmd;
typedef int (*agent_fn)(swerl_ctx *ctx, struct agent *a, const struct agent_cmd *c);

typedef struct agent {
    const char *label;
    check_mailbox mb;
    swerl_runtime *rt;        /* set by agent_new */
    swerl_pid pid;            /* set by whoever spawned it (main or OP_SPAWN), read by main */
    /* configuration, written before spawn */
    int init_rc;              /* init returns this */
    int32_t init_fail_reason; /* if nonzero: swerl_fail(ctx, reason, init_fail_detail) in init */
    const char *init_fail_detail;
    int init_trap;            /* swerl_trap_exit(ctx, 1) in init */
    int init_block;           /* after posting EV_INIT, wait for agent_release */
    int init_send_self_to_pid;/* nonzero: init sends "hello" to init_send_to */
    swerl_pid init_send_to;
    int stop_on_exit;         /* on an EXIT message: swerl_fail(reason, detail), STOP */
    int call_mode;            /* CALL_* */
    int32_t call_reason;      /* CALL_CRASH: the reason */
    const char *probe_name;   /* on EXIT / DOWN: whereis(probe_name) -> u1 rc, u2 pid */
    /* handler-only state */
    int skip_byte;
    uint32_t skip_kinds;      /* bit (1u << kind) */
    swerl_ctx *saved_ctx;
    /* shared with main */
    int released, consumed;   /* the gate (atomics) */
    unsigned block_limit_ms;  /* safety: a blocked handler gives up after this */
    int gate_timeouts;        /* atomic: how often the safety fired */
    int init_state_was_arg;   /* atomic: *state == arg at init */
    int freed;                /* atomic: arg_free calls (supervisor tests) */
} agent;

static inline agent *agent_new(swerl_runtime *rt, const char *label)
{
    agent *a = (agent *)calloc(1, sizeof *a);
    if (!a) abort();
    a->label = label;
    a->rt = rt;
    a->block_limit_ms = 30000;
    mbox_init(&a->mb);
    return a;
}

/* Free an agent: only after its runtime is freed (no callback can run). */
static inline void agent_free(agent *a)
{
    if (!a) return;
    mbox_destroy(&a->mb);
    free(a);
}

static inline void agent_release(agent *a) { AT_ADD(&a->released, 1); }

static inline void agent_block_(agent *a)
{
    double dl = check_now_ms() + (double)a->block_limit_ms;
    int want = AT_LOAD(&a->consumed) + 1;
    while (AT_LOAD(&a->released) < want) {
        if (check_now_ms() > dl) { AT_ADD(&a->gate_timeouts, 1); break; }
        check_sleep_ms(1);
    }
    AT_STORE(&a->consumed, want);
}

static inline void agent_post(agent *a, swerl_ctx *ctx, check_event *e)
{
    e->self = swerl_self(ctx);
    mbox_post(&a->mb, e);
}

/* Probe every ctx function on `c` (a ctx that is not valid where this runs).
   Values: self, ctx_runtime != NULL, fail, receive_timeout, link, unlink,
   trap_exit, monitor, demonitor, call_async. Expected: 0, 0, then ECTX x 8. */
#define CTX_PROBE_N 10
static inline void ctx_probe(swerl_ctx *c, swerl_pid target, int64_t v[CTX_PROBE_N])
{
    swerl_ref ref = 0;
    v[0] = (int64_t)swerl_self(c);
    v[1] = swerl_ctx_runtime(c) != NULL;
    v[2] = swerl_fail(c, SWERL_REASON_USER, "x", 1);
    v[3] = swerl_receive_timeout(c, 10);
    v[4] = swerl_link(c, target);
    v[5] = swerl_unlink(c, target);
    v[6] = swerl_trap_exit(c, 1);
    v[7] = swerl_monitor(c, target, &ref);
    v[8] = swerl_demonitor(c, 1, 0);
    v[9] = swerl_call_async(c, target, "q", 1, 1000, &ref);
}

static inline void ctx_probe_check_(const int64_t v[CTX_PROBE_N], const char *where,
                                    const char *file, int line)
{
    int i;
    CHECK_MSG(v[0] == 0, "%s:%d %s: swerl_self(stale ctx) = %lld, expected 0", file, line, where,
              (long long)v[0]);
    CHECK_MSG(v[1] == 0, "%s:%d %s: swerl_ctx_runtime(stale ctx) != NULL", file, line, where);
    for (i = 2; i < CTX_PROBE_N; i++) {
        static const char *const names[CTX_PROBE_N] = {
            "self", "ctx_runtime", "fail", "receive_timeout", "link", "unlink",
            "trap_exit", "monitor", "demonitor", "call_async"};
        CHECK_MSG(v[i] == SWERL_ECTX, "%s:%d %s: swerl_%s(stale ctx) = %lld (%s), expected ECTX",
                  file, line, where, names[i], (long long)v[i], swerl_err_name((int)v[i]));
    }
}
#define CTX_PROBE_CHECK(v, where) ctx_probe_check_((v), (where), __FILE__, __LINE__)

static int agent_init(swerl_ctx *ctx, void *arg, void **state);
static int agent_handle(swerl_ctx *ctx, const swerl_message *m, void *state);
static void agent_terminate(swerl_ctx *ctx, int32_t reason, void *state);

static inline swerl_behavior agent_behavior(void)
{
    swerl_behavior b;
    memset(&b, 0, sizeof b);
    b.size = (uint32_t)sizeof b;
    b.init = agent_init;
    b.handle = agent_handle;
    b.terminate = agent_terminate;
    return b;
}

static int agent_init(swerl_ctx *ctx, void *arg, void **state)
{
    agent *a = (agent *)arg;
    check_event e;
    AT_STORE(&a->init_state_was_arg, *state == arg ? 1 : 0);
    *state = a;
    memset(&e, 0, sizeof e);
    e.type = EV_INIT;
    e.u1 = (uint64_t)(uintptr_t)arg;
    e.u2 = swerl_ctx_runtime(ctx) == a->rt;
    if (a->init_trap) e.rc = swerl_trap_exit(ctx, 1);
    if (a->init_send_self_to_pid)
        e.u3 = (uint64_t)(int64_t)swerl_send(swerl_ctx_runtime(ctx), a->init_send_to, "hello", 5);
    if (a->init_fail_reason)
        e.reason = swerl_fail(ctx, a->init_fail_reason, a->init_fail_detail,
                              a->init_fail_detail ? strlen(a->init_fail_detail) : 0);
    agent_post(a, ctx, &e);
    if (a->init_block) agent_block_(a);
    return a->init_rc;
}

static void agent_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    agent *a = (agent *)state;
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = EV_TERMINATE;
    e.reason = reason;
    agent_post(a, ctx, &e);
}

static inline int agent_is_cmd_(const swerl_message *m)
{
    return m->kind == SWERL_MESSAGE && m->from == 0 && m->ref == 0 &&
           m->len == sizeof(agent_cmd) && m->data &&
           memcmp(m->data, AGENT_MAGIC, 8) == 0;
}

static int agent_exec_(swerl_ctx *ctx, agent *a, const agent_cmd *c)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    check_event e;
    int ret = SWERL_CONTINUE;
    swerl_ref ref = 0;
    memset(&e, 0, sizeof e);
    e.type = EV_RESULT;
    e.op = c->op;
    switch (c->op) {
    case OP_PING:
    case OP_BLOCK:
        break;
    case OP_SELF:
        e.u1 = swerl_self(ctx);
        e.u2 = rt != NULL && rt == a->rt;
        break;
    case OP_SEND:
        e.rc = swerl_send(rt, c->p1, c->dlen ? c->data : NULL, c->dlen);
        break;
    case OP_SEND_NAMED: {
        char name[CHECK_EVENT_DATA + 1];
        memcpy(name, c->data, c->dlen);
        name[c->dlen] = 0;
        e.rc = swerl_send_named(rt, name, "named", 5);
        break;
    }
    case OP_EXIT:
        e.rc = swerl_exit(rt, c->p1, c->i1, c->dlen ? c->data : NULL, c->dlen);
        break;
    case OP_LINK:
        e.rc = swerl_link(ctx, c->p1);
        break;
    case OP_UNLINK:
        e.rc = swerl_unlink(ctx, c->p1);
        break;
    case OP_TRAP:
        e.rc = swerl_trap_exit(ctx, c->i1);
        break;
    case OP_MONITOR:
        e.rc = swerl_monitor(ctx, c->p1, c->i1 ? NULL : &ref);
        e.u1 = ref;
        break;
    case OP_DEMONITOR:
        e.rc = swerl_demonitor(ctx, c->p1, (uint32_t)c->u1);
        break;
    case OP_STOP:
        if (!c->i2) e.rc = swerl_fail(ctx, c->i1, c->dlen ? c->data : NULL, c->dlen);
        ret = SWERL_STOP;
        break;
    case OP_CRASH:
        /* i2 == 0: swerl_fail(i1, data) then return -1; else return i2 (< 0) alone */
        if (!c->i2) e.rc = swerl_fail(ctx, c->i1, c->dlen ? c->data : NULL, c->dlen);
        ret = c->i2 ? c->i2 : -1;
        break;
    case OP_FAIL:
        e.rc = swerl_fail(ctx, c->i1, c->i2 ? NULL : c->data, c->u1 ? (size_t)c->u1 : c->dlen);
        break;
    case OP_SPAWN: {
        agent *child = (agent *)(uintptr_t)c->p2;
        swerl_behavior b = agent_behavior();
        swerl_spawn_opts o;
        swerl_pid pid = 0;
        char name[CHECK_EVENT_DATA + 1];
        swerl_spawn_opts_init(&o);
        o.flags = (uint32_t)c->u1;
        if (c->dlen) {
            memcpy(name, c->data, c->dlen);
            name[c->dlen] = 0;
            o.name = name;
        }
        if ((o.flags & SWERL_SPAWN_MONITOR) && !c->i1) o.monitor_ref = &ref;
        e.rc = swerl_spawn(rt, &b, child, &o, &pid);
        if (e.rc == 0) child->pid = pid;
        e.u1 = pid;
        e.u2 = ref;
        break;
    }
    case OP_CALL_ASYNC:
        e.rc = swerl_call_async(ctx, c->p1, c->dlen ? c->data : NULL, c->dlen, (uint32_t)c->u1,
                                c->i1 ? NULL : &ref);
        e.u1 = ref;
        break;
    case OP_REPLY:
        e.rc = swerl_reply(rt, c->p1, c->dlen ? c->data : NULL, c->dlen);
        break;
    case OP_RECV_TIMEOUT:
        e.rc = swerl_receive_timeout(ctx, (uint32_t)c->u1);
        if (c->i1) e.u1 = (uint64_t)(int64_t)swerl_receive_timeout(ctx, (uint32_t)c->p1);
        break;
    case OP_SET_SKIP:
        a->skip_byte = c->i1;
        a->skip_kinds = (uint32_t)c->u1;
        break;
    case OP_SAVE_CTX:
        a->saved_ctx = ctx;
        break;
    case OP_PROBE_CTX: {
        agent *src = (agent *)(uintptr_t)c->p2;
        int64_t v[CTX_PROBE_N];
        ctx_probe(src->saved_ctx, c->p1, v);
        check_event_set_data(&e, v, sizeof v);
        /* and this callback's own ctx still works */
        e.u1 = swerl_self(ctx);
        break;
    }
    case OP_CALL_SYNC: {
        swerl_buffer buf;
        buf.data = NULL;
        buf.len = 0;
        e.rc = swerl_call(rt, c->p1, "sync", 4, 100, &buf);
        swerl_buffer_free(&buf);
        break;
    }
    case OP_RT_STOP:
        e.rc = swerl_runtime_stop(rt, 0);
        break;
    case OP_RT_FREE:
        swerl_runtime_free(rt);
        break;
    case OP_CALL_MODE:
        a->call_mode = c->i1;
        break;
    case OP_SEND_BIG: {
        void *buf = calloc(1, (size_t)c->u1 ? (size_t)c->u1 : 1);
        e.rc = swerl_send(rt, c->p1, buf, (size_t)c->u1);
        free(buf);
        break;
    }
    case OP_FN:
        e.rc = ((agent_fn)(uintptr_t)c->p2)(ctx, a, c);
        break;
    case OP_SEND_AFTER:
        e.rc = swerl_send_after(rt, c->p1, (uint32_t)c->u1, c->dlen ? c->data : NULL, c->dlen,
                                &ref);
        e.u1 = ref;
        break;
    default:
        e.rc = -1000;
        break;
    }
    agent_post(a, ctx, &e);
    if (c->block_after) agent_block_(a);
    return ret;
}

static int agent_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    agent *a = (agent *)state;
    check_event e;
    if (agent_is_cmd_(m)) {
        agent_cmd c;
        memcpy(&c, m->data, sizeof c);
        return agent_exec_(ctx, a, &c);
    }
    memset(&e, 0, sizeof e);
    e.kind = m->kind;
    e.reason = m->reason;
    e.from = m->from;
    e.ref = m->ref;
    check_event_set_data(&e, m->data, m->len);
    if ((a->skip_kinds & (1u << m->kind)) ||
        (a->skip_byte && m->kind == SWERL_MESSAGE && m->len > 0 && m->data &&
         ((const unsigned char *)m->data)[0] == (unsigned char)a->skip_byte)) {
        e.type = EV_SKIP;
        agent_post(a, ctx, &e);
        return SWERL_SKIP;
    }
    e.type = EV_MSG;
    if ((m->kind == SWERL_EXIT || m->kind == SWERL_DOWN) && a->probe_name) {
        swerl_pid p = 12345;
        e.u1 = (uint64_t)(int64_t)swerl_whereis(swerl_ctx_runtime(ctx), a->probe_name, &p);
        e.u2 = p;
    }
    if (m->kind == SWERL_CALL) {
        switch (a->call_mode) {
        case CALL_ECHO:
            e.u1 = (uint64_t)(int64_t)swerl_reply(swerl_ctx_runtime(ctx), m->ref, m->data, m->len);
            agent_post(a, ctx, &e);
            return SWERL_CONTINUE;
        case CALL_CRASH:
            e.u1 = (uint64_t)(int64_t)swerl_fail(ctx, a->call_reason, "crash-detail", 12);
            agent_post(a, ctx, &e);
            return -1;
        case CALL_STOP:
            agent_post(a, ctx, &e);
            return SWERL_STOP;
        default:
            agent_post(a, ctx, &e);
            return SWERL_CONTINUE;
        }
    }
    agent_post(a, ctx, &e);
    if (m->kind == SWERL_EXIT && a->stop_on_exit) {
        swerl_fail(ctx, m->reason, m->data, m->len);
        return SWERL_STOP;
    }
    return SWERL_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* Main's side                                                               */
/* ------------------------------------------------------------------------ */

static inline agent_cmd cmd_new(int op)
{
    agent_cmd c;
    memset(&c, 0, sizeof c);
    memcpy(c.magic, AGENT_MAGIC, 8);
    c.op = op;
    return c;
}

static inline void cmd_data(agent_cmd *c, const void *data, size_t len)
{
    if (len > CHECK_EVENT_DATA) abort();
    if (len) memcpy(c->data, data, len);
    c->dlen = (uint32_t)len;
}

static inline void cmd_str(agent_cmd *c, const char *s) { cmd_data(c, s, strlen(s)); }

/* Spawn an agent from main (opts may be NULL); sets a->pid. */
static inline int agent_spawn(agent *a, const swerl_spawn_opts *opts)
{
    swerl_behavior b = agent_behavior();
    swerl_pid pid = 0;
    int rc = swerl_spawn(a->rt, &b, a, opts, &pid);
    if (rc == 0) a->pid = pid;
    return rc;
}

/* Take the next event matching m; a timeout is a failure (returns 0, *e zeroed). */
#define agent_take(a, m, e) agent_take_((a), (m), (e), __FILE__, __LINE__)
static inline int agent_take_(agent *a, ev_match m, check_event *e, const char *file, int line)
{
    if (mbox_take_m(&a->mb, m, e, CHECK_WAIT_MS)) { check_pass_(); return 1; }
    check_fail_(file, line, "agent %s: no event (type %d, sub %d) within %u ms", a->label,
                m.type, m.sub, CHECK_WAIT_MS);
    return 0;
}

/* Send a command; wait for its result; return it (rc -999 if no result). */
#define agent_do(a, c) agent_do_((a), (c), __FILE__, __LINE__)
static inline check_event agent_do_(agent *a, agent_cmd c, const char *file, int line)
{
    check_event e;
    int rc = swerl_send(a->rt, a->pid, &c, sizeof c);
    memset(&e, 0, sizeof e);
    if (rc != 0) {
        check_fail_(file, line, "agent %s: sending command %d failed: %s", a->label, c.op,
                    swerl_err_name(rc));
        e.rc = -999;
        return e;
    }
    if (!mbox_take_m(&a->mb, em(EV_RESULT, c.op), &e, CHECK_WAIT_MS)) {
        check_fail_(file, line, "agent %s: no result for command %d within %u ms", a->label,
                    c.op, CHECK_WAIT_MS);
        e.rc = -999;
    }
    return e;
}

/* Send a command without waiting for its result. */
static inline int agent_send_cmd(agent *a, agent_cmd c)
{
    return swerl_send(a->rt, a->pid, &c, sizeof c);
}

#define agent_ping(a) (agent_do((a), cmd_new(OP_PING)).rc)

static inline agent_cmd cmd_p(int op, uint64_t p1)
{
    agent_cmd c = cmd_new(op);
    c.p1 = p1;
    return c;
}

static inline agent_cmd cmd_i(int op, int32_t i1)
{
    agent_cmd c = cmd_new(op);
    c.i1 = i1;
    return c;
}

static inline agent_cmd cmd_send(swerl_pid to, const char *s)
{
    agent_cmd c = cmd_p(OP_SEND, to);
    cmd_str(&c, s);
    return c;
}

static inline agent_cmd cmd_exit(swerl_pid to, int32_t reason, const char *detail)
{
    agent_cmd c = cmd_p(OP_EXIT, to);
    c.i1 = reason;
    if (detail) cmd_str(&c, detail);
    return c;
}

static inline agent_cmd cmd_stop(int32_t reason, const char *detail)
{
    agent_cmd c = cmd_i(OP_STOP, reason);
    if (detail) cmd_str(&c, detail);
    return c;
}

static inline agent_cmd cmd_demonitor(swerl_ref ref, uint32_t flags)
{
    agent_cmd c = cmd_p(OP_DEMONITOR, ref);
    c.u1 = flags;
    return c;
}

static inline agent_cmd cmd_spawn(agent *child, uint32_t flags)
{
    agent_cmd c = cmd_new(OP_SPAWN);
    c.p2 = (uint64_t)(uintptr_t)child;
    c.u1 = flags;
    return c;
}

/* Monitor `pid` from watcher w; returns the ref (0 on failure). */
#define agent_monitor(w, pid) agent_monitor_((w), (pid), __FILE__, __LINE__)
static inline swerl_ref agent_monitor_(agent *w, swerl_pid pid, const char *file, int line)
{
    check_event e = agent_do_(w, cmd_p(OP_MONITOR, pid), file, line);
    if (e.rc != 0) check_fail_(file, line, "swerl_monitor gave %s", swerl_err_name(e.rc));
    return e.u1;
}

/* Wait for the DOWN of `ref` at watcher w; returns its event. */
#define agent_down(w, ref, e) agent_take((w), em_ref(EV_MSG, SWERL_DOWN, (ref)), (e))

/* One field of swerl_process_info, or 0xDEAD when the call fails. Tests
   define info_field(p, w) as info_field_rt(their runtime, p, w).
   swerl_process_info is "a snapshot read without stopping the process": for
   links, monitors, monitored_by and trap_exit (which = 0..3) this first
   waits (at most CHECK_WAIT_MS) until the process is WAITING, so the
   snapshot is not older than its last callback. */
static inline uint32_t info_field_rt(swerl_runtime *rt, swerl_pid pid, int which)
{
    swerl_process_info in;
    memset(&in, 0, sizeof in);
    in.size = (uint32_t)sizeof in;
    if (which <= 3) {
        WAIT_UNTIL(swerl_process_get_info(rt, pid, &in) != 0 || in.status == SWERL_STATUS_WAITING);
        memset(&in, 0, sizeof in);
        in.size = (uint32_t)sizeof in;
    }
    if (swerl_process_get_info(rt, pid, &in) != 0) return 0xDEADu;
    switch (which) {
    case 0: return in.links;
    case 1: return in.monitors;
    case 2: return in.monitored_by;
    case 3: return in.trap_exit;
    case 4: return (uint32_t)in.message_queue_len;
    case 5: return in.status;
    default: return 0xDEADu;
    }
}
#define LINKS(p) info_field((p), 0)
#define MONITORS(p) info_field((p), 1)
#define MONITORED_BY(p) info_field((p), 2)
#define TRAPS(p) info_field((p), 3)
#define QLEN(p) info_field((p), 4)
#define STATUS(p) info_field((p), 5)

#endif /* SWERL_TEST_AGENT_H */
