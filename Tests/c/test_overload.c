/*
 * test_overload.c — a runtime under 10x more messages than it can hold:
 * bounded mailboxes (REJECT, DROP_OLDEST, KILL) and the runtime's memory
 * ceiling (swerl_runtime_set_max_memory). Memory stays bounded and nothing is
 * lost silently: every message is received, refused to its sender (EFULL,
 * EMEMLIMIT) or dropped and counted (swerl_stats), and the counts add up.
 *
 * The overload is made deterministic, not timed: the consumer is held inside
 * its handler (a gate) while senders push ten times what its bound allows;
 * then it is let go and must receive exactly what was accepted.
 *
 * Functions covered: swerl_runtime_set_max_memory, swerl_runtime_stop,
 *   swerl_runtime_stats (messages_rejected, memory_used, messages_dropped,
 *   dead_letters), swerl_spawn_opts_init (mailbox_limit, overflow),
 *   swerl_spawn, swerl_send (threads and processes), swerl_call,
 *   swerl_exit, swerl_process_get_info (message_queue_len), swerl_monitor.
 * Codes: EFULL, EMEMLIMIT, ENOPROC.
 * Statements: OTP-7 (per-sender order of what is received), OTP-39 (Swerl's
 *   opt-in bounds, where Erlang's mailboxes are unbounded).
 */
#include "agent.h"

#include <stddef.h>

enum { SENDERS = 4 };

struct seq_msg { uint32_t sender, seq; unsigned char pad[1016]; };  /* 1 KiB */

/* A consumer held at a gate: its first message parks it in the handler. */
struct consumer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int open;                   /* the gate */
    int parked;                 /* atomic: inside the handler, at the gate */
    uint64_t received;          /* atomic: sequence messages handled */
    uint64_t out_of_order;      /* atomic */
    int64_t next[SENDERS * 2];  /* next expected seq per sender (the consumer's thread) */
    int terminated;             /* atomic */
    int32_t terminate_reason;
};

static void consumer_init_state(struct consumer *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
}

static void consumer_destroy(struct consumer *c)
{
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
}

static void gate_set(struct consumer *c, int open)
{
    pthread_mutex_lock(&c->lock);
    c->open = open;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static int consumer_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    struct consumer *c = (struct consumer *)state;
    struct seq_msg sm;
    (void)ctx;
    pthread_mutex_lock(&c->lock);
    if (!c->open) {
        AT_STORE(&c->parked, 1);
        while (!c->open) pthread_cond_wait(&c->cond, &c->lock);
        AT_STORE(&c->parked, 0);
    }
    pthread_mutex_unlock(&c->lock);
    if (m->kind != SWERL_MESSAGE || m->len != sizeof sm) return SWERL_CONTINUE;  /* the "hold" */
    memcpy(&sm, m->data, sizeof sm);
    if (sm.sender < SENDERS * 2) {
        if ((int64_t)sm.seq < c->next[sm.sender]) AT_ADD(&c->out_of_order, 1);  /* OTP-7 */
        c->next[sm.sender] = (int64_t)sm.seq + 1;
    }
    AT_ADD(&c->received, 1);
    return SWERL_CONTINUE;
}

static void consumer_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    struct consumer *c = (struct consumer *)state;
    (void)ctx;
    c->terminate_reason = reason;
    AT_ADD(&c->terminated, 1);
}

static swerl_pid spawn_consumer(swerl_runtime *rt, struct consumer *c, uint32_t limit, uint32_t overflow)
{
    swerl_behavior b;
    swerl_spawn_opts o;
    swerl_pid pid = 0;
    memset(&b, 0, sizeof b);
    b.size = (uint32_t)sizeof b;
    b.handle = consumer_handle;
    b.terminate = consumer_terminate;
    swerl_spawn_opts_init(&o);
    o.mailbox_limit = limit;
    o.overflow = overflow;
    CHECK_EQ_INT(swerl_spawn(rt, &b, c, &o, &pid), 0);
    return pid;
}

/* Parks the consumer at its (closed) gate with a first message. */
static void hold(swerl_runtime *rt, struct consumer *c, swerl_pid pid)
{
    gate_set(c, 0);
    CHECK_EQ_INT(swerl_send(rt, pid, "hold", 4), 0);
    CHECK_WAIT(AT_LOAD(&c->parked) == 1);
}

