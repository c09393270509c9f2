/*
 * swerl.h — the C interface of Swerl, version 1.
 *
 * Swerl gives C, Python and Swift programs what Erlang gives its own:
 * lightweight isolated processes that share nothing, talk only by sending
 * byte messages (copies, or immutable shared binaries), watch each other
 * through links and monitors, and are restarted by supervisors when they
 * fail.
 *
 * This header is the contract. A reader of this file alone can use the
 * library. It is C99 and C++ clean and only ever grows: functions, constants
 * and error codes are added, never changed or renumbered. Public structs start
 * with `uint32_t size`, filled by their `_init` function, so they can grow:
 * the library reads and writes only the fields a caller's `size` covers, and
 * an `_init` function always writes exactly the layout of the version that
 * introduced it (a release that adds fields adds an `_init` that knows
 * them), so a program built against an older header stays safe. The two
 * conventions, for every public struct:
 *   - a struct the caller fills (swerl_config, swerl_spawn_opts,
 *     swerl_behavior, the supervisor and child specs): set `size` (its
 *     `_init` does, or sizeof); the library reads the fields it covers and
 *     takes the defaults for the rest; an array of them (a spec's children)
 *     is read at the stride of its first record's size;
 *   - a struct the library fills (swerl_stats, swerl_process_info,
 *     swerl_child_counts, swerl_child_info): set `size` to sizeof; the
 *     library writes only the fields it covers (and keeps `size`); an array
 *     of them is written at the stride of the first record's size.
 *   Any size a version of this header ever gave a struct is accepted.
 *
 * Conventions that hold for every function below:
 *   - Return value: 0 on success or a negative SWERL_E* code. swerl_strerror()
 *     and swerl_err_name() describe any code.
 *   - Threads: any function may be called from any thread, including threads
 *     the library did not create, unless it takes a `swerl_ctx *`. A ctx is
 *     valid only inside the callback that received it, on that thread; used
 *     anywhere else it gives SWERL_ECTX.
 *   - Ownership: data passed in is copied before the call returns (a send
 *     copies the bytes). Data handed to a callback is borrowed for the
 *     duration of that callback. Buffers the library returns are freed with
 *     swerl_buffer_free(), which accepts NULL and empty buffers.
 *   - Bad input (NULL pointers, pid 0, dead or stale pids, unknown refs, bad
 *     sizes, calls after swerl_runtime_stop) returns a documented error and
 *     changes nothing.
 *   - A memory fault in C code (a wild pointer, a stack overflow) cannot be
 *     isolated: it takes the whole host process down. Swerl isolates failures
 *     that a handler reports (a negative return, swerl_fail()).
 *
 * Differences from Erlang, on purpose:
 *   - swerl_send() to a dead pid returns SWERL_ENOPROC (and counts a dead
 *     letter) instead of succeeding silently.
 *   - Mailboxes may be bounded per process (swerl_spawn_opts.mailbox_limit).
 *   - A receive is a handler called once per message; selective receive is
 *     the handler returning SWERL_SKIP.
 */
#ifndef SWERL_H
#define SWERL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define SWERL_API __declspec(dllimport)
#elif defined(__GNUC__) || defined(__clang__)
#  define SWERL_API __attribute__((visibility("default")))
#else
#  define SWERL_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define SWERL_VERSION_MAJOR 1
#define SWERL_VERSION_MINOR 4
#define SWERL_VERSION_PATCH 0
/* 0xMMmmpp: compare with swerl_version() at run time. Same major: same ABI. */
#define SWERL_VERSION_HEX \
    ((SWERL_VERSION_MAJOR << 16) | (SWERL_VERSION_MINOR << 8) | SWERL_VERSION_PATCH)

/* The library's version as SWERL_VERSION_HEX would spell it. Any thread.
   Since 1.0. */
SWERL_API unsigned int swerl_version(void);

/* The library's version as "MAJOR.MINOR.PATCH", a static string. Any thread.
   Since 1.0. */
SWERL_API const char *swerl_version_string(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* One table: each code, its number (never renumbered) and its meaning. */
#define SWERL_ERRNO_MAP(XX)                                                   \
    XX(EINVAL,     -1,  "invalid argument")                                   \
    XX(ENOPROC,    -2,  "no such process")                                    \
    XX(ETIMEDOUT,  -3,  "timed out")                                          \
    XX(ENAMETAKEN, -4,  "name already registered")                            \
    XX(EHASNAME,   -5,  "process already has a registered name")              \
    XX(ENONAME,    -6,  "name not registered")                                \
    XX(EFULL,      -7,  "mailbox full")                                       \
    XX(ETOOBIG,    -8,  "message too large")                                  \
    XX(ENOMEM,     -9,  "out of memory")                                      \
    XX(ESTOPPED,   -10, "runtime stopped")                                    \
    XX(ECTX,       -11, "context used outside its callback")                  \
    XX(EREF,       -12, "unknown or expired reference")                       \
    XX(ECALLSELF,  -13, "a process called itself")                            \
    XX(EEXITED,    -14, "the server exited before replying")                  \
    XX(ELIMIT,     -15, "process limit reached")                              \
    XX(EINPROC,    -16, "not allowed inside a process callback")              \
    XX(ENOTSUP,    -17, "not supported")                                      \
    XX(ENOTSUPERVISOR, -18, "not a supervisor")                               \
    XX(EDUPLICATE, -19, "duplicate child id")                                 \
    XX(EBADSPEC,   -20, "invalid supervisor or child spec")                   \
    XX(ESTART,     -21, "a child failed to start")                            \
    XX(ENOTFOUND,  -22, "no such child")                                      \
    XX(EPRESENT,   -23, "child spec already present, not running")            \
    XX(ESTARTED,   -24, "child already started")                              \
    XX(ERUNNING,   -25, "child is running")                                   \
    XX(ERESTARTING, -26, "child is restarting")                               \
    XX(ESIMPLE,    -27, "not allowed on a simple_one_for_one supervisor")    \
    XX(EMEMLIMIT,  -28, "runtime memory limit reached")                       \
    XX(ENOSOCKET,  -29, "no such socket (closed, or never opened)")           \
    XX(ENOTOWNER,  -30, "the calling process does not own the socket")        \
    XX(EAGAIN,     -31, "socket send queue full: SWERL_SOCKET_WRITABLE follows") \
    XX(EADDRINUSE, -32, "address already in use")                             \
    XX(ECONNREFUSED, -33, "connection refused")                               \
    XX(ECONNRESET, -34, "connection reset by peer")                           \
    XX(EFRAME,     -35, "frame or line longer than the socket's max_frame")   \
    XX(ENET,       -36, "network error (the detail says which)")

enum {
#define SWERL_ERRNO_ENUM_(name, code, text) SWERL_##name = (code),
    SWERL_ERRNO_MAP(SWERL_ERRNO_ENUM_)
#undef SWERL_ERRNO_ENUM_
    SWERL_OK = 0
};

/* A human-readable description of `code` (0 or any SWERL_E*), a static
   string, never NULL ("unknown error" for codes this version does not know).
   Any thread. Since 1.0. */
SWERL_API const char *swerl_strerror(int code);

/* The code's name without the SWERL_ prefix ("ENOPROC", "OK"), a static
   string, never NULL ("UNKNOWN" for codes this version does not know).
   Any thread. Since 1.0. */
SWERL_API const char *swerl_err_name(int code);

/* What went wrong in the most recent swerl_* call that failed on the calling
   thread, in words: which argument and why ("swerl_spawn: opts->size is 0:
   call swerl_spawn_opts_init first"), which limit and how to raise it, the
   exit reason of a server that died during swerl_call, the process a
   swerl_runtime_stop could not stop. "" when no call has failed on this
   thread, or the failure has nothing to add to swerl_strerror(). As errno,
   it is not cleared by calls that succeed: read it right after the call
   that failed. The string is the library's (never NULL), valid on this
   thread until the next swerl_* call on it. Any thread. Since 1.2. */
SWERL_API const char *swerl_last_error_detail(void);

/* ------------------------------------------------------------------------ */
/* Basic types and constants                                                 */
/* ------------------------------------------------------------------------ */

/* A process id. Its bits are the library's: a local pid names a slot, the
   slot's generation and the runtime it belongs to, so a pid used with
   another runtime than its own is unknown there (ENOPROC, with a detail
   saying so; since 1.2); with the top bit set it is a pid of another
   node (Erlang distribution, see "Distribution"; since 1.2), which every
   function that takes a pid takes. 0 is never a pid. A pid whose process
   has exited never reaches another process, even one that reuses its slot.
   swerl_pid_format() prints it as Erlang does, "<0.SLOT.GENERATION>". */
typedef uint64_t swerl_pid;
/* A reference to a monitor, a timer or a call. 0 is never a valid ref. */
typedef uint64_t swerl_ref;

/* Enough bytes for any pid swerl_pid_format writes, NUL included. */
#define SWERL_PID_FORMAT_MAX 48

/* Write `pid` as the library's reports print it ("<0.10001.1>": node 0,
   slot, generation; a remote pid's first field is not 0) into `buf`,
   NUL-terminated and truncated to `cap` bytes. Returns the length of the
   whole text without the NUL (as snprintf does), or EINVAL (buf NULL with
   cap > 0). Any thread. Since 1.2. */
SWERL_API int swerl_pid_format(swerl_pid pid, char *buf, size_t cap);

typedef struct swerl_runtime swerl_runtime; /* opaque */
typedef struct swerl_ctx swerl_ctx;         /* valid only inside the callback that got it */

/* "No timeout" for every timeout in this header (receive, call, shutdown). */
#define SWERL_INFINITY UINT32_MAX

/* Longest registered name, in bytes, without the terminating NUL. */
#define SWERL_NAME_MAX 255

/* Exit reasons. Reasons are a code plus optional detail bytes (a C message,
   a Python traceback). Codes below 256 are reserved; user codes start at
   SWERL_REASON_USER. Every reason other than NORMAL is abnormal, and
   SHUTDOWN is the reason of an orderly stop. */
enum {
    SWERL_REASON_NORMAL   = 0,   /* finished; linked processes survive it */
    SWERL_REASON_SHUTDOWN = 1,   /* asked to stop (supervisor, runtime stop) */
    SWERL_REASON_KILL     = 2,   /* with swerl_exit: untrappable, becomes KILLED */
    SWERL_REASON_KILLED   = 3,   /* the process was killed */
    SWERL_REASON_NOPROC   = 4,   /* the other process did not exist */
    SWERL_REASON_ERROR    = 5,   /* a crash; the detail says why */
    SWERL_REASON_USER     = 256  /* first user-defined reason */
};

/* Message kinds (swerl_message.kind). */
enum {
    SWERL_MESSAGE = 0,  /* bytes sent with swerl_send / swerl_send_after */
    SWERL_EXIT    = 1,  /* a trapped exit signal: from, reason, detail */
    SWERL_DOWN    = 2,  /* a monitor fired: from (the monitored pid), ref, reason, detail */
    SWERL_TIMEOUT = 3,  /* the receive timeout expired (swerl_receive_timeout) */
    SWERL_CALL    = 4,  /* a request: answer it with swerl_reply(rt, ref, ...) */
    SWERL_REPLY   = 5,  /* the answer to swerl_call_async: ref, reason 0 or an error */
    /* Since 1.2, from sockets (see "Sockets"); ref is the socket. */
    SWERL_SOCKET_DATA      = 6,   /* bytes read: a chunk (raw), a frame's payload or a line */
    SWERL_SOCKET_CLOSED    = 7,   /* reason 0: the peer closed; else a SWERL_E* error, detail in data */
    SWERL_SOCKET_PASSIVE   = 8,   /* an active count given as N ran out (gen_tcp's tcp_passive) */
    SWERL_SOCKET_ACCEPTED  = 9,   /* a connection accepted on a listener you own: ref is the new socket */
    SWERL_SOCKET_CONNECTED = 10,  /* swerl_socket_connect's outcome: reason 0, or the error (the socket is gone) */
    SWERL_SOCKET_WRITABLE  = 11   /* a send refused with EAGAIN may be retried: the queue drained to half */
};

/* What a handle callback returns. A negative value is a crash (reason
   SWERL_REASON_ERROR, or the reason given to swerl_fail). */
enum {
    SWERL_CONTINUE = 0, /* message consumed; wait for the next one */
    SWERL_SKIP     = 1, /* selective receive: leave it in the mailbox, in its place */
    SWERL_STOP     = 2  /* exit: reason NORMAL, or the one set by swerl_fail */
};

/* ------------------------------------------------------------------------ */
/* Runtime                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct swerl_config {
    uint32_t size;                  /* sizeof(swerl_config), set by swerl_config_init */
    uint32_t schedulers;            /* scheduler threads; 0: one per CPU */
    uint32_t max_processes;         /* 0: default (4,194,304); at most 16,777,215 */
    uint64_t max_message_size;      /* bytes; 0: default (64 MiB) */
    /* On each thread that runs callbacks, first and last: the schedulers'
       (and, since 1.2, the blocking pool's and the spares that take a
       blocked scheduler over). May be NULL. */
    void (*on_thread_start)(void *user);
    void (*on_thread_stop)(void *user);
    void *thread_user;              /* passed to both hooks */
    /* Reports (supervisor restarts, escalations, shutdown errors; since 1.2
       also crash reports and long turns): called on one of the runtime's
       threads with a static level and a message valid during the call.
       NULL: reports are only counted (swerl_stats). */
    void (*on_log)(void *user, int level, const char *message, size_t len);
    void *log_user;                 /* passed to on_log */
} swerl_config;



