// What each request of the observer gets (docs/OBSERVER.md): the token
// checked first, then the page, a JSON view, the event stream, or an
// action when the program enabled them.

import CSwerl
import CSwerlSupport

struct ObserverRoutes {
    let observer: Observer
    var engine: Engine { observer.engine }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        if engine.isStopped { return .error(503, "the runtime is stopping") }
        if let token = observer.options.token, !Self.carries(token, request) {
            return .error(401, "this observer needs its access token: ?token=... or Authorization: Bearer ...")
        }
        let path = request.segments ?? []
        let api = path.first == "api" ? Array(path.dropFirst()) : nil
        let view = api?.first ?? ""
        switch (request.method, path == [""] ? "page" : view, api?.count ?? 0) {
        case ("GET", "page", _):
            return HTTPResponse(status: 200, body: .html(ObserverPage.html))
        case ("GET", "overview", 1):
            return HTTPResponse(status: 200, json: observer.samples.overviewJSON(engine: engine,
                                                                                actions: observer.options.actions))
        case ("GET", "history", 1):
            return HTTPResponse(status: 200, json: observer.samples.historyJSON())
        case ("GET", "processes", 1):
            return processes(request)
        case ("GET", "process", 2):
            let id = api![1]
            guard let pid = pid(id) else { return .error(400, "\"\(id)\" is not a pid (0.12.1)") }
            guard let json = ObserverViews.process(engine: engine, pid: pid) else {
                return .error(404, "no process \(Pids.format(pid))")
            }
            return HTTPResponse(status: 200, json: json)
        case ("GET", "supervisors", 1):
            return HTTPResponse(status: 200, json: ObserverViews.supervisors(engine: engine))
        case ("GET", "events", 1):
            guard let after = UInt64(request.queryValue("after") ?? "0") else {
                return .error(400, "after: a number")
            }
            return HTTPResponse(status: 200, json: observer.events.json(after: after))
        case ("GET", "stream", 1):
            let first = ServerSentEvents.event("sample", observer.samples.overviewJSON(
                engine: engine, actions: observer.options.actions))
            return HTTPResponse(status: 200, body: .stream("retry: 2000\n\n" + first))
        case ("POST", "process", 3) where api![2] == "kill":
            if let refusal = refuseAction(request) { return refusal }
            guard let pid = pid(api![1]) else { return .error(400, "\"\(api![1])\" is not a pid") }
            let code = engine.exit(pid, reason: Reason.kill, detail: UnsafeRawBufferPointer(start: nil, count: 0))
            return code == Code.ok ? .ok : .error(404, "no process \(Pids.format(pid))")
        case ("POST", "supervisor", 5) where api![2] == "child" && ["restart", "terminate"].contains(api![4]):
            if let refusal = refuseAction(request) { return refusal }
            return childAction(supervisor: api![1], child: api![3], restart: api![4] == "restart")
        case (_, "page", _), (_, "overview", 1), (_, "history", 1), (_, "processes", 1), (_, "process", 2),
             (_, "supervisors", 1), (_, "events", 1), (_, "stream", 1), (_, "process", 3), (_, "supervisor", 5):
            return .error(405, "\(request.method) is not allowed here")
        default:
            return .error(404, "no such page: \(request.path)")
        }
    }

    private func processes(_ request: HTTPRequest) -> HTTPResponse {
        guard let sort = ObserverViews.Sort(rawValue: request.queryValue("sort") ?? "queue") else {
            return .error(400, "sort: queue, memory, handled, pid or name")
        }
        let order = request.queryValue("order") ?? "desc"
        guard order == "desc" || order == "asc" else { return .error(400, "order: desc or asc") }
        guard let limit = Int(request.queryValue("limit") ?? String(ObserverViews.defaultLimit)),
              (0...ObserverViews.maxLimit).contains(limit) else {
            return .error(400, "limit: 0 to \(ObserverViews.maxLimit)")
        }
        let filter = request.queryValue("filter") ?? ""
        guard filter.utf8.count <= 256 else { return .error(400, "filter: at most 256 bytes") }
        return HTTPResponse(status: 200, json: ObserverViews.processes(
            engine: engine, sort: sort, descending: order == "desc", limit: limit, filter: filter))
    }

    /// nil when actions are on and the request says it is one (a header a
    /// form or a link of another site cannot send), else the refusal.
    private func refuseAction(_ request: HTTPRequest) -> HTTPResponse? {
        guard observer.options.actions else { return .error(403, "actions are off for this observer") }
        guard request.header("x-swerl-action") == "1" else {
            return .error(403, "an action needs the header X-Swerl-Action: 1")
        }
        return nil
    }

    /// OTP's terminate_child, then restart_child when asked.
    private func childAction(supervisor id: String, child: String, restart: Bool) -> HTTPResponse {
        guard let supervisor = pid(id) else { return .error(400, "\"\(id)\" is not a pid") }
        var code = engine.supervisorTerminateChild(supervisor, id: child)
        if code == Code.ok && restart { code = engine.supervisorRestartChild(supervisor, id: child).0 }
        switch code {
        case Code.ok: return .ok
        case Code.noProcess, Code.notSupervisor, Code.notFound:
            return .error(404, "\(Self.codeName(code)): no such supervisor or child")
        default: return .error(409, Self.codeName(code))
        }
    }

    /// "0.12.1" (or "<0.12.1>") as a pid of this runtime.
    private func pid(_ text: String) -> UInt64? {
        var text = Substring(text)
        if text.hasPrefix("<") && text.hasSuffix(">") { text = text.dropFirst().dropLast() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "0", let slot = Int(parts[1]), let generation = UInt64(parts[2]),
              slot >= 0, slot <= Pids.maxSlots, generation > 0, generation <= Pids.generationMask else { return nil }
        return Pids.make(slot: slot, generation: generation, tag: engine.tag)
    }

    private static func codeName(_ code: Int32) -> String {
        String(cString: swerlrt_strerror(code))
    }

    /// The token, as a query parameter or a bearer, compared in constant time.
    private static func carries(_ token: String, _ request: HTTPRequest) -> Bool {
        let offered = request.queryValue("token")
            ?? request.header("authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let offered else { return false }
        let (a, b) = (Array(offered.utf8), Array(token.utf8))
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<b.count { difference |= (index < a.count ? a[index] : 0) ^ b[index] }
        return difference == 0
    }
}

extension HTTPResponse {
    static let ok = HTTPResponse(status: 200, json: #"{"ok":true}"#)
}
