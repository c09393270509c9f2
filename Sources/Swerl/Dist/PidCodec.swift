// Pids and refs as Erlang terms, both ways: what the term codec (local term
// messages, the C term API, Python, Swift) and the distribution layer use.
//
// A local pid is `<slot.generation>` of this node: NEW_PID with the node's
// name and creation (`nonode@nohost`, creation 0, until the runtime becomes
// a node, as Erlang's own pids are before net_kernel starts). A ref this
// runtime made is NEWER_REFERENCE with its 64 bits in the first two words,
// so a reply or a DOWN coming back names it without a table.

extension Engine {
    /// The node name and creation this runtime's pids carry.
    var nodeIdentity: (name: String, creation: UInt32) {
        if let node = distribution.load() { return (node.name, node.creation) }
        return ("nonode@nohost", 0)
    }

    /// `pid` as Erlang sees it; nil for 0 or a pid of another runtime.
    func erlangPid(_ pid: UInt64) -> ErlangPid? {
        if !Pids.isLocal(pid) { return remotePids.erlangPid(pid) }
        guard owns(pid) else { return nil }
        let identity = nodeIdentity
        return ErlangPid(node: identity.name, id: UInt32(Pids.slot(pid)), serial: UInt32(Pids.generation(pid)),
                         creation: identity.creation)
    }

    /// The swerl_pid of an Erlang pid: a local one if it names this node,
    /// else its interned remote pid. 0 when it names this node but no pid
    /// this runtime could have made, or the remote table is full.
    func pid(of erlang: ErlangPid) -> UInt64 {
        let identity = nodeIdentity
        if erlang.node == identity.name && (erlang.creation == identity.creation || identity.creation == 0) {
            guard UInt64(erlang.id) <= Pids.slotMask, erlang.serial >= 1, UInt64(erlang.serial) <= Pids.generationMask
            else { return 0 }
            return Pids.make(slot: Int(erlang.id), generation: UInt64(erlang.serial), tag: tag)
        }
        return remotePids.intern(erlang)
    }

    /// A ref of this runtime's as Erlang sees it.
    func erlangRef(_ ref: UInt64) -> ErlangRef {
        let identity = nodeIdentity
        return ErlangRef(node: identity.name, creation: identity.creation,
                         ids: [UInt32(truncatingIfNeeded: ref), UInt32(truncatingIfNeeded: ref >> 32), 0])
    }

    /// The swerl_ref of a ref this runtime made; nil for any other ref.
    func ref(of erlang: ErlangRef) -> UInt64? {
        let identity = nodeIdentity
        guard erlang.node == identity.name, erlang.creation == identity.creation, erlang.ids.count == 3,
              erlang.ids[2] == 0 else { return nil }
        let ref = UInt64(erlang.ids[0]) | UInt64(erlang.ids[1]) << 32
        return ref == 0 ? nil : ref
    }
}
