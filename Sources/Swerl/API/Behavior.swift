import CSwerl

/// What a handler wants next.
public enum Next: Sendable {
    /// The message is consumed; wait for the next one.
    case `continue`
    /// Selective receive: leave the message in the mailbox, in its place.
    case skip
    /// Exit with reason `normal`.
    case stop
    /// Exit with this reason.
    case exit(ExitReason)
}

/// A process's code and state. The runtime calls it from one thread at a
/// time; a thrown error is a crash whose reason detail is the error's text.
public protocol Behavior {
    /// Runs first, in the new process, before any message.
    ///
    /// - Parameter context: The new process's context, valid during the call.
    /// - Throws: `IgnoreStart` to exit `normal` at once (a supervisor keeps
    ///   the spec with no pid); an `ExitReason` to exit with it; any other
    ///   error is a crash with its text as the detail. `terminate` does not
    ///   run then.
    mutating func start(_ context: Context) throws
    /// One message at a time.
    ///
    /// - Parameters:
    ///   - message: The message, borrowed for the duration of the call.
    ///   - context: The process's context, valid during the call.
    /// - Returns: What to do with the message, and whether to go on.
    /// - Throws: An `ExitReason` to exit with it; any other error is a
    ///   crash with its text as the detail.
    mutating func handle(_ message: Message, _ context: Context) throws -> Next
    /// Runs last, whatever the reason (unless `start` failed).
    ///
    /// - Parameters:
    ///   - reason: Why the process exits (`killed` included).
    ///   - context: The process's context, valid during the call.
    mutating func terminate(_ reason: ExitReason, _ context: Context)
}

/// Thrown from `start`: the process exits `normal` at once, and a
/// supervisor keeps the child's spec with no pid (OTP-42's `ignore`).
public struct IgnoreStart: Error, Sendable {
    /// The error to throw from `start`.
    public init() {}
}

extension Behavior {
    /// Does nothing: a behaviour needs no `start` of its own.
    ///
    /// - Parameter context: The new process's context.
    /// - Throws: Nothing; a behaviour's own `start` may.
    public mutating func start(_ context: Context) throws {}
    /// Does nothing: a behaviour needs no `terminate` of its own.
    ///
    /// - Parameters:
    ///   - reason: Why the process exits.
    ///   - context: The process's context.
    public mutating func terminate(_ reason: ExitReason, _ context: Context) {}
}

/// A behaviour made of a closure, for processes that need no other state.
/// The closure is `@Sendable`: it runs on the runtime's threads, so what it
/// captures must be safe to share (a race is a compile error, not a lost
/// update). State of its own belongs in a `Behavior` type's stored properties.
public struct Handler: Behavior, Sendable {
    let body: @Sendable (Message, Context) throws -> Next

    /// A behaviour that calls `body` for each message.
    ///
    /// - Parameter body: The handler: what it returns and throws is what
    ///   `Behavior.handle` returns and throws.
    public init(_ body: @escaping @Sendable (Message, Context) throws -> Next) { self.body = body }

    /// Calls the closure.
    ///
    /// - Parameters:
    ///   - message: The message, borrowed for the duration of the call.
    ///   - context: The process's context, valid during the call.
    /// - Returns: What the closure returns.
    /// - Throws: What the closure throws: a crash, or an `ExitReason`.
    public mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        try body(message, context)
    }
}

/// Holds a Swift behaviour behind the C calling convention the runtime uses.
/// A subclass specialized to the behaviour's type overrides these methods,
/// so a message reaches the behaviour through one class dispatch: no
/// existential, no runtime exclusivity check, no retain on the way.
class BehaviorBox {
    func start(_ context: Context) throws {}
    func handle(_ message: Message, _ context: Context) throws -> Next { .continue }
    func terminate(_ reason: ExitReason, _ context: Context) {}

    /// A box for `behavior`, specialized to its concrete type.
    static func make<B: Behavior>(_ behavior: sending B) -> BehaviorBox { TypedBehaviorBox(behavior) }

    static let table: swerl_behavior = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, state in
            let outcome: Int32 = Unmanaged<BehaviorBox>.fromOpaque(arg!)._withUnsafeGuaranteedRef { box in
                startResult(ctx) { try box.start(Context(ctx)) }
            }
            if outcome == 0 {
                state?.pointee = arg
            } else {
                Unmanaged<BehaviorBox>.fromOpaque(arg!).release()  // no terminate after a failed init
            }
            return outcome
        },
        handle: { ctx, message, state in
            Unmanaged<BehaviorBox>.fromOpaque(state!)._withUnsafeGuaranteedRef { box in
                do {
                    return try box.handle(Message(message!), Context(ctx)).result(ctx)
                } catch {
                    crash(ctx, error)
                    return -1
                }
            }
        },
        terminate: { ctx, reason, state in
            let unmanaged = Unmanaged<BehaviorBox>.fromOpaque(state!)
            let detail = Engine.exitDetail(UnsafeRawPointer(ctx))
            unmanaged._withUnsafeGuaranteedRef { $0.terminate(ExitReason(code: reason, detail: detail), Context(ctx)) }
            unmanaged.release()
        }
    )

    /// What the C init callback returns for a start: 0, IGNORE
    /// (`IgnoreStart`), or a crash with the thrown error as its reason.
    static func startResult(_ ctx: OpaquePointer?, _ start: () throws -> Void) -> Int32 {
        do {
            try start()
            return 0
        } catch is IgnoreStart {
            return Int32(SWERL_IGNORE)
        } catch {
            crash(ctx, error)
            return -1
        }
    }

    /// Records a thrown error as the exit reason: a thrown `ExitReason` is
    /// itself (Erlang's exit/1), any other error a crash with its text.
    static func crash(_ ctx: OpaquePointer?, _ error: any Error) {
        let reason = error as? ExitReason ?? .error(String(describing: error))
        reason.detail.withUnsafeBytes { detail in
            _ = Engine.fail(UnsafeRawPointer(ctx), reason: reason.code, detail: detail)
        }
    }
}

final class TypedBehaviorBox<B: Behavior>: BehaviorBox {
    /// Unchecked: the runtime never runs two callbacks of one process at
    /// once, and a callback never re-enters its own behaviour.
    @exclusivity(unchecked) var behavior: B

    init(_ behavior: sending B) { self.behavior = behavior }

    override func start(_ context: Context) throws { try behavior.start(context) }

    override func handle(_ message: Message, _ context: Context) throws -> Next {
        try behavior.handle(message, context)
    }

    override func terminate(_ reason: ExitReason, _ context: Context) { behavior.terminate(reason, context) }
}

extension Next {
    /// What the C handle callback returns for it (an exit's reason recorded
    /// with swerl_fail first).
    func result(_ ctx: OpaquePointer?) -> Int32 {
        switch self {
        case .continue: return Int32(SWERL_CONTINUE)
        case .skip: return Int32(SWERL_SKIP)
        case .stop: return Int32(SWERL_STOP)
        case .exit(let reason):
            reason.detail.withUnsafeBytes { detail in
                _ = Engine.fail(UnsafeRawPointer(ctx), reason: reason.code, detail: detail)
            }
            return Int32(SWERL_STOP)
        }
    }
}
