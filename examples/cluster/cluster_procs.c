/* The cluster example's C process, built as a shared object that
   swerl_node.py loads with swerl.NativeProcess: a key-value server that
   Elixir calls with GenServer.call({:kv, :"swerl@127.0.0.1"}, request).

     {put, Key, Value}  ->  ok
     {get, Key}         ->  {ok, Value} | not_found
     anything else      ->  {error, bad_request}

   Requests are Erlang terms (SWERL_MESSAGE_TERM), read with the cursor
   (swerl_term_read); answers are built with a swerl_term_writer and sent
   with swerl_reply_term, so Elixir gets the terms themselves. Keys and
   values are any terms the writer can write (atoms, numbers, binaries,
   tuples, lists, maps, pids): each is copied, value by value, from the
   request into a writer of its own and kept as those bytes, and keys are
   compared as bytes: the writer writes atoms, integers and binaries one
   way whoever sent them, but a map keeps its pairs in the order they
   came, so a map used as a key may not find an equal map written in
   another order (this server does not sort them).

   A message {crash, Why} (Why a binary) makes it fail with reason
   SWERL_REASON_ERROR and detail Why: a monitor on the Elixir side sees
   {error, Why}. Its supervisor (swerl_node.py) starts a fresh one; init
   registers it as "kv" again, and tells the Python process "python" with
   {kv_started, Pid}.

   Every line it prints starts with "swerl  | ", as swerl_node.py's do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <swerl.h>

#define MAX_ENTRIES 1024

typedef struct blob { unsigned char *data; size_t len; } blob;
typedef struct entry { blob key, value; } entry;
typedef struct kv { entry *entries; size_t n, cap; } kv;

static void say(swerl_ctx *ctx, const char *fmt, const char *text)
{
    char pid[SWERL_PID_FORMAT_MAX];
    swerl_pid_format(swerl_self(ctx), pid, sizeof pid);
    printf("swerl  |   [C kv %s] ", pid);
    printf(fmt, text);
    printf("\n");
    fflush(stdout);
}

/* A swerl_term for swerl_term_read to fill: size set, the rest 0. */
static swerl_term blank(void)
{
    swerl_term t;
    memset(&t, 0, sizeof t);
    t.size = sizeof t;
    return t;
}

/* Copies the term at *at of `data` into `w`; -1 for a term the writer
   cannot write (a bitstring, a port, a fun, a ref of another node). */
static int copy_term(swerl_runtime *rt, const void *data, size_t len, size_t *at, swerl_term_writer *w,
                     int depth)
{
    swerl_term t = blank();
    if (depth > 64 || swerl_term_read(rt, data, len, at, &t) != 0) return -1;
    switch (t.type) {
    case SWERL_TERM_ATOM: {
        char name[512];
        size_t n = 0;
        const unsigned char *p = t.bytes;
        for (size_t i = 0; i < t.len && n + 2 < sizeof name; i++) {
            if (t.latin1 && p[i] >= 0x80) {             /* Latin-1 to UTF-8 */
                name[n++] = (char)(0xC0 | (p[i] >> 6));
                name[n++] = (char)(0x80 | (p[i] & 0x3F));
            } else {
                name[n++] = (char)p[i];
            }
        }
        name[n] = '\0';
        return swerl_term_writer_put_atom(w, name);
    }
    case SWERL_TERM_INTEGER: return swerl_term_writer_put_int(w, t.integer);
    case SWERL_TERM_BIGINT:  return swerl_term_writer_put_bigint(w, (int)t.negative, t.bytes, t.len);
    case SWERL_TERM_FLOAT:   return swerl_term_writer_put_float(w, t.real);
    case SWERL_TERM_BINARY:  return swerl_term_writer_put_binary(w, t.bytes, t.len);
    case SWERL_TERM_PID:     return swerl_term_writer_put_pid(w, t.pid);
    case SWERL_TERM_NIL:     return swerl_term_writer_put_list(w, 0);
    case SWERL_TERM_STRING:                             /* "abc" as Erlang writes it */
        if (t.count > UINT32_MAX || swerl_term_writer_put_list(w, (uint32_t)t.count) != 0) return -1;
        for (uint64_t i = 0; i < t.count; i++)
            if (swerl_term_writer_put_int(w, ((const unsigned char *)t.bytes)[i]) != 0) return -1;
        return 0;
    case SWERL_TERM_TUPLE:
    case SWERL_TERM_MAP: {
        uint64_t n = t.type == SWERL_TERM_MAP ? 2 * t.count : t.count;
        if (t.count > UINT32_MAX) return -1;
        if ((t.type == SWERL_TERM_MAP ? swerl_term_writer_put_map(w, (uint32_t)t.count)
                                      : swerl_term_writer_put_tuple(w, (uint32_t)t.count)) != 0) return -1;
        for (uint64_t i = 0; i < n; i++)
            if (copy_term(rt, data, len, at, w, depth + 1) != 0) return -1;
        return 0;
    }
    case SWERL_TERM_LIST: {
        /* count elements, then the tail: a proper list if the tail is []. */
        size_t peek = *at;
        swerl_term tail = blank();
        for (uint64_t i = 0; i < t.count; i++)
            if (swerl_term_skip(data, len, &peek) != 0) return -1;
        if (t.count > UINT32_MAX || swerl_term_read(rt, data, len, &peek, &tail) != 0) return -1;
        int proper = tail.type == SWERL_TERM_NIL;
        if ((proper ? swerl_term_writer_put_list(w, (uint32_t)t.count)
                    : swerl_term_writer_put_improper_list(w, (uint32_t)t.count)) != 0) return -1;
        for (uint64_t i = 0; i < t.count + (proper ? 0 : 1); i++)
            if (copy_term(rt, data, len, at, w, depth + 1) != 0) return -1;
        if (proper) return swerl_term_skip(data, len, at);   /* step over the [] */
        return 0;
    }
    default: return -1;                                 /* bitstring, ref, port, fun */
    }
}

