/// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE and PUBSUB, with Redis's reply shapes.
extension BrokerState {
    func subscribe(_ arguments: [[UInt8]], _ client: BrokerClient) {
        for channel in arguments.dropFirst() {
            addChannel(channel, for: client)
            client.replyPubSub("subscribe", channel)
        }
    }

    func unsubscribe(_ arguments: [[UInt8]], _ client: BrokerClient) {
        if arguments.count == 1 {
            let all = client.channels.sorted { $0.value < $1.value }.map(\.key)
            if all.isEmpty {
                client.replyPubSub("unsubscribe", nil)
                return
            }
            for channel in all {
                removeChannel(channel, for: client)
                client.replyPubSub("unsubscribe", channel)
            }
            return
        }
        for channel in arguments.dropFirst() {
            removeChannel(channel, for: client)
            client.replyPubSub("unsubscribe", channel)
        }
    }

    func psubscribe(_ arguments: [[UInt8]], _ client: BrokerClient) {
        for pattern in arguments.dropFirst() {
            addPattern(pattern, for: client)
            client.replyPubSub("psubscribe", pattern)
        }
    }

    func punsubscribe(_ arguments: [[UInt8]], _ client: BrokerClient) {
        if arguments.count == 1 {
            let all = client.patterns.sorted { $0.value < $1.value }.map(\.key)
            if all.isEmpty {
                client.replyPubSub("punsubscribe", nil)
                return
            }
            for pattern in all {
                removePattern(pattern, for: client)
                client.replyPubSub("punsubscribe", pattern)
            }
            return
        }
        for pattern in arguments.dropFirst() {
            removePattern(pattern, for: client)
            client.replyPubSub("punsubscribe", pattern)
        }
    }

    /// SSUBSCRIBE: the count in each reply is the client's shard channels, as in Redis.
    func ssubscribe(_ arguments: [[UInt8]], _ client: BrokerClient) {
        for channel in arguments.dropFirst() {
            addShardChannel(channel, for: client)
            client.replyPubSub("ssubscribe", channel, count: client.shardChannels.count)
        }
    }

    func sunsubscribe(_ arguments: [[UInt8]], _ client: BrokerClient) {
        var names = Array(arguments.dropFirst())
        if names.isEmpty {
            names = client.shardChannels.sorted { $0.value < $1.value }.map(\.key)
            if names.isEmpty {
                client.replyPubSub("sunsubscribe", nil, count: 0)
                return
            }
        }
        for channel in names {
            removeShardChannel(channel, for: client)
            client.replyPubSub("sunsubscribe", channel, count: client.shardChannels.count)
        }
    }

    func pubsub(_ arguments: [[UInt8]], _ client: BrokerClient) {
        guard let sub = subcommand(arguments, client, container: "pubsub") else { return }
        switch sub {
        case "channels":
            let pattern = arguments.count > 2 ? arguments[2] : nil
            let names = channelSubscribers.keys
                .filter { pattern == nil || RedisGlob.matches(pattern: pattern!, string: $0) }
                .sorted { $0.lexicographicallyPrecedes($1) }
            client.reply(.array(names.map { .bulkString($0) }))
        case "numsub":
            var reply: [RESPValue] = []
            for channel in arguments.dropFirst(2) {
                reply.append(.bulkString(channel))
                reply.append(.integer(Int64(channelSubscribers[channel]?.count ?? 0)))
            }
            client.reply(.array(reply))
        case "numpat":
            client.reply(.integer(Int64(patternSubscribers.count)))
        case "shardchannels":
            let pattern = arguments.count > 2 ? arguments[2] : nil
            let names = shardSubscribers.keys
                .filter { pattern == nil || RedisGlob.matches(pattern: pattern!, string: $0) }
                .sorted { $0.lexicographicallyPrecedes($1) }
            client.reply(.array(names.map { .bulkString($0) }))
        case "shardnumsub":
            client.reply(
                .array(
                    arguments.dropFirst(2).flatMap { channel in
                        [RESPValue.bulkString(channel), .integer(Int64(shardSubscribers[channel]?.count ?? 0))]
                    }))
        default:
            client.reply(.array(Self.pubsubHelp.map { .simpleString($0) }))
        }
    }

    static let pubsubHelp = [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ]

    /// Looks up the subcommand of a container command (CLIENT, PUBSUB, COMMAND) and checks its
    /// arity; replies with Redis's error and returns nil when it is unknown or has the wrong
    /// number of arguments.
    func subcommand(_ arguments: [[UInt8]], _ client: BrokerClient, container: String) -> String? {
        guard let spec = BrokerCommandTable.lookup(container), arguments.count >= 2 else { return nil }
        let name = Self.lowercased(arguments[1])
        guard let entry = spec.subcommands.first(where: { $0.name == name }) else {
            client.reply(.err(Self.unknownSubcommandMessage(arguments[1], container)))
            return nil
        }
        guard BrokerCommandSpec.arityAccepts(entry.arity, arguments.count) else {
            client.reply(.err("wrong number of arguments for '\(container)|\(name)' command"))
            return nil
        }
        return name
    }
}
