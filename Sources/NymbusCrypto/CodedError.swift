/// The kind of a failure of error type `Domain`, for code to match on (`switch error.code`).
///
/// A struct of named values rather than an enum, so a module can add codes without breaking
/// callers' switches; each error type lists its codes in `extension ErrorCode<ThatError>`. Only
/// this package makes codes.
public struct ErrorCode<Domain>: Hashable, Sendable, CustomStringConvertible {
    private let name: String

    /// A code named `name` (the static property's own name, so logs and replies show it).
    package init(_ name: String) { self.name = name }

    public var description: String { name }
}

/// What every Nymbus error carries: a code to match on, a reason for people, the place it was made.
public struct ErrorDetails<Domain>: Sendable {
    /// The kind of failure, for code to match on.
    public let code: ErrorCode<Domain>
    /// What happened and what to do about it, for people and logs.
    public let reason: String
    /// Where the error was made (`file:line`).
    public let location: String

    /// Details as given (to carry an error's reason and location over into another error type).
    public init(code: ErrorCode<Domain>, reason: String, location: String) {
        self.code = code
        self.reason = reason
        self.location = location
    }
}

/// The one shape of Nymbus's error types: each module has one struct that stores its
/// ``ErrorDetails`` and lists its codes in `extension ErrorCode<ThatError>`; construction,
/// equality, hashing and description are written once, here.
///
/// Equality and hashing use only the `code`, so tests match on the kind of failure while logs
/// keep the reason and the place it was raised. `description` is `"<Type>.<code>: <reason>"`.
public protocol CodedError: Error, Hashable, CustomStringConvertible {
    /// The code, reason and location.
    var details: ErrorDetails<Self> { get }
    /// Wraps `details`; callers use ``init(_:_:file:line:)``.
    init(details: ErrorDetails<Self>)
}

extension CodedError {
    /// The kind of failure: a value that can grow without breaking callers.
    public typealias Code = ErrorCode<Self>

    /// Makes an error of kind `code`, recording where it was made.
    public init(_ code: Code, _ reason: String, file: StaticString = #fileID, line: UInt = #line) {
        self.init(details: ErrorDetails(code: code, reason: reason, location: "\(file):\(line)"))
    }

    /// The kind of failure.
    public var code: Code { details.code }
    /// What happened, for people and logs.
    public var reason: String { details.reason }
    /// Where the error was made (`file:line`).
    public var location: String { details.location }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "\(Self.self).\(code): \(reason)" }
}
