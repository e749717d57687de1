import NymbusWire

/// What one link has waiting for nym-client, and how much of it nym-client still holds.
///
/// A node hands each link's messages to nym-client on that link's own lane (connection id) and
/// keeps nym-client's share small: a message goes only while the lane holds fewer than `window`
/// packets, as nym-client's `LaneQueueLength` answers report it (spec/node.md §13). Everything
/// else waits here, control messages first, then repair (`inv`, `getdata`), then objects, then
/// catch-up answers; the objects waiting (catch-up answers included) are bounded in packets, and an object that does not fit is refused (the topic
/// layer counts it and repair announces it later).
///
/// Pure: no I/O, no clock of its own. nym-client answers every request that carries a
/// connection id with the lane's length, in request order, so the outbox keeps the requests
/// whose answers are outstanding and knows, after each answer, exactly what the lane holds.
struct LinkOutbox {
    /// Where a message queues: lower goes first.
    enum Priority: Int, CaseIterable {
        /// Handshake, keepalive, address gossip, `bye`, `reject`.
        case control = 0
        /// Gossip repair's `inv` and `getdata`, and dissemination's `prune` and `graft`.
        case repair = 1
        /// Pub/sub objects and custom objects.
        case bulk = 2
        /// Catch-up answers (`syncobject`, and old objects a peer asked for with `getdata`):
        /// objects too, bounded with them, but after every live one, so a node catching up does
        /// not delay what is published now.
        case backfill = 3

        init(_ command: Command) {
            switch command {
            case .object, .custom: self = .bulk
            case .syncobject: self = .backfill
            case .inv, .getdata, .prune, .graft, .syncrange, .syncget: self = .repair
            default: self = .control
            }
        }

        /// Whether messages of this priority are objects (bounded in packets, refused when full).
        var isObject: Bool { self == .bulk || self == .backfill }
    }

    /// One message waiting.
    struct Item {
        let bytes: [UInt8]
        let surbs: UInt32
        let command: Command
        /// Sphinx packets it costs nym-client.
        let packets: Int
        /// Where it queues: its command's priority, or `backfill` for an object marked as
        /// catch-up (an old object a peer asked for).
        let priority: Priority

        init(bytes: [UInt8], surbs: UInt32, command: Command, packets: Int, catchUp: Bool = false) {
            self.bytes = bytes
            self.surbs = surbs
            self.command = command
            self.packets = packets
            let priority = Priority(command)
            self.priority = catchUp && priority.isObject ? .backfill : priority
        }
    }

    /// A request whose `LaneQueueLength` answer has not come yet.
    private struct Outstanding {
        let sequence: UInt64
        /// Packets the request added to the lane (0 for a plain query).
        let packets: Int
        let sentAt: Double
    }

    private var queues: [[Item]] = Array(repeating: [], count: Priority.allCases.count)
    private var heads: [Int] = Array(repeating: 0, count: Priority.allCases.count)
    /// Packets of objects (bulk and backfill items) waiting here.
    private(set) var bulkPackets = 0
    /// Messages waiting here, every priority.
    private(set) var count = 0
    private var outstanding: [Outstanding] = []
    private var outstandingPackets = 0
    private var nextSequence: UInt64 = 0
    /// nym-client's last report of the lane.
    private(set) var reported = 0

    /// Packets nym-client holds for this lane, as far as the answers so far tell.
    var inClient: Int { reported + outstandingPackets }

    /// Whether a plain query is waiting for its answer.
    var isQuerying: Bool { outstanding.contains { $0.packets == 0 } }

    var isEmpty: Bool { count == 0 }

    /// What `push` did.
    enum PushResult: Equatable {
        case queued
        /// Queued; the oldest repair message was dropped to make room.
        case queuedDroppingOldest
        /// Not queued: a bulk item over `bulkLimit`, or a control message over `messageLimit`.
        case refused
    }

