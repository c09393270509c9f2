// Measurement plumbing: a monotonic clock, resident memory, a one-shot
// latch the runtime's threads fire and the main thread waits on (with a
// timeout), a watchdog for calls that block without one, and statistics.
//
// Everything here is nonisolated on purpose: the runtime's scheduler threads
// call into it from inside process callbacks.

import Glibc
import Synchronization

enum Clock {
    /// CLOCK_MONOTONIC in nanoseconds.
    @inline(__always)
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    static func seconds(_ nanos: UInt64) -> Double { Double(nanos) / 1e9 }
}

enum Memory {
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Resident set size in bytes (/proc/self/statm, second field), or -1.
    static func residentBytes() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return -1 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 255) }
        guard count > 0 else { return -1 }
        let fields = buffer[0..<count].split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return -1 }
        return pages * pageSize
    }

    /// Gives freed heap back to the kernel so the next RSS delta starts clean.
    static func trim() { _ = mallocTrim?(0) }

    /// glibc's malloc_trim, which the Glibc module does not import.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()
}

/// Fires once; the waiter learns when (the firing thread's clock, so the
/// futex wake-up is not part of a measurement).
final class Latch: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private let fired = Atomic<Bool>(false)
    private let firedAt = Atomic<UInt64>(0)

    init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    var hasFired: Bool { fired.load(ordering: .acquiring) }

    /// Any thread; later calls keep the first time.
    func signal() {
        let now = Clock.now()
        pthread_mutex_lock(mutex)
        if !fired.load(ordering: .relaxed) {
            firedAt.store(now, ordering: .relaxed)
            fired.store(true, ordering: .releasing)
        }
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// The time the latch fired, or nil after `seconds` without it.
    func wait(seconds: Double) -> UInt64? {
        let deadline = Clock.now() &+ UInt64(seconds * 1e9)
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !fired.load(ordering: .acquiring) {
            if pthread_cond_timedwait(cond, mutex, &ts) == ETIMEDOUT {
                return fired.load(ordering: .acquiring) ? firedAt.load(ordering: .relaxed) : nil
            }
        }
        return firedAt.load(ordering: .relaxed)
    }
}

/// Kills the benchmark with a diagnosis when a phase overruns: covers the
/// calls that block without a timeout of their own (a spawn or send loop on
/// the main thread, Engine.stop joining its threads).
final class Watchdog: @unchecked Sendable {
    static let shared = Watchdog()

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by mutex.
    private var label: String? = nil
    private var deadline: UInt64 = 0
    private var diagnose: (@Sendable () -> String)? = nil
    private var thread = pthread_t()

    private init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attributes)
        pthread_condattr_destroy(&attributes)
        let me = Unmanaged.passUnretained(self).toOpaque()
        let status = pthread_create(&thread, nil, { raw in
            Unmanaged<Watchdog>.fromOpaque(raw!).takeUnretainedValue().watch()
            return nil
        }, me)
        precondition(status == 0, "swerl-bench: cannot start the watchdog thread")
    }

    /// Runs `body`; if it takes longer than `seconds`, prints the label and
    /// the diagnosis and exits with status 3.
    func guarding<R>(_ label: String, seconds: Double, diagnose: @escaping @Sendable () -> String,
                     _ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        self.label = label
        self.deadline = Clock.now() &+ UInt64(seconds * 1e9)
        self.diagnose = diagnose
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        defer {
            pthread_mutex_lock(mutex)
            self.label = nil
            self.diagnose = nil
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
        }
        return try body()
    }

    private func watch() {
        pthread_mutex_lock(mutex)
        while true {
            guard let current = label else {
                pthread_cond_wait(cond, mutex)
                continue
            }
            if Clock.now() >= deadline {
                let text = diagnose?() ?? ""
                printError("\nswerl-bench: STUCK: \(current) did not finish in time\n\(text)\n")
                fflush(nil)
                _exit(3)
            }
            var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            _ = pthread_cond_timedwait(cond, mutex, &ts)
        }
    }
}

/// Stops the program with a message (a failed check, not a hang).
func fail(_ message: String) -> Never {
    printError("swerl-bench: FAILED: \(message)\n")
    fflush(nil)
    exit(1)
}

/// Median, minimum and maximum of a series of per-run values.
struct Summary {
    let values: [Double]
    var median: Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
    var min: Double { values.min() ?? .nan }
    var max: Double { values.max() ?? .nan }
}

// MARK: Formatting (no Foundation)

enum Format {
    /// `value` with `digits` decimals.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        let fraction = Int(scaled - Double(whole) * scale)
        var text = grouped(whole)
        if digits > 0 {
            var decimals = String(fraction)
            while decimals.count < digits { decimals = "0" + decimals }
            text += "." + decimals
        }
        return (value < 0 && scaled != 0 ? "-" : "") + text
    }

    /// An integer with thousands separators.
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    /// Three significant digits or so, the way the table shows results.
    static func value(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        let magnitude = abs(value)
        if magnitude >= 1000 { return fixed(value, 0) }
        if magnitude >= 100 { return fixed(value, 0) }
        if magnitude >= 10 { return fixed(value, 1) }
        return fixed(value, 2)
    }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let count = text.count
        guard count < width else { return text }
        let fill = String(repeating: " ", count: width - count)
        return right ? fill + text : text + fill
    }
}

enum Machine {
    static var cpuModel: String {
        guard let file = fopen("/proc/cpuinfo", "r") else { return "unknown CPU" }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("model name"), let colon = text.firstIndex(of: ":") {
                return String(text[text.index(after: colon)...]).trimmingSpaces
            }
        }
        return "unknown CPU"
    }

    static var onlineCPUs: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// CPU time of the whole machine and of this process, in clock ticks,
    /// to tell how much other processes ran during a measurement.
    struct CPUSnapshot {
        var machineBusy: Double
        var ownBusy: Double
        var wall: UInt64

        static func take() -> CPUSnapshot {
            var machine = 0.0
            if let line = firstLine("/proc/stat") {
                // cpu user nice system idle iowait irq softirq steal ...
                let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
                if fields.count >= 8 { machine = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7] }
            }
            var own = 0.0
            if let line = firstLine("/proc/self/stat"), let close = line.lastIndex(of: ")") {
                // Fields after the command name: state is field 3; utime and stime are 14 and 15.
                let fields = line[line.index(after: close)...].split(separator: " ")
                if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) { own = user + system }
            }
            return CPUSnapshot(machineBusy: machine, ownBusy: own, wall: Clock.now())
        }

        /// CPUs' worth of time other processes used between `self` and `later`.
        func othersLoad(until later: CPUSnapshot) -> Double {
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            let seconds = Clock.seconds(later.wall - wall)
            guard seconds > 0, ticks > 0 else { return .nan }
            let others = (later.machineBusy - machineBusy) - (later.ownBusy - ownBusy)
            return Swift.max(0, others / ticks / seconds)
        }
    }

    private static func firstLine(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 1024)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        return String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The 1-minute load average: other work on a 2-core machine skews
    /// every number here, so the report prints it.
    static var loadAverage: Double {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 3) > 0 ? loads[0] : .nan
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" || first == "\n" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\n" { text = text.dropLast() }
        return String(text)
    }
}

/// Writes to standard error (unbuffered) after flushing standard output.
func printError(_ text: String) {
    fflush(nil)
    var copy = text
    copy.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
