/// The sample of the address book that answers every `getaddr` until it expires.
///
/// Bitcoin Core (PR #18991) answers `getaddr` from a cache remade only every 21–27 h, so a spy
/// that opens many links gets the same sample on each and cannot piece the whole book together.
/// We keep one cache per node. It holds one entry more than an answer gives: the requester's own
/// address is never sent back to it, and the spare entry fills its place, so every answer has
/// the same size and all answers together reveal only `maximum + 1` entries.
///
/// A sample that held **every** eligible entry when it was made (a young book, given whole
/// anyway) hides nothing, so it is `complete` and remade on the next request: the seed of a
/// new network keeps handing out its growing book instead of the few entries it had at first.
struct GetaddrCache: Sendable {
    /// The cached entries, in a random order.
    let entries: [AddressBookEntry]
    /// Entries one answer gives (the cache holds up to one more).
    let maximum: Int
    /// When the cache expires, in the node's monotonic seconds.
    let expires: Double
    /// True if `entries` is everything that was eligible: nothing hidden, so remade on demand.
    let complete: Bool

    /// Makes a cache from `pool` (every eligible entry, shuffled) for answers of `maximum` entries.
    init(pool: [AddressBookEntry], maximum: Int, expires: Double) {
        let kept = max(0, maximum)
        self.entries = Array(pool.prefix(kept + 1))
        self.maximum = kept
        self.expires = expires
        self.complete = pool.count <= kept + 1
    }

    /// Whether the cache must be remade before answering at `now`.
    func isStale(now: Double) -> Bool { complete || now >= expires }

    /// The answer for a requester: the first `maximum` cached entries that pass `include`
    /// (which leaves out the requester's own address and anything discouraged since).
    func answer(including include: (AddressBookEntry) -> Bool) -> [AddressBookEntry] {
        Array(entries.lazy.filter(include).prefix(maximum))
    }
}
