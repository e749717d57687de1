import NymbusCrypto

/// The relay rules as a pure state machine: bytes in, a decision out (spec/pubsub.md §7).
///
/// Checks run cheapest first: size, structure, age, seen cache, then the one Ed25519 verify.
/// An id enters the seen cache only after its signature verified, so a forged copy can never
/// shadow the genuine object.
public struct ObjectRouter: Sendable {
    /// Why an object was refused.
    public enum DropReason: Sendable, Hashable {
        /// Larger than the local limit.
        case oversized
        /// Does not parse.
        case malformed
        /// Unknown version byte.
        case unsupportedVersion
        /// Timestamp older than `maxAge`.
        case tooOld
        /// Timestamp more than `maxFuture` ahead.
        case future
        /// Already seen.
        case duplicate
        /// Membership signature does not verify.
        case badSignature
        /// Seen cache full of live ids.
        case cacheFull
    }

    /// What to do with an object.
    public enum Decision: Sendable {
        /// Refuse it; penalise the peer that sent it if `penalize`.
        case drop(DropReason, penalize: Bool, detail: String)
        /// New and valid: deliver if subscribed, forward if its hop limit allows.
        case accept(TopicObject, MessageID)
        /// Already seen (never penalised): the id, so gossip repair learns the sender has it.
        case duplicate(MessageID)
    }

    /// Ids already handled.
    public private(set) var seen: SeenCache
    let maxObjectBytes: Int
    let maxAge: Int64
    let maxFuture: Int64

    /// A router with an empty seen cache.
    public init(configuration: PubSubConfiguration) {
        seen = SeenCache(capacity: configuration.seenCapacity, window: configuration.seenWindow.wholeSeconds)
        maxObjectBytes = configuration.maxObjectBytes
        maxAge = configuration.maxAge.wholeSeconds
        maxFuture = configuration.maxFuture.wholeSeconds
    }

    /// Decides about object bytes from a peer at wall-clock time `now` (Unix seconds).
    public mutating func route(_ bytes: [UInt8], now: Int64) -> Decision {
        guard bytes.count <= maxObjectBytes else {
            // Above our own limit is honest if a peer's limit is higher; above the protocol's is not.
            return .drop(
                .oversized, penalize: bytes.count > TopicObject.protocolMaxBytes,
                detail: "\(bytes.count) bytes > \(maxObjectBytes)")
        }
        let object: TopicObject
        do {
            object = try TopicObject(bytes: bytes, maxBytes: maxObjectBytes)
        } catch {
            if error.code == .unsupportedVersion {
                return .drop(.unsupportedVersion, penalize: false, detail: error.reason)
            }
            return .drop(.malformed, penalize: true, detail: error.reason)
        }
        let time = object.timestampSeconds
        guard time >= now - maxAge else {
            return .drop(.tooOld, penalize: false, detail: "\(now - time) s old")
        }
        guard time <= now + maxFuture else {
            return .drop(.future, penalize: false, detail: "\(time - now) s ahead")
        }
        let id = object.messageID
        guard !seen.contains(id) else { return .duplicate(id) }
        guard object.hasValidMembershipSignature else {
            return .drop(.badSignature, penalize: true, detail: "topic \(object.topicID)")
        }
        switch seen.insert(id, now: now) {
        case .inserted: return .accept(object, id)
        case .duplicate: return .duplicate(id)
        case .full: return .drop(.cacheFull, penalize: false, detail: "\(seen.count) live ids")
        }
    }

    /// Remembers the id of an object this node published, so echoes count as duplicates.
    public mutating func recordOwn(_ id: MessageID, now: Int64) -> SeenCache.InsertResult {
        seen.insert(id, now: now)
    }
}
