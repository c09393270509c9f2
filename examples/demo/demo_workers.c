/* The demo's C processes, built as a small shared object that Python loads:
   C and Python processes live in one Swerl runtime.

   counter: counts the messages it gets; answers a CALL with the count; a
   message "crash" makes it fail with reason SWERL_REASON_USER + 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <swerl.h>

typedef struct counter { unsigned long count; } counter;

static int counter_init(swerl_ctx *ctx, void *arg, void **state) {
    (void)ctx; (void)arg;
    counter *c = calloc(1, sizeof *c);
    if (!c) return -1;
    *state = c;
    swerl_pid self = swerl_self(ctx);
    printf("  [C counter <0.%llu.%llu>] started\n", (unsigned long long)(self & 0xFFFFFF),
           (unsigned long long)((self >> 24) & 0x3FFFFFFF));
    fflush(stdout);
    return 0;
}

static int counter_handle(swerl_ctx *ctx, const swerl_message *msg, void *state) {
    counter *c = state;
    if (msg->kind == SWERL_CALL) {
        char answer[64];
        int n = snprintf(answer, sizeof answer, "count=%lu", c->count);
        swerl_reply(swerl_ctx_runtime(ctx), msg->ref, answer, (size_t)n);
        return SWERL_CONTINUE;
    }
    if (msg->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    if (msg->len == 5 && memcmp(msg->data, "crash", 5) == 0) {
        static const char why[] = "asked to crash";
        swerl_fail(ctx, SWERL_REASON_USER + 1, why, sizeof why - 1);
        return -1;
    }
    c->count++;
    return SWERL_CONTINUE;
}

static void counter_terminate(swerl_ctx *ctx, int32_t reason, void *state) {
    swerl_pid self = swerl_self(ctx);
    printf("  [C counter <0.%llu.%llu>] terminate, reason %d\n", (unsigned long long)(self & 0xFFFFFF),
           (unsigned long long)((self >> 24) & 0x3FFFFFFF), reason);
    fflush(stdout);
    free(state);
}

static const swerl_behavior counter_behavior = {
    sizeof(swerl_behavior), counter_init, counter_handle, counter_terminate
};

const swerl_behavior *demo_counter_behavior(void) { return &counter_behavior; }
