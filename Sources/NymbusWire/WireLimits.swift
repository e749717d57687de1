/// The bounds every decoder enforces before it allocates. See spec/wire.md for why each is what it is.
public struct WireLimits: Sendable, Equatable {
    /// Largest envelope payload accepted (bytes).
    public var maxPayload: Int = 131_072
    /// Most entries in one `addr` (Bitcoin's limit).
    public var maxAddrEntries: Int = 1000
    /// Longest `version` user agent (UTF-8 bytes). Short on purpose: it is a fingerprint.
    public var maxUserAgent: Int = 64
    /// Largest pub/sub object carried in `object`.
    public var maxObject: Int = 98_304
    /// Largest body of a custom object.
    public var maxCustomBody: Int = 65_536
    /// Most ids in one `inv` or `getdata` (a window of gossip fits in one message: 500 × 32 B
    /// = 16 000 bytes, about 10 Nym packets).
    public var maxInventory: Int = 500
    /// Longest `reject` reason (UTF-8 bytes).
    public var maxRejectReason: Int = 111
    /// Longest `bye` reason (UTF-8 bytes).
    public var maxByeReason: Int = 255

    public init() {}

    /// The limits Nymbus uses unless configured otherwise.
    public static let `default` = WireLimits()
}
