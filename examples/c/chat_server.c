/*
 * chat_server.c — a line chat over TCP, as a supervision tree (ranch's
 * shape): an acceptor, a room, and one supervised process per connection.
 *
 *   usage: chat_server          serve on 127.0.0.1, chat with three clients
 *                               of its own (one of them crashes its
 *                               session), and exit
 *          chat_server PORT     serve on 127.0.0.1:PORT until Ctrl-C
 *                               (try two terminals: nc 127.0.0.1 PORT; the
 *                               first line you type is your name)
 *
 * The tree (rest_for_one): "room" (the members, by monitor), "sessions" (a
 * simple_one_for_one supervisor of temporary session processes), and
 * "acceptor" (owns the listener). What it shows:
 *   - line framing in the runtime (SWERL_PACKET_LINE): a session gets one
 *     whole line per message, however TCP cut the bytes;
 *   - the acceptor is a blocking process (swerl_set_blocking in its init),
 *     so it may make supervisor calls: each connection becomes a child of
 *     "sessions" (swerl_supervisor_spawn_child), then its socket is handed
 *     to that child (swerl_socket_set_owner);
 *   - a session that crashes takes only its own connection down: the
 *     supervisor reports it, the room sees the DOWN and tells the others.
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

#define MEMBERS_MAX 64
#define TEXT_MAX 200

/* What processes send each other: a tag, a pid, a line of text. */
typedef struct chat_msg {
    char tag[8];          /* "join", "post", "say", "go" */
    swerl_pid pid;
    swerl_socket socket;
    char text[TEXT_MAX];
} chat_msg;

static void send_msg(swerl_runtime *rt, swerl_pid to, const char *tag, swerl_pid pid, swerl_socket s,
                     const char *text)
{
    chat_msg m;
    memset(&m, 0, sizeof m);
    strncpy(m.tag, tag, sizeof m.tag - 1);
    m.pid = pid;
    m.socket = s;
    snprintf(m.text, sizeof m.text, "%.*s", (int)sizeof m.text - 1, text ? text : "");
    swerl_send(rt, to, &m, sizeof m);
}

static int is_msg(const swerl_message *m, const char *tag)
{
    return m->kind == SWERL_MESSAGE && m->len == sizeof(chat_msg) && strncmp((const char *)m->data, tag, 8) == 0;
}

/* --- the room -------------------------------------------------------------- */

typedef struct member {
    swerl_pid pid;
    char name[32];
} member;

typedef struct room {
    member members[MEMBERS_MAX];
    int count;
} room;

static void broadcast(swerl_runtime *rt, room *r, swerl_pid except, const char *text)
{
    int i;
    for (i = 0; i < r->count; i++)
        if (r->members[i].pid != except) send_msg(rt, r->members[i].pid, "say", 0, 0, text);
}

static int room_init(swerl_ctx *ctx, void *arg, void **state)
{
    (void)arg;
    *state = calloc(1, sizeof(room));
    return swerl_register(swerl_ctx_runtime(ctx), "room", swerl_self(ctx));
}

static int room_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    room *r = (room *)state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    char line[TEXT_MAX + 64];
    int i;
    if (is_msg(m, "join") && r->count < MEMBERS_MAX) {
        const chat_msg *c = (const chat_msg *)m->data;
        swerl_ref ref;
        member *joined = &r->members[r->count++];
        joined->pid = c->pid;
        snprintf(joined->name, sizeof joined->name, "%.*s", (int)sizeof joined->name - 1, c->text);
        swerl_monitor(ctx, c->pid, &ref);
        snprintf(line, sizeof line, "* welcome, %s (%d here)\n", joined->name, r->count);
        send_msg(rt, c->pid, "say", 0, 0, line);
        snprintf(line, sizeof line, "* %s joined\n", joined->name);
        broadcast(rt, r, c->pid, line);
    } else if (is_msg(m, "post")) {
        const chat_msg *c = (const chat_msg *)m->data;
        for (i = 0; i < r->count; i++) {
            if (r->members[i].pid != c->pid) continue;
            snprintf(line, sizeof line, "%s: %s\n", r->members[i].name, c->text);
            broadcast(rt, r, c->pid, line);
        }
    } else if (m->kind == SWERL_DOWN) {
        for (i = 0; i < r->count; i++) {
            if (r->members[i].pid != m->from) continue;
            snprintf(line, sizeof line, "* %s left\n", r->members[i].name);
            r->members[i] = r->members[--r->count];
            broadcast(rt, r, 0, line);
            break;
        }
    }
    return SWERL_CONTINUE;
}

