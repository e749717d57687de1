/// A value that can write itself to, and read itself from, overlay bytes.
///
/// This is how any Swift type becomes a custom object the overlay can carry: implement the two
/// methods, give the type a unique `wireTypeID`, and register it with an `ObjectTypeRegistry`.
/// Decoders must check every length against a limit before allocating (use `ByteReader`).
public protocol WireCodable: Sendable {
    /// A stable identifier for this type on the wire. IDs below 0x1000 are reserved for Nymbus.
    static var wireTypeID: UInt32 { get }
    /// Appends this value's bytes.
    func serialize(into writer: inout ByteWriter)
    /// Reads a value; must consume exactly its own bytes and throw on anything malformed.
    init(from reader: inout ByteReader) throws(WireError)
}

extension WireCodable {
    /// This value's bytes on their own.
    public func serializedBytes() -> [UInt8] {
        var w = ByteWriter()
        serialize(into: &w)
        return w.bytes
    }

    /// Decodes a value that must span all of `bytes` (trailing bytes are an error).
    public init(serializedBytes bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes)
        try self.init(from: &r)
        try r.expectEnd("custom object")
    }
}
