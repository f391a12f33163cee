import Foundation
import LinuxSysTesting

/// A temp directory standing in for a cgroup mount, and the RecordingSyscalls the cgroup code
/// is given: each directory it makes gets the control files a kernel would put there (plain
/// files here; RecordingSyscalls' rmdir takes them along, as cgroupfs does).
final class FakeCgroupRoot {
    let root: String
    let sys = RecordingSyscalls()

    /// `controllers`: the root's cgroup.controllers. `files`: the files of a new cgroup.
    init(controllers: String = "cpu memory pids", dirs: [String] = [],
         files: [String: String] = FakeCgroupRoot.v2Files) throws {
        root = NSTemporaryDirectory() + "cgroup-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        FakeCgroupRoot.layOut(root, files.merging(["cgroup.controllers": controllers]) { $1 })
        for d in dirs {
            try FileManager.default.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
            FakeCgroupRoot.layOut(root + "/" + d, files)
        }
        sys.onMakeDirectory = { FakeCgroupRoot.layOut($0, files) }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    static let v2Files = ["cgroup.procs": "", "cgroup.subtree_control": "", "cgroup.events": "populated 0\nfrozen 0\n",
                          "memory.max": "max\n", "memory.swap.max": "max\n", "pids.max": "max\n"]

    static func layOut(_ dir: String, _ files: [String: String]) {
        for (name, text) in files { FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8)) }
    }

    func write(_ relative: String, _ text: String) {
        FileManager.default.createFile(atPath: root + "/" + relative, contents: Data(text.utf8))
    }

    func read(_ relative: String) -> String? { try? String(contentsOfFile: root + "/" + relative, encoding: .utf8) }

    /// The directories below the root, relative, sorted.
    var tree: [String] {
        let all = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? []
        return all.filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: root + "/" + $0, isDirectory: &d) && d.boolValue }.sorted()
    }

    /// The recorded calls that start with one of `verbs` and touch the root, the root written "R".
    func calls(_ verbs: String...) -> [String] {
        sys.calls.filter { c in verbs.contains { c.hasPrefix($0 + " ") } && (c.contains(root) || c.hasPrefix("signal")) }
            .map { $0.replacingOccurrences(of: root, with: "R") }
    }

    /// A recorded call as it will be made ("R" for the root), to inject a failure into.
    func call(_ text: String) -> String {
        text.hasSuffix(" R") ? String(text.dropLast()) + root : text.replacingOccurrences(of: " R/", with: " " + root + "/")
    }
}
