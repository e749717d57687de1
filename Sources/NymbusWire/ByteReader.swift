import NymbusCrypto

/// Reads big-endian integers and length-prefixed fields from bytes, checking every length
/// against what is left (and against the caller's limit) before allocating anything.
public struct ByteReader: Sendable {
    private let bytes: [UInt8]
    /// Index of the next unread byte.
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    /// Bytes not yet read.
    public var remaining: Int { bytes.count - offset }

    public mutating func readUInt8(_ field: StaticString = "u8") throws(WireError) -> UInt8 {
        try need(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readUInt16(_ field: StaticString = "u16") throws(WireError) -> UInt16 {
        UInt16(truncatingIfNeeded: try readBigEndian(2, field))
    }

    public mutating func readUInt32(_ field: StaticString = "u32") throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBigEndian(4, field))
    }

    public mutating func readUInt64(_ field: StaticString = "u64") throws(WireError) -> UInt64 {
        try readBigEndian(8, field)
    }

    public mutating func readInt64(_ field: StaticString = "i64") throws(WireError) -> Int64 {
        Int64(bitPattern: try readBigEndian(8, field))
    }

    /// Reads a boolean byte; anything but 0 or 1 is an error.
    public mutating func readBool(_ field: StaticString = "bool") throws(WireError) -> Bool {
        switch try readUInt8(field) {
        case 0: return false
        case 1: return true
        case let v: throw WireError(.invalidValue, "\(field) must be 0 or 1, got \(v)")
        }
    }

    /// Reads exactly `count` bytes.
    public mutating func readBytes(_ count: Int, _ field: StaticString = "bytes") throws(WireError) -> [UInt8] {
        try need(count, field)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads a `u8`-length-prefixed field of at most `limit` bytes.
    public mutating func readShortBytes(limit: Int = 255, _ field: StaticString = "bytes") throws(WireError) -> [UInt8] {
        let length = Int(try readUInt8(field))
        return try readLimited(length, limit: limit, field)
    }

    /// Reads a `u16`-length-prefixed field of at most `limit` bytes.
    public mutating func readBytes16(limit: Int, _ field: StaticString = "bytes") throws(WireError) -> [UInt8] {
        let length = Int(try readUInt16(field))
        return try readLimited(length, limit: limit, field)
    }

    /// Reads a `u32`-length-prefixed field of at most `limit` bytes.
    public mutating func readBytes32(limit: Int, _ field: StaticString = "bytes") throws(WireError) -> [UInt8] {
        let length = Int(try readUInt32(field))
        return try readLimited(length, limit: limit, field)
    }

    /// Reads a `u8`-length-prefixed UTF-8 string of at most `limit` bytes.
    public mutating func readShortString(limit: Int = 255, _ field: StaticString = "string") throws(WireError) -> String {
        let raw = try readShortBytes(limit: limit, field)
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw WireError(.invalidUTF8, "\(field) is not valid UTF-8")
        }
        return s
    }

    /// Reads whatever is left.
    public mutating func readRest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    /// Throws unless every byte has been read.
    public func expectEnd(_ context: StaticString = "message") throws(WireError) {
        guard remaining == 0 else {
            throw WireError(.trailingBytes, "\(remaining) unexpected trailing bytes after \(context)")
        }
    }

    /// Checks a declared count of items, each at least `minItemSize` bytes, against a limit and
    /// against the bytes left, so a lying count cannot make the caller reserve memory.
    public func checkCount(_ count: Int, limit: Int, minItemSize: Int, _ field: StaticString) throws(WireError) {
        guard count <= limit else {
            throw WireError(.lengthOverLimit, "\(field) count \(count) exceeds limit \(limit)")
        }
        guard count * max(minItemSize, 1) <= remaining else {
            throw WireError(.truncated, "\(field) count \(count) needs at least \(count * minItemSize) bytes, \(remaining) left")
        }
    }

    private mutating func readLimited(_ length: Int, limit: Int, _ field: StaticString) throws(WireError) -> [UInt8] {
        guard length <= limit else {
            throw WireError(.lengthOverLimit, "\(field) length \(length) exceeds limit \(limit)")
        }
        return try readBytes(length, field)
    }

    private mutating func need(_ count: Int, _ field: StaticString) throws(WireError) {
        guard count >= 0, count <= remaining else {
            throw WireError(.truncated, "\(field) needs \(count) bytes, \(remaining) left")
        }
    }

    private mutating func readBigEndian(_ size: Int, _ field: StaticString) throws(WireError) -> UInt64 {
        try need(size, field)
        var value: UInt64 = 0
        for i in 0..<size { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += size
        return value
    }
}
