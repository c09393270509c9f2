"""The one place that knows the C ABI of libswerl.so.1 (include/swerl.h).

* finds and loads the library: ``$SWERL_LIBRARY``, then a ``libswerl.so.1``
  bundled next to this package, then ``libswerl.so.1`` from the system;
* checks that its ABI major is 1 (clear :class:`LibraryError` otherwise);
* declares ``argtypes``/``restype`` of every function of swerl.h in one table
  (``SIGNATURES``) and fails loudly if the library lacks one;
* defines ctypes structures laid out exactly as the header's (natural
  alignment on LP64; ``size`` fields set to ``ctypes.sizeof``).

``swerl_ctx *``, ``swerl_runtime *`` and ``void *`` travel as ``c_void_p``
(Python ints). The library is a :class:`ctypes.CDLL`: the GIL is released
during every call, so blocking calls (``swerl_call``, ``swerl_runtime_stop``)
let the scheduler threads run Python callbacks.
"""

import ctypes
import os
import struct
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_double,
    c_int64,
    c_int,
    c_int32,
    c_size_t,
    c_uint,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import Any, Dict, List, Optional, Tuple

ABI_MAJOR = 1
MIN_MINOR = 4  # the shared binaries (swerl_binary_*) and the other 1.4 functions
LIBRARY_NAME = "libswerl.so.1"

# ---------------------------------------------------------------------------
# Constants of swerl.h
# ---------------------------------------------------------------------------

SWERL_INFINITY = 0xFFFFFFFF
SWERL_NAME_MAX = 255

SWERL_CONTINUE, SWERL_SKIP, SWERL_STOP = 0, 1, 2
SWERL_IGNORE = 3

SWERL_SPAWN_LINK = 1 << 0
SWERL_SPAWN_MONITOR = 1 << 1
SWERL_SPAWN_TRAP_EXIT = 1 << 2
SWERL_SPAWN_BLOCKING = 1 << 3  # since 1.2

SWERL_PID_FORMAT_MAX = 48

SWERL_OVERFLOW_REJECT, SWERL_OVERFLOW_DROP_OLDEST, SWERL_OVERFLOW_KILL = 0, 1, 2

SWERL_DEMONITOR_FLUSH = 1
SWERL_DEMONITOR_INFO = 2

SWERL_TREE_JSON, SWERL_TREE_DOT = 0, 1

SWERL_OBSERVE_ACTIONS = 1 << 0  # since 1.3
SWERL_OBSERVER_URL_MAX = 512  # since 1.3

# ---------------------------------------------------------------------------
# Types of swerl.h
# ---------------------------------------------------------------------------

swerl_pid = c_uint64
swerl_ref = c_uint64


class SwerlMessage(Structure):
    _fields_ = [
        ("kind", c_uint32),
        ("reason", c_int32),
        ("from_", swerl_pid),  # `from` in C
        ("ref", swerl_ref),
        ("data", c_void_p),
        ("len", c_size_t),
        ("flags", c_uint32),  # since 1.2: SWERL_MESSAGE_TERM
    ]


SWERL_MESSAGE_TERM = 0x1
SWERL_MESSAGE_WITHDRAWN = 0x2  # since 1.2: in a turn group's batch, skip it
SWERL_MESSAGE_SHARED = 0x4  # since 1.4: `data` is a shared binary's bytes

SWERL_MESSAGE_OVERHEAD = 64  # what a message costs against the memory ceiling besides its bytes
SWERL_BINARY_OVERHEAD = 32  # since 1.4: what a binary costs besides its length


class SwerlTerm(Structure):  # since 1.2: swerl_term_read fills it
    _fields_ = [
        ("size", c_uint32),
        ("type", c_uint32),
        ("count", c_uint64),
        ("integer", c_int64),
        ("real", c_double),
        ("bytes", c_void_p),
        ("len", c_size_t),
        ("name", c_void_p),
        ("name_len", c_size_t),
        ("pid", swerl_pid),
        ("ref", swerl_ref),
        ("bits", c_uint32),
        ("negative", c_uint32),
        ("latin1", c_uint32),
    ]


