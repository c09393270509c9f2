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
        if data.count > maxMessageSize { return (tooBig(data.count), 0) }
        if isStopped { return (Code.stopped, 0) }
        guard table.lookup(to) != nil else { return (absent(to), 0) }
        let ref = newRef()
        guard let node = Nodes.make(kind: NodeKind.sigTimer, target: to, from: 0, ref: ref,
                                    data: data.baseAddress, len: data.count) else { return (Code.noMemory, 0) }
        let deadline = monotonicNanos() + UInt64(millis) * 1_000_000
        guard timerTable.add(ref: ref, node: node, deadline: deadline, targetAlive: { self.table.lookup($0) != nil }) else {
            return (Code.noProcess, 0)
        }
        addTimer(TimerEntry(deadline: deadline, kind: .sendAfter, id: ref))
        return (Code.ok, ref)
    }

    /// swerl_send_after_named: the name is looked up at expiry (OTP-35).
    package func sendAfter(toName name: String, millis: UInt32, data: UnsafeRawBufferPointer) -> (Int32, UInt64) {
        if data.count > maxMessageSize { return (tooBig(data.count), 0) }
        if isStopped { return (Code.stopped, 0) }
        let ref = newRef()
        guard let node = Nodes.make(kind: NodeKind.sigTimer, target: 0, from: 0, ref: ref,
                                    data: data.baseAddress, len: data.count) else { return (Code.noMemory, 0) }
        let deadline = monotonicNanos() + UInt64(millis) * 1_000_000
        timerTable.add(ref: ref, node: node, deadline: deadline, name: name)
        addTimer(TimerEntry(deadline: deadline, kind: .sendAfter, id: ref))
        return (Code.ok, ref)
    }

    package func cancelTimer(_ ref: UInt64) -> (Int32, UInt32) {
        if isStopped { return (Code.stopped, 0) }
        guard let remaining = timerTable.cancel(ref, now: monotonicNanos(), targetAlive: { self.table.lookup($0) != nil })
        else { return (Code.badRef, 0) }
        return (Code.ok, remaining)
    }

    // MARK: Long turns and the blocking pool

    package func setLongTurn(millis: UInt32) -> Int32 {
        if isStopped { return Code.stopped }
        turnMonitor.longTurnNanos.store(UInt64(millis) * 1_000_000, ordering: .relaxed)
        return Code.ok
    }

    package func setBlockingThreads(_ count: UInt32) -> Int32 {
        if isStopped { return Code.stopped }
        guard count > 0 else { return ErrorDetail.failing(Code.invalid, "the blocking pool needs at least 1 thread") }
        blockingPool.setMaxThreads(Int(count))
        return Code.ok
    }
}
