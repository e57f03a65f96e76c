import AsyncHTTPClient
import Foundation
import GordonTestDB
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// gordon-console as the device runs it, serving a small DocC-shaped site over real HTTP.
@Suite("gordon-console serves the documentation site")
struct DocumentationSiteTests {
    /// The SHA-256 of each fixture's inline element, worked out apart from the console
    /// (`printf 'var baseUrl = "/docs/"' | openssl dgst -sha256 -binary | base64`).
    static let baseURLScriptHash = "'sha256-77EWPyjUT2bZILT2rauaG3kt/w83/XPAfBGN/zpoqgs='"
    static let styleHash = "'sha256-FcQqt3aNlV7AZnGV4zkQRVeCeJOxbMPnQSx258L803E='"

    @Test("pages under /docs with the security headers; / leads to Gordon's landing page; nothing outside the site")
    func servesTheSite() async throws {
        let world = try await ConsoleWorld()
        let runbook = try await world.get("/docs/documentation/gordon/runbook/")
        #expect(runbook.status == .ok)
        #expect(runbook.body.contains("The runbook"))
        #expect(runbook.headers["Content-Type"].first?.hasPrefix("text/html") == true)

        let policy = try #require(runbook.headers["Content-Security-Policy"].first)
        #expect(policy.contains("script-src 'self' \(Self.baseURLScriptHash)"))
        #expect(policy.contains("style-src 'self' \(Self.styleHash)"))
        #expect(policy.contains("frame-ancestors 'none'"))
        #expect(policy.contains("default-src 'none'"))
        #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
        #expect(runbook.headers["X-Frame-Options"] == ["DENY"])
        #expect(runbook.headers["X-Content-Type-Options"] == ["nosniff"])
        #expect(runbook.headers["Referrer-Policy"] == ["no-referrer"])

        let long = try await world.get("/docs/" + ConsoleWorld.longDataPath.replacingOccurrences(of: ":", with: "%3A"))
        #expect(long.status == .ok)
        #expect(long.body == #"{"kind":"symbol"}"#)
        #expect(long.headers["Content-Type"].first?.hasPrefix("application/json") == true)

        let script = try await world.get("/docs/js/index.js")
        #expect(script.status == .ok)
        #expect(script.body == "document.title = 'Gordon'\n")
        // Kept by the browser, asked again each time: unchanged is 304 without a body.
        #expect(script.headers["Cache-Control"] == ["no-cache"])
        let tag = try #require(script.headers["ETag"].first)
        let again = try await world.get("/docs/js/index.js", headers: ["If-None-Match": tag])
        #expect(again.status == .notModified)
        #expect(again.body.isEmpty)
        let head = try await world.get("/docs/js/index.js", method: .HEAD)
        #expect(head.status == .ok && head.body.isEmpty)
        #expect(script.headers["Content-Type"].first?.contains("javascript") == true)
        #expect(script.headers["X-Content-Type-Options"] == ["nosniff"])

        // DocC links to pages without the trailing slash.
        let bare = try await world.get("/docs/documentation/gordon/runbook")
        #expect(bare.status == .movedPermanently)
        #expect(bare.headers["Location"] == ["/docs/documentation/gordon/runbook/"])
        for path in ["/", "/docs", "/docs/"] {
            let landing = try await world.get(path)
            #expect(landing.status == .found, "\(path)")
            #expect(landing.headers["Location"] == ["/docs/documentation/gordon/"], "\(path)")
            #expect(landing.headers["X-Frame-Options"] == ["DENY"], "\(path)")
            #expect(try await world.get(path, method: .HEAD).status == .found, "HEAD \(path)")
        }

        let missing = try await world.get("/docs/documentation/nothing/")
        #expect(missing.status == .notFound)
        #expect(missing.headers["Content-Security-Policy"].first == policy)
        // The file beside the site, asked for through the parent directory.
        for path in ["/docs/../outside.txt", "/docs/%2e%2e/outside.txt", "/docs/documentation/%2E%2E/%2E%2E/../outside.txt"] {
            let escaped = try await world.get(path)
            #expect(escaped.status != .ok, "\(path)")
            #expect(!escaped.body.contains("not for the LAN"), "\(path)")
        }
        let posted = try await world.get("/docs/documentation/gordon/runbook/", method: .POST)
        #expect(posted.status != .ok)
        #expect(!posted.body.contains("The runbook"))

        #expect(try await world.get("/healthz").status == .ok)
        let ready = try await world.get("/readyz")
        #expect(ready.status == .ok)
        #expect(ready.body.contains("\"documentation\":\"ok\""))
        #expect(try await world.get("/metrics").body.contains("http_requests"))

        let stopped = try #require(try await world.console.stop())
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(1000))")
    }

    @Test("https with the given certificate; plain HTTP refused there; the probes alone over HTTP on loopback; a key others can read refused")
    func servesHTTPS() async throws {
        let world = try await ConsoleWorld(tls: true)
        let runbook = try await world.get("/docs/documentation/gordon/runbook/")
        #expect(runbook.status == .ok && runbook.body.contains("The runbook"))
        #expect(runbook.headers["Content-Security-Policy"].first?.contains("default-src 'none'") == true)
        // Plain HTTP to the https port gets no page.
        let plain = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(world.port)/docs/documentation/gordon/runbook/"),
                                                          timeout: .seconds(5))
        #expect(plain == nil || plain?.status != .ok)
        // The probe port: readiness and metrics, not the site.
        #expect(try await world.get("/readyz", probes: true).status == .ok)
        #expect(try await world.get("/metrics", probes: true).body.contains("gordon_"))
        #expect(try await world.get("/docs/documentation/gordon/runbook/", probes: true).status == .notFound)

        // A private key the group may read: refused, saying why.
        let key = world.root + "/console.key"
        #expect(chmod(key, 0o640) == 0)
        let refused = try await TestCommand.run("gordon-console", ["--http-port", "0", "--documentation", world.archive,
                                                                   "--tls-certificate", world.root + "/console.crt", "--tls-key", key])
        #expect(refused.status == 1)
        #expect((refused.stdout + refused.stderr).contains("chmod 0400"), "\(refused.stdout)\(refused.stderr)")
        let unpaired = try await TestCommand.run("gordon-console", ["--http-port", "0", "--documentation", world.archive, "--tls-key", key])
        #expect(unpaired.status != 0 && unpaired.stderr.contains("--tls-certificate and --tls-key go together"))
    }

    @Test("not ready once the archive is gone (the release's tree unmounted)")
    func notReadyWithoutTheSite() async throws {
        let world = try await ConsoleWorld()
        try FileManager.default.removeItem(atPath: world.archive)
        let ready = try await world.get("/readyz")
        #expect(ready.status == .serviceUnavailable)
        #expect(ready.body.contains("is gone"))
    }

    @Test("refuses to start without an archive, with a malformed one, or with a site built for another base path, and says how to build it")
    func refusesABadSite() async throws {
        let directory = try ConsoleWorld.makeDirectory()
        func start(_ archive: String) async throws -> String {
            let result = try await TestCommand.run("gordon-console", ["--http-port", "0", "--documentation", archive])
            #expect(result.status == 1, "\(archive)")
            #expect((result.stdout + result.stderr).contains("scripts/docs"), "\(archive)")
            return result.stdout + result.stderr
        }
        #expect(try await start(directory + "/none.tar").contains("no documentation archive at \(directory)/none.tar"))

        try "<html></html>".write(toFile: directory + "/page.html", atomically: true, encoding: .utf8)
        #expect(try await start(directory + "/page.html").contains("is not a documentation archive"))

        let rooted = directory + "/rooted"
        try FileManager.default.createDirectory(atPath: rooted + "/documentation/gordon", withIntermediateDirectories: true)
        try #"<html><head><script>var baseUrl = "/"</script></head></html>"#
            .write(toFile: rooted + "/documentation/gordon/index.html", atomically: true, encoding: .utf8)
        #expect(try await start(try await ConsoleWorld.archive(rooted)).contains("built for another base path"))

        // Cut short: the last file's bytes and the end blocks missing.
        let whole = try Data(contentsOf: URL(fileURLWithPath: try await ConsoleWorld.archive(rooted)))
        try whole.prefix(1024 + 100).write(to: URL(fileURLWithPath: directory + "/short.tar"))
        #expect(try await start(directory + "/short.tar").contains("is not a documentation archive"))

        let badPort = try await TestCommand.run("gordon-console", ["--http-port", "70000", "--documentation", directory + "/none.tar"])
        #expect(badPort.status != 0)
        #expect(badPort.stderr.contains("--http-port must be between 0 and 65535"))
    }
}

