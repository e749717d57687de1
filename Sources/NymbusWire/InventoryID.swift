/// One 32-byte identifier in `inv` and `getdata`: a pub/sub message id (BLAKE2b-256 of an
/// object's signed bytes, spec/pubsub.md). Opaque to the wire layer.
///
/// Stored as four words so a list of them needs no allocation per id.
public struct InventoryID: Hashable, Sendable, CustomStringConvertible {
    /// Bytes of one id on the wire.
    public static let byteLength = 32

    private let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// Wraps exactly 32 bytes; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == InventoryID.byteLength else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, byte) in bytes.enumerated() { words[i / 8] = words[i / 8] << 8 | UInt64(byte) }
        w0 = words[0]
        w1 = words[1]
        w2 = words[2]
        w3 = words[3]
    }

    /// The 32 bytes, big-endian word by word.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(InventoryID.byteLength)
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
        }
        return out
    }

    /// Lower-case hex (ids are hashes: safe to log).
    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