/* ------------------------------------------------------------------------ */
/* Senders: foreign threads, and processes (on every scheduler)              */
/* ------------------------------------------------------------------------ */

struct sender {
    swerl_runtime *rt;
    swerl_pid to;
    uint32_t id, count;
    uint64_t ok, full, memlimit, noproc, other;  /* atomics (a process's are read by main) */
    int done;                                     /* atomic */
};

static void send_all(struct sender *s)
{
    struct seq_msg sm;
    uint32_t i;
    memset(&sm, 0, sizeof sm);
    sm.sender = s->id;
    for (i = 0; i < s->count; i++) {
        int rc;
        sm.seq = i;
        rc = swerl_send(s->rt, s->to, &sm, sizeof sm);
        if (rc == 0) AT_ADD(&s->ok, 1);
        else if (rc == SWERL_EFULL) AT_ADD(&s->full, 1);
        else if (rc == SWERL_EMEMLIMIT) AT_ADD(&s->memlimit, 1);
        else if (rc == SWERL_ENOPROC) AT_ADD(&s->noproc, 1);
        else AT_ADD(&s->other, 1);
    }
    AT_STORE(&s->done, 1);
}

static void *sender_thread(void *arg)
{
    send_all((struct sender *)arg);
    return NULL;
}

/* A sender process sends its whole quota in one handler call. */
static int sender_process_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)m;
    send_all((struct sender *)state);
    return SWERL_STOP;
}

/* Runs SENDERS threads and SENDERS processes, each sending `count` to `to`,
   and waits for the threads (the processes may wait behind the held
   consumer on its scheduler: the caller waits for them after the gate). */
static void flood(swerl_runtime *rt, swerl_pid to, uint32_t count, struct sender s[SENDERS * 2])
{
    pthread_t th[SENDERS];
    swerl_behavior b;
    int i;
    memset(&b, 0, sizeof b);
    b.size = (uint32_t)sizeof b;
    b.handle = sender_process_handle;
    for (i = 0; i < SENDERS * 2; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].rt = rt;
        s[i].to = to;
        s[i].id = (uint32_t)i;
        s[i].count = count;
    }
    for (i = 0; i < SENDERS; i++) {
        swerl_pid pid = 0;
        CHECK_EQ_INT(swerl_spawn(rt, &b, &s[SENDERS + i], NULL, &pid), 0);
        CHECK_EQ_INT(swerl_send(rt, pid, "go", 2), 0);
    }
    for (i = 0; i < SENDERS; i++) pthread_create(&th[i], NULL, sender_thread, &s[i]);
    for (i = 0; i < SENDERS; i++) pthread_join(th[i], NULL);
}

struct totals { uint64_t ok, full, memlimit, noproc, other; };

static struct totals wait_senders(struct sender s[SENDERS * 2])
{
    struct totals t;
    int i;
    memset(&t, 0, sizeof t);
    for (i = 0; i < SENDERS * 2; i++) {
        CHECK_WAIT_MS_(AT_LOAD(&s[i].done) == 1, 60000u);
        t.ok += AT_LOAD(&s[i].ok);
        t.full += AT_LOAD(&s[i].full);
        t.memlimit += AT_LOAD(&s[i].memlimit);
        t.noproc += AT_LOAD(&s[i].noproc);
        t.other += AT_LOAD(&s[i].other);
    }
    return t;
}

static uint32_t queue_len(swerl_runtime *rt, swerl_pid pid)
{
    swerl_process_info info;
    memset(&info, 0, sizeof info);
    info.size = (uint32_t)sizeof info;
    if (swerl_process_get_info(rt, pid, &info) != 0) return UINT32_MAX;
    return (uint32_t)info.message_queue_len;
}

/* ------------------------------------------------------------------------ */
/* Bounded mailboxes                                                         */
/* ------------------------------------------------------------------------ */

enum { LIMIT = 1000 };

/* One bounded-mailbox scenario: a held consumer with `limit` and `overflow`,
   flooded by every sender with 10x the bound, then let go. */
