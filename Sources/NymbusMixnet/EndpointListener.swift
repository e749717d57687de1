import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Opens one endpoint's listening socket: HTTP/1.1 upgraded to a WebSocket, nym-client's limits,
/// and nym-client's one-connection rule.
///
/// Like nym-client's `listener.rs`, the endpoint serves one WebSocket client at a time: a TCP
/// connection that arrives while another is open is closed before any handshake. Every child
/// channel runs on the listener's single event loop, so the occupancy flag needs no lock.
enum EndpointListener {
    /// Largest WebSocket frame accepted (tungstenite 0.20.1's `max_frame_size`).
    static let maximumFrameSize = 16 << 20
    /// Largest WebSocket message accepted (tungstenite 0.20.1's `max_message_size`).
    static let maximumMessageSize = 64 << 20
    /// Most fragments one message may arrive in.
    static let maximumFragments = 1 << 16

    private static let rejectHandlerName = "nymbus-mixnet-reject-http"

    /// Binds `host:port` (0 picks a free port) on `loop`. Each accepted connection gets an
    /// ordered stream of its events, handed to `accept` before the handshake starts.
    static func bind(
        host: String, port: Int, on loop: any EventLoop,
        accept: @escaping @Sendable (AsyncStream<ConnectionEvent>) -> Void
    ) async throws -> any Channel {
        let occupied = NIOLoopBoundBox.makeBoxSendingValue(false, eventLoop: loop)
        return try await ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // On `loop`: the server's only event loop.
                if occupied.value {
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RefuseConnectionHandler())
                    }
                }
                occupied.value = true
                let (events, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
                channel.closeFuture.whenComplete { _ in
                    occupied.value = false
                    continuation.yield(.closed)
                    continuation.finish()
                }
                accept(events)
                return configure(channel, events: continuation)
            }
            .bind(host: host, port: port)
            .get()
    }

    private static func configure(_ channel: any Channel, events: AsyncStream<ConnectionEvent>.Continuation)
        -> EventLoopFuture<Void>
    {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: maximumFrameSize, automaticErrorHandling: true,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in
                channel.pipeline.removeHandler(name: rejectHandlerName).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(RequireMaskedFramesHandler())
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: maximumFragments,
                            maxAccumulatedFrameSize: maximumMessageSize))
                    try channel.pipeline.syncOperations.addHandler(WebSocketEndpointHandler(events: events))
                }
            })
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
            try channel.pipeline.syncOperations.addHandler(RejectPlainHTTPHandler(), name: rejectHandlerName)
        }
    }
}

/// Ends the connection on a frame without a mask: RFC 6455 §5.1 requires clients to mask, and
/// tungstenite (`accept_unmasked_frames = false`) fails the read, which ends nym-client's handler.
private final class RequireMaskedFramesHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard Self.unwrapInboundIn(data).maskKey != nil else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}

/// Closes a connection as soon as it is active: the endpoint already serves another client.
private final class RefuseConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { context.close(promise: nil) }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Answers an HTTP request that is not a WebSocket upgrade with `400 Bad Request` and closes.
private final class RejectPlainHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var responded = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head = Self.unwrapInboundIn(data), !responded else { return }
        responded = true
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: "0")
        headers.add(name: "connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers)
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

@available(*, unavailable)
extension RequireMaskedFramesHandler: Sendable {}

@available(*, unavailable)
extension RefuseConnectionHandler: Sendable {}

@available(*, unavailable)
extension RejectPlainHTTPHandler: Sendable {}
