/// The bytes of recently accepted objects, by message id, so a peer that missed one can ask for
/// it (`getdata`, spec/pubsub.md "Repair"). gossipsub's `mcache`, bounded three ways.
///
/// Entries leave oldest first: when older than `maxAge` seconds, or to make room under
/// `capacity` objects and `maxBytes` bytes. Each entry also remembers the heartbeat window it
/// arrived in (what gossip announces) and the peers known to have it (who need no announcement).
struct MessageCache<Peer: Hashable & Sendable>: Sendable {
    struct Entry: Sendable {
        let bytes: [UInt8]
        /// The heartbeat window it entered in.
        let window: Int
        /// Clock seconds when it entered.
        let added: Int64
        /// Peers that sent it to us, announced it to us, or to which we announced or served it.
        var knownBy: Set<Peer>
    }

    /// Seconds an object is kept.
    let maxAge: Int64
    /// Most objects kept.
    let capacity: Int
    /// Most bytes of objects kept.
    let maxBytes: Int

    private var entries: [MessageID: Entry] = [:]
    /// Ids in insertion order from `head`; ids before `head` are gone.
    private var order: [MessageID] = []
    private var head = 0
    /// Bytes of the objects held.
    private(set) var totalBytes = 0

    init(maxAge: Int64, capacity: Int, maxBytes: Int) {
        self.maxAge = maxAge
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    /// Objects held.
    var count: Int { entries.count }

    /// Whether `id` is held.
    func contains(_ id: MessageID) -> Bool { entries[id] != nil }

    /// The entry for `id`, if held.
    func entry(_ id: MessageID) -> Entry? { entries[id] }

    /// Adds an object (evicting the oldest to make room). An object larger than `maxBytes`, or an
    /// id already held, is not added; returns whether it was.
    @discardableResult
    mutating func insert(_ id: MessageID, bytes: [UInt8], window: Int, now: Int64, knownBy: Set<Peer>) -> Bool {
        expire(now: now)
        guard entries[id] == nil, bytes.count <= maxBytes, capacity > 0 else { return false }
        while entries.count >= capacity || totalBytes + bytes.count > maxBytes { evictOldest() }
        entries[id] = Entry(bytes: bytes, window: window, added: now, knownBy: knownBy)
        order.append(id)
        totalBytes += bytes.count
        return true
    }

    /// Records that `peer` has `id` (if held).
    mutating func markKnown(_ id: MessageID, by peer: Peer) {
        entries[id]?.knownBy.insert(peer)
    }

    /// Drops every object older than `maxAge` at `now`. If the clock stepped back, entries wait
    /// a little longer, never less.
    mutating func expire(now: Int64) {
        while head < order.count {
            let id = order[head]
            guard let entry = entries[id] else {
                head += 1
                continue
            }
            guard entry.added + maxAge <= now else { break }
            evictOldest()
        }
        compact()
    }

    /// Ids of entries whose window is in `windows` and that `peer` is not known to have, oldest
    /// first: what to announce to it.
    func announce(windows: ClosedRange<Int>, to peer: Peer) -> [MessageID] {
        var out: [MessageID] = []
        // Windows only grow along `order`, so walk back from the newest and stop below the range.
        var i = order.count - 1
        while i >= head {
            let id = order[i]
            i -= 1
            guard let entry = entries[id] else { continue }
            if entry.window < windows.lowerBound { break }
            guard entry.window <= windows.upperBound, !entry.knownBy.contains(peer) else { continue }
            // Not marked known: an announcement can be lost too, so the id is announced again at
            // the next heartbeat while it is in the window, unless the peer shows it has it.
            out.append(id)
        }
        return out.reversed()
    }

    /// Forgets `peer` in every entry (it disconnected; peer ids are never reused).
    mutating func forget(_ peer: Peer) {
        for id in entries.keys where entries[id]?.knownBy.contains(peer) == true { entries[id]?.knownBy.remove(peer) }
    }

    private mutating func evictOldest() {
        while head < order.count {
            let id = order[head]
            head += 1
            if let entry = entries.removeValue(forKey: id) {
                totalBytes -= entry.bytes.count
                return
            }
        }
    }

    private mutating func compact() {
        if head > 64, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
