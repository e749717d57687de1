import ArgumentParser
import Foundation
import Logging
import NymClient
import NymbusDaemon
import NymbusNode
import NymbusBroker
import NymbusPubSub

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

    @Option(name: .customLong("max-payload"), help: "Largest payload a publish may carry, in bytes.")
    var maxPayload: Int = 65536

    func validate() throws {
        guard (1...(64 * 1024)).contains(maxPayload) else {
            throw ValidationError("--max-payload must be within 1...65536 bytes (the object limit of the overlay)")
        }
    }

    func run() async throws {
        let logger = logging.bootstrap(label: "nymbus")
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        let directory = node.resolvedDataDirectory
        var configuration = DaemonConfiguration(
            nymClient: try NymClientConfiguration(url: node.nymClient), node: try node.nodeConfiguration(),
            socketPath: socket ?? (directory as NSString).appendingPathComponent("nymbus.sock"), dataDirectory: directory)
        configuration.pubsub.maxPayloadBytes = maxPayload
        let daemon = try NymbusDaemon(configuration: configuration, logger: logger)
        print("connecting to nym-client…")
        fflush(nil)
        if let signal = try await untilSignal(signals, { try await daemon.start() }) {
            print("received signal \(signal) while starting; stopping")
            await daemon.stop()
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
        await daemon.stop()
    }
}
