/// Appends big-endian integers and length-prefixed fields to a growing byte array.
///
/// Writing never fails; the matching `ByteReader` enforces every limit on the way back in.
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }
    public mutating func write(_ value: UInt16) { writeBigEndian(value) }
    public mutating func write(_ value: UInt32) { writeBigEndian(value) }
    public mutating func write(_ value: UInt64) { writeBigEndian(value) }
    public mutating func write(_ value: Int64) { writeBigEndian(UInt64(bitPattern: value)) }
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Appends raw bytes with no length prefix (for fixed-size fields).
    public mutating func write(bytes other: some Sequence<UInt8>) { bytes.append(contentsOf: other) }

    /// Appends a `u8` length then the bytes. The caller keeps `value` within 255 bytes.
    public mutating func writeShortBytes(_ value: [UInt8]) {
        precondition(value.count <= Int(UInt8.max), "short field over 255 bytes")
        write(UInt8(value.count))
        write(bytes: value)
    }

    /// Appends a `u16` length then the bytes.
    public mutating func writeBytes16(_ value: [UInt8]) {
        precondition(value.count <= Int(UInt16.max), "field over 65535 bytes")
        write(UInt16(value.count))
        write(bytes: value)
    }

    /// Appends a `u32` length then the bytes.
    public mutating func writeBytes32(_ value: [UInt8]) {
        precondition(value.count <= Int(UInt32.max), "field over 4 GiB")
        write(UInt32(value.count))
        write(bytes: value)
    }

    /// Appends a UTF-8 string with a `u8` length prefix.
    public mutating func writeShortString(_ value: String) { writeShortBytes(Array(value.utf8)) }

    private mutating func writeBigEndian<T: FixedWidthInteger>(_ value: T) {
        var be = value.bigEndian
        withUnsafeBytes(of: &be) { bytes.append(contentsOf: $0) }
    }
}
