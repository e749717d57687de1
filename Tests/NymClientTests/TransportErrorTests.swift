import NymClient
import NymbusCrypto
import NymbusTransport
import Testing

/// What a node sees of nym-client's failures through the transport seam.
@Suite struct TransportErrorTests {
    @Test(arguments: [
        (NymClientError.Code.notConnected, TransportError.Code.notConnected),
        (.connectionFailed, .notConnected),
        (.queueFull, .queueFull),
        (.closed, .closed),
        (.malformedRequest, .messageTooLarge),
        (.timeout, .timeout),
        (.invalidSenderTag, .invalidSenderTag),
        (.serverError, .failed),
        (.malformedResponse, .failed),
    ])
    func mapsEachCodeAndKeepsTheReason(from code: NymClientError.Code, to expected: TransportError.Code) {
        let original = NymClientError(code, "what happened")
        let mapped = original.transportError
        #expect(mapped.code == expected)
        #expect(mapped.reason == "what happened")
        #expect(mapped.location == original.location)
        #expect(mapped.description == "TransportError.\(expected): what happened")
    }

    @Test func aSenderTagOfTheWrongLengthIsATransportError() {
        #expect(throws: TransportError(.invalidSenderTag, "")) { try SenderTag(bytes: [1, 2, 3]) }
        do {
            _ = try SenderTag(bytes: [1, 2, 3])
        } catch {
            #expect(error.reason == "Decoded AnonymousSenderTag has invalid length. Expected 16, but got 3")
        }
    }
}
