// Calls and exit watches whose outcome a callback gets, and waiting for an
// exit from outside processes (swerl.h, since 1.2).

import CSwerl
import Swerl

/// A C callback and its user pointer, as the runtime's Sendable closures hold
/// them (the caller vouches for the pointer: it is the caller's).
private struct CallbackTarget<Function>: @unchecked Sendable {
    let function: Function
    let user: UnsafeMutableRawPointer?
}

@c public func swerl_call_notify(_ rt: OpaquePointer?, _ to: swerl_pid, _ request: UnsafeRawPointer?, _ len: Int,
                                 _ timeoutMillis: UInt32, _ done: swerl_call_fn?, _ user: UnsafeMutableRawPointer?,
                                 _ out: UnsafeMutablePointer<swerl_ref>?) -> CInt {
    handedOut {
        let function = "swerl_call_notify"
        return withEngine(rt, function) { engine in
            guard let done else { return null(function, "done") }
            guard let out else { return null(function, "out") }
            if len < 0 { return CInt(SWERL_ETOOBIG) }
            guard let payload = bytes(request, len) else { return nullData(function, "req", len) }
            let target = CallbackTarget(function: done, user: user)
            // *out is written before `done` can run, so the callback may look at it.
            let (code, _) = engine.callNotify(to, request: payload, timeoutMillis: timeoutMillis, cancellable: true,
                                              beforeSettling: { out.pointee = $0 }) { code, _, reply in
                target.function(target.user, code, reply.baseAddress, reply.count)
            }
            return code
        }
    }
}

@c public func swerl_watch_exit(_ rt: OpaquePointer?, _ pid: swerl_pid, _ done: swerl_exit_fn?,
                                _ user: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<swerl_ref>?) -> CInt {
    handedOut {
        let function = "swerl_watch_exit"
        return withEngine(rt, function) { engine in
            guard let done else { return null(function, "done") }
            guard let out else { return null(function, "out") }
            let target = CallbackTarget(function: done, user: user)
            // *out is written before `done` can run (it may run in this call, for a
            // pid that is not alive), so the callback may look at it.
            let (code, _) = engine.watchExit(pid, cancellable: true, beforeSettling: { out.pointee = $0 }) { reason, detail in
                target.function(target.user, reason, detail.baseAddress, detail.count)
            }
            return code
        }
    }
}

@c public func swerl_cancel_notify(_ rt: OpaquePointer?, _ ref: swerl_ref) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_cancel_notify") { engine in
            return engine.cancelNotify(ref)
        }
    }
}

@c public func swerl_wait_exit(_ rt: OpaquePointer?, _ pid: swerl_pid, _ timeoutMillis: UInt32,
                               _ reason: UnsafeMutablePointer<Int32>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_wait_exit") { engine in
            let (code, exitReason) = engine.waitExit(pid, timeoutMillis: timeoutMillis)
            if code == 0 { reason?.pointee = exitReason }
            return code
        }
    }
}
