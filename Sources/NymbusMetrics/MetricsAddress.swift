/// Where the metrics endpoint listens: `HOST:PORT` from `--metrics`, checked to be a loopback
/// address unless the operator explicitly allows others.
public struct MetricsAddress: Sendable, Hashable, CustomStringConvertible {
    /// A literal IP address (`127.0.0.1`, `::1`) or `localhost`.
    public let host: String
    /// The TCP port; 0 asks the system for a free one.
    public let port: Int

    /// Why an address was refused.
    public struct Invalid: Error, CustomStringConvertible {
        /// A sentence naming the problem and the fix.
        public let description: String
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT` or a bare `PORT` (meaning 127.0.0.1).
    ///
    /// - Parameter allowNonLoopback: accept an address other than loopback (`--metrics-public`).
    /// - Throws: ``Invalid`` for a malformed address, a port outside 0...65535, or a
    ///   non-loopback host without `allowNonLoopback`.
    public init(parsing text: String, allowNonLoopback: Bool = false) throws(Invalid) {
        var host: Substring
        var portText: Substring
        if let port = Int(text) {
            host = "127.0.0.1"
            portText = Substring(String(port))
        } else if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw Invalid(description: "\(text): expected [IPv6]:PORT") }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            throw Invalid(description: "\(text): expected HOST:PORT, e.g. 127.0.0.1:9464")
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw Invalid(description: "\(text): the port must be a number within 0...65535")
        }
        guard !host.isEmpty else { throw Invalid(description: "\(text): the host is missing, e.g. 127.0.0.1:\(port)") }
        let address = MetricsAddress(host: String(host), port: port)
        if !allowNonLoopback, !address.isLoopback {
            throw Invalid(
                description: "\(text) is not a loopback address: metrics tell how busy this node is, so they stay "
                    + "on 127.0.0.1 or ::1 unless you also give --metrics-public")
        }
        self = address
    }

    /// An address as is, without checks.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Whether the host is `localhost`, in 127.0.0.0/8, or `::1`.
    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return false }
        return parts[0] == "127"
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
