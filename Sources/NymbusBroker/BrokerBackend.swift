/// What the broker needs from the overlay: the boundary between local clients and the network.
///
/// The broker owns local subscriptions and fan-out; the backend (the topic layer in a node, or
/// ``LoopbackBrokerBackend`` for a standalone broker) owns everything that leaves the machine.
/// In the other direction the overlay calls ``BrokerServer/deliver(channel:payload:)`` when an
/// object for a channel arrives from the network.
///
/// The broker calls the backend from its event loop through Swift tasks; a slow method delays
/// the calling client only (its later commands wait, so replies stay in order), never others.
public protocol BrokerBackend: Sendable {
    /// Publishes what local clients sent with `PUBLISH channel payload`: one message, or a run
    /// of consecutive PUBLISH commands one client pipelined, in order.
    ///
    /// Called before the broker delivers the messages to local subscribers. The result has one
    /// entry per message: `nil` for accepted, the error for refused. A refused message gets
    /// `-ERR <reason>` and is delivered to nobody, locally included, so "published" always means
    /// "accepted by the overlay". It should return once the messages are accepted (queued for
    /// flooding), not when they reached peers. The backend must not hand the same messages back
    /// through `deliver`: the broker has already delivered them locally (the only local delivery).
    /// A pipelining publisher costs one hop to the backend per batch rather than per message.
    ///
    /// Errors are ``BrokerBackendError``s whose reason is shown to the client, e.g.
    /// `topic is private and not joined` or `payload over 65536 bytes`.
    func publish(_ messages: [BrokerMessage]) async -> [BrokerBackendError?]

    /// Publishes a run of pipelined messages without suspending, when the backend can decide at
    /// once; nil sends the run through ``publish(_:)`` instead.
    ///
    /// Same contract as ``publish(_:)`` (one entry per message, `nil` for accepted). It is called
    /// on the broker's event loop, so it must return quickly and never block: a backend answers
    /// here when accepting needs no waiting (a loopback broker always; a node when it knows the
    /// topic and its publish queue has room) and returns nil when it would have to wait. The
    /// default returns nil. A publisher that never leaves the event loop costs no thread hop, which
    /// is most of what a pipelined PUBLISH costs otherwise.
    func publishImmediately(_ messages: [BrokerMessage]) -> [BrokerBackendError?]?

    /// The complete set of channels and patterns local clients are subscribed to, sent after
    /// every change (first subscriber of a channel or pattern, or last one gone).
    ///
    /// Calls arrive one at a time, in order; when changes come faster than the backend handles
    /// them, intermediate sets are skipped and only the newest is delivered.
    func interestChanged(channels: Set<[UInt8]>, patterns: Set<[UInt8]>) async

    /// Runs a Nymbus command, any command whose name starts with `NYMBUS.` (`NYMBUS.JOIN invite`,
    /// `NYMBUS.TOPIC NEW name`, `NYMBUS.PEERS`, `NYMBUS.STATUS`, ...).
    ///
    /// - Parameter arguments: the whole command; the first element is the command name in upper
    ///   case ASCII (e.g. `NYMBUS.JOIN`), the others are the arguments exactly as sent.
    /// - Returns: the reply; RESP3-only types are downgraded for RESP2 clients (see ``RESPValue``).
    /// - Throws: ``BrokerBackendError``; the client gets `-ERR <reason>`.
    func nymbusCommand(_ arguments: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue

    /// Where a local `XADD` to `channel` goes besides the local stream: ``StreamDestination/local``
    /// (nothing leaves: a standalone broker) or ``StreamDestination/overlay`` (the entry is kept in
    /// the outbox, in the same transaction as the entry, and sent as an object of the topic).
    ///
    /// Called on the broker's event loop, so it must answer at once. Throwing refuses the XADD
    /// (`-ERR <reason>`), e.g. for a private topic that is not joined or an entry over the limit.
    func streamDestination(channel: [UInt8], payloadBytes: Int) throws(BrokerBackendError) -> StreamDestination

    /// The complete set of stream keys (channels the node keeps a stream for), sent at start and
    /// after every change; a node listens to each as a topic so it can append what arrives.
    /// Like ``interestChanged(channels:patterns:)``, only the newest set is delivered.
    func streamsChanged(_ channels: Set<[UInt8]>) async

    /// New items are in the outbox (their transaction committed): send them. Called on the
    /// broker's event loop; must not block.
    func outboxReady()
}

/// Where a local XADD's entry goes besides the local stream.
public enum StreamDestination: Sendable, Equatable {
    /// Only the local stream (a broker without an overlay).
    case local
    /// Also to every node of the topic: through the durable outbox.
    case overlay
}

extension BrokerBackend {
    /// Streams stay local.
    public func streamDestination(channel: [UInt8], payloadBytes: Int) throws(BrokerBackendError) -> StreamDestination {
        .local
    }

    /// Ignores stream keys.
    public func streamsChanged(_ channels: Set<[UInt8]>) async {}

    /// Nothing to send.
    public func outboxReady() {}

    /// Never answers at once: every publish goes through ``publish(_:)``.
    public func publishImmediately(_ messages: [BrokerMessage]) -> [BrokerBackendError?]? { nil }
}

/// One message a local client published: a channel (topic name) and its payload, both raw bytes.
public struct BrokerMessage: Hashable, Sendable {
    /// The channel, as the client sent it.
    public var channel: [UInt8]
    /// The payload, binary safe.
    public var payload: [UInt8]
    /// The connection that published it (its `CLIENT ID`): receivers keep the order of one
    /// publisher's messages on a channel (spec/broker.md "Order").
    public var publisher: UInt64

    /// Creates a message.
    public init(channel: [UInt8], payload: [UInt8], publisher: UInt64 = 0) {
        self.channel = channel
        self.payload = payload
        self.publisher = publisher
    }
}
