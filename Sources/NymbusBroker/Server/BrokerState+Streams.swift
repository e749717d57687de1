import NymbusCrypto
import NymbusPubSub

/// The stream commands (XADD, XREAD, XREADGROUP, XACK, ...) and the key commands a stream
/// needs (TYPE, EXISTS, DEL), with Redis 7.0's argument rules, error texts and reply shapes.
extension BrokerState {
    static let invalidIDMessage = "Invalid stream ID specified as stream command argument"
    static let notIntegerMessage = "value is not an integer or out of range"

    /// XLEN.
    func xlen(_ arguments: [[UInt8]], _ client: BrokerClient) {
        client.reply(.integer(Int64(streams.streams[arguments[1]]?.length ?? 0)))
    }

    /// TYPE: only streams are keys here.
    func type(_ arguments: [[UInt8]], _ client: BrokerClient) {
        client.reply(.simpleString(streams.streams[arguments[1]] == nil ? "none" : "stream"))
    }

    /// EXISTS: how many of the keys are streams (a key named twice counts twice, as in Redis).
    func exists(_ arguments: [[UInt8]], _ client: BrokerClient) {
        client.reply(.integer(Int64(arguments.dropFirst().filter { streams.streams[$0] != nil }.count)))
    }

    /// DEL and UNLINK.
    func del(_ arguments: [[UInt8]], _ client: BrokerClient) {
        var deleted = 0
        for key in arguments.dropFirst() where streams.streams[key] != nil {
            streams.remove(key)
            deleted += 1
        }
        client.reply(.integer(Int64(deleted)))
    }

    // MARK: Helpers

    /// A null array: `*-1` for RESP2, `_` for RESP3 (Redis's `addReplyNullArray`).
    static func nullArray(_ client: BrokerClient) -> RESPValue {
        client.protocolVersion == .resp3 ? .null : .array(nil)
    }

    static func entryReply(_ entry: StreamEntry) -> RESPValue {
        .array([.bulkString(entry.id.bytes), .array(entry.fields.map { .bulkString($0) })])
    }

