import Logging
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import NIOCore
import NymbusCrypto

/// The channel and pattern sets local clients are subscribed to, as sent to the backend.
struct InterestSnapshot: Sendable {
    var channels: Set<[UInt8]>
    var patterns: Set<[UInt8]>
}

/// What the connection must do after a command ran.
enum CommandOutcome: Equatable {
    /// Replies (if any) are queued; go on with the next command.
    case done
    /// Close the connection once the queued replies are written (QUIT, too many clients).
    case close
    /// Ask the backend to publish, then call ``BrokerState/finishPublish(client:channel:payload:error:)``.
    case publish(channel: [UInt8], payload: [UInt8])
    /// Ask the backend to run a `NYMBUS.*` command, then call ``BrokerState/finishNymbus(client:result:)``.
    case nymbus([[UInt8]])
    /// Run the queued commands of a transaction one by one with replies captured, then send
    /// them as one array (EXEC).
    case exec([[[UInt8]]])
    /// A stream read is parked (XREAD/XREADGROUP BLOCK): hold the connection until
    /// ``BrokerClient/resume`` is called; time out after the milliseconds given (0 = never).
    case block(timeoutMilliseconds: Int64)
}

/// The broker's shared state and command semantics: clients, subscriptions, fan-out, counters.
///
/// Lives on the broker's single event loop (every connection runs there too), so it needs no
/// locks, like Redis's single thread. Commands that need the backend return a
/// ``CommandOutcome`` that the connection carries out asynchronously, then reports back.
final class BrokerState {
    let configuration: BrokerConfiguration
    let logger: Logger
    private let interest: AsyncStream<InterestSnapshot>.Continuation

    private(set) var clients: [Int64: BrokerClient] = [:]
    private(set) var channelSubscribers: [[UInt8]: [Int64: BrokerClient]] = [:]
    private(set) var patternSubscribers: [[UInt8]: [Int64: BrokerClient]] = [:]
    /// SSUBSCRIBE's subscribers. On one node sharded pub/sub is plain pub/sub in a namespace of
    /// its own, as in Redis without cluster (SPUBLISH reaches only these, with `smessage`).
    private(set) var shardSubscribers: [[UInt8]: [Int64: BrokerClient]] = [:]
    var stats = BrokerStats()
    private var nextClientID: Int64 = 1
    private var interestDirty = false
    /// Outputs that got fan-out frames since the last ``flushFanOut()``: flushed once each, so a
    /// batch of messages costs one write per subscriber, not one per message.
    private var unflushed: [ObjectIdentifier: any BrokerClientOutput] = [:]
    let startedAt = ContinuousClock.now
    /// Streams (XADD, XREADGROUP, ...), with their store.
    let streams: StreamKeyspace
    /// Parked XREAD/XREADGROUP BLOCK calls by client id, and the clients waiting on each key in
    /// the order they blocked.
    var blocked: [Int64: BlockedRead] = [:]
    var blockedByKey: [[UInt8]: [Int64]] = [:]
    /// Keys that got entries during the running command; their blocked reads are served after it.
    var readyKeys: [[UInt8]] = []
    /// Unix time in milliseconds (stream ids, idle times); replaceable in tests.
    var clock: () -> Int64 = BrokerState.wallClockMillis
    /// The backend, for what stream commands ask it at once (``BrokerBackend/streamDestination(channel:payloadBytes:)``).
    var backend: (any BrokerBackend)?
    /// Where the set of stream keys goes when it changes (newest only).
    var streamKeys: AsyncStream<Set<[UInt8]>>.Continuation?
    /// Messages for local subscribers from the running stream command, sent once it is stored.
    var pendingFanOut: [(channel: [UInt8], payload: [UInt8])] = []
    /// Outbox items were stored since the backend was last told.
    var outboxDirty = false
    /// Clients whose stream replies wait for the next store write, in the order they ran.
    var heldClients: [BrokerClient] = []
    /// Messages appended since the last write (counted as failed appends if it fails).
    var pendingAppends = 0
    private var committing = false
    /// A group commit waits for the end of this event-loop tick.
    private var commitScheduled = false

