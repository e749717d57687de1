public import NymbusWire

/// Maps object types to the `WireCodable` Swift types that decode them.
///
/// Type 0 is raw bytes; ids below 0x1000 are reserved for Nymbus. Registering the same type
/// twice is harmless; two types under one id is an error, caught at registration.
public struct PayloadTypeRegistry: Sendable {
    /// The object type of raw bytes.
    public static let rawBytes: UInt32 = 0
    /// Ids below this are reserved for Nymbus.
    public static let firstCustomType: UInt32 = 0x1000

    private var entries: [UInt32: (name: String, decode: @Sendable ([UInt8]) throws -> any WireCodable)] = [:]

    /// An empty registry.
    public init() {}

    /// Registers `type` under its `wireTypeID`.
    public mutating func register<T: WireCodable>(_ type: T.Type) throws(PubSubError) {
        let id = T.wireTypeID
        let name = String(reflecting: type)
        guard id >= PayloadTypeRegistry.firstCustomType else {
            throw PubSubError(.reservedType, "\(name) uses type id \(id); ids below 0x1000 are reserved")
        }
        if let existing = entries[id] {
            guard existing.name == name else {
                throw PubSubError(.typeAlreadyRegistered, "type id \(id) is already \(existing.name), not \(name)")
            }
            return
        }
        entries[id] = (name, { bytes in try T(serializedBytes: bytes) })
    }

    /// Whether `id` is registered.
    public func contains(_ id: UInt32) -> Bool { entries[id] != nil }

    /// Whether `T` is the type registered under its id.
    public func isRegistered<T: WireCodable>(_ type: T.Type) -> Bool {
        entries[T.wireTypeID]?.name == String(reflecting: type)
    }

    /// Decodes `bytes` as the type registered under `id`: nil if none is, throws if it fails.
    public func decode(type id: UInt32, _ bytes: [UInt8]) throws -> (any WireCodable)? {
        guard let entry = entries[id] else { return nil }
        return try entry.decode(bytes)
    }
}
