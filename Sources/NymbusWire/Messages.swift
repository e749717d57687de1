public import NymbusCrypto

/// Opens a link: who we are (protocol and services), a fresh nonce, and, unless the sender is
/// hidden, the Nym address to answer at.
public struct VersionMessage: Equatable, Sendable {
    /// Highest overlay protocol version the sender speaks; the link uses the lower of the two.
    public var protocolVersion: UInt16
    /// What the sender offers.
    public var services: Services
    /// Sender's clock in Unix seconds, rounded down to the minute (coarse on purpose).
    public var timestamp: Int64
    /// Random per link: detects connecting to ourselves, and must be echoed in the peer's `verack`.
    public var nonce: UInt64
    /// Software name and version, at most 64 bytes.
    public var userAgent: String
    /// Where to answer with plain `send`; `nil` in hidden mode, where answers go back by SURB `reply`.
    public var returnAddress: Recipient?

    public init(
        protocolVersion: UInt16, services: Services, timestamp: Int64, nonce: UInt64, userAgent: String,
        returnAddress: Recipient?
    ) {
        self.protocolVersion = protocolVersion
        self.services = services
        self.timestamp = timestamp
        self.nonce = nonce
        self.userAgent = userAgent
        self.returnAddress = returnAddress
    }
}

/// Accepts a link, echoing the nonce of the `version` it answers. Because the `version` went to
/// the address the peer claimed, the echo proves the peer really receives at that address.
public struct VerackMessage: Equatable, Sendable {
    /// The peer's `version` nonce.
    public var echoNonce: UInt64
    public init(echoNonce: UInt64) { self.echoNonce = echoNonce }
}

/// One known peer in an `addr` message.
public struct AddressEntry: Equatable, Sendable {
    /// The peer's Nym address.
    public var address: Recipient
    /// When it was last seen, Unix seconds (coarse).
    public var lastSeen: UInt32
    /// What it offers.
    public var services: Services

    public init(address: Recipient, lastSeen: UInt32, services: Services) {
        self.address = address
        self.lastSeen = lastSeen
        self.services = services
    }

    /// Encoded size: address, last-seen, services.
    public static let encodedLength = Recipient.byteLength + 4 + 8
}

/// Tells a peer one of its messages was refused, without closing the link.
public struct RejectMessage: Equatable, Sendable {
    public var code: ReasonCode
    /// The command byte of the refused message.
    public var command: UInt8
    /// Human-readable detail, at most 111 bytes.
    public var reason: String

    public init(code: ReasonCode, command: UInt8, reason: String) {
        self.code = code
        self.command = command
        self.reason = reason
    }
}

/// Closes a link, saying why.
public struct ByeMessage: Equatable, Sendable {
    public var code: ReasonCode
    /// Human-readable detail, at most 255 bytes.
    public var reason: String

    public init(code: ReasonCode, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// A value of an application-defined `WireCodable` type, sent directly to one peer.
public struct CustomObject: Equatable, Sendable {
    /// The type's `wireTypeID`.
    public var typeID: UInt32
    /// The value's serialized bytes.
    public var body: [UInt8]

    public init(typeID: UInt32, body: [UInt8]) {
        self.typeID = typeID
        self.body = body
    }
}
