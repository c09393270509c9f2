// What a supervisor process keeps: how it was launched, its flags, its
// children's records and the internal messages it sends (OTP-40..53). The
// process itself is SupervisorProcess; its jobs, restarts and management
// requests have a file each.

import CSwerl
import Synchronization

/// Who learns how a supervisor's start went.
enum SupervisorStarter {
    /// A thread blocked in swerl_supervisor_start.
    case thread(StartSignal)
    /// The parent supervisor: an acknowledgement message.
    case parent(UInt64)
}

/// What a supervisor process is spawned with.
final class SupervisorLaunch: @unchecked Sendable {
    let spec: SupervisorSpecification
    let starter: SupervisorStarter
    /// Registered by swerl_supervisor_start: a root of the forest.
    let isRoot: Bool

    init(spec: SupervisorSpecification, starter: SupervisorStarter, isRoot: Bool) {
        self.spec = spec
        self.starter = starter
        self.isRoot = isRoot
    }
}

/// The start result a thread waits for.
final class StartSignal: @unchecked Sendable {
    private let signal = ThreadSignal()
    private let detailBox = Lock<[UInt8]>([])

    func complete(code: Int32, detail: [UInt8]) {
        detailBox.withLock { $0 = detail }
        if code == Code.ok {
            signal.complete(.reply(UnsafeRawBufferPointer(start: nil, count: 0), term: false))
        } else {
            signal.complete(.failure(code))
        }
    }

    func wait() -> (Int32, [UInt8]) {
        _ = signal.wait(until: nil)
        return (signal.code, detailBox.withLock { $0 })
    }
}

final class ChildRecord {
    var spec: ChildSpecification
    var pid: UInt64 = 0
    var restarting = false
    var restarts: UInt64 = 0
    /// Start order among dynamic (simple_one_for_one) children.
    let serial: Int

    init(spec: ChildSpecification, serial: Int) {
        self.spec = spec
        self.serial = serial
    }

    var isTemporary: Bool { spec.restart == UInt32(SWERL_TEMPORARY) }
}

/// Internal messages a supervisor sends itself or its parent.
enum SupervisorMessage {
    static let tag: UInt64 = 0x5357_4552_4C53_5550  // "SWERLSUP"
    static let tryAgain: UInt32 = 1
    static let startAck: UInt32 = 2

    struct Header {
        var tag: UInt64
        var kind: UInt32
        var code: Int32
        var value: UInt64
    }

    static func encode(kind: UInt32, code: Int32 = 0, value: UInt64, detail: [UInt8] = []) -> [UInt8] {
        var header = Header(tag: tag, kind: kind, code: code, value: value)
        return withUnsafeBytes(of: &header) { Array($0) } + detail
    }

    static func decode(_ payload: UnsafeRawBufferPointer) -> (Header, [UInt8])? {
        guard payload.count >= MemoryLayout<Header>.size else { return nil }
        let header = payload.loadUnaligned(as: Header.self)
        guard header.tag == tag else { return nil }
        return (header, Array(payload[MemoryLayout<Header>.size...]))
    }
}

/// What a running supervisor keeps of its spec: the flags and the
/// simple_one_for_one template. Its children's specs live in their records,
/// so a deleted child's argument is released (OTP-47, OTP-52).
struct SupervisorFlags {
    let strategy: UInt32
    let intensity: UInt32
    let periodMillis: UInt32
    let autoShutdown: UInt32
    let template: ChildSpecification?

    init(_ spec: SupervisorSpecification) {
        strategy = spec.strategy
        intensity = spec.intensity
        periodMillis = spec.periodMillis
        autoShutdown = spec.autoShutdown
        template = spec.isSimple ? spec.children.first : nil
    }

    var isSimple: Bool { strategy == UInt32(SWERL_SIMPLE_ONE_FOR_ONE) }
}

final class SupervisorState {
    unowned(unsafe) let engine: Engine
    let spec: SupervisorFlags
    let starter: SupervisorStarter
    let isRoot: Bool
    var selfPid: UInt64 = 0
    /// The callback context while a callback runs.
    var context: UnsafeRawPointer? = nil

    /// Static children in start order; simple_one_for_one keeps `dynamic`.
    var children: [ChildRecord] = []
    var dynamic: [Int: ChildRecord] = [:]
    var byPid: [UInt64: ChildRecord] = [:]
    var nextSerial = 0
    var window: RestartWindow
    var job: Job? = nil
    var acknowledged = false
    /// Messages that came while a job ran, handled once it is done.
    var deferred: [DeferredMessage] = []
    var deferredHead = 0
    /// Specs deleted before the start was acknowledged: released only if it succeeds.
    var droppedWhileStarting: [ChildSpecification] = []
    /// Set when the supervisor must exit once the current callback returns.
    var exitReason: (Int32, [UInt8])? = nil

    init(engine: Engine, launch: SupervisorLaunch) {
        self.engine = engine
        spec = SupervisorFlags(launch.spec)
        starter = launch.starter
        isRoot = launch.isRoot
        window = RestartWindow(intensity: launch.spec.intensity, periodMillis: launch.spec.periodMillis)
    }

    var parent: UInt64 {
        if case .parent(let pid) = starter { return pid }
        return 0
    }
}

/// A message kept for after the current job.
struct DeferredMessage {
    var kind: UInt32
    var reason: Int32
    var from: UInt64
    var ref: UInt64
    var payload: [UInt8]
    var flags: UInt32

    init(_ message: swerl_message) {
        flags = message.flags
        kind = message.kind
        reason = message.reason
        from = message.from
        ref = message.ref
        payload = message.len == 0 ? [] : Array(UnsafeRawBufferPointer(start: message.data, count: message.len))
    }
}

extension SupervisorState {
    /// A report of this supervisor's through the log hook (OTP's
    /// supervisor reports: child_terminated, start_error, ...).
    /// The same report as a value, for listeners (SupervisorEvents).
    func emit(_ kind: SupervisorEvent.Kind, _ child: ChildRecord?, pid: UInt64 = 0, reason: Int32? = nil,
              detail: [UInt8] = []) {
        engine.supervisorEvents.emit(SupervisorEvent(
            supervisor: Pid(rawValue: selfPid), kind: kind, child: child?.spec.id,
            childPid: pid == 0 ? nil : Pid(rawValue: pid), reason: reason.map { ExitReason(code: $0, detail: detail) }))
    }

    func report(_ level: Int, _ event: @autoclosure () -> String) {
        engine.report(level: level, "supervisor \(Pid(rawValue: selfPid)): \(event())")
    }

    /// How reports name a child (simple_one_for_one children have no id).
    func name(of child: ChildRecord) -> String {
        child.spec.id.isEmpty ? "child" : child.spec.id
    }
}
