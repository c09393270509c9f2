/*
 * Finding 11 (open): swerl_group_finish and swerl_turn_suspend accept a batch
 * the calling thread does not hold.
 *
 * A swerl_turn lives in its driver (one per thread that drove the group at
 * once), so a finished batch's pointer is the next batch's of that driver.
 * swerl_group_take runs a turn shorter than swerl_group_set_batch_min itself,
 * calling handle() inside the take, in a batch of that driver. A handler that
 * passes the old pointer to
 *   - swerl_group_finish: gets 0 (swerl.h: EINVAL, "not the batch this thread
 *     holds"; the same call outside the handler says EINVAL), and the take
 *     then traps: "Unexpectedly found nil while unwrapping an Optional value"
 *     in TurnBatch.close (TurnBatch.swift:189), from Worker.closeBatch
 *     (TurnBatch.swift:319), from TurnGroup.takeBatch (TurnBatch.swift:222);
 *   - swerl_turn_suspend: gets 0, the take returns 0, the library's own
 *     batch stays set aside: swerl_runtime_stop returns ETIMEDOUT and
 *     swerl_runtime_free waits for ever.
 *
 * Build against the ASan library (Tests/sanitizers/build-asan-lib.sh build/asan)
 * with the toolchain's clang:
 *   clang -std=c99 -fsanitize=address -fuse-ld=lld -Ibuild/asan/include \
 *       Tests/fuzz/open-findings/finding-11-stale-turn-in-handler.c \
 *       -Lbuild/asan/lib -lswerl -Wl,-rpath,build/asan/lib -o /tmp/finding-11
 *   /tmp/finding-11 finish     # traps in swerl_group_take (SIGILL)
 *   /tmp/finding-11 suspend    # stop: -3 (ETIMEDOUT), then the free hangs
 * Expected: the handler's call returns EINVAL (-1) and the program ends.
 *
 * The fuzzer steers around it: its handlers give swerl_group_finish and
 * swerl_turn_suspend only NULL and a fake turn (group_in_handler).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <swerl.h>

static swerl_turn *g_stale;
static int g_suspend;
static int g_rc = 12345;

static int handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)state;
    if (m->kind == SWERL_MESSAGE && m->len == 2 && memcmp(m->data, "go", 2) == 0)
        g_rc = g_suspend ? swerl_turn_suspend(g_stale) : swerl_group_finish(g_stale, 0);
    return SWERL_CONTINUE;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char says[] = "swerl_runtime_free still waits after 5 s\n";
    write(1, says, sizeof says - 1);
    _exit(2);
}

int main(int argc, char **argv)
{
    swerl_config cfg;
    swerl_runtime *rt;
    swerl_group *g;
    swerl_behavior b = {sizeof b, NULL, handle, NULL};
    swerl_pid p;
    swerl_turn *t = NULL;
    int rc;
    setvbuf(stdout, NULL, _IONBF, 0);
    g_suspend = argc > 1 && strcmp(argv[1], "suspend") == 0;
    swerl_config_init(&cfg);
    cfg.schedulers = 1;
    if (swerl_runtime_start(&cfg, &rt) || swerl_group_create(rt, "g", &g) || swerl_group_spawn(g, &b, NULL, NULL, &p))
        return 1;
    swerl_send(rt, p, "a", 1);
    rc = swerl_group_take(g, 16, 1000, &t);          /* init runs inside; then the batch of "a" */
    printf("take: %d (a batch of %u)\n", rc, t ? t->count : 0);
    if (rc != 1) return 1;
    g_stale = t;
    printf("finish: %d\n", swerl_group_finish(t, t->count));
    printf("finish again: %d (EINVAL: held no more)\n", swerl_group_finish(g_stale, 0));
    printf("set_batch_min(2): %d\n", swerl_group_set_batch_min(g, 2));
    swerl_send(rt, p, "go", 2);
    t = NULL;
    rc = swerl_group_take(g, 16, 100, &t);           /* one message: handle() runs inside the take */
    printf("take: %d; the handler's %s of the old turn: %d (expected -1)\n", rc,
           g_suspend ? "swerl_turn_suspend" : "swerl_group_finish", g_rc);
    printf("stop: %d\n", swerl_runtime_stop(rt, 100));
    signal(SIGALRM, on_alarm);
    alarm(5);
    swerl_runtime_free(rt);
    printf("freed\n");
    return 0;
}
