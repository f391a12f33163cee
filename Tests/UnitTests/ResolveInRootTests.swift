import CShim
import Foundation
import Testing

/// cs_resolve_in_root is what the child uses for every mount destination; it needs no root.
@Suite struct ResolveInRootTests {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "resolve-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/real/dir", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: root + "/abs", withDestinationPath: "/etc")
        try fm.createSymbolicLink(atPath: root + "/up", withDestinationPath: "../../../../../etc")
        try fm.createSymbolicLink(atPath: root + "/rel", withDestinationPath: "real/dir")
    }

    func withRoot<T>(_ body: (Int32) throws -> T) rethrows -> T {
        let fd = open(root, O_RDONLY | O_DIRECTORY)
        defer { close(fd); try? FileManager.default.removeItem(atPath: root) }
        return try body(fd)
    }

    func realPath(_ fd: Int32) -> String {
        let p = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
        close(fd)
        return p
    }

    @Test func absoluteSymlinkStaysInside() throws {
        withRoot { rootFd in
            let fd = cs_resolve_in_root(rootFd, "/abs/new/mnt", Int32(CS_DEST_DIR.rawValue), 1)
            #expect(fd >= 0)
            #expect(realPath(fd) == root + "/etc/new/mnt")
            #expect(!FileManager.default.fileExists(atPath: "/etc/new/mnt"))
        }
    }

    @Test func dotDotSymlinkStaysInside() throws {
        withRoot { rootFd in
            let fd = cs_resolve_in_root(rootFd, "up/x", Int32(CS_DEST_FILE.rawValue), 1)
            #expect(fd >= 0)
            #expect(realPath(fd) == root + "/etc/x")
            var isDir: ObjCBool = true
            #expect(FileManager.default.fileExists(atPath: root + "/etc/x", isDirectory: &isDir) && !isDir.boolValue)
        }
    }

    @Test func relativeSymlinkAndDotDot() throws {
        withRoot { rootFd in
            #expect(realPath(cs_resolve_in_root(rootFd, "/rel/../../../..//real/./dir", 0, 0)) == root + "/real/dir")
            #expect(realPath(cs_resolve_in_root(rootFd, "/rel", 0, 0)) == root + "/real/dir")
        }
    }

    @Test func missingWithoutCreateIsENOENT() throws {
        withRoot { rootFd in
            #expect(cs_resolve_in_root(rootFd, "/nope/x", 0, 0) == -ENOENT)
        }
    }
}
