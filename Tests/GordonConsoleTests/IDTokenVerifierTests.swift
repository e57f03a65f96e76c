import _CryptoExtras
import Crypto
import Foundation
@testable import GordonConsole
import GordonKernel
import Testing

/// The ID token checks, on tokens this test signs with its own provider keys: an RS256 key
/// (oidc-provider-mock and most providers) and an ES256 key (Kanidm's default).
@Suite("ID tokens: only the provider's, for this console, fresh, for this login")
struct IDTokenVerifierTests {
    static let issuer = "https://idm.example.lan/oauth2/openid/gordon-console"
    static let clientID = "gordon-console"
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let ec = P256.Signing.PrivateKey()
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static var keySetJSON: Data {
        let primitives = try! rsa.publicKey.getKeyPrimitives()
        let point = ec.publicKey.x963Representation.dropFirst()
        let keys: [[String: String]] = [
            ["kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
             "n": Base64URL.encode(primitives.modulus), "e": Base64URL.encode(primitives.publicExponent)],
            ["kty": "EC", "kid": "ec-1", "crv": "P-256", "x": Base64URL.encode(point.prefix(32)), "y": Base64URL.encode(point.suffix(32))],
            // An encryption key and an unknown type: left out, not fatal.
            ["kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"],
            ["kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"],
        ]
        return try! JSONSerialization.data(withJSONObject: ["keys": keys])
    }

    static var verifier: IDTokenVerifier {
        IDTokenVerifier(issuer: issuer, clientID: clientID, keys: try! JSONWebKeySet(json: keySetJSON))
    }

    static func claims(_ changes: [String: Any?] = [:]) -> [String: Any] {
        var claims: [String: Any] = [
            "iss": issuer, "aud": clientID, "sub": "00000000-0000-0000-0000-0000000000a1",
            "exp": now.timeIntervalSince1970 + 300, "iat": now.timeIntervalSince1970 - 5, "nonce": "n-0S6_WzA2Mj",
            "preferred_username": "ada", "groups": ["gordon_viewers@idm.example.lan", "gordon_operators@idm.example.lan"],
        ]
        for (key, value) in changes { claims[key] = value }
        return claims
    }

    enum Signer { case rs256(kid: String?), es256(kid: String?), none, hs256(secret: Data) }

