public import NIOCore

/// Writes ``RESPValue``s as RESP2 or RESP3 bytes.
///
/// A pure function of the value and the protocol version. RESP3-only types are downgraded for
/// RESP2 clients the way Redis does it (see ``RESPValue``). Simple strings and errors cannot carry
/// CR or LF, so those bytes are written as spaces, again as Redis does.
public enum RESPWriter {
    /// Appends `value`, encoded for `version`, to `buffer`.
    public static func write(_ value: RESPValue, version: RESPProtocolVersion, into buffer: inout ByteBuffer) {
        switch value {
        case .simpleString(let text):
            writeLine(prefix: UInt8(ascii: "+"), text: text, into: &buffer)
        case .error(let text):
            writeLine(prefix: UInt8(ascii: "-"), text: text, into: &buffer)
        case .integer(let number):
            writeHeader(UInt8(ascii: ":"), number, into: &buffer)
        case .bulkString(let bytes):
            if let bytes {
                writeBulk(bytes, into: &buffer)
            } else {
                buffer.writeStaticString("$-1\r\n")
            }
        case .array(let values):
            if let values {
                writeHeader(UInt8(ascii: "*"), Int64(values.count), into: &buffer)
                for element in values { write(element, version: version, into: &buffer) }
            } else {
                buffer.writeStaticString("*-1\r\n")
            }
        case .null:
            buffer.writeStaticString(version == .resp3 ? "_\r\n" : "$-1\r\n")
        case .boolean(let flag):
            if version == .resp3 {
                buffer.writeStaticString(flag ? "#t\r\n" : "#f\r\n")
            } else {
                buffer.writeStaticString(flag ? ":1\r\n" : ":0\r\n")
            }
        case .double(let number):
            let text = formatDouble(number)
            if version == .resp3 {
                writeLine(prefix: UInt8(ascii: ","), text: text, into: &buffer)
            } else {
                writeBulk(Array(text.utf8), into: &buffer)
            }
        case .map(let entries):
            let prefix = version == .resp3 ? UInt8(ascii: "%") : UInt8(ascii: "*")
            let count = version == .resp3 ? entries.count : entries.count * 2
            writeHeader(prefix, Int64(count), into: &buffer)
            for entry in entries {
                write(entry.key, version: version, into: &buffer)
                write(entry.value, version: version, into: &buffer)
            }
        case .set(let values):
            writeHeader(version == .resp3 ? UInt8(ascii: "~") : UInt8(ascii: "*"), Int64(values.count), into: &buffer)
            for element in values { write(element, version: version, into: &buffer) }
        case .push(let values):
            writeHeader(version == .resp3 ? UInt8(ascii: ">") : UInt8(ascii: "*"), Int64(values.count), into: &buffer)
            for element in values { write(element, version: version, into: &buffer) }
        }
    }

