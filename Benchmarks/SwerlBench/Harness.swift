// Repetition, calibration and the results table.
//
// Method: a benchmark is a function of its size n returning one run's wall
// time and its metric. Unless --n fixes the size, n grows until a run takes
// at least --min-time (those calibration runs are the warm-up), then --runs
// measured runs give the median, min and max.

import Glibc

struct RunResult {
    /// Wall time of the measured part of the run.
    var seconds: Double
    /// The run's result in the row's unit.
    var metric: Double
    /// Secondary numbers, printed after the run (same keys every run).
    var extras: [(String, Double)] = []
}

enum Better { case lower, higher }

struct Target {
    var limit: Double
    var beam: Double
}

struct Row {
    var id: String
    var title: String
    var unit: String
    var better: Better
    var target: Target?
    var n: Int
    var summary: Summary
    var note: String = ""
    /// CPUs' worth of other processes' work during the measured runs.
    var othersLoad: Double = .nan

    var meetsTarget: Bool? {
        guard let target, summary.median.isFinite else { return nil }
        return better == .lower ? summary.median <= target.limit : summary.median >= target.limit
    }

    /// How many times better than BEAM (> 1: faster or smaller).
    var versusBeam: Double? {
        guard let target, target.beam.isFinite, summary.median.isFinite, summary.median > 0 else { return nil }
        return better == .lower ? target.beam / summary.median : summary.median / target.beam
    }
}

enum Targets {
    static let spawn = Target(limit: 0.5, beam: 2.5)            // µs per spawn
    static let memory = Target(limit: 512, beam: 2640)          // bytes per idle process
    static let pingPong = Target(limit: 250, beam: 421)         // ns per round trip
    static let counting = Target(limit: 30, beam: 18)           // M msgs/s
    static let restartStorm = Target(limit: 100_000, beam: 8_300)  // restarts/s, sustained
    static let restartShort = Target(limit: 75_000, beam: 75_000)  // restarts/s: at least BEAM
    static let restartScaling = Target(limit: 0.8, beam: .nan)     // restarts/s, 10,000 / 100 children
    // BEAM (erlang/1) as Comparison/compare.py measured it on the 2-core VM.
    static let pingPong64k = Target(limit: 296, beam: 592)      // ns per round trip, 64 KiB each way: 2x BEAM
    static let fanOut = Target(limit: 421, beam: 421)           // µs per round, 1 MiB to 1,000: at least BEAM
}

final class Harness {
    let options: Options
    private(set) var rows: [Row] = []

    init(options: Options) { self.options = options }

    /// One benchmark as the harness runs it.
    struct Measurement {
        var id: String
        var title: String
        var unit: String
        var better: Better
        var target: Target?
        /// The first calibration size (quickN with --quick).
        var initialN: Int
        var quickN: Int
        /// false for fixed-size benchmarks (spawn 1M).
        var calibrate = true
        /// A derived row's id that also selects this one.
        var neededBy: String? = nil
        var run: (Int) -> RunResult
    }

    /// Runs a benchmark (if selected) and records its row.
    @discardableResult
    func measure(id: String, title: String, unit: String, better: Better, target: Target?,
                 initialN: Int, quickN: Int, calibrate: Bool = true, neededBy: String? = nil,
                 _ run: (Int) -> RunResult) -> [RunResult] {
        withoutActuallyEscaping(run) { run in
            measureInterleaved([Measurement(id: id, title: title, unit: unit, better: better, target: target,
                                            initialN: initialN, quickN: quickN, calibrate: calibrate,
                                            neededBy: neededBy, run: run)])[0]
        }
    }

    /// Runs the selected benchmarks of `list`, each calibrated and warmed up
    /// on its own, then their measured runs in turn (run 1 of each, run 2 of
    /// each, ...) so that a slow spell of the machine falls on all of them
    /// alike; records a row for each. Returns the measured runs per entry of
    /// `list` (empty when not selected).
    @discardableResult
    func measureInterleaved(_ list: [Measurement]) -> [[RunResult]] {
        let selected = list.indices.filter {
            options.selects(list[$0].id) || list[$0].neededBy.map(options.selects) == true
        }
        var sizes: [Int: Int] = [:]
        for index in selected {
            let item = list[index]
            var n = options.fixedN ?? (options.quick ? item.quickN : item.initialN)
            print("\(item.id): \(item.title)")
            fflush(nil)
            var warmupsDone = 0
            if item.calibrate && options.fixedN == nil {
                while true {
                    let result = item.run(n)
                    warmupsDone += 1
                    printRun("calibrate", n: n, result, unit: item.unit)
                    // A margin, so measured runs that come out a little faster
                    // than the calibration still take at least --min-time.
                    if result.seconds >= options.minSeconds * 1.2 { break }
                    let factor = Swift.min(10, Swift.max(1.5, options.minSeconds * 1.5 / Swift.max(result.seconds, 1e-6)))
                    n = roundedSize(Double(n) * factor)
                }
            }
            while warmupsDone < options.warmups {
                printRun("warm-up", n: n, item.run(n), unit: item.unit)
                warmupsDone += 1
            }
            sizes[index] = n
        }
        var results = [[RunResult]](repeating: [], count: list.count)
        guard !selected.isEmpty else { return results }
        let interleaved = selected.count > 1
        if interleaved { print("measured runs, interleaved: \(selected.map { list[$0].id }.joined(separator: ", "))") }
        let before = Machine.CPUSnapshot.take()
        for run in 0..<options.runs {
            for index in selected {
                let result = list[index].run(sizes[index]!)
                results[index].append(result)
                printRun("run \(run + 1)", n: sizes[index]!, result, unit: list[index].unit,
                         tag: interleaved ? list[index].id : nil)
            }
        }
        let othersLoad = before.othersLoad(until: Machine.CPUSnapshot.take())
        for index in selected {
            let item = list[index]
            let n = sizes[index]!
            let summary = Summary(values: results[index].map(\.metric))
            print("  => \(interleaved ? item.id + " " : "")median \(Format.value(summary.median)) \(item.unit)  (min \(Format.value(summary.min)), max \(Format.value(summary.max)), n=\(Format.grouped(n)), \(results[index].count) runs; other processes used \(Format.fixed(othersLoad, 2)) CPU)")
            rows.append(Row(id: item.id, title: item.title, unit: item.unit, better: item.better, target: item.target,
                            n: n, summary: summary, othersLoad: othersLoad))
        }
        print("")
        fflush(nil)
        return results
    }

