/*
 * mixed_call.c — a key-value store process, driven from plain C code with
 * swerl_call.
 *
 *   usage: mixed_call
 *
 * What it shows:
 *   - swerl_call from a thread that is not a Swerl process (here: main),
 *     always with a timeout, and the reply buffer freed with
 *     swerl_buffer_free;
 *   - a server answering at once (PUT, GET) and answering later (WAIT: the
 *     store keeps the call's ref and calls swerl_reply when the key is
 *     written, here by a message that a timer, swerl_send_after, delivers);
 *   - what a caller sees when things go wrong, each printed with
 *     swerl_strerror: a timeout (ETIMEDOUT), and a late answer to that call
 *     being refused (EREF) on the server's side; a server that dies while
 *     the call is pending (EEXITED); a call to a pid that is gone (ENOPROC).
 *
 * The protocol is text: "PUT key value", "GET key", "WAIT key", "STATS",
 * "CRASH". The output is a transcript ("> request", "< reply", "! error")
 * that is the same on every run.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swerl.h>

#define KV_MAX_KEYS 32
#define KV_MAX_WAITERS 8
#define KV_KEY_LEN 32
#define KV_VALUE_LEN 64
#define KV_REQUEST_LEN 128
#define CALL_TIMEOUT_MS 2000u
#define SHORT_TIMEOUT_MS 100u
#define TIMER_DELAY_MS 50u

/* ------------------------------------------------------------------------ */
/* The store                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct kv_entry {
    char key[KV_KEY_LEN];
    char value[KV_VALUE_LEN];
} kv_entry;

typedef struct kv_waiter {
    char key[KV_KEY_LEN];
    swerl_ref call;                  /* 0: free */
} kv_waiter;

typedef struct kv_state {
    kv_entry entries[KV_MAX_KEYS];
    size_t n_entries;
    kv_waiter waiters[KV_MAX_WAITERS];
    unsigned late_replies_discarded; /* swerl_reply said EREF */
} kv_state;

/* A parsed request: "VERB key rest-of-line", each part possibly empty. */
typedef struct kv_request {
    char text[KV_REQUEST_LEN];
    const char *verb, *key, *value;
} kv_request;

static int kv_init(swerl_ctx *ctx, void *arg, void **state)
{
    kv_state *kv = calloc(1, sizeof *kv);

    (void)ctx;
    (void)arg;
    if (kv == NULL)
        return -1;
    *state = kv;
    return 0;
}

/* Split the message's bytes (not NUL-terminated) into verb, key and value. */
static int kv_parse(const swerl_message *msg, kv_request *req)
{
    char *p;

    if (msg->len >= sizeof req->text)
        return -1;
    if (msg->len > 0)
        memcpy(req->text, msg->data, msg->len);
    req->text[msg->len] = '\0';
    p = req->text;
    req->verb = p;
    req->key = req->value = "";
    if ((p = strchr(p, ' ')) != NULL) {
        *p++ = '\0';
        req->key = p;
        if ((p = strchr(p, ' ')) != NULL) {
            *p++ = '\0';
            req->value = p;
        }
    }
    return 0;
}

static kv_entry *kv_find(kv_state *kv, const char *key)
{
    size_t i;
    for (i = 0; i < kv->n_entries; i++)
        if (strcmp(kv->entries[i].key, key) == 0)
            return &kv->entries[i];
    return NULL;
}

static void kv_answer(swerl_runtime *rt, kv_state *kv, swerl_ref call, const char *text)
{
    int rc = swerl_reply(rt, call, text, strlen(text));
    if (rc == SWERL_EREF)
        kv->late_replies_discarded++; /* the caller gave up (timed out) */
    else if (rc != 0)
        fprintf(stderr, "kv: swerl_reply: %s\n", swerl_strerror(rc));
}

