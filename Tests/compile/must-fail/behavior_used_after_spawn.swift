// expect: sending value of non-Sendable type 'Counting' risks causing data races
// spawn takes its behaviour as `sending`: the caller may not touch a
// non-Sendable object the behaviour holds once the process has it.
import Swerl

final class Counter { var n = 0 }

struct Counting: Behavior {
    let counter: Counter

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        counter.n += 1
        return .continue
    }
}

func probe() throws {
    let runtime = try Runtime(schedulers: 1)
    let counter = Counter()
    _ = try runtime.spawn(Counting(counter: counter))
    counter.n += 1  // races with the process's handler
}
