/*
 * observe.c — a small shop that keeps busy, to look at in the observer page.
 *
 *   usage: observe [SECONDS]      (default: until Ctrl-C)
 *
 * It serves the observer page (swerl_observer_start, with actions on: try
 * Kill and Restart) and prints its URL, then runs:
 *   - a supervision tree: "shop" (one_for_one) with a "cashier", a
 *     "stock" keeper and a nested "delivery" supervisor of two drivers;
 *   - a customer that sends the cashier an order every 5 ms; every 40th
 *     order is bad and crashes the cashier, which "shop" restarts;
 *   - the drivers ping-pong parcels between them, one hop a millisecond;
 *   - a "backlog" process that takes its mail only every few seconds, so
 *     its queue grows and drains (sort the process table by queue).
 * Open the URL while it runs: the charts move, the cashier's restart count
 * grows, the crashes appear among the events.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <swerl.h>

#define BAD_ORDER_EVERY 40

static swerl_runtime *rt;
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) { (void)sig; interrupted = 1; }

/* --- the cashier: counts orders; a bad one crashes it ------------------- */

static int cashier_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)state;
    if (msg->kind == SWERL_MESSAGE && msg->len == 3 && memcmp(msg->data, "bad", 3) == 0) {
        static const char why[] = "a bad order";
        swerl_fail(ctx, SWERL_REASON_ERROR, why, sizeof why - 1);
        return -1;
    }
    return SWERL_CONTINUE;
}
static int register_init(swerl_ctx *ctx, void *arg, void **state)
{
    (void)state;
    return swerl_register(swerl_ctx_runtime(ctx), (const char *)arg, swerl_self(ctx));
}

static const swerl_behavior cashier = { sizeof(swerl_behavior), register_init, cashier_handle, NULL };

/* --- stock: idle, registered, to be seen ---------------------------------- */

static int idle_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx; (void)msg; (void)state;
    return SWERL_CONTINUE;
}
static const swerl_behavior stock = { sizeof(swerl_behavior), register_init, idle_handle, NULL };

/* --- drivers: pass a parcel back and forth, one hop a millisecond -------- */

static int driver_init(swerl_ctx *ctx, void *arg, void **state)
{
    (void)state;
    swerl_register(swerl_ctx_runtime(ctx), (const char *)arg, swerl_self(ctx));
    if (strcmp((const char *)arg, "driver_a") == 0) {
        swerl_ref timer;
        swerl_send_after(swerl_ctx_runtime(ctx), swerl_self(ctx), 1, "parcel", 6, &timer);
    }
    return 0;
}

static int driver_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)state;
    if (msg->kind == SWERL_MESSAGE) {
        swerl_pid me = swerl_self(ctx), other = 0;
        swerl_whereis(swerl_ctx_runtime(ctx), "driver_a", &other);
        if (other == me) swerl_whereis(swerl_ctx_runtime(ctx), "driver_b", &other);
        swerl_ref timer;
        if (other != 0) swerl_send_after(swerl_ctx_runtime(ctx), other, 1, "parcel", 6, &timer);
    }
    return SWERL_CONTINUE;
}
static const swerl_behavior driver = { sizeof(swerl_behavior), driver_init, driver_handle, NULL };

/* --- backlog: skips its mail, then takes all of it every 4 s ------------- */

typedef struct { double open_until; } backlog_state;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int backlog_init(swerl_ctx *ctx, void *arg, void **state)
{
    (void)arg;
    backlog_state *s = calloc(1, sizeof *s);
    if (!s) return -1;
    *state = s;
    swerl_register(swerl_ctx_runtime(ctx), "backlog", swerl_self(ctx));
    return 0;
}

static int backlog_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    backlog_state *s = state;
    (void)ctx;
    if (msg->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    double now = now_s();
    if (now < s->open_until) return SWERL_CONTINUE;         /* draining: take it */
    if ((long)now % 8 < 4) return SWERL_SKIP;                /* 4 s of piling up */
    s->open_until = now + 4;
    return SWERL_CONTINUE;
}

