import NIOCore
import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymbusBroker

@Suite struct RESPValueParserTests {
    private func parse(_ text: String) throws -> RESPValue? {
        var buffer = ByteBuffer(string: text)
        return try RESPValueParser.parse(&buffer)
    }

    @Test func everyTypeParses() throws {
        #expect(try parse("+OK\r\n") == .simpleString("OK"))
        #expect(try parse("-ERR x\r\n") == .error("ERR x"))
        #expect(try parse(":-5\r\n") == .integer(-5))
        #expect(try parse("$-1\r\n") == .bulkString(nil))
        #expect(try parse("$3\r\na\r\n\r\n") == .bulkString(Array("a\r\n".utf8)))
        #expect(try parse("*-1\r\n") == .array(nil))
        #expect(try parse("*2\r\n:1\r\n*0\r\n") == .array([.integer(1), .array([])]))
        #expect(try parse("_\r\n") == .null)
        #expect(try parse("#t\r\n") == .boolean(true))
        #expect(try parse(",1.5\r\n") == .double(1.5))
        #expect(try parse("%1\r\n$1\r\nk\r\n:2\r\n") == .map([RESPMapEntry(key: .bulk("k"), value: .integer(2))]))
        #expect(try parse("~1\r\n:1\r\n") == .set([.integer(1)]))
        #expect(try parse(">2\r\n$7\r\nmessage\r\n$0\r\n\r\n") == .push([.bulk("message"), .bulk("")]))
    }

    @Test func writerOutputParsesBackToTheSameValue() throws {
        let values: [RESPValue] = [
            .array([
                .bulk("a"), .integer(3), .null, .map(["x": .set([.boolean(false)])]), .push([.bulkString([0, 13])]),
            ]),
            .double(-2.25), .error("NOPROTO x"),
        ]
        for value in values {
            var buffer = ByteBuffer(bytes: RESPWriter.encode(value, version: .resp3))
            #expect(try RESPValueParser.parse(&buffer) == value)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func partialRepliesNeedMoreAndConsumeNothing() throws {
        let full = Array("*2\r\n$5\r\nhello\r\n%1\r\n+a\r\n:1\r\n".utf8)
        for cut in 0..<full.count {
            var buffer = ByteBuffer(bytes: full[0..<cut])
            #expect(try RESPValueParser.parse(&buffer) == nil)
            #expect(buffer.readableBytes == cut)
        }
    }

    @Test func limitsAndGarbageGiveErrors() {
        func error(_ text: String, _ limits: RESPLimits = .default) -> RESPError.Code? {
            var buffer = ByteBuffer(string: text)
            do {
                _ = try RESPValueParser.parse(&buffer, limits: limits)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(error("?x\r\n") == .invalidType)
        #expect(error(":x\r\n") == .invalidInteger)
        #expect(error("$5\r\n", RESPLimits(maxBulkLength: 4)) == .invalidBulkLength)
        #expect(error("*5\r\n", RESPLimits(maxArrayCount: 4)) == .invalidMultibulkLength)
        #expect(error("%-1\r\n") == .invalidMultibulkLength)
        #expect(error(String(repeating: "*1\r\n", count: 40) + ":1\r\n") == .nestingTooDeep)
        #expect(error("$1\r\nab\r\n") == .expectedCRLF)
    }

    @Test func fuzzBodiesAcceptSeedsAndGarbage() {
        // The bodies `nymbus-fuzz resp` and `resp-reply` run; here over a deterministic sample.
        let seeds = [
            "*1\r\n$4\r\nPING\r\n", "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\nhello\r\n", "PING \"a\\x00\"\r\n",
            "%1\r\n+a\r\n,nan\r\n", ",1e5\r\n", ">2\r\n_\r\n#t\r\n", "*-1\r\n",
            "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$2\r\nv1\r\n*5\r\n$4\r\nxadd\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$0\r\n\r\n",
            "*7\r\n$4\r\nXADD\r\n$2\r\nst\r\n$1\r\n*\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n",
        ].map { Array($0.utf8) }
        var generator = SplitMix64(seed: 7)
        for seed in seeds {
            RESPFuzzing.requests(seed)
            RESPFuzzing.replies(seed)
            for _ in 0..<200 {
                var bytes = seed
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                RESPFuzzing.requests(bytes)
                RESPFuzzing.replies(bytes)
            }
        }
    }

    @Test func arbitraryBytesNeverTrap() {
        var generator = SplitMix64(seed: 42)
        let alphabet: [UInt8] = Array("*$%~>_#,:+-\r\n0123456789tf.".utf8)
        for _ in 0..<20_000 {
            let bytes = (0..<Int(generator.next() % 40)).map { _ in
                alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            var buffer = ByteBuffer(bytes: bytes)
            _ = try? RESPValueParser.parse(&buffer, limits: RESPLimits(maxBulkLength: 16, maxArrayCount: 8))
        }
    }
}
