// A tour of the Swift API: a supervision tree with a store and an adder,
// calls from async code, a crash and its restart, a monitor, a short-lived
// client process, and an orderly stop. Every line this prints comes from
// this task, so the output's order does not depend on thread scheduling;
// the runtime's crash report goes to the Logger (standard error).

import Logging
import Swerl

@main
struct SwerlExample {
    static func main() async throws {
        let runtime = try Runtime(schedulers: 2, logger: Logger(label: "swerl-example"))
        print("runtime: started with \(runtime.statistics.schedulers) schedulers")

        // One supervisor, two workers. one_for_one: a crashed child is
        // restarted alone; more than 3 restarts in 5 s would stop the tree.
        let root = try await runtime.startSupervisor(Supervisor.Spec(
            strategy: .oneForOne, intensity: 3, period: .seconds(5),
            children: [
                ChildSpec(id: "store") { Store() },
                ChildSpec(id: "adder") { Adder() },
            ]))
        let counts = try await root.countChildren()
        print("supervisor: \(counts.active) of \(counts.specs) children running")

        // startSupervisor returns once every child has started, so the store
        // has registered its name by now.
        guard let store = try runtime.pid(named: Store.name) else { throw ExampleFailure("store is not registered") }
        try runtime.send("put apples 3", to: Store.name)  // a cast, by name
        print("store: get apples -> \(try await runtime.ask(store, "get apples"))")

        let adder = try await child("adder", of: root)
        print("adder: 1 2 3 -> \(try await runtime.ask(adder, "1 2 3"))")

        // Monitor the adder from another process, then crash the adder.
        let watcher = try runtime.spawn(Watcher(watching: adder))
        _ = try await runtime.ask(watcher, "ready?")  // answered after its start: the monitor is set
        print("watcher: monitoring the adder")
        async let report = runtime.ask(watcher, "report")
        do {
            _ = try await runtime.ask(adder, "1 x")
        } catch let error as SwerlError {
            print("adder: 1 x -> call failed: \(error.name) (\(error))")
        }
        print("watcher: \(try await report)")

        // The supervisor saw the crash before our call failed, and has
        // already started a fresh adder.
        let restarted = try await child("adder", of: root)
        let restarts = try await root.whichChildren().first { $0.id == "adder" }?.restarts ?? 0
        print("supervisor: adder restarted \(restarts) time(s), new pid: \(restarted != adder)")
        print("adder: 4 5 -> \(try await runtime.ask(restarted, "4 5"))")
        print("store: get apples -> \(try await runtime.ask(store, "get apples")) (not restarted)")

        // A process that calls the store itself, then stops when idle.
        let visitor = try runtime.spawn(Visitor(store: store))
        print("visitor: exited \(await runtime.waitForExit(visitor))")
        print("store: get visits -> \(try await runtime.ask(store, "get visits"))")

        // Stop every process (the tree in reverse start order) and the
        // scheduler threads.
        try await runtime.stop()
        print("runtime: stopped")
        do {
            _ = try runtime.processes
        } catch {
            print("processes after stop: \(error.name)")
        }
        do {
            _ = try await runtime.ask(store, "get apples")
        } catch let error as SwerlError {
            print("store: call after stop failed: \(error.name)")
        }
    }

    /// The pid of a supervisor's running child.
    static func child(_ id: String, of supervisor: SupervisorHandle) async throws -> Pid {
        guard let pid = try await supervisor.whichChildren().first(where: { $0.id == id })?.pid else {
            throw ExampleFailure("no running child \(id)")
        }
        return pid
    }
}

extension Runtime {
    /// A call with a text request and a text answer.
    func ask(_ pid: Pid, _ request: String) async throws -> String {
        String(decoding: try await call(pid, request), as: UTF8.self)
    }
}

struct ExampleFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
