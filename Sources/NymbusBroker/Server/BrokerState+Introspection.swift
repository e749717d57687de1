#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// COMMAND and INFO: enough for redis-cli (which asks `COMMAND DOCS` in interactive mode) and
/// redis-py (`info()`), with the broker's own counters.
extension BrokerState {
    func command(_ arguments: [[UInt8]], _ client: BrokerClient) {
        if arguments.count == 1 {
            client.reply(.array(BrokerCommandTable.all.map(Self.commandInfo)))
            return
        }
        guard let sub = subcommand(arguments, client, container: "command") else { return }
        switch sub {
        case "count":
            client.reply(.integer(Int64(BrokerCommandTable.all.count)))
        case "info":
            let names = arguments.dropFirst(2)
            client.reply(
                .array(
                    names.map { name in BrokerCommandTable.lookup(Self.lowercased(name)).map(Self.commandInfo) ?? .null
                    }))
        case "docs":
            let specs =
                arguments.count == 2
                ? BrokerCommandTable.all
                : arguments.dropFirst(2).compactMap { BrokerCommandTable.lookup(Self.lowercased($0)) }
            client.reply(.map(specs.map { RESPMapEntry(key: .bulk($0.name), value: Self.commandDocs($0)) }))
        case "list":
            client.reply(.array(BrokerCommandTable.all.map { .bulk($0.name) }))
        default:
            client.reply(
                .array(
                    [
                        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                        "(no subcommand)", "    Return details about all commands.",
                        "COUNT", "    Return the total number of commands.",
                        "DOCS [<command-name> ...]", "    Return documentation details about commands.",
                        "INFO [<command-name> ...]", "    Return details about the specified commands.",
                        "LIST", "    Return a list of all commands.",
                        "HELP", "    Prints this help.",
                    ].map { .simpleString($0) }))
        }
    }

    /// A Redis 7 `COMMAND INFO` entry: name, arity, flags, first/last key, step, ACL categories,
    /// tips, key specs, subcommands.
    static func commandInfo(_ spec: BrokerCommandSpec) -> RESPValue {
        .array([
            .bulk(spec.name), .integer(Int64(spec.arity)), .set(spec.flags.map { .simpleString($0) }),
            .integer(0), .integer(0), .integer(0), .set(spec.categories.map { .simpleString($0) }),
            .array([]), .array([]),
            .array(
                spec.subcommands.map { entry in
                    .array([
                        .bulk("\(spec.name)|\(entry.name)"), .integer(Int64(entry.arity)), .set([]),
                        .integer(0), .integer(0), .integer(0), .set(spec.categories.map { .simpleString($0) }),
                        .array([]), .array([]), .array([]),
                    ])
                }),
        ])
    }

    static func commandDocs(_ spec: BrokerCommandSpec) -> RESPValue {
        .map([
            "summary": .bulk(spec.summary),
            "since": .bulk(spec.since),
            "group": .bulk(spec.group),
            "complexity": .bulk("O(1)"),
        ])
    }

    /// INFO [section ...]: `server`, `clients`, `stats`, `keyspace`; all of them by default.
    func info(_ arguments: [[UInt8]], _ client: BrokerClient) {
        let requested = Set(arguments.dropFirst().map(Self.lowercased))
        let everything = requested.isEmpty || !requested.isDisjoint(with: ["all", "default", "everything"])
        let current = currentStats()
        let uptime = (ContinuousClock.now - startedAt).components.seconds
        let sections: [(String, [(String, String)])] = [
            (
                "server",
                [
                    ("redis_version", Self.redisCompatibilityVersion),
                    ("nymbus_version", Self.nymbusVersion),
                    ("redis_mode", "standalone"),
                    ("process_id", "\(getpid())"),
                    ("uptime_in_seconds", "\(uptime)"),
                    ("unix_socket", configuration.socketPath),
                ]
            ),
            (
                "clients",
                [
                    ("connected_clients", "\(current.connectedClients)"),
                    ("maxclients", "\(configuration.maxClients)"),
                    ("blocked_clients", "\(blocked.count)"),
                    ("client_output_buffer_limit_bytes", "\(configuration.maxOutputBytes)"),
                ]
            ),
            (
                "stats",
                [
                    ("total_connections_received", "\(current.totalConnections)"),
                    ("rejected_connections", "\(current.rejectedConnections)"),
                    ("total_commands_processed", "\(current.commandsProcessed)"),
                    ("pubsub_channels", "\(current.channels)"),
                    ("pubsub_patterns", "\(current.patterns)"),
                    ("pubsub_subscriptions", "\(current.subscriptions)"),
                    ("messages_published", "\(current.messagesPublished)"),
                    ("publishes_rejected", "\(current.publishesRejected)"),
                    ("messages_from_network", "\(current.messagesFromNetwork)"),
                    ("messages_delivered", "\(current.messagesDelivered)"),
                    ("slow_client_disconnects", "\(current.slowClientDisconnects)"),
                    ("stream_appends_failed", "\(current.streamAppendsFailed)"),
                    ("protocol_errors", "\(current.protocolErrors)"),
                ]
            ),
            ("keyspace", []),
        ]
        var text = ""
        for (name, fields) in sections where everything || requested.contains(name) {
            if !text.isEmpty { text += "\r\n" }
            text += "# \(name.prefix(1).uppercased() + name.dropFirst())\r\n"
            for (key, value) in fields { text += "\(key):\(value)\r\n" }
        }
        client.reply(.bulk(text))
    }
}
