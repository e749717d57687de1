public import Logging
import NIOCore
import NIOPosix
import NIOWebSocket
import NymClient
public import NymbusCrypto
public import NymbusTransport

/// A local stand-in for the Nym mixnet: N simulated nym-clients on loopback WebSockets, routed
/// through one simulated mixnet.
///
/// Each endpoint speaks nym-client's WebSocket API byte for byte (NYM-CLIENT.md §1–§3, using the
/// `NymClient` codecs): one app connection at a time, answers in the frame type of the last
/// request, nym-client's error kinds and texts, `selfAddress` with a stable valid address, no
/// answers to sends except `laneQueueLength` when a connection id is given, and never a delivery
/// error. Between endpoints the `MixnetRouter` applies delays, loss, duplication, sender tags and
/// the SURB rules. A node cannot tell it from a real nym-client; no node code path is test-only.
///
/// ```swift
/// var configuration = MixnetConfiguration()
/// configuration.hopDelay = .zero
/// let mixnet = try LocalMixnet(configuration: configuration)
/// try await mixnet.start()
/// let urls = await mixnet.endpoints.map(\.url)
/// ```
public actor LocalMixnet {
    /// The configuration the mixnet was created with.
    public nonisolated let configuration: MixnetConfiguration

    private struct Connection {
        let id: UInt64
        let channel: any Channel
        /// Answers and pushes follow the frame type of the last request; binary until then.
        var textMode = false
        /// Data bytes of the messages pushed on this connection.
        var deliveredBytes = 0
    }

    private struct EndpointRuntime {
        /// Configured port, replaced by the actual one after the first bind.
        var port: Int
        var server: (any Channel)?
        var connection: Connection?
        /// The endpoint's nym-client "process" is down (between `takeOffline` and `bringOnline`).
        var offline = false
        /// The port was picked here and is reserved in `PortReservations` until `deinit`.
        var reserved = false
    }

    private let logger: Logger
    private let stateFile: MixnetStateFile?
    private let clock = ContinuousClock()
    private let epoch: ContinuousClock.Instant
    private var router: MixnetRouter
    private var runtimes: [EndpointRuntime] = []
    private var group: MultiThreadedEventLoopGroup?
    private var running = false
    private var timer: Task<Void, Never>?
    private var armedDeadline: Duration?
    private var taps: [Int: AsyncStream<MixnetTapEvent>.Continuation] = [:]
    private var nextTapID = 0
    private var nextConnectionID: UInt64 = 1

    /// Creates the mixnet and its endpoint addresses; nothing listens until `start()`.
    ///
    /// With a state directory, stored addresses are reused in order (there may be more than
    /// `clientCount` of them if endpoints were added at runtime) and new ones are stored.
    /// - Throws: `MixnetError` for an invalid configuration, a non-loopback host, or a state
    ///   file that cannot be read, parsed or written.
    public init(configuration: MixnetConfiguration = MixnetConfiguration(), logger: Logger? = nil) throws(MixnetError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "nymbus.mixnet")
        self.epoch = clock.now
        let random = configuration.seed.map { MixnetRandom(seed: $0) } ?? MixnetRandom()
        var router = MixnetRouter(configuration: configuration, random: random)
        var addresses: [Recipient] = []
        if let directory = configuration.stateDirectory {
            let file = MixnetStateFile(directory: directory)
            addresses = try file.load()
            let stored = addresses.count
            while addresses.count < configuration.clientCount { addresses.append(Recipient.random()) }
            if addresses.count != stored || stored == 0 { try file.save(addresses) }
            self.stateFile = file
        } else {
            self.stateFile = nil
            for _ in 0..<configuration.clientCount { addresses.append(Recipient.random()) }
        }
        for address in addresses { router.addEndpoint(address) }
        self.router = router
        self.runtimes = addresses.indices.map { EndpointRuntime(port: Self.configuredPort(configuration, $0)) }
    }

    deinit {
        for runtime in runtimes where runtime.reserved { PortReservations.release(runtime.port) }
    }

    private static func configuredPort(_ configuration: MixnetConfiguration, _ index: Int) -> Int {
        configuration.firstPort == 0 ? 0 : configuration.firstPort + index
    }

    // MARK: Lifecycle

    /// Opens every endpoint's port (after the simulated startup delay).
    /// - Throws: `MixnetError.bindFailed` if a port cannot be opened (then nothing stays open).
    public func start() async throws(MixnetError) {
        guard !running else { throw MixnetError(.alreadyRunning, "the mixnet is already running") }
        running = true
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        if configuration.startupDelay > .zero {
            try? await Task.sleep(for: configuration.startupDelay)
        }
        for endpoint in runtimes.indices {
            do { try await listen(endpoint) } catch {
                await stopListening()
                throw error
            }
        }
        pump()
    }

    /// Closes every connection and port and finishes the tap streams. In-flight messages, tags,
    /// SURB books and inboxes stay in memory, so `start()` can resume on the same ports.
    public func stop() async {
        await stopListening()
        for continuation in taps.values { continuation.finish() }
        taps = [:]
    }

    /// `stop()` then `start()` on the same ports, keeping the taps open.
    public func restart() async throws(MixnetError) {
        await stopListening()
        try await start()
    }

    private func stopListening() async {
        guard running else { return }
        running = false
        timer?.cancel()
        timer = nil
        armedDeadline = nil
        for endpoint in runtimes.indices {
            closeConnection(endpoint)
            router.detach(endpoint)
            if let server = runtimes[endpoint].server {
                runtimes[endpoint].server = nil
                try? await server.close()
            }
        }
        if let group {
            self.group = nil
            try? await group.shutdownGracefully()
        }
    }

    /// Where an endpoint with no configured port listens: below the kernel's ephemeral ports
    /// (Linux 32768–60999, macOS 49152–65535). A port from the ephemeral range (port 0) could be
    /// taken, while a restart or `takeOffline(_:)` has it closed, by any program's outgoing
    /// connection, and held for as long as that connection lasts: with two test suites at once,
    /// a restarted endpoint once found its port taken for good (`bindFailed` after 5 s). A picked
    /// port is also reserved (`PortReservations`) until the mixnet is gone, so that no other
    /// local mixnet, in any process, picks it while it is closed.
    static let freePorts = 20_000..<32_768

    private func listen(_ endpoint: Int) async throws(MixnetError) {
        guard let group, runtimes[endpoint].server == nil, !runtimes[endpoint].offline else { return }
        // No port yet: a free one below the kernel's ephemeral ports, kept for restarts.
        let pick = runtimes[endpoint].port == 0
        var port = pick ? Int.random(in: Self.freePorts) : runtimes[endpoint].port
        var channel: (any Channel)?
        // A port kept across a restart can be held for a moment by a socket that is closing, or by
        // another program's short-lived connection: retry for up to 5 s before giving up.
        var attempts = 0
        while channel == nil {
            if pick && !PortReservations.reserve(port) {
                // Another local mixnet's port, perhaps closed while its endpoint is offline.
                attempts += 1
                guard attempts < 500 else {
                    throw MixnetError(.bindFailed, "endpoint \(endpoint) found no free port in \(Self.freePorts)")
                }
                port = port + 1 < Self.freePorts.upperBound ? port + 1 : Self.freePorts.lowerBound
                continue
            }
            do {
                channel = try await EndpointListener.bind(
                    host: configuration.host, port: port, on: group.next(),
                    accept: { [weak self] events in
                        guard let self else { return }
                        Task { await self.serve(endpoint: endpoint, events: events) }
                    })
            } catch {
                attempts += 1
                if pick {
                    // Taken (by another program, or a mixnet that does not reserve): the next one.
                    PortReservations.release(port)
                    guard attempts < 500 else {
                        throw MixnetError(
                            .bindFailed, "endpoint \(endpoint) found no free port in \(Self.freePorts): \(error)")
                    }
                    port = port + 1 < Self.freePorts.upperBound ? port + 1 : Self.freePorts.lowerBound
                    continue
                }
                guard port != 0, attempts < 50 else {
                    throw MixnetError(.bindFailed, "endpoint \(endpoint) cannot listen on port \(port): \(error)")
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        guard let channel else { return }
        runtimes[endpoint].server = channel
        runtimes[endpoint].port = channel.localAddress?.port ?? port
        if pick { runtimes[endpoint].reserved = true }
        logger.info(
            "endpoint listening",
            metadata: [
                "endpoint": "\(endpoint)", "port": "\(runtimes[endpoint].port)",
                "address": "\(router.endpoints[endpoint].address)",
            ])
    }

    // MARK: Endpoints

    /// Every endpoint: index, Nym address, host and (once started) actual port and URL.
    public var endpoints: [MixnetEndpoint] {
        runtimes.indices.map {
            MixnetEndpoint(
                index: $0, address: router.endpoints[$0].address, host: configuration.host, port: runtimes[$0].port)
        }
    }

    /// Adds an endpoint with a fresh address (stored in the state directory) and, if the mixnet
    /// is running, opens its port.
    @discardableResult
    public func addEndpoint() async throws(MixnetError) -> MixnetEndpoint {
        var address = Recipient.random()
        while router.endpointIndex(of: address) != nil { address = Recipient.random() }
        let index = router.addEndpoint(address)
        runtimes.append(EndpointRuntime(port: Self.configuredPort(configuration, index)))
        if let stateFile { try stateFile.save(router.endpoints.map(\.address)) }
        if running { try await listen(index) }
        return endpoints[index]
    }

    /// Closes `endpoint`'s current WebSocket (if any), as if the app's connection broke. The port
    /// stays open, so the app can reconnect; arrivals meanwhile wait in the endpoint's inbox.
    public func dropConnection(_ endpoint: Int) throws(MixnetError) {
        try check(endpoint)
        closeConnection(endpoint)
        router.detach(endpoint)
    }

    /// Simulates a crash or restart of `endpoint`'s nym-client: its port closes, what lived only
    /// in that process (inbox, replies waiting for SURBs) is lost, and its gateway holds what
    /// arrives until `bringOnline(_:)`. Tags and SURB books survive (nym-client stores them).
    public func takeOffline(_ endpoint: Int) async throws(MixnetError) {
        try check(endpoint)
        runtimes[endpoint].offline = true
        closeConnection(endpoint)
        perform(router.setOnline(endpoint, false, now: now()))
        if let server = runtimes[endpoint].server {
            runtimes[endpoint].server = nil
            try? await server.close()
        }
    }

    /// Restarts `endpoint`'s nym-client after `takeOffline(_:)`: the port opens again on the same
    /// number and what its gateway held is processed.
    public func bringOnline(_ endpoint: Int) async throws(MixnetError) {
        try check(endpoint)
        guard runtimes[endpoint].offline else { return }
        runtimes[endpoint].offline = false
        if running { try await listen(endpoint) }
        perform(router.setOnline(endpoint, true, now: now()))
        pump()
    }

    private func check(_ endpoint: Int) throws(MixnetError) {
        guard runtimes.indices.contains(endpoint) else {
            throw MixnetError(.unknownEndpoint, "no endpoint \(endpoint); there are \(runtimes.count)")
        }
    }

    private func closeConnection(_ endpoint: Int) {
        if let connection = runtimes[endpoint].connection {
            runtimes[endpoint].connection = nil
            connection.channel.close(promise: nil)
        }
    }

    // MARK: Observation

    /// A stream of every message entering the mixnet from now on (see `MixnetTapEvent`).
    /// Each call makes an independent, unbounded stream; it ends at `stop()`.
    public func tap() -> AsyncStream<MixnetTapEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: MixnetTapEvent.self)
        let id = nextTapID
        nextTapID += 1
        taps[id] = continuation
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.removeTap(id) }
        }
        return stream
    }

    private func removeTap(_ id: Int) { taps[id] = nil }

    /// Running totals (routed, delivered, lost, duplicated, dropped replies, SURB traffic).
    public var counters: MixnetCounters { router.counters }

    /// Usable SURBs `holder` keeps for `tag`; `nil` if it has no book for that tag.
    public func surbCount(holder: Int, tag: SenderTag) -> Int? { router.surbCount(holder: holder, tag: tag) }

    /// Replies `holder` has queued for `tag` while it waits for SURBs.
    public func pendingReplies(holder: Int, tag: SenderTag) -> Int { router.pendingReplies(holder: holder, tag: tag) }

    /// The tag endpoint `sender` uses towards `recipient`, once it has sent anonymously to it.
    public func senderTag(from sender: Int, to recipient: Recipient) -> SenderTag? {
        router.senderTag(from: sender, to: recipient)
    }

    /// Packets waiting for `endpoint`'s Poisson sender, in every lane (0 when unpaced).
    public func queuedPackets(_ endpoint: Int) -> Int { router.queuedPackets(endpoint: endpoint) }

    /// Packets (app data and SURB traffic, not cover) each endpoint's Poisson sender let go so
    /// far, by endpoint index: how much of its nym-client's pace each node spends.
    public var packetsSentPerEndpoint: [Int] { router.endpoints.map(\.packetsSent) }

    /// Packets `endpoint` has waiting in lane `lane`, as nym-client's `LaneQueueLength` reports them.
    public func laneQueueLength(_ endpoint: Int, lane: UInt64) -> Int {
        router.laneQueueLength(endpoint: endpoint, lane: lane)
    }

    /// Whether nothing is in flight between the endpoints (no packet travelling, queued or held;
    /// replies waiting for SURBs wait, they are not in flight): the mixnet's own quiescence, for
    /// tests that check that nothing more arrives.
    ///
    /// Carries out first what is already due: on a starved machine the timer task runs late, and
    /// packets whose time has come are delivered, not still travelling.
    public var isQuiet: Bool {
        pump()
        return router.isQuiet
    }

    /// Data bytes of the messages pushed to `endpoint`'s app on its current WebSocket (0 with
    /// none): equal to the client's count of what it read there once it has read everything.
    public func deliveredBytesOnConnection(_ endpoint: Int) -> Int {
        runtimes.indices.contains(endpoint) ? runtimes[endpoint].connection?.deliveredBytes ?? 0 : 0
    }

    /// Messages waiting for an app to attach to `endpoint`.
    public func inboxCount(_ endpoint: Int) -> Int { router.inboxCount(endpoint) }

    /// Whether an app holds `endpoint`'s WebSocket right now.
    public func isAttached(_ endpoint: Int) -> Bool {
        runtimes.indices.contains(endpoint) && runtimes[endpoint].connection != nil
    }

    /// Makes `endpoint` forget its sender tags (like nym-client's tag reset, nymtech/nym#5600).
    public func resetSenderTags(_ endpoint: Int) throws(MixnetError) {
        try check(endpoint)
        router.resetSenderTags(of: endpoint)
    }

    // MARK: Connections

    private func serve(endpoint: Int, events: AsyncStream<ConnectionEvent>) async {
        let id = nextConnectionID
        nextConnectionID += 1
        for await event in events {
            switch event {
            case .opened(let channel): opened(endpoint: endpoint, id: id, channel: channel)
            case .message(let isText, let bytes): received(endpoint: endpoint, id: id, isText: isText, bytes: bytes)
            case .closed: closed(endpoint: endpoint, id: id)
            }
        }
    }

    private func opened(endpoint: Int, id: UInt64, channel: any Channel) {
        guard running, !runtimes[endpoint].offline else {
            channel.close(promise: nil)
            return
        }
        closeConnection(endpoint)
        runtimes[endpoint].connection = Connection(id: id, channel: channel)
        perform(router.attach(endpoint, now: now()))
    }

    private func closed(endpoint: Int, id: UInt64) {
        guard runtimes[endpoint].connection?.id == id else { return }
        runtimes[endpoint].connection = nil
        router.detach(endpoint)
    }

    private func received(endpoint: Int, id: UInt64, isText: Bool, bytes: [UInt8]) {
        guard runtimes[endpoint].connection?.id == id else { return }
        runtimes[endpoint].connection?.textMode = isText
        let request: ClientRequest
        do throws(NymClientRequestError) {
            if isText {
                guard let json = String(validating: bytes, as: UTF8.self) else {
                    // tungstenite fails the read on a text frame that is not UTF-8: connection ends.
                    dropConnectionQuietly(endpoint)
                    return
                }
                request = try ClientRequest.decodeText(json)
            } else {
                request = try ClientRequest.decodeBinary(bytes)
            }
        } catch {
            router.count { $0.requestsRejected += 1 }
            write(error.response, to: endpoint)
            return
        }
        handle(request, from: endpoint)
    }

    private func dropConnectionQuietly(_ endpoint: Int) {
        closeConnection(endpoint)
        router.detach(endpoint)
    }

    private func handle(_ request: ClientRequest, from endpoint: Int) {
        let now = now()
        switch request {
        case .selfAddress:
            write(.selfAddress(router.endpoints[endpoint].address), to: endpoint)
        case .send(let recipient, let data, let connectionID):
            perform(router.send(from: endpoint, to: recipient, data: data, connectionID: connectionID, now: now))
        case .sendAnonymous(let recipient, let data, let replySurbs, let connectionID):
            perform(
                router.sendAnonymous(
                    from: endpoint, to: recipient, data: data, replySurbs: replySurbs, connectionID: connectionID,
                    now: now))
        case .reply(let tag, let data, let connectionID):
            perform(router.reply(from: endpoint, tag: tag, data: data, connectionID: connectionID, now: now))
        case .closedConnection(let connectionID):
            router.closedConnection(from: endpoint, connectionID: connectionID)
        case .getLaneQueueLength(let lane):
            let length = router.laneQueueLength(endpoint: endpoint, lane: lane)
            write(.laneQueueLength(lane: lane, queueLength: UInt64(length)), to: endpoint)
        }
        pump()
    }

    private func perform(_ actions: [RouterAction]) {
        for action in actions {
            switch action {
            case .deliver(let endpoint, let message):
                runtimes[endpoint].connection?.deliveredBytes += message.data.count
                write(.received(message), to: endpoint)
            case .laneQueueLength(let endpoint, let lane, let length):
                write(.laneQueueLength(lane: lane, queueLength: UInt64(length)), to: endpoint)
            case .tap(let event):
                for continuation in taps.values { continuation.yield(event) }
            }
        }
    }

    private func write(_ response: ServerResponse, to endpoint: Int) {
        guard let connection = runtimes[endpoint].connection else { return }
        let channel = connection.channel
        let frame: WebSocketFrame
        if connection.textMode {
            let text = response.encodeText()
            frame = WebSocketFrame(fin: true, opcode: .text, data: channel.allocator.buffer(string: text))
        } else {
            frame = WebSocketFrame(
                fin: true, opcode: .binary, data: channel.allocator.buffer(bytes: response.encodeBinary()))
        }
        channel.writeAndFlush(frame, promise: nil)
    }

    // MARK: Time

    private func now() -> Duration { clock.now - epoch }

    /// Carries out everything due, then arms the timer for the next event.
    private func pump() {
        guard running else { return }
        perform(router.advance(to: now()))
        guard let deadline = router.nextDeadline else { return }
        if let armed = armedDeadline, armed <= deadline, timer != nil { return }
        timer?.cancel()
        armedDeadline = deadline
        let instant = epoch + deadline
        timer = Task { [weak self] in
            do { try await Task.sleep(until: instant, clock: .continuous) } catch { return }
            await self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        armedDeadline = nil
        pump()
    }
}
