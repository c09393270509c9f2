/*
 * swerl_fuzz.c — a libFuzzer harness for the C ABI (include/swerl.h, 1.4).
 *
 * Each input is a program: its bytes are decoded into a sequence of swerl_*
 * calls against a runtime of its own (started at the first byte, stopped and
 * freed at the end, so every input is independent and leaks are attributed
 * to it). The calls get valid, exited (stale), never-valid and garbage pids
 * and refs, pids of a second runtime and forged ones (another runtime tag,
 * the remote flag), bad sizes, bad enum values, and NULL wherever the header
 * says NULL is an error (never a garbage non-NULL pointer: the contract does
 * not promise to survive those). Calls that need a process (link, monitor,
 * call_async, set_blocking, ...) are done by the harness's own processes,
 * driven by messages whose bytes name the operation; some of them are
 * blocking processes (SWERL_SPAWN_BLOCKING, swerl_set_blocking), where
 * swerl_call and swerl_wait_exit are allowed. Some are in turn groups
 * (swerl_group_spawn, swerl_set_group from handlers and inits), whose turns
 * the main thread runs with their callbacks (swerl_group_run) or as batches
 * it answers per message as the input says (swerl_group_take / _next /
 * _finish), sets aside and takes back (swerl_turn_suspend / _resume), on
 * itself or on a helper thread; nothing is held or set aside at a stop.
 * Shared binaries (1.4) are made, retained, released and sent (fanned out,
 * by name, from the main thread, a thread of their own and handlers) to
 * every kind of pid; handlers check the bytes of each SWERL_MESSAGE_SHARED
 * message and keep some past the callback, released later by an operation,
 * by their terminate, or at the end of the input.
 *
 * What it asserts (abort() with a message otherwise): every return code is 0
 * or one the header lists for that function; every arg handed to a
 * supervisor is released exactly once; the thread hooks run in pairs, on
 * every thread that runs callbacks; a ctx used outside its callback is
 * refused; a pid of another runtime is never accepted; swerl_call and
 * swerl_wait_exit are refused (EINPROC) in scheduled processes and allowed in
 * blocking ones; a swerl_call_notify / swerl_watch_exit `done` runs exactly
 * once, never after swerl_cancel_notify returned 0, never before *out holds
 * its ref, and sends from no process; swerl_pid_format's text and length;
 * swerl_last_error_detail is never NULL and NUL-terminated; a batch has
 * 1..max_messages messages (a TIMEOUT alone, none withdrawn yet), a ctx that
 * acts for its process until it is set aside or finished, and no fewer
 * messages than the batch minimum; a thread holding a batch may not drive,
 * wait or stop (EINPROC, EINVAL for its own group); ESTOPPED exactly after
 * the stop, ELIMIT exactly at 64 groups; a group's descriptor is one, open,
 * and closed by swerl_runtime_free; a shared message's bytes are its
 * binary's, unchanged, and swerl_binary_keep gives that binary (a copy for
 * any other message); every reference the harness takes is released once,
 * and then nothing is charged to the memory ceiling (memory_used 0). ASan/LSan and
 * libFuzzer add: no crash, no memory error, no leak, no hang (-timeout).
 *
 * Build: Tests/fuzz/run.sh (clang -fsanitize=fuzzer,address against the
 * library from Tests/sanitizers/build-asan-lib.sh). Every wait is bounded:
 * an input finishes in well under a second.
 */
#define _GNU_SOURCE 1

#include <fcntl.h>
#include <poll.h>
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

/* The longest swerl_last_error_detail the harness believes: past it, the
   text is taken as not NUL-terminated. */
#define DETAIL_MAX ((size_t)1 << 16)

/* Abort unless rc is in `allowed`; also checks that the library can name it,
   and reads swerl_last_error_detail() (first: it is valid only until the
   next swerl_* call on this thread): never NULL, NUL-terminated. */
static int expect(const char *fn, int rc, uint64_t allowed)
{
    const char *detail = swerl_last_error_detail();
    char words[160];
    size_t len;
    if (!detail) fail_contract(fn, rc, "swerl_last_error_detail() returned NULL");
    len = strnlen(detail, DETAIL_MAX);
    if (len == DETAIL_MAX) fail_contract(fn, rc, "swerl_last_error_detail() not NUL-terminated");
    if (tracing()) {
        size_t kept = len < sizeof words - 1 ? len : sizeof words - 1;
        memcpy(words, detail, kept);
        words[kept] = '\0';
        fprintf(stderr, "  %s -> %d %s%s%s\n", fn, rc, swerl_err_name(rc), rc < 0 && kept ? ": " : "",
                rc < 0 ? words : "");
    }
    if (rc > 0 || rc < -63 || !(allowed & ((uint64_t)1 << -rc)))
        fail_contract(fn, rc, "not a code the header lists for this function");
    if (!swerl_strerror(rc) || !swerl_err_name(rc)) fail_contract(fn, rc, "strerror/err_name gave NULL");
    return rc;
}

#define CHECK_RC(call, allowed) expect(#call, (call), (allowed))

/* A length (>= 0) or EINVAL, as swerl_term_format returns. */
static int expect_len(const char *fn, int rc)
{
    return rc >= 0 ? rc : expect(fn, rc, E_(EINVAL));
}
#define CHECK_RC_LEN(call) expect_len(#call, (call))

/* ------------------------------------------------------------------------ */
/* Pids of this input's runtime, of the second one, forged ones              */
/* ------------------------------------------------------------------------ */

/* A pid's bits (docs/DESIGN.md, "Pids"): remote (1) | runtime tag (8) |
   generation (31) | slot (24). */
#define PID_REMOTE ((swerl_pid)1 << 63)
#define PID_TAG_SHIFT 55
#define PID_TAG_MASK ((swerl_pid)0xff << PID_TAG_SHIFT)
#define PID_TAG(p) ((int)(((p) >> PID_TAG_SHIFT) & 0xff))

#define AT_LOAD(p)     __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define AT_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define AT_ADD(p, v)   __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)

static int g_own_tag = -1;      /* atomic: the tag of this input's runtime, once one of its pids is seen */
static int g_other_tag = -1;    /* atomic: the second runtime's, while it runs */

/* A pid the runtime handed out as one of its own: every one has the same
   tag, not the second runtime's, and no remote flag. */
static void note_own_pid(const char *fn, swerl_pid pid)
{
    int tag = PID_TAG(pid), expected = -1;
    if (pid == 0) return;
    if (pid & PID_REMOTE) fail_contract(fn, 0, "a local process has a pid with the remote flag");
    if (!__atomic_compare_exchange_n(&g_own_tag, &expected, tag, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
        expected != tag)
        fail_contract(fn, 0, "two pids of one runtime with different runtime tags");
    if (tag == AT_LOAD(&g_other_tag)) fail_contract(fn, 0, "a pid with the second runtime's tag");
}

/* Whether `pid` is certainly not a process of this input's runtime: remote,
   or tagged for another runtime. */
static int is_foreign(swerl_pid pid)
{
    int own = AT_LOAD(&g_own_tag), other = AT_LOAD(&g_other_tag);
    if (pid == 0) return 0;
    if (pid & PID_REMOTE) return 1;
    if (own >= 0 && PID_TAG(pid) != own) return 1;
    return other >= 0 && PID_TAG(pid) == other;
}

/* expect(), and a foreign pid is never accepted (swerl_send: "a pid of
   another runtime: ENOPROC"). */
static int expect_pid(const char *fn, int rc, uint64_t allowed, swerl_pid pid)
{
    if (rc == 0 && is_foreign(pid)) fail_contract(fn, rc, "accepted a pid of another runtime (or a remote pid)");
    return expect(fn, rc, allowed);
}

#define CHECK_PID_RC(call, pid, allowed) expect_pid(#call, (call), (allowed), (pid))

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
static pool g_socks = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};

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

/* Set by on_thread_start, cleared by on_thread_stop: the hooks pair up on
   each thread, and every callback of this input's runtime runs on a thread
   whose on_thread_start ran (a scheduler's, the blocking pool's, a spare's),
   or on one of the harness's threads while it drives a turn group
   (t_driving: the main thread in a group operation or a stop, the helper
   thread that resumes a batch set aside). */
static __thread int t_hooked;
static __thread int t_driving;

static void check_callback_thread(const char *fn)
{
    if (!t_hooked && !t_driving)
        fail_contract(fn, 0, "a callback on a thread whose on_thread_start did not run and that drives no group");
}

/* Pid selectors: most pick a known pid (live, exited, of the second runtime,
   forged), the rest never-valid ones: 0, all ones (the remote flag), another
   runtime tag (bit 60), garbage bytes from the input. */
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

/* Turn groups: the input's (made by the main thread, which writes a slot
   before g_n_groups counts it; handlers read them), one of the second
   runtime, or NULL. Groups live as long as their runtime. */
enum { MAX_GROUPS = 6, GROUP_LIMIT = 64 };
static swerl_group *g_groups[MAX_GROUPS];       /* atomic */
static unsigned g_n_groups;                     /* atomic */
static swerl_group *g_group2;                   /* atomic: the second runtime's, while it runs */
static swerl_turn *g_any_turn;                  /* atomic: the last batch handed out (its memory is
                                                   the library's until the runtime is freed) */
static int g_batch_min_racy;                    /* atomic: a handler set a batch minimum */

/* s % 16: 14 the second runtime's group (NULL until it has one), 15 NULL,
   else one of the input's (NULL while it has none). */
static swerl_group *pick_group(uint8_t s)
{
    unsigned n = AT_LOAD(&g_n_groups);
    if (s % 16 == 14) return AT_LOAD(&g_group2);
    if (s % 16 == 15 || n == 0) return NULL;
    return AT_LOAD(&g_groups[s % n]);
}

static int is_group2(const swerl_group *g) { return g && g == AT_LOAD(&g_group2); }

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
    H_SAVE_CTX, H_SELF,
    /* since 1.2 */
    H_SET_BLOCKING, H_BLOCKING_CALL, H_WAIT_EXIT, H_SLEEP, H_CALL_NOTIFY,
    H_WATCH_EXIT, H_CANCEL_NOTIFY, H_SEND_AFTER_NAMED, H_SOCKET,
    /* turn groups, since 1.2 */
    H_SET_GROUP, H_GROUP,
    /* shared binaries, since 1.4 */
    H_BIN_NEW, H_BIN_SEND, H_BIN_KEEP, H_BIN_RELEASE,
    H_COUNT
};

/* The arg of a harness process: how its init behaves, whether it was
   spawned with SWERL_SPAWN_BLOCKING, whether its init makes it a blocking
   process (as a supervised child does), whether a supervisor started it,
   which turn group its init moves it into (0: none; k: the input's group
   k - 1, with swerl_set_group). Supervisor children get a heap copy that
   arg_free releases (counted: exactly once). */
enum { ARG_MAGIC = 0x5157524cu, ARG_FREED = 0xdeadbeefu };
typedef struct proc_arg {
    uint32_t magic;
    uint8_t init_mode, spawned_blocking, blocks_in_init, supervised, joins_group;
} proc_arg;
#define ARGS5_(s, b, i) {{ARG_MAGIC, 0, b, i, s, 0}, {ARG_MAGIC, 1, b, i, s, 0}, {ARG_MAGIC, 2, b, i, s, 0}, \
                         {ARG_MAGIC, 3, b, i, s, 0}, {ARG_MAGIC, 4, b, i, s, 0}}
static const proc_arg g_static_args[2][2][2][5] = {
    {{ARGS5_(0, 0, 0), ARGS5_(0, 0, 1)}, {ARGS5_(0, 1, 0), ARGS5_(0, 1, 1)}},
    {{ARGS5_(1, 0, 0), ARGS5_(1, 0, 1)}, {ARGS5_(1, 1, 0), ARGS5_(1, 1, 1)}}};
#define STATIC_ARG(spawned_blocking, blocks_in_init, mode) \
    ((void *)&g_static_args[0][(spawned_blocking) ? 1 : 0][(blocks_in_init) ? 1 : 0][(mode) % 5])
/* A supervised child's (never spawned blocking). */
#define SUPERVISED_ARG(blocks_in_init, mode) ((void *)&g_static_args[1][0][(blocks_in_init) ? 1 : 0][(mode) % 5])

static proc_arg *arg_new(uint8_t mode, int blocks_in_init)
{
    proc_arg *a = (proc_arg *)malloc(sizeof *a);
    if (!a) abort();
    a->magic = ARG_MAGIC;
    a->init_mode = mode % 5;
    a->spawned_blocking = 0;
    a->blocks_in_init = blocks_in_init != 0;
    a->supervised = 1;                                  /* only supervisors get these */
    a->joins_group = 0;
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

/* The state of a harness process, made by init, released by terminate
   (LSan: a terminate that never ran). `mode` says where its handle
   callbacks run: always on a scheduler (swerl_call and swerl_wait_exit must
   say EINPROC), always on the blocking pool (spawned with
   SWERL_SPAWN_BLOCKING, never set back: they must not), or either (it
   changed: swerl_set_blocking takes effect from the next turn). `blocking`
   is what swerl_set_blocking must return as the previous value. A turn
   group's thread refuses waits as a scheduler does. A supervised child
   never joins a group: its supervisor would wait for its exit (a kill
   too) while the group's only driver, the main thread, waits in a
   management call to that supervisor. `own` holds references to shared
   binaries the process keeps for itself (released by H_BIN_RELEASE or by
   terminate). Touched only by the process's own callbacks (or the batch
   its driver handles), one at a time. */
enum { MODE_SCHEDULED, MODE_BLOCKING, MODE_EITHER };
enum { STATE_MAGIC = 0x53544154u, STATE_FREED = 0xfee1deadu, OWN_BINS = 4 };
typedef struct proc_state {
    uint32_t magic;
    uint8_t mode, blocking, supervised, n_own;
    swerl_binary *own[OWN_BINS];
} proc_state;

static proc_state *state_of(void *state, const char *fn)
{
    proc_state *st = (proc_state *)state;
    if (!st || st->magic != STATE_MAGIC) fail_contract(fn, 0, "the state is not the one init set");
    return st;
}

static void state_set_blocking(proc_state *st, int on)
{
    if (on != st->blocking) st->mode = MODE_EITHER;
    st->blocking = (uint8_t)on;
}

/* After swerl_set_group returned 0: into a group or back to the schedulers,
   the blocking pool is left (swerl_set_blocking then returns 0). */
static void state_set_group(proc_state *st)
{
    if (st->mode == MODE_BLOCKING) st->mode = MODE_EITHER;
    st->blocking = 0;
}

static int proc_init(swerl_ctx *ctx, void *arg, void **state)
{
    const proc_arg *a = (const proc_arg *)arg;
    proc_state *st;
    int blocking = 0;
    check_callback_thread("init");
    if (*state != arg) fail_contract("init", 0, "*state does not start as arg");
    if (a) {
        if (a->magic != ARG_MAGIC) {
            fprintf(stderr, "swerl_fuzz: init got an arg that was released\n");
            abort();
        }
        blocking = a->spawned_blocking;
        switch (a->init_mode) {
        case 1: return SWERL_IGNORE;
        case 2: return 1;
        case 3:
            CHECK_RC(swerl_fail(ctx, SWERL_REASON_USER + 1, "init", 4), OK_);
            return -1;
        case 4: {
            int was = swerl_trap_exit(ctx, 1);         /* 1 when spawned with TRAP_EXIT */
            if (was != 0 && was != 1) fail_contract("swerl_trap_exit", was, "not 0 or 1");
            break;
        }
        default: break;
        }
    }
    st = (proc_state *)malloc(sizeof *st);
    if (!st) abort();
    st->magic = STATE_MAGIC;
    st->mode = blocking ? MODE_BLOCKING : MODE_SCHEDULED;
    st->blocking = (uint8_t)blocking;
    st->supervised = !a || a->supervised;               /* NULL: a simple_one_for_one template's own */
    st->n_own = 0;
    if (a && a->blocks_in_init) {
        int was = swerl_set_blocking(ctx, 1);
        if (was != blocking) fail_contract("swerl_set_blocking", was, "not the previous value (in init)");
        state_set_blocking(st, 1);
    }
    if (a && a->joins_group && !st->supervised && a->joins_group <= AT_LOAD(&g_n_groups)) {
        CHECK_RC(swerl_set_group(ctx, AT_LOAD(&g_groups[a->joins_group - 1])), OK_);
        state_set_group(st);
    }
    *state = st;
    return 0;
}

static void proc_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    proc_state *st = state_of(state, "terminate");
    check_callback_thread("terminate");
    if (tracing())
        fprintf(stderr, "process %llx: terminate, reason %d\n", (unsigned long long)swerl_self(ctx), reason);
    if (swerl_self(ctx) == 0) fail_contract("swerl_self", 0, "0 inside terminate");
    while (st->n_own > 0) swerl_binary_release(st->own[--st->n_own]);
    st->magic = STATE_FREED;
    free(st);
}

static int proc_handle(swerl_ctx *ctx, const swerl_message *m, void *state);

static const swerl_behavior g_behavior = {sizeof(swerl_behavior), proc_init, proc_handle, proc_terminate};

static uint32_t small_ms(uint8_t v) { return v % 8 == 7 ? SWERL_INFINITY : (uint32_t)(v % 8) * 3; }
/* A wait that blocks its thread: never SWERL_INFINITY. */
static uint32_t wait_ms(uint8_t v) { return (uint32_t)(v % 8) * 3; }

static void sleep_us(long us)
{
    struct timespec ts;
    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (us % 1000000) * 1000;
    nanosleep(&ts, NULL);
}

/* Read every byte the library lends (ASan: a bad pointer or length). */
static unsigned touch(const void *data, size_t len)
{
    const volatile unsigned char *p = (const volatile unsigned char *)data;
    unsigned sum = 0;
    size_t i;
    for (i = 0; i < len; i++) sum += p[i];
    return sum;
}

