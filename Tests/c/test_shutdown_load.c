/*
 * test_shutdown_load.c — swerl_runtime_stop in the middle of everything: a
 * crash storm under supervisors of every strategy, a message flood from
 * foreign threads and from processes, processes spawning linked children,
 * a foreign thread spawning processes and simple_one_for_one children, and
 * one process that traps exits and ignores the SHUTDOWN (so the kill after
 * the timeout is exercised). Several rounds, each a fresh runtime, stopped
 * at a different moment: at once, early, mid-storm, late, and once with no
 * timeout (SWERL_INFINITY, no stubborn process).
 *
 * Checked each round:
 *   - stop returns 0 within timeout_ms + a generous margin, and the stubborn
 *     process was killed (reason KILLED), not before timeout_ms;
 *   - every process whose init succeeded ran its terminate callback exactly
 *     once; a process whose init failed ran none (one record per
 *     incarnation, keyed by the record its init made);
 *   - every call a foreign thread makes once stop has returned gives
 *     ESTOPPED, and a send or a spawn that gave ESTOPPED gives nothing else
 *     afterwards;
 *   - swerl_stats after stop: no process left, spawned == exited.
 * And one more section: an endless restart loop on a single scheduler must
 *   not hold up what other threads ask of that scheduler's other processes
 *   (a supervisor call, a message, the stop itself). A scheduler that took
 *   processes woken from other threads only once its local run queue was
 *   empty kept them waiting as long as the loop lasted: forever here.
 * Leaks: run under valgrind, e.g. SWERL_TEST_SCALE=100 SWERL_TEST_NOFORK=1
 *   valgrind --leak-check=full bin/test_shutdown_load.
 *
 * Functions covered: swerl_runtime_stop/stats/free, swerl_supervisor_start,
 *   _spawn_child, _terminate_pid, swerl_spawn (LINK in a handler, from a
 *   thread), swerl_send, swerl_fail, swerl_trap_exit.
 * Statements: OTP-45/46 (the tree is shut down by the runtime's stop),
 *   OTP-21e (the kill after the timeout), OTP-61 (terminate runs on
 *   shutdown, and here also when killed: swerl.h's rule).
 *
 * SWERL_TEST_SCALE divides the storm's budget (1,000,000 crashes) and the
 * points at which the rounds stop.
 */
#include "check.h"

#include <sched.h>

enum { MAX_REC = 1 << 21 };

typedef struct rec {
    swerl_pid pid;
    uint32_t inits, terms;       /* atomic */
    int32_t reason;
    int role;
} rec;

static rec *g_rec;
static uint64_t g_nrec;          /* atomic */
static uint64_t g_rec_overflow;  /* atomic */
static rec g_spare_rec;          /* for incarnations past MAX_REC (a failure) */

enum { ROLE_CRASHER, ROLE_SINK, ROLE_PSENDER, ROLE_SPAWNER, ROLE_TEMP, ROLE_STUBBORN };

typedef struct wstate {
    rec *r;
    int role;
    swerl_pid self;
    uint64_t rng;
} wstate;

enum { N_SINKS = 8, N_OFO = 8, N_SIMPLE = 8, N_PSENDERS = 4 };

static swerl_pid g_sinks[N_SINKS];                  /* atomic */
static int64_t g_budget;                            /* atomic: crashes left */
static uint64_t g_crashes, g_init_fails, g_delivered, g_temp_spawned;  /* atomic */
static uint64_t g_spawn_errors;                     /* atomic */
static uint64_t g_flooded;                          /* atomic: accepted sends to sinks */
enum { FLOOD_CREDIT = 100000 };                     /* sink messages in flight at most */

/* Signed: the sinks also handle the foreign threads' sends to random
   records (not counted as flooded), so delivered may run ahead of flooded;
   unsigned, that difference wrapped and ended the flood for good. */
static int flood_has_credit(void)
{
    return (int64_t)(AT_LOAD(&g_flooded) - AT_LOAD(&g_delivered)) < FLOOD_CREDIT;
}
static int g_stop_returned;                         /* atomic */
static double g_stop_t0;
static double g_stubborn_killed_at;                 /* ms after the stop call */
static int32_t g_stubborn_reason;

