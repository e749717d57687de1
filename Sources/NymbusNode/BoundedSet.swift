/// A set that remembers at most `capacity` elements, forgetting the oldest insertions first.
///
/// Used for things the node must remember for a while but must not let a peer grow without
/// bound: recently closed session ids, addresses a peer already knows.
struct BoundedSet<Element: Hashable & Sendable>: Sendable {
    let capacity: Int
    private var members: Set<Element> = []
    private var order: [Element] = []
    private var head = 0

    init(capacity: Int) {
        precondition(capacity > 0, "BoundedSet needs a positive capacity")
        self.capacity = capacity
    }

    var count: Int { members.count }

    func contains(_ element: Element) -> Bool { members.contains(element) }

    /// Inserts `element`, evicting the oldest member when full. Re-inserting is a no-op.
    mutating func insert(_ element: Element) {
        guard !members.contains(element) else { return }
        if members.count >= capacity {
            evictOldest()
        }
        members.insert(element)
        order.append(element)
    }

    private mutating func evictOldest() {
        while head < order.count {
            let victim = order[head]
            head += 1
            if members.remove(victim) != nil { break }
        }
        if head > capacity {
            order.removeFirst(head)
            head = 0
        }
    }
}
