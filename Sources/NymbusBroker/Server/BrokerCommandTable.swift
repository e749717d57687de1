/// One command the broker knows: what `COMMAND`, `COMMAND DOCS` and the arity check use.
struct BrokerCommandSpec: Sendable {
    /// Lower-case name, as Redis reports it.
    let name: String
    /// What runs it.
    let run: Handler
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

    /// Carries out the command once ``BrokerState/execute(_:from:)`` has checked its name, arity,
    /// the subscribed-mode rule and MULTI queueing: the table is the broker's only dispatch.
    typealias Handler = @Sendable (BrokerState, [[UInt8]], BrokerClient) -> CommandOutcome

    /// Whether its replies wait until the stream store wrote what it changed (stream and key commands).
    var holdsRepliesForStore: Bool { group == "stream" || group == "generic" }

    /// Whether `count` arguments (including the name) satisfy `arity`.
    static func arityAccepts(_ arity: Int, _ count: Int) -> Bool {
        arity >= 0 ? count == arity : count >= -arity
    }
}

/// The commands of the broker, as a table looked up by lower-case name.
enum BrokerCommandTable {
    private static let pubsubFlags = ["pubsub", "noscript", "loading", "stale"]

    /// A handler for a command that only queues replies.
    private static func reply(
        _ body: @escaping @Sendable (BrokerState, [[UInt8]], BrokerClient) -> Void
    ) -> BrokerCommandSpec.Handler {
        { state, arguments, client in
            body(state, arguments, client)
            return .done
        }
    }

