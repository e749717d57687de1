/// One RESP reply value: what the broker (or a backend) sends to a client.
///
/// The cases cover RESP2 and the RESP3 types the broker needs. A value is written with
/// ``RESPWriter`` for the client's protocol version: RESP3-only types are downgraded for RESP2
/// clients exactly as Redis does (a map becomes a flat array of key, value, key, value; a set or
/// push becomes an array; `null` becomes a null bulk string; a boolean becomes `:1`/`:0`; a double
/// becomes a bulk string), so a backend can build one value and every client can read it.
public enum RESPValue: Hashable, Sendable {
    /// `+text`: a short status line such as `OK` or `PONG`. CR and LF are written as spaces.
    case simpleString(String)
    /// `-CODE message`: an error reply; the text includes the code word, e.g. `ERR no such topic`.
    /// CR and LF are written as spaces.
    case error(String)
    /// `:n`: a signed 64-bit integer.
    case integer(Int64)
    /// `$n` bulk string, binary safe; `nil` is the RESP2 null bulk string `$-1`.
    case bulkString([UInt8]?)
    /// `*n` array; `nil` is the RESP2 null array `*-1`.
    case array([RESPValue]?)
    /// RESP3 `_` null (`$-1` for RESP2 clients).
    case null
    /// RESP3 `#t`/`#f` (`:1`/`:0` for RESP2 clients).
    case boolean(Bool)
    /// RESP3 `,` double (a bulk string for RESP2 clients).
    case double(Double)
    /// RESP3 `%` map, in the given order (a flat array for RESP2 clients).
    case map([RESPMapEntry])
    /// RESP3 `~` set (an array for RESP2 clients).
    case set([RESPValue])
    /// RESP3 `>` push frame: out-of-band data such as pub/sub messages (an array for RESP2 clients).
    case push([RESPValue])

    /// A bulk string holding the UTF-8 bytes of `text`.
    public static func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    /// A bulk string holding `bytes`.
    public static func bulk(_ bytes: [UInt8]) -> RESPValue { .bulkString(bytes) }

    /// An error reply with the usual `ERR` code word: `-ERR message`.
    public static func err(_ message: String) -> RESPValue { .error("ERR " + message) }

    /// A map from (key, value) pairs, in order.
    public static func map(_ pairs: KeyValuePairs<String, RESPValue>) -> RESPValue {
        .map(pairs.map { RESPMapEntry(key: .bulk($0.key), value: $0.value) })
    }

    /// The bulk string's bytes, if this is a non-null bulk string (or a simple string, as bytes).
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): return bytes
        case .simpleString(let text): return Array(text.utf8)
        default: return nil
        }
    }

    /// The bulk or simple string decoded as UTF-8 (invalid sequences replaced), for tests and logs.
    public var text: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    /// The integer, if this is an integer reply.
    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The elements of an array, set or push, or nil.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values): return values
        case .set(let values), .push(let values): return values
        default: return nil
        }
    }
}

/// One key/value pair of a RESP3 map (a struct so the map stays `Hashable` and ordered).
public struct RESPMapEntry: Hashable, Sendable {
    /// The key, usually a bulk string.
    public var key: RESPValue
    /// The value.
    public var value: RESPValue

    /// Creates a map entry.
    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

/// The RESP protocol version a client speaks: 2 by default, 3 after `HELLO 3`.
public enum RESPProtocolVersion: Int, Hashable, Sendable {
    /// RESP2: what redis-cli and redis-py use unless told otherwise.
    case resp2 = 2
    /// RESP3: maps, pushes and the other typed replies.
    case resp3 = 3
}
