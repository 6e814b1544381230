//! Benchmarks of the store's hot paths, each against a baseline measured in
//! the same run (the machines are shared and noisy: ratios hold, absolute
//! times drift). `cargo bench --bench store [-- --quick]`.
//!
//! Prints a table and, last, one JSON object with every figure.

mod common;

use std::fs::{self, File, OpenOptions};
use std::hint::black_box;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use agentsession::{NewEvent, Store, StoreOptions};
use common::{new_session, Spread};
use serde_json::{json, Value};

struct Row {
    name: String,
    ours_us: f64,
    base_us: f64,
    ratio: f64,
    target: String,
    /// How `ratio` was formed, when not as `ours_us / base_us` of best runs.
    stat: Option<Value>,
}

struct Bench {
    quick: bool,
    rows: Vec<Row>,
}

impl Bench {
    fn scale(&self, n: usize) -> usize {
        if self.quick {
            (n / 10).max(1)
        } else {
            n
        }
    }

    fn add(&mut self, name: &str, ours: Duration, base: Duration, per: usize, target: &str) {
        let (ours_us, base_us) = (us_per(ours, per), us_per(base, per));
        self.push(Row {
            name: name.to_string(),
            ours_us,
            base_us,
            ratio: ours_us / base_us,
            target: target.to_string(),
            stat: None,
        });
    }

    /// A row from interleaved rounds: the median of the per-round ratios,
    /// with the range of the middle half and the same for thread CPU time.
    fn add_rounds(&mut self, name: &str, rounds: &[RoundPair], per: usize, target: &str) {
        let wall = Spread::of(rounds.iter().map(|r| r.ours.wall / r.base.wall));
        let cpu = Spread::of(rounds.iter().map(|r| r.ours.cpu / r.base.cpu));
        let median_us = |f: fn(&RoundPair) -> f64| {
            Spread::of(rounds.iter().map(|r| f(r) * 1e6 / per as f64)).median
        };
        self.push(Row {
            name: name.to_string(),
            ours_us: median_us(|r| r.ours.wall),
            base_us: median_us(|r| r.base.wall),
            ratio: wall.median,
            target: target.to_string(),
            stat: Some(json!({
                "ratio_stat": format!("median of {} interleaved rounds' ratios", rounds.len()),
                "ratio_p25": wall.p25, "ratio_p75": wall.p75,
                "ratio_min": wall.min, "ratio_max": wall.max,
                "cpu_ratio": cpu.median, "cpu_ratio_p25": cpu.p25, "cpu_ratio_p75": cpu.p75,
            })),
        });
        println!(
            "{:<44} {:>32}  median of {} rounds; middle half {:.2}-{:.2}x, all {:.2}-{:.2}x; thread CPU {:.2}x ({:.2}-{:.2}x)",
            "", "", rounds.len(), wall.p25, wall.p75, wall.min, wall.max, cpu.median, cpu.p25, cpu.p75
        );
    }

    fn push(&mut self, row: Row) {
        println!(
            "{:<44} {:>10.2} {:>10.2} {:>7.2}x  {}",
            row.name, row.ours_us, row.base_us, row.ratio, row.target
        );
        self.rows.push(row);
    }
}

fn us_per(d: Duration, per: usize) -> f64 {
    d.as_secs_f64() * 1e6 / per as f64
}

/// Wall and thread CPU seconds of one timed run.
#[derive(Clone, Copy)]
struct Cost {
    wall: f64,
    cpu: f64,
}

/// Our run and the baseline's in one round.
struct RoundPair {
    ours: Cost,
    base: Cost,
}

/// CPU time the calling thread has used.
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Wall and CPU time of `f`.
fn cost(f: impl FnOnce()) -> Cost {
    let (c, t) = (thread_cpu(), Instant::now());
    f();
    Cost {
        wall: t.elapsed().as_secs_f64(),
        cpu: (thread_cpu() - c).as_secs_f64(),
    }
}

/// `rounds` rounds of `ours` and `base`, alternating which goes first so
/// that a drift in the machine's load favours neither.
fn interleaved(
    rounds: usize,
    mut ours: impl FnMut() -> Cost,
    mut base: impl FnMut() -> Cost,
) -> Vec<RoundPair> {
    (0..rounds)
        .map(|r| {
            if r % 2 == 0 {
                let ours = ours();
                RoundPair { ours, base: base() }
            } else {
                let base = base();
                RoundPair { ours: ours(), base }
            }
        })
        .collect()
}

