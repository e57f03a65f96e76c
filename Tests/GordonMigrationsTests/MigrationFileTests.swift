@testable import GordonMigrations
import GordonPostgres
import GordonKernel
import Testing

@Suite("Migration files, statement cutting and plans (no server)")
struct MigrationFileTests {
    static func file(_ name: String, _ sql: String) throws -> MigrationFile {
        try MigrationFile(fileName: name, contents: Array(sql.utf8))
    }

    @Test("file names: NNNN_lower_snake.sql, version above zero", arguments: [
        ("0001_init.sql", 1, "init"), ("0042_add_x_2.sql", 42, "add_x_2"), ("12345_big.sql", 12345, "big"),
    ])
    func validNames(name: String, version: Int, stem: String) throws {
        let file = try Self.file(name, "SELECT 1;")
        #expect(file.version == version)
        #expect(file.name == stem)
    }

    @Test("bad file names are refused with the name in the error", arguments: [
        "1_short.sql", "0000_zero.sql", "0001-dash.sql", "0001_Upper.sql", "0001_.sql", "0001_x.SQL", "abcd_x.sql",
        "0001_x y.sql", "0001_1x.sql",
    ])
    func invalidNames(name: String) {
        #expect {
            try Self.file(name, "SELECT 1;")
        } throws: { error in
            let error = error as? GordonError
            return error?.code == .invalidMigrationName && error?.context["file"] == name
        }
    }

    @Test("the checksum is the SHA-256 of the file's bytes")
    func checksum() throws {
        let file = try Self.file("0001_x.sql", "")
        #expect(file.checksum == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try Self.file("0001_x.sql", "SELECT 1;").checksum != file.checksum)
    }

    @Test("statements are cut at semicolons outside strings, identifiers, comments and dollar quotes")
    func cutting() throws {
        let sql = """
            -- a comment; with a semicolon
            CREATE TABLE t (a text DEFAULT 'x;y', "b;c" int);
            /* block; /* nested; */ still comment; */
            INSERT INTO t VALUES (E'it\\'s;', 1);
            DO $$ BEGIN PERFORM 1; END $$;
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;
            SELECT $1::int
            """
        let script = try SQLScript(sql)
        #expect(script.statements.count == 5)
        #expect(script.statements.map(\.leadingWords.first) == ["CREATE", "INSERT", "DO", "CREATE", "SELECT"])
        #expect(script.statements.map(\.keywordLine) == [2, 4, 5, 6, 7])
    }

    @Test("a trailing comment is not a statement, and an unterminated quote names its line")
    func blankAndUnterminated() throws {
        #expect(try SQLScript("SELECT 1;\n-- done\n").statements.count == 1)
        #expect(throws: SQLScript.Unterminated(what: "string literal", line: 2)) { try SQLScript("SELECT 1;\nSELECT 'x;\n") }
        #expect(throws: SQLScript.Unterminated(what: "dollar-quoted body", line: 1)) { try SQLScript("DO $$ BEGIN") }
        #expect {
            try Self.file("0001_x.sql", "SELECT 1;\n/* open")
        } throws: { ($0 as? GordonError)?.context["line"] == "2" }
    }

    @Test("positions Postgres reports map back to file lines")
    func positions() throws {
        let script = try SQLScript("SELECT 1;\n\nSELECT\n  nope;\n")
        let second = try #require(script.statements.last)
        // "\n\nSELECT\n  nope" — "nope" is at character 13 of the statement text.
        #expect(second.fileLine(ofPosition: 13) == 4)
    }

    @Test("transaction control in a file is refused with its line; BEGIN inside bodies and CASE … END are fine")
    func transactionControl() throws {
        for (sql, line) in [("SELECT 1;\nBEGIN;\nSELECT 2;", 2), ("COMMIT;", 1), ("select 1;\n  rollback ;", 2),
                            ("SELECT 1;\n/* c */ END;", 2), ("START TRANSACTION;", 1), ("SAVEPOINT a;", 1)] {
            #expect {
                try Self.file("0001_x.sql", sql)
            } throws: { error in
                let error = error as? GordonError
                return error?.code == .forbiddenMigrationStatement && error?.context["line"] == String(line)
            }
        }
        _ = try Self.file("0001_x.sql", "DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\nSELECT CASE WHEN true THEN 1\nEND AS x;")
    }

    @Test("two files with one version are refused, naming both")
    func duplicateVersions() throws {
        let a = try Self.file("0001_a.sql", "SELECT 1;")
        let b = try Self.file("0001_b.sql", "SELECT 2;")
        #expect {
            try MigrationDirectory(path: "x", files: [a, b])
        } throws: { error in
            let error = error as? GordonError
            return error?.code == .duplicateMigrationVersion && error?.context["file"] == "0001_a.sql" && error?.context["other"] == "0001_b.sql"
        }
    }

    @Test("a plan lists pending files in order and refuses edited or unknown applied files")
    func plans() throws {
        let one = try Self.file("0001_a.sql", "SELECT 1;")
        let two = try Self.file("0002_b.sql", "SELECT 2;")
        let three = try Self.file("0003_c.sql", "SELECT 3;")
        let applied = [AppliedMigration(version: 1, name: "a", checksum: one.checksum, appliedAtMilliseconds: 0)]
        let plan = try MigrationPlan(files: [three, one, two], applied: applied)
        #expect(plan.pending.map(\.version) == [2, 3])

        let edited = [AppliedMigration(version: 1, name: "a", checksum: two.checksum, appliedAtMilliseconds: 0)]
        #expect {
            try MigrationPlan(files: [one, two], applied: edited)
        } throws: { error in
            let error = error as? GordonError
            return error?.code == .migrationChecksumMismatch && error?.context["file"] == "0001_a.sql"
        }
        let ahead = applied + [AppliedMigration(version: 9, name: "future", checksum: one.checksum, appliedAtMilliseconds: 0)]
        #expect {
            try MigrationPlan(files: [one], applied: ahead)
        } throws: { ($0 as? GordonError)?.code == .schemaUnknownMigration }
        // A release rolled back: the database is ahead of its files, and nothing is pending.
        #expect(try MigrationPlan(files: [one], applied: ahead, databaseMayBeAhead: true).pending.isEmpty)
        // A gap below the newest file is still refused, and so is an edited file.
        let gap = applied + [AppliedMigration(version: 2, name: "gone", checksum: two.checksum, appliedAtMilliseconds: 0)]
        #expect {
            try MigrationPlan(files: [one, three], applied: gap, databaseMayBeAhead: true)
        } throws: { ($0 as? GordonError)?.code == .schemaUnknownMigration }
        #expect {
            try MigrationPlan(files: [one], applied: edited + [ahead[1]], databaseMayBeAhead: true)
        } throws: { ($0 as? GordonError)?.code == .migrationChecksumMismatch }
    }

    @Test("the repository's migrations load, and SchemaCheck.requiredVersion is the newest one")
    func repositoryMigrations() throws {
        let directory = try MigrationDirectory(path: GordonTestPaths.migrations)
        #expect(directory.files.map(\.version) == Array(1...directory.files.count))
        #expect(SchemaCheck.requiredVersion == directory.latestVersion)
    }
}

