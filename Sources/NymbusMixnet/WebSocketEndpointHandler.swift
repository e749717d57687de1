import NIOCore
import NIOWebSocket

/// The last handler of an endpoint's WebSocket pipeline: passes complete data messages to the
/// mixnet actor (through an ordered stream), answers pings, and ends the connection on close
/// or on any protocol error (including the 16 MiB frame / 64 MiB message limits).
final class WebSocketEndpointHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let events: AsyncStream<ConnectionEvent>.Continuation
    private var closing = false

    init(events: AsyncStream<ConnectionEvent>.Continuation) {
        self.events = events
    }

    func handlerAdded(context: ChannelHandlerContext) {
        events.yield(.opened(context.channel))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .text:
            guard !closing else { return }
            let payload = frame.unmaskedData
            events.yield(.message(isText: frame.opcode == .text, bytes: Array(payload.readableBytesView)))
        case .ping:
            guard !closing else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            closeConnection(context: context, echoing: frame)
        default:
            // Reserved opcodes, or a continuation the aggregator let through: not valid here.
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Frame or message over the limits, bad fragments, invalid frames: drop the connection
        // the way tungstenite's read error ends nym-client's handler.
        context.close(promise: nil)
    }

    private func closeConnection(context: ChannelHandlerContext, echoing frame: WebSocketFrame) {
        guard !closing else {
            context.close(promise: nil)
            return
        }
        closing = true
        var data = frame.unmaskedData
        let code = data.readSlice(length: 2) ?? context.channel.allocator.buffer(capacity: 0)
        let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: code)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(Self.wrapOutboundOut(reply), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

@available(*, unavailable)
extension WebSocketEndpointHandler: Sendable {}
