// The supervision tree as data: JSON for programs, Graphviz DOT for eyes.
// Nested supervisors are asked for their own snapshot in turn; one that
// exits meanwhile simply shows no children.

import CSwerl

struct SupervisionTree {
    let pid: UInt64
    let snapshot: SupervisorSnapshot
    /// Child supervisors' trees, by pid.
    let nested: [UInt64: SupervisionTree]

    init(pid: UInt64, snapshot: SupervisorSnapshot, engine: Engine, depth: Int = 0) {
        self.pid = pid
        self.snapshot = snapshot
        var nested: [UInt64: SupervisionTree] = [:]
        if depth < 64 {
            for child in snapshot.children where child.type == UInt32(SWERL_SUPERVISOR) && child.pid != 0 {
                let (code, inner) = engine.supervisorSnapshot(child.pid)
                if code == Code.ok, let inner {
                    nested[child.pid] = SupervisionTree(pid: child.pid, snapshot: inner, engine: engine, depth: depth + 1)
                }
            }
        }
        self.nested = nested
    }

    static func strategyName(_ strategy: UInt32) -> String {
        ["one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one"][Int(min(strategy, 3))]
    }

    static func stateName(_ state: UInt32) -> String {
        ["running", "restarting", "undefined"][Int(min(state, 2))]
    }

    static func restartName(_ restart: UInt32) -> String {
        ["permanent", "transient", "temporary"][Int(min(restart, 2))]
    }

    // MARK: JSON

    func json() -> String {
        var out = ""
        writeJSON(into: &out)
        return out
    }

    private func writeJSON(into out: inout String) {
        out += "{\"pid\":\(Self.quote(Pid(rawValue: pid).description)),\"type\":\"supervisor\""
        out += ",\"strategy\":\"\(Self.strategyName(snapshot.strategy))\""
        out += ",\"intensity\":\(snapshot.intensity),\"period_ms\":\(snapshot.periodMillis),\"children\":["
        for (index, child) in snapshot.children.enumerated() {
            if index > 0 { out += "," }
            out += "{\"id\":\(Self.quote(child.id)),\"pid\":"
            out += child.pid == 0 ? "null" : Self.quote(Pid(rawValue: child.pid).description)
            out += ",\"type\":\"\(child.type == UInt32(SWERL_SUPERVISOR) ? "supervisor" : "worker")\""
            out += ",\"state\":\"\(Self.stateName(child.state))\",\"restart\":\"\(Self.restartName(child.restart))\""
            out += ",\"restarts\":\(child.restarts)"
            if let inner = nested[child.pid] {
                out += ",\"tree\":"
                inner.writeJSON(into: &out)
            }
            out += "}"
        }
        out += "]}"
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    // MARK: DOT

    /// A DOT label: lines joined by DOT's own line break.
    static func dotLabel(_ lines: [String]) -> String {
        let escaped = lines.map { line in
            line.reduce(into: "") { out, character in
                if character == "\\" || character == "\"" { out.append("\\") }
                out.append(character)
            }
        }
        return "\"" + escaped.joined(separator: "\\n") + "\""
    }

    func dot() -> String {
        var out = "digraph supervision {\n  node [fontname=\"Helvetica\"];\n"
        writeDOT(into: &out)
        return out + "}\n"
    }

    private func writeDOT(into out: inout String) {
        let me = "n\(pid)"
        let title = Self.dotLabel([Pid(rawValue: pid).description, Self.strategyName(snapshot.strategy)])
        out += "  \(me) [shape=box, style=bold, label=\(title)];\n"
        for (index, child) in snapshot.children.enumerated() {
            let node = child.pid != 0 ? "n\(child.pid)" : "\(me)_\(index)"
            if let inner = nested[child.pid] {
                inner.writeDOT(into: &out)
            } else {
                let shape = child.type == UInt32(SWERL_SUPERVISOR) ? "box" : "ellipse"
                let style = child.pid == 0 ? ", style=dashed" : ""
                let who = child.pid == 0 ? Self.stateName(child.state) : Pid(rawValue: child.pid).description
                let label = Self.dotLabel([child.id.isEmpty ? "child" : child.id, who, "restarts: \(child.restarts)"])
                out += "  \(node) [shape=\(shape)\(style), label=\(label)];\n"
            }
            out += "  \(me) -> \(node);\n"
        }
    }
}