struct scenario {
    swerl_runtime *rt;
    struct consumer c;
    struct sender s[SENDERS * 2];
    struct totals t;
    swerl_stats before;
    swerl_pid pid;
    uint32_t per;
};

static int scenario_begin(struct scenario *sc, uint32_t overflow)
{
    memset(sc, 0, sizeof *sc);
    sc->rt = check_start_rt(2, 0);
    if (!sc->rt) return 0;
    consumer_init_state(&sc->c);
    sc->per = (uint32_t)check_scaled(LIMIT * 10 / (SENDERS * 2), 10) + 1;
    sc->pid = spawn_consumer(sc->rt, &sc->c, LIMIT, overflow);
    return 1;
}

static void scenario_flood(struct scenario *sc)
{
    hold(sc->rt, &sc->c, sc->pid);
    sc->before = check_stats(sc->rt);
    flood(sc->rt, sc->pid, sc->per, sc->s);
    /* Sender processes may still be sending: each may have one message
       counted before its refusal or drop is decided. */
    if (check_alive(sc->rt, sc->pid)) CHECK(queue_len(sc->rt, sc->pid) <= LIMIT + SENDERS);
    gate_set(&sc->c, 1);
    sc->t = wait_senders(sc->s);
}

static void scenario_end(struct scenario *sc)
{
    swerl_runtime_free(sc->rt);
    consumer_destroy(&sc->c);
}

/* REJECT: the bound fills while held, the rest is refused with EFULL and
   counted; all accepted arrive, in per-sender order. */
static void t_reject(void)
{
    struct scenario sc;
    swerl_stats after;
    if (!scenario_begin(&sc, SWERL_OVERFLOW_REJECT)) return;
    scenario_flood(&sc);
    CHECK_EQ_U64(sc.t.ok + sc.t.full, (uint64_t)sc.per * SENDERS * 2);
    CHECK_EQ_U64(sc.t.memlimit + sc.t.noproc + sc.t.other, 0);
    CHECK(sc.t.ok >= LIMIT);
    CHECK(sc.t.full > 0);
    CHECK_WAIT(AT_LOAD(&sc.c.received) == sc.t.ok);
    CHECK_EQ_U64(AT_LOAD(&sc.c.out_of_order), 0);
    after = check_stats(sc.rt);
    CHECK_EQ_U64(after.messages_rejected - sc.before.messages_rejected, sc.t.full);
    CHECK_EQ_U64(after.messages_dropped - sc.before.messages_dropped, 0);
    printf("figure: overload_reject attempts=%u accepted=%llu refused_efull=%llu received=%llu\n",
           sc.per * SENDERS * 2, (unsigned long long)sc.t.ok, (unsigned long long)sc.t.full,
           (unsigned long long)AT_LOAD(&sc.c.received));
    scenario_end(&sc);
}

/* DROP_OLDEST: every send is accepted; the mailbox never holds more than
   the bound; what is not received was dropped and counted, exactly. */
static void t_drop_oldest(void)
{
    struct scenario sc;
    swerl_stats after;
    if (!scenario_begin(&sc, SWERL_OVERFLOW_DROP_OLDEST)) return;
    scenario_flood(&sc);
    CHECK_EQ_U64(sc.t.ok, (uint64_t)sc.per * SENDERS * 2);
    CHECK_EQ_U64(sc.t.full + sc.t.memlimit + sc.t.noproc + sc.t.other, 0);
    CHECK_WAIT(AT_LOAD(&sc.c.received) + (check_stats(sc.rt).messages_dropped - sc.before.messages_dropped) == sc.t.ok);
    after = check_stats(sc.rt);
    CHECK(AT_LOAD(&sc.c.received) >= LIMIT);  /* the newest `LIMIT` at least */
    CHECK(after.messages_dropped - sc.before.messages_dropped > 0);
    CHECK_EQ_U64(AT_LOAD(&sc.c.out_of_order), 0);
    CHECK_EQ_U64(after.messages_rejected - sc.before.messages_rejected, 0);
    printf("figure: overload_drop_oldest accepted=%llu received=%llu dropped=%llu\n",
           (unsigned long long)sc.t.ok, (unsigned long long)AT_LOAD(&sc.c.received),
           (unsigned long long)(after.messages_dropped - sc.before.messages_dropped));
    scenario_end(&sc);
}

