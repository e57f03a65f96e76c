public import GordonKernel
import GordonLogging
public import Hummingbird
import HTTPTypes
public import Logging
public import NIOCore

/// The request context of every service's HTTP server: Hummingbird's core storage and the
/// request's trace id, which handlers put into the events the request causes.
public struct ServiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// From the request's W3C `traceparent`, or a new trace when it has none (or a bad one).
    public var traceId: TraceId
    /// The connection the request came on (gordon-manager reads its socket's peer credentials).
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        traceId = .random()
        channel = source.channel
    }
}

/// The routes every service serves (DESIGN §3): `/healthz` (the process answers),
/// `/readyz` (its dependencies answer) and `/metrics` (Prometheus text), behind the trace-id,
/// request-log and request-metrics middleware. A service adds its own routes to the router.
public enum ServiceHTTP {
    /// Without `readiness`, a router for a service's second server (gordon-manager's socket):
    /// the middleware, no probes.
    public static func makeRouter(metrics: MetricsRegistry, readiness: Readiness?) -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: TraceMiddleware())
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: RequestMetricsMiddleware(registry: metrics))
        guard let readiness else { return router }
        for path in probePaths {
            router.get(RouterPath(path)) { _, _ in await probeResponse(path: path, metrics: metrics, readiness: readiness)! }
        }
        return router
    }

    public static let probePaths = ["/healthz", "/readyz", "/metrics"]

    /// The answer to one of `probePaths`, or nil for any other path: for servers that route
    /// requests themselves (the simulator answers every other path as Binance would).
    public static func probeResponse(path: String, metrics: MetricsRegistry, readiness: Readiness) async -> Response? {
        switch path {
        case "/healthz":
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        case "/readyz":
            let report = await readiness.evaluate()
            return Response(status: report.isReady ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: render(report))))
        case "/metrics":
            return Response(status: .ok, headers: [.contentType: MetricsRegistry.contentType],
                            body: .init(byteBuffer: ByteBuffer(string: await metrics.render())))
        default:
            return nil
        }
    }

    /// `{"ready":false,"checks":{"database":"ok","nats":"GORDON-NATS-0003 …"}}`
    public static func render(_ report: Readiness.Report) -> String {
        var text = "{\"ready\":\(report.isReady),\"checks\":{"
        for (index, result) in report.results.enumerated() {
            if index > 0 { text += "," }
            JSONStringLiteral.append(result.name, to: &text)
            text += ":"
            JSONStringLiteral.append(result.failure ?? "ok", to: &text)
        }
        return text + "}}\n"
    }

    /// The server on `host:port` (0: a free port); `onListening` gets the bound port.
    public static func application(
        router: Router<ServiceRequestContext>, host: String, port: Int, serverName: String, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}

/// Takes the trace from `traceparent` (W3C Trace Context) into the context and the logger,
/// and answers with the trace it used, so a caller can find the lines its request caused.
struct TraceMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    static let header = HTTPField.Name("traceparent")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let value = request.headers[Self.header], let traceId = try? TraceId(traceparent: value) {
            context.traceId = traceId
        }
        context.logger[metadataKey: JSONLogHandler.traceIdKey] = "\(context.traceId)"
        var response = try await next(request, context)
        response.headers[Self.header] = context.traceId.traceparent(spanId: UInt64.random(in: 1...UInt64.max))
        return response
    }
}

/// `gordon_http_requests_total` and `gordon_http_request_duration_seconds` by method, route
/// (the matched pattern, so ids in paths cannot blow up the label set) and status.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let registry: MetricsRegistry
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
                                      .milliseconds(500), .seconds(2), .seconds(10)]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context: context, status: response.status.code, since: started)
            return response
        } catch {
            record(request, context: context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: started)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: Int, since started: ContinuousClock.Instant) {
        let labels = [("method", request.method.rawValue), ("route", context.endpointPath ?? "unmatched"), ("status", "\(status)")]
        registry.prometheus.makeCounter(
            descriptor: MetricsRegistry.descriptor("gordon_http_requests_total", "HTTP requests answered"), labels: labels
        ).increment()
        registry.prometheus.makeDurationHistogram(
            descriptor: MetricsRegistry.descriptor("gordon_http_request_duration_seconds", "Time from request to response"),
            labels: labels, buckets: Self.buckets
        ).recordNanoseconds((ContinuousClock.now - started).nanoseconds)
    }
}

/// One line per request: method, path, status and duration. Probes and scrapes, which
/// arrive every few seconds, log at debug.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    static let quietPaths = Set(ServiceHTTP.probePaths)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let level: Logger.Level = Self.quietPaths.contains(request.uri.path) ? .debug : .info
        do {
            let response = try await next(request, context)
            log(request, status: response.status.code, since: started, level: level, logger: context.logger)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log(request, status: status, since: started, level: status >= 500 ? .error : level, logger: context.logger)
            throw error
        }
    }

    private func log(_ request: Request, status: Int, since started: ContinuousClock.Instant, level: Logger.Level, logger: Logger) {
        logger.log(level: level, "request", metadata: [
            "method": "\(request.method.rawValue)", "path": "\(request.uri.path)",
            "status": "\(status)", "duration_us": "\((ContinuousClock.now - started).nanoseconds / 1000)",
        ])
    }
}
