/*
 * chat_room.c — publish/subscribe: a room process fans messages out to its
 * members and forgets the members that die.
 *
 *   usage: chat_room
 *
 * What it shows:
 *   - a server process with a request protocol (a small tagged struct) that
 *     main drives with swerl_call: join, post, leave, count;
 *   - swerl_monitor: the room watches each member; when a member dies, a
 *     DOWN message (with the exit reason) arrives and the room drops it.
 *     swerl_demonitor with SWERL_DEMONITOR_FLUSH undoes a monitor cleanly
 *     when a member leaves of its own accord;
 *   - a deferred reply: "tell me when this member is gone" is answered only
 *     when the room handles that member's DOWN, so main never has to guess
 *     how long a kill takes;
 *   - members reporting to main through a mutex + condition variable
 *     signalled from their handlers: main waits for the deliveries it
 *     expects, it never sleeps.
 *
 * The story: alice, bob, carol and dave join; alice posts; carol is killed;
 * bob posts; dave leaves; the room is left with alice and bob. Every line of
 * the output is the same on every run.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <swerl.h>

#define ROOM_CAPACITY 16
#define NAME_MAX_LEN 16
#define TEXT_MAX_LEN 96
#define CALL_TIMEOUT_MS 5000u
#define WAIT_TIMEOUT_S 10

/* ------------------------------------------------------------------------ */
/* The room's protocol                                                       */
/* ------------------------------------------------------------------------ */

enum {
    ROOM_JOIN = 1,    /* member, name -> members now */
    ROOM_POST,        /* member (the author), text -> members reached */
    ROOM_LEAVE,       /* member -> members now */
    ROOM_COUNT,       /* -> members now */
    ROOM_AWAIT_GONE   /* member -> its exit reason, once the room has dropped it */
};

typedef struct room_request {
    uint32_t op;                  /* ROOM_* */
    swerl_pid member;
    char name[NAME_MAX_LEN];      /* JOIN */
    char text[TEXT_MAX_LEN];      /* POST */
} room_request;

/* Every answer is one int32: a count, an exit reason, or a SWERL_E* error. */
typedef int32_t room_answer;

/* ------------------------------------------------------------------------ */
/* The room                                                                  */
/* ------------------------------------------------------------------------ */

static const char *reason_name(int32_t reason)
{
    switch (reason) {
    case SWERL_REASON_NORMAL: return "NORMAL";
    case SWERL_REASON_SHUTDOWN: return "SHUTDOWN";
    case SWERL_REASON_KILLED: return "KILLED";
    case SWERL_REASON_NOPROC: return "NOPROC";
    case SWERL_REASON_ERROR: return "ERROR";
    default: return reason >= SWERL_REASON_USER ? "a user reason" : "another reason";
    }
}

typedef struct member_entry {
    swerl_pid pid;                /* 0: free */
    swerl_ref monitor;
    char name[NAME_MAX_LEN];
    swerl_ref gone_waiter;        /* a pending AWAIT_GONE call, or 0 */
} member_entry;

typedef struct room_state {
    member_entry members[ROOM_CAPACITY];
    int32_t count;
} room_state;

static int room_init(swerl_ctx *ctx, void *arg, void **state)
{
    room_state *room = calloc(1, sizeof *room);

    (void)ctx;
    (void)arg;
    if (room == NULL)
        return -1;
    *state = room;
    return 0;
}

static member_entry *room_find(room_state *room, swerl_pid pid)
{
    size_t i;
    for (i = 0; i < ROOM_CAPACITY; i++)
        if (room->members[i].pid == pid)
            return &room->members[i];
    return NULL;
}

static void room_answer_call(swerl_runtime *rt, swerl_ref call, room_answer answer)
{
    int rc = swerl_reply(rt, call, &answer, sizeof answer);
    if (rc != 0) /* EREF: the caller timed out and went away */
        fprintf(stderr, "room: swerl_reply: %s\n", swerl_strerror(rc));
}