/* The allowed results of swerl_spawn, swerl_send and swerl_call. */
#define SPAWN_CODES (OK_ | E_(EINVAL) | E_(ENAMETAKEN) | E_(ELIMIT) | E_(ESTOPPED) | E_(ENOMEM))
#define SEND_CODES (OK_ | E_(EINVAL) | E_(ENOPROC) | E_(EFULL) | E_(ETOOBIG) | E_(ESTOPPED) | E_(ENOMEM) | \
                    E_(EMEMLIMIT))
#define CALL_CODES (OK_ | E_(EINVAL) | E_(ETOOBIG) | E_(ENOPROC) | E_(ETIMEDOUT) | E_(EEXITED) | E_(EMEMLIMIT) | \
                    E_(ESTOPPED))
#define WAIT_EXIT_CODES (OK_ | E_(EINVAL) | E_(ETIMEDOUT) | E_(ESTOPPED))
#define NOTIFY_CODES (OK_ | E_(EINVAL) | E_(ETOOBIG) | E_(ENOPROC) | E_(EMEMLIMIT) | E_(ENOMEM) | E_(ESTOPPED))
#define WATCH_CODES (OK_ | E_(EINVAL) | E_(ENOMEM) | E_(ESTOPPED))
#define TIMER_CODES (OK_ | E_(EINVAL) | E_(ETOOBIG) | E_(ENOMEM) | E_(ESTOPPED))

/* What a wait (swerl_call, swerl_wait_exit) may return inside a handler:
   EINPROC on a scheduler thread (or what the arguments refuse first), its
   usual codes on the blocking pool. */
static uint64_t wait_codes_here(const proc_state *st, uint64_t usual, uint64_t refused)
{
    switch (st->mode) {
    case MODE_SCHEDULED: return refused | E_(EINPROC);
    case MODE_BLOCKING: return usual;
    default: return usual | refused | E_(EINPROC);
    }
}

/* ------------------------------------------------------------------------ */
/* Outcomes told by callback: swerl_call_notify and swerl_watch_exit         */
/* ------------------------------------------------------------------------ */

/* One record per swerl_call_notify / swerl_watch_exit of an input (user =
   the record). `done` counts its runs (exactly once unless cancel_notify
   returned 0 for it: then never), `cancelled` the zeros cancel_notify
   returned, `failed` a call that returned an error (done must never run).
   `ref` is *out: written before done can run. */
enum { NOTIFY_CALL = 1, NOTIFY_WATCH = 2 };
/* What a done callback does besides its checks: send (from no process),
   cancel its own ref (EREF: it is running), watch or call again. */
enum { DONE_NOTHING, DONE_SEND, DONE_CANCEL_SELF, DONE_WATCH, DONE_CALL, DONE_ACTIONS };
enum { MAX_NOTIFY = 96, NOTIFY_MAGIC = 0x4e4f5446u };
typedef struct notify_rec {
    uint32_t magic;
    uint8_t kind, action;
    uint8_t at_once;            /* a watch of a pid never alive: done runs in the call, NOPROC */
    uint8_t out_given;
    swerl_runtime *rt;
    swerl_pid target;
    swerl_ref ref;              /* atomic: *out */
    long done, cancelled, failed, issued; /* atomics */
    int32_t result;             /* done's code (call) or reason (watch) */
} notify_rec;
static notify_rec g_notify[MAX_NOTIFY];
static long g_n_notify;         /* atomic: records handed out (may pass MAX_NOTIFY) */

static long notify_count(void)
{
    long n = AT_LOAD(&g_n_notify);
    return n < MAX_NOTIFY ? n : MAX_NOTIFY;
}

static notify_rec *notify_new(uint8_t kind, uint8_t action, swerl_pid target, int out_given)
{
    long i = AT_ADD(&g_n_notify, 1) - 1;
    notify_rec *r;
    if (i >= MAX_NOTIFY) return NULL;
    r = &g_notify[i];
    r->kind = kind;
    r->action = action % DONE_ACTIONS;
    r->at_once = kind == NOTIFY_WATCH && (target == 0 || is_foreign(target));
    r->out_given = out_given != 0;
    r->rt = g_rt;
    r->target = target;
    r->result = 0;
    AT_STORE(&r->ref, (swerl_ref)0);
    AT_STORE(&r->done, 0L);
    AT_STORE(&r->cancelled, 0L);
    AT_STORE(&r->failed, 0L);
    AT_STORE(&r->issued, 0L);
    AT_STORE(&r->magic, (uint32_t)NOTIFY_MAGIC);
    return r;
}

/* The record whose ref is `ref`, or NULL. */
static notify_rec *notify_find(swerl_ref ref)
{
    long i, n = notify_count();
    if (ref == 0) return NULL;
    for (i = 0; i < n; i++)
        if (AT_LOAD(&g_notify[i].magic) == NOTIFY_MAGIC && AT_LOAD(&g_notify[i].ref) == ref) return &g_notify[i];
    return NULL;
}

/* The ref of an issued record chosen by `k`, or 0. */
static swerl_ref notify_pick(uint8_t k)
{
    long n = notify_count();
    notify_rec *r;
    if (n == 0) return 0;
    r = &g_notify[k % n];
    return AT_LOAD(&r->issued) ? AT_LOAD(&r->ref) : 0;
}

static void on_call_done(void *user, int code, const void *data, size_t len);
static void on_exit_done(void *user, int32_t reason, const void *detail, size_t len);

/* After swerl_call_notify / swerl_watch_exit returned rc. */
static void notify_issued(const char *fn, notify_rec *r, int rc)
{
    if (rc != 0) {
        AT_STORE(&r->failed, 1L);
        if (AT_LOAD(&r->done)) fail_contract(fn, rc, "done ran though the call returned an error");
        return;
    }
    if (AT_LOAD(&r->ref) == 0) fail_contract(fn, 0, "returned 0 without a ref in *out");
    if (r->at_once && AT_LOAD(&r->done) != 1)
        fail_contract(fn, 0, "done did not run in the call for a pid never alive");
    if (r->at_once && r->result != SWERL_REASON_NOPROC) fail_contract(fn, r->result, "a pid never alive: not NOPROC");
    AT_STORE(&r->issued, 1L);
    pool_add(&g_refs, AT_LOAD(&r->ref));
}

/* Both calls of one record, from any thread (main, a process, a done). */
static void notify_call(notify_rec *r, swerl_runtime *rt, const void *req, size_t len, uint32_t ms, uint64_t more)
{
    int rc = expect_pid("swerl_call_notify",
                        swerl_call_notify(rt, r->target, req, len, ms, on_call_done, r, &r->ref),
                        NOTIFY_CODES | more, r->target);
    notify_issued("swerl_call_notify", r, rc);
}

static void notify_watch(notify_rec *r, swerl_runtime *rt)
{
    int rc = CHECK_RC(swerl_watch_exit(rt, r->target, on_exit_done, r, &r->ref), WATCH_CODES);
    notify_issued("swerl_watch_exit", r, rc);
}

/* swerl_cancel_notify(rt, ref) from any thread, with a ref from anywhere (a
   notify's, a timer's, a monitor's, a call's, garbage): a 0 must be for a
   record whose done has not run, and only once. */
static void cancel_notify(swerl_runtime *rt, swerl_ref ref)
{
    int rc = CHECK_RC(swerl_cancel_notify(rt, ref), OK_ | E_(EINVAL) | E_(EREF) | E_(ESTOPPED));
    notify_rec *r;
    if (!rt && rc != SWERL_EINVAL) fail_contract("swerl_cancel_notify", rc, "NULL runtime accepted");
    if (rc != 0) return;
    r = notify_find(ref);
    if (!r) fail_contract("swerl_cancel_notify", rc, "returned 0 for a ref no call_notify or watch_exit gave");
    if (AT_ADD(&r->cancelled, 1) != 1) fail_contract("swerl_cancel_notify", rc, "returned 0 twice for one ref");
    if (AT_LOAD(&r->done)) fail_contract("swerl_cancel_notify", rc, "returned 0 after done ran");
}

/* A message a done callback sends: from no process, whichever thread runs
   it (a scheduler, swerl_reply's inside a handler, the stop's). */
enum { PROBE_MAGIC = 0x50524f42u };
typedef struct probe_msg { op_msg op; uint32_t magic; } probe_msg;

static void done_action(notify_rec *r)
{
    long i = r - g_notify;
    switch (r->action) {
    case DONE_SEND: {
        probe_msg p;
        swerl_pid to = pool_get(&g_pids, (unsigned)i);
        memset(&p, 0, sizeof p);
        p.magic = PROBE_MAGIC;
        expect_pid("swerl_send (in done)", swerl_send(r->rt, to, &p, sizeof p), SEND_CODES, to);
        break;
    }
    case DONE_CANCEL_SELF:
        /* done is running: it cannot be stopped any more */
        CHECK_RC(swerl_cancel_notify(r->rt, AT_LOAD(&r->ref)), E_(EREF) | E_(ESTOPPED));
        break;
    case DONE_WATCH: {
        notify_rec *w = notify_new(NOTIFY_WATCH, DONE_NOTHING, pool_get(&g_pids, (unsigned)i * 7), 1);
        if (w) notify_watch(w, r->rt);
        break;
    }
    case DONE_CALL: {
        notify_rec *c = notify_new(NOTIFY_CALL, DONE_NOTHING, pool_get(&g_pids, (unsigned)i * 5), 1);
        if (c) notify_call(c, r->rt, NULL, 0, (uint32_t)(i % 4) * 4, 0);   /* outside any process: no ECALLSELF */
        break;
    }
    default: break;
    }
}

/* What every done checks first: its record, *out written, exactly once,
   not after a cancel, not for a failed call. */
static notify_rec *notify_done(void *user, uint8_t kind, const char *fn)
{
    notify_rec *r = (notify_rec *)user;
    if (!r || r < g_notify || r >= g_notify + MAX_NOTIFY || AT_LOAD(&r->magic) != NOTIFY_MAGIC || r->kind != kind) {
        fprintf(stderr, "swerl_fuzz: %s got user %p, not its record\n", fn, user);
        abort();
    }
    if (tracing()) fprintf(stderr, "  %s: record %ld\n", fn, (long)(r - g_notify));
    if (r->out_given && AT_LOAD(&r->ref) == 0) fail_contract(fn, 0, "done ran before its ref was in *out");
    if (AT_ADD(&r->done, 1) != 1) fail_contract(fn, 0, "done ran twice");
    if (AT_LOAD(&r->cancelled)) fail_contract(fn, 0, "done ran after swerl_cancel_notify returned 0");
    if (AT_LOAD(&r->failed)) fail_contract(fn, 0, "done ran though the call returned an error");
    return r;
}

static void on_call_done(void *user, int code, const void *data, size_t len)
{
    notify_rec *r = notify_done(user, NOTIFY_CALL, "swerl_call_notify's done");
    if (code != 0 && code != SWERL_ETIMEDOUT && code != SWERL_ENOPROC && code != SWERL_EEXITED &&
        code != SWERL_ESTOPPED)
        fail_contract("swerl_call_notify's done", code, "not a code the header lists for done");
    if (len > 0 && !data) fail_contract("swerl_call_notify's done", code, "data NULL with len > 0");
    touch(data, len);
    r->result = code;
    done_action(r);
}

static void on_exit_done(void *user, int32_t reason, const void *detail, size_t len)
{
    notify_rec *r = notify_done(user, NOTIFY_WATCH, "swerl_watch_exit's done");
    if (len > 0 && !detail) fail_contract("swerl_watch_exit's done", reason, "detail NULL with len > 0");
    touch(detail, len);
    r->result = reason;
    done_action(r);
}

/* After the runtime is freed: every issued record's done ran once, or
   never after a cancel; a failed one's never. */
