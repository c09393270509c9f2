import Glibc

/// The awaitable forms of the calls that wait for the runtime: a stop (for
/// its processes to end), a supervisor's answer, a node's registration or a
/// connection. In an async context `try await runtime.stop()` and
/// `try await supervisor.startChild(spec)` are these; they wait on a thread
/// of their own, never on a thread of Swift's cooperative pool (a task
/// blocked there holds one of a handful of threads every task shares; on
/// Linux, Dispatch's global queues share them too). These are management
/// calls, made now and then: a thread for the wait is cheaper than what a
/// blocked pool costs. The synchronous forms stay for threads of your own.

/// Runs `body`, which may block, on a new thread and awaits its result.
/// `body` makes its own errors there (their detail is per thread).
func awaitBlocking<T: Sendable>(_ body: @escaping @Sendable () throws(SwerlError) -> T) async throws(SwerlError) -> T {
    let result: Result<T, SwerlError> = await withCheckedContinuation { continuation in
        let job: @Sendable () -> Void = {
            do throws(SwerlError) {
                continuation.resume(returning: .success(try body()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        let box = Unmanaged.passRetained(BlockingJob(job)).toOpaque()
        var thread = pthread_t()
        if pthread_create(&thread, nil, { raw in
            Unmanaged<BlockingJob>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box) == 0 {
            pthread_detach(thread)
        } else {  // no thread to be had: wait here
            Unmanaged<BlockingJob>.fromOpaque(box).takeRetainedValue().run()
        }
    }
    return try result.get()
}

private final class BlockingJob: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

extension Runtime {
    /// Stops every process and the scheduler threads, as `stop(timeout:)`,
    /// suspending the task meanwhile instead of blocking its thread.
    ///
    /// - Throws: as `stop(timeout:)`.
    public func stop(timeout: Duration? = .seconds(5)) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.stop(timeout: timeout) }
    }

    /// Starts a supervision tree, as `startSupervisor(_:name:)`, suspending
    /// the task until every child has started.
    ///
    /// - Throws: as `startSupervisor(_:name:)`.
    public func startSupervisor(_ spec: Supervisor.Spec, name: String? = nil) async throws(SwerlError)
        -> SupervisorHandle
    {
        try await awaitBlocking { () throws(SwerlError) in try self.startSupervisor(spec, name: name) }
    }

    /// Makes this runtime a node, as `startNode(_:options:)`, suspending the
    /// task until EPMD has answered.
    public func startNode(_ name: String, options: NodeOptions = NodeOptions()) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.startNode(name, options: options) }
    }

    /// Connects to `node`, as `connect(node:timeout:)`, suspending the task.
    public func connect(node: String, timeout: Duration = .seconds(7)) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.connect(node: node, timeout: timeout) }
    }
}

extension SupervisorHandle {
    /// OTP's start_child, suspending the task until the supervisor answers.
    @discardableResult
    public func startChild(_ spec: ChildSpec) async throws(SwerlError) -> Pid? {
        try await awaitBlocking { () throws(SwerlError) in try self.startChild(spec) }
    }

    /// simple_one_for_one: a new child from the template, or from `start`.
    @discardableResult
    public func spawnChild(_ start: (@Sendable () -> any Behavior)? = nil) async throws(SwerlError) -> Pid? {
        try await awaitBlocking { () throws(SwerlError) in try self.spawnChild(start) }
    }

    /// OTP's terminate_child, awaited.
    public func terminateChild(_ id: String) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.terminateChild(id) }
    }

    /// simple_one_for_one: stop the child `child`.
    public func terminateChild(_ child: Pid) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.terminateChild(child) }
    }

    @discardableResult
    /// OTP's restart_child, awaited.
    public func restartChild(_ id: String) async throws(SwerlError) -> Pid? {
        try await awaitBlocking { () throws(SwerlError) in try self.restartChild(id) }
    }

    /// OTP's delete_child, awaited.
    public func deleteChild(_ id: String) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.deleteChild(id) }
    }

    /// OTP's which_children, awaited.
    public func whichChildren() async throws(SwerlError) -> [Supervisor.Child] {
        try await awaitBlocking { () throws(SwerlError) in try self.whichChildren() }
    }

    /// OTP's count_children, awaited.
    public func countChildren() async throws(SwerlError) -> Supervisor.Counts {
        try await awaitBlocking { () throws(SwerlError) in try self.countChildren() }
    }

    /// The tree under this supervisor as JSON or Graphviz DOT.
    public func tree(_ format: Supervisor.TreeFormat = .json) async throws(SwerlError) -> String {
        try await awaitBlocking { () throws(SwerlError) in try self.tree(format) }
    }
}
