/* Sockets owned by processes (swerl.h "Sockets"): listen, accept, connect,
 * data as messages with active-once / active-N flow control, framing, owner
 * rules, the end of a connection, and bad input. Every peer is real: plain
 * blocking sockets on loopback driven by this thread, or Swerl processes.
 * Loopback addresses and ports the system picks (port 0) only. */
#include "socket_check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

/* ------------------------------------------------------------------------ */
/* A socket process: reports every message to main, and does what main's    */
/* commands say (as test agents do).                                         */
/* ------------------------------------------------------------------------ */

enum {
    SP_ECHO = 1u << 0,          /* send DATA back, then activate once more */
    SP_ACCEPT_ONCE = 1u << 1,   /* on ACCEPTED: activate the new socket once, the listener once more */
    SP_REACTIVATE = 1u << 2     /* on DATA: activate once more (no echo) */
};

enum { OP_CONNECT = 1, OP_SEND, OP_ACTIVATE, OP_CLOSE, OP_SHUTDOWN, OP_SET_OWNER, OP_SETOPT, OP_CRASH, OP_SEND_MANY };

typedef struct sp_cmd {
    char magic[8];
    int op;
    uint64_t socket;
    int64_t value;
    int32_t option;
    uint32_t len;
    char data[256];
} sp_cmd;

typedef struct sp {
    check_mailbox mb;
    unsigned mode;
    swerl_socket listener;
    swerl_pid pid;
} sp;

static swerl_runtime *g_rt;

static void sp_post(sp *p, const swerl_message *m)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = EV_MSG;
    e.kind = m->kind;
    e.reason = m->reason;
    e.ref = m->ref;
    e.from = m->from;
    check_event_set_data(&e, m->data, m->len);
    mbox_post(&p->mb, &e);
}

static void sp_result(sp *p, int op, int rc, uint64_t u1)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.type = EV_RESULT;
    e.op = op;
    e.rc = rc;
    e.u1 = u1;
    mbox_post(&p->mb, &e);
}

static int sp_command(swerl_ctx *ctx, sp *p, const sp_cmd *c)
{
    swerl_socket s = 0;
    int rc = 0;
    uint32_t i;
    switch (c->op) {
    case OP_CONNECT: {
        swerl_socket_opts o;
        char address[256];
        swerl_socket_opts_init(&o);
        o.packet = (uint32_t)c->option;
        o.active = (int32_t)c->value;
        memcpy(address, c->data, c->len);
        address[c->len] = 0;
        rc = swerl_socket_connect(ctx, address, 5000, &o, &s);
        sp_result(p, c->op, rc, s);
        return SWERL_CONTINUE;
    }
    case OP_SEND: rc = swerl_socket_send(ctx, c->socket, c->data, c->len); break;
    case OP_SEND_MANY:
        for (i = 0; i < (uint32_t)c->value && rc == 0; i++) rc = swerl_socket_send(ctx, c->socket, c->data, c->len);
        sp_result(p, c->op, rc, i);
        return SWERL_CONTINUE;
    case OP_ACTIVATE: rc = swerl_socket_activate(ctx, c->socket, (int32_t)c->value); break;
    case OP_CLOSE: rc = swerl_socket_close(ctx, c->socket); break;
    case OP_SHUTDOWN: rc = swerl_socket_shutdown(ctx, c->socket); break;
    case OP_SET_OWNER: rc = swerl_socket_set_owner(ctx, c->socket, (swerl_pid)c->value); break;
    case OP_SETOPT: rc = swerl_socket_setopt(ctx, c->socket, c->option, c->value); break;
    case OP_CRASH: return -1;
    default: rc = -999;
    }
    sp_result(p, c->op, rc, 0);
    return SWERL_CONTINUE;
}

static int sp_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    sp *p = (sp *)state;
    if (m->kind == SWERL_MESSAGE && m->len == sizeof(sp_cmd) && memcmp(m->data, "spcmd\0\0", 8) == 0)
        return sp_command(ctx, p, (const sp_cmd *)m->data);
    sp_post(p, m);
    if (m->kind == SWERL_SOCKET_ACCEPTED && (p->mode & SP_ACCEPT_ONCE)) {
        swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
        if (p->listener) swerl_socket_activate(ctx, p->listener, SWERL_ACTIVE_ONCE);
    }
    if (m->kind == SWERL_SOCKET_DATA && (p->mode & SP_ECHO)) {
        int rc = swerl_socket_send(ctx, m->ref, m->data, m->len);
        if (rc != 0) sp_result(p, OP_SEND, rc, m->ref);
        swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
    } else if (m->kind == SWERL_SOCKET_DATA && (p->mode & SP_REACTIVATE)) {
        swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
    }
    return SWERL_CONTINUE;
}