/* on_log levels. */
enum { SWERL_LOG_ERROR = 0, SWERL_LOG_WARNING = 1, SWERL_LOG_INFO = 2 };

/* Fill `cfg` with defaults (size included). NULL is a no-op. Any thread.
   Since 1.0. */
SWERL_API void swerl_config_init(swerl_config *cfg);

/* Start a runtime: its scheduler threads, each with its own libuv loop.
   `cfg` may be NULL (defaults); it is read during the call only.
   On success *out holds the runtime; free it with swerl_runtime_free.
   Errors: EINVAL (out NULL, cfg->size too small, max_processes too large),
   ENOMEM. Any thread. Since 1.0.
   fork(): a child may start runtimes of its own, from any thread, the one
   that forked included (since 1.2; before, that thread could hang in the
   child). A runtime of the parent is not carried over: its threads do not
   exist in the child, so the child must not use it, not even to free it. */
SWERL_API int swerl_runtime_start(const swerl_config *cfg, swerl_runtime **out);

/* Stop a runtime in OTP's order: every process gets an exit signal with
   reason SHUTDOWN (trapping processes see an EXIT message and are expected to
   stop; their terminate callbacks run); processes still alive after
   `timeout_ms` (SWERL_INFINITY: no limit) are killed. Then the scheduler
   threads end and every message, timer and pending call is released
   (blocked swerl_call callers return ESTOPPED). Afterwards every function
   taking `rt` returns ESTOPPED, except swerl_runtime_stop (ESTOPPED again)
   and swerl_runtime_free.
   The timeout is a deadline (since 1.2): the call returns about
   `timeout_ms` after it began, plus the time the killed processes take to
   exit; it does not wait for a handler that does not return.
   Errors: EINVAL (rt NULL), ESTOPPED (already stopped), EINPROC (called
   inside a process callback, or by a thread that holds a turn group's
   batch: it would wait for itself), ETIMEDOUT (a
   handler did not return, even after the kill: swerl_last_error_detail()
   and the log hook name each such process; its thread is left running and
   swerl_runtime_free waits for it).
   Any thread outside the runtime's callbacks. Since 1.0. */
SWERL_API int swerl_runtime_stop(swerl_runtime *rt, uint32_t timeout_ms);

/* Stop the runtime if it is running (as swerl_runtime_stop with a 5000 ms
   timeout) and free it. NULL is a no-op. `rt` must not be used afterwards.
   Must not be called inside one of this runtime's callbacks (it would wait
   for itself: the call is then ignored). Inside another runtime's callback
   it returns at once and a background thread stops and frees the runtime
   (since 1.1; 1.0 freed it without stopping it). A handler that never
   returns keeps its thread, and so the runtime's memory, for ever: free
   waits for it (from a background thread when called inside a callback).
   Any thread. Since 1.0. */
SWERL_API void swerl_runtime_free(swerl_runtime *rt);

/* Set the runtime's memory ceiling: the bytes that messages and call
   requests may hold in all, from the send until the receiver is done with
   them, each counted as its payload + SWERL_MESSAGE_OVERHEAD. A send or call
   that would go over fails with EMEMLIMIT, nothing queued, and is counted
   (swerl_stats.messages_rejected). The ceiling is never exceeded, but a
   send may be refused while up to 512 KiB per scheduler sits unused in
   other schedulers' credit (kept so that sends share no counter). Exit,
   down and reply signals and send_after payloads are never refused.
   0 (the default): no ceiling. Lowering it below what is in use refuses
   sends until enough is freed; messages sent while there was no ceiling
   are not counted. swerl_stats.memory_used tells what is charged now.
   (A function, not a swerl_config field: swerl_config_init of a 1.0 caller
   knows only the 1.0 struct's size.)
   Errors: EINVAL (rt NULL), ESTOPPED. Any thread. Since 1.1. */
SWERL_API int swerl_runtime_set_max_memory(swerl_runtime *rt, uint64_t bytes);

/* Handlers that block.
   A handler runs on a scheduler thread, which no other process can use until
   it returns: Swerl cannot preempt native code. So that one handler that
   sleeps, waits for I/O or loops does not stall the others:
     - Detect: a turn (one process's run of its handler, its callbacks in a
       row) that lasts longer than the long-turn limit (100 ms by default;
       swerl_runtime_set_long_turn) is reported through the log hook
       (SWERL_LOG_WARNING, as BEAM's long_schedule monitor does): the
       process, its name, how long, and again when it returns.
     - Route around: a scheduler whose handler has waited (sleep, I/O, a
       lock) about 10 ms, or computed about 100 ms, is handed, with its run
       queue and its timers, to another thread while the handler
       keeps the thread it blocks; when the handler returns, that thread
       finishes the turn and becomes a spare. At most
       SWERL_TAKEOVER_THREADS_MAX such threads wait beyond the schedulers.
     - Where blocking is allowed: a blocking process, spawned with
       SWERL_SPAWN_BLOCKING or turned into one by swerl_set_blocking (a
       supervised child does it in its init), runs its callbacks on a
       separate pool of threads made for waiting (BEAM's dirty schedulers,
       tokio's spawn_blocking): it may sleep, do blocking I/O and call
       swerl_call and swerl_wait_exit. Its messages, links, monitors,
       timers and supervisor behave as for any process. */
#define SWERL_TAKEOVER_THREADS_MAX 64

/* Report turns longer than `report_ms` (0: never; default 100). Errors:
   EINVAL (rt NULL), ESTOPPED. Any thread. Since 1.2. */
SWERL_API int swerl_runtime_set_long_turn(swerl_runtime *rt, uint32_t report_ms);

/* The most threads the blocking pool runs at once (default 64; at least 1).
   More blocking processes than that wait their turn. Threads are started
   when needed and end after 10 s without work. Errors: EINVAL (rt NULL,
   max 0), ESTOPPED. Any thread. Since 1.2. */
SWERL_API int swerl_runtime_set_blocking_threads(swerl_runtime *rt, uint32_t max);

/* What one message costs against the memory ceiling besides its payload. */
#define SWERL_MESSAGE_OVERHEAD 64

typedef struct swerl_stats {
    uint32_t size;                  /* set by the caller: sizeof(swerl_stats) */
    uint32_t schedulers;            /* scheduler threads */
    uint64_t processes;             /* alive now */
    uint64_t spawned;               /* since start */
    uint64_t exited;                /* since start */
    uint64_t messages_sent;         /* accepted by swerl_send and friends */
    uint64_t dead_letters;          /* messages no handler got: sent to a dead or stale
                                       pid, or still waiting when the receiver exited */
    uint64_t messages_dropped;      /* lost to a bounded mailbox's DROP_OLDEST */
    uint64_t restarts;              /* children restarted by supervisors */
    uint64_t escalations;           /* supervisors that gave up (intensity reached) */
    /* Since 1.1 (present when out->size covers them). */
    uint64_t messages_rejected;     /* sends refused: EFULL (bounded mailbox) or EMEMLIMIT */
    uint64_t memory_used;           /* bytes charged to the memory ceiling now */
} swerl_stats;

/* Counters of the runtime (a consistent-enough snapshot: each counter is
   read atomically, not all at once). `out->size` must be set by the caller
   (at least the size of this 1.0 struct).
   Errors: EINVAL (rt or out NULL, size too small). Works after stop.
   Any thread. Since 1.0. */
SWERL_API int swerl_runtime_stats(swerl_runtime *rt, swerl_stats *out);

/* One scheduler's load, as Erlang's statistics(scheduler_wall_time):
   utilization over an interval is (busy_ns - busy_ns before) / (wall_ns -
   wall_ns before). Busy is the time not spent waiting for work. A turn
   that blocks or computes long counts as busy until its scheduler is
   handed to a spare thread ("Handlers that block": after 10 ms blocked,
   100 ms computing); the scheduler then goes on and its time counts as
   its own again. Measured per wait, not per turn: a loaded scheduler pays
   nothing for it. */
typedef struct swerl_scheduler_usage {
    uint32_t size;       /* set by the caller for buf[0]: the records' stride */
    uint32_t index;      /* 0 .. schedulers - 1 */
    uint64_t busy_ns;    /* since the runtime started */
    uint64_t wall_ns;    /* since the runtime started */
    uint64_t run_queue;  /* processes waiting in its local run queue now (approximate) */
} swerl_scheduler_usage;

/* Write up to `cap` records, one per scheduler, into `buf` (buf[0].size set
   by the caller; may be NULL when cap is 0) and the number of schedulers
   into *count. Errors: EINVAL (rt or count NULL, buf NULL with cap > 0,
   size too small). Works after stop. Any thread. Since 1.3. */
SWERL_API int swerl_runtime_scheduler_usage(swerl_runtime *rt, swerl_scheduler_usage *buf, size_t cap, size_t *count);

/* ------------------------------------------------------------------------ */
/* Processes                                                                 */
/* ------------------------------------------------------------------------ */

/* A message as a handler sees it. Everything it points to is borrowed for
   the duration of the callback. */
typedef struct swerl_message {
    uint32_t  kind;     /* SWERL_MESSAGE, _EXIT, _DOWN, _TIMEOUT, _CALL, _REPLY, SWERL_SOCKET_* */
    int32_t   reason;   /* EXIT, DOWN: exit reason code; REPLY: 0 or a SWERL_E* error */
    swerl_pid from;     /* sender; 0 when sent from outside any process or by a timer */
    swerl_ref ref;      /* DOWN: monitor; CALL, REPLY: the call; MESSAGE from a timer: the timer;
                           SWERL_SOCKET_*: the socket (a swerl_socket); else 0 */
    const void *data;   /* payload, or a reason's detail bytes; NULL when len is 0 */
    size_t    len;
    uint32_t  flags;    /* SWERL_MESSAGE_TERM, SWERL_MESSAGE_SHARED (1.4), a turn batch's
                           SWERL_MESSAGE_WITHDRAWN, else 0. Since 1.2 (the library fills
                           this struct; a program built with an older header
                           reads the fields before it and nothing changes) */
} swerl_message;

/* swerl_message.flags: `data` is an Erlang term in External Term Format
   (starting with the version byte 131), sent with swerl_send_term or
   coming from an Erlang node; read it with swerl_term_read (see "Terms").
   MESSAGE, CALL and REPLY may carry it; a message without it is plain
   bytes, which Erlang sees as a binary. Since 1.2. */
#define SWERL_MESSAGE_TERM 0x1u
/* swerl_message.flags: `data` is the bytes of a shared binary (sent with
   swerl_send_binary); swerl_binary_keep takes a reference to it instead of
   a copy (0x2 is a turn batch's SWERL_MESSAGE_WITHDRAWN). Since 1.4. */
#define SWERL_MESSAGE_SHARED 0x4u

/* init: runs first, in the new process. Set *state (it starts as `arg`).
   Return 0; or SWERL_IGNORE: the process exits with reason NORMAL at once
   (under a supervisor the child is kept with no pid, OTP-42); or any other
   value to fail: the process exits with reason ERROR (or the reason given
   to swerl_fail), and its links and monitors see it. */
#define SWERL_IGNORE 3
typedef int  (*swerl_init_fn)(swerl_ctx *ctx, void *arg, void **state);
/* handle: one message at a time. Returns SWERL_CONTINUE, SWERL_SKIP,
   SWERL_STOP, or < 0 (crash). */
typedef int  (*swerl_handle_fn)(swerl_ctx *ctx, const swerl_message *msg, void *state);
/* terminate: runs last, in the process, whenever it exits after a
   successful init, whatever the reason -- KILLED included (unlike Erlang's
   gen_server: C has no garbage collector, so the state must always be
   released). Not called when init failed: init cleans up after itself.
   `reason` is the exit reason code. Release the state here. */
typedef void (*swerl_terminate_fn)(swerl_ctx *ctx, int32_t reason, void *state);

typedef struct swerl_behavior {
    uint32_t size;                  /* sizeof(swerl_behavior) */
    swerl_init_fn init;             /* NULL: state = arg */
    swerl_handle_fn handle;         /* required */
    swerl_terminate_fn terminate;   /* NULL: nothing to clean */
} swerl_behavior;

/* Spawn flags. LINK and MONITOR tie the new process to the calling process,
   so they need swerl_spawn to be called inside a handler (else EINVAL). */
