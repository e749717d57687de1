/// The one error type of `NymbusMixnet`: configuration, state files and listening sockets.
///
/// Equality compares only the `code`, so tests match on what went wrong while logs keep the
/// human-readable `reason` and the place it was raised.
public struct MixnetError: Error, Hashable, CustomStringConvertible {
    /// What went wrong, as a value that can grow without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidConfiguration, nonLoopbackHost, corruptState, stateIO, bindFailed
            case unknownEndpoint, notRunning, alreadyRunning
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A configuration value is out of range (negative delay, probability outside 0...1, ...).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The listen host is not a loopback address; the local mixnet never listens elsewhere.
        public static let nonLoopbackHost = Code(.nonLoopbackHost)
        /// The state file exists but cannot be parsed; it is never silently replaced.
        public static let corruptState = Code(.corruptState)
        /// The state directory or file could not be read or written.
        public static let stateIO = Code(.stateIO)
        /// A listening socket could not be opened (port in use, permission).
        public static let bindFailed = Code(.bindFailed)
        /// No endpoint has that index.
        public static let unknownEndpoint = Code(.unknownEndpoint)
        /// The operation needs a started mixnet.
        public static let notRunning = Code(.notRunning)
        /// `start()` was called on a running mixnet.
        public static let alreadyRunning = Code(.alreadyRunning)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What happened, with the numbers or paths involved.
    public let reason: String
    /// Where it was raised (`file:line`).
    public let location: String

    init(_ code: Code, _ reason: String, file: StaticString = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    public static func == (lhs: MixnetError, rhs: MixnetError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "MixnetError.\(code): \(reason)" }
}
