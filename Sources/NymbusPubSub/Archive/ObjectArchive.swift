import NymbusCrypto

/// One archived object: the object's bytes exactly as accepted (encrypted and signed, opaque to
/// the archive), its message id and its timestamp in minutes.
public struct ArchivedObject: Sendable, Equatable {
    public let id: MessageID
    /// Object timestamp, minutes since the Unix epoch (the object header's).
    public let timestamp: UInt32
    public let bytes: [UInt8]

    public init(id: MessageID, timestamp: UInt32, bytes: [UInt8]) {
        self.id = id
        self.timestamp = timestamp
        self.bytes = bytes
    }

    var key: SyncKey { SyncKey(timestamp: timestamp, id: id) }
}

/// Why the archive could not do what was asked (a disk problem: the message names the file).
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Retention and budget of an archive (spec/pubsub.md §16).
public struct ArchiveLimits: Sendable, Equatable {
    /// How long an object is kept after its timestamp, in whole seconds (default 24 h, as Nym
    /// gateways keep a client's messages).
    public var retention: Duration = .seconds(86_400)
    /// Most bytes of objects kept (default 256 MiB); the oldest (by timestamp) leave first.
    public var maxBytes: Int = 256 * 1024 * 1024

    public init(retention: Duration = .seconds(86_400), maxBytes: Int = 256 * 1024 * 1024) {
        self.retention = retention
        self.maxBytes = maxBytes
    }

    /// Throws `invalidConfiguration` naming the field out of its range (``FieldCheck``): at
    /// least a minute of retention (timestamps are minutes) and a non-negative budget.
    public func validate() throws(PubSubError) {
        let check = FieldCheck<PubSubError>("ArchiveLimits", .invalidConfiguration)
        try check.atLeast("retention", retention, .seconds(60))
        try check.atLeast("maxBytes", maxBytes, 0)
    }
}

/// The bounded store of recent objects a node accepted, which it serves to peers catching up
/// and which is the long-window dedup index for objects that arrive by sync (spec/pubsub.md §16).
///
/// Synchronous on purpose: the topic layer calls it from its actor, and both implementations
/// (`MemoryObjectArchive` here, the SQLite one the daemon wires in) answer in microseconds to
/// milliseconds. Objects leave oldest first (by timestamp): when older than the retention, or to
/// stay under the byte budget; `horizon` remembers the newest timestamp that left early, so an
/// object at or below it is never accepted by sync again (it might have been seen before).
public protocol ObjectArchive: AnyObject, Sendable {
    /// The limits in force.
    var limits: ArchiveLimits { get }
    /// Stores `object` if new (evicting the oldest beyond the budget); returns whether it was new.
    /// An object older than the horizon or larger than the whole budget is not stored (false).
    func insert(_ object: ArchivedObject) throws(ArchiveError) -> Bool
    /// Whether `id` is stored.
    func contains(_ id: MessageID) -> Bool
    /// The stored objects among `ids` (missing ones left out), in the order asked.
    func objects(_ ids: [MessageID]) throws(ArchiveError) -> [ArchivedObject]
    /// A sorted snapshot of the keys with timestamp ≥ `minute`.
    func index(from minute: UInt32) -> SyncIndex
    /// Drops every object whose timestamp is more than the retention before `now` (Unix seconds).
    func expire(now: Int64) throws(ArchiveError)
    /// Newest timestamp (minutes) of an object that left before its retention ended; 0 if none.
    var horizon: UInt32 { get }
    /// Objects and bytes stored.
    var usage: (count: Int, bytes: Int) { get }
}
