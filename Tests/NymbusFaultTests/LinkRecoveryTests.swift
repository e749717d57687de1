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

/// Issue 15's reproductions over the local mixnet: links that die are noticed in seconds by both
/// ends, a node relinks after its peers restart (hidden nodes too), no ghost inbound links, and
/// a crash loses neither the book nor the data directory's ownership.
@Suite(.serialized) struct LinkRecoveryTests {
    /// Quick probes (the production values are 30 s and 5 s; the logic is the same) and the
    /// production peer timeout of 20 min: a link that ends in seconds ended by a probe.
    static func quickProbes(_ node: inout NodeConfiguration) {
        node.silenceProbe = .seconds(1)
        node.pongWaitMinimum = .milliseconds(500)
        node.maintenanceInterval = .milliseconds(100)
        node.handshakeTimeout = .seconds(5)
        node.relinkDelay = .milliseconds(200)
        node.relinkMaximumDelay = .seconds(2)
    }

    /// Reproduction 1: V (visible) and H (hidden, bootstrapped from V; it also knows W). V is
    /// killed and started again (new process, no session kept): H's next probe on the old link
    /// gets "unknown session" and the link ends at once; H then redials V (its book's 10-minute
    /// redial delay notwithstanding) and both ends hold exactly one link.
    @Test(.timeLimit(.minutes(2))) func aHiddenNodeRelinksAfterItsVisiblePeerRestarts() async throws {
        let net = try await FaultNetwork.start(clients: 3, persistent: true) { _, node in Self.quickProbes(&node) }
        try await net.startNode(0)
        try await net.startNode(2, bootstrap: [0])
        try await net.startNode(1, hidden: true, bootstrap: [0])
        let addr = await net.addresses
        let v = addr[0]
        func links(from h: Int, to address: Recipient) async -> [PeerInfo] {
            await net.node(h).peers().filter { $0.address == address && $0.direction == .outbound }
        }
        #expect(await eventually { await links(from: 1, to: v).count == 1 }, "H never linked to V")
        let before = try #require(await links(from: 1, to: v).first).id

        await net.crashNode(0)
        try await net.restartNode(0)
        let relinked = await eventually {
            let now = await links(from: 1, to: v)
            return now.count == 1 && now[0].id != before
        }
        let hPeers = await net.node(1).peers()
        #expect(relinked, "H did not relink to the restarted V: \(hPeers)")
        // The restarted V holds exactly one hidden inbound link, the new one.
        let current = try #require(await links(from: 1, to: v).first).id
        let oneInbound = await eventually {
            await net.node(0).peers().filter { $0.mode == .hidden && $0.direction == .inbound }.map(\.id) == [current]
        }
        #expect(oneInbound, "V does not hold exactly the one new hidden link")
        #expect(await net.node(1).statistics.timeouts == 0, "the old link should end by bye, not by silence")
        await net.shutdown()
    }

    /// Reproduction 2: a killed peer's links end in seconds at every surviving end: a visible and
    /// a hidden initiator (to the killed node 3), and a responder's visible and hidden inbound
    /// links (from the killed nodes 1 and 2). The peer timeout stays 20 minutes.
    @Test(.timeLimit(.minutes(2))) func deadLinksAreNoticedInSecondsByBothEndsInBothModes() async throws {
        let net = try await FaultNetwork.start(clients: 5) { _, node in
            Self.quickProbes(&node)
            node.outboundTarget = 0  // no relinking: only the links made below
        }
        for index in 0..<5 { try await net.startNode(index, hidden: index == 2) }
        try await net.link([(1, 0), (2, 0), (0, 3), (2, 3), (4, 0)])
        let addr = await net.addresses
        await net.crashNode(3)
        let outboundEnded = await eventually {
            let zero = await net.node(0).peers().contains { $0.address == addr[3] }
            let two = await net.node(2).peers().contains { $0.address == addr[3] }
            return !zero && !two
        }
        #expect(outboundEnded, "the visible and hidden initiators still list the dead node 3")
        await net.crashNode(1)
        await net.crashNode(2)
        let inboundEnded = await eventually {
            let peers = await net.node(0).peers()
            return peers.count == 1 && peers[0].address == addr[4]
        }
        let left = await net.node(0).peers()
        #expect(inboundEnded, "node 0 still lists links from the dead nodes 1 and 2: \(left)")
        #expect(await net.node(0).statistics.timeouts == 3)
        #expect(await net.node(4).peers().count == 1, "the live link stays")
        await net.shutdown()
    }

