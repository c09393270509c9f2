// Command line of swerl-bench.

import Glibc

struct Options {
    var quick = false
    /// Benchmark ids or id prefixes ("counting", "pingpong.core"); empty: all.
    var only: [String] = []
    /// A fixed problem size: no calibration; 0 warm-ups and 1 run unless given.
    var fixedN: Int? = nil
    var runs = 5
    var warmups = 1
    var minSeconds = 0.3
    var spawnCount = 1_000_000
    var senderBatch = 1000
    /// Scheduler threads for the spawn benchmarks (0: one per CPU).
    var spawnSchedulers = 0
    var timeoutSeconds = 60.0
    var jsonPath: String? = nil

    static let usage = """
    usage: swerl-bench [options]
           swerl-bench --protocol <bench> key=value ... warmup=W runs=R schedulers=S
                         (Comparison/PROTOCOL.md; --protocol alone lists the benches)
      --quick            smaller sizes and 3 runs (a smoke test, not a result)
      --only LIST        comma-separated benchmark ids or prefixes, e.g.
                         --only counting   --only pingpong.core,spawn.main
      --n N              fixed size (messages, round trips, spawns or
                         restarts; restart.short: N / 10 children x 10
                         crashes): no calibration, 0 warm-ups and 1 run
                         unless --warmup or --runs say otherwise. For
                         valgrind --tool=callgrind:
                           swerl-bench --only counting.core --n 200000
                           swerl-bench --only restart.storm --n 100000
      --runs R           measured runs per benchmark (default 5)
      --warmup W         warm-up runs (default 1; calibration runs count)
      --min-time S       seconds each measured run must at least take (0.3)
      --spawn N          processes per spawn run (default 1,000,000)
      --spawn-schedulers S  scheduler threads for the spawn runs (default 0:
                         one per CPU; ping-pong and counting always use 1;
                         the restart rows say theirs in their titles)
      --batch B          messages a sender process sends per callback (1000)
      --timeout S        seconds any single wait may take before the run is
                         declared stuck (default 60)
      --json PATH        also write the results as JSON
      --list             print the benchmark ids and exit
    """

    static func parse(_ arguments: [String], ids: [String]) -> Options {
        var options = Options()
        var explicitRuns = false
        var explicitWarmups = false
        var explicitSpawn = false
        var index = 0
        func value(_ name: String) -> String {
            index += 1
            guard index < arguments.count else { usageError("\(name) needs a value") }
            return arguments[index]
        }
        func number(_ name: String) -> Int {
            let text = value(name).replacingUnderscores
            guard let parsed = Int(text), parsed >= 0 else { usageError("\(name): not a number: \(text)") }
            return parsed
        }
        func seconds(_ name: String) -> Double {
            let text = value(name)
            guard let parsed = Double(text), parsed >= 0 else { usageError("\(name): not a number: \(text)") }
            return parsed
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--quick": options.quick = true
            case "--only":
                options.only = value(argument).split(separator: ",").map { String($0).trimmingSpaces }
            case "--n":
                let n = number(argument)
                guard n > 0 else { usageError("--n must be positive") }
                options.fixedN = n
            case "--runs":
                options.runs = max(1, number(argument))
                explicitRuns = true
            case "--warmup":
                options.warmups = number(argument)
                explicitWarmups = true
            case "--min-time": options.minSeconds = seconds(argument)
            case "--spawn":
                options.spawnCount = max(1, number(argument))
                explicitSpawn = true
            case "--spawn-schedulers": options.spawnSchedulers = number(argument)
            case "--batch": options.senderBatch = max(1, number(argument))
            case "--timeout": options.timeoutSeconds = max(1, seconds(argument))
            case "--json": options.jsonPath = value(argument)
            case "--list":
                for id in ids { print(id) }
                exit(0)
            case "--help", "-h":
                print(usage)
                exit(0)
            default:
                usageError("unknown option \(argument)")
            }
            index += 1
        }
        if options.quick {
            if !explicitRuns { options.runs = 3 }
            options.minSeconds = min(options.minSeconds, 0.05)
            if !explicitSpawn { options.spawnCount = 100_000 }
        }
        if options.fixedN != nil {
            if !explicitRuns { options.runs = 1 }
            if !explicitWarmups { options.warmups = 0 }
        }
        for filter in options.only where !ids.contains(where: { Options.matches($0, filter) }) {
            usageError("--only \(filter): no such benchmark (see --list)")
        }
        return options
    }

    static func matches(_ id: String, _ filter: String) -> Bool {
        id == filter || id.hasPrefix(filter + ".")
    }

    func selects(_ id: String) -> Bool {
        only.isEmpty || only.contains { Options.matches(id, $0) }
    }
}

func usageError(_ message: String) -> Never {
    printError("swerl-bench: \(message)\n\(Options.usage)\n")
    exit(2)
}

extension String {
    var replacingUnderscores: String { String(filter { $0 != "_" && $0 != "," }) }
}
