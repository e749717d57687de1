import NIOCore
import Testing

@testable import NymbusBroker

@Suite struct RESPWriterTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func resp2TypesAreWrittenExactly() {
        #expect(RESPWriter.encode(.simpleString("OK")) == bytes("+OK\r\n"))
        #expect(RESPWriter.encode(.error("ERR bad")) == bytes("-ERR bad\r\n"))
        #expect(RESPWriter.encode(.integer(-42)) == bytes(":-42\r\n"))
        #expect(RESPWriter.encode(.integer(7)) == bytes(":7\r\n"))
        #expect(RESPWriter.encode(.integer(Int64.min)) == bytes(":-9223372036854775808\r\n"))
        #expect(RESPWriter.encode(.bulkString(nil)) == bytes("$-1\r\n"))
        #expect(RESPWriter.encode(.array(nil)) == bytes("*-1\r\n"))
        #expect(RESPWriter.encode(.array([])) == bytes("*0\r\n"))
        #expect(RESPWriter.encode(.bulk("")) == bytes("$0\r\n\r\n"))
        #expect(
            RESPWriter.encode(.array([.bulk("pong"), .bulk(""), .integer(1)]))
                == bytes("*3\r\n$4\r\npong\r\n$0\r\n\r\n:1\r\n"))
    }

    @Test func bulkStringsAreBinarySafe() {
        let payload: [UInt8] = [0, 13, 10, 255, 36, 42]
        #expect(RESPWriter.encode(.bulkString(payload)) == bytes("$6\r\n") + payload + bytes("\r\n"))
    }

    @Test func lineBreaksInSimpleStringsAndErrorsBecomeSpaces() {
        #expect(RESPWriter.encode(.error("ERR a\r\nb")) == bytes("-ERR a  b\r\n"))
        #expect(RESPWriter.encode(.simpleString("x\ny")) == bytes("+x y\r\n"))
    }

    @Test func resp3TypesAreWrittenForResp3Clients() {
        #expect(RESPWriter.encode(.null, version: .resp3) == bytes("_\r\n"))
        #expect(RESPWriter.encode(.boolean(true), version: .resp3) == bytes("#t\r\n"))
        #expect(RESPWriter.encode(.boolean(false), version: .resp3) == bytes("#f\r\n"))
        #expect(RESPWriter.encode(.double(1.5), version: .resp3) == bytes(",1.5\r\n"))
        #expect(RESPWriter.encode(.double(-.infinity), version: .resp3) == bytes(",-inf\r\n"))
        #expect(RESPWriter.encode(.double(3), version: .resp3) == bytes(",3\r\n"))
        #expect(
            RESPWriter.encode(.map(["a": .integer(1), "b": .null]), version: .resp3)
                == bytes("%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n"))
        #expect(RESPWriter.encode(.set([.simpleString("x")]), version: .resp3) == bytes("~1\r\n+x\r\n"))
        #expect(RESPWriter.encode(.push([.bulk("m")]), version: .resp3) == bytes(">1\r\n$1\r\nm\r\n"))
    }

    @Test func resp3TypesAreDowngradedForResp2ClientsAsRedisDoes() {
        #expect(RESPWriter.encode(.null) == bytes("$-1\r\n"))
        #expect(RESPWriter.encode(.boolean(true)) == bytes(":1\r\n"))
        #expect(RESPWriter.encode(.boolean(false)) == bytes(":0\r\n"))
        #expect(RESPWriter.encode(.double(1.5)) == bytes("$3\r\n1.5\r\n"))
        #expect(RESPWriter.encode(.double(.nan)) == bytes("$3\r\nnan\r\n"))
        #expect(RESPWriter.encode(.map(["a": .integer(1)])) == bytes("*2\r\n$1\r\na\r\n:1\r\n"))
        #expect(RESPWriter.encode(.set([.integer(1)])) == bytes("*1\r\n:1\r\n"))
        #expect(RESPWriter.encode(.push([.integer(1)])) == bytes("*1\r\n:1\r\n"))
    }

    @Test func pubSubFramesMatchRedisBytes() {
        var buffer = ByteBuffer()
        RESPWriter.writePubSubFrame(
            kind: "message", parts: [Array("a".utf8), Array("hi".utf8)], version: .resp2, into: &buffer)
        #expect(Array(buffer.readableBytesView) == bytes("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"))
        buffer.clear()
        RESPWriter.writePubSubFrame(kind: "unsubscribe", parts: [nil], count: 0, version: .resp3, into: &buffer)
        #expect(Array(buffer.readableBytesView) == bytes(">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"))
        buffer.clear()
        RESPWriter.writePubSubFrame(kind: "unsubscribe", parts: [nil], count: 0, version: .resp2, into: &buffer)
        #expect(Array(buffer.readableBytesView) == bytes("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"))
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPWriter.writeCommand([Array("PUBLISH".utf8), Array("ch".utf8), [0, 10]], into: &buffer)
        #expect(
            Array(buffer.readableBytesView) == bytes("*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$2\r\n") + [0, 10]
                + bytes("\r\n"))
    }

    /// The one-pass pub/sub frame writer gives the same bytes as the general writer of the same
    /// value, in both protocols, with and without a count and a missing part.
    @Test func pubSubFramesMatchTheGeneralWriter() {
        let big = [UInt8](repeating: 0x2a, count: 12_345)
        let cases: [(kind: StaticString, parts: [[UInt8]?], count: Int64?)] = [
            ("message", [Array("ch".utf8), Array("hello".utf8)], nil),
            ("message", [Array("c".utf8), []], nil),
            ("pmessage", [Array("n*".utf8), Array("news".utf8), big], nil),
            ("subscribe", [Array("ch".utf8)], 1),
            ("unsubscribe", [nil], 0),
            ("psubscribe", [Array("p".utf8)], 1_234_567_890_123),
        ]
        for (kind, parts, count) in cases {
            var elements: [RESPValue] = [.bulkString(Array("\(kind)".utf8))]
            elements += parts.map { $0.map { RESPValue.bulkString($0) } ?? .null }
            if let count { elements.append(.integer(count)) }
            for version in [RESPProtocolVersion.resp2, .resp3] {
                var fast = ByteBuffer()
                RESPWriter.writePubSubFrame(kind: kind, parts: parts, count: count, version: version, into: &fast)
                let expected = RESPWriter.encode(version == .resp3 ? .push(elements) : .array(elements), version: version)
                #expect(Array(fast.readableBytesView) == expected, "\(kind) \(version)")
                // The fan-out writer gives the same bytes for message and pmessage frames.
                if count == nil, parts.allSatisfy({ $0 != nil }), parts.count >= 2 {
                    var fanOut = ByteBuffer()
                    let pattern = parts.count == 3 ? parts[0] : nil
                    RESPWriter.writeMessageFrame(
                        pattern: pattern, channel: parts[parts.count - 2]!, payload: parts[parts.count - 1]!,
                        version: version, into: &fanOut)
                    #expect(Array(fanOut.readableBytesView) == expected, "fan-out \(kind) \(version)")
                }
            }
        }
    }
}
