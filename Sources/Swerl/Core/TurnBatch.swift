// A turn handed out as a batch (swerl_group_take): the messages a turn
// would offer to the handler one by one, given to a turn group's thread at
// once; the thread handles them and hands back, per message, what the
// handler would have returned. Then the turn ends exactly as the
// scheduler's would have after the same answers, in the same order.
//
// What makes it the same turn: the batch is the run of messages the
// scheduler would offer next without looking at the inbound queue again
// (it drains only when offers run out, so signals that arrive meanwhile
// wait in both cases); the messages stay in the mailbox, marked `batched`
// (nothing removes them) until the finish applies each answer in order
// (SKIP keeps its place, anything else leaves); the driving thread says
// which message it handles (`current`), so what a handler asks during the
// batch applies to its own message: its receive timeout, and a demonitor
// flush of a DOWN further on in the batch (withdrawn: the thread skips it)
// or one it skipped (removed after all).

import CSwerl
import CSwerlSupport
import Glibc
import Synchronization

final class TurnBatch: @unchecked Sendable {
    static let maxMessages = 1024

    let turn: UnsafeMutablePointer<swerl_turn>
    let messages: UnsafeMutablePointer<swerl_message>
    let results: UnsafeMutablePointer<Int32>
    private let nodes: UnsafeMutablePointer<NodePointer?>
    /// The receive timeout each message's handler asked for (-1: none).
    private let requests: UnsafeMutablePointer<Int64>
    /// Removed by a demonitor flush while the batch was out.
    private let removed: UnsafeMutablePointer<Bool>

    private(set) var process: ProcessPointer? = nil
    private var context: ContextPointer? = nil
    private var count = 0
    private var holder = pthread_t()
    private var saved = TurnGroup.Borrowed()

    init() {
        let capacity = Self.maxMessages
        turn = .allocate(capacity: 1)
        turn.initialize(to: swerl_turn())
        messages = .allocate(capacity: capacity)
        messages.initialize(repeating: swerl_message(), count: capacity)
        results = .allocate(capacity: capacity)
        results.initialize(repeating: 0, count: capacity)
        nodes = .allocate(capacity: capacity)
        nodes.initialize(repeating: nil, count: capacity)
        requests = .allocate(capacity: capacity)
        requests.initialize(repeating: -1, count: capacity)
        removed = .allocate(capacity: capacity)
        removed.initialize(repeating: false, count: capacity)
    }

    deinit {
        turn.deallocate()
        messages.deallocate()
        results.deallocate()
        nodes.deallocate()
        requests.deallocate()
        removed.deallocate()
    }

    /// The library drives it with the handle callback (batch minimum):
    /// the thread's own calls must not finish or suspend it meanwhile.
    private(set) var drivenHere = false

    /// Whether the calling thread holds this batch (and may finish it).
    var heldByCaller: Bool {
        process != nil && !suspended && !drivenHere && pthread_equal(holder, pthread_self()) != 0
    }

    /// The index of the message being handled (as the driving thread says).
    private var current: Int { min(Int(turn.pointee.current), max(count - 1, 0)) }

    // MARK: Filling (the driving thread, in Worker.openBatch)

    fileprivate func add(_ node: NodePointer?, kind: UInt32) {
        let slot = count
        nodes[slot] = node
        requests[slot] = -1
        removed[slot] = false
        results[slot] = 0
        if let node {
            messages[slot] = Nodes.message(node)
        } else {
            messages[slot] = swerl_message(kind: kind, reason: 0, from: 0, ref: 0, data: nil, len: 0, flags: 0)
        }
        count += 1
    }

    var filled: Int { count }