    static func token(_ claims: [String: Any], _ signer: Signer = .rs256(kid: "rsa-1")) -> String {
        var header: [String: Any] = ["typ": "JWT"]
        switch signer {
        case .rs256(let kid): header["alg"] = "RS256"; header["kid"] = kid
        case .es256(let kid): header["alg"] = "ES256"; header["kid"] = kid
        case .none: header["alg"] = "none"
        case .hs256: header["alg"] = "HS256"
        }
        func part(_ object: [String: Any]) -> String {
            Base64URL.encode(try! JSONSerialization.data(withJSONObject: object, options: .sortedKeys))
        }
        let input = part(header) + "." + part(claims)
        let digest = SHA256.hash(data: Data(input.utf8))
        let signature: Data
        switch signer {
        case .rs256: signature = try! rsa.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation
        case .es256: signature = try! ec.signature(for: digest).rawRepresentation
        case .none: signature = Data()
        case .hs256(let secret): signature = Data(HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: secret)))
        }
        return input + "." + Base64URL.encode(signature)
    }

    func refusal(_ token: String, nonce: String = "n-0S6_WzA2Mj") -> String? {
        do {
            _ = try Self.verifier.verify(token, nonce: nonce, now: Self.now)
            return nil
        } catch {
            #expect(error.code == .loginRefused)
            return error.message
        }
    }

    @Test("a token signed by the provider's RSA or P-256 key, for this console and this login, names the user and groups")
    func accepts() throws {
        for signer in [Signer.rs256(kid: "rsa-1"), .es256(kid: "ec-1"), .es256(kid: nil)] {
            let claims = try Self.verifier.verify(Self.token(Self.claims(), signer), nonce: "n-0S6_WzA2Mj", now: Self.now)
            #expect(claims.subject == "00000000-0000-0000-0000-0000000000a1")
            #expect(claims.displayName == "ada")
            #expect(claims.groups == ["gordon_viewers@idm.example.lan", "gordon_operators@idm.example.lan"])
        }
        // An audience list with this console as the authorized party.
        let listed = Self.token(Self.claims(["aud": [Self.clientID, "other"], "azp": Self.clientID]))
        #expect(refusal(listed) == nil)
    }

    @Test("tampered claims, a signature by another key, alg none or HS256 keyed with the public key are refused")
    func refusesForgeries() throws {
        let good = Self.token(Self.claims())
        let parts = good.split(separator: ".").map(String.init)
        let forgedClaims = Base64URL.encode(try JSONSerialization.data(withJSONObject: Self.claims(["preferred_username": "mallory"])))
        #expect(refusal(parts[0] + "." + forgedClaims + "." + parts[2])?.contains("signature") == true)

        var flipped = Array(Base64URL.decode(parts[2])!)
        flipped[10] ^= 0x01
        #expect(refusal(parts[0] + "." + parts[1] + "." + Base64URL.encode(flipped))?.contains("signature") == true)

        let otherKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let input = parts[0] + "." + parts[1]
        let foreign = try otherKey.signature(for: SHA256.hash(data: Data(input.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation
        #expect(refusal(input + "." + Base64URL.encode(foreign))?.contains("signature") == true)

        #expect(refusal(Self.token(Self.claims(), .none))?.contains("only RS256 and ES256") == true)
        let publicPEM = Data(Self.rsa.publicKey.pemRepresentation.utf8)
        #expect(refusal(Self.token(Self.claims(), .hs256(secret: publicPEM)))?.contains("only RS256 and ES256") == true)
        // The RSA key's id on an ES256 token: no P-256 key by that id.
        #expect(refusal(Self.token(Self.claims(), .es256(kid: "rsa-1")))?.contains("key id") == true)
        #expect(refusal(Self.token(Self.claims(), .rs256(kid: "unknown")))?.contains("key id") == true)
        #expect(refusal("not-a-token")?.contains("compact form") == true)
        #expect(refusal(good + ".extra")?.contains("compact form") == true)
    }

    @Test("another issuer, another audience, another authorized party, expired, issued in the future, or another nonce is refused")
    func refusesWrongClaims() {
        #expect(refusal(Self.token(Self.claims(["iss": "https://evil.example/"])))?.contains("issued by") == true)
        #expect(refusal(Self.token(Self.claims(["aud": "another-client"])))?.contains("not for this console") == true)
        #expect(refusal(Self.token(Self.claims(["aud": nil])))?.contains("not for this console") == true)
        #expect(refusal(Self.token(Self.claims(["aud": [Self.clientID, "other"]])))?.contains("another client") == true)
        #expect(refusal(Self.token(Self.claims(["azp": "other"])))?.contains("another client") == true)
        let t = Self.now.timeIntervalSince1970
        #expect(refusal(Self.token(Self.claims(["exp": t - 61])))?.contains("expired") == true)
        #expect(refusal(Self.token(Self.claims(["exp": t - 30]))) == nil)  // within the clock skew
        #expect(refusal(Self.token(Self.claims(["exp": nil])))?.contains("no expiry") == true)
        #expect(refusal(Self.token(Self.claims(["iat": t + 600])))?.contains("future") == true)
        #expect(refusal(Self.token(Self.claims()), nonce: "another-login")?.contains("nonce") == true)
        #expect(refusal(Self.token(Self.claims(["nonce": nil])))?.contains("nonce") == true)
        #expect(refusal(Self.token(Self.claims(["sub": ""])))?.contains("subject") == true)
    }

    @Test("a key set without a usable signing key, or a discovery document for another issuer, is refused")
    func refusesBadProviders() throws {
        #expect(throws: GordonError.self) { try JSONWebKeySet(json: Data(#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#.utf8)) }
        #expect(throws: GordonError.self) { try JSONWebKeySet(json: Data("not json".utf8)) }
        let document = Data("""
            {"issuer": "\(Self.issuer)", "authorization_endpoint": "https://idm.example.lan/ui/oauth2",
             "token_endpoint": "https://idm.example.lan/oauth2/token", "jwks_uri": "https://idm.example.lan/oauth2/openid/gordon-console/public_key.jwk"}
            """.utf8)
        let metadata = try ProviderMetadata.decode(document, expectedIssuer: Self.issuer)
        #expect(metadata.tokenEndpoint == "https://idm.example.lan/oauth2/token")
        do {
            _ = try ProviderMetadata.decode(document, expectedIssuer: "https://other.example.lan")
            Issue.record("a discovery document for another issuer was accepted")
        } catch {
            #expect(error.code == .identityProviderInvalid)
        }
        let plain = Data(String(decoding: document, as: UTF8.self).replacingOccurrences(of: "https://idm.example.lan/oauth2/token", with: "http://idm.example.lan/oauth2/token").utf8)
        #expect(throws: GordonError.self) { try ProviderMetadata.decode(plain, expectedIssuer: Self.issuer) }
    }

    @Test("a login's authorization URL carries state, nonce and an S256 code challenge of its verifier (RFC 7636's example)")
    func authorizationRequest() throws {
        // RFC 7636 Appendix B.
        let login = PendingLogin(state: "s", nonce: "n", codeVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                                 returnTo: "/", startedAt: Self.now)
        #expect(login.codeChallenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        let metadata = try ProviderMetadata.decode(Data("""
            {"issuer": "\(Self.issuer)", "authorization_endpoint": "https://idm.example.lan/ui/oauth2?x=1",
             "token_endpoint": "https://idm.example.lan/oauth2/token", "jwks_uri": "https://idm.example.lan/jwk"}
            """.utf8), expectedIssuer: Self.issuer)
        let url = try #require(URLComponents(string: login.authorizationURL(
            metadata, clientID: "gordon console", redirectURI: "http://gordon.lan:3000/auth/callback?a=1&b=2+3")))
        let query = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(query["x"] == "1")
        #expect(query["response_type"] == "code")
        #expect(query["state"] == "s" && query["nonce"] == "n")
        #expect(query["code_challenge"] == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(query["code_challenge_method"] == "S256")
        // Values come back whole: '&', '=', '+' and spaces encoded, not split or turned into spaces.
        #expect(query["redirect_uri"] == "http://gordon.lan:3000/auth/callback?a=1&b=2+3")
        #expect(query["client_id"] == "gordon console")
        #expect(url.percentEncodedQuery?.contains("+") == false)
        #expect(query["scope"]?.split(separator: " ").contains("openid") == true)

        let fresh = PendingLogin.start(returnTo: "/", now: Self.now)
        #expect(fresh.codeVerifier.count == 43 && fresh.state.count == 43 && fresh.nonce.count == 43)
        #expect(Set([fresh.state, fresh.nonce, fresh.codeVerifier]).count == 3)
    }

    @Test("roles from the groups claim: operator over viewer, neither group is no entry")
    func roles() {
        #expect(ConsoleRole.of(groups: ["a", "ops"], viewerGroup: "view", operatorGroup: "ops") == .operator)
        #expect(ConsoleRole.of(groups: ["view"], viewerGroup: "view", operatorGroup: "ops") == .viewer)
        #expect(ConsoleRole.of(groups: ["view", "ops"], viewerGroup: "view", operatorGroup: "ops") == .operator)
        #expect(ConsoleRole.of(groups: ["viewers"], viewerGroup: "view", operatorGroup: "ops") == nil)
        #expect(ConsoleRole.of(groups: [], viewerGroup: "view", operatorGroup: "ops") == nil)
    }
}
