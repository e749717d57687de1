import Foundation
import NIOCore
import NIOPosix
import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymbusBroker

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The broker over a real Unix socket: permissions, lifecycle, fan-out, backend, bad input,
/// slow subscribers.
@Suite struct BrokerServerTests {
    private func mode(_ path: String) -> mode_t {
        var info = stat()
        _ = lstat(path, &info)
        return info.st_mode & 0o777
    }

    @Test func socketIsPrivateAndRemovedOnStop() async throws {
        let backend = TestBackend()
        let (broker, socket) = try await startBroker(backend: backend)
        defer { socket.remove() }
        #expect(mode(socket.directory) == 0o700)
        #expect(mode(socket.path) == 0o600)
        #expect(mode(socket.path + ".lock") == 0o600)
        let client = try await TestClient.connect(socket.path)
        try await client.send("PING\r\n")
        #expect(try await client.readRaw(count: 7) == "+PONG\r\n")
        try await client.command("SUBSCRIBE", "kept")
        _ = try await client.read()
        await broker.stop()
        // The backend heard the final, empty interest before stop() returned.
        let last = await backend.interest.last
        #expect(last?.channels == [])
        #expect(last?.patterns == [])
        #expect(await client.waitForClose())
        #expect(!FileManager.default.fileExists(atPath: socket.path))
        #expect(!FileManager.default.fileExists(atPath: socket.path + ".lock"))
        await broker.stop()  // idempotent
    }

    @Test func directoryOpenToOthersIsRefused() async throws {
        let socket = TemporarySocket()
        defer { socket.remove() }
        #expect(mkdir(socket.directory, 0o755) == 0)
        _ = chmod(socket.directory, 0o755)
        let broker = BrokerServer(
            configuration: BrokerConfiguration(socketPath: socket.path), backend: LoopbackBrokerBackend(),
            logger: quietLogger)
        let error = await #expect(throws: BrokerError.self) { try await broker.start() }
        #expect(error?.code == .unsafeDirectory)
        #expect(error?.reason.contains("mode 0755") == true)
        #expect(mode(socket.directory) == 0o755)  // never changed behind the user's back
        #expect(!FileManager.default.fileExists(atPath: socket.path))
    }

    @Test func secondBrokerOnTheSamePathIsRefusedAndTheFirstKeepsServing() async throws {
        let (first, socket) = try await startBroker()
        defer { socket.remove() }
        let second = BrokerServer(
            configuration: BrokerConfiguration(socketPath: socket.path), backend: LoopbackBrokerBackend(),
            logger: quietLogger)
        let error = await #expect(throws: BrokerError.self) { try await second.start() }
        #expect(error?.code == .alreadyRunning)
        #expect(error?.reason.contains("another Nymbus broker is already running on '\(socket.path)'") == true)
        let client = try await TestClient.connect(socket.path)
        try await client.command("PING")
        #expect(try await client.read() == .simpleString("PONG"))
        await first.stop()
        // Once the first is gone the path is free again.
        try await second.start()
        await second.stop()
    }

    /// A cleaned directory (the socket and its lock file removed under a running node) must not
    /// leave the node unreachable: the broker binds again, and locks the path again so a second
    /// broker cannot take it meanwhile.
    @Test func aRemovedSocketFileIsBoundAgainWithItsLock() async throws {
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        await broker.checkSocketFile()
        #expect(await broker.socketRebinds == 0)  // nothing to do while the file is there
        #expect(unlink(socket.path) == 0)
        #expect(unlink(socket.path + ".lock") == 0)
        #expect((try? await TestClient.connect(socket.path)) == nil)
        await broker.checkSocketFile()
        #expect(await broker.socketRebinds == 1)
        #expect(mode(socket.path) == 0o600)
        let client = try await TestClient.connect(socket.path)
        try await client.command("PING")
        #expect(try await client.read() == .simpleString("PONG"))
        let second = BrokerServer(
            configuration: BrokerConfiguration(socketPath: socket.path), backend: LoopbackBrokerBackend(),
            logger: quietLogger)
        let error = await #expect(throws: BrokerError.self) { try await second.start() }
        #expect(error?.code == .alreadyRunning)
        await broker.stop()
        #expect(!FileManager.default.fileExists(atPath: socket.path))
        #expect(!FileManager.default.fileExists(atPath: socket.path + ".lock"))
    }

