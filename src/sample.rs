//! The bundled sample data (sample_data/ in the repository), compiled into the binary so that
//! `billrisk run` with no --input works from any folder. It is written to a scratch folder and read
//! like any other input folder.

use std::path::Path;

use include_dir::{include_dir, Dir};

use crate::error::{Error, Result};

static SAMPLE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/sample_data");

/// Writes the sample data below `dir` and returns the folder to read.
pub fn extract(dir: &Path) -> Result<std::path::PathBuf> {
    let root = dir.join("sample_data");
    std::fs::create_dir_all(&root).map_err(|e| Error::output(root.clone(), e))?;
    SAMPLE
        .extract(&root)
        .map_err(|e| Error::output(root.clone(), e))?;
    Ok(root)
}
