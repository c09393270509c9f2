/*
 * test_binary.c — shared immutable binaries (swerl.h "Shared binaries",
 * since 1.4): Erlang's refc binaries.
 *
 * What it asserts:
 *   - the calls' contract: NULLs, sizes, retain/release, data/size;
 *   - a fan-out delivers the binary itself, not a copy: every receiver's
 *     msg->data is swerl_binary_data(b), SWERL_MESSAGE_SHARED set;
 *   - a receiver's reference (swerl_binary_keep) survives the handler, the
 *     sender's exit and the creator's release, and reads the same bytes;
 *     keep on an ordinary message is a copy;
 *   - the memory ceiling counts a binary once per runtime however many
 *     messages carry it, refuses one that does not fit (EMEMLIMIT, nothing
 *     charged), and is back at 0 once every reference is gone: the refund
 *     happens when the binary is freed, so this also says it was freed;
 *   - process_info counts 8 bytes per waiting message, not the binary;
 *   - max_message_size, a dead pid, a name, after stop: the errors of
 *     swerl_send, and the caller's reference untouched (ASan/LSan would see
 *     a double release or a leak: test-c-asan runs this file too);
 *   - a mailbox that drops its oldest messages releases their references;
 *   - in a turn group's batch a shared message is flagged SHARED, not
 *     WITHDRAWN, and keep works there;
 *   - swerl_reply_binary: a swerl_call_async caller gets the binary, a
 *     swerl_call one a copy.
 */
#include "check.h"

#define FANOUT 200
#define BIG (256u * 1024u)

/* What the receivers saw, for main to check. */
typedef struct seen {
    int count;             /* messages handled */
    int shared;            /* of which flagged SWERL_MESSAGE_SHARED */
    int same_address;      /* of which pointing at `expected` */
    int right_bytes;       /* of which with the expected pattern */
    const void *expected;
} seen;

static unsigned char pattern_byte(size_t i) { return (unsigned char)(i * 131u + 7u); }

static void fill(void *data, size_t len)
{
    unsigned char *p = (unsigned char *)data;
    for (size_t i = 0; i < len; i++) p[i] = pattern_byte(i);
}

static int has_pattern(const void *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < len; i++) if (p[i] != pattern_byte(i)) return 0;
    return 1;
}

static swerl_binary *new_filled(size_t len)
{
    swerl_binary *b = NULL;
    void *data = NULL;
    if (!CHECK_EQ_INT(swerl_binary_new(len, &b, &data), 0)) return NULL;
    fill(data, len);
    return b;
}

static uint64_t memory_used(swerl_runtime *rt)
{
    swerl_stats stats;
    stats.size = sizeof stats;
    if (swerl_runtime_stats(rt, &stats) != 0) return UINT64_MAX;
    return stats.memory_used;
}

/* ------------------------------------------------------------------------ */

static void t_contract(void)
{
    swerl_binary *b = NULL, *c = NULL;
    void *data = NULL;
    static const char text[] = "shared bytes";

    CHECK_EQ_INT(swerl_binary_new(16, NULL, &data), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_binary_new((size_t)-1, &b, &data), SWERL_ETOOBIG);
    CHECK(b == NULL);
    CHECK_EQ_INT(swerl_binary_copy(NULL, 4, &b), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_binary_copy(text, 4, NULL), SWERL_EINVAL);
    CHECK(swerl_binary_data(NULL) == NULL);
    CHECK_EQ_INT(swerl_binary_size(NULL), 0);
    CHECK(swerl_binary_retain(NULL) == NULL);
    swerl_binary_release(NULL);                                      /* a no-op */

    CHECK_EQ_INT(swerl_binary_new(0, &b, NULL), 0);                  /* data may be NULL */
    CHECK(b != NULL);
    CHECK_EQ_INT(swerl_binary_size(b), 0);
    swerl_binary_release(b);

    CHECK_EQ_INT(swerl_binary_copy(text, sizeof text, &b), 0);
    CHECK_EQ_INT(swerl_binary_size(b), sizeof text);
    CHECK_MEM(swerl_binary_data(b), swerl_binary_size(b), text, sizeof text);
    CHECK(swerl_binary_data(b) != (const void *)text);               /* a copy */
    c = swerl_binary_retain(b);
    CHECK(c == b);
    swerl_binary_release(b);
    CHECK_MEM(swerl_binary_data(c), swerl_binary_size(c), text, sizeof text);   /* one reference left */
    swerl_binary_release(c);

    CHECK_EQ_INT(swerl_binary_new(100, &b, &data), 0);
    CHECK(data == swerl_binary_data(b));
    swerl_binary_release(b);
}

