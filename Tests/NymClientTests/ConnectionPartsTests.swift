import NIOCore
import NIOWebSocket
import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymClient

@Suite struct ConnectionPartsTests {
    @Test func configurationDefaults() {
        let c = NymClientConfiguration()
        #expect(c.host == "127.0.0.1")
        #expect(c.port == 1977)
        #expect(c.path == "/")
        #expect(c.initialBackoff == .milliseconds(100))
        #expect(c.maxBackoff == .seconds(5))
        #expect(c.maxQueuedMessages == 1024)
        #expect(c.maxFrameSize == 16 << 20)
        #expect(c.maxMessageSize == 64 << 20)
        #expect(c.url == "ws://127.0.0.1:1977/")
    }

    @Test func configurationFromURL() throws {
        let a = try NymClientConfiguration(url: "ws://localhost:1988/x/y")
        #expect(a.host == "localhost" && a.port == 1988 && a.path == "/x/y")
        let b = try NymClientConfiguration(url: "ws://10.0.0.1")
        #expect(b.host == "10.0.0.1" && b.port == 1977 && b.path == "/")
        let c = try NymClientConfiguration(url: "ws://[::1]:2000")
        #expect(c.host == "::1" && c.port == 2000 && c.url == "ws://[::1]:2000/")
        for bad in [
            "wss://x:1", "http://x", "ws://", "ws://:1977", "ws://x:0", "ws://x:70000", "ws://x:ab", "ws://[::1",
            "ws://u@x:1",
        ] {
            #expect(throws: NymClientError(.connectionFailed, ""), "\(bad)") { try NymClientConfiguration(url: bad) }
        }
    }

    @Test func backoffDoublesWithJitterUpToTheCap() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
        var rng = SplitMix64(seed: 4)
        var caps: [Double] = []
        for _ in 0..<12 {
            let d = backoff.nextDelay(using: &rng)
            caps.append(d)
        }
        let expectedCaps = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5, 5, 5, 5, 5, 5]
        for (d, cap) in zip(caps, expectedCaps) {
            #expect(d >= cap / 2 - 1e-9 && d <= cap + 1e-9, "\(d) not in [\(cap / 2), \(cap)]")
        }
        backoff.reset()
        let first = backoff.nextDelay(using: &rng)
        #expect(first >= 0.05 && first <= 0.1)
    }

    @Test func sendQueueIsBoundedFIFO() throws {
        var q = SendQueue(capacity: 3)
        try q.append([1])
        try q.append([2])
        try q.append([3])
        #expect(throws: NymClientError(.queueFull, "")) { try q.append([4]) }
        #expect(q.peek(2) == [[1], [2]])
        q.removeFirst(1)
        try q.append([4])
        #expect(q.peek(10) == [[2], [3], [4]])
        q.removeFirst(3)
        #expect(q.isEmpty)
        var big = SendQueue(capacity: 1000)
        for i in 0..<500 { try big.append([UInt8(i % 256)]) }
        for i in 0..<499 {
            #expect(big.peek(1) == [[UInt8(i % 256)]])
            big.removeFirst(1)
        }
        #expect(big.count == 1 && big.peek(5) == [[UInt8(499 % 256)]])
    }

    @Test func framingSplitsAndMasks() {
        let message = (0..<10).map { UInt8($0) }
        let single = WebSocketFraming.frames(for: message, maxFrameSize: 10)
        #expect(single.count == 1 && single[0].fin && single[0].opcode == .binary && single[0].maskKey != nil)
        #expect(Array(single[0].data.readableBytesView) == message)
        let parts = WebSocketFraming.frames(for: message, maxFrameSize: 4)
        #expect(parts.map(\.opcode) == [.binary, .continuation, .continuation])
        #expect(parts.map(\.fin) == [false, false, true])
        #expect(parts.allSatisfy { $0.maskKey != nil })
        #expect(parts.flatMap { Array($0.data.readableBytesView) } == message)
        #expect(WebSocketFraming.frames(for: [], maxFrameSize: 4).count == 1)
        let close = WebSocketFraming.closeFrame()
        #expect(close.opcode == .connectionClose && close.maskKey != nil)
        #expect(Array(close.data.readableBytesView) == [0x03, 0xE8])
    }
}
