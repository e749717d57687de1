import NymClient
import NymbusCrypto
import NymbusWire
import Testing

@testable import NymbusNode

/// Builders for handshake tests.
enum Handshakes {
    static func version(nonce: UInt64, address: Recipient? = nil, protocolVersion: UInt16 = 1) -> VersionMessage {
        VersionMessage(
            protocolVersion: protocolVersion, services: [.relay], timestamp: 1_800_000_000, nonce: nonce,
            userAgent: "/test/", returnAddress: address)
    }

    static func initiator(path: PeerPath? = nil, settings: SessionSettings = SessionSettings(), nonce: UInt64 = 11) -> (
        PeerSession, [SessionAction]
    ) {
        PeerSession.initiate(
            id: .random(), path: path ?? .visible(Recipient.random()), version: version(nonce: nonce),
            settings: settings,
            now: 0)
    }

    static func responder(
        peerNonce: UInt64 = 22, localNonce: UInt64 = 33, settings: SessionSettings = SessionSettings()
    )
        -> (PeerSession, [SessionAction])
    {
        let (session, actions) = PeerSession.respond(
            id: .random(), path: .visible(Recipient.random()),
            peerVersion: version(nonce: peerNonce, address: Recipient.random()),
            version: version(nonce: localNonce), settings: settings, now: 0)
        return (session!, actions)
    }
}

@Suite struct HandshakeTests {
    @Test func initiatorCompletesWithVersionThenVerack() {
        var (s, first) = Handshakes.initiator(nonce: 11)
        #expect(first == [.send(.version(Handshakes.version(nonce: 11)))])
        let peer = Handshakes.version(nonce: 99)
        #expect(s.receive(.version(peer), now: 1) == [.send(.verack(VerackMessage(echoNonce: 99)))])
        #expect(!s.isEstablished)
        #expect(s.receive(.verack(VerackMessage(echoNonce: 11)), now: 2) == [.established])
        #expect(s.isEstablished && s.phase == .established)
        #expect(s.provenAddress != nil)
    }

    @Test func initiatorCompletesWithVerackThenVersion() {
        var (s, _) = Handshakes.initiator(nonce: 11)
        #expect(s.receive(.verack(VerackMessage(echoNonce: 11)), now: 1) == [])
        #expect(s.provenAddress == nil)
        let actions = s.receive(.version(Handshakes.version(nonce: 99)), now: 2)
        #expect(actions == [.send(.verack(VerackMessage(echoNonce: 99))), .established])
    }

