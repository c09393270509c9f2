// One turn of a process on its scheduler: take what arrived, apply signals
// in arrival order, offer messages to the handler (selective receive), and
// give the scheduling token back — or exit.
//
// Signals (exit, link, monitor, down, ...) are applied the moment they are
// taken from the inbound queue, before any further message is handled, yet
// in the order each sender sent them, so a message sent before an exit
// signal is still queued ahead of the EXIT/DOWN it precedes (OTP-7..9).

import CSwerl
import Synchronization

/// How a process started by Worker.startNow came out of its init.
enum StartOutcome {
    case started
    /// init returned SWERL_IGNORE: the process exited normal.
    case ignored
    case failed(Int32, [UInt8])
}

extension Worker {
    func runTurn(_ process: ProcessPointer) {
        if let index = schedulerIndex {
            let home = process.pointee.lastScheduler.load(ordering: .relaxed)
            if home != UInt32(truncatingIfNeeded: index) && ProcessBlock.isSchedulerHome(home) {
                process.pointee.lastScheduler.store(UInt32(truncatingIfNeeded: index), ordering: .relaxed)
            }
        }
        // What the turn monitor watches (see TurnMonitor).
        turns.store(turns.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        runningPid.store(process.pointee.pidWord.load(ordering: .relaxed) & ~Pids.deadBit, ordering: .relaxed)
        if kind == .group { wakeTurnMonitor() }
        let context = enterContext(process)
        process.pointee.infoStatus.store(UInt32(SWERL_STATUS_RUNNING), ordering: .relaxed)
        drain(process, context)
        var budget = Self.turnBudget
        while !process.pointee.dying && process.pointee.ownPid != 0 {
            guard let node = process.nextOffer() else {
                if InboundQueue.hasNodes(process.pointee.inbound) {
                    drain(process, context)
                    continue
                }
                if checkReceiveTimeout(process, context) { continue }
                break
            }
            let sentBefore = messagesSent.load(ordering: .relaxed)
            offer(node, to: process, context)
            budget -= 1 + Int(truncatingIfNeeded: messagesSent.load(ordering: .relaxed) &- sentBefore)
            // A scheduler taken over while the handler ran, or a process
            // that moved (to or from the blocking pool or a turn group): end
            // the turn here; the process goes on where it now belongs.
            if budget <= 0 || (kind == .scheduler && !holdsScheduler) { break }
            if !runsHere(process.pointee.lastScheduler.load(ordering: .relaxed)) { break }
        }
        if process.pointee.dying { finishExit(process, context) }
        leaveContext(context)
        releaseToken(process)
        runningPid.store(0, ordering: .relaxed)
    }

    /// Ends a turn: keep the process queued if it has work, else give the
    /// scheduling token back.
    func releaseToken(_ process: ProcessPointer) {
        guard process.pointee.ownPid != 0 else { return engine.releaseDeadToken(process) }
        if process.nextOffer() != nil || receiveTimeoutDue(process) {
            process.pointee.infoStatus.store(UInt32(SWERL_STATUS_RUNNABLE), ordering: .relaxed)
            requeue(process)
            return
        }
        process.pointee.infoStatus.store(UInt32(SWERL_STATUS_WAITING), ordering: .relaxed)
        if !InboundQueue.tryIdle(process.pointee.inbound) {
            requeue(process)  // more arrived meanwhile: keep the token
        }
    }

    /// A process this worker ran that has more to do: a scheduled one onto
    /// the held scheduler (or its home), any other back to its pool or group.
    @inline(__always)
    private func requeue(_ process: ProcessPointer) {
        if ProcessBlock.isSchedulerHome(process.pointee.lastScheduler.load(ordering: .relaxed)) {
            makeRunnable(process)
        } else {
            engine.pushHome(process)
        }
    }

    /// Runs the init of a process spawned by the current callback, nested
    /// in it (the caller holds the new process's token): OTP's start_link.
    func startNow(_ process: ProcessPointer) -> StartOutcome {
        let context = enterContext(process)
        drain(process, context)
        var outcome = StartOutcome.started
        if process.pointee.dying {
            outcome = process.pointee.ignoredStart
                ? .ignored : .failed(process.pointee.exitReason, process.pointee.exitDetail)
            finishExit(process, context)
        }
        leaveContext(context)
        releaseToken(process)
        return outcome
    }

    // MARK: Inbound signals

    func drain(_ process: ProcessPointer, _ context: ContextPointer) {
        guard let chain = InboundQueue.takeAll(process.pointee.inbound, leave: InboundQueue.activeEmpty) else { return }
        var cursor: NodePointer? = chain.first.assumingMemoryBound(to: MessageNode.self)
        while let node = cursor {
            cursor = NodePointer(bitPattern: node.pointee.link.load(ordering: .relaxed))
            if node.pointee.kind == NodeKind.sigInit {
                startIncarnation(process, node, context)
            } else if node.pointee.target != process.pointee.ownPid {
                process.depart(node)
                engine.bounce(node)
            } else if node.pointee.kind == NodeKind.message && !process.pointee.dying {
                process.appendMail(node)  // apply's commonest case, without the call
            } else {
                apply(node, to: process)
            }
        }
        if process.pointee.mailboxLimit.load(ordering: .relaxed) != 0 { process.makeRequestedDrops() }
    }

    private func apply(_ node: NodePointer, to process: ProcessPointer) {
        let dying = process.pointee.dying
        switch node.pointee.kind {
        case NodeKind.message:
            if dying { return discardUndelivered(node, of: process) }
            process.appendMail(node)
        case NodeKind.sigExit:
            applyExitSignal(node, to: process)
        case NodeKind.sigLink:
            let from = node.pointee.from
            if from != process.pointee.ownPid && process.pointee.links.insert(from) {
                process.publishRelations()
            }
            Nodes.release(node)
        case NodeKind.sigUnlink:
            if process.pointee.links.remove(node.pointee.from) {
                process.publishRelations()
            }
            Nodes.release(node)
        case NodeKind.sigMonitor:
            process.pointee.monitoredBy.insert(MonitorEntry(ref: node.ref, pid: node.aux))
            process.publishRelations()
            Nodes.release(node)
        case NodeKind.sigDemonitor:
            let ref = node.ref
            if process.pointee.monitoredBy.remove(ref: ref) != nil {
                process.publishRelations()
            }
            Nodes.release(node)
        case NodeKind.sigDown:
            let ref = node.ref
            guard process.pointee.monitors.remove(ref: ref) != nil else {
                return Nodes.release(node)  // demonitored: OTP-28
            }
            process.publishRelations()
            if dying { return Nodes.release(node) }
            node.pointee.kind = NodeKind.down
            process.arriveConverted(node)
            process.appendMail(node)
        case NodeKind.sigTimeout:
            process.pointee.extras?.fields.timeoutInFlight = false
            Nodes.release(node)
        case NodeKind.sigCall:
            // The caller waits on a monitor of this process (OTP-54).
            process.pointee.monitoredBy.insert(MonitorEntry(ref: node.ref, pid: 0))
            process.publishRelations()
            if dying { return process.discard(node) }
            node.pointee.kind = NodeKind.call
            process.appendMail(node)
        case NodeKind.sigTimer:
            if dying { return discardUndelivered(node, of: process) }
            node.pointee.kind = NodeKind.message
            process.appendMail(node)
        case NodeKind.socketData...NodeKind.socketWritable:
            if dying { return discardUndelivered(node, of: process) }
            process.arriveConverted(node)
            process.appendMail(node)
        case NodeKind.sigRelations:
            if dying {
                engine.waiters.fail(node.ref, code: Code.noProcess)
            } else {
                let answer = ProcessRelations(of: process).encoded()
                answer.withUnsafeBytes { _ = engine.waiters.reply(node.ref, data: $0) }
            }
            Nodes.release(node)
        case NodeKind.sigReply:
            process.pointee.pendingCalls.remove(node.ref)
            if dying { return Nodes.release(node) }
            node.pointee.kind = NodeKind.reply
            process.arriveConverted(node)
            process.appendMail(node)
        default:
            Nodes.release(node)
        }
    }

    /// A message that reached a dying process: a dead letter.
    private func discardUndelivered(_ node: NodePointer, of process: ProcessPointer) {
        engine.deadLetters.add(1, ordering: .relaxed)
        process.discard(node)
    }

    /// OTP-21: what an exit signal does to its receiver.
    private func applyExitSignal(_ node: NodePointer, to process: ProcessPointer) {
        defer { process.publishRelations() }
        if process.pointee.dying { return Nodes.release(node) }
        let from = node.pointee.from
        let reason = node.pointee.reason
        let viaLink = node.aux & ExitFlags.viaLink != 0
        let untrappable = node.aux & ExitFlags.untrappable != 0
        if viaLink {
            // 21a: a link already removed (unlink) drops the signal.
            guard process.pointee.links.remove(from) else { return Nodes.release(node) }
        }
        if untrappable {
            die(process, reason: reason, detail: [])
            return Nodes.release(node)
        }
        if !viaLink && reason == Reason.kill {
            die(process, reason: Reason.killed, detail: [])  // 21e: untrappable, becomes killed
            return Nodes.release(node)
        }
        if process.pointee.trapExit {
            node.pointee.kind = NodeKind.exit  // 21b,c,d,f,g,h with trap_exit
            process.arriveConverted(node)
            process.appendMail(node)
            return
        }
        if reason == Reason.normal {
            if !viaLink && from == process.pointee.ownPid {
                die(process, reason: Reason.normal, detail: [])  // 21d: exit(self(), normal)
            }
            return Nodes.release(node)  // 21b, 21c
        }
        die(process, reason: reason, detail: Array(Nodes.bytes(node)))  // 21f, g, h
        Nodes.release(node)
    }

    // MARK: Incarnations

    private func startIncarnation(_ process: ProcessPointer, _ node: NodePointer, _ context: ContextPointer) {
        let parameters = Nodes.payload(node).loadUnaligned(as: Engine.InitParameters.self)
        let pid = node.pointee.target
        Nodes.release(node)
        process.pointee.ownPid = pid
        process.pointee.handle = parameters.behavior.handle
        process.pointee.terminate = parameters.behavior.terminate
        process.pointee.state = parameters.arg
        process.pointee.trapExit = parameters.flags & UInt32(SWERL_SPAWN_TRAP_EXIT) != 0
        process.pointee.initialized = false
        process.pointee.dying = false
        process.pointee.ignoredStart = false
        process.pointee.crashed = false
        process.pointee.supervised = parameters.flags & Engine.InitParameters.supervisedChild != 0
        process.pointee.extras = nil
        process.pointee.handled = 0
        if parameters.flags & UInt32(SWERL_SPAWN_LINK) != 0 {
            process.pointee.links.insert(parameters.parent)  // OTP-3: linked from birth
        }
        if parameters.flags & UInt32(SWERL_SPAWN_MONITOR) != 0 {
            // OTP-4: monitored from birth, so a DOWN carries the real reason.
            process.pointee.monitoredBy.insert(MonitorEntry(ref: parameters.monitorRef, pid: parameters.parent))
        }
        process.publishRelations()
        guard let initialize = parameters.behavior.`init` else {
            process.pointee.initialized = true
            return
        }
        var state = parameters.arg
        let token = callbackToken(context)
        let outer = beginUserCode()
        let result = initialize(token, parameters.arg, &state)
        endUserCode(outer)
        process.pointee.state = state
        if result == SWERL_IGNORE {
            process.pointee.ignoredStart = true
            die(process, reason: Reason.normal, detail: [])
            return
        }
        if result != 0 {
            process.pointee.crashed = true
            die(process, reason: process.pointee.failReason ?? Reason.error, detail: process.pointee.failDetail)
            return
        }
        process.pointee.initialized = true
        if let request = process.pointee.timeoutRequest { armReceiveTimeout(process, request) }
    }

    func die(_ process: ProcessPointer, reason: Int32, detail: [UInt8]) {
        guard !process.pointee.dying else { return }
        process.pointee.dying = true
        process.pointee.exitReason = reason
        process.pointee.exitDetail = detail
    }

    // MARK: Handling messages

    func offer(_ node: NodePointer, to process: ProcessPointer, _ context: ContextPointer) {
        var message = Nodes.message(node)
        process.pointee.extras?.fields.timeoutRequest = nil
        process.pointee.offering = node
        process.depart(node)  // being handled is not waiting
        let token = callbackToken(context)
        let outer = beginUserCode()
        let result = process.pointee.handle!(token, &message, process.pointee.state)
        endUserCode(outer)
        process.pointee.offering = nil
        process.pointee.handled &+= 1
        if result == SWERL_SKIP {
            process.returnToWaiting(node)
            process.pointee.offerAfter = node  // OTP-11: it keeps its place
            if let request = process.pointee.timeoutRequest { armReceiveTimeout(process, request) }
            return
        }
        process.unlinkMail(node, previous: process.pointee.offerAfter)
        Nodes.release(node)
        process.pointee.offerAfter = nil  // the next offer starts from the oldest
        concludeCallback(process, result: result)
    }

    /// After a callback that accepted something: the receive timeout and the
    /// handler's verdict.
    @inline(__always)
    func concludeCallback(_ process: ProcessPointer, result: Int32) {
        if let request = process.pointee.timeoutRequest {
            armReceiveTimeout(process, request)
        } else {
            process.pointee.extras?.fields.timeoutArmed = false
        }
        if result == SWERL_CONTINUE || result == SWERL_SKIP { return }
        concludeExit(process, result: result)
    }

    private func concludeExit(_ process: ProcessPointer, result: Int32) {
        process.pointee.crashed = true  // its own doing: a crash report if abnormal
        if result == SWERL_STOP {
            die(process, reason: process.pointee.failReason ?? Reason.normal, detail: process.pointee.failDetail)
        } else if result < 0 {
            die(process, reason: process.pointee.failReason ?? Reason.error, detail: process.pointee.failDetail)
        } else {
            die(process, reason: Reason.error, detail: Array("handler returned \(result)".utf8))
        }
    }

    // MARK: Receive timeout (OTP-13)

    func armReceiveTimeout(_ process: ProcessPointer, _ millis: UInt32) {
        process.pointee.timeoutRequest = nil
        if millis == SWERL_INFINITY {
            process.pointee.timeoutArmed = false
            return
        }
        process.pointee.timeoutArmed = true
        process.pointee.timeoutDeadline = Deadline.after(millis: millis)
    }

    /// A process about to wait with a receive timeout armed: true if it is
    /// due (run again), else make sure a timer entry will wake it.
    private func receiveTimeoutDue(_ process: ProcessPointer) -> Bool {
        guard process.pointee.timeoutArmed else { return false }
        if monotonicNanos() >= process.pointee.timeoutDeadline { return true }
        if !process.pointee.timeoutInFlight {
            process.pointee.timeoutInFlight = true
            addTimer(TimerEntry(deadline: process.pointee.timeoutDeadline, kind: .receiveTimeout,
                                id: process.pointee.ownPid))
        }
        return false
    }

    /// At the point where the process would wait: deliver TIMEOUT if due,
    /// else make sure one timer entry will wake it. true: TIMEOUT delivered.
    private func checkReceiveTimeout(_ process: ProcessPointer, _ context: ContextPointer) -> Bool {
        guard receiveTimeoutFires(process) else { return false }
        var message = swerl_message(kind: UInt32(SWERL_TIMEOUT), reason: 0, from: 0, ref: 0, data: nil, len: 0, flags: 0)
        let token = callbackToken(context)
        let outer = beginUserCode()
        let result = process.pointee.handle!(token, &message, process.pointee.state)
        endUserCode(outer)
        process.pointee.handled &+= 1
        concludeCallback(process, result: result)
        return true
    }

    /// Whether the receive timeout is due now (then it is consumed: the
    /// caller delivers TIMEOUT); if it is armed but not due, makes sure one
    /// timer entry will wake the process.
    func receiveTimeoutFires(_ process: ProcessPointer) -> Bool {
        guard process.pointee.timeoutArmed else { return false }
        if monotonicNanos() >= process.pointee.timeoutDeadline {
            process.pointee.timeoutArmed = false
            process.pointee.offerAfter = nil  // the timeout ends the receive: next offer from the oldest
            process.pointee.timeoutRequest = nil
            return true
        }
        if !process.pointee.timeoutInFlight {
            process.pointee.timeoutInFlight = true
            addTimer(TimerEntry(deadline: process.pointee.timeoutDeadline, kind: .receiveTimeout,
                                id: process.pointee.ownPid))
        }
        return false
    }

    // MARK: Exit

    /// The process is done: terminate callback, then it becomes unreachable,
    /// its name goes (before anyone is told, OTP-10), and its links,
    /// monitors, timers and calls are settled. The block returns to the free
    /// list last; this turn keeps the scheduling token until it gives it back.
    func finishExit(_ process: ProcessPointer, _ context: ContextPointer) {
        let pid = process.pointee.ownPid
        let reason = process.pointee.exitReason
        let detail = process.pointee.exitDetail
        process.pointee.infoStatus.store(UInt32(SWERL_STATUS_EXITING), ordering: .relaxed)
        if process.pointee.initialized, let terminate = process.pointee.terminate {
            let token = callbackToken(context)
            let outer = beginUserCode()
            terminate(token, reason, process.pointee.state)
            endUserCode(outer)
        }
        // A guaranteed reference: the runtime's registry, timer table and
        // waiters are then borrowed, not retained and released for each call
        // (six pairs an exit, on objects every scheduler's exits share).
        Unmanaged.passUnretained(engine)._withUnsafeGuaranteedRef { engine in
            if process.pointee.crashed && !process.pointee.supervised && Reason.isAbnormal(reason) {
                engine.crashReports.report(pid: pid, reason: reason, detail: detail)
            }
            // sequentiallyConsistent: pairs with the registry's and the timer
            // table's counters (see Registry.releaseName, TimerTable).
            process.pointee.pidWord.store(pid | Pids.deadBit, ordering: .sequentiallyConsistent)
            engine.registry.releaseName(of: pid)
            engine.timerTable.cancelAll(of: pid)
            // Calls and monitors live in the extras: most processes have none.
            let extras = process.pointee.extras
            extras?.fields.pendingCalls.forEach { engine.waiters.abandon($0) }
            engine.closeSockets(ownedBy: pid)

            detail.withUnsafeBytes { detailBytes in
                process.pointee.links.forEach { partner in
                    engine.signal(NodeKind.sigExit, to: partner, from: pid, aux: ExitFlags.viaLink, reason: reason,
                                  detail: detailBytes)
                }
                if let extras {
                    for watcher in extras.fields.monitoredBy {
                        if watcher.pid != 0 {
                            engine.signal(NodeKind.sigDown, to: watcher.pid, from: pid, ref: watcher.ref,
                                          reason: reason, detail: detailBytes)
                        } else {
                            engine.waiters.down(watcher.ref, reason: reason, detail: detailBytes)
                        }
                    }
                }
            }
            if let extras {
                for monitor in extras.fields.monitors {
                    engine.signal(NodeKind.sigDemonitor, to: monitor.pid, from: pid, ref: monitor.ref)  // OTP-29
                }
            }
            let undelivered = process.releaseAllMail()
            if undelivered > 0 { engine.deadLetters.add(UInt64(undelivered), ordering: .relaxed) }
            process.pointee.links.removeAll()
            process.pointee.extras = nil  // monitors, calls, fail reason, timeout, exit detail
            process.pointee.state = nil
            process.pointee.handle = nil
            process.pointee.terminate = nil
            process.pointee.ownPid = 0
            // Whoever holds a dead block's token bounces what reaches it; a late
            // send that takes the token schedules the block at its home, which
            // must be a scheduler: a turn group's thread may never come back.
            if !ProcessBlock.isSchedulerHome(process.pointee.lastScheduler.load(ordering: .relaxed)) {
                process.pointee.lastScheduler.store(0, ordering: .relaxed)
            }
            process.pointee.dying = false
            process.pointee.initialized = false
            process.publishRelations()
            engine.exited.add(1, ordering: .relaxed)
            engine.table.live.subtract(1, ordering: .releasing)
            engine.table.releaseSlot(process.pointee.slot)
        }
    }
}

extension Engine {
    /// A signal reached a block whose addressee is gone. Answer as the dead
    /// would in Erlang: a link gets an exit signal `noproc`, a monitor or a
    /// call a `noproc` DOWN; a user message is a dead letter.
    func bounce(_ node: NodePointer) {
        let deadPid = node.pointee.target
        switch node.pointee.kind {
        case NodeKind.message:
            deadLetters.add(1, ordering: .relaxed)
        case NodeKind.sigLink:
            signal(NodeKind.sigExit, to: node.pointee.from, from: deadPid, aux: ExitFlags.viaLink, reason: Reason.noproc)
        case NodeKind.sigMonitor:
            if node.aux != 0 {
                signal(NodeKind.sigDown, to: node.aux, from: deadPid, ref: node.ref, reason: Reason.noproc)
            } else {
                waiters.down(node.ref, reason: Reason.noproc, detail: UnsafeRawBufferPointer(start: nil, count: 0))
            }
        case NodeKind.sigCall, NodeKind.sigRelations:
            waiters.fail(node.ref, code: Code.noProcess)
        default:
            break
        }
        Nodes.release(node)
    }
}
