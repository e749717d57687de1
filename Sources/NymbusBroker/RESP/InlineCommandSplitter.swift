/// Splits an inline command line (`PING "hello world"\r\n` typed into telnet) into arguments.
///
/// A port of Redis's `sdssplitargs`: arguments are separated by blanks; `"double quotes"` take
/// the escapes `\n \r \t \b \a \\ \"` and `\xHH`; `'single quotes'` take only `\'`; a closing quote
/// must be followed by a blank or the end of the line; a NUL byte ends the line, as it does for
/// the C string Redis splits.
enum InlineCommandSplitter {
    /// The arguments of `line` (without its line ending), or nil if its quotes are unbalanced.
    static func split(_ line: [UInt8]) -> [[UInt8]]? {
        var arguments: [[UInt8]] = []
        var position = 0
        // Byte at `index`, or 0 past the end: the NUL terminator the C code relies on.
        func at(_ index: Int) -> UInt8 { index >= 0 && index < line.count ? line[index] : 0 }

        while true {
            while at(position) != 0 && isSpace(at(position)) { position += 1 }
            if at(position) == 0 { return arguments }

            var current: [UInt8] = []
            var inDoubleQuotes = false
            var inSingleQuotes = false
            var done = false
            while !done {
                let byte = at(position)
                if inDoubleQuotes {
                    if byte == UInt8(ascii: "\\") && at(position + 1) == UInt8(ascii: "x"),
                        let high = hexValue(at(position + 2)), let low = hexValue(at(position + 3))
                    {
                        current.append(high &* 16 &+ low)
                        position += 3
                    } else if byte == UInt8(ascii: "\\") && at(position + 1) != 0 {
                        position += 1
                        switch at(position) {
                        case UInt8(ascii: "n"): current.append(10)
                        case UInt8(ascii: "r"): current.append(13)
                        case UInt8(ascii: "t"): current.append(9)
                        case UInt8(ascii: "b"): current.append(8)
                        case UInt8(ascii: "a"): current.append(7)
                        default: current.append(at(position))
                        }
                    } else if byte == UInt8(ascii: "\"") {
                        if at(position + 1) != 0 && !isSpace(at(position + 1)) { return nil }
                        done = true
                    } else if byte == 0 {
                        return nil
                    } else {
                        current.append(byte)
                    }
                } else if inSingleQuotes {
                    if byte == UInt8(ascii: "\\") && at(position + 1) == UInt8(ascii: "'") {
                        position += 1
                        current.append(UInt8(ascii: "'"))
                    } else if byte == UInt8(ascii: "'") {
                        if at(position + 1) != 0 && !isSpace(at(position + 1)) { return nil }
                        done = true
                    } else if byte == 0 {
                        return nil
                    } else {
                        current.append(byte)
                    }
                } else {
                    switch byte {
                    case UInt8(ascii: " "), 10, 13, 9, 0: done = true
                    case UInt8(ascii: "\""): inDoubleQuotes = true
                    case UInt8(ascii: "'"): inSingleQuotes = true
                    default: current.append(byte)
                    }
                }
                if at(position) != 0 { position += 1 }
            }
            arguments.append(current)
        }
    }

    /// C `isspace` in the C locale: space, \t, \n, \v, \f, \r.
    private static func isSpace(_ byte: UInt8) -> Bool { byte == 32 || (byte >= 9 && byte <= 13) }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
