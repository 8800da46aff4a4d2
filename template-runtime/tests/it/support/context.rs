//! File-tree helpers shared by the `context` tests.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sandbox_template_runtime::context::BuildContext;

/// Writes `data` to `dir/rel` (making parents) with permission bits `mode`.
pub fn write(dir: &Path, rel: &str, data: &[u8], mode: u32) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, data).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Makes the folder `dir/rel` with mode 0755.
pub fn mkdir(dir: &Path, rel: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(&p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The build context of `dir` (reads its `.dockerignore`).
pub fn ctx(dir: &Path) -> BuildContext {
    BuildContext::open(dir).unwrap()
}
