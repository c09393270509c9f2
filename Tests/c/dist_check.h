/* dist_check.h — what the distribution tests need around a Swerl node: a
 * private EPMD, real BEAM nodes running Tests/dist/dist_peer.erl, and a log
 * of what the Swerl processes received. Loopback only; every program this
 * starts dies with the test (PR_SET_PDEATHSIG) and is killed at its end. */
#ifndef SWERL_DIST_CHECK_H
#define SWERL_DIST_CHECK_H

#include "check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define DIST_COOKIE "swerl_test_cookie"

/* A free TCP port on 127.0.0.1 (bound, read, closed). */
static inline int dist_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int port = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0
        && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* Whether something accepts connections on 127.0.0.1:port. */
static inline int dist_port_open(int port)
{
    struct sockaddr_in a;
    int ok;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

/* Starts argv[0] (found on PATH) with ERL_EPMD_PORT=epmd_port and its output
   to `log_path`; it dies when this process does. The child's pid, or -1. */
static inline pid_t dist_spawn(char *const argv[], int epmd_port, const char *log_path)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    {
        char port[16];
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        snprintf(port, sizeof port, "%d", epmd_port);
        setenv("ERL_EPMD_PORT", port, 1);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s (make deps installs erlang and elixir)\n", argv[0], strerror(errno));
        _exit(127);
    }
}

static inline void dist_kill(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
}

/* Whether the file at `path` contains `text`. */
static inline int dist_file_has(const char *path, const char *text)
{
    char buf[65536];
    size_t n;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strstr(buf, text) != NULL;
}

static inline void dist_print_file(const char *path)
{
    char line[512];
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) printf("   | %s", line);
    fclose(f);
}

/* The private EPMD every node of a test registers with. */
typedef struct dist_world {
    int epmd_port;
    pid_t epmd;
    char dir[64];             /* a temporary directory: beams, logs */
} dist_world;

static inline int dist_world_start(dist_world *w)
{
    char port[16], cmd[512];
    char *epmd_argv[5];
    const char *source = getenv("SWERL_DIST_PEER") ? getenv("SWERL_DIST_PEER") : "Tests/dist/dist_peer.erl";
    snprintf(w->dir, sizeof w->dir, "/tmp/swerl-dist-XXXXXX");
    if (!mkdtemp(w->dir)) return 0;
    snprintf(cmd, sizeof cmd, "erlc -o %s %s", w->dir, source);
    if (!CHECK_MSG(system(cmd) == 0, "cannot compile %s with erlc (make deps installs erlang)", source)) return 0;
    w->epmd_port = dist_free_port();
    snprintf(port, sizeof port, "%d", w->epmd_port);
    epmd_argv[0] = (char *)"epmd";
    epmd_argv[1] = (char *)"-port";
    epmd_argv[2] = port;
    epmd_argv[3] = (char *)"-relaxed_command_check";
    epmd_argv[4] = NULL;
    snprintf(cmd, sizeof cmd, "%s/epmd.log", w->dir);
    w->epmd = dist_spawn(epmd_argv, w->epmd_port, cmd);
    WAIT_UNTIL(dist_port_open(w->epmd_port));
    return CHECK_MSG(dist_port_open(w->epmd_port), "epmd did not start on port %d", w->epmd_port);
}

