// A supervisor's jobs: starting children in order (OTP-44; a child
// supervisor's start is a job, as it acknowledges later) and stopping them
// by their shutdown specs (OTP-45, OTP-46). While a job waits for other
// processes, the supervisor acts only on what the job waits for.

import CSwerl

/// Work that waits for other processes.
enum Job {
    case stopping(StopJob)
    /// A child supervisor's start acknowledgement.
    case awaitingStart(pid: UInt64, then: (StartOutcome) -> Void)
}

final class StopJob {
    /// Children still to stop, in the order to stop them.
    var queue: [ChildRecord]
    let parallel: Bool
    /// Monitor ref -> child, for the children being stopped now.
    var waiting: [UInt64: ChildRecord] = [:]
    var killed = false
    /// When the children being stopped get killed (nil: no time limit).
    var deadline: UInt64? = nil
    let then: () -> Void

    init(queue: [ChildRecord], parallel: Bool, then: @escaping () -> Void) {
        self.queue = queue
        self.parallel = parallel
        self.then = then
    }
}

extension SupervisorState {
    // MARK: Start (OTP-44)

    func startInitialChildren(_ specs: [ChildSpecification]) {
        if spec.isSimple {
            acknowledge(code: Code.ok, detail: [])
            return
        }
        children = specs.map { ChildRecord(spec: $0, serial: nextSerialNumber()) }
        startInOrder(children[...]) { failure in
            guard let (child, reason, detail) = failure else {
                self.acknowledge(code: Code.ok, detail: [])
                return
            }
            // Roll back: stop what started, in reverse, then fail the start.
            let text = "failed to start child \(child.spec.id): \(ExitReason(code: reason, detail: detail))"
            self.report(SWERL_LOG_ERROR, text)
            self.stop(self.children.filter { $0.pid != 0 }.reversed(), parallel: false) {
                self.acknowledge(code: Code.startFailed, detail: Array(text.utf8))
                self.exitReason = (Reason.shutdown, Array(text.utf8))
            }
        }
    }

    func acknowledge(code: Int32, detail: [UInt8]) {
        guard !acknowledged else { return }
        acknowledged = true
        // The tree's start succeeded: the root now owns every argument (a
        // failed start leaves them with the caller). A nested supervisor
        // leaves that to its parent, which arms the whole nested spec once
        // its own start (or start_child) succeeds: armed here, a root start
        // failing later (ESTART) would release args its caller still owns.
        if code == Code.ok, case .thread = starter {
            for child in children { child.spec.arm() }
            spec.template?.arm()
            for dropped in droppedWhileStarting { dropped.arm() }
        }
        droppedWhileStarting = []
        switch starter {
        case .thread(let signal):
            signal.complete(code: code, detail: detail)
        case .parent(let parent):
            let payload = SupervisorMessage.encode(kind: SupervisorMessage.startAck, code: code, value: selfPid, detail: detail)
            _ = payload.withUnsafeBytes { engine.send(to: parent, data: $0.baseAddress, count: $0.count, runtimeTraffic: true) }
        }
    }

    func nextSerialNumber() -> Int {
        nextSerial += 1
        return nextSerial
    }

    /// Starts children left to right; `then` gets nil, or the first failure.
    /// Starts the children of `list` that are not running, in order, until
    /// one fails. `restarting`: count each start attempted as a restart.
    func startInOrder(_ list: ArraySlice<ChildRecord>, restarting: Bool = false,
                      then: @escaping ((ChildRecord, Int32, [UInt8])?) -> Void) {
        var remaining = list
        while let child = remaining.first {
            remaining = remaining.dropFirst()
            if child.pid != 0 { continue }
            if restarting { child.restarts += 1 }
            var pending = false
            var failure: (ChildRecord, Int32, [UInt8])? = nil
            var finished = false
            start(child) { outcome in
                if case .failed(let reason, let detail) = outcome { failure = (child, reason, detail) }
                if pending {
                    // Resumed asynchronously (a child supervisor acknowledged).
                    if let failure { return then(failure) }
                    self.startInOrder(remaining, restarting: restarting, then: then)
                }
                finished = true
            }
            if !finished {
                pending = true
                return
            }
            if let failure { return then(failure) }
        }
        then(nil)
    }

    /// Starts one child: synchronously for a worker, through a job for a
    /// child supervisor. `done` runs exactly once.
    func start(_ child: ChildRecord, arg overrideArg: ChildArgument? = nil, done: @escaping (StartOutcome) -> Void) {
        var argument = child.spec.argument.pointer
        if let overrideArg { argument = overrideArg.pointer }
        var launch: Unmanaged<SupervisorLaunch>? = nil
        if child.spec.isSupervisor, let nested = child.spec.nested {
            let retained = Unmanaged.passRetained(SupervisorLaunch(spec: nested, starter: .parent(selfPid), isRoot: false))
            launch = retained
            argument = retained.toOpaque()
        }
        let result = engine.spawn(behavior: child.spec.behavior, arg: argument, flags: UInt32(SWERL_SPAWN_LINK),
                                  name: nil, mailboxLimit: 0, overflow: 0, monitorRef: nil,
                                  startNow: true, supervisor: child.spec.isSupervisor)
        guard result.code == Code.ok else {
            launch?.release()
            return done(.failed(Reason.error, Array("spawn failed: \(SwerlError(.init(rawValue: result.code)))".utf8)))
        }
        switch result.start {
        case .started:
            child.pid = result.pid
            track(child)
            if child.spec.isSupervisor {
                job = .awaitingStart(pid: result.pid) { outcome in
                    if case .failed = outcome { self.untrack(child) }
                    done(outcome)
                }
            } else {
                done(.started)
            }
        case .ignored:
            if child.isTemporary { deleteSpec(child) }  // OTP-42: nothing to keep
            done(.ignored)
        case .failed(let reason, let detail):
            done(.failed(reason, detail))
        }
    }

