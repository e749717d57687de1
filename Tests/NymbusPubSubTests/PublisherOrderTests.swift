import Testing

@testable import NymbusPubSub

/// The reorder buffer of spec/broker.md "Order": time and input in, ordered deliveries out.
@Suite struct PublisherOrderTests {
    typealias Order = PublisherOrder<String, Int>

    /// Feeds `numbers` of key "a" one per 10 ms from `start`; returns everything released.
    static func feed(_ order: inout Order, _ numbers: [Int], start: Double = 0, bytes: Int = 10) -> [Int] {
        var out: [Int] = []
        for (index, number) in numbers.enumerated() {
            out += order.receive(number, key: "a", number: UInt64(number), bytes: bytes, now: start + Double(index) * 0.01)
        }
        return out
    }

    @Test func inOrderPassesStraightThrough() {
        var order = Order()
        #expect(Self.feed(&order, Array(0..<10)) == Array(0..<10))
        #expect(order.heldCount == 0 && order.heldBytes == 0)
        #expect(order.nextDeadline == nil)
        #expect(order.counters == Order.Counters())
    }

    @Test func earlyArrivalsWaitForTheirPredecessor() {
        var order = Order()
        #expect(order.receive(0, key: "a", number: 0, bytes: 5, now: 0) == [0])
        #expect(order.receive(2, key: "a", number: 2, bytes: 5, now: 0.125) == [])
        #expect(order.receive(3, key: "a", number: 3, bytes: 7, now: 0.25) == [])
        #expect(order.heldCount == 2 && order.heldBytes == 12)
        #expect(order.nextDeadline == 2.125)
        #expect(order.receive(1, key: "a", number: 1, bytes: 5, now: 0.375) == [1, 2, 3])
        #expect(order.heldCount == 0 && order.heldBytes == 0)
        #expect(order.nextDeadline == nil)
        #expect(order.counters.gapsSkipped == 0)
    }

    @Test func aGapIsSkippedAfterTheHoldAndCounted() {
        var order = Order()
        _ = order.receive(0, key: "a", number: 0, bytes: 1, now: 0)
        #expect(order.receive(3, key: "a", number: 3, bytes: 1, now: 1) == [])
        #expect(order.receive(4, key: "a", number: 4, bytes: 1, now: 1.5) == [])
        #expect(order.receive(6, key: "a", number: 6, bytes: 1, now: 1.75) == [])
        #expect(order.expire(now: 2.999) == [])
        #expect(order.nextDeadline == 3)
        // 1 and 2 are given up on at 3 s; 3 and 4 follow; 6 still waits for 5 (held since 1.75 s).
        #expect(order.expire(now: 3) == [3, 4])
        #expect(order.counters.gapsSkipped == 1 && order.counters.messagesSkipped == 2)
        #expect(order.heldCount == 1)
        #expect(order.nextDeadline == 3.75)
        #expect(order.expire(now: 3.75) == [6])
        #expect(order.counters.gapsSkipped == 2 && order.counters.messagesSkipped == 3)
        #expect(order.heldCount == 0 && order.heldBytes == 0)
        // A skipped message that turns up later is delivered (late), never dropped.
        #expect(order.receive(1, key: "a", number: 1, bytes: 1, now: 4) == [1])
        #expect(order.receive(7, key: "a", number: 7, bytes: 1, now: 4) == [7])
        #expect(order.counters.late == 1)
    }

