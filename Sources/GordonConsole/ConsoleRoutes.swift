import Foundation
import GordonKernel
public import GordonPlatform
public import Hummingbird
import HTTPTypes
public import Logging
import NIOCore

/// The console's own pages behind an OpenID Connect login: the login's three steps, the
/// overview, and the actions an operator confirms on a page of their own. Every form carries
/// the session's CSRF token; a request without it, or from a viewer, changes nothing.
public struct ConsoleRoutes: Sendable {
    public struct Configuration: Sendable {
        public var identityProvider: IdentityProvider
        public var manager: ManagerClient
        /// The origin browsers reach the console at (scheme, host, port); a form posted from
        /// any other is refused. Its scheme decides whether cookies are `Secure`.
        public var publicOrigin: String

        public init(identityProvider: IdentityProvider, manager: ManagerClient, publicOrigin: String) {
            self.identityProvider = identityProvider
            self.manager = manager
            self.publicOrigin = publicOrigin
        }

        var secureCookies: Bool { publicOrigin.hasPrefix("https://") }
    }

    /// The console's keyfile entries.
    public static let clientSecretName = "oidc_client_secret"
    public static let managerTokenName = "console_token"
    /// Where the provider sends the browser back; register `<public URL>/auth/callback`.
    public static let callbackPath = "/auth/callback"

    /// `scheme://host[:port]` of an http(s) URL without a path, or nil.
    public static func origin(of url: String) -> String? {
        var text = url
        while text.hasSuffix("/") { text.removeLast() }
        guard let components = URLComponents(string: text), let scheme = components.scheme, scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty, components.path.isEmpty, components.query == nil, components.user == nil
        else { return nil }
        return text
    }

    static let csrfFieldName = "csrf"
    /// Forms are short; anything longer is refused before it is read.
    static let maximumFormBytes = 16 << 10

    let configuration: Configuration
    let sessions: SessionStore
    let logger: Logger

    public init(configuration: Configuration, sessions: SessionStore, logger: Logger) {
        self.configuration = configuration
        self.sessions = sessions
        self.logger = logger
    }

    var sessionCookie: String { configuration.secureCookies ? "__Host-gordon_session" : "gordon_session" }
    var loginCookie: String { configuration.secureCookies ? "__Host-gordon_login" : "gordon_login" }

