// Builds one term value by value, in writing order (the C API's
// swerl_term_writer): a container's put opens it, the next puts fill it,
// and the writer closes it after its last element. Each put says what is
// wrong with it, if anything (every bad input is refused with words, and
// nothing is written), so the front ends only translate. Not thread-safe:
// one thread at a time.

package final class TermWriter {
    /// A container still waiting for values.
    private struct Open {
        var kind: StaticString
        var start: Int
        var remaining: Int
        /// A proper list: NIL closes it.
        var properList: Bool
    }

    /// The runtime whose pids and refs this writer writes, if any.
    private let engine: Engine?
    private var out: [UInt8] = [ExternalTermFormat.version]
    private var open: [Open] = []
    private var complete = false
    private let maxDepth = ExternalTermFormat.Limits().maxDepth

    /// The bytes last handed out (swerl_term_writer_bytes): a copy of `out`
    /// the caller borrows until the writer's next call, so that no pointer
    /// into an array escapes.
    private var handed: UnsafeMutableRawBufferPointer?

    package init(engine: Engine?) { self.engine = engine }

    deinit { handed?.deallocate() }

    package func reset() {
        out.removeAll(keepingCapacity: true)
        out.append(ExternalTermFormat.version)
        open.removeAll(keepingCapacity: true)
        complete = false
    }

    /// The term's bytes, or why it is not complete.
    package func bytes() -> Result<UnsafeRawBufferPointer, Problem> {
        guard complete else {
            guard let last = open.last else { return .failure(Problem("nothing was put yet")) }
            return .failure(Problem("the \(last.kind) opened at byte \(last.start) lacks \(last.remaining) "
                + "value\(last.remaining == 1 ? "" : "s")"))
        }
        handed?.deallocate()
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: out.count, alignment: 1)
        copy.copyBytes(from: out)
        handed = copy
        return .success(UnsafeRawBufferPointer(copy))
    }

    /// Why a put was refused.
    package struct Problem: Error {
        package let text: String
        init(_ text: String) { self.text = text }
    }

    package typealias Outcome = Result<Void, Problem>

    // MARK: Values

    package func putAtom(_ name: UnsafeRawBufferPointer) -> Outcome {
        guard let characters = UTF8Check.characters(name) else { return .failure(Problem("the atom is not UTF-8")) }
        guard characters <= 255 else {
            return .failure(Problem("the atom has \(characters) characters: Erlang's limit is 255"))
        }
        return value { ExternalTermFormat.encode(.atom(String(decoding: name, as: UTF8.self)), into: &$0) }
    }

    package func putInteger(_ value: Int64) -> Outcome {
        self.value { ExternalTermFormat.encode(.integer(value), into: &$0) }
    }

    package func putUnsigned(_ value: UInt64) -> Outcome {
        if value <= UInt64(Int64.max) { return putInteger(Int64(value)) }
        return putBig(negative: false, magnitude: withUnsafeBytes(of: value.littleEndian) { Array($0) })
    }

    package func putBig(negative: Bool, magnitude: UnsafeRawBufferPointer) -> Outcome {
        putBig(negative: negative, magnitude: Array(magnitude))
    }

    private func putBig(negative: Bool, magnitude: [UInt8]) -> Outcome {
        guard magnitude.count <= Int(UInt32.max) else {
            return .failure(Problem("a magnitude of \(magnitude.count) bytes: at most 2^32 - 1"))
        }
        return value { ExternalTermFormat.putBig(negative: negative, magnitude: magnitude, &$0) }
    }

    package func putFloat(_ value: Double) -> Outcome {
        guard value.isFinite else { return .failure(Problem("\(value) is not finite: Erlang floats are")) }
        return self.value { ExternalTermFormat.encode(.float(value), into: &$0) }
    }

    package func putBinary(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard bytes.count <= Int(UInt32.max) else {
            return .failure(Problem("a binary of \(bytes.count) bytes: at most 2^32 - 1"))
        }
        return value { ExternalTermFormat.putBinary(bytes, &$0) }
    }

    package func putPid(_ pid: UInt64) -> Outcome {
        guard let engine else { return .failure(Problem("the writer has no runtime (swerl_term_writer_new(NULL))")) }
        guard let erlang = engine.erlangPid(pid) else {
            return .failure(Problem(pid == 0 ? "pid 0 is never a pid"
                : "\(Pids.format(pid)) is not a pid of the writer's runtime"))
        }
        return value { ExternalTermFormat.encode(.pid(erlang), into: &$0) }
    }

    package func putRef(_ ref: UInt64) -> Outcome {
        guard let engine else { return .failure(Problem("the writer has no runtime (swerl_term_writer_new(NULL))")) }
        guard ref != 0 else { return .failure(Problem("ref 0 is never a ref")) }
        return value { ExternalTermFormat.encode(.reference(engine.erlangRef(ref)), into: &$0) }
    }

    // MARK: Containers

    package func putTuple(_ arity: UInt32) -> Outcome {
        container("tuple", values: Int(arity), properList: false) { ExternalTermFormat.putTupleHeader(Int(arity), &$0) }
    }

    package func putList(_ count: UInt32) -> Outcome {
        if count == 0 { return value { ExternalTermFormat.encode(.list([]), into: &$0) } }
        return container("list", values: Int(count), properList: true) {
            ExternalTermFormat.putListHeader(Int(count), &$0)
        }
    }

    package func putImproperList(_ count: UInt32) -> Outcome {
        guard count >= 1 else { return .failure(Problem("an improper list needs at least one element")) }
        return container("improper list", values: Int(count) + 1, properList: false) {
            ExternalTermFormat.putListHeader(Int(count), &$0)
        }
    }

    package func putMap(_ pairs: UInt32) -> Outcome {
        container("map", values: 2 * Int(pairs), properList: false) { ExternalTermFormat.putMapHeader(Int(pairs), &$0) }
    }

    // MARK: Keeping count

    private func admissible() -> Problem? {
        complete ? Problem("the term is complete: reset the writer to build another") : nil
    }

    /// A whole value: written, then counted in the container it is in.
    private func value(_ write: (inout [UInt8]) -> Void) -> Outcome {
        if let problem = admissible() { return .failure(problem) }
        write(&out)
        closeFilled()
        return .success(())
    }

    private func container(_ kind: StaticString, values: Int, properList: Bool,
                           _ header: (inout [UInt8]) -> Void) -> Outcome {
        if values == 0 { return value(header) }
        if let problem = admissible() { return .failure(problem) }
        guard open.count < maxDepth else {
            return .failure(Problem("a \(kind) nested deeper than \(maxDepth) (SWERL_TERM_MAX_DEPTH)"))
        }
        let start = out.count
        header(&out)
        open.append(Open(kind: kind, start: start, remaining: values, properList: properList))
        return .success(())
    }

    /// One value more in the innermost container; those it fills are closed.
    private func closeFilled() {
        while let last = open.indices.last {
            open[last].remaining -= 1
            guard open[last].remaining == 0 else { return }
            if open[last].properList { out.append(ExternalTermFormat.Tag.nil) }
            open.removeLast()
        }
        complete = true
    }
}
