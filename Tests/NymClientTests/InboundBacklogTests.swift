import Logging
import NymClient
import NymbusTestSupport
import NymbusTransport
import Testing

/// When each received message arrived, kept until its reader says it handled it: how far behind
/// a loaded node is on what reached it (spec/broker.md "Order").
@Suite(.timeLimit(.minutes(1))) struct InboundBacklogTests {
    @Test func arrivalsWaitInOrderUntilHandled() {
        let backlog = InboundBacklog(capacity: 8)
        #expect(backlog.count == 0 && backlog.oldestArrival == nil)
        let start = ContinuousClock.now
        let times = (0..<3).map { start + .milliseconds($0 * 10) }
        for time in times { backlog.arrived(at: time) }
        #expect(backlog.count == 3 && backlog.oldestArrival == times[0])
        backlog.handled()
        #expect(backlog.count == 2 && backlog.oldestArrival == times[1])
        // The newest was not handed over after all (a full buffer dropped it).
        backlog.withdrawNewest()
        #expect(backlog.count == 1 && backlog.oldestArrival == times[1])
        backlog.handled()
        #expect(backlog.count == 0 && backlog.oldestArrival == nil)
        // Nothing left: neither underflows.
        backlog.handled()
        backlog.withdrawNewest()
        #expect(backlog.count == 0 && backlog.oldestArrival == nil)
        backlog.arrived(at: times[2])
        #expect(backlog.count == 1 && backlog.oldestArrival == times[2])
    }

    /// A reader that never says it handled anything cannot grow it past its capacity: the
    /// oldest arrivals fall off.
    @Test func itKeepsAtMostItsCapacity() {
        let backlog = InboundBacklog(capacity: 3)
        let start = ContinuousClock.now
        for index in 0..<1000 { backlog.arrived(at: start + .milliseconds(index)) }
        #expect(backlog.count == 3 && backlog.oldestArrival == start + .milliseconds(997))
        for _ in 0..<3 { backlog.handled() }
        #expect(backlog.count == 0)
        #expect(InboundBacklog(capacity: 0).capacity == 1)
    }

    /// The nym-client connection records each message it hands to `inbound` when it arrives,
    /// before the reader can take it, and not the ones its full buffer drops.
    @Test func theConnectionRecordsWhatItHandsOver() async throws {
        let server = TestNymServer()
        let port = try await server.start()
        let configuration = NymClientConfiguration(
            port: port, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(200), startTimeout: .seconds(20),
            maxBufferedInbound: 2)
        let client = NymClientConnection(
            configuration: configuration, logger: Logger(label: "backlog-test") { _ in SwiftLogNoOpLogHandler() })
        try await client.start()
        let backlog = try #require(client.inboundBacklog)
        #expect(backlog.count == 0)
        let before = ContinuousClock.now
        for data: [UInt8] in [[1], [2], [3]] { await server.push(.received(ReceivedMessage(data: data, senderTag: nil))) }
        #expect(await eventually { await client.droppedInboundCount == 1 })
        #expect(backlog.count == 2)
        let first = try #require(backlog.oldestArrival)
        #expect(first >= before && first <= .now)
        // Read is not handled: a reader says so itself.
        #expect(await collect(client.inbound, count: 2).map(\.data) == [[1], [2]])
        #expect(backlog.count == 2)
        backlog.handled()
        backlog.handled()
        #expect(backlog.count == 0 && backlog.oldestArrival == nil)
        await client.close()
        await server.shutdown()
    }
}
