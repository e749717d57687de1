import NymbusCrypto
import Testing

private struct SettingsError: CodedError {
    let details: ErrorDetails<Self>
    init(details: ErrorDetails<Self>) { self.details = details }
}

extension ErrorCode<SettingsError> {
    fileprivate static let invalid = Self("invalid")
}

/// The one configuration check: each failure names the field, its value and what it may be.
@Suite struct FieldCheckTests {
    private let check = FieldCheck<SettingsError>("SampleConfiguration", .invalid)

    /// The reason of the error `body` throws; nil if it throws none.
    private func reason(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as SettingsError {
            #expect(error.code == .invalid)
            return error.reason
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func eachRuleNamesTheFieldTheValueAndTheRange() {
        #expect(reason { try check.within("links", 5, 0...4) } == "SampleConfiguration.links is 5; allowed: 0...4")
        #expect(reason { try check.within("links", -1, 0...4) } == "SampleConfiguration.links is -1; allowed: 0...4")
        #expect(reason { try check.within("links", 4, 0...4) } == nil)
        #expect(reason { try check.atLeast("burst", 0.5, 1.0) } == "SampleConfiguration.burst is 0.5; allowed: 1.0 or more")
        #expect(reason { try check.atLeast("burst", 1.0, 1.0) } == nil)
        #expect(reason { try check.above("interval", Duration.zero, .zero) } == "SampleConfiguration.interval is 0 s; allowed: more than 0 s")
        #expect(reason { try check.above("interval", Duration.nanoseconds(1), .zero) } == nil)
        #expect(
            reason { try check.require(false, "secret", "3 bytes", allowed: "32 bytes") }
                == "SampleConfiguration.secret is 3 bytes; allowed: 32 bytes")
        #expect(reason { try check.require(true, "secret", "32 bytes", allowed: "32 bytes") } == nil)
    }

    @Test func durationsReadAsPeopleWriteThem() {
        #expect(FieldCheck<SettingsError>.text(Duration.seconds(120)) == "120 s")
        #expect(FieldCheck<SettingsError>.text(Duration.milliseconds(1500)) == "1500 ms")
        #expect(FieldCheck<SettingsError>.text(Duration.milliseconds(-5)) == "-5 ms")
        #expect(FieldCheck<SettingsError>.text(Duration.microseconds(1500)) == "0.0015 s")
        #expect(
            reason { try check.within("timeout", Duration.milliseconds(500), .seconds(1)...(.seconds(10))) }
                == "SampleConfiguration.timeout is 500 ms; allowed: 1 s...10 s")
    }

    @Test func aFrontEndRenamesTheFieldOnly() {
        let reason = "SampleConfiguration.links is 5; allowed: 0...4"
        #expect(FieldCheck<SettingsError>.renaming("SampleConfiguration.links", in: reason, to: "--links") == "--links is 5; allowed: 0...4")
        #expect(FieldCheck<SettingsError>.renaming("SampleConfiguration.link", in: reason, to: "--link") == nil)
        #expect(FieldCheck<SettingsError>.renaming("SampleConfiguration.other", in: reason, to: "--other") == nil)
        #expect(check.path("links") == "SampleConfiguration.links")
    }
}