    fileprivate func open(_ process: ProcessPointer, _ context: ContextPointer, token: OpaquePointer,
                          saved: TurnGroup.Borrowed) {
        self.process = process
        self.context = context
        self.saved = saved
        holder = pthread_self()
        context.pointee.batch = Unmanaged.passUnretained(self)
        turn.pointee = swerl_turn(ctx: token, state: process.pointee.state, pid: process.pointee.ownPid,
                                  messages: UnsafePointer(messages), results: results, count: UInt32(count),
                                  current: 0)
    }

    // MARK: Suspended (swerl_turn_suspend / _resume)

    /// Whether the turn is held but not on any thread now.
    private(set) var suspended = false

    /// The holding thread lets go of the batch for a while (an async
    /// handler awaits): its context and thread state are given back, the
    /// process stays in its turn. Returns the process (to stop watching it).
    fileprivate func suspend() {
        guard let context else { return }
        swerlrt_set_ctx(context.pointee.previous)
        swerlrt_set_token(context.pointee.previousToken)
        swerlrt_set_worker(saved.worker)
        swerlrt_set_pool(saved.pool)
        suspended = true
        holder = pthread_t()
    }

    /// The calling thread takes the suspended batch back.
    fileprivate func resume(worker: Worker, pool: UnsafeMutablePointer<UInt>) {
        guard let context else { return }
        saved = TurnGroup.Borrowed(worker: swerlrt_get_worker(), pool: swerlrt_get_pool())
        swerlrt_set_worker(Unmanaged.passUnretained(worker).toOpaque())
        swerlrt_set_pool(UnsafeMutableRawPointer(pool))
        context.pointee.previous = swerlrt_get_ctx()
        context.pointee.previousToken = swerlrt_get_token()
        swerlrt_set_ctx(UnsafeMutableRawPointer(context))
        swerlrt_set_token(UInt(bitPattern: turn.pointee.ctx))
        suspended = false
        holder = pthread_self()
    }

    // MARK: While it is out (the driving thread's ctx calls)

    func requestTimeout(_ millis: UInt32) {
        guard count > 0 else { return }
        requests[current] = Int64(millis)
    }

    /// A demonitor flush of `ref`: the DOWN for it, if in the batch and not
    /// being or already handled, is removed. true: found here.
    func withdrawDown(_ ref: UInt64) -> Bool {
        let now = current
        for slot in 0..<count {
            guard let node = nodes[slot], !removed[slot], node.pointee.kind == NodeKind.down,
                  node.ref == ref else { continue }
            if slot > now {
                messages[slot].flags |= UInt32(SWERL_MESSAGE_WITHDRAWN)
            } else if slot == now || results[slot] != SWERL_SKIP {
                continue  // being handled, or taken already
            }
            removed[slot] = true
            return true
        }
        return false
    }

    /// Drives the batch as a thread would, calling the process's handle
    /// for each message (the rules of swerl_turn); returns how many it handled.
    fileprivate func handleWithCallbacks() -> Int {
        guard let process, let handle = process.pointee.handle else { return 0 }
        drivenHere = true
        defer { drivenHere = false }
        let token = turn.pointee.ctx
        let state = process.pointee.state
        var skipped = false
        for slot in 0..<count {
            turn.pointee.current = UInt32(slot)
            if messages[slot].flags & UInt32(SWERL_MESSAGE_WITHDRAWN) != 0 { continue }
            let result = handle(token, messages + slot, state)
            results[slot] = result
            if result == SWERL_SKIP {
                skipped = true
            } else if result != SWERL_CONTINUE || skipped {
                return slot + 1
            }
        }
        return count
    }

    // MARK: Finishing

    /// The batch's process and context, handed back by `close`.
    fileprivate func close() -> (ProcessPointer, ContextPointer, Int, TurnGroup.Borrowed) {
        let taken = (process!, context!, count, saved)
        process = nil
        context = nil
        return taken
    }

    fileprivate func node(_ slot: Int) -> NodePointer? { nodes[slot] }

