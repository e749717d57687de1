/// A parsed JSON value, just enough for nym-client's text protocol.
///
/// Object members keep their input order (serde reports the first bad field in input order).
/// Numbers keep their source text so `u64`/`u32` ranges are checked exactly, as serde does.
enum JSONValue: Equatable {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let a), .array(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        default: false
        }
    }

    /// The first member named `key`.
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    /// How serde names this value in "invalid type" errors (`Unexpected`'s Display).
    var unexpectedDescription: String {
        switch self {
        case .object: "map"
        case .array: "sequence"
        case .string(let s): "string \(JSONText.quoted(s))"
        case .bool(let b): "boolean `\(b)`"
        case .null: "null"
        case .number(let text):
            if JSONValue.isInteger(text) { "integer `\(text)`" } else { "floating point `\(text)`" }
        }
    }

    static func isInteger(_ text: String) -> Bool {
        !text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
    }
}

/// A JSON syntax or semantic error, worded like serde_json, with its line and column.
struct JSONError: Error {
    var message: String
}

/// A strict RFC 8259 parser over UTF-8 bytes with a nesting limit; never traps.
struct JSONParser {
    /// serde_json's default recursion limit.
    static let maxDepth = 128

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    /// Byte offset just past the top-level value (where serde reports semantic errors).
    private(set) var valueEnd = 0

    init(_ text: String) { self.bytes = Array(text.utf8) }

    /// Parses one value; trailing non-whitespace is reported separately by `checkTrailing()`.
    mutating func parseValue() throws(JSONError) -> JSONValue {
        skipWhitespace()
        let value = try value()
        valueEnd = index
        return value
    }

    /// serde_json's `end()`: only whitespace may follow the value.
    mutating func checkTrailing() throws(JSONError) {
        skipWhitespace()
        if index < bytes.count { throw error("trailing characters", at: index + 1) }
    }

    /// `" at line L column C"` for a byte offset, as serde_json's `position_of_index`.
    func position(_ offset: Int) -> String {
        let i = max(0, min(offset, bytes.count))
        var line = 1
        var startOfLine = 0
        for (k, b) in bytes[0..<i].enumerated() where b == UInt8(ascii: "\n") {
            line += 1
            startOfLine = k + 1
        }
        return " at line \(line) column \(i - startOfLine)"
    }

    private func error(_ message: String, at offset: Int) -> JSONError {
        JSONError(message: message + position(offset))
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func value() throws(JSONError) -> JSONValue {
        guard let c = peek() else { throw error("EOF while parsing a value", at: bytes.count) }
        switch c {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("expected value", at: index + 1)
        }
    }

    private mutating func literal(_ word: String, _ value: JSONValue) throws(JSONError) -> JSONValue {
        for expected in word.utf8 {
            guard let c = peek() else { throw error("EOF while parsing a value", at: bytes.count) }
            guard c == expected else { throw error("expected ident", at: index + 1) }
            index += 1
        }
        return value
    }

    private mutating func enter() throws(JSONError) {
        depth += 1
        if depth > JSONParser.maxDepth { throw error("recursion limit exceeded", at: index + 1) }
    }

    private mutating func object() throws(JSONError) -> JSONValue {
        try enter()
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard let c = peek() else { throw error("EOF while parsing an object", at: bytes.count) }
            guard c == UInt8(ascii: "\"") else { throw error("key must be a string", at: index + 1) }
            let key = try string()
            skipWhitespace()
            guard let colon = peek() else { throw error("EOF while parsing an object", at: bytes.count) }
            guard colon == UInt8(ascii: ":") else { throw error("expected `:`", at: index + 1) }
            index += 1
            skipWhitespace()
            members.append((key, try value()))
            skipWhitespace()
            guard let next = peek() else { throw error("EOF while parsing an object", at: bytes.count) }
            index += 1
            if next == UInt8(ascii: "}") { break }
            guard next == UInt8(ascii: ",") else { throw error("expected `,` or `}`", at: index) }
        }
        depth -= 1
        return .object(members)
    }

    private mutating func array() throws(JSONError) -> JSONValue {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value())
            skipWhitespace()
            guard let next = peek() else { throw error("EOF while parsing a list", at: bytes.count) }
            index += 1
            if next == UInt8(ascii: "]") { break }
            guard next == UInt8(ascii: ",") else { throw error("expected `,` or `]`", at: index) }
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func number() throws(JSONError) -> JSONValue {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek() else { throw error("EOF while parsing a value", at: bytes.count) }
        guard isDigit(first) else { throw error("invalid number", at: index + 1) }
        index += 1
        if first != UInt8(ascii: "0") { while let c = peek(), isDigit(c) { index += 1 } }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let c = peek(), isDigit(c) else { throw error("invalid number", at: index + 1) }
            while let c = peek(), isDigit(c) { index += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let c = peek(), isDigit(c) else { throw error("invalid number", at: index + 1) }
            while let c = peek(), isDigit(c) { index += 1 }
        }
        return .number(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private mutating func string() throws(JSONError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw error("EOF while parsing a string", at: bytes.count) }
            index += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek() else { throw error("EOF while parsing a string", at: bytes.count) }
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out += try unicodeEscape()
                default: throw error("invalid escape", at: index)
                }
            case 0x00..<0x20:
                throw error("control character (\\u0000-\\u001F) found while parsing a string", at: index)
            default:
                out.append(c)
            }
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = peek() else { throw error("EOF while parsing a string", at: bytes.count) }
            index += 1
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid escape", at: index)
            }
            value = value << 4 | digit
        }
        return value
    }

    /// The UTF-8 bytes of a `\uXXXX` escape (with a following low surrogate if needed).
    private mutating func unicodeEscape() throws(JSONError) -> [UInt8] {
        var scalar = try hex4()
        if (0xDC00...0xDFFF).contains(scalar) {
            throw error("lone leading surrogate in hex escape", at: index)
        }
        if (0xD800...0xDBFF).contains(scalar) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else { throw error("unexpected end of hex escape", at: index) }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else {
                throw error("lone leading surrogate in hex escape", at: index)
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid escape", at: index) }
        return Array(String(Character(unicode)).utf8)
    }
}

/// Writes JSON text exactly as serde_json does (compact, keys in the order given).
enum JSONText {
    /// `s` as a JSON string literal: `"` and `\` escaped, control characters as `\n`, `\t`…
    /// or `\u00XX`, everything else (including non-ASCII and `/`) verbatim.
    static func quoted(_ s: String) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(s.utf8.count + 2)
        let hex = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x00..<0x20: out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }
}
