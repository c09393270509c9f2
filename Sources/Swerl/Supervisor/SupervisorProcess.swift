// The supervisor: an ordinary process that traps exits, built on the
// runtime's own primitives (spawn with link, monitors, exit signals, the
// receive timeout, selective receive, deferred replies), with OTP's restart
// semantics (OTP-40..53).
//
// Starting a worker is synchronous: its init runs nested in the
// supervisor's callback (Worker.startNow), as start_link waits for init.
// Everything that must wait for another process is a `Job` instead:
// stopping children (monitor, exit signal, DOWN or timeout then kill) and
// starting a child supervisor (its start acknowledgement). While a job runs
// the supervisor acts only on what the job waits for and sets everything
// else aside, in order, for when the job is done: the selective receive
// OTP's supervisor does in shutdown/2, without rescanning the mailbox.

import CSwerl
import Synchronization

/// Who learns how a supervisor's start went.
enum SupervisorStarter {
    /// A thread blocked in swerl_supervisor_start.
    case thread(StartSignal)
    /// The parent supervisor: an acknowledgement message.
    case parent(UInt64)
}

/// What a supervisor process is spawned with.
final class SupervisorLaunch: @unchecked Sendable {
    let spec: SupervisorSpecification
    let starter: SupervisorStarter
    /// Registered by swerl_supervisor_start: a root of the forest.
    let isRoot: Bool

    init(spec: SupervisorSpecification, starter: SupervisorStarter, isRoot: Bool) {
        self.spec = spec
        self.starter = starter
        self.isRoot = isRoot
    }
}

/// The start result a thread waits for.
final class StartSignal: @unchecked Sendable {
    private let signal = ThreadSignal()
    private let detailBox = Lock<[UInt8]>([])

    func complete(code: Int32, detail: [UInt8]) {
        detailBox.withLock { $0 = detail }
        if code == Code.ok {
            signal.complete(.reply(UnsafeRawBufferPointer(start: nil, count: 0)))
        } else {
            signal.complete(.failure(code))
        }
    }

    func wait() -> (Int32, [UInt8]) {
        _ = signal.wait(until: nil)
        return (signal.code, detailBox.withLock { $0 })
    }
}

final class ChildRecord {
    var spec: ChildSpecification
    var pid: UInt64 = 0
    var restarting = false
    var restarts: UInt64 = 0
    /// Start order among dynamic (simple_one_for_one) children.
    let serial: Int

    init(spec: ChildSpecification, serial: Int) {
        self.spec = spec
        self.serial = serial
    }

    var isTemporary: Bool { spec.restart == UInt32(SWERL_TEMPORARY) }
}

/// Internal messages a supervisor sends itself or its parent.
enum SupervisorMessage {
    static let tag: UInt64 = 0x5357_4552_4C53_5550  // "SWERLSUP"
    static let tryAgain: UInt32 = 1
    static let startAck: UInt32 = 2

    struct Header {
        var tag: UInt64
        var kind: UInt32
        var code: Int32
        var value: UInt64
    }

    static func encode(kind: UInt32, code: Int32 = 0, value: UInt64, detail: [UInt8] = []) -> [UInt8] {
        var header = Header(tag: tag, kind: kind, code: code, value: value)
        return withUnsafeBytes(of: &header) { Array($0) } + detail
    }

    static func decode(_ payload: UnsafeRawBufferPointer) -> (Header, [UInt8])? {
        guard payload.count >= MemoryLayout<Header>.size else { return nil }
        let header = payload.loadUnaligned(as: Header.self)
        guard header.tag == tag else { return nil }
        return (header, Array(payload[MemoryLayout<Header>.size...]))
    }
}

/// What a running supervisor keeps of its spec: the flags and the
/// simple_one_for_one template. Its children's specs live in their records,
/// so a deleted child's argument is released (OTP-47, OTP-52).
struct SupervisorFlags {
    let strategy: UInt32
    let intensity: UInt32
    let periodMillis: UInt32
    let autoShutdown: UInt32
    let template: ChildSpecification?

