import FoundationEssentials
public import NymbusCrypto

/// Bootstrap addresses from text: one Nym address per line; blank lines and `#` comments are
/// ignored. A bad line is an error naming the line, never silently skipped (a typo in a seed
/// list should not leave a node alone on the network).
public enum BootstrapList {
    /// Parses the text of a bootstrap file.
    public static func parse(_ text: String, source: String = "bootstrap list") throws(NodeError) -> [Recipient] {
        var out: [Recipient] = []
        var seen: Set<Recipient> = []
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = trim(line)
            guard !trimmed.isEmpty else { continue }
            let address: Recipient
            do { address = try Recipient(string: trimmed) } catch {
                throw NodeError(.invalidObject, "\(source) line \(index + 1) is not a Nym address: \(error.reason)")
            }
            if seen.insert(address).inserted { out.append(address) }
        }
        return out
    }

    /// Reads and parses a bootstrap file.
    public static func load(path: String) throws(NodeError) -> [Recipient] {
        let data: Data
        do { data = try Data(contentsOf: URL(filePath: path)) } catch {
            throw NodeError(.persistence, "cannot read bootstrap file \(path): \(error)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw NodeError(.invalidObject, "bootstrap file \(path) is not UTF-8 text")
        }
        return try parse(text, source: path)
    }
}

/// Durations as people write them on a command line: `90`, `90s`, `500ms`, `2m`, `1h`.
public enum DurationText {
    /// Parses a duration; a bare number is seconds. Nil for anything else or a negative value.
    public static func parse(_ text: String) -> Duration? {
        let t = trim(Substring(text)).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(t)
        var scale = 1.0
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            number = t.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
    }
}

/// `text` without leading and trailing spaces, tabs and carriage returns.
func trim(_ text: Substring) -> String {
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
    guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else {
        return ""
    }
    return String(text[first...last])
}
