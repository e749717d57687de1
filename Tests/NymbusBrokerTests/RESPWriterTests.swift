import NIOCore
import Testing

@testable import NymbusBroker

@Suite struct RESPWriterTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func simpleTypesAreWrittenExactly() {
        #expect(RESPWriter.encode(.simpleString("OK")) == bytes("+OK\r\n"))
        #expect(RESPWriter.encode(.error("ERR bad")) == bytes("-ERR bad\r\n"))
        #expect(RESPWriter.encode(.integer(-42)) == bytes(":-42\r\n"))
        #expect(RESPWriter.encode(.integer(7)) == bytes(":7\r\n"))
        #expect(RESPWriter.encode(.bulkString(nil)) == bytes("$-1\r\n"))
        #expect(RESPWriter.encode(.array(nil)) == bytes("*-1\r\n"))
        #expect(RESPWriter.encode(.array([])) == bytes("*0\r\n"))
        #expect(RESPWriter.encode(.bulk("")) == bytes("$0\r\n\r\n"))
    }
}
