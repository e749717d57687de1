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
        settings.silenceProbe = 10_000  // the periodic ping alone (the probe is tested below)
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

    /// A link's first periodic ping comes `firstPingEarly` before the interval (at most half of
    /// it), the next ones a whole interval apart: links that came up together ping apart.
    @Test func theFirstPingComesEarlyByTheLinksOwnAmount() {
        var settings = SessionSettings()
        settings.pingInterval = 120
        settings.silenceProbe = 10_000
        for (early, first) in [(0.0, 120.0), (30, 90), (100, 60)] {
            settings.firstPingEarly = early
            var s = established(settings: settings)
            _ = s.receive(.object([1]), now: first - 1)  // not silent
            #expect(s.tick(now: first - 0.5, nonce: 1) == [], "early \(early)")
            #expect(s.tick(now: first, nonce: 1) == [.send(.ping(nonce: 1))], "early \(early)")
            _ = s.receive(.pong(nonce: 1), now: first + 1)
            #expect(s.tick(now: first + 119.5, nonce: 2) == [])
            #expect(s.tick(now: first + 120, nonce: 2) == [.send(.ping(nonce: 2))])
        }
        let drawn = (0..<64).map { _ in settings.forNewLink().firstPingEarly }
        #expect(drawn.allSatisfy { (0..<60).contains($0) } && Set(drawn).count > 1, "\(drawn)")
    }

    @Test func silentPeerTimesOut() {
        var settings = SessionSettings()
        settings.pingInterval = 10
        settings.peerTimeout = 60
        settings.silenceProbe = 10_000
        settings.pongWaitMinimum = 10_000  // only the hard silence limit
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
        settings.pongWaitMinimum = 1
        var s = established(settings: settings)
        _ = s.tick(now: 10, nonce: 1)
        for t in stride(from: 11.0, to: 71, by: 5) { _ = s.receive(.object([1]), now: t) }
        #expect(s.tick(now: 70, nonce: 2) == [.close(.timeout, "no pong for 60 s", notify: true, discourage: false)])
    }

    /// An initiator whose handshake took 2 s (the first round-trip sample: srtt 2, rttvar 1,
    /// so a pong may take 2 + 4 × 1 = 6 s) probes after 30 s of silence, sends the ping once
    /// more after 6 s, and closes the link 6 s after that.
    @Test func silenceIsProbedAndJudgedOnTheMeasuredRoundTrip() {
        var settings = SessionSettings()
        settings.silenceProbe = 30
        settings.pongWaitMinimum = 1
        var (s, _) = Handshakes.initiator(settings: settings, nonce: 11)
        _ = s.receive(.version(Handshakes.version(nonce: 99)), now: 1)
        #expect(s.receive(.verack(VerackMessage(echoNonce: 11)), now: 2) == [.established])
        #expect(s.smoothedRTT == 2 && s.rttVariation == 1 && s.pongWait == 6)
        #expect(s.tick(now: 31.9, nonce: 5) == [])
        #expect(s.tick(now: 32, nonce: 5) == [.send(.ping(nonce: 5))])
        #expect(s.tick(now: 37.9, nonce: 6) == [])
        #expect(s.tick(now: 38, nonce: 6) == [.send(.ping(nonce: 5))])  // the same nonce again
        #expect(s.tick(now: 43.9, nonce: 7) == [])
        #expect(
            s.tick(now: 44, nonce: 7) == [
                .close(
                    .timeout, "no answer to 2 pings, 6.0 s each (round trip about 2.0 s)", notify: true,
                    discourage: false)
            ])
    }

    /// A pong (to either copy of the ping) keeps the link and is a round-trip sample; anything
    /// else arriving pushes the deadline back (so a busy link is never closed for a slow pong
    /// before the hard limit).
    @Test func anAnsweredProbeKeepsTheLink() {
        var settings = SessionSettings()
        settings.silenceProbe = 30
        settings.pongWaitMinimum = 1
        var (s, _) = Handshakes.initiator(settings: settings, nonce: 11)
        _ = s.receive(.version(Handshakes.version(nonce: 99)), now: 1)
        _ = s.receive(.verack(VerackMessage(echoNonce: 11)), now: 2)
        #expect(s.tick(now: 32, nonce: 5) == [.send(.ping(nonce: 5))])
        _ = s.receive(.object([1]), now: 37)
        #expect(s.tick(now: 42.9, nonce: 6) == [])  // 6 s after the object, not after the ping
        #expect(s.tick(now: 43, nonce: 6) == [.send(.ping(nonce: 5))])
        #expect(s.receive(.pong(nonce: 5), now: 44) == [])
        #expect(s.rtt == 12 && s.pingNonce == nil && s.pingsUnanswered == 0)
        // srtt = 7/8 × 2 + 1/8 × 12 = 3.25; rttvar = 3/4 × 1 + 1/4 × 10 = 3.25
        #expect(s.smoothedRTT == 3.25 && s.rttVariation == 3.25 && s.pongWait == 16.25)
        #expect(s.tick(now: 73.9, nonce: 8) == [])
        #expect(s.tick(now: 74, nonce: 8) == [.send(.ping(nonce: 8))])
    }

    /// On an idle link only the initiator probes: the responder waits 1.5 × as long, and the
    /// initiator's pings reset its silence.
    @Test func theResponderProbesOnlyWhenTheInitiatorFallsSilent() {
        var settings = SessionSettings()
        settings.silenceProbe = 30
        var s = established(settings: settings)
        #expect(s.tick(now: 30, nonce: 1) == [])
        #expect(s.receive(.ping(nonce: 3), now: 31) == [.send(.pong(nonce: 3))])
        #expect(s.tick(now: 75.9, nonce: 1) == [])
        #expect(s.tick(now: 76, nonce: 1) == [.send(.ping(nonce: 1))])
    }

    /// A hidden initiator's probe returns only the SURBs the peer used (at least the one for
    /// its pong); the periodic ping refills to `pingMinimum`.
    @Test func aProbeTopsUpOnlyWhatWasUsed() {
        var settings = SessionSettings()
        settings.silenceProbe = 30
        settings.pingInterval = 120
        var (s, _) = Handshakes.initiator(path: .anonymousOutbound(Recipient.random()), settings: settings, nonce: 11)
        _ = s.receive(.version(Handshakes.version(nonce: 99)), now: 0)
        _ = s.receive(.verack(VerackMessage(echoNonce: 11)), now: 0)
        _ = s.surbs(for: .getaddr)  // resets the count
        #expect(s.tick(now: 30, nonce: 5) == [.send(.ping(nonce: 5))])
        #expect(s.surbs(for: .ping(nonce: 5)) == 1)
        _ = s.receive(.pong(nonce: 5), now: 31)
        _ = s.receive(.object([1]), size: 5000, packets: 4, now: 31)
        #expect(s.tick(now: 61, nonce: 6) == [.send(.ping(nonce: 6))])
        #expect(s.surbs(for: .ping(nonce: 6)) == 5)  // the pong and the 4-packet object
        _ = s.receive(.pong(nonce: 6), now: 62)
        _ = s.receive(.object([1]), now: 180)
        _ = s.surbs(for: .object([1]))
        #expect(s.tick(now: 181, nonce: 7) == [.send(.ping(nonce: 7))])  // periodic: 2 min after the last
        #expect(s.surbs(for: .ping(nonce: 7)) == 10)
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
