import NymbusTransport
import NymbusCrypto
import NymbusWire

/// What a session needs from the node's configuration, in seconds.
struct SessionSettings: Sendable {
    var protocolVersion: UInt16 = NodeProtocol.version
    var minimumProtocolVersion: UInt16 = NodeProtocol.minimumVersion
    var handshakeTimeout: Double = 60
    var pingInterval: Double = 120
    var peerTimeout: Double = 1200
    var silenceProbe: Double = 30
    var pongWaitMinimum: Double = 5
    var probeAttempts = 2
    var pendingLimit = 8
    var pendingByteLimit = 256 * 1024
    var packetRate: Double = 500
    var packetBurst: Double = 10_000
    var addrRate: Double = 0.1
    var addrBurst: Double = 1000
    var addrGrant: Double = 1000
    var surbs = NodeConfiguration.SURBPolicy()
    /// Seconds by which this link's first periodic ping comes before `pingInterval`, at most
    /// half of it. The node draws it at random for each link (`forNewLink()`), so links that
    /// came up together, as all of a node's do after it starts, ping at different times rather
    /// than in one burst every interval, each burst a run of packets in nym-client's queue ahead
    /// of the objects. 0 in tests that want the ping on the interval.
    var firstPingEarly: Double = 0

    init() {}

    /// These settings for a link about to open: `firstPingEarly` drawn at random.
    func forNewLink() -> SessionSettings {
        var settings = self
        var rng = SecureRNG()
        settings.firstPingEarly = Double.random(in: 0..<(pingInterval / 2), using: &rng)
        return settings
    }

    init(_ c: NodeConfiguration) {
        handshakeTimeout = c.handshakeTimeout.seconds
        pingInterval = c.pingInterval.seconds
        peerTimeout = c.peerTimeout.seconds
        silenceProbe = c.silenceProbe.seconds
        pongWaitMinimum = c.pongWaitMinimum.seconds
        probeAttempts = max(1, c.probeAttempts)
        pendingLimit = c.pendingLimit
        pendingByteLimit = c.pendingByteLimit
        packetRate = c.packetRate
        packetBurst = c.packetBurst
        addrRate = c.addrRate
        addrBurst = c.addrBurst
        addrGrant = c.addrGrantOnGetaddr
        surbs = c.surbs
    }
}

/// The overlay protocol versions this build speaks.
public enum NodeProtocol {
    /// The version we announce.
    public static let version: UInt16 = 1
    /// The oldest version we accept.
    public static let minimumVersion: UInt16 = 1
}

/// Something a session wants the node to do.
enum SessionAction: Equatable, Sendable {
    /// Send this message on the link.
    case send(Message)
    /// The handshake just completed.
    case established
    /// A message for the node itself: `getaddr` to answer, `addr` entries that passed the
    /// rate limit, an `object`, `inv`, `getdata` or a `custom` object.
    case deliver(Message)
    /// Close the link; `notify` sends `bye` first; `discourage` marks the peer.
    case close(ReasonCode, String, notify: Bool, discourage: Bool)
    /// The peer said `bye`.
    case peerClosed(ByeMessage)
    /// Something to count, with no other effect.
    case note(SessionNote)
}

/// Events a session reports only for the statistics.
enum SessionNote: Equatable, Sendable {
    case duplicate
    case pongMismatch
    case getaddrIgnored
    case addressesRateLimited(Int)
    case rejectReceived(RejectMessage)
}

/// One link's protocol state: handshake, keepalive, limits and SURB budget.
///
/// A pure state machine: `receive` and `tick` take the time (seconds on a monotonic clock)
/// and return actions; the node actor performs them. Rules (spec/node.md):
/// - the responder's session exists only once a `version` arrived; the initiator's from the
///   moment it sends its own;
/// - the handshake completes when we have the peer's `version` and a `verack` echoing our nonce
///   (in either order: the mixnet reorders);
/// - a second `version` (other than an exact duplicate) or a `verack` with a wrong nonce is a
///   violation; other messages before completion are held (up to `pendingLimit`) and replayed.
struct PeerSession: Sendable {
    /// Who opened the link.
    enum Role: Sendable, Equatable {
        case initiator, responder
    }

