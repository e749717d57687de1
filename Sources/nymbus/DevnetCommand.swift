import ArgumentParser
import Foundation
import Logging
import NymbusBroker
import NymbusCrypto
import NymbusDaemon
import NymbusMixnet
import NymbusPubSub

/// `nymbus devnet`: a local mixnet and N nodes with their brokers, in one command.
struct DevnetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devnet",
        abstract: "Run a whole Nymbus network on this machine: a local mixnet and N nodes with brokers.",
        discussion: """
            Starts the local mixnet (a stand-in for Nym: no anonymity, for development only) and \
            N nodes, node 0 being every other node's bootstrap peer and the last K hidden. Each \
            node's broker socket is printed, with commands to try; DIR/devnet.json lists every \
            node's mode, Nym address and socket for scripts. With --demo it subscribes on every \
            other node, publishes on node 0 and shows the message arriving through the mixnet. \
            Runs until Ctrl-C, then stops everything it started.
            """)

    @Option(name: .long, help: "Number of nodes.") var nodes: Int = 3
    @Option(name: .long, help: "How many nodes run hidden (maximum anonymity); at least one stays visible.")
    var hidden: Int = 0
    @Option(name: .long, help: "Directory for node data, sockets and devnet.json (default: $TMPDIR/nymbus-devnet).")
    var dir: String?
    @Option(name: .customLong("hop-delay-ms"), help: "Mean mixing delay per hop in milliseconds (4 hops).")
    var hopDelayMilliseconds: Double = 15
    @Option(name: .long, help: "Probability (0...1) that the mixnet loses a message.") var loss: Double = 0
    @Option(name: .long, help: "First mixnet port (endpoint i on PORT+i); 0 picks free ports.") var port: Int = 0
    @Option(name: .long, help: "How objects spread: tree (about one copy per node) or flood (every link).")
    var dissemination: String = "tree"
    @Flag(name: .long, help: "Publish a message on node 0 and show it arriving at the others.") var demo = false
    @Flag(name: .long, help: "With --demo: exit after the demo instead of running until Ctrl-C.") var exitAfterDemo = false
    @OptionGroup var pacing: MixnetPacingOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        var configuration = DevnetConfiguration(directory: "devnet")
        configuration.nodes = nodes
        configuration.hidden = hidden
        // The ranges are the configuration's own (`DevnetConfiguration.validate()`), said in flags.
        do { try configuration.validate() } catch {
            let reason =
                FieldCheck<DaemonError>.renaming("DevnetConfiguration.nodes", in: error.reason, to: "--nodes")
                ?? FieldCheck<DaemonError>.renaming("DevnetConfiguration.hidden", in: error.reason, to: "--hidden")
                ?? error.reason
            throw ValidationError(reason)
        }
        guard hopDelayMilliseconds >= 0, hopDelayMilliseconds.isFinite else {
            throw ValidationError("--hop-delay-ms must be a non-negative number")
        }
        guard (0..<1).contains(loss) else { throw ValidationError("--loss must be within 0...1 (exclusive of 1)") }
        guard PubSubConfiguration.Dissemination(rawValue: dissemination) != nil else {
            throw ValidationError("--dissemination must be tree or flood, not \(dissemination)")
        }
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "nymbus.devnet", defaultLevel: .warning)
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        let directory = dir ?? ((ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/nymbus-devnet")
        var configuration = DevnetConfiguration(directory: directory)
        configuration.nodes = nodes
        configuration.hidden = hidden
        configuration.mixnet.firstPort = port
        configuration.mixnet.hopDelay = .microseconds(Int64((hopDelayMilliseconds * 1000).rounded()))
        configuration.mixnet.lossProbability = loss
        configuration.dissemination = PubSubConfiguration.Dissemination(rawValue: dissemination) ?? .tree
        configuration.mixnet.stateDirectory = directory + "/mixnet"
        pacing.apply(to: &configuration.mixnet)
        let devnet = try Devnet(configuration: configuration, logger: logger)
        print("starting a local mixnet (\(hopDelayMilliseconds) ms mean per hop, \(MixnetPacingOptions.describe(configuration.mixnet))) and \(nodes) node(s), \(hidden) hidden…")
        fflush(nil)
        let (nodes, demo) = (self.nodes, self.demo)
        let interrupted = try await untilSignal(signals) {
            try await devnet.start()
            for node in await devnet.nodes {
                print("node \(node.index)  \(node.mode.padding(toLength: 7, withPad: " ", startingAt: 0))  \(node.socket)")
            }
            print("devnet.json: \(directory)/devnet.json")
            fflush(nil)
            let linked = await devnet.waitUntilLinked(minimumPeers: 1, timeout: .seconds(60))
            print(linked ? "every node has at least one peer" : "warning: some nodes have no peer yet")
            fflush(nil)
            if demo, nodes > 1 { try await Self.runDemo(devnet: devnet, nodes: await devnet.nodes) }
        }
        if let interrupted {
            print("\nreceived signal \(interrupted); stopping")
            await devnet.stop()
            return
        }
        let nodeInfo = await devnet.nodes
        if let first = nodeInfo.first, let last = nodeInfo.last {
            print("""

                try it (in other terminals):
                  redis-cli -s \(last.socket) SUBSCRIBE news
                  redis-cli -s \(first.socket) PUBLISH news "hello through the mixnet"
                  nymbus status --socket \(first.socket) --peers
                """)
        }
        if demo && exitAfterDemo {
            await devnet.stop()
            return
        }
        print("running; Ctrl-C stops every node and the mixnet")
        fflush(nil)
        let signal = await signals.next()
        print("\nreceived signal \(signal ?? 0); stopping")
        await devnet.stop()
    }

    /// Subscribes on nodes 1…N-1, publishes on node 0, prints each arrival with its latency.
    private static func runDemo(devnet: Devnet, nodes: [Devnet.NodeInfo]) async throws {
        let channel = "devnet-demo"
        let daemons = await devnet.daemons
        var subscribers: [(index: Int, connection: BrokerConnection)] = []
        for node in nodes.dropFirst() {
            let connection = try await BrokerConnection.connect(path: node.socket)
            _ = try await connection.command("SUBSCRIBE", channel)
            subscribers.append((node.index, connection))
        }
        // The broker tells the topic layer about new subscriptions asynchronously; wait for it.
        let topic = Topic.named(channel)
        for daemon in daemons.dropFirst() {
            for _ in 0..<100 where !(await daemon.pubsub.subscribedTopics.contains(topic)) {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let publisher = try await BrokerConnection.connect(path: nodes[0].socket)
        let message = "hello from node 0"
        let start = ContinuousClock.now
        print("\nnode 0 publishes \"\(message)\" to \(channel)")
        _ = try expectNoError(try await publisher.command("PUBLISH", channel, message))
        let arrivals = await withTaskGroup(of: (Int, Duration?).self) { group in
            for (index, connection) in subscribers {
                group.addTask {
                    let received = try? await withThrowingTaskGroup(of: Bool.self) { inner in
                        inner.addTask { try await connection.nextMessage()?.payload == Array(message.utf8) }
                        inner.addTask {
                            try await Task.sleep(for: .seconds(30))
                            return false
                        }
                        defer { inner.cancelAll() }
                        return try await inner.next() ?? false
                    }
                    return (index, received == true ? ContinuousClock.now - start : nil)
                }
            }
            var results: [(Int, Duration?)] = []
            for await result in group {
                results.append(result)
                let (index, latency) = result
                let mode = nodes[index].mode
                if let latency {
                    print("node \(index) (\(mode)) received it after \(latency.formatted(.units(allowed: [.milliseconds])))")
                } else {
                    print("node \(index) (\(mode)) did not receive it within 30 s")
                }
                fflush(nil)
            }
            return results
        }
        let delivered = arrivals.filter { $0.1 != nil }.count
        print("delivered to \(delivered) of \(subscribers.count) subscribers, through the local mixnet")
        for (_, connection) in subscribers { await connection.close() }
        await publisher.close()
    }
}
