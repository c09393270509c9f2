// Names, timers and calls as the front ends see them.

import CSwerl
import Glibc

extension Engine {
    // MARK: Names (OTP-30..33)

    package func register(name: String, pid: UInt64) -> Int32 {
        if isStopped { return Code.stopped }
        switch registry.register(name: name, pid: pid, isAlive: { self.table.lookup($0) != nil }) {
        case .ok: return Code.ok
        case .nameTaken: return Code.nameTaken
        case .hasName: return Code.hasName
        case .noProcess: return Code.noProcess
        }
    }

    package func unregister(name: String) -> Int32 {
        if isStopped { return Code.stopped }
        return registry.unregister(name: name) ? Code.ok : Code.noName
    }

    package func whereis(_ name: String) -> UInt64? {
        registry.whereis(name)
    }

    package func registeredNames() -> [String] { registry.names() }

    package func sendNamed(_ name: String, data: UnsafeRawPointer?, count: Int) -> Int32 {
        if isStopped { return Code.stopped }
        guard let pid = registry.whereis(name) else { return Code.noName }
        return send(to: pid, data: data, count: count)
    }

    // MARK: Timers (OTP-34..36)

    package func sendAfter(to: UInt64, millis: UInt32, data: UnsafeRawBufferPointer) -> (Int32, UInt64) {
        if data.count > maxMessageSize { return (Code.tooBig, 0) }
        if isStopped { return (Code.stopped, 0) }
        guard table.lookup(to) != nil else { return (Code.noProcess, 0) }
        let ref = newRef()
        guard let node = Nodes.make(kind: NodeKind.sigTimer, target: to, from: 0, ref: ref,
                                    data: data.baseAddress, len: data.count) else { return (Code.noMemory, 0) }
        let deadline = monotonicNanos() + UInt64(millis) * 1_000_000
        guard timerTable.add(ref: ref, node: node, deadline: deadline, targetAlive: { self.table.lookup($0) != nil }) else {
            return (Code.noProcess, 0)
        }
        timerScheduler().addTimer(TimerEntry(deadline: deadline, kind: .sendAfter, id: ref))
        return (Code.ok, ref)
    }

    package func cancelTimer(_ ref: UInt64) -> (Int32, UInt32) {
        if isStopped { return (Code.stopped, 0) }
        guard let remaining = timerTable.cancel(ref, now: monotonicNanos(), targetAlive: { self.table.lookup($0) != nil })
        else { return (Code.badRef, 0) }
        return (Code.ok, remaining)
    }

    /// The calling thread's scheduler, or scheduler 0 for outside threads.
    func timerScheduler() -> Scheduler {
        if let context = CallbackContexts.current, let scheduler = context.pointee.scheduler?.takeUnretainedValue(),
           scheduler.engine === self {
            return scheduler
        }
        return schedulers[0]
    }

    // MARK: Calls (OTP-54..57)

    /// swerl_call: blocks the calling (outside) thread. `runtimeTraffic`:
    /// a supervisor management request, exempt from max_message_size and
    /// the memory ceiling (see send).
    package func call(_ to: UInt64, request: UnsafeRawBufferPointer, timeoutMillis: UInt32,
                      runtimeTraffic: Bool = false) -> (Int32, UnsafeMutableRawPointer?, Int)
    {
        if CallbackContexts.current != nil { return (Code.inProcess, nil, 0) }
        if request.count > maxMessageSize && !runtimeTraffic { return (Code.tooBig, nil, 0) }
        if isStopped { return (Code.stopped, nil, 0) }
        guard let server = table.lookup(to) else { return (Code.noProcess, nil, 0) }
        let charge = runtimeTraffic ? .free : chargeMemory(request.count)
        if charge == .refused { return (Code.memoryLimit, nil, 0) }
        let ref = newRef()
        let waiter = ThreadSignal()
        waiters.register(ref, Waiter(kind: .thread(waiter), server: to, isCall: true))
        guard let node = Nodes.make(kind: NodeKind.sigCall, target: to, from: 0, ref: ref, counted: true,
                                    charged: charge == .charged, data: request.baseAddress, len: request.count) else {
            _ = waiters.remove(ref)
            unchargeMemory(request.count, charge)
            return (Code.noMemory, nil, 0)
        }
        _ = server.arrive(request.count)
        deliver(node, to: server)
        countSent()
        let deadline = timeoutMillis == SWERL_INFINITY ? nil : monotonicNanos() + UInt64(timeoutMillis) * 1_000_000
        if !waiter.wait(until: deadline) {
            if waiters.remove(ref) != nil {
                signal(NodeKind.sigDemonitor, to: to, from: 0, ref: ref)
                return (Code.timedOut, nil, 0)
            }
            // Settled while we timed out (OTP-55: check once more): take it.
            _ = waiter.wait(until: nil)
        }
        let (data, count) = waiter.takeData()
        return (waiter.code, data, count)
    }