#define SP_MAX 64
static sp g_sps[SP_MAX];
static int g_sp_count;

static sp *sp_spawn(unsigned mode)
{
    swerl_behavior b;
    sp *p = &g_sps[g_sp_count++];
    memset(p, 0, sizeof *p);
    mbox_init(&p->mb);
    p->mode = mode;
    memset(&b, 0, sizeof b);
    b.size = sizeof b;
    b.handle = sp_handle;
    CHECK_EQ_INT(swerl_spawn(g_rt, &b, p, NULL, &p->pid), 0);
    return p;
}

static sp_cmd cmd(int op, swerl_socket s)
{
    sp_cmd c;
    memset(&c, 0, sizeof c);
    memcpy(c.magic, "spcmd\0\0", 8);
    c.op = op;
    c.socket = s;
    return c;
}

static check_event sp_do(sp *p, sp_cmd c)
{
    check_event e;
    memset(&e, 0, sizeof e);
    e.rc = -999;
    if (!CHECK_EQ_INT(swerl_send(g_rt, p->pid, &c, sizeof c), 0)) return e;
    if (!mbox_take_m(&p->mb, em(EV_RESULT, c.op), &e, CHECK_WAIT_MS)) {
        CHECK_MSG(0, "no result for command %d", c.op);
        e.rc = -999;
    }
    return e;
}

static int sp_send(sp *p, swerl_socket s, const void *data, size_t len)
{
    sp_cmd c = cmd(OP_SEND, s);
    memcpy(c.data, data, len);
    c.len = (uint32_t)len;
    return sp_do(p, c).rc;
}

static int sp_op(sp *p, int op, swerl_socket s, int64_t value)
{
    sp_cmd c = cmd(op, s);
    c.value = value;
    return sp_do(p, c).rc;
}

/* The next socket message of `kind` (any socket when s is 0). */
static int sp_take(sp *p, uint32_t kind, swerl_socket s, check_event *e)
{
    ev_match m = s ? em_ref(EV_MSG, (int)kind, s) : em(EV_MSG, (int)kind);
    if (mbox_take_m(&p->mb, m, e, CHECK_WAIT_MS)) { check_pass_(); return 1; }
    check_fail_(__FILE__, __LINE__, "no socket message of kind %u within %u ms", kind, CHECK_WAIT_MS);
    memset(e, 0, sizeof *e);
    return 0;
}

static void rt_begin(uint32_t schedulers)
{
    g_sp_count = 0;
    g_rt = check_start_rt(schedulers, 0);
}

static void rt_end(void)
{
    int i;
    if (g_rt) swerl_runtime_free(g_rt);
    g_rt = NULL;
    for (i = 0; i < g_sp_count; i++) mbox_destroy(&g_sps[i].mb);
    g_sp_count = 0;
}

static swerl_socket listen_on(sp *owner, const char *address, uint32_t packet, int32_t active)
{
    swerl_socket_opts o;
    swerl_socket s = 0;
    swerl_socket_opts_init(&o);
    o.packet = packet;
    o.active = active;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, owner->pid, address, &o, &s), 0);
    owner->listener = s;
    return s;
}

static swerl_socket_info info_of(swerl_socket s) { return check_socket_info(g_rt, s); }

static int port_of(swerl_socket listener) { return check_socket_port(g_rt, listener); }

/* ------------------------------------------------------------------------ */
/* The other end: plain blocking sockets on this thread                      */
/* ------------------------------------------------------------------------ */

