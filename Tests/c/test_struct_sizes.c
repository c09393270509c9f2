/*
 * test_struct_sizes.c — the header's growth promise, struct by struct
 * (issue 12, item 3): every public struct passed with the size of its first
 * layout (what an older caller passes) and with a padded future size (what
 * a newer caller passes). A struct the caller fills is read only as far as
 * its size; a struct the library fills is written only as far as its size
 * (the bytes after are canaries that must stay); arrays go at the caller's
 * stride. Under ASan (make test-c-asan) the exact-size copies live in
 * buffers of exactly that size, so a read or write past them is reported.
 */
#include "check.h"

#include <stddef.h>

#define PAD 32
#define CANARY 0xCD

/* A copy of `len` bytes of `src` in a heap buffer of exactly `size` bytes
   (plus nothing): the struct as a caller of that size owns it. */
static void *sized_copy(const void *src, size_t len, size_t size)
{
    unsigned char *buf = (unsigned char *)malloc(size);
    memset(buf, CANARY, size);
    memcpy(buf, src, len < size ? len : size);
    {
        uint32_t s = (uint32_t)size;   /* the struct's size field */
        memcpy(buf, &s, sizeof s);
    }
    return buf;
}

static int all_canary(const unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i] != CANARY) return 0;
    }
    return 1;
}

