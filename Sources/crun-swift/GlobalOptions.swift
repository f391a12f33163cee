import ArgumentParser

/// runc's global flags. They may stand before or after the subcommand name.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Directory for container state.")
    var root: String = "/run/crun-swift"

    @Option(help: "Log file for errors (containerd reads the last error from it).")
    var log: String?

    @Option(name: .customLong("log-format"), help: "Log format: text or json.")
    var logFormat: String = "text"

    @Flag(help: "Print debug messages.")
    var debug = false

    @Flag(name: .customLong("systemd-cgroup"), help: "Accepted for compatibility; this build manages no cgroups.")
    var systemdCgroup = false

    @Option(name: .customLong("cgroup-manager"), help: "cgroupfs or disabled; this build manages no cgroups.")
    var cgroupManager: String?

    @Option(help: "Accepted for compatibility (true, false or auto).")
    var rootless: String?
}