enum {
    SWERL_SPAWN_LINK      = 1u << 0,  /* spawn_link: link created atomically with the process */
    SWERL_SPAWN_MONITOR   = 1u << 1,  /* spawn_monitor: ref in *monitor_ref */
    SWERL_SPAWN_TRAP_EXIT = 1u << 2,  /* the new process starts trapping exits */
    /* Since 1.2: its callbacks run on the blocking pool, where they may
       block (see "Handlers that block" above). */
    SWERL_SPAWN_BLOCKING  = 1u << 3
};

/* What a bounded mailbox does when a message would exceed mailbox_limit. */
enum {
    SWERL_OVERFLOW_REJECT      = 0,   /* the sender gets SWERL_EFULL; nothing is queued */
    SWERL_OVERFLOW_DROP_OLDEST = 1,   /* the oldest waiting message is dropped (counted) */
    SWERL_OVERFLOW_KILL        = 2    /* the receiver is killed with SWERL_REASON_MAILBOX_FULL */
};
#define SWERL_REASON_MAILBOX_FULL 6   /* exit reason of SWERL_OVERFLOW_KILL */
/* Exit reason of a link or monitor whose node connection went down (Erlang's
   noconnection). Since 1.2. */
#define SWERL_REASON_NOCONNECTION 7

typedef struct swerl_spawn_opts {
    uint32_t size;                  /* sizeof(swerl_spawn_opts), set by swerl_spawn_opts_init */
    uint32_t flags;                 /* SWERL_SPAWN_LINK | _MONITOR | _TRAP_EXIT */
    const char *name;               /* registered atomically with the spawn, or NULL; copied */
    uint32_t mailbox_limit;         /* messages waiting at most; 0: unbounded */
    uint32_t overflow;              /* SWERL_OVERFLOW_REJECT, _DROP_OLDEST, _KILL */
    swerl_ref *monitor_ref;         /* out, with SWERL_SPAWN_MONITOR (required then) */
} swerl_spawn_opts;

/* Fill `opts` with defaults. NULL is a no-op. Any thread. Since 1.0. */
SWERL_API void swerl_spawn_opts_init(swerl_spawn_opts *opts);

/* Create a process and return its pid at once; init runs concurrently in the
   new process, before any message (OTP-1). `b` is copied (it may be a
   temporary); `arg` is handed to init as is. Called inside a handler, the
   new process starts on the caller's scheduler, and LINK/MONITOR tie it to
   the caller with no window in which it could die unobserved (OTP-3, OTP-4).
   A process that exits abnormally of its own doing (init fails, a handler
   crashes or stops with an abnormal reason) and was not started by a
   supervisor (which reports its children itself) is reported through the
   log hook as a crash report, as Erlang does; at most 100 such reports a
   second, then one line says how many were left out (since 1.2).
   Errors: EINVAL (rt, b, b->handle or out NULL, b->size or opts->size too
   small, unknown flags or overflow, LINK/MONITOR outside a handler, MONITOR
   without monitor_ref, a name that is empty or longer than SWERL_NAME_MAX),
   ENAMETAKEN (opts->name is in use: nothing was spawned), ELIMIT
   (max_processes alive), ESTOPPED, ENOMEM.
   Any thread. Since 1.0. */
SWERL_API int swerl_spawn(swerl_runtime *rt, const swerl_behavior *b, void *arg,
                          const swerl_spawn_opts *opts, swerl_pid *out);

/* The calling process's pid, or 0 if ctx is not valid here. Since 1.0. */
SWERL_API swerl_pid swerl_self(const swerl_ctx *ctx);

/* The runtime the calling process belongs to, or NULL if ctx is not valid
   here. Since 1.0. */
SWERL_API swerl_runtime *swerl_ctx_runtime(const swerl_ctx *ctx);

/* Set the reason the calling process exits with when its callback returns
   SWERL_STOP or a negative value (or init returns nonzero). `detail` (may
   be NULL when len is 0) is copied; links and monitors receive it.
   Returns 0, EINVAL (detail NULL with len > 0), ETOOBIG, ECTX. Since 1.0. */
SWERL_API int swerl_fail(swerl_ctx *ctx, int32_t reason, const void *detail, size_t len);

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

/* Send a copy of `data` to `to`. Called inside a process callback (init,
   handle or terminate), the receiver sees that process as `from`; otherwise
   `from` is 0. Signals from one sender to one
   receiver arrive in the order they were sent (OTP-7). Lock-free.
   Errors: EINVAL (rt NULL, data NULL with len > 0), ETOOBIG (len above
   max_message_size), ENOPROC (pid 0, unknown, dead, stale, a remote pid
   when the runtime is not a node, or a pid of another runtime: a dead
   letter is counted; Erlang's `!` would succeed, so a server may ignore
   this code; to a remote pid of a node, a send is queued for its
   connection and only misuse fails, since 1.2), EFULL (bounded mailbox,
   REJECT or KILL policy), EMEMLIMIT (the runtime's memory ceiling is
   reached; since 1.1), ENOMEM, ESTOPPED. Any thread. Since 1.0. */
SWERL_API int swerl_send(swerl_runtime *rt, swerl_pid to, const void *data, size_t len);

/* Send to the process registered as `name` (looked up once, at the call).
   Errors: as swerl_send, and EINVAL (name NULL), ENONAME (no such name:
   Erlang's badarg). Any thread. Since 1.0. */
SWERL_API int swerl_send_named(swerl_runtime *rt, const char *name,
                               const void *data, size_t len);

/* ------------------------------------------------------------------------ */
/* Shared binaries (since 1.4)                                               */
/* ------------------------------------------------------------------------ */

/* A shared binary: immutable bytes sent by reference, Erlang's refc binary.
   Its creator fills the bytes, then sends it to any number of processes:
   every message carries a reference, not a copy (a fan-out of 1 MiB to
   1,000 processes holds 1 MiB). The receiver's handler reads the bytes as
   any message's (msg->data, msg->len, SWERL_MESSAGE_SHARED in msg->flags),
   and may keep them past the callback with swerl_binary_keep. The binary is
   freed when the last reference goes: the creator's (swerl_binary_release),
   the messages' (when handled or discarded), the keepers'.
   Rules:
     - The bytes may be written only between swerl_binary_new and the first
       send or swerl_binary_retain; after that they never change.
     - Against the memory ceiling a binary counts once per runtime, its
       length + SWERL_BINARY_OVERHEAD, charged by the first send into that
       runtime and refunded when it is freed; each message carrying it costs
       SWERL_MESSAGE_OVERHEAD + 8. process_info's memory and mailbox byte
       counts see those 8 bytes per message, not the binary.
     - Sent to a remote pid it travels as an Erlang binary (a copy on the
       wire, as any message).
   swerl_binary pointers may be used from any thread, and outlive the
   runtime that carried them. */
typedef struct swerl_binary swerl_binary;

/* What a binary costs against the memory ceiling besides its length. */
#define SWERL_BINARY_OVERHEAD 32

/* A new binary of `len` bytes (not initialized) with one reference, the
   caller's, in *out; *data (may be NULL) receives where to write the bytes.
   Errors: EINVAL (out NULL), ETOOBIG (len above PTRDIFF_MAX / 2), ENOMEM.
   Any thread. Since 1.4. */
SWERL_API int swerl_binary_new(size_t len, swerl_binary **out, void **data);

/* A new binary holding a copy of `data`, one reference (the caller's).
   Errors: EINVAL (out NULL, data NULL with len > 0), ETOOBIG, ENOMEM.
   Since 1.4. */
SWERL_API int swerl_binary_copy(const void *data, size_t len, swerl_binary **out);

/* The bytes and their length (NULL and 0 for a NULL binary). Since 1.4. */
SWERL_API const void *swerl_binary_data(const swerl_binary *b);
SWERL_API size_t swerl_binary_size(const swerl_binary *b);

/* One more reference to `b` (returned; NULL gives NULL), for another owner
   to release. Since 1.4. */
SWERL_API swerl_binary *swerl_binary_retain(swerl_binary *b);

/* Drop one reference (NULL: nothing); the last one frees the binary.
   Since 1.4. */
SWERL_API void swerl_binary_release(swerl_binary *b);

/* Send `b` to `to` by reference, as swerl_send sends a copy: from, order
   and errors as swerl_send (ETOOBIG: its length is above max_message_size;
   EMEMLIMIT: charging it, or its message, would pass the ceiling), and
   EINVAL for a NULL. The caller keeps its own reference (release it when
   done: a fan-out sends, then releases once). A binary of length 0 goes as
   an empty message. Any thread. Since 1.4. */
SWERL_API int swerl_send_binary(swerl_runtime *rt, swerl_pid to, swerl_binary *b);

/* swerl_send_binary to the process registered as `name` (looked up once).
   Errors: as swerl_send_binary, and ENONAME. Since 1.4. */
SWERL_API int swerl_send_named_binary(swerl_runtime *rt, const char *name, swerl_binary *b);

/* Answer the call `call` with `b`, as swerl_reply answers with bytes (its
   errors, and EINVAL for a NULL): a caller that waits with swerl_call_async
   gets the binary itself in its REPLY (SWERL_MESSAGE_SHARED set); one that
   waits otherwise (swerl_call, swerl_call_notify, another node) gets a copy.
   The caller of this function keeps its reference. Since 1.4. */
SWERL_API int swerl_reply_binary(swerl_runtime *rt, swerl_ref call, swerl_binary *b);

/* A reference to the message's bytes that outlives the callback, in *out:
   the binary itself when SWERL_MESSAGE_SHARED is set (no copy), else a new
   binary holding a copy of msg->data. Release it when done. Call it inside
   the handler that received `msg` (or while holding the turn batch it came
   in; a copy of the struct will do). Errors: EINVAL (msg or out NULL; the
   SHARED flag set but msg->data not the bytes of a shared message handed
   to this thread's callback now, e.g. after the handler returned; checked
   against the runtime's own record, never by reading around msg->data),
   ENOMEM. Since 1.4. */
SWERL_API int swerl_binary_keep(const swerl_message *msg, swerl_binary **out);

/* Set the receive timeout of the calling process: if no message is accepted
   (handled with SWERL_CONTINUE or SWERL_STOP) within `ms` after the current
   callback returns, the handler gets a SWERL_TIMEOUT message. 0 is a poll:
   TIMEOUT comes at once unless a message is already waiting. SWERL_INFINITY
   clears it. Accepting a message clears it too (set it again to keep it).
   Returns 0 or ECTX. Since 1.0. */
SWERL_API int swerl_receive_timeout(swerl_ctx *ctx, uint32_t ms);

/* ------------------------------------------------------------------------ */
/* Links and exit signals                                                    */
/* ------------------------------------------------------------------------ */

/* Link the calling process with `pid` (bidirectional; at most one link per
   pair; linking twice or to yourself does nothing). If `pid` is not alive:
   a caller that traps exits gets an EXIT message with reason NOPROC and
   0 is returned; otherwise ENOPROC is returned and nothing changes (OTP-17).
   Errors: ECTX, ENOPROC. Since 1.0. */
SWERL_API int swerl_link(swerl_ctx *ctx, swerl_pid pid);

/* Remove the link between the calling process and `pid`, if any. Once it
   returns the link has no further effect; an EXIT from `pid` may already be
   waiting in the mailbox (OTP-18). Returns 0 or ECTX. Since 1.0. */
SWERL_API int swerl_unlink(swerl_ctx *ctx, swerl_pid pid);

/* Turn exit signals into EXIT messages (on != 0) or not. Returns the
   previous value (0 or 1), or ECTX. Since 1.0. */
SWERL_API int swerl_trap_exit(swerl_ctx *ctx, int on);

/* Make the calling process a blocking one (on != 0), whose callbacks run on
   the blocking pool from its next turn on, or a scheduled one again (see
   "Handlers that block"). A child a supervisor starts calls it in its
   init (which itself runs in the supervisor's start, as OTP's start_link
   waits for init: keep init short). Returns the previous value (0 or 1), or
   ECTX. Since 1.2. */
SWERL_API int swerl_set_blocking(swerl_ctx *ctx, int on);

/* Send an exit signal (Erlang's exit/2) to `pid`, from the calling process
   when called inside a handler, else from 0. The receiver applies OTP's table
   (OTP-21): KILL is untrappable and becomes KILLED; NORMAL is ignored unless
   it comes from the receiver itself; a trapping receiver gets an EXIT
   message; anything else terminates it with `reason`. `detail` is copied.
   Errors: EINVAL (rt NULL, detail NULL with len > 0), ETOOBIG, ENOPROC,
   ESTOPPED. Any thread. Since 1.0. */
SWERL_API int swerl_exit(swerl_runtime *rt, swerl_pid pid, int32_t reason,
                         const void *detail, size_t len);

/* ------------------------------------------------------------------------ */
/* Monitors                                                                  */
/* ------------------------------------------------------------------------ */

#define SWERL_DEMONITOR_FLUSH 1u  /* also remove a DOWN for this ref from the mailbox */
#define SWERL_DEMONITOR_INFO  2u  /* return 1 if the monitor was active, 0 if not */

/* Monitor `pid` from the calling process. Each call creates an independent
   monitor that fires once: a DOWN message with the real exit reason, or
   NOPROC at once if `pid` is not alive (OTP-23..26). Never fails for a dead
   pid. Errors: EINVAL (out NULL), ECTX. Since 1.0. */
