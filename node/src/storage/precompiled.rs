//! Compiled contract modules on disk (`HOME/data/wasm-cache/`), so a restarted node
//! runs deployed contracts without compiling them again. Keys carry the engine's
//! compatibility hash: after a wasmtime upgrade old files are simply not read.
//! A file that cannot be written only costs a recompile later.
//!
//! Compiled modules are machine code that wasmtime loads without checking it, so
//! every file starts with a blake3 checksum of the rest: a torn or corrupted file
//! (a crash mid-write, a bad disk) is deleted and the module compiled again, never
//! loaded. Files are written to a temporary name, synced, renamed, and the
//! directory synced.

use std::io::Write;
use std::path::PathBuf;
use tamga_runtime::contracts::PrecompiledStore;

const CHECKSUM_BYTES: usize = 32;

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

    fn write(&self, path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
        // A name of its own per writer: two threads saving one module never
        // write the same temporary file.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let partial = path.with_extension(format!("partial-{}-{n}", std::process::id()));
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(blake3::hash(bytes).as_bytes())?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&partial, path)?;
        std::fs::File::open(&self.dir)?.sync_all()
    }
}

/// The module in a file's bytes, if its checksum holds.
fn checked(file: &[u8]) -> Option<&[u8]> {
    if file.len() < CHECKSUM_BYTES {
        return None;
    }
    let (checksum, module) = file.split_at(CHECKSUM_BYTES);
    (blake3::hash(module).as_bytes() == checksum).then_some(module)
}

impl PrecompiledStore for DiskModules {
    fn load(&self, key: &str) -> Option<Vec<u8>> {
        let path = self.path(key);
        let file = std::fs::read(&path).ok()?;
        match checked(&file) {
            Some(module) => Some(module.to_vec()),
            None => {
                tracing::warn!(path = %path.display(), "a compiled contract module fails its checksum; deleted, it will be compiled again");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    fn save(&self, key: &str, bytes: &[u8]) {
        let path = self.path(key);
        if let Err(e) = self.write(&path, bytes) {
            tracing::warn!(path = %path.display(), error = %e, "could not keep a compiled contract module");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_or_altered_module_is_never_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskModules::open(dir.path().to_path_buf()).unwrap();
        store.save("ab", b"machine code");
        assert_eq!(store.load("ab").as_deref(), Some(&b"machine code"[..]));
        let path = store.path("ab");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(store.load("ab"), None, "torn");
        assert!(!path.exists(), "deleted, to be compiled again");
        store.save("ab", b"machine code");
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(store.load("ab"), None, "altered");
    }
}
