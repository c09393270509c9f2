// The same ping-pong and counting through the public Swift API (Runtime,
// Behavior, Context, Message), to show what the Swift layer costs on top of
// the core. Written the way the API's documentation suggests: value-type
// behaviours, payloads borrowed from the message, throwing sends.

import Glibc
import Swerl
import Synchronization

/// Progress a stuck run can report; shared by the behaviours and main.
final class Progress: Sendable {
    let count = Atomic<Int>(0)
    let other = Atomic<Int>(0)
    let failure = Atomic<Int32>(0)

    @inline(__always)
    func bump(_ counter: borrowing Atomic<Int>) {
        counter.store(counter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }
}

enum SwiftAPI {
    static func check(_ label: String, _ body: () throws(SwerlError) -> Void) {
        do { try body() } catch { fail("\(label): \(error)") }
    }

    static func stop(_ runtime: Runtime, _ label: String, options: Options) {
        let stats = runtime.statistics
        Watchdog.shared.guarding("\(label): Runtime.stop", seconds: options.timeoutSeconds,
                                 diagnose: { "runtime: processes=\(stats.processes) sent=\(stats.messagesSent)" }) {
            check(label) { () throws(SwerlError) in try runtime.stop(timeout: .milliseconds(10_000)) }
        }
        let after = runtime.statistics
        if after.processes != 0 || after.exited != after.spawned {
            fail("\(label): after stop processes=\(after.processes) spawned=\(after.spawned) exited=\(after.exited)")
        }
    }

    static func wait(_ latch: Latch, _ label: String, _ runtime: Runtime, options: Options,
                     progress: () -> String) -> UInt64 {
        if let firedAt = latch.wait(seconds: options.timeoutSeconds) { return firedAt }
        let stats = runtime.statistics
        printError("\nswerl-bench: STUCK: \(label): no completion after \(options.timeoutSeconds) s\n  \(progress())\n"
              + "  runtime: processes=\(stats.processes) sent=\(stats.messagesSent) dead_letters=\(stats.deadLetters)\n")
        _exit(3)
    }
}

// MARK: - Ping-pong

struct SwiftPong: Behavior {
    let progress: Progress

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        if let from = message.from { try context.send(message.payload, to: from) }
        progress.bump(progress.other)
        return .continue
    }
}

struct SwiftPing: Behavior {
    let peer: Pid
    var remaining: Int
    let ball: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
    let latch: Latch
    let progress: Progress

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        if remaining == 0 {
            latch.signal()
            return .continue
        }
        remaining -= 1
        progress.bump(progress.count)
        try context.send(ball, to: peer)
        return .continue
    }

    mutating func terminate(_ reason: ExitReason, _ context: Context) {
        if remaining != 0 { latch.signal() }  // a crash ends the run too
    }
}

enum SwiftPingPong {
    static func run(n: Int, options: Options) -> RunResult {
        let label = "pingpong.swift"
        var runtime: Runtime! = nil
        SwiftAPI.check(label) { () throws(SwerlError) in runtime = try Runtime(schedulers: 1) }
        let latch = Latch()
        let progress = Progress()
        var pingPid = Pid(rawValue: 0)
        SwiftAPI.check(label) { () throws(SwerlError) in
            let pong = try runtime.spawn(SwiftPong(progress: progress))
            pingPid = try runtime.spawn(SwiftPing(peer: pong, remaining: n, latch: latch, progress: progress))
        }
        let start = Clock.now()
        SwiftAPI.check(label) { () throws(SwerlError) in try runtime.send([UInt8](), to: pingPid) }
        let done = SwiftAPI.wait(latch, label, runtime, options: options) {
            "round trips started \(progress.count.load(ordering: .relaxed)) of \(n), "
                + "pong handled \(progress.other.load(ordering: .relaxed))"
        }
        let handled = progress.other.load(ordering: .relaxed)
        if handled != n { fail("\(label): pong handled \(handled) of \(n) (a process crashed?)") }
        SwiftAPI.stop(runtime, label, options: options)
        let seconds = Clock.seconds(done - start)
        return RunResult(seconds: seconds, metric: seconds * 1e9 / Double(n))
    }
}

// MARK: - Counting

struct SwiftCounter: Behavior {
    let target: Int
    var received = 0
    let latch: Latch
    let progress: Progress

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        if message.payload.count != 8 || message.payload.loadUnaligned(as: UInt64.self) != UInt64(received) {
            progress.bump(progress.other)  // out of order
        }
        received += 1
        progress.count.store(received, ordering: .relaxed)
        if received == target { latch.signal() }
        return .continue
    }
}

struct SwiftProducer: Behavior {
    let counter: Pid
    let total: Int
    let batch: Int
    var sent = 0

    /// `batch` messages per callback, then a message to itself to go on.
    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        let end = min(total, sent + batch)
        while sent < end {
            var value = UInt64(sent)
            try withUnsafeBytes(of: &value) { _ = try context.send($0, to: counter) }
            sent += 1
        }
        if sent < total { try context.send([UInt8](), to: context.pid) }
        return .continue
    }
}

enum SwiftCounting {
    static func run(n: Int, fromMainThread: Bool, options: Options) -> RunResult {
        let label = fromMainThread ? "counting.swift-main" : "counting.swift"
        var runtime: Runtime! = nil
        SwiftAPI.check(label) { () throws(SwerlError) in runtime = try Runtime(schedulers: 1) }
        let latch = Latch()
        let progress = Progress()
        var counter = Pid(rawValue: 0)
        SwiftAPI.check(label) { () throws(SwerlError) in
            counter = try runtime.spawn(SwiftCounter(target: n, latch: latch, progress: progress))
        }
        let start: UInt64
        if fromMainThread {
            start = Clock.now()
            Watchdog.shared.guarding("\(label): send loop on the main thread", seconds: options.timeoutSeconds,
                                     diagnose: { "counter received \(progress.count.load(ordering: .relaxed))" }) {
                SwiftAPI.check(label) { () throws(SwerlError) in
                    for index in 0..<n {
                        var value = UInt64(index)
                        try withUnsafeBytes(of: &value) { bytes throws(SwerlError) in _ = try runtime.send(bytes, to: counter) }
                    }
                }
            }
        } else {
            var producer = Pid(rawValue: 0)
            SwiftAPI.check(label) { () throws(SwerlError) in
                producer = try runtime.spawn(SwiftProducer(counter: counter, total: n, batch: max(1, options.senderBatch)))
            }
            start = Clock.now()
            SwiftAPI.check(label) { () throws(SwerlError) in try runtime.send([UInt8](), to: producer) }
        }
        let done = SwiftAPI.wait(latch, label, runtime, options: options) {
            "counter received \(progress.count.load(ordering: .relaxed)) of \(n)"
        }
        let disorder = progress.other.load(ordering: .relaxed)
        if disorder != 0 { fail("\(label): \(disorder) messages out of order") }
        SwiftAPI.stop(runtime, label, options: options)
        let seconds = Clock.seconds(done - start)
        return RunResult(seconds: seconds, metric: Double(n) / seconds / 1e6)
    }
}
