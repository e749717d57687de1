import ArgumentParser
import Logging
import NymbusDaemon

/// `--log-level`, shared by the commands that run a node.
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var level: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: level) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    /// Sends logs to standard error, with any IP address redacted, and returns a logger.
    func bootstrap(label: String) -> Logger {
        let level = Logger.Level(rawValue: self.level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = RedactingLogHandler(wrapping: StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}
