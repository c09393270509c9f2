// The supervisor: an ordinary process that traps exits, built on the
// runtime's own primitives (spawn with link, monitors, exit signals, the
// receive timeout, selective receive, deferred replies), with OTP's restart
// semantics (OTP-40..53).
//
// Starting a worker is synchronous: its init runs nested in the
// supervisor's callback (Worker.startNow), as start_link waits for init.
// Everything that must wait for another process is a `Job` instead:
// stopping children (monitor, exit signal, DOWN or timeout then kill) and
// starting a child supervisor (its start acknowledgement). While a job runs
// the supervisor acts only on what the job waits for and sets everything
// else aside, in order, for when the job is done: the selective receive
// OTP's supervisor does in shutdown/2, without rescanning the mailbox.

import CSwerl
import Synchronization

enum SupervisorProcess {
    static let behavior = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, state in
            let launch = Unmanaged<SupervisorLaunch>.fromOpaque(arg!).takeRetainedValue()
            let engine = Engine.contextEngine(UnsafeRawPointer(ctx))!
            let supervisor = SupervisorState(engine: engine, launch: launch)
            supervisor.selfPid = Engine.contextPid(UnsafeRawPointer(ctx)) ?? 0
            state?.pointee = Unmanaged.passRetained(supervisor).toOpaque()
            _ = Engine.trapExit(UnsafeRawPointer(ctx), true)  // OTP-43
            if launch.isRoot { engine.addRootSupervisor(supervisor.selfPid) }
            supervisor.inCallback(ctx) { supervisor.startInitialChildren(launch.spec.children) }
            if supervisor.exitReason != nil {
                // The start failed and nothing was left to stop: exit now
                // (init failing means no terminate callback, so clean up here).
                if launch.isRoot { engine.removeRootSupervisor(supervisor.selfPid) }
                Unmanaged.passUnretained(supervisor).release()
                state?.pointee = nil
                return -1
            }
            return 0
        },
        handle: { ctx, message, state in
            let supervisor = Unmanaged<SupervisorState>.fromOpaque(state!).takeUnretainedValue()
            var verdict = Int32(SWERL_CONTINUE)
            supervisor.inCallback(ctx) { verdict = supervisor.handle(message!) }
            return verdict
        },
        terminate: { ctx, reason, state in
            let unmanaged = Unmanaged<SupervisorState>.fromOpaque(state!)
            let supervisor = unmanaged.takeUnretainedValue()
            if !supervisor.acknowledged {
                supervisor.acknowledge(code: Code.startFailed, detail: Array("supervisor exited while starting".utf8))
            }
            if supervisor.isRoot { supervisor.engine.removeRootSupervisor(supervisor.selfPid) }
            // A job cut short (killed while stopping or starting children)
            // never finishes, and its closures hold the supervisor: drop it,
            // or the state and the specs (their args never released) leak.
            supervisor.job = nil
            unmanaged.release()
        }
    )
}

extension SupervisorState {
    func inCallback(_ ctx: OpaquePointer?, _ body: () -> Void) {
        context = UnsafeRawPointer(ctx)
        body()
        if let (reason, detail) = exitReason {
            detail.withUnsafeBytes { _ = Engine.fail(context, reason: reason, detail: $0) }
        }
        context = nil
    }

    /// Returns the handler verdict for one message.
    func handle(_ raw: UnsafePointer<swerl_message>) -> Int32 {
        let message = raw.pointee
        if let job {
            if !accept(message, into: job) {
                // Not what the job waits for: keep it in order for later. (A
                // SKIP would leave it in the mailbox, to be rescanned after
                // every DOWN: quadratic for a long mailbox.)
                deferred.append(DeferredMessage(message))
            }
        } else {
            dispatch(message)
        }
        runDeferred()
        rearmStopTimeout()
        return exitReason == nil ? Int32(SWERL_CONTINUE) : Int32(SWERL_STOP)
    }

    private func dispatch(_ message: swerl_message) {
        switch message.kind {
        case UInt32(SWERL_EXIT): onExit(from: message.from, reason: message.reason, detail: bytes(message))
        case UInt32(SWERL_CALL): onRequest(message)
        case UInt32(SWERL_MESSAGE): onInternal(message)
        default: break  // stray DOWN or TIMEOUT from an earlier job
        }
    }

    /// Handles what arrived during a job, in order, until a new job starts.
    private func runDeferred() {
        while job == nil && exitReason == nil && deferredHead < deferred.count {
            let item = deferred[deferredHead]
            deferredHead += 1
            item.payload.withUnsafeBytes { payload in
                dispatch(swerl_message(kind: item.kind, reason: item.reason, from: item.from, ref: item.ref,
                                       data: payload.baseAddress, len: payload.count, flags: item.flags))
            }
        }
        if deferredHead == deferred.count && deferredHead > 0 {
            deferred.removeAll(keepingCapacity: true)
            deferredHead = 0
        }
    }

    /// Accepting any message clears the receive timeout; a stop job still
    /// waiting on its shutdown time sets it again to what is left.
    private func rearmStopTimeout() {
        guard case .stopping(let stop) = job, !stop.killed, let deadline = stop.deadline else { return }
        let left = Deadline.millisLeft(until: deadline)
        _ = Engine.setReceiveTimeout(context, millis: UInt32(min(left, UInt64(SWERL_INFINITY - 1))))
    }

    func bytes(_ message: swerl_message) -> [UInt8] {
        message.len == 0 ? [] : Array(UnsafeRawBufferPointer(start: message.data, count: message.len))
    }
}
