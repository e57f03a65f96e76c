import GordonDomain

/// What an operator may do from the console, each confirmed on a page of its own with a
/// reason, then sent to the manager's API in the operator's name: the whole system's halt,
/// resume and flatten, and a bot's pause, resume, start and stop.
public struct ConsoleAction: Sendable, Equatable {
    public let verb: String
    /// The bot it is for; nil: the whole system.
    public let bot: String?

    public static func system(_ verb: String) -> ConsoleAction? {
        ["halt", "resume", "flatten"].contains(verb) ? ConsoleAction(verb: verb, bot: nil) : nil
    }

    /// A bot's action; nil for an unknown verb or a name that is no bot id, so no path is
    /// ever built from anything else.
    public static func bot(_ bot: String, _ verb: String) -> ConsoleAction? {
        guard ["pause", "resume", "start", "stop"].contains(verb), (try? BotId(bot)) != nil else { return nil }
        return ConsoleAction(verb: verb, bot: bot)
    }

    /// Below the manager's `/api/v1/`.
    var managerPath: String { bot.map { "bots/\($0)/\(verb)" } ?? verb }
    /// The console's confirmation page and form.
    var formPath: String { bot.map { "/bots/\($0)/actions/\(verb)" } ?? "/actions/\(verb)" }
    /// Where the operator goes back to.
    var returnPath: String { bot == nil ? "/" : "/bots" }
    /// The button's element id, for people's tools and the browser tests.
    var elementId: String { bot.map { "\(verb)-\($0)" } ?? verb }

    var title: String {
        switch (verb, bot) {
        case ("halt", nil): "Halt trading"
        case ("resume", nil): "Resume trading"
        case ("flatten", nil): "Flatten everything"
        case (_, let bot?): "\(verb.prefix(1).uppercased() + verb.dropFirst()) bot \(bot)"
        default: verb
        }
    }

    var consequence: String {
        switch (verb, bot) {
        case ("halt", nil): "The executor will accept no new order from any bot until an operator resumes. Working orders stay on the exchange."
        case ("resume", nil): "The bots may trade again at once."
        case ("flatten", nil): "Trading halts, every working order is cancelled and every position is closed at market. Only a resume undoes the halt."
        case ("pause", _?): "gordon-risk pauses the bot: it sends no new intent until resumed. Its positions stay."
        case ("resume", _?): "gordon-risk lets the bot trade again."
        case ("start", _?): "The bot's configuration is set to running; the watchdog's bot process picks it up."
        case ("stop", _?): "The bot's configuration is set to stopped: it stops trading. Its positions stay."
        default: ""
        }
    }

    var isDangerous: Bool { verb == "halt" || verb == "flatten" || verb == "stop" || verb == "pause" }

    /// The button that leads to the confirmation page (a GET: nothing happens until the
    /// confirmation's POST).
    static func button(_ action: ConsoleAction) -> String {
        "<form class=\"action\" method=\"get\" action=\"\(action.formPath)\">"
            + "<button type=\"submit\"\(action.isDangerous ? " class=\"danger\"" : "") id=\"\(action.elementId)\">\(HTML.escape(action.title))…</button></form>"
    }
}