/* Arguments of the behaviours (they outlive every incarnation). */
static int g_role_arg[6] = {ROLE_CRASHER, ROLE_SINK, ROLE_PSENDER, ROLE_SPAWNER, ROLE_TEMP, ROLE_STUBBORN};

/* Short-lived processes spawned in a round, at most (each one is a record). */
enum { TEMP_LIMIT = 300000 };

static int temps_left(void)
{
    return AT_LOAD(&g_temp_spawned) < TEMP_LIMIT;
}

static int claim_crash(void)
{
    return __atomic_sub_fetch(&g_budget, 1, __ATOMIC_SEQ_CST) >= 0;
}

static const swerl_behavior *worker(void);

static int w_init(swerl_ctx *ctx, void *arg, void **state)
{
    int role = *(const int *)arg;
    uint64_t i;
    wstate *w;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    if (role == ROLE_CRASHER && claim_crash() && AT_ADD(&g_crashes, 1) % 7 == 0) {
        AT_ADD(&g_init_fails, 1);
        return -1;                                       /* fails: no record, no terminate */
    }
    w = (wstate *)calloc(1, sizeof *w);
    if (!w) return -1;
    i = AT_ADD(&g_nrec, 1) - 1;
    if (i < MAX_REC) {
        w->r = &g_rec[i];
    } else {
        AT_ADD(&g_rec_overflow, 1);                      /* a failure, reported after the stop */
        w->r = &g_spare_rec;
    }
    w->role = role;
    w->self = swerl_self(ctx);
    w->rng = w->self * 0x9e3779b97f4a7c15ull + 1;
    w->r->pid = w->self;
    w->r->role = role;
    AT_ADD(&w->r->inits, 1);
    *state = w;
    switch (role) {
    case ROLE_CRASHER:
        /* crash at the first message while the budget lasts */
        if (AT_LOAD(&g_budget) > 0) (void)swerl_send(rt, w->self, "crash", 5);
        break;
    case ROLE_SPAWNER:
    case ROLE_STUBBORN:
        swerl_trap_exit(ctx, 1);
        if (role == ROLE_SPAWNER) (void)swerl_send(rt, w->self, "tick", 4);
        break;
    default:
        break;
    }
    return 0;
}

static int w_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    wstate *w = (wstate *)state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    int i;
    switch (w->role) {
    case ROLE_CRASHER:
        if (m->kind == SWERL_MESSAGE && m->len == 5 && claim_crash()) {
            uint64_t n = AT_ADD(&g_crashes, 1);
            if (n % 2) swerl_fail(ctx, SWERL_REASON_USER + 1, "storm", 5);
            return -1;
        }
        return SWERL_CONTINUE;
    case ROLE_SINK:
        AT_ADD(&g_delivered, 1);
        return SWERL_CONTINUE;
    case ROLE_PSENDER:
        if (!flood_has_credit()) {
            swerl_receive_timeout(ctx, 1);               /* the sinks are behind */
            return SWERL_CONTINUE;
        }
        for (i = 0; i < 64; i++) {
            swerl_pid to = AT_LOAD(&g_sinks[check_xorshift(&w->rng) % N_SINKS]);
            if (swerl_send(rt, to, &i, sizeof i) == 0) AT_ADD(&g_flooded, 1);
        }
        (void)swerl_send(rt, w->self, "more", 4);
        return SWERL_CONTINUE;
    case ROLE_SPAWNER:
        if (m->kind == SWERL_EXIT) {
            /* the runtime's stop: leave, as a trapping process should */
            if (m->from == 0 && m->reason == SWERL_REASON_SHUTDOWN) return SWERL_STOP;
            return SWERL_CONTINUE;                       /* a temp child's normal exit */
        }
        if (m->kind == SWERL_MESSAGE || m->kind == SWERL_TIMEOUT) {
            swerl_spawn_opts o;
            swerl_pid c = 0;
            if (!temps_left()) {
                swerl_receive_timeout(ctx, 1);           /* enough of them: idle */
                return SWERL_CONTINUE;
            }
            swerl_spawn_opts_init(&o);
            o.flags = SWERL_SPAWN_LINK;
            int rc = swerl_spawn(rt, worker(), &g_role_arg[ROLE_TEMP], &o, &c);
            if (rc == 0) {
                AT_ADD(&g_temp_spawned, 1);
                (void)swerl_send(rt, c, "bye", 3);
            } else if (rc != SWERL_ESTOPPED) {           /* refused once the stop began */
                AT_ADD(&g_spawn_errors, 1);
            }
            (void)swerl_send(rt, w->self, "tick", 4);
        }
        return SWERL_CONTINUE;
    case ROLE_TEMP:
        return SWERL_STOP;
    case ROLE_STUBBORN:
    default:
        return SWERL_CONTINUE;                           /* ignores even the SHUTDOWN */
    }
}

