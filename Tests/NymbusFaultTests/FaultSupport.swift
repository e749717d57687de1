import Foundation
import Logging
import NymbusBroker
import NymbusCrypto
import NymbusDaemon
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymbusTestSupport
import NymbusWire
import NymClient
import Testing

/// Logs nothing, unless `NYMBUS_FAULT_LOG` names a level (`debug`, `info`, ...): then to stderr.
func faultLogger(_ label: String) -> Logger {
    guard let name = ProcessInfo.processInfo.environment["NYMBUS_FAULT_LOG"],
        let level = Logger.Level(rawValue: name)
    else {
        return Logger(label: label) { _ in SwiftLogNoOpLogHandler() }
    }
    var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = level
    return logger
}

/// Payloads that arrived more than once, and expected payloads that never arrived.
struct MultisetCheck: CustomStringConvertible {
    var duplicated: [String: Int] = [:]
    var missing: [String] = []
    var unexpected: [String] = []

    /// Compares `got` against `expected` (each expected payload exactly once).
    init(got: [String], expected: Set<String>, allowedMissing: Set<String> = []) {
        var counts: [String: Int] = [:]
        for payload in got { counts[payload, default: 0] += 1 }
        duplicated = counts.filter { $0.value > 1 }
        missing = expected.subtracting(counts.keys).subtracting(allowedMissing).sorted()
        unexpected = Set(counts.keys).subtracting(expected).sorted()
    }

    var isExact: Bool { duplicated.isEmpty && missing.isEmpty && unexpected.isEmpty }

    var description: String {
        "duplicated \(duplicated.sorted { $0.key < $1.key }), missing \(missing), unexpected \(unexpected)"
    }
}

/// Every payload a topic subscription delivers, as text, in arrival order.
actor DeliveryLog {
    private(set) var payloads: [String] = []
    private var task: Task<Void, Never>?

    /// Starts draining `subscription` into the log.
    static func start(_ subscription: Subscription) async -> DeliveryLog {
        let log = DeliveryLog()
        await log.run(subscription)
        return log
    }

    private func run(_ subscription: Subscription) {
        task = Task { [weak self] in
            for await delivery in subscription { await self?.add(String(decoding: delivery.payload, as: UTF8.self)) }
        }
    }

    private func add(_ payload: String) { payloads.append(payload) }

    /// Whether every payload in `expected` has arrived (at least once).
    func contains(all expected: some Sequence<String>) -> Bool { Set(payloads).isSuperset(of: expected) }

    func stop() { task?.cancel() }
}

/// A local program subscribed to one channel on a node's broker socket, recording every message.
actor BrokerSubscriber {
    let connection: BrokerConnection
    private(set) var payloads: [String] = []
    private var task: Task<Void, Never>?

    private init(connection: BrokerConnection) { self.connection = connection }

    /// Connects to `daemon`'s broker, subscribes to `channel`, and waits until the node's topic
    /// layer listens to `topic` (so nothing published afterwards can be missed locally).
    static func start(_ daemon: NymbusDaemon, channel: String, topic: Topic) async throws -> BrokerSubscriber {
        let connection = try await BrokerConnection.connect(path: daemon.broker.socketPath)
        let reply = try await connection.command("SUBSCRIBE", channel)
        #expect(reply.elements?.first?.text == "subscribe")
        let listening = await eventually { await daemon.pubsub.subscribedTopics.contains(topic) }
        #expect(listening, "the topic layer never subscribed to \(channel)")
        let subscriber = BrokerSubscriber(connection: connection)
        await subscriber.run()
        return subscriber
    }

    private func run() {
        let connection = self.connection
        task = Task { [weak self] in
            while let message = try? await connection.nextMessage() {
                await self?.add(String(decoding: message.payload, as: UTF8.self))
            }
        }
    }

    private func add(_ payload: String) { payloads.append(payload) }

    /// Whether every payload in `expected` has arrived (at least once).
    func contains(all expected: some Sequence<String>) -> Bool { Set(payloads).isSuperset(of: expected) }

    func close() async {
        task?.cancel()
        await connection.close()
    }
}
