public import NymbusCrypto

/// One simulated nym-client: where it listens and the Nym address it answers `selfAddress` with.
public struct MixnetEndpoint: Sendable, Equatable {
    /// Position in the mixnet (0-based, stable across restarts with a state directory).
    public let index: Int
    /// The endpoint's Nym address.
    public let address: Recipient
    /// Listen host.
    public let host: String
    /// Listen port (the actual one once started; 0 before the first start when ports are picked).
    public let port: Int

    /// The WebSocket URL a node connects to, e.g. `ws://127.0.0.1:1977/`.
    public var url: String {
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "ws://\(bracketed):\(port)/"
    }

    /// Creates an endpoint description.
    public init(index: Int, address: Recipient, host: String, port: Int) {
        self.index = index
        self.address = address
        self.host = host
        self.port = port
    }
}
