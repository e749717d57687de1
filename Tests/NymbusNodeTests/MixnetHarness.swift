import Logging
import NymClient
import NymbusCrypto
import NymbusMixnet
import NymbusTestSupport
import NymbusTransport
import NymbusWire
import Testing

@testable import NymbusNode

/// Real nodes on a real local mixnet: each node talks to its own mixnet endpoint through a
/// `NymClientConnection` over a loopback WebSocket, exactly as it would to nym-client.
final class MixnetHarness: Sendable {
    let mixnet: LocalMixnet
    let endpoints: [MixnetEndpoint]

    private init(mixnet: LocalMixnet, endpoints: [MixnetEndpoint]) {
        self.mixnet = mixnet
        self.endpoints = endpoints
    }

    /// Starts a mixnet of `clients` endpoints with `hopDelay` per hop, unpaced unless `sendDelay` is given.
    static func start(
        clients: Int, hopDelay: Duration = .milliseconds(1), loss: Double = 0, duplicates: Double = 0,
        sendDelay: Duration = .zero
    ) async throws -> MixnetHarness {
        var configuration = MixnetConfiguration()
        configuration.clientCount = clients
        configuration.hopDelay = hopDelay
        configuration.sendDelay = sendDelay
        configuration.lossProbability = loss
        configuration.duplicateProbability = duplicates
        configuration.seed = SeededRandom("MixnetHarness (loss, duplicates, delays)").seed
        let mixnet = try LocalMixnet(configuration: configuration)
        try await mixnet.start()
        return MixnetHarness(mixnet: mixnet, endpoints: await mixnet.endpoints)
    }

    /// A started connection to endpoint `index` (retrying while a previous one is still attached).
    func connection(_ index: Int) async throws -> NymClientConnection {
        var configuration = try NymClientConfiguration(url: endpoints[index].url)
        configuration.startTimeout = .seconds(30)
        let connection = NymClientConnection(configuration: configuration, logger: testLogger("nym-client-\(index)"))
        try await connection.start()
        return connection
    }

    /// A started node on endpoint `index`.
    func node(_ index: Int, _ configuration: NodeConfiguration) async throws -> (Node, NymClientConnection) {
        let connection = try await connection(index)
        let node = Node(transport: connection, configuration: configuration, logger: testLogger("node-\(index)"))
        try await node.start()
        return (node, connection)
    }

    func address(_ index: Int) -> Recipient { endpoints[index].address }

    func stop() async { await mixnet.stop() }
}

/// Records every message a set of endpoints hands to the mixnet.
actor TapRecorder {
    private(set) var events: [MixnetTapEvent] = []
    private var task: Task<Void, Never>?

    func start(_ stream: AsyncStream<MixnetTapEvent>) {
        task = Task { [weak self] in
            for await event in stream { await self?.add(event) }
        }
    }

    private func add(_ event: MixnetTapEvent) { events.append(event) }

    func stop() { task?.cancel() }
}

/// A hand-driven "peer": a raw nym-client connection sending bytes made in the test.
struct RawPeer {
    let connection: NymClientConnection
    let address: Recipient
    let received = Inbox<ReceivedMessage>()

    init(_ connection: NymClientConnection, address: Recipient) {
        self.connection = connection
        self.address = address
        let stream = connection.inbound
        let inbox = received
        Task { for await message in stream { await inbox.add(message) } }
    }

    /// The envelopes received so far on `session`.
    func messages(on session: SessionID) async -> [Message] {
        await received.items.compactMap { try? Envelope.decode($0.data) }.filter { $0.sessionID == session }.map(
            \.message)
    }

    /// Waits for a message on `session` matching `match`.
    func waitFor(_ session: SessionID, timeout: Duration = .seconds(30), _ match: @Sendable (Message) -> Bool) async
        -> Message?
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = await messages(on: session).first(where: match) { return found }
            try? await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("raw peer: no matching message on \(session)")
        return nil
    }

    /// Sends a visible `version` on a new session; returns the session id and the nonce.
    func open(with target: Recipient) async throws -> (SessionID, UInt64) {
        let session = SessionID.random()
        let version = VersionMessage(
            protocolVersion: 1, services: [.relay, .acceptsInbound], timestamp: 0,
            nonce: UInt64.random(in: 1...UInt64.max),
            userAgent: "/raw/", returnAddress: address)
        try await connection.send(Envelope(sessionID: session, message: .version(version)).encode(), to: target)
        return (session, version.nonce)
    }

    /// Completes a visible handshake with the node at `target`; returns the session id.
    func handshake(with target: Recipient) async throws -> SessionID {
        let (session, nonce) = try await open(with: target)
        let theirs = await waitFor(session) { if case .version = $0 { true } else { false } }
        guard case .version(let v)? = theirs else { throw NodeError(.handshakeTimeout, "raw handshake") }
        _ = await waitFor(session) { $0 == .verack(VerackMessage(echoNonce: nonce)) }
        try await connection.send(
            Envelope(sessionID: session, message: .verack(VerackMessage(echoNonce: v.nonce))).encode(), to: target)
        return session
    }

    /// Completes a hidden handshake (sendAnonymous with SURBs, answers by reply); returns the session id.
    func hiddenHandshake(with target: Recipient) async throws -> SessionID {
        let session = SessionID.random()
        let nonce = UInt64.random(in: 1...UInt64.max)
        let version = VersionMessage(
            protocolVersion: 1, services: [.relay], timestamp: 0, nonce: nonce, userAgent: "/raw/", returnAddress: nil)
        try await connection.sendAnonymous(
            Envelope(sessionID: session, message: .version(version)).encode(), to: target, replySurbs: 20)
        let theirs = await waitFor(session) { if case .version = $0 { true } else { false } }
        guard case .version(let v)? = theirs else { throw NodeError(.handshakeTimeout, "raw hidden handshake") }
        _ = await waitFor(session) { $0 == .verack(VerackMessage(echoNonce: nonce)) }
        try await connection.sendAnonymous(
            Envelope(sessionID: session, message: .verack(VerackMessage(echoNonce: v.nonce))).encode(), to: target,
            replySurbs: 10)
        return session
    }

    /// The `bye` received on `session`, waiting for it.
    func bye(on session: SessionID) async -> ByeMessage? {
        guard case .bye(let bye)? = await waitFor(session, { if case .bye = $0 { true } else { false } }) else {
            return nil
        }
        return bye
    }
}

/// A configuration for mixnet tests: a manual clock (nothing times out unless the test moves
/// time), no outbound dialing unless asked.
func mixnetConfiguration(
    _ mode: NodeConfiguration.Mode = .visible, outbound: Int = 0, clock: ManualClock = ManualClock()
) -> NodeConfiguration {
    var c = testConfiguration(mode, clock: clock)
    c.outboundTarget = outbound
    return c
}
