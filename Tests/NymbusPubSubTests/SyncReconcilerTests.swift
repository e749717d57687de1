import NymbusCrypto
import NymbusWire
import NymbusTestSupport
import Testing

@testable import NymbusPubSub

/// Range reconciliation (spec/pubsub.md §15) between two in-memory indexes: the initiator ends
/// up knowing exactly the ids it lacks, in bounded messages, and a peer asking for everything
/// gets at most 500 ids per answer.
struct SyncReconcilerTests {
    static func key(_ seed: UInt64, minute: UInt32) -> SyncKey {
        var rng = SplitMix64(seed: seed)
        var bytes: [UInt8] = []
        for _ in 0..<4 { withUnsafeBytes(of: rng.next()) { bytes.append(contentsOf: $0) } }
        return SyncKey(timestamp: minute, id: MessageID(bytes: bytes)!)
    }

    /// Runs a whole reconciliation; returns the ids the initiator needs, the rounds, and the
    /// largest message (ranges, ids) either side sent.
    static func run(initiator: SyncIndex, responder: SyncIndex, windowStart: UInt32 = 0)
        -> (need: Set<InventoryID>, rounds: Int, maxIDs: Int, maxRanges: Int)
    {
        var message = RangeReconciler.initiate(initiator, windowStart: windowStart)
        var need = Set<InventoryID>()
        var rounds = 0
        var maxIDs = 0
        var maxRanges = message.count
        while !message.isEmpty {
            rounds += 1
            precondition(rounds < 200, "reconciliation does not terminate")
            // Every message must pass the wire's own decoder.
            let wire = Message.syncRanges(SyncRanges(round: 1, isReply: false, ranges: message))
            let decoded = try! Envelope.decode(Envelope(sessionID: try! SessionID(bytes: Array(0..<16)), message: wire).encode())
            #expect(decoded.message == wire)
            let reply = RangeReconciler.respond(to: message, index: responder)
            maxIDs = max(maxIDs, SyncRanges(round: 1, isReply: true, ranges: reply).idCount)
            maxRanges = max(maxRanges, reply.count)
            let (next, needed) = RangeReconciler.reconcile(reply, index: initiator)
            need.formUnion(needed)
            maxRanges = max(maxRanges, next.count)
            maxIDs = max(maxIDs, SyncRanges(round: 1, isReply: false, ranges: next).idCount)
            message = next
        }
        return (need, rounds, maxIDs, maxRanges)
    }

    static func ids(_ keys: [SyncKey]) -> Set<InventoryID> { Set(keys.map { InventoryID(bytes: $0.idBytes)! }) }

    @Test func equalSetsNeedNothingInOneRound() {
        let keys = (0..<5000).map { Self.key(UInt64($0), minute: 1000 + UInt32($0 / 10)) }
        let result = Self.run(initiator: SyncIndex(keys), responder: SyncIndex(keys))
        #expect(result.need.isEmpty)
        #expect(result.rounds == 1)
    }

    @Test func theInitiatorLearnsExactlyWhatItLacks() {
        let seed: UInt64 = 7
        var rng = SplitMix64(seed: seed)
        let all = (0..<20_000).map { Self.key(UInt64($0) &+ 1_000_000, minute: 2000 + UInt32($0 / 14)) }
        // The responder has everything; the initiator lacks 600 at random and a run of 300 at the end
        // (10 minutes offline), and has 50 the responder lacks.
        var missing = Set<Int>((19_700..<20_000))
        while missing.count < 900 { missing.insert(Int(rng.next() % 19_700)) }
        let extra = (0..<50).map { Self.key(UInt64($0) &+ 9_000_000, minute: 2100) }
        let mine = all.enumerated().filter { !missing.contains($0.offset) }.map(\.element) + extra
        let result = Self.run(initiator: SyncIndex(mine), responder: SyncIndex(all))
        #expect(result.need == Self.ids(missing.map { all[$0] }), "seed \(seed)")
        #expect(result.maxIDs <= 500 && result.maxRanges <= SyncRanges.maxRanges)
        print("reconcile 20 000 vs 900 missing: \(result.rounds) rounds, largest message \(result.maxIDs) ids, \(result.maxRanges) ranges")
    }

    @Test func aNodeOfflineForTenMinutesNeedsFewRounds() {
        // 24 h at 1 object/s on the responder; the initiator missed the last 600 (10 minutes).
        let all = (0..<86_400).map { Self.key(UInt64($0), minute: 30_000_000 + UInt32($0 / 60)) }
        let result = Self.run(initiator: SyncIndex(Array(all.prefix(86_400 - 600))), responder: SyncIndex(all))
        #expect(result.need == Self.ids(Array(all.suffix(600))))
        #expect(result.maxIDs <= 500 && result.maxRanges <= SyncRanges.maxRanges)
        print("reconcile 86 400 vs the last 600 missing: \(result.rounds) rounds, largest message \(result.maxIDs) ids, \(result.maxRanges) ranges")
    }

