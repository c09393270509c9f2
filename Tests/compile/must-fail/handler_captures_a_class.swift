// expect: capture of 'counter' with non-Sendable type 'Counter' in a '@Sendable' closure
// A Handler closure runs on the runtime's threads: capturing a class whose
// state it mutates would race with the code that made it.
import Swerl

final class Counter { var n = 0 }

func probe() throws {
    let runtime = try Runtime(schedulers: 1)
    let counter = Counter()
    _ = try runtime.spawn(Handler { _, _ in
        counter.n += 1
        return .continue
    })
}
