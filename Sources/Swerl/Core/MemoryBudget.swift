// The runtime's memory ceiling (swerl_runtime_set_max_memory): the bytes
// that messages and call requests may hold, all processes together, from the
// send until the receiver frees them.
//
// One shared counter would put a contended cache line on every send and
// every free. Instead the budget is a pool of free bytes, and each worker
// thread keeps a credit of its own, taken from the pool a grant at a time and
// given back when it grows past two grants. A message is charged on its
// sender's thread and refunded on its receiver's (often another): credit
// flows back through the pool. Threads outside the runtime charge the pool
// directly. Charged bytes + credits + the pool always equal the ceiling, so
// it is never exceeded; a send may be refused while up to two grants per
// worker sit unused in other workers' credit.
//
// The ceiling can change at any time: the pool moves by the difference.
// Without a ceiling nothing is charged, so the cost of a send is one
// relaxed load.

import CSwerl
import CSwerlSupport
import Synchronization

final class MemoryBudget: Sendable {
    enum Charge { case free, charged, refused }

    /// Bytes a message costs: its payload and a fixed overhead (the header's
    /// SWERL_MESSAGE_OVERHEAD, the contract, not the node's current size).
    @inline(__always)
    static func cost(_ length: Int) -> Int { length &+ Int(SWERL_MESSAGE_OVERHEAD) }

    /// The ceiling in bytes; 0: none.
    private let limit = Atomic<Int>(0)
    /// The ceiling now (0: none).
    var ceiling: Int { limit.load(ordering: .relaxed) }
    /// What a scheduler takes from the pool at once: small against the
    /// ceiling, so that credits strand little of it.
    private let grant = Atomic<Int>(4096)
    private let pool = Atomic<Int>(0)
    private let changeLock = Lock<Void>(())
    private let schedulerCount: Int
    /// Sends refused because the ceiling was reached.
    let refusals = Atomic<UInt64>(0)

    init(schedulers: Int) { schedulerCount = max(1, schedulers) }

    /// Sets the ceiling (0: none).
    func setLimit(_ bytes: UInt64) {
        let new = bytes > UInt64(Int.max / 4) ? Int.max / 4 : Int(bytes)
        changeLock.withLock { _ in
            let old = limit.load(ordering: .relaxed)
            grant.store(max(4096, min(256 << 10, new / (8 * schedulerCount))), ordering: .relaxed)
            pool.add(new - old, ordering: .relaxed)
            limit.store(new, ordering: .relaxed)
        }
    }

    /// Bytes charged now, given the workers (a snapshot: each part is read
    /// atomically, not all at once).
    func used(_ workers: [Worker]) -> Int {
        max(0, limit.load(ordering: .relaxed) - pool.load(ordering: .relaxed)
            - workers.reduce(0) { $0 + $1.memoryCredit.load(ordering: .relaxed) })
    }

    /// Takes `bytes` from the pool, all or nothing.
    private func take(_ bytes: Int) -> Bool {
        var available = pool.load(ordering: .relaxed)
        while available >= bytes {
            let (exchanged, current) = pool.weakCompareExchange(expected: available, desired: available - bytes,
                                                                ordering: .relaxed)
            if exchanged { return true }
            available = current
        }
        return false
    }

    /// Whether there is a ceiling (one relaxed load).
    @inline(__always)
    var isLimited: Bool { limit.load(ordering: .relaxed) != 0 }

    /// Charges `bytes` on `worker`'s own thread (nil: any other thread).
    func charge(_ bytes: Int, on worker: Worker?) -> Charge {
        guard let worker else {
            if take(bytes) { return .charged }
            refusals.add(1, ordering: .relaxed)
            return .refused
        }
        let credit = worker.memoryCredit.load(ordering: .relaxed)
        if credit >= bytes {
            worker.memoryCredit.store(credit - bytes, ordering: .relaxed)
            return .charged
        }
        // A grant and what this message lacks; failing that, only the lack.
        let lack = bytes - credit
        let grant = grant.load(ordering: .relaxed)
        if take(lack + grant) {
            worker.memoryCredit.store(grant, ordering: .relaxed)
            return .charged
        }
        if take(lack) {
            worker.memoryCredit.store(0, ordering: .relaxed)
            return .charged
        }
        refusals.add(1, ordering: .relaxed)
        return .refused
    }

    /// Gives `bytes` back on `worker`'s own thread (nil: any other thread).
    func refund(_ bytes: Int, on worker: Worker?) {
        guard let worker else {
            pool.add(bytes, ordering: .relaxed)
            return
        }
        let credit = worker.memoryCredit.load(ordering: .relaxed) + bytes
        let grant = grant.load(ordering: .relaxed)
        if credit > 2 * grant {
            worker.memoryCredit.store(grant, ordering: .relaxed)
            pool.add(credit - grant, ordering: .relaxed)
        } else {
            worker.memoryCredit.store(credit, ordering: .relaxed)
        }
    }

    /// Frees the charge of a node released on this thread. Charged nodes are
    /// freed by their runtime's workers; one freed elsewhere (the runtime is
    /// being torn down) has no budget left to return to.
    static func refundOnThisThread(length: Int) {
        guard let raw = swerlrt_get_worker() else { return }
        Unmanaged<Worker>.fromOpaque(raw)._withUnsafeGuaranteedRef { worker in
            worker.engine.memoryBudget.refund(cost(length), on: worker)
        }
    }
}

extension Engine {
    /// Charges a message of `length` payload bytes to the memory ceiling, on
    /// the calling thread's credit.
    @inline(__always)
    func chargeMemory(_ length: Int) -> MemoryBudget.Charge {
        guard memoryBudget.isLimited else { return .free }
        return memoryBudget.charge(MemoryBudget.cost(length), on: Worker.current(of: self))
    }

    /// Takes back a charge whose message was never made.
    func unchargeMemory(_ length: Int, _ charge: MemoryBudget.Charge) {
        guard charge == .charged else { return }
        memoryBudget.refund(MemoryBudget.cost(length), on: Worker.current(of: self))
    }

    /// swerl_runtime_set_max_memory.
    package func setMaxMemory(_ bytes: UInt64) -> Int32 {
        if isStopped { return Code.stopped }
        memoryBudget.setLimit(bytes)
        return Code.ok
    }
}