/* The term at *at, copied into a fresh blob (version byte first). */
static int keep_term(swerl_runtime *rt, const swerl_message *msg, size_t *at, blob *out)
{
    swerl_term_writer *w = swerl_term_writer_new(rt);
    const void *bytes;
    size_t len;
    int rc = -1;
    if (w && copy_term(rt, msg->data, msg->len, at, w, 0) == 0 && swerl_term_writer_bytes(w, &bytes, &len) == 0
        && (out->data = malloc(len)) != NULL) {
        memcpy(out->data, bytes, len);
        out->len = len;
        rc = 0;
    }
    swerl_term_writer_free(w);
    return rc;
}

static entry *find(kv *s, const blob *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->entries[i].key.len == key->len && memcmp(s->entries[i].key.data, key->data, key->len) == 0)
            return &s->entries[i];
    return NULL;
}

static void reply_atom(swerl_runtime *rt, swerl_ref call, swerl_term_writer *w, const char *atom)
{
    const void *bytes;
    size_t len;
    swerl_term_writer_reset(w);
    swerl_term_writer_put_atom(w, atom);
    if (swerl_term_writer_bytes(w, &bytes, &len) == 0) swerl_reply_term(rt, call, bytes, len);
}

static void reply_error(swerl_runtime *rt, swerl_ref call, swerl_term_writer *w, const char *why)
{
    const void *bytes;
    size_t len;
    swerl_term_writer_reset(w);
    swerl_term_writer_put_tuple(w, 2);
    swerl_term_writer_put_atom(w, "error");
    swerl_term_writer_put_atom(w, why);
    if (swerl_term_writer_bytes(w, &bytes, &len) == 0) swerl_reply_term(rt, call, bytes, len);
}