    init(_ spec: SupervisorSpecification) {
        strategy = spec.strategy
        intensity = spec.intensity
        periodMillis = spec.periodMillis
        autoShutdown = spec.autoShutdown
        template = spec.isSimple ? spec.children.first : nil
    }

    var isSimple: Bool { strategy == UInt32(SWERL_SIMPLE_ONE_FOR_ONE) }
}

final class SupervisorState {
    unowned(unsafe) let engine: Engine
    let spec: SupervisorFlags
    let starter: SupervisorStarter
    let isRoot: Bool
    var selfPid: UInt64 = 0
    /// The callback context while a callback runs.
    var context: UnsafeRawPointer? = nil

    /// Static children in start order; simple_one_for_one keeps `dynamic`.
    var children: [ChildRecord] = []
    var dynamic: [Int: ChildRecord] = [:]
    var byPid: [UInt64: ChildRecord] = [:]
    var nextSerial = 0
    var window: RestartWindow
    var job: Job? = nil
    var acknowledged = false
    /// Messages that came while a job ran, handled once it is done.
    var deferred: [DeferredMessage] = []
    var deferredHead = 0
    /// Specs deleted before the start was acknowledged: released only if it succeeds.
    var droppedWhileStarting: [ChildSpecification] = []
    /// Set when the supervisor must exit once the current callback returns.
    var exitReason: (Int32, [UInt8])? = nil

    init(engine: Engine, launch: SupervisorLaunch) {
        self.engine = engine
        spec = SupervisorFlags(launch.spec)
        starter = launch.starter
        isRoot = launch.isRoot
        window = RestartWindow(intensity: launch.spec.intensity, periodMillis: launch.spec.periodMillis)
    }

    var parent: UInt64 {
        if case .parent(let pid) = starter { return pid }
        return 0
    }
}

/// A message kept for after the current job.
struct DeferredMessage {
    var kind: UInt32
    var reason: Int32
    var from: UInt64
    var ref: UInt64
    var payload: [UInt8]

    init(_ message: swerl_message) {
        kind = message.kind
        reason = message.reason
        from = message.from
        ref = message.ref
        payload = message.len == 0 ? [] : Array(UnsafeRawBufferPointer(start: message.data, count: message.len))
    }
}

/// Work that waits for other processes.
enum Job {
    case stopping(StopJob)
    /// A child supervisor's start acknowledgement.
    case awaitingStart(pid: UInt64, then: (StartOutcome) -> Void)
}

final class StopJob {
    /// Children still to stop, in the order to stop them.
    var queue: [ChildRecord]
    let parallel: Bool
    /// Monitor ref -> child, for the children being stopped now.
    var waiting: [UInt64: ChildRecord] = [:]
    var killed = false
    /// When the children being stopped get killed (nil: no time limit).
    var deadline: UInt64? = nil
    let then: () -> Void

    init(queue: [ChildRecord], parallel: Bool, then: @escaping () -> Void) {
        self.queue = queue
        self.parallel = parallel
        self.then = then
    }
}

enum SupervisorProcess {
    static let behavior = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, state in
            let launch = Unmanaged<SupervisorLaunch>.fromOpaque(arg!).takeRetainedValue()
            let engine = Engine.contextEngine(UnsafeRawPointer(ctx))!
            let supervisor = SupervisorState(engine: engine, launch: launch)
            supervisor.selfPid = Engine.contextPid(UnsafeRawPointer(ctx)) ?? 0
            state?.pointee = Unmanaged.passRetained(supervisor).toOpaque()
            _ = Engine.trapExit(UnsafeRawPointer(ctx), true)  // OTP-43
            if launch.isRoot { engine.addRootSupervisor(supervisor.selfPid) }
            supervisor.inCallback(ctx) { supervisor.startInitialChildren(launch.spec.children) }
            if supervisor.exitReason != nil {
                // The start failed and nothing was left to stop: exit now
                // (init failing means no terminate callback, so clean up here).
                if launch.isRoot { engine.removeRootSupervisor(supervisor.selfPid) }
                Unmanaged.passUnretained(supervisor).release()
                state?.pointee = nil
                return -1
            }
            return 0
        },
        handle: { ctx, message, state in
            let supervisor = Unmanaged<SupervisorState>.fromOpaque(state!).takeUnretainedValue()
            var verdict = Int32(SWERL_CONTINUE)
            supervisor.inCallback(ctx) { verdict = supervisor.handle(message!) }
            return verdict
        },
        terminate: { ctx, reason, state in
            let unmanaged = Unmanaged<SupervisorState>.fromOpaque(state!)
            let supervisor = unmanaged.takeUnretainedValue()
            if !supervisor.acknowledged {
                supervisor.acknowledge(code: Code.startFailed, detail: Array("supervisor exited while starting".utf8))
            }
            if supervisor.isRoot { supervisor.engine.removeRootSupervisor(supervisor.selfPid) }
            // A job cut short (killed while stopping or starting children)
            // never finishes, and its closures hold the supervisor: drop it,
            // or the state and the specs (their args never released) leak.
            supervisor.job = nil
            unmanaged.release()
        }
    )
}

