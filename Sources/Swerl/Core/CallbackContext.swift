// The `swerl_ctx` handed to callbacks: which process is running, on which
// scheduler. It is valid only while its callback runs, on that thread: the
// thread-local current context must be this very pointer.

import CSwerlSupport

struct CallbackContext {
    var process: ProcessPointer?
    var engine: Unmanaged<Engine>
    var scheduler: Unmanaged<Scheduler>?
    /// The context this one interrupted (nested callbacks), restored on leave.
    var previous: UnsafeMutableRawPointer?
}

typealias ContextPointer = UnsafeMutablePointer<CallbackContext>

enum CallbackContexts {
    /// The context if `raw` is the one of the callback running on this thread.
    @inline(__always)
    static func validate(_ raw: UnsafeRawPointer?) -> ContextPointer? {
        guard let raw, let current = swerlrt_get_ctx(), UnsafeMutableRawPointer(mutating: raw) == current,
              let context = Optional(current.assumingMemoryBound(to: CallbackContext.self)),
              context.pointee.process != nil
        else { return nil }
        return context
    }

    /// The context of the callback running on this thread, if any.
    @inline(__always)
    static var current: ContextPointer? {
        guard let raw = swerlrt_get_ctx() else { return nil }
        let context = raw.assumingMemoryBound(to: CallbackContext.self)
        return context.pointee.process == nil ? nil : context
    }
}
