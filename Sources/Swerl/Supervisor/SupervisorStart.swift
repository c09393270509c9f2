// Starting a supervision tree, and what the runtime keeps about its roots:
// reports, restart counters, and the roots stopped first at runtime stop so
// every tree shuts down in order.

import CSwerl
import Glibc
import Synchronization

extension Engine {
    /// swerl_supervisor_start from an outside thread: spawn the supervisor,
    /// then wait until it has started every child or rolled back (OTP-44).
    package func startSupervisor(_ raw: UnsafePointer<swerl_supervisor_spec>?, name: String?) -> (Int32, UInt64, [UInt8]) {
        switch SpecImport.supervisor(raw) {
        case .success(let spec): return startSupervisor(spec, name: name)
        case .failure(let error): return (error.code, 0, [])
        }
    }

    func startSupervisor(_ spec: SupervisorSpecification, name: String?) -> (Int32, UInt64, [UInt8]) {
        if let refusal = refuseBlocking("swerl_supervisor_start") { return (refusal, 0, []) }
        if isStopped { return (Code.stopped, 0, []) }
        let signal = StartSignal()
        let launch = Unmanaged.passRetained(SupervisorLaunch(spec: spec, starter: .thread(signal), isRoot: true))
        let result = spawn(behavior: SupervisorProcess.behavior, arg: launch.toOpaque(), flags: 0, name: name,
                           mailboxLimit: 0, overflow: 0, monitorRef: nil, startNow: false, supervisor: true)
        guard result.code == Code.ok else {
            launch.release()
            return (result.code, 0, [])
        }
        let (code, detail) = signal.wait()
        if code != Code.ok {
            // The supervisor acknowledged its failed start and is exiting: let
            // it finish (name released, OTP-33) so the caller can retry at once.
            let deadline = monotonicNanos() + 5_000_000_000
            while (table.lookup(result.pid) != nil || name.map { registry.whereis($0) == result.pid } == true)
                    && monotonicNanos() < deadline {
                usleep(100)
            }
        }
        return (code, code == Code.ok ? result.pid : 0, detail)
    }

    func addRootSupervisor(_ pid: UInt64) {
        _ = rootSupervisors.withLock { $0.insert(pid) }
    }

    func removeRootSupervisor(_ pid: UInt64) {
        _ = rootSupervisors.withLock { $0.remove(pid) }
    }

    func countRestart() { restarts.add(1, ordering: .relaxed) }
    func countEscalation() { escalations.add(1, ordering: .relaxed) }

    /// Sends a report to the configured log callback (crash reports,
    /// restarts, escalations).
    func report(level: Int, _ text: @autoclosure () -> String) {
        guard let log = logCallback else { return }  // no text is built without a listener
        var message = text()
        message.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { log(logUser, Int32(level), $0.baseAddress, $0.count) }
        }
    }
}
