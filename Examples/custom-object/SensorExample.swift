import Foundation
import NymbusBroker
import NymbusCrypto
import NymbusWire

/// What `custom-object-example` does, separate from `main` so tests can run it in-process.
///
/// Publishing: build a `SensorReading`, check it, and `PUBLISH channel <value.serializedBytes()>`
/// on the node's broker socket. The node encrypts, signs and floods the bytes; it never looks
/// inside them. Subscribing: `SUBSCRIBE channel` and decode every payload with
/// `SensorReading(serializedBytes:)`. Anyone who knows a topic's name can post to it, so
/// a payload that is not a valid reading is expected now and then: it is reported, not fatal.
enum SensorExample {
    /// Where the program's lines go (stdout and stderr in the real program; arrays in tests).
    struct Output: Sendable {
        var line: @Sendable (String) -> Void
        var error: @Sendable (String) -> Void

        init(line: @escaping @Sendable (String) -> Void, error: @escaping @Sendable (String) -> Void) {
            self.line = line
            self.error = error
        }
    }

    /// Runs the program with `arguments` (no program name); returns the exit status.
    static func run(arguments: [String], output: Output) async -> Int32 {
        let options: ExampleOptions
        do { options = try ExampleOptions.parse(arguments) } catch {
            if let message = error.message {
                output.error("error: \(message)\n\n\(ExampleOptions.usage)")
                return 2
            }
            output.line(ExampleOptions.usage)
            return 0
        }
        let connection: BrokerConnection
        do { connection = try await BrokerConnection.connect(path: options.socket) } catch {
            output.error("error: cannot connect to the Nymbus broker at \(options.socket); is `nymbus run` or `nymbus devnet` running?")
            return 1
        }
        do {
            switch options.mode {
            case .publish: try await publish(options, on: connection, output: output)
            case .subscribe: try await subscribe(options, on: connection, output: output)
            }
            await connection.close()
            return 0
        } catch {
            output.error("error: \(error)")
            await connection.close()
            return 1
        }
    }

    /// Publishes `options.count ?? 1` readings, `intervalMilliseconds` apart.
    static func publish(_ options: ExampleOptions, on connection: BrokerConnection, output: Output) async throws {
        let start = options.atMilliseconds ?? UInt64(Date().timeIntervalSince1970 * 1000)
        let count = options.count ?? 1
        for index in 0..<count {
            let reading = SensorReading(
                sensorID: options.sensorID, takenAtMilliseconds: start + UInt64(index * options.intervalMilliseconds),
                milliCelsius: options.milliCelsius, humidityPermille: options.humidityPermille,
                recentMilliCelsius: options.recentMilliCelsius)
            try reading.validate()  // refuse to send what every subscriber would refuse
            let payload = reading.serializedBytes()
            let reply = try await connection.command([Array("PUBLISH".utf8), Array(options.channel.utf8), payload])
            if case .error(let text) = reply { throw BrokerConnectionError.server(text) }
            output.line(
                "published \(reading.summary) to \(options.channel) (\(payload.count) bytes, local subscribers: \(reply.integerText))")
            if index + 1 < count { try await Task.sleep(for: .milliseconds(options.intervalMilliseconds)) }
        }
    }

    /// Subscribes and prints one line per message until `options.count` messages (or forever).
    static func subscribe(_ options: ExampleOptions, on connection: BrokerConnection, output: Output) async throws {
        let reply = try await connection.command("SUBSCRIBE", options.channel)
        if case .error(let text) = reply { throw BrokerConnectionError.server(text) }
        output.line("subscribed to \(options.channel); waiting for readings (Ctrl-C to stop)")
        var received = 0
        while let message = try await connection.nextMessage() {
            output.line("\(options.channel): \(describe(message.payload))")
            received += 1
            if let count = options.count, received >= count { return }
        }
    }

    /// The reading a payload holds, or why it holds none. Never traps, whatever the bytes.
    static func describe(_ payload: [UInt8]) -> String {
        do {
            return try SensorReading(serializedBytes: payload).summary
        } catch {
            return "bad payload (\(payload.count) bytes): \(error.code): \(error.reason)"
        }
    }
}

extension RESPValue {
    /// An integer reply as text (PUBLISH's receiver count).
    fileprivate var integerText: String {
        if case .integer(let value) = self { return String(value) }
        return "?"
    }
}