SWERL_API int swerl_monitor(swerl_ctx *ctx, swerl_pid pid, swerl_ref *out);

/* Remove a monitor of the calling process. Once it returns no DOWN for `ref`
   will be added to the mailbox (one may already be there: FLUSH removes it).
   Returns 0 — or, with SWERL_DEMONITOR_INFO, 1 if the monitor was active
   and 0 if it was not found (OTP-28). Errors: EINVAL (unknown flags), ECTX.
   Since 1.0. */
SWERL_API int swerl_demonitor(swerl_ctx *ctx, swerl_ref ref, uint32_t flags);

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

/* Register `name` (1..SWERL_NAME_MAX bytes, copied) for the live process
   `pid`. The name is released automatically when the process exits, before
   its links and monitors are notified (OTP-10, OTP-33).
   Errors: EINVAL (rt or name NULL, empty or too long), ENOPROC (pid not
   alive), ENAMETAKEN, EHASNAME (the process already has a name), ESTOPPED.
   Any thread. Since 1.0. */
SWERL_API int swerl_register(swerl_runtime *rt, const char *name, swerl_pid pid);

/* Remove a registration. Errors: EINVAL, ENONAME, ESTOPPED. Any thread.
   Since 1.0. */
SWERL_API int swerl_unregister(swerl_runtime *rt, const char *name);

/* Look up a name. Errors: EINVAL (rt, name or out NULL), ENONAME (*out is
   set to 0), ESTOPPED. Any thread. Since 1.0. */
SWERL_API int swerl_whereis(swerl_runtime *rt, const char *name, swerl_pid *out);

/* Every registered name, in a buffer the library allocates: `*count`
   NUL-terminated names back to back (free it with swerl_buffer_free).
   Errors: EINVAL, ENOMEM, ESTOPPED. Any thread. Since 1.0. */
typedef struct swerl_buffer { void *data; size_t len; } swerl_buffer;
SWERL_API int swerl_registered(swerl_runtime *rt, swerl_buffer *out, size_t *count);

/* ------------------------------------------------------------------------ */
/* Terms (since 1.2)                                                         */
/* ------------------------------------------------------------------------ */

/* Erlang terms as messages: what Erlang and Elixir processes send and
   pattern-match. A term message carries External Term Format bytes (what
   term_to_binary writes: the version byte 131, then one term) and is marked
   SWERL_MESSAGE_TERM in swerl_message.flags; plain bytes stay the default
   and cost nothing more. Build a term with a swerl_term_writer, send it
   with swerl_send_term, and read it in the handler with swerl_term_read
   (a cursor: no allocation, nothing to free):

       swerl_term t = { sizeof t };
       size_t at = 0;
       if ((msg->flags & SWERL_MESSAGE_TERM) &&
           swerl_term_read(rt, msg->data, msg->len, &at, &t) == 0 &&
           t.type == SWERL_TERM_TUPLE && t.count == 2) ... read 2 more terms

   Untrusted bytes are safe to read: every count is checked against the
   bytes left before it is believed, nesting deeper than SWERL_TERM_MAX_DEPTH
   is refused by swerl_send_term, swerl_term_skip and swerl_term_format, and
   an error says at which byte and why (swerl_last_error_detail). Pids and
   refs in terms are this runtime's swerl_pid and swerl_ref both ways, given
   the runtime. Compressed terms and funs other than `fun M:F/A` are not
   read. */

/* Terms nested deeper than this (tuples, lists, maps in each other) are
   refused, as by every reader of Swerl's (Swift, Python). */
#define SWERL_TERM_MAX_DEPTH 512

/* swerl_term.type */
enum {
    SWERL_TERM_ATOM      = 1,   /* bytes, len: its text (UTF-8 unless latin1; no NUL) */
    SWERL_TERM_INTEGER   = 2,   /* integer (any integer that fits 64 bits, however it was written) */
    SWERL_TERM_BIGINT    = 3,   /* a larger one: negative, bytes, len: its magnitude, little-endian */
    SWERL_TERM_FLOAT     = 4,   /* real */
    SWERL_TERM_BINARY    = 5,   /* bytes, len (an Elixir string is a UTF-8 binary) */
    SWERL_TERM_BITSTRING = 6,   /* bytes, len; bits: the bits used of the last byte (1..7), high first */
    SWERL_TERM_TUPLE     = 7,   /* count: its arity; its count elements follow */
    SWERL_TERM_NIL       = 8,   /* [], the empty list */
    SWERL_TERM_LIST      = 9,   /* count: elements before the tail; they follow, then the tail
                                   (NIL for a proper list: count + 1 terms in all) */
    SWERL_TERM_STRING    = 10,  /* a proper list of integers 0..255 written compactly (Erlang's
                                   "abc"): count = len elements, one per byte of bytes; nothing follows */
    SWERL_TERM_MAP       = 11,  /* count: pairs; 2 * count terms follow, key then value */
    SWERL_TERM_PID       = 12,  /* pid (0 without a runtime); bytes, len: its node's name */
    SWERL_TERM_REF       = 13,  /* ref: a ref this runtime made, else 0; bytes, len: its node's name */
    SWERL_TERM_PORT      = 14,  /* integer: its id; bytes, len: its node's name */
    SWERL_TERM_FUN       = 15   /* fun M:F/A: bytes, len: M; name, name_len: F; integer: A */
};

/* One term's header, filled by swerl_term_read. Its pointers point into the
   bytes read (borrowed as they are). A struct the library fills: set
   `size`. */
typedef struct swerl_term {
    uint32_t size;          /* set by the caller: sizeof(swerl_term) */
    uint32_t type;          /* SWERL_TERM_* */
    uint64_t count;         /* TUPLE, LIST, STRING: elements; MAP: pairs; else 0 */
    int64_t integer;        /* INTEGER: the value; PORT: the id; FUN: the arity; else 0 */
    double real;            /* FLOAT: the value; else 0 */
    const void *bytes;      /* ATOM, BINARY, BITSTRING, STRING, BIGINT, PID, REF, PORT, FUN: see the types */
    size_t len;             /* bytes at `bytes` */
    const void *name;       /* FUN: the function's name (UTF-8); else NULL */
    size_t name_len;
    swerl_pid pid;          /* PID: this runtime's pid for it (a remote one for another node's) */
    swerl_ref ref;          /* REF: see SWERL_TERM_REF */
    uint32_t bits;          /* BITSTRING: bits used of the last byte; else 0 */
    uint32_t negative;      /* BIGINT: 1 if below zero; else 0 */
    uint32_t latin1;        /* 1: the text at `bytes` (and `name`) is Latin-1, as old nodes
                               wrote atoms; 0: UTF-8 */
} swerl_term;

/* Read the header of the term at *offset of `data` (len bytes) into *out
   and move *offset past it: past the whole term for an atom, a number, a
   binary, a pid...; to its first element for a TUPLE, LIST or MAP (read
   them the same way, or step over them with swerl_term_skip). At *offset 0
   the version byte (131) is read first and must be there: a message's data
   is read from 0. `rt` (may be NULL) turns pids and refs into this
   runtime's; a pid of another node is interned as a remote pid.
   Errors: EINVAL (data, offset or out NULL, out->size too small, *offset
   past the end, bytes that are not a term: swerl_last_error_detail says at
   which byte and why; *offset is then unchanged). Allocates nothing for
   atoms, binaries, lists, tuples and maps. Any thread. Since 1.2. */
SWERL_API int swerl_term_read(swerl_runtime *rt, const void *data, size_t len, size_t *offset,
                              swerl_term *out);

/* Move *offset past the whole term there (its elements included; from 0:
   past the version byte and the term, to len for a message's data).
   Errors: EINVAL (data or offset NULL, bytes that are not a term, nesting
   deeper than SWERL_TERM_MAX_DEPTH: the detail says at which byte; *offset
   is then unchanged). Allocates nothing. Any thread. Since 1.2. */
SWERL_API int swerl_term_skip(const void *data, size_t len, size_t *offset);

/* Write the whole term in `data` (version byte first, as a message's data)
   as Erlang's io:format("~p") prints it -- {ok,<<"abc">>,[1,2],#{a => 1}},
   "abc" for a list of printable characters, 'quoted atoms' -- on one line,
   into `buf`, NUL-terminated and truncated to `cap` bytes. Pids print as
   swerl_pid_format does, given `rt`; without it as <NODE.ID.SERIAL>.
   Returns the length of the whole text without the NUL (as snprintf does),
   or EINVAL (data NULL, buf NULL with cap > 0, bytes that are not exactly
   one term: the detail says at which byte and why). Any thread. Since 1.2. */
SWERL_API int swerl_term_format(swerl_runtime *rt, const void *data, size_t len, char *buf, size_t cap);

/* Send the term in `etf` (len bytes: the version byte 131, then exactly one
   term) to `to` as a message marked SWERL_MESSAGE_TERM; the receiver, a
   local process or one of a connected Erlang node, gets the bytes as they
   are. The bytes are checked first with the bounded reader.
   Errors: EINVAL (rt NULL, etf NULL with len > 0, bytes that are not
   exactly one term: swerl_last_error_detail says at which byte and why),
   and as swerl_send: ETOOBIG, ENOPROC, EFULL, EMEMLIMIT, ENOMEM, ESTOPPED.
   Any thread. Since 1.2. */
SWERL_API int swerl_send_term(swerl_runtime *rt, swerl_pid to, const void *etf, size_t len);

/* swerl_send_term to the process registered as `name` (looked up once).
   Errors: as swerl_send_term, and EINVAL (name NULL or not a name), ENONAME.
   Any thread. Since 1.2. */
SWERL_API int swerl_send_named_term(swerl_runtime *rt, const char *name, const void *etf, size_t len);

/* Builds one term, value by value in writing order: a container's put
   (tuple, list, map) opens it and the next puts fill it; the writer closes
   it after its last element (a list with its tail, NIL). The writer's bytes
   are ready when the outermost value is complete. Not thread-safe: one
   thread at a time (any thread). */
typedef struct swerl_term_writer swerl_term_writer;  /* opaque */

/* A new, empty writer, or NULL (out of memory). `rt` (may be NULL; then
   swerl_term_writer_put_pid and _put_ref refuse) is the runtime whose pids
   and refs it writes; it must outlive the writer. Free it with
   swerl_term_writer_free. Any thread. Since 1.2. */
SWERL_API swerl_term_writer *swerl_term_writer_new(swerl_runtime *rt);

/* Free a writer (and its bytes). NULL is a no-op. Since 1.2. */
SWERL_API void swerl_term_writer_free(swerl_term_writer *w);

/* Empty the writer, to build another term (its memory is kept).
   NULL is a no-op. Since 1.2. */
SWERL_API void swerl_term_writer_reset(swerl_term_writer *w);

/* The puts. Each returns 0, or EINVAL and writes nothing: w NULL, the term
   is already complete (reset first), a value that is not one (an atom NULL
   or longer than 255 characters, a float that is not finite, data NULL
   with len > 0, a container deeper than SWERL_TERM_MAX_DEPTH or with more
   than 2^32 - 1 elements, a pid or ref of another runtime or none, and
   put_pid or put_ref on a writer without a runtime); the detail says
   which. ENOMEM: out of memory. Since 1.2. */
SWERL_API int swerl_term_writer_put_atom(swerl_term_writer *w, const char *name);  /* UTF-8 text */
SWERL_API int swerl_term_writer_put_bool(swerl_term_writer *w, int value);  /* the atom true or false */
SWERL_API int swerl_term_writer_put_int(swerl_term_writer *w, int64_t value);
SWERL_API int swerl_term_writer_put_uint(swerl_term_writer *w, uint64_t value);
/* Any integer: its sign and magnitude, little-endian (len bytes). */
SWERL_API int swerl_term_writer_put_bigint(swerl_term_writer *w, int negative, const void *magnitude,
                                           size_t len);
SWERL_API int swerl_term_writer_put_float(swerl_term_writer *w, double value);
SWERL_API int swerl_term_writer_put_binary(swerl_term_writer *w, const void *data, size_t len);
/* A C string as a binary of its bytes: Elixir's string (UTF-8 text). */
SWERL_API int swerl_term_writer_put_string(swerl_term_writer *w, const char *text);
/* A tuple of `arity` elements: the next `arity` values. */
SWERL_API int swerl_term_writer_put_tuple(swerl_term_writer *w, uint32_t arity);
/* A proper list of `n` elements (the next n values); 0 writes []. */
SWERL_API int swerl_term_writer_put_list(swerl_term_writer *w, uint32_t n);
/* [E1, ..., En | Tail]: the next n values, then the tail (n >= 1). */
SWERL_API int swerl_term_writer_put_improper_list(swerl_term_writer *w, uint32_t n);
/* A map of `pairs` pairs: the next 2 * pairs values, key then value. */
SWERL_API int swerl_term_writer_put_map(swerl_term_writer *w, uint32_t pairs);
/* A pid of the writer's runtime (alive or not) or a remote pid it knows. */
SWERL_API int swerl_term_writer_put_pid(swerl_term_writer *w, swerl_pid pid);
/* A ref the writer's runtime made (a monitor's, a timer's, a call's). */
SWERL_API int swerl_term_writer_put_ref(swerl_term_writer *w, swerl_ref ref);

