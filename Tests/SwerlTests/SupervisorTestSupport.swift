// Support for SupervisorTests (OTP-40..53): a trace that every test worker
// writes its start and terminate callbacks to, in the order they happen, so
// a test can compare "what the supervisor did" with OTP's expected sequence,
// e.g. "-b/5 -c/1 -a/1 +a +b +c" (terminate b with reason 5 = error, c and a
// with 1 = shutdown, then start a, b, c). Everything here is prefixed `Sup`
// so it never collides with the other test files' helpers.

import CSwerl
import Glibc
import Swerl
import Synchronization
import Testing

// Waiting and fresh runtimes: `waitUntil` and `withRuntime` (Helpers.swift).

/// The code a Swerl call failed with (nil when it did not throw).
func supCode(_ body: () throws -> Void) -> SwerlError.Code? {
    do {
        try body()
        return nil
    } catch let error as SwerlError {
        return error.code
    } catch {
        return SwerlError.Code(rawValue: Int32.min)
    }
}

// MARK: - The trace

final class SupTrace: Sendable {
    enum Kind: Sendable { case start, terminate, failedStart, exitMessage, down }

    struct Entry: Sendable {
        let kind: Kind
        let id: String
        let pid: Pid?
        let from: Pid?
        let reason: ExitReason?
        let at: ContinuousClock.Instant
    }

    private let entries = TestLock<[Entry]>([])

    func add(_ kind: Kind, _ id: String, pid: Pid? = nil, from: Pid? = nil, reason: ExitReason? = nil) {
        let entry = Entry(kind: kind, id: id, pid: pid, from: from, reason: reason, at: .now)
        entries.withLock { $0.append(entry) }
    }

    /// Where the trace is now: pass it to `since:` later.
    var mark: Int { entries.withLock { $0.count } }

    func all(since mark: Int = 0) -> [Entry] {
        entries.withLock { Array($0[min(mark, $0.count)...]) }
    }

    func count(_ kind: Kind, _ id: String? = nil, since mark: Int = 0) -> Int {
        all(since: mark).filter { $0.kind == kind && (id == nil || $0.id == id) }.count
    }

    /// "+id" start, "-id/code" terminate, "!id" failed start, "D:id/code" a
    /// DOWN (unless `downs` is false); EXIT messages only with `exits`
    /// ("E:id/code").
    func text(since mark: Int = 0, downs: Bool = true, exits: Bool = false) -> String {
        all(since: mark).compactMap { entry -> String? in
            switch entry.kind {
            case .start: return "+\(entry.id)"
            case .terminate: return "-\(entry.id)/\(entry.reason?.code ?? -1)"
            case .failedStart: return "!\(entry.id)"
            case .down: return downs ? "D:\(entry.id)/\(entry.reason?.code ?? -1)" : nil
            case .exitMessage: return exits ? "E:\(entry.id)/\(entry.reason?.code ?? -1)" : nil
            }
        }.joined(separator: " ")
    }

    /// Index of the first entry of `kind` for `id` since mark.
    func index(_ kind: Kind, _ id: String, since mark: Int = 0) -> Int? {
        all(since: mark).firstIndex { $0.kind == kind && $0.id == id }
    }
}

// MARK: - Workers

/// What a trapping worker does with an EXIT message.
enum SupOnExit: Sendable {
    /// Exit with the signal's reason (a well-behaved OTP process).
    case follow
    /// Ignore it: the supervisor has to kill.
    case ignore
    /// Exit with another reason.
    case exitWith(ExitReason)
    /// Exit shutdown this many milliseconds later.
    case delay(UInt32)
}

/// A worker's shared configuration and counters (the behaviour is made anew
/// at every start; this outlives it).
final class SupWorkerState: Sendable {
    struct Values: Sendable {
        var failStart = false
        var trap = false
        var onExit: SupOnExit = .follow
        var starts = 0
        var failedStarts = 0
        var terminates = 0
        var lastReason: ExitReason? = nil
        var pid: Pid? = nil
        /// For the "unlink" command.
        var supervisor: Pid? = nil
        var unlinked = false
    }

    private let values: TestLock<Values>

