public import NymbusCrypto
public import NymbusWire

/// One message delivered to a local subscription: a whole single object, or one entry of a
/// `rawBytesBatch` object (then `batchIndex` tells which; the entries of one object arrive in
/// order, one `Delivery` each, all with the object's id, author and timestamp).
public struct Delivery: Sendable {
    /// The topic it was published to.
    public let topic: Topic
    /// Its object's message id (shared by every entry of a batch).
    public let messageID: MessageID
    /// Position of this payload in its object: 0 for a single object, 0..<`batchCount` in a batch.
    /// `(messageID, batchIndex)` identifies a delivered message.
    public let batchIndex: Int
    /// Payloads its object carried: 1 for a single object, at least 2 for a batch.
    public let batchCount: Int
    /// The payload's type (0 = raw bytes; entries of a batch are raw bytes, so 0 as well).
    public let objectType: UInt32
    /// The payload.
    public let payload: [UInt8]
    /// The author's key, if the publisher signed as an author (see `AuthorMode`).
    public let author: Ed25519.PublicKey?
    /// Creation time claimed by the publisher, minutes since the Unix epoch.
    public let timestamp: UInt32
    /// When this node received it, seconds since the Unix epoch.
    public let receivedAt: Int64
    /// Whether this node published it.
    public let isOwn: Bool
    /// The payload decoded as its registered `WireCodable` type, if one is registered.
    public let value: (any WireCodable)?

    /// Decodes the payload as `T`, checking the object type first.
    public func decode<T: WireCodable>(as type: T.Type) throws(PubSubError) -> T {
        guard objectType == T.wireTypeID else {
            throw PubSubError(.typeMismatch, "object type \(objectType) is not \(T.self)'s \(T.wireTypeID)")
        }
        if let value = value as? T { return value }
        do { return try T(serializedBytes: payload) } catch {
            throw PubSubError(.typeMismatch, "payload does not decode as \(T.self): \(error.reason)")
        }
    }
}

/// What a publish did.
public struct PublishResult: Sendable, Equatable {
    /// The object's id (a held publish that is re-sealed later gets a new one; see spec §9).
    public let messageID: MessageID
    /// Peers the object was sent to now (0 if it was queued). Every payload of one batch object
    /// reports the same object's count: sum it over distinct ids, not over payloads.
    public let transmissions: Int
    /// Whether it waits for the first peer to connect.
    public let queued: Bool
    /// Local subscriptions this payload was delivered to.
    public let localDeliveries: Int
    /// Position of the payload in its object: 0 for a single object.
    public var batchIndex: Int = 0
    /// Payloads the object carries: 1 for a single object, at least 2 for a batch.
    public var batchCount: Int = 1
}
