public import ArgumentParser
public import GordonKernel
import GordonPostgres

/// The command-line options every service's main shares: where its database and NATS are,
/// its NATS user, its keyfile and its HTTP address. Passwords are never options: they come
/// from the keyfile.
public struct ServiceOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL without a password, e.g. postgres://ROLE@127.0.0.1:5432/gordon")
    public var databaseURL: String

    @Option(help: "NATS server URL (repeat for a cluster)")
    public var natsURL: [String] = ["nats://127.0.0.1:4222"]

    @Option(help: "NATS user (default: none, for a server without authorization)")
    public var natsUser: String?

    @Option(help: "Keyfile with postgres_password and, with --nats-user, nats_password (mode 0400)")
    public var keyfile: String

    @Option(help: "Address of the HTTP server (/healthz, /readyz, /metrics and the service's routes)")
    public var httpHost = "127.0.0.1"

    @Option(help: "Port of the HTTP server (0 takes a free one and prints it; default: the service's own)")
    public var httpPort: Int?

    public init() {}

    public func validate() throws {
        if let httpPort, !(0...65535).contains(httpPort) { throw ValidationError("--http-port must be between 0 and 65535") }
    }

    /// The runner's configuration for `identity`, on `defaultPort` unless --http-port says otherwise.
    public func configuration(_ identity: ServiceIdentity, defaultPort: Int) throws -> ServiceConfiguration {
        var configuration = ServiceConfiguration(identity: identity, keyfilePath: keyfile, databaseURL: try DatabaseURL(parsing: databaseURL),
                                                 natsURLs: natsURL, httpHost: httpHost, httpPort: httpPort ?? defaultPort)
        configuration.natsUser = natsUser
        return configuration
    }
}
