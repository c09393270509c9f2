/*
 * repro_node_cache.c — how much memory the runtime keeps after messages of
 * many sizes have come and gone (the soak's slow RSS rise, isolated).
 *
 *     repro_node_cache [per_size] [schedulers]
 *
 * One runtime, one sink process. For each payload size from 8 to 1000
 * bytes in steps of 16 (one message-node size class each), a thread outside
 * the runtime sends `per_size` messages (default 20000) and waits until the
 * sink has handled them all; then the RSS. The messages are gone, yet RSS
 * keeps the nodes: a scheduler's free list keeps up to 4096 nodes per size
 * class and the runtime's depot up to 16 batches of 256 more
 * (Sources/Swerl/Core/NodePool.swift, NodeDepot.swift), for as long as the
 * runtime runs. A control does the same sizes with plain malloc/free on
 * this thread, which glibc reuses across sizes.
 *
 * Prints one line per size and a `RESULT {json}` line: the RSS the runtime
 * kept (KiB) after the sweep, after swerl_runtime_free, and after
 * malloc_trim(0) (if that gives it back, it was cached, not leaked).
 */
#define _GNU_SOURCE
#include <swerl.h>

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic unsigned long handled;

static int sink(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)m;
    (void)state;
    atomic_fetch_add_explicit(&handled, 1, memory_order_relaxed);
    return SWERL_CONTINUE;
}

static unsigned long rss_kib(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
    fclose(f);
    return resident * (unsigned long)sysconf(_SC_PAGESIZE) / 1024ul;
}

int main(int argc, char **argv)
{
    unsigned long per_size = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
    unsigned schedulers = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
    static unsigned char payload[1024];
    memset(payload, 0x5a, sizeof payload);

    /* The control: the same sizes and counts through malloc/free. */
    unsigned long rss0 = rss_kib();
    void **blocks = malloc(per_size * sizeof *blocks);
    for (size_t size = 8; size <= 1000; size += 16) {
        for (unsigned long i = 0; i < per_size; i++) {
            blocks[i] = malloc(size + 64);
            memset(blocks[i], 1, 16);
        }
        for (unsigned long i = 0; i < per_size; i++) free(blocks[i]);
    }
    free(blocks);
    unsigned long rss_control = rss_kib();

    swerl_config cfg;
    swerl_config_init(&cfg);
    cfg.schedulers = schedulers;
    swerl_runtime *rt = NULL;
    if (swerl_runtime_start(&cfg, &rt) != 0) return 2;
    swerl_behavior b = {sizeof(swerl_behavior), NULL, sink, NULL};
    swerl_pid pid = 0;
    if (swerl_spawn(rt, &b, NULL, NULL, &pid) != 0) return 2;
    unsigned long rss_start = rss_kib(), sent = 0;
    printf("control (malloc/free, same sizes): RSS %lu -> %lu KiB\n", rss0, rss_control);
    printf("%8s %12s %12s\n", "payload", "RSS KiB", "+KiB");
    unsigned long prev = rss_start;
    for (size_t size = 8; size <= 1000; size += 16) {
        for (unsigned long i = 0; i < per_size; i++) {
            int rc = swerl_send(rt, pid, payload, size);
            if (rc != 0) {
                fprintf(stderr, "send: %s\n", swerl_err_name(rc));
                return 2;
            }
        }
        sent += per_size;
        while (atomic_load(&handled) < sent) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        unsigned long r = rss_kib();
        printf("%8zu %12lu %12ld\n", size, r, (long)r - (long)prev);
        prev = r;
    }
    unsigned long rss_swept = rss_kib();
    swerl_runtime_free(rt);
    unsigned long rss_freed = rss_kib();
    malloc_trim(0);   /* freed, not leaked: glibc gives it back when asked */
    unsigned long rss_trimmed = rss_kib();
    printf("RESULT {\"per_size\": %lu, \"schedulers\": %u, \"messages\": %lu, \"control_rss_growth_kib\": %ld, "
           "\"rss_start_kib\": %lu, \"rss_after_sweep_kib\": %lu, \"kept_kib\": %ld, \"rss_after_free_kib\": %lu, \"rss_after_free_and_trim_kib\": %lu}\n",
           per_size, schedulers, sent, (long)rss_control - (long)rss0, rss_start, rss_swept,
           (long)rss_swept - (long)rss_start, rss_freed, rss_trimmed);
    return 0;
}
