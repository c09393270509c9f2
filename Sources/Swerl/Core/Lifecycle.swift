// Stopping a runtime (OTP's ordered shutdown, with a deadline) and letting
// go of it: the one policy swerl_runtime_free and the Swift Runtime share.

import CSwerl
import CSwerlSupport
import Glibc
import Synchronization

extension Engine {
    /// swerl_runtime_stop: SHUTDOWN to everyone, KILL at the deadline, then
    /// the threads end and everything pending is released. A handler that
    /// does not return is not waited for: ETIMEDOUT names its process.
    package func stop(timeoutMillis: UInt32) -> Int32 {
        if Engine.isOnRuntimeThread {
            return ErrorDetail.failing(Code.inProcess, "swerl_runtime_stop on one of a runtime's own threads (in a "
                + "process callback or a hook) would wait for itself: stop it from another thread")
        }
        asyncTurns.load()?.cancelAll()  // handlers still awaiting end, so their turns can
        return stopLock.withLock { alreadyStopped -> Int32 in
            if alreadyStopped { return Code.stopped }
            state.store(State.stopping.rawValue, ordering: .releasing)
            var result = Code.ok
            let deadline = Deadline.after(millis: timeoutMillis)
            // Supervision trees first, each shutting its children down in
            // order; then everything else.
            let roots = rootSupervisors.withLock { $0 }
            for pid in roots { _ = exit(pid, reason: Reason.shutdown, detail: UnsafeRawBufferPointer(start: nil, count: 0)) }
            while !rootSupervisors.withLock({ $0.isEmpty }) && monotonicNanos() < deadline {
                driveIdleGroups()
                usleep(500)
            }
            for pid in livePids() { _ = exit(pid, reason: Reason.shutdown, detail: UnsafeRawBufferPointer(start: nil, count: 0)) }
            if !waitForNoProcesses(until: deadline) {
                for pid in livePids() { _ = exit(pid, reason: Reason.kill, detail: UnsafeRawBufferPointer(start: nil, count: 0)) }
                let stuck = waitForKilled()
                if !stuck.isEmpty {
                    result = Code.timedOut
                    reportStuck(stuck)
                }
            }
            state.store(State.stopped.rawValue, ordering: .releasing)
            for group in groups.all { group.stop() }
            if result == Code.ok {
                endThreads()
                timerTable.removeAll()
            }
            waiters.failAll(code: Code.stopped)
            alreadyStopped = true
            return result
        }
    }

    /// Whether stop finished and the threads are gone.
    package var threadsJoined: Bool { schedulersShouldExit.load(ordering: .acquiring) }

    /// Whether the calling thread is one of any runtime's own (a worker or a
    /// turn monitor), where nothing may wait for a runtime to stop.
    package static var isOnRuntimeThread: Bool {
        swerlrt_get_worker() != nil || CallbackContexts.current != nil || TurnMonitor.isMonitorThread
    }

    /// Lets go of a runtime its owner is done with (swerl_runtime_free,
    /// Runtime.deinit): stops it if running, and waits for its threads. On
    /// a runtime thread (inside a callback of this runtime or another, a
    /// hook), which must not wait, a background thread does it; except, with
    /// `keepingFromOwnCallback`, inside this runtime's own callback, where
    /// nothing is done and false returned (C's swerl_runtime_free leaves the
    /// runtime to its caller, who still holds it; a Swift Runtime going away
    /// has no one left to free it).
    @discardableResult
    package func shutDownForRelease(keepingFromOwnCallback: Bool) -> Bool {
        if keepingFromOwnCallback && isInsideCallback { return false }
        if Engine.isOnRuntimeThread {
            stopInBackground()
            return true
        }
        let result = stop(timeoutMillis: 5000)
        if result == Code.timedOut || !threadsJoined { joinAfterTimeout() }
        return true
    }

