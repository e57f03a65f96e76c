import Foundation
import GordonBus
import GordonKernel
import GordonNATS
import GordonTestDB
import Logging
import NIOCore
import Testing

/// A private nats-server running the rendered configuration for bots b1 and b2, with fresh
/// random passwords.
struct PermissionFixture {
    let server: TestNATSServer
    let users: [NATSUser]
    let passwords: [String: Secret]

    init() async throws {
        let users = try testUsers()
        let passwords = Dictionary(uniqueKeysWithValues: users.map { ($0.name, randomPassword()) })
        let configuration = { (port: Int, store: String) in testConfig(port: port, storeDirectory: store, users: users) }
        // Render once up front so a refusal is thrown here; TestNATSServer's closure cannot throw.
        _ = try configuration(4222, "/tmp/unused").render(passwords: passwords)
        server = try await TestNATSServer(config: { port, store in
            (try? configuration(port, store).render(passwords: passwords).withPlainText { $0 }) ?? ""
        })
        self.users = users
        self.passwords = passwords
    }

    func user(_ name: String) throws -> NATSUser {
        try #require(users.first { $0.name == name })
    }

    /// A `NATSClient` logged in as `user`, with the inbox prefix its permissions expect.
    func connect(_ user: NATSUser) async throws -> NATSClient {
        var options = NATSClientOptions(
            servers: [NATSServerAddress(host: "127.0.0.1", port: server.port)], name: user.name,
            auth: .userPassword(user: user.name, password: passwords[user.name]!))
        options.inboxPrefix = user.inboxPrefix
        options.reconnect = NATSReconnectPolicy(maxAttempts: 0)
        // The matrix provokes hundreds of refusals on purpose; the client logs each one.
        var logger = Logger(label: "gordon.test.permissions")
        logger.logLevel = .critical
        return try await NATSClient.connect(options, logger: logger)
    }

    func raw(_ user: NATSUser) throws -> RawNATSConnection {
        try RawNATSConnection(port: server.port, user: user.name, password: passwords[user.name]!.withPlainText { $0 },
                              inboxPrefix: user.inboxPrefix)
    }
}

/// The candidate subjects: a concrete sample of every Gordon subject family, every
/// JetStream subject any user is given (and a few nobody is), every inbox, and the
/// wildcard forms clients actually send.
enum Candidates {
    static let events = [
        "gordon.market.kline.BTCUSDT.1m", "gordon.market.metric.fear_greed",
        "gordon.intent.b1", "gordon.intent.b2",
        "gordon.exec.order.b1", "gordon.exec.order.b2", "gordon.exec.fill.b1", "gordon.exec.fill.b2",
        "gordon.exec.reconciliation",
        "gordon.risk.command.all", "gordon.risk.command.b1", "gordon.risk.breaker.drawdown",
        "gordon.bot.lifecycle.b1", "gordon.bot.lifecycle.b2",
    ]

    static let jetStream = [
        "$JS.API.INFO", "$JS.API.STREAM.INFO.GORDON", "$JS.API.STREAM.CREATE.GORDON", "$JS.API.STREAM.UPDATE.GORDON",
        "$JS.API.STREAM.DELETE.GORDON", "$JS.API.STREAM.PURGE.GORDON", "$JS.API.STREAM.NAMES",
        "$JS.API.STREAM.MSG.GET.GORDON",
        // The filterless create subject would let a bot put its durable on any filter.
        "$JS.API.CONSUMER.DURABLE.CREATE.GORDON.gordon-bot-b1-orders",
        "$JS.API.CONSUMER.DELETE.GORDON.gordon-bot-b1-orders",
        // b1's durable on b2's subject: the create subject itself carries the filter.
        "$JS.API.CONSUMER.CREATE.GORDON.gordon-bot-b1-orders.gordon.exec.order.b2",
        "_INBOX.x",
    ]

    /// Wildcard subjects published as nats.go would publish them (only through the raw
    /// connection). They probe the literal-token matching: the first is allowed for risk
    /// because `*` admits the token `>`; the others must be refused to everyone.
    static let wildcardPublishes = [
        "$JS.API.CONSUMER.CREATE.GORDON.gordon-risk-intents.gordon.intent.>",
        "$JS.API.CONSUMER.CREATE.GORDON.gordon-bot-b1-orders.gordon.exec.order.*",
        "$JS.API.CONSUMER.CREATE.GORDON.gordon-manager-all.>",
        "gordon.risk.command.*", "gordon.>",
    ]