    /// The binary one of this batch's messages carries, if its bytes start
    /// at `data` (SharedBinaries.carried).
    func sharedBinary(at data: UnsafeRawPointer) -> SharedBinaryPointer? {
        for slot in 0..<count {
            if let node = nodes[slot], let binary = SharedBinaries.binary(of: node, at: data) { return binary }
        }
        return nil
    }
    fileprivate func wasRemoved(_ slot: Int) -> Bool { removed[slot] }
    fileprivate func request(_ slot: Int) -> UInt32? { requests[slot] >= 0 ? UInt32(requests[slot]) : nil }
    fileprivate func reset() {
        for slot in 0..<count { nodes[slot] = nil }
        count = 0
    }
}

extension TurnGroup {
    /// swerl_group_take.
    func takeBatch(maxMessages: Int, timeoutMillis: UInt32) -> (Int32, UnsafeMutablePointer<swerl_turn>?) {
        // No clock read for a poll (timeout 0): the common call of a busy driver.
        let deadline: UInt64? = timeoutMillis == SWERL_INFINITY ? nil : timeoutMillis == 0 ? 0
            : monotonicNanos() &+ UInt64(timeoutMillis) * 1_000_000
        var wait = timeoutMillis
        while true {
            switch take(timeoutMillis: wait) {
            case .process(let process, let driver):
                let saved = beginDriving(driver)
                if driver.worker.openBatch(process, driver.batch, maxMessages: maxMessages, saved: saved) {
                    if driver.batch.filled >= Int(batchMinimum.load(ordering: .relaxed)) {
                        return (1, driver.batch.turn)
                    }
                    // Fewer messages than the thread wants a batch for: the
                    // library drives it here, with the behaviour's handle.
                    let handled = driver.batch.handleWithCallbacks()
                    _ = driver.worker.closeBatch(driver.batch, handled: handled)
                }
                endDriving(driver, saved)
                release(driver, goingOn: true)
                if let deadline, wait > 0 {
                    let now = monotonicNanos()
                    wait = now >= deadline ? 0 : UInt32(min((deadline - now) / 1_000_000, UInt64(UInt32.max - 1)))
                }
            case .nothing:
                return (0, nil)
            case .stopped:
                return (Code.stopped, nil)
            }
        }
    }

    /// swerl_group_finish.
    func finishBatch(_ driver: GroupDriver, _ turn: UnsafeMutablePointer<swerl_turn>, handled: UInt32,
                     goingOn: Bool) -> Int32 {
        let batch = driver.batch
        guard turn == batch.turn, batch.heldByCaller else {
            return ErrorDetail.failing(Code.invalid, "swerl_group_finish: not the batch this thread holds (a batch "
                + "is finished once, by the thread that took it)")
        }
        guard handled <= turn.pointee.count else {
            return ErrorDetail.failing(Code.invalid, "swerl_group_finish: handled is \(handled), but the batch has "
                + "\(turn.pointee.count) messages")
        }
        let saved = driver.worker.closeBatch(batch, handled: Int(handled))
        endDriving(driver, saved)
        release(driver, goingOn: goingOn)
        return Code.ok
    }
}

extension TurnGroup {
    /// swerl_turn_suspend.
    func suspendBatch(_ driver: GroupDriver) {
        driver.worker.runningPid.store(0, ordering: .relaxed)  // not in a turn on a thread now
        driver.batch.suspend()
        letGo(driver)
    }

    /// swerl_turn_resume.
    func resumeBatch(_ driver: GroupDriver) {
        hold(driver)
        driver.batch.resume(worker: driver.worker, pool: driver.pool)
        driver.worker.adoptCallingThread()
        driver.worker.runningPid.store(driver.batch.turn.pointee.pid, ordering: .relaxed)
    }
}