static void notify_check_all(void)
{
    long i, n = notify_count();
    for (i = 0; i < n; i++) {
        notify_rec *r = &g_notify[i];
        long done = AT_LOAD(&r->done), cancelled = AT_LOAD(&r->cancelled);
        const char *fn = r->kind == NOTIFY_CALL ? "swerl_call_notify" : "swerl_watch_exit";
        if (AT_LOAD(&r->failed)) {
            if (done) fail_contract(fn, 0, "done ran though the call returned an error");
        } else if (AT_LOAD(&r->issued) && done + cancelled != 1) {
            fprintf(stderr, "swerl_fuzz: %s (record %ld, ref %llx): done ran %ld time(s), cancelled %ld time(s)\n",
                    fn, i, (unsigned long long)AT_LOAD(&r->ref), done, cancelled);
            abort();
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Calls that take a ref, from the main thread and from processes            */
/* ------------------------------------------------------------------------ */

/* swerl_reply(rt, ref, ...): a swerl_watch_exit ref is no call to answer. */
static void reply_to(swerl_runtime *rt, swerl_ref ref, const void *data, size_t len, uint64_t more)
{
    notify_rec *r = notify_find(ref);
    int rc = CHECK_RC(swerl_reply(rt, ref, data, len), OK_ | E_(EREF) | E_(ETOOBIG) | E_(ESTOPPED) | more);
    if (rc == 0 && r && r->kind == NOTIFY_WATCH)
        fail_contract("swerl_reply", rc, "answered a swerl_watch_exit ref (its done was told NOPROC)");
}

/* swerl_cancel_timer(rt, ref, ...): a notify ref is no timer. */
static void cancel_timer(swerl_runtime *rt, swerl_ref ref, uint32_t *left)
{
    int rc = CHECK_RC(swerl_cancel_timer(rt, ref, left), OK_ | E_(EREF) | E_(ESTOPPED) | (rt ? 0 : E_(EINVAL)));
    if (rc == 0 && notify_find(ref))
        fail_contract("swerl_cancel_timer", rc, "cancelled a swerl_call_notify / watch_exit");
}

/* Sockets (swerl.h "Sockets") on loopback only: listeners on port 0 owned
   by the calling process, connects to them or to bad addresses, and every
   other call on known, stale and forged socket ids, from owners and not. */
#define SOCKET_ID_CODES (E_(ENOSOCKET) | E_(ENOTOWNER) | E_(ESTOPPED))
static void socket_op(swerl_ctx *ctx, const op_msg *o)
{
    static const char *const addresses[] = {"127.0.0.1:0", "[::1]:0", "127.0.0.1", "127.0.0.1:99999", "",
                                            "unix:", "[::1:0", "localhost:0"};
    static const uint8_t bytes[300];
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    swerl_socket_opts opts;
    swerl_socket s = 0, known = pool_get(&g_socks, o->b);
    swerl_socket id = o->c % 4 == 0 ? known + 1 : o->c % 4 == 1 ? o->ref : known;
    int rc;
    swerl_socket_opts_init(&opts);
    opts.packet = (uint32_t)(o->b % 10);              /* 0, 1, 2, 4, 8 valid; the others not */
    opts.active = (int32_t)(o->c % 5) - 2;            /* -2 invalid */
    opts.max_frame = o->a % 3 == 0 ? 16 : 0;
    if (o->a % 7 == 0) opts.flags |= 1u << 12;        /* unknown */
    switch (o->a % 9) {
    case 0: {
        const char *address = addresses[o->b % 8];
        int valid_packet = opts.packet <= 2 || opts.packet == 4 || opts.packet == 8;
        rc = CHECK_RC(swerl_socket_listen(rt, swerl_self(ctx), address, &opts, &s),
                      OK_ | E_(EINVAL) | E_(ENET) | E_(EADDRINUSE) | E_(ESTOPPED) | E_(ENOPROC) | E_(ELIMIT));
        if (rc == 0 && (!valid_packet || opts.active < -1 || (opts.flags & (1u << 12))))
            fail_contract("swerl_socket_listen", rc, "bad options accepted");
        if (rc == 0) pool_add(&g_socks, s);
        break;
    }
    case 1: {
        swerl_socket_info info;
        char address[160];
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        if (known && swerl_socket_info_get(rt, known, &info) == 0 && info.type == SWERL_SOCKET_LISTENER)
            snprintf(address, sizeof address, "%s", info.local);
        else
            snprintf(address, sizeof address, "%s", addresses[o->b % 8]);
        rc = CHECK_RC(swerl_socket_connect(ctx, address, small_ms(o->b), &opts, &s),
                      OK_ | E_(EINVAL) | E_(ENET) | E_(ESTOPPED) | E_(ELIMIT) | E_(ENOPROC));
        if (rc == 0) pool_add(&g_socks, s);
        break;
    }
    case 2:
        CHECK_RC(swerl_socket_send(ctx, id, o->b % 5 ? bytes : NULL, o->b % 300),
                 OK_ | E_(EINVAL) | E_(EAGAIN) | E_(ENOTSUP) | SOCKET_ID_CODES);
        break;
    case 3: CHECK_RC(swerl_socket_activate(ctx, id, (int32_t)(o->b % 6) - 2), OK_ | E_(EINVAL) | SOCKET_ID_CODES); break;
    case 4: CHECK_RC(swerl_socket_close(ctx, id), OK_ | SOCKET_ID_CODES); break;
    case 5: CHECK_RC(swerl_socket_shutdown(ctx, id), OK_ | E_(ENOTSUP) | SOCKET_ID_CODES); break;
    case 6: CHECK_RC(swerl_socket_set_owner(ctx, id, o->pid), OK_ | E_(ENOPROC) | SOCKET_ID_CODES); break;
    case 7:
        CHECK_RC(swerl_socket_setopt(ctx, id, (int)(o->b % 10), (int64_t)o->c - 2),
                 OK_ | E_(EINVAL) | E_(ENOTSUP) | E_(ENET) | SOCKET_ID_CODES);
        break;
    default: {
        swerl_socket_info info;
        memset(&info, 0, sizeof info);
        info.size = (uint32_t)(o->b % 2 ? sizeof info : 8);
        CHECK_RC(swerl_socket_info_get(rt, id, &info), OK_ | E_(EINVAL) | E_(ENOSOCKET) | E_(ESTOPPED));
    }
    }
}

/* swerl_set_group from a handler: into one of the input's groups, out
   (NULL), or into the second runtime's (EINVAL). A supervised child only
   leaves (see proc_state). */
static void set_group_op(swerl_ctx *ctx, const op_msg *o, proc_state *st)
{
    swerl_group *g = pick_group(o->b);
    int foreign = is_group2(g), rc;
    if (st->supervised && !foreign) g = NULL;
    rc = CHECK_RC(swerl_set_group(ctx, g), OK_ | E_(EINVAL));
    if (foreign != (rc != 0)) fail_contract("swerl_set_group", rc, foreign ? "a group of another runtime accepted"
                                                                          : "refused a group of its own runtime");
    if (rc == 0) state_set_group(st);
}

/* Turn-group calls from a handler. What drives a group is refused: EINPROC
   (EINVAL first for NULL, a bad size, a batch of the group this thread
   holds: a handler the main thread runs while it handles a batch); what
   any thread may call works. Resuming is refused in any callback, so any
   turn will do. swerl_group_finish and swerl_turn_suspend get only NULL
   and a fake here: a handler this harness runs while the main thread
   handles a batch runs inside that batch, which the thread holds and so
   may finish or suspend there (legitimately, and this harness would then
   lose track of it). Finding 11 (a stale turn inside a take's own
   callback) is fixed and tested in Tests/c/test_groups.c. */
static void group_in_handler(const op_msg *o)
{
    static const uint32_t minimums[6] = {1, 2, 3, 1025, 0, 1026};
    swerl_group *g = pick_group(o->b);
    swerl_turn *t = NULL, fake;
    int rc;
    memset(&fake, 0, sizeof fake);
    switch (o->a % 8) {
    case 0: CHECK_RC(swerl_group_run(g, 1 + o->c % 4, 0), E_(EINVAL) | E_(EINPROC) | E_(ESTOPPED)); break;
    case 1:
        CHECK_RC(swerl_group_take(g, o->c % 4 == 3 ? 0 : 1 + o->c, 0, o->c & 0x80 ? NULL : &t),
                 E_(EINVAL) | E_(EINPROC) | E_(ESTOPPED));
        break;
    case 2: CHECK_RC(swerl_group_next(g, NULL, 0, 1 + o->c, 0, &t), E_(EINVAL) | E_(EINPROC) | E_(ESTOPPED)); break;
    case 3: {
        /* LINK and MONITOR allowed here; BLOCKING (with a group) and 0x10 not */
        swerl_spawn_opts opts;
        swerl_pid pid = 0;
        swerl_ref ref = 0;
        swerl_spawn_opts_init(&opts);
        opts.flags = o->c & 0x1f;
        opts.monitor_ref = &ref;
        rc = CHECK_RC(swerl_group_spawn(is_group2(g) ? NULL : g, &g_behavior, STATIC_ARG(0, o->c & 0x20, o->c >> 6),
                                        &opts, &pid),
                      SPAWN_CODES);
        if (rc == 0 && (!g || opts.flags & (0x10 | SWERL_SPAWN_BLOCKING)))
            fail_contract("swerl_group_spawn", rc, "a NULL group, SWERL_SPAWN_BLOCKING or unknown flags accepted");
        if (rc == 0) {
            note_own_pid("swerl_group_spawn", pid);
            pool_add(&g_pids, pid);
            if (opts.flags & SWERL_SPAWN_MONITOR) pool_add(&g_refs, ref);
        }
        break;
    }
    case 4: CHECK_RC(swerl_group_wake(g), OK_ | E_(EINVAL)); break;
    case 5: {
        uint32_t v = minimums[o->c % 6];
        AT_STORE(&g_batch_min_racy, 1);
        rc = CHECK_RC(swerl_group_set_batch_min(g, v), OK_ | E_(EINVAL));
        if ((rc == 0) != (g && v >= 1 && v <= 1025))
            fail_contract("swerl_group_set_batch_min", rc, "not 0 exactly for a group and 1..1025");
        break;
    }
    case 6:
        CHECK_RC(swerl_turn_resume(o->c & 1 ? &fake : AT_LOAD(&g_any_turn)), E_(EINVAL) | E_(EINPROC));
        CHECK_RC(swerl_turn_suspend(o->c & 2 ? &fake : NULL), E_(EINVAL));
        CHECK_RC(swerl_group_finish(o->c & 4 ? &fake : NULL, 0), E_(EINVAL));
        CHECK_RC(swerl_group_next(g, &fake, 0, 1, 0, &t), E_(EINVAL) | E_(EINPROC) | E_(ESTOPPED));
        break;
    default:
        rc = swerl_group_fd(g);
        if (rc < 0) expect("swerl_group_fd", rc, E_(EINVAL) | E_(ENOMEM));
        else if (!g) fail_contract("swerl_group_fd", rc, "a descriptor for NULL");
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Shared binaries (since 1.4)                                               */
/* ------------------------------------------------------------------------ */

/* The references the harness holds, the main thread's and the handlers'
   alike (a process's own are in its state): each taken by
   swerl_binary_new, _copy, _retain or _keep, and released exactly once, by
   an operation or at the end of the input after the stop. So a reference
   the library drops once too often is ASan's to see, one it never drops
   LSan's, and a charge it never refunds shows in memory_used at the end.
   A binary's bytes are a pattern written before its first send: byte 0 its
   salt, byte i a function of the salt, i and the length; a handler checks
   every byte of a SWERL_MESSAGE_SHARED message against it, and the salt
   says what it does with the message (bin_receive). */
enum { MAX_BINS = 64 };
static pthread_mutex_t g_bins_lock = PTHREAD_MUTEX_INITIALIZER;
static swerl_binary *g_bins[MAX_BINS];
static unsigned g_n_bins;
static uint64_t g_max_msg;              /* this input's max_message_size (set before its runtime starts) */

static uint8_t bin_byte(size_t len, uint8_t salt, size_t i)
{
    return i == 0 ? salt : (uint8_t)(salt + 131u * (unsigned)i + 7u * (unsigned)len);
}

static void bin_fill(void *data, size_t len, uint8_t salt)
{
    uint8_t *p = (uint8_t *)data;
    size_t i;
    for (i = 0; i < len; i++) p[i] = bin_byte(len, salt, i);
}

/* Whether `len` bytes are a binary's pattern (the salt is the first). */
static int bin_intact(const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t i;
    for (i = 1; i < len; i++)
        if (p[i] != bin_byte(len, p[0], i)) return 0;
    return 1;
}

/* Lengths from 0 to a few KiB, and around this input's max_message_size
   (capped at 8 KiB: the default is 64 MiB). */
static size_t bin_len(uint8_t s)
{
    static const size_t lens[16] = {0, 1, 7, 8, 9, 16, 24, 63, 64, 100, 255, 1000, 1024, 4095, 4096, 6000};
    size_t max = (size_t)(g_max_msg < 8192 ? g_max_msg : 8192);
    switch (s % 19) {
    case 16: return max - 1;
    case 17: return max;
    case 18: return max + 1 + (s >> 6);
    default: return lens[s % 19];
    }
}

/* Hold `b` (a reference the caller took) in the table; released at once
   when the table is full. */
static void bin_hold(swerl_binary *b)
{
    pthread_mutex_lock(&g_bins_lock);
    if (g_n_bins < MAX_BINS) {
        g_bins[g_n_bins++] = b;
        b = NULL;
    }
    pthread_mutex_unlock(&g_bins_lock);
    swerl_binary_release(b);
}

/* The reference in slot k % n, out of the table (the caller releases it),
   or NULL when none is held. */
static swerl_binary *bin_take(unsigned k)
{
    swerl_binary *b = NULL;
    pthread_mutex_lock(&g_bins_lock);
    if (g_n_bins > 0) {
        k %= g_n_bins;
        b = g_bins[k];
        g_bins[k] = g_bins[--g_n_bins];
    }
    pthread_mutex_unlock(&g_bins_lock);
    return b;
}

/* One more reference to slot k % n's binary (the caller releases it), or
   NULL when none is held: what a fan-out's sender holds while it sends. */
static swerl_binary *bin_borrow(unsigned k)
{
    swerl_binary *b = NULL;
    pthread_mutex_lock(&g_bins_lock);
    if (g_n_bins > 0) {
        b = g_bins[k % g_n_bins];
        if (swerl_binary_retain(b) != b) fail_contract("swerl_binary_retain", 0, "did not return its binary");
    }
    pthread_mutex_unlock(&g_bins_lock);
    return b;
}

/* A process keeps `b` for itself (released by H_BIN_RELEASE or terminate). */
static void bin_own(proc_state *st, swerl_binary *b)
{
    if (st->n_own < OWN_BINS) st->own[st->n_own++] = b;
    else swerl_binary_release(b);
}

/* A new binary of `len` bytes holding the pattern of `salt`, one reference
   (the caller's), or NULL (ENOMEM). how % 3: swerl_binary_new, written
   through *data; swerl_binary_new without *data, written through
   swerl_binary_data (the same address, still before any send or retain);
   swerl_binary_copy of a buffer of exactly `len` bytes (ASan sees a read
   past it; 0x04: NULL when len is 0, which is allowed). */
static swerl_binary *bin_make(size_t len, uint8_t salt, unsigned how)
{
    swerl_binary *b = NULL;
    void *data = NULL;
    int rc;
    if (how % 3 == 2) {
        uint8_t *src = (uint8_t *)malloc(len ? len : 1);
        if (!src) abort();
        bin_fill(src, len, salt);
        rc = CHECK_RC(swerl_binary_copy(len == 0 && how & 4 ? NULL : src, len, &b), OK_ | E_(ENOMEM));
        if (rc == 0 && len > 0 && swerl_binary_data(b) == src)
            fail_contract("swerl_binary_copy", rc, "the binary is the caller's buffer, not a copy");
        if (rc == 0 && len > 0 && memcmp(swerl_binary_data(b), src, len) != 0)
            fail_contract("swerl_binary_copy", rc, "the binary's bytes are not the ones copied");
        free(src);
    } else {
        rc = CHECK_RC(swerl_binary_new(len, &b, how % 3 == 0 ? &data : NULL), OK_ | E_(ENOMEM));
        if (rc == 0 && how % 3 == 0 && data != swerl_binary_data(b))
            fail_contract("swerl_binary_new", rc, "*data is not where swerl_binary_data says the bytes are");
        if (rc == 0) bin_fill(how % 3 == 0 ? data : (void *)swerl_binary_data(b), len, salt);
    }
    if (rc != 0) return NULL;
    if (!b) fail_contract("swerl_binary_new", rc, "no binary in *out");
    if (swerl_binary_size(b) != len) fail_contract("swerl_binary_size", (int)swerl_binary_size(b), "not its length");
    if (len > 0 && !swerl_binary_data(b)) fail_contract("swerl_binary_data", 0, "NULL for a binary of some bytes");
    return b;
}

/* swerl_send_binary (or _named_binary, named) of `b` from any thread: the
   codes of swerl_send (and ENONAME); EINVAL exactly for a NULL runtime or
   binary or a bad name; ETOOBIG exactly above max_message_size. */
static int bin_send(swerl_runtime *rt, swerl_pid to, int named, const char *name, swerl_binary *b)
{
    size_t len = swerl_binary_size(b);
    int bad = !rt || !b || (named && (!name || !*name || strlen(name) > SWERL_NAME_MAX));
    const char *fn = named ? "swerl_send_named_binary" : "swerl_send_binary";
    int rc = named ? expect(fn, swerl_send_named_binary(rt, name, b), SEND_CODES | E_(ENONAME))
                   : expect_pid(fn, swerl_send_binary(rt, to, b), SEND_CODES, to);
    if (bad != (rc == SWERL_EINVAL)) fail_contract(fn, rc, bad ? "a NULL or a bad name accepted" : "EINVAL for good input");
    if (rc == SWERL_ETOOBIG && len <= g_max_msg) fail_contract(fn, rc, "a binary within max_message_size too big");
    if (rc == 0 && len > g_max_msg) fail_contract(fn, rc, "a binary above max_message_size accepted");
    return rc;
}

/* A SWERL_MESSAGE_SHARED message: a plain message (no term) with the bytes
   of a binary, unchanged since its sender wrote them, which
   swerl_binary_keep gives back as that binary (the same address, no
   copy). What the handler does with it, by its salt: (salt >> 1) % 4 lets
   go at once, holds the reference in the table (released by an operation
   or at the end), keeps it in the process's state (released by
   H_BIN_RELEASE or terminate), or both (two keeps); salt % 16 == 1 leaves
   it in the mailbox (SKIP: released when the process exits, or offered
   again). */
static int bin_receive(const swerl_message *m, proc_state *st)
{
    swerl_binary *k = NULL, *again = NULL;
    uint8_t salt = m->len > 0 ? ((const uint8_t *)m->data)[0] : 0;
    if (m->kind != SWERL_MESSAGE || m->flags & SWERL_MESSAGE_TERM)
        fail_contract("handle", (int)m->kind, "SWERL_MESSAGE_SHARED on a message swerl_send_binary did not send");
    if (!bin_intact(m->data, m->len)) fail_contract("handle", 0, "a shared message's bytes are not its sender's");
    if (CHECK_RC(swerl_binary_keep(m, &k), OK_ | E_(ENOMEM)) != 0) return SWERL_CONTINUE;
    if (swerl_binary_data(k) != m->data || swerl_binary_size(k) != m->len)
        fail_contract("swerl_binary_keep", 0, "a shared message kept as another binary than the one it carries");
    switch ((salt >> 1) % 4) {
    case 0: swerl_binary_release(k); break;
    case 1: bin_hold(k); break;
    case 2: bin_own(st, k); break;
    default:
        bin_own(st, k);
        if (CHECK_RC(swerl_binary_keep(m, &again), OK_ | E_(ENOMEM)) != 0) break;
        if (again != k) fail_contract("swerl_binary_keep", 0, "two keeps of a shared message, two binaries");
        bin_hold(again);
    }
    return salt % 16 == 1 ? SWERL_SKIP : SWERL_CONTINUE;
}

/* H_BIN_KEEP: swerl_binary_keep of the op's own message, which is not
   shared: a new binary with a copy of its bytes (a & 1: kept in the state,
   else let go; never held in the table, whose binaries all carry the
   pattern); NULLs (EINVAL); 0x10 a copy of the message with
   SWERL_MESSAGE_SHARED set on bytes that are not a binary's (EINVAL): its
   own bytes, or with 0x20 a copy of them in a buffer of the harness's
   (finding 12: keep read 32 bytes before such a buffer). */
static void bin_keep_copy(const swerl_message *m, const op_msg *o, proc_state *st)
{
    swerl_binary *k = NULL;
    if (CHECK_RC(swerl_binary_keep(m, &k), OK_ | E_(ENOMEM)) == 0) {
        if (swerl_binary_size(k) != m->len || (m->len > 0 && memcmp(swerl_binary_data(k), m->data, m->len) != 0))
            fail_contract("swerl_binary_keep", 0, "not the message's bytes");
        if (m->len > 0 && swerl_binary_data(k) == m->data)
            fail_contract("swerl_binary_keep", 0, "a message that is not shared kept without a copy");
        if (o->a & 1) bin_own(st, k);
        else swerl_binary_release(k);
    }
    k = NULL;
    CHECK_RC(swerl_binary_keep(NULL, &k), E_(EINVAL));
    CHECK_RC(swerl_binary_keep(m, NULL), E_(EINVAL));
    if (o->a & 0x10) {
        swerl_message forged = *m;
        unsigned char *bytes = (o->a & 0x20) ? (unsigned char *)malloc(m->len + 1) : NULL;
        if (bytes) {
            if (m->len > 0) memcpy(bytes, m->data, m->len);
            forged.data = bytes;
        }
        forged.flags |= SWERL_MESSAGE_SHARED;
        CHECK_RC(swerl_binary_keep(&forged, &k), E_(EINVAL));
        free(bytes);
    }
}

/* The handlers' binary operations (H_BIN_*). */
static int bin_in_handler(swerl_ctx *ctx, const swerl_message *m, const op_msg *o, proc_state *st)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    swerl_binary *b;
    switch (o->op % H_COUNT) {
    case H_BIN_NEW:
        /* make one (a: its length, b: its salt), send it to pid (c & 4: to
           the name b), then hold the creator's reference (c & 1) or let it
           go, and exit (c & 2) while it is in flight */
        b = bin_make(bin_len(o->a), o->b, o->c >> 3);
        if (!b) break;
        bin_send(rt, o->pid, o->c & 4, pick_name(o->b), b);
        if (o->c & 1) bin_hold(b);
        else swerl_binary_release(b);
        return o->c & 2 ? SWERL_STOP : SWERL_CONTINUE;
    case H_BIN_SEND:
        /* send a held one (a: which) to pid, or c & 4 to the name b; exit
           after it (c & 2) */
        b = bin_borrow(o->a);
        bin_send(rt, o->pid, o->c & 4, pick_name(o->b), b);
        swerl_binary_release(b);
        return o->c & 2 ? SWERL_STOP : SWERL_CONTINUE;
    case H_BIN_KEEP: bin_keep_copy(m, o, st); break;
    default:
        /* let go of one of the process's own (a & 1) or a held one */
        if (o->a & 1) {
            if (st->n_own > 0) {
                unsigned i = o->b % st->n_own;
                b = st->own[i];
                st->own[i] = st->own[--st->n_own];
                swerl_binary_release(b);
            }
        } else {
            swerl_binary_release(bin_take(o->b));
        }
    }
    return SWERL_CONTINUE;
}

/* Do what `o` asks, as the process `ctx` handling `m`; returns what handle
   returns. */
static int run_op(swerl_ctx *ctx, const swerl_message *m, const op_msg *o, proc_state *st)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    swerl_pid self = swerl_self(ctx);
    swerl_ref ref;
    static const uint8_t pad[64];
    if (rt != g_rt) fail_contract("swerl_ctx_runtime", 0, "not the runtime of this input");
    if (tracing())
        fprintf(stderr, "process %llx (%s): op %u\n", (unsigned long long)self,
                st->mode == MODE_SCHEDULED ? "scheduled" : st->mode == MODE_BLOCKING ? "blocking" : "either",
                o->op % H_COUNT);
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
        int rc;
        swerl_spawn_opts_init(&opts);
        opts.flags = o->a & 0x1f;                      /* bit 4: unknown */
        opts.name = o->b & 0x80 ? pick_name(o->b) : NULL;
        opts.mailbox_limit = o->c % 4;
        opts.overflow = (o->c >> 2) % 4;               /* 3: unknown */
        opts.monitor_ref = o->c & 0x40 ? NULL : &ref;
        rc = CHECK_RC(swerl_spawn(rt, &g_behavior, STATIC_ARG(opts.flags & SWERL_SPAWN_BLOCKING, 0, o->b), &opts, &pid),
                      SPAWN_CODES);
        if (rc == 0) {
            if (opts.flags & 0x10) fail_contract("swerl_spawn", rc, "unknown flags accepted");
            note_own_pid("swerl_spawn", pid);
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
        fwd.pid = self;
        fwd.ref = o->ref;
        CHECK_PID_RC(swerl_send(rt, o->pid, &fwd, sizeof fwd), o->pid, SEND_CODES & ~E_(EINVAL));
        break;
    }
    case H_EXIT: {
        int32_t reason = o->a < 7 ? (int32_t)o->a : SWERL_REASON_USER;
        CHECK_PID_RC(swerl_exit(rt, o->pid, reason, o->b & 1 ? "why" : NULL, o->b & 1 ? 3 : 0), o->pid,
                     OK_ | E_(ENOPROC) | E_(ETOOBIG) | E_(ESTOPPED));
        break;
    }
    case H_CALL_ASYNC: {
        op_msg req;
        memset(&req, 0, sizeof req);
        req.op = o->c;
        req.pid = self;
        if (CHECK_RC(swerl_call_async(ctx, o->pid, o->a & 0x80 ? NULL : &req,
                                      o->a & 0x80 ? (o->a & 1) : sizeof req,
                                      small_ms(o->b), o->a & 0x40 ? NULL : &ref),
                     OK_ | E_(EINVAL) | E_(ETOOBIG) | E_(ECALLSELF) | E_(EMEMLIMIT)) == 0)
            pool_add(&g_refs, ref);
        break;
    }
    case H_REPLY:
        reply_to(rt, o->ref, pad, o->a % 16, 0);
        break;
    case H_RECEIVE_TIMEOUT: CHECK_RC(swerl_receive_timeout(ctx, small_ms(o->a)), OK_); break;
    case H_REGISTER:
        if (o->a & 1)
            CHECK_RC(swerl_register(rt, pick_name(o->b), self),
                     OK_ | E_(EINVAL) | E_(ENAMETAKEN) | E_(EHASNAME) | E_(ESTOPPED));
        else
            CHECK_RC(swerl_unregister(rt, pick_name(o->b)), OK_ | E_(EINVAL) | E_(ENONAME) | E_(ESTOPPED));
        break;
    case H_SEND_AFTER:
        if (CHECK_PID_RC(swerl_send_after(rt, o->pid, small_ms(o->a), pad, o->b % 8, &ref), o->pid,
                         TIMER_CODES | E_(ENOPROC)) == 0)
            pool_add(&g_refs, ref);
        break;
    case H_CANCEL: {
        uint32_t left;
        cancel_timer(rt, o->ref, o->a & 1 ? NULL : &left);
        break;
    }
    case H_INFO: {
        swerl_process_info info;
        memset(&info, 0, sizeof info);
        info.size = o->a & 1 ? sizeof info : 8;
        CHECK_PID_RC(swerl_process_get_info(rt, o->pid, &info), o->pid,
                     OK_ | E_(EINVAL) | E_(ENOPROC) | E_(ESTOPPED));
        break;
    }
    case H_IN_PROC: {
        /* What would wait for the runtime itself is refused inside a callback;
           swerl_call and the supervisor management calls only on a scheduler
           (a blocking process may call). */
        swerl_buffer reply = {NULL, 0};
        swerl_child_counts counts;
        counts.size = sizeof counts;
        switch (o->a % 4) {
        case 0:
            expect("swerl_call", swerl_call(rt, o->pid, "x", 1, 5, &reply),
                   wait_codes_here(st, CALL_CODES | (o->pid == self ? E_(ECALLSELF) : 0), E_(ESTOPPED)));
            break;
        case 1:
            if (swerl_runtime_stop(rt, 10) != SWERL_EINPROC)
                fail_contract("swerl_runtime_stop", 0, "allowed inside a callback");
            break;
        case 2:
            swerl_runtime_free(rt);                     /* documented: ignored here */
            break;
        default:                                        /* a call too: the same rule */
            expect("swerl_supervisor_count_children", swerl_supervisor_count_children(rt, o->pid, &counts),
                   wait_codes_here(st, SUP_COMMON, E_(ESTOPPED)));
        }
        swerl_buffer_free(&reply);
        break;
    }
    case H_SAVE_CTX: AT_STORE(&g_saved_ctx, ctx); break;
    case H_SELF:
        if (self == 0) fail_contract("swerl_self", 0, "0 inside a handler");
        break;
    case H_SET_BLOCKING: {
        int on = o->a & 1, rc = swerl_set_blocking(ctx, on);
        if (rc != st->blocking) fail_contract("swerl_set_blocking", rc, "not the previous value");
        state_set_blocking(st, on);
        break;
    }
    case H_BLOCKING_CALL: {
        /* swerl_call from a handler: EINPROC on a scheduler, a real call
           (bounded) on the blocking pool; to itself ECALLSELF. */
        op_msg req;
        swerl_buffer reply = {NULL, 0};
        swerl_pid to = o->b & 0x80 ? self : o->pid;
        int rc;
        memset(&req, 0, sizeof req);
        req.op = o->c;
        req.a = o->a;
        req.pid = self;
        rc = expect_pid("swerl_call", swerl_call(rt, to, &req, sizeof req, wait_ms(o->b), o->a & 0x40 ? NULL : &reply),
                        wait_codes_here(st, CALL_CODES | (to == self ? E_(ECALLSELF) : 0),
                                        E_(ESTOPPED) | (o->a & 0x40 ? E_(EINVAL) : 0)),
                        to);
        if (rc != 0 && (reply.data || reply.len)) fail_contract("swerl_call", rc, "reply not empty on error");
        if (rc == 0 && to == self)
            fail_contract("swerl_call", rc, "a process got an answer from itself while it waited");
        swerl_buffer_free(&reply);
        break;
    }
    case H_WAIT_EXIT: {
        int32_t reason = INT32_MIN;
        swerl_pid to = o->b & 0x80 ? self : o->pid;
        int rc = expect("swerl_wait_exit", swerl_wait_exit(rt, to, wait_ms(o->b), o->a & 1 ? NULL : &reason),
                        wait_codes_here(st, WAIT_EXIT_CODES & ~E_(EINVAL), E_(ESTOPPED)));
        if (tracing()) fprintf(stderr, "  (waited for %llx: reason %d)\n", (unsigned long long)to, reason);
        if (rc == 0 && to == self) fail_contract("swerl_wait_exit", rc, "a process saw its own exit while it waited");
        if (rc == 0 && !(o->a & 1) && (to == 0 || is_foreign(to)) && reason != SWERL_REASON_NOPROC)
            fail_contract("swerl_wait_exit", reason, "a pid never alive: not NOPROC");
        break;
    }
    case H_SLEEP:
        /* A scheduled handler that blocks: reported as a long turn, its
           scheduler handed over after ~10 ms. */
        sleep_us((long)(o->a % 16) * 1000);
        break;
    case H_CALL_NOTIFY: {
        op_msg req;
        swerl_pid to = o->b & 0x80 ? self : o->pid;
        notify_rec *r = notify_new(NOTIFY_CALL, o->a, to, 1);
        if (!r) break;
        memset(&req, 0, sizeof req);
        req.op = o->c;
        req.pid = self;
        /* ECALLSELF: `to` is the caller */
        notify_call(r, rt, &req, sizeof req, small_ms(o->b), to == self ? E_(ECALLSELF) : 0);
        if (to == self && !AT_LOAD(&r->failed)) fail_contract("swerl_call_notify", 0, "a process called itself");
        break;
    }
    case H_WATCH_EXIT: {
        notify_rec *r = notify_new(NOTIFY_WATCH, o->a, o->b & 0x80 ? self : o->pid, 1);
        if (r) notify_watch(r, rt);
        break;
    }
    case H_CANCEL_NOTIFY:
        cancel_notify(rt, o->a & 1 ? notify_pick(o->b) : o->ref);
        break;
    case H_SEND_AFTER_NAMED: {
        op_msg fwd;
        const char *name = pick_name(o->b);
        uint32_t ms = small_ms(o->a);
        int rc;
        memset(&fwd, 0, sizeof fwd);
        fwd.op = o->c;
        fwd.pid = self;
        rc = CHECK_RC(swerl_send_after_named(rt, name, ms, &fwd, sizeof fwd, &ref), TIMER_CODES);
        if (rc == 0 && (!name || !*name || strlen(name) > SWERL_NAME_MAX || ms == SWERL_INFINITY))
            fail_contract("swerl_send_after_named", rc, "a bad name or SWERL_INFINITY accepted");
        if (rc == 0) pool_add(&g_refs, ref);
        break;
    }
    case H_SOCKET:
        socket_op(ctx, o);
        break;
    case H_SET_GROUP: set_group_op(ctx, o, st); break;
    case H_GROUP: group_in_handler(o); break;
    case H_BIN_NEW:
    case H_BIN_SEND:
    case H_BIN_KEEP:
    case H_BIN_RELEASE: return bin_in_handler(ctx, m, o, st);
    default: break;
    }
    return SWERL_CONTINUE;
}

/* A message marked as a term is exactly one term: skip crosses it whole,
   and the cursor reads its first header. */
static void check_term_message(swerl_ctx *ctx, const swerl_message *m)
{
    size_t at = 0;
    swerl_term t;
    if (swerl_term_skip(m->data, m->len, &at) != 0 || at != m->len)
        fail_contract("swerl_term_skip", 0, "a term message is not one whole term");
    memset(&t, 0, sizeof t);
    t.size = sizeof t;
    at = 0;
    if (swerl_term_read(swerl_ctx_runtime(ctx), m->data, m->len, &at, &t) != 0)
        fail_contract("swerl_term_read", 0, "a term message's first header is refused");
}

static int proc_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    proc_state *st = state_of(state, "handle");
    op_msg o;
    int r;
    check_callback_thread("handle");
    if (m->len > 0 && !m->data) fail_contract("handle", 0, "message data NULL with len > 0");
    if (m->flags & ~(SWERL_MESSAGE_TERM | SWERL_MESSAGE_SHARED)) fail_contract("handle", 0, "unknown bits in msg->flags");
    if (m->flags & SWERL_MESSAGE_SHARED) return bin_receive(m, st);
    if (m->flags & SWERL_MESSAGE_TERM) check_term_message(ctx, m);
    switch (m->kind) {
    case SWERL_MESSAGE:
    case SWERL_CALL:
        if (m->kind == SWERL_MESSAGE && m->len == sizeof(probe_msg)) {
            probe_msg p;
            memcpy(&p, m->data, sizeof p);
            if (p.magic == PROBE_MAGIC) {
                if (m->from != 0) fail_contract("swerl_send (in done)", 0, "a done callback sent from a process");
                return SWERL_CONTINUE;
            }
        }
        if (m->len < sizeof o) {
            r = SWERL_CONTINUE;
            o.a = 0;
        } else {
            memcpy(&o, m->data, sizeof o);
            r = run_op(ctx, m, &o, st);
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
    case SWERL_SOCKET_ACCEPTED:
    case SWERL_SOCKET_DATA:
    case SWERL_SOCKET_CLOSED:
    case SWERL_SOCKET_PASSIVE:
    case SWERL_SOCKET_CONNECTED:
    case SWERL_SOCKET_WRITABLE:
        if (m->ref == 0) fail_contract("handle", (int)m->kind, "a socket message without its socket");
        if (m->kind == SWERL_SOCKET_DATA && m->len == 0) fail_contract("handle", 0, "an empty SOCKET_DATA");
        if (m->kind == SWERL_SOCKET_ACCEPTED) pool_add(&g_socks, m->ref);
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
    uint8_t s = in_u8(in), t = in_u8(in), last;
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
    /* The last byte: 0xff a size too small; 0xfe an init that makes the
       child a blocking process (swerl_set_blocking, as swerl.h advises). */
    last = in_u8(in);
    if (last == 0xff) c->size = 8;
    if (t & 1) {
        proc_arg *a = arg_new(t >> 1, last == 0xfe);
        sb->args[sb->n_args++] = a;
        c->arg = a;
        c->arg_free = arg_free;
    } else {
        c->arg = SUPERVISED_ARG(last == 0xfe, t >> 1);
    }
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
    M_SET_MAX_MEMORY,
    /* since 1.2 */
    M_CALL_NOTIFY, M_WATCH_EXIT, M_CANCEL_NOTIFY, M_WAIT_EXIT, M_SEND_AFTER_NAMED,
    M_PID_FORMAT, M_LONG_TURN, M_BLOCKING_THREADS, M_OTHER_RUNTIME,
    M_TERM, M_TERM_WRITER, M_DIST, M_NODE,
    /* turn groups, since 1.2 */
    M_GROUP_CREATE, M_GROUP_SPAWN, M_GROUP_RUN, M_GROUP_BATCH, M_GROUP_RESUME, M_GROUP_MISC,
    /* the observer's HTTP request parser */
    M_HTTP,
    /* shared binaries, since 1.4 */
    M_BIN_NEW, M_BIN_RETAIN, M_BIN_RELEASE, M_BIN_SEND, M_BIN_BAD,
    M_COUNT
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

/* ------------------------------------------------------------------------ */
/* A second runtime: its pids are unknown to the first, and the reverse      */
/* ------------------------------------------------------------------------ */

/* Started by the first M_OTHER_RUNTIME of an input (one scheduler, no
   hooks), freed after the input's own runtime. Its one process, the
   sentinel, traps exits and aborts on anything it receives before that
   runtime's stop: nothing sent with the first runtime may reach it (a
   message, an exit, a link, a monitor), and its pid in the first runtime's
   pools must be ENOPROC (expect_pid) or NOPROC everywhere. */
static swerl_runtime *g_rt2;
static swerl_pid g_sentinel;
static int g_rt2_stopping;      /* atomic */

static int sentinel_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)state;
    if (m->kind == SWERL_EXIT && m->reason == SWERL_REASON_SHUTDOWN && AT_LOAD(&g_rt2_stopping)) return SWERL_STOP;
    fprintf(stderr, "swerl_fuzz: the second runtime's process got a message of kind %u (reason %d) from %llx: "
            "something sent with the first runtime reached it\n", m->kind, m->reason, (unsigned long long)m->from);
    abort();
}

static const swerl_behavior g_sentinel_behavior = {sizeof(swerl_behavior), NULL, sentinel_handle, NULL};

static int other_runtime_start(void)
{
    swerl_config cfg;
    swerl_spawn_opts opts;
    if (g_rt2) return g_sentinel != 0;
    swerl_config_init(&cfg);
    cfg.schedulers = 1;
    cfg.max_processes = 4;
    AT_STORE(&g_rt2_stopping, 0);
    if (CHECK_RC(swerl_runtime_start(&cfg, &g_rt2), OK_ | E_(ENOMEM)) != 0) {
        g_rt2 = NULL;
        return 0;
    }
    swerl_spawn_opts_init(&opts);
    opts.flags = SWERL_SPAWN_TRAP_EXIT;
    if (CHECK_RC(swerl_spawn(g_rt2, &g_sentinel_behavior, NULL, &opts, &g_sentinel), OK_ | E_(ENOMEM)) != 0) {
        g_sentinel = 0;
        return 0;
    }
    if (g_sentinel & PID_REMOTE) fail_contract("swerl_spawn", 0, "a local process has a pid with the remote flag");
    if (PID_TAG(g_sentinel) == AT_LOAD(&g_own_tag)) fail_contract("swerl_spawn", 0, "two runtimes with one tag");
    AT_STORE(&g_other_tag, PID_TAG(g_sentinel));
    pool_add(&g_pids, g_sentinel);
    return 1;
}

/* What the first runtime does with a pid it does not know: refuses it
   (ENOPROC), or says it is not alive (NOPROC). */
static void use_foreign_pid(swerl_runtime *rt, swerl_pid f, uint8_t s)
{
    swerl_buffer reply = {NULL, 0};
    swerl_process_info info;
    swerl_child_counts counts;
    swerl_ref ref;
    int32_t reason = INT32_MIN;
    notify_rec *r;
    CHECK_PID_RC(swerl_send(rt, f, "x", 1), f, E_(ENOPROC) | E_(ESTOPPED));
    CHECK_PID_RC(swerl_exit(rt, f, s & 1 ? SWERL_REASON_KILL : SWERL_REASON_USER, NULL, 0), f,
                 E_(ENOPROC) | E_(ESTOPPED));
    CHECK_PID_RC(swerl_register(rt, "w", f), f, E_(ENOPROC) | E_(ENAMETAKEN) | E_(ESTOPPED));
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    CHECK_PID_RC(swerl_process_get_info(rt, f, &info), f, E_(ENOPROC) | E_(ESTOPPED));
    CHECK_PID_RC(swerl_send_after(rt, f, 1, "x", 1, &ref), f, E_(ENOPROC) | E_(ESTOPPED));
    CHECK_PID_RC(swerl_call(rt, f, "x", 1, s & 2 ? 0 : 5, &reply), f, E_(ENOPROC) | E_(ESTOPPED));
    swerl_buffer_free(&reply);
    counts.size = sizeof counts;
    CHECK_PID_RC(swerl_supervisor_count_children(rt, f, &counts), f, E_(ENOPROC) | E_(ESTOPPED));
    if (CHECK_RC(swerl_wait_exit(rt, f, SWERL_INFINITY, &reason), OK_ | E_(ESTOPPED)) == 0 &&
        reason != SWERL_REASON_NOPROC)
        fail_contract("swerl_wait_exit", reason, "a pid of another runtime: not NOPROC");
    if ((r = notify_new(NOTIFY_WATCH, s >> 4, f, 1)) != NULL) notify_watch(r, rt);
    if ((r = notify_new(NOTIFY_CALL, s >> 4, f, 1)) != NULL) notify_call(r, rt, "x", 1, SWERL_INFINITY, 0);
}

/* s % 4: which pid the first runtime gets: the sentinel, a pid of its own
   with the remote flag, with another tag, with the second runtime's tag;
   0x04: put it in the pool for later operations; 0x08: the second runtime
   gets one of the first's pids too. */
static void other_runtime_op(uint8_t s, swerl_pid own)
{
    swerl_pid f;
    if (!other_runtime_start()) return;
    if (tracing()) fprintf(stderr, "  other runtime: sentinel %llx\n", (unsigned long long)g_sentinel);
    switch (s % 4) {
    case 0: f = g_sentinel; break;
    case 1: f = own | PID_REMOTE; break;
    case 2: f = (own & ~PID_TAG_MASK) | ((swerl_pid)(uint8_t)(PID_TAG(own) + 1 + (s >> 4)) << PID_TAG_SHIFT); break;
    default: f = (own & ~PID_TAG_MASK) | ((swerl_pid)AT_LOAD(&g_other_tag) << PID_TAG_SHIFT); break;
    }
    if (f == 0 || !is_foreign(f)) f = g_sentinel;          /* `own` 0, or the runtime's tag unknown yet */
    if (s & 0x04) pool_add(&g_pids, f);
    use_foreign_pid(g_rt, f, s);
    if (s & 0x08 && own != 0 && !is_foreign(own)) {
        /* The first runtime's pid in the second: unknown there too. */
        CHECK_RC(swerl_send(g_rt2, own, "x", 1), E_(ENOPROC));
        CHECK_RC(swerl_exit(g_rt2, own, SWERL_REASON_KILL, NULL, 0), E_(ENOPROC));
    }
}

/* After the input's own runtime is gone: the sentinel is still alive (no
   exit reached it), then the second runtime stops cleanly. */
static void other_runtime_end(void)
{
    swerl_process_info info;
    if (!g_rt2) return;
    if (g_sentinel) {
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        if (swerl_process_get_info(g_rt2, g_sentinel, &info) != 0)
            fail_contract("swerl_process_get_info", 0, "the second runtime's process died of the first's doing");
    }
    AT_STORE(&g_rt2_stopping, 1);
    CHECK_RC(swerl_runtime_stop(g_rt2, 100), OK_);
    swerl_runtime_free(g_rt2);
    g_rt2 = NULL;
    AT_STORE(&g_group2, (swerl_group *)NULL);
    g_sentinel = 0;
    AT_STORE(&g_other_tag, -1);
}

/* Everything a reader offers on `data`, checked against the contract: the
   codes the header lists; the cursor never moves past the end, nor on a
   refusal; skip, read and format agree on what a whole term is; format's
   length is the same for every capacity and its text is NUL-terminated. */
static void term_read_all(swerl_runtime *rt, const uint8_t *data, size_t len, uint8_t s)
{
    size_t at = 0, before, whole = 0;
    swerl_term t;
    char small[8], *exact;
    int rc, n, steps = 0, is_whole;
    memset(&t, 0, sizeof t);
    t.size = s & 1 ? 8 : sizeof t;                           /* too small: EINVAL */
    while (steps++ < 4096) {
        before = at;
        rc = CHECK_RC(swerl_term_read(s & 2 ? NULL : rt, data, len, &at, &t), OK_ | E_(EINVAL));
        if (rc != 0) {
            if (at != before) fail_contract("swerl_term_read", rc, "moved the offset on a refusal");
            break;
        }
        if (at <= before || at > len) fail_contract("swerl_term_read", rc, "the offset went back or past the end");
        if (t.len > len || (t.len && ((const uint8_t *)t.bytes < data || (const uint8_t *)t.bytes + t.len > data + len)))
            fail_contract("swerl_term_read", rc, "bytes outside the data");
        if (t.type < SWERL_TERM_ATOM || t.type > SWERL_TERM_FUN) fail_contract("swerl_term_read", rc, "unknown type");
    }
    rc = CHECK_RC(swerl_term_skip(data, len, &whole), OK_ | E_(EINVAL));
    is_whole = rc == 0 && whole == len;
    if (rc == 0 && (whole == 0 || whole > len)) fail_contract("swerl_term_skip", rc, "an offset outside the data");
    n = CHECK_RC_LEN(swerl_term_format(s & 4 ? NULL : rt, data, len, NULL, 0));
    if ((n >= 0) != is_whole) fail_contract("swerl_term_format", n, "format and skip disagree on a whole term");
    if (n < 0) return;
    memset(small, 'x', sizeof small);
    if (swerl_term_format(s & 4 ? NULL : rt, data, len, small, s % 8 + 1) != n)
        fail_contract("swerl_term_format", n, "another length for another capacity");
    if (!memchr(small, 0, s % 8 + 1)) fail_contract("swerl_term_format", n, "truncated text not NUL-terminated");
    exact = (char *)malloc((size_t)n + 1);                   /* ASan sees a write past it */
    if (!exact) return;
    if (swerl_term_format(s & 4 ? NULL : rt, data, len, exact, (size_t)n + 1) != n || strlen(exact) != (size_t)n)
        fail_contract("swerl_term_format", n, "the text's length is not the length returned");
    free(exact);
}

/* A term from the input: `len` bytes, with the version byte put first or
   not; read, skipped, formatted, sent. */
static void term_op(swerl_runtime *rt, input *in)
{
    uint8_t s = in_u8(in), len = in_u8(in) % 64, i;
    uint8_t data[65];
    swerl_pid pid = pick_pid(in);
    size_t n = 0, whole = 0;
    int is_whole;
    if (s & 0x80) data[n++] = 131;
    for (i = 0; i < len; i++) data[n++] = in_u8(in);
    term_read_all(rt, data, n, s);
    is_whole = swerl_term_skip(data, n, &whole) == 0 && whole == n;
    if (s & 0x40) {
        int rc = expect_pid("swerl_send_term", swerl_send_term(rt, pid, data, n), SEND_CODES, pid);
        if (rc == SWERL_EINVAL && is_whole) fail_contract("swerl_send_term", rc, "a whole term refused");
        if (rc != SWERL_EINVAL && !is_whole && !(rc == SWERL_ETOOBIG))
            fail_contract("swerl_send_term", rc, "bytes that are not one whole term accepted");
    } else if (s & 0x20) {
        CHECK_RC(swerl_send_named_term(rt, pick_name(s), data, n), SEND_CODES | E_(ENONAME));
    }
}

/* A writer driven by the input: what it accepts is always one whole term,
   which every reader takes and swerl_send_term sends. */
static void writer_op(swerl_runtime *rt, input *in)
{
    uint8_t s = in_u8(in), steps = in_u8(in) % 24, k;
    swerl_term_writer *w = swerl_term_writer_new(s & 1 ? NULL : rt);
    const void *data;
    size_t len = 0, at = 0;
    char text[16];
    if (!w) return;
    for (k = 0; k < steps; k++) {
        uint8_t op = in_u8(in), v = in_u8(in);
        const uint64_t OK_OR_INVAL = OK_ | E_(EINVAL);
        switch (op % 14) {
        case 0: CHECK_RC(swerl_term_writer_put_atom(w, v & 0x80 ? NULL : pick_name(v % 8)), OK_OR_INVAL); break;
        case 1: CHECK_RC(swerl_term_writer_put_int(w, (int64_t)in_u64(in)), OK_OR_INVAL); break;
        case 2: CHECK_RC(swerl_term_writer_put_uint(w, in_u64(in)), OK_OR_INVAL); break;
        case 3: {
            uint64_t bits = in_u64(in);
            double d;
            memcpy(&d, &bits, sizeof d);
            CHECK_RC(swerl_term_writer_put_float(w, d), OK_OR_INVAL);
            break;
        }
        case 4: CHECK_RC(swerl_term_writer_put_binary(w, v & 0x80 ? NULL : text, v % 9), OK_OR_INVAL); break;
        case 5: CHECK_RC(swerl_term_writer_put_string(w, v & 0x80 ? NULL : "h\xc3\xa9"), OK_OR_INVAL); break;
        case 6: CHECK_RC(swerl_term_writer_put_tuple(w, v % 4), OK_OR_INVAL); break;
        case 7: CHECK_RC(swerl_term_writer_put_list(w, v % 4), OK_OR_INVAL); break;
        case 8: CHECK_RC(swerl_term_writer_put_improper_list(w, v % 3), OK_OR_INVAL); break;
        case 9: CHECK_RC(swerl_term_writer_put_map(w, v % 3), OK_OR_INVAL); break;
        case 10: CHECK_RC(swerl_term_writer_put_pid(v & 0x80 ? NULL : w, pick_pid(in)), OK_OR_INVAL); break;
        case 11: CHECK_RC(swerl_term_writer_put_ref(w, v & 1 ? 0 : pick_ref(in)), OK_OR_INVAL); break;
        case 12: CHECK_RC(swerl_term_writer_put_bigint(w, v & 1, v & 0x80 ? NULL : text, v % 9), OK_OR_INVAL); break;
        default: if (v % 8 == 0) swerl_term_writer_reset(w); else CHECK_RC(swerl_term_writer_put_bool(w, v & 1), OK_OR_INVAL);
        }
    }
    if (CHECK_RC(swerl_term_writer_bytes(w, s & 2 ? NULL : &data, &len), OK_ | E_(EINVAL)) == 0) {
        if (swerl_term_skip(data, len, &at) != 0 || at != len)
            fail_contract("swerl_term_writer_bytes", 0, "the writer made bytes that are not one whole term");
        term_read_all(rt, (const uint8_t *)data, len, s >> 4);
        if (s & 4) {
            swerl_pid pid = pick_pid(in);
            int rc = expect_pid("swerl_send_term", swerl_send_term(rt, pid, data, len), SEND_CODES, pid);
            if (rc == SWERL_EINVAL) fail_contract("swerl_send_term", rc, "the writer's term refused");
        }
    }
    swerl_term_writer_free(w);
}

/* The sanitizer build's hook into the distribution layer's parsers (the
   handshake in both roles, frames, EPMD answers, exit reasons, terms): the
   bytes a peer could send, with no network. Not in swerl.h. */
void swerl_fuzz_dist(const uint8_t *data, size_t len);

static void dist_op(input *in)
{
    uint8_t len = in_u8(in) % 160, i;
    uint8_t data[160];
    for (i = 0; i < len; i++) data[i] = in_u8(in);
    swerl_fuzz_dist(data, len);
}

/* The sanitizer build's hook into the observer server's HTTP request parser:
   three bytes of limits and split, then what a client could send; the hook
   checks that every way of splitting it gives the same requests. Not in
   swerl.h. */
void swerl_fuzz_http(const uint8_t *data, size_t len);

static void http_op(input *in)
{
    uint8_t len = in_u8(in), i;
    uint8_t data[255];
    for (i = 0; i < len && in->n > 0; i++) data[i] = in_u8(in);
    swerl_fuzz_http(data, i);
}

/* The node calls on a runtime that is not a node: each refuses (EINVAL),
   whatever the arguments; swerl_pid_node names this runtime's pids' node. */
static void node_op(swerl_runtime *rt, input *in)
{
    uint8_t s = in_u8(in);
    char buf[64];
    swerl_pid pid = pick_pid(in);
    const char *node = s & 1 ? "erl@127.0.0.1" : s & 2 ? NULL : "not a node";
    int rc;
    CHECK_RC(swerl_node_name(rt, s & 4 ? NULL : buf, s & 4 ? 0 : sizeof buf), E_(EINVAL));
    CHECK_RC(swerl_node_connect(rt, node, 1), E_(EINVAL) | E_(EINPROC) | E_(ESTOPPED));
    CHECK_RC(swerl_send_remote(rt, s & 8 ? NULL : "kv", node, "x", 1), E_(EINVAL) | E_(ESTOPPED));
    rc = swerl_pid_node(rt, pid, buf, sizeof buf);
    if (rc < 0) CHECK_RC(rc, E_(ENOPROC));
    if (rc > 0 && strcmp(buf, "nonode@nohost") != 0)
        fail_contract("swerl_pid_node", rc, "a pid of a runtime that is not a node named a node");
}

/* ------------------------------------------------------------------------ */
/* Turn groups, driven by the main thread (and a helper thread)             */
/* ------------------------------------------------------------------------ */

/* A batch the harness holds or has set aside: how far its handling got, and
   what the header's rules say about going on. */
typedef struct held_batch {
    swerl_turn *turn;
    swerl_group *group;
    uint32_t next;              /* messages[0 .. next) handled, their results written */
    uint8_t skipped;            /* one was skipped: an accepted one after it ends the batch */
    uint8_t ended;              /* the rules say: hand it back now */
    uint8_t lawless;            /* go on past that point (odd results, never a crash or a leak) */
} held_batch;

/* Main thread only: batches set aside (swerl_turn_suspend) and kept across
   operations, taken back by M_GROUP_RESUME or before a stop (which would
   wait for them); the one set aside while the current operation handles
   another; groups made; each group's descriptor and batch minimum. */
enum { MAX_ASIDE = 3 };
static held_batch g_aside[MAX_ASIDE];
static unsigned g_n_aside;
static swerl_turn *g_outer;
static long g_groups_made;
static int g_group_fd[MAX_GROUPS];
static uint32_t g_batch_min[MAX_GROUPS];
/* Args whose init moves the process into group k (swerl_set_group). */
static proc_arg g_join_args[MAX_GROUPS][5];

static int group_index(const swerl_group *g)
{
    unsigned i, n = AT_LOAD(&g_n_groups);
    for (i = 0; g && i < n; i++)
        if (AT_LOAD(&g_groups[i]) == g) return (int)i;
    return -1;
}

static int is_aside(const swerl_turn *t)
{
    unsigned i;
    for (i = 0; i < g_n_aside; i++)
        if (g_aside[i].turn == t) return 1;
    return t == g_outer;
}

/* What swerl_group_run (turns run), swerl_group_take and _next (1: a batch)
   return on a thread that holds no batch: 0..most; EINVAL exactly for bad
   input; ESTOPPED exactly once the group's runtime has stopped. */
static int expect_drive(const char *fn, int rc, const swerl_group *g, int bad, int most)
{
    int stopped = g_stopped && g && !is_group2(g);
    if (rc > 0 && tracing()) fprintf(stderr, "  %s -> %d\n", fn, rc);
    if (rc <= 0) expect(fn, rc, bad ? E_(EINVAL) | (stopped ? E_(ESTOPPED) : 0) : stopped ? E_(ESTOPPED) : OK_);
    if (rc > most) fail_contract(fn, rc, "more than it was asked for");
    return rc;
}

/* A batch as handed out: 1..max messages, a ctx acting for its process,
   lent data, no flags but TERM and SHARED yet, a TIMEOUT alone, no fewer messages
   than the group's batch minimum (unless a handler changed it). */
static void check_batch(const char *fn, const swerl_turn *t, uint32_t max, const swerl_group *g)
{
    int idx = group_index(g);
    uint32_t i;
    if (!t || !t->messages || !t->results || !t->ctx) fail_contract(fn, 1, "a batch with NULL fields");
    if (t->count == 0 || t->count > max) fail_contract(fn, (int)t->count, "not 1..max_messages messages");
    if (swerl_self(t->ctx) != t->pid || t->pid == 0) fail_contract(fn, 1, "the batch's ctx does not act for it");
    if (swerl_ctx_runtime(t->ctx) != g_rt) fail_contract(fn, 1, "the batch's ctx is not of its runtime");
    note_own_pid(fn, t->pid);
    if (idx >= 0 && !AT_LOAD(&g_batch_min_racy) && t->count < g_batch_min[idx])
        fail_contract(fn, (int)t->count, "a batch shorter than swerl_group_set_batch_min");
    for (i = 0; i < t->count; i++) {
        const swerl_message *m = &t->messages[i];
        if (m->len > 0 && !m->data) fail_contract(fn, 1, "message data NULL with len > 0");
        if (m->flags & ~(SWERL_MESSAGE_TERM | SWERL_MESSAGE_SHARED))
            fail_contract(fn, 1, "a fresh batch with flags other than TERM and SHARED");
        if (m->kind == SWERL_TIMEOUT && t->count != 1) fail_contract(fn, 1, "a TIMEOUT in a batch of more");
        touch(m->data, m->len);
    }
    if (tracing()) fprintf(stderr, "  batch of %llx: %u message(s)\n", (unsigned long long)t->pid, t->count);
}

/* swerl_group_take, or _next with no batch done: a checked batch or NULL. */
static swerl_turn *batch_take(swerl_group *g, uint32_t max, uint32_t ms, int via_next)
{
    swerl_turn *t = NULL;
    const char *fn = via_next ? "swerl_group_next" : "swerl_group_take";
    int rc = via_next ? swerl_group_next(g, NULL, 0, max, ms, &t) : swerl_group_take(g, max, ms, &t);
    if (expect_drive(fn, rc, g, !g || max == 0 || max > 1024, 1) != 1) return NULL;
    check_batch(fn, t, max, g);
    AT_STORE(&g_any_turn, t);
    return t;
}

/* The driving thread handles messages[next ..], a plan byte p from the
   input each: p % 8 < 4 what handle() returns (proc_handle with the
   batch's ctx and state), 4..7 CONTINUE, SKIP, STOP, a failure (0x20: an
   unknown positive value) without calling it; `current` written unless
   p & 0x18 is 0x18. Stops at `upto`, at the end, and where the header says
   (after a STOP or failure, after an accept that follows a skip) unless
   lawless. A withdrawn message is not handled; its result is not read. */
static void batch_handle(held_batch *b, input *in, uint32_t upto)
{
    swerl_turn *t = b->turn;
    while (b->next < t->count && b->next < upto && (!b->ended || b->lawless)) {
        uint32_t i = b->next++;
        const swerl_message *m = &t->messages[i];
        uint8_t p = in_u8(in);
        int32_t r;
        if ((p & 0x18) != 0x18) t->current = i;
        if (m->flags & ~(SWERL_MESSAGE_TERM | SWERL_MESSAGE_SHARED | SWERL_MESSAGE_WITHDRAWN))
            fail_contract("swerl_group_take", 1, "unknown bits in a batch message's flags");
        if (m->flags & SWERL_MESSAGE_WITHDRAWN) {
            t->results[i] = 0x5a5a5a5a;
            continue;
        }
        switch (p % 8) {
        case 4: r = SWERL_CONTINUE; break;
        case 5: r = SWERL_SKIP; break;
        case 6: r = SWERL_STOP; break;
        case 7: r = p & 0x20 ? 3 + (p >> 6) : -1 - (p >> 6); break;
        default: r = proc_handle(t->ctx, m, t->state);
        }
        if (tracing()) fprintf(stderr, "  batch of %llx: [%u] -> %d\n", (unsigned long long)t->pid, i, r);
        t->results[i] = r;
        if (r == SWERL_SKIP) b->skipped = 1;
        else if (r != SWERL_CONTINUE || b->skipped) b->ended = 1;
    }
}

/* How many the driving thread hands back (h % 8): how far it got; 5 fewer;
   6 all, handled or not; 7 more than the batch has (EINVAL). */
static uint32_t batch_handed(const held_batch *b, uint8_t h)
{
    switch (h % 8) {
    case 5: return (h >> 3) % (b->next + 1);
    case 6: return b->turn->count;
    case 7: return b->turn->count + 1 + (h >> 3);
    default: return b->next;
    }
}

/* swerl_group_finish as h says (more than the batch has: EINVAL, then how
   far it got); 0x40: a second finish (EINVAL: nothing held now). */
static void batch_finish(held_batch *b, uint8_t h)
{
    swerl_turn *t = b->turn;
    uint32_t handed = batch_handed(b, h);
    if (handed > t->count) {
        CHECK_RC(swerl_group_finish(t, handed), E_(EINVAL));
        handed = b->next;
    }
    CHECK_RC(swerl_group_finish(t, handed), OK_);
    if (h & 0x40) CHECK_RC(swerl_group_finish(t, 0), E_(EINVAL));
    b->turn = NULL;
}

/* swerl_group_next: finish `b` as h says and take the group's next batch
   into it (a finish error comes first: the batch is still held). */
static void batch_next(held_batch *b, uint32_t max, uint8_t h)
{
    swerl_turn *t = b->turn, *next = NULL;
    uint32_t handed = batch_handed(b, h), count = t->count;   /* the next batch may reuse *t */
    int rc = swerl_group_next(b->group, t, handed, max, 0, &next);
    if (handed > count) {
        expect("swerl_group_next", rc, E_(EINVAL));
        batch_finish(b, 0);
        next = batch_take(b->group, max, 0, 1);
    } else if (expect_drive("swerl_group_next", rc, b->group, 0, 1) == 1) {
        check_batch("swerl_group_next", next, max, b->group);
        AT_STORE(&g_any_turn, next);
    } else {
        next = NULL;
    }
    b->turn = next;
    b->next = 0;
    b->skipped = b->ended = 0;
}

/* What a thread holding a batch must not do: EINVAL for its own group
   (take, next, a finish of a fake or of more than the batch has, a resume
   of what is not set aside), EINPROC for what would drive or wait (run,
   another group's take, a stop, a call, a wait); resuming one set aside:
   EINVAL (same group) or EINPROC. */
static void misuse_holding(const held_batch *b, uint8_t u)
{
    swerl_turn *t = b->turn, *other = NULL, fake;
    swerl_group *g = pick_group(u);
    swerl_buffer reply = {NULL, 0};
    unsigned i;
    memset(&fake, 0, sizeof fake);
    CHECK_RC(swerl_group_take(b->group, 1, 0, &other), E_(EINVAL));
    CHECK_RC(swerl_group_next(b->group, NULL, 0, 1, 0, &other), E_(EINVAL));
    CHECK_RC(swerl_group_run(b->group, 1, 0), E_(EINPROC));
    if (g != b->group) CHECK_RC(swerl_group_take(g, 1, 0, &other), E_(EINVAL) | E_(EINPROC));
    CHECK_RC(swerl_group_finish(&fake, 0), E_(EINVAL));
    CHECK_RC(swerl_group_finish(t, t->count + 1), E_(EINVAL));
    CHECK_RC(swerl_group_next(b->group, &fake, 0, 1, 0, &other), E_(EINVAL));
    CHECK_RC(swerl_turn_resume(t), E_(EINVAL));
    CHECK_RC(swerl_turn_suspend(&fake), E_(EINVAL));
    for (i = 0; i < g_n_aside; i++) CHECK_RC(swerl_turn_resume(g_aside[i].turn), E_(EINVAL) | E_(EINPROC));
    if (g_outer) CHECK_RC(swerl_turn_resume(g_outer), E_(EINVAL) | E_(EINPROC));
    if (u & 0x20) CHECK_RC(swerl_runtime_stop(g_rt, 0), E_(EINPROC));
    if (u & 0x40) {
        CHECK_RC(swerl_call(g_rt, t->pid, "x", 1, 0, &reply), E_(EINPROC) | E_(ECALLSELF));
        CHECK_RC(swerl_wait_exit(g_rt, t->pid, 0, NULL), E_(EINPROC));
    }
    swerl_buffer_free(&reply);
}

/* Take a batch set aside back on this thread: its ctx acts again. */
static void batch_resume_here(held_batch *b)
{
    CHECK_RC(swerl_turn_resume(b->turn), OK_);
    if (swerl_self(b->turn->ctx) != b->turn->pid)
        fail_contract("swerl_turn_resume", 0, "the ctx of a batch taken back does not act for its process");
    CHECK_RC(swerl_turn_resume(b->turn), E_(EINVAL));
}

/* A helper thread takes a batch set aside back, handles the rest with plan
   bytes read for it beforehand, and finishes it; meanwhile the main thread
   may run a group itself (two drivers at once). */
typedef struct helper_job { held_batch b; input plan; uint8_t h; } helper_job;

static void *helper_main(void *arg)
{
    helper_job *j = (helper_job *)arg;
    t_driving = 1;
    batch_resume_here(&j->b);
    batch_handle(&j->b, &j->plan, UINT32_MAX);
    batch_finish(&j->b, j->h);
    return NULL;
}

static void batch_resume_elsewhere(held_batch *b, input *in, uint8_t w)
{
    helper_job j;
    pthread_t thread;
    j.b = *b;
    j.h = in_u8(in);
    j.plan.p = in->p;
    j.plan.n = in->n < 24 ? in->n : 24;
    in->p += j.plan.n;
    in->n -= j.plan.n;
    if (pthread_create(&thread, NULL, helper_main, &j) != 0) {
        helper_main(&j);
        t_driving = 1;
        return;
    }
    if (w & 0x80) {
        swerl_group *g = pick_group(w >> 3);
        expect_drive("swerl_group_run", swerl_group_run(g, 2, 0), g, !g, 2);
    }
    pthread_join(thread, NULL);
}

static void group_batch(input *in, int depth);

/* Set `b` aside; meanwhile (w % 4): nothing, run a group, handle another
   batch (depth 0 only; it may be set aside too), or send the process an
   exit signal (it exits after the finish, not before). */
static void batch_suspend(held_batch *b, input *in, int depth)
{
    swerl_turn *t = b->turn, *outer = g_outer;
    uint8_t w = in_u8(in);
    CHECK_RC(swerl_turn_suspend(t), OK_);
    if (swerl_self(t->ctx) != 0) fail_contract("swerl_turn_suspend", 0, "the ctx of a batch set aside still acts");
    CHECK_RC(swerl_turn_suspend(t), E_(EINVAL));
    CHECK_RC(swerl_group_finish(t, b->next), E_(EINVAL));
    g_outer = t;
    switch (w % 4) {
    case 1: {
        swerl_group *g = pick_group(w >> 2);
        expect_drive("swerl_group_run", swerl_group_run(g, 2, 0), g, !g, 2);
        break;
    }
    case 2:
        if (depth == 0) group_batch(in, depth + 1);
        break;
    case 3:
        CHECK_RC(swerl_exit(g_rt, t->pid, w & 0x80 ? SWERL_REASON_KILL : SWERL_REASON_USER, NULL, 0),
                 OK_ | E_(ENOPROC));
        break;
    default: break;
    }
    g_outer = outer;
}

/* M_GROUP_BATCH, or another batch while one is set aside (depth 1).
   s % 4: take; next with no batch done; bad arguments (group_misc's); a
   chain of three through next. 0x04 a wait of 2 ms; 0x08 past the rules;
   0x10 set the first batch aside after (m >> 3) % 4 messages, then 0x20
   keep it aside (M_GROUP_RESUME or the stop take it back), 0x40 a helper
   thread takes it back and finishes it, else this thread does; 0x80
   misuse while holding. m % 8: max_messages. */
static void group_batch(input *in, int depth)
{
    static const uint32_t maxes[8] = {1, 2, 3, 4, 8, 16, 64, 1024};
    uint8_t s = in_u8(in), m = in_u8(in);
    uint32_t max = s % 4 == 2 ? (m & 1 ? 0 : 1025) : maxes[m % 8];
    unsigned k, chain = s % 4 == 3 ? 3 : 1;
    held_batch b;
    memset(&b, 0, sizeof b);
    b.group = pick_group(in_u8(in));
    b.lawless = (s & 0x08) != 0;
    b.turn = batch_take(b.group, max, s & 0x04 ? 2 : 0, s % 4 == 1);
    for (k = 0; b.turn; k++) {
        batch_handle(&b, in, k == 0 && s & 0x10 ? (m >> 3) % 4 : UINT32_MAX);
        if (k == 0 && s & 0x10) {
            batch_suspend(&b, in, depth);
            if (s & 0x20 && g_n_aside < MAX_ASIDE) {
                g_aside[g_n_aside++] = b;
                return;
            }
            if (s & 0x40) {
                batch_resume_elsewhere(&b, in, m);
                return;
            }
            batch_resume_here(&b);
            batch_handle(&b, in, UINT32_MAX);
        }
        if (s & 0x80) misuse_holding(&b, in_u8(in));
        if (k + 1 >= chain) {
            batch_finish(&b, in_u8(in));
            return;
        }
        batch_next(&b, max, in_u8(in));
    }
}

/* M_GROUP_RESUME: a batch set aside earlier (k % n) taken back here or by
   a helper thread (s & 1), handled to its end and finished; 0x80 misuse
   while holding it. With none set aside: resuming NULL, a fake and the
   last batch handed out (finished) is refused. */
static void group_resume_op(input *in)
{
    uint8_t s = in_u8(in), k = in_u8(in);
    held_batch b;
    if (g_n_aside == 0) {
        swerl_turn fake, *any = AT_LOAD(&g_any_turn);
        memset(&fake, 0, sizeof fake);
        CHECK_RC(swerl_turn_resume(s & 2 ? &fake : NULL), E_(EINVAL));
        if (any) CHECK_RC(swerl_turn_resume(any), E_(EINVAL));
        return;
    }
    k %= g_n_aside;
    b = g_aside[k];
    g_aside[k] = g_aside[--g_n_aside];
    if (s & 1) {
        batch_resume_elsewhere(&b, in, s);
        return;
    }
    batch_resume_here(&b);
    batch_handle(&b, in, UINT32_MAX);
    if (s & 0x80) misuse_holding(&b, in_u8(in));
    batch_finish(&b, in_u8(in));
}

/* Before a stop, which waits for a batch set aside, and at the end: every
   one is taken back and what was handled of it handed back. */
static void groups_settle(void)
{
    while (g_n_aside > 0) {
        held_batch *b = &g_aside[--g_n_aside];
        batch_resume_here(b);
        CHECK_RC(swerl_group_finish(b->turn, b->next), OK_);
    }
}

/* One swerl_group_create on this input's runtime: EINVAL exactly for a bad
   name, ESTOPPED exactly after the stop, ELIMIT exactly at 64 groups. */
static int group_create_one(const char *name)
{
    swerl_group *g = NULL;
    unsigned n = AT_LOAD(&g_n_groups);
    int bad = !name || !*name || strlen(name) > SWERL_NAME_MAX;
    int rc = CHECK_RC(swerl_group_create(g_rt, name, &g), OK_ | E_(EINVAL) | E_(ELIMIT) | E_(ESTOPPED));
    if (bad != (rc == SWERL_EINVAL)) fail_contract("swerl_group_create", rc, "EINVAL not exactly for a bad name");
    if (!bad && g_stopped != (rc == SWERL_ESTOPPED))
        fail_contract("swerl_group_create", rc, "ESTOPPED not exactly after the stop");
    if (rc == SWERL_ELIMIT && g_groups_made != GROUP_LIMIT)
        fail_contract("swerl_group_create", rc, "ELIMIT before 64 groups");
    if (rc != 0) return rc;
    if (!g) fail_contract("swerl_group_create", rc, "no group in *out");
    if (++g_groups_made > GROUP_LIMIT) fail_contract("swerl_group_create", rc, "more than 64 groups");
    if (n < MAX_GROUPS) {
        g_group_fd[n] = -1;
        g_batch_min[n] = 1;
        AT_STORE(&g_groups[n], g);
        AT_STORE(&g_n_groups, n + 1);
    }
    return 0;
}

/* M_GROUP_CREATE. s % 8 == 7: bad arguments (rt NULL, name NULL, "", too
   long, out NULL): EINVAL; 0x40: the second runtime's group (once); s % 8
   == 6 with 0x80: groups up to the limit; else one named by s >> 3. */
static void group_create_op(input *in)
{
    static const char *const names[5] = {"g", NULL, "", NULL, "g"};
    uint8_t s = in_u8(in);
    swerl_group *g = NULL;
    if (s % 8 == 7) {
        unsigned w = (s >> 3) % 5;
        CHECK_RC(swerl_group_create(w == 0 ? NULL : g_rt, w == 3 ? g_name_long : names[w], w == 4 ? NULL : &g),
                 E_(EINVAL));
    } else if (s & 0x40) {
        if (!AT_LOAD(&g_group2) && other_runtime_start() && CHECK_RC(swerl_group_create(g_rt2, "other", &g), OK_) == 0)
            AT_STORE(&g_group2, g);
    } else {
        while (group_create_one(pick_name(s >> 3)) == 0 && s % 8 == 6 && s & 0x80) {}
    }
}

/* M_GROUP_SPAWN: swerl_group_spawn with what M_SPAWN varies (s % 16: 0
   behaviour NULL, 1 handle NULL, 2 its size 4, 3 the opts' size 4, 4 out
   NULL, all EINVAL; 0x80 opts NULL); refused: a NULL group, BLOCKING (with
   a group), LINK and MONITOR (outside a handler), 0x10. s % 16 == 5: a
   scheduled process (swerl_spawn) whose init moves it into the group; 6:
   an init that makes it a blocking process. Never into the second
   runtime's group (a process there would break the sentinel's rule). */
static void group_spawn_op(input *in)
{
    uint8_t s = in_u8(in), t = in_u8(in);
    swerl_group *g = pick_group(in_u8(in));
    swerl_spawn_opts opts;
    swerl_behavior b = g_behavior;
    const swerl_behavior *bp = &b;
    swerl_pid pid = 0;
    swerl_ref ref = 0;
    int idx, rc, bad;
    if (is_group2(g)) g = NULL;
    idx = group_index(g);
    swerl_spawn_opts_init(&opts);
    opts.flags = (t & 0x0f) | (t & 0x80 ? 0x10u : 0);
    opts.name = t & 0x10 ? pick_name(in_u8(in)) : NULL;
    opts.mailbox_limit = (t >> 5) % 4;
    opts.overflow = in_u8(in) % 4;
    opts.monitor_ref = s & 0x40 ? NULL : &ref;
    if (s % 16 == 0) bp = NULL;
    else if (s % 16 == 1) b.handle = NULL;
    else if (s % 16 == 2) b.size = 4;
    else if (s % 16 == 3) opts.size = 4;
    bad = !g || s % 16 == 0 || s % 16 == 1 || s % 16 == 2 || s % 16 == 4 ||
          (!(s & 0x80) && (s % 16 == 3 || opts.flags & (0x10 | SWERL_SPAWN_BLOCKING | SWERL_SPAWN_LINK |
                                                        SWERL_SPAWN_MONITOR)));
    if (s % 16 == 5 && idx >= 0) {
        bad = !(s & 0x80) && opts.flags & (0x10 | SWERL_SPAWN_LINK | SWERL_SPAWN_MONITOR);
        rc = CHECK_RC(swerl_spawn(g_rt, bp, &g_join_args[idx][(s >> 4) % 5], s & 0x80 ? NULL : &opts, &pid),
                      SPAWN_CODES);
    } else {
        rc = CHECK_RC(swerl_group_spawn(g, bp, STATIC_ARG(0, s % 16 == 6, s >> 4), s & 0x80 ? NULL : &opts,
                                        s % 16 == 4 ? NULL : &pid),
                      SPAWN_CODES);
    }
    if (bad && rc == 0) fail_contract("swerl_group_spawn", rc, "bad input accepted");
    if (rc != 0) return;
    note_own_pid("swerl_group_spawn", pid);
    pool_add(&g_pids, pid);
}

/* M_GROUP_RUN: swerl_group_run(g, s % 5, 0 or 2 ms); 0x40: after a
   swerl_group_wake, which makes it return 0 at once. */
static void group_run_op(input *in)
{
    uint8_t s = in_u8(in);
    swerl_group *g = pick_group(in_u8(in));
    int rc;
    if (s & 0x40) CHECK_RC(swerl_group_wake(g), g ? OK_ : E_(EINVAL));
    rc = expect_drive("swerl_group_run", swerl_group_run(g, s % 5, s & 0x08 ? 2 : 0), g, !g, s % 5);
    if (s & 0x40 && rc > 0) fail_contract("swerl_group_run", rc, "ran turns right after swerl_group_wake");
}

/* M_GROUP_MISC. s % 8: 0 swerl_group_set_batch_min (0, 1, 2, 3, 1024, 1025,
   1026, or from the input); 1 swerl_group_fd (one descriptor per group,
   open); 2 swerl_group_wake; 3 finish, suspend, resume of NULL, a fake and
   the last batch handed out (finished): EINVAL; 4 a wake, then take or
   next with SWERL_INFINITY, which returns 0 at once; else take, next, run
   with bad arguments. 0x80: a NULL group. */
static void group_misc_op(input *in)
{
    uint8_t s = in_u8(in);
    swerl_group *g = s & 0x80 ? NULL : pick_group(in_u8(in));
    swerl_turn *t = NULL, fake, *any = AT_LOAD(&g_any_turn), *probe = s & 0x10 ? &fake : NULL;
    int idx = group_index(g), rc;
    memset(&fake, 0, sizeof fake);
    switch (s % 8) {
    case 0: {
        static const uint32_t minimums[7] = {0, 1, 2, 3, 1024, 1025, 1026};
        uint32_t v = (s >> 3) % 8 == 7 ? in_u32(in) : minimums[(s >> 3) % 8];
        rc = CHECK_RC(swerl_group_set_batch_min(g, v), OK_ | E_(EINVAL));
        if ((rc == 0) != (g && v >= 1 && v <= 1025))
            fail_contract("swerl_group_set_batch_min", rc, "not 0 exactly for a group and 1..1025");
        if (rc == 0 && idx >= 0) g_batch_min[idx] = v;
        break;
    }
    case 1: {
        struct pollfd pfd;
        rc = swerl_group_fd(g);
        if (tracing()) fprintf(stderr, "  swerl_group_fd -> %d\n", rc);
        if (rc < 0) {
            expect("swerl_group_fd", rc, g ? E_(ENOMEM) : E_(EINVAL));
            break;
        }
        if (!g) fail_contract("swerl_group_fd", rc, "a descriptor for NULL");
        if (idx >= 0 && g_group_fd[idx] >= 0 && g_group_fd[idx] != rc)
            fail_contract("swerl_group_fd", rc, "another descriptor for the same group");
        if (idx >= 0) g_group_fd[idx] = rc;
        pfd.fd = rc;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, 0) < 0 || pfd.revents & POLLNVAL) fail_contract("swerl_group_fd", rc, "not open");
        break;
    }
    case 2: CHECK_RC(swerl_group_wake(g), g ? OK_ : E_(EINVAL)); break;
    case 3:
        CHECK_RC(swerl_set_group(NULL, g), E_(ECTX));
        CHECK_RC(swerl_group_finish(probe, 0), E_(EINVAL));
        CHECK_RC(swerl_turn_suspend(probe), E_(EINVAL));
        CHECK_RC(swerl_turn_resume(probe), E_(EINVAL));
        if (!any || is_aside(any)) break;
        CHECK_RC(swerl_group_finish(any, 0), E_(EINVAL));
        CHECK_RC(swerl_turn_suspend(any), E_(EINVAL));
        CHECK_RC(swerl_turn_resume(any), E_(EINVAL));
        break;
    case 4:
        if (!g) break;
        CHECK_RC(swerl_group_wake(g), OK_);
        rc = s & 0x10 ? swerl_group_next(g, NULL, 0, 16, SWERL_INFINITY, &t)
                      : swerl_group_take(g, 16, SWERL_INFINITY, &t);
        expect_drive("swerl_group_take (after a wake)", rc, g, 0, 0);
        break;
    default:
        CHECK_RC(swerl_group_take(g, 0, 0, &t), E_(EINVAL));
        CHECK_RC(swerl_group_take(g, 1025, 0, &t), E_(EINVAL));
        CHECK_RC(swerl_group_take(g, 1, 0, NULL), E_(EINVAL));
        CHECK_RC(swerl_group_next(g, NULL, 0, 0, 0, &t), E_(EINVAL));
        CHECK_RC(swerl_group_next(g, NULL, 0, 1, 0, NULL), E_(EINVAL));
        CHECK_RC(swerl_group_next(g, probe ? probe : &fake, 0, 1, 0, &t), E_(EINVAL));
        CHECK_RC(swerl_group_run(NULL, 1, 0), E_(EINVAL));
    }
}

