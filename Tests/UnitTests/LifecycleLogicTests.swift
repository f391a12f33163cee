@testable import CrunCLI
import CrunRuntime
import JSONCore
import OCISpec
import Testing

@Suite struct LifecycleLogicTests {
    @Test(arguments: [("KILL", 9), ("SIGKILL", 9), ("sigterm", 15), ("9", 9), ("HUP", 1), ("USR1", 10), ("WINCH", 28)])
    func signalNames(_ text: String, _ number: Int32) {
        #expect(ContainerKill.parseSignal(text) == number)
    }

    @Test(arguments: ["", "SIGFOO", "0", "65", "-1"])
    func badSignals(_ text: String) {
        #expect(ContainerKill.parseSignal(text) == nil)
    }

    @Test func execEnvironmentReplacesAndAdds() {
        #expect(ExecCommand.mergeEnv(["PATH=/bin", "A=1"], ["A=2", "B=3"]) == ["PATH=/bin", "A=2", "B=3"])
    }

    @Test func execUser() throws {
        let base = User(uid: 0, gid: 0)
        #expect(try ExecCommand.parseUser("1000", base: base).uid == 1000)
        let u = try ExecCommand.parseUser("1000:1001", base: base)
        #expect(u.uid == 1000 && u.gid == 1001)
        #expect(throws: RuntimeError.self) { try ExecCommand.parseUser("nobody", base: base) }
    }

    @Test func containerIDs() {
        #expect(ContainerID.isValid("abc-1.2_3+x"))
        for bad in ["", ".", "..", "a/b", "a b", "ä"] { #expect(!ContainerID.isValid(bad), "\(bad)") }
        #expect(ContainerID.derived(from: "my bundle").hasPrefix("my-bundle-"))
    }

    @Test func stateJSONHasRuncsFields() throws {
        let s = ContainerState(id: "c", pid: 0, status: .created, bundle: "/b", rootfs: "/b/rootfs",
                               created: "2026-01-01T00:00:00.000000000Z", annotations: ["k": "v"], initStartTime: 1)
        // pid 0 is never alive: reported stopped, with pid 0.
        let json = s.specJSON().serialized()
        #expect(json == #"{"ociVersion":"1.3.0","id":"c","pid":0,"status":"stopped","bundle":"/b","rootfs":"/b/rootfs","created":"2026-01-01T00:00:00.000000000Z","owner":"","annotations":{"k":"v"}}"#)
        #expect(s.specJSON(status: .creating)["status"] == .string("creating"))
    }

    @Test func prettyJSONIsIndented() throws {
        let v = try JSONParser.parse(#"{"a":[1,{"b":true}],"c":{}}"#)
        #expect(LifecycleCommands.pretty(v) == "{\n  \"a\": [\n    1,\n    {\n      \"b\": true\n    }\n  ],\n  \"c\": {}\n}")
    }

    @Test func specTemplateIsAValidConfig() throws {
        for rootless in [false, true] {
            let spec = try Bundle.decodeSpec(Array(SpecTemplate.config(rootless: rootless, uid: 1000, gid: 1000).utf8))
            #expect(SpecValidator().validate(spec) == [], "rootless \(rootless)")
        }
    }
}
