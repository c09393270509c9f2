// What the Savina benchmarks (SavinaMessaging.swift, SavinaForkJoin.swift)
// and the signal benchmarks (CoreSignals.swift) share: their 16-byte
// message, the end of a run, and Savina's unit of computation.
//
// Written as a C user would write them: swerl_behavior tables of
// @convention(c) functions, plain-struct state behind the state pointer,
// the Engine calls behind swerl_send / swerl_spawn.

import CSwerl
import Glibc
import Swerl
import Synchronization

/// Every Savina message: a kind, a small operand (a colour) and a 64-bit one
/// (a pid, a count, a Double's bits). 16 bytes.
struct SavinaMessage {
    var kind: UInt32
    var small: UInt32
    var value: UInt64
}

/// How a run ends: the latch the main thread waits on, and the first error
/// a process met (a failed send or spawn), which also ends the run.
struct Completion: ~Copyable {
    let latch: Unmanaged<Latch>
    let error = Atomic<Int32>(0)
    /// What failed (a short static description).
    let what = Atomic<Int>(0)

    init(_ latch: Latch) { self.latch = .passUnretained(latch) }

    func finish() { latch.takeUnretainedValue().signal() }

    /// Records the first error (0: an unexpected message) and ends the run.
    func failed(_ code: Int32, _ step: Step) {
        if error.compareExchange(expected: 0, desired: code == 0 ? -1000 : code, ordering: .relaxed).exchanged {
            what.store(step.rawValue, ordering: .relaxed)
        }
        finish()
    }

    /// Fails the benchmark (on the main thread) if a process met an error.
    func check(_ label: String) {
        let code = error.load(ordering: .relaxed)
        guard code != 0 else { return }
        let step = Step(rawValue: what.load(ordering: .relaxed)).map { "\($0)" } ?? "?"
        fail("\(label): \(step) failed: \(code == -1000 ? "unexpected message" : CoreRuntime.errorName(code))")
    }

    enum Step: Int {
        case send = 1, spawn, monitor, message, computation
    }
}

extension UnsafePointer where Pointee == Completion {
    /// Sends a SavinaMessage; an error fails the run. Returns false then.
    @inline(__always)
    func post(_ engine: Engine, to pid: UInt64, _ kind: UInt32, _ small: UInt32 = 0, _ value: UInt64 = 0) -> Bool {
        var message = SavinaMessage(kind: kind, small: small, value: value)
        let code = withUnsafeBytes(of: &message) { engine.send(to: pid, data: $0.baseAddress, count: $0.count) }
        if code != 0 {
            pointee.failed(code, .send)
            return false
        }
        return true
    }
}

enum Savina {
    /// The SavinaMessage in `message`, or nil (an empty message: a kick).
    @inline(__always)
    static func read(_ message: UnsafePointer<swerl_message>) -> SavinaMessage? {
        guard message.pointee.len == MemoryLayout<SavinaMessage>.size else { return nil }
        return message.pointee.data!.loadUnaligned(as: SavinaMessage.self)
    }

    /// Savina's performComputation(37.2): r = sin(theta)^2, with theta read
    /// from memory (so the compiler cannot fold it) and r checked (so it is
    /// not dropped); nil when r is not positive, which never happens.
    @inline(__always)
    static func compute(_ theta: Double) -> Double? {
        let sine = sin(theta)
        let r = sine * sine
        return r > 0 ? r : nil
    }

    static let theta = 37.2

    /// Whether `sum` is `count` times compute(theta), up to rounding.
    static func sumMatches(_ sum: Double, count: Int) -> Bool {
        let expected = Double(count) * compute(theta)!
        return abs(sum - expected) <= 1e-9 * expected + 1e-12
    }

    /// Spawns `count` processes of `behavior` from the main thread, the
    /// i-th with the state at `states + i`; their pids go to `pids`.
    static func spawnAll<T>(_ engine: Engine, _ behavior: swerl_behavior, count: Int,
                            states: UnsafeMutablePointer<T>, into pids: UnsafeMutablePointer<UInt64>) {
        for index in 0..<count {
            pids[index] = CoreRuntime.spawn(engine, behavior, UnsafeMutableRawPointer(states + index))
        }
    }
}

/// One run's frame: a fresh runtime, the Completion its processes end the
/// run with, the wait (with the watchdog's timeout) and the stop.
final class RunFrame {
    let label: String
    let engine: Engine
    let options: Options
    private let latch = Latch()
    private let storage: UnsafeMutablePointer<Completion>
    var completion: UnsafePointer<Completion> { UnsafePointer(storage) }

    init(_ label: String, schedulers: UInt32, options: Options) {
        self.label = label
        self.options = options
        engine = CoreRuntime.start(schedulers: schedulers)
        storage = .allocate(capacity: 1)
        storage.initialize(to: Completion(latch))
    }

    /// Waits for the end of the run (its time) and fails on a process's error.
    func wait(progress: () -> String) -> UInt64 {
        let done = CoreRuntime.wait(latch, label, timeoutSeconds: options.timeoutSeconds, engine: engine,
                                    progress: progress)
        storage.pointee.check(label)
        return done
    }

    /// Stops the runtime (every process is gone after it, which it checks);
    /// the processes' states may be freed then.
    func stop() {
        CoreRuntime.stop(engine, label, timeoutSeconds: options.timeoutSeconds)
        storage.deinitialize(count: 1)
        storage.deallocate()
    }
}
