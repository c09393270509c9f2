/* A process written in C for test_native.py: counts MESSAGEs; a CALL
   b"count" answers the count as text; a CALL b"crash" crashes it. `arg`
   (if not NULL) points to an int that init adds to the count, to show the
   same arg reaches every start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <swerl.h>

typedef struct { long count; } counter;

static int counter_init(swerl_ctx *ctx, void *arg, void **state) {
    (void)ctx;
    counter *c = calloc(1, sizeof *c);
    if (c == NULL) return -1;
    if (arg != NULL) c->count = *(const int *)arg;
    *state = c;
    return 0;
}

static int counter_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    counter *c = state;
    if (msg->kind == SWERL_MESSAGE) {
        c->count++;
    } else if (msg->kind == SWERL_CALL) {
        if (msg->len == 5 && memcmp(msg->data, "crash", 5) == 0) {
            swerl_fail(ctx, SWERL_REASON_ERROR, "asked to crash", 14);
            return SWERL_STOP;
        }
        char text[32];
        int n = snprintf(text, sizeof text, "%ld", c->count);
        swerl_reply(swerl_ctx_runtime(ctx), msg->ref, text, (size_t)n);
    }
    return SWERL_CONTINUE;
}

static void counter_terminate(swerl_ctx *ctx, int32_t reason, void *state) {
    (void)ctx; (void)reason;
    free(state);
}

static const swerl_behavior behavior = {
    sizeof(swerl_behavior), counter_init, counter_handle, counter_terminate
};

const swerl_behavior *native_counter_behavior(void) { return &behavior; }

/* Data symbols for NativeProcess.load's checks: the behaviour as a
   variable (accepted as is), and data that is no behaviour at all (refused
   with a ValueError; 1.1 called it as a function and crashed). */
const swerl_behavior native_counter_behavior_variable = {
    sizeof(swerl_behavior), counter_init, counter_handle, counter_terminate
};
const char native_counter_not_a_behavior[64] = "just some bytes, not a swerl_behavior";
