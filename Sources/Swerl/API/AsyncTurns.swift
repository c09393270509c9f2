import CSwerl
import Glibc
import Synchronization

/// What runs a runtime's `AsyncBehavior` processes: a turn group, and one
/// thread that drives it. The thread takes a process's turn (one message),
/// sets it aside (swerl_turn_suspend) and starts the handler as a task whose
/// executor is the process's `StepExecutor`: each step of the handler (its
/// start, and each resumption after an await) comes back to this thread as
/// a job, which runs with the turn taken back (swerl_turn_resume) and then
/// set aside again, until the handler returns; then the turn is finished
/// with the handler's answer. Waiting for turns and for steps is one wait:
/// a step enqueued wakes the group's take.
final class AsyncTurns: @unchecked Sendable {
    let engine: Engine
    let group: TurnGroup
    private struct State {
        var ready: [(UnownedJob, StepExecutor)] = []
        var inFlight: [ObjectIdentifier: Task<Void, Never>] = [:]
        var waiting = false
        var cancelled = false
    }
    // A pthread lock (Lock), not Mutex: ThreadSanitizer sees through it.
    private let state = Lock(State())

    private init(engine: Engine, group: TurnGroup) {
        self.engine = engine
        self.group = group
    }

    /// The runtime's, made (and its thread started) on first use.
    static func of(_ engine: Engine) throws(SwerlError) -> AsyncTurns {
        if let made = engine.asyncTurns.load() { return made }
        let (code, group) = engine.createGroup(name: "swift-async")
        guard let group else { throw SwerlError.failure(code) }
        let made = AsyncTurns(engine: engine, group: group)
        let kept = engine.asyncTurns.storeIfNil(made)
        if kept === made { made.startThread() }
        return kept
    }

    static func spawn(on engine: Engine, _ behavior: sending some AsyncBehavior, options: SpawnOptions)
        throws(SwerlError) -> (pid: Pid, monitor: Ref?)
    {
        guard !options.blocking else {
            throw SwerlError(.invalidArgument, detail: "spawn(async:): an AsyncBehavior awaits instead of "
                + "blocking: SpawnOptions.blocking is not for it")
        }
        let turns = try of(engine)
        var flags: UInt32 = 0
        if options.link { flags |= UInt32(SWERL_SPAWN_LINK) }
        if options.monitor { flags |= UInt32(SWERL_SPAWN_MONITOR) }
        if options.trapExits { flags |= UInt32(SWERL_SPAWN_TRAP_EXIT) }
        let process = Unmanaged.passRetained(AsyncProcess(turns: turns, box: TypedAsyncBox(behavior)))
        var monitorRef: UInt64 = 0
        let (result, pid) = engine.spawn(behavior: AsyncProcess.table, arg: process.toOpaque(), flags: flags,
                                         name: options.name, mailboxLimit: options.mailboxLimit,
                                         overflow: options.overflow.rawValue, monitorRef: &monitorRef,
                                         group: turns.group)
        if result < 0 {
            process.release()
            throw SwerlError.failure(result)
        }
        return (Pid(rawValue: pid), options.monitor ? Ref(rawValue: monitorRef) : nil)
    }

    /// A step of `process`'s handler to run on the driving thread.
    func enqueue(_ job: UnownedJob, for executor: StepExecutor) {
        let wake = state.withLock { state -> Bool in
            state.ready.append((job, executor))
            return state.waiting
        }
        if wake { group.wakeDriver() }
    }

    /// The runtime stops: the handlers still awaiting are cancelled (they
    /// end, and their processes exit, as the stop asks).
    func cancelAll() {
        let tasks = state.withLock { state -> [Task<Void, Never>] in
            state.cancelled = true
            return Array(state.inFlight.values)
        }
        for task in tasks { task.cancel() }
    }

