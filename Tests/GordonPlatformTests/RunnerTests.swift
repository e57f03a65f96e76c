import AsyncHTTPClient
import Foundation
import GordonKernel
import GordonMigrations
import GordonPostgres
import GordonTestDB
import Testing

/// The service runner as an operator meets it, through a real service binary (the outbox
/// relay runs on it) against the test PostgreSQL and nats-server.
@Suite("GordonService runner: refuses to start with one clear line, or serves and stops cleanly")
struct RunnerTests {
    /// A migrated database, the executor's password in a keyfile, and the relay's arguments.
    struct Setup {
        let database: TestDatabase
        let directory: String
        let keyfile: String
        let password: String
        let passwordlessURL: DatabaseURL

        init(keyfileMode: mode_t = 0o400, password override: String? = nil) async throws {
            database = try await TestDatabase.create()
            let url = try await database.url(as: .executor)
            password = override ?? url.password!.withPlainText { $0 }
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("runner-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            keyfile = directory + "/gordon-executor.key"
            try "postgres_password = \(password)\n".write(toFile: keyfile, atomically: true, encoding: .utf8)
            chmod(keyfile, keyfileMode)
            passwordlessURL = url.with(username: url.username, password: nil)
        }

        func arguments(natsURL: String) -> [String] {
            ["--database-url", passwordlessURL.description, "--nats-url", natsURL, "--keyfile", keyfile, "--http-port", "0"]
        }

        func cleanUp() async {
            try? FileManager.default.removeItem(atPath: directory)
            try? await database.drop()
        }
    }

