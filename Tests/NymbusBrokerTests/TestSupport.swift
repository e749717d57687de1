import Foundation
import Logging
import NIOCore
import NIOPosix
import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymbusBroker

/// An in-process backend: records publishes and interest, can refuse or delay, answers NYMBUS.
actor TestBackend: BrokerBackend {
    private(set) var published: [(channel: [UInt8], payload: [UInt8])] = []
    private(set) var interest: [(channels: Set<[UInt8]>, patterns: Set<[UInt8]>)] = []
    private(set) var nymbusCalls: [[[UInt8]]] = []
    private var refusal: BrokerBackendError?
    private var delay: Duration?
    /// Sizes of the batches the broker handed over (one entry per backend hop).
    private(set) var batches: [Int] = []

    func refuse(with error: BrokerBackendError?) { refusal = error }
    func setDelay(_ delay: Duration?) { self.delay = delay }

    func publish(channel: [UInt8], payload: [UInt8]) async throws(BrokerBackendError) {
        if let delay { try? await Task.sleep(for: delay) }
        if let refusal { throw refusal }
        if payload.starts(with: Array("refuse-me".utf8)) {
            throw BrokerBackendError(.notJoined, "refused \(payload.count) bytes")
        }
        published.append((channel, payload))
    }

    func publish(_ messages: [BrokerMessage]) async -> [BrokerBackendError?] {
        batches.append(messages.count)
        var results: [BrokerBackendError?] = []
        for message in messages {
            do throws(BrokerBackendError) {
                try await publish(channel: message.channel, payload: message.payload)
                results.append(nil)
            } catch {
                results.append(error)
            }
        }
        return results
    }

    func interestChanged(channels: Set<[UInt8]>, patterns: Set<[UInt8]>) async {
        interest.append((channels, patterns))
    }

    func nymbusCommand(_ arguments: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue {
        nymbusCalls.append(arguments)
        if arguments.first == Array("NYMBUS.STATUS".utf8) {
            return .map(["peers": .integer(2), "mode": .bulk("test")])
        }
        throw BrokerBackendError(.unknownCommand, "unknown Nymbus command")
    }
}

/// Starts a broker on a fresh path; the caller stops it and removes the directory.
func startBroker(
    backend: any BrokerBackend = LoopbackBrokerBackend(),
    configure: (inout BrokerConfiguration) -> Void = { _ in }
) async throws -> (BrokerServer, TemporarySocket) {
    let socket = TemporarySocket()
    var configuration = BrokerConfiguration(socketPath: socket.path)
    configure(&configuration)
    let broker = BrokerServer(configuration: configuration, backend: backend, logger: quietLogger)
    try await broker.start()
    return (broker, socket)
}

/// A logger that stays silent unless something critical happens.
let quietLogger: Logger = {
    var logger = Logger(label: "broker-test")
    logger.logLevel = .critical
    return logger
}()

struct TestTimeout: Error, CustomStringConvertible {
    let description: String
}

/// Bytes received by a test client, shared between its NIO handler and the test.
final class ByteInbox: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ByteBuffer()
    private var closed = false

    func append(_ bytes: ByteBuffer) {
        lock.lock()
        var bytes = bytes
        buffer.writeBuffer(&bytes)
        lock.unlock()
    }

    func markClosed() {
        lock.lock()
        closed = true
        lock.unlock()
    }

    func with<T, E: Error>(_ body: (inout ByteBuffer, Bool) throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&buffer, closed)
    }
}

private final class InboxHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let inbox: ByteInbox
    init(_ inbox: ByteInbox) { self.inbox = inbox }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { inbox.append(unwrapInboundIn(data)) }
    func channelInactive(context: ChannelHandlerContext) {
        inbox.markClosed()
        context.fireChannelInactive()
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// A raw RESP client over the Unix socket, on NIO so waiting never blocks a Swift concurrency
/// thread (the broker's backend calls run there).
struct TestClient: Sendable {
    let channel: any Channel
    let inbox: ByteInbox

    /// Connects; with `autoRead: false` the client reads nothing until ``startReading()``: a
    /// subscriber that has stopped consuming.
    static func connect(_ path: String, autoRead: Bool = true) async throws -> TestClient {
        let inbox = ByteInbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: autoRead)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(InboxHandler(inbox))
                }
            }
            .connect(unixDomainSocketPath: path).get()
        return TestClient(channel: channel, inbox: inbox)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    /// Sends one command as an array of bulk strings.
    func command(_ arguments: [UInt8]...) async throws {
        var buffer = ByteBuffer()
        RESPWriter.writeCommand(arguments, into: &buffer)
        try await channel.writeAndFlush(buffer)
    }

    func command(_ words: String...) async throws {
        var buffer = ByteBuffer()
        RESPWriter.writeCommand(words.map { Array($0.utf8) }, into: &buffer)
        try await channel.writeAndFlush(buffer)
    }

    /// The next complete reply, waiting up to `timeout`.
    func read(timeout: Duration = .seconds(15)) async throws -> RESPValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (value, closed) = try inbox.with { (buffer, closed) throws(RESPError) -> (RESPValue?, Bool) in
                let limits = RESPLimits(maxBulkLength: 1 << 24, maxArrayCount: 1 << 16)
                return (try RESPValueParser.parse(&buffer, limits: limits), closed)
            }
            if let value { return value }
            if closed { throw TestTimeout(description: "connection closed while waiting for a reply") }
            if ContinuousClock.now > deadline { throw TestTimeout(description: "no reply within \(timeout)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The next reply as raw RESP text (for exact-bytes checks of simple replies).
    func readRaw(count: Int, timeout: Duration = .seconds(15)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let bytes = inbox.with { buffer, _ in buffer.readableBytes >= count ? buffer.readBytes(length: count) : nil
            }
            if let bytes { return String(decoding: bytes, as: UTF8.self) }
            if ContinuousClock.now > deadline {
                throw TestTimeout(description: "fewer than \(count) bytes within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until the broker closed the connection and every byte was read.
    func waitForClose(timeout: Duration = .seconds(15)) async -> Bool {
        await eventually(timeout: timeout) { inbox.with { _, closed in closed } }
    }

    /// Whether unread bytes are waiting.
    var pendingBytes: Int { inbox.with { buffer, _ in buffer.readableBytes } }

    /// Starts consuming (for a client connected with `autoRead: false`).
    func startReading() async throws {
        try await channel.setOption(.autoRead, value: true).get()
        channel.read()
    }

    func close() async {
        try? await channel.close()
    }
}

