import NymbusPubSub

/// A network that sends nothing and answers as if `peers` peers took every object, so the topic
/// layer runs its whole receive and publish paths (including the forwarding copy) with no I/O.
struct NullNetwork: ObjectNetwork {
    typealias Peer = Int
    let peers: Int

    func broadcastObject(_ object: [UInt8], except: Int?) async -> Int { except == nil ? peers : peers - 1 }

    func send(_ message: RepairMessage, to peer: Int) async -> Bool { true }

    func connectedPeers() async -> [Int] { Array(0..<peers) }

    func setRepairHandler(_ handler: @escaping @Sendable (RepairMessage, Int) async -> Void) async {}

    func penalizeInvalidObject(from peer: Int, reason: String) async {}
}
