/*
 * test_terms.c — Erlang terms as messages (issue 14): building terms with
 * the writer, reading them with the cursor, printing them as ~p does,
 * sending them marked SWERL_MESSAGE_TERM, and untrusted bytes refused with
 * where and why (every prefix, every one-byte change, huge claims, deep
 * nesting), never a crash.
 *
 * Functions covered: swerl_term_writer_new/free/reset/put_* /bytes,
 * swerl_term_read, swerl_term_skip, swerl_term_format, swerl_send_term,
 * swerl_send_named_term, swerl_message.flags.
 */
#include "check.h"

#define CHECK_DETAIL(call, code, words)                                                     \
    do {                                                                                    \
        CHECK_EQ_INT((call), (code));                                                       \
        CHECK_MSG(strstr(swerl_last_error_detail(), (words)) != NULL,                       \
                  "%s: the detail \"%s\" does not say \"%s\"", #call, swerl_last_error_detail(), (words)); \
    } while (0)

/* Bytes Erlang/OTP 25's term_to_binary wrote. */
static const unsigned char ERL_TUPLE[] = { 131, 104, 3, 100, 0, 2, 111, 107, 97, 1, 109, 0, 0, 0, 1, 120 }; /* {ok,1,<<"x">>} */
static const unsigned char ERL_STRING[] = { 131, 107, 0, 3, 1, 2, 3 };                                      /* [1,2,3] */
static const unsigned char ERL_BIG[] = { 131, 110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 64 };                      /* -(1 bsl 70) */
static const unsigned char ERL_SMALL_BIG[] = { 131, 110, 4, 0, 0, 0, 0, 128 };                              /* 2147483648 */
static const unsigned char ERL_PID[] = { 131, 88, 100, 0, 13, 'n', 'o', 'n', 'o', 'd', 'e', '@', 'n', 'o', 'h', 'o', 's', 't',
                                         0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0 };                              /* <0.9.0> */
static const unsigned char ERL_IMPROPER[] = { 131, 108, 0, 0, 0, 1, 100, 0, 1, 97, 100, 0, 1, 98 };         /* [a|b] */
static const unsigned char ERL_BITS[] = { 131, 77, 0, 0, 0, 1, 3, 32 };                                     /* <<1:3>> */
static const unsigned char ERL_FUN[] = { 131, 113, 100, 0, 5, 'l', 'i', 's', 't', 's', 100, 0, 3, 'm', 'a', 'p', 97, 2 };
static const unsigned char ERL_MAP[] = { 131, 116, 0, 0, 0, 1, 100, 0, 1, 97, 97, 1 };                      /* #{a => 1} */
static const unsigned char ERL_FLOAT[] = { 131, 70, 64, 12, 0, 0, 0, 0, 0, 0 };                             /* 3.5 */
static const unsigned char ERL_LATIN1[] = { 131, 100, 0, 1, 233 };                                          /* 'é' (ATOM_EXT) */

static void term_init(swerl_term *t)
{
    memset(t, 0, sizeof *t);
    t->size = sizeof *t;
}

/* Reads one header at *at, checking its type. */
static int read_type(swerl_runtime *rt, const void *data, size_t len, size_t *at, swerl_term *t, uint32_t type)
{
    int rc;
    term_init(t);
    rc = swerl_term_read(rt, data, len, at, t);
    CHECK_EQ_INT(rc, SWERL_OK);
    CHECK_EQ_INT((int)t->type, (int)type);
    return rc == 0 && t->type == type;
}

/* The ~p text of a whole term, checked. */
static void check_format(swerl_runtime *rt, const void *data, size_t len, const char *want)
{
    char buf[512];
    int n = swerl_term_format(rt, data, len, buf, sizeof buf);
    CHECK_EQ_INT(n, (int)strlen(want));
    CHECK_STR(buf, want);
}

/* ------------------------------------------------------------------------ */
/* Reading what Erlang wrote                                                 */
/* ------------------------------------------------------------------------ */

static void t_read_erlang(void)
{
    swerl_term t;
    size_t at = 0;
    /* {ok,1,<<"x">>}: a tuple header, then its 3 elements */
    if (read_type(NULL, ERL_TUPLE, sizeof ERL_TUPLE, &at, &t, SWERL_TERM_TUPLE)) CHECK_EQ_U64(t.count, 3);
    CHECK_EQ_INT((int)at, 3);
    if (read_type(NULL, ERL_TUPLE, sizeof ERL_TUPLE, &at, &t, SWERL_TERM_ATOM)) CHECK_MEM(t.bytes, t.len, "ok", 2);
    if (read_type(NULL, ERL_TUPLE, sizeof ERL_TUPLE, &at, &t, SWERL_TERM_INTEGER)) CHECK_EQ_INT((int)t.integer, 1);
    if (read_type(NULL, ERL_TUPLE, sizeof ERL_TUPLE, &at, &t, SWERL_TERM_BINARY)) CHECK_MEM(t.bytes, t.len, "x", 1);
    CHECK_EQ_INT((int)at, (int)sizeof ERL_TUPLE);
    CHECK_EQ_INT(swerl_term_read(NULL, ERL_TUPLE, sizeof ERL_TUPLE, &at, &t), SWERL_EINVAL);  /* nothing more */
    CHECK_EQ_INT((int)at, (int)sizeof ERL_TUPLE);

    at = 0;
    if (read_type(NULL, ERL_STRING, sizeof ERL_STRING, &at, &t, SWERL_TERM_STRING)) {
        CHECK_EQ_U64(t.count, 3);
        CHECK_MEM(t.bytes, t.len, "\1\2\3", 3);
    }
    at = 0;
    if (read_type(NULL, ERL_BIG, sizeof ERL_BIG, &at, &t, SWERL_TERM_BIGINT)) {
        CHECK_EQ_INT((int)t.negative, 1);
        CHECK_EQ_INT((int)t.len, 9);
    }
    at = 0;
    if (read_type(NULL, ERL_SMALL_BIG, sizeof ERL_SMALL_BIG, &at, &t, SWERL_TERM_INTEGER))  /* fits: an integer */
        CHECK(t.integer == 2147483648LL);
    at = 0;
    if (read_type(NULL, ERL_PID, sizeof ERL_PID, &at, &t, SWERL_TERM_PID)) {
        CHECK_MEM(t.bytes, t.len, "nonode@nohost", 13);
        CHECK_EQ_U64(t.pid, 0);  /* no runtime given */
    }
    at = 0;
    if (read_type(NULL, ERL_IMPROPER, sizeof ERL_IMPROPER, &at, &t, SWERL_TERM_LIST)) CHECK_EQ_U64(t.count, 1);
    read_type(NULL, ERL_IMPROPER, sizeof ERL_IMPROPER, &at, &t, SWERL_TERM_ATOM);
    if (read_type(NULL, ERL_IMPROPER, sizeof ERL_IMPROPER, &at, &t, SWERL_TERM_ATOM))  /* the tail */
        CHECK_MEM(t.bytes, t.len, "b", 1);
    at = 0;
    if (read_type(NULL, ERL_BITS, sizeof ERL_BITS, &at, &t, SWERL_TERM_BITSTRING)) CHECK_EQ_INT((int)t.bits, 3);
    at = 0;
    if (read_type(NULL, ERL_FUN, sizeof ERL_FUN, &at, &t, SWERL_TERM_FUN)) {
        CHECK_MEM(t.bytes, t.len, "lists", 5);
        CHECK_MEM(t.name, t.name_len, "map", 3);
        CHECK_EQ_INT((int)t.integer, 2);
    }
    at = 0;
    if (read_type(NULL, ERL_MAP, sizeof ERL_MAP, &at, &t, SWERL_TERM_MAP)) CHECK_EQ_U64(t.count, 1);
    at = 0;
    if (read_type(NULL, ERL_FLOAT, sizeof ERL_FLOAT, &at, &t, SWERL_TERM_FLOAT)) CHECK(t.real == 3.5);
    at = 0;
    if (read_type(NULL, ERL_LATIN1, sizeof ERL_LATIN1, &at, &t, SWERL_TERM_ATOM)) CHECK_EQ_INT((int)t.latin1, 1);

    /* skip: past a whole term from 0, past one element from inside */
    at = 0;
    CHECK_EQ_INT(swerl_term_skip(ERL_TUPLE, sizeof ERL_TUPLE, &at), SWERL_OK);
    CHECK_EQ_INT((int)at, (int)sizeof ERL_TUPLE);
    at = 3;
    CHECK_EQ_INT(swerl_term_skip(ERL_TUPLE, sizeof ERL_TUPLE, &at), SWERL_OK);
    CHECK_EQ_INT((int)at, 8);  /* the atom: tag, 2 length bytes, "ok" */
    at = 0;
    CHECK_EQ_INT(swerl_term_skip(ERL_IMPROPER, sizeof ERL_IMPROPER, &at), SWERL_OK);
    CHECK_EQ_INT((int)at, (int)sizeof ERL_IMPROPER);
}

/* ------------------------------------------------------------------------ */
/* ~p                                                                        */
/* ------------------------------------------------------------------------ */

static void t_format(void)
{
    static const unsigned char quoted[] = { 131, 100, 0, 5, 'H', 'e', 'l', 'l', 'o' };
    static const unsigned char reserved[] = { 131, 100, 0, 2, 'o', 'f' };
    static const unsigned char escaped[] = { 131, 107, 0, 3, 'a', '\n', '"' };
    char small[4];
    check_format(NULL, ERL_TUPLE, sizeof ERL_TUPLE, "{ok,1,<<\"x\">>}");
    check_format(NULL, ERL_STRING, sizeof ERL_STRING, "[1,2,3]");
    check_format(NULL, escaped, sizeof escaped, "\"a\\n\\\"\"");
    check_format(NULL, ERL_BIG, sizeof ERL_BIG, "-1180591620717411303424");
    check_format(NULL, ERL_PID, sizeof ERL_PID, "<nonode@nohost.9.0>");
    check_format(NULL, ERL_IMPROPER, sizeof ERL_IMPROPER, "[a|b]");
    check_format(NULL, ERL_BITS, sizeof ERL_BITS, "<<1:3>>");
    check_format(NULL, ERL_FUN, sizeof ERL_FUN, "fun lists:map/2");
    check_format(NULL, ERL_MAP, sizeof ERL_MAP, "#{a => 1}");
    check_format(NULL, ERL_FLOAT, sizeof ERL_FLOAT, "3.5");
    check_format(NULL, ERL_LATIN1, sizeof ERL_LATIN1, "'\xc3\xa9'");
    check_format(NULL, quoted, sizeof quoted, "'Hello'");
    check_format(NULL, reserved, sizeof reserved, "'of'");
    /* floats in the shorter of Erlang's notations, the plain one on a tie */
    {
        static const double values[] = { 1.0e6, 0.1, 100.0, 1.0e-10, -2.5, 123456.0, 1e21, 5e-324, 0.0 };
        static const char *const texts[] = { "1.0e6", "0.1", "100.0", "1.0e-10", "-2.5", "123456.0", "1.0e21",
                                             "5.0e-324", "0.0" };
        swerl_term_writer *w = swerl_term_writer_new(NULL);
        const void *data;
        size_t len, i;
        for (i = 0; w && i < sizeof values / sizeof values[0]; i++) {
            swerl_term_writer_reset(w);
            CHECK_EQ_INT(swerl_term_writer_put_float(w, values[i]), SWERL_OK);
            if (CHECK_EQ_INT(swerl_term_writer_bytes(w, &data, &len), SWERL_OK)) check_format(NULL, data, len, texts[i]);
        }
        swerl_term_writer_free(w);
    }
    /* snprintf's rules: the whole length, the text cut to fit */
    CHECK_EQ_INT(swerl_term_format(NULL, ERL_TUPLE, sizeof ERL_TUPLE, small, sizeof small), 14);
    CHECK_STR(small, "{ok");
    CHECK_EQ_INT(swerl_term_format(NULL, ERL_TUPLE, sizeof ERL_TUPLE, NULL, 0), 14);
    CHECK_DETAIL(swerl_term_format(NULL, ERL_TUPLE, sizeof ERL_TUPLE, NULL, 4), SWERL_EINVAL, "buf is NULL");
    CHECK_DETAIL(swerl_term_format(NULL, ERL_TUPLE, sizeof ERL_TUPLE - 1, small, sizeof small), SWERL_EINVAL,
                 "at byte");
    CHECK_DETAIL(swerl_term_format(NULL, NULL, 3, small, sizeof small), SWERL_EINVAL, "data is NULL");
}

/* ------------------------------------------------------------------------ */
/* The writer                                                                */
/* ------------------------------------------------------------------------ */

static int h_idle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    (void)ctx; (void)msg; (void)state;
    return SWERL_CONTINUE;
}
static const swerl_behavior b_idle = { sizeof(swerl_behavior), NULL, h_idle, NULL };

