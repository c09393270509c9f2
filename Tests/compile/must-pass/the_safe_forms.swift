// The same programs written safely compile: state in the behaviour, a
// Sendable capture, a behaviour spawned and not touched, an owned copy of a
// message's bytes kept and handed to a Task.
import Swerl
import Synchronization

struct Counting: Behavior {
    var count = 0
    var kept: [[UInt8]] = []

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        count += 1
        kept.append(message.bytes)
        let copy = message.bytes
        Task { print(copy.count) }
        return .continue
    }
}

final class SharedCount: Sendable {
    let value = Atomic<Int>(0)
}

func probe() throws {
    let runtime = try Runtime(schedulers: 1)
    _ = try runtime.spawn(Counting())
    let shared = SharedCount()
    _ = try runtime.spawn(Handler { message, _ in
        shared.value.add(1, ordering: .relaxed)
        return message.text == "stop" ? .stop : .continue
    })
    print(shared.value.load(ordering: .relaxed))
}