    init(failStart: Bool = false, trap: Bool = false, onExit: SupOnExit = .follow) {
        values = TestLock(Values(failStart: failStart, trap: trap, onExit: onExit))
    }

    func read<R: Sendable>(_ body: (Values) -> R) -> R { values.withLock { body($0) } }
    func update(_ body: (inout Values) -> Void) { values.withLock { body(&$0) } }

    var starts: Int { read { $0.starts } }
    var failedStarts: Int { read { $0.failedStarts } }
    var terminates: Int { read { $0.terminates } }
    var lastReason: ExitReason? { read { $0.lastReason } }
    var pid: Pid? { read { $0.pid } }
    var failStart: Bool {
        get { read { $0.failStart } }
        set { update { $0.failStart = newValue } }
    }
}

struct SupStartFailure: Error, CustomStringConvertible {
    let id: String
    var description: String { "start of \(id) fails on purpose" }
}

struct SupCrash: Error, CustomStringConvertible {
    let id: String
    var description: String { "\(id) crashes on purpose" }
}

/// The test worker: records its callbacks in the trace; obeys "crash"
/// (throws: reason error), "stop" (normal), "shutdown" (shutdown).
struct SupWorker: Behavior {
    let id: String
    let trace: SupTrace
    let state: SupWorkerState

    mutating func start(_ context: Context) throws {
        let (fail, trap) = state.read { ($0.failStart, $0.trap) }
        if fail {
            state.update { $0.failedStarts += 1 }
            trace.add(.failedStart, id, pid: context.pid)
            throw SupStartFailure(id: id)
        }
        if trap { try context.trapExits(true) }
        let pid = context.pid
        state.update {
            $0.starts += 1
            $0.pid = pid
        }
        trace.add(.start, id, pid: pid)
    }

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        switch message.kind {
        case .exit:
            trace.add(.exitMessage, id, pid: context.pid, from: message.from, reason: message.reason)
            switch state.read({ $0.onExit }) {
            case .follow: return .exit(message.reason ?? .shutdown)
            case .ignore: return .continue
            case .exitWith(let reason): return .exit(reason)
            case .delay(let ms):
                try context.setReceiveTimeout(.milliseconds(Int64(ms)))
                return .continue
            }
        case .timeout:
            return .exit(.shutdown)
        case .message:
            switch message.text {
            case "crash": throw SupCrash(id: id)
            case "stop": return .stop
            case "shutdown": return .exit(.shutdown)
            case "unlink":
                if let supervisor = state.read({ $0.supervisor }) {
                    try context.unlink(supervisor)
                    state.update { $0.unlinked = true }
                }
                return .continue
            default: return .continue
            }
        default:
            return .continue
        }
    }

    mutating func terminate(_ reason: ExitReason, _ context: Context) {
        state.update {
            $0.terminates += 1
            $0.lastReason = reason
        }
        trace.add(.terminate, id, pid: context.pid, reason: reason)
    }
}

/// A test's workers by id, all writing to one trace.
final class SupLab: Sendable {
    let trace = SupTrace()
    private let states = TestLock<[String: SupWorkerState]>([:])

    /// The state of worker `id` (created on first use).
    func state(_ id: String) -> SupWorkerState {
        states.withLock { states in
            if let state = states[id] { return state }
            let state = SupWorkerState()
            states[id] = state
            return state
        }
    }

    /// A worker child spec whose behaviour records into the trace.
    func worker(_ id: String, restart: Restart = .permanent, shutdown: Shutdown = .timeout(.milliseconds(5000)),
                significant: Bool = false, trap: Bool = false, onExit: SupOnExit = .follow,
                failStart: Bool = false) -> ChildSpec {
        let state = self.state(id)
        state.update {
            $0.trap = trap
            $0.onExit = onExit
            $0.failStart = failStart
        }
        let trace = self.trace
        return ChildSpec(id: id, restart: restart, shutdown: shutdown, significant: significant) {
            SupWorker(id: id, trace: trace, state: state)
        }
    }

