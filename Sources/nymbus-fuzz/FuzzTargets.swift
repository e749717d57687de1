import NymbusWire

/// The decoders under fuzz. Each body must never trap on any input; where a decoder accepts
/// the input, re-encoding and decoding again must give the same value (round-trip property).
enum FuzzTarget: String, CaseIterable {
    case wire

    func run(_ bytes: [UInt8]) {
        switch self {
        case .wire:
            guard let envelope = try? Envelope.decode(bytes) else { return }
            let again = try? Envelope.decode(envelope.encode())
            precondition(again == envelope, "wire: re-encoded envelope does not decode to the same value")
        }
    }
}
