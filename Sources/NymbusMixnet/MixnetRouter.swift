import NymClient
import NymbusCrypto
import NymbusTransport

/// The simulated mixnet between the local endpoints, as a pure state machine.
///
/// No sockets, no clocks, no tasks: callers pass the current time (a `Duration` since the
/// mixnet's epoch) into every call and carry out the returned `RouterAction`s. Packets in flight
/// and timers wait in an event queue; `nextDeadline` says when to call `advance(to:)` again.
/// Randomness (delays, loss, duplicates, sender tags) comes from an injected seedable generator.
///
/// What it models (NYM-CLIENT.md §5, §6, §7, §10):
/// - every message is split into ~1.6 KB packets that wait in the sending endpoint's lanes for
///   its Poisson sender, which lets one packet leave per exponential interval (`sendDelay`, 20 ms
///   mean as nym-client: ~50 packets/s per endpoint, SURB top-ups and requests included) and picks
///   lanes as nym-client does (`PacedSender`); `LaneQueueLength` reports a lane's waiting packets;
/// - each packet crosses 4 hops with an exponential delay per hop; a message arrives when its
///   slowest packet does, so there is no ordering between messages;
/// - a message is lost or duplicated with the configured probabilities;
/// - `send` arrives with no tag; `sendAnonymous` with a stable per-(sender, recipient) tag and
///   N SURBs for the receiver's book of that tag (no book for N = 0);
/// - `reply` spends one SURB per packet, never dipping into the reserve, queues what does not
///   fit, and tops up like nym-client's reply controller; replies arrive with no tag;
/// - an endpoint with no app attached keeps what arrives in a bounded inbox, flushed on attach;
///   an endpoint that is offline (its nym-client "process" down) has arrivals held by its
///   "gateway" and processed when it comes back, while its own inbox and reply queues are lost.
struct MixnetRouter {
    /// One simulated nym-client.
    struct Endpoint {
        var address: Recipient
        /// The nym-client process is running (it handles packets and SURB traffic).
        var online = true
        /// An app holds the WebSocket, so arrivals are pushed at once.
        var attached = false
        /// Messages received while no app was attached.
        var inbox: [(message: ReceivedMessage, arrived: Duration)] = []
        var inboxBytes = 0
        /// Sender side: the tag this endpoint uses towards each recipient it sent anonymously to.
        var senderTags: [Recipient: SenderTag] = [:]
        /// Holder side: SURB books by the tag of the anonymous sender.
        var books: [SenderTag: SurbBook] = [:]
        /// Packets that reached the gateway while the endpoint was offline.
        var heldByGateway: [(packet: Packet, arrived: Duration)] = []
        /// Messages waiting, as packets, for this endpoint's Poisson sender.
        var outbox = PacedSender<Outgoing>()
        /// Whether the sender's next tick is scheduled.
        var ticking = false
        /// Packets (app data and SURB traffic, not cover) this endpoint's sender let go.
        var packetsSent = 0
    }

    /// A message in an endpoint's outbox: what travels once its last packet has left.
    struct Outgoing {
        /// Nil for a message to an address no endpoint has: its packets leave, then are lost.
        let packet: Packet?
        /// App data may be duplicated; SURB control messages only lost.
        let isData: Bool
    }

    /// Something travelling through the mixnet, or a timer.
    enum Packet {
        /// App data to `to`; an anonymous message also carries `surbs` for the receiver's book.
        case data(to: Int, message: ReceivedMessage, surbs: Int)
        /// A holder asking the original sender for more SURBs.
        case surbRequest(holder: Int, sender: Int, tag: SenderTag, amount: Int)
        /// The original sender's answer to a request: SURBs for the holder's book of `tag`.
        case surbTopUp(holder: Int, tag: SenderTag, amount: Int)
        /// The holder's periodic look at a book with waiting replies.
        case inspect(holder: Int, tag: SenderTag)
        /// The endpoint's Poisson sender lets its next packet go.
        case sendTick(endpoint: Int)
    }

    let configuration: MixnetConfiguration
    var random: MixnetRandom
    private(set) var endpoints: [Endpoint] = []
    private(set) var counters = MixnetCounters()
    private var index: [Recipient: Int] = [:]
    /// Which endpoint created each sender tag (where SURBs of that tag lead back to).
    private var tagOwners: [SenderTag: Int] = [:]
    private var events = EventQueue<Packet>()

