/* The Swerl (C) peer of the distribution benchmark
 * (Benchmarks/dist/README.md): the same program as dist_peer.erl. A node
 * that hosts three processes registered by name:
 *   dist_sink  counts the data messages of a throughput run and acks them,
 *   dist_echo  sends every ping back,
 *   dist_ctl   runs the tests the runner asks for on stdin (the main thread
 *              hands it each line and waits for its result line).
 *
 *   dist_peer NAME@127.0.0.1 EPMD_PORT COOKIE [SCHEDULERS]
 *
 * prints "ready NAME@127.0.0.1", then reads commands, one result line each:
 *   tput NODE N SIZE BATCH WINDOW TIMEOUT_MS
 *   ping NODE COUNT WARMUP SIZE TIMEOUT_MS
 *   quit                                        (or end of input)
 * Every message is bytes (a binary on the wire) sent to a registered name
 * with swerl_send_remote, in both directions, as the Erlang peer does:
 *   "S N BATCH SIZE DRIVER" to the sink: a run starts; it answers "R"
 *   "D..." (SIZE bytes)       a data message; every BATCH of them and at N
 *                             the sink answers "A<count>"; a data message
 *                             of another size is answered "X<count>"
 *   "H DRIVER" to the echo:   it answers "H", then sends back all else
 *   "P..." (SIZE bytes)       a ping, sent back as it came
 * The sender is the dist_ctl process, not the main thread: it sends a batch
 * per turn, at most WINDOW batches ahead of the acks, as the Erlang sender
 * does (so neither side queues more than WINDOW x BATCH messages).
 *
 * Built against an installed or staged libswerl (pkg-config swerl). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <swerl.h>

static swerl_runtime *g_rt;
static char g_self[300];                 /* this node's name */

/* The result line dist_ctl hands the main thread. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static char g_result[512];
static int g_have_result;

static void finish(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void finish(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&g_lock);
    va_start(ap, fmt);
    vsnprintf(g_result, sizeof g_result, fmt, ap);
    va_end(ap);
    g_have_result = 1;
    pthread_cond_signal(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_log(void *user, int level, const char *text, size_t len)
{
    (void)user;
    fprintf(stderr, "swerl log %d: %.*s\n", level, (int)len, text);
}

/* ---- dist_sink ---------------------------------------------------------- */

typedef struct {
    uint64_t n, batch, count;
    size_t size;
    int active;
    char driver[300];
} sink_state;

static void send_ctl(const char *driver, const void *data, size_t len)
{
    int rc = swerl_send_remote(g_rt, "dist_ctl", driver, data, len);
    if (rc != 0) fprintf(stderr, "dist_peer: send to dist_ctl@%s: %s\n", driver, swerl_err_name(rc));
}

static int sink_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    sink_state *s = (sink_state *)state;
    const char *d = (const char *)m->data;
    char text[64];
    (void)ctx;
    if (m->kind != SWERL_MESSAGE || m->len == 0 || (m->flags & SWERL_MESSAGE_TERM)) return SWERL_CONTINUE;
    if (d[0] == 'S' && m->len < 400) {                  /* "S N BATCH SIZE DRIVER" */
        char line[400];
        unsigned long long n, batch, size;
        memcpy(line, d, m->len);
        line[m->len] = 0;
        if (sscanf(line, "S %llu %llu %llu %299s", &n, &batch, &size, s->driver) != 4 || batch == 0) {
            s->active = 0;
            return SWERL_CONTINUE;
        }
        s->n = n, s->batch = batch, s->size = (size_t)size, s->count = 0, s->active = 1;
        send_ctl(s->driver, "R", 1);
        return SWERL_CONTINUE;
    }
    if (!s->active) return SWERL_CONTINUE;
    if (d[0] == 'D' && m->len == s->size) {
        s->count++;
        if (s->count % s->batch == 0 || s->count == s->n) {
            int k = snprintf(text, sizeof text, "A%" PRIu64, s->count);
            send_ctl(s->driver, text, (size_t)k);
        }
        if (s->count == s->n) s->active = 0;
    } else {
        int k = snprintf(text, sizeof text, "X%" PRIu64, s->count);
        send_ctl(s->driver, text, (size_t)k);
    }
    return SWERL_CONTINUE;
}

/* ---- dist_echo ---------------------------------------------------------- */

static int echo_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    char *driver = (char *)state;                       /* "" until the hello */
    (void)ctx;
    if (m->kind != SWERL_MESSAGE || m->len == 0) return SWERL_CONTINUE;
    if (m->len > 2 && m->len < 300 && memcmp(m->data, "H ", 2) == 0) {
        memcpy(driver, (const char *)m->data + 2, m->len - 2);
        driver[m->len - 2] = 0;
        send_ctl(driver, "H", 1);
    } else if (driver[0]) {
        send_ctl(driver, m->data, m->len);
    }
    return SWERL_CONTINUE;
}

/* ---- dist_ctl ----------------------------------------------------------- */

