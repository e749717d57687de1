import ArgumentParser
import Foundation
import Logging
import NymbusBroker

/// `nymbus broker`: the broker alone, without a node: pub/sub between local programs and durable
/// streams in `<data-dir>/streams.sqlite`, like a local redis-server.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the local broker alone (no overlay): pub/sub and durable streams for local programs.",
        discussion: """
            Streams are kept in <data-dir>/streams.sqlite (SQLite, WAL mode, mode 0600). Stop with Ctrl-C.
            """)

    @OptionGroup var logging: LoggingOptions

    @Option(name: .long, help: "Broker socket path.")
    var socket: String

    @Option(name: .customLong("data-dir"), help: "Directory for streams.sqlite (created 0700); none keeps streams in memory.")
    var dataDirectory: String?

    @Option(name: .customLong("appendfsync"), help: "When stream writes are synced: always, everysec or no.")
    var fsync: String = "everysec"

    func run() async throws {
        let logger = logging.bootstrap(label: "nymbus")
        guard let policy = StreamFsyncPolicy(rawValue: fsync) else {
            throw ValidationError("--appendfsync must be always, everysec or no")
        }
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        var store: SQLiteStreamStore?
        if let dataDirectory {
            try FileManager.default.createDirectory(
                atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            store = try SQLiteStreamStore(path: dataDirectory + "/streams.sqlite", fsync: policy)
        }
        let broker = BrokerServer(
            configuration: BrokerConfiguration(socketPath: socket), backend: LoopbackBrokerBackend(), logger: logger,
            streamStore: store)
        try await broker.start()
        print("broker: redis-cli -s \(socket)")
        fflush(nil)
        let signal = await signals.next()
        print("\nreceived signal \(signal ?? 0); stopping")
        await broker.stop()
        store?.close()
    }
}
