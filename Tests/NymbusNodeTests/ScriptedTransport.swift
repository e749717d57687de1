import Logging
import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusTransport
import NymbusWire
import Testing

@testable import NymbusNode

/// One message a node handed to its transport.
struct Sent: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case send(Recipient)
        case anonymous(Recipient, surbs: UInt32)
        case reply(SenderTag)
    }
    let kind: Kind
    let bytes: [UInt8]

    var envelope: Envelope? { try? Envelope.decode(bytes) }
    var message: Message? { envelope?.message }
}

/// A transport for driving ONE node from a test: records what it sends and lets the test
/// inject what it receives. Cross-node tests use the local mixnet instead.
final class ScriptedTransport: MixnetTransport {
    let address: Recipient
    let inbound: AsyncStream<ReceivedMessage>
    private let feed: AsyncStream<ReceivedMessage>.Continuation
    let log = SentLog()
    /// What was injected and the node has not finished handling, as nym-client's connection keeps it.
    let inboundBacklog: InboundBacklog? = InboundBacklog(capacity: 4096)

    init(address: Recipient = .random()) {
        self.address = address
        (inbound, feed) = AsyncStream.makeStream(of: ReceivedMessage.self)
    }

    func selfAddress() async throws(TransportError) -> Recipient { address }
    func send(_ message: [UInt8], to recipient: Recipient) async throws(TransportError) {
        await log.append(Sent(kind: .send(recipient), bytes: message))
    }
    func sendAnonymous(_ message: [UInt8], to recipient: Recipient, replySurbs: UInt32) async throws(TransportError) {
        await log.append(Sent(kind: .anonymous(recipient, surbs: replySurbs), bytes: message))
    }
    func reply(_ message: [UInt8], to tag: SenderTag) async throws(TransportError) {
        await log.append(Sent(kind: .reply(tag), bytes: message))
    }

    /// Delivers raw bytes to the node.
    func inject(_ bytes: [UInt8], tag: SenderTag? = nil) {
        inboundBacklog?.arrived(at: .now)
        feed.yield(ReceivedMessage(data: bytes, senderTag: tag))
    }
    /// Delivers one envelope to the node.
    func inject(_ message: Message, session: SessionID, tag: SenderTag? = nil) {
        inject(Envelope(sessionID: session, message: message).encode(), tag: tag)
    }
}

actor SentLog {
    private(set) var all: [Sent] = []
    func append(_ s: Sent) { all.append(s) }

    /// Waits (polling) until `count` messages match, or fails after `timeout` (an upper bound
    /// for a loaded machine: it returns as soon as the messages are there).
    func waitFor(
        _ count: Int = 1, timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation,
        where match: @Sendable (Sent) -> Bool
    ) async -> [Sent] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = all.filter(match)
            if found.count >= count { return found }
            try? await Task.sleep(for: .milliseconds(10))
        }
        Issue.record(
            "timed out waiting for \(count) matching sent messages; have \(all.count): \(all.map { $0.message.map { "\($0.command)" } ?? "?" })",
            sourceLocation: sourceLocation)
        return all.filter(match)
    }
}

/// A node configuration for tests: production timers on a manual clock, no automatic timer
/// ticks (the test runs them with `ManualClock.advance(by:running:)`), no outbound dialing.
///
/// Nothing in such a node depends on elapsed wall time, so a test behaves the same on a loaded
/// machine. (`start()` still runs the timers once, which dials bootstrap peers if asked.)
func testConfiguration(_ mode: NodeConfiguration.Mode = .visible, clock: ManualClock = ManualClock())
    -> NodeConfiguration
{
    var c = NodeConfiguration(mode: mode)
    c.clock = clock.nodeClock
    c.maintenanceInterval = .seconds(365 * 86_400)
    c.outboundTarget = 0
    return c
}

func testLogger(_ label: String = "test") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}
