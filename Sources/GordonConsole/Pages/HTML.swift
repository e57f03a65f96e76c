import GordonKernel

/// Server-rendered HTML: every value from outside (the manager's data, the provider's names,
/// a reason someone typed) goes through `escape`, and the pages carry no inline script or
/// style, so the console's policy can forbid both.
enum HTML {
    static func escape(_ text: String) -> String { MarkupText.escaped(text) }

    /// A whole page: the header with the user and their role, the navigation, logout (a
    /// form, so a link elsewhere cannot sign anyone out), and `body`. With `live`, the page's main section is refreshed from that URL every few seconds by
    /// the console's one script (`ConsoleAssets.script`).
    static func page(title: String, session: ConsoleSession?, body: String, live: String? = nil) -> String {
        var header = "<header><a class=\"brand\" href=\"/\">Gordon</a><nav>"
        if session != nil {
            header += "<a href=\"/\">Overview</a>" + ConsolePage.allCases.map { "<a href=\"\($0.path)\">\($0.title)</a>" }.joined()
        }
        header += "<a href=\"/docs/documentation/gordon/\">Docs</a></nav>"
        if let session {
            header += "<form class=\"logout\" method=\"post\" action=\"/auth/logout\">"
                + csrfField(session)
                + "<span class=\"who\">\(escape(session.user)) <span class=\"role role-\(session.role.rawValue)\">\(session.role.rawValue)</span></span>"
                + "<button type=\"submit\">Log out</button></form>"
        }
        header += "</header>"
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Gordon</title>
            <link rel="stylesheet" href="\(ConsoleAssets.stylesheetPath)">\(live == nil ? "" : "<script src=\"\(ConsoleAssets.scriptPath)\" defer></script>")
            </head><body>\(header)<main\(live.map { " data-live=\"\(escape($0))\"" } ?? "")>\(body)</main></body></html>
            """
    }

    static func csrfField(_ session: ConsoleSession) -> String {
        "<input type=\"hidden\" name=\"\(ConsoleRoutes.csrfFieldName)\" value=\"\(escape(session.csrfToken))\">"
    }

    static func table(_ headings: [String], _ rows: [[String]], empty: String) -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(escape(empty))</p>" }
        var html = "<div class=\"scroll\"><table><thead><tr>"
        for heading in headings { html += "<th>\(escape(heading))</th>" }
        html += "</tr></thead><tbody>"
        for row in rows {
            html += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>"
        }
        return html + "</tbody></table></div>"
    }
}

/// The console's one stylesheet, served from memory: readable on a phone, no framework.
enum ConsoleAssets {
    static let stylesheetPath = "/static/console.css"
    static let scriptPath = "/static/console.js"

    /// Live updates, the console's only script: a page whose main section names a `data-live`
    /// URL has that section replaced by the URL's fragment every two seconds, unless the tab
    /// is hidden or the user is typing in it. A session that ended sends the page back to the
    /// login. Without the script the pages are whole, just not live.
    static let script = """
        "use strict";
        (function () {
          const main = document.querySelector("main[data-live]");
          if (!main) return;
          const url = main.dataset.live;
          let busy = false;
          async function refresh() {
            const focused = document.activeElement;
            if (busy || document.hidden || (focused && main.contains(focused) && /INPUT|SELECT|TEXTAREA/.test(focused.tagName))) return;
            busy = true;
            try {
              const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
              if (response.status === 200) {
                main.innerHTML = await response.text();
                main.dataset.updated = String(Date.now());
              } else if (response.status === 401) {
                window.location.assign("/");
              }
            } catch (error) {
              main.dataset.stale = String(Date.now());
            } finally {
              busy = false;
            }
          }
          window.setInterval(refresh, 2000);
        })();
        """

    static let stylesheet = """
        :root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --muted: #6e7781; --line: #d0d7de; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, sans-serif; }
        header { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
        header nav { display: flex; gap: .75rem; flex: 1; }
        .brand { font-weight: 700; text-decoration: none; }
        .logout { display: flex; gap: .5rem; align-items: center; margin: 0; }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
        .grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); }
        section { border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin-bottom: 1rem; }
        h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
        .latch { font-size: 1.3rem; font-weight: 700; }
        .open, .ready { color: var(--ok); } .halted, .tripped, .down, .error { color: var(--bad); }
        .muted, .empty { color: var(--muted); }
        .role { font-size: .8rem; border: 1px solid var(--line); border-radius: 4px; padding: 0 .3rem; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
        td.number { text-align: right; font-variant-numeric: tabular-nums; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; margin: 0; }
        dt { color: var(--muted); } dd { margin: 0; }
        .actions { display: flex; flex-wrap: wrap; gap: .5rem; }
        form.filter { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; margin-bottom: 1rem; }
        form.action { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-top: .5rem; }
        input[type=text] { flex: 1; min-width: 12rem; padding: .4rem; }
        button { padding: .4rem .8rem; cursor: pointer; }
        button.danger { background: var(--bad); color: white; border: 0; border-radius: 4px; }
        .notice { border-left: 4px solid var(--bad); padding: .5rem 1rem; }
        """
}
