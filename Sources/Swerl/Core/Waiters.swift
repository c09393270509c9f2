// Pending calls and exit watchers: ref -> who is waiting and how to tell
// them (OTP-54..57).
//
// A call is a monitor of the server plus a CALL message carrying the ref.
// Exactly one of these settles it, whoever removes the ref first: the reply
// (swerl_reply), the server's exit or absence (the monitor fires), the
// timeout, or the caller's own exit. Once removed, a late reply finds
// nothing and is discarded: it never reaches anyone (OTP-56).

import CSwerl
import Glibc
import Synchronization

/// How a waiter learns the outcome.
enum WaiterKind {
    /// A thread blocked in swerl_call.
    case thread(ThreadSignal)
    /// A process that used swerl_call_async: it gets a REPLY message.
    case process(UInt64)
    /// Swift callers (async call, waitForExit).
    case callback(@Sendable (WaiterOutcome) -> Void)
}

enum WaiterOutcome {
    case reply(UnsafeRawBufferPointer)
    case failure(Int32, UnsafeRawBufferPointer)
    /// An exit watcher's process exited with this reason.
    case exited(Int32, UnsafeRawBufferPointer)
}

struct Waiter {
    var kind: WaiterKind
    /// The monitored process, told to drop its monitor once settled.
    var server: UInt64
    /// A call (the server's exit is EEXITED) or an exit watcher.
    var isCall: Bool
}

final class Waiters: @unchecked Sendable {
    private final class Shard: Sendable {
        let table = Lock<[UInt64: Waiter]>([:])
    }
    private static let shardCount = 16
    private let shards: [Shard] = (0..<shardCount).map { _ in Shard() }
    unowned(unsafe) var engine: Engine! = nil

    @inline(__always)
    private func shard(_ ref: UInt64) -> Shard {
        shards[Int(ref % UInt64(Self.shardCount))]
    }

    func register(_ ref: UInt64, _ waiter: Waiter) {
        shard(ref).table.withLock { $0[ref] = waiter }
    }

    func remove(_ ref: UInt64) -> Waiter? {
        shard(ref).table.withLock { $0.removeValue(forKey: ref) }
    }

    /// swerl_reply. EREF if nobody waits for `ref` anymore.
    func reply(_ ref: UInt64, data: UnsafeRawBufferPointer) -> Int32 {
        guard let waiter = remove(ref) else { return Code.badRef }
        settle(waiter, ref: ref, outcome: .reply(data))
        engine.signal(NodeKind.sigDemonitor, to: waiter.server, from: 0, ref: ref)
        return Code.ok
    }

    /// The monitored process exited (or was not there: reason noproc).
    func down(_ ref: UInt64, reason: Int32, detail: UnsafeRawBufferPointer) {
        guard let waiter = remove(ref) else { return }
        if waiter.isCall {
            // A server shut down by swerl_runtime_stop: the caller sees the stop.
            let stopping = engine.state.load(ordering: .acquiring) != Engine.State.running.rawValue
            let code = reason == Reason.noproc ? Code.noProcess : stopping ? Code.stopped : Code.exited
            settle(waiter, ref: ref, outcome: .failure(code, detail))
        } else {
            settle(waiter, ref: ref, outcome: .exited(reason, detail))
        }
    }

    /// Timeout, absent server, runtime stop.
    func fail(_ ref: UInt64, code: Int32) {
        guard let waiter = remove(ref) else { return }
        settle(waiter, ref: ref, outcome: .failure(code, UnsafeRawBufferPointer(start: nil, count: 0)))
        if code == Code.timedOut {
            engine.signal(NodeKind.sigDemonitor, to: waiter.server, from: 0, ref: ref)
        }
    }

    /// The caller exited: forget the call.
    func abandon(_ ref: UInt64) {
        guard let waiter = remove(ref) else { return }
        engine.signal(NodeKind.sigDemonitor, to: waiter.server, from: 0, ref: ref)
    }

    func failAll(code: Int32) {
        for shard in shards {
            let all = shard.table.withLock { table -> [(UInt64, Waiter)] in
                let entries = table.map { ($0.key, $0.value) }
                table.removeAll()
                return entries
            }
            for (ref, waiter) in all {
                settle(waiter, ref: ref, outcome: .failure(code, UnsafeRawBufferPointer(start: nil, count: 0)))
            }
        }
    }

    private func settle(_ waiter: Waiter, ref: UInt64, outcome: WaiterOutcome) {
        switch waiter.kind {
        case .thread(let signal):
            signal.complete(outcome)
        case .callback(let callback):
            callback(outcome)
        case .process(let caller):
            switch outcome {
            case .reply(let data):
                engine.signal(NodeKind.sigReply, to: caller, from: waiter.server, ref: ref, reason: 0, detail: data)
            case .failure(let code, let detail), .exited(let code, let detail):
                engine.signal(NodeKind.sigReply, to: caller, from: waiter.server, ref: ref, reason: code, detail: detail)
            }
        }
    }
}

/// A one-shot result a blocked thread waits for (mutex + monotonic condvar).
final class ThreadSignal: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var done = false
    private(set) var code: Int32 = 0
    /// The reply, malloc'd: the caller takes ownership.
    private(set) var data: UnsafeMutableRawPointer? = nil
    private(set) var count = 0

    init() {
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        if let data { free(data) }
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func complete(_ outcome: WaiterOutcome) {
        pthread_mutex_lock(&mutex)
        switch outcome {
        case .reply(let bytes):
            code = Code.ok
            if bytes.count > 0, let copy = malloc(bytes.count) {
                copy.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                data = copy
                count = bytes.count
            } else if bytes.count > 0 {
                code = Code.noMemory
            }
        case .failure(let failure, _):
            code = failure
        case .exited:
            code = Code.exited
        }
        done = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Waits until completed or until `deadline` (monotonic ns; nil: forever).
    /// true if completed.
    func wait(until deadline: UInt64?) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while !done {
            if let deadline {
                var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                if pthread_cond_timedwait(&condition, &mutex, &time) == ETIMEDOUT && !done { return false }
            } else {
                pthread_cond_wait(&condition, &mutex)
            }
        }
        return true
    }

    /// Hands the reply buffer to the caller.
    func takeData() -> (UnsafeMutableRawPointer?, Int) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let taken = (data, count)
        data = nil
        count = 0
        return taken
    }
}
