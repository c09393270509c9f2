#include "swerl_support.h"

_Thread_local void *swerlrt_current_ctx = 0;
_Thread_local void *swerlrt_current_scheduler = 0;
