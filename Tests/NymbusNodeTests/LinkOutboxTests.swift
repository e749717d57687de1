import NymbusWire
import Testing

@testable import NymbusNode

/// The per-link outbox: priorities, the bound on waiting objects, the window on nym-client's
/// lane as its `LaneQueueLength` answers report it, refusals and lost answers.
@Suite struct LinkOutboxTests {
    func item(_ command: Command, packets: Int = 1, tag: UInt8 = 0, catchUp: Bool = false) -> LinkOutbox.Item {
        LinkOutbox.Item(bytes: [tag], surbs: 0, command: command, packets: packets, catchUp: catchUp)
    }

    @Test func controlGoesBeforeRepairBeforeObjects() {
        var outbox = LinkOutbox()
        let r1 = outbox.push(item(.object, tag: 1), bulkLimit: 100)
        #expect(r1 == .queued)
        let r2 = outbox.push(item(.inv, tag: 2), bulkLimit: 100)
        #expect(r2 == .queued)
        let r3 = outbox.push(item(.ping, tag: 3), bulkLimit: 100)
        #expect(r3 == .queued)
        let r4 = outbox.push(item(.custom, tag: 4), bulkLimit: 100)
        #expect(r4 == .queued)
        let r5 = outbox.push(item(.getdata, tag: 5), bulkLimit: 100)
        #expect(r5 == .queued)
        let r6 = outbox.push(item(.bye, tag: 6), bulkLimit: 100)
        #expect(r6 == .queued)
        let taken = outbox.take(window: 100, now: 0).map { $0.item.bytes[0] }
        #expect(taken == [3, 6, 2, 5, 1, 4])
        #expect(outbox.isEmpty)
        #expect(outbox.inClient == 6)
    }

    /// Catch-up answers wait behind live objects and share their bound.
    @Test func catchUpAnswersGoAfterLiveObjectsWithinTheSameBound() {
        var outbox = LinkOutbox()
        let pushed = [
            outbox.push(item(.syncobject, packets: 2, tag: 1), bulkLimit: 6),
            outbox.push(item(.object, packets: 2, tag: 2), bulkLimit: 6),
            outbox.push(item(.syncobject, packets: 2, tag: 3), bulkLimit: 6),
            outbox.push(item(.object, packets: 1, tag: 4), bulkLimit: 6),
            outbox.push(item(.inv, tag: 5), bulkLimit: 6),
            outbox.push(item(.ping, tag: 6, catchUp: true), bulkLimit: 6),
        ]
        #expect(pushed == [.queued, .queued, .queued, .refused, .queued, .queued], "6 object packets: full")
        #expect(outbox.bulkPackets == 6)
        let first = outbox.take(window: 4, now: 0).map { $0.item.bytes[0] }
        #expect(first == [6, 5, 2], "control (catch-up marks only objects), repair, the live object")
        for _ in 0..<3 { outbox.answered(length: 0) }
        let rest = outbox.take(window: 100, now: 0).map { $0.item.bytes[0] }
        #expect(rest == [1, 3] && outbox.bulkPackets == 0 && outbox.isEmpty)
        // An object marked as catch-up (an old one a peer asked for) queues with them.
        _ = outbox.push(item(.object, tag: 7, catchUp: true), bulkLimit: 6)
        _ = outbox.push(item(.object, tag: 8), bulkLimit: 6)
        #expect(outbox.take(window: 100, now: 0).map { $0.item.bytes[0] } == [8, 7])
    }

    @Test func objectsAreBoundedInPacketsAndALoneLargeOneStillFits() {
        var outbox = LinkOutbox()
        let r7 = outbox.push(item(.object, packets: 41), bulkLimit: 10)
        #expect(r7 == .queued)  // an empty queue takes anything
        let r8 = outbox.push(item(.object, packets: 1), bulkLimit: 10)
        #expect(r8 == .refused)
        let r9 = outbox.push(item(.ping), bulkLimit: 10)
        #expect(r9 == .queued)  // control is never refused
        #expect(outbox.bulkPackets == 41)
        #expect(outbox.count == 2)
        _ = outbox.take(window: 100, now: 0)
        #expect(outbox.bulkPackets == 0)
        let r10 = outbox.push(item(.object, packets: 6), bulkLimit: 10)
        #expect(r10 == .queued)
        let r11 = outbox.push(item(.object, packets: 4), bulkLimit: 10)
        #expect(r11 == .queued)
        let r12 = outbox.push(item(.object, packets: 1), bulkLimit: 10)
        #expect(r12 == .refused)
    }

