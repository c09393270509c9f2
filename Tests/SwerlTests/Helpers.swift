// Test helpers: collectors shared with runtime threads, a wait that polls
// instead of sleeping, and small behaviours. Behaviours run on scheduler
// threads, so everything they share with a test is Sendable: lock-protected
// final classes.

import Glibc
import Swerl
import Synchronization
import Testing

// MARK: - Waiting

/// Polls `condition` every millisecond until it holds or `timeout` passes.
/// Returns whether it held.
@discardableResult
func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if condition() { return true }
        if clock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(1))
    }
}

/// Runs `body` with a fresh two-scheduler runtime and stops it afterwards.
func withRuntime(_ body: (Runtime) async throws -> Void) async throws {
    let runtime = try Runtime(schedulers: 2)
    do {
        try await body(runtime)
    } catch {
        try? await runtime.stop()
        throw error
    }
    try await runtime.stop()
}

// MARK: - Shared state

/// A value shared between a test and its processes.
final class Box<Value: Sendable>: Sendable {
    private let mutex: TestLock<Value>

    init(_ value: Value) { mutex = TestLock(value) }

    var value: Value { mutex.withLock { $0 } }

    func set(_ value: Value) { mutex.withLock { $0 = value } }

    @discardableResult
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R {
        mutex.withLock { value in body(&value) }
    }
}

/// A one-way flag a process thread can block on (a scheduler thread, never
/// the test's task).
final class Flag: Sendable {
    private let raised = TestLock(false)

    func raise() { raised.withLock { $0 = true } }

    var isRaised: Bool { raised.withLock { $0 } }

    /// Blocks the calling thread until raised, at most `seconds`. true if raised.
    func block(seconds: Double = 10) -> Bool {
        blockUntil(seconds: seconds) { isRaised }
    }
}

/// An error a test throws on purpose; its text becomes the crash detail.
struct Boom: Error, CustomStringConvertible {
    let text: String
    init(_ text: String) { self.text = text }
    var description: String { text }
}

// MARK: - Events

/// A copy of a message, safe to keep after its callback.
struct Event: Sendable, CustomStringConvertible {
    let kind: Message.Kind
    let from: Pid?
    let ref: Ref?
    let bytes: [UInt8]
    let reason: ExitReason?
    let error: SwerlError?
    let at: ContinuousClock.Instant

    init(_ message: Message) {
        kind = message.kind
        from = message.from
        ref = message.ref
        bytes = message.bytes
        reason = message.reason
        error = message.error
        at = ContinuousClock.now
    }

    /// A note a test's process makes (a message-kind event with this text).
    init(text: String) {
        kind = .message
        from = nil
        ref = nil
        bytes = Array(text.utf8)
        reason = nil
        error = nil
        at = ContinuousClock.now
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    func isDown(_ monitor: Ref) -> Bool { kind == .down && ref == monitor }
    func isExit(from pid: Pid?) -> Bool { kind == .exit && from == pid }
    func isMessage(_ text: String) -> Bool { kind == .message && self.text == text }

    var description: String {
        var parts = ["\(kind)"]
        if let from { parts.append("from \(from)") }
        if let ref { parts.append("\(ref)") }
        if let reason { parts.append("reason \(reason)") }
        if let error { parts.append("error \(error.name)") }
        if kind == .message || kind == .call || kind == .reply { parts.append("\"\(text)\"") }
        return parts.joined(separator: " ")
    }
}

/// The events a process accepted, in the order it accepted them.
final class Inbox: Sendable {
    private let events = TestLock<[Event]>([])

    func append(_ event: Event) { events.withLock { $0.append(event) } }

    var all: [Event] { events.withLock { $0 } }

    /// The texts of the user messages, in order.
    var texts: [String] { all.filter { $0.kind == .message }.map(\.text) }

    func count(where predicate: (Event) -> Bool) -> Int { all.filter(predicate).count }

    /// Waits for the first event matching `predicate`.
    func first(timeout: Duration = .seconds(10), where predicate: @Sendable (Event) -> Bool) async -> Event? {
        var found: Event?
        await waitUntil(timeout: timeout) {
            found = all.first(where: predicate)
            return found != nil
        }
        return found
    }

