/*
 * check.h — the tiny test harness of Swerl's C tests. No dependencies beyond
 * C99, POSIX and pthreads; valid C99 and C++ (every test is built as both).
 *
 *   CHECK(cond)                 count a pass, or print file:line and the expression
 *   CHECK_EQ_INT(a, b)          as integers; prints both values (and SWERL_E* names)
 *   CHECK_EQ_U64(a, b)          as uint64_t (pids, refs)
 *   CHECK_STR(a, b)             C strings (NULL-safe)
 *   CHECK_MEM(p, n, q, m)       byte strings
 *   WAIT_UNTIL(cond)            poll every 1 ms until cond, at most CHECK_WAIT_MS (10 s)
 *   CHECK_WAIT(cond)            WAIT_UNTIL then CHECK (a timeout is a failure)
 *   check_mailbox               mutex+condvar queue of check_event records that
 *                               handlers (runtime threads) post and main takes
 *   check_section(name, fn, s)  run fn in a forked child with an alarm of s
 *                               seconds: a crash or a hang is a reported failure
 *                               of that section, and the next sections still run
 *   check_summary()             print "N passed, N failed"; the exit status
 *   check_scaled(full, floor)   full / SWERL_TEST_SCALE (volume tests under a sanitizer)
 *   check_rss_kib()             this process's resident set size (malloc trimmed first)
 *   check_stats(rt)             swerl_stats snapshot (a failed read is a failure)
 *
 * Handlers run on runtime threads. Shared counters use the __atomic builtins
 * (AT_LOAD / AT_STORE / AT_ADD); events use check_mailbox. Tests never sleep
 * and hope: they wait for a condition or an event, with a generous timeout.
 *
 * Environment: SWERL_TEST_NOFORK=1 runs sections in-process (for gdb);
 * argv[1], when given, runs only the sections whose name contains it.
 */
#ifndef SWERL_TEST_CHECK_H
#define SWERL_TEST_CHECK_H

#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <swerl.h>

/* ------------------------------------------------------------------------ */
/* Atomics (C99- and C++-valid: the gcc/clang builtins)                      */
/* ------------------------------------------------------------------------ */

#define AT_LOAD(p)      __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define AT_STORE(p, v)  __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define AT_ADD(p, v)    __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)

/* ------------------------------------------------------------------------ */
/* Counters and checks                                                       */
/* ------------------------------------------------------------------------ */

static long check_passed_ = 0;
static long check_failed_ = 0;
static const char *check_section_name_ = "";

#define CHECK_WAIT_MS 10000u

static inline void check_pass_(void) { AT_ADD(&check_passed_, 1); }

#if defined(__GNUC__) || defined(__clang__)
#define CHECK_PRINTF_(f, a) __attribute__((format(printf, f, a)))
#else
#define CHECK_PRINTF_(f, a)
#endif

static inline void check_fail_(const char *file, int line, const char *fmt, ...) CHECK_PRINTF_(3, 4);
static inline void check_fail_(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    AT_ADD(&check_failed_, 1);
    fprintf(stdout, "FAIL %s:%d [%s] %s\n", file, line, check_section_name_, buf);
    fflush(stdout);
}

/* "-2 (ENOPROC)" for values in the error range, the number otherwise. */
static inline const char *check_fmt_int_(long long v, char *buf, size_t cap)
{
    if (v <= 0 && v >= -64)
        snprintf(buf, cap, "%lld (%s)", v, swerl_err_name((int)v));
    else
        snprintf(buf, cap, "%lld", v);
    return buf;
}

static inline int check_eq_int_(long long a, long long b, const char *ea, const char *eb,
                                const char *file, int line)
{
    char ba[64], bb[64];
    if (a == b) { check_pass_(); return 1; }
    check_fail_(file, line, "CHECK_EQ_INT(%s, %s): got %s, expected %s", ea, eb,
                check_fmt_int_(a, ba, sizeof ba), check_fmt_int_(b, bb, sizeof bb));
    return 0;
}

