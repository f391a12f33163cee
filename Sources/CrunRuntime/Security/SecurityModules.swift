import Glibc

/// Which Linux security modules this host runs.
public enum SecurityModules {
    public static var appArmorEnabled: Bool {
        guard let bytes = try? FileSystem.readFile("/sys/module/apparmor/parameters/enabled") else { return false }
        return bytes.first == UInt8(ascii: "Y")
    }

    public static var selinuxEnabled: Bool { access("/sys/fs/selinux/enforce", F_OK) == 0 }
}
