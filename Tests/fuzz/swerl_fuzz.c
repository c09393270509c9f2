/*
 * swerl_fuzz.c — a libFuzzer harness for the C ABI (include/swerl.h).
 *
 * Each input is a program: its bytes are decoded into a sequence of swerl_*
 * calls against a runtime of its own (started at the first byte, stopped and
 * freed at the end, so every input is independent and leaks are attributed
 * to it). The calls get valid, exited (stale), never-valid and garbage pids
 * and refs, bad sizes, bad enum values, and NULL wherever the header says
 * NULL is an error (never a garbage non-NULL pointer: the contract does not
 * promise to survive those). Calls that need a process (link, monitor,
 * call_async, ...) are done by the harness's own processes, driven by
 * messages whose bytes name the operation.
 *
 * What it asserts (abort() with a message otherwise): every return code is 0
 * or one the header lists for that function; every arg handed to a
 * supervisor is released exactly once; the thread hooks run in pairs; a ctx
 * used outside its callback is refused. ASan/LSan and libFuzzer add: no
 * crash, no memory error, no leak, no hang (-timeout).
 *
 * Build: Tests/fuzz/run.sh (clang -fsanitize=fuzzer,address against the
 * library from Tests/sanitizers/build-asan-lib.sh). Every wait is bounded:
 * an input finishes in well under a second.
 */
#define _GNU_SOURCE 1

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <swerl.h>

/* ------------------------------------------------------------------------ */
/* The contract's return codes                                               */
/* ------------------------------------------------------------------------ */

/* A set of allowed results: bit 0 is success, bit n is the code -n. */
#define OK_ ((uint64_t)1)
#define E_(name) ((uint64_t)1 << -(SWERL_##name))

static void fail_contract(const char *fn, int rc, const char *why)
{
    fprintf(stderr, "swerl_fuzz: %s returned %d (%s): %s\n", fn, rc, swerl_err_name(rc), why);
    abort();
}

/* SWERL_FUZZ_TRACE=1: print every checked call (to read a reproducer). */
static int g_trace = -1;

static int tracing(void)
{
    if (g_trace < 0) {
        const char *e = getenv("SWERL_FUZZ_TRACE");
        g_trace = e && *e && strcmp(e, "0") != 0;
    }
    return g_trace;
}

/* Abort unless rc is in `allowed`; also checks that the library can name it. */
static int expect(const char *fn, int rc, uint64_t allowed)
{
    if (tracing()) fprintf(stderr, "  %s -> %d %s\n", fn, rc, swerl_err_name(rc));
    if (rc > 0 || rc < -63 || !(allowed & ((uint64_t)1 << -rc)))
        fail_contract(fn, rc, "not a code the header lists for this function");
    if (!swerl_strerror(rc) || !swerl_err_name(rc)) fail_contract(fn, rc, "strerror/err_name gave NULL");
    return rc;
}

#define CHECK_RC(call, allowed) expect(#call, (call), (allowed))

/* Codes shared by the supervisor management calls ("and as above"). */
#define SUP_COMMON (OK_ | E_(EINVAL) | E_(ENOPROC) | E_(ENOTSUPERVISOR) | E_(ESTOPPED) | E_(EINPROC))

/* ------------------------------------------------------------------------ */
/* Input                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct input { const uint8_t *p; size_t n; } input;

static uint8_t in_u8(input *in)
{
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}

static uint32_t in_u32(input *in)
{
    uint32_t v = 0;
    int i;
    for (i = 0; i < 4; i++) v = (v << 8) | in_u8(in);
    return v;
}

static uint64_t in_u64(input *in)
{
    uint64_t hi = in_u32(in);
    return (hi << 32) | in_u32(in);
}

/* ------------------------------------------------------------------------ */
/* State shared with the handlers (reset for each input)                     */
/* ------------------------------------------------------------------------ */

enum { POOL = 32 };

/* Pids and refs seen so far; handlers add theirs too. A pool keeps the last
   POOL values; exited pids stay in it (stale pids). */
typedef struct pool {
    pthread_mutex_t lock;
    uint64_t v[POOL];
    unsigned n, next;
} pool;

static pool g_pids = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};
static pool g_refs = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};
static pool g_sups = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};

static void pool_add(pool *p, uint64_t v)
{
    pthread_mutex_lock(&p->lock);
    p->v[p->next] = v;
    p->next = (p->next + 1) % POOL;
    if (p->n < POOL) p->n++;
    pthread_mutex_unlock(&p->lock);
}

static uint64_t pool_get(pool *p, unsigned i)
{
    uint64_t v = 0;
    pthread_mutex_lock(&p->lock);
    if (p->n > 0) v = p->v[i % p->n];
    pthread_mutex_unlock(&p->lock);
    return v;
}

static void pool_reset(pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->n = p->next = 0;
    pthread_mutex_unlock(&p->lock);
}

static swerl_runtime *g_rt;
static int g_stopped;                   /* main thread only */
static swerl_ctx *g_saved_ctx;          /* atomic: a ctx kept past its callback */
static long g_args_live;                /* atomic: supervisor args not yet released */
static long g_hook_starts, g_hook_stops;

#define AT_LOAD(p)     __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define AT_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define AT_ADD(p, v)   __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)

/* Pid selectors: most pick a known (live or exited) pid, the rest never-valid
   ones: 0, all ones, a nonzero node field, garbage bytes from the input. */
static swerl_pid pick_pid(input *in)
{
    uint8_t s = in_u8(in);
    if (s < 200) return pool_get(&g_pids, s);
    if (s < 210) return 0;
    if (s < 215) return ~(swerl_pid)0;
    if (s < 225) return pool_get(&g_pids, s) ^ ((swerl_pid)1 << 60);
    if (s < 235) return pool_get(&g_pids, s) + 1;
    if (s < 240) return pool_get(&g_sups, s);
    return in_u64(in);
}

static swerl_ref pick_ref(input *in)
{
    uint8_t s = in_u8(in);
    if (s < 200) return pool_get(&g_refs, s);
    if (s < 215) return 0;
    if (s < 230) return pool_get(&g_refs, s) + 1;
    return in_u64(in);
}

