/*
 * test_burst.c — deep mailboxes: a producer that sends a million messages in
 * one turn, and the memory they took given back once they are drained.
 *
 * What it asserts:
 *   - every message of a burst arrives, in the order each producer sent it:
 *     one producer on one scheduler (a mailbox a million deep, then drained),
 *     and four producers on two schedulers into one receiver (nodes taken on
 *     one thread and given back on another);
 *   - a burst sent by a thread outside the runtime (its nodes malloc'd, not
 *     carved from the node arena) arrives whole too, and mixes with the
 *     arena's nodes in the schedulers' pools;
 *   - after each drain, once the runtime idles, the resident memory is back
 *     within 10% of what it was before the burst (at least 1 MiB of slack
 *     for a small baseline): the nodes' chunks are unmapped, not kept
 *     (under ASan, not for the thread's burst: its allocator's quarantine
 *     keeps what free() gets);
 *     A burst takes 64-80 MB, so memory kept would be far above the bound;
 *   - the same for a burst into a turn group's process driven by the main
 *     thread, which then stops driving: its driver's pool gives its nodes
 *     back too; and driven by a thread that waits for each turn with no
 *     time limit (as Python's dispatcher does): it gives them back as it
 *     goes to sleep after the drain.
 */
#include "check.h"

#define PRODUCERS 4

typedef struct receiver {
    uint64_t next[PRODUCERS];   /* the sequence number expected from each producer */
    uint64_t received;
    uint64_t disorder;
} receiver;

typedef struct producer {
    swerl_pid to;
    uint32_t index;             /* this producer's number, in every message */
    uint64_t count;
    uint64_t failed;            /* sends that did not return 0 */
} producer;

/* A message: the producer's number in the top byte, then its sequence number. */
static uint64_t message_word(uint32_t index, uint64_t sequence) { return ((uint64_t)index << 56) | sequence; }

static int h_receiver(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    receiver *r = (receiver *)state;
    uint64_t word;
    uint32_t index;
    (void)ctx;
    if (msg->kind != SWERL_MESSAGE || msg->len != sizeof word) return SWERL_CONTINUE;
    memcpy(&word, msg->data, sizeof word);
    index = (uint32_t)(word >> 56);
    if (index >= PRODUCERS || (word & ((1ull << 56) - 1)) != r->next[index]) r->disorder++;
    else r->next[index]++;
    AT_ADD(&r->received, 1);
    return SWERL_CONTINUE;
}
static const swerl_behavior b_receiver = { sizeof(swerl_behavior), NULL, h_receiver, NULL };

