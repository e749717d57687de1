import NymbusCrypto

/// The addresses a node below its outbound target dials again on its own, with backoff:
/// its bootstrap addresses, the peers it was linked to when it last ran, and every peer whose
/// outbound link was lost (spec/node.md §7, "Relinking").
///
/// Why: the address book does not redial an address tried in the last 10 minutes
/// (`redialDelay`), and a hidden node has nobody who would dial it. Without this list a node
/// whose peers all restarted sat at zero peers, with live addresses in its book, until the
/// redial delay passed (or forever, if each address fetch came back empty).
///
/// A pure value, at most `capacity` addresses: times are seconds on the node's monotonic clock. An address is due
/// `base × 2^failures` seconds (× a random 0.5–1.5, capped at `maximum`) after its last loss
/// or failed dial; a link lost after its handshake completed starts again at no failures.
/// Addresses other than bootstrap ones leave after `maximumFailures` failed dials in a row
/// (the book still has them); bootstrap addresses are tried forever at the capped interval.
struct RedialSchedule: Sendable {
    struct Entry: Sendable, Equatable {
        var failures: Int
        var due: Double
        var bootstrap: Bool
    }

    /// Delay before the first redial after a lost link, in seconds.
    let base: Double
    /// Longest delay between two dials of one address, in seconds.
    let maximum: Double
    /// Failed dials in a row after which a non-bootstrap address is left to the book.
    let maximumFailures: Int
    /// Most addresses held; a new non-bootstrap address is not added when full.
    let capacity: Int
    private var entries: [Recipient: Entry] = [:]

    init(base: Double = 1, maximum: Double = 300, maximumFailures: Int = 10, capacity: Int = 256) {
        self.base = base
        self.maximum = maximum
        self.maximumFailures = maximumFailures
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The entry for `address`, if it is scheduled.
    func entry(_ address: Recipient) -> Entry? { entries[address] }

    /// Adds a bootstrap address, due at once (kept forever).
    mutating func addBootstrap(_ address: Recipient, now: Double) {
        entries[address] = Entry(failures: 0, due: now, bootstrap: true)
    }

    /// Adds an address to try at once (a peer of the last run), unless it is scheduled already.
    mutating func addKnown(_ address: Recipient, now: Double) {
        guard entries[address] == nil, entries.count < capacity else { return }
        entries[address] = Entry(failures: 0, due: now, bootstrap: false)
    }

    /// An established outbound link to `address` ended: dial it again after `base` seconds.
    mutating func lost(_ address: Recipient, now: Double, jitter: Double) {
        guard entries[address] != nil || entries.count < capacity else { return }
        let bootstrap = entries[address]?.bootstrap ?? false
        entries[address] = Entry(failures: 0, due: now + base * jitter, bootstrap: bootstrap)
    }

    /// A dial of `address` failed before its handshake completed: back off (only for addresses
    /// this schedule holds; the book keeps its own failure counts).
    mutating func failed(_ address: Recipient, now: Double, jitter: Double) {
        guard var entry = entries[address] else { return }
        entry.failures += 1
        if !entry.bootstrap, entry.failures >= maximumFailures {
            entries[address] = nil
            return
        }
        let delay = min(maximum, base * Double(1 << min(entry.failures, 30)))
        entry.due = now + min(maximum, delay * jitter)
        entries[address] = entry
    }

    /// The handshake with `address` completed: its failures are forgiven, and it is not due
    /// while the link lasts (`lost` schedules it again).
    mutating func linked(_ address: Recipient) {
        guard var entry = entries[address] else { return }
        guard entry.bootstrap else {
            entries[address] = nil
            return
        }
        entry.failures = 0
        entry.due = .infinity
        entries[address] = entry
    }

    /// Never dial `address` again (it is ourselves, hidden, or discouraged).
    mutating func forget(_ address: Recipient) { entries[address] = nil }

    /// Addresses due at `now`, the earliest first.
    func due(now: Double) -> [Recipient] {
        entries.filter { $0.value.due <= now }.sorted { $0.value.due < $1.value.due }.map(\.key)
    }
}
