import CSwerl

/// Supervisors: processes that start, watch and restart other processes
/// with Erlang/OTP's exact semantics.
///
/// ```swift
/// let spec = Supervisor.Spec(strategy: .oneForOne, intensity: 3, period: .seconds(5), children: [
///     ChildSpec(id: "cache") { Cache() },
///     ChildSpec(id: "workers", supervisor: Supervisor.Spec(strategy: .simpleOneForOne,
///                                                          children: [ChildSpec(id: "worker") { Worker() }])),
/// ])
/// let root = try runtime.startSupervisor(spec)
/// ```
public enum Supervisor {
    /// How a supervisor reacts when a child exits (OTP-48).
    public struct Strategy: Hashable, Sendable {
        let raw: UInt32
        /// Restart only the child that exited.
        public static let oneForOne = Strategy(raw: UInt32(SWERL_ONE_FOR_ONE))
        /// Stop the others, then restart all.
        public static let oneForAll = Strategy(raw: UInt32(SWERL_ONE_FOR_ALL))
        /// Stop the children started after it, then restart those and it.
        public static let restForOne = Strategy(raw: UInt32(SWERL_REST_FOR_ONE))
        /// One template; children are added with `spawnChild`.
        public static let simpleOneForOne = Strategy(raw: UInt32(SWERL_SIMPLE_ONE_FOR_ONE))
    }

    /// When a supervisor stops by itself after significant children end (OTP-51).
    public struct AutoShutdown: Hashable, Sendable {
        let raw: UInt32
        /// Never: the supervisor runs until told to stop (the default).
        public static let never = AutoShutdown(raw: UInt32(SWERL_AUTO_SHUTDOWN_NEVER))
        /// When any significant child exits on its own.
        public static let anySignificant = AutoShutdown(raw: UInt32(SWERL_AUTO_SHUTDOWN_ANY_SIGNIFICANT))
        /// When all significant children have exited on their own.
        public static let allSignificant = AutoShutdown(raw: UInt32(SWERL_AUTO_SHUTDOWN_ALL_SIGNIFICANT))
    }

    /// A supervisor's flags and children. Defaults are OTP's: one_for_one,
    /// at most 1 restart in 5 seconds.
    public struct Spec: Sendable {
        /// What a crash restarts: the child alone, all of them, or the rest after it.
        public var strategy: Strategy
        /// At most `intensity` restarts within `period`, else the
        /// supervisor gives up (OTP-44).
        public var intensity: UInt32
        /// The window of `intensity`.
        public var period: Duration
        /// Whether significant children's exits end the supervisor (OTP-52).
        public var autoShutdown: AutoShutdown
        /// Started in order, stopped in reverse order.
        public var children: [ChildSpec]

        /// A supervisor's spec; the defaults are OTP's.
        ///
        /// - Parameters:
        ///   - strategy: What a child's exit restarts.
        ///   - intensity: Restarts allowed within `period` before the supervisor gives up.
        ///   - period: The window of `intensity`; more than zero.
        ///   - autoShutdown: Whether significant children's exits end the supervisor.
        ///   - children: Started in order; for `simpleOneForOne`, exactly one template.
        public init(strategy: Strategy = .oneForOne, intensity: UInt32 = 1, period: Duration = .seconds(5),
                    autoShutdown: AutoShutdown = .never, children: [ChildSpec] = []) {
            self.strategy = strategy
            self.intensity = intensity
            self.period = period
            self.autoShutdown = autoShutdown
            self.children = children
        }

        /// A supervisor's spec, the period in milliseconds. Deprecated: use
        /// `init(strategy:intensity:period:autoShutdown:children:)`.
        ///
        /// - Parameters:
        ///   - strategy: What a child's exit restarts.
        ///   - intensity: Restarts allowed within the period before the supervisor gives up.
        ///   - periodMilliseconds: The window of `intensity`; at least 1.
        ///   - autoShutdown: Whether significant children's exits end the supervisor.
        ///   - children: Started in order; for `simpleOneForOne`, exactly one template.
        @available(*, deprecated, renamed: "init(strategy:intensity:period:autoShutdown:children:)")
        public init(strategy: Strategy = .oneForOne, intensity: UInt32 = 1, periodMilliseconds: UInt32,
                    autoShutdown: AutoShutdown = .never, children: [ChildSpec] = []) {
            self.init(strategy: strategy, intensity: intensity, period: .milliseconds(Int64(periodMilliseconds)),
                      autoShutdown: autoShutdown, children: children)
        }

