import Foundation

/// The command line of `custom-object-example`, parsed by hand to keep the example small.
///
/// ```
/// custom-object-example [--socket PATH] publish [--channel NAME] [--sensor ID] [--celsius 21.5]
///                       [--humidity 40.5] [--recent 21,21.25] [--count N] [--interval-ms MS] [--at-ms T]
/// custom-object-example [--socket PATH] subscribe [--channel NAME] [--count N]
/// ```
struct ExampleOptions: Equatable, Sendable {
    /// What to do.
    enum Mode: String, Sendable { case publish, subscribe }

    var mode: Mode
    /// The broker socket: `--socket`, else `$NYMBUS_SOCKET`, else `$NYMBUS_HOME/nymbus.sock`, else `~/.nymbus/nymbus.sock`.
    var socket: String
    /// The channel (topic) readings go to. The channel name tells receivers which type to expect.
    var channel = "sensors"
    var sensorID = "kitchen-1"
    var milliCelsius: Int32 = 21_500
    var humidityPermille: UInt16 = 405
    var recentMilliCelsius: [Int32] = []
    /// publish: readings to send; subscribe: readings (good or bad) to print before exiting. nil = forever.
    var count: Int?
    /// Time between published readings.
    var intervalMilliseconds = 1000
    /// Timestamp of the first reading (default: now); fixed values make runs reproducible.
    var atMilliseconds: UInt64?

    /// Usage text, printed for `--help` and after a usage error.
    static let usage = """
        usage: custom-object-example [--socket PATH] publish [options]
               custom-object-example [--socket PATH] subscribe [--channel NAME] [--count N]

        Publishes SensorReading values (a custom WireCodable type) through a Nymbus node's broker
        socket, or subscribes and decodes them, printing an error line for any payload that is
        not a valid reading.

        options:
          --socket PATH      broker socket (default: $NYMBUS_SOCKET, else $NYMBUS_HOME/nymbus.sock,
                             else ~/.nymbus/nymbus.sock)
          --channel NAME     topic to use (default: sensors)
          --count N          publish N readings / exit after N messages (default: publish 1,
                             subscribe until Ctrl-C)
          publish only:
          --sensor ID        sensor id, 1-32 of a-z 0-9 - _ . (default: kitchen-1)
          --celsius X        temperature, -90...60 (default: 21.5)
          --humidity X       relative humidity in %, 0...100 (default: 40.5)
          --recent A,B,...   up to 16 recent temperatures in °C
          --interval-ms MS   pause between readings (default: 1000)
          --at-ms T          timestamp of the first reading, ms since 1970 (default: now)
        """

    /// Parses the arguments (without the program name); throws a message for people on a mistake.
    static func parse(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(UsageError) -> ExampleOptions
    {
        var mode: Mode?
        var values: [String: String] = [:]
        var index = 0
        let known: Set = [
            "--socket", "--channel", "--sensor", "--celsius", "--humidity", "--recent", "--count", "--interval-ms", "--at-ms",
        ]
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--help" || argument == "-h" { throw UsageError(message: nil) }
            if argument.hasPrefix("--") {
                guard known.contains(argument) else { throw UsageError(message: "unknown option \(argument)") }
                guard index + 1 < arguments.count else { throw UsageError(message: "\(argument) needs a value") }
                values[argument] = arguments[index + 1]
                index += 2
                continue
            }
            guard mode == nil else { throw UsageError(message: "unexpected argument '\(argument)'") }
            guard let parsed = Mode(rawValue: argument) else {
                throw UsageError(message: "the mode is 'publish' or 'subscribe', not '\(argument)'")
            }
            mode = parsed
            index += 1
        }
        guard let mode else { throw UsageError(message: "say 'publish' or 'subscribe'") }

        var options = ExampleOptions(mode: mode, socket: values["--socket"] ?? defaultSocket(environment))
        if let channel = values["--channel"] {
            guard !channel.isEmpty else { throw UsageError(message: "--channel must not be empty") }
            options.channel = channel
        }
        if let sensor = values["--sensor"] { options.sensorID = sensor }
        if let text = values["--celsius"] { options.milliCelsius = try milli(text, "--celsius") }
        if let text = values["--humidity"] {
            guard let percent = Double(text), percent.isFinite, (0...100).contains(percent) else {
                throw UsageError(message: "--humidity must be a number of percent within 0...100")
            }
            options.humidityPermille = UInt16((percent * 10).rounded())
        }
        if let text = values["--recent"] {
            options.recentMilliCelsius = try text.split(separator: ",").map { (part) throws(UsageError) in
                try milli(String(part), "--recent")
            }
        }
        if let text = values["--count"] {
            guard let count = Int(text), count >= 1 else { throw UsageError(message: "--count must be 1 or more") }
            options.count = count
        }
        if let text = values["--interval-ms"] {
            guard let interval = Int(text), (0...3_600_000).contains(interval) else {
                throw UsageError(message: "--interval-ms must be within 0...3600000")
            }
            options.intervalMilliseconds = interval
        }
        if let text = values["--at-ms"] {
            guard let at = UInt64(text) else { throw UsageError(message: "--at-ms must be milliseconds since 1970") }
            options.atMilliseconds = at
        }
        return options
    }

    /// The same default as `nymbus publish` and `nymbus subscribe`.
    static func defaultSocket(_ environment: [String: String]) -> String {
        if let path = environment["NYMBUS_SOCKET"], !path.isEmpty { return path }
        if let home = environment["NYMBUS_HOME"], !home.isEmpty { return home + "/nymbus.sock" }
        return (environment["HOME"] ?? ".") + "/.nymbus/nymbus.sock"
    }

    /// "21.5" → 21500, range-checked before converting (an out-of-range Double → Int32 would trap).
    private static func milli(_ text: String, _ option: String) throws(UsageError) -> Int32 {
        guard let celsius = Double(text.trimmingCharacters(in: .whitespaces)), celsius.isFinite,
            (-90.0...60.0).contains(celsius)
        else { throw UsageError(message: "\(option): '\(text)' is not a temperature within -90...60 °C") }
        return Int32((celsius * 1000).rounded())
    }
}

/// A command-line mistake (or `--help`, with no message): print it and the usage text.
struct UsageError: Error, Equatable {
    /// What was wrong; nil for `--help`.
    var message: String?
}