/* The turn-group operations of the main thread, which drives groups
   meanwhile (their callbacks may run on it). */
static void group_op(uint8_t op, input *in)
{
    t_driving = 1;
    switch (op) {
    case M_GROUP_CREATE: group_create_op(in); break;
    case M_GROUP_SPAWN: group_spawn_op(in); break;
    case M_GROUP_RUN: group_run_op(in); break;
    case M_GROUP_BATCH: group_batch(in, 0); break;
    case M_GROUP_RESUME: group_resume_op(in); break;
    default: group_misc_op(in); break;
    }
    t_driving = 0;
}

/* ------------------------------------------------------------------------ */
/* Shared binaries, from the main thread (and threads of their own)          */
/* ------------------------------------------------------------------------ */

/* M_BIN_NEW: a binary made as bin_make says (s % 3, s & 0x04), held in the
   table, or let go at once (0x80); then the length selector and the salt. */
static void bin_new_op(input *in)
{
    uint8_t s = in_u8(in), l = in_u8(in), salt = in_u8(in);
    swerl_binary *b = bin_make(bin_len(l), salt, s);
    if (s & 0x80) swerl_binary_release(b);
    else if (b) bin_hold(b);
}

/* M_BIN_RETAIN: one more reference to a held binary, held too (0x80:
   swerl_binary_retain(NULL), which gives NULL). */
