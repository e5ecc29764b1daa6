//! The machine a run happened on (a figure means little without it), and this process's
//! peak memory.

use std::process::Command;

/// What the report says about the machine and the moment.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory: String,
    pub os: String,
    pub rustc: String,
    pub commit: String,
}

impl Machine {
    /// Reads /proc, /etc/os-release, `rustc -V` and `git`; whatever cannot be read is
    /// "unknown".
    pub fn describe() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = field(&cpuinfo, "model name")
            .unwrap_or("unknown")
            .to_owned();
        let threads = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        let cores = std::thread::available_parallelism().map_or(threads, |n| n.get());
        let memory = field(&read("/proc/meminfo"), "MemTotal")
            .and_then(kib)
            .map_or_else(|| "unknown".to_owned(), |k| format!("{} GiB", k >> 20));
        let distribution = read("/etc/os-release")
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
        Self {
            cpu,
            cores,
            memory,
            os: format!("{distribution}, Linux {kernel}"),
            rustc: output("rustc", &["-V"]),
            commit: output("git", &["rev-parse", "--short", "HEAD"]),
        }
    }
}

/// The 1-, 5- and 15-minute load averages, as /proc/loadavg gives them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// This process's peak resident set (`VmHWM`), in KiB. The peak never goes down, so
/// each measured variant runs in a process of its own.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    field(&status, "VmHWM").and_then(kib)
}

/// CPU time this process has used so far (user + system, all threads), in seconds.
pub fn cpu_seconds() -> Option<f64> {
    stat_cpu_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?).map(|t| t as f64 / 100.0)
}

/// utime + stime from a /proc/PID/stat line, in clock ticks (100 per second on Linux).
/// The command name may hold spaces and parentheses, so fields are counted after the
/// last `)`.
fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The value of a `key: value` line (the format of /proc/cpuinfo and /proc/*/status).
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// A "1234 kB" value (the kernel's kB are KiB).
fn kib(value: &str) -> Option<u64> {
    value.strip_suffix("kB")?.trim().parse().ok()
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fields_are_read_by_key() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\ncache size\t: 512 KB\n";
        assert_eq!(field(cpuinfo, "model name"), Some("AMD EPYC 7B13"));
        assert_eq!(field(cpuinfo, "model"), None);
        let status = "VmPeak:\t  10240 kB\nVmHWM:\t    4567 kB\nVmRSS:\t    4000 kB\n";
        assert_eq!(field(status, "VmHWM").and_then(kib), Some(4567));
        assert_eq!(kib("12 MB"), None);
        let stat = "4242 (kie bench) S 1 2 3 4 5 6 7 8 9 10 120 35 0 0 20 0 4 0 99";
        assert_eq!(stat_cpu_ticks(stat), Some(155));
        assert_eq!(stat_cpu_ticks("4242 (short) S 1"), None);
    }
}
