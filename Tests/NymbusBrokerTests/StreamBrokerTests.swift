import Foundation
import NIOCore
import NymbusTestSupport
import Testing

@testable import NymbusBroker

/// What streams do on the broker beyond Redis: PUBLISH messages land in the channel's stream,
/// XADD entries reach SUBSCRIBErs, `XREAD ... +` (Redis 7.4), group commit of a pipeline.
@Suite struct StreamBrokerTests {
    private func call(_ client: TestClient, _ words: String...) async throws -> RESPValue {
        var buffer = ByteBuffer()
        RESPWriter.writeCommand(words.map { Array($0.utf8) }, into: &buffer)
        try await client.channel.writeAndFlush(buffer)
        return try await client.read()
    }

    @Test func publishedMessagesAreAppendedAndEntriesReachSubscribers() async throws {
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        let client = try await TestClient.connect(socket.path)
        let subscriber = try await TestClient.connect(socket.path)
        try await subscriber.command("SUBSCRIBE", "news")
        #expect(try await subscriber.read() == .array([.bulk("subscribe"), .bulk("news"), .integer(1)]))
        // No stream yet: PUBLISH appends nothing.
        #expect(try await call(client, "PUBLISH", "news", "before") == .integer(1))
        #expect(try await call(client, "EXISTS", "news") == .integer(0))
        #expect(try await call(client, "XADD", "news", "1-1", "title", "hello", "body", "x\r\ny") == .bulk("1-1"))
        #expect(try await call(client, "PUBLISH", "news", "after") == .integer(1))
        let last = try await call(client, "XADD", "news", "*", "message", "plain")
        #expect(last.text?.hasSuffix("-1") == true || last.text?.hasSuffix("-0") == true)
        let entries = try await call(client, "XRANGE", "news", "-", "+")
        let fields = (entries.elements ?? []).map { ($0.elements?.last?.elements ?? []).compactMap(\.text) }
        #expect(fields == [["title", "hello", "body", "x\r\ny"], ["message", "after"], ["message", "plain"]])
        let payloads = try await [subscriber.read(), subscriber.read(), subscriber.read(), subscriber.read()]
            .map { $0.elements?.last?.text ?? "" }
        #expect(payloads == ["before", "*4\r\n$5\r\ntitle\r\n$5\r\nhello\r\n$4\r\nbody\r\n$4\r\nx\r\ny\r\n", "after", "plain"])
        // `+` reads the last entry (Redis 7.4); an empty or missing stream gives nothing.
        #expect(
            try await call(client, "XREAD", "STREAMS", "news", "+")
                == .array([.array([.bulk("news"), .array([.array([last, .array([.bulk("message"), .bulk("plain")])])])])]))
        #expect(try await call(client, "XREAD", "STREAMS", "missing", "+") == .array(nil))
        #expect(
            try await call(client, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "news", "+")
                == .error("NOGROUP No such key 'news' or consumer group 'g' in XREADGROUP with GROUP option"))
        await client.close()
        await subscriber.close()
        await broker.stop()
    }

    @Test func aPipelineOfStreamCommandsIsAnsweredInOrderWithOtherCommands() async throws {
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        let client = try await TestClient.connect(socket.path)
        var buffer = ByteBuffer()
        for index in 1...50 { RESPWriter.writeCommand(["XADD", "p", "\(index)-1", "n", "\(index)"].map { Array($0.utf8) }, into: &buffer) }
        RESPWriter.writeCommand(["PING"].map { Array($0.utf8) }, into: &buffer)
        RESPWriter.writeCommand(["XLEN", "p"].map { Array($0.utf8) }, into: &buffer)
        RESPWriter.writeCommand(["PUBLISH", "p", "m"].map { Array($0.utf8) }, into: &buffer)
        RESPWriter.writeCommand(["XLEN", "p"].map { Array($0.utf8) }, into: &buffer)
        try await client.channel.writeAndFlush(buffer)
        for index in 1...50 { #expect(try await client.read() == .bulk("\(index)-1")) }
        #expect(try await client.read() == .simpleString("PONG"))
        #expect(try await client.read() == .integer(50))
        #expect(try await client.read() == .integer(0))
        #expect(try await client.read() == .integer(51))
        await client.close()
        await broker.stop()
    }

    /// Plain XADDs (the connection handler's fast path) mixed in one pipeline with what must
    /// still take the general path: CLIENT REPLY SKIP, MULTI/EXEC, options, a PUBLISH, a
    /// subscribed RESP2 client. Replies come in order, each id is the entry's, nothing is lost.
    @Test func plainXAddsInAPipelineKeepEveryRuleOfTheGeneralPath() async throws {
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        let client = try await TestClient.connect(socket.path)
        let commands = [
            ["XADD", "q", "*", "n", "1"], ["CLIENT", "REPLY", "SKIP"], ["XADD", "q", "*", "n", "2"],
            ["xadd", "q", "*", "n", "3", "m", "x"], ["MULTI"], ["XADD", "q", "*", "n", "4"], ["EXEC"],
            ["XADD", "q", "MAXLEN", "10", "*", "n", "5"], ["PUBLISH", "q", "p"], ["XADD", "q", "*", "n", "6"],
            ["XADD", "q", "*", "n"], ["XLEN", "q"],
        ]
        var buffer = ByteBuffer()
        for command in commands { RESPWriter.writeCommand(command.map { Array($0.utf8) }, into: &buffer) }
        try await client.channel.writeAndFlush(buffer)
        var replies: [RESPValue] = []
        for _ in 0..<10 { replies.append(try await client.read()) }
        let listing = try await Self.call(client, "XRANGE", "q", "-", "+")
        let entries = listing.elements ?? []
        // The PUBLISH is appended too: the broker keeps a stream for its channel.
        #expect(entries.count == 7)
        let ids = entries.map { $0.elements?.first ?? .null }
        #expect(entries.map { ($0.elements?.last?.elements ?? []).compactMap(\.text) } == [
            ["n", "1"], ["n", "2"], ["n", "3", "m", "x"], ["n", "4"], ["n", "5"], ["message", "p"], ["n", "6"],
        ])
        #expect(replies.count == 10 && ids.count == 7)
        if replies.count == 10 && ids.count == 7 {
            #expect(replies[0] == ids[0])
            #expect(replies[1] == ids[2])  // the reply of "n 2" was skipped
            #expect(replies[2] == .simpleString("OK"))
            #expect(replies[3] == .simpleString("QUEUED"))
            #expect(replies[4] == .array([ids[3]]))
            #expect(replies[5] == ids[4])
            #expect(replies[6] == .integer(0))
            #expect(replies[7] == ids[6])
            #expect(replies[8] == .error("ERR wrong number of arguments for 'xadd' command"))
            #expect(replies[9] == .integer(7))
        }
        #expect(try await Self.call(client, "XLEN", "q") == .integer(7))

        // A subscribed RESP2 client is refused XADD like any command outside pub/sub.
        let subscriber = try await TestClient.connect(socket.path)
        #expect(try await Self.call(subscriber, "SUBSCRIBE", "x").elements?.count == 3)
        #expect(
            try await Self.call(subscriber, "XADD", "q", "*", "n", "7")
                == .error(
                    "ERR Can't execute 'xadd': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
                ))
        #expect(try await Self.call(client, "XLEN", "q") == .integer(7))
        await subscriber.close()
        await client.close()
        await broker.stop()
    }

    static func call(_ client: TestClient, _ words: String...) async throws -> RESPValue {
        var buffer = ByteBuffer()
        RESPWriter.writeCommand(words.map { Array($0.utf8) }, into: &buffer)
        try await client.channel.writeAndFlush(buffer)
        return try await client.read()
    }
}
