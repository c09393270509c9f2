// The supervisor management operations as the front ends call them
// (swerl_supervisor_* and the Swift Supervisor API).

import CSwerl

extension Engine {
    package func supervisorStartChild(_ supervisor: UInt64, _ raw: UnsafePointer<swerl_child_spec>?) -> (Int32, UInt64) {
        let child: ChildSpecification
        switch SpecImport.child(raw) {
        case .success(let imported): child = imported
        case .failure(let error): return (error.code, 0)
        }
        return supervisorStartChild(supervisor, child)
    }

    func supervisorStartChild(_ supervisor: UInt64, _ child: ChildSpecification) -> (Int32, UInt64) {
        let request = SupervisorRequest(.startChild(child))
        let code = supervisorCall(supervisor, request)
        return (code, request.pid)
    }

    package func supervisorSpawnChild(_ supervisor: UInt64, arg: UnsafeMutableRawPointer?) -> (Int32, UInt64) {
        let request = SupervisorRequest(.spawnChild(arg))
        let code = supervisorCall(supervisor, request)
        return (code, request.pid)
    }

    package func supervisorTerminateChild(_ supervisor: UInt64, id: String) -> Int32 {
        supervisorCall(supervisor, SupervisorRequest(.terminate(id)))
    }

    package func supervisorTerminatePid(_ supervisor: UInt64, pid: UInt64) -> Int32 {
        supervisorCall(supervisor, SupervisorRequest(.terminatePid(pid)))
    }

    package func supervisorRestartChild(_ supervisor: UInt64, id: String) -> (Int32, UInt64) {
        let request = SupervisorRequest(.restart(id))
        let code = supervisorCall(supervisor, request)
        return (code, request.pid)
    }

    package func supervisorDeleteChild(_ supervisor: UInt64, id: String) -> Int32 {
        supervisorCall(supervisor, SupervisorRequest(.delete(id)))
    }

    func supervisorSnapshot(_ supervisor: UInt64) -> (Int32, SupervisorSnapshot?) {
        let request = SupervisorRequest(.snapshot)
        let code = supervisorCall(supervisor, request)
        return (code, request.snapshot)
    }

    package func supervisorWhichChildren(_ supervisor: UInt64) -> (Int32, [swerl_child_info]) {
        let (code, snapshot) = supervisorSnapshot(supervisor)
        guard code == Code.ok, let snapshot else { return (code, []) }
        return (code, snapshot.children.map { child in
            var info = swerl_child_info()
            info.size = UInt32(MemoryLayout<swerl_child_info>.size)
            info.state = child.state
            info.type = child.type
            info.restart = child.restart
            info.pid = child.pid
            info.restarts = child.restarts
            withUnsafeMutableBytes(of: &info.id) { buffer in
                let utf8 = Array(child.id.utf8.prefix(Int(SWERL_NAME_MAX)))
                buffer.copyBytes(from: utf8)
                buffer[utf8.count] = 0
            }
            return info
        })
    }

    package func supervisorCountChildren(_ supervisor: UInt64) -> (Int32, swerl_child_counts) {
        var counts = swerl_child_counts()
        counts.size = UInt32(MemoryLayout<swerl_child_counts>.size)
        let (code, snapshot) = supervisorSnapshot(supervisor)
        guard code == Code.ok, let snapshot else { return (code, counts) }
        for child in snapshot.children {
            counts.specs += 1
            if child.pid != 0 { counts.active += 1 }
            if child.type == UInt32(SWERL_SUPERVISOR) { counts.supervisors += 1 } else { counts.workers += 1 }
        }
        return (code, counts)
    }

    /// The tree under `supervisor` as JSON or Graphviz DOT.
    package func supervisionTree(_ supervisor: UInt64, format: UInt32) -> (Int32, String) {
        guard format <= UInt32(SWERL_TREE_DOT) else { return (Code.invalid, "") }
        let (code, root) = supervisorSnapshot(supervisor)
        guard code == Code.ok, let root else { return (code, "") }
        let tree = SupervisionTree(pid: supervisor, snapshot: root, engine: self)
        return (Code.ok, format == UInt32(SWERL_TREE_JSON) ? tree.json() : tree.dot())
    }
}
