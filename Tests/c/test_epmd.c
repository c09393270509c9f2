/* The runtime's own EPMD (swerl.h "Distribution", SWERL_NODE_START_EPMD):
 * epmd's protocol spoken to plain blocking sockets (ALIVE2, PORT_PLEASE2,
 * NAMES, a duplicate name, malformed requests, a registration that ends
 * with its connection, the bounds), two runtimes of this process becoming
 * nodes on it and exchanging a message, and, when erl is installed, a real
 * Erlang node registering with it and `epmd -names` listing it. Loopback
 * only, on a private port (never 4369); everything stops by itself. */
#include "socket_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define COOKIE "swerl_epmd_test"

/* ------------------------------------------------------------------------ */
/* A port nothing listens on                                                 */
/* ------------------------------------------------------------------------ */

/* A loopback port below the ephemeral range that nothing is bound to now. */
static int free_port(void)
{
    static int next = 0;
    int tries;
    if (next == 0) next = 20000 + (int)(getpid() % 11000);
    for (tries = 0; tries < 1000; tries++) {
        int port = next++;
        struct sockaddr_in a;
        int one = 1, ok;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (next >= 31500) next = 20000;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok) return port;
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Raw EPMD requests                                                         */
/* ------------------------------------------------------------------------ */

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static unsigned get16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = (const char *)data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w <= 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Read until the peer closes (or cap, or the 10 s receive timeout): the
   byte count, -1 on a timeout or an error. */
static long read_to_end(int fd, unsigned char *buf, size_t cap)
{
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r == 0) return (long)got;
        if (r < 0) return -1;
        got += (size_t)r;
        if (got == cap) return (long)got;
    }
}

/* Read exactly n bytes: 0, or -1. */
static int read_exactly(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* An ALIVE2_REQ for `name` at `port` (versions 6..5, as erl sends): its
   length in *len. */
static size_t alive_request(unsigned char *out, const char *name, unsigned port, unsigned highest)
{
    size_t n = strlen(name);
    unsigned char *p = out + 2;
    p[0] = 120;
    put16(p + 1, port);
    p[3] = 77;
    p[4] = 0;
    put16(p + 5, highest);
    put16(p + 7, 5);
    put16(p + 9, (unsigned)n);
    memcpy(p + 11, name, n);
    put16(p + 11 + n, 0);
    put16(out, (unsigned)(13 + n));
    return 15 + n;
}

/* Register `name` on a new connection (kept open: the registration). The
   fd, the answer's result in *result and creation in *creation; -1 if no
   connection. */
static int alive(int epmd, const char *name, unsigned port, int *result, uint32_t *creation)
{
    unsigned char req[300], ans[6];
    size_t n = alive_request(req, name, port, 6);
    int fd = check_loopback_connect(epmd);
    *result = -1;
    *creation = 0;
    if (fd < 0) return -1;
    if (write_all(fd, req, n) != 0 || read_exactly(fd, ans, 6) != 0 || ans[0] != 118) return fd;
    *result = ans[1];
    *creation = get32(ans + 2);
    return fd;
}

/* PORT_PLEASE2_REQ for `name`: the node's port, 0 if EPMD does not know
   it, -1 if the answer was not a PORT2_RESP or the connection stayed
   open. */
static int port_please(int epmd, const char *name)
{
    unsigned char req[300], ans[600];
    size_t n = strlen(name);
    long got;
    int fd = check_loopback_connect(epmd);
    if (fd < 0) return -1;
    put16(req, (unsigned)(n + 1));
    req[2] = 122;
    memcpy(req + 3, name, n);
    if (write_all(fd, req, n + 3) != 0) { close(fd); return -1; }
    got = read_to_end(fd, ans, sizeof ans);
    close(fd);
    if (got < 2 || ans[0] != 119) return -1;
    if (ans[1] != 0) return got == 2 ? 0 : -1;
    /* port, type, protocol, highest, lowest, name, extra */
    if (got != (long)(14 + n) || get16(ans + 10) != n || memcmp(ans + 12, name, n) != 0) return -1;
    return (int)get16(ans + 2);
}

/* NAMES_REQ: the text after the 4-byte port into buf (NUL-terminated); the
   port the answer gave, or -1. */
static long names(int epmd, char *buf, size_t cap)
{
    unsigned char req[3] = {0, 1, 110};
    unsigned char ans[8192];
    long got;
    int fd = check_loopback_connect(epmd);
    buf[0] = 0;
    if (fd < 0) return -1;
    if (write_all(fd, req, 3) != 0) { close(fd); return -1; }
    got = read_to_end(fd, ans, sizeof ans);
    close(fd);
    if (got < 4) return -1;
    snprintf(buf, cap, "%.*s", (int)(got - 4), (const char *)ans + 4);
    return (long)get32(ans);
}

/* Send `len` raw bytes, then: 1 if EPMD closed the connection without a
   byte of answer, 0 if it answered or kept it open 10 s. */
static int closed_unanswered(int epmd, const void *data, size_t len)
{
    unsigned char ans[64];
    long got;
    int fd = check_loopback_connect(epmd);
    if (fd < 0) return 0;
    if (write_all(fd, data, len) != 0) { close(fd); return 1; }
    got = read_to_end(fd, ans, sizeof ans);
    close(fd);
    return got == 0;
}

/* ------------------------------------------------------------------------ */
/* Runtimes as nodes                                                         */
/* ------------------------------------------------------------------------ */

static void on_log(void *user, int level, const char *message, size_t len)
{
    (void)user;
    if (level <= SWERL_LOG_WARNING) fprintf(stderr, "   [log %d] %.*s\n", level, (int)len, message);
}

static swerl_runtime *runtime(void)
{
    swerl_config cfg;
    swerl_runtime *rt = NULL;
    swerl_config_init(&cfg);
    cfg.schedulers = 2;
    cfg.on_log = on_log;
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), 0);
    return rt;
}

