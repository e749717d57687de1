import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// One frame as the test client saw it.
struct TestFrame: Sendable, Equatable {
    let opcode: WebSocketOpcode
    let bytes: [UInt8]

    var text: String? { opcode == .text ? String(decoding: bytes, as: UTF8.self) : nil }
}

/// Frames received by a test client, awaitable with a timeout.
actor FrameInbox {
    private var buffered: [TestFrame] = []
    private var waiter: (id: Int, continuation: CheckedContinuation<TestFrame?, Never>)?
    private var nextWaiter = 0
    private(set) var isClosed = false

    func push(_ frame: TestFrame) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: frame)
        } else {
            buffered.append(frame)
        }
    }

    func finish() {
        isClosed = true
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: nil)
        }
    }

    /// The next frame, or `nil` on close or after `timeout`.
    func next(timeout: Duration = .seconds(15)) async -> TestFrame? {
        if !buffered.isEmpty { return buffered.removeFirst() }
        if isClosed { return nil }
        let id = nextWaiter
        nextWaiter += 1
        return await withCheckedContinuation { continuation in
            waiter = (id, continuation)
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    /// Waits until the connection is closed (or `timeout`), discarding frames; returns whether it closed.
    func waitForClose(timeout: Duration = .seconds(15)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isClosed, ContinuousClock.now < deadline {
            _ = await next(timeout: deadline - ContinuousClock.now)
        }
        return isClosed
    }

    private func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: nil)
    }
}

/// A bare WebSocket client on NIO for the tests: masks its frames as RFC 6455 requires and
/// records everything the server sends.
struct TestWebSocket: Sendable {
    struct NotUpgraded: Error {}

    let channel: any Channel
    let inbox: FrameInbox

    /// Connects and completes the WebSocket handshake; throws if the server closes first.
    static func connect(port: Int, host: String = "127.0.0.1", group: any EventLoopGroup) async throws
        -> TestWebSocket
    {
        let inbox = FrameInbox()
        let (stream, continuation) = AsyncStream.makeStream(of: TestFrame.self)
        Task {
            for await frame in stream { await inbox.push(frame) }
            await inbox.finish()
        }
        let loop = group.next()
        let upgraded = loop.makePromise(of: Void.self)
        let once = LoopOnce()
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.closeFuture.whenComplete { _ in
                    continuation.finish()
                    if once.claim() { upgraded.fail(NotUpgraded()) }
                }
                let upgrader = NIOWebSocketClientUpgrader(
                    maxFrameSize: 1 << 27,
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOWebSocketFrameAggregator(
                                    minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16,
                                    maxAccumulatedFrameSize: 1 << 27))
                            try channel.pipeline.syncOperations.addHandler(CollectingHandler(continuation))
                            if once.claim() { upgraded.succeed() }
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    // .forwardBytes: frames the server sends right after its 101 (an inbox burst)
                    // arrive in the same read and must not be dropped with the HTTP decoder.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try channel.pipeline.syncOperations.addHandler(UpgradeRequester(host: host, port: port))
                }
            }
            .connect(host: host, port: port)
            .get()
        do { try await upgraded.futureResult.get() } catch {
            try? await channel.close()
            throw error
        }
        return TestWebSocket(channel: channel, inbox: inbox)
    }

    /// Opens a plain TCP connection and reports whether the server closed it within `timeout`
    /// without us sending anything.
    static func rawConnectionIsClosed(port: Int, group: any EventLoopGroup, timeout: Duration) async throws -> Bool {
        let loop = group.next()
        let channel = try await ClientBootstrap(group: loop).connect(host: "127.0.0.1", port: port).get()
        let closed = loop.makePromise(of: Bool.self)
        let once = LoopOnce()
        channel.closeFuture.whenComplete { _ in if once.claim() { closed.succeed(true) } }
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        loop.scheduleTask(in: .milliseconds(milliseconds)) {
            if once.claim() { closed.succeed(false) }
        }
        let result = try await closed.futureResult.get()
        try? await channel.close()
        return result
    }

    func send(binary bytes: [UInt8]) async throws {
        try await send(opcode: .binary, bytes: bytes)
    }

    func send(text: String) async throws {
        try await send(opcode: .text, bytes: Array(text.utf8))
    }

    func send(opcode: WebSocketOpcode, bytes: [UInt8], fin: Bool = true) async throws {
        let frame = WebSocketFrame(
            fin: fin, opcode: opcode, maskKey: .random(), data: channel.allocator.buffer(bytes: bytes))
        try await channel.writeAndFlush(frame)
    }

    /// The next frame's bytes, requiring a binary frame.
    func nextBinary(timeout: Duration = .seconds(15)) async -> [UInt8]? {
        guard let frame = await inbox.next(timeout: timeout), frame.opcode == .binary else { return nil }
        return frame.bytes
    }

    /// The next frame's text, requiring a text frame.
    func nextText(timeout: Duration = .seconds(15)) async -> String? {
        await inbox.next(timeout: timeout)?.text
    }

    func close() async {
        try? await channel.close()
    }
}

/// A flag claimed once; only touched on one event loop (the tests' group has a single loop).
private final class LoopOnce: @unchecked Sendable {
    private var claimed = false

    func claim() -> Bool {
        guard !claimed else { return false }
        claimed = true
        return true
    }
}

/// Sends the HTTP upgrade request once the TCP connection is up.
private final class UpgradeRequester: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let host: String
    let port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    func channelActive(context: ChannelHandlerContext) {
        defer { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers)
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A plain HTTP answer: not upgraded.
        context.close(promise: nil)
    }
}

/// Records every frame; answers nothing (the server under test answers our pings).
private final class CollectingHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    let continuation: AsyncStream<TestFrame>.Continuation

    init(_ continuation: AsyncStream<TestFrame>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        continuation.yield(TestFrame(opcode: frame.opcode, bytes: Array(frame.unmaskedData.readableBytesView)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpgradeRequester: Sendable {}

@available(*, unavailable)
extension CollectingHandler: Sendable {}