/* The term's bytes (version byte first), ready for swerl_send_term:
   borrowed from the writer until its next call. Errors: EINVAL (w, data or
   len NULL; the term is incomplete: nothing put yet, or a container still
   open, the detail says which and how many values it lacks). Since 1.2. */
SWERL_API int swerl_term_writer_bytes(const swerl_term_writer *w, const void **data, size_t *len);

/* ------------------------------------------------------------------------ */
/* Timers                                                                    */
/* ------------------------------------------------------------------------ */

/* Deliver a copy of `data` to `to` as a MESSAGE (from 0, ref = the timer)
   after at least `ms` milliseconds (OTP-34). The timer is cancelled
   automatically if `to` exits first (OTP-35).
   Errors: EINVAL (rt or out NULL, data NULL with len > 0, ms is
   SWERL_INFINITY), ETOOBIG, ENOPROC (to is not alive), ENOMEM, ESTOPPED.
   Any thread. Since 1.0. */
SWERL_API int swerl_send_after(swerl_runtime *rt, swerl_pid to, uint32_t ms,
                               const void *data, size_t len, swerl_ref *out);

/* Cancel a timer. On success *remaining_ms (may be NULL) holds the time it
   had left. A timer that already fired, was cancelled, never existed or
   whose target exited gives EREF (Erlang's false); a message it already
   delivered stays in the mailbox (OTP-36).
   Errors: EINVAL (rt NULL), EREF, ESTOPPED. Any thread. Since 1.0. */
SWERL_API int swerl_cancel_timer(swerl_runtime *rt, swerl_ref timer, uint32_t *remaining_ms);

/* swerl_send_after to a registered name: the name is looked up when the
   timer expires, and the message is dropped silently if no process has it
   then; the timer is not cancelled by anyone's exit (OTP-35, erlang:
   send_after with an atom). Cancel it with swerl_cancel_timer.
   Errors: EINVAL (rt, name or out NULL, a name that is empty or longer than
   SWERL_NAME_MAX, data NULL with len > 0, ms is SWERL_INFINITY), ETOOBIG,
   ENOMEM, ESTOPPED. Any thread. Since 1.2. */
SWERL_API int swerl_send_after_named(swerl_runtime *rt, const char *name, uint32_t ms,
                                     const void *data, size_t len, swerl_ref *out);

/* ------------------------------------------------------------------------ */
/* Request / reply                                                           */
/* ------------------------------------------------------------------------ */

/* Send `req` to `to` as a CALL message and block the calling thread until
   the reply, at most `timeout_ms` (SWERL_INFINITY: no limit). The server
   answers with swerl_reply(rt, msg->ref, ...), at once or later, from any
   process or thread. On success *reply holds a copy of the answer, owned by
   the caller: free it with swerl_buffer_free. A reply that comes after the
   timeout is discarded: it never arrives anywhere (OTP-56). On any error
   *reply is empty ({NULL, 0}; swerl_buffer_free accepts it): the exit
   detail of a server that died (EEXITED) reaches monitors and links, and
   swerl_call_async's REPLY.
   The timeout is a deadline: a reply sent after it is a timeout, however
   the threads were scheduled (since 1.2). 0 times out at once unless the
   answer is already there.
   Errors: EINVAL (rt or reply NULL, req NULL with len > 0), ETOOBIG,
   ENOPROC (`to` not alive), EMEMLIMIT (memory ceiling reached; since 1.1),
   ETIMEDOUT, EEXITED (the server exited before replying;
   swerl_last_error_detail() has its exit reason and detail), ECALLSELF
   (a blocking process called itself; since 1.2), EINPROC
   (called inside a process callback: use swerl_call_async, or spawn the
   caller with SWERL_SPAWN_BLOCKING), ESTOPPED (before or during the call).
   Threads outside the runtime's callbacks, and callbacks of blocking
   processes (since 1.2). Since 1.0. */
SWERL_API int swerl_call(swerl_runtime *rt, swerl_pid to, const void *req, size_t len,
                         uint32_t timeout_ms, swerl_buffer *reply);

/* Send `req` to `to` as a CALL message without waiting; the answer arrives
   in the caller's mailbox as a REPLY message with the same ref: reason 0 and
   the reply bytes, or reason ETIMEDOUT (after `timeout_ms`), ENOPROC (`to`
   was not alive) or EEXITED (the server exited before replying; the data
   holds its exit detail). Exactly one REPLY arrives per call. The timeout
   is a deadline: a reply sent after it gives ETIMEDOUT and is dropped,
   even when the timer could not fire in time (since 1.2).
   Errors: EINVAL (out NULL, req NULL with len > 0), ETOOBIG, ECALLSELF (`to`
   is the caller: OTP's calling_self), EMEMLIMIT (memory ceiling reached;
   since 1.1), ECTX. Since 1.0. */
SWERL_API int swerl_call_async(swerl_ctx *ctx, swerl_pid to, const void *req, size_t len,
                               uint32_t timeout_ms, swerl_ref *out);

/* Answer the call `call` (a CALL message's ref) with a copy of `data`. May
   be deferred: called later, from any process or thread.
   Errors: EINVAL (rt NULL, data NULL with len > 0), ETOOBIG, EREF (unknown
   ref, already answered, or the caller gave up or its deadline passed: the
   reply is discarded and counted as a dead letter; gen_server:reply would
   succeed, so a server may ignore this code), ESTOPPED. Any thread.
   Since 1.0. */
SWERL_API int swerl_reply(swerl_runtime *rt, swerl_ref call, const void *data, size_t len);

/* How a call started with swerl_call_notify ended: code 0 and the reply, or
   ETIMEDOUT, ENOPROC, EEXITED (data: the server's exit detail) or ESTOPPED.
   `data` is borrowed for the duration of the callback. */
typedef void (*swerl_call_fn)(void *user, int code, const void *data, size_t len);

/* Send `req` to `to` as a CALL message and return at once; `done(user, ...)`
   runs exactly once when the call ends (unless swerl_cancel_notify stops it
   first), on the thread that ends it: a scheduler thread (the reply, the
   timeout, the server's exit) or the thread of swerl_reply or
   swerl_runtime_stop. It runs outside any process (what it sends is sent
   from no process), must not block and must not stop or free the runtime.
   Made for event loops and front ends: C programs that cannot block, the
   Python and Swift bindings. The timeout is a deadline, as in swerl_call.
   Errors (`done` then never runs): EINVAL (rt, done or out NULL, req NULL
   with len > 0), ETOOBIG, ENOPROC (`to` not alive), ECALLSELF (called inside
   `to`'s own callback), EMEMLIMIT, ENOMEM, ESTOPPED. Any thread. Since 1.2. */
SWERL_API int swerl_call_notify(swerl_runtime *rt, swerl_pid to, const void *req, size_t len,
                                uint32_t timeout_ms, swerl_call_fn done, void *user, swerl_ref *out);

/* How a watched process ended: its exit reason and detail (borrowed for the
   duration of the callback); NOPROC if it was not alive. */
typedef void (*swerl_exit_fn)(void *user, int32_t reason, const void *detail, size_t len);

/* Watch `pid` from outside any process (a monitor owned by no process,
   OTP-23..25): `done(user, ...)` runs exactly once with its exit reason
   (NOPROC at once, in this call, if it is not alive), on the thread that
   settles it, under the rules of swerl_call_notify's `done`; or never, after
   swerl_cancel_notify, or when the runtime stops first (then with reason
   SHUTDOWN or KILLED as the process exits).
   Errors: EINVAL (rt, done or out NULL), ENOMEM, ESTOPPED. Any thread.
   Since 1.2. */
SWERL_API int swerl_watch_exit(swerl_runtime *rt, swerl_pid pid, swerl_exit_fn done, void *user,
                               swerl_ref *out);

/* Stop a swerl_call_notify or swerl_watch_exit: once it returns 0, `done`
   has not run and never will (a cancelled call's reply is dropped, as after
   a timeout). EREF: `done` has run or is running now (on another thread), or
   `ref` is unknown or not a notify's or a watch's (a swerl_call's or a
   swerl_call_async's call cannot be cancelled).
   Errors: EINVAL (rt NULL), EREF, ESTOPPED. Any thread. Since 1.2. */
SWERL_API int swerl_cancel_notify(swerl_runtime *rt, swerl_ref ref);

/* Block until `pid` exits, at most `timeout_ms` (SWERL_INFINITY: no limit),
   and give its exit reason in *reason (may be NULL): NOPROC if it was not
   alive. Errors: EINVAL (rt NULL), ETIMEDOUT, EINPROC (inside a callback of
   a process that is not a blocking one), ESTOPPED. Threads outside the
   runtime's callbacks, and callbacks of blocking processes. Since 1.2. */
SWERL_API int swerl_wait_exit(swerl_runtime *rt, swerl_pid pid, uint32_t timeout_ms, int32_t *reason);

/* Free a buffer the library returned and set it to {NULL, 0}. NULL and
   empty buffers are no-ops. Any thread. Since 1.0. */
SWERL_API void swerl_buffer_free(swerl_buffer *buf);

/* ------------------------------------------------------------------------ */
/* Supervisors (OTP-40..53)                                                  */
/* ------------------------------------------------------------------------ */

/* A supervisor is a process that traps exits, starts its children in order,
   restarts them by its strategy, and gives up (exits SHUTDOWN, which its own
   supervisor sees as a failure) when more than `intensity` restarts happen
   within `period_ms` (OTP-49, OTP-50). Specs are validated before anything
   starts. When swerl_supervisor_start returns 0 the supervisor owns each
   child's `arg` and calls `arg_free` once when that spec is deleted
   (delete_child, a temporary child's exit, the supervisor's exit); on any
   error nothing is taken. The specs of a nested tree belong to its parent's
   child spec (it restarts the tree from them), so they are released with
   that spec. The management functions are synchronous calls to the supervisor
   process: call them from threads outside the runtime's callbacks or, since
   1.2, from a blocking process's callbacks (inside any other callback they
   return EINPROC). */

enum { SWERL_ONE_FOR_ONE, SWERL_ONE_FOR_ALL, SWERL_REST_FOR_ONE, SWERL_SIMPLE_ONE_FOR_ONE };
enum { SWERL_PERMANENT, SWERL_TRANSIENT, SWERL_TEMPORARY };
enum { SWERL_WORKER, SWERL_SUPERVISOR };
enum { SWERL_AUTO_SHUTDOWN_NEVER, SWERL_AUTO_SHUTDOWN_ANY_SIGNIFICANT, SWERL_AUTO_SHUTDOWN_ALL_SIGNIFICANT };
#define SWERL_BRUTAL_KILL 0u    /* shutdown_ms: kill at once */
/* SWERL_INFINITY as shutdown_ms: send SHUTDOWN and wait forever. */

typedef struct swerl_supervisor_spec swerl_supervisor_spec;

typedef struct swerl_child_spec {
    uint32_t size;                        /* sizeof(swerl_child_spec), set by swerl_child_spec_init */
    const char *id;                       /* 1..SWERL_NAME_MAX bytes, unique; copied */
    const swerl_behavior *behavior;       /* a worker's behaviour; copied */
    void *arg;                            /* given to init at every (re)start */
    void (*arg_free)(void *arg);          /* called once when the spec is deleted; may be NULL */
    uint32_t restart;                     /* SWERL_PERMANENT */
    uint32_t shutdown_ms;                 /* 5000 (worker), SWERL_INFINITY (supervisor), SWERL_BRUTAL_KILL */
    uint32_t type;                        /* SWERL_WORKER */
    uint32_t significant;                 /* 0 */
    const swerl_supervisor_spec *supervisor; /* the nested tree, when type is SWERL_SUPERVISOR; copied */
} swerl_child_spec;

struct swerl_supervisor_spec {
    uint32_t size;                        /* sizeof(swerl_supervisor_spec), set by swerl_supervisor_spec_init */
    uint32_t strategy;                    /* SWERL_ONE_FOR_ONE */
    uint32_t intensity;                   /* 1 */
    uint32_t period_ms;                   /* 5000; must be > 0 */
    uint32_t auto_shutdown;               /* SWERL_AUTO_SHUTDOWN_NEVER */
    const swerl_child_spec *children;     /* copied at start; simple_one_for_one: exactly one, the template */
    size_t n_children;
};

/* OTP's defaults (one_for_one, 1 restart in 5000 ms, auto_shutdown never,
   no children). NULL is a no-op. Any thread. Since 1.0. */
SWERL_API void swerl_supervisor_spec_init(swerl_supervisor_spec *spec);

/* OTP's defaults: permanent worker, shutdown 5000 ms, not significant. For a
   supervisor child set type = SWERL_SUPERVISOR and shutdown_ms =
   SWERL_INFINITY. NULL is a no-op. Any thread. Since 1.0. */