static inline int check_eq_u64_(uint64_t a, uint64_t b, const char *ea, const char *eb,
                                const char *file, int line)
{
    if (a == b) { check_pass_(); return 1; }
    check_fail_(file, line, "CHECK_EQ_U64(%s, %s): got %llu (0x%llx), expected %llu (0x%llx)",
                ea, eb, (unsigned long long)a, (unsigned long long)a,
                (unsigned long long)b, (unsigned long long)b);
    return 0;
}

static inline int check_str_(const char *a, const char *b, const char *ea, const char *eb,
                             const char *file, int line)
{
    if (a && b && strcmp(a, b) == 0) { check_pass_(); return 1; }
    check_fail_(file, line, "CHECK_STR(%s, %s): got \"%s\", expected \"%s\"", ea, eb,
                a ? a : "(null)", b ? b : "(null)");
    return 0;
}

static inline int check_mem_(const void *p, size_t n, const void *q, size_t m,
                             const char *ep, const char *eq, const char *file, int line)
{
    if (n == m && (n == 0 || (p && q && memcmp(p, q, n) == 0))) { check_pass_(); return 1; }
    check_fail_(file, line, "CHECK_MEM(%s, %s): got %zu bytes \"%.*s\", expected %zu bytes \"%.*s\"",
                ep, eq, n, (int)(p && n < 80 ? n : 0), p ? (const char *)p : "",
                m, (int)(q && m < 80 ? m : 0), q ? (const char *)q : "");
    return 0;
}

static inline int check_cond_(int ok, const char *file, int line, const char *fmt, ...) CHECK_PRINTF_(4, 5);
static inline int check_cond_(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];
    if (ok) { check_pass_(); return 1; }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    check_fail_(file, line, "%s", buf);
    return 0;
}

