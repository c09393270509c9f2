/*
 * test_supervisor_stop.c — supervisors while the runtime stops.
 *
 *   - a crash during swerl_runtime_stop is not restarted and cannot push a
 *     supervisor over its intensity (OTP-49/50: nothing can be spawned any
 *     more, so a restart would only fail and count);
 *   - a parallel (simple_one_for_one) shutdown still kills a child that
 *     ignores `shutdown` once shutdown_ms has passed, however many other
 *     children stop meanwhile (OTP-45/46).
 *
 * Functions: swerl_supervisor_start, swerl_supervisor_spawn_child,
 * swerl_supervisor_which_children, swerl_runtime_stop, swerl_runtime_stats.
 */
#include "check.h"

typedef struct shared {
    swerl_pid crasher;        /* written by the crasher's init */
    int crasher_starts;
    int stubborn_reason;      /* terminate reason of the child that ignores shutdown */
    int sup_down_reason;      /* DOWN reason the watcher saw for the supervisor */
    int sup_down_seen;
} shared;

static int crasher_init(swerl_ctx *ctx, void *arg, void **state)
{
    shared *s = (shared *)arg;
    AT_STORE(&s->crasher, swerl_self(ctx));
    AT_ADD(&s->crasher_starts, 1);
    *state = arg;
    return 0;
}

static int crasher_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx; (void)state;
    return (m->kind == SWERL_MESSAGE) ? -1 : SWERL_CONTINUE;   /* any message: crash */
}

/* Traps exits; on the supervisor's shutdown it makes the crasher crash. */
static int blocker_init(swerl_ctx *ctx, void *arg, void **state)
{
    swerl_trap_exit(ctx, 1);
    *state = arg;
    return 0;
}

static int blocker_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    shared *s = (shared *)state;
    if (m->kind != SWERL_EXIT) return SWERL_CONTINUE;
    swerl_send(swerl_ctx_runtime(ctx), AT_LOAD(&s->crasher), "crash", 5);
    return SWERL_STOP;
}

static void t_crash_during_stop(void)
{
    static shared s;
    swerl_behavior crasher = { sizeof(swerl_behavior), crasher_init, crasher_handle, NULL };
    swerl_behavior blocker = { sizeof(swerl_behavior), blocker_init, blocker_handle, NULL };
    swerl_child_spec inner_child, top[2];
    swerl_supervisor_spec inner, root;
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid sup = 0;
    swerl_stats st;
    if (!rt) return;
    memset(&s, 0, sizeof s);

    swerl_child_spec_init(&inner_child);
    inner_child.id = "crasher";
    inner_child.behavior = &crasher;
    inner_child.arg = &s;
    swerl_supervisor_spec_init(&inner);            /* intensity 1 in 5 s */
    inner.children = &inner_child;
    inner.n_children = 1;

    swerl_child_spec_init(&top[0]);
    top[0].id = "sub";
    top[0].type = SWERL_SUPERVISOR;
    top[0].shutdown_ms = SWERL_INFINITY;
    top[0].supervisor = &inner;
    swerl_child_spec_init(&top[1]);
    top[1].id = "blocker";
    top[1].behavior = &blocker;
    top[1].arg = &s;
    swerl_supervisor_spec_init(&root);
    root.children = top;
    root.n_children = 2;
    CHECK_EQ_INT(swerl_supervisor_start(rt, &root, NULL, &sup), 0);
    CHECK(AT_LOAD(&s.crasher) != 0);

    /* The root stops "blocker" first (reverse order); blocker then makes the
       crasher, inside "sub", crash while the runtime is stopping. */
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    st.size = (uint32_t)sizeof st;
    CHECK_EQ_INT(swerl_runtime_stats(rt, &st), 0);
    CHECK_EQ_INT(AT_LOAD(&s.crasher_starts), 1);     /* not restarted */
    CHECK_EQ_U64(st.restarts, 0);
    CHECK_EQ_U64(st.escalations, 0);                  /* no false escalation */
    CHECK_EQ_U64(st.processes, 0);
    swerl_runtime_free(rt);
}

/* ------------------------------------------------------------------------ */

static int polite_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx; (void)m; (void)state;
    return SWERL_CONTINUE;                            /* dies of SHUTDOWN: it does not trap */
}

