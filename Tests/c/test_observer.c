/*
 * test_observer.c — the observer page's C entry points (issue 17):
 * swerl_observer_opts_init, swerl_observer_start/_stop, and the scheduler
 * usage the page's load figures come from (swerl_runtime_scheduler_usage).
 * The page's views are tested from Swift (ObserverTests) and Python
 * (test_observer.py, and in Chromium); here: the contract of each call,
 * its errors, and one real request over loopback.
 */
#include "socket_check.h"

static int h_nothing(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx; (void)msg; (void)state;
    return SWERL_CONTINUE;
}
static const swerl_behavior b_nothing = { sizeof(swerl_behavior), NULL, h_nothing, NULL };

/* The port of "http://127.0.0.1:PORT/...". */
static int url_port(const char *url)
{
    const char *colon = strrchr(url, ':');
    return colon ? atoi(colon + 1) : -1;
}

/* Whether a connection to the port is refused (one that is not is closed). */
static int refused(int port)
{
    int fd = check_loopback_connect(port);
    if (fd < 0) return 1;
    close(fd);
    return 0;
}

/* Sends one request on a new connection and reads the whole answer into
   `out` (NUL-terminated); its length, or -1. */
static int http_exchange(int port, const char *request, char *out, size_t cap)
{
    int fd = check_loopback_connect(port);
    size_t got = 0;
    if (fd < 0) return -1;
    if (send(fd, request, strlen(request), 0) != (ssize_t)strlen(request)) { close(fd); return -1; }
    while (got + 1 < cap) {
        ssize_t n = recv(fd, out + got, cap - 1 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    out[got] = 0;
    close(fd);
    return (int)got;
}

static void t_start_and_stop(void)
{
    swerl_runtime *rt = check_start_rt(2, 64);
    swerl_observer_opts opts;
    char url[SWERL_OBSERVER_URL_MAX];
    static char answer[1 << 16];
    swerl_pid pid = 0;
    if (!CHECK(rt != NULL)) return;
    CHECK_EQ_INT(swerl_spawn(rt, &b_nothing, NULL, NULL, &pid), 0);
    CHECK_EQ_INT(swerl_register(rt, "c_named", pid), 0);

    swerl_observer_opts_init(NULL);                                 /* a no-op */
    swerl_observer_opts_init(&opts);
    CHECK_EQ_INT(opts.size, sizeof opts);
    CHECK(opts.address == NULL && opts.token == NULL && opts.flags == 0 && opts.max_connections == 0);

    CHECK_EQ_INT(swerl_observer_start(rt, NULL, url, sizeof url), 0);
    CHECK(strncmp(url, "http://127.0.0.1:", 17) == 0);
    CHECK(url_port(url) > 0);
    CHECK_EQ_INT(swerl_observer_start(rt, NULL, url, sizeof url), SWERL_EINVAL);   /* one per runtime */
    CHECK(strstr(swerl_last_error_detail(), "already serves") != NULL);

    CHECK(http_exchange(url_port(url), "GET /api/processes?filter=c_named HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        answer, sizeof answer) > 0);
    CHECK(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(answer, "\"name\":\"c_named\"") != NULL);
    CHECK(strstr(answer, "\"matched\":1") != NULL);

    CHECK_EQ_INT(swerl_observer_stop(rt), 0);
    CHECK_EQ_INT(swerl_observer_stop(rt), SWERL_EINVAL);          /* none served */
    /* Its listener is gone with it: a new connection is refused (the
       listener's exit closes the socket; wait for it). */
    WAIT_UNTIL_MS(refused(url_port(url)), 10000);
    CHECK(refused(url_port(url)));
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

static void t_bad_options(void)
{
    swerl_runtime *rt = check_start_rt(1, 64);
    swerl_observer_opts opts;
    char url[SWERL_OBSERVER_URL_MAX];
    char tiny[8];
    if (!CHECK(rt != NULL)) return;
    CHECK_EQ_INT(swerl_observer_start(NULL, NULL, url, sizeof url), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_observer_start(rt, NULL, NULL, 5), SWERL_EINVAL);

    swerl_observer_opts_init(&opts);
    opts.address = "0.0.0.0:0";                                    /* off loopback, no token */
    CHECK_EQ_INT(swerl_observer_start(rt, &opts, url, sizeof url), SWERL_EINVAL);
    CHECK(strstr(swerl_last_error_detail(), "token") != NULL);
    opts.address = "unix:/tmp/x";
    CHECK_EQ_INT(swerl_observer_start(rt, &opts, url, sizeof url), SWERL_EINVAL);
    opts.address = "127.0.0.1:0";
    opts.token = "short";
    CHECK_EQ_INT(swerl_observer_start(rt, &opts, url, sizeof url), SWERL_EINVAL);
    opts.token = NULL;
    opts.flags = 0x80;
    CHECK_EQ_INT(swerl_observer_start(rt, &opts, url, sizeof url), SWERL_EINVAL);
    opts.flags = 0;
    opts.reserved = 1;
    CHECK_EQ_INT(swerl_observer_start(rt, &opts, url, sizeof url), SWERL_EINVAL);
    opts.reserved = 0;
    opts.size = 8;
    CHECK_EQ_INT(swerl_observer_start(rt, &opts, url, sizeof url), SWERL_EINVAL);

    /* Too small a buffer: nothing is served, so a later start works. */
    CHECK_EQ_INT(swerl_observer_start(rt, NULL, tiny, sizeof tiny), SWERL_ETOOBIG);
    CHECK_EQ_INT(swerl_observer_stop(rt), SWERL_EINVAL);

    /* With a token, the URL carries it. */
    swerl_observer_opts_init(&opts);
    opts.token = "0123456789abcdef-token";
    opts.flags = SWERL_OBSERVE_ACTIONS;
    CHECK_EQ_INT(swerl_observer_start(rt, &opts, url, sizeof url), 0);
    CHECK(strstr(url, "/?token=0123456789abcdef-token") != NULL);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    CHECK_EQ_INT(swerl_observer_start(rt, NULL, url, sizeof url), SWERL_ESTOPPED);
    CHECK_EQ_INT(swerl_observer_stop(rt), SWERL_ESTOPPED);
    swerl_runtime_free(rt);
}

static int h_spin(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    double until = check_now_ms() + 50;
    volatile unsigned long n = 0;
    (void)ctx; (void)msg; (void)state;
    while (check_now_ms() < until) n++;   /* 50 ms of work: under the 100 ms after which a
                                             computing turn's scheduler is handed on */
    return SWERL_CONTINUE;
}
static const swerl_behavior b_spin = { sizeof(swerl_behavior), NULL, h_spin, NULL };

static void t_scheduler_usage(void)
{
    swerl_runtime *rt = check_start_rt(2, 64);
    swerl_scheduler_usage before[4], after[4];
    size_t count = 0;
    swerl_pid pid = 0;
    uint64_t busy = 0, wall = 0;
    if (!CHECK(rt != NULL)) return;
    CHECK_EQ_INT(swerl_runtime_scheduler_usage(rt, NULL, 0, &count), 0);
    CHECK_EQ_INT((int)count, 2);
    CHECK_EQ_INT(swerl_runtime_scheduler_usage(rt, NULL, 0, NULL), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_runtime_scheduler_usage(rt, NULL, 1, &count), SWERL_EINVAL);
    before[0].size = 4;                                            /* too small */
    CHECK_EQ_INT(swerl_runtime_scheduler_usage(rt, before, 4, &count), SWERL_EINVAL);
    before[0].size = sizeof before[0];
    CHECK_EQ_INT(swerl_runtime_scheduler_usage(rt, before, 4, &count), 0);
    CHECK_EQ_INT((int)before[1].index, 1);
    CHECK(before[0].busy_ns <= before[0].wall_ns);

    /* Turns that compute count as busy on their scheduler: 4 x 50 ms. */
    swerl_process_info info;
    uint64_t handled = 0;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    CHECK_EQ_INT(swerl_spawn(rt, &b_spin, NULL, NULL, &pid), 0);
    WAIT_UNTIL_MS(swerl_process_get_info(rt, pid, &info) == 0 && info.status == SWERL_STATUS_WAITING, 10000);
    handled = info.messages_handled;
    for (int i = 1; i <= 4; i++) {   /* one at a time: one turn of 50 ms each */
        CHECK_EQ_INT(swerl_send(rt, pid, "go", 2), 0);
        WAIT_UNTIL_MS(swerl_process_get_info(rt, pid, &info) == 0 && info.messages_handled >= handled + (uint64_t)i
                      && info.status == SWERL_STATUS_WAITING, 30000);
    }
    after[0].size = sizeof after[0];
    CHECK_EQ_INT(swerl_runtime_scheduler_usage(rt, after, 4, &count), 0);
    for (size_t i = 0; i < count; i++) {
        busy += after[i].busy_ns - before[i].busy_ns;
        wall += after[i].wall_ns - before[i].wall_ns;
        CHECK(after[i].wall_ns >= before[i].wall_ns);
    }
    CHECK_MSG(busy >= 180000000ull, "busy %llu ns over %llu ns of wall time: the spinning turn did not count",
              (unsigned long long)busy, (unsigned long long)wall);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    after[0].size = sizeof after[0];
    CHECK_EQ_INT(swerl_runtime_scheduler_usage(rt, after, 4, &count), 0);   /* works after stop */
    swerl_runtime_free(rt);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("observer: start, one real request, stop", t_start_and_stop, 60);
    check_section("observer: bad options, a buffer too small, a token, after stop", t_bad_options, 60);
    check_section("scheduler usage: busy and wall time per scheduler", t_scheduler_usage, 120);
    return check_summary();
}
