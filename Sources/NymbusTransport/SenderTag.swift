import NymbusCrypto

/// The 16-byte anonymous sender tag nym-client attaches to messages sent with `sendAnonymous`.
///
/// A receiver answers the anonymous sender by `reply` to this tag, spending reply SURBs.
/// nym-client keeps one tag per (sender, recipient), so it is a stable pseudonym for a peer.
public struct SenderTag: Hashable, Sendable, CustomStringConvertible {
    /// Length in bytes.
    public static let byteLength = 16
    /// The raw tag.
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(TransportError) {
        guard bytes.count == SenderTag.byteLength else {
            throw TransportError(
                .invalidSenderTag, "Decoded AnonymousSenderTag has invalid length. Expected 16, but got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Parses the base58 form nym-client uses in JSON.
    public init(base58 string: String) throws(TransportError) {
        let raw: [UInt8]
        do { raw = try Base58.decode(string) } catch {
            throw TransportError(.invalidSenderTag, "sender tag is not valid base58: \(error.reason)")
        }
        try self.init(bytes: raw)
    }

    /// A fresh random tag.
    public static func random() -> SenderTag { try! SenderTag(bytes: SecureRandom.bytes(16)) }

    /// The base58 form.
    public var description: String { Base58.encode(bytes) }
}
