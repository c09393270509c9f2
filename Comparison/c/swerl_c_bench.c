/*
 * swerl_c_bench: Swerl through its C ABI (swerl.h) on pingpong, counting and
 * spawn, following Comparison/PROTOCOL.md:
 *
 *     swerl_c_bench <bench> key=value ... warmup=W runs=R
 *
 * prints one `RESULT {json}` line on stdout (progress on stderr). Every
 * iteration starts a fresh runtime with `schedulers` threads (0: one per
 * CPU). The process that finishes an iteration takes the end time and signals
 * a condition variable the main thread waits on; nothing sleeps.
 */
#define _GNU_SOURCE
#include <swerl.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITER 1000
#define BATCH 1000          /* counting: increments per producer callback */
#define WAIT_S_DEFAULT 600  /* a run that never ends fails after this */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int rc) {
    fprintf(stderr, "swerl_c_bench: %s: %s (%s)\n", what, swerl_strerror(rc), swerl_err_name(rc));
    exit(1);
}

#define CHECK(call)                                 \
    do {                                            \
        int rc_ = (call);                           \
        if (rc_ < 0) die(#call, rc_);               \
    } while (0)

/* ---- the end of an iteration ---------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    double t1;
    char error[256];
} done_t;

static void done_init(done_t *d) {
    memset(d, 0, sizeof *d);
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
}

static void done_destroy(done_t *d) {
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
}

static void done_finish(done_t *d, const char *error) {
    double t = now_s();
    pthread_mutex_lock(&d->mu);
    d->t1 = t;
    if (error) snprintf(d->error, sizeof d->error, "%s", error);
    d->done = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static double wait_s = WAIT_S_DEFAULT;

static double done_wait(done_t *d, const char *what) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)wait_s;
    pthread_mutex_lock(&d->mu);
    while (!d->done) {
        if (pthread_cond_timedwait(&d->cv, &d->mu, &until) == ETIMEDOUT) {
            fprintf(stderr, "swerl_c_bench: %s did not finish within %.0f s\n", what, wait_s);
            exit(1);
        }
    }
    pthread_mutex_unlock(&d->mu);
    if (d->error[0]) {
        fprintf(stderr, "swerl_c_bench: %s: %s\n", what, d->error);
        exit(1);
    }
    return d->t1;
}

static swerl_runtime *start_runtime(unsigned schedulers) {
    swerl_config cfg;
    swerl_config_init(&cfg);
    cfg.schedulers = schedulers;
    swerl_runtime *rt = NULL;
    CHECK(swerl_runtime_start(&cfg, &rt));
    return rt;
}

static swerl_pid spawn_plain(swerl_runtime *rt, swerl_init_fn init, swerl_handle_fn handle, void *arg) {
    swerl_behavior b = {sizeof(swerl_behavior), init, handle, NULL};
    swerl_pid pid = 0;
    CHECK(swerl_spawn(rt, &b, arg, NULL, &pid));
    return pid;
}

/* Message tags: one 8-byte word. */
enum { M_START = 1, M_PING, M_PONG, M_STOP, M_INC, M_GET, M_GO, M_COUNT };

static uint64_t word(const swerl_message *m) {
    uint64_t w = 0;
    if (m->len >= sizeof w) memcpy(&w, m->data, sizeof w);
    return w;
}

/* ---- pingpong ------------------------------------------------------------- */

typedef struct {
    swerl_runtime *rt;
    swerl_pid pong;
    uint64_t left;
    done_t *done;
} ping_state;

static int pong_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    (void)state;
    uint64_t w = word(msg);
    if (w == M_STOP) return SWERL_STOP;
    uint64_t out = M_PONG;
    return swerl_send(swerl_ctx_runtime(ctx), msg->from, &out, sizeof out) < 0 ? -1 : SWERL_CONTINUE;
}

static int ping_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    (void)ctx;
    ping_state *s = state;
    if (word(msg) == M_PONG && --s->left == 0) {
        uint64_t stop = M_STOP;
        swerl_send(s->rt, s->pong, &stop, sizeof stop);
        done_finish(s->done, NULL);
        return SWERL_STOP;
    }
    uint64_t out = M_PING; /* the first one answers the main thread's START */
    return swerl_send(s->rt, s->pong, &out, sizeof out) < 0 ? -1 : SWERL_CONTINUE;
}

