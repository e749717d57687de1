/// The command byte of an overlay envelope.
public enum Command: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case version = 0x01
    case verack = 0x02
    case ping = 0x03
    case pong = 0x04
    case getaddr = 0x05
    case addr = 0x06
    case reject = 0x07
    case bye = 0x08
    case object = 0x10
    case custom = 0x11
    case inv = 0x12
    case getdata = 0x13
    case prune = 0x14
    case graft = 0x15
    case syncrange = 0x18
    case syncget = 0x19
    case syncobject = 0x1A

    /// The command's name (`version`, `ping`, ...), for logs and statistics.
    ///
    /// Spelled out: `String(describing: self)` would call this property again, recursing until
    /// the stack overflows.
    public var description: String {
        switch self {
        case .version: "version"
        case .verack: "verack"
        case .ping: "ping"
        case .pong: "pong"
        case .getaddr: "getaddr"
        case .addr: "addr"
        case .reject: "reject"
        case .bye: "bye"
        case .object: "object"
        case .custom: "custom"
        case .inv: "inv"
        case .getdata: "getdata"
        case .prune: "prune"
        case .graft: "graft"
        case .syncrange: "syncrange"
        case .syncget: "syncget"
        case .syncobject: "syncobject"
        }
    }
}

extension Command {
    /// Whether the topic layer (pub/sub objects, their dissemination and catch-up) handles this
    /// command rather than the link layer: the node passes such messages through without reading them.
    public var isTopicLayer: Bool {
        switch self {
        case .object, .inv, .getdata, .prune, .graft, .syncrange, .syncget, .syncobject: true
        case .version, .verack, .ping, .pong, .getaddr, .addr, .reject, .bye, .custom: false
        }
    }
}

/// What a node offers, announced in `version` and `addr` (a 64-bit field, bits defined below).
public struct Services: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Relays pub/sub objects. Clear on an address fetch: a short link that wants only
    /// addresses, so its peer sends it no objects (they would be lost when it closes).
    public static let relay = Services(rawValue: 1 << 0)
    /// Accepts inbound links at its Nym address (never set by a hidden node).
    public static let acceptsInbound = Services(rawValue: 1 << 1)
}

/// Why a message was rejected or a link closed, carried in `reject` and `bye`.
public struct ReasonCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let normal = ReasonCode(rawValue: 0)
    public static let malformed = ReasonCode(rawValue: 1)
    public static let protocolViolation = ReasonCode(rawValue: 2)
    public static let oversized = ReasonCode(rawValue: 3)
    public static let flood = ReasonCode(rawValue: 4)
    public static let timeout = ReasonCode(rawValue: 5)
    public static let tooManyPeers = ReasonCode(rawValue: 6)
    public static let selfConnection = ReasonCode(rawValue: 7)
    public static let noInbound = ReasonCode(rawValue: 8)
    public static let incompatibleVersion = ReasonCode(rawValue: 9)
    public static let shuttingDown = ReasonCode(rawValue: 10)
    public static let invalidObject = ReasonCode(rawValue: 11)
    public static let duplicate = ReasonCode(rawValue: 12)

    private static let names: [UInt8: String] = [
        0: "normal", 1: "malformed", 2: "protocolViolation", 3: "oversized", 4: "flood", 5: "timeout",
        6: "tooManyPeers", 7: "selfConnection", 8: "noInbound", 9: "incompatibleVersion", 10: "shuttingDown",
        11: "invalidObject", 12: "duplicate",
    ]
    public var description: String { ReasonCode.names[rawValue] ?? "code\(rawValue)" }
}
