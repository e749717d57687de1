import NymClient
import NymbusCrypto
import NymbusTransport
import Testing

@testable import NymbusMixnet

/// The routing core on virtual time: no sockets, no sleeping.
@Suite struct MixnetRouterTests {
    let a = Recipient.random()
    let b = Recipient.random()
    let c = Recipient.random()

    func makeRouter(
        hopDelay: Duration = .zero, sendDelay: Duration = .zero, loss: Double = 0, duplicate: Double = 0,
        seed: UInt64 = 7, surbs: MixnetSurbPolicy = MixnetSurbPolicy()
    ) -> MixnetRouter {
        var configuration = MixnetConfiguration()
        configuration.hopDelay = hopDelay
        configuration.sendDelay = sendDelay
        configuration.lossProbability = loss
        configuration.duplicateProbability = duplicate
        configuration.surbs = surbs
        var router = MixnetRouter(configuration: configuration, random: MixnetRandom(seed: seed))
        router.addEndpoint(a)
        router.addEndpoint(b)
        router.addEndpoint(c)
        for endpoint in 0..<3 { _ = router.attach(endpoint, now: .zero) }
        return router
    }

    func deliveries(_ actions: [RouterAction]) -> [(Int, ReceivedMessage)] {
        actions.compactMap {
            if case .deliver(let endpoint, let message) = $0 { return (endpoint, message) }
            return nil
        }
    }

    func taps(_ actions: [RouterAction]) -> [MixnetTapEvent] {
        actions.compactMap {
            if case .tap(let event) = $0 { return event }
            return nil
        }
    }

