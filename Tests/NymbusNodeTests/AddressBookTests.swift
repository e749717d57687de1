import FoundationEssentials
import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymbusNode

@Suite struct AddressBookTests {
    let now: Int64 = 1_800_000_000
    var seen: UInt32 { UInt32(now - 60) }

    @Test func addUpdateAndReject() {
        var book = AddressBook()
        let a = Recipient.random()
        let source = AddressSource.peer(Recipient.random())
        #expect(book.add(a, services: 1, lastSeen: seen, source: source, now: now) == .added)
        #expect(book.add(a, services: 2, lastSeen: seen + 30, source: source, now: now) == .updated)
        let entry = book.entry(for: a)
        #expect(entry?.services == 3)
        #expect(entry?.lastSeen == seen + 30)
        #expect(entry?.tried == false)
        #expect(book.count == 1 && book.newCount == 1 && book.triedCount == 0)
        // 31 days old, or 11 minutes in the future: terrible, never stored.
        #expect(
            book.add(Recipient.random(), services: 0, lastSeen: UInt32(now - 31 * 86_400), source: source, now: now)
                == .rejected)
        #expect(
            book.add(Recipient.random(), services: 0, lastSeen: UInt32(now + 660), source: source, now: now)
                == .rejected)
        #expect(book.count == 1)
    }

    @Test func oneSourceCannotFillTheBook() {
        let limits = AddressBookLimits.default
        var book = AddressBook(limits: limits)
        let flooder = AddressSource.peer(Recipient.random())
        var added = 0
        for _ in 0..<3000
        where book.add(Recipient.random(), services: 0, lastSeen: seen, source: flooder, now: now) == .added {
            added += 1
        }
        // One source reaches 16 buckets × 32 slots = 512 of the 8192 new slots.
        let reach = limits.newBucketsPerSource * limits.bucketSize
        #expect(book.count == added)
        #expect(added <= reach)
        #expect(added > reach / 2)
        // Other sources still find room.
        var honest = 0
        for _ in 0..<200 {
            if book.add(Recipient.random(), services: 0, lastSeen: seen, source: .peer(Recipient.random()), now: now)
                == .added
            {
                honest += 1
            }
        }
        // Only the ~6 % of slots the flooder holds can turn an honest address away.
        #expect(honest >= 170)
    }

    @Test func bucketsDependOnTheSecretKey() {
        let a = Recipient.random()
        let source = AddressSource.peer(Recipient.random()).groupBytes
        let one = AddressBook(limits: .default, key: Array(repeating: 1, count: 32))
        let two = AddressBook(limits: .default, key: Array(repeating: 2, count: 32))
        let again = AddressBook(limits: .default, key: Array(repeating: 1, count: 32))
        #expect(one.newBucket(for: a, sourceGroup: source) == again.newBucket(for: a, sourceGroup: source))
        // Across 50 addresses two keys must disagree somewhere.
        let differs = (0..<50).contains { _ in
            let r = Recipient.random()
            return one.newBucket(for: r, sourceGroup: source) != two.newBucket(for: r, sourceGroup: source)
        }
        #expect(differs)
    }

    @Test func markGoodMovesToTriedAndResetsAttempts() {
        var book = AddressBook()
        let a = Recipient.random()
        book.add(a, services: 0, lastSeen: seen, source: .bootstrap, now: now)
        book.markAttempt(a, now: now)
        book.markAttempt(a, now: now)
        #expect(book.entry(for: a)?.attempts == 2)
        book.markGood(a, services: 3, now: now + 5)
        let entry = book.entry(for: a)
        #expect(entry?.tried == true)
        #expect(entry?.attempts == 0)
        #expect(entry?.lastSuccess == now + 5)
        #expect(book.newCount == 0 && book.triedCount == 1)
        // A proven address the book never heard of goes straight to tried.
        let b = Recipient.random()
        book.markGood(b, services: 1, now: now)
        #expect(book.entry(for: b)?.tried == true)
        book.remove(b)
        #expect(!book.contains(b) && book.triedCount == 1)
    }

    @Test func selectHonoursExclusionAndRetryDelay() {
        var book = AddressBook()
        let a = Recipient.random()
        #expect(book.add(a, services: 0, lastSeen: seen, source: .bootstrap, now: now) == .added)
        // Two addresses from one source share a slot 1 time in 512 (16 buckets × 32 slots), and
        // then the second is dropped (a double-load run once drew such a pair): draw b until it
        // has a slot of its own, so the book holds both.
        var b = Recipient.random()
        while book.add(b, services: 0, lastSeen: seen, source: .bootstrap, now: now) != .added { b = Recipient.random() }
        #expect(book.count == 2)
        var rng = SplitMix64(seed: 1)
        for _ in 0..<20 {
            #expect(book.select(now: now, retryDelay: 600, exclude: { $0 == a }, using: &rng) == b)
        }
        book.markAttempt(b, now: now)
        #expect(book.select(now: now + 10, retryDelay: 600, exclude: { $0 == a }, using: &rng) == nil)
        #expect(book.select(now: now + 601, retryDelay: 600, exclude: { $0 == a }, using: &rng) == b)
        #expect(book.select(now: now, retryDelay: 0, exclude: { _ in true }, using: &rng) == nil)
    }

    @Test func sampleIsCappedRandomAndSkipsTerrible() {
        var book = AddressBook()
        var all: Set<Recipient> = []
        for _ in 0..<50 {
            let r = Recipient.random()
            book.add(r, services: 0, lastSeen: seen, source: .peer(Recipient.random()), now: now)
            all.insert(r)
        }
        var rng = SplitMix64(seed: 9)
        let first = book.sample(maximum: 10, now: now, exclude: { _ in false }, using: &rng)
        let second = book.sample(maximum: 10, now: now, exclude: { _ in false }, using: &rng)
        #expect(first.count == 10 && second.count == 10)
        #expect(Set(first.map(\.address)).isSubset(of: all))
        #expect(first.map(\.address) != second.map(\.address))
        // 40 days later every entry is terrible.
        #expect(book.sample(maximum: 10, now: now + 40 * 86_400, exclude: { _ in false }, using: &rng).isEmpty)
    }
}

