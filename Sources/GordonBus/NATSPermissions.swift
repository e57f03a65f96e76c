public import GordonDomain
public import GordonKernel
public import GordonNATS
import GordonProtocol

/// A JetStream durable consumer on the GORDON stream that one NATS user may create, inspect,
/// pull from and acknowledge.
///
/// The pair is granted together because the create subject embeds the filter: a user
/// allowed `gordon-bot-b1-orders` on `gordon.exec.order.b1` cannot re-create that durable on
/// another bot's subject, since that is a different subject it may not publish to.
public struct NATSConsumerGrant: Sendable, Hashable, CustomStringConvertible {
    public let durableName: String
    public let filterSubject: String

    public init(durableName: String, filterSubject: String) {
        self.durableName = durableName
        self.filterSubject = filterSubject
    }

    public var description: String { "\(durableName) (\(filterSubject))" }
}

/// One NATS account user: a Gordon service, a bot, or the stream administrator.
///
/// Only the subjects that are the user's job are given; everything a NATS client needs
/// around them (its inbox, the JetStream API of its consumers) is derived here, so the
/// server configuration and the tests that check it cannot disagree about it.
public struct NATSUser: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    /// What the server lets this user publish to, in a stable order. Never empty: to
    /// nats-server an empty allow list means no restriction at all.
    public let publishAllow: [String]
    /// What the server lets this user subscribe to, in a stable order. Never empty, for the
    /// same reason.
    public let subscribeAllow: [String]
    public let consumers: [NATSConsumerGrant]

    /// - Parameters:
    ///   - name: the NATS user (a service's or a bot's).
    ///   - publishes: the subjects the user publishes as its job (events, or stream
    ///     administration); the JetStream and consumer subjects are added to them.
    ///   - consumers: the durables it may create and pull from.
    public init(name: String, publishes: [String], consumers: [NATSConsumerGrant]) {
        self.name = name
        self.consumers = consumers
        var publish = publishes + [NATSPermissions.JetStreamSubject.accountInfo, NATSPermissions.JetStreamSubject.streamInfo]
        for consumer in consumers {
            publish.append(NATSPermissions.JetStreamSubject.consumerCreate(consumer))
            publish.append(NATSPermissions.JetStreamSubject.consumerInfo(durableName: consumer.durableName))
            publish.append(NATSPermissions.JetStreamSubject.consumerNext(durableName: consumer.durableName))
            publish.append(NATSPermissions.JetStreamSubject.consumerAcks(durableName: consumer.durableName))
        }
        publishAllow = NATSUser.uniqued(publish)
        // Core subscriptions on the filters let a service read a subject live as well as
        // through its consumer; the inbox is the only other thing anyone may receive, and
        // each user's inbox prefix is its own so no service can read another's replies.
        subscribeAllow = NATSUser.uniqued([NATSPermissions.inboxPrefix(forUser: name) + ".>"] + consumers.map(\.filterSubject))
    }

    /// The prefix `NATSClientOptions.inboxPrefix` must be set to when connecting as this
    /// user: replies to anywhere else would be refused.
    public var inboxPrefix: String { NATSPermissions.inboxPrefix(forUser: name) }

    public var description: String { name }

    private static func uniqued(_ subjects: [String]) -> [String] {
        var seen: Set<String> = []
        return subjects.filter { seen.insert($0).inserted }
    }
}

/// Who may do what on NATS (DESIGN §4): the one place the answer is written down.
///
/// Each service and each bot connects as its own user and may publish only the events it
/// is the source of; everything it reads comes through JetStream consumers whose names
/// and filters are fixed here, so a compromised bot can neither forge another bot's intents
/// nor read another bot's fills. Anything not listed is refused by the server.
public enum NATSPermissions {
    /// The one stream, holding every Gordon subject.
    public static let streamName = "GORDON"
    /// Prefix of the JetStream API subjects of the account.
    public static let jetStreamAPIPrefix = "$JS.API"
    /// Prefix of the subjects JetStream expects acknowledgements on.
    public static let jetStreamAckPrefix = "$JS.ACK"

    /// `_INBOX_<user>`: a per-user reply prefix, so reply subscriptions can be confined to
    /// the user that made the request.
    public static func inboxPrefix(forUser name: String) -> String { "_INBOX_" + name }

    /// The subjects of the JetStream API calls the users are given, on the GORDON stream.
    public enum JetStreamSubject {
        public static let accountInfo = "\(jetStreamAPIPrefix).INFO"
        public static let streamInfo = "\(jetStreamAPIPrefix).STREAM.INFO.\(streamName)"
        public static let streamCreate = "\(jetStreamAPIPrefix).STREAM.CREATE.\(streamName)"
        public static let streamUpdate = "\(jetStreamAPIPrefix).STREAM.UPDATE.\(streamName)"