/// Best of `reps` runs of `f` (the least disturbed by other load).
fn best(reps: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..reps).map(|_| f()).min().unwrap()
}

/// Best of `reps` runs of each of `ours` and `base`, their runs interleaved
/// so that a disk stall or a neighbour's load hits both alike.
fn best_pair(
    reps: usize,
    mut ours: impl FnMut() -> Duration,
    mut base: impl FnMut() -> Duration,
) -> (Duration, Duration) {
    let (mut o, mut b) = (Duration::MAX, Duration::MAX);
    for _ in 0..reps {
        o = o.min(ours());
        b = b.min(base());
    }
    (o, b)
}

fn message_of(size: usize) -> Value {
    json!({ "text": "x".repeat(size.saturating_sub(110)) })
}

fn line_of(seq: u64, data: &Value) -> Vec<u8> {
    let mut l = serde_json::to_vec(&json!({
        "seq": seq, "type": "agent_message", "timestamp": "2026-11-25T10:00:00.123456789Z", "data": data
    }))
    .unwrap();
    l.push(b'\n');
    l
}

fn bench_append(b: &mut Bench, dir: &Path, size: usize) {
    // Many short rounds rather than a few long ones: the disk's stalls come
    // and go within seconds, and the median of per-round ratios shrugs them off.
    let (rounds, n) = if b.quick { (9, 100) } else { (31, 200) };
    let data = message_of(size);
    let store = Store::open(dir.join(format!("append-{size}"))).unwrap();
    let meta_bytes = fs::read(dir.join("meta-sample.json")).unwrap();
    let mut round = 0;
    let line = line_of(1, &data);
    let ours = || {
        round += 1;
        let id = format!("s{round}");
        new_session(&store, &id);
        cost(|| {
            for _ in 0..n {
                store
                    .append_event(&id, NewEvent::new("agent_message", data.clone()))
                    .unwrap();
            }
        })
    };
    // The baseline also writes into a directory new in each round, as each
    // round's new session does, so both create files in directories of the
    // same age.
    let mut base_round = 0;
    let base = || {
        base_round += 1;
        let d = dir.join(format!("append-{size}-base{base_round}"));
        fs::create_dir(&d).unwrap();
        fs::copy(dir.join("meta-sample.json"), d.join("meta.json")).unwrap();
        let mut f = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(d.join("events.jsonl"))
            .unwrap();
        let meta = d.join("meta.json");
        cost(|| {
            for i in 0..n {
                f.write_all(&line).unwrap();
                let tmp = d.join(format!(".meta.{i}.tmp"));
                fs::write(&tmp, &meta_bytes).unwrap();
                fs::rename(&tmp, &meta).unwrap();
            }
        })
    };
    let pairs = interleaved(rounds, ours, base);
    b.add_rounds(
        &format!("append default, {size} B event"),
        &pairs,
        n,
        "<= 1.3x (O_APPEND write + temp+rename)",
    );
}

fn bench_append_batched(b: &mut Bench, dir: &Path) {
    let n = b.scale(50_000);
    let data = message_of(200);
    let opts = StoreOptions {
        batched: true,
        ..Default::default()
    };
    let store = Store::open_with(dir.join("batched"), opts).unwrap();
    let mut round = 0;
    let ours = best(3, || {
        round += 1;
        let id = format!("s{round}");
        new_session(&store, &id);
        let t = Instant::now();
        for _ in 0..n {
            store
                .append_event(&id, NewEvent::new("agent_message", data.clone()))
                .unwrap();
        }
        store.flush().unwrap();
        t.elapsed()
    });
    let lines: Vec<Vec<u8>> = (1..=n as u64).map(|s| line_of(s, &data)).collect();
    let base = best(3, || {
        let p = dir.join("base-batched.jsonl");
        let t = Instant::now();
        let mut w = BufWriter::new(File::create(&p).unwrap());
        for l in &lines {
            w.write_all(l).unwrap();
        }
        w.flush().unwrap();
        let e = t.elapsed();
        fs::remove_file(&p).unwrap();
        e
    });
    b.add(
        "append batched, 200 B event",
        ours,
        base,
        n,
        "<= 1.5x (buffered write loop)",
    );
    // The floor of any append that takes event data rather than ready lines:
    // building and serialising the same events into a buffer, no I/O at all.
    let floor = best(3, || {
        let t = Instant::now();
        let mut buf = Vec::with_capacity(n * 256);
        for seq in 1..=n as u64 {
            let ev = agentsession::Event {
                seq,
                event_type: "agent_message".into(),
                timestamp: agentsession::timefmt::now_string(),
                data: data.clone(),
                extra: Default::default(),
            };
            ev.write_line(&mut buf);
            buf.push(b'\n');
        }
        black_box(buf);
        t.elapsed()
    });
    b.add(
        "  serialising the same events, no I/O",
        floor,
        base,
        n,
        "floor of batched append",
    );
}