static void room_remove(swerl_runtime *rt, room_state *room, member_entry *m, int32_t reason)
{
    if (m->gone_waiter != 0)
        room_answer_call(rt, m->gone_waiter, reason);
    memset(m, 0, sizeof *m);
    room->count--;
}

/* Send "author: text" to every member; returns how many it reached. */
static int32_t room_broadcast(swerl_runtime *rt, room_state *room, const member_entry *author,
                              const char *text)
{
    char line[NAME_MAX_LEN + TEXT_MAX_LEN + 2];
    int32_t reached = 0;
    size_t i;
    int len = snprintf(line, sizeof line, "%s: %s", author->name, text);

    for (i = 0; i < ROOM_CAPACITY; i++) {
        const member_entry *m = &room->members[i];
        int rc;
        if (m->pid == 0)
            continue;
        rc = swerl_send(rt, m->pid, line, (size_t)len);
        if (rc == 0)
            reached++;
        else if (rc != SWERL_ENOPROC) /* ENOPROC: it just died; its DOWN follows */
            fprintf(stderr, "room: swerl_send: %s\n", swerl_strerror(rc));
    }
    return reached;
}

/* A request from main: sets *answer and returns 0, or returns 1 when the
   answer is deferred (the room keeps `call` and replies later). */
static int room_serve(swerl_ctx *ctx, room_state *room, const room_request *req,
                      swerl_ref call, room_answer *answer)
{
    swerl_runtime *rt = swerl_ctx_runtime(ctx);
    /* 0 is never a pid, but it marks the free entries: don't look it up. */
    member_entry *m = req->member != 0 ? room_find(room, req->member) : NULL;
    int rc;

    *answer = SWERL_EINVAL;

    switch (req->op) {
    case ROOM_JOIN:
        if (req->member == 0 || m != NULL)
            return 0; /* EINVAL */
        m = room_find(room, 0);
        if (m == NULL) {
            *answer = SWERL_EFULL;
            return 0;
        }
        /* Watch it first: if it is already dead, the DOWN (reason NOPROC)
           comes at once and removes it again, so the room never keeps a
           member that cannot be reached. */
        rc = swerl_monitor(ctx, req->member, &m->monitor);
        if (rc != 0) {
            *answer = rc;
            return 0;
        }
        m->pid = req->member;
        memcpy(m->name, req->name, sizeof m->name);
        m->name[sizeof m->name - 1] = '\0';
        *answer = ++room->count;
        return 0;

    case ROOM_POST:
        if (m == NULL)
            *answer = SWERL_ENOPROC; /* only members may post */
        else
            *answer = room_broadcast(rt, room, m, req->text);
        return 0;

    case ROOM_LEAVE:
        if (m == NULL) {
            *answer = SWERL_ENOPROC;
            return 0;
        }
        /* FLUSH: also drop a DOWN for it that might already be waiting. */
        rc = swerl_demonitor(ctx, m->monitor, SWERL_DEMONITOR_FLUSH);
        if (rc < 0) {
            *answer = rc;
            return 0;
        }
        room_remove(rt, room, m, SWERL_REASON_NORMAL);
        *answer = room->count;
        return 0;

    case ROOM_COUNT:
        *answer = room->count;
        return 0;

    case ROOM_AWAIT_GONE:
        if (m == NULL) {
            *answer = SWERL_REASON_NOPROC; /* not (or no longer) a member */
            return 0;
        }
        if (m->gone_waiter != 0)
            return 0;             /* EINVAL: one waiter per member here */
        m->gone_waiter = call;    /* answered in room_remove */
        return 1;

    default:
        return 0;                 /* EINVAL */
    }
}