    /// Waits until at least `count` events match `predicate`.
    func waitForCount(_ count: Int, timeout: Duration = .seconds(10), where predicate: @Sendable (Event) -> Bool) async -> Bool {
        await waitUntil(timeout: timeout) { self.count(where: predicate) >= count }
    }
}

// MARK: - Behaviours

/// A behaviour made of closures (start, handle, terminate).
struct Probe: Behavior {
    var onStart: @Sendable (Context) throws -> Void = { _ in }
    var onHandle: @Sendable (Message, Context) throws -> Next = { _, _ in .continue }
    var onTerminate: @Sendable (ExitReason, Context) -> Void = { _, _ in }

    mutating func start(_ context: Context) throws { try onStart(context) }
    mutating func handle(_ message: Message, _ context: Context) throws -> Next { try onHandle(message, context) }
    mutating func terminate(_ reason: ExitReason, _ context: Context) { onTerminate(reason, context) }
}

extension Probe {
    /// Exits with `reason` on its first message (`.stop` when nil).
    static func exits(with reason: ExitReason? = nil, terminated: Box<ExitReason?>? = nil) -> Probe {
        Probe(onHandle: { _, _ in reason.map { .exit($0) } ?? .stop },
              onTerminate: { reason, _ in terminated?.set(reason) })
    }

    /// Exits with `reason` at once: start sends the process a message it exits on.
    static func exitsAtOnce(with reason: ExitReason) -> Probe {
        Probe(onStart: { context in try context.send("go", to: context.pid) },
              onHandle: { _, _ in .exit(reason) })
    }

    /// Throws `Boom(text)` from start.
    static func failsToStart(_ text: String, terminated: Box<Bool>? = nil) -> Probe {
        Probe(onStart: { _ in throw Boom(text) },
              onTerminate: { _, _ in terminated?.set(true) })
    }
}

extension Probe {
    /// Answers every CALL with "re: " + the request; records the CALLs.
    static func echoServer(calls: Inbox? = nil) -> Probe {
        Probe(onHandle: { message, context in
            if message.kind == .call {
                calls?.append(Event(message))
                try context.reply(to: message, with: Array("re: ".utf8) + message.bytes)
            }
            return .continue
        })
    }

    /// Keeps every CALL's ref without answering.
    static func silentServer(pending: Box<[Ref]>) -> Probe {
        Probe(onHandle: { message, _ in
            if message.kind == .call, let ref = message.ref { pending.update { $0.append(ref) } }
            return .continue
        })
    }
}

/// What an agent does with an event before recording it: `.skip` leaves it
/// in the mailbox unrecorded; anything else records it and is returned.
typealias Reaction = @Sendable (Event, Context) throws -> Next

/// The shared side of an agent: its job queue, its reaction, what it saw.
final class AgentControl: Sendable {
    struct Job: Sendable {
        let id: Int
        let body: @Sendable (Context) throws -> Next
        let cancel: @Sendable () -> Void
    }

    private struct State: Sendable {
        var jobs: [Job] = []
        var closed = false
        var nextID = 0
        var reaction: Reaction?
    }

    private let state: TestLock<State>
    /// Every event the agent accepted (jobs excluded).
    let inbox = Inbox()
    /// The reason its terminate callback saw.
    let terminated = Box<ExitReason?>(nil)

    init(reaction: Reaction?) { state = TestLock(State(reaction: reaction)) }

    var reaction: Reaction? {
        get { state.withLock { $0.reaction } }
        set { state.withLock { $0.reaction = newValue } }
    }

    /// Queues a job; nil if the agent has exited.
    func enqueue(_ make: (Int) -> Job) -> Int? {
        state.withLock { state -> Int? in
            if state.closed { return nil }
            state.nextID += 1
            state.jobs.append(make(state.nextID))
            return state.nextID
        }
    }

    func take() -> Job? {
        state.withLock { state -> Job? in state.jobs.isEmpty ? nil : state.jobs.removeFirst() }
    }

    func remove(_ id: Int) -> Job? {
        state.withLock { state -> Job? in
            guard let index = state.jobs.firstIndex(where: { $0.id == id }) else { return nil }
            return state.jobs.remove(at: index)
        }
    }

