/// Redis's glob-style pattern matching, binary safe: the rules `PSUBSCRIBE`, `PUBSUB CHANNELS`
/// and `KEYS` use.
///
/// A faithful port of `stringmatchlen` from Redis 7.0 (`util.c`), including its two guards
/// against abusive patterns: a nesting limit of 1,000 `*` recursions and the early exit once a
/// `*` has failed against every suffix. The syntax:
///
/// - `*` any run of bytes (also none), `?` exactly one byte;
/// - `[abc]` one of the bytes, `[^abc]` none of them, `[a-z]` a range (ends may be reversed),
///   `\x` inside brackets the byte `x`; an unclosed `[` runs to the end of the pattern;
/// - `\x` outside brackets the byte `x` (a trailing `\` matches itself);
/// - every other byte matches itself.
///
/// The topic layer can use the same function to decide which known topic names a local pattern
/// subscription covers.
public enum RedisGlob {
    /// Whether `string` matches `pattern`; `caseInsensitive` folds ASCII letters, as Redis's
    /// `nocase` flag does.
    public static func matches(pattern: [UInt8], string: [UInt8], caseInsensitive: Bool = false) -> Bool {
        var matcher = Matcher(pattern: pattern, string: string, noCase: caseInsensitive)
        return matcher.match(pattern: 0, string: 0, nesting: 0)
    }

    private struct Matcher {
        let pattern: [UInt8]
        let string: [UInt8]
        let noCase: Bool
        /// Set once a `*` failed at every position; then no longer match of an earlier `*` can help.
        var skipLongerMatches = false

        init(pattern: [UInt8], string: [UInt8], noCase: Bool) {
            self.pattern = pattern
            self.string = string
            self.noCase = noCase
        }

        // Past the end reads as 0, the NUL terminator the C code relies on. Every recursive call
        // works on a suffix of both inputs, so "the end" is always the real end.
        private func p(_ index: Int) -> UInt8 { index < pattern.count ? pattern[index] : 0 }
        private func s(_ index: Int) -> UInt8 { index < string.count ? string[index] : 0 }

        private func fold(_ byte: UInt8) -> UInt8 {
            noCase && byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
        }

        mutating func match(pattern startPattern: Int, string startString: Int, nesting: Int) -> Bool {
            if nesting > 1000 { return false }
            var pi = startPattern
            var si = startString
            var patternLength = pattern.count - pi
            var stringLength = string.count - si

            while patternLength > 0 && stringLength > 0 {
                switch p(pi) {
                case UInt8(ascii: "*"):
                    while patternLength > 0 && p(pi + 1) == UInt8(ascii: "*") {
                        pi += 1
                        patternLength -= 1
                    }
                    if patternLength == 1 { return true }
                    while stringLength > 0 {
                        if match(pattern: pi + 1, string: si, nesting: nesting + 1) { return true }
                        if skipLongerMatches { return false }
                        si += 1
                        stringLength -= 1
                    }
                    skipLongerMatches = true
                    return false
                case UInt8(ascii: "?"):
                    si += 1
                    stringLength -= 1
                case UInt8(ascii: "["):
                    pi += 1
                    patternLength -= 1
                    let negate = p(pi) == UInt8(ascii: "^")
                    if negate {
                        pi += 1
                        patternLength -= 1
                    }
                    var matched = false
                    while true {
                        if p(pi) == UInt8(ascii: "\\") && patternLength >= 2 {
                            pi += 1
                            patternLength -= 1
                            if p(pi) == s(si) { matched = true }
                        } else if p(pi) == UInt8(ascii: "]") {
                            break
                        } else if patternLength == 0 {
                            pi -= 1
                            patternLength += 1
                            break
                        } else if patternLength >= 3 && p(pi + 1) == UInt8(ascii: "-") {
                            var low = p(pi)
                            var high = p(pi + 2)
                            var byte = s(si)
                            if low > high { swap(&low, &high) }
                            if noCase {
                                low = fold(low)
                                high = fold(high)
                                byte = fold(byte)
                            }
                            pi += 2
                            patternLength -= 2
                            if byte >= low && byte <= high { matched = true }
                        } else if fold(p(pi)) == fold(s(si)) {
                            matched = true
                        }
                        pi += 1
                        patternLength -= 1
                    }
                    if negate { matched.toggle() }
                    if !matched { return false }
                    si += 1
                    stringLength -= 1
                default:
                    if p(pi) == UInt8(ascii: "\\") && patternLength >= 2 {
                        pi += 1
                        patternLength -= 1
                    }
                    if fold(p(pi)) != fold(s(si)) { return false }
                    si += 1
                    stringLength -= 1
                }
                pi += 1
                patternLength -= 1
                if stringLength == 0 {
                    while p(pi) == UInt8(ascii: "*") && pi < pattern.count {
                        pi += 1
                        patternLength -= 1
                    }
                    break
                }
            }
            return patternLength == 0 && stringLength == 0
        }
    }
}
