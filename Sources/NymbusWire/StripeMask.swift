/// Which of the dissemination trees a `prune` or `graft` applies to (spec/pubsub.md §15: objects
/// are split into stripes by id, each stripe spread over a tree of its own). Bit `i` names
/// stripe `i`; a message names at least one.
public struct StripeMask: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The mask naming only `stripe` (0…7).
    public init(stripe: Int) { self.rawValue = 1 << UInt8(stripe & 7) }

    /// Every stripe.
    public static let all = StripeMask(rawValue: 0xFF)

    /// Whether the mask names `stripe`.
    public func contains(stripe: Int) -> Bool { stripe >= 0 && stripe < 8 && rawValue & (1 << UInt8(stripe)) != 0 }

    /// The stripes named, lowest first.
    public var stripes: [Int] { (0..<8).filter { contains(stripe: $0) } }

    public var description: String { "stripes\(stripes)" }
}
