#include "swerl_support.h"

_Thread_local void *swerlrt_current_ctx = 0;
_Thread_local void *swerlrt_current_scheduler = 0;
_Thread_local uintptr_t swerlrt_current_token = 0;
_Thread_local void *swerlrt_current_pool = 0;

#include "../../include/swerl.h"  /* the one error table */

const char *swerlrt_strerror(int code) {
    switch (code) {
    case SWERL_OK: return "success";
#define SWERLRT_TEXT_(name, value, text) case SWERL_##name: return text;
    SWERL_ERRNO_MAP(SWERLRT_TEXT_)
#undef SWERLRT_TEXT_
    default: return "unknown error";
    }
}

const char *swerlrt_err_name(int code) {
    switch (code) {
    case SWERL_OK: return "OK";
#define SWERLRT_NAME_(name, value, text) case SWERL_##name: return #name;
    SWERL_ERRNO_MAP(SWERLRT_NAME_)
#undef SWERLRT_NAME_
    default: return "UNKNOWN";
    }
}
