import NymbusCrypto

/// Maps custom object type ids to the Swift types that decode them.
///
/// Register every `WireCodable` type a node may receive; an object of an unregistered type is an
/// error the caller can count and answer with `reject`, never a crash.
public struct ObjectTypeRegistry: Sendable {
    private var decoders: [UInt32: @Sendable ([UInt8]) throws -> any WireCodable] = [:]

    public init() {}

    /// Registers `type` under its `wireTypeID`; registering a second type under the same id throws.
    public mutating func register<T: WireCodable>(_ type: T.Type) throws(WireError) {
        guard decoders[T.wireTypeID] == nil else {
            throw WireError(.invalidValue, "object type id \(T.wireTypeID) is already registered")
        }
        decoders[T.wireTypeID] = { bytes in try T(serializedBytes: bytes) }
    }

    /// Whether a type is registered under `typeID`.
    public func isRegistered(_ typeID: UInt32) -> Bool { decoders[typeID] != nil }

    /// Decodes a custom object with the type registered for its id.
    public func decode(_ object: CustomObject) throws(WireError) -> any WireCodable {
        guard let decoder = decoders[object.typeID] else {
            throw WireError(.unknownObjectType, "no type registered for object type id \(object.typeID)")
        }
        do {
            return try decoder(object.body)
        } catch let error as WireError {
            throw error
        } catch {
            throw WireError(.invalidValue, "object type \(object.typeID) failed to decode: \(error)")
        }
    }

    /// Wraps a value for sending.
    public static func wrap<T: WireCodable>(_ value: T) -> CustomObject {
        CustomObject(typeID: T.wireTypeID, body: value.serializedBytes())
    }
}
