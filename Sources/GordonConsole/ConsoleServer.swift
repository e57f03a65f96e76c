import Foundation
public import GordonPlatform
public import Hummingbird
import HTTPTypes
public import Logging

/// gordon-console's HTTP server, the one operator-facing port (3000): the documentation site
/// under `/docs`, `/healthz`, `/readyz` and `/metrics`, every answer with the browser's
/// security headers. It holds no database role, no NATS user and no key.
public enum ConsoleServer {
    public static let defaultPort = 3000

    public static func makeRouter(documentation: DocumentationSite, metrics: MetricsRegistry,
                                  readiness: Readiness, logger: Logger) -> Router<ServiceRequestContext> {
        readiness.add("documentation") {
            // The release's tree is mounted read-only; a missing index means the site is gone.
            _ = try DocumentationSite(directory: documentation.directory)
        }
        let router = ServiceHTTP.makeRouter(metrics: metrics, readiness: readiness)
        router.add(middleware: SecurityHeadersMiddleware(policy: contentSecurityPolicy(for: documentation)))
        router.add(middleware: DirectorySlashMiddleware(site: documentation))
        // The browser keeps a page but asks whether it changed (ETag) each time: a deploy
        // changes the site under it.
        router.add(middleware: FileMiddleware(
            documentation.directory, urlBasePath: DocumentationSite.basePath,
            cacheControl: .init([(MediaType(type: .any), [.noCache])]),
            searchForIndexHtml: true, logger: logger))
        // (The router treats "/docs" and "/docs/" as one path.)
        for path in ["/", DocumentationSite.basePath] {
            for method in [HTTPRequest.Method.get, .head] {
                router.on(RouterPath(path), method: method) { _, _ in Response.redirect(to: DocumentationSite.landingPage, type: .found) }
            }
        }
        return router
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

/// DocC links to a page's directory without the trailing slash; its index.html's relative
/// URLs need one. FileMiddleware's own redirect drops the base path (`/docs`), so this one
/// answers first, for directories of the site only.
struct DirectorySlashMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let site: DocumentationSite

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let prefix = DocumentationSite.basePath + "/"
        guard request.method == .get || request.method == .head, path.hasPrefix(prefix), !path.hasSuffix("/"),
              let decoded = path.removingPercentEncoding, !decoded.contains(".."),
              site.isDirectory(String(decoded.dropFirst(prefix.count)))
        else { return try await next(request, context) }
        let query = request.uri.query.map { "?" + $0 } ?? ""
        return .redirect(to: path + "/" + query, type: .permanent)
    }
}
