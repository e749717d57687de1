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

/// Nodes leave and join while objects flow: links to departed nodes are replaced from the
/// address book, newcomers find the network from one live node, and nobody who stayed misses
/// anything.
@Suite(.serialized) struct ChurnTests {
    /// What one publish was: its payload and when the publish call started and returned.
    struct Published: Sendable {
        let payload: String
        let started: ContinuousClock.Instant
        let finished: ContinuousClock.Instant
    }

    /// Publishes from alternating nodes, 250 ms apart, as many as the test has allowed so far,
    /// until told to stop, recording each publish.
    ///
    /// The test allows a few per churn step, so every run does the same work however loaded the
    /// machine: publishing on the clock alone, a loaded run (three to five times slower) published
    /// seven to ten times as many objects, with the repair traffic to match, and slowed itself down
    /// further until it ran out of time.
    actor Publisher {
        private(set) var published: [Published] = []
        private var running = true
        private var allowance = 0
        /// Publishes allowed so far.
        var allowed: Int { allowance }
        private var waiter: CheckedContinuation<Void, Never>?

        /// Lets `count` more publishes go.
        func allow(_ count: Int) {
            allowance += count
            wake()
        }

        func stop() {
            running = false
            wake()
        }

        private func wake() {
            waiter?.resume()
            waiter = nil
        }

        func run(net: FaultNetwork, from publishers: [Int], topic: Topic, prefix: String) async throws {
            var i = 0
            while running {
                guard published.count < allowance else {
                    await withCheckedContinuation { waiter = $0 }
                    continue
                }
                let payload = "\(prefix)-\(i)"
                let started = ContinuousClock.now
                try await net.pubsub(publishers[i % publishers.count]).publish(Array(payload.utf8), to: topic)
                published.append(Published(payload: payload, started: started, finished: .now))
                i += 1
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// 20 nodes (4 hidden) from one seed, outbound target 6. While two nodes (one hidden) keep
    /// publishing, 7 nodes (a third, one of them hidden) stop one at a time and 7 new nodes join,
    /// each bootstrapped from a live visible node. Every node that was up receives every object
    /// published while it was up, exactly once; after the churn every live node gets everything.
    /// The time limit only catches a hang (the waits inside name what did not happen; the long ones
    /// fail when their progress stops, not at a wall-clock deadline).
    @Test(.timeLimit(.minutes(5))) func publishesReachEveryLiveSubscriberThroughChurn() async throws {
        let first = 20
        let hiddenNodes: Set<Int> = [16, 17, 18, 19]
        let net = try await FaultNetwork.start(clients: first) { _, node in
            node.outboundTarget = 6
            node.pingInterval = .seconds(5)
            node.peerTimeout = .seconds(20)
            node.handshakeTimeout = .seconds(3)
            node.maintenanceInterval = .milliseconds(200)
            node.redialDelay = .seconds(30)
            node.addressFetchInterval = .seconds(3)
        }
        for index in 0..<first {
            try await net.startNode(index, hidden: hiddenNodes.contains(index), bootstrap: index == 0 ? [] : [0])
        }
        let formed = ContinuousClock.now
        func outboundCounts() async -> [Int] {
            var counts: [Int] = []
            for index in 0..<first { counts.append(await net.node(index).peers().filter { $0.direction == .outbound }.count) }
            return counts
        }
        let atTarget = await eventually("20 nodes at 6 outbound links", stalledFor: .seconds(60), progress: { await outboundCounts() }) {
            await outboundCounts().allSatisfy { $0 >= 6 }
        }
        #expect(atTarget, "not every node reached 6 outbound links")
        print("churn: 20 nodes at 6 outbound after \(ContinuousClock.now - formed)")

        let topic = Topic.named("churn")
        var logs: [Int: DeliveryLog] = [:]
        for index in 0..<first { logs[index] = await DeliveryLog.start(await net.pubsub(index).subscribe(topic)) }

        // A third of the nodes leave (one hidden); each newcomer bootstraps from a node that stays.
        let leaving = [2, 4, 6, 9, 12, 14, 17]
        let anchors = [1, 3, 5, 7, 8, 10, 11]
        // One visible, one hidden; both stay. Not node 0: as everyone's seed it has the most links,
        // and every object costs a node one send per link (see the report on hub nodes).
        let publishers = [5, 19]
        var upAt: [Int: ContinuousClock.Instant] = [:]
        let publisher = Publisher()
        let publishing = Task { try await publisher.run(net: net, from: publishers, topic: topic, prefix: "during") }
        let churnStarted = ContinuousClock.now
        await publisher.allow(4)
        _ = await eventually("the first publish") { await publisher.published.count >= 1 }
        for (step, leaver) in leaving.enumerated() {
            // Objects flow while the leaver goes and the newcomer comes (the same number in every
            // run: see `Publisher`).
            await publisher.allow(3)
            // Before it leaves, the leaver has everything published up to now.
            let decided = ContinuousClock.now
            let owed = await publisher.published.filter { $0.finished < decided }.map(\.payload)
            // As long as objects keep arriving there (or leaving the publishers' nym-client
            // queues, or being repaired) it is catching up, however slowly on a loaded machine.
            let caughtUp = await eventually(
                "node \(leaver) has every object published before it leaves", stalledFor: .seconds(30),
                progress: {
                    var moving = [await logs[leaver]!.payloads.count, await net.pubsub(leaver).statistics.repairedObjects]
                    for index in publishers { moving.append(await net.transport(index).queuedMessageCount) }
                    return moving
                }
            ) { await logs[leaver]!.contains(all: owed) }
            if !caughtUp {
                let missing = Set(owed).subtracting(await logs[leaver]!.payloads).sorted()
                let peers = await net.node(leaver).peers().count
                var senders: [String] = []
                for index in publishers {
                    let failures = await net.node(index).statistics.sendFailures
                    let transport = await net.transport(index)
                    let queued = await transport.queuedMessageCount
                    let connection =
                        "connected \(await transport.isConnected), \(await transport.reconnectCount) reconnects, \(await transport.resentCount) resent"
                    let outboxes = await net.node(index).sendQueues
                    let mixnet =
                        "mixnet: attached \(await net.mixnet.isAttached(index)), \(await net.mixnet.queuedPackets(index)) packets queued, \(await net.mixnet.inboxCount(index)) in its inbox"
                    senders.append(
                        "node \(index): \(failures) send failures, \(queued) queued (\(connection)); outboxes \(outboxes); \(mixnet)")
                }
                // Gossip repair recovers objects lost in flight on dying links: a miss is a failure.
                let repair = await net.pubsub(leaver).statistics
                Issue.record(
                    "node \(leaver) (\(peers) peers) lagged: missing \(missing); publishers \(senders); its repair: \(repair.invReceived) inv received, \(repair.getdataSent) getdata sent, \(repair.repairedObjects) repaired")
            }
            await net.stopNode(leaver)

            let newcomer = try await net.addNode(hidden: step == leaving.count - 1, bootstrap: [anchors[step]])
            logs[newcomer] = await DeliveryLog.start(await net.pubsub(newcomer).subscribe(topic))
            // Up = linked (at both ends) to a node that never leaves.
            let permanent = Set(0..<first).subtracting(leaving).union(upAt.keys)
            // Generous: on a loaded machine a first handshake can fail (the anchor's queue is
            // backed up) and the retry comes after the redial delay (30 s).
            let linked = await eventually(timeout: .seconds(75)) {
                await net.links().contains { $0.contains(newcomer) && permanent.contains($0[0] == newcomer ? $0[1] : $0[0]) }
            }
            #expect(linked, "newcomer \(newcomer) never linked")
            upAt[newcomer] = .now
            // Three publishes while the newcomer is up, and every one allowed so far, before the
            // next node leaves.
            await publisher.allow(3)
            _ = await eventually("the allowed publishes") { await publisher.published.count >= publisher.allowed }
        }
        await publisher.stop()
        try await publishing.value
        let during = await publisher.published
        print("churn: \(leaving.count) left, \(upAt.count) joined, \(during.count) published in \(ContinuousClock.now - churnStarted)")

        // After the churn: every live node has replaced its lost links (6 outbound again) and the
        // overlay is connected; everything now reaches every live node.
        let live = await net.live
        let refillStarted = ContinuousClock.now
        var lastShort: [Int] = []
        let refilled = await eventually("6 outbound links at every node", stalledFor: .seconds(60), progress: { lastShort }) {
            var short: [Int] = []
            for index in live where await net.node(index).peers().filter({ $0.direction == .outbound }).count < 6 {
                short.append(index)
            }
            if short != lastShort {
                print("churn: refill +\(ContinuousClock.now - refillStarted): short \(short)")
                lastShort = short
            }
            return short.isEmpty
        }
        var outbound: [String] = []
        for index in live { outbound.append("\(index):\(await net.node(index).peers().filter { $0.direction == .outbound }.count)") }
        #expect(refilled, "outbound links per node: \(outbound)")
        #expect(await eventually(timeout: .seconds(60)) { await net.isHealthy(minimumLinks: 2) })
        let after = (0..<10).map { "after-\($0)" }
        for (i, payload) in after.enumerated() {
            let from = [5, 19, upAt.keys.sorted().first!][i % 3]
            try await net.pubsub(from).publish(Array(payload.utf8), to: topic)
            try await Task.sleep(for: .milliseconds(50))
        }

        // What each node owes: original survivors everything; newcomers what came after they were
        // up; leavers what was published before they were told to leave (checked above).
        var owed: [Int: Set<String>] = [:]
        for index in live {
            let since = upAt[index]
            owed[index] = Set(during.filter { since == nil || $0.started > since! }.map(\.payload)).union(after)
        }
        for index in live {
            let complete = await eventually(
                "node \(index) has every object it is owed", stalledFor: .seconds(30),
                progress: { [await logs[index]!.payloads.count, await net.pubsub(index).statistics.repairedObjects] }
            ) { await logs[index]!.contains(all: owed[index]!) }
            #expect(complete, "node \(index) missed objects")
        }
        // Not `net.settle()`: twenty nodes' heartbeats, pings and address fetches keep the mixnet
        // busy, so it is rarely quiet everywhere at once on a loaded machine.
        try await Task.sleep(for: .milliseconds(500))  // a duplicate would show up by now
        let everything = Set(during.map(\.payload) + after)
        for (index, log) in logs.sorted(by: { $0.key < $1.key }) {
            let got = await log.payloads
            let check = MultisetCheck(got: got, expected: everything, allowedMissing: everything.subtracting(owed[index] ?? []))
            #expect(check.isExact, "node \(index): \(check)")
        }
        var stats: [String] = []
        for index in live {
            let node = await net.node(index).statistics
            #expect(node.sendFailures == 0, "node \(index): nym-client refused \(node.sendFailures) messages (queue full?)")
            #expect(
                node.malformed == 0 && node.protocolViolations == 0 && node.discouragements == 0,
                "node \(index): \(node.malformed) malformed, \(node.protocolViolations) protocol violations, \(node.discouragements) discouragements"
            )
            let topics = await net.pubsub(index).statistics
            #expect(topics.penalties == 0 && topics.droppedBadSignature == 0)
            stats.append("\(index):\(await net.node(index).peers().count)")
        }
        print("churn: \(live.count) live nodes, peers \(stats.joined(separator: " "))")
        var totals = PubSubStatistics()
        for index in await net.daemons.keys.sorted() {
            let s = await net.pubsub(index).statistics
            totals.invSent += s.invSent
            totals.invIdsSent += s.invIdsSent
            totals.getdataSent += s.getdataSent
            totals.getdataServed += s.getdataServed
            totals.repairedObjects += s.repairedObjects
            totals.transmissions += s.transmissions
        }
        let objects = Double(everything.count)
        print(
            "churn repair: \(everything.count) objects, \(totals.repairedObjects) repaired, flood transmissions \(totals.transmissions); inv \(totals.invSent) msgs (\(String(format: "%.1f", Double(totals.invSent) / objects)) per object, \(totals.invIdsSent) ids), getdata \(totals.getdataSent), served \(totals.getdataServed)"
        )
        await net.shutdown()
    }
}
