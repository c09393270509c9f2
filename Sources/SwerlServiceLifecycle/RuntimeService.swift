import ServiceLifecycle
import Swerl

/// A Swerl runtime as a swift-service-lifecycle `Service`, so a Swift
/// server starts and stops it with its other services:
///
///     let runtime = try Runtime()
///     // spawn processes, start supervisors...
///     let group = ServiceGroup(services: [RuntimeService(runtime), httpServer],
///                              gracefulShutdownSignals: [.sigterm], logger: logger)
///     try await group.run()
///
/// `run()` waits for the group's graceful shutdown (or its task's
/// cancellation), then stops the runtime: every process gets SHUTDOWN, in
/// supervision order, and is killed after `shutdownTimeout` (nil: waited
/// for). It returns once the runtime has stopped, without holding a thread
/// of the cooperative pool meanwhile.
public struct RuntimeService: Service {
    /// The runtime it stops.
    public let runtime: Runtime
    /// How long processes get to exit at the stop before they are killed;
    /// nil: no limit.
    public let shutdownTimeout: Duration?

    /// A service for `runtime`, which the caller has started already.
    ///
    /// - Parameters:
    ///   - runtime: The runtime to stop at the group's shutdown.
    ///   - shutdownTimeout: How long processes get to exit before they are
    ///     killed; nil: no limit.
    public init(_ runtime: Runtime, shutdownTimeout: Duration? = .seconds(5)) {
        self.runtime = runtime
        self.shutdownTimeout = shutdownTimeout
    }

    /// Waits for the graceful shutdown (or cancellation), then stops the
    /// runtime.
    ///
    /// - Throws: `SwerlError` from the stop (`timedOut` naming a process
    ///   that would not return); nothing for a runtime already stopped.
    public func run() async throws {
        try? await gracefulShutdown()  // or the task was cancelled: stop all the same
        do {
            try await runtime.stop(timeout: shutdownTimeout)
        } catch where error.code == .stopped {
            return  // stopped already (by the program itself)
        }
    }
}