/* Store a value and answer everyone who was waiting for that key. */
static const char *kv_put(swerl_runtime *rt, kv_state *kv, const char *key, const char *value)
{
    kv_entry *e = kv_find(kv, key);
    size_t i;

    if (key[0] == '\0' || strlen(key) >= KV_KEY_LEN || strlen(value) >= KV_VALUE_LEN)
        return "error: bad key or value";
    if (e == NULL) {
        if (kv->n_entries == KV_MAX_KEYS)
            return "error: store full";
        e = &kv->entries[kv->n_entries++];
        strcpy(e->key, key);
    }
    strcpy(e->value, value);
    for (i = 0; i < KV_MAX_WAITERS; i++) {
        kv_waiter *w = &kv->waiters[i];
        if (w->call != 0 && strcmp(w->key, key) == 0) {
            kv_answer(rt, kv, w->call, e->value); /* the deferred reply */
            w->call = 0;
        }
    }
    return "ok";
}

/* WAIT: the value if there is one, else keep the call to answer later. */
static const char *kv_wait(kv_state *kv, const char *key, swerl_ref call)
{
    kv_entry *e = kv_find(kv, key);
    size_t i;

    if (e != NULL)
        return e->value;
    if (key[0] == '\0' || strlen(key) >= KV_KEY_LEN)
        return "error: bad key";
    for (i = 0; i < KV_MAX_WAITERS; i++) {
        if (kv->waiters[i].call == 0) {
            strcpy(kv->waiters[i].key, key);
            kv->waiters[i].call = call;
            return NULL; /* deferred */
        }
    }
    return "error: too many waiters";
}

static int kv_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    kv_state *kv = state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    kv_request req;
    const char *answer;
    char stats[96];
    size_t i;
    unsigned waiting = 0;

    if (msg->kind == SWERL_MESSAGE) {
        /* A plain message (from a timer here): a PUT nobody answers, so a
           failure can only be logged. */
        if (kv_parse(msg, &req) == 0 && strcmp(req.verb, "PUT") == 0) {
            answer = kv_put(rt, kv, req.key, req.value);
            if (strcmp(answer, "ok") != 0)
                fprintf(stderr, "kv: PUT %s: %s\n", req.key, answer);
        }
        return SWERL_CONTINUE;
    }
    if (msg->kind != SWERL_CALL)
        return SWERL_CONTINUE;

    if (kv_parse(msg, &req) != 0) {
        answer = "error: request too long";
    } else if (strcmp(req.verb, "PUT") == 0) {
        answer = kv_put(rt, kv, req.key, req.value);
    } else if (strcmp(req.verb, "GET") == 0) {
        kv_entry *e = kv_find(kv, req.key);
        answer = e != NULL ? e->value : "(not found)";
    } else if (strcmp(req.verb, "WAIT") == 0) {
        answer = kv_wait(kv, req.key, msg->ref);
        if (answer == NULL)
            return SWERL_CONTINUE; /* kv_put will answer it */
    } else if (strcmp(req.verb, "STATS") == 0) {
        for (i = 0; i < KV_MAX_WAITERS; i++)
            waiting += kv->waiters[i].call != 0;
        snprintf(stats, sizeof stats, "keys=%zu waiting=%u late_replies_discarded=%u",
                 kv->n_entries, waiting, kv->late_replies_discarded);
        answer = stats;
    } else if (strcmp(req.verb, "CRASH") == 0) {
        /* Die without answering: the caller gets EEXITED, and terminate
           still runs and frees the state. */
        static const char why[] = "asked to crash";
        int rc = swerl_fail(ctx, SWERL_REASON_USER, why, sizeof why - 1);
        if (rc != 0)
            fprintf(stderr, "kv: swerl_fail: %s\n", swerl_strerror(rc));
        return -1;
    } else {
        answer = "error: unknown request";
    }
    kv_answer(rt, kv, msg->ref, answer);
    return SWERL_CONTINUE;
}

static void kv_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx;
    (void)reason;
    /* Waiters still pending get EEXITED from the runtime; just free. */
    free(state);
}

static const swerl_behavior kv_behavior = {
    sizeof(swerl_behavior), kv_init, kv_handle, kv_terminate
};

