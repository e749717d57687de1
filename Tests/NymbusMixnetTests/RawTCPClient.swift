import NIOCore
import NIOPosix
import NIOWebSocket

/// A plain TCP client for the tests that need bytes the WebSocket codec would never write:
/// hand-made handshakes, frame headers alone, unmasked frames.
struct RawTCPClient: Sendable {
    let channel: any Channel
    let inbox: FrameInbox

    static func connect(port: Int, group: any EventLoopGroup) async throws -> RawTCPClient {
        let inbox = FrameInbox()
        let (stream, continuation) = AsyncStream.makeStream(of: TestFrame.self)
        Task {
            for await chunk in stream { await inbox.push(chunk) }
            await inbox.finish()
        }
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.closeFuture.whenComplete { _ in continuation.finish() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteCollector(continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawTCPClient(channel: channel, inbox: inbox)
    }

    struct NotUpgraded: Error {
        let response: String
    }

    /// Connects and completes a hand-made WebSocket handshake, retrying while the endpoint still
    /// serves a previous connection (which closes new ones before any handshake).
    static func upgraded(port: Int, group: any EventLoopGroup, timeout: Duration = .seconds(10)) async throws
        -> RawTCPClient
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            var response = ""
            do {
                let client = try await connect(port: port, group: group)
                response = (try? await client.handshake()) ?? ""
                if response.hasPrefix("HTTP/1.1 101 Switching Protocols") { return client }
                await client.close()
            } catch {
                response = "\(error)"
            }
            if ContinuousClock.now >= deadline { throw NotUpgraded(response: response) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    /// Reads until `marker` has been seen (or close/timeout); returns everything read.
    func read(until marker: String, timeout: Duration = .seconds(10)) async -> String {
        var text = ""
        while !text.contains(marker), let chunk = await inbox.next(timeout: timeout) {
            text += String(decoding: chunk.bytes, as: UTF8.self)
        }
        return text
    }

    /// Performs a WebSocket handshake by hand; returns the server's response head.
    func handshake() async throws -> String {
        try await write(
            Array(
                ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
        return await read(until: "\r\n\r\n")
    }

    /// A client frame header: FIN + opcode, then the MASK bit with a 64-bit length and a zero mask
    /// key (so the payload bytes go on the wire as they are).
    static func maskedHeader(opcode: UInt8, length: Int, fin: Bool = true) -> [UInt8] {
        [(fin ? 0x80 : 0) | opcode, 0x80 | 127]
            + (0..<8).reversed().map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
            + [0, 0, 0, 0]
    }

    func close() async { try? await channel.close() }
}

private final class ByteCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let continuation: AsyncStream<TestFrame>.Continuation

    init(_ continuation: AsyncStream<TestFrame>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        continuation.yield(TestFrame(opcode: .binary, bytes: Array(buffer.readableBytesView)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ByteCollector: Sendable {}
