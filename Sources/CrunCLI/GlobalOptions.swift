import CrunRuntime
import Glibc
/// runc's global flags, accepted before the subcommand (as runc wants) and after it (as
/// podman's --runtime-arg sometimes puts them).
struct GlobalOptions {
    static let specs: [FlagSpec] = [
        FlagSpec(["root"], value: true, help: "directory for container state (default /run/crun-swift; $XDG_RUNTIME_DIR/crun-swift when not root)"),
        FlagSpec(["log"], value: true, help: "log file for errors"),
        FlagSpec(["log-format"], value: true, help: "log format: text or json"),
        FlagSpec(["debug"], help: "print debug messages"),
        FlagSpec(["systemd-cgroup"], help: "name cgroups the systemd way (slice:prefix:name); the files are still written directly"),
        FlagSpec(["cgroup-manager"], value: true, help: "cgroupfs (default), systemd (as --systemd-cgroup) or disabled (no cgroup)"),
        FlagSpec(["rootless"], value: true, help: "rootless cgroups: true, false or auto (default: when not root or in a user namespace)"),
        FlagSpec(["help", "h"], help: "show help"),
        FlagSpec(["version", "v"], help: "print the version"),
    ]

    var root = Rootless.defaultStateRoot()
    var log: String?
    var logFormat = "text"
    var debug = false
    var systemdCgroup = false
    var cgroups = CgroupMode.cgroupfs
    /// `--rootless`: nil for auto.
    var rootless: Bool?

    init(_ parsed: ParsedArguments) throws(CommandLineError) {
        if let r = parsed.value("root") { root = r }
        log = parsed.value("log")
        if let f = parsed.value("log-format") {
            guard f == "text" || f == "json" else { throw .bad("--log-format: unknown format \"\(f)\" (text or json)") }
            logFormat = f
        }
        debug = parsed.has("debug")
        systemdCgroup = parsed.has("systemd-cgroup")
        if systemdCgroup { cgroups = .systemd }
        if let r = parsed.value("rootless") {
            guard let value = Rootless.parseFlag(r) else { throw .bad("--rootless: invalid value \"\(r)\" (true, false or auto)") }
            rootless = value
        }
        switch parsed.value("cgroup-manager") {
        case nil: break
        case "cgroupfs": cgroups = systemdCgroup ? .systemd : .cgroupfs
        case "systemd": cgroups = .systemd
        case "disabled": cgroups = .disabled
        case let m?: throw .bad("--cgroup-manager: unknown manager \"\(m)\" (cgroupfs, systemd or disabled)")
        }
    }
}

extension GlobalOptions {
    /// What create and run plan with: who runs the runtime, and runc's rootless cgroups.
    func planOptions(_ base: PlanOptions = PlanOptions()) -> PlanOptions {
        var o = base
        o.cgroups = cgroups
        o.runtimeIsRoot = geteuid() == 0
        let inUserNamespace = Rootless.inUserNamespace
        o.runtimeInUserNamespace = inUserNamespace
        o.rootlessCgroups = Rootless.cgroups(flag: rootless, inUserNamespace: { inUserNamespace })
        return o
    }
}
