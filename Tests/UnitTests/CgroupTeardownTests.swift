import Foundation
import Glibc
@testable import Cgroups
import LinuxSys
import Testing

/// Removing a container's cgroup through the Syscalls seam: what is left is killed, removal
/// waits on the injected clock (a RecordingSyscalls' clock moves only when slept: no test here
/// sleeps), leaves go before parents, and only the parents the container made are removed.
@Suite struct CgroupTeardownTests {
    func v2(_ fake: FakeCgroupRoot, _ relative: String) -> Cgroup {
        Cgroup(hierarchy: CgroupHierarchy(mount: fake.root, hybrid: false), relative: relative, sys: fake.sys)
    }

    /// Signals "kill" a pid: it leaves every cgroup.procs of `dirs`.
    func killing(_ fake: FakeCgroupRoot, _ dirs: [String]) {
        fake.sys.onSignal = { [unowned fake] pid, _ in
            for d in dirs {
                let left = (fake.read(d + "/cgroup.procs") ?? "").split(separator: "\n").filter { $0 != "\(pid)" }
                fake.write(d + "/cgroup.procs", left.map { $0 + "\n" }.joined())
            }
        }
    }

    @Test func whatIsLeftIsKilledThenLeavesGoBeforeTheirParent() throws {
        let fake = try FakeCgroupRoot(dirs: ["c1", "c1/sub"])
        fake.write("c1/cgroup.procs", "7\n")
        fake.write("c1/sub/cgroup.procs", "8\n")
        killing(fake, ["c1", "c1/sub"])
        try v2(fake, "/c1").destroy()
        #expect(fake.calls("signal", "rmdir") == ["signal 8 9", "signal 7 9", "rmdir R/c1/sub", "rmdir R/c1"])
        #expect(fake.tree.isEmpty)
        #expect(fake.sys.monotonicSeconds() < 0.1)
    }

    @Test func cgroupKillIsWrittenWhereTheKernelHasIt() throws {
        let fake = try FakeCgroupRoot(dirs: ["c1"])
        fake.write("c1/cgroup.procs", "7\n")
        fake.write("c1/cgroup.kill", "")
        try v2(fake, "/c1").destroy()
        #expect(fake.calls("overwrite", "signal", "rmdir") == ["overwrite R/c1/cgroup.kill=1", "rmdir R/c1"])
    }

    @Test func ebusyIsRetriedUntilTheKernelSaysTheCgroupIsEmpty() throws {
        let fake = try FakeCgroupRoot(dirs: ["c1"])
        fake.sys.transientFailures[fake.call("rmdir R/c1")] = (EBUSY, 3)
        try v2(fake, "/c1").destroy()
        #expect(fake.calls("rmdir") == Array(repeating: "rmdir R/c1", count: 4))
        #expect(abs(fake.sys.monotonicSeconds() - 0.03) < 1e-9)
        #expect(fake.tree.isEmpty)
    }

    @Test func aBusyCgroupWithProcessesLeftWaitsForCgroupEventsToSayItIsEmpty() throws {
        let fake = try FakeCgroupRoot(dirs: ["c1"])
        fake.write("c1/cgroup.events", "populated 1\nfrozen 0\n")   // the last process is still exiting
        fake.sys.transientFailures[fake.call("rmdir R/c1")] = (EBUSY, 1)
        fake.sys.onWait = { [unowned fake] _ in fake.write("c1/cgroup.events", "populated 0\nfrozen 0\n") }
        try v2(fake, "/c1").destroy()
        #expect(fake.calls("rmdir", "wait") == ["rmdir R/c1", "wait R/c1/cgroup.events populated=0", "rmdir R/c1"])
        #expect(fake.sys.monotonicSeconds() == 0)   // woken by the event, no retry interval
        #expect(fake.tree.isEmpty)
    }

