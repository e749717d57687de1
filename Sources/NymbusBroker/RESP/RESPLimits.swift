/// Bounds the request parser checks before it allocates anything.
///
/// The defaults follow the object size limit of the overlay (64 KiB payloads) with headroom, so
/// an over-size payload reaches the backend and gets a clear `-ERR` rather than a protocol error;
/// anything beyond the headroom is a protocol error and closes the connection, as Redis does for
/// `proto-max-bulk-len`.
public struct RESPLimits: Hashable, Sendable {
    /// Largest bulk string in a request, in bytes. Default 64 KiB + 4 KiB = 69,632.
    public var maxBulkLength: Int
    /// Most elements in one request array (and arguments in one inline command). Default 1,024.
    public var maxArrayCount: Int
    /// Longest inline command line, and longest `*n` / `$n` header line, in bytes. Default 64 KiB
    /// (Redis's `PROTO_INLINE_MAX_SIZE`).
    public var maxInlineLength: Int
    /// Most bytes of bulk data one request may declare in total. Default 2 MiB, so one client
    /// cannot make the broker buffer 1,024 × 68 KiB for a single command.
    public var maxRequestBytes: Int

    /// Creates limits; every value is clamped to at least 1 (16 for the header line length).
    public init(
        maxBulkLength: Int = 64 * 1024 + 4 * 1024,
        maxArrayCount: Int = 1024,
        maxInlineLength: Int = 64 * 1024,
        maxRequestBytes: Int = 2 * 1024 * 1024
    ) {
        self.maxBulkLength = max(1, maxBulkLength)
        self.maxArrayCount = max(1, maxArrayCount)
        self.maxInlineLength = max(16, maxInlineLength)
        self.maxRequestBytes = max(1, maxRequestBytes)
    }

    /// The defaults described on each property.
    public static let `default` = RESPLimits()
}
