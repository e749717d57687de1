import NymbusCrypto
import NymbusTransport

extension ClientRequest {
    // MARK: Text (JSON)

    /// The JSON text request nym-client accepts (`{"type":"send",...}`).
    ///
    /// Text carries `message` as a JSON string, so `data` must be valid UTF-8; binary payloads
    /// need binary frames. `closedConnection` and `getLaneQueueLength` have no text form.
    /// A `nil` connection id is left out (nym-client reads a missing field as none).
    public func encodeText() throws(NymClientError) -> String {
        func utf8(_ data: [UInt8]) throws(NymClientError) -> String {
            guard let s = String(validating: data, as: UTF8.self) else {
                throw NymClientError(.malformedRequest, "text requests carry UTF-8 only; use a binary frame")
            }
            return JSONText.quoted(s)
        }
        func connection(_ id: UInt64?) -> String { id.map { ",\"connectionId\":\($0)" } ?? "" }
        switch self {
        case .send(let recipient, let data, let connectionID):
            return
                "{\"type\":\"send\",\"message\":\(try utf8(data)),\"recipient\":\(JSONText.quoted(recipient.description))"
                + connection(connectionID) + "}"
        case .sendAnonymous(let recipient, let data, let replySurbs, let connectionID):
            return "{\"type\":\"sendAnonymous\",\"recipient\":\(JSONText.quoted(recipient.description)),"
                + "\"message\":\(try utf8(data)),\"replySurbs\":\(replySurbs)" + connection(connectionID) + "}"
        case .reply(let senderTag, let data, let connectionID):
            return "{\"type\":\"reply\",\"senderTag\":\(JSONText.quoted(senderTag.description)),"
                + "\"message\":\(try utf8(data))" + connection(connectionID) + "}"
        case .selfAddress:
            return "{\"type\":\"selfAddress\"}"
        case .closedConnection:
            throw NymClientError(.malformedRequest, "closedConnection has no text form; use a binary frame")
        case .getLaneQueueLength:
            throw NymClientError(.malformedRequest, "getLaneQueueLength has no text form; use a binary frame")
        }
    }

    /// Decodes a JSON text request as nym-client's server does (serde's internally tagged enum
    /// plus its conversion), failing with the message it would answer with: always kind
    /// `malformedRequest`, message worded like serde_json (`missing field \`replySurbs\` at line
    /// 1 column 60`) or like the address parser.
    ///
    /// Positions follow serde_json's rules (the end of the top-level object for field errors);
    /// syntax error texts cover the common cases but are not guaranteed identical for every input.
    public static func decodeText(_ json: String) throws(NymClientRequestError) -> ClientRequest {
        var parser = JSONParser(json)
        let value: JSONValue
        do { value = try parser.parseValue() } catch { throw malformed(error.message) }
        let at = parser.position(parser.valueEnd)
        let request: ClientRequest
        do { request = try TextRequest.decode(value) } catch {
            throw malformed(error.positioned ? error.message + at : error.message)
        }
        do { try parser.checkTrailing() } catch { throw malformed(error.message) }
        return request
    }

    private static func malformed(_ message: String) -> NymClientRequestError {
        NymClientRequestError(kind: .malformedRequest, message: message)
    }
}

/// A semantic error in a text request; `positioned` errors come from serde and get a position.
struct TextRequestError: Error {
    var message: String
    var positioned = true
}

/// serde's view of `ClientRequestText`: an internally tagged enum with camelCase names.
enum TextRequest {
    static let variants = ["send", "sendAnonymous", "reply", "selfAddress"]
    static let enumName = "internally tagged enum ClientRequestText"

    static func decode(_ value: JSONValue) throws(TextRequestError) -> ClientRequest {
        guard case .object(let members) = value else {
            throw TextRequestError(message: "invalid type: \(value.unexpectedDescription), expected \(enumName)")
        }
        var variant: String?
        var fields: [(key: String, value: JSONValue)] = []
        for member in members {
            guard member.key == "type" else {
                fields.append(member)
                continue
            }
            guard variant == nil else { throw TextRequestError(message: "duplicate field `type`") }
            variant = try variantName(member.value)
        }
        guard let variant else { throw TextRequestError(message: "missing field `type`") }
        var reader = try FieldReader(fields, known: knownFields(variant))
        switch variant {
        case "send":
            let message = try reader.string("message")
            let recipient = try reader.string("recipient")
            let connectionID = try reader.optionalUInt64("connectionId")
            return .send(
                recipient: try parseRecipient(recipient), data: Array(message.utf8), connectionID: connectionID)
        case "sendAnonymous":
            let recipient = try reader.string("recipient")
            let message = try reader.string("message")
            let replySurbs = try reader.uint32("replySurbs")
            let connectionID = try reader.optionalUInt64("connectionId")
            return .sendAnonymous(
                recipient: try parseRecipient(recipient), data: Array(message.utf8), replySurbs: replySurbs,
                connectionID: connectionID)
        case "reply":
            let tag = try reader.senderTag("senderTag")
            let message = try reader.string("message")
            let connectionID = try reader.optionalUInt64("connectionId")
            return .reply(senderTag: tag, data: Array(message.utf8), connectionID: connectionID)
        default:
            return .selfAddress
        }
    }

