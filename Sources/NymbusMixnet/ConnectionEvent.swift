import NIOCore

/// What one accepted WebSocket tells the mixnet actor, in order.
enum ConnectionEvent: Sendable {
    /// The WebSocket handshake finished; frames can be written to `channel`.
    case opened(any Channel)
    /// A complete text or binary message (fragments already joined).
    case message(isText: Bool, bytes: [UInt8])
    /// The connection is gone.
    case closed
}