    init(configuration: MixnetConfiguration, random: MixnetRandom) {
        self.configuration = configuration
        self.random = random
    }

    // MARK: Endpoints

    /// Adds an endpoint with `address`; returns its index, or the existing one for a known address.
    @discardableResult
    mutating func addEndpoint(_ address: Recipient) -> Int {
        if let existing = index[address] { return existing }
        endpoints.append(Endpoint(address: address))
        index[address] = endpoints.count - 1
        return endpoints.count - 1
    }

    /// The endpoint with `address`, if any.
    func endpointIndex(of address: Recipient) -> Int? { index[address] }

    /// An app attached to `endpoint`: it gets every inbox message at once, oldest first.
    mutating func attach(_ endpoint: Int, now: Duration) -> [RouterAction] {
        guard endpoints.indices.contains(endpoint) else { return [] }
        endpoints[endpoint].attached = true
        let inbox = endpoints[endpoint].inbox
        endpoints[endpoint].inbox = []
        endpoints[endpoint].inboxBytes = 0
        var actions: [RouterAction] = []
        for entry in inbox {
            if now - entry.arrived > configuration.inboxMaxAge {
                counters.inboxDropped += 1
            } else {
                actions.append(.deliver(endpoint: endpoint, message: entry.message))
            }
        }
        return actions
    }

    /// The app of `endpoint` went away: later arrivals wait in its inbox.
    mutating func detach(_ endpoint: Int) {
        guard endpoints.indices.contains(endpoint) else { return }
        endpoints[endpoint].attached = false
    }

    /// Takes the endpoint's nym-client "process" down or brings it back.
    ///
    /// Going down loses what only lived in that process's memory (the inbox and replies waiting
    /// for SURBs) and keeps tags and SURBs (nym-client stores them on a clean shutdown). While
    /// down, its gateway holds arriving packets; coming back processes them.
    mutating func setOnline(_ endpoint: Int, _ online: Bool, now: Duration) -> [RouterAction] {
        guard endpoints.indices.contains(endpoint), endpoints[endpoint].online != online else { return [] }
        endpoints[endpoint].online = online
        guard online else {
            endpoints[endpoint].attached = false
            counters.lostOnRestart += endpoints[endpoint].inbox.count
            endpoints[endpoint].inbox = []
            endpoints[endpoint].inboxBytes = 0
            counters.lostOnRestart += endpoints[endpoint].outbox.removeAll().count
            for tag in endpoints[endpoint].books.keys {
                counters.lostOnRestart += endpoints[endpoint].books[tag]?.queue.count ?? 0
                endpoints[endpoint].books[tag]?.queue = []
                endpoints[endpoint].books[tag]?.pendingReception = 0
                endpoints[endpoint].books[tag]?.rerequests = 0
            }
            return []
        }
        let held = endpoints[endpoint].heldByGateway
        endpoints[endpoint].heldByGateway = []
        var actions: [RouterAction] = []
        for entry in held {
            if now - entry.arrived > configuration.inboxMaxAge {
                counters.inboxDropped += 1
            } else {
                actions += arrive(entry.packet, at: now)
            }
        }
        return actions
    }

    // MARK: Requests

    /// `send`: app data to `recipient`, delivered with no tag.
    mutating func send(from sender: Int, to recipient: Recipient, data: [UInt8], connectionID: UInt64?, now: Duration)
        -> [RouterAction]
    {
        guard endpoints.indices.contains(sender) else { return [] }
        let target = index[recipient]
        var actions: [RouterAction] = [
            .tap(
                MixnetTapEvent(
                    kind: .send, from: sender, fromAddress: endpoints[sender].address, to: target,
                    toAddress: recipient, senderTag: nil, bytes: data, surbCount: 0))
        ]
        counters.messagesRouted += 1
        submit(
            target.map { .data(to: $0, message: ReceivedMessage(data: data, senderTag: nil), surbs: 0) }, from: sender,
            lane: .init(connectionID), packets: NymPacketSizes.sendPackets(dataCount: data.count), isData: true,
            now: now)
        actions += laneAnswer(sender, connectionID)
        return actions
    }

