import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusWire
import Testing

@testable import NymbusNode

@Suite struct GetaddrCacheTests {
    func entry(_ address: Recipient = .random()) -> AddressBookEntry {
        AddressBookEntry(
            address: address, services: 0, lastSeen: 1_800_000_000, lastTry: 0, lastSuccess: 0, attempts: 0,
            sourceGroup: [], tried: false)
    }

    @Test func keepsOneSpareSoEveryAnswerHasTheSameSizeWithoutTheRequester() {
        let pool = (0..<10).map { _ in entry() }
        let cache = GetaddrCache(pool: pool, maximum: 3, expires: 100)
        #expect(cache.entries == Array(pool.prefix(4)) && !cache.complete)
        #expect(cache.answer { _ in true } == Array(pool.prefix(3)))
        // The requester is the second cached entry: the spare takes its place.
        let requester = pool[1].address
        #expect(cache.answer { $0.address != requester } == [pool[0], pool[2], pool[3]])
        #expect(!cache.isStale(now: 99.9) && cache.isStale(now: 100))
    }

    @Test func aSampleOfEverythingIsCompleteAndRemadeOnDemand() {
        let pool = (0..<4).map { _ in entry() }
        let whole = GetaddrCache(pool: pool, maximum: 3, expires: 100)  // 3 + the spare = all 4
        #expect(whole.complete && whole.isStale(now: 0))
        let young = GetaddrCache(pool: Array(pool.prefix(2)), maximum: 32, expires: 100)
        #expect(young.complete && young.answer { _ in true } == Array(pool.prefix(2)))
        #expect(GetaddrCache(pool: [], maximum: 0, expires: 100).answer { _ in true }.isEmpty)
    }
}

extension NodeSingleTests {
    /// The `addr` answer to a `getaddr` from a new inbound peer (`nil` if none came).
    func getaddrAnswer(_ node: Node, _ t: ScriptedTransport, expectPeers: Int) async -> (Recipient, [AddressEntry]?) {
        let address = Recipient.random()
        let session = await visibleHandshake2(node, t, from: address, expectPeers: expectPeers)
        t.inject(.getaddr, session: session)
        t.inject(.ping(nonce: 42), session: session)  // answered after the getaddr
        _ = await t.log.waitFor { $0.envelope?.sessionID == session && $0.message == .pong(nonce: 42) }
        let answer = await t.log.all.first { $0.envelope?.sessionID == session && $0.message?.command == .addr }
        guard case .addr(let entries)? = answer?.message else { return (address, nil) }
        return (address, entries)
    }

    @Test func getaddrAnswersComeFromOneSampleKeptFor21To27Hours() async throws {
        let t = ScriptedTransport()
        let clock = ManualClock()
        let node = Node(transport: t, configuration: testConfiguration(clock: clock), logger: testLogger())
        try await node.start()
        // Fill the book: a peer we dial answers our getaddr with 400 addresses.
        let source = Recipient.random()
        let dialing = Task { try await node.connect(to: source) }
        let version = await t.log.waitFor { $0.kind == .send(source) && $0.message?.command == .version }
        answer(version[0], from: t, nonce: 1)
        _ = try await dialing.value
        _ = await t.log.waitFor { $0.kind == .send(source) && $0.message == .getaddr }
        let seen = UInt32(clamping: clock.unix - 3600)
        let told = (0..<400).map { _ in AddressEntry(address: .random(), lastSeen: seen, services: [.relay]) }
        t.inject(.addr(told), session: try #require(version[0].envelope?.sessionID))
        #expect(await eventually { await node.statistics.addressesReceived == 400 })

        // Three requesters, one after the other: the first makes the sample, all get it.
        let (first, a1) = await getaddrAnswer(node, t, expectPeers: 2)
        let size = await node.addressBookCount  // as when the sample was made: nothing was added since
        #expect(size > 200)
        let expected = max(Int((Double(size) * 0.23).rounded(.up)), 32)
        let answer1 = try #require(a1)
        let cache = try #require(await node.getaddrCache)
        #expect(!cache.complete && cache.maximum == expected && cache.entries.count == expected + 1)
        #expect(cache.expires >= 21 * 3600 && cache.expires < 27 * 3600)  // made at t = 0
        let (_, a2) = await getaddrAnswer(node, t, expectPeers: 3)
        let (_, a3) = await getaddrAnswer(node, t, expectPeers: 4)
        let answer2 = try #require(a2)
        #expect(answer1.count == expected && answer2.count == expected)
        #expect(!answer1.contains { $0.address == first })
        #expect(a3 == answer2)  // later requesters are not in the sample: the very same answer
        #expect(Set(answer1.map(\.address)).union(answer2.map(\.address)).count <= expected + 1)

        // Still the same just before the earliest expiry; a new sample after the latest.
        await clock.advance(by: .seconds(21 * 3600 - 1), running: node)
        let (_, a4) = await getaddrAnswer(node, t, expectPeers: 5)
        #expect(a4 == answer2)
        await clock.advance(by: .seconds(6 * 3600 + 2), running: node)
        let (_, a5) = await getaddrAnswer(node, t, expectPeers: 6)
        let answer5 = try #require(a5)
        #expect(Set(answer5.map(\.address)) != Set(answer2.map(\.address)))
        #expect(try #require(await node.getaddrCache).expires >= 27 * 3600 + 1 + 21 * 3600)
        await node.stop()
    }

    @Test func aYoungBookIsGivenWholeAndStaysCurrent() async throws {
        let t = ScriptedTransport()
        let node = Node(transport: t, configuration: testConfiguration(), logger: testLogger())
        try await node.start()
        // The first requester finds only itself in the book: an empty answer (an address fetch
        // waits for the answer to close its link).
        let (r1, a1) = await getaddrAnswer(node, t, expectPeers: 1)
        #expect(a1 == [])
        // A sample that held everything hides nothing, so the next requester gets the grown book.
        // (Compared with the book itself: two addresses from different sources share a book slot
        // with a probability of 1/8192, and then the second is not kept.)
        let (_, a2) = await getaddrAnswer(node, t, expectPeers: 2)
        #expect(a2?.map(\.address) == [r1])
        let (r3, a3) = await getaddrAnswer(node, t, expectPeers: 3)
        let book = Set(await node.knownAddresses())
        #expect(book.contains(r1))
        #expect(Set(try #require(a3).map(\.address)) == book.subtracting([r3]))  // r1 and (almost surely) r2
        await node.stop()
    }
}
