/// A message the topic layer sends to, or receives from, ONE peer: gossip repair's `inv` and
/// `getdata` (spec/pubsub.md "Repair"), or an `object` answering a `getdata`.
public enum RepairMessage: Sendable, Equatable {
    /// "I have these objects" (1…500 ids).
    case inv([MessageID])
    /// "Send me these objects" (1…500 ids).
    case getdata([MessageID])
    /// One object's bytes, in answer to a `getdata`.
    case object([UInt8])
}
