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
/// Dynamic programming over the split points: O(n · buckets) steps for n payloads.
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
    ///
    /// Dynamic programming over the split points, O(n · buckets): the cheapest cover of the first
    /// j payloads never costs less than that of fewer payloads (dropping a payload never grows an
    /// object), so for a last run padded to bucket b the best start is the earliest one that
    /// still fits b; among starts of equal cost the latest is taken, which keeps the earlier
    /// objects fullest.
    func plan(_ lengths: [Int]) -> [Range<Int>] {
        let n = lengths.count
        guard n > 0 else { return [] }
        var prefix = [Int](repeating: 0, count: n + 1)
        for (index, length) in lengths.enumerated() { prefix[index + 1] = prefix[index] + length }
        // best[j]: the cheapest split of the first j payloads, as (object bytes, objects).
        var bestBytes = [Int](repeating: .max, count: n + 1)
        var bestObjects = [Int](repeating: .max, count: n + 1)
        var start = [Int](repeating: 0, count: n + 1)
        bestBytes[0] = 0
        bestObjects[0] = 0
        let batchBuckets = buckets.sizes.filter { $0 <= batchCapacity }
        // For each batch bucket, the earliest start of a run ending at j that fits it; it only
        // moves forward as j grows.
        var earliest = [Int](repeating: 0, count: batchBuckets.count)

        func consider(_ i: Int, cost: Int, for j: Int) {
            let bytes = bestBytes[i] + cost
            let objects = bestObjects[i] + 1
            if bytes < bestBytes[j] || (bytes == bestBytes[j] && (objects < bestObjects[j] || (objects == bestObjects[j] && i > start[j]))) {
                bestBytes[j] = bytes
                bestObjects[j] = objects
                start[j] = i
            }
        }

        for j in 1...n {
            let single = singleSize(lengths[j - 1])
            consider(j - 1, cost: buckets.bucket(for: single) ?? single, for: j)
            for (index, bucket) in batchBuckets.enumerated() {
                var i = earliest[index]
                while i < j - 1,
                    j - i > BatchPayload.maximumEntries
                        || batchSize(count: j - i, entryBytes: prefix[j] - prefix[i]) > bucket
                {
                    i += 1
                }
                earliest[index] = i
                guard j - i >= 2 else { continue }
                // The latest start in i...j-2 that costs no more than i (costs never fall).
                let target = bestBytes[i]
                var low = i
                var high = j - 2
                while low < high {
                    let middle = (low + high + 1) / 2
                    if bestBytes[middle] <= target { low = middle } else { high = middle - 1 }
                }
                consider(low, cost: bucket, for: j)
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
