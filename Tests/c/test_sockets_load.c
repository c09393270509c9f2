/* Sockets under load (issue 13's list): echo with every framing mode over
 * 1,000 concurrent connections, a slow reader with a fast writer (memory
 * stays bounded while 1 GiB goes through), a writer to a peer that does not
 * read (the send queue is bounded), the owner killed with data in flight,
 * a peer that resets, and stop with 1,000 sockets open. Loopback only,
 * ports the system picks. */
#include "socket_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>

static swerl_runtime *g_rt;
static char g_address[64];
static uint32_t g_packet;
static int g_rounds;
static volatile int g_done, g_bad;
static check_mailbox g_mb;   /* notes from processes: EV_NOTE, u1 = what */

enum { NOTE_LISTENER = 1, NOTE_CLOSED, NOTE_WRITABLE, NOTE_REFUSED, NOTE_SENT };

/* A section starts with no notes left from another (sections share the
   process when they are not forked: SWERL_TEST_NOFORK). */
static swerl_runtime *start_rt(uint32_t schedulers)
{
    check_event e;
    while (mbox_take_m(&g_mb, em(EV_ANY, -1), &e, 0)) {}
    g_done = g_bad = 0;
    return check_start_rt(schedulers, 0);
}

/* A process that runs `handle` (no init, no terminate). */
static swerl_pid spawn_handler(swerl_handle_fn handle)
{
    swerl_behavior b;
    swerl_pid pid = 0;
    memset(&b, 0, sizeof b);
    b.size = sizeof b;
    b.handle = handle;
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, NULL, NULL, &pid), 0);
    return pid;
}

static void note(int what, uint64_t value, int32_t reason)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = EV_NOTE;
    e.op = what;
    e.u1 = value;
    e.reason = reason;
    mbox_post(&g_mb, &e);
}

/* ------------------------------------------------------------------------ */
/* An echo server: one process owns the listener and every connection.      */
/* ------------------------------------------------------------------------ */

static int echo_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    switch (m->kind) {
    case SWERL_SOCKET_ACCEPTED:
        swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
        break;
    case SWERL_SOCKET_DATA:
        if (swerl_socket_send(ctx, m->ref, m->data, m->len) != 0) AT_ADD(&g_bad, 1);
        swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
        break;
    default:
        break;
    }
    return SWERL_CONTINUE;
}

static swerl_pid start_echo(uint32_t packet, swerl_socket *listener)
{
    swerl_socket_opts o;
    swerl_pid pid = 0;
    pid = spawn_handler(echo_handle);
    swerl_socket_opts_init(&o);
    o.packet = packet;
    o.active = 1 << 20;   /* accept as many as come */
    o.backlog = 4096;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, pid, "127.0.0.1:0", &o, listener), 0);
    return pid;
}

/* ------------------------------------------------------------------------ */
/* A client process: connect, then `g_rounds` request/echo rounds.           */
/* ------------------------------------------------------------------------ */

typedef struct client {
    swerl_socket s;
    int id, rounds;
    size_t got;
    char request[64];
    size_t request_len;      /* what goes on the wire's payload */
    char echo[128];
} client;

static void client_send(swerl_ctx *ctx, client *c)
{
    c->got = 0;
    if (swerl_socket_send(ctx, c->s, c->request, c->request_len) != 0) AT_ADD(&g_bad, 1);
}

static int client_init(swerl_ctx *ctx, void *arg, void **state)
{
    client *c = (client *)arg;
    swerl_socket_opts o;
    swerl_socket_opts_init(&o);
    o.packet = g_packet;
    o.active = SWERL_ACTIVE_ONCE;
    c->rounds = g_rounds;
    c->request_len = (size_t)snprintf(c->request, sizeof c->request, "request %d from client %d%s",
                                      c->rounds, c->id, g_packet == SWERL_PACKET_LINE ? "\n" : "");
    *state = c;
    return swerl_socket_connect(ctx, g_address, 10000, &o, &c->s) == 0 ? 0 : -1;
}