    /// A socket of another program now at the path is left alone.
    @Test func aSocketAnotherProgramPutAtThePathIsNotTakenOver() async throws {
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        #expect(unlink(socket.path) == 0)
        let foreign = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(unixDomainSocketPath: socket.path).get()
        await broker.checkSocketFile()
        #expect(await broker.socketRebinds == 0)
        try await foreign.close()
        await broker.stop()
    }

    @Test func anotherProgramListeningOnThePathIsRefused() async throws {
        let socket = TemporarySocket()
        defer { socket.remove() }
        #expect(mkdir(socket.directory, 0o700) == 0)
        let foreign = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(unixDomainSocketPath: socket.path).get()
        let broker = BrokerServer(
            configuration: BrokerConfiguration(socketPath: socket.path), backend: LoopbackBrokerBackend(),
            logger: quietLogger)
        let error = await #expect(throws: BrokerError.self) { try await broker.start() }
        #expect(error?.code == .alreadyRunning)
        #expect(error?.reason.contains("another program is already listening") == true)
        try await foreign.close()
    }

    @Test func staleSocketIsReplacedAndAFileIsNot() async throws {
        let socket = TemporarySocket()
        defer { socket.remove() }
        #expect(mkdir(socket.directory, 0o700) == 0)
        // A socket file nobody listens on: what a crashed broker leaves behind.
        #if os(Linux)
            let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = Darwin.socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        let address = try SocketAddress(unixDomainSocketPath: socket.path)
        let bound = address.withSockAddr { pointer, length in bind(descriptor, pointer, socklen_t(length)) }
        #expect(bound == 0)
        close(descriptor)
        #expect(FileManager.default.fileExists(atPath: socket.path))

        let broker = BrokerServer(
            configuration: BrokerConfiguration(socketPath: socket.path), backend: LoopbackBrokerBackend(),
            logger: quietLogger)
        try await broker.start()
        let client = try await TestClient.connect(socket.path)
        try await client.command("PING")
        #expect(try await client.read() == .simpleString("PONG"))
        await broker.stop()

        _ = FileManager.default.createFile(atPath: socket.path, contents: Data("not a socket".utf8))
        let other = BrokerServer(
            configuration: BrokerConfiguration(socketPath: socket.path), backend: LoopbackBrokerBackend(),
            logger: quietLogger)
        let error = await #expect(throws: BrokerError.self) { try await other.start() }
        #expect(error?.code == .notASocket)
        #expect(FileManager.default.fileExists(atPath: socket.path))
    }

    @Test func tooLongPathIsRefusedClearly() async throws {
        let path = "/tmp/" + String(repeating: "x", count: 120) + "/b.sock"
        let broker = BrokerServer(
            configuration: BrokerConfiguration(socketPath: path), backend: LoopbackBrokerBackend(), logger: quietLogger)
        let error = await #expect(throws: BrokerError.self) { try await broker.start() }
        #expect(error?.code == .socketPathTooLong)
    }

    @Test func publishGoesToTheBackendAndLocalSubscribersBinarySafe() async throws {
        let backend = TestBackend()
        let (broker, socket) = try await startBroker(backend: backend)
        defer { socket.remove() }
        let subscriber = try await TestClient.connect(socket.path)
        let publisher = try await TestClient.connect(socket.path)
        try await subscriber.command("SUBSCRIBE", "bin")
        #expect(try await subscriber.read() == .array([.bulk("subscribe"), .bulk("bin"), .integer(1)]))

        let payload: [UInt8] = [0, 13, 10, 255, 42, 36, 13, 10]
        try await publisher.command(Array("PUBLISH".utf8), Array("bin".utf8), payload)
        #expect(try await publisher.read() == .integer(1))
        #expect(try await subscriber.read() == .array([.bulk("message"), .bulk("bin"), .bulkString(payload)]))
        let published = await backend.published
        #expect(published.count == 1)
        #expect(published.first?.channel == Array("bin".utf8))
        #expect(published.first?.payload == payload)

        // A message from the network reaches local subscribers only.
        #expect(await broker.deliver(channel: Array("bin".utf8), payload: [1, 2]) == 1)
        #expect(try await subscriber.read() == .array([.bulk("message"), .bulk("bin"), .bulkString([1, 2])]))
        #expect(await broker.deliver(channel: Array("nobody".utf8), payload: [1]) == 0)
        #expect(await backend.published.count == 1)

        let stats = await broker.stats()
        #expect(stats.messagesPublished == 1)
        #expect(stats.messagesFromNetwork == 2)
        #expect(stats.messagesDelivered == 2)
        #expect(stats.connectedClients == 2)
        await broker.stop()
    }

