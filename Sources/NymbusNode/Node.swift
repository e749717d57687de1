public import Logging
public import NymbusTransport
public import NymbusCrypto
public import NymbusWire

/// A Nymbus overlay node: links to peers over the Nym mixnet, by Nym addresses only.
///
/// It performs the handshake in both modes, keeps links alive, discovers peers with
/// `getaddr`/`addr`, keeps a bucketed address book, and disconnects and discourages peers that
/// misbehave. The protocol rules live in pure state machines (`PeerSession`, `AddressBook`,
/// `TokenBucket`); this actor routes messages to them and carries out what they return.
/// See spec/node.md.
public actor Node {
    // MARK: Fixed parts
    let transport: any MixnetTransport
    let configuration: NodeConfiguration
    let settings: SessionSettings
    let logger: Logger
    let store: AddressBookStore?
    let discouragementStore: DiscouragementStore?
    let clock: NodeClock
    /// The monotonic instant this node was made; `now()` counts from it.
    let epoch: ContinuousClock.Instant
    /// Key for choosing which peers relay an address (not predictable by peers).
    let relayKey = SecureRandom.bytes(32)

    // MARK: State
    var started = false
    var stopping = false
    /// Whether the book and the discouragement list were read from disk (`loadState`).
    var stateLoaded = false
    /// This node's own address (learnt from nym-client; never sent by a hidden node).
    var selfAddress: Recipient?
    /// Addresses found to be ourselves (by the version nonce); never dialed again.
    var ownAddresses: Set<Recipient> = []
    var sessions: [SessionID: PeerSession] = [:]
    var closedSessions = BoundedSet<SessionID>(capacity: 4096)
    /// Paths of recently closed links, to remind a peer that keeps using one (`ClosedLinks`).
    var closedLinks = ClosedLinks()
    var book: AddressBook
    var discouraged: DiscouragementList
    /// The sample every `getaddr` is answered from until it expires (spec/node.md §5).
    var getaddrCache: GetaddrCache?
    var registry = ObjectTypeRegistry()
    var customHandlers: [UInt32: @Sendable (any WireCodable, PeerID) async -> Void] = [:]
    var topicMessageHandler: (@Sendable (Message, PeerID) async -> Void)?
    var peerHandler: (@Sendable (PeerEvent) async -> Void)?
    var waiters: [SessionID: [CheckedContinuation<Result<PeerID, NodeError>, Never>]] = [:]
    /// Outcomes of dials made by `connect` that ended before `connect` started waiting.
    var dialOutcomes: [SessionID: Result<PeerID, NodeError>] = [:]
    var connectRequested: Set<SessionID> = []
    /// Bootstrap addresses, the last run's peers and lost peers, redialed with backoff.
    var redials: RedialSchedule
    /// Short links opened only to ask for addresses (not peers for anything else).
    var addressFetches: Set<SessionID> = []
    var lastAddressFetch: Double = -.infinity
    var lastBookSave: Double = 0
    /// `book.changes` when the book was last written, and when it first changed since.
    var savedBookChanges = 0
    var bookChangedAt: Double?
    /// Address fetches in a row that brought no new address (each doubles the interval).
    var emptyAddressFetches = 0
    var inboundTask: Task<Void, Never>?
    var maintenanceTask: Task<Void, Never>?
    var laneTask: Task<Void, Never>?
    /// Each link's messages waiting for nym-client, and its lane (`Node+Sending.swift`).
    var outboxes: [SessionID: LinkOutbox] = [:]
    var lanes: [SessionID: UInt64] = [:]
    var laneSessions: [UInt64: SessionID] = [:]
    var nextLane: UInt64 = 1
    var pumpTask: Task<Void, Never>?
    var pollTask: Task<Void, Never>?
    var pumpRequested = false
    /// Publishers waiting in `waitForSendRoom()`.
    var roomWaiters: [CheckedContinuation<Void, Never>] = []
    /// Whether nym-client's full send queue was logged (once per episode).
    var transportFullLogged = false
    /// Set by `releaseSendWaiters()`: publishers no longer wait.
    var sendWaitersReleased = false
    /// Links whose full outbox was logged (once per episode: until the link closes).
    var linkFullLogged: Set<SessionID> = []

    /// Counters about traffic and misbehaviour.
    public internal(set) var statistics = NodeStatistics()

    /// Makes a node that will speak through `transport`. Nothing happens until `start()`.
    public init(transport: any MixnetTransport, configuration: NodeConfiguration, logger: Logger) {
        self.transport = transport
        self.configuration = configuration
        self.settings = SessionSettings(configuration)
        self.logger = logger
        self.clock = configuration.clock
        self.epoch = configuration.clock.monotonic()
        self.store = configuration.dataDirectory.map { AddressBookStore(directory: $0) }
        self.discouragementStore = configuration.dataDirectory.map { DiscouragementStore(directory: $0) }
        self.book = AddressBook(limits: configuration.bookLimits)
        self.discouraged = DiscouragementList(duration: Int64(configuration.discouragementDuration.seconds))
        self.redials = RedialSchedule(
            base: configuration.relinkDelay.seconds, maximum: configuration.relinkMaximumDelay.seconds)
    }

    // MARK: - Clocks

    /// Seconds since this node was made, on the configured monotonic clock.
    func now() -> Double { (clock.monotonic() - epoch).seconds }

    /// Unix seconds from the configured clock (for the book and `version`, which outlive this process).
    func unixNow() -> Int64 { clock.unix() }

    // MARK: - Lifecycle

    /// Starts the node: learns its own address, loads the book, starts reading messages and
    /// the timers, and dials the bootstrap peers (then book peers up to the outbound target).
    ///
    /// Throws `NodeError.corruptAddressBook` if the book file is corrupt (it is moved aside
    /// first, so starting again begins with an empty book), or `.transport` if a visible node
    /// cannot learn its own address, or `.invalidConfiguration` naming a field out of its range.
    public func start() async throws(NodeError) {
        guard !started else { return }
        guard !stopping else { throw NodeError(.stopped, "a stopped node cannot be started again") }
        try configuration.validate()
        do {
            selfAddress = try await transport.selfAddress()
        } catch {
            if configuration.mode == .visible {
                throw NodeError(.transport, "cannot learn this node's Nym address from nym-client: \(error)")
            }
            logger.warning(
                "hidden node could not learn its own address; it will not filter it out",
                metadata: ["error": "\(error)"])
        }
        try loadState()
        if let me = selfAddress { book.remove(me) }
        let unix = unixNow()
        for address in configuration.bootstrap where address != selfAddress {
            book.add(address, services: 0, lastSeen: UInt32(clamping: unix), source: .bootstrap, now: unix)
        }
        var random = SecureRNG()
        let at = now()
        // Bootstrap addresses first, in random order (the tiny offsets keep the order), then
        // the peers this node linked to most recently, as Bitcoin Core's anchors: after a
        // crash the book's 10-minute redial delay would otherwise keep them out of reach.
        let bootstrap = Array(Set(configuration.bootstrap.filter { $0 != selfAddress })).shuffled(using: &random)
        for (i, address) in bootstrap.enumerated() { redials.addBootstrap(address, now: at + Double(i) * 1e-6) }
        let recent = book.allEntries.filter { $0.tried && $0.lastSuccess > 0 }
            .sorted { $0.lastSuccess > $1.lastSuccess }.prefix(configuration.outboundTarget)
        for (i, entry) in recent.enumerated() { redials.addKnown(entry.address, now: at + 1e-3 + Double(i) * 1e-6) }
        started = true
        lastBookSave = at
        savedBookChanges = book.changes
        logger.info(
            "node started",
            metadata: [
                "mode": "\(configuration.mode.rawValue)", "bootstrap": "\(bootstrap.count)",
                "book": "\(book.count)", "redial": "\(recent.count)",
            ])
        let stream = transport.inbound
        let backlog = transport.inboundBacklog
        inboundTask = Task { [weak self] in
            for await message in stream {
                guard let self else { return }
                await self.handleReceived(message)
                backlog?.handled()
            }
            await self?.inboundEnded()
        }
        let reports = transport.laneReports
        laneTask = Task { [weak self] in
            for await report in reports {
                guard let self else { return }
                await self.laneReported(report)
            }
        }
        let interval = configuration.maintenanceInterval
        maintenanceTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                await self.maintain()
            }
        }
        await maintain()
    }

    /// Reads the address book and the discouragement list from the data directory (once; `start()`
    /// calls it if nobody did). Needs no nym-client, so a daemon calls it before connecting and
    /// a corrupt file is reported at once.
    ///
    /// Throws `NodeError.corruptAddressBook` or `.corruptDiscouragementList` (the file is moved
    /// aside first) unless the configuration says to go on without it.
    public func loadState() throws(NodeError) {
        guard !stateLoaded else { return }
        if let store {
            do {
                if let loaded = try store.load(limits: configuration.bookLimits, now: unixNow()) {
                    book = loaded
                    logger.info("address book loaded", metadata: ["entries": "\(book.count)"])
                }
            } catch {
                guard error.code == .corruptAddressBook, configuration.continueWithCorruptAddressBook else {
                    throw error
                }
                logger.error("address book corrupt; starting with an empty one", metadata: ["error": "\(error.reason)"])
            }
        }
        if let discouragementStore {
            do {
                if let loaded = try discouragementStore.load(
                    duration: discouraged.duration, capacity: discouraged.capacity, now: unixNow())
                {
                    discouraged = loaded
                    logger.info("discouragement list loaded", metadata: ["entries": "\(discouraged.count)"])
                }
            } catch {
                guard error.code == .corruptDiscouragementList, configuration.continueWithCorruptDiscouragementList
                else { throw error }
                logger.error(
                    "discouragement list corrupt; starting with an empty one", metadata: ["error": "\(error.reason)"])
            }
        }
        stateLoaded = true
    }

    /// Stops the node: says `bye(.shuttingDown)` to every peer, fails pending `connect`s, and
    /// writes the book. The node cannot be started again.
    public func stop() async {
        guard !stopping else { return }
        stopping = true
        inboundTask?.cancel()
        maintenanceTask?.cancel()
        laneTask?.cancel()
        pollTask?.cancel()
        var fx = Effects()
        for id in Array(sessions.keys) {
            closeSession(
                id, code: .shuttingDown, reason: "node shutting down", notify: true, discourage: false,
                error: NodeError(.stopped, "the node is stopping"), into: &fx)
        }
        await perform(fx)
        wakeRoomWaiters()
        saveBook()
        saveDiscouragement()
        started = false
        logger.info("node stopped")
    }

    /// Ends the node as `kill -9` would: its timers and reading stop at once, and nothing is
    /// said to peers or written to disk. For crash tests; a node cannot be started again.
    package func crash() {
        guard !stopping else { return }
        stopping = true
        started = false
        inboundTask?.cancel()
        maintenanceTask?.cancel()
        laneTask?.cancel()
        pumpTask?.cancel()
        outboxes = [:]
        for list in waiters.values {
            for waiter in list { waiter.resume(returning: .failure(NodeError(.stopped, "the node crashed"))) }
        }
        waiters = [:]
        wakeRoomWaiters()
    }

    /// Called when nym-client's message stream finishes (the transport was closed).
    func inboundEnded() {
        guard !stopping else { return }
        logger.error("nym-client message stream ended; this node receives nothing until restarted")
    }

    // MARK: - Public API

    /// Visible or hidden.
    public nonisolated var mode: NodeConfiguration.Mode { configuration.mode }

    /// When the messages from nym-client that this node has not finished handling arrived (the
    /// one it handles now first; the node says it handled each after its topic-layer handler
    /// returned): on a loaded machine messages wait here, and the topic layer's order hold must
    /// not count that wait as the mixnet's (spec/broker.md "Order"). Nil if the transport does
    /// not record arrivals.
    public nonisolated var inboundBacklog: InboundBacklog? { transport.inboundBacklog }

    /// The address this node gives out: its Nym address in visible mode (once started), nil in
    /// hidden mode (it gives out none).
    public var advertisedAddress: Recipient? { configuration.mode == .visible ? selfAddress : nil }

    /// Dials `address` and waits until the handshake completes (or fails, or times out after
    /// `handshakeTimeout`). If an outbound link to it already exists, returns or awaits that one.
    public func connect(to address: Recipient) async throws(NodeError) -> PeerID {
        guard !stopping else { throw NodeError(.stopped, "the node is stopping or stopped") }
        guard started else { throw NodeError(.notStarted, "start the node before connecting") }
        guard !discouraged.isDiscouraged(.address(address), now: unixNow()) else {
            throw NodeError(.discouraged, "\(short(address)) is discouraged after misbehaving")
        }
        let id: SessionID
        if let existing = sessions.values.first(where: {
            $0.dialedAddress == address && !addressFetches.contains($0.id)
        }) {
            id = existing.id
        } else {
            var fx = Effects()
            id = dial(address, into: &fx)
            connectRequested.insert(id)
            await perform(fx)
        }
        if let session = sessions[id], session.isEstablished {
            connectRequested.remove(id)
            return PeerID(id)
        }
        if let outcome = dialOutcomes.removeValue(forKey: id) {
            connectRequested.remove(id)
            return try outcome.get()
        }
        guard sessions[id] != nil else {
            connectRequested.remove(id)
            throw NodeError(.disconnected, "the link to \(short(address)) closed during the handshake")
        }
        let result = await withCheckedContinuation { waiters[id, default: []].append($0) }
        connectRequested.remove(id)
        return try result.get()
    }

    /// The peer links this node dialed, and those that are hidden, straight from the sessions:
    /// the topic layer asks at every heartbeat and duplicate, and needs no full `PeerInfo`.
    package var dialedPeerLinks: Set<PeerID> { peerLinkIDs { $0.role == .initiator } }
    package var hiddenPeerLinks: Set<PeerID> { peerLinkIDs { $0.path.isHidden } }

    private func peerLinkIDs(where condition: (PeerSession) -> Bool) -> Set<PeerID> {
        Set(sessions.values.filter { isPeerLink($0) && condition($0) }.map { PeerID($0.id) })
    }

    /// Whether `session` is a link to a peer: established, and not an address fetch, neither one
    /// this node opened nor one a peer opened here (its `version` offers no `relay`). A fetch
    /// link closes as soon as the addresses come, so what is sent on it is lost with it.
    func isPeerLink(_ session: PeerSession) -> Bool {
        session.isEstablished && !addressFetches.contains(session.id)
            && (session.role == .initiator || session.peerVersion?.services.contains(.relay) == true)
    }

    /// The established links.
    public func peers() -> [PeerInfo] {
        sessions.values.filter(isPeerLink).compactMap(info)
            .sorted { $0.connectedSince < $1.connectedSince }
    }

    /// Sets the handler for every topic-layer message from an established peer
    /// (`Command.isTopicLayer`: objects, their dissemination and catch-up), in arrival order. The
    /// node checks such messages against the wire limits and the link's rate limits and passes
    /// them on without looking inside: what they mean is the topic layer's business.
    public func setTopicMessageHandler(_ handler: @escaping @Sendable (_ message: Message, _ from: PeerID) async -> Void) {
        topicMessageHandler = handler
    }

    /// Sets the handler for peer connect and disconnect events.
    public func setPeerHandler(_ handler: @escaping @Sendable (PeerEvent) async -> Void) {
        peerHandler = handler
    }

    /// The median over the established links of the RFC 6298 retransmission timeout each link
    /// measured (handshake and pongs): how long an answer over the mixnet may take, for timers
    /// that must scale with the mixnet rather than with a LAN. Nil before any link measured one.
    public func roundTripTimeout() -> Duration? {
        let timeouts = sessions.values.filter(isPeerLink)
            .compactMap(\.retransmissionTimeout).sorted()
        guard !timeouts.isEmpty else { return nil }
        return .milliseconds(Int64((timeouts[timeouts.count / 2] * 1000).rounded(.up)))
    }

    /// Sends a topic-layer message to one established peer over its path; returns whether its
    /// link took it (into the outbox, on its way to nym-client). `catchUp` marks an object sent
    /// for a peer catching up: it waits behind every live object on the link (spec/node.md §13).
    @discardableResult
    public func sendTopicMessage(_ message: Message, to peer: PeerID, catchUp: Bool = false) async -> Bool {
        await !sendTopicMessage(message, toEach: [peer], catchUp: catchUp).isEmpty
    }

    /// Sends one topic-layer message to each of `peers`; returns the peers whose link took it. A
    /// message that is not a topic-layer message or is outside the wire limits is counted in
    /// `sendFailures` and sent nowhere; a peer no longer linked is counted in
    /// `sendsToClosedLinks`; a link whose outbox is full refuses an object
    /// (`objectsRefusedLinkFull`) and gossip repair offers it to that peer later.
    @discardableResult
    public func sendTopicMessage(_ message: Message, toEach peers: [PeerID], catchUp: Bool = false) async -> [PeerID] {
        guard message.command.isTopicLayer, message.fits(configuration.wireLimits) else {
            statistics.sendFailures += 1
            logger.warning(
                "topic message not sent: not a topic message or out of bounds", metadata: ["command": "\(message.command)"])
            return []
        }
        var fx = Effects()
        for peer in peers {
            guard let session = sessions[peer.sessionID], isPeerLink(session) else {
                statistics.sendsToClosedLinks += 1
                continue
            }
            enqueue(message, on: peer.sessionID, catchUp: catchUp, into: &fx)
        }
        // Enqueueing a message makes packets only: no events, handlers or closed lanes to run.
        var took: [PeerID] = []
        for packet in fx.packets where await dispatch(packet) {
            if let session = packet.session { took.append(PeerID(session)) }
        }
        return took
    }

    /// Closes the link with `bye(code, reason)` and discourages the peer (for the pub/sub layer's
    /// judgement: invalid objects, floods of junk).
    public func penalize(_ peer: PeerID, code: ReasonCode, reason: String) async {
        var fx = Effects()
        closeSession(peer.sessionID, code: code, reason: reason, notify: true, discourage: true, error: nil, into: &fx)
        await perform(fx)
    }

    /// Registers a custom object type and the handler for values of it from peers.
    public func register<T: WireCodable>(
        _ type: T.Type, handler: @escaping @Sendable (T, PeerID) async -> Void
    ) throws(NodeError) {
        do { try registry.register(type) } catch {
            throw NodeError(.invalidObject, "cannot register \(T.self): \(error.reason)")
        }
        customHandlers[T.wireTypeID] = { value, peer in
            if let typed = value as? T { await handler(typed, peer) }
        }
    }

    /// Sends a value of a registered (or any) `WireCodable` type to one established peer.
    public func send<T: WireCodable>(_ value: T, to peer: PeerID) async throws(NodeError) {
        let object = ObjectTypeRegistry.wrap(value)
        guard object.body.count <= configuration.wireLimits.maxCustomBody else {
            throw NodeError(
                .oversized,
                "\(T.self) encodes to \(object.body.count) bytes, over \(configuration.wireLimits.maxCustomBody)")
        }
        guard sessions[peer.sessionID]?.isEstablished == true else {
            throw NodeError(.unknownPeer, "no established link \(peer)")
        }
        var fx = Effects()
        enqueue(.custom(object), on: peer.sessionID, into: &fx)
        await perform(fx)
    }

    /// The number of entries in the address book.
    public var addressBookCount: Int { book.count }

    /// The addresses in the book (for status output and tests).
    public func knownAddresses() -> [Recipient] { book.allEntries.map(\.address) }

    /// Whether `address` is discouraged right now.
    public func isDiscouraged(_ address: Recipient) -> Bool {
        discouraged.isDiscouraged(.address(address), now: unixNow())
    }

    /// Writes the book now (it is also written every `bookSaveInterval` and at `stop()`).
    public func saveAddressBook() throws(NodeError) {
        guard let store else { return }
        try store.save(book)
        lastBookSave = now()
        savedBookChanges = book.changes
        bookChangedAt = nil
    }

    // MARK: - Helpers

    func info(_ session: PeerSession) -> PeerInfo? {
        guard let established = session.establishedAt, let version = session.peerVersion else { return nil }
        return PeerInfo(
            id: PeerID(session.id), direction: session.role == .initiator ? .outbound : .inbound,
            mode: session.path.isHidden ? .hidden : .visible, address: session.provenAddress,
            services: version.services, userAgent: version.userAgent, protocolVersion: session.negotiatedVersion,
            rtt: session.rtt.map { .milliseconds(Int64(($0 * 1000).rounded())) },
            connectedSince: epoch + .milliseconds(Int64((established * 1000).rounded())))
    }

    /// A short form of an address for logs.
    func short(_ address: Recipient) -> String { String(address.description.prefix(10)) + "…" }

    func saveBook() {
        do { try saveAddressBook() } catch {
            logger.error("address book not saved", metadata: ["error": "\(error.reason)"])
        }
    }

    /// Writes the discouragement list if it changed since the last write (called every tick, so
    /// a discouragement reaches the disk within `maintenanceInterval`, and at `stop()`).
    func saveDiscouragement() {
        guard let discouragementStore, discouraged.isDirty else { return }
        do {
            try discouragementStore.save(discouraged)
            discouraged.markSaved()
        } catch {
            logger.error("discouragement list not saved", metadata: ["error": "\(error.reason)"])
        }
    }
}
