import NymClient
import NymbusCrypto
import NymbusTransport
import Testing

@testable import NymbusMixnet

/// nym-client's send budget in the stand-in: a Poisson stream of packets per endpoint, lanes,
/// `LaneQueueLength` and `ClosedConnection` (NYM-CLIENT.md §5.3, §7), on virtual time and seeded.
@Suite struct PacingTests {
    let a = Recipient.random()
    let b = Recipient.random()

    func makeRouter(sendDelay: Duration = .milliseconds(20), seed: UInt64) -> MixnetRouter {
        var configuration = MixnetConfiguration()
        configuration.hopDelay = .zero
        configuration.sendDelay = sendDelay
        var router = MixnetRouter(configuration: configuration, random: MixnetRandom(seed: seed))
        router.addEndpoint(a)
        router.addEndpoint(b)
        for endpoint in 0..<2 { _ = router.attach(endpoint, now: .zero) }
        return router
    }

    /// Runs the router event by event until `end`; returns each delivery with its time.
    func run(_ router: inout MixnetRouter, until end: Duration) -> [(at: Duration, message: ReceivedMessage)] {
        var out: [(Duration, ReceivedMessage)] = []
        while let next = router.nextDeadline, next <= end {
            for action in router.advance(to: next) {
                if case .deliver(_, let message) = action { out.append((next, message)) }
            }
        }
        return out
    }

    func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    @Test(arguments: [UInt64(11), 12, 13])
    func singlePacketMessagesLeaveAsAPoissonStreamOfTheConfiguredMean(seed: UInt64) {
        var router = makeRouter(seed: seed)
        for i in 0..<2000 {
            _ = router.send(from: 0, to: b, data: [UInt8(i & 0xff)], connectionID: nil, now: .zero)
        }
        #expect(router.queuedPackets(endpoint: 0) == 2000, "seed \(seed)")
        let arrivals = run(&router, until: .seconds(3600))
        #expect(arrivals.count == 2000, "seed \(seed)")
        #expect(router.counters.packetsSent == 2000, "seed \(seed)")
        #expect(router.endpoints.map(\.packetsSent) == [2000, 0], "seed \(seed): only the sender's stream counts")
        // With no mixing delay an arrival is a departure: the gaps are the sender's intervals.
        let times = arrivals.map { seconds($0.at) }
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let variance = gaps.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(gaps.count - 1)
        let cv = variance.squareRoot() / mean
        // 1999 exponential gaps of mean 20 ms: the mean's standard error is 0.45 ms, so ±2.5 ms
        // is over 5 standard errors; an exponential has a coefficient of variation of 1.
        #expect(abs(mean - 0.020) < 0.0025, "seed \(seed): mean gap \(mean)")
        #expect(abs(cv - 1) < 0.15, "seed \(seed): coefficient of variation \(cv)")
        #expect(gaps.allSatisfy { $0 >= 0 }, "seed \(seed)")
    }

    @Test func aMessageTakesOneTickPerPacketSurbsIncluded() {
        var router = makeRouter(seed: 3)
        let data = [UInt8](repeating: 7, count: 100)
        _ = router.sendAnonymous(from: 0, to: b, data: data, replySurbs: 20, connectionID: 9, now: .zero)
        let packets = NymPacketSizes.anonymousPackets(dataCount: 100, surbs: 20)
        #expect(packets == 15)  // 100 + 23 + 20 × 1164 bytes in 1604-byte fragments
        #expect(router.laneQueueLength(endpoint: 0, lane: 9) == 15)
        var ticks = 0
        var arrived: [ReceivedMessage] = []
        while arrived.isEmpty, let next = router.nextDeadline {
            let sentBefore = router.counters.packetsSent
            for action in router.advance(to: next) {
                if case .deliver(_, let message) = action { arrived.append(message) }
            }
            if router.counters.packetsSent > sentBefore { ticks += 1 }
            #expect(router.laneQueueLength(endpoint: 0, lane: 9) == 15 - ticks)
        }
        #expect(ticks == 15)
        #expect(arrived.map(\.data) == [data])
        #expect(router.counters.packetsSent == 15)
    }

