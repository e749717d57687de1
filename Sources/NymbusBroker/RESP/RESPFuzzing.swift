import NIOCore

/// Property checks for the RESP parsers, as the bodies of `nymbus-fuzz` targets.
///
/// Each function must return normally for every input; a `precondition` failure is a bug found.
/// Limits are small so the fuzzer reaches them quickly.
package enum RESPFuzzing {
    static let limits = RESPLimits(maxBulkLength: 512, maxArrayCount: 16, maxInlineLength: 256, maxRequestBytes: 2048)

    /// Request parser: never traps, always consumes what it returns, respects every limit, and
    /// every accepted command, re-encoded as an array of bulk strings, parses back to itself.
    package static func requests(_ bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        var commands = 0
        while commands < 10_000 {
            let before = buffer.readableBytes
            // The XADD fast path takes exactly what the general parser takes as a plain XADD.
            var fast = buffer
            if let entry = RESPRequestParser.parseXAdd(&fast, limits: limits) {
                var general = buffer
                let command = try? RESPRequestParser.parse(&general, limits: limits)
                precondition(
                    command.map { Array($0.dropFirst()) } == [entry.key, [UInt8(ascii: "*")]] + entry.fields
                        && general.readerIndex == fast.readerIndex,
                    "resp: the XADD fast path disagrees with the general parser")
            } else {
                precondition(fast.readerIndex == buffer.readerIndex, "resp: a declined XADD consumed bytes")
            }
            guard let command = try? RESPRequestParser.parse(&buffer, limits: limits) else { return }
            commands += 1
            precondition(buffer.readableBytes < before, "resp: a command was returned without consuming bytes")
            precondition(
                !command.isEmpty && command.count <= limits.maxArrayCount, "resp: argument count over the limit")
            precondition(command.allSatisfy { $0.count <= max(limits.maxBulkLength, limits.maxInlineLength) })
            var encoded = ByteBuffer()
            RESPWriter.writeCommand(command, into: &encoded)
            let again = try? RESPRequestParser.parse(&encoded, limits: RESPLimits(maxBulkLength: 1 << 20))
            precondition(again == command && encoded.readableBytes == 0, "resp: command does not round-trip")
        }
    }

    /// Reply parser: never traps, and every accepted value writes (RESP3) to bytes that parse to
    /// a value writing the same bytes.
    package static func replies(_ bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        guard let value = try? RESPValueParser.parse(&buffer, limits: limits) else { return }
        let first = RESPWriter.encode(value, version: .resp3)
        var reparsed = ByteBuffer(bytes: first)
        let again = try? RESPValueParser.parse(
            &reparsed, limits: RESPLimits(maxBulkLength: 1 << 20, maxArrayCount: 1 << 16))
        precondition(
            again.map { RESPWriter.encode($0, version: .resp3) } == first, "resp-reply: value does not round-trip")
        _ = RESPWriter.encode(value, version: .resp2)
    }
}
