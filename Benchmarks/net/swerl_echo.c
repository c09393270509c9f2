/* Swerl (C) echo server for the echo benchmark: gen_tcp's shape. An
 * acceptor process owns the listener; each connection it accepts is handed
 * to a process of its own, which echoes what it reads with active-once
 * flow control. Listens on 127.0.0.1 only.
 *
 *   swerl_echo PORT [SCHEDULERS]     PORT 0: any; prints "listening PORT"
 *
 * Built against an installed or staged libswerl (pkg-config swerl). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <swerl.h>

static const char k_yours[] = "yours";

/* A connection's process: told its socket by the acceptor, then echoes. */
static int conn_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    swerl_socket *s = (swerl_socket *)state;
    switch (m->kind) {
    case SWERL_MESSAGE:   /* from the acceptor: the socket is ours now */
        if (m->len == sizeof k_yours + sizeof *s && memcmp(m->data, k_yours, sizeof k_yours) == 0) {
            memcpy(s, (const char *)m->data + sizeof k_yours, sizeof *s);
            swerl_socket_activate(ctx, *s, SWERL_ACTIVE_ONCE);
        }
        return SWERL_CONTINUE;
    case SWERL_SOCKET_DATA:
        if (swerl_socket_send(ctx, m->ref, m->data, m->len) != 0) return SWERL_STOP;
        swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
        return SWERL_CONTINUE;
    case SWERL_SOCKET_CLOSED:
        return SWERL_STOP;
    default:
        return SWERL_CONTINUE;
    }
}

static void conn_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx;
    (void)reason;
    free(state);
}

static int acceptor_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    swerl_behavior b = {sizeof(swerl_behavior), NULL, conn_handle, conn_terminate};
    char note[sizeof k_yours + sizeof(swerl_socket)];
    swerl_socket *slot;
    swerl_pid pid;
    (void)state;
    if (m->kind != SWERL_SOCKET_ACCEPTED) return SWERL_CONTINUE;
    slot = (swerl_socket *)calloc(1, sizeof *slot);
    if (!slot || swerl_spawn(swerl_ctx_runtime(ctx), &b, slot, NULL, &pid) != 0) {
        free(slot);
        return SWERL_CONTINUE;   /* the socket stays ours and closes with us */
    }
    if (swerl_socket_set_owner(ctx, m->ref, pid) != 0) return SWERL_CONTINUE;
    memcpy(note, k_yours, sizeof k_yours);
    memcpy(note + sizeof k_yours, &m->ref, sizeof m->ref);
    swerl_send(swerl_ctx_runtime(ctx), pid, note, sizeof note);
    return SWERL_CONTINUE;
}

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

int main(int argc, char **argv)
{
    swerl_config cfg;
    swerl_runtime *rt;
    swerl_behavior acceptor = {sizeof(swerl_behavior), NULL, acceptor_handle, NULL};
    swerl_socket_opts o;
    swerl_socket listener;
    swerl_socket_info info;
    swerl_pid pid;
    char address[64];
    int rc;
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [SCHEDULERS]\n", argv[0]);
        return 2;
    }
    swerl_config_init(&cfg);
    cfg.schedulers = argc > 2 ? (uint32_t)atoi(argv[2]) : 0;
    if (swerl_runtime_start(&cfg, &rt) != 0) return 1;
    if (swerl_spawn(rt, &acceptor, NULL, NULL, &pid) != 0) return 1;
    swerl_socket_opts_init(&o);
    o.active = 1 << 30;      /* accept every connection that comes */
    o.backlog = 1024;
    snprintf(address, sizeof address, "127.0.0.1:%s", argv[1]);
    rc = swerl_socket_listen(rt, pid, address, &o, &listener);
    if (rc != 0) {
        fprintf(stderr, "swerl_echo: listen %s: %s (%s)\n", address, swerl_strerror(rc), swerl_last_error_detail());
        return 1;
    }
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    swerl_socket_info_get(rt, listener, &info);
    printf("listening %s\n", strrchr(info.local, ':') + 1);
    fflush(stdout);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!g_stop) pause();
    swerl_runtime_free(rt);
    return 0;
}
