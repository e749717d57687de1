/// Catch-up sync (spec/wire.md "syncrange, syncget and syncobject", spec/pubsub.md §16):
/// range-based set reconciliation over every archived object of a time window, after
/// negentropy (hoytech/negentropy). Pure values and their codec; the reconciliation itself is
/// the topic layer's.

import NymbusCrypto
/// A point in the order of archived objects: objects sort by (timestamp minutes, message id),
/// and a bound sits before every object whose (timestamp, id) is not below
/// (`timestamp`, `prefix` padded with zero bytes to 32).
public struct SyncBound: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Object timestamp in minutes; `SyncBound.infinityTimestamp` for the end of everything.
    public let timestamp: UInt32
    /// 0…32 leading bytes of an id (the shortest that separates two neighbouring objects).
    public let prefix: [UInt8]

    /// The timestamp of the bound after every object.
    public static let infinityTimestamp: UInt32 = .max
    /// The bound after every object.
    public static let infinity = SyncBound(timestamp: infinityTimestamp, prefix: [])
    /// The bound before every object.
    public static let zero = SyncBound(timestamp: 0, prefix: [])
    /// Longest id prefix.
    public static let maxPrefix = 32

    /// A bound; `prefix` must be at most 32 bytes (the decoder checks; callers make short ones).
    public init(timestamp: UInt32, prefix: [UInt8]) {
        self.timestamp = timestamp
        self.prefix = prefix
    }

    /// Whether this is the end of everything.
    public var isInfinity: Bool { timestamp == Self.infinityTimestamp }

    /// The bound's id part padded with zeros to 32 bytes.
    public var paddedPrefix: [UInt8] { prefix + [UInt8](repeating: 0, count: Self.maxPrefix - prefix.count) }

    public static func < (a: SyncBound, b: SyncBound) -> Bool {
        if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
        return a.paddedPrefix.lexicographicallyPrecedes(b.paddedPrefix)
    }

    public static func == (a: SyncBound, b: SyncBound) -> Bool {
        a.timestamp == b.timestamp && a.paddedPrefix == b.paddedPrefix
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(timestamp)
        hasher.combine(paddedPrefix)
    }

    public var description: String {
        isInfinity ? "∞" : "\(timestamp)/\(prefix.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())"
    }
}

/// What one range of a `syncrange` message says about the objects from the previous range's
/// upper bound (or `SyncBound.zero`) up to its own upper bound.
public enum SyncRangeMode: Equatable, Sendable {
    /// Nothing to do for this range.
    case skip
    /// The sender's fingerprint of its objects in the range (16 bytes, spec/pubsub.md §16).
    case fingerprint([UInt8])
    /// Every id the sender has in the range (a reply may end the range early instead, see
    /// spec/pubsub.md §16), 0…500 in one message.
    case idList([InventoryID])

    /// The mode byte.
    public var code: UInt8 {
        switch self {
        case .skip: 0
        case .fingerprint: 1
        case .idList: 2
        }
    }
}

/// One range: its upper bound (exclusive) and what it says.
public struct SyncRange: Equatable, Sendable {
    public let upper: SyncBound
    public let mode: SyncRangeMode

    public init(upper: SyncBound, mode: SyncRangeMode) {
        self.upper = upper
        self.mode = mode
    }
}

/// The payload of `syncrange` (0x18): a round number, who speaks, and an ordered list of ranges covering
/// the whole order (the last one ends at infinity). No ranges: the sender is done.
public struct SyncRanges: Equatable, Sendable {
    /// Set by the initiator, one more each message; the responder answers with the same number.
    public let round: UInt16
    /// False from the initiator (a question), true from the responder (its answer).
    public let isReply: Bool
    public let ranges: [SyncRange]

    /// Bytes of a fingerprint.
    public static let fingerprintLength = 16
    /// Most ranges in one message.
    public static let maxRanges = 512

    public init(round: UInt16, isReply: Bool, ranges: [SyncRange]) {
        self.round = round
        self.isReply = isReply
        self.ranges = ranges
    }

    /// Ids listed in every range together.
    public var idCount: Int {
        ranges.reduce(0) { n, range in
            if case .idList(let ids) = range.mode { return n + ids.count }
            return n
        }
    }

