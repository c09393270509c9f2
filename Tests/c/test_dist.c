/* test_dist.c — a Swerl runtime as a node of an Erlang cluster, against real
 * BEAM nodes (erl) on a private EPMD, loopback only.
 *
 * One BEAM node (`erl`, running Tests/dist/dist_peer.erl) lives for the
 * whole program; each section starts a runtime as a new node (its own name)
 * with the same processes: `probe` (traps exits; does what the BEAM side asks
 * it to: link, monitor, relay to `victim`), `echo` (sends every message back
 * to its sender, as bytes), `kv` (answers calls), `victim` (not trapping).
 * The section asks the BEAM node to run a scenario (a binary to its `ctl`);
 * the scenario checks what the BEAM side sees and tells `probe` "NAME ok" or
 * "NAME fail: ..."; the section checks what the Swerl side saw. */
#include "dist_check.h"

static dist_world world;
static const char *erl_node = "erl@127.0.0.1";
static swerl_runtime *rt;
static char node_name[128];
static swerl_pid victim;

/* ------------------------------------------------------------------------ */
/* The Swerl processes                                                       */
/* ------------------------------------------------------------------------ */

/* Set once the probe watches nodes: its init runs after swerl_spawn
   returns, and a connection must not come up first (its nodeup would be
   missed). */
static int probe_watching;

static int probe_init(swerl_ctx *ctx, void *arg, void **state)
{
    (void)arg;
    (void)state;
    swerl_trap_exit(ctx, 1);
    CHECK_EQ_INT(swerl_monitor_nodes(ctx, 1), 0);
    AT_STORE(&probe_watching, 1);
    return 0;
}

static int probe_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    swerl_runtime *r = swerl_ctx_runtime(ctx);
    swerl_ref ref;
    (void)state;
    dist_post("probe", msg);
    /* The runtime's stop: a trapped SHUTDOWN from no process. */
    if (msg->kind == SWERL_EXIT && msg->from == 0 && msg->reason == SWERL_REASON_SHUTDOWN) return SWERL_STOP;
    if (msg->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    if (msg->len == 7 && memcmp(msg->data, "link me", 7) == 0) {
        CHECK_EQ_INT(swerl_link(ctx, msg->from), 0);
    } else if (msg->len == 10 && memcmp(msg->data, "monitor me", 10) == 0) {
        CHECK_EQ_INT(swerl_monitor(ctx, msg->from, &ref), 0);
    } else if (msg->len == 14 && memcmp(msg->data, "victim link me", 14) == 0) {
        swerl_send(r, victim, &msg->from, sizeof msg->from);  /* may be gone: supervision crashes it */
    } else if (msg->len == 12 && memcmp(msg->data, "crash victim", 12) == 0) {
        CHECK_EQ_INT(swerl_send(r, victim, "crash", 5), 0);
    } else if (msg->len == 11 && memcmp(msg->data, "kill victim", 11) == 0) {
        CHECK_EQ_INT(swerl_exit(r, victim, SWERL_REASON_KILL, NULL, 0), 0);
    } else if (msg->len == 7 && memcmp(msg->data, "exit me", 7) == 0) {
        CHECK_EQ_INT(swerl_exit(r, msg->from, SWERL_REASON_USER + 45, "from swerl", 10), 0);
    } else if (msg->len == 9 && memcmp(msg->data, "unlink me", 9) == 0) {
        CHECK_EQ_INT(swerl_unlink(ctx, msg->from), 0);
    } else if (msg->len == 14 && memcmp(msg->data, "monitor target", 14) == 0) {
        CHECK_EQ_INT(swerl_monitor_name(ctx, "target", erl_node, &ref), 0);
    }
    return SWERL_CONTINUE;
}

static int echo_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)state;
    dist_post("echo", msg);
    if (msg->kind == SWERL_MESSAGE) CHECK_EQ_INT(swerl_send(swerl_ctx_runtime(ctx), msg->from, msg->data, msg->len), 0);
    return SWERL_CONTINUE;
}

static int kv_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    swerl_runtime *r = swerl_ctx_runtime(ctx);
    (void)state;
    dist_post("kv", msg);
    if (msg->kind != SWERL_CALL) return SWERL_CONTINUE;
    if (msg->flags & SWERL_MESSAGE_TERM) {
        /* {get, key} -> {ok, key}, a term the Erlang caller matches */
        static const unsigned char ok_key[] = {131, 104, 2, 119, 2, 'o', 'k', 119, 3, 'k', 'e', 'y'};
        CHECK_EQ_INT(swerl_reply_term(r, msg->ref, ok_key, sizeof ok_key), 0);
    } else if (msg->len == 3 && memcmp(msg->data, "get", 3) == 0) {
        CHECK_EQ_INT(swerl_reply(r, msg->ref, "value:get", 9), 0);
    }
    return SWERL_CONTINUE;  /* "slow" is never answered */
}

