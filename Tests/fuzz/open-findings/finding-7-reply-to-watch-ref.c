/*
 * Open finding 7 (Tests/fuzz/README.md): swerl_reply accepts the ref of a
 * swerl_watch_exit, returns 0, and the watch's done runs at once with
 * reason NOPROC although the watched process is alive (and will never run
 * again for its real exit). swerl.h: swerl_reply answers "the call `call`
 * (a CALL message's ref)" and gives EREF for an unknown ref; a watch is
 * settled only by the process's exit or swerl_cancel_notify.
 * (Waiters.reply settles whatever waiter the ref names; the watch's
 * callback maps any outcome but an exit to NOPROC.)
 *
 * Expected: swerl_reply returns EREF and done has not run.
 * Seen: swerl_reply returns 0 and done ran with reason 4 (NOPROC).
 *
 *   cc -std=c99 -I include Tests/fuzz/open-findings/finding-7-reply-to-watch-ref.c -L build/lib -lswerl \
 *      -Wl,-rpath,build/lib -o /tmp/finding-7 && /tmp/finding-7
 *
 * The fuzzer's input for it: finding-7-reply-to-watch-ref.input
 * (SWERL_FUZZ_OPEN=1 build/fuzz/swerl_fuzz Tests/fuzz/open-findings/finding-7-reply-to-watch-ref.input).
 */
#include <stdio.h>
#include <string.h>

#include <swerl.h>

static int g_done_runs;
static int32_t g_done_reason = -1;

static void on_exit_done(void *user, int32_t reason, const void *detail, size_t len)
{
    (void)user;
    (void)detail;
    (void)len;
    g_done_runs++;
    g_done_reason = reason;
}

static int handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)m;
    (void)state;
    return SWERL_CONTINUE;
}

static const swerl_behavior idle = {sizeof(swerl_behavior), NULL, handle, NULL};

int main(void)
{
    swerl_runtime *rt = NULL;
    swerl_pid pid = 0;
    swerl_ref watch = 0;
    swerl_process_info info;
    int rc, alive, bad;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    if (swerl_runtime_start(NULL, &rt) != 0 || swerl_spawn(rt, &idle, NULL, NULL, &pid) != 0) return 2;
    if (swerl_watch_exit(rt, pid, on_exit_done, NULL, &watch) != 0) return 2;
    rc = swerl_reply(rt, watch, "r", 1);          /* done runs here, on this thread, if it does */
    alive = swerl_process_get_info(rt, pid, &info) == 0;
    printf("swerl_reply(watch ref) = %d (%s); done ran %d time(s), reason %d; the process is %s\n", rc,
           swerl_err_name(rc), g_done_runs, g_done_reason, alive ? "alive" : "gone");
    bad = rc == 0 || g_done_runs != 0;
    swerl_runtime_free(rt);
    printf("%s\n", bad ? "BUG: a reply settled an exit watch" : "ok");
    return bad;
}
