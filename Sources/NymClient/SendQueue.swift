import NymbusCrypto

/// The bounded FIFO of encoded request frames waiting for the socket.
///
/// Messages stay here until the socket accepted them, so a dropped connection loses nothing
/// that was still queued; they are flushed in order after reconnecting. A full queue is an
/// error for the caller, never a silent drop.
struct SendQueue: Sendable {
    let capacity: Int
    private var items: [[UInt8]] = []
    private var head = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { items.count - head }
    var isEmpty: Bool { count == 0 }

    /// Appends at the tail, or throws `.queueFull` if `capacity` messages are already waiting.
    mutating func append(_ frame: [UInt8]) throws(NymClientError) {
        guard count < capacity else {
            throw NymClientError(.queueFull, "nym-client send queue is full (\(capacity) messages)")
        }
        items.append(frame)
    }

    /// Up to `limit` messages from the head, without removing them.
    func peek(_ limit: Int) -> [[UInt8]] { Array(items[head..<min(items.count, head + limit)]) }

    /// Removes `n` messages from the head (after the socket accepted them).
    mutating func removeFirst(_ n: Int) {
        head = min(items.count, head + max(0, n))
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }

    /// Puts messages back at the head, in order, ahead of everything queued (a resend after a
    /// reconnect). Not limited by `capacity`: they were already accepted once.
    mutating func prepend(_ frames: [[UInt8]]) {
        guard !frames.isEmpty else { return }
        items = frames + items[head...]
        head = 0
    }

    /// Drops everything (on `close()`).
    mutating func removeAll() {
        items.removeAll()
        head = 0
    }
}
