/// A refusal from a ``BrokerBackend``, shown to the client as `-ERR <reason>`.
///
/// The `reason` is user-facing: say what is wrong and what to do (`topic is private and not
/// joined: run NYMBUS.JOIN <invite> first`). CR and LF in it are sent as spaces. Equality compares
/// only the `code`.
public struct BrokerBackendError: Error, Hashable, CustomStringConvertible {
    /// The kind of refusal.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidArgument, payloadTooLarge, notJoined, unknownCommand, unavailable, rateLimited, failed
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// An argument is malformed: a bad invite string, an invalid topic name, wrong count.
        public static let invalidArgument = Code(.invalidArgument)
        /// The payload is larger than the overlay accepts.
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// The channel is a private topic this node has not joined.
        public static let notJoined = Code(.notJoined)
        /// No such `NYMBUS.*` command.
        public static let unknownCommand = Code(.unknownCommand)
        /// The overlay cannot take the request now (not connected to the mixnet, shutting down).
        public static let unavailable = Code(.unavailable)
        /// Too many publishes; try again later.
        public static let rateLimited = Code(.rateLimited)
        /// Anything else.
        public static let failed = Code(.failed)

        public var description: String { base.rawValue }
    }

    /// The kind of refusal.
    public let code: Code
    /// The message the client sees after `ERR `.
    public let reason: String
    /// Where the error was raised (`file:line`), for logs.
    public let location: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String, file: StaticString = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    /// The error reply the client gets: `-ERR <reason>`.
    public var reply: RESPValue { .err(reason) }

    public static func == (lhs: BrokerBackendError, rhs: BrokerBackendError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "BrokerBackendError.\(code): \(reason)" }
}
