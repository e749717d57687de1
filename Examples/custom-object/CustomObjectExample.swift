import Foundation

/// `swift run custom-object-example --socket S publish|subscribe`: see `ExampleOptions.usage`.
@main
struct CustomObjectExample {
    static func main() async {
        let output = SensorExample.Output(
            line: { text in
                print(text)
                fflush(nil)  // line by line even when stdout is a pipe
            },
            error: { text in FileHandle.standardError.write(Data((text + "\n").utf8)) })
        exit(await SensorExample.run(arguments: Array(CommandLine.arguments.dropFirst()), output: output))
    }
}
