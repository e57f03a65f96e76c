public import GordonKernel
import NIOCore
import PostgresNIO

/// Turns what postgres-nio throws into a `GordonError` an operator can act on. The
/// message is Postgres's own; the context says where (file and line for migrations).
public enum PostgresFailure {
    public static func map(_ error: any Error, url: DatabaseURL? = nil, context extra: [String: String] = [:]) -> GordonError {
        if let gordon = error as? GordonError { return gordon }
        var context = extra
        if let url { context["database"] = url.description }
        guard let psql = error as? PSQLError else {
            return GordonError(.databaseUnreachable, "database connection failed: \(error)", context: context)
        }
        if let server = psql.serverInfo {
            let sqlState = server[.sqlState] ?? "?????"
            let message = server[.message] ?? "unknown server error"
            context["sqlstate"] = sqlState
            if let detail = server[.detail] { context["detail"] = detail }
            if let hint = server[.hint] { context["hint"] = hint }
            if let whereText = server[.locationContext] { context["where"] = whereText }
            switch sqlState {
            case "28P01", "28000":
                return GordonError(.databaseAuthFailed, "database refused the login: \(message)", context: context)
            case "3D000":
                return GordonError(.databaseUnreachable, "database does not exist: \(message)", context: context)
            case "57P01", "57P02", "57P03", "53300":
                return GordonError(.databaseUnreachable, "database is not accepting connections: \(message)", context: context)
            case "55P03", "57014":
                return GordonError(.databaseTimeout, "database statement timed out: \(message)", context: context)
            default:
                return GordonError(.sqlFailed, message, context: context)
            }
        }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            let cause = psql.underlying.map { "\($0)" } ?? "\(psql.code)"
            return GordonError(.databaseUnreachable, "database unreachable: \(cause)", context: context)
        default:
            return GordonError(.databaseUnreachable, "database connection failed: \(psql.code)", context: context)
        }
    }
}
