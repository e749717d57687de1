import NymbusCrypto

/// The 128-bit identifier of one overlay link, chosen at random by the link's initiator.
///
/// The mixnet tells a receiver nothing reliable about who sent a message, so the session id in
/// every envelope is what ties a message to a peer: knowing it is the capability to speak on
/// that link. It is never derived from anything about the node.
public struct SessionID: Hashable, Sendable, CustomStringConvertible {
    /// Length in bytes.
    public static let byteLength = 16
    /// The raw id.
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(WireError) {
        guard bytes.count == SessionID.byteLength else {
            throw WireError(.invalidValue, "a session id has 16 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// A fresh id from the CSPRNG.
    public static func random() -> SessionID { try! SessionID(bytes: SecureRandom.bytes(byteLength)) }

    /// A short prefix for logs: enough to tell links apart, too short to replay the capability.
    public var description: String { String(Hex.encode(bytes).prefix(8)) }
}
