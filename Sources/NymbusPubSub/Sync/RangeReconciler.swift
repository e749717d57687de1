public import NymbusWire

/// Range-based set reconciliation (negentropy's idea, spec/pubsub.md §16) as pure functions over
/// a `SyncIndex`: the initiator's first message, the responder's answer, and the initiator's
/// next message plus the ids it lacks. Every output fits `Settings`' bounds: when the ranges or
/// ids would not fit, the rest of the order goes out as one fingerprint, which the other side
/// splits again in the next round (negentropy's frame size limit), so each round resolves at
/// least its first differing range and an answer is never larger than the bounds.
public enum RangeReconciler {
    /// How ranges are split and how much one message may carry.
    public struct Settings: Sendable, Equatable {
        /// Sub-ranges a differing range is split into.
        public var buckets = 16
        /// A range with at most this many keys is sent as an id list instead of split.
        public var idListThreshold = 32
        /// Most ranges in one message (the wire's limit).
        public var maxRanges = SyncRanges.maxRanges
        /// Most ids in one message (the wire's limit).
        public var maxIDs = 500

        public init() {}
    }

    /// The initiator's first message: a skip up to `windowStart` (minutes), then the window
    /// split (or listed) up to infinity.
    public static func initiate(_ index: SyncIndex, windowStart: UInt32, settings: Settings = Settings()) -> [SyncRange] {
        var out = Output(settings: settings)
        let start = SyncBound(timestamp: windowStart, prefix: [])
        let from = index.position(of: start)
        if windowStart > 0 { out.skip(to: start) }
        split(index, from..<index.count, upper: .infinity, into: &out)
        return out.ranges
    }

    /// The responder's answer to `ranges` (a decoded `syncrange`): matching fingerprints are
    /// skipped, differing ones split, id lists answered with this side's ids of the range.
    public static func respond(to ranges: [SyncRange], index: SyncIndex, settings: Settings = Settings()) -> [SyncRange] {
        process(ranges, index: index, initiator: false, settings: settings).ranges
    }

    /// The initiator's next message after the responder's `reply`, and the ids the responder
    /// listed that this side lacks. An empty `next` means done.
    public static func reconcile(_ reply: [SyncRange], index: SyncIndex, settings: Settings = Settings())
        -> (next: [SyncRange], need: [InventoryID])
    {
        let result = process(reply, index: index, initiator: true, settings: settings)
        return (result.ranges, result.need)
    }

    private static func process(_ input: [SyncRange], index: SyncIndex, initiator: Bool, settings: Settings)
        -> (ranges: [SyncRange], need: [InventoryID])
    {
        var out = Output(settings: settings)
        var need: [InventoryID] = []
        var low = 0
        for range in input {
            let high = max(low, index.position(of: range.upper))
            // Room for the largest thing one range can add, plus a closing fingerprint.
            guard out.hasRoom(ranges: settings.buckets + 1, ids: settings.idListThreshold) else {
                out.fingerprintRest(index: index, low: low)
                return (out.finished, need)
            }
            switch range.mode {
            case .skip:
                out.skip(to: range.upper)
            case .fingerprint(let theirs):
                if index.fingerprint(low..<high) == theirs {
                    out.skip(to: range.upper)
                } else {
                    split(index, low..<high, upper: range.upper, into: &out)
                }
            case .idList(let theirs):
                if initiator {
                    var mine = Set<InventoryID>()
                    for i in low..<high { mine.insert(InventoryID(bytes: index.keys[i].idBytes)!) }
                    need.append(contentsOf: theirs.filter { !mine.contains($0) })
                    out.skip(to: range.upper)
                } else {
                    let room = out.idRoom
                    if high - low <= room {
                        out.idList(to: range.upper, index.keys[low..<high])
                    } else {
                        // List what fits and end the range there; the rest goes as a fingerprint.
                        let cut = low + room
                        let bound = index.keys[cut].bound(after: index.keys[cut - 1])
                        out.idList(to: bound, index.keys[low..<cut])
                        out.fingerprintRest(index: index, low: cut)
                        return (out.finished, need)
                    }
                }
            }
            low = high
        }
        return (out.finished, need)
    }

    /// Appends `keys[range]` up to `upper`: one id list when small, else `buckets` fingerprints
    /// whose bounds fall between keys.
    private static func split(_ index: SyncIndex, _ range: Range<Int>, upper: SyncBound, into out: inout Output) {
        let n = range.count
        if n <= out.settings.idListThreshold {
            out.idList(to: upper, index.keys[range])
            return
        }
        let buckets = out.settings.buckets
        var start = range.lowerBound
        for bucket in 0..<buckets {
            let size = n / buckets + (bucket < n % buckets ? 1 : 0)
            let end = start + size
            let bound = bucket == buckets - 1 ? upper : index.keys[end].bound(after: index.keys[end - 1])
            out.fingerprint(to: bound, index.fingerprint(start..<end))
            start = end
        }
    }

    /// A message under construction: adjacent skips merge, trailing skips vanish.
    private struct Output {
        let settings: Settings
        private(set) var ranges: [SyncRange] = []
        private var ids = 0

        init(settings: Settings) { self.settings = settings }

        var idRoom: Int { max(0, settings.maxIDs - ids) }

        func hasRoom(ranges extra: Int, ids extraIDs: Int) -> Bool {
            ranges.count + extra <= settings.maxRanges && ids + extraIDs <= settings.maxIDs
        }

        mutating func skip(to upper: SyncBound) {
            if let last = ranges.last, last.mode == .skip {
                ranges[ranges.count - 1] = SyncRange(upper: upper, mode: .skip)
            } else {
                ranges.append(SyncRange(upper: upper, mode: .skip))
            }
        }

        mutating func fingerprint(to upper: SyncBound, _ fingerprint: [UInt8]) {
            ranges.append(SyncRange(upper: upper, mode: .fingerprint(fingerprint)))
        }

        mutating func idList(to upper: SyncBound, _ keys: ArraySlice<SyncKey>) {
            ranges.append(SyncRange(upper: upper, mode: .idList(keys.map { InventoryID(bytes: $0.idBytes)! })))
            ids += keys.count
        }

        /// Ends the message with one fingerprint of everything from key `low` on (the range
        /// starts where the previous one ended).
        mutating func fingerprintRest(index: SyncIndex, low: Int) {
            ranges.append(SyncRange(upper: .infinity, mode: .fingerprint(index.fingerprint(low..<index.count))))
        }

        /// The message: nothing when it is all skips (done), else ending at infinity.
        var finished: [SyncRange] {
            var result = ranges
            while let last = result.last, last.mode == .skip { result.removeLast() }
            guard !result.isEmpty else { return [] }
            if result.last?.upper.isInfinity != true { result.append(SyncRange(upper: .infinity, mode: .skip)) }
            return result
        }
    }
}
