/// A stream entry id, `ms-seq`: milliseconds and a sequence number, ordered as a pair, as in Redis.
public struct StreamID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds part (wall clock of the node that appended, or what the client gave).
    public var ms: UInt64
    /// Sequence within the millisecond.
    public var seq: UInt64

    /// Creates an id.
    public init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    /// `0-0`, the smallest id.
    public static let zero = StreamID(ms: 0, seq: 0)
    /// `18446744073709551615-18446744073709551615`, the largest id.
    public static let max = StreamID(ms: .max, seq: .max)

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        lhs.ms != rhs.ms ? lhs.ms < rhs.ms : lhs.seq < rhs.seq
    }

    /// `ms-seq` as Redis prints it.
    public var description: String { "\(ms)-\(seq)" }

    /// The id as bytes for a bulk string reply (`ms-seq` in decimal), made without a String:
    /// every XADD answers with one.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(41)
        Self.appendDecimal(ms, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.appendDecimal(seq, to: &out)
        return out
    }

    private static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        guard value > 0 else {
            out.append(UInt8(ascii: "0"))
            return
        }
        let start = out.count
        var rest = value
        while rest > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        }
        out[start...].reverse()
    }

    /// The next id, or nil at the maximum (Redis's `streamIncrID`).
    func incremented() -> StreamID? {
        if seq == .max {
            if ms == .max { return nil }
            return StreamID(ms: ms + 1, seq: 0)
        }
        return StreamID(ms: ms, seq: seq + 1)
    }

    /// The previous id, or nil at `0-0` (Redis's `streamDecrID`).
    func decremented() -> StreamID? {
        if seq == 0 {
            if ms == 0 { return nil }
            return StreamID(ms: ms - 1, seq: .max)
        }
        return StreamID(ms: ms, seq: seq - 1)
    }

    /// An id argument as Redis's `streamGenericParseIDOrReply` reads it.
    ///
    /// - Parameters:
    ///   - missingSeq: the sequence when only `ms` is given (0 for a start, max for an end).
    ///   - strict: `-` and `+` are refused (ids that must name a real position).
    ///   - allowAutoSeq: `ms-*` is accepted (XADD); the result's `seqGiven` is false then.
    /// - Returns: nil for an invalid id (the caller replies `Invalid stream ID ...`).
    static func parse(
        _ bytes: [UInt8], missingSeq: UInt64 = 0, strict: Bool = false, allowAutoSeq: Bool = false
    ) -> (id: StreamID, seqGiven: Bool)? {
        // Redis copies the argument into a C string: a NUL ends it, and over 127 bytes is invalid.
        guard bytes.count <= 127 else { return nil }
        let text = Array(bytes.prefix { $0 != 0 })
        if text == [UInt8(ascii: "-")] || text == [UInt8(ascii: "+")] {
            if strict { return nil }
            return (text[0] == UInt8(ascii: "-") ? .zero : .max, true)
        }
        let dash = text.firstIndex(of: UInt8(ascii: "-"))
        let msPart = dash.map { Array(text[..<$0]) } ?? text
        guard let ms = parseUnsigned(msPart) else { return nil }
        guard let dash else { return (StreamID(ms: ms, seq: missingSeq), true) }
        let seqPart = Array(text[(dash + 1)...])
        if allowAutoSeq && seqPart == [UInt8(ascii: "*")] { return (StreamID(ms: ms, seq: 0), false) }
        guard let seq = parseUnsigned(seqPart) else { return nil }
        return (StreamID(ms: ms, seq: seq), true)
    }

    /// Redis's `string2ull`: `string2ll` when it succeeds (negative refused), else `strtoull`
    /// rules (leading blanks, a sign, leading zeros; the whole text must be used, no overflow).
    static func parseUnsigned(_ text: [UInt8]) -> UInt64? {
        if let value = BrokerState.integer(text) { return value < 0 ? nil : UInt64(value) }
        var index = 0
        while index < text.count, [9, 10, 11, 12, 13, 32].contains(text[index]) { index += 1 }
        var negative = false
        if index < text.count, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        guard index < text.count else { return nil }
        var value: UInt64 = 0
        while index < text.count {
            let byte = text[index]
            guard byte >= 48 && byte <= 57 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - 48))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
            index += 1
        }
        return negative ? (0 &- value) : value
    }
}