    init(
        configuration: BrokerConfiguration, logger: Logger, interest: AsyncStream<InterestSnapshot>.Continuation,
        streamStore: (any StreamStorage)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.interest = interest
        self.streams = StreamKeyspace(store: streamStore)
    }

    static func wallClockMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    // MARK: - Clients

    /// Adds a connection; nil when ``BrokerConfiguration/maxClients`` are already connected.
    func register(output: any BrokerClientOutput) -> BrokerClient? {
        guard clients.count < configuration.maxClients else {
            stats.rejectedConnections += 1
            return nil
        }
        let client = BrokerClient(id: nextClientID, output: output)
        nextClientID += 1
        clients[client.id] = client
        stats.totalConnections += 1
        return client
    }

    /// Removes a connection and all its subscriptions; safe to call twice.
    func unregister(_ client: BrokerClient) {
        guard clients.removeValue(forKey: client.id) != nil else { return }
        if client.heldReplies != nil { commitPendingStreams() }
        for tag in client.outboxTags.values { streams.forgetOutboxTag(tag) }
        _ = unblock(client)
        removeAllSubscriptions(of: client)
        client.output = nil
        publishInterestIfChanged()
    }

    /// Drops every subscription of `client` without telling it (RESET, disconnect).
    func removeAllSubscriptions(of client: BrokerClient) {
        for channel in client.channels.keys { removeSubscriber(client, channel, from: &channelSubscribers) }
        for pattern in client.patterns.keys { removeSubscriber(client, pattern, from: &patternSubscribers) }
        for channel in client.shardChannels.keys { removeSubscriber(client, channel, from: &shardSubscribers) }
        client.channels.removeAll()
        client.patterns.removeAll()
        client.shardChannels.removeAll()
    }

    /// Counters with the live gauges filled in.
    func currentStats() -> BrokerStats {
        var snapshot = stats
        snapshot.connectedClients = clients.count
        snapshot.channels = channelSubscribers.count
        snapshot.patterns = patternSubscribers.count
        snapshot.subscriptions = clients.values.reduce(0) { $0 + $1.subscriptionCount }
        return snapshot
    }

    /// Counts a protocol error; the connection replies and closes.
    func recordProtocolError(_ client: BrokerClient?, _ error: RESPError) {
        stats.protocolErrors += 1
        logger.info(
            "closing client after protocol error",
            metadata: ["client": "\(client?.id ?? 0)", "error": "\(error.reason)"])
    }

    /// Counts a slow-subscriber disconnect and drops the client from the registry, so nothing
    /// more is queued for it.
    func recordSlowClient(_ client: BrokerClient, queuedBytes: Int) {
        stats.slowClientDisconnects += 1
        logger.warning(
            "disconnecting slow subscriber: output queue over limit",
            metadata: [
                "client": "\(client.id)", "name": "\(client.name.map { String(decoding: $0, as: UTF8.self) } ?? "")",
                "queuedBytes": "\(queuedBytes)", "limit": "\(configuration.maxOutputBytes)",
            ])
        unregister(client)
    }

    // MARK: - Subscriptions

    /// Subscribes `client` to `channel`; false if it already was.
    @discardableResult
    func addChannel(_ channel: [UInt8], for client: BrokerClient) -> Bool {
        guard client.channels[channel] == nil else { return false }
        client.channels[channel] = client.takeSequence()
        addSubscriber(client, channel, to: &channelSubscribers)
        return true
    }

    /// Unsubscribes `client` from `channel`; false if it was not subscribed.
    @discardableResult
    func removeChannel(_ channel: [UInt8], for client: BrokerClient) -> Bool {
        guard client.channels.removeValue(forKey: channel) != nil else { return false }
        removeSubscriber(client, channel, from: &channelSubscribers)
        return true
    }