    /// Reproduction 2b: on a fresh network below its outbound target, nodes fetch addresses from
    /// their bootstrap node, which they are already linked to. The fetch is a second, short link;
    /// it used to stay until its 60 s timeout when the answer was empty (a young book), showing
    /// as a ghost second inbound link. Now every `getaddr` is answered, and the fetch closes.
    @Test(.timeLimit(.minutes(2))) func addressFetchesLeaveNoGhostInboundLinks() async throws {
        let net = try await FaultNetwork.start(clients: 3) { _, node in
            node.addressFetchInterval = .milliseconds(300)
            node.maintenanceInterval = .milliseconds(100)
        }
        try await net.startNode(0)
        try await net.startNode(1, bootstrap: [0])
        let addr = await net.addresses
        // A fetch starts only when the previous one closed: three of them within the wait means
        // each closed at its answer (before, each stayed its 60 s timeout).
        let one = await eventually {
            let fromOne = await net.node(0).peers().filter { $0.address == addr[1] && $0.direction == .inbound }
            let fetches = await net.node(1).statistics.addressFetches
            return fromOne.count == 1 && fetches >= 3
        }
        let peers = await net.node(0).peers().filter { $0.direction == .inbound }
        let fetches = await net.node(1).statistics.addressFetches
        #expect(one, "node 0 lists \(peers.count) inbound links from node 1 after \(fetches) fetches")
        await net.shutdown()
    }

    /// Reproduction 3: the book is written a few seconds after it changes, so a node killed
    /// right after linking finds its peer again after the restart, with no bootstrap list at all.
    @Test(.timeLimit(.minutes(2))) func aCrashedNodeRelinksFromItsSavedBook() async throws {
        let net = try await FaultNetwork.start(clients: 2, persistent: true) { _, node in
            Self.quickProbes(&node)
            node.bookSaveDelay = .milliseconds(200)
        }
        try await net.startNode(0)
        try await net.startNode(1)  // no bootstrap: it links only because we ask it to
        let addr = await net.addresses
        _ = try await net.node(1).connect(to: addr[0])
        let book = net.root + "/n1/data/peers.json"
        let saved = await eventually {
            guard let data = FileManager.default.contents(atPath: book) else { return false }
            return String(decoding: data, as: UTF8.self).contains(addr[0].description)
        }
        #expect(saved, "peers.json does not hold the peer a moment after the link")
        await net.crashNode(1)
        try await net.restartNode(1)
        let back = await eventually {
            await net.node(1).peers().contains { $0.address == addr[0] && $0.direction == .outbound }
        }
        #expect(back, "the restarted node did not redial its last peer")
        await net.shutdown()
    }