extension SupervisorState {
    func inCallback(_ ctx: OpaquePointer?, _ body: () -> Void) {
        context = UnsafeRawPointer(ctx)
        body()
        if let (reason, detail) = exitReason {
            detail.withUnsafeBytes { _ = Engine.fail(context, reason: reason, detail: $0) }
        }
        context = nil
    }

    /// Returns the handler verdict for one message.
    func handle(_ raw: UnsafePointer<swerl_message>) -> Int32 {
        let message = raw.pointee
        if let job {
            if !accept(message, into: job) {
                // Not what the job waits for: keep it in order for later. (A
                // SKIP would leave it in the mailbox, to be rescanned after
                // every DOWN: quadratic for a long mailbox.)
                deferred.append(DeferredMessage(message))
            }
        } else {
            dispatch(message)
        }
        runDeferred()
        rearmStopTimeout()
        return exitReason == nil ? Int32(SWERL_CONTINUE) : Int32(SWERL_STOP)
    }

    private func dispatch(_ message: swerl_message) {
        switch message.kind {
        case UInt32(SWERL_EXIT): onExit(from: message.from, reason: message.reason, detail: bytes(message))
        case UInt32(SWERL_CALL): onRequest(message)
        case UInt32(SWERL_MESSAGE): onInternal(message)
        default: break  // stray DOWN or TIMEOUT from an earlier job
        }
    }

    /// Handles what arrived during a job, in order, until a new job starts.
    private func runDeferred() {
        while job == nil && exitReason == nil && deferredHead < deferred.count {
            let item = deferred[deferredHead]
            deferredHead += 1
            item.payload.withUnsafeBytes { payload in
                dispatch(swerl_message(kind: item.kind, reason: item.reason, from: item.from, ref: item.ref,
                                       data: payload.baseAddress, len: payload.count))
            }
        }
        if deferredHead == deferred.count && deferredHead > 0 {
            deferred.removeAll(keepingCapacity: true)
            deferredHead = 0
        }
    }

    /// Accepting any message clears the receive timeout; a stop job still
    /// waiting on its shutdown time sets it again to what is left.
    private func rearmStopTimeout() {
        guard case .stopping(let stop) = job, !stop.killed, let deadline = stop.deadline else { return }
        let now = monotonicNanos()
        let left = deadline > now ? (deadline - now + 999_999) / 1_000_000 : 0
        _ = Engine.setReceiveTimeout(context, millis: UInt32(min(left, UInt64(SWERL_INFINITY - 1))))
    }

    private func bytes(_ message: swerl_message) -> [UInt8] {
        message.len == 0 ? [] : Array(UnsafeRawBufferPointer(start: message.data, count: message.len))
    }

    // MARK: Start (OTP-44)

