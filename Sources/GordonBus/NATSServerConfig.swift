public import GordonDomain
public import GordonKernel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The whole `nats-server.conf` of a Gordon deployment.
///
/// Rendered rather than kept by hand so that the permissions the server enforces are
/// exactly `NATSPermissions`, which the permission tests check against a real server.
/// Passwords never live in the repository: the caller passes them in at deploy time, from
/// the services' keyfiles.
public struct NATSServerConfig: Sendable {
    public var host: String
    public var port: Int
    public var serverName: String
    /// JetStream's `store_dir` (nats-server keeps its data in a `jetstream` directory
    /// inside it).
    public var storeDirectory: String
    /// Bytes; the limits make a full disk a JetStream error instead of a crashed server.
    public var maxMemoryStore: Int
    public var maxFileStore: Int
    public var users: [NATSUser]

    /// Gordon's events are small envelopes; stating the limit keeps a server default
    /// change from silently changing what a publisher may send.
    public static let maxPayload = 1_048_576
    /// Short enough to type, long enough not to be guessed online against the server.
    public static let minimumPasswordLength = 16

    public init(host: String, port: Int, serverName: String, storeDirectory: String,
                maxMemoryStore: Int, maxFileStore: Int, users: [NATSUser]) {
        self.host = host
        self.port = port
        self.serverName = serverName
        self.storeDirectory = storeDirectory
        self.maxMemoryStore = maxMemoryStore
        self.maxFileStore = maxFileStore
        self.users = users
    }

    /// The configuration text, with `passwords[user.name]` for each user.
    ///
    /// The result is a `Secret` because it holds every password. Users come out sorted by
    /// name and nothing else varies, so the same inputs always give the same bytes and a
    /// re-render can be diffed against the deployed file. Errors (`busConfigInvalid`) name
    /// the user or value at fault, never a password.
    public func render(passwords: [String: Secret]) throws(GordonError) -> Secret {
        guard (1...65_535).contains(port) else {
            throw GordonError(.busConfigInvalid, "NATS port must be 1...65535", context: ["port": "\(port)"])
        }
        guard maxMemoryStore > 0, maxFileStore > 0 else {
            throw GordonError(.busConfigInvalid, "JetStream store limits must be positive",
                              context: ["max_memory_store": "\(maxMemoryStore)", "max_file_store": "\(maxFileStore)"])
        }
        guard !serverName.contains(where: \.isWhitespace) else {
            // nats-server refuses to start with such a name; say so before deploying.
            throw GordonError(.busConfigInvalid, "NATS server_name cannot contain whitespace", context: ["server_name": serverName])
        }
        let sortedUsers = users.sorted { $0.name < $1.name }
        for (previous, next) in zip(sortedUsers, sortedUsers.dropFirst()) where previous.name == next.name {
            throw GordonError(.busConfigInvalid, "NATS user \(next.name) appears twice", context: ["user": next.name])
        }

        let listen = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var lines = [
            "# Rendered by GordonBus.NATSServerConfig from NATSPermissions: re-render, do not edit.",
            "listen: \(try NATSServerConfig.quoted(listen, what: "listen address"))",
            "server_name: \(try NATSServerConfig.quoted(serverName, what: "server_name"))",
            "max_payload: \(NATSServerConfig.maxPayload)",
            "jetstream {",
            "  store_dir: \(try NATSServerConfig.quoted(storeDirectory, what: "store_dir"))",
            "  max_memory_store: \(maxMemoryStore)",
            "  max_file_store: \(maxFileStore)",
            "}",
            "authorization {",
            "  users: [",
        ]
        var blocks: [[String]] = []
        for user in sortedUsers {
            blocks.append(try NATSServerConfig.userBlock(user, password: passwords[user.name]))
        }
        for (index, block) in blocks.enumerated() {
            lines += block
            if index < blocks.count - 1 { lines[lines.count - 1] += "," }
        }
        lines += ["  ]", "}"]
        return Secret(lines.joined(separator: "\n") + "\n")
    }

    /// `render(passwords:)` with each user's `nats_password` read from
    /// `<keysDirectory>/<user>.key`, the keyfile that user's service reads, so the server
    /// and the service cannot be given different passwords.
    public func render(keysDirectory: String) throws(GordonError) -> Secret {
        try render(passwords: try NATSServerConfig.passwords(for: users, keysDirectory: keysDirectory))
    }

    /// Each user's `nats_password` from `<keysDirectory>/<user>.key`. Keyfile errors (missing,
    /// readable by others, no entry) are passed on as they are: they name the file.
    public static func passwords(for users: [NATSUser], keysDirectory: String) throws(GordonError) -> [String: Secret] {
        var directory = keysDirectory
        while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
        var passwords: [String: Secret] = [:]
        for user in users {
            try validateUserName(user.name)
            let keyfile = try Keyfile.load(path: "\(directory)/\(user.name).key")
            passwords[user.name] = try keyfile.secret(Keyfile.natsPassword)
        }
        return passwords
    }