SWERL_API void swerl_child_spec_init(swerl_child_spec *spec);

/* Start a supervisor and its children, left to right; returns once all are
   started (OTP-44). If a child fails to start, those already started are
   stopped in reverse order and ESTART is returned. `opts` (may be NULL)
   gives a name; LINK/MONITOR are not allowed here (EINVAL).
   Errors: EINVAL (NULL, bad sizes or enum values, a worker without
   behavior->handle, a SUPERVISOR child without a nested spec, period_ms 0),
   EDUPLICATE (two children with one id), EBADSPEC (significant with
   permanent or with auto_shutdown never; simple_one_for_one without exactly
   one child), ESTART, ENAMETAKEN, ELIMIT, ENOMEM, ESTOPPED, EINPROC.
   Threads outside the runtime's callbacks. Since 1.0. */
SWERL_API int swerl_supervisor_start(swerl_runtime *rt, const swerl_supervisor_spec *spec,
                                     const swerl_spawn_opts *opts, swerl_pid *out);

/* Add and start a child (OTP-52). *out (may be NULL) gets its pid, or 0 if
   its init returned SWERL_IGNORE. On success the supervisor owns spec->arg.
   Errors: EINVAL, EBADSPEC, EDUPLICATE (a nested supervisor spec with two
   children of one id), EPRESENT (id known, not running), ESTARTED (id
   running; *out gets its pid), ESTART (init failed: nothing kept, arg not
   taken), ESIMPLE (use swerl_supervisor_spawn_child), ENOPROC,
   ENOTSUPERVISOR, ESTOPPED, EINPROC. Since 1.0. */
SWERL_API int swerl_supervisor_start_child(swerl_runtime *rt, swerl_pid sup,
                                           const swerl_child_spec *spec, swerl_pid *out);

/* simple_one_for_one: start a child from the template with `arg` in place of
   the template's arg (released with the template's arg_free when that child
   is gone for good; NULL: the template's own arg, which stays the
   template's). Errors: as start_child, and ESIMPLE when `sup` is not
   simple_one_for_one. Since 1.0. */
SWERL_API int swerl_supervisor_spawn_child(swerl_runtime *rt, swerl_pid sup, void *arg,
                                           swerl_pid *out);

/* Stop a child by its shutdown spec and keep its spec (a temporary child's
   spec is deleted). Errors: EINVAL, ENOTFOUND, ESIMPLE (use
   swerl_supervisor_terminate_pid), ENOPROC, ENOTSUPERVISOR, ESTOPPED,
   EINPROC. Since 1.0. */
SWERL_API int swerl_supervisor_terminate_child(swerl_runtime *rt, swerl_pid sup, const char *id);

/* simple_one_for_one: stop the child `pid` (OTP's terminate_child with a
   pid). Errors: ENOTFOUND, ESIMPLE (not simple_one_for_one), and as above.
   Since 1.0. */
SWERL_API int swerl_supervisor_terminate_pid(swerl_runtime *rt, swerl_pid sup, swerl_pid pid);

/* Start a child whose spec is kept but which is not running. *out (may be
   NULL) gets the pid (0 if init returned SWERL_IGNORE). Errors: ENOTFOUND,
   ERUNNING, ERESTARTING, ESIMPLE, ESTART, and as above. Since 1.0. */
SWERL_API int swerl_supervisor_restart_child(swerl_runtime *rt, swerl_pid sup, const char *id,
                                             swerl_pid *out);

/* Delete the spec of a child that is not running (arg_free runs).
   Errors: ENOTFOUND, ERUNNING, ERESTARTING, ESIMPLE, and as above.
   Since 1.0. */
SWERL_API int swerl_supervisor_delete_child(swerl_runtime *rt, swerl_pid sup, const char *id);

typedef struct swerl_child_counts {
    uint32_t size;                        /* set by the caller */
    uint32_t specs, active, supervisors, workers;
} swerl_child_counts;

/* OTP's count_children. Errors: EINVAL, ENOPROC, ENOTSUPERVISOR, ESTOPPED,
   EINPROC. Since 1.0. */
SWERL_API int swerl_supervisor_count_children(swerl_runtime *rt, swerl_pid sup, swerl_child_counts *out);

enum { SWERL_CHILD_RUNNING = 0, SWERL_CHILD_RESTARTING = 1, SWERL_CHILD_UNDEFINED = 2 };

typedef struct swerl_child_info {
    uint32_t size;                        /* set by the caller for buf[0]: the records' stride */
    uint32_t state;                       /* SWERL_CHILD_RUNNING, _RESTARTING, _UNDEFINED (no pid) */
    uint32_t type;                        /* SWERL_WORKER or SWERL_SUPERVISOR */
    uint32_t restart;                     /* SWERL_PERMANENT, ... */
    swerl_pid pid;                        /* 0 unless running */
    uint64_t restarts;                    /* times this child was restarted */
    char id[SWERL_NAME_MAX + 1];          /* "" for simple_one_for_one children */
} swerl_child_info;

/* OTP's which_children, in start order: up to `cap` records into `buf`
   (buf[0].size set by the caller), the number of children into *count (may
   exceed cap). Errors: EINVAL, ENOPROC, ENOTSUPERVISOR, ESTOPPED, EINPROC.
   Since 1.0. */
SWERL_API int swerl_supervisor_which_children(swerl_runtime *rt, swerl_pid sup,
                                              swerl_child_info *buf, size_t cap, size_t *count);

enum { SWERL_TREE_JSON = 0, SWERL_TREE_DOT = 1 };

/* The supervision tree under `sup` (supervisors, children, pids, states,
   restart counts) as JSON or Graphviz DOT text, NUL-terminated, in a buffer
   the caller frees with swerl_buffer_free. Errors: EINVAL, ENOPROC,
   ENOTSUPERVISOR, ENOMEM, ESTOPPED, EINPROC. Since 1.0. */
SWERL_API int swerl_supervisor_tree(swerl_runtime *rt, swerl_pid sup, uint32_t format, swerl_buffer *out);

/* ------------------------------------------------------------------------ */
/* Sockets (since 1.2)                                                       */
/* ------------------------------------------------------------------------ */

/* TCP (IPv4, IPv6) and Unix domain stream sockets, owned by processes, as
   gen_tcp's are. A socket lives on one scheduler's libuv loop; no thread of
   yours waits on it.
     - Ownership. A socket belongs to one process, its owner: only the owner
       sends, activates, closes or hands it on (swerl_socket_set_owner);
       others get ENOTOWNER. When the owner exits, for any reason, the
       socket is closed. swerl_runtime_stop closes every socket.
     - Data as messages, with flow control. A socket reads only while its
       owner has asked for data: swerl_socket_activate(ctx, s, N) lets N more
       SWERL_SOCKET_DATA messages come (then SWERL_SOCKET_PASSIVE), and
       SWERL_ACTIVE_ONCE one (no PASSIVE message), as gen_tcp's {active, N}
       and {active, once}. A passive socket stops reading, and TCP pushes
       back on the peer: a slow owner never gets an unbounded mailbox.
     - Framing in the runtime (`packet`): SWERL_PACKET_RAW delivers what
       each read got (up to 64 KiB); SWERL_PACKET_1, _2 and _4 a frame's
       payload after a big-endian length prefix of that many bytes (and
       swerl_socket_send adds the prefix), gen_tcp's {packet, N};
       SWERL_PACKET_LINE one line, its '\n' included. A frame or line longer
       than max_frame closes the socket: SWERL_SOCKET_CLOSED, reason EFRAME.
     - Sending never blocks: swerl_socket_send writes at once what the
       kernel takes and queues the rest; beyond send_queue_max bytes queued
       it refuses with EAGAIN, and SWERL_SOCKET_WRITABLE comes once the
       queue has drained to half.
     - The end. The peer closing or an error sends SWERL_SOCKET_CLOSED
       (reason 0 for a close, else ECONNRESET, EFRAME or ENET with words in
       its data) and closes the socket, after what was queued is written;
       with SWERL_SOCKET_HALF_CLOSE the socket stays open for sending after
       the peer's close, until the owner closes it. A socket that is closed
       is gone: its id is ENOSOCKET from then on.
   Addresses are text: "127.0.0.1:8080", "[::1]:8080", "localhost:8080"
   (resolved by the caller's thread: prefer numeric addresses inside a
   handler), and "unix:/path/to/socket". Port 0 asks the system for one
   (swerl_socket_info tells which). */

/* A socket id: 0 is never a socket; an id is never reused by another
   socket. */
typedef uint64_t swerl_socket;

enum {
    SWERL_PACKET_RAW  = 0,
    SWERL_PACKET_1    = 1,
    SWERL_PACKET_2    = 2,
    SWERL_PACKET_4    = 4,
    SWERL_PACKET_LINE = 8
};

/* swerl_socket_opts.flags */
enum {
    SWERL_SOCKET_NODELAY    = 1u << 0,  /* TCP_NODELAY (default for TCP sockets) */
    SWERL_SOCKET_KEEPALIVE  = 1u << 1,  /* SO_KEEPALIVE */
    SWERL_SOCKET_REUSEADDR  = 1u << 2,  /* SO_REUSEADDR on a listener (default) */
    SWERL_SOCKET_HALF_CLOSE = 1u << 3,  /* keep sending after the peer closed */
    SWERL_SOCKET_IPV6_ONLY  = 1u << 4   /* an IPv6 listener takes no IPv4 connections */
};

/* One data message more (no SWERL_SOCKET_PASSIVE after it). */
#define SWERL_ACTIVE_ONCE (-1)

/* Options of a listener or a connection. Those of a listener are the ones
   each connection it accepts starts with, but for the active count: a
   listener's counts the connections it announces, and a connection it
   accepts starts passive (its owner, or the process it hands it to,
   activates it: no data can reach the wrong process first). This struct never grows (its _init
   fills it); later options come as swerl_socket_setopt options. */
typedef struct swerl_socket_opts {
    uint32_t size;              /* set by swerl_socket_opts_init */
    uint32_t packet;            /* SWERL_PACKET_*; default RAW */
    int32_t  active;            /* the active count to start with: 0 (default): passive,
                                   SWERL_ACTIVE_ONCE, or N > 0 (a listener: accepts) */
    uint32_t flags;             /* SWERL_SOCKET_*; default NODELAY | REUSEADDR */
    uint32_t max_frame;         /* longest frame or line, bytes; 0: 1 MiB */
    uint32_t backlog;           /* a listener's accept queue; 0: 1024 */
    uint32_t max_connections;   /* a listener's connections open at once; beyond it a new
                                   one is closed at once (counted); 0: no limit */
    uint32_t recv_buffer;       /* SO_RCVBUF bytes; 0: the system's */
    uint32_t send_buffer;       /* SO_SNDBUF bytes; 0: the system's */
    uint32_t reserved;          /* 0 */
    uint64_t send_queue_max;    /* bytes queued for sending at most; 0: 4 MiB */
} swerl_socket_opts;

/* Fill `opts` with defaults. NULL is a no-op. Any thread. Since 1.2. */
SWERL_API void swerl_socket_opts_init(swerl_socket_opts *opts);

/* Listen on `address` for process `owner` (any thread may start a listener
   for a process). Each accepted connection is a socket owned by `owner`,
   announced by a SWERL_SOCKET_ACCEPTED message; a listener accepts only
   while active, as a connection reads (swerl_socket_activate: each
   ACCEPTED uses one), and the kernel keeps the others waiting in the
   backlog. `opts` may be NULL (defaults). Errors are reported at once:
   EINVAL (rt, address or out NULL, a bad address or option), ENOPROC
   (owner not alive), EADDRINUSE, ENET (another system error, in words:
   permission denied, too many open files), ELIMIT (2^20 sockets open),
   ESTOPPED. Since 1.2. */
SWERL_API int swerl_socket_listen(swerl_runtime *rt, swerl_pid owner, const char *address,
                                  const swerl_socket_opts *opts, swerl_socket *out);

/* Connect to `address` from the calling process, its owner. Returns at
   once with the socket's id; the outcome comes as SWERL_SOCKET_CONNECTED:
   reason 0, or ECONNREFUSED, ETIMEDOUT (after timeout_ms; SWERL_INFINITY:
   the system's), ENET (in words), and then the socket is gone. Sends
   before it is connected are queued. Errors: EINVAL (address or out NULL,
   a bad address or option), ECTX, ENET, ELIMIT (2^20 sockets open),
   ESTOPPED. Since 1.2. */
SWERL_API int swerl_socket_connect(swerl_ctx *ctx, const char *address, uint32_t timeout_ms,
                                   const swerl_socket_opts *opts, swerl_socket *out);

/* Send `len` bytes (with the length prefix of a PACKET_1/2/4 socket; a
   frame too long for its prefix is EINVAL). What the kernel does not take
   at once is copied and queued. Errors: EINVAL (data NULL with len > 0),
   ECTX, ENOSOCKET, ENOTOWNER, EAGAIN (the queue is full: nothing was
   sent; SWERL_SOCKET_WRITABLE follows), ENOTSUP (a listener), ESTOPPED.
   Since 1.2. */
