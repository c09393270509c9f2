import CSwerl

/// Time values of the Swift API are `Duration`s; the runtime counts whole
/// milliseconds (`UInt32`, with `SWERL_INFINITY` meaning "no limit"). These
/// convert one to the other in one place.
extension Duration {
    /// Whole milliseconds for the runtime, rounded up (a timeout never
    /// fires early): `invalidArgument` for a negative duration or one of
    /// 49 days or more (use nil, where allowed, for "no limit"). `what`
    /// names the value in the error.
    func runtimeMilliseconds(_ what: String) throws(SwerlError) -> UInt32 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else {
            throw SwerlError(.invalidArgument, detail: "\(what): a negative duration (\(self))")
        }
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let (wholeMilliseconds, rest) = attoseconds.quotientAndRemainder(dividingBy: attosecondsPerMillisecond)
        let limit = UInt64(SWERL_INFINITY) - 1
        guard seconds <= Int64(limit / 1000) else { throw tooLong(what) }
        let milliseconds = UInt64(seconds) * 1000 + UInt64(wholeMilliseconds) + (rest > 0 ? 1 : 0)
        guard milliseconds <= limit else { throw tooLong(what) }
        return UInt32(milliseconds)
    }

    /// As `runtimeMilliseconds`, clamped into the runtime's range instead of
    /// refused: for values the runtime validates itself (a supervisor's
    /// period, a shutdown time).
    var clampedRuntimeMilliseconds: UInt32 {
        (try? runtimeMilliseconds("")) ?? (self < .zero ? 0 : SWERL_INFINITY - 1)
    }

    /// A runtime's milliseconds as a Duration; nil for `SWERL_INFINITY`.
    static func runtime(milliseconds: UInt32) -> Duration? {
        milliseconds == SWERL_INFINITY ? nil : .milliseconds(Int64(milliseconds))
    }

    private func tooLong(_ what: String) -> SwerlError {
        SwerlError(.invalidArgument, detail: "\(what): \(self) is too long (at most \(SWERL_INFINITY - 1) ms; "
            + "nil, where allowed, means no limit)")
    }
}

extension Optional where Wrapped == Duration {
    /// nil: no limit (`SWERL_INFINITY`).
    func runtimeMilliseconds(_ what: String) throws(SwerlError) -> UInt32 {
        guard let duration = self else { return SWERL_INFINITY }
        return try duration.runtimeMilliseconds(what)
    }
}