/* KILL: the first send over the bound gets EFULL and kills the receiver
   with SWERL_REASON_MAILBOX_FULL; its monitor sees that reason; later sends
   get EFULL while it dies, then ENOPROC. Every accepted message it did not
   handle is a dead letter, like the sends that found it dead. */
static void t_kill(void)
{
    struct scenario sc;
    swerl_stats after;
    agent *w;
    swerl_ref ref;
    check_event e;
    if (!scenario_begin(&sc, SWERL_OVERFLOW_KILL)) return;
    w = agent_new(sc.rt, "watcher");
    CHECK_EQ_INT(agent_spawn(w, NULL), 0);
    ref = agent_monitor(w, sc.pid);
    scenario_flood(&sc);
    CHECK_EQ_U64(sc.t.ok + sc.t.full + sc.t.noproc, (uint64_t)sc.per * SENDERS * 2);
    CHECK_EQ_U64(sc.t.memlimit + sc.t.other, 0);
    CHECK(sc.t.ok >= LIMIT);
    CHECK(sc.t.full >= 1);
    if (agent_down(w, ref, &e)) CHECK_EQ_INT(e.reason, SWERL_REASON_MAILBOX_FULL);
    CHECK_WAIT(AT_LOAD(&sc.c.terminated) == 1);
    CHECK_EQ_INT(sc.c.terminate_reason, SWERL_REASON_MAILBOX_FULL);
    CHECK_WAIT(check_stats(sc.rt).dead_letters - sc.before.dead_letters
               == sc.t.noproc + (sc.t.ok - AT_LOAD(&sc.c.received)));
    after = check_stats(sc.rt);
    CHECK_EQ_U64(after.messages_rejected - sc.before.messages_rejected, sc.t.full);
    CHECK_EQ_INT(swerl_send(sc.rt, sc.pid, "late", 4), SWERL_ENOPROC);
    printf("figure: overload_kill accepted=%llu received=%llu refused_efull=%llu noproc=%llu "
           "dead_letters=%llu reason=%d\n",
           (unsigned long long)sc.t.ok, (unsigned long long)AT_LOAD(&sc.c.received),
           (unsigned long long)sc.t.full, (unsigned long long)sc.t.noproc,
           (unsigned long long)(after.dead_letters - sc.before.dead_letters), sc.c.terminate_reason);
    scenario_end(&sc);
    agent_free(w);
}

/* ------------------------------------------------------------------------ */
/* The memory ceiling                                                        */
/* ------------------------------------------------------------------------ */

static swerl_runtime *start_with_ceiling(uint64_t max_memory)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    if (!rt) return NULL;
    CHECK_EQ_U64(check_stats(rt).memory_used, 0);   /* the default: no ceiling */
    CHECK_EQ_INT(swerl_runtime_set_max_memory(rt, max_memory), 0);
    return rt;
}

/* From one outside thread the ceiling is exact: messages of 1 KiB cost
   1 KiB + SWERL_MESSAGE_OVERHEAD, and the first one that would go over is
   refused with EMEMLIMIT, counted; signals still pass; after the consumer
   is done the memory is all given back. */
