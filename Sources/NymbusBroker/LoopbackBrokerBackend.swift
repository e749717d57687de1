import NymbusCrypto

/// A backend with no network: a standalone broker that only fans out between local clients.
///
/// It accepts every publish up to ``maxPayloadBytes`` (refusing larger ones like the overlay
/// would), ignores interest, and answers `NYMBUS.STATUS` with `mode loopback`; other Nymbus
/// commands get an error saying the broker is not connected to an overlay.
public struct LoopbackBrokerBackend: BrokerBackend {
    /// Largest payload accepted, in bytes; the overlay's object limit by default (64 KiB).
    public let maxPayloadBytes: Int

    /// Creates a loopback backend.
    public init(maxPayloadBytes: Int = 64 * 1024) {
        self.maxPayloadBytes = maxPayloadBytes
    }

    public func publish(_ messages: [BrokerMessage]) async -> [BrokerBackendError?] {
        messages.map { check($0.payload) }
    }

    /// Accepts or refuses on the spot: a loopback broker never waits.
    public func publishImmediately(_ messages: [BrokerMessage]) -> [BrokerBackendError?]? {
        messages.map { check($0.payload) }
    }

    private func check(_ payload: [UInt8]) -> BrokerBackendError? {
        payload.count <= maxPayloadBytes
            ? nil : BrokerBackendError(.payloadTooLarge, "payload over \(maxPayloadBytes) bytes")
    }

    public func interestChanged(channels: Set<[UInt8]>, patterns: Set<[UInt8]>) async {}

    public func nymbusCommand(_ arguments: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue {
        if arguments.first == Array("NYMBUS.STATUS".utf8) {
            return .map(["mode": .bulk("loopback"), "peers": .integer(0)])
        }
        let name = arguments.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        throw BrokerBackendError(.unavailable, "\(name) needs a node: this broker runs without an overlay (loopback)")
    }
}
