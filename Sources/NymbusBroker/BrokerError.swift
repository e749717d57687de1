public import NymbusCrypto

/// The codes of ``BrokerError``.
extension ErrorCode<BrokerError> {
    /// The path does not fit a Unix socket address (107 bytes on Linux, 103 on macOS).
    public static let socketPathTooLong = Self("socketPathTooLong")
    /// The socket's directory is not owned by this user or is open to group or others.
    public static let unsafeDirectory = Self("unsafeDirectory")
    /// Something other than a socket exists at the path.
    public static let notASocket = Self("notASocket")
    /// Another broker (or another program) is already serving the path.
    public static let alreadyRunning = Self("alreadyRunning")
    /// Binding the socket failed.
    public static let bindFailed = Self("bindFailed")
    /// Creating the directory, the lock file or setting permissions failed.
    public static let fileSystem = Self("fileSystem")
    /// `start` was called twice, or after `stop`.
    public static let invalidState = Self("invalidState")
    /// The stream store could not be opened or read.
    public static let streamStore = Self("streamStore")
    /// A `BrokerConfiguration` field is out of its range (the reason names it and the range).
    public static let invalidConfiguration = Self("invalidConfiguration")
}

/// Why a broker could not start (or was used in the wrong state).
///
/// The `reason` is meant for the person running the node: it names the path and what to do.
/// Equality compares only the `code`.
public struct BrokerError: CodedError {
    public let details: ErrorDetails<Self>
    public init(details: ErrorDetails<Self>) { self.details = details }
}
