public import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a SQLite file could not be opened: it could not be created or opened at all, or it exists
/// and is damaged or unreadable (it is then left exactly as it was, for the person to inspect).
public struct SQLiteOpenError: Error, Sendable, CustomStringConvertible {
    /// Which of the two.
    public enum Kind: Sendable, Equatable {
        /// The file cannot be created or opened (`reason` is the system's: permission, no such
        /// directory, ...).
        case cannotOpen
        /// The file is there but SQLite cannot use it: not a database, an integrity check that
        /// fails, no WAL mode, or the owner's `load` refused what it read.
        case damaged
    }

    public let kind: Kind
    /// What went wrong, in words (the caller's own error names the file and what to do).
    public let reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { reason }
}

/// How every Nymbus store opens its SQLite file (the object archive, the stream store): created
/// with mode 0600 before SQLite touches it (SQLite's `-wal` and `-shm` files take the database's
/// mode), WAL journal, the owner's schema, a quick integrity check, then the owner's `load` of
/// what it keeps in memory, all before the first write. A damaged or unreadable file is never
/// replaced or deleted: opening fails with `.damaged` and the file stays as it is (DESIGN.md:
/// "a corrupt file is reported clearly, never silently replaced").
public enum SQLiteFile {
    /// Opens (or creates) the database at `path`.
    ///
    /// - Parameters:
    ///   - label: GRDB's label for the connection (shows in its logs).
    ///   - synchronous: SQLite's `synchronous` setting (`FULL`, `NORMAL`, `OFF`): when a commit
    ///     reaches the disk.
    ///   - prepare: more settings for the connection (run when it opens, after `synchronous`).
    ///   - schema: `CREATE … IF NOT EXISTS` statements.
    ///   - load: reads what the owner keeps in memory, in the same write as the schema and check;
    ///     an error it throws reports the file as damaged.
    /// - Throws: ``SQLiteOpenError``.
    public static func open(
        path: String, label: String, synchronous: String, prepare: (@Sendable (Database) throws -> Void)? = nil,
        schema: String, load: (Database) throws -> Void = { _ in }
    ) throws(SQLiteOpenError) -> DatabaseQueue {
        if let reason = createPrivateFile(path) { throw SQLiteOpenError(.cannotOpen, reason) }
        var configuration = Configuration()
        configuration.label = label
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try prepare?(db)
        }
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                guard mode?.lowercased() == "wal" else {
                    throw SQLiteOpenError(.damaged, "it cannot use WAL mode (got \(mode ?? "nothing"))")
                }
                try db.execute(sql: schema)
                let check = try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "no answer"
                guard check == "ok" else { throw SQLiteOpenError(.damaged, "integrity check failed: \(check)") }
                try load(db)
            }
            return queue
        } catch let error as SQLiteOpenError {
            throw error
        } catch {
            throw SQLiteOpenError(.damaged, describe(error))
        }
    }

    /// An error from GRDB (or any other) in words: SQLite's message and extended code.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "\(error.message ?? "SQLite error") (SQLite code \(error.extendedResultCode.rawValue))"
        }
        return "\(error)"
    }
}

/// Creates `path` with mode 0600 if it is missing (an existing file keeps its mode); the system's
/// reason if it cannot be opened for reading and writing.
private func createPrivateFile(_ path: String) -> String? {
    #if canImport(Glibc)
        let descriptor = Glibc.open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
    #else
        let descriptor = Darwin.open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
    #endif
    guard descriptor >= 0 else { return String(cString: strerror(errno)) }
    #if canImport(Glibc)
        _ = Glibc.close(descriptor)
    #else
        _ = Darwin.close(descriptor)
    #endif
    return nil
}
