// BrokerServe: the Nymbus side of the broker benchmark, each as its own process like redis-server,
// so scripts/bench.sh can read the CPU time of exactly the process that serves the clients.
//
//   BrokerServe loopback --socket PATH [--streams DIR]
//       The broker alone: RESP parsing, SUBSCRIBE/PUBLISH, fan-out, with the loopback backend
//       (no overlay). This is the part that does what redis-server does. With --streams, streams
//       are stored in DIR/streams.sqlite (appendfsync everysec).
//
//   BrokerServe peer --dir DIR
//       A local mixnet (2 endpoints, mixing delay 0) and node 1 on endpoint 1; prints
//       `ready <endpoint 0 URL> <node 1 address>` for the node process below.
//
//   BrokerServe node --dir DIR --mixnet URL --peer ADDRESS
//       Node 0: a whole Nymbus daemon (broker + topic layer + node + nym-client connection) on
//       endpoint 0, linked to node 1. Every PUBLISH is padded, encrypted, Ed25519-signed and sent
//       over the mixnet to node 1, which verifies it in the other process.
//
// In both node processes the per-link rate limit (50 messages/s average, burst 500: what one
// nym-client can carry) is lifted, or node 1 would close the link as a flood within a second.
// A lone node cannot stand in: with no peer it holds at most 256 publishes and then refuses
// PUBLISH ("no peer is connected yet and the publish queue is full").
//
// Each mode prints a `ready …` line once clients can connect, then serves until killed.
import BenchSupport
import Logging
import NymClient
import NymbusBroker
import NymbusCrypto
import NymbusDaemon
import NymbusMixnet
import NymbusNode

#if canImport(Glibc)
    import Glibc
#endif

Console.lineBuffered()
let arguments = Arguments()
let mode = CommandLine.arguments.dropFirst().first ?? ""
var logger = Logger(label: "brokerserve") { StreamLogHandler.standardError(label: $0) }
logger.logLevel = .error
/// What must live as long as the process (the broker, mixnet or daemon).
var keepAlive: [any Sendable] = []

func usage() -> Never {
    Console.error(
        "usage: BrokerServe loopback --socket PATH [--streams DIR] | peer --dir DIR | node --dir DIR --mixnet URL --peer ADDRESS")
    exit(2)
}

/// A node configuration with the per-link flood limit lifted (see the header).
func unlimitedNode(bootstrap: [Recipient]) -> NodeConfiguration {
    var node = NodeConfiguration(mode: .visible)
    node.bootstrap = bootstrap
    node.outboundTarget = bootstrap.count
    node.packetRate = 1e9
    node.packetBurst = 1e9
    return node
}

do {
    switch mode {
    case "loopback":
        guard let socket = arguments.string("--socket") else { usage() }
        // --streams DIR: streams in DIR/streams.sqlite (appendfsync everysec), as on a node.
        let store = try arguments.string("--streams").map { directory in
            try SQLiteStreamStore(path: directory + "/streams.sqlite", fsync: .everysec)
        }
        if let store { keepAlive.append(store) }
        let broker = BrokerServer(
            configuration: BrokerConfiguration(socketPath: socket), backend: LoopbackBrokerBackend(), logger: logger,
            streamStore: store)
        try await broker.start()
        keepAlive.append(broker)
        print("ready \(socket)")

    case "peer":
        guard let directory = arguments.string("--dir") else { usage() }
        var configuration = MixnetConfiguration()
        configuration.clientCount = 2
        configuration.hopDelay = .zero
        configuration.sendDelay = .zero
        let mixnet = try LocalMixnet(configuration: configuration, logger: logger)
        try await mixnet.start()
        let endpoints = await mixnet.endpoints
        let daemon = try NymbusDaemon(
            configuration: DaemonConfiguration(
                nymClient: try NymClientConfiguration(url: endpoints[1].url), node: unlimitedNode(bootstrap: []),
                socketPath: directory + "/node-1/nymbus.sock", dataDirectory: directory + "/node-1"),
            logger: logger)
        try await daemon.start()
        keepAlive.append(mixnet)
        keepAlive.append(daemon)
        print("ready \(endpoints[0].url) \(endpoints[1].address)")

    case "node":
        guard let directory = arguments.string("--dir"), let url = arguments.string("--mixnet"),
            let peer = arguments.string("--peer")
        else { usage() }
        let daemon = try NymbusDaemon(
            configuration: DaemonConfiguration(
                nymClient: try NymClientConfiguration(url: url),
                node: unlimitedNode(bootstrap: [try Recipient(string: peer)]),
                socketPath: directory + "/node-0/nymbus.sock", dataDirectory: directory + "/node-0"),
            logger: logger)
        try await daemon.start()
        keepAlive.append(daemon)
        let deadline = ContinuousClock.now + .seconds(60)
        while await daemon.node.peers().isEmpty {
            guard ContinuousClock.now < deadline else {
                Console.error("BrokerServe: node 0 did not link to node 1 within 60 s")
                exit(1)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        print("ready \(daemon.broker.socketPath)")

    default:
        usage()
    }
} catch {
    Console.error("BrokerServe \(mode): \(error)")
    exit(1)
}

while true { try? await Task.sleep(for: .seconds(3600)) }