        /// The nats 2.9 create subject that carries the filter. The server refuses a
        /// request whose body names another filter, so permission on this subject is
        /// permission for this filter only. (The older `CONSUMER.DURABLE.CREATE` subject
        /// carries no filter and is deliberately never granted.)
        public static func consumerCreate(_ consumer: NATSConsumerGrant) -> String {
            "\(jetStreamAPIPrefix).CONSUMER.CREATE.\(streamName).\(consumer.durableName).\(consumer.filterSubject)"
        }

        public static func consumerInfo(durableName: String) -> String {
            "\(jetStreamAPIPrefix).CONSUMER.INFO.\(streamName).\(durableName)"
        }

        public static func consumerNext(durableName: String) -> String {
            "\(jetStreamAPIPrefix).CONSUMER.MSG.NEXT.\(streamName).\(durableName)"
        }

        /// Every ack reply subject of one durable (`$JS.ACK.GORDON.<durable>.<counters…>`).
        public static func consumerAcks(durableName: String) -> String {
            "\(jetStreamAckPrefix).\(streamName).\(durableName).>"
        }
    }

    // MARK: The users

    /// Publishes market data; reads nothing from the bus.
    public static let data = NATSUser(name: ServiceIdentity.data.natsUser, publishes: ["gordon.market.>"], consumers: [])

    /// Watches executions, market data and intents; publishes commands and breaker trips.
    public static let risk = NATSUser(
        name: ServiceIdentity.risk.natsUser,
        publishes: ["gordon.risk.command.>", "gordon.risk.breaker.>"],
        consumers: [
            NATSConsumerGrant(durableName: "gordon-risk-exec", filterSubject: "gordon.exec.>"),
            NATSConsumerGrant(durableName: "gordon-risk-market", filterSubject: "gordon.market.>"),
            NATSConsumerGrant(durableName: "gordon-risk-intents", filterSubject: "gordon.intent.*"),
        ])

    /// Turns intents into orders; the only publisher of order updates, fills and
    /// reconciliation findings.
    public static let executor = NATSUser(
        name: ServiceIdentity.executor.natsUser,
        publishes: ["gordon.exec.order.*", "gordon.exec.fill.*", "gordon.exec.reconciliation"],
        consumers: [
            NATSConsumerGrant(durableName: "gordon-executor-intents", filterSubject: "gordon.intent.*"),
            NATSConsumerGrant(durableName: "gordon-executor-risk", filterSubject: "gordon.risk.command.>"),
        ])

    /// Records everything, publishes no event.
    public static let manager = NATSUser(
        name: ServiceIdentity.manager.natsUser,
        publishes: [],
        consumers: [NATSConsumerGrant(durableName: "gordon-manager-all", filterSubject: "gordon.>")])

    /// Creates and updates the stream at deploy time. It cannot delete or purge it, and it
    /// can neither publish nor read events.
    public static let migrate = NATSUser(
        name: ServiceIdentity.migrate.natsUser,
        publishes: [JetStreamSubject.accountInfo, JetStreamSubject.streamInfo, JetStreamSubject.streamCreate, JetStreamSubject.streamUpdate],
        consumers: [])

    /// `gordon-bot-<bot>`.
    public static func userName(for bot: BotId) -> String { "\(ServiceIdentity.bot.natsUser)-\(bot.rawValue)" }

    /// One bot: publishes its own intents and lifecycle, reads market data, risk commands
    /// and its own order updates and fills.
    public static func bot(_ bot: BotId) -> NATSUser {
        let prefix = userName(for: bot)
        return NATSUser(
            name: prefix,
            publishes: [Subject.intent(bot).string, Subject.botLifecycle(bot).string],
            consumers: [
                NATSConsumerGrant(durableName: "\(prefix)-klines", filterSubject: "gordon.market.kline.>"),
                NATSConsumerGrant(durableName: "\(prefix)-metrics", filterSubject: "gordon.market.metric.>"),
                NATSConsumerGrant(durableName: "\(prefix)-risk", filterSubject: "gordon.risk.command.>"),
                NATSConsumerGrant(durableName: "\(prefix)-orders", filterSubject: Subject.orderUpdate(bot).string),
                NATSConsumerGrant(durableName: "\(prefix)-fills", filterSubject: Subject.fill(bot).string),
            ])
    }

    /// Every user of a deployment running `bots`, sorted by name (duplicates ignored).
    public static func users(bots: some Sequence<BotId>) -> [NATSUser] {
        let services = [data, risk, executor, manager, migrate]
        return (services + Set(bots).map(bot)).sorted { $0.name < $1.name }
    }
}

extension NATSClientOptions {
    /// Logs in as `user` with the keyfile's `nats_password`, with the inbox prefix that user's
    /// permissions allow replies on (any other prefix would be refused by the server).
    public mutating func logIn(as user: String, keyfile: Keyfile) throws(GordonError) {
        auth = .userPassword(user: user, password: try keyfile.secret(Keyfile.natsPassword))
        inboxPrefix = NATSPermissions.inboxPrefix(forUser: user)
    }
}
