import NymbusCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file-system side of the broker's socket: a private directory, a lock, stale sockets.
///
/// - The directory must be private: created with mode 0700 if missing; an existing one must be
///   owned by this user with no group or other permission bits, otherwise the broker refuses to
///   start (it never loosens or tightens a directory it did not create: chmod-ing a shared
///   directory such as `/tmp` would break other programs).
/// - A lock file `<socket>.lock` (mode 0600, `flock`) marks a running broker, so two brokers
///   starting at the same time cannot both take the path.
/// - A socket file with nothing listening (a crashed broker) is removed; one that accepts a
///   connection belongs to a live program and the broker refuses to start.
/// - After binding, the socket is set to mode 0600.
enum BrokerSocketFile {
    #if os(Linux)
        /// `sun_path` holds 108 bytes including the terminating NUL.
        static let maxPathBytes = 107
    #else
        static let maxPathBytes = 103
    #endif

    /// The directory part of `path` ("." when it has none).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    /// The file name part of `path`.
    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Checks the path length and makes sure the directory exists and is private.
    static func prepareDirectory(for socketPath: String) throws(BrokerError) {
        guard !socketPath.isEmpty, socketPath.utf8.count <= maxPathBytes else {
            throw BrokerError(
                .socketPathTooLong,
                "socket path '\(socketPath)' is \(socketPath.utf8.count) bytes; a Unix socket path must be 1 to \(maxPathBytes) bytes"
            )
        }
        let directory = directory(of: socketPath)
        try makeDirectories(directory)
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw BrokerError(.fileSystem, "cannot inspect directory '\(directory)': \(errorText())")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw BrokerError(.unsafeDirectory, "'\(directory)' is not a directory")
        }
        guard info.st_uid == geteuid() else {
            throw BrokerError(
                .unsafeDirectory,
                "directory '\(directory)' of the broker socket belongs to uid \(info.st_uid), not to this user (uid \(geteuid())); use a directory you own with mode 0700"
            )
        }
        let mode = info.st_mode & 0o777
        if mode & 0o077 != 0, info.st_mode & S_ISVTX != 0 || mode & 0o002 != 0 {
            // A shared directory such as /tmp: it must stay open to everyone, so never advise
            // chmod-ing it; a directory of the socket's own is the fix.
            let suggestion = (directory == "/" ? "" : directory) + "/nymbus/" + fileName(of: socketPath)
            throw BrokerError(
                .unsafeDirectory,
                "'\(directory)' is shared with other users (mode \(octal(info.st_mode & 0o7777))), so a socket directly in it is not private; put the socket in a directory of its own, e.g. --socket \(suggestion) (created with mode 0700)"
            )
        }
        guard mode & 0o077 == 0 else {
            throw BrokerError(
                .unsafeDirectory,
                "directory '\(directory)' of the broker socket has mode \(octal(mode)); it must be private (0700) so no other user can reach the socket: run chmod 700 '\(directory)' or choose another socket path"
            )
        }
    }

    /// `mkdir -p` where every directory created gets mode 0700.
    private static func makeDirectories(_ directory: String) throws(BrokerError) {
        var info = stat()
        if stat(directory, &info) == 0 { return }
        let parent = self.directory(of: directory)
        if parent != directory && parent != "." && parent != "/" { try makeDirectories(parent) }
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw BrokerError(.fileSystem, "cannot create directory '\(directory)': \(errorText())")
        }
        _ = chmod(directory, 0o700)
    }

    /// Takes the broker lock for `socketPath`; returns its file descriptor, held until release.
    static func acquireLock(for socketPath: String) throws(BrokerError) -> Int32 {
        let lockPath = socketPath + ".lock"
        for _ in 0..<5 {
            let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw BrokerError(.fileSystem, "cannot open lock file '\(lockPath)': \(errorText())")
            }
            if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                let failure = errno
                close(descriptor)
                if failure == EWOULDBLOCK {
                    throw BrokerError(
                        .alreadyRunning,
                        "another Nymbus broker is already running on '\(socketPath)' (it holds '\(lockPath)'); stop it first or choose another socket path"
                    )
                }
                throw BrokerError(.fileSystem, "cannot lock '\(lockPath)': \(errorText(failure))")
            }
            // The previous owner may have removed the file between our open and flock: then we
            // locked an orphan inode and must try again with the file now at the path.
            var held = stat()
            var current = stat()
            if fstat(descriptor, &held) == 0, stat(lockPath, &current) == 0,
                held.st_dev == current.st_dev, held.st_ino == current.st_ino
            {
                _ = fchmod(descriptor, 0o600)
                return descriptor
            }
            close(descriptor)
        }
        throw BrokerError(.fileSystem, "cannot take the lock '\(lockPath)': it keeps being replaced")
    }

    /// Whether the lock file at the path is still the file `descriptor` locked.
    static func lockFileIsHeld(_ descriptor: Int32, for socketPath: String) -> Bool {
        var held = stat()
        guard fstat(descriptor, &held) == 0, let current = inode(of: socketPath + ".lock") else { return false }
        return UInt64(held.st_ino) == current
    }

    /// Closes a lock whose file is already gone (the path now has a new lock file).
    static func closeLock(_ descriptor: Int32) { close(descriptor) }

    /// Releases the lock taken by ``acquireLock(for:)`` and removes the lock file.
    static func releaseLock(_ descriptor: Int32, for socketPath: String) {
        unlink(socketPath + ".lock")
        close(descriptor)
    }

    /// Removes a stale socket at `socketPath`; refuses a live one or a non-socket.
    static func clearStaleSocket(_ socketPath: String) throws(BrokerError) {
        var info = stat()
        guard lstat(socketPath, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw BrokerError(
                .notASocket, "'\(socketPath)' exists and is not a socket; remove it or choose another socket path")
        }
        if isListening(socketPath) {
            throw BrokerError(
                .alreadyRunning,
                "another program is already listening on '\(socketPath)'; stop it first or choose another socket path")
        }
        guard unlink(socketPath) == 0 || errno == ENOENT else {
            throw BrokerError(.fileSystem, "cannot remove stale socket '\(socketPath)': \(errorText())")
        }
    }

    /// Whether something accepts connections on the Unix socket at `path`.
    static func isListening(_ path: String) -> Bool {
        #if os(Linux)
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }

    /// Sets the bound socket to mode 0600 and returns its inode, to recognise it at removal.
    static func restrictSocket(_ socketPath: String) throws(BrokerError) -> UInt64 {
        guard chmod(socketPath, 0o600) == 0 else {
            throw BrokerError(.fileSystem, "cannot set mode 0600 on '\(socketPath)': \(errorText())")
        }
        var info = stat()
        guard lstat(socketPath, &info) == 0 else {
            throw BrokerError(.fileSystem, "cannot inspect '\(socketPath)': \(errorText())")
        }
        return UInt64(info.st_ino)
    }

    /// The inode of the file at `path`, or nil if there is none.
    static func inode(of path: String) -> UInt64? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    /// Removes the socket file if it is still the one this broker bound.
    static func removeSocket(_ socketPath: String, inode: UInt64) {
        var info = stat()
        guard lstat(socketPath, &info) == 0, UInt64(info.st_ino) == inode else { return }
        unlink(socketPath)
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}