enum { IDLE, TPUT_READY, TPUT_SENDING, PING_HELLO, PING_RUN };

typedef struct {
    int mode;
    char node[300];
    uint32_t timeout;
    char *buf;
    size_t size;
    /* throughput */
    uint64_t n, batch, window, sent, acked, t0;
    /* round trips */
    uint64_t count, warmup, done, t_send, t_first;
    uint64_t *samples;
} ctl_state;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void ctl_reset(ctl_state *c)
{
    free(c->buf);
    free(c->samples);
    c->buf = NULL;
    c->samples = NULL;
    c->mode = IDLE;
}

/* Send batches while fewer than WINDOW batches are unacked. */
static int ctl_fill(ctl_state *c)
{
    while (c->sent < c->n && c->sent - c->acked < c->window * c->batch) {
        uint64_t k = c->n - c->sent < c->batch ? c->n - c->sent : c->batch;
        for (uint64_t i = 0; i < k; i++) {
            int rc = swerl_send_remote(g_rt, "dist_sink", c->node, c->buf, c->size);
            if (rc != 0) {
                finish("error send %s after %" PRIu64 ": %s", swerl_err_name(rc), c->sent, swerl_last_error_detail());
                ctl_reset(c);
                return -1;
            }
            c->sent++;
        }
    }
    return 0;
}

static void ctl_ping_next(ctl_state *c)
{
    int rc;
    c->t_send = now_ns();
    rc = swerl_send_remote(g_rt, "dist_echo", c->node, c->buf, c->size);
    if (rc != 0) {
        finish("error send %s: %s", swerl_err_name(rc), swerl_last_error_detail());
        ctl_reset(c);
    }
}

static void ctl_command(ctl_state *c, const char *line)
{
    unsigned long long a, b, d, e;
    unsigned t;
    ctl_reset(c);
    if (sscanf(line, "tput %299s %llu %llu %llu %llu %u", c->node, &a, &b, &d, &e, &t) == 6 && a && b && d && e) {
        char start[400];
        int k;
        c->n = a, c->size = (size_t)b, c->batch = d, c->window = e, c->timeout = t;
        c->sent = c->acked = 0;
        c->buf = malloc(c->size);
        memset(c->buf, 'D', c->size);
        k = snprintf(start, sizeof start, "S %llu %llu %llu %s", a, d, b, g_self);
        c->mode = TPUT_READY;
        if (swerl_send_remote(g_rt, "dist_sink", c->node, start, (size_t)k) != 0) {
            finish("error send start: %s", swerl_last_error_detail());
            ctl_reset(c);
        }
    } else if (sscanf(line, "ping %299s %llu %llu %llu %u", c->node, &a, &b, &d, &t) == 5 && a && d) {
        char hello[320];
        int k;
        c->count = a, c->warmup = b, c->size = (size_t)d, c->timeout = t, c->done = 0;
        c->buf = calloc(1, c->size);
        c->buf[0] = 'P';
        c->samples = malloc(a * sizeof *c->samples);
        k = snprintf(hello, sizeof hello, "H %s", g_self);
        c->mode = PING_HELLO;
        if (swerl_send_remote(g_rt, "dist_echo", c->node, hello, (size_t)k) != 0) {
            finish("error send hello: %s", swerl_last_error_detail());
            ctl_reset(c);
        }
    } else {
        finish("error bad command: %s", line);
    }
}

