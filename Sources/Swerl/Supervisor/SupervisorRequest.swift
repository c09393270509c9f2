// Management requests (OTP-52): a synchronous call to the supervisor
// process. The calling thread passes a request object by reference in the
// CALL payload and reads the answer from it once the supervisor replies;
// only objects the engine issued are accepted, so a forged CALL to a
// supervisor cannot make it dereference anything.

import CSwerl
import Glibc
import Synchronization

struct ChildSnapshot: Sendable {
    var id: String
    var pid: UInt64
    var state: UInt32
    var type: UInt32
    var restart: UInt32
    var restarts: UInt64
}

struct SupervisorSnapshot: Sendable {
    var strategy: UInt32
    var intensity: UInt32
    var periodMillis: UInt32
    var children: [ChildSnapshot]
}

final class SupervisorRequest: @unchecked Sendable {
    enum Operation {
        case startChild(ChildSpecification)
        case spawnChild(UnsafeMutableRawPointer?)
        case terminate(String)
        case terminatePid(UInt64)
        case restart(String)
        case delete(String)
        case snapshot
    }

    let operation: Operation
    // Filled by the supervisor before it replies.
    var code: Int32 = Code.ok
    var pid: UInt64 = 0
    var detail: [UInt8] = []
    var snapshot: SupervisorSnapshot? = nil

    init(_ operation: Operation) { self.operation = operation }

    private static let tag: UInt64 = 0x5357_4552_4C52_4551  // "SWERLREQ"
    private static let issued = Lock<Set<UInt>>([])

    /// The CALL payload for this request; valid until `retire`.
    func encode() -> [UInt8] {
        let bits = UInt(bitPattern: Unmanaged.passRetained(self).toOpaque())
        _ = Self.issued.withLock { $0.insert(bits) }
        var words: (UInt64, UInt64) = (Self.tag, UInt64(bits))
        return withUnsafeBytes(of: &words) { Array($0) }
    }

    func retire() {
        let unmanaged = Unmanaged.passUnretained(self)
        let bits = UInt(bitPattern: unmanaged.toOpaque())
        if Self.issued.withLock({ $0.remove(bits) }) != nil { unmanaged.release() }
    }

    static func decode(_ payload: UnsafeRawBufferPointer) -> SupervisorRequest? {
        guard payload.count == 16 else { return nil }
        let words = payload.loadUnaligned(as: (UInt64, UInt64).self)
        guard words.0 == tag, let bits = UInt(exactly: words.1),
              issued.withLock({ $0.contains(bits) }), let raw = UnsafeRawPointer(bitPattern: bits) else { return nil }
        return Unmanaged<SupervisorRequest>.fromOpaque(raw).takeUnretainedValue()
    }
}

extension Engine {
    /// Sends a management request and waits for the supervisor's answer.
    func supervisorCall(_ supervisor: UInt64, _ request: SupervisorRequest) -> Int32 {
        if CallbackContexts.current != nil { return Code.inProcess }
        if isStopped { return Code.stopped }
        guard let block = table.lookup(supervisor) else { return Code.noProcess }
        guard block.pointee.isSupervisor.load(ordering: .relaxed) else { return Code.notSupervisor }
        let payload = request.encode()
        defer { request.retire() }
        let (code, data, _) = payload.withUnsafeBytes { call(supervisor, request: $0, timeoutMillis: SWERL_INFINITY, runtimeTraffic: true) }
        if let data { free(data) }
        // A supervisor that exited before answering is, to the caller, not
        // alive: ENOPROC, as swerl.h documents (EEXITED is swerl_call's own
        // code, not these functions'). It took nothing: a child's arg is taken
        // in the same callback that answers.
        if code == Code.exited { return Code.noProcess }
        return code == Code.ok ? request.code : code
    }
}
