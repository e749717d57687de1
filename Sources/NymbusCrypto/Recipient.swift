/// A Nym client address: who a message is for on the mixnet.
///
/// 96 bytes: the client's Ed25519 identity key, its X25519 encryption key, and the Ed25519
/// identity of its gateway. Its string form is `base58(identity).base58(encryption)@base58(gateway)`
/// with the Bitcoin alphabet, exactly as nym-client prints and parses it. It lives in
/// `NymbusCrypto` because both the overlay wire format and the nym-client API carry it.
public struct Recipient: Hashable, Sendable, CustomStringConvertible {
    /// Length of the binary form.
    public static let byteLength = 96

    /// The client's Ed25519 identity key (32 bytes).
    public let identityKey: [UInt8]
    /// The client's X25519 encryption key (32 bytes, any value).
    public let encryptionKey: [UInt8]
    /// The gateway's Ed25519 identity key (32 bytes).
    public let gatewayKey: [UInt8]

    /// Parses the 96-byte binary form, checking both Ed25519 keys as nym-client does.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Recipient.byteLength else {
            throw CryptoError(.invalidLength, "a Nym address has 96 bytes, got \(bytes.count)")
        }
        try self.init(
            identityKey: Array(bytes[0..<32]), encryptionKey: Array(bytes[32..<64]), gatewayKey: Array(bytes[64..<96]))
    }

    /// Builds an address from its three keys, checking both Ed25519 keys.
    public init(identityKey: [UInt8], encryptionKey: [UInt8], gatewayKey: [UInt8]) throws(CryptoError) {
        guard identityKey.count == 32, encryptionKey.count == 32, gatewayKey.count == 32 else {
            throw CryptoError(.invalidLength, "each part of a Nym address has 32 bytes")
        }
        guard Ed25519.isValidPoint(identityKey) else {
            throw CryptoError(.invalidPoint, "recipient's identity key is malformed: not a valid Ed25519 point")
        }
        guard Ed25519.isValidPoint(gatewayKey) else {
            throw CryptoError(.invalidPoint, "recipient gateway's identity key is malformed: not a valid Ed25519 point")
        }
        self.identityKey = identityKey
        self.encryptionKey = encryptionKey
        self.gatewayKey = gatewayKey
    }

    /// Parses `identity.encryption@gateway` (base58), with nym-client's rules: exactly one `@`,
    /// exactly one `.` left of it, each part decoding to exactly 32 bytes.
    public init(string: String) throws(CryptoError) {
        let halves = string.split(separator: "@", omittingEmptySubsequences: false)
        guard halves.count == 2 else {
            throw CryptoError(.invalidLength, "the string address does not contain exactly a single '@' character")
        }
        let client = halves[0].split(separator: ".", omittingEmptySubsequences: false)
        guard client.count == 2 else {
            throw CryptoError(.invalidLength, "the client part of the address does not contain exactly a single '.' character")
        }
        let identity = try Base58.decode(String(client[0]))
        let encryption = try Base58.decode(String(client[1]))
        let gateway = try Base58.decode(String(halves[1]))
        guard identity.count == 32, encryption.count == 32, gateway.count == 32 else {
            throw CryptoError(.invalidLength, "each base58 part of a Nym address must decode to 32 bytes")
        }
        try self.init(identityKey: identity, encryptionKey: encryption, gatewayKey: gateway)
    }

    /// The 96-byte binary form.
    public var bytes: [UInt8] { identityKey + encryptionKey + gatewayKey }

    /// The string form nym-client prints.
    public var description: String {
        "\(Base58.encode(identityKey)).\(Base58.encode(encryptionKey))@\(Base58.encode(gatewayKey))"
    }

    /// A fresh, valid address with random keys (for the local mixnet and tests).
    public static func random() -> Recipient {
        try! Recipient(
            identityKey: Ed25519.SigningKey().publicKey.bytes, encryptionKey: SecureRandom.bytes(32),
            gatewayKey: Ed25519.SigningKey().publicKey.bytes)
    }
}
