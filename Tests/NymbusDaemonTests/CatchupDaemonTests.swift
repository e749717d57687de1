import Foundation
import Logging
import NymClient
import NymbusBroker
import NymbusDaemon
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymbusTestSupport
import Testing

/// Catch-up at the daemon (spec/pubsub.md §16): a node that keeps a stream for a topic is
/// stopped, the others go on publishing, and it comes back as a new process on the same data
/// directory with a new nym-client connection. Its stream and a subscriber on its broker get
/// every message it missed exactly once, through sync from `archive.sqlite` on its peer (repair's
/// cache is cut to one second here, so repair cannot do it).
@Suite struct CatchupDaemonTests {
    static func entries(_ c: BrokerConnection, _ key: String) async throws -> [String] {
        let reply = try await c.command("XRANGE", key, "-", "+")
        return (reply.elements ?? []).map { entry in
            ((entry.elements?.last?.elements) ?? []).map { $0.text ?? "" }.joined(separator: "|")
        }
    }

    @Test(.timeLimit(.minutes(3))) func aRestartedNodeGetsWhatItMissedInStreamAndSubscription() async throws {
        let root = temporaryDirectory("catchup")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let logs = LogCapture()
        var mc = MixnetConfiguration()
        mc.clientCount = 3
        mc.hopDelay = .milliseconds(5)
        mc.seed = 14
        let mixnet = try LocalMixnet(configuration: mc, logger: Logger(label: "m") { _ in SwiftLogNoOpLogHandler() })
        try await mixnet.start()
        let endpoints = await mixnet.endpoints
        func daemon(_ i: Int) throws -> NymbusDaemon {
            var node = NodeConfiguration(mode: .visible)
            node.outboundTarget = 0  // links are the ones this test makes
            var pubsub = PubSubConfiguration()
            pubsub.messageCacheWindow = .seconds(1)
            var configuration = DaemonConfiguration(
                nymClient: try NymClientConfiguration(url: endpoints[i].url), node: node, pubsub: pubsub,
                socketPath: root + "/n\(i)/nymbus.sock", dataDirectory: root + "/n\(i)")
            configuration.warnWithoutPeerAfter = nil
            return try NymbusDaemon(configuration: configuration, logger: logs.logger("node\(i)"))
        }
        let a = try daemon(0)
        let b = try daemon(1)
        var c = try daemon(2)
        for d in [a, b, c] { try await d.start() }
        _ = try await b.node.connect(to: endpoints[0].address)
        _ = try await c.node.connect(to: endpoints[0].address)
        #expect(await eventually { await a.node.peers().count == 2 })

        let kept = Topic.named("kept")
        var cClient = try await BrokerConnection.connect(path: c.broker.socketPath)
        #expect(try await cClient.command("XGROUP", "CREATE", "kept", "g", "$", "MKSTREAM") == .simpleString("OK"))
        #expect(await eventually { await c.pubsub.subscribedTopics.contains(kept) })
        let aClient = try await BrokerConnection.connect(path: a.broker.socketPath)
        for i in 0..<3 { _ = try await aClient.command("PUBLISH", "kept", "before \(i)") }
        #expect(await eventually { ((try? await Self.entries(cClient, "kept"))?.count ?? 0) == 3 })

        // Pipelined publishes may share batch objects: count objects, not messages. An object's
        // entries reach the stream before its archive row is written: wait until C's archive
        // holds what A's does (nothing else is published yet), or C would count one object as
        // missed that it already had.
        #expect(await eventually { await c.pubsub.archiveUsage.count == a.pubsub.archiveUsage.count })
        let objectsBefore = await c.pubsub.archiveUsage.count
        await c.stop()
        let missed = (0..<30).map { "while away \($0)" }
        for text in missed {
            _ = try await aClient.command("PUBLISH", "kept", text)
            _ = try await aClient.command("PUBLISH", "other", "not kept: \(text)")
        }
        // PUBLISH is answered before its object is sealed: wait until A's and B's archives agree
        // and stay put (60 payloads on two topics make at least 2 objects).
        var total = 0
        var steady = 0
        #expect(
            await eventually {
                let (now, onB) = (await a.pubsub.archiveUsage.count, await b.pubsub.archiveUsage.count)
                steady = now == total && now == onB && now >= objectsBefore + 2 ? steady + 1 : 0
                total = now
                try? await Task.sleep(for: .milliseconds(200))
                return steady >= 5
            })
        try await Task.sleep(for: .seconds(2))  // older than repair's 1-second cache

        let servedBefore = await a.pubsub.syncStatistics.objectsServed
        c = try daemon(2)
        try await c.start()
        cClient = try await BrokerConnection.connect(path: c.broker.socketPath)
        let subscriber = try await subscribe(c, channel: "kept", topic: kept)
        _ = try await c.node.connect(to: endpoints[0].address)

        var heard: [String] = []
        while heard.count < missed.count, let message = await nextMessage(subscriber, timeout: .seconds(60)) {
            heard.append(String(decoding: message.payload, as: UTF8.self))
        }
        #expect(Set(heard) == Set(missed) && heard.count == missed.count)
        #expect(await eventually { ((try? await Self.entries(cClient, "kept"))?.count ?? 0) == 33 })
        #expect(
            await eventually {
                let wanted = await c.pubsub.syncWanted
                return await c.pubsub.archiveUsage.count == total && wanted == 0
            })
        let stream = try await Self.entries(cClient, "kept")
        #expect(stream.count == 33)
        #expect(Set(stream) == Set((0..<3).map { "message|before \($0)" } + missed.map { "message|" + $0 }))
        #expect(await nextMessage(subscriber, timeout: .seconds(2)) == nil, "nothing twice")

        let status = Dictionary(uniqueKeysWithValues: await c.statusNumbers().map { ($0.key, $0.value) })
        #expect(status["sync-fetched"] == Int64(total - objectsBefore))
        #expect(status["sync-duplicates"] == 0 && status["sync-unsolicited"] == 0 && status["sync-gave-up"] == 0)
        #expect(status["archive-objects"] == Int64(total))
        #expect((status["sync-ranges-sent"] ?? 0) >= 1 && (status["sync-gets-sent"] ?? 0) >= 1)
        let served = Dictionary(uniqueKeysWithValues: await a.statusNumbers().map { ($0.key, $0.value) })
        #expect(served["sync-objects-served"] == Int64(servedBefore + total - objectsBefore))
        print("daemon catch-up: \(status.filter { $0.key.hasPrefix("sync-") }.sorted { $0.key < $1.key })")
        for d in [a, b, c] { await d.stop() }
        await mixnet.stop()
    }
}
