import Synchronization

/// When the messages a transport handed to its reader arrived, until the reader has handled
/// them: how far behind the reader is.
///
/// The node handles what arrives one message at a time; on a loaded machine messages wait in the
/// transport's `inbound` stream for seconds. A timer that measures the mixnet (how long a message
/// may trail the one after it, spec/broker.md "Order") must then not count that local wait: a
/// message that arrived before the deadline may still be waiting here. The transport records
/// each message as it hands it over (`arrived(at:)`), the reader says when it has handled the
/// oldest (`handled()`), and ``oldestArrival`` is when the oldest message not handled yet arrived:
/// everything that arrived before it has been handled.
///
/// Bounded: at most `capacity` arrivals are kept (a reader that never calls `handled()` makes
/// the oldest fall off, and the backlog then under-reports). Thread-safe.
public final class InboundBacklog: Sendable {
    private struct State {
        var arrivals: [ContinuousClock.Instant] = []
        var head = 0
        var count: Int { arrivals.count - head }
    }

    private let state = Mutex(State())
    /// Most arrivals kept.
    public let capacity: Int

    /// An empty backlog keeping at most `capacity` arrivals (at least 1).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// A message that arrived at `instant` was handed to the reader.
    public func arrived(at instant: ContinuousClock.Instant) {
        state.withLock { state in
            if state.count >= capacity { state.head += 1 }
            state.arrivals.append(instant)
            Self.compact(&state)
        }
    }

    /// The message just recorded was not handed over after all (the reader's buffer was full).
    public func withdrawNewest() {
        state.withLock { state in
            guard state.count > 0 else { return }
            state.arrivals.removeLast()
            Self.compact(&state)
        }
    }

    /// The reader finished handling the oldest message it was handed.
    public func handled() {
        state.withLock { state in
            guard state.count > 0 else { return }
            state.head += 1
            Self.compact(&state)
        }
    }

    /// When the oldest message not handled yet arrived; nil when the reader has handled all.
    public var oldestArrival: ContinuousClock.Instant? {
        state.withLock { $0.count > 0 ? $0.arrivals[$0.head] : nil }
    }

    /// Messages handed over and not handled yet.
    public var count: Int { state.withLock { $0.count } }

    private static func compact(_ state: inout State) {
        if state.head == state.arrivals.count {
            state.arrivals.removeAll(keepingCapacity: true)
            state.head = 0
        } else if state.head > 64, state.head * 2 > state.arrivals.count {
            state.arrivals.removeFirst(state.head)
            state.head = 0
        }
    }
}