static void t_ceiling_exact(void)
{
    const uint64_t ceiling = 1u << 20;
    const uint64_t cost = sizeof(struct seq_msg) + SWERL_MESSAGE_OVERHEAD;
    swerl_runtime *rt = start_with_ceiling(ceiling);
    struct consumer c;
    struct seq_msg sm;
    swerl_stats st;
    swerl_buffer reply = {NULL, 0};
    uint64_t accepted = 0, first = 0, total = 0, round;
    swerl_pid pid, other;
    int rc = 0;
    if (!rt) return;
    consumer_init_state(&c);
    memset(&sm, 0, sizeof sm);
    pid = spawn_consumer(rt, &c, 0, 0);
    other = spawn_consumer(rt, &c, 0, 0);
    hold(rt, &c, pid);   /* "hold" itself: 4 + overhead bytes, charged until handled */
    for (round = 0; round < 2; round++) {
        accepted = 0;
        while ((rc = swerl_send(rt, pid, &sm, sizeof sm)) == 0) {
            sm.seq++;
            accepted++;
        }
        CHECK_EQ_INT(rc, SWERL_EMEMLIMIT);
        total += accepted;
        st = check_stats(rt);
        if (round == 0) {
            first = accepted;
            CHECK_EQ_U64(accepted, (ceiling - (4 + SWERL_MESSAGE_OVERHEAD)) / cost);
            CHECK_EQ_U64(st.memory_used, accepted * cost + 4 + SWERL_MESSAGE_OVERHEAD);
            CHECK_EQ_U64(st.messages_rejected, 1);
            /* Calls are refused too, with an empty reply. */
            CHECK_EQ_INT(swerl_call(rt, pid, &sm, sizeof sm, 1000, &reply), SWERL_EMEMLIMIT);
            CHECK(reply.data == NULL && reply.len == 0);
            /* Exit signals are never refused. */
            CHECK_EQ_INT(swerl_exit(rt, other, SWERL_REASON_KILL, NULL, 0), 0);
            CHECK_WAIT(!check_alive(rt, other));
        }
        CHECK(st.memory_used <= ceiling);
        gate_set(&c, 1);
        CHECK_WAIT(AT_LOAD(&c.received) == total);
        CHECK_WAIT(check_stats(rt).memory_used == 0);
        gate_set(&c, 0);
        CHECK_EQ_INT(swerl_send(rt, pid, "hold", 4), 0);
        CHECK_WAIT(AT_LOAD(&c.parked) == 1);
    }
    CHECK_EQ_U64(AT_LOAD(&c.out_of_order), 0);
    printf("figure: ceiling_exact ceiling=%llu message_cost=%llu accepted_first=%llu accepted_second=%llu\n",
           (unsigned long long)ceiling, (unsigned long long)cost, (unsigned long long)first,
           (unsigned long long)accepted);
    gate_set(&c, 1);
    swerl_runtime_free(rt);
    consumer_destroy(&c);
}

/* 10x the ceiling from threads and processes on both schedulers, in
   rounds: memory_used never passes the ceiling, every send is received or
   refused (EMEMLIMIT, counted), and RSS does not grow with the rounds. */
static void t_ceiling_flood(void)
{
    const uint64_t ceiling = 4u << 20;
    const uint64_t cost = sizeof(struct seq_msg) + SWERL_MESSAGE_OVERHEAD;
    const int rounds = 6;
    swerl_runtime *rt = start_with_ceiling(ceiling);
    struct consumer c;
    struct sender s[SENDERS * 2];
    uint32_t per = (uint32_t)(ceiling * 10 / cost / (SENDERS * 2));
    uint64_t received = 0, refused = 0, accepted = 0, peak = 0;
    long rss_first = 0, rss_last = 0;
    swerl_pid pid;
    int r;
    if (!rt) return;
    consumer_init_state(&c);
    pid = spawn_consumer(rt, &c, 0, 0);
    for (r = 0; r < rounds; r++) {
        struct totals t;
        swerl_stats st;
        int i;
        hold(rt, &c, pid);
        /* The consumer starts over: sequence numbers restart each round. */
        for (i = 0; i < SENDERS * 2; i++) c.next[i] = 0;
        flood(rt, pid, per, s);
        st = check_stats(rt);
        if (st.memory_used > peak) peak = st.memory_used;
        CHECK(st.memory_used <= ceiling);
        gate_set(&c, 1);
        t = wait_senders(s);
        CHECK_EQ_U64(t.ok + t.memlimit, (uint64_t)per * SENDERS * 2);
        CHECK_EQ_U64(t.full + t.noproc + t.other, 0);
        CHECK(t.memlimit > 0);
        accepted += t.ok;
        refused += t.memlimit;
        CHECK_WAIT(AT_LOAD(&c.received) == accepted);
        CHECK_WAIT(check_stats(rt).memory_used == 0);
        st = check_stats(rt);
        CHECK_EQ_U64(st.messages_rejected, refused);
        if (r == 0) rss_first = check_rss_kib();
        rss_last = check_rss_kib();
    }
    received = AT_LOAD(&c.received);
    CHECK_EQ_U64(AT_LOAD(&c.out_of_order), 0);
    /* Rounds after the first reuse the memory the first one took: a
       generous 16 MiB (4x the ceiling) allows for the allocator's caches.
       Under ASan every free() of a node the threads malloc'd (they are
       freed when a runtime settles after a flood) goes to its quarantine,
       which run-c-asan.sh bounds at 32 MiB and which fills over the
       sections before this one (they share the process there): that much
       more is allowed. */
    long bound_kib = 16 * 1024 + (CHECK_UNDER_ASAN ? 32 * 1024 : 0);
    CHECK_MSG(rss_last - rss_first < bound_kib, "RSS grew by %ld KiB over %d rounds (bound %ld)",
              rss_last - rss_first, rounds, bound_kib);
    printf("figure: ceiling_flood ceiling=%llu attempts=%llu accepted=%llu refused=%llu received=%llu "
           "peak_used=%llu rss_first_kib=%ld rss_last_kib=%ld\n",
           (unsigned long long)ceiling, (unsigned long long)per * SENDERS * 2 * rounds,
           (unsigned long long)accepted, (unsigned long long)refused, (unsigned long long)received,
           (unsigned long long)peak, rss_first, rss_last);
    swerl_runtime_free(rt);
    consumer_destroy(&c);
}

