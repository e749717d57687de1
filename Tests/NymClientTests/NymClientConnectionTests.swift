import Logging
import NIOCore
import NIOPosix
import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusTransport
import Testing

@Suite(.timeLimit(.minutes(1))) struct NymClientConnectionTests {
    let logger = Logger(label: "nymclient-test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func config(port: Int, queue: Int = 1024, frame: Int = 16 << 20) -> NymClientConfiguration {
        NymClientConfiguration(
            port: port, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(200), maxQueuedMessages: queue,
            startTimeout: .seconds(20), maxFrameSize: frame)
    }

    @Test func connectsAndLearnsSelfAddress() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        try await client.start()
        #expect(try await client.selfAddress() == Fixtures.recipient)
        #expect(await client.isConnected)
        #expect(await client.reconnectCount == 0)
        #expect(server.rawRequests == [[0x03]])
        await client.close()
        #expect(await client.isConnected == false)
        await server.shutdown()
    }

    @Test func sendsExactBinaryRequests() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        try await client.start()
        let other = Recipient.random()
        try await client.send([1, 2, 3], to: other)
        try await client.sendAnonymous([4], to: other, replySurbs: 20)
        try await client.reply([5, 6], to: Fixtures.tag)
        try await client.submit(.closedConnection(9))
        #expect(await eventually { server.rawRequests.count == 5 })
        let raw = server.rawRequests
        #expect(raw[0] == [0x03])
        #expect(raw[1] == [0x00] + other.bytes + Fixtures.be64(0) + Fixtures.be64(3) + [1, 2, 3])
        #expect(raw[2] == [0x01] + Fixtures.be32(20) + other.bytes + Fixtures.be64(0) + Fixtures.be64(1) + [4])
        #expect(raw[3] == [0x02] + Fixtures.tag.bytes + Fixtures.be64(0) + Fixtures.be64(2) + [5, 6])
        #expect(raw[4] == [0x04] + Fixtures.be64(9))
        await client.close()
        await server.shutdown()
    }

    @Test func pushedMessagesArriveOnInbound() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        try await client.start()
        await server.push(.received(ReceivedMessage(data: [1], senderTag: nil)))
        await server.push(.received(ReceivedMessage(data: [2, 2], senderTag: Fixtures.tag)))
        await server.push(.received(ReceivedMessage(data: [], senderTag: nil)))
        let got = await collect(client.inbound, count: 3)
        #expect(
            got == [
                ReceivedMessage(data: [1], senderTag: nil), ReceivedMessage(data: [2, 2], senderTag: Fixtures.tag),
                ReceivedMessage(data: [], senderTag: nil),
            ])
        // Echo through the stand-in: a send to our own address comes back.
        try await client.sendAnonymous(Array("hello".utf8), to: try await client.selfAddress(), replySurbs: 10)
        #expect(
            await collect(client.inbound, count: 1) == [
                ReceivedMessage(data: Array("hello".utf8), senderTag: TestNymServer.echoTag)
            ])
        await client.close()
        await server.shutdown()
    }

    @Test func errorsAndBadFramesAreCountedNotFatal() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        try await client.start()
        await server.push(.error(kind: .malformedRequest, message: "nope"))
        await server.push([0x09, 0x01])
        await server.push([0x01, 0x05] + Fixtures.be64(0))
        await server.push(.received(ReceivedMessage(data: [7], senderTag: nil)))
        #expect(await collect(client.inbound, count: 1) == [ReceivedMessage(data: [7], senderTag: nil)])
        #expect(await client.errorResponseCount == 1)
        #expect(await client.undecodableFrameCount == 2)
        #expect(await client.isConnected)
        #expect(await client.reconnectCount == 0)
        await client.close()
        await server.shutdown()
    }

    @Test func reconnectsAndFlushesQueuedMessagesInOrder() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        var configuration = config(port: port)
        configuration.resendWindow = .seconds(60)  // [0] stays "recent" however slow the machine is
        let client = NymClientConnection(configuration: configuration, logger: logger)
        try await client.start()
        let other = Recipient.random()
        try await client.send([0], to: other)
        #expect(await eventually { server.rawRequests.count == 2 })

        // Server goes away: stop listening and drop the socket.
        await server.stopListening()
        await server.dropConnections()
        #expect(await eventually { await client.isConnected == false })
        for i in 1...5 { try await client.send([UInt8(i)], to: other) }
        // [0] was written within `resendWindow` of the drop, so it may have been in flight: it is
        // queued again, ahead of the new messages (at least once across a reconnect).
        #expect(await eventually { await client.queuedMessageCount == 6 })  // requeued just after the drop is seen
        #expect(await client.resentCount == 1)

        // Back on the same port: the client reconnects, asks selfAddress, flushes in order.
        try await server.start(port: port)
        #expect(await eventually { server.requests.count == 9 })
        #expect(await client.reconnectCount == 1)
        #expect(await eventually { await client.queuedMessageCount == 0 })
        let requests = server.requests
        #expect(requests[2] == .selfAddress)
        #expect(
            requests[3...].map { request -> [UInt8] in
                if case .send(_, let data, _) = request { return data } else { return [] }
            } == [[0], [1], [2], [3], [4], [5]])
        await client.close()
        await server.shutdown()
    }

    @Test func withoutAResendWindowOnlyQueuedMessagesGoOutAfterReconnecting() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        var configuration = config(port: port)
        configuration.resendWindow = .zero
        let client = NymClientConnection(configuration: configuration, logger: logger)
        try await client.start()
        let other = Recipient.random()
        try await client.send([0], to: other)
        #expect(await eventually { server.rawRequests.count == 2 })
        await server.stopListening()
        await server.dropConnections()
        #expect(await eventually { await client.isConnected == false })
        for i in 1...2 { try await client.send([UInt8(i)], to: other) }
        #expect(await client.queuedMessageCount == 2)
        #expect(await client.resentCount == 0)
        try await server.start(port: port)
        #expect(await eventually { server.requests.count == 5 })
        #expect(
            server.requests[3...].map { request -> [UInt8] in
                if case .send(_, let data, _) = request { return data } else { return [] }
            } == [[1], [2]])
        await client.close()
        await server.shutdown()
    }

    @Test func serverCloseWithoutStopReconnectsAndKeepsInbound() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        try await client.start()
        await server.dropConnections()
        #expect(await eventually { server.acceptedConnections == 2 && server.openConnections == 1 })
        #expect(
            await eventually {
                let n = await client.reconnectCount
                let c = await client.isConnected
                return n == 1 && c
            })
        await server.push(.received(ReceivedMessage(data: [42], senderTag: nil)))
        #expect(await collect(client.inbound, count: 1) == [ReceivedMessage(data: [42], senderTag: nil)])
        await client.close()
        await server.shutdown()
    }

    @Test func tcpResetReconnectsAndFlushes() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        try await client.start()
        await server.resetConnections()
        #expect(
            await eventually {
                let n = await client.reconnectCount
                let c = await client.isConnected
                return n == 1 && c
            })
        try await client.send([9], to: Recipient.random())
        #expect(await eventually { server.requests.count == 3 })
        #expect(server.requests.map { if case .selfAddress = $0 { true } else { false } } == [true, true, false])
        #expect(server.acceptedConnections == 2)
        await client.close()
        await server.shutdown()
    }

    @Test func addressChangeAfterReconnectIsPickedUp() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        try await client.start()
        let newAddress = Recipient.random()
        server.address = newAddress
        await server.dropConnections()
        #expect(await eventually { (try? await client.selfAddress()) == newAddress })
        await client.close()
        await server.shutdown()
    }

    @Test func retriesUntilTheServerComesUp() async throws {
        let reserved = try PortReservation()
        let port = reserved.port
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        let started = Task { try await client.start() }
        try await Task.sleep(for: .milliseconds(300))  // let a few attempts fail
        #expect(await client.isConnected == false)
        let server = TestNymServer()
        try await server.start(port: port)
        reserved.release()
        try await started.value
        #expect(try await client.selfAddress() == Fixtures.recipient)
        #expect(await client.reconnectCount == 0)
        await client.close()
        await server.shutdown()
    }

    @Test func fullQueueFailsTheSend() async throws {
        let reserved = try PortReservation()
        let port = reserved.port
        let client = NymClientConnection(configuration: config(port: port, queue: 3), logger: logger)
        let other = Recipient.random()
        for i in 0..<3 { try await client.send([UInt8(i)], to: other) }
        await #expect(throws: TransportError(.queueFull, "")) { try await client.send([3], to: other) }
        #expect(await client.queuedMessageCount == 3)

        let server = TestNymServer()
        try await server.start(port: port)
        reserved.release()
        try await client.start()
        #expect(await eventually { server.requests.count == 4 })
        #expect(
            server.requests[1...].map { r -> [UInt8] in if case .send(_, let d, _) = r { d } else { [] } } == [
                [0], [1], [2],
            ])
        #expect(await eventually { await client.queuedMessageCount == 0 })
        try await client.send([3], to: other)  // room again
        #expect(await eventually { server.requests.count == 5 })
        await client.close()
        await server.shutdown()
    }

    @Test func startTimesOutWithoutServer() async throws {
        let reserved = try PortReservation()
        defer { reserved.release() }
        var configuration = config(port: reserved.port)
        configuration.startTimeout = .milliseconds(200)
        let client = NymClientConnection(configuration: configuration, logger: logger)
        await #expect(throws: NymClientError(.timeout, "")) { try await client.start() }
        await client.close()
    }

    @Test func cancellingStartStopsWaiting() async throws {
        let reserved = try PortReservation()
        let port = reserved.port
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        let started = Task { try await client.start() }
        try await Task.sleep(for: .milliseconds(50))
        started.cancel()
        await #expect(throws: NymClientError(.notConnected, "")) { try await started.value }
        // The connection keeps trying: a server that appears later is picked up.
        let server = TestNymServer()
        try await server.start(port: port)
        reserved.release()
        try await client.start()
        #expect(await client.isConnected)
        await client.close()
        await server.shutdown()
    }

    @Test func closeStopsEverything() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        try await client.start()
        try await client.send([1], to: Recipient.random())
        await client.close()
        // The queued send was flushed before the Close frame.
        #expect(await eventually { server.rawRequests.count == 2 })
        await #expect(throws: TransportError(.closed, "")) { try await client.send([2], to: Recipient.random()) }
        await #expect(throws: NymClientError(.closed, "")) { try await client.start() }
        #expect(await collect(client.inbound, count: 1).isEmpty)  // finished
        #expect(await eventually { server.openConnections == 0 })
        await server.shutdown()
    }

    @Test func threeMegabyteMessageRoundTrips() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        let client = NymClientConnection(configuration: config(port: port), logger: logger)
        try await client.start()
        var rng = SplitMix64(seed: 9)
        let big = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try await client.send(big, to: try await client.selfAddress())
        let got = await collect(client.inbound, count: 1)
        #expect(got.first?.data.count == big.count)
        #expect(got.first.map { $0.data == big } == true)
        #expect(got.first?.senderTag == nil)
        await client.close()
        await server.shutdown()
    }

    @Test func largeMessageIsFragmentedIntoFrames() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        // 1 MiB frames: a 3 MB message goes out as a binary frame plus continuation frames and is
        // reassembled by the server; the echo comes back as one 3 MB frame, which the client must
        // accept (nym-client writes every message as a single frame).
        let client = NymClientConnection(configuration: config(port: port, frame: 1 << 20), logger: logger)
        try await client.start()
        let big = [UInt8](repeating: 0x5A, count: 3_000_000)
        try await client.send(big, to: try await client.selfAddress())
        let got = await collect(client.inbound, count: 1)
        #expect(got.first?.data.count == big.count)
        #expect(got.first.map { $0.data == big } == true)
        await client.close()
        await server.shutdown()
    }

    @Test func oversizedMessageIsRejected() async throws {
        var configuration = config(port: 1)
        configuration.maxMessageSize = 1000
        let client = NymClientConnection(configuration: configuration, logger: logger)
        await #expect(throws: TransportError(.messageTooLarge, "")) {
            try await client.send([UInt8](repeating: 0, count: 1000), to: Recipient.random())
        }
        #expect(await client.queuedMessageCount == 0)
        await client.close()
    }
}