    func startInitialChildren(_ specs: [ChildSpecification]) {
        if spec.isSimple {
            acknowledge(code: Code.ok, detail: [])
            return
        }
        children = specs.map { ChildRecord(spec: $0, serial: nextSerialNumber()) }
        startInOrder(children[...]) { failure in
            guard let (child, reason, detail) = failure else {
                self.acknowledge(code: Code.ok, detail: [])
                return
            }
            // Roll back: stop what started, in reverse, then fail the start.
            let text = "failed to start child \(child.spec.id): \(ExitReason(code: reason, detail: detail))"
            self.engine.report(level: SWERL_LOG_ERROR, "supervisor \(Pid(rawValue: self.selfPid)): \(text)")
            self.stop(self.children.filter { $0.pid != 0 }.reversed(), parallel: false) {
                self.acknowledge(code: Code.startFailed, detail: Array(text.utf8))
                self.exitReason = (Reason.shutdown, Array(text.utf8))
            }
        }
    }

    func acknowledge(code: Int32, detail: [UInt8]) {
        guard !acknowledged else { return }
        acknowledged = true
        // The tree's start succeeded: the root now owns every argument (a
        // failed start leaves them with the caller). A nested supervisor
        // leaves that to its parent, which arms the whole nested spec once
        // its own start (or start_child) succeeds: armed here, a root start
        // failing later (ESTART) would release args its caller still owns.
        if code == Code.ok, case .thread = starter {
            for child in children { child.spec.arm() }
            spec.template?.arm()
            for dropped in droppedWhileStarting { dropped.arm() }
        }
        droppedWhileStarting = []
        switch starter {
        case .thread(let signal):
            signal.complete(code: code, detail: detail)
        case .parent(let parent):
            let payload = SupervisorMessage.encode(kind: SupervisorMessage.startAck, code: code, value: selfPid, detail: detail)
            _ = payload.withUnsafeBytes { engine.send(to: parent, data: $0.baseAddress, count: $0.count, runtimeTraffic: true) }
        }
    }

    private func nextSerialNumber() -> Int {
        nextSerial += 1
        return nextSerial
    }

    /// Starts children left to right; `then` gets nil, or the first failure.
    /// Starts the children of `list` that are not running, in order, until
    /// one fails. `restarting`: count each start attempted as a restart.
    func startInOrder(_ list: ArraySlice<ChildRecord>, restarting: Bool = false,
                      then: @escaping ((ChildRecord, Int32, [UInt8])?) -> Void) {
        var remaining = list
        while let child = remaining.first {
            remaining = remaining.dropFirst()
            if child.pid != 0 { continue }
            if restarting { child.restarts += 1 }
            var pending = false
            var failure: (ChildRecord, Int32, [UInt8])? = nil
            var finished = false
            start(child) { outcome in
                if case .failed(let reason, let detail) = outcome { failure = (child, reason, detail) }
                if pending {
                    // Resumed asynchronously (a child supervisor acknowledged).
                    if let failure { return then(failure) }
                    self.startInOrder(remaining, restarting: restarting, then: then)
                }
                finished = true
            }
            if !finished {
                pending = true
                return
            }
            if let failure { return then(failure) }
        }
        then(nil)
    }

    /// Starts one child: synchronously for a worker, through a job for a
    /// child supervisor. `done` runs exactly once.
    func start(_ child: ChildRecord, arg overrideArg: ChildArgument? = nil, done: @escaping (StartOutcome) -> Void) {
        var argument = child.spec.argument.pointer
        if let overrideArg { argument = overrideArg.pointer }
        var launch: Unmanaged<SupervisorLaunch>? = nil
        if child.spec.isSupervisor, let nested = child.spec.nested {
            let retained = Unmanaged.passRetained(SupervisorLaunch(spec: nested, starter: .parent(selfPid), isRoot: false))
            launch = retained
            argument = retained.toOpaque()
        }
        let result = engine.spawn(behavior: child.spec.behavior, arg: argument, flags: UInt32(SWERL_SPAWN_LINK),
                                  name: nil, mailboxLimit: 0, overflow: 0, monitorRef: nil,
                                  startNow: true, supervisor: child.spec.isSupervisor)
        guard result.code == Code.ok else {
            launch?.release()
            return done(.failed(Reason.error, Array("spawn failed: \(SwerlError(.init(rawValue: result.code)))".utf8)))
        }
        switch result.start {
        case .started:
            child.pid = result.pid
            track(child)
            if child.spec.isSupervisor {
                job = .awaitingStart(pid: result.pid) { outcome in
                    if case .failed = outcome { self.untrack(child) }
                    done(outcome)
                }
            } else {
                done(.started)
            }
        case .ignored:
            if child.isTemporary { deleteSpec(child) }  // OTP-42: nothing to keep
            done(.ignored)
        case .failed(let reason, let detail):
            done(.failed(reason, detail))
        }
    }

