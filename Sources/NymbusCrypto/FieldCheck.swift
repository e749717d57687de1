/// The one way a configuration struct checks its fields: every `validate()` is a list of these,
/// and every failure names the field, the value it has and the values it may have, in the
/// module's own error type (``CodedError``), so a person can fix it without reading the source.
///
/// The reason reads `"<Type>.<field> is <value>; allowed: <allowed>"`, e.g.
/// `"NodeConfiguration.inboundMax is 5000; allowed: 0...1024"`. Front ends that expose a field
/// under another name (a command-line flag, a file key) replace the `<Type>.<field>` prefix
/// (``renaming(_:in:)``), so the range is written once, here.
public struct FieldCheck<Failure: CodedError>: Sendable {
    /// The configuration type's name, the first half of every field path.
    public let type: String
    /// The code of every failure (each module's `invalidConfiguration`).
    public let code: ErrorCode<Failure>

    /// Checks fields of `type`, failing with `code`.
    public init(_ type: String, _ code: ErrorCode<Failure>) {
        self.type = type
        self.code = code
    }

    /// Fails unless `range` contains `value`.
    public func within<T: Comparable>(
        _ field: String, _ value: T, _ range: ClosedRange<T>, file: StaticString = #fileID, line: UInt = #line
    ) throws(Failure) {
        guard range.contains(value) else {
            throw failure(field, value, "\(Self.text(range.lowerBound))...\(Self.text(range.upperBound))", file, line)
        }
    }

    /// Fails unless `value ≥ minimum`.
    public func atLeast<T: Comparable>(
        _ field: String, _ value: T, _ minimum: T, file: StaticString = #fileID, line: UInt = #line
    ) throws(Failure) {
        guard value >= minimum else { throw failure(field, value, "\(Self.text(minimum)) or more", file, line) }
    }

    /// Fails unless `value > limit` (a duration or rate that must be positive).
    public func above<T: Comparable>(
        _ field: String, _ value: T, _ limit: T, file: StaticString = #fileID, line: UInt = #line
    ) throws(Failure) {
        guard value > limit else { throw failure(field, value, "more than \(Self.text(limit))", file, line) }
    }

    /// Fails unless `holds`; `allowed` says in words what the field may be.
    public func require(
        _ holds: Bool, _ field: String, _ value: some Any, allowed: String, file: StaticString = #fileID, line: UInt = #line
    ) throws(Failure) {
        guard holds else { throw failure(field, value, allowed, file, line) }
    }

    /// `"<Type>.<field>"`, the name a failure of `field` starts with.
    public func path(_ field: String) -> String { "\(type).\(field)" }

    /// `reason` with the field path `path` (as ``path(_:)`` makes it) replaced by `name`, for a
    /// front end that calls the field otherwise (`--inbound`); nil if the reason is about
    /// another field.
    public static func renaming(_ path: String, in reason: String, to name: String) -> String? {
        guard reason.hasPrefix(path + " ") else { return nil }
        return name + reason.dropFirst(path.count)
    }

    /// A value as a person writes it: durations as `2 s`, `500 ms`, `1.5 s`; the rest as Swift prints it.
    public static func text(_ value: some Any) -> String {
        guard let duration = value as? Duration else { return "\(value)" }
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds) s" }
        if attoseconds % 1_000_000_000_000_000 == 0, abs(seconds) < 1_000_000 {
            return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
        }
        return "\(Double(seconds) + Double(attoseconds) / 1e18) s"
    }

    private func failure(_ field: String, _ value: some Any, _ allowed: String, _ file: StaticString, _ line: UInt) -> Failure {
        Failure(code, "\(path(field)) is \(Self.text(value)); allowed: \(allowed)", file: file, line: line)
    }
}
