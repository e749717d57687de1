import FoundationEssentials
import NymClient
import NymbusCrypto
import NymbusMixnet
import NymbusTestSupport
import NymbusWire
import Testing

@testable import NymbusNode

/// Nodes linked through the local mixnet over real WebSockets.
@Suite(.timeLimit(.minutes(2))) struct MixnetNodeTests {
    @Test func twoVisibleNodesHandshakeAndTrustEachOther() async throws {
        let net = try await MixnetHarness.start(clients: 2)
        let (a, ca) = try await net.node(0, mixnetConfiguration())
        let (b, cb) = try await net.node(1, mixnetConfiguration())
        let events = Inbox<PeerEvent>()
        await b.setPeerHandler { await events.add($0) }
        let peer = try await a.connect(to: net.address(1))
        let fromA = try #require(await a.peers().first)
        #expect(fromA.id == peer && fromA.direction == .outbound && fromA.mode == .visible)
        #expect(fromA.address == net.address(1) && fromA.protocolVersion == 1 && fromA.userAgent == "/nymbus:0.1/")
        #expect(await eventually { await b.peers().count == 1 })
        let fromB = try #require(await b.peers().first)
        #expect(fromB.direction == .inbound && fromB.mode == .visible)
        #expect(fromB.address == net.address(0))  // proven by the verack echo
        #expect(fromB.id == peer)  // one session id, chosen by the initiator
        #expect(await b.knownAddresses().contains(net.address(0)))
        #expect(await a.knownAddresses().contains(net.address(1)))
        #expect(await events.items.count == 1)
        // Objects both ways, on the link's path.
        let gotB = Inbox<[UInt8]>()
        let gotA = Inbox<[UInt8]>()
        await b.setTopicMessageHandler { message, _ in if case .object(let bytes) = message { await gotB.add(bytes) } }
        await a.setTopicMessageHandler { message, _ in if case .object(let bytes) = message { await gotA.add(bytes) } }
        await a.sendTopicMessage(.object([1, 2, 3]), to: peer)
        #expect(await b.sendTopicMessage(.object([4, 5]), toEach: b.peers().map(\.id)).count == 1)
        #expect(
            await eventually {
                let (b, a) = (await gotB.items, await gotA.items)
                return b == [[1, 2, 3]] && a == [[4, 5]]
            })
        await a.stop()
        #expect(await eventually { await events.items.last == .disconnected(peer, .shuttingDown) })
        await b.stop()
        await ca.close()
        await cb.close()
        await net.stop()
    }

    @Test func hiddenNodeLinksToAVisibleNodeAndNeverRevealsItsAddress() async throws {
        let net = try await MixnetHarness.start(clients: 2)
        let tap = TapRecorder()
        await tap.start(await net.mixnet.tap())
        let clock = ManualClock()
        let (h, ch) = try await net.node(0, mixnetConfiguration(.hidden, clock: clock))
        let (v, cv) = try await net.node(1, mixnetConfiguration(clock: clock))
        let peer = try await h.connect(to: net.address(1))
        #expect(await eventually { await v.peers().count == 1 })
        let fromV = try #require(await v.peers().first)
        #expect(fromV.mode == .hidden && fromV.address == nil && fromV.direction == .inbound)
        let fromH = try #require(await h.peers().first)
        #expect(fromH.mode == .hidden && fromH.direction == .outbound && fromH.address == net.address(1))
        // The visible node keeps nothing about the hidden one.
        #expect(await v.knownAddresses().isEmpty)
        // Traffic both ways: objects, custom values, pings with SURB top-ups.
        let gotH = Inbox<[UInt8]>()
        await h.setTopicMessageHandler { message, _ in if case .object(let bytes) = message { await gotH.add(bytes) } }
        let gotV = Inbox<Greeting>()
        try await v.register(Greeting.self) { value, _ in await gotV.add(value) }
        for i in 0..<30 { #expect(await v.sendTopicMessage(.object(Array(repeating: UInt8(i), count: 3000)), toEach: v.peers().map(\.id)).count == 1) }
        try await h.send(Greeting(text: "from the shadows", count: 1), to: peer)
        #expect(
            await eventually {
                let (objects, greetings) = (await gotH.items.count, await gotV.items.count)
                return objects == 30 && greetings == 1
            })
        // Two minutes later both ping (the hidden node's ping carries SURBs for what it received).
        clock.advance(by: .seconds(120))
        await h.maintain()
        await v.maintain()
        #expect(
            await eventually {
                let (hr, vr) = (await h.peers().first?.rtt, await v.peers().first?.rtt)
                return hr != nil && vr != nil
            })
        // The hidden node kept the visible one supplied: no reply was lost for lack of SURBs.
        let counters = await net.mixnet.counters
        #expect(counters.repliesDroppedNoSurbs == 0 && counters.repliesDroppedUnknownTag == 0)
        print(
            "hidden link: \(counters.surbRequests) SURB requests by the holder, \(counters.surbTopUps) automatic top-ups"
        )
        await h.stop()
        await v.stop()
        await ch.close()
        await cv.close()
        await net.stop()
        await tap.stop()

        let hidden = net.address(0)
        let fromHidden = await tap.events.filter { $0.from == 0 }
        #expect(fromHidden.contains { $0.kind == .sendAnonymous })
        #expect(fromHidden.allSatisfy { $0.kind == .sendAnonymous || $0.kind == .surbTopUp })
        let secrets: [[UInt8]] = [
            hidden.bytes, hidden.identityKey, Array(hidden.description.utf8),
            Array(Base58.encode(hidden.identityKey).utf8),
        ]
        for event in fromHidden {
            for secret in secrets { #expect(!containsSubsequence(event.bytes, secret)) }
        }
        // And every overlay message the hidden node sent decodes, none of them naming it.
        for event in fromHidden where event.kind == .sendAnonymous {
            let envelope = try Envelope.decode(event.bytes)
            if case .version(let version) = envelope.message { #expect(version.returnAddress == nil) }
        }
    }

    @Test func twoHiddenNodesCannotLink() async throws {
        let net = try await MixnetHarness.start(clients: 2)
        let (h1, c1) = try await net.node(0, mixnetConfiguration(.hidden))
        let (h2, c2) = try await net.node(1, mixnetConfiguration(.hidden))
        do {
            _ = try await h1.connect(to: net.address(1))
            Issue.record("two hidden nodes linked")
        } catch {
            #expect(error.code == .noInbound)
            #expect(error.reason.contains("hidden node"))
            #expect(error.reason.contains("two hidden nodes cannot link"))
        }
        #expect(await h1.peers().isEmpty)
        #expect(await h2.peers().isEmpty)
        #expect(await h2.statistics.refusedInbound == 1)
        await h1.stop()
        await h2.stop()
        await c1.close()
        await c2.close()
        await net.stop()
    }

    @Test func selfConnectionOverTheMixnet() async throws {
        let net = try await MixnetHarness.start(clients: 1)
        let (a, ca) = try await net.node(0, mixnetConfiguration())
        await #expect(throws: NodeError(.selfConnection, "")) { try await a.connect(to: net.address(0)) }
        #expect(await a.statistics.selfConnections == 1)
        await a.stop()
        await ca.close()
        await net.stop()
    }

    @Test func customObjectsBetweenTwoPeers() async throws {
        let net = try await MixnetHarness.start(clients: 2)
        let (a, ca) = try await net.node(0, mixnetConfiguration())
        let (b, cb) = try await net.node(1, mixnetConfiguration())
        let got = Inbox<String>()
        try await b.register(Greeting.self) { value, peer in await got.add("\(value.text) \(value.count) \(peer)") }
        let peer = try await a.connect(to: net.address(1))
        try await a.send(Greeting(text: "hi", count: 42), to: peer)
        #expect(await eventually { await got.items == ["hi 42 \(peer)"] })
        await a.stop()
        await b.stop()
        await ca.close()
        await cb.close()
        await net.stop()
    }

    @Test func silentPeerIsDroppedAfterTheTimeout() async throws {
        let net = try await MixnetHarness.start(clients: 2)
        let clock = ManualClock()
        let (a, ca) = try await net.node(0, mixnetConfiguration(clock: clock))
        let events = Inbox<PeerEvent>()
        await a.setPeerHandler { await events.add($0) }
        let raw = RawPeer(try await net.connection(1), address: net.address(1))
        let session = try await raw.handshake(with: net.address(0))
        #expect(await eventually { await events.items.count == 1 })
        // The raw peer answers nothing: not the pings, nothing. Time moves only here.
        await clock.advance(by: .seconds(120), running: a)
        #expect(await raw.waitFor(session) { if case .ping = $0 { true } else { false } } != nil)
        await clock.advance(by: .seconds(1079), running: a)
        #expect(await a.peers().count == 1)
        await clock.advance(by: .seconds(1), running: a)
        #expect(await a.peers().isEmpty)
        let bye = await raw.bye(on: session)
        #expect(bye == ByeMessage(code: .timeout, reason: "silent for 1200 s"))
        #expect(await a.statistics.timeouts == 1)
        #expect(await eventually { await events.items.last == .disconnected(PeerID(session), .timeout) })
        await a.stop()
        await ca.close()
        await raw.connection.close()
        await net.stop()
    }

    @Test func misbehavingPeersAreDisconnectedAndTheRestKeepWorking() async throws {
        let net = try await MixnetHarness.start(clients: 6)
        let (a, ca) = try await net.node(0, mixnetConfiguration())
        let (b, cb) = try await net.node(1, mixnetConfiguration())
        let gotB = Inbox<[UInt8]>()
        await b.setTopicMessageHandler { message, _ in if case .object(let bytes) = message { await gotB.add(bytes) } }
        let good = try await a.connect(to: net.address(1))

        // 1. Garbage under a valid header.
        let garbler = RawPeer(try await net.connection(2), address: net.address(2))
        let s1 = try await garbler.handshake(with: net.address(0))
        // Wait until its verack arrived (the mixnet reorders): only a proven address is discouraged.
        #expect(await eventually { await a.peers().count == 2 })
        var garbage = Envelope(sessionID: s1, message: .ping(nonce: 1)).encode()
        garbage[5] = Command.version.rawValue
        try await garbler.connection.send(garbage, to: net.address(0))
        #expect(await garbler.bye(on: s1)?.code == .malformed)

        // 2. An addr of 1001 entries.
        let flooder = RawPeer(try await net.connection(3), address: net.address(3))
        let s2 = try await flooder.handshake(with: net.address(0))
        #expect(await eventually { await a.peers().count == 2 })
        var payload = ByteWriter()
        payload.write(UInt16(1001))
        for _ in 0..<1001 {
            payload.write(bytes: Recipient.random().bytes)
            payload.write(UInt32(0))
            payload.write(UInt64(0))
        }
        var oversized = ByteWriter()
        oversized.write(bytes: Envelope.magic)
        oversized.write(Envelope.wireVersion)
        oversized.write(Command.addr.rawValue)
        oversized.write(bytes: s2.bytes)
        oversized.write(UInt32(payload.bytes.count))
        oversized.write(bytes: payload.bytes)
        try await flooder.connection.send(oversized.bytes, to: net.address(0))
        #expect(await flooder.bye(on: s2)?.code == .oversized)

        // 3. A verack before any version (a hidden sender, so it can be told).
        let rude = RawPeer(try await net.connection(4), address: net.address(4))
        let s3 = SessionID.random()
        try await rude.connection.sendAnonymous(
            Envelope(sessionID: s3, message: .verack(VerackMessage(echoNonce: 5))).encode(), to: net.address(0),
            replySurbs: 20)
        #expect(await rude.bye(on: s3)?.code == .protocolViolation)
        // The session id is dead: a version on it now opens nothing.
        let late = VersionMessage(
            protocolVersion: 1, services: [], timestamp: 0, nonce: 9, userAgent: "/raw/", returnAddress: nil)
        try await rude.connection.sendAnonymous(
            Envelope(sessionID: s3, message: .version(late)).encode(), to: net.address(0), replySurbs: 20)
        #expect(await eventually { await a.statistics.droppedClosedSession >= 1 })

        // 4. A hidden peer sending bytes that are not even an envelope: its tag ties them to it.
        let shadow = RawPeer(try await net.connection(5), address: net.address(5))
        let s5 = try await shadow.hiddenHandshake(with: net.address(0))
        #expect(await eventually { await a.peers().count == 2 })
        try await shadow.connection.sendAnonymous(SecureRandom.bytes(300), to: net.address(0), replySurbs: 0)
        #expect(await shadow.bye(on: s5)?.code == .malformed)

        // Nothing crashed; the honest link still carries traffic, the bad ones are gone.
        await a.sendTopicMessage(.object([7, 7, 7]), to: good)
        #expect(await eventually { await gotB.items == [[7, 7, 7]] })
        #expect(await a.peers().map(\.id) == [good])
        #expect(await a.isDiscouraged(net.address(2)))
        #expect(await a.isDiscouraged(net.address(3)))
        #expect(await !a.isDiscouraged(net.address(1)))
        let stats = await a.statistics
        #expect(stats.malformed == 2 && stats.oversized == 1 && stats.droppedUnknownSession == 1)
        #expect(stats.discouragements == 3)
        // A discouraged peer cannot come back.
        let (s4, _) = try await garbler.open(with: net.address(0))
        let refusal = await garbler.bye(on: s4)
        #expect(refusal?.code == .protocolViolation && refusal?.reason.contains("discouraged") == true)
        #expect(await a.statistics.refusedDiscouraged == 1)
        await a.stop()
        await b.stop()
        for c in [ca, cb, garbler.connection, flooder.connection, rude.connection, shadow.connection] {
            await c.close()
        }
        await net.stop()
    }

    @Test func addressBookSurvivesARestart() async throws {
        let net = try await MixnetHarness.start(clients: 3)
        let dir = "/tmp/nymbus-node-restart-\(SessionIDForTests.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock()
        var config = mixnetConfiguration(outbound: 2, clock: clock)
        config.dataDirectory = dir
        config.bootstrap = [net.address(1), net.address(2)]
        let (b, cb) = try await net.node(1, mixnetConfiguration())
        let (c, cc) = try await net.node(2, mixnetConfiguration())
        do {
            let (a, ca) = try await net.node(0, config)
            #expect(await eventually { await a.peers().count == 2 })
            await a.stop()
            await ca.close()
        }
        let file = dir + "/peers.json"
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        // Restart with no bootstrap list, after the redial delay (10 min): the book alone finds
        // both peers again.
        clock.advance(by: .seconds(600))
        var again = config
        again.bootstrap = []
        let (a2, ca2) = try await net.node(0, again)
        let known = Set(await a2.knownAddresses())
        #expect(known == [net.address(1), net.address(2)])
        #expect(await eventually { await a2.peers().filter { $0.direction == .outbound }.count == 2 })
        await a2.stop()
        await ca2.close()

        // A corrupt book is reported and kept aside, not replaced.
        try Data("{ not json".utf8).write(to: URL(filePath: file))
        let ca3 = try await net.connection(0)
        let a3 = Node(transport: ca3, configuration: again, logger: testLogger())
        do {
            try await a3.start()
            Issue.record("started on a corrupt book")
        } catch {
            #expect(error.code == .corruptAddressBook)
            #expect(error.reason.contains("peers.json.corrupt-"))
        }
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir).filter {
            $0.hasPrefix("peers.json.corrupt-")
        }
        #expect(kept.count == 1)
        #expect(try Data(contentsOf: URL(filePath: dir + "/" + kept[0])) == Data("{ not json".utf8))
        await ca3.close()
        await b.stop()
        await c.stop()
        await cb.close()
        await cc.close()
        await net.stop()
    }
}
