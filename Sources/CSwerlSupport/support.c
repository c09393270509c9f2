#define _GNU_SOURCE 1
#include "swerl_support.h"

#include <fcntl.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

_Thread_local void *swerlrt_current_ctx SWERLRT_HOT_TLS = 0;
_Thread_local void *swerlrt_current_worker SWERLRT_HOT_TLS = 0;
_Thread_local uintptr_t swerlrt_current_token SWERLRT_HOT_TLS = 0;
_Thread_local void *swerlrt_current_pool SWERLRT_HOT_TLS = 0;
_Thread_local int swerlrt_monitor_thread = 0;

#include "../../include/swerl.h"  /* the one error table */

const char *swerlrt_strerror(int code) {
    switch (code) {
    case SWERL_OK: return "success";
#define SWERLRT_TEXT_(name, value, text) case SWERL_##name: return text;
    SWERL_ERRNO_MAP(SWERLRT_TEXT_)
#undef SWERLRT_TEXT_
    default: return "unknown error";
    }
}

const char *swerlrt_err_name(int code) {
    switch (code) {
    case SWERL_OK: return "OK";
#define SWERLRT_NAME_(name, value, text) case SWERL_##name: return #name;
    SWERL_ERRNO_MAP(SWERLRT_NAME_)
#undef SWERLRT_NAME_
    default: return "UNKNOWN";
    }
}

/* --- asymmetric fence --------------------------------------------------- */

int swerlrt_asymmetric_fence_init(void) {
    static int available = -1;  /* registration is per process: once */
    int seen = __atomic_load_n(&available, __ATOMIC_ACQUIRE);
    if (seen >= 0) return seen;
    long commands = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);
    int ok = commands > 0 && (commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED)
        && syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0;
    __atomic_store_n(&available, ok, __ATOMIC_RELEASE);
    return ok;
}

int swerlrt_heavy_fence(void) {
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0) return 0;
    /* A child of fork() has a new address space, not registered (the flag
       above was copied from the parent): register it, then try again. */
    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0);
    return syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0 ? 0 : -1;
}

/* --- threads ------------------------------------------------------------- */

static _Thread_local int cached_tid;

/* Cached per thread: a group's driver asks once per turn. A forked child's
   thread has a new id: fork_safety.c forgets the cache there. */
int swerlrt_gettid(void) {
    if (cached_tid == 0) cached_tid = (int)syscall(SYS_gettid);
    return cached_tid;
}

void swerlrt_forget_tid(void) { cached_tid = 0; }

int swerlrt_thread_is_waiting(int tid) {
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return -1;
    text[n] = 0;
    /* "tid (comm) S ...": the name may hold spaces and parentheses, so the
       state follows the last ')'. */
    char *end = strrchr(text, ')');
    if (!end || end[1] != ' ') return -1;
    return end[2] == 'S' || end[2] == 'D';
}

/* --- last-error detail -------------------------------------------------- */

/* A buffer per thread, made on the thread's first error and freed with the
   thread (a key destructor), so threads that never fail cost nothing. */
typedef struct { size_t cap; unsigned tag; char text[]; } swerlrt_detail;
_Thread_local unsigned swerlrt_failures = 0;
static pthread_key_t detail_key;
static pthread_once_t detail_once = PTHREAD_ONCE_INIT;
static void detail_make_key(void) { pthread_key_create(&detail_key, free); }

void swerlrt_error_set(const char *text, size_t len) {
    pthread_once(&detail_once, detail_make_key);
    swerlrt_detail *d = pthread_getspecific(detail_key);
    if (!d || d->cap < len + 1) {
        size_t cap = len + 1 < 256 ? 256 : len + 1;
        swerlrt_detail *grown = realloc(d, sizeof *d + cap);
        if (!grown) return;  /* keep the old text: better than none */
        grown->cap = cap;
        d = grown;
        pthread_setspecific(detail_key, d);
    }
    if (len) memcpy(d->text, text, len);
    d->text[len] = 0;
    d->tag = swerlrt_failures + 1;
}

const char *swerlrt_error_get(void) {
    pthread_once(&detail_once, detail_make_key);
    swerlrt_detail *d = pthread_getspecific(detail_key);
    return d && d->tag == swerlrt_failures ? d->text : "";
}

/* --- sockets ------------------------------------------------------------- */

int swerlrt_accept(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int swerlrt_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

void swerlrt_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t written = write(fd, &one, sizeof one);
    (void)written;  /* EAGAIN: the counter is full, so it is readable anyway */
}

void swerlrt_eventfd_clear(int fd) {
    uint64_t count;
    ssize_t got = read(fd, &count, sizeof count);
    (void)got;  /* EAGAIN: it was empty */
}

#if defined(__GLIBC__)
#include <malloc.h>
void swerlrt_trim_heap(void) { malloc_trim(0); }
#else
void swerlrt_trim_heap(void) {}
#endif