static int victim_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)state;
    dist_post("victim", msg);
    if (msg->kind == SWERL_MESSAGE && msg->len == sizeof(swerl_pid)) {
        swerl_pid pid;
        memcpy(&pid, msg->data, sizeof pid);
        CHECK_EQ_INT(swerl_link(ctx, pid), 0);
    } else if (msg->kind == SWERL_MESSAGE && msg->len == 5 && memcmp(msg->data, "crash", 5) == 0) {
        swerl_fail(ctx, SWERL_REASON_ERROR, "bad", 3);
        return -1;
    }
    return SWERL_CONTINUE;
}

static swerl_pid spawn_named(const char *name, swerl_init_fn init, swerl_handle_fn handle)
{
    swerl_behavior b;
    swerl_spawn_opts o;
    swerl_pid pid = 0;
    memset(&b, 0, sizeof b);
    b.size = sizeof b;
    b.init = init;
    b.handle = handle;
    swerl_spawn_opts_init(&o);
    o.name = name;
    CHECK_EQ_INT(swerl_spawn(rt, &b, NULL, &o, &pid), 0);
    return pid;
}

/* The probe, watching nodes when this returns. */
static void spawn_probe(void)
{
    AT_STORE(&probe_watching, 0);
    spawn_named("probe", probe_init, probe_handle);
    CHECK_WAIT(AT_LOAD(&probe_watching));
}

/* A runtime as the node `name`@127.0.0.1, with its processes. */
static int start_node(const char *name, const char *cookie, uint32_t tick_ms)
{
    swerl_config cfg;
    swerl_node_opts o;
    int rc;
    dist_forget();  /* sections may run in one process (SWERL_TEST_NOFORK=1) */
    swerl_config_init(&cfg);
    cfg.schedulers = 2;
    cfg.on_log = dist_log_hook;
    if (!CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), 0)) return 0;
    swerl_node_opts_init(&o);
    o.cookie = cookie ? cookie : DIST_COOKIE;
    o.epmd_port = (uint32_t)world.epmd_port;
    o.listen_host = "127.0.0.1";
    o.tick_ms = tick_ms;
    snprintf(node_name, sizeof node_name, "%s@127.0.0.1", name);
    rc = swerl_node_start(rt, node_name, &o);
    if (!CHECK_EQ_INT(rc, 0)) {
        printf("   detail: %s\n", swerl_last_error_detail());
        return 0;
    }
    spawn_probe();
    spawn_named("echo", NULL, echo_handle);
    spawn_named("kv", NULL, kv_handle);
    victim = spawn_named("victim", NULL, victim_handle);
    return 1;
}

