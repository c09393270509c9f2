/*
 * echo_client: a closed-loop load generator for a TCP echo server on
 * loopback. One thread, one libuv loop, non-blocking sockets.
 *
 *     echo_client --host 127.0.0.1 --port P [--connections C] [--size S]
 *                 [--requests N | --seconds T] [--warmup W] [--timeout T]
 *
 * Each of the C connections sends S bytes, reads until exactly S bytes came
 * back, checks they are the bytes it sent, records the round trip and sends
 * again: one request in flight per connection, so C is the concurrency.
 * The first W requests of each connection are not measured; measurement
 * starts for all connections at once, when the last one has finished its
 * warmup (so no connection is measured while others still warm up), and
 * ends after N more requests on every connection, or after T seconds
 * (default: --seconds 3). --timeout (default 60 s plus T) bounds the whole
 * run, whatever the server does.
 *
 * Prints one line on stdout, e.g.
 *   connections=100 size=64 requests=412345 seconds=3.000 req_per_s=137448
 *   p50_us=712.3 p99_us=1404.1 p999_us=2100.0 max_us=5012.7 errors=0
 * (on one line). errors counts failed connects, resets and early closes,
 * echoes that differ from what was sent, connections cut by --timeout and,
 * with --seconds, connections whose request has waited 1 s at the end;
 * each is also described on stderr. Exit status: 0 when errors=0 and
 * something was measured, 1 otherwise, 2 for bad usage.
 */
#include <uv.h>

#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

enum state { CONNECTING, WARMUP, PARKED, MEASURING, FINISHED, FAILED };

struct conn {
    uv_tcp_t tcp;             /* first: the handle's address is the conn's */
    uv_connect_t creq;
    uv_write_t wreq;
    enum state st;
    unsigned id;
    char *sent;               /* the request: what must come back */
    char *recv;
    size_t got;               /* bytes of the current echo received so far */
    int written;              /* the current request's write completed */
    uint64_t t_start, seq, warm_done, measured;
};

static struct {
    /* options */
    const char *host;
    int port;
    unsigned connections;
    size_t size;
    uint64_t requests;        /* 0: --seconds mode */
    double seconds;
    uint64_t warmup;
    double timeout;
    /* run */
    struct sockaddr_storage addr;
    struct conn *conns;
    unsigned warming;         /* connections still connecting or warming up */
    unsigned active;          /* connections measuring */
    int measuring, stopping;
    uint64_t t0, t_end, deadline;
    uint64_t errors;
    uv_timer_t deadline_timer, timeout_timer;
    struct histogram hist;
} g;

#define RECV_BUF 65536
#define STALL_NS 1000000000ull

static void stop_all(void);
static void start_request(struct conn *c);
static int complete(struct conn *c);

static void error_line(const struct conn *c, const char *what, const char *detail)
{
    g.errors++;
    if (g.errors <= 10) fprintf(stderr, "echo_client: connection %u: %s%s%s\n", c->id, what,
                                detail ? ": " : "", detail ? detail : "");
    else if (g.errors == 11) fprintf(stderr, "echo_client: more errors not shown\n");
}

static void end_measure(void)
{
    if (g.stopping) return;
    if (g.measuring) {
        g.t_end = uv_hrtime();
        if (g.deadline && g.t_end > g.deadline) g.t_end = g.deadline;   /* the timer fires late */
        /* A connection with no echo in the window, or waiting for one for
         * a second (loopback round trips take micro- to milliseconds), is
         * stuck: an error, not a slow request. */
        for (unsigned i = 0; !g.requests && i < g.connections; i++) {
            struct conn *c = &g.conns[i];
            if (c->st == MEASURING && (!c->measured || g.t_end - c->t_start >= STALL_NS))
                error_line(c, "stalled", "no echo for the last request");
        }
    }
    stop_all();
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    end_measure();
}

static void start_measure(void)
{
    g.measuring = 1;
    g.t0 = uv_hrtime();
    if (!g.requests) {
        g.deadline = g.t0 + (uint64_t)(g.seconds * 1e9);
        uv_timer_start(&g.deadline_timer, on_deadline, (uint64_t)ceil(g.seconds * 1e3), 0);
    }
    for (unsigned i = 0; i < g.connections; i++) {
        struct conn *c = &g.conns[i];
        if (c->st != PARKED) continue;
        c->st = MEASURING;
        g.active++;
        start_request(c);
    }
    if (!g.active) end_measure();
}

