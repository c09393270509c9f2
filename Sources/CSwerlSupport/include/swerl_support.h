/* Small C helpers the Swift runtime needs and Swift cannot express.
   Nothing here is exported from libswerl.so (no swerl_ prefix). */
#ifndef SWERLRT_SUPPORT_H
#define SWERLRT_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* The thread-locals read on every send and every message: initial-exec,
   an offset from the thread pointer, instead of the general-dynamic model a
   shared library gets by default (a call to __tls_get_addr, ~11
   instructions, four per message). They take 32 bytes of the static TLS
   surplus glibc keeps for libraries loaded with dlopen (Python's ctypes). */
#if defined(__GNUC__) || defined(__clang__)
#  define SWERLRT_HOT_TLS __attribute__((tls_model("initial-exec")))
#else
#  define SWERLRT_HOT_TLS
#endif

/* The callback context of the current thread (NULL outside callbacks).
   Swift has no thread-local storage; a C _Thread_local read costs ~1 ns
   where pthread_getspecific costs ~4 ns. */
extern _Thread_local void *swerlrt_current_ctx SWERLRT_HOT_TLS;
/* The swerl_ctx value handed to the callback running now: a token, new for
   every callback, so a ctx kept past its callback no longer matches. */
extern _Thread_local uintptr_t swerlrt_current_token SWERLRT_HOT_TLS;
/* This runtime thread's message node pool (NULL on other threads). */
extern _Thread_local void *swerlrt_current_pool SWERLRT_HOT_TLS;
static inline void *swerlrt_get_pool(void) { return swerlrt_current_pool; }
static inline void swerlrt_set_pool(void *pool) { swerlrt_current_pool = pool; }
/* The worker (a thread that runs turns) on this thread (NULL on others). */
extern _Thread_local void *swerlrt_current_worker SWERLRT_HOT_TLS;

static inline void *swerlrt_get_ctx(void) { return swerlrt_current_ctx; }
static inline void swerlrt_set_ctx(void *ctx) { swerlrt_current_ctx = ctx; }
static inline uintptr_t swerlrt_get_token(void) { return swerlrt_current_token; }
static inline void swerlrt_set_token(uintptr_t token) { swerlrt_current_token = token; }
static inline void *swerlrt_get_worker(void) { return swerlrt_current_worker; }
static inline void swerlrt_set_worker(void *w) { swerlrt_current_worker = w; }
/* Nonzero on a runtime's turn monitor thread. */
extern _Thread_local int swerlrt_monitor_thread;
static inline int swerlrt_on_monitor_thread(void) { return swerlrt_monitor_thread; }
static inline void swerlrt_set_monitor_thread(int on) { swerlrt_monitor_thread = on; }

/* The message-node arena's lock (arena_lock.c): held across fork(). */
void swerlrt_arena_lock(void);
void swerlrt_arena_unlock(void);

/* Give the heap's free memory back to the system (glibc's malloc_trim;
   a no-op elsewhere). */
void swerlrt_trim_heap(void);

/* Spin-wait hint (x86 PAUSE / arm YIELD). */
static inline void swerlrt_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* A compiler-only barrier: the light side of an asymmetric fence (Worker's
   handler phase), whose heavy side is swerlrt_heavy_fence. */
static inline void swerlrt_compiler_fence(void) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }

/* Registers the process for expedited membarrier; 1 when the heavy fence
   is available (then the light side needs only a compiler barrier), 0 when
   both sides must use full fences. */
int swerlrt_asymmetric_fence_init(void);
/* A full memory barrier on every CPU running a thread of this process
   (membarrier PRIVATE_EXPEDITED). Only after swerlrt_asymmetric_fence_init
   returned 1. 0, or -1 if the kernel refused (the barrier did not happen). */
int swerlrt_heavy_fence(void);

/* The calling thread's kernel id, and whether the thread `tid` of this
   process is waiting in the kernel (sleeping, blocked on I/O or a lock:
   /proc's state S or D) rather than running or ready to run (R). -1 when
   it cannot be told. */
int swerlrt_gettid(void);
int swerlrt_thread_is_waiting(int tid);

/* accept4(fd) of a listening socket: the connection's descriptor,
   non-blocking and close-on-exec, or -1 and errno (Glibc's module does not
   export accept4). */
int swerlrt_accept(int fd);

/* An eventfd (non-blocking, close-on-exec) for a turn group's readiness,
   or -1 and errno; signal adds 1, clear empties it (Glibc's module does not
   export sys/eventfd.h). */
int swerlrt_eventfd(void);
void swerlrt_eventfd_signal(int fd);
void swerlrt_eventfd_clear(int fd);

/* fork_safety.c clears, in a forked child, the Swift runtime's cached thread
   id of the thread that forked. For tests: how many such caches the calling
   thread has (0 when they cannot be found), and the first one's value (0 =
   not cached yet, else the id the Swift runtime's locks will use). */
int swerlrt_swift_tid_caches(int *first_value);

/* The calling thread's last-error detail (swerl_last_error_detail). A
   detail belongs to the failure that follows it: swerlrt_error_set keeps a
   NUL-terminated copy tagged with the next failure's number, and a front
   end counts each failure it returns (swerlrt_error_failed), so a failure
   that set no detail shows "" rather than an older failure's words. */
extern _Thread_local unsigned swerlrt_failures;
static inline void swerlrt_error_failed(void) { swerlrt_failures++; }
void swerlrt_error_set(const char *text, size_t len);
const char *swerlrt_error_get(void);

/* Error texts and names, generated from the header's SWERL_ERRNO_MAP: the
   one table every code, name and description comes from. */
const char *swerlrt_strerror(int code);
const char *swerlrt_err_name(int code);

#endif