    func track(_ child: ChildRecord) {
        byPid[child.pid] = child
        if spec.isSimple { dynamic[child.serial] = child }
    }

    func untrack(_ child: ChildRecord) {
        byPid[child.pid] = nil
        child.pid = 0
    }

    // MARK: Jobs

    func accept(_ message: swerl_message, into job: Job) -> Bool {
        switch job {
        case .awaitingStart(let pid, let then):
            if message.kind == UInt32(SWERL_MESSAGE), message.from == pid,
               let (header, detail) = SupervisorMessage.decode(UnsafeRawBufferPointer(start: message.data, count: message.len)),
               header.kind == SupervisorMessage.startAck {
                self.job = nil
                then(header.code == Code.ok ? .started : .failed(Reason.shutdown, detail))
                return true
            }
            if message.kind == UInt32(SWERL_EXIT) && message.from == pid {
                self.job = nil
                then(.failed(message.reason, bytes(message)))
                return true
            }
            return false
        case .stopping(let stop):
            if message.kind == UInt32(SWERL_DOWN), let child = stop.waiting.removeValue(forKey: message.ref) {
                stopped(child, reason: message.reason, detail: bytes(message), killed: stop.killed)
                if stop.waiting.isEmpty { continueStopping(stop) }
                return true
            }
            if message.kind == UInt32(SWERL_TIMEOUT) {
                // Shutdown time is up: kill whoever is left (OTP-46).
                stop.killed = true
                for child in stop.waiting.values where child.pid != 0 {
                    _ = engine.exit(child.pid, reason: Reason.kill, detail: UnsafeRawBufferPointer(start: nil, count: 0))
                }
                return true
            }
            return false
        }
    }

    /// Stops `list` in order (or all at once), each by its shutdown spec
    /// (OTP-45, OTP-46), then runs `then`.
    func stop(_ list: [ChildRecord], parallel: Bool, then: @escaping () -> Void) {
        let job = StopJob(queue: list.filter { $0.pid != 0 }, parallel: parallel, then: then)
        self.job = .stopping(job)
        continueStopping(job)
    }

    func continueStopping(_ stop: StopJob) {
        while stop.waiting.isEmpty {
            guard !stop.queue.isEmpty else {
                job = nil
                stop.then()
                return
            }
            let batch = stop.parallel ? stop.queue : [stop.queue.removeFirst()]
            if stop.parallel { stop.queue.removeAll() }
            stop.killed = false
            stop.deadline = nil
            var longest: UInt32 = 0
            for child in batch where child.pid != 0 {
                // Monitor rather than trust the link: a child that unlinked cannot hang us.
                let (code, ref) = Engine.monitor(context, child.pid)
                guard code == Code.ok else { continue }
                _ = Engine.unlink(context, child.pid)
                let brutal = child.spec.shutdownMillis == SWERL_BRUTAL_KILL
                _ = engine.exit(child.pid, reason: brutal ? Reason.kill : Reason.shutdown,
                                detail: UnsafeRawBufferPointer(start: nil, count: 0))
                if brutal { stop.killed = true } else { longest = max(longest, child.spec.shutdownMillis) }
                stop.waiting[ref] = child
            }
            if !stop.waiting.isEmpty && longest != 0 && longest != SWERL_INFINITY {
                stop.deadline = Deadline.after(millis: longest)
                _ = Engine.setReceiveTimeout(context, millis: longest)
            }
        }
        if !stop.waiting.isEmpty { job = .stopping(stop) }
    }

    func stopped(_ child: ChildRecord, reason: Int32, detail: [UInt8], killed: Bool) {
        byPid[child.pid] = nil
        if spec.isSimple { dynamic[child.serial] = nil }
        let pid = child.pid
        child.pid = 0
        var expected = reason == Reason.shutdown || reason == Reason.noproc || (killed && reason == Reason.killed)
        if child.spec.restart != UInt32(SWERL_PERMANENT) && reason == Reason.normal { expected = true }
        if !expected {
            report(SWERL_LOG_ERROR, "shutdown_error: child \(child.spec.id) \(Pid(rawValue: pid)) exited "
                   + "\(ExitReason(code: reason, detail: detail))")
            emit(.shutdownError, child, pid: pid, reason: reason, detail: detail)
        }
        if child.isTemporary { deleteSpec(child) }
    }

    func deleteSpec(_ child: ChildRecord) {
        if !acknowledged { droppedWhileStarting.append(child.spec) }
        if spec.isSimple {
            dynamic[child.serial] = nil
        } else if let index = children.firstIndex(where: { $0 === child }) {
            children.remove(at: index)
        }
    }
}
