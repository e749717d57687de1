import BenchSupport
import Foundation
import Logging
import NymClient
import NymbusCrypto
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymbusWire
import Synchronization

/// Who got which object when: every subscriber's arrivals, duplicates counted.
final class Arrivals: Sendable {
    struct State {
        /// Per object: arrival times (wall nanoseconds) by node.
        var byObject: [MessageID: [Int: UInt64]] = [:]
        var duplicates = 0
    }
    let state = Mutex(State())

    func record(node: Int, id: MessageID, at now: UInt64) {
        state.withLock { state in
            if state.byObject[id, default: [:]].updateValue(now, forKey: node) != nil { state.duplicates += 1 }
        }
    }

    /// How many of `ids` each reached every node in `nodes`.
    func complete(_ ids: [MessageID], nodes: Set<Int>) -> Int {
        state.withLock { state in
            ids.filter { id in nodes.isSubset(of: state.byObject[id]?.keys.map { $0 } ?? []) }.count
        }
    }

    /// Arrival times of `id` by node.
    func arrivals(_ id: MessageID) -> [Int: UInt64] { state.withLock { $0.byObject[id] ?? [:] } }

    var duplicates: Int { state.withLock { $0.duplicates } }
}

/// One overlay on its own paced local mixnet: nodes with their own nym-client connection, links
/// made by the benchmark (a random graph, the same for every mode), every node subscribed.
final class Overlay: @unchecked Sendable {
    struct Member {
        let index: Int
        let hidden: Bool
        let connection: NymClientConnection
        let node: Node
        let pubsub: PubSub<Node>
        var alive = true
    }

    let mixnet: LocalMixnet
    let topic = Topic.named("dissemination-bench")
    let arrivals = Arrivals()
    private(set) var members: [Member] = []
    /// The topic layer's configuration of every node (each picks its home stripe).
    let configuration: PubSubConfiguration
    let logger = Logger(label: "dissemination-bench") { _ in SwiftLogNoOpLogHandler() }

    init(mixnet: LocalMixnet, configuration: PubSubConfiguration) {
        self.mixnet = mixnet
        self.configuration = configuration
    }

    /// Starts a paced mixnet with room for `capacity` endpoints and `nodes` nodes on it, the last
    /// `hidden` of them hidden.
    static func start(
        nodes: Int, hidden: Int, capacity: Int, loss: Double, seed: UInt64, configuration: PubSubConfiguration
    ) async throws -> Overlay {
        var mixnetConfiguration = MixnetConfiguration()
        mixnetConfiguration.clientCount = nodes
        mixnetConfiguration.sendDelay = .milliseconds(20)  // nym-client's Poisson send rate (NYM-CLIENT.md §7)
        mixnetConfiguration.hopDelay = .milliseconds(15)
        mixnetConfiguration.lossProbability = loss
        mixnetConfiguration.seed = seed
        let mixnet = try LocalMixnet(
            configuration: mixnetConfiguration, logger: Logger(label: "mixnet") { _ in SwiftLogNoOpLogHandler() })
        try await mixnet.start()
        let overlay = Overlay(mixnet: mixnet, configuration: configuration)
        for index in 0..<nodes {
            try await overlay.addMember(index: index, endpoint: await mixnet.endpoints[index], hidden: index >= nodes - hidden)
        }
        return overlay
    }

    private func addMember(index: Int, endpoint: MixnetEndpoint, hidden: Bool) async throws {
        let connection = NymClientConnection(
            configuration: try NymClientConfiguration(url: endpoint.url), logger: logger)
        try await connection.start()
        var nodeConfiguration = NodeConfiguration(mode: hidden ? .hidden : .visible)
        nodeConfiguration.outboundTarget = 0  // the benchmark makes the links
        let node = Node(transport: connection, configuration: nodeConfiguration, logger: logger)
        try await node.start()
        var pubsubConfiguration = configuration
        // Each node picks its home stripe at random, as a real node does; seeded here by its index
        // so runs compare.
        var pick = SplitMix64(state: 0x5EED_0000 &+ UInt64(index))
        pubsubConfiguration.homeStripe = Int(pick.next() % UInt64(configuration.treeStripes))
        let pubsub = try await PubSub.attached(to: node, configuration: pubsubConfiguration, logger: logger)
        let arrivals = self.arrivals
        _ = await pubsub.subscribe(topic, includeOwn: false) { delivery in
            arrivals.record(node: index, id: delivery.messageID, at: Measure.wallNanos())
        }
        members.append(Member(index: index, hidden: hidden, connection: connection, node: node, pubsub: pubsub))
    }

