import NIOCore
import NIOPosix

/// Describes a socket error without the socket address: Nymbus keeps IP addresses, the
/// nym-client's loopback one included, out of every error message and log line.
enum ErrorText {
    static func withoutAddress(_ error: any Error) -> String {
        if let connection = error as? NIOConnectionError {
            let causes = connection.connectionErrors.map { String(describing: $0.error) }
            return causes.isEmpty ? "no address to connect to" : causes.joined(separator: "; ")
        }
        return String(describing: error)
    }
}
