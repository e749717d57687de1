import ArgumentParser
import Foundation

/// `nymbus run` options from a file and the environment, with command-line flags winning.
///
/// The file is `<data-dir>/nymbus.conf` (or `--config PATH`): one `key = value` per line, `#`
/// comments, keys are the long option names of `nymbus run` without the dashes
/// (`nym-client = ws://127.0.0.1:1977`, `bootstrap = <address>` once per address,
/// `anonymous = true`). An unknown key or a malformed line is an error naming the file, line
/// and key: a typo must not silently leave a setting at its default. Environment variables are
/// `NYMBUS_` + the key in upper case with `_` for `-` (`NYMBUS_NYM_CLIENT`, `NYMBUS_METRICS`);
/// only known keys are read there, since the environment holds unrelated names too.
///
/// Precedence, per key: command line, then environment, then file, then the built-in default.
/// It works by adding the file's and the environment's settings to the command line before
/// ArgumentParser sees it, so every value is checked by the same validation as a flag.
enum RunConfiguration {
    enum Kind { case value, repeated, flag }

    /// Every `nymbus run` option a file or the environment may set (`ServiceCommandTests`
    /// checks this list against `nymbus run --help`).
    static let keys: [String: Kind] = [
        "nym-client": .value, "data-dir": .value, "bootstrap": .repeated, "bootstrap-file": .value,
        "anonymous": .flag, "outbound": .value, "inbound": .value, "ping-interval": .value, "peer-timeout": .value, "silence-probe": .value,
        "log-level": .value, "log-format": .value, "log-file": .value, "socket": .value, "max-payload": .value, "dissemination": .value,
        "metrics": .value, "metrics-public": .flag, "warn-no-peer-after": .value, "stop-timeout": .value,
    ]

    /// Why a configuration could not be used.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// The command line with the file's and the environment's settings added, and where each
    /// added key came from (`/path/nymbus.conf line 3`, `NYMBUS_INBOUND`), so an error about a
    /// value can name the place to fix it.
    struct Applied {
        var arguments: [String]
        var origins: [String: String]

        /// `message` (ArgumentParser's, starting `Error: --key …`) with the place that set `key`
        /// added, when a file or the environment set it; otherwise `message` unchanged.
        func locating(_ message: String) -> String {
            let body = message.hasPrefix("Error: ") ? message.dropFirst(7) : Substring(message)
            guard body.hasPrefix("--") else { return message }
            let key = String(body.dropFirst(2).prefix { $0.isLetter || $0.isNumber || $0 == "-" })
            guard let origin = origins[key] else { return message }
            var lines = message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines[0] += " (\(key) is set in \(origin))"
            return lines.joined(separator: "\n")
        }
    }

    /// `arguments` (after `run`) with the settings of the file and the environment added for
    /// every key the command line does not set.
    static func apply(
        to arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(Invalid) -> Applied {
        let given = Set(arguments.compactMap(optionName))
        let explicitFile = value(of: "config", in: arguments)
        let dataDirectory =
            value(of: "data-dir", in: arguments) ?? environment["NYMBUS_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? RunNodeOptions.defaultDataDirectory
        let path = explicitFile ?? (dataDirectory as NSString).appendingPathComponent("nymbus.conf")
        var settings: [(key: String, value: String, origin: String)] = []
        if FileManager.default.fileExists(atPath: path) {
            settings = try parse(try read(path), source: path)
        } else if explicitFile != nil {
            throw Invalid(description: "the configuration file \(path) does not exist")
        }
        // The environment replaces the file, key by key.
        for key in keys.keys.sorted() {
            let name = "NYMBUS_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
            guard let value = environment[name] else { continue }
            settings.removeAll { $0.key == key }
            settings.append((key, value, name))
        }
        var added: [String] = []
        var origins: [String: String] = [:]
        for (key, value, origin) in settings where !given.contains(key) && !(key == "anonymous" && given.contains("no-anonymous")) {
            origins[key] = origin
            switch keys[key] {
            case .flag?:
                guard let on = boolean(value) else {
                    throw Invalid(description: "\(key) must be true or false, not '\(value)'")
                }
                if on {
                    added.append("--\(key)")
                } else if key == "anonymous" {
                    added.append("--no-anonymous")
                }
            default:
                // One word, so a value that starts with `-` (`outbound = -2`) is not read as a flag.
                added.append("--\(key)=\(value)")
            }
        }
        return Applied(arguments: added + arguments, origins: origins)
    }

    /// Parses `key = value` lines; errors name the line and the key.
    static func parse(_ text: String, source: String) throws(Invalid) -> [(key: String, value: String, origin: String)] {
        var out: [(key: String, value: String, origin: String)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw Invalid(description: "\(source) line \(index + 1): expected key = value, got '\(trimmed)'")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard let kind = keys[key] else {
                throw Invalid(
                    description: "\(source) line \(index + 1): unknown key '\(key)'; known keys: "
                        + keys.keys.sorted().joined(separator: ", "))
            }
            if kind != .repeated, out.contains(where: { $0.key == key }) {
                throw Invalid(description: "\(source) line \(index + 1): '\(key)' is set twice")
            }
            out.append((key, value, "\(source) line \(index + 1)"))
        }
        return out
    }

    private static func read(_ path: String) throws(Invalid) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(description: "cannot read the configuration file \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Invalid(description: "the configuration file \(path) is not UTF-8 text")
        }
        return text
    }

    /// `name` of `--name` or `--name=value`.
    private static func optionName(_ argument: String) -> String? {
        guard argument.hasPrefix("--") else { return nil }
        return String(argument.dropFirst(2).prefix { $0 != "=" })
    }

    /// The value given to `--name` on the command line, if any.
    private static func value(of name: String, in arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--\(name)", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--\(name)=") { return String(argument.dropFirst(name.count + 3)) }
        }
        return nil
    }

    private static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }
}