        /// `period` in milliseconds. Deprecated: use `period`.
        @available(*, deprecated, renamed: "period")
        public var periodMilliseconds: UInt32 {
            get { period.clampedRuntimeMilliseconds }
            set { period = .milliseconds(Int64(newValue)) }
        }

        func specification() -> SupervisorSpecification {
            SupervisorSpecification(strategy: strategy.raw, intensity: intensity,
                                    periodMillis: period.clampedRuntimeMilliseconds,
                                    autoShutdown: autoShutdown.raw, children: children.map { $0.specification() })
        }
    }

    /// One child as `whichChildren` reports it.
    public struct Child: Sendable, Hashable {
        /// Running; being restarted; not running (a temporary child gone, or a spec kept after terminate).
        public enum State: Sendable, Hashable { case running, restarting, undefined }
        /// Empty for simple_one_for_one children.
        public let id: String
        /// Its pid, or nil when it is not running.
        public let pid: Pid?
        /// Whether it runs.
        public let state: State
        /// Whether the child is a supervisor itself.
        public let isSupervisor: Bool
        /// How many times the supervisor has restarted it.
        public let restarts: UInt64
    }

    /// OTP's count_children.
    public struct Counts: Sendable, Hashable {
        /// Child specs.
        public let specs: Int
        /// Children running.
        public let active: Int
        /// Children that are supervisors.
        public let supervisors: Int
        /// Children that are workers.
        public let workers: Int
    }

    /// JSON, or Graphviz DOT.
    public enum TreeFormat: Sendable { case json, dot }
}

/// When a child is restarted (OTP-47).
public struct Restart: Hashable, Sendable {
    let raw: UInt32
    /// Always.
    public static let permanent = Restart(raw: UInt32(SWERL_PERMANENT))
    /// Only after an abnormal exit.
    public static let transient = Restart(raw: UInt32(SWERL_TRANSIENT))
    /// Never; its spec goes when it exits.
    public static let temporary = Restart(raw: UInt32(SWERL_TEMPORARY))
}

/// How a child is stopped (OTP-46).
public struct Shutdown: Hashable, Sendable {
    let milliseconds: UInt32
    /// Killed at once.
    public static let brutalKill = Shutdown(milliseconds: SWERL_BRUTAL_KILL)
    /// Asked to stop, waited for forever (the default for supervisors).
    public static let infinity = Shutdown(milliseconds: SWERL_INFINITY)
    /// Asked to stop, killed after `timeout` (at least 1 ms).
    ///
    /// - Parameter timeout: The time it gets, rounded up to whole milliseconds.
    /// - Returns: The shutdown.
    public static func timeout(_ timeout: Duration) -> Shutdown {
        Shutdown(milliseconds: max(1, timeout.clampedRuntimeMilliseconds))
    }

    /// Asked to stop, killed after `milliseconds`. Deprecated: use `timeout(_:)`.
    ///
    /// - Parameter milliseconds: The time it gets; at least 1.
    /// - Returns: The shutdown.
    @available(*, deprecated, renamed: "timeout(_:)")
    public static func timeout(milliseconds: UInt32) -> Shutdown {
        Shutdown(milliseconds: max(1, min(milliseconds, SWERL_INFINITY - 1)))
    }
}

/// A child of a supervisor: a worker made by `start` at every (re)start, or
/// a nested supervisor.
public struct ChildSpec: Sendable {
    /// The child's id, unique in its supervisor.
    public var id: String
    /// When it is restarted: always, after a crash, or never.
    public var restart: Restart
    /// How it is stopped.
    public var shutdown: Shutdown
    /// Whether its exit counts for `autoShutdown`.
    public var significant: Bool
    /// A worker whose handlers may block: it becomes a blocking process in
    /// its start (`Context.setBlocking`).
    public var blocking: Bool
    let start: Start

    enum Start: Sendable {
        case worker(@Sendable () -> any Behavior)
        case asyncWorker(@Sendable () -> any AsyncBehavior)
        case supervisor(Supervisor.Spec)
    }