/// Writes a session of `n` events straight to disk (fast set-up).
fn write_session(store: &Store, id: &str, n: usize) {
    new_session(store, id);
    let data = message_of(200);
    let mut w = BufWriter::new(
        OpenOptions::new()
            .append(true)
            .open(store.base_dir().unwrap().join(id).join("events.jsonl"))
            .unwrap(),
    );
    for s in 1..=n as u64 {
        w.write_all(&line_of(s, &data)).unwrap();
    }
    w.flush().unwrap();
}

fn bench_tail(b: &mut Bench, dir: &Path) {
    let store = Store::open(dir.join("tail")).unwrap();
    let sizes: Vec<usize> = if b.quick {
        vec![1_000, 100_000]
    } else {
        vec![1_000, 10_000, 100_000, 1_000_000]
    };
    for &n in &sizes {
        write_session(&store, &format!("t{n}"), n);
    }
    let reps = b.scale(2000);
    let time = |id: &str| {
        best(5, || {
            let t = Instant::now();
            for _ in 0..reps {
                black_box(store.events_last(id, 50, 0, false).unwrap());
            }
            t.elapsed()
        })
    };
    let base = time("t1000");
    for &n in &sizes[1..] {
        let ours = time(&format!("t{n}"));
        b.add(
            &format!("events_last(50), {n} events"),
            ours,
            base,
            reps,
            "1M <= 2x of 1k",
        );
    }
}

fn bench_read_all(b: &mut Bench, dir: &Path) {
    let n = b.scale(100_000);
    let store = Store::open(dir.join("readall")).unwrap();
    write_session(&store, "r", n);
    let path = store.base_dir().unwrap().join("r/events.jsonl");
    let ours = best(3, || {
        let t = Instant::now();
        black_box(store.events("r", 0).unwrap());
        t.elapsed()
    });
    let base = best(3, || {
        let t = Instant::now();
        let f = BufReader::new(File::open(&path).unwrap());
        let v: Vec<Value> = f
            .lines()
            .map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap())
            .collect();
        black_box(v);
        t.elapsed()
    });
    b.add(
        &format!("events() of {n} events"),
        ours,
        base,
        n,
        "<= 1.0x (BufRead::lines + from_str::<Value>)",
    );
}

fn bench_list(b: &mut Bench, dir: &Path) {
    let n = b.scale(10_000);
    let store = Store::open(dir.join("list")).unwrap();
    for i in 0..n {
        new_session(&store, &format!("l{i:05}"));
    }
    let ours = best(3, || {
        let t = Instant::now();
        black_box(store.list().unwrap());
        t.elapsed()
    });
    let base = best(3, || {
        let t = Instant::now();
        let mut out = Vec::new();
        for e in fs::read_dir(store.base_dir().unwrap()).unwrap() {
            let p = e.unwrap().path().join("metadata.json");
            let v: Value = serde_json::from_slice(&fs::read(p).unwrap()).unwrap();
            out.push(v);
        }
        black_box(out);
        t.elapsed()
    });
    b.add(
        &format!("list() of {n} sessions"),
        ours,
        base,
        n,
        "<= 1.0x (read + parse in one thread)",
    );
}

