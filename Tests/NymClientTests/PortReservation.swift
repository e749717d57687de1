#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback port that nothing listens on, held so that nothing else takes it while a test's
/// client dials it. Closing a port after binding it (to learn a free number) leaves it open to
/// any socket of the parallel tests until the test's server binds it again; once a run failed
/// with "Address already in use". Held bound but not listening, the port refuses connections
/// like a free one, and a server that sets SO_REUSEADDR (as `TestNymServer` does) can still bind
/// and listen on it: Linux allows that while no socket on the port is listening.
final class PortReservation: Sendable {
    /// The port number.
    let port: Int
    private let descriptor: Int32

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init() throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var one: Int32 = 1
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0
                    && bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else {
            let failure = errno
            close(fd)
            throw Failure(description: "could not reserve a loopback port: errno \(failure)")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Lets the port go (after the server took it, or at the end of the test).
    func release() {
        close(descriptor)
    }
}
