import Foundation
import GordonKernel
import GordonTestDB
import GordonWatchdog
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The backup host as the device meets it: a real sshd on loopback that lets one restricted
/// user (`nobody`: SFTP only, no shell, no forwarding) in with one key, and restic reaching it
/// through the watchdog's ssh settings with the host's key pinned.
@Suite("Backups to the backup host: restic over SFTP to a real sshd, the host key pinned", .serialized)
struct SFTPBackupTests {
    @Test("a backup over SFTP lands on the backup host, and a fresh device restores the same rows from it")
    func backupOverSFTPRestoresOnAFreshDevice() async throws {
        let host = try await BackupHost.start()
        defer { host.stop() }
        try await withTestDatabase { device in
            let scene = try WatchdogScene()
            try await BackupRestoreTests.seed(device, orders: 50, trades: 800)
            let before = try await BackupRestoreTests.fingerprint(device)
            var backup = try BackupRestoreTests.backupConfiguration(device, scene: scene)
            backup.repository = host.repository
            backup.sftp = host.sshSettings(knownHosts: host.knownHosts)
            let path = try BackupRestoreTests.writeConfiguration(WatchdogConfiguration(
                statusFile: scene.statusFile, migrate: .init(name: "migrate", executable: "/bin/true"), services: [], backup: backup), scene: scene)

            let first = try await TestCommand.run("gordon-watchdog", ["backup", "--config", path])
            #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
            #expect(first.stdout.hasPrefix("backup ok: snapshot "))
            // The repository is on the backup host, written by its restricted user.
            let config = host.directory + "/backups/gordon/config"
            #expect(FileManager.default.fileExists(atPath: config))
            #expect(try FileManager.default.attributesOfItem(atPath: config)[.ownerAccountID] as? Int == Int(BackupHost.nobody))
            let password = try String(contentsOfFile: backup.passwordFile, encoding: .utf8)
            #expect(!(first.stdout + first.stderr).contains(password))

            // A fresh device: an empty trading schema, the same repository and password.
            try await withTestDatabase { fresh in
                let freshScene = try WatchdogScene()
                var restore = try BackupRestoreTests.backupConfiguration(fresh, scene: freshScene)
                try FileManager.default.removeItem(atPath: restore.passwordFile)
                try FileManager.default.copyItem(atPath: backup.passwordFile, toPath: restore.passwordFile)
                restore.repository = host.repository
                restore.sftp = host.sshSettings(knownHosts: host.knownHosts)
                let freshPath = try BackupRestoreTests.writeConfiguration(WatchdogConfiguration(
                    statusFile: freshScene.statusFile, migrate: .init(name: "migrate", executable: "/bin/true"), services: [],
                    backup: restore), scene: freshScene)
                #expect(try await BackupRestoreTests.fingerprint(fresh) != before)
                let restored = try await TestCommand.run("gordon-watchdog", ["restore", "--config", freshPath, "--replace-trading-schema"])
                #expect(restored.status == 0, "\(restored.stderr)")
                #expect(try await BackupRestoreTests.fingerprint(fresh) == before)
            }
        }
    }

    @Test("a backup host presenting a key other than the pinned one is refused: nothing is sent, the failure names the SFTP session")
    func anotherHostKeyIsRefused() async throws {
        let host = try await BackupHost.start()
        defer { host.stop() }
        try await withTestDatabase { device in
            let scene = try WatchdogScene()
            try await BackupRestoreTests.seed(device, orders: 3, trades: 10)
            var backup = try BackupRestoreTests.backupConfiguration(device, scene: scene)
            backup.repository = host.repository
            // The pin names a key the host does not have (an impostor on the host's address).
            backup.sftp = host.sshSettings(knownHosts: try host.knownHostsFile(forKey: try await BackupHost.newKey(in: host.directory, name: "impostor")))
            let path = try BackupRestoreTests.writeConfiguration(WatchdogConfiguration(
                statusFile: scene.statusFile, migrate: .init(name: "migrate", executable: "/bin/true"), services: [], backup: backup), scene: scene)
            let refused = try await TestCommand.run("gordon-watchdog", ["backup", "--config", path])
            #expect(refused.status != 0)
            // ssh's own reason ("Host key verification failed") reaches the log only if restic
            // relays it before exiting, which it does not always do; restic's own line is certain.
            #expect((refused.stdout + refused.stderr).contains("unable to start the sftp session"), "\(refused.stdout) \(refused.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: host.directory + "/backups").isEmpty, "nothing reached the host")
        }
    }

