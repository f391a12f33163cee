import CrunRuntime
import Glibc

/// `crun-swift run BUNDLE_DIR` or runc's `crun-swift run [--bundle DIR] ID`.
enum RunCommand {
    static let specs: [FlagSpec] = [
        FlagSpec(["bundle", "b"], value: true, help: "bundle directory (default: the current directory)"),
        FlagSpec(["no-pivot"], help: "use MS_MOVE and chroot instead of pivot_root"),
        FlagSpec(["no-new-keyring"], help: "accepted; this build creates no session keyring"),
        FlagSpec(["preserve-fds"], value: true, help: "pass N extra descriptors (3..3+N-1) to the container"),
        FlagSpec(["detach", "d"], help: "return once the container has started; it stays registered"),
        FlagSpec(["pid-file"], value: true, help: "write the container's init pid to this file"),
        FlagSpec(["console-socket"], value: true, help: "unix socket that receives the pty master (with --detach)"),
        FlagSpec(["keep"], help: "do not delete the container after it exits"),
    ] + NetworkFlags.specs

    static let usage = """
        Usage: crun-swift run [--bundle DIR] [--detach] [--keep] [--console-socket S] [--no-pivot]
                              [--preserve-fds N] [--pid-file F] ID
               crun-swift run BUNDLE_DIR

        create + start: the container is registered under --root like a created one (state,
        list, exec, kill see it) and its hooks run. In the foreground its stdio is attached,
        signals sent to crun-swift are forwarded to its init, and the exit status is the
        container's (128+N when killed by signal N); it is deleted when it exits unless --keep.
        """

    /// Where the bundle is and what the container is called.
    static func target(_ parsed: ParsedArguments) throws(CommandLineError) -> (bundle: String, id: String) {
        guard parsed.positionals.count <= 1 else {
            throw .bad("run: expected one container id or bundle directory, got \(parsed.positionals.count) arguments")
        }
        let positional = parsed.positionals.first
        if let bundle = parsed.value("bundle") {
            guard let id = positional else { throw .bad("run: missing container id") }
            return (bundle, id)
        }
        if let dir = positional, access(dir + "/config.json", F_OK) == 0 {
            let name = FileSystem.basename(FileSystem.absolute(dir, base: FileSystem.currentDirectory()))
            return (dir, ContainerID.derived(from: name))
        }
        guard let id = positional else { throw .bad("run: missing container id (or a bundle directory holding config.json)") }
        return (".", id)
    }

    static func main(_ parsed: ParsedArguments, globals: GlobalOptions) throws(CommandLineError) -> Int32 {
        let (bundle, id) = try target(parsed)
        guard ContainerID.isValid(id) else { throw .bad("run: invalid container id \"\(id)\" (letters, digits, _ + - .)") }
        var create = ContainerCreate.Request(id: id, bundle: Bundle(path: bundle))
        create.options.noPivot = parsed.has("no-pivot")
        create.options = globals.planOptions(create.options)
        if let n = parsed.value("preserve-fds") {
            guard let v = Int(n), v >= 0 else { throw .bad("--preserve-fds: expected a number >= 0, got \"\(n)\"") }
            create.options.preserveFds = v
        }
        create.pidFile = parsed.value("pid-file")
        create.consoleSocket = parsed.value("console-socket")
        create.network = NetworkFlags.request(parsed)
        var request = ContainerRun.Request(create: create)
        request.detach = parsed.has("detach")
        request.keep = parsed.has("keep")
        // runc's rule: the terminal goes to a console socket only when run does not stay.
        if create.consoleSocket != nil && !request.detach {
            throw .bad("run --console-socket: only with --detach (in the foreground, run relays the terminal itself)")
        }
        do {
            return try ContainerRun.run(request, store: StateStore(root: globals.root),
                                        warn: Diagnostics.warning, debug: Diagnostics.debug)
        } catch {
            Diagnostics.error(error.lines)
            return 1
        }
    }
}

enum ContainerID {
    /// runc's rule for container ids.
    static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id != "." && id != ".." && id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
        }
    }

    /// A unique id for `run DIR`: the directory's name (made valid) and this process's pid.
    static func derived(from name: String) -> String {
        let cleaned = String(name.map { c -> Character in
            isValid(String(c)) ? c : "-"
        })
        return "\(cleaned.isEmpty ? "container" : cleaned)-\(getpid())"
    }
}

/// `--network NAME` and where its config and plugins are found.
enum NetworkFlags {
    static let specs: [FlagSpec] = [
        FlagSpec(["network"], value: true, help: "attach a network namespace of its own to the swnet network NAME"),
        FlagSpec(["network-config-dir"], value: true, help: "where NAME's config is (default /etc/cni/net.d)"),
        FlagSpec(["cni-path"], value: true, help: "where swnet and other plugins are (default /opt/cni/bin:/usr/lib/cni)"),
    ]

    static func request(_ parsed: ParsedArguments) -> PodNetwork.Request? {
        guard let name = parsed.value("network") else { return nil }
        var r = PodNetwork.Request(name: name)
        if let d = parsed.value("network-config-dir") { r.confDir = d }
        if let p = parsed.value("cni-path") { r.cniPath = p }
        return r
    }
}
