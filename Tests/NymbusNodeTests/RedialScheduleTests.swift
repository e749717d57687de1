import NymbusCrypto
import Testing

@testable import NymbusNode

@Suite struct RedialScheduleTests {
    /// A lost link is due after the base delay; each failed dial doubles the wait (× jitter, here
    /// 1), capped; a completed handshake takes a non-bootstrap address out, a loss puts it back.
    @Test func lostLinksComeBackWithBackoff() {
        var s = RedialSchedule(base: 1, maximum: 8, maximumFailures: 10)
        let a = Recipient.random()
        s.lost(a, now: 100, jitter: 1)
        #expect(s.due(now: 100.9) == [] && s.due(now: 101) == [a])
        s.failed(a, now: 101, jitter: 1)
        #expect(s.entry(a) == .init(failures: 1, due: 103, bootstrap: false))
        s.failed(a, now: 103, jitter: 1)
        #expect(s.entry(a)?.due == 107)
        s.failed(a, now: 107, jitter: 1)
        #expect(s.entry(a)?.due == 115)  // 8: the cap
        s.failed(a, now: 115, jitter: 1.5)
        #expect(s.entry(a)?.due == 123)  // jitter never exceeds the cap
        s.linked(a)
        #expect(s.entry(a) == nil && s.count == 0)
        s.lost(a, now: 200, jitter: 0.5)
        #expect(s.entry(a) == .init(failures: 0, due: 200.5, bootstrap: false))
    }

    /// Bootstrap addresses are due at once and never leave; others leave after the failure
    /// limit (the book keeps them). Addresses a failed dial did not come from are not added.
    @Test func bootstrapStaysOthersLeave() {
        var s = RedialSchedule(base: 1, maximum: 4, maximumFailures: 3)
        let b = Recipient.random()
        let k = Recipient.random()
        let stranger = Recipient.random()
        s.addBootstrap(b, now: 0)
        s.addKnown(k, now: 0.001)
        #expect(s.due(now: 0.001) == [b, k])
        for t in 1...5 {
            s.failed(b, now: Double(t), jitter: 1)
            s.failed(k, now: Double(t), jitter: 1)
        }
        #expect(s.entry(b)?.failures == 5 && s.entry(k) == nil)
        s.failed(stranger, now: 1, jitter: 1)
        #expect(s.entry(stranger) == nil)
        s.linked(b)
        #expect(s.entry(b) == .init(failures: 0, due: .infinity, bootstrap: true))
        s.lost(b, now: 10, jitter: 1)
        #expect(s.entry(b) == .init(failures: 0, due: 11, bootstrap: true))
        s.forget(b)
        #expect(s.count == 0)
    }

    /// At most `capacity` addresses; a full schedule takes no new lost address.
    @Test func isBounded() {
        var s = RedialSchedule(capacity: 2)
        let three = (0..<3).map { _ in Recipient.random() }
        for a in three { s.lost(a, now: 0, jitter: 1) }
        #expect(s.count == 2 && s.entry(three[2]) == nil)
    }
}
