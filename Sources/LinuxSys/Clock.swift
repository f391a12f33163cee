import Glibc

/// Seconds on CLOCK_MONOTONIC (deadlines and timeouts: never moves back with the wall clock).
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
