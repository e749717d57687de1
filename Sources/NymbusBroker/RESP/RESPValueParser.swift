public import NIOCore
import NymbusCrypto

/// Parses RESP2 and RESP3 replies: the client side of the protocol.
///
/// The broker itself only reads requests (``RESPRequestParser``); this parser is for clients of
/// the broker (tests, the `nymbus` CLI, a Swift client) and for fuzzing. It reads `+ - : $ * _ #
/// , % ~ >` values, checks every length and count against ``RESPLimits`` and the nesting depth
/// against ``maxDepth`` before allocating, is total (never traps) and incremental (`nil` = need
/// more bytes, nothing consumed).
public enum RESPValueParser {
    /// Deepest nesting of aggregates accepted, so a hostile stream cannot exhaust the stack.
    public static let maxDepth = 32

    /// Parses and consumes one value from `buffer`, or returns nil if it is not complete yet.
    public static func parse(_ buffer: inout ByteBuffer, limits: RESPLimits = .default) throws(RESPError) -> RESPValue?
    {
        let outcome = buffer.withUnsafeReadableBytes { bytes in parseValue(bytes, at: 0, depth: 0, limits) }
        switch outcome {
        case .needMore:
            return nil
        case .value(let value, let end):
            buffer.moveReaderIndex(forwardBy: end)
            return value
        case .failure(let error):
            throw error
        }
    }

    private enum Outcome {
        case needMore
        case value(RESPValue, end: Int)
        case failure(RESPError)
    }

    private static func line(_ bytes: UnsafeRawBufferPointer, from start: Int, _ limits: RESPLimits) -> Result<
        Int, RESPError
    >? {
        let searchEnd = min(bytes.count, start + limits.maxInlineLength + 1)
        var index = start
        while index < searchEnd {
            if bytes[index] == 13 {
                guard index + 1 < bytes.count else { return nil }
                guard bytes[index + 1] == 10 else { return .failure(RESPError(.expectedCRLF, "expected '\\r\\n'")) }
                return .success(index)
            }
            index += 1
        }
        if bytes.count - start > limits.maxInlineLength {
            return .failure(RESPError(.headerTooLong, "line longer than \(limits.maxInlineLength) bytes"))
        }
        return nil
    }

    private static func parseValue(_ bytes: UnsafeRawBufferPointer, at start: Int, depth: Int, _ limits: RESPLimits)
        -> Outcome
    {
        guard start < bytes.count else { return .needMore }
        guard depth < maxDepth else {
            return .failure(RESPError(.nestingTooDeep, "aggregates nested deeper than \(maxDepth)"))
        }
        let type = bytes[start]
        let lineEnd: Int
        switch line(bytes, from: start + 1, limits) {
        case nil: return .needMore
        case .failure(let error)?: return .failure(error)
        case .success(let end)?: lineEnd = end
        }
        let text = { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<lineEnd]), as: UTF8.self) }
        let next = lineEnd + 2
        switch type {
        case UInt8(ascii: "+"):
            return .value(.simpleString(text()), end: next)
        case UInt8(ascii: "-"):
            return .value(.error(text()), end: next)
        case UInt8(ascii: ":"):
            guard let number = RESPRequestParser.parseInteger(bytes, from: start + 1, to: lineEnd) else {
                return .failure(RESPError(.invalidInteger, "invalid integer"))
            }
            return .value(.integer(number), end: next)
        case UInt8(ascii: "_"):
            guard lineEnd == start + 1 else { return .failure(RESPError(.invalidInteger, "invalid null")) }
            return .value(.null, end: next)
        case UInt8(ascii: "#"):
            switch text() {
            case "t": return .value(.boolean(true), end: next)
            case "f": return .value(.boolean(false), end: next)
            default: return .failure(RESPError(.invalidInteger, "invalid boolean"))
            }
        case UInt8(ascii: ","):
            guard let number = Double(text()) else { return .failure(RESPError(.invalidInteger, "invalid double")) }
            return .value(.double(number), end: next)
        case UInt8(ascii: "$"):
            guard let length = RESPRequestParser.parseInteger(bytes, from: start + 1, to: lineEnd), length >= -1,
                length <= Int64(limits.maxBulkLength)
            else {
                return .failure(RESPError(.invalidBulkLength, "invalid bulk length"))
            }
            if length == -1 { return .value(.bulkString(nil), end: next) }
            let count = Int(length)
            guard bytes.count - next >= count + 2 else { return .needMore }
            guard bytes[next + count] == 13, bytes[next + count + 1] == 10 else {
                return .failure(RESPError(.expectedCRLF, "expected '\\r\\n' after a bulk string"))
            }
            return .value(.bulkString(Array(bytes[next..<(next + count)])), end: next + count + 2)
        case UInt8(ascii: "*"), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"):
            guard let declared = RESPRequestParser.parseInteger(bytes, from: start + 1, to: lineEnd), declared >= -1,
                declared <= Int64(limits.maxArrayCount)
            else {
                return .failure(RESPError(.invalidMultibulkLength, "invalid multibulk length"))
            }
            if declared == -1 {
                guard type == UInt8(ascii: "*") else {
                    return .failure(RESPError(.invalidMultibulkLength, "invalid multibulk length"))
                }
                return .value(.array(nil), end: next)
            }
            let elementCount = type == UInt8(ascii: "%") ? Int(declared) * 2 : Int(declared)
            var elements: [RESPValue] = []
            elements.reserveCapacity(elementCount)
            var position = next
            for _ in 0..<elementCount {
                switch parseValue(bytes, at: position, depth: depth + 1, limits) {
                case .needMore: return .needMore
                case .failure(let error): return .failure(error)
                case .value(let element, let end):
                    elements.append(element)
                    position = end
                }
            }
            switch type {
            case UInt8(ascii: "%"):
                var entries: [RESPMapEntry] = []
                entries.reserveCapacity(Int(declared))
                var index = 0
                while index + 1 < elements.count {
                    entries.append(RESPMapEntry(key: elements[index], value: elements[index + 1]))
                    index += 2
                }
                return .value(.map(entries), end: position)
            case UInt8(ascii: "~"): return .value(.set(elements), end: position)
            case UInt8(ascii: ">"): return .value(.push(elements), end: position)
            default: return .value(.array(elements), end: position)
            }
        default:
            return .failure(RESPError(.invalidType, "unknown reply type '\(RESPRequestParser.printable(type))'"))
        }
    }
}
