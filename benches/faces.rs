//! The C and Python faces' append against the core's, default mode, 200 B
//! events, all given the same data as JSON text (the core parses it on each
//! append, as the C face must).
//!
//! `cargo bench --bench faces -- --c C_APPEND [--python PYTHON] [--quick]`
//! (`scripts/bench.sh` builds `benches/c_append.c` and the Python package).
//! Each round runs the core's appends in this process and one round of each
//! face in a process of its own (`benches/c_append.c`,
//! `benches/python_append.py`), in rotating order; a face's figure is the
//! median of its per-round ratios to the core round of the same round. With
//! valgrind installed it also counts the instructions per append of the C
//! face and of the core (callgrind, user space only: repeatable on a busy
//! machine, unlike times). Prints a table and, last, one JSON object.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use agentsession::{NewEvent, Store};
use common::{new_session, Spread};
use serde_json::{json, Value};

/// The data of every append: 200 bytes as a log line.
fn data_json() -> String {
    json!({ "text": "x".repeat(90) }).to_string()
}

/// One core round: creates the session, appends once untimed, then returns
/// the µs per append of `n` appends parsing `data` each time.
fn core_round(dir: &Path, id: &str, n: usize, data: &str) -> f64 {
    let store = Store::open(dir).unwrap();
    new_session(&store, id);
    let append = || {
        let data: Value = serde_json::from_str(data).unwrap();
        store
            .append_event(id, NewEvent::new("agent_message", data))
            .unwrap();
    };
    append();
    let t = Instant::now();
    for _ in 0..n {
        append();
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// Runs a face's round program; its output is the µs per append.
fn face_round(cmd: &[String], dir: &Path, id: &str, n: usize, data: &str) -> f64 {
    let out = Command::new(&cmd[0])
        .args(&cmd[1..])
        .arg(dir)
        .arg(id)
        .arg(n.to_string())
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Instructions `cmd` runs under callgrind, when valgrind is installed.
fn instructions(cmd: &[String], dir: &Path, id: &str, n: usize, data: &str) -> Option<u64> {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .args(cmd)
        .arg(dir)
        .arg(id)
        .arg(n.to_string())
        .arg(data)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, n)| n.trim().parse().ok())
        })
        .flatten()
}

/// Instructions per append of `cmd`: the difference between two runs of
/// different lengths, so start-up and set-up cancel out.
fn instructions_per_append(cmd: &[String], dir: &Path, tag: &str, data: &str) -> Option<f64> {
    let (short, long) = (50, 250);
    let a = instructions(cmd, dir, &format!("{tag}-short"), short, data)?;
    let b = instructions(cmd, dir, &format!("{tag}-long"), long, data)?;
    Some(b.saturating_sub(a) as f64 / (long - short) as f64)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args[i + 1].clone())
    };
    // A core round as its own process: what callgrind runs.
    if let Some(i) = args.iter().position(|a| a == "--core-round") {
        let (dir, id, n, data) = (&args[i + 1], &args[i + 2], &args[i + 3], &args[i + 4]);
        println!(
            "{:.3}",
            core_round(Path::new(dir), id, n.parse().unwrap(), data)
        );
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let mut faces: Vec<(&str, Vec<String>, &str)> = Vec::new();
    if let Some(c) = value("--c") {
        faces.push((
            "C ags_store_append_event",
            vec![c],
            "<= 1.1x (core Rust append)",
        ));
    }
    if let Some(py) = value("--python") {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/python_append.py");
        faces.push((
            "Python Store.append_event",
            vec![py, script.to_string_lossy().into_owned()],
            "<= 1.5x (core Rust append)",
        ));
    }
    // Many short rounds: a disk stall spoils one round, not the median.
    let (rounds, n) = if quick { (9, 150) } else { (21, 400) };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = data_json();

    let mut core = Vec::new();
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); faces.len()];
    let mut face_us: Vec<Vec<f64>> = vec![Vec::new(); faces.len()];
    for r in 0..rounds {
        // Rotate the order: the core first, last, or in between.
        let mut times = vec![0.0; faces.len()];
        let mut core_us = 0.0;
        for slot in 0..=faces.len() {
            let k = (slot + r) % (faces.len() + 1);
            if k == faces.len() {
                core_us = core_round(dir, &format!("rust{r}"), n, &data);
            } else {
                times[k] = face_round(&faces[k].1, dir, &format!("face{k}-{r}"), n, &data);
            }
        }
        core.push(core_us);
        for (k, t) in times.into_iter().enumerate() {
            ratios[k].push(t / core_us);
            face_us[k].push(t);
        }
    }

    let exe = std::env::current_exe()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let core_cmd = vec![exe, "--core-round".to_string()];
    let core_ins = instructions_per_append(&core_cmd, dir, "ins-rust", &data);
    let core_med = Spread::of(core.iter().copied()).median;
    println!(
        "{:<44} {:>10} {:>10} {:>8}  target",
        "figure", "ours µs", "core µs", "ratio"
    );
    let mut figures = Vec::new();
    for (k, (name, cmd, target)) in faces.iter().enumerate() {
        let r = Spread::of(ratios[k].iter().copied());
        let us = Spread::of(face_us[k].iter().copied()).median;
        println!(
            "{name:<44} {us:>10.2} {core_med:>10.2} {:>7.2}x  {target}",
            r.median
        );
        println!(
            "{:<44} {:>32}  median of {rounds} interleaved rounds' ratios; middle half {:.2}-{:.2}x, all {:.2}-{:.2}x",
            "", "", r.p25, r.p75, r.min, r.max
        );
        let mut fig = json!({"figure": name, "ours_us": us, "core_us": core_med, "ratio": r.median,
            "ratio_stat": format!("median of {rounds} interleaved rounds' ratios"),
            "ratio_p25": r.p25, "ratio_p75": r.p75, "ratio_min": r.min, "ratio_max": r.max, "target": target});
        if k == 0 {
            if let (Some(c), Some(rust)) =
                (instructions_per_append(cmd, dir, "ins-c", &data), core_ins)
            {
                println!(
                    "{:<44} {c:>10.0} {rust:>10.0} {:>7.3}x  instructions per append (callgrind)",
                    "  C face, instructions",
                    c / rust
                );
                fig["instructions_per_append"] = json!(c);
                fig["core_instructions_per_append"] = json!(rust);
                fig["instructions_ratio"] = json!(c / rust);
            }
        }
        figures.push(fig);
    }
    println!(
        "{}",
        json!({"bench": "faces", "quick": quick, "figures": figures})
    );
}
