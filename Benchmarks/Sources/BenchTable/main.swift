// BenchTable: prints the `@row` lines the benchmarks wrote (read from the files given, or from
// standard input) as one aligned Markdown table. Swift counts characters, not bytes, so µ and ≥
// do not break the alignment.
//
//   BenchTable rows.tsv
#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

var lines: [String] = []
let files = CommandLine.arguments.dropFirst()
if files.isEmpty {
    while let line = readLine() { lines.append(line) }
} else {
    for path in files {
        guard let file = fopen(path, "r") else {
            fputs("BenchTable: cannot read \(path)\n", stderr)
            exit(1)
        }
        var buffer = [CChar](repeating: 0, count: 4096)
        var pending = ""
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            pending += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if pending.hasSuffix("\n") {
                lines.append(String(pending.dropLast()))
                pending = ""
            }
        }
        if !pending.isEmpty { lines.append(pending) }
        fclose(file)
    }
}

let header = ["benchmark", "figure", "baseline (same run)", "ratio", "goal", "met?"]
var rows = [header]
for line in lines where line.hasPrefix("@row\t") {
    var fields = line.split(separator: "\t", omittingEmptySubsequences: false).dropFirst().map(String.init)
    while fields.count < header.count { fields.append("") }
    rows.append(Array(fields.prefix(header.count)))
}
var measured = header.map { _ in 0 }
for row in rows { for (i, f) in row.enumerated() { measured[i] = max(measured[i], f.count) } }
let widths = measured
func render(_ row: [String]) -> String {
    "| " + row.enumerated().map { i, f in f + String(repeating: " ", count: widths[i] - f.count) }.joined(separator: " | ") + " |"
}
print(render(rows[0]))
print("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|")
for row in rows.dropFirst() { print(render(row)) }
let goals = rows.dropFirst().filter { $0[5] == "yes" || $0[5] == "NO" }
print("")
print("\(rows.count - 1) rows; goals met: \(goals.filter { $0[5] == "yes" }.count) of \(goals.count)")
