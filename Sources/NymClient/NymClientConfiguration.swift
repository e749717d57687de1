import NymbusCrypto

/// Where the nym-client WebSocket is and how the connection to it behaves.
///
/// The defaults match a stock nym-client (`ws://127.0.0.1:1977/`) and its tungstenite read limits
/// (16 MiB per frame, 64 MiB per message).
public struct NymClientConfiguration: Sendable, Equatable {
    /// Host of the nym-client WebSocket (loopback by default; nym-client listens on 127.0.0.1).
    public var host: String
    /// TCP port (nym-client's default is 1977).
    public var port: Int
    /// Request path of the upgrade; nym-client ignores it.
    public var path: String
    /// First reconnect delay; it doubles per failed attempt up to `maxBackoff`, with jitter.
    public var initialBackoff: Duration
    /// Largest reconnect delay.
    public var maxBackoff: Duration
    /// Most outbound messages held while disconnected (or while the socket is backed up);
    /// a send beyond this fails with `.queueFull`.
    public var maxQueuedMessages: Int
    /// How long nym-client may take to answer the WebSocket handshake or `selfAddress` before the
    /// connection is dropped and retried; also bounds the final flush in `close()`.
    public var requestTimeout: Duration
    /// TCP connect timeout per attempt.
    public var connectTimeout: Duration
    /// How long `start()` waits for the first ready connection; `nil` waits until `close()`.
    /// nym-client opens its port only after it reached its gateway, which can take a while.
    public var startTimeout: Duration?
    /// Largest frame we send (nym-client reads at most 16 MiB per frame); bigger messages go out
    /// as a binary frame plus continuation frames.
    public var maxFrameSize: Int
    /// Largest WebSocket message, in and out, after joining continuation frames (nym-client:
    /// 64 MiB). Also bounds a single inbound frame, because nym-client sends each message as one
    /// frame.
    public var maxMessageSize: Int
    /// Received messages buffered in `inbound` for a slow consumer; beyond this newer messages
    /// are dropped, logged and counted (`droppedInboundCount`).
    public var maxBufferedInbound: Int
    /// Messages the socket accepted this long before the connection dropped are sent again after
    /// reconnecting: frames still in flight when a WebSocket breaks are lost, and nym-client never
    /// acknowledges. So delivery across a reconnect is at least once; the overlay drops the
    /// duplicates (objects by message id, control messages by session state). Zero disables it.
    public var resendWindow: Duration = .milliseconds(250)
    /// At most this many recently written messages are kept for `resendWindow`.
    public var maxResend: Int = 64

    /// Creates a configuration; every parameter has nym-client's default.
    public init(
        host: String = "127.0.0.1", port: Int = 1977, path: String = "/",
        initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(5),
        maxQueuedMessages: Int = 1024, requestTimeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5), startTimeout: Duration? = nil,
        maxFrameSize: Int = 16 << 20, maxMessageSize: Int = 64 << 20, maxBufferedInbound: Int = 65_536
    ) {
        self.host = host
        self.port = port
        self.path = path
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxQueuedMessages = maxQueuedMessages
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.startTimeout = startTimeout
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.maxBufferedInbound = maxBufferedInbound
    }

    /// Parses `ws://host[:port][/path]` (IPv6 hosts in brackets). Without a port, 1977 (nym-client's
    /// default) is used. Only `ws` is accepted: nym-client has no TLS.
    public init(url: String) throws(NymClientError) {
        self.init()
        guard url.hasPrefix("ws://") else {
            throw NymClientError(.connectionFailed, "nym-client URL must start with ws:// (nym-client has no TLS)")
        }
        let rest = url.dropFirst(5)
        let authority = rest.prefix(while: { $0 != "/" })
        let path = rest.dropFirst(authority.count)
        self.path = path.isEmpty ? "/" : String(path)
        var hostPart = Substring(authority)
        var portPart: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else {
                throw NymClientError(.connectionFailed, "unterminated IPv6 host in nym-client URL")
            }
            let after = hostPart[hostPart.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else {
                    throw NymClientError(.connectionFailed, "bad nym-client URL authority")
                }
                portPart = after.dropFirst()
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty, !hostPart.contains("@") else {
            throw NymClientError(.connectionFailed, "nym-client URL has no host")
        }
        self.host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else {
                throw NymClientError(.connectionFailed, "nym-client URL has an invalid port")
            }
            self.port = port
        }
    }

    /// Throws `NymClientError.invalidConfiguration` naming the first field out of its range and
    /// the values it may take (``FieldCheck``). `NymClientConnection.start()` calls it.
    public func validate() throws(NymClientError) {
        let check = FieldCheck<NymClientError>("NymClientConfiguration", .invalidConfiguration)
        try check.require(!host.isEmpty, "host", "empty", allowed: "a host name or address")
        try check.within("port", port, 1...65535)
        try check.above("initialBackoff", initialBackoff, .zero)
        try check.atLeast("maxBackoff", maxBackoff, initialBackoff)
        try check.atLeast("maxQueuedMessages", maxQueuedMessages, 1)
        try check.above("requestTimeout", requestTimeout, .zero)
        try check.above("connectTimeout", connectTimeout, .zero)
        if let startTimeout { try check.above("startTimeout", startTimeout, .zero) }
        try check.atLeast("maxFrameSize", maxFrameSize, 1)
        try check.atLeast("maxMessageSize", maxMessageSize, 1)
        try check.atLeast("maxBufferedInbound", maxBufferedInbound, 1)
        try check.atLeast("resendWindow", resendWindow, .zero)
        try check.atLeast("maxResend", maxResend, 0)
    }

    /// The URL form, for logs (`ws://127.0.0.1:1977/`).
    public var url: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "ws://\(h):\(port)\(path)"
    }
}
