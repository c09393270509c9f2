#ifndef SWERL_CLIBUV_SHIM_H
#define SWERL_CLIBUV_SHIM_H
#include <uv.h>
#endif
