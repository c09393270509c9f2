// What a running process may do to itself and its relations: the
// operations that take a swerl_ctx. All run on the process's own scheduler
// thread, inside one of its callbacks, so they touch its block directly.

import CSwerl
import Synchronization

extension UnsafeMutablePointer where Pointee == CallbackContext {
    @inline(__always) var engine: Engine { pointee.engine.takeUnretainedValue() }
    @inline(__always) var process: ProcessPointer { pointee.process! }
    @inline(__always) var selfPid: UInt64 { pointee.process!.pointee.ownPid }

    /// OTP-15, OTP-17.
    func link(_ pid: UInt64) -> Int32 {
        let me = process
        if pid == me.pointee.ownPid || me.pointee.links.contains(pid) { return Code.ok }
        if !Pids.isLocal(pid), let node = engine.distribution.load(), engine.remotePids.entry(pid) != nil {
            // Linked here at once; the peer is told (DistNode.link), and an
            // unreachable node answers with noconnection.
            guard node.link(from: me.pointee.ownPid, to: pid) else { return engine.absent(pid) }
            me.pointee.links.insert(pid)
            me.publishRelations()
            return Code.ok
        }
        guard let other = engine.table.lookup(pid),
              let node = Nodes.make(kind: NodeKind.sigLink, target: pid, from: me.pointee.ownPid, data: nil, len: 0)
        else {
            if engine.table.lookup(pid) != nil { return Code.noMemory }
            guard me.pointee.trapExit else { return Code.noProcess }
            // A trapping caller is told by an exit signal from the absent process.
            if let exit = Nodes.make(kind: NodeKind.exit, target: me.pointee.ownPid, from: pid,
                                     reason: Reason.noproc, data: nil, len: 0) {
                me.appendMail(exit)
            }
            return Code.ok
        }
        me.pointee.links.insert(pid)
        me.publishRelations()
        engine.deliver(node, to: other)
        return Code.ok
    }

    /// OTP-18.
    func unlink(_ pid: UInt64) -> Int32 {
        let me = process
        guard me.pointee.links.remove(pid) else { return Code.ok }
        me.publishRelations()
        engine.signal(NodeKind.sigUnlink, to: pid, from: me.pointee.ownPid)
        return Code.ok
    }

    /// OTP-20. Returns the previous value.
    func trapExit(_ on: Bool) -> Int32 {
        let me = process
        let previous: Int32 = me.pointee.trapExit ? 1 : 0
        me.pointee.trapExit = on
        me.publishRelations()
        return previous
    }

    /// swerl_set_blocking: where the process's turns run from its next turn
    /// on. Returns the previous value.
    func setBlocking(_ on: Bool) -> Int32 {
        let me = process
        let wasBlocking = me.pointee.lastScheduler.load(ordering: .relaxed) == ProcessBlock.blockingHome
        if on != wasBlocking {
            // Only its turn's holder (this thread) writes it; senders read it
            // only once they take the token, which this turn holds.
            let home = on ? ProcessBlock.blockingHome
                : UInt32(pointee.worker?.takeUnretainedValue().schedulerIndex
                         ?? engine.roundRobin.add(1, ordering: .relaxed).oldValue % engine.schedulers.count)
            me.pointee.lastScheduler.store(home, ordering: .relaxed)
        }
        return wasBlocking ? 1 : 0
    }

    /// swerl_set_group: the process's turns run in `group` (nil: on the
    /// schedulers) from its next turn on.
    func setGroup(_ group: TurnGroup?) -> Int32 {
        if let group, group.engine !== engine {
            return ErrorDetail.failing(Code.invalid, "swerl_set_group: the group belongs to another runtime")
        }
        let home = group?.home
            ?? UInt32(pointee.worker?.takeUnretainedValue().schedulerIndex
                      ?? engine.roundRobin.add(1, ordering: .relaxed).oldValue % engine.schedulers.count)
        // Only its turn's holder writes it (see setBlocking).
        process.pointee.lastScheduler.store(home, ordering: .relaxed)
        return Code.ok
    }

    /// OTP-23..26.
    func monitor(_ pid: UInt64) -> (Int32, UInt64) {
        let me = process
        let ref = engine.newRef()
        if !Pids.isLocal(pid), let node = engine.distribution.load(), engine.remotePids.entry(pid) != nil,
           node.monitor(watcher: me.pointee.ownPid, target: pid, ref: ref) {
            me.pointee.monitors.insert(MonitorEntry(ref: ref, pid: pid))
            me.publishRelations()
            return (Code.ok, ref)
        }
        if let other = engine.table.lookup(pid),
           let node = Nodes.make(kind: NodeKind.sigMonitor, target: pid, from: me.pointee.ownPid, ref: ref,
                                 aux: me.pointee.ownPid, data: nil, len: 0) {
            me.pointee.monitors.insert(MonitorEntry(ref: ref, pid: pid))
            me.publishRelations()
            engine.deliver(node, to: other)
            return (Code.ok, ref)
        }
        // Not alive: the DOWN comes at once with reason noproc (OTP-25).
        guard let down = Nodes.make(kind: NodeKind.down, target: me.pointee.ownPid, from: pid, ref: ref,
                                    reason: Reason.noproc, data: nil, len: 0) else { return (Code.noMemory, 0) }
        me.appendMail(down)
        return (Code.ok, ref)
    }

    /// OTP-28. With `info`: 1 if the monitor was active, else 0.
    func demonitor(_ ref: UInt64, flush: Bool, info: Bool) -> Int32 {
        let me = process
        var found = false
        if let target = me.pointee.monitors.remove(ref: ref)?.pid {
            me.publishRelations()
            engine.signal(NodeKind.sigDemonitor, to: target, from: me.pointee.ownPid, ref: ref)
            found = true
        }
        if flush {
            if let batch = pointee.batch, batch.takeUnretainedValue().withdrawDown(ref) {
                return info ? (found ? 1 : 0) : Code.ok
            }
            if let queued = me.removeMail(where: { $0.pointee.kind == NodeKind.down && $0.ref == ref }) {
                me.discard(queued)
            }
        }
        return info ? (found ? 1 : 0) : Code.ok
    }

    func setReceiveTimeout(_ millis: UInt32) {
        if let batch = pointee.batch {
            batch.takeUnretainedValue().requestTimeout(millis)
        } else {
            process.pointee.timeoutRequest = millis
        }
    }

    func fail(reason: Int32, detail: UnsafeRawBufferPointer) {
        process.pointee.failReason = reason
        process.pointee.failDetail = Array(detail)
    }

    /// swerl_call_async: the answer comes back as a REPLY message.
    func callAsync(_ to: UInt64, request: UnsafeRawBufferPointer, timeoutMillis: UInt32) -> (Int32, UInt64) {
        let me = process
        let (code, ref) = engine.issueCall(to: to, request: request, timeoutMillis: timeoutMillis,
                                           kind: .process(me.pointee.ownPid), armTimer: true)
        // Before this callback returns, so before any REPLY for it is applied.
        if code == Code.ok { me.pointee.pendingCalls.insert(ref) }
        return (code, ref)
    }
}
