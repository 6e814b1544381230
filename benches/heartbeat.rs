//! Heartbeat CPU of many held locks at a 1 s interval against the floor: a
//! C program making the same system calls per heartbeat with no work in
//! between (`benches/heartbeat_floor.c`), on the same file system, in the
//! same run. `cargo bench --bench heartbeat -- --floor HEARTBEAT_FLOOR [--quick]`
//! (`scripts/bench.sh` builds the floor program). Prints a table and, last,
//! one JSON object.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use agentsession::{
    configure, heartbeat_stats, reset_heartbeat_stats, shutdown, CreateOptions, Lock, Store,
};
use serde_json::json;

/// CPU time of the heartbeat thread (`ags-heartbeat`) of this process:
/// in all, and the user and system parts (in clock ticks).
fn heartbeat_cpu() -> (Duration, u64, u64) {
    for e in fs::read_dir("/proc/self/task").unwrap() {
        let p = e.unwrap().path();
        if fs::read_to_string(p.join("comm"))
            .unwrap_or_default()
            .trim_end()
            == "ags-heartbeat"
        {
            let s = fs::read_to_string(p.join("schedstat")).unwrap();
            let all = Duration::from_nanos(s.split_whitespace().next().unwrap().parse().unwrap());
            let stat = fs::read_to_string(p.join("stat")).unwrap();
            // Fields after the parenthesised name: state is 3rd, utime 14th, stime 15th.
            let f: Vec<&str> = stat
                .rsplit_once(')')
                .unwrap()
                .1
                .split_whitespace()
                .collect();
            return (all, f[11].parse().unwrap(), f[12].parse().unwrap());
        }
    }
    panic!("no heartbeat thread");
}

/// Holds a lock on each of `n` new sessions (set up on two threads).
fn hold_locks(store: &Store, n: usize) -> Vec<Lock> {
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                s.spawn(move || {
                    (w..n)
                        .step_by(2)
                        .map(|i| {
                            let id = format!("s{i:05}");
                            store
                                .create(&CreateOptions {
                                    session_id: Some(id.clone()),
                                    acp_server: "bench".into(),
                                    working_dir: "/bench".into(),
                                    ..Default::default()
                                })
                                .unwrap();
                            store.try_acquire_lock(&id, "bench").unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

/// CPU µs per heartbeat of the floor program over `n` directories.
fn floor(program: &str, base: &Path, n: usize) -> f64 {
    fs::create_dir_all(base).unwrap();
    let out = Command::new(program)
        .arg(base)
        .arg(n.to_string())
        .arg("1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let program = args
        .iter()
        .position(|a| a == "--floor")
        .map(|i| args[i + 1].clone())
        .expect("--floor HEARTBEAT_FLOOR");
    let (locks, window) = if quick { (2_000, 2) } else { (10_000, 4) };
    let interval = Duration::from_secs(1);
    configure(interval, Duration::from_secs(30)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("sessions")).unwrap();

    let floor_before = floor(&program, &tmp.path().join("floor-a"), locks);
    let held = hold_locks(&store, locks);
    // First heartbeats fall in the second half of the first interval.
    std::thread::sleep(interval * 3 / 2);
    reset_heartbeat_stats();
    let ((cpu0, user0, sys0), t0) = (heartbeat_cpu(), Instant::now());
    std::thread::sleep(Duration::from_secs(window));
    let ((cpu1, user1, sys1), wall) = (heartbeat_cpu(), t0.elapsed());
    let cpu = cpu1 - cpu0;
    let user_share = (user1 - user0) as f64 / ((user1 - user0) + (sys1 - sys0)).max(1) as f64;
    let stats = heartbeat_stats();
    drop(held);
    shutdown();
    let floor_after = floor(&program, &tmp.path().join("floor-b"), locks);

    let beats = stats.heartbeats.max(1) as f64;
    let ours_us = cpu.as_secs_f64() * 1e6 / beats;
    let floor_us = (floor_before + floor_after) / 2.0;
    // A core's share for 10,000 locks at this interval.
    let share = |us: f64| us * 10_000.0 / interval.as_secs_f64() / 1e6 * 100.0;
    println!(
        "{:<44} {:>10} {:>10} {:>8}  target",
        "figure", "ours µs", "floor µs", "ratio"
    );
    println!(
        "{:<44} {ours_us:>10.2} {floor_us:>10.2} {:>7.2}x  <= 10% of a core (floor: {:.1}%)",
        "heartbeat CPU per lock and beat",
        ours_us / floor_us,
        share(floor_us)
    );
    println!(
        "{:<44} {:>32}  {locks} locks, {} beats in {wall:.1?}: {:.1}% of a core measured, {:.1}% for 10,000 locks ({:.0}% of it in user space); floor {floor_before:.2} / {floor_after:.2} µs before / after; lateness p99 {:?}",
        "", "", stats.heartbeats,
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
        share(ours_us),
        user_share * 100.0,
        stats.lateness_p99
    );
    println!(
        "{}",
        json!({"bench": "heartbeat", "quick": quick, "figures": [{
            "figure": "heartbeat CPU per lock and beat", "locks": locks,
            "ours_us": ours_us, "floor_us": floor_us, "ours_user_share": user_share, "ratio": ours_us / floor_us,
            "core_share_10k_pct": share(ours_us), "floor_core_share_10k_pct": share(floor_us),
            "floor_us_before": floor_before, "floor_us_after": floor_after,
            "heartbeats": stats.heartbeats, "failures": stats.failures,
            "lateness_p99_ms": stats.lateness_p99.as_secs_f64() * 1e3,
            "target": "<= 10% of a core for 10,000 locks at 1 s"}]})
    );
}
