import Foundation
import NymbusBroker
import NymbusDaemon
import NymbusPubSub
import NymbusTestSupport
import Testing

/// Per-publisher order across a devnet (spec/broker.md "Order"): the local mixnet delays every
/// packet independently (15 ms mean per hop, paced at 20 ms per packet), so objects overtake
/// each other; one connection's PUBLISHes still reach another node's subscriber and stream in
/// the order they were published.
@Suite struct OrderDevnetTests {
    @Test func oneConnectionsPublishesArriveInOrderAtAnotherNode() async throws {
        try await TestDevnet.with("order", nodes: 2, hidden: 0, hopDelay: .milliseconds(15)) { net in
            let topic = Topic.named("ordered")
            let receiver = try await BrokerConnection.connect(path: net.sockets[1])
            #expect(try await receiver.command("XGROUP", "CREATE", "ordered", "g", "$", "MKSTREAM") == .simpleString("OK"))
            let subscriber = try await BrokerConnection.connect(path: net.sockets[1])
            _ = try await subscriber.command("SUBSCRIBE", "ordered")
            try await net.waitUntilListening(node: 1, to: topic)

            let publisher = try await BrokerConnection.connect(path: net.sockets[0])
            let count = 200
            // Twenty bursts of ten pipelined PUBLISHes: a burst is sealed into one or two objects,
            // and the objects of different bursts are free to overtake each other.
            for burst in stride(from: 0, to: count, by: 10) {
                try await publisher.send(
                    pipelined: (burst..<burst + 10).map { [Array("PUBLISH".utf8), Array("ordered".utf8), Array("\($0)".utf8)] })
                for _ in 0..<10 { #expect(try await publisher.nextValue() == .integer(0)) }
            }
            var got: [String] = []
            while got.count < count, let message = try await subscriber.nextMessage() {
                got.append(String(decoding: message.payload, as: UTF8.self))
            }
            #expect(got == (0..<count).map(String.init))
            let arrived = await eventually {
                ((try? await StreamTopicTests.entries(receiver, "ordered"))?.count ?? 0) >= count
            }
            #expect(arrived)
            let stream = try await StreamTopicTests.entries(receiver, "ordered").map(\.1)
            #expect(stream == (0..<count).map { ["message", "\($0)"] })
            let status = try await receiver.command("NYMBUS.STATUS")
            #expect(status.mapValue("order-gaps-skipped") == .integer(0))
            #expect(status.mapValue("order-late") == .integer(0))
            #expect(status.mapValue("order-held") == .integer(0))
            for connection in [receiver, subscriber, publisher] { await connection.close() }
        }
    }

    /// The same for XADD, through redis-py's streams API on both nodes: 200 entries from one
    /// connection on node 0 (twenty pipelined bursts; each entry is its own object, sent by the
    /// durable outbox with the connection's tag and number) reach node 1's stream in order,
    /// read there with XREADGROUP BLOCK and acknowledged with XACK, each exactly once. Within a
    /// burst the mixnet reorders (without the tags node 1 appended e.g. `0 1 2 4 3 6 7 5 …`);
    /// each burst starts once the previous one reached node 1's stream: 200 single objects sent
    /// at once queue longer than the 2 s hold at nym-client's pace (spec/broker.md "Order").
    @Test func oneConnectionsXADDsArriveInOrderAtAnotherNode() async throws {
        let python = try await requirePythonWithRedis()
        try await TestDevnet.with("xorder", nodes: 2, hidden: 0, hopDelay: .milliseconds(15)) { net in
            let receiver = try await BrokerConnection.connect(path: net.sockets[1])
            #expect(try await receiver.command("XGROUP", "CREATE", "xordered", "g", "$", "MKSTREAM") == .simpleString("OK"))
            try await net.waitUntilListening(node: 1, to: Topic.named("xordered"))
            let script = """
                import sys, time, redis
                n0 = redis.Redis(unix_socket_path=sys.argv[1], socket_timeout=30)
                n1 = redis.Redis(unix_socket_path=sys.argv[2], socket_timeout=30)
                for burst in range(0, 200, 10):
                    p = n0.pipeline(transaction=False)
                    for i in range(burst, burst + 10):
                        p.xadd("xordered", {"n": i, "from": "node0"})
                    p.execute()
                    deadline = time.time() + 30
                    while n1.xlen("xordered") < burst + 10 and time.time() < deadline:
                        time.sleep(0.01)
                got = []
                while len(got) < 200:
                    reply = n1.xreadgroup("g", "c1", {"xordered": ">"}, count=50, block=20000)
                    if not reply:
                        break
                    for entry_id, fields in reply[0][1]:
                        got.append(int(fields[b"n"]))
                        n1.xack("xordered", "g", entry_id)
                print(" ".join(map(str, got)))
                print("pending", n1.xpending("xordered", "g")["pending"], "local", n0.xlen("xordered"), "remote", n1.xlen("xordered"))
                """
            let result = try await ChildProcess.run(
                python, ["-c", script, net.sockets[0], net.sockets[1]], timeout: .seconds(120))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == (0..<200).map(String.init).joined(separator: " ") + "\npending 0 local 200 remote 200\n")
            let status = try await receiver.command("NYMBUS.STATUS")
            #expect(status.mapValue("order-gaps-skipped") == .integer(0), "\(status)")
            #expect(status.mapValue("order-late") == .integer(0))
            #expect(status.mapValue("order-held") == .integer(0))
            #expect(status.mapValue("order-duplicates") == .integer(0))
            let sender = try await BrokerConnection.connect(path: net.sockets[0])
            #expect(try await sender.command("NYMBUS.STATUS").mapValue("stream-outbox-sent") == .integer(200))
            for connection in [receiver, sender] { await connection.close() }
        }
    }
}