static double bench_pingpong(unsigned schedulers, uint64_t n, char *extra, size_t cap) {
    (void)extra; (void)cap;
    done_t done;
    done_init(&done);
    swerl_runtime *rt = start_runtime(schedulers);
    ping_state ps = {rt, 0, n, &done};
    ps.pong = spawn_plain(rt, NULL, pong_handle, NULL);
    swerl_pid ping = spawn_plain(rt, NULL, ping_handle, &ps);
    uint64_t start = M_START;
    double t0 = now_s();
    CHECK(swerl_send(rt, ping, &start, sizeof start));
    double t1 = done_wait(&done, "pingpong");
    swerl_runtime_free(rt);
    done_destroy(&done);
    return t1 - t0;
}

/* ---- counting ------------------------------------------------------------- */

typedef struct {
    swerl_runtime *rt;
    swerl_pid counter;
    uint64_t n, left;
    done_t *done;
} producer_state;

static int counter_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    uint64_t *count = state;
    uint64_t w = word(msg);
    if (w == M_INC) {
        ++*count;
        return SWERL_CONTINUE;
    }
    if (w == M_GET) {
        uint64_t out[2] = {M_COUNT, *count};
        swerl_send(swerl_ctx_runtime(ctx), msg->from, out, sizeof out);
        return SWERL_STOP;
    }
    return -1;
}

static int producer_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    producer_state *s = state;
    uint64_t w = word(msg);
    if (w == M_GO) {
        uint64_t k = s->left < BATCH ? s->left : BATCH, inc = M_INC;
        for (uint64_t i = 0; i < k; i++)
            if (swerl_send(s->rt, s->counter, &inc, sizeof inc) < 0) return -1;
        s->left -= k;
        if (s->left) {
            uint64_t go = M_GO;
            swerl_send(s->rt, swerl_self(ctx), &go, sizeof go);
        } else {
            uint64_t get = M_GET;
            swerl_send(s->rt, s->counter, &get, sizeof get);
        }
        return SWERL_CONTINUE;
    }
    if (w == M_COUNT && msg->len == 2 * sizeof(uint64_t)) {
        uint64_t got;
        memcpy(&got, (const char *)msg->data + sizeof(uint64_t), sizeof got);
        char err[128] = "";
        if (got != s->n)
            snprintf(err, sizeof err, "counted %llu, expected %llu", (unsigned long long)got,
                     (unsigned long long)s->n);
        done_finish(s->done, err[0] ? err : NULL);
        return SWERL_STOP;
    }
    return -1;
}

static double bench_counting(unsigned schedulers, uint64_t n, char *extra, size_t cap) {
    (void)extra; (void)cap;
    done_t done;
    done_init(&done);
    swerl_runtime *rt = start_runtime(schedulers);
    uint64_t count = 0;
    producer_state ps = {rt, 0, n, n, &done};
    ps.counter = spawn_plain(rt, NULL, counter_handle, &count);
    swerl_pid producer = spawn_plain(rt, NULL, producer_handle, &ps);
    uint64_t go = M_GO;
    double t0 = now_s();
    CHECK(swerl_send(rt, producer, &go, sizeof go));
    double t1 = done_wait(&done, "counting");
    swerl_runtime_free(rt);
    done_destroy(&done);
    return t1 - t0;
}

/* ---- spawn ---------------------------------------------------------------- */

typedef struct {
    swerl_runtime *rt;
    uint64_t n;
    _Atomic uint64_t started;
    done_t *done;
    double t0, calls_s;
    swerl_pid sample[16];
    int rc;
} spawn_state;

static int idle_init(swerl_ctx *ctx, void *arg, void **state) {
    (void)ctx; (void)state;
    spawn_state *s = arg;
    if (atomic_fetch_add_explicit(&s->started, 1, memory_order_relaxed) + 1 == s->n)
        done_finish(s->done, NULL);
    return 0;
}

