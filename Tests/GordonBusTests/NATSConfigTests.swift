import Foundation
import GordonBus
import GordonDomain
import GordonKernel
import Testing

/// 24 random characters of `[A-Za-z0-9]`, fresh per call: test passwords are never fixed.
func randomPassword() -> Secret {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    return Secret(String((0..<24).map { _ in alphabet.randomElement()! }))
}

func testUsers() throws -> [NATSUser] {
    NATSPermissions.users(bots: [try BotId("b1"), try BotId("b2")])
}

func testConfig(port: Int = 4222, storeDirectory: String = "/var/lib/gordon/nats", users: [NATSUser]) -> NATSServerConfig {
    NATSServerConfig(host: "127.0.0.1", port: port, serverName: "gordon-test", storeDirectory: storeDirectory,
                     maxMemoryStore: 64 * 1_048_576, maxFileStore: 1_073_741_824, users: users)
}

@Suite("NATSPermissions: the users and what they are given")
struct NATSPermissionsTests {
    @Test("one user per service plus one per bot, sorted, duplicates ignored")
    func users() throws {
        let users = NATSPermissions.users(bots: [try BotId("b2"), try BotId("b1"), try BotId("b2")])
        #expect(users.map(\.name) == [
            "gordon-bot-b1", "gordon-bot-b2", "gordon-data", "gordon-executor", "gordon-manager", "gordon-migrate", "gordon-risk",
        ])
    }

    @Test("every allow list is non-empty, because nats-server reads an empty one as allow-all")
    func nonEmptyLists() throws {
        for user in try testUsers() {
            #expect(!user.publishAllow.isEmpty, "\(user)")
            #expect(!user.subscribeAllow.isEmpty, "\(user)")
            #expect(Set(user.publishAllow).count == user.publishAllow.count, "\(user) publish list has duplicates")
            #expect(Set(user.subscribeAllow).count == user.subscribeAllow.count, "\(user) subscribe list has duplicates")
        }
    }

    @Test("a bot's lists, in full")
    func botLists() throws {
        let bot = NATSPermissions.bot(try BotId("b1"))
        #expect(bot.name == "gordon-bot-b1")
        #expect(bot.inboxPrefix == "_INBOX_gordon-bot-b1")
        var publish = ["gordon.intent.b1", "gordon.bot.lifecycle.b1", "$JS.API.INFO", "$JS.API.STREAM.INFO.GORDON"]
        for (suffix, filter) in [("klines", "gordon.market.kline.>"), ("metrics", "gordon.market.metric.>"), ("risk", "gordon.risk.command.>"),
                                 ("orders", "gordon.exec.order.b1"), ("fills", "gordon.exec.fill.b1")] {
            let durable = "gordon-bot-b1-\(suffix)"
            publish += ["$JS.API.CONSUMER.CREATE.GORDON.\(durable).\(filter)", "$JS.API.CONSUMER.INFO.GORDON.\(durable)",
                        "$JS.API.CONSUMER.MSG.NEXT.GORDON.\(durable)", "$JS.ACK.GORDON.\(durable).>"]
        }
        #expect(bot.publishAllow == publish)
        #expect(bot.subscribeAllow == [
            "_INBOX_gordon-bot-b1.>", "gordon.market.kline.>", "gordon.market.metric.>", "gordon.risk.command.>",
            "gordon.exec.order.b1", "gordon.exec.fill.b1",
        ])
    }

    @Test("nobody but the data service, risk, the executor and a bot publishes on gordon.>; nobody can delete the stream")
    func eventPublishers() throws {
        var eventPublishes: [String: [String]] = [:]
        for user in try testUsers() {
            eventPublishes[user.name] = user.publishAllow.filter { $0.hasPrefix("gordon.") }
            #expect(!user.publishAllow.contains { $0.contains("DELETE") || $0.contains("PURGE") || $0.contains("DURABLE") }, "\(user)")
            #expect(!user.publishAllow.contains("$JS.API.>"), "\(user)")
        }
        #expect(eventPublishes == [
            "gordon-data": ["gordon.market.>"],
            "gordon-risk": ["gordon.risk.command.>", "gordon.risk.breaker.>"],
            "gordon-executor": ["gordon.exec.order.*", "gordon.exec.fill.*", "gordon.exec.reconciliation"],
            "gordon-manager": [],
            "gordon-migrate": [],
            "gordon-bot-b1": ["gordon.intent.b1", "gordon.bot.lifecycle.b1"],
            "gordon-bot-b2": ["gordon.intent.b2", "gordon.bot.lifecycle.b2"],
        ])
    }

    @Test("durable names are unique across the deployment")
    func uniqueDurables() throws {
        let durables = try testUsers().flatMap(\.consumers).map(\.durableName)
        #expect(durables.count == 16)
        #expect(Set(durables).count == durables.count)
    }
}

