import Foundation
import Logging
import NymClient
import NymbusCrypto
import NymbusMixnet
import NymbusNode
import NymbusWire
import NymbusTestSupport
import Testing

@testable import NymbusPubSub

/// Catch-up over the local mixnet (spec/pubsub.md §16): a node that was away gets every object
/// it missed, exactly once, through range reconciliation and `syncget`, with time injected so
/// hours pass in seconds.
@Suite(.serialized) struct MixnetCatchupTests {
    /// One node: its nym-client connection, node and topic layer, on a shared clock and archive.
    struct Member {
        let connection: NymClientConnection
        let node: Node
        let pubsub: PubSub<Node>

        static func start(
            _ endpoint: MixnetEndpoint, hidden: Bool = false, clock: TestClock, archive: any ObjectArchive
        ) async throws -> Member {
            let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            let connection = NymClientConnection(configuration: try NymClientConfiguration(url: endpoint.url), logger: quiet)
            try await connection.start()
            var nc = NodeConfiguration(mode: hidden ? .hidden : .visible)
            nc.outboundTarget = 0
            // A protocol timeout, not a test deadline: `link` fails if it passes, and on a loaded
            // machine a handshake over the paced mixnet took longer than the 4 s this was.
            nc.handshakeTimeout = .seconds(30)
            let node = Node(transport: connection, configuration: nc, logger: quiet)
            try await node.start()
            var pc = PubSubConfiguration()
            pc.heartbeatInterval = .milliseconds(300)
            let pubsub = try PubSub(network: node, configuration: pc, logger: quiet, clock: clock.function)
            await pubsub.useArchive(archive)
            await node.setPeerHandler { [weak pubsub] event in
                switch event {
                case .connected(let info):
                    await pubsub?.peerConnected(info.id)
                    await pubsub?.beginSync(with: info.id)
                case .disconnected(let peer, _):
                    await pubsub?.peerDisconnected(peer)
                    await pubsub?.syncPeerGone(peer)
                }
            }
            await pubsub.start()
            await pubsub.startSync()
            return Member(connection: connection, node: node, pubsub: pubsub)
        }

        func stop() async {
            await pubsub.stop()
            await pubsub.stopSync()
            await node.stop()
            await connection.close()
        }
    }

    static func mixnet(_ count: Int, seed: UInt64) async throws -> LocalMixnet {
        var mc = MixnetConfiguration()
        mc.clientCount = count
        mc.hopDelay = .milliseconds(5)
        mc.seed = seed
        let mixnet = try LocalMixnet(configuration: mc, logger: Logger(label: "test.mixnet") { _ in SwiftLogNoOpLogHandler() })
        try await mixnet.start()
        return mixnet
    }

    static func link(_ a: Member, to b: MixnetEndpoint, _ other: Member) async throws {
        let before = await other.node.peers().count
        _ = try await a.node.connect(to: b.address)
        #expect(await eventually(timeout: .seconds(20)) { await other.node.peers().count > before })
    }