    /// The agent exits: no more jobs; the pending ones are cancelled.
    func close() -> [Job] {
        state.withLock { state -> [Job] in
            state.closed = true
            defer { state.jobs = [] }
            return state.jobs
        }
    }
}

/// A process the test drives: it runs jobs (closures with its Context) sent
/// to it, and records every other message it accepts. When it traps exits,
/// an EXIT shutdown from no process (the runtime stopping) makes it exit
/// shutdown, as a well-behaved OTP process does.
struct AgentBehavior: Behavior {
    let control: AgentControl
    static let marker: [UInt8] = Array("\u{1}swerl-test-job\u{1}".utf8)

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        if message.kind == .message, message.from == nil, message.payload.elementsEqual(Self.marker) {
            guard let job = control.take() else { return .continue }
            return try job.body(context)
        }
        let event = Event(message)
        var next = try control.reaction?(event, context) ?? .continue
        if case .skip = next { return .skip }
        control.inbox.append(event)
        // A trapping agent obeys the runtime's stop (EXIT shutdown from no
        // process) unless its reaction decided otherwise.
        if case .continue = next, event.kind == .exit, event.from == nil, event.reason == .shutdown {
            next = .exit(.shutdown)
        }
        return next
    }

    mutating func terminate(_ reason: ExitReason, _ context: Context) {
        control.terminated.set(reason)
        for job in control.close() { job.cancel() }
    }
}

struct AgentGone: Error {}

/// Something the runtime should have finished did not finish in time.
struct Hung: Error, CustomStringConvertible {
    let what: String
    var description: String { "\(what) did not complete" }
}

/// Runs `operation` in its own task and waits at most `limit` for it: an
/// operation the runtime never completes fails the test instead of hanging
/// the whole run. (A leaked task is settled when the runtime stops.)
func within<T: Sendable>(_ what: String, limit: Duration = .seconds(20),
                         _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let outcome = Box<Result<T, any Error>?>(nil)
    Task {
        do { outcome.set(.success(try await operation())) } catch { outcome.set(.failure(error)) }
    }
    guard await waitUntil(timeout: limit, { outcome.value != nil }) else { throw Hung(what: what) }
    return try outcome.value!.get()
}

extension Runtime {
    /// `call` that fails the test, rather than hanging it, if it never returns.
    func guardedCall(_ pid: Pid, _ request: String, timeout: Duration? = .seconds(5)) async throws -> [UInt8] {
        try await within("call(\(pid), \"\(request)\")") {
            try await self.call(pid, request, timeout: timeout)
        }
    }

    /// `waitForExit` that fails the test, rather than hanging it, if it never returns.
    func guardedWaitForExit(_ pid: Pid) async throws -> ExitReason {
        try await within("waitForExit(\(pid))") { await self.waitForExit(pid) }
    }
}

/// A handle on an agent process.
struct Agent: Sendable {
    let pid: Pid
    let runtime: Runtime
    let control: AgentControl

    var inbox: Inbox { control.inbox }

    /// Spawns an agent from outside any process.
    static func spawn(_ runtime: Runtime, options: SpawnOptions = SpawnOptions(),
                      reaction: Reaction? = nil) throws -> Agent {
        let control = AgentControl(reaction: reaction)
        let pid = try runtime.spawn(AgentBehavior(control: control), options: options)
        return Agent(pid: pid, runtime: runtime, control: control)
    }

    /// Spawns an agent from inside this one (so `link`/`monitor` tie it to this one).
    func spawnChild(options: SpawnOptions = SpawnOptions(), reaction: Reaction? = nil) async throws
        -> (agent: Agent, monitor: Ref?)
    {
        let control = AgentControl(reaction: reaction)
        let spawned = try await run { context in
            try context.spawn(AgentBehavior(control: control), options: options)
        }
        return (Agent(pid: spawned.pid, runtime: runtime, control: control), spawned.monitor)
    }