    @Test func backendRefusalIsAnErrorAndNothingIsDelivered() async throws {
        let backend = TestBackend()
        let (broker, socket) = try await startBroker(backend: backend)
        defer { socket.remove() }
        let subscriber = try await TestClient.connect(socket.path)
        let publisher = try await TestClient.connect(socket.path)
        try await subscriber.command("SUBSCRIBE", "secret")
        _ = try await subscriber.read()
        await backend.refuse(with: BrokerBackendError(.notJoined, "topic is private and not joined"))
        try await publisher.command("PUBLISH", "secret", "x")
        #expect(try await publisher.read() == .error("ERR topic is private and not joined"))
        await backend.refuse(with: nil)
        try await publisher.command("PUBLISH", "secret", "y")
        #expect(try await publisher.read() == .integer(1))
        // The refused message never arrives; the accepted one does.
        #expect(try await subscriber.read() == .array([.bulk("message"), .bulk("secret"), .bulk("y")]))
        #expect((await broker.stats()).publishesRejected == 1)
        await broker.stop()
    }

    @Test func pipelinedCommandsKeepTheirOrderThroughASlowBackend() async throws {
        let backend = TestBackend()
        await backend.setDelay(.milliseconds(2))
        let (broker, socket) = try await startBroker(backend: backend)
        defer { socket.remove() }
        let subscriber = try await TestClient.connect(socket.path)
        let publisher = try await TestClient.connect(socket.path)
        try await subscriber.command("SUBSCRIBE", "order")
        _ = try await subscriber.read()
        var batch = ByteBuffer()
        for index in 0..<50 {
            RESPWriter.writeCommand(
                [Array("PUBLISH".utf8), Array("order".utf8), Array("m\(index)".utf8)], into: &batch)
            RESPWriter.writeCommand([Array("ECHO".utf8), Array("e\(index)".utf8)], into: &batch)
        }
        try await publisher.channel.writeAndFlush(batch)
        for index in 0..<50 {
            #expect(try await publisher.read() == .integer(1))
            #expect(try await publisher.read() == .bulk("e\(index)"))
            #expect(try await subscriber.read() == .array([.bulk("message"), .bulk("order"), .bulk("m\(index)")]))
        }
        #expect(await backend.published.map(\.payload) == (0..<50).map { Array("m\($0)".utf8) })

        // A transaction waits for the backend at each PUBLISH and answers with one array.
        try await publisher.send("MULTI\r\nPUBLISH order t1\r\nECHO x\r\nPUBLISH order t2\r\nEXEC\r\nPING\r\n")
        #expect(try await publisher.read() == .simpleString("OK"))
        for _ in 0..<3 { #expect(try await publisher.read() == .simpleString("QUEUED")) }
        #expect(try await publisher.read() == .array([.integer(1), .bulk("x"), .integer(1)]))
        #expect(try await publisher.read() == .simpleString("PONG"))
        #expect(try await subscriber.read() == .array([.bulk("message"), .bulk("order"), .bulk("t1")]))
        #expect(try await subscriber.read() == .array([.bulk("message"), .bulk("order"), .bulk("t2")]))
        await broker.stop()
    }

    @Test func pipelinedPublishesReachTheBackendInBatchesWithPerMessageResults() async throws {
        let backend = TestBackend()
        await backend.setDelay(.milliseconds(1))
        let (broker, socket) = try await startBroker(backend: backend)
        defer { socket.remove() }
        let subscriber = try await TestClient.connect(socket.path)
        let publisher = try await TestClient.connect(socket.path)
        try await subscriber.command("SUBSCRIBE", "b")
        _ = try await subscriber.read()
        var batch = ByteBuffer()
        for index in 0..<300 {
            let payload = index % 50 == 7 ? "refuse-me \(index)" : "p\(index)"
            RESPWriter.writeCommand([Array("publish".utf8), Array("b".utf8), Array(payload.utf8)], into: &batch)
            if index == 150 { RESPWriter.writeCommand([Array("PING".utf8)], into: &batch) }
        }
        try await publisher.channel.writeAndFlush(batch)
        for index in 0..<300 {
            if index % 50 == 7 {
                #expect(try await publisher.read() == .error("ERR refused \("refuse-me \(index)".utf8.count) bytes"))
            } else {
                #expect(try await publisher.read() == .integer(1))
                #expect(try await subscriber.read() == .array([.bulk("message"), .bulk("b"), .bulk("p\(index)")]))
            }
            if index == 150 { #expect(try await publisher.read() == .simpleString("PONG")) }
        }
        let batches = await backend.batches
        #expect(batches.reduce(0, +) == 300)
        #expect(batches.count < 300)  // pipelined publishes share backend hops
        #expect(batches.allSatisfy { $0 <= 256 })
        #expect(await backend.published.count == 294)
        await broker.stop()
    }

    @Test func backendThatAnswersAtOnceKeepsRepliesPushesAndRefusalsInOrder() async throws {
        // The loopback backend accepts on the event loop (no task hop): replies are written
        // straight into the connection's output, so their order against pushes is checked here.
        let (broker, socket) = try await startBroker(backend: LoopbackBrokerBackend(maxPayloadBytes: 4))
        defer { socket.remove() }
        let publisher = try await TestClient.connect(socket.path)
        let other = try await TestClient.connect(socket.path)
        try await publisher.command("HELLO", "3")
        _ = try await publisher.read()
        try await publisher.command("SUBSCRIBE", "me")
        #expect(try await publisher.read() == .push([.bulk("subscribe"), .bulk("me"), .integer(1)]))
        try await other.command("SUBSCRIBE", "me")
        _ = try await other.read()

        var batch = ByteBuffer()
        for payload in ["a", "toolong", "b"] {
            RESPWriter.writeCommand([Array("PUBLISH".utf8), Array("me".utf8), Array(payload.utf8)], into: &batch)
        }
        RESPWriter.writeCommand([Array("PING".utf8)], into: &batch)
        try await publisher.channel.writeAndFlush(batch)
        // Redis's order: the copy for the publisher itself, then the reply (2 receivers).
        #expect(try await publisher.read() == .push([.bulk("message"), .bulk("me"), .bulk("a")]))
        #expect(try await publisher.read() == .integer(2))
        #expect(try await publisher.read() == .error("ERR payload over 4 bytes"))
        #expect(try await publisher.read() == .push([.bulk("message"), .bulk("me"), .bulk("b")]))
        #expect(try await publisher.read() == .integer(2))
        #expect(try await publisher.read() == .simpleString("PONG"))
        #expect(try await other.read() == .array([.bulk("message"), .bulk("me"), .bulk("a")]))
        #expect(try await other.read() == .array([.bulk("message"), .bulk("me"), .bulk("b")]))
        // A publisher that subscribes to nothing: its replies are gathered apart from fan-out.
        let plain = try await TestClient.connect(socket.path)
        try await plain.channel.writeAndFlush(batch)
        #expect(try await plain.read() == .integer(2))
        #expect(try await plain.read() == .error("ERR payload over 4 bytes"))
        #expect(try await plain.read() == .integer(2))
        #expect(try await plain.read() == .simpleString("PONG"))
        for payload in ["a", "b"] {
            #expect(try await publisher.read() == .push([.bulk("message"), .bulk("me"), .bulk(payload)]))
            #expect(try await other.read() == .array([.bulk("message"), .bulk("me"), .bulk(payload)]))
        }
        let stats = await broker.stats()
        #expect(stats.messagesPublished == 4)
        #expect(stats.publishesRejected == 2)
        #expect(stats.messagesDelivered == 8)
        await broker.stop()
    }

    @Test func pipelinedPublishesToSeveralChannelsReachEachChannelsSubscribers() async throws {
        // A burst looks each channel's subscribers up once per run of that channel: switching
        // channels mid-burst must switch subscribers, patterns included.
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        let onX = try await TestClient.connect(socket.path)
        let onY = try await TestClient.connect(socket.path)
        let onAll = try await TestClient.connect(socket.path)
        let publisher = try await TestClient.connect(socket.path)
        try await onX.command("SUBSCRIBE", "x")
        _ = try await onX.read()
        try await onY.command("SUBSCRIBE", "y")
        _ = try await onY.read()
        try await onAll.command("PSUBSCRIBE", "*")
        _ = try await onAll.read()
        let sent = [("x", "1"), ("y", "2"), ("x", "3"), ("z", "4"), ("x", "5")]
        var batch = ByteBuffer()
        for (channel, payload) in sent {
            RESPWriter.writeCommand([Array("PUBLISH".utf8), Array(channel.utf8), Array(payload.utf8)], into: &batch)
        }
        try await publisher.channel.writeAndFlush(batch)
        for (channel, _) in sent { #expect(try await publisher.read() == .integer(channel == "z" ? 1 : 2)) }
        for payload in ["1", "3", "5"] {
            #expect(try await onX.read() == .array([.bulk("message"), .bulk("x"), .bulk(payload)]))
        }
        #expect(try await onY.read() == .array([.bulk("message"), .bulk("y"), .bulk("2")]))
        for (channel, payload) in sent {
            #expect(try await onAll.read() == .array([.bulk("pmessage"), .bulk("*"), .bulk(channel), .bulk(payload)]))
        }
        let stats = await broker.stats()
        #expect(stats.messagesPublished == 5)
        #expect(stats.messagesDelivered == 9)
        await broker.stop()
    }

    @Test func nymbusCommandsReachTheBackend() async throws {
        let backend = TestBackend()
        let (broker, socket) = try await startBroker(backend: backend)
        defer { socket.remove() }
        let client = try await TestClient.connect(socket.path)
        try await client.command("nymbus.status")
        #expect(try await client.read() == .array([.bulk("peers"), .integer(2), .bulk("mode"), .bulk("test")]))
        try await client.command("HELLO", "3")
        _ = try await client.read()
        try await client.command("NYMBUS.STATUS")
        #expect(try await client.read() == .map(["peers": .integer(2), "mode": .bulk("test")]))
        try await client.command("NYMBUS.NOPE", "x")
        #expect(try await client.read() == .error("ERR unknown Nymbus command"))
        #expect(
            await backend.nymbusCalls.map { $0.map { String(decoding: $0, as: UTF8.self) } } == [
                ["NYMBUS.STATUS"], ["NYMBUS.STATUS"], ["NYMBUS.NOPE", "x"],
            ])
        await broker.stop()
    }

    @Test func interestFollowsLocalSubscriptions() async throws {
        let backend = TestBackend()
        let (broker, socket) = try await startBroker(backend: backend)
        defer { socket.remove() }
        let client = try await TestClient.connect(socket.path)
        try await client.command("SUBSCRIBE", "a", "b")
        _ = try await client.read()
        _ = try await client.read()
        try await client.command("PSUBSCRIBE", "n*")
        _ = try await client.read()
        #expect(
            await eventually {
                let last = await backend.interest.last
                return last?.channels == [Array("a".utf8), Array("b".utf8)] && last?.patterns == [Array("n*".utf8)]
            })
        await client.close()
        #expect(
            await eventually { await backend.interest.last.map { $0.channels.isEmpty && $0.patterns.isEmpty } ?? false }
        )
        await broker.stop()
    }