static void t_writer_round_trip(void)
{
    swerl_runtime *rt = check_start_rt(1, 0);
    swerl_term_writer *w;
    const void *data = NULL;
    size_t len = 0, at = 0;
    swerl_term t;
    static const unsigned char two64[] = { 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    swerl_pid pid = 0;
    if (!CHECK(rt != NULL)) return;
    w = swerl_term_writer_new(rt);
    if (!CHECK(w != NULL)) return;
    /* {reply, <<"héllo">>, [1, -7, 2^64 - 1, 2^64], #{flag => true, pi => 3.25}, [x | y], []} */
    CHECK_EQ_INT(swerl_term_writer_put_tuple(w, 6), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_atom(w, "reply"), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_string(w, "h\xc3\xa9llo"), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_list(w, 4), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_int(w, 1), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_int(w, -7), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_uint(w, UINT64_MAX), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_bigint(w, 0, two64, sizeof two64), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_map(w, 2), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_atom(w, "flag"), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_bool(w, 1), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_atom(w, "pi"), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_float(w, 3.25), SWERL_OK);
    CHECK_DETAIL(swerl_term_writer_bytes(w, &data, &len), SWERL_EINVAL, "the tuple opened at byte 1 lacks 2 values");
    CHECK_EQ_INT(swerl_term_writer_put_improper_list(w, 1), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_atom(w, "x"), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_atom(w, "y"), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_list(w, 0), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_bytes(w, &data, &len), SWERL_OK);
    CHECK_DETAIL(swerl_term_writer_put_int(w, 1), SWERL_EINVAL, "complete");
    check_format(rt, data, len, "{reply,<<\"h\xc3\xa9llo\"/utf8>>,[1,-7,18446744073709551615,18446744073709551616],"
                                "#{flag => true,pi => 3.25},[x|y],[]}");
    at = 0;
    CHECK_EQ_INT(swerl_term_skip(data, len, &at), SWERL_OK);
    CHECK_EQ_INT((int)at, (int)len);

    /* pids and refs go both ways through the runtime */
    CHECK_EQ_INT(swerl_spawn(rt, &b_idle, NULL, NULL, &pid), SWERL_OK);
    swerl_term_writer_reset(w);
    CHECK_EQ_INT(swerl_term_writer_put_tuple(w, 3), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_pid(w, pid), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_ref(w, 0x1234567890ULL), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_put_ref(w, 77), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_bytes(w, &data, &len), SWERL_OK);
    at = 0;
    read_type(rt, data, len, &at, &t, SWERL_TERM_TUPLE);
    if (read_type(rt, data, len, &at, &t, SWERL_TERM_PID)) CHECK_EQ_U64(t.pid, pid);
    if (read_type(rt, data, len, &at, &t, SWERL_TERM_REF)) CHECK_EQ_U64(t.ref, 0x1234567890ULL);
    if (read_type(rt, data, len, &at, &t, SWERL_TERM_REF)) CHECK_EQ_U64(t.ref, 77);
    at = 1;
    read_type(NULL, data, len, &at, &t, SWERL_TERM_TUPLE);
    if (read_type(NULL, data, len, &at, &t, SWERL_TERM_PID)) CHECK_EQ_U64(t.pid, 0);  /* no runtime: 0 */
    swerl_term_writer_free(w);
    swerl_term_writer_free(NULL);
    swerl_term_writer_reset(NULL);
    swerl_runtime_free(rt);
}

static void t_writer_mistakes(void)
{
    swerl_runtime *rt = check_start_rt(1, 0);
    swerl_runtime *other = check_start_rt(1, 0);
    swerl_term_writer *w = swerl_term_writer_new(NULL);
    swerl_term_writer *ww;
    const void *data;
    size_t len;
    char long_atom[300];
    int i;
    if (!CHECK(w != NULL && rt != NULL && other != NULL)) return;
    CHECK_DETAIL(swerl_term_writer_put_int(NULL, 1), SWERL_EINVAL, "w is NULL");
    CHECK_DETAIL(swerl_term_writer_bytes(NULL, &data, &len), SWERL_EINVAL, "w is NULL");
    CHECK_DETAIL(swerl_term_writer_bytes(w, NULL, &len), SWERL_EINVAL, "data is NULL");
    CHECK_DETAIL(swerl_term_writer_bytes(w, &data, NULL), SWERL_EINVAL, "len is NULL");
    CHECK_DETAIL(swerl_term_writer_bytes(w, &data, &len), SWERL_EINVAL, "nothing was put yet");
    CHECK_DETAIL(swerl_term_writer_put_atom(w, NULL), SWERL_EINVAL, "name is NULL");
    memset(long_atom, 'a', sizeof long_atom);
    long_atom[256] = 0;
    CHECK_DETAIL(swerl_term_writer_put_atom(w, long_atom), SWERL_EINVAL, "256 characters");
    CHECK_DETAIL(swerl_term_writer_put_atom(w, "\xff"), SWERL_EINVAL, "not UTF-8");
    CHECK_DETAIL(swerl_term_writer_put_string(w, NULL), SWERL_EINVAL, "text is NULL");
    CHECK_DETAIL(swerl_term_writer_put_binary(w, NULL, 3), SWERL_EINVAL, "data is NULL");
    CHECK_DETAIL(swerl_term_writer_put_bigint(w, 1, NULL, 3), SWERL_EINVAL, "magnitude is NULL");
    CHECK_DETAIL(swerl_term_writer_put_float(w, 1.0 / 0.0), SWERL_EINVAL, "not finite");
    CHECK_DETAIL(swerl_term_writer_put_pid(w, 1), SWERL_EINVAL, "no runtime");
    CHECK_DETAIL(swerl_term_writer_put_ref(w, 1), SWERL_EINVAL, "no runtime");
    CHECK_DETAIL(swerl_term_writer_put_improper_list(w, 0), SWERL_EINVAL, "at least one element");
    CHECK_DETAIL(swerl_term_writer_bytes(w, &data, &len), SWERL_EINVAL, "nothing was put yet");  /* all refused */
    /* an empty binary and NULL data are fine */
    CHECK_EQ_INT(swerl_term_writer_put_binary(w, NULL, 0), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_bytes(w, &data, &len), SWERL_OK);
    CHECK_EQ_INT((int)len, 6);
    swerl_term_writer_reset(w);
    /* nesting deeper than SWERL_TERM_MAX_DEPTH */
    for (i = 0; i < SWERL_TERM_MAX_DEPTH; i++) CHECK_EQ_INT(swerl_term_writer_put_tuple(w, 1), SWERL_OK);
    CHECK_DETAIL(swerl_term_writer_put_list(w, 1), SWERL_EINVAL, "deeper than 512");
    CHECK_EQ_INT(swerl_term_writer_put_list(w, 0), SWERL_OK);  /* [] is no container */
    CHECK_EQ_INT(swerl_term_writer_bytes(w, &data, &len), SWERL_OK);
    swerl_term_writer_free(w);

    ww = swerl_term_writer_new(rt);
    if (!CHECK(ww != NULL)) return;
    CHECK_DETAIL(swerl_term_writer_put_pid(ww, 0), SWERL_EINVAL, "pid 0");
    CHECK_DETAIL(swerl_term_writer_put_ref(ww, 0), SWERL_EINVAL, "ref 0");
    {
        swerl_pid foreign = 0;
        CHECK_EQ_INT(swerl_spawn(other, &b_idle, NULL, NULL, &foreign), SWERL_OK);
        CHECK_DETAIL(swerl_term_writer_put_pid(ww, foreign), SWERL_EINVAL, "not a pid of the writer's runtime");
    }
    swerl_term_writer_free(ww);
    swerl_runtime_free(other);
    swerl_runtime_free(rt);
}

/* ------------------------------------------------------------------------ */
/* Untrusted bytes                                                           */
/* ------------------------------------------------------------------------ */

/* Everything a reader offers, on `data`: never a crash, only 0 or EINVAL. */
static int read_everything(const unsigned char *data, size_t len)
{
    size_t at = 0;
    swerl_term t;
    char buf[64];
    int rc, steps = 0, failures = 0;
    term_init(&t);
    while (at < len && steps++ < 10000) {
        rc = swerl_term_read(NULL, data, len, &at, &t);
        if (rc != 0) {
            failures += rc != SWERL_EINVAL;
            break;
        }
    }
    at = 0;
    rc = swerl_term_skip(data, len, &at);
    failures += rc != 0 && rc != SWERL_EINVAL;
    rc = swerl_term_format(NULL, data, len, buf, sizeof buf);
    failures += rc < 0 && rc != SWERL_EINVAL;
    return failures;
}

static void t_untrusted(void)
{
    static const unsigned char *const all[] = { ERL_TUPLE, ERL_STRING, ERL_BIG, ERL_PID, ERL_IMPROPER, ERL_BITS,
                                                ERL_FUN, ERL_MAP, ERL_FLOAT, ERL_LATIN1 };
    static const size_t sizes[] = { sizeof ERL_TUPLE, sizeof ERL_STRING, sizeof ERL_BIG, sizeof ERL_PID,
                                    sizeof ERL_IMPROPER, sizeof ERL_BITS, sizeof ERL_FUN, sizeof ERL_MAP,
                                    sizeof ERL_FLOAT, sizeof ERL_LATIN1 };
    static const unsigned char huge_list[] = { 131, 108, 127, 255, 255, 255, 106 };
    static const unsigned char huge_map[] = { 131, 116, 255, 255, 255, 255 };
    static const unsigned char not_version[] = { 130, 106 };
    static const unsigned char trailing[] = { 131, 106, 106 };
    static const unsigned char compressed[] = { 131, 80, 0, 0, 0, 1 };
    unsigned char mutated[64], *deep;
    size_t i, j, at;
    int v, bad = 0;
    swerl_term t;
    term_init(&t);
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        for (j = 0; j < sizes[i]; j++) {  /* every proper prefix is refused */
            at = 0;
            if (swerl_term_skip(all[i], j, &at) != SWERL_EINVAL) bad++;
        }
        for (j = 0; j < sizes[i]; j++) {  /* every one-byte change: 0 or EINVAL */
            memcpy(mutated, all[i], sizes[i]);
            for (v = 0; v < 256; v += 7) {
                mutated[j] = (unsigned char)v;
                bad += read_everything(mutated, sizes[i]);
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    at = 0;
    CHECK_DETAIL(swerl_term_skip(huge_list, sizeof huge_list, &at), SWERL_EINVAL, "a list of 2147483647 elements");
    CHECK_EQ_INT((int)at, 0);  /* unchanged */
    at = 0;
    CHECK_DETAIL(swerl_term_read(NULL, huge_map, sizeof huge_map, &at, &t), SWERL_EINVAL, "a map of");
    at = 0;
    CHECK_DETAIL(swerl_term_read(NULL, not_version, sizeof not_version, &at, &t), SWERL_EINVAL, "version (131)");
    at = 0;
    CHECK_EQ_INT(swerl_term_skip(trailing, sizeof trailing, &at), SWERL_OK);  /* skip stops after the term */
    CHECK_EQ_INT((int)at, 2);
    CHECK_DETAIL(swerl_term_format(NULL, trailing, sizeof trailing, NULL, 0), SWERL_EINVAL, "1 bytes after the term");
    at = 0;
    CHECK_DETAIL(swerl_term_skip(compressed, sizeof compressed, &at), SWERL_EINVAL, "compressed");
    at = 99;
    CHECK_DETAIL(swerl_term_read(NULL, ERL_TUPLE, sizeof ERL_TUPLE, &at, &t), SWERL_EINVAL, "past the end");
    at = 0;
    CHECK_DETAIL(swerl_term_read(NULL, NULL, 4, &at, &t), SWERL_EINVAL, "data is NULL");
    CHECK_DETAIL(swerl_term_read(NULL, ERL_TUPLE, sizeof ERL_TUPLE, NULL, &t), SWERL_EINVAL, "offset is NULL");
    CHECK_DETAIL(swerl_term_read(NULL, ERL_TUPLE, sizeof ERL_TUPLE, &at, NULL), SWERL_EINVAL, "out is NULL");
    t.size = 0;
    CHECK_DETAIL(swerl_term_read(NULL, ERL_TUPLE, sizeof ERL_TUPLE, &at, &t), SWERL_EINVAL, "out->size is 0");
    CHECK_DETAIL(swerl_term_skip(ERL_TUPLE, sizeof ERL_TUPLE, NULL), SWERL_EINVAL, "offset is NULL");

    /* nesting: SWERL_TERM_MAX_DEPTH levels are fine, one more is refused */
    deep = (unsigned char *)malloc(3 + 2 * (SWERL_TERM_MAX_DEPTH + 1));
    if (!CHECK(deep != NULL)) return;
    for (v = SWERL_TERM_MAX_DEPTH; v <= SWERL_TERM_MAX_DEPTH + 1; v++) {
        size_t n = 0;
        int k;
        deep[n++] = 131;
        for (k = 0; k < v; k++) {
            deep[n++] = 104;
            deep[n++] = 1;
        }
        deep[n++] = 106;
        at = 0;
        if (v == SWERL_TERM_MAX_DEPTH) {
            CHECK_EQ_INT(swerl_term_skip(deep, n, &at), SWERL_OK);
        } else {
            CHECK_DETAIL(swerl_term_skip(deep, n, &at), SWERL_EINVAL, "nested deeper than 512");
            CHECK_DETAIL(swerl_term_format(NULL, deep, n, NULL, 0), SWERL_EINVAL, "nested deeper");
        }
    }
    free(deep);
}

/* ------------------------------------------------------------------------ */
/* Term messages                                                             */
/* ------------------------------------------------------------------------ */

static check_mailbox g_box;

/* A server: {get, Key, From} -> sends {value, Key, self()} to From as a
   term; any other message -> an EV_NOTE with its flags. */
static int h_server(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    check_event e;
    swerl_term t;
    size_t at = 0;
    const void *key = NULL, *data;
    size_t key_len = 0, len;
    swerl_pid from = 0;
    int ok;
    (void)state;
    memset(&e, 0, sizeof e);
    e.type = EV_NOTE;
    e.u1 = msg->flags;
    check_event_set_data(&e, msg->data, msg->len);
    term_init(&t);
    ok = (msg->flags & SWERL_MESSAGE_TERM) && swerl_term_read(rt, msg->data, msg->len, &at, &t) == 0
         && t.type == SWERL_TERM_TUPLE && t.count == 3
         && swerl_term_read(rt, msg->data, msg->len, &at, &t) == 0 && t.type == SWERL_TERM_ATOM
         && t.len == 3 && memcmp(t.bytes, "get", 3) == 0;
    if (ok) ok = swerl_term_read(rt, msg->data, msg->len, &at, &t) == 0 && t.type == SWERL_TERM_BINARY;
    if (ok) {
        key = t.bytes;
        key_len = t.len;
        ok = swerl_term_read(rt, msg->data, msg->len, &at, &t) == 0 && t.type == SWERL_TERM_PID;
        from = t.pid;
    }
    if (ok) {
        swerl_term_writer *w = swerl_term_writer_new(rt);
        e.u2 = 1;
        if (w && swerl_term_writer_put_tuple(w, 3) == 0 && swerl_term_writer_put_atom(w, "value") == 0
            && swerl_term_writer_put_binary(w, key, key_len) == 0
            && swerl_term_writer_put_pid(w, swerl_self(ctx)) == 0 && swerl_term_writer_bytes(w, &data, &len) == 0)
            e.rc = swerl_send_term(rt, from, data, len);
        swerl_term_writer_free(w);
    }
    e.self = swerl_self(ctx);
    mbox_post(&g_box, &e);
    return SWERL_CONTINUE;
}

static void t_term_messages(void)
{
    static const swerl_behavior server = { sizeof(swerl_behavior), NULL, h_server, NULL };
    swerl_runtime *rt = check_start_rt(2, 1024);
    swerl_term_writer *w;
    swerl_pid a = 0, b = 0;
    swerl_spawn_opts opts;
    const void *data;
    size_t len, at;
    swerl_term t;
    check_event e;
    char text[128], want[128], pid_text[SWERL_PID_FORMAT_MAX];
    unsigned char big[1100];
    if (!CHECK(rt != NULL)) return;
    mbox_init(&g_box);
    swerl_spawn_opts_init(&opts);
    opts.name = "kv";
    CHECK_EQ_INT(swerl_spawn(rt, &server, NULL, &opts, &a), SWERL_OK);
    CHECK_EQ_INT(swerl_spawn(rt, &server, NULL, NULL, &b), SWERL_OK);

    /* {get, <<"k">>, B} to A: A answers B with {value, <<"k">>, A} */
    w = swerl_term_writer_new(rt);
    if (!CHECK(w != NULL)) return;
    swerl_term_writer_put_tuple(w, 3);
    swerl_term_writer_put_atom(w, "get");
    swerl_term_writer_put_string(w, "k");
    CHECK_EQ_INT(swerl_term_writer_put_pid(w, b), SWERL_OK);
    CHECK_EQ_INT(swerl_term_writer_bytes(w, &data, &len), SWERL_OK);
    CHECK_EQ_INT(swerl_send_term(rt, a, data, len), SWERL_OK);
    if (CHECK(mbox_take_m(&g_box, em(EV_NOTE, -1), &e, CHECK_WAIT_MS)) && CHECK_EQ_U64(e.self, a)) {
        CHECK_EQ_U64(e.u1, SWERL_MESSAGE_TERM);
        CHECK_EQ_U64(e.u2, 1);  /* read as {get, Key, Pid} */
        CHECK_EQ_INT(e.rc, SWERL_OK);
    }
    if (CHECK(mbox_take_m(&g_box, em(EV_NOTE, -1), &e, CHECK_WAIT_MS)) && CHECK_EQ_U64(e.self, b)) {
        CHECK_EQ_U64(e.u1, SWERL_MESSAGE_TERM);
        swerl_pid_format(a, pid_text, sizeof pid_text);
        snprintf(want, sizeof want, "{value,<<\"k\">>,%s}", pid_text);
        CHECK_EQ_INT(swerl_term_format(rt, e.data, e.len, text, sizeof text), (int)strlen(want));
        CHECK_STR(text, want);
        at = 3;  /* inside the tuple: skip value and <<"k">>, read the pid */
        CHECK_EQ_INT(swerl_term_skip(e.data, e.len, &at), SWERL_OK);
        CHECK_EQ_INT(swerl_term_skip(e.data, e.len, &at), SWERL_OK);
        term_init(&t);
        if (CHECK_EQ_INT(swerl_term_read(rt, e.data, e.len, &at, &t), SWERL_OK)) CHECK_EQ_U64(t.pid, a);
    }

    /* by name; plain bytes stay unmarked */
    CHECK_EQ_INT(swerl_send_named_term(rt, "kv", ERL_MAP, sizeof ERL_MAP), SWERL_OK);
    if (CHECK(mbox_take_m(&g_box, em(EV_NOTE, -1), &e, CHECK_WAIT_MS))) {
        CHECK_EQ_U64(e.u1, SWERL_MESSAGE_TERM);
        CHECK_MEM(e.data, e.len, ERL_MAP, sizeof ERL_MAP);
    }
    CHECK_EQ_INT(swerl_send(rt, a, ERL_MAP, sizeof ERL_MAP), SWERL_OK);
    if (CHECK(mbox_take_m(&g_box, em(EV_NOTE, -1), &e, CHECK_WAIT_MS))) CHECK_EQ_U64(e.u1, 0);

    /* refused: nothing is sent */
    CHECK_DETAIL(swerl_send_term(rt, a, ERL_TUPLE, sizeof ERL_TUPLE - 2), SWERL_EINVAL, "not a term at byte");
    CHECK_DETAIL(swerl_send_term(rt, a, ERL_TUPLE + 1, sizeof ERL_TUPLE - 1), SWERL_EINVAL, "version (131)");
    CHECK_DETAIL(swerl_send_term(rt, a, NULL, 0), SWERL_EINVAL, "no bytes");
    CHECK_DETAIL(swerl_send_term(rt, a, NULL, 4), SWERL_EINVAL, "etf is NULL");
    CHECK_DETAIL(swerl_send_term(NULL, a, ERL_MAP, sizeof ERL_MAP), SWERL_EINVAL, "rt is NULL");
    CHECK_DETAIL(swerl_send_named_term(rt, NULL, ERL_MAP, sizeof ERL_MAP), SWERL_EINVAL, "NULL");
    CHECK_EQ_INT(swerl_send_named_term(rt, "nobody", ERL_MAP, sizeof ERL_MAP), SWERL_ENONAME);
    CHECK_EQ_INT(swerl_send_term(rt, 0, ERL_MAP, sizeof ERL_MAP), SWERL_ENOPROC);
    memset(big, 0, sizeof big);
    big[0] = 131;
    big[1] = 109;
    big[4] = 4;  /* a binary of 1024 bytes: above max_message_size */
    CHECK_DETAIL(swerl_send_term(rt, a, big, 6 + 1024), SWERL_ETOOBIG, "max_message_size");
    CHECK_EQ_INT((int)mbox_count_m(&g_box, em(EV_NOTE, -1)), 0);

    swerl_term_writer_free(w);
    swerl_runtime_free(rt);
    mbox_destroy(&g_box);
}

int main(int argc, char **argv)
{
    check_begin(argc, argv);
    check_section("reading what Erlang wrote: headers, elements, skip", t_read_erlang, 60);
    check_section("swerl_term_format prints as ~p does", t_format, 60);
    check_section("the writer: a term of every kind, read back, pids and refs", t_writer_round_trip, 60);
    check_section("the writer: every mistake refused with words, nothing written", t_writer_mistakes, 60);
    check_section("untrusted bytes: prefixes, one-byte changes, huge claims, deep nesting", t_untrusted, 120);
    check_section("term messages: sent marked, read in a handler, answered with a term", t_term_messages, 60);
    return check_summary();
}