/* ------------------------------------------------------------------------ */

static int h_count(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    seen *s = (seen *)state;
    (void)ctx;
    if (msg->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    if (msg->flags & SWERL_MESSAGE_SHARED) AT_ADD(&s->shared, 1);
    if (msg->data == s->expected) AT_ADD(&s->same_address, 1);
    if (has_pattern(msg->data, msg->len)) AT_ADD(&s->right_bytes, 1);
    AT_ADD(&s->count, 1);
    return SWERL_CONTINUE;
}
static const swerl_behavior b_count = { sizeof(swerl_behavior), NULL, h_count, NULL };

static void t_fanout_is_one_copy(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid pids[FANOUT];
    seen s;
    swerl_binary *b;
    if (!CHECK(rt != NULL)) return;
    memset(&s, 0, sizeof s);
    b = new_filled(BIG);
    if (!b) return;
    s.expected = swerl_binary_data(b);
    for (int i = 0; i < FANOUT; i++) CHECK_EQ_INT(swerl_spawn(rt, &b_count, &s, NULL, &pids[i]), 0);
    for (int i = 0; i < FANOUT; i++) CHECK_EQ_INT(swerl_send_binary(rt, pids[i], b), 0);
    swerl_binary_release(b);                                        /* the messages hold it now */
    CHECK_WAIT(AT_LOAD(&s.count) == FANOUT);
    CHECK_EQ_INT(AT_LOAD(&s.shared), FANOUT);
    CHECK_EQ_INT(AT_LOAD(&s.same_address), FANOUT);
    CHECK_EQ_INT(AT_LOAD(&s.right_bytes), FANOUT);

    /* An ordinary send is not shared; a binary of length 0 goes as an
       empty ordinary message. */
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(swerl_send(rt, pids[0], "abc", 3), 0);
    CHECK_EQ_INT(swerl_binary_new(0, &b, NULL), 0);
    CHECK_EQ_INT(swerl_send_binary(rt, pids[0], b), 0);
    swerl_binary_release(b);
    CHECK_WAIT(AT_LOAD(&s.count) == 2);
    CHECK_EQ_INT(AT_LOAD(&s.shared), 0);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

/* ------------------------------------------------------------------------ */
/* A keeper keeps the first shared binary it gets and, told "check", says
   whether it still reads right, then lets go of it. */

typedef struct keeper {
    swerl_binary *kept;
    const void *kept_data;       /* msg->data when it was kept */
    int kept_rc;
    int check_result;            /* 0: not yet; 1: right; -1: wrong */
    swerl_message shared_message;  /* a copy of the shared message's struct */
    swerl_binary *copied;        /* swerl_binary_keep of an ordinary message */
    const void *copied_from;
} keeper;

static int h_keeper(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    keeper *k = (keeper *)state;
    (void)ctx;
    if (msg->kind != SWERL_MESSAGE) return SWERL_CONTINUE;
    if (msg->flags & SWERL_MESSAGE_SHARED) {
        if (!k->kept) {
            k->shared_message = *msg;                                /* for a keep after the handler */
            k->kept_data = msg->data;
            AT_STORE(&k->kept_rc, swerl_binary_keep(msg, &k->kept) + 1000);
        }
        return SWERL_CONTINUE;
    }
    if (msg->len == 5 && memcmp(msg->data, "check", 5) == 0) {
        int right = k->kept && swerl_binary_data(k->kept) == k->kept_data
                    && swerl_binary_size(k->kept) == BIG && has_pattern(swerl_binary_data(k->kept), BIG);
        swerl_binary_release(k->kept);
        k->kept = NULL;
        AT_STORE(&k->check_result, right ? 1 : -1);
        return SWERL_CONTINUE;
    }
    if (!k->copied) {
        k->copied_from = msg->data;
        swerl_binary_keep(msg, &k->copied);
    }
    return SWERL_CONTINUE;
}
static const swerl_behavior b_keeper = { sizeof(swerl_behavior), NULL, h_keeper, NULL };

/* A sender process: its init sends the binary in its arg to the keeper
   (the pid in the first message) and stops. */
typedef struct send_job {
    swerl_pid to;
    swerl_binary *binary;
} send_job;

static int h_sender(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    send_job *job = (send_job *)state;
    (void)msg;
    swerl_send_binary(swerl_ctx_runtime(ctx), job->to, job->binary);
    swerl_binary_release(job->binary);                              /* the sender's own reference */
    job->binary = NULL;
    return SWERL_STOP;
}
static const swerl_behavior b_sender = { sizeof(swerl_behavior), NULL, h_sender, NULL };

static void t_keep_outlives_sender(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    keeper k;
    send_job job;
    swerl_pid keeper_pid, sender_pid;
    swerl_process_info info;
    if (!CHECK(rt != NULL)) return;
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(swerl_spawn(rt, &b_keeper, &k, NULL, &keeper_pid), 0);
    job.to = keeper_pid;
    job.binary = new_filled(BIG);
    if (!job.binary) return;
    CHECK_EQ_INT(swerl_spawn(rt, &b_sender, &job, NULL, &sender_pid), 0);
    CHECK_EQ_INT(swerl_send(rt, sender_pid, "go", 2), 0);
    CHECK_WAIT(AT_LOAD(&k.kept_rc) != 0);
    CHECK_EQ_INT(AT_LOAD(&k.kept_rc) - 1000, 0);
    info.size = sizeof info;
    CHECK_WAIT(swerl_process_get_info(rt, sender_pid, &info) == SWERL_ENOPROC);   /* the sender is gone */
    CHECK(job.binary == NULL);                                       /* and let go of its reference */
    CHECK_EQ_INT(swerl_send(rt, keeper_pid, "check", 5), 0);
    CHECK_WAIT(AT_LOAD(&k.check_result) != 0);
    CHECK_EQ_INT(AT_LOAD(&k.check_result), 1);
    {
        /* The struct kept past its handler (the binary freed since): keep
           refuses it, reading nothing there. */
        swerl_binary *late = NULL;
        CHECK_EQ_INT(swerl_binary_keep(&k.shared_message, &late), SWERL_EINVAL);
        CHECK(late == NULL);
    }

    /* Keep on an ordinary message: a new binary holding a copy. */
    CHECK_EQ_INT(swerl_send(rt, keeper_pid, "plain bytes", 11), 0);
    CHECK_WAIT(AT_LOAD(&k.copied) != NULL);
    CHECK_MEM(swerl_binary_data(k.copied), swerl_binary_size(k.copied), "plain bytes", 11);
    CHECK(swerl_binary_data(k.copied) != k.copied_from);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_binary_release(k.copied);                                  /* outlives the runtime too */
    swerl_runtime_free(rt);
}

static void t_keep_bad_input(void)
{
    swerl_message msg;
    swerl_binary *b = NULL;
    static unsigned char not_a_binary[256];
    memset(&msg, 0, sizeof msg);
    CHECK_EQ_INT(swerl_binary_keep(NULL, &b), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_binary_keep(&msg, NULL), SWERL_EINVAL);
    msg.len = 4;                                                     /* data NULL with a length */
    CHECK_EQ_INT(swerl_binary_keep(&msg, &b), SWERL_EINVAL);
    msg.data = not_a_binary + 128;                                   /* flagged, but not a binary's bytes */
    msg.flags = SWERL_MESSAGE_SHARED;
    CHECK_EQ_INT(swerl_binary_keep(&msg, &b), SWERL_EINVAL);
    CHECK(strstr(swerl_last_error_detail(), "not the bytes of a shared message") != NULL);
    CHECK(b == NULL);
    {
        /* A buffer of its own: keep must not read around it (ASan sees a
           read 32 bytes before it: fuzz finding 12). */
        unsigned char *own = (unsigned char *)malloc(4);
        if (CHECK(own != NULL)) {
            memset(own, 1, 4);
            msg.data = own;
            CHECK_EQ_INT(swerl_binary_keep(&msg, &b), SWERL_EINVAL);
            msg.data = not_a_binary;
            free(own);
        }
    }
    msg.flags = 0;                                                   /* unflagged: a copy */
    CHECK_EQ_INT(swerl_binary_keep(&msg, &b), 0);
    CHECK_EQ_INT(swerl_binary_size(b), 4);
    swerl_binary_release(b);
}

/* ------------------------------------------------------------------------ */
/* The memory ceiling. Receivers that skip every message hold them waiting. */

static int h_hold(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx; (void)state;
    if (msg->kind == SWERL_MESSAGE && msg->len == 4 && memcmp(msg->data, "free", 4) == 0) return SWERL_STOP;
    return SWERL_SKIP;
}
static const swerl_behavior b_hold = { sizeof(swerl_behavior), NULL, h_hold, NULL };

static void t_memory_ceiling(void)
{
    swerl_runtime *rt = check_start_rt(2, 0), *other = check_start_rt(1, 0);
    swerl_pid pids[FANOUT], elsewhere;
    swerl_binary *b, *too_big;
    swerl_process_info info;
    uint64_t per_message = SWERL_MESSAGE_OVERHEAD + 8, used;
    if (!CHECK(rt != NULL && other != NULL)) return;
    CHECK_EQ_INT(swerl_runtime_set_max_memory(rt, 2u * BIG), 0);
    CHECK_EQ_INT(swerl_runtime_set_max_memory(other, 2u * BIG), 0);
    for (int i = 0; i < FANOUT; i++) CHECK_EQ_INT(swerl_spawn(rt, &b_hold, NULL, NULL, &pids[i]), 0);
    CHECK_EQ_INT(swerl_spawn(other, &b_hold, NULL, NULL, &elsewhere), 0);
    CHECK_EQ_U64(memory_used(rt), 0);

    b = new_filled(BIG);
    if (!b) return;
    for (int i = 0; i < FANOUT; i++) CHECK_EQ_INT(swerl_send_binary(rt, pids[i], b), 0);
    used = memory_used(rt);
    /* Once for the binary, and a node per message: not FANOUT copies. */
    CHECK_MSG(used == BIG + SWERL_BINARY_OVERHEAD + FANOUT * per_message,
              "memory_used %llu, expected %llu", (unsigned long long)used,
              (unsigned long long)(BIG + SWERL_BINARY_OVERHEAD + FANOUT * per_message));
    /* Another runtime counts it once more, for itself. */
    CHECK_EQ_INT(swerl_send_binary(other, elsewhere, b), 0);
    CHECK_EQ_U64(memory_used(other), BIG + SWERL_BINARY_OVERHEAD + per_message);

    /* process_info: 8 bytes of a waiting message, not the binary. */
    info.size = sizeof info;
    CHECK_WAIT(swerl_process_get_info(rt, pids[0], &info) == 0 && info.message_queue_len == 1);
    CHECK_MSG(info.memory < BIG, "process_info.memory %llu counts the binary", (unsigned long long)info.memory);

    /* A second binary that does not fit: refused, nothing charged. */
    too_big = new_filled(BIG + BIG / 2);
    if (!too_big) return;
    CHECK_EQ_INT(swerl_send_binary(rt, pids[0], too_big), SWERL_EMEMLIMIT);
    CHECK_EQ_U64(memory_used(rt), used);
    swerl_binary_release(too_big);

    /* Resending the first costs a node only. */
    CHECK_EQ_INT(swerl_send_binary(rt, pids[1], b), 0);
    CHECK_EQ_U64(memory_used(rt), used + per_message);

    /* Every reference gone: the messages (their receivers stop, the
       mailboxes are discarded) and the creator's. */
    swerl_binary_release(b);
    CHECK(memory_used(rt) > 0);                                      /* the messages still hold it */
    for (int i = 0; i < FANOUT; i++) CHECK_EQ_INT(swerl_send(rt, pids[i], "free", 4), 0);
    CHECK_EQ_INT(swerl_send(other, elsewhere, "free", 4), 0);
    CHECK_WAIT(memory_used(rt) == 0);
    CHECK_EQ_U64(memory_used(rt), 0);
    CHECK_WAIT(memory_used(other) == 0);
    CHECK_EQ_U64(memory_used(other), 0);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    CHECK_EQ_INT(swerl_runtime_stop(other, 5000), 0);
    swerl_runtime_free(rt);
    swerl_runtime_free(other);
}

/* ------------------------------------------------------------------------ */

static void t_errors(void)
{
    swerl_runtime *rt = check_start_rt(1, 1024);
    swerl_pid pid, dead;
    swerl_binary *small, *big;
    seen s;
    swerl_spawn_opts opts;
    if (!CHECK(rt != NULL)) return;
    memset(&s, 0, sizeof s);
    small = new_filled(512);
    big = new_filled(2048);
    if (!small || !big) return;
    s.expected = swerl_binary_data(small);
    CHECK_EQ_INT(swerl_spawn(rt, &b_count, &s, NULL, &pid), 0);
    CHECK_EQ_INT(swerl_send_binary(NULL, pid, small), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send_binary(rt, pid, NULL), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send_binary(rt, pid, big), SWERL_ETOOBIG);   /* above max_message_size */
    CHECK(strstr(swerl_last_error_detail(), "max_message_size") != NULL);
    CHECK_EQ_INT(swerl_send_binary(rt, 0, small), SWERL_ENOPROC);

    /* A dead pid: ENOPROC, the caller's reference as it was. */
    CHECK_EQ_INT(swerl_spawn(rt, &b_hold, NULL, NULL, &dead), 0);
    CHECK_EQ_INT(swerl_send(rt, dead, "free", 4), 0);
    CHECK_WAIT(swerl_send_binary(rt, dead, small) == SWERL_ENOPROC);

    /* By name. */
    CHECK_EQ_INT(swerl_register(rt, "counter", pid), 0);
    CHECK_EQ_INT(swerl_send_named_binary(rt, "counter", small), 0);
    CHECK_EQ_INT(swerl_send_named_binary(rt, "nobody", small), SWERL_ENONAME);
    CHECK_EQ_INT(swerl_send_named_binary(rt, NULL, small), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_send_named_binary(rt, "counter", NULL), SWERL_EINVAL);
    CHECK_WAIT(AT_LOAD(&s.same_address) == 1);

    /* A bounded mailbox that drops its oldest: the dropped ones' references
       go (LSan sees a leak otherwise), the newest arrives. */
    swerl_spawn_opts_init(&opts);
    opts.mailbox_limit = 2;
    opts.overflow = SWERL_OVERFLOW_DROP_OLDEST;
    {
        swerl_pid held;
        CHECK_EQ_INT(swerl_spawn(rt, &b_hold, NULL, &opts, &held), 0);
        for (int i = 0; i < 50; i++) CHECK_EQ_INT(swerl_send_binary(rt, held, small), 0);
        CHECK_EQ_INT(swerl_send(rt, held, "free", 4), 0);
    }

    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    CHECK_EQ_INT(swerl_send_binary(rt, pid, small), SWERL_ESTOPPED);
    CHECK(has_pattern(swerl_binary_data(small), 512));              /* still ours, unchanged */
    swerl_binary_release(small);
    swerl_binary_release(big);
    swerl_runtime_free(rt);
}

/* A process of a turn group, its messages taken as a batch: a shared one
   is flagged SHARED and only that (0x2 in a batch is WITHDRAWN: a shared
   message flagged with it would be skipped), and keep works there too. */
static void t_turn_batch(void)
{
    swerl_runtime *rt = check_start_rt(1, 0);
    swerl_group *group = NULL;
    swerl_turn *turn = NULL;
    swerl_binary *b, *kept = NULL;
    swerl_pid pid;
    CHECK_EQ_INT(SWERL_MESSAGE_SHARED & (SWERL_MESSAGE_WITHDRAWN | SWERL_MESSAGE_TERM), 0);
    if (!CHECK(rt != NULL)) return;
    CHECK_EQ_INT(swerl_group_create(rt, "batch", &group), 0);
    CHECK_EQ_INT(swerl_group_spawn(group, &b_hold, NULL, NULL, &pid), 0);
    b = new_filled(4096);
    if (!b) return;
    CHECK_EQ_INT(swerl_send(rt, pid, "plain", 5), 0);
    CHECK_EQ_INT(swerl_send_binary(rt, pid, b), 0);
    if (CHECK_EQ_INT(swerl_group_take(group, 16, CHECK_WAIT_MS, &turn), 1)) {
        CHECK_EQ_INT(turn->count, 2);
        CHECK_EQ_INT(turn->messages[0].flags, 0);
        CHECK_EQ_INT(turn->messages[1].flags, SWERL_MESSAGE_SHARED);
        CHECK(turn->messages[1].data == swerl_binary_data(b));
        CHECK_EQ_INT(turn->messages[1].len, 4096);
        CHECK_EQ_INT(swerl_binary_keep(&turn->messages[1], &kept), 0);
        CHECK(kept == b);
        for (uint32_t i = 0; i < turn->count; i++) {
            turn->current = i;
            turn->results[i] = SWERL_CONTINUE;
        }
        CHECK_EQ_INT(swerl_group_finish(turn, turn->count), 0);
    }
    swerl_binary_release(kept);
    swerl_binary_release(b);
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    swerl_runtime_free(rt);
}

/* Replies: a server answers with swerl_reply_binary; a caller waiting with
   swerl_call_async gets the binary itself, one waiting in swerl_call a
   copy of its bytes. */
static swerl_binary *g_answer;

static int h_server(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)state;
    if (msg->kind == SWERL_CALL) swerl_reply_binary(swerl_ctx_runtime(ctx), msg->ref, g_answer);
    return SWERL_CONTINUE;
}
static const swerl_behavior b_server = { sizeof(swerl_behavior), NULL, h_server, NULL };

typedef struct asker {
    swerl_pid server;
    int done;                    /* 1: a REPLY came */
    int32_t reason;
    uint32_t flags;
    const void *data;
    size_t len;
    int right_bytes;
} asker;

static int i_asker(swerl_ctx *ctx, void *arg, void **state)
{
    asker *a = (asker *)arg;
    swerl_ref ref;
    *state = arg;
    return swerl_call_async(ctx, a->server, "q", 1, 10000, &ref);
}

static int h_asker(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    asker *a = (asker *)state;
    (void)ctx;
    if (msg->kind != SWERL_REPLY) return SWERL_CONTINUE;
    a->reason = msg->reason;
    a->flags = msg->flags;
    a->data = msg->data;
    a->len = msg->len;
    a->right_bytes = has_pattern(msg->data, msg->len);
    AT_STORE(&a->done, 1);
    return SWERL_CONTINUE;
}
static const swerl_behavior b_asker = { sizeof(swerl_behavior), i_asker, h_asker, NULL };

static void t_reply(void)
{
    swerl_runtime *rt = check_start_rt(2, 0);
    swerl_pid server, caller;
    asker a;
    swerl_buffer reply;
    if (!CHECK(rt != NULL)) return;
    g_answer = new_filled(BIG);
    if (!g_answer) return;
    CHECK_EQ_INT(swerl_spawn(rt, &b_server, NULL, NULL, &server), 0);
    memset(&a, 0, sizeof a);
    a.server = server;
    CHECK_EQ_INT(swerl_spawn(rt, &b_asker, &a, NULL, &caller), 0);
    CHECK_WAIT(AT_LOAD(&a.done) == 1);
    CHECK_EQ_INT(a.reason, 0);
    CHECK_EQ_INT(a.flags, SWERL_MESSAGE_SHARED);
    CHECK(a.data == swerl_binary_data(g_answer));                   /* the binary, not a copy */
    CHECK_EQ_INT(a.len, BIG);
    CHECK(a.right_bytes);

    CHECK_EQ_INT(swerl_call(rt, server, "q", 1, 10000, &reply), 0);   /* a thread: a copy */
    CHECK_EQ_INT(reply.len, BIG);
    CHECK(reply.data != swerl_binary_data(g_answer) && has_pattern(reply.data, reply.len));
    swerl_buffer_free(&reply);

    CHECK_EQ_INT(swerl_reply_binary(NULL, 1, g_answer), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_reply_binary(rt, 1, NULL), SWERL_EINVAL);
    CHECK_EQ_INT(swerl_reply_binary(rt, 12345, g_answer), SWERL_EREF);   /* no such call */
    CHECK_EQ_INT(swerl_runtime_stop(rt, 5000), 0);
    CHECK(has_pattern(swerl_binary_data(g_answer), BIG));
    swerl_binary_release(g_answer);
    swerl_runtime_free(rt);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("binary: the calls' contract", t_contract, 30);
    check_section("binary: a fan-out delivers one binary, not copies", t_fanout_is_one_copy, 60);
    check_section("binary: a kept reference outlives the handler and the sender", t_keep_outlives_sender, 60);
    check_section("binary: keep's bad input", t_keep_bad_input, 30);
    check_section("binary: the memory ceiling counts it once per runtime", t_memory_ceiling, 60);
    check_section("binary: errors, names, a dropping mailbox, after stop", t_errors, 60);
    check_section("binary: in a turn group's batch", t_turn_batch, 60);
    check_section("binary: replies (swerl_reply_binary)", t_reply, 60);
    return check_summary();
}
