import Logging
import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusTransport
import Testing

@testable import NymbusMixnet

/// The production client (`NymClientConnection`) against the local mixnet: what a node does.
@Suite struct NymClientConnectionInteropTests {
    typealias S = MixnetTestSupport

    func client(_ mixnet: LocalMixnet, _ endpoint: Int) async throws -> NymClientConnection {
        let port = await mixnet.endpoints[endpoint].port
        let configuration = NymClientConfiguration(
            port: port, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(100),
            startTimeout: .seconds(15))
        return NymClientConnection(configuration: configuration, logger: Logger(label: "test.nym-client"))
    }

    /// The next inbound message, or `nil` after `timeout`.
    func next(_ connection: NymClientConnection, timeout: Duration = .seconds(10)) async -> ReceivedMessage? {
        await withTaskGroup(of: ReceivedMessage?.self) { group in
            group.addTask {
                var iterator = connection.inbound.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test func sendAnonymousAndReplyThroughTheTransport() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let endpoints = await mixnet.endpoints
        let alice = try await client(mixnet, 0)
        let bob = try await client(mixnet, 1)
        try await alice.start()
        try await bob.start()
        #expect(try await alice.selfAddress() == endpoints[0].address)
        #expect(try await bob.selfAddress() == endpoints[1].address)

        try await alice.send([1, 2, 3], to: endpoints[1].address)
        #expect(await next(bob) == ReceivedMessage(data: [1, 2, 3], senderTag: nil))

        try await alice.sendAnonymous([4], to: endpoints[1].address, replySurbs: 20)
        let anonymous = try #require(await next(bob))
        let tag = try #require(anonymous.senderTag)
        #expect(anonymous.data == [4])
        try await bob.reply([5], to: tag)
        #expect(await next(alice) == ReceivedMessage(data: [5], senderTag: nil))
        await alice.close()
        await bob.close()
        await mixnet.stop()
    }

    @Test func aBurstRightAfterTheHandshakeIsNotLost() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let endpoints = await mixnet.endpoints
        let alice = try await client(mixnet, 0)
        try await alice.start()
        for i in 0..<5 { try await alice.send([UInt8(i)], to: endpoints[1].address) }
        #expect(await eventually { await mixnet.inboxCount(1) == 5 })
        // The mixnet pushes the inbox as soon as the handshake completes, often in the same TCP
        // read as the 101 response.
        let bob = try await client(mixnet, 1)
        try await bob.start()
        var received: [[UInt8]] = []
        for _ in 0..<5 {
            guard let message = await next(bob, timeout: .seconds(2)) else { break }
            received.append(message.data)
        }
        // The dialer forwards bytes left over after the upgrade, so none of the burst is lost.
        #expect(received == [[0], [1], [2], [3], [4]])
        await alice.close()
        await bob.close()
        await mixnet.stop()
    }

    @Test func theClientReconnectsAfterTheMixnetDropsIt() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let endpoints = await mixnet.endpoints
        let alice = try await client(mixnet, 0)
        let bob = try await client(mixnet, 1)
        try await alice.start()
        try await bob.start()
        try await mixnet.dropConnection(1)
        let reattached = await eventually {
            let reconnected = await bob.reconnectCount == 1
            let attached = await mixnet.isAttached(1)
            return reconnected && attached
        }
        #expect(reattached)
        try await alice.send([7], to: endpoints[1].address)
        #expect(await next(bob) == ReceivedMessage(data: [7], senderTag: nil))
        await alice.close()
        await bob.close()
        await mixnet.stop()
    }
}