    @Test func laneQueueLengthAnswersCountTheLanesPackets() {
        var router = makeRouter(seed: 4)
        let big = [UInt8](repeating: 1, count: 4000)  // 3 packets
        var answers: [Int] = []
        for _ in 0..<3 {
            for action in router.send(from: 0, to: b, data: big, connectionID: 5, now: .zero) {
                if case .laneQueueLength(0, 5, let length) = action { answers.append(length) }
            }
        }
        _ = router.send(from: 0, to: b, data: [1], connectionID: nil, now: .zero)
        #expect(answers == [3, 6, 9])
        #expect(router.laneQueueLength(endpoint: 0, lane: 5) == 9)
        #expect(router.laneQueueLength(endpoint: 0, lane: 6) == 0)
        #expect(router.queuedPackets(endpoint: 0) == 10)
        // Another endpoint's lane of the same number is its own.
        #expect(router.laneQueueLength(endpoint: 1, lane: 5) == 0)
    }

    @Test func closedConnectionDropsOnlyThatLanesUnsentPackets() {
        var router = makeRouter(seed: 5)
        let big = [UInt8](repeating: 2, count: 4000)  // 3 packets
        for _ in 0..<4 { _ = router.send(from: 0, to: b, data: big, connectionID: 8, now: .zero) }
        for i in 0..<3 { _ = router.send(from: 0, to: b, data: [UInt8(i)], connectionID: nil, now: .zero) }
        // Let a few packets go, then close lane 8.
        var delivered: [ReceivedMessage] = []
        while router.counters.packetsSent < 4, let next = router.nextDeadline {
            for action in router.advance(to: next) {
                if case .deliver(_, let message) = action { delivered.append(message) }
            }
        }
        let waitingInLane = router.laneQueueLength(endpoint: 0, lane: 8)
        let sentFromLane = 12 - waitingInLane
        router.closedConnection(from: 0, connectionID: 8)
        #expect(router.laneQueueLength(endpoint: 0, lane: 8) == 0)
        #expect(router.counters.packetsDroppedClosedLane == waitingInLane)
        // Messages whole or partly unsent are dropped; a message whose 3 packets all left is not.
        #expect(router.counters.messagesDroppedClosedLane == 4 - sentFromLane / 3)
        delivered += run(&router, until: .seconds(60)).map(\.message)
        let bigArrived = delivered.filter { $0.data.count == 4000 }.count
        #expect(bigArrived == sentFromLane / 3)
        #expect(delivered.filter { $0.data.count == 1 }.count == 3)
    }

    @Test func aSmallLaneGoesAheadOfALargeOne() {
        var router = makeRouter(seed: 6)
        for _ in 0..<150 { _ = router.send(from: 0, to: b, data: [0], connectionID: 1, now: .zero) }
        for i in 1...5 { _ = router.send(from: 0, to: b, data: [UInt8(i)], connectionID: 2, now: .zero) }
        let first = run(&router, until: .seconds(3600)).prefix(5).map(\.message.data)
        // Lane 1 holds 150 packets (not small): every pick goes to lane 2 while it has packets.
        #expect(first == [[1], [2], [3], [4], [5]])
    }

    @Test func unpacedSendsLeaveAtOnce() {
        var router = makeRouter(sendDelay: .zero, seed: 7)
        for _ in 0..<100 { _ = router.send(from: 0, to: b, data: [1], connectionID: 3, now: .zero) }
        #expect(router.laneQueueLength(endpoint: 0, lane: 3) == 0)
        #expect(run(&router, until: .zero).count == 100)
    }

    @Test func anOfflineEndpointLosesWhatWaitedForItsSender() {
        var router = makeRouter(seed: 8)
        for _ in 0..<10 { _ = router.send(from: 0, to: b, data: [1], connectionID: nil, now: .zero) }
        _ = router.setOnline(0, false, now: .zero)
        #expect(router.queuedPackets(endpoint: 0) == 0)
        #expect(router.counters.lostOnRestart == 10)
        #expect(run(&router, until: .seconds(60)).isEmpty)
    }
}