    @Test func responderAnswersVersionAndVerackThenWaitsForEcho() {
        var (s, first) = Handshakes.responder(peerNonce: 22, localNonce: 33)
        #expect(
            first == [.send(.version(Handshakes.version(nonce: 33))), .send(.verack(VerackMessage(echoNonce: 22)))])
        #expect(s.phase == .awaitingVerack)
        #expect(s.provenAddress == nil)  // the claimed address is not trusted yet
        #expect(s.receive(.verack(VerackMessage(echoNonce: 33)), now: 1) == [.established])
        #expect(s.provenAddress != nil)  // it echoed the nonce we sent to its claimed address
    }

    @Test func wrongVerackNonceIsAViolation() {
        var (s, _) = Handshakes.responder(localNonce: 33)
        #expect(
            s.receive(.verack(VerackMessage(echoNonce: 34)), now: 1) == [
                .close(.protocolViolation, "verack does not echo our version nonce", notify: true, discourage: true)
            ])
    }

    @Test func secondVersionIsAViolationButADuplicateIsNot() {
        var (s, _) = Handshakes.responder(peerNonce: 22)
        #expect(s.receive(.version(Handshakes.version(nonce: 22, address: nil)), now: 1).first.map(isViolation) == true)
        var (t, _) = Handshakes.initiator()
        let v = Handshakes.version(nonce: 5)
        _ = t.receive(.version(v), now: 1)
        #expect(t.receive(.version(v), now: 2) == [.note(.duplicate)])
        #expect(t.receive(.version(Handshakes.version(nonce: 6)), now: 2).first.map(isViolation) == true)
        // Still a violation once established.
        _ = t.receive(.verack(VerackMessage(echoNonce: 11)), now: 3)
        #expect(t.receive(.verack(VerackMessage(echoNonce: 11)), now: 4) == [.note(.duplicate)])
        #expect(t.receive(.version(Handshakes.version(nonce: 7)), now: 4).first.map(isViolation) == true)
    }

    func isViolation(_ action: SessionAction) -> Bool {
        if case .close(.protocolViolation, _, true, true) = action { return true }
        return false
    }

    @Test func reorderedMessagesAreHeldAndReplayed() {
        var (s, _) = Handshakes.initiator(nonce: 11)
        // The responder's ping and addr overtake its version and verack.
        #expect(s.receive(.ping(nonce: 5), now: 1) == [])
        #expect(s.receive(.object([1, 2, 3]), now: 1) == [])
        #expect(s.pending.count == 2)
        _ = s.receive(.version(Handshakes.version(nonce: 99)), now: 2)
        let actions = s.receive(.verack(VerackMessage(echoNonce: 11)), now: 3)
        #expect(actions == [.established, .send(.pong(nonce: 5)), .deliver(.object([1, 2, 3]))])
        #expect(s.pending.isEmpty)
    }

    @Test func pendingBufferIsBounded() {
        var (s, _) = Handshakes.responder()
        for i in 0..<8 { #expect(s.receive(.ping(nonce: UInt64(i)), now: 1) == []) }
        let ninth = s.receive(.ping(nonce: 9), now: 1)
        #expect(
            ninth == [
                .close(
                    .protocolViolation, "more than 8 messages or 256 KiB before the handshake completed", notify: true,
                    discourage: false)
            ])
    }

    @Test func pendingBytesAreBounded() {
        var (s, _) = Handshakes.responder()
        let big = Array(repeating: UInt8(1), count: 98_304)
        #expect(s.receive(.object(big), size: 98_330, now: 1) == [])
        #expect(s.receive(.object(big), size: 98_330, now: 1) == [])
        let third = s.receive(.object(big), size: 98_330, now: 1)
        if case .close(.protocolViolation, _, true, false) = third.first {
        } else {
            Issue.record("expected a close, got \(third)")
        }
        #expect(s.pending.count == 2 && s.pendingBytes == 196_660)
    }

    @Test func oldProtocolVersionIsRefused() {
        let (session, actions) = PeerSession.respond(
            id: .random(), path: .visible(Recipient.random()),
            peerVersion: Handshakes.version(nonce: 1, protocolVersion: 0),
            version: Handshakes.version(nonce: 2), settings: SessionSettings(), now: 0)
        #expect(session == nil)
        #expect(actions.count == 1)
        if case .close(let code, _, let notify, let discourage) = actions[0] {
            #expect(code == .incompatibleVersion && notify && !discourage)
        } else {
            Issue.record("expected a close")
        }
    }

    @Test func versionNegotiatesToTheLower() {
        var (s, _) = Handshakes.initiator()
        _ = s.receive(.version(Handshakes.version(nonce: 1, protocolVersion: 7)), now: 1)
        #expect(s.negotiatedVersion == 1)
    }

    @Test func ownVersionComingBackIsASelfConnection() {
        var (s, _) = Handshakes.initiator(nonce: 11)
        let actions = s.receive(.version(Handshakes.version(nonce: 11)), now: 1)
        #expect(
            actions == [
                .close(
                    .selfConnection, "connected to ourselves (our version nonce came back)", notify: false,
                    discourage: false)
            ])
    }

    @Test func byeIsReported() {
        var (s, _) = Handshakes.initiator()
        let bye = ByeMessage(code: .noInbound, reason: "hidden")
        #expect(s.receive(.bye(bye), now: 1) == [.peerClosed(bye)])
    }
}

@Suite struct EstablishedSessionTests {
    func established(settings: SessionSettings = SessionSettings()) -> PeerSession {
        var (s, _) = Handshakes.responder(localNonce: 33, settings: settings)
        _ = s.receive(.verack(VerackMessage(echoNonce: 33)), now: 0)
        return s
    }

    @Test func pingIsAnsweredAndPongMeasured() {
        var settings = SessionSettings()
        settings.pingInterval = 120
        var s = established(settings: settings)
        #expect(s.receive(.ping(nonce: 42), now: 1) == [.send(.pong(nonce: 42))])
        #expect(s.tick(now: 119, nonce: 7) == [])
        #expect(s.tick(now: 120, nonce: 7) == [.send(.ping(nonce: 7))])
        #expect(s.tick(now: 121, nonce: 8) == [])  // one ping outstanding at a time
        #expect(s.receive(.pong(nonce: 6), now: 121) == [.note(.pongMismatch)])
        #expect(s.receive(.pong(nonce: 7), now: 122.5) == [])
        #expect(s.rtt == 2.5)
        #expect(s.tick(now: 240, nonce: 9) == [.send(.ping(nonce: 9))])
    }

    @Test func silentPeerTimesOut() {
        var settings = SessionSettings()
        settings.pingInterval = 10
        settings.peerTimeout = 60
        var s = established(settings: settings)
        #expect(s.tick(now: 10, nonce: 1) == [.send(.ping(nonce: 1))])
        #expect(s.tick(now: 59, nonce: 2) == [])
        let actions = s.tick(now: 60, nonce: 3)
        #expect(actions == [.close(.timeout, "silent for 60 s", notify: true, discourage: false)])
    }

    @Test func trafficWithoutPongStillTimesOut() {
        var settings = SessionSettings()
        settings.pingInterval = 10
        settings.peerTimeout = 60
        var s = established(settings: settings)
        _ = s.tick(now: 10, nonce: 1)
        for t in stride(from: 11.0, to: 71, by: 5) { _ = s.receive(.object([1]), now: t) }
        #expect(s.tick(now: 70, nonce: 2) == [.close(.timeout, "no pong for 60 s", notify: true, discourage: false)])
    }