    /// The relay's whole run: its exit status and its critical lines. A relay that starts
    /// anyway is stopped after 30 s and counted as a failure (status -1).
    func refusal(_ setup: Setup, natsURL: String? = nil, extra: [String] = []) async throws -> (status: Int32, critical: [String], all: String) {
        let relay = try TestCommand("gordon-outbox-relay", setup.arguments(natsURL: try natsURL ?? TestEnvironment.natsURL()) + extra)
        guard try await eventually(timeout: .seconds(30), { !relay.process.isRunning }) else {
            let result = try await relay.stop(signal: SIGKILL)
            return (-1, [], "still running after 30 s: \(result?.stderr ?? "")")
        }
        let result = relay.result
        let lines = result.stderr.split(separator: "\n").map(String.init)
        return (result.status, lines.filter { $0.contains(#""level":"critical""#) }, result.stdout + result.stderr)
    }

    /// Exit status 1 and exactly one critical line, carrying `code`.
    func expectRefused(_ outcome: (status: Int32, critical: [String], all: String), _ code: ErrorCode,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.status == 1, "\(outcome.all)", sourceLocation: sourceLocation)
        #expect(outcome.critical.count == 1, "\(outcome.all)", sourceLocation: sourceLocation)
        #expect(outcome.critical.first?.contains(code.rawValue) == true, "\(outcome.all)", sourceLocation: sourceLocation)
    }

    @Test func aLooseKeyfileIsRefused() async throws {
        let setup = try await Setup(keyfileMode: 0o440)
        defer { Task { await setup.cleanUp() } }
        let outcome = try await refusal(setup)
        expectRefused(outcome, .keyfileTooOpen)
    }

    @Test func aWrongPasswordIsRefused() async throws {
        let setup = try await Setup(password: "not-the-password-\(UInt32.random(in: 0...UInt32.max))")
        defer { Task { await setup.cleanUp() } }
        let outcome = try await refusal(setup)
        expectRefused(outcome, .databaseAuthFailed)
        #expect(!outcome.all.contains(setup.password), "the refused password reached the output")
    }

    @Test func aSchemaBehindIsRefused() async throws {
        let setup = try await Setup()
        defer { Task { await setup.cleanUp() } }
        let connection = try await setup.database.connect()
        try await connection.query("DELETE FROM public.schema_migrations WHERE version = (SELECT max(version) FROM public.schema_migrations)",
                                   logger: TestEnvironment.logger)
        try await connection.close()
        let outcome = try await refusal(setup)
        expectRefused(outcome, .schemaBehind)
    }

    @Test func natsDownIsRefused() async throws {
        let setup = try await Setup()
        defer { Task { await setup.cleanUp() } }
        // A port that was free a moment ago: nothing listens there.
        let outcome = try await refusal(setup, natsURL: "nats://127.0.0.1:\(try TestNATSServer.freePort())")
        expectRefused(outcome, .natsConnectFailed)
    }

    @Test func aNATSUserWithoutItsPasswordIsRefused() async throws {
        let setup = try await Setup()
        defer { Task { await setup.cleanUp() } }
        // The keyfile holds no nats_password: logging in anonymously instead would hide the
        // mistake until the device's server refuses the connection.
        let outcome = try await refusal(setup, extra: ["--nats-user", "gordon-executor"])
        expectRefused(outcome, .keyfileEntryMissing)
    }

    @Test func credentialsInANATSURLAreRefusedAndNeverPrinted() async throws {
        let setup = try await Setup()
        defer { Task { await setup.cleanUp() } }
        let password = "url-password-\(UInt32.random(in: 0...UInt32.max))"
        let server = try TestEnvironment.natsURL().replacingOccurrences(of: "nats://", with: "nats://someone:\(password)@")
        let outcome = try await refusal(setup, natsURL: server)
        expectRefused(outcome, .serviceConfigInvalid)
        #expect(!outcome.all.contains(password), "\(outcome.all)")
    }

    @Test("with everything in place: ready, metrics a real Prometheus parser accepts, no secret in the logs, exit 0 on SIGTERM")
    func servesAndStops() async throws {
        let setup = try await Setup()
        defer { Task { await setup.cleanUp() } }
        let relay = try TestCommand("gordon-outbox-relay", setup.arguments(natsURL: try TestEnvironment.natsURL()))
        let prefix = "gordon-outbox-relay listening on "
        #expect(try await eventually(timeout: .seconds(30)) { relay.stdout.contains(prefix) || !relay.process.isRunning },
                "\(relay.stderr)")
        let line = try #require(relay.stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }, "\(relay.stderr)")
        let base = String(line.dropFirst(prefix.count))

        #expect(try await get(base + "/healthz").status == 200)
        let ready = try await get(base + "/readyz")
        #expect(ready.status == 200, "\(ready.body)")
        #expect(ready.body.contains(#""database":"ok""#) && ready.body.contains(#""nats":"ok""#), "\(ready.body)")

        let metrics = try await get(base + "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("gordon_nats_connected 1"), "\(metrics.body)")
        #expect(metrics.body.contains(#"gordon_outbox_published{producer="gordon_executor"}"#), "\(metrics.body)")
        let checked = try await promtoolCheckMetrics(metrics.body, in: setup.directory)
        #expect(checked.status == 0, "promtool: \(checked.stdout) \(checked.stderr)")

        // A traced request: the trace id comes back and reaches the request's log line.
        let traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
        let traced = try await get(base + "/healthz", headers: ["traceparent": "00-\(traceId)-00f067aa0ba902b7-01"])
        #expect(traced.traceparent?.contains(traceId) == true)

        let stopped = try #require(try await relay.stop(timeout: .seconds(10)), "the relay did not stop within its grace period")
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let output = stopped.stdout + stopped.stderr
        #expect(!output.contains(setup.password), "the keyfile's password reached the output")
        for line in stopped.stderr.split(separator: "\n") {
            #expect(line.hasPrefix(#"{"time":""#) && line.hasSuffix("}"), "not a JSON log line: \(line)")
        }
        #expect(stopped.stderr.contains(#""service":"gordon-outbox-relay""#))
    }

    struct Reply {
        let status: Int
        let body: String
        let traceparent: String?
    }

    func get(_ url: String, headers: [String: String] = [:]) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: body), traceparent: response.headers.first(name: "traceparent"))
    }

    /// Debian's promtool, the Prometheus project's own parser and linter.
    func promtoolCheckMetrics(_ text: String, in directory: String) async throws -> CommandResult {
        let file = directory + "/metrics.txt"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return try await TestCommand.runProgram("/bin/sh", ["-c", "exec promtool check metrics < \"$0\"", file])
    }
}
