import Foundation
import NymbusBroker
import NymbusCrypto
import NymbusDaemon
import NymbusMixnet
import NymClient
import NymbusNode
import NymbusPubSub
import NymbusTestSupport
import Testing

@Suite struct DevnetTests {
    static func devnet(nodes: Int, hidden: Int = 0, logs: LogCapture = LogCapture()) async throws -> (Devnet, String) {
        let directory = temporaryDirectory("dev")
        var configuration = DevnetConfiguration(directory: directory)
        configuration.nodes = nodes
        configuration.hidden = hidden
        configuration.mixnet.hopDelay = .milliseconds(1)
        let devnet = try Devnet(configuration: configuration, logger: logs.logger())
        try await devnet.start()
        let linked = await devnet.waitUntilLinked(minimumPeers: 1, timeout: .seconds(60))
        #expect(linked, "every node should have a peer")
        return (devnet, directory)
    }

    /// A program publishes on node A's socket; subscribers on B and C (C hidden) get the exact
    /// bytes once each, through the local mixnet.
    @Test func publishOnOneSocketReachesSubscribersOnOthersExactlyOnce() async throws {
        let (devnet, directory) = try await Self.devnet(nodes: 3, hidden: 1)
        let daemons = await devnet.daemons
        let topic = Topic.named("e2e")
        let b = try await subscribe(daemons[1], channel: "e2e", topic: topic)
        let c = try await subscribe(daemons[2], channel: "e2e", topic: topic)
        let a = try await BrokerConnection.connect(path: daemons[0].broker.socketPath)
        let payload: [UInt8] = [0, 13, 10, 255, 1] + Array("binary\r\n".utf8)
        let local = try await a.command([Array("PUBLISH".utf8), Array("e2e".utf8), payload])
        #expect(local == .integer(0))  // no local subscriber on node A
        for connection in [b, c] {
            let message = await nextMessage(connection)
            #expect(message?.channel == Array("e2e".utf8))
            #expect(message?.payload == payload)
        }
        // Exactly once: the next message each subscriber sees is a later marker, not a duplicate.
        _ = try await a.command("PUBLISH", "e2e", "marker")
        for connection in [b, c] {
            #expect(await nextMessage(connection)?.payload == Array("marker".utf8))
        }
        let json = try String(contentsOfFile: directory + "/devnet.json", encoding: .utf8)
        let nodes = try JSONDecoder().decode([String: [Devnet.NodeInfo]].self, from: Data(json.utf8))["nodes"] ?? []
        #expect(nodes.map(\.mode) == ["visible", "visible", "hidden"])
        #expect(nodes.map(\.socket) == daemons.map(\.broker.socketPath))
        for node in nodes { #expect(try Recipient(string: node.address).bytes.count == 96) }
        for connection in [a, b, c] { await connection.close() }
        await devnet.stop()
    }

    /// A pipelining publisher: every message arrives exactly once, and bursts share objects (one
    /// signature and one mixnet message for many PUBLISH commands). The mixnet does not keep
    /// order between objects, so only the set is checked.
    @Test func pipelinedPublishesArriveOncePackedIntoFewObjects() async throws {
        let (devnet, _) = try await Self.devnet(nodes: 2)
        let daemons = await devnet.daemons
        let topic = Topic.named("burst")
        let b = try await subscribe(daemons[1], channel: "burst", topic: topic)
        let a = try await BrokerConnection.connect(path: daemons[0].broker.socketPath)
        let before = await daemons[0].pubsub.statistics
        let count = 600
        let payloads = (0..<count).map { Array("m\($0)".utf8) }
        try await a.send(pipelined: payloads.map { [Array("PUBLISH".utf8), Array("burst".utf8), $0] })
        for _ in 0..<count { #expect(try await a.nextValue() == .integer(0)) }
        var received: [[UInt8]] = []
        for _ in 0..<count {
            guard let message = await nextMessage(b) else { break }
            received.append(message.payload)
        }
        #expect(received.count == count)
        #expect(Set(received) == Set(payloads))
        // Then a different channel's marker: nothing from the burst came twice.
        _ = try await a.command("PUBLISH", "burst", "end")
        #expect(await nextMessage(b)?.payload == Array("end".utf8))
        let after = await daemons[0].pubsub.statistics
        let objects = after.published - before.published - 1
        print("burst: \(count) messages in \(objects) objects, \(after.publishedBatches - before.publishedBatches) batches")
        #expect(objects >= 1 && objects <= count / 4, "\(objects) objects for \(count) pipelined messages")
        #expect(after.batchedPayloads - before.batchedPayloads >= count - objects)
        // NYMBUS.STATUS shows the broker's queue and that nothing accepted was lost.
        let status = try await a.command("NYMBUS.STATUS")
        guard case .array(let flat?) = status else {
            Issue.record("NYMBUS.STATUS is not an array in RESP2: \(status)")
            return
        }
        var fields: [String: RESPValue] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            if case .bulkString(let key?) = flat[index] { fields[String(decoding: key, as: UTF8.self)] = flat[index + 1] }
        }
        #expect(fields["broker-publishes-lost"] == .integer(0))
        #expect(fields["broker-queue-waiting"] == .integer(0))
        #expect(fields["objects-published-batches"] == .integer(Int64(after.publishedBatches)))
        for connection in [a, b] { await connection.close() }
        await devnet.stop()
    }

    /// A private topic: a node with the invite delivers; one without relays but cannot read,
    /// and its PUBLISH to the private channel is refused.
    @Test func privateTopicOnlyReachesNodesThatJoined() async throws {
        let (devnet, _) = try await Self.devnet(nodes: 3)
        let daemons = await devnet.daemons
        let a = try await BrokerConnection.connect(path: daemons[0].broker.socketPath)
        let created = try await a.command("NYMBUS.TOPIC", "NEW", "team")
        let parts = created.elements ?? []
        #expect(parts.first?.text == "~team")
        let invite = try #require(parts.last?.text)
        #expect(invite.hasPrefix("nymbus:topic:"))
        let b = try await BrokerConnection.connect(path: daemons[1].broker.socketPath)
        #expect(try await b.command("NYMBUS.JOIN", invite) == .bulk("~team"))
        let topic = try Topic(invite: invite)
        let bSub = try await subscribe(daemons[1], channel: "~team", topic: topic)
        let c = try await BrokerConnection.connect(path: daemons[2].broker.socketPath)
        let refused = try await c.command("PUBLISH", "~team", "let me in")
        guard case .error(let text) = refused else {
            Issue.record("publish to an unjoined private topic must fail, got \(refused)")
            return
        }
        #expect(text.contains("private and not joined"))
        _ = try await a.command("PUBLISH", "~team", "members only")
        #expect(await nextMessage(bSub)?.payload == Array("members only".utf8))
        // Node C relayed or received it but could not read it: nothing delivered there.
        let cStats = await daemons[2].pubsub.statistics
        #expect(cStats.delivered == 0)
        for connection in [a, b, bSub, c] { await connection.close() }
        await devnet.stop()
    }

    /// Nothing any node logs, at trace level, contains an IP address.
    @Test func noLogLineContainsAnIPAddress() async throws {
        let logs = LogCapture()
        let (devnet, _) = try await Self.devnet(nodes: 3, hidden: 1, logs: logs)
        let daemons = await devnet.daemons
        let topic = Topic.named("quiet")
        let b = try await subscribe(daemons[1], channel: "quiet", topic: topic)
        let a = try await BrokerConnection.connect(path: daemons[0].broker.socketPath)
        _ = try await a.command("PUBLISH", "quiet", "hello")
        #expect(await nextMessage(b) != nil)
        await a.close()
        await b.close()
        await devnet.stop()
        let lines = logs.all
        #expect(lines.count > 10)
        let offending = lines.filter(IPRedaction.containsAddress)
        #expect(offending.isEmpty, "log lines with an IP address: \(offending.prefix(5))")
    }

    @Test func devnetRefusesAllHiddenNodes() throws {
        var configuration = DevnetConfiguration(directory: temporaryDirectory())
        configuration.nodes = 2
        configuration.hidden = 2
        let error = #expect(throws: DaemonError(.invalidConfiguration, "")) {
            _ = try Devnet(configuration: configuration, logger: LogCapture().logger())
        }
        #expect(error?.reason.hasPrefix("DevnetConfiguration.hidden is 2; allowed: 0...1") == true)
    }
}

