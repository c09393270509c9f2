// A term as Erlang's `~p` prints it (on one line): for reports, exit
// reasons that came from Erlang, and swerl_term_format.

enum TermText {
    static func format(_ term: Term) -> String {
        var out = ""
        write(term, into: &out)
        return out
    }

    private static func write(_ term: Term, into out: inout String) {
        switch term {
        case .atom(let name): out += atom(name)
        case .integer(let value): out += String(value)
        case .bigInteger(let negative, let magnitude): out += big(negative: negative, magnitude: magnitude)
        case .float(let value): out += format1(value)
        case .binary(let bytes): out += binary(bytes)
        case .bitstring(let bytes, let bits):
            out += "<<" + bytes.dropLast().map { String($0) }.joined(separator: ",")
            if let last = bytes.last { out += (bytes.count > 1 ? "," : "") + "\(last >> (8 - bits)):\(bits)" }
            out += ">>"
        case .tuple(let items):
            out += "{"
            list(items, into: &out)
            out += "}"
        case .list(let items):
            if !items.isEmpty, let text = printable(items) { out += text; return }
            out += "["
            list(items, into: &out)
            out += "]"
        case .improperList(let items, let tail):
            out += "["
            list(items, into: &out)
            out += "|"
            write(tail, into: &out)
            out += "]"
        case .map(let pairs):
            out += "#{"
            var first = true
            for (key, value) in pairs.sorted(by: { format($0.key) < format($1.key) }) {
                if !first { out += "," }
                first = false
                write(key, into: &out)
                out += " => "
                write(value, into: &out)
            }
            out += "}"
        case .pid(let pid): out += "<\(pid.node).\(pid.id).\(pid.serial)>"
        case .reference(let ref): out += "#Ref<\(ref.node)." + ref.ids.reversed().map { String($0) }.joined(separator: ".") + ">"
        case .port(let port): out += "#Port<\(port.node).\(port.id)>"
        case .export(let module, let function, let arity): out += "fun \(atom(module)):\(atom(function))/\(arity)"
        }
    }

    private static func list(_ items: [Term], into out: inout String) {
        for (index, item) in items.enumerated() {
            if index > 0 { out += "," }
            write(item, into: &out)
        }
    }

    private static func format1(_ value: Double) -> String {
        let text = "\(value)"
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    /// Quoted unless it is a plain lowercase atom.
    static func atom(_ name: String) -> String {
        let utf8 = Array(name.utf8)
        if let first = utf8.first, first >= 97 && first <= 122,
           utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 64 }) {
            return name
        }
        return "'" + escaped(name, quote: "'") + "'"
    }

    private static func binary(_ bytes: [UInt8]) -> String {
        if !bytes.isEmpty, bytes.allSatisfy({ ($0 >= 32 && $0 < 127) || $0 == 9 || $0 == 10 }) {
            return "<<\"" + escaped(String(decoding: bytes, as: UTF8.self), quote: "\"") + "\">>"
        }
        return "<<" + bytes.map { String($0) }.joined(separator: ",") + ">>"
    }

    /// A list of printable characters, as `~p` shows strings.
    private static func printable(_ items: [Term]) -> String? {
        var text = ""
        for item in items {
            guard case .integer(let code) = item, (code >= 32 && code < 127) || code == 9 || code == 10 else { return nil }
            text.unicodeScalars.append(Unicode.Scalar(UInt8(code)))
        }
        return "\"" + escaped(text, quote: "\"") + "\""
    }

    private static func escaped(_ text: String, quote: Character) -> String {
        var out = ""
        for character in text {
            switch character {
            case quote, "\\": out += "\\" + String(character)
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.append(character)
            }
        }
        return out
    }

    private static func big(negative: Bool, magnitude: [UInt8]) -> String {
        // Repeated division of the little-endian magnitude by 10.
        var digits = magnitude
        var text: [Character] = []
        while digits.contains(where: { $0 != 0 }) {
            var remainder = 0
            for index in stride(from: digits.count - 1, through: 0, by: -1) {
                let value = remainder * 256 + Int(digits[index])
                digits[index] = UInt8(value / 10)
                remainder = value % 10
            }
            text.append(Character(String(remainder)))
        }
        if text.isEmpty { return "0" }
        return (negative ? "-" : "") + String(text.reversed())
    }
}