    private func track(_ child: ChildRecord) {
        byPid[child.pid] = child
        if spec.isSimple { dynamic[child.serial] = child }
    }

    private func untrack(_ child: ChildRecord) {
        byPid[child.pid] = nil
        child.pid = 0
    }

    // MARK: Jobs

    private func accept(_ message: swerl_message, into job: Job) -> Bool {
        switch job {
        case .awaitingStart(let pid, let then):
            if message.kind == UInt32(SWERL_MESSAGE), message.from == pid,
               let (header, detail) = SupervisorMessage.decode(UnsafeRawBufferPointer(start: message.data, count: message.len)),
               header.kind == SupervisorMessage.startAck {
                self.job = nil
                then(header.code == Code.ok ? .started : .failed(Reason.shutdown, detail))
                return true
            }
            if message.kind == UInt32(SWERL_EXIT) && message.from == pid {
                self.job = nil
                then(.failed(message.reason, bytes(message)))
                return true
            }
            return false
        case .stopping(let stop):
            if message.kind == UInt32(SWERL_DOWN), let child = stop.waiting.removeValue(forKey: message.ref) {
                stopped(child, reason: message.reason, detail: bytes(message), killed: stop.killed)
                if stop.waiting.isEmpty { continueStopping(stop) }
                return true
            }
            if message.kind == UInt32(SWERL_TIMEOUT) {
                // Shutdown time is up: kill whoever is left (OTP-46).
                stop.killed = true
                for child in stop.waiting.values where child.pid != 0 {
                    _ = engine.exit(child.pid, reason: Reason.kill, detail: UnsafeRawBufferPointer(start: nil, count: 0))
                }
                return true
            }
            return false
        }
    }

    /// Stops `list` in order (or all at once), each by its shutdown spec
    /// (OTP-45, OTP-46), then runs `then`.
    func stop(_ list: [ChildRecord], parallel: Bool, then: @escaping () -> Void) {
        let job = StopJob(queue: list.filter { $0.pid != 0 }, parallel: parallel, then: then)
        self.job = .stopping(job)
        continueStopping(job)
    }

    private func continueStopping(_ stop: StopJob) {
        while stop.waiting.isEmpty {
            guard !stop.queue.isEmpty else {
                job = nil
                stop.then()
                return
            }
            let batch = stop.parallel ? stop.queue : [stop.queue.removeFirst()]
            if stop.parallel { stop.queue.removeAll() }
            stop.killed = false
            stop.deadline = nil
            var longest: UInt32 = 0
            for child in batch where child.pid != 0 {
                // Monitor rather than trust the link: a child that unlinked cannot hang us.
                let (code, ref) = Engine.monitor(context, child.pid)
                guard code == Code.ok else { continue }
                _ = Engine.unlink(context, child.pid)
                let brutal = child.spec.shutdownMillis == SWERL_BRUTAL_KILL
                _ = engine.exit(child.pid, reason: brutal ? Reason.kill : Reason.shutdown,
                                detail: UnsafeRawBufferPointer(start: nil, count: 0))
                if brutal { stop.killed = true } else { longest = max(longest, child.spec.shutdownMillis) }
                stop.waiting[ref] = child
            }
            if !stop.waiting.isEmpty && longest != 0 && longest != SWERL_INFINITY {
                stop.deadline = monotonicNanos() + UInt64(longest) * 1_000_000
                _ = Engine.setReceiveTimeout(context, millis: longest)
            }
        }
        if !stop.waiting.isEmpty { job = .stopping(stop) }
    }

