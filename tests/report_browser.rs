//! report.html in a real browser: renders the tiny example report to a temp file, loads it in
//! headless Chromium, and checks from the dumped DOM that the page loaded, that its inline SVG
//! charts are there with their marks, and that the inline script ran to its end without an error
//! or a Content-Security-Policy refusal (it sets `data-ready="1"` on <body> as its last act).
//! Also takes a screenshot (kept at $BILLRISK_REPORT_SCREENSHOT when set, with the page beside it
//! as .html, to look at).
//!
//! Chromium is looked up at $BILLRISK_CHROMIUM, then /usr/bin/chromium, chromium-browser,
//! google-chrome. Without one the test fails under CI (CI=true) and skips with a message locally.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use billrisk::config::ReportConfig;
use billrisk::report::{self, example};

fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("BILLRISK_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

fn require_chromium() -> Option<PathBuf> {
    match chromium() {
        Some(p) => Some(p),
        None if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("headless Chromium is required under CI: install it (apt-get install -y chromium) or set BILLRISK_CHROMIUM")
        }
        None => {
            eprintln!("SKIPPED report_browser: no Chromium found (set BILLRISK_CHROMIUM or install chromium)");
            None
        }
    }
}

/// Runs headless Chromium on a file with extra arguments; returns (stdout, stderr).
fn run_chromium(browser: &Path, dir: &Path, page: &Path, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir_in(dir).expect("profile dir");
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start chromium");
    // Read the pipes on threads so a full pipe cannot stall the browser.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if child.try_wait().expect("wait chromium").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 180 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (
        t_out.join().unwrap_or_default(),
        t_err.join().unwrap_or_default(),
    )
}

fn write_report(dir: &Path, data: &report::ReportData) -> PathBuf {
    let cfg = ReportConfig::default();
    let summary = report::summarize(data, &cfg).expect("summary");
    let html = report::render_html(data, &summary, &cfg).expect("html");
    let page = dir.join("report.html");
    std::fs::write(&page, html).expect("write report.html");
    page
}

fn assert_no_script_errors(stderr: &str) {
    for bad in ["Uncaught", "Refused to", "Content Security Policy"] {
        assert!(
            !stderr.contains(bad),
            "browser reported {bad:?}:\n{}",
            stderr
                .lines()
                .filter(|l| l.contains("CONSOLE") || l.contains(bad))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn report_loads_in_headless_chromium_with_charts_and_script() {
    let Some(browser) = require_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let page = write_report(dir.path(), &example::tiny().expect("example"));

    let (dom, stderr) = run_chromium(&browser, dir.path(), &page, &["--dump-dom".to_string()]);
    assert!(
        dom.contains("billrisk report as of 2026-10-20"),
        "page did not load:\n{stderr}"
    );
    // The inline script ran to its end: no error stopped it and the CSP let it run.
    assert!(
        dom.contains("data-ready=\"1\""),
        "inline script did not finish:\n{stderr}"
    );
    assert_no_script_errors(&stderr);
    // Charts: aging (EUR, USD), collections, 3 burn-ups, histogram, 4 usage series.
    assert_eq!(dom.matches("<svg").count(), 11);
    assert!(dom.matches("class=\"bar\"").count() >= 10);
    assert!(dom.matches("class=\"line\"").count() >= 8);
    assert!(dom.matches("class=\"mark\"").count() >= 2);
    // The sortable tables got their keyboard focus from the script.
    assert!(dom.contains("tabindex=\"0\""));

    let shot = dir.path().join("report.png");
    let (_, stderr) = run_chromium(
        &browser,
        dir.path(),
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,5200".to_string(),
            "--hide-scrollbars".to_string(),
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{stderr}"));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "screenshot is not a PNG"
    );
    assert!(
        png.len() > 20_000,
        "screenshot suspiciously small: {} bytes",
        png.len()
    );
    if let Ok(keep) = std::env::var("BILLRISK_REPORT_SCREENSHOT") {
        std::fs::copy(&shot, &keep).expect("keep screenshot");
        std::fs::copy(&page, Path::new(&keep).with_extension("html")).expect("keep report.html");
    }
}

#[test]
fn hostile_names_do_not_run_in_the_browser() {
    let Some(browser) = require_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let names = [
        "<script>document.title='pwned'</script>",
        "<img src=x onerror=\"document.title='pwned'\">",
        "=HYPERLINK(\"http://x\")",
        "@SUM(1) | \"quoted\"",
    ];
    let page = write_report(
        dir.path(),
        &example::tiny_with_names(names).expect("example"),
    );
    let (dom, stderr) = run_chromium(&browser, dir.path(), &page, &["--dump-dom".to_string()]);
    assert!(
        dom.contains("data-ready=\"1\""),
        "inline script did not finish:\n{stderr}"
    );
    assert!(!dom.contains("pwned</title>"));
    // Exactly our own script element and no injected image element.
    assert_eq!(dom.matches("<script").count(), 1);
    assert!(!dom.contains("<img"));
    assert!(dom.contains("&lt;script&gt;document.title="));
    assert_no_script_errors(&stderr);
}

#[test]
fn sample_report_loads_in_headless_chromium_with_every_chart() {
    let Some(browser) = require_chromium() else {
        return;
    };
    let out = crate::scenarios::sample_run();
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("report.html");
    std::fs::copy(out.join("report.html"), &page).expect("copy report");
    let (dom, stderr) = run_chromium(&browser, dir.path(), &page, &["--dump-dom".to_string()]);
    assert!(
        dom.contains("billrisk report as of 2026-11-15"),
        "page did not load:\n{stderr}"
    );
    assert!(
        dom.contains("data-ready=\"1\""),
        "inline script did not finish:\n{stderr}"
    );
    assert_no_script_errors(&stderr);
    // Aging by bucket, the collections ladder, burn-ups, the score histogram and the top
    // customers' usage series: at least one chart each, all with marks.
    assert!(
        dom.matches("<svg").count() >= 5,
        "{} charts",
        dom.matches("<svg").count()
    );
    assert!(dom.matches("class=\"bar\"").count() >= 10);
    assert!(dom.matches("class=\"line\"").count() >= 3);
    // The headline figure of summary.json is on the page.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let critical = summary["customers_critical_risk"].as_u64().unwrap();
    assert!(critical >= 1);
    // With BILLRISK_DOCS_SCREENSHOT=docs/report.png the screenshot for the README is refreshed.
    if let Ok(keep) = std::env::var("BILLRISK_DOCS_SCREENSHOT") {
        let shot = dir.path().join("report.png");
        let (_, stderr) = run_chromium(
            &browser,
            dir.path(),
            &page,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1280,2400".to_string(),
                "--hide-scrollbars".to_string(),
            ],
        );
        std::fs::copy(&shot, &keep).unwrap_or_else(|e| panic!("screenshot ({e}):\n{stderr}"));
    }
}