    /// Starts a call whose outcome goes to `completion` (Swift async call).
    package func call(_ to: UInt64, request: UnsafeRawBufferPointer, timeoutMillis: UInt32,
                      completion: @escaping @Sendable (Int32, [UInt8]) -> Void) {
        if request.count > maxMessageSize { return completion(Code.tooBig, []) }
        if isStopped { return completion(Code.stopped, []) }
        if let context = CallbackContexts.current, context.pointee.process?.pointee.ownPid == to {
            return completion(Code.callSelf, [])
        }
        guard let server = table.lookup(to) else { return completion(Code.noProcess, []) }
        let charge = chargeMemory(request.count)
        if charge == .refused { return completion(Code.memoryLimit, []) }
        let ref = newRef()
        waiters.register(ref, Waiter(kind: .callback({ outcome in
            switch outcome {
            case .reply(let bytes): completion(Code.ok, Array(bytes))
            case .failure(let code, _): completion(code, [])
            case .exited: completion(Code.exited, [])
            }
        }), server: to, isCall: true))
        let from = CallbackContexts.current?.pointee.process?.pointee.ownPid ?? 0
        guard let node = Nodes.make(kind: NodeKind.sigCall, target: to, from: from, ref: ref, counted: true,
                                    charged: charge == .charged, data: request.baseAddress, len: request.count) else {
            unchargeMemory(request.count, charge)
            if waiters.remove(ref) != nil { completion(Code.noMemory, []) }
            return
        }
        _ = server.arrive(request.count)
        deliver(node, to: server)
        countSent()
        if timeoutMillis != SWERL_INFINITY {
            timerScheduler().addTimer(TimerEntry(deadline: monotonicNanos() + UInt64(timeoutMillis) * 1_000_000,
                                                 kind: .callTimeout, id: ref))
        }
    }

    package func reply(_ ref: UInt64, data: UnsafeRawBufferPointer) -> Int32 {
        if data.count > maxMessageSize { return Code.tooBig }
        if isStopped { return Code.stopped }
        return waiters.reply(ref, data: data)
    }

    /// Calls `completion` once with the exit reason of `pid` (noproc if it
    /// is not alive): a monitor owned by no process.
    package func watchExit(_ pid: UInt64, completion: @escaping @Sendable (Int32, [UInt8]) -> Void) {
        let ref = newRef()
        waiters.register(ref, Waiter(kind: .callback({ outcome in
            switch outcome {
            case .exited(let reason, let detail): completion(reason, Array(detail))
            case .failure, .reply: completion(Reason.noproc, [])
            }
        }), server: pid, isCall: false))
        guard let process = table.lookup(pid),
              let node = Nodes.make(kind: NodeKind.sigMonitor, target: pid, from: 0, ref: ref, aux: 0, data: nil, len: 0)
        else {
            waiters.down(ref, reason: Reason.noproc, detail: UnsafeRawBufferPointer(start: nil, count: 0))
            return
        }
        deliver(node, to: process)
    }
}
