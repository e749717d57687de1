public import NymbusCrypto

extension TopicObject {
    /// Builds, pads, encrypts and signs an object (spec/pubsub.md §4–5).
    ///
    /// - Parameters:
    ///   - payload: the application bytes.
    ///   - objectType: 0 for raw bytes, or a registered `wireTypeID`.
    ///   - topic: supplies the encryption key and the membership key.
    ///   - timestamp: minutes since the Unix epoch.
    ///   - author: signs the payload inside the ciphertext; nil publishes anonymously.
    ///   - buckets: the object is padded to the smallest bucket that holds it.
    ///   - nonce: 24 bytes; random unless a test vector fixes it.
    ///   - order: the publishers' runs over the payload (one run for a single payload; a batch's
    ///     entries in order), for receivers to keep each publisher's order.
    /// - Throws: `payloadTooLarge` if no bucket holds the object.
    public static func seal(
        payload: [UInt8], objectType: UInt32, topic: Topic, timestamp: UInt32,
        author: Ed25519.SigningKey?, buckets: SizeBuckets = .default,
        nonce: [UInt8] = SecureRandom.bytes(XChaCha20Poly1305.nonceLength), order: [PublisherRun] = []
    ) throws(PubSubError) -> TopicObject {
        guard nonce.count == XChaCha20Poly1305.nonceLength else {
            throw PubSubError(.cryptoFailure, "a nonce has 24 bytes, got \(nonce.count)")
        }
        var plaintext = ObjectPlaintext(payload: payload, author: nil, order: order)
        if let author {
            let message = ObjectPlaintext.authorMessage(
                topicID: topic.id, objectType: objectType, timestamp: timestamp, nonce: nonce, order: order,
                payload: payload)
            plaintext.author = (author.publicKey, author.sign(message))
        }
        let needed = plaintext.unpaddedLength + TopicObject.overhead
        guard let bucket = buckets.bucket(for: needed) else {
            throw PubSubError(
                .payloadTooLarge,
                "a payload of \(payload.count) bytes makes a \(needed)-byte object; the largest bucket is \(buckets.sizes.last ?? 0)"
            )
        }
        var object = TopicObject(
            topicID: topic.id, objectType: objectType, timestamp: timestamp, nonce: nonce, ciphertext: [], signature: [])
        do {
            object.ciphertext = try XChaCha20Poly1305.seal(
                plaintext.encoded(paddedLength: bucket - TopicObject.overhead), key: topic.encryptionKey, nonce: nonce,
                associatedData: object.associatedData)
        } catch {
            throw PubSubError(.cryptoFailure, "sealing failed: \(error)")
        }
        object.signature = topic.membershipKey.sign(object.signedBytes)
        return object
    }

    /// Seals several raw-bytes payloads as one `rawBytesBatch` object (spec/pubsub.md §5.1): the
    /// plaintext payload is `BatchPayload.encode(entries)`, and an author signature covers it whole.
    ///
    /// Parameters as for `seal(payload:objectType:…)`.
    /// - Throws: `invalidBatch` unless there are 2...65535 entries; `payloadTooLarge` if no bucket
    ///   holds the object.
    public static func seal(
        batch entries: [[UInt8]], topic: Topic, timestamp: UInt32, author: Ed25519.SigningKey?,
        buckets: SizeBuckets = .default, nonce: [UInt8] = SecureRandom.bytes(XChaCha20Poly1305.nonceLength),
        order: [PublisherRun] = []
    ) throws(PubSubError) -> TopicObject {
        guard (BatchPayload.minimumEntries...BatchPayload.maximumEntries).contains(entries.count) else {
            throw PubSubError(
                .invalidBatch,
                "a batch object holds \(BatchPayload.minimumEntries)...\(BatchPayload.maximumEntries) entries, "
                    + "not \(entries.count)")
        }
        return try seal(
            payload: BatchPayload.encode(entries), objectType: ObjectType.rawBytesBatch, topic: topic,
            timestamp: timestamp, author: author, buckets: buckets, nonce: nonce, order: order)
    }

    /// Decrypts with the topic key and checks the plaintext and any author signature.
    ///
    /// Only a member can call this successfully. The membership signature is the caller's to
    /// check first (relays check it without the secret). For a `rawBytesBatch` object the
    /// payload is the whole batch (bounded by the object size), checked entry by entry against
    /// `maxPayload`; `openEntries` returns the entries themselves.
    public func open(with topic: Topic, maxPayload: Int) throws(PubSubError) -> ObjectPlaintext {
        try openEntries(with: topic, maxPayload: maxPayload).plaintext
    }

    /// Decrypts like `open` and splits the payload into the messages it carries: the payload
    /// itself for a single object, the batch's entries (2 or more, in order) for a
    /// `rawBytesBatch` object.
    /// - Throws: `decryptionFailed` for any bad plaintext, a malformed batch included;
    ///   `badAuthorSignature` for an author signature that does not verify.
    public func openEntries(with topic: Topic, maxPayload: Int) throws(PubSubError)
        -> (plaintext: ObjectPlaintext, entries: [[UInt8]])
    {
        let plaintext: ObjectPlaintext
        let entries: [[UInt8]]
        if objectType == ObjectType.rawBytesBatch {
            // The batch as a whole is bounded by the ciphertext; each entry by the payload limit.
            plaintext = try openPlaintext(with: topic, maxPayload: ciphertext.count)
            entries = try BatchPayload.decode(plaintext.payload, maxEntry: maxPayload)
        } else {
            plaintext = try openPlaintext(with: topic, maxPayload: maxPayload)
            entries = [plaintext.payload]
        }
        if !plaintext.order.isEmpty, plaintext.order.reduce(0, { $0 + Int($1.count) }) != entries.count {
            throw PubSubError(.decryptionFailed, "the publisher runs do not cover the \(entries.count) payloads")
        }
        return (plaintext, entries)
    }

    private func openPlaintext(with topic: Topic, maxPayload: Int) throws(PubSubError) -> ObjectPlaintext {
        guard topic.id == topicID else {
            throw PubSubError(.decryptionFailed, "the object belongs to another topic")
        }
        let padded: [UInt8]
        do {
            padded = try XChaCha20Poly1305.open(
                ciphertext, key: topic.encryptionKey, nonce: nonce, associatedData: associatedData)
        } catch {
            throw PubSubError(.decryptionFailed, "the ciphertext does not open with the topic key")
        }
        let plaintext = try ObjectPlaintext(decoding: padded, maxPayload: maxPayload)
        if let author = plaintext.author {
            let message = ObjectPlaintext.authorMessage(
                topicID: topicID, objectType: objectType, timestamp: timestamp, nonce: nonce, order: plaintext.order,
                payload: plaintext.payload)
            guard author.key.isValidSignature(author.signature, for: message) else {
                throw PubSubError(.badAuthorSignature, "the author signature does not verify")
            }
        }
        return plaintext
    }
}