static swerl_pid pick_sup(input *in)
{
    uint8_t s = in_u8(in);
    if (s < 192) return pool_get(&g_sups, s);
    return pool_get(&g_pids, s);
}

/* Names: valid ones, the longest valid one, and the invalid ones (empty, too
   long, NULL: EINVAL). */
static char g_name_max[SWERL_NAME_MAX + 1];
static char g_name_long[SWERL_NAME_MAX + 2];
static const char *const g_short_names[] = {"a", "b", "c", "sup", "w"};

static const char *pick_name(uint8_t s)
{
    switch (s % 9) {
    case 5: return "";
    case 6: return g_name_max;
    case 7: return g_name_long;
    case 8: return NULL;
    default: return g_short_names[s % 9];
    }
}

/* ------------------------------------------------------------------------ */
/* The harness's processes                                                   */
/* ------------------------------------------------------------------------ */

/* What a message asks a process to do: op, three small operands, a pid and
   a ref chosen by the main thread. Padding bytes may follow. */
typedef struct op_msg {
    uint8_t op, a, b, c;
    swerl_pid pid;
    swerl_ref ref;
} op_msg;

enum {
    H_CONTINUE, H_STOP, H_SKIP, H_CRASH, H_FAIL, H_LINK, H_UNLINK, H_MONITOR,
    H_DEMONITOR, H_TRAP, H_SPAWN, H_SEND, H_EXIT, H_CALL_ASYNC, H_REPLY,
    H_RECEIVE_TIMEOUT, H_REGISTER, H_SEND_AFTER, H_CANCEL, H_INFO, H_IN_PROC,
    H_SAVE_CTX, H_SELF, H_COUNT
};

/* The arg of a harness process: how its init behaves. Supervisor children
   get a heap copy that arg_free releases (counted: exactly once). */
enum { ARG_MAGIC = 0x5157524cu, ARG_FREED = 0xdeadbeefu };
typedef struct proc_arg { uint32_t magic; uint8_t init_mode; } proc_arg;
static const proc_arg g_static_args[5] = {
    {ARG_MAGIC, 0}, {ARG_MAGIC, 1}, {ARG_MAGIC, 2}, {ARG_MAGIC, 3}, {ARG_MAGIC, 4}
};

static proc_arg *arg_new(uint8_t mode)
{
    proc_arg *a = (proc_arg *)malloc(sizeof *a);
    if (!a) abort();
    a->magic = ARG_MAGIC;
    a->init_mode = mode % 5;
    AT_ADD(&g_args_live, 1);
    return a;
}

static void arg_free(void *p)
{
    proc_arg *a = (proc_arg *)p;
    if (!a || a->magic != ARG_MAGIC) {
        fprintf(stderr, "swerl_fuzz: arg_free got %p, not a live arg\n", p);
        abort();
    }
    a->magic = ARG_FREED;
    AT_ADD(&g_args_live, -1);
    free(a);
}

static int proc_init(swerl_ctx *ctx, void *arg, void **state)
{
    const proc_arg *a = (const proc_arg *)arg;
    (void)state;
    if (!a) return 0;
    if (a->magic != ARG_MAGIC) {
        fprintf(stderr, "swerl_fuzz: init got an arg that was released\n");
        abort();
    }
    switch (a->init_mode) {
    case 1: return SWERL_IGNORE;
    case 2: return 1;
    case 3:
        CHECK_RC(swerl_fail(ctx, SWERL_REASON_USER + 1, "init", 4), OK_);
        return -1;
    case 4: {
        int was = swerl_trap_exit(ctx, 1);             /* 1 when spawned with TRAP_EXIT */
        if (was != 0 && was != 1) fail_contract("swerl_trap_exit", was, "not 0 or 1");
        return 0;
    }
    default: return 0;
    }
}

static void proc_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)reason;
    (void)state;
    if (swerl_self(ctx) == 0) fail_contract("swerl_self", 0, "0 inside terminate");
}

static int proc_handle(swerl_ctx *ctx, const swerl_message *m, void *state);

static const swerl_behavior g_behavior = {sizeof(swerl_behavior), proc_init, proc_handle, proc_terminate};

static uint32_t small_ms(uint8_t v) { return v % 8 == 7 ? SWERL_INFINITY : (uint32_t)(v % 8) * 3; }

/* The allowed results of swerl_spawn. */
#define SPAWN_CODES (OK_ | E_(EINVAL) | E_(ENAMETAKEN) | E_(ELIMIT) | E_(ESTOPPED) | E_(ENOMEM))