@Suite struct DaemonStartTests {
    /// nym-client not running: the start fails with a clear error after the start timeout, and
    /// neither the error nor any log line names an IP address.
    @Test func unreachableNymClientIsReportedWithoutAnAddress() async throws {
        let logs = LogCapture()
        let directory = temporaryDirectory("nc")
        var nymClient = try NymClientConfiguration(url: "ws://127.0.0.1:9")  // discard port: nothing listens
        nymClient.startTimeout = .seconds(1)
        nymClient.initialBackoff = .milliseconds(50)
        let daemon = try NymbusDaemon(
            configuration: DaemonConfiguration(
                nymClient: nymClient, node: NodeConfiguration(), socketPath: directory + "/s.sock", dataDirectory: directory),
            logger: logs.logger())
        do {
            try await daemon.start()
            Issue.record("start must fail without a nym-client")
        } catch {
            #expect(error.code == .startFailed)
            #expect(error.reason.contains("port 9"))
            #expect(!IPRedaction.containsAddress(error.reason), "\(error.reason)")
        }
        await daemon.stop()
        #expect(!logs.all.isEmpty)
        #expect(logs.all.filter(IPRedaction.containsAddress).isEmpty, "\(logs.all.filter(IPRedaction.containsAddress).prefix(3))")
    }

