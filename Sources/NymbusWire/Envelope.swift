import NymbusCrypto

/// One overlay message as it travels inside one Nym message.
///
/// Layout (big-endian): magic `NYMB` (4) · wire version (1) · command (1) · session id (16) ·
/// payload length u32 (4) · payload. The header is 26 bytes. See spec/wire.md.
public struct Envelope: Equatable, Sendable {
    /// The four bytes every envelope starts with: ASCII `NYMB`.
    public static let magic: [UInt8] = [0x4E, 0x59, 0x4D, 0x42]
    /// The framing version this build reads and writes.
    public static let wireVersion: UInt8 = 1
    /// Bytes before the payload.
    public static let headerLength = 26

    /// The link this message belongs to.
    public var sessionID: SessionID
    /// The message.
    public var message: Message

    public init(sessionID: SessionID, message: Message) {
        self.sessionID = sessionID
        self.message = message
    }

    /// The complete envelope bytes.
    public func encode() -> [UInt8] {
        var payload = ByteWriter()
        message.encodePayload(into: &payload)
        var w = ByteWriter(reservingCapacity: Envelope.headerLength + payload.bytes.count)
        w.write(bytes: Envelope.magic)
        w.write(Envelope.wireVersion)
        w.write(message.command.rawValue)
        w.write(bytes: sessionID.bytes)
        w.write(UInt32(payload.bytes.count))
        w.write(bytes: payload.bytes)
        return w.bytes
    }

    /// Decodes one envelope that must span `bytes` exactly, enforcing `limits`.
    public static func decode(_ bytes: [UInt8], limits: WireLimits = .default) throws(WireError) -> Envelope {
        var r = ByteReader(bytes)
        let magic = try r.readBytes(4, "envelope.magic")
        guard magic == Envelope.magic else {
            throw WireError(.badMagic, "envelope does not start with NYMB")
        }
        let version = try r.readUInt8("envelope.version")
        guard version == Envelope.wireVersion else {
            throw WireError(.unsupportedVersion, "wire version \(version) is not supported (this build speaks \(wireVersion))")
        }
        let commandByte = try r.readUInt8("envelope.command")
        guard let command = Command(rawValue: commandByte) else {
            throw WireError(.unknownCommand, "unknown command 0x\(String(commandByte, radix: 16))")
        }
        let session = try SessionID(bytes: try r.readBytes(SessionID.byteLength, "envelope.sessionID"))
        let length = Int(try r.readUInt32("envelope.payloadLength"))
        guard length <= limits.maxPayload else {
            throw WireError(.lengthOverLimit, "payload length \(length) exceeds limit \(limits.maxPayload)")
        }
        guard length <= r.remaining else {
            throw WireError(.truncated, "payload length \(length) but only \(r.remaining) bytes follow")
        }
        guard length == r.remaining else {
            throw WireError(.trailingBytes, "\(r.remaining - length) unexpected trailing bytes after the payload")
        }
        var payload = ByteReader(r.readRest())
        let message = try Message.decodePayload(command: command, from: &payload, limits: limits)
        return Envelope(sessionID: session, message: message)
    }
}