/// Peak resident memory (VmHWM) in KiB, after resetting it when `reset`.
fn peak_rss_kib(reset: bool) -> u64 {
    if reset {
        // Writing 5 to clear_refs resets the peak RSS counter (Linux >= 4.0).
        let _ = fs::write("/proc/self/clear_refs", "5");
    }
    fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn bench_memory(b: &mut Bench, dir: &Path, mem: &mut Vec<Value>) {
    let n = if b.quick { 100_000 } else { 1_000_000 };
    let store = Store::open(dir.join("memory")).unwrap();
    write_session(&store, "m", n);
    let before = peak_rss_kib(true);
    for _ in 0..100 {
        black_box(store.events_last("m", 50, 0, false).unwrap());
    }
    let after = peak_rss_kib(false);
    let size = fs::metadata(store.base_dir().unwrap().join("m/events.jsonl"))
        .unwrap()
        .len();
    println!(
        "peak RSS reading the tail of a {n}-event session ({} MiB): {} KiB -> {} KiB",
        size >> 20,
        before,
        after
    );
    mem.push(
        json!({"figure": format!("peak RSS, events_last(50) on {n} events"),
                    "before_kib": before, "after_kib": after, "log_bytes": size}),
    );
    let lists = Store::open(dir.join("list")).unwrap();
    let before = peak_rss_kib(true);
    black_box(lists.list().unwrap());
    let after = peak_rss_kib(false);
    println!("peak RSS listing the sessions of the list benchmark: {before} KiB -> {after} KiB");
    mem.push(json!({"figure": "peak RSS, list()", "before_kib": before, "after_kib": after}));
}

fn bench_search(b: &mut Bench, dir: &Path) {
    let total: u64 = if b.quick { 50 << 20 } else { 1 << 30 };
    let store = Store::open(dir.join("search")).unwrap();
    let words = [
        "parser", "tokens", "refactor", "build", "tests", "module", "error", "agent", "files",
        "review", "commit", "branch",
    ];
    let mut written = 0u64;
    let mut session = 0;
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    while written < total {
        let id = format!("s{session:04}");
        new_session(&store, &id);
        let path = store.base_dir().unwrap().join(&id).join("events.jsonl");
        let mut w = BufWriter::new(OpenOptions::new().append(true).open(&path).unwrap());
        for seq in 1..=20_000u64 {
            let mut text = String::new();
            for _ in 0..24 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                text.push_str(words[(rng % words.len() as u64) as usize]);
                text.push(' ');
            }
            if rng.is_multiple_of(5000) {
                text.push_str("Zanzibar");
            }
            let line = line_of(seq, &json!({ "text": text }));
            written += line.len() as u64;
            w.write_all(&line).unwrap();
        }
        w.flush().unwrap();
        session += 1;
    }
    let files: Vec<String> = (0..session)
        .map(|s| {
            store
                .base_dir()
                .unwrap()
                .join(format!("s{s:04}/events.jsonl"))
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut hits = 0;
    let ours = best(3, || {
        let t = Instant::now();
        hits = store
            .search(agentsession::SearchQuery {
                text: "zanzibar".into(),
                ..Default::default()
            })
            .unwrap()
            .count();
        t.elapsed()
    });
    let mut grep_hits = 0;
    let base = best(3, || {
        let t = Instant::now();
        let out = std::process::Command::new("grep")
            .args(["-c", "-i", "zanzibar"])
            .args(&files)
            .output()
            .unwrap();
        grep_hits = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.rsplit(':').next().unwrap().parse::<usize>().unwrap())
            .sum::<usize>();
        t.elapsed()
    });
    assert_eq!(hits, grep_hits, "search and grep agree");
    b.add(
        &format!("search, {} MiB of logs", written >> 20),
        ours,
        base,
        1,
        "<= 1.5x (grep -c -i, same files)",
    );
}

/// The minimal durable read-modify-write a queue or buttons change needs:
/// lock a side file, read the file, write a temp file, fsync, rename.
fn minimal_rmw(dir: &Path, target: &Path, body: &[u8], i: usize) {
    let side = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".base.lock"))
        .unwrap();
    side.lock().unwrap();
    let _ = fs::read(target);
    let tmp = dir.join(format!(".base.{i}.tmp"));
    let mut f = File::create(&tmp).unwrap();
    f.write_all(body).unwrap();
    f.sync_data().unwrap();
    drop(f);
    fs::rename(&tmp, target).unwrap();
    side.unlock().unwrap();
}

