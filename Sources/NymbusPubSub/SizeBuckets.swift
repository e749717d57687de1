import NymbusCrypto

/// The object sizes a publisher pads to, so relays learn only a coarse size class.
///
/// Sizes are of the whole object (header, ciphertext, tag, signature). The smallest default
/// bucket, 1536 bytes, is one Nym packet: a plain `send` carries about 1601 bytes of app data,
/// minus the overlay envelope and the `object` message framing. Sphinx pads every packet to
/// the same size on the mixnet anyway, so smaller buckets would save nothing there and only
/// tell peers more. Larger buckets grow in steps of a few packets, then 16 KiB.
public struct SizeBuckets: Sendable, Equatable {
    /// Object sizes in ascending order.
    public let sizes: [Int]

    /// 1536 (one packet), 4096, 16 KiB, then every 16 KiB up to 96 KiB.
    public static let `default` = SizeBuckets(uncheckedSizes: [1536, 4096] + (1...6).map { $0 * 16384 })

    private init(uncheckedSizes: [Int]) { sizes = uncheckedSizes }

    /// Checks that sizes ascend strictly, start at or above the smallest possible object and
    /// end at or below the protocol maximum.
    public init(sizes: [Int]) throws(PubSubError) {
        let smallest = TopicObject.overhead + ObjectPlaintext.minimumLength
        guard let first = sizes.first, let last = sizes.last, first >= smallest, last <= TopicObject.protocolMaxBytes,
            zip(sizes, sizes.dropFirst()).allSatisfy({ $0 < $1 })
        else {
            throw PubSubError(
                .invalidConfiguration,
                "buckets must ascend strictly within \(smallest)...\(TopicObject.protocolMaxBytes) bytes")
        }
        self.sizes = sizes
    }

    /// The smallest bucket that holds an object of `length` bytes, or nil if none does.
    public func bucket(for length: Int) -> Int? {
        sizes.first { $0 >= length }
    }

    /// The largest payload that fits the largest bucket (with an author signature if asked).
    public func maxPayload(withAuthor: Bool) -> Int {
        (sizes.last ?? 0) - TopicObject.overhead - ObjectPlaintext.minimumLength
            - (withAuthor ? ObjectPlaintext.authorLength : 0)
    }
}
