// Calls and exit watches (OTP-54..57): one path issues every call, whoever
// waits for it: a blocked thread (swerl_call), a process (swerl_call_async:
// a REPLY message), or a callback (swerl_call_notify, the Swift API). See
// Waiters for how a call is settled.

import CSwerl
import CSwerlSupport
import Glibc

extension Engine {
    /// Issues a call from the calling thread (or process): registers the
    /// waiter, sends the CALL and, with `armTimer`, arms the deadline's
    /// timer. An absent server is ENOPROC at once, except for a process
    /// caller, which is told by a REPLY (ENOPROC) as for any outcome.
    /// `runtimeTraffic`: a supervisor management request, exempt from
    /// max_message_size and the memory ceiling (see send).
    /// `announce` gets the ref before anything can settle the call.
    func issueCall(to: UInt64, request: UnsafeRawBufferPointer, timeoutMillis: UInt32, kind: WaiterKind,
                   armTimer: Bool, runtimeTraffic: Bool = false, cancellable: Bool = false, term: Bool = false,
                   announce: (UInt64) -> Void = { _ in }) -> (Int32, UInt64) {
        if request.count > maxMessageSize && !runtimeTraffic { return (tooBig(request.count), 0) }
        if isStopped { return (Code.stopped, 0) }
        let caller = CallbackContexts.current.flatMap { $0.engine === self ? $0.selfPid : nil } ?? 0
        if caller != 0 && caller == to { return (Code.callSelf, 0) }
        let deadline = Deadline.after(millis: timeoutMillis)
        if !Pids.isLocal(to), let node = distribution.load(), remotePids.entry(to) != nil {
            // gen_server's protocol to a process of another node (DistNode.call).
            let ref = newRef()
            announce(ref)
            waiters.register(ref, Waiter(kind: kind, server: to, isCall: true, deadline: deadline,
                                         cancellable: cancellable))
            guard node.call(to: to, caller: caller, ref: ref, request: request, term: term) else {
                guard case .process = kind else {
                    _ = waiters.remove(ref)
                    return (absent(to), 0)
                }
                waiters.fail(ref, code: Code.noProcess)
                return (Code.ok, ref)
            }
            countSent()
            if armTimer && deadline != .max { addTimer(TimerEntry(deadline: deadline, kind: .callTimeout, id: ref)) }
            return (Code.ok, ref)
        }
        guard let server = table.lookup(to) else {
            guard case .process = kind else { return (absent(to), 0) }
            let ref = newRef()
            announce(ref)
            waiters.register(ref, Waiter(kind: kind, server: to, isCall: true, deadline: deadline,
                                         cancellable: cancellable))
            waiters.fail(ref, code: Code.noProcess)
            return (Code.ok, ref)
        }
        let charge = runtimeTraffic ? .free : chargeMemory(request.count)
        if charge == .refused { return (Code.memoryLimit, 0) }
        let ref = newRef()
        announce(ref)
        waiters.register(ref, Waiter(kind: kind, server: to, isCall: true, deadline: deadline,
                                     cancellable: cancellable))
        guard let node = Nodes.make(kind: NodeKind.sigCall, target: to, from: caller, ref: ref, counted: true,
                                    charged: charge == .charged, term: term, data: request.baseAddress,
                                    len: request.count) else {
            _ = waiters.remove(ref)
            unchargeMemory(request.count, charge)
            return (Code.noMemory, 0)
        }
        _ = server.arrive(request.count)
        deliver(node, to: server)
        countSent()
        if armTimer && deadline != .max { addTimer(TimerEntry(deadline: deadline, kind: .callTimeout, id: ref)) }
        return (Code.ok, ref)
    }