    /// The bots of a device: one `gordon-bot-<bot>.key` in the keys directory per bot added
    /// (gordon-add-bot makes it), so the configuration rendered at each start and reload has
    /// exactly their users. A bot whose keyfile cannot be used (readable by others, no
    /// nats_password…) is left out and reported, never the whole server: the other services
    /// and bots keep their bus, and that bot stays down, its own keyfile error in its log.
    public static func bots(inKeysDirectory keysDirectory: String) throws(GordonError)
        -> (bots: [BotId], skipped: [(bot: BotId, error: GordonError)]) {
        guard let stream = opendir(keysDirectory) else {
            throw GordonError(.keyfileMissing, "cannot list the keys directory", context: ["path": keysDirectory])
        }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            names.append(name)
        }
        closedir(stream)
        var bots: [BotId] = []
        var skipped: [(bot: BotId, error: GordonError)] = []
        for bot in botIds(inKeyfileNames: names) {
            do {
                _ = try Keyfile.load(path: "\(keysDirectory)/\(NATSPermissions.userName(for: bot)).key").secret(Keyfile.natsPassword)
                bots.append(bot)
            } catch {
                skipped.append((bot, error))
            }
        }
        return (bots, skipped)
    }

    /// The bot ids named by `gordon-bot-<bot>.key` files among `names`, sorted; other names
    /// (the services' keyfiles, gordon-bot.key, editor leftovers) are not bots.
    public static func botIds(inKeyfileNames names: [String]) -> [BotId] {
        let prefix = "\(ServiceIdentity.bot.natsUser)-"
        return names.compactMap { name -> BotId? in
            guard name.hasPrefix(prefix), name.hasSuffix(".key") else { return nil }
            return try? BotId(name.dropFirst(prefix.count).dropLast(4))
        }.sorted()
    }

    // MARK: Validation

    private static func userBlock(_ user: NATSUser, password: Secret?) throws(GordonError) -> [String] {
        try validateUserName(user.name)
        guard let password else {
            throw GordonError(.busConfigInvalid, "no NATS password given for user \(user.name)", context: ["user": user.name])
        }
        try validatePassword(password, user: user.name)
        for consumer in user.consumers {
            try validateConsumer(consumer, user: user.name)
        }
        // Every list is non-empty by construction (NATSUser adds the inbox and the
        // JetStream info subjects), which matters: nats-server reads an empty allow list
        // as no restriction at all.
        var block = [
            "    {",
            "      user: \(try quoted(user.name, what: "user name"))",
            "      password: \(password.withPlainText { "\"\($0)\"" })",
            "      permissions: {",
            "        publish: {",
            "          allow: [",
        ]
        block += try subjectList(user.publishAllow, user: user.name)
        block += ["          ]", "        }", "        subscribe: {", "          allow: ["]
        block += try subjectList(user.subscribeAllow, user: user.name)
        block += ["          ]", "        }", "      }", "    }"]
        return block
    }

    private static func subjectList(_ subjects: [String], user: String) throws(GordonError) -> [String] {
        var lines: [String] = []
        for (index, subject) in subjects.enumerated() {
            try validateSubject(subject, user: user)
            lines.append("            \"\(subject)\"" + (index < subjects.count - 1 ? "," : ""))
        }
        return lines
    }

    /// Only `[A-Za-z0-9_-]`, so a password can never end the quoted string it sits in or
    /// need escaping there; 16 characters from 64 are 96 bits.
    static func validatePassword(_ password: Secret, user: String) throws(GordonError) {
        let problem: String? = password.withPlainText { text in
            if text.utf8.count < minimumPasswordLength { return "is shorter than \(minimumPasswordLength) characters" }
            if !text.utf8.allSatisfy(isNameByte) { return "has characters other than A-Z a-z 0-9 _ -" }
            return nil
        }
        if let problem {
            throw GordonError(.busConfigInvalid, "NATS password of user \(user) \(problem)", context: ["user": user])
        }
    }

    /// User names become inbox prefixes and durable-name prefixes, so they stay within one
    /// NATS subject token.
    private static func validateUserName(_ name: String) throws(GordonError) {
        guard !name.isEmpty, name.utf8.allSatisfy(isNameByte) else {
            throw GordonError(.busConfigInvalid, "NATS user name must be A-Z a-z 0-9 _ -", context: ["user": String(name.prefix(80))])
        }
    }

    /// A durable name with a `.` would shift the tokens of its create subject, and the
    /// permission would then grant some other consumer or filter.
    private static func validateConsumer(_ consumer: NATSConsumerGrant, user: String) throws(GordonError) {
        guard !consumer.durableName.isEmpty, consumer.durableName.utf8.allSatisfy(isNameByte) else {
            throw GordonError(.busConfigInvalid, "JetStream durable name must be A-Z a-z 0-9 _ -",
                              context: ["user": user, "durable": String(consumer.durableName.prefix(80))])
        }
        try validateSubject(consumer.filterSubject, user: user)
    }

    /// Printable ASCII without quotes or backslashes, non-empty tokens, wildcards as whole
    /// tokens and `>` only last: anything else would be a permission that matches nothing
    /// or a broken config line.
    private static func validateSubject(_ subject: String, user: String) throws(GordonError) {
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        let valid = tokens.enumerated().allSatisfy { index, token in
            guard !token.isEmpty else { return false }
            if token == ">" { return index == tokens.count - 1 }
            if token == "*" { return true }
            return token.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\")
                && $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: ">") }
        }
        guard valid else {
            throw GordonError(.busConfigInvalid, "invalid NATS subject in the permissions of user \(user)",
                              context: ["user": user, "subject": String(subject.prefix(160))])
        }
    }

    /// Refuses instead of escaping: a quote, backslash or control character in a host, a
    /// name or a path is a mistake, and refusing keeps every string in the file literal.
    private static func quoted(_ value: String, what: String) throws(GordonError) -> String {
        guard !value.isEmpty, !value.unicodeScalars.contains(where: { $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F }) else {
            throw GordonError(.busConfigInvalid, "NATS \(what) is empty or contains a quote, backslash or control character",
                              context: [what: String(value.prefix(160))])
        }
        return "\"\(value)\""
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
