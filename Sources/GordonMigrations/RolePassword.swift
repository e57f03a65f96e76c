import Crypto
public import GordonKernel
import GordonPostgres
public import PostgresNIO

/// Sets a login role's password from a service keyfile (`gordon-migrate set-password`).
///
/// The password is turned into a SCRAM-SHA-256 verifier here, on the client, and only the
/// verifier is sent: the plain text never reaches the server, its statement log or
/// pg_stat_activity.
public enum RolePassword {
    public static func set(
        role: DatabaseRole, password: Secret, on connection: PostgresConnection
    ) async throws(GordonError) {
        try await set(roleName: role.rawValue, password: password, on: connection)
    }

    /// `roleName` must already be checked to be a plain identifier (service roles come from a
    /// closed enum, bot roles from `BotRole.roleName`): it is inlined, double-quoted.
    static func set(roleName: String, password: Secret, on connection: PostgresConnection) async throws(GordonError) {
        guard !password.isEmpty else {
            throw GordonError(.keyfileMalformed, "empty password for role \(roleName)")
        }
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        let verifier = password.withPlainText { scramVerifier(password: $0, salt: salt, iterations: 4096) }
        do {
            // Utility statements take no bind parameters; both pieces are safe to inline:
            // the role name is a checked identifier and the verifier is base64 plus `$:`.
            _ = try await connection.run("ALTER ROLE \"\(unescaped: roleName)\" PASSWORD '\(unescaped: verifier)'")
        } catch {
            throw PostgresFailure.map(error, context: ["role": roleName])
        }
    }

    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` as in RFC 5802/7677 and
    /// Postgres's `pg_authid.rolpassword`.
    static func scramVerifier(password: String, salt: [UInt8], iterations: Int) -> String {
        let salted = pbkdf2SHA256(password: Array(password.utf8), salt: salt, iterations: iterations)
        let saltedKey = SymmetricKey(data: salted)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: saltedKey))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let serverKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: saltedKey))
        return "SCRAM-SHA-256$\(iterations):\(Base64.encode(salt))$\(Base64.encode(storedKey)):\(Base64.encode(serverKey))"
    }

    /// PBKDF2-HMAC-SHA256 with one output block (32 bytes), which is all SCRAM uses.
    static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var block = Array(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = block
        for _ in 1..<iterations {
            block = Array(HMAC<SHA256>.authenticationCode(for: block, using: key))
            for index in result.indices { result[index] ^= block[index] }
        }
        return result
    }
}

/// Standard base64 with padding (RFC 4648 §4).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0..<4 {
                if position <= chunk.count {
                    out.append(alphabet[Int((value >> (18 - 6 * UInt32(position))) & 0x3F)])
                } else {
                    out.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
