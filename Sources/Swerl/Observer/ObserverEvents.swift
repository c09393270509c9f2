// The observer's event ring: supervisor reports and crashes of processes
// outside supervisors, newest last, the last `capacity` kept. Fed by the
// runtime's own buses (SupervisorEvents, CrashReports) while an observer
// runs; nothing is kept when none does.

import CSwerl

final class ObserverEvents: Sendable {
    struct Event: Sendable {
        let seq: UInt64
        let timeMillis: UInt64
        let kind: String
        let pid: UInt64?
        let name: String?
        let supervisor: UInt64?
        let childId: String?
        let reason: Int32?
        let detail: String?

        var json: String {
            let pid: String = self.pid.map(JSON.pid) ?? JSON.null
            let supervisor: String = self.supervisor.map(JSON.pid) ?? JSON.null
            let reason: String = self.reason.map { JSON.string(ObserverEvents.reasonName($0)) } ?? JSON.null
            let fields: [(String, String)] = [
                ("seq", String(seq)), ("time_ms", String(timeMillis)), ("kind", JSON.string(kind)),
                ("pid", pid), ("name", JSON.string(name)), ("supervisor", supervisor),
                ("child_id", JSON.string(childId)), ("reason", reason), ("detail", JSON.string(detail)),
            ]
            return JSON.object(fields)
        }
    }

    /// As Erlang writes reasons (`error`, `shutdown`, `killed`); a user
    /// reason as its number.
    static func reasonName(_ reason: Int32) -> String {
        reason >= Int32(SWERL_REASON_USER) ? String(reason) : Reason.name(reason).lowercased()
    }

    static let capacity = 500
    /// A detail longer than this is cut (a traceback can be long).
    static let detailLimit = 2048

    private struct Ring {
        var events: [Event] = []
        var next = 0
        var lastSeq: UInt64 = 0
    }
    private let ring = Lock(Ring())

    func add(kind: String, pid: UInt64?, name: String?, supervisor: UInt64?, childId: String?,
             reason: Int32?, detail: [UInt8]) {
        let text = detail.isEmpty ? nil : detail.withUnsafeBytes { ErrorDetail.excerpt($0, limit: Self.detailLimit) }
        ring.withLock { ring in
            ring.lastSeq += 1
            let event = Event(seq: ring.lastSeq, timeMillis: wallClockMillis(), kind: kind, pid: pid, name: name,
                              supervisor: supervisor, childId: childId, reason: reason, detail: text)
            if ring.events.count < Self.capacity {
                ring.events.append(event)
            } else {
                ring.events[ring.next] = event
                ring.next = (ring.next + 1) % Self.capacity
            }
        }
    }

    /// Those after `seq`, newest first, and the last seq given out.
    func since(_ seq: UInt64) -> (events: [Event], last: UInt64) {
        ring.withLock { ring in
            let ordered = ring.events[ring.next...] + ring.events[..<ring.next]
            return (ordered.filter { $0.seq > seq }.reversed(), ring.lastSeq)
        }
    }

    func json(after seq: UInt64) -> String {
        let (events, last) = since(seq)
        return JSON.object(["last": String(last), "events": JSON.array(events.map(\.json))])
    }

    /// Listens to the runtime's buses; returns what stops listening.
    func listen(to engine: Engine) -> @Sendable () -> Void {
        let id = engine.supervisorEvents.listen { [weak self] event in
            guard let self else { return }
            let kind: String
            switch event.kind {
            case .childTerminated: kind = "child_terminated"
            case .restarting: kind = "restarting"
            case .startError: kind = "start_error"
            case .shutdownError: kind = "shutdown_error"
            case .maxIntensityReached: kind = "max_intensity"
            }
            let pid = event.childPid?.rawValue
            self.add(kind: kind, pid: pid, name: nil, supervisor: event.supervisor.rawValue, childId: event.child,
                     reason: event.reason?.code, detail: event.reason?.detail ?? [])
        }
        engine.crashReports.listener.withLock {
            $0 = { [weak self] pid, name, reason, detail in
                self?.add(kind: "crash", pid: pid, name: name, supervisor: nil, childId: nil, reason: reason,
                          detail: detail)
            }
        }
        // Not `weak`: a weak reference moves the engine's reference count to
        // a side table, and every retain of it on the send path then takes
        // the slow path (ping-pong 1.4x slower). The observer stops, and
        // calls this, before its engine goes.
        return { [unowned(unsafe) engine] in
            engine.supervisorEvents.stopListening(id)
            engine.crashReports.listener.withLock { $0 = nil }
        }
    }
}