    @Test func theWindowFollowsTheLanesAnswersInRequestOrder() {
        var outbox = LinkOutbox()
        for i in 0..<10 {
            let pushed = outbox.push(item(.object, packets: 3, tag: UInt8(i)), bulkLimit: 1000)
            #expect(pushed == .queued)
        }
        // Window 8: three 3-packet objects (0 → 3 → 6 → 9 packets in the lane).
        let r13 = outbox.take(window: 8, now: 0)
        #expect(r13.count == 3)
        #expect(outbox.inClient == 9)
        let r14 = outbox.take(window: 8, now: 0)
        #expect(r14.isEmpty)
        // The first send's answer: 3 packets then (its own); the two later sends are still unanswered.
        outbox.answered(length: 3)
        #expect(outbox.inClient == 9)
        // The Poisson sender drained: the third send's answer says 2 packets wait in the lane.
        outbox.answered(length: 4)
        outbox.answered(length: 2)
        #expect(outbox.inClient == 2)
        let r15 = outbox.take(window: 8, now: 1)
        #expect(r15.count == 2)  // 2 → 5 → 8
        #expect(outbox.inClient == 8)
        // A query while full: it adds nothing, and its answer sets the level.
        #expect(!outbox.isQuerying)
        _ = outbox.querying(now: 1)
        #expect(outbox.isQuerying)
        outbox.answered(length: 7)  // answers the first of the two sends
        outbox.answered(length: 5)  // the second
        outbox.answered(length: 0)  // the query: the lane is empty
        #expect(!outbox.isQuerying)
        #expect(outbox.inClient == 0)
        let r16 = outbox.take(window: 8, now: 2)
        #expect(r16.count == 3)
        #expect(outbox.count == 2)
    }

    @Test func aRefusedSendGoesBackToTheHeadAndLeavesNoOutstandingAnswer() {
        var outbox = LinkOutbox()
        let r17 = outbox.push(item(.object, packets: 2, tag: 1), bulkLimit: 100)
        #expect(r17 == .queued)
        let r18 = outbox.push(item(.object, packets: 2, tag: 2), bulkLimit: 100)
        #expect(r18 == .queued)
        let taken = outbox.take(window: 100, now: 0)
        #expect(taken.count == 2)
        outbox.failed(taken[1].sequence, item: taken[1].item)
        outbox.failed(taken[0].sequence, item: taken[0].item)
        #expect(outbox.inClient == 0)
        #expect(outbox.bulkPackets == 4)
        let r19 = outbox.take(window: 100, now: 0)
        #expect(r19.map(\.item.bytes[0]) == [1, 2])
    }

    @Test func answersLostToAReconnectAreForgottenAfterTheTimeout() {
        var outbox = LinkOutbox()
        let r20 = outbox.push(item(.object, packets: 8), bulkLimit: 100)
        #expect(r20 == .queued)
        let r21 = outbox.push(item(.object, packets: 1), bulkLimit: 100)
        #expect(r21 == .queued)
        _ = outbox.take(window: 8, now: 10)
        #expect(outbox.inClient == 8)
        let r22 = outbox.expireAnswers(olderThan: 5, now: 14)
        #expect(!r22)
        let r23 = outbox.expireAnswers(olderThan: 5, now: 16)
        #expect(r23)
        #expect(outbox.inClient == 0)
        let r24 = outbox.take(window: 8, now: 16)
        #expect(r24.count == 1)
    }

    @Test func controlPastItsLimitIsRefusedAndRepairDropsItsOldest() {
        var outbox = LinkOutbox()
        for i in 0..<3 {
            let control = outbox.push(item(.pong, tag: UInt8(i)), bulkLimit: 10, messageLimit: 3)
            #expect(control == .queued)
            let repair = outbox.push(item(.inv, tag: UInt8(10 + i)), bulkLimit: 10, messageLimit: 3)
            #expect(repair == .queued)
        }
        let control = outbox.push(item(.pong, tag: 3), bulkLimit: 10, messageLimit: 3)
        #expect(control == .refused)
        let repair = outbox.push(item(.inv, tag: 13), bulkLimit: 10, messageLimit: 3)
        #expect(repair == .queuedDroppingOldest)
        #expect(outbox.count == 6)
        let taken = outbox.take(window: 100, now: 0).map { $0.item.bytes[0] }
        #expect(taken == [0, 1, 2, 11, 12, 13])
    }

    @Test func removeAllCountsWhatWasDropped() {
        var outbox = LinkOutbox()
        for _ in 0..<3 { _ = outbox.push(item(.object), bulkLimit: 100) }
        _ = outbox.push(item(.ping), bulkLimit: 100)
        #expect(outbox.removeAll() == 4)
        #expect(outbox.isEmpty && outbox.bulkPackets == 0 && outbox.inClient == 0)
    }
}