    private func stopped(_ child: ChildRecord, reason: Int32, detail: [UInt8], killed: Bool) {
        byPid[child.pid] = nil
        if spec.isSimple { dynamic[child.serial] = nil }
        let pid = child.pid
        child.pid = 0
        var expected = reason == Reason.shutdown || reason == Reason.noproc || (killed && reason == Reason.killed)
        if child.spec.restart != UInt32(SWERL_PERMANENT) && reason == Reason.normal { expected = true }
        if !expected {
            engine.report(level: SWERL_LOG_ERROR, "supervisor \(Pid(rawValue: selfPid)): shutdown_error: child "
                          + "\(child.spec.id) \(Pid(rawValue: pid)) exited \(ExitReason(code: reason, detail: detail))")
        }
        if child.isTemporary { deleteSpec(child) }
    }

    private func deleteSpec(_ child: ChildRecord) {
        if !acknowledged { droppedWhileStarting.append(child.spec) }
        if spec.isSimple {
            dynamic[child.serial] = nil
        } else if let index = children.firstIndex(where: { $0 === child }) {
            children.remove(at: index)
        }
    }

    // MARK: Exits and restarts (OTP-47..51)

    private func onExit(from pid: UInt64, reason: Int32, detail: [UInt8]) {
        guard let child = byPid[pid] else {
            if pid == parent || pid == 0 { shutdown(reason: reason, detail: detail) }
            return  // a child that failed to start, or a stranger
        }
        byPid[pid] = nil
        child.pid = 0
        let abnormal = reason != Reason.normal && reason != Reason.shutdown
        let shouldRestart: Bool
        switch child.spec.restart {
        case UInt32(SWERL_PERMANENT): shouldRestart = true
        case UInt32(SWERL_TRANSIENT): shouldRestart = abnormal
        default: shouldRestart = false
        }
        if abnormal {
            engine.report(level: SWERL_LOG_ERROR, "supervisor \(Pid(rawValue: selfPid)): child_terminated: "
                          + "\(child.spec.id.isEmpty ? "child" : child.spec.id) \(Pid(rawValue: pid)) "
                          + "exited \(ExitReason(code: reason, detail: detail))")
        }
        guard shouldRestart else {
            if child.isTemporary { deleteSpec(child) } else if spec.isSimple { dynamic[child.serial] = nil }
            if child.spec.significant { significantChildGone() }
            return
        }
        // The runtime is stopping: this tree is about to be shut down, and
        // nothing can be spawned any more; a restart would only fail.
        guard engine.acceptsSpawns else { return }
        guard window.add(nowMillis: monotonicNanos() / 1_000_000) else { return escalate() }
        restart(after: child)
    }

    private func restart(after child: ChildRecord) {
        engine.countRestart()
        engine.report(level: SWERL_LOG_INFO, "supervisor \(Pid(rawValue: selfPid)): restarting \(child.spec.id.isEmpty ? "child" : child.spec.id)")
        switch spec.strategy {
        case UInt32(SWERL_ONE_FOR_ALL):
            let others = children.filter { $0 !== child && $0.pid != 0 }
            stop(others.reversed(), parallel: false) { self.restartGroup(self.children[...], failed: child) }
        case UInt32(SWERL_REST_FOR_ONE):
            guard let index = children.firstIndex(where: { $0 === child }) else { return }
            let later = children[(index + 1)...].filter { $0.pid != 0 }
            stop(later.reversed(), parallel: false) {
                guard let from = self.children.firstIndex(where: { $0 === child }) else { return }
                self.restartGroup(self.children[from...], failed: child)
            }
        default:
            restartOne(child)
        }
    }

    private func restartOne(_ child: ChildRecord) {
        child.restarts += 1
        if spec.isSimple { dynamic[child.serial] = child }
        start(child) { outcome in
            switch outcome {
            case .started:
                child.restarting = false
            case .ignored:
                child.restarting = false
                if self.spec.isSimple { self.dynamic[child.serial] = nil }
            case .failed(let reason, let detail):
                self.retryLater(child, reason: reason, detail: detail)
            }
        }
    }