static void bin_retain_op(input *in)
{
    uint8_t s = in_u8(in), k = in_u8(in);
    swerl_binary *b;
    if (s & 0x80) {
        if (swerl_binary_retain(NULL) != NULL) fail_contract("swerl_binary_retain", 0, "not NULL for NULL");
        return;
    }
    b = bin_borrow(k);
    if (b) bin_hold(b);
}

/* M_BIN_RELEASE: let go of a held reference (0x80: of NULL, nothing); the
   processes' own and the messages' references are not the harness's. */
static void bin_release_op(input *in)
{
    uint8_t s = in_u8(in), k = in_u8(in);
    swerl_binary_release(s & 0x80 ? NULL : bin_take(k));
}

/* A send of one binary to up to four pids (a fan-out: one reference held
   while it sends, released after), or to a name. */
typedef struct bin_job {
    swerl_runtime *rt;
    swerl_binary *b;            /* a reference of the job's, or NULL */
    swerl_pid to[4];
    unsigned n;
    int named;
    const char *name;
} bin_job;

static void bin_fan_out(bin_job *j)
{
    unsigned i;
    for (i = 0; i < j->n; i++) bin_send(j->rt, j->to[i], j->named, j->name, j->b);
    swerl_binary_release(j->b);
}

static void *bin_thread(void *arg)
{
    bin_fan_out((bin_job *)arg);
    return NULL;
}

