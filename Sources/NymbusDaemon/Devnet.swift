import Foundation
public import Logging
import NymbusCrypto
public import NymbusMixnet
import NymClient
import NymbusBroker
public import NymbusNode
public import NymbusPubSub

/// Settings for a local development network: one local mixnet and N nodes in one process.
public struct DevnetConfiguration: Sendable {
    /// Number of nodes (at least 1).
    public var nodes: Int = 3
    /// How many of them run hidden (maximum anonymity); at least one node stays visible.
    public var hidden: Int = 0
    /// Directory for every node's data and socket, and `devnet.json`.
    public var directory: String
    /// Local-mixnet settings (per-hop delay, loss, ports).
    public var mixnet = MixnetConfiguration()
    /// Applied to every node's configuration (tests shorten timers here).
    public var adjustNode: @Sendable (_ index: Int, _ configuration: inout NodeConfiguration) -> Void = { _, _ in }
    /// How every node's topic layer spreads objects.
    public var dissemination: PubSubConfiguration.Dissemination = .tree

    public init(directory: String) { self.directory = directory }

    /// The most nodes one devnet runs (each is a whole node with its broker, in one process).
    public static let maxNodes = 200

    /// Throws `DaemonError.invalidConfiguration` naming the first field out of its range and the
    /// values it may take (``FieldCheck``), the mixnet's included. `Devnet.init` calls it.
    public func validate() throws(DaemonError) {
        let check = FieldCheck<DaemonError>("DevnetConfiguration", .invalidConfiguration)
        try check.within("nodes", nodes, 1...Self.maxNodes)
        try check.require(
            (0..<nodes).contains(hidden), "hidden", hidden,
            allowed: "0...\(nodes - 1) (hidden nodes accept no inbound links, so at least one node must be visible)")
        try check.require(!directory.isEmpty, "directory", "empty", allowed: "a path")
        var mixnet = self.mixnet
        mixnet.clientCount = nodes
        do { try mixnet.validate() } catch { throw DaemonError.invalidPart(error.details) }
    }
}

/// A whole Nymbus network on loopback: the local mixnet plus N daemons, each with its broker.
///
/// Node 0 is visible and is every other node's bootstrap peer; the last `hidden` nodes are
/// hidden. `devnet.json` in the directory lists each node's mode, Nym address and socket.
public actor Devnet {
    /// The node summary written to `devnet.json`.
    public struct NodeInfo: Codable, Sendable, Equatable {
        public var index: Int
        public var mode: String
        public var address: String
        public var socket: String
        public var dataDirectory: String
        public var nymClient: String
    }

    public nonisolated let configuration: DevnetConfiguration
    public nonisolated let mixnet: LocalMixnet
    public private(set) var daemons: [NymbusDaemon] = []
    public private(set) var nodes: [NodeInfo] = []
    private let logger: Logger

    public init(configuration: DevnetConfiguration, logger: Logger) throws(DaemonError) {
        try configuration.validate()
        var mixnetConfiguration = configuration.mixnet
        mixnetConfiguration.clientCount = configuration.nodes
        self.configuration = configuration
        self.logger = logger
        do { mixnet = try LocalMixnet(configuration: mixnetConfiguration, logger: logger) } catch {
            throw DaemonError(.startFailed, "cannot create the local mixnet: \(error)")
        }
    }

    /// Starts the mixnet, then every node (the seed first), then writes `devnet.json`.
    public func start() async throws(DaemonError) {
        let root = try DataDirectory(path: configuration.directory)
        do { try await mixnet.start() } catch { throw DaemonError(.startFailed, "cannot start the local mixnet: \(error)") }
        let endpoints = await mixnet.endpoints
        let seed = endpoints[0].address
        for endpoint in endpoints {
            let index = endpoint.index
            let hidden = index >= configuration.nodes - configuration.hidden
            var node = NodeConfiguration(mode: hidden ? .hidden : .visible)
            node.bootstrap = index == 0 ? [] : [seed]
            configuration.adjustNode(index, &node)
            let nymClient: NymClientConfiguration
            do { nymClient = try NymClientConfiguration(url: endpoint.url) } catch {
                throw DaemonError(.startFailed, "bad endpoint URL: \(error.reason)")
            }
            let directory = root.file("node-\(index)")
            var pubsub = PubSubConfiguration()
            pubsub.dissemination = configuration.dissemination
            let daemonConfiguration = DaemonConfiguration(
                nymClient: nymClient, node: node, pubsub: pubsub, socketPath: (directory as NSString).appendingPathComponent("nymbus.sock"),
                dataDirectory: directory)
            var nodeLogger = logger
            nodeLogger[metadataKey: "node"] = "\(index)"
            let daemon = try NymbusDaemon(configuration: daemonConfiguration, logger: nodeLogger)
            try await daemon.start()
            daemons.append(daemon)
            nodes.append(
                NodeInfo(
                    index: index, mode: hidden ? "hidden" : "visible", address: endpoint.address.description,
                    socket: daemon.broker.socketPath, dataDirectory: directory, nymClient: endpoint.url))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { try root.write("devnet.json", try encoder.encode(["nodes": nodes])) } catch let error as DaemonError {
            throw error
        } catch {
            throw DaemonError(.dataDirectory, "cannot write devnet.json: \(error)")
        }
    }

    /// Waits until every node has at least `minimumPeers` peers; false if `timeout` passes first.
    public func waitUntilLinked(minimumPeers: Int = 1, timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var linked = true
            for daemon in daemons where await daemon.node.peers().count < minimumPeers {
                linked = false
                break
            }
            if linked { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Stops every node, then the mixnet.
    public func stop() async {
        for daemon in daemons.reversed() { await daemon.stop() }
        await mixnet.stop()
    }
}
