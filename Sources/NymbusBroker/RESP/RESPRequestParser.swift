public import NIOCore
import NymbusCrypto

/// Parses client requests: RESP arrays of bulk strings, and inline commands.
///
/// This is the server side of RESP, ported from Redis's `processMultibulkBuffer` and
/// `processInlineBuffer`: a request starting with `*` is an array of bulk strings; anything else
/// is an inline command line split like `sdssplitargs` does. Empty requests (`*0`, `*-1`, blank
/// lines) are skipped, as Redis skips them.
///
/// The parser is total: any byte sequence gives a command, "need more data" (`nil`, nothing
/// consumed) or a ``RESPError``; it never traps. Every declared length and count is checked
/// against ``RESPLimits`` before anything is allocated. It keeps no state between calls: an
/// incomplete request is parsed again when more bytes arrive, which costs a scan of its headers
/// only (bulk bodies are skipped by length).
///
/// Stricter than Redis in one place: the CR LF after a bulk string and after a header line must
/// be exactly CR LF (Redis skips two bytes unchecked).
public struct RESPRequestParser: Sendable {
    /// The limits this parser enforces.
    public var limits: RESPLimits

    /// Creates a parser with `limits`.
    public init(limits: RESPLimits = .default) {
        self.limits = limits
    }

    /// Parses the next request from `buffer` with this parser's limits; see
    /// ``parse(_:limits:)``.
    public func next(_ buffer: inout ByteBuffer) throws(RESPError) -> [[UInt8]]? {
        try Self.parse(&buffer, limits: limits)
    }