/* Told anything, sends its whole burst in this one turn. */
static int h_producer(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    producer *p = (producer *)state;
    if (msg->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    for (uint64_t i = 0; i < p->count; i++) {
        uint64_t word = message_word(p->index, i);
        if (swerl_send(swerl_ctx_runtime(ctx), p->to, &word, sizeof word) != 0) AT_ADD(&p->failed, 1);
    }
    return SWERL_CONTINUE;
}
static const swerl_behavior b_producer = { sizeof(swerl_behavior), NULL, h_producer, NULL };

/* Waits (at most 20 s) for the resident memory to come back within 10% of
   `before` (1 MiB at least); the runtime gives it back when it idles. */
static void check_memory_back(long before, const char *what)
{
    long bound = before + (before / 10 > 1024 ? before / 10 : 1024);
    long now = check_rss_kib();
    double deadline = check_now_ms() + 20000.0;
    while (now > bound && check_now_ms() < deadline) {
        check_sleep_ms(10);
        now = check_rss_kib();
    }
    printf("figure: burst %s rss_before_kib=%ld rss_after_drain_kib=%ld\n", what, before, now);
    CHECK_MSG(now >= 0 && now <= bound, "%s: %ld KiB resident after the drain, %ld before (bound %ld)",
              what, now, before, bound);
}

/* `producers` processes each send `each` messages in one turn to one
   receiver; what (NULL: a warm-up, whose memory the pools keep) names it. */
static void burst(swerl_runtime *rt, int producers, uint64_t each, const char *what)
{
    receiver r;
    producer p[PRODUCERS];
    swerl_pid to, from[PRODUCERS];
    uint64_t total = (uint64_t)producers * each;
    long before;

    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(swerl_spawn(rt, &b_receiver, &r, NULL, &to), 0);
    for (int i = 0; i < producers; i++) {
        memset(&p[i], 0, sizeof p[i]);
        p[i].to = to;
        p[i].index = (uint32_t)i;
        p[i].count = each;
        CHECK_EQ_INT(swerl_spawn(rt, &b_producer, &p[i], NULL, &from[i]), 0);
    }
    before = check_rss_kib();
    for (int i = 0; i < producers; i++) CHECK_EQ_INT(swerl_send(rt, from[i], "go", 2), 0);
    CHECK_WAIT_MS_(AT_LOAD(&r.received) == total, 120000u);
    CHECK_EQ_U64(AT_LOAD(&r.disorder), 0);
    for (int i = 0; i < producers; i++) {
        CHECK_EQ_U64(AT_LOAD(&p[i].failed), 0);
        CHECK_EQ_U64(r.next[i], each);
    }
    if (what) check_memory_back(before, what);
    for (int i = 0; i < producers; i++) CHECK_EQ_INT(swerl_exit(rt, from[i], SWERL_REASON_KILL, NULL, 0), 0);
    CHECK_EQ_INT(swerl_exit(rt, to, SWERL_REASON_KILL, NULL, 0), 0);
}

static void t_one_producer(void)
{
    swerl_runtime *rt = check_start_rt(1, 0);
    if (!CHECK(rt != NULL)) return;
    burst(rt, 1, check_scaled(10000, 1000), NULL);
    burst(rt, 1, check_scaled(1000000, 100000), "one producer, one scheduler");
    CHECK_EQ_INT(swerl_runtime_stop(rt, 10000), 0);
    swerl_runtime_free(rt);
}

static void t_four_producers(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    if (!CHECK(rt != NULL)) return;
    burst(rt, 1, check_scaled(10000, 1000), NULL);
    burst(rt, PRODUCERS, check_scaled(250000, 25000), "four producers, two schedulers");
    CHECK_EQ_INT(swerl_runtime_stop(rt, 10000), 0);
    swerl_runtime_free(rt);
}

/* The main thread sends a burst (nodes malloc'd), then a process does (nodes
   from the arena): both kinds pass through the same pools. */
static void t_from_a_thread(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    receiver r;
    swerl_pid to;
    uint64_t n = check_scaled(300000, 30000);
    long before;
    if (!CHECK(rt != NULL)) return;
    burst(rt, 1, check_scaled(10000, 1000), NULL);
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(swerl_spawn(rt, &b_receiver, &r, NULL, &to), 0);
    before = check_rss_kib();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t word = message_word(0, i);
        if (swerl_send(rt, to, &word, sizeof word) != 0) { CHECK_MSG(0, "send %llu failed", (unsigned long long)i); break; }
    }
    CHECK_WAIT_MS_(AT_LOAD(&r.received) == n, 120000u);
    CHECK_EQ_U64(AT_LOAD(&r.disorder), 0);
    /* Those nodes were malloc'd: under ASan their free() goes to its
       quarantine, which keeps the memory by design (LeakSanitizer checks
       they were freed). The arena's bursts are measured under ASan too. */
    if (!CHECK_UNDER_ASAN) check_memory_back(before, "from the main thread");
    CHECK_EQ_INT(swerl_exit(rt, to, SWERL_REASON_KILL, NULL, 0), 0);
    burst(rt, 2, check_scaled(300000, 30000), "two producers after the thread's burst");
    CHECK_EQ_INT(swerl_runtime_stop(rt, 10000), 0);
    swerl_runtime_free(rt);
}

/* A thread that drives a group one turn at a time with no time limit, as
   an event loop's thread would, until told to quit. */
typedef struct waiting_driver {
    swerl_group *g;
    int quit;
    int errors;                 /* swerl_group_run results other than 0 and 1 */
} waiting_driver;

static void *drive_waiting(void *arg)
{
    waiting_driver *d = (waiting_driver *)arg;
    while (!AT_LOAD(&d->quit)) {
        int rc = swerl_group_run(d->g, 1, SWERL_INFINITY);
        if (rc != 0 && rc != 1) AT_ADD(&d->errors, 1);
    }
    return NULL;
}