SWERL_TERM_PID = 12
SWERL_TERM_REF = 13


INIT_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(c_void_p))
# `msg` arrives as an address, read with MESSAGE_LAYOUT from MEMORY (below):
# building a ctypes pointer and structure per message costs more than the rest
# of the callback.
HANDLE_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p)
TERMINATE_FN = CFUNCTYPE(None, c_void_p, c_int32, c_void_p)
THREAD_FN = CFUNCTYPE(None, c_void_p)
LOG_FN = CFUNCTYPE(None, c_void_p, c_int, c_void_p, c_size_t)
ARG_FREE_FN = CFUNCTYPE(None, c_void_p)
# since 1.2: swerl_call_fn and swerl_exit_fn (`data`/`detail` borrowed)
CALL_DONE_FN = CFUNCTYPE(None, c_void_p, c_int, c_void_p, c_size_t)
EXIT_DONE_FN = CFUNCTYPE(None, c_void_p, c_int32, c_void_p, c_size_t)


class SwerlBehavior(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("init", INIT_FN),
        ("handle", HANDLE_FN),
        ("terminate", TERMINATE_FN),
    ]


class SwerlConfig(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("schedulers", c_uint32),
        ("max_processes", c_uint32),
        ("max_message_size", c_uint64),
        ("on_thread_start", THREAD_FN),
        ("on_thread_stop", THREAD_FN),
        ("thread_user", c_void_p),
        ("on_log", LOG_FN),
        ("log_user", c_void_p),
    ]


class SwerlSpawnOpts(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("flags", c_uint32),
        ("name", c_char_p),
        ("mailbox_limit", c_uint32),
        ("overflow", c_uint32),
        ("monitor_ref", POINTER(swerl_ref)),
    ]


class SwerlStats(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("schedulers", c_uint32),
        ("processes", c_uint64),
        ("spawned", c_uint64),
        ("exited", c_uint64),
        ("messages_sent", c_uint64),
        ("dead_letters", c_uint64),
        ("messages_dropped", c_uint64),
        ("restarts", c_uint64),
        ("escalations", c_uint64),
        ("messages_rejected", c_uint64),  # since 1.1
        ("memory_used", c_uint64),
    ]


class SwerlSchedulerUsage(Structure):  # since 1.3
    _fields_ = [
        ("size", c_uint32),
        ("index", c_uint32),
        ("busy_ns", c_uint64),
        ("wall_ns", c_uint64),
        ("run_queue", c_uint64),
    ]


class SwerlObserverOpts(Structure):  # since 1.3 (never grows)
    _fields_ = [
        ("size", c_uint32),
        ("flags", c_uint32),
        ("address", c_char_p),
        ("token", c_char_p),
        ("max_connections", c_uint32),
        ("reserved", c_uint32),
    ]


class SwerlNodeOpts(Structure):  # since 1.2
    _fields_ = [
        ("size", c_uint32),
        ("flags", c_uint32),
        ("cookie", c_char_p),
        ("listen_host", c_char_p),
        ("listen_port", c_uint32),
        ("epmd_port", c_uint32),
        ("tick_ms", c_uint32),
        ("connect_timeout_ms", c_uint32),
        ("max_frame", c_uint64),
    ]


SWERL_NODE_START_EPMD = 0x1


class SwerlBuffer(Structure):
    _fields_ = [("data", c_void_p), ("len", c_size_t)]


class SwerlSupervisorSpec(Structure):
    pass  # fields below: SwerlChildSpec refers to it


class SwerlChildSpec(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("id", c_char_p),
        ("behavior", POINTER(SwerlBehavior)),
        ("arg", c_void_p),
        ("arg_free", ARG_FREE_FN),
        ("restart", c_uint32),
        ("shutdown_ms", c_uint32),
        ("type", c_uint32),
        ("significant", c_uint32),
        ("supervisor", POINTER(SwerlSupervisorSpec)),
    ]