/* Do what `o` asks, as the process `ctx`; returns what handle returns. */
static int run_op(swerl_ctx *ctx, const op_msg *o)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    swerl_ref ref;
    static const uint8_t pad[64];
    if (rt != g_rt) fail_contract("swerl_ctx_runtime", 0, "not the runtime of this input");
    if (tracing()) fprintf(stderr, "process %llx: op %u\n", (unsigned long long)swerl_self(ctx), o->op % H_COUNT);
    switch (o->op % H_COUNT) {
    case H_STOP: return SWERL_STOP;
    case H_SKIP: return SWERL_SKIP;
    case H_CRASH: return -1 - (o->a % 3);
    case H_FAIL: {
        int32_t reason = o->a < 7 ? (int32_t)o->a : SWERL_REASON_USER + o->a;
        CHECK_RC(swerl_fail(ctx, reason, o->b % 4 ? pad : NULL, o->b % 20),
                 OK_ | E_(EINVAL) | E_(ETOOBIG));
        return o->c & 1 ? SWERL_STOP : -1;
    }
    case H_LINK: CHECK_RC(swerl_link(ctx, o->pid), OK_ | E_(ENOPROC)); break;
    case H_UNLINK: CHECK_RC(swerl_unlink(ctx, o->pid), OK_); break;
    case H_MONITOR:
        if (CHECK_RC(swerl_monitor(ctx, o->pid, o->a & 1 ? NULL : &ref), OK_ | E_(EINVAL)) == 0)
            pool_add(&g_refs, ref);
        break;
    case H_DEMONITOR: {
        uint32_t flags = o->a % 5 == 4 ? 4u << (o->b % 8) : o->a % 4;
        int rc = swerl_demonitor(ctx, o->ref, flags);
        if (!(flags & SWERL_DEMONITOR_INFO) || rc < 0 || rc > 1) expect("swerl_demonitor", rc, OK_ | E_(EINVAL));
        if (flags > 3 && rc != SWERL_EINVAL) fail_contract("swerl_demonitor", rc, "unknown flags accepted");
        break;
    }
    case H_TRAP: {
        int rc = swerl_trap_exit(ctx, o->a & 1);
        if (rc != 0 && rc != 1) fail_contract("swerl_trap_exit", rc, "not 0 or 1");
        break;
    }
    case H_SPAWN: {
        swerl_spawn_opts opts;
        swerl_pid pid = 0;
        swerl_spawn_opts_init(&opts);
        opts.flags = o->a & 0x0f;                      /* bit 3: unknown */
        opts.name = o->b & 0x80 ? pick_name(o->b) : NULL;
        opts.mailbox_limit = o->c % 4;
        opts.overflow = (o->c >> 2) % 4;               /* 3: unknown */
        opts.monitor_ref = o->c & 0x40 ? NULL : &ref;
        if (CHECK_RC(swerl_spawn(rt, &g_behavior, (void *)&g_static_args[o->b % 5], &opts, &pid),
                     SPAWN_CODES) == 0) {
            pool_add(&g_pids, pid);
            if (opts.flags & SWERL_SPAWN_MONITOR) pool_add(&g_refs, ref);
        }
        break;
    }
    case H_SEND: {
        op_msg fwd;                                     /* one hop: no loops */
        memset(&fwd, 0, sizeof fwd);
        fwd.op = o->c;
        fwd.a = o->a;
        fwd.b = o->b;
        fwd.pid = swerl_self(ctx);
        fwd.ref = o->ref;
        CHECK_RC(swerl_send(rt, o->pid, &fwd, sizeof fwd),
                 OK_ | E_(ENOPROC) | E_(EFULL) | E_(ETOOBIG) | E_(ESTOPPED) | E_(ENOMEM) | E_(EMEMLIMIT));
        break;
    }
    case H_EXIT: {
        int32_t reason = o->a < 7 ? (int32_t)o->a : SWERL_REASON_USER;
        CHECK_RC(swerl_exit(rt, o->pid, reason, o->b & 1 ? "why" : NULL, o->b & 1 ? 3 : 0),
                 OK_ | E_(ENOPROC) | E_(ETOOBIG) | E_(ESTOPPED));
        break;
    }
    case H_CALL_ASYNC: {
        op_msg req;
        memset(&req, 0, sizeof req);
        req.op = o->c;
        req.pid = swerl_self(ctx);
        if (CHECK_RC(swerl_call_async(ctx, o->pid, o->a & 0x80 ? NULL : &req,
                                      o->a & 0x80 ? (o->a & 1) : sizeof req,
                                      small_ms(o->b), o->a & 0x40 ? NULL : &ref),
                     OK_ | E_(EINVAL) | E_(ETOOBIG) | E_(ECALLSELF) | E_(EMEMLIMIT)) == 0)
            pool_add(&g_refs, ref);
        break;
    }
    case H_REPLY:
        CHECK_RC(swerl_reply(rt, o->ref, pad, o->a % 16), OK_ | E_(EREF) | E_(ETOOBIG) | E_(ESTOPPED));
        break;
    case H_RECEIVE_TIMEOUT: CHECK_RC(swerl_receive_timeout(ctx, small_ms(o->a)), OK_); break;
    case H_REGISTER:
        if (o->a & 1)
            CHECK_RC(swerl_register(rt, pick_name(o->b), swerl_self(ctx)),
                     OK_ | E_(EINVAL) | E_(ENAMETAKEN) | E_(EHASNAME) | E_(ESTOPPED));
        else
            CHECK_RC(swerl_unregister(rt, pick_name(o->b)), OK_ | E_(EINVAL) | E_(ENONAME) | E_(ESTOPPED));
        break;
    case H_SEND_AFTER:
        if (CHECK_RC(swerl_send_after(rt, o->pid, small_ms(o->a), pad, o->b % 8, &ref),
                     OK_ | E_(EINVAL) | E_(ENOPROC) | E_(ETOOBIG) | E_(ENOMEM) | E_(ESTOPPED)) == 0)
            pool_add(&g_refs, ref);
        break;
    case H_CANCEL: {
        uint32_t left;
        CHECK_RC(swerl_cancel_timer(rt, o->ref, o->a & 1 ? NULL : &left), OK_ | E_(EREF) | E_(ESTOPPED));
        break;
    }
    case H_INFO: {
        swerl_process_info info;
        memset(&info, 0, sizeof info);
        info.size = o->a & 1 ? sizeof info : 8;
        CHECK_RC(swerl_process_get_info(rt, o->pid, &info), OK_ | E_(EINVAL) | E_(ENOPROC) | E_(ESTOPPED));
        break;
    }
    case H_IN_PROC: {
        /* What would wait for the runtime itself is refused inside a callback. */
        swerl_buffer reply = {NULL, 0};
        swerl_child_counts counts;
        counts.size = sizeof counts;
        switch (o->a % 4) {
        case 0:
            if (swerl_call(rt, o->pid, "x", 1, 5, &reply) != SWERL_EINPROC)
                fail_contract("swerl_call", 0, "allowed inside a callback");
            break;
        case 1:
            if (swerl_runtime_stop(rt, 10) != SWERL_EINPROC)
                fail_contract("swerl_runtime_stop", 0, "allowed inside a callback");
            break;
        case 2:
            swerl_runtime_free(rt);                     /* documented: ignored here */
            break;
        default:
            if (swerl_supervisor_count_children(rt, o->pid, &counts) != SWERL_EINPROC)
                fail_contract("swerl_supervisor_count_children", 0, "allowed inside a callback");
        }
        swerl_buffer_free(&reply);
        break;
    }
    case H_SAVE_CTX: AT_STORE(&g_saved_ctx, ctx); break;
    case H_SELF:
        if (swerl_self(ctx) == 0) fail_contract("swerl_self", 0, "0 inside a handler");
        break;
    default: break;
    }
    return SWERL_CONTINUE;
}