    static let wildcardSubscriptions = [">", "gordon.>", "gordon.intent.>", "gordon.exec.order.*", "gordon.market.*", "$JS.API.>", "_INBOX.>"]

    static func perUser(_ users: [NATSUser]) -> [String] {
        var subjects: [String] = []
        for user in users {
            subjects.append(user.inboxPrefix + ".x")
            for consumer in user.consumers {
                subjects.append(NATSPermissions.JetStreamSubject.consumerCreate(consumer))
                subjects.append(NATSPermissions.JetStreamSubject.consumerInfo(durableName: consumer.durableName))
                subjects.append(NATSPermissions.JetStreamSubject.consumerNext(durableName: consumer.durableName))
                subjects.append("\(NATSPermissions.jetStreamAckPrefix).GORDON.\(consumer.durableName).1.7.3.1700000000000000000.0")
            }
        }
        return subjects
    }

    static func publishes(_ users: [NATSUser]) -> [String] {
        uniqued(events + jetStream + perUser(users) + wildcardPublishes)
    }

    static func subscriptions(_ users: [NATSUser]) -> [String] {
        uniqued(events + jetStream + perUser(users) + users.flatMap(\.subscribeAllow) + wildcardSubscriptions)
    }

    static func hasWildcard(_ subject: String) -> Bool {
        subject.split(separator: ".").contains { $0 == "*" || $0 == ">" }
    }

    private static func uniqued(_ subjects: [String]) -> [String] {
        var seen: Set<String> = []
        return subjects.filter { seen.insert($0).inserted }
    }
}

struct Probe: CustomStringConvertible {
    enum Action: String { case publish, subscribe }
    let user: String
    let action: Action
    let subject: String
    let expectedAllowed: Bool
    let refused: Bool
    /// Anything besides the one expected refusal: other errors, a refused subscription
    /// whose sequence did not end with the error.
    let problems: [String]

    var matches: Bool { expectedAllowed != refused && problems.isEmpty }

    var description: String {
        "\(user) \(action.rawValue) \(subject): expected \(expectedAllowed ? "allowed" : "refused"), "
            + "server \(refused ? "refused" : "allowed")" + (problems.isEmpty ? "" : " \(problems)")
    }
}

@Suite("NATS permission matrix: every user × every candidate subject, against a real nats-server")
struct PermissionMatrixTests {
    static func violation(_ action: Probe.Action, _ subject: String) -> String {
        "Permissions Violation for \(action == .publish ? "Publish" : "Subscription") to \"\(subject)\""
    }

    /// The server's verdict on one probe: an error naming exactly this subject is a refusal;
    /// any other error is a problem.
    static func verdict(_ newErrors: [String], _ action: Probe.Action, _ subject: String) -> (refused: Bool, problems: [String]) {
        let expected = violation(action, subject)
        return (newErrors.contains(expected), newErrors.filter { $0 != expected })
    }

    static func serverTexts(_ errors: ArraySlice<GordonError>) -> [String] {
        errors.map { $0.context["server_error"] ?? $0.description }
    }

    /// All of one user's probes, on one connection (plus a raw one for wildcard publishes),
    /// each checked on its own: the errors that arrived between sending it and the flush.
    static func probe(_ user: NATSUser, in fixture: PermissionFixture) async throws -> [Probe] {
        let client = try await fixture.connect(user)
        var raw: RawNATSConnection?
        var probes: [Probe] = []
        for subject in Candidates.publishes(fixture.users) {
            let newErrors: [String]
            if Candidates.hasWildcard(subject) {
                let connection = try raw ?? fixture.raw(user)
                raw = connection
                newErrors = try connection.publish(subject)
            } else {
                let before = client.permissionErrors.count
                try #require(before < 1000, "the client keeps 1000 errors; counting would stop working")
                try await client.publish("", to: subject)
                try await client.flush()
                newErrors = serverTexts(client.permissionErrors.dropFirst(before))
            }
            let (refused, problems) = verdict(newErrors, .publish, subject)
            probes.append(Probe(user: user.name, action: .publish, subject: subject,
                                expectedAllowed: SubjectMatcher.allowed(subject, by: user.publishAllow), refused: refused, problems: problems))
        }
        for subject in Candidates.subscriptions(fixture.users) {
            let before = client.permissionErrors.count
            try #require(before < 1000, "the client keeps 1000 errors; counting would stop working")
            let subscription = try await client.subscribe(to: subject)
            try await client.flush()
            let (refused, problemsSoFar) = verdict(serverTexts(client.permissionErrors.dropFirst(before)), .subscribe, subject)
            var problems = problemsSoFar
            if refused {
                // The refusal also ends the subscription's sequence with the error (the
                // client did that before the flush's PONG was read, so this cannot block).
                var iterator = subscription.makeAsyncIterator()
                do {
                    _ = try await iterator.next()
                    problems.append("refused subscription ended without an error")
                } catch {
                    if (error as? GordonError)?.code != .natsPermissionDenied { problems.append("ended with \(error)") }
                }
            } else {
                try await subscription.unsubscribe()
            }
            probes.append(Probe(user: user.name, action: .subscribe, subject: subject,
                                expectedAllowed: SubjectMatcher.allowed(subject, by: user.subscribeAllow), refused: refused, problems: problems))
        }
        #expect(client.isConnected, "\(user) was disconnected by the probes")
        await client.close()
        return probes
    }

