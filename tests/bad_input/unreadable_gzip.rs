//! Run fails with a message (exit 1, --out untouched): a .csv.gz that is not gzip, or is cut off
//! mid-stream, cannot be read; the message names the file and says why.

use super::*;

#[test]
fn not_gzip_at_all_names_the_file() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write("in/usage/broken.csv.gz", "this is not gzip data\n");
    run_fails(&w, &["cannot read", "broken.csv.gz"]);
}

#[test]
fn gzip_cut_off_mid_stream_names_the_file() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let mut text = String::from(USAGE_HEADER);
    for d in 1..=28 {
        text.push_str(&format!("c1,11/{d:02}/2026,1.0,USD\n"));
    }
    w.write_gz("in/usage/cut.csv.gz", &text);
    let gz = std::fs::read(w.path("in/usage/cut.csv.gz")).unwrap();
    assert!(gz.len() > 40);
    w.write("in/usage/cut.csv.gz", &gz[..40]);
    run_fails(
        &w,
        &["cannot read", "cut.csv.gz", "incomplete deflate stream"],
    );
}