static int proc_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    op_msg o;
    int r;
    (void)state;
    if (m->len > 0 && !m->data) fail_contract("handle", 0, "message data NULL with len > 0");
    switch (m->kind) {
    case SWERL_MESSAGE:
    case SWERL_CALL:
        if (m->len < sizeof o) {
            r = SWERL_CONTINUE;
            o.a = 0;
        } else {
            memcpy(&o, m->data, sizeof o);
            r = run_op(ctx, &o);
        }
        if (m->kind == SWERL_CALL) {
            /* Answer now, leave the ref for a later reply, or never answer. */
            if (o.a % 3 == 0)
                CHECK_RC(swerl_reply(swerl_ctx_runtime(ctx), m->ref, m->data, m->len),
                         OK_ | E_(EREF) | E_(ETOOBIG) | E_(ESTOPPED));
            else if (o.a % 3 == 1)
                pool_add(&g_refs, m->ref);
        }
        return r;
    case SWERL_EXIT:
        /* Stop when asked to (a supervisor, the runtime's stop). */
        return m->reason == SWERL_REASON_SHUTDOWN ? SWERL_STOP : SWERL_CONTINUE;
    case SWERL_DOWN:
    case SWERL_TIMEOUT:
    case SWERL_REPLY:
        return SWERL_CONTINUE;
    default:
        fail_contract("handle", (int)m->kind, "unknown message kind");
    }
    return SWERL_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* Supervisor specs from the input                                           */
/* ------------------------------------------------------------------------ */

/* A spec under construction, with the args it hands over (released by the
   harness itself when the supervisor did not take them). */
enum { MAX_CHILDREN = 3 };
typedef struct spec_build {
    swerl_supervisor_spec spec, nested;
    swerl_child_spec children[MAX_CHILDREN], nested_children[MAX_CHILDREN];
    swerl_behavior bad_behavior;
    proc_arg *args[2 * MAX_CHILDREN];
    unsigned n_args;
    int has_nested;             /* one nested tree per spec: its args have one owner */
} spec_build;

static void build_child(input *in, spec_build *sb, swerl_child_spec *c, int allow_nested)
{
    uint8_t s = in_u8(in), t = in_u8(in);
    static const uint32_t shutdowns[4] = {SWERL_BRUTAL_KILL, 1, 5, 20};
    swerl_child_spec_init(c);
    c->id = pick_name(in_u8(in));
    if (s % 16 == 0) {
        c->behavior = NULL;                             /* EINVAL for a worker */
    } else if (s % 16 == 1) {
        sb->bad_behavior = g_behavior;
        sb->bad_behavior.handle = NULL;                 /* EINVAL */
        c->behavior = &sb->bad_behavior;
    } else {
        c->behavior = &g_behavior;
    }
    if (t & 1) {
        proc_arg *a = arg_new(t >> 1);
        sb->args[sb->n_args++] = a;
        c->arg = a;
        c->arg_free = arg_free;
    } else {
        c->arg = (void *)&g_static_args[(t >> 1) % 5];
    }
    c->restart = (s >> 4) % 4;                          /* 3: unknown */
    c->shutdown_ms = shutdowns[(t >> 4) % 4];
    c->significant = (t >> 6) & 1;
    if (s & 0x40 && allow_nested && !sb->has_nested) {
        c->type = SWERL_SUPERVISOR;
        c->shutdown_ms = t & 0x80 ? SWERL_INFINITY : 20;
        if (!(s & 0x80)) {
            size_t i;
            sb->has_nested = 1;
            swerl_supervisor_spec_init(&sb->nested);
            sb->nested.strategy = in_u8(in) % 3;
            sb->nested.n_children = in_u8(in) % (MAX_CHILDREN + 1);
            for (i = 0; i < sb->nested.n_children; i++) build_child(in, sb, &sb->nested_children[i], 0);
            sb->nested.children = sb->nested_children;
            c->supervisor = &sb->nested;
        }                                               /* else no nested spec: EINVAL */
    } else if (s & 0x80 && (t & 0x0e) == 0x0e) {
        c->type = 7;                                    /* unknown type */
    }
    if (in_u8(in) == 0xff) c->size = 8;                 /* too small */
}

static void build_spec(input *in, spec_build *sb)
{
    uint8_t s = in_u8(in), t = in_u8(in);
    size_t i;
    memset(sb, 0, sizeof *sb);
    swerl_supervisor_spec_init(&sb->spec);
    sb->spec.strategy = (s & 7) % 5;                    /* 4: unknown */
    sb->spec.intensity = (s >> 3) % 4;
    sb->spec.period_ms = t % 16 == 0 ? 0 : 1000;        /* 0: EINVAL */
    sb->spec.auto_shutdown = (t >> 4) % 4;              /* 3: unknown */
    sb->spec.n_children = (s >> 5) % (MAX_CHILDREN + 1);
    for (i = 0; i < sb->spec.n_children; i++) build_child(in, sb, &sb->children[i], 1);
    sb->spec.children = sb->spec.n_children ? sb->children : NULL;
    if (t == 0xff) sb->spec.size = 4;                   /* too small */
}

/* simple_one_for_one supervisors started by this input, and whether their
   template has an arg_free (main thread only). An arg handed to spawn_child
   is released with the template's arg_free; without one it stays the
   caller's, and the harness frees it after the runtime is gone. */
enum { MAX_SIMPLE = 8, MAX_KEPT = 64 };
static struct { swerl_pid pid; int frees; } g_simple[MAX_SIMPLE];
static unsigned g_n_simple;
static proc_arg *g_kept[MAX_KEPT];
static unsigned g_n_kept;

static int template_frees(swerl_pid sup)
{
    unsigned i;
    for (i = 0; i < g_n_simple; i++)
        if (g_simple[i].pid == sup) return g_simple[i].frees;
    return 1;   /* not one of ours: spawn_child fails (ESIMPLE, ENOPROC, ...) */
}