/* A CALL: {put, K, V} or {get, K}. */
static void serve(swerl_ctx *ctx, kv *s, const swerl_message *msg)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    swerl_term_writer *w = swerl_term_writer_new(rt);
    swerl_term t = blank(), op = blank();
    char text[256];
    size_t at = 0;
    blob key = { NULL, 0 }, value = { NULL, 0 };
    if (!w) return;  /* no answer: the caller's timeout */
    if (!(msg->flags & SWERL_MESSAGE_TERM) || swerl_term_read(rt, msg->data, msg->len, &at, &t) != 0
        || t.type != SWERL_TERM_TUPLE || (t.count != 2 && t.count != 3)
        || swerl_term_read(rt, msg->data, msg->len, &at, &op) != 0 || op.type != SWERL_TERM_ATOM) {
        reply_error(rt, msg->ref, w, "bad_request");
        swerl_term_writer_free(w);
        return;
    }
    swerl_term_format(rt, msg->data, msg->len, text, sizeof text);
    if (t.count == 3 && op.len == 3 && memcmp(op.bytes, "put", 3) == 0) {
        entry *e;
        if (keep_term(rt, msg, &at, &key) != 0 || keep_term(rt, msg, &at, &value) != 0) {
            reply_error(rt, msg->ref, w, "unsupported_term");
        } else if ((e = find(s, &key)) != NULL) {       /* replace the value */
            free(e->value.data);
            e->value = value;
            free(key.data);
            key.data = value.data = NULL;
            say(ctx, "call %s -> ok", text);
            reply_atom(rt, msg->ref, w, "ok");
        } else if (s->n == MAX_ENTRIES) {
            reply_error(rt, msg->ref, w, "full");
        } else {
            if (s->n == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 16;
                entry *more = realloc(s->entries, cap * sizeof *more);
                if (!more) {
                    reply_error(rt, msg->ref, w, "out_of_memory");
                    goto done;
                }
                s->entries = more;
                s->cap = cap;
            }
            s->entries[s->n].key = key;
            s->entries[s->n].value = value;
            s->n++;
            key.data = value.data = NULL;
            say(ctx, "call %s -> ok", text);
            reply_atom(rt, msg->ref, w, "ok");
        }
    } else if (t.count == 2 && op.len == 3 && memcmp(op.bytes, "get", 3) == 0) {
        entry *e;
        if (keep_term(rt, msg, &at, &key) != 0) {
            reply_error(rt, msg->ref, w, "unsupported_term");
        } else if ((e = find(s, &key)) == NULL) {
            say(ctx, "call %s -> not_found", text);
            reply_atom(rt, msg->ref, w, "not_found");
        } else {
            /* {ok, Value}: the value copied from its bytes into the answer */
            const void *bytes;
            size_t len, from = 0;
            swerl_term_writer_put_tuple(w, 2);
            swerl_term_writer_put_atom(w, "ok");
            if (copy_term(rt, e->value.data, e->value.len, &from, w, 0) == 0
                && swerl_term_writer_bytes(w, &bytes, &len) == 0) {
                char shown[256], line[600];
                swerl_term_format(rt, bytes, len, shown, sizeof shown);
                snprintf(line, sizeof line, "call %s -> %s", text, shown);
                say(ctx, "%s", line);
                swerl_reply_term(rt, msg->ref, bytes, len);
            } else {
                reply_error(rt, msg->ref, w, "unsupported_term");
            }
        }
    } else {
        reply_error(rt, msg->ref, w, "bad_request");
    }
done:
    free(key.data);
    free(value.data);
    swerl_term_writer_free(w);
}

static int kv_init(swerl_ctx *ctx, void *arg, void **state)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    swerl_term_writer *w;
    const void *bytes;
    size_t len;
    kv *s = calloc(1, sizeof *s);
    (void)arg;
    if (!s) return -1;
    /* As gen_server:start_link({local, kv}, ...): each incarnation takes the name. */
    if (swerl_register(rt, "kv", swerl_self(ctx)) != 0) {
        free(s);
        return -1;
    }
    *state = s;
    say(ctx, "%s", "started, registered as kv");
    /* {kv_started, self()} to the Python process, if it runs. */
    w = swerl_term_writer_new(rt);
    if (w && swerl_term_writer_put_tuple(w, 2) == 0 && swerl_term_writer_put_atom(w, "kv_started") == 0
        && swerl_term_writer_put_pid(w, swerl_self(ctx)) == 0 && swerl_term_writer_bytes(w, &bytes, &len) == 0)
        swerl_send_named_term(rt, "python", bytes, len);  /* ENONAME: nobody listens yet */
    swerl_term_writer_free(w);
    return 0;
}

static int kv_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    kv *s = state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    if (msg->kind == SWERL_CALL) {
        serve(ctx, s, msg);
    } else if (msg->kind == SWERL_MESSAGE && (msg->flags & SWERL_MESSAGE_TERM)) {
        /* {crash, Why} */
        swerl_term t = blank(), a = blank(), why = blank();
        size_t at = 0;
        if (swerl_term_read(rt, msg->data, msg->len, &at, &t) == 0 && t.type == SWERL_TERM_TUPLE && t.count == 2
            && swerl_term_read(rt, msg->data, msg->len, &at, &a) == 0 && a.type == SWERL_TERM_ATOM
            && a.len == 5 && memcmp(a.bytes, "crash", 5) == 0
            && swerl_term_read(rt, msg->data, msg->len, &at, &why) == 0 && why.type == SWERL_TERM_BINARY) {
            char text[128];
            snprintf(text, sizeof text, "%.*s", (int)why.len, (const char *)why.bytes);
            say(ctx, "told to crash: failing with reason ERROR, detail \"%s\"", text);
            swerl_fail(ctx, SWERL_REASON_ERROR, why.bytes, why.len);
            return -1;
        }
    }
    return SWERL_CONTINUE;
}

static void kv_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    kv *s = state;
    (void)ctx;
    (void)reason;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->entries[i].key.data);
        free(s->entries[i].value.data);
    }
    free(s->entries);
    free(s);
}

static const swerl_behavior kv_behavior = { sizeof(swerl_behavior), kv_init, kv_handle, kv_terminate };

const swerl_behavior *cluster_kv_behavior(void) { return &kv_behavior; }
