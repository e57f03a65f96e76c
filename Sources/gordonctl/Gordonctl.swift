import ArgumentParser
import GordonCommandLine

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// gordonctl: the operator's command line (used over SSH on the device, or offline on a
/// laptop for backtests).
///
/// Exit status 0 on success; on bad input, 2 with one line on stderr saying what was wrong.
/// The commands that call gordon-manager also exit 1 when it refuses, 3 when it cannot be
/// reached (not running, or the caller may not open its socket) and 4 when a request is
/// filed but not yet carried out (`OperatorExit`).
@main
struct Gordonctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordonctl",
        abstract: "Operate Gordon: status, halt, resume, flatten, bots, orders, fills, positions, logs; backtests offline.",
        subcommands: [StatusCommand.self, HaltCommand.self, ResumeCommand.self, FlattenCommand.self, BotsCommand.self, OrdersCommand.self,
                      FillsCommand.self, PositionsCommand.self, AuditCommand.self, DataCommand.self, BackupCommand.self, LogsCommand.self,
                      BacktestCommand.self, BacktestsCommand.self, StrategiesCommand.self, SynthCommand.self]
    )

    static func main() async {
        await CommandLineEntry.main(Gordonctl.self, failureStatus: 2)
    }
}

func standardError(_ text: String) { CommandLineEntry.writeStandardError(text) }
