/// Why a broker could not start (or was used in the wrong state).
///
/// The `reason` is meant for the person running the node: it names the path and what to do.
/// Equality compares only the `code`.
public struct BrokerError: Error, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case socketPathTooLong, unsafeDirectory, notASocket, alreadyRunning, bindFailed, fileSystem, invalidState, streamStore
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The path does not fit a Unix socket address (107 bytes on Linux, 103 on macOS).
        public static let socketPathTooLong = Code(.socketPathTooLong)
        /// The socket's directory is not owned by this user or is open to group or others.
        public static let unsafeDirectory = Code(.unsafeDirectory)
        /// Something other than a socket exists at the path.
        public static let notASocket = Code(.notASocket)
        /// Another broker (or another program) is already serving the path.
        public static let alreadyRunning = Code(.alreadyRunning)
        /// Binding the socket failed.
        public static let bindFailed = Code(.bindFailed)
        /// Creating the directory, the lock file or setting permissions failed.
        public static let fileSystem = Code(.fileSystem)
        /// `start` was called twice, or after `stop`.
        public static let invalidState = Code(.invalidState)
        /// The stream store could not be opened or read.
        public static let streamStore = Code(.streamStore)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What happened and what to do about it.
    public let reason: String
    /// Where the error was raised (`file:line`), for logs.
    public let location: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String, file: StaticString = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    public static func == (lhs: BrokerError, rhs: BrokerError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "BrokerError.\(code): \(reason)" }
}
