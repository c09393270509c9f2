// swerl-bench --protocol: the comparison's benchmark protocol
// (Comparison/PROTOCOL.md) as the system `swerl-swift`:
//
//     swerl-bench --protocol <bench> key=value ... warmup=W runs=R schedulers=S
//
// runs the benchmark W + R times in this process, each iteration on a fresh
// runtime with S scheduler threads (0: one per CPU), and prints one line
// `RESULT {json}` on stdout; progress goes to stderr. Every iteration checks
// its own result; a failed check exits 1, a stuck run 3 (the watchdog).
//
// The benchmarks are the table mode's functions where those already do the
// job (CorePingPong, CoreCounting, CoreSpawn, CoreSupervisor) and the
// Savina*/CoreSignals files otherwise; all of them take the core path a C
// user takes (swerl_behavior tables calling the Engine).

import Glibc

enum ProtocolMode {
    typealias Parameters = [String: Int]

    struct Iteration {
        var seconds: Double
        var extras: [(String, Double)]
    }

    struct Benchmark {
        /// Parameter names with their defaults (Savina's where it has one),
        /// in the order the RESULT line lists them.
        var defaults: [(String, Int)]
        var run: (Parameters, UInt32, Options) -> Iteration
    }

    static let system = "swerl-swift"

    /// The benchmark's result with the extras renamed to the protocol's keys.
    private static func iteration(_ result: RunResult, _ extras: [(String, Double)] = []) -> Iteration {
        Iteration(seconds: result.seconds, extras: extras.isEmpty ? result.extras : extras)
    }

    private static func extra(_ result: RunResult, _ key: String) -> Double {
        result.extras.first { $0.0 == key }?.1 ?? .nan
    }

    static var benchmarks: [String: Benchmark] { [
        "pingpong": Benchmark(defaults: [("n", 40_000)]) { p, s, o in
            let r = CorePingPong.run(n: p["n"]!, payload: 8, schedulers: s, label: "pingpong", options: o)
            return iteration(r, [("ns_per_round_trip", r.metric), ("payload_bytes", 8)])
        },
        // As BEAM sends a binary: above 64 bytes one shared binary that each
        // side re-sends (a refc binary), up to 64 a copy each way (a heap
        // binary); copy=1: a copy each way at any size (BEAM's binary:copy).
        "pingpong_payload": Benchmark(defaults: [("size", 0), ("n", 40_000), ("copy", 0)]) { p, s, o in
            let shared = p["size"]! > 64 && p["copy"]! == 0
            let r = CorePingPong.run(n: p["n"]!, payload: p["size"]!, shared: shared, schedulers: s,
                                     label: "pingpong_payload", options: o)
            return iteration(r, [("ns_per_round_trip", r.metric), ("shared", shared ? 1 : 0)])
        },
        // As BEAM's !: above 64 bytes one shared binary to every receiver, up
        // to 64 a copy to each (copy=1: a copy to each at any size).
        "fanout": Benchmark(defaults: [("size", 1_048_576), ("receivers", 1_000), ("rounds", 1_000), ("copy", 0)]) {
            p, s, o in
            let shared = p["size"]! > 64 && p["copy"]! == 0
            let r = CoreFanOut.run(size: p["size"]!, receivers: p["receivers"]!, rounds: max(1, p["rounds"]!),
                                   copied: !shared, schedulers: s, label: "fanout", options: o)
            return iteration(r, [("us_per_round", r.metric), ("receives_per_s", extra(r, "receives/s")),
                                 ("shared", shared ? 1 : 0)])
        },
        "counting": Benchmark(defaults: [("n", 1_000_000)]) { p, s, o in
            let r = CoreCounting.run(n: p["n"]!, sender: .process, schedulers: s, savinaGet: true, options: o)
            return iteration(r, [("msgs_per_s", r.metric * 1e6), ("sender_batch", Double(o.senderBatch)),
                                 ("backlog_at_last_send", extra(r, "backlog-at-last-send"))])
        },
        "burst": Benchmark(defaults: [("n", 1_000_000)]) { p, s, o in
            let r = CoreCounting.run(n: p["n"]!, sender: .process, schedulers: s, savinaGet: true, burst: true,
                                     options: o)
            return iteration(r, [("msgs_per_s", r.metric * 1e6),
                                 ("rss_before_mib", extra(r, "rss-before-MiB")),
                                 ("rss_after_drain_idle_mib", extra(r, "rss-after-drain-idle-MiB"))])
        },
        "threadring": Benchmark(defaults: [("actors", 100), ("n", 100_000)]) { p, s, o in
            iteration(SavinaThreadRing.run(actors: p["actors"]!, n: p["n"]!, schedulers: s, options: o))
        },
        "chameneos": Benchmark(defaults: [("creatures", 100), ("n", 200_000)]) { p, s, o in
            iteration(SavinaChameneos.run(creatures: p["creatures"]!, n: p["n"]!, schedulers: s, options: o))
        },
        "big": Benchmark(defaults: [("workers", 120), ("n", 20_000)]) { p, s, o in
            iteration(SavinaBig.run(workers: p["workers"]!, n: p["n"]!, schedulers: s, options: o))
        },
        "fjthrput": Benchmark(defaults: [("actors", 60), ("n", 10_000)]) { p, s, o in
            iteration(SavinaForkJoinThroughput.run(actors: p["actors"]!, n: p["n"]!, schedulers: s, options: o))
        },
        "fjcreate": Benchmark(defaults: [("n", 40_000)]) { p, s, o in
            iteration(SavinaForkJoinCreate.run(n: p["n"]!, schedulers: s, options: o))
        },
        "fib": Benchmark(defaults: [("n", 25)]) { p, s, o in
            iteration(SavinaFib.run(n: p["n"]!, schedulers: s, options: o))
        },
        "spawn": Benchmark(defaults: [("n", 1_000_000)]) { p, s, o in
            var options = o
            options.spawnSchedulers = Int(s)
            let r = CoreSpawn.run(n: p["n"]!, fromProcess: true, options: options).result
            return iteration(r, [("bytes_per_process", extra(r, "rss-B/proc")),
                                 ("bytes_per_process_runtime", extra(r, "info.memory-B")),
                                 ("us_per_spawn", r.metric), ("us_per_spawn_call", extra(r, "spawn-calls-us")),
                                 ("stop_s", extra(r, "stop-s"))])
        },
        "restart_short": Benchmark(defaults: [("children", 100), ("crashes", 10)]) { p, s, o in
            let r = CoreSupervisor.run(label: "restart_short", children: p["children"]!,
                                       kind: .short(crashes: p["crashes"]!), schedulers: s, options: o)
            return iteration(r, [("restarts_per_s", r.metric), ("stop_s", extra(r, "stop-s"))])
        },
        "restart_sustained": Benchmark(defaults: [("children", 1_000), ("n", 100_000)]) { p, s, o in
            let r = CoreSupervisor.run(label: "restart_sustained", children: p["children"]!,
                                       kind: .sustained(restarts: p["n"]!), schedulers: s, options: o)
            return iteration(r, [("restarts_per_s", r.metric), ("stop_s", extra(r, "stop-s")),
                                 ("off_thread_pct", extra(r, "off-thread-%"))])
        },
        "link_cascade": Benchmark(defaults: [("n", 100_000)]) { p, s, o in
            iteration(CoreLinkCascade.run(n: p["n"]!, schedulers: s, options: o))
        },
        "monitors": Benchmark(defaults: [("n", 10_000)]) { p, s, o in
            iteration(CoreMonitors.run(n: p["n"]!, schedulers: s, options: o))
        },
    ] }

