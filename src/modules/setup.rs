//! `setup` gathers facts about the host in one round trip (a fixed `sh` script reading `uname`,
//! `/etc/os-release`, `/proc`, `ip` and `env`) and sets them as host variables under Ansible's
//! names: `ansible_distribution`, `ansible_os_family`, `ansible_memtotal_mb`,
//! `ansible_default_ipv4`, `ansible_env`, ... and `ansible_facts` (the same without the prefix).
//! `gather_subset` selects `hardware` and `network` (the minimal facts are always gathered, as in
//! Ansible; other subset names are accepted and gather nothing more); `filter` keeps the facts
//! whose names match its globs (`*`, `?`). `ansible_python` and `ansible_python_version` come
//! from the host's interpreter (`ansible_python_interpreter`, else `python3`) when it has one.
//! Virtualization, mounts, devices and SELinux facts are not gathered.

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::{Failure, Inspect, Outcome, StepContext};
use crate::template::Vars;
use crate::transport::{Exec, HostError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// `all` (default), `min`, `hardware`, `network`, and `!name` to leave one out.
    #[serde(default)]
    gather_subset: Option<Json>,
    /// Globs on fact names; only matching facts are kept.
    #[serde(default)]
    filter: Option<Json>,
    /// Accepted: the script gathers in one short round trip.
    #[serde(default)]
    #[allow(dead_code)]
    gather_timeout: Option<u64>,
}

/// Prints `key=value` lines, then a line `\x1eenv` and the environment as `env -0` gives it.
const GATHER: &str = r#"
export LC_ALL=C
k() { printf '%s=%s\n' "$1" "$2"; }
k nodename "$(uname -n)"
k fqdn "$(hostname -f 2>/dev/null || uname -n)"
k system "$(uname -s)"
k kernel "$(uname -r)"
k kernel_version "$(uname -v)"
k machine "$(uname -m)"
[ -r /etc/os-release ] && sed -n 's/^\([A-Z_]*\)=/os_\1=/p' /etc/os-release
[ -r /etc/debian_version ] && k debian_version "$(cat /etc/debian_version)"
[ -r /etc/lsb-release ] && sed -n 's/^DISTRIB_CODENAME=/lsb_codename=/p' /etc/lsb-release
if [ -r /proc/cpuinfo ]; then
  k vcpus "$(grep -c '^processor' /proc/cpuinfo)"
  grep -E '^(physical id|cpu cores|siblings)' /proc/cpuinfo | sort -u | sed 's/[[:space:]]*:[[:space:]]*/=/; s/ /_/; s/^/cpu_/'
fi
k nproc "$(nproc 2>/dev/null)"
[ -r /proc/meminfo ] && sed -n 's/^\(MemTotal\|MemFree\|SwapTotal\|SwapFree\):[[:space:]]*\([0-9]*\).*/mem_\1=\2/p' /proc/meminfo
[ -r /proc/uptime ] && k uptime "$(cut -d' ' -f1 /proc/uptime)"
k user_id "$(id -un)"
k user_uid "$(id -u)"
k user_gid "$(id -g)"
k user_passwd "$(getent passwd "$(id -un)")"
if command -v ip >/dev/null 2>&1; then
  k route "$(ip -4 route get 1.1.1.1 2>/dev/null | head -n 1)"
  ip -4 -o addr show 2>/dev/null | while read -r _ ifc _ addr rest; do k addr "$ifc $addr $rest"; done
fi
[ -r /proc/net/route ] && k proc_route "$(awk '$2 == "00000000" { print $1, $3; exit }' /proc/net/route)"
for n in $(ls -U /sys/class/net 2>/dev/null); do
  i=/sys/class/net/$n
  t=$(cat "$i/type" 2>/dev/null)
  [ -e "$i/bridge" ] && t=bridge
  [ -e "$i/bonding" ] && t=bonding
  k iface "$n $(cat "$i/address" 2>/dev/null) $(cat "$i/mtu" 2>/dev/null) $t"