    /// A node behind on what reached it: a gap due by the clock is not skipped while messages
    /// that arrived before its deadline may still wait to be handled (the predecessor among
    /// them); the extension is counted once per gap and bounded by `maxHoldExtension`.
    @Test func aGapWaitsUntilTheNodeHandledWhatArrivedBeforeItsDeadline() {
        var order = Order()
        _ = order.receive(0, key: "a", number: 0, bytes: 1, now: 0)
        #expect(order.receive(2, key: "a", number: 2, bytes: 1, now: 1) == [])
        #expect(order.nextDeadline == 3)
        // At 3.5 s the node has handled only what arrived before 2.5 s: 1 may still be waiting.
        #expect(order.expire(now: 3.5, handledThrough: 2.5) == [])
        #expect(order.counters.holdsExtended == 1 && order.counters.gapsSkipped == 0)
        #expect(order.expire(now: 4, handledThrough: 2.9) == [])
        #expect(order.counters.holdsExtended == 1)  // the same gap, counted once
        // 1 was in the node's queue: it fills the gap, in order, nothing skipped or late.
        #expect(order.receive(1, key: "a", number: 1, bytes: 1, now: 2.95) == [1, 2])
        #expect(order.counters.gapsSkipped == 0 && order.counters.late == 0 && order.heldCount == 0)
        // The next gap: once the node has handled everything before the deadline, it is skipped.
        #expect(order.receive(4, key: "a", number: 4, bytes: 1, now: 5) == [])
        #expect(order.expire(now: 7.5, handledThrough: 6.5) == [])
        #expect(order.counters.holdsExtended == 2)
        #expect(order.expire(now: 7.6, handledThrough: 7) == [4])
        #expect(order.counters.gapsSkipped == 1 && order.counters.messagesSkipped == 1)
        // A handled-through time later than now counts as now.
        #expect(order.receive(6, key: "a", number: 6, bytes: 1, now: 8) == [])
        #expect(order.expire(now: 9.9, handledThrough: 20) == [])
        #expect(order.expire(now: 10, handledThrough: 20) == [6])
        #expect(order.counters.holdsExtended == 2 && order.counters.gapsSkipped == 2)
    }

    /// A node that never catches up still skips: at most `maxHoldExtension` past the deadline.
    @Test func theExtensionIsBounded() {
        var order = Order(limits: PublisherOrderLimits(maxHold: 2, maxHoldExtension: 5))
        _ = order.receive(0, key: "a", number: 0, bytes: 1, now: 0)
        #expect(order.receive(2, key: "a", number: 2, bytes: 1, now: 1) == [])
        #expect(order.expire(now: 7.9, handledThrough: 1) == [])
        #expect(order.counters.holdsExtended == 1 && order.heldCount == 1)
        #expect(order.expire(now: 8, handledThrough: 1) == [2])
        #expect(order.counters.gapsSkipped == 1 && order.counters.holdsExtended == 1)
    }

    @Test func aDuplicateOfAHeldNumberIsDroppedAndCounted() {
        var order = Order()
        _ = order.receive(0, key: "a", number: 0, bytes: 1, now: 0)
        #expect(order.receive(20, key: "a", number: 2, bytes: 1, now: 0) == [])
        #expect(order.receive(21, key: "a", number: 2, bytes: 1, now: 0) == [])
        #expect(order.counters.duplicates == 1)
        #expect(order.heldCount == 1)
        #expect(order.receive(1, key: "a", number: 1, bytes: 1, now: 0) == [1, 20])
        // A number already delivered counts as late, not as a duplicate (the seen cache dedups objects).
        #expect(order.receive(99, key: "a", number: 1, bytes: 1, now: 0) == [99])
        #expect(order.counters.late == 1 && order.counters.duplicates == 1)
    }

    @Test func keysAreIndependent() {
        var order = Order()
        _ = order.receive(0, key: "a", number: 0, bytes: 1, now: 0)
        _ = order.receive(100, key: "b", number: 0, bytes: 1, now: 0)
        #expect(order.receive(2, key: "a", number: 2, bytes: 1, now: 0) == [])
        #expect(order.receive(101, key: "b", number: 1, bytes: 1, now: 0) == [101])
        #expect(order.receive(1, key: "a", number: 1, bytes: 1, now: 0) == [1, 2])
        #expect(order.keyCount == 2)
    }