    @Test("the server allows exactly what NATSPermissions says, for every user and candidate subject")
    func matrix() async throws {
        let fixture = try await PermissionFixture()
        var probes: [Probe] = []
        for user in fixture.users {
            probes += try await Self.probe(user, in: fixture)
        }

        let mismatches = probes.filter { !$0.matches }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.map(\.description).joined(separator: "\n"))")

        // Every allow entry of every user is exercised by at least one allowed probe, so no
        // grant goes untested (a candidate set that missed one would pass vacuously).
        for user in fixture.users {
            let allowedPublishes = probes.filter { $0.user == user.name && $0.action == .publish && !$0.refused }.map(\.subject)
            for pattern in user.publishAllow {
                #expect(allowedPublishes.contains { SubjectMatcher.matches(pattern: pattern, subject: $0) }, "\(user) publish \(pattern) untested")
            }
            let allowedSubscriptions = probes.filter { $0.user == user.name && $0.action == .subscribe && !$0.refused }.map(\.subject)
            for pattern in user.subscribeAllow {
                #expect(allowedSubscriptions.contains { SubjectMatcher.matches(pattern: pattern, subject: $0) }, "\(user) subscribe \(pattern) untested")
            }
        }

        // The same verdicts read as DESIGN §4 states them, independently of NATSPermissions:
        // who the server lets publish, and read live, each event subject.
        func grantees(_ action: Probe.Action, _ subjects: [String]) -> [String: Set<String>] {
            var table = Dictionary(uniqueKeysWithValues: subjects.map { ($0, Set<String>()) })
            for probe in probes where probe.action == action && !probe.refused && table[probe.subject] != nil {
                table[probe.subject]!.insert(probe.user)
            }
            return table
        }
        let (data, risk, executor, manager, b1, b2) = ("gordon-data", "gordon-risk", "gordon-executor", "gordon-manager", "gordon-bot-b1", "gordon-bot-b2")
        #expect(grantees(.publish, Candidates.events) == [
            "gordon.market.kline.BTCUSDT.1m": [data], "gordon.market.metric.fear_greed": [data],
            "gordon.intent.b1": [b1], "gordon.intent.b2": [b2],
            "gordon.exec.order.b1": [executor], "gordon.exec.order.b2": [executor],
            "gordon.exec.fill.b1": [executor], "gordon.exec.fill.b2": [executor],
            "gordon.exec.reconciliation": [executor],
            "gordon.risk.command.all": [risk], "gordon.risk.command.b1": [risk], "gordon.risk.breaker.drawdown": [risk],
            "gordon.bot.lifecycle.b1": [b1], "gordon.bot.lifecycle.b2": [b2],
        ])
        #expect(grantees(.subscribe, Candidates.events) == [
            "gordon.market.kline.BTCUSDT.1m": [risk, manager, b1, b2], "gordon.market.metric.fear_greed": [risk, manager, b1, b2],
            "gordon.intent.b1": [risk, executor, manager], "gordon.intent.b2": [risk, executor, manager],
            "gordon.exec.order.b1": [risk, manager, b1], "gordon.exec.order.b2": [risk, manager, b2],
            "gordon.exec.fill.b1": [risk, manager, b1], "gordon.exec.fill.b2": [risk, manager, b2],
            "gordon.exec.reconciliation": [risk, manager],
            "gordon.risk.command.all": [executor, manager, b1, b2], "gordon.risk.command.b1": [executor, manager, b1, b2],
            "gordon.risk.breaker.drawdown": [manager],
            "gordon.bot.lifecycle.b1": [manager], "gordon.bot.lifecycle.b2": [manager],
        ])
        let everyone = Set(fixture.users.map(\.name))
        #expect(grantees(.publish, Candidates.jetStream) == [
            "$JS.API.INFO": everyone, "$JS.API.STREAM.INFO.GORDON": everyone,
            "$JS.API.STREAM.CREATE.GORDON": ["gordon-migrate"], "$JS.API.STREAM.UPDATE.GORDON": ["gordon-migrate"],
            "$JS.API.STREAM.DELETE.GORDON": [], "$JS.API.STREAM.PURGE.GORDON": [], "$JS.API.STREAM.NAMES": [],
            "$JS.API.STREAM.MSG.GET.GORDON": [],
            "$JS.API.CONSUMER.DURABLE.CREATE.GORDON.gordon-bot-b1-orders": [],
            "$JS.API.CONSUMER.DELETE.GORDON.gordon-bot-b1-orders": [],
            "$JS.API.CONSUMER.CREATE.GORDON.gordon-bot-b1-orders.gordon.exec.order.b2": [],
            "_INBOX.x": [],
        ])
        // A consumer's subjects, and an inbox, belong to their owner alone.
        for user in fixture.users {
            let owned = [user.inboxPrefix + ".x"] + user.consumers.flatMap { consumer in
                [NATSPermissions.JetStreamSubject.consumerCreate(consumer),
                 NATSPermissions.JetStreamSubject.consumerInfo(durableName: consumer.durableName),
                 NATSPermissions.JetStreamSubject.consumerNext(durableName: consumer.durableName)]
            }
            let publishers = grantees(.publish, owned)
            for subject in owned where !subject.hasPrefix("_INBOX") {
                #expect(publishers[subject] == [user.name], "\(subject)")
            }
            #expect(publishers[user.inboxPrefix + ".x"] == [], "nobody publishes into an inbox")
            #expect(grantees(.subscribe, [user.inboxPrefix + ".x"]) == [user.inboxPrefix + ".x": [user.name]])
        }

        let allowed = probes.filter { !$0.refused }.count
        let refused = probes.filter(\.refused).count
        print("NATS permission matrix: \(probes.count) probes, \(allowed) allowed, \(refused) refused")
        // 7 users × (101 publish + 116 subscribe candidates) = 1519 probes: 173 allowed
        // (95 publishes, 78 subscriptions), 1346 refused. Pinned so that a change to
        // NATSPermissions or to the candidates shows up here as a deliberate edit.
        #expect(allowed + refused == probes.count)
        #expect(probes.count == PermissionMatrixTests.expectedProbes)
        #expect(allowed == PermissionMatrixTests.expectedAllowed)
        #expect(refused == PermissionMatrixTests.expectedRefused)
    }

    static let expectedProbes = 1533
    static let expectedAllowed = 176
    static let expectedRefused = 1357
}