    /// Dials `edges` (dialer, listener) and waits until each dialer has the link established
    /// (the listener counts it when the dialer's `verack` arrives, a moment later).
    func link(_ edges: [(Int, Int)]) async throws {
        let endpoints = await mixnet.endpoints
        for _ in 0..<8 {
            await withTaskGroup(of: Void.self) { group in
                for (dialer, listener) in edges {
                    let node = members[dialer].node
                    let address = endpoints[listener].address
                    group.addTask { for _ in 0..<3 { if (try? await node.connect(to: address)) != nil { return } } }
                }
            }
            var missing = 0
            for (dialer, listener) in edges
            where !(await members[dialer].node.peers().contains { $0.address == endpoints[listener].address }) {
                missing += 1
            }
            if missing == 0 {
                try await Task.sleep(for: .seconds(1))  // the listeners' ends complete
                return
            }
        }
        throw BenchFailure("links did not settle")
    }

    /// Adds `count` nodes on new endpoints, each dialing `outbound` random live visible nodes.
    func join(count: Int, outbound: Int, rng: inout SplitMix64) async throws -> [Int] {
        var joined: [Int] = []
        var edges: [(Int, Int)] = []
        for _ in 0..<count {
            let endpoint = try await mixnet.addEndpoint()
            let index = members.count
            try await addMember(index: index, endpoint: endpoint, hidden: false)
            let targets = members.filter { $0.alive && !$0.hidden && $0.index != index }.map(\.index)
            for target in targets.shuffled(using: &rng).prefix(outbound) { edges.append((index, target)) }
            joined.append(index)
        }
        try await link(edges)
        return joined
    }

    /// Stops a node: its links close and its nym-client connection goes away.
    func leave(_ index: Int) async {
        members[index].alive = false
        await members[index].node.stop()
        await members[index].connection.close()
    }

    var live: [Member] { members.filter(\.alive) }

    /// Messages all live nodes sent, by command.
    func messagesOut() async -> [Command: Int] {
        var total: [Command: Int] = [:]
        for member in members { total.merge(await member.node.statistics.messagesOut, uniquingKeysWith: +) }
        return total
    }

    /// Messages the hidden nodes received (each one at least one reply SURB a peer spent).
    func hiddenMessagesIn() async -> Int {
        var total = 0
        for member in members where member.hidden { total += await member.node.statistics.messagesIn.values.reduce(0, +) }
        return total
    }

    func pubsubTotals() async -> PubSubStatistics {
        var total = PubSubStatistics()
        for member in members {
            let s = await member.pubsub.statistics
            total.transmissions += s.transmissions
            total.getdataServed += s.getdataServed
            total.pruneSent += s.pruneSent
            total.graftSent += s.graftSent
            total.invSent += s.invSent
            total.repairedObjects += s.repairedObjects
            total.duplicates += s.duplicates
            total.accepted += s.accepted
        }
        return total
    }

    func stop() async {
        for member in members where member.alive {
            await member.node.stop()
            await member.connection.close()
        }
        await mixnet.stop()
    }

    /// A random graph: each node dials `outbound` random visible nodes (hidden nodes only dial).
    static func edges(nodes: Int, hidden: Int, outbound: Int, seed: UInt64) -> [(Int, Int)] {
        var rng = SplitMix64(state: seed)
        let visible = Array(0..<(nodes - hidden))
        var linked = Set<[Int]>()
        var edges: [(Int, Int)] = []
        for node in 0..<nodes {
            var made = 0
            for target in visible.shuffled(using: &rng) where made < outbound && target != node {
                guard linked.insert([min(node, target), max(node, target)]).inserted else { continue }
                edges.append((node, target))
                made += 1
            }
        }
        return edges
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
