public import NymbusCrypto

/// The codes of ``DaemonError``.
extension ErrorCode<DaemonError> {
    /// The data directory cannot be created, read or written.
    public static let dataDirectory = Self("dataDirectory")
    /// Another node (its process id is in the message) holds the data directory's lock.
    public static let dataDirectoryLocked = Self("dataDirectoryLocked")
    /// A file in the data directory does not parse; it is left in place for inspection.
    public static let corruptFile = Self("corruptFile")
    /// A part (nym-client connection, node, broker) failed to start.
    public static let startFailed = Self("startFailed")
    /// Options that contradict each other or are out of range.
    public static let invalidConfiguration = Self("invalidConfiguration")
}

/// Errors from assembling and running a whole Nymbus node (`nymbus run`, `nymbus devnet`).
///
/// Equality compares only the `code`; the `reason` tells the user what to fix.
public struct DaemonError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }

    public var description: String { reason }
}
