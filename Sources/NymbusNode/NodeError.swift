/// Why a node operation failed: dialing a peer, loading the address book, sending to a peer.
///
/// Equality compares only the `code`, so tests match on the kind of failure; the `reason`
/// says what happened and what to do about it.
public struct NodeError: Error, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case notStarted, stopped, transport, handshakeTimeout, refused, noInbound, selfConnection
            case incompatibleVersion, discouraged, unknownPeer, tooManyPeers, corruptAddressBook, persistence
            case corruptDiscouragementList
            case invalidObject, oversized, disconnected
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// `start()` has not been called (or failed).
        public static let notStarted = Code(.notStarted)
        /// The node is stopping or stopped.
        public static let stopped = Code(.stopped)
        /// The nym-client transport failed (not connected, queue full, ...).
        public static let transport = Code(.transport)
        /// The peer did not complete the handshake in time.
        public static let handshakeTimeout = Code(.handshakeTimeout)
        /// The peer said `bye` during the handshake.
        public static let refused = Code(.refused)
        /// The peer accepts no inbound links (it is a hidden node).
        public static let noInbound = Code(.noInbound)
        /// The address dialed is this node itself (detected by the version nonce).
        public static let selfConnection = Code(.selfConnection)
        /// The peer speaks a protocol version this node does not.
        public static let incompatibleVersion = Code(.incompatibleVersion)
        /// The address is discouraged after misbehaving.
        public static let discouraged = Code(.discouraged)
        /// No established link has this `PeerID`.
        public static let unknownPeer = Code(.unknownPeer)
        /// The node has no room for another link.
        public static let tooManyPeers = Code(.tooManyPeers)
        /// The address book file exists but cannot be read back; it was kept aside, not replaced.
        public static let corruptAddressBook = Code(.corruptAddressBook)
        /// The discouragement list file exists but cannot be read back; it was kept aside, not replaced.
        public static let corruptDiscouragementList = Code(.corruptDiscouragementList)
        /// The data directory or a file in it could not be written.
        public static let persistence = Code(.persistence)
        /// A custom object type is not registered or does not encode.
        public static let invalidObject = Code(.invalidObject)
        /// A message is larger than the wire limits allow.
        public static let oversized = Code(.oversized)
        /// The link closed for another reason (the peer misbehaved, timed out, ...).
        public static let disconnected = Code(.disconnected)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What happened, for people and logs.
    public let reason: String
    /// Where the error was made (`file:line`).
    public let location: String

    /// Makes an error of kind `code`.
    public init(_ code: Code, _ reason: String, file: StaticString = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    public static func == (lhs: NodeError, rhs: NodeError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "NodeError.\(code): \(reason)" }
}
