/* Small C helpers the Swift runtime needs and Swift cannot express.
   Nothing here is exported from libswerl.so (no swerl_ prefix). */
#ifndef SWERLRT_SUPPORT_H
#define SWERLRT_SUPPORT_H

#include <stdint.h>

/* The callback context of the current thread (NULL outside callbacks).
   Swift has no thread-local storage; a C _Thread_local read costs ~1 ns
   where pthread_getspecific costs ~4 ns. */
extern _Thread_local void *swerlrt_current_ctx;
/* The swerl_ctx value handed to the callback running now: a token, new for
   every callback, so a ctx kept past its callback no longer matches. */
extern _Thread_local uintptr_t swerlrt_current_token;
/* This scheduler thread's message node pool (NULL on other threads). */
extern _Thread_local void *swerlrt_current_pool;
static inline void *swerlrt_get_pool(void) { return swerlrt_current_pool; }
static inline void swerlrt_set_pool(void *pool) { swerlrt_current_pool = pool; }
/* The scheduler running on this thread (NULL on other threads). */
extern _Thread_local void *swerlrt_current_scheduler;

static inline void *swerlrt_get_ctx(void) { return swerlrt_current_ctx; }
static inline void swerlrt_set_ctx(void *ctx) { swerlrt_current_ctx = ctx; }
static inline uintptr_t swerlrt_get_token(void) { return swerlrt_current_token; }
static inline void swerlrt_set_token(uintptr_t token) { swerlrt_current_token = token; }
static inline void *swerlrt_get_scheduler(void) { return swerlrt_current_scheduler; }
static inline void swerlrt_set_scheduler(void *s) { swerlrt_current_scheduler = s; }

/* Spin-wait hint (x86 PAUSE / arm YIELD). */
static inline void swerlrt_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
/* Error texts and names, generated from the header's SWERL_ERRNO_MAP: the
   one table every code, name and description comes from. */
const char *swerlrt_strerror(int code);
const char *swerlrt_err_name(int code);

#endif
}

/* Error texts and names, generated from the header's SWERL_ERRNO_MAP: the
   one table every code, name and description comes from. */
const char *swerlrt_strerror(int code);
const char *swerlrt_err_name(int code);

#endif
