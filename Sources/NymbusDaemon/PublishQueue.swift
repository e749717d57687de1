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
/// What enters is accepted for good: the topic layer behind it never refuses a message for want
/// of room; it makes the drainer wait (for room in the links' queues, or for a peer). So the
/// queue fills up when the node cannot take more, and then a publisher waits in
/// ``enqueue(_:)`` — the broker stops reading its socket meanwhile — instead of being answered
/// and dropped (spec/broker.md §9).
final class PublishQueue: Sendable {
    /// One message: where it goes and what it carries.
    struct Entry: Sendable {
        let topicRef: TopicRef
        let channel: [UInt8]
        let payload: [UInt8]
        /// The broker connection that published it (its order is kept per topic).
        let publisher: UInt64

        var topic: Topic { topicRef.topic }

        init(topic: TopicRef, channel: [UInt8], payload: [UInt8], publisher: UInt64 = 0) {
            self.topicRef = topic
            self.channel = channel
            self.payload = payload
            self.publisher = publisher
        }

        init(topic: Topic, channel: [UInt8], payload: [UInt8], publisher: UInt64 = 0) {
            self.init(topic: TopicRef(topic), channel: channel, payload: payload, publisher: publisher)
        }
    }

    private struct State {
        var entries: [Entry] = []
        var bytes = 0
        var closed = false
        /// Publishers waiting for room, in arrival order; each is let in ahead of new offers.
        var roomWaiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var waiting = 0
        var nextWaiterID: UInt64 = 0
        var drainer: CheckedContinuation<[Entry]?, Never>?
    }

    /// Most messages and payload bytes waiting; a single run larger than this is still taken
    /// when the queue is empty.
    let maxMessages: Int
    let maxBytes: Int
    private let state = Mutex(State())

    init(maxMessages: Int = 2048, maxBytes: Int = 256 * 1024) {
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
    }

    /// Messages waiting to be sealed.
    var waiting: Int { state.withLock { $0.entries.count } }

    /// Publishers waiting for room.
    var publishersWaiting: Int { state.withLock { $0.waiting } }

    /// Takes `entries` without waiting if there is room and nobody waits for it already.
    func offer(_ entries: [Entry]) -> Bool {
        take(entries, asWaiter: false)
    }

    /// Takes `entries` once there is room; false only once the queue is closed. `giveUp` is
    /// asked each time the queue is still full after `recheck`: true stops waiting (and
    /// returns false) without taking anything.
    func enqueue(_ entries: [Entry], recheck: Duration = .milliseconds(250), giveUp: @Sendable () async -> Bool = { false })
        async -> Bool
    {
        if take(entries, asWaiter: false) { return true }
        state.withLock { $0.waiting += 1 }
        defer { state.withLock { $0.waiting -= 1 } }
        while true {
            if state.withLock({ $0.closed }) { return false }
            let id = state.withLock { state -> UInt64 in
                state.nextWaiterID += 1
                return state.nextWaiterID
            }
            let timer = Task { [weak self] in
                try? await Task.sleep(for: recheck)
                self?.wake(id)
            }
            await withCheckedContinuation { (room: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.closed || hasRoom(state, count: entries.count, bytes: Self.payloadBytes(entries)) {
                        return true
                    }
                    state.roomWaiters.append((id, room))
                    return false
                }
                if now { room.resume() }
            }
            timer.cancel()
            if take(entries, asWaiter: true) { return true }
            if state.withLock({ $0.closed }) { return false }
            if await giveUp() { return false }
        }
    }

    /// Waits for the next round of messages; nil once the queue is closed and empty.
    func next() async -> [Entry]? {
        await withCheckedContinuation { (drainer: CheckedContinuation<[Entry]?, Never>) in
            let ready = state.withLock { state -> Bool in
                if !state.entries.isEmpty || state.closed { return true }
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
            let waiters = state.roomWaiters.map(\.continuation)
            state.roomWaiters.removeAll()
            let drainer = state.drainer
            state.drainer = nil
            return (waiters, drainer)
        }
        for waiter in waiters { waiter.resume() }
        drainer?.resume(returning: takeRound())
    }

    // MARK: - Inside the lock

    private func take(_ entries: [Entry], asWaiter: Bool) -> Bool {
        let bytes = Self.payloadBytes(entries)
        let (accepted, drainer) = state.withLock { state -> (Bool, CheckedContinuation<[Entry]?, Never>?) in
            guard !state.closed, asWaiter || state.waiting == 0, hasRoom(state, count: entries.count, bytes: bytes)
            else { return (false, nil) }
            state.entries.append(contentsOf: entries)
            state.bytes += bytes
            defer { state.drainer = nil }
            return (true, state.drainer)
        }
        drainer?.resume(returning: takeRound())
        return accepted
    }

    private func wake(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let index = state.roomWaiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.roomWaiters.remove(at: index).continuation
        }
        waiter?.resume()
    }

    private func hasRoom(_ state: State, count: Int, bytes: Int) -> Bool {
        state.entries.isEmpty || (state.entries.count + count <= maxMessages && state.bytes + bytes <= maxBytes)
    }

    /// Payload bytes of `entries`, counted once per call, outside the lock.
    private static func payloadBytes(_ entries: [Entry]) -> Int {
        entries.reduce(0) { $0 + $1.payload.count }
    }

    /// Takes everything queued (nil when closed and empty) and wakes those waiting for room.
    private func takeRound() -> [Entry]? {
        let (round, waiters) = state.withLock { state -> ([Entry]?, [CheckedContinuation<Void, Never>]) in
            if state.entries.isEmpty { return (state.closed ? nil : [], []) }
            let round = state.entries
            state.entries = []
            state.bytes = 0
            let waiters = state.roomWaiters.map(\.continuation)
            state.roomWaiters.removeAll()
            return (round, waiters)
        }
        for waiter in waiters { waiter.resume() }
        return round
    }
}
