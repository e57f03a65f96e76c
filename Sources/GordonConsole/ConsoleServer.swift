import Foundation
import GordonKernel
public import GordonPlatform
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HTTPTypes
public import Logging
public import NIOSSL

/// gordon-console's HTTP server, the one operator-facing port (3000): the documentation site
/// under `/docs`, `/healthz`, `/readyz` and `/metrics`, every answer with the browser's
/// security headers. It holds no database role, no NATS user and no key.
public enum ConsoleServer {
    public static let defaultPort = 3000

    /// Without `console` (no identity provider configured), the documentation alone: `/`
    /// leads to it.
    public static func makeRouter(documentation: DocumentationSite, console: ConsoleRoutes? = nil, metrics: MetricsRegistry,
                                  readiness: Readiness, logger: Logger) -> Router<ServiceRequestContext> {
        readiness.add("documentation") {
            guard documentation.isPresent() else {
                throw GordonError(.serviceUnavailable, "the documentation archive \(documentation.archive) is gone")
            }
        }
        let router = ServiceHTTP.makeRouter(metrics: metrics, readiness: readiness)
        router.add(middleware: SecurityHeadersMiddleware(policy: contentSecurityPolicy(for: documentation)))
        router.add(middleware: DocumentationMiddleware(site: documentation))
        console?.addRoutes(to: router)
        // (The router treats "/docs" and "/docs/" as one path.)
        for path in (console == nil ? ["/"] : []) + [DocumentationSite.basePath] {
            for method in [HTTPRequest.Method.get, .head] {
                router.on(RouterPath(path), method: method) { _, _ in Response.redirect(to: DocumentationSite.landingPage, type: .found) }
            }
        }
        return router
    }

    /// The console's server: plain HTTP, or https with `tls`.
    public static func application(
        router: Router<ServiceRequestContext>, host: String, port: Int, tls: TLSConfiguration?, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) throws -> some ApplicationProtocol {
        Application(
            router: router,
            server: try tls.map { try HTTPServerBuilder.tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: .init(address: .hostname(host, port: port), serverName: "gordon-console"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// When the console speaks https only: `/healthz`, `/readyz` and `/metrics` over plain
    /// HTTP on loopback, for the manager's probes and Prometheus, which do not know its
    /// certificate.
    public static func makeProbeRouter(metrics: MetricsRegistry, readiness: Readiness) -> Router<ServiceRequestContext> {
        ServiceHTTP.makeRouter(metrics: metrics, readiness: readiness)
    }

    /// Only this server's own files: no inline code but the site's own hashed elements, no
    /// framing, no forms sent elsewhere, no plugins.
    static func contentSecurityPolicy(for documentation: DocumentationSite) -> String {
        [
            "default-src 'none'",
            (["script-src 'self'"] + documentation.inlineScriptSources).joined(separator: " "),
            (["style-src 'self'"] + documentation.inlineStyleSources).joined(separator: " "),
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }
}

/// The same headers on every answer, files, redirects and errors alike.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let headers: HTTPFields

    init(policy: String) {
        var headers = HTTPFields()
        headers[HTTPField.Name("Content-Security-Policy")!] = policy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        self.headers = headers
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        for field in headers { response.headers[field.name] = field.value }
        return response
    }
}

/// GET and HEAD below `/docs/` from the archive: a file, a page's index.html for its
/// directory, a redirect to the directory with its trailing slash (DocC links to pages
/// without it; their relative URLs need it), or 404. The browser keeps what it got but asks
/// each time whether it changed (ETag), since a deploy changes the site under it.
struct DocumentationMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let site: DocumentationSite

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let prefix = DocumentationSite.basePath + "/"
        let path = request.uri.path
        guard request.method == .get || request.method == .head, path.hasPrefix(prefix), path != prefix else {
            return try await next(request, context)
        }
        guard let relative = String(path.dropFirst(prefix.count)).removingPercentEncoding else {
            throw HTTPError(.badRequest, message: "the path's percent-encoding is invalid")
        }
        switch site.lookup(relative) {
        case .missing:
            throw HTTPError(.notFound)
        case .directory:
            let query = request.uri.query.map { "?" + $0 } ?? ""
            return .redirect(to: path + "/" + query, type: .permanent)
        case .file(let file, let range):
            let tag = "\"\(site.version)-\(range.lowerBound)\""
            var headers: HTTPFields = [.eTag: tag, .cacheControl: "no-cache"]
            if request.headers[.ifNoneMatch] == tag { return Response(status: .notModified, headers: headers) }
            let name = file.split(separator: "/").last ?? ""
            let fileExtension = name.contains(".") ? name.split(separator: ".").last.map(String.init) : nil
            headers[.contentType] = fileExtension.flatMap { MediaType.getMediaType(forExtension: $0) }?.description
                ?? "application/octet-stream"
            headers[.contentLength] = "\(range.count)"
            guard request.method == .get else { return Response(status: .ok, headers: headers) }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: try await site.read(range)))
        }
    }
}
