import BenchSupport
import NymbusCrypto
import NymbusPubSub
import NymbusWire

#if canImport(Glibc)
    import Glibc
#endif

/// The benchmark body; nonisolated so it runs on the concurrency pool, like a node's actors,
/// not on the main thread (each actor hop from the main thread would cost a thread switch).
enum ObjectBench {
    struct Case {
        let payloadBytes: Int
        let objects: Int
    }

    struct Rates {
        var pipeline: [Double] = []
        var floor: [Double] = []
        var pipelineWall: [Double] = []
        var floorWall: [Double] = []
    }

    static let topic = Topic.named("nymbus-bench")

    nonisolated static func main(_ arguments: Arguments) async {
        Floor.initialise()
        let rounds = max(1, arguments.int("--rounds", 5))
        let scale = arguments.double("--scale", 1)
        let cases = [
            Case(payloadBytes: 256, objects: Int(3000 * scale)),
            Case(payloadBytes: 1024, objects: Int(3000 * scale)),
            Case(payloadBytes: 16384, objects: Int(800 * scale)),
        ]
        print("ObjectBench: one node's object pipeline vs libsodium doing only the crypto (same objects, same process)")
        print("rates in objects per CPU-second (median of \(rounds) interleaved rounds); wall-clock rates in brackets")
        print("")
        var rows: [ResultRow] = []
        do {
            for c in cases { rows.append(try await receive(c, rounds: rounds)) }
            for c in cases { rows.append(try await publish(c, rounds: rounds)) }
            topicDerivation()
        } catch {
            Console.error("ObjectBench: \(error)")
            exit(1)
        }
        print("")
        for row in rows { row.emit() }
    }

    // MARK: Receive

