/*
 * Open finding 8 (Tests/fuzz/README.md), a gap in swerl.h: swerl_call made
 * by a blocking process to itself returns ECALLSELF, which is the sensible
 * answer (it could only time out; OTP's gen_server:call exits with
 * calling_self) but is not among the codes swerl.h lists for swerl_call
 * (EINVAL, ETOOBIG, ENOPROC, EMEMLIMIT, ETIMEDOUT, EEXITED, EINPROC,
 * ESTOPPED). swerl_call_async and swerl_call_notify list it. Either the
 * header lists it for swerl_call too (the fuzzer allows it until then:
 * CALL_SELF_GAP in swerl_fuzz.c), or the call times out.
 *
 *   cc -std=c99 -I include Tests/fuzz/open-findings/finding-8-call-self-ecallself.c -L build/lib -lswerl \
 *      -Wl,-rpath,build/lib -o /tmp/finding-8 && /tmp/finding-8
 */
#include <stdio.h>

#include <swerl.h>

static int g_rc = 1;    /* atomic; 1: not yet */

static int handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    swerl_buffer reply = {NULL, 0};
    (void)state;
    if (m->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    __atomic_store_n(&g_rc, swerl_call(swerl_ctx_runtime(ctx), swerl_self(ctx), "q", 1, 50, &reply),
                     __ATOMIC_SEQ_CST);
    swerl_buffer_free(&reply);
    return SWERL_CONTINUE;
}

static const swerl_behavior blocking_caller = {sizeof(swerl_behavior), NULL, handle, NULL};

int main(void)
{
    swerl_runtime *rt = NULL;
    swerl_spawn_opts opts;
    swerl_pid pid = 0;
    int rc;
    swerl_spawn_opts_init(&opts);
    opts.flags = SWERL_SPAWN_BLOCKING;
    if (swerl_runtime_start(NULL, &rt) != 0 || swerl_spawn(rt, &blocking_caller, NULL, &opts, &pid) != 0) return 2;
    swerl_send(rt, pid, "go", 2);
    swerl_wait_exit(rt, pid, 1000, NULL);      /* it does not exit: a 1 s pause */
    rc = __atomic_load_n(&g_rc, __ATOMIC_SEQ_CST);
    swerl_runtime_free(rt);
    printf("swerl_call(self) in a blocking process = %d (%s)\n", rc, swerl_err_name(rc));
    if (rc == SWERL_ECALLSELF) {
        printf("GAP: ECALLSELF is not listed for swerl_call in swerl.h\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}