SwerlSupervisorSpec._fields_ = [
    ("size", c_uint32),
    ("strategy", c_uint32),
    ("intensity", c_uint32),
    ("period_ms", c_uint32),
    ("auto_shutdown", c_uint32),
    ("children", POINTER(SwerlChildSpec)),
    ("n_children", c_size_t),
]


class SwerlChildCounts(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("specs", c_uint32),
        ("active", c_uint32),
        ("supervisors", c_uint32),
        ("workers", c_uint32),
    ]


class SwerlChildInfo(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("state", c_uint32),
        ("type", c_uint32),
        ("restart", c_uint32),
        ("pid", swerl_pid),
        ("restarts", c_uint64),
        ("id", c_char * (SWERL_NAME_MAX + 1)),
    ]


class SwerlProcessInfo(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("status", c_uint32),
        ("message_queue_len", c_uint64),
        ("messages_handled", c_uint64),
        ("memory", c_uint64),
        ("links", c_uint32),
        ("monitors", c_uint32),
        ("monitored_by", c_uint32),
        ("trap_exit", c_uint32),
        ("name", c_char * (SWERL_NAME_MAX + 1)),
    ]


SWERL_ADDRESS_MAX = 128


class SwerlSocketOpts(Structure):  # since 1.2
    _fields_ = [
        ("size", c_uint32),
        ("packet", c_uint32),
        ("active", c_int32),
        ("flags", c_uint32),
        ("max_frame", c_uint32),
        ("backlog", c_uint32),
        ("max_connections", c_uint32),
        ("recv_buffer", c_uint32),
        ("send_buffer", c_uint32),
        ("reserved", c_uint32),
        ("send_queue_max", c_uint64),
    ]


class SwerlSocketInfo(Structure):  # since 1.2
    _fields_ = [
        ("size", c_uint32),
        ("type", c_uint32),
        ("owner", swerl_pid),
        ("listener", c_uint64),
        ("packet", c_uint32),
        ("active", c_int32),
        ("connecting", c_uint32),
        ("connections", c_uint32),
        ("bytes_received", c_uint64),
        ("bytes_sent", c_uint64),
        ("send_queued", c_uint64),
        ("accept_errors", c_uint64),
        ("connections_shed", c_uint64),
        ("local", c_char * SWERL_ADDRESS_MAX),
        ("peer", c_char * SWERL_ADDRESS_MAX),
    ]


# ---------------------------------------------------------------------------
# Every function of swerl.h: name -> (restype, argtypes)
# ---------------------------------------------------------------------------

_rt = c_void_p  # swerl_runtime *
_ctx = c_void_p  # swerl_ctx *

