import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusTransport
import Testing

@Suite struct ClientRequestBinaryTests {
    let recipient = Fixtures.recipient

    @Test func exampleAddressParsesAndPrintsBack() throws {
        let r = try Recipient(string: Fixtures.addressString)
        #expect(r.description == Fixtures.addressString)
        #expect(r.bytes.count == 96)
        #expect(try Recipient(bytes: r.bytes) == r)
    }

    @Test func sendLayout() throws {
        let bytes = ClientRequest.send(recipient: recipient, data: [0xAA, 0xBB, 0xCC], connectionID: 0x0102)
            .encodeBinary()
        #expect(bytes.count == 113 + 3)
        #expect(bytes[0] == 0x00)
        #expect(Array(bytes[1..<97]) == recipient.bytes)
        #expect(Array(bytes[97..<105]) == [0, 0, 0, 0, 0, 0, 1, 2])
        #expect(Array(bytes[105..<113]) == [0, 0, 0, 0, 0, 0, 0, 3])
        #expect(Array(bytes[113...]) == [0xAA, 0xBB, 0xCC])
        #expect(
            try ClientRequest.decodeBinary(bytes)
                == .send(recipient: recipient, data: [0xAA, 0xBB, 0xCC], connectionID: 0x0102))
    }

    @Test func sendWithoutConnectionIDWritesZeroAndDecodesToNil() throws {
        let bytes = ClientRequest.send(recipient: recipient, data: [], connectionID: nil).encodeBinary()
        #expect(bytes.count == 113)
        #expect(Array(bytes[97..<113]) == [UInt8](repeating: 0, count: 16))
        #expect(try ClientRequest.decodeBinary(bytes) == .send(recipient: recipient, data: [], connectionID: nil))
        // An explicit 0 is the same bytes, so it comes back as nil.
        #expect(ClientRequest.send(recipient: recipient, data: [], connectionID: 0).encodeBinary() == bytes)
    }

    @Test func sendAnonymousLayoutPutsSurbsBeforeRecipient() throws {
        let req = ClientRequest.sendAnonymous(recipient: recipient, data: [7], replySurbs: 0x0A0B_0C0D, connectionID: 9)
        let bytes = req.encodeBinary()
        #expect(bytes.count == 118)
        #expect(bytes[0] == 0x01)
        #expect(Array(bytes[1..<5]) == [0x0A, 0x0B, 0x0C, 0x0D])
        #expect(Array(bytes[5..<101]) == recipient.bytes)
        #expect(Array(bytes[101..<109]) == Fixtures.be64(9))
        #expect(Array(bytes[109..<117]) == Fixtures.be64(1))
        #expect(bytes[117] == 7)
        #expect(try ClientRequest.decodeBinary(bytes) == req)
    }

    @Test func replyLayout() throws {
        let req = ClientRequest.reply(senderTag: Fixtures.tag, data: [1, 2], connectionID: nil)
        let bytes = req.encodeBinary()
        #expect(bytes == [0x02] + Array(0x10...0x1f) + Fixtures.be64(0) + Fixtures.be64(2) + [1, 2])
        #expect(try ClientRequest.decodeBinary(bytes) == req)
    }

    @Test func fixedRequests() throws {
        #expect(ClientRequest.selfAddress.encodeBinary() == [0x03])
        #expect(
            ClientRequest.closedConnection(0x1122_3344_5566_7788).encodeBinary() == [
                0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
            ])
        #expect(ClientRequest.getLaneQueueLength(5).encodeBinary() == [0x05] + Fixtures.be64(5))
        #expect(try ClientRequest.decodeBinary([0x03]) == .selfAddress)
        #expect(try ClientRequest.decodeBinary([0x03, 0xFF, 0xFF]) == .selfAddress)  // trailing bytes ignored
        #expect(try ClientRequest.decodeBinary([0x04] + Fixtures.be64(0)) == .closedConnection(0))
        #expect(try ClientRequest.decodeBinary([0x05] + Fixtures.be64(42)) == .getLaneQueueLength(42))
    }

    private func rejects(
        _ bytes: [UInt8], _ kind: ErrorKind, _ message: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(throws: NymClientRequestError(kind: kind, message: message), sourceLocation: sourceLocation) {
            try ClientRequest.decodeBinary(bytes)
        }
    }

    @Test func errorStrings() {
        rejects([], .emptyRequest, "no data provided")
        rejects([0x06], .unknownRequest, "6 does not correspond to any valid request tag")
        rejects([0xFF, 1, 2], .unknownRequest, "255 does not correspond to any valid request tag")
        rejects(
            [0x00] + [UInt8](repeating: 0, count: 111), .tooShortRequest, "not enough data provided to recover 'send'")
        rejects(
            [0x01] + [UInt8](repeating: 0, count: 115), .tooShortRequest,
            "not enough data provided to recover 'send_anonymous'")
        rejects(
            [0x02] + [UInt8](repeating: 0, count: 31), .tooShortRequest, "not enough data provided to recover 'reply'")
        rejects([0x04], .malformedRequest, "The received closed connection has invalid length")
        rejects([0x04] + Fixtures.be64(1) + [0], .malformedRequest, "The received closed connection has invalid length")
        rejects([0x05] + [1, 2, 3], .malformedRequest, "The received get lane queue lengths has invalid length")
        rejects(
            [0x05] + Fixtures.be64(1) + [0], .malformedRequest, "The received get lane queue lengths has invalid length"
        )
    }

    @Test func lengthMismatches() {
        let r = recipient.bytes
        rejects(
            [0x00] + r + Fixtures.be64(0) + Fixtures.be64(4) + [1, 2, 3], .malformedRequest,
            "data len has inconsistent length. specified: 4 got: 3")
        rejects(
            [0x00] + r + Fixtures.be64(0) + Fixtures.be64(0) + [1], .malformedRequest,
            "data len has inconsistent length. specified: 0 got: 1")
        rejects(
            [0x01] + Fixtures.be32(1) + r + Fixtures.be64(0) + Fixtures.be64(2) + [1], .malformedRequest,
            "data len has inconsistent length. specified: 2 got: 1")
        rejects(
            [0x02] + Fixtures.tag.bytes + Fixtures.be64(0) + Fixtures.be64(5), .malformedRequest,
            "message len has inconsistent length. specified: 5 got: 0")
        // A huge length is compared, never allocated.
        rejects(
            [0x00] + r + Fixtures.be64(0) + Fixtures.be64(1 << 63), .malformedRequest,
            "data len has inconsistent length. specified: 9223372036854775808 got: 0")
        rejects(
            [0x02] + Fixtures.tag.bytes + Fixtures.be64(0) + Fixtures.be64(.max) + [1], .malformedRequest,
            "message len has inconsistent length. specified: 18446744073709551615 got: 1")
    }

    @Test func badRecipientBytes() {
        let good = recipient.bytes
        let badIdentity = Fixtures.badPoint + good[32..<96]
        let badGateway = Array(good[0..<64]) + Fixtures.badPoint
        let tail = Fixtures.be64(0) + Fixtures.be64(0)
        rejects(
            [0x00] + badIdentity + tail, .malformedRequest,
            "malformed recipient: recipient's identity key is malformed: not a valid Ed25519 point")
        rejects(
            [0x00] + badGateway + tail, .malformedRequest,
            "malformed recipient: recipient gateway's identity key is malformed: not a valid Ed25519 point")
        rejects(
            [0x01, 0, 0, 0, 0] + badIdentity + tail, .malformedRequest,
            "malformed recipient: recipient's identity key is malformed: not a valid Ed25519 point")
    }

    @Test func truncationAtEveryLengthNeverSucceedsWrongly() {
        let requests: [ClientRequest] = [
            .send(recipient: recipient, data: Array(0..<20), connectionID: 3),
            .sendAnonymous(recipient: recipient, data: Array(0..<20), replySurbs: 10, connectionID: nil),
            .reply(senderTag: Fixtures.tag, data: Array(0..<20), connectionID: 1),
            .closedConnection(77), .getLaneQueueLength(78),
        ]
        for request in requests {
            let full = request.encodeBinary()
            #expect((try? ClientRequest.decodeBinary(full)) == request)
            for length in 0..<full.count {
                #expect(throws: NymClientRequestError.self) { try ClientRequest.decodeBinary(Array(full[0..<length])) }
            }
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 1)
        var decoded = 0
        for i in 0..<20_000 {
            let length = Int.random(in: 0..<200, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if !bytes.isEmpty && i % 2 == 0 { bytes[0] = UInt8(i % 7) }  // mostly valid tags
            if (try? ClientRequest.decodeBinary(bytes)) != nil { decoded += 1 }
        }
        #expect(decoded > 0)  // selfAddress frames at least
    }
}
