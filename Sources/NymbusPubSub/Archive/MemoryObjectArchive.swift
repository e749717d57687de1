import NymbusCrypto
import Synchronization

/// An `ObjectArchive` in memory: for tests, and for library use without a data directory. Same
/// rules as the SQLite archive (`ArchiveLedger`), gone when the process ends.
public final class MemoryObjectArchive: ObjectArchive {
    private struct State {
        var ledger: ArchiveLedger
        var objects: [MessageID: ArchivedObject] = [:]
    }

    public let limits: ArchiveLimits
    private let state: Mutex<State>

    public init(limits: ArchiveLimits = ArchiveLimits()) {
        self.limits = limits
        state = Mutex(State(ledger: ArchiveLedger(limits: limits)))
    }

    public func insert(_ object: ArchivedObject) throws(ArchiveError) -> Bool {
        state.withLock { s in
            let result = s.ledger.insert(object.key, size: object.bytes.count)
            for key in result.evicted { s.objects[key.id] = nil }
            if result.stored { s.objects[object.id] = object }
            return result.stored
        }
    }

    public func contains(_ id: MessageID) -> Bool { state.withLock { $0.ledger.contains(id) } }

    public func objects(_ ids: [MessageID]) throws(ArchiveError) -> [ArchivedObject] {
        state.withLock { s in ids.compactMap { s.objects[$0] } }
    }

    public func index(from minute: UInt32) -> SyncIndex { state.withLock { $0.ledger.index(from: minute) } }

    public func expire(now: Int64) throws(ArchiveError) {
        state.withLock { s in
            for key in s.ledger.expire(now: now) { s.objects[key.id] = nil }
        }
    }

    public var horizon: UInt32 { state.withLock { $0.ledger.horizon } }

    public var usage: (count: Int, bytes: Int) { state.withLock { ($0.ledger.count, $0.ledger.bytes) } }
}

extension ObjectArchive {
    /// Sync accepts an object at `now` only if it is newer than the horizon and inside the
    /// retention (spec/pubsub.md §16): the first minute it accepts.
    public func oldestAcceptable(now: Int64) -> UInt32 {
        max(ArchiveLedger.cutoffMinute(now: now, retention: limits.retention.wholeSeconds), horizon &+ 1)
    }
}
