import Foundation
public import Logging
public import NymClient
public import NymbusBroker
public import NymbusCrypto
public import NymbusNode
public import NymbusPubSub
import NymbusArchive

/// One whole Nymbus node: the nym-client connection, the P2P node, the topic layer and the
/// local broker, wired together. `nymbus run` runs one; `nymbus devnet` runs several.
public actor NymbusDaemon {
    /// The nym-client connection.
    public nonisolated let transport: NymClientConnection
    /// The P2P node.
    public nonisolated let node: Node
    /// The topic layer.
    public nonisolated let pubsub: PubSub<Node>
    /// The local RESP broker.
    public nonisolated let broker: BrokerServer
    public nonisolated let configuration: DaemonConfiguration
    private let bridge: TopicBridge
    private let reconciler: SubscriptionReconciler
    private let drainer: PublishDrainer
    /// Streams on disk (`streams.sqlite`), when the node has a data directory.
    private let streamStore: SQLiteStreamStore?
    /// Sends what local XADDs stored for the other nodes (needs the store).
    private let outbox: StreamOutbox?
    /// Objects accepted in the last 24 h, served to peers catching up (`archive.sqlite` with a
    /// data directory, else in memory).
    private let archive: any ObjectArchive
    private let logger: Logger
    private var started = false
    private var watchTask: Task<Void, Never>?
    /// The data directory's lock, held from `init` until `stop()` (or the process ends).
    private let lock: DataDirectoryLock?

    /// Builds the parts; nothing connects until `start()`.
    ///
    /// - Throws: `DaemonError` if the data directory cannot be used or a file in it is corrupt,
    ///   `.invalidConfiguration` naming a field out of its range (``DaemonConfiguration/validate()``).
    public init(configuration: DaemonConfiguration, logger: Logger) throws(DaemonError) {
        try configuration.validate()
        var configuration = configuration
        let directory = try configuration.dataDirectory.map { path throws(DaemonError) in try DataDirectory(path: path) }
        let lock = try directory.map { directory throws(DaemonError) in try DataDirectoryLock(directory: directory) }
        self.lock = lock
        if let directory {
            configuration.node.dataDirectory = directory.path
            configuration.pubsub.authorSecret = try Self.loadOrCreateAuthorSecret(in: directory)
        }
        self.configuration = configuration
        self.logger = logger
        let transport = NymClientConnection(configuration: configuration.nymClient, logger: logger)
        let node = Node(transport: transport, configuration: configuration.node, logger: logger)
        let pubsub: PubSub<Node>
        do { pubsub = try PubSub(network: node, configuration: configuration.pubsub, logger: logger) } catch {
            throw DaemonError(.invalidConfiguration, "topic layer: \(error.reason)")
        }
        self.transport = transport
        self.node = node
        self.pubsub = pubsub
        let store = try TopicStore(directory: directory)
        if let directory {
            do {
                streamStore = try SQLiteStreamStore(path: directory.file("streams.sqlite"), fsync: configuration.streamFsync)
            } catch {
                throw DaemonError(.corruptFile, error.reason)
            }
        } else {
            streamStore = nil
        }
        if let directory {
            do { archive = try SQLiteObjectArchive(path: directory.file("archive.sqlite"), limits: configuration.archive) } catch {
                throw DaemonError(.corruptFile, error.reason)
            }
        } else {
            archive = MemoryObjectArchive(limits: configuration.archive)
        }
        // The path between the broker and the topic layer, one job per part (docs/ARCHITECTURE.md).
        let channels = ChannelDirectory(joined: store.topics)
        let reconciler = SubscriptionReconciler(
            pubsub: pubsub, directory: channels, maxPayloadBytes: configuration.pubsub.maxPayloadBytes, logger: logger)
        let membership = TopicMembership(store: store, directory: channels, reconciler: reconciler, logger: logger)
        let queue = PublishQueue()
        let drainer = PublishDrainer(queue: queue, pubsub: pubsub, logger: logger) { channel in
            await reconciler.remember(channel)
        }
        let outbox = streamStore.map { store in
            StreamOutbox(store: store, pubsub: pubsub, logger: logger) { channel throws(BrokerBackendError) in
                try channels.topic(for: channel)
            }
        }
        let references = LateReferences()
        let publishPath: @Sendable () async -> PublishPathCounters = {
            var counters = PublishPathCounters(
                queueWaiting: queue.waiting, publishersWaiting: queue.publishersWaiting,
                publishesLost: await drainer.lostAfterAcceptance,
                publishesRefusedNoPeer: references.bridge?.publishesRefusedNoPeer ?? 0,
                streams: await reconciler.streamChannels.count,
                streamEntriesMalformed: await reconciler.malformedStreamEntries)
            if let outbox { counters.outbox = (await outbox.waiting, await outbox.sent, await outbox.dropped) }
            return counters
        }
        let commands = NymbusCommands(membership: membership, reconciler: reconciler, directory: channels) {
            arguments throws(BrokerBackendError) -> RESPValue? in
            try await DaemonCommands.run(
                arguments, transport: transport, node: node, pubsub: pubsub, broker: references.broker,
                publishPath: publishPath)
        }
        let bridge = TopicBridge(
            directory: channels, queue: queue, reconciler: reconciler, commands: commands, outbox: outbox,
            maxPayloadBytes: configuration.pubsub.maxPayloadBytes, noPeerWait: configuration.noPeerPublishWait)
        references.bridge = bridge
        self.bridge = bridge
        self.reconciler = reconciler
        self.drainer = drainer
        self.outbox = outbox
        self.broker = BrokerServer(
            configuration: BrokerConfiguration(
                socketPath: configuration.socketPath, maxOutputBytes: configuration.brokerMaxOutputBytes),
            backend: bridge, logger: logger, streamStore: streamStore)
        references.broker = self.broker
    }

    /// Connects to nym-client (retrying while it starts), starts the node, then opens the broker.
    public func start() async throws(DaemonError) {
        guard !started else { return }
        // What needs no nym-client is checked first, so a bad directory or file is reported at
        // once rather than after nym-client answers.
        do { try broker.checkSocketDirectory() } catch {
            throw DaemonError(.startFailed, "Cannot use the broker socket: \(error.reason)")
        }
        do { try await node.loadState() } catch {
            throw DaemonError(.startFailed, "Cannot start the node: \(error.reason)")
        }
        if let directory = configuration.node.dataDirectory {
            do { try await pubsub.keepHeldPublishes(in: directory) } catch {
                throw DaemonError(.corruptFile, error.reason)
            }
        }
        // Before any peer: the archive's recent ids enter the seen cache (no duplicates after a restart).
        await pubsub.useArchive(archive)
        do { try await transport.start() } catch {
            throw DaemonError(.startFailed, "cannot reach nym-client on port \(configuration.nymClient.port): \(error.reason)")
        }
        let bridge = self.bridge
        await pubsub.attach { [weak node] _ in
            // Publishing is refused only after no peer was linked for a while (TopicBridge).
            if let node { bridge.setLinked(!(await node.peers().isEmpty)) }
        }
        do { try await node.start() } catch {
            await transport.close()
            throw DaemonError(.startFailed, "cannot start the node: \(error.reason)")
        }
        do { try await broker.start() } catch {
            await node.stop()
            await transport.close()
            throw DaemonError(.startFailed, "cannot start the broker: \(error.reason)")
        }
        let broker = self.broker
        await drainer.start()
        await reconciler.attach(
            deliver: { channel, payload in await broker.deliver(channel: channel, payload: payload) },
            deliverEntry: { channel, fields in await broker.deliver(channel: channel, streamEntry: fields) })
        await outbox?.start()
        started = true
        if let threshold = configuration.warnWithoutPeerAfter { startPeerlessWatch(threshold: threshold) }
        let mode = configuration.node.mode
        logger.info("nymbus node started", metadata: ["mode": "\(mode)", "socket": "\(broker.socketPath)"])
    }

    /// Closes the broker, says `bye` to peers, saves the address book and closes the nym-client link.
    /// Safe to call at any point, also while `start()` is still running or after it failed.
    public func stop() async {
        started = false
        watchTask?.cancel()
        watchTask = nil
        await broker.stop()
        await outbox?.stop()
        streamStore?.close()
        await reconciler.stop()
        await drainer.stop(drain: .seconds(5))
        await pubsub.stop()
        await pubsub.stopSync()
        (archive as? SQLiteObjectArchive)?.close()
        // What was accepted goes to nym-client before the links say `bye` (bounded).
        let left = await node.drainOutboxes(timeout: .seconds(3))
        if left > 0 { logger.warning("messages not sent before stopping", metadata: ["count": "\(left)"]) }
        await node.stop()
        await transport.close()
        lock?.release()
    }

    /// Ends the daemon as `kill -9` would: the node stops at once without a word to its peers
    /// or a file written, the broker socket and the nym-client link close, the data directory's
    /// lock is released (the kernel would). For crash tests and the relink benchmark; the
    /// daemon cannot be started again.
    public func crash() async {
        started = false
        await node.crash()
        await broker.stop()
        await transport.close()
        lock?.release()
    }

    /// Checks the peer count a few times per threshold and logs one warning per spell without
    /// peers (``PeerlessWatch``).
    private func startPeerlessWatch(threshold: Duration) {
        let (node, logger) = (self.node, self.logger)
        let tick = min(max(threshold / 4, .milliseconds(50)), .seconds(5))
        watchTask = Task {
            var watch = PeerlessWatch(threshold: threshold, start: .now)
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                guard !Task.isCancelled else { return }
                if let alone = watch.observe(peers: await node.peers().count, at: .now) {
                    logger.warning(
                        "no peer for \(alone.components.seconds) s: nothing published here reaches anyone; check the bootstrap addresses and that nym-client is connected",
                        metadata: ["threshold-seconds": "\(threshold.components.seconds)"])
                }
            }
        }
    }

    /// `NYMBUS.STATUS` as the broker answers it: a map of kebab-case keys to integers and
    /// texts (the single source for `nymbus status`, health checks and metrics).
    public func status() async throws(BrokerBackendError) -> RESPValue {
        try await bridge.nymbusCommand([Array("NYMBUS.STATUS".utf8)])
    }

    /// The integer entries of ``status()``, in order (texts such as the address are left out).
    public func statusNumbers() async -> [(key: String, value: Int64)] {
        guard case .map(let entries)? = try? await status() else { return [] }
        return entries.compactMap { entry in
            guard let key = entry.key.text, case .integer(let value) = entry.value else { return nil }
            return (key, value)
        }
    }

    /// This node's Nym address if it is visible; nil in hidden mode.
    public var advertisedAddress: Recipient? {
        get async { await node.advertisedAddress }
    }

    private static func loadOrCreateAuthorSecret(in directory: DataDirectory) throws(DaemonError) -> SecureBytes {
        let name = "author.key"
        if let data = try directory.read(name) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let bytes = try? Hex.decode(text), bytes.count == 32 else {
                throw DaemonError(.corruptFile, "\(directory.file(name)) is not 32 bytes of hex; fix or move it away")
            }
            return SecureBytes(bytes)
        }
        let secret = SecureBytes(randomCount: 32)
        try directory.write(name, Data((Hex.encode(secret.copyBytes()) + "\n").utf8))
        return secret
    }
}

/// The broker and its backend, for `NYMBUS.STATUS`, which the backend answers: set once after
/// all exist.
final class LateReferences: @unchecked Sendable {
    // Written once in `NymbusDaemon.init` before any command can run, then only read.
    nonisolated(unsafe) var broker: BrokerServer?
    nonisolated(unsafe) var bridge: TopicBridge?
}
