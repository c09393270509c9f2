// The context of a callback: which process is running, on which worker.
// C sees a `swerl_ctx *` that is only a token, new for every callback: it is
// valid while it equals the thread's current token, that is only inside its
// own callback, on its own thread. The context itself is found through the
// thread-local pointer, never through the token.

import CSwerlSupport

struct CallbackContext {
    var process: ProcessPointer?
    var engine: Unmanaged<Engine>
    var worker: Unmanaged<Worker>?
    /// The context this one interrupted (nested callbacks), restored on leave.
    var previous: UnsafeMutableRawPointer?
    var previousToken: UInt = 0
    /// The batch the process's messages were handed out in, when a turn
    /// group's thread handles them (TurnBatch).
    var batch: Unmanaged<TurnBatch>? = nil
}

typealias ContextPointer = UnsafeMutablePointer<CallbackContext>

enum CallbackContexts {
    /// The context if `raw` is the one of the callback running on this thread.
    @inline(__always)
    static func validate(_ raw: UnsafeRawPointer?) -> ContextPointer? {
        guard let raw, UInt(bitPattern: raw) == swerlrt_get_token(), let current = swerlrt_get_ctx() else { return nil }
        let context = current.assumingMemoryBound(to: CallbackContext.self)
        return context.pointee.process == nil ? nil : context
    }

    /// The context of the callback running on this thread, if any.
    @inline(__always)
    static var current: ContextPointer? {
        guard let raw = swerlrt_get_ctx() else { return nil }
        let context = raw.assumingMemoryBound(to: CallbackContext.self)
        return context.pointee.process == nil ? nil : context
    }
}
