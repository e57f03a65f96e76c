#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
public import GordonKernel

/// One numbered SQL file of `migrations/`, e.g. `0003_trading.sql`.
public struct MigrationFile: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file's bytes, lowercase hex: what `schema_migrations` records.
    public let checksum: String
    let statements: [SQLScript.Statement]

    public var fileName: String { "\(MigrationFile.format(version))_\(name).sql" }

    public init(fileName: String, contents: [UInt8]) throws(GordonError) {
        guard let (version, name) = MigrationFile.parseName(fileName) else {
            throw GordonError(
                .invalidMigrationName, "migration file name must look like 0001_lower_snake_name.sql",
                context: ["file": fileName])
        }
        guard let sql = String(validating: contents, as: UTF8.self) else {
            throw GordonError(.invalidMigrationName, "migration file is not UTF-8", context: ["file": fileName])
        }
        let script: SQLScript
        do {
            script = try SQLScript(sql)
        } catch {
            throw GordonError(
                .invalidMigrationName, "migration has an unterminated \(error.what)",
                context: ["file": fileName, "line": "\(error.line)"])
        }
        if let line = MigrationFile.transactionControlLine(in: script) {
            throw GordonError(
                .forbiddenMigrationStatement,
                "migration controls its own transaction; gordon-migrate wraps each file in one",
                context: ["file": fileName, "line": "\(line)"])
        }
        self.version = version
        self.name = name
        self.sql = sql
        self.statements = script.statements
        self.checksum = Hex.string(bytes: SHA256.hash(data: contents))
    }

    static func format(_ version: Int) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `NNNN_name.sql` with four or more digits, a version above zero and a lower-snake name.
    static func parseName(_ fileName: String) -> (Int, String)? {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        guard digits.count >= 4, digits.allSatisfy(\.isASCIIDigit), let version = Int(digits), version > 0,
              !name.isEmpty, name.first!.isASCIILowercaseLetter,
              name.allSatisfy({ $0.isASCIILowercaseLetter || $0.isASCIIDigit || $0 == "_" })
        else { return nil }
        return (version, String(name))
    }

    /// Transaction control inside a file would end the migrator's transaction early and
    /// leave a failing file half-applied, so such files are refused before anything runs.
    /// So is a `BEGIN ATOMIC` function body, whose inner `;` the statement cut cannot see:
    /// write function bodies dollar-quoted.
    static func transactionControlLine(in script: SQLScript) -> Int? {
        let control: Set<String> = ["BEGIN", "COMMIT", "ROLLBACK", "END", "ABORT", "START", "SAVEPOINT", "RELEASE", "PREPARE"]
        for statement in script.statements {
            let words = statement.leadingWords
            if let first = words.first, control.contains(first) {
                return statement.keywordLine
            }
            if statement.text.uppercased().contains("BEGIN ATOMIC") { return statement.firstLine }
        }
        return nil
    }
}

/// The ordered contents of a migrations directory.
public struct MigrationDirectory: Sendable {
    public let path: String
    public let files: [MigrationFile]

    public var latestVersion: Int { files.last?.version ?? 0 }

    /// Reads every `*.sql` file (other files are ignored), validating names and versions.
    public init(path: String) throws(GordonError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw GordonError(.migrationsDirectoryUnreadable, "migrations directory cannot be read", context: ["path": path])
        }
        var files: [MigrationFile] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            guard let data = FileManager.default.contents(atPath: path + "/" + name) else {
                throw GordonError(.migrationsDirectoryUnreadable, "migration file cannot be read", context: ["file": name])
            }
            files.append(try MigrationFile(fileName: name, contents: Array(data)))
        }
        try self.init(path: path, files: files)
    }

    public init(path: String, files: [MigrationFile]) throws(GordonError) {
        let sorted = files.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw GordonError(
                .duplicateMigrationVersion, "two migration files share version \(MigrationFile.format(next.version))",
                context: ["file": previous.fileName, "other": next.fileName])
        }
        self.path = path
        self.files = sorted
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIILowercaseLetter: Bool { ("a"..."z").contains(self) }
}
