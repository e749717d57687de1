import NymbusCrypto
import Testing

/// A module's error type as every Nymbus module declares one.
private struct SampleError: CodedError {
    let details: ErrorDetails<Self>
    init(details: ErrorDetails<Self>) { self.details = details }
}

extension ErrorCode<SampleError> {
    fileprivate static let first = Self("first")
    fileprivate static let second = Self("second")
}

@Suite struct CodedErrorTests {
    @Test func describesEqualsAndHashesByCode() {
        let one = SampleError(.first, "the reason")
        let line = #line - 1
        #expect(one.description == "SampleError.first: the reason")
        #expect(one.code == .first && one.code.description == "first")
        #expect(one.reason == "the reason")
        #expect(one.location == "NymbusCryptoTests/CodedErrorTests.swift:\(line)")
        #expect(one == SampleError(.first, "another reason"))
        #expect(one != SampleError(.second, "the reason"))
        #expect(Set([one, SampleError(.first, "x"), SampleError(.second, "y")]).count == 2)
    }

    @Test func aCodeSwitchesLikeAnEnum() {
        func name(_ error: SampleError) -> String {
            switch error.code {
            case .first: "one"
            case .second: "two"
            default: "other"
            }
        }
        #expect(name(SampleError(.second, "")) == "two")
        #expect(name(SampleError(.first, "")) == "one")
    }

    @Test func cryptoErrorKeepsItsMessage() {
        let error = CryptoError(.invalidKeyLength, "key must be 32 bytes, got 31")
        #expect(error.description == "CryptoError.invalidKeyLength: key must be 32 bytes, got 31")
        #expect(error == CryptoError(.invalidKeyLength, ""))
    }
}
