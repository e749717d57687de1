import Foundation
import NymbusArchive
import NymbusCrypto
import NymbusPubSub
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The SQLite object archive (spec/pubsub.md §16): what it keeps survives reopening, the budget
/// and the horizon hold across restarts, the file is 0600, and a damaged file is named, not replaced.
struct SQLiteObjectArchiveTests {
    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "nymbus-archive-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func object(_ n: Int, minute: UInt32, size: Int = 1000) -> ArchivedObject {
        let id = MessageID(bytes: Blake2b.digest32(Array("object \(n)".utf8)))!
        return ArchivedObject(id: id, timestamp: minute, bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ n) })
    }

    @Test func objectsSurviveReopeningWithTheirOrderAndBytes() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/archive.sqlite"
        let objects = (0..<20).map { Self.object($0, minute: 29_000_000 + UInt32($0 % 7)) }
        do {
            let archive = try SQLiteObjectArchive(path: path)
            for o in objects { #expect(try archive.insert(o)) }
            #expect(try !archive.insert(objects[3]), "a known id is not stored twice")
            archive.close()
        }
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let reopened = try SQLiteObjectArchive(path: path)
        #expect(reopened.usage.count == 20 && reopened.usage.bytes == 20_000)
        let expectedOrder = objects.map { SyncKey(timestamp: $0.timestamp, id: $0.id) }.sorted()
        #expect(reopened.index(from: 0).keys == expectedOrder)
        #expect(try reopened.objects([objects[5].id, objects[0].id]) == [objects[5], objects[0]])
        #expect(reopened.contains(objects[19].id))
    }

    @Test func theBudgetEvictsTheOldestAndTheHorizonIsKept() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/archive.sqlite"
        let limits = ArchiveLimits(retention: .seconds(86_400), maxBytes: 3000)
        do {
            let archive = try SQLiteObjectArchive(path: path, limits: limits)
            for i in 0..<5 { _ = try archive.insert(Self.object(i, minute: 100 + UInt32(i))) }
            #expect(archive.usage.count == 3 && archive.usage.bytes == 3000)
            #expect(archive.horizon == 101)
        }
        let reopened = try SQLiteObjectArchive(path: path, limits: limits)
        #expect(reopened.horizon == 101)
        #expect(reopened.index(from: 0).keys.map(\.timestamp) == [102, 103, 104])
        #expect(try !reopened.insert(Self.object(9, minute: 101)), "at the horizon: refused for ever")
        #expect(reopened.oldestAcceptable(now: 105 * 60) == 102)
    }

    @Test func expiryDropsObjectsPastTheRetention() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/archive.sqlite"
        let archive = try SQLiteObjectArchive(path: path, limits: ArchiveLimits(retention: .seconds(600), maxBytes: 1 << 20))
        for i in 0..<4 { _ = try archive.insert(Self.object(i, minute: 1000 + UInt32(i))) }
        try archive.expire(now: 1002 * 60 + 600)
        #expect(archive.index(from: 0).keys.map(\.timestamp) == [1002, 1003])
        #expect(archive.horizon == 0, "expiry is not eviction")
        let reopened = try SQLiteObjectArchive(path: path, limits: archive.limits)
        #expect(reopened.usage.count == 2)
    }

    @Test func aDamagedFileIsNamedAndLeftAlone() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/archive.sqlite"
        let junk = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        FileManager.default.createFile(atPath: path, contents: junk)
        #expect {
            _ = try SQLiteObjectArchive(path: path)
        } throws: { error in
            guard let error = error as? ArchiveError else { return false }
            return error.reason.contains(path) && error.reason.contains("move it away")
        }
        #expect(FileManager.default.contents(atPath: path) == junk)
    }
}