extension Worker {
    /// Begins `process`'s turn as a batch: true if it has messages to hand
    /// out; false if the turn ended without any (it only took signals, or
    /// exited).
    func openBatch(_ process: ProcessPointer, _ batch: TurnBatch, maxMessages: Int,
                   saved: TurnGroup.Borrowed) -> Bool {
        turns.store(turns.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        runningPid.store(process.pointee.pidWord.load(ordering: .relaxed) & ~Pids.deadBit, ordering: .relaxed)
        wakeTurnMonitor()
        let context = enterContext(process)
        process.pointee.infoStatus.store(UInt32(SWERL_STATUS_RUNNING), ordering: .relaxed)
        drain(process, context)
        while batch.filled == 0 && !process.pointee.dying && process.pointee.ownPid != 0 {
            guard var node = process.nextOffer() else {
                if InboundQueue.hasNodes(process.pointee.inbound) {
                    drain(process, context)
                    continue
                }
                if receiveTimeoutFires(process) { batch.add(nil, kind: UInt32(SWERL_TIMEOUT)) }
                break
            }
            // Signals that come meanwhile wait for the next drain, as in a
            // scheduler turn: the run of messages offered next is all here.
            while true {
                node.pointee.batched = true
                process.depart(node)
                batch.add(node, kind: node.pointee.kind)
                guard batch.filled < maxMessages,
                      let next = NodePointer(bitPattern: node.pointee.link.load(ordering: .relaxed)) else { break }
                node = next
            }
        }
        guard batch.filled > 0 else {
            endTurn(process, context)
            return false
        }
        if process.pointee.extras != nil { process.pointee.timeoutRequest = nil }
        batch.open(process, context, token: callbackToken(context), saved: saved)
        return true
    }

    /// Applies the driving thread's answers to the batch's messages, in
    /// order, as the scheduler applies a handler's; ends the turn. Returns
    /// the thread state to give back.
    func closeBatch(_ batch: TurnBatch, handled: Int) -> TurnGroup.Borrowed {
        let (process, context, count, saved) = batch.close()
        context.pointee.batch = nil
        // The node before the next one in the mailbox (unlinkMail keeps
        // offerAfter right if a flush removed it meanwhile).
        var previous = process.pointee.offerAfter
        for slot in 0..<count {
            let node = batch.node(slot)
            node?.pointee.batched = false
            if batch.wasRemoved(slot) {
                if let node {
                    process.unlinkMail(node, previous: previous)
                    Nodes.release(node)  // it departed when handed out
                }
                continue
            }
            guard slot < handled && !process.pointee.dying else {
                if let node {
                    process.returnToWaiting(node)
                    previous = node
                }
                continue
            }
            process.pointee.handled &+= 1
            let result = batch.results[slot]
            let request = batch.request(slot)
            if let request {
                process.pointee.timeoutRequest = request
            } else if process.pointee.extras != nil {
                process.pointee.timeoutRequest = nil
            }
            guard let node else {
                concludeCallback(process, result: result)  // TIMEOUT
                continue
            }
            if result == SWERL_SKIP {
                process.returnToWaiting(node)
                process.pointee.offerAfter = node  // OTP-11: it keeps its place
                previous = node
                if let request { armReceiveTimeout(process, request) }
                continue
            }
            process.unlinkMail(node, previous: previous)
            Nodes.release(node)
            process.pointee.offerAfter = nil  // the next offer starts from the oldest
            concludeCallback(process, result: result)
        }
        batch.reset()
        endTurn(process, context)
        return saved
    }

    /// A group turn began (its pid published): an idle turn monitor must
    /// watch it. The fence pairs with the monitor's before it goes idle
    /// (Dekker: it publishes idleness, then looks at runningPid again).
    @inline(__always)
    func wakeTurnMonitor() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        engine.turnMonitor.schedulerWokeUp()
    }

    /// The end of a group turn: exit if dying, give the token back.
    private func endTurn(_ process: ProcessPointer, _ context: ContextPointer) {
        if process.pointee.dying { finishExit(process, context) }
        leaveContext(context)
        releaseToken(process)
        runningPid.store(0, ordering: .relaxed)
    }
}
