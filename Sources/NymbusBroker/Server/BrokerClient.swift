import NIOCore

/// Where a client's bytes go: the connection handler in the server, a recorder in unit tests.
protocol BrokerClientOutput: AnyObject {
    /// Queues `buffer` for the client; it goes out with the next `flush()` (the end of the
    /// current batch of commands, or of the fan-out).
    func send(_ buffer: ByteBuffer)
    /// Sends what `send(_:)` and `appendReply(_:)` queued.
    func flush()
    /// Closes the connection (broker shutting down); nil when there is nothing to wait for.
    func close() -> EventLoopFuture<Void>?
    /// Queues a reply that `write` encodes straight into the client's output, saving a buffer
    /// per reply; sent like `send(_:)`.
    func appendReply(_ write: (inout ByteBuffer) -> Void)
}

extension BrokerClientOutput {
    /// Encodes into a buffer of its own and sends it.
    func appendReply(_ write: (inout ByteBuffer) -> Void) {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        write(&buffer)
        send(buffer)
    }
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
    /// Commands queued since MULTI; nil outside a transaction.
    var transaction: [[[UInt8]]]?
    /// Argument bytes queued since MULTI.
    var transactionBytes = 0
    /// A queued command was refused (unknown, wrong arity): EXEC will abort.
    var transactionFailed = false
    /// EXEC is running the queued commands: replies are captured, the subscribed-mode rule is off.
    var isExecuting: Bool { capturedReplies != nil }
    /// Replies captured during EXEC, sent as one array when it ends.
    var capturedReplies: [ByteBuffer]?
    /// When the client connected, for `CLIENT LIST`'s `age`.
    let connectedAt: ContinuousClock.Instant
    /// Replies of a running stream command, held until its changes are stored.
    var heldReplies: [RESPValue]?
    /// Lets a parked stream read's connection go on (set by the connection handler).
    var resume: (() -> Void)?
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
        if heldReplies != nil {
            heldReplies?.append(value)
            return
        }
        let version = protocolVersion
        guard capturedReplies == nil else {
            var buffer = ByteBufferAllocator().buffer(capacity: 64)
            RESPWriter.write(value, version: version, into: &buffer)
            deliverReply(buffer)
            return
        }
        output?.appendReply { RESPWriter.write(value, version: version, into: &$0) }
    }

    /// Queues a pub/sub confirmation (`subscribe`, `unsubscribe`, ...): a push frame in RESP3.
    func replyPubSub(_ kind: StaticString, _ name: [UInt8]?) {
        var buffer = ByteBufferAllocator().buffer(capacity: 32 + (name?.count ?? 0))
        RESPWriter.writePubSubFrame(
            kind: kind, parts: [name], count: Int64(subscriptionCount), version: protocolVersion, into: &buffer)
        deliverReply(buffer)
    }

    private func deliverReply(_ buffer: ByteBuffer) {
        if capturedReplies != nil {
            capturedReplies?.append(buffer)
        } else {
            output?.send(buffer)
        }
    }

    /// Starts capturing replies (EXEC).
    func beginExec() { capturedReplies = [] }

    /// Stops capturing and sends `*count` followed by every captured reply, as EXEC's reply.
    func endExec(commandCount: Int) {
        let replies = capturedReplies ?? []
        capturedReplies = nil
        var buffer = ByteBufferAllocator().buffer(capacity: 16 + replies.reduce(0) { $0 + $1.readableBytes })
        buffer.writeString("*\(commandCount)\r\n")
        for var reply in replies { buffer.writeBuffer(&reply) }
        output?.send(buffer)
    }

    /// Takes the next order number for a new subscription.
    func takeSequence() -> UInt64 {
        nextSequence += 1
        return nextSequence
    }
}