static int peer_connect(int port)
{
    struct timeval tv = {10, 0};
    int fd = check_loopback_connect(port), one = 1;
    if (!CHECK(fd >= 0)) return -1;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int peer_write(int fd, const void *data, size_t len)
{
    const char *p = (const char *)data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads exactly len bytes (10 s receive timeout): 0, or -1. */
static int peer_read(int fd, void *data, size_t len)
{
    char *p = (char *)data;
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Whether the peer sees the end of the stream within 10 s (0 from recv, or a reset). */
static int peer_sees_end(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */
/* ------------------------------------------------------------------------ */

static void t_echo_raw(void)
{
    sp *server;
    swerl_socket listener;
    check_event e;
    swerl_socket_info in;
    int fd, port;
    char buf[64];
    rt_begin(2);
    server = sp_spawn(SP_ECHO | SP_ACCEPT_ONCE);
    listener = listen_on(server, "127.0.0.1:0", SWERL_PACKET_RAW, SWERL_ACTIVE_ONCE);
    in = info_of(listener);
    CHECK_EQ_INT(in.type, SWERL_SOCKET_LISTENER);
    CHECK_EQ_U64(in.owner, server->pid);
    CHECK(strncmp(in.local, "127.0.0.1:", 10) == 0);
    port = port_of(listener);
    CHECK(port > 0);
    fd = peer_connect(port);
    CHECK(sp_take(server, SWERL_SOCKET_ACCEPTED, 0, &e));
    in = info_of(e.ref);
    CHECK_EQ_INT(in.type, SWERL_SOCKET_CONNECTION);
    CHECK_EQ_U64(in.owner, server->pid);
    CHECK_EQ_U64(in.listener, listener);
    CHECK(strncmp(in.peer, "127.0.0.1:", 10) == 0);
    CHECK_EQ_INT(port_of(listener), port);
    CHECK_EQ_INT(peer_write(fd, "hello", 5), 0);
    CHECK_EQ_INT(peer_read(fd, buf, 5), 0);
    CHECK_MEM(buf, 5, "hello", 5);
    CHECK(sp_take(server, SWERL_SOCKET_DATA, e.ref, &e));
    CHECK_MEM(e.data, e.len, "hello", 5);
    CHECK_EQ_U64(info_of(listener).connections, 1);
    /* The peer closes: CLOSED with reason 0, and the socket is gone. */
    close(fd);
    CHECK(sp_take(server, SWERL_SOCKET_CLOSED, e.ref, &e));
    CHECK_EQ_INT(e.reason, 0);
    CHECK_WAIT(info_of(listener).connections == 0);
    {
        swerl_socket_info gone;
        memset(&gone, 0, sizeof gone);
        gone.size = sizeof gone;
        CHECK_EQ_INT(swerl_socket_info_get(g_rt, e.ref, &gone), SWERL_ENOSOCKET);
    }
    rt_end();
}

/* This process's descriptor for the TCP connection from local port `local`
   to `peer` on 127.0.0.1 (the runtime's side of an accepted connection), or -1. */
static int descriptor_of(int local, int peer)
{
    int fd;
    for (fd = 3; fd < 4096; fd++) {
        struct sockaddr_in a, b;
        socklen_t la = sizeof a, lb = sizeof b;
        if (getsockname(fd, (struct sockaddr *)&a, &la) != 0 || getpeername(fd, (struct sockaddr *)&b, &lb) != 0)
            continue;
        if (a.sin_family == AF_INET && ntohs(a.sin_port) == local && ntohs(b.sin_port) == peer) return fd;
    }
    return -1;
}

/* An accepted connection takes its listener's options for its descriptor
   too: TCP_NODELAY is on by default (it was off: Nagle delayed small
   writes on every accepted connection). */
static void t_accepted_options(void)
{
    sp *server;
    swerl_socket listener;
    check_event e;
    struct sockaddr_in mine;
    socklen_t len = sizeof mine;
    int fd, port, theirs, nodelay = 0;
    socklen_t size = sizeof nodelay;
    rt_begin(1);
    server = sp_spawn(SP_ECHO | SP_ACCEPT_ONCE);
    listener = listen_on(server, "127.0.0.1:0", SWERL_PACKET_RAW, SWERL_ACTIVE_ONCE);
    port = port_of(listener);
    fd = peer_connect(port);
    CHECK(sp_take(server, SWERL_SOCKET_ACCEPTED, 0, &e));
    CHECK_EQ_INT(getsockname(fd, (struct sockaddr *)&mine, &len), 0);
    theirs = descriptor_of(port, ntohs(mine.sin_port));
    if (CHECK(theirs >= 0)) {
        CHECK_EQ_INT(getsockopt(theirs, IPPROTO_TCP, TCP_NODELAY, &nodelay, &size), 0);
        CHECK(nodelay != 0);
    }
    close(fd);
    rt_end();
}

/* A Swerl client process against a Swerl server: connect, CONNECTED, data
   both ways, sends queued before the connection is made. */
static void t_connect(void)
{
    sp *server, *client;
    swerl_socket listener, s;
    check_event e;
    char address[64];
    sp_cmd c;
    rt_begin(2);
    server = sp_spawn(SP_ECHO | SP_ACCEPT_ONCE);
    client = sp_spawn(SP_REACTIVATE);
    listener = listen_on(server, "127.0.0.1:0", SWERL_PACKET_RAW, SWERL_ACTIVE_ONCE);
    snprintf(address, sizeof address, "127.0.0.1:%d", port_of(listener));
    c = cmd(OP_CONNECT, 0);
    c.len = (uint32_t)strlen(address);
    memcpy(c.data, address, c.len);
    c.value = SWERL_ACTIVE_ONCE;
    e = sp_do(client, c);
    CHECK_EQ_INT(e.rc, 0);
    s = e.u1;
    CHECK(s != 0);
    CHECK_EQ_INT(sp_send(client, s, "early", 5), 0);   /* queued until connected */
    CHECK(sp_take(client, SWERL_SOCKET_CONNECTED, s, &e));
    CHECK_EQ_INT(e.reason, 0);
    CHECK(sp_take(client, SWERL_SOCKET_DATA, s, &e));
    CHECK_MEM(e.data, e.len, "early", 5);
    CHECK_EQ_INT(sp_send(client, s, "late", 4), 0);
    CHECK(sp_take(client, SWERL_SOCKET_DATA, s, &e));
    CHECK_MEM(e.data, e.len, "late", 4);
    CHECK_EQ_U64(info_of(s).bytes_sent, 9);
    CHECK_EQ_U64(info_of(s).bytes_received, 9);
    /* The client closes: the server hears CLOSED, the client nothing more. */
    CHECK_EQ_INT(sp_op(client, OP_CLOSE, s, 0), 0);
    CHECK(sp_take(server, SWERL_SOCKET_CLOSED, 0, &e));
    CHECK_EQ_INT(e.reason, 0);
    CHECK_EQ_INT(sp_op(client, OP_SEND, s, 0), SWERL_ENOSOCKET);
    CHECK_EQ_INT((int)mbox_count(&client->mb, EV_MSG, SWERL_SOCKET_CLOSED), 0);
    rt_end();
}

/* Frames split across writes arrive whole; sends get the prefix. */
static void t_packet(void)
{
    static const uint32_t packets[] = {SWERL_PACKET_1, SWERL_PACKET_2, SWERL_PACKET_4};
    size_t k;
    for (k = 0; k < 3; k++) {
        sp *server;
        swerl_socket listener;
        check_event e;
        int fd, i;
        uint32_t n = packets[k];
        unsigned char frame[8 + 200], back[8 + 200];
        rt_begin(1);
        server = sp_spawn(SP_ECHO | SP_ACCEPT_ONCE);
        listener = listen_on(server, "127.0.0.1:0", n, SWERL_ACTIVE_ONCE);
        fd = peer_connect(port_of(listener));
        for (i = 0; i < 200; i++) frame[n + (uint32_t)i] = (unsigned char)i;
        memset(frame, 0, n);
        frame[n - 1] = 200;
        /* one byte at a time: the runtime waits for the whole frame */
        for (i = 0; i < (int)n + 200; i++) CHECK_EQ_INT(peer_write(fd, frame + i, 1), 0);
        CHECK_EQ_INT(peer_read(fd, back, n + 200), 0);
        CHECK_MEM(back, n + 200, frame, n + 200);
        CHECK(sp_take(server, SWERL_SOCKET_DATA, 0, &e));
        CHECK_EQ_INT((int)e.len, 200);
        /* two frames in one write: two messages */
        {
            unsigned char two[2 * (4 + 3)];
            size_t at = 0;
            int j;
            for (j = 0; j < 2; j++) {
                memset(two + at, 0, n);
                two[at + n - 1] = 3;
                memcpy(two + at + n, j ? "def" : "abc", 3);
                at += n + 3;
            }
            CHECK_EQ_INT(peer_write(fd, two, at), 0);
            CHECK_EQ_INT(peer_read(fd, back, at), 0);
            CHECK_MEM(back, at, two, at);
            CHECK(sp_take(server, SWERL_SOCKET_DATA, 0, &e));
            CHECK_MEM(e.data, e.len, "abc", 3);
            CHECK(sp_take(server, SWERL_SOCKET_DATA, 0, &e));
            CHECK_MEM(e.data, e.len, "def", 3);
        }
        close(fd);
        rt_end();
    }
}

static void t_line(void)
{
    sp *server;
    swerl_socket listener;
    check_event e;
    int fd;
    char back[32];
    rt_begin(1);
    server = sp_spawn(SP_ECHO | SP_ACCEPT_ONCE);
    listener = listen_on(server, "127.0.0.1:0", SWERL_PACKET_LINE, SWERL_ACTIVE_ONCE);
    fd = peer_connect(port_of(listener));
    CHECK_EQ_INT(peer_write(fd, "one\ntw", 6), 0);
    CHECK_EQ_INT(peer_write(fd, "o\nthree", 7), 0);
    CHECK_EQ_INT(peer_read(fd, back, 8), 0);
    CHECK_MEM(back, 8, "one\ntwo\n", 8);
    CHECK(sp_take(server, SWERL_SOCKET_DATA, 0, &e));
    CHECK_MEM(e.data, e.len, "one\n", 4);
    CHECK(sp_take(server, SWERL_SOCKET_DATA, 0, &e));
    CHECK_MEM(e.data, e.len, "two\n", 4);
    /* "three" has no newline yet: nothing more came */
    CHECK_EQ_INT((int)mbox_count(&server->mb, EV_MSG, SWERL_SOCKET_DATA), 0);
    close(fd);
    rt_end();
}

/* A frame longer than max_frame closes the socket with EFRAME. */
static void t_frame_too_long(void)
{
    sp *server;
    swerl_socket listener;
    swerl_socket_opts o;
    check_event e;
    int fd;
    unsigned char header[4] = {0, 0x10, 0, 0};   /* 1 MiB */
    rt_begin(1);
    server = sp_spawn(SP_ECHO | SP_ACCEPT_ONCE);
    swerl_socket_opts_init(&o);
    o.packet = SWERL_PACKET_4;
    o.active = SWERL_ACTIVE_ONCE;
    o.max_frame = 1000;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, server->pid, "127.0.0.1:0", &o, &listener), 0);
    server->listener = listener;
    fd = peer_connect(port_of(listener));
    CHECK_EQ_INT(peer_write(fd, header, 4), 0);
    CHECK(sp_take(server, SWERL_SOCKET_CLOSED, 0, &e));
    CHECK_EQ_INT(e.reason, SWERL_EFRAME);
    CHECK(strstr((const char *)e.data, "max_frame") != NULL);
    CHECK(peer_sees_end(fd));
    close(fd);
    rt_end();
}

/* A passive socket does not read: the peer's sends back up in the kernel,
   the owner's mailbox stays empty; N more messages, then PASSIVE. */
static void t_flow_control(void)
{
    sp *server;
    swerl_socket listener, s;
    check_event e;
    swerl_process_info pi;
    int fd, flags, i;
    size_t pushed = 0;
    static char chunk[65536];
    rt_begin(1);
    server = sp_spawn(0);
    listener = listen_on(server, "127.0.0.1:0", SWERL_PACKET_RAW, SWERL_ACTIVE_ONCE);
    fd = peer_connect(port_of(listener));
    CHECK(sp_take(server, SWERL_SOCKET_ACCEPTED, 0, &e));
    s = e.ref;
    /* An accepted connection starts passive, whatever the listener's count. */
    CHECK_EQ_INT(info_of(s).active, 0);
    /* The peer pushes until the kernel refuses more (non-blocking). */
    flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    memset(chunk, 'x', sizeof chunk);
    for (i = 0; i < 100000; i++) {
        ssize_t n = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
        if (n <= 0) break;
        pushed += (size_t)n;
    }
    CHECK_MSG(pushed < 64u << 20, "the peer pushed %zu bytes into a passive socket", pushed);
    CHECK_EQ_U64(info_of(s).bytes_received, 0);
    memset(&pi, 0, sizeof pi);
    pi.size = sizeof pi;
    CHECK_EQ_INT(swerl_process_get_info(g_rt, server->pid, &pi), 0);
    CHECK_EQ_U64(pi.message_queue_len, 0);
    /* Three more: three DATA messages, then PASSIVE, then nothing. */
    CHECK_EQ_INT(sp_op(server, OP_ACTIVATE, s, 3), 0);
    CHECK(sp_take(server, SWERL_SOCKET_PASSIVE, s, &e));
    CHECK_EQ_INT((int)mbox_count(&server->mb, EV_MSG, SWERL_SOCKET_DATA), 3);
    CHECK(info_of(s).bytes_received <= 4 * 65536u);   /* three, and at most one read ahead */
    CHECK_EQ_INT(info_of(s).active, 0);
    /* Everything, 100 messages at a time: every byte arrives once. */
    {
        uint64_t got = 0;
        int rounds = 0;
        while (info_of(s).bytes_received < pushed && rounds++ < 10000) {
            CHECK_EQ_INT(sp_op(server, OP_ACTIVATE, s, 100), 0);
            CHECK_WAIT(info_of(s).bytes_received == pushed
                       || mbox_count(&server->mb, EV_MSG, SWERL_SOCKET_PASSIVE) > 0);
            mbox_take_m(&server->mb, em(EV_MSG, SWERL_SOCKET_PASSIVE), &e, 0);
        }
        CHECK_EQ_U64(info_of(s).bytes_received, pushed);
        while (got < pushed && mbox_take_m(&server->mb, em(EV_MSG, SWERL_SOCKET_DATA), &e, CHECK_WAIT_MS)) got += e.len;
        CHECK_EQ_U64(got, pushed);
    }
    close(fd);
    rt_end();
}

/* The owner's exit closes its sockets; a listener too. */
static void t_owner_exit(void)
{
    sp *server, *other;
    swerl_socket listener;
    check_event e;
    int fd, port;
    rt_begin(2);
    server = sp_spawn(SP_ACCEPT_ONCE);
    other = sp_spawn(0);
    listener = listen_on(server, "127.0.0.1:0", SWERL_PACKET_RAW, SWERL_ACTIVE_ONCE);
    port = port_of(listener);
    fd = peer_connect(port);
    CHECK(sp_take(server, SWERL_SOCKET_ACCEPTED, 0, &e));
    /* Another process may not use it. */
    CHECK_EQ_INT(sp_send(other, e.ref, "x", 1), SWERL_ENOTOWNER);
    CHECK(strstr(swerl_last_error_detail(), "") != NULL);
    CHECK_EQ_INT(sp_op(other, OP_CLOSE, e.ref, 0), SWERL_ENOTOWNER);
    CHECK_EQ_INT(sp_op(other, OP_ACTIVATE, listener, 1), SWERL_ENOTOWNER);
    /* The owner crashes: the peer sees the end; the listener is gone. */
    {
        sp_cmd crash = cmd(OP_CRASH, 0);
        CHECK_EQ_INT(swerl_send(g_rt, server->pid, &crash, sizeof crash), 0);
    }
    CHECK(peer_sees_end(fd));
    close(fd);
    {
        swerl_socket_info in;
        memset(&in, 0, sizeof in);
        in.size = sizeof in;
        CHECK_WAIT(swerl_socket_info_get(g_rt, listener, &in) == SWERL_ENOSOCKET);
    }
    /* the port is free again */
    {
        sp *again = sp_spawn(0);
        char address[64];
        swerl_socket l2;
        snprintf(address, sizeof address, "127.0.0.1:%d", port);
        /* free once the listener's loop has closed it (at once, or as its next command) */
        double t0 = check_now_ms();
        int rc;
        while ((rc = swerl_socket_listen(g_rt, again->pid, address, NULL, &l2)) == SWERL_EADDRINUSE
               && check_now_ms() - t0 < CHECK_WAIT_MS)
            check_sleep_ms(1);
        CHECK_EQ_INT(rc, 0);
    }
    rt_end();
}

/* Ownership handed on: the new owner gets the data; the old one is refused. */
static void t_set_owner(void)
{
    sp *server, *worker;
    swerl_socket listener, s;
    check_event e;
    int fd;
    char back[8];
    rt_begin(2);
    server = sp_spawn(0);
    worker = sp_spawn(SP_ECHO);
    listener = listen_on(server, "127.0.0.1:0", SWERL_PACKET_RAW, SWERL_ACTIVE_ONCE);
    fd = peer_connect(port_of(listener));
    CHECK(sp_take(server, SWERL_SOCKET_ACCEPTED, 0, &e));
    s = e.ref;
    CHECK_EQ_INT(sp_op(server, OP_SET_OWNER, s, (int64_t)(worker->pid + 1000000)), SWERL_ENOPROC);
    CHECK_EQ_INT(sp_op(server, OP_SET_OWNER, s, (int64_t)worker->pid), 0);
    CHECK_EQ_U64(info_of(s).owner, worker->pid);
    CHECK_EQ_INT(sp_send(server, s, "x", 1), SWERL_ENOTOWNER);
    CHECK_EQ_INT(sp_op(worker, OP_ACTIVATE, s, SWERL_ACTIVE_ONCE), 0);
    CHECK_EQ_INT(peer_write(fd, "abc", 3), 0);
    CHECK_EQ_INT(peer_read(fd, back, 3), 0);
    CHECK_MEM(back, 3, "abc", 3);
    CHECK(sp_take(worker, SWERL_SOCKET_DATA, s, &e));
    /* The old owner's exit does not close it any more. */
    CHECK_EQ_INT(swerl_exit(g_rt, server->pid, SWERL_REASON_KILL, NULL, 0), 0);
    CHECK_WAIT(!check_alive(g_rt, server->pid));
    CHECK_EQ_INT(peer_write(fd, "def", 3), 0);
    CHECK_EQ_INT(peer_read(fd, back, 3), 0);
    CHECK_MEM(back, 3, "def", 3);
    close(fd);
    rt_end();
}

/* Half close: shutdown(write) from a Swerl client; the peer's close with
   SWERL_SOCKET_HALF_CLOSE leaves the socket open for sending. */
static void t_half_close(void)
{
    sp *server;
    swerl_socket listener, s;
    swerl_socket_opts o;
    check_event e;
    int fd;
    char back[16];
    rt_begin(1);
    server = sp_spawn(SP_REACTIVATE);
    swerl_socket_opts_init(&o);
    o.active = SWERL_ACTIVE_ONCE;
    o.flags |= SWERL_SOCKET_HALF_CLOSE;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, server->pid, "127.0.0.1:0", &o, &listener), 0);
    fd = peer_connect(port_of(listener));
    CHECK(sp_take(server, SWERL_SOCKET_ACCEPTED, 0, &e));
    s = e.ref;
    CHECK_EQ_INT(sp_op(server, OP_ACTIVATE, s, SWERL_ACTIVE_ONCE), 0);
    CHECK_EQ_INT(peer_write(fd, "request", 7), 0);
    shutdown(fd, SHUT_WR);
    CHECK(sp_take(server, SWERL_SOCKET_DATA, s, &e));
    CHECK(sp_take(server, SWERL_SOCKET_CLOSED, s, &e));
    CHECK_EQ_INT(e.reason, 0);
    CHECK_EQ_INT(sp_send(server, s, "response", 8), 0);
    CHECK_EQ_INT(peer_read(fd, back, 8), 0);
    CHECK_MEM(back, 8, "response", 8);
    CHECK_EQ_INT(sp_op(server, OP_SHUTDOWN, s, 0), 0);
    CHECK(peer_sees_end(fd));
    CHECK_EQ_INT(sp_op(server, OP_CLOSE, s, 0), 0);
    close(fd);
    rt_end();
}