    /// A factory for simple_one_for_one children: each spawned child gets its
    /// own id (and state).
    func factory(_ id: String, trap: Bool = false, onExit: SupOnExit = .follow) -> @Sendable () -> any Behavior {
        let state = self.state(id)
        state.update {
            $0.trap = trap
            $0.onExit = onExit
        }
        let trace = self.trace
        return { SupWorker(id: id, trace: trace, state: state) }
    }
}

// MARK: - Supervisor helpers

extension SupervisorHandle {
    /// The pid of child `id` (nil: not running or unknown).
    func supPid(_ id: String) throws -> Pid? {
        try whichChildren().first { $0.id == id }?.pid
    }

    /// The record of child `id`.
    func supChild(_ id: String) throws -> Supervisor.Child? {
        try whichChildren().first { $0.id == id }
    }

    /// The ids, in which_children order, comma-separated.
    func supIds() throws -> String {
        try whichChildren().map(\.id).joined(separator: ",")
    }

    /// count_children as [specs, active, supervisors, workers].
    func supCounts() throws -> [Int] {
        let counts = try countChildren()
        return [counts.specs, counts.active, counts.supervisors, counts.workers]
    }

    /// Waits until the supervisor is idle (a call is answered only then).
    func supSync() {
        _ = try? countChildren()
    }
}

/// A plain process that watches others: monitors on request and records
/// each DOWN in the trace as "D:name/code", and can run a closure inside its
/// handler (to call APIs from inside a process).
final class SupWatcher: Sendable {
    struct Job: Sendable {
        let body: @Sendable (Context) -> Void
    }

    let pid: Pid
    private let control: SupWatcherControl

    private init(pid: Pid, control: SupWatcherControl) {
        self.pid = pid
        self.control = control
    }

    /// A watcher; with a trace, each DOWN is recorded there as "D:name/code".
    static func spawn(_ runtime: Runtime, trace: SupTrace? = nil) throws -> SupWatcher {
        let control = SupWatcherControl(trace: trace)
        let pid = try runtime.spawn(SupWatcherBehavior(control: control))
        return SupWatcher(pid: pid, control: control)
    }

    /// Runs `body` inside the watcher's handler and returns its result.
    func run<T: Sendable>(_ runtime: Runtime, _ body: @escaping @Sendable (Context) -> T) async throws -> T {
        let result = SupBox<T?>(nil)
        control.enqueue(Job { context in
            let value = body(context)
            result.set(value)
        })
        try runtime.send(SupWatcherBehavior.marker, to: pid)
        var value: T? = nil
        await waitUntil {
            value = result.value
            return value != nil
        }
        guard let value else { throw SupWatcherTimeout() }
        return value
    }

    /// Monitors `target`; its DOWN is recorded as "D:name/code".
    @discardableResult
    func watch(_ runtime: Runtime, _ target: Pid, as name: String) async throws -> Ref {
        let control = self.control
        let ref: Ref? = try await run(runtime) { context in
            guard let ref = try? context.monitor(target) else { return nil }
            control.name(ref, name)
            return ref
        }
        guard let ref else { throw SupWatcherTimeout() }
        return ref
    }

    /// The reason of the DOWN for `ref`, once it comes (nil after 10 s).
    func down(_ ref: Ref) async -> ExitReason? {
        var reason: ExitReason?
        await waitUntil {
            reason = control.downs.withLock { $0[ref] }
            return reason != nil
        }
        return reason
    }

    func hasDown(_ ref: Ref) -> Bool { control.downs.withLock { $0[ref] != nil } }

    /// The exit reason code of the process `ref` monitors (nil after 10 s).
    func exitCode(_ ref: Ref) async -> Int32? { await down(ref)?.code }
}

struct SupWatcherTimeout: Error {}

/// A value shared between a test and process threads.
final class SupBox<Value: Sendable>: Sendable {
    private let mutex: TestLock<Value>
    init(_ value: Value) { mutex = TestLock(value) }
    var value: Value { mutex.withLock { $0 } }
    func set(_ value: Value) { mutex.withLock { $0 = value } }
    func update(_ body: (inout Value) -> Void) { mutex.withLock { body(&$0) } }
}

