import NymbusWire

/// Where recently closed links went, so the node can say "this link is closed" again when a
/// peer keeps using one.
///
/// Why: a `bye` can be lost like any message. An initiator whose last handshake `verack` was
/// lost, and which then missed the responder's `bye(timeout)`, believes in a link the other side
/// closed, and would only notice at its next silence probe. Answering its next
/// message on that link with the `bye` again ends the half-open link at once. At most one
/// reminder per link per ``reminderInterval``, and only along the path the link already used:
/// one message in gives at most one message out, never more.
struct ClosedLinks: Sendable {
    struct Entry: Sendable {
        let path: PeerPath
        let code: ReasonCode
        var lastReminder: Double?
    }

    /// Least time between two reminders on one link, in seconds.
    let reminderInterval: Double
    /// The links remembered; the oldest are forgotten first.
    private var entries: BoundedMap<SessionID, Entry>

    init(capacity: Int = 1024, reminderInterval: Double = 60) {
        self.entries = BoundedMap(capacity: capacity)
        self.reminderInterval = reminderInterval
    }

    var count: Int { entries.count }

    /// Remembers that the link `id`, on `path`, was closed with `code`.
    mutating func closed(_ id: SessionID, path: PeerPath, code: ReasonCode) {
        guard entries[id] == nil else { return }
        entries[id] = Entry(path: path, code: code, lastReminder: nil)
    }

    /// The path the closed link `id` used, if it is remembered.
    func path(of id: SessionID) -> PeerPath? { entries[id]?.path }

    /// A message arrived on the closed link `id` at `now` (seconds): where to send a reminder
    /// `bye` and with which code, or nil (unknown link, or reminded less than an interval ago).
    mutating func reminder(for id: SessionID, now: Double) -> (path: PeerPath, code: ReasonCode)? {
        guard var entry = entries[id] else { return nil }
        if let last = entry.lastReminder, now - last < reminderInterval { return nil }
        entry.lastReminder = now
        entries[id] = entry
        return (entry.path, entry.code)
    }
}
