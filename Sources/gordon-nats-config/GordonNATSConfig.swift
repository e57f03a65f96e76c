import ArgumentParser
import GordonBus
import GordonCommandLine
import GordonDomain
import GordonKernel
import GordonNATS
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// gordon-nats-config: the NATS side of a Gordon install, from the one source of truth in
/// `NATSPermissions`. `render` writes nats-server.conf with one user per service and bot,
/// passwords taken from the services' keyfiles; `ensure-stream` creates or updates the
/// GORDON stream as the gordon-migrate user.
@main
struct GordonNATSConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-nats-config",
        abstract: "Render nats-server.conf for Gordon's users, or ensure the GORDON stream.",
        subcommands: [Render.self, EnsureStream.self]
    )

    static func main() async {
        await CommandLineEntry.main(GordonNATSConfig.self, failureStatus: 1)
    }
}

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write nats-server.conf (mode 0600: it holds passwords).")

    @Option(help: "Directory of keyfiles, one <user>.key per NATS user, each with nats_password")
    var keys: String
    @Option(name: .customLong("bot"), help: "A bot id that gets its own NATS user (repeatable)")
    var bots: [String] = []
    @Flag(help: "Also a user for each bot with a gordon-bot-<bot>.key in --keys (the device's bots); one whose keyfile cannot be used is left out and said so")
    var botsFromKeyfiles = false
    @Option(help: "Address to listen on") var host = "127.0.0.1"
    @Option(help: "Port to listen on") var port = 4222
    @Option(help: "Server name") var serverName = "gordon"
    @Option(help: "JetStream store directory") var storeDirectory: String
    @Option(help: "JetStream memory limit in bytes") var maxMemoryStore = 64 << 20
    @Option(help: "JetStream file store limit in bytes") var maxFileStore = 16 << 30
    @Option(help: "Output file") var out: String

    func run() async throws {
        var botIds: [BotId] = []
        for bot in bots { botIds.append(try BotId(bot)) }
        if botsFromKeyfiles {
            let found = try NATSServerConfig.bots(inKeysDirectory: keys)
            for (bot, error) in found.skipped {
                CommandLineEntry.writeStandardError("gordon-nats-config: warning: bot \(bot) left out, its keyfile cannot be used: \(error.description)\n")
            }
            botIds += found.bots
        }
        let config = NATSServerConfig(host: host, port: port, serverName: serverName, storeDirectory: storeDirectory,
                                      maxMemoryStore: maxMemoryStore, maxFileStore: maxFileStore,
                                      users: NATSPermissions.users(bots: botIds))
        let text = try config.render(keysDirectory: keys)
        try text.withPlainText { try writePrivately($0, to: out) }
        print("wrote \(out) with \(config.users.count) users")
    }
}

/// Creates `path` as 0600 before writing, so the passwords are never readable by others,
/// not even for a moment.
func writePrivately(_ contents: String, to path: String) throws(GordonError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw GordonError(.busConfigInvalid, "cannot write \(path)", context: ["errno": "\(errno)"]) }
    defer { close(fd) }
    _ = fchmod(fd, 0o600)
    let bytes = Array(contents.utf8)
    var written = 0
    while written < bytes.count {
        let result = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard result > 0 else { throw GordonError(.busConfigInvalid, "cannot write \(path)", context: ["errno": "\(errno)"]) }
        written += result
    }
}

struct EnsureStream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ensure-stream", abstract: "Create the GORDON stream, or bring it to Gordon's configuration.")

    @Option(help: "NATS URL") var natsURL = "nats://127.0.0.1:4222"
    @Option(help: "NATS user allowed to manage the stream") var user = "gordon-migrate"
    @Option(help: "Keyfile holding that user's nats_password (omit for a server without authorization)")
    var keyfile: String?

    func run() async throws {
        var options = try NATSClientOptions(urls: [natsURL], name: "gordon-nats-config")
        if let keyfile {
            try options.logIn(as: user, keyfile: try Keyfile.load(path: keyfile))
        }
        let client = try await NATSClient.connect(options)
        let info = try await GordonStream.ensure(JetStream(client: client))
        print("stream \(info.config.name): subjects \(info.config.subjects.joined(separator: ",")), "
              + "\(info.state.messages) messages, duplicate window \(info.config.duplicateWindow / 1_000_000_000) s")
        await client.close()
    }
}
