import FoundationEssentials
import NymbusCrypto
import Testing

@testable import NymbusNode

@Suite struct BootstrapListTests {
    @Test func parsesAddressesCommentsAndBlanks() throws {
        let a = Recipient.random()
        let b = Recipient.random()
        let text = "# seeds\n\n  \(a)  \r\n\(b) # second\n\(a)\n"
        #expect(try BootstrapList.parse(text) == [a, b])
    }

    @Test func badLineIsAnErrorNamingTheLine() {
        let text = "\(Recipient.random())\nnot-an-address\n"
        #expect {
            try BootstrapList.parse(text, source: "seeds.txt")
        } throws: { error in
            (error as? NodeError)?.reason.hasPrefix("seeds.txt line 2 is not a Nym address") == true
        }
    }

    @Test func loadsAFile() throws {
        let path = "/tmp/nymbus-bootstrap-\(SessionIDForTests.unique())"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let a = Recipient.random()
        try Data("\(a)\n".utf8).write(to: URL(filePath: path))
        #expect(try BootstrapList.load(path: path) == [a])
        #expect(throws: NodeError(.persistence, "")) { try BootstrapList.load(path: path + ".missing") }
    }

    @Test func durations() {
        #expect(DurationText.parse("120") == .seconds(120))
        #expect(DurationText.parse("90s") == .seconds(90))
        #expect(DurationText.parse("2m") == .seconds(120))
        #expect(DurationText.parse("1h") == .seconds(3600))
        #expect(DurationText.parse("500ms") == .milliseconds(500))
        #expect(DurationText.parse("1.5s") == .milliseconds(1500))
        #expect(DurationText.parse("-1") == nil)
        #expect(DurationText.parse("soon") == nil)
        #expect(DurationText.parse("") == nil)
    }
}
