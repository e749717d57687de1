import NymbusCrypto
import NymbusWire

/// The payload of an object of type `ObjectType.streamEntry` (spec/pubsub.md §5.2): the
/// field/value pairs of one stream entry a client appended with `XADD`, so every node that keeps
/// a stream for the topic appends the same pairs (each under an id of its own).
///
/// ```
/// count            u16  2...65534, even (field, value, field, value, ...)
/// count × item:
///   length         u32  ≤ the receiver's payload limit
///   bytes          length
/// ```
/// The items fill the payload exactly; an odd or too small count, a count the bytes cannot
/// hold, a truncated item, an item over the limit or trailing bytes make the object a bad
/// plaintext (`decryptionFailed`): nothing of it is delivered.
public enum StreamEntryPayload {
    /// Fewest items: one field and its value.
    public static let minimumItems = 2
    /// Most items (an even count the u16 can say).
    public static let maximumItems = 65_534

    /// Encodes a field/value list (the caller gives an even count within the bounds).
    public static func encode(_ items: [[UInt8]]) -> [UInt8] {
        var w = ByteWriter(reservingCapacity: 2 + items.reduce(0) { $0 + 4 + $1.count })
        w.write(UInt16(clamping: items.count))
        for item in items { w.writeBytes32(item) }
        return w.bytes
    }

    /// Decodes a stream entry payload, checking the count against the bytes present before
    /// reserving anything and every item length against `maxItem` before reading it.
    public static func decode(_ bytes: [UInt8], maxItem: Int) throws(PubSubError) -> [[UInt8]] {
        var reader = ByteReader(bytes)
        do {
            let count = Int(try reader.readUInt16("stream entry count"))
            guard count >= minimumItems, count % 2 == 0 else {
                throw PubSubError(
                    .decryptionFailed, "a stream entry holds an even number of items, at least 2; this says \(count)")
            }
            try reader.checkCount(count, limit: maximumItems, minItemSize: 4, "stream entry items")
            var items: [[UInt8]] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try reader.readBytes32(limit: maxItem, "stream entry item")) }
            try reader.expectEnd("the last stream entry item")
            return items
        } catch let error as PubSubError {
            throw error
        } catch let error as WireError {
            throw PubSubError(.decryptionFailed, "malformed stream entry: \(error.reason)")
        } catch {
            throw PubSubError(.decryptionFailed, "malformed stream entry: \(error)")
        }
    }
}
