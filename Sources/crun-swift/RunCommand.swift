import ArgumentParser
import CrunRuntime
import Glibc

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Create and run a container in the foreground.",
        discussion: "Either `run BUNDLE_DIR` (the container id is derived from the directory) or runc's `run [--bundle DIR] ID`.")

    @OptionGroup var globals: GlobalOptions

    @Option(name: [.short, .long], help: "Bundle directory (default: the current directory).")
    var bundle: String?

    @Flag(name: .customLong("no-pivot"), help: "Use MS_MOVE and chroot instead of pivot_root.")
    var noPivot = false

    @Flag(name: .customLong("no-new-keyring"), help: "Accepted for compatibility.")
    var noNewKeyring = false

    @Option(name: .customLong("preserve-fds"), help: "Pass N extra descriptors (3..3+N-1) to the container.")
    var preserveFds: Int = 0

    @Argument(help: "Container id, or a bundle directory.")
    var target: String?

    func run() throws {
        var options = PlanOptions()
        options.noPivot = noPivot
        options.preserveFds = preserveFds
        let (bundlePath, _) = resolveTarget()
        do {
            let code = try ContainerRun.run(bundle: Bundle(path: bundlePath), options: options,
                                            warn: Diagnostics.warning)
            throw ExitCode(code)
        } catch let error as RuntimeError {
            Diagnostics.error(error.lines)
            throw ExitCode(1)
        }
    }

    /// `run DIR` when DIR holds a config.json and no --bundle is given; otherwise runc's form.
    func resolveTarget() -> (bundle: String, id: String) {
        if bundle == nil, let target, access(target + "/config.json", F_OK) == 0 {
            return (target, "\(FileSystem.basename(FileSystem.absolute(target, base: FileSystem.currentDirectory())))-\(getpid())")
        }
        return (bundle ?? ".", target ?? "")
    }

    func validate() throws {
        if preserveFds < 0 { throw ValidationError("--preserve-fds must not be negative") }
        if bundle != nil, target == nil { throw ValidationError("missing container id") }
    }
}