@Suite("Database URLs (no server)")
struct DatabaseURLTests {
    @Test("TCP and socket forms parse, with defaults")
    func valid() throws {
        let url = try DatabaseURL(parsing: "postgres://gordon_bot:s%40cret@127.0.0.1:6543/gordon?sslmode=disable")
        #expect(url.endpoint == .tcp(host: "127.0.0.1", port: 6543))
        #expect(url.username == "gordon_bot")
        #expect(url.password?.withPlainText { $0 } == "s@cret")
        #expect(url.database == "gordon")
        #expect(try DatabaseURL(parsing: "postgresql://u@localhost/db").endpoint == .tcp(host: "localhost", port: 5432))
        #expect(try DatabaseURL(parsing: "postgres://u@[::1]:5433/db").endpoint == .tcp(host: "::1", port: 5433))
        #expect(try DatabaseURL(parsing: "postgres://u@/db?host=/run/postgresql").endpoint
            == .unixSocket(path: "/run/postgresql/.s.PGSQL.5432"))
    }

    @Test("the password never appears in the description or in errors")
    func redaction() throws {
        let url = try DatabaseURL(parsing: "postgres://u:hunter2@h:1/db")
        #expect(!url.description.contains("hunter2"))
        #expect(!"\(url)".contains("hunter2"))
        do {
            _ = try DatabaseURL(parsing: "postgres://u:hunter2@h:notaport/db")
            Issue.record("bad port accepted")
        } catch {
            #expect(!error.description.contains("hunter2"))
            #expect(error.code == .invalidDatabaseURL)
        }
    }

    @Test("malformed URLs are refused with a reason", arguments: [
        "mysql://u@h/db", "postgres://h/db", "postgres://u@h", "postgres://u@h/", "postgres://u@h:0/db",
        "postgres://u@h:99999/db", "postgres://u@h/db?sslmode=require", "postgres://u@h/db?foo=bar",
        "postgres://u@:5432/db", "postgres://u@h/db/x", "postgres://u%zz@h/db",
    ])
    func invalid(text: String) {
        #expect(throws: GordonError.self) { try DatabaseURL(parsing: text) }
    }
}

@Suite("Role passwords (no server)")
struct RolePasswordTests {
    @Test("base64 matches RFC 4648's vectors")
    func base64() {
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
        }
    }

    @Test("PBKDF2-HMAC-SHA256 matches RFC 7914's vectors")
    func pbkdf2() {
        #expect(Hex.string(bytes: RolePassword.pbkdf2SHA256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1))
            == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
        #expect(Hex.string(bytes: RolePassword.pbkdf2SHA256(password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80000))
            == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56")
    }

    @Test("the verifier has Postgres's shape and does not contain the password")
    func verifierShape() {
        let verifier = RolePassword.scramVerifier(password: "pencil", salt: Array(repeating: 7, count: 16), iterations: 4096)
        #expect(verifier.hasPrefix("SCRAM-SHA-256$4096:BwcHBwcHBwcHBwcHBwcHBw==$"))
        #expect(!verifier.contains("pencil"))
        #expect(verifier.split(separator: "$").count == 3)
    }
}
