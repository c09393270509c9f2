// Registered names (OTP-30..33). One mutex guards both directions of the
// map; it is taken by register/unregister/whereis/send_named and by the exit
// of a named process, never by swerl_send.
//
// Exit and register race on a dying pid; `count` settles it without a lock
// on every exit: register bumps `count` before it checks the pid is alive,
// exit marks the pid dead before it reads `count` (both sequentially
// consistent), so either register sees the death or exit sees the name.

import Synchronization

final class Registry: @unchecked Sendable {
    private struct Maps {
        var pidByName: [String: UInt64] = [:]
        var nameByPid: [UInt64: String] = [:]
    }
    private let maps = Lock(Maps())
    private let count = Atomic<Int>(0)

    enum Outcome { case ok, nameTaken, hasName, noProcess }

    func register(name: String, pid: UInt64, isAlive: (UInt64) -> Bool) -> Outcome {
        maps.withLock { maps in
            if maps.pidByName[name] != nil { return .nameTaken }
            if maps.nameByPid[pid] != nil { return .hasName }
            count.add(1, ordering: .sequentiallyConsistent)
            guard isAlive(pid) else {
                count.subtract(1, ordering: .sequentiallyConsistent)
                return .noProcess
            }
            maps.pidByName[name] = pid
            maps.nameByPid[pid] = name
            return .ok
        }
    }

    /// Spawn with a name: the name is checked and taken and the process
    /// published in one critical section, so no one sees the name without a
    /// live process behind it. false: the name is taken, nothing published.
    func registerAtSpawn(name: String, pid: UInt64, publish: () -> Void) -> Bool {
        maps.withLock { maps in
            if maps.pidByName[name] != nil { return false }
            count.add(1, ordering: .sequentiallyConsistent)
            publish()
            maps.pidByName[name] = pid
            maps.nameByPid[pid] = name
            return true
        }
    }

    func unregister(name: String) -> Bool {
        maps.withLock { maps in
            guard let pid = maps.pidByName.removeValue(forKey: name) else { return false }
            maps.nameByPid[pid] = nil
            count.subtract(1, ordering: .sequentiallyConsistent)
            return true
        }
    }

    func whereis(_ name: String) -> UInt64? {
        maps.withLock { $0.pidByName[name] }
    }

    func name(of pid: UInt64) -> String? {
        guard count.load(ordering: .relaxed) > 0 else { return nil }
        return maps.withLock { $0.nameByPid[pid] }
    }

    /// Called by an exiting process after its pid was marked dead.
    func releaseName(of pid: UInt64) {
        guard count.load(ordering: .sequentiallyConsistent) > 0 else { return }
        maps.withLock { maps in
            guard let name = maps.nameByPid.removeValue(forKey: pid) else { return }
            maps.pidByName[name] = nil
            count.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    func names() -> [String] {
        maps.withLock { Array($0.pidByName.keys).sorted() }
    }
}
