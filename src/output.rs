//! The output folder, written all or nothing (SPEC 5): everything is written into a temporary
//! folder beside --out, and only a complete run is moved into place. An existing --out is first
//! renamed aside, the new folder renamed in, and the old one removed; if the second rename fails
//! the old folder is put back. A lock file beside --out stops two runs from writing it at once.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
pub use crate::files::parquet_rows;
pub(crate) use crate::files::{out_err, Hashing};

/// The environment variable that makes a run fail on purpose at a named point (tests only).
pub const INJECT_FAILURE_ENV: &str = "BILLRISK_INJECT_FAILURE";

/// A testing hook: with `BILLRISK_INJECT_FAILURE=<point>` the run fails at that point, so the
/// tests can prove that a failure anywhere leaves --out as it was. Points: ingest, analyses,
/// tables (after the first table is written), reports, manifest, swap (after the old --out was
/// moved aside, before the new one is moved in). Unset in normal use, it costs one lookup.
/// `abort:<point>` instead ends the process on the spot, as `kill -9` would: nothing is cleaned
/// up, which is what the tests of the next run's clean-up need.
pub fn fault_point(point: &str) -> Result<()> {
    match std::env::var(INJECT_FAILURE_ENV) {
        Ok(p) if p == point => Err(Error::Internal(format!(
            "failure injected at {point} ({INJECT_FAILURE_ENV})"
        ))),
        Ok(p) if p.strip_prefix("abort:") == Some(point) => std::process::abort(),
        _ => Ok(()),
    }
}

/// The staging folder of one run and the lock that guards --out.
pub struct Staging {
    dir: Option<tempfile::TempDir>,
    pub out: PathBuf,
    lock_path: PathBuf,
}

impl Staging {
    /// Takes the lock `.<out>.lock` and creates `<parent of out>/.billrisk-tmp-<out>-<pid>-XXXX`.
    /// A lock left by a killed run is taken over, and what that run left is cleared first: its
    /// staging folder is removed, and an --out it had moved aside but not replaced is put back.
    pub fn begin(out: &Path) -> Result<Staging> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| out_err(&parent, e))?;
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "billrisk-out".into());
        let lock_path = parent.join(format!(".{name}.lock"));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock_path)
        {
            Ok(mut f) => {
                let _ = writeln!(f, "{}", std::process::id());
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // A lock whose process is gone is stale (a killed run): take it over.
                let pid = fs::read_to_string(&lock_path).unwrap_or_default();
                let alive = pid.trim().parse::<u32>().map(is_alive).unwrap_or(false);
                if alive {
                    return Err(out_err(
                        out,
                        format!(
                            "another billrisk run (pid {}) is writing it; lock file {}",
                            pid.trim(),
                            lock_path.display()
                        ),
                    ));
                }
                fs::write(&lock_path, format!("{}\n", std::process::id()))
                    .map_err(|e| out_err(&lock_path, e))?;
                if let Ok(dead) = pid.trim().parse::<u32>() {
                    clear_dead_run(out, &parent, &name, dead)?;
                }
            }
            Err(e) => return Err(out_err(&lock_path, e)),
        }
        let dir = tempfile::Builder::new()
            .prefix(&staging_prefix(&name, std::process::id()))
            .tempdir_in(&parent)
            .map_err(|e| out_err(&parent, e))?;
        Ok(Staging {
            dir: Some(dir),
            out: out.to_path_buf(),
            lock_path,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().map(|d| d.path()).unwrap_or(&self.out)
    }

    /// Moves the staged folder into place as --out.
    pub fn commit(mut self) -> Result<()> {
        let staged = match self.dir.take() {
            Some(d) => d.keep(),
            None => return Err(Error::Internal("output committed twice".into())),
        };
        let out = &self.out;
        if out.exists() {
            let aside = out.with_file_name(format!(
                ".{}.old-{}",
                out.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                std::process::id()
            ));
            fs::rename(out, &aside).map_err(|e| out_err(out, e))?;
            if let Err(e) = fault_point("swap")
                .and_then(|_| fs::rename(&staged, out).map_err(|e| out_err(out, e)))
            {
                let _ = fs::rename(&aside, out);
                let _ = fs::remove_dir_all(&staged);
                return Err(e);
            }
            let _ = fs::remove_dir_all(&aside);
        } else {
            fs::rename(&staged, out).map_err(|e| {
                let _ = fs::remove_dir_all(&staged);
                out_err(out, e)
            })?;
        }
        Ok(())
    }
}

/// Whether a process of that id is running (Linux: its /proc entry). A pid reused by another
/// process counts as alive, so nothing of a live process is ever removed.
fn is_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The name a staging folder of `out` written by process `pid` starts with.
fn staging_prefix(out_name: &str, pid: u32) -> String {
    format!(".billrisk-tmp-{out_name}-{pid}-")
}

