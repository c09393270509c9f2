// A runtime in a swift-service-lifecycle ServiceGroup.

import Logging
import ServiceLifecycle
import Swerl
import SwerlServiceLifecycle
import Synchronization
import Testing

@Suite("RuntimeService", .timeLimit(.minutes(1)))
struct RuntimeServiceTests {
    final class Ended: Sendable {
        let reasons = Mutex<[ExitReason]>([])
    }

    struct Worker: Behavior {
        let ended: Ended
        mutating func handle(_ message: Message, _ context: Context) throws -> Next { .continue }
        mutating func terminate(_ reason: ExitReason, _ context: Context) {
            ended.reasons.withLock { $0.append(reason) }
        }
    }

    @Test("a graceful shutdown of the group stops the runtime: its processes get SHUTDOWN")
    func gracefulShutdownStops() async throws {
        let runtime = try Runtime(schedulers: 1)
        let ended = Ended()
        let root = try await runtime.startSupervisor(Supervisor.Spec(children: [
            ChildSpec(id: "worker") { Worker(ended: ended) },
        ]))
        let worker = try #require(try await root.whichChildren()[0].pid)
        let group = ServiceGroup(services: [RuntimeService(runtime)], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try runtime.send("still running", to: worker)
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(ended.reasons.withLock { $0 } == [.shutdown])
        #expect(throws: SwerlError(.stopped)) { _ = try runtime.processes }
    }

    @Test("cancelling the group's task stops the runtime too; a runtime stopped already is no error")
    func cancellationStops() async throws {
        let runtime = try Runtime(schedulers: 1)
        let group = ServiceGroup(services: [RuntimeService(runtime)], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        running.cancel()
        _ = try? await running.value
        #expect(throws: SwerlError(.stopped)) { _ = try runtime.processes }

        let stoppedFirst = try Runtime(schedulers: 1)
        try await stoppedFirst.stop()
        let quiet = ServiceGroup(services: [RuntimeService(stoppedFirst)], logger: Logger(label: "test"))
        let task = Task { try await quiet.run() }
        await quiet.triggerGracefulShutdown()
        try await task.value
    }
}
