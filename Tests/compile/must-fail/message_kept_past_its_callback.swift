// expect: type 'Message' does not conform to protocol 'Escapable'
// A Message borrows the runtime's bytes for its callback: keeping it (to
// read later) does not compile; `message.bytes` is the owned copy.
import Swerl

struct Keeper: Behavior {
    var kept: [Message] = []

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        kept.append(message)
        return .continue
    }
}
