// A mutex around a value for the runtime's few locks (names, timers, calls,
// free slots; never the send path). It is a pthread mutex rather than
// Synchronization.Mutex because that one waits on a raw futex, which
// ThreadSanitizer cannot see: every critical section looked like a race.

import Glibc

final class Lock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    // The mutex makes access exclusive: no run-time check on top of it
    // (a swift_beginAccess per lock, 2% of a spawn and exit).
    @exclusivity(unchecked) private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = makeMutex()
    }

    deinit { freeMutex(mutex) }

    @inline(__always)
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// A mutex with a condition variable (monotonic clock) around a value: for
/// threads that wait for work (spare workers, the blocking pool, the turn
/// monitor), never on the send path.
final class ConditionLock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    // The mutex makes access exclusive: no run-time check on top of it
    // (a swift_beginAccess per lock, 2% of a spawn and exit).
    @exclusivity(unchecked) private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = makeMutex()
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
        freeMutex(mutex)
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Locks, then waits until `ready` holds (re-checked after each wake-up)
    /// or the monotonic `deadline` (ns; nil: none) passes, then runs `body`
    /// under the lock; `body` learns whether `ready` held.
    func wait<Result>(until ready: (inout Value) -> Bool, deadline: UInt64?,
                      _ body: (inout Value, Bool) -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready(&value) {
            if let deadline {
                if monotonicNanos() >= deadline { return body(&value, false) }
                var time = Deadline.timespec(deadline)
                pthread_cond_timedwait(condition, mutex, &time)
            } else {
                pthread_cond_wait(condition, mutex)
            }
        }
        return body(&value, true)
    }

    /// Changes the value under the lock and wakes one waiter (or all).
    func update<Result>(wakingAll: Bool = false, _ body: (inout Value) -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let result = body(&value)
        if wakingAll { pthread_cond_broadcast(condition) } else { pthread_cond_signal(condition) }
        return result
    }
}

/// A pthread mutex at a stable address (a mutex must not move).
private func makeMutex() -> UnsafeMutablePointer<pthread_mutex_t> {
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
    return mutex
}

private func freeMutex(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
}
