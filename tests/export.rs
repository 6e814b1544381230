//! Export of fixture sessions, compared byte for byte with the golden files in
//! tests/golden/. `AGS_UPDATE_GOLDEN=1 cargo test --test export` rewrites them.

mod common;

use std::fs;
use std::path::Path;

use agentsession::{Error, ExportFormat, Store};

const FIXTURE01: &str = "20260201-120000-fixture01-complete";
const FIXTURE05: &str = "20260201-122000-fixture05-unicode";

fn fixture_store() -> (tempfile::TempDir, Store) {
    let (tmp, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    (tmp, store)
}

#[test]
fn exports_match_golden_files() {
    let (_tmp, store) = fixture_store();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("AGS_UPDATE_GOLDEN").is_some_and(|v| v == "1");
    for (id, name) in [(FIXTURE01, "fixture01"), (FIXTURE05, "fixture05")] {
        for (format, ext) in [(ExportFormat::Markdown, "md"), (ExportFormat::Html, "html")] {
            let got = store.export(id, format).unwrap();
            let path = golden.join(format!("{name}.{ext}"));
            if update {
                fs::create_dir_all(&golden).unwrap();
                fs::write(&path, &got).unwrap();
                continue;
            }
            let want = fs::read_to_string(&path).unwrap();
            if got != want {
                let line = got
                    .lines()
                    .zip(want.lines())
                    .position(|(a, b)| a != b)
                    .map_or(got.lines().count().min(want.lines().count()), |i| i);
                panic!(
                    "{} differs from the export at line {}:\n  export: {:?}\n  golden: {:?}\n\
                     (AGS_UPDATE_GOLDEN=1 rewrites the golden files)",
                    path.display(),
                    line + 1,
                    got.lines().nth(line),
                    want.lines().nth(line)
                );
            }
        }
    }
}

#[test]
fn every_fixture_exports() {
    let (_tmp, store) = fixture_store();
    for meta in store.list().unwrap().sessions {
        let id = meta.session_id();
        let md = store.export(id, ExportFormat::Markdown).unwrap();
        let page = store.export(id, ExportFormat::Html).unwrap();
        assert!(md.starts_with("# "), "{id}");
        assert!(
            page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"),
            "{id}"
        );
        assert!(page.contains(&format!("<dd>{id}</dd>")), "{id}");
    }
}

#[test]
fn unknown_session_and_bad_id_are_refused() {
    let (_tmp, store) = fixture_store();
    assert!(matches!(
        store.export("20990101-000000-none", ExportFormat::Html),
        Err(Error::SessionNotFound(_))
    ));
    assert!(matches!(
        store.export("../x", ExportFormat::Markdown),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn corrupt_lines_and_missing_images_become_notes() {
    let (tmp, store) = fixture_store();
    let dir = tmp.path().join("sessions").join(FIXTURE01);
    let image = fs::read_dir(dir.join("images"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    fs::remove_file(image.path()).unwrap();
    let mut log = fs::read(dir.join("events.jsonl")).unwrap();
    log.extend_from_slice(b"{\"seq\":21,\"type\":<b>torn\n");
    fs::write(dir.join("events.jsonl"), log).unwrap();

    let md = store.export(FIXTURE01, ExportFormat::Markdown).unwrap();
    assert!(
        md.contains("> **Note:** line 21 of events.jsonl could not be read"),
        "{md}"
    );
    assert!(md.contains("*(image screenshot.png not shown: image not found: img\\_001\\_"));
    assert!(!md.contains("data:image"));
    let page = store.export(FIXTURE01, ExportFormat::Html).unwrap();
    assert!(page.contains("<p class=\"note\"><b>Note:</b> line 21 of events.jsonl"));
    assert!(page.contains("<p class=\"note\">Image screenshot.png not shown: image not found"));
    assert!(!page.contains("<b>torn"));
    // Everything after the bad line's place is still there.
    assert!(page.contains("You&#39;re welcome!"));
}
