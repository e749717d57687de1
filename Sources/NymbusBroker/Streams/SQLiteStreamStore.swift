import Dispatch
import Foundation
import GRDB
import GRDBSQLite
import NymbusSQLite

/// When stored stream changes reach the disk, like Redis's `appendfsync`.
public enum StreamFsyncPolicy: String, Sendable, CaseIterable {
    /// Every command's changes are fsynced before its reply (SQLite `synchronous=FULL` in WAL
    /// mode: the WAL is synced at each commit). Slowest; loses nothing on power loss.
    case always
    /// Changes are written to the WAL before the reply (so they survive `kill -9`), and the WAL is
    /// synced once a second by a checkpoint (`synchronous=NORMAL` + a 1 s passive checkpoint).
    /// Power loss can lose about the last second, as with Redis's default.
    case everysec
    /// Written before the reply, synced when the operating system decides (`synchronous=OFF`).
    case no
}

/// Streams in a SQLite database (WAL mode) through GRDB: entries, stream counters, consumer
/// groups, consumers and pending entries, one row each, written in one transaction per command.
///
/// The file (and SQLite's `-wal`/`-shm` files, which take its mode) is created `0600`. A damaged
/// or unreadable file is never replaced or deleted: opening fails with a message naming it.
public final class SQLiteStreamStore: StreamStorage, @unchecked Sendable {
    /// The database file.
    public let path: String
    /// The fsync policy in force.
    public let fsync: StreamFsyncPolicy
    private let queue: DatabaseQueue
    private let timer: (any DispatchSourceTimer)?

