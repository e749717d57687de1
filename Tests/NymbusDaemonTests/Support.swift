import Foundation
import Logging
import NIOConcurrencyHelpers
import NymbusBroker
import NymbusDaemon
import NymbusPubSub
import NymbusTestSupport
import Testing

/// Records every log line (message and metadata, unredacted) for assertions.
final class LogCapture: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    var all: [String] { lines.withLockedValue { $0 } }

    func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) { lines.withLockedValue { $0.append(line) } }
}

private struct CapturingHandler: LogHandler {
    let capture: LogCapture
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append("\(event.level) \(event.message) \(merged)")
    }
}

/// The next pub/sub message on `connection`, or nil after `timeout`.
func nextMessage(_ connection: BrokerConnection, timeout: Duration = .seconds(30)) async -> BrokerConnection.Message? {
    await withTaskGroup(of: BrokerConnection.Message?.self) { group in
        group.addTask { try? await connection.nextMessage() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        return await group.next() ?? nil
    }
}

/// Subscribes on a broker and waits until the daemon's topic layer listens to the topic.
func subscribe(_ daemon: NymbusDaemon, channel: String, topic: Topic) async throws -> BrokerConnection {
    let connection = try await BrokerConnection.connect(path: daemon.broker.socketPath)
    let reply = try await connection.command("SUBSCRIBE", channel)
    #expect(reply.elements?.first?.text == "subscribe")
    let listening = await eventually { await daemon.pubsub.subscribedTopics.contains(topic) }
    #expect(listening, "the topic layer never subscribed to \(channel)")
    return connection
}