/// Clears what a killed run (process `dead`, whose lock on `out` this run took over) left beside
/// --out: its staging folder, and the old --out it moved aside. When the kill came between moving
/// the old --out aside and moving the new one in, --out is missing: the old one is put back, so
/// --out is again what it was before the killed run started.
fn clear_dead_run(out: &Path, parent: &Path, out_name: &str, dead: u32) -> Result<()> {
    let aside = parent.join(format!(".{out_name}.old-{dead}"));
    if aside.is_dir() {
        if out.exists() {
            fs::remove_dir_all(&aside).map_err(|e| out_err(&aside, e))?;
        } else {
            fs::rename(&aside, out).map_err(|e| out_err(out, e))?;
        }
    }
    let prefix = staging_prefix(out_name, dead);
    remove_dirs_starting_with(parent, &prefix)
}

/// Removes every folder in `dir` whose name starts with `prefix`.
fn remove_dirs_starting_with(dir: &Path, prefix: &str) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir && entry.file_name().to_string_lossy().starts_with(prefix) {
            let path = entry.path();
            fs::remove_dir_all(&path).map_err(|e| out_err(&path, e))?;
        }
    }
    Ok(())
}

/// The prefix of a run's scratch folder in the system temporary folder.
const SCRATCH_PREFIX: &str = "billrisk-scratch-";

/// A run's scratch folder in TMPDIR (`billrisk-scratch-<pid>-XXXX`), removed when it is dropped.
/// Scratch folders of processes that are gone (killed runs: hundreds of MB at 10M usage rows) are
/// removed first.
pub fn scratch_dir() -> Result<tempfile::TempDir> {
    let tmp = std::env::temp_dir();
    if let Ok(entries) = fs::read_dir(&tmp) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix(SCRATCH_PREFIX)
                .and_then(|rest| rest.split('-').next())
                .and_then(|p| p.parse::<u32>().ok());
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if let (Some(pid), true) = (pid, is_dir) {
                if !is_alive(pid) {
                    // Best effort: a folder another user owns is left as it is.
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
    }
    tempfile::Builder::new()
        .prefix(&format!("{SCRATCH_PREFIX}{}-", std::process::id()))
        .tempdir()
        .map_err(|e| out_err(&tmp, e))
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.lock_path);
    }
}

/// Writes a file and returns its sha256.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<String> {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).map_err(|e| out_err(p, e))?;
    }
    fs::write(path, bytes).map_err(|e| out_err(path, e))?;
    Ok(format!("{:x}", Sha256::digest(bytes)))
}

/// Writes a table as Parquet (zstd, statistics) and returns (rows, sha256 of the file).
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(u64, String)> {
    write_marked_parquet(path, df, None)
}

/// [`write_parquet`], with the key-value metadata that marks the file as canonical input table
/// `table` when one is given (`billrisk ingest`, see ingest/canonical.rs).
pub fn write_marked_parquet(
    path: &Path,
    df: &mut DataFrame,
    table: Option<&str>,
) -> Result<(u64, String)> {
    // One chunk and a fixed row-group size: the file's bytes then depend on the data alone, not
    // on how many threads produced it (byte-identical tables, SPEC 6).
    df.rechunk_mut_par();
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(TABLE_COMPRESSION)
        .with_statistics(StatisticsOptions::default())
        .with_row_group_size(Some(ROW_GROUP_ROWS))
        .with_key_value_metadata(table.map(crate::ingest::canonical::metadata))
        .finish(df)
        .map_err(|e| out_err(path, e))?;
    let sha = write_bytes(path, &buf)?;
    Ok((df.height() as u64, sha))
}

/// Compression of every output table.
pub const TABLE_COMPRESSION: ParquetCompression = ParquetCompression::Zstd(None);

/// Rows per row group of every Parquet file billrisk writes.
const ROW_GROUP_ROWS: usize = 256 * 1024;