/* The contract's edges: a 1.0 caller's stats struct still works (the 1.1
   fields are left alone); the ceiling can be raised, lowered and removed
   while messages are charged; bad calls are refused. */
static void t_contract(void)
{
    const uint64_t cost = sizeof(struct seq_msg) + SWERL_MESSAGE_OVERHEAD;
    swerl_runtime *rt = check_start_rt(1, 0);
    struct consumer c;
    struct seq_msg payload;
    swerl_stats st;
    swerl_pid pid;
    int i;
    if (!rt) return;
    consumer_init_state(&c);
    memset(&payload, 0, sizeof payload);
    payload.sender = SENDERS * 2;   /* outside the order check */
    CHECK_EQ_INT(swerl_send(rt, 0, "x", 1), SWERL_ENOPROC);
    memset(&st, 0xab, sizeof st);
    st.size = (uint32_t)offsetof(swerl_stats, messages_rejected);
    CHECK_EQ_INT(swerl_runtime_stats(rt, &st), 0);
    CHECK_EQ_U64(st.dead_letters, 1);
    CHECK_EQ_U64(st.messages_rejected, 0xababababababababull);  /* untouched */
    st.size = (uint32_t)offsetof(swerl_stats, escalations);
    CHECK_EQ_INT(swerl_runtime_stats(rt, &st), SWERL_EINVAL);
    CHECK_STR(swerl_err_name(SWERL_EMEMLIMIT), "EMEMLIMIT");
    CHECK_EQ_INT(swerl_runtime_set_max_memory(NULL, 1), SWERL_EINVAL);

    pid = spawn_consumer(rt, &c, 0, 0);
    hold(rt, &c, pid);                       /* sent without a ceiling: never charged */
    CHECK_EQ_INT(swerl_runtime_set_max_memory(rt, 10 * cost), 0);
    for (i = 0; i < 10; i++) CHECK_EQ_INT(swerl_send(rt, pid, &payload, sizeof payload), 0);
    CHECK_EQ_INT(swerl_send(rt, pid, &payload, sizeof payload), SWERL_EMEMLIMIT);
    CHECK_EQ_U64(check_stats(rt).memory_used, 10 * cost);
    CHECK_EQ_INT(swerl_runtime_set_max_memory(rt, 5 * cost), 0);    /* below what is in use */
    CHECK_EQ_INT(swerl_send(rt, pid, NULL, 0), SWERL_EMEMLIMIT);
    CHECK_EQ_INT(swerl_runtime_set_max_memory(rt, 11 * cost), 0);   /* room for one more */
    CHECK_EQ_INT(swerl_send(rt, pid, &payload, sizeof payload), 0);
    CHECK_EQ_INT(swerl_send(rt, pid, &payload, sizeof payload), SWERL_EMEMLIMIT);
    CHECK_EQ_INT(swerl_runtime_set_max_memory(rt, 0), 0);           /* none: anything goes */
    for (i = 0; i < 100; i++) CHECK_EQ_INT(swerl_send(rt, pid, &payload, sizeof payload), 0);
    CHECK_EQ_U64(check_stats(rt).messages_rejected, 3);
    gate_set(&c, 1);
    CHECK_WAIT(AT_LOAD(&c.received) == 111);
    CHECK_WAIT(check_stats(rt).memory_used == 0);                      /* the 11 charged came back */
    CHECK_EQ_INT(swerl_runtime_stop(rt, 1000), 0);
    CHECK_EQ_INT(swerl_runtime_set_max_memory(rt, 1), SWERL_ESTOPPED);
    swerl_runtime_free(rt);
    consumer_destroy(&c);
}

