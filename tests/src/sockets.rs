//! The listening sockets a process holds, read from `/proc` (Linux): a node
//! that restarts its consensus engine must not leave the old one listening
//! (a second socket on the same port is accepted by `SO_REUSEPORT`, and the
//! kernel would split inbound connections between the two).

use std::collections::HashSet;

/// How many TCP sockets process `pid` has listening on `port` (IPv4 and IPv6).
pub fn listening_on(pid: u32, port: u16) -> usize {
    let inodes = listening_inodes(port);
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .filter(|inode: &u64| inodes.contains(inode))
        .count()
}

/// Inodes of the sockets in state LISTEN (`0A`) on `port`.
fn listening_inodes(port: u16) -> HashSet<u64> {
    let port = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let listening = fields.get(3) == Some(&"0A");
                    let local = fields.get(1)?;
                    (listening && local.ends_with(&port)).then(|| fields.get(9)?.parse().ok())?
                })
                .collect::<Vec<u64>>()
        })
        .collect()
}
