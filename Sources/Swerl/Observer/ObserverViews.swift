// The observer's data views (docs/OBSERVER.md): the process table served
// top-N from the runtime, one process with its relations, the supervision
// trees. Built by a connection process, a blocking one: asking a
// supervisor for its children or a process for its links waits.

import CSwerl

enum ObserverViews {
    /// A row of the process table.
    struct Row {
        let pid: UInt64
        let info: swerl_process_info
        let name: String

        var json: String {
            JSON.object(Row.fields(pid: pid, info: info, name: name))
        }

        static func fields(pid: UInt64, info: swerl_process_info, name: String) -> [(String, String)] {
            [("pid", JSON.pid(pid)), ("name", JSON.string(name)), ("status", JSON.string(status(info.status))),
             ("queue", String(info.message_queue_len)), ("handled", String(info.messages_handled)),
             ("memory", String(info.memory)), ("links", String(info.links)), ("monitors", String(info.monitors)),
             ("monitored_by", String(info.monitored_by)), ("trap_exit", JSON.bool(info.trap_exit != 0))]
        }

        static func status(_ status: UInt32) -> String {
            ["waiting", "runnable", "running", "exiting"][Int(min(status, 3))]
        }
    }

    enum Sort: String {
        case queue, memory, handled, pid, name
    }

    static let defaultLimit = 100
    static let maxLimit = 1000

    /// GET /api/processes: the first `limit` by `sort`, without sorting the
    /// rest (a bounded selection: a million processes cost one pass).
    static func processes(engine: Engine, sort: Sort, descending: Bool, limit: Int, filter: String) -> String {
        var total = 0
        var matched = 0
        let needle = filter.lowercased()
        var kept = BoundedSelection<Row>(limit: limit) { a, b in
            // "a comes before b" in the order asked for.
            let order: Bool
            switch sort {
            case .queue: order = a.info.message_queue_len == b.info.message_queue_len
                ? a.pid < b.pid : (a.info.message_queue_len > b.info.message_queue_len) == descending
            case .memory: order = a.info.memory == b.info.memory
                ? a.pid < b.pid : (a.info.memory > b.info.memory) == descending
            case .handled: order = a.info.messages_handled == b.info.messages_handled
                ? a.pid < b.pid : (a.info.messages_handled > b.info.messages_handled) == descending
            case .pid: order = (a.pid > b.pid) == descending
            case .name: order = a.name == b.name ? a.pid < b.pid : (a.name > b.name) == descending
            }
            return order
        }
        engine.table.forEachLive { pid in
            let (code, info) = engine.processInfo(pid)
            guard code == Code.ok else { return }
            total += 1
            let name = withUnsafeBytes(of: info.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !needle.isEmpty && !name.lowercased().contains(needle) && !Pids.format(pid).contains(needle) {
                return
            }
            matched += 1
            kept.offer(Row(pid: pid, info: info, name: name))
        }
        return JSON.object(["total": String(total), "matched": String(matched),
                            "processes": JSON.array(kept.sorted().map(\.json))])
    }

    /// GET /api/process/ID: nil when it is not alive.
    static func process(engine: Engine, pid: UInt64) -> String? {
        let (code, info) = engine.processInfo(pid)
        guard code == Code.ok else { return nil }
        let name = withUnsafeBytes(of: info.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var fields = Row.fields(pid: pid, info: info, name: name)
        // Its relations, asked of it (it answers between turns).
        let (asked, relations) = engine.relations(of: pid, timeoutMillis: 1000)
        if asked == Code.noProcess { return nil }
        fields.removeAll { ["links", "monitors", "monitored_by"].contains($0.0) }
        fields.append(("links", relations.map { JSON.pids($0.links) } ?? JSON.null))
        fields.append(("monitors", relations.map { JSON.pids($0.monitors) } ?? JSON.null))
        fields.append(("monitored_by", relations.map { JSON.pids($0.monitoredBy) } ?? JSON.null))
        let place = supervisorPlace(engine: engine, of: pid)
        fields.append(("supervisor", place.map { JSON.pid($0.supervisor) } ?? JSON.null))
        fields.append(("child_id", place.map { JSON.string($0.childId) } ?? JSON.null))
        return JSON.object(fields)
    }

    /// The supervisor whose child `pid` is, and its id there.
    static func supervisorPlace(engine: Engine, of pid: UInt64) -> (supervisor: UInt64, childId: String)? {
        func search(_ tree: SupervisionTree) -> (UInt64, String)? {
            for child in tree.snapshot.children {
                if child.pid == pid { return (tree.pid, child.id) }
            }
            for inner in tree.nested.values { if let found = search(inner) { return found } }
            return nil
        }
        for root in trees(engine: engine) { if let found = search(root) { return found } }
        return nil
    }

    static func trees(engine: Engine) -> [SupervisionTree] {
        let roots = engine.rootSupervisors.withLock { Array($0) }.sorted()
        return roots.compactMap { root in
            let (code, snapshot) = engine.supervisorSnapshot(root)
            guard code == Code.ok, let snapshot else { return nil }
            return SupervisionTree(pid: root, snapshot: snapshot, engine: engine)
        }
    }

    /// GET /api/supervisors.
    static func supervisors(engine: Engine) -> String {
        JSON.object(["trees": JSON.array(trees(engine: engine).map { $0.json() })])
    }
}

/// The first `limit` elements of what is offered, in `before` order,
/// kept in a binary heap whose top is the worst kept.
struct BoundedSelection<Element> {
    let limit: Int
    let before: (Element, Element) -> Bool
    private var heap: [Element] = []

    init(limit: Int, before: @escaping (Element, Element) -> Bool) {
        self.limit = limit
        self.before = before
    }

    mutating func offer(_ element: Element) {
        guard limit > 0 else { return }
        if heap.count < limit {
            heap.append(element)
            siftUp(heap.count - 1)
        } else if before(element, heap[0]) {
            heap[0] = element
            siftDown(0)
        }
    }

    func sorted() -> [Element] { heap.sorted(by: before) }

    // A max-heap in `before` order: the parent comes after its children.
    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(heap[parent], heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            var worst = parent
            for child in [2 * parent + 1, 2 * parent + 2] where child < heap.count && before(heap[worst], heap[child]) {
                worst = child
            }
            if worst == parent { return }
            heap.swapAt(parent, worst)
            parent = worst
        }
    }
}