static void w_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    wstate *w = (wstate *)state;
    (void)ctx;
    w->r->reason = reason;
    AT_ADD(&w->r->terms, 1);
    if (w->role == ROLE_STUBBORN) {
        g_stubborn_reason = reason;
        g_stubborn_killed_at = check_now_ms() - g_stop_t0;
    }
    free(w);
}

static swerl_behavior g_worker;   /* set by main before any runtime starts */

static const swerl_behavior *worker(void)
{
    return &g_worker;
}

/* ------------------------------------------------------------------------ */
/* Foreign threads                                                           */
/* ------------------------------------------------------------------------ */

enum { AFTER_STOP_OPS = 200 };

enum { OP_SEND, OP_SPAWN, OP_SPAWN_CHILD, OP_TERMINATE_PID, N_OPS };

typedef struct fthread {
    swerl_runtime *rt;
    int kind;                    /* 0: flood, 1: spawns and supervisor calls */
    swerl_pid simple;
    uint64_t ops, ok, enoproc, estopped, other, after_stop, after_stop_bad, regress;
    int first_other, first_other_op;
    int regress_op, regress_rc;
    int saw_stopped[N_OPS];
} fthread;

/* A code seen by a foreign thread: once stop has returned only ESTOPPED.
   A send or a spawn that returned ESTOPPED never returns anything else
   (spawns are refused as soon as the stop begins, sends once it is over);
   a supervisor call may give ESTOPPED (its supervisor could not spawn) and
   then ENOPROC (the supervisor is gone) while the stop is under way. */
static void note_rc(fthread *f, int op, int rc, int stop_had_returned, int ok_codes_mask)
{
    f->ops++;
    if (rc == SWERL_ESTOPPED) {
        f->estopped++;
        f->saw_stopped[op] = 1;
    } else {
        if ((op == OP_SEND || op == OP_SPAWN) && f->saw_stopped[op] && !f->regress++) {
            f->regress_op = op;
            f->regress_rc = rc;
        }
        if (rc == 0) f->ok++;
        else if (rc == SWERL_ENOPROC) f->enoproc++;
        else if (!(ok_codes_mask & (1 << -rc))) {
            if (!f->other) {
                f->first_other = rc;
                f->first_other_op = op;
            }
            f->other++;
        }
    }
    if (stop_had_returned) {
        f->after_stop++;
        if (rc != SWERL_ESTOPPED) f->after_stop_bad++;
    }
}

