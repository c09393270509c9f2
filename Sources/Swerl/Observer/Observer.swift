// The observer page (docs/OBSERVER.md): a listener process that owns the
// listening socket and takes a sample a second, and one blocking process
// per connection, all on the runtime's own socket layer. Started and
// stopped by swerl_observer_start/_stop (Runtime.observe in Swift,
// rt.observe in Python); at most one per runtime.

import CSwerl

struct ObserverOptions: Sendable {
    /// "host:port"; port 0: any free one.
    var address = "127.0.0.1:0"
    /// Required off loopback; then every request must carry it.
    var token: String?
    /// Kill and restart from the page.
    var actions = false
    var maxConnections: UInt32 = 16

    static let minimumTokenLength = 16
}

final class Observer: Sendable {
    let engine: Engine
    let options: ObserverOptions
    let samples: ObserverSamples
    let events = ObserverEvents()
    /// The page's address, token included.
    let url: String
    private let listener: UInt64
    private let stopListening: Lock<(@Sendable () -> Void)?>

    private init(engine: Engine, options: ObserverOptions, listener: UInt64, url: String) {
        self.engine = engine
        self.options = options
        self.samples = ObserverSamples(engine: engine)
        self.listener = listener
        self.url = url
        self.stopListening = Lock(nil)
    }

    /// Serves the page; returns its URL. EINVAL (a bad address, a token
    /// missing off loopback or too short), EEXISTS... as the codes say.
    static func start(engine: Engine, options: ObserverOptions) -> (Int32, String?) {
        if engine.isStopped { return (Code.stopped, nil) }
        let function = "swerl_observer_start"
        let (parsed, why) = SocketAddress.parse(options.address)
        guard let address = parsed, address.path == nil else {
            return (ErrorDetail.failing(Code.invalid, "\(function): \"\(options.address)\" is not a TCP address "
                + "(\"127.0.0.1:0\", \"[::1]:8080\")" + (why.isEmpty ? "" : ": " + why)), nil)
        }
        if let token = options.token, token.utf8.count < ObserverOptions.minimumTokenLength
            || !token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "&") && $0 != UInt8(ascii: "%") })
        {
            return (ErrorDetail.failing(Code.invalid, "\(function): a token is at least "
                + "\(ObserverOptions.minimumTokenLength) printable ASCII characters, without '&' or '%'"), nil)
        }
        if !address.isLoopback && options.token == nil {
            return (ErrorDetail.failing(Code.invalid, "\(function): serving on \(options.address), which is not a "
                + "loopback address, needs an access token (opts.token)"), nil)
        }
        if options.maxConnections == 0 {
            return (ErrorDetail.failing(Code.invalid, "\(function): max_connections is 0"), nil)
        }
        let runtime = Runtime(attachedTo: engine)
        return engine.observer.withLock { current -> (Int32, String?) in
            if current != nil {
                return (ErrorDetail.failing(Code.invalid, "\(function): this runtime already serves an observer page "
                    + "(\(current!.url)): stop it first"), nil)
            }
            let box = ObserverBox()
            let listenerPid: Pid
            do throws(SwerlError) {
                listenerPid = try runtime.spawn(ObserverListener(box: box), options: SpawnOptions(trapExits: true))
            } catch {
                return (error.code.rawValue, nil)
            }
            var socketOptions = SocketOptions()
            socketOptions.active = .count(1 << 30)  // accept whenever a client comes
            socketOptions.maxConnections = options.maxConnections
            let socket: Socket
            do throws(SwerlError) {
                socket = try runtime.listen(options.address, owner: listenerPid, options: socketOptions)
            } catch {
                try? runtime.exit(listenerPid, reason: .kill)
                return (error.code.rawValue, nil)
            }
            let local = runtime.socketInfo(socket)?.local ?? options.address
            let url = "http://\(local)/" + (options.token.map { "?token=" + $0 } ?? "")
            let observer = Observer(engine: engine, options: options, listener: listenerPid.rawValue, url: url)
            let stop = observer.events.listen(to: engine)
            observer.stopListening.withLock { $0 = stop }
            box.observer.withLock { $0 = observer }
            _ = try? runtime.send(ObserverListener.begin, to: listenerPid)
            current = observer
            engine.report(level: SWERL_LOG_INFO, "observer: serving \(url)")
            return (Code.ok, url)
        }
    }

    /// Stops serving: the listener exits, and its connections with it
    /// (linked). ENOTFOUND-like EINVAL when none runs.
    static func stop(engine: Engine) -> Int32 {
        guard let observer = engine.observer.withLock({ current -> Observer? in
            defer { current = nil }
            return current
        }) else {
            return ErrorDetail.failing(Code.invalid, "swerl_observer_stop: no observer page is being served")
        }
        observer.stopListening.withLock { $0?(); $0 = nil }
        _ = engine.exit(observer.listener, reason: Reason.shutdown, detail: UnsafeRawBufferPointer(start: nil, count: 0))
        return Code.ok
    }

    /// The listener exited by itself (the runtime stops): forget it.
    func listenerEnded() {
        stopListening.withLock { $0?(); $0 = nil }
        engine.observer.withLock { if $0 === self { $0 = nil } }
    }
}

/// The observer a listener serves, set once the listening socket exists.
final class ObserverBox: Sendable {
    let observer = Lock<Observer?>(nil)
}

extension Engine {
    /// swerl_observer_start: the page's URL, or the failure's code.
    package func observe(address: String?, token: String?, actions: Bool, maxConnections: UInt32)
        -> (Int32, String?)
    {
        var options = ObserverOptions()
        if let address { options.address = address }
        options.token = token
        options.actions = actions
        if maxConnections > 0 { options.maxConnections = maxConnections }
        return Observer.start(engine: self, options: options)
    }

    /// swerl_observer_stop.
    package func stopObserving() -> Int32 {
        if isStopped { return Code.stopped }
        return Observer.stop(engine: self)
    }
}