    /// An argument as Redis prints it with `%s` (up to the first NUL).
    static func cString(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private func strictID(_ bytes: [UInt8], _ client: BrokerClient) -> StreamID? {
        guard let parsed = StreamID.parse(bytes, strict: true) else {
            client.reply(.err(Self.invalidIDMessage))
            return nil
        }
        return parsed.id
    }

    private func integer(_ bytes: [UInt8], _ client: BrokerClient, _ message: String = BrokerState.notIntegerMessage)
        -> Int64?
    {
        guard let value = Self.integer(bytes) else {
            client.reply(.err(message))
            return nil
        }
        return value
    }

    /// A range bound: `-`, `+`, an id, an `ms` (sequence filled in) or `(id` (exclusive).
    private func intervalID(_ bytes: [UInt8], missingSeq: UInt64, _ client: BrokerClient) -> (StreamID, Bool)? {
        let exclusive = bytes.count > 1 && bytes[0] == UInt8(ascii: "(")
        let parsed =
            exclusive
            ? StreamID.parse(Array(bytes.dropFirst()), missingSeq: missingSeq, strict: true)
            : StreamID.parse(bytes, missingSeq: missingSeq)
        guard let parsed else {
            client.reply(.err(Self.invalidIDMessage))
            return nil
        }
        return (parsed.id, exclusive)
    }

    private func nowMillis() -> Int64 { clock() }

    // MARK: XADD / XTRIM

    /// How an XADD entry travels: an entry that is just `message <value>` as a raw-bytes object
    /// (exactly what PUBLISH sends), any other as a stream entry object (spec/pubsub.md §5.2).
    static func outboxPayloadBytes(_ fields: [[UInt8]]) -> Int {
        if fields.count == 2 && fields[0] == messageField { return fields[1].count }
        return 2 + fields.reduce(0) { $0 + 4 + $1.count }
    }

    static func outboxItem(channel: [UInt8], fields: [[UInt8]]) -> OutboxItem {
        if fields.count == 2 && fields[0] == messageField {
            return OutboxItem(channel: channel, objectType: ObjectType.rawBytes, payload: fields[1])
        }
        return OutboxItem(channel: channel, objectType: ObjectType.streamEntry, payload: StreamEntryPayload.encode(fields))
    }

    /// The client's publisher tag for XADD entries of `channel`: random, made at its first XADD
    /// there. Past ``BrokerClient/maxOutboxTags`` channels one is forgotten (its next XADD starts
    /// a new tag, which receivers take as a new publisher).
    func outboxTag(_ channel: [UInt8], _ client: BrokerClient) -> UInt64 {
        if let tag = client.outboxTags[channel] { return tag }
        if client.outboxTags.count >= BrokerClient.maxOutboxTags, let (old, tag) = client.outboxTags.first {
            client.outboxTags[old] = nil
            streams.forgetOutboxTag(tag)
        }
        let tag = SecureRandom.bytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        client.outboxTags[channel] = tag
        return tag
    }

    fileprivate struct TrimArguments {
        var strategy: RedisStream.TrimStrategy?
        var approximate = false
        var limit = 0
        var noMakeStream = false
        var id: StreamID?
        var seqGiven = true
    }

    /// Redis's `streamParseAddOrTrimArgsOrReply`: the index of the id (XADD) or past the options.
    private func parseTrimArguments(_ arguments: [[UInt8]], xadd: Bool, _ client: BrokerClient) -> (Int, TrimArguments)? {
        var parsed = TrimArguments()
        var limitGiven = false
        var limit: Int64 = 0
        var index = 2
        while index < arguments.count {
            let moreArguments = arguments.count - 1 - index
            let option = arguments[index]
            let lower = Self.lowercased(option)
            if xadd && option == [UInt8(ascii: "*")] {
                break
            } else if (lower == "maxlen" || lower == "minid") && moreArguments > 0 {
                if parsed.strategy != nil {
                    client.reply(.err("syntax error, MAXLEN and MINID options at the same time are not compatible"))
                    return nil
                }
                parsed.approximate = false
                let next = arguments[index + 1]
                if moreArguments >= 2 && next == [UInt8(ascii: "~")] {
                    parsed.approximate = true
                    index += 1
                } else if moreArguments >= 2 && next == [UInt8(ascii: "=")] {
                    index += 1
                }
                if lower == "maxlen" {
                    guard let maxLength = integer(arguments[index + 1], client) else { return nil }
                    if maxLength < 0 {
                        client.reply(.err("The MAXLEN argument must be >= 0."))
                        return nil
                    }
                    parsed.strategy = .maxLength(Int(clamping: maxLength))
                } else {
                    guard let id = strictID(arguments[index + 1], client) else { return nil }
                    parsed.strategy = .minID(id)
                }
                index += 1
            } else if lower == "limit" && moreArguments > 0 {
                guard let value = integer(arguments[index + 1], client) else { return nil }
                if value < 0 {
                    client.reply(.err("The LIMIT argument must be >= 0."))
                    return nil
                }
                limit = value
                limitGiven = true
                index += 1
            } else if xadd && lower == "nomkstream" {
                parsed.noMakeStream = true
            } else if xadd {
                guard let id = StreamID.parse(option, strict: true, allowAutoSeq: true) else {
                    client.reply(.err(Self.invalidIDMessage))
                    return nil
                }
                parsed.id = id.id
                parsed.seqGiven = id.seqGiven
                break
            } else {
                client.reply(.err("syntax error"))
                return nil
            }
            index += 1
        }
        if limit != 0 && parsed.strategy == nil {
            client.reply(.err("syntax error, LIMIT cannot be used without specifying a trimming strategy"))
            return nil
        }
        if !xadd && parsed.strategy == nil {
            client.reply(.err("syntax error, XTRIM must be called with a trimming strategy"))
            return nil
        }
        if limitGiven {
            if !parsed.approximate {
                client.reply(.err("syntax error, LIMIT cannot be used without the special ~ option"))
                return nil
            }
            parsed.limit = Int(clamping: limit)
        } else {
            parsed.limit = parsed.approximate ? 100 * Listpack.nodeMaxEntries : 0
        }
        return (index, parsed)
    }

    func xadd(_ arguments: [[UInt8]], _ client: BrokerClient) {
        guard let (idIndex, parsed) = parseTrimArguments(arguments, xadd: true, client) else { return }
        let fieldStart = idIndex + 1
        let fieldCount = arguments.count - fieldStart
        guard fieldCount >= 2, fieldCount % 2 == 0 else {
            client.reply(.err("wrong number of arguments for 'xadd' command"))
            return
        }
        if let id = parsed.id, parsed.seqGiven, id == .zero {
            client.reply(.err("The ID specified in XADD must be greater than 0-0"))
            return
        }
        append(key: arguments[1], fields: Array(arguments[fieldStart...]), parsed, client)
    }

    /// A plain `XADD key * field value ...` the connection handler recognised and parsed
    /// (``RESPRequestParser/parseXAdd(_:limits:reusing:)``): what ``execute(_:from:)`` and
    /// ``xadd(_:_:)`` do for it, without the argument list, the command table and the option
    /// parsing. The caller checked ``acceptsPlainXAdd(from:)``.
    func plainXAdd(key: [UInt8], fields: [[UInt8]], from client: BrokerClient) {
        stats.commandsProcessed += 1
        client.skippingCommand = false
        if client.heldReplies == nil {
            client.heldReplies = []
            heldClients.append(client)
        }
        append(key: key, fields: fields, TrimArguments(), client)
    }

    /// Whether an XADD from `client` may take ``plainXAdd(key:fields:from:)``: outside MULTI and
    /// EXEC, not refused by the RESP2 subscribed-mode rule, no `CLIENT REPLY SKIP` pending.
    func acceptsPlainXAdd(from client: BrokerClient) -> Bool {
        client.transaction == nil && !client.isExecuting && !client.skipNextCommand
            && !(client.protocolVersion == .resp2 && client.isSubscribed)
    }

    /// XADD's work once its arguments are known: the backend's check, the append (with the
    /// options' trimming and the retention), the reply, the outbox item and the fan-out.
    private func append(key: [UInt8], fields: [[UInt8]], _ parsed: TrimArguments, _ client: BrokerClient) {
        let destination: StreamDestination
        do throws(BrokerBackendError) {
            destination = try backend?.streamDestination(channel: key, payloadBytes: Self.outboxPayloadBytes(fields)) ?? .local
        } catch {
            client.reply(error.reply)
            return
        }
        if !streams.contains(key) {
            if parsed.noMakeStream {
                client.reply(.null)
                return
            }
            streams.create(key)
        }
        let retention = configuration.streamRetention
        let now = nowMillis()
        let result = streams.update(key) { stream -> Result<StreamID, RedisStream.AppendError> in
            do throws(RedisStream.AppendError) {
                let id = try stream.append(
                    fields: fields, id: parsed.id, seqGiven: parsed.seqGiven, now: UInt64(max(0, now)))
                if let strategy = parsed.strategy {
                    _ = stream.trim(strategy, approximate: parsed.approximate, limit: parsed.limit)
                }
                _ = stream.applyRetention(retention, now: now)
                return .success(id)
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let id)?:
            client.reply(.bulkString(id.bytes))
            signalStream(key)
            if destination == .overlay {
                var item = Self.outboxItem(channel: key, fields: fields)
                item.order = streams.nextOutboxSequence(tag: outboxTag(key, client))
                streams.enqueue(item)
                outboxDirty = true
            }
            if !patternSubscribers.isEmpty || (!channelSubscribers.isEmpty && channelSubscribers[key] != nil) {
                pendingFanOut.append((key, Self.subscriberPayload(fields)))
            }
        case .failure(.exhausted)?:
            client.reply(.err("The stream has exhausted the last possible ID, unable to add more items"))
        case .failure(.idTooSmall)?:
            client.reply(.err("The ID specified in XADD is equal or smaller than the target stream top item"))
        case nil:
            client.reply(.null)
        }
    }

    func xtrim(_ arguments: [[UInt8]], _ client: BrokerClient) {
        let key = arguments[1]
        guard streams.streams[key] != nil else {
            client.reply(.integer(0))
            return
        }
        guard let (index, parsed) = parseTrimArguments(arguments, xadd: false, client) else { return }
        guard index >= arguments.count else {
            client.reply(.err("syntax error"))
            return
        }
        guard let strategy = parsed.strategy else { return }
        let removed = streams.update(key) { $0.trim(strategy, approximate: parsed.approximate, limit: parsed.limit) }
        client.reply(.integer(Int64(removed ?? 0)))
    }

    // MARK: XRANGE / XDEL

    func xrange(_ arguments: [[UInt8]], _ client: BrokerClient, reverse: Bool) {
        let startArgument = reverse ? arguments[3] : arguments[2]
        let endArgument = reverse ? arguments[2] : arguments[3]
        guard case (var start, let startExclusive)? = intervalID(startArgument, missingSeq: 0, client) else { return }
        if startExclusive {
            guard let next = start.incremented() else {
                client.reply(.err("invalid start ID for the interval"))
                return
            }
            start = next
        }
        guard case (var end, let endExclusive)? = intervalID(endArgument, missingSeq: .max, client) else { return }
        if endExclusive {
            guard let previous = end.decremented() else {
                client.reply(.err("invalid end ID for the interval"))
                return
            }
            end = previous
        }
        _ = (startExclusive, endExclusive)
        var count: Int64 = -1
        var index = 4
        while index < arguments.count {
            if Self.lowercased(arguments[index]) == "count" && index + 1 < arguments.count {
                guard let value = integer(arguments[index + 1], client) else { return }
                count = max(0, value)
                index += 2
            } else {
                client.reply(.err("syntax error"))
                return
            }
        }
        guard let stream = streams.streams[arguments[1]] else {
            client.reply(.array([]))
            return
        }
        if count == 0 {
            client.reply(Self.nullArray(client))
            return
        }
        let entries = stream.range(start, end, count: count < 0 ? 0 : Int(clamping: count), reverse: reverse)
        client.reply(.array(entries.map(Self.entryReply)))
    }

    func xdel(_ arguments: [[UInt8]], _ client: BrokerClient) {
        let key = arguments[1]
        guard streams.streams[key] != nil else {
            client.reply(.integer(0))
            return
        }
        var ids: [StreamID] = []
        for argument in arguments.dropFirst(2) {
            guard let id = strictID(argument, client) else { return }
            ids.append(id)
        }
        client.reply(.integer(Int64(streams.update(key) { $0.delete(ids) } ?? 0)))
    }

    // MARK: XREAD / XREADGROUP

    /// XREAD and XREADGROUP: serve at once what is there, otherwise block (BLOCK) or reply null.
    func xread(_ arguments: [[UInt8]], _ client: BrokerClient, group isGroup: Bool) -> CommandOutcome {
        var timeout: Int64 = -1
        var count: Int64 = 0
        var streamsIndex = 0
        var streamCount = 0
        var noAck = false
        var group: (name: [UInt8], consumer: [UInt8])?
        var index = 1
        let commandName = isGroup ? "xreadgroup" : "xread"
        while index < arguments.count {
            let moreArguments = arguments.count - index - 1
            let option = Self.lowercased(arguments[index])
            if option == "block" && moreArguments > 0 {
                index += 1
                guard let value = integer(arguments[index], client, "timeout is not an integer or out of range") else {
                    return .done
                }
                if value < 0 {
                    client.reply(.err("timeout is negative"))
                    return .done
                }
                timeout = value
            } else if option == "count" && moreArguments > 0 {
                index += 1
                guard let value = integer(arguments[index], client) else { return .done }
                count = max(0, value)
            } else if option == "streams" && moreArguments > 0 {
                streamsIndex = index + 1
                streamCount = arguments.count - streamsIndex
                if streamCount % 2 != 0 {
                    let symbol = isGroup ? ">" : "$"
                    client.reply(
                        .err(
                            "Unbalanced \(commandName.uppercased()) list of streams: for each stream key an ID or '\(symbol)' must be specified."
                        ))
                    return .done
                }
                streamCount /= 2
                break
            } else if option == "group" && moreArguments >= 2 {
                guard isGroup else {
                    client.reply(.err("The GROUP option is only supported by XREADGROUP. You called XREAD instead."))
                    return .done
                }
                group = (arguments[index + 1], arguments[index + 2])
                index += 2
            } else if option == "noack" {
                guard isGroup else {
                    client.reply(.err("The NOACK option is only supported by XREADGROUP. You called XREAD instead."))
                    return .done
                }
                noAck = true
            } else {
                client.reply(.err("syntax error"))
                return .done
            }
            index += 1
        }
        guard streamsIndex > 0 else {
            client.reply(.err("syntax error"))
            return .done
        }
        if isGroup && group == nil {
            client.reply(.err("Missing GROUP option for XREADGROUP"))
            return .done
        }
        let keys = Array(arguments[streamsIndex..<(streamsIndex + streamCount)])
        var ids: [StreamID] = []
        var newOnly: [Bool] = []
        for (offset, argument) in arguments[(streamsIndex + streamCount)...].enumerated() {
            let key = keys[offset]
            let stream = streams.streams[key]
            if let group {
                guard let stream, stream.groups[group.name] != nil else {
                    client.reply(
                        .error(
                            "NOGROUP No such key '\(Self.cString(key))' or consumer group '\(Self.cString(group.name))' in XREADGROUP with GROUP option"
                        ))
                    return .done
                }
            }
            if argument == [UInt8(ascii: "$")] {
                if isGroup {
                    client.reply(
                        .err(
                            "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
                        ))
                    return .done
                }
                ids.append(stream?.lastID ?? .zero)
                newOnly.append(false)
                continue
            }
            if argument == [UInt8(ascii: ">")] {
                guard isGroup else {
                    client.reply(
                        .err(
                            "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
                        ))
                    return .done
                }
                ids.append(.max)
                newOnly.append(true)
                continue
            }
            if argument == [UInt8(ascii: "+")] && !isGroup {
                // Redis 7.4: `+` reads the last entry.
                ids.append(stream.flatMap { $0.length > 0 ? $0.lastID.decremented() : nil } ?? .zero)
                newOnly.append(false)
                continue
            }
            guard let id = strictID(argument, client) else { return .done }
            ids.append(id)
            newOnly.append(false)
        }
        let read = BlockedRead(
            client: client, keys: keys, ids: ids, newOnly: newOnly, group: group, count: Int(clamping: count),
            noAck: noAck)
        let served = serveNow(read)
        if !served.isEmpty {
            client.reply(Self.readReply(served, client))
            return .done
        }
        if timeout >= 0 {
            if client.isExecuting {
                client.reply(Self.nullArray(client))
                return .done
            }
            block(read)
            return .block(timeoutMilliseconds: timeout)
        }
        client.reply(Self.nullArray(client))
        return .done
    }

    /// XREAD's reply: per key, the key and its entries; a map in RESP3, pairs in RESP2.
    static func readReply(_ served: [(key: [UInt8], entries: RESPValue)], _ client: BrokerClient) -> RESPValue {
        if client.protocolVersion == .resp3 {
            return .map(served.map { RESPMapEntry(key: .bulkString($0.key), value: $0.entries) })
        }
        return .array(served.map { .array([.bulkString($0.key), $0.entries]) })
    }

    /// What a read can return now, for every key that has something (the synchronous part of
    /// Redis's `xreadCommand`).
    private func serveNow(_ read: BlockedRead) -> [(key: [UInt8], entries: RESPValue)] {
        var served: [(key: [UInt8], entries: RESPValue)] = []
        for (offset, key) in read.keys.enumerated() {
            guard let stream = streams.streams[key] else { continue }
            var after = read.ids[offset]
            var history = false
            if let group = read.group {
                guard let state = stream.groups[group.name] else { continue }
                if !read.newOnly[offset] {
                    history = true
                } else if stream.length > 0 && stream.lastValidID > state.lastID {
                    after = state.lastID
                } else {
                    continue
                }
            } else if !(stream.length > 0 && stream.lastValidID > after) {
                continue
            }
            served.append((key, readEntries(key, after: after, history: history, read: read)))
        }
        return served
    }

    /// Reads one key for `read`: plain, a group's new entries, or a consumer's history.
    private func readEntries(_ key: [UInt8], after: StreamID, history: Bool, read: BlockedRead) -> RESPValue {
        let now = nowMillis()
        guard let group = read.group else {
            let entries =
                after.incremented().map { streams.streams[key]?.range($0, .max, count: read.count) ?? [] } ?? []
            return .array(entries.map(Self.entryReply))
        }
        let value = streams.update(key) { stream -> RESPValue in
            stream.touchConsumer(group.name, group.consumer, now: now)
            if history {
                let entries = stream.readHistory(group.name, consumer: group.consumer, after: after, count: read.count, now: now)
                return .array(
                    entries.map { entry in
                        .array([
                            .bulkString(entry.id.bytes),
                            entry.fields.map { .array($0.map { .bulkString($0) }) } ?? Self.nullArray(read.client),
                        ])
                    })
            }
            let entries = stream.readGroup(
                group.name, consumer: group.consumer, after: after, count: read.count, noAck: read.noAck, now: now)
            return .array(entries.map(Self.entryReply))
        }
        return value ?? .array([])
    }

    /// Parks a read until an XADD to one of its keys or its timeout.
    private func block(_ read: BlockedRead) {
        blocked[read.client.id] = read
        for key in read.keys { blockedByKey[key, default: []].append(read.client.id) }
    }

    /// Removes a parked read (served, timed out, or the client left).
    func unblock(_ client: BrokerClient) -> BlockedRead? {
        guard let read = blocked.removeValue(forKey: client.id) else { return nil }
        for key in read.keys {
            blockedByKey[key]?.removeAll { $0 == client.id }
            if blockedByKey[key]?.isEmpty == true { blockedByKey[key] = nil }
        }
        return read
    }

    /// The timeout of a parked read passed: reply null and let the connection go on.
    func blockTimedOut(_ client: BrokerClient) {
        guard unblock(client) != nil else { return }
        client.reply(Self.nullArray(client))
        client.resume?()
    }

    /// Notes that `key` got entries (or changed groups); blocked reads are served after the command.
    func signalStream(_ key: [UInt8]) {
        if !blockedByKey.isEmpty, blockedByKey[key] != nil { readyKeys.append(key) }
    }

    /// Serves the blocked reads whose keys got entries, oldest first (Redis's
    /// `serveClientsBlockedOnStreamKey`): each gets the one key that became ready.
    func serveReadyKeys() {
        while !readyKeys.isEmpty {
            let key = readyKeys.removeFirst()
            for clientID in blockedByKey[key] ?? [] {
                guard let read = blocked[clientID], let offset = read.keys.firstIndex(of: key) else { continue }
                guard let stream = streams.streams[key] else { continue }
                var after = read.ids[offset]
                if let group = read.group {
                    guard let state = stream.groups[group.name] else {
                        _ = unblock(read.client)
                        read.client.reply(
                            .error("NOGROUP the consumer group this client was blocked on no longer exists"))
                        read.client.resume?()
                        continue
                    }
                    after = state.lastID
                }
                guard stream.lastID > after else { continue }
                _ = unblock(read.client)
                let entries = readEntries(key, after: after, history: false, read: read)
                do throws(StreamStoreError) {
                    try streams.commit()
                    read.client.reply(Self.readReply([(key, entries)], read.client))
                } catch {
                    read.client.reply(.err("stream store: \(error.reason)"))
                }
                read.client.resume?()
            }
        }
    }

    // MARK: XGROUP

    func xgroup(_ arguments: [[UInt8]], _ client: BrokerClient) {
        guard let sub = subcommand(arguments, client, container: "xgroup") else { return }
        if sub == "help" {
            client.reply(.array(Self.xgroupHelp.map { .simpleString($0) }))
            return
        }
        let subName = Self.cString(arguments[1])
        func syntaxError() {
            client.reply(.err("unknown subcommand or wrong number of arguments for '\(subName)'. Try XGROUP HELP."))
        }
        var makeStream = false
        var entriesRead: Int64 = -1
        if sub == "create" || sub == "setid" {
            var index = 5
            while index < arguments.count {
                let option = Self.lowercased(arguments[index])
                if sub == "create" && option == "mkstream" {
                    makeStream = true
                    index += 1
                } else if option == "entriesread" && index + 1 < arguments.count {
                    guard let value = integer(arguments[index + 1], client) else { return }
                    if value < 0 && value != -1 {
                        client.reply(.err("value for ENTRIESREAD must be positive or -1"))
                        return
                    }
                    entriesRead = value
                    index += 2
                } else {
                    syntaxError()
                    return
                }
            }
        }
        let key = arguments[2]
        let name = arguments[3]
        let stream = streams.streams[key]
        if !makeStream && stream == nil {
            client.reply(
                .err(
                    "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
                ))
            return
        }
        if stream?.groups[name] == nil && ["setid", "createconsumer", "delconsumer"].contains(sub) {
            client.reply(
                .error("NOGROUP No such consumer group '\(Self.cString(name))' for key name '\(Self.cString(key))'"))
            return
        }
        switch sub {
        case "create":
            guard arguments.count <= 8 else { return syntaxError() }
            let id: StreamID
            if arguments[4] == [UInt8(ascii: "$")] {
                id = stream?.lastID ?? .zero
            } else {
                guard let parsed = strictID(arguments[4], client) else { return }
                id = parsed
            }
            if stream == nil { streams.create(key) }
            if streams.update(key, { $0.createGroup(name, lastID: id, entriesRead: entriesRead) }) == true {
                client.reply(.simpleString("OK"))
            } else {
                client.reply(.error("BUSYGROUP Consumer Group name already exists"))
            }
        case "setid":
            guard arguments.count == 5 || arguments.count == 7 else { return syntaxError() }
            let id: StreamID
            if arguments[4] == [UInt8(ascii: "$")] {
                id = stream?.lastID ?? .zero
            } else {
                guard let parsed = StreamID.parse(arguments[4]) else {
                    client.reply(.err(Self.invalidIDMessage))
                    return
                }
                id = parsed.id
            }
            streams.update(key) { $0.setGroupID(name, lastID: id, entriesRead: entriesRead) }
            client.reply(.simpleString("OK"))
        case "destroy":
            if streams.update(key, { $0.destroyGroup(name) }) == true {
                client.reply(.integer(1))
                signalStream(key)
            } else {
                client.reply(.integer(0))
            }
        case "createconsumer":
            let now = nowMillis()
            let created = streams.update(key) { $0.createConsumer(name, arguments[4], now: now) } ?? false
            client.reply(.integer(created ? 1 : 0))
        case "delconsumer":
            client.reply(.integer(Int64(streams.update(key) { $0.deleteConsumer(name, arguments[4]) } ?? 0)))
        default:
            syntaxError()
        }
    }

    static let xgroupHelp = [
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ]

    // MARK: XACK / XPENDING

    func xack(_ arguments: [[UInt8]], _ client: BrokerClient) {
        let key = arguments[1]
        guard let stream = streams.streams[key], stream.groups[arguments[2]] != nil else {
            client.reply(.integer(0))
            return
        }
        var ids: [StreamID] = []
        for argument in arguments.dropFirst(3) {
            guard let id = strictID(argument, client) else { return }
            ids.append(id)
        }
        client.reply(.integer(Int64(streams.update(key) { $0.acknowledge(arguments[2], ids) } ?? 0)))
    }

    func xpending(_ arguments: [[UInt8]], _ client: BrokerClient) {
        let summary = arguments.count == 3
        guard summary || (6...9).contains(arguments.count) else {
            client.reply(.err("syntax error"))
            return
        }
        var start = StreamID.zero
        var end = StreamID.max
        var count: Int64 = 0
        var minIdle: Int64 = 0
        var consumerName: [UInt8]?
        if arguments.count >= 6 {
            var startIndex = 3
            if Self.lowercased(arguments[3]) == "idle" {
                guard let value = integer(arguments[4], client) else { return }
                minIdle = value
                guard arguments.count >= 8 else {
                    client.reply(.err("syntax error"))
                    return
                }
                startIndex += 2
            }
            guard startIndex + 2 < arguments.count, let value = integer(arguments[startIndex + 2], client) else {
                if startIndex + 2 >= arguments.count { client.reply(.err("syntax error")) }
                return
            }
            count = max(0, value)
            guard case (var parsedStart, let startExclusive)? = intervalID(arguments[startIndex], missingSeq: 0, client) else {
                return
            }
            if startExclusive {
                guard let next = parsedStart.incremented() else {
                    client.reply(.err("invalid start ID for the interval"))
                    return
                }
                parsedStart = next
            }
            guard case (var parsedEnd, let endExclusive)? = intervalID(arguments[startIndex + 1], missingSeq: .max, client)
            else { return }
            if endExclusive {
                guard let previous = parsedEnd.decremented() else {
                    client.reply(.err("invalid end ID for the interval"))
                    return
                }
                parsedEnd = previous
            }
            _ = (startExclusive, endExclusive)
            start = parsedStart
            end = parsedEnd
            if startIndex + 3 < arguments.count { consumerName = arguments[startIndex + 3] }
        }
        let key = arguments[1]
        guard let stream = streams.streams[key], let group = stream.groups[arguments[2]] else {
            client.reply(
                .error(
                    "NOGROUP No such key '\(Self.cString(key))' or consumer group '\(Self.cString(arguments[2]))'"))
            return
        }
        if summary {
            guard let first = group.pendingOrder.ids.first, let last = group.pendingOrder.ids.last else {
                client.reply(.array([.integer(0), .null, .null, Self.nullArray(client)]))
                return
            }
            let owners = group.consumerNames.compactMap { name -> RESPValue? in
                guard let consumer = group.consumers[name], !consumer.pending.isEmpty else { return nil }
                return .array([.bulkString(name), .bulk("\(consumer.pending.count)")])
            }
            client.reply(
                .array([
                    .integer(Int64(group.pendingOrder.count)), .bulkString(first.bytes), .bulkString(last.bytes),
                    .array(owners),
                ]))
            return
        }
        let ids: SortedIDs
        if let consumerName {
            guard let consumer = group.consumers[consumerName] else {
                client.reply(.array([]))
                return
            }
            ids = consumer.pending
        } else {
            ids = group.pendingOrder
        }
        let now = nowMillis()
        var rows: [RESPValue] = []
        var index = ids.lowerBound(start)
        while count > 0 && index < ids.count && ids.ids[index] <= end {
            let id = ids.ids[index]
            index += 1
            guard let nack = group.pending[id] else { continue }
            if minIdle != 0 && now - nack.deliveryTime < minIdle { continue }
            count -= 1
            rows.append(
                .array([
                    .bulkString(id.bytes), .bulkString(nack.consumer ?? []), .integer(max(0, now - nack.deliveryTime)),
                    .integer(nack.deliveryCount),
                ]))
        }
        client.reply(.array(rows))
    }

    // MARK: XCLAIM / XAUTOCLAIM

    func xclaim(_ arguments: [[UInt8]], _ client: BrokerClient) {
        let key = arguments[1]
        let groupName = arguments[2]
        guard let stream = streams.streams[key], let group = stream.groups[groupName] else {
            client.reply(
                .error("NOGROUP No such key '\(Self.cString(key))' or consumer group '\(Self.cString(groupName))'"))
            return
        }
        guard var minIdle = integer(arguments[4], client, "Invalid min-idle-time argument for XCLAIM") else { return }
        minIdle = max(0, minIdle)
        var index = 5
        var ids: [StreamID] = []
        while index < arguments.count, let parsed = StreamID.parse(arguments[index], strict: true) {
            ids.append(parsed.id)
            index += 1
        }
        let now = nowMillis()
        var force = false
        var justID = false
        var deliveryTime: Int64 = -1
        var retryCount: Int64 = -1
        var lastID = StreamID.zero
        while index < arguments.count {
            let moreArguments = arguments.count - 1 - index
            let option = Self.lowercased(arguments[index])
            if option == "force" {
                force = true
            } else if option == "justid" {
                justID = true
            } else if option == "idle" && moreArguments > 0 {
                index += 1
                guard let value = integer(arguments[index], client, "Invalid IDLE option argument for XCLAIM") else {
                    return
                }
                deliveryTime = now - value
            } else if option == "time" && moreArguments > 0 {
                index += 1
                guard let value = integer(arguments[index], client, "Invalid TIME option argument for XCLAIM") else {
                    return
                }
                deliveryTime = value
            } else if option == "retrycount" && moreArguments > 0 {
                index += 1
                guard let value = integer(arguments[index], client, "Invalid RETRYCOUNT option argument for XCLAIM")
                else { return }
                retryCount = value
            } else if option == "lastid" && moreArguments > 0 {
                index += 1
                guard let id = strictID(arguments[index], client) else { return }
                lastID = id
            } else {
                client.reply(.err("Unrecognized XCLAIM option '\(Self.cString(arguments[index]))'"))
                return
            }
            index += 1
        }
        if lastID > group.lastID { streams.update(key) { $0.advanceGroup(groupName, to: lastID) } }
        if deliveryTime != -1 {
            if deliveryTime < 0 || deliveryTime > now { deliveryTime = now }
        } else {
            deliveryTime = now
        }
        let consumerName = arguments[3]
        let replies = streams.update(key) { stream -> [RESPValue] in
            var replies: [RESPValue] = []
            for id in ids {
                var nack = stream.groups[groupName]?.pending[id]
                guard stream.entry(id) != nil else {
                    if nack != nil { stream.dropPending(groupName, id) }
                    continue
                }
                if force && nack == nil {
                    stream.forcePending(groupName, id, now: now)
                    nack = stream.groups[groupName]?.pending[id]
                }
                guard let current = nack else { continue }
                if current.consumer != nil && minIdle != 0 && now - current.deliveryTime < minIdle { continue }
                stream.transfer(
                    groupName, id, to: consumerName, deliveryTime: deliveryTime,
                    deliveryCount: retryCount >= 0 ? retryCount : nil, increment: !justID, now: now)
                if justID {
                    replies.append(.bulkString(id.bytes))
                } else if let entry = stream.entry(id) {
                    replies.append(Self.entryReply(entry))
                } else {
                    replies.append(.null)
                }
            }
            return replies
        }
        client.reply(.array(replies ?? []))
    }

    func xautoclaim(_ arguments: [[UInt8]], _ client: BrokerClient) {
        guard var minIdle = integer(arguments[4], client, "Invalid min-idle-time argument for XAUTOCLAIM") else {
            return
        }
        minIdle = max(0, minIdle)
        guard case (var start, let startExclusive)? = intervalID(arguments[5], missingSeq: 0, client) else { return }
        if startExclusive {
            guard let next = start.incremented() else {
                client.reply(.err("invalid start ID for the interval"))
                return
            }
            start = next
        }
        _ = startExclusive
        var count: Int64 = 100
        var justID = false
        var index = 6
        while index < arguments.count {
            let moreArguments = arguments.count - 1 - index
            let option = Self.lowercased(arguments[index])
            if option == "count" && moreArguments > 0 {
                guard let value = Self.integer(arguments[index + 1]), value >= 1, value <= Int64.max / 16 else {
                    client.reply(.err("COUNT must be > 0"))
                    return
                }
                count = value
                index += 1
            } else if option == "justid" {
                justID = true
            } else {
                client.reply(.err("syntax error"))
                return
            }
            index += 1
        }
        let key = arguments[1]
        let groupName = arguments[2]
        guard let stream = streams.streams[key], stream.groups[groupName] != nil else {
            client.reply(
                .error("NOGROUP No such key '\(Self.cString(key))' or consumer group '\(Self.cString(groupName))'"))
            return
        }
        let now = nowMillis()
        let consumerName = arguments[3]
        let reply = streams.update(key) { stream -> RESPValue in
            var attempts = count * 10
            var remaining = count
            var claimed: [RESPValue] = []
            var deleted: [RESPValue] = []
            let order = stream.groups[groupName]?.pendingOrder.ids ?? []
            var position = SortedIDs.lowerBound(order, start)
            var cursor = StreamID.zero
            while true {
                guard attempts > 0 else {
                    attempts -= 1
                    break
                }
                attempts -= 1
                guard remaining > 0 else { break }
                guard position < order.count else { break }
                let id = order[position]
                position += 1
                guard let nack = stream.groups[groupName]?.pending[id] else { continue }
                guard stream.entry(id) != nil else {
                    stream.dropPending(groupName, id)
                    deleted.append(.bulkString(id.bytes))
                    remaining -= 1
                    continue
                }
                if minIdle != 0 && now - nack.deliveryTime < minIdle { continue }
                stream.transfer(
                    groupName, id, to: consumerName, deliveryTime: now, deliveryCount: nil, increment: !justID, now: now)
                if justID {
                    claimed.append(.bulkString(id.bytes))
                } else if let entry = stream.entry(id) {
                    claimed.append(Self.entryReply(entry))
                } else {
                    claimed.append(.null)
                }
                remaining -= 1
            }
            if position < order.count { cursor = order[position] }
            return .array([.bulkString(cursor.bytes), .array(claimed), .array(deleted)])
        }
        client.reply(reply ?? .array([]))
    }

    // MARK: XINFO

    /// `XINFO STREAM key FULL [COUNT n]` (Redis 7.0's shape; `count` 0 = everything).
    static func fullStreamInfo(_ stream: RedisStream, count: Int, _ client: BrokerClient) -> RESPValue {
        let entries = stream.range(.zero, .max, count: count)
        let groups: [RESPValue] = stream.groupNames.map { name in
            let group = stream.groups[name]!
            let pending = (count > 0 ? Array(group.pendingOrder.ids.prefix(count)) : group.pendingOrder.ids).map { id in
                let nack = group.pending[id]!
                return RESPValue.array([
                    .bulkString(id.bytes), .bulkString(nack.consumer ?? []), .integer(nack.deliveryTime),
                    .integer(nack.deliveryCount),
                ])
            }
            let consumers: [RESPValue] = group.consumerNames.map { consumerName in
                let consumer = group.consumers[consumerName]!
                let own = (count > 0 ? Array(consumer.pending.ids.prefix(count)) : consumer.pending.ids).map { id in
                    let nack = group.pending[id]
                    return RESPValue.array([
                        .bulkString(id.bytes), .integer(nack?.deliveryTime ?? 0), .integer(nack?.deliveryCount ?? 0),
                    ])
                }
                return .map([
                    RESPMapEntry(key: .bulk("name"), value: .bulkString(consumerName)),
                    RESPMapEntry(key: .bulk("seen-time"), value: .integer(consumer.seenTime)),
                    RESPMapEntry(key: .bulk("pel-count"), value: .integer(Int64(consumer.pending.count))),
                    RESPMapEntry(key: .bulk("pending"), value: .array(own)),
                ])
            }
            return .map([
                RESPMapEntry(key: .bulk("name"), value: .bulkString(name)),
                RESPMapEntry(key: .bulk("last-delivered-id"), value: .bulkString(group.lastID.bytes)),
                RESPMapEntry(
                    key: .bulk("entries-read"), value: group.entriesRead == -1 ? .null : .integer(group.entriesRead)),
                RESPMapEntry(key: .bulk("lag"), value: stream.lag(group).map { .integer($0) } ?? .null),
                RESPMapEntry(key: .bulk("pel-count"), value: .integer(Int64(group.pendingOrder.count))),
                RESPMapEntry(key: .bulk("pending"), value: .array(pending)),
                RESPMapEntry(key: .bulk("consumers"), value: .array(consumers)),
            ])
        }
        return .map([
            RESPMapEntry(key: .bulk("length"), value: .integer(Int64(stream.length))),
            RESPMapEntry(key: .bulk("radix-tree-keys"), value: .integer(Int64(stream.nodes.count))),
            RESPMapEntry(key: .bulk("radix-tree-nodes"), value: .integer(Int64(stream.radixTreeNodes))),
            RESPMapEntry(key: .bulk("last-generated-id"), value: .bulkString(stream.lastID.bytes)),
            RESPMapEntry(key: .bulk("max-deleted-entry-id"), value: .bulkString(stream.maxDeletedID.bytes)),
            RESPMapEntry(key: .bulk("entries-added"), value: .integer(stream.entriesAdded)),
            RESPMapEntry(key: .bulk("recorded-first-entry-id"), value: .bulkString(stream.firstID.bytes)),
            RESPMapEntry(key: .bulk("entries"), value: .array(entries.map(entryReply))),
            RESPMapEntry(key: .bulk("groups"), value: .array(groups)),
        ])
    }

    func xinfo(_ arguments: [[UInt8]], _ client: BrokerClient) {
        guard let sub = subcommand(arguments, client, container: "xinfo") else { return }
        if sub == "help" {
            client.reply(
                .array(
                    [
                        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                        "CONSUMERS <key> <groupname>",
                        "    Show consumers of <groupname>.",
                        "GROUPS <key>",
                        "    Show the stream consumer groups.",
                        "STREAM <key> [FULL [COUNT <count>]",
                        "    Show information about the stream.",
                        "HELP",
                        "    Prints this help.",
                    ].map { .simpleString($0) }))
            return
        }
        let key = arguments[2]
        guard let stream = streams.streams[key] else {
            client.reply(.err("no such key"))
            return
        }
        let now = nowMillis()
        switch sub {
        case "stream":
            let syntax = RESPValue.err(
                "unknown subcommand or wrong number of arguments for '\(Self.cString(arguments[1]))'. Try XINFO HELP.")
            if arguments.count > 3 {
                guard arguments.count <= 6, Self.lowercased(arguments[3]) == "full" else { return client.reply(syntax) }
                var count: Int64 = 10
                if arguments.count == 6 {
                    guard Self.lowercased(arguments[4]) == "count" else { return client.reply(syntax) }
                    guard let value = integer(arguments[5], client) else { return }
                    count = value < 0 ? 10 : value
                } else if arguments.count != 4 {
                    return client.reply(syntax)
                }
                client.reply(Self.fullStreamInfo(stream, count: Int(clamping: count), client))
                return
            }
            let first = stream.live.first.map(Self.entryReply) ?? .null
            let last = stream.live.last.map(Self.entryReply) ?? .null
            client.reply(
                .map([
                    RESPMapEntry(key: .bulk("length"), value: .integer(Int64(stream.length))),
                    RESPMapEntry(key: .bulk("radix-tree-keys"), value: .integer(Int64(stream.nodes.count))),
                    RESPMapEntry(key: .bulk("radix-tree-nodes"), value: .integer(Int64(stream.radixTreeNodes))),
                    RESPMapEntry(key: .bulk("last-generated-id"), value: .bulkString(stream.lastID.bytes)),
                    RESPMapEntry(key: .bulk("max-deleted-entry-id"), value: .bulkString(stream.maxDeletedID.bytes)),
                    RESPMapEntry(key: .bulk("entries-added"), value: .integer(stream.entriesAdded)),
                    RESPMapEntry(key: .bulk("recorded-first-entry-id"), value: .bulkString(stream.firstID.bytes)),
                    RESPMapEntry(key: .bulk("groups"), value: .integer(Int64(stream.groups.count))),
                    RESPMapEntry(key: .bulk("first-entry"), value: first),
                    RESPMapEntry(key: .bulk("last-entry"), value: last),
                ]))
        case "groups":
            client.reply(
                .array(
                    stream.groupNames.map { name in
                        let group = stream.groups[name]!
                        return .map([
                            RESPMapEntry(key: .bulk("name"), value: .bulkString(name)),
                            RESPMapEntry(key: .bulk("consumers"), value: .integer(Int64(group.consumers.count))),
                            RESPMapEntry(key: .bulk("pending"), value: .integer(Int64(group.pendingOrder.count))),
                            RESPMapEntry(key: .bulk("last-delivered-id"), value: .bulkString(group.lastID.bytes)),
                            RESPMapEntry(
                                key: .bulk("entries-read"),
                                value: group.entriesRead == -1 ? .null : .integer(group.entriesRead)),
                            RESPMapEntry(key: .bulk("lag"), value: stream.lag(group).map { .integer($0) } ?? .null),
                        ])
                    }))
        case "consumers":
            guard let group = stream.groups[arguments[3]] else {
                client.reply(
                    .error(
                        "NOGROUP No such consumer group '\(Self.cString(arguments[3]))' for key name '\(Self.cString(key))'"
                    ))
                return
            }
            client.reply(
                .array(
                    group.consumerNames.map { name in
                        let consumer = group.consumers[name]!
                        return .map([
                            RESPMapEntry(key: .bulk("name"), value: .bulkString(name)),
                            RESPMapEntry(key: .bulk("pending"), value: .integer(Int64(consumer.pending.count))),
                            RESPMapEntry(key: .bulk("idle"), value: .integer(max(0, now - consumer.seenTime))),
                        ])
                    }))
        default:
            client.reply(.err(Self.unknownSubcommandMessage(arguments[1], "xinfo")))
        }
    }
}

extension SortedIDs {
    /// Index of the first id >= `id` in a sorted array.
    static func lowerBound(_ ids: [StreamID], _ id: StreamID) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// An XREAD / XREADGROUP waiting for entries (BLOCK): what it asked for, resolved at the time
/// it blocked (`$` is the last id then).
final class BlockedRead {
    let client: BrokerClient
    let keys: [[UInt8]]
    let ids: [StreamID]
    /// Per key: the `>` form (new entries of the group).
    let newOnly: [Bool]
    let group: (name: [UInt8], consumer: [UInt8])?
    let count: Int
    let noAck: Bool

    init(
        client: BrokerClient, keys: [[UInt8]], ids: [StreamID], newOnly: [Bool],
        group: (name: [UInt8], consumer: [UInt8])?, count: Int, noAck: Bool
    ) {
        self.client = client
        self.keys = keys
        self.ids = ids
        self.newOnly = newOnly
        self.group = group
        self.count = count
        self.noAck = noAck
    }
}