    private static func knownFields(_ variant: String) -> [String] {
        switch variant {
        case "send": ["message", "recipient", "connectionId"]
        case "sendAnonymous": ["recipient", "message", "replySurbs", "connectionId"]
        case "reply": ["senderTag", "message", "connectionId"]
        default: []
        }
    }

    private static func variantName(_ value: JSONValue) throws(TextRequestError) -> String {
        switch value {
        case .string(let name):
            guard variants.contains(name) else {
                let expected = variants.map { "`\($0)`" }.joined(separator: ", ")
                throw TextRequestError(message: "unknown variant `\(name)`, expected one of \(expected)")
            }
            return name
        case .number(let text) where JSONValue.isInteger(text) && !text.hasPrefix("-"):
            // serde also accepts a variant index.
            guard let index = Int(text), index < variants.count else {
                throw TextRequestError(
                    message: "invalid value: integer `\(text)`, expected variant index 0 <= i < \(variants.count)")
            }
            return variants[index]
        default:
            throw TextRequestError(
                message: "invalid type: \(value.unexpectedDescription), expected variant identifier")
        }
    }

    private static func parseRecipient(_ string: String) throws(TextRequestError) -> Recipient {
        do { return try RecipientText.parse(string) } catch {
            throw TextRequestError(message: error.text, positioned: false)
        }
    }
}

/// Reads a variant's fields the way serde's derived struct visitor does: first problem in input
/// order (wrong type, duplicate), then the first missing field in declaration order.
struct FieldReader {
    private var values: [String: JSONValue] = [:]

    init(_ members: [(key: String, value: JSONValue)], known: [String]) throws(TextRequestError) {
        // Duplicates and type errors surface in input order, before any missing field.
        for member in members where known.contains(member.key) {
            guard values[member.key] == nil else {
                throw TextRequestError(message: "duplicate field `\(member.key)`")
            }
            try FieldReader.check(member.key, member.value)
            values[member.key] = member.value
        }
    }

    private static func check(_ key: String, _ value: JSONValue) throws(TextRequestError) {
        switch key {
        case "message", "recipient": _ = try string(value)
        case "connectionId": if value != .null { _ = try unsigned(value, max: UInt64.max, type: "u64") }
        case "replySurbs": _ = try unsigned(value, max: UInt64(UInt32.max), type: "u32")
        case "senderTag": _ = try tag(value)
        default: break
        }
    }

    private func required(_ key: String) throws(TextRequestError) -> JSONValue {
        guard let value = values[key] else { throw TextRequestError(message: "missing field `\(key)`") }
        return value
    }

    mutating func string(_ key: String) throws(TextRequestError) -> String {
        try FieldReader.string(try required(key))
    }

    mutating func uint32(_ key: String) throws(TextRequestError) -> UInt32 {
        UInt32(try FieldReader.unsigned(try required(key), max: UInt64(UInt32.max), type: "u32"))
    }

    mutating func optionalUInt64(_ key: String) throws(TextRequestError) -> UInt64? {
        guard let value = values[key], value != .null else { return nil }
        return try FieldReader.unsigned(value, max: UInt64.max, type: "u64")
    }

    mutating func senderTag(_ key: String) throws(TextRequestError) -> SenderTag {
        try FieldReader.tag(try required(key))
    }

    private static func string(_ value: JSONValue) throws(TextRequestError) -> String {
        guard case .string(let s) = value else {
            throw TextRequestError(message: "invalid type: \(value.unexpectedDescription), expected a string")
        }
        return s
    }

    private static func unsigned(_ value: JSONValue, max: UInt64, type: String) throws(TextRequestError) -> UInt64 {
        guard case .number(let text) = value, JSONValue.isInteger(text) else {
            throw TextRequestError(message: "invalid type: \(value.unexpectedDescription), expected \(type)")
        }
        guard !text.hasPrefix("-") else {
            if text == "-0" { return 0 }
            throw TextRequestError(message: "invalid value: integer `\(text)`, expected \(type)")
        }
        guard let n = UInt64(text) else {
            // serde_json reads integers beyond u64 as floats.
            throw TextRequestError(message: "invalid type: floating point `\(text)`, expected \(type)")
        }
        guard n <= max else { throw TextRequestError(message: "invalid value: integer `\(text)`, expected \(type)") }
        return n
    }

    private static func tag(_ value: JSONValue) throws(TextRequestError) -> SenderTag {
        let text = try string(value)
        do { return try RecipientText.senderTag(text) } catch { throw TextRequestError(message: error.text) }
    }
}
