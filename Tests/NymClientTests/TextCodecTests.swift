import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusTransport
import Testing

@Suite struct TextCodecTests {
    let address = Fixtures.addressString
    let recipient = Fixtures.recipient

    // MARK: Requests

    @Test func encodeRequests() throws {
        #expect(
            try ClientRequest.send(recipient: recipient, data: Array("hi".utf8), connectionID: 5).encodeText()
                == "{\"type\":\"send\",\"message\":\"hi\",\"recipient\":\"\(address)\",\"connectionId\":5}")
        #expect(
            try ClientRequest.send(recipient: recipient, data: Array("hi".utf8), connectionID: nil).encodeText()
                == "{\"type\":\"send\",\"message\":\"hi\",\"recipient\":\"\(address)\"}")
        #expect(
            try ClientRequest.sendAnonymous(
                recipient: recipient, data: Array("a\"b".utf8), replySurbs: 20, connectionID: 0
            ).encodeText()
                == "{\"type\":\"sendAnonymous\",\"recipient\":\"\(address)\",\"message\":\"a\\\"b\",\"replySurbs\":20,\"connectionId\":0}"
        )
        #expect(
            try ClientRequest.reply(senderTag: Fixtures.tag, data: [], connectionID: nil).encodeText()
                == "{\"type\":\"reply\",\"senderTag\":\"\(Fixtures.tag.description)\",\"message\":\"\"}")
        #expect(try ClientRequest.selfAddress.encodeText() == "{\"type\":\"selfAddress\"}")
        #expect(throws: NymClientError(.malformedRequest, "")) { try ClientRequest.closedConnection(1).encodeText() }
        #expect(throws: NymClientError(.malformedRequest, "")) { try ClientRequest.getLaneQueueLength(1).encodeText() }
        #expect(throws: NymClientError(.malformedRequest, "")) {
            try ClientRequest.send(recipient: recipient, data: [0xFF], connectionID: nil).encodeText()
        }
    }

    @Test func decodeRequests() throws {
        #expect(
            try ClientRequest.decodeText("{\"type\":\"send\",\"message\":\"hi\",\"recipient\":\"\(address)\"}")
                == .send(recipient: recipient, data: Array("hi".utf8), connectionID: nil))
        // connectionId present, even 0, is Some; null is None; unknown fields are ignored.
        #expect(
            try ClientRequest.decodeText(
                "{\"recipient\":\"\(address)\",\"connectionId\":0,\"extra\":[1],\"type\":\"send\",\"message\":\"\"}")
                == .send(recipient: recipient, data: [], connectionID: 0))
        #expect(
            try ClientRequest.decodeText(
                " {\"type\":\"send\",\"message\":\"x\",\"recipient\":\"\(address)\",\"connectionId\":null}\n")
                == .send(recipient: recipient, data: Array("x".utf8), connectionID: nil))
        #expect(
            try ClientRequest.decodeText(
                "{\"type\":\"sendAnonymous\",\"recipient\":\"\(address)\",\"message\":\"\\u00e9\\ud83d\\ude00\",\"replySurbs\":4294967295,\"connectionId\":18446744073709551615}"
            )
                == .sendAnonymous(recipient: recipient, data: Array("é😀".utf8), replySurbs: .max, connectionID: .max))
        #expect(
            try ClientRequest.decodeText(
                "{\"type\":\"reply\",\"senderTag\":\"\(Fixtures.tag.description)\",\"message\":\"m\"}")
                == .reply(senderTag: Fixtures.tag, data: Array("m".utf8), connectionID: nil))
        #expect(try ClientRequest.decodeText("{\"type\":\"selfAddress\"}") == .selfAddress)
    }

    @Test func requestRoundTrips() throws {
        let requests: [ClientRequest] = [
            .send(recipient: recipient, data: Array("line\nbreak\t\u{01}/\\".utf8), connectionID: 3),
            .sendAnonymous(recipient: recipient, data: Array("ü".utf8), replySurbs: 0, connectionID: nil),
            .reply(senderTag: Fixtures.tag, data: Array("x".utf8), connectionID: 0), .selfAddress,
        ]
        for request in requests { #expect(try ClientRequest.decodeText(try request.encodeText()) == request) }
        #expect(
            try ClientRequest.send(recipient: recipient, data: [1, 10], connectionID: nil).encodeText()
                == "{\"type\":\"send\",\"message\":\"\\u0001\\n\",\"recipient\":\"\(address)\"}")
    }

    private func rejects(_ json: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ClientRequest.decodeText(json)
            Issue.record("accepted \(json)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == .malformedRequest, sourceLocation: sourceLocation)
            #expect(error.message == message, sourceLocation: sourceLocation)
        }
    }

    @Test func serdeStyleErrors() {
        let missing = "{\"type\":\"sendAnonymous\",\"recipient\":\"\(address)\",\"message\":\"m\"}"
        rejects(missing, "missing field `replySurbs` at line 1 column \(missing.utf8.count)")
        rejects(
            "{\"type\":\"foo\"}",
            "unknown variant `foo`, expected one of `send`, `sendAnonymous`, `reply`, `selfAddress` at line 1 column 14"
        )
        rejects("{\"message\":\"m\"}", "missing field `type` at line 1 column 15")
        rejects(
            "{\"type\":\"send\",\"message\":{\"a\":1},\"recipient\":\"x\"}",
            "invalid type: map, expected a string at line 1 column 49")
        rejects("{\"type\":\"send\",\"message\":\"m\"}", "missing field `recipient` at line 1 column 29")
        rejects(
            "{\"type\":\"sendAnonymous\",\"recipient\":\"r\",\"message\":\"m\",\"replySurbs\":4294967296}",
            "invalid value: integer `4294967296`, expected u32 at line 1 column 78")
        rejects(
            "{\"type\":\"send\",\"message\":\"m\",\"recipient\":\"r\",\"connectionId\":-1}",
            "invalid value: integer `-1`, expected u64 at line 1 column 63")
        rejects(
            "{\"type\":\"send\",\"message\":\"m\",\"recipient\":\"r\",\"connectionId\":\"7\"}",
            "invalid type: string \"7\", expected u64 at line 1 column 64")
        rejects(
            "{\"type\":\"send\",\"message\":1,\"message\":\"m\"}",
            "invalid type: integer `1`, expected a string at line 1 column 41")
        rejects(
            "{\"type\":\"send\",\"message\":\"a\",\"message\":\"m\"}", "duplicate field `message` at line 1 column 43")
        rejects("{\"type\":\"selfAddress\",\"type\":\"send\"}", "duplicate field `type` at line 1 column 36")
        rejects("{\"type\":5}", "invalid value: integer `5`, expected variant index 0 <= i < 4 at line 1 column 10")
        rejects("{\"type\":true}", "invalid type: boolean `true`, expected variant identifier at line 1 column 13")
        rejects(
            "\"send\"",
            "invalid type: string \"send\", expected internally tagged enum ClientRequestText at line 1 column 6")
        rejects(
            "{\"type\":\"reply\",\"senderTag\":\"abc\",\"message\":\"m\"}",
            "Decoded AnonymousSenderTag has invalid length. Expected 16, but got 3 at line 1 column 48")
        rejects(
            "{\"type\":\"reply\",\"senderTag\":\"0OIl\",\"message\":\"m\"}",
            "provided string contained invalid character '0' at byte 0 at line 1 column 49")
    }

    @Test func syntaxErrors() {
        rejects("", "EOF while parsing a value at line 1 column 0")
        rejects("{", "EOF while parsing an object at line 1 column 1")
        rejects("{\"type\":\"selfAddress\"} x", "trailing characters at line 1 column 24")
        rejects("{\"type\":\"selfAddress\",}", "key must be a string at line 1 column 23")
        rejects("nul", "EOF while parsing a value at line 1 column 3")
        rejects(
            "{\"a\":\"\u{01}\"}", "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 7")
        rejects("{\n\"type\" 1}", "expected `:` at line 2 column 8")
        rejects(String(repeating: "[", count: 200), "recursion limit exceeded at line 1 column 129")
    }

    @Test func addressErrorsUseNymTexts() {
        func send(_ recipient: String) -> String {
            "{\"type\":\"send\",\"message\":\"m\",\"recipient\":\"\(recipient)\"}"
        }
        rejects(
            send("abc"),
            "recipient is malformed - the string address does not contain exactly a single '@' character ")
        rejects(
            send("a@b@c"),
            "recipient is malformed - the string address does not contain exactly a single '@' character ")
        rejects(
            send("ab@c"),
            "recipient is malformed - the string address does not contain exactly a single '.' character ")
        let parts = address.split(separator: "@")
        let client = parts[0].split(separator: ".")
        rejects(
            send("0\(client[0].dropFirst()).\(client[1])@\(parts[1])"),
            "recipient's identity key is malformed: provided string contained invalid character '0' at byte 0")
        rejects(
            send("\(client[0]).abc@\(parts[1])"),
            "recipient's encryption key is malformed: invalid key length: expected 32 bytes, got 3")
        rejects(
            send("\(client[0]).\(client[1])@\(Base58.encode(Fixtures.badPoint))"),
            "recipient gateway's identity key is malformed: not a valid Ed25519 point")
        rejects(
            send("\(Base58.encode(Fixtures.badPoint)).\(client[1])@\(parts[1])"),
            "recipient's identity key is malformed: not a valid Ed25519 point")
    }

    @Test func randomTextNeverCrashes() {
        var rng = SplitMix64(seed: 3)
        let alphabet = Array("{}[]\":,\\ tuefnal0123456789-.eE/typesendmsgrcipt\n\u{01}é".unicodeScalars)
        for _ in 0..<5_000 {
            let length = Int.random(in: 0..<60, using: &rng)
            var s = String.UnicodeScalarView()
            for _ in 0..<length { s.append(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]) }
            _ = try? ClientRequest.decodeText(String(s))
            _ = try? ServerResponse.decodeText(String(s))
        }
    }

    // MARK: Responses

    @Test func encodeResponses() {
        #expect(
            ServerResponse.received(ReceivedMessage(data: Array("hi".utf8), senderTag: nil)).encodeText()
                == "{\"type\":\"received\",\"message\":\"hi\",\"senderTag\":null}")
        #expect(
            ServerResponse.received(ReceivedMessage(data: [0x68, 0xFF, 0x0A], senderTag: Fixtures.tag)).encodeText()
                == "{\"type\":\"received\",\"message\":\"h\u{FFFD}\\n\",\"senderTag\":\"\(Fixtures.tag.description)\"}")
        #expect(
            ServerResponse.selfAddress(recipient).encodeText()
                == "{\"type\":\"selfAddress\",\"address\":\"\(address)\"}")
        #expect(
            ServerResponse.laneQueueLength(lane: 42, queueLength: 0).encodeText()
                == "{\"type\":\"laneQueueLength\",\"lane\":42,\"queue_length\":0}")
        #expect(
            ServerResponse.error(kind: .malformedRequest, message: "missing field `x`").encodeText()
                == "{\"type\":\"error\",\"message\":\"malformed request:missing field `x`\"}")
        #expect(
            NymClientRequestError(kind: .unknownRequest, message: "9 does not correspond to any valid request tag")
                .response.encodeText()
                == "{\"type\":\"error\",\"message\":\"unknown request type:9 does not correspond to any valid request tag\"}"
        )
    }

    @Test func decodeResponses() throws {
        let cases: [ServerResponse] = [
            .received(ReceivedMessage(data: Array("a\"b\\".utf8), senderTag: nil)),
            .received(ReceivedMessage(data: Array("x".utf8), senderTag: Fixtures.tag)),
            .selfAddress(recipient), .laneQueueLength(lane: .max, queueLength: 7),
            .error(kind: .malformedRequest, message: "bad:thing"), .error(kind: .other, message: ""),
        ]
        for response in cases { #expect(try ServerResponse.decodeText(response.encodeText()) == response) }
        #expect(
            try ServerResponse.decodeText("{\"type\":\"error\",\"message\":\"no prefix here\"}")
                == .error(kind: .other, message: "no prefix here"))
        #expect(
            try ServerResponse.decodeText("{\"message\":\"m\",\"type\":\"received\",\"more\":1}")
                == .received(ReceivedMessage(data: Array("m".utf8), senderTag: nil)))
        for bad in [
            "", "{}", "{\"type\":\"nope\"}", "{\"type\":\"laneQueueLength\",\"lane\":1}",
            "{\"type\":\"laneQueueLength\",\"lane\":-1,\"queue_length\":0}", "{\"type\":\"received\"}",
            "{\"type\":\"received\",\"message\":\"m\",\"senderTag\":5}", "[1]",
        ] {
            #expect(throws: NymClientError.self) { try ServerResponse.decodeText(bad) }
        }
        #expect(throws: NymClientError(.invalidAddress, "")) {
            try ServerResponse.decodeText("{\"type\":\"selfAddress\",\"address\":\"x\"}")
        }
        #expect(throws: NymClientError(.invalidSenderTag, "")) {
            try ServerResponse.decodeText("{\"type\":\"received\",\"message\":\"m\",\"senderTag\":\"abc\"}")
        }
    }
}
