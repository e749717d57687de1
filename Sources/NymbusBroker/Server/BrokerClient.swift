import NIOCore

/// Where a client's bytes go: the connection handler in the server, a recorder in unit tests.
protocol BrokerClientOutput: AnyObject {
    /// Queues `buffer` for the client. `flush` sends it at once (fan-out); otherwise it goes out
    /// with the flush at the end of the current batch of commands.
    func send(_ buffer: ByteBuffer, flush: Bool)
    /// Closes the connection (broker shutting down); nil when there is nothing to wait for.
    func close() -> EventLoopFuture<Void>?
}

/// One connected client as the broker sees it: identity, protocol, subscriptions.
///
/// Lives on the broker's event loop only (not `Sendable`), like everything in ``BrokerState``.
final class BrokerClient {
    /// Unique, increasing from 1, as `CLIENT ID` reports.
    let id: Int64
    /// `CLIENT SETNAME` / `HELLO ... SETNAME`; nil when unset.
    var name: [UInt8]?
    /// `CLIENT SETINFO LIB-NAME` (redis-py sends it on connect).
    var libraryName: [UInt8]?
    /// `CLIENT SETINFO LIB-VER`.
    var libraryVersion: [UInt8]?
    /// RESP2 until `HELLO 3`.
    var protocolVersion: RESPProtocolVersion = .resp2
    /// Subscribed channels, each with the order it was subscribed in.
    var channels: [[UInt8]: UInt64] = [:]
    /// Subscribed patterns, each with the order it was subscribed in.
    var patterns: [[UInt8]: UInt64] = [:]
    /// Source of the order numbers above.
    var nextSequence: UInt64 = 0
    /// When the client connected, for `CLIENT LIST`'s `age`.
    let connectedAt: ContinuousClock.Instant
    /// The connection; weak so a closed connection is not kept alive by the registry.
    weak var output: (any BrokerClientOutput)?

    init(id: Int64, output: any BrokerClientOutput) {
        self.id = id
        self.output = output
        self.connectedAt = .now
    }

    /// Channel plus pattern subscriptions: the count Redis reports in (un)subscribe replies.
    var subscriptionCount: Int { channels.count + patterns.count }

    /// Whether the client is in subscribed mode (RESP2 then only accepts the pub/sub commands).
    var isSubscribed: Bool { subscriptionCount > 0 }

    /// Encodes `value` for this client's protocol and queues it.
    func reply(_ value: RESPValue) {
        guard let output else { return }
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        RESPWriter.write(value, version: protocolVersion, into: &buffer)
        output.send(buffer, flush: false)
    }

    /// Queues a pub/sub confirmation (`subscribe`, `unsubscribe`, ...): a push frame in RESP3.
    func replyPubSub(_ kind: StaticString, _ name: [UInt8]?) {
        guard let output else { return }
        var buffer = ByteBufferAllocator().buffer(capacity: 32 + (name?.count ?? 0))
        RESPWriter.writePubSubFrame(
            kind: kind, parts: [name], count: Int64(subscriptionCount), version: protocolVersion, into: &buffer)
        output.send(buffer, flush: false)
    }

    /// Takes the next order number for a new subscription.
    func takeSequence() -> UInt64 {
        nextSequence += 1
        return nextSequence
    }
}
