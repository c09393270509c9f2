// Supervisor and child specs as the supervisor keeps them: copied and
// validated from the C structs (or built by the Swift API) before anything
// starts (OTP-40, OTP-41).

import CSwerl
import Synchronization

/// A child's start argument. Its `arg_free` runs once, when the last spec
/// holding it is gone, but only once the supervisor has taken it (`arm`):
/// a spec that is rejected leaves the argument with its caller.
final class ChildArgument: @unchecked Sendable {
    typealias Release = @convention(c) (UnsafeMutableRawPointer?) -> Void
    let pointer: UnsafeMutableRawPointer?
    let release: Release?
    private let armed = Atomic<Bool>(false)

    /// `armed`: owned from the start (arguments the Swift API creates).
    init(_ pointer: UnsafeMutableRawPointer?, release: Release?, armed: Bool = false) {
        self.pointer = pointer
        self.release = release
        self.armed.store(armed, ordering: .relaxed)
    }

    /// An argument owning `object` (a +1 reference, released with the spec).
    static func owning(_ object: AnyObject) -> ChildArgument {
        ChildArgument(Unmanaged.passRetained(object).toOpaque(), release: { raw in
            Unmanaged<AnyObject>.fromOpaque(raw!).release()
        }, armed: true)
    }

    func arm() { armed.store(true, ordering: .releasing) }

    /// Hands ownership to whoever took the pointer (a supervisor's copy).
    func disown() { armed.store(false, ordering: .releasing) }

    deinit {
        if armed.load(ordering: .acquiring) { release?(pointer) }
    }

    /// Another argument released the same way (simple_one_for_one children).
    func sibling(_ pointer: UnsafeMutableRawPointer?) -> ChildArgument {
        ChildArgument(pointer, release: release)
    }
}

struct ChildSpecification: @unchecked Sendable {
    var id: String
    var behavior: swerl_behavior
    var argument: ChildArgument
    /// The nested tree of a supervisor child.
    var nested: SupervisorSpecification?
    var restart: UInt32
    var shutdownMillis: UInt32
    var isSupervisor: Bool
    var significant: Bool
}

final class SupervisorSpecification: @unchecked Sendable {
    let strategy: UInt32
    let intensity: UInt32
    let periodMillis: UInt32
    let autoShutdown: UInt32
    let children: [ChildSpecification]

    init(strategy: UInt32, intensity: UInt32, periodMillis: UInt32, autoShutdown: UInt32,
         children: [ChildSpecification]) {
        self.strategy = strategy
        self.intensity = intensity
        self.periodMillis = periodMillis
        self.autoShutdown = autoShutdown
        self.children = children
    }

    var isSimple: Bool { strategy == UInt32(SWERL_SIMPLE_ONE_FOR_ONE) }

    /// The supervisor takes every argument of the tree.
    func arm() {
        for child in children { child.arm() }
    }

    /// Validates flags and children: 0 or EINVAL, EDUPLICATE, EBADSPEC, each
    /// with words saying which field and why.
    func validate() -> Int32 {
        if strategy > UInt32(SWERL_SIMPLE_ONE_FOR_ONE) {
            return ErrorDetail.failing(Code.invalid, "supervisor spec: strategy \(strategy) is not one of SWERL_ONE_FOR_ONE, "
                + "_ONE_FOR_ALL, _REST_FOR_ONE, _SIMPLE_ONE_FOR_ONE")
        }
        if periodMillis == 0 { return ErrorDetail.failing(Code.invalid, "supervisor spec: period_ms must be > 0 (OTP-40)") }
        if autoShutdown > UInt32(SWERL_AUTO_SHUTDOWN_ALL_SIGNIFICANT) {
            return ErrorDetail.failing(Code.invalid, "supervisor spec: auto_shutdown \(autoShutdown) is unknown")
        }
        if isSimple && children.count != 1 {
            return ErrorDetail.failing(Code.badSpec, "supervisor spec: simple_one_for_one takes exactly one child "
                + "spec, the template (it has \(children.count))")
        }
        var seen = Set<String>()
        for child in children {
            let valid = child.validate(autoShutdown: autoShutdown)
            if valid != Code.ok { return valid }
            if !seen.insert(child.id).inserted {
                return ErrorDetail.failing(Code.duplicate, "supervisor spec: two children have the id '\(child.id)'")
            }
        }
        return Code.ok
    }
}

extension ChildSpecification {
    func arm() {
        argument.arm()
        nested?.arm()
    }

