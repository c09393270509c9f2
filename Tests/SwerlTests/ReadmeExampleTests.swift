// The README's Swift example, as written there: it must compile and answer.

import Swerl
import Testing

private struct Counter: Behavior {
    var count = 0
    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        switch message.kind {
        case .message: count += 1
        case .call: try context.reply(to: message, with: "\(count) message(s)")
        default: break
        }
        return .continue
    }
}

@Suite("README")
struct ReadmeExampleTests {
    @Test("The README's Swift example runs: a supervised counter answers a call")
    func readmeExample() async throws {
        let runtime = try Runtime()
        let root = try await runtime.startSupervisor(Supervisor.Spec(intensity: 3, children: [
            ChildSpec(id: "counter") { Counter() },
        ]))
        let counter = try #require(try await root.whichChildren()[0].pid)
        try runtime.send("hello", to: counter)
        let answer = String(decoding: try await runtime.call(counter, "count?"), as: UTF8.self)
        #expect(answer == "1 message(s)")
        try await runtime.stop()
    }
}
