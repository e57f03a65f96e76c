public import AsyncHTTPClient
import Foundation
public import GordonKernel
import NIOCore
import NIOHTTP1
import Synchronization

/// The console's client of one OpenID Connect provider: its discovery document and key set
/// (fetched when first needed, so the console starts while the provider is down), the
/// authorization URL for a login, and the code exchange at its token endpoint, whose ID token
/// `IDTokenVerifier` checks. The decisions are in the plain values it uses; this is the I/O.
public final class IdentityProvider: Sendable {
    public struct Configuration: Sendable {
        /// The provider's issuer, exactly as its discovery document says it (Kanidm:
        /// `https://idm.example.com/oauth2/openid/<client id>`).
        public var issuer: String
        public var clientID: String
        /// From the console's keyfile (`oidc_client_secret`); sent to the token endpoint only.
        public var clientSecret: Secret
        /// This console's callback as the browser reaches it, registered at the provider.
        public var redirectURI: String
        public var viewerGroup: String
        public var operatorGroup: String

        public init(issuer: String, clientID: String, clientSecret: Secret, redirectURI: String,
                    viewerGroup: String, operatorGroup: String) {
            self.issuer = issuer
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.redirectURI = redirectURI
            self.viewerGroup = viewerGroup
            self.operatorGroup = operatorGroup
        }
    }

    public let configuration: Configuration
    private let http: HTTPClient
    private struct Discovered: Sendable {
        var metadata: ProviderMetadata
        var keys: JSONWebKeySet
        var keysFetchedAt: ContinuousClock.Instant
    }
    private let discovered = Mutex<Discovered?>(nil)

    public init(configuration: Configuration, http: HTTPClient = .shared) {
        self.configuration = configuration
        self.http = http
    }

    /// Where to send the browser for `login`.
    public func authorizationURL(for login: PendingLogin) async throws(GordonError) -> String {
        let metadata = try await discover().metadata
        return login.authorizationURL(metadata, clientID: configuration.clientID, redirectURI: configuration.redirectURI)
    }

    /// Exchanges the code the provider sent back for an ID token and verifies it against this
    /// login. A signature by a key the console has not seen makes it fetch the key set again
    /// (the provider rotated), at most once a minute.
    public func exchange(code: String, for login: PendingLogin) async throws(GordonError) -> IDTokenClaims {
        let current = try await discover()
        let form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", configuration.redirectURI),
            ("code_verifier", login.codeVerifier), ("client_id", configuration.clientID),
        ].map { "\($0.0)=\(PendingLogin.formEncoded($0.1))" }.joined(separator: "&")
        // client_secret_basic (RFC 6749 §2.3.1): both parts form-encoded before base64.
        let credentials = configuration.clientSecret.withPlainText {
            Data((PendingLogin.formEncoded(configuration.clientID) + ":" + PendingLogin.formEncoded($0)).utf8).base64EncodedString()
        }
        let reply = try await fetch(current.metadata.tokenEndpoint, method: .POST, body: form,
                                    headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Basic " + credentials)])
        let idToken = try Self.idToken(fromTokenResponse: reply.body, status: reply.status)
        do {
            return try IDTokenVerifier(issuer: configuration.issuer, clientID: configuration.clientID, keys: current.keys)
                .verify(idToken, nonce: login.nonce, now: Date())
        } catch {
            guard ContinuousClock.now - current.keysFetchedAt > .seconds(60) else { throw error }
            let keys = try await fetchKeys(current.metadata)
            discovered.withLock { $0?.keys = keys; $0?.keysFetchedAt = .now }
            return try IDTokenVerifier(issuer: configuration.issuer, clientID: configuration.clientID, keys: keys)
                .verify(idToken, nonce: login.nonce, now: Date())
        }
    }

    /// The role the claims give, or nil for a user in neither group.
    public func role(of claims: IDTokenClaims) -> ConsoleRole? {
        ConsoleRole.of(groups: claims.groups, viewerGroup: configuration.viewerGroup, operatorGroup: configuration.operatorGroup)
    }

    /// The token endpoint's answer (RFC 6749 §5.1, §5.2): its `id_token`, or the provider's
    /// error as a refused login.
    static func idToken(fromTokenResponse body: [UInt8], status: Int) throws(GordonError) -> String {
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        guard status == 200 else {
            let error = (object?["error"] as? String) ?? "HTTP \(status)"
            let description = (object?["error_description"] as? String).map { ": \($0)" } ?? ""
            throw GordonError(.loginRefused, "the provider refused the code exchange (\(error)\(description))")
        }
        guard let token = object?["id_token"] as? String else {
            throw GordonError(.identityProviderInvalid, "the provider's token response has no id_token")
        }
        return token
    }

    private func discover() async throws(GordonError) -> Discovered {
        if let known = discovered.withLock({ $0 }) { return known }
        let url = configuration.issuer.hasSuffix("/") ? configuration.issuer : configuration.issuer + "/"
        let document = try await fetch(url + ".well-known/openid-configuration")
        guard document.status == 200 else {
            throw GordonError(.identityProviderInvalid, "the provider's discovery document answered HTTP \(document.status)")
        }
        let metadata = try ProviderMetadata.decode(Data(document.body), expectedIssuer: configuration.issuer)
        let fetched = Discovered(metadata: metadata, keys: try await fetchKeys(metadata), keysFetchedAt: .now)
        discovered.withLock { $0 = fetched }
        return fetched
    }

    private func fetchKeys(_ metadata: ProviderMetadata) async throws(GordonError) -> JSONWebKeySet {
        let reply = try await fetch(metadata.jwksURI)
        guard reply.status == 200 else { throw GordonError(.identityProviderInvalid, "the provider's key set answered HTTP \(reply.status)") }
        return try JSONWebKeySet(json: Data(reply.body))
    }

    private func fetch(_ url: String, method: HTTPMethod = .GET, body: String? = nil,
                       headers: [(String, String)] = []) async throws(GordonError) -> (status: Int, body: [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        do {
            let response = try await http.execute(request, timeout: .seconds(10))
            let buffer = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), Array(buffer.readableBytesView))
        } catch {
            throw GordonError(.identityProviderInvalid, "the identity provider at \(url) cannot be reached: \(error)")
        }
    }
}