/* A connection leaves the warmup phase (done, or failed): the last one
 * starts the measurement for all. */
static void leave_warmup(void)
{
    if (--g.warming == 0) start_measure();
}

static void on_close(uv_handle_t *h)
{
    (void)h;
}

static void close_conn(struct conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void fail(struct conn *c, const char *what, const char *detail)
{
    enum state was = c->st;
    if (g.stopping || was == FAILED || was == FINISHED) return;
    error_line(c, what, detail);
    c->st = FAILED;
    close_conn(c);
    if (was == CONNECTING || was == WARMUP) leave_warmup();
    else if (was == MEASURING && --g.active == 0) end_measure();
}

static void on_write(uv_write_t *req, int status)
{
    struct conn *c = req->data;
    if (status < 0) {
        fail(c, "write", uv_strerror(status));
        return;
    }
    c->written = 1;
    if (c->got == g.size && complete(c)) start_request(c);   /* the echo came first */
}

static void start_request(struct conn *c)
{
    uv_buf_t b;
    int r;
    /* The first bytes carry the request's number: a stale echo differs. */
    memcpy(c->sent, &c->seq, g.size < 8 ? g.size : 8);
    c->seq++;
    c->got = 0;
    c->written = 0;
    c->t_start = uv_hrtime();
    b = uv_buf_init(c->sent, (unsigned)g.size);
    c->wreq.data = c;
    r = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (r < 0) fail(c, "write", uv_strerror(r));
}

/* One round trip done: count it, then send again, park or finish. The next
 * request is sent from here, or from on_write when that comes later. */
static int complete(struct conn *c)
{
    uint64_t now = uv_hrtime();
    if (c->st == WARMUP) {
        if (++c->warm_done == g.warmup) {
            c->st = PARKED;
            leave_warmup();
            return 0;
        }
        return 1;
    }
    if (g.deadline && now >= g.deadline) {    /* past the window: not counted */
        end_measure();
        return 0;
    }
    hist_record(&g.hist, now - c->t_start);
    if (++c->measured == g.requests) {
        c->st = FINISHED;
        close_conn(c);
        if (--g.active == 0) end_measure();
        return 0;
    }
    return 1;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct conn *c = (struct conn *)h;
    (void)hint;
    *buf = uv_buf_init(c->recv, RECV_BUF);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = (struct conn *)s;
    if (nread == 0) return;
    if (nread < 0) {
        fail(c, nread == UV_EOF ? "closed by the server" : "read",
             nread == UV_EOF ? NULL : uv_strerror((int)nread));
        return;
    }
    if ((c->st != WARMUP && c->st != MEASURING) || c->got + (size_t)nread > g.size) {
        fail(c, "mismatch", "more bytes than were sent");
        return;
    }
    if (memcmp(buf->base, c->sent + c->got, (size_t)nread) != 0) {
        fail(c, "mismatch", "the echo differs from the request");
        return;
    }
    c->got += (size_t)nread;
    if (c->got == g.size && c->written && complete(c)) start_request(c);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    int r;
    if (status < 0) {
        fail(c, "connect", uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (r < 0) {
        fail(c, "read", uv_strerror(r));
        return;
    }
    if (g.warmup) {
        c->st = WARMUP;
        start_request(c);
    } else {
        c->st = PARKED;
        leave_warmup();
    }
}

static void on_timeout(uv_timer_t *t)
{
    (void)t;
    fprintf(stderr, "echo_client: --timeout %g s reached\n", g.timeout);
    for (unsigned i = 0; i < g.connections; i++) {
        struct conn *c = &g.conns[i];
        if (c->st == FAILED || c->st == FINISHED) continue;
        error_line(c, "cut by --timeout", NULL);
        c->st = FAILED;
    }
    end_measure();
}

static void stop_all(void)
{
    if (g.stopping) return;
    g.stopping = 1;
    for (unsigned i = 0; i < g.connections; i++) close_conn(&g.conns[i]);
    uv_close((uv_handle_t *)&g.deadline_timer, NULL);
    uv_close((uv_handle_t *)&g.timeout_timer, NULL);
}

/* Only loopback: this benchmark must never load a host on a network. */
static int parse_loopback(const char *host, int port, struct sockaddr_storage *out)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    }
    return 0;
}

static void usage(const char *msg)
{
    if (msg) fprintf(stderr, "echo_client: %s\n", msg);
    fprintf(stderr, "usage: echo_client --host ADDR --port P [--connections C] [--size S]\n"
                    "                   [--requests N | --seconds T] [--warmup W] [--timeout T]\n"
                    "ADDR: a loopback address, 127.0.0.0/8 or ::1\n");
    exit(2);
}

static double number(const char *opt, const char *s, double min, double max)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= min && v <= max)) {
        fprintf(stderr, "echo_client: %s: '%s' is not a number in [%g, %g]\n", opt, s, min, max);
        exit(2);
    }
    return v;
}