@Suite("NATS permissions end to end with JetStream")
struct JetStreamPermissionTests {
    static let streamRequest = #"{"name":"GORDON","subjects":["gordon.>"],"storage":"file","duplicate_window":120000000000}"#

    static func consumerRequest(durable: String, filter: String) -> String {
        #"{"stream_name":"GORDON","config":{"durable_name":""# + durable + #"","filter_subject":""# + filter
            + #"","ack_policy":"explicit","deliver_policy":"all"}}"#
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    static func newErrors(_ client: NATSClient, since count: Int) -> [String] {
        client.permissionErrors.dropFirst(count).map { $0.context["server_error"] ?? $0.description }
    }

    @Test("migrate creates the stream; a bot creates its own consumer and reads it, never another bot's; filters are enforced")
    func endToEnd() async throws {
        let fixture = try await PermissionFixture()

        let migrate = try await fixture.connect(try fixture.user("gordon-migrate"))
        let created = try Self.object(try await migrate.request(Array(Self.streamRequest.utf8), to: "$JS.API.STREAM.CREATE.GORDON").string)
        #expect(created["error"] == nil, "\(created)")
        #expect(created["type"] as? String == "io.nats.jetstream.api.v1.stream_create_response")
        #expect(migrate.permissionErrors.isEmpty)
        await migrate.close()

        let bot = try await fixture.connect(try fixture.user("gordon-bot-b1"))
        let ownSubject = "$JS.API.CONSUMER.CREATE.GORDON.gordon-bot-b1-orders.gordon.exec.order.b1"
        let own = try Self.object(try await bot.request(
            Array(Self.consumerRequest(durable: "gordon-bot-b1-orders", filter: "gordon.exec.order.b1").utf8), to: ownSubject).string)
        #expect(own["error"] == nil, "\(own)")
        #expect((own["config"] as? [String: Any])?["filter_subject"] as? String == "gordon.exec.order.b1")

        // The same durable on b2's orders: the server refuses the subject itself, so the
        // request never reaches JetStream (it can only time out; close() fails it).
        let foreignSubject = "$JS.API.CONSUMER.CREATE.GORDON.gordon-bot-b1-orders.gordon.exec.order.b2"
        var before = bot.permissionErrors.count
        _ = try await bot.requestFuture(
            Array(Self.consumerRequest(durable: "gordon-bot-b1-orders", filter: "gordon.exec.order.b2").utf8), to: foreignSubject)
        try await bot.flush()
        #expect(Self.newErrors(bot, since: before) == ["Permissions Violation for Publish to \"\(foreignSubject)\""])

        // Its own subject with b2's filter in the body: JetStream itself refuses the mismatch,
        // which is what makes permission on the subject a permission on the filter.
        let forged = try Self.object(try await bot.request(
            Array(Self.consumerRequest(durable: "gordon-bot-b1-orders", filter: "gordon.exec.order.b2").utf8), to: ownSubject).string)
        #expect((forged["error"] as? [String: Any])?["err_code"] as? Int == 10131, "\(forged)")

        let info = try Self.object(try await bot.request([UInt8](), to: "$JS.API.CONSUMER.INFO.GORDON.gordon-bot-b1-orders").string)
        #expect((info["config"] as? [String: Any])?["filter_subject"] as? String == "gordon.exec.order.b1", "\(info)")

        // A bot cannot issue a risk command.
        before = bot.permissionErrors.count
        try await bot.publish("{}", to: "gordon.risk.command.all")
        try await bot.flush()
        #expect(Self.newErrors(bot, since: before) == ["Permissions Violation for Publish to \"gordon.risk.command.all\""])

        // The executor's order update reaches b1 through its consumer, and b1 can ack it.
        let executor = try await fixture.connect(try fixture.user("gordon-executor"))
        let ack = try Self.object(try await executor.request(Array(#"{"status":"NEW"}"#.utf8), to: "gordon.exec.order.b1").string)
        #expect(ack["stream"] as? String == "GORDON", "\(ack)")
        #expect(executor.permissionErrors.isEmpty)
        await executor.close()
        // A pulled message arrives on the reply inbox but carries its own subject, so it is
        // read from a subscription on the inbox, not through request() (whose replies are
        // matched by subject). `expires` bounds the wait: the server ends it with a 408.
        before = bot.permissionErrors.count
        let inbox = bot.newInbox()
        let pulled = try await bot.subscribe(to: inbox)
        try await bot.publish(#"{"batch":1,"expires":10000000000}"#, to: "$JS.API.CONSUMER.MSG.NEXT.GORDON.gordon-bot-b1-orders", replyTo: inbox)
        var iterator = pulled.makeAsyncIterator()
        let message = try #require(try await iterator.next())
        #expect(message.status == nil)
        #expect(message.subject == "gordon.exec.order.b1")
        #expect(message.string == #"{"status":"NEW"}"#)
        let ackSubject = try #require(message.replyTo)
        #expect(ackSubject.hasPrefix("$JS.ACK.GORDON.gordon-bot-b1-orders."))
        try await bot.publish("+ACK", to: ackSubject)
        try await bot.flush()
        #expect(Self.newErrors(bot, since: before).isEmpty)
        await bot.close()

        // A wildcard filter's create subject has wildcard tokens, which NATSClient does not
        // publish; sent raw, as nats.go sends it, risk gets its intents consumer.
        let risk = try fixture.raw(try fixture.user("gordon-risk"))
        let (reply, errors) = try risk.request("$JS.API.CONSUMER.CREATE.GORDON.gordon-risk-intents.gordon.intent.*",
                                              payload: Self.consumerRequest(durable: "gordon-risk-intents", filter: "gordon.intent.*"))
        #expect(errors.isEmpty)
        let riskConsumer = try Self.object(try #require(reply))
        #expect(riskConsumer["error"] == nil, "\(riskConsumer)")
    }
}