    /// A worker; `start` makes a fresh behaviour at every (re)start.
    ///
    /// - Parameters:
    ///   - id: The child's id, unique in its supervisor; 1 to 255 bytes.
    ///   - restart: When it is restarted.
    ///   - shutdown: How it is stopped.
    ///   - significant: Whether its exit counts for `autoShutdown`; not with `permanent`.
    ///   - blocking: Its handlers may block: it runs on the blocking pool.
    ///   - start: Makes the behaviour, at every (re)start.
    public init(id: String, restart: Restart = .permanent, shutdown: Shutdown = .timeout(.seconds(5)),
                significant: Bool = false, blocking: Bool = false, start: @escaping @Sendable () -> any Behavior) {
        self.id = id
        self.restart = restart
        self.shutdown = shutdown
        self.significant = significant
        self.blocking = blocking
        self.start = .worker(start)
    }

    /// A worker whose handler may await (`AsyncBehavior`); `start` makes a
    /// fresh behaviour at every (re)start.
    ///
    /// - Parameters:
    ///   - id: The child's id, unique in its supervisor; 1 to 255 bytes.
    ///   - restart: When it is restarted.
    ///   - shutdown: How it is stopped.
    ///   - significant: Whether its exit counts for `autoShutdown`; not with `permanent`.
    ///   - start: Makes the behaviour, at every (re)start.
    public init(id: String, restart: Restart = .permanent, shutdown: Shutdown = .timeout(.seconds(5)),
                significant: Bool = false, async start: @escaping @Sendable () -> any AsyncBehavior) {
        self.id = id
        self.restart = restart
        self.shutdown = shutdown
        self.significant = significant
        self.blocking = false
        self.start = .asyncWorker(start)
    }

    /// A nested supervisor.
    ///
    /// - Parameters:
    ///   - id: The child's id, unique in its supervisor; 1 to 255 bytes.
    ///   - supervisor: The nested tree's spec.
    ///   - restart: When it is restarted.
    ///   - shutdown: How it is stopped; by default it gets all the time it needs.
    ///   - significant: Whether its exit counts for `autoShutdown`; not with `permanent`.
    public init(id: String, supervisor: Supervisor.Spec, restart: Restart = .permanent,
                shutdown: Shutdown = .infinity, significant: Bool = false) {
        self.id = id
        self.restart = restart
        self.shutdown = shutdown
        self.significant = significant
        self.blocking = false
        self.start = .supervisor(supervisor)
    }

    func specification() -> ChildSpecification {
        switch start {
        case .worker(let make):
            return ChildSpecification(id: id, behavior: blocking ? FactoryBox.blockingTable : FactoryBox.table,
                                      argument: FactoryBox.argument(make),
                                      nested: nil, restart: restart.raw, shutdownMillis: shutdown.milliseconds,
                                      isSupervisor: false, significant: significant)
        case .asyncWorker(let make):
            return ChildSpecification(id: id, behavior: AsyncFactoryBox.table, argument: AsyncFactoryBox.argument(make),
                                      nested: nil, restart: restart.raw, shutdownMillis: shutdown.milliseconds,
                                      isSupervisor: false, significant: significant)
        case .supervisor(let spec):
            return ChildSpecification(id: id, behavior: SupervisorProcess.behavior,
                                      argument: ChildArgument(nil, release: nil), nested: spec.specification(),
                                      restart: restart.raw, shutdownMillis: shutdown.milliseconds,
                                      isSupervisor: true, significant: significant)
        }
    }
}

/// A running supervisor: its management API. Each call is a synchronous
/// call to the supervisor process; call them from outside processes.
public struct SupervisorHandle: Sendable {
    /// The supervisor process.
    public let pid: Pid
    let engine: Engine

    /// OTP's start_child. Returns the new pid (nil if the child's start ignored it).
    ///
    /// - Parameter spec: The new child's spec; the supervisor keeps it.
    /// - Returns: The child's pid, or nil when its `start` threw `IgnoreStart`.
    /// - Throws: `childStarted` or `childPresent` (a child has the id),
    ///   `startFailed` (its start failed: the detail says why),
    ///   `invalidArgument`, `badSpec` or `duplicateChild` (the spec),
    ///   `simpleOneForOne` (use `spawnChild`), `noProcess` (the supervisor
    ///   is not alive), `notSupervisor`, `insideProcess`, `stopped`.
    @discardableResult
    public func startChild(_ spec: ChildSpec) throws(SwerlError) -> Pid? {
        let (code, pid) = engine.supervisorStartChild(self.pid.rawValue, spec.specification())
        try SwerlError.check(code)
        return pid == 0 ? nil : Pid(rawValue: pid)
    }