static int idle_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    (void)ctx; (void)msg; (void)state;
    return SWERL_CONTINUE;
}

static int spawner_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    (void)ctx; (void)msg;
    spawn_state *s = state;
    swerl_behavior b = {sizeof(swerl_behavior), idle_init, idle_handle, NULL};
    s->t0 = now_s();
    for (uint64_t i = 0; i < s->n; i++) {
        swerl_pid pid;
        int rc = swerl_spawn(s->rt, &b, s, NULL, &pid);
        if (rc < 0) {
            s->rc = rc;
            done_finish(s->done, swerl_strerror(rc));
            return SWERL_CONTINUE;
        }
        if (i < 16) s->sample[i] = pid;
    }
    s->calls_s = now_s() - s->t0;
    return SWERL_CONTINUE;
}

static long rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, rss = 0;
    if (!f || fscanf(f, "%ld %ld", &size, &rss) != 2) {
        fprintf(stderr, "swerl_c_bench: cannot read /proc/self/statm\n");
        exit(1);
    }
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double bench_spawn(unsigned schedulers, uint64_t n, char *extra, size_t cap) {
    done_t done;
    done_init(&done);
    swerl_runtime *rt = start_runtime(schedulers);
    spawn_state *s = calloc(1, sizeof *s);
    s->rt = rt;
    s->n = n;
    s->done = &done;
    swerl_pid spawner = spawn_plain(rt, NULL, spawner_handle, s);
    long rss0 = rss_bytes();
    uint64_t go = M_GO;
    CHECK(swerl_send(rt, spawner, &go, sizeof go));
    double t1 = done_wait(&done, "spawn");
    long rss1 = rss_bytes();

    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    CHECK(swerl_runtime_stats(rt, &st));
    if (st.processes != n + 1) {
        fprintf(stderr, "swerl_c_bench: spawn: %llu processes alive, expected %llu\n",
                (unsigned long long)st.processes, (unsigned long long)n + 1);
        exit(1);
    }
    uint64_t mem[16];
    int k = 0;
    for (int i = 0; i < 16 && (uint64_t)i < n; i++) {
        swerl_process_info info;
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        if (swerl_process_get_info(rt, s->sample[i], &info) == 0) mem[k++] = info.memory;
    }
    qsort(mem, (size_t)k, sizeof mem[0], cmp_u64);
    CHECK(swerl_runtime_stop(rt, 60000));
    CHECK(swerl_runtime_stats(rt, &st));
    if (st.processes != 0 || st.exited != st.spawned) {
        fprintf(stderr, "swerl_c_bench: spawn: after stop %llu alive, %llu of %llu exited\n",
                (unsigned long long)st.processes, (unsigned long long)st.exited,
                (unsigned long long)st.spawned);
        exit(1);
    }
    swerl_runtime_free(rt);
    done_destroy(&done);
    double secs = t1 - s->t0;
    snprintf(extra, cap,
             "{\"bytes_per_process\": %.1f, \"bytes_per_process_runtime\": %llu, "
             "\"us_per_spawn\": %.4f, \"spawn_calls_us\": %.4f}",
             (double)(rss1 - rss0) / (double)n, k ? (unsigned long long)mem[k / 2] : 0ULL,
             secs / (double)n * 1e6, s->calls_s / (double)n * 1e6);
    free(s);
    return secs;
}

/* ---- protocol ------------------------------------------------------------- */

typedef double (*bench_fn)(unsigned schedulers, uint64_t n, char *extra, size_t cap);

static const struct {
    const char *name;
    bench_fn fn;
    uint64_t default_n;
} BENCHES[] = {
    {"pingpong", bench_pingpong, 1000000},
    {"counting", bench_counting, 5000000},
    {"spawn", bench_spawn, 1000000},
};

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Per-key median of numeric fields over the runs' extra objects. The extras
   are flat {"key": number, ...}; parsed back here so the RESULT reports one
   median per key. */
