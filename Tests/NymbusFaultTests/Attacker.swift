import Foundation
import NymbusBroker
import NymbusCrypto
import NymbusDaemon
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymbusTestSupport
import NymbusTransport
import NymbusWire
import NymClient
import Testing

/// A hostile program on a local-mixnet endpoint: a raw `NymClientConnection` that sends
/// whatever bytes a test makes and records everything it receives.
actor Attacker {
    nonisolated let connection: NymClientConnection
    nonisolated let address: Recipient
    private(set) var received: [ReceivedMessage] = []
    private var task: Task<Void, Never>?

    private init(connection: NymClientConnection, address: Recipient) {
        self.connection = connection
        self.address = address
    }

    /// Connects to `endpoint` with a send queue big enough for floods.
    static func start(_ endpoint: MixnetEndpoint) async throws -> Attacker {
        var configuration = try NymClientConfiguration(url: endpoint.url)
        configuration.maxQueuedMessages = 20_000
        configuration.startTimeout = .seconds(30)
        let connection = NymClientConnection(configuration: configuration, logger: faultLogger("attacker"))
        try await connection.start()
        let attacker = Attacker(connection: connection, address: endpoint.address)
        await attacker.run()
        return attacker
    }

    private func run() {
        let stream = connection.inbound
        task = Task { [weak self] in
            for await message in stream { await self?.add(message) }
        }
    }

    private func add(_ message: ReceivedMessage) { received.append(message) }

    /// The decoded envelopes received so far (undecodable ones are skipped).
    func envelopes() -> [Envelope] { received.compactMap { try? Envelope.decode($0.data) } }

    /// Waits for an envelope matching `match`; nil after `timeout`.
    func waitFor(timeout: Duration = .seconds(30), _ match: @Sendable (Envelope) -> Bool) async -> Envelope? {
        _ = await waitUntil(timeout: timeout) { envelopes().contains(where: match) }
        return envelopes().first(where: match)
    }

    /// The `bye` received on `session`, waiting for it.
    func bye(on session: SessionID) async -> ByeMessage? {
        let envelope = await waitFor {
            guard $0.sessionID == session, case .bye = $0.message else { return false }
            return true
        }
        guard case .bye(let bye)? = envelope?.message else { return nil }
        return bye
    }

    // MARK: Sending

    func send(_ bytes: [UInt8], to target: Recipient) async throws {
        try await connection.send(bytes, to: target)
    }

    func sendAnonymous(_ bytes: [UInt8], to target: Recipient, surbs: UInt32 = 0) async throws {
        try await connection.sendAnonymous(bytes, to: target, replySurbs: surbs)
    }

    func send(_ message: Message, session: SessionID, to target: Recipient, anonymously: Bool = false) async throws {
        let bytes = Envelope(sessionID: session, message: message).encode()
        if anonymously {
            try await connection.sendAnonymous(bytes, to: target, replySurbs: 10)
        } else {
            try await connection.send(bytes, to: target)
        }
    }

    /// Completes a hidden-initiator handshake with `target` (sendAnonymous with SURBs; the
    /// answers come back as replies); returns the session id.
    func hiddenHandshake(with target: Recipient) async throws -> SessionID {
        let session = SessionID.random()
        let nonce = UInt64.random(in: 1...UInt64.max)
        let version = VersionMessage(
            protocolVersion: 1, services: [.relay], timestamp: 0, nonce: nonce, userAgent: "/nymbus:0.1/",
            returnAddress: nil)
        try await connection.sendAnonymous(
            Envelope(sessionID: session, message: .version(version)).encode(), to: target, replySurbs: 40)
        // Generous: the answer may queue behind thousands of replays the flood test sent.
        let theirs = await waitFor(timeout: .seconds(60)) {
            guard $0.sessionID == session, case .version = $0.message else { return false }
            return true
        }
        guard case .version(let peer)? = theirs?.message else { throw FaultError("no version on \(session)") }
        _ = await waitFor { $0.sessionID == session && $0.message == .verack(VerackMessage(echoNonce: nonce)) }
        try await connection.sendAnonymous(
            Envelope(sessionID: session, message: .verack(VerackMessage(echoNonce: peer.nonce))).encode(), to: target,
            replySurbs: 20)
        return session
    }

    /// Answers the `version` a node sent us on a link it dialed, as an honest responder would:
    /// our `version` and a `verack` echoing its nonce, by plain send to the address it claimed.
    /// Returns the session id and the dialer's address.
    func acceptDial() async throws -> (SessionID, Recipient) {
        let dial = await waitFor {
            guard case .version(let v) = $0.message else { return false }
            return v.returnAddress != nil
        }
        guard let dial, case .version(let theirs) = dial.message, let dialer = theirs.returnAddress else {
            throw FaultError("nobody dialed the attacker")
        }
        let ours = VersionMessage(
            protocolVersion: 1, services: [.relay, .acceptsInbound], timestamp: 0,
            nonce: UInt64.random(in: 1...UInt64.max), userAgent: "/nymbus:0.1/", returnAddress: nil)
        try await send(.version(ours), session: dial.sessionID, to: dialer)
        try await send(.verack(VerackMessage(echoNonce: theirs.nonce)), session: dial.sessionID, to: dialer)
        return (dial.sessionID, dialer)
    }

    func close() async {
        task?.cancel()
        await connection.close()
    }
}

/// Raw envelope bytes with any header fields, for malformed input.
func rawEnvelope(
    magic: [UInt8] = Envelope.magic, version: UInt8 = Envelope.wireVersion, command: UInt8,
    session: SessionID = .random(), declaredLength: Int? = nil, payload: [UInt8]
) -> [UInt8] {
    var w = ByteWriter()
    w.write(bytes: magic)
    w.write(version)
    w.write(command)
    w.write(bytes: session.bytes)
    w.write(UInt32(declaredLength ?? payload.count))
    w.write(bytes: payload)
    return w.bytes
}