/* The supervisor did not take the args: release them here. */
static void spec_release_args(spec_build *sb)
{
    unsigned i;
    for (i = 0; i < sb->n_args; i++) arg_free(sb->args[i]);
    sb->n_args = 0;
}

/* ------------------------------------------------------------------------ */
/* The main thread's operations                                              */
/* ------------------------------------------------------------------------ */

enum {
    M_SPAWN, M_SEND, M_SEND_NAMED, M_SEND_BAD, M_EXIT, M_REGISTER, M_UNREGISTER,
    M_WHEREIS, M_REGISTERED, M_SEND_AFTER, M_CANCEL, M_CALL, M_REPLY,
    M_SUP_START, M_SUP_START_CHILD, M_SUP_SPAWN_CHILD, M_SUP_TERMINATE,
    M_SUP_TERMINATE_PID, M_SUP_RESTART, M_SUP_DELETE, M_SUP_COUNT, M_SUP_WHICH,
    M_SUP_TREE, M_INFO, M_PROCESSES, M_STATS, M_SLEEP, M_STALE_CTX, M_STOP,
    M_SET_MAX_MEMORY, M_COUNT
};

/* A message for a process: an op and its operands from the input. */
static size_t make_op(input *in, op_msg *o)
{
    memset(o, 0, sizeof *o);
    o->op = in_u8(in);
    o->a = in_u8(in);
    o->b = in_u8(in);
    o->c = in_u8(in);
    o->pid = pick_pid(in);
    o->ref = pick_ref(in);
    return sizeof *o;
}

static void sleep_us(long us)
{
    struct timespec ts;
    ts.tv_sec = 0;
    ts.tv_nsec = us * 1000;
    nanosleep(&ts, NULL);
}

