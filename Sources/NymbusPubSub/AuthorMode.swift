public import NymbusCrypto

/// Which key, if any, signs the payload inside the ciphertext.
///
/// Only members see author signatures; relays never do. `none` is the default because any
/// stable key links a node's objects: `perTopic` links them within one topic only, `perNode`
/// across every topic the node writes to.
public enum AuthorMode: Sendable, Hashable {
    /// No author signature: members know only that a member wrote it.
    case none
    /// A key derived from the node's author secret and the topic id: stable within the topic,
    /// unlinkable across topics.
    case perTopic
    /// One key for every topic: readers of two topics can tell the same node wrote both.
    case perNode
}

/// Derives author signing keys from a node's 32-byte author secret (spec/pubsub.md §6).
public struct AuthorKeys: Sendable {
    private let secret: SecureBytes
    private static let nodeContext = Array("nymbus author node v1".utf8)
    private static let topicContext = Array("nymbus author topic v1".utf8)

    /// Wraps a 32-byte author secret (random per node unless persisted by the node).
    public init(secret: SecureBytes) throws(PubSubError) {
        guard secret.count == 32 else {
            throw PubSubError(.invalidConfiguration, "an author secret has 32 bytes, got \(secret.count)")
        }
        self.secret = secret
    }

    /// The key for `mode` in `topic`, or nil for `.none`.
    ///
    /// per node:  seed = BLAKE2b-256(message: "nymbus author node v1", key: secret)
    /// per topic: seed = BLAKE2b-256(message: "nymbus author topic v1" ‖ topic id, key: secret)
    public func key(for mode: AuthorMode, topic: TopicID) -> Ed25519.SigningKey? {
        let message: [UInt8]
        switch mode {
        case .none: return nil
        case .perNode: message = AuthorKeys.nodeContext
        case .perTopic: message = AuthorKeys.topicContext + topic.bytes
        }
        let seed = secret.withUnsafeBytes { key in
            // Lengths are fixed and valid: a 32-byte key and a 32-byte output.
            try! Blake2b.hash(message, outputLength: 32, key: Array(key))
        }
        return try! Ed25519.SigningKey(seed: seed)
    }
}