    /// simple_one_for_one: a new child from the template, or from `start`.
    ///
    /// - Parameter start: Makes this child's behaviour in place of the
    ///   template's; nil: the template's.
    /// - Returns: The child's pid, or nil when its `start` threw `IgnoreStart`.
    /// - Throws: `simpleOneForOne` (the supervisor is not simple_one_for_one),
    ///   `startFailed`, `noProcess`, `notSupervisor`, `insideProcess`, `stopped`.
    @discardableResult
    public func spawnChild(_ start: (@Sendable () -> any Behavior)? = nil) throws(SwerlError) -> Pid? {
        let argument = start.map { FactoryBox.argument($0) }
        let (code, pid) = engine.supervisorSpawnChild(self.pid.rawValue, arg: argument?.pointer)
        if code == 0 { argument?.disown() }
        try SwerlError.check(code)
        return pid == 0 ? nil : Pid(rawValue: pid)
    }

    /// OTP's terminate_child: stops the child, keeps its spec.
    ///
    /// - Parameter id: The child's id.
    /// - Throws: `childNotFound`, `simpleOneForOne`, `noProcess`, `notSupervisor`,
    ///   `insideProcess`, `stopped`.
    public func terminateChild(_ id: String) throws(SwerlError) {
        try SwerlError.check(engine.supervisorTerminateChild(pid.rawValue, id: id))
    }

    /// simple_one_for_one: stop the child `child`.
    ///
    /// - Parameter child: The child's pid.
    /// - Throws: `childNotFound`, `simpleOneForOne` (the supervisor is not
    ///   simple_one_for_one), `noProcess`, `notSupervisor`, `insideProcess`,
    ///   `stopped`.
    public func terminateChild(_ child: Pid) throws(SwerlError) {
        try SwerlError.check(engine.supervisorTerminatePid(pid.rawValue, pid: child.rawValue))
    }

    /// OTP's restart_child: starts a terminated child's spec again.
    ///
    /// - Parameter id: The child's id.
    /// - Returns: The child's pid, or nil when its `start` threw `IgnoreStart`.
    /// - Throws: `childRunning`, `childRestarting`, `childNotFound`, `startFailed`, `simpleOneForOne`,
    ///   `noProcess`, `notSupervisor`, `insideProcess`, `stopped`.
    @discardableResult
    public func restartChild(_ id: String) throws(SwerlError) -> Pid? {
        let (code, child) = engine.supervisorRestartChild(pid.rawValue, id: id)
        try SwerlError.check(code)
        return child == 0 ? nil : Pid(rawValue: child)
    }

    /// OTP's delete_child: drops a terminated child's spec.
    ///
    /// - Parameter id: The child's id.
    /// - Throws: `childRunning`, `childRestarting`, `childNotFound`, `simpleOneForOne`,
    ///   `noProcess`, `notSupervisor`, `insideProcess`, `stopped`.
    public func deleteChild(_ id: String) throws(SwerlError) {
        try SwerlError.check(engine.supervisorDeleteChild(pid.rawValue, id: id))
    }

    /// OTP's which_children: every child, in start order.
    ///
    /// - Returns: Each child's id, pid, state, type and restart count.
    /// - Throws: `noProcess`, `notSupervisor`, `insideProcess`, `stopped`.
    public func whichChildren() throws(SwerlError) -> [Supervisor.Child] {
        let (code, infos) = engine.supervisorWhichChildren(pid.rawValue)
        try SwerlError.check(code)
        return infos.map { info in
            var copy = info
            let id = withUnsafeBytes(of: &copy.id) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let state: Supervisor.Child.State = info.state == UInt32(SWERL_CHILD_RUNNING) ? .running
                : info.state == UInt32(SWERL_CHILD_RESTARTING) ? .restarting : .undefined
            return Supervisor.Child(id: id, pid: info.pid == 0 ? nil : Pid(rawValue: info.pid), state: state,
                                    isSupervisor: info.type == UInt32(SWERL_SUPERVISOR), restarts: info.restarts)
        }
    }

