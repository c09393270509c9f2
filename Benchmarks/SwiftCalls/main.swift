// swerl-calls: `try await runtime.call` from Swift tasks, beside a plain
// Swift actor doing the same work, in one run (Benchmarks/README.md).
//
//   swift run -c release --scratch-path .build-bench swerl-calls [runs]
//
// Rows: the round trip of one call at a time (from a task off the main
// actor), raw bytes, a typed Server's Codable values and a distributed
// actor's method (SwerlActorSystem), and 10,000 calls
// at once from a TaskGroup (calls per second).
// The server is an echo: a Handler answering each CALL with its request; the
// actor's method returns its argument. Each cell is the median of `runs`
// runs (5 by default), each on a fresh runtime and actor, after a warm-up.

import Distributed
import Glibc
import Swerl

actor EchoActor {
    func echo(_ request: [UInt8]) -> [UInt8] { request }
}

/// The typed echo: a Server whose request and reply are Codable values.
struct EchoServer: Server {
    struct Request: Codable { var text: String; var count: Int }
    mutating func handleCall(_ request: Request, _ context: Context) throws -> Request { request }
}
let typedRequest = EchoServer.Request(text: "hello", count: 1)

/// The same echo as a distributed actor of SwerlActorSystem.
distributed actor DistributedEcho {
    typealias ActorSystem = SwerlActorSystem
    distributed func echo(_ request: EchoServer.Request) -> EchoServer.Request { request }
}

let runs = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 5
let request = Array("hello".utf8)
let sequentialCalls = 20_000
let groupCalls = 10_000

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func echoServer(_ runtime: Runtime) throws -> Pid {
    try runtime.spawn(Handler { message, context in
        if message.kind == .call { try context.reply(to: message, with: message.bytes) }
        return .continue
    })
}

/// µs per call, one at a time.
func swerlSequential(schedulers: Int) async throws -> Double {
    let runtime = try Runtime(schedulers: schedulers)
    defer { try? runtime.stop() }
    let server = try echoServer(runtime)
    return try await Task.detached {
        for _ in 0..<1000 { _ = try await runtime.call(server, request) }  // warm-up
        let start = ContinuousClock.now
        for _ in 0..<sequentialCalls { _ = try await runtime.call(server, request) }
        return seconds(ContinuousClock.now - start) / Double(sequentialCalls) * 1e6
    }.value
}

/// µs per typed call (a Server's Codable request and reply as terms), one at a time.
func typedSequential() async throws -> Double {
    let runtime = try Runtime(schedulers: 1)
    defer { try? runtime.stop() }
    let server = try runtime.spawn(server: EchoServer())
    return try await Task.detached {
        for _ in 0..<1000 { _ = try await server.call(typedRequest, on: runtime) }
        let start = ContinuousClock.now
        for _ in 0..<sequentialCalls { _ = try await server.call(typedRequest, on: runtime) }
        return seconds(ContinuousClock.now - start) / Double(sequentialCalls) * 1e6
    }.value
}

/// µs per call through a distributed actor reference (a proxy: a CALL to its process).
func distributedSequential() async throws -> Double {
    let runtime = try Runtime(schedulers: 1)
    defer { try? runtime.stop() }
    let system = SwerlActorSystem(runtime: runtime)
    let actor = try system.makeActor(named: "echo") { DistributedEcho(actorSystem: system) }
    let proxy = try DistributedEcho.resolve(id: actor.id, using: system)
    return try await Task.detached {
        for _ in 0..<1000 { _ = try await proxy.echo(typedRequest) }
        let start = ContinuousClock.now
        for _ in 0..<sequentialCalls { _ = try await proxy.echo(typedRequest) }
        return seconds(ContinuousClock.now - start) / Double(sequentialCalls) * 1e6
    }.value
}

func actorSequential() async -> Double {
    let actor = EchoActor()
    return await Task.detached {
        for _ in 0..<1000 { _ = await actor.echo(request) }
        let start = ContinuousClock.now
        for _ in 0..<sequentialCalls { _ = await actor.echo(request) }
        return seconds(ContinuousClock.now - start) / Double(sequentialCalls) * 1e6
    }.value
}

