import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusTransport
import Testing

@Suite struct ServerResponseBinaryTests {
    @Test func errorLayout() throws {
        let response = ServerResponse.error(kind: .malformedRequest, message: "no")
        let bytes = response.encodeBinary()
        #expect(bytes == [0x00, 0x04] + Fixtures.be64(2) + Array("no".utf8))
        #expect(try ServerResponse.decodeBinary(bytes) == response)
    }

    @Test func receivedLayouts() throws {
        let plain = ServerResponse.received(ReceivedMessage(data: [9, 8], senderTag: nil))
        #expect(plain.encodeBinary() == [0x01, 0x00] + Fixtures.be64(2) + [9, 8])
        #expect(try ServerResponse.decodeBinary(plain.encodeBinary()) == plain)
        let tagged = ServerResponse.received(ReceivedMessage(data: [9], senderTag: Fixtures.tag))
        #expect(tagged.encodeBinary() == [0x01, 0x01] + Array(0x10...0x1f) + Fixtures.be64(1) + [9])
        #expect(try ServerResponse.decodeBinary(tagged.encodeBinary()) == tagged)
        let empty = ServerResponse.received(ReceivedMessage(data: [], senderTag: nil))
        #expect(empty.encodeBinary().count == 10)
        #expect(try ServerResponse.decodeBinary(empty.encodeBinary()) == empty)
    }

    @Test func selfAddressAndLaneLayouts() throws {
        let r = Fixtures.recipient
        #expect(ServerResponse.selfAddress(r).encodeBinary() == [0x02] + r.bytes)
        #expect(try ServerResponse.decodeBinary([0x02] + r.bytes) == .selfAddress(r))
        let lane = ServerResponse.laneQueueLength(lane: 42, queueLength: 0x0102_0304_0506_0708)
        #expect(lane.encodeBinary() == [0x03] + Fixtures.be64(42) + [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(try ServerResponse.decodeBinary(lane.encodeBinary()) == lane)
    }

    private func rejects(
        _ bytes: [UInt8], _ code: NymClientError.Code = .malformedResponse,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(throws: NymClientError(code, ""), sourceLocation: sourceLocation) {
            try ServerResponse.decodeBinary(bytes)
        }
    }

    @Test func malformedResponses() {
        rejects([])
        rejects([0x04])
        rejects([0x00, 0x05] + Fixtures.be64(0))  // unknown error kind
        rejects([0x00, 0x04] + Fixtures.be64(3) + [1])  // length mismatch
        rejects([0x01, 0x02] + Fixtures.be64(0))  // tag flag must be 0 or 1
        rejects([0x01, 0x01] + Fixtures.be64(0))  // flag 1 but no tag
        rejects([0x01, 0x00] + Fixtures.be64(1 << 63))  // huge length is compared, not allocated
        rejects([0x02] + Fixtures.recipient.bytes + [0])  // selfAddress must be exactly 97
        rejects([0x02] + Fixtures.badPoint + Fixtures.recipient.bytes[32...], .invalidAddress)
        rejects([0x03] + Fixtures.be64(1) + Fixtures.be64(1) + [0])  // exactly 17
        for kind in ErrorKind.allKinds {
            #expect(
                (try? ServerResponse.decodeBinary([0x00, kind.rawValue] + Fixtures.be64(0)))
                    == .error(kind: kind, message: ""))
        }
    }

    @Test func truncationAtEveryLength() {
        let responses: [ServerResponse] = [
            .error(kind: .other, message: "boom"),
            .received(ReceivedMessage(data: Array(0..<30), senderTag: nil)),
            .received(ReceivedMessage(data: Array(0..<30), senderTag: Fixtures.tag)),
            .selfAddress(Fixtures.recipient),
            .laneQueueLength(lane: 1, queueLength: 2),
        ]
        for response in responses {
            let full = response.encodeBinary()
            for length in 0..<full.count {
                #expect(throws: NymClientError.self) { try ServerResponse.decodeBinary(Array(full[0..<length])) }
            }
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 2)
        for i in 0..<20_000 {
            let length = Int.random(in: 0..<140, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if !bytes.isEmpty && i % 2 == 0 { bytes[0] = UInt8(i % 5) }
            if bytes.count > 1 && i % 4 == 0 { bytes[1] = UInt8(i % 3) }
            _ = try? ServerResponse.decodeBinary(bytes)
        }
    }

    @Test func errorKindPrefixes() {
        let expected: [(ErrorKind, UInt8, String)] = [
            (.emptyRequest, 0x01, "received request contained no data"),
            (.tooShortRequest, 0x02, "received request did not contain enough data"),
            (.unknownRequest, 0x03, "unknown request type"),
            (.malformedRequest, 0x04, "malformed request"),
            (.emptyResponse, 0x80, "received response contained no data"),
            (.tooShortResponse, 0x81, "received response did not contain enough data"),
            (.unknownResponse, 0x82, "unknown response type"),
            (.malformedResponse, 0x83, "malformed response"),
            (.other, 0xFF, "other"),
        ]
        for (kind, raw, prefix) in expected {
            #expect(kind.rawValue == raw)
            #expect(kind.prefix == prefix)
            #expect(ErrorKind(rawValue: raw) == kind)
        }
        #expect(ErrorKind.allKinds.count == 9)
        #expect(ErrorKind(rawValue: 0x00) == nil)
        #expect(ErrorKind(rawValue: 0x05) == nil)
    }
}