    @Test("the backup user gets SFTP and nothing else: no command runs, no port is forwarded")
    func theBackupUserHasNoShell() async throws {
        let host = try await BackupHost.start()
        defer { host.stop() }
        let ssh = host.sshSettings(knownHosts: host.knownHosts)
        // restic's login (ssh, its options, the destination, "-s sftp"), asking for other things.
        let words = ssh.command(for: try #require(try SFTPRepository(host.repository))).split(separator: " ").map(String.init)
        let options = Array(words[1..<(words.count - 3)]), destination = words[words.count - 3]
        let marker = "gordon-\(UUID().uuidString)"
        let command = try await TestCommand.runProgram(words[0], options + [destination, "echo", marker])
        #expect(!command.stdout.contains(marker), "the backup user ran a command: \(command.stdout)")
        // A connection through the host to its own sshd: refused.
        let forward = try await TestCommand.runProgram(words[0], options + ["-W", "127.0.0.1:\(host.port)", destination])
        #expect(forward.status != 0, "a forward was granted: \(forward.stdout)")
        #expect(forward.stderr.contains("prohibited"), "\(forward.stderr)")
    }
}

/// sshd on a free loopback port with its own host key, letting `nobody` in with one key for
/// SFTP only; the repository's directory on it belongs to `nobody`.
final class BackupHost: @unchecked Sendable {
    static let nobody: uid_t = 65_534
    let directory: String
    let port: Int
    let clientKey: String
    let knownHosts: String
    private let sshd: TestCommand

    var repository: String { "sftp://nobody@127.0.0.1:\(port)/\(directory)/backups/gordon" }

    func sshSettings(knownHosts: String) -> WatchdogConfiguration.SFTP {
        WatchdogConfiguration.SFTP(identityFile: clientKey, knownHostsFile: knownHosts, connectTimeoutSeconds: 10)
    }

    /// A known_hosts file pinning `publicKey` (a `.pub` file's path) for this host's address.
    func knownHostsFile(forKey publicKey: String) throws -> String {
        let path = directory + "/known_hosts-\(UUID().uuidString)"
        let key = try String(contentsOfFile: publicKey, encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        try "[127.0.0.1]:\(port) \(key)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// An ed25519 key pair without a passphrase; returns the public key's path.
    static func newKey(in directory: String, name: String) async throws -> String {
        let result = try await TestCommand.runProgram("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", "\(directory)/\(name)"])
        try #require(result.status == 0, "ssh-keygen: \(result.stderr)")
        return "\(directory)/\(name).pub"
    }

    static func start() async throws -> BackupHost {
        try #require(geteuid() == 0, "sshd needs root to let another user in (scripts/test runs as root)")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd"), "scripts/test installs openssh-server")
        return try await BackupHost()
    }

    private init() async throws {
        directory = "/tmp/gordon-backup-host-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/backups", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        chmod(directory, 0o755)
        chown(directory + "/backups", Self.nobody, Self.nobody)
        // sshd's privilege separation directory (made by the package's service on a real host).
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        _ = try await Self.newKey(in: directory, name: "host_key")
        let clientPublic = try await Self.newKey(in: directory, name: "client_key")
        clientKey = directory + "/client_key"
        chmod(clientKey, 0o400)
        try String(contentsOfFile: clientPublic, encoding: .utf8).write(toFile: directory + "/authorized_keys", atomically: true, encoding: .utf8)
        chmod(directory + "/authorized_keys", 0o644)
        port = try TestNATSServer.freePort()
        try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(directory)/host_key
            PidFile \(directory)/sshd.pid
            AuthorizedKeysFile \(directory)/authorized_keys
            StrictModes no
            UsePAM no
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin no
            AllowUsers nobody
            AllowTcpForwarding no
            AllowAgentForwarding no
            AllowStreamLocalForwarding no
            PermitTunnel no
            X11Forwarding no
            PermitTTY no
            Subsystem sftp internal-sftp
            ForceCommand internal-sftp
            LogLevel VERBOSE

            """.write(toFile: directory + "/sshd_config", atomically: true, encoding: .utf8)
        sshd = try TestCommand(program: "/usr/sbin/sshd", ["-D", "-e", "-f", directory + "/sshd_config"])
        let port = self.port, sshd = self.sshd
        let listening = try await eventually(timeout: .seconds(30)) { sshd.process.isRunning && Self.accepts(port: port) }
        try #require(listening, "sshd did not start: \(sshd.stderr)")
        knownHosts = directory + "/known_hosts"
        let key = try String(contentsOfFile: directory + "/host_key.pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        try "[127.0.0.1]:\(port) \(key)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
    }

    func stop() {
        sshd.process.signal(SIGTERM)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