done
k date "$(date '+%Y-%m-%d|%H:%M:%S|%s|%Y|%m|%d|%H|%M|%S|%Z|%z|%A|%w|%W')"
k date_utc "$(date -u '+%Y-%m-%dT%H:%M:%SZ')"
if [ -d /run/systemd/system ]; then k service_mgr systemd; fi
k proc1 "$(cat /proc/1/comm 2>/dev/null)"
[ -x /sbin/openrc ] && k openrc 1
[ -d /etc/init.d ] && k initd 1
for p in apt-get dnf yum apk zypper pacman; do
  if command -v $p >/dev/null 2>&1; then k pkg_mgr $p; break; fi
done
py=$1
[ -n "$py" ] || py=$(command -v python3 || command -v python) 2>/dev/null
[ -z "$py" ] || k python "$("$py" -c "$2" 2>/dev/null)"
printf '\036env\n'
env -0 2>/dev/null || env"#;

/// Ansible's `python` facts, `python_version` and `fqdn`, as its interpreter on the host reports
/// them (`module_utils/facts/system/python.py` and `platform.py`), as one line of JSON.
const PYTHON_FACTS: &str = "import sys, json, platform
try:
    from ssl import SSLContext
    has_sslcontext = True
except ImportError:
    has_sslcontext = False
v = sys.version_info
python = {'version': {'major': v[0], 'minor': v[1], 'micro': v[2], 'releaselevel': v[3], 'serial': v[4]},
          'version_info': list(v), 'executable': sys.executable, 'has_sslcontext': has_sslcontext,
          'type': getattr(getattr(sys, 'implementation', None), 'name', None)}
import socket
print(json.dumps({'python': python, 'python_version': platform.python_version(), 'fqdn': socket.getfqdn()}))";

/// The raw lines of the script's output.
#[derive(Debug, Default)]
struct Raw {
    values: Vec<(String, String)>,
    env: Map<String, Json>,
}

impl Raw {
    fn get(&self, key: &str) -> Option<&str> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, key: &str) -> Option<u64> {
        self.get(key)?.trim().parse().ok()
    }
}

fn parse_raw(text: &str) -> Raw {
    let mut raw = Raw::default();
    let (head, env) = text.split_once("\u{1e}env\n").unwrap_or((text, ""));
    for line in head.lines() {
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"');
            raw.values.push((k.to_string(), v.to_string()));
        }
    }
    let entries: Vec<&str> = if env.contains('\0') {
        env.split('\0').collect()
    } else {
        env.lines().collect()
    };
    for entry in entries {
        if let Some((k, v)) = entry.split_once('=')
            && !k.is_empty()
        {
            raw.env.insert(k.to_string(), Json::from(v));
        }
    }
    raw
}

fn distribution_name(id: &str, name: &str) -> String {
    match id {
        "debian" => "Debian",
        "ubuntu" => "Ubuntu",
        "raspbian" => "Debian",
        "linuxmint" => "Linux Mint",
        "kali" => "Kali",
        "devuan" => "Devuan",
        "pop" => "Pop!_OS",
        "centos" => "CentOS",
        "rhel" => "RedHat",
        "fedora" => "Fedora",
        "rocky" => "Rocky",
        "almalinux" => "AlmaLinux",
        "ol" => "OracleLinux",
        "amzn" => "Amazon",
        "alpine" => "Alpine",
        "arch" => "Archlinux",
        "opensuse-leap" => "openSUSE Leap",
        "opensuse-tumbleweed" => "openSUSE Tumbleweed",
        "sles" => "SLES",
        "gentoo" => "Gentoo",
        _ => return name.split_whitespace().next().unwrap_or(id).to_string(),
    }
    .to_string()
}

fn os_family(distribution: &str, id_like: &str) -> String {
    let family = match distribution {
        "Debian" | "Ubuntu" | "Linux Mint" | "Kali" | "Devuan" | "Pop!_OS" => "Debian",
        "RedHat" | "CentOS" | "Fedora" | "Rocky" | "AlmaLinux" | "OracleLinux" | "Amazon" => "RedHat",
        "openSUSE Leap" | "openSUSE Tumbleweed" | "SLES" => "Suse",
        "Alpine" => "Alpine",
        "Archlinux" => "Archlinux",
        "Gentoo" => "Gentoo",
        _ => {
            let like = id_like.split_whitespace().collect::<Vec<_>>();
            if like.contains(&"debian") || like.contains(&"ubuntu") {
                "Debian"
            } else if like.iter().any(|l| ["rhel", "fedora", "centos"].contains(l)) {
                "RedHat"
            } else if like.iter().any(|l| l.starts_with("suse")) {
                "Suse"
            } else if like.contains(&"arch") {
                "Archlinux"
            } else {
                distribution
            }
        }
    };
    family.to_string()
}

