// A term printed as Erlang's io:format("~p") prints it, on one line:
// {ok,<<"abc">>,[1,2],#{a => 1}}, "abc" for a list of printable
// characters, 'quoted atoms' where Erlang quotes them, floats in their
// shortest form (1.0e6, 0.1). A UTF-8 binary prints as <<"héllo"/utf8>>, as
// ~tp does. Read straight from the bytes with the cursor (maps in their
// written order); the bytes are checked whole first, so the recursion is at
// most SWERL_TERM_MAX_DEPTH deep.

import CSwerl

package enum TermFormat {
    /// The term in `bytes` (version byte first, nothing after it) as text,
    /// or why the bytes are not one term. Pids print as the runtime's
    /// reports print them given `engine`; without one as <NODE.ID.SERIAL>.
    package static func format(_ bytes: UnsafeRawBufferPointer, engine: Engine?)
        -> Result<[UInt8], ExternalTermFormat.DecodeError>
    {
        if let problem = TermCursor.check(bytes) { return .failure(problem) }
        var cursor = TermCursor(bytes)
        var printer = Printer(engine: engine)
        do throws(ExternalTermFormat.DecodeError) {
            try cursor.version()
            try printer.term(&cursor)
        } catch {
            return .failure(error)
        }
        return .success(printer.out)
    }

    struct Printer {
        let engine: Engine?
        var out: [UInt8] = []

        mutating func put(_ text: String) { out.append(contentsOf: text.utf8) }

        mutating func term(_ cursor: inout TermCursor) throws(ExternalTermFormat.DecodeError) {
            let header = try cursor.header()
            switch Int(header.type) {
            case SWERL_TERM_INTEGER: put(String(header.integer))
            case SWERL_TERM_BIGINT: put((header.negative ? "-" : "") + Self.decimal(header.bytes))
            case SWERL_TERM_FLOAT: put(Self.float(header.real))
            case SWERL_TERM_ATOM: atom(header.bytes, latin1: header.latin1)
            case SWERL_TERM_BINARY: binary(header.bytes, bits: 0)
            case SWERL_TERM_BITSTRING: binary(header.bytes, bits: header.bits)
            case SWERL_TERM_TUPLE:
                put("{")
                try elements(header.count, &cursor)
                put("}")
            case SWERL_TERM_NIL: put("[]")
            case SWERL_TERM_STRING:
                if header.bytes.allSatisfy({ Self.printable(Int64($0)) }) {
                    quoted(header.bytes.lazy.map { Int64($0) }, quote: "\"")
                } else {
                    put("[" + header.bytes.map { String($0) }.joined(separator: ",") + "]")
                }
            case SWERL_TERM_LIST: try list(header.count, &cursor)
            case SWERL_TERM_MAP:
                put("#{")
                for index in 0..<header.count {
                    if index > 0 { put(",") }
                    try term(&cursor)
                    put(" => ")
                    try term(&cursor)
                }
                put("}")
            case SWERL_TERM_PID: pid(header)
            case SWERL_TERM_REF:
                let ids = header.refIDs.reversed().map { String($0) }
                put("#Ref<" + node(header) + "." + ids.joined(separator: ".") + ">")
            case SWERL_TERM_PORT: put("#Port<" + node(header) + ".\(UInt64(bitPattern: header.integer))>")
            default:  // SWERL_TERM_FUN
                put("fun ")
                atom(header.bytes, latin1: header.latin1)
                put(":")
                atom(header.name, latin1: header.latin1)
                put("/\(header.integer)")
            }
        }

        private mutating func elements(_ count: Int, _ cursor: inout TermCursor) throws(ExternalTermFormat.DecodeError) {
            for index in 0..<count {
                if index > 0 { put(",") }
                try term(&cursor)
            }
        }

        /// A list: "text" when it is a proper list of printable characters,
        /// else [A,B] or [A,B|Tail].
        private mutating func list(_ count: Int, _ cursor: inout TermCursor) throws(ExternalTermFormat.DecodeError) {
            var probe = cursor
            var characters: [Int64] = []
            while characters.count < count {
                let element = try probe.header()
                guard element.type == SWERL_TERM_INTEGER, Self.printable(element.integer) else { break }
                characters.append(element.integer)
            }
            if characters.count == count, try probe.header().type == SWERL_TERM_NIL {
                cursor = probe
                return quoted(characters, quote: "\"")
            }
            put("[")
            try elements(count, &cursor)
            var tail = cursor
            if try tail.header().type == SWERL_TERM_NIL {
                cursor = tail
            } else {
                put("|")
                try term(&cursor)
            }
            put("]")
        }

        private mutating func pid(_ header: TermCursor.Header) {
            if let engine {
                let erlang = ErlangPid(node: ExternalTermFormat.Builder.text(header.bytes, latin1: header.latin1),
                                       id: header.id, serial: header.serial, creation: header.creation)
                let pid = engine.pid(of: erlang)
                if pid != 0 { return put(Pids.format(pid)) }
            }
            put("<" + node(header) + ".\(header.id).\(header.serial)>")
        }

        /// "0" for this runtime's node, else the node's name.
        private func node(_ header: TermCursor.Header) -> String {
            let name = ExternalTermFormat.Builder.text(header.bytes, latin1: header.latin1)
            if let engine { return name == engine.nodeIdentity.name ? "0" : name }
            return name
        }

        // MARK: Atoms, text, numbers

        static let reserved: Set<String> = [
            "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case", "catch",
            "cond", "div", "else", "end", "fun", "if", "let", "maybe", "not", "of", "or", "orelse", "receive",
            "rem", "try", "when", "xor",
        ]

        private mutating func atom(_ bytes: UnsafeRawBufferPointer, latin1: Bool) {
            let name = ExternalTermFormat.Builder.text(bytes, latin1: latin1)
            let scalars = name.unicodeScalars
            let plain = scalars.first.map { ("a"..."z").contains($0) } == true
                && scalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                                                       || $0 == "_" || $0 == "@") }
                && !Self.reserved.contains(name)
            if plain { return put(name) }
            quoted(scalars.lazy.map { Int64($0.value) }, quote: "'")
        }

        /// Characters between quotes, with Erlang's escapes.
        private mutating func quoted(_ characters: some Sequence<Int64>, quote: Character) {
            put(String(quote))
            for character in characters {
                switch character {
                case Int64(quote.asciiValue!): put("\\" + String(quote))
                case 0x5C: put("\\\\")
                case 0x0A: put("\\n")
                case 0x0D: put("\\r")
                case 0x09: put("\\t")
                case 0x0B: put("\\v")
                case 0x08: put("\\b")
                case 0x0C: put("\\f")
                case 0x1B: put("\\e")
                case 0..<0x20, 0x7F: put("\\" + String(character, radix: 8))
                default:
                    if let scalar = Unicode.Scalar(UInt32(truncatingIfNeeded: character)) { put(String(scalar)) }
                }
            }
            put(String(quote))
        }

        /// io_lib's printable characters (the Latin-1 range).
        static func printable(_ character: Int64) -> Bool {
            (32...126).contains(character) || (160...255).contains(character) || [8, 9, 10, 11, 12, 13, 27].contains(character)
        }

        private mutating func binary(_ bytes: UnsafeRawBufferPointer, bits: UInt8) {
            if bits == 0 && !bytes.isEmpty {
                if bytes.allSatisfy({ $0 < 0x80 && Self.printable(Int64($0)) }) {
                    put("<<")
                    quoted(bytes.lazy.map { Int64($0) }, quote: "\"")
                    return put(">>")
                }
                if UTF8Check.characters(bytes) != nil {
                    let scalars = String(decoding: bytes, as: UTF8.self).unicodeScalars
                    if scalars.allSatisfy({ $0.value > 255 || Self.printable(Int64($0.value)) }) {
                        put("<<")
                        quoted(scalars.lazy.map { Int64($0.value) }, quote: "\"")
                        return put("/utf8>>")
                    }
                }
            }
            var parts = bytes.map { String($0) }
            if bits > 0, let last = bytes.last {
                parts[parts.count - 1] = "\(last >> (8 - bits)):\(bits)"
            }
            put("<<" + parts.joined(separator: ",") + ">>")
        }

        /// A magnitude (little-endian bytes) in decimal.
        static func decimal(_ magnitude: UnsafeRawBufferPointer) -> String {
            var limbs: [UInt32] = stride(from: 0, to: magnitude.count, by: 4).map { start in
                (start..<min(start + 4, magnitude.count)).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32(magnitude[$1]) }
            }
            var groups: [UInt32] = []  // base 10^9, least significant first
            while limbs.contains(where: { $0 != 0 }) {
                var remainder: UInt64 = 0
                for index in limbs.indices.reversed() {
                    let value = remainder << 32 | UInt64(limbs[index])
                    limbs[index] = UInt32(value / 1_000_000_000)
                    remainder = value % 1_000_000_000
                }
                groups.append(UInt32(remainder))
            }
            guard let top = groups.last else { return "0" }
            return String(top) + groups.dropLast().reversed().map { group in
                let digits = String(group)
                return String(repeating: "0", count: 9 - digits.count) + digits
            }.joined()
        }

        /// The shortest digits that read back as `value`, in the shorter of
        /// Erlang's two notations (123.5, 1.0e-10); plain on a tie.
        static func float(_ value: Double) -> String {
            guard value.isFinite else { return value.description }
            let sign = value.sign == .minus ? "-" : ""
            if value == 0 { return sign + "0.0" }
            var text = value.magnitude.description
            var exponent = 0
            if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                exponent = Int(text[text.index(after: e)...]) ?? 0
                text = String(text[..<e])
            }
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            var digits = Array(parts[0] + (parts.count > 1 ? parts[1] : ""))
            var point = parts[0].count + exponent  // digits before the decimal point
            while digits.first == "0" {
                digits.removeFirst()
                point -= 1
            }
            while digits.last == "0" { digits.removeLast() }
            let all = String(digits)
            let scientific = String(digits[0]) + "." + (digits.count > 1 ? String(digits[1...]) : "0") + "e\(point - 1)"
            let plain: String
            if point <= 0 {
                plain = "0." + String(repeating: "0", count: -point) + all
            } else if point >= digits.count {
                plain = all + String(repeating: "0", count: point - digits.count) + ".0"
            } else {
                plain = String(digits[..<point]) + "." + String(digits[point...])
            }
            return sign + (scientific.count < plain.count ? scientific : plain)
        }
    }
}
