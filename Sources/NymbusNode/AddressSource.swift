public import NymbusCrypto

/// Who told us an address: the group an address-book entry is bucketed under.
///
/// Addresses learnt from one source can only land in a few buckets of the book (chosen with a
/// keyed hash), so one peer, however many addresses it sends, cannot fill the book. This is
/// Bitcoin Core's source-group bucketing with the announcing peer in place of its /16 network.
public enum AddressSource: Hashable, Sendable {
    /// A peer whose own Nym address we proved in a handshake.
    case peer(Recipient)
    /// A peer without a proven address (a hidden peer), named by its sender tag or session id.
    case anonymous([UInt8])
    /// The bootstrap list (command line or file).
    case bootstrap
    /// The node itself (an address proven directly by a handshake).
    case local

    /// The bytes the bucket hash uses.
    var groupBytes: [UInt8] {
        switch self {
        case .peer(let address): [0x50] + address.identityKey
        case .anonymous(let id): [0x41] + id
        case .bootstrap: [0x42]
        case .local: [0x4C]
        }
    }
}