fn netmask(prefix: u32) -> String {
    let mask: u32 = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    };
    std::net::Ipv4Addr::from(mask).to_string()
}

/// The facts, each under its `ansible_` name, and the subset it belongs to.
fn facts(raw: &Raw) -> Vec<(&'static str, String, Json)> {
    let mut out: Vec<(&'static str, String, Json)> = Vec::new();
    let mut fact = |subset: &'static str, name: &str, value: Json| {
        out.push((subset, format!("ansible_{name}"), value));
    };
    let text = |key: &str| Json::from(raw.get(key).unwrap_or_default());

    // Python, and what it says the host's fully qualified name is (`socket.getfqdn()`).
    let mut python: Map<String, Json> = raw
        .get("python")
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    if let Some(facts) = python.remove("python") {
        fact("min", "python", facts);
        fact(
            "min",
            "python_version",
            python.remove("python_version").unwrap_or_default(),
        );
    }
    let python_fqdn = python.remove("fqdn");

    // Platform.
    let nodename = raw.get("nodename").unwrap_or_default();
    let fqdn = python_fqdn
        .as_ref()
        .and_then(Json::as_str)
        .or(raw.get("fqdn"))
        .filter(|f| !f.is_empty())
        .unwrap_or(nodename);
    fact("min", "nodename", Json::from(nodename));
    fact(
        "min",
        "hostname",
        Json::from(nodename.split('.').next().unwrap_or_default()),
    );
    fact("min", "fqdn", Json::from(fqdn));
    fact(
        "min",
        "domain",
        Json::from(fqdn.split_once('.').map(|(_, d)| d).unwrap_or_default()),
    );
    fact("min", "system", text("system"));
    fact("min", "kernel", text("kernel"));
    fact("min", "kernel_version", text("kernel_version"));
    let machine = raw.get("machine").unwrap_or_default();
    fact("min", "machine", Json::from(machine));
    let architecture = match machine {
        "i386" | "i486" | "i586" | "i686" => "i386",
        other => other,
    };
    fact("min", "architecture", Json::from(architecture));

    // Distribution.
    let id = raw.get("os_ID").unwrap_or_default();
    let name = raw.get("os_NAME").unwrap_or(raw.get("system").unwrap_or_default());
    let distribution = distribution_name(id, name);
    let debian_version = raw.get("debian_version").unwrap_or_default();
    let version = if distribution == "Debian" && debian_version.starts_with(|c: char| c.is_ascii_digit()) {
        debian_version.to_string()
    } else {
        raw.get("os_VERSION_ID").unwrap_or_default().to_string()
    };
    let release = raw
        .get("os_VERSION_CODENAME")
        .or(raw.get("lsb_codename"))
        .filter(|r| !r.is_empty())
        .map(String::from)
        .unwrap_or_else(|| {
            debian_version
                .split('/')
                .next()
                .filter(|r| !r.starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or_default()
                .to_string()
        });
    fact(
        "min",
        "os_family",
        Json::from(os_family(&distribution, raw.get("os_ID_LIKE").unwrap_or_default())),
    );
    fact("min", "distribution", Json::from(distribution.as_str()));
    fact(
        "min",
        "distribution_major_version",
        Json::from(version.split('.').next().unwrap_or_default()),
    );
    fact("min", "distribution_version", Json::from(version.as_str()));
    fact("min", "distribution_release", Json::from(release));

    // User and environment.
    let passwd: Vec<&str> = raw.get("user_passwd").unwrap_or_default().split(':').collect();
    fact("min", "user_id", text("user_id"));
    for (key, n) in [("user_uid", "user_uid"), ("user_gid", "user_gid")] {
        fact("min", key, raw.number(n).map(Json::from).unwrap_or(Json::Null));
    }
    for (key, i) in [("user_gecos", 4), ("user_dir", 5), ("user_shell", 6)] {
        fact("min", key, passwd.get(i).map(|v| Json::from(*v)).unwrap_or(Json::Null));
    }
    fact("min", "env", Json::Object(raw.env.clone()));

    // Date and time.
    let parts: Vec<&str> = raw.get("date").unwrap_or_default().split('|').collect();
    if parts.len() >= 14 {
        let mut date = Map::new();
        for (key, i) in [
            ("date", 0),
            ("time", 1),
            ("epoch", 2),
            ("epoch_int", 2),
            ("year", 3),
            ("month", 4),
            ("day", 5),
            ("hour", 6),
            ("minute", 7),
            ("second", 8),
            ("tz", 9),
            ("tz_offset", 10),
            ("weekday", 11),
            ("weekday_number", 12),
            ("weeknumber", 13),
        ] {
            date.insert(key.into(), Json::from(parts[i]));
        }
        date.insert("iso8601".into(), text("date_utc"));
        fact("min", "date_time", Json::Object(date));
    }

    // Service and package managers.
    // As Ansible's `service_mgr` collector: the name of process 1 unless it is `init` or a shell.
    let proc1 = raw
        .get("proc1")
        .map(str::trim)
        .filter(|p| !p.is_empty() && *p != "init" && !p.ends_with("sh"));
    let service_mgr = match proc1 {
        Some("procd") => "openwrt_init",
        Some("runit-init") => "runit",
        Some("svscan") => "svc",
        Some("openrc-init") => "openrc",
        Some(name) => name,
        None if raw.get("service_mgr") == Some("systemd") => "systemd",
        None if raw.get("openrc").is_some() => "openrc",
        None if raw.get("initd").is_some() => "sysvinit",
        None => "service",
    };
    fact("min", "service_mgr", Json::from(service_mgr));
    let pkg_mgr = match raw.get("pkg_mgr").unwrap_or("unknown") {
        "apt-get" => "apt",
        other => other,
    };
    fact("min", "pkg_mgr", Json::from(pkg_mgr));

    // Hardware.
    let vcpus = raw.number("vcpus").filter(|n| *n > 0).or(raw.number("nproc"));
    let sockets = raw.all("cpu_physical_id").count() as u64;
    let cores = raw.number("cpu_cpu_cores").unwrap_or(1).max(1);
    let siblings = raw.number("cpu_siblings").unwrap_or(cores);
    fact("hardware", "processor_vcpus", Json::from(vcpus.unwrap_or(1)));
    fact(
        "hardware",
        "processor_count",
        Json::from(if sockets > 0 { sockets } else { vcpus.unwrap_or(1) }),
    );
    fact("hardware", "processor_cores", Json::from(cores));
    fact(
        "hardware",
        "processor_threads_per_core",
        Json::from((siblings / cores).max(1)),
    );
    fact(
        "hardware",
        "processor_nproc",
        Json::from(raw.number("nproc").or(vcpus).unwrap_or(1)),
    );
    for (key, raw_key) in [
        ("memtotal_mb", "mem_MemTotal"),
        ("memfree_mb", "mem_MemFree"),
        ("swaptotal_mb", "mem_SwapTotal"),
        ("swapfree_mb", "mem_SwapFree"),
    ] {
        if let Some(kb) = raw.number(raw_key) {
            fact("hardware", key, Json::from(kb / 1024));
        }
    }
    if let Some(uptime) = raw.get("uptime").and_then(|u| u.split('.').next()?.parse::<u64>().ok()) {
        fact("hardware", "uptime_seconds", Json::from(uptime));
    }

    // Network.
    let interfaces: Vec<Vec<&str>> = raw.all("iface").map(|l| l.split_whitespace().collect()).collect();
    let position = |ifc: &str| {
        interfaces
            .iter()
            .position(|i| i.first() == Some(&ifc))
            .unwrap_or(usize::MAX)
    };
    // (interface, address, prefix, broadcast), in the order of the interfaces, as Ansible lists them.
    let mut addresses: Vec<(&str, &str, u32, &str)> = raw
        .all("addr")
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (ifc, cidr) = (words.next()?, words.next()?);
            let (addr, prefix) = cidr.split_once('/').unwrap_or((cidr, "32"));
            let rest: Vec<&str> = words.collect();
            let broadcast = match rest.as_slice() {
                ["brd", brd, ..] => brd,
                _ => "",
            };
            Some((ifc, addr, prefix.parse().unwrap_or(32), broadcast))
        })
        .collect();
    addresses.sort_by_key(|(ifc, ..)| position(ifc));
    fact(
        "network",
        "all_ipv4_addresses",
        Json::from(
            addresses
                .iter()
                .filter(|(_, a, ..)| !a.starts_with("127."))
                .map(|(_, a, ..)| Json::from(*a))
                .collect::<Vec<_>>(),
        ),
    );
    fact(
        "network",
        "interfaces",
        Json::from(
            interfaces
                .iter()
                .filter_map(|i| i.first().map(|n| Json::from(*n)))
                .collect::<Vec<_>>(),
        ),
    );
    let mut default = Map::new();
    let route: Vec<&str> = raw.get("route").unwrap_or_default().split_whitespace().collect();
    let after = |word: &str| {
        route
            .iter()
            .position(|w| *w == word)
            .and_then(|i| route.get(i + 1))
            .copied()
    };
    let (mut interface, mut gateway, address) = (
        after("dev").map(String::from),
        after("via").map(String::from),
        after("src").map(String::from),
    );
    if interface.is_none()
        && let Some((ifc, hex)) = raw.get("proc_route").and_then(|r| r.split_once(' '))
    {
        interface = Some(ifc.to_string());
        gateway = u32::from_str_radix(hex, 16)
            .ok()
            .filter(|g| *g != 0)
            .map(|g| std::net::Ipv4Addr::from(g.swap_bytes()).to_string());
    }
    if let Some(interface) = interface {
        let found = addresses
            .iter()
            .find(|(ifc, a, ..)| *ifc == interface && address.as_deref().is_none_or(|want| want == *a));
        let address = address.or_else(|| found.map(|(_, a, ..)| a.to_string()));
        if let Some(address) = &address {
            default.insert("address".into(), Json::from(address.as_str()));
        }
        if let Some((_, addr, prefix, broadcast)) = found {
            default.insert("broadcast".into(), Json::from(*broadcast));
            default.insert("prefix".into(), Json::from(prefix.to_string()));
            default.insert("netmask".into(), Json::from(netmask(*prefix)));
            if let Ok(ip) = addr.parse::<std::net::Ipv4Addr>() {
                let mask: u32 = netmask(*prefix)
                    .parse::<std::net::Ipv4Addr>()
                    .map(u32::from)
                    .unwrap_or(0);
                let network = std::net::Ipv4Addr::from(u32::from(ip) & mask);
                default.insert("network".into(), Json::from(network.to_string()));
            }
        }
        if let Some(info) = interfaces.iter().find(|i| i.first() == Some(&interface.as_str())) {
            if let Some(mac) = info.get(1) {
                default.insert("macaddress".into(), Json::from(*mac));
            }
            if let Some(mtu) = info.get(2).and_then(|m| m.parse::<u64>().ok()) {
                default.insert("mtu".into(), Json::from(mtu));
            }
            let kind = match info.get(3).copied().unwrap_or_default() {
                "1" => "ether",
                "32" => "infiniband",
                "512" => "ppp",
                "772" => "loopback",
                "65534" => "tunnel",
                "bridge" => "bridge",
                "bonding" => "bonding",
                _ => "unknown",
            };
            default.insert("type".into(), Json::from(kind));
        }
        default.insert("interface".into(), Json::from(interface.as_str()));
        default.insert("alias".into(), Json::from(interface.as_str()));
        if let Some(gateway) = gateway {
            default.insert("gateway".into(), Json::from(gateway));
        }
    }
    fact("network", "default_ipv4", Json::Object(default));
    out
}

