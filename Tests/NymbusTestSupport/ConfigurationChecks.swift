public import NymbusCrypto
public import Testing

/// Checks a configuration's `validate()` field by field: `base` passes, and each change made to
/// a copy of it makes `validate` throw a `Failure` with code `code` and exactly the reason given
/// (which names the field, its value and the allowed range, ``FieldCheck``). A case that passes,
/// or fails otherwise, records an Issue naming the expected reason.
public func expectEachRejected<Configuration, Failure: CodedError>(
    _ cases: [(reason: String, change: (inout Configuration) -> Void)], from base: Configuration,
    code: ErrorCode<Failure>, sourceLocation: SourceLocation = #_sourceLocation,
    by validate: (Configuration) throws -> Void
) {
    do { try validate(base) } catch {
        Issue.record("the base configuration fails: \(error)", sourceLocation: sourceLocation)
    }
    for (reason, change) in cases {
        var configuration = base
        change(&configuration)
        do {
            try validate(configuration)
            Issue.record("accepted; expected \(reason)", sourceLocation: sourceLocation)
        } catch let error as Failure {
            #expect(error.code == code, "\(reason)", sourceLocation: sourceLocation)
            #expect(error.reason == reason, sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error); expected \(reason)", sourceLocation: sourceLocation)
        }
    }
}