static void main_op(input *in, uint64_t max_msg)
{
    swerl_runtime *rt = g_rt;
    uint8_t op = in_u8(in) % M_COUNT;
    swerl_pid pid = 0;
    swerl_ref ref = 0;
    op_msg o;
    if (tracing()) fprintf(stderr, "main op %u (%zu bytes left)\n", op, in->n);
    switch (op) {
    case M_SPAWN: {
        uint8_t s = in_u8(in), t = in_u8(in);
        swerl_spawn_opts opts;
        swerl_behavior b = g_behavior;
        const swerl_behavior *bp = &b;
        swerl_spawn_opts_init(&opts);
        opts.flags = t & 0x0f;                          /* LINK/MONITOR: EINVAL outside a handler */
        opts.name = t & 0x10 ? pick_name(in_u8(in)) : NULL;
        opts.mailbox_limit = (t >> 5) % 4;
        opts.overflow = in_u8(in) % 4;                  /* 3: unknown */
        opts.monitor_ref = s & 0x40 ? NULL : &ref;
        if (s % 16 == 0) bp = NULL;
        else if (s % 16 == 1) b.handle = NULL;
        else if (s % 16 == 2) b.size = 4;
        else if (s % 16 == 3) opts.size = 4;
        if (CHECK_RC(swerl_spawn(rt, bp, (void *)&g_static_args[(s >> 4) % 5],
                                 s & 0x80 ? NULL : &opts, s % 16 == 4 ? NULL : &pid),
                     SPAWN_CODES) == 0) {
            pool_add(&g_pids, pid);
            if (!(s & 0x80) && opts.flags & SWERL_SPAWN_MONITOR) pool_add(&g_refs, ref);
        }
        break;
    }
    case M_SEND: {
        swerl_pid to = pick_pid(in);
        size_t len = make_op(in, &o);
        CHECK_RC(swerl_send(rt, to, &o, len),
                 OK_ | E_(ENOPROC) | E_(EFULL) | E_(ETOOBIG) | E_(ENOMEM) | E_(EMEMLIMIT) | E_(ESTOPPED));
        break;
    }
    case M_SEND_NAMED: {
        const char *name = pick_name(in_u8(in));
        size_t len = make_op(in, &o);
        CHECK_RC(swerl_send_named(rt, name, &o, len),
                 OK_ | E_(EINVAL) | E_(ENONAME) | E_(ENOPROC) | E_(EFULL) | E_(ETOOBIG) | E_(ENOMEM) |
                     E_(EMEMLIMIT) | E_(ESTOPPED));
        break;
    }
    case M_SEND_BAD: {
        /* NULL data with len > 0, sizes around the limit, NULL runtime. */
        uint8_t s = in_u8(in);
        size_t big = (size_t)max_msg + (s & 1);
        void *buf = NULL;
        pid = pick_pid(in);
        if (s % 4 == 0) {
            CHECK_RC(swerl_send(rt, pid, NULL, 1 + (s >> 2)), E_(EINVAL) | E_(ESTOPPED));
        } else if (s % 4 == 1) {
            CHECK_RC(swerl_send(NULL, pid, "x", 1), E_(EINVAL));
        } else if (big <= 4096 && (buf = calloc(1, big)) != NULL) {
            int rc = CHECK_RC(swerl_send(rt, pid, buf, big),
                              OK_ | E_(ENOPROC) | E_(EFULL) | E_(ETOOBIG) | E_(ENOMEM) | E_(EMEMLIMIT) | E_(ESTOPPED));
            if (big > max_msg && rc != SWERL_ETOOBIG && rc != SWERL_ESTOPPED)
                fail_contract("swerl_send", rc, "a message above max_message_size");
        }
        free(buf);
        break;
    }
    case M_EXIT: {
        uint8_t s = in_u8(in);
        int32_t reason = s % 8 < 7 ? (int32_t)(s % 8) : SWERL_REASON_USER + s;
        pid = pick_pid(in);
        CHECK_RC(swerl_exit(rt, pid, reason, s & 0x80 ? NULL : "detail", s & 0x80 ? (s & 0x40 ? 2 : 0) : 6),
                 OK_ | E_(EINVAL) | E_(ENOPROC) | E_(ETOOBIG) | E_(ESTOPPED));
        break;
    }
    case M_REGISTER: {
        const char *name = pick_name(in_u8(in));
        pid = pick_pid(in);
        CHECK_RC(swerl_register(rt, name, pid),
                 OK_ | E_(EINVAL) | E_(ENOPROC) | E_(ENAMETAKEN) | E_(EHASNAME) | E_(ESTOPPED));
        break;
    }
    case M_UNREGISTER:
        CHECK_RC(swerl_unregister(rt, pick_name(in_u8(in))), OK_ | E_(EINVAL) | E_(ENONAME) | E_(ESTOPPED));
        break;
    case M_WHEREIS: {
        uint8_t s = in_u8(in);
        int rc = CHECK_RC(swerl_whereis(rt, pick_name(s), s & 0x80 ? NULL : &pid),
                          OK_ | E_(EINVAL) | E_(ENONAME) | E_(ESTOPPED));
        if (rc == 0 && pid == 0) fail_contract("swerl_whereis", rc, "pid 0 for a registered name");
        if (rc == 0) pool_add(&g_pids, pid);
        if (rc == SWERL_ENONAME && pid != 0) fail_contract("swerl_whereis", rc, "*out not set to 0");
        break;
    }
    case M_REGISTERED: {
        swerl_buffer buf = {NULL, 0};
        size_t count = 0;
        uint8_t s = in_u8(in);
        CHECK_RC(swerl_registered(rt, s & 1 ? NULL : &buf, s & 2 ? NULL : &count),
                 OK_ | E_(EINVAL) | E_(ENOMEM) | E_(ESTOPPED));
        swerl_buffer_free(&buf);
        swerl_buffer_free(NULL);
        break;
    }
    case M_SEND_AFTER: {
        uint8_t s = in_u8(in);
        uint32_t ms = s % 8 == 7 ? SWERL_INFINITY : s % 8 == 6 ? 60000 : (uint32_t)(s % 8) * 2;
        size_t len;
        pid = pick_pid(in);
        len = make_op(in, &o);
        if (CHECK_RC(swerl_send_after(rt, pid, ms, s & 0x10 ? NULL : &o, len, s & 0x20 ? NULL : &ref),
                     OK_ | E_(EINVAL) | E_(ETOOBIG) | E_(ENOPROC) | E_(ENOMEM) | E_(ESTOPPED)) == 0)
            pool_add(&g_refs, ref);
        break;
    }
    case M_CANCEL: {
        uint32_t left = 0;
        uint8_t s = in_u8(in);
        CHECK_RC(swerl_cancel_timer(rt, pick_ref(in), s & 1 ? NULL : &left), OK_ | E_(EINVAL) | E_(EREF) | E_(ESTOPPED));
        break;
    }
    case M_CALL: {
        swerl_buffer reply = {NULL, 0};
        uint8_t s = in_u8(in);
        int rc;
        pid = pick_pid(in);
        make_op(in, &o);
        rc = CHECK_RC(swerl_call(rt, pid, s & 0x40 ? NULL : &o, s & 0x40 ? (s & 1) : sizeof o, (s & 7) * 3,
                                 s & 0x80 ? NULL : &reply),
                      OK_ | E_(EINVAL) | E_(ETOOBIG) | E_(ENOPROC) | E_(ETIMEDOUT) | E_(EEXITED) |
                          E_(EMEMLIMIT) | E_(ESTOPPED));
        if (rc != 0 && (reply.data || reply.len)) fail_contract("swerl_call", rc, "reply not empty on error");
        swerl_buffer_free(&reply);
        break;
    }
    case M_REPLY: {
        uint8_t s = in_u8(in);
        CHECK_RC(swerl_reply(rt, pick_ref(in), s & 0x80 ? NULL : "r", s & 0x80 ? (s & 1) : 1),
                 OK_ | E_(EINVAL) | E_(ETOOBIG) | E_(EREF) | E_(ESTOPPED));
        break;
    }
    case M_SUP_START: {
        spec_build sb;
        swerl_spawn_opts opts;
        uint8_t s = in_u8(in);
        build_spec(in, &sb);
        swerl_spawn_opts_init(&opts);
        opts.name = s & 1 ? pick_name(in_u8(in)) : NULL;
        opts.flags = s & 2 ? SWERL_SPAWN_LINK : 0;      /* EINVAL */
        if (CHECK_RC(swerl_supervisor_start(rt, s & 0x80 ? NULL : &sb.spec, s & 4 ? &opts : NULL,
                                            s & 0x40 ? NULL : &pid),
                     OK_ | E_(EINVAL) | E_(EDUPLICATE) | E_(EBADSPEC) | E_(ESTART) | E_(ENAMETAKEN) |
                         E_(ELIMIT) | E_(ENOMEM) | E_(ESTOPPED)) == 0) {
            pool_add(&g_sups, pid);
            pool_add(&g_pids, pid);
            if (sb.spec.strategy == SWERL_SIMPLE_ONE_FOR_ONE && g_n_simple < MAX_SIMPLE) {
                g_simple[g_n_simple].pid = pid;
                g_simple[g_n_simple++].frees = sb.children[0].arg_free != NULL;
            }
        } else {
            spec_release_args(&sb);
        }
        break;
    }
    case M_SUP_START_CHILD: {
        spec_build sb;
        swerl_pid sup = pick_sup(in);
        uint8_t s = in_u8(in);
        memset(&sb, 0, sizeof sb);
        build_child(in, &sb, &sb.children[0], 1);
        if (CHECK_RC(swerl_supervisor_start_child(rt, sup, s & 1 ? NULL : &sb.children[0], s & 2 ? NULL : &pid),
                     SUP_COMMON | E_(EBADSPEC) | E_(EDUPLICATE) | E_(EPRESENT) | E_(ESTARTED) | E_(ESTART) |
                         E_(ESIMPLE)) == 0) {
            if (!(s & 2) && pid) pool_add(&g_pids, pid);
            /* The supervisor owns the child's arg; a nested spec's args too. */
        } else {
            spec_release_args(&sb);
        }
        break;
    }
    case M_SUP_SPAWN_CHILD: {
        swerl_pid sup = pick_sup(in);
        uint8_t s = in_u8(in);
        proc_arg *a = s & 1 && g_n_kept < MAX_KEPT ? arg_new(s >> 1) : NULL;
        if (CHECK_RC(swerl_supervisor_spawn_child(rt, sup, a, s & 0x80 ? NULL : &pid),
                     SUP_COMMON | E_(EBADSPEC) | E_(EPRESENT) | E_(ESTARTED) | E_(ESTART) | E_(ESIMPLE)) == 0) {
            if (!(s & 0x80) && pid) pool_add(&g_pids, pid);
            if (a && !template_frees(sup)) g_kept[g_n_kept++] = a;
        } else if (a) {
            arg_free(a);
        }
        break;
    }
    case M_SUP_TERMINATE: {
        swerl_pid sup = pick_sup(in);
        CHECK_RC(swerl_supervisor_terminate_child(rt, sup, pick_name(in_u8(in))),
                 SUP_COMMON | E_(ENOTFOUND) | E_(ESIMPLE));
        break;
    }
    case M_SUP_TERMINATE_PID: {
        swerl_pid sup = pick_sup(in);
        CHECK_RC(swerl_supervisor_terminate_pid(rt, sup, pick_pid(in)), SUP_COMMON | E_(ENOTFOUND) | E_(ESIMPLE));
        break;
    }
    case M_SUP_RESTART: {
        swerl_pid sup = pick_sup(in);
        uint8_t s = in_u8(in);
        if (CHECK_RC(swerl_supervisor_restart_child(rt, sup, pick_name(s), s & 0x80 ? NULL : &pid),
                     SUP_COMMON | E_(ENOTFOUND) | E_(ERUNNING) | E_(ERESTARTING) | E_(ESIMPLE) | E_(ESTART)) == 0 &&
            !(s & 0x80) && pid)
            pool_add(&g_pids, pid);
        break;
    }
    case M_SUP_DELETE: {
        swerl_pid sup = pick_sup(in);
        CHECK_RC(swerl_supervisor_delete_child(rt, sup, pick_name(in_u8(in))),
                 SUP_COMMON | E_(ENOTFOUND) | E_(ERUNNING) | E_(ERESTARTING) | E_(ESIMPLE));
        break;
    }
    case M_SUP_COUNT: {
        swerl_child_counts counts;
        uint8_t s = in_u8(in);
        swerl_pid sup = pick_sup(in);
        memset(&counts, 0, sizeof counts);
        counts.size = s & 1 ? 4 : sizeof counts;
        CHECK_RC(swerl_supervisor_count_children(rt, sup, s & 2 ? NULL : &counts), SUP_COMMON);
        break;
    }
    case M_SUP_WHICH: {
        swerl_child_info infos[4];
        size_t count = 0, cap;
        uint8_t s = in_u8(in);
        swerl_pid sup = pick_sup(in);
        memset(infos, 0, sizeof infos);
        infos[0].size = s & 1 ? 4 : sizeof infos[0];
        cap = (s >> 1) % 5;
        CHECK_RC(swerl_supervisor_which_children(rt, sup, s & 0x40 && cap == 0 ? NULL : infos, cap,
                                                 s & 0x80 ? NULL : &count),
                 SUP_COMMON);
        break;
    }
    case M_SUP_TREE: {
        swerl_buffer buf = {NULL, 0};
        uint8_t s = in_u8(in);
        swerl_pid sup = pick_sup(in);
        int rc = CHECK_RC(swerl_supervisor_tree(rt, sup, s % 3, s & 0x80 ? NULL : &buf), SUP_COMMON | E_(ENOMEM));
        if (rc == 0) {
            const char *text = (const char *)buf.data;
            /* NUL-terminated, whether or not len counts the NUL */
            if (!text || buf.len == 0 || (text[buf.len - 1] != '\0' && text[buf.len] != '\0'))
                fail_contract("swerl_supervisor_tree", rc, "no NUL-terminated text");
        }
        swerl_buffer_free(&buf);
        break;
    }
    case M_INFO: {
        swerl_process_info info;
        uint8_t s = in_u8(in);
        memset(&info, 0, sizeof info);
        info.size = s & 1 ? 8 : sizeof info;
        pid = pick_pid(in);
        if (CHECK_RC(swerl_process_get_info(rt, pid, s & 2 ? NULL : &info),
                     OK_ | E_(EINVAL) | E_(ENOPROC) | E_(ESTOPPED)) == 0 &&
            memchr(info.name, '\0', sizeof info.name) == NULL)
            fail_contract("swerl_process_get_info", 0, "name not NUL-terminated");
        break;
    }
    case M_PROCESSES: {
        swerl_pid buf[8];
        size_t count = 0, cap;
        uint8_t s = in_u8(in);
        cap = s % 9;
        CHECK_RC(swerl_processes(rt, cap == 0 && s & 0x10 ? NULL : buf, cap, s & 0x20 ? NULL : &count),
                 OK_ | E_(EINVAL) | E_(ESTOPPED));
        if (!(s & 0x20) && cap > 0 && s & 0x40) {
            size_t i;
            for (i = 0; i < count && i < cap; i++) pool_add(&g_pids, buf[i]);
        }
        break;
    }
    case M_STATS: {
        swerl_stats st;
        uint8_t s = in_u8(in);
        memset(&st, 0, sizeof st);
        st.size = s & 1 ? 4 : sizeof st;
        CHECK_RC(swerl_runtime_stats(s & 2 ? NULL : rt, s & 4 ? NULL : &st), OK_ | E_(EINVAL));
        break;
    }
    case M_SET_MAX_MEMORY: {
        /* A ceiling from none to below one message, or whatever the input says. */
        static const uint64_t ceilings[7] = {0, 1, SWERL_MESSAGE_OVERHEAD, 200, 1000, 100000, 1u << 20};
        uint8_t s = in_u8(in);
        uint64_t bytes = s % 8 == 7 ? in_u32(in) : ceilings[s % 8];
        CHECK_RC(swerl_runtime_set_max_memory(s & 0x80 ? NULL : rt, bytes), OK_ | E_(EINVAL) | E_(ESTOPPED));
        break;
    }
    case M_SLEEP: sleep_us((long)(in_u8(in) % 16) * 100); break;
    case M_STALE_CTX: {
        /* A ctx kept past its callback is refused everywhere else (ECTX). */
        swerl_ctx *ctx = AT_LOAD(&g_saved_ctx);
        if (!ctx || g_stopped) break;
        pid = pick_pid(in);
        if (swerl_self(ctx) != 0) fail_contract("swerl_self", 0, "stale ctx gave a pid");
        if (swerl_ctx_runtime(ctx) != NULL) fail_contract("swerl_ctx_runtime", 0, "stale ctx gave a runtime");
        if (swerl_link(ctx, pid) != SWERL_ECTX) fail_contract("swerl_link", 0, "stale ctx accepted");
        if (swerl_monitor(ctx, pid, &ref) != SWERL_ECTX) fail_contract("swerl_monitor", 0, "stale ctx accepted");
        if (swerl_trap_exit(ctx, 1) != SWERL_ECTX) fail_contract("swerl_trap_exit", 0, "stale ctx accepted");
        if (swerl_receive_timeout(ctx, 1) != SWERL_ECTX) fail_contract("swerl_receive_timeout", 0, "stale ctx accepted");
        break;
    }
    case M_STOP: {
        uint8_t s = in_u8(in);
        int rc = swerl_runtime_stop(s & 1 ? NULL : rt, (uint32_t)(s >> 1) % 50);
        if (s & 1) {
            if (rc != SWERL_EINVAL) fail_contract("swerl_runtime_stop", rc, "NULL runtime accepted");
        } else {
            expect("swerl_runtime_stop", rc, g_stopped ? E_(ESTOPPED) : OK_);
            g_stopped = 1;
        }
        break;
    }
    default: break;
    }
}

