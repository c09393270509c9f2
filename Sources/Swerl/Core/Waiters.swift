// Pending calls and exit watchers: ref -> who is waiting and how to tell
// them (OTP-54..57).
//
// A call is a monitor of the server plus a CALL message carrying the ref.
// Exactly one of these settles it, whoever removes the ref first: the reply
// (swerl_reply), the server's exit or absence (the monitor fires), the
// timeout, the caller's own exit, or a cancel. Once removed, a late reply
// finds nothing and is discarded: it never reaches anyone (OTP-56).
//
// A call's timeout is a deadline, not only a timer: a reply or an exit that
// settles the call after its deadline settles it as a timeout, so a timer
// that could not fire in time (its scheduler was busy) changes nothing.

import CSwerl
import CSwerlSupport
import Glibc
import Synchronization

/// How a waiter learns the outcome.
enum WaiterKind {
    /// A thread blocked in swerl_call or swerl_wait_exit.
    case thread(ThreadSignal)
    /// A process that used swerl_call_async: it gets a REPLY message.
    case process(UInt64)
    /// A callback (swerl_call_notify, swerl_watch_exit, the Swift API): run
    /// on the settling thread, outside any process.
    case callback(@Sendable (WaiterOutcome) -> Void)
}

enum WaiterOutcome {
    /// `term`: the reply is an Erlang term (SWERL_MESSAGE_TERM).
    case reply(UnsafeRawBufferPointer, term: Bool)
    /// Timeout, absent server, runtime stop, no memory.
    case failure(Int32)
    /// A call's server exited before replying: its reason and detail.
    case serverExited(Int32, UnsafeRawBufferPointer)
    /// An exit watcher's process exited with this reason.
    case exited(Int32, UnsafeRawBufferPointer)

    /// The C code of a call's outcome.
    var code: Int32 {
        switch self {
        case .reply: return Code.ok
        case .failure(let code): return code
        case .serverExited: return Code.exited
        case .exited: return Code.ok
        }
    }
}

struct Waiter {
    var kind: WaiterKind
    /// The monitored process, told to drop its monitor once settled.
    var server: UInt64
    /// A call (the server's exit is EEXITED) or an exit watcher.
    var isCall: Bool
    /// A call's deadline (monotonic ns); UInt64.max: none.
    var deadline: UInt64 = .max
    /// Started by swerl_call_notify or swerl_watch_exit: swerl_cancel_notify
    /// may stop it (no other waiter: a blocked caller would never wake).
    var cancellable = false

    /// Whether an outcome arriving now comes after the deadline.
    var isLate: Bool { deadline != .max && monotonicNanos() >= deadline }
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

    /// Removes the waiter of `ref` only if it is of the kind `accept` wants.
    private func remove(_ ref: UInt64, if accept: (Waiter) -> Bool) -> Waiter? {
        shard(ref).table.withLock { table in
            guard let waiter = table[ref], accept(waiter) else { return nil }
            return table.removeValue(forKey: ref)
        }
    }

    /// swerl_reply. EREF if nobody waits for `ref` anymore (or it is not a
    /// call's), or its deadline passed (the caller is told it timed out):
    /// the reply is a dead letter.
    /// `binary`: the reply's bytes are this binary's; a process waiting
    /// gets it by reference (its REPLY flagged SWERL_MESSAGE_SHARED), other
    /// waiters copy `data` as for any reply.
    func reply(_ ref: UInt64, data: UnsafeRawBufferPointer, term: Bool = false,
               binary: SharedBinaryPointer? = nil) -> Int32 {
        guard let waiter = remove(ref, if: { $0.isCall }) else {
            engine.deadLetters.add(1, ordering: .relaxed)
            return Code.badRef
        }
        demonitorServer(waiter.server, ref: ref)
        if waiter.isLate {
            settle(waiter, ref: ref, outcome: .failure(Code.timedOut))
            engine.deadLetters.add(1, ordering: .relaxed)
            return Code.badRef
        }
        settle(waiter, ref: ref, outcome: .reply(data, term: term), binary: binary)
        return Code.ok
    }

    /// The monitored process exited (or was not there: reason noproc).
    /// Drops the call's monitor of its server. A server replying in its own
    /// turn (the usual case) owns its monitor set and drops it at once; a
    /// reply from anywhere else sends the server a signal to do it.
    @inline(__always)
    private func demonitorServer(_ server: UInt64, ref: UInt64) {
        if let context = CallbackContexts.current, let process = context.pointee.process,
           process.pointee.ownPid == server, context.engine === engine {
            if process.pointee.monitoredBy.remove(ref: ref) != nil { process.publishRelations() }
            return
        }
        engine.signal(NodeKind.sigDemonitor, to: server, from: 0, ref: ref)
    }

