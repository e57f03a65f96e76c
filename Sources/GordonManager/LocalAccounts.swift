/// The device's users and groups, read from `/etc/passwd` and `/etc/group` text: who a
/// socket peer's uid is, and whether it is an operator (root, or a member of the operators'
/// group by its primary group or by the group's member list).
///
/// The files are parsed rather than asked of the C library: a statically linked glibc
/// resolves names through NSS modules it would have to load at run time.
public struct LocalAccounts: Sendable, Equatable {
    public struct User: Sendable, Equatable {
        public let name: String
        public let uid: UInt32
        public let gid: UInt32
    }

    public struct Group: Sendable, Equatable {
        public let name: String
        public let gid: UInt32
        public let members: Set<String>
    }

    public private(set) var users: [UInt32: User] = [:]
    public private(set) var groups: [String: Group] = [:]

    /// Lines that are blank, comments or malformed (too few fields, a non-numeric id) are
    /// skipped: one bad line must not lock every operator out.
    public init(passwd: String, group: String) {
        for line in passwd.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, !fields[0].isEmpty, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { continue }
            if users[uid] == nil { users[uid] = User(name: String(fields[0]), uid: uid, gid: gid) }
        }
        for line in group.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, !fields[0].isEmpty, let gid = UInt32(fields[2]) else { continue }
            let members = Set(fields[3].split(separator: ",").map { String($0) })
            if groups[String(fields[0])] == nil { groups[String(fields[0])] = Group(name: String(fields[0]), gid: gid, members: members) }
        }
    }

    /// The name the audit log gives the caller: the login name, or `uid-N` for a uid with no entry.
    public func name(of uid: UInt32) -> String {
        users[uid]?.name ?? "uid-\(uid)"
    }

    /// Root, or a member of `group`. A uid without a passwd entry is never an operator.
    public func isOperator(uid: UInt32, group: String) -> Bool {
        if uid == 0 { return true }
        guard let user = users[uid], let operators = groups[group] else { return false }
        return user.gid == operators.gid || operators.members.contains(user.name)
    }
}
