//! Leaks over many operations. In a test binary of its own: counting the
//! process's descriptors and threads is exact only when no other test runs
//! beside it.

mod common;

use common::{create, msg};
use std::fs;
use std::time::Duration;

use agentsession::{PruneLimits, Store, StoreOptions};

fn count_dir(p: &str) -> usize {
    fs::read_dir(p).unwrap().count()
}

#[test]
fn no_descriptor_or_thread_leaks_over_many_operations() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = StoreOptions {
        batched: true,
        flush_interval: Duration::from_millis(100),
    };
    let png = b"\x89PNG\r\n\x1a\n0000";
    let run = |ops: usize| {
        let store = Store::open_with(tmp.path(), opts).unwrap();
        for id in ["a", "b", "c"] {
            if !store.exists(id).unwrap() {
                create(&store, id);
            }
        }
        for i in 0..ops {
            let id = ["a", "b", "c"][i % 3];
            match i % 10 {
                0..=5 => drop(store.append_event(id, msg("m")).unwrap()),
                6 => drop(store.events_last(id, 5, 0, false).unwrap()),
                7 => drop(store.metadata(id).unwrap()),
                8 if i % 1000 == 8 => {
                    let img = store.save_image(id, png, "image/png", None).unwrap();
                    store.delete_image(id, &img.id).unwrap();
                    store
                        .prune_if_needed(
                            id,
                            PruneLimits {
                                max_messages: 500,
                                max_size_bytes: 0,
                            },
                        )
                        .unwrap();
                    drop(store.list().unwrap());
                }
                _ => drop(store.exists(id).unwrap()),
            }
        }
        store.close().unwrap();
    };
    run(2_000); // warm-up: lazily created process-wide state
    let fds = count_dir("/proc/self/fd");
    let threads = count_dir("/proc/self/task");
    run(100_000);
    assert!(count_dir("/proc/self/fd") <= fds, "descriptors leaked");
    assert!(count_dir("/proc/self/task") <= threads, "threads leaked");
    println!("100000 mixed operations: {fds} descriptors and {threads} threads before and after");
}