    /// Subscribes `client` to `pattern`; false if it already was.
    @discardableResult
    func addPattern(_ pattern: [UInt8], for client: BrokerClient) -> Bool {
        guard client.patterns[pattern] == nil else { return false }
        client.patterns[pattern] = client.takeSequence()
        addSubscriber(client, pattern, to: &patternSubscribers)
        return true
    }

    /// Unsubscribes `client` from `pattern`; false if it was not subscribed.
    @discardableResult
    func removePattern(_ pattern: [UInt8], for client: BrokerClient) -> Bool {
        guard client.patterns.removeValue(forKey: pattern) != nil else { return false }
        removeSubscriber(client, pattern, from: &patternSubscribers)
        return true
    }

    /// Subscribes `client` to shard channel `channel`; false if it already was.
    @discardableResult
    func addShardChannel(_ channel: [UInt8], for client: BrokerClient) -> Bool {
        guard client.shardChannels[channel] == nil else { return false }
        client.shardChannels[channel] = client.takeSequence()
        addSubscriber(client, channel, to: &shardSubscribers)
        return true
    }

    /// Unsubscribes `client` from shard channel `channel`; false if it was not subscribed.
    @discardableResult
    func removeShardChannel(_ channel: [UInt8], for client: BrokerClient) -> Bool {
        guard client.shardChannels.removeValue(forKey: channel) != nil else { return false }
        removeSubscriber(client, channel, from: &shardSubscribers)
        return true
    }

    private func addSubscriber(_ client: BrokerClient, _ key: [UInt8], to index: inout [[UInt8]: [Int64: BrokerClient]])
    {
        if index[key] == nil { interestDirty = true }
        index[key, default: [:]][client.id] = client
    }

    private func removeSubscriber(
        _ client: BrokerClient, _ key: [UInt8], from index: inout [[UInt8]: [Int64: BrokerClient]]
    ) {
        guard var subscribers = index[key] else { return }
        subscribers.removeValue(forKey: client.id)
        if subscribers.isEmpty {
            index.removeValue(forKey: key)
            interestDirty = true
        } else {
            index[key] = subscribers
        }
    }

    /// Sends the backend the new interest sets if a channel or pattern gained its first or lost
    /// its last subscriber since the last call.
    func publishInterestIfChanged() {
        guard interestDirty else { return }
        interestDirty = false
        interest.yield(
            InterestSnapshot(
                channels: Set(channelSubscribers.keys).union(shardSubscribers.keys), patterns: Set(patternSubscribers.keys)))
    }

    // MARK: - Fan-out

    /// Delivers a message to local subscribers exactly as Redis's PUBLISH does: first every
    /// subscriber of the channel (`message`), then every subscriber of each matching pattern
    /// (`pmessage`; a client matching twice gets it twice).
    ///
    /// - Returns: the number of frames queued, which is PUBLISH's integer reply.
    func fanOut(channel: [UInt8], payload: [UInt8]) -> Int {
        var run = FanOutRun()
        let receivers = fanOut(channel: channel, payload: payload, run: &run)
        stats.messagesDelivered += UInt64(run.delivered)
        return receivers
    }

    /// Who gets a channel's messages, looked up once for a run of messages to the same channel
    /// (a publisher's burst): the subscribers' outputs and protocols, and the matching patterns.
    /// A subscriber dropped as slow in the middle of a run gets nothing more (its connection is
    /// closing) but is still counted in the replies until the run ends.
    struct FanOutRun {
        fileprivate typealias Target = (output: any BrokerClientOutput, version: RESPProtocolVersion)
        fileprivate var channel: [UInt8]?
        fileprivate var targets: [Target] = []
        fileprivate var patterns: [(pattern: [UInt8], targets: [Target])] = []
        /// Frames queued so far in this run.
        fileprivate(set) var delivered = 0
    }

