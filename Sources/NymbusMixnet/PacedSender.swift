/// nym-client's real-traffic stream for one endpoint: the packets of messages waiting for the
/// Poisson sender, kept in lanes, and the rule that picks which lane's packet leaves next.
///
/// Faithful to `TransmissionBuffer` in nym's client-core (NYM-CLIENT.md §5.3, §7):
/// - a message is split into packets when the app hands it over; they wait in its lane
///   (`General` without a connection id, else `ConnectionId(id)`), in FIFO order;
/// - one packet leaves per tick of a Poisson process (the caller draws the intervals);
/// - the next packet comes from a random lane with fewer than 100 packets waiting; if none is
///   that small, with probability 2/3 from one of the (up to) 4 lanes that sent the most since
///   they last became non-empty, else from any lane;
/// - a lane is forgotten once empty, and `ClosedConnection` drops a lane's unsent packets.
///
/// Pure: no clock, no I/O. The router owns one per endpoint and asks it for the next packet.
struct PacedSender<Job> {
    /// nym-client's `TransmissionLane`.
    enum Lane: Hashable {
        /// Messages sent without a connection id.
        case general
        /// Messages sent with connection id `n` (what `LaneQueueLength` reports on).
        case connection(UInt64)
        /// The holder's requests for more reply SURBs.
        case surbRequest
        /// The original sender's additional SURBs answering such requests.
        case additionalSurbs

        /// The lane of a request that carried `connectionID` (0 or none is `General`).
        init(_ connectionID: UInt64?) {
            if let id = connectionID, id != 0 { self = .connection(id) } else { self = .general }
        }
    }

    /// A message on its way out: the packets still to leave.
    struct Entry {
        let job: Job
        let packets: Int
        var packetsLeft: Int
        /// When the slowest packet sent so far arrives.
        var latestArrival: Duration = .zero
    }

    private struct LaneBuffer {
        var entries: [Entry] = []
        var head = 0
        var packets = 0
        /// Packets sent since the lane last became non-empty (nym's `messages_transmitted`).
        var transmitted = 0

        var isSmall: Bool { packets < PacedSender.smallLanePackets }
    }

    /// A lane with fewer packets waiting than this is "small" and served first.
    static var smallLanePackets: Int { 100 }
    /// How many of the most-transmitted lanes form the "oldest set".
    static var oldestSetSize: Int { 4 }

    private var lanes: [Lane: LaneBuffer] = [:]
    /// Lanes in the order they became non-empty, so choices do not depend on hash order.
    private var order: [Lane] = []
    /// Packets waiting in every lane.
    private(set) var queuedPackets = 0

    var isEmpty: Bool { queuedPackets == 0 }

    /// Packets waiting in `lane` (what nym-client reports as the lane's `LaneQueueLength`).
    func packets(in lane: Lane) -> Int { lanes[lane]?.packets ?? 0 }

    /// Lanes with packets waiting.
    var laneCount: Int { order.count }

    /// Queues a message of `packets` packets at the back of `lane`.
    mutating func enqueue(_ job: Job, packets: Int, lane: Lane) {
        let count = max(1, packets)
        if lanes[lane] == nil {
            lanes[lane] = LaneBuffer()
            order.append(lane)
        }
        lanes[lane, default: LaneBuffer()].entries.append(Entry(job: job, packets: count, packetsLeft: count))
        lanes[lane, default: LaneBuffer()].packets += count
        queuedPackets += count
    }

    /// Drops every unsent packet of `lane` (`ClosedConnection`); returns the jobs dropped,
    /// whole or in part.
    @discardableResult
    mutating func close(_ lane: Lane) -> [Job] {
        guard let buffer = lanes.removeValue(forKey: lane) else { return [] }
        order.removeAll { $0 == lane }
        queuedPackets -= buffer.packets
        return buffer.entries[buffer.head...].map(\.job)
    }

    /// Drops everything (the nym-client process went down).
    @discardableResult
    mutating func removeAll() -> [Job] {
        var jobs: [Job] = []
        for lane in order { jobs += close(lane) }
        return jobs
    }

    /// Sends one packet: picks a lane by nym-client's rule and takes the next packet of its first
    /// message, which arrives at `arrival(random)`. Returns the message's job once its last packet
    /// left, with when its slowest packet arrives and how many packets it had; nil otherwise
    /// (or when nothing waits).
    mutating func sendOne(using random: inout MixnetRandom, arrival: (inout MixnetRandom) -> Duration)
        -> (job: Job, latestArrival: Duration, packets: Int)?
    {
        guard let position = pickLane(&random) else { return nil }
        let lane = order[position]
        // Taken out of the dictionary while it changes, so its arrays are not copied.
        var buffer = lanes.removeValue(forKey: lane)!
        var entry = buffer.entries[buffer.head]
        entry.packetsLeft -= 1
        entry.latestArrival = max(entry.latestArrival, arrival(&random))
        buffer.packets -= 1
        buffer.transmitted += 1
        queuedPackets -= 1
        let finished = entry.packetsLeft == 0
        if finished {
            buffer.head += 1
            if buffer.head > 64, buffer.head * 2 > buffer.entries.count {
                buffer.entries.removeFirst(buffer.head)
                buffer.head = 0
            }
        } else {
            buffer.entries[buffer.head] = entry
        }
        if buffer.head == buffer.entries.count {
            order.remove(at: position)
        } else {
            lanes[lane] = buffer
        }
        return finished ? (entry.job, entry.latestArrival, entry.packets) : nil
    }

    /// The position in `order` of the lane whose packet leaves next.
    private func pickLane(_ random: inout MixnetRandom) -> Int? {
        guard !order.isEmpty else { return nil }
        let small = order.indices.filter { lanes[order[$0]]!.isSmall }
        if !small.isEmpty { return small[random.index(small.count)] }
        if random.index(3) < 2 {
            // The lanes that sent the most (ties: the one non-empty longest first).
            let oldest = order.indices
                .sorted { (lanes[order[$0]]!.transmitted, -$0) > (lanes[order[$1]]!.transmitted, -$1) }
                .prefix(Self.oldestSetSize)
            return oldest[oldest.startIndex + random.index(oldest.count)]
        }
        return random.index(order.count)
    }
}
