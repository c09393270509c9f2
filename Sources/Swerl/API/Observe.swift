extension Runtime {
    /// Serves the observer page: a live view of this runtime in a browser
    /// (schedulers' load, processes, supervision trees, crashes) and its
    /// JSON endpoints (docs/OBSERVER.md), on the runtime's own sockets.
    ///
    /// - Parameters:
    ///   - address: "host:port"; port 0: any free one. Off loopback a
    ///     `token` is required.
    ///   - token: 16 to 128 printable ASCII characters without '&' or '%';
    ///     every request must then carry it (the URL returned has it).
    ///   - actions: Whether the page may kill processes and restart or
    ///     terminate supervised children.
    ///   - maxConnections: Connections at once.
    /// - Returns: The page's URL, such as "http://127.0.0.1:40123/".
    /// - Throws: `invalidArgument` (a bad address, a token missing or
    ///   malformed, a page already served), `addressInUse`, `network`,
    ///   `stopped`.
    @discardableResult
    public func observe(address: String = "127.0.0.1:0", token: String? = nil, actions: Bool = false,
                        maxConnections: Int = 16) throws(SwerlError) -> String {
        guard (1...Int(UInt32.max)).contains(maxConnections) else {
            throw SwerlError(.invalidArgument, detail: "observe: maxConnections \(maxConnections)")
        }
        if let token, token.utf8.count > 128 {
            throw SwerlError(.invalidArgument, detail: "observe: the token is longer than 128 characters")
        }
        let (code, url) = engine.observe(address: address, token: token, actions: actions,
                                         maxConnections: UInt32(maxConnections))
        try SwerlError.check(code)
        return url ?? ""
    }

    /// Stops serving the observer page; its connections are closed.
    ///
    /// - Throws: `invalidArgument` (none is served), `stopped`.
    public func stopObserving() throws(SwerlError) {
        try SwerlError.check(engine.stopObserving())
    }
}