    /// Every command, in `COMMAND` order.
    static let all: [BrokerCommandSpec] = [
        BrokerCommandSpec(
            name: "subscribe",
            run: reply { $0.subscribe($1, $2) }, arity: -2, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Listen for messages published to channels",
            since: "2.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "unsubscribe",
            run: reply { $0.unsubscribe($1, $2) }, arity: -1, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Stop listening for messages posted to channels",
            since: "2.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "psubscribe",
            run: reply { $0.psubscribe($1, $2) }, arity: -2, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Listen for messages published to channels matching glob patterns",
            since: "2.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "punsubscribe",
            run: reply { $0.punsubscribe($1, $2) }, arity: -1, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Stop listening for messages posted to channels matching patterns",
            since: "2.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "publish",
            run: { _, arguments, _ in .publish(channel: arguments[1], payload: arguments[2]) }, arity: 3, flags: ["pubsub", "loading", "stale", "fast"], categories: ["@pubsub", "@fast"],
            allowedWhileSubscribed: false, summary: "Post a message to a channel (and to the Nymbus overlay)",
            since: "2.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "ssubscribe",
            run: reply { $0.ssubscribe($1, $2) }, arity: -2, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Listen for messages published to shard channels",
            since: "7.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "sunsubscribe",
            run: reply { $0.sunsubscribe($1, $2) }, arity: -1, flags: pubsubFlags, categories: ["@pubsub", "@slow"],
            allowedWhileSubscribed: true, summary: "Stop listening for messages posted to shard channels",
            since: "7.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "spublish",
            run: { _, arguments, client in
                client.shardPublishPending = true
                return .publish(channel: arguments[1], payload: arguments[2])
            }, arity: 3, flags: ["pubsub", "loading", "stale", "fast"], categories: ["@pubsub", "@fast"],
            allowedWhileSubscribed: false, summary: "Post a message to a shard channel (and to the Nymbus overlay)",
            since: "7.0.0", group: "pubsub", subcommands: []),
        BrokerCommandSpec(
            name: "pubsub",
            run: reply { $0.pubsub($1, $2) }, arity: -2, flags: [], categories: ["@slow"], allowedWhileSubscribed: false,
            summary: "A container for Pub/Sub introspection commands", since: "2.8.0", group: "pubsub",
            subcommands: [
                ("channels", -2), ("numsub", -2), ("numpat", 2), ("shardchannels", -2), ("shardnumsub", -2),
                ("help", 2),
            ]),
        BrokerCommandSpec(
            name: "ping",
            run: reply { $0.ping($1, $2) }, arity: -1, flags: ["fast"], categories: ["@fast", "@connection"],
            allowedWhileSubscribed: true, summary: "Ping the server", since: "1.0.0", group: "connection",
            subcommands: []),
        BrokerCommandSpec(
            name: "echo",
            run: reply { $2.reply(.bulkString($1[1])) }, arity: 2, flags: ["loading", "stale", "fast"], categories: ["@fast", "@connection"],
            allowedWhileSubscribed: false, summary: "Echo the given string", since: "1.0.0", group: "connection",
            subcommands: []),
        BrokerCommandSpec(
            name: "quit",
            run: { _, _, client in
                client.reply(.simpleString("OK"))
                return .close
            }, arity: -1, flags: ["allow_busy", "noscript", "loading", "stale", "fast", "no_auth"],
            categories: ["@fast", "@connection"], allowedWhileSubscribed: true, summary: "Close the connection",
            since: "1.0.0", group: "connection", subcommands: []),
        BrokerCommandSpec(
            name: "reset",
            run: reply { state, _, client in state.reset(client) }, arity: 1, flags: ["noscript", "loading", "stale", "fast", "no_auth"],
            categories: ["@fast", "@connection"], allowedWhileSubscribed: true, summary: "Reset the connection",
            since: "6.2.0", group: "connection", subcommands: []),
        BrokerCommandSpec(
            name: "hello",
            run: reply { $0.hello($1, $2) }, arity: -1, flags: ["noscript", "loading", "stale", "fast", "no_auth"],
            categories: ["@fast", "@connection"], allowedWhileSubscribed: false,
            summary: "Handshake with the server (protocol version, client name)", since: "6.0.0",
            group: "connection", subcommands: []),
        BrokerCommandSpec(
            name: "auth",
            run: reply { $0.auth($1, $2) }, arity: -2, flags: ["noscript", "loading", "stale", "fast", "no_auth"],
            categories: ["@fast", "@connection"], allowedWhileSubscribed: false,
            summary: "Authenticate (no passwords: the socket's permissions are the access control)",
            since: "1.0.0", group: "connection", subcommands: []),
        BrokerCommandSpec(
            name: "multi",
            run: reply { state, _, client in state.multi(client) }, arity: 1, flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
            categories: ["@fast", "@transaction"], allowedWhileSubscribed: false,
            summary: "Start a transaction (commands are queued until EXEC)", since: "1.2.0", group: "transactions",
            subcommands: []),
        BrokerCommandSpec(
            name: "exec",
            run: { state, _, client in state.exec(client) }, arity: 1, flags: ["noscript", "loading", "stale", "skip_slowlog"],
            categories: ["@slow", "@transaction"], allowedWhileSubscribed: false,
            summary: "Execute all commands issued after MULTI", since: "1.2.0", group: "transactions",
            subcommands: []),
        BrokerCommandSpec(
            name: "discard",
            run: reply { state, _, client in state.discard(client) }, arity: 1, flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
            categories: ["@fast", "@transaction"], allowedWhileSubscribed: false,
            summary: "Discard all commands issued after MULTI", since: "2.0.0", group: "transactions",
            subcommands: []),
        BrokerCommandSpec(
            name: "client",
            run: reply { $0.clientCommand($1, $2) }, arity: -2, flags: [], categories: ["@slow"], allowedWhileSubscribed: false,
            summary: "A container for client connection commands", since: "2.4.0", group: "connection",
            subcommands: [
                ("id", 2), ("getname", 2), ("setname", 3), ("setinfo", 4), ("info", 2), ("list", -2), ("reply", 3),
                ("help", 2),
            ]),
        BrokerCommandSpec(
            name: "select",
            run: reply { $0.select($1, $2) }, arity: 2, flags: ["loading", "stale", "fast"], categories: ["@fast", "@connection"],
            allowedWhileSubscribed: false, summary: "Change the selected database (only 0 exists)", since: "1.0.0",
            group: "connection", subcommands: []),
        BrokerCommandSpec(
            name: "command",
            run: reply { $0.command($1, $2) }, arity: -1, flags: ["loading", "stale"], categories: ["@slow", "@connection"],
            allowedWhileSubscribed: false, summary: "Get array of command details", since: "2.8.13",
            group: "server",
            subcommands: [("count", 2), ("info", -2), ("docs", -2), ("list", -2), ("help", 2)]),
        BrokerCommandSpec(
            name: "info",
            run: reply { $0.info($1, $2) }, arity: -1, flags: ["loading", "stale"], categories: ["@slow", "@dangerous"],
            allowedWhileSubscribed: false, summary: "Get information and statistics about the broker",
            since: "1.0.0", group: "server", subcommands: []),
        BrokerCommandSpec(
            name: "xadd",
            run: reply { $0.xadd($1, $2) }, arity: -5, flags: ["write", "denyoom", "fast"], categories: ["@write", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Appends a new message to a stream (and, on a node, to the topic)",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xlen",
            run: reply { $0.xlen($1, $2) }, arity: 2, flags: ["readonly", "fast"], categories: ["@read", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Return the number of messages in a stream",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xrange",
            run: reply { $0.xrange($1, $2, reverse: false) }, arity: -4, flags: ["readonly"], categories: ["@read", "@stream", "@slow"],
            allowedWhileSubscribed: false, summary: "Returns the messages from a stream within a range of IDs",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xrevrange",
            run: reply { $0.xrange($1, $2, reverse: true) }, arity: -4, flags: ["readonly"], categories: ["@read", "@stream", "@slow"],
            allowedWhileSubscribed: false, summary: "Returns the messages from a stream within a range of IDs in reverse order",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xdel",
            run: reply { $0.xdel($1, $2) }, arity: -3, flags: ["write", "fast"], categories: ["@write", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Returns the number of messages after removing them from a stream",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xtrim",
            run: reply { $0.xtrim($1, $2) }, arity: -4, flags: ["write"], categories: ["@write", "@stream", "@slow"],
            allowedWhileSubscribed: false, summary: "Deletes messages from the beginning of a stream",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xread",
            run: { $0.xread($1, $2, group: false) }, arity: -4, flags: ["readonly", "blocking"], categories: ["@read", "@stream", "@slow", "@blocking"],
            allowedWhileSubscribed: false, summary: "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xreadgroup",
            run: { $0.xread($1, $2, group: true) }, arity: -7, flags: ["write", "blocking"], categories: ["@write", "@stream", "@slow", "@blocking"],
            allowedWhileSubscribed: false, summary: "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xgroup",
            run: reply { $0.xgroup($1, $2) }, arity: -2, flags: [], categories: ["@slow"],
            allowedWhileSubscribed: false, summary: "A container for consumer groups commands",
            since: "5.0.0", group: "stream", subcommands: [("create", -5), ("destroy", 4), ("setid", -5), ("createconsumer", 5), ("delconsumer", 5), ("help", 2)]),
        BrokerCommandSpec(
            name: "xack",
            run: reply { $0.xack($1, $2) }, arity: -4, flags: ["write", "fast"], categories: ["@write", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xpending",
            run: reply { $0.xpending($1, $2) }, arity: -3, flags: ["readonly"], categories: ["@read", "@stream", "@slow"],
            allowedWhileSubscribed: false, summary: "Returns the information and entries from a stream consumer group's pending entries list",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xclaim",
            run: reply { $0.xclaim($1, $2) }, arity: -6, flags: ["write", "fast"], categories: ["@write", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member",
            since: "5.0.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xautoclaim",
            run: reply { $0.xautoclaim($1, $2) }, arity: -6, flags: ["write", "fast"], categories: ["@write", "@stream", "@fast"],
            allowedWhileSubscribed: false, summary: "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member",
            since: "6.2.0", group: "stream", subcommands: []),
        BrokerCommandSpec(
            name: "xinfo",
            run: reply { $0.xinfo($1, $2) }, arity: -2, flags: [], categories: ["@slow"],
            allowedWhileSubscribed: false, summary: "A container for stream introspection commands",
            since: "5.0.0", group: "stream", subcommands: [("stream", -3), ("groups", 3), ("consumers", 4), ("help", 2)]),
        BrokerCommandSpec(
            name: "type",
            run: reply { $0.type($1, $2) }, arity: 2, flags: ["readonly", "fast"], categories: ["@keyspace", "@read", "@fast"],
            allowedWhileSubscribed: false, summary: "Determines the type of value stored at a key (only streams are keys here)",
            since: "1.0.0", group: "generic", subcommands: []),
        BrokerCommandSpec(
            name: "exists",
            run: reply { $0.exists($1, $2) }, arity: -2, flags: ["readonly", "fast"], categories: ["@keyspace", "@read", "@fast"],
            allowedWhileSubscribed: false, summary: "Determines whether one or more keys exist",
            since: "1.0.0", group: "generic", subcommands: []),
        BrokerCommandSpec(
            name: "del",
            run: reply { $0.del($1, $2) }, arity: -2, flags: ["write"], categories: ["@keyspace", "@write", "@slow"],
            allowedWhileSubscribed: false, summary: "Deletes one or more keys",
            since: "1.0.0", group: "generic", subcommands: []),
        BrokerCommandSpec(
            name: "unlink",
            run: reply { $0.del($1, $2) }, arity: -2, flags: ["write", "fast"], categories: ["@keyspace", "@write", "@fast"],
            allowedWhileSubscribed: false, summary: "Asynchronously deletes one or more keys",
            since: "4.0.0", group: "generic", subcommands: []),
    ]

    private static let byName: [String: BrokerCommandSpec] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The command called `lowercasedName`, or nil.
    static func lookup(_ lowercasedName: String) -> BrokerCommandSpec? { byName[lowercasedName] }
}