@Suite struct AddressBookStoreTests {
    let now: Int64 = 1_800_000_000

    func tempDirectory() -> String {
        let path = "/tmp/nymbus-node-tests-\(SessionIDForTests.unique())"
        return path
    }

    @Test func roundTripKeepsEntriesKeyAndTables() throws {
        let dir = tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var book = AddressBook()
        var addresses: [Recipient] = []
        for i in 0..<40 {
            let r = Recipient.random()
            addresses.append(r)
            book.add(
                r, services: UInt64(i % 4), lastSeen: UInt32(now - Int64(i)), source: .peer(Recipient.random()),
                now: now)
        }
        book.markGood(addresses[0], services: 3, now: now)
        book.markAttempt(addresses[1], now: now)
        let store = AddressBookStore(directory: dir)
        try store.save(book)
        let attributes = try FileManager.default.attributesOfItem(atPath: store.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let dirAttributes = try FileManager.default.attributesOfItem(atPath: dir)
        #expect((dirAttributes[.posixPermissions] as? Int) == 0o700)
        let loaded = try #require(try store.load(limits: .default, now: now))
        #expect(loaded.key == book.key)
        #expect(loaded.count == book.count)
        for address in addresses {
            #expect(loaded.entry(for: address) == book.entry(for: address))
        }
        #expect(loaded.triedCount == 1)
    }

    @Test func missingFileIsAnEmptyStart() throws {
        let store = AddressBookStore(directory: tempDirectory())
        #expect(try store.load(limits: .default, now: now) == nil)
    }

    @Test func corruptFileIsReportedAndKeptAside() throws {
        let dir = tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = AddressBookStore(directory: dir)
        let junk = Data("{\"format\":1,\"key\":\"00\",\"entr".utf8)
        try junk.write(to: URL(filePath: store.path))
        #expect(throws: NodeError(.corruptAddressBook, "")) { try store.load(limits: .default, now: now) }
        #expect(!FileManager.default.fileExists(atPath: store.path))
        let aside = store.path + ".corrupt-\(now)"
        #expect(try Data(contentsOf: URL(filePath: aside)) == junk)
        // The next start begins empty; the bad file is still there.
        #expect(try store.load(limits: .default, now: now) == nil)
        #expect(FileManager.default.fileExists(atPath: aside))
    }

    @Test func badRecordsAreCorruptionNotSilentDrops() throws {
        let store = AddressBookStore(directory: "/nonexistent")
        let key = String(repeating: "ab", count: 32)
        func file(_ entries: String, format: Int = 1, key: String = key) -> Data {
            Data("{\"format\":\(format),\"key\":\"\(key)\",\"entries\":[\(entries)]}".utf8)
        }
        let good = Recipient.random().description
        let record = { (address: String) in
            "{\"address\":\"\(address)\",\"services\":0,\"lastSeen\":1,\"lastTry\":0,\"lastSuccess\":0,\"attempts\":0,\"source\":\"42\",\"tried\":false}"
        }
        #expect(try store.decode(file(record(good)), limits: .default, now: now).count == 1)
        #expect(throws: AddressBookStore.StoreProblem.self) {
            try store.decode(file(record("not-an-address")), limits: .default, now: now)
        }
        #expect(throws: AddressBookStore.StoreProblem.self) {
            try store.decode(file("", format: 2), limits: .default, now: now)
        }
        #expect(throws: AddressBookStore.StoreProblem.self) {
            try store.decode(file("", key: "abcd"), limits: .default, now: now)
        }
        #expect(throws: AddressBookStore.StoreProblem.self) {
            try store.decode(Data([0xFF, 0x00]), limits: .default, now: now)
        }
    }
}

/// Unique names for temp paths (tests run in parallel).
enum SessionIDForTests {
    static func unique() -> String { Hex.encode(SecureRandom.bytes(8)) }
}
