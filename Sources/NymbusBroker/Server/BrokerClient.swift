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
    /// Subscribed shard channels (SSUBSCRIBE), each with the order it was subscribed in.
    var shardChannels: [[UInt8]: UInt64] = [:]
    /// `CLIENT REPLY OFF` is in force: no replies (pushes still go out), as in Redis.
    var repliesOff = false
    /// `CLIENT REPLY SKIP` came: the next command's replies are dropped.
    var skipNextCommand = false
    /// The replies of the command running now are dropped (it followed `CLIENT REPLY SKIP`).
    var skippingCommand = false
    /// The PUBLISH being carried out is an SPUBLISH (its fan-out goes to shard subscribers).
    var shardPublishPending = false
    /// Push frames (messages) that arrived while this client's EXEC ran: they follow the EXEC
    /// reply, as in Redis 7.2.
    var heldPushes: [ByteBuffer] = []
    /// Where fan-out frames go while EXEC runs (see ``heldPushes``).
    private(set) lazy var pushHolder = HeldPushOutput(client: self)
    /// This connection's publisher tag per channel for XADD entries sent to other nodes
    /// (spec/broker.md "Order"); at most ``maxOutboxTags``.
    var outboxTags: [[UInt8]: UInt64] = [:]
    static let maxOutboxTags = 4096
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

    /// Whether the client is in subscribed mode (RESP2 then only accepts the pub/sub commands):
    /// any channel, pattern or shard channel subscription.
    var isSubscribed: Bool { subscriptionCount > 0 || !shardChannels.isEmpty }

    /// Whether replies are dropped now (`CLIENT REPLY OFF`, or `SKIP` before this command).
    var suppressesReplies: Bool { repliesOff || skippingCommand }

    /// Whether a PUBLISH from this client must take the general path through ``BrokerState``
    /// (EXEC capture, suppressed replies, SPUBLISH) rather than the connection's fast path.
    var needsGeneralPublishPath: Bool { isExecuting || suppressesReplies || skipNextCommand || shardPublishPending }

    /// Encodes `value` for this client's protocol and queues it (or drops it: CLIENT REPLY).
    func reply(_ value: RESPValue) {
        guard !suppressesReplies else { return }
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
    /// Sent also under `CLIENT REPLY OFF`, as Redis does. `count` defaults to the channel and
    /// pattern subscriptions (shard commands pass their own).
    func replyPubSub(_ kind: StaticString, _ name: [UInt8]?, count: Int? = nil) {
        var buffer = ByteBufferAllocator().buffer(capacity: 32 + (name?.count ?? 0))
        RESPWriter.writePubSubFrame(
            kind: kind, parts: [name], count: Int64(count ?? subscriptionCount), version: protocolVersion, into: &buffer)
        deliverReply(buffer)
    }

    private func deliverReply(_ buffer: ByteBuffer) {
        if capturedReplies != nil {
            capturedReplies?.append(buffer)
        } else {
            output?.send(buffer)
        }
    }

    /// Starts capturing replies (EXEC). Whether EXEC's own reply is dropped is decided now,
    /// as Redis writes the array header when EXEC starts.
    func beginExec() {
        capturedReplies = []
        execHeaderSuppressed = suppressesReplies
    }
    private var execHeaderSuppressed = false

    /// Stops capturing and sends `*count` followed by every captured reply, as EXEC's reply,
    /// then the messages that arrived meanwhile (Redis 7.2 sends pushes after the EXEC reply).
    func endExec(commandCount: Int) {
        let replies = capturedReplies ?? []
        capturedReplies = nil
        var buffer = ByteBufferAllocator().buffer(capacity: 16 + replies.reduce(0) { $0 + $1.readableBytes })
        if !execHeaderSuppressed { buffer.writeString("*\(commandCount)\r\n") }
        for var reply in replies { buffer.writeBuffer(&reply) }
        output?.send(buffer)
        let held = heldPushes
        heldPushes = []
        for push in held { output?.send(push) }
    }

    /// Takes the next order number for a new subscription.
    func takeSequence() -> UInt64 {
        nextSequence += 1
        return nextSequence
    }
}

/// The output fan-out uses for a client whose EXEC is running: frames are kept in
/// ``BrokerClient/heldPushes`` and sent after the EXEC reply.
final class HeldPushOutput: BrokerClientOutput {
    private unowned let client: BrokerClient

    init(client: BrokerClient) { self.client = client }

    func send(_ buffer: ByteBuffer) { client.heldPushes.append(buffer) }
    func flush() {}
    func close() -> EventLoopFuture<Void>? { nil }
}
