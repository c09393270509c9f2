// A FIFO of runnable processes linked through their blocks' run links, for
// queues kept under a lock (the blocking pool's, a turn group's); a process
// is in at most one run queue, so its run link is free for this one.

struct RunFIFO {
    private var first: ProcessPointer? = nil
    private var last: ProcessPointer? = nil

    var isEmpty: Bool { first == nil }

    mutating func push(_ process: ProcessPointer) {
        process.pointee.runLink.store(0, ordering: .relaxed)
        if let last {
            last.pointee.runLink.store(UInt(bitPattern: process), ordering: .relaxed)
        } else {
            first = process
        }
        last = process
    }

    mutating func pop() -> ProcessPointer? {
        guard let process = first else { return nil }
        first = ProcessPointer(bitPattern: process.pointee.runLink.load(ordering: .relaxed))
        if first == nil { last = nil }
        return process
    }
}