static void stop_node(void)
{
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

/* Asks the BEAM node `on` to run `scenario` (with `args`, may be "") against this node. */
static void run_scenario_on(const char *on, const char *scenario, const char *args)
{
    char command[512];
    snprintf(command, sizeof command, "%s %s%s%s", scenario, node_name, *args ? " " : "", args);
    CHECK_EQ_INT(swerl_send_remote(rt, "ctl", on, command, strlen(command)), 0);
}

static void run_scenario(const char *scenario, const char *args)
{
    run_scenario_on(erl_node, scenario, args);
}

/* "NAME ok" or "NAME fail: ...". */
static int is_verdict(const dist_event *e, const void *arg)
{
    size_t n = strlen((const char *)arg);
    return strncmp(e->data, (const char *)arg, n) == 0
           && (strcmp(e->data + n, " ok") == 0 || strncmp(e->data + n, " fail", 5) == 0);
}

/* Waits for the scenario's verdict: "NAME ok". */
static int verdict(const char *scenario)
{
    char ok[160];
    dist_event e;
    snprintf(ok, sizeof ok, "%s ok", scenario);
    if (!CHECK_MSG(dist_find(is_verdict, scenario, 30000, &e), "no verdict from the BEAM side for %s", scenario))
        return 0;
    return CHECK_MSG(strcmp(e.data, ok) == 0, "%s", e.data);
}

static int is_exit_from(const dist_event *e, const void *arg)
{
    return e->kind == SWERL_EXIT && e->from == *(const swerl_pid *)arg;
}

static int is_down_from(const dist_event *e, const void *arg)
{
    return e->kind == SWERL_DOWN && e->from == *(const swerl_pid *)arg;
}

static int is_term_for(const dist_event *e, const void *arg)
{
    return strcmp(e->who, (const char *)arg) == 0 && (e->flags & SWERL_MESSAGE_TERM);
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */
/* ------------------------------------------------------------------------ */

static int is_nodeup(const dist_event *e, const void *arg)
{
    (void)arg;
    return strcmp(e->who, "probe") == 0 && (e->flags & SWERL_MESSAGE_TERM) && memmem(e->data, e->len, "nodeup", 6);
}

static void test_ping(void)
{
    swerl_buffer nodes;
    char name[128];
    swerl_pid pid;
    if (!start_node("ping", NULL, 0)) return;
    CHECK(swerl_node_name(rt, name, sizeof name) == (int)strlen(node_name));
    CHECK_STR(name, node_name);
    CHECK_EQ_INT(swerl_whereis(rt, "probe", &pid), 0);
    CHECK_EQ_INT(swerl_pid_node(rt, pid, name, sizeof name), (int)strlen(node_name));
    CHECK_STR(name, node_name);
    run_scenario("ping", "");
    verdict("ping");
    /* The probe watches nodes (net_kernel:monitor_nodes): {nodeup, erl@...}. */
    CHECK(dist_find(is_nodeup, NULL, 1000, NULL));
    CHECK_EQ_INT(swerl_node_list(rt, &nodes), 0);
    CHECK(nodes.len == strlen(erl_node) + 1 && memcmp(nodes.data, erl_node, nodes.len) == 0);
    swerl_buffer_free(&nodes);
    stop_node();
}

static void test_messages(void)
{
    dist_event e;
    if (!start_node("messages", NULL, 0)) return;
    run_scenario("echo", "");
    verdict("echo");
    /* The binaries came as bytes, the tuple as a term. */
    CHECK(dist_find(is_term_for, "echo", 1000, &e));
    CHECK(e.len > 0 && (unsigned char)e.data[0] == 131);
    CHECK((e.from >> 63) == 1);  /* a remote pid */
    {
        char name[128];
        CHECK(swerl_pid_node(rt, e.from, name, sizeof name) > 0);
        CHECK_STR(name, erl_node);
    }
    stop_node();
}

static void test_calls_into_swerl(void)
{
    if (!start_node("calls", NULL, 0)) return;
    run_scenario("call", "");
    verdict("call");
    CHECK(dist_find(is_term_for, "kv", 1000, NULL));
    stop_node();
}

static void test_calls_to_erlang(void)
{
    dist_event e;
    swerl_buffer reply;
    if (!start_node("callout", NULL, 0)) return;
    run_scenario("serve", "");
    if (!CHECK(dist_find(dist_is_text, "server", 30000, &e))) return;
    CHECK_EQ_INT(swerl_call(rt, e.from, "x", 1, 5000, &reply), 0);
    CHECK_MEM(reply.data, reply.len, "pong:x", 6);
    swerl_buffer_free(&reply);
    {
        /* A shared binary to a remote pid travels as an Erlang binary. */
        enum { SIZE = 100000 };
        swerl_binary *b = NULL;
        void *data = NULL;
        char said[64];
        if (CHECK_EQ_INT(swerl_binary_new(SIZE, &b, &data), 0)) {
            for (size_t i = 0; i < SIZE; i += 2) memcpy((char *)data + i, "ab", 2);
            CHECK_EQ_INT(swerl_send_binary(rt, e.from, b), 0);
            swerl_binary_release(b);
            snprintf(said, sizeof said, "binary %d ok", SIZE);
            CHECK(dist_find(dist_is_text, said, 30000, NULL));
        }
    }
    CHECK_EQ_INT(swerl_call(rt, e.from, "slow", 4, 300, &reply), SWERL_ETIMEDOUT);
    CHECK_EQ_INT(swerl_call(rt, e.from, "die", 3, 5000, &reply), SWERL_EEXITED);
    CHECK_EQ_INT(swerl_call(rt, e.from, "x", 1, 5000, &reply), SWERL_ENOPROC);
    verdict("serve");
    stop_node();
}

static void linkexit(const char *reason_text, int32_t reason, const char *detail)
{
    dist_event e, x;
    run_scenario("linkexit", reason_text);
    if (!CHECK(dist_find(dist_is_text, "link me", 30000, &e))) return;
    if (!CHECK(dist_find(dist_is_text, "linked", 30000, NULL))) return;
    CHECK_EQ_INT(swerl_send(rt, e.from, "die", 3), 0);
    if (!CHECK(dist_find(is_exit_from, &e.from, 10000, &x))) return;
    CHECK_EQ_INT(x.reason, reason);
    CHECK_MEM(x.data, x.len, detail, strlen(detail));
    verdict("linkexit");
}

static void test_links_erlang_exits(void)
{
    if (!start_node("links", NULL, 0)) return;
    linkexit("user", SWERL_REASON_USER + 44, "x");
    stop_node();
    if (!start_node("links2", NULL, 0)) return;
    linkexit("boom", SWERL_REASON_ERROR, "boom");
    stop_node();
}

static void test_links_swerl_exits(void)
{
    if (!start_node("swerldies", NULL, 0)) return;
    run_scenario("swerldies", "");
    verdict("swerldies");
    stop_node();
}

static void test_monitors(void)
{
    dist_event e, d;
    if (!start_node("monitors", NULL, 0)) return;
    run_scenario("monitor", "");
    if (!CHECK(dist_find(dist_is_text, "monitor me", 30000, &e))) return;
    if (!CHECK(dist_find(dist_is_text, "monitored", 30000, NULL))) return;
    CHECK_EQ_INT(swerl_send(rt, e.from, "die", 3), 0);
    if (CHECK(dist_find(is_down_from, &e.from, 10000, &d))) CHECK_EQ_INT(d.reason, SWERL_REASON_NORMAL);
    verdict("monitor");
    stop_node();
}

static void test_noconnection(void)
{
    dist_event e, x, d;
    if (!start_node("noconn", NULL, 0)) return;
    run_scenario("disconnect", "");
    if (!CHECK(dist_find(dist_is_text, "link me", 30000, &e))) return;
    if (CHECK(dist_find(is_exit_from, &e.from, 10000, &x))) CHECK_EQ_INT(x.reason, SWERL_REASON_NOCONNECTION);
    if (CHECK(dist_find(is_down_from, &e.from, 10000, &d))) CHECK_EQ_INT(d.reason, SWERL_REASON_NOCONNECTION);
    verdict("disconnect");
    /* Once each, even after the connection is made again (the verdict came
       over a new one). */
    CHECK_EQ_INT(dist_how_many(is_exit_from, &e.from), 1);
    CHECK_EQ_INT(dist_how_many(is_down_from, &e.from), 1);
    stop_node();
}

static void test_wrong_cookie(void)
{
    int rc;
    if (!start_node("cookie", NULL, 0)) return;
    run_scenario("badcookie", "");
    verdict("badcookie");
    CHECK(dist_find(dist_log_has, "cookie", 1000, NULL));
    stop_node();
    /* This side with the wrong cookie: the connection is refused. */
    if (!start_node("cookie2", "wrong_cookie", 0)) return;
    rc = swerl_node_connect(rt, erl_node, 10000);
    CHECK_EQ_INT(rc, SWERL_ENET);
    CHECK(dist_find(dist_log_has, "cookie", 5000, NULL));
    stop_node();
}

static void test_bad_peers(void)
{
    char port[16];
    swerl_buffer nodes;
    if (!start_node("fake", NULL, 0)) return;
    /* The node's listen port: from EPMD, as the BEAM side would find it. */
    CHECK_EQ_INT(swerl_node_connect(rt, erl_node, 10000), 0);
    {
        /* The port the node listens on: ask EPMD with `epmd -names`. */
        char cmd[256], line[256];
        FILE *p;
        int found = 0;
        snprintf(cmd, sizeof cmd, "ERL_EPMD_PORT=%d epmd -names", world.epmd_port);
        p = popen(cmd, "r");
        while (p && fgets(line, sizeof line, p)) {
            int n = 0;
            if (sscanf(line, "name fake at port %d", &n) == 1) {
                snprintf(port, sizeof port, "%d", n);
                found = 1;
            }
        }
        if (p) pclose(p);
        if (!CHECK(found)) return;
    }
    run_scenario("fake", port);
    verdict("fake");
    CHECK(dist_find(dist_log_has, "does not know this node's cookie", 1000, NULL));
    CHECK(dist_find(dist_log_has, "malformed frame", 1000, NULL));
    /* The real peer's connection stayed up through all of it. */
    CHECK_EQ_INT(swerl_node_list(rt, &nodes), 0);
    CHECK(nodes.len > 0 && memmem(nodes.data, nodes.len, erl_node, strlen(erl_node)) != NULL);
    swerl_buffer_free(&nodes);
    stop_node();
}

static void test_bad_input(void)
{
    swerl_node_opts o;
    char buf[8];
    swerl_runtime *other;
    swerl_config cfg;
    swerl_config_init(&cfg);
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &other), 0);
    swerl_node_opts_init(&o);
    o.epmd_port = (uint32_t)world.epmd_port;
    o.cookie = DIST_COOKIE;
    CHECK_EQ_INT(swerl_node_start(NULL, "a@127.0.0.1", &o), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_node_start(other, NULL, &o), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_node_start(other, "a@", &o), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_node_start(other, "@host", &o), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_node_start(other, "a b@host", &o), SWERL_EINVAL);
    o.cookie = "has space";
    CHECK_EQ_INT(swerl_node_start(other, "a@127.0.0.1", &o), SWERL_EINVAL);
    o.cookie = DIST_COOKIE;
    o.flags = 0x80000000u;
    CHECK_EQ_INT(swerl_node_start(other, "a@127.0.0.1", &o), SWERL_EINVAL);
    o.flags = 0;
    CHECK_EQ_INT(swerl_node_name(other, buf, sizeof buf), SWERL_EINVAL);  /* not a node */
    CHECK_EQ_INT(swerl_node_connect(other, erl_node, 100), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send_remote(other, "ctl", erl_node, "x", 1), SWERL_EINVAL);
    /* No EPMD on this port: a clear error, nothing left behind. */
    o.epmd_port = (uint32_t)dist_free_port();
    CHECK_EQ_INT(swerl_node_start(other, "a@127.0.0.1", &o), SWERL_ENET);
    CHECK(strstr(swerl_last_error_detail(), "EPMD") != NULL);
    o.epmd_port = (uint32_t)world.epmd_port;
    CHECK_EQ_INT(swerl_node_start(other, "dup@127.0.0.1", &o), 0);
    CHECK_EQ_INT(swerl_node_start(other, "dup2@127.0.0.1", &o), SWERL_EINVAL);  /* a node already */
    CHECK_EQ_INT(swerl_send_remote(other, "ctl", "not a node", "x", 1), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send_remote(other, NULL, erl_node, "x", 1), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send_remote_term(other, "ctl", erl_node, "\x83\x68", 2), SWERL_EINVAL);  /* malformed */
    {
        /* The same name twice on one host: EPMD refuses it. */
        swerl_runtime *third;
        CHECK_EQ_INT(swerl_runtime_start(&cfg, &third), 0);
        CHECK_EQ_INT(swerl_node_start(third, "dup@127.0.0.1", &o), SWERL_ENAMETAKEN);
        swerl_runtime_free(third);
    }
    swerl_runtime_free(other);
}