    /// Where the handshake stands.
    enum Phase: Sendable, Equatable {
        /// Initiator: our `version` is out; waiting for the peer's `version` and `verack`.
        case awaitingPeer
        /// Responder: our `version` + `verack` are out; waiting for the peer's `verack`.
        case awaitingVerack
        /// Handshake complete.
        case established
    }

    let id: SessionID
    let role: Role
    let path: PeerPath
    let localNonce: UInt64
    let createdAt: Double
    let settings: SessionSettings

    private(set) var phase: Phase
    private(set) var peerVersion: VersionMessage?
    private(set) var gotVerack = false
    private(set) var pending: [Message] = []
    private(set) var pendingBytes = 0
    private(set) var establishedAt: Double?
    private(set) var lastReceived: Double
    private(set) var pingNonce: UInt64?
    private(set) var pingSentAt: Double = 0
    /// When the outstanding ping was last (re)sent, and how many times it went out.
    private(set) var pingResentAt: Double = 0
    private(set) var pingsUnanswered = 0
    /// Whether the outstanding ping is a silence probe (it tops up only the SURBs used).
    private(set) var pingIsProbe = false
    private(set) var lastPingAt: Double = 0
    /// The last round trip measured (a pong, or the handshake).
    private(set) var rtt: Double?
    /// Smoothed round trip and its mean deviation (RFC 6298), from the handshake and pongs.
    private(set) var roundTrips = RoundTripEstimator()
    var smoothedRTT: Double? { roundTrips.smoothed }
    var rttVariation: Double { roundTrips.variation }
    /// The lowest ping round trip seen (inbound eviction protects the fastest peers).
    private(set) var minimumRTT: Double?
    private(set) var getaddrAnswered = false
    private(set) var getaddrSent = false
    /// True from our `getaddr` until an `addr` of under 1000 entries arrives (its answer);
    /// such answers are not relayed (Bitcoin Core's `m_getaddr_sent`).
    var awaitingAddrAnswer = false
    private(set) var packetsSinceTopUp = 0
    private var messageBucket: TokenBucket
    private var addrBucket: TokenBucket
    /// Addresses this peer already knows (sent by it or to it), as 64-bit keyed hashes (Swift's
    /// per-process seeded hasher): never relayed back. Bitcoin Core keeps a 5000-entry filter too.
    private var knownAddressHashes = BoundedSet<Int>(capacity: 5000)

    /// Remembers that the peer knows `address`.
    mutating func markKnown(_ address: Recipient) { knownAddressHashes.insert(address.hashValue) }

    /// Whether the peer is known to know `address`.
    func knows(_ address: Recipient) -> Bool { knownAddressHashes.contains(address.hashValue) }

    private init(id: SessionID, role: Role, path: PeerPath, localNonce: UInt64, settings: SessionSettings, now: Double)
    {
        self.id = id
        self.role = role
        self.path = path
        self.localNonce = localNonce
        self.createdAt = now
        self.settings = settings
        self.phase = role == .initiator ? .awaitingPeer : .awaitingVerack
        self.lastReceived = now
        self.messageBucket = TokenBucket(
            rate: settings.packetRate, capacity: settings.packetBurst, initial: settings.packetBurst, now: now)
        // Bitcoin Core starts the address bucket at 1 token.
        self.addrBucket = TokenBucket(rate: settings.addrRate, capacity: settings.addrBurst, initial: 1, now: now)
    }

    /// Opens a link as initiator: returns the session and the `version` to send.
    static func initiate(
        id: SessionID, path: PeerPath, version: VersionMessage, settings: SessionSettings, now: Double
    ) -> (PeerSession, [SessionAction]) {
        let session = PeerSession(
            id: id, role: .initiator, path: path, localNonce: version.nonce, settings: settings, now: now)
        return (session, [.send(.version(version))])
    }