static int room_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    room_state *room = state;
    swerl_runtime *rt = swerl_ctx_runtime(ctx);

    if (msg->kind == SWERL_CALL) {
        room_request req;
        room_answer answer;
        if (msg->len != sizeof req) {
            room_answer_call(rt, msg->ref, SWERL_EINVAL);
            return SWERL_CONTINUE;
        }
        memcpy(&req, msg->data, sizeof req); /* message bytes may be unaligned */
        req.text[sizeof req.text - 1] = '\0';
        if (room_serve(ctx, room, &req, msg->ref, &answer) == 0)
            room_answer_call(rt, msg->ref, answer);
    } else if (msg->kind == SWERL_DOWN) {
        /* A monitored member died: msg->from is its pid, msg->reason why. */
        member_entry *m = room_find(room, msg->from);
        if (m != NULL && m->monitor == msg->ref) {
            printf("room: %s is gone (exit reason %s), dropped\n", m->name,
                   reason_name(msg->reason));
            room_remove(rt, room, m, msg->reason);
        }
    }
    return SWERL_CONTINUE;
}

static void room_terminate(swerl_ctx *ctx, int32_t reason, void *state)
{
    (void)ctx;
    (void)reason;
    free(state);
}

static const swerl_behavior room_behavior = {
    sizeof(swerl_behavior), room_init, room_handle, room_terminate
};

/* ------------------------------------------------------------------------ */
/* The members, and the board where they tell main what they received       */
/* ------------------------------------------------------------------------ */

#define MEMBERS 4

typedef struct board {
    pthread_mutex_t mu;
    pthread_cond_t delivered;     /* signalled at every delivery */
    unsigned deliveries;
    unsigned received[MEMBERS];
    char last_line[MEMBERS][NAME_MAX_LEN + TEXT_MAX_LEN + 2];
} board;

typedef struct member {
    const char *name;
    unsigned index;
    board *board;
    swerl_pid pid;
} member;

static int member_handle(swerl_ctx *ctx, const swerl_message *msg, void *state)
{
    member *me = state;
    board *b = me->board;
    size_t n;

    (void)ctx;
    if (msg->kind != SWERL_MESSAGE)
        return SWERL_CONTINUE;
    n = msg->len < sizeof b->last_line[0] - 1 ? msg->len : sizeof b->last_line[0] - 1;
    pthread_mutex_lock(&b->mu);
    memcpy(b->last_line[me->index], msg->data, n);
    b->last_line[me->index][n] = '\0';
    b->received[me->index]++;
    b->deliveries++;
    pthread_cond_broadcast(&b->delivered);
    pthread_mutex_unlock(&b->mu);
    return SWERL_CONTINUE;
}

/* A member's state is its `member` record, which main owns. */
static const swerl_behavior member_behavior = {
    sizeof(swerl_behavior), NULL, member_handle, NULL
};

/* Wait until `total` deliveries have happened since the start (at most
   WAIT_TIMEOUT_S seconds, so that a bug cannot hang the program). */
static int board_wait(board *b, unsigned total)
{
    struct timespec deadline;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &deadline); /* the condvar's default clock */
    deadline.tv_sec += WAIT_TIMEOUT_S;
    pthread_mutex_lock(&b->mu);
    while (b->deliveries < total && rc == 0)
        rc = pthread_cond_timedwait(&b->delivered, &b->mu, &deadline);
    rc = b->deliveries >= total ? 0 : -1;
    pthread_mutex_unlock(&b->mu);
    if (rc != 0)
        fprintf(stderr, "timed out waiting for %u deliveries\n", total);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

static void report(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, swerl_strerror(rc), swerl_err_name(rc));
}

/* One request to the room: 0 and *answer, or a SWERL_E* error (printed). */
static int room_call(swerl_runtime *rt, swerl_pid room, uint32_t op, const member *who,
                     const char *text, room_answer *answer)
{
    room_request req;
    swerl_buffer reply = { NULL, 0 };
    int rc;

    memset(&req, 0, sizeof req);
    req.op = op;
    if (who != NULL) {
        req.member = who->pid;
        snprintf(req.name, sizeof req.name, "%s", who->name);
    }
    if (text != NULL)
        snprintf(req.text, sizeof req.text, "%s", text);
    rc = swerl_call(rt, room, &req, sizeof req, CALL_TIMEOUT_MS, &reply);
    if (rc == 0 && reply.len != sizeof *answer)
        rc = SWERL_EINVAL;
    if (rc == 0)
        memcpy(answer, reply.data, sizeof *answer);
    else
        report("swerl_call(room)", rc);
    swerl_buffer_free(&reply);
    if (rc == 0 && *answer < 0 && op != ROOM_AWAIT_GONE) {
        report("room refused", *answer);
        rc = *answer;
    }
    return rc;
}

