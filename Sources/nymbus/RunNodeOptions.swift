import ArgumentParser
import FoundationEssentials
import NymbusCrypto
import NymbusNode

/// The node's command-line options, for `nymbus run` (and anything else that starts a node).
///
/// `--nym-client URL`, `--data-dir`, `--bootstrap ADDR` (repeatable), `--bootstrap-file`,
/// `--anonymous`, `--outbound N`, `--inbound N`, `--ping-interval`, `--peer-timeout`.
/// `nodeConfiguration()` turns them into a checked `NodeConfiguration`.
struct RunNodeOptions: ParsableArguments {
    @Option(name: .customLong("nym-client"), help: "The nym-client WebSocket URL.")
    var nymClient: String = "ws://127.0.0.1:1977"

    @Option(
        name: .customLong("data-dir"),
        help: "Directory for the address book and keys (default: $NYMBUS_HOME or ~/.nymbus).")
    var dataDirectory: String?

    @Option(
        name: .customLong("bootstrap"),
        help: ArgumentHelp("A peer's Nym address to dial first (repeatable).", valueName: "address"))
    var bootstrap: [String] = []

    @Option(
        name: .customLong("bootstrap-file"),
        help: "A file of Nym addresses, one per line, # comments (default: <data-dir>/bootstrap if present).")
    var bootstrapFile: String?

    @Flag(
        name: .customLong("anonymous"), inversion: .prefixedNo,
        help: "Hidden mode: give out no address, dial with SURBs, accept no inbound links.")
    var anonymous = false

    @Option(name: .customLong("outbound"), help: "Outbound links to keep open.")
    var outbound: Int = 8

    @Option(name: .customLong("inbound"), help: "Most inbound links to accept.")
    var inbound: Int = 64

    @Option(name: .customLong("ping-interval"), help: "Time between pings, e.g. 120, 2m, 500ms.")
    var pingInterval: String = "2m"

    @Option(name: .customLong("peer-timeout"), help: "Drop a peer silent this long, e.g. 20m.")
    var peerTimeout: String = "20m"

    @Option(
        name: .customLong("silence-probe"),
        help: "Ping a link nothing arrived on for this long; it is dropped when the ping goes unanswered (e.g. 30s).")
    var silenceProbe: String = "30s"

    func validate() throws {
        guard nymClient.hasPrefix("ws://") else {
            throw ValidationError("--nym-client must be a ws:// URL (nym-client serves plain WebSocket on loopback)")
        }
        guard let ping = DurationText.parse(pingInterval), ping > .zero else {
            throw ValidationError("--ping-interval: \(pingInterval) is not a duration like 120, 2m or 500ms")
        }
        guard let timeout = DurationText.parse(peerTimeout), timeout > ping else {
            throw ValidationError("--peer-timeout must be a duration longer than --ping-interval")
        }
        guard let probe = DurationText.parse(silenceProbe), probe > .zero else {
            throw ValidationError("--silence-probe: \(silenceProbe) is not a duration like 30, 30s or 500ms")
        }
        for address in bootstrap {
            do { _ = try Recipient(string: address) } catch {
                throw ValidationError("--bootstrap \(address.prefix(20))…: \(error.reason)")
            }
        }
        // The ranges are the configuration's own (`NodeConfiguration.validate()`), said in flags.
        var configuration = NodeConfiguration(mode: anonymous ? .hidden : .visible)
        applyFlags(to: &configuration)
        do { try configuration.validate() } catch { throw ValidationError(Self.flagged(error.reason)) }
    }

    /// The `NodeConfiguration` fields these options set, and their flags.
    static let flags: KeyValuePairs<String, String> = [
        "outboundTarget": "--outbound", "inboundMax": "--inbound", "pingInterval": "--ping-interval",
        "peerTimeout": "--peer-timeout", "silenceProbe": "--silence-probe",
    ]

    /// A `NodeConfiguration` check's reason with the field named by its flag (`--inbound is 5000;
    /// allowed: 0...1024`); a field no flag sets keeps its name.
    static func flagged(_ reason: String) -> String {
        for (field, flag) in flags {
            if let renamed = FieldCheck<NodeError>.renaming("NodeConfiguration." + field, in: reason, to: flag) {
                return renamed
            }
        }
        return reason
    }

    /// Sets the fields the flags give (links and timers).
    private func applyFlags(to configuration: inout NodeConfiguration) {
        configuration.outboundTarget = outbound
        configuration.inboundMax = inbound
        configuration.pingInterval = DurationText.parse(pingInterval) ?? configuration.pingInterval
        configuration.peerTimeout = DurationText.parse(peerTimeout) ?? configuration.peerTimeout
        configuration.silenceProbe = DurationText.parse(silenceProbe) ?? configuration.silenceProbe
    }

    /// The data directory to use: the option, else `$NYMBUS_HOME`, else `~/.nymbus`.
    var resolvedDataDirectory: String { dataDirectory ?? RunNodeOptions.defaultDataDirectory }

    /// `$NYMBUS_HOME`, else `~/.nymbus`: where a node keeps its data unless told otherwise.
    static var defaultDataDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let home = env["NYMBUS_HOME"], !home.isEmpty { return home }
        return (env["HOME"] ?? ".") + "/.nymbus"
    }

    /// The node configuration these options describe (bootstrap addresses from the flags and
    /// the bootstrap file, in that order, without duplicates).
    func nodeConfiguration() throws -> NodeConfiguration {
        var configuration = NodeConfiguration(mode: anonymous ? .hidden : .visible)
        let directory = resolvedDataDirectory
        configuration.dataDirectory = directory
        var addresses = try bootstrap.map { try Recipient(string: $0) }
        let defaultFile = directory + "/bootstrap"
        if let file = bootstrapFile {
            addresses += try BootstrapList.load(path: file)
        } else if FileManager.default.fileExists(atPath: defaultFile) {
            addresses += try BootstrapList.load(path: defaultFile)
        }
        var seen: Set<Recipient> = []
        configuration.bootstrap = addresses.filter { seen.insert($0).inserted }
        applyFlags(to: &configuration)
        return configuration
    }
}
