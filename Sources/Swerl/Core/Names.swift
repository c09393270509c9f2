// Names (OTP-30..33): what a name is (one rule for every front end), and
// the name operations as the front ends see them. The table itself is
// Registry.

import CSwerl
import Glibc

/// What a registered name (or a child's id) is: 1 to SWERL_NAME_MAX bytes of
/// UTF-8, no NUL. Every front end's names go through here.
package enum NameRule {
    /// Why `name` is not a valid name, or nil.
    package static func problem(_ name: String) -> String? {
        let length = name.utf8.count
        if length == 0 { return "the name is empty" }
        if length > Int(SWERL_NAME_MAX) { return "the name is longer than SWERL_NAME_MAX (\(SWERL_NAME_MAX) bytes)" }
        if name.utf8.contains(0) { return "the name contains a NUL byte" }
        return nil
    }

    /// A C string as a name, or why it is not one (read at most
    /// SWERL_NAME_MAX + 1 bytes: a name need not be terminated past that).
    package static func fromC(_ raw: UnsafePointer<CChar>?) -> Result<String, NameProblem> {
        guard let raw else { return .failure(NameProblem(text: "the name is NULL")) }
        let length = strnlen(raw, Int(SWERL_NAME_MAX) + 1)
        if length == 0 { return .failure(NameProblem(text: "the name is empty")) }
        if length > Int(SWERL_NAME_MAX) {
            return .failure(NameProblem(text: "the name is longer than SWERL_NAME_MAX (\(SWERL_NAME_MAX) bytes)"))
        }
        guard let name = String(validatingCString: raw) else {
            return .failure(NameProblem(text: "the name is not valid UTF-8"))
        }
        return .success(name)
    }
}

package struct NameProblem: Error {
    package let text: String
}

extension Engine {
    /// EINVAL saying why `name` is not a name, or nil if it is one.
    func invalidName(_ name: String, in function: String) -> Int32? {
        NameRule.problem(name).map { ErrorDetail.failing(Code.invalid, "\(function): \($0)") }
    }

    package func register(name: String, pid: UInt64) -> Int32 {
        if let invalid = invalidName(name, in: "register") { return invalid }
        if isStopped { return Code.stopped }
        switch registry.register(name: name, pid: pid, isAlive: { self.table.lookup($0) != nil }) {
        case .ok: return Code.ok
        case .nameTaken: return Code.nameTaken
        case .hasName: return Code.hasName
        case .noProcess: return absent(pid)
        }
    }

    package func unregister(name: String) -> Int32 {
        if let invalid = invalidName(name, in: "unregister") { return invalid }
        if isStopped { return Code.stopped }
        return registry.unregister(name: name) ? Code.ok : Code.noName
    }

    /// whereis: the pid, or ENONAME (0), or ESTOPPED, or EINVAL.
    package func whereis(_ name: String) -> (Int32, UInt64) { registered(name, for: "whereis") }

    /// The pid registered as `name`, for `function`'s errors.
    private func registered(_ name: String, for function: String) -> (Int32, UInt64) {
        if let invalid = invalidName(name, in: function) { return (invalid, 0) }
        if isStopped { return (Code.stopped, 0) }
        guard let pid = registry.whereis(name) else { return (Code.noName, 0) }
        return (Code.ok, pid)
    }

    package func registeredNames() -> (Int32, [String]) {
        if isStopped { return (Code.stopped, []) }
        return (Code.ok, registry.names())
    }

    package func sendNamed(_ name: String, data: UnsafeRawPointer?, count: Int, term: Bool = false) -> Int32 {
        let (code, pid) = registered(name, for: "send")
        return code == Code.ok ? send(to: pid, data: data, count: count, term: term) : code
    }

    package func sendNamed(_ name: String, binary: SharedBinaryPointer) -> Int32 {
        let (code, pid) = registered(name, for: "send")
        return code == Code.ok ? send(to: pid, binary: binary) : code
    }
}
