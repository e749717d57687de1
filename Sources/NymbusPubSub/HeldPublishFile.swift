import NymbusCrypto
import NymbusNode
import NymbusWire

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Publishes accepted while no peer was linked, kept in the data directory so that neither a
/// clean stop nor a crash loses them (`held-publishes.json`, spec/pubsub.md "Held publishes").
///
/// Each entry keeps the sealed object exactly as it will be sent (so a copy that went out just
/// before a crash and goes out again after the restart has the same message id, and every
/// receiver drops the second copy), plus what resealing needs if it waits too long: payload,
/// topic secret and name, author mode. The file is rewritten atomically (mode 0600) at every
/// change of the queue, which happens only while no peer is linked, and is bounded as the
/// queue is (`maxQueuedObjects`, `maxQueuedBytes`).
struct HeldPublishFile: Sendable {
    static let fileName = "held-publishes.json"
    static let format = 1

    struct Entry: Codable, Equatable {
        var object: String
        var payload: String
        var topicSecret: String
        var topicName: String?
        var author: String
        /// Its publishers' runs (spec/broker.md "Order"), 14 bytes each in hex (tag u64, first
        /// number u32, entries u16, big-endian); absent for an unnumbered publish. Kept so that
        /// a publish sealed again after a restart keeps its place in its publishers' order.
        var order: String?
    }

    struct Contents: Codable {
        var format: Int
        var entries: [Entry]
    }

    /// One held publish, decoded.
    struct Held {
        var object: TopicObject
        var topic: Topic
        var payload: [UInt8]
        var author: AuthorMode
        var order: [PublisherRun] = []
    }

    /// The runs as stored in ``Entry/order``.
    static func encode(_ runs: [PublisherRun]) -> String? {
        guard !runs.isEmpty else { return nil }
        var w = ByteWriter()
        for run in runs {
            w.write(run.tag)
            w.write(run.number)
            w.write(run.count)
        }
        return Hex.encode(w.bytes)
    }

    /// The inverse of ``encode(_:)``: whole runs only, at most `ObjectPlaintext.maxRuns`.
    static func decodeRuns(_ text: String) throws(PubSubError) -> [PublisherRun] {
        let runLength = ObjectPlaintext.runLength
        guard let bytes = try? Hex.decode(text), !bytes.isEmpty, bytes.count % runLength == 0,
            bytes.count / runLength <= ObjectPlaintext.maxRuns
        else { throw PubSubError(.persistence, "bad publisher runs") }
        // Read as `encode` wrote it, with the wire's reader (the length is checked above).
        var reader = ByteReader(bytes)
        var runs: [PublisherRun] = []
        runs.reserveCapacity(bytes.count / runLength)
        do {
            while runs.count < bytes.count / runLength {
                runs.append(
                    PublisherRun(tag: try reader.readUInt64(), number: try reader.readUInt32(), count: try reader.readUInt16()))
            }
        } catch {
            throw PubSubError(.persistence, "bad publisher runs")
        }
        return runs
    }

    let directory: String
    var path: String { directory.hasSuffix("/") ? directory + Self.fileName : directory + "/" + Self.fileName }

    static func authorText(_ mode: AuthorMode) -> String {
        switch mode {
        case .none: "none"
        case .perTopic: "perTopic"
        case .perNode: "perNode"
        }
    }

    /// Writes `held` (or removes the file when it is empty).
    func save(_ held: [Held]) throws(PubSubError) {
        guard !held.isEmpty else {
            if FileManager.default.fileExists(atPath: path) {
                do { try FileManager.default.removeItem(atPath: path) } catch {
                    throw PubSubError(.persistence, "Cannot remove \(path): \(error).")
                }
            }
            return
        }
        let contents = Contents(
            format: Self.format,
            entries: held.map {
                Entry(
                    object: Hex.encode($0.object.bytes), payload: Hex.encode($0.payload),
                    topicSecret: Hex.encode($0.topic.secret.copyBytes()), topicName: $0.topic.nameBytes.map(Hex.encode),
                    author: Self.authorText($0.author), order: Self.encode($0.order))
            })
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            data = try encoder.encode(contents)
        } catch {
            throw PubSubError(.persistence, "Cannot encode the held publishes: \(error).")
        }
        do { try AtomicFile.write(data, to: path, in: directory) } catch {
            throw PubSubError(.persistence, "Cannot write the held publishes to \(path): \(error).")
        }
    }

    /// Reads the held publishes, or none if there is no file. A file that does not decode is
    /// renamed `<file>.corrupt-<unix time>` (never replaced) and reported.
    func load(now: Int64, maxObjectBytes: Int) throws(PubSubError) -> [Held] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PubSubError(.persistence, "Cannot read the held publishes in \(path): \(error).")
        }
        do {
            return try Self.decode(data, maxObjectBytes: maxObjectBytes)
        } catch {
            let aside = path + ".corrupt-\(now)"
            var kept = "It was kept as \(aside)"
            do { try FileManager.default.moveItem(atPath: path, toPath: aside) } catch {
                kept = "It could not be moved aside (\(error)) and was left in place"
            }
            throw PubSubError(
                .persistence,
                "The held publishes in \(path) are corrupt (\(error.reason)). \(kept); start again to go on without them.")
        }
    }

    static func decode(_ data: Data, maxObjectBytes: Int) throws(PubSubError) -> [Held] {
        let contents: Contents
        do { contents = try JSONDecoder().decode(Contents.self, from: data) } catch {
            throw PubSubError(.persistence, "not the JSON of held publishes: \(error)")
        }
        guard contents.format == format else {
            throw PubSubError(.persistence, "format \(contents.format), expected \(format)")
        }
        var held: [Held] = []
        for (i, entry) in contents.entries.enumerated() {
            guard let objectBytes = try? Hex.decode(entry.object), objectBytes.count <= maxObjectBytes,
                let payload = try? Hex.decode(entry.payload),
                let secret = try? Hex.decode(entry.topicSecret), secret.count == 32
            else { throw PubSubError(.persistence, "entry \(i) has a bad object, payload or topic secret") }
            let name = try entry.topicName.map { text throws(PubSubError) -> String in
                guard let bytes = try? Hex.decode(text) else {
                    throw PubSubError(.persistence, "entry \(i) has a bad topic name")
                }
                return String(decoding: bytes, as: UTF8.self)
            }
            let author: AuthorMode
            switch entry.author {
            case "none": author = .none
            case "perTopic": author = .perTopic
            case "perNode": author = .perNode
            default: throw PubSubError(.persistence, "entry \(i) has an unknown author mode \(entry.author)")
            }
            let object = try TopicObject(bytes: objectBytes, maxBytes: maxObjectBytes)
            let topic = try Topic(secret: SecureBytes(secret), name: name)
            guard object.topicID == topic.id else {
                throw PubSubError(.persistence, "entry \(i): the object belongs to another topic")
            }
            let order: [PublisherRun]
            do { order = try entry.order.map(decodeRuns) ?? [] } catch {
                throw PubSubError(.persistence, "entry \(i) has \(error.reason)")
            }
            held.append(Held(object: object, topic: topic, payload: payload, author: author, order: order))
        }
        return held
    }
}
