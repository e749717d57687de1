/// The kind byte of a nym-client `error` response (`error.rs` in nym's websocket-requests).
///
/// Codes `0x01`–`0x7F` are about requests, `0x80`–`0xFE` about responses, `0xFF` is anything
/// else. Only the nine codes nym-client defines exist; `init?(rawValue:)` rejects the rest, as
/// nym-client's own decoder does.
public struct ErrorKind: Hashable, Sendable, CustomStringConvertible {
    /// The byte on the wire.
    public let rawValue: UInt8

    private init(code: UInt8) { self.rawValue = code }

    /// The kind with this code, or `nil` if nym-client defines no such kind.
    public init?(rawValue: UInt8) {
        guard ErrorKind.prefixes[rawValue] != nil else { return nil }
        self.rawValue = rawValue
    }

    /// The request frame was empty.
    public static let emptyRequest = ErrorKind(code: 0x01)
    /// The request frame was shorter than its fixed part.
    public static let tooShortRequest = ErrorKind(code: 0x02)
    /// The request tag is not one nym-client knows.
    public static let unknownRequest = ErrorKind(code: 0x03)
    /// The request was long enough but wrong (bad lengths, bad address, bad JSON).
    public static let malformedRequest = ErrorKind(code: 0x04)
    /// The response frame was empty.
    public static let emptyResponse = ErrorKind(code: 0x80)
    /// The response frame was shorter than its fixed part.
    public static let tooShortResponse = ErrorKind(code: 0x81)
    /// The response tag is not one nym-client knows.
    public static let unknownResponse = ErrorKind(code: 0x82)
    /// The response was long enough but wrong.
    public static let malformedResponse = ErrorKind(code: 0x83)
    /// Anything else.
    public static let other = ErrorKind(code: 0xFF)

    private static let prefixes: [UInt8: String] = [
        0x01: "received request contained no data",
        0x02: "received request did not contain enough data",
        0x03: "unknown request type",
        0x04: "malformed request",
        0x80: "received response contained no data",
        0x81: "received response did not contain enough data",
        0x82: "unknown response type",
        0x83: "malformed response",
        0xFF: "other",
    ]

    /// Every kind nym-client defines, in code order.
    public static let allKinds: [ErrorKind] = prefixes.keys.sorted().map { ErrorKind(code: $0) }

    /// nym-client's `as_str` text for this kind; text-mode errors read `"{prefix}:{message}"`.
    public var prefix: String { ErrorKind.prefixes[rawValue] ?? "other" }

    public var description: String { "\(prefix) (0x\(String(rawValue, radix: 16)))" }
}
