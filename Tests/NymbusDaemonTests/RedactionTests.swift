import Logging
import NymbusDaemon
import Testing

@Suite struct RedactionTests {
    @Test(arguments: [
        ("connect to 127.0.0.1:1977 failed", "connect to <ip>:1977 failed"),
        ("peer at 10.0.0.12 and 192.168.1.1", "peer at <ip> and <ip>"),
        ("v6 [::1]:1977 and fe80::1ff:fe23:4567:890a", "v6 [<ip>]:1977 and <ip>"),
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334 up", "<ip> up"),
    ])
    func addressesAreBlanked(input: String, expected: String) {
        #expect(IPRedaction.redact(input) == expected)
        #expect(IPRedaction.containsAddress(input))
        #expect(!IPRedaction.containsAddress(expected))
    }

    @Test(arguments: [
        "at 12:30:45 the node started", "version 1.2.3", "took 0.25 s", "nymbus:topic:abc",
        "CytBseW6yFXUMzz4SGAKdNLGR7q3sJLLYxyBGvutNEQV.4QXYyEVc5fUDjmmi8PrHN9tdUFV4PCvSJE1278cHyvoe@4sBbL1ngf1vtNqykydQKTFh26sQCw888GpUqvPvyNB4f",
        "session 0a1b2c3d", "Node::start", "1.2.3.4.5",
    ])
    func ordinaryTextIsKept(input: String) {
        #expect(IPRedaction.redact(input) == input)
        #expect(!IPRedaction.containsAddress(input))
    }
}
