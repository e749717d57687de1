import NymbusWire

/// Which inbound link to close when a new one arrives and inbound links are at `inboundMax`.
///
/// A simplified form of Bitcoin Core's `SelectNodeToEvict` (src/node/eviction.cpp). Core first
/// protects peers an attacker cannot cheaply imitate: distinct network groups, the lowest ping
/// times, peers that recently relayed transactions or blocks, and the longest-connected half of
/// the rest; then it evicts the newest peer of the largest remaining group. We have no IP groups
/// and no relay history here, so:
///
/// 1. protect the quarter of all inbound links with the best (lowest) round trip measured by our
///    pings (links with no measured round trip are not protected by this rule);
/// 2. of the rest, protect the half that has been connected the longest;
/// 3. evict the newest of what remains.
///
/// So an attacker who fills the inbound slots cannot keep out newcomers for good, and cannot
/// push out the honest peers that have been there long or answer fast: each new link it opens
/// replaces the newest unprotected link, usually its own previous one. With no link left to
/// evict (only when `inboundMax` is 0) the newcomer is refused.
enum InboundEviction {
    /// One inbound link, as eviction sees it.
    struct Candidate: Equatable, Sendable {
        /// The link.
        let id: SessionID
        /// When the link was opened (monotonic seconds).
        let connectedAt: Double
        /// The lowest ping round trip measured on it, in seconds, if any.
        let minimumRTT: Double?
    }

    /// The link to evict, or nil if every link is protected.
    static func select(from candidates: [Candidate]) -> SessionID? {
        // Deterministic order for equal times: by session id bytes.
        func older(_ a: Candidate, _ b: Candidate) -> Bool {
            if a.connectedAt != b.connectedAt { return a.connectedAt < b.connectedAt }
            return a.id.bytes.lexicographicallyPrecedes(b.id.bytes)
        }
        let fastCount = candidates.count / 4
        let fastest = candidates.filter { $0.minimumRTT != nil }
            .sorted { a, b in
                let (x, y) = (a.minimumRTT ?? .infinity, b.minimumRTT ?? .infinity)
                return x != y ? x < y : older(a, b)
            }
            .prefix(fastCount)
        let fastIDs = Set(fastest.map(\.id))
        let rest = candidates.filter { !fastIDs.contains($0.id) }.sorted(by: older)
        let unprotected = rest.dropFirst(rest.count / 2)
        return unprotected.last?.id
    }
}