static int client_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    client *c = (client *)state;
    switch (m->kind) {
    case SWERL_SOCKET_CONNECTED:
        if (m->reason != 0) {
            AT_ADD(&g_bad, 1);
            return SWERL_STOP;
        }
        client_send(ctx, c);
        return SWERL_CONTINUE;
    case SWERL_SOCKET_DATA:
        /* raw: the echo may come in pieces; frames and lines come whole */
        if (c->got + m->len > sizeof c->echo) {
            AT_ADD(&g_bad, 1);
            return SWERL_STOP;
        }
        memcpy(c->echo + c->got, m->data, m->len);
        c->got += m->len;
        swerl_socket_activate(ctx, c->s, SWERL_ACTIVE_ONCE);
        if (c->got < c->request_len) return SWERL_CONTINUE;
        if (c->got != c->request_len || memcmp(c->echo, c->request, c->request_len) != 0) AT_ADD(&g_bad, 1);
        if (--c->rounds == 0) {
            swerl_socket_close(ctx, c->s);
            AT_ADD(&g_done, 1);
            return SWERL_STOP;
        }
        c->request_len = (size_t)snprintf(c->request, sizeof c->request, "request %d from client %d%s",
                                          c->rounds, c->id, g_packet == SWERL_PACKET_LINE ? "\n" : "");
        client_send(ctx, c);
        return SWERL_CONTINUE;
    case SWERL_SOCKET_CLOSED:
        AT_ADD(&g_bad, 1);
        return SWERL_STOP;
    default:
        return SWERL_CONTINUE;
    }
}

/* How many connections this machine's descriptor limit allows (two
   descriptors each: both ends are in this process). */
static int connections_allowed(int wanted)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 100;
    if (r.rlim_cur < (rlim_t)(2 * wanted + 200)) {
        r.rlim_cur = r.rlim_max < (rlim_t)(2 * wanted + 200) ? r.rlim_max : (rlim_t)(2 * wanted + 200);
        setrlimit(RLIMIT_NOFILE, &r);
        getrlimit(RLIMIT_NOFILE, &r);
    }
    if (r.rlim_cur < (rlim_t)(2 * wanted + 200)) {
        int fit = (int)((r.rlim_cur - 200) / 2);
        printf("   (descriptor limit %lu: %d connections instead of %d)\n", (unsigned long)r.rlim_cur, fit, wanted);
        return fit;
    }
    return wanted;
}

static void run_echo(uint32_t packet)
{
    swerl_socket listener;
    swerl_behavior b;
    client *clients;
    int n = connections_allowed((int)check_scaled(1000, 50)), i;
    double t0;
    g_rt = start_rt(2);
    g_packet = packet;
    g_rounds = 10;
    g_done = g_bad = 0;
    start_echo(packet, &listener);
    snprintf(g_address, sizeof g_address, "127.0.0.1:%d", check_socket_port(g_rt, listener));
    clients = (client *)calloc((size_t)n, sizeof *clients);
    memset(&b, 0, sizeof b);
    b.size = sizeof b;
    b.init = client_init;
    b.handle = client_handle;
    t0 = check_now_ms();
    for (i = 0; i < n; i++) {
        swerl_pid pid;
        clients[i].id = i;
        CHECK_EQ_INT(swerl_spawn(g_rt, &b, &clients[i], NULL, &pid), 0);
    }
    CHECK_WAIT_MS_(AT_LOAD(&g_done) + AT_LOAD(&g_bad) >= n, 60000);
    CHECK_EQ_INT(AT_LOAD(&g_done), n);
    CHECK_EQ_INT(AT_LOAD(&g_bad), 0);
    printf("   %d connections x %d rounds, packet %u: %.0f ms\n", n, g_rounds, packet, check_now_ms() - t0);
    swerl_runtime_free(g_rt);
    free(clients);
}

static void t_echo_raw(void) { run_echo(SWERL_PACKET_RAW); }
static void t_echo_packet4(void) { run_echo(SWERL_PACKET_4); }
static void t_echo_line(void) { run_echo(SWERL_PACKET_LINE); }
static void t_echo_packet1(void) { run_echo(SWERL_PACKET_1); }

/* ------------------------------------------------------------------------ */
/* A fast writer, a slow reader: 1 GiB through an active-once socket.        */
/* ------------------------------------------------------------------------ */

static volatile uint64_t g_read_bytes;

