import NymClient
import NymbusCrypto
import NymbusPubSub
import NymbusTransport
import NymbusWire
import NymbusBroker

/// The decoders under fuzz. Each body must never trap on any input; where a decoder accepts
/// the input, re-encoding and decoding again must give the same value (round-trip property).
enum FuzzTarget: String, CaseIterable {
    case wire
    case nymRequest = "nym-request"
    case nymResponse = "nym-response"
    case nymText = "nym-text"
    case resp
    case respReply = "resp-reply"
    case object
    case plaintext
    case batch
    case streamEntry = "stream-entry"
    case sync

    func run(_ bytes: [UInt8]) {
        switch self {
        case .wire:
            guard let envelope = try? Envelope.decode(bytes) else { return }
            let again = try? Envelope.decode(envelope.encode())
            precondition(again == envelope, "wire: re-encoded envelope does not decode to the same value")
        case .nymRequest:
            guard let request = try? ClientRequest.decodeBinary(bytes) else { return }
            precondition(
                (try? ClientRequest.decodeBinary(request.encodeBinary())) == request,
                "nym-request: re-encoded request does not decode to the same value")
        case .nymResponse:
            guard let response = try? ServerResponse.decodeBinary(bytes) else { return }
            precondition(
                (try? ServerResponse.decodeBinary(response.encodeBinary())) == response,
                "nym-response: re-encoded response does not decode to the same value")
        case .object:
            guard let object = try? TopicObject(bytes: bytes) else { return }
            precondition(
                (try? TopicObject(bytes: object.bytes))?.bytes == object.bytes,
                "object: re-encoded object does not decode to the same bytes")
        case .plaintext:
            guard let plaintext = try? ObjectPlaintext(decoding: bytes, maxPayload: 65_536) else { return }
            precondition(
                (try? ObjectPlaintext(decoding: plaintext.encoded(paddedLength: bytes.count), maxPayload: 65_536)) == plaintext,
                "plaintext: re-encoded plaintext does not decode to the same value")
        case .batch:
            guard let entries = try? BatchPayload.decode(bytes, maxEntry: 65_536) else { return }
            precondition(BatchPayload.encode(entries) == bytes, "batch: re-encoded batch payload differs")
        case .streamEntry:
            guard let items = try? StreamEntryPayload.decode(bytes, maxItem: 65_536) else { return }
            precondition(StreamEntryPayload.encode(items) == bytes, "stream-entry: re-encoded payload differs")
        case .sync:
            // A peer's `syncrange` payload: decoded, round-tripped, then answered (as responder
            // and as initiator) against a small archive index: bogus ranges must never trap, and
            // answers must stay inside the wire's bounds.
            var reader = ByteReader(bytes)
            guard case .syncRanges(let ranges)? = try? Message.decodePayload(command: .syncrange, from: &reader) else { return }
            var writer = ByteWriter()
            Message.syncRanges(ranges).encodePayload(into: &writer)
            var again = ByteReader(writer.bytes)
            precondition(
                (try? Message.decodePayload(command: .syncrange, from: &again)) == .syncRanges(ranges),
                "sync: re-encoded ranges do not decode to the same value")
            let answer = RangeReconciler.respond(to: ranges.ranges, index: SyncFuzzing.index)
            let (next, need) = RangeReconciler.reconcile(ranges.ranges, index: SyncFuzzing.index)
            for out in [answer, next] {
                let message = SyncRanges(round: ranges.round, isReply: true, ranges: out)
                precondition(out.count <= SyncRanges.maxRanges && message.idCount <= 500, "sync: answer over the bounds")
                var w = ByteWriter()
                Message.syncRanges(message).encodePayload(into: &w)
                var r = ByteReader(w.bytes)
                precondition((try? Message.decodePayload(command: .syncrange, from: &r)) != nil, "sync: answer does not decode")
            }
            precondition(need.count <= 500, "sync: more ids needed than listed")
        case .resp: RESPFuzzing.requests(bytes)
        case .respReply: RESPFuzzing.replies(bytes)
        case .nymText:
            let text = String(decoding: bytes, as: UTF8.self)
            if let request = try? ClientRequest.decodeText(text), let json = try? request.encodeText() {
                precondition((try? ClientRequest.decodeText(json)) == request, "nym-text: request round trip")
            }
            _ = try? ServerResponse.decodeText(text)
        }
    }

