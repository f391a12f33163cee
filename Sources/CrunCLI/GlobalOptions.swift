/// runc's global flags, accepted before the subcommand (as runc wants) and after it (as
/// podman's --runtime-arg sometimes puts them).
struct GlobalOptions {
    static let specs: [FlagSpec] = [
        FlagSpec(["root"], value: true, help: "directory for container state (default /run/crun-swift)"),
        FlagSpec(["log"], value: true, help: "log file for errors"),
        FlagSpec(["log-format"], value: true, help: "log format: text or json"),
        FlagSpec(["debug"], help: "print debug messages"),
        FlagSpec(["systemd-cgroup"], help: "accepted and ignored: this build manages no cgroups (containers stay in the caller's cgroup)"),
        FlagSpec(["cgroup-manager"], value: true, help: "cgroupfs or disabled; this build manages no cgroups"),
        FlagSpec(["rootless"], value: true, help: "accepted: true, false or auto"),
        FlagSpec(["help", "h"], help: "show help"),
        FlagSpec(["version", "v"], help: "print the version"),
    ]

    var root = "/run/crun-swift"
    var log: String?
    var logFormat = "text"
    var debug = false
    var systemdCgroup = false

    init(_ parsed: ParsedArguments) throws(CommandLineError) {
        if let r = parsed.value("root") { root = r }
        log = parsed.value("log")
        if let f = parsed.value("log-format") {
            guard f == "text" || f == "json" else { throw .bad("--log-format: unknown format \"\(f)\" (text or json)") }
            logFormat = f
        }
        debug = parsed.has("debug")
        systemdCgroup = parsed.has("systemd-cgroup")
        if let m = parsed.value("cgroup-manager"), m != "cgroupfs", m != "disabled", m != "systemd" {
            throw .bad("--cgroup-manager: unknown manager \"\(m)\" (cgroupfs, systemd or disabled)")
        }
    }
}