    /// one_for_all / rest_for_one: temporary children in the group are not
    /// restarted and their specs go (OTP-47); the others start in order.
    private func restartGroup(_ group: ArraySlice<ChildRecord>, failed: ChildRecord) {
        for member in group where member.isTemporary && member.pid == 0 { deleteSpec(member) }
        let startable = group.filter { !($0.isTemporary) }
        // Counted as each start is tried: members after a failed start are
        // tried (and counted) only by the retry.
        startInOrder(startable[...], restarting: true) { failure in
            if let (child, reason, detail) = failure { self.retryLater(child, reason: reason, detail: detail) }
            for member in startable where member.pid != 0 { member.restarting = false }
        }
    }

    /// OTP-49e: a restart that failed is retried by a message to ourselves,
    /// and every retry counts against the intensity. The failure is
    /// reported, as OTP's start_error report: a retry loop is otherwise silent.
    private func retryLater(_ child: ChildRecord, reason: Int32, detail: [UInt8]) {
        engine.report(level: SWERL_LOG_ERROR, "supervisor \(Pid(rawValue: selfPid)): start_error: "
                      + "\(child.spec.id.isEmpty ? "child" : child.spec.id) "
                      + "\(ExitReason(code: reason, detail: detail)); retrying")
        child.restarting = true
        let payload = SupervisorMessage.encode(kind: SupervisorMessage.tryAgain, value: UInt64(child.serial))
        _ = payload.withUnsafeBytes { engine.send(to: selfPid, data: $0.baseAddress, count: $0.count, runtimeTraffic: true) }
    }

    private func onInternal(_ message: swerl_message) {
        guard message.from == selfPid,
              let (header, _) = SupervisorMessage.decode(UnsafeRawBufferPointer(start: message.data, count: message.len)),
              header.kind == SupervisorMessage.tryAgain else { return }
        let serial = Int(header.value)
        guard let child = spec.isSimple ? dynamic[serial] : children.first(where: { $0.serial == serial }),
              child.restarting, child.pid == 0, engine.acceptsSpawns else { return }
        guard window.add(nowMillis: monotonicNanos() / 1_000_000) else { return escalate() }
        engine.countRestart()
        switch spec.strategy {
        case UInt32(SWERL_ONE_FOR_ALL):
            restartGroup(children[...], failed: child)
        case UInt32(SWERL_REST_FOR_ONE):
            guard let from = children.firstIndex(where: { $0 === child }) else { return }
            restartGroup(children[from...], failed: child)
        default:
            restartOne(child)
        }
    }

    /// OTP-51.
    private func significantChildGone() {
        switch spec.autoShutdown {
        case UInt32(SWERL_AUTO_SHUTDOWN_ANY_SIGNIFICANT):
            shutdown(reason: Reason.shutdown, detail: [])
        case UInt32(SWERL_AUTO_SHUTDOWN_ALL_SIGNIFICANT):
            let anyLeft = allChildren().contains { $0.spec.significant && $0.pid != 0 }
            if !anyLeft { shutdown(reason: Reason.shutdown, detail: []) }
        default:
            break
        }
    }

    /// OTP-50: too many restarts. Stop everything, then exit `shutdown`.
    private func escalate() {
        engine.countEscalation()
        engine.report(level: SWERL_LOG_ERROR, "supervisor \(Pid(rawValue: selfPid)): reached_max_restart_intensity, shutting down")
        shutdown(reason: Reason.shutdown, detail: Array("reached_max_restart_intensity".utf8))
    }

    /// Stops all children in reverse start order (simple_one_for_one: all at
    /// once), then exits with `reason`.
    func shutdown(reason: Int32, detail: [UInt8]) {
        let all = allChildren()
        stop(spec.isSimple ? all : all.reversed(), parallel: spec.isSimple) {
            self.exitReason = (reason, detail)
        }
    }

    func allChildren() -> [ChildRecord] {
        spec.isSimple ? dynamic.values.sorted { $0.serial < $1.serial } : children
    }

    // MARK: Management requests (OTP-52)

    /// Answers a request whose work was starting `child`.
    private func conclude(_ request: SupervisorRequest, _ child: ChildRecord, _ outcome: StartOutcome,
                          _ answer: (Int32) -> Void) {
        switch outcome {
        case .started:
            request.pid = child.pid
            answer(Code.ok)
        case .ignored:
            answer(Code.ok)
        case .failed(let reason, let detail):
            request.detail = Array(ExitReason(code: reason, detail: detail).description.utf8)
            answer(Code.startFailed)
        }
    }

