import NymbusTransport
import NymbusCrypto

/// How the node reaches a peer on one link, and how that peer's messages arrive.
///
/// nym-client tells a receiver only whether a message came with a sender tag, so the path is
/// what lets the node check that a known session id arrived the way that session's messages
/// must arrive (NYM-CLIENT.md §5.1).
enum PeerPath: Hashable, Sendable {
    /// Plain `send` to the peer's address; the peer's messages arrive untagged.
    case visible(Recipient)
    /// We are hidden: `sendAnonymous` (with SURBs) to the peer; its replies arrive untagged.
    case anonymousOutbound(Recipient)
    /// The peer is hidden: we `reply` to its tag; its messages arrive with that tag.
    case anonymousInbound(SenderTag)

    /// The sender tag the peer's messages carry (nil: they arrive untagged).
    var expectedTag: SenderTag? {
        if case .anonymousInbound(let tag) = self { return tag }
        return nil
    }

    /// The peer's address, when we send to an address.
    var address: Recipient? {
        switch self {
        case .visible(let a), .anonymousOutbound(let a): a
        case .anonymousInbound: nil
        }
    }

    /// Whether the link is hidden (its initiator gave no address).
    var isHidden: Bool {
        if case .visible = self { return false }
        return true
    }
}