SIGNATURES: Dict[str, Tuple[Any, List[Any]]] = {
    # version, errors
    "swerl_version": (c_uint, []),
    "swerl_version_string": (c_char_p, []),
    "swerl_strerror": (c_char_p, [c_int]),
    "swerl_err_name": (c_char_p, [c_int]),
    "swerl_last_error_detail": (c_char_p, []),  # since 1.2
    "swerl_pid_format": (c_int, [swerl_pid, c_void_p, c_size_t]),  # since 1.2
    # runtime
    "swerl_config_init": (None, [POINTER(SwerlConfig)]),
    "swerl_runtime_start": (c_int, [POINTER(SwerlConfig), POINTER(c_void_p)]),
    "swerl_runtime_stop": (c_int, [_rt, c_uint32]),
    "swerl_runtime_free": (None, [_rt]),
    "swerl_runtime_stats": (c_int, [_rt, POINTER(SwerlStats)]),
    "swerl_runtime_set_max_memory": (c_int, [_rt, c_uint64]),  # since 1.1
    "swerl_runtime_set_long_turn": (c_int, [_rt, c_uint32]),  # since 1.2
    "swerl_runtime_set_blocking_threads": (c_int, [_rt, c_uint32]),  # since 1.2
    "swerl_runtime_scheduler_usage": (c_int, [_rt, POINTER(SwerlSchedulerUsage), c_size_t,
                                              POINTER(c_size_t)]),  # since 1.3
    # the observer page, since 1.3
    "swerl_observer_opts_init": (None, [POINTER(SwerlObserverOpts)]),
    "swerl_observer_start": (c_int, [_rt, POINTER(SwerlObserverOpts), c_char_p, c_size_t]),
    "swerl_observer_stop": (c_int, [_rt]),
    # processes
    "swerl_spawn_opts_init": (None, [POINTER(SwerlSpawnOpts)]),
    "swerl_spawn": (c_int, [_rt, POINTER(SwerlBehavior), c_void_p, POINTER(SwerlSpawnOpts),
                            POINTER(swerl_pid)]),
    "swerl_self": (swerl_pid, [_ctx]),
    "swerl_ctx_runtime": (c_void_p, [_ctx]),
    "swerl_fail": (c_int, [_ctx, c_int32, c_void_p, c_size_t]),
    # messages
    "swerl_send": (c_int, [_rt, swerl_pid, c_void_p, c_size_t]),
    "swerl_send_named": (c_int, [_rt, c_char_p, c_void_p, c_size_t]),
    "swerl_receive_timeout": (c_int, [_ctx, c_uint32]),
    # shared binaries, since 1.4: swerl_binary * travels as c_void_p
    "swerl_binary_new": (c_int, [c_size_t, POINTER(c_void_p), POINTER(c_void_p)]),
    "swerl_binary_copy": (c_int, [c_void_p, c_size_t, POINTER(c_void_p)]),
    "swerl_binary_data": (c_void_p, [c_void_p]),
    "swerl_binary_size": (c_size_t, [c_void_p]),
    "swerl_binary_retain": (c_void_p, [c_void_p]),
    "swerl_binary_release": (None, [c_void_p]),
    "swerl_send_binary": (c_int, [_rt, swerl_pid, c_void_p]),
    "swerl_reply_binary": (c_int, [_rt, swerl_ref, c_void_p]),
    "swerl_send_named_binary": (c_int, [_rt, c_char_p, c_void_p]),
    "swerl_binary_keep": (c_int, [c_void_p, POINTER(c_void_p)]),
    # links and exits
    "swerl_link": (c_int, [_ctx, swerl_pid]),
    "swerl_unlink": (c_int, [_ctx, swerl_pid]),
    "swerl_trap_exit": (c_int, [_ctx, c_int]),
    "swerl_set_blocking": (c_int, [_ctx, c_int]),  # since 1.2
    # turn groups (since 1.2): swerl_group *, swerl_turn * are addresses
    "swerl_group_create": (c_int, [_rt, c_char_p, POINTER(c_void_p)]),
    "swerl_group_spawn": (c_int, [c_void_p, POINTER(SwerlBehavior), c_void_p, POINTER(SwerlSpawnOpts),
                                  POINTER(swerl_pid)]),
    "swerl_set_group": (c_int, [_ctx, c_void_p]),
    "swerl_group_run": (c_int, [c_void_p, c_uint32, c_uint32]),
    "swerl_group_take": (c_int, [c_void_p, c_uint32, c_uint32, POINTER(c_void_p)]),
    "swerl_group_finish": (c_int, [c_void_p, c_uint32]),
    "swerl_group_next": (c_int, [c_void_p, c_void_p, c_uint32, c_uint32, c_uint32, POINTER(c_void_p)]),
    "swerl_group_fd": (c_int, [c_void_p]),
    "swerl_group_wake": (c_int, [c_void_p]),
    "swerl_group_set_batch_min": (c_int, [c_void_p, c_uint32]),
    "swerl_turn_suspend": (c_int, [c_void_p]),
    "swerl_turn_resume": (c_int, [c_void_p]),
    "swerl_exit": (c_int, [_rt, swerl_pid, c_int32, c_void_p, c_size_t]),
    # monitors
    "swerl_monitor": (c_int, [_ctx, swerl_pid, POINTER(swerl_ref)]),
    "swerl_demonitor": (c_int, [_ctx, swerl_ref, c_uint32]),
    # names
    "swerl_register": (c_int, [_rt, c_char_p, swerl_pid]),
    "swerl_unregister": (c_int, [_rt, c_char_p]),
    "swerl_whereis": (c_int, [_rt, c_char_p, POINTER(swerl_pid)]),
    "swerl_registered": (c_int, [_rt, POINTER(SwerlBuffer), POINTER(c_size_t)]),
    # timers
    "swerl_send_after": (c_int, [_rt, swerl_pid, c_uint32, c_void_p, c_size_t,
                                 POINTER(swerl_ref)]),
    "swerl_cancel_timer": (c_int, [_rt, swerl_ref, POINTER(c_uint32)]),
    "swerl_send_after_named": (c_int, [_rt, c_char_p, c_uint32, c_void_p, c_size_t,
                                       POINTER(swerl_ref)]),  # since 1.2
    # request / reply
    "swerl_call": (c_int, [_rt, swerl_pid, c_void_p, c_size_t, c_uint32, POINTER(SwerlBuffer)]),
    "swerl_call_async": (c_int, [_ctx, swerl_pid, c_void_p, c_size_t, c_uint32,
                                 POINTER(swerl_ref)]),
    "swerl_reply": (c_int, [_rt, swerl_ref, c_void_p, c_size_t]),
    "swerl_call_notify": (c_int, [_rt, swerl_pid, c_void_p, c_size_t, c_uint32, CALL_DONE_FN,
                                  c_void_p, POINTER(swerl_ref)]),  # since 1.2
    "swerl_watch_exit": (c_int, [_rt, swerl_pid, EXIT_DONE_FN, c_void_p,
                                 POINTER(swerl_ref)]),  # since 1.2
    "swerl_cancel_notify": (c_int, [_rt, swerl_ref]),  # since 1.2
    "swerl_wait_exit": (c_int, [_rt, swerl_pid, c_uint32, POINTER(c_int32)]),  # since 1.2
    "swerl_buffer_free": (None, [POINTER(SwerlBuffer)]),
    # supervisors
    "swerl_supervisor_spec_init": (None, [POINTER(SwerlSupervisorSpec)]),
    "swerl_child_spec_init": (None, [POINTER(SwerlChildSpec)]),
    "swerl_supervisor_start": (c_int, [_rt, POINTER(SwerlSupervisorSpec), POINTER(SwerlSpawnOpts),
                                       POINTER(swerl_pid)]),
    "swerl_supervisor_start_child": (c_int, [_rt, swerl_pid, POINTER(SwerlChildSpec),
                                             POINTER(swerl_pid)]),
    "swerl_supervisor_spawn_child": (c_int, [_rt, swerl_pid, c_void_p, POINTER(swerl_pid)]),
    "swerl_supervisor_terminate_child": (c_int, [_rt, swerl_pid, c_char_p]),
    "swerl_supervisor_terminate_pid": (c_int, [_rt, swerl_pid, swerl_pid]),
    "swerl_supervisor_restart_child": (c_int, [_rt, swerl_pid, c_char_p, POINTER(swerl_pid)]),
    "swerl_supervisor_delete_child": (c_int, [_rt, swerl_pid, c_char_p]),
    "swerl_supervisor_count_children": (c_int, [_rt, swerl_pid, POINTER(SwerlChildCounts)]),
    "swerl_supervisor_which_children": (c_int, [_rt, swerl_pid, POINTER(SwerlChildInfo), c_size_t,
                                                POINTER(c_size_t)]),
    "swerl_supervisor_tree": (c_int, [_rt, swerl_pid, c_uint32, POINTER(SwerlBuffer)]),
    # introspection
    "swerl_process_get_info": (c_int, [_rt, swerl_pid, POINTER(SwerlProcessInfo)]),
    "swerl_processes": (c_int, [_rt, POINTER(swerl_pid), c_size_t, POINTER(c_size_t)]),
    # sockets, since 1.2
    "swerl_socket_opts_init": (None, [POINTER(SwerlSocketOpts)]),
    "swerl_socket_listen": (c_int, [_rt, swerl_pid, c_char_p, POINTER(SwerlSocketOpts),
                                    POINTER(c_uint64)]),
    "swerl_socket_connect": (c_int, [_ctx, c_char_p, c_uint32, POINTER(SwerlSocketOpts),
                                     POINTER(c_uint64)]),
    "swerl_socket_send": (c_int, [_ctx, c_uint64, c_void_p, c_size_t]),
    "swerl_socket_activate": (c_int, [_ctx, c_uint64, c_int32]),
    "swerl_socket_close": (c_int, [_ctx, c_uint64]),
    "swerl_socket_shutdown": (c_int, [_ctx, c_uint64]),
    "swerl_socket_set_owner": (c_int, [_ctx, c_uint64, swerl_pid]),
    "swerl_socket_setopt": (c_int, [_ctx, c_uint64, c_int, c_int64]),
    "swerl_socket_info_get": (c_int, [_rt, c_uint64, POINTER(SwerlSocketInfo)]),
    # distribution, since 1.2
    "swerl_node_opts_init": (None, [POINTER(SwerlNodeOpts)]),
    "swerl_node_start": (c_int, [_rt, c_char_p, POINTER(SwerlNodeOpts)]),
    "swerl_node_name": (c_int, [_rt, c_char_p, c_size_t]),
    "swerl_node_connect": (c_int, [_rt, c_char_p, c_uint32]),
    "swerl_node_list": (c_int, [_rt, POINTER(SwerlBuffer)]),
    "swerl_pid_node": (c_int, [_rt, swerl_pid, c_char_p, c_size_t]),
    "swerl_send_remote": (c_int, [_rt, c_char_p, c_char_p, c_void_p, c_size_t]),
    "swerl_send_remote_term": (c_int, [_rt, c_char_p, c_char_p, c_void_p, c_size_t]),
    "swerl_reply_term": (c_int, [_rt, swerl_ref, c_void_p, c_size_t]),
    "swerl_monitor_nodes": (c_int, [_ctx, c_int]),
    "swerl_monitor_name": (c_int, [_ctx, c_char_p, c_char_p, POINTER(swerl_ref)]),
    # terms, since 1.2
    "swerl_send_term": (c_int, [_rt, swerl_pid, c_void_p, c_size_t]),
    "swerl_send_named_term": (c_int, [_rt, c_char_p, c_void_p, c_size_t]),
    "swerl_term_read": (c_int, [_rt, c_void_p, c_size_t, POINTER(c_size_t), POINTER(SwerlTerm)]),
    "swerl_term_skip": (c_int, [c_void_p, c_size_t, POINTER(c_size_t)]),
    "swerl_term_format": (c_int, [_rt, c_void_p, c_size_t, c_void_p, c_size_t]),
    "swerl_term_writer_new": (c_void_p, [_rt]),
    "swerl_term_writer_free": (None, [c_void_p]),
    "swerl_term_writer_reset": (None, [c_void_p]),
    "swerl_term_writer_put_atom": (c_int, [c_void_p, c_char_p]),
    "swerl_term_writer_put_bool": (c_int, [c_void_p, c_int]),
    "swerl_term_writer_put_int": (c_int, [c_void_p, c_int64]),
    "swerl_term_writer_put_uint": (c_int, [c_void_p, c_uint64]),
    "swerl_term_writer_put_bigint": (c_int, [c_void_p, c_int, c_void_p, c_size_t]),
    "swerl_term_writer_put_float": (c_int, [c_void_p, c_double]),
    "swerl_term_writer_put_binary": (c_int, [c_void_p, c_void_p, c_size_t]),
    "swerl_term_writer_put_string": (c_int, [c_void_p, c_char_p]),
    "swerl_term_writer_put_tuple": (c_int, [c_void_p, c_uint32]),
    "swerl_term_writer_put_list": (c_int, [c_void_p, c_uint32]),
    "swerl_term_writer_put_improper_list": (c_int, [c_void_p, c_uint32]),
    "swerl_term_writer_put_map": (c_int, [c_void_p, c_uint32]),
    "swerl_term_writer_put_pid": (c_int, [c_void_p, swerl_pid]),
    "swerl_term_writer_put_ref": (c_int, [c_void_p, swerl_ref]),
    "swerl_term_writer_bytes": (c_int, [c_void_p, POINTER(c_void_p), POINTER(c_size_t)]),
}


