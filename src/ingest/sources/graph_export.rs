//! A Microsoft Graph partner billing download (billed and unbilled daily rated usage v2, billed
//! invoice reconciliation v2: `/reports/partners/billing/...`) as it lands in usage/ or billed/:
//! the manifest the export operation returns, saved as a `.json` file, beside the blobs it names,
//! each a gzip file of JSON lines (one line item per line, `.json.gz`).
//!
//! The manifest (id, schemaVersion, dataFormat, createdDateTime, eTag, partnerTenantId,
//! rootDirectory, sasToken, partitionType, blobCount, blobs [{name, partitionValue}]) says which
//! blobs make up the download. Before anything is read:
//! - a file is a manifest when it is a `.json` file (not gzipped) of at most 4 MiB whose top-level
//!   object has `blobs` and `dataFormat` or `blobCount` (names in any case);
//! - its dataFormat must be compressedJSONLines (or compressedJSON, which Microsoft's example
//!   response shows for the same blobs), and blobCount, when given, the number of blobs listed;
//! - every blob it names (the last part of the name: the folder Microsoft gives it is the
//!   storage's, not yours) must be a file in the manifest's folder, else the run fails naming
//!   the blob and the manifest: a short download must never read as a quiet month;
//! - every gzip JSON file (`.json.gz`, `.jsonl.gz`) in a folder that holds a manifest must be
//!   named by one of that folder's manifests, else the run fails naming it: it belongs to another
//!   download (another eTag) or its manifest is missing, and summing it in would count a month
//!   twice.
//!
//! The blobs are then read like any JSON-lines file of their folder (read/json.rs): the
//! attribute names are the CSV export's column names in camelCase, matched as headers are, and a
//! `basic` attribute set simply lacks optional columns (MeterCategory, ResourceLocation,
//! CustomerCountry ...). Every blob is an input file of its own in manifest.json, with its rows
//! read, accepted and rejected; a rejected line names the blob and its line. The manifest itself
//! holds no rows and is not read as one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

/// What usage/ accepts, for errors about a file of another shape.
pub const USAGE_SHAPES: &str = "Partner Center daily rated usage (CSV, JSON, JSON lines or Parquet, \
optionally gzipped), a FOCUS 1.0-1.2 cost export (BilledCost and ChargePeriodStart), or a Microsoft \
Graph billing export (its manifest .json beside the .json.gz blobs it names)";
/// What billed/ accepts.
pub const BILLED_SHAPES: &str =
    "Partner Center invoice reconciliation line items (CSV, JSON, JSON \
lines or Parquet, optionally gzipped), or a Microsoft Graph billed invoice reconciliation export \
(its manifest .json beside the .json.gz blobs it names)";

/// Largest file taken for a manifest: a manifest of a thousand blobs is about 150 KB.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// Data formats whose blobs are gzip JSON lines.
const DATA_FORMATS: [&str; 2] = ["compressedjsonlines", "compressedjson"];

/// One manifest of a Graph billing download.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub path: PathBuf,
    /// Blob file names (last part of each name) with their partitionValue.
    pub blobs: Vec<(String, String)>,
    pub etag: Option<String>,
}

