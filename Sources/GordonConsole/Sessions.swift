import Crypto
public import Foundation
import Synchronization

/// A signed-in user of the console, as the server keeps them: the browser holds only a random
/// session id in a cookie.
public struct ConsoleSession: Sendable, Equatable {
    /// The provider's subject.
    public let subject: String
    /// The name the manager records for this user's actions (as `console.<user>`).
    public let user: String
    public let role: ConsoleRole
    /// Sent back with every form; a request without it changes nothing.
    public let csrfToken: String
    public let createdAt: Date
    public internal(set) var lastSeenAt: Date
}

/// The console's sessions and the logins under way, as a plain value: every rule (timeouts,
/// single-use logins, the per-client login rate) is here, tested with a clock the test
/// turns; `SessionStore` only locks it.
///
/// Sessions live in memory: a restart of the console signs everyone out, which is the safe
/// direction. Session ids are looked up by their SHA-256, so the lookup's timing says nothing
/// about the ids it holds.
public struct SessionTable: Sendable {
    public struct Limits: Sendable {
        /// A session unused this long is over.
        public var idleTimeout: TimeInterval = 30 * 60
        /// A session is over this long after its login, used or not.
        public var absoluteTimeout: TimeInterval = 12 * 60 * 60
        /// The time a user has at the provider to log in.
        public var loginTimeout: TimeInterval = 10 * 60
        /// Logins started per client address per minute, over which the console answers 429.
        public var loginsPerMinutePerClient = 10
        /// Bounds on what strangers can make the console hold.
        public var maximumPendingLogins = 512
        public var maximumSessions = 1024

        public init() {}
    }

    public enum LoginStart: Sendable, Equatable {
        case started
        /// Too many logins from this client, or in progress overall: try again later.
        case tooMany
    }

    public let limits: Limits
    private var sessions: [SHA256Digest: ConsoleSession] = [:]
    private var pendingLogins: [String: PendingLogin] = [:]
    private var loginWindows: [String: (start: Date, count: Int)] = [:]

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public var sessionCount: Int { sessions.count }

    /// Files a login the browser is about to make at the provider, unless the client (its
    /// address) has started too many in the last minute.
    public mutating func begin(_ login: PendingLogin, client: String, now: Date) -> LoginStart {
        prune(now: now)
        var window = loginWindows[client] ?? (start: now, count: 0)
        if now.timeIntervalSince(window.start) >= 60 { window = (start: now, count: 0) }
        guard window.count < limits.loginsPerMinutePerClient, pendingLogins.count < limits.maximumPendingLogins else {
            return .tooMany
        }
        window.count += 1
        loginWindows[client] = window
        pendingLogins[login.state] = login
        return .started
    }

    /// The login `state` names, once: a second callback with the same state, or one after
    /// the login timeout, finds nothing.
    public mutating func finish(state: String, now: Date) -> PendingLogin? {
        guard let login = pendingLogins.removeValue(forKey: state) else { return nil }
        guard now.timeIntervalSince(login.startedAt) < limits.loginTimeout else { return nil }
        return login
    }

    /// Opens a session and returns the id for the browser's cookie. When the table is full,
    /// the session least recently used is closed to make room.
    public mutating func open(subject: String, user: String, role: ConsoleRole, now: Date) -> (id: String, session: ConsoleSession) {
        prune(now: now)
        if sessions.count >= limits.maximumSessions, let oldest = sessions.min(by: { $0.value.lastSeenAt < $1.value.lastSeenAt }) {
            sessions.removeValue(forKey: oldest.key)
        }
        let id = PendingLogin.randomToken()
        let session = ConsoleSession(subject: subject, user: user, role: role, csrfToken: PendingLogin.randomToken(),
                                     createdAt: now, lastSeenAt: now)
        sessions[Self.key(id)] = session
        return (id, session)
    }

    /// The session the cookie's id names, if it is still open; using it restarts its idle time.
    public mutating func session(id: String, now: Date) -> ConsoleSession? {
        let key = Self.key(id)
        guard var session = sessions[key] else { return nil }
        guard !isOver(session, now: now) else {
            sessions.removeValue(forKey: key)
            return nil
        }
        session.lastSeenAt = now
        sessions[key] = session
        return session
    }

    /// Logout: the id is worthless from now on.
    public mutating func close(id: String) {
        sessions.removeValue(forKey: Self.key(id))
    }

    func isOver(_ session: ConsoleSession, now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeenAt) >= limits.idleTimeout
            || now.timeIntervalSince(session.createdAt) >= limits.absoluteTimeout
    }

    private mutating func prune(now: Date) {
        sessions = sessions.filter { !isOver($0.value, now: now) }
        pendingLogins = pendingLogins.filter { now.timeIntervalSince($0.value.startedAt) < limits.loginTimeout }
        loginWindows = loginWindows.filter { now.timeIntervalSince($0.value.start) < 60 }
    }

    private static func key(_ id: String) -> SHA256Digest { SHA256.hash(data: Data(id.utf8)) }
}

/// The console's one `SessionTable`, shared by its request handlers, on the wall clock.
public final class SessionStore: Sendable {
    private let table: Mutex<SessionTable>

    public init(limits: SessionTable.Limits = .init()) {
        table = Mutex(SessionTable(limits: limits))
    }

    public func begin(_ login: PendingLogin, client: String) -> SessionTable.LoginStart {
        table.withLock { $0.begin(login, client: client, now: Date()) }
    }

    public func finish(state: String) -> PendingLogin? {
        table.withLock { $0.finish(state: state, now: Date()) }
    }

    public func open(subject: String, user: String, role: ConsoleRole) -> (id: String, session: ConsoleSession) {
        table.withLock { $0.open(subject: subject, user: user, role: role, now: Date()) }
    }

    public func session(id: String) -> ConsoleSession? {
        table.withLock { $0.session(id: id, now: Date()) }
    }

    public func close(id: String) {
        table.withLock { $0.close(id: id) }
    }

    public var count: Int { table.withLock { $0.sessionCount } }
}
