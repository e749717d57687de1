import NIOCore
import NIOWebSocket

/// What one WebSocket connection reports to its owner.
enum ConnectionEvent: Sendable {
    /// A complete binary message (continuation frames already joined).
    case binary([UInt8])
    /// A complete text message.
    case text(String)
    /// A protocol or I/O error; the channel is being closed.
    case failure(String)
}

/// The last handler of an upgraded nym-client WebSocket: turns frames into `ConnectionEvent`s,
/// answers Ping with Pong and Close with Close (both masked, as a client must), and finishes the
/// event stream when the channel goes away. It holds no state beyond that; the actor decides.
final class WebSocketConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let events: AsyncStream<ConnectionEvent>.Continuation
    private var sentClose = false

    init(events: AsyncStream<ConnectionEvent>.Continuation) { self.events = events }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary:
            events.yield(.binary(Array(frame.unmaskedData.readableBytesView)))
        case .text:
            events.yield(.text(String(decoding: frame.unmaskedData.readableBytesView, as: UTF8.self)))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            guard !sentClose else {
                context.close(promise: nil)
                return
            }
            sentClose = true
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode() ?? .normalClosure
            var reply = context.channel.allocator.buffer(capacity: 2)
            reply.write(webSocketErrorCode: code)
            let close = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: reply)
            context.writeAndFlush(wrapOutboundOut(close)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            events.yield(.failure("unexpected WebSocket opcode \(frame.opcode)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        events.finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        events.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        events.yield(.failure(ErrorText.withoutAddress(error)))
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension WebSocketConnectionHandler: Sendable {}