    /// OTP's count_children.
    ///
    /// - Returns: The numbers of specs, running children, supervisors and workers.
    /// - Throws: `noProcess`, `notSupervisor`, `insideProcess`, `stopped`.
    public func countChildren() throws(SwerlError) -> Supervisor.Counts {
        let (code, counts) = engine.supervisorCountChildren(pid.rawValue)
        try SwerlError.check(code)
        return Supervisor.Counts(specs: Int(counts.specs), active: Int(counts.active),
                                 supervisors: Int(counts.supervisors), workers: Int(counts.workers))
    }

    /// The tree under this supervisor as JSON or Graphviz DOT.
    ///
    /// - Parameter format: JSON or DOT.
    /// - Returns: The supervisors, children, pids, states and restart counts, as text.
    /// - Throws: `noProcess`, `notSupervisor`, `insideProcess`, `stopped`.
    public func tree(_ format: Supervisor.TreeFormat = .json) throws(SwerlError) -> String {
        let (code, text) = engine.supervisionTree(pid.rawValue, format: format == .json ? UInt32(SWERL_TREE_JSON)
                                                                                           : UInt32(SWERL_TREE_DOT))
        try SwerlError.check(code)
        return text
    }
}

extension Runtime {
    /// Starts a supervision tree; returns once every child has started
    /// (OTP-44). Call from outside processes.
    ///
    /// - Parameters:
    ///   - spec: The supervisor's flags and children.
    ///   - name: A name registered for the supervisor, or nil.
    /// - Returns: The supervisor's management API.
    /// - Throws: `invalidArgument` (a bad id or name, a period of zero or less),
    ///   `duplicateChild`, `badSpec`, `startFailed` (a child's start failed:
    ///   the detail says why; those started are stopped), `nameTaken`,
    ///   `processLimit`, `outOfMemory`, `insideProcess`, `stopped`.
    public func startSupervisor(_ spec: Supervisor.Spec, name: String? = nil) throws(SwerlError) -> SupervisorHandle {
        let specification = spec.specification()
        let valid = specification.validate()
        try SwerlError.check(valid)
        let (code, pid, detail) = engine.startSupervisor(specification, name: name)
        if code < 0 && !detail.isEmpty {  // why a child did not start: its crash detail
            let failure = SwerlError.failure(code)
            let why = String(decoding: detail, as: UTF8.self)
            throw SwerlError(failure.code, detail: failure.detail.isEmpty ? why : "\(failure.detail): \(why)")
        }
        try SwerlError.check(code)
        return SupervisorHandle(pid: Pid(rawValue: pid), engine: engine)
    }

    /// The management API of a running supervisor.
    ///
    /// - Parameter pid: The supervisor; nothing is checked until a call.
    /// - Returns: Its handle.
    public func supervisor(_ pid: Pid) -> SupervisorHandle {
        SupervisorHandle(pid: pid, engine: engine)
    }
}

/// Makes a fresh Swift behaviour at every (re)start of a child.
final class FactoryBox: @unchecked Sendable {
    let make: @Sendable () -> any Behavior
    init(_ make: @escaping @Sendable () -> any Behavior) { self.make = make }

    /// An argument owning a new factory box.
    static func argument(_ make: @escaping @Sendable () -> any Behavior) -> ChildArgument {
        ChildArgument.owning(FactoryBox(make))
    }

    static let table = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, state in
            let factory = Unmanaged<FactoryBox>.fromOpaque(arg!).takeUnretainedValue()
            let box = Unmanaged.passRetained(BehaviorBox.make(factory.make())).toOpaque()
            return BehaviorBox.table.`init`!(ctx, box, state)
        },
        handle: BehaviorBox.table.handle,
        terminate: BehaviorBox.table.terminate
    )

    /// The same for a blocking worker: a blocking process from its start on.
    static let blockingTable = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, state in
            _ = Engine.setBlocking(UnsafeRawPointer(ctx), true)
            return table.`init`!(ctx, arg, state)
        },
        handle: BehaviorBox.table.handle,
        terminate: BehaviorBox.table.terminate
    )
}
