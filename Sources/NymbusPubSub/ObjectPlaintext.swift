public import NymbusCrypto
import NymbusWire

/// What an object's ciphertext holds (spec/pubsub.md §5):
///
/// ```
/// flags            u8   bit 0 = author present; bit 1 = publisher order; other bits must be 0
/// [runs             u8]   if flag bit 1: 1...255 (spec/broker.md "Order"), then per run:
/// [  publisher tag  u64]
/// [  first number   u32]
/// [  entries        u16]  the run's consecutive payloads (a batch's entries, in order)
/// payload length   u32  ≤ the receiver's payload limit
/// payload          n
/// [author key      32]  if flag bit 0
/// [author sig      64]  Ed25519 over "nymbus-author-v1" ‖ topic id ‖ type ‖ timestamp ‖ nonce ‖
///                       [runs ‖ each run, if flag bit 1] ‖ payload
/// padding          zero bytes up to the size bucket; must all be zero
/// ```
public struct ObjectPlaintext: Sendable, Equatable {
    /// Flags byte plus payload length: the smallest plaintext.
    public static let minimumLength = 5
    /// Author public key plus signature.
    public static let authorLength = Ed25519.publicKeyLength + Ed25519.signatureLength
    /// One run of a publisher's order: tag, first number, entries.
    public static let runLength = 14
    /// Most runs in one object.
    public static let maxRuns = 255
    /// Domain separation for author signatures, so an author key can sign nothing else by accident.
    static let authorContext = Array("nymbus-author-v1".utf8)

    /// The application bytes.
    public var payload: [UInt8]
    /// The author's public key and signature, if the object is signed by an author.
    public var author: (key: Ed25519.PublicKey, signature: [UInt8])?
    /// Where the payloads stand in their publishers' orders: runs of consecutive payloads (a
    /// batch's entries) of one publisher each; empty when the publishers ask for no order.
    public var order: [PublisherRun]

    /// Wraps a payload, an optional author signature and its publishers' runs (at most
    /// ``maxRuns``).
    public init(
        payload: [UInt8], author: (key: Ed25519.PublicKey, signature: [UInt8])?, order: [PublisherRun] = []
    ) {
        self.payload = payload
        self.author = author
        self.order = order
    }

    /// Bytes before padding.
    public var unpaddedLength: Int {
        ObjectPlaintext.minimumLength + payload.count + (author == nil ? 0 : ObjectPlaintext.authorLength)
            + (order.isEmpty ? 0 : 1 + ObjectPlaintext.runLength * order.count)
    }

    /// The encoding, zero-padded to `paddedLength` (which must be at least `unpaddedLength`).
    public func encoded(paddedLength: Int) -> [UInt8] {
        precondition(paddedLength >= unpaddedLength, "padding target below the plaintext size")
        var w = ByteWriter(reservingCapacity: paddedLength)
        w.write(UInt8(author == nil ? 0 : 1) | UInt8(order.isEmpty ? 0 : 2))
        Self.write(order, into: &w)
        w.writeBytes32(payload)
        if let author {
            w.write(bytes: author.key.bytes)
            w.write(bytes: author.signature)
        }
        var out = w.bytes
        out.append(contentsOf: repeatElement(0, count: paddedLength - out.count))
        return out
    }

    /// Decodes a plaintext, with every length checked before use and non-zero padding refused.
    public init(decoding bytes: [UInt8], maxPayload: Int) throws(PubSubError) {
        var reader = ByteReader(bytes)
        do {
            let flags = try reader.readUInt8("flags")
            guard flags & ~3 == 0 else {
                throw PubSubError(.decryptionFailed, "unknown plaintext flags 0x\(String(flags, radix: 16))")
            }
            var runs: [PublisherRun] = []
            if flags & 2 == 2 {
                let count = Int(try reader.readUInt8("runs"))
                guard count > 0 else { throw PubSubError(.decryptionFailed, "publisher order with no run") }
                try reader.checkCount(count, limit: Self.maxRuns, minItemSize: Self.runLength, "runs")
                runs.reserveCapacity(count)
                for _ in 0..<count {
                    let run = PublisherRun(
                        tag: try reader.readUInt64("publisher tag"), number: try reader.readUInt32("message number"),
                        count: try reader.readUInt16("run entries"))
                    guard run.count > 0 else { throw PubSubError(.decryptionFailed, "a publisher run with no entry") }
                    runs.append(run)
                }
            }
            order = runs
            payload = try reader.readBytes32(limit: maxPayload, "payload")
            if flags & 1 == 1 {
                let keyBytes = try reader.readBytes(Ed25519.publicKeyLength, "author key")
                guard let key = try? Ed25519.PublicKey(bytes: keyBytes) else {
                    throw PubSubError(.badAuthorSignature, "the author key is not a valid Ed25519 point")
                }
                author = (key, try reader.readBytes(Ed25519.signatureLength, "author signature"))
            } else {
                author = nil
            }
            guard reader.readRest().allSatisfy({ $0 == 0 }) else {
                throw PubSubError(.decryptionFailed, "padding is not all zero")
            }
        } catch let error as PubSubError {
            throw error
        } catch let error as WireError {
            throw PubSubError(.decryptionFailed, "malformed plaintext: \(error.reason)")
        } catch {
            throw PubSubError(.decryptionFailed, "\(error)")
        }
    }

    /// The bytes an author signs: the context, then what places the payload in exactly one object.
    /// With an order, the tag and number are signed too: rewrapping a signed payload under
    /// another place in the order breaks the signature.
    static func authorMessage(
        topicID: TopicID, objectType: UInt32, timestamp: UInt32, nonce: [UInt8], order: [PublisherRun] = [],
        payload: [UInt8]
    ) -> [UInt8] {
        var w = ByteWriter(reservingCapacity: 16 + 32 + 8 + 24 + 1 + runLength * order.count + payload.count)
        w.write(bytes: authorContext)
        w.write(bytes: topicID.bytes)
        w.write(objectType)
        w.write(timestamp)
        w.write(bytes: nonce)
        write(order, into: &w)
        w.write(bytes: payload)
        return w.bytes
    }

    public static func == (lhs: ObjectPlaintext, rhs: ObjectPlaintext) -> Bool {
        lhs.payload == rhs.payload && lhs.author?.key == rhs.author?.key
            && lhs.author?.signature == rhs.author?.signature && lhs.order == rhs.order
    }
}

/// The runs' bytes (nothing when there is no order).
extension ObjectPlaintext {
    static func write(_ runs: [PublisherRun], into w: inout ByteWriter) {
        guard !runs.isEmpty else { return }
        w.write(UInt8(runs.count))
        for run in runs {
            w.write(run.tag)
            w.write(run.number)
            w.write(run.count)
        }
    }
}

/// Consecutive payloads of one object from one publisher: its tag, the first one's number
/// (the others follow it) and how many.
public struct PublisherRun: Sendable, Hashable {
    public var tag: UInt64
    public var number: UInt32
    public var count: UInt16

    /// A run.
    public init(tag: UInt64, number: UInt32, count: UInt16) {
        self.tag = tag
        self.number = number
        self.count = count
    }
}

/// Where a message stands in its publisher's order (spec/broker.md "Order"): a random tag per
/// publishing connection and topic, and the message's number under it (0, 1, 2, …).
public struct PublisherSequence: Sendable, Hashable {
    /// Random, per publishing connection and topic.
    public var tag: UInt64
    /// The message's number (a batch object's first entry; the others follow it).
    public var number: UInt32

    /// A place in a publisher's order.
    public init(tag: UInt64, number: UInt32) {
        self.tag = tag
        self.number = number
    }
}
