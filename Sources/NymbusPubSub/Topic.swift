public import NymbusCrypto

/// A topic: everything derived from its 32-byte secret.
///
/// - A **public** topic's secret is a keyed BLAKE2b of its name, so whoever knows the name can
///   read and post (`Topic.named`).
/// - A **private** topic's secret is random; it travels only inside an invite string
///   (`Topic.random`, `Topic(invite:)`).
///
/// From the secret come the encryption key and the Ed25519 membership key pair; the topic id on
/// the wire is the membership public key (spec/pubsub.md §2). Equality and hashing use the id.
/// `description` never prints the secret.
public struct Topic: Sendable, Hashable, CustomStringConvertible {
    /// KDF context for the subkeys of a topic secret (libsodium `crypto_kdf`, 8 bytes).
    static let kdfContext = "NymbusTp"
    /// KDF subkey id of the XChaCha20-Poly1305 key.
    static let encryptionKeyID: UInt64 = 1
    /// KDF subkey id of the membership Ed25519 seed.
    static let membershipSeedID: UInt64 = 2
    /// BLAKE2b key under which a public topic's name is hashed into its secret.
    static let publicSecretKey = Array("nymbus public topic v1".utf8)

    /// The 32-byte topic secret. Whoever holds it is a member.
    public let secret: SecureBytes
    /// The topic's name as UTF-8 bytes, if it has one (always for public topics).
    public let nameBytes: [UInt8]?
    /// Whether the secret is the public derivation of the name.
    public let isPublic: Bool
    /// The id relays see: the membership public key.
    public let id: TopicID
    /// Key of the object ciphertexts.
    let encryptionKey: SecureBytes
    /// Signs every object of the topic; relays verify with `id`.
    let membershipKey: Ed25519.SigningKey

    /// The topic for a 32-byte secret. `name` is a label for private topics; pass `isPublic`
    /// only through `named`, which proves it.
    init(secret: SecureBytes, nameBytes: [UInt8]?, isPublic: Bool) throws(PubSubError) {
        guard secret.count == 32 else {
            throw PubSubError(.invalidInvite, "a topic secret has 32 bytes, got \(secret.count)")
        }
        do {
            encryptionKey = try KeyDerivation.derive(from: secret, id: Topic.encryptionKeyID, context: Topic.kdfContext)
            let seed = try KeyDerivation.derive(from: secret, id: Topic.membershipSeedID, context: Topic.kdfContext)
            membershipKey = try Ed25519.SigningKey(seed: seed)
        } catch {
            throw PubSubError(.cryptoFailure, "deriving topic keys failed: \(error)")
        }
        self.secret = secret
        self.nameBytes = nameBytes
        self.isPublic = isPublic
        self.id = TopicID(publicKey: membershipKey.publicKey)
    }

    /// The public topic with this name (exact UTF-8 bytes, no normalisation).
    public static func named(_ name: String) -> Topic {
        named(bytes: Array(name.utf8))
    }

    /// The public topic whose name is these bytes (Redis channel names need not be UTF-8).
    public static func named(bytes name: [UInt8]) -> Topic {
        // Valid lengths throughout: keyed BLAKE2b to 32 bytes, then the KDF on 32 bytes.
        try! Topic(secret: publicSecret(forName: name), nameBytes: name, isPublic: true)
    }

    /// A new private topic with a random secret; `name` is only a label carried in the invite.
    public static func random(name: String? = nil) -> Topic {
        try! Topic(secret: SecureBytes(randomCount: 32), nameBytes: name.map { Array($0.utf8) }, isPublic: false)
    }

    /// The topic for a known secret (e.g. loaded from disk). Marked public if `name` derives it.
    public init(secret: SecureBytes, name: String?) throws(PubSubError) {
        let nameBytes = name.map { Array($0.utf8) }
        let isPublic = nameBytes.map { Topic.publicSecret(forName: $0) == secret } ?? false
        try self.init(secret: secret, nameBytes: nameBytes, isPublic: isPublic)
    }

    /// The secret of the public topic named `name`:
    /// `BLAKE2b-256(message: name, key: "nymbus public topic v1")`.
    public static func publicSecret(forName name: [UInt8]) -> SecureBytes {
        SecureBytes(try! Blake2b.hash(name, outputLength: 32, key: publicSecretKey))
    }

    /// The name as a string, if it has one and it is valid UTF-8.
    public var name: String? {
        nameBytes.flatMap { String(validating: $0, as: UTF8.self) }
    }

    public static func == (lhs: Topic, rhs: Topic) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// Id, name and kind; never the secret.
    public var description: String {
        let label = name.map { "\"\($0)\"" } ?? (nameBytes == nil ? "unnamed" : "<binary name>")
        return "Topic(\(isPublic ? "public" : "private") \(label), id \(String(id.description.prefix(16)))…)"
    }
}
