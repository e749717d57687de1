/// How broker channel names map to topics.
///
/// A channel name is a public topic's name: anyone who knows the name can read and post.
/// Channels whose name starts with `~` are private topics: they exist on this node only after
/// `NYMBUS.JOIN <invite>` or `NYMBUS.TOPIC NEW`, and publishing to one that was not joined is an
/// error rather than a silent post to a public topic of that name.
public enum ChannelName {
    /// The first byte of every private channel name.
    public static let privatePrefix = UInt8(ascii: "~")
    /// Longest channel name accepted (bytes); the invite format carries names up to 255 bytes.
    public static let maxLength = 255

    /// Whether `channel` names a private topic.
    public static func isPrivate(_ channel: [UInt8]) -> Bool { channel.first == privatePrefix }

    /// The channel a private topic is published under: `~` followed by its label.
    public static func privateChannel(label: String) -> [UInt8] {
        let bytes = Array(label.utf8)
        return bytes.first == privatePrefix ? bytes : [privatePrefix] + bytes
    }
}
