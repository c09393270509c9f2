// The benchmark list and the order they run in.

import Glibc
import Swerl

enum Bench {
    static let ids = [
        "spawn.process", "spawn.main",
        "pingpong.core", "pingpong.swift", "pingpong.64k-copied", "pingpong.64k-shared", "fanout.1m",
        "counting.core", "counting.core-flow", "counting.main", "counting.swift", "counting.swift-main",
        "restart.storm", "restart.storm-multi", "restart.short", "restart.short-multi",
        "restart.storm-100", "restart.storm-10k", "restart.scaling",
        "observer.pingpong", "observer.pingpong-observed", "observer.counting", "observer.counting-observed",
        "observer.overhead",
        "burst.100k", "burst.1m", "burst.4m",
    ]

    static func main(_ arguments: [String]) {
        if arguments.first == "--protocol" {
            ProtocolMode.main(Array(arguments.dropFirst()))
            return
        }
        let options = Options.parse(arguments, ids: ids)
        let harness = Harness(options: options)
        print("swerl-bench: \(Machine.cpuModel), \(Machine.onlineCPUs) CPUs, load average \(Format.fixed(Machine.loadAverage, 2)); "
              + (options.quick ? "QUICK sizes (not a result); " : "")
              + "\(options.warmups) warm-up + \(options.runs) runs, each >= \(options.minSeconds) s"
              + (options.fixedN.map { "; fixed n=\(Format.grouped($0))" } ?? ""))
        print("")

        spawn(harness, options)
        pingPong(harness, options)
        counting(harness, options)
        restarts(harness, options)
        bursts(harness, options)
        sharedBinaries(harness, options)
        observerOverhead(harness, options)

        print("")
        harness.printTable()
        if let path = options.jsonPath {
            harness.writeJSON(to: path, header: [
                ("cpu", Machine.cpuModel), ("cpus", String(Machine.onlineCPUs)),
                ("mode", options.quick ? "quick" : options.fixedN != nil ? "fixed-n" : "full"),
            ])
        }
    }

    // MARK: Spawn 1M idle processes (one scheduler per CPU)

    static func spawn(_ harness: Harness, _ options: Options) {
        let spawnCount = options.fixedN ?? options.spawnCount
        var accounted: [Double] = []
        for fromProcess in [true, false] {
            let id = fromProcess ? "spawn.process" : "spawn.main"
            let origin = fromProcess ? "from a process" : "from main thread"
            var coldRSS: Double? = nil
            let results = harness.measure(
                id: id, title: "spawn idle, \(origin) (µs/spawn)",
                unit: "µs", better: .lower, target: Targets.spawn,
                initialN: spawnCount, quickN: spawnCount, calibrate: false
            ) { n in
                let outcome = CoreSpawn.run(n: n, fromProcess: fromProcess, options: options)
                if coldRSS == nil { coldRSS = outcome.rssBytesPerProcess }
                return outcome.result
            }
            guard !results.isEmpty else { continue }
            let rss = results.compactMap { $0.extras.first { $0.0 == "rss-B/proc" }?.1 }
            accounted += results.compactMap { $0.extras.first { $0.0 == "info.memory-B" }?.1 }
            var row = Row(id: "memory.rss-\(fromProcess ? "process" : "main")",
                          title: "idle process memory, RSS, spawned \(origin)", unit: "B",
                          better: .lower, target: Targets.memory, n: spawnCount, summary: Summary(values: rss))
            row.note = "RSS (/proc/self/statm) with all \(Format.grouped(spawnCount)) processes alive minus RSS "
                + "before the runtime started, / n; nothing else subtracted"
                + (coldRSS.map { "; first (coldest) run \(Format.fixed($0, 0)) B" } ?? "")
            harness.record(row)
        }
        guard !accounted.isEmpty else { return }
        var row = Row(id: "memory.info", title: "idle process memory, process_info.memory", unit: "B",
                      better: .lower, target: Targets.memory, n: spawnCount, summary: Summary(values: accounted))
        row.note = "the runtime's own accounting for one idle child (swerl_process_info.memory)"
        harness.record(row)
    }

    // MARK: Ping-pong on one scheduler

    static func pingPong(_ harness: Harness, _ options: Options) {
        harness.measure(id: "pingpong.core", title: "ping-pong round trip, core (1 sched)", unit: "ns",
                        better: .lower, target: Targets.pingPong, initialN: 500_000, quickN: 100_000) {
            CorePingPong.run(n: $0, options: options)
        }
        harness.measure(id: "pingpong.swift", title: "ping-pong round trip, Swift API (1 sched)", unit: "ns",
                        better: .lower, target: Targets.pingPong, initialN: 500_000, quickN: 100_000) {
            SwiftPingPong.run(n: $0, options: options)
        }
    }