static int reader_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    if (m->kind == SWERL_SOCKET_ACCEPTED) {
        swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
        note(NOTE_LISTENER, m->ref, 0);
    }
    if (m->kind == SWERL_SOCKET_DATA) {
        AT_ADD(&g_read_bytes, m->len);
        swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
    }
    if (m->kind == SWERL_SOCKET_CLOSED) note(NOTE_CLOSED, m->ref, m->reason);
    return SWERL_CONTINUE;
}

typedef struct writer_arg {
    int fd;
    uint64_t total, sent;
    int error;
    long max_rss_kib;
} writer_arg;

static void *fast_writer(void *raw)
{
    writer_arg *w = (writer_arg *)raw;
    static char chunk[1 << 20];
    uint64_t sent = 0;
    memset(chunk, 'w', sizeof chunk);
    while (sent < w->total) {
        size_t want = w->total - sent < sizeof chunk ? (size_t)(w->total - sent) : sizeof chunk;
        ssize_t n = send(w->fd, chunk, want, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            w->error = errno;
            break;
        }
        sent += (uint64_t)n;
        if ((sent & ((64u << 20) - 1)) < (uint64_t)n) {
            long rss = check_rss_kib();
            if (rss > w->max_rss_kib) w->max_rss_kib = rss;
        }
    }
    w->sent = sent;
    shutdown(w->fd, SHUT_WR);
    return NULL;
}

static void t_slow_reader(void)
{
    swerl_socket_opts o;
    swerl_socket listener;
    swerl_pid pid;
    pthread_t th;
    writer_arg w;
    check_event e;
    long before;
    double t0;
    g_rt = start_rt(2);
    g_read_bytes = 0;
    pid = spawn_handler(reader_handle);
    swerl_socket_opts_init(&o);
    o.active = SWERL_ACTIVE_ONCE;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, pid, "127.0.0.1:0", &o, &listener), 0);
    before = check_rss_kib();
    memset(&w, 0, sizeof w);
    w.total = check_scaled(1ull << 30, 64ull << 20);
    w.fd = check_loopback_connect(check_socket_port(g_rt, listener));
    CHECK(w.fd >= 0);
    t0 = check_now_ms();
    pthread_create(&th, NULL, fast_writer, &w);
    CHECK(mbox_take_m(&g_mb, em(EV_NOTE, NOTE_CLOSED), &e, 120000));
    pthread_join(th, NULL);
    CHECK_MSG(w.sent == w.total, "the writer sent %llu bytes of %llu: %s", (unsigned long long)w.sent,
              (unsigned long long)w.total, strerror(w.error));
    CHECK_EQ_U64(AT_LOAD(&g_read_bytes), w.total);
    CHECK_EQ_INT(e.reason, 0);
    printf("   %llu MiB read in %.0f ms; RSS %ld -> at most %ld KiB while writing\n",
           (unsigned long long)(w.total >> 20), check_now_ms() - t0, before, w.max_rss_kib);
    CHECK_MSG(w.max_rss_kib - before < 128 * 1024, "RSS grew by %ld KiB while 1 GiB went through",
              w.max_rss_kib - before);
    close(w.fd);
    swerl_runtime_free(g_rt);
}

/* ------------------------------------------------------------------------ */
/* A writer to a peer that does not read: the queue stops at send_queue_max; */
/* WRITABLE when the peer drains it.                                         */
/* ------------------------------------------------------------------------ */

typedef struct pusher {
    swerl_socket s;
    uint64_t sent;
    uint64_t goal;
} pusher;

static char g_block[65536];

static void push_until_refused(swerl_ctx *ctx, pusher *p)
{
    while (p->sent < p->goal) {
        int rc = swerl_socket_send(ctx, p->s, g_block, sizeof g_block);
        if (rc == SWERL_EAGAIN) {
            note(NOTE_REFUSED, p->sent, 0);
            return;
        }
        if (rc != 0) {
            AT_ADD(&g_bad, 1);
            return;
        }
        p->sent += sizeof g_block;
    }
    note(NOTE_SENT, p->sent, 0);
}

static int pusher_init(swerl_ctx *ctx, void *arg, void **state)
{
    pusher *p = (pusher *)arg;
    swerl_socket_opts o;
    swerl_socket_opts_init(&o);
    o.send_queue_max = 1 << 20;
    *state = p;
    return swerl_socket_connect(ctx, g_address, 10000, &o, &p->s) == 0 ? 0 : -1;
}

