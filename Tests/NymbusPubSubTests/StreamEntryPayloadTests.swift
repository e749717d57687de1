import Foundation
import NymbusCrypto
import Testing

@testable import NymbusPubSub

/// spec/pubsub.md §5.2: the stream entry payload, checked against spec/vectors/stream-entries.json
/// (made by the Python generator next to it), and the object type it travels as.
@Suite struct StreamEntryPayloadTests {
    struct Vectors: Codable {
        struct Vector: Codable {
            var payload: String
            var maxPayload: Int
            var items: [String]?
            var invalid: String?
        }
        var streamEntries: [Vector]
    }

    static func hex(_ text: String) throws -> [UInt8] { try Hex.decode(text) }

    @Test func vectorsDecodeAndReEncodeExactly() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("spec/vectors/stream-entries.json")
        let vectors = try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url)).streamEntries
        #expect(vectors.count == 10)
        for vector in vectors {
            let payload = try Self.hex(vector.payload)
            if let items = vector.items {
                let expected = try items.map(Self.hex)
                #expect(try StreamEntryPayload.decode(payload, maxItem: vector.maxPayload) == expected)
                #expect(StreamEntryPayload.encode(expected) == payload)
            } else {
                #expect(throws: PubSubError.self, "\(vector.invalid ?? "")") {
                    try StreamEntryPayload.decode(payload, maxItem: vector.maxPayload)
                }
            }
        }
    }

    @Test func errorsSayWhatIsWrong() {
        do {
            _ = try StreamEntryPayload.decode([0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], maxItem: 10)
            Issue.record("odd count accepted")
        } catch {
            #expect(error.code == .decryptionFailed)
            #expect(error.reason == "a stream entry holds an even number of items, at least 2; this says 3")
        }
        #expect(ObjectType.streamEntry == 2)
    }
}