static int is_down_named(const dist_event *e, const void *arg)
{
    (void)arg;
    return e->kind == SWERL_DOWN && e->from == 0;
}

static void test_signals_from_swerl(void)
{
    dist_event e, d;
    if (!start_node("signals", NULL, 0)) return;
    run_scenario("signals", "");
    verdict("signals");
    /* The monitor by name saw `target` go (it was the scenario's process). */
    if (CHECK(dist_find(is_down_named, NULL, 10000, &d))) CHECK_EQ_INT(d.reason, SWERL_REASON_NORMAL);
    /* Unlinked before it exited: no exit signal from it. */
    if (CHECK(dist_find(dist_is_text, "exit me", 1000, &e))) CHECK_EQ_INT(dist_how_many(is_exit_from, &e.from), 0);
    stop_node();
}

/* A frame over the node's max_frame closes that connection, with words. */
static void test_oversized_frame(void)
{
    swerl_config cfg;
    swerl_node_opts o;
    dist_forget();
    swerl_config_init(&cfg);
    cfg.schedulers = 2;
    cfg.on_log = dist_log_hook;
    if (!CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), 0)) return;
    swerl_node_opts_init(&o);
    o.cookie = DIST_COOKIE;
    o.epmd_port = (uint32_t)world.epmd_port;
    o.listen_host = "127.0.0.1";
    o.max_frame = 16384;
    snprintf(node_name, sizeof node_name, "oversized@127.0.0.1");
    if (!CHECK_EQ_INT(swerl_node_start(rt, node_name, &o), 0)) return;
    spawn_probe();
    spawn_named("echo", NULL, echo_handle);
    run_scenario("oversized", "");
    verdict("oversized");
    CHECK(dist_find(dist_log_has, "max_frame", 1000, NULL));
    stop_node();
}

