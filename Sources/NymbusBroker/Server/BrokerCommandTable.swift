/// One command the broker knows: what `COMMAND`, `COMMAND DOCS` and the arity check use.
struct BrokerCommandSpec: Sendable {
    /// Lower-case name, as Redis reports it.
    let name: String
    /// Redis arity: positive = exact argument count including the name; negative = at least -n.
    let arity: Int
    /// Redis command flags, reported by `COMMAND INFO`.
    let flags: [String]
    /// Redis ACL categories, reported by `COMMAND INFO`.
    let categories: [String]
    /// Whether a RESP2 client in subscribed mode may run it (Redis's pub/sub context rule).
    let allowedWhileSubscribed: Bool
    /// One line for `COMMAND DOCS`.
    let summary: String
    /// Redis version that introduced it, for `COMMAND DOCS`.
    let since: String
    /// Redis command group, for `COMMAND DOCS`.
    let group: String
    /// Subcommands with their arities (`client|setname` is 3), empty if none.
    let subcommands: [(name: String, arity: Int)]

    /// Whether `count` arguments (including the name) satisfy `arity`.
    static func arityAccepts(_ arity: Int, _ count: Int) -> Bool {
        arity >= 0 ? count == arity : count >= -arity
    }
}

/// The commands of the broker, as a table looked up by lower-case name.
enum BrokerCommandTable {
    private static let pubsubFlags = ["pubsub", "noscript", "loading", "stale"]

    /// Every command, in `COMMAND` order.
    static let all: [BrokerCommandSpec] = [
        BrokerCommandSpec(
            name: "subscribe", arity: -2, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Listen for messages published to channels",
            since: "2.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "unsubscribe", arity: -1, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Stop listening for messages posted to channels",
            since: "2.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "psubscribe", arity: -2, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Listen for messages published to channels matching glob patterns",
            since: "2.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "punsubscribe", arity: -1, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Stop listening for messages posted to channels matching patterns",
            since: "2.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "publish", arity: 3, flags: ["pubsub", "loading", "stale", "fast"], categories: ["@pubsub", "@fast"],
            allowedWhileSubscribed: false, summary: "Post a message to a channel (and to the Nymbus overlay)",
            since: "2.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "ssubscribe", arity: -2, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Listen for messages published to shard channels",
            since: "7.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "sunsubscribe", arity: -1, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Stop listening for messages posted to shard channels",
            since: "7.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "spublish", arity: 3, flags: ["pubsub", "loading", "stale", "fast"], categories: ["@pubsub", "@fast"],
            allowedWhileSubscribed: false, summary: "Post a message to a shard channel (and to the Nymbus overlay)",
            since: "7.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "pubsub", arity: -2, flags: [], categories: ["@slow"], allowedWhileSubscribed: false,
            summary: "A container for Pub/Sub introspection commands", since: "2.8.0", group: "pubsub",
            subcommands: [
                ("channels", -2), ("numsub", -2), ("numpat", 2), ("shardchannels", -2), ("shardnumsub", -2),
                ("help", 2),
            ]),
        BrokerCommandSpec(
            name: "ping", arity: -1, flags: ["fast"], categories: ["@fast", "@connection"],
            allowedWhileSubscribed: true, summary: "Ping the server", since: "1.0.0", group: "connection",
            subcommands: []),
        BrokerCommandSpec(
            name: "echo", arity: 2, flags: ["loading", "stale", "fast"], categories: ["@fast", "@connection"],
            allowedWhileSubscribed: false, summary: "Echo the given string", since: "1.0.0", group: "connection",
            subcommands: []),
        BrokerCommandSpec(
            name: "quit", arity: -1, flags: ["allow_busy", "noscript", "loading", "stale", "fast", "no_auth"],
            categories: ["@fast", "@connection"], allowedWhileSubscribed: true, summary: "Close the connection",
            since: "1.0.0", group: "connection", subcommands: []),
        BrokerCommandSpec(
            name: "reset", arity: 1, flags: ["noscript", "loading", "stale", "fast", "no_auth"],
            categories: ["@fast", "@connection"], allowedWhileSubscribed: true, summary: "Reset the connection",
            since: "6.2.0", group: "connection", subcommands: []),
        BrokerCommandSpec(
            name: "hello", arity: -1, flags: ["noscript", "loading", "stale", "fast", "no_auth"],
            categories: ["@fast", "@connection"], allowedWhileSubscribed: false,
            summary: "Handshake with the server (protocol version, client name)", since: "6.0.0",
            group: "connection", subcommands: []),
        BrokerCommandSpec(
            name: "auth", arity: -2, flags: ["noscript", "loading", "stale", "fast", "no_auth"],
            categories: ["@fast", "@connection"], allowedWhileSubscribed: false,
            summary: "Authenticate (no passwords: the socket's permissions are the access control)",
            since: "1.0.0", group: "connection", subcommands: []),
        BrokerCommandSpec(
            name: "multi", arity: 1, flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
            categories: ["@fast", "@transaction"], allowedWhileSubscribed: false,
            summary: "Start a transaction (commands are queued until EXEC)", since: "1.2.0", group: "transactions",
            subcommands: []),
        BrokerCommandSpec(
            name: "exec", arity: 1, flags: ["noscript", "loading", "stale", "skip_slowlog"],
            categories: ["@slow", "@transaction"], allowedWhileSubscribed: false,
            summary: "Execute all commands issued after MULTI", since: "1.2.0", group: "transactions",
            subcommands: []),
        BrokerCommandSpec(
            name: "discard", arity: 1, flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
            categories: ["@fast", "@transaction"], allowedWhileSubscribed: false,
            summary: "Discard all commands issued after MULTI", since: "2.0.0", group: "transactions",
            subcommands: []),
        BrokerCommandSpec(
            name: "client", arity: -2, flags: [], categories: ["@slow"], allowedWhileSubscribed: false,
            summary: "A container for client connection commands", since: "2.4.0", group: "connection",
            subcommands: [
                ("id", 2), ("getname", 2), ("setname", 3), ("setinfo", 4), ("info", 2), ("list", -2), ("reply", 3),
                ("help", 2),
            ]),
        BrokerCommandSpec(
            name: "select", arity: 2, flags: ["loading", "stale", "fast"], categories: ["@fast", "@connection"],
            allowedWhileSubscribed: false, summary: "Change the selected database (only 0 exists)", since: "1.0.0",
            group: "connection", subcommands: []),
        BrokerCommandSpec(
            name: "command", arity: -1, flags: ["loading", "stale"], categories: ["@slow", "@connection"],
            allowedWhileSubscribed: false, summary: "Get array of command details", since: "2.8.13",
            group: "server",
            subcommands: [("count", 2), ("info", -2), ("docs", -2), ("list", -2), ("help", 2)]),
        BrokerCommandSpec(
            name: "info", arity: -1, flags: ["loading", "stale"], categories: ["@slow", "@dangerous"],
            allowedWhileSubscribed: false, summary: "Get information and statistics about the broker",
            since: "1.0.0", group: "server", subcommands: []),
    ]

    private static let byName: [String: BrokerCommandSpec] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The command called `lowercasedName`, or nil.
    static func lookup(_ lowercasedName: String) -> BrokerCommandSpec? { byName[lowercasedName] }
}
