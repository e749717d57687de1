import NymbusBroker
import NymbusPubSub
import Synchronization

/// The broker's publishes on their way to the topic layer: a bounded FIFO that the broker's
/// event loop can fill without suspending, drained by one task that seals each topic's waiting
/// messages into as few objects as possible.
///
/// Why: a PUBLISH costs a signature and a seal, and on the mixnet a whole packet, when it travels
/// alone. Publishers that send bursts (every pipelining client, and many clients at once) leave
/// messages waiting here while the previous round is sealed, so the next round packs them
/// together (`PubSub.publish(batch:to:)`): natural batching, no timer and no added delay when
/// traffic is light.
///
/// Two ways in:
/// - ``offer(_:)`` takes a run at once or refuses it (full, a waiter ahead, or no peer linked),
///   and never suspends: the broker answers `:n` right away. Those messages can no longer be
///   refused, so it is only allowed while a peer is linked; with one, the topic layer cannot
///   refuse them (sizes and topics were checked before). A loss is still counted, never silent.
/// - ``submit(_:)`` waits for room, and for the topic layer's answer per message, so a refusal
///   (no peer and the held queue full) reaches the client as `-ERR`.
final class PublishQueue: Sendable {
    /// One message: where it goes and what it carries.
    struct Entry: Sendable {
        let topicRef: TopicRef
        let channel: [UInt8]
        let payload: [UInt8]

        var topic: Topic { topicRef.topic }

        init(topic: TopicRef, channel: [UInt8], payload: [UInt8]) {
            self.topicRef = topic
            self.channel = channel
            self.payload = payload
        }

        init(topic: Topic, channel: [UInt8], payload: [UInt8]) {
            self.init(topic: TopicRef(topic), channel: channel, payload: payload)
        }
    }

    /// Where a `submit` waits: the answer per entry, or nil to wait for room and try again.
    typealias Reply = CheckedContinuation<[BrokerBackendError?]?, Never>

    /// A run taken from the queue, with whoever waits for its answers.
    struct Round: Sendable {
        var entries: [Entry]
        /// For each `submit` in the round: the range of its entries and its waiter.
        var replies: [(range: Range<Int>, reply: Reply)]
    }

    private struct State {
        var round = Round(entries: [], replies: [])
        var bytes = 0
        var linked = false
        var closed = false
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        var drainer: CheckedContinuation<Round?, Never>?
    }

    /// Most messages and payload bytes waiting; a single run larger than this is still taken
    /// when the queue is empty.
    let maxMessages: Int
    let maxBytes: Int
    private let state = Mutex(State())

    init(maxMessages: Int = 8192, maxBytes: Int = 1024 * 1024) {
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
    }

    /// Messages waiting to be sealed.
    var waiting: Int { state.withLock { $0.round.entries.count } }

    /// Whether a peer is linked (the node reports changes); while not, ``offer(_:)`` refuses.
    func setLinked(_ linked: Bool) {
        state.withLock { $0.linked = linked }
    }

    /// Takes `entries` without waiting, or refuses them all (returns false).
    func offer(_ entries: [Entry]) -> Bool {
        let bytes = Self.payloadBytes(entries)
        let (accepted, drainer) = state.withLock { state -> (Bool, CheckedContinuation<Round?, Never>?) in
            guard state.linked, !state.closed, state.roomWaiters.isEmpty,
                hasRoom(state, count: entries.count, bytes: bytes)
            else {
                return (false, nil)
            }
            append(&state, entries, bytes: bytes)
            return (true, takeDrainer(&state))
        }
        drainer?.resume(returning: takeRound())
        return accepted
    }

    /// Queues `entries` once there is room and returns the topic layer's answer for each.
    func submit(_ entries: [Entry]) async -> [BrokerBackendError?] {
        let bytes = Self.payloadBytes(entries)
        while true {
            let outcome = await withCheckedContinuation { (reply: Reply) in
                let (decision, drainer) = state.withLock { state -> (Bool?, CheckedContinuation<Round?, Never>?) in
                    if state.closed { return (nil, nil) }
                    guard hasRoom(state, count: entries.count, bytes: bytes) else { return (false, nil) }
                    let start = state.round.entries.count
                    append(&state, entries, bytes: bytes)
                    state.round.replies.append((start..<state.round.entries.count, reply))
                    return (true, takeDrainer(&state))
                }
                switch decision {
                case nil: reply.resume(returning: entries.map { _ in BrokerBackendError(.unavailable, "the node is stopping") })
                case false?: reply.resume(returning: nil)
                case true?: drainer?.resume(returning: takeRound())
                }
            }
            if let outcome { return outcome }
            await withCheckedContinuation { (room: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.closed || hasRoom(state, count: entries.count, bytes: bytes) { return true }
                    state.roomWaiters.append(room)
                    return false
                }
                if now { room.resume() }
            }
        }
    }

    /// Waits for the next round of messages; nil once the queue is closed and empty.
    func next() async -> Round? {
        await withCheckedContinuation { (drainer: CheckedContinuation<Round?, Never>) in
            let ready = state.withLock { state -> Bool in
                if !state.round.entries.isEmpty || !state.round.replies.isEmpty || state.closed { return true }
                state.drainer = drainer
                return false
            }
            if ready { drainer.resume(returning: takeRound()) }
        }
    }

    /// Refuses everything from now on; the drainer gets what is left, then nil.
    func close() {
        let (waiters, drainer) = state.withLock { state in
            state.closed = true
            let waiters = state.roomWaiters
            state.roomWaiters.removeAll()
            let drainer = state.drainer
            state.drainer = nil
            return (waiters, drainer)
        }
        for waiter in waiters { waiter.resume() }
        drainer?.resume(returning: takeRound())
    }

    // MARK: - Inside the lock

    private func hasRoom(_ state: State, count: Int, bytes: Int) -> Bool {
        state.round.entries.isEmpty
            || (state.round.entries.count + count <= maxMessages && state.bytes + bytes <= maxBytes)
    }

    private func append(_ state: inout State, _ entries: [Entry], bytes: Int) {
        state.round.entries.append(contentsOf: entries)
        state.bytes += bytes
    }

    /// Payload bytes of `entries`, counted once per call, outside the lock.
    private static func payloadBytes(_ entries: [Entry]) -> Int {
        entries.reduce(0) { $0 + $1.payload.count }
    }

    private func takeDrainer(_ state: inout State) -> CheckedContinuation<Round?, Never>? {
        defer { state.drainer = nil }
        return state.drainer
    }

    /// Takes everything queued (nil when closed and empty) and wakes those waiting for room.
    private func takeRound() -> Round? {
        let (round, waiters) = state.withLock { state -> (Round?, [CheckedContinuation<Void, Never>]) in
            if state.round.entries.isEmpty && state.round.replies.isEmpty {
                return (state.closed ? nil : Round(entries: [], replies: []), [])
            }
            let round = state.round
            state.round = Round(entries: [], replies: [])
            state.bytes = 0
            let waiters = state.roomWaiters
            state.roomWaiters.removeAll()
            return (round, waiters)
        }
        for waiter in waiters { waiter.resume() }
        return round
    }
}