    /// Stops the runtime from a new thread, which keeps it (and
    /// `companion`: what its callbacks use, such as the Swift API's logger)
    /// alive until done. The Swift `Runtime`'s deinit releases it this way:
    /// dropping the last reference never waits for a slow handler.
    package func stopInBackground(keepingAlive companion: AnyObject? = nil) {
        final class Job {
            let engine: Engine
            let companion: AnyObject?
            init(_ engine: Engine, _ companion: AnyObject?) { self.engine = engine; self.companion = companion }
        }
        let retained = Unmanaged.passRetained(Job(self, companion)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
            let result = job.engine.stop(timeoutMillis: 5000)
            if result == Code.timedOut || !job.engine.threadsJoined { job.engine.joinAfterTimeout() }
            return nil
        }, retained)
        if status == 0 {
            pthread_detach(thread)
        } else {  // no thread to be had: stop here, as before
            let job = Unmanaged<Job>.fromOpaque(retained).takeRetainedValue()
            let result = job.engine.stop(timeoutMillis: 5000)
            if result == Code.timedOut || !job.engine.threadsJoined { job.engine.joinAfterTimeout() }
        }
    }

    /// Waits for threads left running by a stop that timed out.
    package func joinAfterTimeout() {
        _ = waitForNoProcesses(until: UInt64.max)
        endThreads()
        timerTable.removeAll()
    }

    /// Ends every thread: the workers (scheduler holders, spares, the
    /// blocking pool) and the turn monitor.
    private func endThreads() {
        schedulersShouldExit.store(true, ordering: .sequentiallyConsistent)
        for scheduler in schedulers { scheduler.wakeUp() }
        turnMonitor.stopAndWakeSpares()
        turnMonitor.join()  // no takeover, and so no new worker, after this
        blockingPool.stop()
        // Workers started while we join (the pool's last) are joined too.
        while true {
            let all = workers.withLock { list -> [Worker] in
                let taken = list
                list.removeAll()
                return taken
            }
            if all.isEmpty { break }
            for worker in all { worker.join() }
        }
    }

    /// Waits until no process is alive or the monotonic `deadline` passed.
    private func waitForNoProcesses(until deadline: UInt64) -> Bool {
        while table.live.load(ordering: .acquiring) > 0 {
            if monotonicNanos() >= deadline { return false }
            driveIdleGroups()
            usleep(500)
        }
        return true
    }

    /// A process in a turn that has not ended: who and for how long.
    struct StuckTurn {
        var pid: UInt64
        var nanos: UInt64
        /// A group turn set aside (swerl_turn_suspend), not a running handler.
        var suspended = false
    }

    /// After the KILL: waits until every process is gone, or only processes
    /// whose turn has not ended for `patience` remain (their handler does not
    /// return, so they cannot take the kill); those are returned.
    private func waitForKilled(patience: UInt64 = 50_000_000) -> [StuckTurn] {
        var seen: [ObjectIdentifier: (turns: UInt64, pid: UInt64, since: UInt64)] = [:]
        let giveUp = monotonicNanos() + 5_000_000_000
        while true {
            let live = table.live.load(ordering: .acquiring)
            if live <= 0 { return [] }
            let now = monotonicNanos()
            var stuck: [StuckTurn] = []
            driveIdleGroups()
            for worker in countingWorkers {
                let pid = worker.runningPid.load(ordering: .relaxed)
                let turns = worker.turns.load(ordering: .relaxed)
                let key = ObjectIdentifier(worker)
                guard pid != 0 else {
                    seen[key] = nil
                    continue
                }
                if let earlier = seen[key], earlier.turns == turns, earlier.pid == pid {
                    if now - earlier.since >= patience { stuck.append(StuckTurn(pid: pid, nanos: now - earlier.since)) }
                } else {
                    seen[key] = (turns, pid, now)
                }
            }
            for pid in suspendedTurns() { stuck.append(StuckTurn(pid: pid, nanos: 0, suspended: true)) }
            if !stuck.isEmpty && live <= stuck.count { return stuck }
            if now >= giveUp { return stuck.isEmpty ? [StuckTurn(pid: 0, nanos: 0)] : stuck }
            usleep(1000)
        }
    }

    /// Names the processes a stop could not stop: in the log and in the
    /// calling thread's error detail.
    private func reportStuck(_ stuck: [StuckTurn]) {
        let now = monotonicNanos()
        let described = stuck.map { turn -> String in
            guard turn.pid != 0 else { return "processes that did not exit within 5 s of the kill" }
            let name = registry.name(of: turn.pid).map { " ('\($0)')" } ?? ""
            // The monitor has watched the turn since it began; the stop only
            // since the kill.
            let nanos = max(turn.nanos, turnMonitor.turnStart(of: turn.pid).map { now - min($0, now) } ?? 0)
            if turn.suspended {
                return "\(Pids.format(turn.pid))\(name), its turn set aside (swerl_turn_suspend) and not finished"
            }
            return "\(Pids.format(turn.pid))\(name), at least \(millis(nanos)) ms in one turn"
        }
        for line in described {
            report(level: SWERL_LOG_ERROR, "stop: \(line): its handler did not return even after the kill; "
                + "its thread is left running")
        }
        ErrorDetail.set("swerl_runtime_stop: \(stuck.count) process(es) did not return from a handler even after "
            + "the kill: " + described.joined(separator: "; "))
    }
}
