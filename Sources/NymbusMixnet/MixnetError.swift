public import NymbusCrypto

/// The codes of ``MixnetError``.
extension ErrorCode<MixnetError> {
    /// A configuration value is out of range (negative delay, probability outside 0...1, ...).
    public static let invalidConfiguration = Self("invalidConfiguration")
    /// The listen host is not a loopback address; the local mixnet never listens elsewhere.
    public static let nonLoopbackHost = Self("nonLoopbackHost")
    /// The state file exists but cannot be parsed; it is never silently replaced.
    public static let corruptState = Self("corruptState")
    /// The state directory or file could not be read or written.
    public static let stateIO = Self("stateIO")
    /// A listening socket could not be opened (port in use, permission).
    public static let bindFailed = Self("bindFailed")
    /// No endpoint has that index.
    public static let unknownEndpoint = Self("unknownEndpoint")
    /// The operation needs a started mixnet.
    public static let notRunning = Self("notRunning")
    /// `start()` was called on a running mixnet.
    public static let alreadyRunning = Self("alreadyRunning")
}

/// The one error type of `NymbusMixnet`: configuration, state files and listening sockets.
///
/// Equality compares only the `code`, so tests match on what went wrong while logs keep the
/// human-readable `reason` and the place it was raised.
public struct MixnetError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }
}