static void t_unix(void)
{
    sp *server, *client;
    swerl_socket listener, s;
    check_event e;
    char path[108], address[128];
    sp_cmd c;
    rt_begin(2);
    snprintf(path, sizeof path, "/tmp/swerl-test-%d.sock", (int)getpid());
    unlink(path);
    snprintf(address, sizeof address, "unix:%s", path);
    server = sp_spawn(SP_ECHO | SP_ACCEPT_ONCE);
    client = sp_spawn(SP_REACTIVATE);
    listener = listen_on(server, address, SWERL_PACKET_2, SWERL_ACTIVE_ONCE);
    CHECK_STR(info_of(listener).local, address);
    c = cmd(OP_CONNECT, 0);
    c.len = (uint32_t)strlen(address);
    memcpy(c.data, address, c.len);
    c.value = SWERL_ACTIVE_ONCE;
    c.option = SWERL_PACKET_2;
    e = sp_do(client, c);
    CHECK_EQ_INT(e.rc, 0);
    s = e.u1;
    CHECK(sp_take(client, SWERL_SOCKET_CONNECTED, s, &e));
    CHECK_EQ_INT(e.reason, 0);
    CHECK_EQ_INT(sp_send(client, s, "over unix", 9), 0);
    CHECK(sp_take(client, SWERL_SOCKET_DATA, s, &e));
    CHECK_MEM(e.data, e.len, "over unix", 9);
    /* the path is in use while the listener lives */
    {
        swerl_socket dup;
        CHECK_EQ_INT(swerl_socket_listen(g_rt, server->pid, address, NULL, &dup), SWERL_EADDRINUSE);
    }
    rt_end();
    CHECK_MSG(access(path, F_OK) != 0, "the listener's path %s was left behind", path);
}

