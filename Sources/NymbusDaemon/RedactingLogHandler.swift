public import Logging

/// Wraps a log handler and blanks out anything that looks like an IP address (v4 or v6) in the
/// message and metadata before it is written.
///
/// Nymbus never puts an IP address into a log line on purpose; this is the second line of
/// defence for text that comes from elsewhere, such as a socket error's description naming the
/// nym-client's loopback address.
public struct RedactingLogHandler: LogHandler {
    private var inner: any LogHandler

    public init(wrapping inner: any LogHandler) { self.inner = inner }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(IPRedaction.redact("\(event.message)"))"
        event.metadata = event.metadata.map { $0.mapValues(Self.redact) }
        inner.log(event: event)
    }

    private static func redact(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let text): .string(IPRedaction.redact(text))
        case .stringConvertible(let value): .string(IPRedaction.redact(value.description))
        case .array(let values): .array(values.map(redact))
        case .dictionary(let values): .dictionary(values.mapValues(redact))
        }
    }
}

/// Finds and blanks IP addresses in text.
///
/// A hand-written scanner rather than a `Regex`: log handlers run on many threads at once, and
/// a scanner over UTF-8 bytes is both thread-safe and cheap.
public enum IPRedaction {
    /// The replacement for a redacted address.
    public static let placeholder = "<ip>"

    /// `text` with every IPv4 and IPv6 address replaced by `placeholder`.
    public static func redact(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let ranges = addressRanges(bytes)
        guard !ranges.isEmpty else { return text }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var cursor = 0
        for range in ranges {
            output += bytes[cursor..<range.lowerBound]
            output += Array(placeholder.utf8)
            cursor = range.upperBound
        }
        output += bytes[cursor...]
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether `text` contains something that looks like an IP address.
    public static func containsAddress(_ text: String) -> Bool { !addressRanges(Array(text.utf8)).isEmpty }

    /// Byte ranges of IPv4 and IPv6 addresses, in order, not overlapping.
    static func addressRanges(_ b: [UInt8]) -> [Range<Int>] {
        // Every address has a dot or a colon: most log lines have neither and cost one pass.
        guard b.contains(where: { $0 == 0x2E || $0 == 0x3A }) else { return [] }
        var ranges: [Range<Int>] = []
        var i = 0
        while i < b.count {
            if let end = ipv4(b, at: i) ?? ipv6(b, at: i) {
                ranges.append(i..<end)
                i = end
            } else {
                i += 1
            }
        }
        return ranges
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private static func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x66) }
    private static func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) }

    /// Four dot-separated numbers 0...255, not glued to more digits or dots.
    private static func ipv4(_ b: [UInt8], at start: Int) -> Int? {
        if start > 0, isDigit(b[start - 1]) || b[start - 1] == 0x2E { return nil }
        var i = start
        for octet in 0..<4 {
            if octet > 0 {
                guard i < b.count, b[i] == 0x2E else { return nil }
                i += 1
            }
            var value = 0
            var digits = 0
            while i < b.count, isDigit(b[i]), digits < 3 {
                value = value * 10 + Int(b[i] - 0x30)
                digits += 1
                i += 1
            }
            guard digits > 0, value <= 255 else { return nil }
        }
        if i < b.count, isDigit(b[i]) || (b[i] == 0x2E && i + 1 < b.count && isDigit(b[i + 1])) { return nil }
        return i
    }

    /// A maximal run of hex digits and colons that forms an IPv6 address, standing alone.
    private static func ipv6(_ b: [UInt8], at start: Int) -> Int? {
        if start > 0, isAlnum(b[start - 1]) || b[start - 1] == 0x3A { return nil }
        var end = start
        while end < b.count, isHex(b[end]) || b[end] == 0x3A { end += 1 }
        if end < b.count, isAlnum(b[end]) { return nil }
        let run = b[start..<end]
        guard run.contains(0x3A) else { return nil }
        let groups = run.split(separator: 0x3A, omittingEmptySubsequences: false)
        guard groups.allSatisfy({ $0.count <= 4 }), groups.contains(where: { !$0.isEmpty }) else { return nil }
        var compressions = 0
        var k = run.startIndex
        while k + 1 < run.endIndex {
            if run[k] == 0x3A && run[k + 1] == 0x3A { compressions += 1 }
            k += 1
        }
        if compressions == 0 { return groups.count == 8 && groups.allSatisfy({ !$0.isEmpty }) ? end : nil }
        // One "::" (":::" would count twice); at most 7 groups besides it.
        guard compressions == 1, groups.filter({ !$0.isEmpty }).count <= 7 else { return nil }
        return end
    }
}