    public func addRoutes(to router: Router<ServiceRequestContext>) {
        router.get("/") { request, _ in
            guard let (_, session) = currentSession(request) else { return page(.ok, Self.landingPage()) }
            do throws(ManagerClient.Failure) {
                let status = try await configuration.manager.get("status", as: session.user)
                return page(.ok, OverviewPage.render(status: status, session: session))
            } catch {
                return page(.badGateway, HTML.page(title: "Overview", session: session, body: Self.notice(error.message)))
            }
        }
        router.get(RouterPath(ConsoleAssets.stylesheetPath)) { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(string: ConsoleAssets.stylesheet)))
        }
        router.get("/auth/login") { _, context in try await startLogin(context) }
        router.get(RouterPath(Self.callbackPath)) { request, _ in try await finishLogin(request) }
        router.post("/auth/logout") { request, _ in
            let (id, session, _) = try await authorisedForm(request, needs: .viewer)
            sessions.close(id: id)
            logger.notice("console logout", metadata: ["user": "\(session.user)"])
            var response = Response.redirect(to: "/", type: .normal)
            response.headers[values: HTTPField.Name.setCookie] = [expiredCookie(sessionCookie, path: "/")]
            return response
        }
        router.get("/actions/:verb") { request, context in
            try confirmation(ConsoleAction.system(context.parameters.get("verb") ?? ""), request)
        }
        router.post("/actions/:verb") { request, context in
            try await act(ConsoleAction.system(context.parameters.get("verb") ?? ""), request)
        }
        router.get("/bots/:bot/actions/:verb") { request, context in
            try confirmation(ConsoleAction.bot(context.parameters.get("bot") ?? "", context.parameters.get("verb") ?? ""), request)
        }
        router.post("/bots/:bot/actions/:verb") { request, context in
            try await act(ConsoleAction.bot(context.parameters.get("bot") ?? "", context.parameters.get("verb") ?? ""), request)
        }
        router.get(RouterPath(ConsoleAssets.scriptPath)) { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(string: ConsoleAssets.script)))
        }
        // Live updates: a page's main section alone; 401 once the session is over.
        router.get("/live/overview") { request, _ in
            guard let (_, session) = currentSession(request) else { throw HTTPError(.unauthorized) }
            do throws(ManagerClient.Failure) {
                return page(.ok, OverviewPage.body(status: try await configuration.manager.get("status", as: session.user), session: session))
            } catch {
                return page(.badGateway, Self.notice(error.message))
            }
        }
        for consolePage in ConsolePage.allCases {
            router.get(RouterPath("/live" + consolePage.path)) { request, _ in
                guard let (_, session) = currentSession(request) else { throw HTTPError(.unauthorized) }
                do throws(ManagerClient.Failure) {
                    return page(.ok, try await consolePage.body(Self.query(request), session: session, manager: configuration.manager))
                } catch {
                    return page(error.status == 400 ? .badRequest : .badGateway, Self.notice(error.message))
                }
            }
            router.get(RouterPath(consolePage.path)) { request, _ in
                guard let (_, session) = currentSession(request) else { return Response.redirect(to: "/", type: .found) }
                let query = Self.query(request)
                do throws(ManagerClient.Failure) {
                    let body = try await consolePage.body(query, session: session, manager: configuration.manager)
                    return page(.ok, HTML.page(title: consolePage.title, session: session, body: body, live: consolePage.liveURL(query)))
                } catch {
                    return page(error.status == 400 ? .badRequest : .badGateway,
                                HTML.page(title: consolePage.title, session: session, body: Self.notice(error.message)))
                }
            }
        }
        addBacktestRoutes(to: router)
    }

    // MARK: Backtests

    private func addBacktestRoutes(to router: Router<ServiceRequestContext>) {
        router.get("/backtests/new") { request, _ in
            guard let (_, session) = currentSession(request) else { return Response.redirect(to: "/", type: .found) }
            guard session.role == .operator else { return forbidden(session, "Your role (\(session.role.rawValue)) may look but not act.") }
            return page(.ok, HTML.page(title: "New backtest", session: session,
                                       body: BacktestPages.form(strategy: Self.query(request)["strategy"], session: session)))
        }
        router.post("/backtests") { request, _ in
            let (_, session, form) = try await authorisedForm(request, needs: .operator)
            let problem: String
            switch BacktestPages.request(from: form) {
            case .failure(let error):
                problem = error.message
            case .success(let body):
                do throws(ManagerClient.Failure) {
                    let run = try await configuration.manager.post("backtests", json: body, as: session.user) as? [String: Any]
                    let id = run?["run_id"] as? String ?? ""
                    logger.notice("console backtest", metadata: ["user": "\(session.user)", "run": "\(id)"])
                    return Response.redirect(to: UUID(uuidString: id) == nil ? "/backtests" : "/backtests/\(id)", type: .normal)
                } catch {
                    problem = "gordon-manager refused: \(error.message)"
                }
            }
            return page(.badRequest, HTML.page(title: "New backtest", session: session,
                                               body: BacktestPages.form(strategy: form["strategy"], session: session, problem: problem, values: form)))
        }
        router.get("/backtests/compare") { request, _ in
            guard let (_, session) = currentSession(request) else { return Response.redirect(to: "/", type: .found) }
            let ids = request.uri.queryParameters.getAll("run")
            guard ids.count == 2, ids.allSatisfy({ UUID(uuidString: $0) != nil }) else {
                return page(.badRequest, HTML.page(title: "Compare backtests", session: session, body: Self.notice("Choose exactly two runs to compare.")))
            }
            do throws(ManagerClient.Failure) {
                var runs: [([String: Any], [[String: Any]])] = []
                for id in ids {
                    runs.append((try await configuration.manager.get("backtests/\(id)", as: session.user) as? [String: Any] ?? [:],
                                 try await configuration.manager.get("backtests/\(id)/equity", as: session.user) as? [[String: Any]] ?? []))
                }
                return page(.ok, HTML.page(title: "Compare backtests", session: session, body: BacktestPages.compare(runs)))
            } catch {
                return page(.badGateway, HTML.page(title: "Compare backtests", session: session, body: Self.notice(error.message)))
            }
        }
        for live in [false, true] {
            router.get(RouterPath((live ? "/live" : "") + "/backtests/:run")) { request, context in
                guard let (_, session) = currentSession(request) else {
                    if live { throw HTTPError(.unauthorized) }
                    return Response.redirect(to: "/", type: .found)
                }
                guard let id = UUID(uuidString: context.parameters.get("run") ?? "") else { throw HTTPError(.notFound) }
                let path = "backtests/\(id.uuidString.lowercased())"
                do throws(ManagerClient.Failure) {
                    let run = try await configuration.manager.get(path, as: session.user) as? [String: Any] ?? [:]
                    let equity = try await configuration.manager.get(path + "/equity", as: session.user) as? [[String: Any]] ?? []
                    let body = BacktestPages.run(run, equity: equity, session: session)
                    let finished = ["succeeded", "failed", "cancelled"].contains(run["status"] as? String ?? "")
                    return page(.ok, live ? body : HTML.page(title: "Backtest", session: session, body: body,
                                                             live: finished ? nil : "/live/" + path))
                } catch {
                    return page(error.status == 404 ? .notFound : .badGateway,
                                live ? Self.notice(error.message) : HTML.page(title: "Backtest", session: session, body: Self.notice(error.message)))
                }
            }
        }
    }

    // MARK: Actions

    /// The page that asks an operator to confirm `action` and say why.
    private func confirmation(_ action: ConsoleAction?, _ request: Request) throws -> Response {
        guard let action else { throw HTTPError(.notFound) }
        guard let (_, session) = currentSession(request) else { return Response.redirect(to: "/", type: .found) }
        guard session.role == .operator else { return forbidden(session, "Your role (\(session.role.rawValue)) may look but not act.") }
        return page(.ok, Self.confirmationPage(action, session: session))
    }

    /// A confirmed action: sent to the manager in the user's name, then back to where it was
    /// asked for.
    private func act(_ action: ConsoleAction?, _ request: Request) async throws -> Response {
        guard let action else { throw HTTPError(.notFound) }
        let (_, session, form) = try await authorisedForm(request, needs: .operator)
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            return page(.badRequest, Self.confirmationPage(action, session: session, problem: "Say why: the reason goes into the audit log."))
        }
        do throws(ManagerClient.Failure) {
            _ = try await configuration.manager.post(action.managerPath, reason: reason, as: session.user)
            logger.notice("console action", metadata: ["action": "\(action.managerPath)", "user": "\(session.user)", "reason": "\(reason)"])
            return Response.redirect(to: action.returnPath, type: .normal)
        } catch {
            logger.warning("console action failed", metadata: [
                "action": "\(action.managerPath)", "user": "\(session.user)", "status": "\(error.status)", "error": "\(error.message)",
            ])
            return page(HTTPResponse.Status(code: error.status == 502 ? 502 : 409),
                        Self.confirmationPage(action, session: session, problem: "gordon-manager refused: \(error.message)"))
        }
    }

    // MARK: Login

    private func startLogin(_ context: ServiceRequestContext) async throws -> Response {
        let login = PendingLogin.start(returnTo: "/", now: Date())
        let client = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard sessions.begin(login, client: client) == .started else {
            logger.warning("console login refused: too many", metadata: ["client": "\(client)"])
            return page(.tooManyRequests, HTML.page(title: "Log in", session: nil, body: Self.notice("Too many logins from here; wait a minute.")))
        }
        let url: String
        do throws(GordonError) {
            url = try await configuration.identityProvider.authorizationURL(for: login)
        } catch {
            logger.error("console login: the identity provider is unusable", metadata: ["error": "\(error.message)", "code": "\(error.code)"])
            return page(.serviceUnavailable, HTML.page(title: "Log in", session: nil, body: Self.notice("The identity provider cannot be used: \(error.message)")))
        }
        var response = Response.redirect(to: url, type: .found)
        // Ties the provider's answer to this browser: the callback's state must match it.
        response.headers[values: HTTPField.Name.setCookie] = [cookie(loginCookie, login.state, path: "/", maxAge: 600)]
        return response
    }

    private func finishLogin(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let state = query.get("state") ?? ""
        let browserState = request.cookies[loginCookie]?.value ?? ""
        guard !state.isEmpty, IDTokenVerifier.constantTimeEqual(state, browserState), let login = sessions.finish(state: state) else {
            logger.warning("console login refused: unknown or expired state")
            return refusedLogin("This login is unknown, expired or was started in another browser. Start again.")
        }
        if let error = query.get("error") {
            logger.warning("console login refused by the provider", metadata: ["error": "\(error)"])
            return refusedLogin("The identity provider refused the login (\(error)).")
        }
        guard let code = query.get("code"), !code.isEmpty else { return refusedLogin("The identity provider sent no code.") }
        let claims: IDTokenClaims
        do throws(GordonError) {
            claims = try await configuration.identityProvider.exchange(code: code, for: login)
        } catch {
            logger.warning("console login refused", metadata: ["reason": "\(error.message)", "code": "\(error.code)"])
            return refusedLogin(error.code == .loginRefused ? "The login could not be verified." : "The identity provider cannot be used: \(error.message)")
        }
        guard let role = configuration.identityProvider.role(of: claims) else {
            logger.warning("console login refused: in neither group", metadata: ["subject": "\(claims.subject)"])
            return refusedLogin("You are in neither the viewer nor the operator group.")
        }
        guard let user = Self.operatorName(claims) else {
            return refusedLogin("Your username, e-mail and subject are all unusable as a name in the audit log (1-56 of a-z, A-Z, 0-9, . _ - @).")
        }
        let (id, _) = sessions.open(subject: claims.subject, user: user, role: role)
        logger.notice("console login", metadata: ["user": "\(user)", "role": "\(role.rawValue)", "subject": "\(claims.subject)"])
        var response = Response.redirect(to: login.returnTo, type: .normal)
        response.headers[values: HTTPField.Name.setCookie] = [cookie(sessionCookie, id, path: "/", maxAge: nil), expiredCookie(loginCookie, path: "/")]
        return response
    }

    /// The name the manager records: the first of the username, the e-mail and the subject
    /// that the manager accepts.
    static func operatorName(_ claims: IDTokenClaims) -> String? {
        [claims.displayName, claims.email, claims.subject].compactMap { $0 }.first { name in
            (1...56).contains(name.utf8.count) && name.unicodeScalars.allSatisfy {
                ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || ".-_@".unicodeScalars.contains($0)
            }
        }
    }

    // MARK: Sessions and forms

    func currentSession(_ request: Request) -> (id: String, session: ConsoleSession)? {
        guard let id = request.cookies[sessionCookie]?.value, !id.isEmpty, let session = sessions.session(id: id) else { return nil }
        return (id, session)
    }

    /// The posted form of a signed-in user with at least `role`, from this console's own pages
    /// (its origin and the session's CSRF token); anything else is refused with 403 before
    /// the form is acted on.
    func authorisedForm(_ request: Request, needs role: ConsoleRole) async throws -> (String, ConsoleSession, [String: String]) {
        guard let (id, session) = currentSession(request) else {
            throw HTTPError(.forbidden, message: "not signed in")
        }
        // Behind the CSRF token, the browser's own word on where the form came from. Under
        // `Referrer-Policy: no-referrer` a browser sends `Origin: null` even for this console's
        // own forms, so `Sec-Fetch-Site` is the one that tells; older browsers send neither.
        let origin = request.headers[.origin]
        let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!]
        if (origin != nil && origin != "null" && origin != configuration.publicOrigin) || (site != nil && site != "same-origin") {
            logger.warning("console form refused: foreign origin", metadata: [
                "user": "\(session.user)", "origin": "\(origin ?? "-")", "fetch_site": "\(site ?? "-")",
            ])
            throw HTTPError(.forbidden, message: "this form did not come from the console")
        }
        let body = try await request.body.collect(upTo: Self.maximumFormBytes)
        let form = Self.parseForm(String(buffer: body))
        guard let token = form[Self.csrfFieldName], IDTokenVerifier.constantTimeEqual(token, session.csrfToken) else {
            logger.warning("console form refused: CSRF token missing or wrong", metadata: ["user": "\(session.user)", "path": "\(request.uri.path)"])
            throw HTTPError(.forbidden, message: "the form's CSRF token is missing or wrong; nothing was changed")
        }
        guard session.role >= role else {
            logger.warning("console action refused: role", metadata: ["user": "\(session.user)", "role": "\(session.role.rawValue)", "path": "\(request.uri.path)"])
            throw HTTPError(.forbidden, message: "your role (\(session.role.rawValue)) may not do this; nothing was changed")
        }
        return (id, session, form)
    }

    /// The query's parameters, a later one of the same name winning.
    static func query(_ request: Request) -> [String: String] {
        Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { $1 })
    }

    /// application/x-www-form-urlencoded: '+' is a space, the rest percent-decoded; a later
    /// field of the same name wins.
    static func parseForm(_ body: String) -> [String: String] {
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { continue }
            form[name] = value
        }
        return form
    }

    func cookie(_ name: String, _ value: String, path: String, maxAge: Int?) -> String {
        var text = "\(name)=\(value); Path=\(path); HttpOnly; SameSite=Lax"
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        if configuration.secureCookies { text += "; Secure" }
        return text
    }

    func expiredCookie(_ name: String, path: String) -> String { cookie(name, "", path: path, maxAge: 0) }

    // MARK: Pages

    func page(_ status: HTTPResponse.Status, _ html: String) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func forbidden(_ session: ConsoleSession, _ message: String) -> Response {
        page(.forbidden, HTML.page(title: "Not allowed", session: session, body: Self.notice(message)))
    }

    func refusedLogin(_ message: String) -> Response {
        var response = page(.forbidden, HTML.page(title: "Log in", session: nil,
                                                  body: Self.notice(message) + "<p><a href=\"/auth/login\">Log in again</a></p>"))
        response.headers[values: HTTPField.Name.setCookie] = [expiredCookie(loginCookie, path: "/")]
        return response
    }

    static func notice(_ message: String) -> String { "<p class=\"notice\" role=\"alert\">\(HTML.escape(message))</p>" }

    static func landingPage() -> String {
        HTML.page(title: "Log in", session: nil, body: """
            <h1>Gordon</h1><p>Sign in with your organisation's account to see the system and act on it.</p>
            <p><a class="button" id="login" href="/auth/login">Log in</a></p>
            <p class="muted">The <a href="/docs/documentation/gordon/">documentation</a> needs no login.</p>
            """)
    }

    static func confirmationPage(_ action: ConsoleAction, session: ConsoleSession, problem: String? = nil) -> String {
        HTML.page(title: action.title, session: session, body: """
            <h1>\(HTML.escape(action.title))?</h1>\(problem.map(notice) ?? "")
            <p>\(HTML.escape(action.consequence))</p>
            <form class="action" method="post" action="\(action.formPath)">\(HTML.csrfField(session))
            <input type="text" name="reason" id="reason" maxlength="256" required placeholder="Why (for the audit log)">
            <button type="submit" class="danger" id="confirm">Confirm: \(HTML.escape(action.title.lowercased()))</button>
            <a href="\(action.returnPath)">Cancel</a></form>
            """)
    }
}