/// `fnmatch.fnmatch`, as Ansible's `setup` matches `filter` against fact names.
fn glob_match(pattern: &str, name: &str) -> bool {
    crate::compat::python::fnmatch(name, pattern)
}

fn strings(value: &Option<Json>, name: &str) -> Result<Vec<String>, HostError> {
    match value {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::String(s)) => Ok(s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()),
        Some(Json::Array(items)) => Ok(items.iter().map(crate::yaml::scalar_text).collect()),
        Some(other) => Err(HostError::Failed(format!(
            "invalid arguments: `{name}` is a list or a comma-separated string, not {other}"
        ))),
    }
}

/// Subset names Ansible knows; bgrun gathers `hardware` and `network` beyond the minimal facts.
const SUBSETS: &[&str] = &[
    "all",
    "min",
    "hardware",
    "network",
    "virtual",
    "ohai",
    "facter",
    "apparmor",
    "caps",
    "cmdline",
    "date_time",
    "distribution",
    "dns",
    "env",
    "fips",
    "local",
    "lsb",
    "pkg_mgr",
    "platform",
    "python",
    "selinux",
    "service_mgr",
    "ssh_pub_keys",
    "user",
    "devices",
    "interfaces",
    "mounts",
];

/// Which of `hardware` and `network` the subsets ask for.
fn subsets(items: &[String]) -> Result<(bool, bool), HostError> {
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for item in items {
        let (list, name) = match item.strip_prefix('!') {
            Some(name) => (&mut exclude, name),
            None => (&mut include, item.as_str()),
        };
        if !SUBSETS.contains(&name) {
            return Err(HostError::Failed(format!(
                "invalid arguments: bad subset `{name}` in `gather_subset`; give all, min, hardware, network (or !name)"
            )));
        }
        list.push(name);
    }
    if include.is_empty() {
        include.push("all");
    }
    let all = include.contains(&"all") && !exclude.contains(&"all");
    let wants = |name: &str| (all || include.contains(&name)) && !exclude.contains(&name);
    Ok((wants("hardware"), wants("network")))
}

