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
public enum IPRedaction {
    /// The replacement for a redacted address.
    public static let placeholder = "<ip>"

    // Swift's Regex has no lookbehind: the character before a match is checked by hand.
    nonisolated(unsafe) private static let ipv4 = #/(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])/#
    nonisolated(unsafe) private static let ipv6 =
        #/(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6}::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?|::[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})(?![0-9A-Za-z:])/#

    /// `text` with every IPv4 and IPv6 address replaced by `placeholder`.
    public static func redact(_ text: String) -> String {
        guard text.contains(where: { $0 == "." || $0 == ":" }) else { return text }
        return replace(ipv6, in: replace(ipv4, in: text, before: { $0.isNumber || $0 == "." }),
                       before: { $0.isLetter || $0.isNumber || $0 == ":" })
    }

    /// Whether `text` contains something that looks like an IP address.
    public static func containsAddress(_ text: String) -> Bool { redact(text) != text }

    private static func replace(
        _ pattern: Regex<Substring>, in text: String, before isGlued: (Character) -> Bool
    ) -> String {
        var output = ""
        var cursor = text.startIndex
        for match in text.matches(of: pattern) {
            let range = match.range
            // A match glued to a preceding digit (or letter) is part of something longer.
            if range.lowerBound > text.startIndex, isGlued(text[text.index(before: range.lowerBound)]) { continue }
            guard range.lowerBound >= cursor else { continue }
            output += text[cursor..<range.lowerBound]
            output += placeholder
            cursor = range.upperBound
        }
        output += text[cursor...]
        return output
    }
}