SWERL_API int swerl_socket_send(swerl_ctx *ctx, swerl_socket s, const void *data, size_t len);

/* Let `n` more messages come: data (a connection) or accepted connections
   (a listener). n > 0 adds n to the active count (at most 2^30; a
   SWERL_SOCKET_PASSIVE message when it runs out); SWERL_ACTIVE_ONCE sets
   one message, no PASSIVE after; 0 makes the socket passive. Errors:
   EINVAL (n < -1), ECTX, ENOSOCKET, ENOTOWNER, ESTOPPED. Since 1.2. */
SWERL_API int swerl_socket_activate(swerl_ctx *ctx, swerl_socket s, int32_t n);

/* Close the socket: what was queued is still written (for 5 s at most),
   then it is closed; no message about it follows. Errors: ECTX,
   ENOSOCKET, ENOTOWNER, ESTOPPED. Since 1.2. */
SWERL_API int swerl_socket_close(swerl_ctx *ctx, swerl_socket s);

/* Close the sending side after what was queued (the peer reads end of
   file); reading goes on. Errors: ECTX, ENOSOCKET, ENOTOWNER, ENOTSUP (a
   listener), ESTOPPED. Since 1.2. */
SWERL_API int swerl_socket_shutdown(swerl_ctx *ctx, swerl_socket s);

/* Hand the socket to `new_owner` (gen_tcp's controlling_process). Messages
   already sent to the old owner stay with it: make the socket passive
   first if that matters. Errors: ECTX, ENOSOCKET, ENOTOWNER, ENOPROC
   (new_owner not alive), ESTOPPED. Since 1.2. */
SWERL_API int swerl_socket_set_owner(swerl_ctx *ctx, swerl_socket s, swerl_pid new_owner);

/* swerl_socket_setopt options; values as in swerl_socket_opts. */
enum {
    SWERL_SO_PACKET = 1,         /* SWERL_PACKET_* (bytes buffered stay, framed the new way) */
    SWERL_SO_MAX_FRAME = 2,
    SWERL_SO_SEND_QUEUE_MAX = 3,
    SWERL_SO_NODELAY = 4,        /* 0 or 1 */
    SWERL_SO_KEEPALIVE = 5,      /* 0 or 1 */
    SWERL_SO_RECV_BUFFER = 6,
    SWERL_SO_SEND_BUFFER = 7,
    SWERL_SO_HALF_CLOSE = 8      /* 0 or 1 */
};

/* Change an option of a socket the calling process owns. Errors: EINVAL
   (unknown option, a bad value), ECTX, ENOSOCKET, ENOTOWNER, ENOTSUP (an
   option a listener or a Unix socket does not have), ENET, ESTOPPED.
   Since 1.2. */
SWERL_API int swerl_socket_setopt(swerl_ctx *ctx, swerl_socket s, int option, int64_t value);

enum { SWERL_SOCKET_LISTENER = 0, SWERL_SOCKET_CONNECTION = 1 };

#define SWERL_ADDRESS_MAX 128

typedef struct swerl_socket_info {
    uint32_t size;              /* set by the caller: sizeof(swerl_socket_info) */
    uint32_t type;              /* SWERL_SOCKET_LISTENER or _CONNECTION */
    swerl_pid owner;
    swerl_socket listener;      /* the listener that accepted it, or 0 */
    uint32_t packet;
    int32_t  active;            /* the active count now; SWERL_ACTIVE_ONCE; 0: passive */
    uint32_t connecting;        /* 1 until SWERL_SOCKET_CONNECTED */
    uint32_t connections;       /* a listener's connections open now */
    uint64_t bytes_received;
    uint64_t bytes_sent;        /* written to the kernel */
    uint64_t send_queued;       /* bytes waiting to be written */
    uint64_t accept_errors;     /* a listener's failed accepts (counted and logged) */
    uint64_t connections_shed;  /* a listener's connections closed over max_connections */
    char local[SWERL_ADDRESS_MAX];  /* "127.0.0.1:8080", "[::1]:8080", "unix:/path" */
    char peer[SWERL_ADDRESS_MAX];   /* "" for a listener */
} swerl_socket_info;

/* Describe a socket (a snapshot). Errors: EINVAL (rt or out NULL, size too
   small), ENOSOCKET, ESTOPPED. Any thread. Since 1.2. */
SWERL_API int swerl_socket_info_get(swerl_runtime *rt, swerl_socket s, swerl_socket_info *out);

/* ------------------------------------------------------------------------ */
/* Distribution (since 1.2)                                                  */
/* ------------------------------------------------------------------------ */

/* A runtime can be a node of an Erlang/Elixir cluster: Erlang's own
   distribution protocol (EPMD, the version-6 handshake, 4-byte frames,
   ticks), so Swerl processes and BEAM processes address each other by pid
   and by registered name, link, monitor and call each other.
     - Remote pids are pids. A pid of another node is an ordinary swerl_pid
       (its top bit set); it arrives in msg->from and works with swerl_send,
       swerl_link, swerl_monitor, swerl_exit and swerl_call. swerl_pid_format
       prints it as Erlang does, <N.ID.SERIAL> (N: the node's number here).
     - Messages. Bytes travel as an Erlang binary, both ways. A message from
       Erlang that is not a binary arrives as its External Term Format bytes
       with SWERL_MESSAGE_TERM set; send terms with swerl_send_term.
       Signals from one process to another arrive in order across the wire.
     - Connections are made on the first signal to a node (or with
       swerl_node_connect) and accepted from any node that knows the cookie.
       Signals to a node that cannot be reached are dropped, as Erlang drops
       them; links and monitors over a connection that goes down get reason
       SWERL_REASON_NOCONNECTION, once.
     - gen_server. GenServer.call({name, node}, request) from Elixir reaches
       a Swerl process as a SWERL_CALL (request: bytes for a binary, else a
       term); swerl_reply / swerl_reply_term answers it. swerl_call to a
       remote pid is gen_server:call: the reply (a binary's bytes, else its
       term bytes) comes back; a dead server is EEXITED (or ENOPROC),
       a lost connection EEXITED with reason NOCONNECTION.
     - Exit reasons cross as Erlang terms: NORMAL is normal, SHUTDOWN
       shutdown, KILLED killed, NOPROC noproc, NOCONNECTION noconnection,
       ERROR with a detail {error, <<Detail>>}, a user code N
       {swerl_reason, N, <<Detail>>}. Any other Erlang reason arrives as
       ERROR with the term, as Erlang prints it, for detail.
     - The node is hidden (not published: erlang:nodes() lists it under
       hidden) and registers a process as net_kernel, which answers
       net_adm:ping.
     - Security: the cookie is authentication, not encryption, as in
       Erlang. Anyone who can reach the listen port and knows the cookie
       can run any operation a process can. It is never logged.
     - Without Erlang installed (no epmd): with SWERL_NODE_START_EPMD,
       swerl_node_start starts this runtime's own EPMD when nothing listens
       on the EPMD port (a connection there would be refused), then
       registers with it as usual; when something listens there already
       (an epmd, or another runtime's), it registers with that one. This
       EPMD speaks epmd's protocol to any node of this host, Swerl or
       Erlang (erl, `epmd -names`): registrations, port lookups, name
       lists. It listens on 127.0.0.1 only, so nodes of other hosts cannot
       look up the nodes of this one through it (for them, run epmd). It
       takes at most 256 registrations, and lives until this runtime stops,
       even if swerl_node_start fails after starting it. When this runtime
       stops, every node registered with it (of this runtime, of another,
       an erl) loses its registration, as when an epmd is killed: its
       connections stay up, but no new connection can find it by name; a
       Swerl node does not register again. Stop the runtime that started
       the EPMD last. */

/* swerl_node_opts.flags */
enum {
    SWERL_NODE_START_EPMD = 1u << 0  /* no EPMD on 127.0.0.1:epmd_port: start this runtime's own */
};

typedef struct swerl_node_opts {
    uint32_t size;               /* sizeof(swerl_node_opts), set by swerl_node_opts_init */
    uint32_t flags;              /* SWERL_NODE_*; default 0 */
    const char *cookie;          /* NULL: ~/.erlang.cookie, made (as erl makes it) if missing */
    const char *listen_host;     /* NULL: "0.0.0.0" (every interface, as erl listens) */
    uint32_t listen_port;        /* 0: any free port (EPMD tells the others which) */
    uint32_t epmd_port;          /* 0: ERL_EPMD_PORT, else 4369 */
    uint32_t tick_ms;            /* net_ticktime in ms; 0: 60000. A peer silent this long is down */
    uint32_t connect_timeout_ms; /* EPMD and connection attempts; 0: 7000 */
    uint64_t max_frame;          /* largest frame accepted, bytes; 0: 64 MiB; more closes the connection */
} swerl_node_opts;

/* Fill `opts` with the defaults. Since 1.2. */
SWERL_API void swerl_node_opts_init(swerl_node_opts *opts);

/* Make the runtime the node `name` ("name@host"; a name without "@host"
   gets this host's short name). Listens, registers with EPMD on this host
   (which must run: any erl starts one, or `epmd -daemon`; or this runtime
   starts its own, SWERL_NODE_START_EPMD), and returns once EPMD has
   answered. A runtime becomes a node once.
   Errors: EINVAL (rt or name NULL, not a node name, a bad cookie, no
   cookie and no ~/.erlang.cookie, a node already, unknown flags),
   ENAMETAKEN (EPMD has a node of that name on this host, or a process is
   registered as net_kernel), ENET (no EPMD answers; with
   SWERL_NODE_START_EPMD, its EPMD could not listen), EADDRINUSE (the
   listen port), ETIMEDOUT, EINPROC (on a scheduler thread: it waits),
   ESTOPPED. Since 1.2. */
SWERL_API int swerl_node_start(swerl_runtime *rt, const char *name, const swerl_node_opts *opts);

/* This node's name into `buf` (NUL-terminated, truncated to cap); returns
   the length without the NUL as snprintf does, or EINVAL (rt NULL, buf
   NULL with cap > 0, not a node). Any thread. Since 1.2. */
SWERL_API int swerl_node_name(swerl_runtime *rt, char *buf, size_t cap);

/* Connect to `node` now (net_kernel:connect_node) and wait until the
   connection is up. Returns 0; ETIMEDOUT; ENET (it could not be made: the
   log hook says why: no such node at its host's EPMD, a wrong cookie);
   EINVAL (not a node, a bad name); EINPROC (on a scheduler thread);
   ESTOPPED. Since 1.2. */
SWERL_API int swerl_node_connect(swerl_runtime *rt, const char *node, uint32_t timeout_ms);

/* The connected nodes' names, NUL-separated, into a buffer the caller frees
   with swerl_buffer_free (len: bytes used, 0 when none). Errors: EINVAL,
   ENOMEM. Any thread. Since 1.2. */
SWERL_API int swerl_node_list(swerl_runtime *rt, swerl_buffer *out);

/* The name of the node `pid` belongs to (this node's for a local pid, or
   "nonode@nohost" before swerl_node_start) into buf, snprintf-style.
   Errors: EINVAL (buf NULL with cap > 0), ENOPROC (0, or a pid this
   runtime never saw). Any thread. Since 1.2. */
SWERL_API int swerl_pid_node(swerl_runtime *rt, swerl_pid pid, char *buf, size_t cap);

/* Send to the process registered as `name` on `node` ({name, node} ! Msg):
   bytes as a binary, or with _term the term in `etf` (External Term
   Format, version byte first). `node` may be this node. Errors: as
   swerl_send; EINVAL (a NULL, not a node name, a malformed term, not a
   node); ENONAME (this node, no such name). Any thread. Since 1.2. */
SWERL_API int swerl_send_remote(swerl_runtime *rt, const char *name, const char *node,
                                const void *data, size_t len);
SWERL_API int swerl_send_remote_term(swerl_runtime *rt, const char *name, const char *node,
                                     const void *etf, size_t len);

/* Answer a SWERL_CALL with a term (External Term Format, version byte
   first): an Erlang caller gets the term itself, a Swerl caller a REPLY
   with SWERL_MESSAGE_TERM. Errors: as swerl_reply, and EINVAL for a
   malformed term. Any thread. Since 1.2. */
SWERL_API int swerl_reply_term(swerl_runtime *rt, swerl_ref call, const void *etf, size_t len);

/* With on = 1 the calling process gets {nodeup, Node} and {nodedown, Node}
   term messages as connections come up and go down
   (net_kernel:monitor_nodes); 0 stops them. Errors: ECTX, EINVAL (not a
   node). Since 1.2. */
SWERL_API int swerl_monitor_nodes(swerl_ctx *ctx, int on);

/* Monitor the process registered as `name` on `node` (monitor(process,
   {Name, Node})): its DOWN has from 0 and the reason; NOPROC if no such
   name, NOCONNECTION if the node cannot be reached. Errors: ECTX, EINVAL.
   Since 1.2. */