static void backlog_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx; (void)reason;
    free(state);
}
static const swerl_behavior backlog = { sizeof(swerl_behavior), backlog_init, backlog_handle, backlog_terminate };

/* --- the customer: an order every 5 ms (from main's loop) --------------- */

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0;
    swerl_config cfg;
    swerl_config_init(&cfg);
    if (swerl_runtime_start(&cfg, &rt) != 0) {
        fprintf(stderr, "start: %s\n", swerl_last_error_detail());
        return 1;
    }

    swerl_child_spec drivers[2], shop_children[3];
    swerl_supervisor_spec delivery, shop;
    swerl_child_spec_init(&drivers[0]);
    drivers[0].id = "driver_a";
    drivers[0].behavior = &driver;
    drivers[0].arg = "driver_a";
    swerl_child_spec_init(&drivers[1]);
    drivers[1].id = "driver_b";
    drivers[1].behavior = &driver;
    drivers[1].arg = "driver_b";
    swerl_supervisor_spec_init(&delivery);
    delivery.children = drivers;
    delivery.n_children = 2;

    swerl_child_spec_init(&shop_children[0]);
    shop_children[0].id = "cashier";
    shop_children[0].behavior = &cashier;
    shop_children[0].arg = "cashier";
    swerl_child_spec_init(&shop_children[1]);
    shop_children[1].id = "stock";
    shop_children[1].behavior = &stock;
    shop_children[1].arg = "stock";
    swerl_child_spec_init(&shop_children[2]);
    shop_children[2].id = "delivery";
    shop_children[2].type = SWERL_SUPERVISOR;
    shop_children[2].shutdown_ms = SWERL_INFINITY;
    shop_children[2].supervisor = &delivery;
    swerl_supervisor_spec_init(&shop);
    shop.intensity = 1000;                                   /* crashes are the show */
    shop.period_ms = 1000;
    shop.children = shop_children;
    shop.n_children = 3;

    swerl_pid shop_pid = 0, backlog_pid = 0;
    if (swerl_supervisor_start(rt, &shop, NULL, &shop_pid) != 0
        || swerl_spawn(rt, &backlog, NULL, NULL, &backlog_pid) != 0) {
        fprintf(stderr, "start: %s\n", swerl_last_error_detail());
        return 1;
    }
    swerl_register(rt, "shop", shop_pid);

    swerl_observer_opts opts;
    char url[SWERL_OBSERVER_URL_MAX];
    swerl_observer_opts_init(&opts);
    opts.flags = SWERL_OBSERVE_ACTIONS;
    if (swerl_observer_start(rt, &opts, url, sizeof url) != 0) {
        fprintf(stderr, "observer: %s\n", swerl_last_error_detail());
        return 1;
    }
    printf("observer: %s\n", url);
    printf("open it in a browser; %s\n", seconds > 0 ? "it stops by itself" : "Ctrl-C stops");
    fflush(stdout);
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);

    double end = now_s() + seconds;
    unsigned long orders = 0;
    while (!interrupted && (seconds <= 0 || now_s() < end)) {
        struct timespec pause = { 0, 5 * 1000 * 1000 };
        orders++;
        /* By name: between a crash and the restart nobody has it (ENONAME). */
        if (orders % BAD_ORDER_EVERY == 0) swerl_send_named(rt, "cashier", "bad", 3);
        else swerl_send_named(rt, "cashier", "order", 5);
        swerl_send(rt, backlog_pid, "letter", 6);
        nanosleep(&pause, NULL);
    }

    swerl_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    swerl_runtime_stats(rt, &st);
    printf("orders: %lu, restarts: %llu\n", orders, (unsigned long long)st.restarts);
    swerl_observer_stop(rt);
    swerl_runtime_stop(rt, 5000);
    swerl_runtime_free(rt);
    printf("stopped\n");
    return 0;
}