/* M_BIN_SEND: s: 0x80 rt NULL, 0x40 the binary NULL, 0x20 from a thread of
   its own (which releases the reference), 0x10 to a name (then its byte),
   else to s % 4 + 1 pids; k which held binary; then the pids. */
static void bin_send_op(input *in)
{
    uint8_t s = in_u8(in), k = in_u8(in);
    bin_job j;
    pthread_t thread;
    unsigned i;
    memset(&j, 0, sizeof j);
    j.rt = s & 0x80 ? NULL : g_rt;
    j.named = (s & 0x10) != 0;
    j.name = j.named ? pick_name(in_u8(in)) : NULL;
    j.n = j.named ? 1 : s % 4 + 1;
    for (i = 0; !j.named && i < j.n; i++) j.to[i] = pick_pid(in);
    j.b = s & 0x40 ? NULL : bin_borrow(k);
    if (s & 0x20 && pthread_create(&thread, NULL, bin_thread, &j) == 0) pthread_join(thread, NULL);
    else bin_fan_out(&j);
}

/* M_BIN_BAD: what the header refuses: out NULL, data NULL with a length
   (EINVAL), lengths above PTRDIFF_MAX / 2 (ETOOBIG, nothing allocated
   and nothing read); and NULL where it is harmless: data, size, release. */