    /// A(0) publishes on a kept topic and another topic; C(2) is linked to B(1) for the first
    /// objects, then away for `away` seconds while A publishes `missed` more on each topic
    /// (clock moved between publishes), then comes back as a new process (new nym-client
    /// connection, new node and topic layer, the same archive). C's subscription then holds every
    /// object of the kept topic exactly once, and C fetched the other topic's too (it asks for
    /// everything it lacks, whatever the topic).
    func catchUp(away: Int64, missed: Int, hidden: Bool, seed: UInt64) async throws {
        let start: Int64 = 1_780_000_000
        let clock = TestClock(start)
        let mixnet = try await Self.mixnet(3, seed: seed)
        let endpoints = await mixnet.endpoints
        let archives = (0..<3).map { _ in MemoryObjectArchive() }
        let a = try await Member.start(endpoints[0], clock: clock, archive: archives[0])
        let b = try await Member.start(endpoints[1], clock: clock, archive: archives[1])
        var c = try await Member.start(endpoints[2], hidden: hidden, clock: clock, archive: archives[2])
        try await Self.link(a, to: endpoints[1], b)
        try await Self.link(c, to: endpoints[1], b)
        let kept = Topic.named("kept-\(seed)")
        let other = Topic.named("other-\(seed)")
        var subscription = await c.pubsub.subscribe(kept)
        let collector = await Collector.start(subscription)
        var published: [MessageID] = []
        for i in 0..<3 { published.append(try await a.pubsub.publish(Array("before \(i)".utf8), to: kept).messageID) }
        #expect(await collector.waitFor(3, within: 30).count == 3)

        await c.stop()
        let step = away / Int64(missed)
        for i in 0..<missed {
            clock.advance(step)
            published.append(try await a.pubsub.publish(Array("away \(i)".utf8), to: kept).messageID)
            try await a.pubsub.publish(Array("other \(i)".utf8), to: other)
            // B takes both before time moves on (else they would be old on arrival).
            let expected = 3 + 2 * (i + 1)
            #expect(await eventually(timeout: .seconds(20)) { await b.pubsub.archiveUsage.count == expected })
        }
        #expect(await eventually(timeout: .seconds(30)) { await b.pubsub.archiveUsage.count == 3 + 2 * missed })

        // Back: a new process on the same archive, with a new nym-client connection.
        c = try await Member.start(endpoints[2], hidden: hidden, clock: clock, archive: archives[2])
        subscription = await c.pubsub.subscribe(kept)
        let back = await Collector.start(subscription)
        try await Self.link(c, to: endpoints[1], b)
        let got = await back.waitFor(missed, within: 60)
        #expect(Set(got.map { (d: Delivery) in d.messageID }) == Set(published.suffix(missed)), "seed \(seed)")
        #expect(await eventually(timeout: .seconds(30)) { await c.pubsub.archiveUsage.count == 3 + 2 * missed })
        // Every answer in (on a loaded machine some are asked again first), then timers run once
        // more: still exactly once.
        #expect(
            await eventually(timeout: .seconds(60)) {
                if await c.pubsub.syncWanted == 0 { return true }
                clock.advance(11)
                await c.pubsub.syncTick()
                try? await Task.sleep(for: .milliseconds(500))
                return false
            })
        clock.advance(11)
        await c.pubsub.syncTick()
        await b.pubsub.syncTick()
        try await Task.sleep(for: .milliseconds(300))
        #expect(await back.count == missed, "each exactly once")
        let stats = await c.pubsub.syncStatistics
        let served = await b.pubsub.syncStatistics
        let ps = await c.pubsub.statistics
        #expect(stats.fetched + ps.repairedObjects >= 2 * missed)
        #expect(stats.tooOld == 0 && stats.gaveUp == 0, "\(stats)")
        #expect(ps.penalties == 0)
        if hidden { #expect(stats.replySURBsSpent >= stats.objectsReceived) }
        print(
            "catch-up after \(away) s away (\(hidden ? "hidden" : "visible")): \(2 * missed) objects missed, \(stats.fetched) fetched by sync, \(ps.repairedObjects) by repair; \(stats.rangesSent) syncrange sent, \(served.rangesSent) answered, \(stats.getsSent) syncget (\(stats.idsAsked) ids), \(served.objectsServed) served, \(stats.duplicates) duplicates dropped, \(stats.replySURBsSpent) reply SURBs"
        )
        await c.stop()
        await a.stop()
        await b.stop()
        await mixnet.stop()
    }

    @Test(.timeLimit(.minutes(3))) func offlineTenMinutes() async throws {
        try await catchUp(away: 600, missed: 40, hidden: false, seed: 41)
    }

    @Test(.timeLimit(.minutes(3))) func offlineTwentyThreeHours() async throws {
        try await catchUp(away: 23 * 3600, missed: 46, hidden: false, seed: 42)
    }

    @Test(.timeLimit(.minutes(3))) func aHiddenNodeCatchesUpOverSURBs() async throws {
        try await catchUp(away: 3600, missed: 30, hidden: true, seed: 43)
    }
}
