import Foundation
import GordonKernel
import Testing

@Suite("Keyfile")
struct KeyfileTests {
    static let sample = """
        # gordon-executor keys

          postgres_password =   pg-s3cret\t
        nats_password=nats=with=equals
        \t# indented comment
        binance_api_key = key-123
        binance_api_secret = secret-456

        """

    // MARK: Parsing

    @Test func parsesEntriesIgnoringCommentsBlanksAndWhitespace() throws {
        let keyfile = try Keyfile(parsing: Self.sample, path: "/etc/gordon/keys/executor.key")
        #expect(keyfile.path == "/etc/gordon/keys/executor.key")
        #expect(keyfile.names == ["binance_api_key", "binance_api_secret", "nats_password", "postgres_password"])
        #expect(try keyfile.secret(Keyfile.postgresPassword).withPlainText { $0 } == "pg-s3cret")
        // Only the first '=' separates; the rest belongs to the value.
        #expect(try keyfile.secret(Keyfile.natsPassword).withPlainText { $0 } == "nats=with=equals")
        #expect(try keyfile.secret(Keyfile.binanceAPISecret).withPlainText { $0 } == "secret-456")
    }

    @Test func emptyTextIsAnEmptyKeyfile() throws {
        #expect(try Keyfile(parsing: "").names.isEmpty)
        #expect(try Keyfile(parsing: "# only a comment\n\n   \n").names.isEmpty)
    }

    @Test func missingEntryNamesTheEntryNotAValue() throws {
        let keyfile = try Keyfile(parsing: "postgres_password = pg-s3cret")
        do {
            _ = try keyfile.secret(Keyfile.binanceAPISecret)
            Issue.record("found an entry that is not there")
        } catch {
            #expect(error.code == .keyfileEntryMissing)
            #expect(error.description.contains("binance_api_secret"))
            #expect(!error.description.contains("pg-s3cret"))
        }
    }

    /// (text, the line the error must name, a secret that must not appear in the error)
    @Test(arguments: [
        ("postgres_password = first-secret\npostgres_password = second-secret\n", "2", "second-secret"),
        ("# comment\njust-a-secret-without-equals\n", "2", "just-a-secret-without-equals"),
        ("nats_password =   \n", "1", "nats_password-has-no-value"),
        ("nats_password = ok-value\n = orphan-secret\n", "2", "orphan-secret"),
        ("bad name = spaced-secret\n", "1", "spaced-secret"),
        ("bad-name = dashed-secret\n", "1", "dashed-secret"),
    ])
    func malformedLinesAreRefusedWithoutTheSecret(text: String, line: String, secret: String) {
        do {
            _ = try Keyfile(parsing: text, path: "/k")
            Issue.record("accepted a malformed keyfile")
        } catch {
            #expect(error.code == .keyfileMalformed)
            #expect(error.context["line"] == line)
            #expect(error.context["path"] == "/k")
            for rendering in [error.description, "\(error)", String(reflecting: error), error.message] {
                #expect(!rendering.contains(secret), "secret leaked: \(rendering)")
            }
            #expect(!error.description.contains("first-secret"))
            #expect(!error.description.contains("ok-value"))
        }
    }

    // MARK: Loading from disk

    /// A fresh file with exactly `mode`, whatever the umask, in its own temporary directory.
    static func withKeyfile<R>(mode: mode_t, contents: String = "postgres_password = disk-secret\n",
                               _ body: (String) throws -> R) throws -> R {
        try withKeyfile(mode: mode, bytes: Array(contents.utf8), body)
    }

    static func withKeyfile<R>(mode: mode_t, bytes: [UInt8], _ body: (String) throws -> R) throws -> R {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-keyfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("service.key").path
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        #expect(descriptor >= 0)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        #expect(written == bytes.count)
        close(descriptor)
        #expect(chmod(path, mode) == 0)
        return try body(path)
    }

    @Test(arguments: [mode_t(0o600), 0o400, 0o700])
    func ownerOnlyModesLoad(mode: mode_t) throws {
        try Self.withKeyfile(mode: mode) { path in
            let keyfile = try Keyfile.load(path: path)
            #expect(keyfile.path == path)
            #expect(try keyfile.secret(Keyfile.postgresPassword).withPlainText { $0 } == "disk-secret")
        }
    }

