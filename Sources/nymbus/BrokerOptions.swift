import ArgumentParser
import Foundation
import NymbusBroker

/// `--socket`: which broker a client command talks to.
struct BrokerOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Broker socket (default: $NYMBUS_SOCKET, else <data-dir>/nymbus.sock with data-dir $NYMBUS_HOME or ~/.nymbus).")
    var socket: String?

    var resolvedSocket: String {
        if let socket { return socket }
        let env = ProcessInfo.processInfo.environment
        if let path = env["NYMBUS_SOCKET"], !path.isEmpty { return path }
        return RunNodeOptions.defaultDataDirectory + "/nymbus.sock"
    }

    func connect() async throws -> BrokerConnection {
        let path = resolvedSocket
        do { return try await BrokerConnection.connect(path: path) } catch {
            throw ClientCommandError(
                "cannot connect to the Nymbus broker at \(path); is `nymbus run` (or `nymbus devnet`) running?")
        }
    }
}

/// A failure of a client command that is not the command line's fault (the node is unreachable
/// or refused): printed as `Error: …` with exit status 1, without the usage text.
struct ClientCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Throws a clean error for a `-ERR` reply.
func expectNoError(_ reply: RESPValue) throws -> RESPValue {
    if case .error(let text) = reply { throw ClientCommandError("the node refused: \(text)") }
    return reply
}

/// Human-readable rendering of a reply, for `nymbus status` and friends.
func render(_ value: RESPValue, indent: String = "") -> String {
    switch value {
    case .simpleString(let text): return text
    case .error(let text): return "(error) \(text)"
    case .integer(let n): return "\(n)"
    case .bulkString(let bytes): return bytes.map { String(decoding: $0, as: UTF8.self) } ?? "(nil)"
    case .null: return "(nil)"
    case .boolean(let b): return b ? "true" : "false"
    case .double(let d): return "\(d)"
    case .array(let values): return (values ?? []).map { render($0, indent: indent + "  ") }.joined(separator: "\n\(indent)")
    case .set(let values), .push(let values): return values.map { render($0, indent: indent) }.joined(separator: "\n\(indent)")
    case .map(let entries):
        return entries.map { "\(render($0.key)): \(render($0.value, indent: indent + "  "))" }.joined(separator: "\n\(indent)")
    }
}