    private func startThread() {
        let retained = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            Unmanaged<AsyncTurns>.fromOpaque(raw!).takeRetainedValue().drive()
            return nil
        }, retained)
        if status == 0 { pthread_detach(thread) } else { Unmanaged<AsyncTurns>.fromOpaque(retained).release() }
    }

    /// The driving thread: steps first, then new turns; waits when there
    /// is neither. Ends when the runtime has stopped and nothing is in flight.
    private func drive() {
        var stopped = false
        while true {
            let (step, waitMillis) = state.withLock { state -> ((UnownedJob, StepExecutor)?, UInt32) in
                if !state.ready.isEmpty { return (state.ready.removeFirst(), 0) }
                state.waiting = true
                return (nil, SWERL_INFINITY)
            }
            if let (job, executor) = step {
                executor.process.runStep(job, on: self, executor: executor)
                continue
            }
            if stopped {
                let idle = state.withLock { state -> Bool in
                    state.waiting = false
                    return state.inFlight.isEmpty && state.ready.isEmpty
                }
                if idle { return }
                waitForSteps()
                continue
            }
            var turn: UnsafeMutablePointer<swerl_turn>? = nil
            let code = group.next(done: nil, handled: 0, maxMessages: 1, timeoutMillis: waitMillis, out: &turn)
            state.withLock { $0.waiting = false }
            // Stopped (or failing, which only a bug of this driver could
            // make it): no more turns; finish what is in flight and end.
            if code < 0 { stopped = true; continue }
            guard code > 0, let turn, let raw = turn.pointee.state, let messages = turn.pointee.messages else { continue }
            let process = Unmanaged<AsyncProcess>.fromOpaque(raw).takeUnretainedValue()
            start(process, turn, messages)
        }
    }

    /// After the stop: steps of cancelled handlers still come; wait for them.
    private func waitForSteps() {
        while state.withLock({ $0.ready.isEmpty && !$0.inFlight.isEmpty }) { usleep(1000) }
    }

    /// A new turn: set it aside, and start the handler's task.
    private func start(_ process: AsyncProcess, _ turn: UnsafeMutablePointer<swerl_turn>,
                       _ messages: UnsafePointer<swerl_message>) {
        turn.pointee.current = 0
        if messages.pointee.flags & SWERL_MESSAGE_WITHDRAWN != 0 {  // removed meanwhile: nothing to handle
            _ = TurnGroup.finish(turn, handled: 1)
            return
        }
        process.turn = turn
        let executor = StepExecutor(process)
        process.executor = executor
        _ = TurnGroup.suspend(turn)
        let message = UnsafeSendable(messages)
        let context = UnsafeSendable(turn.pointee.ctx)
        let task = Task(executorPreference: executor) {
            let code = await process.box.handle(message.value, context.value)
            process.result = code
        }
        let cancel = state.withLock { state -> Bool in
            state.inFlight[ObjectIdentifier(process)] = task
            return state.cancelled
        }
        if cancel { task.cancel() }
    }

    /// The handler returned: its turn is done.
    func finished(_ process: AsyncProcess) {
        _ = state.withLock { $0.inFlight.removeValue(forKey: ObjectIdentifier(process)) }
    }
}

/// A pointer handed to the handler's task (valid until the turn ends).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// One async process: its behaviour, its executor, its turn in progress.
final class AsyncProcess: @unchecked Sendable {
    let turns: AsyncTurns
    let box: AsyncBox
    /// The executor of the turn in progress (its task holds it, and it
    /// holds this process until the task is done).
    var executor: StepExecutor?
    /// The turn being handled (the driving thread's only).
    var turn: UnsafeMutablePointer<swerl_turn>?
    /// Set by the handler's last step: what handle() returns for the message.
    var result: Int32?

    init(turns: AsyncTurns, box: AsyncBox) {
        self.turns = turns
        self.box = box
    }

    /// Runs one step with the turn taken back; finishes the turn when the
    /// handler has returned, else sets it aside again.
    func runStep(_ job: UnownedJob, on turns: AsyncTurns, executor: StepExecutor) {
        guard let turn else {  // no turn: a step after the end (a task's own wind-down)
            job.runSynchronously(on: executor.asUnownedTaskExecutor())
            return
        }
        _ = TurnGroup.resume(turn)
        job.runSynchronously(on: executor.asUnownedTaskExecutor())
        guard let code = result else {
            _ = TurnGroup.suspend(turn)
            return
        }
        result = nil
        self.turn = nil
        self.executor = nil
        turns.finished(self)
        turn.pointee.results[0] = code
        _ = TurnGroup.finish(turn, handled: 1)  // terminate runs here after a STOP or crash
    }

