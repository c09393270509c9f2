// expect: lifetime-dependent variable 'message' escapes its scope
// Nor may a Message go to a Task, which would read it after the callback.
import Swerl

func probe() throws {
    let runtime = try Runtime(schedulers: 1)
    _ = try runtime.spawn(Handler { message, _ in
        Task { print(message.text) }
        return .continue
    })
}
