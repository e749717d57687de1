/// Counts replies and pulls pub/sub payloads out of a RESP byte stream, incrementally.
///
/// Deliberately minimal (arrays of bulk strings, simple strings, integers, errors): just what
/// PUBLISH replies and `message` pushes look like, so that the client costs little.
struct RESPScanner {
    private var pending: [UInt8] = []

    enum Item { case integer(Int), simple, error(String), array([[UInt8]]) }

    mutating func feed(_ bytes: ArraySlice<UInt8>, _ onItem: (Item) -> Void) {
        pending.append(contentsOf: bytes)
        var index = 0
        while let (item, next) = parse(at: index) {
            onItem(item)
            index = next
        }
        if index > 0 { pending.removeFirst(index) }
    }

    private func line(at index: Int) -> (String, Int)? {
        var i = index
        while i + 1 < pending.count {
            if pending[i] == 13 && pending[i + 1] == 10 {
                return (String(decoding: pending[index..<i], as: UTF8.self), i + 2)
            }
            i += 1
        }
        return nil
    }

    private func parse(at index: Int) -> (Item, Int)? {
        guard index < pending.count, let (header, next) = line(at: index + 1) else { return nil }
        switch pending[index] {
        case UInt8(ascii: ":"): return (.integer(Int(header) ?? 0), next)
        case UInt8(ascii: "+"): return (.simple, next)
        case UInt8(ascii: "-"): return (.error(header), next)
        case UInt8(ascii: "*"), UInt8(ascii: ">"):
            var parts: [[UInt8]] = []
            var cursor = next
            for _ in 0..<(Int(header) ?? 0) {
                guard cursor < pending.count, let (lengthLine, dataStart) = line(at: cursor + 1) else { return nil }
                if pending[cursor] == UInt8(ascii: ":") {
                    parts.append(Array(lengthLine.utf8))
                    cursor = dataStart
                    continue
                }
                let length = Int(lengthLine) ?? 0
                guard dataStart + length + 2 <= pending.count else { return nil }
                parts.append(Array(pending[dataStart..<dataStart + length]))
                cursor = dataStart + length + 2
            }
            return (.array(parts), cursor)
        default:
            return (.error("unexpected byte \(pending[index])"), pending.count)
        }
    }
}

/// `*N $len arg ...` for one command.
func respCommand(_ arguments: [[UInt8]]) -> [UInt8] {
    var out = Array("*\(arguments.count)\r\n".utf8)
    for a in arguments {
        out += Array("$\(a.count)\r\n".utf8)
        out += a
        out += [13, 10]
    }
    return out
}
