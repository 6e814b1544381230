//! Benchmarks of the store's hot paths, each against a baseline measured in
//! the same run (the machines are shared and noisy: ratios hold, absolute
//! times drift). `cargo bench --bench store [-- --quick]`.
//!
//! Prints a table and, last, one JSON object with every figure.

use std::fs::{self, File, OpenOptions};
use std::hint::black_box;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use agentsession::{CreateOptions, NewEvent, Store, StoreOptions};
use serde_json::{json, Value};

struct Row {
    name: String,
    ours_us: f64,
    base_us: f64,
    target: String,
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
        let row = Row {
            name: name.to_string(),
            ours_us: ours.as_secs_f64() * 1e6 / per as f64,
            base_us: base.as_secs_f64() * 1e6 / per as f64,
            target: target.to_string(),
        };
        println!(
            "{:<44} {:>10.2} {:>10.2} {:>7.2}x  {}",
            row.name,
            row.ours_us,
            row.base_us,
            row.ours_us / row.base_us,
            row.target
        );
        self.rows.push(row);
    }
}

/// Best of `reps` runs of `f` (the least disturbed by other load).
fn best(reps: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..reps).map(|_| f()).min().unwrap()
}

fn new_session(store: &Store, id: &str) {
    store
        .create(&CreateOptions {
            session_id: Some(id.into()),
            acp_server: "bench".into(),
            working_dir: "/bench".into(),
            ..Default::default()
        })
        .unwrap();
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
    let n = b.scale(2000);
    let data = message_of(size);
    let store = Store::open(dir.join(format!("append-{size}"))).unwrap();
    let meta_bytes = fs::read(dir.join("meta-sample.json")).unwrap();
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
        t.elapsed()
    });
    let line = line_of(1, &data);
    let base = best(3, || {
        let p = dir.join("base-events.jsonl");
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .unwrap();
        let meta = dir.join("base-meta.json");
        let t = Instant::now();
        for i in 0..n {
            f.write_all(&line).unwrap();
            let tmp = dir.join(format!(".base-meta.{i}.tmp"));
            fs::write(&tmp, &meta_bytes).unwrap();
            fs::rename(&tmp, &meta).unwrap();
        }
        let e = t.elapsed();
        drop(f);
        fs::remove_file(&p).unwrap();
        e
    });
    b.add(
        &format!("append default, {size} B event"),
        ours,
        base,
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
}

/// Writes a session of `n` events straight to disk (fast set-up).
fn write_session(store: &Store, id: &str, n: usize) {
    new_session(store, id);
    let data = message_of(200);
    let mut w = BufWriter::new(
        OpenOptions::new()
            .append(true)
            .open(store.base_dir().join(id).join("events.jsonl"))
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
    let path = store.base_dir().join("r/events.jsonl");
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
        for e in fs::read_dir(store.base_dir()).unwrap() {
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

    let figures: Vec<Value> = b
        .rows
        .iter()
        .map(|r| {
            json!({"figure": r.name, "ours_us": r.ours_us, "baseline_us": r.base_us,
                   "ratio": r.ours_us / r.base_us, "target": r.target})
        })
        .collect();
    println!(
        "{}",
        json!({"bench": "store", "quick": quick, "figures": figures})
    );
}