    /// The data directory is 0700, the author key and topics file 0600; a corrupt topics file
    /// is an error naming the file, and the file is left as it was.
    @Test func dataFilesArePrivateAndCorruptionIsReported() async throws {
        let directory = temporaryDirectory("df")
        let configuration = DaemonConfiguration(
            nymClient: try NymClientConfiguration(url: "ws://127.0.0.1:9"), node: NodeConfiguration(),
            socketPath: directory + "/s.sock", dataDirectory: directory)
        _ = try NymbusDaemon(configuration: configuration, logger: LogCapture().logger())
        let attributes = try FileManager.default.attributesOfItem(atPath: directory)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        let key = try FileManager.default.attributesOfItem(atPath: directory + "/author.key")
        #expect((key[.posixPermissions] as? Int) == 0o600)
        let secret = try String(contentsOfFile: directory + "/author.key", encoding: .utf8)
        _ = try NymbusDaemon(configuration: configuration, logger: LogCapture().logger())
        #expect(try String(contentsOfFile: directory + "/author.key", encoding: .utf8) == secret)  // kept, not replaced
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: directory + "/topics.json"))
        #expect(throws: DaemonError(.corruptFile, "")) {
            _ = try NymbusDaemon(configuration: configuration, logger: LogCapture().logger())
        }
        #expect(try String(contentsOfFile: directory + "/topics.json", encoding: .utf8) == "{not json")
    }
}

@Suite struct OverlayPrivacyTests {
    /// Every byte that crosses the mixnet during a devnet session (handshakes, discovery,
    /// objects) is free of IP addresses, as text or as raw IPv4 bytes, and the hidden node's
    /// own Nym address appears in nothing it sends.
    @Test func noOverlayMessageCarriesAnIPAddress() async throws {
        let directory = temporaryDirectory("tap")
        var configuration = DevnetConfiguration(directory: directory)
        configuration.nodes = 3
        configuration.hidden = 1
        configuration.mixnet.hopDelay = .milliseconds(1)
        let devnet = try Devnet(configuration: configuration, logger: LogCapture().logger())
        let tap = await devnet.mixnet.tap()
        let recorder = Task {
            var events: [MixnetTapEvent] = []
            for await event in tap { events.append(event) }
            return events
        }
        try await devnet.start()
        #expect(await devnet.waitUntilLinked(minimumPeers: 1, timeout: .seconds(60)))
        let daemons = await devnet.daemons
        let b = try await subscribe(daemons[2], channel: "tapped", topic: Topic.named("tapped"))
        let a = try await BrokerConnection.connect(path: daemons[0].broker.socketPath)
        _ = try await a.command("PUBLISH", "tapped", "payload")
        #expect(await nextMessage(b)?.payload == Array("payload".utf8))
        await a.close()
        await b.close()
        await devnet.stop()
        recorder.cancel()
        let events = await recorder.value
        #expect(events.count >= 6)
        let hidden = await devnet.nodes[2]
        let hiddenAddress = try Recipient(string: hidden.address)
        for event in events {
            let text = String(decoding: event.bytes, as: UTF8.self)
            #expect(!text.contains("127.0.0.1") && !IPRedaction.containsAddress(text), "\(event.kind) carries an IP as text")
            #expect(!contains(event.bytes, [127, 0, 0, 1]), "\(event.kind) carries 127.0.0.1 as bytes")
            if event.from == 2 {
                #expect(event.kind != .send, "the hidden node never uses plain send")
                #expect(!contains(event.bytes, hiddenAddress.bytes))
                #expect(!contains(event.bytes, hiddenAddress.identityKey))
                #expect(!text.contains(hidden.address))
            }
        }
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}
