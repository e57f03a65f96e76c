/// A migration file cut into its statements.
///
/// postgres-nio speaks only the extended query protocol, which takes one statement at a
/// time, so the migrator sends a file statement by statement inside one transaction. The
/// cut follows PostgreSQL's lexical rules for what can hide a `;`: single-quoted strings
/// (with `''`, and backslash escapes in `E'…'`), double-quoted identifiers, dollar-quoted
/// bodies (`$$…$$`, `$tag$…$tag$`), `--` line comments and nested `/* */` comments.
struct SQLScript: Sendable, Equatable {
    struct Statement: Sendable, Equatable {
        /// The statement without its terminating `;`, leading comments and blank lines kept
        /// so that positions inside it map back onto the file.
        let text: String
        /// 1-based line of the file on which `text` begins.
        let firstLine: Int

        /// The file line of a 1-based character position inside `text` (Postgres reports
        /// positions in characters, i.e. Unicode scalars for UTF-8 databases).
        func fileLine(ofPosition position: Int) -> Int {
            var line = firstLine
            for (offset, scalar) in text.unicodeScalars.enumerated() {
                if offset >= position - 1 { break }
                if scalar == "\n" { line += 1 }
            }
            return line
        }

        /// The file line of the statement's first keyword.
        var keywordLine: Int {
            let scalars = Array(text.unicodeScalars)
            return fileLine(ofPosition: scalars.count - SQLScript.skippingCommentsAndSpace(scalars[...]).count + 1)
        }

        /// True when the text holds nothing but whitespace and comments.
        var isBlank: Bool { SQLScript.skippingCommentsAndSpace(Array(text.unicodeScalars)[...]).isEmpty }

        /// The statement's first three keywords, upper-cased, leading comments skipped.
        var leadingWords: [String] {
            var words: [String] = []
            var current = ""
            for scalar in SQLScript.skippingCommentsAndSpace(Array(text.unicodeScalars)[...]) {
                if scalar.properties.isAlphabetic || scalar == "_" {
                    current.unicodeScalars.append(scalar)
                    continue
                }
                if !current.isEmpty { words.append(current.uppercased()); current = "" }
                if words.count == 3 || !(scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r") { break }
            }
            if !current.isEmpty, words.count < 3 { words.append(current.uppercased()) }
            return words
        }
    }

    /// What is left after leading whitespace, `--` comments and nested `/* */` comments.
    static func skippingCommentsAndSpace(_ input: ArraySlice<Unicode.Scalar>) -> ArraySlice<Unicode.Scalar> {
        var scanner = input
        while let scalar = scanner.first {
            let next = scanner.dropFirst().first
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                scanner = scanner.dropFirst()
            } else if scalar == "-", next == "-" {
                scanner = scanner.drop(while: { $0 != "\n" })
            } else if scalar == "/", next == "*" {
                scanner = scanner.dropFirst(2)
                var depth = 1
                while depth > 0, let current = scanner.first {
                    let following = scanner.dropFirst().first
                    if current == "*", following == "/" { depth -= 1; scanner = scanner.dropFirst(2) }
                    else if current == "/", following == "*" { depth += 1; scanner = scanner.dropFirst(2) }
                    else { scanner = scanner.dropFirst() }
                }
            } else {
                break
            }
        }
        return scanner
    }

    /// An unterminated comment, string, identifier or dollar quote, and the line it opens on.
    struct Unterminated: Error, Equatable {
        let what: String
        let line: Int
    }

    let statements: [Statement]

    init(_ sql: String) throws(Unterminated) {
        let scalars = Array(sql.unicodeScalars)
        var statements: [Statement] = []
        var start = 0
        var startLine = 1
        var line = 1
        var index = 0

        func at(_ offset: Int) -> Unicode.Scalar? { offset < scalars.count ? scalars[offset] : nil }
        func finish(upTo end: Int) {
            let text = String(String.UnicodeScalarView(scalars[start..<end]))
            let statement = Statement(text: text, firstLine: startLine)
            if !statement.isBlank { statements.append(statement) }
        }

        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\n":
                line += 1
                index += 1
            case "-" where at(index + 1) == "-":
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
            case "/" where at(index + 1) == "*":
                let opened = line
                var depth = 1
                index += 2
                while depth > 0 {
                    guard let current = at(index) else { throw Unterminated(what: "/* comment", line: opened) }
                    if current == "*", at(index + 1) == "/" { depth -= 1; index += 2 }
                    else if current == "/", at(index + 1) == "*" { depth += 1; index += 2 }
                    else { if current == "\n" { line += 1 }; index += 1 }
                }
            case "'":
                let opened = line
                let backslashEscapes = index > 0 && (scalars[index - 1] == "E" || scalars[index - 1] == "e")
                index += 1
                while true {
                    guard let current = at(index) else { throw Unterminated(what: "string literal", line: opened) }
                    if current == "\n" { line += 1 }
                    if backslashEscapes, current == "\\" { index += 2; continue }
                    if current == "'" {
                        if at(index + 1) == "'" { index += 2; continue }
                        index += 1
                        break
                    }
                    index += 1
                }
            case "\"":
                let opened = line
                index += 1
                while true {
                    guard let current = at(index) else { throw Unterminated(what: "quoted identifier", line: opened) }
                    if current == "\n" { line += 1 }
                    index += 1
                    if current == "\"" {
                        if at(index) == "\"" { index += 1; continue }
                        break
                    }
                }
            case "$":
                // A dollar quote opens with $tag$ where tag is empty or an identifier; `$1`
                // (a parameter) is not one.
                var tagEnd = index + 1
                while let current = at(tagEnd), current.properties.isAlphabetic || current == "_"
                    || (tagEnd > index + 1 && ("0"..."9").contains(current)) {
                    tagEnd += 1
                }
                guard at(tagEnd) == "$" else { index += 1; continue }
                let delimiter = Array(scalars[index...tagEnd])
                let opened = line
                index = tagEnd + 1
                while true {
                    guard index < scalars.count else { throw Unterminated(what: "dollar-quoted body", line: opened) }
                    if scalars[index] == "$", index + delimiter.count <= scalars.count,
                       Array(scalars[index..<index + delimiter.count]) == delimiter {
                        index += delimiter.count
                        break
                    }
                    if scalars[index] == "\n" { line += 1 }
                    index += 1
                }
            case ";":
                finish(upTo: index)
                index += 1
                start = index
                startLine = line
            default:
                index += 1
            }
        }
        finish(upTo: scalars.count)
        self.statements = statements
    }
}