/// Calls per second, `groupCalls` at once.
func swerlGroup(schedulers: Int) async throws -> Double {
    let runtime = try Runtime(schedulers: schedulers)
    defer { try? runtime.stop() }
    let server = try echoServer(runtime)
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<groupCalls { group.addTask { _ = try await runtime.call(server, request) } }
        try await group.waitForAll()
    }
    return Double(groupCalls) / seconds(ContinuousClock.now - start)
}

func actorGroup() async -> Double {
    let actor = EchoActor()
    let start = ContinuousClock.now
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<groupCalls { group.addTask { _ = await actor.echo(request) } }
        await group.waitForAll()
    }
    return Double(groupCalls) / seconds(ContinuousClock.now - start)
}

/// `value` with two decimals (no Foundation here).
func fixed(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let cents = abs(hundredths % 100)
    return "\(hundredths / 100).\(cents < 10 ? "0" : "")\(cents)"
}

func row(_ title: String, _ unit: String, _ cells: [(String, Double)]) {
    print("\n\(title) (\(unit))")
    for (name, value) in cells {
        print("  " + name + String(repeating: " ", count: max(1, 30 - name.count)) + fixed(value))
    }
}

/// `swerl-calls N group` (or typed): only that row, N times, for a profiler.
if CommandLine.arguments.count > 2 {
    let only = CommandLine.arguments[2]
    for _ in 0..<runs {
        switch only {
        case "group": print("group calls/s:", try await swerlGroup(schedulers: 1))
        case "typed": print("typed µs:", try await typedSequential())
        case "codec":  // TermCoding alone: encode and decode the typed row's request
            let start = ContinuousClock.now
            for _ in 0..<100_000 {
                let bytes = try TermCoding.encode(typedRequest)
                _ = try TermCoding.decode(EchoServer.Request.self, from: bytes)
            }
            print("encode+decode µs:", seconds(ContinuousClock.now - start) / 100_000 * 1e6)
        default: print("rows: group, typed, codec"); exit(2)
        }
    }
    exit(0)
}

let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
print("swerl-calls: \(cpus) CPUs, median of \(runs) runs")
_ = try await swerlGroup(schedulers: 0)  // warm-up of the whole path
_ = await actorGroup()

var oneScheduler: [Double] = [], perCPU: [Double] = [], actorRoundTrip: [Double] = [], typed: [Double] = []
var distributed: [Double] = []
var groupOne: [Double] = [], groupPerCPU: [Double] = [], groupActor: [Double] = []
for _ in 0..<runs {
    oneScheduler.append(try await swerlSequential(schedulers: 1))
    perCPU.append(try await swerlSequential(schedulers: 0))
    actorRoundTrip.append(await actorSequential())
    typed.append(try await typedSequential())
    distributed.append(try await distributedSequential())
    groupOne.append(try await swerlGroup(schedulers: 1))
    groupPerCPU.append(try await swerlGroup(schedulers: 0))
    groupActor.append(await actorGroup())
}
row("sequential `try await call` round trip", "µs", [
    ("Swerl, 1 scheduler", median(oneScheduler)), ("Swerl, 1 scheduler per CPU", median(perCPU)),
    ("plain actor", median(actorRoundTrip)),
    ("Swerl typed Server, 1 sched.", median(typed)),
    ("Swerl distributed actor, 1 s.", median(distributed)),
])
row("\(groupCalls) calls from a TaskGroup", "calls/s", [
    ("Swerl, 1 scheduler", median(groupOne)), ("Swerl, 1 scheduler per CPU", median(groupPerCPU)),
    ("plain actor", median(groupActor)),
])
let oneRatio = fixed(median(groupOne) / median(groupActor))
let perCPURatio = fixed(median(groupPerCPU) / median(groupActor))
print("\nratios: typed vs raw calls (1 scheduler, calls/s): \(fixed(median(oneScheduler) / median(typed)))x")
print("ratios: distributed actor vs typed Server calls (calls/s): \(fixed(median(typed) / median(distributed)))x")
print("ratios: TaskGroup calls/s vs the plain actor: \(oneRatio)x (1 scheduler), \(perCPURatio)x (per CPU)")
