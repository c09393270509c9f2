/*
 * libuv_echo: the floor of the echo benchmark, a plain libuv TCP echo
 * server: one loop, one thread, bytes back as they come (no framing).
 *
 *     libuv_echo [PORT]        (0 or nothing: a free port)
 *
 * Listens on 127.0.0.1 only and prints "listening PORT" once it accepts.
 * Each read is written back from the same buffer: uv_try_write first (the
 * usual case: the socket takes it all, no request, no copy); what it does
 * not take goes through uv_write, and reading stops until that write is
 * done, so the buffer is free again and a slow reader bounds the memory.
 */
#include <uv.h>

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define BUF_SIZE 65536

struct client {
    uv_tcp_t tcp;              /* first: the handle's address is the client's */
    uv_write_t wreq;
    char buf[BUF_SIZE];
};

static void on_close(uv_handle_t *h)
{
    free(h);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    *buf = uv_buf_init(((struct client *)h)->buf, BUF_SIZE);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_write(uv_write_t *req, int status)
{
    uv_stream_t *s = req->handle;
    if (status < 0 || uv_read_start(s, on_alloc, on_read) < 0) uv_close((uv_handle_t *)s, on_close);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct client *c = (struct client *)s;
    uv_buf_t rest;
    int n;
    if (nread < 0) {                     /* EOF or an error: the client is gone */
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (nread == 0) return;
    n = uv_try_write(s, &(uv_buf_t){ .base = buf->base, .len = (size_t)nread }, 1);
    if (n == UV_EAGAIN) n = 0;
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (n == nread) return;
    rest = uv_buf_init(buf->base + n, (unsigned)(nread - n));
    uv_read_stop(s);
    if (uv_write(&c->wreq, s, &rest, 1, on_write) < 0) uv_close((uv_handle_t *)s, on_close);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct client *c;
    if (status < 0) return;
    c = malloc(sizeof *c);
    if (!c) return;
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        uv_close((uv_handle_t *)&c->tcp, on_close);
}

int main(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof bound, r;
    int port = argc > 1 ? atoi(argv[1]) : 0;

    if (argc > 2 || port < 0 || port > 65535) {
        fprintf(stderr, "usage: libuv_echo [PORT]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);            /* a client gone mid-write: an error, not a death */
    uv_ip4_addr("127.0.0.1", port, &addr);
    uv_tcp_init(loop, &server);
    if ((r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) < 0 ||
        (r = uv_listen((uv_stream_t *)&server, 1024, on_connection)) < 0 ||
        (r = uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len)) < 0) {
        fprintf(stderr, "libuv_echo: port %d: %s\n", port, uv_strerror(r));
        return 1;
    }
    printf("listening %d\n", ntohs(((struct sockaddr_in *)&bound)->sin_port));
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
