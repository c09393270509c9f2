// JSON text for the observer's endpoints, written directly: values are
// fragments of JSON already, objects keep their keys' order. (No
// Foundation in the library; the data is small and flat.)

enum JSON {
    static let null = "null"

    static func string(_ text: String) -> String { SupervisionTree.quote(text) }

    static func string(_ text: String?) -> String { text.map(string) ?? null }

    static func bool(_ value: Bool) -> String { value ? "true" : "false" }

    /// A number with at most three decimals; a non-finite one is null.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return null }
        let thousandths = (value * 1000).rounded()
        if thousandths == thousandths.rounded(.towardZero), abs(thousandths) < 9e15 {
            let whole = Int64(thousandths)
            let sign = whole < 0 ? "-" : ""
            let magnitude = whole.magnitude
            let fraction = magnitude % 1000
            guard fraction != 0 else { return sign + String(magnitude / 1000) }
            var decimals = String(fraction)
            decimals = String(repeating: "0", count: 3 - decimals.count) + decimals
            while decimals.hasSuffix("0") { decimals.removeLast() }
            return sign + String(magnitude / 1000) + "." + decimals
        }
        return String(value)
    }

    static func object(_ fields: KeyValuePairs<String, String>) -> String {
        object(fields.map { ($0.key, $0.value) })
    }

    static func object(_ fields: [(String, String)]) -> String {
        var out = "{"
        for (index, field) in fields.enumerated() {
            if index > 0 { out += "," }
            out += string(field.0) + ":" + field.1
        }
        return out + "}"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

    static func pid(_ pid: UInt64) -> String { string(Pids.format(pid)) }

    static func pids(_ pids: [UInt64]) -> String { array(pids.map(pid)) }
}
