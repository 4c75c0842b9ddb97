//! Compiled contract modules on disk (`HOME/data/wasm-cache/`), so a restarted node
//! runs deployed contracts without compiling them again. Keys carry the engine's
//! compatibility hash: after a wasmtime upgrade old files are simply not read.
//! A file that cannot be written only costs a recompile later.

use std::path::PathBuf;
use tamga_runtime::contracts::PrecompiledStore;

pub struct DiskModules {
    dir: PathBuf,
}

impl DiskModules {
    pub fn open(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(DiskModules { dir })
    }

    fn path(&self, key: &str) -> PathBuf {
        assert!(
            key.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'),
            "keys are hex: safe file names"
        );
        self.dir.join(format!("{key}.cwasm"))
    }
}

impl PrecompiledStore for DiskModules {
    fn load(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(key)).ok()
    }

    /// Writes to a temporary file and renames it, so a crash never leaves a
    /// half-written module under the real name.
    fn save(&self, key: &str, bytes: &[u8]) {
        let path = self.path(key);
        let partial = path.with_extension("partial");
        let written =
            std::fs::write(&partial, bytes).and_then(|()| std::fs::rename(&partial, &path));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "could not keep a compiled contract module");
        }
    }
}
