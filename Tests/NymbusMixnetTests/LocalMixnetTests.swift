import NIOCore
import NIOWebSocket
import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusTransport
import Testing

@testable import NymbusMixnet

/// The local mixnet end to end, over real loopback WebSockets, as a node would use it.
@Suite struct LocalMixnetTests {
    typealias S = MixnetTestSupport

    @Test func selfAddressInBinaryAndText() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let address = await mixnet.endpoints[0].address
        let socket = try await S.connect(mixnet, 0)
        try await socket.send(binary: [0x03])
        #expect(await socket.nextBinary() == [0x02] + address.bytes)
        try await socket.send(binary: [0x03, 0xAA, 0xBB])  // trailing bytes are ignored
        #expect(await socket.nextBinary() == [0x02] + address.bytes)
        try await socket.send(text: #"{"type":"selfAddress"}"#)
        #expect(await socket.nextText() == #"{"type":"selfAddress","address":""# + address.description + #""}"#)
        await socket.close()
        await mixnet.stop()
    }

    @Test func sendDeliversTheBytesWithNoTag() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let b = await mixnet.endpoints[1].address
        let alice = try await S.connect(mixnet, 0)
        let bob = try await S.connect(mixnet, 1)
        let data: [UInt8] = [0, 1, 2, 0xFF, 0x80]
        try await alice.send(binary: ClientRequest.send(recipient: b, data: data, connectionID: nil).encodeBinary())
        // received: tag 0x01, has_sender_tag 0, u64 length, data.
        #expect(await bob.nextBinary() == [0x01, 0x00] + S.be64(data.count) + data)
        // No answer to a send without a connection id.
        #expect(await alice.inbox.next(timeout: .milliseconds(200)) == nil)
        #expect(await mixnet.counters.messagesDelivered == 1)
        await alice.close()
        await bob.close()
        await mixnet.stop()
    }

    @Test func sendWithConnectionIDIsAnsweredWithLaneQueueLength() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let b = await mixnet.endpoints[1].address
        let alice = try await S.connect(mixnet, 0)
        try await alice.send(binary: ClientRequest.send(recipient: b, data: [1], connectionID: 7).encodeBinary())
        #expect(await alice.nextBinary() == [0x03] + S.be64(7) + S.be64(0))
        try await alice.send(binary: [0x05] + S.be64(9))  // GetLaneQueueLength(9)
        #expect(await alice.nextBinary() == [0x03] + S.be64(9) + S.be64(0))
        try await alice.send(binary: [0x04] + S.be64(9))  // ClosedConnection: no answer
        #expect(await alice.inbox.next(timeout: .milliseconds(200)) == nil)
        await alice.close()
        await mixnet.stop()
    }

    @Test func anonymousSendAndReplyOverSurbs() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let (a, b) = await (mixnet.endpoints[0].address, mixnet.endpoints[1].address)
        let tap = await mixnet.tap()
        let alice = try await S.connect(mixnet, 0)
        let bob = try await S.connect(mixnet, 1)
        try await alice.send(
            binary: ClientRequest.sendAnonymous(recipient: b, data: [42], replySurbs: 20, connectionID: nil)
                .encodeBinary())
        let received = try ServerResponse.decodeBinary(try #require(await bob.nextBinary()))
        guard case .received(let message) = received, let tag = message.senderTag else {
            Issue.record("expected a tagged message, got \(received)")
            return
        }
        #expect(message.data == [42])
        #expect(await mixnet.senderTag(from: 0, to: b) == tag)
        #expect(await mixnet.surbCount(holder: 1, tag: tag) == 20)

        try await bob.send(binary: ClientRequest.reply(senderTag: tag, data: [43], connectionID: nil).encodeBinary())
        // The reply carries no tag and no sender.
        #expect(await alice.nextBinary() == [0x01, 0x00] + S.be64(1) + [43])
        #expect(await mixnet.surbCount(holder: 1, tag: tag) == 19)

        // A second anonymous message to the same recipient reuses the tag.
        try await alice.send(
            binary: ClientRequest.sendAnonymous(recipient: b, data: [44], replySurbs: 0, connectionID: nil)
                .encodeBinary())
        #expect(
            try ServerResponse.decodeBinary(try #require(await bob.nextBinary()))
                == .received(ReceivedMessage(data: [44], senderTag: tag)))

        var iterator = tap.makeAsyncIterator()
        let events = [await iterator.next(), await iterator.next(), await iterator.next()]
        #expect(
            events == [
                MixnetTapEvent(
                    kind: .sendAnonymous, from: 0, fromAddress: a, to: 1, toAddress: b, senderTag: tag, bytes: [42],
                    surbCount: 20),
                MixnetTapEvent(
                    kind: .reply, from: 1, fromAddress: b, to: 0, toAddress: a, senderTag: tag, bytes: [43],
                    surbCount: 1),
                MixnetTapEvent(
                    kind: .sendAnonymous, from: 0, fromAddress: a, to: 1, toAddress: b, senderTag: tag, bytes: [44],
                    surbCount: 0),
            ])
        await alice.close()
        await bob.close()
        await mixnet.stop()
    }

    @Test func replyToAnUnknownTagIsDroppedSilently() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let alice = try await S.connect(mixnet, 0)
        let bob = try await S.connect(mixnet, 1)
        try await bob.send(
            binary: ClientRequest.reply(senderTag: SenderTag.random(), data: [1], connectionID: nil).encodeBinary())
        #expect(await eventually { await mixnet.counters.repliesDroppedUnknownTag == 1 })
        #expect(await alice.inbox.next(timeout: .milliseconds(300)) == nil)
        #expect(await bob.inbox.next(timeout: .milliseconds(50)) == nil)  // no error to the app either
        #expect(await mixnet.counters.messagesDelivered == 0)
        await alice.close()
        await bob.close()
        await mixnet.stop()
    }

    @Test func exhaustedSurbsAreToppedUpAndQueuedRepliesArrive() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let b = await mixnet.endpoints[1].address
        let tap = await mixnet.tap()
        let alice = try await S.connect(mixnet, 0)
        let bob = try await S.connect(mixnet, 1)
        // 11 SURBs: one above the reserve.
        try await alice.send(
            binary: ClientRequest.sendAnonymous(recipient: b, data: [0], replySurbs: 11, connectionID: nil)
                .encodeBinary())
        guard case .received(let message) = try ServerResponse.decodeBinary(try #require(await bob.nextBinary())),
            let tag = message.senderTag
        else {
            Issue.record("no tagged message")
            return
        }
        // Alice's nym-client goes down, so the SURB request waits at her gateway: the replies
        // beyond the first stay queued however fast or slow this machine is.
        try await mixnet.takeOffline(0)
        for i in 1...3 {
            try await bob.send(
                binary: ClientRequest.reply(senderTag: tag, data: [UInt8(i)], connectionID: 5).encodeBinary())
        }
        // Reply 1 goes at once; 2 and 3 wait (1, then 2 packets queued on lane 5).
        #expect(await bob.nextBinary() == [0x03] + S.be64(5) + S.be64(0))
        #expect(await bob.nextBinary() == [0x03] + S.be64(5) + S.be64(1))
        #expect(await bob.nextBinary() == [0x03] + S.be64(5) + S.be64(2))
        try await bob.send(binary: [0x05] + S.be64(5))
        #expect(await bob.nextBinary() == [0x03] + S.be64(5) + S.be64(2))
        #expect(await mixnet.pendingReplies(holder: 1, tag: tag) == 2)
        #expect(await mixnet.surbCount(holder: 1, tag: tag) == 9)  // 11 - 1 reply - 1 request
        #expect(await mixnet.counters.surbRequests == 1)

        // Alice's client comes back: the request is answered, the queue drains, and the three
        // replies wait in her inbox until her app reconnects.
        try await mixnet.bringOnline(0)
        #expect(await eventually { await mixnet.inboxCount(0) == 3 })
        let aliceAgain = try await S.connect(mixnet, 0)
        var replies: Set<[UInt8]> = []
        for _ in 1...3 {
            guard
                case .received(let reply) = try ServerResponse.decodeBinary(try #require(await aliceAgain.nextBinary()))
            else { continue }
            #expect(reply.senderTag == nil)
            replies.insert(reply.data)
        }
        #expect(replies == [[1], [2], [3]])
        let counters = await mixnet.counters
        #expect(counters.surbRequests == 1)
        #expect(counters.surbTopUps == 1)
        #expect(await mixnet.pendingReplies(holder: 1, tag: tag) == 0)
        #expect(await mixnet.surbCount(holder: 1, tag: tag) == 17)  // 9 + 10 - 2 replies
        var kinds: [MixnetTapEvent.Kind] = []
        for await event in tap {
            kinds.append(event.kind)
            if kinds.count == 6 { break }
        }
        #expect(kinds == [.sendAnonymous, .reply, .surbRequest, .surbTopUp, .reply, .reply])
        await alice.close()
        await aliceAgain.close()
        await bob.close()
        await mixnet.stop()
    }

    @Test func aSecondConnectionIsClosedBeforeTheHandshake() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let port = await mixnet.endpoints[0].port
        let first = try await S.connect(mixnet, 0)
        await #expect(throws: (any Error).self) { try await TestWebSocket.connect(port: port, group: S.group) }
        #expect(try await TestWebSocket.rawConnectionIsClosed(port: port, group: S.group, timeout: .seconds(5)))
        // The first connection is unaffected.
        try await first.send(binary: [0x03])
        #expect(await first.nextBinary()?.first == 0x02)
        // Once it is gone, a new one is accepted.
        await first.close()
        let second = try await S.connect(mixnet, 0)
        try await second.send(binary: [0x03])
        #expect(await second.nextBinary()?.first == 0x02)
        await second.close()
        await mixnet.stop()
    }

    @Test func messagesForADetachedEndpointArriveInABurst() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let b = await mixnet.endpoints[1].address
        let alice = try await S.connect(mixnet, 0)
        for i in 0..<3 {
            try await alice.send(
                binary: ClientRequest.send(recipient: b, data: [UInt8(i)], connectionID: nil).encodeBinary())
        }
        #expect(await eventually { await mixnet.inboxCount(1) == 3 })
        let bob = try await S.connect(mixnet, 1)
        for i in 0..<3 {
            #expect(await bob.nextBinary() == [0x01, 0x00] + S.be64(1) + [UInt8(i)])
        }
        #expect(await mixnet.inboxCount(1) == 0)
        // A dropped connection: arrivals wait again, and come on reconnect.
        try await mixnet.dropConnection(1)
        #expect(await bob.inbox.waitForClose())
        try await alice.send(binary: ClientRequest.send(recipient: b, data: [9], connectionID: nil).encodeBinary())
        #expect(await eventually { await mixnet.inboxCount(1) == 1 })
        let bobAgain = try await S.connect(mixnet, 1)
        #expect(await bobAgain.nextBinary() == [0x01, 0x00] + S.be64(1) + [9])
        await alice.close()
        await bobAgain.close()
        await mixnet.stop()
    }

    @Test func textRequestsGetTextAnswersInNymClientsShapes() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let (a, b) = await (mixnet.endpoints[0].address, mixnet.endpoints[1].address)
        let alice = try await S.connect(mixnet, 0)
        let bob = try await S.connect(mixnet, 1)
        // Bob switches to text mode; pushed messages follow.
        try await bob.send(text: #"{"type":"selfAddress"}"#)
        #expect(await bob.nextText() == #"{"type":"selfAddress","address":"\#(b)"}"#)

        try await alice.send(text: #"{"type":"send","message":"hello","recipient":"\#(b)","connectionId":0}"#)
        // Any text connectionId, even 0, is an id.
        #expect(await alice.nextText() == #"{"type":"laneQueueLength","lane":0,"queue_length":0}"#)
        #expect(await bob.nextText() == #"{"type":"received","message":"hello","senderTag":null}"#)

        try await alice.send(
            text: #"{"type":"sendAnonymous","message":"hi","recipient":"\#(b)","replySurbs":15}"#)
        let anonymous = try #require(await bob.nextText())
        let tag = try #require(await mixnet.senderTag(from: 0, to: b))
        #expect(anonymous == #"{"type":"received","message":"hi","senderTag":"\#(tag)"}"#)

        // Alice in text mode too: the reply arrives as text with senderTag null.
        try await alice.send(text: #"{"type":"selfAddress"}"#)
        #expect(await alice.nextText() == #"{"type":"selfAddress","address":"\#(a)"}"#)
        try await bob.send(text: #"{"type":"reply","message":"back","senderTag":"\#(tag)"}"#)
        #expect(await alice.nextText() == #"{"type":"received","message":"back","senderTag":null}"#)

        // Binary payloads pushed in text mode are decoded lossily.
        try await alice.send(text: #"{"type":"selfAddress"}"#)
        _ = await alice.nextText()
        try await bob.send(
            binary: ClientRequest.send(recipient: a, data: [0xFF, 0x41], connectionID: nil).encodeBinary())
        #expect(await alice.nextText() == "{\"type\":\"received\",\"message\":\"\u{FFFD}A\",\"senderTag\":null}")

        // Errors, with the kind prefix and no space after the colon.
        try await alice.send(text: #"{"type":"send","message":"x","recipient":"abc"}"#)
        #expect(
            await alice.nextText()
                == #"{"type":"error","message":"malformed request:recipient is malformed - the string address does not contain exactly a single '@' character "}"#
        )
        try await alice.send(text: #"{"type":"sendAnonymous","message":"x","recipient":"\#(b)"}"#)
        let missing = try #require(await alice.nextText())
        #expect(
            missing.hasPrefix(
                #"{"type":"error","message":"malformed request:missing field `replySurbs` at line 1 column "#))
        try await alice.send(text: #"{"type":"reply","message":"x","senderTag":"11111"}"#)
        let badTag = try #require(await alice.nextText())
        #expect(
            badTag.hasPrefix(
                #"{"type":"error","message":"malformed request:Decoded AnonymousSenderTag has invalid length. Expected 16, but got "#
            ))
        for json in [#"{"type":"foo"}"#, "not json", #"{"type":"closedConnection"}"#] {
            try await alice.send(text: json)
            let expected: String
            do {
                _ = try ClientRequest.decodeText(json)
                expected = "no error"
            } catch { expected = error.response.encodeText() }
            #expect(await alice.nextText() == expected)
            #expect(expected.hasPrefix(#"{"type":"error","message":"malformed request:"#))
        }
        // Back to binary: answers follow the last frame type.
        try await alice.send(binary: [0x03])
        #expect(await alice.nextBinary() == [0x02] + a.bytes)
        #expect(await mixnet.counters.requestsRejected == 6)
        await alice.close()
        await bob.close()
        await mixnet.stop()
    }

    @Test func malformedBinaryRequestsGetNymClientsErrors() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let address = await mixnet.endpoints[0].address
        let socket = try await S.connect(mixnet, 0)
        func error(_ kind: UInt8, _ message: String) -> [UInt8] {
            [0x00, kind] + S.be64(message.utf8.count) + Array(message.utf8)
        }
        let cases: [([UInt8], [UInt8])] = [
            ([], error(0x01, "no data provided")),
            ([0x09], error(0x03, "9 does not correspond to any valid request tag")),
            ([0x00, 1, 2, 3], error(0x02, "not enough data provided to recover 'send'")),
            (
                [0x01] + [UInt8](repeating: 0, count: 50),
                error(0x02, "not enough data provided to recover 'send_anonymous'")
            ),
            ([0x02, 1], error(0x02, "not enough data provided to recover 'reply'")),
            (
                [0x00] + address.bytes + S.be64(0) + S.be64(5) + [1, 2],
                error(0x04, "data len has inconsistent length. specified: 5 got: 2")
            ),
            (
                [0x02] + [UInt8](repeating: 1, count: 16) + S.be64(0) + S.be64(1),
                error(0x04, "message len has inconsistent length. specified: 1 got: 0")
            ),
            ([0x04, 1, 2], error(0x04, "The received closed connection has invalid length")),
            ([0x05] + S.be64(1) + [0], error(0x04, "The received get lane queue lengths has invalid length")),
        ]
        for (request, expected) in cases {
            try await socket.send(binary: request)
            #expect(await socket.nextBinary() == expected, "request \(request.prefix(8))")
        }
        // A recipient whose identity key is not an Ed25519 point.
        var bad = address.bytes
        for i in 0..<32 { bad[i] = 0xFF }
        bad[31] = 0x7F
        try await socket.send(binary: [0x00] + bad + S.be64(0) + S.be64(0))
        let answer = try ServerResponse.decodeBinary(try #require(await socket.nextBinary()))
        guard case .error(let kind, let message) = answer else {
            Issue.record("expected an error, got \(answer)")
            return
        }
        #expect(kind == .malformedRequest)
        #expect(message.hasPrefix("malformed recipient: "))
        #expect(await mixnet.counters.requestsRejected == cases.count + 1)
        await socket.close()
        await mixnet.stop()
    }

    @Test func framesOverSixteenMebibytesCloseTheConnection() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let port = await mixnet.endpoints[0].port
        // Exactly 16 MiB announced: the server waits for the payload.
        let atLimit = try await RawTCPClient.upgraded(port: port, group: S.group)
        try await atLimit.write(RawTCPClient.maskedHeader(opcode: 0x2, length: EndpointListener.maximumFrameSize))
        #expect(await atLimit.inbox.next(timeout: .milliseconds(300)) == nil)
        #expect(await !atLimit.inbox.isClosed)
        await atLimit.close()
        // One byte more: refused from the header alone, and the connection ends.
        let overLimit = try await RawTCPClient.upgraded(port: port, group: S.group)
        try await overLimit.write(RawTCPClient.maskedHeader(opcode: 0x2, length: EndpointListener.maximumFrameSize + 1))
        #expect(await overLimit.inbox.waitForClose())
        #expect(await eventually { await !mixnet.isAttached(0) })
        await mixnet.stop()
    }

    @Test func messagesOverSixtyFourMebibytesCloseTheConnection() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let port = await mixnet.endpoints[0].port
        let client = try await RawTCPClient.upgraded(port: port, group: S.group)
        let fragment = [UInt8](repeating: 0, count: 16 << 20)
        // Four full 16 MiB fragments make exactly 64 MiB: still accepted...
        try await client.write(RawTCPClient.maskedHeader(opcode: 0x2, length: fragment.count, fin: false) + fragment)
        for _ in 0..<3 {
            try await client.write(
                RawTCPClient.maskedHeader(opcode: 0x0, length: fragment.count, fin: false) + fragment)
        }
        try await client.write(RawTCPClient.maskedHeader(opcode: 0x9, length: 1) + [7])  // ping
        #expect(await client.inbox.next()?.bytes == [0x8A, 1, 7])  // pong
        // ...one more byte is over the message limit.
        try? await client.write(RawTCPClient.maskedHeader(opcode: 0x0, length: 1, fin: true) + [0])
        #expect(await client.inbox.waitForClose())
        await mixnet.stop()
    }

    @Test func unmaskedClientFramesEndTheConnection() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let port = await mixnet.endpoints[0].port
        let client = try await RawTCPClient.upgraded(port: port, group: S.group)
        try await client.write([0x82, 0x01, 0x03])  // binary selfAddress, no MASK bit
        #expect(await client.inbox.waitForClose())
        await mixnet.stop()
    }

    @Test func aPlainHTTPRequestGetsBadRequest() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let port = await mixnet.endpoints[0].port
        let client = try await RawTCPClient.connect(port: port, group: S.group)
        try await client.write(Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        #expect(await client.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 400 Bad Request"))
        #expect(await client.inbox.waitForClose())
        await mixnet.stop()
    }

    @Test func aFragmentedMessageUnderTheLimitIsOneRequest() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let b = await mixnet.endpoints[1].address
        let alice = try await S.connect(mixnet, 0)
        let bob = try await S.connect(mixnet, 1)
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        let request = ClientRequest.send(recipient: b, data: data, connectionID: nil).encodeBinary()
        try await alice.send(opcode: .binary, bytes: Array(request[..<50_000]), fin: false)
        try await alice.send(opcode: .continuation, bytes: Array(request[50_000...]), fin: true)
        #expect(await bob.nextBinary() == [0x01, 0x00] + S.be64(data.count) + data)
        await alice.close()
        await bob.close()
        await mixnet.stop()
    }

    @Test func invalidUTF8InATextFrameEndsTheConnection() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let socket = try await S.connect(mixnet, 0)
        try await socket.send(opcode: .text, bytes: [0x7B, 0xFF, 0x7D])
        #expect(await socket.inbox.waitForClose())
        await mixnet.stop()
    }

    @Test func lossAndDuplicationOverTheSockets() async throws {
        let mixnet = try await S.startMixnet(clients: 2, loss: 0.25, duplicate: 0.25, seed: 11)
        let b = await mixnet.endpoints[1].address
        let alice = try await S.connect(mixnet, 0)
        let bob = try await S.connect(mixnet, 1)
        let n = 400
        for i in 0..<n {
            try await alice.send(
                binary: ClientRequest.send(recipient: b, data: [UInt8(i >> 8), UInt8(i & 0xFF)], connectionID: nil)
                    .encodeBinary())
        }
        #expect(await eventually { await mixnet.counters.messagesRouted == n })
        let counters = await mixnet.counters
        #expect((70...130).contains(counters.droppedByLoss))
        #expect((70...130).contains(counters.duplicated))
        let expected = n - counters.droppedByLoss + counters.duplicated
        #expect(counters.messagesDelivered == expected)
        var received = 0
        while await bob.nextBinary(timeout: .seconds(5)) != nil {
            received += 1
            if received == expected { break }
        }
        #expect(received == expected)
        #expect(await bob.inbox.next(timeout: .milliseconds(100)) == nil)
        await alice.close()
        await bob.close()
        await mixnet.stop()
    }

    @Test func delayedMessagesAllArriveOutOfOrder() async throws {
        let mixnet = try await S.startMixnet(clients: 2, hopDelay: .milliseconds(15), seed: 3)
        let b = await mixnet.endpoints[1].address
        let alice = try await S.connect(mixnet, 0)
        let bob = try await S.connect(mixnet, 1)
        let n = 60
        for i in 0..<n {
            try await alice.send(
                binary: ClientRequest.send(recipient: b, data: [UInt8(i)], connectionID: nil).encodeBinary())
        }
        var order: [Int] = []
        for _ in 0..<n {
            guard let frame = await bob.nextBinary(), let last = frame.last else { break }
            order.append(Int(last))
        }
        #expect(order.sorted() == Array(0..<n))
        #expect(order != Array(0..<n))
        await alice.close()
        await bob.close()
        await mixnet.stop()
    }

    @Test func pingIsAnsweredWithPong() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let socket = try await S.connect(mixnet, 0)
        try await socket.send(opcode: .ping, bytes: [1, 2, 3])
        #expect(await socket.inbox.next() == TestFrame(opcode: .pong, bytes: [1, 2, 3]))
        await socket.close()
        await mixnet.stop()
    }

    @Test func offlineEndpointClosesItsPortAndGetsHeldMessagesBack() async throws {
        let mixnet = try await S.startMixnet(clients: 2)
        let b = await mixnet.endpoints[1].address
        let port = await mixnet.endpoints[1].port
        let alice = try await S.connect(mixnet, 0)
        let bob = try await S.connect(mixnet, 1)
        try await mixnet.takeOffline(1)
        #expect(await bob.inbox.waitForClose())
        await #expect(throws: (any Error).self) { try await TestWebSocket.connect(port: port, group: S.group) }
        try await alice.send(binary: ClientRequest.send(recipient: b, data: [5], connectionID: nil).encodeBinary())
        #expect(await eventually { await mixnet.counters.messagesRouted == 1 })
        try await mixnet.bringOnline(1)
        #expect(await mixnet.endpoints[1].port == port)
        let bobAgain = try await S.connect(mixnet, 1)
        #expect(await bobAgain.nextBinary() == [0x01, 0x00] + S.be64(1) + [5])
        await alice.close()
        await bobAgain.close()
        await mixnet.stop()
    }

    @Test func restartKeepsPortsAndAddEndpointListens() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let before = await mixnet.endpoints
        let added = try await mixnet.addEndpoint()
        #expect(added.index == 1)
        #expect(added.port != 0)
        try await mixnet.restart()
        let after = await mixnet.endpoints
        #expect(after.map(\.port) == before.map(\.port) + [added.port])
        // Below the ephemeral ports, which an outgoing connection could take while they are closed.
        #expect(after.allSatisfy { LocalMixnet.freePorts.contains($0.port) })
        #expect(after.map(\.address) == before.map(\.address) + [added.address])
        let socket = try await S.connect(mixnet, 1)
        try await socket.send(binary: [0x03])
        #expect(await socket.nextBinary() == [0x02] + added.address.bytes)
        await socket.close()
        await mixnet.stop()
        await #expect(throws: MixnetError(.unknownEndpoint, "")) { try await mixnet.dropConnection(5) }
    }
}
