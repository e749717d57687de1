public import NymbusWire

/// A message the topic layer exchanges with one peer: an object, gossip repair's `inv` and
/// `getdata` (spec/pubsub.md §14), or dissemination's `prune` and `graft` (§15).
public enum TopicMessage: Sendable, Equatable {
    /// One object's bytes: pushed, or in answer to a `getdata` or `graft`.
    case object([UInt8])
    /// "I have these objects" (1…500 ids).
    case inv([MessageID])
    /// "Send me these objects" (1…500 ids).
    case getdata([MessageID])
    /// "Stop pushing these stripes' objects to me; announce them instead": the link turns lazy
    /// in those stripes.
    case prune(StripeMask)
    /// "Push these stripes' objects to me again, and send me these" (0…500 ids): the link turns
    /// eager in those stripes.
    case graft(StripeMask, [MessageID])
}