    @Test func aKeyThatDidNotStartAtZeroIsHeldOnceThenStartsAtItsLowest() {
        var order = Order()
        // A subscriber that joined mid-stream: 40 may have been overtaken by 38 or 39.
        #expect(order.receive(40, key: "a", number: 40, bytes: 1, now: 0) == [])
        #expect(order.receive(42, key: "a", number: 42, bytes: 1, now: 0.5) == [])
        #expect(order.receive(39, key: "a", number: 39, bytes: 1, now: 1) == [])
        #expect(order.nextDeadline == 2)
        #expect(order.expire(now: 1.5) == [])
        // After the hold the key starts at its lowest number: nothing before it counts as missing.
        #expect(order.expire(now: 2) == [39, 40])
        #expect(order.counters.gapsSkipped == 0 && order.counters.messagesSkipped == 0)
        #expect(order.receive(41, key: "a", number: 41, bytes: 1, now: 2) == [41, 42])
        // 38 was in flight longer than the hold: delivered at once, counted late.
        #expect(order.receive(38, key: "a", number: 38, bytes: 1, now: 3) == [38])
        #expect(order.counters.late == 1)
    }

    @Test func numberZeroStartsAKeyAtOnceEvenAfterLaterOnes() {
        var order = Order()
        #expect(order.receive(2, key: "a", number: 2, bytes: 1, now: 0) == [])
        #expect(order.receive(1, key: "a", number: 1, bytes: 1, now: 0.25) == [])
        #expect(order.receive(0, key: "a", number: 0, bytes: 1, now: 0.5) == [0, 1, 2])
        #expect(order.heldCount == 0 && order.nextDeadline == nil)
        #expect(order.counters == Order.Counters())
    }

    @Test func perKeyMessageBoundSkipsTheGapAtOnce() {
        var order = Order(limits: .init(maxHeldPerKey: 3))
        _ = order.receive(0, key: "a", number: 0, bytes: 1, now: 0)
        #expect(order.receive(2, key: "a", number: 2, bytes: 1, now: 0) == [])
        #expect(order.receive(3, key: "a", number: 3, bytes: 1, now: 0) == [])
        #expect(order.receive(5, key: "a", number: 5, bytes: 1, now: 0) == [])
        // A fourth held message passes the bound: 1 is skipped, 2 and 3 go; 5 and 6 wait for 4.
        #expect(order.receive(6, key: "a", number: 6, bytes: 1, now: 0) == [2, 3])
        #expect(order.counters.overflows == 1 && order.counters.gapsSkipped == 1)
        #expect(order.counters.messagesSkipped == 1)
        #expect(order.heldCount == 2)
        #expect(order.receive(4, key: "a", number: 4, bytes: 1, now: 0) == [4, 5, 6])
    }

    @Test func perKeyByteBoundSkipsTheGapAtOnce() {
        var order = Order(limits: .init(maxHeldBytesPerKey: 100))
        _ = order.receive(0, key: "a", number: 0, bytes: 1, now: 0)
        #expect(order.receive(2, key: "a", number: 2, bytes: 60, now: 0) == [])
        #expect(order.receive(4, key: "a", number: 4, bytes: 60, now: 0) == [2])
        #expect(order.heldBytes == 60)
        #expect(order.counters.overflows == 1 && order.counters.messagesSkipped == 1)
    }

    @Test func theTotalBoundSkipsTheGapOfTheOldestHolder() {
        var order = Order(limits: .init(maxHeldTotal: 2))
        _ = order.receive(0, key: "a", number: 0, bytes: 1, now: 0)
        _ = order.receive(0, key: "b", number: 0, bytes: 1, now: 0)
        #expect(order.receive(2, key: "a", number: 2, bytes: 1, now: 1) == [])
        #expect(order.receive(12, key: "b", number: 2, bytes: 1, now: 2) == [])
        // A third held message anywhere: "a" held the oldest (since 1 s), so its gap goes.
        #expect(order.receive(13, key: "b", number: 3, bytes: 1, now: 3) == [2])
        #expect(order.heldCount == 2)
        #expect(order.counters.overflows == 1)
        #expect(order.receive(11, key: "b", number: 1, bytes: 1, now: 3) == [11, 12, 13])
    }

