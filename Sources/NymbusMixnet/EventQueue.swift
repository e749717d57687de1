/// A min-heap of timed events: the simulated mixnet's in-flight packets and timers.
///
/// Ties are broken by insertion order, so two events due at the same instant (e.g. with zero
/// delay) come out in the order they were scheduled, which keeps runs reproducible.
struct EventQueue<Element> {
    private struct Entry {
        let due: Duration
        let sequence: UInt64
        let element: Element

        func precedes(_ other: Entry) -> Bool {
            due < other.due || (due == other.due && sequence < other.sequence)
        }
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    /// How many events are waiting.
    var count: Int { heap.count }
    /// Whether nothing is waiting.
    var isEmpty: Bool { heap.isEmpty }
    /// When the earliest event is due.
    var nextDue: Duration? { heap.first?.due }

    /// Schedules `element` at `due`.
    mutating func insert(_ element: Element, at due: Duration) {
        heap.append(Entry(due: due, sequence: nextSequence, element: element))
        nextSequence &+= 1
        siftUp(heap.count - 1)
    }

    /// Removes and returns the earliest event if it is due at or before `now`.
    mutating func popDue(notAfter now: Duration) -> (due: Duration, element: Element)? {
        guard let first = heap.first, first.due <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return (first.due, first.element)
    }

    /// Whether any waiting event satisfies `predicate`.
    func contains(where predicate: (Element) -> Bool) -> Bool { heap.contains { predicate($0.element) } }

    /// Drops every event for which `shouldRemove` is true.
    mutating func removeAll(where shouldRemove: (Element) -> Bool) {
        let kept = heap.filter { !shouldRemove($0.element) }
        guard kept.count != heap.count else { return }
        heap = []
        for entry in kept.sorted(by: { $0.precedes($1) }) { heap.append(entry) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var best = parent
            if left < heap.count, heap[left].precedes(heap[best]) { best = left }
            if right < heap.count, heap[right].precedes(heap[best]) { best = right }
            guard best != parent else { return }
            heap.swapAt(parent, best)
            parent = best
        }
    }
}
