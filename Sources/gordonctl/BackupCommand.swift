#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import FoundationEssentials
import GordonCommandLine
import GordonKernel
import GordonManager
import GordonWatchdog

/// `gordonctl backup`: the watchdog's backups, through gordon-manager.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Backups: the last one's result, the snapshots, ask the watchdog for one now, restore one.",
        subcommands: [Status.self, Now.self, List.self, Restore.self], defaultSubcommand: Status.self)

    static func backupStatus(_ client: ManagerClient) async throws -> JSONValue {
        let status = try await client.call(.GET, "status")
        guard let backup = status["watchdog"]?["backup"], backup != .null else {
            standardError("gordonctl: the watchdog's status has no backups (is it running, with backups configured?)\n")
            throw ExitCode(OperatorExit.unreachable)
        }
        return backup
    }

    /// One line: the last run's result, how long ago the last success was, and where to.
    static func summary(_ backup: JSONValue, now: Double) -> String {
        let status = try? JSONDecoder().decode(WatchdogStatus.Backup.self, from: Data(backup.json.utf8))
        let age = status.flatMap(WatchdogMetrics.lastBackupSucceeded).map { "\(duration(now - $0)) ago" } ?? "never"
        return "last \(backup["lastResult"]?.text ?? "never"); last success \(age) (snapshot \(backup["lastSnapshotId"]?.text ?? "-"))"
            + (backup["repository"].flatMap { $0 == .null ? nil : " to \($0.text)" } ?? "")
    }

    /// `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
    static func duration(_ seconds: Double) -> String {
        let whole = max(0, Int(seconds))
        switch whole {
        case ..<60: return "\(whole) s"
        case ..<3600: return "\(whole / 60) min"
        case ..<86_400: return "\(whole / 3600) h \(whole % 3600 / 60) min"
        default: return "\(whole / 86_400) d \(whole % 86_400 / 3600) h"
        }
    }

    static func render(_ backup: JSONValue) -> String {
        ["lastResult", "repository", "runningStep", "lastStartedAt", "lastFinishedAt", "lastDurationSeconds", "lastSuccessAt", "lastSnapshotId",
         "lastRequestedBy", "failedStep", "detail", "nextInSeconds"].compactMap { key in
            guard let value = backup[key], value != .null else { return nil }
            return "\(key): \(value.text)"
        }.joined(separator: "\n")
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "The last backup: result, snapshot, when the next is due.")
        @OptionGroup var manager: ManagerOptions

        func run() async throws {
            let backup = try await BackupCommand.backupStatus(ManagerClient(socket: manager.socket))
            print(manager.json ? backup.json : BackupCommand.render(backup))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "The repository's snapshots, newest first (as listed at the watchdog's start and after each backup).")
        @OptionGroup var manager: ManagerOptions
        @Flag(help: "Ask the watchdog to list the repository again first") var refresh = false
        @Option(help: "Give up waiting for the new list after this many seconds") var timeoutSeconds = 120

        func run() async throws {
            let client = ManagerClient(socket: manager.socket)
            var listed = try await client.call(.GET, "backup/snapshots")
            if refresh {
                let before = listed["listed_at"]
                _ = try await client.call(.POST, "backup/snapshots/refresh", body: [:])
                let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
                while listed["listed_at"] == before {
                    guard ContinuousClock.now < deadline else {
                        standardError("gordonctl: the watchdog has not listed the snapshots within \(timeoutSeconds) s\n")
                        throw ExitCode(OperatorExit.pending)
                    }
                    try await Task.sleep(for: .seconds(1))  // the watchdog rewrites its status every second
                    listed = try await client.call(.GET, "backup/snapshots")
                }
            }
            if manager.json { print(listed.json); return }
            print(table([("SNAPSHOT", "id"), ("TAKEN", "time")], listed["snapshots"]?.array ?? []))
            print("listed at \(listed["listed_at"].map { $0 == .null ? "never" : $0.text } ?? "never")")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Replace the trading schema with a snapshot's: every service stops, the halt latch closes, they start again.",
            discussion: "The watchdog stops every service (gordon-manager too), restores the snapshot in one transaction, closes the halt latch, migrates and starts them again. Trading stays halted until `gordonctl resume --reason`.")
        @OptionGroup var manager: ManagerOptions
        @Argument(help: "latest, or a snapshot id (or a unique prefix of one) from `gordonctl backup list`") var snapshot: String
        @Flag(help: "Do not ask for confirmation") var yes = false
        @Flag(help: "Wait until the restore is done and gordon-manager answers again") var wait = false
        @Option(help: "Give up waiting after this many seconds") var timeoutSeconds = 3600

        func validate() throws {
            guard WatchdogRequest.isSnapshot(snapshot) else {
                throw ValidationError("'\(snapshot)' is not a snapshot: latest, or its id in hex (8 to 64 digits)")
            }
        }

        func run() async throws {
            if !yes {
                try confirm("Stop every service and replace the trading schema with snapshot \(snapshot)?", typing: "restore",
                            otherwise: "restore replaces the trading schema and stops every service: confirm with --yes when not at a terminal")
            }
            let client = ManagerClient(socket: manager.socket)
            let before = wait ? try await client.call(.GET, "status")["watchdog"]?["restore"]?["requestedAt"] : nil
            let outcome = try await client.call(.POST, "backup/restore", body: ["snapshot": snapshot])
            guard wait else {
                print(manager.json ? outcome.json : outcome["outcome"]?.text ?? "requested")
                return
            }
            standardError("restore requested; gordon-manager stops with the other services and comes back after it\n")
            let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .seconds(1))  // the watchdog rewrites its status every second
                guard let restore = await client.callIfReachable("status")?["watchdog"]?["restore"], restore != .null,
                      restore["requestedAt"] != before else { continue }
                let result = restore["result"]?.text ?? ""
                guard result == "succeeded" || result == "failed" else { continue }
                print(manager.json ? restore.json : ["result", "snapshot", "requestedBy", "requestedAt", "finishedAt", "detail"].compactMap { key in
                    restore[key].flatMap { $0 == .null ? nil : "\(key): \($0.text)" }
                }.joined(separator: "\n"))
                guard result == "succeeded" else { throw ExitCode(OperatorExit.refused) }
                if !manager.json { print("Trading is halted: check `gordonctl status`, then `gordonctl resume --reason …`.") }
                return
            }
            standardError("gordonctl: the restore has not finished within \(timeoutSeconds) s; see `gordonctl backup status` and `gordonctl logs gordon-watchdog`\n")
            throw ExitCode(OperatorExit.pending)
        }
    }

    struct Now: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "now", abstract: "Ask the watchdog for a backup now; --wait follows it to its end (exit 1 if it failed).")
        @OptionGroup var manager: ManagerOptions
        @Flag(help: "Wait for the backup to finish") var wait = false
        @Option(help: "Give up waiting after this many seconds") var timeoutSeconds = 3600

        func run() async throws {
            let client = ManagerClient(socket: manager.socket)
            let before = wait ? try await BackupCommand.backupStatus(client)["lastStartedAt"] : nil
            let outcome = try await client.call(.POST, "backup", body: [:])
            guard wait else {
                print(manager.json ? outcome.json : outcome["outcome"]?.text ?? "requested")
                return
            }
            let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .seconds(1))  // the watchdog rewrites its status every second
                let backup = try await BackupCommand.backupStatus(client)
                let result = backup["lastResult"]?.text ?? ""
                guard backup["lastStartedAt"] != before, result == "succeeded" || result == "failed" else {
                    if backup["lastStartedAt"] != before { standardError("backup running: \(backup["runningStep"]?.text ?? "")\n") }
                    continue
                }
                print(manager.json ? backup.json : BackupCommand.render(backup))
                if result == "failed" { throw ExitCode(OperatorExit.refused) }
                return
            }
            standardError("gordonctl: the backup has not finished within \(timeoutSeconds) s; see `gordonctl backup status`\n")
            throw ExitCode(OperatorExit.pending)
        }
    }
}
