public import GordonKernel
public import GordonPostgres
public import Logging
import GordonNATS

/// Where a service finds its keyfile, database, NATS and HTTP address. On the device every
/// value has a default derived from its `ServiceIdentity`; the environment (which the
/// watchdog sets per service) overrides them:
///
/// | variable | default |
/// |---|---|
/// | `GORDON_KEYFILE` | `/etc/gordon/keys/<service>.key` |
/// | `GORDON_DATABASE_URL` | `postgres://<role>@/gordon?host=/run/postgresql` (no password: it comes from the keyfile) |
/// | `GORDON_NATS_URL` | `nats://127.0.0.1:4222` (comma-separated for a cluster; no credentials in it) |
/// | `GORDON_NATS_USER` | the service's own user; empty connects without credentials (a local server without authorization) |
/// | `GORDON_HTTP_HOST`, `GORDON_HTTP_PORT` | `127.0.0.1`, the identity's port |
/// | `GORDON_LOG_LEVEL` | `info` |
public struct ServiceConfiguration: Sendable {
    public var identity: ServiceIdentity
    public var keyfilePath: String
    /// Without a password; the runner adds the keyfile's `postgres_password`.
    public var databaseURL: DatabaseURL
    public var natsURLs: [String]
    /// The NATS user to log in as with the keyfile's `nats_password` (refused to start without
    /// one); nil connects without credentials (a local server without authorization).
    public var natsUser: String?
    public var httpHost: String
    /// 0 takes a free port (printed on start).
    public var httpPort: Int
    public var logLevel: Logger.Level
    /// The schema version the service needs (`SchemaCheck`).
    public var requiredSchemaVersion: Int
    /// How long SIGTERM's graceful stop may take before the services are cancelled; below the
    /// watchdog's `stopGraceSeconds`, so a stop ends with exit 0 rather than SIGKILL.
    public var gracefulStopTimeout: Duration

    public init(identity: ServiceIdentity, keyfilePath: String? = nil, databaseURL: DatabaseURL,
                natsURLs: [String] = ["nats://127.0.0.1:4222"], natsUser: String? = nil, httpHost: String = "127.0.0.1",
                httpPort: Int? = nil, logLevel: Logger.Level = .info) {
        self.identity = identity
        self.keyfilePath = keyfilePath ?? identity.keyfilePath
        self.databaseURL = databaseURL
        self.natsURLs = natsURLs
        self.natsUser = natsUser ?? identity.natsUser
        self.httpHost = httpHost
        self.httpPort = httpPort ?? identity.httpPort ?? 0
        self.logLevel = logLevel
        self.requiredSchemaVersion = SchemaCheck.requiredVersion
        self.gracefulStopTimeout = .seconds(8)
    }

    /// The configuration from `environment` (the process's own by default).
    public static func fromEnvironment(
        _ identity: ServiceIdentity, environment: [String: String] = ProcessEnvironment.current
    ) throws(GordonError) -> ServiceConfiguration {
        func invalid(_ name: String, _ why: String) -> GordonError {
            GordonError(.serviceConfigInvalid, "\(name) \(why)", context: ["service": identity.name])
        }
        let defaultURL = "postgres://\(identity.databaseRole ?? identity.name)@/gordon?host=/run/postgresql"
        let databaseURL = try DatabaseURL(parsing: environment["GORDON_DATABASE_URL"] ?? defaultURL)
        let nats = (environment["GORDON_NATS_URL"] ?? "nats://127.0.0.1:4222").split(separator: ",").map(String.init)
        var port: Int?
        if let text = environment["GORDON_HTTP_PORT"] {
            guard let value = Int(text), (0...65535).contains(value) else { throw invalid("GORDON_HTTP_PORT", "is not a port number") }
            port = value
        }
        var level = Logger.Level.info
        if let text = environment["GORDON_LOG_LEVEL"] {
            guard let parsed = Logger.Level(rawValue: text) else {
                throw invalid("GORDON_LOG_LEVEL", "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            level = parsed
        }
        var configuration = ServiceConfiguration(
            identity: identity, keyfilePath: environment["GORDON_KEYFILE"], databaseURL: databaseURL, natsURLs: nats,
            httpHost: environment["GORDON_HTTP_HOST"] ?? "127.0.0.1", httpPort: port, logLevel: level)
        if let user = environment["GORDON_NATS_USER"] { configuration.natsUser = user.isEmpty ? nil : user }
        return configuration
    }

    /// Passwords come from the keyfile only: a URL that carries one is refused (by the runner,
    /// before anything is logged or opened, whichever way the configuration was made), so no
    /// credential lives in an environment, a unit file or a log line.
    public func validate() throws(GordonError) {
        guard databaseURL.password == nil else {
            throw GordonError(.serviceConfigInvalid, "the database URL holds a password; it comes from the keyfile only",
                              context: ["service": identity.name])
        }
        for url in natsURLs {
            let server = try NATSServerAddress(url: url)
            guard server.user == nil && server.password == nil else {
                throw GordonError(.serviceConfigInvalid, "a NATS URL holds credentials; the password comes from the keyfile only",
                                  context: ["service": identity.name, "server": server.description])
            }
        }
    }
}