int main(void)
{
    static const char *const names[MEMBERS] = { "alice", "bob", "carol", "dave" };
    board b;
    member members[MEMBERS];
    member *alice = &members[0], *bob = &members[1], *carol = &members[2], *dave = &members[3];
    swerl_runtime *rt = NULL;
    swerl_pid room = 0;
    room_answer answer = 0;
    unsigned i, expected = 0;
    int rc, status = 1;

    setvbuf(stdout, NULL, _IOLBF, 0); /* the room prints too */
    memset(&b, 0, sizeof b);
    if (pthread_mutex_init(&b.mu, NULL) != 0 || pthread_cond_init(&b.delivered, NULL) != 0) {
        fprintf(stderr, "cannot initialise the board\n");
        return 1;
    }

    rc = swerl_runtime_start(NULL, &rt);
    if (rc != 0) {
        report("swerl_runtime_start", rc);
        goto out_board;
    }
    rc = swerl_spawn(rt, &room_behavior, NULL, NULL, &room);
    if (rc != 0) {
        report("swerl_spawn(room)", rc);
        goto out;
    }

    for (i = 0; i < MEMBERS; i++) {
        members[i].name = names[i];
        members[i].index = i;
        members[i].board = &b;
        rc = swerl_spawn(rt, &member_behavior, &members[i], NULL, &members[i].pid);
        if (rc != 0) {
            report("swerl_spawn(member)", rc);
            goto out;
        }
        if (room_call(rt, room, ROOM_JOIN, &members[i], NULL, &answer) != 0)
            goto out;
        printf("%s joined: %d member(s)\n", names[i], (int)answer);
    }

    if (room_call(rt, room, ROOM_POST, alice, "hello, everyone", &answer) != 0)
        goto out;
    printf("alice posted: reached %d member(s)\n", (int)answer);
    expected += (unsigned)answer;
    if (board_wait(&b, expected) != 0)
        goto out;

    /* Kill carol (untrappable), then ask the room to tell us when it has
       noticed: the answer comes from its DOWN handler. */
    rc = swerl_exit(rt, carol->pid, SWERL_REASON_KILL, NULL, 0);
    if (rc != 0) {
        report("swerl_exit(carol)", rc);
        goto out;
    }
    if (room_call(rt, room, ROOM_AWAIT_GONE, carol, NULL, &answer) != 0)
        goto out;
    printf("carol was killed: the room saw exit reason %s\n", reason_name(answer));

    if (room_call(rt, room, ROOM_POST, bob, "where did carol go?", &answer) != 0)
        goto out;
    printf("bob posted: reached %d member(s)\n", (int)answer);
    expected += (unsigned)answer;
    if (board_wait(&b, expected) != 0)
        goto out;

    if (room_call(rt, room, ROOM_LEAVE, dave, NULL, &answer) != 0)
        goto out;
    printf("dave left: %d member(s)\n", (int)answer);

    if (room_call(rt, room, ROOM_COUNT, NULL, NULL, &answer) != 0)
        goto out;
    printf("members now: %d\n", (int)answer);

    /* Every delivery is in (board_wait), so reading the board is stable. */
    pthread_mutex_lock(&b.mu);
    for (i = 0; i < MEMBERS; i++)
        printf("  %s received %u line(s), the last: \"%s\"\n", names[i], b.received[i],
               b.last_line[i]);
    pthread_mutex_unlock(&b.mu);

    status = answer == 2 ? 0 : 1;

out:
    /* Stop first: no member may touch the board after it is destroyed. */
    rc = swerl_runtime_stop(rt, 5000);
    if (rc != 0) {
        report("swerl_runtime_stop", rc);
        status = 1;
    }
    swerl_runtime_free(rt);
out_board:
    pthread_cond_destroy(&b.delivered);
    pthread_mutex_destroy(&b.mu);
    return status;
}