    // MARK: Counting on one scheduler

    static func counting(_ harness: Harness, _ options: Options) {
        let initial = 2_000_000
        let quick = 300_000
        harness.measure(id: "counting.core", title: "counting, core, process sender (1 sched)", unit: "M msg/s",
                        better: .higher, target: Targets.counting, initialN: initial, quickN: quick) {
            CoreCounting.run(n: $0, sender: .process, options: options)
        }
        harness.measure(id: "counting.core-flow", title: "counting, core, flow-controlled sender", unit: "M msg/s",
                        better: .higher, target: Targets.counting, initialN: initial, quickN: quick) {
            CoreCounting.run(n: $0, sender: .flowControlled, options: options)
        }
        harness.measure(id: "counting.main", title: "counting, core, main-thread sender", unit: "M msg/s",
                        better: .higher, target: Targets.counting, initialN: initial, quickN: quick) {
            CoreCounting.run(n: $0, sender: .mainThread, options: options)
        }
        harness.measure(id: "counting.swift", title: "counting, Swift API, process sender", unit: "M msg/s",
                        better: .higher, target: Targets.counting, initialN: initial, quickN: quick) {
            SwiftCounting.run(n: $0, fromMainThread: false, options: options)
        }
        harness.measure(id: "counting.swift-main", title: "counting, Swift API, main-thread sender", unit: "M msg/s",
                        better: .higher, target: Targets.counting, initialN: initial, quickN: quick) {
            SwiftCounting.run(n: $0, fromMainThread: true, options: options)
        }
    }

    // MARK: Supervisor restart storms

    static func restarts(_ harness: Harness, _ options: Options) {
        let cpus = "\(Machine.onlineCPUs) sched"
        for (id, schedulers, placement) in [("restart.storm", 1, "1 sched"), ("restart.storm-multi", 0, cpus)] {
            harness.measure(id: id, title: "restart storm, 1,000 children, one_for_one (\(placement))",
                            unit: "restarts/s", better: .higher, target: Targets.restartStorm,
                            initialN: 20_000, quickN: 5_000) {
                CoreSupervisor.run(label: id, children: 1_000, kind: .sustained(restarts: $0),
                                   schedulers: UInt32(schedulers), options: options)
            }
        }
        // 100 children x 10 crashes; --n N: N / 10 children x 10 crashes.
        for (id, schedulers, placement) in [("restart.short", 1, "1 sched"), ("restart.short-multi", 0, cpus)] {
            harness.measure(id: id, title: "short storm, 100 children x 10 crashes (\(placement))",
                            unit: "restarts/s", better: .higher, target: Targets.restartShort,
                            initialN: 1_000, quickN: 1_000, calibrate: false) {
                CoreSupervisor.run(label: id, children: max(1, $0 / 10), kind: .short(crashes: 10),
                                   schedulers: UInt32(schedulers), options: options)
            }
        }
        // O(1) per restart: the same storm with 100 and with 10,000 children,
        // their runs interleaved so that the ratio compares like with like.
        let sizes = [(id: "restart.storm-100", children: 100, initial: 20_000, quick: 5_000),
                     (id: "restart.storm-10k", children: 10_000, initial: 50_000, quick: 20_000)]
        let results = harness.measureInterleaved(sizes.map { size in
            Harness.Measurement(
                id: size.id, title: "restart storm, \(Format.grouped(size.children)) children (1 sched)",
                unit: "restarts/s", better: .higher, target: Targets.restartStorm,
                initialN: size.initial, quickN: size.quick, neededBy: "restart.scaling"
            ) {
                CoreSupervisor.run(label: size.id, children: size.children, kind: .sustained(restarts: $0),
                                   schedulers: 1, options: options)
            }
        })
        guard options.selects("restart.scaling"), !results[0].isEmpty, !results[1].isEmpty else { return }
        let ratios = zip(results[0], results[1]).map { small, large in large.metric / small.metric }
        let summary = Summary(values: ratios)
        print("restart.scaling: restarts/s with 10,000 children / with 100, per pair of interleaved runs: "
              + ratios.map { Format.fixed($0, 2) }.joined(separator: " ")
              + "; median \(Format.fixed(summary.median, 2))\n")
        var row = Row(id: "restart.scaling", title: "restart storm, 10,000 / 100 children", unit: "ratio",
                      better: .higher, target: Targets.restartScaling, n: 10_000, summary: summary)
        row.note = "restarts/s with 10,000 children over restarts/s with 100 (1 sched), one ratio per pair of "
            + "interleaved runs; 1.0: the cost of a restart does not depend on the number of children"
        harness.record(row)
    }