    func encode(into w: inout ByteWriter) {
        w.write(round)
        w.write(UInt8(isReply ? 1 : 0))
        w.write(UInt16(truncatingIfNeeded: ranges.count))
        for range in ranges {
            w.write(range.upper.timestamp)
            w.write(UInt8(truncatingIfNeeded: range.upper.prefix.count))
            w.write(bytes: range.upper.prefix)
            w.write(range.mode.code)
            switch range.mode {
            case .skip: break
            case .fingerprint(let fingerprint): w.write(bytes: fingerprint)
            case .idList(let ids):
                w.write(UInt16(truncatingIfNeeded: ids.count))
                for id in ids { w.write(bytes: id.bytes) }
            }
        }
    }

    /// Decodes and checks the structure: counts against their limits before anything is
    /// allocated, bounds strictly ascending, the last one (and only it) infinity, infinity with
    /// an empty prefix, known modes only, at most `maxIDs` ids in all.
    static func decode(_ r: inout ByteReader, maxIDs: Int) throws(WireError) -> SyncRanges {
        let round = try r.readUInt16("syncrange.round")
        let isReply: Bool
        switch try r.readUInt8("syncrange.isReply") {
        case 0: isReply = false
        case 1: isReply = true
        case let v: throw WireError(.invalidValue, "syncrange.isReply must be 0 or 1, got \(v)")
        }
        let count = Int(try r.readUInt16("syncrange.count"))
        // Each range is at least 6 bytes (timestamp, prefix length 0, mode skip).
        try r.checkCount(count, limit: maxRanges, minItemSize: 6, "syncrange.ranges")
        var ranges: [SyncRange] = []
        ranges.reserveCapacity(count)
        var previous: SyncBound?
        var ids = 0
        for index in 0..<count {
            let timestamp = try r.readUInt32("syncrange.bound.timestamp")
            let prefixLength = Int(try r.readUInt8("syncrange.bound.prefixLength"))
            guard prefixLength <= SyncBound.maxPrefix else {
                throw WireError(.invalidValue, "syncrange bound prefix of \(prefixLength) bytes (at most 32)")
            }
            let prefix = try r.readBytes(prefixLength, "syncrange.bound.prefix")
            let bound = SyncBound(timestamp: timestamp, prefix: prefix)
            if bound.isInfinity, !prefix.isEmpty {
                throw WireError(.invalidValue, "syncrange infinity bound with an id prefix")
            }
            if let previous, !(previous < bound) {
                throw WireError(.invalidValue, "syncrange bound \(index) (\(bound)) is not above the one before (\(previous))")
            }
            if bound.isInfinity != (index == count - 1) {
                throw WireError(.invalidValue, "syncrange must end at infinity, and only its last range")
            }
            previous = bound
            let mode: SyncRangeMode
            switch try r.readUInt8("syncrange.mode") {
            case 0: mode = .skip
            case 1: mode = .fingerprint(try r.readBytes(fingerprintLength, "syncrange.fingerprint"))
            case 2:
                let n = Int(try r.readUInt16("syncrange.idList.count"))
                guard ids + n <= maxIDs else {
                    throw WireError(.lengthOverLimit, "syncrange lists \(ids + n) ids (at most \(maxIDs))")
                }
                try r.checkCount(n, limit: maxIDs, minItemSize: InventoryID.byteLength, "syncrange.idList")
                ids += n
                var list: [InventoryID] = []
                list.reserveCapacity(n)
                for _ in 0..<n {
                    guard let id = InventoryID(bytes: try r.readBytes(InventoryID.byteLength, "syncrange.id")) else {
                        throw WireError(.invalidValue, "syncrange id is not 32 bytes")
                    }
                    list.append(id)
                }
                mode = .idList(list)
            case let other: throw WireError(.invalidValue, "syncrange mode \(other) is unknown (0 skip, 1 fingerprint, 2 idList)")
            }
            ranges.append(SyncRange(upper: bound, mode: mode))
        }
        return SyncRanges(round: round, isReply: isReply, ranges: ranges)
    }
}
