import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A RESP client for a Nymbus broker (or any Redis server) on a Unix socket.
///
/// This is the Swift client for local programs and the `nymbus publish|subscribe|status`
/// commands: send a command and await its reply, or subscribe and iterate messages. Replies are
/// parsed with the broker's own bounded parser. Use one reader at a time.
public final class BrokerConnection: Sendable {
    /// A pub/sub message received after `SUBSCRIBE` / `PSUBSCRIBE`.
    public struct Message: Sendable, Equatable {
        /// The pattern that matched, for `pmessage`; nil for `message`.
        public var pattern: [UInt8]?
        public var channel: [UInt8]
        public var payload: [UInt8]
    }

    private let channel: any Channel
    private let replies: ReplyBuffer

    private init(channel: any Channel, replies: ReplyBuffer) {
        self.channel = channel
        self.replies = replies
    }

    /// Connects to the socket at `path`.
    public static func connect(path: String, limits: RESPLimits = .default) async throws -> BrokerConnection {
        let replies = ReplyBuffer()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyHandler(replies: replies, limits: limits))
                }
            }
            .connect(unixDomainSocketPath: path).get()
        return BrokerConnection(channel: channel, replies: replies)
    }

    /// Sends one command without waiting for its reply.
    public func send(_ arguments: [[UInt8]]) async throws {
        var buffer = channel.allocator.buffer(capacity: 64)
        RESPWriter.writeCommand(arguments, into: &buffer)
        try await channel.writeAndFlush(buffer)
    }

    /// Sends several commands in one write without waiting for their replies (pipelining): the
    /// replies come back in order through ``nextValue()``.
    public func send(pipelined commands: [[[UInt8]]]) async throws {
        var buffer = channel.allocator.buffer(capacity: 64 * commands.count)
        for arguments in commands { RESPWriter.writeCommand(arguments, into: &buffer) }
        try await channel.writeAndFlush(buffer)
    }

    /// Sends one command and returns its reply (an `.error` reply is returned, not thrown).
    public func command(_ arguments: [[UInt8]]) async throws -> RESPValue {
        try await send(arguments)
        return try await nextValue()
    }

    /// Convenience: a command given as strings.
    public func command(_ arguments: String...) async throws -> RESPValue {
        try await command(arguments.map { Array($0.utf8) })
    }

    /// The next value the server sends (a reply or a pushed message).
    public func nextValue() async throws -> RESPValue { try await replies.next() }

    /// The next pub/sub message (`message`, `pmessage`, or `smessage` of SSUBSCRIBE), skipping
    /// subscribe confirmations; nil when the connection ends.
    public func nextMessage() async throws -> Message? {
        while true {
            let value: RESPValue
            do { value = try await nextValue() } catch BrokerConnectionError.closed { return nil }
            if case .error(let text) = value { throw BrokerConnectionError.server(text) }
            guard let parts = value.elements, let kind = parts.first?.text else { continue }
            if kind == "message" || kind == "smessage", parts.count == 3, let channel = parts[1].bytes,
                let payload = parts[2].bytes
            {
                return Message(pattern: nil, channel: channel, payload: payload)
            }
            if kind == "pmessage", parts.count == 4, let pattern = parts[1].bytes, let channel = parts[2].bytes,
                let payload = parts[3].bytes
            {
                return Message(pattern: pattern, channel: channel, payload: payload)
            }
        }
    }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }
}

/// Why a `BrokerConnection` call failed.
public enum BrokerConnectionError: Error, Equatable, CustomStringConvertible {
    /// The server closed the connection.
    case closed
    /// The server answered with an error.
    case server(String)
    /// The server sent bytes that are not RESP.
    case protocolError(String)

    public var description: String {
        switch self {
        case .closed: "the broker closed the connection"
        case .server(let text): text
        case .protocolError(let text): "protocol error: \(text)"
        }
    }
}

/// Values parsed on the event loop, handed to one awaiting reader in order.
private final class ReplyBuffer: Sendable {
    private struct State {
        var values: [Result<RESPValue, BrokerConnectionError>] = []
        var head = 0
        var waiter: CheckedContinuation<RESPValue, any Error>?
        var finished: BrokerConnectionError?
    }
    private let state = NIOLockedValueBox(State())

    func push(_ value: RESPValue) {
        let waiter: CheckedContinuation<RESPValue, any Error>? = state.withLockedValue { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.values.append(.success(value))
            return nil
        }
        waiter?.resume(returning: value)
    }

    func finish(_ error: BrokerConnectionError) {
        let waiter: CheckedContinuation<RESPValue, any Error>? = state.withLockedValue { state in
            guard state.finished == nil else { return nil }
            state.finished = error
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: error)
    }

    /// The next value; cancelling the waiting task ends the wait with `CancellationError`
    /// (the value, when it comes, stays queued for the next reader).
    func next() async throws -> RESPValue {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<RESPValue, any Error>? = state.withLockedValue { state in
                    if state.head < state.values.count {
                        defer {
                            state.head += 1
                            if state.head > 1024, state.head * 2 > state.values.count {
                                state.values.removeFirst(state.head)
                                state.head = 0
                            }
                        }
                        return state.values[state.head].mapError { $0 as any Error }
                    }
                    if let finished = state.finished { return .failure(finished) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<RESPValue, any Error>? = state.withLockedValue { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}

/// Parses RESP values from the socket into the reply buffer.
private final class ReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let replies: ReplyBuffer
    private let limits: RESPLimits
    private var buffer = ByteBuffer()

    init(replies: ReplyBuffer, limits: RESPLimits) {
        self.replies = replies
        self.limits = limits
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        buffer.writeBuffer(&chunk)
        do {
            while let value = try RESPValueParser.parse(&buffer, limits: limits) { replies.push(value) }
            buffer.discardReadBytes()
        } catch {
            replies.finish(.protocolError("\(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        replies.finish(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        replies.finish(.closed)
        context.close(promise: nil)
    }
}