    /// Reproduction 5: a second node on a data directory in use is refused with a sentence that
    /// names the lock file and the running node's process id; once the first is gone (even by a
    /// crash), the directory can be used again.
    @Test(.timeLimit(.minutes(1))) func aDataDirectoryServesOneNodeAtATime() async throws {
        let net = try await FaultNetwork.start(clients: 1, persistent: true)
        try await net.startNode(0)
        let data = net.root + "/n0/data"
        var other = NodeConfiguration()
        other.outboundTarget = 0
        let second = DaemonConfiguration(
            nymClient: try NymClientConfiguration(url: await net.endpoints[0].url), node: other,
            socketPath: net.root + "/other.sock", dataDirectory: data)
        do {
            _ = try NymbusDaemon(configuration: second, logger: faultLogger("second"))
            Issue.record("a second node opened a data directory in use")
        } catch {
            #expect(error.code == .dataDirectoryLocked)
            #expect(
                error.reason
                    == "The data directory \(data) is in use by the node with process id \(getpid()): it holds the lock "
                    + "\(data)/nymbus.lock. Stop that node first, or give this one another --data-dir.")
        }
        await net.crashNode(0)
        let third = try NymbusDaemon(configuration: second, logger: faultLogger("third"))
        await third.stop()
        await net.shutdown()
    }

    /// Reproduction 4: publishes accepted while no peer is linked survive a clean stop and a
    /// crash (`held-publishes.json`), and go out after the restart, each reaching the
    /// subscriber exactly once; the file is gone once they are out.
    @Test(.timeLimit(.minutes(2))) func heldPublishesSurviveAStopAndACrash() async throws {
        let net = try await FaultNetwork.start(clients: 2, persistent: true) { _, node in Self.quickProbes(&node) }
        try await net.startNode(0)
        let topic = Topic.named("held")
        let log = await DeliveryLog.start(await net.pubsub(0).subscribe(topic))
        let file = net.root + "/n1/data/held-publishes.json"
        for (round, end) in ["stop", "crash"].enumerated() {
            try await net.startNode(1)  // no bootstrap, empty book: no peer
            for n in 0..<3 {
                let result = try await net.pubsub(1).publish(Array("\(end)-\(n)".utf8), to: topic)
                #expect(result.queued)
            }
            #expect(await net.pubsub(1).pendingPublishes == 3)
            #expect(FileManager.default.fileExists(atPath: file))
            if end == "stop" { await net.stopNode(1) } else { await net.crashNode(1) }
            try await net.startNode(1, bootstrap: [0])
            let expected = Set((0...round).flatMap { r in (0..<3).map { "\(["stop", "crash"][r])-\($0)" } })
            let arrived = await eventually { await log.contains(all: expected) }
            let got = await log.payloads
            #expect(arrived, "after the \(end): \(got)")
            #expect(await eventually { !FileManager.default.fileExists(atPath: file) })
            #expect(await net.pubsub(1).pendingPublishes == 0)
            await net.stopNode(1)
            let check = MultisetCheck(got: await log.payloads, expected: expected)
            #expect(check.isExact, "\(check)")
        }
        await log.stop()
        await net.shutdown()
    }

    /// Reproduction 6: with nym-client unreachable, a socket directory that is not private and
    /// a corrupt `peers.json` are reported at once, not after nym-client answers.
    @Test(.timeLimit(.minutes(1))) func configurationErrorsDoNotWaitForNymClient() async throws {
        let root = temporaryDirectory("pre")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var nymClient = try NymClientConfiguration(url: "ws://127.0.0.1:1/")  // nothing listens on port 1
        nymClient.startTimeout = .seconds(30)
        var node = NodeConfiguration()
        node.outboundTarget = 0
        // A socket directory open to others.
        let open = root + "/open"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: open)
        let first = try NymbusDaemon(
            configuration: DaemonConfiguration(
                nymClient: nymClient, node: node, socketPath: open + "/n.sock", dataDirectory: root + "/d1"),
            logger: faultLogger("pre1"))
        do {
            try await first.start()
            Issue.record("started with a socket directory of mode 0755")
        } catch {
            #expect(error.code == .startFailed)
            #expect(error.reason.hasPrefix("Cannot use the broker socket: directory '\(open)' of the broker socket has mode 0755"))
        }
        await first.stop()
        // A corrupt address book.
        let data = root + "/d2"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: data + "/peers.json"))
        let second = try NymbusDaemon(
            configuration: DaemonConfiguration(
                nymClient: nymClient, node: node, socketPath: root + "/s2/n.sock", dataDirectory: data),
            logger: faultLogger("pre2"))
        do {
            try await second.start()
            Issue.record("started with a corrupt peers.json")
        } catch {
            #expect(error.code == .startFailed)
            #expect(error.reason.hasPrefix("Cannot start the node: address book \(data)/peers.json is corrupt"))
        }
        await second.stop()
    }
}