    @Test func idleKeysAreForgottenButNotWhileHolding() {
        var order = Order(limits: .init(maxHold: 2, idleAfter: 10))
        _ = order.receive(0, key: "a", number: 0, bytes: 1, now: 0)
        _ = order.receive(0, key: "b", number: 0, bytes: 1, now: 0)
        _ = order.receive(5, key: "b", number: 5, bytes: 1, now: 9)
        #expect(order.expire(now: 10) == [])
        #expect(order.keyCount == 1)  // "a" forgotten; "b" was seen at 9 s and holds 5
        #expect(order.counters.keysForgotten == 1)
        #expect(order.expire(now: 11) == [5])
        #expect(order.expire(now: 21) == [])
        #expect(order.keyCount == 0)
        #expect(order.counters.keysForgotten == 2)
        // A forgotten key starts again from what comes next, after one hold.
        #expect(order.receive(7, key: "a", number: 7, bytes: 1, now: 22) == [])
        #expect(order.expire(now: 24) == [7])
        #expect(order.counters.messagesSkipped == 4)  // b's 1...4 only
    }

    @Test func theKeyBoundForgetsTheLeastRecentlySeen() {
        var order = Order(limits: .init(maxKeys: 2))
        _ = order.receive(0, key: "a", number: 0, bytes: 1, now: 0)
        _ = order.receive(0, key: "b", number: 0, bytes: 1, now: 1)
        _ = order.receive(0, key: "c", number: 0, bytes: 1, now: 2)
        #expect(order.keyCount == 2)
        #expect(order.counters.keysForgotten == 1)
        // "a" was forgotten: its number 5 starts it again after one hold, 1...4 are not missed.
        #expect(order.receive(5, key: "a", number: 5, bytes: 1, now: 3) == [])
        #expect(order.expire(now: 5) == [5])
        #expect(order.counters.messagesSkipped == 0)
    }

    /// Random permutations within a bounded spread (as the mixnet's delays make them) always
    /// come out complete and in order when nothing is lost, with nothing skipped.
    @Test func seededPermutationsComeOutInOrder() {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = Mix(seed: seed)
        for _ in 0..<50 {
            var order = Order()
            let count = Int(random.next() % 300) + 1
            // Each message is sent at i*10 ms and delayed 0..1.5 s: arrival order is a permutation.
            var arrivals: [(time: Double, number: Int)] = (0..<count).map { number in
                (Double(number) * 0.01 + Double(random.next() % 1500) / 1000, number)
            }
            arrivals.sort { $0.time < $1.time }
            var out: [Int] = []
            for arrival in arrivals {
                out += order.expire(now: arrival.time)
                out += order.receive(arrival.number, key: "a", number: UInt64(arrival.number), bytes: 1, now: arrival.time)
            }
            #expect(out == Array(0..<count), "seed \(seed)")
            #expect(order.counters.gapsSkipped == 0 && order.heldCount == 0, "seed \(seed)")
        }
    }

    /// With random losses, everything that arrived comes out exactly once and in order, and
    /// exactly the lost numbers are counted as skipped: a delay spread (1.5 s) below the hold
    /// (2 s) never gives up on a message that is still coming.
    @Test func seededLossesAreSkippedAndEverythingElseDeliveredInOrder() {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = Mix(seed: seed)
        for _ in 0..<50 {
            var order = Order(limits: .init(maxHold: 2))
            let count = Int(random.next() % 300) + 2
            // Number 0 arrives first, so the key starts there.
            var arrivals: [(time: Double, number: Int)] = [(0, 0)]
            for number in 1..<count where random.next() % 10 != 0 {
                arrivals.append((Double(number) * 0.01 + Double(random.next() % 1500) / 1000, number))
            }
            arrivals.sort { $0.time < $1.time }
            var out: [Int] = []
            for arrival in arrivals {
                out += order.expire(now: arrival.time)
                out += order.receive(arrival.number, key: "a", number: UInt64(arrival.number), bytes: 1, now: arrival.time)
            }
            out += order.expire(now: 1000)
            let received = arrivals.map(\.number).sorted()
            #expect(out == received, "seed \(seed)")
            #expect(order.heldCount == 0 && order.counters.late == 0, "seed \(seed)")
            #expect(order.counters.messagesSkipped == received.last! + 1 - received.count, "seed \(seed)")
        }
    }

    /// SplitMix64: a seeded generator, so a failure can be replayed from the printed seed.
    struct Mix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