    /// Answers a peer's first `version` as responder: our `version`, then a `verack` echoing
    /// its nonce. Returns no session (and a `close`) if its protocol version is too old.
    static func respond(
        id: SessionID, path: PeerPath, peerVersion: VersionMessage, version: VersionMessage, settings: SessionSettings,
        now: Double
    ) -> (PeerSession?, [SessionAction]) {
        guard peerVersion.protocolVersion >= settings.minimumProtocolVersion else {
            return (
                nil,
                [
                    .close(
                        .incompatibleVersion,
                        "protocol version \(peerVersion.protocolVersion) is older than \(settings.minimumProtocolVersion)",
                        notify: true, discourage: false)
                ]
            )
        }
        var session = PeerSession(
            id: id, role: .responder, path: path, localNonce: version.nonce, settings: settings, now: now)
        session.peerVersion = peerVersion
        return (session, [.send(.version(version)), .send(.verack(VerackMessage(echoNonce: peerVersion.nonce)))])
    }

    // MARK: - Derived state

    var isEstablished: Bool { phase == .established }

    /// The protocol version in use: the lower of both sides'.
    var negotiatedVersion: UInt16 {
        min(settings.protocolVersion, peerVersion?.protocolVersion ?? settings.protocolVersion)
    }

    /// The peer's address, once proven: the address we dialed (the peer echoed the nonce we sent
    /// there), or the address a visible initiator claimed (it echoed the nonce we sent there).
    var provenAddress: Recipient? {
        guard isEstablished else { return nil }
        switch path {
        case .visible(let a), .anonymousOutbound(let a): return a
        case .anonymousInbound: return nil
        }
    }

    /// The address we dialed (initiator only), proven or not.
    var dialedAddress: Recipient? { role == .initiator ? path.address : nil }

    // MARK: - Receiving

    /// Handles one decoded message that arrived on this session's path. `size` is its encoded
    /// size (for the held-message cap), `packets` how many mixnet packets it took (SURB budget).
    mutating func receive(_ message: Message, size: Int = 0, packets: Int = 1, now: Double) -> [SessionAction] {
        lastReceived = max(lastReceived, now)
        packetsSinceTopUp += max(1, packets)
        guard messageBucket.take(Double(max(1, packets)), now: now) else {
            return [
                .close(
                    .flood,
                    "more than \(Int(settings.packetBurst)) mixnet packets at once (\(Int(settings.packetRate)) packets/s allowed)",
                    notify: true, discourage: true)
            ]
        }
        switch message {
        case .bye(let bye):
            return [.peerClosed(bye)]
        case .reject(let reject):
            return [.note(.rejectReceived(reject))]
        case .version(let version):
            return receiveVersion(version, now: now)
        case .verack(let verack):
            return receiveVerack(verack, now: now)
        default:
            guard isEstablished else {
                // Held for reordering. Overflowing means the handshake is not coming (a lost
                // verack is never resent) or the peer is abusive: close, but do not discourage,
                // since honest peers get here through loss. The handshake timeout bounds the rest.
                guard pending.count < settings.pendingLimit, pendingBytes + size <= settings.pendingByteLimit else {
                    return [
                        .close(
                            .protocolViolation,
                            "more than \(settings.pendingLimit) messages or \(settings.pendingByteLimit / 1024) KiB before the handshake completed",
                            notify: true, discourage: false)
                    ]
                }
                pending.append(message)
                pendingBytes += size
                return []
            }
            return receiveEstablished(message, now: now)
        }
    }

    private mutating func receiveVersion(_ version: VersionMessage, now: Double) -> [SessionAction] {
        if let known = peerVersion {
            if known == version { return [.note(.duplicate)] }
            return [.close(.protocolViolation, "a second version on one session", notify: true, discourage: true)]
        }
        // Only an initiator can get here: a responder's session starts with the peer's version.
        // Our own version coming back on our own session: we dialed ourselves.
        if version.nonce == localNonce {
            return [
                .close(
                    .selfConnection, "connected to ourselves (our version nonce came back)", notify: false,
                    discourage: false)
            ]
        }
        guard version.protocolVersion >= settings.minimumProtocolVersion else {
            return [
                .close(
                    .incompatibleVersion,
                    "protocol version \(version.protocolVersion) is older than \(settings.minimumProtocolVersion)",
                    notify: true, discourage: false)
            ]
        }
        peerVersion = version
        var actions: [SessionAction] = [.send(.verack(VerackMessage(echoNonce: version.nonce)))]
        if gotVerack { actions += establish(now: now) }
        return actions
    }