static int pusher_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    pusher *p = (pusher *)state;
    if (m->kind == SWERL_SOCKET_CONNECTED || m->kind == SWERL_SOCKET_WRITABLE) {
        if (m->kind == SWERL_SOCKET_WRITABLE) note(NOTE_WRITABLE, p->sent, 0);
        push_until_refused(ctx, p);
    }
    return SWERL_CONTINUE;
}

static void t_peer_not_reading(void)
{
    int lfd, fd, one = 1;
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    swerl_behavior b;
    swerl_pid pid;
    pusher p;
    check_event e;
    uint64_t got = 0;
    static char sink[1 << 16];
    g_rt = start_rt(2);
    memset(g_block, 'p', sizeof g_block);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ_INT(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ_INT(listen(lfd, 8), 0);
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    snprintf(g_address, sizeof g_address, "127.0.0.1:%d", ntohs(a.sin_port));
    memset(&p, 0, sizeof p);
    p.goal = check_scaled(256ull << 20, 16ull << 20);
    memset(&b, 0, sizeof b);
    b.size = sizeof b;
    b.init = pusher_init;
    b.handle = pusher_handle;
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, &p, NULL, &pid), 0);
    fd = accept(lfd, NULL, NULL);
    CHECK(fd >= 0);
    /* Nobody reads: the pusher is refused once the kernel's buffers and a
       queue of at most send_queue_max are full. */
    CHECK(mbox_take_m(&g_mb, em(EV_NOTE, NOTE_REFUSED), &e, CHECK_WAIT_MS));
    {
        swerl_socket_info in;
        memset(&in, 0, sizeof in);
        in.size = sizeof in;
        CHECK_EQ_INT(swerl_socket_info_get(g_rt, p.s, &in), 0);
        CHECK_MSG(in.send_queued <= (1u << 20) + sizeof g_block, "%llu bytes queued, limit 1 MiB",
                  (unsigned long long)in.send_queued);
    }
    /* Now read everything: WRITABLE comes, the rest goes through. */
    while (got < p.goal) {
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n <= 0) break;
        got += (uint64_t)n;
    }
    CHECK_EQ_U64(got, p.goal);
    CHECK(mbox_count(&g_mb, EV_NOTE, NOTE_WRITABLE) > 0);
    CHECK_EQ_INT(AT_LOAD(&g_bad), 0);
    close(fd);
    close(lfd);
    swerl_runtime_free(g_rt);
}

/* ------------------------------------------------------------------------ */
/* The owner killed with data in flight; a peer that resets.                 */
/* ------------------------------------------------------------------------ */

static void t_kill_in_flight(void)
{
    swerl_socket listener;
    swerl_pid server;
    int fds[20], i;
    char chunk[4096];
    g_rt = start_rt(2);
    server = start_echo(SWERL_PACKET_RAW, &listener);
    memset(chunk, 'k', sizeof chunk);
    for (i = 0; i < 20; i++) {
        fds[i] = check_loopback_connect(check_socket_port(g_rt, listener));
        CHECK(fds[i] >= 0);
        CHECK(send(fds[i], chunk, sizeof chunk, MSG_NOSIGNAL) > 0);
    }
    CHECK_EQ_INT(swerl_exit(g_rt, server, SWERL_REASON_KILL, NULL, 0), 0);
    for (i = 0; i < 20; i++) {
        /* whatever was echoed, then the end */
        char sink[8192];
        ssize_t n;
        while ((n = recv(fds[i], sink, sizeof sink, 0)) > 0) {}
        CHECK_MSG(n == 0 || errno == ECONNRESET, "connection %d: recv %zd (%s)", i, n, strerror(errno));
        close(fds[i]);
    }
    CHECK_EQ_INT(AT_LOAD(&g_bad), 0);
    swerl_runtime_free(g_rt);
}