    /// A call from a process of another node (gen_server:call): a CALL to
    /// `to` from `caller`, with no deadline here (the caller keeps its own);
    /// `answer` gets the outcome once (the reply, or the server's exit).
    /// `announce` learns the ref first. ok also when `to` is gone: the
    /// caller's monitor tells it.
    func deliverRemoteCall(to: UInt64, from caller: UInt64, request: UnsafeRawBufferPointer, term: Bool,
                           announce: (UInt64) -> Void,
                           answer: @escaping @Sendable (UInt64, WaiterOutcome) -> Void) -> Int32 {
        if request.count > maxMessageSize { return tooBig(request.count) }
        guard let server = table.lookup(to) else { return Code.ok }
        let charge = chargeMemory(request.count)
        if charge == .refused { return Code.memoryLimit }
        let ref = newRef()
        announce(ref)
        waiters.register(ref, Waiter(kind: .callback({ answer(ref, $0) }), server: to, isCall: true))
        guard let node = Nodes.make(kind: NodeKind.sigCall, target: to, from: caller, ref: ref, counted: true,
                                    charged: charge == .charged, term: term, data: request.baseAddress,
                                    len: request.count) else {
            _ = waiters.remove(ref)
            unchargeMemory(request.count, charge)
            return Code.noMemory
        }
        _ = server.arrive(request.count)
        deliver(node, to: server)
        countSent()
        return Code.ok
    }

    /// swerl_call: blocks the calling thread, which must not be a runtime
    /// thread other than a blocking-pool one.
    /// swerl_call: the code and the reply (malloc'd: the caller frees it);
    /// for EEXITED, the server's exit reason and its detail in the same
    /// place.
    package func call(_ to: UInt64, request: UnsafeRawBufferPointer, timeoutMillis: UInt32,
                      runtimeTraffic: Bool = false) -> (code: Int32, data: UnsafeMutableRawPointer?, count: Int,
                                                         exitReason: Int32)
    {
        if let refusal = refuseBlocking("swerl_call", instead: "swerl_call_async") { return (refusal, nil, 0, 0) }
        let signal = ThreadSignal()
        let (code, ref) = issueCall(to: to, request: request, timeoutMillis: timeoutMillis, kind: .thread(signal),
                                    armTimer: false, runtimeTraffic: runtimeTraffic)
        guard code == Code.ok else { return (code, nil, 0, 0) }
        if !signal.wait(until: Deadline.optional(afterMillis: timeoutMillis)) {
            if waiters.abandon(ref) { return (Code.timedOut, nil, 0, 0) }
            // Settled while we timed out (OTP-55: check once more): take it.
            _ = signal.wait(until: nil)
        }
        let (data, count) = signal.takeData()
        if signal.code == Code.exited {
            let detail = UnsafeRawBufferPointer(start: data, count: count)
            ErrorDetail.set("swerl_call: the server \(Pids.format(to)) exited before replying, with reason "
                            + "\(Reason.name(signal.reason))\(count > 0 ? ": " + ErrorDetail.excerpt(detail) : "")")
            return (Code.exited, data, count, signal.reason)
        }
        return (signal.code, data, count, 0)
    }

    /// swerl_call_notify, and the Swift API's async call: `done` gets the
    /// outcome once, on the settling thread.
    /// `cancellable`: swerl_cancel_notify may stop it (a C or Python caller's).
    /// `done(code, exitReason, bytes)`: the reply; or for EEXITED the
    /// server's exit reason and detail; else only the code.
    /// `term`: the request is an Erlang term (External Term Format): the
    /// server's CALL is marked as one, and another node's process gets the
    /// term itself.
    package func callNotify(_ to: UInt64, request: UnsafeRawBufferPointer, timeoutMillis: UInt32,
                            cancellable: Bool = false, term: Bool = false,
                            beforeSettling announce: (UInt64) -> Void = { _ in },
                            done: @escaping @Sendable (Int32, Int32, UnsafeRawBufferPointer) -> Void) -> (Int32, UInt64) {
        issueCall(to: to, request: request, timeoutMillis: timeoutMillis, kind: .callback({ outcome in
            switch outcome {
            case .reply(let bytes, _): done(Code.ok, 0, bytes)
            case .failure(let code): done(code, 0, UnsafeRawBufferPointer(start: nil, count: 0))
            case .serverExited(let reason, let detail), .exited(let reason, let detail): done(Code.exited, reason, detail)
            }
        }), armTimer: true, cancellable: cancellable, term: term, announce: announce)
    }

