public import NymbusCrypto
public import NymbusWire

/// Everything that shapes a node's behaviour. The defaults are the production numbers
/// (spec/node.md says where each comes from); tests shorten the timers.
public struct NodeConfiguration: Sendable {
    /// Whether this node gives out its address.
    public enum Mode: String, Sendable, Hashable {
        /// `version` carries our Nym address; links use plain `send`; we accept inbound links.
        case visible
        /// Maximum anonymity: no address anywhere, `sendAnonymous` with SURBs, no inbound links.
        case hidden
    }

    /// How a hidden node feeds SURBs to the peers it dials.
    ///
    /// Every reply packet the peer sends us costs it one SURB, and nym-client keeps a reserve of
    /// 10 it never spends on data (NYM-CLIENT.md §5.2). So `version` carries the reserve plus
    /// room for the handshake answers, and the node then returns as many SURBs as the peer used:
    /// each ping carries at least `pingMinimum`, or the number of packets received from that
    /// peer since the last top-up, capped at `maximum`.
    public struct SURBPolicy: Sendable, Hashable {
        /// SURBs sent with `version`: 10 reserve + ~10 answers (version, verack, addr, pong...).
        public var initial: UInt32 = 20
        /// SURBs sent with every ping, at least.
        public var pingMinimum: UInt32 = 10
        /// SURBs sent with `getaddr`, for the `addr` answer (up to 1000 × 108 B ≈ 68 packets).
        public var withGetaddr: UInt32 = 40
        /// Any other message tops up once this many packets arrived since the last top-up.
        public var topUpThreshold: Int = 10
        /// The most SURBs one message carries (each is ~1.2 KB of upload).
        public var maximum: UInt32 = 100

        public init() {}
    }

