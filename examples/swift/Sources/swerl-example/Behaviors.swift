// The example's processes. Each is a Behavior: a value holding the
// process's state, whose methods the runtime calls one message at a time on
// a scheduler thread. Requests and replies are UTF-8 text.

import Swerl

/// A key-value store, registered as "store". Requests: `put KEY VALUE`,
/// `get KEY`, `incr KEY`. A call gets the answer; a plain message (a cast)
/// is performed without one.
struct Store: Behavior {
    static let name = "store"

    private var table: [String: String] = [:]

    mutating func start(_ context: Context) throws {
        // A supervised worker registers its own name; the runtime releases it
        // when the process exits, so a restarted store can take it again.
        try context.runtime.register(context.pid, as: Self.name)
    }

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        switch message.kind {
        case .message:
            _ = perform(message.text)
        case .call:
            try context.reply(to: message, with: perform(message.text))
        default:
            break
        }
        return .continue
    }

    private mutating func perform(_ request: String) -> String {
        let words = request.split(separator: " ").map(String.init)
        switch (words.first, words.count) {
        case ("put", 3):
            table[words[1]] = words[2]
            return "ok"
        case ("get", 2):
            return table[words[1]] ?? "none"
        case ("incr", 2):
            let value = (Int(table[words[1]] ?? "0") ?? 0) + 1
            table[words[1]] = String(value)
            return String(value)
        default:
            return "unknown request"
        }
    }
}

/// Thrown by the adder on a word that is not a number: the process crashes
/// with this text as its exit reason's detail.
struct NotANumber: Error, CustomStringConvertible {
    let word: String
    var description: String { "not a number: \(word)" }
}

/// Adds the numbers in a call (`1 2 3` answers `6`). It does not validate
/// its input: a bad word crashes it, and its supervisor starts a fresh one.
struct Adder: Behavior {
    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        guard message.kind == .call else { return .continue }
        var sum = 0
        for word in message.text.split(separator: " ") {
            guard let number = Int(word) else { throw NotANumber(word: String(word)) }
            sum += number
        }
        try context.reply(to: message, with: String(sum))
        return .continue
    }
}

/// Monitors one process and answers a `report` call with the reason it
/// exited, then stops. The report may be asked for before the process
/// exits: the watcher keeps the call and replies later.
struct Watcher: Behavior {
    let target: Pid
    private var monitor: Ref?
    private var exitReason: ExitReason?
    private var pendingReport: Ref?

    init(watching target: Pid) { self.target = target }

    mutating func start(_ context: Context) throws {
        monitor = try context.monitor(target)
    }

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        switch message.kind {
        case .down where message.ref == monitor:
            exitReason = message.reason
        case .call where message.text == "report":
            pendingReport = message.ref
        case .call:
            try context.reply(to: message, with: "watching \(target)")
            return .continue
        default:
            return .continue
        }
        guard let exitReason, let pendingReport else { return .continue }
        // A deferred reply: the call may have arrived long before the DOWN.
        try context.runtime.reply(pendingReport, with: "\(target) exited: \(exitReason)")
        return .stop
    }
}

/// A short-lived client process: it asks the store to count a visit (a call
/// from inside a process, answered as a `.reply` message), then stops after
/// 100 ms without messages.
struct Visitor: Behavior {
    let store: Pid
    private var visit: Ref?

    init(store: Pid) { self.store = store }

    mutating func start(_ context: Context) throws {
        visit = try context.sendRequest(store, "incr visits")
    }

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        switch message.kind {
        case .reply where message.ref == visit:
            if let error = message.error { throw error }
            try context.setReceiveTimeout(.milliseconds(100))
            return .continue
        case .timeout:
            return .stop
        default:
            return .continue
        }
    }
}