static int node(swerl_runtime *rt, const char *name, int epmd, uint32_t flags)
{
    swerl_node_opts o;
    swerl_node_opts_init(&o);
    o.flags = flags;
    o.cookie = COOKIE;
    o.listen_host = "127.0.0.1";
    o.epmd_port = (uint32_t)epmd;
    o.connect_timeout_ms = 10000;
    return swerl_node_start(rt, name, &o);
}

/* A process that reports every message. */
static int inbox_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    check_event e;
    (void)ctx;
    memset(&e, 0, sizeof e);
    e.type = EV_MSG;
    e.kind = m->kind;
    e.from = m->from;
    check_event_set_data(&e, m->data, m->len);
    mbox_post((check_mailbox *)state, &e);
    return SWERL_CONTINUE;
}

static const swerl_behavior inbox_behavior = {sizeof(swerl_behavior), NULL, inbox_handle, NULL};

static swerl_pid inbox(swerl_runtime *rt, check_mailbox *mb, const char *name)
{
    swerl_pid pid = 0;
    CHECK_EQ_INT(swerl_spawn(rt, &inbox_behavior, mb, NULL, &pid), 0);
    CHECK_EQ_INT(swerl_register(rt, name, pid), 0);
    return pid;
}

/* Wait for a SWERL_MESSAGE whose bytes are `text`. */
static int got_text(check_mailbox *mb, const char *text)
{
    check_event e;
    double deadline = check_now_ms() + CHECK_WAIT_MS;
    while (check_now_ms() < deadline) {
        if (!mbox_take(mb, EV_MSG, SWERL_MESSAGE, &e, 500)) continue;
        if (e.len == strlen(text) && memcmp(e.data, text, e.len) == 0) return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */
/* ------------------------------------------------------------------------ */

static void t_protocol(void)
{
    int epmd = free_port(), fd, raw1, again, result, port;
    uint32_t creation = 0, creation2 = 0;
    unsigned char req[400];
    char text[4096];
    swerl_runtime *rt = runtime();
    CHECK(epmd > 0);
    CHECK(check_loopback_connect(epmd) < 0);   /* nothing there yet */
    CHECK_EQ_INT(node(rt, "a@127.0.0.1", epmd, SWERL_NODE_START_EPMD), 0);

    /* NAMES: the port, then the runtime's own registration. */
    CHECK_EQ_INT(names(epmd, text, sizeof text), epmd);
    CHECK(strncmp(text, "name a at port ", 15) == 0);
    CHECK(strchr(text, '\n') == text + strlen(text) - 1);

    /* ALIVE2, then PORT_PLEASE2 for it and for a name nobody has. */
    raw1 = alive(epmd, "raw1", 5555, &result, &creation);
    CHECK(raw1 >= 0);
    CHECK_EQ_INT(result, 0);
    CHECK(creation != 0);
    CHECK_EQ_INT(port_please(epmd, "raw1"), 5555);
    CHECK_EQ_INT(port_please(epmd, "nobody"), 0);
    CHECK(port_please(epmd, "a") > 0);
    CHECK_EQ_INT(names(epmd, text, sizeof text), epmd);
    CHECK(strstr(text, "name raw1 at port 5555\n") != NULL);

    /* A live name is refused, and that connection closed. */
    again = alive(epmd, "raw1", 6666, &result, &creation2);
    CHECK(again >= 0);
    CHECK_EQ_INT(result, 1);
    CHECK_EQ_INT(read_to_end(again, req, sizeof req), 0);
    close(again);
    CHECK_EQ_INT(port_please(epmd, "raw1"), 5555);
    again = alive(epmd, "a", 6666, &result, &creation2);   /* the runtime's own */
    CHECK_EQ_INT(result, 1);
    close(again);

    /* A request in pieces is one request. */
    {
        size_t n = alive_request(req, "raw2", 7777, 6);
        unsigned char ans[6];
        fd = check_loopback_connect(epmd);
        CHECK(write_all(fd, req, 1) == 0);
        check_sleep_ms(50);
        CHECK(write_all(fd, req + 1, 5) == 0);
        check_sleep_ms(50);
        CHECK(write_all(fd, req + 6, n - 6) == 0);
        CHECK(read_exactly(fd, ans, 6) == 0);
        CHECK_EQ_INT(ans[0], 118);
        CHECK_EQ_INT(ans[1], 0);
        CHECK_EQ_INT(port_please(epmd, "raw2"), 7777);
        /* More on a registration's connection ends it, as in epmd. */
        CHECK(write_all(fd, "x", 1) == 0);
        CHECK_EQ_INT(read_to_end(fd, ans, sizeof ans), 0);
        close(fd);
        CHECK_WAIT(port_please(epmd, "raw2") == 0);
    }

    /* A node below version 6 gets ALIVE2_RESP and a creation of 1 to 3. */
    {
        size_t n = alive_request(req, "old", 8888, 5);
        unsigned char ans[4];
        fd = check_loopback_connect(epmd);
        CHECK(write_all(fd, req, n) == 0);
        CHECK(read_exactly(fd, ans, 4) == 0);
        CHECK_EQ_INT(ans[0], 121);
        CHECK_EQ_INT(ans[1], 0);
        CHECK(get16(ans + 2) >= 1 && get16(ans + 2) <= 3);
        close(fd);
    }

    /* Malformed or unknown: closed without an answer. */
    {
        static const unsigned char empty[] = {0, 0};
        static const unsigned char unknown[] = {0, 1, 99};
        static const unsigned char kill_req[] = {0, 1, 107};
        static const unsigned char too_long[] = {0xff, 0xff, 120};
        static const unsigned char names_extra[] = {0, 2, 110, 0};
        static const unsigned char port_empty[] = {0, 1, 122};
        static const unsigned char port_nul[] = {0, 4, 122, 'a', 0, 'b'};
        static const unsigned char two[] = {0, 1, 110, 0, 1, 110};
        unsigned char bad[300];
        size_t n;
        CHECK(closed_unanswered(epmd, empty, sizeof empty));
        CHECK(closed_unanswered(epmd, unknown, sizeof unknown));
        CHECK(closed_unanswered(epmd, kill_req, sizeof kill_req));
        CHECK(closed_unanswered(epmd, too_long, sizeof too_long));
        CHECK(closed_unanswered(epmd, names_extra, sizeof names_extra));
        CHECK(closed_unanswered(epmd, port_empty, sizeof port_empty));
        CHECK(closed_unanswered(epmd, port_nul, sizeof port_nul));
        CHECK(closed_unanswered(epmd, two, sizeof two));
        /* ALIVE2 whose name length runs past its end */
        n = alive_request(bad, "raw3", 1234, 6);
        put16(bad + 2 + 9, 200);
        CHECK(closed_unanswered(epmd, bad, n));
        /* ALIVE2 with bytes after its extra */
        n = alive_request(bad, "raw3", 1234, 6);
        bad[n] = 0;
        put16(bad, (unsigned)(n - 2 + 1));
        CHECK(closed_unanswered(epmd, bad, n + 1));
        /* ALIVE2 with an empty name, and one that is not UTF-8 */
        n = alive_request(bad, "", 1234, 6);
        CHECK(closed_unanswered(epmd, bad, n));
        n = alive_request(bad, "r\xff", 1234, 6);
        CHECK(closed_unanswered(epmd, bad, n));
        CHECK_EQ_INT(port_please(epmd, "raw3"), 0);
    }

    /* The registration ends when its connection closes; the name can be
       taken again, with another creation. */
    {
        int first = alive(epmd, "raw4", 4444, &result, &creation);
        CHECK_EQ_INT(result, 0);
        CHECK_EQ_INT(port_please(epmd, "raw4"), 4444);
        close(first);
        CHECK_WAIT(port_please(epmd, "raw4") == 0);
        again = alive(epmd, "raw4", 4445, &result, &creation2);
        CHECK_EQ_INT(result, 0);
        CHECK(creation2 != creation && creation2 != 0);
        CHECK_EQ_INT(port_please(epmd, "raw4"), 4445);
        close(again);
    }
    /* raw1 still holds */
    CHECK_EQ_INT(port_please(epmd, "raw1"), 5555);

    /* A second runtime asking for its own EPMD on the port finds this one. */
    {
        swerl_runtime *other = runtime();
        CHECK_EQ_INT(node(other, "raw1", epmd, SWERL_NODE_START_EPMD), SWERL_ENAMETAKEN);
        swerl_runtime_free(other);
    }

    /* Unknown flag bits */
    {
        swerl_runtime *other = runtime();
        CHECK_EQ_INT(node(other, "c@127.0.0.1", epmd, 0x2), SWERL_EINVAL);
        swerl_runtime_free(other);
    }

    /* This runtime stops: its EPMD with it, and the registrations. */
    port = port_please(epmd, "raw1");
    CHECK_EQ_INT(port, 5555);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    {
        unsigned char ans[8];
        CHECK_EQ_INT(read_to_end(raw1, ans, sizeof ans), 0);
        close(raw1);
    }
    swerl_runtime_free(rt);
    CHECK(check_loopback_connect(epmd) < 0);
}

/* At most 256 registrations; more are refused until one ends. */
static void t_bounds(void)
{
    enum { MAX = 256 };
    int epmd = free_port(), fds[MAX], i, result, ok = 1;
    uint32_t creation;
    char name[32];
    swerl_runtime *rt = runtime();
    CHECK_EQ_INT(node(rt, "a@127.0.0.1", epmd, SWERL_NODE_START_EPMD), 0);
    for (i = 0; i < MAX - 1; i++) {   /* the runtime holds one */
        snprintf(name, sizeof name, "n%d", i);
        fds[i] = alive(epmd, name, 1000 + (unsigned)i, &result, &creation);
        if (fds[i] < 0 || result != 0) ok = 0;
    }
    CHECK(ok);
    fds[MAX - 1] = alive(epmd, "one_more", 999, &result, &creation);
    CHECK_EQ_INT(result, 1);
    close(fds[MAX - 1]);
    close(fds[0]);
    CHECK_WAIT(port_please(epmd, "n0") == 0);
    fds[0] = alive(epmd, "one_more", 999, &result, &creation);
    CHECK_EQ_INT(result, 0);
    CHECK_EQ_INT(port_please(epmd, "n254"), 1254);
    for (i = 0; i < MAX - 1; i++) close(fds[i]);

    /* A connection that sends no whole request is closed after 10 s. */
    {
        unsigned char half[1] = {0}, ans[4];
        double t0 = check_now_ms();
        int fd = check_loopback_connect(epmd);
        struct timeval tv = {30, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        CHECK(write_all(fd, half, 1) == 0);
        CHECK_EQ_INT(read_to_end(fd, ans, sizeof ans), 0);
        CHECK(check_now_ms() - t0 >= 9000);
        close(fd);
    }
    swerl_runtime_free(rt);
}

/* Two runtimes of this process become nodes on the first one's EPMD and
   exchange messages by registered name. */
static void t_two_runtimes(void)
{
    int epmd = free_port();
    check_mailbox mb_a, mb_b;
    swerl_runtime *a = runtime(), *b = runtime();
    char text[4096];
    mbox_init(&mb_a);
    mbox_init(&mb_b);
    CHECK_EQ_INT(node(a, "a@127.0.0.1", epmd, SWERL_NODE_START_EPMD), 0);
    CHECK_EQ_INT(node(b, "b@127.0.0.1", epmd, SWERL_NODE_START_EPMD), 0);
    CHECK_EQ_INT(names(epmd, text, sizeof text), epmd);
    CHECK(strstr(text, "name a at port ") != NULL);
    CHECK(strstr(text, "name b at port ") != NULL);
    inbox(a, &mb_a, "inbox");
    inbox(b, &mb_b, "inbox");
    CHECK_EQ_INT(swerl_send_remote(a, "inbox", "b@127.0.0.1", "to b", 4), 0);
    CHECK(got_text(&mb_b, "to b"));
    CHECK_EQ_INT(swerl_send_remote(b, "inbox", "a@127.0.0.1", "to a", 4), 0);
    CHECK(got_text(&mb_a, "to a"));

    /* The runtime with the EPMD stops: b loses its registration (its
       connection to EPMD closes) and no EPMD is left on the port. */
    swerl_runtime_free(a);
    CHECK_WAIT(check_loopback_connect(epmd) < 0);
    swerl_runtime_free(b);
    mbox_destroy(&mb_a);
    mbox_destroy(&mb_b);
}

/* A real Erlang node registers with this EPMD, epmd -names lists it, it
   pings the Swerl node and sends to a name there; its registration ends
   with it. */
static void t_erlang(void)
{
    int epmd = free_port();
    check_mailbox mb;
    char cmd[2048], out[8192];
    size_t got = 0;
    FILE *p;
    swerl_runtime *rt;
    if (system("command -v erl >/dev/null 2>&1 && command -v epmd >/dev/null 2>&1") != 0) {
        printf("   (no erl or epmd on PATH: skipped)\n");
        return;
    }
    rt = runtime();
    mbox_init(&mb);
    CHECK_EQ_INT(node(rt, "a@127.0.0.1", epmd, SWERL_NODE_START_EPMD), 0);
    inbox(rt, &mb, "inbox");
    /* -start_epmd false: erl must use this EPMD, never start its own. */
    snprintf(cmd, sizeof cmd,
             "ERL_EPMD_PORT=%d timeout -k 5 60 erl -noshell -start_epmd false -name x@127.0.0.1 "
             "-setcookie " COOKIE " -eval '"
             "A = list_to_atom(\"a@127.0.0.1\"), "
             "io:format(\"NAMES[~s]~n\", [os:cmd(\"epmd -port %d -names\")]), "
             "io:format(\"PING[~p]~n\", [net_adm:ping(A)]), "
             "{inbox, A} ! <<\"from erl\">>, "
             "timer:sleep(300), init:stop()' 2>&1",
             epmd, epmd);
    p = popen(cmd, "r");
    CHECK(p != NULL);
    if (p) {
        size_t r;
        while (got < sizeof out - 1 && (r = fread(out + got, 1, sizeof out - 1 - got, p)) > 0) got += r;
        out[got] = 0;
        CHECK_EQ_INT(pclose(p), 0);
    }
    printf("   erl said: %s", out);
    CHECK(strstr(out, "name x at port ") != NULL);
    CHECK(strstr(out, "name a at port ") != NULL);
    CHECK(strstr(out, "PING[pong]") != NULL);
    CHECK(got_text(&mb, "from erl"));
    CHECK_WAIT(port_please(epmd, "x") == 0);
    swerl_runtime_free(rt);
    mbox_destroy(&mb);
    CHECK(check_loopback_connect(epmd) < 0);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    check_section("the EPMD protocol against raw sockets", t_protocol, 120);
    check_section("bounds: registrations, idle connections", t_bounds, 120);
    check_section("two runtimes as nodes on the first one's EPMD", t_two_runtimes, 120);
    check_section("a real erl registers, epmd -names lists it", t_erlang, 120);
    return check_summary();
}