    @Test func sendArrivesWithoutTagAndIsTapped() {
        var router = makeRouter()
        let sent = router.send(from: 0, to: b, data: [1, 2, 3], connectionID: nil, now: .zero)
        #expect(
            taps(sent) == [
                MixnetTapEvent(
                    kind: .send, from: 0, fromAddress: a, to: 1, toAddress: b, senderTag: nil, bytes: [1, 2, 3],
                    surbCount: 0)
            ])
        let arrived = deliveries(router.advance(to: .zero))
        #expect(arrived.count == 1)
        #expect(arrived.first?.0 == 1)
        #expect(arrived.first?.1 == ReceivedMessage(data: [1, 2, 3], senderTag: nil))
        #expect(router.counters.messagesRouted == 1)
        #expect(router.counters.messagesDelivered == 1)
    }

    /// Quiet means nothing on its way: a message waiting in a paced outbox or travelling is not
    /// quiet; idle timers are.
    @Test func quietOnlyWhenNothingIsOnItsWay() {
        var router = makeRouter(hopDelay: .milliseconds(50), sendDelay: .milliseconds(20))
        #expect(router.isQuiet)
        _ = router.send(from: 0, to: b, data: [1], connectionID: 3, now: .zero)
        #expect(!router.isQuiet, "waiting in the sender's outbox")
        var delivered: [(Int, ReceivedMessage)] = []
        var now = Duration.zero
        while delivered.isEmpty, now < .seconds(60) {
            now += .milliseconds(5)
            delivered += deliveries(router.advance(to: now))
            if delivered.isEmpty { #expect(!router.isQuiet, "in flight at \(now)") }
        }
        #expect(delivered.map(\.1) == [ReceivedMessage(data: [1], senderTag: nil)])
        #expect(router.isQuiet, "delivered; the idle sender's tick does not count")
    }

    @Test func sendToUnknownAddressIsDroppedSilently() {
        var router = makeRouter()
        let actions = router.send(from: 0, to: Recipient.random(), data: [9], connectionID: nil, now: .zero)
        #expect(taps(actions).first?.to == nil)
        #expect(router.advance(to: .seconds(60)).isEmpty)
        #expect(router.counters.droppedNoRoute == 1)
    }

    @Test func connectionIDGetsLaneQueueLength() {
        var router = makeRouter()
        let actions = router.send(from: 0, to: b, data: [1], connectionID: 42, now: .zero)
        #expect(actions.contains(.laneQueueLength(endpoint: 0, lane: 42, length: 0)))
        let plain = router.send(from: 0, to: b, data: [1], connectionID: nil, now: .zero)
        #expect(!plain.contains { if case .laneQueueLength = $0 { return true } else { return false } })
    }

    @Test func anonymousTagIsStablePerPairAndFillsTheBook() throws {
        var router = makeRouter()
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 20, connectionID: nil, now: .zero)
        _ = router.sendAnonymous(from: 0, to: b, data: [2], replySurbs: 5, connectionID: nil, now: .zero)
        _ = router.sendAnonymous(from: 0, to: c, data: [3], replySurbs: 0, connectionID: nil, now: .zero)
        _ = router.sendAnonymous(from: 1, to: c, data: [4], replySurbs: 0, connectionID: nil, now: .zero)
        let arrived = deliveries(router.advance(to: .zero))
        let tagAB = try #require(router.senderTag(from: 0, to: b))
        let tagAC = try #require(router.senderTag(from: 0, to: c))
        let tagBC = try #require(router.senderTag(from: 1, to: c))
        #expect(Set([tagAB, tagAC, tagBC]).count == 3)
        #expect(arrived.map(\.1.senderTag) == [tagAB, tagAB, tagAC, tagBC])
        #expect(router.surbCount(holder: 1, tag: tagAB) == 25)
        // N = 0: delivered with a tag, but no book.
        #expect(router.surbCount(holder: 2, tag: tagAC) == nil)
        #expect(router.surbCount(holder: 2, tag: tagBC) == nil)
    }

    @Test func replySpendsSurbsAboveTheReserveAndArrivesWithoutTag() throws {
        var router = makeRouter()
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 20, connectionID: nil, now: .zero)
        _ = router.advance(to: .zero)
        let tag = try #require(router.senderTag(from: 0, to: b))
        var delivered: [(Int, ReceivedMessage)] = []
        for i in 0..<10 {
            let actions = router.reply(from: 1, tag: tag, data: [UInt8(i)], connectionID: nil, now: .zero)
            #expect(taps(actions).map(\.kind) == [.reply])
            #expect(taps(actions).first?.to == 0)
            delivered += deliveries(router.advance(to: .zero))
        }
        #expect(delivered.count == 10)
        #expect(delivered.allSatisfy { $0.0 == 0 && $0.1.senderTag == nil })
        #expect(router.surbCount(holder: 1, tag: tag) == 10)
        #expect(router.counters.surbRequests == 0)
    }

    @Test func replyBeyondTheReserveWaitsForATopUp() throws {
        var router = makeRouter(hopDelay: .milliseconds(15))
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 11, connectionID: nil, now: .zero)
        _ = router.advance(to: .seconds(10))
        let tag = try #require(router.senderTag(from: 0, to: b))
        #expect(router.surbCount(holder: 1, tag: tag) == 11)
        // First reply: 1 spendable SURB; second and third queue and trigger one request for 10.
        var actions = router.reply(from: 1, tag: tag, data: [1], connectionID: nil, now: .seconds(10))
        actions += router.reply(from: 1, tag: tag, data: [2], connectionID: 5, now: .seconds(10))
        actions += router.reply(from: 1, tag: tag, data: [3], connectionID: 5, now: .seconds(10))
        #expect(taps(actions).map(\.kind) == [.reply, .surbRequest])
        #expect(taps(actions).last?.surbCount == 10)
        #expect(actions.contains(.laneQueueLength(endpoint: 1, lane: 5, length: 2)))
        #expect(router.surbCount(holder: 1, tag: tag) == 9)  // 11 - 1 reply - 1 request
        #expect(router.pendingReplies(holder: 1, tag: tag) == 2)
        #expect(router.book(holder: 1, tag: tag)?.pendingReception == 10)
        let later = router.advance(to: .seconds(20))
        #expect(taps(later).map(\.kind) == [.surbTopUp, .reply, .reply])
        let delivered = deliveries(later).map(\.1.data)
        #expect(Set(delivered) == [[1], [2], [3]])
        #expect(router.pendingReplies(holder: 1, tag: tag) == 0)
        #expect(router.surbCount(holder: 1, tag: tag) == 17)  // 9 + 10 - 2
        #expect(router.counters.surbRequests == 1)
        #expect(router.counters.surbTopUps == 1)
        #expect(router.laneQueueLength(endpoint: 1, lane: 5) == 0)
    }

    @Test func fewSurbsTriggerARequestOnArrival() throws {
        var router = makeRouter()
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 3, connectionID: nil, now: .zero)
        let actions = router.advance(to: .zero)
        let tag = try #require(router.senderTag(from: 0, to: b))
        // nym-client asks as soon as it holds fewer than the reserve: 3 - 1 + 10.
        #expect(taps(actions).map(\.kind) == [.surbRequest, .surbTopUp])
        #expect(router.surbCount(holder: 1, tag: tag) == 12)
    }

    @Test func multiPacketReplyUsesOneSurbPerPacket() throws {
        var router = makeRouter()
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 40, connectionID: nil, now: .zero)
        _ = router.advance(to: .zero)
        let tag = try #require(router.senderTag(from: 0, to: b))
        let big = [UInt8](repeating: 7, count: 5000)
        #expect(NymPacketSizes.replyPackets(dataCount: 5000) == 4)
        #expect(NymPacketSizes.replyPackets(dataCount: 1601) == 1)
        #expect(NymPacketSizes.replyPackets(dataCount: 1602) == 2)
        let actions = router.reply(from: 1, tag: tag, data: big, connectionID: nil, now: .zero)
        #expect(taps(actions).first?.surbCount == 4)
        #expect(router.surbCount(holder: 1, tag: tag) == 36)
        #expect(deliveries(router.advance(to: .zero)).map(\.1.data) == [big])
    }

    @Test func replyToUnknownTagIsDroppedAndCounted() {
        var router = makeRouter()
        let actions = router.reply(from: 1, tag: SenderTag.random(), data: [1], connectionID: nil, now: .zero)
        #expect(actions.isEmpty)
        #expect(router.advance(to: .seconds(600)).isEmpty)
        #expect(router.counters.repliesDroppedUnknownTag == 1)
        #expect(router.counters.messagesRouted == 0)
    }

    @Test func replyAfterZeroSurbAnonymousSendIsDropped() throws {
        var router = makeRouter()
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 0, connectionID: nil, now: .zero)
        _ = router.advance(to: .zero)
        let tag = try #require(router.senderTag(from: 0, to: b))
        _ = router.reply(from: 1, tag: tag, data: [1], connectionID: nil, now: .zero)
        #expect(router.counters.repliesDroppedUnknownTag == 1)
    }

    @Test func unansweredRequestsEndInASilentDrop() throws {
        // The original sender forgot its tags, so it refuses every request: after more than 5
        // re-requests (one per inspection once 10 s passed without SURBs) the replies are dropped.
        var router = makeRouter()
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 20, connectionID: nil, now: .zero)
        _ = router.advance(to: .zero)
        let tag = try #require(router.senderTag(from: 0, to: b))
        router.resetSenderTags(of: 0)
        for i in 0..<12 { _ = router.reply(from: 1, tag: tag, data: [UInt8(i)], connectionID: nil, now: .zero) }
        #expect(router.pendingReplies(holder: 1, tag: tag) == 2)
        var delivered = 0
        var time = Duration.zero
        while time < .seconds(120) {
            time += .seconds(1)
            delivered += deliveries(router.advance(to: time)).count
        }
        #expect(delivered == 10)
        #expect(router.pendingReplies(holder: 1, tag: tag) == 0)
        #expect(router.counters.repliesDroppedNoSurbs == 2)
        #expect(router.counters.surbRequests == 7)  // the first, then 6 re-requests at 15, 20, ... 40 s
        #expect(router.counters.surbRequestsRefused == 7)
        #expect(router.surbCount(holder: 1, tag: tag) == 3)  // 20 - 10 replies - 7 requests
    }

    @Test func withoutAnySurbThePendingRepliesDropAfterTheDropPeriod() throws {
        let policy = MixnetSurbPolicy(
            inspectionInterval: .seconds(1), rerequestWait: .seconds(2), dropWait: .seconds(30))
        var router = makeRouter(surbs: policy)
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 1, connectionID: nil, now: .zero)
        router.resetSenderTags(of: 0)
        _ = router.advance(to: .zero)
        let tag = try #require(router.senderTag(from: 0, to: b) ?? router.endpoints[1].books.keys.first)
        #expect(router.surbCount(holder: 1, tag: tag) == 0)  // spent on the (refused) request
        _ = router.reply(from: 1, tag: tag, data: [1], connectionID: nil, now: .zero)
        _ = router.advance(to: .seconds(3))
        #expect(router.pendingReplies(holder: 1, tag: tag) == 1)
        _ = router.advance(to: .seconds(60))
        #expect(router.pendingReplies(holder: 1, tag: tag) == 0)
        #expect(router.counters.repliesDroppedNoSurbs == 1)
        #expect(router.counters.surbRequests == 1)
    }

    @Test func detachedEndpointKeepsAnInboxAndGetsItInABurst() {
        var router = makeRouter()
        router.detach(1)
        for i in 0..<5 { _ = router.send(from: 0, to: b, data: [UInt8(i)], connectionID: nil, now: .zero) }
        #expect(deliveries(router.advance(to: .zero)).isEmpty)
        #expect(router.inboxCount(1) == 5)
        let burst = deliveries(router.attach(1, now: .seconds(1)))
        #expect(burst.map(\.1.data) == [[0], [1], [2], [3], [4]])
        #expect(router.inboxCount(1) == 0)
    }

    @Test func inboxIsBoundedOldestFirst() {
        var configuration = MixnetConfiguration()
        configuration.hopDelay = .zero
        configuration.sendDelay = .zero
        configuration.inboxMessageLimit = 3
        configuration.inboxByteLimit = 1000
        var router = MixnetRouter(configuration: configuration, random: MixnetRandom(seed: 1))
        router.addEndpoint(a)
        router.addEndpoint(b)
        for i in 0..<5 { _ = router.send(from: 0, to: b, data: [UInt8(i)], connectionID: nil, now: .zero) }
        _ = router.send(from: 0, to: b, data: [UInt8](repeating: 9, count: 999), connectionID: nil, now: .zero)
        _ = router.advance(to: .zero)
        // 5 one-byte messages, limit 3: [0] and [1] go. Then 999 bytes: [2] and [3] go to fit 1000 bytes.
        #expect(router.counters.inboxDropped == 4)
        #expect(deliveries(router.attach(1, now: .zero)).map(\.1.data) == [[4], [UInt8](repeating: 9, count: 999)])
    }

    @Test func offlineEndpointLosesItsInboxAndGetsWhatTheGatewayHeld() {
        var router = makeRouter()
        router.detach(1)
        _ = router.send(from: 0, to: b, data: [1], connectionID: nil, now: .zero)
        _ = router.advance(to: .zero)
        _ = router.setOnline(1, false, now: .zero)
        #expect(router.counters.lostOnRestart == 1)
        _ = router.send(from: 0, to: b, data: [2], connectionID: nil, now: .zero)
        _ = router.advance(to: .zero)
        _ = router.setOnline(1, true, now: .seconds(1))
        #expect(deliveries(router.attach(1, now: .seconds(1))).map(\.1.data) == [[2]])
    }

    @Test func lossAndDuplicationFollowTheirProbabilities() {
        var router = makeRouter(loss: 0.1, duplicate: 0.2, seed: 2024)
        let n = 10_000
        for i in 0..<n { _ = router.send(from: 0, to: b, data: [UInt8(i & 0xFF)], connectionID: nil, now: .zero) }
        let delivered = deliveries(router.advance(to: .zero)).count
        let counters = router.counters
        #expect((900...1100).contains(counters.droppedByLoss))
        #expect((1800...2200).contains(counters.duplicated))
        #expect(delivered == n - counters.droppedByLoss + counters.duplicated)
        #expect(counters.messagesDelivered == delivered)
    }

    @Test func sameSeedSameOutcome() {
        func run() -> MixnetCounters {
            var router = makeRouter(hopDelay: .milliseconds(15), loss: 0.3, duplicate: 0.3, seed: 99)
            for _ in 0..<500 { _ = router.send(from: 0, to: b, data: [1], connectionID: nil, now: .zero) }
            _ = router.advance(to: .seconds(10))
            return router.counters
        }
        #expect(run() == run())
    }

    @Test func delaysAreExponentialPerHopAndUnordered() {
        var router = makeRouter(hopDelay: .milliseconds(15), seed: 5)
        let n = 2000
        for i in 0..<n {
            _ = router.send(from: 0, to: b, data: [UInt8(i >> 8), UInt8(i & 0xFF)], connectionID: nil, now: .zero)
        }
        var arrivals: [(Int, Duration)] = []
        var time = Duration.zero
        while let next = router.nextDeadline {
            time = next
            for (_, message) in deliveries(router.advance(to: time)) {
                arrivals.append((Int(message.data[0]) << 8 | Int(message.data[1]), time))
            }
        }
        #expect(arrivals.count == n)
        // Mean of 4 hops × 15 ms = 60 ms.
        let mean = arrivals.map(\.1).reduce(Duration.zero, +) / n
        #expect(mean > .milliseconds(54) && mean < .milliseconds(66))
        // Order is lost: many messages overtake an earlier one.
        let inversions = zip(arrivals, arrivals.dropFirst()).filter { $0.0 > $1.0 }.count
        #expect(inversions > n / 4)
    }

    @Test func zeroDelayIsImmediate() {
        var router = makeRouter()
        _ = router.send(from: 0, to: b, data: [1], connectionID: nil, now: .seconds(3))
        #expect(router.nextDeadline == .seconds(3))
    }

    @Test func surbRequestFromAHolderTheSenderNeverAddressedIsRefused() throws {
        var router = makeRouter()
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 12, connectionID: nil, now: .zero)
        _ = router.advance(to: .zero)
        let tag = try #require(router.senderTag(from: 0, to: b))
        router.resetSenderTags(of: 0)
        for _ in 0..<3 { _ = router.reply(from: 1, tag: tag, data: [1], connectionID: nil, now: .zero) }
        _ = router.advance(to: .seconds(1))
        #expect(router.counters.surbRequests == 1)
        #expect(router.counters.surbRequestsRefused == 1)
        #expect(router.counters.surbTopUps == 0)
    }

    @Test func inboxAndGatewayDropMessagesOlderThanTheirMaximumAge() {
        var router = makeRouter()
        router.detach(1)
        _ = router.send(from: 0, to: b, data: [1], connectionID: nil, now: .zero)
        _ = router.advance(to: .zero)
        _ = router.send(from: 0, to: b, data: [2], connectionID: nil, now: .seconds(3600))
        _ = router.advance(to: .seconds(3600))
        // 24 h and a bit after the first: only the second is young enough.
        let burst = deliveries(router.attach(1, now: .seconds(24 * 3600 + 1)))
        #expect(burst.map(\.1.data) == [[2]])
        #expect(router.counters.inboxDropped == 1)

        _ = router.setOnline(2, false, now: .zero)
        _ = router.send(from: 0, to: c, data: [3], connectionID: nil, now: .zero)
        _ = router.advance(to: .zero)
        _ = router.setOnline(2, true, now: .seconds(25 * 3600))
        #expect(router.counters.inboxDropped == 2)
        #expect(router.inboxCount(2) == 0)
    }

    @Test func aLongReplyIsSentInPartsAndArrivesOnceWhole() throws {
        var router = makeRouter(hopDelay: .milliseconds(10))
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 12, connectionID: nil, now: .zero)
        _ = router.advance(to: .seconds(5))
        let tag = try #require(router.senderTag(from: 0, to: b))
        let long = [UInt8](repeating: 3, count: 4000)  // 3 packets; only 2 SURBs above the reserve
        let actions = router.reply(from: 1, tag: tag, data: long, connectionID: 1, now: .seconds(5))
        #expect(taps(actions).map(\.kind) == [.surbRequest])  // not on its way yet: nothing tapped as reply
        #expect(actions.contains(.laneQueueLength(endpoint: 1, lane: 1, length: 1)))
        #expect(router.surbCount(holder: 1, tag: tag) == 9)  // 12 - 2 packets - 1 request
        let later = router.advance(to: .seconds(10))
        #expect(taps(later).map(\.kind) == [.surbTopUp, .reply])
        #expect(taps(later).last?.surbCount == 3)
        #expect(deliveries(later).map(\.1) == [ReceivedMessage(data: long, senderTag: nil)])
        #expect(router.surbCount(holder: 1, tag: tag) == 18)  // 9 + 10 - 1
    }

    @Test func aDuplicatedAnonymousMessageStoresItsSurbsOnce() throws {
        var router = makeRouter(duplicate: 1)
        _ = router.sendAnonymous(from: 0, to: b, data: [1], replySurbs: 20, connectionID: nil, now: .zero)
        let arrived = deliveries(router.advance(to: .zero))
        let tag = try #require(router.senderTag(from: 0, to: b))
        #expect(arrived.map(\.1) == Array(repeating: ReceivedMessage(data: [1], senderTag: tag), count: 2))
        #expect(router.surbCount(holder: 1, tag: tag) == 20)
        #expect(router.counters.duplicated == 1)
    }

    @Test func eventQueueOrdersByTimeThenInsertion() {
        var queue = EventQueue<Int>()
        for (value, due) in [(1, 5), (2, 1), (3, 5), (4, 0), (5, 1)] { queue.insert(value, at: .seconds(due)) }
        var out: [Int] = []
        while let (_, value) = queue.popDue(notAfter: .seconds(10)) { out.append(value) }
        #expect(out == [4, 2, 5, 1, 3])
        queue.insert(9, at: .seconds(20))
        #expect(queue.popDue(notAfter: .seconds(19)) == nil)
    }
}
