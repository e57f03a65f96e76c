import GordonKernel
import Testing

@Suite("Secret")
struct SecretTests {
    static let plain = "hunter2-very-secret"

    @Test func neverRevealsItself() {
        let secret = Secret(Self.plain)
        var dumped = ""
        dump(secret, to: &dumped)
        var dumpedInArray = ""
        dump([secret], to: &dumpedInArray)
        let renderings = [
            secret.description, secret.debugDescription, "\(secret)", String(describing: secret),
            String(reflecting: secret), dumped, dumpedInArray, "\([secret])", "\(Optional(secret) as Any)",
            String(reflecting: ["k": secret]),
        ]
        for rendering in renderings {
            #expect(!rendering.contains(Self.plain), "revealed in: \(rendering)")
            #expect(!rendering.contains("hunter2"))
        }
        #expect(secret.description == "<redacted>")
        #expect(Mirror(reflecting: secret).children.isEmpty)
    }

    @Test func plainTextOnlyThroughTheExplicitDoor() {
        let secret = Secret(Self.plain)
        #expect(secret.withPlainText { $0 } == Self.plain)
        #expect(secret.withPlainText { $0.count } == Self.plain.count)
        #expect(!secret.isEmpty)
        #expect(Secret("").isEmpty)
    }

    @Test func comparesByValue() {
        #expect(Secret("a") == Secret("a"))
        #expect(Secret("a") != Secret("b"))
        #expect(Set([Secret("a"), Secret("a")]).count == 1)
    }
}