    /// ``fanOut(channel:payload:)`` for one message of a run; the caller adds `run.delivered`
    /// to the counters when the run ends. Nothing else may change subscriptions during a run.
    func fanOut(channel: [UInt8], payload: [UInt8], run: inout FanOutRun) -> Int {
        if run.channel != channel {
            run.channel = channel
            run.targets = Self.targets(channelSubscribers[channel])
            run.patterns = patternSubscribers.compactMap { pattern, subscribers in
                RedisGlob.matches(pattern: pattern, string: channel) ? (pattern, Self.targets(subscribers)) : nil
            }
            for target in run.targets { unflushed[ObjectIdentifier(target.output)] = target.output }
            for (_, targets) in run.patterns {
                for target in targets { unflushed[ObjectIdentifier(target.output)] = target.output }
            }
        }
        if run.targets.count == 1, let target = run.targets.first {
            // One subscriber: encode straight into its output, no shared frame to build.
            target.output.appendReply {
                RESPWriter.writeMessageFrame(
                    pattern: nil, channel: channel, payload: payload, version: target.version, into: &$0)
            }
        } else {
            // One encoded frame per protocol version, shared by every subscriber that speaks it.
            var frames = FramePair()
            for target in run.targets {
                let frame = frames.frame(for: target.version) { version in
                    Self.encodeFrame(pattern: nil, channel: channel, payload: payload, version: version)
                }
                target.output.send(frame)
            }
        }
        var receivers = run.targets.count
        for (pattern, targets) in run.patterns {
            var frames = FramePair()
            for target in targets {
                let frame = frames.frame(for: target.version) { version in
                    Self.encodeFrame(pattern: pattern, channel: channel, payload: payload, version: version)
                }
                target.output.send(frame)
            }
            receivers += targets.count
        }
        run.delivered += receivers
        return receivers
    }

    private static func targets(_ subscribers: [Int64: BrokerClient]?) -> [FanOutRun.Target] {
        guard let subscribers else { return [] }
        return subscribers.values.compactMap { client in
            // While its EXEC runs, a client's messages wait for the EXEC reply (Redis 7.2).
            guard client.output != nil else { return nil }
            return (client.isExecuting ? client.pushHolder : client.output!, client.protocolVersion)
        }
    }

    /// A frame encoded at most once for each protocol version.
    private struct FramePair {
        var resp2: ByteBuffer?
        var resp3: ByteBuffer?

        mutating func frame(for version: RESPProtocolVersion, encode: (RESPProtocolVersion) -> ByteBuffer) -> ByteBuffer {
            switch version {
            case .resp2:
                if let resp2 { return resp2 }
                resp2 = encode(version)
                return resp2!
            case .resp3:
                if let resp3 { return resp3 }
                resp3 = encode(version)
                return resp3!
            }
        }
    }