/// Streams a plan into a Parquet file with Polars' streaming engine, so a table larger than
/// memory (usage at ten million rows) is never held whole. Rows keep the plan's order and row
/// groups hold exactly [`ROW_GROUP_ROWS`] rows, so the bytes depend on the data alone, not on
/// how many threads produced it. Polars errors (a bad input value deep in a scan) keep `stage`.
/// `table` marks the file as that canonical input table (see ingest/canonical.rs).
pub fn sink_parquet(
    lf: LazyFrame,
    path: &Path,
    compression: ParquetCompression,
    table: Option<&str>,
    stage: &'static str,
) -> Result<()> {
    use crate::error::PolarsContext;
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).map_err(|e| out_err(p, e))?;
    }
    let target = SinkTarget::Path(PlRefPath::try_from_path(path).map_err(|e| out_err(path, e))?);
    let options = ParquetWriteOptions {
        compression,
        statistics: StatisticsOptions::default(),
        row_group_size: Some(ROW_GROUP_ROWS),
        key_value_metadata: table.map(crate::ingest::canonical::metadata),
        ..Default::default()
    };
    lf.sink(
        SinkDestination::File { target },
        FileWriteFormat::Parquet(Arc::new(options)),
        UnifiedSinkArgs::default(),
    )
    .and_then(|lf| lf.collect_with_engine(Engine::Streaming))
    .stage(stage)?;
    Ok(())
}

/// Copies a Parquet file billrisk wrote (a staged table) into the output folder and returns
/// (rows, sha256 of the file), hashed on the way: the table is never in memory.
pub fn copy_table(from: &Path, to: &Path) -> Result<(u64, String)> {
    if let Some(p) = to.parent() {
        fs::create_dir_all(p).map_err(|e| out_err(p, e))?;
    }
    let rows = parquet_rows(from)?;
    let mut src = Hashing {
        inner: fs::File::open(from).map_err(|e| out_err(from, e))?,
        hasher: Sha256::new(),
        size: 0,
    };
    let mut dst = std::io::BufWriter::new(fs::File::create(to).map_err(|e| out_err(to, e))?);
    std::io::copy(&mut src, &mut dst).map_err(|e| out_err(to, e))?;
    dst.flush().map_err(|e| out_err(to, e))?;
    Ok((rows, format!("{:x}", src.hasher.finalize())))
}

/// Puts a Parquet file billrisk wrote into its scratch folder (a staged table) into the output
/// folder and returns (rows, sha256 of the file): as a hard link when both folders are on one
/// file system (the scratch folder's name goes at the end of the run, the output's stays), which
/// writes nothing (430 MB of staged usage at 10M lines); copied as [`copy_table`] does otherwise.
/// Only for files of the scratch folder: a file of the input folder is always copied, so that the
/// output never shares its bytes with a file the user may change.
pub fn place_scratch_table(from: &Path, to: &Path) -> Result<(u64, String)> {
    if let Some(p) = to.parent() {
        fs::create_dir_all(p).map_err(|e| out_err(p, e))?;
    }
    if fs::hard_link(from, to).is_err() {
        return copy_table(from, to);
    }
    let mut hasher = Sha256::new();
    let mut file = fs::File::open(to).map_err(|e| out_err(to, e))?;
    std::io::copy(&mut file, &mut hasher).map_err(|e| out_err(to, e))?;
    Ok((parquet_rows(to)?, format!("{:x}", hasher.finalize())))
}

/// A lazy scan of a Parquet file billrisk wrote itself (staged inputs).
pub fn scan_own_parquet(path: &Path) -> Result<LazyFrame> {
    let p = PlRefPath::try_from_path(path).map_err(|e| out_err(path, e))?;
    LazyFrame::scan_parquet(p, ScanArgsParquet::default()).map_err(|e| out_err(path, e))
}

/// Reads a Parquet table written by an earlier run.
pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let f = fs::File::open(path).map_err(|e| Error::input_file(path.to_path_buf(), e))?;
    ParquetReader::new(f)
        .finish()
        .map_err(|e| Error::input_file(path.to_path_buf(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_table_placed_in_the_output_is_whole_and_outlives_the_scratch_folder() {
        let scratch = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let staged = scratch.path().join("staged.parquet");
        let mut df = df!("a" => [1i64, 2, 3], "b" => ["x", "y", "z"]).unwrap();
        let (_, written_sha) = write_parquet(&staged, &mut df).unwrap();
        let placed = out.path().join("tables/t.parquet");
        let copied = out.path().join("tables/c.parquet");
        let (rows, sha) = place_scratch_table(&staged, &placed).unwrap();
        // The same rows and hash as a copy, and the hash of the bytes written.
        assert_eq!((rows, &sha), (3, &written_sha));
        assert_eq!(copy_table(&staged, &copied).unwrap(), (3, sha.clone()));
        // Both folders are in the temporary folder, one file system: linked, not copied.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            assert_eq!(fs::metadata(&placed).unwrap().nlink(), 2);
            assert_eq!(fs::metadata(&copied).unwrap().nlink(), 1);
        }
        drop(scratch);
        assert!(!staged.exists());
        let bytes = fs::read(&placed).unwrap();
        assert_eq!(format!("{:x}", Sha256::digest(&bytes)), sha);
        assert!(read_parquet(&placed).unwrap().equals(&df));
    }
}
