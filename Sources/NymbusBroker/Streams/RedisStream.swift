/// One stream entry: its id and its field/value pairs (flat: field, value, field, value, ...).
public struct StreamEntry: Hashable, Sendable {
    /// The entry id.
    public var id: StreamID
    /// Field, value, field, value, ... (always an even count, at least two).
    public var fields: [[UInt8]]

    /// Creates an entry.
    public init(id: StreamID, fields: [[UInt8]]) {
        self.id = id
        self.fields = fields
    }
}

/// A pending (delivered, not acknowledged) entry of a consumer group: Redis's `streamNACK`.
struct StreamNACK: Hashable, Sendable {
    /// Owner; nil only for an entry `XCLAIM ... FORCE` created before it is assigned.
    var consumer: [UInt8]?
    /// Unix milliseconds of the last delivery.
    var deliveryTime: Int64
    /// Times delivered.
    var deliveryCount: Int64
}

/// A consumer of a group: when it was last seen and its own pending entries.
struct StreamConsumer: Hashable, Sendable {
    var seenTime: Int64
    var pending = SortedIDs()
}

/// A consumer group: its last delivered id, logical read counter, pending entries and consumers.
struct StreamGroup: Hashable, Sendable {
    var lastID: StreamID
    /// Entries the group read (Redis's `entries_read`); -1 when unknown.
    var entriesRead: Int64
    var pending: [StreamID: StreamNACK] = [:]
    var pendingOrder = SortedIDs()
    var consumers: [[UInt8]: StreamConsumer] = [:]

    /// Consumer names in Redis's (radix tree, bytewise) order.
    var consumerNames: [[UInt8]] { consumers.keys.sorted { $0.lexicographicallyPrecedes($1) } }
}

/// Ids kept sorted, for pending lists (Redis keeps them in radix trees).
struct SortedIDs: Hashable, Sendable {
    private(set) var ids: [StreamID] = []

    var count: Int { ids.count }
    var isEmpty: Bool { ids.isEmpty }

    /// Index of the first id >= `id`.
    func lowerBound(_ id: StreamID) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        return low
    }

    @discardableResult
    mutating func insert(_ id: StreamID) -> Bool {
        let index = lowerBound(id)
        if index < ids.count && ids[index] == id { return false }
        ids.insert(id, at: index)
        return true
    }

    @discardableResult
    mutating func remove(_ id: StreamID) -> Bool {
        let index = lowerBound(id)
        guard index < ids.count && ids[index] == id else { return false }
        ids.remove(at: index)
        return true
    }
}

/// What changed in a stream, named for the store (which reads the current values itself).
public enum StreamChange: Hashable, Sendable {
    /// An entry was added or removed.
    case entry(StreamID)
    /// Last id, first id, max deleted id or entries-added changed.
    case meta
    /// A group was created, changed or destroyed.
    case group([UInt8])
    /// A consumer was created, seen, or deleted.
    case consumer(group: [UInt8], name: [UInt8])
    /// A pending entry was added, changed or acknowledged.
    case pending(group: [UInt8], id: StreamID)
}

/// A Redis stream as a pure value: entries with `ms-seq` ids, consumer groups, pending lists and
/// the counters Redis keeps (`entries-added`, `max-deleted-entry-id`, first id), with Redis 7.0's
/// semantics. Every mutation notes what it changed in ``changes`` for the store.
///
/// Entries are grouped into nodes like Redis's listpacks (see ``Listpack``) so that approximate
/// trimming and `XINFO STREAM` behave as Redis's do.
struct RedisStream: Sendable {
    /// Entries, oldest first; `entries[head...]` are live.
    private var storage: [StreamEntry] = []
    private var head = 0
    private(set) var nodes: [Node] = []
    private(set) var lastID = StreamID.zero
    private(set) var firstID = StreamID.zero
    private(set) var maxDeletedID = StreamID.zero
    private(set) var entriesAdded: Int64 = 0
    var groups: [[UInt8]: StreamGroup] = [:]
    /// Payload bytes of live entries (fields and values), for byte retention.
    private(set) var payloadBytes = 0
    /// Changes since the store last took them.
    var changes: [StreamChange] = []

