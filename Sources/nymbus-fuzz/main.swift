// nymbus-fuzz TARGET [libFuzzer options or corpus dirs]
//
// Built normally, it replays the given files (or every file in given directories) through the
// target: the committed corpus then doubles as a regression suite. Built with
// `-sanitize=fuzzer -DFUZZING` (see `make fuzz`), it runs libFuzzer on the target.
import Foundation

let arguments = CommandLine.arguments

// `nymbus-fuzz seeds DIR`: writes DIR/<target>/seed-N for every target from the real encoders.
if arguments.count == 3, arguments[1] == "seeds" {
    for target in FuzzTarget.allCases {
        let directory = "\(arguments[2])/\(target.rawValue)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (i, seed) in target.seeds.enumerated() {
            _ = FileManager.default.createFile(atPath: "\(directory)/seed-\(i)", contents: Data(seed))
        }
    }
    exit(0)
}

guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
    FileHandle.standardError.write(Data("usage: nymbus-fuzz \(names) [corpus dirs, files or libFuzzer flags]\n".utf8))
    exit(2)
}

#if FUZZING
import CLibFuzzer

nonisolated(unsafe) var selectedTarget = target

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

// libFuzzer sees argv without our target name.
var fuzzArguments = [arguments[0]] + arguments.dropFirst(2)
var cArguments: [UnsafeMutablePointer<CChar>?] = fuzzArguments.map { strdup($0) } + [nil]
var argc = CInt(fuzzArguments.count)
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = cArguments.withUnsafeMutableBufferPointer { $0.baseAddress }
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzerTestOneInput))
#else
var replayed = 0
for path in arguments.dropFirst(2) where !path.hasPrefix("-") {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
    let files = isDirectory.boolValue
        ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" }
        : [path]
    for file in files {
        guard let data = FileManager.default.contents(atPath: file) else { continue }
        target.run(Array(data))
        replayed += 1
    }
}
print("nymbus-fuzz \(target.rawValue): replayed \(replayed) inputs without a failure")
#endif
