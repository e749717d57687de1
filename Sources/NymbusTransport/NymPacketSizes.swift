/// How many Sphinx packets (and so reply SURBs) a message takes, by NYM-CLIENT.md §6.
///
/// A regular packet carries 2048 payload bytes; the ack (405 B), the 32-byte key or key digest and
/// the 7-byte fragment header leave 1604 bytes of message per packet. The message itself adds a
/// type byte and at least one padding byte; anonymous messages add the 16-byte tag, a kind byte,
/// a 4-byte count and 1164 bytes per SURB (the default v1 SURB encoding); replies add a kind byte.
/// The figures ignore the 3 extra header bytes of fragments that link two 255-fragment sets.
public enum NymPacketSizes {
    /// Message bytes one packet carries.
    public static let fragmentPayload = 1604
    /// Bytes of one reply SURB inside an anonymous message (v1 encoding).
    public static let surbSize = 1164

    /// Packets for a plain `send` of `dataCount` bytes.
    public static func sendPackets(dataCount: Int) -> Int { packets(forMessageBytes: dataCount + 2) }

    /// Packets for a `sendAnonymous` of `dataCount` bytes carrying `surbs` reply SURBs.
    public static func anonymousPackets(dataCount: Int, surbs: Int) -> Int {
        packets(
            forMessageBytes: dataCount + 2 + 16 + 1 + 4 + surbs.multipliedReportingOverflow(by: surbSize).partialValue)
    }

    /// Packets (each consuming one SURB) for a `reply` of `dataCount` bytes.
    public static func replyPackets(dataCount: Int) -> Int { packets(forMessageBytes: dataCount + 3) }

    /// Packets for a message of the original sender that carries only `surbs` additional SURBs.
    public static func additionalSurbPackets(surbs: Int) -> Int { packets(forMessageBytes: 2 + 16 + 1 + 4 + surbs * surbSize) }

    /// Packets for `bytes` bytes of serialized message: never fewer than one.
    public static func packets(forMessageBytes bytes: Int) -> Int {
        guard bytes > 0 else { return 1 }
        return max(1, (bytes + fragmentPayload - 1) / fragmentPayload)
    }
}