    /// `sendAnonymous`: app data delivered with this sender's tag for `recipient`, plus `replySurbs`
    /// SURBs for the recipient's book of that tag.
    mutating func sendAnonymous(
        from sender: Int, to recipient: Recipient, data: [UInt8], replySurbs: UInt32, connectionID: UInt64?,
        now: Duration
    ) -> [RouterAction] {
        guard endpoints.indices.contains(sender) else { return [] }
        let target = index[recipient]
        let tag = senderTag(of: sender, for: recipient)
        let surbs = Int(replySurbs)
        var actions: [RouterAction] = [
            .tap(
                MixnetTapEvent(
                    kind: .sendAnonymous, from: sender, fromAddress: endpoints[sender].address, to: target,
                    toAddress: recipient, senderTag: tag, bytes: data, surbCount: surbs))
        ]
        counters.messagesRouted += 1
        submit(
            target.map { .data(to: $0, message: ReceivedMessage(data: data, senderTag: tag), surbs: surbs) }, from: sender,
            lane: .init(connectionID), packets: NymPacketSizes.anonymousPackets(dataCount: data.count, surbs: surbs),
            isData: true, now: now)
        actions += laneAnswer(sender, connectionID)
        return actions
    }

    /// `ClosedConnection`: nym-client drops that lane's packets still waiting for the Poisson
    /// sender (a message already partly sent never completes). Accepted, never answered.
    mutating func closedConnection(from endpoint: Int, connectionID: UInt64) {
        guard endpoints.indices.contains(endpoint) else { return }
        let before = endpoints[endpoint].outbox.queuedPackets
        let dropped = endpoints[endpoint].outbox.close(.init(connectionID))
        counters.messagesDroppedClosedLane += dropped.count
        counters.packetsDroppedClosedLane += before - endpoints[endpoint].outbox.queuedPackets
    }

    /// nym-client's `LaneQueueLength`: packets of `endpoint`'s lane `lane` waiting for the Poisson
    /// sender, plus packets of its replies on that lane still waiting for SURBs.
    func laneQueueLength(endpoint: Int, lane: UInt64) -> Int {
        guard endpoints.indices.contains(endpoint) else { return 0 }
        var total = endpoints[endpoint].outbox.packets(in: .init(lane))
        // A reply still short of SURBs: unpaced, its packets with SURBs are already gone; paced,
        // they wait in the lane with the rest (the stand-in releases a reply whole).
        let paced = configuration.sendDelay > .zero
        for book in endpoints[endpoint].books.values {
            for reply in book.queue where reply.lane == lane { total += paced ? reply.packetsTotal : reply.packetsLeft }
        }
        return total
    }

    /// Packets of `endpoint` waiting for its Poisson sender, in every lane.
    func queuedPackets(endpoint: Int) -> Int {
        guard endpoints.indices.contains(endpoint) else { return 0 }
        return endpoints[endpoint].outbox.queuedPackets
    }

    func laneAnswer(_ endpoint: Int, _ connectionID: UInt64?) -> [RouterAction] {
        guard let lane = connectionID else { return [] }
        return [
            .laneQueueLength(endpoint: endpoint, lane: lane, length: laneQueueLength(endpoint: endpoint, lane: lane))
        ]
    }

    // MARK: Time

    /// When `advance(to:)` has work next.
    var nextDeadline: Duration? { events.nextDue }

    /// Packets and timers still scheduled.
    var scheduledCount: Int { events.count }

    /// Carries out every packet arrival and timer due at or before `now`, each at its own due time.
    mutating func advance(to now: Duration) -> [RouterAction] {
        var actions: [RouterAction] = []
        while let (due, packet) = events.popDue(notAfter: now) {
            actions += arrive(packet, at: due)
        }
        return actions
    }

    // MARK: Queries

    /// The tag `sender` uses towards `recipient`, if it has sent anonymously to it.
    func senderTag(from sender: Int, to recipient: Recipient) -> SenderTag? {
        guard endpoints.indices.contains(sender) else { return nil }
        return endpoints[sender].senderTags[recipient]
    }

    /// Usable SURBs `holder` keeps for `tag`; `nil` when it has no book for that tag.
    func surbCount(holder: Int, tag: SenderTag) -> Int? {
        guard endpoints.indices.contains(holder) else { return nil }
        return endpoints[holder].books[tag]?.available
    }

    /// Replies `holder` has queued for `tag`, waiting for SURBs.
    func pendingReplies(holder: Int, tag: SenderTag) -> Int {
        guard endpoints.indices.contains(holder) else { return 0 }
        return endpoints[holder].books[tag]?.queue.count ?? 0
    }

    /// The SURB book of `holder` for `tag` (tests look inside).
    func book(holder: Int, tag: SenderTag) -> SurbBook? {
        guard endpoints.indices.contains(holder) else { return nil }
        return endpoints[holder].books[tag]
    }