/// A DocC-shaped site (the landing page with DocC's inline base URL, a script, a page), a file
/// beside it that must never be served, and gordon-console on a free port.
struct ConsoleWorld {
    let root: String
    let site: String
    let archive: String
    let console: TestCommand
    let port: Int

    /// With `tls`, the console speaks https with a fresh self-signed certificate and serves its
    /// probes over plain HTTP on another port.
    let tls: Bool
    let probePort: Int?

    init(tls: Bool = false) async throws {
        self.tls = tls
        root = try Self.makeDirectory()
        site = root + "/docs"
        try FileManager.default.createDirectory(atPath: site + "/js", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: site + "/documentation/gordon/runbook", withIntermediateDirectories: true)
        // DocC's root index.html is its template (base "/"); the pages carry the base path.
        try #"<html><head><script>var baseUrl = "/"</script></head></html>"#.write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        try #"<!doctype html><html><head><script>var baseUrl = "/docs/"</script><script defer src="/docs/js/index.js"></script><style>body{color:red}</style></head><body>Gordon</body></html>"#
            .write(toFile: site + "/documentation/gordon/index.html", atomically: true, encoding: .utf8)
        try "document.title = 'Gordon'\n".write(toFile: site + "/js/index.js", atomically: true, encoding: .utf8)
        try "<html><body><h1>The runbook</h1></body></html>".write(toFile: site + "/documentation/gordon/runbook/index.html", atomically: true, encoding: .utf8)
        try "not for the LAN\n".write(toFile: root + "/outside.txt", atomically: true, encoding: .utf8)
        // A name past ustar's limits, as DocC gives long initialisers: pax carries it.
        try FileManager.default.createDirectory(atPath: site + "/data/documentation/gordon", withIntermediateDirectories: true)
        try #"{"kind":"symbol"}"#.write(toFile: site + "/" + Self.longDataPath, atomically: true, encoding: .utf8)
        archive = try await Self.archive(site)
        var arguments = ["--http-port", "0", "--documentation", archive]
        if tls {
            let (certificate, key) = try await Self.selfSignedCertificate(in: root)
            arguments += ["--tls-certificate", certificate, "--tls-key", key, "--probe-port", "0"]
        }
        console = try TestCommand("gordon-console", arguments)
        let console = console
        func port(_ announcement: String) -> Int? {
            console.stdout.split(separator: "\n").first(where: { $0.contains(announcement) })
                .flatMap { $0.split(separator: ":").last }.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        let listening = "gordon-console listening on \(tls ? "https" : "http")://", probes = "gordon-console probes on http://"
        guard try await eventually(timeout: .seconds(30), { (port(listening) != nil && (!tls || port(probes) != nil)) || !console.process.isRunning }),
              let bound = port(listening) else {
            throw TestNATSServerError(message: "gordon-console did not start: \(console.stderr.suffix(2000))")
        }
        self.port = bound
        probePort = tls ? port(probes) : nil
    }

    /// A self-signed certificate for 127.0.0.1 and its key (mode 0600), made by openssl.
    static func selfSignedCertificate(in directory: String) async throws -> (certificate: String, key: String) {
        let (certificate, key) = (directory + "/console.crt", directory + "/console.key")
        let made = try await TestCommand.runProgram("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ])
        guard made.status == 0 else { throw TestNATSServerError(message: "openssl failed: \(made.stderr)") }
        guard chmod(key, 0o600) == 0 else { throw TestNATSServerError(message: "chmod of the test key failed") }
        return (certificate, key)
    }

    static let longDataPath = "data/documentation/gordon/init(" + Array(repeating: "parameter:", count: 14).joined() + ").json"

    /// The site as scripts/docs packs it: a pax archive of its directory.
    static func archive(_ site: String) async throws -> String {
        let path = site + ".tar"
        let result = try await TestCommand.runProgram("/usr/bin/tar", ["--format=pax", "-C", site, "-cf", path, "."])
        guard result.status == 0 else { throw TestNATSServerError(message: "tar failed: \(result.stderr)") }
        return path
    }

    static func makeDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-console-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    struct Answer {
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: String
    }

    /// One request as a browser sends it: no redirect followed, the path exactly as given.
    func get(_ path: String, method: HTTPMethod = .GET, headers: [String: String] = [:], probes: Bool = false) async throws -> Answer {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        var trust = TLSConfiguration.makeClientConfiguration()
        // The test's own self-signed certificate: what is checked here is the console's https, not a CA.
        trust.certificateVerification = .none
        configuration.tlsConfiguration = trust
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let base = probes ? "http://127.0.0.1:\(probePort ?? 0)" : "\(tls ? "https" : "http")://127.0.0.1:\(port)"
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            try await client.shutdown()
            return Answer(status: response.status, headers: response.headers, body: String(buffer: body))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
