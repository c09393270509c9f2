// Entry points for operations that take a swerl_ctx: each validates the
// context (valid only inside its callback, on its thread) and returns ECTX
// otherwise.

import CSwerl

extension Engine {
    /// ECTX, saying what a ctx is valid for.
    package static func badContext() -> Int32 {
        ErrorDetail.failing(Code.badContext, "this swerl_ctx is not the one of the callback running on this "
            + "thread: a ctx is valid only inside the callback that received it, on its thread")
    }

    package static func contextPid(_ raw: UnsafeRawPointer?) -> UInt64? {
        CallbackContexts.validate(raw)?.selfPid
    }

    package static func contextEngine(_ raw: UnsafeRawPointer?) -> Engine? {
        CallbackContexts.validate(raw)?.engine
    }

    /// The runtime of callback context `raw` as the C handle, or nil:
    /// swerl_ctx_runtime, which handlers call to send. No reference is
    /// taken (a retain and a release were 40 of its 90 instructions).
    package static func contextEngineHandle(_ raw: UnsafeRawPointer?) -> UnsafeMutableRawPointer? {
        CallbackContexts.validate(raw)?.pointee.engine.toOpaque()
    }

    /// Whether the calling thread is inside a callback of any runtime.
    package static var isInsideAnyCallback: Bool { CallbackContexts.current != nil }

    /// Whether the calling thread is inside one of this runtime's callbacks.
    package var isInsideCallback: Bool {
        CallbackContexts.current?.engine === self
    }

    /// The detail bytes of the reason the calling process exits with.
    package static func exitDetail(_ raw: UnsafeRawPointer?) -> [UInt8] {
        CallbackContexts.validate(raw)?.process.pointee.exitDetail ?? []
    }

    package static func fail(_ raw: UnsafeRawPointer?, reason: Int32, detail: UnsafeRawBufferPointer) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        if detail.count > context.engine.maxMessageSize { return Code.tooBig }
        context.fail(reason: reason, detail: detail)
        return Code.ok
    }

    package static func setReceiveTimeout(_ raw: UnsafeRawPointer?, millis: UInt32) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        context.setReceiveTimeout(millis)
        return Code.ok
    }

    package static func link(_ raw: UnsafeRawPointer?, _ pid: UInt64) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.link(pid)
    }

    package static func unlink(_ raw: UnsafeRawPointer?, _ pid: UInt64) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.unlink(pid)
    }

    package static func trapExit(_ raw: UnsafeRawPointer?, _ on: Bool) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.trapExit(on)
    }

    package static func setBlocking(_ raw: UnsafeRawPointer?, _ on: Bool) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.setBlocking(on)
    }

    package static func setGroup(_ raw: UnsafeRawPointer?, _ group: TurnGroup?) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.setGroup(group)
    }

    package static func monitor(_ raw: UnsafeRawPointer?, _ pid: UInt64) -> (Int32, UInt64) {
        guard let context = CallbackContexts.validate(raw) else { return (badContext(), 0) }
        return context.monitor(pid)
    }

    package static func demonitor(_ raw: UnsafeRawPointer?, _ ref: UInt64, flush: Bool, info: Bool) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.demonitor(ref, flush: flush, info: info)
    }

    package static func callAsync(_ raw: UnsafeRawPointer?, _ to: UInt64, request: UnsafeRawBufferPointer,
                                  timeoutMillis: UInt32) -> (Int32, UInt64) {
        guard let context = CallbackContexts.validate(raw) else { return (badContext(), 0) }
        return context.callAsync(to, request: request, timeoutMillis: timeoutMillis)
    }
}
