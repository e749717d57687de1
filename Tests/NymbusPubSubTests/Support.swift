import Foundation
import NymbusCrypto
import NymbusWire

@testable import NymbusPubSub

/// A custom type published through topics in the tests.
struct ChatLine: WireCodable, Equatable {
    static let wireTypeID: UInt32 = 0x1001
    var nick: String
    var text: String
    var sequence: UInt64

    func serialize(into writer: inout ByteWriter) {
        writer.writeShortString(nick)
        writer.writeBytes16(Array(text.utf8))
        writer.write(sequence)
    }

    init(nick: String, text: String, sequence: UInt64) {
        self.nick = nick
        self.text = text
        self.sequence = sequence
    }

    init(from reader: inout ByteReader) throws(WireError) {
        nick = try reader.readShortString(limit: 64, "nick")
        let raw = try reader.readBytes16(limit: 4096, "text")
        guard let text = String(validating: raw, as: UTF8.self) else { throw WireError(.invalidUTF8, "text") }
        self.text = text
        sequence = try reader.readUInt64("sequence")
    }
}

/// A settable wall clock (Unix seconds).
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(_ start: Int64 = 1_740_000_000) { value = start }
    var now: Int64 {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
    func advance(_ seconds: Int64) { lock.withLock { value += seconds } }
    var function: @Sendable () -> Int64 { { self.now } }
}

/// The in-memory stand-in for the peer layer, for the router logic of ONE node only.
/// Cross-node behaviour is tested over the local mixnet, never with this.
actor RecordingNetwork: ObjectNetwork {
    typealias Peer = Int
    struct Sent: Equatable {
        var bytes: [UInt8]
        var except: Int?
    }
    var peers: Set<Int>
    private(set) var sent: [Sent] = []
    /// The peers each object in `sent` went to.
    private(set) var pushedTo: [Set<Int>] = []
    private(set) var penalties: [(peer: Int, reason: String)] = []

    init(peers: Set<Int> = []) { self.peers = peers }

    func setPeers(_ peers: Set<Int>) { self.peers = peers }

    /// How long each broadcast takes (a slow link), so callers interleave.
    var sendDelay: Duration = .zero

    func setSendDelay(_ delay: Duration) { sendDelay = delay }

    /// Pushes: recorded in `sent`, with `except` the one connected peer left out, if any.
    func send(_ message: TopicMessage, to targets: [Int]) async -> [Int] {
        if sendDelay > .zero { try? await Task.sleep(for: sendDelay) }
        let took = targets.filter { peers.contains($0) && !refusing.contains($0) }
        guard case .object(let object) = message else {
            for peer in took { direct.append((peer, message)) }
            return took
        }
        let left = peers.subtracting(targets)
        if !took.isEmpty {
            sent.append(Sent(bytes: object, except: left.count == 1 ? left.first : nil))
            pushedTo.append(Set(took))
        }
        return took
    }

    func penalizeInvalidObject(from peer: Int, reason: String) async {
        penalties.append((peer, reason))
    }

    /// Messages sent to one peer (repair), in order.
    private(set) var direct: [(peer: Int, message: TopicMessage)] = []
    /// Peers whose sends the "transport" refuses.
    var refusing: Set<Int> = []
    private(set) var repairHandlerInstalled = false

    func setRefusing(_ peers: Set<Int>) { refusing = peers }
    func clearDirect() { direct = [] }

    func send(_ message: TopicMessage, to peer: Int) async -> Bool {
        guard peers.contains(peer), !refusing.contains(peer) else { return false }
        direct.append((peer, message))
        return true
    }

    /// How many of the `direct` messages were sent as catch-up (`sendCatchUp`).
    private(set) var catchUpSent = 0

    func sendCatchUp(_ message: TopicMessage, to peer: Int) async -> Bool {
        guard await send(message, to: peer) else { return false }
        catchUpSent += 1
        return true
    }

    func connectedPeers() async -> [Int] { peers.sorted() }

    /// Peers "this node dialed" (the rest accepted a link from it).
    var dialed: Set<Int> = []

    func setDialed(_ peers: Set<Int>) { dialed = peers }

    func dialedPeers() async -> Set<Int> { dialed.intersection(peers) }

    /// Peers that are hidden (messages to them cost their reply SURBs).
    var hidden: Set<Int> = []

    func setHidden(_ peers: Set<Int>) { hidden = peers }

    func hiddenPeers() async -> Set<Int> { hidden.intersection(peers) }

    /// Whether "this node" is hidden.
    var selfHidden = false

    func setSelfHidden(_ hidden: Bool) { selfHidden = hidden }

    func isHidden() async -> Bool { selfHidden }

    func setMessageHandler(_ handler: @escaping @Sendable (TopicMessage, Int) async -> Void) async {
        repairHandlerInstalled = true
    }
}

/// Where the spec's vectors live in the repository.
let vectorsURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("spec/vectors/pubsub.json")

func hex(_ s: String) -> [UInt8] { try! Hex.decode(s) }

/// Collects a subscription's deliveries in the background so tests can wait with a deadline
/// (cancelling a task that waits on an `AsyncStream` would end the stream).
actor Collector {
    private(set) var deliveries: [Delivery] = []
    private(set) var arrivals: [ContinuousClock.Instant] = []
    private var task: Task<Void, Never>?

    init() {}

    static func start(_ subscription: Subscription) async -> Collector {
        let collector = Collector()
        await collector.run(subscription)
        return collector
    }

    private func run(_ subscription: Subscription) {
        task = Task { [weak self] in
            for await delivery in subscription { await self?.append(delivery) }
        }
    }

    private func append(_ delivery: Delivery) {
        deliveries.append(delivery)
        arrivals.append(.now)
    }

    var count: Int { deliveries.count }

    /// Waits until at least `count` deliveries arrived or `seconds` passed; returns them all.
    func waitFor(_ count: Int, within seconds: Double = 15) async -> [Delivery] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while deliveries.count < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return deliveries
    }

    func stop() { task?.cancel() }
}

extension StripeMask {
    /// Stripe 0 alone: what a node with one stripe names in its `prune` and `graft`.
    static let first = StripeMask(stripe: 0)
}
