import GordonManager
import Testing

@Suite("gordon-manager: who may operate")
struct LocalAccountsTests {
    static let passwd = """
        root:x:0:0:root:/root:/bin/bash
        # a comment
        alice:x:1000:1000:Alice:/home/alice:/bin/bash
        bob:x:1001:1001::/home/bob:/bin/sh
        carol:x:1002:4242::/home/carol:/bin/sh
        broken:x:notanumber:1:::
        gordon-risk:x:990:990::/nonexistent:/usr/sbin/nologin

        """
    static let group = """
        root:x:0:
        alice:x:1000:
        gordon-ops:x:4242:alice,dave
        gordon-risk:x:990:
        """

    @Test("root, a listed member and a user whose primary group it is are operators; others, services and unknown uids are not")
    func operators() {
        let accounts = LocalAccounts(passwd: Self.passwd, group: Self.group)
        #expect(accounts.isOperator(uid: 0, group: "gordon-ops"))
        #expect(accounts.isOperator(uid: 1000, group: "gordon-ops"))  // alice: listed
        #expect(accounts.isOperator(uid: 1002, group: "gordon-ops"))  // carol: primary group
        #expect(!accounts.isOperator(uid: 1001, group: "gordon-ops"))  // bob
        #expect(!accounts.isOperator(uid: 990, group: "gordon-ops"))  // a service's user
        #expect(!accounts.isOperator(uid: 5000, group: "gordon-ops"))  // no passwd entry (dave is listed but has no account)
        #expect(!accounts.isOperator(uid: 1000, group: "no-such-group"))
        #expect(accounts.name(of: 1000) == "alice" && accounts.name(of: 5000) == "uid-5000")
    }
}
