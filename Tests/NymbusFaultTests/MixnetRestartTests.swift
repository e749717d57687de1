import Foundation
import NymbusBroker
import NymbusCrypto
import NymbusDaemon
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymbusTestSupport
import NymbusWire
import NymClient
import Testing

/// The local mixnet (every nym-client at once) restarts: each node's `NymClientConnection`
/// retries until the ports open again, and the overlay carries on or rebuilds itself.
@Suite(.serialized) struct MixnetRestartTests {
    /// A quick restart: the sockets break and come back before any timer fires, so the links
    /// survive (same sessions) and publishes after the restart reach every subscriber.
    @Test(.timeLimit(.minutes(2))) func linksSurviveAQuickRestart() async throws {
        let net = try await FaultNetwork.start(clients: 4) { _, node in node.outboundTarget = 0 }
        for index in 0..<4 { try await net.startNode(index, hidden: index == 3) }
        try await net.link([(1, 0), (2, 1), (3, 0), (3, 2)])
        let before = Set(await net.sessions().keys)

        let topic = Topic.named("restart")
        var logs: [DeliveryLog] = []
        for index in 0..<4 { logs.append(await DeliveryLog.start(await net.pubsub(index).subscribe(topic))) }
        try await net.mixnet.restart()
        for index in 0..<4 {
            let transport = await net.transport(index)
            let back = await eventually { await isBack(transport, reconnects: 1) }
            #expect(back, "node \(index) did not reconnect")
        }
        let payloads = (0..<20).map { "after-\($0)" }
        for (i, payload) in payloads.enumerated() {
            // From a visible node and from the hidden one.
            try await net.pubsub(i % 2 == 0 ? 1 : 3).publish(Array(payload.utf8), to: topic)
            try await Task.sleep(for: .milliseconds(20))
        }
        for (index, log) in logs.enumerated() {
            #expect(await eventually { await log.contains(all: payloads) }, "node \(index) is missing objects")
        }
        await net.settle()  // a duplicate would have arrived by now
        for (index, log) in logs.enumerated() {
            let check = MultisetCheck(got: await log.payloads, expected: Set(payloads))
            #expect(check.isExact, "node \(index): \(check)")
        }
        #expect(Set(await net.sessions().keys) == before, "the same sessions carry on")
        await net.shutdown()
    }

    /// A long outage: the restarted nym-clients take 3 s to open their ports, longer than the
    /// nodes' 2 s peer timeout, so every link dies of silence. The nodes keep dialing (the
    /// versions and byes wait in their clients' queues), reconnect when the ports open, and
    /// rebuild a connected overlay from their books; publishes after that reach every subscriber.
    /// The time limit only catches a hang: with two suites at once on 2 cores this test took up to
    /// 116 s of the 2 minutes it had, each of its waits well inside its own bound.
    @Test(.timeLimit(.minutes(4))) func overlayRebuildsAfterALongOutage() async throws {
        let net = try await FaultNetwork.start(clients: 5, startupDelay: .seconds(3)) { _, node in
            node.pingInterval = .milliseconds(500)
            node.peerTimeout = .seconds(2)
            node.handshakeTimeout = .seconds(2)
            node.maintenanceInterval = .milliseconds(100)
            node.redialDelay = .seconds(1)
            node.addressFetchInterval = .seconds(2)
        }
        for index in 0..<5 { try await net.startNode(index, hidden: index == 4, bootstrap: index == 0 ? [] : [0]) }
        #expect(await eventually { await net.isHealthy(minimumLinks: 2) }, "the overlay never formed")
        let topic = Topic.named("outage")
        var subscribers: [BrokerSubscriber] = []
        for index in 0..<5 {
            subscribers.append(try await BrokerSubscriber.start(await net.daemon(index), channel: "outage", topic: topic))
        }
        // Local programs publish through the brokers of nodes 0, 1, 2 and 4 (hidden).
        var publishers: [Int: BrokerConnection] = [:]
        for index in [0, 1, 2, 4] {
            publishers[index] = try await BrokerConnection.connect(path: await net.daemon(index).broker.socketPath)
        }
        let early = ["before"]
        #expect(try await publishers[1]!.command("PUBLISH", "outage", "before") == .integer(1))
        for (index, subscriber) in subscribers.enumerated() {
            let got = await eventually { await subscriber.contains(all: early) }
            let stats = await net.pubsub(index).statistics
            let payloads = await subscriber.payloads
            #expect(got, "node \(index) did not get the first object: \(payloads) \(stats)")
        }
        let linksBefore = Set(await net.sessions().keys)

        try await net.mixnet.restart()
        for index in 0..<5 {
            let transport = await net.transport(index)
            #expect(await eventually { await isBack(transport, reconnects: 1) })
        }
        // Every old link timed out; a connected overlay of new sessions took its place.
        let rebuilt = await eventually {
            let healthy = await net.isHealthy(minimumLinks: 2)
            let sessions = Set(await net.sessions().keys)
            return healthy && sessions.isDisjoint(with: linksBefore)
        }
        let linksAfter = await net.sessions()
        #expect(rebuilt, "the overlay did not rebuild: \(linksAfter) (before: \(linksBefore))")
        var timeouts = 0
        for index in 0..<5 { timeouts += await net.node(index).statistics.timeouts }
        #expect(timeouts >= linksBefore.count, "every old link should have timed out on at least one side")

        let payloads = (0..<20).map { "after-\($0)" }
        for (i, payload) in payloads.enumerated() {
            let publisher = publishers[[0, 4, 2][i % 3]]!
            #expect(try await publisher.command("PUBLISH", "outage", payload) == .integer(1))
            try await Task.sleep(for: .milliseconds(20))
        }
        let expected = Set(early + payloads)
        for (index, subscriber) in subscribers.enumerated() {
            let got = await eventually { await subscriber.contains(all: expected) }
            let stats = await net.pubsub(index).statistics
            let payloads = await subscriber.payloads
            #expect(got, "node \(index) is missing objects: \(payloads) \(stats)")
        }
        await net.settle()  // a duplicate would have arrived by now
        for (index, subscriber) in subscribers.enumerated() {
            let check = MultisetCheck(got: await subscriber.payloads, expected: expected)
            #expect(check.isExact, "node \(index): \(check)")
        }
        for subscriber in subscribers { await subscriber.close() }
        for publisher in publishers.values { await publisher.close() }
        await net.shutdown()
    }
}

/// Whether `transport` is connected after at least `reconnects` reconnections.
func isBack(_ transport: NymClientConnection, reconnects: Int) async -> Bool {
    let count = await transport.reconnectCount
    let connected = await transport.isConnected
    return count >= reconnects && connected
}
