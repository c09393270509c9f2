/// Who a distributed actor of a `SwerlActorSystem` is: the name its process
/// is registered under, on a node. As a registered name in Erlang, it
/// outlives one process: a supervised actor restarted under the same name
/// is reached by the same ID.
public struct SwerlActorID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The registered name of the actor's process.
    public var name: String
    /// The node it lives on; nil: the runtime that resolves it (a runtime
    /// that is not a node, or an ID made before `startNode`).
    public var node: String?

    /// The actor registered as `name` on `node` (nil: this runtime).
    ///
    /// - Parameters:
    ///   - name: The registered name of the actor's process.
    ///   - node: The node's name, `name@host`; nil: the runtime that resolves it.
    public init(name: String, node: String? = nil) {
        self.name = name
        self.node = node
    }

    /// The name, and the node if there is one: "counter on a@host".
    public var description: String { node.map { "\(name) on \($0)" } ?? name }

    private enum CodingKeys: String, CodingKey { case name, node }

    /// Sent to another node, an ID without a node names its sender's node
    /// (the actor system is in the encoder's `userInfo`).
    ///
    /// - Parameter encoder: The encoder to write the name and node to.
    /// - Throws: What the encoder's container throws.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        let system = encoder.userInfo[.actorSystemKey] as? SwerlActorSystem
        try container.encodeIfPresent(node ?? system?.runtime.nodeName, forKey: .node)
    }
}