    func down(_ ref: UInt64, reason: Int32, detail: UnsafeRawBufferPointer) {
        guard let waiter = remove(ref) else { return }
        if !waiter.isCall {
            return settle(waiter, ref: ref, outcome: .exited(reason, detail))
        }
        if waiter.isLate { return settle(waiter, ref: ref, outcome: .failure(Code.timedOut)) }
        if reason == Reason.noproc { return settle(waiter, ref: ref, outcome: .failure(Code.noProcess)) }
        // A server shut down by swerl_runtime_stop: the caller sees the stop.
        if engine.state.load(ordering: .acquiring) != Engine.State.running.rawValue {
            return settle(waiter, ref: ref, outcome: .failure(Code.stopped))
        }
        settle(waiter, ref: ref, outcome: .serverExited(reason, detail))
    }

    /// Timeout, absent server, runtime stop.
    func fail(_ ref: UInt64, code: Int32) {
        guard let waiter = remove(ref) else { return }
        settle(waiter, ref: ref, outcome: .failure(code))
        if code == Code.timedOut {
            engine.signal(NodeKind.sigDemonitor, to: waiter.server, from: 0, ref: ref)
        }
    }

    /// The caller exited or gave up: forget the call (or exit watch).
    /// false: it was already settled (or never existed).
    @discardableResult
    func abandon(_ ref: UInt64) -> Bool {
        guard let waiter = remove(ref) else { return false }
        engine.signal(NodeKind.sigDemonitor, to: waiter.server, from: 0, ref: ref)
        return true
    }

    /// swerl_cancel_notify: abandons `ref` only if it is a cancellable
    /// waiter's. false: settled, unknown, or someone else's (a blocked
    /// swerl_call, a process's call_async, which must get their outcome).
    func cancel(_ ref: UInt64) -> Bool {
        guard let waiter = remove(ref, if: { $0.cancellable }) else { return false }
        engine.signal(NodeKind.sigDemonitor, to: waiter.server, from: 0, ref: ref)
        return true
    }

    func failAll(code: Int32) {
        for shard in shards {
            let all = shard.table.withLock { table -> [(UInt64, Waiter)] in
                let entries = table.map { ($0.key, $0.value) }
                table.removeAll()
                return entries
            }
            for (ref, waiter) in all {
                settle(waiter, ref: ref, outcome: .failure(code))
            }
        }
    }

    private func settle(_ waiter: Waiter, ref: UInt64, outcome: WaiterOutcome, binary: SharedBinaryPointer? = nil) {
        switch waiter.kind {
        case .thread(let signal):
            signal.complete(outcome)
        case .callback(let callback):
            // Outside any process: what the callback sends is sent from none.
            let context = swerlrt_get_ctx()
            let token = swerlrt_get_token()
            swerlrt_set_ctx(nil)
            swerlrt_set_token(0)
            callback(outcome)
            swerlrt_set_ctx(context)
            swerlrt_set_token(token)
        case .process(let caller):
            switch outcome {
            case .reply(let data, let term):
                if let binary {
                    engine.signal(NodeKind.sigReply, to: caller, from: waiter.server, ref: ref, binary: binary)
                } else {
                    engine.signal(NodeKind.sigReply, to: caller, from: waiter.server, ref: ref, reason: 0, detail: data,
                                  term: term)
                }
            case .failure(let code):
                engine.signal(NodeKind.sigReply, to: caller, from: waiter.server, ref: ref, reason: code)
            case .serverExited(_, let detail), .exited(_, let detail):
                engine.signal(NodeKind.sigReply, to: caller, from: waiter.server, ref: ref, reason: Code.exited,
                              detail: detail)
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
    /// An exit's reason (swerl_wait_exit, or the server of a failed call).
    private(set) var reason: Int32 = 0
    /// The reply or the exit detail, malloc'd: the caller takes ownership.
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
        code = outcome.code
        switch outcome {
        case .reply(let bytes, _):
            keep(bytes)
        case .failure:
            break
        case .serverExited(let exitReason, let detail), .exited(let exitReason, let detail):
            reason = exitReason
            keep(detail)
        }
        done = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    private func keep(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        guard let copy = malloc(bytes.count) else {
            code = Code.noMemory
            return
        }
        copy.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        data = copy
        count = bytes.count
    }

    /// Waits until completed or until `deadline` (monotonic ns; nil: forever).
    /// true if completed.
    func wait(until deadline: UInt64?) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while !done {
            if let deadline {
                var time = Deadline.timespec(deadline)
                if pthread_cond_timedwait(&condition, &mutex, &time) == ETIMEDOUT && !done { return false }
            } else {
                pthread_cond_wait(&condition, &mutex)
            }
        }
        return true
    }

    /// Hands the reply (or detail) buffer to the caller.
    func takeData() -> (UnsafeMutableRawPointer?, Int) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let taken = (data, count)
        data = nil
        count = 0
        return taken
    }
}