    @Test func theWindowStartSkipsOlderObjects() {
        let old = (0..<100).map { Self.key(UInt64($0), minute: 10) }
        let recent = (0..<100).map { Self.key(UInt64($0) + 500, minute: 100) }
        let result = Self.run(initiator: SyncIndex([]), responder: SyncIndex(old + recent), windowStart: 50)
        #expect(result.need == Self.ids(recent))
    }

    @Test func askingForEverythingGetsABoundedAnswer() {
        let all = (0..<3000).map { Self.key(UInt64($0), minute: 5000 + UInt32($0)) }
        // A peer claims to have nothing in the whole order: an empty id list to infinity.
        let reply = RangeReconciler.respond(to: [SyncRange(upper: .infinity, mode: .idList([]))], index: SyncIndex(all))
        let message = SyncRanges(round: 1, isReply: true, ranges: reply)
        #expect(message.idCount == 500)
        #expect(reply.count == 2)
        guard case .idList(let listed) = reply[0].mode, case .fingerprint = reply[1].mode else {
            Issue.record("expected an id list then a fingerprint of the rest, got \(reply)")
            return
        }
        #expect(listed == all.prefix(500).map { InventoryID(bytes: $0.idBytes)! })
        #expect(reply[1].upper == .infinity)
    }

    @Test func boundsSeparateNeighboursWithTheShortestPrefix() {
        let a = SyncKey(timestamp: 5, id: MessageID(bytes: [0x12, 0x34] + [UInt8](repeating: 0, count: 30))!)
        let b = SyncKey(timestamp: 5, id: MessageID(bytes: [0x12, 0x56] + [UInt8](repeating: 0, count: 30))!)
        let c = SyncKey(timestamp: 6, id: MessageID(bytes: [UInt8](repeating: 0, count: 32))!)
        #expect(b.bound(after: a) == SyncBound(timestamp: 5, prefix: [0x12, 0x56]))
        #expect(c.bound(after: b) == SyncBound(timestamp: 6, prefix: []))
        #expect(a.isBelow(b.bound(after: a)) && !b.isBelow(b.bound(after: a)))
    }

    @Test func fingerprintMatchesTheSpecDefinition() throws {
        // Sum of ids 01 00…00 and 02 00…00 (little-endian numbers 1 and 2) is 03 00…00, count 2.
        let one = SyncKey(timestamp: 1, id: MessageID(bytes: [1] + [UInt8](repeating: 0, count: 31))!)
        let two = SyncKey(timestamp: 1, id: MessageID(bytes: [2] + [UInt8](repeating: 0, count: 31))!)
        let expected = try Blake2b.hash([3] + [UInt8](repeating: 0, count: 31) + [0, 0, 0, 2], outputLength: 16)
        #expect(SyncIndex([one, two]).fingerprint(0..<2) == expected)
        // Carries cross limbs: ff…ff + 01 00…00 = 0 (mod 2²⁵⁶).
        let max = SyncKey(timestamp: 1, id: MessageID(bytes: [UInt8](repeating: 0xff, count: 32))!)
        let zero = try Blake2b.hash([UInt8](repeating: 0, count: 32) + [0, 0, 0, 2], outputLength: 16)
        #expect(SyncIndex([max, one]).fingerprint(0..<2) == zero)
    }

    @Test func memoryArchiveKeepsTheBudgetAndRaisesTheHorizon() throws {
        let archive = MemoryObjectArchive(limits: ArchiveLimits(retention: .seconds(3600), maxBytes: 3000))
        func object(_ n: UInt64, minute: UInt32) -> ArchivedObject {
            ArchivedObject(id: Self.key(n, minute: minute).id, timestamp: minute, bytes: [UInt8](repeating: UInt8(n), count: 1000))
        }
        #expect(try archive.insert(object(1, minute: 100)))
        #expect(try archive.insert(object(2, minute: 101)))
        #expect(try archive.insert(object(3, minute: 102)))
        #expect(try !archive.insert(object(3, minute: 102)), "a duplicate is not stored twice")
        #expect(archive.usage.count == 3 && archive.usage.bytes == 3000)
        #expect(try archive.insert(object(4, minute: 103)))
        #expect(archive.usage.count == 3 && archive.usage.bytes == 3000)
        #expect(!archive.contains(object(1, minute: 100).id) && archive.horizon == 100)
        #expect(try !archive.insert(object(5, minute: 100)), "at or below the horizon: never again")
        #expect(archive.oldestAcceptable(now: 104 * 60) == 101)
        try archive.expire(now: 102 * 60 + 3600)
        #expect(archive.usage.count == 2 && archive.index(from: 0).keys.map(\.timestamp) == [102, 103])
        #expect(try archive.objects([object(4, minute: 103).id, object(1, minute: 100).id]).map(\.timestamp) == [103])
    }
}
