import NymbusCrypto
import Testing

@testable import NymbusPubSub

/// The asker's bookkeeping (spec/pubsub.md §15): asks stay within the in-flight cap and the
/// responder's budget, timed-out ids are asked again (of another peer if theirs left), late
/// answers are taken, and an id is given up after its last attempt.
struct SyncStateTests {
    static func ids(_ n: Int, from: Int = 0) -> [MessageID] {
        (from..<from + n).map { MessageID(bytes: Blake2b.digest32(Array("id \($0)".utf8)))! }
    }

    @Test func asksRespectTheInFlightCapAndTheServingBudget() {
        var state = SyncState<Int>(settings: SyncSettings())
        let wanted = Self.ids(1000)
        state.need(wanted, from: 1) { _ in false }
        let first = state.asks(for: 1, now: 100, perMessage: 100)
        #expect(first.map(\.count) == [100, 100], "200 in flight at most")
        #expect(state.asks(for: 1, now: 100, perMessage: 100).isEmpty)
        for id in first.joined() { state.answered(id) }
        // 300 left of the 500 burst: 200 more (the cap), none the same second after that.
        #expect(state.asks(for: 1, now: 100, perMessage: 100).joined().count == 200)
        for id in wanted[200..<400] { state.answered(id) }
        #expect(state.asks(for: 1, now: 100, perMessage: 100).joined().count == 100, "the budget's last 100")
        for id in wanted[400..<500] { state.answered(id) }
        #expect(state.asks(for: 1, now: 100, perMessage: 100).isEmpty, "budget spent")
        #expect(state.asks(for: 1, now: 102, perMessage: 100).joined().count == 50, "25 per second")
        #expect(state.stats.idsAsked == 550)
    }

    @Test func timedOutIdsMoveToAPeerStillLinkedAndAreGivenUpAtLast() {
        var state = SyncState<Int>(settings: SyncSettings())
        let wanted = Self.ids(3)
        state.need(wanted, from: 1) { _ in false }
        #expect(state.asks(for: 1, now: 0, perMessage: 100).joined().count == 3)
        #expect(state.isWanted(wanted[0]))
        // Peer 1 left: its ids go to peer 2 and are asked there.
        state.peerGone(1)
        #expect(state.retry(now: 5, peers: [2]) == [2])
        #expect(state.asks(for: 2, now: 5, perMessage: 100).joined().count == 3)
        // A late answer from the first request is still taken.
        #expect(state.isWanted(wanted[1]))
        state.answered(wanted[1])
        #expect(!state.isWanted(wanted[1]) && state.wantedCount == 2)
        // Two more timeouts reach the 4th attempt; the next timeout gives up.
        var now: Int64 = 5
        for _ in 0..<2 {
            now += 10
            _ = state.retry(now: now, peers: [2])
            _ = state.asks(for: 2, now: now, perMessage: 100)
        }
        #expect(state.wantedCount == 2 && state.stats.gaveUp == 0)
        _ = state.retry(now: now + 10, peers: [2])
        #expect(state.wantedCount == 0 && state.stats.gaveUp == 2)
    }

    /// A long request is not asked again while its peer keeps answering: the timeout counts from
    /// the peer's last answer.
    @Test func aPeerThatKeepsAnsweringIsNotAskedAgain() {
        var state = SyncState<Int>(settings: SyncSettings())
        let wanted = Self.ids(3)
        state.need(wanted, from: 1) { _ in false }
        #expect(state.asks(for: 1, now: 0, perMessage: 100).joined().count == 3)
        state.answered(wanted[0], now: 8)
        #expect(state.retry(now: 12, peers: [1]).isEmpty)
        #expect(state.asks(for: 1, now: 12, perMessage: 100).isEmpty)
        state.answered(wanted[1], now: 17)
        #expect(state.retry(now: 26, peers: [1]).isEmpty)
        // Silent for 10 s: the last id is asked again, from the same peer.
        #expect(state.retry(now: 27, peers: [1]) == [1])
        #expect(state.asks(for: 1, now: 27, perMessage: 100) == [[wanted[2]]])
        #expect(state.wantedCount == 1 && state.stats.gaveUp == 0)
        // A peer that left and came back starts with no answers counted.
        state.peerGone(1)
        #expect(state.retry(now: 37, peers: [1]) == [1])
    }

    @Test func knownIdsAreNeverAsked() {
        var state = SyncState<Int>(settings: SyncSettings())
        let wanted = Self.ids(4)
        state.need(wanted, from: 1) { $0 == wanted[0] }
        state.need(wanted, from: 2) { $0 == wanted[0] }  // the rest already wanted from peer 1
        #expect(state.wantedCount == 3)
        #expect(state.asks(for: 2, now: 0, perMessage: 100).isEmpty)
        #expect(state.asks(for: 1, now: 0, perMessage: 100).joined().count == 3)
    }
}
