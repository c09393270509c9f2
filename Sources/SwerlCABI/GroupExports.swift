// Turn groups: processes whose turns a thread of the program runs (swerl.h,
// "Turn groups").

import CSwerl
import Swerl

@inline(__always)
private func group(_ raw: OpaquePointer?) -> TurnGroup? {
    raw.map(TurnGroup.from)
}

@c public func swerl_group_create(_ rt: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?) -> CInt {
    handedOut {
        let function = "swerl_group_create"
        return withEngine(rt, function) { engine in
            guard let out else { return null(function, "out") }
            guard let valid = SwerlCABI.name(name) else { return invalid(function, nameProblem(name)) }
            let (code, made) = engine.createGroup(name: valid)
            if let made { out.pointee = made.opaque }
            return code
        }
    }
}

@c public func swerl_group_spawn(_ g: OpaquePointer?, _ behavior: UnsafePointer<swerl_behavior>?,
                                 _ arg: UnsafeMutableRawPointer?, _ opts: UnsafePointer<swerl_spawn_opts>?,
                                 _ out: UnsafeMutablePointer<swerl_pid>?) -> CInt {
    handedOut {
        return withObject(g, "swerl_group_spawn", "g") { (group: TurnGroup) in
            return spawn("swerl_group_spawn", group.runtime, behavior, arg, opts, out, group: group)
        }
    }
}

@c public func swerl_set_group(_ ctx: OpaquePointer?, _ g: OpaquePointer?) -> CInt {
    handedOut {
        Engine.setGroup(UnsafeRawPointer(ctx), group(g))
    }
}

@c public func swerl_group_run(_ g: OpaquePointer?, _ maxTurns: UInt32, _ timeoutMillis: UInt32) -> CInt {
    handedOut {
        return withObject(g, "swerl_group_run", "g") { (group: TurnGroup) in
            return group.runTurns(max: maxTurns, timeoutMillis: timeoutMillis)
        }
    }
}

@c public func swerl_group_take(_ g: OpaquePointer?, _ maxMessages: UInt32, _ timeoutMillis: UInt32,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<swerl_turn>?>?) -> CInt {
    handedOut {
        return withObject(g, "swerl_group_take", "g") { (group: TurnGroup) in
            guard let out else { return null("swerl_group_take", "out") }
            return group.next(done: nil, handled: 0, maxMessages: maxMessages, timeoutMillis: timeoutMillis, out: out)
        }
    }
}

@c public func swerl_group_finish(_ turn: UnsafeMutablePointer<swerl_turn>?, _ handled: UInt32) -> CInt {
    handedOut {
        guard let turn else { return null("swerl_group_finish", "turn") }
        return TurnGroup.finish(turn, handled: handled)
    }
}

@c public func swerl_group_next(_ g: OpaquePointer?, _ done: UnsafeMutablePointer<swerl_turn>?, _ handled: UInt32,
                                _ maxMessages: UInt32, _ timeoutMillis: UInt32,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<swerl_turn>?>?) -> CInt {
    handedOut {
        return withObject(g, "swerl_group_next", "g") { (group: TurnGroup) in
            guard let out else { return null("swerl_group_next", "out") }
            return group.next(done: done, handled: handled, maxMessages: maxMessages, timeoutMillis: timeoutMillis,
                              out: out)
        }
    }
}

@c public func swerl_group_fd(_ g: OpaquePointer?) -> CInt {
    handedOut {
        return withObject(g, "swerl_group_fd", "g") { (group: TurnGroup) in
            return group.readinessFd()
        }
    }
}

@c public func swerl_group_wake(_ g: OpaquePointer?) -> CInt {
    handedOut {
        return withObject(g, "swerl_group_wake", "g") { (group: TurnGroup) in
            group.wakeDriver()
            return 0
        }
    }
}

@c public func swerl_group_set_batch_min(_ g: OpaquePointer?, _ messages: UInt32) -> CInt {
    handedOut {
        return withObject(g, "swerl_group_set_batch_min", "g") { (group: TurnGroup) in
            return group.setBatchMinimum(messages)
        }
    }
}

@c public func swerl_turn_suspend(_ turn: UnsafeMutablePointer<swerl_turn>?) -> CInt {
    handedOut {
        guard let turn else { return null("swerl_turn_suspend", "turn") }
        return TurnGroup.suspend(turn)
    }
}

@c public func swerl_turn_resume(_ turn: UnsafeMutablePointer<swerl_turn>?) -> CInt {
    handedOut {
        guard let turn else { return null("swerl_turn_resume", "turn") }
        return TurnGroup.resume(turn)
    }
}
