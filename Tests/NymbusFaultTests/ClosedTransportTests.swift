import Foundation
import Logging
import NymbusCrypto
import NymbusMixnet
import NymbusNode
import NymbusTestSupport
import NymbusWire
import NymClient
import Testing

/// Log lines (message and metadata) kept for assertions.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var all: [String] { lock.withLock { lines } }

    func logger(_ label: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: label) { _ in CapturingHandler(log: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ line: String) { lock.withLock { lines.append(line) } }
}

private struct CapturingHandler: LogHandler {
    let log: CapturedLog
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        log.append("\(event.level) \(event.message) \(merged)")
    }
}

/// The nym-client connection goes away under a running node (as when a daemon stops while a
/// relay is still sending): the node counts and logs each refused message and carries on.
@Suite struct ClosedTransportTests {
    /// Regression: logging a refused message interpolated its `Command`, whose `description`
    /// was `String(describing: self)`: infinite recursion, a stack overflow, the process gone
    /// (seen as a SIGSEGV when a churn test stopped nodes with logging on).
    @Test(.timeLimit(.minutes(1))) func refusedSendsAreLoggedAndCounted() async throws {
        var configuration = MixnetConfiguration()
        configuration.clientCount = 2
        configuration.hopDelay = .milliseconds(1)
        configuration.sendDelay = .zero
        let mixnet = try LocalMixnet(configuration: configuration, logger: faultLogger("mixnet"))
        try await mixnet.start()
        let endpoints = await mixnet.endpoints
        let log = CapturedLog()
        var nodes: [Node] = []
        var transports: [NymClientConnection] = []
        for index in 0..<2 {
            let transport = NymClientConnection(
                configuration: try NymClientConfiguration(url: endpoints[index].url), logger: faultLogger("nc"))
            try await transport.start()
            var node = NodeConfiguration()
            node.outboundTarget = 0
            let logger = index == 0 ? log.logger("node-0", level: .info) : faultLogger("node-1")
            let started = Node(transport: transport, configuration: node, logger: logger)
            try await started.start()
            nodes.append(started)
            transports.append(transport)
        }
        let peer = try await nodes[0].connect(to: endpoints[1].address)
        // `connect` returns as the link comes up; the `getaddr` that follows it may still be on
        // its way to the transport (on a loaded machine it was refused by the close below).
        #expect(await eventually { await nodes[0].statistics.messagesOut[.getaddr, default: 0] == 1 })

        await transports[0].close()
        // The link's outbox takes both (sends report the links that took a message); nym-client
        // then refuses each for good (its connection is closed), and each refusal is counted and
        // logged once: no retry loop.
        #expect(await nodes[0].sendTopicMessage(.object([1, 2, 3]), to: peer) == true)
        #expect(await nodes[0].sendTopicMessage(.object([4, 5, 6]), toEach: nodes[0].peers().map(\.id)).count == 1)
        #expect(await eventually { await nodes[0].statistics.sendFailures == 2 })
        #expect(await eventually { await nodes[0].sendQueues.messages == 0 })
        let statistics = await nodes[0].statistics
        #expect(statistics.sendFailures == 2)
        #expect(statistics.messagesOut[.object, default: 0] == 0)
        let refusals = log.all.filter { $0.contains("nym-client refused a message") }
        #expect(refusals.count == 2)
        #expect(refusals.allSatisfy { $0.contains("\"command\": object") }, "\(refusals)")
        #expect("\(statistics)".contains("getaddr"), "statistics print their commands by name")
        #expect(Command.allCases.map(\.description) == [
            "version", "verack", "ping", "pong", "getaddr", "addr", "reject", "bye", "object", "custom", "inv",
            "getdata", "prune", "graft", "syncrange", "syncget", "syncobject",
        ])
        for node in nodes { await node.stop() }
        await transports[1].close()
        await mixnet.stop()
    }
}
