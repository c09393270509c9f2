// The frame most of a connection's traffic is: a send of a binary to a pid
// (SEND_SENDER, SEND) or to a name (REG_SEND). It is read straight from the
// socket's bytes with the term cursor and delivered with one copy (into the
// receiver's message), its pids found without building a name: this node's
// by comparing bytes, the peer's from the last one seen. Anything else (a
// message that is not a binary, a call, any other control message) goes
// the general way (Inbound), which this leaves untouched.

import CSwerl

struct FastSend {
    let engine: Engine
    let ownName: [UInt8]
    let ownCreation: UInt32
    /// The last remote pid resolved: senders repeat.
    private var lastNode: [UInt8] = []
    private var last = (id: UInt32(0), serial: UInt32(0), creation: UInt32(0), pid: UInt64(0))

    init(engine: Engine, node: DistNode) {
        self.engine = engine
        ownName = Array(node.name.utf8)
        ownCreation = node.creation
    }

    enum Outcome {
        /// Not a frame this reads: take the general way.
        case notHandled
        case delivered
        /// The memory ceiling refused it: try again later.
        case refused
    }

    mutating func apply(_ frame: UnsafeRawBufferPointer) -> Outcome {
        guard frame.count >= 3, frame[0] == passThrough, frame[1] == 131 else { return .notHandled }
        var cursor = TermCursor(frame, offset: 2)
        guard let tuple = try? cursor.header(), tuple.type == UInt32(SWERL_TERM_TUPLE),
              let op = try? cursor.header(), op.type == UInt32(SWERL_TERM_INTEGER) else { return .notHandled }
        let from: UInt64
        let to: UInt64
        switch (op.integer, tuple.count) {
        case (DistOp.sendSender, 3), (DistOp.send, 3):
            guard let sender = try? cursor.header() else { return .notHandled }
            if op.integer == DistOp.sendSender {
                guard sender.type == UInt32(SWERL_TERM_PID), let pid = resolve(sender) else { return .notHandled }
                from = pid
            } else {
                from = 0
            }
            guard let target = try? cursor.header(), target.type == UInt32(SWERL_TERM_PID), let pid = local(target)
            else { return .notHandled }
            to = pid
        case (DistOp.regSend, 4):
            guard let sender = try? cursor.header(), sender.type == UInt32(SWERL_TERM_PID), let pid = resolve(sender),
                  (try? cursor.header()) != nil,
                  let name = try? cursor.header(), name.type == UInt32(SWERL_TERM_ATOM), !name.latin1
            else { return .notHandled }
            from = pid
            guard let named = engine.registry.whereis(String(decoding: name.bytes, as: UTF8.self)) else {
                engine.deadLetters.add(1, ordering: .relaxed)  // Erlang drops it too
                return .delivered
            }
            to = named
        default:
            return .notHandled
        }
        // The message: exactly one binary.
        let start = cursor.offset
        guard frame.count - start >= 6, frame[start] == 131, frame[start + 1] == 109 else { return .notHandled }
        let length = Int(frame[start + 2]) << 24 | Int(frame[start + 3]) << 16 | Int(frame[start + 4]) << 8
            | Int(frame[start + 5])
        guard frame.count - start - 6 == length else { return .notHandled }
        let body = UnsafeRawBufferPointer(rebasing: frame[(start + 6)...])
        let code = engine.send(to: to, data: body.baseAddress, count: body.count, term: false, sender: from)
        return code == Code.memoryLimit ? .refused : .delivered
    }

    /// A pid of this node (the target of a send), or nil.
    private func local(_ header: TermCursor.Header) -> UInt64? {
        guard header.creation == ownCreation, header.bytes.elementsEqual(ownName),
              UInt64(header.id) <= Pids.slotMask, header.serial >= 1, UInt64(header.serial) <= Pids.generationMask
        else { return nil }
        return Pids.make(slot: Int(header.id), generation: UInt64(header.serial), tag: engine.tag)
    }

    /// Any node's pid: the last one again, or interned.
    private mutating func resolve(_ header: TermCursor.Header) -> UInt64? {
        if header.id == last.id && header.serial == last.serial && header.creation == last.creation && last.pid != 0
            && header.bytes.elementsEqual(lastNode) {
            return last.pid
        }
        if let mine = local(header) { return mine }
        let node = String(decoding: header.bytes, as: UTF8.self)
        let pid = engine.pid(of: ErlangPid(node: node, id: header.id, serial: header.serial, creation: header.creation))
        guard pid != 0 else { return nil }
        lastNode = Array(header.bytes)
        last = (header.id, header.serial, header.creation, pid)
        return pid
    }
}
