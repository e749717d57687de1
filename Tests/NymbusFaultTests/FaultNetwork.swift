import Foundation
import Logging
import NymClient
import NymbusCrypto
import NymbusDaemon
import NymbusMixnet
import NymbusNode
import NymbusNetworkTestSupport
import NymbusPubSub
import NymbusTestSupport
import NymbusWire
import Testing

/// A whole Nymbus network for fault tests: one `LocalMixnet` and one `NymbusDaemon` (nym-client
/// connection + node + topics + broker) per endpoint, every byte between nodes crossing the
/// mixnet's nym-client WebSocket API. Nodes can be stopped and added while it runs.
actor FaultNetwork {
    nonisolated let mixnet: LocalMixnet
    nonisolated let root: String
    private let configure: @Sendable (_ index: Int, _ configuration: inout NodeConfiguration) -> Void
    private(set) var endpoints: [MixnetEndpoint]
    /// Daemons by endpoint index, including stopped ones.
    private(set) var daemons: [Int: NymbusDaemon] = [:]
    private(set) var hidden: Set<Int> = []
    private(set) var stopped: Set<Int> = []
    /// Each node's bootstrap endpoints, for restarts.
    private(set) var bootstraps: [Int: [Int]] = [:]
    /// Whether nodes keep a data directory (book, discouragements, topics) across restarts.
    nonisolated let persistent: Bool

    private init(
        mixnet: LocalMixnet, root: String, endpoints: [MixnetEndpoint], persistent: Bool,
        configure: @escaping @Sendable (Int, inout NodeConfiguration) -> Void
    ) {
        self.persistent = persistent
        self.mixnet = mixnet
        self.root = root
        self.endpoints = endpoints
        self.configure = configure
    }

    /// Starts a mixnet of `clients` endpoints; no node runs yet.
    static func start(
        clients: Int, hopDelay: Duration = .milliseconds(5), sendDelay: Duration = .zero,
        startupDelay: Duration = .zero, persistent: Bool = false,
        configure: @escaping @Sendable (Int, inout NodeConfiguration) -> Void = { _, _ in }
    ) async throws -> FaultNetwork {
        var configuration = MixnetConfiguration()
        configuration.clientCount = clients
        configuration.hopDelay = hopDelay
        configuration.sendDelay = sendDelay
        configuration.startupDelay = startupDelay
        configuration.seed = SeededRandom("FaultNetwork mixnet (delays, sender tags)").seed
        let mixnet = try LocalMixnet(configuration: configuration, logger: faultLogger("mixnet"))
        try await mixnet.start()
        return FaultNetwork(
            mixnet: mixnet, root: temporaryDirectory("net"), endpoints: await mixnet.endpoints, persistent: persistent,
            configure: configure)
    }

    /// Starts a daemon on endpoint `index`, bootstrapped from the endpoints in `bootstrap`.
    @discardableResult
    func startNode(_ index: Int, hidden isHidden: Bool = false, bootstrap: [Int] = []) async throws -> NymbusDaemon {
        var node = NodeConfiguration(mode: isHidden ? .hidden : .visible)
        node.bootstrap = bootstrap.map { endpoints[$0].address }
        configure(index, &node)
        var nymClient = try NymClientConfiguration(url: endpoints[index].url)
        nymClient.startTimeout = .seconds(60)
        nymClient.maxBackoff = .seconds(1)
        // The "nym-client" here is the in-process LocalMixnet, which shares the CPU (and NIO's
        // event loops) with every node of every test running at once; on a starved machine it
        // stops reading for seconds and a hub's 1024-message queue overflowed (sendFailures).
        // A real nym-client is its own process; the larger queue absorbs the test machine's pauses.
        nymClient.maxQueuedMessages = 8192
        let directory = root + "/n\(index)"
        let configuration = DaemonConfiguration(
            nymClient: nymClient, node: node, socketPath: directory + "/s.sock",
            dataDirectory: persistent ? directory + "/data" : nil)
        let daemon = try NymbusDaemon(configuration: configuration, logger: faultLogger("node-\(index)"))
        try await daemon.start()
        daemons[index] = daemon
        stopped.remove(index)
        bootstraps[index] = bootstrap
        if isHidden { hidden.insert(index) }
        return daemon
    }

    /// Adds a mixnet endpoint (a new nym-client) and starts a daemon on it.
    func addNode(hidden isHidden: Bool = false, bootstrap: [Int]) async throws -> Int {
        let endpoint = try await mixnet.addEndpoint()
        endpoints.append(endpoint)
        try await startNode(endpoint.index, hidden: isHidden, bootstrap: bootstrap)
        return endpoint.index
    }

    /// Stops the daemon on `index` (bye to every peer, nym-client connection closed).
    func stopNode(_ index: Int) async {
        guard let daemon = daemons[index], !stopped.contains(index) else { return }
        stopped.insert(index)
        await daemon.stop()
    }

    /// Kills the daemon on `index` as `kill -9` would: no bye, nothing written, sockets closed.
    func crashNode(_ index: Int) async {
        guard let daemon = daemons[index], !stopped.contains(index) else { return }
        stopped.insert(index)
        await daemon.crash()
    }

    /// Starts a new daemon on `index` (after a stop or crash), as it was configured before.
    @discardableResult
    func restartNode(_ index: Int) async throws -> NymbusDaemon {
        try await startNode(index, hidden: hidden.contains(index), bootstrap: bootstraps[index] ?? [])
    }

    func daemon(_ index: Int) -> NymbusDaemon { daemons[index]! }
    func node(_ index: Int) -> Node { daemons[index]!.node }
    func pubsub(_ index: Int) -> PubSub<Node> { daemons[index]!.pubsub }
    func transport(_ index: Int) -> NymClientConnection { daemons[index]!.transport }
    func address(_ index: Int) -> Recipient { endpoints[index].address }
    /// Every endpoint's address, by index.
    var addresses: [Recipient] { endpoints.map(\.address) }

    /// Indices of running daemons, ascending.
    var live: [Int] { daemons.keys.filter { !stopped.contains($0) }.sorted() }

    /// Dials every (dialer, listener) pair and waits until both ends of each new link see it.
    func link(_ edges: [(Int, Int)]) async throws {
        for (dialer, listener) in edges {
            _ = try await node(dialer).connect(to: address(listener))
        }
        let wanted = edges.map { [$0.0, $0.1].sorted() }
        let settled = await waitUntil(timeout: .seconds(30)) {
            let links = await self.links()
            return wanted.allSatisfy { pair in links.contains { $0 == pair } }
        }
        guard settled else { throw FaultError("links \(wanted) did not settle; have \(await self.links())") }
    }

    /// Waits until nothing is on its way between the running nodes (see `settle(_:_:)`): the
    /// check for "nothing more arrives".
    @discardableResult
    func settle(timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) async -> Bool {
        let members = live.map { MixnetMember(endpoint: $0, connection: transport($0), node: node($0)) }
        return await NymbusNetworkTestSupport.settle(mixnet, members, timeout: timeout, sourceLocation: sourceLocation)
    }

    /// The links both ends consider established, as sorted index pairs (one per session).
    func links() async -> [[Int]] { Array(await sessions().values) }

    /// The links both ends consider established, by session id.
    func sessions() async -> [SessionID: [Int]] {
        var ends: [SessionID: [Int]] = [:]
        for index in live {
            for peer in await node(index).peers() { ends[peer.id.sessionID, default: []].append(index) }
        }
        return ends.filter { $0.value.count == 2 }.mapValues { $0.sorted() }
    }

    /// Whether every running node has at least `minimumLinks` links established at both ends
    /// and those links connect all running nodes.
    func isHealthy(minimumLinks: Int = 1) async -> Bool {
        let nodes = live
        guard let first = nodes.first else { return true }
        let links = await links()
        var neighbours: [Int: Set<Int>] = [:]
        var degree: [Int: Int] = [:]
        for link in links {
            neighbours[link[0], default: []].insert(link[1])
            neighbours[link[1], default: []].insert(link[0])
            degree[link[0], default: 0] += 1
            degree[link[1], default: 0] += 1
        }
        guard nodes.allSatisfy({ degree[$0, default: 0] >= minimumLinks }) else { return false }
        var reached: Set<Int> = [first]
        var frontier = [first]
        while let next = frontier.popLast() {
            for neighbour in neighbours[next, default: []] where reached.insert(neighbour).inserted {
                frontier.append(neighbour)
            }
        }
        return reached.isSuperset(of: nodes)
    }

    /// Stops every daemon, then the mixnet.
    func shutdown() async {
        for index in live.reversed() { await stopNode(index) }
        await mixnet.stop()
        try? FileManager.default.removeItem(atPath: root)
    }
}

struct FaultError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
