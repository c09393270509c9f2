// Async handlers: a process holds its turn while its handler awaits; the
// rest go on (the turn-group mechanism, as Python's async def handlers).

import Swerl
import Testing

/// Opens once: every waiter resumes then (and later ones at once).
private actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

private struct Sleeper: AsyncBehavior {
    let log: Box<[String]>
    let gate: Gate

    mutating func handle(_ message: Message, _ context: Context) async throws -> Next {
        switch message.kind {
        case .call:
            let text = message.text
            log.update { $0.append("start \(text)") }
            await gate.wait()
            // After the await: the message and the context still work.
            log.update { $0.append("end \(message.text)") }
            try context.reply(to: message, with: "slept on \(text)")
        case .message where message.text == "crash":
            try await Task.sleep(for: .milliseconds(1))
            throw Boom("crashed after an await")
        case .message:
            log.update { $0.append("message \(message.text)") }
        default:
            break
        }
        return .continue
    }
}

private struct Forever: AsyncBehavior {
    let ended: Box<ExitReason?>
    let sleeping: Box<Bool>

    mutating func handle(_ message: Message, _ context: Context) async throws -> Next {
        sleeping.set(true)
        try await Task.sleep(for: .seconds(60))
        return .continue
    }

    mutating func terminate(_ reason: ExitReason, _ context: Context) { ended.set(reason) }
}

@Suite("Async handlers", .timeLimit(.minutes(1)))
struct AsyncBehaviorTests {
    @Test("a handler that awaits holds its turn: its next message waits, other processes go on")
    func awaitHoldsTheTurn() async throws {
        try await withRuntime { runtime in
            let log = Box<[String]>([])
            let gate = Gate()
            let sleeper = try runtime.spawn(async: Sleeper(log: log, gate: gate))
            let echo = try runtime.spawn(Probe.echoServer())
            async let first = runtime.call(sleeper, "a")
            #expect(await waitUntil { log.value == ["start a"] })
            try runtime.send("next", to: sleeper)
            // While it awaits: a sync server answers, another async process
            // handles its messages, the sleeper's own message waits.
            #expect(try await runtime.call(echo, "meanwhile") == Array("re: meanwhile".utf8))
            let otherLog = Box<[String]>([])
            let other = try runtime.spawn(async: Sleeper(log: otherLog, gate: gate))
            try runtime.send("hello", to: other)
            #expect(await waitUntil { otherLog.value == ["message hello"] })
            #expect(log.value == ["start a"])
            await gate.open()
            #expect(try await first == Array("slept on a".utf8))
            #expect(await waitUntil { log.value.count == 3 })
            #expect(log.value == ["start a", "end a", "message next"])
        }
    }

    @Test("a hundred async processes await at once: all have started before any is let go")
    func manyAwaitTogether() async throws {
        try await withRuntime { runtime in
            let log = Box<[String]>([])
            let gate = Gate()
            let sleepers = try (0..<100).map { _ in try runtime.spawn(async: Sleeper(log: log, gate: gate)) }
            try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for (index, pid) in sleepers.enumerated() {
                    group.addTask { try await runtime.call(pid, "\(index)", timeout: .seconds(20)) }
                }
                // Handled one after another, the second would never start:
                // the first waits for the gate.
                #expect(await waitUntil { log.value.count == 100 })
                await gate.open()
                var answers = 0
                for try await answer in group {
                    #expect(String(decoding: answer, as: UTF8.self).hasPrefix("slept on "))
                    answers += 1
                }
                #expect(answers == 100)
            }
        }
    }

    @Test("a handler that throws after an await crashes its process with the error")
    func crashAfterAwait() async throws {
        try await withRuntime { runtime in
            let sleeper = try runtime.spawn(async: Sleeper(log: Box([]), gate: Gate()))
            let watcher = try Agent.spawn(runtime)
            let monitor = try await watcher.monitor(sleeper)
            try runtime.send("crash", to: sleeper)
            let down = try #require(await watcher.down(monitor))
            #expect(down.reason == .error("crashed after an await"))
        }
    }

    @Test("a stop ends a handler still awaiting: the process exits shutdown, the stop does not wait it out")
    func stopCancels() async throws {
        let runtime = try Runtime(schedulers: 1)
        let ended = Box<ExitReason?>(nil)
        let sleeping = Box<Bool>(false)
        let forever = try runtime.spawn(async: Forever(ended: ended, sleeping: sleeping))
        try runtime.send("sleep", to: forever)
        #expect(await waitUntil { sleeping.value })
        let start = ContinuousClock.now
        try await runtime.stop(timeout: .seconds(30))
        #expect(ContinuousClock.now - start < .seconds(20), "the stop waited for the sleep")
        #expect(ended.value == .shutdown)
    }

    @Test("an async handler's SKIP keeps the message for later (selective receive), and a monitor set after an await delivers its DOWN")
    func skipAndMonitor() async throws {
        try await withRuntime { runtime in
            let seen = Box<[String]>([])
            let target = try runtime.spawn(Probe.exits())
            struct Picky: AsyncBehavior {
                let seen: Box<[String]>
                let target: Pid
                var ready = false
                mutating func handle(_ message: Message, _ context: Context) async throws -> Next {
                    if message.kind == .down {
                        seen.update { $0.append("down") }
                        return .continue
                    }
                    if !ready && message.text != "open" { return .skip }  // wait for "open" first
                    await Task.yield()
                    seen.update { $0.append(message.text) }
                    if message.text == "open" {
                        ready = true
                        _ = try context.monitor(target)  // after an await: the context still works
                    }
                    return .continue
                }
            }
            let picky = try runtime.spawn(async: Picky(seen: seen, target: target))
            try runtime.send("first", to: picky)
            try runtime.send("second", to: picky)
            try runtime.send("open", to: picky)
            #expect(await waitUntil { seen.value.count == 3 })
            #expect(seen.value == ["open", "first", "second"])
            try runtime.send("go", to: target)
            #expect(await waitUntil { seen.value.last == "down" })
        }
    }
}
