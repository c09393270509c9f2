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

    /// Validates flags and children: 0 or EINVAL, EDUPLICATE, EBADSPEC.
    func validate() -> Int32 {
        guard strategy <= UInt32(SWERL_SIMPLE_ONE_FOR_ONE), periodMillis > 0,
              autoShutdown <= UInt32(SWERL_AUTO_SHUTDOWN_ALL_SIGNIFICANT) else { return Code.invalid }
        if isSimple && children.count != 1 { return Code.badSpec }
        var seen = Set<String>()
        for child in children {
            let valid = child.validate(autoShutdown: autoShutdown)
            if valid != Code.ok { return valid }
            if !seen.insert(child.id).inserted { return Code.duplicate }
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
        guard restart <= UInt32(SWERL_TEMPORARY), !id.isEmpty, id.utf8.count <= Int(SWERL_NAME_MAX) else {
            return Code.invalid
        }
        if isSupervisor ? nested == nil : behavior.handle == nil { return Code.invalid }
        if significant {
            if restart == UInt32(SWERL_PERMANENT) { return Code.badSpec }
            if autoShutdown == UInt32(SWERL_AUTO_SHUTDOWN_NEVER) { return Code.badSpec }
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
        guard let raw, raw.pointee.size >= UInt32(MemoryLayout<swerl_supervisor_spec>.size), depth < 64 else {
            return .failure(SpecError(code: Code.invalid))
        }
        let spec = raw.pointee
        if spec.n_children > 0 && spec.children == nil { return .failure(SpecError(code: Code.invalid)) }
        var children: [ChildSpecification] = []
        for index in 0..<spec.n_children {
            switch child(spec.children! + index, depth: depth) {
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
        guard let raw, raw.pointee.size >= UInt32(MemoryLayout<swerl_child_spec>.size),
              let id = validName(raw.pointee.id),
              raw.pointee.type <= UInt32(SWERL_SUPERVISOR) else { return .failure(SpecError(code: Code.invalid)) }
        let spec = raw.pointee
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
            guard let given = spec.behavior, given.pointee.size >= UInt32(MemoryLayout<swerl_behavior>.size),
                  given.pointee.handle != nil else { return .failure(SpecError(code: Code.invalid)) }
            behavior = given.pointee
        }
        return .success(ChildSpecification(
            id: id, behavior: behavior, argument: ChildArgument(spec.arg, release: spec.arg_free),
            nested: nested, restart: spec.restart, shutdownMillis: spec.shutdown_ms, isSupervisor: isSupervisor,
            significant: spec.significant != 0))
    }

    static func validName(_ raw: UnsafePointer<CChar>?) -> String? {
        guard let raw else { return nil }
        var length = 0
        while length <= Int(SWERL_NAME_MAX) && raw[length] != 0 { length += 1 }
        guard length > 0 && length <= Int(SWERL_NAME_MAX) else { return nil }
        return String(validatingCString: raw)
    }
}

struct SpecError: Error {
    let code: Int32
}