/* A flood into a slow process under a low memory ceiling: everything
   arrives, in order, and the ceiling holds (the connection stops reading). */
static int flood_got = 0, flood_in_order = 1;

static int slow_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    struct timespec pause = {0, 500000};
    (void)ctx;
    (void)state;
    if (msg->kind != SWERL_MESSAGE || msg->len != 10240) return SWERL_CONTINUE;
    {
        const unsigned char *d = (const unsigned char *)msg->data;
        int n = (d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3];
        if (n != AT_LOAD(&flood_got) + 1) AT_STORE(&flood_in_order, 0);
        AT_ADD(&flood_got, 1);
    }
    nanosleep(&pause, NULL);  /* a blocking process: its callbacks may sleep */
    return SWERL_CONTINUE;
}

static void test_flood_under_the_ceiling(void)
{
    swerl_behavior b;
    swerl_spawn_opts so;
    swerl_pid pid;
    swerl_stats st;
    if (!start_node("flood", NULL, 0)) return;
    AT_STORE(&flood_got, 0);
    AT_STORE(&flood_in_order, 1);
    CHECK_EQ_INT(swerl_runtime_set_max_memory(rt, 4u << 20), 0);
    memset(&b, 0, sizeof b);
    b.size = sizeof b;
    b.handle = slow_handle;
    swerl_spawn_opts_init(&so);
    so.name = "slow";
    so.flags = SWERL_SPAWN_BLOCKING;
    CHECK_EQ_INT(swerl_spawn(rt, &b, NULL, &so, &pid), 0);
    run_scenario("flood", "");
    verdict("flood");
    CHECK_WAIT_MS_(AT_LOAD(&flood_got) == 2000, 60000);
    CHECK_EQ_INT(AT_LOAD(&flood_got), 2000);
    CHECK(AT_LOAD(&flood_in_order));
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(rt, &st), 0);
    CHECK(st.messages_rejected > 0);  /* the ceiling was reached: reading stopped */
    stop_node();
}

static int call_done_code = 1;

static void call_done(void *user, int code, const void *data, size_t len)
{
    (void)user;
    (void)data;
    (void)len;
    AT_STORE(&call_done_code, code);
}

