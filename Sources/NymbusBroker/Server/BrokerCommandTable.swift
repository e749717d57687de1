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
                ("id", 2), ("getname", 2), ("setname", 3), ("setinfo", 4), ("info", 2), ("list", -2), ("help", 2),
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
        BrokerCommandSpec(
            name: "xadd", arity: -5, flags: ["write", "denyoom", "fast"], categories: ["@write", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Appends a new message to a stream (and, on a node, to the topic)",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xlen", arity: 2, flags: ["readonly", "fast"], categories: ["@read", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Return the number of messages in a stream",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xrange", arity: -4, flags: ["readonly"], categories: ["@read", "@stream", "@slow"],
            allowedWhileSubscribed: false, summary: "Returns the messages from a stream within a range of IDs",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xrevrange", arity: -4, flags: ["readonly"], categories: ["@read", "@stream", "@slow"],
            allowedWhileSubscribed: false, summary: "Returns the messages from a stream within a range of IDs in reverse order",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xdel", arity: -3, flags: ["write", "fast"], categories: ["@write", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Returns the number of messages after removing them from a stream",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xtrim", arity: -4, flags: ["write"], categories: ["@write", "@stream", "@slow"],
            allowedWhileSubscribed: false, summary: "Deletes messages from the beginning of a stream",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xread", arity: -4, flags: ["readonly", "blocking"], categories: ["@read", "@stream", "@slow", "@blocking"],
            allowedWhileSubscribed: false, summary: "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xreadgroup", arity: -7, flags: ["write", "blocking"], categories: ["@write", "@stream", "@slow", "@blocking"],
            allowedWhileSubscribed: false, summary: "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xgroup", arity: -2, flags: [], categories: ["@slow"],
            allowedWhileSubscribed: false, summary: "A container for consumer groups commands",
            since: "5.0.0", group: "stream", subcommands: [("create", -5), ("destroy", 4), ("setid", -5), ("createconsumer", 5), ("delconsumer", 5), ("help", 2)]),
        BrokerCommandSpec(
            name: "xack", arity: -4, flags: ["write", "fast"], categories: ["@write", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xpending", arity: -3, flags: ["readonly"], categories: ["@read", "@stream", "@slow"],
            allowedWhileSubscribed: false, summary: "Returns the information and entries from a stream consumer group's pending entries list",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xclaim", arity: -6, flags: ["write", "fast"], categories: ["@write", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xautoclaim", arity: -6, flags: ["write", "fast"], categories: ["@write", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member",
            since: "6.2.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xinfo", arity: -2, flags: [], categories: ["@slow"],
            allowedWhileSubscribed: false, summary: "A container for stream introspection commands",
            since: "5.0.0", group: "stream", subcommands: [("stream", -3), ("groups", 3), ("consumers", 4), ("help", 2)]),
        BrokerCommandSpec(
            name: "type", arity: 2, flags: ["readonly", "fast"], categories: ["@keyspace", "@read", "@fast"],
            allowedWhileSubscribed: false, summary: "Determines the type of value stored at a key (only streams are keys here)",
            since: "1.0.0", group: "generic", subcommands: []),
        BrokerCommandSpec(
            name: "exists", arity: -2, flags: ["readonly", "fast"], categories: ["@keyspace", "@read", "@fast"],
            allowedWhileSubscribed: false, summary: "Determines whether one or more keys exist",
            since: "1.0.0", group: "generic", subcommands: []),
        BrokerCommandSpec(
            name: "del", arity: -2, flags: ["write"], categories: ["@keyspace", "@write", "@slow"],
            allowedWhileSubscribed: false, summary: "Deletes one or more keys",
            since: "1.0.0", group: "generic", subcommands: []),
        BrokerCommandSpec(
            name: "unlink", arity: -2, flags: ["write", "fast"], categories: ["@keyspace", "@write", "@fast"],
            allowedWhileSubscribed: false, summary: "Asynchronously deletes one or more keys",
            since: "4.0.0", group: "generic", subcommands: []),
    ]

    private static let byName: [String: BrokerCommandSpec] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The command called `lowercasedName`, or nil.
    static func lookup(_ lowercasedName: String) -> BrokerCommandSpec? { byName[lowercasedName] }
}
