public import NymbusCrypto
public import NymbusTransport

/// A request from the app to nym-client over the WebSocket (nym's `ClientRequest`).
///
/// A connection id puts the message on its own lane and makes nym-client answer with
/// `laneQueueLength`; `nil` uses the general lane and gets no answer. In binary an id of `0`
/// means none, so `.send(..., connectionID: 0)` encodes like `nil`.
public enum ClientRequest: Sendable, Equatable {
    /// Plain send: the recipient gets the data with no sender tag.
    case send(recipient: Recipient, data: [UInt8], connectionID: UInt64?)
    /// Anonymous send: delivered with this client's sender tag and `replySurbs` reply blocks.
    case sendAnonymous(recipient: Recipient, data: [UInt8], replySurbs: UInt32, connectionID: UInt64?)
    /// Reply to an anonymous sender through its SURBs.
    case reply(senderTag: SenderTag, data: [UInt8], connectionID: UInt64?)
    /// Ask for this client's own address.
    case selfAddress
    /// Drop the unsent packets of a lane (binary only; no answer).
    case closedConnection(UInt64)
    /// Ask for a lane's queue length (binary only).
    case getLaneQueueLength(UInt64)

    /// Binary tags of the requests.
    enum Tag {
        static let send: UInt8 = 0x00
        static let sendAnonymous: UInt8 = 0x01
        static let reply: UInt8 = 0x02
        static let selfAddress: UInt8 = 0x03
        static let closedConnection: UInt8 = 0x04
        static let getLaneQueueLength: UInt8 = 0x05
    }

    /// Fixed part of a binary `send`: tag, recipient, conn_id, data_len.
    static let sendHeaderLength = 1 + Recipient.byteLength + 16
    /// Fixed part of a binary `sendAnonymous`: tag, reply_surbs, recipient, conn_id, data_len.
    static let sendAnonymousHeaderLength = 1 + 4 + Recipient.byteLength + 16
    /// Fixed part of a binary `reply`: tag, sender tag, conn_id, data_len.
    static let replyHeaderLength = 1 + SenderTag.byteLength + 16

    // MARK: Binary