static void parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        { "host", required_argument, NULL, 'h' },     { "port", required_argument, NULL, 'p' },
        { "connections", required_argument, NULL, 'c' }, { "size", required_argument, NULL, 's' },
        { "requests", required_argument, NULL, 'n' }, { "seconds", required_argument, NULL, 't' },
        { "warmup", required_argument, NULL, 'w' },   { "timeout", required_argument, NULL, 'T' },
        { NULL, 0, NULL, 0 },
    };
    int o, timeout_given = 0;
    g.host = NULL;
    g.port = -1;
    g.connections = 1;
    g.size = 64;
    g.warmup = 0;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'h': g.host = optarg; break;
        case 'p': g.port = (int)number("--port", optarg, 1, 65535); break;
        case 'c': g.connections = (unsigned)number("--connections", optarg, 1, 100000); break;
        case 's': g.size = (size_t)number("--size", optarg, 1, 64 << 20); break;
        case 'n': g.requests = (uint64_t)number("--requests", optarg, 1, 1e12); break;
        case 't': g.seconds = number("--seconds", optarg, 0.001, 86400); break;
        case 'w': g.warmup = (uint64_t)number("--warmup", optarg, 0, 1e12); break;
        case 'T': g.timeout = number("--timeout", optarg, 0.001, 86400); timeout_given = 1; break;
        default: usage(NULL);
        }
    }
    if (optind < argc) usage("unexpected argument");
    if (!g.host || g.port < 0) usage("--host and --port are required");
    if (g.requests && g.seconds > 0) usage("give --requests or --seconds, not both");
    if (!g.requests && g.seconds <= 0) g.seconds = 3;
    if (!timeout_given) g.timeout = 60 + g.seconds;
    if (!parse_loopback(g.host, g.port, &g.addr))
        usage("--host must be a numeric loopback address (127.0.0.0/8 or ::1)");
}

int main(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    double elapsed;
    uint64_t count;

    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);                /* a reset is an error to report, not a death */
    g.conns = calloc(g.connections, sizeof *g.conns);
    if (!g.conns || hist_init(&g.hist) < 0) {
        fprintf(stderr, "echo_client: out of memory\n");
        return 1;
    }
    uv_timer_init(loop, &g.deadline_timer);
    uv_timer_init(loop, &g.timeout_timer);
    uv_timer_start(&g.timeout_timer, on_timeout, (uint64_t)ceil(g.timeout * 1e3), 0);

    g.warming = g.connections;
    for (unsigned i = 0; i < g.connections; i++) {
        struct conn *c = &g.conns[i];
        int r;
        c->id = i;
        c->st = CONNECTING;
        c->sent = malloc(g.size);
        c->recv = malloc(RECV_BUF);
        if (!c->sent || !c->recv) {
            fprintf(stderr, "echo_client: out of memory\n");
            return 1;
        }
        for (size_t k = 0; k < g.size; k++) c->sent[k] = (char)(k * 31 + i * 7);
        uv_tcp_init(loop, &c->tcp);
        c->creq.data = c;
        r = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&g.addr, on_connect);
        if (r < 0) fail(c, "connect", uv_strerror(r));
    }

    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);

    count = g.hist.count;
    elapsed = g.t_end > g.t0 ? (double)(g.t_end - g.t0) / 1e9 : 0;
    printf("connections=%u size=%zu requests=%" PRIu64 " seconds=%.3f req_per_s=%.0f "
           "p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f errors=%" PRIu64 "\n",
           g.connections, g.size, count, elapsed, elapsed > 0 ? (double)count / elapsed : 0,
           hist_percentile(&g.hist, 50) / 1e3, hist_percentile(&g.hist, 99) / 1e3,
           hist_percentile(&g.hist, 99.9) / 1e3, (double)g.hist.max / 1e3, g.errors);
    for (unsigned i = 0; i < g.connections; i++) {
        free(g.conns[i].sent);
        free(g.conns[i].recv);
    }
    free(g.conns);
    hist_free(&g.hist);
    return g.errors || !count ? 1 : 0;
}