    /// Messages waiting in `endpoint`'s inbox.
    func inboxCount(_ endpoint: Int) -> Int {
        guard endpoints.indices.contains(endpoint) else { return 0 }
        return endpoints[endpoint].inbox.count
    }

    /// Forgets every sender tag of `endpoint` (like nymtech/nym#5600's reset): later anonymous
    /// messages get new tags and SURB requests for the old ones are refused.
    mutating func resetSenderTags(of endpoint: Int) {
        guard endpoints.indices.contains(endpoint) else { return }
        endpoints[endpoint].senderTags = [:]
    }

    // MARK: Internals shared with the reply logic

    mutating func senderTag(of sender: Int, for recipient: Recipient) -> SenderTag {
        if let tag = endpoints[sender].senderTags[recipient] { return tag }
        var tag = (try? SenderTag(bytes: random.bytes(SenderTag.byteLength))) ?? SenderTag.random()
        while tagOwners[tag] != nil {
            tag = (try? SenderTag(bytes: random.bytes(SenderTag.byteLength))) ?? SenderTag.random()
        }
        endpoints[sender].senderTags[recipient] = tag
        tagOwners[tag] = sender
        return tag
    }

    func owner(of tag: SenderTag) -> Int? { tagOwners[tag] }

    mutating func count(_ update: (inout MixnetCounters) -> Void) { update(&counters) }

    /// Whether nothing is on its way: no packet travelling (SURB requests and top-ups included)
    /// or held by a gateway, none waiting in an outbox. Timers (an idle sender's tick, a book's
    /// periodic inspection) do not count, and neither do replies waiting for SURBs that may never
    /// come (the sender's tags were reset, or it went away): they move only when a top-up does,
    /// which is travelling. A message can still sit in an app-less endpoint's inbox.
    var isQuiet: Bool {
        let travelling = events.contains {
            switch $0 {
            case .data, .surbRequest, .surbTopUp: true
            case .inspect, .sendTick: false
            }
        }
        return !travelling && endpoints.allSatisfy { $0.outbox.isEmpty && $0.heldByGateway.isEmpty }
    }

    mutating func schedule(_ packet: Packet, at due: Duration) { events.insert(packet, at: due) }

    /// Time for a message of `packets` packets to cross the mixnet: the slowest packet's
    /// sum of per-hop exponential delays. Up to 1024 packets are sampled; more add almost nothing.
    mutating func pathDelay(packets: Int) -> Duration {
        let mean = configuration.hopDelay
        guard mean > .zero else { return .zero }
        var slowest = Duration.zero
        for _ in 0..<min(max(packets, 1), 1024) {
            var total = Duration.zero
            for _ in 0..<MixnetConfiguration.hopCount { total += random.exponential(mean: mean) }
            slowest = max(slowest, total)
        }
        return slowest
    }

    /// Hands a message of `packets` packets from `sender` to its nym-client's sender: queued in
    /// `lane` for the Poisson stream, or, unpaced (`sendDelay` zero), into the mixnet at once.
    mutating func submit(_ packet: Packet?, from sender: Int, lane: PacedSender<Outgoing>.Lane, packets: Int, isData: Bool, now: Duration) {
        let outgoing = Outgoing(packet: packet, isData: isData)
        guard configuration.sendDelay > .zero else {
            counters.packetsSent += max(1, packets)
            endpoints[sender].packetsSent += max(1, packets)
            release(outgoing, packets: packets, arrival: now + pathDelay(packets: packets), now: now)
            return
        }
        endpoints[sender].outbox.enqueue(outgoing, packets: packets, lane: lane)
        if !endpoints[sender].ticking {
            endpoints[sender].ticking = true
            schedule(.sendTick(endpoint: sender), at: now + random.exponential(mean: configuration.sendDelay))
        }
    }

    /// One tick of `endpoint`'s Poisson sender: one packet leaves (a cover packet when nothing
    /// waits, which the stand-in does not route) and the next tick is drawn.
    mutating func tick(_ endpoint: Int, now: Duration) {
        let mean = configuration.hopDelay
        let hadWork = !endpoints[endpoint].outbox.isEmpty
        let sent = endpoints[endpoint].outbox.sendOne(using: &random) { random in
            var total = Duration.zero
            for _ in 0..<MixnetConfiguration.hopCount { total += random.exponential(mean: mean) }
            return now + total
        }
        if hadWork {
            counters.packetsSent += 1
            endpoints[endpoint].packetsSent += 1
        }
        if let (outgoing, arrival, packets) = sent {
            release(outgoing, packets: packets, arrival: arrival, now: now)
        }
        if endpoints[endpoint].outbox.isEmpty {
            endpoints[endpoint].ticking = false
        } else {
            schedule(.sendTick(endpoint: endpoint), at: now + random.exponential(mean: configuration.sendDelay))
        }
    }

