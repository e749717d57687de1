import NIOCore
import NIOWebSocket

/// Splits an outbound message into masked client frames of at most `maxFrameSize` bytes
/// (RFC 6455 §5.4 fragmentation, §5.3 masking: every client frame carries a fresh random key).
enum WebSocketFraming {
    static func frames(
        for message: [UInt8], opcode: WebSocketOpcode = .binary, maxFrameSize: Int,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> [WebSocketFrame] {
        let size = max(1, maxFrameSize)
        guard message.count > size else {
            return [
                WebSocketFrame(
                    fin: true, opcode: opcode, maskKey: .random(), data: allocator.buffer(bytes: message))
            ]
        }
        var frames: [WebSocketFrame] = []
        var offset = 0
        while offset < message.count {
            let end = min(message.count, offset + size)
            frames.append(
                WebSocketFrame(
                    fin: end == message.count, opcode: offset == 0 ? opcode : .continuation, maskKey: .random(),
                    data: allocator.buffer(bytes: message[offset..<end])))
            offset = end
        }
        return frames
    }

    /// A masked Close frame with status 1000 (normal closure).
    static func closeFrame(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> WebSocketFrame {
        var data = allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: .normalClosure)
        return WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
    }
}
