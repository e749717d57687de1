import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusWire
import Testing

@testable import NymbusNode

@Suite struct InboundEvictionTests {
    func candidate(_ connectedAt: Double, rtt: Double? = nil) -> InboundEviction.Candidate {
        InboundEviction.Candidate(id: .random(), connectedAt: connectedAt, minimumRTT: rtt)
    }

    @Test func protectsTheFastestQuarterAndTheOldestHalfAndEvictsTheNewestOfTheRest() {
        // 8 links: the 2 fastest (a quarter) are protected, then the 3 oldest of the other 6.
        let links = (0..<8).map { candidate(Double($0) * 10, rtt: [5, 4, 3, 2, 1, 0.1, 0.2, nil][$0]) }
        // Fastest: #5 (0.1 s) and #6 (0.2 s). Oldest half of #0-4, #7: #0, #1, #2. Left: #3, #4, #7.
        #expect(InboundEviction.select(from: links) == links[7].id)
        // 7 links: only #5 is protected as fast (7 / 4 = 1); the oldest 3 of the other 6 too;
        // #6 is then the newest unprotected.
        #expect(InboundEviction.select(from: Array(links.prefix(7))) == links[6].id)
    }

    @Test func smallAndEmptySets() {
        let one = candidate(0, rtt: 0.1)
        #expect(InboundEviction.select(from: [one]) == one.id)  // nothing protected by a quarter or a half of 1
        let two = [candidate(0), candidate(5)]
        #expect(InboundEviction.select(from: two) == two[1].id)
        #expect(InboundEviction.select(from: []) == nil)
    }

    @Test func unmeasuredLinksAreNotProtectedAsFast() {
        // No round trip measured on any link: only age protects.
        let links = (0..<4).map { candidate(Double($0)) }
        #expect(InboundEviction.select(from: links) == links[3].id)
        // The newest link is the only one with a round trip: it is protected as the fastest.
        var measured = links
        measured[3] = InboundEviction.Candidate(id: links[3].id, connectedAt: 3, minimumRTT: 9)
        #expect(InboundEviction.select(from: measured) == links[2].id)
    }
}

extension NodeSingleTests {
    @Test func aFullInboundSetEvictsTheNewestUnprotectedLink() async throws {
        let t = ScriptedTransport()
        let clock = ManualClock()
        var config = testConfiguration(clock: clock)
        config.inboundMax = 4
        config.silenceProbe = .seconds(100_000)  // one periodic ping per link, answered below
        let node = Node(transport: t, configuration: config, logger: testLogger())
        let events = Inbox<PeerEvent>()
        await node.setPeerHandler { await events.add($0) }
        try await node.start()
        var opened: [SessionID] = []  // a, b, c, d: 10 s apart
        for n in 1...4 {
            opened.append(await visibleHandshake2(node, t, from: .random(), expectPeers: n))
            clock.advance(by: .seconds(10))
        }
        let links = opened
        // Ping all four; d (the newest) answers in 0.2 s, the others in 2 s.
        await clock.advance(by: .seconds(120), running: node)
        let pings = await t.log.waitFor(4) { $0.message?.command == .ping }
        func pong(_ session: SessionID) {
            for sent in pings where sent.envelope?.sessionID == session {
                if case .ping(let nonce)? = sent.message { t.inject(.pong(nonce: nonce), session: session) }
            }
        }
        clock.advance(by: .milliseconds(200))
        pong(links[3])
        // (Every link has a round trip from its handshake already; wait for the pong's.)
        #expect(await eventually { await node.peers().first { $0.id.sessionID == links[3] }?.rtt == .milliseconds(200) })
        clock.advance(by: .milliseconds(1800))
        for link in links.prefix(3) { pong(link) }
        #expect(await eventually { await node.peers().filter { $0.rtt == .milliseconds(2000) }.count == 3 })

        // e arrives: d is protected as the fastest quarter, a as the oldest half of a, b, c;
        // c, the newest of b and c, is evicted.
        let e = await visibleHandshake2(node, t, from: .random(), expectPeers: 4)
        let evicted = ByeMessage(code: .tooManyPeers, reason: "evicted to make room for a new inbound link")
        let byeC = await t.log.waitFor { $0.envelope?.sessionID == links[2] && $0.message?.command == .bye }
        #expect(byeC.map(\.message) == [.bye(evicted)])
        #expect(Set(await node.peers().map(\.id.sessionID)) == [links[0], links[1], links[3], e])
        // f arrives: e has no round trip yet and is the newest of b and e: evicted.
        clock.advance(by: .seconds(10))
        let f = await visibleHandshake2(node, t, from: .random(), expectPeers: 4)
        let byeE = await t.log.waitFor { $0.envelope?.sessionID == e && $0.message?.command == .bye }
        #expect(byeE.map(\.message) == [.bye(evicted)])
        #expect(Set(await node.peers().map(\.id.sessionID)) == [links[0], links[1], links[3], f])
        let stats = await node.statistics
        #expect(stats.evictedInbound == 2 && stats.refusedInbound == 0 && stats.discouragements == 0)
        #expect(await events.items.contains(.disconnected(PeerID(links[2]), .tooManyPeers)))
        await node.stop()
    }

    @Test func withNoRoomAndNothingToEvictANewLinkIsRefused() async throws {
        let t = ScriptedTransport()
        var config = testConfiguration()
        config.inboundMax = 0
        let node = Node(transport: t, configuration: config, logger: testLogger())
        try await node.start()
        let session = SessionID.random()
        let late = Recipient.random()
        t.inject(.version(Handshakes.version(nonce: 3, address: late)), session: session)
        let answer = await t.log.waitFor { $0.envelope?.sessionID == session }
        #expect(answer.first?.kind == .send(late))
        #expect(
            answer.map(\.message) == [.bye(ByeMessage(code: .tooManyPeers, reason: "no room for more inbound links"))])
        #expect(await node.peers().isEmpty)
        #expect(await node.statistics.refusedInbound == 1)
        await node.stop()
    }
}