    /// A message whose last packet left at `now` and whose slowest packet arrives at `arrival`:
    /// it is lost, arrives, and (app data only) may arrive twice.
    private mutating func release(_ outgoing: Outgoing, packets: Int, arrival: Duration, now: Duration) {
        guard let packet = outgoing.packet else {
            counters.droppedNoRoute += 1
            return
        }
        if random.chance(configuration.lossProbability) {
            counters.droppedByLoss += 1
        } else {
            schedule(packet, at: arrival)
        }
        if outgoing.isData, case .data(let to, let message, _) = packet,
            random.chance(configuration.duplicateProbability)
        {
            counters.duplicated += 1
            // The copy carries the data again, but SURBs are only ever stored once.
            schedule(.data(to: to, message: message, surbs: 0), at: now + pathDelay(packets: packets))
        }
    }

    /// Handles a packet or timer reaching its destination at `now`.
    mutating func arrive(_ packet: Packet, at now: Duration) -> [RouterAction] {
        switch packet {
        case .data(let to, let message, let surbs):
            guard endpoints[to].online else { return holdAtGateway(packet, for: to, now: now) }
            var actions: [RouterAction] = []
            if let tag = message.senderTag, surbs > 0 {
                actions += receivedSurbs(holder: to, tag: tag, count: surbs, fromRequest: false, now: now)
            }
            counters.messagesDelivered += 1
            if endpoints[to].attached {
                actions.append(.deliver(endpoint: to, message: message))
            } else {
                putInInbox(message, endpoint: to, now: now)
            }
            return actions
        case .surbRequest(let holder, let sender, _, let amount):
            guard endpoints[sender].online else { return holdAtGateway(packet, for: sender, now: now) }
            return answerSurbRequest(holder: holder, sender: sender, amount: amount, now: now)
        case .surbTopUp(let holder, let tag, let amount):
            guard endpoints[holder].online else { return holdAtGateway(packet, for: holder, now: now) }
            return receivedSurbs(holder: holder, tag: tag, count: amount, fromRequest: true, now: now)
        case .inspect(let holder, let tag):
            return inspect(holder: holder, tag: tag, now: now)
        case .sendTick(let endpoint):
            tick(endpoint, now: now)
            return []
        }
    }

    private mutating func holdAtGateway(_ packet: Packet, for endpoint: Int, now: Duration) -> [RouterAction] {
        endpoints[endpoint].heldByGateway.append((packet, now))
        return []
    }

    private mutating func putInInbox(_ message: ReceivedMessage, endpoint: Int, now: Duration) {
        endpoints[endpoint].inbox.append((message, now))
        endpoints[endpoint].inboxBytes += message.data.count
        var dropCount = 0
        var droppedBytes = 0
        let inbox = endpoints[endpoint].inbox
        while dropCount < inbox.count,
            inbox.count - dropCount > configuration.inboxMessageLimit
                || endpoints[endpoint].inboxBytes - droppedBytes > configuration.inboxByteLimit
        {
            droppedBytes += inbox[dropCount].message.data.count
            dropCount += 1
        }
        if dropCount > 0 {
            endpoints[endpoint].inbox.removeFirst(dropCount)
            endpoints[endpoint].inboxBytes -= droppedBytes
            counters.inboxDropped += dropCount
        }
    }

    mutating func updateBook(_ holder: Int, _ tag: SenderTag, _ change: (inout SurbBook) -> Void) {
        guard var book = endpoints[holder].books[tag] else { return }
        change(&book)
        endpoints[holder].books[tag] = book
    }

    mutating func createBookIfMissing(_ holder: Int, _ tag: SenderTag, now: Duration) {
        if endpoints[holder].books[tag] == nil {
            endpoints[holder].books[tag] = SurbBook(available: 0, lastReceived: now)
        }
    }

    func hasBook(_ holder: Int, _ tag: SenderTag) -> Bool { endpoints[holder].books[tag] != nil }
}
