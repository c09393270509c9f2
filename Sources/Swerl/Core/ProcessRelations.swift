// A process's links and monitors as pids, asked of the process itself: its
// sets belong to its owner, so the question is a signal (sigRelations) the
// owner answers when it applies it, as Erlang's process_info(Pid, links)
// is. Used by the observer's process page; the counts alone are published
// without asking (ProcessBlock.publishRelations).

import Glibc

struct ProcessRelations: Equatable {
    var links: [UInt64] = []
    /// The processes this one monitors.
    var monitors: [UInt64] = []
    /// The processes monitoring this one (external waiters, such as a
    /// caller outside any process, are left out).
    var monitoredBy: [UInt64] = []

    init(links: [UInt64], monitors: [UInt64], monitoredBy: [UInt64]) {
        self.links = links
        self.monitors = monitors
        self.monitoredBy = monitoredBy
    }

    /// Read by the owner, in its turn.
    init(of process: ProcessPointer) {
        process.pointee.links.forEach { links.append($0) }
        for entry in process.pointee.monitors { monitors.append(entry.pid) }
        for entry in process.pointee.monitoredBy where entry.pid != 0 { monitoredBy.append(entry.pid) }
    }

    /// Three counts, then the pids, as native words.
    func encoded() -> [UInt64] {
        [UInt64(links.count), UInt64(monitors.count), UInt64(monitoredBy.count)] + links + monitors + monitoredBy
    }

    init?(decoding bytes: UnsafeRawBufferPointer) {
        let words = bytes.count / 8
        guard words >= 3 else { return nil }
        let word = { (index: Int) in bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) }
        let (l, m, b) = (Int(word(0)), Int(word(1)), Int(word(2)))
        guard l >= 0, m >= 0, b >= 0, 3 + l + m + b == words else { return nil }
        links = (0..<l).map { word(3 + $0) }
        monitors = (0..<m).map { word(3 + l + $0) }
        monitoredBy = (0..<b).map { word(3 + l + m + $0) }
    }
}

extension Engine {
    /// The relations of local process `pid`, waiting at most `timeoutMillis`
    /// for it to answer (it answers between turns: a process in a long turn
    /// answers late). Blocks the calling thread: not from a scheduler's
    /// process (EINPROC), as swerl_call.
    /// Returns ENOPROC (not alive), ETIMEDOUT, EINPROC, ESTOPPED.
    func relations(of pid: UInt64, timeoutMillis: UInt32) -> (Int32, ProcessRelations?) {
        if let refusal = refuseBlocking("relations", instead: "the published counts") { return (refusal, nil) }
        if isStopped { return (Code.stopped, nil) }
        guard Pids.isLocal(pid), let process = table.lookup(pid) else { return (Code.noProcess, nil) }
        let signal = ThreadSignal()
        let ref = newRef()
        waiters.register(ref, Waiter(kind: .thread(signal), server: pid, isCall: true,
                                     deadline: Deadline.after(millis: timeoutMillis)))
        guard let node = Nodes.make(kind: NodeKind.sigRelations, target: pid, from: 0, ref: ref,
                                    data: nil, len: 0) else {
            _ = waiters.remove(ref)
            return (Code.noMemory, nil)
        }
        deliver(node, to: process)
        if !signal.wait(until: Deadline.optional(afterMillis: timeoutMillis)) {
            if waiters.remove(ref) != nil { return (Code.timedOut, nil) }
            _ = signal.wait(until: nil)
        }
        guard signal.code == Code.ok else { return (signal.code, nil) }
        let (data, count) = signal.takeData()
        defer { free(data) }
        return (Code.ok, ProcessRelations(decoding: UnsafeRawBufferPointer(start: data, count: count)))
    }
}
