// A supervisor's restarts (OTP-47..51): what a child's exit means, the one
// restart by strategy, retries of failed starts, the intensity window,
// auto_shutdown and escalation.

import CSwerl

extension SupervisorState {
    func onExit(from pid: UInt64, reason: Int32, detail: [UInt8]) {
        guard let child = byPid[pid] else {
            if pid == parent || pid == 0 { shutdown(reason: reason, detail: detail) }
            return  // a child that failed to start, or a stranger
        }
        byPid[pid] = nil
        child.pid = 0
        let abnormal = Reason.isAbnormal(reason)
        let shouldRestart: Bool
        switch child.spec.restart {
        case UInt32(SWERL_PERMANENT): shouldRestart = true
        case UInt32(SWERL_TRANSIENT): shouldRestart = abnormal
        default: shouldRestart = false
        }
        if abnormal {
            report(SWERL_LOG_ERROR, "child_terminated: \(name(of: child)) \(Pid(rawValue: pid)) "
                   + "exited \(ExitReason(code: reason, detail: detail))")
            emit(.childTerminated, child, pid: pid, reason: reason, detail: detail)
        }
        guard shouldRestart else {
            if child.isTemporary { deleteSpec(child) } else if spec.isSimple { dynamic[child.serial] = nil }
            if child.spec.significant { significantChildGone() }
            return
        }
        // The runtime is stopping: this tree is about to be shut down, and
        // nothing can be spawned any more; a restart would only fail.
        guard engine.acceptsSpawns else { return }
        restart(child, afterExit: true)
    }

    /// The one restart: counted against the intensity (OTP-49) or escalated
    /// (OTP-50), then by strategy (OTP-48): the child alone; or its group
    /// (one_for_all: every child; rest_for_one: it and those started after
    /// it). After an exit the group's running members are stopped first; a
    /// retry of a failed start finds them as that start left them.
    func restart(_ child: ChildRecord, afterExit: Bool) {
        guard window.add(nowMillis: millis(monotonicNanos())) else { return escalate() }
        engine.countRestart()
        if afterExit {
            report(SWERL_LOG_INFO, "restarting \(name(of: child))")
            emit(.restarting, child)
        }
        guard spec.strategy == UInt32(SWERL_ONE_FOR_ALL) || spec.strategy == UInt32(SWERL_REST_FOR_ONE) else {
            return restartOne(child)
        }
        guard let group = group(of: child) else { return }
        let others = group.filter { $0 !== child && $0.pid != 0 }
        guard afterExit && !others.isEmpty else { return restartGroup(group) }
        stop(others.reversed(), parallel: false) {
            if let group = self.group(of: child) { self.restartGroup(group) }
        }
    }

    /// The children restarted with `child` under its strategy, in start
    /// order; nil when it is no longer a child.
    private func group(of child: ChildRecord) -> ArraySlice<ChildRecord>? {
        if spec.strategy == UInt32(SWERL_ONE_FOR_ALL) { return children[...] }
        guard let index = children.firstIndex(where: { $0 === child }) else { return nil }
        return children[index...]
    }

    private func restartOne(_ child: ChildRecord) {
        child.restarts += 1
        if spec.isSimple { dynamic[child.serial] = child }
        start(child) { outcome in
            switch outcome {
            case .started:
                child.restarting = false
            case .ignored:
                child.restarting = false
                if self.spec.isSimple { self.dynamic[child.serial] = nil }
            case .failed(let reason, let detail):
                self.retryLater(child, reason: reason, detail: detail)
            }
        }
    }

    /// one_for_all / rest_for_one: temporary children in the group are not
    /// restarted and their specs go (OTP-47); the others start in order.
    private func restartGroup(_ group: ArraySlice<ChildRecord>) {
        for member in group where member.isTemporary && member.pid == 0 { deleteSpec(member) }
        let startable = group.filter { !($0.isTemporary) }
        // Counted as each start is tried: members after a failed start are
        // tried (and counted) only by the retry.
        startInOrder(startable[...], restarting: true) { failure in
            if let (child, reason, detail) = failure { self.retryLater(child, reason: reason, detail: detail) }
            for member in startable where member.pid != 0 { member.restarting = false }
        }
    }

    /// OTP-49e: a restart that failed is retried by a message to ourselves,
    /// and every retry counts against the intensity. The failure is
    /// reported, as OTP's start_error report: a retry loop is otherwise silent.
    private func retryLater(_ child: ChildRecord, reason: Int32, detail: [UInt8]) {
        report(SWERL_LOG_ERROR, "start_error: \(name(of: child)) \(ExitReason(code: reason, detail: detail)); retrying")
        emit(.startError, child, reason: reason, detail: detail)
        child.restarting = true
        let payload = SupervisorMessage.encode(kind: SupervisorMessage.tryAgain, value: UInt64(child.serial))
        _ = payload.withUnsafeBytes { engine.send(to: selfPid, data: $0.baseAddress, count: $0.count, runtimeTraffic: true) }
    }

    func onInternal(_ message: swerl_message) {
        guard message.from == selfPid,
              let (header, _) = SupervisorMessage.decode(UnsafeRawBufferPointer(start: message.data, count: message.len)),
              header.kind == SupervisorMessage.tryAgain else { return }
        let serial = Int(header.value)
        guard let child = spec.isSimple ? dynamic[serial] : children.first(where: { $0.serial == serial }),
              child.restarting, child.pid == 0, engine.acceptsSpawns else { return }
        restart(child, afterExit: false)
    }

    /// OTP-51.
    private func significantChildGone() {
        switch spec.autoShutdown {
        case UInt32(SWERL_AUTO_SHUTDOWN_ANY_SIGNIFICANT):
            shutdown(reason: Reason.shutdown, detail: [])
        case UInt32(SWERL_AUTO_SHUTDOWN_ALL_SIGNIFICANT):
            let anyLeft = allChildren().contains { $0.spec.significant && $0.pid != 0 }
            if !anyLeft { shutdown(reason: Reason.shutdown, detail: []) }
        default:
            break
        }
    }

    /// OTP-50: too many restarts. Stop everything, then exit `shutdown`.
    private func escalate() {
        engine.countEscalation()
        report(SWERL_LOG_ERROR, "reached_max_restart_intensity, shutting down")
        emit(.maxIntensityReached, nil)
        shutdown(reason: Reason.shutdown, detail: Array("reached_max_restart_intensity".utf8))
    }

    /// Stops all children in reverse start order (simple_one_for_one: all at
    /// once), then exits with `reason`.
    func shutdown(reason: Int32, detail: [UInt8]) {
        let all = allChildren()
        stop(spec.isSimple ? all : all.reversed(), parallel: spec.isSimple) {
            self.exitReason = (reason, detail)
        }
    }

    func allChildren() -> [ChildRecord] {
        spec.isSimple ? dynamic.values.sorted { $0.serial < $1.serial } : children
    }
}
