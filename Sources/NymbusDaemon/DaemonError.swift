/// Errors from assembling and running a whole Nymbus node (`nymbus run`, `nymbus devnet`).
///
/// Equality compares only the `code`; the `reason` tells the user what to fix.
public struct DaemonError: Error, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case dataDirectory, dataDirectoryLocked, corruptFile, startFailed, invalidConfiguration
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The data directory cannot be created, read or written.
        public static let dataDirectory = Code(.dataDirectory)
        /// Another node (its process id is in the message) holds the data directory's lock.
        public static let dataDirectoryLocked = Code(.dataDirectoryLocked)
        /// A file in the data directory does not parse; it is left in place for inspection.
        public static let corruptFile = Code(.corruptFile)
        /// A part (nym-client connection, node, broker) failed to start.
        public static let startFailed = Code(.startFailed)
        /// Options that contradict each other or are out of range.
        public static let invalidConfiguration = Code(.invalidConfiguration)

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

    public static func == (lhs: DaemonError, rhs: DaemonError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { reason }
}