    /// Queues `job` and wakes the agent to run it; `job` reports its result
    /// through `finish` and returns what the handler returns. Waits at most
    /// 20 s, so a runtime that never runs the job fails the test instead of
    /// hanging it.
    private func submit<T: Sendable>(
        _ job: @escaping @Sendable (Context, _ finish: @escaping @Sendable (Result<T, any Error>) -> Void) throws -> Next
    ) async throws -> T {
        let outcome = Box<Result<T, any Error>?>(nil)
        let finish: @Sendable (Result<T, any Error>) -> Void = { result in
            outcome.update { value in if value == nil { value = result } }
        }
        let id = control.enqueue { id in
            AgentControl.Job(id: id, body: { context in try job(context, finish) },
                             cancel: { finish(.failure(AgentGone())) })
        }
        guard let id else { throw AgentGone() }
        do {
            try runtime.send(AgentBehavior.marker, to: pid)
        } catch {
            if control.remove(id) != nil { throw error }
        }
        guard await waitUntil(timeout: .seconds(20), { outcome.value != nil }) else {
            _ = control.remove(id)
            throw Hung(what: "a job for agent \(pid)")
        }
        return try outcome.value!.get()
    }

    /// Runs `body` inside the agent's handler, with its Context, and returns
    /// its result; the handler then returns what `body` chose.
    func perform<T: Sendable>(_ body: @escaping @Sendable (Context) throws -> (T, Next)) async throws -> T {
        try await submit { context, finish in
            do {
                let (value, next) = try body(context)
                finish(.success(value))
                return next
            } catch {
                finish(.failure(error))
                return .continue
            }
        }
    }

    /// Runs `body` inside the agent's handler; the agent then continues.
    func run<T: Sendable>(_ body: @escaping @Sendable (Context) throws -> T) async throws -> T {
        try await perform { context in (try body(context), .continue) }
    }

    /// Makes the agent's handler return `next` (e.g. `.exit(reason)`).
    func finish(with next: Next) async throws {
        try await perform { _ in ((), next) }
    }

    /// Makes the agent's handler throw `error` (a crash).
    func crash(_ error: Boom) async throws {
        let _: Void = try await submit { _, finish in
            finish(.success(()))
            throw error
        }
    }

    /// Replaces the agent's reaction from inside it: accepting this job makes
    /// the next offer start from the oldest message, so messages skipped
    /// before are offered to the new reaction.
    func react(_ reaction: Reaction?) async throws {
        let control = self.control
        try await run { _ in control.reaction = reaction }
    }

    func monitor(_ pid: Pid) async throws -> Ref {
        try await run { context in try context.monitor(pid) }
    }

    func link(_ pid: Pid) async throws {
        try await run { context in try context.link(pid) }
    }

    func down(_ ref: Ref) async -> Event? {
        await inbox.first { $0.isDown(ref) }
    }

    var queueLength: Int? { runtime.info(pid)?.messageQueueLength }
}

/// A monitor from a fresh observer process: the exit reason of `pid`.
struct Watch: Sendable {
    let observer: Agent
    let ref: Ref
    let pid: Pid

    /// The reason in the DOWN, once it comes.
    func reason() async -> ExitReason? {
        await observer.down(ref)?.reason
    }
}

func watch(_ pid: Pid, on runtime: Runtime) async throws -> Watch {
    let observer = try Agent.spawn(runtime)
    let ref = try await observer.monitor(pid)
    return Watch(observer: observer, ref: ref, pid: pid)
}

/// The slot part of a pid (`<node.slot.generation>`).
func slot(of pid: Pid) -> Substring {
    pid.description.split(separator: ".")[1]
}

extension ExitReason {
    var detailText: String { String(decoding: detail, as: UTF8.self) }
}

/// Blocks the calling (process) thread until `condition` holds, at most
/// `seconds`. Only for code running inside a process callback.
func blockUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
    while !condition() {
        if clock.now >= deadline { return false }
        usleep(200)
    }
    return true
}

extension Agent {
    /// Whether the agent still runs jobs (it is alive and handling messages).
    var isResponsive: Bool {
        get async { (try? await run { _ in true }) ?? false }
    }
}

// MARK: - A lock ThreadSanitizer can see

/// What the tests share with runtime threads is guarded by a pthread mutex:
/// Synchronization.Mutex waits on a raw futex, which ThreadSanitizer does not
/// see, so `swift test --sanitize=thread` would report every critical section.
final class TestLock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