/* ------------------------------------------------------------------------ */
/* One input                                                                 */
/* ------------------------------------------------------------------------ */

static void hook_start(void *user) { (void)user; AT_ADD(&g_hook_starts, 1); }
static void hook_stop(void *user) { (void)user; AT_ADD(&g_hook_stops, 1); }
static void on_log(void *user, int level, const char *message, size_t len)
{
    (void)user;
    if (level < SWERL_LOG_ERROR || level > SWERL_LOG_INFO || !message || len == 0)
        fail_contract("on_log", level, "bad report");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

enum { MAX_OPS = 48 };
#define BUDGET_MS 300.0   /* stop issuing calls after this; the stop is bounded too */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in;
    swerl_config cfg;
    uint8_t c0, c1;
    uint64_t max_msg;
    double t0 = now_ms();
    int ops, rc;

    if (!g_name_max[0]) {
        memset(g_name_max, 'm', SWERL_NAME_MAX);
        memset(g_name_long, 'l', SWERL_NAME_MAX + 1);
    }
    in.p = data;
    in.n = size;
    c0 = in_u8(&in);
    c1 = in_u8(&in);

    swerl_config_init(&cfg);
    cfg.schedulers = 1 + (c0 & 1);
    cfg.max_processes = 1 + (c0 >> 1) % 32;
    cfg.max_message_size = c1 & 1 ? 16 + (c1 >> 1) * 8u : 0;
    max_msg = cfg.max_message_size ? cfg.max_message_size : (uint64_t)64 << 20;
    cfg.on_thread_start = hook_start;
    cfg.on_thread_stop = hook_stop;
    cfg.on_log = c0 & 0x80 ? on_log : NULL;

    /* The start's own contract: out NULL, size too small, too many processes. */
    if (c1 & 0x80) {
        swerl_config bad = cfg;
        swerl_runtime *rt = NULL;
        if (swerl_runtime_start(&cfg, NULL) != SWERL_EINVAL) fail_contract("swerl_runtime_start", 0, "out NULL");
        bad.size = 4;
        if (swerl_runtime_start(&bad, &rt) != SWERL_EINVAL) fail_contract("swerl_runtime_start", 0, "size 4");
        bad = cfg;
        bad.max_processes = 16777216u;
        if (swerl_runtime_start(&bad, &rt) != SWERL_EINVAL) fail_contract("swerl_runtime_start", 0, "max_processes");
        swerl_runtime_free(NULL);
        swerl_config_init(NULL);
        swerl_spawn_opts_init(NULL);
        swerl_child_spec_init(NULL);
        swerl_supervisor_spec_init(NULL);
    }

    AT_STORE(&g_hook_starts, 0);
    AT_STORE(&g_hook_stops, 0);
    AT_STORE(&g_args_live, 0);
    AT_STORE(&g_saved_ctx, (swerl_ctx *)NULL);
    pool_reset(&g_pids);
    pool_reset(&g_refs);
    pool_reset(&g_sups);
    g_stopped = 0;
    g_n_simple = g_n_kept = 0;
    rc = swerl_runtime_start(&cfg, &g_rt);
    expect("swerl_runtime_start", rc, OK_ | E_(ENOMEM));
    if (rc != 0) return 0;

    for (ops = 0; ops < MAX_OPS && in.n > 0 && now_ms() - t0 < BUDGET_MS; ops++) main_op(&in, max_msg);

    if (!g_stopped) CHECK_RC(swerl_runtime_stop(g_rt, 100), OK_);
    /* After the stop: every call taking the runtime says ESTOPPED. */
    CHECK_RC(swerl_send(g_rt, pool_get(&g_pids, 0), "x", 1), E_(ESTOPPED));
    CHECK_RC(swerl_runtime_stop(g_rt, 0), E_(ESTOPPED));
    swerl_runtime_free(g_rt);
    g_rt = NULL;
    while (g_n_kept > 0) arg_free(g_kept[--g_n_kept]);

    if (AT_LOAD(&g_hook_starts) != AT_LOAD(&g_hook_stops) || AT_LOAD(&g_hook_starts) != (long)cfg.schedulers) {
        fprintf(stderr, "swerl_fuzz: thread hooks: %ld starts, %ld stops, %u schedulers\n",
                AT_LOAD(&g_hook_starts), AT_LOAD(&g_hook_stops), cfg.schedulers);
        abort();
    }
    if (AT_LOAD(&g_args_live) != 0) {
        fprintf(stderr, "swerl_fuzz: %ld supervisor child args never released (arg_free)\n", AT_LOAD(&g_args_live));
        abort();
    }
    return 0;
}