    @Test func aCgroupThatStaysPopulatedWaitsOnceUntilTheDeadline() throws {
        let fake = try FakeCgroupRoot(dirs: ["c1"])
        fake.write("c1/cgroup.events", "populated 1\nfrozen 0\n")
        fake.sys.failures[fake.call("rmdir R/c1")] = EBUSY
        #expect(throws: CgroupError.system(step: "delete: remove the cgroup", subject: fake.root + "/c1", errno: EBUSY)) {
            try v2(fake, "/c1").destroy()
        }
        #expect(fake.calls("wait") == ["wait R/c1/cgroup.events populated=0"])
        #expect(abs(fake.sys.monotonicSeconds() - Cgroup.emptyTimeout) < 0.002)
    }

    @Test func freezeWaitsUntilCgroupEventsSaysFrozen() throws {
        let fake = try FakeCgroupRoot(dirs: ["c1"])
        fake.write("c1/cgroup.freeze", "0\n")
        fake.sys.onWait = { [unowned fake] _ in fake.write("c1/cgroup.events", "populated 1\nfrozen 1\n") }
        try v2(fake, "/c1").freeze(true)
        #expect(fake.calls("overwrite", "wait") == ["overwrite R/c1/cgroup.freeze=1", "wait R/c1/cgroup.events frozen=1"])
        #expect(fake.sys.monotonicSeconds() == 0)
    }

    @Test func freezeThatNeverLandsFailsAfterFiveSecondsOfTheInjectedClock() throws {
        let fake = try FakeCgroupRoot(dirs: ["c1"])
        fake.write("c1/cgroup.freeze", "0\n")
        #expect { try v2(fake, "/c1").freeze(true) } throws: { "\($0)" == "pause: \(fake.root)/c1 did not become frozen within 5 s" }
        #expect(fake.sys.monotonicSeconds() == 5)
    }

    @Test func aCgroupThatStaysBusyFailsAtTheDeadlineOfTheInjectedClock() throws {
        let fake = try FakeCgroupRoot(dirs: ["c1"])
        fake.write("c1/cgroup.procs", "7\n")   // never dies
        fake.sys.failures[fake.call("rmdir R/c1")] = EBUSY
        let started = LinuxSys.monotonicSeconds()
        #expect {
            try v2(fake, "/c1").destroy()
        } throws: { error in
            "\(error)" == "delete: remove the cgroup `\(fake.root)/c1`: Device or resource busy"
        }
        let waited = fake.sys.monotonicSeconds()
        #expect(waited >= Cgroup.emptyTimeout && waited < Cgroup.emptyTimeout + 0.05)
        #expect(fake.calls("signal").count >= 100 && Set(fake.calls("signal")) == ["signal 7 9"])
        #expect(LinuxSys.monotonicSeconds() - started < 5)   // the fake clock waited, not the test
    }

    @Test func anotherErrnoAtRemovalIsNotRetried() throws {
        let fake = try FakeCgroupRoot(dirs: ["c1"])
        fake.sys.failures[fake.call("rmdir R/c1")] = EACCES
        #expect(throws: CgroupError.system(step: "delete: remove the cgroup", subject: fake.root + "/c1", errno: EACCES)) {
            try v2(fake, "/c1").destroy()
        }
        #expect(fake.calls("rmdir").count == 1)
    }

    @Test func onlyTheParentsTheContainerMadeAreRemoved() throws {
        let fake = try FakeCgroupRoot(dirs: ["pods"])   // someone else's
        let cgroup = v2(fake, "/pods/a/c1")
        let made = try cgroup.setUp([])
        #expect(made == [fake.root + "/pods/a", fake.root + "/pods/a/c1"])
        try cgroup.destroy()
        Cgroup.removeCreated(made, sys: fake.sys)
        #expect(fake.calls("rmdir") == ["rmdir R/pods/a/c1", "rmdir R/pods/a/c1", "rmdir R/pods/a"])
        #expect(fake.tree == ["pods"])
    }

    @Test func v1KillsInEveryHierarchyAndRemovesEveryDirectory() throws {
        let fake = try FakeCgroupRoot(dirs: ["memory/c1", "pids/c1"], files: ["cgroup.procs": ""])
        fake.write("memory/c1/cgroup.procs", "5\n")
        fake.write("pids/c1/cgroup.procs", "5\n")
        killing(fake, ["memory/c1", "pids/c1"])
        let v1 = CgroupV1Manager(paths: ["memory": fake.root + "/memory/c1", "pids": fake.root + "/pids/c1"], unified: nil, sys: fake.sys)
        try v1.destroy()
        #expect(fake.calls("rmdir") == ["rmdir R/memory/c1", "rmdir R/pids/c1"])
        #expect(fake.calls("signal").first == "signal 5 9")
        #expect(fake.tree == ["memory", "pids"])
    }

    @Test func v1ThatStaysPopulatedFailsAtTheDeadline() throws {
        let fake = try FakeCgroupRoot(dirs: ["memory/c1"], files: ["cgroup.procs": ""])
        fake.write("memory/c1/cgroup.procs", "5\n")
        let v1 = CgroupV1Manager(paths: ["memory": fake.root + "/memory/c1"], unified: nil, sys: fake.sys)
        #expect { try v1.destroy() } throws: { "\($0)".contains("still hold processes 5 after SIGKILL") }
        #expect(fake.sys.monotonicSeconds() > 10 && fake.sys.monotonicSeconds() < 10.05)
        #expect(fake.calls("rmdir").isEmpty)
    }
}