static int ctl_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    ctl_state *c = (ctl_state *)state;
    const char *d = (const char *)m->data;
    if (m->kind == SWERL_TIMEOUT) {
        if (c->mode != IDLE) {
            finish("error timeout mode=%d sent=%" PRIu64 " acked=%" PRIu64 " pings=%" PRIu64,
                   c->mode, c->sent, c->acked, c->done);
            ctl_reset(c);
        }
        return SWERL_CONTINUE;
    }
    if (m->kind != SWERL_MESSAGE || m->len == 0) return SWERL_CONTINUE;
    if (m->from == 0 && d[0] == 'C') {                  /* from main: "C <command>" */
        char line[512];
        size_t len = m->len < sizeof line ? m->len : sizeof line - 1;
        memcpy(line, d, len);
        line[len] = 0;
        ctl_command(c, line + 2);
    } else if (c->mode == TPUT_READY && m->len == 1 && d[0] == 'R') {
        c->t0 = now_ns();
        c->mode = TPUT_SENDING;
        ctl_fill(c);
    } else if (c->mode == TPUT_SENDING && d[0] == 'A' && m->len < 30) {
        char text[32];
        memcpy(text, d + 1, m->len - 1);
        text[m->len - 1] = 0;
        c->acked = strtoull(text, NULL, 10);
        if (c->acked == c->n) {
            double s = (double)(now_ns() - c->t0) / 1e9;
            finish("ok msgs=%" PRIu64 " seconds=%.6f msgs_per_s=%.1f", c->n, s, (double)c->n / s);
            ctl_reset(c);
        } else {
            ctl_fill(c);
        }
    } else if (c->mode == TPUT_SENDING && d[0] == 'X') {
        finish("error sink saw a message of another size after %.*s", (int)m->len - 1, d + 1);
        ctl_reset(c);
    } else if (c->mode == PING_HELLO && m->len == 1 && d[0] == 'H') {
        c->mode = PING_RUN;
        ctl_ping_next(c);
    } else if (c->mode == PING_RUN && d[0] == 'P' && m->len == c->size) {
        uint64_t t = now_ns();
        if (c->done == c->warmup) c->t_first = c->t_send;
        if (c->done >= c->warmup) c->samples[c->done - c->warmup] = t - c->t_send;
        c->done++;
        if (c->done == c->warmup + c->count) {
            uint64_t n = c->count, *s = c->samples;
            qsort(s, n, sizeof *s, cmp_u64);
#define PCT(p) ((double)s[(n * (p)) / 1000 < n ? (n * (p)) / 1000 : n - 1] / 1000.0)
            finish("ok rtts=%" PRIu64 " mean_us=%.2f p50_us=%.2f p99_us=%.2f max_us=%.2f", n,
                   (double)(t - c->t_first) / (double)n / 1000.0, PCT(500), PCT(990),
                   (double)s[n - 1] / 1000.0);
#undef PCT
            ctl_reset(c);
        } else {
            ctl_ping_next(c);
        }
    }
    if (c->mode != IDLE) swerl_receive_timeout(ctx, c->timeout);
    return SWERL_CONTINUE;
}

/* ---- main --------------------------------------------------------------- */

static int spawn_named(const char *name, swerl_handle_fn handle, void *state)
{
    swerl_behavior b = {sizeof(swerl_behavior), NULL, handle, NULL};
    swerl_spawn_opts o;
    swerl_pid pid;
    swerl_spawn_opts_init(&o);
    o.name = name;
    return swerl_spawn(g_rt, &b, state, &o, &pid);
}

int main(int argc, char **argv)
{
    swerl_config cfg;
    swerl_node_opts o;
    char line[512];
    static sink_state sink;
    static char echo_driver[300];
    static ctl_state ctl;
    int rc;

    if (argc < 4) {
        fprintf(stderr, "usage: dist_peer NAME@127.0.0.1 EPMD_PORT COOKIE [SCHEDULERS]\n");
        return 2;
    }
    swerl_config_init(&cfg);
    cfg.schedulers = argc > 4 ? (uint32_t)atoi(argv[4]) : 0;
    cfg.on_log = on_log;
    if ((rc = swerl_runtime_start(&cfg, &g_rt)) != 0) {
        fprintf(stderr, "dist_peer: runtime: %s\n", swerl_err_name(rc));
        return 1;
    }
    swerl_node_opts_init(&o);
    o.cookie = argv[3];
    o.epmd_port = (uint32_t)atoi(argv[2]);
    o.listen_host = "127.0.0.1";
    if ((rc = swerl_node_start(g_rt, argv[1], &o)) != 0) {
        fprintf(stderr, "dist_peer: node_start: %s %s\n", swerl_err_name(rc), swerl_last_error_detail());
        return 1;
    }
    swerl_node_name(g_rt, g_self, sizeof g_self);
    if (spawn_named("dist_sink", sink_handle, &sink) || spawn_named("dist_echo", echo_handle, echo_driver)
        || spawn_named("dist_ctl", ctl_handle, &ctl)) {
        fprintf(stderr, "dist_peer: spawn: %s\n", swerl_last_error_detail());
        return 1;
    }
    printf("ready %s\n", g_self);
    fflush(stdout);

    while (fgets(line, sizeof line - 2, stdin)) {
        char node[300], msg[520];
        int k;
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, "quit") == 0) break;
        if (!line[0]) continue;
        /* Connect first, outside the measurement (as the Erlang peer does). */
        if (sscanf(line, "%*s %299s", node) == 1 && (rc = swerl_node_connect(g_rt, node, 10000)) != 0) {
            printf("error connect %s: %s\n", node, swerl_err_name(rc));
            fflush(stdout);
            continue;
        }
        pthread_mutex_lock(&g_lock);
        g_have_result = 0;
        pthread_mutex_unlock(&g_lock);
        k = snprintf(msg, sizeof msg, "C %s", line);
        if ((rc = swerl_send_named(g_rt, "dist_ctl", msg, (size_t)k)) != 0) {
            printf("error to dist_ctl: %s\n", swerl_err_name(rc));
            fflush(stdout);
            continue;
        }
        pthread_mutex_lock(&g_lock);
        while (!g_have_result) pthread_cond_wait(&g_cond, &g_lock);
        printf("%s\n", g_result);
        pthread_mutex_unlock(&g_lock);
        fflush(stdout);
    }
    swerl_runtime_stop(g_rt, 2000);
    swerl_runtime_free(g_rt);
    return 0;
}
