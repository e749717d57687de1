import NymbusCrypto
import NymbusWire

/// The bookkeeping of catch-up sync, pure: reconciliations this node runs (as initiator), ids it
/// wants and from whom, and each peer's budgets as a responder. `PubSub+Sync.swift` carries out
/// what it decides.
struct SyncState<Peer: Hashable & Sendable>: Sendable {
    struct Session: Sendable {
        var round: UInt16
        var sentAt: Int64
        let windowStart: UInt32
        var restarts = 0
    }

    struct Want: Sendable {
        var peer: Peer
        var askedAt: Int64?
        var attempts = 0
    }

    let settings: SyncSettings
    /// Reconciliations in progress, by peer.
    private(set) var sessions: [Peer: Session] = [:]
    /// Ids wanted (asked or waiting to be asked), with the peer that listed them.
    private(set) var wanted: [MessageID: Want] = [:]
    /// Ids waiting to be asked, per peer, in the order they were learned.
    private var queued: [Peer: [MessageID]] = [:]
    private var inFlight: [Peer: Int] = [:]
    /// When each peer last answered an id asked of it: while answers keep coming, the rest of a
    /// long request is on its way (paced by the peer's link and nym-client), not lost.
    private var lastAnswer: [Peer: Int64] = [:]
    /// What this node may still ask of each peer: the peers' serving budget (same defaults), so
    /// a long catch-up is paced by the asker instead of refused by the responder.
    private var askBudgets: [Peer: SyncBudget] = [:]
    private var questionBudgets: [Peer: SyncBudget] = [:]
    private var serveBudgets: [Peer: SyncBudget] = [:]
    var stats = SyncStatistics()

    init(settings: SyncSettings) { self.settings = settings }

    /// Records a new reconciliation with `peer` whose first message is `first`; returns it.
    mutating func begin(with peer: Peer, windowStart: UInt32, first: [SyncRange], now: Int64) -> SyncRanges {
        let restarts = sessions[peer].map { $0.restarts + 1 } ?? 0
        sessions[peer] = Session(round: 1, sentAt: now, windowStart: windowStart, restarts: restarts)
        stats.sessionsStarted += 1
        return SyncRanges(round: 1, isReply: false, ranges: first)
    }

    /// The session a reply from `peer` with `round` belongs to, if it is the one awaited.
    func session(for peer: Peer, round: UInt16) -> Session? {
        guard let session = sessions[peer], session.round == round else { return nil }
        return session
    }

    /// The initiator's next message after a reply: nil when done (or out of rounds).
    mutating func advance(with peer: Peer, next: [SyncRange], now: Int64) -> SyncRanges? {
        guard var session = sessions[peer] else { return nil }
        guard !next.isEmpty, Int(session.round) < settings.maxRounds else {
            sessions[peer] = nil
            if next.isEmpty { stats.sessionsCompleted += 1 }
            return nil
        }
        session.round += 1
        session.sentAt = now
        sessions[peer] = session
        return SyncRanges(round: session.round, isReply: false, ranges: next)
    }

    /// Sessions whose round went unanswered: their peers, to start again (a few times).
    mutating func stalled(now: Int64) -> [Peer] {
        var out: [Peer] = []
        for (peer, session) in sessions where now - session.sentAt >= settings.roundTimeout.wholeSeconds {
            if session.restarts < 2 {
                out.append(peer)
            } else {
                sessions[peer] = nil
            }
        }
        return out
    }

    /// Ids `peer` listed that this node lacks (`known` says which it has): queued to ask.
    mutating func need(_ ids: [MessageID], from peer: Peer, known: (MessageID) -> Bool) {
        for id in ids where wanted[id] == nil && !known(id) {
            wanted[id] = Want(peer: peer)
            queued[peer, default: []].append(id)
        }
    }