    /// Records a row computed from other runs (memory per process).
    func record(_ row: Row) { rows.append(row) }

    private func printRun(_ label: String, n: Int, _ result: RunResult, unit: String, tag: String? = nil) {
        var line = "  \(Format.pad(label, 10)) n=\(Format.pad(Format.grouped(n), 11)) \(Format.pad(Format.fixed(result.seconds, 3), 7, right: true)) s  \(Format.pad(Format.value(result.metric), 8, right: true)) \(unit)"
        if let tag { line += "  [\(tag)]" }
        for (key, value) in result.extras { line += "  \(key) \(Format.value(value))" }
        print(line)
        fflush(nil)
    }

    private func roundedSize(_ value: Double) -> Int {
        // Two significant digits keep the sizes readable.
        var magnitude = 1.0
        while value / magnitude >= 100 { magnitude *= 10 }
        return Int((value / magnitude).rounded(.up) * magnitude)
    }

    // MARK: The table

    func printTable() {
        guard !rows.isEmpty else { return }
        let headers = ["benchmark", "median", "min .. max", "unit", "target", "BEAM", "x BEAM", "ok", "others"]
        var lines: [[String]] = []
        for row in rows {
            let range = "\(Format.value(row.summary.min)) .. \(Format.value(row.summary.max))"
            let target = row.target.map { (row.better == .lower ? "<= " : ">= ") + Format.value($0.limit) } ?? "-"
            let beam = row.target.map { Format.value($0.beam) } ?? "-"
            let versus = row.versusBeam.map { Format.fixed($0, 2) + "x" } ?? "-"
            let ok = row.meetsTarget.map { $0 ? "yes" : "NO" } ?? "-"
            let others = row.othersLoad.isFinite ? Format.fixed(row.othersLoad, 2) : ""
            lines.append([row.title, Format.value(row.summary.median), range, row.unit, target, beam, versus, ok, others])
        }
        var widths = headers.map(\.count)
        for line in lines { for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                Format.pad(cell, widths[index], right: [1, 2, 5, 6, 8].contains(index))
            }.joined(separator: "  ")
        }
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        print("Swerl runtime core — results (median of \(options.runs) runs; x BEAM > 1 means better than BEAM)")
        print(rule)
        print(render(headers))
        print(rule)
        for line in lines { print(render(line)) }
        print(rule)
        print("  others: CPUs' worth of other processes' work during the measured runs (from /proc/stat); "
              + "above ~0.1 the numbers are skewed")
        for row in rows where !row.note.isEmpty { print("  \(row.title): \(row.note)") }
        fflush(nil)
    }

    func writeJSON(to path: String, header: [(String, String)]) {
        var text = "{\n"
        for (key, value) in header { text += "  \"\(key)\": \"\(escape(value))\",\n" }
        text += "  \"results\": [\n"
        text += rows.map { row in
            var fields = [
                "\"id\": \"\(row.id)\"", "\"title\": \"\(escape(row.title))\"", "\"unit\": \"\(escape(row.unit))\"",
                "\"n\": \(row.n)", "\"median\": \(json(row.summary.median))", "\"min\": \(json(row.summary.min))",
                "\"max\": \(json(row.summary.max))",
                "\"runs\": [\(row.summary.values.map(json).joined(separator: ", "))]",
                "\"better\": \"\(row.better == .lower ? "lower" : "higher")\"",
                "\"others_cpu\": \(json(row.othersLoad))",
            ]
            if let target = row.target {
                fields.append("\"target\": \(json(target.limit))")
                fields.append("\"beam\": \(json(target.beam))")
            }
            return "    {" + fields.joined(separator: ", ") + "}"
        }.joined(separator: ",\n")
        text += "\n  ]\n}\n"
        guard let file = fopen(path, "w") else { fail("cannot write \(path)") }
        fputs(text, file)
        fclose(file)
        print("results written to \(path)")
    }

    private func json(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
    private func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.append(character)
            }
        }
        return out
    }
}