@Suite("NATSServerConfig: rendering nats-server.conf")
struct NATSConfigTests {
    private func passwords(for users: [NATSUser]) -> [String: Secret] {
        Dictionary(uniqueKeysWithValues: users.map { ($0.name, randomPassword()) })
    }

    @Test("the same inputs render the same bytes, whatever order the users come in")
    func deterministic() throws {
        let users = try testUsers()
        let passwords = passwords(for: users)
        let first = try testConfig(users: users).render(passwords: passwords).withPlainText { $0 }
        let second = try testConfig(users: users.reversed()).render(passwords: passwords).withPlainText { $0 }
        #expect(first == second)
        let names = first.split(separator: "\n").filter { $0.hasPrefix("      user: ") }
        #expect(names == users.map(\.name).sorted().map { "      user: \"\($0)\"" })
    }

    @Test("the rendered text holds the listen address, JetStream limits, max_payload and every user's lists")
    func contents() throws {
        let users = try testUsers()
        let passwords = passwords(for: users)
        let text = try testConfig(users: users).render(passwords: passwords).withPlainText { $0 }
        #expect(text.contains("listen: \"127.0.0.1:4222\"\n"))
        #expect(text.contains("server_name: \"gordon-test\"\n"))
        #expect(text.contains("max_payload: 1048576\n"))
        #expect(text.contains("jetstream {\n  store_dir: \"/var/lib/gordon/nats\"\n  max_memory_store: 67108864\n  max_file_store: 1073741824\n}\n"))
        for user in users {
            passwords[user.name]!.withPlainText { #expect(text.contains("      password: \"\($0)\"\n")) }
            for subject in user.publishAllow + user.subscribeAllow {
                #expect(text.contains("\"\(subject)\""), "\(user) \(subject)")
            }
        }
        // Every string is quoted: no line has a bare `$` (which would be a variable).
        for line in text.split(separator: "\n") where line.contains("$") {
            #expect(line.trimmingCharacters(in: .whitespaces).hasPrefix("\""), "\(line)")
        }
    }

    @Test("an IPv6 host is bracketed")
    func ipv6() throws {
        let users = try testUsers()
        var config = testConfig(users: users)
        config.host = "::1"
        let text = try config.render(passwords: passwords(for: users)).withPlainText { $0 }
        #expect(text.contains("listen: \"[::1]:4222\"\n"))
    }

    @Test("a missing password is refused, naming the user")
    func missingPassword() throws {
        let users = try testUsers()
        var passwords = passwords(for: users)
        passwords["gordon-risk"] = nil
        let error = #expect(throws: GordonError.self) { try testConfig(users: users).render(passwords: passwords) }
        #expect(error?.code == .busConfigInvalid)
        #expect(error?.context["user"] == "gordon-risk")
        #expect(error?.message.contains("gordon-risk") == true)
    }

    @Test("short passwords and passwords that could break the quoting are refused, and the error never shows them",
          arguments: ["abc", "fifteen-chars-x", "has\"a-quote-in-it-ok", "has a space in it xx", "back\\slash-0123456789",
                      "dollar$sign-0123456789", "newline\n0123456789ab", "ümlaut-0123456789abc"])
    func badPasswords(password: String) throws {
        let users = try testUsers()
        var passwords = passwords(for: users)
        passwords["gordon-bot-b1"] = Secret(password)
        let error = #expect(throws: GordonError.self) { try testConfig(users: users).render(passwords: passwords) }
        #expect(error?.code == .busConfigInvalid)
        #expect(error?.context["user"] == "gordon-bot-b1")
        let shown = error.map { "\($0) \($0.message) \($0.context)" } ?? ""
        #expect(!shown.contains(password))
    }

    @Test("a 16-character password of the allowed alphabet is accepted")
    func minimalPassword() throws {
        let users = try testUsers()
        var passwords = passwords(for: users)
        passwords["gordon-data"] = Secret("Aa0_-Aa0_-Aa0_-A")
        _ = try testConfig(users: users).render(passwords: passwords)
    }

    @Test("values that would break the file are refused, not escaped")
    func badValues() throws {
        let users = try testUsers()
        let passwords = passwords(for: users)
        var quote = testConfig(users: users)
        quote.storeDirectory = "/var/lib/\"nats"
        #expect(throws: GordonError.self) { try quote.render(passwords: passwords) }
        var newline = testConfig(users: users)
        newline.storeDirectory = "/var/lib/nats\n}"
        #expect(throws: GordonError.self) { try newline.render(passwords: passwords) }
        var spaced = testConfig(users: users)
        spaced.serverName = "gordon edge"
        #expect(throws: GordonError.self) { try spaced.render(passwords: passwords) }
        var port = testConfig(users: users)
        port.port = 0
        #expect(throws: GordonError.self) { try port.render(passwords: passwords) }
        let twice = testConfig(users: users + [NATSPermissions.data])
        #expect(throws: GordonError.self) { try twice.render(passwords: passwords) }
        let dotted = NATSUser(name: "x", publishes: [], consumers: [NATSConsumerGrant(durableName: "a.b", filterSubject: "gordon.>")])
        #expect(throws: GordonError.self) { try testConfig(users: [dotted]).render(passwords: ["x": randomPassword()]) }
        let badSubject = NATSUser(name: "x", publishes: ["gordon..x"], consumers: [])
        #expect(throws: GordonError.self) { try testConfig(users: [badSubject]).render(passwords: ["x": randomPassword()]) }
        let badName = NATSUser(name: "x y", publishes: [], consumers: [])
        #expect(throws: GordonError.self) { try testConfig(users: [badName]).render(passwords: ["x y": randomPassword()]) }
    }

    @Test("passwords can be read from the services' keyfiles")
    func keysDirectory() throws {
        let users = try testUsers()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var passwords: [String: Secret] = [:]
        for user in users {
            let password = randomPassword()
            passwords[user.name] = password
            let text = password.withPlainText { "# \(user.name)\npostgres_password = unused\nnats_password = \($0)\n" }
            #expect(FileManager.default.createFile(atPath: "\(directory)/\(user.name).key", contents: Data(text.utf8),
                                                   attributes: [.posixPermissions: 0o400]))
        }
        let fromFiles = try testConfig(users: users).render(keysDirectory: directory + "/").withPlainText { $0 }
        let fromMemory = try testConfig(users: users).render(passwords: passwords).withPlainText { $0 }
        #expect(fromFiles == fromMemory)