    func validate(autoShutdown: UInt32) -> Int32 {
        if let problem = NameRule.problem(id) {
            return ErrorDetail.failing(Code.invalid, "child spec: the id: \(problem)")
        }
        if restart > UInt32(SWERL_TEMPORARY) {
            return ErrorDetail.failing(Code.invalid, "child spec '\(id)': restart \(restart) is not SWERL_PERMANENT, "
                + "_TRANSIENT or _TEMPORARY")
        }
        if isSupervisor ? nested == nil : behavior.handle == nil {
            return ErrorDetail.failing(Code.invalid, isSupervisor
                ? "child spec '\(id)': a SWERL_SUPERVISOR child needs its nested spec (supervisor)"
                : "child spec '\(id)': behavior->handle is NULL")
        }
        if significant && restart == UInt32(SWERL_PERMANENT) {
            return ErrorDetail.failing(Code.badSpec, "child spec '\(id)': a significant child cannot be permanent (OTP-41)")
        }
        if significant && autoShutdown == UInt32(SWERL_AUTO_SHUTDOWN_NEVER) {
            return ErrorDetail.failing(Code.badSpec, "child spec '\(id)': significant needs auto_shutdown other than "
                + "never (OTP-41)")
        }
        if let nested { return nested.validate() }
        return Code.ok
    }
}

// MARK: - From C

enum SpecImport {
    /// Copies and validates a C supervisor spec (recursively). The result
    /// owns no argument until it is armed.
    static func supervisor(_ raw: UnsafePointer<swerl_supervisor_spec>?, depth: Int = 0)
        -> Result<SupervisorSpecification, SpecError>
    {
        guard let raw else { return .failure(SpecError(code: ErrorDetail.failing(Code.invalid, "the supervisor spec is NULL"))) }
        guard let spec = StructSizes.read(raw, defaults: swerl_supervisor_spec()) else {
            return .failure(SpecError(code: ErrorDetail.failing(Code.invalid, "supervisor spec: size is "
                + "\(raw.pointee.size): call swerl_supervisor_spec_init first")))
        }
        guard depth < 64 else {
            return .failure(SpecError(code: ErrorDetail.failing(Code.invalid, "supervisor spec: nested deeper than 64")))
        }
        if spec.n_children > 0 && spec.children == nil {
            return .failure(SpecError(code: ErrorDetail.failing(Code.invalid, "supervisor spec: children is NULL "
                + "with n_children \(spec.n_children)")))
        }
        var children: [ChildSpecification] = []
        for index in 0..<spec.n_children {
            // At the caller's stride: a newer caller's child specs are larger.
            switch child(StructSizes.element(spec.children!, Int(index)), depth: depth) {
            case .success(let child): children.append(child)
            case .failure(let error): return .failure(error)
            }
        }
        let result = SupervisorSpecification(strategy: spec.strategy, intensity: spec.intensity,
                                             periodMillis: spec.period_ms, autoShutdown: spec.auto_shutdown,
                                             children: children)
        let valid = result.validate()
        return valid == Code.ok ? .success(result) : .failure(SpecError(code: valid))
    }

    static func child(_ raw: UnsafePointer<swerl_child_spec>?, depth: Int = 0)
        -> Result<ChildSpecification, SpecError>
    {
        guard let raw else {
            return .failure(SpecError(code: ErrorDetail.failing(Code.invalid, "a child spec is NULL, or the first "
                + "child's size is not set (call swerl_child_spec_init on each)")))
        }
        guard let spec = StructSizes.read(raw, defaults: swerl_child_spec()) else {
            return .failure(SpecError(code: ErrorDetail.failing(Code.invalid, "child spec: size is "
                + "\(raw.pointee.size): call swerl_child_spec_init first")))
        }
        let id: String
        switch NameRule.fromC(spec.id) {
        case .success(let valid): id = valid
        case .failure(let problem):
            return .failure(SpecError(code: ErrorDetail.failing(Code.invalid, "child spec: the id: \(problem.text)")))
        }
        guard spec.type <= UInt32(SWERL_SUPERVISOR) else {
            return .failure(SpecError(code: ErrorDetail.failing(Code.invalid, "child spec '\(id)': type "
                + "\(spec.type) is not SWERL_WORKER or SWERL_SUPERVISOR")))
        }
        let isSupervisor = spec.type == UInt32(SWERL_SUPERVISOR)
        var behavior = swerl_behavior()
        var nested: SupervisorSpecification? = nil
        if isSupervisor {
            switch supervisor(spec.supervisor, depth: depth + 1) {
            case .success(let tree): nested = tree
            case .failure(let error): return .failure(error)
            }
            behavior = SupervisorProcess.behavior
        } else {
            guard let given = spec.behavior, let read = StructSizes.read(given, defaults: swerl_behavior()),
                  read.handle != nil else {
                return .failure(SpecError(code: ErrorDetail.failing(Code.invalid, "child spec '\(id)': behavior is NULL, "
                    + "its size is not sizeof(swerl_behavior), or its handle is NULL")))
            }
            behavior = read
        }
        return .success(ChildSpecification(
            id: id, behavior: behavior, argument: ChildArgument(spec.arg, release: spec.arg_free),
            nested: nested, restart: spec.restart, shutdownMillis: spec.shutdown_ms, isSupervisor: isSupervisor,
            significant: spec.significant != 0))
    }
}

struct SpecError: Error {
    let code: Int32
}