fn bench_durable_writes(b: &mut Bench, dir: &Path) {
    let n = b.scale(300);
    let store = Store::open(dir.join("durable")).unwrap();
    let base_dir = dir.join("durable-base");
    fs::create_dir_all(&base_dir).unwrap();
    let body = serde_json::to_vec_pretty(&json!({"messages": [{"id": "q-1-00000000",
        "message": "also update the README", "queued_at": "2026-11-25T10:00:00Z"}],
        "updated_at": "2026-11-25T10:00:00Z"}))
    .unwrap();
    let mut round = 0;
    let base_file = base_dir.join("queue.json");
    let mut base = || {
        let t = Instant::now();
        for i in 0..n {
            minimal_rmw(&base_dir, &base_file, &body, i);
        }
        t.elapsed()
    };
    let (add, base_add) = best_pair(
        3,
        || {
            round += 1;
            let id = format!("q{round}");
            new_session(&store, &id);
            let q = store.queue(&id).unwrap();
            // One message at a time, as the baseline's file holds.
            let t = Instant::now();
            for _ in 0..n {
                q.add("also update the README", &[], None, 0).unwrap();
                q.pop().unwrap();
            }
            t.elapsed()
        },
        &mut base,
    );
    b.add(
        "queue add + pop",
        add / 2,
        base_add,
        n,
        "<= 1.5x (flock, read, temp write, fsync, rename)",
    );
    let buttons = vec![agentsession::ActionButton::new(
        "Yes",
        "Yes, please do that",
    )];
    let (set, base_set) = best_pair(
        3,
        || {
            round += 1;
            let id = format!("b{round}");
            new_session(&store, &id);
            let ab = store.action_buttons(&id).unwrap();
            let t = Instant::now();
            for i in 0..n {
                ab.set(buttons.clone(), i as u64 + 1).unwrap();
            }
            t.elapsed()
        },
        &mut base,
    );
    b.add(
        "action buttons set",
        set,
        base_set,
        n,
        "<= 1.5x (flock, read, temp write, fsync, rename)",
    );
    // Cached get against read + parse of the same file.
    let id = format!("b{round}");
    let ab = store.action_buttons(&id).unwrap();
    let path = store
        .base_dir()
        .unwrap()
        .join(&id)
        .join("action_buttons.json");
    let gets = n * 100;
    let (get, parse) = best_pair(
        3,
        || {
            let t = Instant::now();
            for _ in 0..gets {
                black_box(ab.get().unwrap());
            }
            t.elapsed()
        },
        || {
            let t = Instant::now();
            for _ in 0..gets {
                black_box(serde_json::from_slice::<Value>(&fs::read(&path).unwrap()).unwrap());
            }
            t.elapsed()
        },
    );
    b.add(
        "action buttons cached get",
        get,
        parse,
        gets,
        ">= 100x faster (read + parse)",
    );
    // Lock acquire + release: the same durable write, plus a remove.
    let (lock, base_lock) = best_pair(
        3,
        || {
            round += 1;
            let id = format!("l{round}");
            new_session(&store, &id);
            let t = Instant::now();
            for _ in 0..n {
                store
                    .try_acquire_lock(&id, "bench")
                    .unwrap()
                    .release()
                    .unwrap();
            }
            t.elapsed()
        },
        || {
            let t = Instant::now();
            let target = base_dir.join(".lock");
            for i in 0..n {
                minimal_rmw(&base_dir, &target, &body, i);
                fs::remove_file(&target).unwrap();
            }
            t.elapsed()
        },
    );
    b.add(
        "lock acquire + release",
        lock,
        base_lock,
        n,
        "<= 1.5x (flock, read, temp write, fsync, rename, unlink)",
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A metadata file of realistic size for the baselines.
    let s = Store::open(dir.join("sample")).unwrap();
    new_session(&s, "sample");
    fs::copy(
        dir.join("sample/sample/metadata.json"),
        dir.join("meta-sample.json"),
    )
    .unwrap();

    let mut b = Bench {
        quick,
        rows: Vec::new(),
    };
    println!(
        "{:<44} {:>10} {:>10} {:>8}  target",
        "figure", "ours µs", "base µs", "ratio"
    );
    bench_append(&mut b, dir, 200);
    bench_append(&mut b, dir, 2000);
    bench_append_batched(&mut b, dir);
    bench_tail(&mut b, dir);
    bench_read_all(&mut b, dir);
    bench_list(&mut b, dir);
    bench_search(&mut b, dir);
    bench_durable_writes(&mut b, dir);
    let mut memory = Vec::new();
    bench_memory(&mut b, dir, &mut memory);

    let figures: Vec<Value> = b
        .rows
        .iter()
        .map(|r| {
            let mut v = json!({"figure": r.name, "ours_us": r.ours_us, "baseline_us": r.base_us,
                   "ratio": r.ratio, "target": r.target});
            if let Some(Value::Object(stat)) = &r.stat {
                v.as_object_mut().unwrap().extend(stat.clone());
            }
            v
        })
        .collect();
    println!(
        "{}",
        json!({"bench": "store", "quick": quick, "figures": figures, "memory": memory})
    );
}
