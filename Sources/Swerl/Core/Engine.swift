// The runtime: schedulers, the pid table, names, timers and pending calls,
// and the operations every front end (C, Swift) is built on.
//
// Operations return 0 or a negative SWERL_E* code (Int32) so the C exports
// can pass them straight through; the Swift API turns them into errors.

import CLibUV
import CSwerl
import CSwerlSupport
import Glibc
import Synchronization

package final class Engine: @unchecked Sendable {
    enum State: Int { case running = 0, stopping = 1, stopped = 2 }

    let config: swerl_config
    let maxMessageSize: Int
    let table: ProcessTable
    /// This runtime's pid tag (see Pids): its pids are unknown elsewhere.
    let tag: UInt64
    private(set) var schedulers: [Scheduler] = []
    /// Every thread that runs turns, started and not yet joined.
    let workers = Lock<[Worker]>([])
    private let nextWorkerId = Atomic<UInt>(1)
    /// Whether membarrier(2) is there (see Worker: the asymmetric fence).
    let asymmetricFence = swerlrt_asymmetric_fence_init() == 1
    private(set) var turnMonitor: TurnMonitor! = nil
    private(set) var blockingPool: BlockingPool! = nil
    /// Turn groups: processes whose turns threads of the program run.
    let groups = TurnGroups()
    let crashReports = CrashReports()
    /// Spare message nodes the schedulers' pools share (NodePool).
    let nodeDepot = NodeDepot()
    let registry = Registry()
    let timerTable = TimerTable()
    let waiters = Waiters()
    /// Sockets (Net/): their slots and owners; each lives on a scheduler's loop.
    let sockets: SocketTable
    /// Pids of other nodes this runtime has met (Dist/RemotePids).
    let remotePids: RemotePids
    /// Set once, when the runtime becomes a node (swerl_node_start).
    let distribution = AtomicLazyReference<DistNode>()
    /// Supervisors' reports, for listeners (SupervisorEvents.swift).
    let supervisorEvents = SupervisorEvents()
    /// The observer page being served, if any (swerl_observer_start).
    let observer = Lock<Observer?>(nil)
    /// The driver of the Swift API's async processes, made on first use.
    let asyncTurns = AtomicLazyReference<AsyncTurns>()

    let state = Atomic<Int>(State.running.rawValue)
    let schedulersShouldExit = Atomic<Bool>(false)
    private let nextRef = Atomic<UInt64>(1)
    let roundRobin = Atomic<Int>(0)
    let stopLock = Lock<Bool>(false)

    // Counters (see swerl_stats).
    let spawned = Atomic<UInt64>(0)
    let exited = Atomic<UInt64>(0)
    let foreignSent = Atomic<UInt64>(0)
    let deadLetters = Atomic<UInt64>(0)
    let messagesDropped = Atomic<UInt64>(0)
    /// Sends refused by a bounded mailbox (EFULL); the ceiling counts its own.
    let mailboxRefusals = Atomic<UInt64>(0)
    /// The memory ceiling (swerl_runtime_set_max_memory).
    let memoryBudget: MemoryBudget
    let restarts = Atomic<UInt64>(0)
    let escalations = Atomic<UInt64>(0)
    /// Supervisors started with swerl_supervisor_start: stopped first.
    let rootSupervisors = Lock<Set<UInt64>>([])
    let logCallback: (@convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, Int) -> Void)?
    let logUser: UnsafeMutableRawPointer?

    static let defaultMaxProcesses = 4_194_304
    static let defaultMaxMessageSize = 64 << 20

    package init(config: swerl_config) {
        self.config = config
        // A 1.0 caller's config has no log hook: StructSizes.read left it nil.
        logCallback = config.on_log
        logUser = config.log_user
        let capacity = config.max_processes == 0 ? Self.defaultMaxProcesses : Int(config.max_processes)
        table = ProcessTable(capacity: capacity)
        maxMessageSize = config.max_message_size == 0 ? Self.defaultMaxMessageSize
            : config.max_message_size > UInt64(Int.max) ? Int.max : Int(config.max_message_size)
        var count = Int(config.schedulers)
        if count == 0 { count = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
        memoryBudget = MemoryBudget(schedulers: count)
        tag = Pids.takeTag()
        sockets = SocketTable(tag: tag)
        remotePids = RemotePids(tag: tag)
        schedulers = []
        waiters.engine = self
        crashReports.engine = self
        schedulers = (0..<count).map { Scheduler(index: $0, engine: self) }
        turnMonitor = TurnMonitor(engine: self)
        blockingPool = BlockingPool(engine: self)
    }

    /// Validates a configuration: 0 or an error code.
    package static func validate(_ config: swerl_config) -> Int32 {
        if Int(config.max_processes) > Pids.maxSlots {
            return ErrorDetail.failing(Code.invalid, "swerl_runtime_start: max_processes \(config.max_processes) is "
                + "above \(Pids.maxSlots)")
        }
        if config.schedulers > 1024 {
            return ErrorDetail.failing(Code.invalid, "swerl_runtime_start: \(config.schedulers) schedulers: at most 1024")
        }
        return Code.ok
    }

    package func start() {
        for scheduler in schedulers {
            let worker = makeWorker(kind: .scheduler, holding: scheduler)
            scheduler.owner = worker
        }
        for worker in workers.withLock({ $0 }) { worker.start() }
        turnMonitor.start()
    }

    deinit {
        table.destroy()
        Pids.returnTag(tag)
    }

    /// A unique worker id (the high bits of ctx tokens).
    func nextWorkerIdentifier() -> UInt {
        nextWorkerId.add(1, ordering: .relaxed).oldValue
    }

    /// Every worker that may hold counts: the threads', and the groups'.
    var countingWorkers: [Worker] {
        workers.withLock { $0 } + groups.all.flatMap(\.workers)
    }

    /// A worker, listed so that stop joins it; the caller starts it.
    func makeWorker(kind: Worker.Kind, holding scheduler: Scheduler?) -> Worker {
        let id = nextWorkerId.add(1, ordering: .relaxed).oldValue
        let worker = Worker(engine: self, kind: kind, id: id, holding: scheduler)
        workers.withLock { $0.append(worker) }
        return worker
    }

    /// A worker's thread is ending: what it counted and the credit it held
    /// go back to the runtime.
    func retire(_ worker: Worker) {
        foreignSent.add(worker.messagesSent.exchange(0, ordering: .relaxed), ordering: .relaxed)
        let credit = worker.memoryCredit.exchange(0, ordering: .relaxed)
        if credit > 0 { memoryBudget.refund(credit, on: nil) }
    }

    /// Joins the threads of workers that have ended on their own (spares
    /// and blocking threads with no more work), so the list stays short.
    func reapFinishedWorkers() {
        let finished = workers.withLock { list -> [Worker] in
            // One look at each flag: a worker that finishes between two
            // looks would leave the list without being joined.
            var done: [Worker] = []
            list.removeAll { worker in
                guard worker.finished.load(ordering: .acquiring) else { return false }
                done.append(worker)
                return true
            }
            return done
        }
        for worker in finished { worker.join() }
    }

    package var isStopped: Bool { state.load(ordering: .acquiring) == State.stopped.rawValue }
    var acceptsSpawns: Bool { state.load(ordering: .acquiring) == State.running.rawValue }

    @inline(__always)
    func newRef() -> UInt64 { nextRef.add(1, ordering: .relaxed).oldValue }

    // MARK: Scheduling

    /// Makes a process whose scheduling token the caller took runnable: on
    /// the calling worker's scheduler, else at its home.
    @inline(__always)
    func schedule(_ process: ProcessPointer) {
        if let raw = swerlrt_get_worker(),
           ProcessBlock.isSchedulerHome(process.pointee.lastScheduler.load(ordering: .relaxed)) {
            // Guaranteed reference: no retain/release on this path.
            let placed = Unmanaged<Worker>.fromOpaque(raw)._withUnsafeGuaranteedRef { current -> Bool in
                guard current.engine === self else { return false }
                current.makeRunnable(process)
                return true
            }
            if placed { return }
        }
        pushHome(process)
    }

    /// A settling has begun (NodeDepot.settleIfDrained, by `from` or a group
    /// driver): the pools of the other schedulers, which may sleep, and of
    /// the groups' idle drivers, whose threads may not come back soon, pin
    /// chunks too. The schedulers give theirs back when woken.
    func spreadSettling(from settler: Scheduler?) {
        for other in schedulers where other !== settler { other.wakeUp() }
        for group in groups.all { group.settleIdlePools() }
    }

    /// Makes `process` runnable where it lives: the scheduler that last ran
    /// it, the blocking pool or its turn group (any thread).
    func pushHome(_ process: ProcessPointer) {
        let home = process.pointee.lastScheduler.load(ordering: .relaxed)
        if ProcessBlock.isSchedulerHome(home) { return schedulers[Int(home)].pushRemote(process) }
        if home == ProcessBlock.blockingHome { return blockingPool.push(process) }
        groups.group(at: Int(home & ~ProcessBlock.groupHomeBase))!.push(process)
    }

    /// Pushes a node into a live process's mailbox and schedules it if it
    /// was idle. The node's target must be the pid `process` was found by.
    @inline(__always)
    func deliver(_ node: NodePointer, to process: ProcessPointer) {
        if InboundQueue.push(process.pointee.inbound, UnsafeMutableRawPointer(node)) == InboundQueue.idle {
            schedule(process)
        }
    }

    /// Sends a signal to `to` if it is alive; silently drops it otherwise
    /// (exit and down signals to the dead have nobody to inform).
    /// A remote `to` gets the signal as its control message (DistNode).
    func signal(_ kind: UInt32, to: UInt64, from: UInt64, ref: UInt64 = 0, aux: UInt64 = 0,
                reason: Int32 = 0, detail: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                term: Bool = false) {
        guard let process = table.lookup(to) else {
            if !Pids.isLocal(to), let node = distribution.load() {
                node.signal(kind, to: to, from: from, ref: ref, aux: aux, reason: reason, detail: detail)
            }
            return
        }
        guard let node = Nodes.make(kind: kind, target: to, from: from, ref: ref, aux: aux, reason: reason,
                                    term: term, data: detail.baseAddress, len: detail.count) else { return }
        deliver(node, to: process)
    }

    /// A signal carrying `binary` by reference (a reply to a process of
    /// this runtime: a remote caller waits through a callback, which gets
    /// bytes); dropped, as `signal` drops it, when `to` is not alive.
    func signal(_ kind: UInt32, to: UInt64, from: UInt64, ref: UInt64, binary: SharedBinaryPointer) {
        guard let process = table.lookup(to) else { return }
        guard let node = Nodes.makeShared(kind: kind, target: to, from: from, ref: ref, counted: false, charged: false,
                                          binary: binary) else { return }
        deliver(node, to: process)
    }

    /// One more message sent, from the calling thread (countSend's rule).
    @inline(__always)
    func countSent() { countSend(CallbackContexts.current) }

    /// ETOOBIG, saying which limit and how to raise it.
    func tooBig(_ count: Int) -> Int32 {
        ErrorDetail.failing(Code.tooBig, "a message of \(count) bytes is above this runtime's max_message_size "
            + "(\(maxMessageSize) bytes): raise it when starting the runtime (swerl_config.max_message_size)")
    }

    /// Whether `pid` is one of this runtime's (alive or not): a pid of
    /// another runtime, or a remote one, is a caller's mistake.
    package func owns(_ pid: UInt64) -> Bool { pid != 0 && Pids.isLocal(pid) && Pids.tag(pid) == tag }

    /// ENOPROC; for a pid that could never be alive here, saying why.
    func absent(_ pid: UInt64) -> Int32 {
        if owns(pid) { return Code.noProcess }
        let why = pid == 0 ? "pid 0 is never a process"
            : !Pids.isLocal(pid) ? "\(Pids.format(pid)) is a remote pid, and this runtime is not connected to other nodes"
            : "\(Pids.format(pid)) belongs to another runtime (each runtime's pids are its own)"
        return ErrorDetail.failing(Code.noProcess, why)
    }

    // MARK: Send

    /// swerl_send: a copy of `data` to `to`, from the calling process if any.
    /// `runtimeTraffic`: the runtime's own messages (a supervisor's start
    /// acknowledgement, its retries) are exempt from max_message_size and
    /// the memory ceiling, as signals are: refusing them would hang a start.
    /// `term`: the payload is External Term Format (SWERL_MESSAGE_TERM).
    /// `sender`: who the receiver sees as `from` when it is not the calling
    /// process (the distribution layer delivering for a remote pid).
    @inline(__always)
    package func send(to: UInt64, data: UnsafeRawPointer?, count: Int, runtimeTraffic: Bool = false,
                      term: Bool = false, sender: UInt64? = nil) -> Int32 {
        if count > maxMessageSize && !runtimeTraffic { return tooBig(count) }
        if isStopped { return Code.stopped }
        guard let process = table.lookup(to) else {
            if !Pids.isLocal(to), let node = distribution.load() {
                return node.send(to: to, from: sender ?? CallbackContexts.current.flatMap {
                    $0.engine === self ? $0.pointee.process?.pointee.ownPid : nil } ?? 0,
                                 bytes: UnsafeRawBufferPointer(start: data, count: count), term: term)
            }
            deadLetters.add(1, ordering: .relaxed)
            return absent(to)
        }
        // One look at the calling context serves both the sender's pid and
        // the message counter.
        let context = CallbackContexts.current
        let from = sender ?? context?.pointee.process?.pointee.ownPid ?? 0
        let waiting = process.arrive(count)
        if waiting > 0, waiting > Int(process.pointee.mailboxLimit.load(ordering: .relaxed)) {
            let code = overflow(count, to: to, process)
            if code != Code.ok { return code }
        }
        let charge = runtimeTraffic ? .free : chargeMemory(count)
        if charge == .refused {
            process.unarrive(count)
            return Code.memoryLimit
        }
        guard let node = Nodes.make(kind: NodeKind.message, target: to, from: from, counted: true,
                                    charged: charge == .charged, term: term, data: data, len: count) else {
            process.unarrive(count)
            unchargeMemory(count, charge)
            return Code.noMemory
        }
        deliver(node, to: process)
        countSend(context)
        return Code.ok
    }

    /// A message of `count` inline bytes, counted in, finds `process`'s
    /// bounded mailbox full: its overflow policy says whether it is taken
    /// (Code.ok) or refused (then it is not counted). Out of line: the send
    /// path only tests the limit.
    @inline(never)
    func overflow(_ count: Int, to pid: UInt64, _ process: ProcessPointer) -> Int32 {
        switch process.pointee.overflow.load(ordering: .relaxed) {
        case UInt32(SWERL_OVERFLOW_DROP_OLDEST):
            process.pointee.dropsRequested.wrappingAdd(1, ordering: .relaxed)
            messagesDropped.add(1, ordering: .relaxed)
            return Code.ok
        case UInt32(SWERL_OVERFLOW_KILL):
            process.unarrive(count)
            mailboxRefusals.add(1, ordering: .relaxed)
            signal(NodeKind.sigExit, to: pid, from: 0, aux: ExitFlags.untrappable, reason: Reason.mailboxFull)
            return Code.full
        default:
            process.unarrive(count)
            mailboxRefusals.add(1, ordering: .relaxed)
            return Code.full
        }
    }

    /// One more message sent, on the sending worker's counter (or the
    /// foreign threads' one).
    @inline(__always)
    func countSend(_ context: ContextPointer?) {
        if let worker = context?.pointee.worker {
            worker._withUnsafeGuaranteedRef { $0.countSent() }
        } else {
            foreignSent.add(1, ordering: .relaxed)
        }
    }

    /// swerl_send_binary: `binary` to `to` by reference. The binary is
    /// charged to the ceiling once (SharedBinaries.charge), the message as
    /// one of SharedBinaries.inlineSize bytes.
    package func send(to: UInt64, binary: SharedBinaryPointer) -> Int32 {
        let length = binary.pointee.length
        if length == 0 { return send(to: to, data: nil, count: 0) }
        if length > maxMessageSize { return tooBig(length) }
        if isStopped { return Code.stopped }
        guard let process = table.lookup(to) else {
            return send(to: to, data: SharedBinaries.data(binary), count: length)  // remote, or a dead letter
        }
        let context = CallbackContexts.current
        let from = context?.pointee.process?.pointee.ownPid ?? 0
        let count = SharedBinaries.inlineSize
        let waiting = process.arrive(count)
        if waiting > 0, waiting > Int(process.pointee.mailboxLimit.load(ordering: .relaxed)) {
            let code = overflow(count, to: to, process)
            if code != Code.ok { return code }
        }
        let charge = chargeMemory(count)
        if charge == .refused || !SharedBinaries.charge(binary, to: self) {
            process.unarrive(count)
            unchargeMemory(count, charge)
            return Code.memoryLimit
        }
        guard let node = Nodes.makeShared(target: to, from: from, counted: true, charged: charge == .charged,
                                          binary: binary) else {
            process.unarrive(count)
            unchargeMemory(count, charge)
            return Code.noMemory
        }
        deliver(node, to: process)
        countSend(context)
        return Code.ok
    }

    /// swerl_exit (exit/2): an exit signal with the link flag not set.
    package func exit(_ pid: UInt64, reason: Int32, detail: UnsafeRawBufferPointer) -> Int32 {
        if detail.count > maxMessageSize { return tooBig(detail.count) }
        if isStopped { return Code.stopped }
        let from = CallbackContexts.current.flatMap { $0.engine === self ? $0.pointee.process?.pointee.ownPid : nil } ?? 0
        guard let process = table.lookup(pid) else {
            if !Pids.isLocal(pid), let node = distribution.load(), remotePids.entry(pid) != nil {
                node.signal(NodeKind.sigExit, to: pid, from: from, ref: 0, aux: 0, reason: reason, detail: detail)
                return Code.ok
            }
            return absent(pid)
        }
        guard let node = Nodes.make(kind: NodeKind.sigExit, target: pid, from: from, reason: reason,
                                    data: detail.baseAddress, len: detail.count) else { return Code.noMemory }
        deliver(node, to: process)
        return Code.ok
    }

    // MARK: Spawn

    struct InitParameters {
        var behavior: swerl_behavior
        var arg: UnsafeMutableRawPointer?
        var flags: UInt32
        var parent: UInt64
        var monitorRef: UInt64

        /// A flag of the runtime's own beside the SWERL_SPAWN_* ones: the
        /// process is a supervisor's child (no crash report of its own).
        static let supervisedChild: UInt32 = 1 << 31
    }

    /// swerl_spawn. Returns the pid or an error.
    package func spawn(behavior: swerl_behavior, arg: UnsafeMutableRawPointer?, flags: UInt32,
                       name: String?, mailboxLimit: UInt32, overflow: UInt32,
                       monitorRef: UnsafeMutablePointer<UInt64>?, group: TurnGroup? = nil) -> (Int32, UInt64) {
        let result = spawn(behavior: behavior, arg: arg, flags: flags, name: name, mailboxLimit: mailboxLimit,
                           overflow: overflow, monitorRef: monitorRef, startNow: false, supervisor: false,
                           group: group)
        return (result.code, result.pid)
    }

    struct SpawnResult {
        var code: Int32
        var pid: UInt64
        /// With startNow: how init went.
        var start: StartOutcome = .started
    }

    /// spawn, and with `startNow` (inside a callback only) run the new
    /// process's init at once on this thread, nested in the caller's
    /// callback, as OTP's start_link waits for init: supervisors start
    /// children this way. `supervisor` marks the process for the
    /// supervisor API.
    func spawn(behavior: swerl_behavior, arg: UnsafeMutableRawPointer?, flags: UInt32,
               name: String?, mailboxLimit: UInt32, overflow: UInt32,
               monitorRef: UnsafeMutablePointer<UInt64>?, startNow: Bool, supervisor: Bool,
               group: TurnGroup? = nil) -> SpawnResult {
        if let name, let invalid = invalidName(name, in: "spawn") { return SpawnResult(code: invalid, pid: 0) }
        if !acceptsSpawns { return SpawnResult(code: Code.stopped, pid: 0) }
        let context = CallbackContexts.current
        let parentBlock = context.flatMap { $0.pointee.engine.takeUnretainedValue() === self ? $0.pointee.process : nil }
        let tiesToParent = flags & UInt32(SWERL_SPAWN_LINK | SWERL_SPAWN_MONITOR) != 0
        if (tiesToParent || startNow) && parentBlock == nil {
            return SpawnResult(code: ErrorDetail.failing(Code.invalid, "swerl_spawn: SWERL_SPAWN_LINK and "
                + "SWERL_SPAWN_MONITOR tie the new process to the calling process: spawn it inside a process "
                + "callback (of this runtime)"), pid: 0)
        }

        if table.live.add(1, ordering: .relaxed).newValue > table.capacity {
            table.live.subtract(1, ordering: .relaxed)
            return SpawnResult(code: ErrorDetail.failing(Code.limit, "swerl_spawn: \(table.capacity) processes are "
                + "alive, this runtime's max_processes (swerl_config.max_processes)"), pid: 0)
        }
        guard let block = reserveBlock() else {
            table.live.subtract(1, ordering: .relaxed)
            return SpawnResult(code: Code.limit, pid: 0)
        }
        let previousWord = block.pointee.pidWord.load(ordering: .acquiring)
        let pid = Pids.next(after: previousWord, slot: Int(block.pointee.slot), tag: tag)
        let parent = parentBlock?.pointee.ownPid ?? 0
        let ref = flags & UInt32(SWERL_SPAWN_MONITOR) != 0 ? newRef() : 0
        let initFlags = flags | (startNow ? InitParameters.supervisedChild : 0)
        var parameters = InitParameters(behavior: behavior, arg: arg, flags: initFlags, parent: parent, monitorRef: ref)
        let made = withUnsafeBytes(of: &parameters) { bytes in
            Nodes.make(kind: NodeKind.sigInit, target: pid, from: parent, data: bytes.baseAddress, len: bytes.count)
        }
        guard let initNode = made else {
            releaseDeadToken(block)
            table.releaseSlot(block.pointee.slot)
            table.live.subtract(1, ordering: .relaxed)
            return SpawnResult(code: Code.noMemory, pid: 0)
        }
        // Written before the pid is published: senders read them after
        // acquiring the pid word.
        block.pointee.mailboxLimit.store(mailboxLimit, ordering: .relaxed)
        block.pointee.overflow.store(overflow, ordering: .relaxed)
        block.pointee.isSupervisor.store(supervisor, ordering: .relaxed)
        // Introspection reflects the spawn at once (OTP-37), before init runs.
        block.pointee.infoLinks.store(flags & UInt32(SWERL_SPAWN_LINK) != 0 ? 1 : 0, ordering: .relaxed)
        block.pointee.infoMonitors.store(0, ordering: .relaxed)
        block.pointee.infoMonitoredBy.store(flags & UInt32(SWERL_SPAWN_MONITOR) != 0 ? 1 : 0, ordering: .relaxed)
        block.pointee.infoTrapExit.store(flags & UInt32(SWERL_SPAWN_TRAP_EXIT) != 0, ordering: .relaxed)
        block.pointee.infoHandled.store(0, ordering: .relaxed)
        block.pointee.infoMemory.store(UInt32(MemoryLayout<ProcessBlock>.stride), ordering: .relaxed)
        block.pointee.infoStatus.store(UInt32(SWERL_STATUS_RUNNABLE), ordering: .relaxed)
        if let group {
            block.pointee.lastScheduler.store(group.home, ordering: .relaxed)
        } else if flags & UInt32(SWERL_SPAWN_BLOCKING) != 0 {
            block.pointee.lastScheduler.store(ProcessBlock.blockingHome, ordering: .relaxed)
        } else if let worker = context?.pointee.worker?.takeUnretainedValue(), worker.engine === self,
                  let index = worker.schedulerIndex {
            block.pointee.lastScheduler.store(UInt32(index), ordering: .relaxed)
        } else {
            let next = roundRobin.add(1, ordering: .relaxed).oldValue
            block.pointee.lastScheduler.store(UInt32(next % schedulers.count), ordering: .relaxed)
        }

        let publish = {
            // The INIT goes first so that nothing can overtake it, then the pid
            // becomes visible. The spawner holds the token, so the process
            // cannot run (nor exit) before this.
            _ = InboundQueue.push(block.pointee.inbound, UnsafeMutableRawPointer(initNode))
            block.pointee.pidWord.store(pid, ordering: .releasing)
        }
        if let name {
            if !registry.registerAtSpawn(name: name, pid: pid, publish: publish) {
                Nodes.release(initNode)
                releaseDeadToken(block)
                table.releaseSlot(block.pointee.slot)
                table.live.subtract(1, ordering: .relaxed)
                return SpawnResult(code: Code.nameTaken, pid: 0)
            }
        } else {
            publish()
        }
        // startNow: this callback's worker runs the init at once (below).
        let starter = startNow ? context?.pointee.worker?.takeUnretainedValue() : nil
        if starter == nil { schedule(block) }
        spawned.add(1, ordering: .relaxed)

        if let parentBlock {
            if flags & UInt32(SWERL_SPAWN_LINK) != 0 {
                parentBlock.pointee.links.insert(pid)
            }
            if flags & UInt32(SWERL_SPAWN_MONITOR) != 0 {
                parentBlock.pointee.monitors.insert(MonitorEntry(ref: ref, pid: pid))
                monitorRef?.pointee = ref
            }
            parentBlock.publishRelations()
        }
        if let starter {
            return SpawnResult(code: Code.ok, pid: pid, start: starter.startNow(block))
        }
        return SpawnResult(code: Code.ok, pid: pid)
    }

    /// A free block, with its scheduling token taken: the spawner alone
    /// decides where the new process first runs. A slot whose last
    /// incarnation's token is still held (by a turn bouncing what was sent
    /// to the dead pid) is skipped, so a new INIT is never run by whoever
    /// holds an old token, on a thread that is not the new process's home.
    private func reserveBlock() -> ProcessPointer? {
        var busy: [ProcessPointer] = []
        defer { for block in busy { table.releaseSlot(block.pointee.slot) } }
        while let block = table.reserveSlot() {
            if block.pointee.inbound.compareExchange(expected: InboundQueue.idle, desired: InboundQueue.activeEmpty,
                                                     ordering: .acquiringAndReleasing).exchanged {
                return block
            }
            busy.append(block)
        }
        return nil
    }

    /// Gives back the scheduling token of a block with no live process (its
    /// holder: the turn that ran its exit, one a late send started, or a
    /// spawn that failed), bouncing what was sent to the dead pid meanwhile
    /// until the queue is idle. No INIT can be among it (reserveBlock).
    func releaseDeadToken(_ block: ProcessPointer) {
        while !InboundQueue.tryIdle(block.pointee.inbound) {
            guard let chain = InboundQueue.takeAll(block.pointee.inbound, leave: InboundQueue.activeEmpty) else {
                continue
            }
            var cursor: NodePointer? = chain.first.assumingMemoryBound(to: MessageNode.self)
            while let node = cursor {
                cursor = NodePointer(bitPattern: node.pointee.link.load(ordering: .relaxed))
                block.depart(node)
                bounce(node)
            }
        }
    }

    // MARK: Introspection

    package func processInfo(_ pid: UInt64) -> (Int32, swerl_process_info) {
        var info = swerl_process_info()
        info.size = UInt32(MemoryLayout<swerl_process_info>.size)
        if isStopped { return (Code.stopped, info) }
        guard let block = table.lookup(pid) else { return (absent(pid), info) }
        info.status = block.pointee.infoStatus.load(ordering: .relaxed)
        let waiting = block.waiting()
        info.message_queue_len = UInt64(waiting.count)
        if InboundQueue.hasNodes(block.pointee.inbound) && info.status == UInt32(SWERL_STATUS_WAITING) {
            info.status = UInt32(SWERL_STATUS_RUNNABLE)
        }
        info.messages_handled = block.pointee.infoHandled.load(ordering: .relaxed)
        info.memory = UInt64(block.pointee.infoMemory.load(ordering: .relaxed))
            + waiting.bytes + UInt64(waiting.count) * UInt64(SWERL_MESSAGE_OVERHEAD)
        info.links = block.pointee.infoLinks.load(ordering: .relaxed)
        info.monitors = block.pointee.infoMonitors.load(ordering: .relaxed)
        info.monitored_by = block.pointee.infoMonitoredBy.load(ordering: .relaxed)
        info.trap_exit = block.pointee.infoTrapExit.load(ordering: .relaxed) ? 1 : 0
        if let name = registry.name(of: pid) {
            withUnsafeMutableBytes(of: &info.name) { buffer in
                let utf8 = Array(name.utf8.prefix(Int(SWERL_NAME_MAX)))
                buffer.copyBytes(from: utf8)
                buffer[utf8.count] = 0
            }
        }
        // Still alive after the snapshot? Otherwise it is Erlang's undefined.
        guard table.lookup(pid) != nil else { return (Code.noProcess, info) }
        return (Code.ok, info)
    }

    /// Every live pid (a racy snapshot), whatever the runtime's state.
    func livePids() -> [UInt64] {
        var pids: [UInt64] = []
        table.forEachLive { pids.append($0) }
        return pids
    }

    /// swerl_processes: the live pids, or ESTOPPED.
    package func processes() -> (Int32, [UInt64]) {
        if isStopped { return (Code.stopped, []) }
        return (Code.ok, livePids())
    }

    /// swerl_runtime_scheduler_usage: each scheduler's busy and wall time since
    /// the runtime started, and its run queue's length now.
    package func schedulerUsage() -> [swerl_scheduler_usage] {
        schedulers.map { scheduler in
            let (busy, wall) = scheduler.usage()
            var usage = swerl_scheduler_usage()
            usage.size = UInt32(MemoryLayout<swerl_scheduler_usage>.size)
            usage.index = UInt32(scheduler.index)
            usage.busy_ns = busy
            usage.wall_ns = wall
            usage.run_queue = UInt64(max(0, scheduler.publishedLoad.load(ordering: .relaxed)))
            return usage
        }
    }

    /// The library's version, as swerl_version() says it.
    static let versionText = "\(SWERL_VERSION_MAJOR).\(SWERL_VERSION_MINOR).\(SWERL_VERSION_PATCH)"

    package func stats() -> swerl_stats {
        var stats = swerl_stats()
        stats.size = UInt32(MemoryLayout<swerl_stats>.size)
        stats.schedulers = UInt32(schedulers.count)
        stats.processes = UInt64(max(0, table.live.load(ordering: .relaxed)))
        stats.spawned = spawned.load(ordering: .relaxed)
        stats.exited = exited.load(ordering: .relaxed)
        stats.messages_sent = countingWorkers.reduce(foreignSent.load(ordering: .relaxed)) {
            $0 &+ $1.messagesSent.load(ordering: .relaxed)
        }
        stats.dead_letters = deadLetters.load(ordering: .relaxed)
        stats.messages_dropped = messagesDropped.load(ordering: .relaxed)
        stats.restarts = restarts.load(ordering: .relaxed)
        stats.escalations = escalations.load(ordering: .relaxed)
        stats.messages_rejected = mailboxRefusals.load(ordering: .relaxed)
            &+ memoryBudget.refusals.load(ordering: .relaxed)
        stats.memory_used = UInt64(memoryBudget.used(countingWorkers))
        return stats
    }
}

/// swerl_send once its arguments are checked: the runtime from its C handle
/// with no retain, the send, a failure counted. It lives here, not in the C
/// export, so that the send inlines into it: across the module boundary it
/// is a call, and its defaulted arguments are calls too. A free function: a
/// static one would look up Engine's metadata first.
package func sendThroughHandle(_ handle: UnsafeRawPointer, to: UInt64, data: UnsafeRawPointer?, count: Int) -> Int32 {
    Unmanaged<Engine>.fromOpaque(handle)._withUnsafeGuaranteedRef {
        ErrorDetail.handedOut($0.send(to: to, data: data, count: count))
    }
}
