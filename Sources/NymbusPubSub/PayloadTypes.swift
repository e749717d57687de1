import NymbusCrypto
import NymbusWire

/// Object type numbers with a meaning fixed by Nymbus.
public enum ObjectType {
    /// Raw bytes (what broker clients publish).
    public static let rawBytes: UInt32 = 0
    /// Several raw-bytes payloads of one publisher in one object (`BatchPayload`, spec/pubsub.md
    /// §5.1). Each entry is delivered as its own type-0 `Delivery`.
    public static let rawBytesBatch: UInt32 = 1
    /// The field/value pairs of one stream entry (`XADD`; `StreamEntryPayload`, spec/pubsub.md
    /// §5.2), delivered as one `Delivery` of this type.
    public static let streamEntry: UInt32 = 2
    /// Custom `WireCodable` types use ids from here up; ids below are reserved for Nymbus.
    public static let firstCustom: UInt32 = 0x1000
}

/// The custom types a `PubSub` publishes and decodes: NymbusWire's `ObjectTypeRegistry`, plus
/// which Swift type owns each id, so a second type under a taken id is refused at registration
/// and never silently decodes another type's bytes.
struct PayloadTypes: Sendable {
    private var registry = ObjectTypeRegistry()
    private var owners: [UInt32: ObjectIdentifier] = [:]

    mutating func register<T: WireCodable>(_ type: T.Type) throws(PubSubError) {
        let id = T.wireTypeID
        guard id >= ObjectType.firstCustom else {
            throw PubSubError(.reservedType, "\(T.self) uses type id \(id); ids below 0x1000 are reserved")
        }
        if let owner = owners[id] {
            guard owner == ObjectIdentifier(type) else {
                throw PubSubError(
                    .typeAlreadyRegistered, "type id \(id) is already taken by another type, not \(T.self)")
            }
            return
        }
        do { try registry.register(type) } catch {
            throw PubSubError(.typeAlreadyRegistered, error.reason)
        }
        owners[id] = ObjectIdentifier(type)
    }

    func isRegistered<T: WireCodable>(_ type: T.Type) -> Bool {
        owners[T.wireTypeID] == ObjectIdentifier(type)
    }

    /// Decodes `bytes` as the type registered under `id`: nil if none is, throws if it fails.
    func decode(type id: UInt32, _ bytes: [UInt8]) throws(WireError) -> (any WireCodable)? {
        guard registry.isRegistered(id) else { return nil }
        return try registry.decode(CustomObject(typeID: id, body: bytes))
    }
}
