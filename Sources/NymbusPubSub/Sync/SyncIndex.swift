import NymbusCrypto
import NymbusWire

/// One archived object's place in the sync order: (timestamp minutes, message id), ids compared
/// as bytes. Keeps the id as four big-endian words (for order) so sorting allocates nothing.
public struct SyncKey: Hashable, Sendable, Comparable {
    /// Object timestamp, minutes since the Unix epoch.
    public let timestamp: UInt32
    private let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(timestamp: UInt32, id: MessageID) {
        self.timestamp = timestamp
        let b = id.bytes
        func word(_ i: Int) -> UInt64 { b[i..<i + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        (w0, w1, w2, w3) = (word(0), word(8), word(16), word(24))
    }

    /// The message id.
    public var id: MessageID { MessageID(bytes: idBytes)! }

    /// The id's 32 bytes.
    public var idBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
        }
        return out
    }

    /// The id as the four 64-bit limbs of a little-endian 256-bit number (limb 0 lowest), for
    /// the fingerprint's sum.
    var littleEndianLimbs: (UInt64, UInt64, UInt64, UInt64) {
        (w0.byteSwapped, w1.byteSwapped, w2.byteSwapped, w3.byteSwapped)
    }

    public static func < (a: SyncKey, b: SyncKey) -> Bool {
        if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
        if a.w0 != b.w0 { return a.w0 < b.w0 }
        if a.w1 != b.w1 { return a.w1 < b.w1 }
        if a.w2 != b.w2 { return a.w2 < b.w2 }
        return a.w3 < b.w3
    }

    /// Whether this key sorts before `bound`.
    func isBelow(_ bound: SyncBound) -> Bool {
        if timestamp != bound.timestamp { return timestamp < bound.timestamp }
        return idBytes.lexicographicallyPrecedes(bound.paddedPrefix)
    }

    /// The shortest bound above `previous` and not above `self` (`self` must sort after it):
    /// only the timestamp when they differ there, else the id bytes up to the first that differs.
    func bound(after previous: SyncKey) -> SyncBound {
        guard previous.timestamp == timestamp else { return SyncBound(timestamp: timestamp, prefix: []) }
        let mine = idBytes
        let theirs = previous.idBytes
        var shared = 0
        while shared < 31, mine[shared] == theirs[shared] { shared += 1 }
        return SyncBound(timestamp: timestamp, prefix: Array(mine[0...shared]))
    }
}

/// The sum of ids behind a range's fingerprint: ids added as 256-bit little-endian numbers
/// modulo 2²⁵⁶, and their count. Addition commutes, so any split of a range adds up.
struct FingerprintAccumulator: Equatable {
    private var limbs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private(set) var count: UInt32 = 0

    mutating func add(_ key: SyncKey) {
        let (a0, a1, a2, a3) = key.littleEndianLimbs
        var carry: UInt64 = 0
        func addLimb(_ x: UInt64, _ y: UInt64) -> UInt64 {
            let (s1, o1) = x.addingReportingOverflow(y)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
            return s2
        }
        limbs.0 = addLimb(limbs.0, a0)
        limbs.1 = addLimb(limbs.1, a1)
        limbs.2 = addLimb(limbs.2, a2)
        limbs.3 = addLimb(limbs.3, a3)
        count &+= 1
    }

    static func == (a: FingerprintAccumulator, b: FingerprintAccumulator) -> Bool {
        a.limbs == b.limbs && a.count == b.count
    }

    /// BLAKE2b-128 of (the sum as 32 little-endian bytes ‖ the count as a big-endian u32).
    var fingerprint: [UInt8] {
        var message = [UInt8]()
        message.reserveCapacity(36)
        for limb in [limbs.0, limbs.1, limbs.2, limbs.3] {
            for shift in stride(from: 0, through: 56, by: 8) { message.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift))) }
        }
        for shift in stride(from: 24, through: 0, by: -8) { message.append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
        // 16 is a valid BLAKE2b output length: this cannot fail.
        return (try? Blake2b.hash(message, outputLength: SyncRanges.fingerprintLength)) ?? []
    }
}

/// A sorted snapshot of archived objects' keys: what one side reconciles over.
public struct SyncIndex: Sendable {
    /// Keys in ascending order, no duplicates.
    public private(set) var keys: [SyncKey]

    /// An index of `keys` (sorted here; duplicates dropped).
    public init(_ keys: [SyncKey]) {
        var sorted = keys.sorted()
        var unique: [SyncKey] = []
        unique.reserveCapacity(sorted.count)
        for key in sorted where unique.last != key { unique.append(key) }
        sorted = unique
        self.keys = sorted
    }

    /// Keys already sorted and unique.
    init(sorted: [SyncKey]) { self.keys = sorted }

    public var count: Int { keys.count }

    /// Index of the first key not below `bound` (keys.count if none).
    func position(of bound: SyncBound) -> Int {
        if bound.isInfinity { return keys.count }
        var low = 0
        var high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if keys[mid].isBelow(bound) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Fingerprint of the keys at `range`.
    func fingerprint(_ range: Range<Int>) -> [UInt8] {
        var accumulator = FingerprintAccumulator()
        for i in range { accumulator.add(keys[i]) }
        return accumulator.fingerprint
    }

    /// Inserts `key` in order; false if it is there already.
    @discardableResult
    mutating func insert(_ key: SyncKey) -> Bool {
        // Objects mostly arrive in time order: check the end first.
        if let last = keys.last, last < key {
            keys.append(key)
            return true
        }
        var low = 0
        var high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if keys[mid] < key { low = mid + 1 } else { high = mid }
        }
        if low < keys.count, keys[low] == key { return false }
        keys.insert(key, at: low)
        return true
    }

    /// Removes `key` if present.
    mutating func remove(_ key: SyncKey) {
        let at = position(of: SyncBound(timestamp: key.timestamp, prefix: key.idBytes))
        if at < keys.count, keys[at] == key { keys.remove(at: at) }
    }

    /// Removes the first `n` keys.
    mutating func removeFirst(_ n: Int) { keys.removeFirst(n) }
}
