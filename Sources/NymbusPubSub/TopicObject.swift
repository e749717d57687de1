import NymbusCrypto
import NymbusWire

/// One object as it travels between peers (spec/pubsub.md §4).
///
/// ```
/// offset  size  field
///      0     1  version (1)
///      1    32  topic id (membership Ed25519 public key)
///     33     4  object type, u32 big-endian (0 = raw bytes)
///     37     4  timestamp, u32 minutes since the Unix epoch
///     41     1  reserved, 0 (once a hop limit: it told a neighbour how far an object came)
///     42    24  XChaCha20-Poly1305 nonce
///     66     4  ciphertext length n, u32 (21 ≤ n ≤ limit)
///     70     n  ciphertext (padded plaintext + 16-byte tag)
///   70+n    64  membership signature over every byte except the reserved byte and itself
/// ```
/// Relays check everything here without the topic secret; the plaintext is `ObjectPlaintext`.
public struct TopicObject: Sendable, Equatable {
    /// The only version this build speaks.
    public static let version: UInt8 = 1
    /// Bytes before the ciphertext.
    public static let headerLength = 70
    /// Bytes of the membership signature.
    public static let signatureLength = 64
    /// Offset of the reserved byte (once a hop limit; excluded from the signature and the message
    /// id). It must be 0: a byte relays could change would tell how far an object travelled, or
    /// let a relay mark the copies it passes on (spec/pubsub.md §4).
    public static let reservedOffset = 41
    /// Bytes an object adds to its plaintext: header, tag and signature.
    public static let overhead = headerLength + XChaCha20Poly1305.tagLength + signatureLength
    /// No object is larger than this (the overlay's `object` message carries at most 96 KiB).
    public static let protocolMaxBytes = 96 * 1024
    /// The smallest ciphertext: an empty payload (flags + length) plus the tag.
    public static let minCiphertextLength = ObjectPlaintext.minimumLength + XChaCha20Poly1305.tagLength

    /// Which topic (membership public key).
    public var topicID: TopicID
    /// What the payload is (0 raw bytes, ≥ 0x1000 registered `WireCodable` types).
    public var objectType: UInt32
    /// Creation time, minutes since the Unix epoch (coarse on purpose).
    public var timestamp: UInt32
    /// The 24-byte AEAD nonce.
    public var nonce: [UInt8]
    /// The sealed, padded plaintext with its tag.
    public var ciphertext: [UInt8]
    /// Ed25519 signature by the membership key over `signedBytes`.
    public var signature: [UInt8]

    /// Builds an object from its fields (no checks; `bytes` writes them as given).
    public init(
        topicID: TopicID, objectType: UInt32, timestamp: UInt32, nonce: [UInt8], ciphertext: [UInt8],
        signature: [UInt8]
    ) {
        self.topicID = topicID
        self.objectType = objectType
        self.timestamp = timestamp
        self.nonce = nonce
        self.ciphertext = ciphertext
        self.signature = signature
    }

    /// Decodes and structurally checks object bytes, refusing anything over `maxBytes` before
    /// looking further. Does not verify the signature (see `hasValidMembershipSignature`).
    public init(bytes: [UInt8], maxBytes: Int = TopicObject.protocolMaxBytes) throws(PubSubError) {
        let limit = min(maxBytes, TopicObject.protocolMaxBytes)
        guard bytes.count <= limit else {
            throw PubSubError(.malformedObject, "object of \(bytes.count) bytes exceeds the limit of \(limit)")
        }
        var reader = ByteReader(bytes)
        do {
            let version = try reader.readUInt8("version")
            guard version == TopicObject.version else {
                throw PubSubError(
                    .unsupportedVersion, "object version \(version), this build speaks \(TopicObject.version)")
            }
            let idBytes = try reader.readBytes(32, "topic id")
            guard let key = try? Ed25519.PublicKey(bytes: idBytes) else {
                throw PubSubError(.malformedObject, "the topic id is not a valid Ed25519 point")
            }
            topicID = TopicID(publicKey: key)
            objectType = try reader.readUInt32("object type")
            timestamp = try reader.readUInt32("timestamp")
            let reserved = try reader.readUInt8("reserved")
            guard reserved == 0 else {
                throw PubSubError(.malformedObject, "reserved byte at offset 41 is \(reserved), must be 0")
            }
            nonce = try reader.readBytes(XChaCha20Poly1305.nonceLength, "nonce")
            ciphertext = try reader.readBytes32(
                limit: limit - TopicObject.headerLength - TopicObject.signatureLength, "ciphertext")
            guard ciphertext.count >= TopicObject.minCiphertextLength else {
                throw PubSubError(
                    .malformedObject,
                    "ciphertext of \(ciphertext.count) bytes is shorter than \(TopicObject.minCiphertextLength)")
            }
            signature = try reader.readBytes(TopicObject.signatureLength, "signature")
            try reader.expectEnd("object")
        } catch let error as PubSubError {
            throw error
        } catch let error as WireError {
            throw PubSubError(.malformedObject, error.reason)
        } catch {
            throw PubSubError(.malformedObject, "\(error)")
        }
    }

    /// Version, topic id, type and timestamp: the AEAD's associated data.
    public var associatedData: [UInt8] {
        var w = ByteWriter(reservingCapacity: TopicObject.reservedOffset)
        w.write(TopicObject.version)
        w.write(bytes: topicID.bytes)
        w.write(objectType)
        w.write(timestamp)
        return w.bytes
    }

    /// Every byte of the encoding except the reserved byte and the signature: what the membership
    /// key signs and what the message id hashes.
    public var signedBytes: [UInt8] {
        var w = ByteWriter(reservingCapacity: TopicObject.headerLength + ciphertext.count)
        w.write(bytes: associatedData)
        w.write(bytes: nonce)
        w.writeBytes32(ciphertext)
        return w.bytes
    }

    /// The full encoding.
    public var bytes: [UInt8] {
        var w = ByteWriter(reservingCapacity: TopicObject.headerLength + ciphertext.count + TopicObject.signatureLength)
        w.write(bytes: associatedData)
        w.write(UInt8(0))  // reserved
        w.write(bytes: nonce)
        w.writeBytes32(ciphertext)
        w.write(bytes: signature)
        return w.bytes
    }

    /// BLAKE2b-256 of `signedBytes`.
    public var messageID: MessageID { MessageID(signedBytes: signedBytes) }

    /// Whether the membership signature verifies under the topic id. Costs one Ed25519 verify.
    public var hasValidMembershipSignature: Bool {
        topicID.publicKey.isValidSignature(signature, for: signedBytes)
    }

    /// The object time in seconds since the Unix epoch.
    public var timestampSeconds: Int64 { Int64(timestamp) * 60 }
}