    private func onRequest(_ message: swerl_message) {
        let ref = message.ref
        guard let request = SupervisorRequest.decode(UnsafeRawBufferPointer(start: message.data, count: message.len)) else {
            _ = engine.reply(ref, data: UnsafeRawBufferPointer(start: nil, count: 0))
            return
        }
        let answer = { (code: Int32) in
            request.code = code
            _ = self.engine.reply(ref, data: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        switch request.operation {
        case .startChild(let childSpec):
            if spec.isSimple { return answer(Code.simple) }
            let valid = childSpec.validate(autoShutdown: spec.autoShutdown)
            if valid != Code.ok { return answer(valid) }
            if let existing = children.first(where: { $0.spec.id == childSpec.id }) {
                request.pid = existing.pid
                return answer(existing.pid != 0 ? Code.started : Code.present)
            }
            let child = ChildRecord(spec: childSpec, serial: nextSerialNumber())
            start(child) { outcome in
                if case .failed = outcome {} else {
                    child.spec.arm()  // kept: the supervisor owns its argument now
                    if child.pid != 0 || !child.isTemporary { self.children.append(child) }
                }
                self.conclude(request, child, outcome, answer)
            }
        case .spawnChild(let arg):
            guard spec.isSimple, let template = spec.template else { return answer(Code.simple) }
            var childSpec = template
            // NULL: the template's own argument, owned by the template.
            childSpec.argument = arg == nil ? template.argument : template.argument.sibling(arg)
            let child = ChildRecord(spec: childSpec, serial: nextSerialNumber())
            start(child) { outcome in
                // Kept (or, ignored, dropped at once and so released now).
                if case .failed = outcome {} else if arg != nil { child.spec.argument.arm() }
                self.conclude(request, child, outcome, answer)
            }
        case .terminate(let id):
            if spec.isSimple { return answer(Code.simple) }
            guard let child = children.first(where: { $0.spec.id == id }) else { return answer(Code.notFound) }
            if child.pid == 0 {
                child.restarting = false  // a pending retry finds nothing to do
                if child.isTemporary { deleteSpec(child) }
                return answer(Code.ok)
            }
            child.restarting = false
            stop([child], parallel: false) { answer(Code.ok) }
        case .terminatePid(let pid):
            guard spec.isSimple else { return answer(Code.simple) }
            guard let child = byPid[pid] else { return answer(Code.notFound) }
            stop([child], parallel: false) {
                self.dynamic[child.serial] = nil
                answer(Code.ok)
            }
        case .restart(let id):
            if spec.isSimple { return answer(Code.simple) }
            guard let child = children.first(where: { $0.spec.id == id }) else { return answer(Code.notFound) }
            if child.pid != 0 { return answer(Code.running) }
            if child.restarting { return answer(Code.restarting) }
            start(child) { self.conclude(request, child, $0, answer) }
        case .delete(let id):
            if spec.isSimple { return answer(Code.simple) }
            guard let child = children.first(where: { $0.spec.id == id }) else { return answer(Code.notFound) }
            if child.pid != 0 { return answer(Code.running) }
            if child.restarting { return answer(Code.restarting) }
            deleteSpec(child)
            answer(Code.ok)
        case .snapshot:
            request.snapshot = SupervisorSnapshot(
                strategy: spec.strategy, intensity: spec.intensity, periodMillis: spec.periodMillis,
                children: allChildren().map { child in
                    ChildSnapshot(id: spec.isSimple ? "" : child.spec.id, pid: child.pid,
                                  state: child.pid != 0 ? UInt32(SWERL_CHILD_RUNNING)
                                      : child.restarting ? UInt32(SWERL_CHILD_RESTARTING) : UInt32(SWERL_CHILD_UNDEFINED),
                                  type: child.spec.isSupervisor ? UInt32(SWERL_SUPERVISOR) : UInt32(SWERL_WORKER),
                                  restart: child.spec.restart, restarts: child.restarts)
                })
            answer(Code.ok)
        }
    }
}