/* The BEAM node at the other end dies (SIGKILL) or stops answering
   (SIGSTOP: no ticks): links and monitors over it get noconnection. */
static void lose_node(const char *name, const char *beam_name, int sig, uint32_t tick_ms)
{
    char other[64];
    dist_event e, x, d;
    pid_t beam;
    if (!start_node(name, NULL, tick_ms)) return;
    beam = dist_erl_start(&world, beam_name, NULL, tick_ms ? (tick_ms + 999) / 1000 : 0);
    if (beam <= 0) return;
    snprintf(other, sizeof other, "%s@127.0.0.1", beam_name);
    run_scenario_on(other, "hold", "");
    if (CHECK(dist_find(dist_is_text, "held", 30000, NULL)) && CHECK(dist_find(dist_is_text, "link me", 1000, &e))) {
        /* A call waiting on a process of that node ends too (EEXITED). */
        swerl_ref call;
        AT_STORE(&call_done_code, 1);
        CHECK_EQ_INT(swerl_call_notify(rt, e.from, "never answered", 14, 60000, call_done, NULL, &call), 0);
        kill(beam, sig);
        if (CHECK(dist_find(is_exit_from, &e.from, 20000, &x))) CHECK_EQ_INT(x.reason, SWERL_REASON_NOCONNECTION);

        CHECK_WAIT(AT_LOAD(&call_done_code) != 1);
        CHECK_EQ_INT(AT_LOAD(&call_done_code), SWERL_EEXITED);
        if (CHECK(dist_find(is_down_from, &e.from, 20000, &d))) CHECK_EQ_INT(d.reason, SWERL_REASON_NOCONNECTION);
    }
    dist_kill(beam);
    stop_node();
}

static void test_kill_beam_node(void)
{
    lose_node("killed", "killed_beam", SIGKILL, 0);
}

static void test_ticks(void)
{
    lose_node("ticks", "stopped_beam", SIGSTOP, 1000);
    CHECK(dist_find(dist_log_has, "net_ticktime", 1000, NULL));
}

/* A Swerl supervisor's worker linked to a BEAM process: restarted when
   that process dies. */
static int sworker_init(swerl_ctx *ctx, void *arg, void **state)
{
    char command[256];
    (void)arg;
    (void)state;
    CHECK_EQ_INT(swerl_register(swerl_ctx_runtime(ctx), "sworker", swerl_self(ctx)), 0);
    snprintf(command, sizeof command, "victimfor %s", node_name);
    CHECK_EQ_INT(swerl_send_remote(swerl_ctx_runtime(ctx), "ctl", erl_node, command, strlen(command)), 0);
    return 0;
}

static int sworker_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)state;
    if (msg->kind == SWERL_MESSAGE && msg->len == 7 && memcmp(msg->data, "link me", 7) == 0)
        CHECK_EQ_INT(swerl_link(ctx, msg->from), 0);
    return SWERL_CONTINUE;
}

static int is_vheld(const dist_event *e, const void *arg)
{
    return dist_is_text(e, "vheld") && (arg == NULL || e->from != *(const swerl_pid *)arg);
}

static void test_supervision(void)
{
    swerl_behavior b;
    swerl_child_spec child;
    swerl_supervisor_spec spec;
    swerl_pid sup, first = 0, second = 0;
    dist_event e, f;
    if (!start_node("supervision", NULL, 0)) return;
    /* A BEAM supervisor's worker linked to `victim`, which crashes. */
    run_scenario("supervise", "");
    verdict("supervise");
    /* A Swerl supervisor's worker linked to a BEAM process, which dies. */
    memset(&b, 0, sizeof b);
    b.size = sizeof b;
    b.init = sworker_init;
    b.handle = sworker_handle;
    swerl_child_spec_init(&child);
    child.id = "sworker";
    child.behavior = &b;
    swerl_supervisor_spec_init(&spec);
    spec.intensity = 5;
    spec.period_ms = 10000;
    spec.children = &child;
    spec.n_children = 1;
    if (!CHECK_EQ_INT(swerl_supervisor_start(rt, &spec, NULL, &sup), 0)) return;
    CHECK_EQ_INT(swerl_whereis(rt, "sworker", &first), 0);
    if (CHECK(dist_find(is_vheld, NULL, 30000, &e))) {
        CHECK_EQ_INT(swerl_send(rt, e.from, "die", 3), 0);
        if (CHECK(dist_find(is_vheld, &e.from, 30000, &f))) {
            CHECK_EQ_INT(swerl_whereis(rt, "sworker", &second), 0);
            CHECK(second != 0 && second != first);
        }
    }
    stop_node();
}