static void *foreign_thread(void *arg)
{
    fthread *f = (fthread *)arg;
    uint64_t rng = 0x243f6a8885a308d3ull + (uint64_t)f->kind;
    uint64_t post = 0;
    swerl_pid last_child = 0;
    while (post < AFTER_STOP_OPS) {
        int returned = AT_LOAD(&g_stop_returned);
        int rc;
        if (f->kind == 0) {
            uint64_t n = AT_LOAD(&g_nrec), x = check_xorshift(&rng);
            if ((x & 1) || n == 0) {
                if (!flood_has_credit() && !returned) {
                    struct timespec ts;   /* the sinks are behind */
                    ts.tv_sec = 0;
                    ts.tv_nsec = 50000;
                    nanosleep(&ts, NULL);
                    continue;
                }
                rc = swerl_send(f->rt, AT_LOAD(&g_sinks[x % N_SINKS]), &x, sizeof x);
                if (rc == 0) AT_ADD(&g_flooded, 1);
            } else {
                /* any incarnation: alive, crashed or not yet recorded */
                rc = swerl_send(f->rt, g_rec[(x >> 1) % (n < (uint64_t)MAX_REC ? n : (uint64_t)MAX_REC)].pid,
                                &x, sizeof x);
            }
            note_rc(f, OP_SEND, rc, returned, 0);
        } else {
            swerl_pid p = 0;
            uint64_t x = check_xorshift(&rng);
            if (x % 3 == 0 && (temps_left() || returned)) {
                rc = swerl_spawn(f->rt, worker(), &g_role_arg[ROLE_TEMP], NULL, &p);
                note_rc(f, OP_SPAWN, rc, returned, 0);
                if (rc == 0) {
                    AT_ADD(&g_temp_spawned, 1);
                    note_rc(f, OP_SEND, swerl_send(f->rt, p, "bye", 3), returned, 0);
                }
            } else if (x % 3 == 1 || last_child == 0) {
                /* ESTART: the template's init failed (a crash of the storm) */
                rc = swerl_supervisor_spawn_child(f->rt, f->simple, NULL, &p);
                note_rc(f, OP_SPAWN_CHILD, rc, returned, 1 << -SWERL_ESTART);
                if (rc == 0) last_child = p;
            } else {
                /* ENOTFOUND: that child crashed and its restart has another pid */
                rc = swerl_supervisor_terminate_pid(f->rt, f->simple, last_child);
                note_rc(f, OP_TERMINATE_PID, rc, returned, 1 << -SWERL_ENOTFOUND);
                last_child = 0;
            }
        }
        if (returned) post++;
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Rounds                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct round_cfg {
    const char *name;
    uint64_t crash_trigger, msg_trigger;   /* stop once both are reached */
    uint32_t timeout_ms;
    int stubborn;
} round_cfg;

static swerl_child_spec crasher_spec(const char *id)
{
    swerl_child_spec c;
    swerl_child_spec_init(&c);
    c.id = id;
    c.behavior = worker();
    c.arg = &g_role_arg[ROLE_CRASHER];
    c.shutdown_ms = 2000;
    return c;
}

/* Intensity the storm never exhausts. */
static swerl_supervisor_spec sup(uint32_t strategy, const swerl_child_spec *children, size_t n)
{
    return check_sup_spec(strategy, 1000000, 20, children, n);
}

static swerl_stats stats_quiet(swerl_runtime *rt)
{
    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)sizeof st;
    (void)swerl_runtime_stats(rt, &st);
    return st;
}

/* Sections run in forked children, or one after another with
   SWERL_TEST_NOFORK=1: each starts from zero. */
static void reset_globals(void)
{
    memset(g_rec, 0, MAX_REC * sizeof *g_rec);
    AT_STORE(&g_nrec, 0);
    AT_STORE(&g_rec_overflow, 0);
    AT_STORE(&g_budget, 0);      /* the storm starts once the tree is up */
    AT_STORE(&g_crashes, 0);
    AT_STORE(&g_delivered, 0);
    AT_STORE(&g_flooded, 0);
    AT_STORE(&g_init_fails, 0);
    AT_STORE(&g_temp_spawned, 0);
    AT_STORE(&g_spawn_errors, 0);
    AT_STORE(&g_stop_returned, 0);
    g_stubborn_reason = -1;
    g_stubborn_killed_at = -1;
}

static void run_round(const round_cfg *cfg)
{
    swerl_runtime *rt = check_start_rt(0, 0);
    static const char *const ids[] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"};
    swerl_child_spec ofo_cs[N_OFO], ofa_cs[3], rfo_cs[3], simple_cs[1], root_cs[4];
    swerl_supervisor_spec ofo_s, ofa_s, rfo_s, simple_s, root_s;
    swerl_pid root = 0, simple, p;
    fthread ft[3];
    pthread_t th[3];
    swerl_stats before, after;
    uint64_t n, i, bad_init = 0, no_term = 0, multi_term = 0;
    double t0, stop_ms;
    int k, rc;
    if (!rt) return;

    reset_globals();

    for (k = 0; k < N_SINKS; k++) {
        CHECK_EQ_INT(swerl_spawn(rt, worker(), &g_role_arg[ROLE_SINK], NULL, &p), 0);
        AT_STORE(&g_sinks[k], p);
    }
    for (k = 0; k < N_OFO; k++) ofo_cs[k] = crasher_spec(ids[k]);
    for (k = 0; k < 3; k++) {
        ofa_cs[k] = crasher_spec(ids[k]);
        rfo_cs[k] = crasher_spec(ids[k]);
    }
    simple_cs[0] = crasher_spec("template");
    ofo_s = sup(SWERL_ONE_FOR_ONE, ofo_cs, N_OFO);
    ofa_s = sup(SWERL_ONE_FOR_ALL, ofa_cs, 3);
    rfo_s = sup(SWERL_REST_FOR_ONE, rfo_cs, 3);
    simple_s = sup(SWERL_SIMPLE_ONE_FOR_ONE, simple_cs, 1);
    root_cs[0] = check_nested_child("ofo", &ofo_s);
    root_cs[1] = check_nested_child("ofa", &ofa_s);
    root_cs[2] = check_nested_child("rfo", &rfo_s);
    root_cs[3] = check_nested_child("simple", &simple_s);
    root_s = sup(SWERL_ONE_FOR_ONE, root_cs, 4);
    if (!CHECK_EQ_INT(swerl_supervisor_start(rt, &root_s, NULL, &root), 0)) return;
    {
        swerl_child_info buf[4];
        size_t count = 0;
        memset(buf, 0, sizeof buf);
        buf[0].size = (uint32_t)sizeof buf[0];
        CHECK_EQ_INT(swerl_supervisor_which_children(rt, root, buf, 4, &count), 0);
        simple = buf[3].pid;
        CHECK(simple != 0);
        for (k = 0; k < N_SIMPLE; k++) CHECK_EQ_INT(swerl_supervisor_spawn_child(rt, simple, NULL, &p), 0);
        /* open the storm, then give every crasher its first "crash" */
        n = AT_LOAD(&g_nrec);
        AT_STORE(&g_budget, (int64_t)check_scaled(1000000, 10000));
        for (i = 0; i < n; i++) {
            if (g_rec[i].role != ROLE_CRASHER) continue;
            /* ENOPROC: a one_for_all sibling restarted it meanwhile */
            rc = swerl_send(rt, g_rec[i].pid, "crash", 5);
            CHECK(rc == 0 || rc == SWERL_ENOPROC);
        }
    }
    for (k = 0; k < N_PSENDERS; k++) {
        CHECK_EQ_INT(swerl_spawn(rt, worker(), &g_role_arg[ROLE_PSENDER], NULL, &p), 0);
        CHECK_EQ_INT(swerl_send(rt, p, "go", 2), 0);
    }
    CHECK_EQ_INT(swerl_spawn(rt, worker(), &g_role_arg[ROLE_SPAWNER], NULL, &p), 0);
    if (cfg->stubborn) CHECK_EQ_INT(swerl_spawn(rt, worker(), &g_role_arg[ROLE_STUBBORN], NULL, &p), 0);
    for (k = 0; k < 3; k++) {
        memset(&ft[k], 0, sizeof ft[k]);
        ft[k].rt = rt;
        ft[k].kind = k == 2;
        ft[k].simple = simple;
        CHECK_EQ_INT(pthread_create(&th[k], NULL, foreign_thread, &ft[k]), 0);
    }

    WAIT_UNTIL_MS(AT_LOAD(&g_crashes) >= cfg->crash_trigger && AT_LOAD(&g_delivered) >= cfg->msg_trigger,
                  600000u);
    CHECK_MSG(AT_LOAD(&g_crashes) >= cfg->crash_trigger && AT_LOAD(&g_delivered) >= cfg->msg_trigger,
              "the load never reached %llu crashes and %llu messages",
              (unsigned long long)cfg->crash_trigger, (unsigned long long)cfg->msg_trigger);
    before = stats_quiet(rt);
    t0 = check_now_ms();
    g_stop_t0 = t0;
    rc = swerl_runtime_stop(rt, cfg->timeout_ms);
    stop_ms = check_now_ms() - t0;
    AT_STORE(&g_stop_returned, 1);
    for (k = 0; k < 3; k++) pthread_join(th[k], NULL);

    CHECK_EQ_INT(rc, 0);
    /* bounded: the timeout, plus a generous margin for the shutdown of
       everything that cooperates (30 s with no timeout) */
    CHECK_MSG(stop_ms <= (cfg->timeout_ms == SWERL_INFINITY ? 30000.0 : cfg->timeout_ms + 10000.0),
              "stop took %.0f ms with a timeout of %u ms", stop_ms, cfg->timeout_ms);
    if (cfg->stubborn) {
        /* it ignored SHUTDOWN, so it was killed once the timeout passed */
        CHECK_EQ_INT(g_stubborn_reason, SWERL_REASON_KILLED);
        CHECK_MSG(g_stubborn_killed_at >= 0.9 * cfg->timeout_ms,
                  "the stubborn process was killed %.0f ms into a stop with a %u ms timeout",
                  g_stubborn_killed_at, cfg->timeout_ms);
    }
    CHECK_EQ_INT(swerl_runtime_stop(rt, cfg->timeout_ms), SWERL_ESTOPPED);
    after = check_stats(rt);
    CHECK_EQ_INT(after.processes, 0);
    CHECK_EQ_INT(after.spawned, after.exited);

    /* terminate exactly once per successful init */
    n = AT_LOAD(&g_nrec);
    CHECK_EQ_INT(AT_LOAD(&g_rec_overflow), 0);
    for (i = 0; i < n && i < MAX_REC; i++) {
        if (g_rec[i].inits != 1) bad_init++;
        if (g_rec[i].terms == 0) {
            if (no_term++ < 5)
                printf("   no terminate: pid 0x%llx role %d\n", (unsigned long long)g_rec[i].pid, g_rec[i].role);
        }
        else if (g_rec[i].terms > 1) multi_term++;
    }
    CHECK_EQ_INT(bad_init, 0);
    CHECK_EQ_INT(no_term, 0);
    CHECK_EQ_INT(multi_term, 0);
    CHECK_EQ_INT(after.spawned, n + AT_LOAD(&g_init_fails) + 5 /* supervisors */);
    CHECK_EQ_INT(AT_LOAD(&g_spawn_errors), 0);

    for (k = 0; k < 3; k++) {
        CHECK_MSG(ft[k].other == 0, "thread %d: %llu unexpected codes, first %s from op %d", k,
                  (unsigned long long)ft[k].other, swerl_err_name(ft[k].first_other), ft[k].first_other_op);
        CHECK_EQ_INT(ft[k].after_stop_bad, 0);                  /* ESTOPPED afterwards */
        CHECK_MSG(ft[k].regress == 0, "thread %d: %llu calls did not give ESTOPPED after one did, "
                  "first: op %d gave %s", k, (unsigned long long)ft[k].regress, ft[k].regress_op,
                  swerl_err_name(ft[k].regress_rc));                  /* and ever after */
        CHECK(ft[k].after_stop >= AFTER_STOP_OPS);
    }
    printf("figure: shutdown_load round=\"%s\" stop_ms=%.1f timeout_ms=%d stubborn_killed_at_ms=%.1f "
           "crashes=%llu delivered=%llu processes_at_stop=%llu incarnations=%llu init_fails=%llu "
           "spawned=%llu exited=%llu thread_ops=%llu thread_estopped=%llu\n",
           cfg->name, stop_ms, cfg->timeout_ms == SWERL_INFINITY ? -1 : (int)cfg->timeout_ms,
           g_stubborn_killed_at, (unsigned long long)AT_LOAD(&g_crashes),
           (unsigned long long)AT_LOAD(&g_delivered), (unsigned long long)before.processes,
           (unsigned long long)n, (unsigned long long)AT_LOAD(&g_init_fails),
           (unsigned long long)after.spawned, (unsigned long long)after.exited,
           (unsigned long long)(ft[0].ops + ft[1].ops + ft[2].ops),
           (unsigned long long)(ft[0].estopped + ft[1].estopped + ft[2].estopped));
    swerl_runtime_free(rt);
}

/* An endless restart loop (one_for_one, two children that crash on the
   message their own init sends them) on a runtime with one scheduler. */
static void t_endless_loop(void)
{
    swerl_config cfg;
    swerl_runtime *rt = NULL;
    swerl_child_spec cs[2];
    swerl_supervisor_spec loop_s, idle_s;
    swerl_child_counts cc;
    swerl_pid loop_sup = 0, idle_sup = 0, sink = 0;
    uint64_t n, i;
    double t0, call_ms, stop_ms;
    int rc;
    g_rec = (rec *)calloc(MAX_REC, sizeof *g_rec);
    if (!CHECK(g_rec != NULL)) return;
    memset(&g_worker, 0, sizeof g_worker);
    g_worker.size = (uint32_t)sizeof g_worker;
    g_worker.init = w_init;
    g_worker.handle = w_handle;
    g_worker.terminate = w_terminate;
    swerl_config_init(&cfg);
    cfg.schedulers = 1;
    reset_globals();
    if (!CHECK_EQ_INT(swerl_runtime_start(&cfg, &rt), 0)) return;
    swerl_supervisor_spec_init(&idle_s);
    CHECK_EQ_INT(swerl_supervisor_start(rt, &idle_s, NULL, &idle_sup), 0);
    CHECK_EQ_INT(swerl_spawn(rt, worker(), &g_role_arg[ROLE_SINK], NULL, &sink), 0);
    cs[0] = crasher_spec("c0");
    cs[1] = crasher_spec("c1");
    loop_s = sup(SWERL_ONE_FOR_ONE, cs, 2);
    loop_s.intensity = 2000000000u;
    CHECK_EQ_INT(swerl_supervisor_start(rt, &loop_s, NULL, &loop_sup), 0);
    n = AT_LOAD(&g_nrec);
    AT_STORE(&g_budget, INT64_MAX / 2);
    for (i = 0; i < n; i++)
        if (g_rec[i].role == ROLE_CRASHER) CHECK_EQ_INT(swerl_send(rt, g_rec[i].pid, "crash", 5), 0);
    CHECK_WAIT(AT_LOAD(&g_crashes) >= 10000);        /* the loop runs */

    memset(&cc, 0, sizeof cc);
    cc.size = (uint32_t)sizeof cc;
    t0 = check_now_ms();
    CHECK_EQ_INT(swerl_supervisor_count_children(rt, idle_sup, &cc), 0);
    call_ms = check_now_ms() - t0;
    CHECK_MSG(call_ms < CHECK_WAIT_MS, "a call to an idle supervisor took %.0f ms", call_ms);
    CHECK_EQ_INT(swerl_send(rt, sink, "x", 1), 0);
    CHECK_WAIT(AT_LOAD(&g_delivered) == 1);
    t0 = check_now_ms();
    g_stop_t0 = t0;
    rc = swerl_runtime_stop(rt, 2000);
    stop_ms = check_now_ms() - t0;
    CHECK_EQ_INT(rc, 0);
    CHECK_MSG(stop_ms <= 12000.0, "stop took %.0f ms with a timeout of 2000 ms", stop_ms);
    printf("figure: shutdown_load round=\"endless restart loop, 1 scheduler\" call_ms=%.1f stop_ms=%.1f "
           "crashes=%llu\n", call_ms, stop_ms, (unsigned long long)AT_LOAD(&g_crashes));
    swerl_runtime_free(rt);
    free(g_rec);
    g_rec = NULL;
}

static round_cfg g_round;

static void t_round(void)
{
    g_rec = (rec *)calloc(MAX_REC, sizeof *g_rec);
    if (!CHECK(g_rec != NULL)) return;
    memset(&g_worker, 0, sizeof g_worker);
    g_worker.size = (uint32_t)sizeof g_worker;
    g_worker.init = w_init;
    g_worker.handle = w_handle;
    g_worker.terminate = w_terminate;
    run_round(&g_round);
    free(g_rec);
    g_rec = NULL;
}

/* The rounds: when stop comes (crashes and messages seen, at full size),
   its timeout, and whether a process ignores SHUTDOWN. */
static const round_cfg k_rounds[] = {
    {"at once", 0, 0, 2000, 1},
    {"early", 1000, 1000, 300, 1},
    {"mid-storm", 100000, 100000, 1000, 1},
    {"late", 400000, 500000, 3000, 1},
    {"mid-storm, no timeout", 200000, 200000, SWERL_INFINITY, 0},
};

int main(int argc, char **argv)
{
    uint64_t scale = check_test_scale();
    char name[128], timeout[32];
    size_t r;
    check_begin(argc, argv);
    for (r = 0; r < sizeof k_rounds / sizeof k_rounds[0]; r++) {
        g_round = k_rounds[r];
        g_round.crash_trigger /= scale;
        g_round.msg_trigger /= scale;
        if (g_round.timeout_ms == SWERL_INFINITY) snprintf(timeout, sizeof timeout, "infinity");
        else snprintf(timeout, sizeof timeout, "%u ms", (unsigned)g_round.timeout_ms);
        snprintf(name, sizeof name, "stop under load: %s (timeout %s)", g_round.name, timeout);
        check_section(name, t_round, 900);
    }
    check_section("an endless restart loop holds up nothing else on its scheduler", t_endless_loop, 120);
    return check_summary();
}