static void free_state(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx;
    (void)reason;
    free(state);
}

/* --- a session: one connection ---------------------------------------------- */

typedef struct session {
    swerl_socket socket;
    int named;
} session;

static int session_init(swerl_ctx *ctx, void *arg, void **state)
{
    (void)ctx;
    (void)arg;
    *state = calloc(1, sizeof(session));
    return 0;
}

static int session_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    session *s = (session *)state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    swerl_pid room_pid = 0;
    char text[TEXT_MAX];
    if (is_msg(m, "go")) {   /* from the acceptor: the socket is ours now */
        s->socket = ((const chat_msg *)m->data)->socket;
        return swerl_socket_activate(ctx, s->socket, SWERL_ACTIVE_ONCE) == 0 ? SWERL_CONTINUE : SWERL_STOP;
    }
    if (is_msg(m, "say")) {
        const chat_msg *c = (const chat_msg *)m->data;
        swerl_socket_send(ctx, s->socket, c->text, strlen(c->text));
        return SWERL_CONTINUE;
    }
    if (m->kind == SWERL_SOCKET_CLOSED) return SWERL_STOP;
    if (m->kind != SWERL_SOCKET_DATA) return SWERL_CONTINUE;
    /* one line, its '\n' included */
    snprintf(text, sizeof text, "%.*s", (int)(m->len > 0 ? m->len - 1 : 0), (const char *)m->data);
    if (text[0] && text[strlen(text) - 1] == '\r') text[strlen(text) - 1] = 0;
    if (strcmp(text, "/crash") == 0) {
        swerl_fail(ctx, SWERL_REASON_ERROR, "asked to crash", 14);
        return -1;
    }
    swerl_whereis(rt, "room", &room_pid);
    send_msg(rt, room_pid, s->named ? "post" : "join", swerl_self(ctx), 0, text);
    s->named = 1;
    swerl_socket_activate(ctx, m->ref, SWERL_ACTIVE_ONCE);
    return SWERL_CONTINUE;
}

/* --- the acceptor ------------------------------------------------------------ */

static swerl_pid g_root;
static char g_address[64];
static swerl_socket g_listener;

static int acceptor_init(swerl_ctx *ctx, void *arg, void **state)
{
    swerl_socket_opts o;
    (void)arg;
    (void)state;
    swerl_set_blocking(ctx, 1);   /* supervisor calls are allowed from here on */
    swerl_socket_opts_init(&o);
    o.packet = SWERL_PACKET_LINE;
    o.max_frame = TEXT_MAX;       /* a longer line closes that connection */
    o.active = 1 << 30;
    return swerl_socket_listen(swerl_ctx_runtime(ctx), swerl_self(ctx), g_address, &o, &g_listener);
}

static int acceptor_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    swerl_child_info children[3];
    size_t n = 0, i;
    swerl_pid sessions = 0, pid = 0;
    (void)state;
    if (m->kind != SWERL_SOCKET_ACCEPTED) return SWERL_CONTINUE;
    for (i = 0; i < 3; i++) children[i].size = sizeof children[i];
    swerl_supervisor_which_children(rt, g_root, children, 3, &n);
    for (i = 0; i < n && i < 3; i++)
        if (strcmp(children[i].id, "sessions") == 0) sessions = children[i].pid;
    if (swerl_supervisor_spawn_child(rt, sessions, NULL, &pid) != 0) {
        swerl_socket_close(ctx, m->ref);
        return SWERL_CONTINUE;
    }
    swerl_socket_set_owner(ctx, m->ref, pid);
    send_msg(rt, pid, "go", 0, m->ref, NULL);
    return SWERL_CONTINUE;
}

/* --- clients of our own ------------------------------------------------------- */

static int connect_to(int port)
{
    struct sockaddr_in a;
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void say(int fd, const char *line)
{
    if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) perror("send");
}

/* Reads one line and prints it as "WHO got: LINE" (or that the
   connection closed). */