    /// Visible or hidden.
    public var mode: Mode = .visible
    /// Where the address book and the discouragement list live; nil keeps them in memory only.
    public var dataDirectory: String?
    /// Nym addresses dialed first and remembered in the book.
    public var bootstrap: [Recipient] = []
    /// Outbound links the node keeps open (Bitcoin Core: 8 full-relay outbound).
    public var outboundTarget = 8
    /// Most inbound links (Bitcoin Core: 125 total, minus outbound; we need far fewer).
    public var inboundMax = 64
    /// Time between pings on a link (Bitcoin Core: 2 min).
    public var pingInterval: Duration = .seconds(120)
    /// A link silent this long is dropped whatever else happens (Bitcoin Core: 20 min); the
    /// silence probe below normally ends a dead link long before.
    public var peerTimeout: Duration = .seconds(20 * 60)
    /// A link from which nothing arrived for this long is probed with a ping (the responder
    /// waits 1.5 times as long, so an idle link carries only the initiator's pings). Traffic of
    /// any kind counts as a sign of life, so busy links are never probed.
    public var silenceProbe: Duration = .seconds(30)
    /// The least time a probe waits for its pong; otherwise the link's measured round trip
    /// decides (RFC 6298: smoothed RTT + 4 × its variation).
    public var pongWaitMinimum: Duration = .seconds(5)
    /// Pings sent (the first and its repeats) without an answer before the link is closed.
    public var probeAttempts = 2
    /// A lost outbound link is dialed again after this (then with doubling backoff while dials
    /// fail), and so are bootstrap addresses and the peers of the last run.
    public var relinkDelay: Duration = .seconds(1)
    /// The longest backoff between two redials of one address.
    public var relinkMaximumDelay: Duration = .seconds(300)
    /// A handshake must complete within this (Bitcoin Core: 60 s; a Nym round trip is ~1-2 s).
    public var handshakeTimeout: Duration = .seconds(60)
    /// How often timers are checked and missing outbound links are dialed.
    public var maintenanceInterval: Duration = .seconds(1)
    /// A book address is not dialed again sooner than this after a try (Bitcoin Core's 10 min
    /// "recently tried" window).
    public var redialDelay: Duration = .seconds(600)
    /// A node below its outbound target with no address left to dial opens, at most this often,
    /// a short "address fetch" link to a bootstrap or connected peer: `getaddr`, then `bye`
    /// (Bitcoin Core's addr-fetch connections, used when its book is empty after 60 s).
    public var addressFetchInterval: Duration = .seconds(60)
    /// How often the book is written to disk (Bitcoin Core: 15 min), besides at `stop()`.
    public var bookSaveInterval: Duration = .seconds(15 * 60)
    /// A changed book is written this long after the change at the latest (debounced: one
    /// write per delay however many changes), so a crash loses at most this much of it.
    public var bookSaveDelay: Duration = .seconds(3)
    /// How long a misbehaving address or tag is refused (Bitcoin Core bans: 24 h).
    public var discouragementDuration: Duration = .seconds(24 * 3600)
    /// Addresses accepted per second per link (Bitcoin Core: 0.1).
    public var addrRate: Double = 0.1
    /// The address token bucket's size and starting level (Bitcoin Core: 1000, starts at 1).
    public var addrBurst: Double = 1000
    /// Tokens granted when we send `getaddr`, so the answer is not rate limited (Bitcoin Core: 1000).
    public var addrGrantOnGetaddr: Double = 1000
    /// Share of the book in a `getaddr` answer (Bitcoin Core: 23 %).
    public var getaddrShare: Double = 0.23
    /// Entries a small book gives anyway (23 % of 20 is 4, too few for a young network).
    public var getaddrMinimum = 32
    /// The `getaddr` answer is a sample made once and given to every requester until it expires,
    /// this long after it was made plus a random part of `getaddrCacheJitter` (Bitcoin Core
    /// PR #18991: 21 h + up to 6 h), so opening many links cannot scrape the whole book.
    public var getaddrCacheLifetime: Duration = .seconds(21 * 3600)
    /// The random extra lifetime of a `getaddr` sample (uniform in 0..<jitter).
    public var getaddrCacheJitter: Duration = .seconds(6 * 3600)
    /// Most entries in a `getaddr` answer (Bitcoin Core: 1000, also the wire limit).
    public var getaddrMaximum = 1000
    /// Peers a fresh address is relayed to (Bitcoin Core: 2).
    public var addrRelayFanout = 2
    /// Only `addr` messages with at most this many entries are relayed (Bitcoin Core: 10).
    public var addrRelayMaxEntries = 10
    /// Only addresses seen this recently are relayed (Bitcoin Core: 10 min).
    public var addrRelayFreshness: Duration = .seconds(600)
    /// Mixnet packets per second a link may send us on average. One nym-client sends at most
    /// ~50 packets/s (~250 in `--fastmode`) over all its links together, so an honest peer at full
    /// speed stays far below this; only a flood (or a peer with no pacing at all) reaches it.
    public var packetRate: Double = 500
    /// Packets a link may send us at once: 200 s of a nym-client's whole output at full speed.
    public var packetBurst: Double = 10_000
    /// Packets of one link nym-client may hold in its lane; more wait in the node's outbox
    /// (`LaneQueueLength` is the signal). Small, so control messages overtake objects and a closed
    /// link leaves little behind; large enough that the Poisson sender never idles for lack of it.
    public var laneWindow = 8
    /// Object packets per established link that may wait in the outboxes before this node's own
    /// publishers wait for room (`waitForSendRoom()`): about a second of a nym-client's output
    /// per link, so a burst is smoothed without adding much latency.
    public var linkQueuePackets = 64
    /// Object packets that may wait in one link's outbox; an object past it is refused for that
    /// link (counted; repair offers it later). Well above `linkQueuePackets`, so only a link that
    /// drains far slower than the others (or relaying faster than the link carries) gets here.
    public var linkQueueLimitPackets = 256
    /// How often a node asks nym-client about a full lane that still has messages waiting.
    public var lanePollInterval: Duration = .milliseconds(20)
    /// Messages held per session while its handshake completes (the mixnet reorders).
    public var pendingLimit = 8
    /// Bytes held per session while its handshake completes (bounds 64 half-open links to 16 MiB).
    public var pendingByteLimit = 256 * 1024
    /// SURB budget for hidden links.
    public var surbs = SURBPolicy()
    /// Sent in `version`; a fingerprint, so short and shared by all Nymbus nodes of a release.
    public var userAgent = "/nymbus:0.1/"
    /// Decoding limits.
    public var wireLimits = WireLimits.default
    /// Address book table sizes.
    public var bookLimits = AddressBookLimits.default
    /// If true, a corrupt book is moved aside, logged, and the node starts with an empty book;
    /// if false (the default), `start()` throws `NodeError.corruptAddressBook` after moving it aside.
    public var continueWithCorruptAddressBook = false
    /// The same for the discouragement list (`NodeError.corruptDiscouragementList`).
    public var continueWithCorruptDiscouragementList = false
    /// The clocks the node reads (`.system`; tests inject manual time).
    public var clock = NodeClock.system

