// Timers (OTP-34..36): send_after and its cancel, a timer added from any
// thread, and a due timer fired. The deadlines live in each scheduler's
// TimerHeap; the messages of send_after timers in the TimerTable.

import CSwerl
import Glibc

extension Engine {
    package func sendAfter(to: UInt64, millis: UInt32, data: UnsafeRawBufferPointer) -> (Int32, UInt64) {
        if data.count > maxMessageSize { return (tooBig(data.count), 0) }
        if isStopped { return (Code.stopped, 0) }
        guard table.lookup(to) != nil else { return (absent(to), 0) }
        let ref = newRef()
        guard let node = Nodes.make(kind: NodeKind.sigTimer, target: to, from: 0, ref: ref,
                                    data: data.baseAddress, len: data.count) else { return (Code.noMemory, 0) }
        let deadline = Deadline.after(millis: millis)
        guard timerTable.add(ref: ref, node: node, deadline: deadline, targetAlive: { self.table.lookup($0) != nil }) else {
            return (Code.noProcess, 0)
        }
        addTimer(TimerEntry(deadline: deadline, kind: .sendAfter, id: ref))
        return (Code.ok, ref)
    }

    /// swerl_send_after_named: the name is looked up at expiry (OTP-35).
    package func sendAfter(toName name: String, millis: UInt32, data: UnsafeRawBufferPointer) -> (Int32, UInt64) {
        if let invalid = invalidName(name, in: "send_after") { return (invalid, 0) }
        if data.count > maxMessageSize { return (tooBig(data.count), 0) }
        if isStopped { return (Code.stopped, 0) }
        let ref = newRef()
        guard let node = Nodes.make(kind: NodeKind.sigTimer, target: 0, from: 0, ref: ref,
                                    data: data.baseAddress, len: data.count) else { return (Code.noMemory, 0) }
        let deadline = Deadline.after(millis: millis)
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

    /// Adds a timer from any thread: to the calling worker's scheduler, else
    /// to one of the schedulers in turn.
    func addTimer(_ entry: TimerEntry) {
        if let worker = Worker.current(of: self) { return worker.addTimer(entry) }
        addForeignTimer(entry)
    }

    /// Adds a timer to a scheduler the calling thread does not hold.
    func addForeignTimer(_ entry: TimerEntry) {
        let next = roundRobin.add(1, ordering: .relaxed).oldValue
        schedulers[next % schedulers.count].addForeignTimer(entry)
    }

    /// A scheduler's timer entry is due.
    func fire(_ entry: TimerEntry) {
        switch entry.kind {
        case .receiveTimeout:
            signal(NodeKind.sigTimeout, to: entry.id, from: 0)
        case .sendAfter:
            guard let taken = timerTable.take(entry.id) else { return }
            let node = taken.node
            // A named timer's name is looked up now, at expiry (OTP-35).
            if let name = taken.name { node.pointee.target = registry.whereis(name) ?? 0 }
            if let process = table.lookup(node.pointee.target) {
                node.pointee.counted = true
                _ = process.arrive(node.pointee.len)
                deliver(node, to: process)
            } else {
                Nodes.release(node)
            }
        case .callTimeout:
            waiters.fail(entry.id, code: Code.timedOut)
        }
    }
}