    static let usage = """
    usage: swerl-bench --protocol <bench> key=value ... [warmup=W] [runs=R] [schedulers=S] [timeout=SECONDS]
      (Comparison/PROTOCOL.md; defaults warmup=2 runs=7 schedulers=0, i.e. one per CPU; timeout=60 per wait)
      benches and their parameters (defaults):
    """

    static func main(_ arguments: [String]) {
        guard let bench = arguments.first, !bench.contains("="), !bench.hasPrefix("-") else {
            protocolUsage("a benchmark name comes first")
        }
        var values: Parameters = [:]
        for argument in arguments.dropFirst() {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                protocolUsage("bad argument \(argument): expected key=value")
            }
            let key = String(argument[..<equals])
            let text = String(argument[argument.index(after: equals)...]).replacingUnderscores
            guard let value = Int(text), value >= 0 else { protocolUsage("\(key): not a non-negative integer: \(text)") }
            values[key] = value
        }
        let warmups = values.removeValue(forKey: "warmup") ?? 2
        let runs = values.removeValue(forKey: "runs") ?? 7
        let schedulers = values.removeValue(forKey: "schedulers") ?? 0
        var options = Options()
        if let timeout = values.removeValue(forKey: "timeout") { options.timeoutSeconds = Double(max(1, timeout)) }
        guard let benchmark = benchmarks[bench] else {
            print("RESULT {\"system\": \"\(system)\", \"bench\": \"\(bench)\", \"skipped\": \"not implemented by swerl-bench\"}")
            fflush(nil)
            exit(0)
        }
        var parameters: Parameters = [:]
        for (key, value) in benchmark.defaults { parameters[key] = values.removeValue(forKey: key) ?? value }
        if let unknown = values.keys.sorted().first {
            protocolUsage("\(bench) has no parameter \(unknown) (it has \(benchmark.defaults.map(\.0).joined(separator: ", ")))")
        }

        var times: [Double] = []
        var extras: [[(String, Double)]] = []
        for index in 0..<(warmups + runs) {
            let result = benchmark.run(parameters, UInt32(schedulers), options)
            times.append(result.seconds)
            if index >= warmups { extras.append(result.extras) }
            printError("\(system) \(bench) \(index < warmups ? "warmup" : "run") \(index + 1)/\(warmups + runs): "
                       + "\(Format.fixed(result.seconds, 4)) s\n")
        }
        let used = CoreRuntime.startedSchedulers.load(ordering: .relaxed)

        var line = "RESULT {\"system\": \"\(system)\", \"bench\": \"\(bench)\", \"params\": {"
        line += benchmark.defaults.map { "\"\($0.0)\": \(parameters[$0.0]!)" }.joined(separator: ", ")
        line += "}, \"schedulers\": \(used), \"warmups\": [" + times.prefix(warmups).map(json).joined(separator: ", ")
        line += "], \"runs\": [" + times.dropFirst(warmups).map(json).joined(separator: ", ") + "], \"extra\": {"
        // Per-iteration medians over the measured runs (same keys every run).
        let keys = extras.first?.map(\.0) ?? []
        line += keys.map { key in
            let median = Summary(values: extras.compactMap { run in run.first { $0.0 == key }?.1 }).median
            return "\"\(key)\": \(json(median))"
        }.joined(separator: ", ")
        line += "}}"
        print(line)
        fflush(nil)
    }

    private static func json(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }

    private static func protocolUsage(_ message: String) -> Never {
        var text = "swerl-bench --protocol: \(message)\n\(usage)\n"
        for name in benchmarks.keys.sorted() {
            text += "    \(name) " + benchmarks[name]!.defaults.map { "\($0.0)=\($0.1)" }.joined(separator: " ") + "\n"
        }
        printError(text)
        exit(2)
    }
}