SWERL_API int swerl_monitor_name(swerl_ctx *ctx, const char *name, const char *node, swerl_ref *out);

/* ------------------------------------------------------------------------ */
/* Turn groups: processes whose turns a thread of yours runs (since 1.2)     */
/* ------------------------------------------------------------------------ */

/* A turn group is a set of processes whose callbacks run on a thread of the
   program's instead of a scheduler: a GUI or game loop, an event loop,
   Python's dispatcher thread. A group process is a process like any other
   (mailbox, links, monitors, timers, exit signals, supervision); when it is
   runnable, no scheduler calls its handler: its turn is queued for the
   group, and the thread that drives the group runs it, either

     - with its callbacks (swerl_group_run): the library calls init,
       handle and terminate on the driving thread, as a scheduler would; or
     - as a batch (swerl_group_take / _finish / _next): the library hands
       the driving thread up to `max` messages of one process at once, and
       the thread handles them itself, in order, then hands back what its
       handler would have returned for each. This spares a callback per
       message: the shape for a language runtime that calls C through a
       foreign-function layer (each call into it is costly). init and
       terminate still run as callbacks, on the driving thread, inside
       take/finish/next.

   During a turn the process's ctx works as in a scheduler turn (send, link,
   monitor, spawn, call_async, trap_exit, reply, fail, receive timeout), on
   the driving thread, and swerl_send and friends send from the process.
   A group's processes run only while some thread drives the group: one
   thread at a time, any thread (they may take turns). swerl_runtime_stop,
   called on a thread that is not driving, drives the groups nobody drives
   at that moment, so their processes can exit. Blocking in a group
   callback stalls the group, not the schedulers. A process moves into a
   group with swerl_group_spawn or swerl_set_group (a supervised child calls
   it in its init), and out with swerl_set_group(ctx, NULL).
   At most 64 groups per runtime; they live as long as the runtime. */
typedef struct swerl_group swerl_group;

/* One process's batch, handed out by swerl_group_take or _next. It lives in
   the library; it is valid, and `ctx` is the process's context on the
   driving thread, until swerl_group_finish or the next _next. The driving
   thread handles messages[0], messages[1], ... in order, as handle() would
   (messages[i].data is valid until the finish), and:
     - writes `current = i` before it handles messages[i] (so the ctx calls
       made while handling it apply to it: a receive timeout, a demonitor
       with flush);
     - writes results[i]: SWERL_CONTINUE, SWERL_SKIP, SWERL_STOP or a
       failure (< 0), what handle() would return;
     - stops after a STOP or a failure, and after a message it accepted
       (CONTINUE) that follows one it skipped (selective receive starts again
       from the oldest message then); the rest go back to the mailbox,
       unhandled, in their order;
     - skips a message whose flags have SWERL_MESSAGE_WITHDRAWN (a
       swerl_demonitor with SWERL_DEMONITOR_FLUSH while handling an earlier
       one removed it); its result is not read.
   A TIMEOUT (receive timeout) comes as a batch of one message. */
typedef struct swerl_turn {
    swerl_ctx *ctx;                   /* the process's context, until the finish */
    void *state;                      /* its state, as handle() receives it */
    swerl_pid pid;
    const swerl_message *messages;    /* `count` messages, oldest first */
    int32_t *results;                 /* written by the driving thread */
    uint32_t count;
    uint32_t current;                 /* written by the driving thread */
} swerl_turn;

/* swerl_message.flags in a batch: removed while an earlier message was
   handled; skip it. Since 1.2. */
#define SWERL_MESSAGE_WITHDRAWN 0x2u

/* Create a group named `name` (1..SWERL_NAME_MAX bytes; for reports).
   Errors: EINVAL (NULL, bad name), ELIMIT (64 groups), ESTOPPED. Any thread. Since 1.2. */
SWERL_API int swerl_group_create(swerl_runtime *rt, const char *name, swerl_group **out);

/* swerl_spawn into group `g`: its init runs on the thread that drives the
   group, before any message. As swerl_spawn otherwise (same errors);
   SWERL_SPAWN_BLOCKING is not allowed with it (EINVAL). Any thread. Since 1.2. */
SWERL_API int swerl_group_spawn(swerl_group *g, const swerl_behavior *b, void *arg,
                                const swerl_spawn_opts *opts, swerl_pid *out);

/* Move the calling process into group `g` (NULL: back to the schedulers)
   from its next turn on. Returns 0, or ECTX, EINVAL (a group of another
   runtime). Since 1.2. */
SWERL_API int swerl_set_group(swerl_ctx *ctx, swerl_group *g);

/* Run up to `max_turns` turns of the group's processes on the calling
   thread, with their callbacks, waiting up to `timeout_ms` for the first
   (0: only what is queued now; SWERL_INFINITY: no limit). Returns how many
   turns ran (0: none came in time, or swerl_group_wake), or ESTOPPED once
   the runtime has stopped, EINVAL (NULL), EINPROC (inside a callback). Since 1.2. */
SWERL_API int swerl_group_run(swerl_group *g, uint32_t max_turns, uint32_t timeout_ms);

/* Take the next runnable process's batch of up to `max_messages` messages
   (1..1024), waiting up to `timeout_ms` for one. Returns 1 and *out, 0 when
   none came in time (or swerl_group_wake), ESTOPPED once the runtime has
   stopped, EINVAL (NULL, max_messages out of range, the calling thread
   holds a batch of this group already), EINPROC (inside a callback, or
   while holding a batch of another group). Since 1.2. */
SWERL_API int swerl_group_take(swerl_group *g, uint32_t max_messages, uint32_t timeout_ms,
                               swerl_turn **out);

/* Hand back `turn` with results[0 .. handled) written: what they say is
   done (the process exits after a STOP or failure: terminate runs here),
   and the messages from `handled` on go back to the mailbox. Returns 0, or
   EINVAL (NULL, not the batch this thread holds, handled > count). Since 1.2. */
SWERL_API int swerl_group_finish(swerl_turn *turn, uint32_t handled);

/* swerl_group_finish(done, handled) when `done` is not NULL, then
   swerl_group_take(g, max_messages, timeout_ms, out): one call per batch.
   Returns as swerl_group_take; a finish error comes first. Since 1.2. */
SWERL_API int swerl_group_next(swerl_group *g, swerl_turn *done, uint32_t handled,
                               uint32_t max_messages, uint32_t timeout_ms, swerl_turn **out);

/* Batches of fewer than `messages` messages are not handed out:
   swerl_group_take and _next run such turns themselves, calling the
   behaviour's handle for each message on the calling thread (as
   swerl_group_run does), and go on to the next turn. 1 (the default):
   every turn is a batch; 1025: none is (as swerl_group_run, but stopping
   at nothing). A foreign-function layer whose calls into C and callbacks
   from C cost about the same sets 2: a lone message is cheaper as one
   callback than as a batch it reads itself. Returns 0, or EINVAL (NULL,
   not 1..1025). Any thread. Since 1.2. */
SWERL_API int swerl_group_set_batch_min(swerl_group *g, uint32_t messages);

/* Set a batch the calling thread holds aside: the process stays in its
   turn (no other message reaches it, as a gen_server in handle_call), but
   the thread no longer acts for it (ctx calls for it fail with ECTX) and
   may take, handle and finish other batches of the group meanwhile: an
   event loop whose handler awaits. swerl_turn_resume takes it back, on any
   thread that holds no batch of the group; then the thread handles the
   rest and finishes it as usual. A suspended turn is not a long turn to
   the turn monitor, and keeps the process from exiting until it is
   finished: resume and finish every suspended batch before stopping the
   runtime. Return 0, or EINVAL (NULL, not a batch this thread holds /
   not a suspended batch, the thread holds a batch of the group already),
   EINPROC (resume inside a callback, or while holding a batch of another
   group). Since 1.2. */
SWERL_API int swerl_turn_suspend(swerl_turn *turn);
SWERL_API int swerl_turn_resume(swerl_turn *turn);

/* A file descriptor that is readable while turns of the group are queued
   (an eventfd), for poll/epoll/select or an event loop: when it is
   readable, drive with timeout 0 until nothing is left (which also clears
   it). Owned by the group: do not close it. Returns it, or EINVAL, ENOMEM
   (no descriptor could be made). Since 1.2. */
SWERL_API int swerl_group_fd(swerl_group *g);

/* Make one waiting (or the next) swerl_group_run / _take / _next on `g`
   return 0 at once: to wake the driving thread for the program's own
   reasons (its loop must quit, a signal came). Any thread. Since 1.2. */
SWERL_API int swerl_group_wake(swerl_group *g);

/* ------------------------------------------------------------------------ */
/* The observer page (since 1.3)                                             */
/* ------------------------------------------------------------------------ */

/* A live page of the running program in a browser, as Erlang's observer:
   the schedulers' load, memory, the processes (sortable, filterable, each
   with its links and monitors), the supervision trees with their restart
   counts, and the crashes as they happen; JSON endpoints for each view and
   a Server-Sent Events stream (docs/OBSERVER.md). Served by processes of
   the runtime on its own sockets: no thread of its own, nothing fetched at
   run time. Loopback only unless given a token; read-only unless
   SWERL_OBSERVE_ACTIONS; message contents are never shown. */

enum {
    SWERL_OBSERVE_ACTIONS = 1u << 0  /* the page may kill processes and restart or terminate children */
};

/* The longest URL swerl_observer_start writes, its NUL included. */
#define SWERL_OBSERVER_URL_MAX 512

/* This struct never grows (its _init fills it). */
typedef struct swerl_observer_opts {
    uint32_t size;              /* set by swerl_observer_opts_init */
    uint32_t flags;             /* SWERL_OBSERVE_*; default 0: read-only */
    const char *address;        /* "host:port"; NULL (default): "127.0.0.1:0", port 0: any free one */
    const char *token;          /* NULL (default), or an access token of 16 to 128 printable ASCII
                                   characters without '&' or '%': then every request must carry it
                                   (?token= or Authorization: Bearer). Required off loopback. */
    uint32_t max_connections;   /* connections at once; 0 (default): 16 */
    uint32_t reserved;          /* 0 */
} swerl_observer_opts;

/* Fill `opts` with defaults. NULL is a no-op. Any thread. Since 1.3. */
SWERL_API void swerl_observer_opts_init(swerl_observer_opts *opts);

/* Serve the observer page; `url` (may be NULL when url_cap is 0) gets its
   address, NUL-terminated, with the token when there is one
   ("http://127.0.0.1:40123/"). `opts` may be NULL (defaults). At most one
   per runtime; it stops with the runtime. Errors: EINVAL (rt NULL, a bad
   address or option, a token missing off loopback or malformed, one
   already served), ETOOBIG (url_cap too small: nothing is served;
   SWERL_OBSERVER_URL_MAX always suffices), EADDRINUSE, ENET, ESTOPPED.
   Any thread (a host name in the address is resolved on it: prefer
   numbers). Since 1.3. */
SWERL_API int swerl_observer_start(swerl_runtime *rt, const swerl_observer_opts *opts, char *url, size_t url_cap);

/* Stop serving it: its connections are closed. Errors: EINVAL (rt NULL,
   none served), ESTOPPED. Any thread. Since 1.3. */
SWERL_API int swerl_observer_stop(swerl_runtime *rt);

/* ------------------------------------------------------------------------ */
/* Introspection                                                             */
/* ------------------------------------------------------------------------ */

enum {
    SWERL_STATUS_WAITING  = 0,  /* nothing to do */
    SWERL_STATUS_RUNNABLE = 1,  /* in a run queue */
    SWERL_STATUS_RUNNING  = 2,  /* in a callback now */
    SWERL_STATUS_EXITING  = 3   /* on its way out */
};

typedef struct swerl_process_info {
    uint32_t size;                  /* set by the caller: sizeof(swerl_process_info) */
    uint32_t status;                /* SWERL_STATUS_* */
    uint64_t message_queue_len;     /* messages waiting */
    uint64_t messages_handled;      /* callbacks run (Erlang's reductions) */
    uint64_t memory;                /* bytes: control block, waiting messages, tables */
    uint32_t links, monitors, monitored_by, trap_exit;
    char name[SWERL_NAME_MAX + 1];  /* registered name, or "" */
} swerl_process_info;

/* Describe a live process (OTP-37, OTP-38). Values are a snapshot read
   without stopping the process.
   Errors: EINVAL (rt or out NULL, size too small), ENOPROC (not alive:
   Erlang's undefined), ESTOPPED. Any thread. Since 1.0. */
SWERL_API int swerl_process_get_info(swerl_runtime *rt, swerl_pid pid, swerl_process_info *out);

/* Write up to `cap` live pids into `buf` (may be NULL when cap is 0) and the
   number of live processes into *count (which may exceed cap: call again
   with a larger buffer). Errors: EINVAL (rt or count NULL, buf NULL with
   cap > 0), ESTOPPED. Any thread. Since 1.0. */
SWERL_API int swerl_processes(swerl_runtime *rt, swerl_pid *buf, size_t cap, size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SWERL_H */