static int stubborn_init(swerl_ctx *ctx, void *arg, void **state)
{
    swerl_trap_exit(ctx, 1);                          /* ignores shutdown */
    *state = arg;
    return 0;
}

static void stubborn_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx;
    AT_STORE(&((shared *)state)->stubborn_reason, reason + 1);
}

static int stubborn_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx; (void)m; (void)state;
    return SWERL_CONTINUE;
}

/* Template: the polite worker; the stubborn one is a second supervisor so the
   one shutdown_ms applies to a mixed set: simple_one_for_one with a template
   whose init decides by its arg. */
static int mixed_init(swerl_ctx *ctx, void *arg, void **state)
{
    if (arg != NULL) return stubborn_init(ctx, arg, state);
    *state = NULL;
    return 0;
}

static int mixed_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    return state ? stubborn_handle(ctx, m, state) : polite_handle(ctx, m, state);
}

static void mixed_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    if (state) stubborn_terminate(ctx, reason, state);
}

static int watcher_init(swerl_ctx *ctx, void *arg, void **state)
{
    shared *s = (shared *)arg;
    swerl_ref ref;
    *state = arg;
    swerl_trap_exit(ctx, 1);                          /* sees the runtime's SHUTDOWN as a message */
    return swerl_monitor(ctx, (swerl_pid)(uintptr_t)s->crasher, &ref);
}

static int watcher_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    shared *s = (shared *)state;
    (void)ctx;
    if (m->kind == SWERL_DOWN) {
        AT_STORE(&s->sup_down_reason, m->reason);
        AT_STORE(&s->sup_down_seen, 1);
    }
    /* The runtime's SHUTDOWN reaches the watcher only after the supervision
       trees are down; then it goes too. */
    return m->kind == SWERL_EXIT ? SWERL_STOP : SWERL_CONTINUE;
}

static void t_parallel_shutdown_kills_after_timeout(void)
{
    static shared s;
    swerl_behavior mixed = { sizeof(swerl_behavior), mixed_init, mixed_handle, mixed_terminate };
    swerl_behavior watcher = { sizeof(swerl_behavior), watcher_init, watcher_handle, NULL };
    swerl_child_spec tmpl;
    swerl_supervisor_spec spec;
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid sup = 0, child = 0, w = 0;
    int i;
    if (!rt) return;
    memset(&s, 0, sizeof s);

    swerl_child_spec_init(&tmpl);
    tmpl.id = "worker";
    tmpl.behavior = &mixed;
    tmpl.restart = SWERL_TEMPORARY;
    tmpl.shutdown_ms = 200;
    swerl_supervisor_spec_init(&spec);
    spec.strategy = SWERL_SIMPLE_ONE_FOR_ONE;
    spec.children = &tmpl;
    spec.n_children = 1;
    CHECK_EQ_INT(swerl_supervisor_start(rt, &spec, NULL, &sup), 0);
    for (i = 0; i < 5; i++) CHECK_EQ_INT(swerl_supervisor_spawn_child(rt, sup, NULL, &child), 0);
    CHECK_EQ_INT(swerl_supervisor_spawn_child(rt, sup, &s, &child), 0);     /* the stubborn one */
    for (i = 0; i < 5; i++) CHECK_EQ_INT(swerl_supervisor_spawn_child(rt, sup, NULL, &child), 0);

    s.crasher = sup;                                  /* the watcher monitors the supervisor */
    CHECK_EQ_INT(swerl_spawn(rt, &watcher, &s, NULL, &w), 0);
    CHECK_WAIT(check_alive(rt, w));

    /* The polite children's DOWNs come first; the shutdown time must still
       run out for the stubborn one: the supervisor kills it and exits
       SHUTDOWN before the runtime has to kill anything. */
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    CHECK_EQ_INT(AT_LOAD(&s.stubborn_reason), SWERL_REASON_KILLED + 1);
    CHECK_EQ_INT(AT_LOAD(&s.sup_down_seen), 1);
    CHECK_EQ_INT(AT_LOAD(&s.sup_down_reason), SWERL_REASON_SHUTDOWN);
    swerl_runtime_free(rt);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("a crash during runtime stop is not restarted (OTP-49, OTP-50)", t_crash_during_stop, 60);
    check_section("parallel shutdown kills a child that ignores shutdown (OTP-45, OTP-46)",
                  t_parallel_shutdown_kills_after_timeout, 60);
    return check_summary();
}