static void t_bad_input(void)
{
    sp *p;
    swerl_socket s = 0, listener;
    swerl_socket_opts o;
    check_event e;
    sp_cmd c;
    char address[64];
    int port;
    rt_begin(1);
    p = sp_spawn(0);
    CHECK_EQ_INT(swerl_socket_listen(NULL, p->pid, "127.0.0.1:0", NULL, &s), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, NULL, NULL, &s), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, "127.0.0.1:0", NULL, NULL), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, "127.0.0.1", NULL, &s), SWERL_EINVAL);
    CHECK(strstr(swerl_last_error_detail(), "port") != NULL);
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, "127.0.0.1:99999", NULL, &s), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, "[::1:80", NULL, &s), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, "no-such-host.invalid:80", NULL, &s), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, "unix:", NULL, &s), SWERL_EINVAL);
    {
        char longpath[300];
        memset(longpath, 'a', sizeof longpath);
        memcpy(longpath, "unix:/", 6);
        longpath[sizeof longpath - 1] = 0;
        CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, longpath, NULL, &s), SWERL_EINVAL);
    }
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid + 12345, "127.0.0.1:0", NULL, &s), SWERL_ENOPROC);
    swerl_socket_opts_init(&o);
    o.packet = 3;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, "127.0.0.1:0", &o, &s), SWERL_EINVAL);
    swerl_socket_opts_init(&o);
    o.active = -2;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, "127.0.0.1:0", &o, &s), SWERL_EINVAL);
    swerl_socket_opts_init(&o);
    o.size = 4;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, "127.0.0.1:0", &o, &s), SWERL_EINVAL);
    swerl_socket_opts_init(&o);
    o.flags = 1u << 20;
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, "127.0.0.1:0", &o, &s), SWERL_EINVAL);
    /* a port in use */
    listener = listen_on(p, "127.0.0.1:0", SWERL_PACKET_RAW, 0);
    port = port_of(listener);
    snprintf(address, sizeof address, "127.0.0.1:%d", port);
    CHECK_EQ_INT(swerl_socket_listen(g_rt, p->pid, address, NULL, &s), SWERL_EADDRINUSE);
    /* ctx-only calls from outside any callback */
    CHECK_EQ_INT(swerl_socket_send(NULL, listener, "x", 1), SWERL_ECTX);
    CHECK_EQ_INT(swerl_socket_activate(NULL, listener, 1), SWERL_ECTX);
    CHECK_EQ_INT(swerl_socket_close(NULL, listener), SWERL_ECTX);
    CHECK_EQ_INT(swerl_socket_connect(NULL, "127.0.0.1:1", 100, NULL, &s), SWERL_ECTX);
    /* inside: unknown sockets, a listener's send, bad values */
    CHECK_EQ_INT(sp_send(p, 12345, "x", 1), SWERL_ENOSOCKET);
    CHECK_EQ_INT(sp_send(p, listener, "x", 1), SWERL_ENOTSUP);
    CHECK_EQ_INT(sp_op(p, OP_ACTIVATE, listener, -5), SWERL_EINVAL);
    c = cmd(OP_SETOPT, listener);
    c.option = 999;
    CHECK_EQ_INT(sp_do(p, c).rc, SWERL_EINVAL);
    c.option = SWERL_SO_PACKET;
    c.value = 7;
    CHECK_EQ_INT(sp_do(p, c).rc, SWERL_EINVAL);
    /* connection refused: the port of a listener just closed */
    CHECK_EQ_INT(sp_op(p, OP_CLOSE, listener, 0), 0);
    CHECK_EQ_INT(sp_op(p, OP_CLOSE, listener, 0), SWERL_ENOSOCKET);
    c = cmd(OP_CONNECT, 0);
    c.len = (uint32_t)strlen(address);
    memcpy(c.data, address, c.len);
    e = sp_do(p, c);
    CHECK_EQ_INT(e.rc, 0);
    CHECK(sp_take(p, SWERL_SOCKET_CONNECTED, e.u1, &e));
    CHECK_EQ_INT(e.reason, SWERL_ECONNREFUSED);
    CHECK_EQ_INT(sp_send(p, e.ref, "x", 1), SWERL_ENOSOCKET);
    /* info: bad arguments */
    {
        swerl_socket_info in;
        memset(&in, 0, sizeof in);
        in.size = 8;
        CHECK_EQ_INT(swerl_socket_info_get(g_rt, 1, &in), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_socket_info_get(g_rt, 1, NULL), SWERL_EINVAL);
        in.size = sizeof in;
        CHECK_EQ_INT(swerl_socket_info_get(NULL, 1, &in), SWERL_EINVAL);
        CHECK_EQ_INT(swerl_socket_info_get(g_rt, 0, &in), SWERL_ENOSOCKET);
    }
    /* error texts */
    CHECK_STR(swerl_err_name(SWERL_ENOSOCKET), "ENOSOCKET");
    CHECK_STR(swerl_err_name(SWERL_ENET), "ENET");
    rt_end();
}

