// The observer's samples: once a second the listener reads the runtime's
// counters (cheap atomic loads, no process is asked) and keeps the last
// five minutes, so the page's charts start with history and go on live.

import CSwerl
import Glibc

struct ObserverSample: Sendable {
    let timeMillis: UInt64
    /// Per scheduler: busy / wall over the interval.
    let utilization: [Double]
    let processes: UInt64
    let messagesPerSecond: Double
    let memoryUsed: UInt64
    /// The OS process's resident memory (the runtime's and the program's).
    let residentBytes: UInt64
    let restarts: UInt64

    var historyJSON: String {
        JSON.object([
            ("time_ms", String(timeMillis)), ("utilization", JSON.array(utilization.map(JSON.number))),
            ("processes", String(processes)), ("messages_per_s", JSON.number(messagesPerSecond)),
            ("memory_used", String(memoryUsed)), ("rss_bytes", String(residentBytes)),
            ("restarts", String(restarts)),
        ])
    }
}

final class ObserverSamples: Sendable {
    static let kept = 300
    static let intervalMillis: UInt32 = 1000

    private struct State {
        var samples: [ObserverSample] = []
        var next = 0
        /// The counters at the last sample, to make rates of.
        var lastUsage: [swerl_scheduler_usage] = []
        var lastSent: UInt64 = 0
        var lastNanos: UInt64 = 0
    }
    private let state = Lock(State())
    let startedNanos: UInt64

    init(engine: Engine) {
        startedNanos = engine.schedulers.first?.startNanos ?? monotonicNanos()
        let usage = engine.schedulerUsage()
        let sent = engine.stats().messages_sent
        state.withLock { state in
            state.lastUsage = usage
            state.lastSent = sent
            state.lastNanos = monotonicNanos()
        }
    }

    /// Takes a sample now (the listener's tick).
    @discardableResult
    func take(from engine: Engine) -> ObserverSample {
        let usage = engine.schedulerUsage()
        let stats = engine.stats()
        let now = monotonicNanos()
        return state.withLock { state in
            let utilization = zip(usage, state.lastUsage).map { now, before -> Double in
                let wall = now.wall_ns &- before.wall_ns
                return wall == 0 ? 0 : min(1, Double(now.busy_ns &- before.busy_ns) / Double(wall))
            }
            let seconds = Double(now &- state.lastNanos) / 1e9
            let rate = seconds > 0 ? Double(stats.messages_sent &- state.lastSent) / seconds : 0
            let sample = ObserverSample(timeMillis: wallClockMillis(), utilization: utilization,
                                        processes: stats.processes, messagesPerSecond: rate,
                                        memoryUsed: stats.memory_used, residentBytes: residentBytes(),
                                        restarts: stats.restarts)
            state.lastUsage = usage
            state.lastSent = stats.messages_sent
            state.lastNanos = now
            if state.samples.count < Self.kept {
                state.samples.append(sample)
            } else {
                state.samples[state.next] = sample
                state.next = (state.next + 1) % Self.kept
            }
            return sample
        }
    }

    var latest: ObserverSample? {
        state.withLock { state in
            state.samples.isEmpty ? nil : state.samples[(state.next + state.samples.count - 1) % state.samples.count]
        }
    }

    func historyJSON() -> String {
        let samples = state.withLock { state in Array(state.samples[state.next...] + state.samples[..<state.next]) }
        return JSON.object(["interval_ms": String(Self.intervalMillis),
                            "samples": JSON.array(samples.map(\.historyJSON))])
    }

    /// GET /api/overview: the counters now, the rates of the last sample
    /// (since the start before the first).
    func overviewJSON(engine: Engine, actions: Bool) -> String {
        let stats = engine.stats()
        let sample = latest
        let utilization = sample?.utilization ?? engine.schedulerUsage().map { usage in
            usage.wall_ns == 0 ? 0 : Double(usage.busy_ns) / Double(usage.wall_ns)
        }
        let schedulers = utilization.enumerated().map { index, value in
            JSON.object(["index": String(index), "utilization": JSON.number(value)])
        }
        return JSON.object([
            ("version", JSON.string(Engine.versionText)), ("node", JSON.string(engine.nodeName)),
            ("uptime_ms", String((monotonicNanos() &- startedNanos) / 1_000_000)),
            ("time_ms", String(wallClockMillis())), ("schedulers", JSON.array(schedulers)),
            ("processes", String(stats.processes)), ("spawned", String(stats.spawned)),
            ("exited", String(stats.exited)), ("messages_sent", String(stats.messages_sent)),
            ("messages_per_s", JSON.number(sample?.messagesPerSecond ?? 0)),
            ("memory_used", String(stats.memory_used)), ("memory_limit", String(engine.memoryBudget.ceiling)),
            ("rss_bytes", String(sample?.residentBytes ?? residentBytes())),
            ("dead_letters", String(stats.dead_letters)), ("messages_rejected", String(stats.messages_rejected)),
            ("messages_dropped", String(stats.messages_dropped)), ("restarts", String(stats.restarts)),
            ("escalations", String(stats.escalations)), ("actions", JSON.bool(actions)),
        ])
    }
}

/// The resident set of this OS process (/proc/self/statm), or 0.
func residentBytes() -> UInt64 {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let count = read(fd, &buffer, buffer.count)
    guard count > 0 else { return 0 }
    let fields = buffer[0..<count].split(separator: UInt8(ascii: " "))
    guard fields.count > 1, let pages = UInt64(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
    return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
}

