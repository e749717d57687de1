import NymbusCrypto
import NymbusWire

/// The payload of an object of type `ObjectType.rawBytesBatch` (spec/pubsub.md §5.1): several
/// raw-bytes messages of one publisher, packed so they share one seal, one membership signature
/// and one object on the mixnet.
///
/// ```
/// count            u16  2...65535
/// count × entry:
///   length         u32  ≤ the receiver's payload limit
///   bytes          length
/// ```
/// The entries fill the payload exactly: a count below 2, a truncated entry, an entry over the
/// limit or bytes after the last entry make the whole object undecryptable (`decryptionFailed`),
/// and nothing of it is delivered.
public enum BatchPayload {
    /// Bytes of the count prefix.
    public static let countLength = 2
    /// Bytes before each entry's bytes (its length).
    public static let entryHeaderLength = 4
    /// Fewest entries: one payload alone is published as a plain type-0 object.
    public static let minimumEntries = 2
    /// Most entries the u16 count can say.
    public static let maximumEntries = Int(UInt16.max)

    /// The encoded size of a batch whose entries have these total bytes and count.
    public static func encodedLength(entries count: Int, entryBytes: Int) -> Int {
        countLength + count * entryHeaderLength + entryBytes
    }

    /// Encodes `entries` (the caller keeps the count within `minimumEntries...maximumEntries`).
    public static func encode(_ entries: [[UInt8]]) -> [UInt8] {
        var w = ByteWriter(
            reservingCapacity: encodedLength(entries: entries.count, entryBytes: entries.reduce(0) { $0 + $1.count }))
        w.write(UInt16(clamping: entries.count))
        for entry in entries { w.writeBytes32(entry) }
        return w.bytes
    }

    /// Decodes a batch payload, checking the count against the bytes present before reserving
    /// anything and every entry length against `maxEntry` before reading it.
    /// - Throws: `decryptionFailed` naming the broken rule (only a member can make a bad batch,
    ///   so it is treated like any other bad plaintext).
    public static func decode(_ bytes: [UInt8], maxEntry: Int) throws(PubSubError) -> [[UInt8]] {
        var reader = ByteReader(bytes)
        do {
            let count = Int(try reader.readUInt16("batch count"))
            guard count >= minimumEntries else {
                throw PubSubError(
                    .decryptionFailed, "a batch holds at least \(minimumEntries) entries, this says \(count)")
            }
            try reader.checkCount(count, limit: maximumEntries, minItemSize: entryHeaderLength, "batch entries")
            var entries: [[UInt8]] = []
            entries.reserveCapacity(count)
            for _ in 0..<count { entries.append(try reader.readBytes32(limit: maxEntry, "batch entry")) }
            try reader.expectEnd("the last batch entry")
            return entries
        } catch let error as PubSubError {
            throw error
        } catch let error as WireError {
            throw PubSubError(.decryptionFailed, "malformed batch: \(error.reason)")
        } catch {
            throw PubSubError(.decryptionFailed, "malformed batch: \(error)")
        }
    }
}