/* Stop with sockets open: every peer sees the end; calls after stop fail. */
static void t_stop(void)
{
    enum { N = 50 };
    sp *server;
    swerl_socket listener;
    check_event e;
    int fds[N], i, port;
    rt_begin(2);
    server = sp_spawn(SP_ECHO | SP_ACCEPT_ONCE);
    listener = listen_on(server, "127.0.0.1:0", SWERL_PACKET_RAW, SWERL_ACTIVE_ONCE);
    port = port_of(listener);
    for (i = 0; i < N; i++) fds[i] = peer_connect(port);
    for (i = 0; i < N; i++) CHECK(sp_take(server, SWERL_SOCKET_ACCEPTED, 0, &e));
    CHECK_EQ_INT(swerl_runtime_stop(g_rt, 5000), 0);
    for (i = 0; i < N; i++) {
        CHECK(peer_sees_end(fds[i]));
        close(fds[i]);
    }
    {
        swerl_socket s;
        CHECK_EQ_INT(swerl_socket_listen(g_rt, server->pid, "127.0.0.1:0", NULL, &s), SWERL_ESTOPPED);
    }
    rt_end();
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    check_section("echo, raw: listen, accept, data, peer close", t_echo_raw, 60);
    check_section("an accepted connection takes the listener's options (NODELAY)", t_accepted_options, 60);
    check_section("a Swerl client: connect, queued sends, close", t_connect, 60);
    check_section("packet 1, 2, 4: frames split and joined", t_packet, 60);
    check_section("line framing", t_line, 60);
    check_section("a frame over max_frame closes with EFRAME", t_frame_too_long, 60);
    check_section("flow control: passive, active N, PASSIVE", t_flow_control, 120);
    check_section("the owner's exit closes its sockets", t_owner_exit, 60);
    check_section("set_owner hands a socket on", t_set_owner, 60);
    check_section("half close both ways", t_half_close, 60);
    check_section("Unix sockets", t_unix, 60);
    check_section("bad input", t_bad_input, 60);
    check_section("stop with sockets open", t_stop, 60);
    return check_summary();
}
