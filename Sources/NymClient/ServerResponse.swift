public import NymbusCrypto
public import NymbusTransport

/// A message from nym-client to the app over the WebSocket (nym's `ServerResponse`).
public enum ServerResponse: Sendable, Equatable {
    /// nym-client rejected a request (or something else failed); `message` has no kind prefix.
    case error(kind: ErrorKind, message: String)
    /// A message arrived from the mixnet.
    case received(ReceivedMessage)
    /// The answer to `selfAddress`.
    case selfAddress(Recipient)
    /// The queue length of a lane, answering a send with a connection id or `getLaneQueueLength`.
    case laneQueueLength(lane: UInt64, queueLength: UInt64)

    /// Binary tags of the responses (they overlap the request tags; direction tells them apart).
    enum Tag {
        static let error: UInt8 = 0x00
        static let received: UInt8 = 0x01
        static let selfAddress: UInt8 = 0x02
        static let laneQueueLength: UInt8 = 0x03
    }

    // MARK: Binary

    /// The binary frame nym-client sends (big-endian, u64 length prefixes).
    public func encodeBinary() -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .error(let kind, let message):
            let text = Array(message.utf8)
            out.reserveCapacity(10 + text.count)
            out.append(Tag.error)
            out.append(kind.rawValue)
            BinaryCoding.append(UInt64(text.count), to: &out)
            out += text
        case .received(let message):
            out.reserveCapacity(26 + message.data.count)
            out.append(Tag.received)
            if let tag = message.senderTag {
                out.append(1)
                out += tag.bytes
            } else {
                out.append(0)
            }
            BinaryCoding.append(UInt64(message.data.count), to: &out)
            out += message.data
        case .selfAddress(let recipient):
            out.append(Tag.selfAddress)
            out += recipient.bytes
        case .laneQueueLength(let lane, let queueLength):
            out.append(Tag.laneQueueLength)
            BinaryCoding.append(lane, to: &out)
            BinaryCoding.append(queueLength, to: &out)
        }
        return out
    }

    /// Decodes a binary response with nym-client's rules: unknown error kinds, a sender-tag flag
    /// other than 0 or 1, wrong fixed lengths and length prefixes that differ from the remaining
    /// bytes are all `.malformedResponse`. Never traps; lengths are checked before copying.
    public static func decodeBinary(_ bytes: [UInt8]) throws(NymClientError) -> ServerResponse {
        guard let tag = bytes.first else { throw malformed("received response contained no data") }
        switch tag {
        case Tag.error:
            guard bytes.count >= 10 else { throw malformed("not enough data provided to recover 'error'") }
            guard let kind = ErrorKind(rawValue: bytes[1]) else {
                throw malformed("\(bytes[1]) does not correspond to any valid error kind")
            }
            let text = try lengthPrefixed(bytes, lengthAt: 2, field: "error message")
            return .error(kind: kind, message: String(decoding: text, as: UTF8.self))
        case Tag.received:
            guard bytes.count >= 10 else { throw malformed("not enough data provided to recover 'received'") }
            switch bytes[1] {
            case 0:
                let data = try lengthPrefixed(bytes, lengthAt: 2, field: "message")
                return .received(ReceivedMessage(data: data, senderTag: nil))
            case 1:
                guard bytes.count >= 2 + SenderTag.byteLength + 8 else {
                    throw malformed("not enough data provided to recover 'received' with a sender tag")
                }
                let tag: SenderTag
                do { tag = try SenderTag(bytes: Array(bytes[2..<(2 + SenderTag.byteLength)])) } catch {
                    throw NymClientError(.invalidSenderTag, error.reason)
                }
                let data = try lengthPrefixed(bytes, lengthAt: 2 + SenderTag.byteLength, field: "message")
                return .received(ReceivedMessage(data: data, senderTag: tag))
            default:
                throw malformed("invalid sender tag flag \(bytes[1]); expected 0 or 1")
            }
        case Tag.selfAddress:
            guard bytes.count == 1 + Recipient.byteLength else {
                throw malformed("selfAddress response has \(bytes.count) bytes, expected 97")
            }
            do { return .selfAddress(try Recipient(bytes: Array(bytes[1...]))) } catch {
                throw NymClientError(.invalidAddress, "malformed recipient: \(error.reason)")
            }
        case Tag.laneQueueLength:
            guard bytes.count == 17, let lane = BinaryCoding.readUInt64(bytes, at: 1),
                let length = BinaryCoding.readUInt64(bytes, at: 9)
            else { throw malformed("laneQueueLength response has \(bytes.count) bytes, expected 17") }
            return .laneQueueLength(lane: lane, queueLength: length)
        default:
            throw malformed("\(tag) does not correspond to any valid response tag")
        }
    }

    private static func malformed(_ reason: String) -> NymClientError {
        NymClientError(.malformedResponse, reason)
    }

    private static func lengthPrefixed(
        _ bytes: [UInt8], lengthAt offset: Int, field: String
    ) throws(NymClientError) -> [UInt8] {
        let specified = BinaryCoding.readUInt64(bytes, at: offset) ?? 0
        let got = bytes.count - (offset + 8)
        guard specified == UInt64(got) else {
            throw malformed("\(field) len has inconsistent length. specified: \(specified) got: \(got)")
        }
        return BinaryCoding.tail(bytes, from: offset + 8)
    }
}