static void bin_bad_op(input *in)
{
    static const uint8_t few[4] = {1, 2, 3, 4};
    uint8_t s = in_u8(in);
    size_t huge = s & 1 ? SIZE_MAX : (size_t)PTRDIFF_MAX / 2 + 1 + (s >> 1);
    swerl_binary *b = NULL;
    void *data = NULL;
    CHECK_RC(swerl_binary_new(8, NULL, &data), E_(EINVAL));
    CHECK_RC(swerl_binary_new(huge, &b, s & 2 ? NULL : &data), E_(ETOOBIG));
    CHECK_RC(swerl_binary_copy(few, 1 + s % 4, NULL), E_(EINVAL));
    CHECK_RC(swerl_binary_copy(NULL, 1 + s, &b), E_(EINVAL));
    CHECK_RC(swerl_binary_copy(few, huge, &b), E_(ETOOBIG));
    if (swerl_binary_data(NULL) != NULL || swerl_binary_size(NULL) != 0)
        fail_contract("swerl_binary_data", 0, "not NULL and 0 for a NULL binary");
    swerl_binary_release(NULL);
}

/* After the stop: a send says ESTOPPED (ETOOBIG first for a binary above
   max_message_size, as swerl_send); the harness lets go of every reference
   it holds, and the stop released the messages' and the processes' (their
   terminates): nothing is charged to the memory ceiling any more. */
