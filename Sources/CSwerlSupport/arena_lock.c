/* The lock of the message-node arena (NodeArena.swift), held across fork().
 *
 * The arena is shared by every runtime of the process, so a child that starts
 * a runtime after fork() uses the parent's copy of it. Had another thread of
 * the parent held the lock at that moment, the child's copy would stay locked
 * for ever: the forking thread takes it before the fork, and both sides
 * release it after, as malloc does with its own locks. */
#include "swerl_support.h"

#include <pthread.h>

static pthread_mutex_t arena_mutex = PTHREAD_MUTEX_INITIALIZER;

void swerlrt_arena_lock(void) { pthread_mutex_lock(&arena_mutex); }
void swerlrt_arena_unlock(void) { pthread_mutex_unlock(&arena_mutex); }

__attribute__((constructor)) static void register_arena_fork_handlers(void) {
    pthread_atfork(swerlrt_arena_lock, swerlrt_arena_unlock, swerlrt_arena_unlock);
}