/* ------------------------------------------------------------------------ */
/* main: the client side                                                     */
/* ------------------------------------------------------------------------ */

static void report(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, swerl_strerror(rc), swerl_err_name(rc));
}

/* One call, printed as a transcript. Returns swerl_call's result. */
static int kv_call(swerl_runtime *rt, swerl_pid store, const char *request, uint32_t timeout_ms,
                   const char *note)
{
    swerl_buffer reply = { NULL, 0 };
    int rc;

    printf("> %s%s%s\n", request, note ? "    # " : "", note ? note : "");
    rc = swerl_call(rt, store, request, strlen(request), timeout_ms, &reply);
    if (rc == 0)
        printf("< %.*s\n", (int)reply.len, reply.data ? (const char *)reply.data : "");
    else
        printf("! %s (%s)\n", swerl_strerror(rc), swerl_err_name(rc));
    swerl_buffer_free(&reply); /* safe on an empty buffer too */
    return rc;
}

int main(void)
{
    static const char timer_put[] = "PUT answer 42";
    swerl_runtime *rt = NULL;
    swerl_pid store = 0;
    swerl_ref timer = 0;
    int rc, ok = 1;

    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = swerl_runtime_start(NULL, &rt);
    if (rc != 0) {
        report("swerl_runtime_start", rc);
        return 1;
    }
    rc = swerl_spawn(rt, &kv_behavior, NULL, NULL, &store);
    if (rc != 0) {
        report("swerl_spawn(kv)", rc);
        ok = 0;
        goto out;
    }

    /* Answered at once. */
    ok &= kv_call(rt, store, "PUT colour blue", CALL_TIMEOUT_MS, NULL) == 0;
    ok &= kv_call(rt, store, "GET colour", CALL_TIMEOUT_MS, NULL) == 0;
    ok &= kv_call(rt, store, "GET size", CALL_TIMEOUT_MS, NULL) == 0;

    /* Answered later: nobody has written "answer" yet, so the store keeps
       the call; a timer delivers the PUT that releases it. */
    rc = swerl_send_after(rt, store, TIMER_DELAY_MS, timer_put, sizeof timer_put - 1, &timer);
    if (rc != 0) {
        report("swerl_send_after", rc);
        ok = 0;
        goto out;
    }
    ok &= kv_call(rt, store, "WAIT answer", CALL_TIMEOUT_MS,
                  "deferred: a timer sends \"PUT answer 42\"") == 0;

    /* A timeout: nobody writes "nobody" in time. The store still holds the
       call; when the key is written, its swerl_reply returns EREF (the
       caller gave up) and the answer is dropped, which STATS shows. */
    ok &= kv_call(rt, store, "WAIT nobody", SHORT_TIMEOUT_MS, "100 ms timeout") == SWERL_ETIMEDOUT;
    ok &= kv_call(rt, store, "PUT nobody here", CALL_TIMEOUT_MS, NULL) == 0;
    ok &= kv_call(rt, store, "STATS", CALL_TIMEOUT_MS, NULL) == 0;

    /* The server dies while our call is pending, then the pid is gone. */
    ok &= kv_call(rt, store, "CRASH", CALL_TIMEOUT_MS, NULL) == SWERL_EEXITED;
    ok &= kv_call(rt, store, "GET colour", CALL_TIMEOUT_MS, "the store is dead") == SWERL_ENOPROC;

    /* A plain send to a dead pid fails the same way (Erlang's would not). */
    rc = swerl_send(rt, store, "GET colour", 10);
    printf("swerl_send to the dead store: %s (%s)\n", swerl_strerror(rc), swerl_err_name(rc));
    ok &= rc == SWERL_ENOPROC;

out:
    rc = swerl_runtime_stop(rt, 5000);
    if (rc != 0) {
        report("swerl_runtime_stop", rc);
        ok = 0;
    }
    swerl_runtime_free(rt);
    return ok ? 0 : 1;
}
