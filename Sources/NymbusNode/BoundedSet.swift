/// A dictionary that remembers at most `capacity` keys, forgetting the oldest insertions first.
///
/// Used for things the node must remember for a while but must not let a peer grow without
/// bound: recently closed session ids (and where those links went), addresses a peer already
/// knows.
struct BoundedMap<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    let capacity: Int
    private var values: [Key: Value] = [:]
    private var order: [Key] = []
    private var head = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a bounded map needs a positive capacity")
        self.capacity = capacity
    }

    var count: Int { values.count }

    /// The value under `key`. Setting a new key evicts the oldest one when full; setting an
    /// existing key replaces its value and keeps its age; setting nil is not supported (keys
    /// leave by age only).
    subscript(key: Key) -> Value? {
        get { values[key] }
        set {
            guard let newValue else { return }
            if values.updateValue(newValue, forKey: key) != nil { return }
            if values.count > capacity { evictOldest() }
            order.append(key)
        }
    }

    private mutating func evictOldest() {
        while head < order.count {
            let victim = order[head]
            head += 1
            if values.removeValue(forKey: victim) != nil { break }
        }
        if head > capacity {
            order.removeFirst(head)
            head = 0
        }
    }
}

/// A set that remembers at most `capacity` elements, forgetting the oldest insertions first
/// (a ``BoundedMap`` with no values).
struct BoundedSet<Element: Hashable & Sendable>: Sendable {
    private var map: BoundedMap<Element, Void>

    init(capacity: Int) {
        map = BoundedMap(capacity: capacity)
    }

    var capacity: Int { map.capacity }
    var count: Int { map.count }

    func contains(_ element: Element) -> Bool { map[element] != nil }

    /// Inserts `element`, evicting the oldest member when full. Re-inserting is a no-op.
    mutating func insert(_ element: Element) {
        map[element] = ()
    }
}
