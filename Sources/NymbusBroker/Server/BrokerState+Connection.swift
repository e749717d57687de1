/// PING, RESET, HELLO, CLIENT and SELECT: the connection commands clients send on connect.
extension BrokerState {
    /// The Redis API level the broker emulates, reported by HELLO and INFO (`redis_version`).
    static let redisCompatibilityVersion = "7.0.0"
    /// The broker's own version, reported by INFO (`nymbus_version`).
    static let nymbusVersion = NymbusVersion.current

    func ping(_ arguments: [[UInt8]], _ client: BrokerClient) {
        guard arguments.count <= 2 else {
            client.reply(.err("wrong number of arguments for 'ping' command"))
            return
        }
        if client.protocolVersion == .resp2 && client.isSubscribed {
            client.reply(.array([.bulk("pong"), .bulkString(arguments.count == 2 ? arguments[1] : [])]))
        } else if arguments.count == 2 {
            client.reply(.bulkString(arguments[1]))
        } else {
            client.reply(.simpleString("PONG"))
        }
    }

    /// RESET: leave subscribed mode silently, drop a transaction, forget the name, back to
    /// RESP2, as Redis does.
    func reset(_ client: BrokerClient) {
        removeAllSubscriptions(of: client)
        client.transaction = nil
        client.transactionFailed = false
        client.name = nil
        client.protocolVersion = .resp2
        client.reply(.simpleString("RESET"))
    }

    /// `HELLO [protover [AUTH username password] [SETNAME clientname]]`.
    ///
    /// AUTH is accepted and ignored: the socket's file permissions are the access control.
    func hello(_ arguments: [[UInt8]], _ client: BrokerClient) {
        var version = client.protocolVersion
        if arguments.count >= 2 {
            guard let requested = Self.integer(arguments[1]) else {
                client.reply(.err("Protocol version is not an integer or out of range"))
                return
            }
            guard let supported = RESPProtocolVersion(rawValue: Int(clamping: requested)) else {
                client.reply(.error("NOPROTO unsupported protocol version"))
                return
            }
            version = supported
        }
        var newName: [UInt8]?
        var index = 2
        while index < arguments.count {
            let remaining = arguments.count - 1 - index
            let option = Self.lowercased(arguments[index])
            if option == "auth" && remaining >= 2 {
                index += 3
            } else if option == "setname" && remaining >= 1 {
                guard Self.isValidClientName(arguments[index + 1]) else {
                    client.reply(.err(Self.invalidClientNameMessage))
                    return
                }
                newName = arguments[index + 1]
                index += 2
            } else {
                client.reply(
                    .err("Syntax error in HELLO option '\(String(decoding: arguments[index], as: UTF8.self))'"))
                return
            }
        }
        if let newName { client.name = newName.isEmpty ? nil : newName }
        client.protocolVersion = version
        client.reply(
            .map([
                "server": .bulk("nymbus"),
                "version": .bulk(Self.redisCompatibilityVersion),
                "proto": .integer(Int64(version.rawValue)),
                "id": .integer(client.id),
                "mode": .bulk("standalone"),
                "role": .bulk("master"),
                "modules": .array([]),
            ]))
    }

    /// AUTH: there are no passwords (the socket's permissions are the access control), so the
    /// replies are Redis's for a server whose default user has none.
    func auth(_ arguments: [[UInt8]], _ client: BrokerClient) {
        switch arguments.count {
        case 2:
            client.reply(
                .err(
                    "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
                ))
        case 3 where arguments[1] == Array("default".utf8):
            client.reply(.simpleString("OK"))
        case 3:
            client.reply(.error("WRONGPASS invalid username-password pair or user is disabled."))
        default:
            client.reply(.err("syntax error"))
        }
    }

    static let invalidClientNameMessage = "Client names cannot contain spaces, newlines or special characters."

    /// Redis's rule: every byte printable ASCII other than space (`!` through `~`).
    static func isValidClientName(_ name: [UInt8]) -> Bool {
        name.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    func clientCommand(_ arguments: [[UInt8]], _ client: BrokerClient) {
        guard let sub = subcommand(arguments, client, container: "client") else { return }
        switch sub {
        case "id":
            client.reply(.integer(client.id))
        case "getname":
            client.reply(client.name.map { .bulkString($0) } ?? .null)
        case "setname":
            guard Self.isValidClientName(arguments[2]) else {
                client.reply(.err(Self.invalidClientNameMessage))
                return
            }
            client.name = arguments[2].isEmpty ? nil : arguments[2]
            client.reply(.simpleString("OK"))
        case "setinfo":
            let attribute = Self.lowercased(arguments[2])
            guard Self.isValidClientName(arguments[3]) || arguments[3].isEmpty else {
                client.reply(.err("\(attribute) cannot contain spaces, newlines or special characters."))
                return
            }
            switch attribute {
            case "lib-name": client.libraryName = arguments[3]
            case "lib-ver": client.libraryVersion = arguments[3]
            default:
                client.reply(.err("Unrecognized option '\(String(decoding: arguments[2], as: UTF8.self))'"))
                return
            }
            client.reply(.simpleString("OK"))
        case "reply":
            // Redis sends nothing for OFF and SKIP (not even +OK), and +OK for ON.
            switch Self.lowercased(arguments[2]) {
            case "on":
                client.repliesOff = false
                client.skippingCommand = false
                client.reply(.simpleString("OK"))
            case "off":
                client.repliesOff = true
            case "skip":
                if !client.repliesOff { client.skipNextCommand = true }
                client.skippingCommand = true
            default:
                client.reply(.err("syntax error"))
            }
        case "info":
            client.reply(.bulk(clientLine(client)))
        case "list":
            client.reply(.bulk(clients.values.sorted { $0.id < $1.id }.map(clientLine).joined()))
        default:
            client.reply(.array(Self.clientHelp.map { .simpleString($0) }))
        }
    }

    /// One `CLIENT LIST` line (a subset of Redis's fields; no addresses: the socket is local).
    private func clientLine(_ client: BrokerClient) -> String {
        func text(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        let age = (ContinuousClock.now - client.connectedAt).components.seconds
        let flags = client.isSubscribed ? "P" : "N"
        return "id=\(client.id) addr=unix:0 name=\(text(client.name)) age=\(age) db=0 "
            + "sub=\(client.channels.count) psub=\(client.patterns.count) flags=\(flags) "
            + "resp=\(client.protocolVersion.rawValue) lib-name=\(text(client.libraryName)) "
            + "lib-ver=\(text(client.libraryVersion))\n"
    }

    static let clientHelp = [
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "LIST",
        "    Return information about client connections.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETINFO <LIB-NAME|LIB-VER> <value>",
        "    Set client library name or version.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "HELP",
        "    Prints this help.",
    ]

    /// SELECT: the broker has one database, 0.
    func select(_ arguments: [[UInt8]], _ client: BrokerClient) {
        guard let index = Self.integer(arguments[1]), index >= Int64(Int32.min), index <= Int64(Int32.max) else {
            client.reply(.err("value is not an integer or out of range"))
            return
        }
        client.reply(index == 0 ? .simpleString("OK") : .err("DB index is out of range"))
    }
}