static int h_nothing(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx; (void)msg; (void)state;
    return SWERL_CONTINUE;
}
static int g_started;
static int init_count(swerl_ctx *ctx, void *arg, void **state)
{
    (void)ctx; (void)arg; (void)state;
    AT_ADD(&g_started, 1);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Structs the caller fills                                                  */
/* ------------------------------------------------------------------------ */

static void t_config(void)
{
    swerl_config cfg;
    swerl_runtime *rt = NULL;
    size_t first = offsetof(swerl_config, on_log);  /* 1.0 ended at the thread hooks */
    void *old_cfg, *new_cfg;
    swerl_config_init(&cfg);
    cfg.schedulers = 1;
    /* 1.0 size: the log hook after it is garbage that must not be read. */
    old_cfg = sized_copy(&cfg, first, first);
    CHECK_EQ_INT(swerl_runtime_start((const swerl_config *)old_cfg, &rt), 0);
    if (rt) {
        swerl_stats st = check_stats(rt);
        CHECK_EQ_INT(st.schedulers, 1);
        swerl_runtime_free(rt);
    }
    /* One byte short of 1.0: refused. */
    ((swerl_config *)old_cfg)->size = (uint32_t)first - 1;
    CHECK_EQ_INT(swerl_runtime_start((const swerl_config *)old_cfg, &rt), SWERL_EINVAL);
    free(old_cfg);
    /* A newer caller's: larger, with fields this library does not know. */
    new_cfg = sized_copy(&cfg, sizeof cfg, sizeof cfg + PAD);
    CHECK_EQ_INT(swerl_runtime_start((const swerl_config *)new_cfg, &rt), 0);
    if (rt) {
        CHECK_EQ_INT(check_stats(rt).schedulers, 1);
        swerl_runtime_free(rt);
    }
    free(new_cfg);
}

static void t_spawn_opts_and_behavior(void)
{
    swerl_runtime *rt = check_start_rt(1, 0);
    swerl_behavior b = { sizeof(swerl_behavior), init_count, h_nothing, NULL };
    swerl_spawn_opts opts;
    void *exact_b, *big_b, *exact_o, *big_o;
    swerl_pid pid = 0;
    swerl_process_info info;
    if (!CHECK(rt != NULL)) return;
    swerl_spawn_opts_init(&opts);
    opts.name = "sized";
    exact_b = sized_copy(&b, sizeof b, sizeof b);
    big_b = sized_copy(&b, sizeof b, sizeof b + PAD);
    exact_o = sized_copy(&opts, sizeof opts, sizeof opts);
    big_o = sized_copy(&opts, sizeof opts, sizeof opts + PAD);
    CHECK_EQ_INT(swerl_spawn(rt, (const swerl_behavior *)exact_b, NULL, (const swerl_spawn_opts *)exact_o, &pid), 0);
    CHECK_EQ_INT(swerl_unregister(rt, "sized"), 0);
    CHECK_EQ_INT(swerl_spawn(rt, (const swerl_behavior *)big_b, NULL, (const swerl_spawn_opts *)big_o, &pid), 0);
    info.size = sizeof info;
    CHECK_EQ_INT(swerl_process_get_info(rt, pid, &info), 0);
    CHECK_STR(info.name, "sized");
    CHECK_WAIT(AT_LOAD(&g_started) == 2);
    ((swerl_behavior *)exact_b)->size = sizeof b - 1;
    CHECK_EQ_INT(swerl_spawn(rt, (const swerl_behavior *)exact_b, NULL, NULL, &pid), SWERL_EINVAL);
    ((swerl_spawn_opts *)exact_o)->size = sizeof opts - 1;
    ((swerl_behavior *)exact_b)->size = sizeof b;
    CHECK_EQ_INT(swerl_spawn(rt, (const swerl_behavior *)exact_b, NULL, (const swerl_spawn_opts *)exact_o, &pid),
                 SWERL_EINVAL);
    free(exact_b);
    free(big_b);
    free(exact_o);
    free(big_o);
    swerl_runtime_free(rt);
}

/* Child specs in an array at a newer caller's stride: each read where that
   caller put it. */
static void t_specs(void)
{
    swerl_runtime *rt = check_start_rt(1, 0);
    static const swerl_behavior b = { sizeof(swerl_behavior), init_count, h_nothing, NULL };
    const char *ids[3] = { "first", "second", "third" };
    size_t stride = sizeof(swerl_child_spec) + PAD;
    unsigned char *children = (unsigned char *)malloc(3 * stride);
    swerl_supervisor_spec spec;
    void *big_spec;
    swerl_pid sup = 0;
    int i;
    if (!CHECK(rt != NULL && children != NULL)) return;
    AT_STORE(&g_started, 0);
    memset(children, CANARY, 3 * stride);
    for (i = 0; i < 3; i++) {
        swerl_child_spec child;
        uint32_t size = (uint32_t)stride;
        swerl_child_spec_init(&child);
        child.id = ids[i];
        child.behavior = &b;
        memcpy(children + (size_t)i * stride, &child, sizeof child);
        memcpy(children + (size_t)i * stride, &size, sizeof size);
    }
    swerl_supervisor_spec_init(&spec);
    spec.children = (const swerl_child_spec *)children;
    spec.n_children = 3;
    big_spec = sized_copy(&spec, sizeof spec, sizeof spec + PAD);
    CHECK_EQ_INT(swerl_supervisor_start(rt, (const swerl_supervisor_spec *)big_spec, NULL, &sup), 0);
    CHECK_EQ_INT(AT_LOAD(&g_started), 3);
    for (i = 0; i < 3; i++) CHECK(check_child_pid(rt, sup, ids[i]) != 0);
    free(big_spec);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
    free(children);
}

/* ------------------------------------------------------------------------ */
/* Structs the library fills                                                 */
/* ------------------------------------------------------------------------ */

static void t_stats(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    size_t first = offsetof(swerl_stats, messages_rejected);  /* 1.0 ended at escalations */
    unsigned char *buf = (unsigned char *)malloc(sizeof(swerl_stats) + PAD);
    swerl_stats st;
    uint32_t size;
    if (!CHECK(rt != NULL && buf != NULL)) return;
    memset(buf, CANARY, sizeof(swerl_stats) + PAD);
    size = (uint32_t)first;
    memcpy(buf, &size, sizeof size);
    CHECK_EQ_INT(swerl_runtime_stats(rt, (swerl_stats *)buf), 0);
    memcpy(&st, buf, first);
    CHECK_EQ_INT(st.size, first);
    CHECK_EQ_INT(st.schedulers, 2);
    CHECK(all_canary(buf + first, sizeof(swerl_stats) + PAD - first));   /* nothing past the 1.0 size */
    memset(buf, CANARY, sizeof(swerl_stats) + PAD);
    size = (uint32_t)(sizeof(swerl_stats) + PAD);
    memcpy(buf, &size, sizeof size);
    CHECK_EQ_INT(swerl_runtime_stats(rt, (swerl_stats *)buf), 0);
    memcpy(&st, buf, sizeof st);
    CHECK_EQ_INT(st.size, sizeof(swerl_stats) + PAD);
    CHECK_EQ_INT(st.schedulers, 2);
    CHECK(all_canary(buf + sizeof(swerl_stats), PAD));                  /* a newer caller's fields untouched */
    size = (uint32_t)first - 1;
    memcpy(buf, &size, sizeof size);
    CHECK_EQ_INT(swerl_runtime_stats(rt, (swerl_stats *)buf), SWERL_EINVAL);
    free(buf);
    swerl_runtime_free(rt);
}

static void t_process_info_and_counts(void)
{
    swerl_runtime *rt = check_start_rt(1, 0);
    swerl_behavior b = { sizeof(swerl_behavior), NULL, h_nothing, NULL };
    swerl_child_spec child;
    swerl_supervisor_spec spec;
    swerl_spawn_opts opts;
    swerl_pid pid = 0, sup = 0;
    unsigned char *buf = (unsigned char *)malloc(sizeof(swerl_process_info) + PAD);
    swerl_process_info info;
    swerl_child_counts counts;
    uint32_t size;
    if (!CHECK(rt != NULL && buf != NULL)) return;
    swerl_spawn_opts_init(&opts);
    opts.name = "probe";
    CHECK_EQ_INT(swerl_spawn(rt, &b, NULL, &opts, &pid), 0);
    memset(buf, CANARY, sizeof(swerl_process_info) + PAD);
    size = (uint32_t)(sizeof(swerl_process_info) + PAD);
    memcpy(buf, &size, sizeof size);
    CHECK_EQ_INT(swerl_process_get_info(rt, pid, (swerl_process_info *)buf), 0);
    memcpy(&info, buf, sizeof info);
    CHECK_EQ_INT(info.size, sizeof(swerl_process_info) + PAD);
    CHECK_STR(info.name, "probe");
    CHECK(all_canary(buf + sizeof(swerl_process_info), PAD));
    free(buf);
    swerl_child_spec_init(&child);
    child.id = "c";
    child.behavior = &b;
    spec = check_sup_spec(SWERL_ONE_FOR_ONE, 1, 5000, &child, 1);
    CHECK_EQ_INT(swerl_supervisor_start(rt, &spec, NULL, &sup), 0);
    buf = (unsigned char *)malloc(sizeof(swerl_child_counts) + PAD);
    memset(buf, CANARY, sizeof(swerl_child_counts) + PAD);
    size = (uint32_t)(sizeof(swerl_child_counts) + PAD);
    memcpy(buf, &size, sizeof size);
    CHECK_EQ_INT(swerl_supervisor_count_children(rt, sup, (swerl_child_counts *)buf), 0);
    memcpy(&counts, buf, sizeof counts);
    CHECK_EQ_INT(counts.specs, 1);
    CHECK_EQ_INT(counts.active, 1);
    CHECK(all_canary(buf + sizeof(swerl_child_counts), PAD));
    free(buf);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

/* which_children at a newer caller's stride: each record where that caller
   looks, the padding between them untouched. */
static void t_child_info_stride(void)
{
    swerl_runtime *rt = check_start_rt(1, 0);
    swerl_behavior b = { sizeof(swerl_behavior), NULL, h_nothing, NULL };
    swerl_child_spec children[3];
    const char *ids[3] = { "a", "b", "c" };
    swerl_supervisor_spec spec;
    swerl_pid sup = 0;
    size_t stride = sizeof(swerl_child_info) + PAD, count = 0;
    unsigned char *buf = (unsigned char *)malloc(3 * stride);
    uint32_t size = (uint32_t)stride;
    int i;
    if (!CHECK(rt != NULL && buf != NULL)) return;
    for (i = 0; i < 3; i++) {
        swerl_child_spec_init(&children[i]);
        children[i].id = ids[i];
        children[i].behavior = &b;
    }
    spec = check_sup_spec(SWERL_ONE_FOR_ONE, 1, 5000, children, 3);
    CHECK_EQ_INT(swerl_supervisor_start(rt, &spec, NULL, &sup), 0);
    memset(buf, CANARY, 3 * stride);
    memcpy(buf, &size, sizeof size);
    CHECK_EQ_INT(swerl_supervisor_which_children(rt, sup, (swerl_child_info *)buf, 3, &count), 0);
    CHECK_EQ_INT(count, 3);
    for (i = 0; i < 3; i++) {
        swerl_child_info info;
        memcpy(&info, buf + (size_t)i * stride, sizeof info);
        CHECK_STR(info.id, ids[i]);
        CHECK(info.pid != 0);
        CHECK(all_canary(buf + (size_t)i * stride + sizeof(swerl_child_info), PAD));
    }
    free(buf);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

/* swerl_socket_opts read as far as its size (exact, and a newer caller's
   with canaries after); swerl_socket_info written as far as its size. */
static void t_socket_structs(void)
{
    swerl_runtime *rt = check_start_rt(1, 0);
    swerl_behavior b = { sizeof(swerl_behavior), NULL, h_nothing, NULL };
    swerl_socket_opts o;
    swerl_socket s = 0;
    swerl_pid pid = 0;
    void *exact, *larger;
    unsigned char *buf;
    uint32_t size;
    swerl_socket_info info;
    if (!CHECK(rt != NULL)) return;
    CHECK_EQ_INT(swerl_spawn(rt, &b, NULL, NULL, &pid), 0);
    swerl_socket_opts_init(&o);
    CHECK_EQ_INT(o.size, sizeof o);
    o.packet = SWERL_PACKET_2;
    exact = sized_copy(&o, sizeof o, sizeof o);
    larger = sized_copy(&o, sizeof o, sizeof o + PAD);
    CHECK_EQ_INT(swerl_socket_listen(rt, pid, "127.0.0.1:0", (swerl_socket_opts *)exact, &s), 0);
    CHECK_EQ_INT(swerl_socket_listen(rt, pid, "127.0.0.1:0", (swerl_socket_opts *)larger, &s), 0);
    free(exact);
    free(larger);
    buf = (unsigned char *)malloc(sizeof(swerl_socket_info) + PAD);
    memset(buf, CANARY, sizeof(swerl_socket_info) + PAD);
    size = (uint32_t)(sizeof(swerl_socket_info) + PAD);
    memcpy(buf, &size, sizeof size);
    CHECK_EQ_INT(swerl_socket_info_get(rt, s, (swerl_socket_info *)buf), 0);
    memcpy(&info, buf, sizeof info);
    CHECK_EQ_INT(info.packet, SWERL_PACKET_2);
    CHECK_EQ_U64(info.owner, pid);
    CHECK(all_canary(buf + sizeof(swerl_socket_info), PAD));
    free(buf);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("swerl_config: 1.0 size, and a newer caller's", t_config, 60);
    check_section("swerl_spawn_opts and swerl_behavior: exact and larger sizes", t_spawn_opts_and_behavior, 60);
    check_section("supervisor and child specs: children at a newer caller's stride", t_specs, 60);
    check_section("swerl_stats: 1.0 size, and a newer caller's", t_stats, 60);
    check_section("swerl_process_info and swerl_child_counts: a newer caller's size", t_process_info_and_counts, 60);
    check_section("swerl_child_info: records at a newer caller's stride", t_child_info_stride, 60);
    check_section("swerl_socket_opts and swerl_socket_info: exact and larger sizes", t_socket_structs, 60);
    return check_summary();
}