    /// The next `syncget` lists for `peer` (each ≤ the wire's 500 ids), within its in-flight cap.
    mutating func asks(for peer: Peer, now: Int64, perMessage: Int) -> [[MessageID]] {
        var room = settings.maxInFlightPerPeer - inFlight[peer, default: 0]
        guard room > 0, var list = queued[peer], !list.isEmpty else { return [] }
        // Ids answered meanwhile (a late answer to an earlier request) are no longer asked.
        list.removeAll { wanted[$0] == nil || wanted[$0]?.askedAt != nil }
        var budget = askBudgets[peer] ?? SyncBudget(burst: settings.serveBurst, rate: settings.servedPerSecond, now: now)
        room = budget.take(upTo: min(room, list.count), now: now)
        askBudgets[peer] = budget
        guard room > 0 else {
            queued[peer] = list.isEmpty ? nil : list
            return []
        }
        var out: [[MessageID]] = []
        var taken = 0
        while room > 0, taken < list.count {
            let n = min(room, perMessage, list.count - taken)
            let ids = Array(list[taken..<taken + n])
            for id in ids {
                wanted[id]?.askedAt = now
                wanted[id]?.attempts += 1
            }
            out.append(ids)
            taken += n
            room -= n
        }
        list.removeFirst(taken)
        queued[peer] = list.isEmpty ? nil : list
        inFlight[peer, default: 0] += taken
        stats.getsSent += out.count
        stats.idsAsked += taken
        return out
    }

    /// Whether `id` was asked for at least once and is still wanted (so an answer carrying it is
    /// welcome, also a late one for an id queued to be asked again).
    func isWanted(_ id: MessageID) -> Bool { (wanted[id]?.attempts ?? 0) > 0 }

    /// An answer for `id` arrived (used or not) at `now`: it is no longer wanted, and the peer
    /// it was asked of is answering.
    mutating func answered(_ id: MessageID, now: Int64? = nil) {
        guard let want = wanted.removeValue(forKey: id) else { return }
        if want.askedAt != nil { inFlight[want.peer] = max(0, inFlight[want.peer, default: 0] - 1) }
        if let now, want.askedAt != nil { lastAnswer[want.peer] = max(lastAnswer[want.peer] ?? now, now) }
    }

    /// Ids whose request timed out are queued again on a peer still linked (or given up after
    /// `maxAttempts`); returns the peers with something queued. A request times out
    /// `requestTimeout` after it was sent or after the peer last answered one of its ids,
    /// whichever is later: asking again what a peer is still sending only brings it twice (under
    /// two test suites at once, 9 of 60 ids were asked again and came twice).
    mutating func retry(now: Int64, peers: [Peer]) -> [Peer] {
        let linked = Set(peers)
        for (id, want) in wanted {
            let timedOut =
                want.askedAt.map { now - max($0, lastAnswer[want.peer] ?? $0) >= settings.requestTimeout.wholeSeconds }
                ?? false
            let orphan = !linked.contains(want.peer)
            guard timedOut || orphan else { continue }
            if want.askedAt != nil { inFlight[want.peer] = max(0, inFlight[want.peer, default: 0] - 1) }
            if orphan { queued[want.peer]?.removeAll { $0 == id } }
            guard want.attempts < settings.maxAttempts, let target = linked.contains(want.peer) ? want.peer : peers.first
            else {
                wanted[id] = nil
                stats.gaveUp += 1
                continue
            }
            if want.askedAt == nil, !orphan { continue }  // still queued where it was
            wanted[id] = Want(peer: target, askedAt: nil, attempts: want.attempts)
            queued[target, default: []].append(id)
        }
        for peer in queued.keys where !linked.contains(peer) { queued[peer] = nil }
        return queued.keys.filter { linked.contains($0) }
    }

    /// A peer left: its session ends (its wanted ids move on at the next `retry`).
    mutating func peerGone(_ peer: Peer) {
        sessions[peer] = nil
        lastAnswer[peer] = nil
        askBudgets[peer] = nil
        questionBudgets[peer] = nil
        serveBudgets[peer] = nil
    }

    /// Whether `peer` may have one more question answered now.
    mutating func allowQuestion(from peer: Peer, now: Int64) -> Bool {
        var budget = questionBudgets[peer] ?? SyncBudget(burst: settings.questionBurst, rate: settings.questionsPerSecond, now: now)
        let granted = budget.take(upTo: 1, now: now)
        questionBudgets[peer] = budget
        return granted == 1
    }

    /// How many of `n` asked objects `peer` may be served now.
    mutating func allowServe(_ n: Int, to peer: Peer, now: Int64) -> Int {
        var budget = serveBudgets[peer] ?? SyncBudget(burst: settings.serveBurst, rate: settings.servedPerSecond, now: now)
        let granted = budget.take(upTo: n, now: now)
        serveBudgets[peer] = budget
        return granted
    }

    /// Ids wanted now (asked or queued).
    var wantedCount: Int { wanted.count }
}