    // MARK: What an open observer page costs

    /// Ping-pong and counting with and without an observer page being read
    /// (its stream, and the process table and trees every 2 s), their runs
    /// interleaved so that the ratio compares like with like.
    static func observerOverhead(_ harness: Harness, _ options: Options) {
        func observed<T>(_ on: Bool, _ body: () -> T) -> T {
            CoreRuntime.observed.store(on, ordering: .relaxed)
            defer { CoreRuntime.observed.store(false, ordering: .relaxed) }
            return body()
        }
        let rows: [(id: String, title: String, on: Bool, pingPong: Bool)] = [
            ("observer.pingpong", "ping-pong round trip (1 sched), no observer", false, true),
            ("observer.pingpong-observed", "ping-pong round trip (1 sched), observer page read", true, true),
            ("observer.counting", "counting, process sender (1 sched), no observer", false, false),
            ("observer.counting-observed", "counting, process sender (1 sched), observer page read", true, false),
        ]
        let results = harness.measureInterleaved(rows.map { row in
            Harness.Measurement(
                id: row.id, title: row.title, unit: row.pingPong ? "ns" : "M msg/s",
                better: row.pingPong ? .lower : .higher, target: nil,
                initialN: row.pingPong ? 500_000 : 2_000_000, quickN: row.pingPong ? 100_000 : 300_000,
                neededBy: "observer.overhead"
            ) { n in
                observed(row.on) {
                    row.pingPong ? CorePingPong.run(n: n, label: row.id, options: options)
                        : CoreCounting.run(n: n, sender: .process, options: options)
                }
            }
        })
        guard options.selects("observer.overhead"), results.allSatisfy({ !$0.isEmpty }) else { return }
        // Slowdown: > 1 is slower with the page open.
        let pingPong = zip(results[0], results[1]).map { off, on in on.metric / off.metric }
        let counting = zip(results[2], results[3]).map { off, on in off.metric / on.metric }
        for (name, ratios) in [("ping-pong", pingPong), ("counting", counting)] {
            let summary = Summary(values: ratios)
            print("observer.overhead: \(name) with the page read / without, per pair of interleaved runs: "
                  + ratios.map { Format.fixed($0, 3) }.joined(separator: " ")
                  + "; median \(Format.fixed(summary.median, 3))")
            var row = Row(id: "observer.overhead", title: "\(name): slowdown with an observer page read",
                          unit: "ratio", better: .lower, target: nil, n: 1, summary: summary)
            row.note = "time with the page's stream and 2 s fetches / time without; 1.03 is 3% slower"
            harness.record(row)
        }
        print("")
    }

    // MARK: Shared binaries: large payloads by reference

    /// Ping-pong with 64 KiB each way, copied and shared (the runs
    /// interleaved), and a fan-out of one 1 MiB binary to 1,000 processes.
    static func sharedBinaries(_ harness: Harness, _ options: Options) {
        harness.measureInterleaved([false, true].map { shared in
            Harness.Measurement(
                id: shared ? "pingpong.64k-shared" : "pingpong.64k-copied",
                title: "ping-pong, 64 KiB each way, \(shared ? "one shared binary re-sent" : "copied") (1 sched)",
                unit: "ns", better: .lower, target: shared ? Targets.pingPong64k : nil,
                initialN: 20_000, quickN: 5_000
            ) { n in
                CorePingPong.run(n: n, payload: 64 << 10, shared: shared,
                                 label: shared ? "pingpong.64k-shared" : "pingpong.64k-copied", options: options)
            }
        })
        harness.measure(id: "fanout.1m", title: "fan-out, 1 MiB shared binary to 1,000 processes, acked (1 sched)",
                        unit: "µs/round", better: .lower, target: Targets.fanOut, initialN: 100, quickN: 100) { rounds in
            CoreFanOut.run(size: 1 << 20, receivers: 1_000, rounds: rounds, label: "fanout.1m", options: options)
        }
    }

    // MARK: Bursts: deep mailboxes

    /// A producer process sends all its messages in one turn (a mailbox
    /// that deep, then drained by the counter), as real producers burst.
    static func bursts(_ harness: Harness, _ options: Options) {
        for (id, n) in [("burst.100k", 100_000), ("burst.1m", 1_000_000), ("burst.4m", 4_000_000)] {
            harness.measure(id: id, title: "burst of \(Format.grouped(n)) in one turn, drained (1 sched)",
                            unit: "M msg/s", better: .higher, target: nil,
                            initialN: n, quickN: n, calibrate: false) { n in
                CoreCounting.run(n: n, sender: .process, burst: true, options: options)
            }
        }
    }
}