#define CHECK(cond) check_cond_(!!(cond), __FILE__, __LINE__, "CHECK(%s)", #cond)
#define CHECK_MSG(cond, ...) check_cond_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* "we got here" (the call before it returned, did not crash or hang) */
#define CHECK_REACHED() check_pass_()
#define CHECK_EQ_INT(a, b) \
    check_eq_int_((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_EQ_U64(a, b) \
    check_eq_u64_((uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) check_str_((a), (b), #a, #b, __FILE__, __LINE__)
#define CHECK_MEM(p, n, q, m) \
    check_mem_((p), (n), (q), (m), #p, #q, __FILE__, __LINE__)

/* ------------------------------------------------------------------------ */
/* Time and waiting                                                          */
/* ------------------------------------------------------------------------ */

static inline double check_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static inline void check_sleep_ms(unsigned ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* One step of a polling loop: 0 when the loop should end (cond true, or the
   deadline passed), else sleeps 1 ms and returns 1. */
static inline int check_waiting_(int cond, double *deadline, unsigned timeout_ms)
{
    if (cond) return 0;
    if (*deadline == 0.0) *deadline = check_now_ms() + (double)timeout_ms;
    else if (check_now_ms() > *deadline) return 0;
    check_sleep_ms(1);
    return 1;
}

/* Poll `cond` every 1 ms, at most `ms`. */
#define WAIT_UNTIL_MS(cond, ms) \
    do { double check_dl_ = 0.0; while (check_waiting_(!!(cond), &check_dl_, (ms))) {} } while (0)
#define WAIT_UNTIL(cond) WAIT_UNTIL_MS(cond, CHECK_WAIT_MS)
/* Wait for `cond` (at most `ms`), then CHECK it: a timeout is a failure. */
#define CHECK_WAIT_MS_(cond, ms)                                                     \
    do {                                                                             \
        WAIT_UNTIL_MS(cond, ms);                                                     \
        CHECK_MSG((cond), "CHECK_WAIT(%s): still false after %u ms", #cond, (unsigned)(ms)); \
    } while (0)
#define CHECK_WAIT(cond) CHECK_WAIT_MS_(cond, CHECK_WAIT_MS)

/* ------------------------------------------------------------------------ */
/* Events: what handlers report to main                                      */
/* ------------------------------------------------------------------------ */

#define CHECK_EVENT_DATA 320

enum {
    EV_ANY = -1,
    EV_INIT = 1,     /* init ran */
    EV_MSG,          /* a message was accepted (kind, reason, from, ref, data) */
    EV_SKIP,         /* a message was offered and skipped (SWERL_SKIP) */
    EV_RESULT,       /* a command ran: op, rc, u1.. */
    EV_TERMINATE,    /* terminate ran: reason */
    EV_NOTE          /* anything else a test wants to say */
};

typedef struct check_event {
    int type;            /* EV_* */
    int op;              /* EV_RESULT: the command */
    int rc;              /* EV_RESULT: its return value */
    uint32_t kind;       /* EV_MSG/EV_SKIP: message kind */
    int32_t reason;      /* EV_MSG: reason; EV_TERMINATE: reason */
    uint64_t from, ref;  /* EV_MSG */
    uint64_t self;       /* swerl_self() in the callback */
    uint64_t u1, u2, u3; /* extra values */
    int data_null;       /* msg->data was NULL */
    size_t len;          /* msg->len (data holds at most CHECK_EVENT_DATA bytes) */
    unsigned char data[CHECK_EVENT_DATA];
    double t_ms;         /* check_now_ms() when posted */
    uint64_t seq;        /* a program-wide order of posts (all mailboxes) */
} check_event;

static uint64_t check_event_seq_ = 0;

static inline void check_event_set_data(check_event *e, const void *data, size_t len)
{
    e->data_null = data == NULL;
    e->len = len;
    if (data && len) memcpy(e->data, data, len < CHECK_EVENT_DATA ? len : CHECK_EVENT_DATA);
}

typedef struct check_mailbox {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    check_event *ev;
    size_t n, cap;
    size_t posted;
} check_mailbox;

static inline void mbox_init(check_mailbox *mb)
{
    pthread_condattr_t ca;
    pthread_mutex_init(&mb->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&mb->cv, &ca);
    pthread_condattr_destroy(&ca);
    mb->ev = NULL;
    mb->n = mb->cap = mb->posted = 0;
}

static inline void mbox_destroy(check_mailbox *mb)
{
    pthread_mutex_destroy(&mb->mu);
    pthread_cond_destroy(&mb->cv);
    free(mb->ev);
    mb->ev = NULL;
    mb->n = mb->cap = 0;
}

static inline void mbox_post(check_mailbox *mb, const check_event *e)
{
    pthread_mutex_lock(&mb->mu);
    if (mb->n == mb->cap) {
        size_t cap = mb->cap ? mb->cap * 2 : 64;
        check_event *p = (check_event *)realloc(mb->ev, cap * sizeof *p);
        if (!p) { pthread_mutex_unlock(&mb->mu); abort(); }
        mb->ev = p;
        mb->cap = cap;
    }
    mb->ev[mb->n] = *e;
    mb->ev[mb->n].t_ms = check_now_ms();
    mb->ev[mb->n].seq = AT_ADD(&check_event_seq_, 1);
    mb->n++;
    mb->posted++;
    pthread_cond_broadcast(&mb->cv);
    pthread_mutex_unlock(&mb->mu);
}

/* Which events to take: type (EV_ANY: any), sub (the op of a result or a
   note, the kind of a message; -1: any), and optionally from / ref. */
typedef struct ev_match {
    int type, sub;
    int has_from, has_ref;
    uint64_t from, ref;
} ev_match;

static inline ev_match em(int type, int sub)
{
    ev_match m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.sub = sub;
    return m;
}
static inline ev_match em_from(int type, int sub, uint64_t from)
{
    ev_match m = em(type, sub);
    m.has_from = 1;
    m.from = from;
    return m;
}
static inline ev_match em_ref(int type, int sub, uint64_t ref)
{
    ev_match m = em(type, sub);
    m.has_ref = 1;
    m.ref = ref;
    return m;
}

static inline int ev_matches(const check_event *e, const ev_match *m)
{
    if (m->type != EV_ANY && e->type != m->type) return 0;
    if (m->sub != -1) {
        if ((e->type == EV_RESULT || e->type == EV_NOTE) && e->op != m->sub) return 0;
        if ((e->type == EV_MSG || e->type == EV_SKIP) && (int)e->kind != m->sub) return 0;
    }
    if (m->has_from && e->from != m->from) return 0;
    if (m->has_ref && e->ref != m->ref) return 0;
    return 1;
}

/* Take the first event matching `m` (others keep their order), waiting at
   most timeout_ms. 1: *out holds it; 0: timed out. */
static inline int mbox_take_m(check_mailbox *mb, ev_match m, check_event *out, unsigned timeout_ms)
{
    struct timespec dl;
    int found = 0;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += (time_t)(timeout_ms / 1000u);
    dl.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&mb->mu);
    for (;;) {
        size_t i;
        for (i = 0; i < mb->n; i++) {
            if (ev_matches(&mb->ev[i], &m)) {
                if (out) *out = mb->ev[i];
                memmove(&mb->ev[i], &mb->ev[i + 1], (mb->n - i - 1) * sizeof *mb->ev);
                mb->n--;
                found = 1;
                break;
            }
        }
        if (found) break;
        if (pthread_cond_timedwait(&mb->cv, &mb->mu, &dl) == ETIMEDOUT) {
            /* one last look */
            for (i = 0; i < mb->n; i++) {
                if (ev_matches(&mb->ev[i], &m)) {
                    if (out) *out = mb->ev[i];
                    memmove(&mb->ev[i], &mb->ev[i + 1], (mb->n - i - 1) * sizeof *mb->ev);
                    mb->n--;
                    found = 1;
                    break;
                }
            }
            break;
        }
    }
    pthread_mutex_unlock(&mb->mu);
    if (!found && out) memset(out, 0, sizeof *out);
    return found;
}

static inline int mbox_take(check_mailbox *mb, int type, int sub, check_event *out, unsigned timeout_ms)
{
    return mbox_take_m(mb, em(type, sub), out, timeout_ms);
}

/* Events matching `m` now waiting. */
static inline size_t mbox_count_m(check_mailbox *mb, ev_match m)
{
    size_t i, c = 0;
    pthread_mutex_lock(&mb->mu);
    for (i = 0; i < mb->n; i++) c += (size_t)ev_matches(&mb->ev[i], &m);
    pthread_mutex_unlock(&mb->mu);
    return c;
}

static inline size_t mbox_count(check_mailbox *mb, int type, int sub)
{
    return mbox_count_m(mb, em(type, sub));
}

/* ------------------------------------------------------------------------ */
/* Sections, forked                                                          */
/* ------------------------------------------------------------------------ */

static int check_argc_ = 0;
static char **check_argv_ = NULL;

static inline void check_begin(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_argc_ = argc;
    check_argv_ = argv;
}

static inline int check_nofork_(void)
{
    const char *e = getenv("SWERL_TEST_NOFORK");
    return e && *e && strcmp(e, "0") != 0;
}

/* Wait until fd is readable (the child reported or died) or the deadline
   (check_now_ms) passes; 1 if readable. */
static inline int check_wait_readable_(int fd, double deadline_ms)
{
    for (;;) {
        struct pollfd p;
        double left = deadline_ms - check_now_ms();
        int r;
        if (left <= 0) return 0;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        r = poll(&p, 1, left > 60000.0 ? 60000 : (int)left + 1);
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return 1;        /* let read() decide */
    }
}

/* A section hung: print every thread's stack (gdb, when the machine has it
   and may attach), so a rare hang seen once in CI can be diagnosed, then
   end the child with SIGALRM, as its own alarm would. */
static inline void check_dump_hung_(const char *name, pid_t pid)
{
    char cmd[256];
    printf("FAIL [%s] hung: the stacks of its threads follow\n", name);
    fflush(stdout);
    snprintf(cmd, sizeof cmd,
             "command -v gdb >/dev/null 2>&1 && timeout 60 gdb -p %ld -batch -nx -q "
             "-ex 'set pagination off' -ex 'thread apply all bt 30' 2>&1 "
             "| grep -E '^(Thread |#)' "
             "|| echo '(no gdb: no stacks)'",
             (long)pid);
    if (system(cmd) == -1) printf("(could not run gdb)\n");
    fflush(stdout);
    kill(pid, SIGALRM);
}

/* Run fn (which makes and frees its own runtime) in a forked child with a
   deadline of alarm_s seconds; add the child's counts. A child that dies (a
   crash in the library, a hang) counts as one failure, named. */
static inline void check_section(const char *name, void (*fn)(void), unsigned alarm_s)
{
    int fds[2];
    pid_t pid;
    long counts[2] = {0, 0};
    int status = 0;
    ssize_t got = 0;
    double t0;

    if (check_argc_ > 1 && !strstr(name, check_argv_[1])) return;
    printf("== %s\n", name);
    t0 = check_now_ms();
    if (check_nofork_()) {
        check_section_name_ = name;
        fn();
        check_section_name_ = "";
        printf("   %s: %.0f ms\n", name, check_now_ms() - t0);
        return;
    }
    fflush(stdout);
    fflush(stderr);
    if (pipe(fds) != 0) { perror("pipe"); exit(2); }
    pid = fork();
    if (pid < 0) { perror("fork"); exit(2); }
    if (pid == 0) {
        close(fds[0]);
        check_passed_ = check_failed_ = 0;
        check_section_name_ = name;
        alarm(alarm_s + 60);                  /* a backstop: the parent acts first */
        fn();
        counts[0] = check_passed_;
        counts[1] = check_failed_;
        fflush(stdout);
        if (write(fds[1], counts, sizeof counts) != (ssize_t)sizeof counts) _exit(3);
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    if (!check_wait_readable_(fds[0], t0 + 1000.0 * alarm_s)) check_dump_hung_(name, pid);
    {
        char *p = (char *)counts;
        size_t left = sizeof counts;
        while (left > 0) {
            ssize_t r = read(fds[0], p, left);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            p += r;
            left -= (size_t)r;
            got += r;
        }
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (got == (ssize_t)sizeof counts && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        check_passed_ += counts[0];
        check_failed_ += counts[1];
    } else {
        if (got == (ssize_t)sizeof counts) {
            check_passed_ += counts[0];
            check_failed_ += counts[1];
        }
        check_failed_ += 1;
        if (WIFSIGNALED(status))
            printf("FAIL [%s] the section died of signal %d (%s)%s\n", name, WTERMSIG(status),
                   strsignal(WTERMSIG(status)),
                   WTERMSIG(status) == SIGALRM ? ": it hung past its alarm" : "");
        else
            printf("FAIL [%s] the section exited with status %d before reporting\n", name,
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    printf("   %s: %.0f ms\n", name, check_now_ms() - t0);
}

static inline int check_summary(void)
{
    printf("%ld passed, %ld failed\n", check_passed_, check_failed_);
    fflush(stdout);
    return check_failed_ ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

/* A runtime with `schedulers` threads (0: default) and a message size limit
   (0: default); a failed start is a failure and returns NULL. */
static inline swerl_runtime *check_start_rt(uint32_t schedulers, uint64_t max_message_size)
{
    swerl_config cfg;
    swerl_runtime *rt = NULL;
    int rc;
    swerl_config_init(&cfg);
    cfg.schedulers = schedulers;
    cfg.max_message_size = max_message_size;
    rc = swerl_runtime_start(&cfg, &rt);
    if (!CHECK_EQ_INT(rc, SWERL_OK)) return NULL;
    CHECK(rt != NULL);
    return rt;
}

static inline uint64_t check_stat_processes(swerl_runtime *rt)
{
    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    if (swerl_runtime_stats(rt, &st) != 0) return UINT64_MAX;
    return st.processes;
}

static inline int check_alive(swerl_runtime *rt, swerl_pid pid)
{
    swerl_process_info info;
    memset(&info, 0, sizeof info);
    info.size = (uint32_t)sizeof info;
    return swerl_process_get_info(rt, pid, &info) == 0;
}

/* Whether this program is built with AddressSanitizer (make test-c-asan). */
#if defined(__SANITIZE_ADDRESS__)
#define CHECK_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHECK_UNDER_ASAN 1
#endif
#endif
#ifndef CHECK_UNDER_ASAN
#define CHECK_UNDER_ASAN 0
#endif

/* SWERL_TEST_SCALE: a divisor for the sizes of volume tests (e.g. 10 under a
   sanitizer); 1 when unset or not a positive number. */
static inline unsigned long check_test_scale(void)
{
    const char *e = getenv("SWERL_TEST_SCALE");
    unsigned long v = e && *e ? strtoul(e, NULL, 10) : 1ul;
    return v ? v : 1ul;
}

/* `full` divided by SWERL_TEST_SCALE, at least `floor`. */
static inline uint64_t check_scaled(uint64_t full, uint64_t floor)
{
    uint64_t v = full / check_test_scale();
    return v < floor ? floor : v;
}

/* Resident set size of this process in KiB (/proc/self/statm), -1 if
   unknown. malloc gives its free pages back first (malloc_trim): what is
   measured is live memory, not the high-water marks of malloc's per-thread
   arenas, which grow with the threads that ever allocated (a runtime's
   spare threads come and go: see docs/DESIGN.md, "Handlers that block"). */
static inline long check_rss_kib(void)
{
    long pages_total = 0, pages_rss = -1;
    FILE *f;
    malloc_trim(0);
    f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages_total, &pages_rss) != 2) pages_rss = -1;
    fclose(f);
    return pages_rss < 0 ? -1 : pages_rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A snapshot of the runtime's counters (a failed read is a failure). */
static inline swerl_stats check_stats(swerl_runtime *rt)
{
    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(rt, &st), 0);
    return st;
}

/* A small fast PRNG (xorshift64) for tests' choices; *s must not be 0. */
static inline uint64_t check_xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* which_children into buf (CHECK_MAX_CHILDREN records); the number of
   children, or -1 after a failed check. */
#define CHECK_MAX_CHILDREN 64
static inline long check_which(swerl_runtime *rt, swerl_pid sup, swerl_child_info *buf)
{
    size_t count = 0;
    memset(buf, 0, CHECK_MAX_CHILDREN * sizeof *buf);
    buf[0].size = (uint32_t)sizeof buf[0];
    if (!CHECK_EQ_INT(swerl_supervisor_which_children(rt, sup, buf, CHECK_MAX_CHILDREN, &count), 0)) return -1;
    return (long)count;
}

/* The which_children record of child `id` of `sup`; 0 (and *out zeroed) if absent. */
static inline int check_child(swerl_runtime *rt, swerl_pid sup, const char *id, swerl_child_info *out)
{
    swerl_child_info buf[CHECK_MAX_CHILDREN];
    long n = check_which(rt, sup, buf), i;
    for (i = 0; i < n && i < CHECK_MAX_CHILDREN; i++) {
        if (strcmp(buf[i].id, id) == 0) {
            *out = buf[i];
            return 1;
        }
    }
    memset(out, 0, sizeof *out);
    return 0;
}

/* The pid of child `id` of `sup`; 0 if absent or not running. */
static inline swerl_pid check_child_pid(swerl_runtime *rt, swerl_pid sup, const char *id)
{
    swerl_child_info ci;
    return check_child(rt, sup, id, &ci) ? ci.pid : 0;
}

/* A supervisor spec over `children` (OTP's defaults for the rest). */
static inline swerl_supervisor_spec check_sup_spec(uint32_t strategy, uint32_t intensity, uint32_t period_ms,
                                                   const swerl_child_spec *children, size_t n)
{
    swerl_supervisor_spec s;
    swerl_supervisor_spec_init(&s);
    s.strategy = strategy;
    s.intensity = intensity;
    s.period_ms = period_ms;
    s.children = children;
    s.n_children = n;
    return s;
}

/* The child spec of a nested supervisor (shutdown infinity, as OTP's). */
static inline swerl_child_spec check_nested_child(const char *id, const swerl_supervisor_spec *nested)
{
    swerl_child_spec c;
    swerl_child_spec_init(&c);
    c.id = id;
    c.type = SWERL_SUPERVISOR;
    c.shutdown_ms = SWERL_INFINITY;
    c.supervisor = nested;
    return c;
}

#endif /* SWERL_TEST_CHECK_H */
