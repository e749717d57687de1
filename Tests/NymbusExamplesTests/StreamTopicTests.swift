import Foundation
import NymbusBroker
import NymbusDaemon
import NymbusPubSub
import NymbusTestSupport
import Testing

/// Streams on topics across a devnet (every object crosses the local mixnet): a node that keeps
/// a stream for a channel appends every message of the topic that reaches it, from any node,
/// once, with an id of its own; XADD entries travel as stream entry objects.
@Suite struct StreamTopicTests {
    /// The entries of `key` on a broker, as (id, fields) pairs.
    static func entries(_ connection: BrokerConnection, _ key: String) async throws -> [(String, [String])] {
        let reply = try await connection.command("XRANGE", key, "-", "+")
        return (reply.elements ?? []).map { entry in
            let parts = entry.elements ?? []
            return (parts.first?.text ?? "", (parts.last?.elements ?? []).map { $0.text ?? "" })
        }
    }

    @Test func topicStreamsGetEveryMessageOnceFromEveryNode() async throws {
        try await TestDevnet.with("streams") { net in
            let node0 = try await BrokerConnection.connect(path: net.sockets[0])
            let node1 = try await BrokerConnection.connect(path: net.sockets[1])
            let node2 = try await BrokerConnection.connect(path: net.sockets[2])
            // Node 1 keeps a stream (made by a consumer group), node 2 by its first XADD; node 0 none.
            #expect(try await node1.command("XGROUP", "CREATE", "orders", "billing", "$", "MKSTREAM") == .simpleString("OK"))
            let first = try await node2.command("XADD", "orders", "*", "item", "tea", "qty", "2")
            #expect(first.text?.contains("-") == true)
            try await net.waitUntilListening(node: 1, to: Topic.named("orders"))
            try await net.waitUntilListening(node: 2, to: Topic.named("orders"))
            // Node 0 subscribes: it sees XADD entries as a RESP array, PUBLISH messages as they are.
            let subscriber = try await BrokerConnection.connect(path: net.sockets[0])
            _ = try await subscriber.command("SUBSCRIBE", "orders")
            try await net.waitUntilListening(node: 0, to: Topic.named("orders"))

            #expect(try await node0.command("PUBLISH", "orders", "plain words") == .integer(1))
            let second = try await node2.command("XADD", "orders", "*", "item", "cake", "qty", "1")
            #expect(second.text?.contains("-") == true)
            let third = try await node1.command("XADD", "orders", "*", "message", "as if published")
            #expect(third.text?.contains("-") == true)

            // Node 1: the three remote entries (and its own) exactly once each, in its own ids.
            let arrived = await eventually { ((try? await Self.entries(node1, "orders"))?.count ?? 0) >= 4 }
            #expect(arrived)
            let onNode1 = try await Self.entries(node1, "orders").map(\.1)
            #expect(onNode1.count == 4)
            #expect(Set(onNode1.map { $0.joined(separator: "|") }) == [
                "item|tea|qty|2", "message|plain words", "item|cake|qty|1", "message|as if published",
            ])
            // Node 2: its own two XADDs once (the copies from the network are its own objects) and the two others.
            let arrived2 = await eventually { ((try? await Self.entries(node2, "orders"))?.count ?? 0) >= 4 }
            #expect(arrived2)
            let onNode2 = try await Self.entries(node2, "orders").map(\.1)
            #expect(onNode2.count == 4)
            #expect(onNode2.first == ["item", "tea", "qty", "2"])
            // Node 0 keeps no stream.
            #expect(try await node0.command("EXISTS", "orders") == .integer(0))
            // The consumer group on node 1 reads what arrived.
            let read = try await node1.command("XREADGROUP", "GROUP", "billing", "w1", "STREAMS", "orders", ">")
            #expect(read.elements?.first?.elements?.last?.elements?.count == 4)

            // The subscriber on node 0 got the XADD entries (in arrival order; the first one too
            // if its object reached node 0 after the subscription).
            var payloads: [String] = []
            let cake = "*4\r\n$4\r\nitem\r\n$4\r\ncake\r\n$3\r\nqty\r\n$1\r\n1\r\n"
            while !(payloads.contains("as if published") && payloads.contains(cake)) && payloads.count < 4 {
                guard let message = try await subscriber.nextMessage() else { break }
                payloads.append(String(decoding: message.payload, as: UTF8.self))
            }
            #expect(payloads.contains(cake))
            #expect(payloads.contains("as if published"))
            // The outboxes emptied.
            let status = try await node2.command("NYMBUS.STATUS")
            #expect(status.mapValue("stream-outbox-waiting") == .integer(0))
            #expect(status.mapValue("stream-outbox-sent") == .integer(2))
            for connection in [node0, node1, node2, subscriber] { await connection.close() }
        }
    }
}