    /// One listpack node: its master id and fields, live and deleted counts, encoded size.
    struct Node: Hashable, Sendable {
        var master: StreamID
        var masterFields: [[UInt8]]
        var live: Int
        var deleted: Int
        /// Bytes of every element except the two counters (which change size as they grow).
        var otherBytes: Int
        var last: StreamID
        var bytes: Int { Listpack.emptyBytes + Listpack.integerSize(Int64(live)) + Listpack.integerSize(Int64(deleted)) + otherBytes }
    }

    init() {}

    /// Rebuilds a stream from stored state (entries in any order).
    init(
        entries: [StreamEntry], lastID: StreamID, maxDeletedID: StreamID, entriesAdded: Int64,
        groups: [[UInt8]: StreamGroup]
    ) {
        for entry in entries.sorted(by: { $0.id < $1.id }) { appendEntry(entry) }
        self.lastID = max(lastID, self.lastID)
        self.maxDeletedID = maxDeletedID
        self.entriesAdded = max(entriesAdded, Int64(entries.count))
        self.firstID = live.first?.id ?? .zero
        self.groups = groups
        changes = []
    }

    // MARK: Reading

    var live: ArraySlice<StreamEntry> { storage[head...] }
    var length: Int { storage.count - head }

    /// Index in `storage` of the first entry with id >= `id`.
    private func lowerBound(_ id: StreamID) -> Int {
        var low = head
        var high = storage.count
        while low < high {
            let mid = (low + high) / 2
            if storage[mid].id < id { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The entry with this id, if it exists.
    func entry(_ id: StreamID) -> StreamEntry? {
        let index = lowerBound(id)
        return index < storage.count && storage[index].id == id ? storage[index] : nil
    }

    /// Entries with `start <= id <= end`, at most `count` (0 = all), oldest first or newest
    /// first when `reverse`.
    func range(_ start: StreamID, _ end: StreamID, count: Int = 0, reverse: Bool = false) -> [StreamEntry] {
        guard start <= end else { return [] }
        let low = lowerBound(start)
        var high = lowerBound(end)
        if high < storage.count && storage[high].id == end { high += 1 }
        guard low < high else { return [] }
        let slice = storage[low..<high]
        if reverse {
            return count > 0 ? Array(slice.reversed().prefix(count)) : Array(slice.reversed())
        }
        return count > 0 ? Array(slice.prefix(count)) : Array(slice)
    }

    /// Id of the last live entry, or `0-0` (Redis's `streamLastValidID`).
    var lastValidID: StreamID { storage.last.map { $0.id } ?? .zero }

    // MARK: Appending

    enum AppendError: Error, Equatable {
        /// The id is not greater than the stream's last id.
        case idTooSmall
        /// The last possible id was used.
        case exhausted
    }

    /// Appends an entry: Redis's `streamAppendItem`. `id` nil makes one from `now` like `*`;
    /// `seqGiven` false is the `ms-*` form.
    mutating func append(fields: [[UInt8]], id requested: StreamID?, seqGiven: Bool = true, now: UInt64) throws(AppendError)
        -> StreamID
    {
        if lastID == .max { throw .exhausted }
        let id: StreamID
        if let requested {
            if seqGiven {
                id = requested
            } else if lastID.ms == requested.ms {
                guard lastID.seq != .max else { throw .idTooSmall }
                id = StreamID(ms: lastID.ms, seq: lastID.seq + 1)
            } else {
                id = requested
            }
        } else if now > lastID.ms {
            id = StreamID(ms: now, seq: 0)
        } else {
            guard let next = lastID.incremented() else { throw .exhausted }
            id = next
        }
        guard id > lastID else { throw .idTooSmall }
        appendEntry(StreamEntry(id: id, fields: fields))
        lastID = id
        entriesAdded += 1
        if length == 1 { firstID = id }
        changes.append(.entry(id))
        changes.append(.meta)
        return id
    }

    /// Adds an entry at the tail, into the last node or a new one as Redis decides.
    private mutating func appendEntry(_ entry: StreamEntry) {
        let payload = entry.fields.reduce(0) { $0 + $1.count }
        var newNode = nodes.isEmpty
        if let last = nodes.last {
            if last.bytes + payload >= Listpack.nodeMaxBytes || last.live + last.deleted >= Listpack.nodeMaxEntries {
                newNode = true
            }
        }
        let nameCount = entry.fields.count / 2
        if newNode {
            let names = stride(from: 0, to: entry.fields.count, by: 2).map { entry.fields[$0] }
            var node = Node(master: entry.id, masterFields: names, live: 0, deleted: 0, otherBytes: 0, last: entry.id)
            node.otherBytes = Listpack.integerSize(Int64(names.count)) + names.reduce(0) { $0 + Listpack.stringSize($1) }
                + Listpack.integerSize(0)
            nodes.append(node)
        }
        var node = nodes[nodes.count - 1]
        // Compared in place: most entries repeat the node's field names.
        var sameFields = node.masterFields.count == nameCount
        var name = 0
        while sameFields && name < nameCount {
            sameFields = node.masterFields[name] == entry.fields[2 * name]
            name += 1
        }
        var size = Listpack.integerSize(sameFields ? 2 : 0)
        size += Listpack.integerSize(Int64(bitPattern: entry.id.ms &- node.master.ms))
        size += Listpack.integerSize(Int64(bitPattern: entry.id.seq &- node.master.seq))
        var pieces = nameCount + 3
        if !sameFields {
            size += Listpack.integerSize(Int64(nameCount))
            pieces += nameCount + 1
        }
        for (index, element) in entry.fields.enumerated() where !sameFields || index % 2 == 1 {
            size += Listpack.stringSize(element)
        }
        size += Listpack.integerSize(Int64(pieces))
        node.otherBytes += size
        node.live += 1
        node.last = entry.id
        nodes[nodes.count - 1] = node
        storage.append(entry)
        payloadBytes += payload
    }

    // MARK: Deleting

    /// Index in `nodes` of the node holding `id`.
    private func nodeIndex(_ id: StreamID) -> Int? {
        var low = 0
        var high = nodes.count
        while low < high {
            let mid = (low + high) / 2
            if nodes[mid].master <= id { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : low - 1
    }

    /// Removes one live entry (XDEL): counts it as deleted in its node, drops an emptied node.
    @discardableResult
    private mutating func removeEntry(_ id: StreamID) -> Bool {
        let index = lowerBound(id)
        guard index < storage.count, storage[index].id == id else { return false }
        payloadBytes -= storage[index].fields.reduce(0) { $0 + $1.count }
        if index == head {
            head += 1
            compact()
        } else {
            storage.remove(at: index)
        }
        if let nodeIndex = nodeIndex(id) {
            if nodes[nodeIndex].live == 1 {
                nodes.remove(at: nodeIndex)
            } else {
                nodes[nodeIndex].live -= 1
                nodes[nodeIndex].deleted += 1
            }
        }
        changes.append(.entry(id))
        return true
    }

    private mutating func compact() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }

    /// XDEL: deletes the given ids, returns how many existed.
    mutating func delete(_ ids: [StreamID]) -> Int {
        var deleted = 0
        var firstDeleted = false
        for id in ids where removeEntry(id) {
            if id == firstID { firstDeleted = true }
            if id > maxDeletedID { maxDeletedID = id }
            deleted += 1
        }
        if deleted > 0 {
            if length == 0 {
                firstID = .zero
            } else if firstDeleted {
                firstID = storage[head].id
            }
            changes.append(.meta)
        }
        return deleted
    }

    /// How XTRIM / XADD's trimming option removes entries.
    enum TrimStrategy: Equatable, Sendable {
        case maxLength(Int)
        case minID(StreamID)
    }

    /// Redis's `streamTrim`: removes whole nodes from the head while allowed, then (exact mode
    /// only) single entries of the first remaining node. `limit` 0 = no limit.
    mutating func trim(_ strategy: TrimStrategy, approximate: Bool, limit: Int) -> Int {
        var deleted = 0
        while let node = nodes.first {
            if limit > 0 && deleted >= limit { break }
            if case .maxLength(let maxLength) = strategy, length <= maxLength { break }
            let removeNode: Bool
            switch strategy {
            case .maxLength(let maxLength): removeNode = length - node.live >= maxLength
            case .minID(let minID): removeNode = node.last < minID
            }
            if removeNode {
                for _ in 0..<node.live {
                    payloadBytes -= storage[head].fields.reduce(0) { $0 + $1.count }
                    changes.append(.entry(storage[head].id))
                    head += 1
                }
                compact()
                nodes.removeFirst()
                deleted += node.live
                continue
            }
            if approximate { break }
            var removed = 0
            while length > 0, let entry = storage[head...].first, nodeIndex(entry.id) == 0 {
                let stop: Bool
                switch strategy {
                case .maxLength(let maxLength): stop = length <= maxLength
                case .minID(let minID): stop = entry.id >= minID
                }
                if stop { break }
                payloadBytes -= entry.fields.reduce(0) { $0 + $1.count }
                changes.append(.entry(entry.id))
                head += 1
                removed += 1
            }
            compact()
            nodes[0].live -= removed
            nodes[0].deleted += removed
            deleted += removed
            break
        }
        if deleted > 0 {
            firstID = length == 0 ? .zero : storage[head].id
            changes.append(.meta)
        }
        return deleted
    }

    /// Removes the oldest entries beyond the retention limits; returns how many went.
    mutating func applyRetention(_ retention: StreamRetention, now: Int64) -> Int {
        var removed = 0
        if retention.maxLength > 0 && length > retention.maxLength {
            removed += trim(.maxLength(retention.maxLength), approximate: false, limit: 0)
        }
        if retention.maxAgeMilliseconds > 0, now > retention.maxAgeMilliseconds, let first = live.first,
            first.id.ms < UInt64(now - retention.maxAgeMilliseconds)
        {
            removed += trim(.minID(StreamID(ms: UInt64(now - retention.maxAgeMilliseconds), seq: 0)), approximate: false, limit: 0)
        }
        if retention.maxBytes > 0 && payloadBytes > retention.maxBytes {
            var excess = payloadBytes - retention.maxBytes
            var drop = 0
            for entry in live where excess > 0 {
                excess -= entry.fields.reduce(0) { $0 + $1.count }
                drop += 1
            }
            removed += trim(.maxLength(length - drop), approximate: false, limit: 0)
        }
        return removed
    }

    // MARK: Groups

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the logical read counter of `id`, or
    /// -1 when it cannot be known.
    func estimateDistance(_ id: StreamID) -> Int64 {
        if entriesAdded == 0 { return 0 }
        if length == 0 && id <= lastID { return entriesAdded }
        if id == lastID { return entriesAdded }
        if id > lastID { return -1 }
        if maxDeletedID == .zero || maxDeletedID < firstID {
            if id < firstID { return entriesAdded - Int64(length) }
            if id == firstID { return entriesAdded - Int64(length) + 1 }
        }
        return -1
    }

    /// Redis's `streamRangeHasTombstones` from `start` to the end.
    func hasTombstones(from start: StreamID) -> Bool {
        if length == 0 || maxDeletedID == .zero { return false }
        if firstID > maxDeletedID { return false }
        return start <= maxDeletedID
    }

    /// The group's lag (entries not yet delivered), nil when it cannot be known.
    func lag(_ group: StreamGroup) -> Int64? {
        if entriesAdded == 0 { return 0 }
        if group.entriesRead != -1 && !hasTombstones(from: group.lastID) { return entriesAdded - group.entriesRead }
        let read = estimateDistance(group.lastID)
        return read == -1 ? nil : entriesAdded - read
    }

    /// Group names in Redis's (bytewise) order.
    var groupNames: [[UInt8]] { groups.keys.sorted { $0.lexicographicallyPrecedes($1) } }

    /// XGROUP CREATE; false if the group exists.
    mutating func createGroup(_ name: [UInt8], lastID: StreamID, entriesRead: Int64) -> Bool {
        guard groups[name] == nil else { return false }
        groups[name] = StreamGroup(lastID: lastID, entriesRead: entriesRead)
        changes.append(.group(name))
        return true
    }

    /// XGROUP DESTROY; false if there was no such group.
    mutating func destroyGroup(_ name: [UInt8]) -> Bool {
        guard let group = groups.removeValue(forKey: name) else { return false }
        for id in group.pendingOrder.ids { changes.append(.pending(group: name, id: id)) }
        for consumer in group.consumers.keys { changes.append(.consumer(group: name, name: consumer)) }
        changes.append(.group(name))
        return true
    }

    /// XGROUP SETID.
    mutating func setGroupID(_ name: [UInt8], lastID: StreamID, entriesRead: Int64) {
        groups[name]?.lastID = lastID
        groups[name]?.entriesRead = entriesRead
        changes.append(.group(name))
    }

    /// Creates a consumer if missing; true if created.
    @discardableResult
    mutating func createConsumer(_ group: [UInt8], _ name: [UInt8], now: Int64) -> Bool {
        guard groups[group] != nil, groups[group]?.consumers[name] == nil else { return false }
        groups[group]?.consumers[name] = StreamConsumer(seenTime: now)
        changes.append(.consumer(group: group, name: name))
        return true
    }

    /// Marks a consumer as seen now (creating it if missing).
    mutating func touchConsumer(_ group: [UInt8], _ name: [UInt8], now: Int64) {
        if !createConsumer(group, name, now: now) {
            groups[group]?.consumers[name]?.seenTime = now
            changes.append(.consumer(group: group, name: name))
        }
    }

    /// XGROUP DELCONSUMER: removes the consumer and its pending entries; returns how many it had.
    mutating func deleteConsumer(_ group: [UInt8], _ name: [UInt8]) -> Int {
        guard let consumer = groups[group]?.consumers.removeValue(forKey: name) else { return 0 }
        for id in consumer.pending.ids {
            groups[group]?.pending[id] = nil
            groups[group]?.pendingOrder.remove(id)
            changes.append(.pending(group: group, id: id))
        }
        changes.append(.consumer(group: group, name: name))
        return consumer.pending.count
    }

    /// Reads new entries for a group (`XREADGROUP ... >`): entries after `after`, at most
    /// `count`, advancing the group and (unless `noAck`) adding them to the consumer's pending list.
    mutating func readGroup(
        _ groupName: [UInt8], consumer: [UInt8], after: StreamID, count: Int, noAck: Bool, now: Int64
    ) -> [StreamEntry] {
        guard let start = after.incremented(), var group = groups[groupName] else { return [] }
        let entries = range(start, .max, count: count)
        for entry in entries {
            if entry.id > group.lastID {
                if group.entriesRead != -1 && !hasTombstones(from: entry.id) {
                    group.entriesRead += 1
                } else if entriesAdded > 0 {
                    group.entriesRead = estimateDistance(entry.id)
                }
                group.lastID = entry.id
            }
            guard !noAck else { continue }
            if let previous = group.pending[entry.id] {
                if let owner = previous.consumer { group.consumers[owner]?.pending.remove(entry.id) }
            }
            group.pending[entry.id] = StreamNACK(consumer: consumer, deliveryTime: now, deliveryCount: 1)
            group.pendingOrder.insert(entry.id)
            group.consumers[consumer]?.pending.insert(entry.id)
            changes.append(.pending(group: groupName, id: entry.id))
        }
        if !entries.isEmpty { changes.append(.group(groupName)) }
        groups[groupName] = group
        return entries
    }

    /// Reads a consumer's own history (`XREADGROUP` with an id): its pending entries after
    /// `after`, each counted as delivered again; a deleted entry comes back as nil fields.
    mutating func readHistory(_ groupName: [UInt8], consumer name: [UInt8], after: StreamID, count: Int, now: Int64)
        -> [(id: StreamID, fields: [[UInt8]]?)]
    {
        guard let start = after.incremented(), let consumer = groups[groupName]?.consumers[name] else { return [] }
        var result: [(id: StreamID, fields: [[UInt8]]?)] = []
        for id in consumer.pending.ids[consumer.pending.lowerBound(start)...] {
            if count > 0 && result.count >= count { break }
            if let entry = entry(id) {
                groups[groupName]?.pending[id]?.deliveryTime = now
                groups[groupName]?.pending[id]?.deliveryCount += 1
                changes.append(.pending(group: groupName, id: id))
                result.append((id, entry.fields))
            } else {
                result.append((id, nil))
            }
        }
        return result
    }

    /// XACK: removes the ids from the group's pending list; returns how many were pending.
    mutating func acknowledge(_ groupName: [UInt8], _ ids: [StreamID]) -> Int {
        var acknowledged = 0
        for id in ids {
            guard let nack = groups[groupName]?.pending.removeValue(forKey: id) else { continue }
            groups[groupName]?.pendingOrder.remove(id)
            if let owner = nack.consumer { groups[groupName]?.consumers[owner]?.pending.remove(id) }
            changes.append(.pending(group: groupName, id: id))
            acknowledged += 1
        }
        return acknowledged
    }

    /// Drops a pending entry whose stream entry is gone (XCLAIM / XAUTOCLAIM).
    mutating func dropPending(_ groupName: [UInt8], _ id: StreamID) {
        guard let nack = groups[groupName]?.pending.removeValue(forKey: id) else { return }
        groups[groupName]?.pendingOrder.remove(id)
        if let owner = nack.consumer { groups[groupName]?.consumers[owner]?.pending.remove(id) }
        changes.append(.pending(group: groupName, id: id))
    }

    /// Gives a pending entry to `consumer` (creating the consumer) with a new delivery time and
    /// count: the common part of XCLAIM and XAUTOCLAIM.
    mutating func transfer(
        _ groupName: [UInt8], _ id: StreamID, to consumer: [UInt8], deliveryTime: Int64, deliveryCount: Int64?,
        increment: Bool, now: Int64
    ) {
        guard var nack = groups[groupName]?.pending[id] else { return }
        if groups[groupName]?.consumers[consumer] == nil { createConsumer(groupName, consumer, now: now) }
        if nack.consumer != consumer, let owner = nack.consumer {
            groups[groupName]?.consumers[owner]?.pending.remove(id)
        }
        nack.deliveryTime = deliveryTime
        if let deliveryCount {
            nack.deliveryCount = deliveryCount
        } else if increment {
            nack.deliveryCount += 1
        }
        if nack.consumer != consumer {
            groups[groupName]?.consumers[consumer]?.pending.insert(id)
            nack.consumer = consumer
        }
        groups[groupName]?.pending[id] = nack
        changes.append(.pending(group: groupName, id: id))
    }

    /// Creates an unowned pending entry (XCLAIM FORCE).
    mutating func forcePending(_ groupName: [UInt8], _ id: StreamID, now: Int64) {
        groups[groupName]?.pending[id] = StreamNACK(consumer: nil, deliveryTime: now, deliveryCount: 1)
        groups[groupName]?.pendingOrder.insert(id)
        changes.append(.pending(group: groupName, id: id))
    }

    /// Moves the group's last delivered id forward (XCLAIM LASTID).
    mutating func advanceGroup(_ groupName: [UInt8], to id: StreamID) {
        guard let group = groups[groupName], id > group.lastID else { return }
        groups[groupName]?.lastID = id
        changes.append(.group(groupName))
    }

    /// Number of radix tree nodes Redis's rax would have for the node keys (16-byte big-endian
    /// ids): a branching node per fork, a compressed node per shared run, a leaf per key.
    var radixTreeNodes: Int {
        let keys = nodes.map { node -> [UInt8] in
            var bytes: [UInt8] = []
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: node.master.ms >> UInt64(shift))) }
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: node.master.seq >> UInt64(shift))) }
            return bytes
        }
        if keys.isEmpty { return 1 }
        return Self.raxNodes(keys[...], depth: 0)
    }

    private static func raxNodes(_ keys: ArraySlice<[UInt8]>, depth: Int) -> Int {
        let length = 16
        if depth == length { return 1 }
        if keys.count == 1 { return 2 }
        // Common run from `depth`.
        var common = depth
        let first = keys.first!
        let last = keys.last!
        while common < length && first[common] == last[common] { common += 1 }
        if common > depth { return 1 + branch(keys, depth: common) }
        return branch(keys, depth: depth)
    }

    private static func branch(_ keys: ArraySlice<[UInt8]>, depth: Int) -> Int {
        var total = 1
        var start = keys.startIndex
        while start < keys.endIndex {
            var end = start + 1
            while end < keys.endIndex && keys[end][depth] == keys[start][depth] { end += 1 }
            total += raxNodes(keys[start..<end], depth: depth + 1)
            start = end
        }
        return total
    }
}