    /// Opens (or creates) the store at `path`.
    ///
    /// - Parameters:
    ///   - maxPages: a cap on the database size in pages (SQLite `max_page_count`), for tests of
    ///     a full store; nil = no cap beyond the disk's.
    /// - Throws: ``StreamStoreError`` naming the file and what to do (damaged, unreadable, ...).
    public init(path: String, fsync: StreamFsyncPolicy = .everysec, maxPages: Int? = nil) throws(StreamStoreError) {
        self.path = path
        self.fsync = fsync
        let synchronous =
            switch fsync {
            case .always: "FULL"
            case .everysec: "NORMAL"
            case .no: "OFF"
            }
        do {
            queue = try SQLiteFile.open(
                path: path, label: "nymbus.streams", synchronous: synchronous,
                prepare: { db in
                    if let maxPages { _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(maxPages)") }
                }, schema: Self.schema)
        } catch where error.kind == .cannotOpen {
            throw StreamStoreError("cannot open the stream store '\(path)': \(error.reason)")
        } catch {
            throw Self.damaged(path, error.reason)
        }
        if fsync == .everysec {
            let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "nymbus.streams.fsync"))
            timer.schedule(deadline: .now() + 1, repeating: 1)
            let queue = self.queue
            timer.setEventHandler {
                // A passive checkpoint syncs the WAL (and copies it into the database) without
                // waiting for readers: Redis's once-a-second fsync.
                _ = try? queue.writeWithoutTransaction { try $0.checkpoint(.passive) }
            }
            timer.resume()
            self.timer = timer
        } else {
            timer = nil
        }
    }

    deinit {
        timer?.cancel()
    }

    /// Syncs everything written so far and stops the once-a-second sync (the broker stopping).
    public func close() {
        timer?.cancel()
        _ = try? queue.writeWithoutTransaction { try $0.checkpoint(.truncate) }
    }

    private static func damaged(_ path: String, _ reason: String) -> StreamStoreError {
        StreamStoreError(
            "the stream store '\(path)' cannot be opened (\(reason)); it is left as it is: move it away to start "
                + "with an empty store, or restore a copy")
    }

    static func describe(_ error: any Error) -> String { SQLiteFile.describe(error) }

    static let schema = """
        CREATE TABLE IF NOT EXISTS streams(
            key BLOB PRIMARY KEY, last_ms INTEGER NOT NULL, last_seq INTEGER NOT NULL,
            maxdel_ms INTEGER NOT NULL, maxdel_seq INTEGER NOT NULL, entries_added INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS entries(
            key BLOB NOT NULL, ms INTEGER NOT NULL, seq INTEGER NOT NULL, fields BLOB NOT NULL,
            PRIMARY KEY(key, ms, seq)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS groups(
            key BLOB NOT NULL, name BLOB NOT NULL, last_ms INTEGER NOT NULL, last_seq INTEGER NOT NULL,
            entries_read INTEGER NOT NULL, PRIMARY KEY(key, name)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS consumers(
            key BLOB NOT NULL, grp BLOB NOT NULL, name BLOB NOT NULL, seen INTEGER NOT NULL,
            PRIMARY KEY(key, grp, name)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS pending(
            key BLOB NOT NULL, grp BLOB NOT NULL, ms INTEGER NOT NULL, seq INTEGER NOT NULL, consumer BLOB,
            delivered INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(key, grp, ms, seq)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS outbox(
            seq INTEGER PRIMARY KEY AUTOINCREMENT, channel BLOB NOT NULL, type INTEGER NOT NULL,
            payload BLOB NOT NULL, sealed BLOB, sent_at INTEGER);
        """

    // MARK: Writing

    public func apply(
        _ batch: [(key: [UInt8], stream: StoredStream?, changes: [StreamChange])], outbox: [OutboxItem]
    ) throws(StreamStoreError) {
        do {
            try queue.write { db in
                for item in outbox {
                    try Self.run(db, "INSERT INTO outbox(channel, type, payload) VALUES (?, ?, ?)", [
                        .blob(item.channel), .int(Int64(item.objectType)), .blob(item.payload),
                    ])
                }
                for (key, stored, changes) in batch {
                    guard let stream = stored?.stream else {
                        for table in ["streams", "entries", "groups", "consumers", "pending"] {
                            try Self.run(db, "DELETE FROM \(table) WHERE key = ?", [.blob(key)])
                        }
                        continue
                    }
                    // Each thing once per transaction: a pipelined run names the counters many times.
                    var seen: Set<StreamChange> = []
                    seen.reserveCapacity(changes.count)
                    for change in changes where seen.insert(change).inserted {
                        try write(change, key: key, stream: stream, db: db)
                    }
                }
            }
        } catch {
            throw StreamStoreError("cannot write to '\(path)': \(Self.describe(error))")
        }
    }

    /// A value bound to a statement parameter.
    private enum Value {
        case int(Int64)
        case blob([UInt8])
        case null
    }

    /// Runs a cached statement with raw SQLite bindings (GRDB's argument arrays cost more than
    /// the insert itself on the XADD path).
    private static func run(_ db: Database, _ sql: String, _ values: [Value]) throws {
        let statement = try db.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .int(let number): sqlite3_bind_int64(handle, index, number)
            case .null: sqlite3_bind_null(handle, index)
            case .blob(let bytes):
                if bytes.isEmpty {
                    sqlite3_bind_zeroblob(handle, index, 0)
                } else {
                    _ = bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), transient) }
                }
            }
        }
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
    }

    private func write(_ change: StreamChange, key: [UInt8], stream: RedisStream, db: Database) throws {
        switch change {
        case .meta:
            try Self.run(db, "INSERT OR REPLACE INTO streams VALUES (?, ?, ?, ?, ?, ?)", [
                .blob(key), .int(Self.int(stream.lastID.ms)), .int(Self.int(stream.lastID.seq)),
                .int(Self.int(stream.maxDeletedID.ms)), .int(Self.int(stream.maxDeletedID.seq)), .int(stream.entriesAdded),
            ])
        case .entry(let id):
            if let entry = stream.entry(id) {
                try Self.run(db, "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)", [
                    .blob(key), .int(Self.int(id.ms)), .int(Self.int(id.seq)), .blob(Self.encode(entry.fields)),
                ])
            } else {
                try Self.run(db, "DELETE FROM entries WHERE key = ? AND ms = ? AND seq = ?", [
                    .blob(key), .int(Self.int(id.ms)), .int(Self.int(id.seq)),
                ])
            }
        case .group(let name):
            if let group = stream.groups[name] {
                try Self.run(db, "INSERT OR REPLACE INTO groups VALUES (?, ?, ?, ?, ?)", [
                    .blob(key), .blob(name), .int(Self.int(group.lastID.ms)), .int(Self.int(group.lastID.seq)),
                    .int(group.entriesRead),
                ])
            } else {
                for table in [
                    "groups WHERE key = ? AND name = ?", "consumers WHERE key = ? AND grp = ?", "pending WHERE key = ? AND grp = ?",
                ] {
                    try Self.run(db, "DELETE FROM \(table)", [.blob(key), .blob(name)])
                }
            }
        case .consumer(let group, let name):
            if let consumer = stream.groups[group]?.consumers[name] {
                try Self.run(db, "INSERT OR REPLACE INTO consumers VALUES (?, ?, ?, ?)", [
                    .blob(key), .blob(group), .blob(name), .int(consumer.seenTime),
                ])
            } else {
                try Self.run(db, "DELETE FROM consumers WHERE key = ? AND grp = ? AND name = ?", [
                    .blob(key), .blob(group), .blob(name),
                ])
            }
        case .pending(let group, let id):
            if let nack = stream.groups[group]?.pending[id] {
                try Self.run(db, "INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?, ?, ?, ?)", [
                    .blob(key), .blob(group), .int(Self.int(id.ms)), .int(Self.int(id.seq)),
                    nack.consumer.map { .blob($0) } ?? .null, .int(nack.deliveryTime), .int(nack.deliveryCount),
                ])
            } else {
                try Self.run(db, "DELETE FROM pending WHERE key = ? AND grp = ? AND ms = ? AND seq = ?", [
                    .blob(key), .blob(group), .int(Self.int(id.ms)), .int(Self.int(id.seq)),
                ])
            }
        }
    }

    // MARK: Outbox

    /// One outbox row: an entry stored for sending, its sealed object once it was made, and
    /// when it was last handed to the topic layer.
    public struct OutboxRow: Sendable, Equatable {
        /// Position in the outbox (increasing; rows are sent in this order).
        public var sequence: Int64
        /// The item.
        public var item: OutboxItem
        /// The sealed object bytes, once sealed: a resend sends exactly these bytes again, so the
        /// message id is the same and every node that has the object drops the copy as seen.
        public var sealed: [UInt8]?
        /// Unix seconds of the last send; nil if it was never sent.
        public var sentAt: Int64?
    }

    /// The oldest rows after `sequence`, at most `limit`: only rows never sent, or (after a
    /// restart) every row.
    public func outboxRows(limit: Int, after sequence: Int64 = 0, includingSent: Bool = false) throws(StreamStoreError)
        -> [OutboxRow]
    {
        let filter = includingSent ? "" : " AND sent_at IS NULL"
        do {
            return try queue.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT seq, channel, type, payload, sealed, sent_at FROM outbox WHERE seq > ?\(filter) ORDER BY seq LIMIT ?",
                    arguments: [sequence, limit]
                )
                .map { row in
                    OutboxRow(
                        sequence: row[0],
                        item: OutboxItem(
                            channel: [UInt8](row[1] as Data), objectType: UInt32(truncatingIfNeeded: row[2] as Int64),
                            payload: [UInt8](row[3] as Data)),
                        sealed: (row[4] as Data?).map { [UInt8]($0) }, sentAt: row[5])
                }
            }
        } catch {
            throw StreamStoreError("cannot read the outbox of '\(path)': \(Self.describe(error))")
        }
    }

    /// Rows not sent yet.
    public func outboxWaiting() throws(StreamStoreError) -> Int {
        do {
            return try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") ?? 0 }
        } catch {
            throw StreamStoreError("cannot read the outbox of '\(path)': \(Self.describe(error))")
        }
    }

    /// Records the sealed object of a row before it is sent (synced like every write).
    public func sealOutbox(_ sequence: Int64, object: [UInt8]) throws(StreamStoreError) {
        do {
            try queue.write { db in
                try db.execute(sql: "UPDATE outbox SET sealed = ? WHERE seq = ?", arguments: [Data(object), sequence])
            }
        } catch {
            throw StreamStoreError("cannot write the outbox of '\(path)': \(Self.describe(error))")
        }
    }

    /// Records that a row was handed to the topic layer at `now` (Unix seconds).
    public func markOutboxSent(_ sequence: Int64, object: [UInt8], now: Int64) throws(StreamStoreError) {
        do {
            try queue.write { db in
                try db.execute(
                    sql: "UPDATE outbox SET sealed = ?, sent_at = ? WHERE seq = ?", arguments: [Data(object), now, sequence])
            }
        } catch {
            throw StreamStoreError("cannot write the outbox of '\(path)': \(Self.describe(error))")
        }
    }

    /// Deletes rows sent before `cutoff` (Unix seconds): by then they left the process.
    public func pruneOutbox(sentBefore cutoff: Int64) throws(StreamStoreError) {
        do {
            try queue.write { db in try db.execute(sql: "DELETE FROM outbox WHERE sent_at < ?", arguments: [cutoff]) }
        } catch {
            throw StreamStoreError("cannot write the outbox of '\(path)': \(Self.describe(error))")
        }
    }

    /// Removes a row (its channel names no topic any more).
    public func removeOutbox(_ sequence: Int64) throws(StreamStoreError) {
        do {
            try queue.write { db in try db.execute(sql: "DELETE FROM outbox WHERE seq = ?", arguments: [sequence]) }
        } catch {
            throw StreamStoreError("cannot write the outbox of '\(path)': \(Self.describe(error))")
        }
    }

    // MARK: Reading

    public func loadAll() throws(StreamStoreError) -> [[UInt8]: StoredStream] {
        try read(nil)
    }

    public func load(_ key: [UInt8]) throws(StreamStoreError) -> StoredStream? {
        try read(key)[key]
    }

    private func read(_ only: [UInt8]?) throws(StreamStoreError) -> [[UInt8]: StoredStream] {
        do {
            return try queue.read { db in
                let filter = only == nil ? "" : " WHERE key = ?"
                let arguments: StatementArguments = only.map { [Data($0)] } ?? []
                var entries: [[UInt8]: [StreamEntry]] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT key, ms, seq, fields FROM entries" + filter, arguments: arguments) {
                    let key = [UInt8](row[0] as Data)
                    let fields = try Self.decode([UInt8](row[3] as Data))
                    entries[key, default: []].append(
                        StreamEntry(id: StreamID(ms: Self.uint(row[1]), seq: Self.uint(row[2])), fields: fields))
                }
                var groups: [[UInt8]: [[UInt8]: StreamGroup]] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT key, name, last_ms, last_seq, entries_read FROM groups" + filter, arguments: arguments) {
                    groups[[UInt8](row[0] as Data), default: [:]][[UInt8](row[1] as Data)] = StreamGroup(
                        lastID: StreamID(ms: Self.uint(row[2]), seq: Self.uint(row[3])), entriesRead: row[4])
                }
                for row in try Row.fetchAll(db, sql: "SELECT key, grp, name, seen FROM consumers" + filter, arguments: arguments) {
                    let key = [UInt8](row[0] as Data)
                    let group = [UInt8](row[1] as Data)
                    guard groups[key]?[group] != nil else { continue }
                    groups[key]?[group]?.consumers[[UInt8](row[2] as Data)] = StreamConsumer(seenTime: row[3])
                }
                for row in try Row.fetchAll(
                    db, sql: "SELECT key, grp, ms, seq, consumer, delivered, count FROM pending" + filter, arguments: arguments)
                {
                    let key = [UInt8](row[0] as Data)
                    let group = [UInt8](row[1] as Data)
                    guard groups[key]?[group] != nil else { continue }
                    let id = StreamID(ms: Self.uint(row[2]), seq: Self.uint(row[3]))
                    let consumer = (row[4] as Data?).map { [UInt8]($0) }
                    groups[key]?[group]?.pending[id] = StreamNACK(consumer: consumer, deliveryTime: row[5], deliveryCount: row[6])
                    groups[key]?[group]?.pendingOrder.insert(id)
                    if let consumer { groups[key]?[group]?.consumers[consumer]?.pending.insert(id) }
                }
                var result: [[UInt8]: StoredStream] = [:]
                for row in try Row.fetchAll(
                    db, sql: "SELECT key, last_ms, last_seq, maxdel_ms, maxdel_seq, entries_added FROM streams" + filter,
                    arguments: arguments)
                {
                    let key = [UInt8](row[0] as Data)
                    let stream = RedisStream(
                        entries: entries[key] ?? [], lastID: StreamID(ms: Self.uint(row[1]), seq: Self.uint(row[2])),
                        maxDeletedID: StreamID(ms: Self.uint(row[3]), seq: Self.uint(row[4])), entriesAdded: row[5],
                        groups: groups[key] ?? [:])
                    result[key] = StoredStream(stream: stream)
                }
                return result
            }
        } catch {
            throw StreamStoreError("cannot read '\(path)': \(Self.describe(error))")
        }
    }

    // MARK: Encoding

    private static func int(_ value: UInt64) -> Int64 { Int64(bitPattern: value) }
    private static func uint(_ value: Int64) -> UInt64 { UInt64(bitPattern: value) }

    /// Field/value list as a blob: a 4-byte big-endian count, then each as a 4-byte length and bytes.
    static func encode(_ fields: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 + fields.reduce(0) { $0 + 4 + $1.count })
        func put(_ value: Int) {
            let value = UInt32(value)
            out.append(contentsOf: [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
        }
        put(fields.count)
        for field in fields {
            put(field.count)
            out.append(contentsOf: field)
        }
        return out
    }

    /// The inverse of ``encode(_:)``; every length is checked against what is left before
    /// anything is allocated.
    static func decode(_ bytes: [UInt8]) throws(StreamStoreError) -> [[UInt8]] {
        var index = 0
        func take() throws(StreamStoreError) -> Int {
            guard bytes.count - index >= 4 else { throw StreamStoreError("a stored entry is truncated") }
            let value = bytes[index..<(index + 4)].reduce(0) { $0 << 8 | Int($1) }
            index += 4
            return value
        }
        let count = try take()
        guard count >= 2, count % 2 == 0, count <= (bytes.count - index) / 4 else {
            throw StreamStoreError("a stored entry has an invalid field count \(count)")
        }
        var fields: [[UInt8]] = []
        fields.reserveCapacity(count)
        for _ in 0..<count {
            let length = try take()
            guard length <= bytes.count - index else { throw StreamStoreError("a stored entry is truncated") }
            fields.append(Array(bytes[index..<(index + length)]))
            index += length
        }
        guard index == bytes.count else { throw StreamStoreError("a stored entry has trailing bytes") }
        return fields
    }
}