static void hear(int fd, const char *who)
{
    char line[256];
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = recv(fd, line + n, 1, 0);
        if (r <= 0) {
            printf("%s: connection closed\n", who);
            return;
        }
        if (line[n++] == '\n') break;
    }
    line[n > 0 ? n - 1 : 0] = 0;
    printf("%s got: %s\n", who, line);
}

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

int main(int argc, char **argv)
{
    swerl_runtime *rt;
    swerl_behavior room_b = {sizeof(swerl_behavior), room_init, room_handle, free_state};
    swerl_behavior session_b = {sizeof(swerl_behavior), session_init, session_handle, free_state};
    swerl_behavior acceptor_b = {sizeof(swerl_behavior), acceptor_init, acceptor_handle, NULL};
    swerl_child_spec session_spec, sessions_children[1], children[3];
    swerl_supervisor_spec sessions_sup, root;
    swerl_socket_info info;
    swerl_child_counts counts;
    int rc, port;
    if (swerl_runtime_start(NULL, &rt) != 0) return 1;
    snprintf(g_address, sizeof g_address, "127.0.0.1:%s", argc > 1 ? argv[1] : "0");

    swerl_child_spec_init(&session_spec);
    session_spec.id = "session";
    session_spec.behavior = &session_b;
    session_spec.restart = SWERL_TEMPORARY;   /* a broken connection is not restarted */
    sessions_children[0] = session_spec;
    swerl_supervisor_spec_init(&sessions_sup);
    sessions_sup.strategy = SWERL_SIMPLE_ONE_FOR_ONE;
    sessions_sup.children = sessions_children;
    sessions_sup.n_children = 1;

    swerl_child_spec_init(&children[0]);
    children[0].id = "room";
    children[0].behavior = &room_b;
    swerl_child_spec_init(&children[1]);
    children[1].id = "sessions";
    children[1].type = SWERL_SUPERVISOR;
    children[1].shutdown_ms = SWERL_INFINITY;
    children[1].supervisor = &sessions_sup;
    swerl_child_spec_init(&children[2]);
    children[2].id = "acceptor";
    children[2].behavior = &acceptor_b;
    swerl_supervisor_spec_init(&root);
    root.strategy = SWERL_REST_FOR_ONE;
    root.children = children;
    root.n_children = 3;
    rc = swerl_supervisor_start(rt, &root, NULL, &g_root);
    if (rc != 0) {
        fprintf(stderr, "chat_server: %s (%s)\n", swerl_strerror(rc), swerl_last_error_detail());
        swerl_runtime_free(rt);
        return 2;
    }
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    swerl_socket_info_get(rt, g_listener, &info);
    port = atoi(strrchr(info.local, ':') + 1);

    if (argc > 1) {
        printf("chat on %s: Ctrl-C stops it\n", info.local);
        fflush(stdout);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        while (!g_stop) pause();
    } else {
        int alice = connect_to(port), bob, carol;
        say(alice, "alice\n");
        hear(alice, "alice");                      /* welcome */
        bob = connect_to(port);
        say(bob, "bob\n");
        hear(bob, "bob");
        hear(alice, "alice");                      /* bob joined */
        carol = connect_to(port);
        say(carol, "carol\n");
        hear(carol, "carol");
        hear(alice, "alice");
        hear(bob, "bob");
        say(alice, "hello, ");
        say(alice, "everyone\n");                  /* one line, in two pieces */
        hear(bob, "bob");
        hear(carol, "carol");
        say(carol, "/crash\n");                    /* carol's session crashes */
        hear(carol, "carol");
        hear(alice, "alice");
        hear(bob, "bob");
        say(bob, "bye\n");
        hear(alice, "alice");
        counts.size = sizeof counts;
        {
            swerl_child_info kids[3];
            size_t n = 0, i;
            for (i = 0; i < 3; i++) kids[i].size = sizeof kids[i];
            swerl_supervisor_which_children(rt, g_root, kids, 3, &n);
            for (i = 0; i < n; i++)
                if (strcmp(kids[i].id, "sessions") == 0 && swerl_supervisor_count_children(rt, kids[i].pid, &counts) == 0)
                    printf("sessions running: %u\n", counts.active);
        }
        close(alice);
        close(bob);
        close(carol);
    }
    swerl_runtime_free(rt);
    printf("done\n");
    return 0;
}