extension RESPValue {
    /// The value under a bulk-string key of a map (or of a RESP2 flat key/value array).
    func mapValue(_ key: String) -> RESPValue? {
        switch self {
        case .map(let entries): return entries.first { $0.key.text == key }?.value
        case .array(let values?):
            var index = 0
            while index + 1 < values.count {
                if values[index].text == key { return values[index + 1] }
                index += 2
            }
            return nil
        default: return nil
        }
    }
}

/// The outbox across a restart: what a node stored for sending before it died leaves when it
/// comes back, and the same sealed object sent twice is appended once by every other node.
@Suite struct StreamOutboxTests {
    @Test func anOutboxItemLeftByADeadNodeLeavesAfterTheRestartOnce() async throws {
        let directory = temporaryDirectory("outbox")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // What node 0 had stored when it died: the stream, its entry, and the unsent outbox item
        // (one transaction, as XADD stores them); node 1 keeps a stream for the topic too.
        let entry: [[UInt8]] = [Array("task".utf8), Array("resize img-7".utf8)]
        for node in 0...1 {
            try FileManager.default.createDirectory(atPath: directory + "/node-\(node)", withIntermediateDirectories: true)
            let store = try SQLiteStreamStore(path: directory + "/node-\(node)/streams.sqlite")
            let broker = BrokerServer(
                configuration: BrokerConfiguration(socketPath: directory + "/seed-\(node)/b.sock"), backend: LoopbackBrokerBackend(),
                streamStore: store)
            try await broker.start()
            let client = try await BrokerConnection.connect(path: directory + "/seed-\(node)/b.sock")
            _ = try await client.command("XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM")
            if node == 0 { _ = try await client.command([Array("XADD".utf8), Array("jobs".utf8), Array("5-1".utf8)] + entry) }
            await client.close()
            await broker.stop()
            if node == 0 {
                try store.apply([], outbox: [OutboxItem(channel: Array("jobs".utf8), objectType: ObjectType.streamEntry, payload: StreamEntryPayload.encode(entry))])
                #expect(try store.outboxRows(limit: 10).count == 1)
            }
            store.close()
        }
        let net = try await TestDevnet.start("outbox", nodes: 2, hidden: 0, directory: directory)
        do {
            let node1 = try await BrokerConnection.connect(path: net.sockets[1])
            let arrived = await eventually { ((try? await StreamTopicTests.entries(node1, "jobs"))?.count ?? 0) >= 1 }
            #expect(arrived, "the outbox item never reached node 1")
            let node0 = try await BrokerConnection.connect(path: net.sockets[0])
            let drained = await eventually {
                (try? await node0.command("NYMBUS.STATUS"))?.mapValue("stream-outbox-sent") == .integer(1)
            }
            #expect(drained)
            #expect(try await node0.command("NYMBUS.STATUS").mapValue("stream-outbox-waiting") == .integer(0))
            // The same object again (a resend after a crash between sending and deleting the row):
            // node 1 has seen its message id and appends nothing.
            let topic = Topic.named("jobs")
            let object = try await net.daemons[0].pubsub.sealObject(
                StreamEntryPayload.encode([Array("once".utf8), Array("only".utf8)]), type: ObjectType.streamEntry, to: topic)
            _ = try await net.daemons[0].pubsub.publishSealed(object, payload: [], to: topic)
            let second = await eventually { ((try? await StreamTopicTests.entries(node1, "jobs"))?.count ?? 0) >= 2 }
            #expect(second)
            let duplicatesBefore = await net.daemons[1].pubsub.statistics.duplicates
            _ = try await net.daemons[0].pubsub.publishSealed(object, payload: [], to: topic)
            // Node 1 got the copy and dropped it as seen.
            let dropped = await eventually { await net.daemons[1].pubsub.statistics.duplicates > duplicatesBefore }
            #expect(dropped)
            let fields = try await StreamTopicTests.entries(node1, "jobs").map(\.1)
            #expect(fields.filter { $0 == ["task", "resize img-7"] }.count == 1)
            #expect(fields.filter { $0 == ["once", "only"] }.count == 1)
            await node0.close()
            await node1.close()
        } catch {
            await net.stop()
            throw error
        }
        await net.stop()
    }
}