    /// The defaults, in the given mode.
    public init(mode: Mode = .visible) {
        self.mode = mode
    }

    /// Throws `NodeError.invalidConfiguration` naming the first field out of its range and the
    /// values it may take (``FieldCheck``). `Node.start()` calls it.
    public func validate() throws(NodeError) {
        let check = FieldCheck<NodeError>("NodeConfiguration", .invalidConfiguration)
        try check.within("outboundTarget", outboundTarget, 0...Self.maxLinks)
        try check.within("inboundMax", inboundMax, 0...Self.maxLinks)
        try check.above("pingInterval", pingInterval, .zero)
        try check.above("peerTimeout", peerTimeout, .zero)
        try check.above("silenceProbe", silenceProbe, .zero)
        try check.atLeast("pongWaitMinimum", pongWaitMinimum, .zero)
        try check.atLeast("probeAttempts", probeAttempts, 1)
        try check.above("relinkDelay", relinkDelay, .zero)
        try check.atLeast("relinkMaximumDelay", relinkMaximumDelay, relinkDelay)
        try check.above("handshakeTimeout", handshakeTimeout, .zero)
        try check.above("maintenanceInterval", maintenanceInterval, .zero)
        try check.atLeast("redialDelay", redialDelay, .zero)
        try check.above("addressFetchInterval", addressFetchInterval, .zero)
        try check.above("bookSaveInterval", bookSaveInterval, .zero)
        try check.atLeast("bookSaveDelay", bookSaveDelay, .zero)
        try check.atLeast("discouragementDuration", discouragementDuration, .zero)
        try check.atLeast("addrRate", addrRate, 0)
        try check.atLeast("addrBurst", addrBurst, 1)
        try check.atLeast("addrGrantOnGetaddr", addrGrantOnGetaddr, 0)
        try check.within("getaddrShare", getaddrShare, 0...1)
        try check.atLeast("getaddrMinimum", getaddrMinimum, 0)
        try check.above("getaddrCacheLifetime", getaddrCacheLifetime, .zero)
        try check.atLeast("getaddrCacheJitter", getaddrCacheJitter, .zero)
        try check.within("getaddrMaximum", getaddrMaximum, 0...wireLimits.maxAddrEntries)
        try check.atLeast("addrRelayFanout", addrRelayFanout, 0)
        try check.atLeast("addrRelayMaxEntries", addrRelayMaxEntries, 0)
        try check.atLeast("addrRelayFreshness", addrRelayFreshness, .zero)
        try check.above("packetRate", packetRate, 0)
        try check.atLeast("packetBurst", packetBurst, 1)
        try check.atLeast("laneWindow", laneWindow, 1)
        try check.atLeast("linkQueuePackets", linkQueuePackets, 1)
        try check.atLeast("linkQueueLimitPackets", linkQueueLimitPackets, 1)
        try check.above("lanePollInterval", lanePollInterval, .zero)
        try check.atLeast("pendingLimit", pendingLimit, 0)
        try check.atLeast("pendingByteLimit", pendingByteLimit, 0)
        try check.atLeast("surbs.maximum", surbs.maximum, 1)
        try check.within("surbs.initial", surbs.initial, 1...surbs.maximum)
        try check.within("surbs.pingMinimum", surbs.pingMinimum, 0...surbs.maximum)
        try check.within("surbs.withGetaddr", surbs.withGetaddr, 0...surbs.maximum)
        try check.atLeast("surbs.topUpThreshold", surbs.topUpThreshold, 1)
        try check.require(
            userAgent.utf8.count <= wireLimits.maxUserAgent, "userAgent", "\(userAgent.utf8.count) bytes",
            allowed: "at most \(wireLimits.maxUserAgent) bytes")
    }

    /// The most links of either direction a node may be set to keep (1024: each link costs
    /// state, keepalive traffic and a share of one nym-client's ~50 packets/s).
    public static let maxLinks = 1024
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
