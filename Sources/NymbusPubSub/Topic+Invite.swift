import NymbusCrypto

extension Topic {
    /// Every invite starts with this.
    public static let invitePrefix = "nymbus:topic:"
    /// Invite format version.
    static let inviteVersion: UInt8 = 1
    /// Longest name an invite carries (its length is one byte).
    public static let maxInviteNameLength = 255

    /// The invite string: `nymbus:topic:` + base58(version ‖ secret ‖ name length ‖ name ‖ checksum),
    /// where the checksum is the first 4 bytes of BLAKE2b-256 of everything before it.
    ///
    /// It holds the secret: anyone who sees it is a member. Never log it. A name longer than
    /// 255 bytes is left out (the secret alone defines the topic).
    public var invite: String {
        var body = [Topic.inviteVersion]
        body += secret.copyBytes()
        let label = nameBytes.flatMap { $0.count <= Topic.maxInviteNameLength ? $0 : nil } ?? []
        body.append(UInt8(label.count))
        body += label
        body += Array(Blake2b.digest32(body).prefix(4))
        return Topic.invitePrefix + Base58.encode(body)
    }

    /// Parses and checks an invite string (prefix, base58, length, checksum, version).
    ///
    /// A typo is caught by the checksum with probability 1 − 2⁻³². A named invite whose secret is
    /// the public derivation of its name yields the public topic.
    public init(invite: String) throws(PubSubError) {
        let text = invite.trimmingWhitespace()
        guard text.hasPrefix(Topic.invitePrefix) else {
            throw PubSubError(.invalidInvite, "an invite starts with \"\(Topic.invitePrefix)\"")
        }
        let encoded = String(text.dropFirst(Topic.invitePrefix.count))
        let body: [UInt8]
        do { body = try Base58.decode(encoded) } catch {
            throw PubSubError(.invalidInvite, "the invite is not valid base58 (\(error.reason))")
        }
        let minimum = 1 + 32 + 1 + 4
        guard body.count >= minimum, body.count <= minimum + Topic.maxInviteNameLength else {
            throw PubSubError(
                .invalidInvite, "an invite decodes to \(minimum)...\(minimum + 255) bytes, got \(body.count)")
        }
        let checked = Array(body.dropLast(4))
        guard Array(Blake2b.digest32(checked).prefix(4)) == Array(body.suffix(4)) else {
            throw PubSubError(.invalidInvite, "the invite's checksum does not match (typo?)")
        }
        guard checked[0] == Topic.inviteVersion else {
            throw PubSubError(.invalidInvite, "unknown invite version \(checked[0])")
        }
        let nameLength = Int(checked[33])
        guard checked.count == 34 + nameLength else {
            throw PubSubError(.invalidInvite, "the invite's name length \(nameLength) does not match its size")
        }
        let secret = SecureBytes(Array(checked[1..<33]))
        let label = Array(checked[34...])
        // The public topic with the empty name is the one public topic an empty label can prove.
        let isPublic = Topic.publicSecret(forName: label) == secret
        let nameBytes: [UInt8]? = label.isEmpty && !isPublic ? nil : label
        try self.init(secret: secret, nameBytes: nameBytes, isPublic: isPublic)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