    @Test func handshakeTimesOut() {
        var settings = SessionSettings()
        settings.handshakeTimeout = 60
        var (s, _) = Handshakes.initiator(settings: settings)
        #expect(s.tick(now: 59, nonce: 1) == [])
        #expect(
            s.tick(now: 60, nonce: 1) == [
                .close(.timeout, "handshake not complete after 60 s", notify: true, discourage: false)
            ])
    }

    @Test func getaddrAnsweredOnceAndOnlyForInboundLinks() {
        var s = established()
        #expect(s.receive(.getaddr, now: 1) == [.deliver(.getaddr)])
        #expect(s.receive(.getaddr, now: 2) == [.note(.getaddrIgnored)])
        var (t, _) = Handshakes.initiator()
        _ = t.receive(.version(Handshakes.version(nonce: 1)), now: 0)
        _ = t.receive(.verack(VerackMessage(echoNonce: 11)), now: 0)
        #expect(t.receive(.getaddr, now: 1) == [.note(.getaddrIgnored)])
    }

    @Test func addrIsRateLimitedUnlessRequested() {
        let entries = (0..<5).map { _ in AddressEntry(address: Recipient.random(), lastSeen: 1, services: []) }
        var s = established()
        // The bucket starts at one token, refilling at 0.1/s.
        #expect(s.receive(.addr(entries), now: 0) == [.deliver(.addr([entries[0]])), .note(.addressesRateLimited(4))])
        #expect(
            s.receive(.addr(entries), now: 20) == [
                .deliver(.addr(Array(entries[0..<2]))), .note(.addressesRateLimited(3)),
            ])
        // Our own getaddr grants 1000 tokens for the answer.
        #expect(s.requestAddresses() == [.send(.getaddr)])
        #expect(s.requestAddresses() == [])
        #expect(s.awaitingAddrAnswer)
        #expect(s.receive(.addr(entries), now: 20) == [.deliver(.addr(entries))])
    }

    @Test func theFloodLimitCountsMixnetPacketsNotMessages() {
        var settings = SessionSettings()
        settings.packetRate = 1
        settings.packetBurst = 20
        var s = established(settings: settings)  // the verack took one token: 19 left
        let object = Message.object([UInt8](repeating: 1, count: 9000))
        for _ in 0..<3 { #expect(s.receive(object, size: 9000, packets: 6, now: 0) == [.deliver(object)]) }
        // 18 packets taken; a 6-packet object does not fit the last one, a 1-packet ping does.
        #expect(s.receive(.ping(nonce: 1), packets: 1, now: 0) == [.send(.pong(nonce: 1))])
        let actions = s.receive(object, size: 9000, packets: 6, now: 0)
        if case .close(.flood, let reason, true, true) = actions.first {
            #expect(reason == "more than 20 mixnet packets at once (1 packets/s allowed)")
        } else {
            Issue.record("expected a flood close, got \(actions)")
        }
    }

    @Test func floodClosesTheLink() {
        var settings = SessionSettings()
        settings.packetRate = 1
        settings.packetBurst = 5
        var s = established(settings: settings)  // the verack took one token
        for i in 0..<4 { #expect(s.receive(.ping(nonce: UInt64(i)), now: 0) == [.send(.pong(nonce: UInt64(i)))]) }
        let actions = s.receive(.ping(nonce: 9), now: 0)
        if case .close(.flood, _, true, true) = actions.first {
        } else {
            Issue.record("expected a flood close, got \(actions)")
        }
    }
}

@Suite struct SURBBudgetTests {
    @Test func hiddenInitiatorSizesTopUpsFromTraffic() {
        var (s, _) = Handshakes.initiator(path: .anonymousOutbound(Recipient.random()), nonce: 11)
        #expect(s.surbs(for: .version(Handshakes.version(nonce: 11))) == 20)
        _ = s.receive(.version(Handshakes.version(nonce: 5)), now: 0)
        _ = s.receive(.verack(VerackMessage(echoNonce: 11)), now: 0)
        #expect(s.surbs(for: .verack(VerackMessage(echoNonce: 5))) == 0)  // 2 packets received: below the threshold
        #expect(s.surbs(for: .getaddr) == 40)
        for _ in 0..<3 { _ = s.receive(.object([1]), packets: 1, now: 1) }
        #expect(s.surbs(for: .ping(nonce: 1)) == 10)  // at least the ping minimum
        _ = s.receive(.object(Array(repeating: 0, count: 50_000)), packets: 32, now: 2)
        #expect(s.surbs(for: .object([1])) == 32)  // over the threshold: return what was used
        #expect(s.surbs(for: .object([1])) == 0)
        _ = s.receive(.object([1]), packets: 500, now: 3)
        #expect(s.surbs(for: .ping(nonce: 2)) == 100)  // capped
    }

    @Test func visibleLinksCarryNoSURBs() {
        var (s, _) = Handshakes.initiator(path: .visible(Recipient.random()))
        #expect(s.surbs(for: .version(Handshakes.version(nonce: 11))) == 0)
        #expect(s.surbs(for: .ping(nonce: 1)) == 0)
    }
}
