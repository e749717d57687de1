import NymbusWire

/// The fixed 26-byte envelope header, read without decoding the payload.
///
/// Lets the node tie a message whose payload is malformed or oversized to its session, so the
/// peer that sent it can be disconnected, instead of the message merely being dropped.
struct EnvelopeHeader: Equatable, Sendable {
    let command: UInt8
    let sessionID: SessionID
    let payloadLength: Int

    /// Reads the header, or nil if `bytes` do not start with a Nymbus header of our wire version.
    static func peek(_ bytes: [UInt8]) -> EnvelopeHeader? {
        guard bytes.count >= Envelope.headerLength else { return nil }
        guard Array(bytes[0..<4]) == Envelope.magic, bytes[4] == Envelope.wireVersion else { return nil }
        guard let session = try? SessionID(bytes: Array(bytes[6..<22])) else { return nil }
        let length = bytes[22..<26].reduce(0) { $0 << 8 | Int($1) }
        return EnvelopeHeader(command: bytes[5], sessionID: session, payloadLength: length)
    }
}
