/// A stable identifier for one failure, such as `GORDON-DB-0003`.
///
/// Codes are part of Gordon's operator interface (logs, alerts, runbooks): once released a
/// code keeps its meaning forever. Every code is declared below, in this one file, and
/// `ErrorCode.all` lists them so a test can prove they are unique and well formed.
public struct ErrorCode: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String
    /// The kind a `GordonError` with this code gets unless the thrower says otherwise.
    public let defaultKind: ErrorKind

    public init(rawValue: String) {
        self.rawValue = rawValue
        self.defaultKind = ErrorCode.all.first { $0.rawValue == rawValue }?.defaultKind ?? .internal
    }

    private init(_ rawValue: String, _ kind: ErrorKind) {
        self.rawValue = rawValue
        self.defaultKind = kind
    }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func == (lhs: ErrorCode, rhs: ErrorCode) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public var description: String { rawValue }

    // MARK: Kernel
    public static let invalidTraceId = ErrorCode("GORDON-KERNEL-0001", .invalidInput)
    public static let internalInvariant = ErrorCode("GORDON-KERNEL-0002", .internal)

    // MARK: Keyfiles and secrets
    public static let keyfileMissing = ErrorCode("GORDON-KEY-0001", .notFound)
    public static let keyfileTooOpen = ErrorCode("GORDON-KEY-0002", .unauthorized)
    public static let keyfileMalformed = ErrorCode("GORDON-KEY-0003", .invalidInput)
    public static let keyfileEntryMissing = ErrorCode("GORDON-KEY-0004", .notFound)
    public static let keyfileWrongOwner = ErrorCode("GORDON-KEY-0005", .unauthorized)

    // MARK: Domain
    public static let invalidSymbol = ErrorCode("GORDON-DOM-0001", .invalidInput)
    public static let invalidInterval = ErrorCode("GORDON-DOM-0002", .invalidInput)
    public static let invalidDecimal = ErrorCode("GORDON-DOM-0003", .invalidInput)
    public static let decimalOverflow = ErrorCode("GORDON-DOM-0004", .invalidInput)
    public static let illegalOrderTransition = ErrorCode("GORDON-DOM-0005", .conflict)
    public static let invalidOrder = ErrorCode("GORDON-DOM-0006", .invalidInput)
    public static let invalidKline = ErrorCode("GORDON-DOM-0007", .invalidInput)
    public static let invalidBotConfig = ErrorCode("GORDON-DOM-0008", .invalidInput)
    public static let invalidIdentifier = ErrorCode("GORDON-DOM-0009", .invalidInput)
    public static let invalidFill = ErrorCode("GORDON-DOM-0010", .invalidInput)
    public static let positionConflict = ErrorCode("GORDON-DOM-0011", .conflict)

    // MARK: Protocol (subjects, envelopes, payloads)
    public static let invalidSubject = ErrorCode("GORDON-PROTO-0001", .invalidInput)
    public static let malformedEvent = ErrorCode("GORDON-PROTO-0002", .invalidInput)
    public static let unsupportedSchemaVersion = ErrorCode("GORDON-PROTO-0003", .invalidInput)
    public static let unknownEventType = ErrorCode("GORDON-PROTO-0004", .invalidInput)
    public static let eventTypeMismatch = ErrorCode("GORDON-PROTO-0005", .invalidInput)
    public static let invalidEventId = ErrorCode("GORDON-PROTO-0006", .invalidInput)
    public static let eventEncodingFailed = ErrorCode("GORDON-PROTO-0007", .internal)
    public static let invalidEventPayload = ErrorCode("GORDON-PROTO-0008", .invalidInput)

    // MARK: Database and migrations
    public static let databaseUnreachable = ErrorCode("GORDON-DB-0001", .unavailable)
    public static let invalidDatabaseURL = ErrorCode("GORDON-DB-0002", .invalidInput)
    public static let sqlFailed = ErrorCode("GORDON-DB-0003", .internal)
    public static let migrationChecksumMismatch = ErrorCode("GORDON-DB-0004", .conflict)
    public static let invalidMigrationName = ErrorCode("GORDON-DB-0005", .invalidInput)
    public static let duplicateMigrationVersion = ErrorCode("GORDON-DB-0006", .invalidInput)
    public static let schemaBehind = ErrorCode("GORDON-DB-0007", .unavailable)
    public static let schemaUnknownMigration = ErrorCode("GORDON-DB-0008", .conflict)
    public static let migrationsDirectoryUnreadable = ErrorCode("GORDON-DB-0009", .notFound)
    public static let forbiddenMigrationStatement = ErrorCode("GORDON-DB-0010", .invalidInput)
    public static let unknownRole = ErrorCode("GORDON-DB-0011", .invalidInput)
    public static let databaseTimeout = ErrorCode("GORDON-DB-0012", .timeout)
    public static let databaseAuthFailed = ErrorCode("GORDON-DB-0013", .unauthorized)

    // MARK: NATS (GordonNATS)
    public static let natsProtocolViolation = ErrorCode("GORDON-NATS-0001", .unavailable)
    public static let natsConnectFailed = ErrorCode("GORDON-NATS-0002", .unavailable)
    public static let natsConnectionClosed = ErrorCode("GORDON-NATS-0003", .unavailable)
    public static let natsAuthorizationFailed = ErrorCode("GORDON-NATS-0004", .unauthorized)
    public static let natsPermissionDenied = ErrorCode("GORDON-NATS-0005", .unauthorized)
    public static let natsTimeout = ErrorCode("GORDON-NATS-0006", .timeout)
    public static let natsNoResponders = ErrorCode("GORDON-NATS-0007", .unavailable)
    public static let natsSlowConsumer = ErrorCode("GORDON-NATS-0008", .unavailable)
    public static let natsPayloadTooLarge = ErrorCode("GORDON-NATS-0009", .invalidInput)
    public static let natsReconnectBufferFull = ErrorCode("GORDON-NATS-0010", .unavailable)
    public static let natsInvalidSubject = ErrorCode("GORDON-NATS-0011", .invalidInput)
    public static let natsServerError = ErrorCode("GORDON-NATS-0012", .internal)
    public static let natsInvalidURL = ErrorCode("GORDON-NATS-0013", .invalidInput)

    // MARK: JetStream (GordonNATS)
    public static let jetStreamAPIError = ErrorCode("GORDON-JS-0001", .internal)
    public static let jetStreamNotFound = ErrorCode("GORDON-JS-0002", .notFound)
    public static let jetStreamInvalidResponse = ErrorCode("GORDON-JS-0003", .unavailable)
    public static let jetStreamPublishRejected = ErrorCode("GORDON-JS-0004", .conflict)

    // MARK: Bus (GordonBus)
    public static let outboxRelayFailed = ErrorCode("GORDON-BUS-0001", .unavailable)
    public static let eventDeadLettered = ErrorCode("GORDON-BUS-0002", .invalidInput)
    public static let busConfigInvalid = ErrorCode("GORDON-BUS-0003", .invalidInput)

    // MARK: Strategy and backtest (GordonStrategy, GordonKlineFiles)
    public static let unknownStrategy = ErrorCode("GORDON-STRAT-0001", .invalidInput)
    public static let invalidStrategyParameter = ErrorCode("GORDON-STRAT-0002", .invalidInput)
    public static let invalidBacktestConfig = ErrorCode("GORDON-STRAT-0003", .invalidInput)
    public static let insufficientBalance = ErrorCode("GORDON-STRAT-0004", .rejectedByExchange)
    public static let filterFailure = ErrorCode("GORDON-STRAT-0005", .rejectedByExchange)
    public static let unknownOrder = ErrorCode("GORDON-STRAT-0006", .notFound)
    public static let invalidMarketData = ErrorCode("GORDON-DATA-0001", .invalidInput)
    public static let marketDataGap = ErrorCode("GORDON-DATA-0002", .invalidInput)
    public static let marketDataUnreadable = ErrorCode("GORDON-DATA-0003", .notFound)

    // MARK: Exchange (GordonExchange, BinanceSim)
    /// Transport failure or a 5xx: the request may or may not have reached the matching engine.
    public static let exchangeUnavailable = ErrorCode("GORDON-EXCH-0001", .unavailable)
    /// No response within the deadline: whether an order was placed is unknown until queried.
    public static let exchangeTimeout = ErrorCode("GORDON-EXCH-0002", .timeout)
    /// HTTP 429, or a request the limiter holds back because it would exceed a limit.
    public static let exchangeRateLimited = ErrorCode("GORDON-EXCH-0003", .rateLimited)
    /// HTTP 418: the IP is banned until the time in the error's context.
    public static let exchangeBanned = ErrorCode("GORDON-EXCH-0004", .rateLimited)
    /// Any other Binance error body (`{"code":…,"msg":…}`) the client has no finer code for.
    public static let exchangeRejected = ErrorCode("GORDON-EXCH-0005", .rejectedByExchange)
    /// Bad API key, signature or permissions (-1022, -2014, -2015).
    public static let exchangeAuthFailed = ErrorCode("GORDON-EXCH-0006", .unauthorized)
    /// -1021: the request's timestamp was outside `recvWindow`; the client resyncs its clock.
    public static let exchangeClockSkew = ErrorCode("GORDON-EXCH-0007", .unavailable)
    /// -2010 "Duplicate order sent.": an open order already has this client order id.
    public static let duplicateOrder = ErrorCode("GORDON-EXCH-0008", .conflict)
    /// A response body that is not the JSON Binance documents.
    public static let exchangeMalformedResponse = ErrorCode("GORDON-EXCH-0009", .unavailable)
    /// A WebSocket message that is not a stream event Binance documents.
    public static let exchangeStreamMalformed = ErrorCode("GORDON-EXCH-0010", .invalidInput)
    /// A parameter Binance refuses (-11xx): a bug in the caller, not worth a retry.
    public static let invalidExchangeRequest = ErrorCode("GORDON-EXCH-0011", .invalidInput)
    /// Endpoint, credentials or limits that cannot work (bad URL, empty key).
    public static let exchangeConfigInvalid = ErrorCode("GORDON-EXCH-0012", .invalidInput)
    /// An order may be on the book and this client could not find out (`clientOrderId` in the
    /// context): reconcile by that id before anything else is sent for the same intent.
    public static let orderOutcomeUnknown = ErrorCode("GORDON-EXCH-0013", .unavailable)

    // MARK: Services (GordonPlatform)
    /// Another Gordon service did not answer, or its circuit breaker holds calls back.
    public static let serviceUnavailable = ErrorCode("GORDON-SVC-0001", .unavailable)
    /// A service's environment or command line cannot work (a bad port, a password in a URL).
    public static let serviceConfigInvalid = ErrorCode("GORDON-SVC-0002", .invalidInput)

    // MARK: Bots (GordonBot)
    /// This instance no longer holds the bot's lease: another took over; it must stop acting.
    public static let botLeaseLost = ErrorCode("GORDON-BOT-0001", .conflict)

    // MARK: The control plane (GordonManager)
    /// A request to gordon-manager is malformed: a bad body, parameter or path.
    public static let invalidRequest = ErrorCode("GORDON-MGR-0001", .invalidInput)
    /// The caller of gordon-manager's socket is not an operator (not root, not in the operators' group).
    public static let notAnOperator = ErrorCode("GORDON-MGR-0002", .unauthorized)
    /// What the request names does not exist (a bot, a path).
    public static let notFound = ErrorCode("GORDON-MGR-0003", .notFound)
    /// An operator's request was recorded but gordon-risk has not carried it out in time (is it running?).
    public static let requestPending = ErrorCode("GORDON-MGR-0004", .timeout)
    /// gordon-risk refused an operator's request (an unknown bot, a bot not in the state asked from).
    public static let requestRefused = ErrorCode("GORDON-MGR-0005", .conflict)
    /// What the request would create exists already (a bot id in use).
    public static let alreadyExists = ErrorCode("GORDON-MGR-0006", .conflict)
    /// A call on the console's loopback port without the console's credential, or with a wrong one.
    public static let consoleCredentialInvalid = ErrorCode("GORDON-MGR-0007", .unauthorized)

    // MARK: The console (GordonConsole)
    /// An ID token (or the login it ends) that fails verification: signature, issuer,
    /// audience, expiry, nonce or state.
    public static let loginRefused = ErrorCode("GORDON-CON-0001", .unauthorized)
    /// The OpenID provider's discovery document or key set is unusable.
    public static let identityProviderInvalid = ErrorCode("GORDON-CON-0002", .unavailable)

    /// Every declared code, in declaration order.
    public static let all: [ErrorCode] = [
        invalidTraceId, internalInvariant,
        keyfileMissing, keyfileTooOpen, keyfileMalformed, keyfileEntryMissing, keyfileWrongOwner,
        invalidSymbol, invalidInterval, invalidDecimal, decimalOverflow, illegalOrderTransition,
        invalidOrder, invalidKline, invalidBotConfig, invalidIdentifier, invalidFill, positionConflict,
        invalidSubject, malformedEvent, unsupportedSchemaVersion, unknownEventType,
        eventTypeMismatch, invalidEventId, eventEncodingFailed, invalidEventPayload,
        databaseUnreachable, invalidDatabaseURL, sqlFailed, migrationChecksumMismatch,
        invalidMigrationName, duplicateMigrationVersion, schemaBehind, schemaUnknownMigration,
        migrationsDirectoryUnreadable, forbiddenMigrationStatement, unknownRole, databaseTimeout,
        databaseAuthFailed,
        natsProtocolViolation, natsConnectFailed, natsConnectionClosed, natsAuthorizationFailed,
        natsPermissionDenied, natsTimeout, natsNoResponders, natsSlowConsumer, natsPayloadTooLarge,
        natsReconnectBufferFull, natsInvalidSubject, natsServerError, natsInvalidURL,
        jetStreamAPIError, jetStreamNotFound, jetStreamInvalidResponse, jetStreamPublishRejected,
        outboxRelayFailed, eventDeadLettered, busConfigInvalid,
        unknownStrategy, invalidStrategyParameter, invalidBacktestConfig, insufficientBalance, filterFailure,
        unknownOrder, invalidMarketData, marketDataGap, marketDataUnreadable,
        exchangeUnavailable, exchangeTimeout, exchangeRateLimited, exchangeBanned, exchangeRejected,
        exchangeAuthFailed, exchangeClockSkew, duplicateOrder, exchangeMalformedResponse,
        exchangeStreamMalformed, invalidExchangeRequest, exchangeConfigInvalid, orderOutcomeUnknown,
        serviceUnavailable, serviceConfigInvalid,
        botLeaseLost,
        invalidRequest, notAnOperator, notFound, requestPending, requestRefused, alreadyExists, consoleCredentialInvalid,
        loginRefused, identityProviderInvalid,
    ]
}