    static let table = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, state in
            let process = Unmanaged<AsyncProcess>.fromOpaque(arg!)
            let outcome = process.takeUnretainedValue().box.start(ctx)
            if outcome == 0 { state?.pointee = arg } else { process.release() }
            return outcome
        },
        handle: { _, _, _ in Int32(SWERL_CONTINUE) },  // never: every turn of the group is a batch
        terminate: { ctx, reason, state in
            let process = Unmanaged<AsyncProcess>.fromOpaque(state!)
            process.takeUnretainedValue().box.terminate(ctx, reason)
            process.release()
        }
    )
}

/// The executor of a process's handler steps: each goes to the driving
/// thread, which runs it with the process's turn.
final class StepExecutor: TaskExecutor, @unchecked Sendable {
    let process: AsyncProcess

    init(_ process: AsyncProcess) { self.process = process }

    func enqueue(_ job: consuming ExecutorJob) {
        process.turns.enqueue(UnownedJob(job), for: self)
    }
}

/// An `AsyncBehavior` behind the driver's calls.
class AsyncBox: @unchecked Sendable {
    func start(_ ctx: OpaquePointer?) -> Int32 { 0 }
    func handle(_ message: UnsafePointer<swerl_message>, _ ctx: OpaquePointer?) async -> Int32 { 0 }
    func terminate(_ ctx: OpaquePointer?, _ reason: Int32) {}

    /// A thrown error as the crash reason (CancellationError: the stop's shutdown).
    static func fail(_ ctx: OpaquePointer?, _ error: any Error) -> Int32 {
        if error is CancellationError {
            _ = Engine.fail(UnsafeRawPointer(ctx), reason: Int32(SWERL_REASON_SHUTDOWN),
                            detail: UnsafeRawBufferPointer(start: nil, count: 0))
            return Int32(SWERL_STOP)
        }
        BehaviorBox.crash(ctx, error)
        return -1
    }
}

final class TypedAsyncBox<B: AsyncBehavior>: AsyncBox, @unchecked Sendable {
    /// One step at a time, on the driving thread, with the process's turn.
    var behavior: B

    init(_ behavior: sending B) { self.behavior = behavior }

    override func start(_ ctx: OpaquePointer?) -> Int32 {
        BehaviorBox.startResult(ctx) { try behavior.start(Context(ctx)) }
    }

    override func handle(_ message: UnsafePointer<swerl_message>, _ ctx: OpaquePointer?) async -> Int32 {
        do {
            return try await behavior.handle(Message(message), Context(ctx)).result(ctx)
        } catch {
            return Self.fail(ctx, error)
        }
    }

    override func terminate(_ ctx: OpaquePointer?, _ reason: Int32) {
        behavior.terminate(ExitReason(code: reason, detail: Engine.exitDetail(UnsafeRawPointer(ctx))), Context(ctx))
    }
}

/// A supervised `AsyncBehavior`: the child's init makes a fresh behaviour,
/// moves the process into the runtime's async turn group and starts it
/// there, as `spawn(async:)` does.
final class AsyncFactoryBox: @unchecked Sendable {
    let make: @Sendable () -> any AsyncBehavior
    init(_ make: @escaping @Sendable () -> any AsyncBehavior) { self.make = make }

    /// An argument owning a new factory box.
    static func argument(_ make: @escaping @Sendable () -> any AsyncBehavior) -> ChildArgument {
        ChildArgument.owning(AsyncFactoryBox(make))
    }

    static let table = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, state in
            let factory = Unmanaged<AsyncFactoryBox>.fromOpaque(arg!).takeUnretainedValue()
            let turns: AsyncTurns
            do {
                turns = try AsyncTurns.of(Context(ctx).checked().engine)
            } catch {
                BehaviorBox.crash(ctx, error)
                return -1
            }
            let code = Engine.setGroup(UnsafeRawPointer(ctx), turns.group)
            guard code == 0 else { return code }
            let process = Unmanaged.passRetained(AsyncProcess(turns: turns, box: box(factory.make())))
            return AsyncProcess.table.`init`!(ctx, process.toOpaque(), state)
        },
        handle: AsyncProcess.table.handle,
        terminate: AsyncProcess.table.terminate
    )

    private static func box(_ behavior: sending some AsyncBehavior) -> AsyncBox { TypedAsyncBox(behavior) }
}
