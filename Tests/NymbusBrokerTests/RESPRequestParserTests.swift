import NIOCore
import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymbusBroker

@Suite struct RESPRequestParserTests {
    private func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
    private func args(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

    /// Parses everything in `text`; the error, if any, ends the list.
    private func parseAll(_ text: String, limits: RESPLimits = .default) -> (
        commands: [[[UInt8]]], error: RESPError?, rest: Int
    ) {
        var input = buffer(text)
        var commands: [[[UInt8]]] = []
        do {
            while let command = try RESPRequestParser.parse(&input, limits: limits) { commands.append(command) }
        } catch {
            return (commands, error, input.readableBytes)
        }
        return (commands, nil, input.readableBytes)
    }

    /// The PUBLISH fast path takes exactly the well-formed PUBLISH requests the general parser
    /// takes, with the same result, and leaves everything else untouched for it.
    @Test func publishFastPathAgreesWithTheGeneralParser() throws {
        let limits = RESPLimits(maxBulkLength: 8, maxArrayCount: 16, maxInlineLength: 64, maxRequestBytes: 20)
        let accepted = [
            "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\nhello\r\n",
            "*3\r\n$7\r\npUbLiSh\r\n$0\r\n\r\n$8\r\n\r\n\0\u{7f}abcd\r\n",
            "*3\r\n$7\r\npublish\r\n$1\r\nc\r\n$0\r\n\r\n",
        ]
        for text in accepted {
            var fast = buffer(text + "PING\r\n")
            var general = buffer(text)
            let message = try #require(RESPRequestParser.parsePublish(&fast, limits: limits), "\(text.debugDescription)")
            let expected = try #require(try RESPRequestParser.parse(&general, limits: limits))
            #expect([Array("PUBLISH".utf8), message.channel, message.payload].dropFirst() == expected.dropFirst())
            #expect(fast.readableBytes == 6)
        }
        // The previous channel is reused only when the bytes are the same.
        for previous in ["ch", "cx", "c", "chh"] {
            var input = buffer("*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\nx\r\n")
            let message = RESPRequestParser.parsePublish(&input, limits: limits, reusing: Array(previous.utf8))
            #expect(message?.channel == Array("ch".utf8))
            #expect(message?.payload == Array("x".utf8))
        }
        let declined = [
            "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\nhel",  // incomplete
            "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$9\r\n123456789\r\n",  // bulk over the limit
            "*3\r\n$7\r\nPUBLISH\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n",  // request over 20 bytes
            "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\nhelloXY",  // no CR LF after the body
            "*3\r\n$7\r\nPUBLISH\r\n$-1\r\n",  // null bulk
            "*3\r\n$7\r\nPUBLISX\r\n$1\r\nc\r\n$1\r\np\r\n",  // another command
            "*4\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$1\r\np\r\n$1\r\nx\r\n",  // wrong arity
            "PUBLISH c p\r\n",  // inline: the general parser's job
        ]
        for text in declined {
            var input = buffer(text)
            #expect(RESPRequestParser.parsePublish(&input, limits: limits) == nil, "\(text.debugDescription)")
            #expect(input.readableBytes == text.utf8.count)
        }
    }

    /// The XADD fast path takes exactly the plain `XADD key * f v ...` requests the general
    /// parser takes, with the same arguments, and leaves everything else untouched for it.
    @Test func xaddFastPathAgreesWithTheGeneralParser() throws {
        let limits = RESPLimits(maxBulkLength: 8, maxArrayCount: 80, maxInlineLength: 64, maxRequestBytes: 40)
        let pairs32 = (0..<32).map { _ in "$1\r\na\r\n$0\r\n\r\n" }.joined()
        let accepted = [
            "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$5\r\nhello\r\n",
            "*7\r\n$4\r\nxAdD\r\n$0\r\n\r\n$1\r\n*\r\n$2\r\n\0\r\r\n$0\r\n\r\n$1\r\ng\r\n$8\r\n\r\n\0\u{7f}abcd\r\n",
            "*67\r\n$4\r\nxadd\r\n$1\r\nk\r\n$1\r\n*\r\n" + pairs32,
        ]
        for text in accepted {
            var fast = buffer(text + "PING\r\n")
            var general = buffer(text)
            let entry = try #require(RESPRequestParser.parseXAdd(&fast, limits: limits), "\(text.debugDescription)")
            let expected = try #require(try RESPRequestParser.parse(&general, limits: limits))
            #expect([entry.key, Array("*".utf8)] + entry.fields == Array(expected.dropFirst()))
            #expect(fast.readableBytes == 6)
        }
        // The previous key is reused only when the bytes are the same.
        for previous in ["s", "t", "ss", ""] {
            var input = buffer("*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n")
            let entry = RESPRequestParser.parseXAdd(&input, limits: limits, reusing: Array(previous.utf8))
            #expect(entry?.key == Array("s".utf8))
            #expect(entry?.fields == args("f", "v"))
        }
        let declined = [
            "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$5\r\nhel",  // incomplete
            "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$9\r\n123456789\r\n",  // bulk over the limit
            "*7\r\n$4\r\nXADD\r\n$8\r\n12345678\r\n$1\r\n*\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n",  // over 40 bytes
            "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nvXY",  // no CR LF after the body
            "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n1-1\r\n$1\r\nf\r\n$1\r\nv\r\n",  // an explicit id
            "*7\r\n$4\r\nXADD\r\n$1\r\ns\r\n$6\r\nMAXLEN\r\n$1\r\n5\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n",  // an option
            "*6\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nw\r\n",  // odd field count
            "*4\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n",  // no value
            "*69\r\n$4\r\nXADD\r\n$1\r\nk\r\n$1\r\n*\r\n" + pairs32 + "$1\r\na\r\n$0\r\n\r\n",  // 33 pairs
            "*5\r\n$4\r\nXADX\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n",  // another command
            "*5\r\n$4\r\nXADD\r\n$-1\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n",  // null bulk
            "*5\r\n$2\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n",  // wrong length
            "*x\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n",  // bad count
            "XADD s * f v\r\n",  // inline: the general parser's job
            "*05\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n",  // a leading zero
        ]
        for text in declined {
            var input = buffer(text)
            #expect(RESPRequestParser.parseXAdd(&input, limits: limits) == nil, "\(text.debugDescription)")
            #expect(input.readableBytes == text.utf8.count)
        }
        // Over the array limit: the general parser refuses it, so the fast path declines it.
        var wide = buffer("*67\r\n$4\r\nxadd\r\n$1\r\nk\r\n$1\r\n*\r\n" + pairs32)
        #expect(RESPRequestParser.parseXAdd(&wide, limits: RESPLimits(maxArrayCount: 66)) == nil)
        // Every prefix of an accepted request consumes nothing.
        let whole = Array(accepted[0].utf8)
        for length in 0..<whole.count {
            var input = ByteBuffer(bytes: whole[..<length])
            #expect(RESPRequestParser.parseXAdd(&input, limits: limits) == nil)
            #expect(input.readableBytes == length)
        }
    }

    @Test func multibulkRequestIsParsedAndConsumed() throws {
        var input = buffer("*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n")
        #expect(try RESPRequestParser.parse(&input) == args("PUBLISH", "ch", "hello"))
        #expect(try RESPRequestParser.parse(&input) == args("PING"))
        #expect(try RESPRequestParser.parse(&input) == nil)
        #expect(input.readableBytes == 0)
    }

    @Test func bulkStringsAreBinarySafe() throws {
        var input = ByteBuffer(
            bytes: Array("*2\r\n$4\r\nECHO\r\n$5\r\n".utf8) + [0, 13, 10, 36, 255] + Array("\r\n".utf8))
        #expect(try RESPRequestParser.parse(&input) == [Array("ECHO".utf8), [0, 13, 10, 36, 255]])
    }

    @Test func everyPrefixOfARequestNeedsMoreDataAndConsumesNothing() throws {
        let full = Array("*2\r\n$4\r\nECHO\r\n$12\r\nhello\r\nworld\r\n".utf8)
        for cut in 0..<full.count {
            var input = ByteBuffer(bytes: full[0..<cut])
            #expect(try RESPRequestParser.parse(&input) == nil, "prefix \(cut)")
            #expect(input.readableBytes == cut)
        }
        // Byte by byte into one growing buffer, as a socket may deliver it.
        var input = ByteBuffer()
        var result: [[UInt8]]?
        for byte in full {
            #expect(result == nil)
            input.writeInteger(byte)
            result = try RESPRequestParser.parse(&input)
        }
        #expect(result == args("ECHO", "hello\r\nworld"))
        #expect(input.readableBytes == 0)
    }

    @Test func inlineCommandsAreSplitLikeRedis() throws {
        #expect(parseAll("PING\r\n").commands == [args("PING")])
        #expect(parseAll("PING\n").commands == [args("PING")])
        #expect(parseAll("  subscribe  a   b \r\n").commands == [args("subscribe", "a", "b")])
        #expect(parseAll("ECHO \"a b\\x41\\n\\\"\"\r\n").commands == [args("ECHO", "a bA\n\"")])
        #expect(parseAll("ECHO 'it\\'s' x\r\n").commands == [args("ECHO", "it's", "x")])
        #expect(parseAll("ECHO \"\"\r\n").commands == [args("ECHO", "")])
        #expect(parseAll("ECHO a\"b c\" d\r\n").commands == [args("ECHO", "ab c", "d")])
        #expect(parseAll("ECHO \"\\q\"\r\n").commands == [args("ECHO", "q")])
        #expect(parseAll("ECHO \"\\xZZ\"\r\n").commands == [args("ECHO", "xZZ")])
        #expect(parseAll("PING\r").commands.isEmpty)  // no LF yet
    }

    @Test func emptyRequestsAreSkippedAsRedisDoes() throws {
        let result = parseAll("*0\r\n*-1\r\n\r\n\n   \nPING\n")
        #expect(result.commands == [args("PING")])
        #expect(result.error == nil)
        #expect(result.rest == 0)
    }

    @Test func protocolErrorsCarryRedisWording() {
        let cases: [(String, RESPError.Code, String)] = [
            ("*a\r\n", .invalidMultibulkLength, "invalid multibulk length"),
            ("*2000000000000\r\n", .invalidMultibulkLength, "invalid multibulk length"),
            ("*+1\r\n", .invalidMultibulkLength, "invalid multibulk length"),
            ("*01\r\n", .invalidMultibulkLength, "invalid multibulk length"),
            ("*1\r\nx\r\n", .expectedDollar, "expected '$', got 'x'"),
            ("*1\r\n\u{1}\r\n", .expectedDollar, "expected '$', got '\\x01'"),
            ("*1\r\n$-5\r\n", .invalidBulkLength, "invalid bulk length"),
            ("*1\r\n$-1\r\n", .invalidBulkLength, "invalid bulk length"),
            ("*1\r\n$x\r\n", .invalidBulkLength, "invalid bulk length"),
            ("*1\r\n$600000000\r\n", .invalidBulkLength, "invalid bulk length"),
            ("*1\r\n$4\r\nPINGxx", .expectedCRLF, "expected '\\r\\n' after a bulk string"),
            ("*1\rx", .expectedCRLF, "expected '\\r\\n' after a header line"),
            ("PING \"a\r\n", .unbalancedQuotes, "unbalanced quotes in request"),
            ("ECHO \"a\"b\r\n", .unbalancedQuotes, "unbalanced quotes in request"),
            ("ECHO 'a\r\n", .unbalancedQuotes, "unbalanced quotes in request"),
            ("ECHO a\"b c\"d\r\n", .unbalancedQuotes, "unbalanced quotes in request"),
        ]
        for (input, code, reason) in cases {
            let result = parseAll(input)
            #expect(result.error?.code == code, "\(input.debugDescription)")
            #expect(result.error?.reason == reason, "\(input.debugDescription)")
            #expect(result.error?.replyText == "ERR Protocol error: " + reason)
        }
    }

    @Test func commandsBeforeAnErrorAreReturnedFirst() {
        let result = parseAll("PING\r\n*1\r\n$4\r\nECHO\r\n*x\r\n")
        #expect(result.commands == [args("PING"), args("ECHO")])
        #expect(result.error?.code == .invalidMultibulkLength)
        #expect(result.rest == 4)
    }

    @Test func bulkLengthLimitIsCheckedBeforeTheBodyArrives() {
        let limits = RESPLimits(maxBulkLength: 10)
        #expect(parseAll("*1\r\n$10\r\n0123456789\r\n", limits: limits).commands == [args("0123456789")])
        // Only the header: the limit is enforced without waiting for (or allocating) the body.
        #expect(parseAll("*1\r\n$11\r\n", limits: limits).error?.code == .invalidBulkLength)
    }

    @Test func arrayCountLimitIsCheckedBeforeTheElementsArrive() {
        let limits = RESPLimits(maxArrayCount: 3)
        #expect(parseAll("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", limits: limits).commands.count == 1)
        #expect(parseAll("*4\r\n", limits: limits).error?.code == .invalidMultibulkLength)
        #expect(parseAll("*1024\r\n").error == nil)
        #expect(parseAll("*1025\r\n").error?.code == .invalidMultibulkLength)
    }

    @Test func inlineArgumentCountIsLimited() {
        let limits = RESPLimits(maxArrayCount: 3)
        #expect(parseAll("a b c\r\n", limits: limits).commands == [args("a", "b", "c")])
        let result = parseAll("a b c d\r\n", limits: limits)
        #expect(result.error?.code == .tooManyArguments)
        #expect(result.error?.reason == "too many arguments in inline request")
    }

    @Test func inlineLineLengthIsLimited() {
        let limits = RESPLimits(maxInlineLength: 32)
        #expect(parseAll(String(repeating: "x", count: 32), limits: limits).error == nil)  // waits for the line end
        let long = parseAll(String(repeating: "x", count: 33), limits: limits)
        #expect(long.error?.code == .inlineTooLong)
        #expect(long.error?.reason == "too big inline request")
        #expect(parseAll(String(repeating: "x", count: 40) + "\r\n", limits: limits).error?.code == .inlineTooLong)
        // Default: Redis's 64 KiB.
        #expect(parseAll(String(repeating: "x", count: 64 * 1024 + 1)).error?.code == .inlineTooLong)
    }

    @Test func headerLineLengthIsLimited() {
        let limits = RESPLimits(maxInlineLength: 16)
        let count = parseAll("*" + String(repeating: "1", count: 20), limits: limits)
        #expect(count.error?.code == .headerTooLong)
        #expect(count.error?.reason == "too big mbulk count string")
        let bulk = parseAll("*1\r\n$" + String(repeating: "1", count: 20), limits: limits)
        #expect(bulk.error?.code == .headerTooLong)
        #expect(bulk.error?.reason == "too big bulk count string")
    }

    @Test func totalRequestSizeIsLimited() {
        let limits = RESPLimits(maxBulkLength: 100, maxRequestBytes: 150)
        #expect(
            parseAll(
                "*2\r\n$75\r\n\(String(repeating: "a", count: 75))\r\n$75\r\n\(String(repeating: "b", count: 75))\r\n",
                limits: limits
            ).commands.count == 1)
        let result = parseAll("*2\r\n$100\r\n\(String(repeating: "a", count: 100))\r\n$51\r\n", limits: limits)
        #expect(result.error?.code == .requestTooLarge)
    }

