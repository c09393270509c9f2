/* C processes for Benchmarks/python/run.py, loaded with swerl.NativeProcess:
     echo_behavior   answers every MESSAGE with the same bytes to its sender
                     (the C side of the C <-> Python round trip);
     pong_behavior   the same, named for the C ping-pong pair;
     ping_behavior   arg: a ping_job; on "go" sends "ping" to job->pong,
                     on each answer again, `rounds` times, then sets
                     job->done (the C ping-pong measured while the Python
                     main thread computes). */
#include <stdint.h>
#include <string.h>
#include <swerl.h>

typedef struct ping_job {
    swerl_pid pong;
    uint64_t rounds;
    volatile int done;
} ping_job;

static int echo_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    (void)state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    if (msg->kind == SWERL_MESSAGE && msg->from != 0) swerl_send(rt, msg->from, msg->data, msg->len);
    return SWERL_CONTINUE;
}

static int ping_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    ping_job *job = state;
    if (msg->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    if (msg->len == 4 && memcmp(msg->data, "pong", 4) == 0 && --job->rounds == 0) {
        __atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
        return SWERL_STOP;
    }
    swerl_send(swerl_ctx_runtime(ctx), job->pong, "ping", 4);
    return SWERL_CONTINUE;
}

static int pong_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    (void)state;
    if (msg->kind == SWERL_MESSAGE && msg->from != 0) swerl_send(swerl_ctx_runtime(ctx), msg->from, "pong", 4);
    return SWERL_CONTINUE;
}

const swerl_behavior echo_behavior = { sizeof(swerl_behavior), NULL, echo_handle, NULL };
const swerl_behavior ping_behavior = { sizeof(swerl_behavior), NULL, ping_handle, NULL };
const swerl_behavior pong_behavior = { sizeof(swerl_behavior), NULL, pong_handle, NULL };
