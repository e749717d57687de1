import NymbusCrypto
import Foundation
import GRDB
public import NymbusPubSub
import NymbusSQLite
import Synchronization

/// The object archive in SQLite (WAL mode) through GRDB, as the streams are (spec/pubsub.md §16):
/// one row per object (id, timestamp, bytes as accepted), the horizon in a one-row table, each
/// insert with its evictions and each expiry one transaction, so a crash leaves the file as it
/// was before or after a change, never between. `synchronous=NORMAL`: a change survives `kill -9`
/// once the call returned; power loss may lose the last ones (the peers still have them).
///
/// The order and sizes of the objects (`ArchiveLedger`, ~100 bytes per object: 19 MB at the
/// 256 MiB budget of 1.5 KB objects) are kept in memory, read back at open; the bytes stay on
/// disk. The file (and SQLite's `-wal`/`-shm`, which take its mode) is created 0600. A damaged or
/// unreadable file is never replaced: opening fails with a sentence naming it.
public final class SQLiteObjectArchive: ObjectArchive {
    /// The database file.
    public let path: String
    public let limits: ArchiveLimits
    private let queue: DatabaseQueue
    private let ledger: Mutex<ArchiveLedger>

    /// Opens (or creates) the archive at `path`.
    /// - Throws: `ArchiveError` naming the file and what to do.
    public init(path: String, limits: ArchiveLimits = ArchiveLimits()) throws(ArchiveError) {
        self.path = path
        self.limits = limits
        var restored = ArchiveLedger(limits: limits)
        do {
            queue = try SQLiteFile.open(path: path, label: "nymbus.archive", synchronous: "NORMAL", schema: Self.schema) { db in
                let horizon = try Int64.fetchOne(db, sql: "SELECT value FROM archive_meta WHERE key = 'horizon'") ?? 0
                restored = ArchiveLedger(limits: limits, horizon: UInt32(clamping: horizon))
                let rows = try Row.fetchCursor(db, sql: "SELECT id, ts, length(bytes) FROM objects ORDER BY ts, id")
                while let row = try rows.next() {
                    let idBytes: [UInt8] = [UInt8](row[0] as Data)
                    guard let id = MessageID(bytes: idBytes) else { throw ArchiveError("a row has an id of \(idBytes.count) bytes") }
                    restored.restore(SyncKey(timestamp: UInt32(clamping: row[1] as Int64), id: id), size: row[2])
                }
            }
        } catch where error.kind == .cannotOpen {
            throw ArchiveError("cannot open the object archive '\(path)': \(error.reason)")
        } catch {
            throw Self.damaged(path, error.reason)
        }
        ledger = Mutex(restored)
    }

    static let schema = """
        CREATE TABLE IF NOT EXISTS objects(id BLOB PRIMARY KEY, ts INTEGER NOT NULL, bytes BLOB NOT NULL) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS objects_by_time ON objects(ts, id);
        CREATE TABLE IF NOT EXISTS archive_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        """

    private static func damaged(_ path: String, _ reason: String) -> ArchiveError {
        ArchiveError(
            "the object archive '\(path)' cannot be opened (\(reason)); it is left as it is: move it away to start "
                + "with an empty archive (peers fill it again within the retention)")
    }

    private static func describe(_ error: any Error) -> String { SQLiteFile.describe(error) }

    public func insert(_ object: ArchivedObject) throws(ArchiveError) -> Bool {
        try ledger.withLock { (ledger: inout ArchiveLedger) throws(ArchiveError) -> Bool in
            var trial = ledger
            let result = trial.insert(SyncKey(timestamp: object.timestamp, id: object.id), size: object.bytes.count)
            guard result.stored || !result.evicted.isEmpty else { return false }
            let horizon = trial.horizon
            do {
                try queue.write { db in
                    if result.stored {
                        try db.execute(
                            sql: "INSERT OR IGNORE INTO objects(id, ts, bytes) VALUES (?, ?, ?)",
                            arguments: [Data(object.id.bytes), Int64(object.timestamp), Data(object.bytes)])
                    }
                    for key in result.evicted {
                        try db.execute(sql: "DELETE FROM objects WHERE id = ?", arguments: [Data(key.idBytes)])
                    }
                    if !result.evicted.isEmpty {
                        try db.execute(
                            sql: "INSERT OR REPLACE INTO archive_meta(key, value) VALUES ('horizon', ?)",
                            arguments: [Int64(horizon)])
                    }
                }
            } catch {
                throw ArchiveError("cannot write to the object archive '\(path)': \(Self.describe(error))")
            }
            // Only what reached the file is believed.
            ledger = trial
            return result.stored
        }
    }

    public func contains(_ id: MessageID) -> Bool { ledger.withLock { $0.contains(id) } }

    public func objects(_ ids: [MessageID]) throws(ArchiveError) -> [ArchivedObject] {
        do {
            return try queue.read { db in
                try ids.compactMap { id -> ArchivedObject? in
                    guard let row = try Row.fetchOne(db, sql: "SELECT ts, bytes FROM objects WHERE id = ?", arguments: [Data(id.bytes)])
                    else { return nil }
                    return ArchivedObject(id: id, timestamp: UInt32(clamping: row[0] as Int64), bytes: [UInt8](row[1] as Data))
                }
            }
        } catch {
            throw ArchiveError("cannot read the object archive '\(path)': \(Self.describe(error))")
        }
    }

    public func index(from minute: UInt32) -> SyncIndex { ledger.withLock { $0.index(from: minute) } }

    public func expire(now: Int64) throws(ArchiveError) {
        try ledger.withLock { (ledger: inout ArchiveLedger) throws(ArchiveError) in
            var trial = ledger
            guard !trial.expire(now: now).isEmpty else { return }
            let cutoff = ArchiveLedger.cutoffMinute(now: now, retention: limits.retention.wholeSeconds)
            do {
                try queue.write { db in try db.execute(sql: "DELETE FROM objects WHERE ts < ?", arguments: [Int64(cutoff)]) }
            } catch {
                throw ArchiveError("cannot expire objects in the object archive '\(path)': \(Self.describe(error))")
            }
            ledger = trial
        }
    }

    public var horizon: UInt32 { ledger.withLock { $0.horizon } }

    public var usage: (count: Int, bytes: Int) { ledger.withLock { ($0.count, $0.bytes) } }

    /// Writes the WAL into the database file (the daemon stopping).
    public func close() {
        _ = try? queue.writeWithoutTransaction { try $0.checkpoint(.truncate) }
    }
}
