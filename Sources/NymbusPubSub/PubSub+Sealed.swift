import NymbusCrypto
import NymbusWire

/// Publishing in two steps, for a durable outbox: seal an object (its bytes fix its message id),
/// store it, then send it. Sending the same bytes again after a crash gives every node the same
/// message id, so the copy is dropped as already seen instead of delivered twice.
extension PubSub {
    /// Seals `payload` as an object of `topic` without sending it.
    /// - Parameter order: where the payload stands in its publisher's order (one run of one
    ///   payload, spec/broker.md "Order"); empty leaves it unnumbered.
    /// - Throws: `payloadTooLarge`, `reservedType` for batch objects, or a sealing failure.
    public func sealObject(_ payload: [UInt8], type: UInt32, to topic: Topic, order: [PublisherRun] = [])
        throws(PubSubError) -> TopicObject
    {
        guard type != ObjectType.rawBytesBatch else {
            throw PubSubError(.reservedType, "batch objects are made by publish(batch:to:), not from raw bytes")
        }
        guard payload.count <= configuration.maxPayloadBytes else {
            throw PubSubError(
                .payloadTooLarge,
                "payload of \(payload.count) bytes exceeds the limit of \(configuration.maxPayloadBytes)")
        }
        return try seal(payload, type: type, topic: topic, author: configuration.defaultAuthor, now: clock(), order: order)
    }

    /// Sends an object made by ``sealObject(_:type:to:)`` (perhaps before a restart): delivered
    /// to this node's subscriptions as its own, flooded to peers, held while none is connected.
    /// An object older than a third of `maxAge` is sealed again first (far peers would refuse
    /// it), which gives it a new id; `order` (the runs it was sealed with) keeps its place in its
    /// publisher's order then, and while it is held.
    ///
    /// - Returns: the result and the object actually sent.
    @discardableResult
    public func publishSealed(_ object: TopicObject, payload: [UInt8], to topic: Topic, order: [PublisherRun] = [])
        async throws(PubSubError) -> (result: PublishResult, object: TopicObject)
    {
        var object = object
        let now = clock()
        if now - object.timestampSeconds > configuration.maxAge.wholeSeconds / 3 {
            object = try seal(
                payload, type: object.objectType, topic: topic, author: configuration.defaultAuthor, now: now, order: order)
        }
        let (id, sent, local) = try await emit(
            object, payload: payload, entries: [payload], topic: topic, author: configuration.defaultAuthor, now: now,
            order: order)
        return (PublishResult(messageID: id, transmissions: sent, queued: sent == 0, localDeliveries: local.first ?? 0), object)
    }
}