    /// The binary frame nym-client expects (big-endian, u64 length prefixes, conn_id 0 = none).
    public func encodeBinary() -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .send(let recipient, let data, let connectionID):
            out.reserveCapacity(ClientRequest.sendHeaderLength + data.count)
            out.append(Tag.send)
            out += recipient.bytes
            BinaryCoding.append(connectionID ?? 0, to: &out)
            BinaryCoding.append(UInt64(data.count), to: &out)
            out += data
        case .sendAnonymous(let recipient, let data, let replySurbs, let connectionID):
            out.reserveCapacity(ClientRequest.sendAnonymousHeaderLength + data.count)
            out.append(Tag.sendAnonymous)
            BinaryCoding.append(replySurbs, to: &out)
            out += recipient.bytes
            BinaryCoding.append(connectionID ?? 0, to: &out)
            BinaryCoding.append(UInt64(data.count), to: &out)
            out += data
        case .reply(let senderTag, let data, let connectionID):
            out.reserveCapacity(ClientRequest.replyHeaderLength + data.count)
            out.append(Tag.reply)
            out += senderTag.bytes
            BinaryCoding.append(connectionID ?? 0, to: &out)
            BinaryCoding.append(UInt64(data.count), to: &out)
            out += data
        case .selfAddress:
            out.append(Tag.selfAddress)
        case .closedConnection(let id):
            out.append(Tag.closedConnection)
            BinaryCoding.append(id, to: &out)
        case .getLaneQueueLength(let id):
            out.append(Tag.getLaneQueueLength)
            BinaryCoding.append(id, to: &out)
        }
        return out
    }

    /// Decodes a binary request exactly as nym-client's server does, failing with the kind and
    /// message it would answer with. Never traps; the data length is checked against the frame
    /// before anything is copied.
    public static func decodeBinary(_ bytes: [UInt8]) throws(NymClientRequestError) -> ClientRequest {
        guard let tag = bytes.first else {
            throw NymClientRequestError(kind: .emptyRequest, message: "no data provided")
        }
        switch tag {
        case Tag.send:
            guard bytes.count >= sendHeaderLength else {
                throw NymClientRequestError(
                    kind: .tooShortRequest, message: "not enough data provided to recover 'send'")
            }
            let recipient = try binaryRecipient(bytes, at: 1)
            let data = try lengthPrefixedData(bytes, lengthAt: 1 + Recipient.byteLength + 8, field: "data")
            return .send(
                recipient: recipient, data: data,
                connectionID: connectionID(bytes, at: 1 + Recipient.byteLength))
        case Tag.sendAnonymous:
            guard bytes.count >= sendAnonymousHeaderLength else {
                throw NymClientRequestError(
                    kind: .tooShortRequest, message: "not enough data provided to recover 'send_anonymous'")
            }
            let replySurbs = BinaryCoding.readUInt32(bytes, at: 1) ?? 0
            let recipient = try binaryRecipient(bytes, at: 5)
            let data = try lengthPrefixedData(bytes, lengthAt: 5 + Recipient.byteLength + 8, field: "data")
            return .sendAnonymous(
                recipient: recipient, data: data, replySurbs: replySurbs,
                connectionID: connectionID(bytes, at: 5 + Recipient.byteLength))
        case Tag.reply:
            guard bytes.count >= replyHeaderLength else {
                throw NymClientRequestError(
                    kind: .tooShortRequest, message: "not enough data provided to recover 'reply'")
            }
            let senderTag: SenderTag
            do { senderTag = try SenderTag(bytes: Array(bytes[1..<(1 + SenderTag.byteLength)])) } catch {
                throw NymClientRequestError(kind: .malformedRequest, message: error.reason)
            }
            let data = try lengthPrefixedData(bytes, lengthAt: 1 + SenderTag.byteLength + 8, field: "message")
            return .reply(
                senderTag: senderTag, data: data, connectionID: connectionID(bytes, at: 1 + SenderTag.byteLength))
        case Tag.selfAddress:
            return .selfAddress
        case Tag.closedConnection:
            guard bytes.count == 9, let id = BinaryCoding.readUInt64(bytes, at: 1) else {
                throw NymClientRequestError(
                    kind: .malformedRequest, message: "The received closed connection has invalid length")
            }
            return .closedConnection(id)
        case Tag.getLaneQueueLength:
            guard bytes.count == 9, let id = BinaryCoding.readUInt64(bytes, at: 1) else {
                throw NymClientRequestError(
                    kind: .malformedRequest, message: "The received get lane queue lengths has invalid length")
            }
            return .getLaneQueueLength(id)
        default:
            throw NymClientRequestError(
                kind: .unknownRequest, message: "\(tag) does not correspond to any valid request tag")
        }
    }

    private static func binaryRecipient(_ bytes: [UInt8], at offset: Int) throws(NymClientRequestError) -> Recipient {
        do { return try Recipient(bytes: Array(bytes[offset..<(offset + Recipient.byteLength)])) } catch {
            throw NymClientRequestError(kind: .malformedRequest, message: "malformed recipient: \(error.reason)")
        }
    }

    private static func connectionID(_ bytes: [UInt8], at offset: Int) -> UInt64? {
        let id = BinaryCoding.readUInt64(bytes, at: offset) ?? 0
        return id == 0 ? nil : id
    }

    /// The data after the u64 length at `lengthAt`, which must equal the remaining bytes exactly.
    private static func lengthPrefixedData(
        _ bytes: [UInt8], lengthAt offset: Int, field: String
    ) throws(NymClientRequestError) -> [UInt8] {
        let specified = BinaryCoding.readUInt64(bytes, at: offset) ?? 0
        let got = bytes.count - (offset + 8)
        guard specified == UInt64(got) else {
            throw NymClientRequestError(
                kind: .malformedRequest,
                message: "\(field) len has inconsistent length. specified: \(specified) got: \(got)")
        }
        return BinaryCoding.tail(bytes, from: offset + 8)
    }
}
