public import Logging
public import NIOCore
import NIOPosix
import NymbusCrypto

/// The local broker: a RESP (Redis protocol) server on a Unix socket speaking the Redis pub/sub
/// subset, so `redis-cli -s SOCKET`, redis-py or any RESP client can publish and subscribe.
///
/// All connections and all broker state live on one event loop, like Redis's single thread:
/// no locks, and fan-out order is simple. Messages from local clients go to the
/// ``BrokerBackend`` first and are delivered locally once it accepts them; messages from the
/// network come in through ``deliver(channel:payload:)``. `spec/broker.md` describes the
/// commands, limits and permissions.
public actor BrokerServer {
    /// The configuration the broker was created with.
    public nonisolated let configuration: BrokerConfiguration
    /// The event loop every connection runs on.
    public nonisolated let eventLoop: any EventLoop
    private nonisolated let state: NIOLoopBoundBox<BrokerState>
    private let backend: any BrokerBackend
    private let logger: Logger
    private let interestStream: AsyncStream<InterestSnapshot>
    private let interestContinuation: AsyncStream<InterestSnapshot>.Continuation
    private let streamKeysStream: AsyncStream<Set<[UInt8]>>
    private let streamKeysContinuation: AsyncStream<Set<[UInt8]>>.Continuation
    private var streamKeysTask: Task<Void, Never>?

    private enum Phase {
        case idle
        case running(channel: any Channel, lock: Int32, socketInode: UInt64, interestTask: Task<Void, Never>)
        case stopped
    }
    private var phase = Phase.idle
    private var watchdog: Task<Void, Never>?
    /// Times the socket file was found gone (or replaced) and bound again.
    public private(set) var socketRebinds = 0
    /// How often the broker checks that its socket file is still the one it bound.
    public static let socketCheckInterval: Duration = .seconds(2)

    /// Creates a broker; nothing is bound until ``start()``.
    ///
    /// - Parameters:
    ///   - configuration: socket path and limits.
    ///   - backend: the overlay side (``LoopbackBrokerBackend`` for a standalone broker).
    ///   - eventLoop: the loop to run on; by default one of NIO's shared singleton loops.
    ///   - logger: where connection problems, slow subscribers and protocol errors are logged.
    ///   - streamStore: where streams are kept durably (``SQLiteStreamStore``); nil keeps them in
    ///     memory only (a standalone broker for tests).
    public init(
        configuration: BrokerConfiguration,
        backend: any BrokerBackend,
        eventLoop: (any EventLoop)? = nil,
        logger: Logger = Logger(label: "nymbus.broker"),
        streamStore: (any StreamStorage)? = nil
    ) {
        let loop = eventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
        let (stream, continuation) = AsyncStream.makeStream(
            of: InterestSnapshot.self, bufferingPolicy: .bufferingNewest(1))
        self.configuration = configuration
        self.eventLoop = loop
        self.backend = backend
        self.logger = logger
        self.interestStream = stream
        self.interestContinuation = continuation
        let (keys, keysContinuation) = AsyncStream.makeStream(of: Set<[UInt8]>.self, bufferingPolicy: .bufferingNewest(1))
        self.streamKeysStream = keys
        self.streamKeysContinuation = keysContinuation
        let state = BrokerState(configuration: configuration, logger: logger, interest: continuation, streamStore: streamStore)
        state.backend = backend
        state.streamKeys = keysContinuation
        self.state = NIOLoopBoundBox.makeBoxSendingValue(state, eventLoop: loop)
    }

    /// The socket path clients connect to.
    public nonisolated var socketPath: String { configuration.socketPath }

    /// Checks (and creates, mode 0700) the socket's directory without binding anything, so a
    /// daemon can report a bad directory before it waits for nym-client. `start()` checks again.
    public nonisolated func checkSocketDirectory() throws(BrokerError) {
        try BrokerSocketFile.prepareDirectory(for: configuration.socketPath)
    }

    /// Prepares the directory, takes the lock, replaces a stale socket, binds and sets the
    /// socket to mode 0600.
    ///
    /// - Throws: ``BrokerError``: `alreadyRunning` if another broker holds the path or anything
    ///   answers on it, `unsafeDirectory` if the directory is not private to this user,
    ///   `notASocket`, `socketPathTooLong`, `bindFailed`, `fileSystem`, `invalidState`,
    ///   `invalidConfiguration` (``BrokerConfiguration/validate()``).
    public func start() async throws(BrokerError) {
        guard case .idle = phase else {
            throw BrokerError(.invalidState, "the broker on '\(socketPath)' was already started")
        }
        try configuration.validate()
        let path = configuration.socketPath
        let stateBox = state
        let loaded = try? await eventLoop.submit { () -> StreamStoreError? in
            do throws(StreamStoreError) {
                let state = stateBox.value
                try state.streams.load()
                if state.streams.takeKeysChanged() { state.streamKeys?.yield(Set(state.streams.streams.keys)) }
                return nil
            } catch {
                return error
            }
        }.get()
        if let failure = loaded ?? nil {
            throw BrokerError(.streamStore, "cannot read the stream store: \(failure.reason)")
        }
        try BrokerSocketFile.prepareDirectory(for: path)
        let lock = try BrokerSocketFile.acquireLock(for: path)
        let channel: any Channel
        let inode: UInt64
        do throws(BrokerError) {
            try BrokerSocketFile.clearStaleSocket(path)
            (channel, inode) = try await bind(path)
        } catch {
            BrokerSocketFile.releaseLock(lock, for: path)
            throw error
        }
        let stream = interestStream
        let interestTask = Task {
            for await snapshot in stream {
                await backend.interestChanged(channels: snapshot.channels, patterns: snapshot.patterns)
            }
        }
        let keys = streamKeysStream
        streamKeysTask = Task {
            for await set in keys { await backend.streamsChanged(set) }
        }
        phase = .running(channel: channel, lock: lock, socketInode: inode, interestTask: interestTask)
        logger.info("broker listening", metadata: ["socket": "\(path)"])
        watchdog = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.socketCheckInterval)
                await self?.checkSocketFile()
            }
        }
    }

    /// Binds the socket again if its file is gone or is no longer the one this broker bound: a
    /// program cleaning a directory (tmp cleaners, a second `devnet` on the same directory, a
    /// user) must not leave a running node unreachable with no word. Never takes over a socket
    /// another program listens on.
    public func checkSocketFile() async {
        guard case .running(let old, let lock, let inode, let interestTask) = phase else { return }
        let path = configuration.socketPath
        guard BrokerSocketFile.inode(of: path) != inode else { return }
        if BrokerSocketFile.isListening(path) {
            logger.error(
                "another program now listens on this broker's socket path; clients reach it, not this node",
                metadata: ["socket": "\(path)"])
            return
        }
        do throws(BrokerError) {
            // A cleaned directory took the lock file too: lock a new one, so a second broker
            // cannot start on this path meanwhile.
            var heldLock = lock
            if !BrokerSocketFile.lockFileIsHeld(lock, for: path) {
                heldLock = try BrokerSocketFile.acquireLock(for: path)
                BrokerSocketFile.closeLock(lock)
                phase = .running(channel: old, lock: heldLock, socketInode: inode, interestTask: interestTask)
            }
            // Close the old listener first: NIO unlinks whatever socket file is at the path when a
            // Unix-domain listener closes, so closing it after binding would remove the new one.
            try? await old.close()
            try BrokerSocketFile.clearStaleSocket(path)
            let (channel, newInode) = try await bind(path)
            guard case .running = phase else {
                try? await channel.close()
                return
            }
            phase = .running(channel: channel, lock: heldLock, socketInode: newInode, interestTask: interestTask)
            socketRebinds += 1
            logger.error(
                "the broker socket file was removed or replaced while the node ran; listening on a new one",
                metadata: ["socket": "\(path)", "rebinds": "\(socketRebinds)"])
        } catch {
            logger.error(
                "the broker socket file was removed and cannot be bound again",
                metadata: ["socket": "\(path)", "error": "\(error)"])
        }
    }

    private func bind(_ path: String) async throws(BrokerError) -> (any Channel, UInt64) {
        let stateBox = state
        let backend = self.backend
        let bootstrap = ServerBootstrap(group: eventLoop)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Like Redis (16 KiB per read, one read per wake-up): a pipelining client gets the
            // answers to what was read while it is still sending the rest, so both sides work at
            // once; reading its whole window before answering makes them take turns.
            .childChannelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 1024))
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        BrokerConnectionHandler(state: stateBox.value, backend: backend))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
        } catch {
            throw BrokerError(.bindFailed, "cannot bind the broker socket '\(path)': \(error)")
        }
        do throws(BrokerError) {
            return (channel, try BrokerSocketFile.restrictSocket(path))
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Stops accepting, closes every client, removes the socket file and the lock. The backend
    /// receives the final (empty) interest before this returns. Calling it again does nothing.
    public func stop() async {
        guard case .running(let channel, let lock, let inode, let interestTask) = phase else { return }
        phase = .stopped
        watchdog?.cancel()
        watchdog = nil
        try? await channel.close()
        let stateBox = state
        if let closing = try? await eventLoop.submit({ stateBox.value.closeAllClients() }).get() {
            for future in closing { try? await future.get() }
        }
        BrokerSocketFile.removeSocket(configuration.socketPath, inode: inode)
        BrokerSocketFile.releaseLock(lock, for: configuration.socketPath)
        interestContinuation.finish()
        await interestTask.value
        streamKeysContinuation.finish()
        await streamKeysTask?.value
        logger.info("broker stopped", metadata: ["socket": "\(configuration.socketPath)"])
    }

    /// Delivers a message that arrived from the network to local subscribers of `channel` and
    /// of every pattern matching it, exactly as Redis's PUBLISH fans out.
    ///
    /// - Returns: the number of local receivers (pattern matches count separately).
    public nonisolated func deliver(channel: [UInt8], payload: [UInt8]) async -> Int {
        let stateBox = state
        let delivery = eventLoop.submit { stateBox.value.deliverFromNetwork(channel: channel, payload: payload) }
        return (try? await delivery.get()) ?? 0
    }

    /// Delivers a stream entry that arrived from the network (an XADD on another node): appended
    /// to the channel's stream if this node keeps one, and sent to local subscribers of the channel
    /// as the value of a lone `message` field or else the field/value list as a RESP array.
    ///
    /// - Returns: the number of local receivers.
    public nonisolated func deliver(channel: [UInt8], streamEntry fields: [[UInt8]]) async -> Int {
        let stateBox = state
        let delivery = eventLoop.submit { stateBox.value.deliverStreamEntryFromNetwork(channel: channel, fields: fields) }
        return (try? await delivery.get()) ?? 0
    }

    /// The channels this broker keeps a stream for.
    public nonisolated func streamKeys() async -> Set<[UInt8]> {
        let stateBox = state
        return (try? await eventLoop.submit { Set(stateBox.value.streams.streams.keys) }.get()) ?? []
    }

    /// The broker's counters now.
    public nonisolated func stats() async -> BrokerStats {
        let stateBox = state
        return (try? await eventLoop.submit { stateBox.value.currentStats() }.get()) ?? BrokerStats()
    }
}