static void t_peer_reset(void)
{
    swerl_socket_opts o;
    swerl_socket listener;
    swerl_pid pid;
    check_event e;
    struct linger lg = {1, 0};
    int fd;
    g_rt = start_rt(1);
    pid = spawn_handler(reader_handle);
    swerl_socket_opts_init(&o);
    o.active = SWERL_ACTIVE_ONCE;
    o.packet = SWERL_PACKET_4;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, pid, "127.0.0.1:0", &o, &listener), 0);
    fd = check_loopback_connect(check_socket_port(g_rt, listener));
    CHECK(mbox_take_m(&g_mb, em(EV_NOTE, NOTE_LISTENER), &e, CHECK_WAIT_MS));
    CHECK(send(fd, "\0\0\0\x10half", 8, MSG_NOSIGNAL) == 8);   /* half a frame */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);                                                   /* RST */
    CHECK(mbox_take_m(&g_mb, em(EV_NOTE, NOTE_CLOSED), &e, CHECK_WAIT_MS));
    CHECK_MSG(e.reason == SWERL_ECONNRESET || e.reason == 0, "reason %d", e.reason);
    CHECK(check_alive(g_rt, pid));
    swerl_runtime_free(g_rt);
}

/* Stop with 1,000 sockets open: every peer sees the end. */
static void t_stop_many(void)
{
    swerl_socket listener;
    int n = connections_allowed((int)check_scaled(1000, 50)), i, ended = 0;
    int *fds = (int *)calloc((size_t)n, sizeof *fds);
    g_rt = start_rt(2);
    start_echo(SWERL_PACKET_RAW, &listener);
    for (i = 0; i < n; i++) {
        fds[i] = check_loopback_connect(check_socket_port(g_rt, listener));
    }
    {
        swerl_socket_info in;
        memset(&in, 0, sizeof in);
        in.size = sizeof in;
        CHECK_WAIT((swerl_socket_info_get(g_rt, listener, &in), in.connections == (uint32_t)n));
    }
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    for (i = 0; i < n; i++) {
        char c;
        if (fds[i] >= 0 && recv(fds[i], &c, 1, 0) == 0) ended++;
        if (fds[i] >= 0) close(fds[i]);
    }
    CHECK_EQ_INT(ended, n);
    swerl_runtime_free(g_rt);
    free(fds);
}

/* ------------------------------------------------------------------------ */
/* Accept floods: max_connections sheds, EMFILE is counted and survived.     */
/* ------------------------------------------------------------------------ */

static void t_max_connections(void)
{
    swerl_socket_opts o;
    swerl_socket listener;
    swerl_pid pid;
    int fds[10], i, port, open_now = 0, shed = 0;
    g_rt = start_rt(1);
    pid = spawn_handler(echo_handle);
    swerl_socket_opts_init(&o);
    o.active = 1000;
    o.max_connections = 5;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, pid, "127.0.0.1:0", &o, &listener), 0);
    port = check_socket_port(g_rt, listener);
    for (i = 0; i < 10; i++) {
        fds[i] = check_loopback_connect(port);
        CHECK(fds[i] >= 0);
        CHECK(send(fds[i], "x", 1, MSG_NOSIGNAL) == 1);
    }
    /* Five are served (their byte comes back); five are closed at once. */
    for (i = 0; i < 10; i++) {
        char c;
        ssize_t n = recv(fds[i], &c, 1, 0);
        if (n == 1) open_now++;
        else shed++;
    }
    CHECK_EQ_INT(open_now, 5);
    CHECK_EQ_INT(shed, 5);
    CHECK_EQ_U64(check_socket_info(g_rt, listener).connections, 5);
    CHECK_EQ_U64(check_socket_info(g_rt, listener).connections_shed, 5);
    /* Room again after two leave: a new one is served. */
    for (i = 0; i < 10; i++) close(fds[i]);
    CHECK_WAIT(check_socket_info(g_rt, listener).connections == 0);
    {
        char c;
        int fd = check_loopback_connect(port);
        CHECK(send(fd, "y", 1, MSG_NOSIGNAL) == 1);
        CHECK(recv(fd, &c, 1, 0) == 1 && c == 'y');
        close(fd);
    }
    swerl_runtime_free(g_rt);
}

static volatile int g_accept_warnings;

static void count_accept_warnings(void *user, int level, const char *message, size_t len)
{
    (void)user;
    if (level == SWERL_LOG_WARNING && len > 0 && strstr(message, "could not accept")) AT_ADD(&g_accept_warnings, 1);
}

static int open_descriptors(void)
{
    int n = 0, fd;
    for (fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) != -1) n++;
    return n;
}

/* Out of descriptors: the accepts fail, are counted and said once a second;
   the listener goes on, and serves again when descriptors are back. */
