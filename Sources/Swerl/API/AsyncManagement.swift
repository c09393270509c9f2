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
    /// - Parameter timeout: How long processes get to exit before they are
    ///   killed; nil: no limit.
    /// - Throws: as `stop(timeout:)`.
    public func stop(timeout: Duration? = .seconds(5)) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.stop(timeout: timeout) }
    }

    /// Starts a supervision tree, as `startSupervisor(_:name:)`, suspending
    /// the task until every child has started.
    ///
    /// - Parameters:
    ///   - spec: The supervisor's flags and children.
    ///   - name: A name registered for the supervisor, or nil.
    /// - Returns: The supervisor's management API.
    /// - Throws: as `startSupervisor(_:name:)`.
    public func startSupervisor(_ spec: Supervisor.Spec, name: String? = nil) async throws(SwerlError)
        -> SupervisorHandle
    {
        try await awaitBlocking { () throws(SwerlError) in try self.startSupervisor(spec, name: name) }
    }

    /// Makes this runtime a node, as `startNode(_:options:)`, suspending the
    /// task until EPMD has answered.
    ///
    /// - Parameters:
    ///   - name: The node's name, `name@host` or `name` (this host's short name).
    ///   - options: Cookie, ports, tick and EPMD.
    /// - Throws: as `startNode(_:options:)`.
    public func startNode(_ name: String, options: NodeOptions = NodeOptions()) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.startNode(name, options: options) }
    }

    /// Connects to `node`, as `connect(node:timeout:)`, suspending the task.
    ///
    /// - Parameters:
    ///   - node: The node's name, `name@host`.
    ///   - timeout: How long to wait for the connection.
    /// - Throws: as `connect(node:timeout:)`.
    public func connect(node: String, timeout: Duration = .seconds(7)) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.connect(node: node, timeout: timeout) }
    }
}

extension SupervisorHandle {
    /// OTP's start_child, suspending the task until the supervisor answers.
    ///
    /// - Parameter spec: The new child's spec; the supervisor keeps it.
    /// - Returns: The child's pid, or nil when its `start` threw `IgnoreStart`.
    /// - Throws: as `startChild(_:)`.
    @discardableResult
    public func startChild(_ spec: ChildSpec) async throws(SwerlError) -> Pid? {
        try await awaitBlocking { () throws(SwerlError) in try self.startChild(spec) }
    }

    /// simple_one_for_one: a new child from the template, or from `start`.
    ///
    /// - Parameter start: Makes this child's behaviour in place of the
    ///   template's; nil: the template's.
    /// - Returns: The child's pid, or nil when its `start` threw `IgnoreStart`.
    /// - Throws: as `spawnChild(_:)`.
    @discardableResult
    public func spawnChild(_ start: (@Sendable () -> any Behavior)? = nil) async throws(SwerlError) -> Pid? {
        try await awaitBlocking { () throws(SwerlError) in try self.spawnChild(start) }
    }

    /// OTP's terminate_child, awaited.
    ///
    /// - Parameter id: The child's id.
    /// - Throws: as `terminateChild(_:)` with an id.
    public func terminateChild(_ id: String) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.terminateChild(id) }
    }

    /// simple_one_for_one: stop the child `child`.
    ///
    /// - Parameter child: The child's pid.
    /// - Throws: as `terminateChild(_:)` with a pid.
    public func terminateChild(_ child: Pid) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.terminateChild(child) }
    }

    /// OTP's restart_child, awaited.
    ///
    /// - Parameter id: The child's id.
    /// - Returns: The child's pid, or nil when its `start` threw `IgnoreStart`.
    /// - Throws: as `restartChild(_:)`.
    @discardableResult
    public func restartChild(_ id: String) async throws(SwerlError) -> Pid? {
        try await awaitBlocking { () throws(SwerlError) in try self.restartChild(id) }
    }

    /// OTP's delete_child, awaited.
    ///
    /// - Parameter id: The child's id.
    /// - Throws: as `deleteChild(_:)`.
    public func deleteChild(_ id: String) async throws(SwerlError) {
        try await awaitBlocking { () throws(SwerlError) in try self.deleteChild(id) }
    }

    /// OTP's which_children, awaited.
    ///
    /// - Returns: Each child's id, pid, state, type and restart count.
    /// - Throws: as `whichChildren()`.
    public func whichChildren() async throws(SwerlError) -> [Supervisor.Child] {
        try await awaitBlocking { () throws(SwerlError) in try self.whichChildren() }
    }

    /// OTP's count_children, awaited.
    ///
    /// - Returns: The numbers of specs, running children, supervisors and workers.
    /// - Throws: as `countChildren()`.
    public func countChildren() async throws(SwerlError) -> Supervisor.Counts {
        try await awaitBlocking { () throws(SwerlError) in try self.countChildren() }
    }

    /// The tree under this supervisor as JSON or Graphviz DOT.
    ///
    /// - Parameter format: JSON or DOT.
    /// - Returns: The supervisors, children, pids, states and restart counts, as text.
    /// - Throws: as `tree(_:)`.
    public func tree(_ format: Supervisor.TreeFormat = .json) async throws(SwerlError) -> String {
        try await awaitBlocking { () throws(SwerlError) in try self.tree(format) }
    }
}