    private static func encodeFrame(
        pattern: [UInt8]?, channel: [UInt8], payload: [UInt8], version: RESPProtocolVersion
    ) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: payload.count + channel.count + (pattern?.count ?? 0) + 64)
        RESPWriter.writeMessageFrame(pattern: pattern, channel: channel, payload: payload, version: version, into: &buffer)
        return buffer
    }

    /// SPUBLISH's fan-out: `smessage` to every subscriber of the shard channel (patterns never
    /// match shard channels). Returns the number of receivers.
    func fanOutShard(channel: [UInt8], payload: [UInt8]) -> Int {
        let targets = Self.targets(shardSubscribers[channel])
        var frames = FramePair()
        for target in targets {
            let frame = frames.frame(for: target.version) { version in
                var buffer = ByteBufferAllocator().buffer(capacity: payload.count + channel.count + 48)
                RESPWriter.writeMessageFrame(
                    pattern: nil, channel: channel, payload: payload, version: version, into: &buffer, shard: true)
                return buffer
            }
            target.output.send(frame)
            unflushed[ObjectIdentifier(target.output)] = target.output
        }
        stats.messagesDelivered += UInt64(targets.count)
        return targets.count
    }

    /// Flushes every subscriber that got frames from ``fanOut(channel:payload:)``.
    func flushFanOut() {
        guard !unflushed.isEmpty else { return }
        let outputs = unflushed.values
        unflushed.removeAll(keepingCapacity: true)
        for output in outputs { output.flush() }
    }

    /// A message for `channel` arrived from the network: to local subscribers, and to the
    /// channel's stream if the node keeps one.
    func deliverFromNetwork(channel: [UInt8], payload: [UInt8]) -> Int {
        stats.messagesFromNetwork += 1
        // The overlay carries shard channels as plain ones: a message from the network goes to
        // both kinds of subscriber (spec/broker.md, "Sharded pub/sub").
        let receivers = fanOut(channel: channel, payload: payload) + fanOutShard(channel: channel, payload: payload)
        flushFanOut()
        recordPublished(channel: channel, payload: payload)
        commitAppended()
        return receivers
    }

    /// A stream entry (an XADD on another node) arrived for `channel`: appended to the stream
    /// if the node keeps one, and to local subscribers as ``subscriberPayload(_:)``.
    func deliverStreamEntryFromNetwork(channel: [UInt8], fields: [[UInt8]]) -> Int {
        stats.messagesFromNetwork += 1
        let receivers = fanOut(channel: channel, payload: Self.subscriberPayload(fields))
        flushFanOut()
        if streams.streams[channel] != nil {
            appendEntry(channel, fields)
            commitAppended()
        }
        return receivers
    }

    // MARK: - Completing backend calls

    /// The backend answered a client's PUBLISH: deliver locally and reply with the count, or
    /// reply with the backend's error and deliver nothing.
    func finishPublish(client: BrokerClient, channel: [UInt8], payload: [UInt8], error: BrokerBackendError?) {
        let shard = client.shardPublishPending
        client.shardPublishPending = false
        if let error {
            client.reply(rejectPublish(client: client, error: error))
            return
        }
        stats.messagesPublished += 1
        let receivers = shard ? fanOutShard(channel: channel, payload: payload) : fanOut(channel: channel, payload: payload)
        client.reply(.integer(Int64(receivers)))
        recordPublished(channel: channel, payload: payload)
        commitAppended()
    }

    /// Counts a PUBLISH the backend refused and returns the reply for the client.
    func rejectPublish(client: BrokerClient, error: BrokerBackendError) -> RESPValue {
        stats.publishesRejected += 1
        logger.debug("publish refused by backend", metadata: ["client": "\(client.id)", "error": "\(error.reason)"])
        return error.reply
    }

    /// Adds a finished run of accepted PUBLISH messages to the counters.
    func finishPublishRun(_ run: FanOutRun, published: Int) {
        stats.messagesPublished += UInt64(published)
        stats.messagesDelivered += UInt64(run.delivered)
        commitAppended()
    }

    /// The backend answered a `NYMBUS.*` command.
    func finishNymbus(client: BrokerClient, result: Result<RESPValue, BrokerBackendError>) {
        switch result {
        case .success(let value): client.reply(value)
        case .failure(let error): client.reply(error.reply)
        }
    }

    // MARK: - Commands

    /// Runs one command from `client`, queueing its replies.
    ///
    /// The checks come in Redis's order: unknown command, arity, the RESP2 subscribed-mode rule,
    /// then queueing inside MULTI; then the command's entry in ``BrokerCommandTable`` runs it.
    /// `NYMBUS.*` commands go to the backend.
    func execute(_ arguments: [[UInt8]], from client: BrokerClient) -> CommandOutcome {
        stats.commandsProcessed += 1
        defer { publishInterestIfChanged() }
        // CLIENT REPLY SKIP drops the replies of the one command after it.
        client.skippingCommand = client.skipNextCommand
        client.skipNextCommand = false
        guard let rawName = arguments.first else { return .done }
        let name = Self.lowercased(rawName)
        let isNymbus = name.hasPrefix("nymbus.")
        let spec = isNymbus ? nil : BrokerCommandTable.lookup(name)
        // Held stream replies go first: a command that is not a stream command is answered
        // only after them.
        if client.heldReplies != nil && !(spec?.holdsRepliesForStore ?? false) { commitPendingStreams() }

        if !isNymbus {
            guard let spec else {
                client.reply(.err(Self.unknownCommandMessage(arguments)))
                client.transactionFailed = client.transaction != nil
                return .done
            }
            guard BrokerCommandSpec.arityAccepts(spec.arity, arguments.count) else {
                client.reply(.err("wrong number of arguments for '\(spec.name)' command"))
                client.transactionFailed = client.transaction != nil
                return .done
            }
        }
        if client.protocolVersion == .resp2 && client.isSubscribed && !client.isExecuting
            && !(spec?.allowedWhileSubscribed ?? false)
        {
            client.reply(.err(Self.subscribedContextMessage(spec?.name ?? name)))
            return .done
        }
        if client.transaction != nil && !Self.transactionControl.contains(name) {
            queueInTransaction(arguments, client)
            return .done
        }
        guard let spec else {
            var forwarded = arguments
            forwarded[0] = Array(name.uppercased().utf8)
            return .nymbus(forwarded)
        }
        return spec.holdsRepliesForStore ? runStreamCommand(spec, arguments, client) : spec.run(self, arguments, client)
    }

    /// Commands that run at once inside MULTI instead of being queued.
    private static let transactionControl: Set<String> = ["exec", "discard", "multi", "quit", "reset"]

    private func queueInTransaction(_ arguments: [[UInt8]], _ client: BrokerClient) {
        let size = arguments.reduce(0) { $0 + $1.count }
        guard (client.transaction?.count ?? 0) < Self.maxQueuedCommands,
            client.transactionBytes + size <= Self.maxQueuedBytes
        else {
            client.reply(
                .err("transaction too large: at most \(Self.maxQueuedCommands) commands and \(Self.maxQueuedBytes) bytes"))
            client.transactionFailed = true
            return
        }
        client.transaction?.append(arguments)
        client.transactionBytes += size
        client.reply(.simpleString("QUEUED"))
    }

    /// MULTI.
    func multi(_ client: BrokerClient) {
        guard client.transaction == nil else {
            client.reply(.err("MULTI calls can not be nested"))
            return
        }
        client.transaction = []
        client.transactionBytes = 0
        client.transactionFailed = false
        client.reply(.simpleString("OK"))
    }

    /// DISCARD.
    func discard(_ client: BrokerClient) {
        guard client.transaction != nil else {
            client.reply(.err("DISCARD without MULTI"))
            return
        }
        client.transaction = nil
        client.reply(.simpleString("OK"))
    }

    /// EXEC: the connection runs the queued commands with their replies captured.
    func exec(_ client: BrokerClient) -> CommandOutcome {
        guard let queued = client.transaction else {
            client.reply(.err("EXEC without MULTI"))
            return .done
        }
        client.transaction = nil
        if client.transactionFailed {
            client.reply(.error("EXECABORT Transaction discarded because of previous errors."))
            return .done
        }
        return .exec(queued)
    }

    /// Runs a stream or key command. Its replies are held until what it changed is stored: the
    /// store is written once for a whole pipelined run of stream commands (group commit), when
    /// the connection's output is about to leave, before any other command of the client, or
    /// before a read parks. A failed write turns every held reply into `-ERR stream store: ...`
    /// (memory is rolled back to what the store holds), so no client is told of a change that
    /// is not on disk.
    private func runStreamCommand(_ spec: BrokerCommandSpec, _ arguments: [[UInt8]], _ client: BrokerClient)
        -> CommandOutcome
    {
        if client.heldReplies == nil {
            client.heldReplies = []
            heldClients.append(client)
        }
        let outcome = spec.run(self, arguments, client)
        if case .block = outcome {
            commitPendingStreams()
            // The write failed: the read was answered with the error instead of parking.
            if blocked[client.id] == nil { return .done }
        } else if client.isExecuting {
            commitPendingStreams()
        }
        return outcome
    }

    /// Whether some client has stream replies waiting for the store.
    var hasHeldReplies: Bool { !heldClients.isEmpty }

    /// Commits the held stream changes of every connection once, after the event loop has
    /// handled this tick's reads (group commit: one transaction, and with `always` one fsync,
    /// for all of them instead of one per connection). Replies still leave only once stored.
    func commitAtEndOfTick(on loop: any EventLoop) {
        guard !commitScheduled else { return }
        commitScheduled = true
        loop.assumeIsolated().execute { [self] in
            commitScheduled = false
            commitPendingStreams()
        }
    }

    /// Writes the pending stream changes (one transaction) and releases the held replies, in
    /// order; see ``runStreamCommand(_:_:_:)``. Safe to call at any time; not reentrant.
    /// - Parameter flushing: the client whose output is being written now (its handler sends the
    ///   released replies itself); every other released client is flushed here.
    func commitPendingStreams(flushing: BrokerClient? = nil) {
        guard !committing else { return }
        committing = true
        defer { committing = false }
        let clientsWaiting = heldClients
        heldClients.removeAll()
        var failure: StreamStoreError?
        do throws(StreamStoreError) {
            try streams.commit()
        } catch {
            failure = error
        }
        for client in clientsWaiting {
            let held = client.heldReplies ?? []
            client.heldReplies = nil
            if let failure {
                for _ in held { client.reply(.err("stream store: \(failure.reason)")) }
                _ = unblock(client)
            } else {
                for reply in held { client.reply(reply) }
            }
            if client !== flushing { client.output?.flush() }
        }
        if let failure {
            logger.error("stream store write failed", metadata: ["error": "\(failure.reason)"])
            stats.streamAppendsFailed += UInt64(pendingAppends)
            pendingAppends = 0
            readyKeys.removeAll()
            pendingFanOut.removeAll()
            outboxDirty = false
            return
        }
        pendingAppends = 0
        afterStreamCommit()
    }

    /// What follows a stored stream change: local subscribers get the new entries, the backend
    /// hears of new outbox items and of a changed key set, blocked reads are served.
    func afterStreamCommit() {
        if !pendingFanOut.isEmpty {
            let messages = pendingFanOut
            pendingFanOut.removeAll()
            for message in messages { _ = fanOut(channel: message.channel, payload: message.payload) }
            flushFanOut()
        }
        if outboxDirty {
            outboxDirty = false
            backend?.outboxReady()
        }
        if streams.takeKeysChanged() { streamKeys?.yield(Set(streams.streams.keys)) }
        serveReadyKeys()
    }

    /// Appends a message of `channel` (a local PUBLISH or one from the network) to the channel's
    /// stream, if the node keeps one, as the entry `message <payload>`; stored by
    /// ``commitAppended()``.
    func recordPublished(channel: [UInt8], payload: [UInt8]) {
        guard !streams.streams.isEmpty, streams.streams[channel] != nil else { return }
        appendEntry(channel, [Self.messageField, payload])
    }

    /// Appends `fields` to the stream of `channel` under a new local id.
    func appendEntry(_ channel: [UInt8], _ fields: [[UInt8]]) {
        let now = UInt64(max(0, clock()))
        pendingAppends += 1
        let appended = streams.update(channel) { stream -> Bool in
            guard (try? stream.append(fields: fields, id: nil, now: now)) != nil else { return false }
            _ = stream.applyRetention(configuration.streamRetention, now: Int64(now))
            return true
        }
        if appended == true {
            signalStream(channel)
        } else {
            stats.streamAppendsFailed += 1
        }
    }

    /// Stores the appends of published and delivered messages. PUBLISH is fire and forget, so a
    /// failed write is logged and counted (`stream_appends_failed`), never answered.
    func commitAppended() {
        guard streams.hasChanges || hasHeldReplies else { return }
        commitPendingStreams()
    }

    /// The field a PUBLISH message has in a stream entry: `message <payload>`.
    static let messageField = Array("message".utf8)

    /// What a SUBSCRIBEr gets for a stream entry: the value alone for an entry that is just
    /// `message <value>` (so XADD ch * message x and PUBLISH ch x look the same), otherwise the
    /// field/value list as a RESP2 array of bulk strings (any Redis client library parses it).
    static func subscriberPayload(_ fields: [[UInt8]]) -> [UInt8] {
        if fields.count == 2 && fields[0] == messageField { return fields[1] }
        var buffer = ByteBufferAllocator().buffer(capacity: 16 + fields.reduce(0) { $0 + $1.count + 16 })
        RESPWriter.write(.array(fields.map { .bulkString($0) }), version: .resp2, into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Whether a PUBLISH from `client` may join a publish batch that goes straight to the
    /// backend: outside MULTI, with no stream replies held, not refused by the RESP2
    /// subscribed-mode rule, and not needing ``BrokerClient/needsGeneralPublishPath``.
    func acceptsPlainPublish(from client: BrokerClient) -> Bool {
        client.transaction == nil && client.heldReplies == nil && !client.needsGeneralPublishPath
            && !(client.protocolVersion == .resp2 && client.isSubscribed && !client.isExecuting)
    }

    /// Most commands one MULTI may queue (Redis has no limit; this bounds a client's memory).
    static let maxQueuedCommands = 10_000
    /// Most argument bytes one MULTI may queue.
    static let maxQueuedBytes = 8 * 1024 * 1024

    // MARK: - Error texts (Redis's wording)

    static func subscribedContextMessage(_ name: String) -> String {
        "Can't execute '\(name)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    }

    /// `unknown command 'x', with args beginning with: 'a' 'b' `, truncated like Redis does.
    static func unknownCommandMessage(_ arguments: [[UInt8]]) -> String {
        var args: [UInt8] = []
        var index = 1
        while index < arguments.count && args.count < 128 {
            args.append(UInt8(ascii: "'"))
            args.append(contentsOf: arguments[index].prefix(128 - args.count + 1))
            args.append(contentsOf: Array("' ".utf8))
            index += 1
        }
        let name = String(decoding: (arguments.first ?? []).prefix(128), as: UTF8.self)
        return "unknown command '\(name)', with args beginning with: " + String(decoding: args, as: UTF8.self)
    }

    /// `unknown subcommand 'x'. Try CLIENT HELP.`
    static func unknownSubcommandMessage(_ subcommand: [UInt8], _ container: String) -> String {
        "unknown subcommand '\(String(decoding: subcommand.prefix(128), as: UTF8.self))'. Try \(container.uppercased()) HELP."
    }

    /// ASCII lower case of a command name (non-ASCII bytes kept, invalid UTF-8 replaced).
    /// Whether `bytes` spell `lowercase` in any mix of ASCII cases.
    static func equalsIgnoringASCIICase(_ bytes: [UInt8], _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        for (byte, wanted) in zip(bytes, expected) where (byte >= 65 && byte <= 90 ? byte + 32 : byte) != wanted {
            return false
        }
        return true
    }

    static func lowercased(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Redis's `string2ll` over a whole argument.
    static func integer(_ bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBytes { RESPRequestParser.parseInteger($0, from: 0, to: $0.count) }
    }
}

extension BrokerState {
    /// Closes every client (broker stopping) and drops them from the registry at once, so the
    /// final (empty) interest is sent now; the futures complete when the sockets are closed.
    func closeAllClients() -> [EventLoopFuture<Void>] {
        let all = Array(clients.values)
        let closing = all.compactMap { $0.output?.close() }
        for client in all { unregister(client) }
        return closing
    }
}