    @Test(arguments: [mode_t(0o640), 0o644, 0o604, 0o602, 0o620, 0o610, 0o601, 0o666, 0o440])
    func groupOrOtherAccessIsRefused(mode: mode_t) throws {
        try Self.withKeyfile(mode: mode) { path in
            do throws(GordonError) {
                _ = try Keyfile.load(path: path)
                Issue.record("loaded a keyfile with mode \(String(mode, radix: 8))")
            } catch {
                #expect(error.code == .keyfileTooOpen)
                #expect(error.kind == .unauthorized)
                #expect(error.context["mode"] == String(mode, radix: 8))
                #expect(!error.description.contains("disk-secret"))
            }
        }
    }

    @Test func missingFileAndDirectoryAreRefused() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-no-such-\(UUID().uuidString).key").path
        #expect(thrownCode { () throws(GordonError) in try Keyfile.load(path: missing) } == .keyfileMissing)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(chmod(directory.path, 0o700) == 0)
        #expect(thrownCode { () throws(GordonError) in try Keyfile.load(path: directory.path) } == .keyfileMalformed)
    }

    @Test func malformedContentOnDiskIsRefused() throws {
        try Self.withKeyfile(mode: 0o600, contents: "postgres_password disk-secret\n") { path in
            do throws(GordonError) {
                _ = try Keyfile.load(path: path)
                Issue.record("loaded a malformed keyfile")
            } catch {
                #expect(error.code == .keyfileMalformed)
                #expect(error.context["path"] == path)
                #expect(!error.description.contains("disk-secret"))
            }
        }
    }

    @Test func oversizedOrNonUTF8FilesAreRefused() throws {
        try Self.withKeyfile(mode: 0o600, contents: String(repeating: "# padding line\n", count: 5000)) { path in
            #expect(thrownCode { () throws(GordonError) in try Keyfile.load(path: path) } == .keyfileMalformed)
        }
        try Self.withKeyfile(mode: 0o600, bytes: Array("nats_password = ".utf8) + [0xFF, 0xFE, 0x0A]) { path in
            #expect(thrownCode { () throws(GordonError) in try Keyfile.load(path: path) } == .keyfileMalformed)
        }
    }

    @Test func aSymbolicLinkIsRefusedEvenToAGoodFile() throws {
        try Self.withKeyfile(mode: 0o400) { path in
            let link = path + ".link"
            #expect(symlink(path, link) == 0)
            defer { unlink(link) }
            do throws(GordonError) {
                _ = try Keyfile.load(path: link)
                Issue.record("loaded a keyfile through a symbolic link")
            } catch {
                #expect(error.code == .keyfileMalformed)
                #expect(error.message.contains("symbolic link"))
            }
        }
    }

    @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-fifo-\(UUID().uuidString).key").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        #expect(thrownCode { () throws(GordonError) in try Keyfile.load(path: path) } == .keyfileMalformed)
    }

    @Test func anotherUsersFileIsRefusedUnlessTheReaderIsRoot() {
        let file = KeyfilePermissions(mode: UInt32(S_IFREG) | 0o400, owner: 1001)
        #expect(thrownCode { () throws(GordonError) in try file.check(readBy: 1001, path: "k") } == nil)
        #expect(thrownCode { () throws(GordonError) in try file.check(readBy: 1002, path: "k") } == .keyfileWrongOwner)
        // Root reads every slot on the device to set the roles' passwords.
        #expect(thrownCode { () throws(GordonError) in try file.check(readBy: 0, path: "k") } == nil)
        // The mode rule holds for root too.
        let open = KeyfilePermissions(mode: UInt32(S_IFREG) | 0o440, owner: 1001)
        #expect(thrownCode { () throws(GordonError) in try open.check(readBy: 0, path: "k") } == .keyfileTooOpen)
    }

    private func thrownCode<T>(_ body: () throws(GordonError) -> T) -> ErrorCode? {
        do {
            _ = try body()
            return nil
        } catch {
            return error.code
        }
    }
}

@Test("a keyfile with CRLF line endings reads every entry")
func keyfileWithCRLF() throws {
    let keyfile = try Keyfile(parsing: "postgres_password = a\r\nnats_password = b\r\n")
    #expect(keyfile.names == ["nats_password", "postgres_password"])
    #expect(try keyfile.secret("postgres_password").withPlainText { $0 } == "a")
}
