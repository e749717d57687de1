import ArgumentParser
import Logging
import NymbusDaemon

/// `--log-level`, `--log-format`, `--log-file`, shared by the commands that run a node.
struct LoggingOptions: ParsableArguments {
    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical (default: info; devnet: warning, to keep its demo readable).")
    var level: String?

    @Option(name: .customLong("log-format"), help: "text (for people) or json (one object per line, for log collectors).")
    var format: String = "text"

    @Option(name: .customLong("log-file"), help: "Append logs to this file (created with mode 0600) instead of standard error.")
    var file: String?

    func validate() throws {
        if let level, Logger.Level(rawValue: level) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard LogFormat(rawValue: format) != nil else { throw ValidationError("--log-format must be text or json") }
    }

    /// Sends logs to standard error (or `--log-file`), with any IP address redacted, at
    /// `--log-level` or else `defaultLevel`, and returns a logger.
    func bootstrap(label: String, defaultLevel: Logger.Level = .info) throws -> Logger {
        let level = self.level.flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        let format = LogFormat(rawValue: self.format) ?? .text
        let sink: LogSink?
        if let file {
            sink = try LogSink.file(file)
        } else {
            sink = format == .text ? nil : LogSink.standardError
        }
        LoggingSystem.bootstrap { label in
            let inner: any LogHandler =
                sink.map { LineLogHandler(label: label, format: format, sink: $0) }
                ?? StreamLogHandler.standardError(label: label)
            var handler = RedactingLogHandler(wrapping: inner)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}
