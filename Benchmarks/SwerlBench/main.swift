// swerl-bench: the runtime core's spawn, memory, ping-pong and counting
// numbers beside the performance targets (see Bench.swift and --help).
//
// Top-level code is main-actor isolated; everything the runtime's threads
// call lives in nonisolated types in the other files.

Bench.main(Array(CommandLine.arguments.dropFirst()))
