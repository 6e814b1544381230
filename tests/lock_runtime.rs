//! The process-wide runtime holding many locks: one heartbeat thread for
//! 10,000 locks, heartbeat lateness and CPU, `cleanup_all_locks`,
//! `active_lock_count` and `shutdown`. A single test in its own binary, so
//! the thread and lock counts it reads are its own.

use std::fs;
use std::time::{Duration, Instant};

use agentsession::{
    active_lock_count, cleanup_all_locks, configure, heartbeat_stats, reset_heartbeat_stats,
    shutdown, CreateOptions, Lock, Store,
};

/// This process's threads: (tid, name).
fn threads() -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let tid = e.file_name().to_str()?.parse().ok()?;
            let name = fs::read_to_string(e.path().join("comm")).ok()?;
            Some((tid, name.trim_end().to_string()))
        })
        .collect();
    v.sort();
    v
}

/// CPU time a thread of this process has used.
fn thread_cpu(tid: u32) -> Duration {
    let s = fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).unwrap();
    Duration::from_nanos(s.split_whitespace().next().unwrap().parse().unwrap())
}

fn heartbeat_threads() -> Vec<u32> {
    threads()
        .into_iter()
        .filter(|(_, name)| name == "ags-heartbeat")
        .map(|(tid, _)| tid)
        .collect()
}

#[test]
fn ten_thousand_locks_share_one_heartbeat_thread() {
    const LOCKS: usize = 10_000;
    const WORKERS: usize = 4;
    configure(Duration::from_secs(1), Duration::from_secs(30)).unwrap();
    // This test is about the scheduler, not the disk: on a RAM file system,
    // where there is one, setting up 10,000 sessions takes a second instead of
    // tens of seconds of fsyncs on a busy disk.
    let tmp = match tempfile::tempdir_in("/dev/shm") {
        Ok(t) => t,
        Err(_) => tempfile::tempdir().unwrap(),
    };
    let store = Store::open(tmp.path().join("sessions")).unwrap();
    let before = threads();
    assert!(heartbeat_threads().is_empty(), "started on first use only");

    let t0 = Instant::now();
    let locks: Vec<Lock> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let store = &store;
                s.spawn(move || {
                    (w..LOCKS)
                        .step_by(WORKERS)
                        .map(|i| {
                            let id = format!("s{i:05}");
                            store
                                .create(&CreateOptions {
                                    session_id: Some(id.clone()),
                                    acp_server: "agent".into(),
                                    working_dir: "/tmp".into(),
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
    });
    let setup = t0.elapsed();
    assert_eq!(active_lock_count(), LOCKS);
    wait_for_threads(1);
    let hb = heartbeat_threads();
    assert_eq!(threads().len(), before.len() + 1, "no thread per lock");

    // First heartbeats fall in the second half of the first interval; then measure.
    std::thread::sleep(Duration::from_millis(1500));
    reset_heartbeat_stats();
    let cpu0 = thread_cpu(hb[0]);
    let w0 = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let stats = heartbeat_stats();
    let cpu = thread_cpu(hb[0]) - cpu0;
    let wall = w0.elapsed();
    let cpu_share = cpu.as_secs_f64() / wall.as_secs_f64();
    println!(
        "{LOCKS} locks set up in {setup:.1?} under {}; over {wall:.1?} with a 1 s interval: \
         {} heartbeats ({} failed, {} stolen), lateness p50 {:?} p99 {:?} max {:?}, \
         heartbeat thread CPU {:.1}% of a core ({:.1} µs per heartbeat), threads {} -> {}",
        tmp.path().display(),
        stats.heartbeats,
        stats.failures,
        stats.stolen,
        stats.lateness_p50,
        stats.lateness_p99,
        stats.lateness_max,
        cpu_share * 100.0,
        cpu.as_secs_f64() * 1e6 / stats.heartbeats.max(1) as f64,
        before.len(),
        threads().len(),
    );
    let expected = (wall.as_secs_f64() * LOCKS as f64) as u64;
    assert!(
        stats.heartbeats >= expected * 9 / 10,
        "{} heartbeats, expected about {expected}",
        stats.heartbeats
    );
    assert_eq!((stats.failures, stats.stolen), (0, 0));
    assert!(
        stats.lateness_p99 <= Duration::from_millis(500),
        "p99 lateness {:?}",
        stats.lateness_p99
    );
    // Every lock file carries a recent heartbeat.
    for lock in locks.iter().step_by(97) {
        let info = store.lock_info(lock.session_id()).unwrap().unwrap();
        let age = info.heartbeat_age().unwrap();
        assert!(
            age < Duration::from_millis(1500),
            "{}: {age:?}",
            lock.session_id()
        );
        assert_eq!(info.instance_id, lock.instance_id());
    }

    // cleanup_all_locks releases every one; the handles know it.
    assert_eq!(cleanup_all_locks(), LOCKS);
    assert_eq!(active_lock_count(), 0);
    assert_eq!(cleanup_all_locks(), 0);
    assert!(locks.iter().all(|l| !l.is_valid()));
    let left = (0..LOCKS)
        .filter(|i| {
            let dir = store.base_dir().unwrap().join(format!("s{i:05}"));
            dir.join(".lock").exists() || dir.join(".lock.next").exists()
        })
        .count();
    assert_eq!(left, 0, "lock files left after cleanup_all_locks");
    drop(locks);

    // shutdown stops the thread; the runtime starts again on next use.
    shutdown();
    wait_for_threads(0);
    assert_eq!(threads().len(), before.len());
    let again = store.try_acquire_lock("s00000", "cli").unwrap();
    wait_for_threads(1);
    assert_eq!(active_lock_count(), 1);
    shutdown();
    assert!(!again.is_valid(), "shutdown released it");
    assert!(!store.is_locked("s00000").unwrap());
    wait_for_threads(0);
}

/// Waits until `n` heartbeat threads are listed (a new thread names itself
/// once it runs; a joined one leaves the list as the kernel reaps it).
fn wait_for_threads(n: usize) {
    let end = Instant::now() + Duration::from_secs(5);
    while heartbeat_threads().len() != n {
        assert!(
            Instant::now() < end,
            "expected {n} heartbeat threads: {:?}",
            threads()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