    @Test func malformedInputGetsProtocolErrorAndCloseWhileOthersKeepWorking() async throws {
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        let subscriber = try await TestClient.connect(socket.path)
        try await subscriber.command("SUBSCRIBE", "c")
        _ = try await subscriber.read()

        let cases: [(String, String)] = [
            ("*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
            ("*3\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$70000\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
            ("*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
            ("*1\r\nPING\r\n", "-ERR Protocol error: expected '$', got 'P'\r\n"),
            ("PING \"open\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
            ("PING\r\n*1\r\n$4\r\nPINGxx", "+PONG\r\n-ERR Protocol error: expected '\\r\\n' after a bulk string\r\n"),
        ]
        for (input, expected) in cases {
            let bad = try await TestClient.connect(socket.path)
            try await bad.send(input)
            #expect(try await bad.readRaw(count: expected.utf8.count) == expected)
            #expect(await bad.waitForClose())
            #expect(bad.pendingBytes == 0)
        }
        // Unknown commands and wrong arity do not close the connection.
        let sloppy = try await TestClient.connect(socket.path)
        try await sloppy.send("NOPE 1\r\nPUBLISH c\r\nPUBLISH c still-here\r\n")
        #expect(try await sloppy.read() == .error("ERR unknown command 'NOPE', with args beginning with: '1' "))
        #expect(try await sloppy.read() == .error("ERR wrong number of arguments for 'publish' command"))
        #expect(try await sloppy.read() == .integer(1))
        #expect(try await subscriber.read() == .array([.bulk("message"), .bulk("c"), .bulk("still-here")]))
        #expect((await broker.stats()).protocolErrors == UInt64(cases.count))
        await broker.stop()
    }

    @Test func quitAndHalfCloseAnswerThenClose() async throws {
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        let quitter = try await TestClient.connect(socket.path)
        try await quitter.send("PING\r\nQUIT\r\nPING\r\n")
        #expect(try await quitter.readRaw(count: 12) == "+PONG\r\n+OK\r\n")
        #expect(await quitter.waitForClose())
        #expect(quitter.pendingBytes == 0)

        let halfClosed = try await TestClient.connect(socket.path)
        try await halfClosed.send("ECHO bye\r\n")
        try await halfClosed.channel.close(mode: .output)
        #expect(try await halfClosed.read() == .bulk("bye"))
        #expect(await halfClosed.waitForClose())
        await broker.stop()
    }

    @Test func slowSubscriberIsToldAndDroppedWhileAFastOneGetsEverything() async throws {
        let (broker, socket) = try await startBroker { configuration in
            configuration.maxOutputBytes = 256 * 1024
            // The slow client must be closed by its reading everything, not by the grace timer:
            // on a loaded machine the 400 publishes below took 30 s (the grace used to be 30 s,
            // and a socket closed before `startReading` loses what was queued for it).
            configuration.slowClientGrace = .seconds(600)
        }
        defer { socket.remove() }
        let slow = try await TestClient.connect(socket.path, autoRead: false)
        let fast = try await TestClient.connect(socket.path)
        let publisher = try await TestClient.connect(socket.path)
        try await slow.command("SUBSCRIBE", "flood")
        try await fast.command("SUBSCRIBE", "flood")
        _ = try await fast.read()
        #expect(await eventually { (await broker.stats()).subscriptions == 2 })

        let payload = [UInt8](repeating: 0x61, count: 16 * 1024)
        let messages = 400
        var slowDroppedAt: Int?
        for index in 0..<messages {
            var body = Array("\(index):".utf8)
            body += payload
            try await publisher.command(Array("PUBLISH".utf8), Array("flood".utf8), body)
            let receivers = try await publisher.read()
            if receivers == .integer(1) && slowDroppedAt == nil { slowDroppedAt = index }
            #expect(receivers == .integer(slowDroppedAt == nil ? 2 : 1))
            let message = try await fast.read()
            #expect(
                message.elements?.last?.bytes?.prefix(body.count - payload.count)
                    == body.prefix(body.count - payload.count)[...])
        }
        let dropped = try #require(slowDroppedAt)
        #expect(dropped > 10)  // the output limit, not an early failure, dropped it
        let stats = await broker.stats()
        #expect(stats.slowClientDisconnects == 1)
        #expect(stats.connectedClients == 2)  // dropped from the registry at once; the socket closes later

        // The slow subscriber, once it reads, finds the messages queued before the drop, in
        // order, then an error that says why, then the end of the connection.
        try await slow.startReading()
        #expect(try await slow.read() == .array([.bulk("subscribe"), .bulk("flood"), .integer(1)]))
        var received = 0
        var final: RESPValue?
        while true {
            let value = try await slow.read()
            guard case .array(let parts?) = value else {
                final = value
                break
            }
            #expect(parts.last?.bytes?.starts(with: Array("\(received):".utf8)) == true)
            received += 1
        }
        #expect(received == dropped)
        if case .error(let text) = final {
            #expect(text.hasPrefix("ERR slow subscriber: more than 262144 bytes were queued for this client"))
        } else {
            Issue.record("expected the slow-subscriber error, got \(String(describing: final))")
        }
        #expect(await slow.waitForClose())
        await broker.stop()
    }

    @Test func manyClientsAtOnce() async throws {
        let (broker, socket) = try await startBroker { $0.maxClients = 20 }
        defer { socket.remove() }
        var clients: [TestClient] = []
        for _ in 0..<20 { clients.append(try await TestClient.connect(socket.path)) }
        for client in clients { try await client.command("SUBSCRIBE", "all") }
        for client in clients { _ = try await client.read() }
        let extra = try await TestClient.connect(socket.path)
        #expect(try await extra.read() == .error("ERR max number of clients reached"))
        #expect(await extra.waitForClose())
        #expect(await broker.deliver(channel: Array("all".utf8), payload: Array("hi".utf8)) == 20)
        for client in clients {
            #expect(try await client.read() == .array([.bulk("message"), .bulk("all"), .bulk("hi")]))
        }
        await broker.stop()
        #expect((await broker.stats()).rejectedConnections == 1)
    }
}