/* The runtime's own traffic is exempt from max_message_size and the ceiling,
   as signals are: a nested supervisor's start acknowledgement and the
   management requests go through under a 16-byte message limit and with
   the ceiling full (before, the start never returned). */
static int idle_handle(swerl_ctx *ctx, const swerl_message *m, void *state)
{
    (void)ctx;
    (void)m;
    (void)state;
    return SWERL_CONTINUE;
}

static void t_runtime_traffic(void)
{
    swerl_runtime *rt = check_start_rt(2, 16);
    swerl_behavior worker;
    swerl_child_spec inner_child, outer[2];
    swerl_supervisor_spec inner, top;
    swerl_child_counts counts;
    swerl_pid sup = 0, added = 0, holder;
    struct consumer c;
    if (!rt) return;
    consumer_init_state(&c);
    memset(&worker, 0, sizeof worker);
    worker.size = (uint32_t)sizeof worker;
    worker.handle = idle_handle;
    swerl_child_spec_init(&inner_child);
    inner_child.id = "w";
    inner_child.behavior = &worker;
    inner = check_sup_spec(SWERL_ONE_FOR_ONE, 1, 5000, &inner_child, 1);
    outer[0] = check_nested_child("nested", &inner);
    outer[1] = inner_child;
    top = check_sup_spec(SWERL_ONE_FOR_ONE, 1, 5000, outer, 2);
    CHECK_EQ_INT(swerl_supervisor_start(rt, &top, NULL, &sup), 0);
    memset(&counts, 0, sizeof counts);
    counts.size = (uint32_t)sizeof counts;
    CHECK_EQ_INT(swerl_supervisor_count_children(rt, sup, &counts), 0);
    CHECK_EQ_INT(counts.active, 2);

    /* Fill the ceiling with a held consumer's mailbox. */
    holder = spawn_consumer(rt, &c, 0, 0);
    hold(rt, &c, holder);
    CHECK_EQ_INT(swerl_runtime_set_max_memory(rt, 4 * (8 + SWERL_MESSAGE_OVERHEAD)), 0);
    while (swerl_send(rt, holder, "12345678", 8) == 0) {}
    CHECK_EQ_INT(swerl_send(rt, holder, NULL, 0), SWERL_EMEMLIMIT);
    outer[0].id = "nested2";
    CHECK_EQ_INT(swerl_supervisor_start_child(rt, sup, &outer[0], &added), 0);
    CHECK(added != 0);
    CHECK_EQ_INT(swerl_supervisor_count_children(rt, sup, &counts), 0);
    CHECK_EQ_INT(counts.active, 3);
    CHECK_EQ_INT(swerl_supervisor_terminate_child(rt, sup, "nested2"), 0);
    CHECK_EQ_INT(swerl_supervisor_delete_child(rt, sup, "nested2"), 0);
    gate_set(&c, 1);
    swerl_runtime_free(rt);
    consumer_destroy(&c);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("bounded mailbox, REJECT, 10x its bound", t_reject, 300);
    check_section("bounded mailbox, DROP_OLDEST, 10x its bound", t_drop_oldest, 300);
    check_section("bounded mailbox, KILL, 10x its bound", t_kill, 300);
    check_section("memory ceiling: exact from one thread; calls refused, signals pass", t_ceiling_exact, 300);
    check_section("memory ceiling: 10x from threads and processes, 6 rounds, RSS flat", t_ceiling_flood, 600);
    check_section("the contract: 1.0 stats size; the ceiling raised, lowered, removed", t_contract, 60);
    check_section("the runtime's own traffic passes a 16-byte limit and a full ceiling", t_runtime_traffic, 60);
    return check_summary();
}
