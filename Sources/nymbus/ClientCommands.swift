import ArgumentParser
import Foundation
import NymbusBroker
import NymbusDaemon

/// `nymbus publish TOPIC MESSAGE`.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish a message to a topic through the local broker.",
        discussion: """
            Same as `redis-cli -s SOCKET PUBLISH TOPIC MESSAGE`. The node encrypts and signs it for \
            the topic and floods it to its peers through the mixnet. Prints how many local \
            subscribers got it. Private topics (names starting with ~) must be joined first. \
            Use `-` as MESSAGE to read the payload from standard input (binary-safe).
            """)

    @OptionGroup var broker: BrokerOptions
    @Argument(help: "The topic (channel) name.") var topic: String
    @Argument(help: "The message, or - to read it from standard input.") var message: String

    func run() async throws {
        let payload = message == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : Array(message.utf8)
        let connection = try await broker.connect()
        let reply = try expectNoError(try await connection.command([Array("PUBLISH".utf8), Array(topic.utf8), payload]))
        print("published to \(topic); local subscribers: \(render(reply))")
        await connection.close()
    }
}

/// `nymbus subscribe TOPIC…`.
struct SubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Print messages published to topics, as they arrive.",
        discussion: """
            Same as `redis-cli -s SOCKET SUBSCRIBE TOPIC…`; with --pattern, glob patterns as in \
            PSUBSCRIBE (they match topics this node knows by name). One line per message: \
            `topic: payload`. Stop with Ctrl-C.
            """)

    @OptionGroup var broker: BrokerOptions
    @Flag(name: .long, help: "Treat the arguments as glob patterns (PSUBSCRIBE).") var pattern = false
    @Flag(name: .long, help: "Print payloads as hex instead of text.") var hex = false
    @Option(name: .long, help: "Exit after this many messages.") var count: Int?
    @Argument(help: "Topics (or patterns) to subscribe to.") var topics: [String]

    func validate() throws {
        guard !topics.isEmpty else { throw ValidationError("name at least one topic") }
    }

    func run() async throws {
        let connection = try await broker.connect()
        try await connection.send([Array((pattern ? "PSUBSCRIBE" : "SUBSCRIBE").utf8)] + topics.map { Array($0.utf8) })
        print("subscribed to \(topics.joined(separator: ", ")); waiting for messages (Ctrl-C to stop)")
        fflush(nil)
        var received = 0
        while let message = try await connection.nextMessage() {
            let text = hex
                ? message.payload.map { String(format: "%02x", $0) }.joined()
                : String(decoding: message.payload, as: UTF8.self)
            print("\(String(decoding: message.channel, as: UTF8.self)): \(text)")
            fflush(nil)
            received += 1
            if let count, received >= count { break }
        }
        await connection.close()
    }
}

/// `nymbus status`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the node's peers, topics and queues; with --check, whether it is healthy.",
        discussion: """
            Asks the running node through its broker socket (NYMBUS.STATUS, NYMBUS.PEERS, NYMBUS.TOPIC LIST).

            --check prints one line and sets the exit status, for scripts, systemd and monitoring: \
            0 `OK: …`; 1 `UNHEALTHY: <reason>` when the node has no nym-client connection, no peer, \
            or has lost messages since it started (a status counter named …lost…, …dropped…); \
            2 `UNREACHABLE: …` when no node answers on the socket.
            """)

    @OptionGroup var broker: BrokerOptions
    @Flag(name: .long, help: "Also list every peer.") var peers = false
    @Flag(name: .long, help: "Print one line and exit 0 (healthy), 1 (unhealthy) or 2 (unreachable).") var check = false

    func validate() throws {
        if check && peers { throw ValidationError("--check prints one line; drop --peers") }
    }

    func run() async throws {
        if check { try await runCheck() }
        let connection = try await broker.connect()
        _ = try expectNoError(try await connection.command("HELLO", "3"))  // maps stay maps
        print(render(try expectNoError(try await connection.command("NYMBUS.STATUS"))))
        let topics = try expectNoError(try await connection.command("NYMBUS.TOPIC", "LIST"))
        print("topics: \((topics.elements ?? []).map { render($0) }.joined(separator: ", "))")
        if peers {
            let list = try expectNoError(try await connection.command("NYMBUS.PEERS")).elements ?? []
            print("peers (\(list.count)):")
            for peer in list { print("- " + render(peer, indent: "  ")) }
        }
        await connection.close()
    }

    private func runCheck() async throws -> Never {
        let status: RESPValue
        do {
            let connection = try await broker.connect()
            _ = try expectNoError(try await connection.command("HELLO", "3"))
            status = try expectNoError(try await connection.command("NYMBUS.STATUS"))
            await connection.close()
        } catch {
            print("UNREACHABLE: \(error)")
            throw ExitCode(2)
        }
        let verdict = HealthCheck.judge(statusNumbers(status))
        print(verdict.line)
        if case .healthy = verdict { throw ExitCode.success }
        throw ExitCode(1)
    }
}

/// The integer entries of a NYMBUS.STATUS map, in order.
func statusNumbers(_ status: RESPValue) -> [(key: String, value: Int64)] {
    guard case .map(let entries) = status else { return [] }
    return entries.compactMap { entry in
        guard let key = entry.key.text, case .integer(let value) = entry.value else { return nil }
        return (key, value)
    }
}

/// The text entry `key` of a NYMBUS.STATUS map.
func statusText(_ status: RESPValue, _ key: String) -> String? {
    guard case .map(let entries) = status else { return nil }
    return entries.first { $0.key.text == key }?.value.text
}