    /// Parses and consumes the next non-empty request in `buffer`.
    ///
    /// - Returns: the request's arguments (the first is the command name, as sent), or `nil` when
    ///   the buffer holds no complete request yet; then only skipped empty requests were consumed.
    /// - Throws: ``RESPError`` when the bytes cannot be a request; the connection should be closed
    ///   after replying with ``RESPError/replyText``. Nothing of the bad request is consumed.
    public static func parse(_ buffer: inout ByteBuffer, limits: RESPLimits = .default) throws(RESPError) -> [[UInt8]]?
    {
        while buffer.readableBytes > 0 {
            let step = buffer.withUnsafeReadableBytes { bytes in
                bytes.first == UInt8(ascii: "*") ? parseMultibulk(bytes, limits) : parseInline(bytes, limits)
            }
            switch step {
            case .needMore:
                return nil
            case .skip(let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
            case .command(let arguments, let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                return arguments
            case .failure(let error):
                throw error
            }
        }
        return nil
    }

    /// Consumes the next request if it is a well-formed PUBLISH in multibulk form
    /// (`*3 $7 publish $n channel $m payload`, any case) within the limits, and returns its
    /// channel and payload; otherwise consumes nothing and returns nil, and ``parse(_:limits:)``
    /// handles whatever it is, errors included.
    ///
    /// The command a publisher repeats, parsed without building an argument list.
    ///
    /// - Parameter reusing: the channel of the previous PUBLISH, if any: when this one names the
    ///   same channel, that array is returned instead of a new one (publishers repeat channels).
    public static func parsePublish(_ buffer: inout ByteBuffer, limits: RESPLimits = .default, reusing previous: [UInt8]? = nil)
        -> (channel: [UInt8], payload: [UInt8])?
    {
        let parsed = buffer.withUnsafeReadableBytes { bytes -> (channel: [UInt8], payload: [UInt8], consumed: Int)? in
            let head: StaticString = "*3\r\n$7\r\npublish\r\n"
            let headLength = head.utf8CodeUnitCount
            guard bytes.count > headLength else { return nil }
            for index in 0..<headLength {
                let expected = head.utf8Start[index]
                let byte = bytes[index]
                guard (byte >= 65 && byte <= 90 ? byte + 32 : byte) == expected else { return nil }
            }
            var position = headLength
            var declared = 7  // "publish"
            func bulk(reusing previous: [UInt8]? = nil) -> [UInt8]? {
                guard case .body(let body) = Self.bulk(bytes, at: position, declared: &declared, limits) else { return nil }
                position = body.upperBound + 2
                if let previous, previous.count == body.count,
                    previous.withUnsafeBytes({ $0.elementsEqual(UnsafeRawBufferPointer(rebasing: bytes[body])) })
                {
                    return previous
                }
                return copy(bytes, from: body.lowerBound, count: body.count)
            }
            guard let channel = bulk(reusing: previous), let payload = bulk() else { return nil }
            return (channel, payload, position)
        }
        guard let parsed else { return nil }
        buffer.moveReaderIndex(forwardBy: parsed.consumed)
        return (parsed.channel, parsed.payload)
    }

    /// Most field/value pairs ``parseXAdd(_:limits:reusing:)`` takes; longer XADDs go through
    /// the general parser.
    public static let maxFastXAddPairs = 32

    /// Takes one well-formed `XADD key * field value [field value ...]` (the command name in any
    /// case, no options, an automatic id, at most ``maxFastXAddPairs`` pairs) at the head of
    /// `buffer`, or returns nil and consumes nothing: anything else, an incomplete request or a
    /// malformed one, is the general parser's (errors included).
    ///
    /// The command an appender repeats, parsed without building an argument list.
    ///
    /// - Parameter reusing: the key of the previous XADD, if any: when this one names the same
    ///   key, that array is returned instead of a new one.
    public static func parseXAdd(_ buffer: inout ByteBuffer, limits: RESPLimits = .default, reusing previous: [UInt8]? = nil)
        -> (key: [UInt8], fields: [[UInt8]])?
    {
        let parsed = buffer.withUnsafeReadableBytes { bytes -> (key: [UInt8], fields: [[UInt8]], consumed: Int)? in
            // "*N\r\n" with N = 3 + 2 × pairs, one or two digits.
            // No leading zero: the general parser's integers are Redis's (string2ll).
            guard bytes.count > 16, bytes[0] == UInt8(ascii: "*"), bytes[1] != UInt8(ascii: "0") else { return nil }
            var count = 0
            var position = 1
            while position < 3, bytes[position] >= 48, bytes[position] <= 57 {
                count = count * 10 + Int(bytes[position] - 48)
                position += 1
            }
            guard position > 1, bytes[position] == 13, bytes[position + 1] == 10, count >= 5, count % 2 == 1,
                (count - 3) / 2 <= maxFastXAddPairs, count <= limits.maxArrayCount
            else { return nil }
            position += 2
            let head: StaticString = "$4\r\nxadd\r\n"
            let headLength = head.utf8CodeUnitCount
            guard bytes.count - position > headLength else { return nil }
            for index in 0..<headLength {
                let byte = bytes[position + index]
                guard (byte >= 65 && byte <= 90 ? byte + 32 : byte) == head.utf8Start[index] else { return nil }
            }
            position += headLength
            var declared = 4  // "xadd"
            guard case .body(let keyBody) = Self.bulk(bytes, at: position, declared: &declared, limits) else { return nil }
            position = keyBody.upperBound + 2
            guard case .body(let idBody) = Self.bulk(bytes, at: position, declared: &declared, limits), idBody.count == 1,
                bytes[idBody.lowerBound] == UInt8(ascii: "*")
            else { return nil }
            position = idBody.upperBound + 2
            var fields: [[UInt8]] = []
            fields.reserveCapacity(count - 3)
            for _ in 0..<(count - 3) {
                guard case .body(let body) = Self.bulk(bytes, at: position, declared: &declared, limits) else { return nil }
                position = body.upperBound + 2
                fields.append(copy(bytes, from: body.lowerBound, count: body.count))
            }
            let key: [UInt8]
            if let previous, previous.count == keyBody.count,
                previous.withUnsafeBytes({ $0.elementsEqual(UnsafeRawBufferPointer(rebasing: bytes[keyBody])) })
            {
                key = previous
            } else {
                key = copy(bytes, from: keyBody.lowerBound, count: keyBody.count)
            }
            return (key, fields, position)
        }
        guard let parsed else { return nil }
        buffer.moveReaderIndex(forwardBy: parsed.consumed)
        return (parsed.key, parsed.fields)
    }

    // MARK: - Steps

    private enum Step {
        case needMore
        case skip(consumed: Int)
        case command([[UInt8]], consumed: Int)
        case failure(RESPError)
    }

    private enum Line {
        case needMore
        case end(Int)  // index of the CR of a CR LF
        case failure(RESPError)
    }

    /// Finds the CR LF ending the header line that starts at `start`.
    private static func headerLineEnd(
        _ bytes: UnsafeRawBufferPointer, from start: Int, _ limits: RESPLimits, tooLong: @autoclosure () -> RESPError
    ) -> Line {
        let searchEnd = min(bytes.count, start + limits.maxInlineLength + 1)
        var index = start
        while index < searchEnd {
            if bytes[index] == 13 {
                guard index + 1 < bytes.count else { return .needMore }
                guard bytes[index + 1] == 10 else {
                    return .failure(RESPError(.expectedCRLF, "expected '\\r\\n' after a header line"))
                }
                return .end(index)
            }
            index += 1
        }
        return bytes.count - start > limits.maxInlineLength ? .failure(tooLong()) : .needMore
    }

    private static func parseMultibulk(_ bytes: UnsafeRawBufferPointer, _ limits: RESPLimits) -> Step {
        // Errors are built only when they happen: building one formats strings.
        func countError() -> RESPError { RESPError(.invalidMultibulkLength, "invalid multibulk length") }
        let lineEnd: Int
        switch headerLineEnd(bytes, from: 0, limits, tooLong: RESPError(.headerTooLong, "too big mbulk count string")) {
        case .needMore: return .needMore
        case .failure(let error): return .failure(error)
        case .end(let end): lineEnd = end
        }
        guard let count = parseInteger(bytes, from: 1, to: lineEnd) else { return .failure(countError()) }
        var position = lineEnd + 2
        if count <= 0 { return .skip(consumed: position) }
        guard count <= Int64(limits.maxArrayCount) else { return .failure(countError()) }

        var arguments: [[UInt8]] = []
        arguments.reserveCapacity(Int(count))
        var declaredBytes = 0
        for _ in 0..<Int(count) {
            switch bulk(bytes, at: position, declared: &declaredBytes, limits) {
            case .needMore: return .needMore
            case .failure(let error): return .failure(error)
            case .body(let body):
                arguments.append(copy(bytes, from: body.lowerBound, count: body.count))
                position = body.upperBound + 2
            }
        }
        return .command(arguments, consumed: position)
    }

    private enum Bulk {
        case needMore
        case failure(RESPError)
        /// Where the body lies; the next element starts 2 bytes (CR LF) after it.
        case body(Range<Int>)
    }

    /// The bulk string starting at `position`: `$`, length, CR LF, body, CR LF, each checked
    /// against `limits`; `declared` sums the bodies of one request against its byte limit.
    private static func bulk(
        _ bytes: UnsafeRawBufferPointer, at position: Int, declared: inout Int, _ limits: RESPLimits
    ) -> Bulk {
        guard position < bytes.count else { return .needMore }
        guard bytes[position] == UInt8(ascii: "$") else {
            return .failure(RESPError(.expectedDollar, "expected '$', got '\(printable(bytes[position]))'"))
        }
        let headerEnd: Int
        switch headerLineEnd(bytes, from: position, limits, tooLong: RESPError(.headerTooLong, "too big bulk count string"))
        {
        case .needMore: return .needMore
        case .failure(let error): return .failure(error)
        case .end(let end): headerEnd = end
        }
        guard let length = parseInteger(bytes, from: position + 1, to: headerEnd), length >= 0,
            length <= Int64(limits.maxBulkLength)
        else {
            return .failure(RESPError(.invalidBulkLength, "invalid bulk length"))
        }
        let bodyLength = Int(length)
        declared += bodyLength
        guard declared <= limits.maxRequestBytes else {
            return .failure(RESPError(.requestTooLarge, "request larger than \(limits.maxRequestBytes) bytes"))
        }
        let bodyStart = headerEnd + 2
        guard bytes.count - bodyStart >= bodyLength + 2 else { return .needMore }
        guard bytes[bodyStart + bodyLength] == 13, bytes[bodyStart + bodyLength + 1] == 10 else {
            return .failure(RESPError(.expectedCRLF, "expected '\\r\\n' after a bulk string"))
        }
        return .body(bodyStart..<(bodyStart + bodyLength))
    }

    private static func parseInline(_ bytes: UnsafeRawBufferPointer, _ limits: RESPLimits) -> Step {
        let searchEnd = min(bytes.count, limits.maxInlineLength + 1)
        var newline: Int?
        var index = 0
        while index < searchEnd {
            if bytes[index] == 10 {
                newline = index
                break
            }
            index += 1
        }
        guard let newline else {
            if bytes.count > limits.maxInlineLength {
                return .failure(RESPError(.inlineTooLong, "too big inline request"))
            }
            return .needMore
        }
        var lineEnd = newline
        if lineEnd > 0 && bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
        guard let arguments = InlineCommandSplitter.split(Array(bytes[0..<lineEnd])) else {
            return .failure(RESPError(.unbalancedQuotes, "unbalanced quotes in request"))
        }
        guard arguments.count <= limits.maxArrayCount else {
            return .failure(RESPError(.tooManyArguments, "too many arguments in inline request"))
        }
        if arguments.isEmpty { return .skip(consumed: newline + 1) }
        return .command(arguments, consumed: newline + 1)
    }

    // MARK: - Helpers

    /// `bytes[start..<start + count]` as an array, copied in one go.
    private static func copy(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) -> [UInt8] {
        guard count > 0, let base = bytes.baseAddress else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { target, initialized in
            target.baseAddress!.initialize(from: base.advanced(by: start).assumingMemoryBound(to: UInt8.self), count: count)
            initialized = count
        }
    }

    /// Redis's `string2ll` over `bytes[from..<to]`: optional `-`, no `+`, no leading zeros, no
    /// blanks, no overflow.
    static func parseInteger(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int64? {
        guard start < end, end <= bytes.count, end - start <= 20 else { return nil }
        var index = start
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
            guard index < end else { return nil }
        }
        if end - index == 1 && bytes[index] == UInt8(ascii: "0") { return negative ? nil : 0 }
        guard bytes[index] >= UInt8(ascii: "1") && bytes[index] <= UInt8(ascii: "9") else { return nil }
        var magnitude: UInt64 = 0
        while index < end {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// A byte as Redis's `%c` would show it, escaped when it is not printable ASCII.
    static func printable(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F { return String(UnicodeScalar(byte)) }
        let hex = String(byte, radix: 16)
        return "\\x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