static void t_emfile(void)
{
    swerl_config cfg;
    swerl_socket_opts o;
    swerl_socket listener;
    swerl_pid pid, client;
    struct rlimit before, low;
    int port, go[2];
    swerl_config_init(&cfg);
    cfg.schedulers = 1;
    cfg.on_log = count_accept_warnings;
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &g_rt), 0);
    pid = spawn_handler(echo_handle);
    swerl_socket_opts_init(&o);
    o.active = 1000;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, pid, "127.0.0.1:0", &o, &listener), 0);
    port = check_socket_port(g_rt, listener);
    CHECK_EQ_INT(pipe(go), 0);
    /* Three descriptors to spare, before any client comes. */
    getrlimit(RLIMIT_NOFILE, &before);
    low = before;
    low.rlim_cur = (rlim_t)open_descriptors() + 3;
    CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
    /* The clients live in a process of their own (with the limit back):
       this one runs out. */
    client = (swerl_pid)fork();
    if (client == 0) {
        int fds[20], i;
        char c;
        setrlimit(RLIMIT_NOFILE, &before);
        for (i = 0; i < 20; i++) fds[i] = check_loopback_connect(port);
        if (read(go[0], &c, 1) < 0) _exit(1);
        for (i = 0; i < 20; i++) close(fds[i]);
        _exit(0);
    }
    CHECK_WAIT(check_socket_info(g_rt, listener).accept_errors > 0);
    CHECK_WAIT(AT_LOAD(&g_accept_warnings) > 0);
    CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &before), 0);
    CHECK(write(go[1], "x", 1) == 1);
    waitpid((pid_t)client, NULL, 0);
    close(go[0]);
    close(go[1]);
    /* The listener still serves. */
    {
        char c = 0;
        int fd = check_loopback_connect(port);
        CHECK(fd >= 0);
        CHECK(send(fd, "z", 1, MSG_NOSIGNAL) == 1);
        CHECK(recv(fd, &c, 1, 0) == 1 && c == 'z');
        close(fd);
    }
    CHECK(check_alive(g_rt, pid));
    swerl_runtime_free(g_rt);
}

/* ------------------------------------------------------------------------ */
/* Accept under a supervisor: every connection a temporary child of a        */
/* simple_one_for_one supervisor (ranch's shape); handlers that crash take   */
/* only their own connection.                                                */
/* ------------------------------------------------------------------------ */

static swerl_pid g_handlers;   /* the simple_one_for_one supervisor */

typedef struct handover {
    char tag[8];
    swerl_socket socket;
} handover;

static int handler_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    if (m->kind == SWERL_MESSAGE && m->len == sizeof(handover)) {
        handover h;
        memcpy(&h, m->data, sizeof h);
        swerl_socket_activate(ctx, h.socket, SWERL_ACTIVE_ONCE);
    } else if (m->kind == SWERL_SOCKET_DATA) {
        if (m->len >= 5 && memcmp(m->data, "crash", 5) == 0) return -1;
        swerl_socket_send(ctx, m->ref, m->data, m->len);
        swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
    } else if (m->kind == SWERL_SOCKET_CLOSED) {
        return SWERL_STOP;
    }
    return SWERL_CONTINUE;
}

static int acceptor_init(swerl_ctx *ctx, void *arg, void **state)
{
    (void)arg;
    (void)state;
    swerl_set_blocking(ctx, 1);   /* supervisor calls allowed here */
    return 0;
}

static int acceptor_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    handover h;
    swerl_pid child = 0;
    (void)state;
    if (m->kind != SWERL_SOCKET_ACCEPTED) return SWERL_CONTINUE;
    if (swerl_supervisor_spawn_child(swerl_ctx_runtime(ctx), g_handlers, NULL, &child) != 0) {
        AT_ADD(&g_bad, 1);
        swerl_socket_close(ctx, m->ref);
        return SWERL_CONTINUE;
    }
    if (swerl_socket_set_owner(ctx, m->ref, child) != 0) AT_ADD(&g_bad, 1);
    memset(&h, 0, sizeof h);
    h.socket = m->ref;
    swerl_send(swerl_ctx_runtime(ctx), child, &h, sizeof h);
    return SWERL_CONTINUE;
}

