import Foundation
import Logging
import NymClient
import NymbusCrypto
import NymbusMixnet
import NymbusNetworkTestSupport
import NymbusNode
import NymbusPubSub
import NymbusTestSupport
import NymbusTransport
import Testing

/// Nodes, each with its own nym-client connection to a `LocalMixnet` and a `PubSub` on top:
/// every byte between them crosses the local mixnet's WebSocket API, with its delays and loss.
final class MixnetMesh: Sendable {
    let mixnet: LocalMixnet
    let endpoints: [MixnetEndpoint]
    let connections: [NymClientConnection]
    let nodes: [Node]
    let pubsubs: [PubSub<Node>]
    let hidden: Set<Int>

    init(
        mixnet: LocalMixnet, endpoints: [MixnetEndpoint], connections: [NymClientConnection], nodes: [Node],
        pubsubs: [PubSub<Node>], hidden: Set<Int>
    ) {
        self.mixnet = mixnet
        self.endpoints = endpoints
        self.connections = connections
        self.nodes = nodes
        self.pubsubs = pubsubs
        self.hidden = hidden
    }

    /// Starts `count` nodes (those in `hidden` in hidden mode) with no links yet.
    static func start(
        count: Int, hidden: Set<Int> = [], hopDelay: Duration = .milliseconds(15), loss: Double = 0,
        sendDelay: Duration = .zero, seed: UInt64 = 1, pubsub configure: (Int, inout PubSubConfiguration) -> Void = { _, _ in },
        transport wrap: (Int, NymClientConnection) -> any MixnetTransport = { $1 }
    ) async throws -> MixnetMesh {
        var mc = MixnetConfiguration()
        mc.clientCount = count
        mc.hopDelay = hopDelay
        mc.sendDelay = sendDelay
        mc.lossProbability = loss
        mc.seed = seed
        let mixnet = try LocalMixnet(
            configuration: mc, logger: Logger(label: "test.mixnet") { _ in SwiftLogNoOpLogHandler() })
        try await mixnet.start()
        let endpoints = await mixnet.endpoints
        var connections: [NymClientConnection] = []
        var nodes: [Node] = []
        var pubsubs: [PubSub<Node>] = []
        let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        for i in 0..<count {
            let connection = NymClientConnection(
                configuration: try NymClientConfiguration(url: endpoints[i].url), logger: quiet)
            try await connection.start()
            var nc = NodeConfiguration(mode: hidden.contains(i) ? .hidden : .visible)
            nc.outboundTarget = 0  // links are exactly the ones a test makes
            nc.handshakeTimeout = .seconds(4)
            let node = Node(transport: wrap(i, connection), configuration: nc, logger: quiet)
            try await node.start()
            var pc = PubSubConfiguration()
            configure(i, &pc)
            pubsubs.append(try await PubSub.attached(to: node, configuration: pc, logger: quiet))
            connections.append(connection)
            nodes.append(node)
        }
        return MixnetMesh(
            mixnet: mixnet, endpoints: endpoints, connections: connections, nodes: nodes, pubsubs: pubsubs,
            hidden: hidden)
    }

    /// A connected random graph where every node has at least `minDegree` links; a hidden node
    /// only dials (it takes no inbound links), so no edge joins two hidden nodes.
    /// Returns (dialer, listener) pairs.
    static func randomEdges(count: Int, hidden: Set<Int>, minDegree: Int, seed: UInt64) -> [(Int, Int)] {
        var rng = SplitMix64(seed: seed)
        var linked = Set<[Int]>()
        var edges: [(Int, Int)] = []
        var degree = [Int](repeating: 0, count: count)
        func add(_ a: Int, _ b: Int) -> Bool {
            guard a != b, !(hidden.contains(a) && hidden.contains(b)), !linked.contains([min(a, b), max(a, b)]) else {
                return false
            }
            linked.insert([min(a, b), max(a, b)])
            edges.append(hidden.contains(b) ? (b, a) : (a, b))
            degree[a] += 1
            degree[b] += 1
            return true
        }
        let visible = (0..<count).filter { !hidden.contains($0) }
        precondition(visible.first == 0, "node 0 must be visible")
        for i in 1..<count {
            // Join the tree built so far through a visible node.
            let candidates = (0..<i).filter { !hidden.contains($0) || !hidden.contains(i) }
            while !add(i, candidates.randomElement(using: &rng)!) {}
        }
        for i in 0..<count {
            var attempts = 0
            while degree[i] < minDegree, attempts < 1000 {
                _ = add(i, Int.random(in: 0..<count, using: &rng))
                attempts += 1
            }
        }
        return edges
    }

    /// Dials every edge (in parallel), then waits until both ends of every link see it (on top of
    /// the links that already exist).
    ///
    /// With loss, a handshake can fail (dial again) or end half-open: the initiator's final
    /// `verack` is lost, so the initiator counts the link and the listener does not. The listener
    /// then closes it after its handshake timeout with a `bye`, and the next round dials again.
    func link(_ edges: [(Int, Int)], rounds: Int = 6) async throws {
        var expected: [Int] = []
        for node in nodes { expected.append(await node.peers().count) }
        for (a, b) in edges {
            expected[a] += 1
            expected[b] += 1
        }
        for _ in 0..<rounds {
            await withTaskGroup(of: Void.self) { group in
                for (dialer, listener) in edges {
                    let node = nodes[dialer]
                    let address = endpoints[listener].address
                    group.addTask {
                        // `connect` returns the existing link if there is one.
                        for _ in 0..<4 { if (try? await node.connect(to: address)) != nil { return } }
                    }
                }
            }
            let settled = await waitUntil(timeout: .seconds(6)) {
                for (i, node) in self.nodes.enumerated() where await node.peers().count != expected[i] { return false }
                return true
            }
            if settled { return }
        }
        var counts: [Int] = []
        for node in nodes { counts.append(await node.peers().count) }
        throw MeshError("links did not settle: have \(counts), expected \(expected)")
    }

    /// Waits until nothing is on its way between the nodes (see `settle(_:_:)`): the check for
    /// "nothing more arrives".
    @discardableResult
    func settle(timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) async -> Bool {
        let members = nodes.indices.map { MixnetMember(endpoint: $0, connection: connections[$0], node: nodes[$0]) }
        return await NymbusNetworkTestSupport.settle(mixnet, members, timeout: timeout, sourceLocation: sourceLocation)
    }

    func stop() async {
        for node in nodes { await node.stop() }
        for connection in connections { await connection.close() }
        await mixnet.stop()
    }

    func statistics() async -> [PubSubStatistics] {
        var out: [PubSubStatistics] = []
        for p in pubsubs { out.append(await p.statistics) }
        return out
    }
}

struct MeshError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The p-th percentile (0...1) of durations, by nearest rank.
func percentile(_ values: [Duration], _ p: Double) -> Duration {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .zero }
    let rank = Int((p * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}
