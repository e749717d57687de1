/// Big-endian helpers shared by the nym-client binary codecs. Callers check bounds first.
enum BinaryCoding {
    /// Appends `value` as 8 big-endian bytes.
    static func append(_ value: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// Appends `value` as 4 big-endian bytes.
    static func append(_ value: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    /// Reads 8 big-endian bytes at `offset`, or `nil` if they are not all there.
    static func readUInt64(_ bytes: [UInt8], at offset: Int) -> UInt64? {
        guard offset >= 0, offset <= bytes.count - 8 else { return nil }
        var value: UInt64 = 0
        for i in offset..<(offset + 8) { value = value << 8 | UInt64(bytes[i]) }
        return value
    }

    /// Reads 4 big-endian bytes at `offset`, or `nil` if they are not all there.
    static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= bytes.count - 4 else { return nil }
        var value: UInt32 = 0
        for i in offset..<(offset + 4) { value = value << 8 | UInt32(bytes[i]) }
        return value
    }

    /// The bytes from `offset` to the end (empty if `offset` is past the end).
    static func tail(_ bytes: [UInt8], from offset: Int) -> [UInt8] {
        offset < bytes.count ? Array(bytes[offset...]) : []
    }
}