    /// The bytes of `value` encoded for `version` (convenience for tests and small replies).
    public static func encode(_ value: RESPValue, version: RESPProtocolVersion = .resp2) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        write(value, version: version, into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Appends a request: an array of bulk strings, the form every client sends commands in.
    public static func writeCommand(_ arguments: [[UInt8]], into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "*"), Int64(arguments.count), into: &buffer)
        for argument in arguments { writeBulk(argument, into: &buffer) }
    }

    /// Appends a pub/sub frame (`message`, `pmessage`, `subscribe`, ...): a push for RESP3
    /// clients, an array for RESP2 clients. Built without an intermediate ``RESPValue`` because it
    /// is the hot path of fan-out.
    static func writePubSubFrame(
        kind: StaticString, parts: [[UInt8]?], count: Int64? = nil, version: RESPProtocolVersion,
        into buffer: inout ByteBuffer
    ) {
        // Sized first, then written in one pass: fan-out encodes one of these per message.
        let total = Int64(1 + parts.count + (count == nil ? 0 : 1))
        let null: StaticString = version == .resp3 ? "_\r\n" : "$-1\r\n"
        var length = headerLength(total) + bulkLength(kind.utf8CodeUnitCount)
        for part in parts { length += part.map { bulkLength($0.count) } ?? null.utf8CodeUnitCount }
        if let count { length += headerLength(count) }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
            var out = RawWriter(target: target)
            out.header(version == .resp3 ? UInt8(ascii: ">") : UInt8(ascii: "*"), total)
            out.bulk(kind)
            for part in parts {
                if let part { out.bulk(part) } else { out.bytes(null) }
            }
            if let count { out.header(UInt8(ascii: ":"), count) }
            return out.index
        }
    }

    /// Appends a `message` frame (`pattern` nil) or a `pmessage` frame: the fan-out frames,
    /// written in one pass with no intermediate array.
    static func writeMessageFrame(
        pattern: [UInt8]?, channel: [UInt8], payload: [UInt8], version: RESPProtocolVersion,
        into buffer: inout ByteBuffer, shard: Bool = false
    ) {
        let kind: StaticString = shard ? "smessage" : pattern == nil ? "message" : "pmessage"
        let total: Int64 = pattern == nil ? 3 : 4
        let length =
            headerLength(total) + bulkLength(kind.utf8CodeUnitCount) + (pattern.map { bulkLength($0.count) } ?? 0)
            + bulkLength(channel.count) + bulkLength(payload.count)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
            var out = RawWriter(target: target)
            out.header(version == .resp3 ? UInt8(ascii: ">") : UInt8(ascii: "*"), total)
            out.bulk(kind)
            if let pattern { out.bulk(pattern) }
            out.bulk(channel)
            out.bulk(payload)
            return out.index
        }
    }

    /// Bytes of a header line: prefix, `number`, CR LF.
    private static func headerLength(_ number: Int64) -> Int { 1 + decimalLength(number) + 2 }

    /// Bytes of a bulk string of `count` bytes.
    private static func bulkLength(_ count: Int) -> Int { headerLength(Int64(count)) + count + 2 }

    /// Digits (and sign) of `number` in decimal.
    private static func decimalLength(_ number: Int64) -> Int {
        digitCount(number.magnitude) + (number < 0 ? 1 : 0)
    }

    private static func digitCount(_ magnitude: UInt64) -> Int {
        var magnitude = magnitude
        var digits = 1
        while magnitude >= 10 {
            magnitude /= 10
            digits += 1
        }
        return digits
    }

    /// Writes into memory already sized for what it writes.
    private struct RawWriter {
        let target: UnsafeMutableRawBufferPointer
        var index = 0

        mutating func byte(_ value: UInt8) {
            target[index] = value
            index += 1
        }

        mutating func bytes(_ text: StaticString) {
            let count = text.utf8CodeUnitCount
            UnsafeMutableRawBufferPointer(rebasing: target[index..<(index + count)])
                .copyMemory(from: UnsafeRawBufferPointer(start: text.utf8Start, count: count))
            index += count
        }

        mutating func bytes(_ data: [UInt8]) {
            data.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: target[index..<(index + source.count)]).copyMemory(from: source)
            }
            index += data.count
        }

        /// A bulk string: `$`, length, CR LF, the bytes, CR LF.
        mutating func bulk(_ data: [UInt8]) {
            header(UInt8(ascii: "$"), Int64(data.count))
            bytes(data)
            bytes("\r\n")
        }

        mutating func bulk(_ text: StaticString) {
            header(UInt8(ascii: "$"), Int64(text.utf8CodeUnitCount))
            bytes(text)
            bytes("\r\n")
        }

        /// `prefix`, the number in decimal, CR LF.
        mutating func header(_ prefix: UInt8, _ number: Int64) {
            byte(prefix)
            if number < 0 { byte(UInt8(ascii: "-")) }
            var magnitude = number.magnitude
            let end = index + RESPWriter.digitCount(magnitude)
            var position = end
            repeat {
                position -= 1
                target[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            index = end
            bytes("\r\n")
        }
    }

    // MARK: - Pieces

    private static func writeBulk(_ bytes: [UInt8], into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "$"), Int64(bytes.count), into: &buffer)
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    private static func writeHeader(_ prefix: UInt8, _ number: Int64, into buffer: inout ByteBuffer) {
        buffer.writeInteger(prefix)
        writeDecimal(number, into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    private static func writeLine(prefix: UInt8, text: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(prefix)
        for byte in text.utf8 {
            buffer.writeInteger(byte == 13 || byte == 10 ? UInt8(ascii: " ") : byte)
        }
        buffer.writeStaticString("\r\n")
    }

    private static func writeDecimal(_ number: Int64, into buffer: inout ByteBuffer) {
        if number >= 0 && number < 10 {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(number))
            return
        }
        // Digits from the right into a small stack buffer: no string per reply.
        var magnitude = number.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if number < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    /// Redis's spelling of doubles: `inf`, `-inf`, `nan`, integers without a fraction.
    static func formatDouble(_ number: Double) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }
}