static void t_supervised_handlers(void)
{
    enum { N = 60 };
    swerl_behavior handler = {sizeof(swerl_behavior), NULL, handler_handle, NULL};
    swerl_behavior acceptor = {sizeof(swerl_behavior), acceptor_init, acceptor_handle, NULL};
    swerl_child_spec child;
    swerl_supervisor_spec spec;
    swerl_spawn_opts opts;
    swerl_socket_opts o;
    swerl_socket listener;
    swerl_pid acceptor_pid;
    swerl_child_counts counts;
    int fds[N], i, port, echoed = 0, ended = 0;
    g_rt = start_rt(2);
    swerl_child_spec_init(&child);
    child.id = "handler";
    child.behavior = &handler;
    child.restart = SWERL_TEMPORARY;
    spec = check_sup_spec(SWERL_SIMPLE_ONE_FOR_ONE, 1000, 5000, &child, 1);
    CHECK_EQ_INT(swerl_supervisor_start(g_rt, &spec, NULL, &g_handlers), 0);
    swerl_spawn_opts_init(&opts);
    CHECK_EQ_INT(swerl_spawn(g_rt, &acceptor, NULL, &opts, &acceptor_pid), 0);
    swerl_socket_opts_init(&o);
    o.active = 1 << 20;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, acceptor_pid, "127.0.0.1:0", &o, &listener), 0);
    port = check_socket_port(g_rt, listener);
    for (i = 0; i < N; i++) {
        fds[i] = check_loopback_connect(port);
        CHECK(fds[i] >= 0);
    }
    CHECK_WAIT((counts.size = sizeof counts, swerl_supervisor_count_children(g_rt, g_handlers, &counts) == 0
                && counts.active == N));
    /* Every other handler is told to crash; the rest echo. */
    for (i = 0; i < N; i++) {
        const char *say = i % 2 ? "crash" : "hello";
        CHECK(send(fds[i], say, 5, MSG_NOSIGNAL) == 5);
    }
    for (i = 0; i < N; i++) {
        char back[5];
        ssize_t n = recv(fds[i], back, 5, MSG_WAITALL);
        if (i % 2 == 0 && n == 5 && memcmp(back, "hello", 5) == 0) echoed++;
        if (i % 2 == 1 && n <= 0) ended++;
    }
    CHECK_EQ_INT(echoed, N / 2);
    CHECK_EQ_INT(ended, N / 2);
    CHECK_WAIT((counts.size = sizeof counts, swerl_supervisor_count_children(g_rt, g_handlers, &counts) == 0
                && counts.active == N / 2));
    CHECK(check_alive(g_rt, g_handlers));
    CHECK(check_alive(g_rt, acceptor_pid));
    /* The survivors still echo. */
    for (i = 0; i < N; i += 2) {
        char back[3];
        CHECK(send(fds[i], "bye", 3, MSG_NOSIGNAL) == 3);
        CHECK(recv(fds[i], back, 3, MSG_WAITALL) == 3 && memcmp(back, "bye", 3) == 0);
    }
    for (i = 0; i < N; i++) close(fds[i]);
    CHECK_EQ_INT(AT_LOAD(&g_bad), 0);
    swerl_runtime_free(g_rt);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    mbox_init(&g_mb);
    check_section("echo, raw, 1,000 connections", t_echo_raw, 120);
    check_section("echo, packet 4, 1,000 connections", t_echo_packet4, 120);
    check_section("echo, line, 1,000 connections", t_echo_line, 120);
    check_section("echo, packet 1, 1,000 connections", t_echo_packet1, 120);
    check_section("a slow reader and a fast writer: 1 GiB, memory bounded", t_slow_reader, 180);
    check_section("a peer that does not read: the send queue is bounded", t_peer_not_reading, 120);
    check_section("the owner killed with data in flight", t_kill_in_flight, 60);
    check_section("a peer that resets mid-frame", t_peer_reset, 60);
    check_section("stop with 1,000 sockets open", t_stop_many, 120);
    check_section("max_connections sheds the rest, and serves again", t_max_connections, 60);
    check_section("out of descriptors: accepts counted and logged, the listener goes on", t_emfile, 60);
    check_section("accept under a supervisor: handlers that crash take only their connection", t_supervised_handlers, 60);
    mbox_destroy(&g_mb);
    return check_summary();
}