class LibraryError(ImportError):
    """libswerl.so.1 could not be found, loaded, or has the wrong ABI."""


def _candidates() -> List[Tuple[str, str]]:
    out = []
    env = os.environ.get("SWERL_LIBRARY")
    if env:
        out.append(("SWERL_LIBRARY", env))
    bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME)
    if os.path.exists(bundled):
        out.append(("bundled", bundled))
    out.append(("system", LIBRARY_NAME))
    return out


def check_version(version: int, where: str = LIBRARY_NAME) -> None:
    """Raise LibraryError unless `version` (0xMMmmpp) has ABI major 1 and is
    at least 1.MIN_MINOR (the functions this package declares)."""
    major, minor = version >> 16, (version >> 8) & 0xFF
    if major != ABI_MAJOR:
        raise LibraryError(
            "%s is version %d.%d.%d (swerl_version() = %#08x), but this swerl package "
            "needs ABI major %d: install a libswerl.so.%d or a matching swerl package"
            % (where, major, minor, version & 0xFF, version, ABI_MAJOR, ABI_MAJOR)
        )
    if minor < MIN_MINOR:
        raise LibraryError(
            "%s is version %d.%d.%d, but this swerl package needs %d.%d or newer: "
            "install a newer libswerl.so.1, or the swerl package of that version"
            % (where, major, minor, version & 0xFF, ABI_MAJOR, MIN_MINOR))


def declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Set argtypes/restype of every function; LibraryError if one is missing."""
    missing = []
    for name, (restype, argtypes) in SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        raise LibraryError("%s does not export: %s" % (lib._name, ", ".join(missing)))
    return lib


def load(path: Optional[str] = None) -> ctypes.CDLL:
    """Load, version-check and declare libswerl. `path` overrides the lookup."""
    tried = []
    candidates = [("path", path)] if path else _candidates()
    for origin, candidate in candidates:
        if origin == "SWERL_LIBRARY" and not os.path.exists(candidate):
            raise LibraryError(
                "SWERL_LIBRARY=%s does not exist (build it with `make`, or unset "
                "SWERL_LIBRARY to use the bundled or system libswerl.so.1)" % candidate
            )
        try:
            lib = ctypes.CDLL(candidate)
        except OSError as e:
            if origin in ("SWERL_LIBRARY", "path"):
                raise LibraryError("cannot load %s=%s: %s" % (origin, candidate, e)) from None
            tried.append("%s (%s): %s" % (candidate, origin, e))
            continue
        try:
            version_fn = lib.swerl_version
        except AttributeError:
            raise LibraryError("%s is not libswerl: no swerl_version()" % candidate) from None
        version_fn.restype = c_uint
        version_fn.argtypes = []
        check_version(version_fn(), candidate)
        return declare(lib)
    raise LibraryError(
        "cannot find libswerl.so.1. Set SWERL_LIBRARY=/path/to/libswerl.so.1, install "
        "the library (make install), or install a swerl wheel that bundles it. Tried: "
        + "; ".join(tried)
    )


lib = load()

# Functions that never block and never run a Python callback before they
# return, called through a PyDLL handle to the same library: the GIL stays
# held for the call (a CDLL call drops and retakes it, which costs more than
# these functions do). Blocking ones (swerl_call, swerl_wait_exit,
# swerl_runtime_stop/free, the supervisor calls), swerl_spawn (whose init may
# run nested) and the notification functions (which may wait for a lock a
# thread running a `done` callback holds, and that thread for the GIL) are
# only in `lib`. swerl_reply may run a swerl_call_notify `done` on this
# thread: the GIL is then already held by this thread, which ctypes accepts.
NONBLOCKING = (
    "swerl_self", "swerl_fail", "swerl_send", "swerl_send_named", "swerl_receive_timeout",
    "swerl_link", "swerl_unlink", "swerl_trap_exit", "swerl_exit", "swerl_monitor",
    "swerl_demonitor", "swerl_send_after", "swerl_cancel_timer", "swerl_call_async",
    "swerl_reply", "swerl_last_error_detail", "swerl_pid_format", "swerl_set_blocking",
    "swerl_send_after_named", "swerl_socket_opts_init", "swerl_socket_send", "swerl_socket_activate",
    "swerl_socket_close", "swerl_socket_shutdown", "swerl_socket_set_owner", "swerl_socket_setopt",
    "swerl_socket_info_get", "swerl_send_term", "swerl_send_named_term", "swerl_term_read",
    "swerl_term_skip", "swerl_term_format", "swerl_term_writer_new", "swerl_term_writer_free",
    "swerl_term_writer_put_pid", "swerl_term_writer_bytes", "swerl_node_name", "swerl_node_list",
    "swerl_pid_node", "swerl_send_remote", "swerl_send_remote_term", "swerl_reply_term",
    "swerl_monitor_nodes", "swerl_monitor_name", "swerl_set_group", "swerl_group_fd", "swerl_group_wake",
    "swerl_group_spawn",  # never runs init nested (swerl_spawn may, for a supervisor's child)
    # shared binaries (swerl_binary_copy is in `lib` only: a large copy drops the GIL)
    "swerl_binary_new", "swerl_binary_data", "swerl_binary_size", "swerl_binary_retain",
    "swerl_binary_release", "swerl_send_binary", "swerl_send_named_binary", "swerl_binary_keep",
    "swerl_reply_binary",  # as swerl_reply: may run a swerl_call_notify `done` here
)


def _held_gil(library: ctypes.CDLL) -> ctypes.PyDLL:
    quick = ctypes.PyDLL(library._name)
    for name in NONBLOCKING:
        restype, argtypes = SIGNATURES[name]
        fn = getattr(quick, name)
        fn.restype, fn.argtypes = restype, argtypes
    return quick


quick = _held_gil(lib)

# The process's memory as one read-only byte view, from address 0: a message
# header is read with one struct.unpack_from and its bytes copied with one
# slice, where ctypes.string_at makes a foreign call (through libffi, dropping
# the GIL) per read. Only addresses the library handed to a running callback
# are ever read, exactly as string_at would read them.
MEMORY = memoryview((ctypes.c_ubyte * (sys.maxsize // 2)).from_address(0))
# kind, reason, from, ref, data, len, flags (since 1.2); C's alignment and tail padding
MESSAGE_LAYOUT = struct.Struct("@IiQQPNI%dx" % (ctypes.sizeof(SwerlMessage) - struct.calcsize("@IiQQPNI")))
assert MESSAGE_LAYOUT.size == ctypes.sizeof(SwerlMessage)
# swerl_turn: ctx, state, pid, messages, results, count, current
TURN_LAYOUT = struct.Struct("@PPQPPII")
TURN_CURRENT_OFFSET = TURN_LAYOUT.size - 4
