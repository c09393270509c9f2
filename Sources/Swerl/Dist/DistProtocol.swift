// Erlang distribution's numbers: capability flags and control message
// opcodes (erts "Distribution Protocol" guide), as OTP 25 speaks them.

enum DistFlag {
    static let published: UInt64 = 0x1
    static let extendedReferences: UInt64 = 0x4
    static let distMonitor: UInt64 = 0x8
    static let funTags: UInt64 = 0x10
    static let distMonitorName: UInt64 = 0x20
    static let newFunTags: UInt64 = 0x80
    static let extendedPidsPorts: UInt64 = 0x100
    static let exportPtrTag: UInt64 = 0x200
    static let bitBinaries: UInt64 = 0x400
    static let newFloats: UInt64 = 0x800
    static let unicodeIO: UInt64 = 0x1000
    static let smallAtomTags: UInt64 = 0x4000
    static let utf8Atoms: UInt64 = 0x10000
    static let mapTag: UInt64 = 0x20000
    static let bigCreation: UInt64 = 0x40000
    static let sendSender: UInt64 = 0x80000
    static let bigSeqtraceLabels: UInt64 = 0x100000
    static let exitPayload: UInt64 = 0x400000
    static let handshake23: UInt64 = 0x1000000
    static let unlinkId: UInt64 = 0x2000000
    static let mandatory25Digest: UInt64 = 0x4000000
    static let v4NC: UInt64 = 1 << 34

    /// What this node offers: no atom cache and no fragments (so every
    /// frame is a pass-through one), not published (a hidden node).
    static let ours: UInt64 = extendedReferences | distMonitor | funTags | distMonitorName | newFunTags
        | extendedPidsPorts | exportPtrTag | bitBinaries | newFloats | unicodeIO | smallAtomTags | utf8Atoms
        | mapTag | bigCreation | sendSender | bigSeqtraceLabels | exitPayload | handshake23 | unlinkId
        | mandatory25Digest | v4NC

    /// What a peer must offer: the forms this node's codec writes, the
    /// version-6 handshake, and the control messages this node sends
    /// (SEND_SENDER, PAYLOAD_EXIT*, UNLINK_ID: every OTP 23 node has them).
    static let required: UInt64 = extendedReferences | extendedPidsPorts | utf8Atoms | newFloats | mapTag
        | bigCreation | handshake23 | sendSender | exitPayload | unlinkId
}

enum DistOp {
    static let link: Int64 = 1
    static let send: Int64 = 2
    static let exit: Int64 = 3
    static let unlink: Int64 = 4
    static let regSend: Int64 = 6
    static let groupLeader: Int64 = 7
    static let exit2: Int64 = 8
    static let sendTT: Int64 = 12
    static let exitTT: Int64 = 13
    static let regSendTT: Int64 = 16
    static let exit2TT: Int64 = 18
    static let monitorP: Int64 = 19
    static let demonitorP: Int64 = 20
    static let monitorPExit: Int64 = 21
    static let sendSender: Int64 = 22
    static let sendSenderTT: Int64 = 23
    static let payloadExit: Int64 = 24
    static let payloadExitTT: Int64 = 25
    static let payloadExit2: Int64 = 26
    static let payloadExit2TT: Int64 = 27
    static let payloadMonitorPExit: Int64 = 28
    static let aliasSend: Int64 = 33
    static let aliasSendTT: Int64 = 34
    static let unlinkId: Int64 = 35
    static let unlinkIdAck: Int64 = 36
}

/// A frame's first byte when there is no atom cache.
let passThrough: UInt8 = 112