fn key<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_gzip_json(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".json.gz") || lower.ends_with(".jsonl.gz")
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The manifest a file holds, None when it is not one (any other file of the folder).
pub fn manifest(path: &Path) -> Result<Option<Manifest>> {
    let name = file_name(path).to_ascii_lowercase();
    if !name.ends_with(".json") {
        return Ok(None);
    }
    let err = |reason: String| Error::input_file(path.to_path_buf(), reason);
    let size = std::fs::metadata(path)
        .map_err(|e| err(e.to_string()))?
        .len();
    if size > MAX_MANIFEST_BYTES {
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(bytes) else {
        return Ok(None);
    };
    let Some(blobs) = key(&obj, "blobs") else {
        return Ok(None);
    };
    if key(&obj, "dataFormat").is_none() && key(&obj, "blobCount").is_none() {
        return Ok(None);
    }
    // From here on the file is a manifest: what is wrong with it is an error, not another shape.
    if let Some(format) = text(key(&obj, "dataFormat")) {
        if !DATA_FORMATS.contains(&format.to_ascii_lowercase().as_str()) {
            return Err(err(format!(
                "a Microsoft Graph billing manifest: expected dataFormat compressedJSONLines, found '{format}'"
            )));
        }
    }
    let Value::Array(list) = blobs else {
        return Err(err(
            "a Microsoft Graph billing manifest: expected blobs to be a list, found another value"
                .into(),
        ));
    };
    let mut out = Vec::new();
    for (i, b) in list.iter().enumerate() {
        let named = match b {
            Value::Object(o) => text(key(o, "name")).map(|n| (n, text(key(o, "partitionValue")))),
            _ => None,
        };
        let Some((full, partition)) = named.filter(|(n, _)| !n.is_empty()) else {
            return Err(err(format!(
                "a Microsoft Graph billing manifest: expected blob {} to have a name, found {}",
                i + 1,
                b
            )));
        };
        let short = full.rsplit('/').next().unwrap_or(&full).to_string();
        out.push((short, partition.unwrap_or_default()));
    }
    if let Some(count) = key(&obj, "blobCount") {
        let n = count.as_u64();
        if n != Some(out.len() as u64) {
            return Err(err(format!(
                "a Microsoft Graph billing manifest: expected blobCount to equal the {} blob(s) listed, found {count}",
                out.len()
            )));
        }
    }
    Ok(Some(Manifest {
        path: path.to_path_buf(),
        blobs: out,
        etag: text(key(&obj, "eTag")),
    }))
}

/// The files of a source folder with the Graph downloads checked against their manifests and the
/// manifests taken out (they hold no rows). `files` are sorted paths; so is the result.
pub fn resolve(files: Vec<PathBuf>) -> Result<Vec<PathBuf>> {
    let mut manifests: BTreeMap<PathBuf, Vec<Manifest>> = BTreeMap::new();
    let mut data = Vec::new();
    for f in files {
        match manifest(&f)? {
            Some(m) => {
                let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
                manifests.entry(dir).or_default().push(m);
            }
            None => data.push(f),
        }
    }
    if manifests.is_empty() {
        return Ok(data);
    }
    for (dir, ms) in &manifests {
        let present: BTreeSet<String> = data
            .iter()
            .filter(|p| p.parent() == Some(dir.as_path()))
            .map(|p| file_name(p))
            .collect();
        let mut named = BTreeSet::new();
        for m in ms {
            for (blob, partition) in &m.blobs {
                if !present.contains(blob) {
                    let partition = if partition.is_empty() {
                        String::new()
                    } else {
                        format!(" (partition {partition})")
                    };
                    return Err(Error::input_file(m.path.clone(), format!(
                            "the manifest names blob {blob}{partition}, which is not in {}: the download is incomplete; download every blob the manifest lists",
                            dir.display()
                        )));
                }
                named.insert(blob.clone());
            }
        }
        if let Some(stray) = data.iter().find(|p| {
            p.parent() == Some(dir.as_path())
                && is_gzip_json(&file_name(p))
                && !named.contains(&file_name(p))
        }) {
            let names: Vec<String> = ms.iter().map(|m| file_name(&m.path)).collect();
            return Err(Error::input_file(stray.clone(), format!(
                    "a gzip JSON blob that no Microsoft Graph billing manifest in its folder names (manifests: {}): it belongs to another download, or its manifest is missing; keep each download's manifest beside its blobs",
                    names.join(", ")
                )));
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    const MANIFEST: &str = r#"{
  "id": "6fe687d7-1e0f-4bd6-9091-4672691f64bc",
  "schemaVersion": "2",
  "dataFormat": "compressedJSONLines",
  "createdDateTime": "2024-11-03T06:34:34.87Z",
  "eTag": "WYjLro78HdMg6vUWR",
  "partnerTenantId": "0e195b37-4574-4539-bc42-0e539b9684c0",
  "rootDirectory": "https://example.blob.core.windows.net/billedusage/v1/PartnerTenantId=0e195b37/BillingMonth=202410/Fragment=full",
  "sasToken": "sv=2021-08-06&sig=redacted",
  "partitionType": "Default",
  "blobCount": 2,
  "blobs": [
    {"name": "part-00000-a.c000.json.gz", "partitionValue": "default"},
    {"name": "folder/part-00001-a.c000.json.gz", "partitionValue": "default"}
  ]
}"#;

    #[test]
    fn a_manifest_is_read_and_its_blobs_named_by_their_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(&write(dir.path(), "manifest.json", MANIFEST.as_bytes()))
            .unwrap()
            .unwrap();
        assert_eq!(
            m.blobs,
            [
                (
                    "part-00000-a.c000.json.gz".to_string(),
                    "default".to_string()
                ),
                (
                    "part-00001-a.c000.json.gz".to_string(),
                    "default".to_string()
                )
            ]
        );
        assert_eq!(m.etag.as_deref(), Some("WYjLro78HdMg6vUWR"));
        // A JSON file of rows is no manifest.
        let rows = write(dir.path(), "rows.json", br#"[{"CustomerId": "c1"}]"#);
        assert_eq!(manifest(&rows).unwrap(), None);
        let wrapped = write(dir.path(), "value.json", br#"{"value": [{"blobs": 1}]}"#);
        assert_eq!(manifest(&wrapped).unwrap(), None);
    }

    #[test]
    fn a_complete_download_gives_its_blobs_and_not_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let m = write(dir.path(), "manifest.json", MANIFEST.as_bytes());
        let a = write(dir.path(), "part-00000-a.c000.json.gz", b"");
        let b = write(dir.path(), "part-00001-a.c000.json.gz", b"");
        let csv = write(dir.path(), "old.csv", b"");
        let mut files = vec![m, a.clone(), b.clone(), csv.clone()];
        files.sort();
        assert_eq!(resolve(files).unwrap(), [csv, a, b]);
    }

    #[test]
    fn a_missing_blob_names_the_blob_and_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let m = write(dir.path(), "manifest.json", MANIFEST.as_bytes());
        let a = write(dir.path(), "part-00000-a.c000.json.gz", b"");
        let e = resolve(vec![m, a]).unwrap_err().to_string();
        assert!(e.contains("manifest.json"), "{e}");
        assert!(
            e.contains("names blob part-00001-a.c000.json.gz (partition default), which is not in"),
            "{e}"
        );
    }

    #[test]
    fn a_blob_no_manifest_names_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let m = write(dir.path(), "manifest.json", MANIFEST.as_bytes());
        let a = write(dir.path(), "part-00000-a.c000.json.gz", b"");
        let b = write(dir.path(), "part-00001-a.c000.json.gz", b"");
        let stray = write(dir.path(), "part-00002-b.c000.json.gz", b"");
        let e = resolve(vec![m, a, b, stray]).unwrap_err().to_string();
        assert!(e.contains("part-00002-b.c000.json.gz"), "{e}");
        assert!(e.contains("no Microsoft Graph billing manifest"), "{e}");
        assert!(e.contains("manifests: manifest.json"), "{e}");
    }

    #[test]
    fn a_wrong_blob_count_or_data_format_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let count = write(
            dir.path(),
            "m1.json",
            MANIFEST
                .replace("\"blobCount\": 2", "\"blobCount\": 3")
                .as_bytes(),
        );
        let e = manifest(&count).unwrap_err().to_string();
        assert!(
            e.contains("expected blobCount to equal the 2 blob(s) listed, found 3"),
            "{e}"
        );
        let format = write(
            dir.path(),
            "m2.json",
            MANIFEST
                .replace("compressedJSONLines", "parquet")
                .as_bytes(),
        );
        let e = manifest(&format).unwrap_err().to_string();
        assert!(
            e.contains("expected dataFormat compressedJSONLines, found 'parquet'"),
            "{e}"
        );
    }

    #[test]
    fn folders_without_a_manifest_are_left_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let gz = write(dir.path(), "usage.json.gz", b"");
        let csv = write(dir.path(), "usage.csv", b"");
        assert_eq!(resolve(vec![csv.clone(), gz.clone()]).unwrap(), [csv, gz]);
    }
}
