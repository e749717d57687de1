import NymbusCrypto
import NymbusTransport

/// A parse failure carrying nym-client's exact error text.
struct TextFailure: Error {
    var text: String
    init(_ text: String) { self.text = text }
}

/// Parses Nym address strings and sender tags with nym-client's rules *and* its error texts
/// (`RecipientFormattingError` and the bs58 crate's messages), for the text protocol.
enum RecipientText {
    /// Parses `identity.encryption@gateway`, failing with the message nym-client would give.
    static func parse(_ string: String) throws(TextFailure) -> Recipient {
        let halves = string.split(separator: "@", omittingEmptySubsequences: false)
        guard halves.count == 2 else {
            throw TextFailure(
                "recipient is malformed - the string address does not contain exactly a single '@' character ")
        }
        let client = halves[0].split(separator: ".", omittingEmptySubsequences: false)
        guard client.count == 2 else {
            throw TextFailure(
                "recipient is malformed - the string address does not contain exactly a single '.' character ")
        }
        let identity: [UInt8]
        let encryption: [UInt8]
        let gateway: [UInt8]
        do { identity = try key(String(client[0])) } catch {
            throw TextFailure("recipient's identity key is malformed: \(error.text)")
        }
        do { encryption = try key(String(client[1])) } catch {
            throw TextFailure("recipient's encryption key is malformed: \(error.text)")
        }
        do { gateway = try key(String(halves[1])) } catch {
            throw TextFailure("recipient gateway's identity key is malformed: \(error.text)")
        }
        do {
            return try Recipient(identityKey: identity, encryptionKey: encryption, gatewayKey: gateway)
        } catch {
            // The reason already names the part, like nym-client's MalformedIdentity/GatewayError.
            throw TextFailure(error.reason)
        }
    }

    /// One 32-byte key part.
    private static func key(_ part: String) throws(TextFailure) -> [UInt8] {
        let bytes = try base58(part)
        guard bytes.count == 32 else { throw TextFailure("invalid key length: expected 32 bytes, got \(bytes.count)") }
        return bytes
    }

    /// Base58 (Bitcoin alphabet) with the bs58 crate's error text for a bad character.
    static func base58(_ string: String) throws(TextFailure) -> [UInt8] {
        for (offset, c) in string.utf8.enumerated() where !isBase58(c) {
            let character = String(decoding: string.utf8.dropFirst(offset).prefix(1), as: UTF8.self)
            throw TextFailure("provided string contained invalid character \(quotedChar(character)) at byte \(offset)")
        }
        do { return try Base58.decode(string) } catch { throw TextFailure(error.reason) }
    }

    /// Parses a base58 sender tag, failing with nym-client's message.
    static func senderTag(_ string: String) throws(TextFailure) -> SenderTag {
        let bytes = try base58(string)
        do { return try SenderTag(bytes: bytes) } catch { throw TextFailure(error.reason) }
    }

    private static func isBase58(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "1")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "H"),
            UInt8(ascii: "J")...UInt8(ascii: "N"), UInt8(ascii: "P")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "k"), UInt8(ascii: "m")...UInt8(ascii: "z"):
            true
        default: false
        }
    }

    private static func quotedChar(_ c: String) -> String {
        c == "'" ? "'\\''" : c == "\\" ? "'\\\\'" : "'\(c)'"
    }
}