impl Inspect for Setup {
    async fn inspect(self, cx: &StepContext<'_>) -> Result<Outcome, Failure> {
        let (hardware, network) = subsets(&strings(&self.gather_subset, "gather_subset")?)?;
        let mut filters = strings(&self.filter, "filter")?;
        if filters.is_empty() {
            filters.push("*".into());
        }
        let remote = cx.remote().await?;
        // The interpreter Ansible would run its modules with: the host's, else the first found.
        let interpreter = cx.var("ansible_python_interpreter").unwrap_or_default();
        let output = remote
            .exec(&Exec::script(GATHER, &[&interpreter, PYTHON_FACTS]))
            .await?;
        if output.rc != 0 && output.stdout.is_empty() {
            return Err(Failure::new(format!(
                "cannot gather facts: {}",
                output.stderr_text().trim()
            )));
        }
        let raw = parse_raw(&output.stdout_text());
        let mut gathered = Vars::new();
        for (subset, name, value) in facts(&raw) {
            let wanted = match subset {
                "hardware" => hardware,
                "network" => network,
                _ => true,
            };
            if wanted && filters.iter().any(|f| glob_match(f, &name)) {
                gathered.insert(name, value);
            }
        }
        // `ansible_facts`: what earlier gathering found, with these facts without their prefix.
        let mut short = match cx.templar.eval("ansible_facts", cx.scope) {
            Ok(Json::Object(map)) => map,
            _ => Map::new(),
        };
        for (name, value) in &gathered {
            let key = name.strip_prefix("ansible_").unwrap_or(name);
            short.insert(key.to_string(), value.clone());
        }
        let mut outcome = Outcome::ok();
        outcome
            .data
            .insert("ansible_facts".into(), Json::Object(gathered.clone()));
        outcome.facts = gathered;
        outcome.facts.insert("ansible_facts".into(), Json::Object(short));
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "nodename=vm.example.org\nfqdn=vm.example.org\nsystem=Linux\nkernel=6.1.0\nkernel_version=#1 SMP\nmachine=x86_64\nos_PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nos_NAME=\"Debian GNU/Linux\"\nos_VERSION_ID=\"12\"\nos_VERSION_CODENAME=bookworm\nos_ID=debian\ndebian_version=12.11\nvcpus=2\ncpu_cpu_cores=2\ncpu_physical_id=0\ncpu_siblings=2\nnproc=2\nmem_MemTotal=8000000\nmem_MemFree=4000000\nuptime=123.45\nuser_id=root\nuser_uid=0\nuser_gid=0\nuser_passwd=root:x:0:0:root:/root:/bin/bash\nroute=1.1.1.1 via 192.0.2.1 dev eth0 src 192.0.2.2 uid 0\naddr=lo 127.0.0.1/8\naddr=eth0 192.0.2.2/24\nproc_route=eth0 010200C0\niface=eth0 02:fc:00:00:00:01 1400\niface=lo 00:00:00:00:00:00 65536\ndate=2026-11-26|15:43:02|1795707782|2026|11|26|15|43|02|UTC|+0000|Thursday|4|47\ndate_utc=2026-11-26T15:43:02Z\ninitd=1\npkg_mgr=apt-get\n\u{1e}env\nHOME=/root\0PATH=/usr/bin\0";

    fn gathered() -> Map<String, Json> {
        facts(&parse_raw(SAMPLE)).into_iter().map(|(_, k, v)| (k, v)).collect()
    }

    #[test]
    fn facts_under_ansible_names() {
        let f = gathered();
        assert_eq!(f["ansible_hostname"], "vm");
        assert_eq!(f["ansible_domain"], "example.org");
        assert_eq!(f["ansible_distribution"], "Debian");
        assert_eq!(f["ansible_distribution_version"], "12.11");
        assert_eq!(f["ansible_distribution_major_version"], "12");
        assert_eq!(f["ansible_distribution_release"], "bookworm");
        assert_eq!(f["ansible_os_family"], "Debian");
        assert_eq!(f["ansible_processor_vcpus"], 2);
        assert_eq!(f["ansible_processor_count"], 1);
        assert_eq!(f["ansible_memtotal_mb"], 7812);
        assert_eq!(f["ansible_user_dir"], "/root");
        assert_eq!(f["ansible_env"]["HOME"], "/root");
        assert_eq!(f["ansible_service_mgr"], "sysvinit");
        assert_eq!(f["ansible_pkg_mgr"], "apt");
        assert_eq!(f["ansible_date_time"]["year"], "2026");
        assert_eq!(f["ansible_all_ipv4_addresses"], serde_json::json!(["192.0.2.2"]));
        let ip = &f["ansible_default_ipv4"];
        assert_eq!(ip["address"], "192.0.2.2");
        assert_eq!(ip["gateway"], "192.0.2.1");
        assert_eq!(ip["interface"], "eth0");
        assert_eq!(ip["netmask"], "255.255.255.0");
        assert_eq!(ip["network"], "192.0.2.0");
        assert_eq!(ip["mtu"], 1400);
    }

    #[test]
    fn default_route_from_proc_without_ip() {
        let text = SAMPLE.replace("route=1.1.1.1 via 192.0.2.1 dev eth0 src 192.0.2.2 uid 0\n", "");
        let f: Map<String, Json> = facts(&parse_raw(&text)).into_iter().map(|(_, k, v)| (k, v)).collect();
        assert_eq!(f["ansible_default_ipv4"]["gateway"], "192.0.2.1");
        assert_eq!(f["ansible_default_ipv4"]["address"], "192.0.2.2");
    }

    #[test]
    fn subsets_and_filters() {
        assert_eq!(subsets(&[]).unwrap(), (true, true));
        assert_eq!(subsets(&["!all".into()]).unwrap(), (false, false));
        assert_eq!(subsets(&["min".into()]).unwrap(), (false, false));
        assert_eq!(subsets(&["!hardware".into()]).unwrap(), (false, true));
        assert_eq!(subsets(&["!all".into(), "network".into()]).unwrap(), (false, true));
        assert!(subsets(&["bogus".into()]).is_err());
        assert!(glob_match("ansible_distribution*", "ansible_distribution_release"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("ansible_?ernel", "ansible_kernel"));
        assert!(!glob_match("ansible_mem*", "ansible_kernel"));
    }
}