    @Test func integerParsingFollowsRedisString2ll() {
        func parse(_ text: String) -> Int64? {
            Array(text.utf8).withUnsafeBytes { RESPRequestParser.parseInteger($0, from: 0, to: $0.count) }
        }
        #expect(parse("0") == 0)
        #expect(parse("-1") == -1)
        #expect(parse("99") == 99)
        #expect(parse("9223372036854775807") == Int64.max)
        #expect(parse("-9223372036854775808") == Int64.min)
        for bad in ["", "+1", " 1", "1 ", "01", "-0", "-", "9223372036854775808", "-9223372036854775809", "1a"] {
            #expect(parse(bad) == nil, "\(bad)")
        }
    }

    @Test func arbitraryBytesNeverTrap() {
        // Deterministic pseudo-random garbage, plus mutations of valid requests: the parser must
        // return a command, nil or an error for every input, and always make progress or stop.
        var generator = SplitMix64(seed: 0x5EED)
        let seeds = [
            "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\nhello\r\n", "PING \"a\\x41\" 'b'\r\n", "*0\r\n",
            "*1\r\n$0\r\n\r\n",
        ].map { Array($0.utf8) }
        let limits = RESPLimits(maxBulkLength: 64, maxArrayCount: 8, maxInlineLength: 64, maxRequestBytes: 128)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(generator.next() % 48)).map { _ in
                    let alphabet: [UInt8] = Array("*$\r\n-0123456789 \"'\\xPa".utf8) + [0, 255]
                    return alphabet[Int(generator.next() % UInt64(alphabet.count))]
                }
            } else {
                bytes = seeds[Int(generator.next() % UInt64(seeds.count))]
                for _ in 0..<3 where !bytes.isEmpty {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
            }
            var input = ByteBuffer(bytes: bytes)
            var steps = 0
            while steps < 100 {
                steps += 1
                let before = input.readableBytes
                guard let command = try? RESPRequestParser.parse(&input, limits: limits) else { break }
                #expect(command.count <= limits.maxArrayCount)
                #expect(input.readableBytes < before)
            }
            #expect(steps < 100)
        }
    }
}

