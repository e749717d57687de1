/// Errors from the nym-client boundary: codecs, the connection, and the send queue.
///
/// Equality compares only the `code`; the `reason` says what to do about it.
public struct NymClientError: Error, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case malformedRequest, malformedResponse, invalidAddress, invalidSenderTag
            case notConnected, connectionFailed, queueFull, closed, serverError, timeout
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Request bytes or JSON that do not follow the nym-client API.
        public static let malformedRequest = Code(.malformedRequest)
        /// Response bytes or JSON that do not follow the nym-client API.
        public static let malformedResponse = Code(.malformedResponse)
        /// A Nym address that does not parse or validate.
        public static let invalidAddress = Code(.invalidAddress)
        /// A sender tag that is not 16 bytes.
        public static let invalidSenderTag = Code(.invalidSenderTag)
        /// No WebSocket to the nym-client right now.
        public static let notConnected = Code(.notConnected)
        /// The WebSocket could not be opened.
        public static let connectionFailed = Code(.connectionFailed)
        /// The bounded outbound queue is full; slow down or retry later.
        public static let queueFull = Code(.queueFull)
        /// The connection was closed on purpose and takes no more messages.
        public static let closed = Code(.closed)
        /// nym-client answered with an `error` response.
        public static let serverError = Code(.serverError)
        /// nym-client did not answer in time.
        public static let timeout = Code(.timeout)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let reason: String
    public let location: String

    public init(_ code: Code, _ reason: String, file: StaticString = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    public static func == (lhs: NymClientError, rhs: NymClientError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "NymClientError.\(code): \(reason)" }
}