static void bins_after_stop(void)
{
    swerl_stats st;
    swerl_binary *b = bin_borrow(0);
    if (b) {
        CHECK_RC(swerl_send_binary(g_rt, pool_get(&g_pids, 0), b), E_(ESTOPPED) | E_(ETOOBIG));
        swerl_binary_release(b);
    }
    while ((b = bin_take(0)) != NULL) swerl_binary_release(b);
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    CHECK_RC(swerl_runtime_stats(g_rt, &st), OK_);
    if (st.memory_used != 0) {
        fprintf(stderr, "swerl_fuzz: memory_used is %llu after the stop, every reference released\n",
                (unsigned long long)st.memory_used);
        abort();
    }
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
        int rc;
        swerl_spawn_opts_init(&opts);
        opts.flags = (t & 0x0f) | (t & 0x80 ? 0x10u : 0); /* LINK/MONITOR: EINVAL outside a handler; 0x10 unknown */
        opts.name = t & 0x10 ? pick_name(in_u8(in)) : NULL;
        opts.mailbox_limit = (t >> 5) % 4;
        opts.overflow = in_u8(in) % 4;                  /* 3: unknown */
        opts.monitor_ref = s & 0x40 ? NULL : &ref;
        if (s % 16 == 0) bp = NULL;
        else if (s % 16 == 1) b.handle = NULL;
        else if (s % 16 == 2) b.size = 4;
        else if (s % 16 == 3) opts.size = 4;
        rc = CHECK_RC(swerl_spawn(rt, bp, STATIC_ARG(!(s & 0x80) && opts.flags & SWERL_SPAWN_BLOCKING, 0, s >> 4),
                                  s & 0x80 ? NULL : &opts, s % 16 == 4 ? NULL : &pid),
                      SPAWN_CODES);
        if (rc == 0) {
            if (!(s & 0x80) && opts.flags & 0x10) fail_contract("swerl_spawn", rc, "unknown flags accepted");
            note_own_pid("swerl_spawn", pid);
            pool_add(&g_pids, pid);
            if (!(s & 0x80) && opts.flags & SWERL_SPAWN_MONITOR) pool_add(&g_refs, ref);
        }
        break;
    }
    case M_SEND: {
        swerl_pid to = pick_pid(in);
        size_t len = make_op(in, &o);
        CHECK_PID_RC(swerl_send(rt, to, &o, len), to, SEND_CODES & ~E_(EINVAL));
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
            int rc = CHECK_PID_RC(swerl_send(rt, pid, buf, big), pid, SEND_CODES & ~E_(EINVAL));
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
        CHECK_PID_RC(swerl_exit(rt, pid, reason, s & 0x80 ? NULL : "detail", s & 0x80 ? (s & 0x40 ? 2 : 0) : 6),
                     pid, OK_ | E_(EINVAL) | E_(ENOPROC) | E_(ETOOBIG) | E_(ESTOPPED));
        break;
    }
    case M_REGISTER: {
        const char *name = pick_name(in_u8(in));
        pid = pick_pid(in);
        CHECK_PID_RC(swerl_register(rt, name, pid), pid,
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
        if (rc == 0) note_own_pid("swerl_whereis", pid);
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
        if (CHECK_PID_RC(swerl_send_after(rt, pid, ms, s & 0x10 ? NULL : &o, len, s & 0x20 ? NULL : &ref), pid,
                         TIMER_CODES | E_(ENOPROC)) == 0)
            pool_add(&g_refs, ref);
        break;
    }
    case M_CANCEL: {
        uint32_t left = 0;
        uint8_t s = in_u8(in);
        cancel_timer(rt, pick_ref(in), s & 1 ? NULL : &left);
        break;
    }
    case M_CALL: {
        swerl_buffer reply = {NULL, 0};
        uint8_t s = in_u8(in);
        int rc;
        pid = pick_pid(in);
        make_op(in, &o);
        rc = CHECK_PID_RC(swerl_call(rt, pid, s & 0x40 ? NULL : &o, s & 0x40 ? (s & 1) : sizeof o, (s & 7) * 3,
                                     s & 0x80 ? NULL : &reply),
                          pid, CALL_CODES);
        if (rc != 0 && (reply.data || reply.len)) fail_contract("swerl_call", rc, "reply not empty on error");
        swerl_buffer_free(&reply);
        break;
    }
    case M_REPLY: {
        uint8_t s = in_u8(in);
        reply_to(rt, pick_ref(in), s & 0x80 ? NULL : "r", s & 0x80 ? (s & 1) : 1, E_(EINVAL));
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
            note_own_pid("swerl_supervisor_start", pid);
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
        if (CHECK_PID_RC(swerl_supervisor_start_child(rt, sup, s & 1 ? NULL : &sb.children[0], s & 2 ? NULL : &pid),
                         sup, SUP_COMMON | E_(EBADSPEC) | E_(EDUPLICATE) | E_(EPRESENT) | E_(ESTARTED) | E_(ESTART) |
                         E_(ESIMPLE)) == 0) {
            if (!(s & 2)) note_own_pid("swerl_supervisor_start_child", pid);
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
        proc_arg *a = s & 1 && g_n_kept < MAX_KEPT ? arg_new(s >> 1, 0) : NULL;
        if (CHECK_PID_RC(swerl_supervisor_spawn_child(rt, sup, a, s & 0x80 ? NULL : &pid), sup,
                     SUP_COMMON | E_(EBADSPEC) | E_(EPRESENT) | E_(ESTARTED) | E_(ESTART) | E_(ESIMPLE)) == 0) {
            if (!(s & 0x80)) note_own_pid("swerl_supervisor_spawn_child", pid);
            if (!(s & 0x80) && pid) pool_add(&g_pids, pid);
            if (a && !template_frees(sup)) g_kept[g_n_kept++] = a;
        } else if (a) {
            arg_free(a);
        }
        break;
    }
    case M_SUP_TERMINATE: {
        swerl_pid sup = pick_sup(in);
        CHECK_PID_RC(swerl_supervisor_terminate_child(rt, sup, pick_name(in_u8(in))), sup,
                 SUP_COMMON | E_(ENOTFOUND) | E_(ESIMPLE));
        break;
    }
    case M_SUP_TERMINATE_PID: {
        swerl_pid sup = pick_sup(in);
        CHECK_PID_RC(swerl_supervisor_terminate_pid(rt, sup, pick_pid(in)), sup,
                     SUP_COMMON | E_(ENOTFOUND) | E_(ESIMPLE));
        break;
    }
    case M_SUP_RESTART: {
        swerl_pid sup = pick_sup(in);
        uint8_t s = in_u8(in);
        if (CHECK_PID_RC(swerl_supervisor_restart_child(rt, sup, pick_name(s), s & 0x80 ? NULL : &pid), sup,
                     SUP_COMMON | E_(ENOTFOUND) | E_(ERUNNING) | E_(ERESTARTING) | E_(ESIMPLE) | E_(ESTART)) == 0 &&
            !(s & 0x80) && pid) {
            note_own_pid("swerl_supervisor_restart_child", pid);
            pool_add(&g_pids, pid);
        }
        break;
    }
    case M_SUP_DELETE: {
        swerl_pid sup = pick_sup(in);
        CHECK_PID_RC(swerl_supervisor_delete_child(rt, sup, pick_name(in_u8(in))), sup,
                 SUP_COMMON | E_(ENOTFOUND) | E_(ERUNNING) | E_(ERESTARTING) | E_(ESIMPLE));
        break;
    }
    case M_SUP_COUNT: {
        swerl_child_counts counts;
        uint8_t s = in_u8(in);
        swerl_pid sup = pick_sup(in);
        memset(&counts, 0, sizeof counts);
        counts.size = s & 1 ? 4 : sizeof counts;
        CHECK_PID_RC(swerl_supervisor_count_children(rt, sup, s & 2 ? NULL : &counts), sup, SUP_COMMON);
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
        CHECK_PID_RC(swerl_supervisor_which_children(rt, sup, s & 0x40 && cap == 0 ? NULL : infos, cap,
                                                 s & 0x80 ? NULL : &count), sup,
                 SUP_COMMON);
        break;
    }
    case M_SUP_TREE: {
        swerl_buffer buf = {NULL, 0};
        uint8_t s = in_u8(in);
        swerl_pid sup = pick_sup(in);
        int rc = CHECK_PID_RC(swerl_supervisor_tree(rt, sup, s % 3, s & 0x80 ? NULL : &buf), sup,
                              SUP_COMMON | E_(ENOMEM));
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
        if (CHECK_PID_RC(swerl_process_get_info(rt, pid, s & 2 ? NULL : &info), pid,
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
        if (CHECK_RC(swerl_processes(rt, cap == 0 && s & 0x10 ? NULL : buf, cap, s & 0x20 ? NULL : &count),
                     OK_ | E_(EINVAL) | E_(ESTOPPED)) == 0 && !(s & 0x20) && cap > 0) {
            size_t i;
            for (i = 0; i < count && i < cap; i++) {
                note_own_pid("swerl_processes", buf[i]);
                if (s & 0x40) pool_add(&g_pids, buf[i]);
            }
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
        if (swerl_set_blocking(ctx, 1) != SWERL_ECTX) fail_contract("swerl_set_blocking", 0, "stale ctx accepted");
        if (swerl_set_group(ctx, NULL) != SWERL_ECTX) fail_contract("swerl_set_group", 0, "stale ctx accepted");
        break;
    }
    case M_STOP: {
        uint8_t s = in_u8(in);
        int rc;
        t_driving = 1;                                  /* it drives the groups nobody drives */
        groups_settle();                                /* it would wait for a batch set aside */
        rc = swerl_runtime_stop(s & 1 ? NULL : rt, (uint32_t)(s >> 1) % 50);
        t_driving = 0;
        if (s & 1) {
            if (rc != SWERL_EINVAL) fail_contract("swerl_runtime_stop", rc, "NULL runtime accepted");
        } else {
            expect("swerl_runtime_stop", rc, g_stopped ? E_(ESTOPPED) : OK_);
            g_stopped = 1;
        }
        break;
    }
    case M_CALL_NOTIFY: {
        /* s: 0x80 rt NULL, 0x40 req NULL (len s & 1), 0x20 done NULL, 0x10
           out NULL, s % 8 the timeout (7: SWERL_INFINITY, settled at the
           stop at the latest); then the pid, the request, what done does. */
        uint8_t s = in_u8(in), act;
        size_t len;
        notify_rec *r;
        int rc;
        pid = pick_pid(in);
        len = make_op(in, &o);
        act = in_u8(in);
        r = notify_new(NOTIFY_CALL, act, pid, !(s & 0x10));
        if (!r) break;
        if (!(s & 0xb0)) {
            notify_call(r, rt, s & 0x40 ? NULL : &o, s & 0x40 ? (s & 1) : len, small_ms(s), 0);
            break;
        }
        rc = CHECK_RC(swerl_call_notify(s & 0x80 ? NULL : rt, pid, s & 0x40 ? NULL : &o, s & 0x40 ? (s & 1) : len,
                                        small_ms(s), s & 0x20 ? NULL : on_call_done, r, s & 0x10 ? NULL : &r->ref),
                      NOTIFY_CODES);
        if (rc != SWERL_EINVAL) fail_contract("swerl_call_notify", rc, "a NULL rt, done or out accepted");
        notify_issued("swerl_call_notify", r, rc);
        break;
    }
    case M_WATCH_EXIT: {
        /* s: 0x80 rt NULL, 0x40 done NULL, 0x20 out NULL; what done does. */
        uint8_t s = in_u8(in), act;
        notify_rec *r;
        int rc;
        pid = pick_pid(in);
        act = in_u8(in);
        r = notify_new(NOTIFY_WATCH, act, pid, !(s & 0x20));
        if (!r) break;
        if (!(s & 0xe0)) {
            notify_watch(r, rt);
            break;
        }
        rc = CHECK_RC(swerl_watch_exit(s & 0x80 ? NULL : rt, pid, s & 0x40 ? NULL : on_exit_done, r,
                                       s & 0x20 ? NULL : &r->ref),
                      WATCH_CODES);
        if (rc != SWERL_EINVAL) fail_contract("swerl_watch_exit", rc, "a NULL rt, done or out accepted");
        notify_issued("swerl_watch_exit", r, rc);
        break;
    }
    case M_CANCEL_NOTIFY: {
        /* A notify's ref (s % 4 < 2), any ref (timers', calls', garbage), 0. */
        uint8_t s = in_u8(in), k = in_u8(in);
        swerl_ref which = s % 4 < 2 ? notify_pick(k) : s % 4 == 2 ? pick_ref(in) : 0;
        cancel_notify(s & 0x80 ? NULL : rt, which);
        break;
    }
    case M_WAIT_EXIT: {
        /* s % 8: the timeout; 0x40 SWERL_INFINITY for a pid never alive
           (NOPROC at once); 0x20 reason NULL; 0x80 rt NULL. */
        uint8_t s = in_u8(in);
        int32_t reason = INT32_MIN;
        int never_alive, rc;
        pid = pick_pid(in);
        never_alive = pid == 0 || is_foreign(pid);
        rc = CHECK_RC(swerl_wait_exit(s & 0x80 ? NULL : rt, pid, never_alive && s & 0x40 ? SWERL_INFINITY : wait_ms(s),
                                      s & 0x20 ? NULL : &reason),
                      WAIT_EXIT_CODES);
        if (s & 0x80 && rc != SWERL_EINVAL) fail_contract("swerl_wait_exit", rc, "NULL runtime accepted");
        if (rc == 0 && !(s & 0x20) && reason == INT32_MIN) fail_contract("swerl_wait_exit", rc, "*reason not set");
        if (rc == 0 && !(s & 0x20) && never_alive && reason != SWERL_REASON_NOPROC)
            fail_contract("swerl_wait_exit", reason, "a pid never alive: not NOPROC");
        break;
    }
    case M_SEND_AFTER_NAMED: {
        /* s % 8: the delay (6: 60 s, 7: SWERL_INFINITY: EINVAL); 0x10 data
           NULL (len 1 with 0x40: EINVAL); 0x20 out NULL; 0x80 rt NULL. */
        uint8_t s = in_u8(in);
        const char *name = pick_name(in_u8(in));
        uint32_t ms = s % 8 == 7 ? SWERL_INFINITY : s % 8 == 6 ? 60000 : (uint32_t)(s % 8) * 2;
        size_t len = make_op(in, &o);
        int bad = s & 0xa0 || (s & 0x50) == 0x50 || !name || !*name || strlen(name) > SWERL_NAME_MAX ||
                  ms == SWERL_INFINITY;
        int rc = CHECK_RC(swerl_send_after_named(s & 0x80 ? NULL : rt, name, ms, s & 0x10 ? NULL : &o,
                                                 s & 0x10 ? (s & 0x40 ? 1 : 0) : len, s & 0x20 ? NULL : &ref),
                          TIMER_CODES);
        if (bad && rc == 0) fail_contract("swerl_send_after_named", rc, "bad input accepted");
        if (rc == 0) pool_add(&g_refs, ref);
        break;
    }
    case M_PID_FORMAT: {
        /* Any pid, a buffer of exactly `cap` bytes (ASan sees a write past
           it): cap 0..23 or SWERL_PID_FORMAT_MAX; 0x80 buf NULL. */
        uint8_t s = in_u8(in);
        char whole[128];
        size_t cap = s % 4 == 3 ? SWERL_PID_FORMAT_MAX : (size_t)(s >> 2) % 24;
        char *buf;
        int n, rc;
        pid = pick_pid(in);
        n = swerl_pid_format(pid, whole, sizeof whole);
        if (n <= 0 || n >= SWERL_PID_FORMAT_MAX) fail_contract("swerl_pid_format", n, "length out of 1..MAX-1");
        if (strnlen(whole, sizeof whole) != (size_t)n) fail_contract("swerl_pid_format", n, "not the text's length");
        if (whole[0] != '<' || whole[n - 1] != '>') fail_contract("swerl_pid_format", n, "not <...>");
        if ((strncmp(whole, "<0.", 3) == 0) != !(pid & PID_REMOTE))
            fail_contract("swerl_pid_format", n, "node 0 for a remote pid, or another for a local one");
        if (s & 0x80) {
            rc = swerl_pid_format(pid, NULL, cap);
            if (cap == 0 && rc != n) fail_contract("swerl_pid_format", rc, "NULL, 0: not the length");
            if (cap > 0) expect("swerl_pid_format", rc, E_(EINVAL));
            break;
        }
        buf = (char *)malloc(cap ? cap : 1);
        if (!buf) abort();
        memset(buf, '#', cap ? cap : 1);
        rc = swerl_pid_format(pid, buf, cap);
        if (rc != n) fail_contract("swerl_pid_format", rc, "a small buffer gets another length than a big one");
        if (cap == 0 && buf[0] != '#') fail_contract("swerl_pid_format", rc, "wrote into a buffer of 0 bytes");
        if (cap > 0) {
            size_t kept = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
            if (memcmp(buf, whole, kept) != 0 || buf[kept] != '\0')
                fail_contract("swerl_pid_format", rc, "not the text truncated and NUL-terminated");
        }
        free(buf);
        break;
    }
    case M_LONG_TURN: {
        static const uint32_t limits[7] = {0, 1, 2, 5, 20, 100, SWERL_INFINITY};
        uint8_t s = in_u8(in);
        uint32_t ms = s % 8 == 7 ? in_u32(in) : limits[s % 8];
        int rc = CHECK_RC(swerl_runtime_set_long_turn(s & 0x80 ? NULL : rt, ms), OK_ | E_(EINVAL) | E_(ESTOPPED));
        if (s & 0x80 && rc != SWERL_EINVAL) fail_contract("swerl_runtime_set_long_turn", rc, "NULL runtime accepted");
        break;
    }
    case M_BLOCKING_THREADS: {
        static const uint32_t maxes[7] = {0, 1, 2, 3, 8, 64, 100000};
        uint8_t s = in_u8(in);
        uint32_t max = s % 8 == 7 ? in_u32(in) : maxes[s % 8];
        int rc = CHECK_RC(swerl_runtime_set_blocking_threads(s & 0x80 ? NULL : rt, max),
                          OK_ | E_(EINVAL) | E_(ESTOPPED));
        if ((s & 0x80 || max == 0) && rc == 0)
            fail_contract("swerl_runtime_set_blocking_threads", rc, "0 or NULL accepted");
        if (s & 0x80 && rc != SWERL_EINVAL) fail_contract("swerl_runtime_set_blocking_threads", rc, "NULL runtime");
        break;
    }
    case M_OTHER_RUNTIME: {
        uint8_t s = in_u8(in);
        pid = pick_pid(in);
        other_runtime_op(s, pid);
        break;
    }
    case M_TERM: term_op(rt, in); break;
    case M_TERM_WRITER: writer_op(rt, in); break;
    case M_DIST: dist_op(in); break;
    case M_NODE: node_op(rt, in); break;
    case M_GROUP_CREATE:
    case M_GROUP_SPAWN:
    case M_GROUP_RUN:
    case M_GROUP_BATCH:
    case M_GROUP_RESUME:
    case M_GROUP_MISC: group_op(op, in); break;
    case M_HTTP: http_op(in); break;
    case M_BIN_NEW: bin_new_op(in); break;
    case M_BIN_RETAIN: bin_retain_op(in); break;
    case M_BIN_RELEASE: bin_release_op(in); break;
    case M_BIN_SEND: bin_send_op(in); break;
    case M_BIN_BAD: bin_bad_op(in); break;
    default: break;
    }
}

/* ------------------------------------------------------------------------ */
/* One input                                                                 */
/* ------------------------------------------------------------------------ */

static void hook_start(void *user)
{
    (void)user;
    if (t_hooked) fail_contract("on_thread_start", 0, "ran twice on one thread");
    t_hooked = 1;
    AT_ADD(&g_hook_starts, 1);
}

static void hook_stop(void *user)
{
    (void)user;
    if (!t_hooked) fail_contract("on_thread_stop", 0, "ran on a thread without on_thread_start");
    t_hooked = 0;
    AT_ADD(&g_hook_stops, 1);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reports (crash reports, long turns with swerl_runtime_set_long_turn): a
   known level and `len` readable bytes. */
static void on_log(void *user, int level, const char *message, size_t len)
{
    (void)user;
    if (level < SWERL_LOG_ERROR || level > SWERL_LOG_INFO || !message || len == 0)
        fail_contract("on_log", level, "bad report");
    touch(message, len);
}

/* After the stop: driving, spawning into and making groups say ESTOPPED
   (SWERL_INFINITY included: nothing waits). */
static void groups_after_stop(void)
{
    swerl_group *g = AT_LOAD(&g_n_groups) > 0 ? AT_LOAD(&g_groups[0]) : NULL, *made = NULL;
    swerl_turn *t = NULL;
    swerl_pid pid = 0;
    if (!g) return;
    CHECK_RC(swerl_group_run(g, 1, SWERL_INFINITY), E_(ESTOPPED));
    CHECK_RC(swerl_group_take(g, 1, SWERL_INFINITY, &t), E_(ESTOPPED));
    CHECK_RC(swerl_group_next(g, NULL, 0, 1, SWERL_INFINITY, &t), E_(ESTOPPED));
    CHECK_RC(swerl_group_spawn(g, &g_behavior, STATIC_ARG(0, 0, 0), NULL, &pid), E_(ESTOPPED));
    CHECK_RC(swerl_group_create(g_rt, "late", &made), E_(ESTOPPED));
}

/* After the free: the groups are gone, their descriptors closed. */
static void groups_after_free(void)
{
    unsigned i, n = AT_LOAD(&g_n_groups);
    for (i = 0; i < n; i++)
        if (g_group_fd[i] >= 0 && fcntl(g_group_fd[i], F_GETFD) != -1)
            fail_contract("swerl_group_fd", g_group_fd[i], "the descriptor is still open after swerl_runtime_free");
    AT_STORE(&g_n_groups, 0u);
    AT_STORE(&g_any_turn, (swerl_turn *)NULL);
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
        unsigned i, k;
        memset(g_name_max, 'm', SWERL_NAME_MAX);
        memset(g_name_long, 'l', SWERL_NAME_MAX + 1);
        for (i = 0; i < MAX_GROUPS; i++)
            for (k = 0; k < 5; k++) {
                g_join_args[i][k].magic = ARG_MAGIC;
                g_join_args[i][k].init_mode = (uint8_t)k;
                g_join_args[i][k].joins_group = (uint8_t)(i + 1);
            }
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
    g_max_msg = max_msg;
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
    pool_reset(&g_socks);
    AT_STORE(&g_own_tag, -1);
    AT_STORE(&g_n_notify, 0L);
    memset(g_notify, 0, sizeof g_notify);
    AT_STORE(&g_n_groups, 0u);
    AT_STORE(&g_any_turn, (swerl_turn *)NULL);
    AT_STORE(&g_batch_min_racy, 0);
    g_groups_made = 0;
    g_n_aside = 0;
    g_stopped = 0;
    g_n_simple = g_n_kept = 0;
    rc = swerl_runtime_start(&cfg, &g_rt);
    expect("swerl_runtime_start", rc, OK_ | E_(ENOMEM));
    if (rc != 0) return 0;

    for (ops = 0; ops < MAX_OPS && in.n > 0 && now_ms() - t0 < BUDGET_MS; ops++) main_op(&in, max_msg);

    /* The stop (and the free after it) drive the groups on this thread; a
       batch set aside would hold the stop up to its deadline. */
    t_driving = 1;
    groups_settle();
    if (!g_stopped) CHECK_RC(swerl_runtime_stop(g_rt, 100), OK_);
    g_stopped = 1;
    /* After the stop: every call taking the runtime says ESTOPPED. */
    CHECK_RC(swerl_send(g_rt, pool_get(&g_pids, 0), "x", 1), E_(ESTOPPED));
    CHECK_RC(swerl_runtime_stop(g_rt, 0), E_(ESTOPPED));
    groups_after_stop();
    bins_after_stop();
    swerl_runtime_free(g_rt);
    t_driving = 0;
    g_rt = NULL;
    groups_after_free();
    while (g_n_kept > 0) arg_free(g_kept[--g_n_kept]);
    other_runtime_end();
    notify_check_all();

    /* One start and one stop per thread that ran callbacks: the schedulers,
       and the blocking pool's and spares' threads the input needed. */
    if (AT_LOAD(&g_hook_starts) != AT_LOAD(&g_hook_stops) || AT_LOAD(&g_hook_starts) < (long)cfg.schedulers) {
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