    /// A call to the process registered as `name` on node `node`
    /// (gen_server:call({Name, Node}, ...)), with `done` as callNotify's;
    /// this node's own name calls the local process of that name.
    package func callNotify(name: String, node nodeName: String, request: UnsafeRawBufferPointer,
                            timeoutMillis: UInt32, term: Bool = false,
                            beforeSettling announce: (UInt64) -> Void = { _ in },
                            done: @escaping @Sendable (Int32, Int32, UnsafeRawBufferPointer) -> Void) -> (Int32, UInt64) {
        if nodeName == nodeIdentity.name {  // this node
            guard let pid = registry.whereis(name) else {
                return (ErrorDetail.failing(Code.noProcess, "call: no process is registered as \"\(name)\""), 0)
            }
            return callNotify(pid, request: request, timeoutMillis: timeoutMillis, cancellable: true, term: term,
                              beforeSettling: announce, done: done)
        }
        guard let node = distribution.load() else {
            return (ErrorDetail.failing(Code.invalid, "call: this runtime is not a node (startNode) and cannot "
                + "reach \(nodeName)"), 0)
        }
        guard Handshake.isNodeName(nodeName) else {
            return (ErrorDetail.failing(Code.invalid, "call: \"\(nodeName)\" is not a node name (name@host)"), 0)
        }
        if request.count > maxMessageSize { return (tooBig(request.count), 0) }
        if isStopped { return (Code.stopped, 0) }
        let caller = CallbackContexts.current.flatMap { $0.engine === self ? $0.selfPid : nil } ?? 0
        let peer = remotePids.nodeIndex(nodeName)
        let deadline = Deadline.after(millis: timeoutMillis)
        let ref = newRef()
        announce(ref)
        let kind = WaiterKind.callback({ outcome in
            switch outcome {
            case .reply(let bytes, _): done(Code.ok, 0, bytes)
            case .failure(let code): done(code, 0, UnsafeRawBufferPointer(start: nil, count: 0))
            case .serverExited(let reason, let detail), .exited(let reason, let detail):
                // A DOWN by name: noproc when nobody had the name, else its exit.
                done(reason == Reason.noproc ? Code.noProcess : Code.exited, reason, detail)
            }
        })
        waiters.register(ref, Waiter(kind: kind, server: node.namedTarget(node: peer), isCall: true,
                                     deadline: deadline, cancellable: true))
        guard node.call(toName: name, node: peer, caller: caller, ref: ref, request: request, term: term) else {
            waiters.fail(ref, code: Code.noProcess)
            return (Code.ok, ref)
        }
        if deadline != .max { addTimer(TimerEntry(deadline: deadline, kind: .callTimeout, id: ref)) }
        return (Code.ok, ref)
    }

    /// swerl_reply; `term`: the reply is an Erlang term (swerl_reply_term).
    package func reply(_ ref: UInt64, data: UnsafeRawBufferPointer, term: Bool = false) -> Int32 {
        if data.count > maxMessageSize { return tooBig(data.count) }
        if isStopped { return Code.stopped }
        return waiters.reply(ref, data: data, term: term)
    }

    /// swerl_reply_binary: the reply is `binary`, by reference to a process
    /// waiting with swerl_call_async (a copy for any other waiter).
    package func reply(_ ref: UInt64, binary: SharedBinaryPointer) -> Int32 {
        let bytes = SharedBinaries.bytes(binary)
        if bytes.count > maxMessageSize { return tooBig(bytes.count) }
        if isStopped { return Code.stopped }
        return waiters.reply(ref, data: bytes, binary: bytes.count > 0 ? binary : nil)
    }