static inline void dist_world_stop(dist_world *w)
{
    char cmd[256];
    dist_kill(w->epmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
    if (system(cmd) != 0) {}
}

/* A BEAM node `name`@127.0.0.1 running dist_peer:main(), up when it said
   "ready". `cookie` NULL: DIST_COOKIE. `ticktime_s` 0: erl's default. */
static inline pid_t dist_erl_start(dist_world *w, const char *name, const char *cookie, unsigned ticktime_s)
{
    char full[128], log[256], ready_path[256], ticktime[16];
    char *argv[20];
    int n = 0;
    pid_t pid;
    snprintf(full, sizeof full, "%s@127.0.0.1", name);
    snprintf(log, sizeof log, "%s/%s.log", w->dir, name);
    argv[n++] = (char *)"erl";
    argv[n++] = (char *)"-name";
    argv[n++] = full;
    argv[n++] = (char *)"-setcookie";
    argv[n++] = (char *)(cookie ? cookie : DIST_COOKIE);
    argv[n++] = (char *)"-noinput";
    argv[n++] = (char *)"-kernel";
    argv[n++] = (char *)"inet_dist_use_interface";
    argv[n++] = (char *)"{127,0,0,1}";
    if (ticktime_s) {
        snprintf(ticktime, sizeof ticktime, "%u", ticktime_s);
        argv[n++] = (char *)"-kernel";
        argv[n++] = (char *)"net_ticktime";
        argv[n++] = ticktime;
    }
    argv[n++] = (char *)"-pa";
    argv[n++] = w->dir;
    argv[n++] = (char *)"-s";
    argv[n++] = (char *)"dist_peer";
    argv[n++] = (char *)"main";
    argv[n] = NULL;
    unlink(log);  /* an earlier node's "ready" must not count */
    pid = dist_spawn(argv, w->epmd_port, log);
    snprintf(ready_path, sizeof ready_path, "%s", log);
    WAIT_UNTIL_MS(dist_file_has(ready_path, "ready"), 30000);
    if (!CHECK_MSG(dist_file_has(ready_path, "ready"), "the BEAM node %s did not start", full)) {
        dist_print_file(log);
        dist_kill(pid);
        return -1;
    }
    return pid;
}

/* ------------------------------------------------------------------------ */
/* What the Swerl side saw                                                   */
/* ------------------------------------------------------------------------ */

#define DIST_EVENTS 4096

typedef struct dist_event {
    const char *who;          /* the process: "probe", "echo", "kv", "victim", "log" */
    uint32_t kind, flags;
    int32_t reason;
    swerl_pid from;
    swerl_ref ref;
    size_t len;
    char data[256];           /* NUL-terminated (truncated) */
} dist_event;

static pthread_mutex_t dist_lock = PTHREAD_MUTEX_INITIALIZER;
static dist_event dist_events[DIST_EVENTS];
static int dist_count = 0;

static inline void dist_post(const char *who, const swerl_message *msg)
{
    dist_event e;
    memset(&e, 0, sizeof e);
    e.who = who;
    e.kind = msg->kind;
    e.flags = msg->flags;
    e.reason = msg->reason;
    e.from = msg->from;
    e.ref = msg->ref;
    e.len = msg->len;
    if (msg->len) memcpy(e.data, msg->data, msg->len < sizeof e.data - 1 ? msg->len : sizeof e.data - 1);
    pthread_mutex_lock(&dist_lock);
    if (dist_count < DIST_EVENTS) dist_events[dist_count++] = e;
    pthread_mutex_unlock(&dist_lock);
}

static inline void dist_log_hook(void *user, int level, const char *text, size_t len)
{
    swerl_message m;
    (void)user;
    memset(&m, 0, sizeof m);
    m.reason = level;
    m.data = text;
    m.len = len;
    dist_post("log", &m);
}

/* Forgets what was seen (a new section, or a new node in one). */
static inline void dist_forget(void)
{
    pthread_mutex_lock(&dist_lock);
    dist_count = 0;
    pthread_mutex_unlock(&dist_lock);
}

typedef int (*dist_pred)(const dist_event *e, const void *arg);

/* The first event (from index 0) that `pred` accepts, waiting up to ms; a
   copy into *out. 0 when none came. */
static inline int dist_find(dist_pred pred, const void *arg, unsigned ms, dist_event *out)
{
    double deadline = check_now_ms() + ms;
    for (;;) {
        int i, found = 0;
        pthread_mutex_lock(&dist_lock);
        for (i = 0; i < dist_count && !found; i++) {
            if (pred(&dist_events[i], arg)) {
                if (out) *out = dist_events[i];
                found = 1;
            }
        }
        pthread_mutex_unlock(&dist_lock);
        if (found) return 1;
        if (check_now_ms() > deadline) return 0;
        check_sleep_ms(2);
    }
}

/* How many events `pred` accepts now. */
static inline int dist_how_many(dist_pred pred, const void *arg)
{
    int i, n = 0;
    pthread_mutex_lock(&dist_lock);
    for (i = 0; i < dist_count; i++) n += pred(&dist_events[i], arg) ? 1 : 0;
    pthread_mutex_unlock(&dist_lock);
    return n;
}

static inline int dist_is_text(const dist_event *e, const void *arg)
{
    return e->kind == SWERL_MESSAGE && strcmp(e->data, (const char *)arg) == 0;
}

static inline int dist_has_prefix(const dist_event *e, const void *arg)
{
    return strncmp(e->data, (const char *)arg, strlen((const char *)arg)) == 0;
}

static inline int dist_log_has(const dist_event *e, const void *arg)
{
    return strcmp(e->who, "log") == 0 && strstr(e->data, (const char *)arg) != NULL;
}

#endif