    private mutating func receiveVerack(_ verack: VerackMessage, now: Double) -> [SessionAction] {
        guard verack.echoNonce == localNonce else {
            return [
                .close(.protocolViolation, "verack does not echo our version nonce", notify: true, discourage: true)
            ]
        }
        if gotVerack { return [.note(.duplicate)] }
        gotVerack = true
        guard peerVersion != nil else { return [] }  // initiator: the peer's version is still on its way
        return establish(now: now)
    }

    private mutating func establish(now: Double) -> [SessionAction] {
        phase = .established
        establishedAt = now
        lastPingAt = now - min(max(0, settings.firstPingEarly), settings.pingInterval / 2)
        // Our first message went out at `createdAt`; the handshake's last needed answer is one
        // mixnet round trip after it, the link's first round-trip sample.
        sampleRTT(now - createdAt, minimum: false)
        var actions: [SessionAction] = [.established]
        let held = pending
        pending = []
        pendingBytes = 0
        for message in held {
            actions += receiveEstablished(message, now: now)
        }
        return actions
    }

    private mutating func receiveEstablished(_ message: Message, now: Double) -> [SessionAction] {
        switch message {
        case .ping(let nonce):
            return [.send(.pong(nonce: nonce))]
        case .pong(let nonce):
            guard let outstanding = pingNonce, outstanding == nonce else { return [.note(.pongMismatch)] }
            sampleRTT(now - pingSentAt, minimum: true)
            pingNonce = nil
            pingsUnanswered = 0
            return []
        case .getaddr:
            // Answered once per link, and only for peers that dialed us (Bitcoin Core ignores
            // getaddr from outbound peers: it would fingerprint our book to the peer we chose).
            guard role == .responder, !getaddrAnswered else { return [.note(.getaddrIgnored)] }
            getaddrAnswered = true
            return [.deliver(.getaddr)]
        case .addr(let entries):
            let allowed = addrBucket.takeUpTo(entries.count, now: now)
            var actions: [SessionAction] = [.deliver(.addr(Array(entries.prefix(allowed))))]
            if allowed < entries.count { actions.append(.note(.addressesRateLimited(entries.count - allowed))) }
            return actions
        case .object, .custom, .inv, .getdata, .prune, .graft, .syncRanges, .syncGet, .syncObject:
            return [.deliver(message)]
        case .version, .verack, .bye, .reject:
            return []  // handled in `receive`, never held in `pending`
        }
    }

    // MARK: - Our own requests

    /// Asks the peer for addresses (once per link), granting the address bucket room for the answer.
    mutating func requestAddresses() -> [SessionAction] {
        guard isEstablished, !getaddrSent else { return [] }
        getaddrSent = true
        awaitingAddrAnswer = true
        addrBucket.grant(settings.addrGrant)
        return [.send(.getaddr)]
    }

    // MARK: - Timers

    /// Runs the link's timers: handshake timeout, silence timeout, unanswered ping, next ping.
    /// `nonce` is the random nonce to use if a ping is due.
    mutating func tick(now: Double, nonce: UInt64) -> [SessionAction] {
        guard isEstablished else {
            if now - createdAt >= settings.handshakeTimeout {
                return [
                    .close(
                        .timeout, "handshake not complete after \(Int(settings.handshakeTimeout)) s", notify: true,
                        discourage: false)
                ]
            }
            return []
        }
        if now - lastReceived >= settings.peerTimeout {
            return [.close(.timeout, "silent for \(Int(now - lastReceived)) s", notify: true, discourage: false)]
        }
        if let outstanding = pingNonce {
            if now - pingSentAt >= settings.peerTimeout {
                // A peer that keeps talking but never answers pings.
                return [.close(.timeout, "no pong for \(Int(now - pingSentAt)) s", notify: true, discourage: false)]
            }
            // The wait runs from the last send of the ping or the last thing heard, whichever is
            // later: a busy link is not judged on a pong stuck behind its traffic, a dead one
            // falls silent and is.
            let wait = pongWait
            guard now - max(pingResentAt, lastReceived) >= wait else { return [] }
            guard pingsUnanswered < settings.probeAttempts else {
                return [
                    .close(
                        .timeout,
                        "no answer to \(pingsUnanswered) pings, \(Self.format(wait)) s each "
                            + "(round trip about \(Self.format(smoothedRTT ?? 0)) s)",
                        notify: true, discourage: false)
                ]
            }
            // Sent again with the same nonce: a late pong to either copy answers it.
            pingsUnanswered += 1
            pingResentAt = now
            return [.send(.ping(nonce: outstanding))]
        }
        // The initiator probes an idle link; the responder waits half as long again, so on a
        // quiet link only the initiator's pings (and their pongs) flow, and the responder probes
        // only when those stop.
        let silenceLimit = role == .initiator ? settings.silenceProbe : settings.silenceProbe * 1.5
        let silent = now - lastReceived >= silenceLimit
        if silent || now - lastPingAt >= settings.pingInterval {
            pingNonce = nonce
            pingSentAt = now
            pingResentAt = now
            pingsUnanswered = 1
            pingIsProbe = silent && now - lastPingAt < settings.pingInterval
            lastPingAt = now
            return [.send(.ping(nonce: nonce))]
        }
        return []
    }