/* Elixir: Node.connect, GenServer.call into a Swerl process, a message back. */
static void test_elixir(void)
{
    char script[1024], log[256], cookie_arg[64];
    char *argv[12];
    int n = 0, status = -1;
    pid_t ex;
    double deadline;
    if (!start_node("elixir_target", NULL, 0)) return;
    snprintf(script, sizeof script,
             "node = :\"%s\"\n"
             "true = Node.connect(node)\n"
             "\"value:get\" = GenServer.call({:kv, node}, \"get\")\n"
             "send({:echo, node}, {:hello, self()})\n"
             "receive do\n"
             "  b when is_binary(b) -> {:hello, _} = :erlang.binary_to_term(b)\n"
             "after 10_000 -> raise \"no echo\"\n"
             "end\n"
             "IO.puts(\"elixir ok\")\n", node_name);
    snprintf(log, sizeof log, "%s/elixir.log", world.dir);
    snprintf(cookie_arg, sizeof cookie_arg, "%s", DIST_COOKIE);
    argv[n++] = (char *)"elixir";
    argv[n++] = (char *)"--name";
    argv[n++] = (char *)"ex@127.0.0.1";
    argv[n++] = (char *)"--cookie";
    argv[n++] = cookie_arg;
    argv[n++] = (char *)"--erl";
    argv[n++] = (char *)"-kernel inet_dist_use_interface {127,0,0,1}";
    argv[n++] = (char *)"-e";
    argv[n++] = script;
    argv[n] = NULL;
    ex = dist_spawn(argv, world.epmd_port, log);
    deadline = check_now_ms() + 60000;
    while (check_now_ms() < deadline && waitpid(ex, &status, WNOHANG) == 0) check_sleep_ms(20);
    if (!CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0 && dist_file_has(log, "elixir ok"),
                   "the Elixir script failed")) {
        dist_print_file(log);
        dist_kill(ex);
    }
    stop_node();
}

/* Two Swerl nodes send to each other at the same moment: one connection
   each way settles it (ok_simultaneous / nok), and both messages arrive. */
static int sink_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx;
    (void)state;
    dist_post("sink", msg);
    return SWERL_CONTINUE;
}

typedef struct racer {
    swerl_runtime *rt;
    const char *to;
    const char *text;
    pthread_barrier_t *start;
} racer;

static void *race(void *arg)
{
    racer *r = (racer *)arg;
    pthread_barrier_wait(r->start);
    CHECK_EQ_INT(swerl_send_remote(r->rt, "sink", r->to, r->text, strlen(r->text)), 0);
    return NULL;
}

static void test_simultaneous(void)
{
    int round;
    dist_forget();
    for (round = 0; round < 3; round++) {
        swerl_runtime *a, *b;
        swerl_config cfg;
        swerl_node_opts o;
        swerl_behavior sink;
        swerl_spawn_opts so;
        swerl_pid pid;
        char na[64], nb[64], ta[80], tb[80];
        pthread_barrier_t start;
        pthread_t ta_thread, tb_thread;
        racer ra, rb;
        swerl_buffer list;
        swerl_config_init(&cfg);
        cfg.on_log = dist_log_hook;
        swerl_node_opts_init(&o);
        o.cookie = DIST_COOKIE;
        o.epmd_port = (uint32_t)world.epmd_port;
        o.listen_host = "127.0.0.1";
        snprintf(na, sizeof na, "race_a%d@127.0.0.1", round);
        snprintf(nb, sizeof nb, "race_b%d@127.0.0.1", round);
        CHECK_EQ_INT(swerl_runtime_start(&cfg, &a), 0);
        CHECK_EQ_INT(swerl_runtime_start(&cfg, &b), 0);
        CHECK_EQ_INT(swerl_node_start(a, na, &o), 0);
        CHECK_EQ_INT(swerl_node_start(b, nb, &o), 0);
        memset(&sink, 0, sizeof sink);
        sink.size = sizeof sink;
        sink.handle = sink_handle;
        swerl_spawn_opts_init(&so);
        so.name = "sink";
        CHECK_EQ_INT(swerl_spawn(a, &sink, NULL, &so, &pid), 0);
        CHECK_EQ_INT(swerl_spawn(b, &sink, NULL, &so, &pid), 0);
        snprintf(ta, sizeof ta, "to %s", nb);
        snprintf(tb, sizeof tb, "to %s", na);
        pthread_barrier_init(&start, NULL, 2);
        ra.rt = a; ra.to = nb; ra.text = ta; ra.start = &start;
        rb.rt = b; rb.to = na; rb.text = tb; rb.start = &start;
        pthread_create(&ta_thread, NULL, race, &ra);
        pthread_create(&tb_thread, NULL, race, &rb);
        pthread_join(ta_thread, NULL);
        pthread_join(tb_thread, NULL);
        pthread_barrier_destroy(&start);
        CHECK(dist_find(dist_is_text, ta, 20000, NULL));
        CHECK(dist_find(dist_is_text, tb, 20000, NULL));
        CHECK_EQ_INT(swerl_node_list(a, &list), 0);
        CHECK(list.len == strlen(nb) + 1);
        swerl_buffer_free(&list);
        CHECK_EQ_INT(swerl_node_list(b, &list), 0);
        if (!CHECK(list.len == strlen(na) + 1)) {
            size_t k;
            printf("   b's nodes (%zu bytes):", list.len);
            for (k = 0; k < list.len; k++) putchar(((char *)list.data)[k] ? ((char *)list.data)[k] : ' ');
            putchar('\n');
            for (k = 0; k < (size_t)dist_count; k++)
                if (strcmp(dist_events[k].who, "log") == 0) printf("   log: %s\n", dist_events[k].data);
        }
        swerl_buffer_free(&list);
        swerl_runtime_free(a);
        swerl_runtime_free(b);
    }
}

