import Logging
import NIOCore
import NIOPosix
import Testing

@testable import NymbusBroker

/// Group commit (spec/broker.md "Streams", durability): the stream changes of every connection
/// in one event-loop tick are stored in one transaction, and no reply leaves before it.
@Suite struct GroupCommitTests {
    /// What one tick left behind, carried out of the event loop.
    struct Tick: @unchecked Sendable {
        let state: BrokerState
        let outputs: [RecordingOutput]
        let transactions: Int
        let sent: [String]
    }

    static func command(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

    /// Two connections' XADDs in one tick: nothing is answered until the end of the tick, then
    /// one transaction stores both streams and both connections get their ids.
    @Test func everyConnectionsChangesOfATickShareOneTransaction() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let store = ScriptedStreamStore()
        let tick = try await loop.submit { () -> Tick in
            let (state, outputs, clients) = BrokerState.twoConnections(over: store)
            let (first, second) = (clients[0], clients[1])
            for value in ["a", "b", "c"] { _ = state.execute(Self.command("XADD", "s1", "*", "f", value), from: first) }
            _ = state.execute(Self.command("XADD", "s2", "*", "f", "x"), from: second)
            // Each connection's flush asks for the commit; it happens once, after the tick.
            state.commitAtEndOfTick(on: loop)
            state.commitAtEndOfTick(on: loop)
            return Tick(state: state, outputs: outputs, transactions: store.transactions.count, sent: outputs.map { $0.take() })
        }.get()
        #expect(tick.transactions == 0)
        #expect(tick.sent == ["", ""])
        let after = try await loop.submit { (store.transactions, tick.outputs.map { $0.take() }) }.get()
        #expect(after.0 == [["s1", "s2"]])
        #expect(after.1 == ["$6\r\n1000-0\r\n$6\r\n1000-1\r\n$6\r\n1000-2\r\n", "$6\r\n1000-0\r\n"])
        try await group.shutdownGracefully()
    }

    /// A failed group commit answers every held reply of every connection with the error, and
    /// memory goes back to what the store holds.
    @Test func aFailedGroupCommitAnswersEveryHeldReplyWithTheError() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let store = ScriptedStreamStore()
        store.failNext = true
        let tick = try await loop.submit { () -> Tick in
            let (state, outputs, clients) = BrokerState.twoConnections(over: store)
            let (first, second) = (clients[0], clients[1])
            _ = state.execute(Self.command("XADD", "s1", "*", "f", "a"), from: first)
            _ = state.execute(Self.command("XADD", "s2", "*", "f", "b"), from: second)
            state.commitAtEndOfTick(on: loop)
            return Tick(state: state, outputs: outputs, transactions: store.transactions.count, sent: outputs.map { $0.take() })
        }.get()
        #expect(tick.sent == ["", ""])
        let after = try await loop.submit { () -> ([String], Int) in
            (tick.outputs.map { $0.take() }, tick.state.streams.streams.count)
        }.get()
        #expect(after.0 == ["-ERR stream store: disk full\r\n", "-ERR stream store: disk full\r\n"])
        #expect(after.1 == 0)  // rolled back to the (empty) store
        #expect(store.transactions.isEmpty)
        try await group.shutdownGracefully()
    }
}
