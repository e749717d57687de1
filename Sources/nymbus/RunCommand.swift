import ArgumentParser
import Foundation
import Logging
import NymClient
import NymbusDaemon
import NymbusNode
import NymbusBroker
import NymbusPubSub
import NymbusMetrics

/// `nymbus run`: one node with its broker, against a nym-client.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Nymbus node and its local broker against a nym-client.",
        discussion: """
            Start nym-client first (`nym-client init --id me`, then `nym-client run --id me`), or \
            `nymbus mixnet` for a local stand-in. The node connects to its WebSocket (retrying while \
            it starts), dials the bootstrap peers and the address book, and opens the broker socket. \
            Programs then publish and subscribe there with any Redis client, e.g. \
            `redis-cli -s ~/.nymbus/nymbus.sock SUBSCRIBE news`. Stop with Ctrl-C.
            """)

    @OptionGroup var node: RunNodeOptions
    @OptionGroup var logging: LoggingOptions

    @Option(name: .long, help: "Broker socket path (default: <data-dir>/nymbus.sock).")
    var socket: String?

    @Option(
        name: .long,
        help: "Settings file: key = value lines named like these options (default: <data-dir>/nymbus.conf if present). Also NYMBUS_<KEY> variables; flags win.")
    var config: String?

    @Option(name: .customLong("max-payload"), help: "Largest payload a publish may carry, in bytes.")
    var maxPayload: Int = 65536

    @Option(
        name: .customLong("dissemination"),
        help: "How objects spread: tree (pushed along a spanning tree, ids announced on the other links: about one copy per node) or flood (every object over every link).")
    var dissemination: String = "tree"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Serve Prometheus metrics (the NYMBUS.STATUS numbers) on http://HOST:PORT/metrics; off by default.",
            valueName: "127.0.0.1:PORT"))
    var metrics: String?

    @Flag(name: .customLong("metrics-public"), help: "Allow --metrics on an address other than loopback.")
    var metricsPublic = false

    @Option(
        name: .customLong("warn-no-peer-after"),
        help: "Log a warning once when the node has had no peer this long, e.g. 10m; 0 never warns.")
    var warnNoPeerAfter: String = "10m"

    @Option(
        name: .customLong("stop-timeout"),
        help: "On SIGTERM or Ctrl-C, how long to drain (say bye, save, flush) before exiting anyway, e.g. 10s.")
    var stopTimeout: String = "10s"

    func validate() throws {
        guard (1...(64 * 1024)).contains(maxPayload) else {
            throw ValidationError("--max-payload must be within 1...65536 bytes (the object limit of the overlay)")
        }
        guard PubSubConfiguration.Dissemination(rawValue: dissemination) != nil else {
            throw ValidationError("--dissemination must be tree or flood, not \(dissemination)")
        }
        if let metrics {
            do { _ = try MetricsAddress(parsing: metrics, allowNonLoopback: metricsPublic) } catch {
                throw ValidationError("--metrics \(error.description)")
            }
        } else if metricsPublic {
            throw ValidationError("--metrics-public only makes sense with --metrics HOST:PORT")
        }
        guard DurationText.parse(warnNoPeerAfter) != nil else {
            throw ValidationError("--warn-no-peer-after: \(warnNoPeerAfter) is not a duration like 10m or 600")
        }
        guard let stop = DurationText.parse(stopTimeout), stop > .zero else {
            throw ValidationError("--stop-timeout: \(stopTimeout) is not a positive duration like 10s")
        }
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "nymbus")
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        let directory = node.resolvedDataDirectory
        var configuration = DaemonConfiguration(
            nymClient: try NymClientConfiguration(url: node.nymClient), node: try node.nodeConfiguration(),
            socketPath: socket ?? (directory as NSString).appendingPathComponent("nymbus.sock"), dataDirectory: directory)
        configuration.pubsub.maxPayloadBytes = maxPayload
        configuration.pubsub.dissemination = PubSubConfiguration.Dissemination(rawValue: dissemination) ?? .tree
        let warnAfter = DurationText.parse(warnNoPeerAfter) ?? .seconds(600)
        configuration.warnWithoutPeerAfter = warnAfter > .zero ? warnAfter : nil
        let daemon = try NymbusDaemon(configuration: configuration, logger: logger)
        let stopTimeout = DurationText.parse(self.stopTimeout) ?? .seconds(10)
        var exporter: MetricsServer?
        if let metrics {
            let address = try MetricsAddress(parsing: metrics, allowNonLoopback: metricsPublic)
            let server = MetricsServer(version: NymbusVersion.current) { await daemon.statusNumbers() }
            let port = try await server.start(address: address)
            print("metrics: http://\(MetricsAddress(host: address.host, port: port))/metrics")
            exporter = server
        }
        print("connecting to nym-client…")
        fflush(nil)
        if let signal = try await untilSignal(signals, { try await daemon.start() }) {
            print("received signal \(signal) while starting; stopping")
            await Self.stop(daemon, exporter, within: stopTimeout, logger: logger)
            return
        }
        if let address = await daemon.advertisedAddress {
            print("node address: \(address)")
        } else {
            print("node is hidden: it gives out no address")
        }
        print("broker: redis-cli -s \(daemon.broker.socketPath)")
        fflush(nil)
        let signal = await signals.next()
        print("\nreceived signal \(signal ?? 0); stopping")
        fflush(nil)
        await Self.stop(daemon, exporter, within: stopTimeout, logger: logger)
        print("stopped")
    }

    /// Stops the daemon (broker closed first, so no new publishes; peers told bye; address book
    /// saved) but gives up after `timeout`, so a stuck link cannot keep a service manager waiting.
    private static func stop(_ daemon: NymbusDaemon, _ exporter: MetricsServer?, within timeout: Duration, logger: Logger) async {
        await exporter?.stop()
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            logger.error("the node did not stop within the stop timeout; exiting anyway", metadata: ["timeout": "\(timeout)"])
            Foundation.exit(1)
        }
        await daemon.stop()
        watchdog.cancel()
    }
}
