import NymbusPubSub

/// A network that sends nothing and answers as if `peers` peers took every object, so the topic
/// layer runs its whole receive and publish paths (including the forwarding copy) with no I/O.
struct NullNetwork: ObjectNetwork {
    typealias Peer = Int
    let peers: Int

    func send(_ message: TopicMessage, to targets: [Int]) async -> [Int] { targets }

    func send(_ message: TopicMessage, to peer: Int) async -> Bool { true }

    func connectedPeers() async -> [Int] { Array(0..<peers) }

    func setMessageHandler(_ handler: @escaping @Sendable (TopicMessage, Int) async -> Void) async {}

    func penalizeInvalidObject(from peer: Int, reason: String) async {}
}
