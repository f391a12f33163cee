import CNI
import Glibc
import IPAM
import JSONCore
import LinuxSys
import SwnetBridge
import SwnetDNS

/// For crash tests only: SWNET_TEST_CRASH_AT=<point> kills the plugin with SIGKILL when it
/// reaches that checkpoint, so tests can prove that a crash at any step leaves nothing that
/// DEL or GC cannot clean. Installed by `main` in place of the plain syscalls.
final class CrashPoint: LinuxSyscalls {
    static let variable = "SWNET_TEST_CRASH_AT"
    let point: String

    init(at point: String) {
        self.point = point
        super.init()
    }

    override func checkpoint(_ name: String) {
        if name == point { kill(getpid(), SIGKILL) }
    }
}