static void print_extra_medians(char extras[][512], int count) {
    const char *keys[] = {"bytes_per_process", "bytes_per_process_runtime", "us_per_spawn",
                          "spawn_calls_us"};
    printf("{");
    int first = 1;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        double v[MAX_ITER];
        int m = 0;
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\": ", keys[k]);
        for (int i = 0; i < count; i++) {
            const char *p = strstr(extras[i], pat);
            if (p) v[m++] = strtod(p + strlen(pat), NULL);
        }
        if (!m) continue;
        qsort(v, (size_t)m, sizeof v[0], cmp_double);
        double med = m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
        printf("%s\"%s\": %.4f", first ? "" : ", ", keys[k], med);
        first = 0;
    }
    printf("}");
}

int main(int argc, char **argv) {
    if (argc < 2 || strchr(argv[1], '=')) {
        fprintf(stderr, "usage: %s <bench> key=value ... warmup=W runs=R\n", argv[0]);
        return 2;
    }
    const char *bench = argv[1];
    long warmup = 2, runs = 7, schedulers = 0;
    uint64_t n = 0;
    const char *w = getenv("BENCH_WAIT_S");
    if (w) wait_s = atof(w);
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "swerl_c_bench: bad argument %s (expected key=value)\n", argv[i]);
            return 2;
        }
        size_t klen = (size_t)(eq - argv[i]);
        const char *v = eq + 1;
        if (klen == 6 && !strncmp(argv[i], "warmup", klen)) warmup = atol(v);
        else if (klen == 4 && !strncmp(argv[i], "runs", klen)) runs = atol(v);
        else if (klen == 10 && !strncmp(argv[i], "schedulers", klen)) schedulers = atol(v);
        else if (klen == 1 && argv[i][0] == 'n') n = strtoull(v, NULL, 10);
        else fprintf(stderr, "swerl_c_bench: ignoring %s\n", argv[i]);
    }
    if (warmup < 0 || runs < 1 || warmup + runs > MAX_ITER || schedulers < 0) {
        fprintf(stderr, "swerl_c_bench: need warmup >= 0, runs >= 1, warmup + runs <= %d\n", MAX_ITER);
        return 2;
    }
    bench_fn fn = NULL;
    for (size_t i = 0; i < sizeof BENCHES / sizeof BENCHES[0]; i++)
        if (!strcmp(bench, BENCHES[i].name)) {
            fn = BENCHES[i].fn;
            if (!n) n = BENCHES[i].default_n;
        }
    if (!fn) {
        printf("RESULT {\"system\": \"swerl-c\", \"bench\": \"%s\", \"skipped\": "
               "\"not implemented by swerl-c\"}\n", bench);
        return 0;
    }
    if (n == 0) {
        fprintf(stderr, "swerl_c_bench: n must be > 0\n");
        return 2;
    }

    /* The number of scheduler threads the runtime really starts. */
    swerl_runtime *probe = start_runtime((unsigned)schedulers);
    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    CHECK(swerl_runtime_stats(probe, &st));
    unsigned used = st.schedulers;
    swerl_runtime_free(probe);

    int total = (int)(warmup + runs);
    double *times = calloc((size_t)total, sizeof *times);
    char (*extras)[512] = calloc((size_t)total, sizeof *extras);
    for (int i = 0; i < total; i++) {
        times[i] = fn((unsigned)schedulers, n, extras[i], sizeof extras[i]);
        fprintf(stderr, "swerl-c %s %s %d/%d: %.4f s\n", bench, i < warmup ? "warmup" : "run",
                i + 1, total, times[i]);
    }
    printf("RESULT {\"system\": \"swerl-c\", \"bench\": \"%s\", \"params\": {\"n\": %llu}, "
           "\"schedulers\": %u, \"warmups\": [", bench, (unsigned long long)n, used);
    for (int i = 0; i < warmup; i++) printf("%s%.6f", i ? ", " : "", times[i]);
    printf("], \"runs\": [");
    for (int i = 0; i < runs; i++) printf("%s%.6f", i ? ", " : "", times[warmup + i]);
    printf("], \"extra\": ");
    print_extra_medians(extras + warmup, (int)runs);
    printf("}\n");
    free(times);
    free(extras);
    return 0;
}
