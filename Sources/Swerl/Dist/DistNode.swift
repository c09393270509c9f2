// A runtime that is a node of an Erlang cluster (swerl_node_start).

import Synchronization

final class DistNode: @unchecked Sendable {
    let name: String
    let creation: UInt32

    init(name: String, creation: UInt32) {
        self.name = name
        self.creation = creation
    }
}

extension DistNode {
    func send(to: UInt64, from: UInt64, bytes: UnsafeRawBufferPointer, term: Bool) -> Int32 {
        Code.noProcess
    }
}
