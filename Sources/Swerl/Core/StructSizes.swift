// The header's growth promise for its public structs, kept in one place.
//
// Every public struct starts with `uint32_t size`. A caller built against
// another version of the header passes its own size: smaller (an older
// header) or larger (a newer one). The two conventions of swerl.h:
//  - a struct the caller fills (config, spawn options, behaviour, specs):
//    the library reads only the bytes the caller's size covers, and takes
//    its defaults for the fields beyond them;
//  - a struct the library fills (stats, infos, counts): the caller sets the
//    size, and the library writes only the bytes it covers; an array of
//    them is written at the caller's stride (the size of its first record).
// Any size a release ever had is accepted: each struct's `minimum` is its
// first layout (the one of the version that introduced it).

import CSwerl

package enum StructSizes {
    // MARK: The first layout of each struct that grew

    /// swerl_config of 1.0: up to the thread hooks (1.1 added the log hook).
    package static let configMinimum = MemoryLayout<swerl_config>.offset(of: \.on_log)!
    /// swerl_stats of 1.0: up to escalations (1.1 added the last two).
    package static let statsMinimum = MemoryLayout<swerl_stats>.offset(of: \.messages_rejected)!

    // MARK: Reading and writing

    /// The caller's `size` field, read without touching anything past it.
    @inline(__always)
    package static func size(_ raw: UnsafeRawPointer) -> Int {
        Int(raw.load(as: UInt32.self))
    }

    /// A struct the caller filled, as this version knows it: the bytes its
    /// size covers over `defaults`; nil when its size is below `minimum`
    /// (its `_init` was not called, or it is not the struct it claims).
    package static func read<T>(_ raw: UnsafePointer<T>, minimum: Int = MemoryLayout<T>.size,
                                defaults: T) -> T? {
        let given = size(raw)
        guard given >= minimum else { return nil }
        var value = defaults
        withUnsafeMutableBytes(of: &value) { whole in
            whole.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: min(given, whole.count)))
        }
        return value
    }

    /// Fills a struct for the caller: the bytes its size covers, its size
    /// field kept. false when its size is below `minimum`.
    @discardableResult
    package static func write<T>(_ value: T, to raw: UnsafeMutablePointer<T>,
                                 minimum: Int = MemoryLayout<T>.size) -> Bool {
        let given = size(raw)
        guard given >= minimum else { return false }
        var copy = value
        withUnsafeMutableBytes(of: &copy) { whole in
            // The caller's own size stays in its struct.
            whole.storeBytes(of: UInt32(truncatingIfNeeded: given), as: UInt32.self)
            UnsafeMutableRawPointer(raw).copyMemory(from: whole.baseAddress!, byteCount: min(given, whole.count))
        }
        return true
    }

    /// Fills an array of records for the caller at its stride (the size it
    /// set in the first record), at most `capacity` of them. false when that
    /// size is below `minimum`.
    package static func writeArray<T>(_ values: [T], to base: UnsafeMutablePointer<T>, capacity: Int,
                                      minimum: Int = MemoryLayout<T>.size) -> Bool {
        let stride = size(base)
        guard stride >= minimum else { return false }
        let raw = UnsafeMutableRawPointer(base)
        for (index, value) in values.prefix(capacity).enumerated() {
            let record = (raw + index * stride).assumingMemoryBound(to: T.self)
            (raw + index * stride).storeBytes(of: UInt32(truncatingIfNeeded: stride), as: UInt32.self)
            write(value, to: record, minimum: minimum)
        }
        return true
    }

    /// Record `index` of an array the caller filled, at its stride (the size
    /// of its first record); nil when that size is below `minimum`.
    package static func element<T>(_ base: UnsafePointer<T>, _ index: Int,
                                   minimum: Int = MemoryLayout<T>.size) -> UnsafePointer<T>? {
        let stride = size(base)
        guard stride >= minimum else { return nil }
        return (UnsafeRawPointer(base) + index * stride).assumingMemoryBound(to: T.self)
    }
}
