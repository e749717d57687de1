import Foundation
import Logging
import NymbusCrypto
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymbusWire
import NymClient
import Synchronization
import NymbusTestSupport
import Testing

/// A peer abusing catch-up (spec/pubsub.md §16) gets bounded answers, is slowed but never
/// banned for asking too much, and is disconnected and discouraged only for a `syncrange` that
/// does not decode. The node's clock stands still, so its budgets do not refill during the test.
@Suite struct SyncAbuseTests {
    final class FrozenClock: Sendable {
        let now: Int64
        init(_ now: Int64) { self.now = now }
        var function: @Sendable () -> Int64 { { [now] in now } }
    }

    @Test(.timeLimit(.minutes(3))) func askingForEverythingGetsBoundedAnswers() async throws {
        let now = Int64(Date().timeIntervalSince1970)
        var mc = MixnetConfiguration()
        mc.clientCount = 2
        mc.hopDelay = .milliseconds(5)
        mc.seed = 71
        let mixnet = try LocalMixnet(configuration: mc, logger: faultLogger("mixnet"))
        try await mixnet.start()
        let endpoints = await mixnet.endpoints
        let connection = NymClientConnection(configuration: try NymClientConfiguration(url: endpoints[0].url), logger: faultLogger("r"))
        try await connection.start()
        var nc = NodeConfiguration(mode: .visible)
        nc.outboundTarget = 0
        // The attacker never answers pings: on a loaded machine this test outlasts the 30 s silence
        // probe, and its link ended by timeout before the steps below. The probe has its own tests
        // (LinkRecoveryTests); here the link must end only by what the attacker does.
        nc.silenceProbe = .seconds(3600)
        let node = Node(transport: connection, configuration: nc, logger: faultLogger("r"))
        try await node.start()
        var pc = PubSubConfiguration()
        pc.heartbeatInterval = nil
        let pubsub = try PubSub(network: node, configuration: pc, logger: faultLogger("r"), clock: FrozenClock(now).function)
        let archive = MemoryObjectArchive()
        let topic = Topic.named("abuse")
        var ids: [InventoryID] = []
        for i in 0..<1200 {
            let o = try TopicObject.seal(
                payload: Array("old \(i)".utf8), objectType: 0, topic: topic, timestamp: UInt32((now - 7200 + Int64(i)) / 60),
                author: nil)
            _ = try archive.insert(ArchivedObject(id: o.messageID, timestamp: o.timestamp, bytes: o.bytes))
            ids.append(InventoryID(bytes: o.messageID.bytes)!)
        }
        await pubsub.useArchive(archive)
        await pubsub.startSync()
        let attacker = try await Attacker.start(endpoints[1])
        let target = endpoints[0].address
        async let dialed = node.connect(to: attacker.address)
        let (link, _) = try await attacker.acceptDial()
        _ = try await dialed

        // 1. "I have nothing": the answer lists 500 ids and a fingerprint of the rest, no more.
        let everything = SyncRanges(round: 1, isReply: false, ranges: [SyncRange(upper: .infinity, mode: .idList([]))])
        try await attacker.send(.syncRanges(everything), session: link, to: target)
        let first = await attacker.waitFor {
            guard $0.sessionID == link, case .syncRanges(let r) = $0.message else { return false }
            return r.isReply
        }
        guard case .syncRanges(let answer)? = first?.message else {
            Issue.record("no answer to the first question")
            return
        }
        #expect(answer.round == 1 && answer.idCount == 500 && answer.ranges.count == 2)
        let inOrder = archive.index(from: 0).keys.prefix(500).map { InventoryID(bytes: $0.idBytes)! }
        if case .idList(let listed) = answer.ranges[0].mode { #expect(listed == Array(inOrder)) }

        // 2. 40 more questions at once: 31 more answers (a burst of 32), 9 refused, not banned.
        for round in 2...41 {
            try await attacker.send(.syncRanges(SyncRanges(round: UInt16(round), isReply: false, ranges: everything.ranges)), session: link, to: target)
        }
        #expect(await eventually { await pubsub.syncStatistics.rangesReceived == 41 })
        var stats = await pubsub.syncStatistics
        #expect(stats.rangesSent == 32 && stats.refused == 9)
        #expect(
            await eventually {
                await attacker.envelopes().filter {
                    if case .syncRanges(let r) = $0.message { return $0.sessionID == link && r.isReply }
                    return false
                }.count == 32
            })

        // 3. 1000 ids in two syncgets: at most the 500-object burst is served, the rest counted.
        try await attacker.send(.syncGet(Array(ids[0..<500])), session: link, to: target)
        try await attacker.send(.syncGet(Array(ids[500..<1000])), session: link, to: target)
        #expect(await eventually { await pubsub.syncStatistics.objectsServed + pubsub.syncStatistics.refused == 9 + 1000 })
        stats = await pubsub.syncStatistics
        #expect(stats.objectsServed > 0 && stats.objectsServed <= 500)
        let served = stats.objectsServed
        func syncObjectsReceived() async -> Int {
            await attacker.envelopes().filter {
                if case .syncObject = $0.message { return $0.sessionID == link }
                return false
            }.count
        }
        // Up to 500 objects through the mixnet: the wait lasts while they keep arriving.
        #expect(
            await eventually("the served objects to reach the attacker", stalledFor: .seconds(30), progress: { await syncObjectsReceived() }) {
                await syncObjectsReceived() == served
            })

        // 4. An object nobody asked for is not taken.
        let pushed = try TopicObject.seal(
            payload: Array("pushed".utf8), objectType: 0, topic: topic, timestamp: UInt32(now / 60), author: nil)
        try await attacker.send(.syncObject(pushed.bytes), session: link, to: target)
        #expect(await eventually { await pubsub.syncStatistics.unsolicited == 1 })
        #expect(await pubsub.archiveUsage.count == 1200)
        #expect(await node.peers().contains { $0.id.sessionID == link }, "asking too much is not misbehaviour")
        #expect(await node.statistics.discouragements == 0)

        // 5. A syncrange that does not decode (isReply 2) is malformed: bye and discouraged.
        try await attacker.send(
            rawEnvelope(command: Command.syncrange.rawValue, session: link, payload: [0, 1, 2, 0, 0]), to: target)
        #expect(await attacker.bye(on: link)?.code == .malformed)
        #expect(await eventually { await node.statistics.discouragements == 1 })

        await attacker.close()
        await pubsub.stopSync()
        await node.stop()
        await connection.close()
        await mixnet.stop()
    }
}
