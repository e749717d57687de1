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
}