final class SupWatcherControl: Sendable {
    let trace: SupTrace?
    let jobs = TestLock<[SupWatcher.Job]>([])
    let names = TestLock<[Ref: String]>([:])
    let downs = TestLock<[Ref: ExitReason]>([:])

    init(trace: SupTrace?) { self.trace = trace }

    func enqueue(_ job: SupWatcher.Job) { jobs.withLock { $0.append(job) } }
    func name(_ ref: Ref, _ name: String) { names.withLock { $0[ref] = name } }
}

struct SupWatcherBehavior: Behavior {
    let control: SupWatcherControl
    static let marker: [UInt8] = Array("\u{1}sup-watcher-job\u{1}".utf8)

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        if message.kind == .message, message.from == nil, message.payload.elementsEqual(Self.marker) {
            let jobs = control.jobs.withLock { jobs -> [SupWatcher.Job] in
                defer { jobs = [] }
                return jobs
            }
            for job in jobs { job.body(context) }
            return .continue
        }
        if message.kind == .down, let ref = message.ref {
            let name = control.names.withLock { $0[ref] } ?? "?"
            let reason = message.reason ?? .normal
            control.trace?.add(.down, name, pid: message.from, reason: reason)
            control.downs.withLock { $0[ref] = reason }
        }
        return .continue
    }
}

/// Reason codes as they appear in traces.
enum SupReason {
    static let normal = Int32(SWERL_REASON_NORMAL)
    static let shutdown = Int32(SWERL_REASON_SHUTDOWN)
    static let killed = Int32(SWERL_REASON_KILLED)
    static let error = Int32(SWERL_REASON_ERROR)
}

// MARK: - Steps

extension SupervisorHandle {
    /// Sends "crash" (or another command) to child `id`; returns its pid.
    @discardableResult
    func supSend(_ runtime: Runtime, _ id: String, _ command: String = "crash",
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> Pid {
        let pid = try #require(try supPid(id), "child \(id) is not running", sourceLocation: sourceLocation)
        try runtime.send(command, to: pid)
        return pid
    }

    /// Makes child `id` exit with `command` and waits until the supervisor
    /// has handled the exit (its record no longer shows the old pid).
    func supExit(_ runtime: Runtime, _ lab: SupLab, _ id: String, _ command: String,
                 sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let before = lab.state(id).terminates
        let pid = try supSend(runtime, id, command, sourceLocation: sourceLocation)
        #expect(await waitUntil { lab.state(id).terminates == before + 1 }, sourceLocation: sourceLocation)
        #expect(await waitUntil { (try? self.supPid(id)) != pid }, sourceLocation: sourceLocation)
    }

    /// Crashes `victim`, waits for the starts `expected` announces, then
    /// compares the trace and checks which children got new pids.
    func supStep(_ runtime: Runtime, _ lab: SupLab, crash victim: String, expect expected: String,
                 restarted: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let before = try await whichChildren()
        let mark = lab.trace.mark
        let starts = expected.split(separator: " ").filter { $0.hasPrefix("+") }.count
        try supSend(runtime, victim, sourceLocation: sourceLocation)
        #expect(await waitUntil {
            lab.trace.count(.start, since: mark) >= starts && lab.trace.count(.terminate, victim, since: mark) == 1
        }, sourceLocation: sourceLocation)
        supSync()
        #expect(lab.trace.text(since: mark) == expected, "crash of \(victim)", sourceLocation: sourceLocation)
        // Children still listed keep their place; restarted ones have new
        // pids, the others their old ones. (Callers check the id list.)
        let after = try await whichChildren()
        #expect(after.map(\.id) == before.map(\.id).filter { id in after.contains { $0.id == id } },
                sourceLocation: sourceLocation)
        for old in before {
            let new = after.first { $0.id == old.id }
            if restarted.contains(old.id) {
                #expect(new?.pid != nil && new?.pid != old.pid, "crash of \(victim): \(old.id) should restart",
                        sourceLocation: sourceLocation)
                #expect(new?.state == .running, sourceLocation: sourceLocation)
            } else if let new {
                #expect(new.pid == old.pid, "crash of \(victim): \(old.id) should be untouched",
                        sourceLocation: sourceLocation)
            }
        }
    }
}