    /// Pings the peer now (a silence probe) unless a ping is already out: used when something
    /// suggests the link may be dead, such as the same peer opening a new one.
    mutating func probe(now: Double, nonce: UInt64) -> [SessionAction] {
        guard isEstablished, pingNonce == nil else { return [] }
        pingNonce = nonce
        pingSentAt = now
        pingResentAt = now
        pingsUnanswered = 1
        pingIsProbe = true
        lastPingAt = now
        return [.send(.ping(nonce: nonce))]
    }

    /// How long a ping may go unanswered before it is sent again (or, after `probeAttempts`
    /// sends, the link is closed): the RFC 6298 retransmission timeout `srtt + 4 × rttvar` on
    /// the round trips measured on this link, at least `pongWaitMinimum`, at most `peerTimeout`.
    var pongWait: Double {
        let rto = (smoothedRTT ?? settings.pongWaitMinimum) + 4 * rttVariation
        return min(settings.peerTimeout, max(settings.pongWaitMinimum, rto))
    }

    /// The RFC 6298 retransmission timeout `srtt + 4 × rttvar` measured on this link (handshake
    /// and pongs), in seconds, before any floor or ceiling; nil before the first sample.
    var retransmissionTimeout: Double? { roundTrips.timeout }

    /// Folds one round-trip sample into the estimate (RFC 6298 §2: α = 1/8, β = 1/4).
    private mutating func sampleRTT(_ sample: Double, minimum: Bool) {
        let sample = max(0, sample)
        rtt = sample
        if minimum { minimumRTT = min(minimumRTT ?? sample, sample) }
        roundTrips.add(sample)
    }

    static func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    // MARK: - SURBs

    /// How many reply SURBs to attach when a hidden node sends `message` on this link; resets
    /// the count of packets received when it tops up. Zero on other paths.
    mutating func surbs(for message: Message) -> UInt32 {
        guard case .anonymousOutbound = path else { return 0 }
        let policy = settings.surbs
        let used = UInt32(clamping: packetsSinceTopUp)
        switch message {
        case .version:
            return policy.initial
        case .ping:
            packetsSinceTopUp = 0
            // A silence probe returns what the peer spent (at least the SURB for its pong);
            // the periodic ping also refills the peer's stock to `pingMinimum`.
            return min(policy.maximum, max(pingIsProbe ? 1 : policy.pingMinimum, used))
        case .getaddr:
            packetsSinceTopUp = 0
            return min(policy.maximum, max(policy.withGetaddr, used))
        case .syncGet(let ids):
            // One `syncobject` answer per id, each at least one reply packet.
            packetsSinceTopUp = 0
            return min(policy.maximum, max(UInt32(ids.count), used))
        case .syncRanges:
            // An answer is at most ~17 KB: 12 packets.
            packetsSinceTopUp = 0
            return min(policy.maximum, max(12, used))
        default:
            guard packetsSinceTopUp >= policy.topUpThreshold else { return 0 }
            packetsSinceTopUp = 0
            return min(policy.maximum, used)
        }
    }
}