        try FileManager.default.removeItem(atPath: "\(directory)/gordon-risk.key")
        let error = #expect(throws: GordonError.self) { try testConfig(users: users).render(keysDirectory: directory) }
        #expect(error?.code == .keyfileMissing)
        #expect(error?.context["path"] == "\(directory)/gordon-risk.key")
    }

    @Test("the device's bots are the gordon-bot-<bot>.key files; the services' keyfiles and other names are not bots")
    func botsFromKeyfileNames() throws {
        let names = ["gordon-bot-b2.key", "gordon-bot.key", "gordon-data.key", "gordon-bot-a1.key", "gordon-bot-A1.key",
                     "gordon-bot-b2.key~", ".gordon-bot-c.key", "gordon-bot-.key", "gordon-bot-x y.key", "restic.key"]
        #expect(NATSServerConfig.botIds(inKeyfileNames: names).map(\.rawValue) == ["a1", "b2"])
    }

    @Test("a bot whose keyfile others can read is left out with its error, and the bots beside it are kept")
    func looseBotKeyfileLeftOut() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (bot, mode) in [("good", 0o400), ("loose", 0o440), ("nopassword", 0o400)] {
            let text = bot == "nopassword" ? "postgres_password = x\n" : "nats_password = " + randomPassword().withPlainText { $0 } + "\n"
            #expect(FileManager.default.createFile(atPath: "\(directory)/gordon-bot-\(bot).key", contents: Data(text.utf8),
                                                   attributes: [.posixPermissions: mode]))
        }
        let found = try NATSServerConfig.bots(inKeysDirectory: directory)
        #expect(found.bots.map(\.rawValue) == ["good"])
        #expect(found.skipped.map(\.bot.rawValue) == ["loose", "nopassword"])
        #expect(found.skipped.map(\.error.code) == [.keyfileTooOpen, .keyfileEntryMissing])
    }
}
