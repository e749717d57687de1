import NymbusWire
import Synchronization

/// An `ObjectArchive` in memory: for tests, and for library use without a data directory. Same
/// rules as the SQLite archive, gone when the process ends.
public final class MemoryObjectArchive: ObjectArchive {
    private struct State {
        var objects: [MessageID: ArchivedObject] = [:]
        var index = SyncIndex(sorted: [])
        var bytes = 0
        var horizon: UInt32 = 0
    }

    public let limits: ArchiveLimits
    private let state = Mutex(State())

    public init(limits: ArchiveLimits = ArchiveLimits()) {
        self.limits = limits
    }

    public func insert(_ object: ArchivedObject) throws(ArchiveError) -> Bool {
        let maxBytes = limits.maxBytes
        return state.withLock { s in
            guard s.objects[object.id] == nil, object.timestamp > s.horizon, object.bytes.count <= maxBytes else {
                return false
            }
            s.objects[object.id] = object
            s.index.insert(object.key)
            s.bytes += object.bytes.count
            var evicted = 0
            while s.bytes > maxBytes, evicted < s.index.count {
                let oldest = s.index.keys[evicted]
                evicted += 1
                if let gone = s.objects.removeValue(forKey: oldest.id) { s.bytes -= gone.bytes.count }
                s.horizon = max(s.horizon, oldest.timestamp)
            }
            if evicted > 0 { s.index.removeFirst(evicted) }
            return s.objects[object.id] != nil
        }
    }

    public func contains(_ id: MessageID) -> Bool { state.withLock { $0.objects[id] != nil } }

    public func objects(_ ids: [MessageID]) throws(ArchiveError) -> [ArchivedObject] {
        state.withLock { s in ids.compactMap { s.objects[$0] } }
    }

    public func index(from minute: UInt32) -> SyncIndex {
        state.withLock { s in
            let at = s.index.position(of: SyncBound(timestamp: minute, prefix: []))
            return SyncIndex(sorted: Array(s.index.keys[at...]))
        }
    }

    public func expire(now: Int64) throws(ArchiveError) {
        let cutoff = Self.cutoffMinute(now: now, retention: limits.retention)
        state.withLock { s in
            let end = s.index.position(of: SyncBound(timestamp: cutoff, prefix: []))
            guard end > 0 else { return }
            for key in s.index.keys[..<end] {
                if let gone = s.objects.removeValue(forKey: key.id) { s.bytes -= gone.bytes.count }
            }
            s.index.removeFirst(end)
        }
    }

    public var horizon: UInt32 { state.withLock { $0.horizon } }

    public var usage: (count: Int, bytes: Int) { state.withLock { ($0.objects.count, $0.bytes) } }

    /// First minute still inside the retention at `now`: objects below it have expired.
    static func cutoffMinute(now: Int64, retention: Int64) -> UInt32 {
        let seconds = now - retention
        guard seconds > 0 else { return 0 }
        // Round up: an object of minute m is expired once m·60 < now − retention.
        return UInt32(clamping: (seconds + 59) / 60)
    }
}

extension ObjectArchive {
    /// Sync accepts an object at `now` only if it is newer than the horizon and inside the
    /// retention (spec/pubsub.md §15): the first minute it accepts.
    public func oldestAcceptable(now: Int64) -> UInt32 {
        max(MemoryObjectArchive.cutoffMinute(now: now, retention: limits.retention), horizon &+ 1)
    }
}
