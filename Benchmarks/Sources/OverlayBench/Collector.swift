import NymbusPubSub
import Synchronization

/// Arrival times of deliveries across every node's subscription, from any thread.
final class Collector: Sendable {
    struct Arrival: Sendable {
        let node: Int
        let id: MessageID
        let atNanos: UInt64
    }

    private let arrivals = Mutex<[Arrival]>([])
    private let remote = Atomic<Int>(0)

    /// Records one delivery (own publishes are not counted as remote deliveries).
    func record(node: Int, id: MessageID, at nanos: UInt64, isOwn: Bool) {
        guard !isOwn else { return }
        arrivals.withLock { $0.append(Arrival(node: node, id: id, atNanos: nanos)) }
        remote.add(1, ordering: .relaxed)
    }

    /// Remote deliveries so far.
    var count: Int { remote.load(ordering: .relaxed) }

    /// Every remote delivery so far.
    var all: [Arrival] { arrivals.withLock { $0 } }
}
