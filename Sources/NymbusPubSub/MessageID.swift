public import NymbusCrypto

/// An object's identity: BLAKE2b-256 of its signed bytes (every field except the reserved byte
/// and the signature).
///
/// Stored as four words rather than an array so a seen-cache entry needs no heap allocation.
public struct MessageID: Hashable, Sendable, CustomStringConvertible {
    private let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// Wraps a 32-byte digest; returns nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        func word(_ i: Int) -> UInt64 { bytes[i..<i + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        w0 = word(0)
        w1 = word(8)
        w2 = word(16)
        w3 = word(24)
    }

    /// The id of the given signed bytes.
    public init(signedBytes: [UInt8]) {
        // A 32-byte digest always converts.
        self = MessageID(bytes: Blake2b.digest32(signedBytes))!
    }

    /// The 32 bytes, big-endian word by word (the digest as BLAKE2b printed it).
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift)))
            }
        }
        return out
    }

    /// Lower-case hex.
    public var description: String { Hex.encode(bytes) }

    /// The dissemination stripe the object belongs to among `count` (spec/pubsub.md §15): its
    /// first byte modulo `count`. The id is a hash, so the stripes share the objects evenly.
    public func stripe(among count: Int) -> Int { count > 1 ? Int(w0 >> 56) % count : 0 }
}

/// A topic's identity on the wire: its membership Ed25519 public key (32 bytes).
///
/// A relay learns nothing from it but "these objects belong together"; it cannot tell a
/// topic's name (unless it guesses the name of a public topic) nor its members.
public struct TopicID: Hashable, Sendable, CustomStringConvertible {
    /// The membership public key.
    public let publicKey: Ed25519.PublicKey

    /// Wraps a membership public key.
    public init(publicKey: Ed25519.PublicKey) { self.publicKey = publicKey }

    /// The 32 bytes.
    public var bytes: [UInt8] { publicKey.bytes }

    /// Lower-case hex of the 32 bytes.
    public var description: String { Hex.encode(bytes) }
}
