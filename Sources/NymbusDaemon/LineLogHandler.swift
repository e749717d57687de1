import Foundation
public import Logging
import NymbusCrypto

/// Where log lines go: standard error or a file opened for appending (mode 0600), shared by
/// every logger of the process. Whole lines are written with one `write(2)` under a lock, so
/// lines from different threads never interleave.
public final class LogSink: @unchecked Sendable {
    private let descriptor: Int32
    private let lock = NSLock()

    /// Standard error.
    public static let standardError = LogSink(descriptor: 2)

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Opens `path` for appending, creating it with mode 0600.
    ///
    /// - Throws: ``DaemonError`` naming the path when it cannot be opened.
    public static func file(_ path: String) throws(DaemonError) -> LogSink {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw DaemonError(.invalidConfiguration, "cannot open log file \(path): \(String(cString: strerror(errno)))")
        }
        return LogSink(descriptor: descriptor)
    }

    /// Writes one line (a newline is added).
    public func write(line: String) {
        let bytes = Array((line + "\n").utf8)
        lock.withLock {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// How a log line looks.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-12-06T01:41:10Z info nymbus: message key=value` for people.
    case text
    /// One JSON object per line for log collectors: `ts`, `level`, `label`, `message`, `metadata`.
    case json
}

/// A log handler that writes ``LogFormat`` lines to a ``LogSink``. Wrap it in
/// ``RedactingLogHandler`` (as `nymbus` does) so no IP address reaches the line.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: LogFormat
    private let sink: LogSink

    public init(label: String, format: LogFormat, sink: LogSink) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let timestamp = Date.now.formatted(.iso8601)
        switch format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            sink.write(line: "\(timestamp) \(event.level) \(label): \(event.message)\(fields)")
        case .json:
            var object = "{\"ts\":\(Self.quote(timestamp)),\"level\":\(Self.quote(event.level.rawValue)),"
            object += "\"label\":\(Self.quote(label)),\"message\":\(Self.quote("\(event.message)"))"
            if !merged.isEmpty { object += ",\"metadata\":" + Self.json(.dictionary(merged)) }
            sink.write(line: object + "}")
        }
    }

    /// A metadata value as JSON: strings, arrays and objects (keys sorted, for stable lines).
    static func json(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): quote(text)
        case .stringConvertible(let value): quote(value.description)
        case .array(let values): "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let values):
            "{" + values.sorted { $0.key < $1.key }.map { quote($0.key) + ":" + json($0.value) }.joined(separator: ",")
                + "}"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
