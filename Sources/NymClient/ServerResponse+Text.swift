import NymbusCrypto
import NymbusTransport

extension ServerResponse {
    // MARK: Text (JSON)

    /// The JSON text nym-client sends, byte for byte as serde_json writes it: `type` first, then
    /// the fields in declaration order; `senderTag` is `null` when absent; `queue_length` is
    /// snake_case; `message` of `received` is the data decoded as lossy UTF-8 (invalid bytes
    /// become U+FFFD, which is why apps should use binary frames); an error's message is
    /// `"{kind prefix}:{message}"`.
    public func encodeText() -> String {
        switch self {
        case .error(let kind, let message):
            return "{\"type\":\"error\",\"message\":\(JSONText.quoted("\(kind.prefix):\(message)"))}"
        case .received(let message):
            let text = String(decoding: message.data, as: UTF8.self)
            let tag = message.senderTag.map { JSONText.quoted($0.description) } ?? "null"
            return "{\"type\":\"received\",\"message\":\(JSONText.quoted(text)),\"senderTag\":\(tag)}"
        case .selfAddress(let recipient):
            return "{\"type\":\"selfAddress\",\"address\":\(JSONText.quoted(recipient.description))}"
        case .laneQueueLength(let lane, let queueLength):
            return "{\"type\":\"laneQueueLength\",\"lane\":\(lane),\"queue_length\":\(queueLength)}"
        }
    }

    /// Decodes a JSON text response. An error's `"{prefix}:{message}"` is split back into kind and
    /// message when the prefix is a known kind; otherwise the kind is `.other` and the message is
    /// kept whole. Unknown extra fields are ignored, as serde does.
    public static func decodeText(_ json: String) throws(NymClientError) -> ServerResponse {
        var parser = JSONParser(json)
        let value: JSONValue
        do {
            value = try parser.parseValue()
            try parser.checkTrailing()
        } catch { throw NymClientError(.malformedResponse, error.message) }
        guard case .string(let type)? = value["type"] else {
            throw NymClientError(.malformedResponse, "response has no string field `type`")
        }
        switch type {
        case "received":
            let message = try string(value, "message")
            let tag: SenderTag?
            switch value["senderTag"] {
            case nil, .null?: tag = nil
            case .string(let s)?:
                do { tag = try RecipientText.senderTag(s) } catch {
                    throw NymClientError(.invalidSenderTag, error.text)
                }
            default: throw NymClientError(.malformedResponse, "`senderTag` must be a string or null")
            }
            return .received(ReceivedMessage(data: Array(message.utf8), senderTag: tag))
        case "selfAddress":
            let address = try string(value, "address")
            do { return .selfAddress(try RecipientText.parse(address)) } catch {
                throw NymClientError(.invalidAddress, error.text)
            }
        case "laneQueueLength":
            return .laneQueueLength(lane: try unsigned(value, "lane"), queueLength: try unsigned(value, "queue_length"))
        case "error":
            let full = try string(value, "message")
            for kind in ErrorKind.allKinds where full.hasPrefix(kind.prefix + ":") {
                return .error(kind: kind, message: String(full.dropFirst(kind.prefix.count + 1)))
            }
            return .error(kind: .other, message: full)
        default:
            throw NymClientError(.malformedResponse, "unknown response type `\(type)`")
        }
    }

    private static func string(_ value: JSONValue, _ key: String) throws(NymClientError) -> String {
        guard case .string(let s)? = value[key] else {
            throw NymClientError(.malformedResponse, "response field `\(key)` is missing or not a string")
        }
        return s
    }

    private static func unsigned(_ value: JSONValue, _ key: String) throws(NymClientError) -> UInt64 {
        guard case .number(let text)? = value[key], let n = UInt64(text) else {
            throw NymClientError(.malformedResponse, "response field `\(key)` is missing or not a u64")
        }
        return n
    }
}