    /// Seed inputs made by the real encoders, so the fuzzer starts from valid frames.
    var seeds: [[UInt8]] {
        let address = Recipient.random()
        let tag = SenderTag.random()
        switch self {
        case .resp, .respReply, .object:
            return []  // scripts/fuzz_seeds.py seeds these
        case .plaintext:
            return [
                ObjectPlaintext(payload: Array("hello".utf8), author: nil).encoded(paddedLength: 64),
                // In a publisher's order (flag bit 1: its runs before the payload).
                ObjectPlaintext(payload: Array("hello".utf8), author: nil, order: [PublisherRun(tag: 7, number: 41, count: 1)])
                    .encoded(paddedLength: 64),
            ]
        case .batch:
            return [
                BatchPayload.encode([Array("hello".utf8), Array("nymbus".utf8)]),
                BatchPayload.encode([[], [0xff], Array(repeating: 7, count: 300)]),
            ]
        case .sync:
            return SyncFuzzing.seeds
        case .streamEntry:
            return [
                StreamEntryPayload.encode([Array("item".utf8), Array("tea".utf8)]),
                StreamEntryPayload.encode([[], [0xff], Array("n".utf8), Array(repeating: 7, count: 300)]),
            ]
        case .wire:
            return []  // spec/vectors/wire.txt seeds this target
        case .nymRequest:
            return [
                ClientRequest.send(recipient: address, data: [1, 2, 3], connectionID: nil),
                .sendAnonymous(recipient: address, data: Array("hi".utf8), replySurbs: 20, connectionID: 7),
                .reply(senderTag: tag, data: [0], connectionID: nil), .selfAddress, .closedConnection(3),
                .getLaneQueueLength(4),
            ].map { $0.encodeBinary() }
        case .nymResponse:
            return [
                ServerResponse.error(kind: .malformedRequest, message: "malformed request"),
                .received(ReceivedMessage(data: [1, 2], senderTag: tag)),
                .received(ReceivedMessage(data: [], senderTag: nil)), .selfAddress(address),
                .laneQueueLength(lane: 1, queueLength: 2),
            ].map { $0.encodeBinary() }
        case .nymText:
            let requests = [
                ClientRequest.send(recipient: address, data: Array("hello".utf8), connectionID: 0),
                .sendAnonymous(recipient: address, data: Array("x".utf8), replySurbs: 10, connectionID: nil),
                .reply(senderTag: tag, data: Array("y".utf8), connectionID: nil), .selfAddress,
            ].compactMap { try? $0.encodeText() }
            let responses = [ServerResponse.selfAddress(address), .received(ReceivedMessage(data: [65], senderTag: tag))]
                .map { $0.encodeText() }
            return (requests + responses).map { Array($0.utf8) }
        }
    }
}

/// A fixed archive index for the `sync` target: 300 keys over 30 minutes, with shared timestamps.
enum SyncFuzzing {
    static let index: SyncIndex = SyncIndex(
        (0..<300).map { i in
            let id = Blake2b.digest32([UInt8(i & 0xff), UInt8(i >> 8)])
            return SyncKey(timestamp: 29_000_000 + UInt32(i / 10), id: MessageID(bytes: id)!)
        })

    static var seeds: [[UInt8]] {
        let first = RangeReconciler.initiate(SyncIndex(Array(index.keys.prefix(200))), windowStart: 29_000_000)
        return [first, [SyncRange(upper: .infinity, mode: .idList([]))], []].map { ranges in
            var w = ByteWriter()
            Message.syncRanges(SyncRanges(round: 1, isReply: false, ranges: ranges)).encodePayload(into: &w)
            return w.bytes
        }
    }
}
