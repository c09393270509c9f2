/*
 * test_diagnostics.c — what a user is told when something goes wrong
 * (issue 11, parts 5-7): the words behind an error code, crash reports of
 * processes outside supervisors, pids used with another runtime, printing
 * a pid.
 *
 * Functions covered: swerl_last_error_detail, swerl_pid_format, crash
 * reports through on_log, ENOPROC for another runtime's pid.
 */
#include "check.h"

/* The detail after a call that failed, checked to contain `words`. */
#define CHECK_DETAIL(call, code, words)                                                     \
    do {                                                                                    \
        CHECK_EQ_INT((call), (code));                                                       \
        CHECK_MSG(strstr(swerl_last_error_detail(), (words)) != NULL,                       \
                  "%s: the detail \"%s\" does not say \"%s\"", #call, swerl_last_error_detail(), (words)); \
    } while (0)

static int h_nothing(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx; (void)msg; (void)state;
    return SWERL_CONTINUE;
}
static const swerl_behavior b_nothing = { sizeof(swerl_behavior), NULL, h_nothing, NULL };

/* ------------------------------------------------------------------------ */
/* Everyday mistakes: each says what was wrong                               */
/* ------------------------------------------------------------------------ */

static void t_error_details(void)
{
    swerl_runtime *rt = check_start_rt(1, 64);
    swerl_behavior no_size = { 0, NULL, h_nothing, NULL };
    swerl_behavior no_handle = { sizeof(swerl_behavior), NULL, NULL, NULL };
    swerl_spawn_opts raw_opts;
    swerl_pid pid = 0;
    swerl_buffer buf;
    char name[SWERL_NAME_MAX + 2];
    char big[65];
    if (!CHECK(rt != NULL)) return;
    CHECK_STR(swerl_last_error_detail() == NULL ? "(null)" : "ok", "ok");   /* never NULL */
    CHECK_DETAIL(swerl_spawn(rt, &no_size, NULL, NULL, &pid), SWERL_EINVAL, "b->size is 0");
    CHECK_DETAIL(swerl_spawn(rt, &no_handle, NULL, NULL, &pid), SWERL_EINVAL, "b->handle is NULL");
    CHECK_DETAIL(swerl_spawn(NULL, &b_nothing, NULL, NULL, &pid), SWERL_EINVAL, "rt is NULL");
    CHECK_DETAIL(swerl_spawn(rt, &b_nothing, NULL, NULL, NULL), SWERL_EINVAL, "out is NULL");
    memset(&raw_opts, 0, sizeof raw_opts);                       /* not initialised */
    CHECK_DETAIL(swerl_spawn(rt, &b_nothing, NULL, &raw_opts, &pid), SWERL_EINVAL, "swerl_spawn_opts_init");
    swerl_spawn_opts_init(&raw_opts);
    raw_opts.flags = SWERL_SPAWN_LINK;                           /* from outside any process */
    CHECK_DETAIL(swerl_spawn(rt, &b_nothing, NULL, &raw_opts, &pid), SWERL_EINVAL, "inside a process callback");
    memset(name, 'n', sizeof name);
    name[SWERL_NAME_MAX + 1] = 0;                                /* 256 bytes */
    swerl_spawn_opts_init(&raw_opts);
    raw_opts.name = name;
    CHECK_DETAIL(swerl_spawn(rt, &b_nothing, NULL, &raw_opts, &pid), SWERL_EINVAL, "longer than SWERL_NAME_MAX");
    CHECK_DETAIL(swerl_register(rt, "", 1), SWERL_EINVAL, "empty");
    CHECK_DETAIL(swerl_whereis(rt, "x", NULL), SWERL_EINVAL, "out is NULL");
    CHECK_DETAIL(swerl_send(rt, 1, NULL, 3), SWERL_EINVAL, "data is NULL");
    CHECK_DETAIL(swerl_link(NULL, 1), SWERL_ECTX, "valid only inside the callback");
    memset(big, 'b', sizeof big);
    CHECK_EQ_INT(swerl_spawn(rt, &b_nothing, NULL, NULL, &pid), 0);
    CHECK_DETAIL(swerl_send(rt, pid, big, sizeof big), SWERL_ETOOBIG, "max_message_size (64 bytes)");
    buf.data = NULL;
    buf.len = 0;
    CHECK_DETAIL(swerl_call(rt, pid, big, sizeof big, 100, &buf), SWERL_ETOOBIG, "raise it");
    {
        swerl_supervisor_spec raw_spec;
        swerl_child_spec kids[2];
        swerl_pid sup = 0;
        memset(&raw_spec, 0, sizeof raw_spec);
        CHECK_DETAIL(swerl_supervisor_start(rt, &raw_spec, NULL, &sup), SWERL_EINVAL, "swerl_supervisor_spec_init");
        swerl_child_spec_init(&kids[0]);
        swerl_child_spec_init(&kids[1]);
        kids[0].id = kids[1].id = "twin";
        kids[0].behavior = kids[1].behavior = &b_nothing;
        raw_spec = check_sup_spec(SWERL_ONE_FOR_ONE, 1, 5000, kids, 2);
        CHECK_DETAIL(swerl_supervisor_start(rt, &raw_spec, NULL, &sup), SWERL_EDUPLICATE, "'twin'");
    }
    /* A failure with nothing to add shows "", never an older failure's words. */
    CHECK_EQ_INT(swerl_exit(rt, pid, SWERL_REASON_KILL, NULL, 0), 0);
    CHECK_WAIT(check_alive(rt, pid) == 0);
    CHECK_EQ_INT(swerl_send(rt, pid, "x", 1), SWERL_ENOPROC);
    CHECK_STR(swerl_last_error_detail(), "");
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

/* ------------------------------------------------------------------------ */
/* Pids of another runtime                                                   */
/* ------------------------------------------------------------------------ */

static int g_got;
static int h_count(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx; (void)msg;
    AT_ADD((int *)state, 1);
    return SWERL_CONTINUE;
}
static const swerl_behavior b_count = { sizeof(swerl_behavior), NULL, h_count, NULL };

static void t_foreign_pids(void)
{
    swerl_runtime *a = check_start_rt(1, 0), *b = check_start_rt(1, 0);
    static int got_a, got_b;
    swerl_pid pa = 0, pb = 0;
    swerl_process_info info;
    char ta[SWERL_PID_FORMAT_MAX], tb[SWERL_PID_FORMAT_MAX];
    if (!CHECK(a != NULL && b != NULL)) return;
    CHECK_EQ_INT(swerl_spawn(a, &b_count, &got_a, NULL, &pa), 0);
    CHECK_EQ_INT(swerl_spawn(b, &b_count, &got_b, NULL, &pb), 0);
    /* The first process of each: the same slot and generation, so they
       print alike, yet they are different pids. */
    swerl_pid_format(pa, ta, sizeof ta);
    swerl_pid_format(pb, tb, sizeof tb);
    CHECK_STR(ta, tb);
    CHECK(pa != pb);
    CHECK_DETAIL(swerl_send(b, pa, "x", 1), SWERL_ENOPROC, "belongs to another runtime");
    info.size = sizeof info;
    CHECK_EQ_INT(swerl_process_get_info(b, pa, &info), SWERL_ENOPROC);
    CHECK_DETAIL(swerl_exit(b, pa, SWERL_REASON_KILL, NULL, 0), SWERL_ENOPROC, "another runtime");
    CHECK_EQ_INT(swerl_send(a, pa, "x", 1), 0);
    CHECK_EQ_INT(swerl_send(b, pb, "y", 1), 0);
    CHECK_WAIT(AT_LOAD(&got_a) == 1 && AT_LOAD(&got_b) == 1);
    CHECK_EQ_INT(AT_LOAD(&got_b), 1);                           /* a's pid never reached b's process */
    CHECK_EQ_INT(swerl_process_get_info(b, pb, &info), 0);
    swerl_runtime_free(a);
    swerl_runtime_free(b);
    (void)g_got;
}

static void t_pid_format(void)
{
    char buf[SWERL_PID_FORMAT_MAX], tiny[4];
    swerl_runtime *rt = check_start_rt(1, 0);
    swerl_pid pid = 0;
    int n;
    if (!CHECK(rt != NULL)) return;
    CHECK_EQ_INT(swerl_spawn(rt, &b_nothing, NULL, NULL, &pid), 0);
    n = swerl_pid_format(pid, buf, sizeof buf);
    CHECK_STR(buf, "<0.0.1>");                                  /* Erlang's way: node 0, slot 0, generation 1 */
    CHECK_EQ_INT(n, 7);
    n = swerl_pid_format(pid, tiny, sizeof tiny);               /* truncated, NUL-terminated, length told */
    CHECK_EQ_INT(n, 7);
    CHECK_STR(tiny, "<0.");
    CHECK_EQ_INT(swerl_pid_format(pid, NULL, 0), 7);
    CHECK_EQ_INT(swerl_pid_format(pid, NULL, 8), SWERL_EINVAL);
    swerl_runtime_free(rt);
}

/* ------------------------------------------------------------------------ */
/* Crash reports                                                             */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_crash_lines, g_left_out_lines, g_last_left_out;
static char g_first_crash[512];

static void on_log(void *user, int level, const char *message, size_t len)
{
    (void)user;
    pthread_mutex_lock(&g_log_mu);
    if (len > 13 && strncmp(message, "crash report:", 13) == 0) {
        if (strstr(message, "more crash reports were left out")) {
            g_left_out_lines++;
            g_last_left_out = atoi(message + 14);
        } else {
            if (g_crash_lines == 0) {
                snprintf(g_first_crash, sizeof g_first_crash, "%.*s", (int)len, message);
                CHECK_EQ_INT(level, SWERL_LOG_ERROR);
            }
            g_crash_lines++;
        }
    }
    pthread_mutex_unlock(&g_log_mu);
}

static int locked_int(int *p)
{
    int v;
    pthread_mutex_lock(&g_log_mu);
    v = *p;
    pthread_mutex_unlock(&g_log_mu);
    return v;
}

static int h_crash(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)state;
    if (msg->len == 4 && memcmp(msg->data, "stop", 4) == 0) return SWERL_STOP;  /* a normal exit */
    swerl_fail(ctx, SWERL_REASON_ERROR, "boom", 4);
    return -1;
}
static int init_fails(swerl_ctx *ctx, void *arg, void **state)
{
    (void)arg; (void)state;
    swerl_fail(ctx, SWERL_REASON_USER + 1, "bad init", 8);
    return -1;
}
static const swerl_behavior b_crash = { sizeof(swerl_behavior), NULL, h_crash, NULL };
static const swerl_behavior b_init_fails = { sizeof(swerl_behavior), init_fails, h_nothing, NULL };

/* A runtime with the log hook; the counts start afresh (sections share
   them when they run in one process, SWERL_TEST_NOFORK=1). */
static swerl_runtime *start_logged(void)
{
    swerl_config cfg;
    swerl_runtime *rt = NULL;
    pthread_mutex_lock(&g_log_mu);
    g_crash_lines = g_left_out_lines = g_last_left_out = 0;
    g_first_crash[0] = 0;
    pthread_mutex_unlock(&g_log_mu);
    swerl_config_init(&cfg);
    cfg.schedulers = 2;
    cfg.on_log = on_log;
    if (swerl_runtime_start(&cfg, &rt) != 0) return NULL;
    return rt;
}

static void t_crash_reports(void)
{
    swerl_runtime *rt = start_logged();
    swerl_spawn_opts opts;
    swerl_pid pid = 0, sup = 0, child;
    swerl_child_spec spec;
    swerl_supervisor_spec sspec;
    char text[SWERL_PID_FORMAT_MAX];
    if (!CHECK(rt != NULL)) return;
    swerl_spawn_opts_init(&opts);
    opts.name = "doomed";
    CHECK_EQ_INT(swerl_spawn(rt, &b_crash, NULL, &opts, &pid), 0);
    CHECK_EQ_INT(swerl_send(rt, pid, "x", 1), 0);
    CHECK_WAIT(locked_int(&g_crash_lines) == 1);
    swerl_pid_format(pid, text, sizeof text);
    pthread_mutex_lock(&g_log_mu);
    CHECK_MSG(strstr(g_first_crash, text) && strstr(g_first_crash, "'doomed'") && strstr(g_first_crash, "ERROR")
              && strstr(g_first_crash, "boom"), "the report names the process, its reason and detail: %s",
              g_first_crash);
    pthread_mutex_unlock(&g_log_mu);
    /* A failed init is a crash too (Erlang's spawn returns, then logs). */
    CHECK_EQ_INT(swerl_spawn(rt, &b_init_fails, NULL, NULL, &pid), 0);
    CHECK_WAIT(locked_int(&g_crash_lines) == 2);
    /* Not reported: a normal stop, an exit signal (Erlang reports only what
       a process does to itself), and a supervised child (its supervisor
       reports it). Each is followed by a crash that is, so the count shows
       nothing came in between. */
    CHECK_EQ_INT(swerl_spawn(rt, &b_crash, NULL, NULL, &pid), 0);
    CHECK_EQ_INT(swerl_send(rt, pid, "stop", 4), 0);
    CHECK_EQ_INT(swerl_spawn(rt, &b_crash, NULL, NULL, &pid), 0);
    CHECK_EQ_INT(swerl_exit(rt, pid, SWERL_REASON_USER + 5, "told", 4), 0);
    swerl_child_spec_init(&spec);
    spec.id = "kid";
    spec.behavior = &b_crash;
    sspec = check_sup_spec(SWERL_ONE_FOR_ONE, 5, 5000, &spec, 1);
    CHECK_EQ_INT(swerl_supervisor_start(rt, &sspec, NULL, &sup), 0);
    child = check_child_pid(rt, sup, "kid");
    CHECK_EQ_INT(swerl_send(rt, child, "x", 1), 0);
    CHECK_WAIT(check_child_pid(rt, sup, "kid") != child && check_child_pid(rt, sup, "kid") != 0);
    CHECK_EQ_INT(swerl_spawn(rt, &b_crash, NULL, NULL, &pid), 0);
    CHECK_EQ_INT(swerl_send(rt, pid, "x", 1), 0);
    CHECK_WAIT(locked_int(&g_crash_lines) == 3);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    CHECK_EQ_INT(locked_int(&g_crash_lines), 3);
    swerl_runtime_free(rt);
}

/* A crash storm: at most 100 reports a second, then one line says how many
   were left out. */
static void t_crash_storm_bounded(void)
{
    swerl_runtime *rt = start_logged();
    swerl_pid pid = 0;
    double start, seconds;
    int i, storm = 2000;
    if (!CHECK(rt != NULL)) return;
    start = check_now_ms();
    for (i = 0; i < storm; i++) {
        if (swerl_spawn(rt, &b_crash, NULL, NULL, &pid) != 0 || swerl_send(rt, pid, "x", 1) != 0) break;
    }
    CHECK_EQ_INT(i, storm);
    CHECK_WAIT(check_stat_processes(rt) == 0);
    seconds = (check_now_ms() - start) / 1000.0;
    CHECK_MSG(locked_int(&g_crash_lines) <= 100 * ((int)seconds + 1),
              "%d reports in %.1f s", locked_int(&g_crash_lines), seconds);
    /* The next report after the window says what was left out: crash one
       process at a time until that line comes. */
    for (i = 0; i < 100 && locked_int(&g_left_out_lines) == 0; i++) {
        if (swerl_spawn(rt, &b_crash, NULL, NULL, &pid) == 0) swerl_send(rt, pid, "x", 1);
        WAIT_UNTIL_MS(locked_int(&g_left_out_lines) > 0, 100);
    }
    CHECK_EQ_INT(locked_int(&g_left_out_lines) >= 1, 1);
    CHECK(locked_int(&g_last_left_out) > 0);
    swerl_runtime_free(rt);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("error details: each mistake says what was wrong", t_error_details, 60);
    check_section("pids of another runtime: ENOPROC, never another process", t_foreign_pids, 60);
    check_section("swerl_pid_format", t_pid_format, 60);
    check_section("crash reports: processes outside supervisors that crash", t_crash_reports, 60);
    check_section("crash reports: a storm is bounded", t_crash_storm_bounded, 120);
    return check_summary();
}
