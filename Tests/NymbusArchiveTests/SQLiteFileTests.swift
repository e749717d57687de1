import Foundation
import GRDB
import NymbusSQLite
import Testing

/// How every store opens its SQLite file (`SQLiteFile.open`, used by the object archive and the
/// stream store): 0600, WAL, schema, check and load in one go; a damaged file left as it is.
@Suite struct SQLiteFileTests {
    private static func directory() throws -> String {
        let path = "/tmp/nbt-sqlite-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func aNewFileIsPrivateInWALModeWithItsSchemaAndLoadsWhatIsThere() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/t.sqlite"
        let schema = "CREATE TABLE IF NOT EXISTS items(n INTEGER PRIMARY KEY) WITHOUT ROWID;"
        var loaded: [Int] = []
        let queue = try SQLiteFile.open(path: path, label: "test", synchronous: "FULL", schema: schema) { db in
            loaded = try Int.fetchAll(db, sql: "SELECT n FROM items ORDER BY n")
        }
        #expect(loaded == [])
        try queue.write { db in try db.execute(sql: "INSERT INTO items(n) VALUES (3), (1)") }
        #expect(try queue.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)  // FULL
        #expect(try Self.mode(path) == 0o600)
        #expect(try Self.mode(path + "-wal") == 0o600)
        try queue.close()

        let again = try SQLiteFile.open(
            path: path, label: "test", synchronous: "OFF",
            prepare: { db in _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = 50") }, schema: schema
        ) { db in loaded = try Int.fetchAll(db, sql: "SELECT n FROM items ORDER BY n") }
        #expect(loaded == [1, 3])
        #expect(try again.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 0)  // OFF
        #expect(try again.read { db in try Int.fetchOne(db, sql: "PRAGMA max_page_count") } == 50)
        try again.close()
    }

    @Test func aDamagedFileIsRefusedAndLeftAsItIs() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/t.sqlite"
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: SQLiteOpenError.self) {
            _ = try SQLiteFile.open(path: path, label: "test", synchronous: "NORMAL", schema: "")
        }
        #expect(error?.kind == .damaged)
        #expect(error?.reason == "file is not a database (SQLite code 26)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    /// What the owner's load refuses makes the file count as damaged, in the owner's words.
    @Test func aRefusedLoadIsADamagedFile() throws {
        struct Refused: Error, CustomStringConvertible { var description: String { "a row has an id of 3 bytes" } }
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = #expect(throws: SQLiteOpenError.self) {
            _ = try SQLiteFile.open(path: directory + "/t.sqlite", label: "test", synchronous: "NORMAL", schema: "") { _ in
                throw Refused()
            }
        }
        #expect(error?.kind == .damaged)
        #expect(error?.reason == "a row has an id of 3 bytes")
    }

    @Test func aFileThatCannotBeCreatedSaysWhy() {
        let error = #expect(throws: SQLiteOpenError.self) {
            _ = try SQLiteFile.open(path: "/nonexistent-nymbus-dir/t.sqlite", label: "test", synchronous: "NORMAL", schema: "")
        }
        #expect(error?.kind == .cannotOpen)
        #expect(error?.reason == "No such file or directory")
    }
}
