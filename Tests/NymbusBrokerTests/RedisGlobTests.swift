import Foundation
import Testing

@testable import NymbusBroker

@Suite struct RedisGlobTests {
    private func match(_ pattern: String, _ string: String, nocase: Bool = false) -> Bool {
        RedisGlob.matches(pattern: Array(pattern.utf8), string: Array(string.utf8), caseInsensitive: nocase)
    }

    /// Cases from Redis's documentation and test suite (keyspace.tcl `KEYS with pattern`,
    /// pubsub.tcl `PSUBSCRIBE`), plus the syntax corners of `stringmatchlen`.
    @Test(arguments: [
        ("h?llo", "hello", true), ("h?llo", "hallo", true), ("h?llo", "hxllo", true), ("h?llo", "hllo", false),
        ("h*llo", "hllo", true), ("h*llo", "heeeello", true), ("h[ae]llo", "hello", true),
        ("h[ae]llo", "hallo", true), ("h[ae]llo", "hillo", false), ("h[^e]llo", "hallo", true),
        ("h[^e]llo", "hbllo", true), ("h[^e]llo", "hello", false), ("h[a-b]llo", "hallo", true),
        ("h[a-b]llo", "hbllo", true), ("h[a-b]llo", "hcllo", false), ("foo*", "foo_key", true),
        ("foo*", "foo", true), ("foo*", "fo", false), ("key*", "key_x", true),
        // Redis quirk kept on purpose: `*` does not match the empty string (PSUBSCRIBE * misses channel "").
        ("*", "", false), ("**", "", false),
        ("*", "anything", true), ("foo.*", "foo.bar", true), ("foo.*", "foo", false), ("bar.*", "bar.x", true),
        ("*.*", "a.b", true), ("{a}*", "{a}x", true), ("[b-a]", "a", true), ("[a-]", "-", false), ("[a-]", "]", true),
        ("\\*", "*", true), ("\\*", "a", false), ("a\\", "a\\", true), ("[\\]]", "]", true),
        ("[]a]", "a", false), ("[", "", false), ("[a", "a", true), ("a?", "a", false), ("?", "", false),
        ("", "", true), ("", "a", false), ("a**b", "ab", true), ("*?*", "x", true), ("*?*", "", false),
    ])
    func redisCases(pattern: String, string: String, expected: Bool) {
        #expect(match(pattern, string) == expected)
    }

    @Test func caseInsensitiveFoldsAsciiOnly() {
        #expect(match("HELLO*", "hello world", nocase: true))
        #expect(match("h[A-C]llo", "hbllo", nocase: true))
        #expect(!match("HELLO", "hello"))
    }

    @Test func binarySafe() {
        #expect(RedisGlob.matches(pattern: [0, 42], string: [0, 1, 2, 13, 10]))
        #expect(!RedisGlob.matches(pattern: [0, 63], string: [1, 0]))
        #expect(RedisGlob.matches(pattern: [91, 0, 93], string: [0]))
    }

    /// 500 patterns × 64 strings, each answered by redis-server 7.0.15's KEYS
    /// (spec/vectors/broker-glob.txt; regenerate with spec/vectors/broker_glob_vectors.py).
    @Test func agreesWithRedisOnGeneratedVectors() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("spec/vectors/broker-glob.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        func unhex(_ field: Substring) -> [UInt8] {
            guard field != "-" else { return [] }
            var bytes: [UInt8] = []
            var index = field.startIndex
            while index < field.endIndex {
                let next = field.index(index, offsetBy: 2)
                bytes.append(UInt8(field[index..<next], radix: 16) ?? 0)
                index = next
            }
            return bytes
        }
        var strings: [[UInt8]] = []
        var checked = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            if fields.first == "S" {
                strings.append(unhex(fields[1]))
            } else if fields.first == "P", fields.count == 3 {
                let pattern = unhex(fields[1])
                for (index, expected) in fields[2].enumerated() {
                    let got = RedisGlob.matches(pattern: pattern, string: strings[index])
                    #expect(got == (expected == "1"), "pattern \(fields[1]) string \(strings[index])")
                    checked += 1
                }
            }
        }
        #expect(checked == 500 * 64)
    }

    /// Redis's regression tests for abusive patterns: both must answer (no match) quickly.
    @Test func abusivePatternsTerminate() {
        let longA = String(repeating: "a", count: 93)
        #expect(!match(String(repeating: "a*", count: 48) + "b", longA))
        #expect(!match(String(repeating: "*?", count: 50_000), String(repeating: "a", count: 50_000)))
    }
}