    /// swerl_watch_exit: `done` gets the exit reason of `pid` once (noproc,
    /// at once, if it is not alive): a monitor owned by no process.
    package func watchExit(_ pid: UInt64, cancellable: Bool = false,
                           beforeSettling announce: (UInt64) -> Void = { _ in },
                           done: @escaping @Sendable (Int32, UnsafeRawBufferPointer) -> Void) -> (Int32, UInt64)
    {
        watchExit(pid, kind: .callback({ outcome in
            switch outcome {
            case .exited(let reason, let detail): done(reason, detail)
            default: done(Reason.noproc, UnsafeRawBufferPointer(start: nil, count: 0))
            }
        }), cancellable: cancellable, announce: announce)
    }

    private func watchExit(_ pid: UInt64, kind: WaiterKind, cancellable: Bool = false,
                           announce: (UInt64) -> Void = { _ in }) -> (Int32, UInt64) {
        if isStopped { return (Code.stopped, 0) }
        let ref = newRef()
        announce(ref)
        waiters.register(ref, Waiter(kind: kind, server: pid, isCall: false, cancellable: cancellable))
        guard let process = table.lookup(pid),
              let node = Nodes.make(kind: NodeKind.sigMonitor, target: pid, from: 0, ref: ref, aux: 0, data: nil, len: 0)
        else {
            waiters.down(ref, reason: Reason.noproc, detail: UnsafeRawBufferPointer(start: nil, count: 0))
            return (Code.ok, ref)
        }
        deliver(node, to: process)
        return (Code.ok, ref)
    }

    /// swerl_wait_exit: blocks until `pid` exits; its reason.
    package func waitExit(_ pid: UInt64, timeoutMillis: UInt32) -> (Int32, Int32) {
        if let refusal = refuseBlocking("swerl_wait_exit", instead: "swerl_monitor") { return (refusal, 0) }
        let signal = ThreadSignal()
        let (code, ref) = watchExit(pid, kind: .thread(signal))
        guard code == Code.ok else { return (code, 0) }
        if !signal.wait(until: Deadline.optional(afterMillis: timeoutMillis)) {
            if waiters.abandon(ref) { return (Code.timedOut, 0) }
            _ = signal.wait(until: nil)
        }
        return (signal.code, signal.reason)
    }

    /// swerl_cancel_notify: 0 if the callback will never run, else EREF
    /// (also for a ref that is not a notify's or a watch's).
    package func cancelNotify(_ ref: UInt64) -> Int32 {
        if isStopped { return Code.stopped }
        return waiters.cancel(ref) ? Code.ok : Code.badRef
    }

    /// EINPROC for a wait on a runtime thread that must never wait (a
    /// scheduler thread, in a handler or a hook); nil where waiting is
    /// allowed (other threads, the blocking pool).
    func refuseBlocking(_ function: String, instead: String? = nil) -> Int32? {
        guard let raw = swerlrt_get_worker() else {
            return CallbackContexts.current == nil ? nil
                : ErrorDetail.failing(Code.inProcess, "\(function) inside a process callback would block its scheduler")
        }
        let worker = Unmanaged<Worker>.fromOpaque(raw).takeUnretainedValue()
        if worker.kind == .blocking { return nil }
        if worker.kind == .group {
            return ErrorDetail.failing(Code.inProcess, "\(function) in a turn group's callback would stop every "
                + "process of the group: \(instead.map { "use \($0), or " } ?? "")"
                + "spawn the process with SWERL_SPAWN_BLOCKING, whose callbacks may block")
        }
        return ErrorDetail.failing(Code.inProcess, "\(function) on a scheduler thread (in a process callback or "
            + "a hook) would stop every process queued there: \(instead.map { "use \($0), or " } ?? "")"
            + "spawn the process with SWERL_SPAWN_BLOCKING, whose callbacks may block")
    }
}
