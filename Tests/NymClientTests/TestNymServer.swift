import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import NymClient
import NymbusCrypto
import NymbusTransport

/// A tiny nym-client stand-in for the connection tests: a WebSocket server on loopback that
/// records every request frame, answers `selfAddress`, echoes sends addressed to itself as
/// `received`, pushes arbitrary frames, drops connections, and stops/restarts listening on the
/// same port.
final class TestNymServer: @unchecked Sendable {
    /// The fixed tag used when echoing `sendAnonymous` to self.
    static let echoTag = try! SenderTag(bytes: [UInt8](repeating: 0xAB, count: 16))

    private let lock = NSLock()
    private var serverChannel: (any Channel)?
    private var children: [ObjectIdentifier: any Channel] = [:]
    private var _address: Recipient
    private var _rawRequests: [[UInt8]] = []
    private var _accepted = 0
    private(set) var port = 0

    init(address: Recipient = Fixtures.recipient) { _address = address }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    var address: Recipient {
        get { locked { _address } }
        set { locked { _address = newValue } }
    }
    /// Every binary request frame received, in order, across connections.
    var rawRequests: [[UInt8]] { locked { _rawRequests } }
    /// The decoded requests (frames that failed to decode are left out).
    var requests: [ClientRequest] { rawRequests.compactMap { try? ClientRequest.decodeBinary($0) } }
    /// WebSocket connections accepted so far.
    var acceptedConnections: Int { locked { _accepted } }
    var openConnections: Int { locked { children.count } }

    /// Starts listening on `port` (0 = any free port) and returns the port.
    @discardableResult
    func start(port requested: Int = 0) async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOWebSocketServerUpgrader(
                        maxFrameSize: 16 << 20, automaticErrorHandling: true,
                        shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                        upgradePipelineHandler: { [self] channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandlers(
                                    MaskCheck(),
                                    NIOWebSocketFrameAggregator(
                                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16,
                                        maxAccumulatedFrameSize: 64 << 20),
                                    ServerHandler(server: self))
                            }
                        })
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                }
            }
            .bind(host: "127.0.0.1", port: requested).get()
        let bound = channel.localAddress?.port ?? requested
        locked {
            serverChannel = channel
            port = bound
        }
        return bound
    }

    /// Stops accepting new connections (open ones stay).
    func stopListening() async {
        let channel = locked { () -> (any Channel)? in
            defer { serverChannel = nil }
            return serverChannel
        }
        try? await channel?.close()
    }

    /// Closes every open WebSocket connection abruptly (TCP close, no Close frame).
    func dropConnections() async {
        let open = locked { Array(children.values) }
        for channel in open { try? await channel.close() }
    }

    /// Resets every open connection (SO_LINGER 0, so the close sends a TCP RST).
    func resetConnections() async {
        let open = locked { Array(children.values) }
        for channel in open {
            if let options = channel as? any SocketOptionProvider {
                try? await options.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            }
            try? await channel.close()
        }
    }

    /// Sends a binary frame to every open connection.
    func push(_ bytes: [UInt8]) async {
        let open = locked { Array(children.values) }
        for channel in open {
            let frame = WebSocketFrame(fin: true, opcode: .binary, data: channel.allocator.buffer(bytes: bytes))
            try? await channel.writeAndFlush(frame)
        }
    }

    /// Sends a response to every open connection.
    func push(_ response: ServerResponse) async { await push(response.encodeBinary()) }

    func shutdown() async {
        await stopListening()
        await dropConnections()
    }

    // MARK: Handler callbacks (on the event loop)

    fileprivate func opened(_ channel: any Channel) {
        locked {
            children[ObjectIdentifier(channel)] = channel
            _accepted += 1
        }
    }

    fileprivate func closed(_ channel: any Channel) {
        _ = locked { children.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Records a request and returns the responses to send back.
    fileprivate func handle(_ bytes: [UInt8]) -> [ServerResponse] {
        locked { _rawRequests.append(bytes) }
        let request: ClientRequest
        do { request = try ClientRequest.decodeBinary(bytes) } catch { return [error.response] }
        let me = address
        switch request {
        case .selfAddress:
            return [.selfAddress(me)]
        case .send(let recipient, let data, _) where recipient == me:
            return [.received(ReceivedMessage(data: data, senderTag: nil))]
        case .sendAnonymous(let recipient, let data, _, _) where recipient == me:
            return [.received(ReceivedMessage(data: data, senderTag: TestNymServer.echoTag))]
        default:
            return []
        }
    }
}

/// Server side of one upgraded connection.
private final class ServerHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let server: TestNymServer
    init(server: TestNymServer) { self.server = server }

    func handlerAdded(context: ChannelHandlerContext) { server.opened(context.channel) }
    func channelInactive(context: ChannelHandlerContext) {
        server.closed(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary:
            for response in server.handle(Array(frame.unmaskedData.readableBytesView)) {
                let out = WebSocketFrame(
                    fin: true, opcode: .binary, data: context.channel.allocator.buffer(bytes: response.encodeBinary()))
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
        case .connectionClose:
            let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(reply)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Closes the connection on any client frame without a masking key (RFC 6455 §5.3); it sits
/// before the aggregator, which drops the keys when it joins fragments.
private final class MaskCheck: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard unwrapInboundIn(data).maskKey != nil else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
