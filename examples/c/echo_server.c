/*
 * echo_server.c — a TCP echo server: one process per connection, as an
 * Erlang programmer writes it with gen_tcp.
 *
 *   usage: echo_server          serve on 127.0.0.1 (a port the system picks),
 *                               echo for three clients of its own, and exit
 *          echo_server PORT     serve on 127.0.0.1:PORT until Ctrl-C
 *                               (try: nc 127.0.0.1 PORT)
 *
 * What it shows:
 *   - swerl_socket_listen: a listener owned by an acceptor process; each
 *     connection arrives as a SWERL_SOCKET_ACCEPTED message;
 *   - swerl_socket_set_owner hands a connection to the process spawned for
 *     it (gen_tcp's controlling_process); that process asks for data one
 *     message at a time (SWERL_ACTIVE_ONCE), so a slow process is never
 *     flooded: the socket stops reading and TCP pushes back;
 *   - the end: the peer closing comes as SWERL_SOCKET_CLOSED, and a
 *     connection process that exits takes its socket with it.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <swerl.h>

/* The acceptor's note to a new connection process: "this socket is yours". */
typedef struct handover {
    char tag[8];
    swerl_socket socket;
} handover;

static const char k_tag[8] = "yours";

static int connection_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)state;
    if (m->kind == SWERL_MESSAGE && m->len == sizeof(handover) && memcmp(m->data, k_tag, sizeof k_tag) == 0) {
        handover h;
        memcpy(&h, m->data, sizeof h);
        swerl_socket_activate(ctx, h.socket, SWERL_ACTIVE_ONCE);
    } else if (m->kind == SWERL_SOCKET_DATA) {
        swerl_socket_send(ctx, m->ref, m->data, m->len);
        swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
    } else if (m->kind == SWERL_SOCKET_CLOSED) {
        return SWERL_STOP;   /* the peer is done: so is this process */
    }
    return SWERL_CONTINUE;
}

static int acceptor_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    swerl_behavior b = {sizeof(swerl_behavior), NULL, connection_handle, NULL};
    handover h;
    swerl_pid pid;
    (void)state;
    if (m->kind != SWERL_SOCKET_ACCEPTED) return SWERL_CONTINUE;
    if (swerl_spawn(swerl_ctx_runtime(ctx), &b, NULL, NULL, &pid) != 0) {
        swerl_socket_close(ctx, m->ref);
        return SWERL_CONTINUE;
    }
    swerl_socket_set_owner(ctx, m->ref, pid);
    memcpy(h.tag, k_tag, sizeof k_tag);
    h.socket = m->ref;
    swerl_send(swerl_ctx_runtime(ctx), pid, &h, sizeof h);
    return SWERL_CONTINUE;
}

/* A client of our own: connect, send a line, read the echo. */
static int client(int port, const char *line)
{
    struct sockaddr_in a;
    char back[128];
    size_t len = strlen(line), got = 0;
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || send(fd, line, len, 0) != (ssize_t)len) {
        close(fd);
        return -1;
    }
    while (got < len) {
        ssize_t n = recv(fd, back + got, len - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    printf("sent \"%s\", echoed \"%.*s\"\n", line, (int)got, back);
    return got == len && memcmp(back, line, len) == 0 ? 0 : -1;
}

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

int main(int argc, char **argv)
{
    swerl_runtime *rt;
    swerl_behavior acceptor = {sizeof(swerl_behavior), NULL, acceptor_handle, NULL};
    swerl_socket_opts o;
    swerl_socket listener;
    swerl_socket_info info;
    swerl_pid pid;
    char address[64];
    int rc, port, failures = 0;
    if (swerl_runtime_start(NULL, &rt) != 0) return 1;
    swerl_spawn(rt, &acceptor, NULL, NULL, &pid);
    swerl_socket_opts_init(&o);
    o.active = 1 << 30;   /* accept every connection that comes */
    snprintf(address, sizeof address, "127.0.0.1:%s", argc > 1 ? argv[1] : "0");
    rc = swerl_socket_listen(rt, pid, address, &o, &listener);
    if (rc != 0) {
        fprintf(stderr, "echo_server: %s: %s (%s)\n", address, swerl_strerror(rc), swerl_last_error_detail());
        swerl_runtime_free(rt);
        return 2;
    }
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    swerl_socket_info_get(rt, listener, &info);
    port = atoi(strrchr(info.local, ':') + 1);
    if (argc > 1) {
        printf("echo server on %s: Ctrl-C stops it\n", info.local);
        fflush(stdout);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        while (!g_stop) pause();
    } else {
        printf("echo server on 127.0.0.1\n");
        failures -= client(port, "hello");
        failures -= client(port, "one process per connection");
        failures -= client(port, "bye");
    }
    swerl_runtime_free(rt);
    printf("done: %s\n", failures == 0 ? "every echo matched" : "an echo did not match");
    return failures == 0 ? 0 : 1;
}