/* The receiver is a turn group's process: the nodes are freed into the
   group driver's own pool, which gives them back at the next settling.
   Driven either by the main thread, which then stops driving, or by a
   thread that waits for each turn, the producer in the group too: no
   scheduler idles to start a settling, and the drain's end finds the
   driver asleep in its wait, where it never sees "nothing to run"; it
   settles as it goes to sleep. */
static void group_burst(int waiting)
{
    swerl_runtime *rt = check_start_rt(1, 0);
    swerl_group *g = NULL;
    waiting_driver d;
    pthread_t driver;
    int driving = 0;
    receiver r;
    producer p;
    swerl_pid to, from;
    uint64_t n = check_scaled(1000000, 100000);
    double deadline;
    long before;
    const char *what = waiting ? "into a group driven by a waiting thread" : "into a turn group's process";
    if (!CHECK(rt != NULL)) return;
    burst(rt, 1, check_scaled(10000, 1000), NULL);
    if (!CHECK_EQ_INT(swerl_group_create(rt, "burst", &g), 0)) goto out;
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(swerl_group_spawn(g, &b_receiver, &r, NULL, &to), 0);
    memset(&p, 0, sizeof p);
    p.to = to;
    p.count = n;
    if (waiting) {
        /* The producer too: no scheduler runs anything, none idles. */
        CHECK_EQ_INT(swerl_group_spawn(g, &b_producer, &p, NULL, &from), 0);
        CHECK(swerl_group_run(g, 2, 5000) == 2); /* the inits */
    } else {
        CHECK_EQ_INT(swerl_spawn(rt, &b_producer, &p, NULL, &from), 0);
        CHECK(swerl_group_run(g, 1, 5000) == 1); /* the receiver's init */
    }
    if (waiting) {
        memset(&d, 0, sizeof d);
        d.g = g;
        if (!CHECK_EQ_INT(pthread_create(&driver, NULL, drive_waiting, &d), 0)) goto out;
        driving = 1;
    }
    before = check_rss_kib();
    CHECK_EQ_INT(swerl_send(rt, from, "go", 2), 0);
    deadline = check_now_ms() + 120000.0;
    while (AT_LOAD(&r.received) < n && check_now_ms() < deadline) {
        if (waiting) check_sleep_ms(10);
        else swerl_group_run(g, 64, 100);
    }
    CHECK_EQ_U64(AT_LOAD(&r.received), n);
    /* The main thread's driving finds nothing more to do: an idle driver,
       as an idle scheduler does, settles (its last run may have ended at
       max_turns). Nobody drives the group from here on. */
    if (!waiting) CHECK_EQ_INT(swerl_group_run(g, 1, 0), 0);
    CHECK_EQ_U64(AT_LOAD(&r.disorder), 0);
    CHECK_EQ_U64(AT_LOAD(&p.failed), 0);
    check_memory_back(before, what);
    CHECK_EQ_INT(swerl_exit(rt, from, SWERL_REASON_KILL, NULL, 0), 0);
    CHECK_EQ_INT(swerl_exit(rt, to, SWERL_REASON_KILL, NULL, 0), 0);
out:
    if (driving) {
        AT_STORE(&d.quit, 1);
        CHECK_EQ_INT(swerl_group_wake(g), 0);
        CHECK_EQ_INT(pthread_join(driver, NULL), 0);
        CHECK_EQ_INT(AT_LOAD(&d.errors), 0);
    }
    CHECK_EQ_INT(swerl_runtime_stop(rt, 10000), 0);
    swerl_runtime_free(rt);
}

static void t_into_a_group(void) { group_burst(0); }
static void t_into_a_waiting_group(void) { group_burst(1); }

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("burst: one producer, a million messages in one turn", t_one_producer, 180);
    check_section("burst: four producers on two schedulers into one receiver", t_four_producers, 180);
    check_section("burst: from a thread outside the runtime, then from processes", t_from_a_thread, 180);
    check_section("burst: into a turn group's process, then nobody drives the group", t_into_a_group, 180);
    check_section("burst: into a group whose thread waits for each turn", t_into_a_waiting_group, 180);
    return check_summary();
}