    /// Queues `item`. A bulk item that would take the waiting bulk packets over `bulkLimit` is
    /// refused (a lone item larger than the limit still fits an empty queue); a control message
    /// past `messageLimit` control messages is refused; a repair message past `messageLimit`
    /// repair messages replaces the oldest one.
    mutating func push(_ item: Item, bulkLimit: Int, messageLimit: Int = .max) -> PushResult {
        let priority = item.priority
        let p = priority.rawValue
        var result = PushResult.queued
        switch priority {
        case .bulk, .backfill:
            guard bulkPackets == 0 || bulkPackets + item.packets <= bulkLimit else { return .refused }
            bulkPackets += item.packets
        case .control:
            guard queues[p].count - heads[p] < messageLimit else { return .refused }
        case .repair:
            if queues[p].count - heads[p] >= messageLimit {
                heads[p] += 1
                count -= 1
                compact(p)
                result = .queuedDroppingOldest
            }
        }
        queues[p].append(item)
        count += 1
        return result
    }

    /// Takes the messages nym-client may have now: highest priority first, while the lane holds
    /// fewer than `window` packets. Each one taken is an outstanding request (its sequence
    /// number comes back with it, for `failed(_:)`).
    mutating func take(window: Int, now: Double) -> [(item: Item, sequence: UInt64)] {
        var out: [(Item, UInt64)] = []
        for priority in Priority.allCases {
            let p = priority.rawValue
            while inClient < window, heads[p] < queues[p].count {
                let item = queues[p][heads[p]]
                heads[p] += 1
                count -= 1
                if priority.isObject { bulkPackets -= item.packets }
                out.append((item, record(packets: item.packets, now: now)))
            }
            compact(p)
        }
        return out
    }

    /// A query for the lane's length is about to be sent.
    mutating func querying(now: Double) -> UInt64 { record(packets: 0, now: now) }

    /// nym-client refused the request `sequence` (it never reached the lane): forget it, and put a
    /// message back at the head of its queue.
    mutating func failed(_ sequence: UInt64, item: Item?) {
        if let index = outstanding.firstIndex(where: { $0.sequence == sequence }) {
            outstandingPackets -= outstanding[index].packets
            outstanding.remove(at: index)
        }
        guard let item else { return }
        let p = item.priority.rawValue
        if heads[p] > 0 {
            heads[p] -= 1
            queues[p][heads[p]] = item
        } else {
            queues[p].insert(item, at: 0)
        }
        count += 1
        if item.priority.isObject { bulkPackets += item.packets }
    }

    /// nym-client's answer for the oldest outstanding request: the lane holds `length` packets.
    mutating func answered(length: Int) {
        if !outstanding.isEmpty {
            outstandingPackets -= outstanding.removeFirst().packets
        }
        reported = max(0, length)
    }

    /// Answers older than `timeout` that never came (a reconnect lost them): forget them all, so
    /// the lane is asked again instead of waiting forever. Returns whether any were forgotten.
    mutating func expireAnswers(olderThan timeout: Double, now: Double) -> Bool {
        guard let first = outstanding.first, now - first.sentAt > timeout else { return false }
        outstanding.removeAll()
        outstandingPackets = 0
        return true
    }

    /// Drops everything waiting (the link closed); returns how many messages were dropped.
    mutating func removeAll() -> Int {
        let dropped = count
        self = LinkOutbox()
        return dropped
    }

    private mutating func record(packets: Int, now: Double) -> UInt64 {
        let sequence = nextSequence
        nextSequence &+= 1
        outstanding.append(Outstanding(sequence: sequence, packets: packets, sentAt: now))
        outstandingPackets += packets
        return sequence
    }

    private mutating func compact(_ p: Int) {
        if heads[p] == queues[p].count {
            queues[p].removeAll(keepingCapacity: true)
            heads[p] = 0
        } else if heads[p] > 64, heads[p] * 2 > queues[p].count {
            queues[p].removeFirst(heads[p])
            heads[p] = 0
        }
    }
}
