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
        if let refusal = refuseBlocking("a supervisor management call") { return refusal }
        if isStopped { return Code.stopped }
        guard let block = table.lookup(supervisor) else { return Code.noProcess }
        guard block.pointee.isSupervisor.load(ordering: .relaxed) else { return Code.notSupervisor }
        let payload = request.encode()
        defer { request.retire() }
        let (code, data, _, _) = payload.withUnsafeBytes { call(supervisor, request: $0, timeoutMillis: SWERL_INFINITY, runtimeTraffic: true) }
        if let data { free(data) }
        // A supervisor that exited before answering is, to the caller, not
        // alive: ENOPROC, as swerl.h documents (EEXITED is swerl_call's own
        // code, not these functions'). It took nothing: a child's arg is taken
        // in the same callback that answers.
        if code == Code.exited { return Code.noProcess }
        return code == Code.ok ? request.code : code
    }
}

extension SupervisorState {
    /// Answers a request whose work was starting `child`.
    private func conclude(_ request: SupervisorRequest, _ child: ChildRecord, _ outcome: StartOutcome,
                          _ answer: (Int32) -> Void) {
        switch outcome {
        case .started:
            request.pid = child.pid
            answer(Code.ok)
        case .ignored:
            answer(Code.ok)
        case .failed(let reason, let detail):
            request.detail = Array(ExitReason(code: reason, detail: detail).description.utf8)
            answer(Code.startFailed)
        }
    }

    func onRequest(_ message: swerl_message) {
        let ref = message.ref
        guard let request = SupervisorRequest.decode(UnsafeRawBufferPointer(start: message.data, count: message.len)) else {
            _ = engine.reply(ref, data: UnsafeRawBufferPointer(start: nil, count: 0))
            return
        }
        let answer = { (code: Int32) in
            request.code = code
            _ = self.engine.reply(ref, data: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        switch request.operation {
        case .startChild(let childSpec):
            if spec.isSimple { return answer(Code.simple) }
            let valid = childSpec.validate(autoShutdown: spec.autoShutdown)
            if valid != Code.ok { return answer(valid) }
            if let existing = children.first(where: { $0.spec.id == childSpec.id }) {
                request.pid = existing.pid
                return answer(existing.pid != 0 ? Code.started : Code.present)
            }
            let child = ChildRecord(spec: childSpec, serial: nextSerialNumber())
            start(child) { outcome in
                if case .failed = outcome {} else {
                    child.spec.arm()  // kept: the supervisor owns its argument now
                    if child.pid != 0 || !child.isTemporary { self.children.append(child) }
                }
                self.conclude(request, child, outcome, answer)
            }
        case .spawnChild(let arg):
            guard spec.isSimple, let template = spec.template else { return answer(Code.simple) }
            var childSpec = template
            // NULL: the template's own argument, owned by the template.
            childSpec.argument = arg == nil ? template.argument : template.argument.sibling(arg)
            let child = ChildRecord(spec: childSpec, serial: nextSerialNumber())
            start(child) { outcome in
                // Kept (or, ignored, dropped at once and so released now).
                if case .failed = outcome {} else if arg != nil { child.spec.argument.arm() }
                self.conclude(request, child, outcome, answer)
            }
        case .terminate(let id):
            if spec.isSimple { return answer(Code.simple) }
            guard let child = children.first(where: { $0.spec.id == id }) else { return answer(Code.notFound) }
            if child.pid == 0 {
                child.restarting = false  // a pending retry finds nothing to do
                if child.isTemporary { deleteSpec(child) }
                return answer(Code.ok)
            }
            child.restarting = false
            stop([child], parallel: false) { answer(Code.ok) }
        case .terminatePid(let pid):
            guard spec.isSimple else { return answer(Code.simple) }
            guard let child = byPid[pid] else { return answer(Code.notFound) }
            stop([child], parallel: false) {
                self.dynamic[child.serial] = nil
                answer(Code.ok)
            }
        case .restart(let id):
            if spec.isSimple { return answer(Code.simple) }
            guard let child = children.first(where: { $0.spec.id == id }) else { return answer(Code.notFound) }
            if child.pid != 0 { return answer(Code.running) }
            if child.restarting { return answer(Code.restarting) }
            start(child) { self.conclude(request, child, $0, answer) }
        case .delete(let id):
            if spec.isSimple { return answer(Code.simple) }
            guard let child = children.first(where: { $0.spec.id == id }) else { return answer(Code.notFound) }
            if child.pid != 0 { return answer(Code.running) }
            if child.restarting { return answer(Code.restarting) }
            deleteSpec(child)
            answer(Code.ok)
        case .snapshot:
            request.snapshot = SupervisorSnapshot(
                strategy: spec.strategy, intensity: spec.intensity, periodMillis: spec.periodMillis,
                children: allChildren().map { child in
                    ChildSnapshot(id: spec.isSimple ? "" : child.spec.id, pid: child.pid,
                                  state: child.pid != 0 ? UInt32(SWERL_CHILD_RUNNING)
                                      : child.restarting ? UInt32(SWERL_CHILD_RESTARTING) : UInt32(SWERL_CHILD_UNDEFINED),
                                  type: child.spec.isSupervisor ? UInt32(SWERL_SUPERVISOR) : UInt32(SWERL_WORKER),
                                  restart: child.spec.restart, restarts: child.restarts)
                })
            answer(Code.ok)
        }
    }
}
