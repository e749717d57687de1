/// Splits consecutive payloads of one publish call into objects (spec/pubsub.md §5.1).
///
/// Each part is a run of consecutive payloads, never reordered: a run of one is a plain type-0
/// object (byte for byte what `publish(_:to:)` makes), a longer run is one `rawBytesBatch`
/// object. A batch object must fit the largest bucket not above the target size. Among all
/// splits that obey this, the planner takes the one with the fewest object bytes on the wire
/// (the sum of the padded bucket sizes: what the mixnet carries, and a Nym client sends only
/// ~50 packets per second), then the fewest objects (signatures, seen-cache entries), then the
/// one whose earlier objects are fullest. Filling objects greedily up to the target is not
/// enough: 1000 payloads of 3 bytes fill one 16 KiB object (11 packets) where two 4 KiB
/// objects (6 packets) would do, and two payloads of 1000 bytes would share a 4 KiB object
/// (3 packets) instead of two 1536-byte ones (2 packets).
///
/// Dynamic programming over the split points: O(n · m) steps for n payloads and at most m
/// payloads per object (m ≤ target / 4).
struct BatchPlanner: Sendable {
    /// Object sizes to pad to.
    let buckets: SizeBuckets
    /// The largest object size a batch may have: the largest bucket ≤ the target (0 if none).
    let batchCapacity: Int
    /// Plaintext bytes besides the payload: flags, length and, if signed, the author key and signature.
    let framing: Int

    /// A planner for objects padded to `buckets`, batches at most `targetBytes`, signed by an
    /// author or not.
    init(buckets: SizeBuckets, targetBytes: Int, withAuthor: Bool) {
        self.buckets = buckets
        batchCapacity = buckets.sizes.last { $0 <= targetBytes } ?? 0
        framing = TopicObject.overhead + ObjectPlaintext.minimumLength + (withAuthor ? ObjectPlaintext.authorLength : 0)
    }

    /// The unpadded object size of one payload of `length` bytes alone (a type-0 object).
    func singleSize(_ length: Int) -> Int { framing + length }

    /// The unpadded object size of a batch of `count` entries with `entryBytes` bytes in all.
    func batchSize(count: Int, entryBytes: Int) -> Int {
        framing + BatchPayload.encodedLength(entries: count, entryBytes: entryBytes)
    }

    /// The runs, in order, that cover `lengths` (the payload sizes in publish order).
    func plan(_ lengths: [Int]) -> [Range<Int>] {
        let n = lengths.count
        guard n > 0 else { return [] }
        // best[j]: the cheapest split of the first j payloads, as (object bytes, objects).
        var bestBytes = [Int](repeating: .max, count: n + 1)
        var bestObjects = [Int](repeating: .max, count: n + 1)
        var start = [Int](repeating: 0, count: n + 1)
        bestBytes[0] = 0
        bestObjects[0] = 0
        let sizes = buckets.sizes
        for j in 1...n {
            var entryBytes = 0
            var i = j
            // Run sizes only grow as the run reaches further back, so the bucket index only
            // moves up: the inner loop is a few integer steps per candidate.
            var bucketIndex = 0
            // Shortest last run first: on a tie the earlier objects stay the fullest.
            while i > 0 {
                i -= 1
                entryBytes += lengths[i]
                let count = j - i
                let cost: Int
                if count == 1 {
                    let size = singleSize(lengths[i])
                    cost = buckets.bucket(for: size) ?? size
                } else {
                    let size = batchSize(count: count, entryBytes: entryBytes)
                    // Longer runs only grow: no run starting further back fits either.
                    guard size <= batchCapacity, count <= BatchPayload.maximumEntries else { break }
                    while bucketIndex < sizes.count - 1, sizes[bucketIndex] < size { bucketIndex += 1 }
                    cost = sizes[bucketIndex]
                }
                let bytes = bestBytes[i] + cost
                let objects = bestObjects[i] + 1
                if bytes < bestBytes[j] || (bytes == bestBytes[j] && objects < bestObjects[j]) {
                    bestBytes[j] = bytes
                    bestObjects[j] = objects
                    start[j] = i
                }
            }
        }
        var runs: [Range<Int>] = []
        var j = n
        while j > 0 {
            runs.append(start[j]..<j)
            j = start[j]
        }
        return runs.reversed()
    }
}
