import LinuxSys

/// Runs a helper program (found on PATH) and returns its stdout.
public enum Subprocess {
    public static func output(_ argv: [String]) throws(RuntimeError) -> String {
        try run(argv).stdout
    }

    /// Runs a program; returns its exit status, stdout and stderr.
    public static func run(_ argv: [String]) throws(RuntimeError) -> (status: Int32, stdout: String, stderr: String) {
        var options = Spawn.Options()
        options.stdout = .capture
        options.stderr = .capture
        options.searchPath = true
        // `run` blocks the signals it forwards; the helper (swnet and the DNS server it
        // starts) gets the default mask back.
        options.unblockSignals = true
        let child: Spawn.Child
        do { child = try Spawn.start(argv[0], argv, options) } catch { throw .system(error) }
        // Small outputs: stdout first, then stderr (a helper that fills stderr's pipe first
        // would wait; ours print a line or two).
        let out = Spawn.drain(child.output)
        let err = Spawn.drain(child.errors)
        let code = Spawn.wait(child.pid)
        return (code, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
