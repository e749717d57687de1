public import NymbusPubSub

/// Where streams are kept durably: the broker writes every change through it before answering.
///
/// ``SQLiteStreamStore`` is the implementation (SQLite through GRDB, WAL mode). Calls come from
/// the broker's event loop, one at a time.
public protocol StreamStorage: AnyObject, Sendable {
    /// Every stored stream, for the broker's start.
    func loadAll() throws(StreamStoreError) -> [[UInt8]: StoredStream]
    /// One stream as stored now (nil if absent): used to roll memory back after a failed write.
    func load(_ key: [UInt8]) throws(StreamStoreError) -> StoredStream?
    /// Writes the changes of one command atomically: for each key, the stream as it is now
    /// (nil = deleted) and what changed in it, plus items for the outbox.
    func apply(
        _ batch: [(key: [UInt8], stream: StoredStream?, changes: [StreamChange])], outbox: [OutboxItem]
    ) throws(StreamStoreError)
}

/// An entry on its way to the other nodes of its topic, stored with the entry itself.
public struct OutboxItem: Sendable, Equatable {
    /// The channel (topic) it is for.
    public var channel: [UInt8]
    /// The object type it is sent as (0 raw bytes, 2 stream entry).
    public var objectType: UInt32
    /// The object's payload.
    public var payload: [UInt8]
    /// Where the entry stands in its publisher's order (spec/broker.md "Order"): the XADD
    /// connection's tag for the channel and the entry's number. Stored with the item, so an item
    /// sealed after a restart continues its run; nil sends it unnumbered.
    public var order: PublisherSequence?

    /// Creates an item.
    public init(channel: [UInt8], objectType: UInt32, payload: [UInt8], order: PublisherSequence? = nil) {
        self.channel = channel
        self.objectType = objectType
        self.payload = payload
        self.order = order
    }
}

/// A stream as the store sees it (an opaque wrapper, so the engine stays internal).
public struct StoredStream: Sendable {
    var stream: RedisStream
}

/// A stream store failure: the message says what happened and what to do.
public struct StreamStoreError: Error, Sendable, CustomStringConvertible {
    /// What failed and why, for the client (`-ERR stream store: ...`) and the log.
    public var reason: String

    /// Creates an error.
    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// Every stream of the broker, in memory, with what changed since the last write to the store.
///
/// Lives on the broker's event loop like ``BrokerState``.
final class StreamKeyspace {
    private(set) var streams: [[UInt8]: RedisStream] = [:]
    /// Keys touched by the running command, in first-touch order.
    private var touched: [[UInt8]] = []
    private var touchedSet: Set<[UInt8]> = []
    /// Outbox items of the running command, stored in its transaction.
    private var outbox: [OutboxItem] = []
    /// The next number of each XADD publisher tag (spec/broker.md "Order"), rewound when a
    /// write fails so that a refused XADD leaves no gap in its publisher's numbers.
    private var outboxNext: [UInt64: UInt32] = [:]
    /// Whether a stream was created or deleted since ``takeKeysChanged()``.
    private var keysChanged = true
    let store: (any StreamStorage)?

    init(store: (any StreamStorage)?) {
        self.store = store
    }

    /// Reads every stored stream (the broker's start).
    func load() throws(StreamStoreError) {
        guard let store else { return }
        streams = try store.loadAll().mapValues(\.stream)
    }

    private func touch(_ key: [UInt8]) {
        // A pipeline names the same key again and again: the last one is compared first.
        if let last = touched.last, last == key { return }
        if touchedSet.insert(key).inserted { touched.append(key) }
    }

    /// Whether a stream is at `key` (without copying it out of the dictionary).
    func contains(_ key: [UInt8]) -> Bool {
        streams.index(forKey: key) != nil
    }

    /// Creates an empty stream at `key` (the caller checked it is absent).
    func create(_ key: [UInt8]) {
        var stream = RedisStream()
        stream.changes.append(.meta)
        streams[key] = stream
        touch(key)
        keysChanged = true
    }

    /// The place of the next outbox item of the publisher `tag` (numbers 0, 1, 2, …).
    func nextOutboxSequence(tag: UInt64) -> PublisherSequence {
        let number = outboxNext[tag, default: 0]
        outboxNext[tag] = number &+ 1
        return PublisherSequence(tag: tag, number: number)
    }

    /// Forgets a publisher tag (its connection closed).
    func forgetOutboxTag(_ tag: UInt64) {
        outboxNext[tag] = nil
    }

    /// Publisher tags with a running number now.
    var outboxPublishers: Int { outboxNext.count }

    /// Queues an outbox item; it is stored with the running command's changes.
    func enqueue(_ item: OutboxItem) {
        outbox.append(item)
    }

    /// Whether the set of keys changed since the last call.
    func takeKeysChanged() -> Bool {
        defer { keysChanged = false }
        return keysChanged
    }

    /// Deletes the stream at `key`.
    func remove(_ key: [UInt8]) {
        streams[key] = nil
        touch(key)
        keysChanged = true
    }

    /// Runs `body` on the stream at `key`; nil if there is none.
    func update<T>(_ key: [UInt8], _ body: (inout RedisStream) -> T) -> T? {
        // One lookup, and the stream is changed in place (never copied out and back).
        guard let index = streams.index(forKey: key) else { return nil }
        touch(key)
        return body(&streams.values[index])
    }

    /// Whether the running command changed anything.
    var hasChanges: Bool { !touched.isEmpty }

    /// Writes what the running command changed. On failure memory is rolled back to what the
    /// store holds, so what clients see never runs ahead of the disk.
    func commit() throws(StreamStoreError) {
        guard !touched.isEmpty || !outbox.isEmpty else { return }
        let keys = touched
        let items = outbox
        touched.removeAll()
        touchedSet.removeAll()
        outbox.removeAll()
        var batch: [(key: [UInt8], stream: StoredStream?, changes: [StreamChange])] = []
        for key in keys {
            let changes = streams[key]?.changes ?? [.meta]
            streams[key]?.changes.removeAll(keepingCapacity: true)
            if streams[key] != nil && changes.isEmpty { continue }
            batch.append((key, streams[key].map { StoredStream(stream: $0) }, changes))
        }
        guard let store, !batch.isEmpty || !items.isEmpty else { return }
        do throws(StreamStoreError) {
            try store.apply(batch, outbox: items)
        } catch {
            for key in keys { streams[key] = (try? store.load(key))?.stream }
            // Numbers of items that were not stored are given out again.
            for item in items {
                guard let order = item.order, let next = outboxNext[order.tag], order.number < next else { continue }
                outboxNext[order.tag] = order.number
            }
            throw error
        }
    }
}