/* No cookie given: ~/.erlang.cookie, made as erl makes it (20 capital
   letters, the owner's only) and read back; no EPMD port given:
   ERL_EPMD_PORT, as erl does. */
static void test_home_cookie(void)
{
    char home[64], path[128], cookie[64], port[16];
    struct stat st;
    FILE *f;
    size_t n, i;
    swerl_config cfg;
    swerl_runtime *first, *second;
    swerl_node_opts o;
    const char *old_home = getenv("HOME");
    char saved_home[256];
    snprintf(saved_home, sizeof saved_home, "%s", old_home ? old_home : "");
    snprintf(home, sizeof home, "/tmp/swerl-home-XXXXXX");
    if (!CHECK(mkdtemp(home) != NULL)) return;
    setenv("HOME", home, 1);
    snprintf(port, sizeof port, "%d", world.epmd_port);
    setenv("ERL_EPMD_PORT", port, 1);
    swerl_config_init(&cfg);
    swerl_node_opts_init(&o);
    o.listen_host = "127.0.0.1";
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &first), 0);
    CHECK_EQ_INT(swerl_node_start(first, "cookie_a@127.0.0.1", &o), 0);
    snprintf(path, sizeof path, "%s/.erlang.cookie", home);
    if (CHECK_EQ_INT(stat(path, &st), 0)) CHECK_EQ_INT((int)(st.st_mode & 0777), 0400);
    f = fopen(path, "r");
    if (CHECK(f != NULL)) {
        n = fread(cookie, 1, sizeof cookie - 1, f);
        fclose(f);
        CHECK_EQ_INT((int)n, 20);
        for (i = 0; i < n; i++) CHECK(cookie[i] >= 'A' && cookie[i] <= 'Z');
    }
    /* A second node finds the same cookie: they connect. */
    CHECK_EQ_INT(swerl_runtime_start(&cfg, &second), 0);
    CHECK_EQ_INT(swerl_node_start(second, "cookie_b@127.0.0.1", &o), 0);
    CHECK_EQ_INT(swerl_node_connect(second, "cookie_a@127.0.0.1", 10000), 0);
    swerl_runtime_free(second);
    swerl_runtime_free(first);
    unlink(path);
    rmdir(home);
    /* Sections may share this process (SWERL_TEST_NOFORK=1). */
    if (old_home) setenv("HOME", saved_home, 1); else unsetenv("HOME");
    unsetenv("ERL_EPMD_PORT");
}

int main(int argc, char **argv)
{
    pid_t erl;
    check_begin(argc, argv);
    if (!dist_world_start(&world)) return check_summary();
    erl = dist_erl_start(&world, "erl", NULL, 0);
    if (erl > 0) {
        check_section("bad input", test_bad_input, 60);
        check_section("ping, node name, node list", test_ping, 90);
        check_section("messages both ways, in order; terms marked", test_messages, 90);
        check_section("gen_server calls into Swerl", test_calls_into_swerl, 90);
        check_section("swerl_call to an Erlang server", test_calls_to_erlang, 90);
        check_section("links: the Erlang side exits", test_links_erlang_exits, 90);
        check_section("links: the Swerl side exits", test_links_swerl_exits, 90);
        check_section("monitors both ways, by name too", test_monitors, 90);
        check_section("noconnection, once", test_noconnection, 90);
        check_section("a wrong cookie, both ways", test_wrong_cookie, 90);
        check_section("bad peers: digests, cut frames, garbage", test_bad_peers, 90);
        check_section("a frame over max_frame closes that connection", test_oversized_frame, 90);
        check_section("a flood under the memory ceiling: all of it, in order", test_flood_under_the_ceiling, 120);
        check_section("exit/2, unlink, monitor by name from Swerl", test_signals_from_swerl, 90);
        check_section("the BEAM node is killed", test_kill_beam_node, 120);
        check_section("the BEAM node stops ticking", test_ticks, 120);
        check_section("supervision across the wire, both ways", test_supervision, 120);
        check_section("Elixir: connect, GenServer.call, a message back", test_elixir, 120);
        check_section("two Swerl nodes connect at once", test_simultaneous, 120);
        check_section("the cookie from ~/.erlang.cookie, EPMD from ERL_EPMD_PORT", test_home_cookie, 60);
        dist_kill(erl);
    }
    dist_world_stop(&world);
    return check_summary();
}
