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
@main
struct Gordonctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordonctl",
        abstract: "Operate Gordon: backtest strategies offline, list them, generate test data.",
        subcommands: [BacktestCommand.self, StrategiesCommand.self, SynthCommand.self]
    )

    static func main() async {
        await CommandLineEntry.main(Gordonctl.self, failureStatus: 2)
    }
}

func standardError(_ text: String) { CommandLineEntry.writeStandardError(text) }