    static func receive(_ c: Case, rounds: Int) async throws -> ResultRow {
        let now = Int64(time(nil))
        let payload = (0..<c.payloadBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let objects = try (0..<c.objects).map { _ in
            try TopicObject.seal(
                payload: payload, objectType: ObjectType.rawBytes, topic: topic, timestamp: UInt32(now / 60), author: nil
            ).bytes
        }
        let session = SessionID.random()
        let envelopes = objects.map { Envelope(sessionID: session, message: .object($0)).encode() }
        let key = try KeyDerivation.derive(from: topic.secret, id: 1, context: "NymbusTp").copyBytes()
        let objectBytes = objects.first?.count ?? 0

        var rates = Rates()
        for _ in 0..<rounds {
            // Floor first, then the pipeline, alternating, so drift hits both alike.
            var cpu = Measure.cpuNanos()
            var wall = Measure.wallNanos()
            let good = Floor.receive(objects, key: key)
            rates.floor.append(Double(c.objects) / (Double(Measure.cpuNanos() - cpu) / 1e9))
            rates.floorWall.append(Double(c.objects) / (Double(Measure.wallNanos() - wall) / 1e9))
            guard good == c.objects else { throw BenchFailure("floor verified \(good) of \(c.objects)") }

            let pubsub = try PubSub(network: NullNetwork(peers: 8), clock: { now })
            let subscription = await pubsub.subscribe(topic)
            var deliveries = subscription.makeAsyncIterator()
            var delivered = 0
            var payloadBytes = 0
            let batch = 256
            cpu = Measure.cpuNanos()
            wall = Measure.wallNanos()
            var i = 0
            while i < envelopes.count {
                let end = min(envelopes.count, i + batch)
                for j in i..<end {
                    guard case .object(let bytes) = try Envelope.decode(envelopes[j]).message else {
                        throw BenchFailure("envelope is not an object")
                    }
                    await pubsub.handleIncoming(object: bytes, from: 1)
                }
                for _ in i..<end {
                    guard let delivery = await deliveries.next() else { throw BenchFailure("subscription ended") }
                    delivered += 1
                    payloadBytes += delivery.payload.count
                }
                i = end
            }
            rates.pipeline.append(Double(c.objects) / (Double(Measure.cpuNanos() - cpu) / 1e9))
            rates.pipelineWall.append(Double(c.objects) / (Double(Measure.wallNanos() - wall) / 1e9))
            let stats = await pubsub.statistics
            guard delivered == c.objects, payloadBytes == c.objects * c.payloadBytes, stats.accepted == c.objects,
                stats.forwarded == c.objects
            else {
                throw BenchFailure("pipeline delivered \(delivered), accepted \(stats.accepted) of \(c.objects)")
            }
        }
        try breakdown(envelopes, objectBytes: objectBytes)
        return report(
            "object receive \(Format.bytes(Double(c.payloadBytes))) (\(Format.bytes(Double(objectBytes))) object)",
            rates, floorName: "verify+decrypt+BLAKE2b")
    }

    /// Where the receive time goes: each step the router and `open` take, timed alone over the
    /// same objects through the public API (CPU µs per object). Printed for information.
    static func breakdown(_ envelopes: [[UInt8]], objectBytes: Int) throws {
        func time(_ body: () throws -> Void) rethrows -> Double {
            let start = Measure.cpuNanos()
            try body()
            return Double(Measure.cpuNanos() - start) / 1e3 / Double(envelopes.count)
        }
        var objects: [[UInt8]] = []
        let decode = try time {
            for e in envelopes {
                if case .object(let bytes) = try Envelope.decode(e).message { objects.append(bytes) }
            }
        }
        var parsed: [TopicObject] = []
        let parse = try time { for o in objects { parsed.append(try TopicObject(bytes: o)) } }
        let point = time { for o in parsed { _ = Ed25519.isValidPoint(o.topicID.bytes) } }
        var ids = 0
        let id = time { for o in parsed { ids &+= o.messageID.hashValue } }
        var valid = 0
        let verify = time { for o in parsed where o.hasValidMembershipSignature { valid += 1 } }
        let open = try time { for o in parsed { _ = try o.open(with: topic, maxPayload: 65536) } }
        guard valid == parsed.count else { throw BenchFailure("breakdown: \(valid) of \(parsed.count) verified") }
        func us(_ v: Double) -> String { Format.number(v, decimals: 1) }
        print(
            "  \(Format.bytes(Double(objectBytes))) object, CPU µs per step: envelope decode \(us(decode)), parse \(us(parse))"
                + " (of which topic-id point check \(us(point))), message id \(us(id)), signature verify \(us(verify)),"
                + " open \(us(open))")
    }

    // MARK: Publish

    static func publish(_ c: Case, rounds: Int) async throws -> ResultRow {
        let now = Int64(time(nil))
        let payload = (0..<c.payloadBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        // The same object layout the pipeline makes: padded plaintext to the bucket.
        let sample = try TopicObject.seal(
            payload: payload, objectType: ObjectType.rawBytes, topic: topic, timestamp: UInt32(now / 60), author: nil)
        let objectBytes = sample.bytes.count
        var padded = [UInt8](repeating: 0, count: sample.ciphertext.count - XChaCha20Poly1305.tagLength)
        padded[1] = UInt8(truncatingIfNeeded: c.payloadBytes >> 24)
        padded[2] = UInt8(truncatingIfNeeded: c.payloadBytes >> 16)
        padded[3] = UInt8(truncatingIfNeeded: c.payloadBytes >> 8)
        padded[4] = UInt8(truncatingIfNeeded: c.payloadBytes)
        padded.replaceSubrange(5..<5 + c.payloadBytes, with: payload)
        let key = try KeyDerivation.derive(from: topic.secret, id: 1, context: "NymbusTp").copyBytes()
        let seed = try KeyDerivation.derive(from: topic.secret, id: 2, context: "NymbusTp").copyBytes()
        let (secretKey, publicKey) = Floor.keyPair(seed: seed)
        guard publicKey == topic.id.bytes else { throw BenchFailure("membership key derivation differs from the topic's") }
        let header = sample.associatedData

        var rates = Rates()
        for _ in 0..<rounds {
            var cpu = Measure.cpuNanos()
            var wall = Measure.wallNanos()
            let made = Floor.publish(
                count: c.objects, paddedPlaintext: padded, header: header, key: key, secretKey: secretKey)
            rates.floor.append(Double(c.objects) / (Double(Measure.cpuNanos() - cpu) / 1e9))
            rates.floorWall.append(Double(c.objects) / (Double(Measure.wallNanos() - wall) / 1e9))
            guard made == c.objects else { throw BenchFailure("floor made \(made) of \(c.objects)") }

            let pubsub = try PubSub(network: NullNetwork(peers: 8), clock: { now })
            cpu = Measure.cpuNanos()
            wall = Measure.wallNanos()
            for _ in 0..<c.objects {
                try await pubsub.publish(payload, to: topic)
            }
            rates.pipeline.append(Double(c.objects) / (Double(Measure.cpuNanos() - cpu) / 1e9))
            rates.pipelineWall.append(Double(c.objects) / (Double(Measure.wallNanos() - wall) / 1e9))
            let stats = await pubsub.statistics
            guard stats.published == c.objects, stats.queued == 0 else {
                throw BenchFailure("published \(stats.published), queued \(stats.queued) of \(c.objects)")
            }
        }
        return report(
            "object publish \(Format.bytes(Double(c.payloadBytes))) (\(Format.bytes(Double(objectBytes))) object)",
            rates, floorName: "encrypt+sign+BLAKE2b")
    }

    /// The cost of deriving a topic from its name (BLAKE2b, two KDF subkeys, an Ed25519 key pair
    /// and the point check of its public key): what a caller pays per publish unless it keeps
    /// the `Topic`. Printed for information.
    static func topicDerivation() {
        let count = 2000
        var ids = 0
        let start = Measure.cpuNanos()
        for i in 0..<count { ids &+= Topic.named("channel-\(i % 7)").id.hashValue }
        let micros = Double(Measure.cpuNanos() - start) / 1e3 / Double(count)
        print("  Topic.named(name) (derive the keys of a topic): \(Format.number(micros, decimals: 1)) µs CPU each")
    }

    // MARK: Output

    static func report(_ name: String, _ rates: Rates, floorName: String) -> ResultRow {
        let pipeline = Sample.median(rates.pipeline) ?? .nan
        let floor = Sample.median(rates.floor) ?? .nan
        let ratio = pipeline / floor
        let goal = 0.7  // issue 7: ≥ 0.7 of the floor (applied to publish as well)
        func perSecond(_ v: Double) -> String { Format.number(v, decimals: 0) + "/s" }
        print(
            "\(Format.pad(name, 40)) pipeline \(perSecond(pipeline)) [\(perSecond(Sample.median(rates.pipelineWall) ?? .nan)) wall]"
                + "  floor \(perSecond(floor)) [\(perSecond(Sample.median(rates.floorWall) ?? .nan)) wall]  ratio \(Format.number(ratio, decimals: 2))"
                + "  (\(Format.number(1e6 / pipeline, decimals: 1)) vs \(Format.number(1e6 / floor, decimals: 1)) µs CPU per object)")
        return .ratio(
            name, figure: perSecond(pipeline), baseline: "\(perSecond(floor)) libsodium \(floorName)", ratio: ratio,
            atLeast: goal)
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
